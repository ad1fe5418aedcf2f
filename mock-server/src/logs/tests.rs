//! The log engine on its own (no HTTP): the same events whatever the page size and order,
//! windows inclusive at both ends, cursors of each shape, filters, ties, v1's cap, visibility,
//! counts equal to what pages hold, Duo's error texts, and `last_login` equal to each user's
//! latest success.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::LogKind;
use super::query::{Endpoint, Style};
use crate::grants::Grant;
use crate::params::Params;
use crate::routes::logs::ENDPOINTS;
use crate::state::World;

/// 2026-01-01T00:00:00Z.
const ANCHOR: i64 = 1_767_225_600;
/// "Now" in these tests: ten hours after the anchor, microseconds.
const NOW_US: i64 = (ANCHOR + 10 * 3600) * 1_000_000;
const DAY_MS: i64 = 86_400_000;

fn world(users: u32, logs: &str) -> World {
    let scenario = crate::Scenario::builder()
        .anchor("2026-01-01")
        .users(users)
        .groups(6)
        .admins(5)
        .integration("reader", &[Grant::ReadLog, Grant::ReadInformation])
        .toml(logs)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    World::build(&scenario).expect("tenant")
}

fn endpoint(path: &str) -> Endpoint {
    *ENDPOINTS.iter().find(|e| e.path == path).expect("endpoint")
}

fn ask(world: &World, path: &str, query: &str, now_us: i64) -> Result<Value, crate::api_error::ApiError> {
    let body = world
        .logs
        .answer(world, &endpoint(path), &Params::parse(query.as_bytes()), now_us)?;
    Ok(serde_json::from_slice(&body).expect("JSON"))
}

fn ok(world: &World, path: &str, query: &str) -> Value {
    ask(world, path, query, NOW_US).unwrap_or_else(|e| panic!("{path}?{query}: {e:?}"))
}

/// Every event of a v2 log in the window, following cursors at `limit`.
fn walk_v2(
    world: &World,
    path: &str,
    window: &str,
    limit: usize,
    sort: &str,
    repeated_keys: bool,
) -> Vec<Value> {
    walk_v2_keeping(world, path, window, limit, sort, repeated_keys, Value::clone)
}

/// [`walk_v2`], keeping of each event what `keep` makes of it (a long walk keeps little).
fn walk_v2_keeping<T>(
    world: &World,
    path: &str,
    window: &str,
    limit: usize,
    sort: &str,
    repeated_keys: bool,
    keep: impl Fn(&Value) -> T,
) -> Vec<T> {
    let Style::V2 { list, .. } = endpoint(path).style else {
        panic!("not v2")
    };
    let mut events = Vec::new();
    let mut query = format!("{window}&limit={limit}&sort={sort}");
    for _ in 0..100_000 {
        let page = ok(world, path, &query);
        let response = &page["response"];
        let items = response[list].as_array().expect("list");
        assert!(items.len() <= limit, "{} > {limit}", items.len());
        events.extend(items.iter().map(&keep));
        let next = &response["metadata"]["next_offset"];
        if next.is_null() {
            return events;
        }
        assert!(!items.is_empty(), "a cursor after an empty page");
        let cursor = match next {
            Value::Array(parts) => {
                let parts: Vec<&str> = parts.iter().map(|p| p.as_str().expect("string")).collect();
                if repeated_keys {
                    format!("next_offset={}&next_offset={}", parts[0], parts[1])
                } else {
                    format!("next_offset={}%2C{}", parts[0], parts[1])
                }
            }
            Value::String(joined) => format!("next_offset={}", joined.replace(',', "%2C")),
            other => panic!("next_offset {other}"),
        };
        query = format!("{window}&limit={limit}&sort={sort}&{cursor}");
    }
    panic!("endless paging");
}

/// Every authentication event of a window, oldest first.
fn all_auth(world: &World, window: &str) -> Vec<Value> {
    walk_v2(
        world,
        "/admin/v2/logs/authentication",
        window,
        1000,
        "ts:asc",
        false,
    )
}

fn window(from_ms: i64, to_ms: i64) -> String {
    format!("mintime={from_ms}&maxtime={to_ms}")
}

const AUTH_LOGS: &str = "[logs.authentication]\nper_day = 4000\nties = 0.2\n";

