//! Child accounts (an MSP's customers, `[[accounts]]`): the Accounts API's list, and Admin API
//! calls that Accounts API keys make for a child with `account_id`, each reading that child's
//! tenant and never another's; every way of asking wrong refused as Duo does.

use serde_json::{Value, json};

use crate::support::{Body, Call, TestServer, scenario, scenario_text, spawn};

const MSP: &str = "msp.toml";
const ACCOUNTS_KEYS: &str = "msp-accounts";
const PARENT_KEYS: &str = "parent-admin";

/// A child's tenant as `dump --account` renders it.
fn child_dump(file: &str, account_id: &str) -> Value {
    let sc = scenario(file);
    let account = sc
        .accounts
        .iter()
        .find(|a| a.account_id == account_id)
        .expect("child in scenario");
    crate::support::dump(&sc.child_scenario(account))
}

fn list_call() -> Call {
    Call {
        method: "POST",
        ..Call::get("/accounts/v1/account/list", "")
    }
}

async fn account_ids(s: &TestServer) -> Vec<String> {
    s.server
        .info()
        .accounts
        .iter()
        .map(|a| a.account_id.clone())
        .collect()
}

#[tokio::test]
async fn account_list_answers_each_child_with_its_id_host_and_name() {
    let s = spawn(&scenario(MSP)).await;
    let answer = s.send(list_call().signed_by(ACCOUNTS_KEYS)).await;
    let listed = answer.ok().as_array().expect("a list").clone();
    let expected: Vec<Value> = scenario(MSP)
        .accounts
        .iter()
        .map(|a| {
            json!({
                "account_id": a.account_id,
                "api_hostname": a.tenant.api_hostname,
                "name": a.tenant.name,
            })
        })
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(listed.len(), 3);
    // Keys in Duo's alphabetical order, and the third child's id drawn from its seed.
    assert!(
        answer
            .raw
            .starts_with(r#"{"response":[{"account_id":"DA8KJ1DENTAL00000001","api_hostname":"#)
    );
    let drawn = listed[2]["account_id"].as_str().expect("id");
    assert!(mock_server::model::is_duo_id(drawn, "DA"), "{drawn}");
    assert_eq!(
        scenario(MSP).accounts[2].account_id,
        drawn,
        "the same seed draws the same id"
    );
    // A v2 form POST (the older clients) lists the same.
    let v2 = s
        .send(
            list_call()
                .signed_by(ACCOUNTS_KEYS)
                .scheme(crate::support::V2_SHA512),
        )
        .await;
    assert_eq!(v2.ok().as_array(), Some(&listed));
}

#[tokio::test]
async fn an_admin_call_with_account_id_reads_that_child_and_never_the_parent() {
    let s = spawn(&scenario(MSP)).await;
    let parent_users = s
        .send(Call::get("/admin/v1/users", "limit=300").signed_by(PARENT_KEYS))
        .await
        .ok()
        .clone();
    assert_eq!(parent_users.as_array().map(Vec::len), Some(12));
    for id in account_ids(&s).await {
        let dump = child_dump(MSP, &id);
        let mut users = Vec::new();
        let mut offset = 0;
        loop {
            let answer = s
                .send(
                    Call::get(
                        "/admin/v1/users",
                        &format!("account_id={id}&limit=25&offset={offset}"),
                    )
                    .signed_by(ACCOUNTS_KEYS),
                )
                .await;
            users.extend(answer.ok().as_array().expect("list").iter().cloned());
            match answer.json["metadata"]["next_offset"].as_u64() {
                Some(next) => offset = next,
                None => break,
            }
        }
        assert_eq!(Value::Array(users), dump["users"], "{id}: users are the child's");
        for (path, key) in [("/admin/v1/groups", "groups"), ("/admin/v1/admins", "admins")] {
            let answer = s
                .send(Call::get(path, &format!("account_id={id}&limit=100")).signed_by(ACCOUNTS_KEYS))
                .await;
            assert_eq!(answer.ok(), &dump[key], "{id}: {path}");
        }
        // One object by id, and the child's own summary (its telephony credits).
        if let Some(user) = dump["users"].as_array().and_then(|u| u.first()) {
            let user_id = user["user_id"].as_str().expect("id");
            let one = s
                .send(
                    Call::get(&format!("/admin/v1/users/{user_id}"), &format!("account_id={id}"))
                        .signed_by(ACCOUNTS_KEYS),
                )
                .await;
            assert_eq!(one.ok(), user);
            // The parent does not have the child's user.
            s.send(Call::get(&format!("/admin/v1/users/{user_id}"), "").signed_by(PARENT_KEYS))
                .await
                .assert_fail(40401, "Resource not found");
        }
        let summary = s
            .send(Call::get("/admin/v1/info/summary", &format!("account_id={id}")).signed_by(ACCOUNTS_KEYS))
            .await;
        let account = scenario(MSP)
            .accounts
            .into_iter()
            .find(|a| a.account_id == id)
            .expect("child");
        assert_eq!(
            summary.ok()["telephony_credits_remaining"],
            json!(account.tenant.telephony_credits_remaining),
            "{id}"
        );
        assert_eq!(
            summary.ok()["user_count"],
            json!(dump["users"].as_array().map(Vec::len)),
            "{id}"
        );
        // Billing: the child's edition and credits (the parent has no billing API).
        let billing = |path: &'static str| {
            let s = &s;
            let id = id.clone();
            async move {
                s.send(Call::get(path, &format!("account_id={id}")).signed_by(ACCOUNTS_KEYS))
                    .await
                    .ok()
                    .clone()
            }
        };
        assert_eq!(
            billing("/admin/v1/billing/edition").await,
            json!({"edition": account.tenant.edition.get_ref()}),
            "{id}"
        );
        assert_eq!(
            billing("/admin/v1/billing/telephony_credits").await,
            json!({"credits": account.tenant.telephony_credits_remaining}),
            "{id}"
        );
        // The child's sign-in log names the child's users only.
        let now_ms = crate::support::now() * 1000;
        let log = s
            .send(
                Call::get(
                    "/admin/v2/logs/authentication",
                    &format!(
                        "account_id={id}&limit=1000&mintime={}&maxtime={}",
                        now_ms - 2 * 86_400_000,
                        now_ms - 120_000
                    ),
                )
                .signed_by(ACCOUNTS_KEYS),
            )
            .await;
        let events = log.ok()["authlogs"].as_array().expect("authlogs").clone();
        let usernames: std::collections::HashSet<&str> = dump["users"]
            .as_array()
            .expect("users")
            .iter()
            .filter_map(|u| u["username"].as_str())
            .collect();
        assert_eq!(
            events.is_empty(),
            usernames.is_empty(),
            "{id}: {} events",
            events.len()
        );
        let mut named = 0;
        for event in &events {
            let name = event["user"]["name"].as_str().unwrap_or("");
            assert!(
                name.is_empty() || usernames.contains(name),
                "{id}: {name:?} is no user of the child"
            );
            named += usize::from(!name.is_empty());
        }
        assert!(named * 2 >= events.len(), "{id}: most events name a user");
    }
}

