//! One signed request of the self-test connector, its answer classified into the contract's
//! kinds, and the retry table — each with the switch a [`Breakage`] turns.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use duo_auth::{Scheme, SignedParts, SigningKey};
use serde_json::{Value, json};

use super::{Breakage, Failure};
use crate::contract::ErrorKind;

/// Whole-request timeout (the slow and trickled answers of the catalogue need one).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Waits before the retries of a 429, seconds (Duo's official clients: 1 to 32).
const WAITS_429: [u64; 6] = [1, 2, 4, 8, 16, 32];
/// Waits before the retries of a 5xx.
const WAITS_5XX: [u64; 3] = [1, 2, 4];
/// Waits before the retries of a timeout or a connection cut before a whole answer.
const WAITS_NETWORK: [u64; 2] = [1, 2];
/// Most jitter added to a wait, milliseconds.
const JITTER_MS: u64 = 250;

/// Which retry schedule an answer falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    RateLimited,
    ServerError,
    Network,
    /// 401 and Duo's 403: definitive, retried only by the `retries-401` breakage.
    Refused,
    Never,
}

/// A client for one tenant.
#[derive(Debug)]
pub(crate) struct Client {
    http: reqwest::Client,
    /// `https://` + the API host.
    base: String,
    /// The API host as given, port included: the host line signed.
    host: String,
    ikey: String,
    key: SigningKey,
    breakage: Breakage,
    /// The Date of the first request, sent again on every later one (the collector's L15
    /// breakage); `None` signs each request with its own Date.
    reused_date: Option<std::sync::OnceLock<String>>,
}

