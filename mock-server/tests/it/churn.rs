//! Churn: tenant edits applied while a connector pages, and the editor they use.

use mock_server::Scenario;
use mock_server::edit::TenantEdit;
use serde_json::Value;

use crate::support::{dump, scenario, spawn};

const USERS: &str = "/admin/v1/users";

fn dump_of(tenant: &mock_server::store::Tenant) -> Vec<u8> {
    let mut out = Vec::new();
    mock_server::dump::write_dump(tenant, &[], &mut out).expect("dump");
    out
}

#[test]
fn taking_a_tenant_apart_and_rebuilding_it_changes_no_byte() {
    for file in ["default.toml", "unicode.toml", "empty.toml"] {
        let sc = scenario(file);
        let tenant = mock_server::generate::build(&sc).expect("builds");
        let rebuilt = TenantEdit::new(
            &tenant,
            sc.integrations.len() as u64,
            sc.tenant.telephony_credits_remaining,
        )
        .build();
        assert_eq!(dump_of(&rebuilt), dump_of(&tenant), "{file}");
        assert_eq!(rebuilt.summary, tenant.summary, "{file}");
        let some_user = tenant.users.item(tenant.users.len() / 2);
        if let Some(json) = some_user {
            let user: Value = serde_json::from_slice(&json).expect("user");
            let id = user["user_id"].as_str().expect("id");
            assert_eq!(rebuilt.user_by_id(id), tenant.user_by_id(id));
            assert_eq!(
                rebuilt.groups_of(tenant.users.len() / 2),
                tenant.groups_of(tenant.users.len() / 2)
            );
        }
    }
}

fn churned(events: &str) -> Scenario {
    let text =
        std::fs::read_to_string(crate::support::scenario_path("users-301.toml")).expect("read") + events;
    crate::support::scenario_text(&text)
}

#[tokio::test]
async fn deleting_users_mid_sync_shifts_offsets_under_a_pager() {
    let sc = churned("\n[[churn]]\nafter_list_requests = 1\ndelete_users = 5\n");
    let before = dump(&sc);
    let s = spawn(&sc).await;
    let first = s.get(USERS, "limit=100&offset=0").await;
    assert_eq!(first.json["metadata"]["total_objects"], 301);
    let second = s.get(USERS, "limit=100&offset=100").await;
    assert_eq!(
        second.json["metadata"]["total_objects"], 296,
        "the tenant shrank between pages"
    );
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("list")
            .iter()
            .filter_map(|u| u["user_id"].as_str().map(str::to_owned))
            .collect()
    };
    let original = ids(&before["users"]);
    assert_eq!(
        ids(second.ok()),
        original[105..205],
        "a pager going on by offset skips 5 users"
    );
}

#[tokio::test]
async fn a_timed_event_creates_renames_and_moves_users() {
    let sc = churned(
        "\n[[churn]]\nname = \"reorg\"\nat_s = 0\ncreate_users = 2\nrename_users = 1\nmove_users = 1\n",
    );
    let before = dump(&sc);
    let s = spawn(&sc).await;
    let after = s.get_all(USERS, 300).await;
    assert_eq!(after.len(), 303);
    assert_eq!(after[301]["username"], "new.hire1.0");
    assert_eq!(after[302]["is_enrolled"], false);
    let renamed: Vec<&Value> = after
        .iter()
        .filter(|u| u["username"].as_str().is_some_and(|n| n.ends_with("-renamed")))
        .collect();
    assert_eq!(renamed.len(), 1);
    let moved: Vec<(&Value, &Value)> = after
        .iter()
        .zip(before["users"].as_array().expect("users"))
        .filter(|(a, b)| a["groups"] != b["groups"])
        .collect();
    assert_eq!(moved.len(), 1, "one user changed groups");
    let (user, _) = moved[0];
    let group_id = user["groups"][0]["group_id"].as_str().expect("group");
    let members = s
        .get_all(&format!("/admin/v2/groups/{group_id}/users"), 500)
        .await;
    assert!(
        members.iter().any(|m| m["user_id"] == user["user_id"]),
        "memberships follow the move"
    );
    let embedded = s
        .get_all(
            &format!("/admin/v1/users/{}/groups", user["user_id"].as_str().expect("id")),
            100,
        )
        .await;
    assert_eq!(Value::Array(embedded), user["groups"]);
    let summary = s.get("/admin/v1/info/summary", "").await;
    assert!(summary.ok()["user_count"].as_u64().expect("count") >= 290);
}

