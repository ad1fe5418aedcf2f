//! A client for a Duo Admin API server that is not this process: Duo itself, or another fake.
//! `probe` measures one and `record` forwards to one. HTTP/1.1 over TCP, with TLS trusting the
//! system's roots and an optional CA file; one kept-alive connection reused while it lasts (as
//! Duo's clients do), a new one when it closed. Requests are signed with `duo-auth`; the secret
//! key lives only as a pre-keyed [`SigningKey`] and goes into signatures and nowhere else.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use duo_auth::{Scheme, SignedParts, SigningKey};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{Mutex, oneshot};
use tokio_rustls::TlsConnector;

use crate::error::{Error, Result};

/// Longest wait to connect (TCP and TLS).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for a whole answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the server is and how to reach it.
#[derive(Debug, Clone)]
pub struct Target {
    /// `host` or `host:port`, as a Duo client is given it (and signs it).
    pub host: String,
    /// Plain HTTP instead of HTTPS (a local fake served without `--tls`).
    pub plain_http: bool,
    /// A PEM file of CA certificates to trust besides the system's.
    pub ca_cert: Option<PathBuf>,
}

impl Target {
    /// `host:port`, with the scheme's port when none is given.
    pub fn address(&self) -> String {
        let has_port = self
            .host
            .rsplit_once(':')
            .is_some_and(|(_, port)| port.parse::<u16>().is_ok());
        if has_port {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, if self.plain_http { 80 } else { 443 })
        }
    }

    /// The host name without its port (for TLS's server name).
    pub fn host_name(&self) -> &str {
        match self.host.rsplit_once(':') {
            Some((name, port)) if port.parse::<u16>().is_ok() => name.trim_matches(['[', ']']),
            _ => &self.host,
        }
    }
}

/// The keys of the integration requests are signed with. Debug never shows the secret.
pub struct Keys {
    /// Integration key.
    pub ikey: String,
    /// The secret key, pre-keyed.
    pub key: SigningKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("ikey", &self.ikey)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Keys {
    /// Keys from an ikey and the secret key's text (which is not kept).
    pub fn new(ikey: &str, skey: &str) -> Self {
        Self {
            ikey: ikey.to_owned(),
            key: SigningKey::new(skey.as_bytes()),
        }
    }
}

/// An answer, whole.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// From sending to the last byte.
    pub elapsed: Duration,
}

impl Answer {
    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A kept-alive connection: its sender, and a receiver that fires when the server closes it.
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    closed: oneshot::Receiver<Instant>,
}

