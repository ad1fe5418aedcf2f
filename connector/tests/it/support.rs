//! The harness: a fake with TLS on port 0 from a bundled scenario, a connector configured for it
//! the way the conformance kit configures one, and the fake's ground truth to compare with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use duo_connector::client::Client;
use duo_connector::config::{Config, SecretKey};
use duo_connector::retry::RetryPolicy;
use duo_connector::sync::SyncOptions;
use duo_connector::{Error, ErrorKind, Failure, Snapshot};
use mock_server::{MockServer, Scenario, StartOptions, TlsMode};
use serde_json::Value;

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Loads `scenarios/<name>`.
pub(crate) fn scenario(name: &str) -> Scenario {
    Scenario::load(&root().join("scenarios").join(name)).expect("bundled scenario loads")
}

/// A running fake (HTTPS with a generated CA).
pub(crate) struct Fake {
    pub(crate) server: MockServer,
}

/// Starts `scenario` with TLS on 127.0.0.1:0.
pub(crate) async fn spawn(scenario: &Scenario) -> Fake {
    spawn_with(scenario, TlsMode::Generate).await
}

/// Starts `scenario` over plain HTTP on 127.0.0.1:0, as `duo-mock serve` does without `--tls`.
pub(crate) async fn spawn_plain_http(scenario: &Scenario) -> Fake {
    spawn_with(scenario, TlsMode::Off).await
}

async fn spawn_with(scenario: &Scenario, tls: TlsMode) -> Fake {
    let options = StartOptions {
        tls,
        ..StartOptions::default()
    };
    let server = MockServer::start(scenario, options).await.expect("fake starts");
    Fake { server }
}

/// `scenarios/<name>` with `extra` TOML appended (a fault rule, say).
pub(crate) fn scenario_with(name: &str, extra: &str) -> Scenario {
    let path = root().join("scenarios").join(name);
    let text = std::fs::read_to_string(&path).expect("bundled scenario reads");
    Scenario::parse(&format!("{text}\n{extra}"), name).expect("scenario with the extra TOML parses")
}

impl Fake {
    /// `localhost:PORT`, as the kit hands it.
    pub(crate) fn api_host(&self) -> String {
        format!("localhost:{}", self.server.info().port)
    }

    /// The generated CA's PEM file (none over plain HTTP).
    pub(crate) fn ca_path(&self) -> Option<PathBuf> {
        self.server.info().ca_cert.clone()
    }

    /// The first integration's keys (the scenario's own), with quick retries.
    pub(crate) fn config(&self) -> Config {
        let first = self
            .server
            .info()
            .integrations
            .first()
            .expect("an integration")
            .name
            .clone();
        self.config_for(&first)
    }

    /// The keys of the integration named `name`.
    pub(crate) fn config_for(&self, name: &str) -> Config {
        let integration = self.server.info().integration(name).expect("integration exists");
        let mut config = Config::new(
            &self.api_host(),
            &integration.ikey,
            SecretKey::new(integration.skey.clone()),
        )
        .unwrap();
        config.ca_cert = self.ca_path();
        config.retry = RetryPolicy::quick();
        config
    }

    /// The skey of the first integration, to look for in outputs.
    pub(crate) fn skey(&self) -> String {
        self.server.info().integrations[0].skey.clone()
    }

    /// A client that trusts the fake's CA only (plain HTTP when it has none).
    fn http(&self) -> reqwest::Client {
        let mut http = reqwest::Client::builder().tls_built_in_root_certs(false);
        if let Some(pem) = self.server.ca_pem() {
            http = http.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
        }
        http.build().unwrap()
    }

    /// A control API route's JSON answer (`/__duo-mock/ROUTE`).
    async fn control(&self, route: &str) -> Value {
        self.control_send(reqwest::Method::GET, route, "").await
    }

    /// A control API request with `body`; its JSON answer, which must be a success.
    pub(crate) async fn control_send(&self, method: reqwest::Method, route: &str, body: &str) -> Value {
        let info = self.server.info();
        let answer = self
            .http()
            .request(method, format!("{}/{route}", info.control_url))
            .header("X-Duo-Mock-Token", &info.control_token)
            .body(body.to_owned())
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let json: Value = answer.json().await.unwrap();
        assert!(status.is_success(), "{route}: {status} {json}");
        json
    }

    /// Serves the scenario `toml` from now on (`POST /__duo-mock/load`).
    pub(crate) async fn load(&self, toml: &str) {
        self.control_send(reqwest::Method::POST, "load", toml).await;
    }

