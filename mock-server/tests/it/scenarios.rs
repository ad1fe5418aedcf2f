//! Scenario files: every bundled file loads and serves; data is deterministic and consistent;
//! every kind of mistake is reported at its file:line:column.

use std::collections::HashSet;

use mock_server::{Error, Scenario};
use serde_json::Value;

use crate::support::{dump, root, scenario, scenario_text};

#[test]
fn every_bundled_scenario_loads_and_builds() {
    let mut seen = 0;
    for dir in [root().join("scenarios"), root().join("scenarios/catalogue")] {
        for entry in std::fs::read_dir(&dir).expect("scenario folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                let sc = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
                mock_server::generate::build(&sc).unwrap_or_else(|e| panic!("{e}"));
                let first_line = std::fs::read_to_string(&path)
                    .expect("read")
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                if dir.ends_with("catalogue") {
                    assert!(
                        first_line.starts_with("# D"),
                        "{}: opens with its catalogue row",
                        path.display()
                    );
                }
                seen += 1;
            }
        }
    }
    assert!(
        seen >= 7 + 21,
        "the bundled and catalogue scenarios are found: {seen}"
    );
}

#[test]
fn bundled_scenarios_have_the_promised_sizes() {
    for (file, users, admins, groups) in [
        ("empty.toml", 0, 0, 0),
        ("users-1.toml", 1, 1, 1),
        ("users-300.toml", 300, 3, 5),
        ("users-301.toml", 301, 3, 5),
        ("default.toml", 343, 11, 15),
    ] {
        let d = dump(&scenario(file));
        let len = |k: &str| d[k].as_array().map_or(0, Vec::len);
        assert_eq!(
            (len("users"), len("admins"), len("groups")),
            (users, admins, groups),
            "{file}"
        );
    }
    let sc = scenario("default.toml");
    assert_eq!(sc.integrations.len(), 6);
}

#[test]
fn the_same_scenario_gives_the_same_bytes_for_any_thread_count() {
    let sc = scenario("unicode.toml");
    let text = |threads| {
        let tenant = mock_server::generate::build_with_threads(&sc, threads).expect("builds");
        let mut out = Vec::new();
        mock_server::dump::write_dump(&tenant, &[], &mut out).expect("dump");
        out
    };
    let one = text(1);
    assert_eq!(one, text(1));
    assert_eq!(one, text(3));
    // A tenant spanning several chunks, generated on 1 and 4 threads.
    let big = scenario_text(
        &std::fs::read_to_string(crate::support::scenario_path("users-301.toml"))
            .expect("read")
            .replace("users = 301", "users = 9000"),
    );
    let build = |threads| {
        let tenant = mock_server::generate::build_with_threads(&big, threads).expect("builds");
        let mut out = Vec::new();
        mock_server::dump::write_dump(&tenant, &[], &mut out).expect("dump");
        out
    };
    assert_eq!(build(1), build(4));
}

#[test]
fn different_seeds_give_different_tenants() {
    let base = std::fs::read_to_string(crate::support::scenario_path("users-300.toml")).expect("read");
    let a = dump(&scenario_text(&base));
    let b = dump(&scenario_text(&base.replace("seed = 300", "seed = 301")));
    assert_ne!(a["users"][0]["user_id"], b["users"][0]["user_id"]);
}

fn is_duo_id(v: &Value, prefix: &str) -> bool {
    v.as_str()
        .is_some_and(|s| mock_server::model::is_duo_id(s, prefix))
}

