//! Full syncs equal the fake's ground truth, with the largest page sizes and no offset twice.

use duo_auth::{Digest, Scheme};
use serde_json::Value;

use crate::support::{assert_equals_dump, scenario, spawn, sync};

async fn sync_equals_dump(name: &str) {
    let fake = spawn(&scenario(name)).await;
    let snapshot = sync(&fake.config())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_equals_dump(&snapshot, &fake.dump().await);
    assert_eq!(snapshot.schema_version, 1);
    assert_eq!(snapshot.api_host, fake.api_host());
}

#[tokio::test]
async fn empty_tenant() {
    sync_equals_dump("empty.toml").await;
}

#[tokio::test]
async fn one_user() {
    sync_equals_dump("users-1.toml").await;
}

#[tokio::test]
async fn exactly_one_page_of_300() {
    sync_equals_dump("users-300.toml").await;
}

#[tokio::test]
async fn three_hundred_and_one_users_take_two_pages() {
    sync_equals_dump("users-301.toml").await;
}

#[tokio::test]
async fn unicode_names_survive_byte_for_byte() {
    sync_equals_dump("unicode.toml").await;
}

#[tokio::test]
async fn default_tenant() {
    sync_equals_dump("default.toml").await;
}

#[tokio::test]
async fn short_pages_still_sync_exactly() {
    sync_equals_dump("catalogue/d13-short-pages.toml").await;
}

#[tokio::test]
async fn drifted_answers_sync_with_every_drifted_field_kept() {
    let fake = spawn(&scenario("catalogue/d14-response-drift.toml")).await;
    let snapshot = sync(&fake.config()).await.expect("drift is tolerated");
    let dump = fake.dump().await;
    let ids = |list: &[Value], field: &str| -> Vec<String> {
        list.iter()
            .map(|o| o[field].as_str().unwrap().to_owned())
            .collect()
    };
    let users: Vec<Value> = snapshot
        .users
        .iter()
        .map(|r| serde_json::from_str(r.get()).unwrap())
        .collect();
    assert_eq!(
        ids(&users, "user_id"),
        ids(dump["users"].as_array().unwrap(), "user_id")
    );
    assert!(
        users.iter().any(|u| u.get("x_new_property").is_some()),
        "unknown fields Duo adds are kept in the snapshot"
    );
    assert_eq!(
        snapshot.group_members.len(),
        dump["group_members"].as_object().unwrap().len()
    );
}

#[tokio::test]
async fn v2_signatures_work_too() {
    let fake = spawn(&scenario("users-301.toml")).await;
    for scheme in [Scheme::V2(Digest::Sha1), Scheme::V2(Digest::Sha512)] {
        let mut config = fake.config();
        config.scheme = scheme;
        let snapshot = sync(&config).await.unwrap();
        assert_equals_dump(&snapshot, &fake.dump().await);
    }
}

#[tokio::test]
async fn pages_are_the_largest_allowed_and_no_offset_is_asked_twice() {
    let fake = spawn(&scenario("users-301.toml")).await;
    sync(&fake.config()).await.unwrap();
    let journal = fake.journal().await;
    let users: Vec<&str> = journal
        .iter()
        .filter(|(path, ..)| path == "/admin/v1/users")
        .map(|(_, query, _)| query.as_str())
        .collect();
    assert_eq!(users, ["limit=300&offset=0", "limit=300&offset=300"]);
    let limit_of = |prefix: &str, suffix: &str| {
        journal
            .iter()
            .filter(|(path, ..)| path.starts_with(prefix) && path.ends_with(suffix))
            .map(|(_, query, _)| query.split('&').next().unwrap().to_owned())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(limit_of("/admin/v1/admins", ""), ["limit=300".to_owned()].into());
    assert_eq!(limit_of("/admin/v1/groups", ""), ["limit=100".to_owned()].into());
    assert_eq!(
        limit_of("/admin/v2/groups/", "/users"),
        ["limit=500".to_owned()].into()
    );
    let mut seen = std::collections::HashSet::new();
    for (path, query, _) in &journal {
        assert!(seen.insert((path, query)), "{path}?{query} asked twice");
    }
    assert!(journal.iter().all(|(.., status)| *status == 200));
}
