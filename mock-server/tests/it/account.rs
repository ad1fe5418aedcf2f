//! The account's objects over HTTP, each answer checked against the scenario or the dump:
//! integrations (flags = grants, never a secret key but on the skey route, never journaled),
//! administrative units, the administrators' extras, policies v2, the logo and billing.

use mock_server::Scenario;
use mock_server::grants::Grant;
use serde_json::Value;

use crate::support::{Call, dump, root, scenario, spawn};

/// default.toml's integration with every read grant (Grant applications included).
const FULL: &str = "full-read";

#[tokio::test]
async fn every_integration_is_served_by_key_with_its_grants_as_flags_and_its_key_masked() {
    let scenario = scenario("default.toml");
    let s = spawn(&scenario).await;
    for integration in &scenario.integrations {
        for version in ["v2", "v3"] {
            let path = format!("/admin/{version}/integrations/{}", integration.ikey);
            let answer = s.send(Call::get(&path, "").signed_by(FULL)).await;
            let object = answer.ok();
            assert_eq!(object["integration_key"], integration.ikey.as_str());
            assert_eq!(object["name"], integration.name.as_str());
            for grant in Grant::ALL {
                assert_eq!(
                    object[grant.flag()],
                    u64::from(integration.grants.contains(grant)),
                    "{path}: {}",
                    grant.flag()
                );
            }
            let shown = object["secret_key"].as_str().expect("secret_key masked");
            assert_eq!(shown.len(), integration.skey.len());
            assert!(shown.starts_with("************"), "{shown}");
            assert!(shown.ends_with(&integration.skey[integration.skey.len() - 4..]));
            assert!(!answer.raw.contains(&integration.skey), "{path} shows the key");
            assert_eq!(object.get("user_access").is_some(), version == "v3");
        }
    }
    let vpn = &scenario.integrations[4];
    assert_eq!(vpn.name, "Acme VPN");
    let object = s
        .send(Call::get(&format!("/admin/v3/integrations/{}", vpn.ikey), "").signed_by(FULL))
        .await;
    assert_eq!(object.ok()["type"], "authapi");
    let truth = dump(&scenario);
    let policy = truth["policy_summary"]["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .find(|p| p["policy_applies_to"][0]["app_integration_key"] == vpn.ikey.as_str())
        .expect("the VPN's policy");
    assert_eq!(object.ok()["policy_key"], policy["policy_key"]);
    let main = s
        .send(
            Call::get(
                &format!("/admin/v3/integrations/{}", scenario.integrations[0].ikey),
                "",
            )
            .signed_by(FULL),
        )
        .await;
    assert!(
        main.ok().get("policy_key").is_none(),
        "the global policy applies: no key"
    );

    s.send(Call::get("/admin/v3/integrations/DINOSUCHINTEGRATION0", "").signed_by(FULL))
        .await
        .assert_fail(40401, "Resource not found");
    s.send(Call::get(&format!("/admin/v3/integrations/{}", vpn.ikey), "").signed_by("access-review"))
        .await
        .assert_fail(40301, "Access forbidden");
}

#[tokio::test]
async fn the_secret_key_route_answers_the_key_with_grant_applications_and_the_journal_keeps_none_of_it() {
    let scenario = scenario("default.toml");
    let s = spawn(&scenario).await;
    for integration in &scenario.integrations {
        let path = format!("/admin/v1/integrations/{}/skey", integration.ikey);
        let answer = s.send(Call::get(&path, "").signed_by(FULL)).await;
        assert_eq!(answer.ok()["secret_key"], integration.skey.as_str());
        s.send(Call::get(&path, "").signed_by("access-review"))
            .await
            .assert_fail(40301, "Access forbidden");
    }
    s.send(Call::get("/admin/v1/integrations/DINOSUCHINTEGRATION0/skey", "").signed_by(FULL))
        .await
        .assert_fail(40401, "Resource not found");
    let journal = s.server.state().journal().entries();
    assert!(
        journal
            .iter()
            .any(|e| e.path.ends_with("/skey") && e.status == 200)
    );
    for entry in journal {
        let text = format!("{entry:?}");
        for integration in &scenario.integrations {
            assert!(
                !text.contains(&integration.skey),
                "journaled a secret key: {text}"
            );
        }
    }

    let origin = root().join("scenarios/default.toml");
    let closed = Scenario::parse(
        &std::fs::read_to_string(&origin)
            .expect("default.toml")
            .replace("[generate]", "[options]\nintegration_skey_readable = false\nintegration_secret_key = \"omitted\"\n\n[generate]"),
        &origin.display().to_string(),
    )
    .expect("scenario");
    let s = spawn(&closed).await;
    let ikey = &closed.integrations[0].ikey;
    s.send(Call::get(&format!("/admin/v1/integrations/{ikey}/skey"), "").signed_by(FULL))
        .await
        .assert_fail(40301, "Access forbidden");
    let object = s
        .send(Call::get(&format!("/admin/v3/integrations/{ikey}"), "").signed_by(FULL))
        .await;
    assert!(object.ok().get("secret_key").is_none(), "omitted");
}

#[tokio::test]
async fn a_scenario_may_make_integrations_readable_with_grant_read_resource() {
    let scenario = Scenario::builder()
        .integration("reader", &[Grant::ReadResource])
        .integration("apps", &[Grant::Applications])
        .toml("[options]\nintegrations_read_grant = \"read-resource\"\n")
        .build()
        .expect("scenario");
    let s = spawn(&scenario).await;
    let path = format!("/admin/v3/integrations/{}", scenario.integrations[1].ikey);
    let object = s.send(Call::get(&path, "").signed_by("reader")).await;
    assert_eq!(object.ok()["adminapi_integrations"], 1);
    s.send(Call::get(&path, "").signed_by("apps"))
        .await
        .assert_fail(40301, "Access forbidden");
}

#[tokio::test]
async fn administrative_units_name_their_admins_groups_and_integrations_and_the_admins_name_them() {
    let scenario = scenario("default.toml");
    let truth = dump(&scenario);
    let s = spawn(&scenario).await;
    let units = truth["admin_units"].as_array().expect("units");
    assert_eq!(units.len(), scenario.admin_units.len());
    let engineering = truth["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["name"] == "Engineering")
        .expect("Engineering");
    assert_eq!(units[0]["groups"][0], engineering["group_id"]);
    assert_eq!(
        units[0]["integrations"][0],
        scenario.integrations[4].ikey.as_str()
    );
    assert_eq!(units[0]["restrict_by_groups"], true);
    assert_eq!(units[1]["restrict_by_integrations"], false);
    for unit in units {
        let id = unit["admin_unit_id"].as_str().expect("id");
        let answer = s.get(&format!("/admin/v1/administrative_units/{id}"), "").await;
        assert_eq!(answer.ok(), unit);
        for admin_id in unit["admins"].as_array().expect("admins") {
            let admin = s
                .get(
                    &format!("/admin/v1/admins/{}", admin_id.as_str().expect("id")),
                    "",
                )
                .await;
            assert_eq!(admin.ok()["admin_units"], Value::from(vec![id]));
            assert_eq!(admin.ok()["restricted_by_admin_units"], true);
        }
    }
    assert_eq!(units[0]["admins"].as_array().map(Vec::len), Some(1));
    s.get("/admin/v1/administrative_units/DNNOSUCHUNIT00000000", "")
        .await
        .assert_fail(40401, "Resource not found");
    let id = units[0]["admin_unit_id"].as_str().expect("id");
    s.send(Call::get(&format!("/admin/v1/administrative_units/{id}"), "").signed_by("no-admins"))
        .await
        .assert_fail(40301, "Access forbidden");
}

#[tokio::test]
async fn the_admins_extras_answer_from_the_admins() {
    let scenario = scenario("default.toml");
    let truth = dump(&scenario);
    let s = spawn(&scenario).await;
    let statuses = truth["password_mgmt"].as_array().expect("statuses");
    let admins = truth["admins"].as_array().expect("admins");
    assert_eq!(statuses.len(), admins.len());
    for (status, admin) in statuses.iter().zip(admins) {
        assert_eq!(status["admin_id"], admin["admin_id"]);
        assert_eq!(status["email"], admin["email"]);
        let id = admin["admin_id"].as_str().expect("id");
        let answer = s.get(&format!("/admin/v1/admins/{id}/password_mgmt"), "").await;
        assert_eq!(answer.ok(), status);
        assert_eq!(
            status["has_external_password_mgmt"],
            admin["email"] == "rita.regional@acme.example"
        );
    }
    let pending = admins
        .iter()
        .filter(|a| a["status"] == "Pending Activation")
        .count();
    assert_eq!(truth["activations"].as_array().map(Vec::len), Some(pending));
    let methods = s.get("/admin/v1/admins/allowed_auth_methods", "").await;
    assert_eq!(methods.ok(), &truth["allowed_auth_methods"]);
    assert_eq!(methods.ok()["verified_push_length"], 3);
    s.get("/admin/v1/admins/DENOSUCHADMIN0000000/password_mgmt", "")
        .await
        .assert_fail(40401, "Resource not found");
    s.send(Call::get("/admin/v1/admins/allowed_auth_methods", "").signed_by("no-admins"))
        .await
        .assert_fail(40301, "Access forbidden");
}

#[tokio::test]
async fn policies_the_global_one_first_by_key_and_summed_up_by_application() {
    let scenario = scenario("default.toml");
    let truth = dump(&scenario);
    let s = spawn(&scenario).await;
    let policies = truth["policies"].as_array().expect("policies");
    assert_eq!(policies.len(), 1 + scenario.policies.len());
    let global = s.get("/admin/v2/policies/global", "").await;
    assert_eq!(global.ok(), &policies[0]);
    assert_eq!(global.ok()["is_global_policy"], true);
    assert_eq!(global.ok()["policy_name"], "Global Policy");
    for policy in policies {
        let key = policy["policy_key"].as_str().expect("key");
        assert!(key.starts_with("PO") && key.len() == 20, "{key}");
        assert_eq!(s.get(&format!("/admin/v2/policies/{key}"), "").await.ok(), policy);
    }
    assert_eq!(
        policies[1]["sections"]["authentication_methods"]["blocked_auth_list"],
        serde_json::json!(["phonecall", "sms"])
    );
    let summary = s.get("/admin/v2/policies/summary", "").await;
    assert_eq!(summary.ok(), &truth["policy_summary"]);
    assert_eq!(summary.ok()["policy_count"], policies.len());
    let applied: Vec<Value> = summary.ok()["policies"]
        .as_array()
        .expect("policies")
        .iter()
        .flat_map(|p| p["policy_applies_to"].as_array().cloned().unwrap_or_default())
        .map(|a| a["app_name"].clone())
        .collect();
    assert_eq!(applied, ["Acme VPN", "Microsoft 365"]);
    s.get("/admin/v2/policies/PONOSUCHPOLICY000000", "")
        .await
        .assert_fail(40401, "Resource not found");
    s.send(Call::get("/admin/v2/policies/global", "").signed_by("no-read-resource"))
        .await
        .assert_fail(40301, "Access forbidden");
}

#[tokio::test]
async fn the_logo_is_the_scenarios_png_and_without_one_duos_404() {
    let text = std::fs::read_to_string(root().join("scenarios/default.toml")).expect("default.toml");
    let branded = text.replacen("[tenant]\n", "[tenant]\nlogo = \"acme-logo.png\"\n", 1);
    let s = spawn(&crate::support::scenario_text(&branded)).await;
    let logo = s.get("/admin/v1/logo", "").await;
    assert_eq!(logo.status, 200);
    assert_eq!(logo.content_type, "image/png");
    let png = std::fs::read(root().join("scenarios/acme-logo.png")).expect("logo");
    assert_eq!(logo.raw, String::from_utf8_lossy(&png));
    s.send(Call::get("/admin/v1/logo", "").signed_by("no-admins"))
        .await
        .assert_fail(40301, "Access forbidden");

    let plain = spawn(&Scenario::builder().build().expect("scenario")).await;
    plain
        .get("/admin/v1/logo", "")
        .await
        .assert_fail(40401, "Resource not found");
}

#[tokio::test]
async fn billing_answers_the_edition_and_credits_only_where_the_scenario_enables_it() {
    let scenario = scenario("default.toml");
    let s = spawn(&scenario).await;
    let edition = s.get("/admin/v1/billing/edition", "").await;
    assert_eq!(edition.ok(), &serde_json::json!({"edition": "BEYOND"}));
    let credits = s.get("/admin/v1/billing/telephony_credits", "").await;
    assert_eq!(
        credits.ok(),
        &serde_json::json!({"credits": scenario.tenant.telephony_credits_remaining})
    );
    let plain = spawn(&Scenario::builder().build().expect("scenario")).await;
    for path in ["/admin/v1/billing/edition", "/admin/v1/billing/telephony_credits"] {
        plain.get(path, "").await.assert_fail(40301, "Access forbidden");
    }
}

#[test]
fn scenario_mistakes_in_the_new_tables_are_located() {
    let base = "[tenant]\napi_hostname = \"api-1.duosecurity.com\"\nseed = 1\n\n\
                [[integrations]]\nname = \"main\"\nikey = \"DIAAAAAAAAAAAAAAAAAA\"\nskey = \"k\"\ngrants = []\n";
    for (extra, line, wanted) in [
        (
            "[[policies]]\nname = \"p\"\nintegrations = [\"nope\"]\n",
            13,
            "no integration named",
        ),
        ("[[policies]]\nname = \"Global Policy\"\n", 12, "global policy"),
        (
            "[[admin_units]]\nname = \"u\"\nadmins = [\"x@y\"]\n",
            13,
            "no written-out admin",
        ),
        (
            "[[admin_units]]\nname = \"u\"\nadmin_unit_id = \"bad\"\n",
            13,
            "not a Duo id",
        ),
    ] {
        let text = format!("{base}\n{extra}");
        let error = Scenario::parse(&text, "s.toml").expect_err(extra).to_string();
        assert!(error.starts_with(&format!("s.toml:{line}:")), "{error}");
        assert!(error.contains(wanted), "{error}");
    }
    let groups = format!("{base}\n[[admin_units]]\nname = \"u\"\ngroups = [\"Nowhere\"]\n");
    let scenario = Scenario::parse(&groups, "s.toml").expect("parses");
    let error = mock_server::generate::build(&scenario)
        .expect_err("unknown group")
        .to_string();
    assert!(error.starts_with("s.toml:13:"), "{error}");

    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("logo.png"), b"GIF89a").expect("write");
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        base.replace("seed = 1\n", "seed = 1\nlogo = \"logo.png\"\n"),
    )
    .expect("write");
    let error = Scenario::load(&path).expect_err("not a PNG").to_string();
    assert!(error.contains(":4:") && error.contains("not a PNG"), "{error}");
    std::fs::write(
        &path,
        base.replace("seed = 1\n", "seed = 1\nedition = \"GOLD\"\n"),
    )
    .expect("write");
    let error = Scenario::load(&path).expect_err("edition").to_string();
    assert!(error.contains(":4:") && error.contains("GOLD"), "{error}");
}

