//! Support bundles: what a `check` or `sync` saw, as one JSON file a customer can send to support
//! (`--support-bundle FILE`), written on any outcome. The format is `SUPPORT-BUNDLE.md`.
//!
//! Built from the client's [`Exchange`] events, which carry no body and no credential header:
//! for each request the method, the path with its ids replaced, the status, `Server`, content
//! type, the body's shape (Duo's code and texts, an HTML page's title), latency and retries. Then
//! the outcome, Duo's `Date` against this machine's clock, the proxy (host only), the grants
//! `check` found, and for a TLS failure the certificates the server presented (names and
//! validity, never keys). No secret key, no user data: bodies of successful answers are never
//! read here, and every id in a path or a Duo message is replaced.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::check::{CheckReport, CheckStatus};
use crate::classify::{BodyShape, TransportFailure};
use crate::client::{ClientEvent, Exchange, Observer};
use crate::config::{Config, Transport};
use crate::contract::write_whole;
use crate::error::{Error, ErrorKind, Failure};
use crate::time::rfc3339_now;

/// The version of the format; `SUPPORT-BUNDLE.md` says what each version holds.
pub const SCHEMA_VERSION: u32 = 1;

/// Collects the client's exchanges as they happen. Cheap to clone: clones share the record.
#[derive(Clone, Default)]
pub struct BundleRecorder {
    inner: Arc<Mutex<Recorded>>,
}

impl std::fmt::Debug for BundleRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleRecorder").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Recorded {
    requests: Vec<RequestRecord>,
    /// Per path: retries announced so far, and the last wait, for the attempt that follows.
    retries: HashMap<String, (u32, Duration)>,
}

impl BundleRecorder {
    /// A recorder with nothing recorded yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// An observer that records into this recorder and then calls `also` (a progress bar).
    pub fn observer(&self, also: Option<Observer>) -> Observer {
        let recorder = self.clone();
        Arc::new(move |event: &ClientEvent| {
            recorder.record(event);
            if let Some(also) = &also {
                also(event);
            }
        })
    }

    /// Records one event.
    pub fn record(&self, event: &ClientEvent) {
        let Ok(mut recorded) = self.inner.lock() else {
            return;
        };
        match event {
            ClientEvent::RetryWait { path, wait, .. } => {
                let entry = recorded.retries.entry(path.clone()).or_default();
                entry.0 += 1;
                entry.1 = *wait;
            }
            ClientEvent::Request(exchange) => {
                let (retry, waited) = recorded.retries.get(&exchange.path).copied().unwrap_or_default();
                let record = RequestRecord::of(exchange, retry, waited);
                recorded.requests.push(record);
            }
        }
    }

    fn requests(&self) -> Vec<RequestRecord> {
        self.inner
            .lock()
            .map(|recorded| recorded.requests.clone())
            .unwrap_or_default()
    }
}