#[test]
fn pages_read_the_same_events_whatever_their_size_order_and_cursor_form() {
    let w = world(120, AUTH_LOGS);
    let span = window(ANCHOR * 1000 - 2 * DAY_MS, ANCHOR * 1000);
    let reference = all_auth(&w, &span);
    assert!(
        reference.len() > 6000,
        "two days at 4000 a day: {}",
        reference.len()
    );
    let ids = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["txid"].as_str().expect("txid").to_owned())
            .collect()
    };
    let expected = ids(&reference);
    assert_eq!(
        expected.iter().collect::<HashSet<_>>().len(),
        expected.len(),
        "no event twice"
    );
    // Ascending by (timestamp, txid), the order the cursor follows.
    let keys: Vec<(i64, String)> = reference
        .iter()
        .map(|e| {
            (
                e["timestamp"].as_i64().expect("ts"),
                e["txid"].as_str().expect("txid").to_owned(),
            )
        })
        .collect();
    assert!(
        keys.windows(2).all(|k| k[0] < k[1]),
        "ascending (timestamp, txid)"
    );
    for (limit, sort, repeated) in [
        (1, "ts:asc", true),
        (7, "ts:desc", false),
        (333, "ts:desc", true),
        (1000, "ts:desc", false),
    ] {
        if limit == 1 {
            // A thousand single-event pages from the start are enough to compare.
            let first: Vec<String> = ids(&walk_v2(
                &w,
                "/admin/v2/logs/authentication",
                &window(ANCHOR * 1000 - 2 * DAY_MS, ANCHOR * 1000 - 2 * DAY_MS + 3_600_000),
                1,
                sort,
                repeated,
            ));
            assert_eq!(first[..], expected[..first.len()], "limit 1");
            continue;
        }
        let mut got = ids(&walk_v2(
            &w,
            "/admin/v2/logs/authentication",
            &span,
            limit,
            sort,
            repeated,
        ));
        if sort == "ts:desc" {
            got.reverse();
        }
        assert_eq!(got, expected, "limit {limit} {sort}");
    }
    // The dump of the same window holds the same events.
    let mut dumped = Vec::new();
    w.logs
        .dump(
            &w,
            LogKind::Authentication,
            ANCHOR * 1000 - 2 * DAY_MS,
            ANCHOR * 1000,
            NOW_US,
            &mut dumped,
        )
        .expect("dump");
    let dumped: Vec<Value> = serde_json::from_slice(&dumped).expect("dump JSON");
    assert_eq!(ids(&dumped), expected);
    assert_eq!(dumped, reference);
}

#[test]
fn totals_count_exactly_what_the_pages_hold() {
    let w = world(80, AUTH_LOGS);
    for (from, to) in [
        (ANCHOR * 1000 - DAY_MS, ANCHOR * 1000),
        (
            ANCHOR * 1000 - DAY_MS + 12_345,
            ANCHOR * 1000 - 3 * 3_600_000 + 777,
        ),
        (ANCHOR * 1000 - 170 * DAY_MS, ANCHOR * 1000 - 169 * DAY_MS),
        // Up to now: the last minutes are still arriving.
        (NOW_US / 1000 - 3_600_000, NOW_US / 1000),
    ] {
        let span = window(from, to);
        let events = walk_v2(&w, "/admin/v2/logs/authentication", &span, 1000, "ts:desc", false);
        let page = ok(&w, "/admin/v2/logs/authentication", &span);
        assert_eq!(
            page["response"]["metadata"]["total_objects"].as_u64(),
            Some(events.len() as u64),
            "{span}"
        );
        for result in ["success", "denied"] {
            let filtered = ok(
                &w,
                "/admin/v2/logs/authentication",
                &format!("{span}&results={result}"),
            );
            let counted = events.iter().filter(|e| e["result"] == result).count();
            assert_eq!(
                filtered["response"]["metadata"]["total_objects"].as_u64(),
                Some(counted as u64),
                "{span} results={result}"
            );
        }
    }
}

#[test]
fn windows_include_both_ends_to_the_millisecond() {
    let w = world(60, AUTH_LOGS);
    let events = all_auth(&w, &window(ANCHOR * 1000 - DAY_MS, ANCHOR * 1000));
    let ms = |e: &Value| {
        let iso = e["isotimestamp"].as_str().expect("iso");
        let micros: i64 = iso[20..26].parse().expect("µs");
        e["timestamp"].as_i64().expect("ts") * 1000 + micros / 1000
    };
    let target = &events[events.len() / 2];
    let at = ms(target);
    let exact = all_auth(&w, &window(at, at + 1));
    assert!(
        exact.iter().any(|e| e["txid"] == target["txid"]),
        "mintime is inclusive"
    );
    let before = all_auth(&w, &window(at - 1, at));
    assert!(
        before.iter().any(|e| e["txid"] == target["txid"]),
        "maxtime is inclusive"
    );
    let after = all_auth(&w, &window(at + 1, at + 2));
    assert!(!after.iter().any(|e| e["txid"] == target["txid"]));
    assert!(
        exact
            .iter()
            .chain(&before)
            .all(|e| (at - 1..=at + 1).contains(&ms(e)))
    );
}

