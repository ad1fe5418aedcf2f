//! `[[changes]]`: an integration's grants changed after some list requests or some time (by the
//! server's clock), answered as Duo answers a missing grant, named in the journal; a reset starts
//! them over.

use mock_server::Scenario;
use mock_server::grants::Grant;

use crate::control::control;
use crate::support::{Call, TestServer, date_at, now, spawn};

const USERS: &str = "/admin/v1/users";
const ADMINS: &str = "/admin/v1/admins";

fn with_changes(changes: &str) -> Scenario {
    Scenario::builder()
        .users(3)
        .admins(1)
        .integration("review", &[Grant::ReadResource, Grant::Administrators])
        .integration("other", &[Grant::ReadResource])
        .toml(changes)
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The last journal entry.
fn last_entry(s: &TestServer) -> mock_server::journal::JournalEntry {
    s.server
        .state()
        .journal()
        .entries()
        .pop()
        .expect("a journal entry")
}

#[tokio::test]
async fn a_grant_removed_after_two_list_requests_is_duos_403_named_in_the_journal() {
    let s = spawn(&with_changes(
        "[[changes]]\nname = \"revoked on monday\"\nafter_list_requests = 2\nintegration = \"review\"\nremove_grants = [\"Grant read resource\"]\n",
    ))
    .await;
    let review = |path: &str| Call::get(path, "").signed_by("review");
    s.send(review(USERS)).await.ok();
    assert_eq!(last_entry(&s).change, None);
    s.send(review(USERS)).await.ok();
    let refused = s.send(review(USERS)).await;
    refused.assert_fail(40301, "Access forbidden");
    assert_eq!(
        refused.raw,
        r#"{"code":40301,"message":"Access forbidden","stat":"FAIL"}"#
    );
    let entry = last_entry(&s);
    assert_eq!(entry.integration.as_deref(), Some("review"));
    assert_eq!(
        entry.signature_valid,
        Some(true),
        "the signature was verified first"
    );
    assert_eq!(entry.duo_code, Some(40301));
    assert_eq!(entry.change.as_deref(), Some("revoked on monday"));
    assert_eq!(entry.fault, None, "Duo's own answer, not a fault rule");
    // The grants it kept still work; another integration is untouched.
    s.send(review(ADMINS)).await.ok();
    s.send(Call::get(USERS, "").signed_by("other")).await.ok();
    assert_eq!(last_entry(&s).change, None);
    // A reset starts the count again.
    let (status, _) = control(&s, "POST", "/reset", None).await;
    assert_eq!(status, 200);
    s.send(review(USERS)).await.ok();
    assert_eq!(last_entry(&s).change, None);
}

#[tokio::test]
async fn a_grant_removed_after_an_hour_follows_the_control_apis_clock() {
    let s = spawn(&with_changes(
        "[[changes]]\nafter_s = 3600\nintegration = \"review\"\nremove_grants = [\"Grant administrators\"]\n",
    ))
    .await;
    s.send(Call::get(ADMINS, "").signed_by("review")).await.ok();
    let (status, _) = control(&s, "PUT", "/clock", Some(r#"{"offset_s": 3600}"#.to_owned())).await;
    assert_eq!(status, 200);
    // A client whose clock agrees with the server's, an hour on.
    let an_hour_on = |path: &str| {
        let mut call = Call::get(path, "").signed_by("review");
        call.date = Some(date_at(now() + 3600));
        call
    };
    s.send(an_hour_on(ADMINS))
        .await
        .assert_fail(40301, "Access forbidden");
    let entry = last_entry(&s);
    assert_eq!(entry.change.as_deref(), Some("change #1"));
    assert_eq!(entry.signature_valid, Some(true));
    s.send(an_hour_on(USERS)).await.ok();
    // A reset puts the clock back and starts the hour again.
    control(&s, "POST", "/reset", None).await;
    s.send(Call::get(ADMINS, "").signed_by("review")).await.ok();
}

#[tokio::test]
async fn a_grant_added_after_a_list_request_opens_the_endpoint() {
    let s = spawn(&with_changes(
        "[[changes]]\nname = \"admins granted\"\nafter_list_requests = 1\nintegration = \"other\"\nadd_grants = [\"Grant administrators\"]\n",
    ))
    .await;
    let other = |path: &str| Call::get(path, "").signed_by("other");
    s.send(other(ADMINS)).await.assert_fail(40301, "Access forbidden");
    s.send(other(USERS)).await.ok();
    s.send(other(ADMINS)).await.ok();
    assert_eq!(last_entry(&s).change.as_deref(), Some("admins granted"));
}

#[test]
fn mistakes_in_changes_are_located_at_their_key() {
    let base = Scenario::builder().to_toml();
    for (change, words, key) in [
        (
            "[[changes]]\nafter_s = 1\nintegration = \"ghost\"\nremove_grants = [\"Grant read resource\"]\n",
            "\"ghost\" is not in this scenario",
            "integration",
        ),
        (
            "[[changes]]\nafter_s = 1\nintegration = \"main\"\nremove_grants = [\"Grant everything\"]\n",
            "\"Grant everything\" is not a Duo Admin API permission",
            "remove_grants",
        ),
        (
            "[[changes]]\nafter_list_requests = 0\nintegration = \"main\"\nadd_grants = [\"Grant settings\"]\n",
            "counts from 1",
            "after_list_requests",
        ),
        (
            "[[changes]]\nafter_s = 1\nafter_list_requests = 2\nintegration = \"main\"\nadd_grants = [\"Grant settings\"]\n",
            "one trigger",
            "[[changes]]",
        ),
        (
            "[[changes]]\nafter_s = 1\nintegration = \"main\"\n",
            "something to change",
            "[[changes]]",
        ),
    ] {
        let text = format!("{base}\n{change}");
        let line = text
            .lines()
            .enumerate()
            .skip_while(|(_, l)| *l != "[[changes]]")
            .find(|(_, l)| l.starts_with(key))
            .expect("key")
            .0
            + 1;
        let message = Scenario::parse(&text, "c.toml").expect_err(change).to_string();
        assert!(message.contains(words), "{message}");
        assert!(
            message.starts_with(&format!("c.toml:{line}:")),
            "{message} should point at {key} (line {line})"
        );
    }
}

#[tokio::test]
async fn the_grant_removed_monday_example_refuses_user_lists_a_day_on() {
    let s = spawn(&crate::support::scenario("examples/grant-removed-monday.toml")).await;
    s.get(USERS, "").await.ok();
    control(&s, "PUT", "/clock", Some(r#"{"offset_s": 86400}"#.to_owned())).await;
    let a_day_on = |path: &str| {
        let mut call = Call::get(path, "");
        call.date = Some(date_at(now() + 86_400));
        call
    };
    s.send(a_day_on(USERS))
        .await
        .assert_fail(40301, "Access forbidden");
    let entry = last_entry(&s);
    assert_eq!(entry.integration.as_deref(), Some("access-review"));
    assert_eq!(entry.change.as_deref(), Some("read resource unticked on monday"));
    s.send(a_day_on(ADMINS)).await.ok();
}
