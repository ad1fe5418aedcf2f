//! The test harness: start a fake in-process on port 0 from a scenario, and a client that signs
//! requests the way Duo's clients do (through `duo-auth`, whose vectors are checked against Duo's
//! published ones; interop with Duo's own Python client is tested separately).

use std::path::{Path, PathBuf};

use duo_auth::{Digest, Scheme, SignedParts, SigningKey};
use mock_server::{MockServer, Scenario, StartOptions, TlsMode};
use serde_json::Value;

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A bundled scenario file's path.
pub(crate) fn scenario_path(name: &str) -> PathBuf {
    root().join("scenarios").join(name)
}

/// Loads a bundled scenario.
pub(crate) fn scenario(name: &str) -> Scenario {
    Scenario::load(&scenario_path(name)).expect("bundled scenario loads")
}

/// A scenario from TOML text.
pub(crate) fn scenario_text(text: &str) -> Scenario {
    // Named as if beside the bundled scenarios, so that the files they name (a logo) are found.
    let origin = scenario_path("test.toml").display().to_string();
    Scenario::parse(text, &origin).expect("test scenario parses")
}

/// A running fake and a client for it.
pub(crate) struct TestServer {
    pub(crate) server: MockServer,
    pub(crate) http: reqwest::Client,
}

/// Starts a fake for `scenario` over plain HTTP on 127.0.0.1:0.
pub(crate) async fn spawn(scenario: &Scenario) -> TestServer {
    let server = MockServer::start(scenario, StartOptions::default())
        .await
        .expect("server starts");
    TestServer {
        server,
        http: reqwest::Client::new(),
    }
}

/// Starts a fake with a generated CA over HTTPS, and a client trusting that CA only.
pub(crate) async fn spawn_tls(scenario: &Scenario) -> TestServer {
    let options = StartOptions {
        tls: TlsMode::Generate,
        ..StartOptions::default()
    };
    let server = MockServer::start(scenario, options).await.expect("server starts");
    let ca =
        reqwest::Certificate::from_pem(server.ca_pem().expect("generated CA").as_bytes()).expect("CA PEM");
    let http = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .build()
        .expect("client");
    TestServer { server, http }
}

/// One request to sign and send; every part can be bent to make it wrong.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) method: &'static str,
    pub(crate) path: String,
    /// Raw query string as sent on the wire (may use `+` for spaces).
    pub(crate) query: String,
    /// Decoded parameters the signature covers; by default decoded from `query`.
    pub(crate) signed_params: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    pub(crate) scheme: Scheme,
    /// Which integration of the scenario signs (by name); `None` = the first.
    pub(crate) integration: Option<&'static str>,
    /// Override the skey used to sign.
    pub(crate) skey: Option<String>,
    /// Override the ikey sent.
    pub(crate) ikey: Option<String>,
    /// Date string to send and sign; default now, Python's format.
    pub(crate) date: Option<String>,
    /// Send the date as X-Duo-Date instead of Date.
    pub(crate) x_duo_date: bool,
    /// Host to sign (default: the base URL's host without port).
    pub(crate) signed_host: Option<String>,
    /// Extra X-Duo-* headers, sent and signed.
    pub(crate) duo_headers: Vec<(String, String)>,
    /// Upper-case the signature's hex.
    pub(crate) upper_hex: bool,
    /// Raw Authorization header, replacing the computed one.
    pub(crate) authorization: Option<String>,
    /// Leave out the date header.
    pub(crate) no_date: bool,
    /// Other headers, sent but not signed (e.g. X-Forwarded-For).
    pub(crate) headers: Vec<(String, String)>,
    /// A body: JSON (signed by v5 as bytes) or a form (its pairs signed by v2).
    pub(crate) body: Option<Body>,
}

/// A request body, as Duo's clients send them.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    /// `application/json`, v5.
    Json(String),
    /// `application/x-www-form-urlencoded`, v2.
    Form(String),
}

