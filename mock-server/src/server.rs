//! Serving: [`run`] takes a bound listener, the state and a shutdown future (the binary passes
//! Ctrl-C, tests pass a channel), and [`MockServer`] starts one in-process on port 0 for tests.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::response::IntoResponse as _;
use http_body_util::Limited;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::netfault::{ConnectionFault, FaultIo};
use crate::proxy::ProxyConfig;
use crate::scenario::Scenario;
use crate::state::AppState;
use crate::tls::{self, TlsMaterial};

/// Longest TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for requests in flight.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Smallest cap on hyper's read and write buffers: a head limit set lower (tests set 1 KiB) is
/// enforced by `max_header_size`, and the buffer stays large enough to write a page in few calls.
const MIN_BUFFER_BYTES: usize = 64 * 1024;

/// A bound socket, with TLS or without.
pub struct Listener {
    /// The bound TCP socket.
    pub tcp: TcpListener,
    /// TLS acceptor; `None` serves plain HTTP.
    pub tls: Option<TlsAcceptor>,
    /// A CONNECT proxy to start in front of the fake (the scenario's `[proxy]`), bound already.
    pub proxy: Option<(TcpListener, ProxyConfig)>,
}

impl fmt::Debug for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Listener")
            .field("tcp", &self.tcp)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// Serves `state` on `listener` until `shutdown` completes, then drains requests in flight.
pub async fn run(
    listener: Listener,
    state: AppState,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let app = crate::routes::app(state.clone());
    run_app(listener, state, app, shutdown).await
}

