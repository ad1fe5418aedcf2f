//! Tenants of an exact shape: `not_enrolled`, `status_counts` and `group_sizes` hold exactly, as
//! a client counts them over HTTP, on any thread count; written-out users get generated names for
//! what they leave out; each new key's mistakes are located at the key.

use std::collections::HashMap;
use std::process::Command;

use mock_server::Scenario;
use serde_json::Value;

use crate::support::{root, scenario, scenario_path, scenario_text, spawn};

const EXACT: &str = "examples/exact-shape.toml";

#[tokio::test]
async fn exact_counts_hold_as_a_client_counts_them() {
    let sc = scenario(EXACT);
    let s = spawn(&sc).await;
    let users = s.get_all("/admin/v1/users", 300).await;
    assert_eq!(users.len(), 5001, "5,000 generated and one written out");
    let unenrolled = users.iter().filter(|u| u["is_enrolled"] == false).count();
    assert_eq!(unenrolled, 1500);
    let mut statuses: HashMap<&str, usize> = HashMap::new();
    for user in &users {
        *statuses
            .entry(user["status"].as_str().expect("status"))
            .or_default() += 1;
    }
    assert_eq!(statuses["locked out"], 20, "{statuses:?}");
    assert_eq!(statuses["disabled"], 10, "{statuses:?}");
    assert!(
        statuses["bypass"] > 0 && statuses["active"] > 4000,
        "the rest drawn from the mix: {statuses:?}"
    );

    let groups = s.get_all("/admin/v1/groups", 100).await;
    assert_eq!(groups.len(), 14);
    let mut sizes = Vec::new();
    for group in &groups {
        let id = group["group_id"].as_str().expect("id");
        let members = s.get_all(&format!("/admin/v2/groups/{id}/users"), 500).await;
        sizes.push(members.len());
    }
    assert_eq!(sizes[..10], [400; 10], "{sizes:?}");
    assert!(
        sizes[10..].iter().all(|n| *n != 400 && *n > 0),
        "the other groups drawn as before: {sizes:?}"
    );
}

#[test]
fn exact_shapes_are_deterministic_and_the_seed_decides_who() {
    let dump = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_duo-mock"))
            .current_dir(root())
            .arg("dump")
            .arg("--scenario")
            .arg(scenario_path(EXACT))
            .args(args)
            .output()
            .expect("duo-mock dump runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    let first = dump(&[]);
    assert_eq!(first, dump(&[]), "dump twice: the same bytes");

    let sc = scenario(EXACT);
    let library = |sc: &Scenario, threads| {
        let tenant = mock_server::generate::build_with_threads(sc, threads).expect("builds");
        let mut out = Vec::new();
        mock_server::dump::write_dump(&tenant, &[], &mut out).expect("dump");
        out
    };
    assert_eq!(library(&sc, 1), library(&sc, 4), "any thread count");

    let unenrolled = |bytes: &[u8]| -> Vec<String> {
        let d: Value = serde_json::from_slice(bytes).expect("JSON");
        d["users"]
            .as_array()
            .expect("users")
            .iter()
            .filter(|u| u["is_enrolled"] == false)
            .map(|u| u["username"].as_str().expect("name").to_owned())
            .collect()
    };
    let text = std::fs::read_to_string(scenario_path(EXACT)).expect("read");
    let reseeded = scenario_text(&text.replace("seed = 1903", "seed = 1904"));
    let (a, b) = (unenrolled(&first), unenrolled(&library(&reseeded, 2)));
    assert_eq!((a.len(), b.len()), (1500, 1500));
    assert_ne!(a, b, "another seed chooses other users");
}

#[tokio::test]
async fn written_out_users_get_generated_names_for_what_they_leave_out() {
    let sc = scenario_text(
        &(Scenario::builder().to_toml()
            + r#"
[[users]]
username = "svc.backup"

[[users]]
username = "zed"
firstname = "Zed"

[[users]]
username = "carol"
realname = "Carol Only"
email = "carol@elsewhere.example"
status = "disabled"
"#),
    );
    let s = spawn(&sc).await;
    let user = |name: &'static str| {
        let s = &s;
        async move {
            let answer = s.get("/admin/v1/users", &format!("username={name}")).await;
            answer.ok()[0].clone()
        }
    };
    let svc = user("svc.backup").await;
    let (first, last) = (
        svc["firstname"].as_str().expect("firstname"),
        svc["lastname"].as_str().expect("lastname"),
    );
    assert!(
        !first.is_empty() && !last.is_empty() && first.chars().next().is_some_and(char::is_uppercase),
        "{svc}"
    );
    assert_eq!(svc["realname"], format!("{first} {last}"));
    assert_ne!(svc["realname"], "svc.backup");
    assert_eq!(svc["email"], "svc.backup@example.com");

    let zed = user("zed").await;
    assert_eq!(zed["firstname"], "Zed", "a given field stays as written");
    let last = zed["lastname"].as_str().expect("lastname");
    assert!(!last.is_empty());
    assert_eq!(zed["realname"], format!("Zed {last}"));

    let carol = user("carol").await;
    assert_eq!(
        (
            &carol["realname"],
            &carol["email"],
            &carol["status"],
            &carol["firstname"],
            &carol["lastname"]
        ),
        (
            &Value::from("Carol Only"),
            &Value::from("carol@elsewhere.example"),
            &Value::from("disabled"),
            &Value::Null,
            &Value::Null
        ),
        "a written realname alone leaves the given names unset"
    );
}

/// The error `text` gives (parsing, then building), and the line and column of `needle` in it.
fn located(text: &str, needle: &str) -> (String, String) {
    let error = Scenario::parse(text, "s.toml")
        .and_then(|sc| mock_server::generate::build(&sc).map(|_| ()))
        .expect_err(needle)
        .to_string();
    let at = text.find(needle).expect("needle in text");
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    (error, format!("s.toml:{line}:{column}:"))
}

#[test]
fn shape_mistakes_are_located_at_their_key() {
    let base = Scenario::builder()
        .to_toml()
        .replace("users = 0\n", "users = 10\n");
    let generate = |extra: &str| base.replace("[generate]\n", &format!("[generate]\n{extra}\n"));
    for (text, needle, words) in [
        (
            generate("not_enrolled = 11"),
            "11",
            "exceeds the 10 generated users",
        ),
        (
            generate("status_counts = { disabled = 6, bypass = 5 }"),
            "{ disabled",
            "add up to 11",
        ),
        (
            generate("status_counts = { \"locked\" = 1 }"),
            "\"locked\"",
            "\"locked\" is not a user status; expected one of: active, bypass, disabled, locked out, pending deletion",
        ),
        (
            generate("group_sizes = [11]").replace("groups = 0", "groups = 1"),
            "[11]",
            "larger than the tenant's 10 users",
        ),
        (
            generate("group_sizes = [2]"),
            "[2]",
            "more than the 0 generated groups",
        ),
        (
            base.clone() + "\n[[churn]]\nat_s = 0\nuser_range = [5, 10]\ndelete_users = 1\n",
            "[5, 10]",
            "positions 0 to 9",
        ),
        (
            base.clone() + "\n[[churn]]\nat_s = 0\nusers = [\"nobody.here\"]\nrename_users = 1\n",
            "\"nobody.here\"",
            "no user named \"nobody.here\"",
        ),
    ] {
        let (error, at) = located(&text, needle);
        assert!(
            error.starts_with(&at) && error.contains(words),
            "{error} (wanted {at} {words})"
        );
    }
}
