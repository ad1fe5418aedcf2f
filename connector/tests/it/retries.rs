//! Rate limits are waited out, persistent ones reported, and churn re-read or reported.

use duo_connector::ErrorKind;

use crate::support::{assert_equals_dump, expect_kind, scenario, spawn, sync};

#[tokio::test]
async fn a_burst_of_429s_is_recovered_after_waiting() {
    let fake = spawn(&scenario("catalogue/d09-rate-limit-burst.toml")).await;
    let snapshot = sync(&fake.config()).await.expect("recovers");
    assert_equals_dump(&snapshot, &fake.dump().await);
    let statuses: Vec<u16> = fake.journal().await.iter().map(|(.., s)| *s).collect();
    assert_eq!(&statuses[..4], [429, 429, 429, 200]);
}

#[tokio::test]
async fn persistent_429s_give_rate_limited_after_seven_attempts() {
    let fake = spawn(&scenario("catalogue/d09-rate-limit-persistent.toml")).await;
    let failure = expect_kind(sync(&fake.config()).await, ErrorKind::RateLimited);
    assert_eq!((failure.http_status, failure.duo_code), (Some(429), Some(42901)));
    assert_eq!(
        fake.journal().await.len(),
        7,
        "the first attempt and six retries, like Duo's clients"
    );
}

#[tokio::test]
async fn the_deadline_ends_the_waiting() {
    let fake = spawn(&scenario("catalogue/d09-rate-limit-persistent.toml")).await;
    let mut config = fake.config();
    config.retry.rate_limited = vec![std::time::Duration::from_secs(5); 6];
    config.retry.deadline = std::time::Duration::from_secs(2);
    let started = std::time::Instant::now();
    expect_kind(sync(&config).await, ErrorKind::RateLimited);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(
        fake.journal().await.len(),
        1,
        "no wait starts that would end after the deadline"
    );
}

#[tokio::test]
async fn churn_during_paging_is_re_read_into_the_tenant_as_it_is_now() {
    let fake = spawn(&scenario("catalogue/d13-churn-during-paging.toml")).await;
    let snapshot = sync(&fake.config()).await.expect("re-reads");
    assert_equals_dump(&snapshot, &fake.dump().await);
    let user_pages = fake
        .journal()
        .await
        .iter()
        .filter(|(p, ..)| p == "/admin/v1/users")
        .count();
    assert!(
        user_pages > 3,
        "the users list was read again ({user_pages} pages)"
    );
}

#[tokio::test]
async fn churn_that_outlasts_every_re_read_is_tenant_changed() {
    let scenario = scenario("catalogue/d13-churn-during-paging.toml");
    let options = duo_connector::sync::SyncOptions {
        rereads: 0,
        ..duo_connector::sync::SyncOptions::default()
    };
    let fake = spawn(&scenario).await;
    let client = duo_connector::client::Client::new(&fake.config()).unwrap();
    let failure = expect_kind(
        duo_connector::sync::sync(&client, &options).await,
        ErrorKind::TenantChanged,
    );
    assert!(
        failure.message.contains("changed during the sync"),
        "{}",
        failure.message
    );
}