/// Like [`run`], with another application in front of `state` (`duo-mock record`'s proxy): the
/// same connection handling, limits, TLS and draining.
pub async fn run_app(
    listener: Listener,
    state: AppState,
    app: axum::Router,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut listener = listener;
    let proxy = match (listener.proxy.take(), listener.tcp.local_addr()) {
        (Some((proxy_listener, config)), Ok(target)) => Some(tokio::spawn(crate::proxy::run(
            proxy_listener,
            target,
            config,
            std::future::pending(),
        ))),
        _ => None,
    };
    let mut base = hyper::server::conn::http1::Builder::new();
    base.timer(TokioTimer::new()).keep_alive(true);
    // Connections being served, and connections being told the server is full (a second count,
    // so a flood past the cap cannot hold unbounded sockets either).
    let open = Arc::new(AtomicUsize::new(0));
    let refusing = Arc::new(AtomicUsize::new(0));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.tcp.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Read per connection, so a scenario loaded through the control API governs the
        // connections opened after it.
        let limits = state.world().options().limits;
        let (slot, over_capacity) = match take_slot(&open, limits.connections) {
            Some(slot) => (slot, false),
            None => match take_slot(&refusing, limits.connections) {
                Some(slot) => {
                    tracing::debug!(%peer, cap = limits.connections, "503 50300: options.limits.connections reached");
                    (slot, true)
                }
                None => {
                    tracing::debug!(%peer, "connection closed at once: the server is full and so is its refusal queue");
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let mut builder = base.clone();
        builder
            .header_read_timeout(limits.header_read_timeout())
            .max_header_size(limits.header_bytes)
            .max_buf_size(limits.header_bytes.max(MIN_BUFFER_BYTES))
            // A refusal closes the connection: the client must come back when a slot is free.
            .keep_alive(!over_capacity);
        let app = app.clone();
        // The connection's network fault: armed by the fault middleware, carried out by `FaultIo`.
        let fault = Arc::new(ConnectionFault::new());
        let service = {
            let fault = fault.clone();
            hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                // One request at a time: a new one means the last answer is out.
                fault.clear();
                let applies = Limits::applies_to(&request);
                let refusal = if over_capacity {
                    Some(crate::limits::over_capacity())
                } else if applies {
                    limits.refuse_head(&request)
                } else {
                    None
                };
                let mut request = request.map(|body| {
                    if applies {
                        // A chunked body announces no length: count it as it is read.
                        axum::body::Body::new(Limited::new(body, limits.body_bytes))
                    } else {
                        axum::body::Body::new(body)
                    }
                });
                request.extensions_mut().insert(ConnectInfo(peer));
                request.extensions_mut().insert(fault.clone());
                let app = app.clone();
                async move {
                    match refusal {
                        Some(error) => Ok(error.into_response()),
                        None => app.oneshot(request).await,
                    }
                }
            })
        };
        let watcher = graceful.watcher();
        let tls = listener.tls.clone();
        tokio::spawn(async move {
            // Held until the connection ends, then given back.
            let _slot = slot;
            let result = match tls {
                None => {
                    let io = TokioIo::new(FaultIo::new(stream, fault));
                    watcher.watch(builder.serve_connection(io, service)).await
                }
                Some(acceptor) => {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    else {
                        tracing::debug!(%peer, "TLS handshake failed or timed out");
                        return;
                    };
                    // Above TLS, so that a cut counts the answer's plaintext bytes.
                    let io = TokioIo::new(FaultIo::new(stream, fault));
                    watcher.watch(builder.serve_connection(io, service)).await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if let Some(proxy) = proxy {
        proxy.abort();
    }
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after {DRAIN_TIMEOUT:?}; closing anyway");
    }
    Ok(())
}

/// One of the connections counted by `count`; gives itself back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A slot of `count` if fewer than `cap` are taken.
fn take_slot(count: &Arc<AtomicUsize>, cap: usize) -> Option<Slot> {
    let taken = count.fetch_add(1, Ordering::AcqRel);
    // Made before the test, so that a refused slot is given back by its own drop.
    let slot = Slot(Arc::clone(count));
    (taken < cap).then_some(slot)
}

/// Where the server listens and with which certificate.
#[derive(Debug, Clone)]
pub struct StartOptions {
    /// Address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// TLS or plain HTTP.
    pub tls: TlsMode,
}

impl Default for StartOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: TlsMode::Off,
        }
    }
}

/// How the server does TLS.
#[derive(Debug, Clone)]
pub enum TlsMode {
    /// Plain HTTP.
    Off,
    /// A CA and a leaf for `localhost`, `127.0.0.1`, `::1` and the API hostname, made at start.
    Generate,
    /// A certificate chain and key from PEM files.
    Files {
        /// Certificate chain PEM.
        cert: PathBuf,
        /// Private key PEM.
        key: PathBuf,
    },
}

/// What a client needs to reach a running fake; also the `--ready-file` JSON.
#[derive(Clone, Serialize)]
pub struct ServerInfo {
    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS (a DNS name, because
    /// Duo's Python client checks DNS names only).
    pub base_url: String,
    /// The scenario's API hostname, without port.
    pub api_host: String,
    /// The bound port.
    pub port: u16,
    /// Path of the CA's PEM with generated TLS, else `None`.
    pub ca_cert: Option<PathBuf>,
    /// The scenario's integrations, with their test keys.
    pub integrations: Vec<IntegrationInfo>,
    /// Base URL of the control API (loopback only).
    pub control_url: String,
    /// Token the control API wants in `X-Duo-Mock-Token`.
    pub control_token: String,
    /// The dashboard (loopback only), with the control token once: opening it trades the token
    /// for a cookie and takes it out of the address bar.
    pub dashboard_url: String,
    /// The CONNECT proxy in front of the fake (`http://127.0.0.1:PORT`), when the scenario has
    /// `[proxy]`; `None` otherwise.
    pub proxy_url: Option<String>,
    /// The child accounts (`[[accounts]]`), as `POST /accounts/v1/account/list` lists them.
    pub accounts: Vec<AccountInfo>,
}

/// A child account as `POST /accounts/v1/account/list` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AccountInfo {
    /// `DA…`.
    pub account_id: String,
    /// The child's API hostname.
    pub api_hostname: String,
    /// The child's name.
    pub name: String,
}

impl AccountInfo {
    /// The child accounts of `scenario`.
    pub fn of(scenario: &Scenario) -> Vec<Self> {
        scenario
            .accounts
            .iter()
            .map(|a| Self {
                account_id: a.account_id.clone(),
                api_hostname: a.tenant.api_hostname.clone(),
                name: a.tenant.name.clone(),
            })
            .collect()
    }
}

/// One integration's test credentials, as handed to a client.
#[derive(Clone, Serialize)]
pub struct IntegrationInfo {
    /// Scenario name.
    pub name: String,
    /// Integration key.
    pub ikey: String,
    /// Secret key (the scenario's own test key).
    pub skey: String,
    /// Duo's names of its grants.
    pub grants: Vec<&'static str>,
}

impl fmt::Debug for ServerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerInfo")
            .field("base_url", &self.base_url)
            .field("api_host", &self.api_host)
            .field("port", &self.port)
            .field("ca_cert", &self.ca_cert)
            .field("integrations", &self.integrations)
            .field("control_url", &self.control_url)
            .field("control_token", &"<redacted>")
            .field("dashboard_url", &"<redacted: carries the token>")
            .field("proxy_url", &self.proxy_url)
            .field("accounts", &self.accounts)
            .finish()
    }
}

impl fmt::Debug for IntegrationInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntegrationInfo")
            .field("name", &self.name)
            .field("ikey", &self.ikey)
            .field("skey", &"<redacted>")
            .field("grants", &self.grants)
            .finish()
    }
}