impl Call {
    pub(crate) fn get(path: &str, query: &str) -> Self {
        Self {
            method: "GET",
            path: path.to_owned(),
            query: query.to_owned(),
            signed_params: None,
            scheme: Scheme::V5,
            integration: None,
            skey: None,
            ikey: None,
            date: None,
            x_duo_date: false,
            signed_host: None,
            duo_headers: Vec::new(),
            upper_hex: false,
            authorization: None,
            no_date: false,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn scheme(mut self, scheme: Scheme) -> Self {
        self.scheme = scheme;
        self
    }

    pub(crate) fn signed_by(mut self, name: &'static str) -> Self {
        self.integration = Some(name);
        self
    }
}

/// An answer: status, parsed JSON body (or `Null`), raw body and content type.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) json: Value,
    pub(crate) raw: String,
    pub(crate) content_type: String,
    /// The opt-in `X-Duo-Mock-Explain` header, if sent.
    pub(crate) explain: Option<String>,
    /// Every header, by lower-case name (the last value of a repeated one).
    pub(crate) headers: std::collections::HashMap<String, String>,
}

impl Answer {
    /// Asserts a Duo failure envelope with `code` and `message`.
    #[track_caller]
    pub(crate) fn assert_fail(&self, code: u64, message: &str) {
        assert_eq!(u64::from(self.status), code / 100, "status of {}", self.raw);
        assert_eq!(self.json["stat"], "FAIL", "{}", self.raw);
        assert_eq!(self.json["code"], code, "{}", self.raw);
        assert_eq!(self.json["message"], message, "{}", self.raw);
        assert_eq!(self.content_type, "application/json");
    }

    /// Asserts `{"stat":"OK"}` and returns `response`.
    #[track_caller]
    pub(crate) fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.raw);
        assert_eq!(self.json["stat"], "OK", "{}", self.raw);
        &self.json["response"]
    }
}