/// How the command ended, as the bundle says it.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    /// `check` ran: its report.
    Check(&'a CheckReport),
    /// `sync` succeeded.
    Synced,
    /// `sync` failed with this error.
    Failed(&'a Error),
    /// The command could not start (bad flags, unreadable CA file…).
    Usage,
}

/// One request, as the bundle shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    /// `GET`.
    pub method: &'static str,
    /// The path with every id replaced (`/admin/v2/groups/{group_id}/users`).
    pub path: String,
    /// The `limit` asked, if any.
    pub limit: Option<u64>,
    /// The `offset` asked, if any.
    pub offset: Option<u64>,
    /// Signed (everything but Duo's ping).
    pub signed: bool,
    /// HTTP status, when an answer came.
    pub status: Option<u16>,
    /// `Server`.
    pub server: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Retry-After`, as sent.
    pub retry_after: Option<String>,
    /// What the body was (never the body).
    pub body: Option<BodyShape>,
    /// Duo's code, for Duo's error.
    pub duo_code: Option<u32>,
    /// Duo's message, for Duo's error.
    pub duo_message: Option<String>,
    /// Duo's `message_detail` (ids replaced), for Duo's error.
    pub duo_message_detail: Option<String>,
    /// The title of an HTML answer.
    pub html_title: Option<String>,
    /// For a list page: objects on it.
    pub items: Option<usize>,
    /// For a list page: `metadata.total_objects`.
    pub total_objects: Option<u64>,
    /// The answer's `Date` minus this machine's clock, seconds.
    pub date_offset_s: Option<i64>,
    /// How long the attempt took.
    pub latency_ms: u64,
    /// Which retry of this path this attempt was (0: the first attempt).
    pub retry: u32,
    /// The wait before this attempt, when it was a retry.
    pub waited_ms: u64,
    /// Why no whole answer came.
    pub transport: Option<TransportRecord>,
}

/// A request that got no whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct TransportRecord {
    /// `dns`, `refused`, `timeout`, `tls`, `not_tls`, `tls_on_plain_http`, `proxy_tunnel`, `cut`.
    pub failure: &'static str,
    /// While the connection was being made.
    pub connecting: bool,
    /// The status of an answer whose body was cut.
    pub status_before_cut: Option<u16>,
    /// Reset (ECONNRESET) rather than closed.
    pub reset: bool,
    /// The TLS library's words, for a TLS failure.
    pub tls_error: Option<String>,
    /// A proxy's refusal: 407, or `null` for another refusal.
    pub proxy_status: Option<u16>,
}

fn transport_name(failure: TransportFailure) -> &'static str {
    match failure {
        TransportFailure::Dns => "dns",
        TransportFailure::Refused => "refused",
        TransportFailure::Timeout => "timeout",
        TransportFailure::Tls => "tls",
        TransportFailure::NotTls => "not_tls",
        TransportFailure::TlsOnPlainHttp => "tls_on_plain_http",
        TransportFailure::ProxyTunnel => "proxy_tunnel",
        TransportFailure::Cut => "cut",
    }
}

impl RequestRecord {
    fn of(exchange: &Exchange, retry: u32, waited: Duration) -> Self {
        let param = |name: &str| {
            exchange
                .query
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(key, _)| *key == name)
                .and_then(|(_, value)| value.parse().ok())
        };
        let answer = exchange.answer.as_ref();
        Self {
            method: exchange.method,
            path: path_without_ids(&exchange.path),
            limit: param("limit"),
            offset: param("offset"),
            signed: exchange.signed,
            status: exchange.status(),
            server: answer.and_then(|a| a.server.clone()),
            content_type: answer.and_then(|a| a.content_type.clone()),
            retry_after: answer.and_then(|a| a.retry_after.clone()),
            body: answer.map(|a| a.body.shape),
            duo_code: answer.and_then(|a| a.body.duo_code),
            duo_message: answer.and_then(|a| a.body.duo_message.as_deref().map(text_without_ids)),
            duo_message_detail: answer
                .and_then(|a| a.body.duo_message_detail.as_deref().map(text_without_ids)),
            html_title: answer.and_then(|a| a.body.html_title.clone()),
            items: answer.and_then(|a| a.items),
            total_objects: answer.and_then(|a| a.total_objects),
            date_offset_s: answer.and_then(|a| a.server_date.map(|date| date - a.local_now)),
            latency_ms: millis(exchange.elapsed),
            retry,
            waited_ms: if retry > 0 { millis(waited) } else { 0 },
            transport: exchange.transport.as_ref().map(|t| TransportRecord {
                failure: transport_name(t.failure),
                connecting: t.connecting,
                status_before_cut: t.status_before_cut,
                reset: t.reset,
                tls_error: t.tls_error.clone(),
                proxy_status: t.proxy_status,
            }),
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The whole bundle.
#[derive(Debug, Serialize)]
pub struct Bundle {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `duo-connector`.
    pub tool: &'static str,
    /// This connector's version.
    pub connector_version: &'static str,
    /// `check` or `sync`.
    pub command: &'static str,
    /// When the bundle was written (RFC 3339, UTC).
    pub created_at: String,
    /// The API hostname as configured (`host` or `host:port`), when it was.
    pub api_host: Option<String>,
    /// `https` or `plain-http`.
    pub transport: Option<&'static str>,
    /// The signature scheme (`v5`, `v2-sha1`, `v2-sha512`).
    pub signature: Option<&'static str>,
    /// The proxy in use, host only.
    pub proxy: Option<ProxyRecord>,
    /// How the command ended.
    pub outcome: OutcomeRecord,
    /// Every Duo code answered, in order of first appearance.
    pub duo_codes: Vec<u32>,
    /// Duo's clock against this machine's, from the last answer with a `Date`.
    pub clock: Option<ClockRecord>,
    /// For a TLS failure: what the server presented.
    pub tls: Option<TlsRecord>,
    /// The grants `check` found (`null` for `sync`).
    pub grants: Option<Vec<GrantRecord>>,
    /// `check`'s rows, name and status (`null` for `sync`).
    pub check: Option<Vec<CheckRowRecord>>,
    /// Every attempt, in the order answers came.
    pub requests: Vec<RequestRecord>,
}

/// The proxy in use.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProxyRecord {
    /// Its host name or address.
    pub host: String,
    /// Its port, when given.
    pub port: Option<u16>,
    /// Whether credentials were given for it (never the credentials).
    pub with_credentials: bool,
    /// `flag` (`--proxy`) or `environment` (`HTTPS_PROXY`…).
    pub from: &'static str,
}

/// How the command ended.
#[derive(Debug, Clone, Serialize, Default)]
pub struct OutcomeRecord {
    /// True when it worked (a sync written, a check without a failed row).
    pub ok: bool,
    /// The contract's kind (`blocked_by_intermediary`…), or `usage`.
    pub kind: Option<String>,
    /// For `check`: the row that failed first.
    pub check_row: Option<&'static str>,
    /// The path that failed, ids replaced.
    pub endpoint: Option<String>,
    /// Its HTTP status.
    pub http_status: Option<u16>,
    /// Duo's code.
    pub duo_code: Option<u32>,
    /// For `clock_skew`: Duo's clock minus this machine's.
    pub clock_offset_s: Option<i64>,
    /// The failure came while the connection was being made.
    pub while_connecting: bool,
}

/// Duo's clock against this machine's.
#[derive(Debug, Clone, Serialize)]
pub struct ClockRecord {
    /// The answer's `Date` minus this machine's clock when it came, seconds (1 s resolution).
    pub duo_minus_local_s: i64,
    /// The path whose answer it was read from (ids replaced).
    pub from: String,
}

/// What a server presented in a TLS handshake that failed.
#[derive(Debug, Clone, Serialize, Default)]
pub struct TlsRecord {
    /// The TLS library's reason, from the failed request.
    pub error: Option<String>,
    /// The chain as presented, leaf first; empty when it could not be read again.
    pub chain: Vec<CertificateRecord>,
    /// Why the chain is empty, when it is.
    pub chain_unavailable: Option<String>,
}

/// One presented certificate: names and validity, never a key.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertificateRecord {
    /// Subject (`CN=localhost`).
    pub subject: String,
    /// Issuer.
    pub issuer: String,
    /// Not valid before (RFC 3339).
    pub not_before: String,
    /// Not valid after (RFC 3339).
    pub not_after: String,
    /// DNS names and addresses it is for (subject alternative names).
    pub names: Vec<String>,
    /// Whether it is a CA certificate.
    pub is_ca: bool,
}

/// A grant `check` asked about.
#[derive(Debug, Clone, Serialize)]
pub struct GrantRecord {
    /// Duo's name.
    pub grant: &'static str,
    /// `on`, `off` or `unknown`.
    pub state: &'static str,
}

/// One row of `check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRowRecord {
    /// `dns`, `tls`, `ping`, `credentials`, `grant`.
    pub row: &'static str,
    /// `pass`, `fail`, `info`, `skipped`.
    pub status: &'static str,
    /// The grant of a grant row.
    pub grant: Option<&'static str>,
}

/// What the bundle writer needs besides the recorded requests.
#[derive(Debug, Clone, Copy)]
pub struct BundleContext<'a> {
    /// `check` or `sync`.
    pub command: &'static str,
    /// The configuration, when the command got that far.
    pub config: Option<&'a Config>,
}

