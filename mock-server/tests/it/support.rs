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
    Scenario::parse(text, "<test>").expect("test scenario parses")
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
    let raw = response.text().await.expect("body");
    Answer {
        explain,
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