/// Python's `email.utils.formatdate()` of `unix`.
pub(crate) fn date_at(unix: i64) -> String {
    duo_auth::date::format_date(unix)
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

impl TestServer {
    pub(crate) fn port(&self) -> u16 {
        self.server.info().port
    }

    /// Signs and sends `call`.
    pub(crate) async fn send(&self, call: Call) -> Answer {
        let info = self.server.info();
        let integration = match call.integration {
            Some(name) => info.integration(name).expect("integration in scenario"),
            None => &info.integrations[0],
        };
        let date = call.date.clone().unwrap_or_else(|| date_at(now()));
        let mut duo_headers: Vec<(String, String)> = call.duo_headers.clone();
        if call.x_duo_date {
            duo_headers.push(("X-Duo-Date".to_owned(), date.clone()));
        }
        let header_refs: Vec<(&[u8], &[u8])> = duo_headers
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        let mut params = call
            .signed_params
            .clone()
            .unwrap_or_else(|| duo_auth::params::parse_urlencoded(call.query.as_bytes()));
        let (content_type, body_bytes): (Option<&str>, Vec<u8>) = match &call.body {
            None => (None, Vec::new()),
            Some(Body::Json(json)) => (Some("application/json"), json.clone().into_bytes()),
            Some(Body::Form(form)) => {
                params.extend(duo_auth::params::parse_urlencoded(form.as_bytes()));
                (
                    Some("application/x-www-form-urlencoded"),
                    form.clone().into_bytes(),
                )
            }
        };
        let signed_body: &[u8] = match &call.body {
            Some(Body::Json(_)) => &body_bytes,
            _ => b"",
        };
        // Like Duo's Python client: the host it connects to, without the port.
        let default_host = || {
            let after_scheme = info.base_url.split_once("://").map_or("", |(_, rest)| rest);
            after_scheme
                .rsplit_once(':')
                .map_or(after_scheme, |(host, _)| host)
                .to_owned()
        };
        let host = call.signed_host.clone().unwrap_or_else(default_host);
        let parts = SignedParts {
            date: &date,
            method: call.method,
            host: &host,
            path: &call.path,
            params: &params,
            body: signed_body,
            duo_headers: &header_refs,
        };
        let key = SigningKey::new(call.skey.as_deref().unwrap_or(&integration.skey).as_bytes());
        let mut signature = duo_auth::sign(&key, call.scheme, &parts);
        if call.upper_hex {
            signature = signature.to_uppercase();
        }
        let ikey = call.ikey.as_deref().unwrap_or(&integration.ikey);
        let authorization = call
            .authorization
            .clone()
            .unwrap_or_else(|| duo_auth::authorization_header(ikey, &signature));
        let mut url = format!("{}{}", info.base_url, call.path);
        if !call.query.is_empty() {
            url.push('?');
            url.push_str(&call.query);
        }
        let method = reqwest::Method::from_bytes(call.method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, &url)
            .header("Authorization", authorization);
        if !call.no_date && !call.x_duo_date {
            request = request.header("Date", &date);
        }
        for (k, v) in duo_headers.iter().chain(&call.headers) {
            request = request.header(k.as_str(), v.as_str());
        }
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type).body(body_bytes);
        }
        let response = request.send().await.expect("request sent");
        answer(response).await
    }

    /// A signed GET with the defaults (v5, first integration).
    pub(crate) async fn get(&self, path: &str, query: &str) -> Answer {
        self.send(Call::get(path, query)).await
    }

    /// An unsigned request.
    pub(crate) async fn unsigned(&self, method: &str, path: &str) -> Answer {
        let url = format!("{}{}", self.server.info().base_url, path);
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        answer(self.http.request(method, url).send().await.expect("request sent")).await
    }

    /// Every object of a list endpoint, following `next_offset` like Duo's clients.
    pub(crate) async fn get_all(&self, path: &str, limit: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let mut offset = 0u64;
        loop {
            let answer = self.get(path, &format!("limit={limit}&offset={offset}")).await;
            out.extend(answer.ok().as_array().expect("list").iter().cloned());
            match answer.json["metadata"]["next_offset"].as_u64() {
                Some(next) => {
                    assert!(next > offset, "next_offset must advance");
                    offset = next;
                }
                None => break,
            }
        }
        out
    }
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let explain = response
        .headers()
        .get("x-duo-mock-explain")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let raw = response.text().await.expect("body");
    Answer {
        explain,
        headers,
        status,
        json: serde_json::from_str(&raw).unwrap_or(Value::Null),
        raw,
        content_type,
    }
}

/// The tenant of `scenario` as `dump` renders it.
pub(crate) fn dump(scenario: &Scenario) -> Value {
    let tenant = mock_server::generate::build(scenario).expect("tenant builds");
    let mut out = Vec::new();
    mock_server::dump::write_dump(&tenant, &[], &mut out).expect("dump");
    serde_json::from_slice(&out).expect("dump is JSON")
}

pub(crate) const V2_SHA1: Scheme = Scheme::V2(Digest::Sha1);
pub(crate) const V2_SHA512: Scheme = Scheme::V2(Digest::Sha512);

/// An HTTP answer read off a raw connection (for requests `reqwest` cannot send).
#[derive(Debug)]
pub(crate) struct RawAnswer {
    pub(crate) status: u16,
    /// Header names lower-cased, in received order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl RawAnswer {
    /// The first value of header `name` (lower-case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, or `Null`.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Whether this is Duo's failure envelope: JSON with `stat` FAIL, a five-digit `code` whose
    /// first three digits are the status, and a `message`.
    pub(crate) fn is_duo_failure(&self) -> bool {
        let json = self.json();
        self.header("content-type") == Some("application/json")
            && json["stat"] == "FAIL"
            && json["message"].as_str().is_some_and(|m| !m.is_empty())
            && json["code"]
                .as_u64()
                .is_some_and(|code| (10_000..100_000).contains(&code) && code / 100 == u64::from(self.status))
    }
}

/// What came back on a raw connection.
#[derive(Debug)]
pub(crate) enum RawOutcome {
    /// A whole answer.
    Answer(RawAnswer),
    /// The connection was closed or reset before a whole answer; `bytes` came before that.
    Closed { bytes: usize },
    /// Neither an answer nor a close in the time allowed.
    TimedOut,
}