#[tokio::test]
async fn the_lists_hold_every_object_of_the_dump_paged_clamped_and_filtered() {
    let scenario = scenario("default.toml");
    let truth = dump(&scenario);
    let s = spawn(&scenario).await;
    let call = |path: &str, query: &str| Call::get(path, query).signed_by(FULL);
    for (path, key) in [
        ("/admin/v3/integrations", "integration_objects"),
        ("/admin/v1/administrative_units", "admin_units"),
        ("/admin/v1/admins/password_mgmt", "password_mgmt"),
        ("/admin/v1/admins/activations", "activations"),
        ("/admin/v2/policies", "policies"),
    ] {
        let mut all = Vec::new();
        let mut offset = 0;
        loop {
            let page = s.send(call(path, &format!("limit=1&offset={offset}"))).await;
            all.extend(page.ok().as_array().expect("a list").iter().cloned());
            match page.json["metadata"]["next_offset"].as_u64() {
                Some(next) => offset = next,
                None => break,
            }
        }
        assert_eq!(Value::Array(all), truth[key], "{path}");
        let whole = s.send(call(path, "limit=100000")).await;
        assert_eq!(whole.ok(), &truth[key], "{path} clamped");
        s.send(call(path, "limit=-1"))
            .await
            .assert_fail(40002, "Invalid request parameters");
    }
    let listed = s.send(call("/admin/v3/integrations", "")).await;
    assert_eq!(
        listed.ok().as_array().map(Vec::len),
        Some(scenario.integrations.len())
    );
    assert!(listed.json.get("metadata").is_none(), "one page: no metadata");
    let policies = s.send(call("/admin/v2/policies", "")).await;
    assert_eq!(
        policies.json["metadata"]["total_objects"], 3,
        "policies: always metadata"
    );
    for version in ["v1", "v2"] {
        let legacy = s.send(call(&format!("/admin/{version}/integrations"), "")).await;
        let objects = legacy.ok().as_array().expect("list").clone();
        assert_eq!(objects.len(), scenario.integrations.len());
        for (object, integration) in objects.iter().zip(&scenario.integrations) {
            assert_eq!(object["integration_key"], integration.ikey.as_str());
            assert!(object.get("user_access").is_none());
            assert!(!legacy.raw.contains(&integration.skey));
        }
    }
    for integration in &scenario.integrations {
        assert!(
            !listed.raw.contains(&integration.skey),
            "a list shows a secret key"
        );
    }
    s.get("/admin/v3/integrations", "")
        .await
        .assert_fail(40301, "Access forbidden");

    let units = truth["admin_units"].as_array().expect("units");
    let rita = units[0]["admins"][0].as_str().expect("admin");
    let engineering = units[0]["groups"][0].as_str().expect("group");
    let vpn = &scenario.integrations[4].ikey;
    for query in [
        format!("admin_id={rita}"),
        format!("group_id={engineering}"),
        format!("integration_key={vpn}"),
    ] {
        let found = s.get("/admin/v1/administrative_units", &query).await;
        assert_eq!(found.ok(), &Value::Array(vec![units[0].clone()]), "{query}");
    }
    let none = s
        .get("/admin/v1/administrative_units", "group_id=DGNOSUCHGROUP0000000")
        .await;
    assert_eq!(none.ok(), &Value::Array(Vec::new()));
    let two = s
        .get(
            "/admin/v1/administrative_units",
            &format!("admin_id={rita}&group_id={engineering}"),
        )
        .await;
    two.assert_fail(40002, "Invalid request parameters");
    assert_eq!(two.json["message_detail"], "group_id");
}