#[tokio::test]
async fn an_account_id_that_is_not_a_child_is_refused_and_shows_no_data() {
    let s = spawn(&scenario(MSP)).await;
    let users = |query: &str| Call::get("/admin/v1/users", query).signed_by(ACCOUNTS_KEYS);
    // Well-formed, but no child of this account (another MSP's customer).
    let other = s.send(users("account_id=DA0THERMSPCUST000001")).await;
    other.assert_fail(40301, "Access forbidden");
    assert!(!other.raw.contains("user_id"), "{}", other.raw);
    // Malformed, or more than one.
    for query in [
        "account_id=",
        "account_id=DA8KJ1DENTAL0000000",
        "account_id=da8kj1dental00000001",
        "account_id=DU8KJ1DENTAL00000001",
        "account_id=DA8KJ1DENTAL00000001%00",
        "account_id=%FF%FE",
        "account_id=DA8KJ1DENTAL00000001&account_id=DA3LAWF1RM0000000002",
    ] {
        let answer = s.send(users(query)).await;
        answer.assert_fail(40002, "Invalid request parameters");
        assert_eq!(answer.json["message_detail"], "account_id", "{query}");
        assert!(!answer.raw.contains("user_id"), "{query}");
    }
    // Accounts API keys without account_id are no Admin API application of the parent.
    s.send(users("")).await.assert_fail(40301, "Access forbidden");
    s.send(Call::get("/admin/v1/info/summary", "").signed_by(ACCOUNTS_KEYS))
        .await
        .assert_fail(40301, "Access forbidden");
    // The scenario may answer an unknown child as 404 instead.
    let mut sc = scenario(MSP);
    sc.options.unknown_account_code = 40401;
    let s404 = spawn(&sc).await;
    s404.send(users("account_id=DA0THERMSPCUST000001"))
        .await
        .assert_fail(40401, "Resource not found");
}