#[tokio::test]
async fn churn_keeps_the_fault_counters_running() {
    let sc = churned(
        "\n[[churn]]\nafter_list_requests = 1\ndelete_users = 1\n\
         [[faults]]\npath = \"/admin/v1/users\"\ncalls = [3, 3]\nduo_error = 50000\n",
    );
    let s = spawn(&sc).await;
    s.get(USERS, "limit=1").await.ok();
    s.get(USERS, "limit=1").await.ok();
    s.get(USERS, "limit=1")
        .await
        .assert_fail(50000, "Internal server error");
    assert_eq!(s.server.state().world().tenant.users.len(), 300);
}

#[test]
fn churn_events_are_checked_and_located() {
    // (event, the line the mistake is reported on: the event's, or the key its message names)
    for (event, at, words) in [
        ("[[churn]]\ndelete_users = 1\n", "[[churn]]", "one trigger"),
        (
            "[[churn]]\nat_s = 1\nafter_list_requests = 2\ndelete_users = 1\n",
            "[[churn]]",
            "one trigger",
        ),
        ("[[churn]]\nat_s = 1\n", "[[churn]]", "needs a change"),
        (
            "[[churn]]\nafter_list_requests = 0\ndelete_users = 1\n",
            "after_list_requests",
            "counts from 1",
        ),
        (
            "[[churn]]\nat_s = 0\nusers = [\"a\"]\nuser_range = [0, 0]\nrename_users = 1\n",
            "[[churn]]",
            "not both",
        ),
        (
            "[[churn]]\nat_s = 0\nuser_range = [3, 2]\nrename_users = 1\n",
            "user_range",
            "comes after the last",
        ),
        (
            "[[churn]]\nat_s = 0\nusers = [\"a\", \"b\"]\nmove_users = 3\n",
            "move_users",
            "move_users = 3, but the event chooses 2 users",
        ),
        (
            "[[churn]]\nat_s = 0\nusers = [\"a\", \"a\"]\nrename_users = 1\n",
            "users",
            "\"a\" twice",
        ),
    ] {
        let text = Scenario::builder().to_toml() + "\n" + event;
        let churn = text.lines().position(|l| l == "[[churn]]").expect("event");
        let line = churn
            + text
                .lines()
                .skip(churn)
                .position(|l| l.starts_with(at))
                .expect("the line")
            + 1;
        let error = Scenario::parse(&text, "c.toml").expect_err(event).to_string();
        assert!(
            error.starts_with(&format!("c.toml:{line}:")) && error.contains(words),
            "{error} (wanted line {line})"
        );
    }
}

fn usernames(users: &[Value]) -> Vec<&str> {
    users
        .iter()
        .map(|u| u["username"].as_str().expect("username"))
        .collect()
}

