//! Paging exactly per §3.0: metadata shapes, clamping, invalid values, and the scenario knobs.

use serde_json::{Value, json};

use crate::support::{scenario, scenario_text, spawn};

const USERS: &str = "/admin/v1/users";

#[tokio::test]
async fn metadata_follows_duos_shape() {
    let s = spawn(&scenario("users-301.toml")).await;
    let first = s.get(USERS, "limit=100&offset=0").await;
    assert_eq!(
        first.json["metadata"],
        json!({"next_offset": 100, "total_objects": 301})
    );
    let middle = s.get(USERS, "limit=100&offset=100").await;
    assert_eq!(
        middle.json["metadata"],
        json!({"next_offset": 200, "prev_offset": 0, "total_objects": 301})
    );
    let last = s.get(USERS, "limit=100&offset=300").await;
    assert_eq!(
        last.json["metadata"],
        json!({"prev_offset": 200, "total_objects": 301})
    );
    assert_eq!(last.ok().as_array().map(Vec::len), Some(1));
    let past = s.get(USERS, "limit=100&offset=1000").await;
    assert_eq!(past.ok(), &json!([]));
    assert_eq!(
        past.json["metadata"],
        json!({"prev_offset": 900, "total_objects": 301})
    );
}

#[tokio::test]
async fn a_single_page_has_no_metadata() {
    let s = spawn(&scenario("users-300.toml")).await;
    let page = s.get(USERS, "limit=300").await;
    assert_eq!(page.ok().as_array().map(Vec::len), Some(300));
    assert!(page.json.get("metadata").is_none(), "{}", &page.raw[..80]);
    let admins = s.get("/admin/v1/admins", "").await;
    assert!(admins.json.get("metadata").is_none());
    let keys: Vec<&String> = page.json.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["response", "stat"]);
}

#[tokio::test]
async fn limits_over_the_maximum_are_clamped_per_endpoint() {
    let s = spawn(&scenario("default.toml")).await;
    let users = s.get(USERS, "limit=1000").await;
    assert_eq!(users.ok().as_array().map(Vec::len), Some(300));
    assert_eq!(users.json["metadata"]["next_offset"], 300);
    let groups = s.get("/admin/v1/groups", "limit=1000").await;
    assert_eq!(groups.ok().as_array().map(Vec::len), Some(15));
    let default = s.get(USERS, "").await;
    assert_eq!(default.ok().as_array().map(Vec::len), Some(100));
    let zero = s.get(USERS, "limit=0").await;
    assert_eq!(zero.ok().as_array().map(Vec::len), Some(100));
}

#[tokio::test]
async fn invalid_paging_values_are_40002_naming_the_parameter() {
    let s = spawn(&scenario("users-1.toml")).await;
    for (query, name) in [
        ("limit=abc", "limit"),
        ("limit=-1", "limit"),
        ("limit=1.5", "limit"),
        ("offset=-5", "offset"),
        ("offset=x", "offset"),
        ("offset=123456789012345678901234567890", "offset"),
    ] {
        let answer = s.get(USERS, query).await;
        answer.assert_fail(40002, "Invalid request parameters");
        assert_eq!(answer.json["message_detail"], name, "{query}");
    }
}

fn with_options(base: &str, options: &str) -> mock_server::Scenario {
    let text = std::fs::read_to_string(crate::support::scenario_path(base)).expect("read") + options;
    scenario_text(&text)
}

#[tokio::test]
async fn metadata_and_limit_knobs_change_the_shape() {
    let always = spawn(&with_options(
        "users-300.toml",
        "\n[options]\nmetadata = \"always\"\n",
    ))
    .await;
    assert_eq!(
        always.get(USERS, "limit=300").await.json["metadata"],
        json!({"total_objects": 300})
    );
    let nulls = spawn(&with_options(
        "users-300.toml",
        "\n[options]\nmetadata = \"always-with-nulls\"\n",
    ))
    .await;
    assert_eq!(
        nulls.get(USERS, "limit=300").await.json["metadata"],
        json!({"next_offset": Value::Null, "prev_offset": Value::Null, "total_objects": 300})
    );
    let strict = spawn(&with_options(
        "users-300.toml",
        "\n[options]\nzero_limit = \"reject\"\n[options.max_limit]\nusers = 50\n",
    ))
    .await;
    strict
        .get(USERS, "limit=0")
        .await
        .assert_fail(40002, "Invalid request parameters");
    assert_eq!(
        strict.get(USERS, "limit=300").await.ok().as_array().map(Vec::len),
        Some(50)
    );
}

#[tokio::test]
async fn every_page_size_covers_the_tenant_exactly_once() {
    let s = spawn(&scenario("users-301.toml")).await;
    let all = s.get_all(USERS, 300).await;
    for limit in [1, 7, 100, 299, 301] {
        assert_eq!(s.get_all(USERS, limit).await, all, "limit {limit}");
    }
}

#[test]
fn a_largest_page_of_zero_is_refused_for_every_list() {
    for paging in mock_server::routes::catalogue::ROUTES
        .iter()
        .filter_map(|r| r.paging)
    {
        let key = paging.max_limit_key;
        let text = mock_server::Scenario::builder()
            .users(1)
            .toml(&format!("[options.max_limit]\n{key} = 0\n"))
            .to_toml();
        let error = mock_server::Scenario::parse(&text, "m.toml")
            .expect_err(key)
            .to_string();
        assert!(
            error.contains(&format!("options.max_limit.{key} must be at least 1")),
            "{key}: {error}"
        );
    }
}