impl Client {
    pub(crate) fn new(
        host: &str,
        ikey: &str,
        skey: &str,
        ca_pem: Option<&[u8]>,
        breakage: Breakage,
    ) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .tls_built_in_root_certs(false)
            .connect_timeout(CONNECT_TIMEOUT)
            .no_proxy();
        if breakage != Breakage::NoTimeout {
            builder = builder.timeout(REQUEST_TIMEOUT);
        }
        if let Some(pem) = ca_pem {
            let certificate = reqwest::Certificate::from_pem(pem)
                .map_err(|e| format!("DUO_CA_CERT is not a PEM certificate: {e}"))?;
            builder = builder.add_root_certificate(certificate);
        }
        if breakage == Breakage::AcceptsAnyCertificate {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            http,
            base: format!("https://{host}"),
            host: host.to_owned(),
            ikey: ikey.to_owned(),
            key: SigningKey::new(skey.as_bytes()),
            breakage,
            reused_date: None,
        })
    }

    /// Signs every request with the first request's Date (L15: a Date kept from the first page).
    pub(crate) fn reusing_first_date(mut self) -> Self {
        self.reused_date = Some(std::sync::OnceLock::new());
        self
    }

    /// `GET path?params`, signed, retried as the table says; the envelope of a valid answer.
    pub(crate) async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Value, Failure> {
        let mut retries = 0usize;
        loop {
            let (failure, retry) = match self.attempt(path, params).await {
                Ok(envelope) => return Ok(envelope),
                Err(pair) => pair,
            };
            let Some(wait) = self.wait_before_retry(retry, retries) else {
                return Err(failure);
            };
            retries += 1;
            tokio::time::sleep(wait).await;
        }
    }

    fn wait_before_retry(&self, retry: Retry, retries: usize) -> Option<Duration> {
        use Breakage as B;
        let seconds = match (retry, self.breakage) {
            (Retry::RateLimited | Retry::ServerError, B::RetriesForever) => {
                return Some(Duration::from_millis(200));
            }
            (Retry::RateLimited, B::NoRetry429 | B::RestartListOn429) => None,
            (Retry::RateLimited, _) => WAITS_429.get(retries).copied(),
            (Retry::ServerError | Retry::Network, B::NoRetries) => None,
            (Retry::ServerError, _) => WAITS_5XX.get(retries).copied(),
            (Retry::Network, _) => WAITS_NETWORK.get(retries).copied(),
            (Retry::Refused, B::Retries401) => (retries < 2).then_some(1),
            (Retry::Refused | Retry::Never, _) => None,
        }?;
        let jitter = rand::random::<u64>() % JITTER_MS;
        Some(Duration::from_secs(seconds) + Duration::from_millis(jitter))
    }

    async fn attempt(&self, path: &str, params: &[(&str, String)]) -> Result<Value, (Failure, Retry)> {
        let pairs: Vec<duo_auth::Param> = params
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        let query = duo_auth::params::canon_params(&pairs);
        let fresh = || duo_auth::date::format_date(unix_now());
        let date = match &self.reused_date {
            Some(first) => first.get_or_init(fresh).clone(),
            None => fresh(),
        };
        let parts = SignedParts {
            date: &date,
            method: "GET",
            host: &self.host,
            path,
            params: &pairs,
            body: b"",
            duo_headers: &[],
        };
        let signature = duo_auth::sign(&self.key, Scheme::V5, &parts);
        let url = if query.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{query}", self.base)
        };
        let sent = self
            .http
            .get(&url)
            .header("Date", &date)
            .header(
                "Authorization",
                duo_auth::authorization_header(&self.ikey, &signature),
            )
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => return Err(self.transport_failure(&error, path)),
        };
        let status = response.status().as_u16();
        let server_date = response
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(duo_auth::date::parse_date);
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => return Err(self.transport_failure(&error, path)),
        };
        self.classify(path, status, server_date, &body)
    }

    fn transport_failure(&self, error: &reqwest::Error, path: &str) -> (Failure, Retry) {
        let text = error_chain(error);
        let (kind, retry, what) = if is_tls(error) {
            (
                ErrorKind::Tls,
                Retry::Never,
                "the TLS handshake or certificate failed",
            )
        } else if error.is_timeout() {
            (ErrorKind::Network, Retry::Network, "the request timed out")
        } else if error.is_connect() {
            (ErrorKind::Network, Retry::Network, "cannot connect")
        } else if self.breakage == Breakage::ResetAsNetwork {
            (ErrorKind::Network, Retry::Network, "the connection failed")
        } else {
            (
                ErrorKind::BlockedByIntermediary,
                Retry::Network,
                "the connection was cut before a whole answer (something between this host and Duo)",
            )
        };
        (Failure::new(kind, format!("{what}: {text}")).at(path), retry)
    }

    fn classify(
        &self,
        path: &str,
        status: u16,
        server_date: Option<i64>,
        body: &[u8],
    ) -> Result<Value, (Failure, Retry)> {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let stat = json.as_ref().and_then(|v| v.get("stat")).and_then(Value::as_str);
        if status == 200 {
            let valid = stat == Some("OK") && json.as_ref().is_some_and(|v| v.get("response").is_some());
            if let (true, Some(envelope)) = (valid, json) {
                return Ok(envelope);
            }
            if self.breakage == Breakage::HtmlAsData {
                return Ok(json!({"stat": "OK", "response": []}));
            }
            let trimmed = body.trim_ascii_start();
            let (kind, what) = if trimmed.is_empty() {
                (
                    ErrorKind::BlockedByIntermediary,
                    "an empty 200: not Duo's answer (a proxy or filter in the path)".to_owned(),
                )
            } else if trimmed.starts_with(b"<") {
                (
                    ErrorKind::BlockedByIntermediary,
                    "an HTML page with status 200: not Duo's answer (a proxy or filter's block page)"
                        .to_owned(),
                )
            } else {
                (
                    ErrorKind::Protocol,
                    format!("a 200 that is not a valid Duo answer: {}", preview(body)),
                )
            };
            return Err((Failure::new(kind, what).at(path).status(status), Retry::Never));
        }
        if self.breakage == Breakage::StatusOnlyKinds {
            let (kind, retry) = match status {
                401 | 407 => (ErrorKind::InvalidCredentials, Retry::Refused),
                403 => (ErrorKind::PermissionDenied, Retry::Refused),
                429 => (ErrorKind::RateLimited, Retry::RateLimited),
                500..=599 => (ErrorKind::ServerError, Retry::ServerError),
                _ => (ErrorKind::Protocol, Retry::Never),
            };
            return Err((
                Failure::new(kind, format!("HTTP {status}"))
                    .at(path)
                    .status(status),
                retry,
            ));
        }
        let code = json
            .as_ref()
            .filter(|_| stat == Some("FAIL"))
            .and_then(|v| v.get("code"))
            .and_then(|c| c.as_u64().or_else(|| c.as_str().and_then(|s| s.parse().ok())))
            .and_then(|c| u32::try_from(c).ok());
        let Some(code) = code else {
            let retry = if status >= 500 && self.breakage != Breakage::NoRetryGateway5xx {
                Retry::ServerError
            } else {
                Retry::Never
            };
            let failure = Failure::new(
                ErrorKind::BlockedByIntermediary,
                format!(
                    "HTTP {status} that is not Duo's answer (a WAF, proxy or gateway): {}",
                    preview(body)
                ),
            );
            return Err((failure.at(path).status(status), retry));
        };
        let message = json
            .as_ref()
            .and_then(|v| v.get("message"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let (kind, retry) = match code {
            40102 => (ErrorKind::InvalidCredentials, Retry::Refused),
            40103 => (ErrorKind::InvalidSignature, Retry::Refused),
            40105 => (ErrorKind::ClockSkew, Retry::Refused),
            40301 => (ErrorKind::PermissionDenied, Retry::Refused),
            42900..=42999 => (ErrorKind::RateLimited, Retry::RateLimited),
            50000..=59999 => (ErrorKind::ServerError, Retry::ServerError),
            _ if status == 401 => (ErrorKind::Protocol, Retry::Refused),
            _ => (ErrorKind::Protocol, Retry::Never),
        };
        let mut failure = Failure::new(kind, format!("Duo answered {status} {code} {message}"))
            .at(path)
            .status(status);
        failure.duo_code = Some(code);
        if kind == ErrorKind::ClockSkew
            && let Some(server) = server_date
        {
            let mut offset = server - unix_now();
            if self.breakage == Breakage::ClockOffsetSignFlipped {
                offset = -offset;
            }
            let direction = if offset >= 0 { "ahead of" } else { "behind" };
            failure.message = format!(
                "Duo's clock is {} seconds {direction} this machine's (401 40105 Bad request timestamp); set the clock with NTP",
                offset.unsigned_abs()
            );
            failure.clock_offset_s = Some(offset);
        }
        Err((failure, retry))
    }
}

fn is_tls(error: &reqwest::Error) -> bool {
    is_tls_error(error)
}

/// Whether a rustls error is in the chain. `io::Error::source` skips the error it wraps (it
/// returns that error's source), so wrapped errors are followed through `get_ref` too.
fn is_tls_error(error: &(dyn std::error::Error + 'static)) -> bool {
    if error.downcast_ref::<rustls::Error>().is_some() {
        return true;
    }
    if let Some(inner) = error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
        && is_tls_error(inner)
    {
        return true;
    }
    error.source().is_some_and(is_tls_error)
}

fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(120).collect()
}

/// Unix seconds now.
pub(super) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