/// Builds the bundle. For a TLS failure it connects once more to read the presented chain.
pub async fn build(recorder: &BundleRecorder, context: BundleContext<'_>, outcome: &Outcome<'_>) -> Bundle {
    let requests = recorder.requests();
    let outcome_record = outcome_record(outcome);
    let mut duo_codes = Vec::new();
    for code in requests.iter().filter_map(|r| r.duo_code) {
        if !duo_codes.contains(&code) {
            duo_codes.push(code);
        }
    }
    let clock = requests.iter().rev().find_map(|r| {
        r.date_offset_s.map(|offset| ClockRecord {
            duo_minus_local_s: offset,
            from: r.path.clone(),
        })
    });
    let config = context.config;
    let tls_failed = outcome_record.kind.as_deref() == Some(ErrorKind::Tls.as_str());
    let tls = match config {
        Some(config) if tls_failed && config.transport == Transport::Https => {
            let error = requests
                .iter()
                .rev()
                .find_map(|r| r.transport.as_ref().and_then(|t| t.tls_error.clone()));
            let not_tls = requests
                .iter()
                .rev()
                .find_map(|r| r.transport.as_ref())
                .is_some_and(|t| t.failure == "not_tls");
            let mut record = TlsRecord {
                error,
                ..TlsRecord::default()
            };
            if not_tls {
                record.chain_unavailable = Some("the server does not speak TLS on that port".into());
            } else {
                match presented_chain(config).await {
                    Ok(chain) => record.chain = chain,
                    Err(why) => record.chain_unavailable = Some(why),
                }
            }
            Some(record)
        }
        _ => None,
    };
    let (grants, check) = match outcome {
        Outcome::Check(report) => (
            Some(
                report
                    .grants
                    .iter()
                    .map(|g| GrantRecord {
                        grant: g.grant,
                        state: match g.on {
                            Some(true) => "on",
                            Some(false) => "off",
                            None => "unknown",
                        },
                    })
                    .collect(),
            ),
            Some(check_rows(report)),
        ),
        _ => (None, None),
    };
    Bundle {
        schema_version: SCHEMA_VERSION,
        tool: "duo-connector",
        connector_version: env!("CARGO_PKG_VERSION"),
        command: context.command,
        created_at: rfc3339_now(),
        api_host: config.map(|c| c.api_host.clone()),
        transport: config.map(|c| match c.transport {
            Transport::Https => "https",
            Transport::PlainHttp => "plain-http",
        }),
        signature: config.map(|c| c.scheme.name()),
        proxy: config.and_then(proxy_in_use),
        outcome: outcome_record,
        duo_codes,
        clock,
        tls,
        grants,
        check,
        requests,
    }
}