/// A client for one server.
pub struct Upstream {
    target: Target,
    tls: Option<TlsConnector>,
    kept: Mutex<Option<Connection>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

fn upstream_error(message: impl Into<String>) -> Error {
    Error::Upstream(message.into())
}

/// The system's roots plus the PEM file's certificates.
fn client_tls(ca_cert: Option<&Path>) -> Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| Error::io(path, e))?;
            roots
                .add(cert)
                .map_err(|e| upstream_error(format!("{}: {e}", path.display())))?;
            added += 1;
        }
        if added == 0 {
            return Err(upstream_error(format!(
                "{}: no PEM certificate in it",
                path.display()
            )));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| upstream_error(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

impl Upstream {
    /// A client for `target` (nothing is connected yet).
    pub fn new(target: Target) -> Result<Self> {
        let tls = if target.plain_http {
            None
        } else {
            Some(client_tls(target.ca_cert.as_deref())?)
        };
        Ok(Self {
            target,
            tls,
            kept: Mutex::new(None),
        })
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    async fn connect(&self) -> Result<Connection> {
        let address = self.target.address();
        let addr: SocketAddr = tokio::net::lookup_host(&address)
            .await
            .map_err(|e| upstream_error(format!("{address}: {e}")))?
            .next()
            .ok_or_else(|| upstream_error(format!("{address} does not resolve")))?;
        let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| upstream_error(format!("{address}: no connection within {CONNECT_TIMEOUT:?}")))?
            .map_err(|e| upstream_error(format!("{address}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let (done_tx, closed) = oneshot::channel();
        let sender = match &self.tls {
            None => handshake(TokioIo::new(tcp), done_tx).await?,
            Some(connector) => {
                let name = rustls::pki_types::ServerName::try_from(self.target.host_name().to_owned())
                    .map_err(|e| upstream_error(format!("{}: {e}", self.target.host_name())))?;
                let tls = tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
                    .await
                    .map_err(|_| upstream_error(format!("{address}: TLS handshake timed out")))?
                    .map_err(|e| upstream_error(format!("{address}: TLS: {e}")))?;
                handshake(TokioIo::new(tls), done_tx).await?
            }
        };
        Ok(Connection { sender, closed })
    }

    /// Sends `request` on the kept connection (a new one if it closed) and reads the answer.
    pub async fn send(&self, request: Request<Full<Bytes>>) -> Result<Answer> {
        let mut kept = self.kept.lock().await;
        let reusable = kept
            .as_mut()
            .is_some_and(|c| c.closed.try_recv().is_err() && !c.sender.is_closed());
        if !reusable {
            *kept = Some(self.connect().await?);
        }
        let Some(connection) = kept.as_mut() else {
            return Err(upstream_error("no connection"));
        };
        let answer = exchange(&mut connection.sender, request).await;
        if answer.is_err() {
            *kept = None;
        }
        answer
    }

    /// Sends one request on a connection of its own, reads the answer, then waits (up to
    /// `bound`) for the server to close the idle connection: how long it keeps one open.
    /// `None` when it was still open at the bound.
    pub async fn idle_lifetime(
        &self,
        request: Request<Full<Bytes>>,
        bound: Duration,
    ) -> Result<Option<Duration>> {
        let mut connection = self.connect().await?;
        exchange(&mut connection.sender, request).await?;
        let idle_since = Instant::now();
        match tokio::time::timeout(bound, connection.closed).await {
            Ok(Ok(at)) => Ok(Some(at.saturating_duration_since(idle_since))),
            Ok(Err(_)) => Ok(Some(idle_since.elapsed())),
            Err(_) => Ok(None),
        }
    }
}

async fn handshake<T>(io: TokioIo<T>, done: oneshot::Sender<Instant>) -> Result<SendRequest<Full<Bytes>>>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| upstream_error(format!("HTTP handshake: {e}")))?;
    tokio::spawn(async move {
        // Ends when the server closes the connection (or it breaks): that instant is the news.
        let _ = connection.await;
        let _ = done.send(Instant::now());
    });
    Ok(sender)
}

async fn exchange(sender: &mut SendRequest<Full<Bytes>>, request: Request<Full<Bytes>>) -> Result<Answer> {
    let started = Instant::now();
    let work = async {
        sender
            .ready()
            .await
            .map_err(|e| upstream_error(format!("the connection closed: {e}")))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| upstream_error(format!("no answer: {e}")))?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(|e| upstream_error(format!("the answer was cut: {e}")))?
            .to_bytes();
        Ok::<_, Error>(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
            elapsed: started.elapsed(),
        })
    };
    tokio::time::timeout(ANSWER_TIMEOUT, work)
        .await
        .map_err(|_| upstream_error(format!("no whole answer within {ANSWER_TIMEOUT:?}")))?
}

/// How a request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// Not at all (Duo's ping; an unsigned probe).
    None,
    /// With `scheme`, dated `date` (unix seconds), for the integration key `ikey` (the keys'
    /// own, or another to ask about an unknown one).
    Signed {
        /// The scheme.
        scheme: Scheme,
        /// The date signed and sent.
        date: i64,
    },
}

/// A request as the Admin API wants it: `method path?query`, `Host`, `Date` and `Authorization`
/// when signed (the query is canonical, so it is what the signature covers), and `body` with its
/// `Content-Type` when there is one.
pub fn request(
    target: &Target,
    keys: &Keys,
    method: &Method,
    path: &str,
    query: &str,
    signing: Signing,
    body: Option<(&str, Bytes)>,
) -> Result<Request<Full<Bytes>>> {
    let uri = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header(header::HOST, &target.host)
        .header(
            header::USER_AGENT,
            concat!("duo-mock/", env!("CARGO_PKG_VERSION")),
        );
    let (content_type, bytes) = body.unwrap_or(("", Bytes::new()));
    if let Signing::Signed { scheme, date } = signing {
        let date = duo_auth::date::format_date(date);
        let mut params = duo_auth::params::parse_urlencoded(query.as_bytes());
        let is_form = content_type.starts_with("application/x-www-form-urlencoded");
        if is_form && matches!(scheme, Scheme::V1(_) | Scheme::V2(_)) {
            params.extend(duo_auth::params::parse_urlencoded(&bytes));
        }
        let parts = SignedParts {
            date: &date,
            method: method.as_str(),
            host: &target.host,
            path,
            params: &params,
            body: &bytes,
            duo_headers: &[],
        };
        let signature = duo_auth::sign(&keys.key, scheme, &parts);
        builder = builder.header(header::DATE, date).header(
            header::AUTHORIZATION,
            duo_auth::authorization_header(&keys.ikey, &signature),
        );
    }
    if !content_type.is_empty() {
        builder = builder.header(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).map_err(|e| upstream_error(e.to_string()))?,
        );
    }
    builder
        .body(Full::new(bytes))
        .map_err(|e| upstream_error(format!("a request to {path}: {e}")))
}
