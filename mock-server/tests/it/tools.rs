//! The commands that make scenarios from elsewhere, as processes: `scenario from-bundle`.

use std::process::Command;

use mock_server::Scenario;

use crate::support::root;

fn duo_mock() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_duo-mock"));
    command.current_dir(root());
    command
}

/// A bundle as `duo-connector check --support-bundle` writes it when a WAF answers (fields this
/// version of the fake does not know are ignored).
const WAF_BUNDLE: &str = r#"{
  "schema_version": 1, "tool": "duo-connector", "connector_version": "0.1.0", "command": "check",
  "created_at": "2026-01-01T00:00:00Z", "api_host": "api-12345678.duosecurity.com",
  "transport": "https", "signature": "v5", "proxy": null, "a_later_field": [1, 2],
  "outcome": {"ok": false, "kind": "blocked_by_intermediary", "check_row": "ping",
              "endpoint": "/auth/v2/ping", "http_status": 403, "duo_code": null},
  "duo_codes": [], "clock": {"duo_minus_local_s": 0, "from": "/auth/v2/ping"}, "tls": null,
  "grants": [{"grant": "Grant read resource", "state": "unknown"}],
  "requests": [
    {"method": "GET", "path": "/auth/v2/ping", "signed": false, "status": 403, "server": "BigIP",
     "content_type": "text/html", "body": "html", "html_title": "Request Rejected",
     "latency_ms": 3, "retry": 0, "transport": null},
    {"method": "GET", "path": "/admin/v1/users", "limit": 1, "signed": true, "status": 403,
     "server": "BigIP", "content_type": "text/html", "body": "html",
     "html_title": "Request Rejected", "latency_ms": 2, "retry": 0, "transport": null}
  ]
}"#;

#[test]
fn from_bundle_writes_a_scenario_with_the_same_answer_on_the_same_paths() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.json");
    let out = dir.path().join("case.toml");
    std::fs::write(&bundle, WAF_BUNDLE).unwrap();
    let done = duo_mock()
        .args(["scenario", "from-bundle"])
        .arg(&bundle)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let scenario = Scenario::load(&out).expect("a valid scenario");
    let paths: Vec<&str> = scenario.faults.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["/auth/v2/ping", "/admin/v1/users"]);
    for rule in &scenario.faults {
        // Not a built-in profile: the same status, headers and title, sent as a custom answer.
        assert_eq!(rule.status, Some(403));
        assert_eq!(rule.headers["Server"], "BigIP");
        assert!(
            rule.body
                .as_deref()
                .unwrap()
                .contains("<title>Request Rejected</title>")
        );
    }
    assert!(scenario.options.tls, "Duo's API is HTTPS");
}

#[test]
fn from_bundle_refuses_what_is_not_a_bundle_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("notes.json");
    std::fs::write(&bundle, r#"{"hello": "world"}"#).unwrap();
    let done = duo_mock()
        .args(["scenario", "from-bundle"])
        .arg(&bundle)
        .arg("--out")
        .arg(dir.path().join("case.toml"))
        .output()
        .unwrap();
    assert_eq!(done.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(stderr.contains("not a support bundle"), "{stderr}");
    assert!(!dir.path().join("case.toml").exists(), "nothing written");
}
