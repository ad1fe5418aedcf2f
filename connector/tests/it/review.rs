//! `duo-connector review`: every user's MFA posture and bypass flag equal the documented rules
//! applied, here, to the fake's own dump of the tenant.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

use crate::support::{assert_exit, scenario, spawn, sync};

/// The rules of connector/README.md, written again from the dump's JSON: the review's own code is
/// not used, so a mistake in either shows as a difference.
fn expected_posture(user: &Value) -> &'static str {
    let has_any = |field: &str| user[field].as_array().is_some_and(|items| !items.is_empty());
    let phones = user["phones"].as_array().cloned().unwrap_or_default();
    let app_phone = phones.iter().any(|phone| {
        phone["capabilities"]
            .as_array()
            .is_some_and(|caps| caps.iter().any(|c| c == "push" || c == "mobile_otp"))
    });
    if has_any("webauthncredentials") || has_any("u2ftokens") {
        "phishing_resistant"
    } else if app_phone || has_any("tokens") {
        "strong"
    } else if !phones.is_empty() {
        "sms_or_voice_only"
    } else {
        "none"
    }
}

/// The `field` of every object of the JSON list `list`.
fn ids<'a>(list: &'a Value, field: &str) -> BTreeSet<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[field].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn postures_and_bypass_of_every_default_user_follow_the_rules_applied_to_the_dump() {
    let fake = spawn(&scenario("default.toml")).await;
    let snapshot = sync(&fake.config()).await.expect("sync");
    let dump = fake.dump().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snapshot.json");
    std::fs::write(&path, snapshot.to_json()).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_duo-connector"))
        .args(["review", path.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let review: Value = serde_json::from_slice(&out.stdout).unwrap();

    let bypass_groups: BTreeSet<&str> = dump["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["status"].as_str().unwrap().eq_ignore_ascii_case("bypass"))
        .map(|g| g["group_id"].as_str().unwrap())
        .collect();
    assert!(!bypass_groups.is_empty(), "the default tenant has a bypass group");
    let mut groups_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (group, members) in dump["group_members"].as_object().unwrap() {
        for member in members.as_array().unwrap() {
            groups_of
                .entry(member["user_id"].as_str().unwrap())
                .or_default()
                .insert(group);
        }
    }

    let mut expected: BTreeMap<&str, (&str, bool, BTreeSet<&str>)> = BTreeMap::new();
    let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for user in dump["users"].as_array().unwrap() {
        let id = user["user_id"].as_str().unwrap();
        let status = user["status"].as_str().unwrap();
        let groups = groups_of.remove(id).unwrap_or_default();
        let bypass = status == "bypass" || groups.iter().any(|g| bypass_groups.contains(g));
        let posture = expected_posture(user);
        expected.insert(id, (posture, bypass, groups));
        *counts.entry(("all", posture)).or_default() += 1;
        if status == "active" {
            *counts.entry(("active", posture)).or_default() += 1;
        }
    }
    for posture in ["phishing_resistant", "strong", "sms_or_voice_only", "none"] {
        let all = counts.get(&("all", posture)).copied().unwrap_or(0);
        assert!(
            all > 0,
            "the default tenant has users of posture {posture}: the test covers each rule"
        );
        for scope in ["active", "all"] {
            assert_eq!(
                review["mfa_counts"][scope][posture].as_u64(),
                Some(counts.get(&(scope, posture)).copied().unwrap_or(0)),
                "{scope} {posture}"
            );
        }
    }

    let listed = review["users"].as_array().unwrap();
    assert_eq!(listed.len(), expected.len());
    for user in listed {
        let id = user["user_id"].as_str().unwrap();
        let (posture, bypass, groups) = &expected[id];
        assert_eq!(user["mfa"], *posture, "{id}: {user}");
        assert_eq!(user["bypass"], *bypass, "{id}: {user}");
        assert_eq!(&ids(&user["groups"], "group_id"), groups, "{id}");
        for field in ["username", "status"] {
            assert!(user[field].is_string(), "{id}: {field}");
        }
    }
    // The weak-MFA list is exactly the active users of the two weak postures.
    let weak = ids(&review["weak_mfa"], "user_id");
    let expected_weak: BTreeSet<&str> = dump["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["status"] == "active" && ["none", "sms_or_voice_only"].contains(&expected_posture(u)))
        .map(|u| u["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(weak, expected_weak);
}
