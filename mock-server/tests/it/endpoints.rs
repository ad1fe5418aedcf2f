//! Every read endpoint against `dump`'s ground truth, permission grants, and Duo-shaped 404/405.

use serde_json::Value;

use crate::support::{Call, dump, scenario, scenario_path, scenario_text, spawn, spawn_tls};

#[tokio::test]
async fn lists_equal_the_dump_in_api_order() {
    let sc = scenario("default.toml");
    let truth = dump(&sc);
    let s = spawn(&sc).await;
    assert_eq!(
        Value::Array(s.get_all("/admin/v1/users", 300).await),
        truth["users"]
    );
    assert_eq!(
        Value::Array(s.get_all("/admin/v1/admins", 300).await),
        truth["admins"]
    );
    assert_eq!(
        Value::Array(s.get_all("/admin/v1/groups", 100).await),
        truth["groups"]
    );
    let groups = truth["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 15);
    for group in groups {
        let id = group["group_id"].as_str().expect("id");
        let members = s.get_all(&format!("/admin/v2/groups/{id}/users"), 500).await;
        assert_eq!(Value::Array(members), truth["group_members"][id], "{id}");
        let one = s.get(&format!("/admin/v2/groups/{id}"), "").await;
        assert_eq!(one.ok(), group);
    }
}

#[tokio::test]
async fn single_objects_and_user_groups_match_the_lists() {
    let sc = scenario("default.toml");
    let truth = dump(&sc);
    let s = spawn(&sc).await;
    for user in truth["users"].as_array().expect("users").iter().step_by(17) {
        let id = user["user_id"].as_str().expect("id");
        assert_eq!(s.get(&format!("/admin/v1/users/{id}"), "").await.ok(), user);
        let groups = s.get_all(&format!("/admin/v1/users/{id}/groups"), 1).await;
        assert_eq!(&Value::Array(groups), &user["groups"], "{id}");
    }
    for admin in truth["admins"].as_array().expect("admins") {
        let id = admin["admin_id"].as_str().expect("id");
        assert_eq!(s.get(&format!("/admin/v1/admins/{id}"), "").await.ok(), admin);
    }
}

#[tokio::test]
async fn unknown_objects_are_40401() {
    let s = spawn(&scenario("users-1.toml")).await;
    for path in [
        "/admin/v1/users/DUXXXXXXXXXXXXXXXXXX",
        "/admin/v1/users/DUXXXXXXXXXXXXXXXXXX/groups",
        "/admin/v1/admins/DEXXXXXXXXXXXXXXXXXX",
        "/admin/v1/groups/DGXXXXXXXXXXXXXXXXXX",
        "/admin/v2/groups/DGXXXXXXXXXXXXXXXXXX",
        "/admin/v2/groups/DGXXXXXXXXXXXXXXXXXX/users",
        "/admin/v1/users/%FF%FE",
    ] {
        let answer = s.get(path, "").await;
        answer.assert_fail(40401, "Resource not found");
        assert!(
            !answer.headers.contains_key("x-duo-mock-not-implemented"),
            "{path}: a served route's missing object is Duo's plain 404"
        );
    }
}

#[tokio::test]
async fn unknown_routes_and_wrong_verbs_get_duos_envelope() {
    let s = spawn(&scenario("users-1.toml")).await;
    s.get("/admin/v1/nothing", "")
        .await
        .assert_fail(40401, "Resource not found");
    s.unsigned("GET", "/")
        .await
        .assert_fail(40401, "Resource not found");
    let put = Call {
        method: "PUT",
        ..Call::get("/admin/v1/users", "")
    };
    s.send(put).await.assert_fail(40501, "Method not allowed");
    s.unsigned("DELETE", "/admin/v1/groups")
        .await
        .assert_fail(40501, "Method not allowed");
}

#[tokio::test]
async fn each_endpoint_requires_its_grant() {
    let s = spawn(&scenario("default.toml")).await;
    let truth = dump(&scenario("default.toml"));
    let user = truth["users"][0]["user_id"].as_str().expect("id").to_owned();
    let group = truth["groups"][0]["group_id"].as_str().expect("id").to_owned();
    let admin = truth["admins"][0]["admin_id"].as_str().expect("id").to_owned();
    let read_resource = [
        "/admin/v1/users".to_owned(),
        format!("/admin/v1/users/{user}"),
        format!("/admin/v1/users/{user}/groups"),
        "/admin/v1/groups".to_owned(),
        format!("/admin/v1/groups/{group}"),
        format!("/admin/v2/groups/{group}"),
        format!("/admin/v2/groups/{group}/users"),
    ];
    for path in &read_resource {
        let refused = s.send(Call::get(path, "").signed_by("no-read-resource")).await;
        refused.assert_fail(40301, "Access forbidden");
        assert!(refused.json.get("message_detail").is_none(), "Duo names no grant");
        s.send(Call::get(path, "").signed_by("no-admins")).await.ok();
    }
    for path in ["/admin/v1/admins".to_owned(), format!("/admin/v1/admins/{admin}")] {
        s.send(Call::get(&path, "").signed_by("no-admins"))
            .await
            .assert_fail(40301, "Access forbidden");
        s.send(Call::get(&path, "").signed_by("no-read-resource"))
            .await
            .ok();
    }
    // Neither extra integration has "Grant settings".
    s.send(Call::get("/admin/v1/settings", "").signed_by("no-admins"))
        .await
        .assert_fail(40301, "Access forbidden");
    s.send(Call::get("/admin/v1/info/summary", "").signed_by("no-admins"))
        .await
        .ok();
}

#[tokio::test]
async fn summary_counts_the_tenant_and_settings_name_it() {
    let sc = scenario("default.toml");
    let truth = dump(&sc);
    let s = spawn(&sc).await;
    let summary = s.get("/admin/v1/info/summary", "").await;
    let users = truth["users"].as_array().expect("users");
    let pending = users.iter().filter(|u| u["status"] == "pending deletion").count();
    let r = summary.ok();
    assert_eq!(r["user_count"], users.len() - pending);
    assert_eq!(r["user_pending_deletion_count"], pending);
    assert_eq!(
        r["admin_count"],
        truth["admins"].as_array().map(Vec::len).unwrap_or(0)
    );
    assert_eq!(r["integration_count"], 6);
    assert!(r["telephony_credits_remaining"].is_u64());
    let settings = s.get("/admin/v1/settings", "").await;
    assert_eq!(settings.ok()["name"], "Acme Corp");
}

#[tokio::test]
async fn user_filters_match_username_alias_email_and_lists() {
    let sc = scenario("unicode.toml");
    let s = spawn(&sc).await;
    let names = |a: &crate::support::Answer| -> Vec<String> {
        a.ok()
            .as_array()
            .expect("list")
            .iter()
            .map(|u| u["username"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let zoe = "zoë o'brien+ops";
    for query in [
        "username=zo%C3%AB+o%27brien%2Bops",
        "username=%CE%B6%CF%89%CE%AE",
        "email=zoe.obrien%40acme.example",
        "username=zo%C3%AB&email=zoe.obrien%40acme.example",
    ] {
        assert_eq!(names(&s.get("/admin/v1/users", query).await), [zoe], "{query}");
    }
    let none = s.get("/admin/v1/users", "username=nobody").await;
    assert_eq!(names(&none), Vec::<String>::new());
    assert!(none.json.get("metadata").is_none());

    let truth = dump(&sc);
    let users = truth["users"].as_array().expect("users");
    let (a, b) = (
        users[0]["user_id"].as_str().expect("id"),
        users[2]["user_id"].as_str().expect("id"),
    );
    let json_list = format!("user_id_list=%5B%22{b}%22%2C+%22{a}%22%5D&limit=100&offset=0");
    let repeated = format!("user_id_list={a}&user_id_list={b}&user_id_list=DUNOPE");
    for query in [json_list, repeated] {
        let got = s.get("/admin/v1/users", &query).await;
        let ids: Vec<&str> = got
            .ok()
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|u| u["user_id"].as_str())
            .collect();
        assert_eq!(ids, [a, b], "{query}");
    }
    let by_names = s
        .get(
            "/admin/v1/users",
            "username_list=%5B%22%E6%9D%8E+%E5%B0%8F%E9%BE%99%2Fqa%22%2C+%22z+o+b%22%5D",
        )
        .await;
    assert_eq!(names(&by_names), [zoe, "李 小龙/qa"]);
    s.get("/admin/v1/users", &format!("user_id_list={a}&username=x"))
        .await
        .assert_fail(40002, "Invalid request parameters");
    let too_many: String = (0..101).map(|i| format!("user_id_list=DU{i:018}&")).collect();
    s.get("/admin/v1/users", &too_many)
        .await
        .assert_fail(40002, "Invalid request parameters");
}

#[tokio::test]
async fn groups_by_group_id_list_are_exactly_those_groups_in_tenant_order() {
    let sc = scenario("default.toml");
    let s = spawn(&sc).await;
    let truth = dump(&sc);
    let groups = truth["groups"].as_array().expect("groups");
    let id = |i: usize| groups[i]["group_id"].as_str().expect("id");
    let (a, b) = (id(1), id(3));
    let json_list = format!("group_id_list=%5B%22{b}%22%2C+%22{a}%22%2C+%22{a}%22%5D");
    let repeated = format!("group_id_list={b}&group_id_list=DGNOPE&group_id_list={a}");
    for query in [json_list, repeated] {
        let got = s.get("/admin/v1/groups", &query).await;
        assert_eq!(got.ok(), &serde_json::json!([groups[1], groups[3]]), "{query}");
    }
    let none = s
        .get("/admin/v1/groups", "group_id_list=%5B%22DGNOPE%22%5D")
        .await;
    assert_eq!(none.ok(), &serde_json::json!([]));
    for bad in [
        "group_id_list=%5B1%2C2%5D".to_owned(),
        (0..101).map(|i| format!("group_id_list=DG{i:018}&")).collect(),
    ] {
        s.get("/admin/v1/groups", &bad)
            .await
            .assert_fail(40002, "Invalid request parameters");
    }
}

#[tokio::test]
async fn ping_is_unsigned_and_tells_the_time() {
    let s = spawn(&scenario("empty.toml")).await;
    let ping = s.unsigned("GET", "/auth/v2/ping").await;
    let time = ping.ok()["time"].as_i64().expect("integer time");
    assert!((time - crate::support::now()).abs() < 5);
}

#[tokio::test]
async fn tls_serves_the_same_api_with_a_generated_ca() {
    let sc = scenario("users-301.toml");
    let s = spawn_tls(&sc).await;
    assert!(s.server.base_url().starts_with("https://localhost:"));
    assert_eq!(s.get_all("/admin/v1/users", 300).await.len(), 301);
    let ca = s.server.info().ca_cert.clone().expect("CA path");
    assert_eq!(
        std::fs::read_to_string(&ca).expect("CA file"),
        s.server.ca_pem().expect("pem")
    );
    drop(s);
    assert!(!ca.exists(), "the CA file is removed when the server stops");
}

#[tokio::test]
async fn bodies_are_json_with_exact_content_length() {
    let s = spawn(&scenario("users-300.toml")).await;
    let url = format!("{}/auth/v2/ping", s.server.base_url());
    let response = reqwest::get(&url).await.expect("ping");
    let length = response.content_length().expect("content-length");
    assert_eq!(response.bytes().await.expect("body").len() as u64, length);
    let page = s.get("/admin/v1/users", "limit=300").await;
    assert_eq!(page.content_type, "application/json");
    assert_eq!(page.ok().as_array().map(Vec::len), Some(300));
}

#[tokio::test]
async fn tls_with_a_certificate_and_key_from_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("cert");
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    let options = mock_server::StartOptions {
        tls: mock_server::TlsMode::Files {
            cert: cert_path,
            key: key_path,
        },
        ..mock_server::StartOptions::default()
    };
    let server = mock_server::MockServer::start(&scenario("users-1.toml"), options)
        .await
        .expect("starts");
    assert!(
        server.info().ca_cert.is_none(),
        "no CA is made for a given certificate"
    );
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).expect("pem"))
        .build()
        .expect("client");
    let ping: Value = client
        .get(format!("{}/auth/v2/ping", server.base_url()))
        .send()
        .await
        .expect("TLS request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(ping["stat"], "OK");
}

#[tokio::test]
async fn tls_certificate_faults_fail_the_handshake_the_way_customers_see_it() {
    for (fault, expected) in [
        ("foreign-ca", "UnknownIssuer"),
        ("expired", "Expired"),
        ("wrong-host", "NotValidForName"),
    ] {
        let sc = mock_server::Scenario::builder()
            .users(1)
            .toml(&format!("[options]\ntls = true\ntls_certificate = \"{fault}\"\n"))
            .build()
            .expect("builds");
        let s = spawn_tls(&sc).await;
        let error = s
            .http
            .get(format!("{}/auth/v2/ping", s.server.base_url()))
            .send()
            .await
            .expect_err("the handshake must fail");
        let chain = format!("{error:?}");
        assert!(chain.contains(expected), "{fault}: {chain}");
    }
    let fine = mock_server::Scenario::builder()
        .users(1)
        .toml("[options]\ntls = true\n")
        .build()
        .expect("builds");
    let s = spawn_tls(&fine).await;
    s.unsigned("GET", "/auth/v2/ping").await.ok();
}

#[tokio::test]
async fn v1_group_info_is_the_group_with_its_members_unless_the_scenario_says_not() {
    let sc = scenario("default.toml");
    let truth = dump(&sc);
    let s = spawn(&sc).await;
    let group = &truth["groups"][1];
    let id = group["group_id"].as_str().expect("id");
    let members = &truth["group_members"][id];
    assert!(
        members.as_array().is_some_and(|m| !m.is_empty()),
        "a group with members"
    );
    let v1 = s.get(&format!("/admin/v1/groups/{id}"), "").await;
    let mut expected = group.clone();
    expected["users"] = members.clone();
    assert_eq!(v1.ok(), &expected);
    let at = |key: &str| v1.raw.find(&format!("\"{key}\":")).expect(key);
    assert!(
        at("status") < at("users") && at("users") < at("voice_enabled"),
        "keys stay alphabetical: {}",
        v1.raw
    );

    let without = mock_server::Scenario::builder()
        .groups(2)
        .users(3)
        .toml("[options]\ngroup_v1_users = false\n")
        .build()
        .expect("builds");
    let truth = dump(&without);
    let s = spawn(&without).await;
    let id = truth["groups"][0]["group_id"].as_str().expect("id");
    assert_eq!(
        s.get(&format!("/admin/v1/groups/{id}"), "").await.ok(),
        &truth["groups"][0]
    );
}

#[tokio::test]
async fn passport_idv_and_verification_push_reads() {
    let sc = scenario("default.toml");
    let s = spawn(&sc).await;
    let truth = dump(&sc);
    let user = truth["users"][0]["user_id"].as_str().expect("id");

    let passport = s.get("/admin/v2/passport/config", "").await;
    assert_eq!(
        passport.ok(),
        &serde_json::json!({"disabled_groups": [], "enabled_groups": [], "enabled_status": "disabled"})
    );
    let default = std::fs::read_to_string(scenario_path("default.toml")).expect("default.toml");
    let enabled = spawn(&scenario_text(&format!(
        "{default}\n[options]\npassport = \"enabled\"\n"
    )))
    .await;
    assert_eq!(
        enabled.get("/admin/v2/passport/config", "").await.ok()["enabled_status"],
        "enabled"
    );

    let idv = s
        .get(&format!("/admin/v2/identity_verification/{user}/status"), "")
        .await;
    assert_eq!(idv.ok()["user_id"], user);
    assert_eq!(idv.ok()["status"], "not_started");
    s.get("/admin/v2/identity_verification/DUNOPE/status", "")
        .await
        .assert_fail(40401, "Resource not found");

    let push = format!("/admin/v1/users/{user}/verification_push_response");
    s.get(&push, "push_id=0a1b2c")
        .await
        .assert_fail(40401, "Resource not found");
    s.get(&push, "")
        .await
        .assert_fail(40002, "Invalid request parameters");
    s.get("/admin/v1/users/DUNOPE/verification_push_response", "push_id=x")
        .await
        .assert_fail(40401, "Resource not found");
}