#[test]
fn filters_narrow_to_what_they_name_in_both_list_forms() {
    let w = world(90, AUTH_LOGS);
    let span = window(ANCHOR * 1000 - DAY_MS, ANCHOR * 1000);
    let all = all_auth(&w, &span);
    let users: Vec<&str> = all
        .iter()
        .take(3)
        .map(|e| e["user"]["key"].as_str().expect("key"))
        .collect();
    for query in [
        format!("users={}&users={}", users[0], users[1]),
        format!("users={}%2C{}", users[0], users[1]),
    ] {
        let got = walk_v2(
            &w,
            "/admin/v2/logs/authentication",
            &format!("{span}&{query}"),
            50,
            "ts:asc",
            false,
        );
        let want: Vec<&Value> = all
            .iter()
            .filter(|e| e["user"]["key"] == users[0] || e["user"]["key"] == users[1])
            .collect();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{query}");
        let total = ok(&w, "/admin/v2/logs/authentication", &format!("{span}&{query}"))["response"]["metadata"]["total_objects"].as_u64();
        assert_eq!(total, Some(want.len() as u64));
    }
    let factor = "duo_push";
    let pushes = all_auth(
        &w,
        &format!("{span}&factors={factor}&results=denied&event_types=authentication"),
    );
    assert!(!pushes.is_empty());
    assert!(
        pushes
            .iter()
            .all(|e| e["factor"] == factor && e["result"] == "denied")
    );
    assert_eq!(
        pushes.len(),
        all.iter()
            .filter(|e| e["factor"] == factor && e["result"] == "denied")
            .count()
    );
    let app = all[0]["application"]["key"].as_str().expect("ikey");
    let in_app = all_auth(&w, &format!("{span}&applications={app}"));
    assert_eq!(
        in_app.len(),
        all.iter().filter(|e| e["application"]["key"] == app).count()
    );
    // Unknown values match nothing; filtering on every value is the default.
    let none = ok(
        &w,
        "/admin/v2/logs/authentication",
        &format!("{span}&users=DUAAAAAAAAAAAAAAAAAA"),
    );
    assert_eq!(none["response"]["metadata"]["total_objects"], 0);
    assert_eq!(none["response"]["metadata"]["next_offset"], Value::Null);
    let every = ok(
        &w,
        "/admin/v2/logs/authentication",
        &format!("{span}&results=success,denied,fraud,error"),
    );
    assert_eq!(
        every["response"]["metadata"]["total_objects"].as_u64(),
        Some(all.len() as u64)
    );
    // A phone number filter finds the events of that phone.
    let with_phone = all
        .iter()
        .find(|e| {
            e["auth_device"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with('+'))
        })
        .expect("a phone");
    let number = with_phone["auth_device"]["name"].as_str().expect("number");
    let by_number = all_auth(&w, &format!("{span}&phone_numbers=%2B{}", &number[1..]));
    assert!(by_number.iter().any(|e| e["txid"] == with_phone["txid"]));
    assert!(by_number.iter().all(|e| e["auth_device"]["name"] == number));
    // A group filter: every event's user is in the group.
    let group = w.tenant.groups.item(0).expect("a group");
    let group: Value = serde_json::from_slice(&group).expect("group");
    let in_group = all_auth(
        &w,
        &format!("{span}&groups={}", group["group_id"].as_str().expect("id")),
    );
    assert!(in_group.iter().all(|e| {
        e["user"]["groups"]
            .as_array()
            .expect("groups")
            .contains(&group["name"])
    }));
    assert_eq!(
        in_group.len(),
        all.iter()
            .filter(|e| e["user"]["groups"]
                .as_array()
                .expect("groups")
                .contains(&group["name"]))
            .count()
    );
}

#[test]
fn a_users_last_login_is_their_latest_success() {
    let w = world(150, "[logs.authentication]\nper_day = 500\n");
    let users: Vec<Value> = (0..w.tenant.users.len())
        .map(|i| serde_json::from_slice(&w.tenant.users.item(i).expect("user")).expect("JSON"))
        .collect();
    // The whole retention up to now.
    let now_ms = NOW_US / 1000;
    let brief = |e: &Value| {
        serde_json::json!({
            "user": {"key": e["user"]["key"]},
            "result": e["result"],
            "event_type": e["event_type"],
            "timestamp": e["timestamp"],
        })
    };
    let events = walk_v2_keeping(
        &w,
        "/admin/v2/logs/authentication",
        &window(now_ms - 180 * DAY_MS + 1000, now_ms),
        1000,
        "ts:asc",
        false,
        brief,
    );
    let mut latest: HashMap<String, i64> = HashMap::new();
    let mut someone = HashSet::new();
    for e in &events {
        let key = e["user"]["key"].as_str().expect("key").to_owned();
        someone.insert(key.clone());
        if e["result"] == "success" && e["event_type"] == "authentication" {
            let t = e["timestamp"].as_i64().expect("ts");
            let slot = latest.entry(key).or_insert(t);
            *slot = (*slot).max(t);
        }
    }
    let retained = now_ms / 1000 - 180 * 86_400 + 1;
    let mut checked = 0;
    for user in &users {
        let id = user["user_id"].as_str().expect("id");
        match user["last_login"].as_i64() {
            Some(t) if t >= retained => {
                assert_eq!(latest.get(id), Some(&t), "{id}: last_login {t}");
                checked += 1;
            }
            Some(t) => assert!(
                latest.get(id).is_none_or(|s| *s <= t),
                "{id}: success after last_login"
            ),
            None => assert!(!latest.contains_key(id), "{id} never logged in but has a success"),
        }
    }
    assert!(checked > 100, "{checked} users checked");
    assert!(someone.len() > 140, "events name most users");
    // Nothing succeeds after the anchor unless asked.
    let succeeded = |e: &&Value| e["result"] == "success" && e["event_type"] == "authentication";
    assert!(
        events
            .iter()
            .filter(succeeded)
            .all(|e| e["timestamp"].as_i64().expect("ts") <= ANCHOR)
    );
    assert!(
        events
            .iter()
            .any(|e| e["timestamp"].as_i64().expect("ts") > ANCHOR),
        "failures go on"
    );
    let live = world(
        150,
        "[logs]\nlive_successes = true\n[logs.authentication]\nper_day = 3000\n",
    );
    let after = walk_v2_keeping(
        &live,
        "/admin/v2/logs/authentication",
        &window(ANCHOR * 1000, now_ms),
        1000,
        "ts:asc",
        false,
        brief,
    );
    assert!(after.iter().filter(succeeded).count() > 100);
}