    /// Moves the fake's clock `offset_s` seconds ahead of this machine's (`PUT /__duo-mock/clock`).
    pub(crate) async fn set_clock(&self, offset_s: i64) {
        let body = format!(r#"{{"offset_s":{offset_s}}}"#);
        self.control_send(reqwest::Method::PUT, "clock", &body).await;
    }

    /// A write to the Admin API as Duo's clients send it: signed (v2, HMAC-SHA512) with the first
    /// integration's keys, parameters in a form body, the `Date` `clock_offset_s` from now. The
    /// answer's `response`; the write must succeed.
    pub(crate) async fn write(
        &self,
        method: &str,
        path: &str,
        params: &[(&str, &str)],
        clock_offset_s: i64,
    ) -> Value {
        let integration = &self.server.info().integrations[0];
        let date = duo_auth::date::format_date(unix_now() + clock_offset_s);
        let decoded: Vec<duo_auth::Param> = params
            .iter()
            .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
            .collect();
        let host = self.api_host();
        let parts = duo_auth::SignedParts {
            date: &date,
            method,
            host: &host,
            path,
            params: &decoded,
            body: b"",
            duo_headers: &[],
        };
        let key = duo_auth::SigningKey::new(integration.skey.as_bytes());
        let signature = duo_auth::sign(&key, duo_auth::Scheme::V2(duo_auth::Digest::Sha512), &parts);
        let form = duo_auth::params::canon_params(&decoded);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let answer = self
            .http()
            .request(method, format!("{}{path}", self.server.base_url()))
            .header("Date", &date)
            .header(
                "Authorization",
                duo_auth::authorization_header(&integration.ikey, &signature),
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        let json: Value = answer.json().await.unwrap();
        assert_eq!(json["stat"], "OK", "{path}: {json}");
        json["response"].clone()
    }

    /// `duo-connector` with the contract's environment for the integration `name` (the first when
    /// `None`), and nothing else from this process's environment.
    pub(crate) fn connector(&self, integration: Option<&str>) -> std::process::Command {
        let info = self.server.info();
        let integration = match integration {
            Some(name) => info.integration(name).unwrap().clone(),
            None => info.integrations[0].clone(),
        };
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_duo-connector"));
        command
            .env_clear()
            .env("DUO_API_HOST", self.api_host())
            .env("DUO_IKEY", &integration.ikey)
            .env("DUO_SKEY", &integration.skey);
        if let Some(ca) = self.ca_path() {
            command.env("DUO_CA_CERT", ca);
        }
        command
    }

    /// The tenant as served now.
    pub(crate) async fn dump(&self) -> Value {
        self.control("dump").await
    }

    /// The API requests the fake saw, as `(path, query, status)`.
    pub(crate) async fn journal(&self) -> Vec<(String, String, u16)> {
        let journal = self.control("journal?after=0").await;
        journal["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["path"].as_str().unwrap().to_owned(),
                    e["query"].as_str().unwrap().to_owned(),
                    e["status"].as_u64().unwrap() as u16,
                )
            })
            .collect()
    }
}

/// Asserts a process exited with `code`, showing its stderr when not.
pub(crate) fn assert_exit(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn unix_now() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since_epoch.as_secs()).unwrap()
}

/// Syncs with `config`.
pub(crate) async fn sync(config: &Config) -> Result<Snapshot, Error> {
    let client = Client::new(config)?;
    duo_connector::sync::sync(&client, &SyncOptions::default()).await
}

/// The failure of a sync that must fail.
pub(crate) fn failure(result: Result<Snapshot, Error>) -> Failure {
    match result {
        Ok(snapshot) => panic!("the sync succeeded with {} users", snapshot.users.len()),
        Err(Error::Failed(failure)) => *failure,
        Err(other) => panic!("not a classified failure: {other}"),
    }
}

/// Asserts a sync failed with `kind`, and returns the failure.
pub(crate) fn expect_kind(result: Result<Snapshot, Error>, kind: ErrorKind) -> Failure {
    let failure = failure(result);
    assert_eq!(failure.kind, kind, "{}", failure.message);
    failure
}

/// Asserts the snapshot holds exactly the dump's objects (field by field, in order) and members.
pub(crate) fn assert_equals_dump(snapshot: &Snapshot, dump: &Value) {
    for (name, list) in [
        ("users", &snapshot.users),
        ("admins", &snapshot.admins),
        ("groups", &snapshot.groups),
    ] {
        let ours: Vec<Value> = list
            .iter()
            .map(|raw| serde_json::from_str(raw.get()).unwrap())
            .collect();
        let truth = dump[name].as_array().unwrap();
        assert_eq!(ours.len(), truth.len(), "{name}: count");
        for (i, (a, b)) in ours.iter().zip(truth).enumerate() {
            assert_eq!(a, b, "{name}[{i}] differs");
        }
    }
    let truth: BTreeMap<String, Vec<String>> = dump["group_members"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(group, members)| {
            let ids = members
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["user_id"].as_str().unwrap().to_owned())
                .collect();
            (group.clone(), ids)
        })
        .collect();
    assert_eq!(snapshot.group_members, truth, "group_members");
}