impl RawOutcome {
    /// The answer, or a panic naming what came instead.
    #[track_caller]
    pub(crate) fn answer(self) -> RawAnswer {
        match self {
            Self::Answer(answer) => answer,
            other => panic!("expected an answer, got {other:?}"),
        }
    }
}

/// Reads one answer: the head, then `Content-Length` bytes of body (or up to the close when the
/// answer gives no length).
pub(crate) async fn read_raw_answer(
    stream: &mut tokio::net::TcpStream,
    within: std::time::Duration,
) -> RawOutcome {
    use tokio::io::AsyncReadExt as _;
    let deadline = tokio::time::Instant::now() + within;
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 8192];
    // The answer once its head is in (body still empty), and where its body starts in `buf`.
    let mut head: Option<(RawAnswer, usize)> = None;
    loop {
        if head.is_none()
            && let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n")
        {
            head = Some((parse_head(&buf[..end]), end + 4));
        }
        let length = head
            .as_ref()
            .and_then(|(answer, _)| answer.header("content-length"))
            .and_then(|v| v.parse::<usize>().ok());
        if let Some(length) = length
            && let Some((mut answer, start)) = head.take_if(|(_, start)| buf.len() >= *start + length)
        {
            answer.body = buf[start..start + length].to_vec();
            return RawOutcome::Answer(answer);
        }
        let Ok(read) = tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await else {
            return RawOutcome::TimedOut;
        };
        match read {
            Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
            Ok(_) => match head.take() {
                // Closed after a head without a length: the body runs to the close.
                Some((mut answer, start)) if length.is_none() => {
                    answer.body = buf[start..].to_vec();
                    return RawOutcome::Answer(answer);
                }
                _ => return RawOutcome::Closed { bytes: buf.len() },
            },
            Err(_) => return RawOutcome::Closed { bytes: buf.len() },
        }
    }
}

/// The status line and headers of an answer, its body empty.
fn parse_head(head: &[u8]) -> RawAnswer {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    RawAnswer {
        status,
        headers,
        body: Vec::new(),
    }
}

/// Connects to `addr`, writes `request` (a write cut short by the server is not an error: its
/// answer may still be readable) and reads one answer.
pub(crate) async fn raw_exchange(
    addr: std::net::SocketAddr,
    request: &[u8],
    within: std::time::Duration,
) -> RawOutcome {
    use tokio::io::AsyncWriteExt as _;
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = stream.write_all(request).await;
    read_raw_answer(&mut stream, within).await
}

/// A request signed with v5 by the first integration of `info`, as raw bytes: `target` is the
/// path and query exactly as sent, `headers` more header lines (each ending in CRLF).
pub(crate) fn signed_raw(
    info: &mock_server::ServerInfo,
    method: &str,
    target: &str,
    headers: &str,
    body: &[u8],
) -> Vec<u8> {
    signed_raw_by(info, &info.integrations[0], method, target, headers, body)
}

/// [`signed_raw`], signed by `integration`.
pub(crate) fn signed_raw_by(
    info: &mock_server::ServerInfo,
    integration: &mock_server::server::IntegrationInfo,
    method: &str,
    target: &str,
    headers: &str,
    body: &[u8],
) -> Vec<u8> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let date = date_at(now());
    let params = duo_auth::params::parse_urlencoded(query.as_bytes());
    let parts = SignedParts {
        date: &date,
        method,
        host: "127.0.0.1",
        path,
        params: &params,
        body,
        duo_headers: &[],
    };
    let signature = duo_auth::sign(&SigningKey::new(integration.skey.as_bytes()), Scheme::V5, &parts);
    let authorization = duo_auth::authorization_header(&integration.ikey, &signature);
    let length = if body.is_empty() && method == "GET" {
        String::new()
    } else {
        format!("Content-Length: {}\r\n", body.len())
    };
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nDate: {date}\r\nAuthorization: {authorization}\r\n{headers}{length}\r\n",
        info.port
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