#[test]
fn generated_data_is_consistent() {
    let d = dump(&scenario("default.toml"));
    let groups: HashSet<&str> = d["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["group_id"].as_str())
        .collect();
    let mut usernames = HashSet::new();
    let statuses = ["active", "bypass", "disabled", "locked out", "pending deletion"];
    for user in d["users"].as_array().expect("users") {
        assert!(is_duo_id(&user["user_id"], "DU"), "{user}");
        assert!(
            usernames.insert(user["username"].as_str().expect("username")),
            "unique usernames"
        );
        assert!(statuses.contains(&user["status"].as_str().expect("status")));
        assert!(user["email"].as_str().expect("email").ends_with("@acme.example"));
        assert!(user["created"].is_i64());
        assert!(user["last_login"].is_i64() || user["last_login"].is_null());
        let methods = ["phones", "tokens", "webauthncredentials"]
            .iter()
            .any(|k| !user[*k].as_array().expect("array").is_empty());
        assert_eq!(
            user["is_enrolled"].as_bool(),
            Some(methods),
            "{}",
            user["username"]
        );
        for phone in user["phones"].as_array().expect("phones") {
            assert!(is_duo_id(&phone["phone_id"], "DP"));
        }
        for token in user["tokens"].as_array().expect("tokens") {
            assert!(is_duo_id(&token["token_id"], "DH"));
        }
        for group in user["groups"].as_array().expect("groups") {
            let id = group["group_id"].as_str().expect("group id");
            assert!(groups.contains(id), "membership points at a real group");
            let members = d["group_members"][id].as_array().expect("members");
            assert!(
                members.iter().any(|m| m["user_id"] == user["user_id"]),
                "membership is two-way"
            );
        }
        let locked = user["status"] == "locked out";
        assert_eq!(
            user["lockout_reason"].as_str(),
            locked.then_some("Failed Attempts")
        );
    }
    for admin in d["admins"].as_array().expect("admins") {
        assert!(is_duo_id(&admin["admin_id"], "DE"));
    }
    assert_eq!(d["admins"][0]["role"], "Owner");
    assert!(
        groups.iter().all(|g| d["group_members"][*g].is_array()),
        "every group listed, even empty"
    );
}

#[test]
fn unicode_scenario_has_mostly_non_ascii_names_and_symbols() {
    let d = dump(&scenario("unicode.toml"));
    let users = d["users"].as_array().expect("users");
    let non_ascii = users
        .iter()
        .filter(|u| !u["username"].as_str().unwrap_or_default().is_ascii())
        .count();
    let symbols = users
        .iter()
        .filter(|u| {
            u["username"]
                .as_str()
                .unwrap_or_default()
                .contains([' ', '\'', '+', '/', '&', ','])
        })
        .count();
    assert!(non_ascii * 3 > users.len(), "{non_ascii} of {}", users.len());
    assert!(symbols * 5 > users.len(), "{symbols} of {}", users.len());
}

/// Parses `text` and returns the error's `line:column: message` part.
fn error_of(text: &str) -> String {
    match Scenario::parse(text, "bad.toml").and_then(|s| mock_server::generate::build(&s).map(|_| s)) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e @ Error::Scenario { .. }) => e.to_string(),
        Err(other) => panic!("not a located scenario error: {other}"),
    }
}

const GOOD: &str = r#"[tenant]
api_hostname = "api-1.duosecurity.com"
seed = 1

[[integrations]]
name = "main"
ikey = "DIAAAAAAAAAAAAAAAAAA"
skey = "s"
grants = ["Grant read resource"]
"#;

#[test]
fn mistakes_are_located_at_file_line_column() {
    assert!(Scenario::parse(GOOD, "good.toml").is_ok());
    let cases: [(String, &str, &str); 11] = [
        (GOOD.replace("seed = 1", "seed = "), "bad.toml:3:8:", "expected"),
        (
            GOOD.replace("seed = 1", "seed = 1\nsede = 2"),
            "bad.toml:4:1:",
            "unknown field",
        ),
        (
            GOOD.replace("seed = 1", "seed = \"one\""),
            "bad.toml:3:8:",
            "invalid type",
        ),
        (
            GOOD.replace(
                "\"Grant read resource\"]",
                "\"Grant read resource\", \"Grant read users\"]",
            ),
            "bad.toml:9:34:",
            "\"Grant read users\" is not a Duo Admin API permission",
        ),
        (
            GOOD.to_owned() + "[[users]]\nusername = \"a\"\n[[users]]\nusername = \"a\"\n",
            "bad.toml:13:12:",
            "duplicate username \"a\"",
        ),
        (
            GOOD.to_owned() + "[[users]]\nusername = \"a\"\ngroups = [\"Nope\"]\n",
            "bad.toml:12:11:",
            "which the scenario does not have",
        ),
        (
            GOOD.replace(
                "[tenant]\napi_hostname = \"api-1.duosecurity.com\"\nseed = 1\n",
                "",
            ),
            "bad.toml:1:1:",
            "missing field `tenant`",
        ),
        (
            "integrations = []\n[tenant]\napi_hostname = \"a\"\nseed = 1\n".to_owned(),
            "bad.toml:1:16:",
            "at least one integration",
        ),
        (
            GOOD.to_owned() + "[[users]]\nusername = \"a\"\nstatus = \"Active\"\n",
            "bad.toml:12:10:",
            "\"Active\" is not a user status",
        ),
        (
            GOOD.to_owned() + "[options]\npassport = \"on\"\n",
            "bad.toml:11:12:",
            "unknown variant `on`, expected `disabled` or `enabled`",
        ),
        (
            GOOD.to_owned() + "[generate]\nregistered_devices = 1.5\n",
            "bad.toml:11:22:",
            "generate.registered_devices is a share and must be between 0 and 1",
        ),
    ];
    for (text, location, words) in &cases {
        let message = error_of(text);
        assert!(
            message.starts_with(location),
            "{message:?} should start with {location:?}"
        );
        assert!(message.contains(words), "{message:?} should say {words:?}");
    }
}