impl IntegrationInfo {
    /// The integrations of `scenario`, with their test keys.
    pub fn of(scenario: &Scenario) -> Vec<Self> {
        scenario
            .integrations
            .iter()
            .map(|i| Self {
                name: i.name.clone(),
                ikey: i.ikey.clone(),
                skey: i.client_skey.clone().unwrap_or_else(|| i.skey.clone()),
                grants: i.grants.names(),
            })
            .collect()
    }
}

impl ServerInfo {
    /// The integration named `name`.
    pub fn integration(&self, name: &str) -> Option<&IntegrationInfo> {
        self.integrations.iter().find(|i| i.name == name)
    }
}

/// A fake running in this process. Dropping it stops it.
#[derive(Debug)]
pub struct MockServer {
    info: ServerInfo,
    state: AppState,
    ca_pem: Option<String>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// Binds, prepares TLS and describes the server, without serving yet.
pub async fn prepare(
    scenario: &Scenario,
    options: &StartOptions,
    control_token: &str,
) -> Result<(Listener, ServerInfo, Option<String>)> {
    let tcp = TcpListener::bind(options.listen).await?;
    let port = tcp.local_addr()?.port();
    let proxy_tcp = match &scenario.proxy {
        Some(_) => Some(TcpListener::bind(SocketAddr::new(options.listen.ip(), 0)).await?),
        None => None,
    };
    let proxy_url = match &proxy_tcp {
        Some(tcp) => Some(format!("http://{}", tcp.local_addr()?)),
        None => None,
    };
    let host_names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        scenario.tenant.api_hostname.clone(),
    ];
    let fault = scenario.options.tls_certificate;
    let mode = match (&options.tls, scenario.options.tls) {
        (TlsMode::Off, true) => &TlsMode::Generate,
        (mode, _) => mode,
    };
    let material: Option<TlsMaterial> = match mode {
        TlsMode::Off => None,
        TlsMode::Generate => Some(tls::generate_with(&host_names, fault)?),
        TlsMode::Files { cert, key } => Some(tls::from_pem_files(cert, key)?),
    };
    let (ca_cert, ca_pem) = match material.as_ref().and_then(|m| m.ca_pem.clone()) {
        Some(pem) => {
            let path = std::env::temp_dir().join(format!("duo-mock-{}-{port}-ca.pem", std::process::id()));
            std::fs::write(&path, &pem).map_err(|e| Error::io(&path, e))?;
            (Some(path), Some(pem))
        }
        None => (None, None),
    };
    let ip = options.listen.ip();
    let base_url = match (&material, ip.is_unspecified() || ip.is_loopback()) {
        (Some(_), _) => format!("https://localhost:{port}"),
        (None, true) => format!("http://127.0.0.1:{port}"),
        (None, false) => format!("http://{}", SocketAddr::new(ip, port)),
    };
    let info = ServerInfo {
        base_url: base_url.clone(),
        api_host: scenario.tenant.api_hostname.clone(),
        port,
        ca_cert,
        integrations: IntegrationInfo::of(scenario),
        control_url: format!("{base_url}{}", crate::control::PREFIX),
        dashboard_url: crate::dashboard::url(&base_url, control_token),
        proxy_url,
        control_token: control_token.to_owned(),
        accounts: AccountInfo::of(scenario),
    };
    let listener = Listener {
        tcp,
        tls: material.map(|m| TlsAcceptor::from(m.config)),
        proxy: match (&scenario.proxy, proxy_tcp) {
            (Some(config), Some(tcp)) => Some((tcp, config.clone())),
            _ => None,
        },
    };
    Ok((listener, info, ca_pem))
}

impl MockServer {
    /// Builds the scenario's tenant and serves it in this process.
    pub async fn start(scenario: &Scenario, options: StartOptions) -> Result<Self> {
        let state = AppState::from_scenario(scenario)?;
        let (listener, info, ca_pem) = prepare(scenario, &options, state.control_token()).await?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(run(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Ok(Self {
            info,
            state,
            ca_pem,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Address, hostname, CA and credentials.
    pub fn info(&self) -> &ServerInfo {
        &self.info
    }

    /// The base URL (`http://127.0.0.1:PORT` or `https://localhost:PORT`).
    pub fn base_url(&self) -> &str {
        &self.info.base_url
    }

    /// The state being served (to read the tenant or set the clock).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// PEM of the generated CA, with [`TlsMode::Generate`].
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Stops accepting, drains requests in flight, and waits for the server to end.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .map_err(|e| Error::Server(std::io::Error::other(e.to_string())))??;
        }
        Ok(())
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(path) = &self.info.ca_cert {
            let _ = std::fs::remove_file(path);
        }
    }
}
