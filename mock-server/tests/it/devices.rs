//! Phones, hardware tokens and WebAuthn credentials over HTTP, against the tenant: each list is
//! the devices users embed (the same objects, plus who holds them), a shared phone lists both
//! users, a user's own list is exactly their embedded array; filters, paging, 40002 and 40401.

use std::collections::BTreeMap;

use mock_server::devices::{KINDS, Kind, KindInfo, Origin, Owners};
use mock_server::routes::catalogue::ROUTES;
use mock_server::routes::lists::Source;
use serde_json::{Map, Value};

use crate::support::{dump, scenario, spawn};

/// A listed device without the fields its list adds (owners, a token's `admins`), and the
/// user ids of its owners.
fn split(info: &KindInfo, listed: &Value, users: &[Value]) -> (Value, Vec<String>) {
    let mut object: Map<String, Value> = listed.as_object().expect("an object").clone();
    let owners = match info.owners {
        Owners::Users => object
            .remove("users")
            .and_then(|v| v.as_array().cloned())
            .expect("users"),
        Owners::User { .. } => vec![object.remove("user").expect("user")],
        Owners::Named => vec![
            users
                .iter()
                .find(|u| u["username"] == object["username"] && u["email"] == object["email"])
                .expect("the user an endpoint names")
                .clone(),
        ],
    };
    if !info.listed_prefix.is_empty() {
        object.remove("admins");
    }
    let ids = owners
        .iter()
        .map(|u| u["user_id"].as_str().expect("owner id").to_owned())
        .collect();
    (Value::Object(object), ids)
}

/// The path of a user's own list of this kind, if it has one (`{user_id}` left in).
fn user_route(info: &KindInfo) -> Option<&'static str> {
    ROUTES
        .iter()
        .find(|r| {
            r.paging
                .is_some_and(|p| p.source == Source::UserDevices(info.kind))
        })
        .map(|r| r.path)
}

/// Each user's devices of this kind, in the user object's order: the embedded array, or for a
/// made kind the listed objects the user holds, without their owner.
fn of_each_user(info: &KindInfo, truth: &Value) -> BTreeMap<String, Vec<Value>> {
    let users = truth["users"].as_array().expect("users");
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for user in users {
        let id = user["user_id"].as_str().expect("id").to_owned();
        let own = match info.origin {
            Origin::Embedded => user[info.key].as_array().expect("embedded array").clone(),
            Origin::Made { .. } => Vec::new(),
        };
        out.insert(id, own);
    }
    if matches!(info.origin, Origin::Made { .. }) {
        for device in truth[info.key].as_array().expect("list") {
            let (object, owners) = split(info, device, users);
            for owner in owners {
                out.get_mut(&owner)
                    .expect("an owner of the tenant")
                    .push(object.clone());
            }
        }
    }
    out
}