#[tokio::test]
async fn admin_api_keys_reach_neither_the_accounts_api_nor_a_child() {
    let s = spawn(&scenario(MSP)).await;
    // Keys of another type: 40102 at the key check by default (options.wrong_type_code).
    s.send(list_call().signed_by(PARENT_KEYS))
        .await
        .assert_fail(40102, "Invalid integration key in request credentials");
    let mut sc = scenario(MSP);
    sc.options.wrong_type_code = 40301;
    let s403 = spawn(&sc).await;
    s403.send(list_call().signed_by(PARENT_KEYS))
        .await
        .assert_fail(40301, "Access forbidden");
    // The parent's plan has no billing API, whatever account_id its own keys send.
    s.send(Call::get("/admin/v1/billing/edition", "").signed_by(PARENT_KEYS))
        .await
        .assert_fail(40301, "Access forbidden");
    // An Admin API application's account_id selects nothing: it reads its own account.
    let child = s.server.info().accounts[0].account_id.clone();
    let own = s
        .send(Call::get("/admin/v1/users", &format!("account_id={child}&limit=300")).signed_by(PARENT_KEYS))
        .await;
    assert_eq!(
        own.ok(),
        &crate::support::dump(&scenario(MSP))["users"],
        "the parent's own users"
    );
}

#[tokio::test]
async fn a_write_through_account_id_changes_that_child_only() {
    let text = std::fs::read_to_string(crate::support::scenario_path(MSP))
        .expect("msp.toml")
        .replace(
            r#"grants = ["Grant read resource", "Grant administrators", "Grant read information", "Grant settings", "Grant read log"]"#,
            r#"grants = ["Grant read resource", "Grant write resource"]"#,
        );
    let sc = scenario_text(&text);
    let s = spawn(&sc).await;
    let child = sc.accounts[1].account_id.clone();
    let other = sc.accounts[0].account_id.clone();
    let count = |id: String| {
        let s = &s;
        async move {
            s.send(
                Call::get("/admin/v1/users", &format!("account_id={id}&limit=300")).signed_by(ACCOUNTS_KEYS),
            )
            .await
            .ok()
            .as_array()
            .map_or(0, Vec::len)
        }
    };
    let (before, other_before) = (count(child.clone()).await, count(other.clone()).await);
    // v5: the parameters, account_id among them, in a JSON body, as Duo's clients send them.
    let created = s
        .send(Call {
            method: "POST",
            body: Some(Body::Json(format!(
                r#"{{"account_id":"{child}","username":"new.hire"}}"#
            ))),
            ..Call::get("/admin/v1/users", "").signed_by(ACCOUNTS_KEYS)
        })
        .await;
    assert_eq!(created.ok()["username"], "new.hire");
    assert_eq!(count(child.clone()).await, before + 1);
    assert_eq!(count(other).await, other_before, "the other child is unchanged");
    let parent = s.server.state().world();
    assert_eq!(parent.tenant.users.len(), 12, "the parent is unchanged");
    // The control API's dump of the child shows the write.
    let dump = s
        .http
        .get(format!("{}/dump?account={child}", s.server.info().control_url))
        .header("x-duo-mock-token", &s.server.info().control_token)
        .send()
        .await
        .expect("dump");
    let dump: Value = dump.json().await.expect("JSON");
    assert!(
        dump["users"]
            .as_array()
            .expect("users")
            .iter()
            .any(|u| u["username"] == "new.hire")
    );
    // A JSON account_id that is no string is malformed.
    s.send(Call {
        method: "POST",
        body: Some(Body::Json(r#"{"account_id":7,"username":"x"}"#.to_owned())),
        ..Call::get("/admin/v1/users", "").signed_by(ACCOUNTS_KEYS)
    })
    .await
    .assert_fail(40002, "Invalid request parameters");
}

#[test]
fn a_malformed_accounts_table_fails_at_its_line_and_column() {
    let base = std::fs::read_to_string(crate::support::scenario_path(MSP)).expect("msp.toml");
    for (from, to, line, message) in [
        (
            r#"account_id = "DA3LAWF1RM0000000002""#,
            r#"account_id = "DA8KJ1DENTAL00000001""#,
            50,
            "duplicate account_id",
        ),
        (
            r#"account_id = "DA3LAWF1RM0000000002""#,
            r#"account_id = "DX3LAWF1RM0000000002""#,
            51,
            "is not a Duo id",
        ),
        (
            r#"api_hostname = "api-a4b5c6d7.duosecurity.com""#,
            r#"api_hostname = "api-5b1e7a20.duosecurity.com""#,
            52,
            "is another account's",
        ),
        (
            r#"edition = "PLATFORM""#,
            r#"edition = "GOLD""#,
            58,
            "is not one of",
        ),
        ("users = 15", "userz = 15", 61, "unknown field"),
    ] {
        let text = base.replacen(from, to, 1);
        let error = mock_server::Scenario::parse(&text, "msp.toml")
            .expect_err(to)
            .to_string();
        assert!(
            error.starts_with(&format!("msp.toml:{line}:")) && error.contains(message),
            "{to}: {error}"
        );
    }
}
