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

/// `GET path?query` to `base`, signed (v2, HMAC-SHA1) with `ikey`/`skey` for `host`.
async fn signed_get(
    base: &str,
    host: &str,
    ikey: &str,
    skey: &str,
    path: &str,
    query: &str,
) -> (u16, serde_json::Value) {
    let date = duo_auth::date::format_date(crate::support::now());
    let params = duo_auth::params::parse_urlencoded(query.as_bytes());
    let parts = duo_auth::SignedParts {
        date: &date,
        method: "GET",
        host,
        path,
        params: &params,
        body: b"",
        duo_headers: &[],
    };
    let signature = duo_auth::sign(
        &duo_auth::SigningKey::new(skey.as_bytes()),
        duo_auth::Scheme::V2(duo_auth::Digest::Sha1),
        &parts,
    );
    let answer = reqwest::Client::new()
        .get(format!("{base}{path}?{query}"))
        .header("Date", &date)
        .header("Authorization", duo_auth::authorization_header(ikey, &signature))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or_default())
}

#[tokio::test]
async fn record_verifies_locally_signs_again_and_writes_on_sigterm() {
    use mock_server::{MockServer, StartOptions, TlsMode};
    let upstream_scenario = Scenario::builder()
        .users(5)
        .groups(2)
        .integration_with_keys(
            "upstream",
            "DIUPSTREAMKEY0000001",
            "upstreamSkeyThatStaysInItsVariable00001",
            &[mock_server::grants::Grant::ReadResource],
        )
        .build()
        .unwrap();
    let upstream = MockServer::start(
        &upstream_scenario,
        StartOptions {
            tls: TlsMode::Generate,
            ..StartOptions::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready.json");
    let out = dir.path().join("recorded");
    let mut child = duo_mock()
        .args(["record", "--upstream"])
        .arg(format!("localhost:{}", upstream.info().port))
        .args([
            "--ikey",
            "DIUPSTREAMKEY0000001",
            "--skey-env",
            "UPSTREAM_SKEY",
            "--ca-cert",
        ])
        .arg(upstream.info().ca_cert.as_ref().unwrap())
        .arg("--out")
        .arg(&out)
        .arg("--ready-file")
        .arg(&ready)
        .env("UPSTREAM_SKEY", "upstreamSkeyThatStaysInItsVariable00001")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !ready.exists() {
        assert!(started.elapsed().as_secs() < 30, "no ready file");
        assert!(child.try_wait().unwrap().is_none(), "record exited");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let ready_text = std::fs::read_to_string(&ready).unwrap();
    let info: serde_json::Value = serde_json::from_str(&ready_text).unwrap();
    let base = info["base_url"].as_str().unwrap().to_owned();
    let host = format!("127.0.0.1:{}", info["port"]);
    let ikey = info["integrations"][0]["ikey"].as_str().unwrap().to_owned();
    let skey = info["integrations"][0]["skey"].as_str().unwrap().to_owned();

    // A wrong local signature is refused by the recorder, as the fake refuses it: nothing goes up.
    let (status, body) = signed_get(&base, &host, &ikey, &"x".repeat(40), "/admin/v1/users", "limit=2").await;
    assert_eq!((status, body["code"].as_u64()), (401, Some(40103)), "{body}");
    assert!(
        upstream.state().journal().entries().is_empty(),
        "nothing forwarded"
    );

    let (status, body) = signed_get(&base, &host, &ikey, &skey, "/admin/v1/users", "limit=2").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"].as_array().unwrap().len(), 2);
    let journal = upstream.state().journal().entries();
    assert_eq!(journal.len(), 1);
    assert_eq!(
        journal[0].integration.as_deref(),
        Some("upstream"),
        "signed with the upstream keys"
    );
    let ping = reqwest::get(format!("{base}/auth/v2/ping")).await.unwrap();
    assert_eq!(ping.status(), 200, "unsigned requests go up unsigned");
    // The recorder has the dashboard too: its address (with the token) in the ready file; without
    // the token the dashboard refuses.
    let dashboard = info["dashboard_url"]
        .as_str()
        .expect("dashboard_url in the ready file");
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let with_token = no_redirects.get(dashboard).send().await.unwrap();
    assert_eq!(with_token.status(), 303, "the token is traded for a cookie");
    let without = dashboard.split('?').next().unwrap_or_default();
    let refused = no_redirects.get(without).send().await.unwrap();
    assert_eq!(refused.status(), 403, "{without}");

    nix_kill(&child, "TERM");
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success(), "{:?}", done.status);
    assert!(!ready.exists(), "the ready file is removed");
    let recorded = Scenario::load(&out.join("scenario.toml")).expect("a scenario serve takes");
    assert_eq!(recorded.users.len(), 2, "the two users read, written out");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(
        said.contains("DIREC0RDERL0CALKEY01"),
        "the local keys are shown: {said}"
    );
    assert!(
        said.contains("  dashboard:    http"),
        "the banner shows the dashboard: {said}"
    );
    for text in [
        said,
        ready_text,
        std::fs::read_to_string(out.join("scenario.toml")).unwrap(),
        std::fs::read_to_string(out.join("objects.json")).unwrap(),
    ] {
        assert!(
            !text.contains("upstreamSkeyThatStaysInItsVariable00001"),
            "the upstream skey leaked: {text}"
        );
    }
}

/// Sends a signal to a child by its id (the test's own child only).
fn nix_kill(child: &std::process::Child, signal: &str) {
    let done = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(done.success());
}

#[test]
fn an_objects_file_is_served_byte_for_byte_and_a_bad_one_named() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("s.toml");
    let toml = Scenario::builder()
        .toml(
            "[[users]]\nusername = \"u1\"\nuser_id = \"DU000000000000000001\"\n\n[[groups]]\nname = \"g\"\ngroup_id = \"DG000000000000000001\"\n",
        )
        .to_toml()
        .replace("seed = 1\n", "seed = 1\nobjects_file = \"objects.json\"\n");
    std::fs::write(&scenario, &toml).unwrap();
    let user = r#"{"zeta":1,"user_id":"DU000000000000000001","username":"u1","alpha":null}"#;
    std::fs::write(
        dir.path().join("objects.json"),
        format!(r#"{{"users": {{"DU000000000000000001": {user}}}, "groups": {{"DG000000000000000001": {{"name":"g","group_id":"DG000000000000000001","odd":[1]}}}}}}"#),
    )
    .unwrap();
    let tenant = mock_server::generate::build(&Scenario::load(&scenario).unwrap()).unwrap();
    assert_eq!(
        tenant.users.item(0).unwrap().as_ref(),
        user.as_bytes(),
        "as written, keys in order"
    );
    assert!(String::from_utf8_lossy(&tenant.groups.item(0).unwrap()).contains("\"odd\":[1]"));

    std::fs::write(
        dir.path().join("objects.json"),
        r#"{"users": {"DU000000000000000001": [1]}}"#,
    )
    .unwrap();
    let error = mock_server::generate::build(&Scenario::load(&scenario).unwrap()).unwrap_err();
    assert!(error.to_string().contains("objects.json"), "{error}");
    assert!(error.to_string().contains("not a JSON object"), "{error}");
}