#[tokio::test]
async fn each_device_list_is_what_the_users_hold_with_its_owners() {
    let sc = scenario("default.toml");
    let truth = dump(&sc);
    let s = spawn(&sc).await;
    let users = truth["users"].as_array().expect("users");
    for info in &KINDS {
        let listed = s.get_all(&format!("/admin/v1/{}", info.key), 500).await;
        assert_eq!(Value::Array(listed.clone()), truth[info.key], "{}", info.key);
        assert!(
            listed.len() >= 20,
            "{}: a realistic mix, not {}",
            info.key,
            listed.len()
        );
        // From the users' side: every device they hold, in order of first appearance, with the
        // users that hold it.
        let held = of_each_user(info, &truth);
        let mut expected: Vec<(Value, Vec<String>)> = Vec::new();
        let mut at: BTreeMap<String, usize> = BTreeMap::new();
        for user in users {
            let user_id = user["user_id"].as_str().expect("id").to_owned();
            for device in &held[&user_id] {
                let id = device[info.id_field].as_str().expect("device id").to_owned();
                let slot = *at.entry(id).or_insert_with(|| {
                    expected.push((device.clone(), Vec::new()));
                    expected.len() - 1
                });
                assert_eq!(expected[slot].0, *device, "one device, one object");
                expected[slot].1.push(user_id.clone());
            }
        }
        let got: Vec<(Value, Vec<String>)> = listed.iter().map(|d| split(info, d, users)).collect();
        assert_eq!(got, expected, "{}", info.key);
        for (device, (_, owners)) in listed.iter().zip(&got) {
            let owner = users
                .iter()
                .find(|u| u["user_id"] == owners[0].as_str())
                .expect("owner");
            let slim = match info.owners {
                Owners::Users => device["users"][0].clone(),
                Owners::User { .. } => device["user"].clone(),
                Owners::Named => serde_json::json!({
                    "username": device["username"],
                    "email": device["email"],
                }),
            };
            for (field, value) in slim.as_object().expect("slim user") {
                assert_eq!(&owner[field], value, "{}: owner's {field}", info.key);
            }
            assert!(slim.get("phones").is_none() && slim.get("groups").is_none());
            let id = device[info.id_field].as_str().expect("id");
            let one = s.get(&format!("/admin/v1/{}/{id}", info.key), "").await;
            assert_eq!(one.ok(), device, "{} by id", info.key);
        }
        s.get(&format!("/admin/v1/{}/DXNOSUCHOBJECT000001", info.key), "")
            .await
            .assert_fail(40401, "Resource not found");
    }
}

#[tokio::test]
async fn a_users_own_devices_are_exactly_what_the_user_holds() {
    let sc = scenario("default.toml");
    let truth = dump(&sc);
    let s = spawn(&sc).await;
    let mut asked = 0;
    for info in &KINDS {
        let Some(route) = user_route(info) else { continue };
        let held = of_each_user(info, &truth);
        for user in truth["users"].as_array().expect("users").iter().step_by(3) {
            let id = user["user_id"].as_str().expect("id");
            let path = route.replace("{user_id}", id);
            let answer = s.get(&path, "").await;
            let own = Value::Array(held[id].clone());
            if let Origin::Embedded = info.origin {
                // Byte for byte: the array as the user object holds it.
                let embedded = serde_json::to_string(&user[info.key]).expect("JSON");
                assert!(
                    answer.raw.contains(&format!("\"response\":{embedded}")),
                    "{path}: {} is not {embedded}",
                    answer.raw
                );
            }
            assert_eq!(answer.ok(), &own, "{path}");
            asked += 1;
        }
        s.get(&route.replace("{user_id}", "DUNOSUCHUSER00000001"), "")
            .await
            .assert_fail(40401, "Resource not found");
    }
    assert!(asked > 600, "{asked}");
    assert!(user_route(&KINDS[Kind::DesktopTokens as usize]).is_none());
}

#[tokio::test]
async fn a_shared_phone_lists_both_users_and_each_user_lists_it() {
    let sc = scenario("default.toml");
    let truth = dump(&sc);
    let s = spawn(&sc).await;
    let shared: Vec<&Value> = truth["phones"]
        .as_array()
        .expect("phones")
        .iter()
        .filter(|p| p["users"].as_array().is_some_and(|u| u.len() >= 2))
        .collect();
    assert!(!shared.is_empty(), "default.toml shares some phones");
    for phone in shared {
        let phone_id = phone["phone_id"].as_str().expect("id");
        let one = s.get(&format!("/admin/v1/phones/{phone_id}"), "").await;
        assert_eq!(one.ok()["users"], phone["users"]);
        for owner in phone["users"].as_array().expect("users") {
            let user_id = owner["user_id"].as_str().expect("id");
            let own = s.get(&format!("/admin/v1/users/{user_id}/phones"), "").await;
            assert!(
                own.ok()
                    .as_array()
                    .expect("list")
                    .iter()
                    .any(|p| p["phone_id"] == phone_id),
                "{user_id} lists {phone_id}"
            );
        }
    }
}