#[tokio::test]
async fn churn_by_name_renames_and_moves_exactly_the_named_users() {
    let before = dump(&churned(""));
    let original = before["users"].as_array().expect("users").clone();
    let names = usernames(&original);
    let (first, second) = (names[10], names[250]);
    let sc = churned(&format!(
        "\n[[churn]]\nat_s = 0\nusers = [{first:?}, {second:?}]\nrename_users = 2\nmove_users = 1\n"
    ));
    let s = spawn(&sc).await;
    let after = s.get_all(USERS, 300).await;
    assert_eq!(after.len(), original.len(), "nobody created or deleted");
    let changed: Vec<usize> = (0..after.len()).filter(|i| after[*i] != original[*i]).collect();
    assert_eq!(changed, [10, 250], "exactly the named users changed, in place");
    for i in changed {
        let (was, now) = (&original[i], &after[i]);
        assert_eq!(now["username"], format!("{}-renamed", names[i]));
        let mut unchanged = now.clone();
        unchanged["username"] = was["username"].clone();
        if i == 10 {
            assert_ne!(now["groups"], was["groups"], "the first named user moved");
            unchanged["groups"] = was["groups"].clone();
        }
        assert_eq!(&unchanged, was, "a rename changes the username only");
    }
    let renamed = format!("{first}-renamed");
    let by_old = s
        .get(
            USERS,
            &format!("username={}", duo_auth::params::encode(first.as_bytes())),
        )
        .await;
    assert_eq!(
        by_old.ok().as_array().map(Vec::len),
        Some(0),
        "the old name finds nobody"
    );
    let by_new = s
        .get(
            USERS,
            &format!("username={}", duo_auth::params::encode(renamed.as_bytes())),
        )
        .await;
    assert_eq!(by_new.ok()[0]["user_id"], original[10]["user_id"]);
    let group_id = after[10]["groups"][0]["group_id"]
        .as_str()
        .expect("moved to a group");
    let members = s
        .get_all(&format!("/admin/v2/groups/{group_id}/users"), 500)
        .await;
    assert!(
        members
            .iter()
            .any(|m| m["user_id"] == original[10]["user_id"] && m["username"] == renamed.as_str()),
        "member lists show the new name"
    );
}

#[tokio::test]
async fn churn_by_range_deletes_exactly_those_positions_under_a_pager() {
    let sc = churned("\n[[churn]]\nafter_list_requests = 1\nuser_range = [200, 219]\ndelete_users = 20\n");
    let before = dump(&sc);
    let ids = |users: &[Value]| -> Vec<Value> { users.iter().map(|u| u["user_id"].clone()).collect() };
    let original = ids(before["users"].as_array().expect("users"));
    let s = spawn(&sc).await;
    let page = s.get(USERS, "limit=200&offset=0").await;
    assert_eq!(ids(page.ok().as_array().expect("page")), original[..200]);
    let after = s.get_all(USERS, 300).await;
    let mut expected = original[..200].to_vec();
    expected.extend_from_slice(&original[220..]);
    assert_eq!(ids(&after), expected, "positions 200 to 219 are gone, no other");
}

#[tokio::test]
async fn a_rename_behind_the_offset_leaves_a_pager_no_sign() {
    let sc = churned("\n[[churn]]\nafter_list_requests = 1\nuser_range = [5, 5]\nrename_users = 1\n");
    let s = spawn(&sc).await;
    let mut read = Vec::new();
    let mut totals = Vec::new();
    let mut offset = 0;
    loop {
        let page = s.get(USERS, &format!("limit=100&offset={offset}")).await;
        read.extend(page.ok().as_array().expect("page").iter().cloned());
        totals.push(page.json["metadata"]["total_objects"].clone());
        match page.json["metadata"]["next_offset"].as_u64() {
            Some(next) => offset = next,
            None => break,
        }
    }
    assert!(
        totals.iter().all(|t| *t == 301),
        "total_objects never moves: {totals:?}"
    );
    let ids: std::collections::HashSet<&Value> = read.iter().map(|u| &u["user_id"]).collect();
    assert_eq!((read.len(), ids.len()), (301, 301), "no user missing, none twice");
    let now = s.get_all(USERS, 300).await;
    assert_eq!(now[5]["user_id"], read[5]["user_id"]);
    assert_eq!(
        now[5]["username"],
        format!("{}-renamed", read[5]["username"].as_str().expect("name")),
        "the tenant has the new name; the pager kept the old one"
    );
}
