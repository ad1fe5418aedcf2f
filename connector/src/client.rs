//! One signed request at a time: sign, send, classify, retry as the policy says.
//!
//! Every request is signed afresh (a new `Date`), so a retry late in a long back-off never falls
//! outside Duo's timestamp window. Workers that share a client share its rate-limit pause: when
//! one sees a 429, none sends until the wait is over, so parallel reads don't spend the budget
//! that the waiting one is trying to recover.

use std::error::Error as StdError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use duo_auth::{Scheme, SignedParts, SigningKey};
use reqwest::header::{self, HeaderMap};
use tokio::sync::Mutex;

use crate::classify::{
    Answer, BodyFacts, BodyShape, TransportFailure, Verdict, body_facts, classify_answer, classify_not_tls,
    classify_transport,
};
use crate::config::{Config, Transport};
use crate::error::{Error, Failure};
use crate::list_page::{ListPage, read_list_page};
use crate::retry::{RetryClass, RetryPolicy};
use crate::time::now_unix;

/// What the client reports to an observer (a progress bar, a log, a support bundle).
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// A request got an answer (or failed to).
    Request(Box<Exchange>),
    /// The client waits before a retry.
    RetryWait {
        /// Path to be retried.
        path: String,
        /// Why.
        class: RetryClass,
        /// How long.
        wait: Duration,
    },
}

/// One attempt as a support bundle describes it: what was asked, and what came back (or why
/// nothing did). Holds no body and no header that carries a credential.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Always `GET`: the connector only reads.
    pub method: &'static str,
    /// Path requested (ids still in it).
    pub path: String,
    /// The canonical query string sent.
    pub query: String,
    /// Whether the request was signed (everything but Duo's ping).
    pub signed: bool,
    /// How long the attempt took.
    pub elapsed: Duration,
    /// The answer, when one came whole.
    pub answer: Option<AnswerFacts>,
    /// Why no whole answer came.
    pub transport: Option<TransportFacts>,
}

impl Exchange {
    /// The answer's HTTP status, if one came.
    pub fn status(&self) -> Option<u16> {
        self.answer.as_ref().map(|a| a.status)
    }
}