#[tokio::test]
async fn filters_select_exactly_and_paging_is_duos() {
    let sc = scenario("default.toml");
    let truth = dump(&sc);
    let s = spawn(&sc).await;
    let phone = &truth["phones"][3];
    let number = phone["number"].as_str().expect("number");
    let encoded = number.replace('+', "%2B");
    for query in [
        format!("number={encoded}"),
        format!("number={encoded}&extension="),
    ] {
        let found = s.get("/admin/v1/phones", &query).await;
        assert_eq!(found.ok(), &Value::Array(vec![phone.clone()]), "{query}");
    }
    for query in [
        "number=%2B10000000000".to_owned(),
        format!("number={encoded}&extension=99"),
        "extension=12".to_owned(),
    ] {
        let found = s.get("/admin/v1/phones", &query).await;
        assert_eq!(found.ok(), &Value::Array(vec![]), "{query}");
    }
    let token = &truth["tokens"][1];
    let (kind, serial) = (
        token["type"].as_str().expect("type"),
        token["serial"].as_str().expect("serial"),
    );
    let found = s
        .get("/admin/v1/tokens", &format!("type={kind}&serial={serial}"))
        .await;
    assert_eq!(found.ok(), &Value::Array(vec![token.clone()]));
    let other = if kind == "h6" { "h8" } else { "h6" };
    let none = s
        .get("/admin/v1/tokens", &format!("type={other}&serial={serial}"))
        .await;
    assert_eq!(none.ok(), &Value::Array(vec![]));
    for (query, missing) in [
        (format!("serial={serial}"), "type"),
        (format!("type={kind}"), "serial"),
    ] {
        let refused = s.get("/admin/v1/tokens", &query).await;
        refused.assert_fail(40002, "Invalid request parameters");
        assert_eq!(refused.json["message_detail"], missing, "{query}");
    }

    let total = truth["phones"].as_array().expect("phones").len();
    let page = s.get("/admin/v1/phones", "limit=2&offset=4").await;
    assert_eq!(
        page.ok(),
        &Value::Array(truth["phones"].as_array().expect("list")[4..6].to_vec())
    );
    assert_eq!(page.json["metadata"]["next_offset"], 6);
    assert_eq!(page.json["metadata"]["prev_offset"], 2);
    assert_eq!(page.json["metadata"]["total_objects"], total);
    for query in ["limit=-1", "limit=x", "offset=-2", "offset=1e3"] {
        for path in [
            "/admin/v1/phones",
            "/admin/v1/tokens",
            "/admin/v1/webauthncredentials",
        ] {
            s.get(path, query)
                .await
                .assert_fail(40002, "Invalid request parameters");
        }
    }
}

#[tokio::test]
async fn each_device_list_clamps_to_its_own_largest_page() {
    let sc = mock_server::Scenario::builder()
        .users(150)
        .integration("main", &[mock_server::grants::Grant::ReadResource])
        .toml("[options.max_limit]\nphones = 4\ntokens = 3\nwebauthncredentials = 2\nuser_phones = 1\n")
        .build()
        .expect("scenario");
    let s = spawn(&sc).await;
    for (path, largest) in [
        ("/admin/v1/phones", 4),
        ("/admin/v1/tokens", 3),
        ("/admin/v1/webauthncredentials", 2),
    ] {
        let page = s.get(path, "limit=1000").await;
        assert_eq!(page.ok().as_array().map(Vec::len), Some(largest), "{path}");
        assert_eq!(page.json["metadata"]["next_offset"], largest, "{path}");
    }
    let phones = s.get("/admin/v1/phones", "limit=1").await;
    let user = phones.ok()[0]["users"][0]["user_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let own = s.get(&format!("/admin/v1/users/{user}/phones"), "limit=50").await;
    assert_eq!(own.ok().as_array().map(Vec::len), Some(1));
}