#[test]
fn events_name_real_objects() {
    let w = world(
        70,
        "[logs.authentication]\nper_day = 2000\n[logs.telephony]\nper_day = 500\n[logs.administrator]\nper_day = 300\n",
    );
    let users: HashMap<String, Value> = (0..w.tenant.users.len())
        .map(|i| serde_json::from_slice::<Value>(&w.tenant.users.item(i).expect("user")).expect("JSON"))
        .map(|u| (u["user_id"].as_str().expect("id").to_owned(), u))
        .collect();
    let span = window(ANCHOR * 1000 - DAY_MS, ANCHOR * 1000);
    for e in all_auth(&w, &span) {
        let user = &users[e["user"]["key"].as_str().expect("key")];
        assert_eq!(e["user"]["name"], user["username"]);
        assert_eq!(e["email"], user["email"]);
        let groups: Vec<&Value> = user["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .map(|g| &g["name"])
            .collect();
        assert_eq!(
            e["user"]["groups"]
                .as_array()
                .expect("groups")
                .iter()
                .collect::<Vec<_>>(),
            groups
        );
        assert!(
            user["created"].as_i64().expect("created") <= e["timestamp"].as_i64().expect("ts"),
            "{e}"
        );
        if let Some(key) = e["auth_device"]["key"].as_str() {
            let owned = ["phones", "tokens", "webauthncredentials"].iter().any(|list| {
                user[*list].as_array().expect("list").iter().any(|d| {
                    [&d["phone_id"], &d["token_id"], &d["webauthnkey"]]
                        .iter()
                        .any(|id| id.as_str() == Some(key))
                })
            });
            assert!(owned, "{key} is {}'s device", user["username"]);
        }
        if e["factor"] == "duo_push" {
            assert!(
                e["auth_device"]["key"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("DP"))
            );
        }
    }
    let numbers: HashSet<String> = users
        .values()
        .flat_map(|u| {
            u["phones"]
                .as_array()
                .expect("phones")
                .iter()
                .map(|p| p["number"].as_str().expect("n").to_owned())
        })
        .collect();
    for e in walk_v2(&w, "/admin/v2/logs/telephony", &span, 1000, "ts:asc", false) {
        assert!(numbers.contains(e["phone"].as_str().expect("phone")), "{e}");
        assert!(["sms", "phone"].contains(&e["type"].as_str().expect("type")));
    }
    let admins: HashSet<String> = (0..w.tenant.admins.len())
        .map(|i| {
            serde_json::from_slice::<Value>(&w.tenant.admins.item(i).expect("admin")).expect("JSON")["name"]
                .as_str()
                .expect("name")
                .to_owned()
        })
        .collect();
    let log = ok(
        &w,
        "/admin/v1/logs/administrator",
        &format!("mintime={}", ANCHOR - 86_400),
    );
    for e in log["response"].as_array().expect("list") {
        let by = e["username"].as_str().expect("username");
        assert!(admins.contains(by) || ["API", "System", ""].contains(&by), "{by}");
        if e["action"].as_str().expect("action").starts_with("user_") {
            assert!(users.values().any(|u| u["username"] == e["object"]), "{e}");
        }
        let description: Value =
            serde_json::from_str(e["description"].as_str().expect("a JSON string")).expect("JSON inside");
        assert!(description.is_object());
    }
}

#[test]
fn v1_logs_return_the_earliest_thousand_with_the_tie_rule() {
    // Ties: half the events share the microsecond of the one before.
    let busy = "[logs.authentication]\nper_day = 200000\nties = 0.5\n";
    for (ties, check) in [("include", 0), ("cut", 1), ("drop", 2)] {
        let w = world(40, &format!("[logs]\nv1_ties = \"{ties}\"\n{busy}"));
        let mintime = ANCHOR - 86_400;
        let page = ok(&w, "/admin/v1/logs/authentication", &format!("mintime={mintime}"));
        let events = page["response"].as_array().expect("bare array");
        let seconds: Vec<i64> = events
            .iter()
            .map(|e| e["timestamp"].as_i64().expect("ts"))
            .collect();
        assert!(seconds.windows(2).all(|s| s[0] <= s[1]), "oldest first");
        assert!(seconds[0] >= mintime);
        let last = *seconds.last().expect("events");
        // What the same second holds in all.
        let second = all_auth(&w, &window(last * 1000, last * 1000 + 999));
        match check {
            0 => {
                assert!(events.len() >= 1000);
                assert_eq!(
                    seconds.iter().filter(|s| **s == last).count(),
                    second.len(),
                    "every tie included"
                );
            }
            1 => assert_eq!(events.len(), 1000),
            _ => {
                assert!(events.len() <= 1000);
                assert_eq!(
                    seconds.iter().filter(|s| **s == last).count(),
                    second.len(),
                    "no second cut"
                );
            }
        }
        // Going on at the last second (+1 where every tie was returned) loses nothing.
        let next_from = if check == 1 { last } else { last + 1 };
        let next = ok(
            &w,
            "/admin/v1/logs/authentication",
            &format!("mintime={next_from}"),
        );
        let first_next = next["response"][0]["timestamp"].as_i64().expect("more");
        assert!(first_next >= next_from);
    }
}

#[test]
fn events_become_visible_after_the_ingestion_delay() {
    let w = world(
        50,
        "[logs]\ningestion_delay_s = 120\ningestion_jitter_s = 60\nlate_share = 0.2\nlate_max_s = 600\n[logs.authentication]\nper_day = 20000\n",
    );
    let recent = window(NOW_US / 1000 - 3_600_000, NOW_US / 1000);
    let seen_now = all_auth(&w, &recent);
    let newest = seen_now
        .iter()
        .map(|e| e["timestamp"].as_i64().expect("ts"))
        .max()
        .expect("events");
    assert!(
        newest <= NOW_US / 1_000_000 - 120,
        "nothing younger than the delay"
    );
    let later_us = NOW_US + 20 * 60 * 1_000_000;
    let page = ask(
        &w,
        "/admin/v2/logs/authentication",
        &format!("{recent}&limit=1000"),
        later_us,
    )
    .expect("page");
    let total_later = page["response"]["metadata"]["total_objects"]
        .as_u64()
        .expect("total");
    assert!(
        total_later > seen_now.len() as u64,
        "more of the same window later"
    );
    // Some events of the window arrived more than 120 s after the delay (late ones).
    let seen: HashSet<&str> = seen_now
        .iter()
        .map(|e| e["txid"].as_str().expect("txid"))
        .collect();
    let late = page["response"]["authlogs"]
        .as_array()
        .expect("list")
        .iter()
        .filter(|e| !seen.contains(e["txid"].as_str().expect("txid")))
        .filter(|e| e["timestamp"].as_i64().expect("ts") < NOW_US / 1_000_000 - 400)
        .count();
    assert!(late > 0, "some events turn up long after they happened");
}

#[test]
fn parameters_are_checked_with_duos_texts() {
    let w = world(10, AUTH_LOGS);
    let now_ms = NOW_US / 1000;
    let good = window(now_ms - DAY_MS, now_ms);
    let detail = |path: &str, query: &str| -> (u32, Option<String>) {
        match ask(&w, path, query, NOW_US) {
            Ok(v) => panic!("{query} answered {v}"),
            Err(e) => (e.code, e.detail),
        }
    };
    let v2 = "/admin/v2/logs/authentication";
    let cases: Vec<(&str, String, u32, &str)> = vec![
        (v2, format!("maxtime={now_ms}"), 40001, "mintime"),
        (v2, format!("mintime={now_ms}"), 40001, "maxtime"),
        (
            v2,
            format!("mintime={}&maxtime={now_ms}", now_ms / 1000),
            40002,
            "'mintime' must be a timestamp in milliseconds",
        ),
        (
            v2,
            format!("mintime={}&maxtime={}", now_ms - 1, now_ms * 1000),
            40002,
            "'maxtime' must be a timestamp in milliseconds",
        ),
        (
            v2,
            format!("mintime=-{}&maxtime={now_ms}", now_ms - 1),
            40002,
            "'mintime' must be a timestamp in milliseconds",
        ),
        (
            v2,
            format!("mintime={now_ms}&maxtime={now_ms}"),
            40002,
            "'maxtime' must be strictly greater than 'mintime'",
        ),
        (
            v2,
            format!("mintime={}&maxtime={now_ms}", now_ms - 181 * DAY_MS),
            40002,
            "mintime must be within the past 180 days",
        ),
        (v2, format!("{good}&limit=ten"), 40002, "limit"),
        (v2, format!("{good}&sort=asc"), 40002, "sort"),
        (v2, format!("{good}&next_offset=123"), 40002, "next_offset"),
        (
            v2,
            format!("{good}&next_offset=123,not-a-txid"),
            40002,
            "next_offset",
        ),
        (
            "/admin/v2/logs/telephony",
            format!("{good}&next_offset=1%2C2%2C3"),
            40002,
            "next_offset",
        ),
        (
            "/admin/v2/logs/telephony",
            format!("mintime={now_ms}&maxtime={}", now_ms - 5),
            40002,
            "'maxtime' must be strictly greater than 'mintime'",
        ),
        (
            "/admin/v1/trust_monitor/events",
            format!("mintime={now_ms}&maxtime=12"),
            40002,
            "maxtime",
        ),
        (
            "/admin/v1/trust_monitor/events",
            format!("mintime={}&maxtime={now_ms}", now_ms - 200 * DAY_MS),
            40002,
            "mintime must be within the past 180 days",
        ),
        (
            "/admin/v1/trust_monitor/events",
            format!("{good}&offset=x"),
            40002,
            "offset",
        ),
        (
            "/admin/v1/logs/authentication",
            "mintime=-5".to_owned(),
            40002,
            "mintime",
        ),
        (
            "/admin/v1/logs/administrator",
            "mintime=1e9".to_owned(),
            40002,
            "mintime",
        ),
    ];
    for (path, query, code, text) in cases {
        assert_eq!(
            detail(path, &query),
            (code, Some(text.to_owned())),
            "{path}?{query}"
        );
    }
    // A mintime computed an instant before the request (the Python client's default) is taken.
    assert!(ask(&w, v2, &window(now_ms - 180 * DAY_MS - 5_000, now_ms), NOW_US).is_ok());
    // Unknown parameters are ignored (a misspelt filter returns everything).
    let all = ok(&w, v2, &good)["response"]["metadata"]["total_objects"].clone();
    assert_eq!(
        ok(&w, v2, &format!("{good}&username=nobody"))["response"]["metadata"]["total_objects"],
        all
    );
    // An over-large limit is clamped.
    assert_eq!(
        ok(&w, v2, &format!("{good}&limit=5000"))["response"]["authlogs"]
            .as_array()
            .map(Vec::len),
        Some(1000)
    );
}

#[test]
fn an_empty_window_and_the_final_cursor_modes() {
    let w = world(30, AUTH_LOGS);
    let now_ms = NOW_US / 1000;
    let empty = ok(&w, "/admin/v2/logs/authentication", &window(now_ms - 10, now_ms));
    assert_eq!(
        empty["response"],
        serde_json::json!({"authlogs": [], "metadata": {"next_offset": null, "total_objects": 0}})
    );
    // Exactly one full page: "full-page" gives a cursor, then an empty page; "exact" none.
    let span = window(ANCHOR * 1000 - DAY_MS, ANCHOR * 1000);
    let total = ok(&w, "/admin/v2/logs/authentication", &span)["response"]["metadata"]["total_objects"]
        .as_u64()
        .expect("total");
    let full = ok(
        &w,
        "/admin/v2/logs/authentication",
        &format!("{span}&limit={}", total.min(1000)),
    );
    if total <= 1000 {
        assert!(full["response"]["metadata"]["next_offset"].is_array());
        let exact = world(30, &format!("[logs]\nfinal_cursor = \"exact\"\n{AUTH_LOGS}"));
        let page = ok(
            &exact,
            "/admin/v2/logs/authentication",
            &format!("{span}&limit={total}"),
        );
        assert_eq!(page["response"]["metadata"]["next_offset"], Value::Null);
    }
    // A log the scenario does not declare is empty, and still checks its parameters.
    let none = world(5, "");
    assert_eq!(
        ok(&none, "/admin/v2/logs/activity", &span)["response"]["metadata"]["total_objects"],
        serde_json::json!({"relation": "eq", "value": 0})
    );
    assert!(ask(&none, "/admin/v2/logs/activity", "mintime=1", NOW_US).is_err());
}

#[test]
fn trust_monitor_pages_by_offset_and_filters_by_type() {
    let w = world(40, "[logs.trust_monitor]\nper_day = 400\n");
    let span = window(ANCHOR * 1000 - 3 * DAY_MS, ANCHOR * 1000);
    let mut offset = None;
    let mut seen = Vec::new();
    loop {
        let query = match &offset {
            Some(o) => format!("{span}&limit=50&offset={o}"),
            None => format!("{span}&limit=50"),
        };
        let page = ok(&w, "/admin/v1/trust_monitor/events", &query);
        let events = page["response"]["events"].as_array().expect("events");
        seen.extend(
            events
                .iter()
                .map(|e| e["sekey"].as_str().expect("sekey").to_owned()),
        );
        match page["response"]["metadata"].get("next_offset") {
            Some(Value::String(next)) => offset = Some(next.clone()),
            None => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(seen.len() > 1000);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), seen.len());
    let bypass = ok(
        &w,
        "/admin/v1/trust_monitor/events",
        &format!("{span}&type=bypass_status&limit=500"),
    );
    let events = bypass["response"]["events"].as_array().expect("events");
    assert!(!events.is_empty() && events.iter().all(|e| e["type"] == "bypass_status"));
}

#[test]
fn counts_and_reports_agree_with_the_log() {
    let w = world(
        60,
        "[logs.authentication]\nper_day = 3000\n[logs.telephony]\nper_day = 300\n",
    );
    let (from, to) = (ANCHOR - 5 * 86_400, ANCHOR - 86_400);
    let events = all_auth(&w, &window(from * 1000, to * 1000 + 999));
    let report = |report, query: &str| -> Value {
        let body = w
            .logs
            .report(&w, report, &Params::parse(query.as_bytes()), NOW_US)
            .expect("report");
        serde_json::from_slice(&body).expect("JSON")
    };
    let attempts = report(
        super::reports::Report::AuthenticationAttempts,
        &format!("mintime={from}&maxtime={to}"),
    );
    let counts = &attempts["response"]["authentication_attempts"];
    let authentications = events.iter().filter(|e| e["event_type"] == "authentication");
    let by = |result: &str| authentications.clone().filter(|e| e["result"] == result).count() as u64;
    assert_eq!(counts["SUCCESS"].as_u64(), Some(by("success")));
    assert_eq!(counts["FAILURE"].as_u64(), Some(by("denied")));
    assert_eq!(counts["FRAUD"].as_u64(), Some(by("fraud")));
    assert_eq!(counts["ERROR"].as_u64(), Some(by("error")));
    assert_eq!(attempts["response"]["mintime"].as_i64(), Some(from));
    let users = report(
        super::reports::Report::UserAuthenticationAttempts,
        &format!("mintime={from}&maxtime={to}"),
    );
    let distinct = |result: &str| {
        authentications
            .clone()
            .filter(|e| e["result"] == result)
            .map(|e| e["user"]["key"].as_str().expect("key"))
            .collect::<HashSet<_>>()
            .len() as u64
    };
    assert_eq!(
        users["response"]["user_authentication_attempts"]["SUCCESS"].as_u64(),
        Some(distinct("success"))
    );
    assert_eq!(
        users["response"]["user_authentication_attempts"]["FAILURE"].as_u64(),
        Some(distinct("denied"))
    );
    let calls = walk_v2(
        &w,
        "/admin/v2/logs/telephony",
        &window(from * 1000, to * 1000 + 999),
        1000,
        "ts:asc",
        false,
    );
    let credits = report(
        super::reports::Report::TelephonyCreditsUsed,
        &format!("mintime={from}&maxtime={to}"),
    );
    assert_eq!(
        credits["response"]["telephony_credits_used"].as_u64(),
        Some(
            calls
                .iter()
                .map(|c| c["credits"].as_u64().expect("credits"))
                .sum()
        )
    );
    let bad = w.logs.report(
        &w,
        super::reports::Report::AuthenticationAttempts,
        &Params::parse(b"mintime=x"),
        NOW_US,
    );
    assert_eq!(bad.map_err(|e| e.code), Err(40002));
}

#[test]
fn a_day_holds_the_declared_rate() {
    let w = world(
        30,
        "[logs.authentication]\nper_day = 50000\nmix = { denied = 1 }\n",
    );
    let stream = w.logs.stream(LogKind::Authentication).expect("stream");
    let people = w.logs.people(&w.scenario, &w.tenant);
    let day = (ANCHOR / 86_400 - 3) * 1440;
    let count = w.logs.count_buckets(stream, people, day, day + 1440, u32::MAX);
    assert!((49_000..51_000).contains(&count), "{count}");
}

mod properties {
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use super::*;

    /// One tenant for every case: 30 users, a busy log with ties.
    fn shared() -> &'static World {
        static WORLD: OnceLock<World> = OnceLock::new();
        WORLD.get_or_init(|| world(30, "[logs.authentication]\nper_day = 20000\nties = 0.3\n[logs.telephony]\nper_day = 5000\nties = 0.3\n"))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Any window, page size, order and cursor form reads the window's events (the dump's)
        /// exactly once each, in order.
        #[test]
        fn paging_reads_each_event_of_any_window_once(
            start_s in 0i64..(170 * 86_400),
            span_ms in 1i64..1_800_000,
            limit in 1usize..=300,
            descending in any::<bool>(),
            repeated in any::<bool>(),
            telephony in any::<bool>(),
        ) {
            let w = shared();
            let from = ANCHOR * 1000 - start_s * 1000;
            let (path, kind, id) = if telephony {
                ("/admin/v2/logs/telephony", LogKind::Telephony, "telephony_id")
            } else {
                ("/admin/v2/logs/authentication", LogKind::Authentication, "txid")
            };
            let mut dumped = Vec::new();
            w.logs.dump(w, kind, from, from + span_ms, NOW_US, &mut dumped).expect("dump");
            let dumped: Vec<Value> = serde_json::from_slice(&dumped).expect("JSON");
            let sort = if descending { "ts:desc" } else { "ts:asc" };
            let mut got = walk_v2(w, path, &window(from, from + span_ms), limit, sort, repeated);
            if descending {
                got.reverse();
            }
            let ids = |events: &[Value]| events.iter().map(|e| e[id].clone()).collect::<Vec<_>>();
            prop_assert_eq!(ids(&got), ids(&dumped));
        }

        /// Whatever a log request's parameters hold, it is answered or refused with Duo's
        /// 40001 or 40002, and a refusal says which parameter.
        #[test]
        fn any_parameters_get_an_answer_or_duos_error(
            endpoint in 0usize..ENDPOINTS.len(),
            pairs in proptest::collection::vec(
                (
                    prop_oneof![
                        Just("mintime"), Just("maxtime"), Just("limit"), Just("sort"), Just("next_offset"),
                        Just("offset"), Just("users"), Just("groups"), Just("results"), Just("factors"),
                        Just("type"), Just("reasons"), Just("event_types"), Just("phone_numbers"), Just("x")
                    ],
                    prop_oneof![
                        "[0-9]{0,20}",
                        "-?[0-9]{13}",
                        "\\PC{0,24}",
                        Just(format!("{}", NOW_US / 1000 - 3_600_000)),
                        Just("1767225600000,5bea5c1e-682c-4f1d-b3f0-75fd31385bd5".to_owned()),
                    ],
                ),
                0..8,
            ),
        ) {
            let w = shared();
            let query: String = pairs
                .iter()
                .map(|(k, v)| format!("{k}={}", v.replace('%', "%25").replace('&', "%26").replace('+', "%2B")))
                .collect::<Vec<_>>()
                .join("&");
            let path = ENDPOINTS[endpoint].path;
            match ask(w, path, &query, NOW_US) {
                Ok(body) => prop_assert!(body.is_object() || body.is_array()),
                Err(e) => {
                    prop_assert!(e.code == 40001 || e.code == 40002, "{} {:?}", e.code, e.detail);
                    prop_assert!(e.detail.is_some());
                }
            }
        }
    }
}

