//! `duo-mock probe` against a fake playing "a Duo we have not seen": started with options that
//! are not the defaults and a fault rule, it must find each of them; its scenario must answer
//! the battery as the probed fake did; its files must hold no key and nothing of the tenant.

use std::path::Path;
use std::process::Command;

use mock_server::probe::{self, ProbeReport};
use mock_server::{MockServer, Scenario, StartOptions, TlsMode};
use serde_json::{Value, json};

use crate::support::root;

/// A tenant whose every option a request can reveal is off its default.
const UNSEEN_DUO: &str = r#"
[tenant]
api_hostname = "api-unseen00.duosecurity.com"
seed = 77
name = "Unseen Corp"

[generate]
users = 120
admins = 4
groups = 14
groups_per_user = [1, 3]

[[integrations]]
name = "prober"
ikey = "DIUNSEEN0PR0BE000001"
skey = "unseenDuoSecretKeyNeverInAFile000000001X"
grants = ["Grant read resource", "Grant administrators", "Grant read information"]

[options]
metadata = "always-with-nulls"
zero_limit = "reject"
group_status_case = "capitalized"
group_voice_enabled = false
user_enable_auto_prompt = false
group_v1_users = false
accept_v1 = true
accept_v4 = true
signature_window_s = 120
clock_offset_s = 45
explain = true

[options.max_limit]
users = 50
admins = 3
groups = 10
group_users = 20
user_groups = 2

[options.limits]
header_read_timeout_ms = 2000

# This Duo checks credentials before it routes: an unknown path is 401 40101.
[[faults]]
path = "/admin/v1/no-such-endpoint"
duo_error = 40101
message = "Missing request credentials"
"#;

async fn start(scenario: &Scenario) -> MockServer {
    let options = StartOptions {
        tls: TlsMode::Generate,
        ..StartOptions::default()
    };
    MockServer::start(scenario, options).await.expect("fake starts")
}