/// What an answer showed, without its body.
#[derive(Debug, Clone)]
pub struct AnswerFacts {
    /// HTTP status.
    pub status: u16,
    /// `Server`.
    pub server: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Retry-After`, as sent.
    pub retry_after: Option<String>,
    /// The answer's `Date`, unix seconds.
    pub server_date: Option<i64>,
    /// This machine's clock when the answer came, unix seconds.
    pub local_now: i64,
    /// The body's shape, Duo's code and texts, an HTML title.
    pub body: BodyFacts,
    /// For a list page: how many objects it held.
    pub items: Option<usize>,
    /// For a list page: its `metadata.total_objects`.
    pub total_objects: Option<u64>,
}

/// Why a request got no whole answer.
#[derive(Debug, Clone)]
pub struct TransportFacts {
    /// How it failed.
    pub failure: TransportFailure,
    /// While the connection was being made.
    pub connecting: bool,
    /// The status of an answer whose head came and whose body was cut.
    pub status_before_cut: Option<u16>,
    /// The connection was reset (ECONNRESET) rather than closed.
    pub reset: bool,
    /// rustls's own words for a TLS failure (`invalid peer certificate: Expired`).
    pub tls_error: Option<String>,
    /// A proxy's refusal of the tunnel: 407, or `None` when it said no other way.
    pub proxy_status: Option<u16>,
}

/// A callback for [`ClientEvent`]s.
pub type Observer = Arc<dyn Fn(&ClientEvent) + Send + Sync>;

/// Counters over the client's life.
#[derive(Debug, Default)]
pub struct ClientStats {
    /// Requests sent (retries included).
    pub requests: AtomicU64,
    /// Retries made.
    pub retries: AtomicU64,
    /// Milliseconds spent waiting before retries.
    pub waited_ms: AtomicU64,
}

/// A Duo Admin API client. Cheap to clone; clones share the connection pool, the rate-limit pause
/// and the counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    /// The host line signed: the API hostname as configured, lower-cased, with its port if given.
    host: String,
    ikey: String,
    key: SigningKey,
    scheme: Scheme,
    retry: RetryPolicy,
    /// HTTPS, or plain HTTP (`--plain-http`): which scheme mix-up to recognise.
    transport: Transport,
    /// Whether a server that answers a TLS handshake in plain text may be asked again over plain
    /// HTTP, to say what it is; not through a proxy, since the probe would not take the same path.
    probe_plain_http: bool,
    /// No request leaves before this instant (set by a 429's wait).
    paused_until: Mutex<Option<Instant>>,
    /// When the client was made: the overall deadline counts from here.
    started: Instant,
    stats: ClientStats,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("ikey", &self.inner.ikey)
            .field("scheme", &self.inner.scheme.name())
            .finish_non_exhaustive()
    }
}

/// A successful answer: Duo's `stat: OK` body, whole.
#[derive(Debug)]
pub struct DuoAnswer {
    /// The body bytes.
    pub body: Bytes,
    /// The answer's `Date` as unix seconds, if it had one.
    pub server_date: Option<i64>,
    /// For a list request, the page as the one-pass reader found it in `body`; `None` when it was
    /// not a list request or the reader left the body to serde_json.
    pub page: Option<ListPage>,
}

impl Client {
    /// A client for `config`: TLS with the system's roots plus `config.ca_cert`.
    pub fn new(config: &Config) -> Result<Self, Error> {
        Self::with_observer(config, None)
    }

    /// A client that reports each request and wait to `observer`.
    pub fn with_observer(config: &Config, observer: Option<Observer>) -> Result<Self, Error> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("duo-connector/", env!("CARGO_PKG_VERSION")))
            .timeout(config.retry.request_timeout)
            .read_timeout(config.retry.read_timeout)
            .connect_timeout(config.retry.connect_timeout)
            .https_only(config.transport == Transport::Https)
            .pool_max_idle_per_host(config.parallelism.max(1));
        if let Some(proxy) = &config.proxy {
            let proxy = reqwest::Proxy::https(proxy)
                .map_err(|e| Error::Config(format!("the proxy address is not a URL: {e}")))?;
            builder = builder.proxy(proxy);
        }
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                Error::Config(format!("{}: not a PEM certificate bundle: {e}", path.display()))
            })?;
            if certificates.is_empty() {
                return Err(Error::Config(format!(
                    "{}: no PEM certificate in it",
                    path.display()
                )));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|e| Error::Config(format!("cannot set up HTTPS: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url(),
                host: config.api_host.clone(),
                ikey: config.ikey.clone(),
                key: SigningKey::new(config.skey.expose()),
                scheme: config.scheme,
                retry: config.retry.clone(),
                transport: config.transport,
                probe_plain_http: config.proxy.is_none() && !proxy_in_environment(),
                paused_until: Mutex::new(None),
                started: Instant::now(),
                stats: ClientStats::default(),
                observer,
            }),
        })
    }

    /// The API hostname as configured.
    pub fn host(&self) -> &str {
        &self.inner.host
    }

    /// Counters so far.
    pub fn stats(&self) -> &ClientStats {
        &self.inner.stats
    }

    /// A signed `GET path?params`, retried per the policy; the body of Duo's success answer.
    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> Result<DuoAnswer, Error> {
        self.get_signed(path, params, None).await
    }

    /// [`Client::get`] for one page of a list whose objects are identified by `id_field`: a body
    /// that is a plain Duo list page is validated and read in the same pass that classifies it
    /// (the answer's `page`).
    pub async fn get_list_page(
        &self,
        path: &str,
        params: &[(&str, &str)],
        id_field: &str,
    ) -> Result<DuoAnswer, Error> {
        self.get_signed(path, params, Some(id_field)).await
    }

    async fn get_signed(
        &self,
        path: &str,
        params: &[(&str, &str)],
        list_id_field: Option<&str>,
    ) -> Result<DuoAnswer, Error> {
        let mut retries = [0usize; 4];
        loop {
            self.wait_for_pause().await;
            let verdict = self.attempt(path, params, true, list_id_field).await;
            let (class, retry_after, failure) = match verdict {
                Ok(answer) => return Ok(answer),
                Err(Verdict::Fail(failure)) => return Err(failure.into()),
                Err(Verdict::Retry {
                    class,
                    retry_after,
                    failure,
                }) => (class, retry_after, failure),
                Err(Verdict::Success) => return Err(success_as_error(path).into()),
            };
            let used = &mut retries[class as usize];
            let wait = self.inner.retry.wait(class, *used, retry_after);
            match wait {
                Some(wait) if self.inner.started.elapsed() + wait < self.inner.retry.deadline => {
                    *used += 1;
                    self.inner.stats.retries.fetch_add(1, Ordering::Relaxed);
                    self.inner.stats.waited_ms.fetch_add(
                        u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                        Ordering::Relaxed,
                    );
                    tracing::info!(
                        path,
                        ?class,
                        wait_ms = wait.as_millis() as u64,
                        "waiting before a retry"
                    );
                    self.emit(&ClientEvent::RetryWait {
                        path: path.to_owned(),
                        class,
                        wait,
                    });
                    if class == RetryClass::RateLimited {
                        self.pause(wait).await;
                    } else {
                        tokio::time::sleep(wait).await;
                    }
                }
                _ => return Err(failure.into()),
            }
        }
    }

    /// An unsigned `GET` (Duo's `/auth/v2/ping`), once, without retries.
    pub async fn get_unsigned(&self, path: &str) -> Result<DuoAnswer, Error> {
        match self.attempt(path, &[], false, None).await {
            Ok(answer) => Ok(answer),
            Err(Verdict::Fail(failure) | Verdict::Retry { failure, .. }) => Err(failure.into()),
            Err(Verdict::Success) => Err(success_as_error(path).into()),
        }
    }

    async fn wait_for_pause(&self) {
        loop {
            let until = *self.inner.paused_until.lock().await;
            match until {
                Some(until) if until > Instant::now() => tokio::time::sleep_until(until.into()).await,
                _ => return,
            }
        }
    }

    async fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        {
            let mut paused = self.inner.paused_until.lock().await;
            if paused.is_none_or(|p| p < until) {
                *paused = Some(until);
            }
        }
        self.wait_for_pause().await;
    }

    fn emit(&self, event: &ClientEvent) {
        if let Some(observer) = &self.inner.observer {
            observer(event);
        }
    }

    /// One attempt: the answer if Duo said OK, else the verdict on it.
    async fn attempt(
        &self,
        path: &str,
        params: &[(&str, &str)],
        signed: bool,
        list_id_field: Option<&str>,
    ) -> Result<DuoAnswer, Verdict> {
        let inner = &self.inner;
        let decoded: Vec<duo_auth::Param> = params
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        let query = duo_auth::params::canon_params(&decoded);
        let url = if query.is_empty() {
            format!("{}{path}", inner.base_url)
        } else {
            format!("{}{path}?{query}", inner.base_url)
        };
        let mut request = inner.http.get(&url);
        if signed {
            let date = duo_auth::date::format_date(now_unix());
            let parts = SignedParts {
                date: &date,
                method: "GET",
                host: &inner.host,
                path,
                params: &decoded,
                body: b"",
                duo_headers: &[],
            };
            let signature = duo_auth::sign(&inner.key, inner.scheme, &parts);
            request = request.header(header::DATE, date).header(
                header::AUTHORIZATION,
                duo_auth::authorization_header(&inner.ikey, &signature),
            );
        }
        let started = Instant::now();
        inner.stats.requests.fetch_add(1, Ordering::Relaxed);
        let sent = request.send().await;
        let outcome = match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                match response.bytes().await {
                    Ok(body) => Ok((status, headers, body)),
                    Err(e) => Err((transport_failure(&e, inner.transport), e, Some(status))),
                }
            }
            Err(e) => Err((transport_failure(&e, inner.transport), e, None)),
        };
        let elapsed = started.elapsed();
        let exchange = |answer, transport| {
            ClientEvent::Request(Box::new(Exchange {
                method: "GET",
                path: path.to_owned(),
                query: query.clone(),
                signed,
                elapsed,
                answer,
                transport,
            }))
        };
        match outcome {
            Ok((status, headers, body)) => {
                tracing::debug!(
                    path,
                    query,
                    status,
                    elapsed_ms = elapsed.as_millis() as u64,
                    "answer"
                );
                let server_date = header_str(&headers, header::DATE).and_then(duo_auth::date::parse_date);
                // A body the one-pass reader vouches for is one `classify_answer` calls Duo's
                // success (the reader's tests check this), so it is not parsed a second time.
                let page = list_id_field
                    .filter(|_| status == 200)
                    .and_then(|id_field| read_list_page(&body, id_field));
                if self.inner.observer.is_some() {
                    let text = |name| header_str(&headers, name).map(str::to_owned);
                    let body = match &page {
                        Some(_) => BodyFacts {
                            shape: BodyShape::DuoOk,
                            duo_code: None,
                            duo_message: None,
                            duo_message_detail: None,
                            html_title: None,
                        },
                        None => body_facts(header_str(&headers, header::CONTENT_TYPE), &body),
                    };
                    self.emit(&exchange(
                        Some(AnswerFacts {
                            status,
                            server: text(header::SERVER),
                            content_type: text(header::CONTENT_TYPE),
                            retry_after: text(header::RETRY_AFTER),
                            server_date,
                            local_now: now_unix(),
                            body,
                            items: page.as_ref().map(|p| p.items.len()),
                            total_objects: page.as_ref().and_then(|p| p.total_objects),
                        }),
                        None,
                    ));
                }
                if page.is_some() {
                    return Ok(DuoAnswer {
                        body,
                        server_date,
                        page,
                    });
                }
                let answer = Answer {
                    endpoint: path,
                    status,
                    content_type: header_str(&headers, header::CONTENT_TYPE),
                    server: header_str(&headers, header::SERVER),
                    retry_after: header_str(&headers, header::RETRY_AFTER).and_then(parse_retry_after),
                    server_date,
                    local_now: now_unix(),
                    body: &body,
                };
                match classify_answer(&answer) {
                    Verdict::Success => Ok(DuoAnswer {
                        body: body.clone(),
                        server_date,
                        page: None,
                    }),
                    other => Err(other),
                }
            }
            Err((failure, error, status_before_cut)) => {
                let detail = error_chain(&error);
                tracing::debug!(path, query, %detail, "no answer");
                if self.inner.observer.is_some() {
                    let lower = detail.to_ascii_lowercase();
                    self.emit(&exchange(
                        None,
                        Some(TransportFacts {
                            failure,
                            connecting: error.is_connect(),
                            status_before_cut,
                            reset: io_kinds(&error).contains(&std::io::ErrorKind::ConnectionReset)
                                || lower.contains("connection reset"),
                            tls_error: rustls_cause(&error).map(ToString::to_string),
                            proxy_status: (failure == TransportFailure::ProxyTunnel
                                && lower.contains("proxy authorization required"))
                            .then_some(407),
                        }),
                    ));
                }
                if failure == TransportFailure::NotTls {
                    let plain = self.ask_over_plain_http().await;
                    let answer = plain.as_ref().map(|(status, headers, body)| Answer {
                        endpoint: PING,
                        status: *status,
                        content_type: header_str(headers, header::CONTENT_TYPE),
                        server: header_str(headers, header::SERVER),
                        retry_after: None,
                        server_date: None,
                        local_now: now_unix(),
                        body,
                    });
                    return Err(Verdict::Fail(classify_not_tls(
                        path,
                        &inner.host,
                        &detail,
                        answer.as_ref(),
                    )));
                }
                Err(classify_transport(
                    path,
                    &inner.host,
                    failure,
                    error.is_connect(),
                    &detail,
                ))
            }
        }
    }

    /// Duo's unsigned ping, over plain HTTP to the address that did not answer with TLS (port
    /// 443 when the host names none), once and briefly: what answers says whether a plain-HTTP
    /// Duo server (a fake served without TLS) or something else sits there.
    async fn ask_over_plain_http(&self) -> Option<(u16, HeaderMap, Bytes)> {
        let inner = &self.inner;
        if !inner.probe_plain_http {
            return None;
        }
        let address = address_of(&inner.host, 443);
        let http = reqwest::Client::builder()
            .user_agent(concat!("duo-connector/", env!("CARGO_PKG_VERSION")))
            .no_proxy()
            .connect_timeout(inner.retry.connect_timeout)
            .timeout(PLAIN_HTTP_PROBE_TIMEOUT)
            .build()
            .ok()?;
        let response = http.get(format!("http://{address}{PING}")).send().await.ok()?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.ok()?;
        tracing::debug!(status, "the server answered plain HTTP");
        Some((status, headers, body))
    }
}

/// `host:port` for an API hostname given with or without its port.
pub(crate) fn address_of(host: &str, default_port: u16) -> String {
    let has_port = host
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
    if has_port {
        host.to_owned()
    } else {
        format!("{host}:{default_port}")
    }
}

/// Duo's unsigned ping: what `check` asks first, and what a server that is not TLS is asked.
pub const PING: &str = "/auth/v2/ping";

/// A plain-HTTP probe only describes a failure already certain, so it may not hold it up long.
const PLAIN_HTTP_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// True when the environment names a proxy that reqwest would use for HTTPS.
fn proxy_in_environment() -> bool {
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// `attempt` turns a success into `Ok`, so this is never reached; it still yields an error
/// rather than a panic.
fn success_as_error(path: &str) -> Failure {
    Failure::new(
        crate::ErrorKind::Protocol,
        "a successful answer was reported as an error",
    )
    .at(path)
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = duo_auth::date::parse_date(value)?;
    Some(Duration::from_secs(u64::try_from(at - now_unix()).unwrap_or(0)))
}

/// The whole chain of causes, for messages: reqwest's own text is only "error sending request".
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// The rustls error in a chain of causes, if any. `io::Error::source` skips the error an
/// `io::Error` wraps (it returns that error's own source), and hyper-util wraps tokio-rustls's
/// `io::Error` in another, so each `io::Error` is looked into with `get_ref`.
fn rustls_cause<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(cause) = next {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        let wrapped = cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .map(|inner| inner as &(dyn StdError + 'static));
        next = wrapped.or_else(|| cause.source());
    }
    None
}

/// The kinds of the I/O errors in a chain of causes, outermost first (each `io::Error` looked
/// into, as in [`rustls_cause`]).
fn io_kinds(error: &(dyn StdError + 'static)) -> Vec<std::io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        let io = cause.downcast_ref::<std::io::Error>();
        if let Some(io) = io {
            kinds.push(io.kind());
        }
        let wrapped = io
            .and_then(std::io::Error::get_ref)
            .map(|inner| inner as &(dyn StdError + 'static));
        next = wrapped.or_else(|| cause.source());
    }
    kinds
}

/// Sorts a failed request into DNS, refused, timeout, TLS, a server that speaks the other
/// scheme, proxy tunnel or a cut connection.
fn transport_failure(error: &reqwest::Error, transport: Transport) -> TransportFailure {
    match rustls_cause(error) {
        // A plain-HTTP server answers the ClientHello with `HTTP/1.1 400 …`, whose first byte is
        // no TLS record type. Only during the handshake: later, it would be a corrupted stream.
        Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType))
            if error.is_connect() =>
        {
            return TransportFailure::NotTls;
        }
        Some(_) => return TransportFailure::Tls,
        None => {}
    }
    let io_kind = io_kinds(error).first().copied();
    let text = error_chain(error).to_ascii_lowercase();
    if error.is_timeout() || text.contains("timed out") {
        return TransportFailure::Timeout;
    }
    if text.contains("tunnel") || text.contains("proxy") {
        return TransportFailure::ProxyTunnel;
    }
    if text.contains("dns error") || text.contains("failed to lookup") || text.contains("name or service") {
        return TransportFailure::Dns;
    }
    // A TLS server answers a plain-HTTP request with a TLS alert record (0x15 0x03 …), which hyper
    // cannot read as a status line.
    if transport == Transport::PlainHttp && text.contains("invalid http version") {
        return TransportFailure::TlsOnPlainHttp;
    }
    match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => TransportFailure::Refused,
        _ if error.is_connect() && text.contains("refused") => TransportFailure::Refused,
        _ if text.contains("certificate") || text.contains("handshake") => TransportFailure::Tls,
        _ => TransportFailure::Cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rustls_error_is_found_inside_nested_io_errors() {
        // As hyper-util hands it over: tokio-rustls's io::Error inside another io::Error.
        let corrupt = rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        let inner = std::io::Error::new(std::io::ErrorKind::InvalidData, corrupt.clone());
        let outer = std::io::Error::other(inner);
        assert_eq!(rustls_cause(&outer), Some(&corrupt));
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(rustls_cause(&std::io::Error::other(reset)), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let soon = duo_auth::date::format_date(now_unix() + 30).replace("-0000", "GMT");
        let wait = parse_retry_after(&soon).unwrap();
        assert!(
            wait >= Duration::from_secs(28) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert_eq!(
            parse_retry_after("Sat, 01 Jan 2000 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