#[test]
fn the_knobs_change_what_they_say() {
    let w = world(
        20,
        "[logs]\ndrift = [\"security-agents\", \"ip-with-port\", \"unknown-booleans\"]\ndrift_share = 1.0\n\
         v1_display_strings = true\nactivity_action = \"string\"\ninfo_reports = \"counts-only\"\n\
         adaptive_trust_assessments = false\n\
         [logs.total_objects]\nauthentication = \"relation\"\ntelephony = \"relation\"\nactivity = \"int\"\n\
         [logs.authentication]\nper_day = 2000\n[logs.activity]\nper_day = 500\n",
    );
    let span = window(ANCHOR * 1000 - DAY_MS, ANCHOR * 1000);
    let page = ok(&w, "/admin/v2/logs/authentication", &span);
    assert_eq!(page["response"]["metadata"]["total_objects"]["relation"], "eq");
    for e in page["response"]["authlogs"].as_array().expect("list") {
        let device = &e["access_device"];
        assert!(device["security_agents"] == "unknown" || device["security_agents"].is_null());
        assert!(
            device["ip"].as_str().expect("ip").contains(':'),
            "{}",
            device["ip"]
        );
        assert_eq!(device["is_encryption_enabled"], "unknown");
        assert!(e.get("adaptive_trust_assessments").is_none());
    }
    let v1 = ok(
        &w,
        "/admin/v1/logs/authentication",
        &format!("mintime={}", ANCHOR - 86_400),
    );
    let first = &v1["response"][0];
    assert!(["SUCCESS", "DENIED", "FRAUD", "ERROR"].contains(&first["result"].as_str().expect("result")));
    assert!(
        first["factor"]
            .as_str()
            .expect("factor")
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
    );
    let activity = ok(&w, "/admin/v2/logs/activity", &span);
    assert!(activity["response"]["items"][0]["action"].is_string());
    assert!(activity["response"]["metadata"]["total_objects"].is_u64());
    let report = w
        .logs
        .report(
            &w,
            super::reports::Report::AuthenticationAttempts,
            &Params::parse(b""),
            NOW_US,
        )
        .expect("report");
    let report: Value = serde_json::from_slice(&report).expect("JSON");
    assert!(report["response"]["SUCCESS"].is_u64() && report["response"].get("mintime").is_none());
}

#[test]
fn a_bad_logs_table_is_located() {
    for (logs, words) in [
        (
            "[logs.telephony]\nfactors = { duo_push = 1 }\n",
            "logs.telephony has no `factors`",
        ),
        (
            "[logs.authentication]\nper_day = -1\n",
            "per_day must be between 0",
        ),
        (
            "[logs.authentication]\nmix = { win = 1 }\n",
            "\"win\" is not one of",
        ),
        (
            "[logs.authentication]\napplications = [\"nope\"]\n",
            "not an integration of the scenario",
        ),
        ("[logs]\nlate_share = 2\n", "logs.late_share is a share"),
        ("[logs]\ntrust_monitor_limit = [0, 5]\n", "trust_monitor_limit"),
        (
            "[logs.authentication]\nhours = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n",
            "not all 0",
        ),
        ("[logs.nope]\n", "unknown field"),
    ] {
        let text = crate::Scenario::builder().to_toml() + logs;
        let error = crate::Scenario::parse(&text, "logs.toml")
            .expect_err(logs)
            .to_string();
        assert!(error.starts_with("logs.toml:"), "{error}");
        assert!(error.contains(words), "{error} should say {words}");
    }
}
