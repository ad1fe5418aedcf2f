//! The log endpoints and info reports over HTTP: grants, shapes, each log endpoint's own
//! rate-limit budget, fault rules and the journal on log routes, the control API's and the CLI's
//! dump of a window, and events that keep naming users churn deleted.

use std::collections::HashSet;

use mock_server::Scenario;
use mock_server::grants::Grant;
use serde_json::Value;

use crate::support::{Call, TestServer, now, spawn};

const AUTH: &str = "/admin/v2/logs/authentication";
const EVERY_LOG: &str = "[logs.authentication]\nper_day = 3000\n[logs.administrator]\nper_day = 200\n\
    [logs.telephony]\nper_day = 300\n[logs.activity]\nper_day = 200\n[logs.offline_enrollment]\nper_day = 50\n\
    [logs.trust_monitor]\nper_day = 100\n";

fn logged(extra: &str) -> Scenario {
    Scenario::builder()
        .users(40)
        .groups(4)
        .admins(3)
        .integration(
            "logs",
            &[Grant::ReadLog, Grant::ReadInformation, Grant::ReadResource],
        )
        .integration("no-logs", &[Grant::ReadResource, Grant::ReadInformation])
        .integration("no-info", &[Grant::ReadLog])
        .toml(&format!("{EVERY_LOG}{extra}"))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn last_day() -> String {
    let now_ms = now() * 1000;
    format!("mintime={}&maxtime={now_ms}", now_ms - 86_400_000)
}

/// Every log endpoint and a query it answers.
fn every_endpoint() -> Vec<(&'static str, String)> {
    let day = last_day();
    vec![
        (AUTH, day.clone()),
        (
            "/admin/v1/logs/authentication",
            format!("mintime={}", now() - 86_400),
        ),
        ("/admin/v1/logs/administrator", "mintime=0".to_owned()),
        ("/admin/v1/logs/telephony", "mintime=0".to_owned()),
        ("/admin/v2/logs/telephony", day.clone()),
        ("/admin/v2/logs/activity", day.clone()),
        ("/admin/v1/logs/offline_enrollment", "mintime=0".to_owned()),
        ("/admin/v1/trust_monitor/events", day),
    ]
}

#[tokio::test]
async fn every_log_answers_in_its_shape_and_needs_grant_read_log() {
    let s = spawn(&logged("")).await;
    for (path, query) in every_endpoint() {
        let answer = s.send(Call::get(path, &query).signed_by("logs")).await;
        let response = answer.ok();
        assert_eq!(answer.content_type, "application/json");
        match path {
            AUTH => {
                assert!(
                    !response["authlogs"].as_array().expect("authlogs").is_empty(),
                    "{path}"
                );
                assert!(response["metadata"]["total_objects"].is_u64());
                assert!(
                    response["metadata"]["next_offset"].is_array(),
                    "a day at 3000 a day fills a page"
                );
            }
            "/admin/v2/logs/telephony" | "/admin/v2/logs/activity" => {
                assert!(!response["items"].as_array().expect("items").is_empty(), "{path}");
                assert!(response["metadata"]["next_offset"].is_string(), "{path}");
            }
            "/admin/v1/trust_monitor/events" => {
                assert!(!response["events"].as_array().expect("events").is_empty());
                assert!(response["metadata"].is_object());
            }
            _ => assert!(!response.as_array().expect("a bare array").is_empty(), "{path}"),
        }
        s.send(Call::get(path, &query).signed_by("no-logs"))
            .await
            .assert_fail(40301, "Access forbidden");
    }
    for report in [
        "authentication_attempts",
        "user_authentication_attempts",
        "telephony_credits_used",
    ] {
        let path = format!("/admin/v1/info/{report}");
        let answer = s.send(Call::get(&path, "").signed_by("logs")).await;
        assert!(
            answer.ok()[report].is_object() || answer.ok()[report].is_u64(),
            "{}",
            answer.raw
        );
        s.send(Call::get(&path, "").signed_by("no-info"))
            .await
            .assert_fail(40301, "Access forbidden");
    }
    // Errors in Duo's envelope, over the wire.
    let bad = s
        .send(Call::get(AUTH, "mintime=1&maxtime=2").signed_by("logs"))
        .await;
    bad.assert_fail(40002, "Invalid request parameters");
    assert_eq!(
        bad.json["message_detail"],
        "'mintime' must be a timestamp in milliseconds"
    );
    s.send(Call::get(AUTH, "").signed_by("logs"))
        .await
        .assert_fail(40001, "Missing required request parameters");
}

#[tokio::test]
async fn each_log_endpoint_has_its_own_rate_limit_budget() {
    let s = spawn(&logged(
        "[rate_limits]\npreset = \"duo\"\n[rate_limits.log_endpoints]\ntrust_monitor = 1\n",
    ))
    .await;
    let day = last_day();
    for _ in 0..2 {
        s.send(Call::get(AUTH, &day).signed_by("logs")).await.ok();
    }
    let refused = s.send(Call::get(AUTH, &day).signed_by("logs")).await;
    refused.assert_fail(42901, "Too Many Requests");
    assert!(!refused.raw.contains("Retry"));
    // The telephony log's budget is its own; Trust Monitor's is one a minute.
    s.send(Call::get("/admin/v2/logs/telephony", &day).signed_by("logs"))
        .await
        .ok();
    s.send(Call::get("/admin/v1/trust_monitor/events", &day).signed_by("logs"))
        .await
        .ok();
    s.send(Call::get("/admin/v1/trust_monitor/events", &day).signed_by("logs"))
        .await
        .assert_fail(42901, "Too Many Requests");
    let bad = Scenario::parse(
        &(Scenario::builder().to_toml() + "\n[rate_limits]\n[rate_limits.log_endpoints]\nauth = 1\n"),
        "r.toml",
    )
    .expect_err("an unknown log endpoint");
    assert!(
        bad.to_string().contains("\"auth\" is not a log endpoint"),
        "{bad}"
    );
}

#[tokio::test]
async fn fault_rules_and_the_journal_see_log_routes() {
    let s = spawn(&logged(
        "[[faults]]\npath = \"/admin/v2/logs/*\"\ncalls = [1, 1]\nduo_error = 50000\n",
    ))
    .await;
    let day = last_day();
    s.send(Call::get(AUTH, &day).signed_by("logs"))
        .await
        .assert_fail(50000, "Internal server error");
    s.send(Call::get(AUTH, &format!("{day}&limit=5&users=DUAAAAAAAAAAAAAAAAAA")).signed_by("logs"))
        .await
        .ok();
    let journal = s.server.state().journal().entries();
    assert_eq!(journal[0].fault.as_deref(), Some("fault #1"));
    assert_eq!(journal[1].path, AUTH);
    assert!(
        journal[1].query.contains("users=DUAAAAAAAAAAAAAAAAAA"),
        "the parameters sent (L11)"
    );
    assert_eq!(journal[1].integration.as_deref(), Some("logs"));
}

async fn control_dump(s: &TestServer, query: &str) -> (u16, Value) {
    let info = s.server.info();
    let response = s
        .http
        .get(format!("{}/dump/logs?{query}", info.control_url))
        .header("X-Duo-Mock-Token", &info.control_token)
        .send()
        .await
        .expect("control request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every event of a v2 log window, following the cursor.
async fn pages(s: &TestServer, path: &str, list: &str, window: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut query = format!("{window}&limit=1000&sort=ts:asc");
    loop {
        let answer = s.send(Call::get(path, &query).signed_by("logs")).await;
        let response = answer.ok();
        events.extend(response[list].as_array().expect("list").iter().cloned());
        let cursor = match &response["metadata"]["next_offset"] {
            Value::Null => return events,
            Value::Array(parts) => format!(
                "next_offset={}&next_offset={}",
                parts[0].as_str().expect("ts"),
                parts[1].as_str().expect("txid")
            ),
            Value::String(joined) => format!("next_offset={}", joined.replace(',', "%2C")),
            other => panic!("{other}"),
        };
        query = format!("{window}&limit=1000&sort=ts:asc&{cursor}");
    }
}

#[tokio::test]
async fn the_control_api_dumps_what_the_pages_hold() {
    let s = spawn(&logged("")).await;
    // A window that ended a while ago: nothing in it is still arriving.
    let end = (now() - 3600) * 1000;
    let window = format!("mintime={}&maxtime={end}", end - 6 * 3_600_000);
    for (path, list, kind) in [
        (AUTH, "authlogs", "authentication"),
        ("/admin/v2/logs/telephony", "items", "telephony"),
    ] {
        let paged = pages(&s, path, list, &window).await;
        let (status, dumped) = control_dump(&s, &format!("type={kind}&{window}")).await;
        assert_eq!(status, 200);
        assert_eq!(dumped.as_array().expect("array"), &paged, "{kind}");
    }
    let (status, refusal) = control_dump(&s, "type=nope").await;
    assert_eq!(status, 400);
    assert!(
        refusal["error"]
            .as_str()
            .expect("error")
            .contains("authentication")
    );
}

#[tokio::test]
async fn events_keep_naming_users_churn_deleted() {
    let s = spawn(&logged("[[churn]]\nafter_list_requests = 1\ndelete_users = 10\n")).await;
    let end = (now() - 3600) * 1000;
    let window = format!("mintime={}&maxtime={end}", end - 86_400_000);
    let before = pages(&s, AUTH, "authlogs", &window).await;
    let users_before: HashSet<String> = s
        .get_all("/admin/v1/users", 300)
        .await
        .iter()
        .map(|u| u["user_id"].as_str().expect("id").to_owned())
        .collect();
    // The list request above applied the churn: ten users are gone.
    let users_after: HashSet<String> = s
        .get_all("/admin/v1/users", 300)
        .await
        .iter()
        .map(|u| u["user_id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(users_before.len(), 40);
    assert_eq!(users_after.len(), 30);
    let after = pages(&s, AUTH, "authlogs", &window).await;
    assert_eq!(after, before, "the log of the past does not change");
    assert!(
        after
            .iter()
            .any(|e| !users_after.contains(e["user"]["key"].as_str().expect("key"))),
        "deleted users' events are still there"
    );
}

#[test]
fn dump_logs_prints_the_same_bytes_for_the_same_now() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("logs.toml");
    std::fs::write(
        &file,
        Scenario::builder().anchor("2026-01-01").users(20).to_toml() + EVERY_LOG,
    )
    .expect("write");
    let run = |kind: &str| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_duo-mock"))
            .args(["dump", "--scenario"])
            .arg(&file)
            .args([
                "--logs",
                kind,
                "--mintime",
                "1767139200000",
                "--maxtime",
                "1767225600000",
                "--now",
                "1767232800000",
            ])
            .output()
            .expect("duo-mock runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    for kind in [
        "authentication",
        "administrator",
        "telephony",
        "activity",
        "offline_enrollment",
        "trust_monitor",
    ] {
        let first = run(kind);
        assert_eq!(first, run(kind), "{kind}: byte-identical");
        let events: Vec<Value> = serde_json::from_slice(&first).expect("a JSON array");
        assert!(!events.is_empty(), "{kind}");
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_duo-mock"))
        .args(["dump", "--scenario"])
        .arg(&file)
        .args(["--logs", "nope"])
        .output()
        .expect("duo-mock runs");
    assert_eq!(output.status.code(), Some(2), "bad usage");
}
