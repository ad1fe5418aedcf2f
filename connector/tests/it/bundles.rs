//! Support bundles, end to end, for every row of the failure catalogue a connector can observe:
//! the fake fails the connector, the connector writes a bundle, `scenario from-bundle` turns the
//! bundle into a scenario, and the connector fails against that scenario exactly as before (the
//! same kind, status and Duo code, and the same answers request by request). Every bundle is
//! scanned for the secret key and for the tenant's names, e-mails, phone numbers and ids.

use std::path::Path;
use std::process::Output;

use mock_server::Scenario;
use serde_json::Value;

use crate::support::{Fake, root, spawn};

/// One reproduction: the catalogue scenario (or a variant), the command and its extra flags.
struct Case {
    /// `scenarios/catalogue/<name>.toml`.
    name: &'static str,
    /// Text replaced in the file, to fit the connector's page size (`calls = [2, 2]` → `[1, 1]`).
    edit: Option<(&'static str, &'static str)>,
    /// `sync` or `check`.
    command: &'static str,
    /// Whether the connector goes through the fake's proxy.
    proxy: bool,
    /// Whether the answers must match request by request (not where the tenant changes under
    /// the connector, which the reproduction does not replay).
    same_requests: bool,
}

const fn sync(name: &'static str) -> Case {
    Case {
        name,
        edit: None,
        command: "sync",
        proxy: false,
        same_requests: true,
    }
}

/// What one run of the connector left: exit code, error document, bundle.
struct Run {
    code: Option<i32>,
    error: Value,
    bundle: Value,
    bundle_text: String,
}

