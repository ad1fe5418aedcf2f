//! `duo-connector` as the conformance kit runs it: environment in, `DUO_OUTPUT` and exit code out.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{Fake, assert_equals_dump, assert_exit, scenario, spawn, spawn_plain_http};

/// Runs the binary with `args` and the contract's environment for `fake`'s integration `name`.
async fn run(fake: &Fake, integration: Option<&str>, args: &[&str], output: &Path) -> Output {
    let mut command = fake.connector(integration);
    command.args(args).env("DUO_OUTPUT", output);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test]
async fn sync_with_no_flags_writes_the_snapshot_and_exits_0() {
    let fake = spawn(&scenario("default.toml")).await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("snapshot.json");
    let out = run(&fake, None, &["sync"], &output).await;
    assert_exit(&out, 0);
    let document = read_json(&output);
    assert_eq!(document["schema_version"], 1);
    assert_eq!(document["api_host"], fake.api_host());
    let synced_at = document["synced_at"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(synced_at).is_ok(), "{synced_at}");
    let snapshot = duo_connector::Snapshot::read(&output).unwrap();
    assert_equals_dump(&snapshot, &fake.dump().await);
}

#[tokio::test]
async fn a_failure_exits_1_with_the_error_document_and_never_prints_the_skey() {
    let fake = spawn(&scenario("catalogue/d02-wrong-secret-key.toml")).await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.json");
    let out = run(&fake, None, &["sync", "-vv"], &output).await;
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&output).unwrap();
    let error = &read_json(&output)["error"];
    assert_eq!(error["kind"], "invalid_signature");
    assert_eq!(error["http_status"], 401);
    assert_eq!(error["duo_code"], 40103);
    assert_eq!(error["endpoint"], "/admin/v1/users");
    assert!(error["clock_offset_s"].is_null());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid_signature"), "{stderr}");
    let skey = fake.skey();
    for shown in [
        &text,
        &stderr.to_string(),
        &String::from_utf8_lossy(&out.stdout).to_string(),
    ] {
        assert!(!shown.contains(&skey), "the skey leaked: {shown}");
    }
}

#[tokio::test]
async fn clock_skew_writes_its_offset() {
    let fake = spawn(&scenario("catalogue/d03-clock-skew-server-ahead.toml")).await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.json");
    let out = run(&fake, None, &["sync"], &output).await;
    assert_eq!(out.status.code(), Some(1));
    let error = &read_json(&output)["error"];
    assert_eq!(error["kind"], "clock_skew");
    assert!(error["clock_offset_s"].as_i64().unwrap() >= 300, "{error}");
}

#[tokio::test]
async fn missing_credentials_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_duo-connector"))
        .arg("sync")
        .env_clear()
        .env("DUO_API_HOST", "localhost:1")
        .env("DUO_OUTPUT", dir.path().join("out.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DUO_IKEY"));
}

#[tokio::test]
async fn check_names_the_missing_grant_and_where_to_turn_it_on() {
    let fake = spawn(&scenario("default.toml")).await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("unused.json");
    let out = run(&fake, Some("access-review"), &["check"], &output).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for line in [
        "✔ dns",
        "✔ tls",
        "✔ credentials",
        "\"Grant read resource\" is on",
        "\"Grant administrators\" is on",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    let out = run(&fake, Some("no-admins"), &["check"], &output).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let missing = text.lines().find(|l| l.starts_with('✖')).expect("a failed line");
    assert!(
        missing.contains("\"Grant administrators\" is missing"),
        "{missing}"
    );
    assert!(missing.contains("Duo Admin Panel"), "{missing}");
}

#[tokio::test]
async fn a_fake_served_over_plain_http_is_named_by_check_and_sync_without_plain_http() {
    let fake = spawn_plain_http(&scenario("default.toml")).await;
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.json");
    let out = run(&fake, None, &["check"], &output).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let tls = text.lines().find(|l| l.contains(" tls ")).expect("a tls row");
    assert!(
        tls.starts_with("✖ tls          tls: ")
            && tls.contains("answered plain HTTP: use --plain-http or https"),
        "{tls}"
    );
    assert!(!text.contains("blocked_by_intermediary"), "{text}");

    let out = run(&fake, None, &["sync"], &output).await;
    assert_eq!(out.status.code(), Some(1));
    let error = &read_json(&output)["error"];
    assert_eq!(error["kind"], "tls", "{error}");
    assert!(error["http_status"].is_null(), "{error}");

    let out = run(&fake, None, &["check", "--plain-http"], &output).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("✔ tls          plain HTTP (local use only)"),
        "{text}"
    );
}

#[tokio::test]
async fn sync_records_runs_in_sqlite_and_review_and_diff_read_snapshots() {
    let fake = spawn(&scenario("default.toml")).await;
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.json");
    let database = dir.path().join("runs.sqlite");
    let database_arg = database.to_str().unwrap();
    let out = run(&fake, None, &["sync", "--sqlite", database_arg], &first).await;
    assert_exit(&out, 0);
    let store = duo_connector::sqlite::SnapshotStore::open(&database).unwrap();
    assert_eq!(store.runs().unwrap().len(), 1);

    let review = Command::new(env!("CARGO_BIN_EXE_duo-connector"))
        .args(["review", first.to_str().unwrap(), "--format", "markdown"])
        .output()
        .unwrap();
    assert_eq!(review.status.code(), Some(0));
    let text = String::from_utf8_lossy(&review.stdout);
    assert!(text.contains("Olivia Owner") || text.contains("Owner"), "{text}");

    let diff = Command::new(env!("CARGO_BIN_EXE_duo-connector"))
        .args([
            "diff",
            first.to_str().unwrap(),
            first.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_exit(&diff, 0);
}
