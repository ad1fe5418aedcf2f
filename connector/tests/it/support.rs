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

    /// A control API route's JSON answer (`/__duo-mock/ROUTE`).
    async fn control(&self, route: &str) -> Value {
        let info = self.server.info();
        let mut http = reqwest::Client::builder().tls_built_in_root_certs(false);
        if let Some(pem) = self.server.ca_pem() {
            http = http.add_root_certificate(reqwest::Certificate::from_pem(pem.as_bytes()).unwrap());
        }
        let http = http.build().unwrap();
        let answer = http
            .get(format!("{}/{route}", info.control_url))
            .header("X-Duo-Mock-Token", &info.control_token)
            .send()
            .await
            .unwrap();
        answer.json().await.unwrap()
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