async fn run_connector(fake: &Fake, case: &Case, dir: &Path, tag: &str) -> Run {
    let output = dir.join(format!("{tag}-out.json"));
    let bundle = dir.join(format!("{tag}-bundle.json"));
    let mut command = fake.connector(None);
    command
        .arg(case.command)
        .arg("--quick-retries")
        .arg("--support-bundle")
        .arg(&bundle)
        .env("DUO_OUTPUT", &output);
    if case.proxy {
        command.arg("--proxy").arg(
            fake.server
                .info()
                .proxy_url
                .clone()
                .expect("the scenario has a proxy"),
        );
    }
    let out: Output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let bundle_text = std::fs::read_to_string(&bundle)
        .unwrap_or_else(|e| panic!("{tag}: no bundle ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    let error = std::fs::read(&output)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .map(|doc| doc["error"].clone())
        .unwrap_or(Value::Null);
    Run {
        code: out.status.code(),
        error,
        bundle: serde_json::from_str(&bundle_text).unwrap(),
        bundle_text,
    }
}

/// The tenant as served, read in process (a fake with a faulty certificate cannot be asked).
fn dump_of(fake: &Fake) -> Value {
    let world = fake.server.state().world();
    let integrations = mock_server::server::IntegrationInfo::of(&world.scenario);
    let mut out = Vec::new();
    mock_server::dump::write_dump(&world.tenant, &integrations, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

/// The strings of `dump` no bundle may hold: every user's username, full name, e-mail, phone
/// numbers, aliases and id; every group's name and id; every admin's name, e-mail and phone.
pub(crate) fn tenant_strings(dump: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut take = |value: &Value| {
        if let Some(text) = value.as_str().filter(|t| t.len() >= 4) {
            found.push(text.to_owned());
        }
    };
    for user in dump["users"].as_array().unwrap() {
        for key in ["username", "realname", "email", "user_id", "alias1", "alias2"] {
            take(&user[key]);
        }
        for phone in user["phones"].as_array().into_iter().flatten() {
            take(&phone["number"]);
        }
    }
    for group in dump["groups"].as_array().unwrap() {
        take(&group["name"]);
        take(&group["group_id"]);
    }
    for admin in dump["admins"].as_array().unwrap() {
        for key in ["name", "email", "phone", "admin_id"] {
            take(&admin[key]);
        }
    }
    found
}

fn assert_private(text: &str, skey: &str, tenant: &[String], what: &str) {
    assert!(!text.contains(skey), "{what}: the secret key is in it");
    for value in tenant {
        assert!(!text.contains(value.as_str()), "{what}: {value:?} is in it");
    }
}

/// The answers, request by request: path, status, Duo code, body shape, transport failure.
fn answers(bundle: &Value) -> Vec<String> {
    let mut rows: Vec<String> = bundle["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {} {}",
                r["path"], r["status"], r["duo_code"], r["body"], r["transport"]["failure"]
            )
        })
        .collect();
    // Member lists are read four at a time: their order is the network's.
    rows.sort();
    rows
}

/// fake → connector with `--support-bundle` → `from-bundle` → connector: the same failure.
async fn reproduces(case: &Case) {
    let name = case.name;
    let path = root().join(format!("scenarios/catalogue/{name}.toml"));
    let mut text = std::fs::read_to_string(&path).unwrap();
    if let Some((from, to)) = case.edit {
        assert!(text.contains(from), "{name}: {from}");
        text = text.replace(from, to);
    }
    let fake = spawn(&Scenario::parse(&text, name).unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let first = run_connector(&fake, case, dir.path(), "first").await;
    let tenant = tenant_strings(&dump_of(&fake));
    assert_private(&first.bundle_text, &fake.skey(), &tenant, name);

    let reproduced = mock_server::bundle::scenario_from_bundle(&first.bundle_text, "bundle.json")
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let scenario = Scenario::parse(&reproduced, "reproduced.toml").unwrap();
    let again = spawn(&scenario).await;
    let second = run_connector(&again, case, dir.path(), "second").await;

    let context = format!(
        "{name}:\nscenario:\n{reproduced}\nfirst bundle: {}",
        first.bundle_text
    );
    assert_eq!(first.code, second.code, "{context}");
    for field in ["kind", "http_status", "duo_code", "endpoint"] {
        assert_eq!(first.error[field], second.error[field], "{field} of {context}");
    }
    for field in ["ok", "kind", "check_row", "endpoint", "http_status", "duo_code"] {
        assert_eq!(
            first.bundle["outcome"][field], second.bundle["outcome"][field],
            "outcome {field} of {context}"
        );
    }
    if let Some(offset) = first.error["clock_offset_s"].as_i64() {
        let again = second.error["clock_offset_s"].as_i64().unwrap();
        assert!((offset - again).abs() <= 2, "{offset} vs {again}: {context}");
    }
    if case.command == "check" {
        assert_eq!(first.bundle["check"], second.bundle["check"], "{context}");
        assert_eq!(first.bundle["grants"], second.bundle["grants"], "{context}");
    }
    if case.same_requests {
        assert_eq!(answers(&first.bundle), answers(&second.bundle), "{context}");
    }
}

async fn all(cases: &[Case]) {
    for case in cases {
        reproduces(case).await;
    }
}

#[tokio::test]
async fn d01_d08_keys_of_another_type_or_no_admin_api() {
    all(&[
        sync("d01-auth-api-keys"),
        Case {
            command: "check",
            ..sync("d01-auth-api-keys")
        },
        sync("d08-no-admin-api"),
    ])
    .await;
}

#[tokio::test]
async fn d02_d04_a_wrong_key_or_a_date_changed_on_the_way() {
    all(&[
        sync("d02-wrong-secret-key"),
        sync("d04-date-header-rewritten"),
        sync("d04-date-header-stripped"),
    ])
    .await;
}

#[tokio::test]
async fn d03_clock_skew_both_ways() {
    all(&[
        sync("d03-clock-skew-server-ahead"),
        sync("d03-clock-skew-server-behind"),
    ])
    .await;
}

#[tokio::test]
async fn d05_d12_certificates() {
    all(&[
        sync("d05-wrong-host-certificate"),
        sync("d12-expired-certificate"),
        sync("d12-tls-inspection-foreign-ca"),
        Case {
            command: "check",
            ..sync("d12-expired-certificate")
        },
    ])
    .await;
}

#[tokio::test]
async fn d06_d07_missing_grants_and_networks() {
    all(&[
        sync("d06-missing-grant-administrators"),
        sync("d06-missing-grant-read-resource"),
        Case {
            command: "check",
            ..sync("d06-missing-grant-administrators")
        },
        sync("d07-networks-for-api-access"),
    ])
    .await;
}

#[tokio::test]
async fn d09_rate_limits_recovered_and_persistent() {
    all(&[sync("d09-rate-limit-burst"), sync("d09-rate-limit-persistent")]).await;
}

#[tokio::test]
async fn d10_intermediaries() {
    all(&[
        sync("d10-waf-cloudflare-403"),
        sync("d10-waf-akamai-403"),
        sync("d10-proxy-407"),
        sync("d10-gateway-502"),
        sync("d10-gateway-504"),
        sync("d10-block-page-200"),
        sync("d10-empty-200"),
        Case {
            command: "check",
            ..sync("d10-waf-cloudflare-403")
        },
    ])
    .await;
}

#[tokio::test]
async fn d11_proxies_refusing_the_tunnel() {
    all(&[
        Case {
            proxy: true,
            ..sync("d11-proxy-needs-credentials")
        },
        Case {
            proxy: true,
            ..sync("d11-proxy-blocks-destination")
        },
    ])
    .await;
}

#[tokio::test]
async fn d13_d14_a_changing_tenant_and_drift_end_as_they_did() {
    all(&[
        Case {
            same_requests: false,
            ..sync("d13-churn-during-paging")
        },
        Case {
            same_requests: false,
            ..sync("d13-short-pages")
        },
        sync("d14-response-drift"),
    ])
    .await;
}

#[tokio::test]
async fn d15_server_errors_cuts_and_timeouts() {
    all(&[
        Case {
            edit: Some(("calls = [2, 2]", "calls = [1, 1]")),
            ..sync("d15-server-error-500")
        },
        sync("d15-service-unavailable-503"),
        Case {
            edit: Some(("calls = [2, 2]", "calls = [1, 1]")),
            ..sync("d15-connection-reset")
        },
        sync("d15-closed-before-answer"),
        sync("d15-closed-mid-body"),
        sync("d15-slow-answer"),
        sync("d15-trickled-answer"),
    ])
    .await;
}

#[tokio::test]
async fn d16_unparseable_answers() {
    all(&[
        sync("d16-invalid-json"),
        sync("d16-stat-not-ok"),
        sync("d16-missing-response"),
        sync("d16-truncated"),
    ])
    .await;
}