/// Builds the bundle and writes it whole to `path`.
pub async fn write(
    path: &std::path::Path,
    recorder: &BundleRecorder,
    context: BundleContext<'_>,
    outcome: &Outcome<'_>,
) -> Result<(), Error> {
    let bundle = build(recorder, context, outcome).await;
    let mut json = serde_json::to_vec_pretty(&bundle)
        .map_err(|e| Error::Config(format!("the support bundle cannot be written: {e}")))?;
    json.push(b'\n');
    write_whole(path, &json)
}

fn check_rows(report: &CheckReport) -> Vec<CheckRowRecord> {
    let mut grants = report.grants.iter();
    report
        .lines
        .iter()
        .map(|line| CheckRowRecord {
            row: line.name,
            status: match line.status {
                CheckStatus::Pass => "pass",
                CheckStatus::Fail => "fail",
                CheckStatus::Info => "info",
                CheckStatus::Skipped => "skipped",
            },
            grant: (line.name == "grant")
                .then(|| grants.next().map(|g| g.grant))
                .flatten(),
        })
        .collect()
}

fn outcome_record(outcome: &Outcome<'_>) -> OutcomeRecord {
    let of_failure = |failure: &Failure, ok: bool| OutcomeRecord {
        ok,
        kind: Some(failure.kind.as_str().to_owned()),
        check_row: None,
        endpoint: failure.endpoint.as_deref().map(path_without_ids),
        http_status: failure.http_status,
        duo_code: failure.duo_code,
        clock_offset_s: failure.clock_offset_s,
        while_connecting: failure.while_connecting,
    };
    match outcome {
        Outcome::Synced => OutcomeRecord {
            ok: true,
            ..OutcomeRecord::default()
        },
        Outcome::Failed(Error::Failed(failure)) => of_failure(failure, false),
        Outcome::Failed(_) | Outcome::Usage => OutcomeRecord {
            kind: Some("usage".to_owned()),
            ..OutcomeRecord::default()
        },
        Outcome::Check(report) => match report.first_failure() {
            None => OutcomeRecord {
                ok: true,
                ..OutcomeRecord::default()
            },
            Some(line) => {
                let mut record = match &line.failure {
                    Some(failure) => of_failure(failure, false),
                    None => OutcomeRecord::default(),
                };
                record.check_row = Some(line.name);
                record
            }
        },
    }
}

