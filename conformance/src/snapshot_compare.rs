//! A connector's snapshot against the fake's ground truth: the same ids (none missing, none
//! extra, none twice), the same objects field by field, the same group memberships. The result is
//! the closest mismatch in words: the first differing object and field, with counts.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::contract::Snapshot;
use crate::report::count;
use crate::truth::GroundTruth;

/// Longest rendering of a value in a message.
const VALUE_CHARS: usize = 80;

/// How a snapshot differs from the truth, first difference first.
pub fn first_mismatch(snapshot: &Snapshot, truth: &GroundTruth) -> Option<String> {
    compare_list("users", "user_id", &snapshot.users, &truth.users)
        .or_else(|| compare_list("admins", "admin_id", &snapshot.admins, &truth.admins))
        .or_else(|| compare_list("groups", "group_id", &snapshot.groups, &truth.groups))
        .or_else(|| compare_members(&snapshot.group_members, &truth.group_members))
}

/// The fields that name an object for a person, in preference order.
const LABEL_FIELDS: [&str; 3] = ["username", "name", "email"];

#[derive(Deserialize)]
struct Labelled {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

fn label(raw: &RawValue) -> String {
    let Ok(l) = serde_json::from_str::<Labelled>(raw.get()) else {
        return String::new();
    };
    let shown = [l.username, l.name, l.email]
        .into_iter()
        .zip(LABEL_FIELDS)
        .find_map(|(v, f)| v.map(|v| (f, v)));
    shown
        .map(|(field, value)| format!(" ({field} {value:?})"))
        .unwrap_or_default()
}

fn id_of(raw: &RawValue, id_field: &str) -> Option<String> {
    let value: HashMap<String, &RawValue> = serde_json::from_str(raw.get()).ok()?;
    let id = value.get(id_field)?;
    serde_json::from_str::<String>(id.get()).ok()
}

fn compare_list(
    list: &str,
    id_field: &str,
    got: &[Box<RawValue>],
    expected: &[Box<RawValue>],
) -> Option<String> {
    let mut expected_by_id: HashMap<String, &RawValue> = HashMap::with_capacity(expected.len());
    let mut expected_order = Vec::with_capacity(expected.len());
    for raw in expected {
        if let Some(id) = id_of(raw, id_field) {
            expected_order.push(id.clone());
            expected_by_id.insert(id, raw);
        }
    }
    let mut got_by_id: HashMap<String, (usize, &RawValue)> = HashMap::with_capacity(got.len());
    for (position, raw) in got.iter().enumerate() {
        let Some(id) = id_of(raw, id_field) else {
            return Some(format!(
                "{list}[{position}] has no string {id_field}: {}",
                shorten(raw.get())
            ));
        };
        if let Some((first, _)) = got_by_id.get(&id) {
            return Some(format!(
                "{list}: {id}{} appears twice (positions {first} and {position})",
                label(raw)
            ));
        }
        got_by_id.insert(id, (position, raw));
    }
    let missing: Vec<&String> = expected_order
        .iter()
        .filter(|id| !got_by_id.contains_key(*id))
        .collect();
    if let Some(first) = missing.first() {
        return Some(format!(
            "{list}: {} of {} missing, first {first}{}",
            missing.len(),
            expected_order.len(),
            expected_by_id.get(*first).map(|r| label(r)).unwrap_or_default()
        ));
    }
    let mut extra: Vec<(usize, &String, &RawValue)> = got_by_id
        .iter()
        .filter(|(id, _)| !expected_by_id.contains_key(*id))
        .map(|(id, (position, raw))| (*position, id, *raw))
        .collect();
    extra.sort_by_key(|e| e.0);
    if let Some((_, first, raw)) = extra.first() {
        return Some(format!(
            "{list}: {} not in the tenant, first {first}{}",
            extra.len(),
            label(raw)
        ));
    }
    let mut differing = 0usize;
    let mut first = None;
    for id in &expected_order {
        let (Some(want), Some((_, have))) = (expected_by_id.get(id), got_by_id.get(id)) else {
            continue;
        };
        if want.get() == have.get() {
            continue;
        }
        let (Ok(want_value), Ok(have_value)) = (
            serde_json::from_str::<Value>(want.get()),
            serde_json::from_str::<Value>(have.get()),
        ) else {
            continue;
        };
        let mut path = format!("{list}[{id}]");
        if let Some(difference) = first_difference(&want_value, &have_value, &mut path) {
            differing += 1;
            if first.is_none() {
                first = Some(format!("{difference}{}", label(want)));
            }
        }
    }
    first.map(|f| {
        if differing > 1 {
            format!("{f} ({differing} {list} differ)")
        } else {
            f
        }
    })
}

fn compare_members(
    got: &BTreeMap<String, Vec<String>>,
    expected: &BTreeMap<String, Vec<String>>,
) -> Option<String> {
    for (group, members) in expected {
        let have = got.get(group).map_or(&[][..], Vec::as_slice);
        if !got.contains_key(group) && !members.is_empty() {
            return Some(format!(
                "group_members: group {group} missing; it has {}",
                count(members.len() as u64, "member", "members")
            ));
        }
        let mut seen = HashSet::with_capacity(have.len());
        if let Some(twice) = have.iter().find(|m| !seen.insert(m.as_str())) {
            return Some(format!("group_members[{group}]: {twice} listed twice"));
        }
        let wanted: HashSet<&str> = members.iter().map(String::as_str).collect();
        let missing: Vec<&String> = members.iter().filter(|m| !seen.contains(m.as_str())).collect();
        if let Some(first) = missing.first() {
            return Some(format!(
                "group_members[{group}]: {} of {} members missing, first {first}",
                missing.len(),
                members.len()
            ));
        }
        if let Some(extra) = have.iter().find(|m| !wanted.contains(m.as_str())) {
            return Some(format!("group_members[{group}]: {extra} is not a member"));
        }
    }
    got.keys()
        .find(|group| !expected.contains_key(*group))
        .map(|group| format!("group_members: {group} is not a group of the tenant"))
}

/// The first place `got` differs from `expected`, as `path: what`.
pub fn first_difference(expected: &Value, got: &Value, path: &mut String) -> Option<String> {
    match (expected, got) {
        (Value::Object(want), Value::Object(have)) => {
            let mut keys: Vec<&String> = want.keys().chain(have.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                let found = match (want.get(key), have.get(key)) {
                    (Some(w), None) => Some(format!("{path}: missing (Duo sent {})", render(w))),
                    (None, Some(h)) => Some(format!("{path}: not in Duo's answer (got {})", render(h))),
                    (Some(w), Some(h)) => first_difference(w, h, path),
                    (None, None) => None,
                };
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        (Value::Array(want), Value::Array(have)) => {
            for (i, (w, h)) in want.iter().zip(have).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = first_difference(w, h, path);
                path.truncate(len);
                if found.is_some() {
                    return found;
                }
            }
            (want.len() != have.len()).then(|| {
                format!(
                    "{path}: Duo sent {}, got {}",
                    count(want.len() as u64, "item", "items"),
                    have.len()
                )
            })
        }
        _ if expected == got => None,
        _ => Some(format!(
            "{path}: expected {}, got {}",
            render(expected),
            render(got)
        )),
    }
}

fn render(value: &Value) -> String {
    shorten(&value.to_string())
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= VALUE_CHARS {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(VALUE_CHARS).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    fn truth() -> GroundTruth {
        GroundTruth {
            users: vec![
                raw(r#"{"user_id":"DU1","username":"ann","email":"ann@x","groups":[{"group_id":"DG1"}]}"#),
                raw(r#"{"user_id":"DU2","username":"bob","email":"bob@x","groups":[]}"#),
            ],
            admins: vec![raw(r#"{"admin_id":"DE1","name":"Olivia","role":"Owner"}"#)],
            groups: vec![raw(r#"{"group_id":"DG1","name":"Eng"}"#)],
            group_members: BTreeMap::from([("DG1".to_owned(), vec!["DU1".to_owned()])]),
        }
    }

    fn snapshot(users: &[&str], members: &[(&str, &[&str])]) -> Snapshot {
        Snapshot {
            schema_version: 1,
            api_host: "localhost:1".into(),
            synced_at: "2026-01-01T00:00:00Z".into(),
            users: users.iter().map(|u| raw(u)).collect(),
            admins: vec![raw(r#"{"role": "Owner", "name": "Olivia", "admin_id": "DE1"}"#)],
            groups: vec![raw(r#"{"group_id":"DG1","name":"Eng"}"#)],
            group_members: members
                .iter()
                .map(|(g, m)| ((*g).to_owned(), m.iter().map(|s| (*s).to_owned()).collect()))
                .collect(),
        }
    }

    const ANN: &str = r#"{"user_id":"DU1","username":"ann","email":"ann@x","groups":[{"group_id":"DG1"}]}"#;
    const BOB: &str = r#"{"email": "bob@x", "groups": [], "user_id": "DU2", "username": "bob"}"#;

    #[test]
    fn an_equal_snapshot_matches_whatever_the_order_and_spacing() {
        assert_eq!(
            first_mismatch(&snapshot(&[BOB, ANN], &[("DG1", &["DU1"])]), &truth()),
            None
        );
    }

    #[test]
    fn missing_extra_and_duplicate_objects_are_named() {
        let m = first_mismatch(&snapshot(&[ANN], &[("DG1", &["DU1"])]), &truth()).unwrap();
        assert_eq!(m, "users: 1 of 2 missing, first DU2 (username \"bob\")");
        let m = first_mismatch(&snapshot(&[ANN, BOB, ANN], &[]), &truth()).unwrap();
        assert_eq!(
            m,
            "users: DU1 (username \"ann\") appears twice (positions 0 and 2)"
        );
        let extra = r#"{"user_id":"DU9","username":"eve"}"#;
        let m = first_mismatch(&snapshot(&[ANN, BOB, extra], &[]), &truth()).unwrap();
        assert_eq!(m, "users: 1 not in the tenant, first DU9 (username \"eve\")");
        let m = first_mismatch(&snapshot(&[ANN, BOB, r#"{"username":"x"}"#], &[]), &truth()).unwrap();
        assert!(m.starts_with("users[2] has no string user_id"), "{m}");
    }

    #[test]
    fn the_first_differing_field_is_named() {
        let changed = r#"{"user_id":"DU2","username":"bob","email":null,"groups":[]}"#;
        let m = first_mismatch(&snapshot(&[ANN, changed], &[("DG1", &["DU1"])]), &truth()).unwrap();
        assert_eq!(
            m,
            "users[DU2].email: expected \"bob@x\", got null (username \"bob\")"
        );
        let dropped = r#"{"user_id":"DU1","username":"ann","email":"ann@x"}"#;
        let m = first_mismatch(&snapshot(&[dropped, BOB], &[]), &truth()).unwrap();
        assert!(
            m.starts_with("users[DU1].groups: missing (Duo sent [{\"group_id\":\"DG1\"}])"),
            "{m}"
        );
        let nested = r#"{"user_id":"DU1","username":"ann","email":"ann@x","groups":[{"group_id":"DG2"}]}"#;
        let m = first_mismatch(&snapshot(&[nested, BOB], &[]), &truth()).unwrap();
        assert!(
            m.starts_with("users[DU1].groups[0].group_id: expected \"DG1\", got \"DG2\""),
            "{m}"
        );
        let added =
            r#"{"user_id":"DU1","username":"ann","email":"ann@x","groups":[{"group_id":"DG1"}],"x":1}"#;
        let m = first_mismatch(&snapshot(&[added, BOB], &[]), &truth()).unwrap();
        assert!(m.starts_with("users[DU1].x: not in Duo's answer (got 1)"), "{m}");
        let emptied = r#"{"user_id":"DU1","username":"ann","email":"ann@x","groups":[]}"#;
        let m = first_mismatch(&snapshot(&[emptied, BOB], &[]), &truth()).unwrap();
        assert!(m.starts_with("users[DU1].groups: Duo sent 1 item, got 0"), "{m}");
    }

    #[test]
    fn group_memberships_are_compared_as_sets() {
        let m = first_mismatch(&snapshot(&[ANN, BOB], &[]), &truth()).unwrap();
        assert_eq!(m, "group_members: group DG1 missing; it has 1 member");
        let m = first_mismatch(&snapshot(&[ANN, BOB], &[("DG1", &[])]), &truth()).unwrap();
        assert_eq!(m, "group_members[DG1]: 1 of 1 members missing, first DU1");
        let m = first_mismatch(&snapshot(&[ANN, BOB], &[("DG1", &["DU1", "DU2"])]), &truth()).unwrap();
        assert_eq!(m, "group_members[DG1]: DU2 is not a member");
        let m = first_mismatch(&snapshot(&[ANN, BOB], &[("DG1", &["DU1", "DU1"])]), &truth()).unwrap();
        assert_eq!(m, "group_members[DG1]: DU1 listed twice");
        let m = first_mismatch(
            &snapshot(&[ANN, BOB], &[("DG1", &["DU1"]), ("DG7", &[])]),
            &truth(),
        )
        .unwrap();
        assert_eq!(m, "group_members: DG7 is not a group of the tenant");
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(200);
        let mut path = "p".to_owned();
        let m = first_difference(&Value::from(long.as_str()), &Value::Null, &mut path).unwrap();
        assert!(m.chars().count() < 120 && m.contains('…'), "{m}");
    }
}