#[tokio::test]
async fn the_calculated_policy_lays_the_applications_policy_over_the_global_one() {
    let scenario = scenario("default.toml");
    let truth = dump(&scenario);
    let s = spawn(&scenario).await;
    let user = truth["users"][0]["user_id"].as_str().expect("user");
    let global = &truth["policies"][0];
    let vpn_policy = &truth["policies"][1];
    let ask = |ikey: &str| format!("integration_key={ikey}&user_id={user}");
    let vpn = s
        .get(
            "/admin/v2/policies/calculate",
            &ask(&scenario.integrations[4].ikey),
        )
        .await;
    let elements: Vec<&Value> = vpn.ok()["policy_elements"]
        .as_array()
        .expect("elements")
        .iter()
        .collect();
    assert_eq!(elements.len(), 2);
    assert_eq!(elements[0]["policy_key"], global["policy_key"]);
    assert_eq!(elements[1]["policy_key"], vpn_policy["policy_key"]);
    let methods = &vpn.ok()["sections"]["authentication_methods"];
    assert_eq!(
        methods["blocked_auth_list"],
        vpn_policy["sections"]["authentication_methods"]["blocked_auth_list"]
    );
    assert_eq!(vpn.ok()["sections"]["new_user"], global["sections"]["new_user"]);
    let main = s
        .get(
            "/admin/v2/policies/calculate",
            &ask(&scenario.integrations[0].ikey),
        )
        .await;
    assert_eq!(main.ok()["sections"], global["sections"]);
    assert_eq!(main.ok()["policy_elements"].as_array().map(Vec::len), Some(1));
    let missing = s
        .get("/admin/v2/policies/calculate", &format!("user_id={user}"))
        .await;
    missing.assert_fail(40002, "Invalid request parameters");
    assert_eq!(missing.json["message_detail"], "integration_key");
    s.get(
        "/admin/v2/policies/calculate",
        &format!(
            "integration_key={}&user_id=DUNOSUCHUSER00000000",
            scenario.integrations[0].ikey
        ),
    )
    .await
    .assert_fail(40401, "Resource not found");
}