/// The proxy a request would take: `--proxy`, else the environment (host and port only).
fn proxy_in_use(config: &Config) -> Option<ProxyRecord> {
    let (url, from) = match &config.proxy {
        Some(url) => (url.clone(), "flag"),
        None => {
            let url = ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
                .iter()
                .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))?;
            (url, "environment")
        }
    };
    let (host, port, with_credentials) = split_proxy_url(&url)?;
    Some(ProxyRecord {
        host,
        port,
        with_credentials,
        from,
    })
}

/// `http://user:pass@host:port/` → (`host`, `Some(port)`, true); the credentials are dropped.
fn split_proxy_url(url: &str) -> Option<(String, Option<u16>, bool)> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((credentials, host_port)) => (!credentials.is_empty(), host_port),
        None => (false, authority),
    };
    let (host, port) = if let Some(end) = host_port.strip_prefix('[').and_then(|h| h.find(']')) {
        let host = &host_port[..end + 2];
        let port = host_port[end + 2..]
            .strip_prefix(':')
            .and_then(|p| p.parse().ok());
        (host.to_owned(), port)
    } else {
        match host_port.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), port.parse().ok()),
            None => (host_port.to_owned(), None),
        }
    };
    (!host.is_empty()).then_some((host, port, credentials))
}

/// True for Duo's id shape: two upper-case letters and 18 upper-case letters or digits.
fn is_duo_id(text: &str) -> bool {
    text.len() == 20
        && text.bytes().take(2).all(|b| b.is_ascii_uppercase())
        && text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A path with every id replaced: Duo-shaped ids by their kind (`{user_id}`, `{group_id}`,
/// `{admin_id}`), any other segment that is not a plain lower-case word by `{id}`.
pub fn path_without_ids(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.is_empty() {
                segment
            } else if is_duo_id(segment) {
                match &segment[..2] {
                    "DU" => "{user_id}",
                    "DG" => "{group_id}",
                    "DE" => "{admin_id}",
                    "DP" => "{phone_id}",
                    _ => "{id}",
                }
            } else if segment
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
            {
                segment
            } else {
                "{id}"
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A text with every Duo-shaped id replaced by `{id}`.
fn text_without_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if is_duo_id(word) {
            out.push_str("{id}");
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Connects to the API host once more (through the proxy when one is configured) and reads the
/// certificates it presents, then breaks the handshake off: nothing is sent over it.
async fn presented_chain(config: &Config) -> Result<Vec<CertificateRecord>, String> {
    let host = config.api_host.clone();
    let proxy = config.proxy.clone().or_else(|| {
        ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    });
    tokio::task::spawn_blocking(move || chain_reader::read(&host, proxy.as_deref()))
        .await
        .map_err(|e| format!("the chain reader stopped: {e}"))?
}

/// The blocking half of [`presented_chain`]: std sockets and rustls's own I/O driver.
mod chain_reader {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use base64::Engine as _;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, SignatureScheme};

    use super::CertificateRecord;

    const TIMEOUT: Duration = Duration::from_secs(5);

    /// Keeps the chain it is shown and refuses it, which ends the handshake.
    #[derive(Debug)]
    struct ChainKeeper {
        seen: Mutex<Vec<CertificateDer<'static>>>,
        provider: Arc<rustls::crypto::CryptoProvider>,
    }

    impl ServerCertVerifier for ChainKeeper {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            if let Ok(mut seen) = self.seen.lock() {
                seen.push(end_entity.clone().into_owned());
                seen.extend(intermediates.iter().map(|c| c.clone().into_owned()));
            }
            Err(rustls::Error::General("chain read for a support bundle".into()))
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.provider.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.provider
                .signature_verification_algorithms
                .supported_schemes()
        }
    }

    pub(super) fn read(host: &str, proxy: Option<&str>) -> Result<Vec<CertificateRecord>, String> {
        let address = crate::client::address_of(host, 443);
        let name = address
            .rsplit_once(':')
            .map_or(address.as_str(), |(name, _)| name)
            .trim_matches(['[', ']'])
            .to_owned();
        let mut tcp = match proxy.and_then(super::split_proxy_url) {
            Some((proxy_host, port, _)) => {
                let proxy_address = format!("{proxy_host}:{}", port.unwrap_or(80));
                let mut tcp = connect(&proxy_address)?;
                tunnel(&mut tcp, &address, proxy.unwrap_or_default())?;
                tcp
            }
            None => connect(&address)?,
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let keeper = Arc::new(ChainKeeper {
            seen: Mutex::new(Vec::new()),
            provider: Arc::clone(&provider),
        });
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(keeper.clone())
            .with_no_client_auth();
        let server_name = ServerName::try_from(name).map_err(|e| e.to_string())?;
        let mut connection =
            rustls::ClientConnection::new(Arc::new(config), server_name).map_err(|e| e.to_string())?;
        // Ends with the keeper's refusal (or the server's alert); either way the chain is kept.
        while connection.is_handshaking() {
            if connection.complete_io(&mut tcp).is_err() {
                break;
            }
        }
        let seen = keeper.seen.lock().map(|s| s.clone()).unwrap_or_default();
        if seen.is_empty() {
            return Err("the server presented no certificate".into());
        }
        Ok(seen.iter().map(|der| describe(der)).collect())
    }

    fn connect(address: &str) -> Result<TcpStream, String> {
        use std::net::ToSocketAddrs as _;
        let target = address
            .to_socket_addrs()
            .map_err(|e| format!("{address}: {e}"))?
            .next()
            .ok_or_else(|| format!("{address} does not resolve"))?;
        let tcp = TcpStream::connect_timeout(&target, TIMEOUT).map_err(|e| format!("{address}: {e}"))?;
        let _ = tcp.set_read_timeout(Some(TIMEOUT));
        let _ = tcp.set_write_timeout(Some(TIMEOUT));
        Ok(tcp)
    }

    /// `CONNECT address` through a proxy, with its Basic credentials when the URL has them.
    fn tunnel(tcp: &mut TcpStream, address: &str, proxy_url: &str) -> Result<(), String> {
        let rest = proxy_url.split_once("://").map_or(proxy_url, |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let credentials = authority
            .rsplit_once('@')
            .map(|(credentials, _)| base64::engine::general_purpose::STANDARD.encode(credentials));
        let mut head = format!("CONNECT {address} HTTP/1.1\r\nHost: {address}\r\n");
        if let Some(credentials) = credentials {
            head.push_str(&format!("Proxy-Authorization: Basic {credentials}\r\n"));
        }
        head.push_str("\r\n");
        tcp.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        let mut byte = [0u8; 1];
        while !answer.ends_with(b"\r\n\r\n") && answer.len() < 16 * 1024 {
            match tcp.read(&mut byte) {
                Ok(1) => answer.push(byte[0]),
                _ => return Err("the proxy closed the tunnel request".into()),
            }
        }
        let status_line = String::from_utf8_lossy(&answer);
        let status = status_line.split_whitespace().nth(1).unwrap_or_default();
        if status == "200" {
            Ok(())
        } else {
            Err(format!("the proxy refused the tunnel ({status})"))
        }
    }

    fn describe(der: &CertificateDer<'_>) -> CertificateRecord {
        use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};
        let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
            return CertificateRecord {
                subject: "(not a readable X.509 certificate)".into(),
                issuer: String::new(),
                not_before: String::new(),
                not_after: String::new(),
                names: Vec::new(),
                is_ca: false,
            };
        };
        let time = |t: &x509_parser::time::ASN1Time| {
            let secs = u64::try_from(t.timestamp()).unwrap_or(0);
            humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_secs(secs)).to_string()
        };
        let names = cert
            .subject_alternative_name()
            .ok()
            .flatten()
            .map(|san| {
                san.value
                    .general_names
                    .iter()
                    .filter_map(|name| match name {
                        GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                        GeneralName::IPAddress(bytes) => ip_text(bytes),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        CertificateRecord {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            not_before: time(&cert.validity().not_before),
            not_after: time(&cert.validity().not_after),
            names,
            is_ca: cert.is_ca(),
        }
    }

    fn ip_text(bytes: &[u8]) -> Option<String> {
        match bytes.len() {
            4 => <[u8; 4]>::try_from(bytes)
                .ok()
                .map(|b| std::net::Ipv4Addr::from(b).to_string()),
            16 => <[u8; 16]>::try_from(bytes)
                .ok()
                .map(|b| std::net::Ipv6Addr::from(b).to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_leave_paths_and_texts() {
        assert_eq!(
            path_without_ids("/admin/v2/groups/DGABCDEFGHIJKLMNOP12/users"),
            "/admin/v2/groups/{group_id}/users"
        );
        assert_eq!(
            path_without_ids("/admin/v1/users/DU0123456789ABCDEFGH"),
            "/admin/v1/users/{user_id}"
        );
        assert_eq!(
            path_without_ids("/admin/v1/users/alice.smith%40x"),
            "/admin/v1/users/{id}"
        );
        assert_eq!(path_without_ids("/auth/v2/ping"), "/auth/v2/ping");
        assert_eq!(
            text_without_ids("user DU0123456789ABCDEFGH not found"),
            "user {id} not found"
        );
    }

    #[test]
    fn a_proxy_url_loses_its_credentials() {
        assert_eq!(
            split_proxy_url("http://user:secret@proxy.corp:3128/"),
            Some(("proxy.corp".to_owned(), Some(3128), true))
        );
        assert_eq!(
            split_proxy_url("proxy.corp"),
            Some(("proxy.corp".to_owned(), None, false))
        );
        assert_eq!(
            split_proxy_url("http://[::1]:8080"),
            Some(("[::1]".to_owned(), Some(8080), false))
        );
    }
}
