//! Rate limits: Duo's preset, custom budgets, shared or per-integration buckets, refill.

use mock_server::Scenario;
use mock_server::grants::Grant;

use crate::support::{Answer, Call, TestServer, spawn};

const USERS: &str = "/admin/v1/users";

fn limited(limits: &str) -> Scenario {
    Scenario::builder()
        .users(3)
        .integration("a", &[Grant::ReadResource, Grant::ReadInformation])
        .integration("b", &[Grant::ReadResource])
        .toml(&format!("[rate_limits]\n{limits}"))
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Sends GETs of `paths` in turn until the first 429 and returns it, asserting that
/// `per_minute` were answered first. The bucket refills while the test runs, and a loaded machine
/// may take seconds for 200 requests: the refill is allowed for.
async fn answered_until_429(s: &TestServer, paths: &[&str], per_minute: u32) -> Answer {
    let started = std::time::Instant::now();
    let mut answered = 0_u32;
    let refused = loop {
        let answer = s.get(paths[answered as usize % paths.len()], "").await;
        if answer.status == 429 || answered > 5 * per_minute {
            break answer;
        }
        answer.ok();
        answered += 1;
    };
    let refilled = (started.elapsed().as_secs_f64() * f64::from(per_minute) / 60.0).ceil() as u32;
    assert!(
        (per_minute..=per_minute + refilled).contains(&answered),
        "{answered} requests answered before the first 429 ({per_minute} + {refilled} refilled)"
    );
    refused
}

#[tokio::test]
async fn duos_preset_allows_200_pages_a_minute() {
    let s = spawn(&limited("preset = \"duo\"\n")).await;
    let refused = answered_until_429(&s, &[USERS], 200).await;
    refused.assert_fail(42901, "Too Many Requests");
    assert!(!refused.raw.contains("Retry"), "no Retry-After from Duo");
    // Another class and another integration have their own budgets.
    s.get("/admin/v1/info/summary", "").await.ok();
    s.send(Call::get(USERS, "").signed_by("b")).await.ok();
}

#[tokio::test]
async fn a_budget_refills_at_its_rate() {
    let s = spawn(&limited("page = 600\nburst = 2\n")).await;
    s.get(USERS, "").await.ok();
    s.get(USERS, "").await.ok();
    s.get(USERS, "").await.assert_fail(42901, "Too Many Requests");
    // 600 a minute is one every 100 ms.
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    s.get(USERS, "").await.ok();
    let journal = s.server.state().journal().entries();
    assert_eq!(journal.iter().filter(|e| e.duo_code == Some(42901)).count(), 1);
}

#[tokio::test]
async fn an_account_scope_shares_one_budget() {
    let s = spawn(&limited("page = 60\nburst = 2\nscope = \"account\"\n")).await;
    s.send(Call::get(USERS, "").signed_by("a")).await.ok();
    s.send(Call::get(USERS, "").signed_by("b")).await.ok();
    s.send(Call::get(USERS, "").signed_by("b"))
        .await
        .assert_fail(42901, "Too Many Requests");
}

#[test]
fn bad_limits_are_located() {
    let text = Scenario::builder().to_toml() + "\n[rate_limits]\npreset = \"aws\"\n";
    let error = Scenario::parse(&text, "r.toml")
        .expect_err("unknown preset")
        .to_string();
    assert!(error.contains("unknown rate-limit preset \"aws\""), "{error}");
    let line = text.lines().position(|l| l == "[rate_limits]").expect("table") + 1;
    assert!(error.starts_with(&format!("r.toml:{line}:")), "{error}");
}

#[tokio::test]
async fn a_total_budget_refuses_the_51st_request_of_a_minute_whatever_its_class() {
    let s = spawn(&limited("total = 50\n")).await;
    // Pages and single objects alternate: one budget over both.
    let refused = answered_until_429(&s, &[USERS, "/admin/v1/info/summary"], 50).await;
    refused.assert_fail(42901, "Too Many Requests");
    assert!(!refused.raw.contains("Retry"), "no Retry-After from Duo");
    // Per integration by default: another integration has its own 50.
    s.send(Call::get(USERS, "").signed_by("b")).await.ok();
}

#[tokio::test]
async fn a_total_budget_with_account_scope_is_shared_by_every_integration() {
    let s = spawn(&limited("total = 6\nburst = 3\nscope = \"account\"\n")).await;
    s.send(Call::get(USERS, "").signed_by("a")).await.ok();
    s.send(Call::get("/admin/v1/info/summary", "").signed_by("a"))
        .await
        .ok();
    s.send(Call::get(USERS, "").signed_by("b")).await.ok();
    s.send(Call::get(USERS, "").signed_by("b"))
        .await
        .assert_fail(42901, "Too Many Requests");
}

#[test]
fn the_readmes_class_table_is_the_codes() {
    let path = crate::support::root().join("scenarios/README.md");
    let readme = std::fs::read_to_string(&path).expect("scenarios/README.md");
    let table = mock_server::ratelimit::class_table();
    assert!(
        readme.contains(&table),
        "scenarios/README.md's rate-limit class table is stale; it should read:\n{table}"
    );
}

#[tokio::test]
async fn the_429_after_50_a_minute_example_refuses_the_51st_request() {
    let s = spawn(&crate::support::scenario("examples/429-after-50-a-minute.toml")).await;
    let paths = [
        USERS,
        "/admin/v1/admins",
        "/admin/v1/groups",
        "/admin/v1/info/summary",
    ];
    let refused = answered_until_429(&s, &paths, 50).await;
    refused.assert_fail(42901, "Too Many Requests");
}