#[test]
fn the_builder_makes_scenarios_validated_like_files() {
    use mock_server::grants::Grant;
    let built = Scenario::builder()
        .seed(7)
        .users(301)
        .groups(6)
        .admins(2)
        .integration("reader", &[Grant::ReadResource])
        .integration("admins", &[Grant::Administrators])
        .toml("[options]\nmetadata = \"always\"\n")
        .build()
        .expect("builds");
    assert_eq!(built.integrations.len(), 2);
    assert_eq!(built.origin, "<builder>");
    assert_eq!(
        built.options.metadata,
        mock_server::scenario::MetadataMode::Always
    );
    let again = Scenario::builder()
        .seed(7)
        .users(301)
        .groups(6)
        .admins(2)
        .integration("reader", &[Grant::ReadResource])
        .integration("admins", &[Grant::Administrators])
        .build()
        .expect("builds");
    assert_eq!(
        built.integrations[0].skey, again.integrations[0].skey,
        "keys derive from name and seed"
    );
    assert_ne!(built.integrations[0].ikey, built.integrations[1].ikey);
    let d = dump(&built);
    assert_eq!(d["users"].as_array().map(Vec::len), Some(301));
    assert_eq!(d["admins"].as_array().map(Vec::len), Some(2));
    // Mistakes in builder input are reported like file mistakes.
    let bad = Scenario::builder()
        .toml("[options]\nsignature_window = 5\n")
        .build();
    assert!(matches!(bad, Err(Error::Scenario { ref origin, .. }) if origin == "<builder>"));
}

#[test]
fn group_size_skew_makes_groups_more_or_less_even() {
    let sizes = |skew: &str| {
        let sc = Scenario::builder()
            .users(3000)
            .groups(10)
            .toml(&format!(
                "[generate]\ngroup_size_skew = {skew}\ngroups_per_user = [1, 1]\n"
            ))
            .build();
        // [generate] is already rendered by the builder: a second table is a TOML error, so the
        // knob goes through a file-shaped scenario instead.
        assert!(sc.is_err());
        let text = Scenario::builder().users(3000).groups(10).to_toml().replace(
            "groups = 10\n",
            &format!("groups = 10\ngroup_size_skew = {skew}\ngroups_per_user = [1, 1]\n"),
        );
        let d = dump(&scenario_text(&text));
        let mut sizes: Vec<usize> = d["group_members"]
            .as_object()
            .expect("members")
            .values()
            .map(|m| m.as_array().map_or(0, Vec::len))
            .collect();
        sizes.sort_unstable();
        (sizes[0], sizes[sizes.len() - 1])
    };
    let (even_min, even_max) = sizes("0.0");
    let (zipf_min, zipf_max) = sizes("1.5");
    assert!(even_max < even_min * 2, "even: {even_min}..{even_max}");
    assert!(zipf_max > zipf_min * 10, "skewed: {zipf_min}..{zipf_max}");
}

#[tokio::test]
async fn debug_output_never_shows_an_skey() {
    let sc = scenario("default.toml");
    let server = mock_server::MockServer::start(&sc, mock_server::StartOptions::default())
        .await
        .expect("starts");
    let shown = format!("{sc:?} {server:?} {:?} {:?}", server.info(), server.state());
    assert!(
        shown.contains("DI29326ML64LG2TJF8CZ"),
        "ikeys are not secret and help debugging"
    );
    for integration in &sc.integrations {
        assert!(
            !shown.contains(&integration.skey),
            "skey of {} leaked",
            integration.name
        );
    }
}