/// Runs `duo-mock probe` against `server` with its first integration's keys; the report.
async fn run_probe(server: &MockServer, out: &Path, extra: &[&str]) -> (ProbeReport, String) {
    let info = server.info();
    let integration = &info.integrations[0];
    let mut command = Command::new(env!("CARGO_BIN_EXE_duo-mock"));
    command
        .current_dir(root())
        .args(["probe", "--host"])
        .arg(format!("localhost:{}", info.port))
        .arg("--ikey")
        .arg(&integration.ikey)
        .args(["--skey-env", "PROBE_SKEY", "--ca-cert"])
        .arg(info.ca_cert.as_ref().expect("a CA"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("PROBE_SKEY", &integration.skey);
    if !extra.contains(&"--idle-wait-s") {
        command.args(["--idle-wait-s", "8"]);
    }
    let done = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr).into_owned();
    assert!(done.status.success(), "{stderr}");
    (probe::read(out).expect("probe.json"), stderr)
}

fn value(report: &ProbeReport, id: &str) -> Value {
    let finding = report.finding(id).unwrap_or_else(|| panic!("no row {id}"));
    assert!(!finding.value.is_null(), "{id} not told: {:?}", finding.reason);
    finding.value.clone()
}

/// Names, e-mails, phone numbers and ids of the tenant, and its secret key: none may be in a
/// file the tools write. Group names are looked for as quoted strings (one is also a word of
/// an administrator role's name).
fn assert_nothing_of_the_tenant(server: &MockServer, skey: &str, files: &[&Path]) {
    let world = server.state().world();
    let integrations = mock_server::server::IntegrationInfo::of(&world.scenario);
    let mut dump = Vec::new();
    mock_server::dump::write_dump(&world.tenant, &integrations, &mut dump).unwrap();
    let dump: Value = serde_json::from_slice(&dump).unwrap();
    let mut words = vec![skey.to_owned(), world.scenario.tenant.name.clone()];
    let mut quoted = Vec::new();
    for user in dump["users"].as_array().unwrap() {
        for key in ["username", "realname", "email", "user_id"] {
            words.extend(user[key].as_str().map(str::to_owned));
        }
        for phone in user["phones"].as_array().unwrap() {
            words.extend(
                phone["number"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    for group in dump["groups"].as_array().unwrap() {
        quoted.extend(group["name"].as_str().map(|n| format!("{n:?}")));
        words.extend(group["group_id"].as_str().map(str::to_owned));
    }
    for admin in dump["admins"].as_array().unwrap() {
        for key in ["name", "email", "phone", "admin_id"] {
            words.extend(admin[key].as_str().filter(|n| n.len() > 3).map(str::to_owned));
        }
    }
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        for word in words.iter().chain(&quoted) {
            assert!(
                !text.contains(word.as_str()),
                "{}: holds {word:?}",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn probe_finds_what_a_duo_it_has_not_seen_does_and_its_scenario_answers_alike() {
    let scenario = Scenario::parse(UNSEEN_DUO, "unseen").unwrap();
    let unseen = start(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (report, stderr) = run_probe(&unseen, dir.path(), &["--pace-ms", "0"]).await;
    assert!(stderr.contains("probed"), "{stderr}");

    for (id, expected) in [
        ("tls", json!(true)),
        ("metadata", json!("always-with-nulls")),
        ("zero_limit", json!("reject")),
        ("group_status_case", json!("capitalized")),
        ("group_voice_enabled", json!(false)),
        ("user_enable_auto_prompt", json!(false)),
        ("group_v1_users", json!(false)),
        ("accept_v1", json!(true)),
        ("accept_v4", json!(true)),
        ("explain", json!(true)),
        ("max_limit_users", json!(50)),
        ("max_limit_admins", json!(3)),
        ("max_limit_groups", json!(10)),
        ("max_limit_group_users", json!(20)),
        ("max_limit_user_groups", json!(2)),
        ("users_total", json!(120)),
        ("admins_total", json!(4)),
        ("groups_total", json!(14)),
        ("grant_read_information", json!("on")),
        ("grant_settings", json!("off")),
    ] {
        assert_eq!(value(&report, id), expected, "{id}");
    }
    for (id, expected, within) in [
        ("clock_offset_s", 45.0, 2.0),
        ("signature_window_s", 120.0, 30.0),
        ("idle_keepalive_s", 2.0, 1.0),
    ] {
        let seen = value(&report, id).as_f64().unwrap();
        assert!((seen - expected).abs() <= within, "{id}: {seen}");
    }
    // Not an option: what this Duo answers to an unknown path, reported as seen.
    assert_eq!(value(&report, "routing_unknown_path")["code"], 40101);
    assert!(report.requests_sent <= probe::DEFAULT_MAX_REQUESTS);

    // The scenario it wrote, served: the same battery gets the same answers.
    let scenario_path = dir.path().join("scenario.toml");
    let probed = Scenario::load(&scenario_path).expect("the probe's scenario loads");
    assert_eq!(probed.generate.users, 120);
    let replica = start(&probed).await;
    let again_dir = tempfile::tempdir().unwrap();
    let (again, _) = run_probe(&replica, again_dir.path(), &["--pace-ms", "0"]).await;
    for finding in &report.behaviours {
        // A member-count sample of another tenant, and an answer no option makes.
        if ["group_sizes", "routing_unknown_path"].contains(&finding.id.as_str()) {
            continue;
        }
        let other = again.finding(&finding.id).unwrap();
        assert!(
            probe::agrees(&finding.value, &other.value, finding.tolerance),
            "{}: probed {} and its scenario {}",
            finding.id,
            finding.value,
            other.value
        );
    }

    let skey = &unseen.info().integrations[0].skey;
    assert_nothing_of_the_tenant(&unseen, skey, &[&dir.path().join("probe.json"), &scenario_path]);
}

#[tokio::test]
async fn probe_keeps_to_its_budget_and_pace_and_stops_at_the_first_429() {
    let scenario = Scenario::parse(
        &UNSEEN_DUO.replace(
            "# This Duo checks",
            "[[faults]]\npath = \"/admin/v1/groups\"\nduo_error = 42901\n\n# This Duo checks",
        ),
        "limited",
    )
    .unwrap();
    let limited = start(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = run_probe(&limited, dir.path(), &["--max-requests", "30", "--pace-ms", "50"]).await;
    let stopped = report.stopped.as_deref().expect("stopped by the 429");
    assert!(stopped.contains("429"), "{stopped}");
    let journal = limited.state().journal().entries_after(0);
    assert_eq!(journal.len(), report.requests_sent, "requests counted as sent");
    assert!(journal.iter().all(|e| e.method == "GET"), "GETs only");
    let after = report.finding("zero_limit").unwrap();
    assert!(after.value.is_null());
    assert!(after.reason.as_deref().unwrap().contains("429"), "{after:?}");
    // Paced: one request every 50 ms at most.
    let sent = report.requests_sent as f64;
    assert!(report.duration_s >= (sent - 2.0) * 0.05, "{report:?}");

    let small = start(&Scenario::parse(UNSEEN_DUO, "small").unwrap()).await;
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = run_probe(&small, dir.path(), &["--max-requests", "8", "--pace-ms", "0"]).await;
    assert_eq!(report.requests_sent, 8);
    assert_eq!(small.state().journal().entries_after(0).len(), 8);
    let reason = report.finding("zero_limit").unwrap().reason.clone().unwrap();
    assert!(reason.contains("--max-requests 8"), "{reason}");
}

#[test]
fn compare_prints_row_by_row_where_a_probe_differs_from_the_fake() {
    let dir = tempfile::tempdir().unwrap();
    let report = json!({
        "schema_version": 1, "tool": "duo-mock probe", "probed_at": "2026-01-01T00:00:00Z",
        "requests_sent": 3, "max_requests": 60, "pace_ms": 600, "duration_s": 2.0, "stopped": null,
        "tenant": {"users_sampled": 0, "user_status": {}, "shares": {}, "group_sizes": [], "admin_roles": {}},
        "behaviours": [
            {"id": "metadata", "option": "options.metadata", "value": "always", "note": null, "reason": null,
             "fake_default": "omit-on-single-page", "tolerance": 0, "requests": []},
            {"id": "zero_limit", "option": "options.zero_limit", "value": "default", "note": null, "reason": null,
             "fake_default": "default", "tolerance": 0, "requests": []},
            {"id": "max_limit_users", "option": "options.max_limit.users", "value": null, "note": null,
             "reason": "the tenant has 12 users", "fake_default": 300, "tolerance": 0, "requests": []}
        ]
    });
    std::fs::write(dir.path().join("probe.json"), report.to_string()).unwrap();
    let done = Command::new(env!("CARGO_BIN_EXE_duo-mock"))
        .args(["probe", "--compare"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(done.status.success());
    let text = String::from_utf8_lossy(&done.stdout);
    let row = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(row("metadata").ends_with("DIFFERS"), "{text}");
    assert!(row("zero_limit").ends_with("same"), "{text}");
    assert!(
        row("max_limit_users").contains("the tenant has 12 users"),
        "{text}"
    );
    assert!(text.contains("1 behaviour(s) differ"), "{text}");
    assert!(text.contains("probe.json"), "{text}");
}

#[tokio::test]
async fn against_a_fake_with_the_default_options_every_row_finds_the_fake_default() {
    // The battery's defaults are data; this keeps them true of the fake. A small tenant keeps
    // the largest pages unseen (their rows say why) and the idle wait is cut short.
    let scenario = Scenario::builder().users(12).admins(2).groups(3).build().unwrap();
    let fake = start(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (report, _) = run_probe(&fake, dir.path(), &["--pace-ms", "0", "--idle-wait-s", "1"]).await;
    let mut compared = 0;
    for finding in &report.behaviours {
        if finding.value.is_null() || finding.fake_default.is_null() {
            continue;
        }
        compared += 1;
        assert!(
            probe::agrees(&finding.value, &finding.fake_default, finding.tolerance),
            "{}: the fake answers {} where the battery says its default is {}",
            finding.id,
            finding.value,
            finding.fake_default
        );
    }
    assert!(compared >= 20, "{compared} rows compared");
}