#[test]
fn every_generated_time_follows_the_anchor() {
    let day = 86_400;
    let at = |anchor: &str| {
        dump(&scenario_text(&GOOD.replace(
            "seed = 1\n",
            &format!("seed = 1\nanchor = {anchor}\n[generate]\nusers = 200\nadmins = 6\n"),
        )))
    };
    let jan = at("\"2026-01-01\"");
    let feb = at("2026-02-01T00:00:00Z");
    let shift = 31 * day;
    let jan_anchor = 1_767_225_600;
    for (a, b) in jan["users"]
        .as_array()
        .expect("users")
        .iter()
        .zip(feb["users"].as_array().expect("users"))
    {
        assert_eq!(
            a["user_id"], b["user_id"],
            "the anchor moves times, not who is there"
        );
        let created = a["created"].as_i64().expect("created");
        assert!(created <= jan_anchor - 30 * day);
        assert_eq!(b["created"].as_i64(), Some(created + shift));
        match (a["last_login"].as_i64(), b["last_login"].as_i64()) {
            (Some(x), Some(y)) => {
                assert!(
                    created <= x && x <= jan_anchor,
                    "last_login between created and the anchor"
                );
                assert_eq!(y, x + shift);
            }
            (None, None) => {}
            other => panic!("last_login changed kind with the anchor: {other:?}"),
        }
        for phone in a["phones"].as_array().expect("phones") {
            let seen = phone["last_seen"].as_str().expect("last_seen");
            assert!(seen.is_empty() || seen < "2026-01-01T00:00:01", "{seen}");
        }
    }
    for (a, b) in jan["admins"]
        .as_array()
        .expect("admins")
        .iter()
        .zip(feb["admins"].as_array().expect("admins"))
    {
        if let (Some(x), Some(y)) = (a["last_login"].as_i64(), b["last_login"].as_i64()) {
            assert!(x <= jan_anchor);
            assert_eq!(y, x + shift);
        }
    }
    // Logins are recent for most users: an access review run on the anchor's day finds the
    // tenant mostly active.
    let recent = jan["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| {
            u["last_login"]
                .as_i64()
                .is_some_and(|t| t > jan_anchor - 14 * day)
        })
        .count();
    assert!(recent > 120, "{recent} of 200 users logged in within two weeks");
}

#[test]
fn the_anchor_is_today_by_default_and_reference_time_still_reads() {
    let tenant = |text: &str| mock_server::generate::build(&scenario_text(text)).expect("builds");
    let today = crate::support::now().div_euclid(86_400) * 86_400;
    let built = tenant(GOOD).anchor;
    // A build across midnight would see tomorrow.
    assert!(built == today || built == today + 86_400, "{built} vs {today}");
    assert_eq!(
        tenant(&GOOD.replace("seed = 1\n", "seed = 1\nreference_time = 1767225600\n")).anchor,
        1_767_225_600
    );
    assert_eq!(
        tenant(&GOOD.replace("seed = 1\n", "seed = 1\nanchor = \"2026-01-01T02:00:00+02:00\"\n")).anchor,
        1_767_225_600
    );
    let message = error_of(&GOOD.replace("seed = 1\n", "seed = 1\nanchor = \"yesterday\"\n"));
    assert!(message.starts_with("bad.toml:4:10:"), "{message}");
    assert!(
        message.contains("neither \"today\" nor an RFC 3339 date"),
        "{message}"
    );
    for bad in [
        "2026-02-30",
        "2026-1-01",
        "2026-01-01T25:00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00Z",
    ] {
        assert_eq!(mock_server::scenario::Anchor::parse(bad), None, "{bad}");
    }
}

/// The scenario files `scenarios/README.md` links (`examples/….toml`), as paths under `scenarios/`.
fn readme_examples() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("scenarios/README.md")).expect("README");
    let mut linked: Vec<String> = readme
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|link| link.starts_with("examples/") && link.ends_with(".toml"))
        .map(str::to_owned)
        .collect();
    linked.sort();
    linked.dedup();
    linked
}

#[tokio::test]
async fn every_example_validates_and_is_served() {
    let mut files: Vec<String> = std::fs::read_dir(root().join("scenarios/examples"))
        .expect("examples folder")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .map(|path| format!("examples/{}", path.file_name().expect("name").to_string_lossy()))
        .collect();
    let linked = readme_examples();
    assert!(
        linked.len() >= 7,
        "the README's table links its examples: {linked:?}"
    );
    for link in &linked {
        assert!(
            crate::support::scenario_path(link).exists(),
            "scenarios/README.md links {link}, which is missing"
        );
    }
    files.extend(linked);
    files.sort();
    files.dedup();
    assert!(files.len() >= 4, "{files:?}");
    let client = reqwest::Client::new();
    for file in &files {
        let sc = Scenario::load(&crate::support::scenario_path(file)).unwrap_or_else(|e| panic!("{e}"));
        mock_server::generate::build(&sc).unwrap_or_else(|e| panic!("{e}"));
        let served = crate::cli::serve(file, &[]);
        let base = served.ready["base_url"].as_str().expect("url");
        let first = &served.ready["integrations"][0];
        let (ikey, skey) = (
            first["ikey"].as_str().expect("ikey"),
            first["skey"].as_str().expect("skey"),
        );
        let response = crate::cli::signed_get(&client, base, ikey, skey, "/admin/v1/users")
            .send()
            .await
            .expect("an answer");
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let answered = match body["stat"].as_str() {
            Some("OK") => status == 200 && body["response"].is_array(),
            Some("FAIL") => status >= 400 && body["code"].is_u64(),
            _ => false,
        };
        assert!(answered, "{file}: {status} {body}");
    }
}
