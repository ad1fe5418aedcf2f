//! Typed views of the raw objects in a snapshot: only the fields the reports read. Duo's shapes
//! drift (fields appear, disappear, turn null, change case), so every field is optional and a field
//! of an unexpected type reads as absent instead of failing the whole report. Only a missing id is
//! an error: without it an object cannot be matched or stored.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::Error;
use crate::snapshot::{RawObject, Snapshot};

/// The fields of a user object the connector reads.
#[derive(Debug, Deserialize)]
pub(crate) struct UserView {
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) user_id: String,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) username: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) realname: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) email: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) status: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) is_enrolled: Option<bool>,
    #[serde(default, deserialize_with = "lenient_unix_seconds")]
    pub(crate) last_login: Option<i64>,
    #[serde(default, deserialize_with = "lenient_unix_seconds")]
    pub(crate) created: Option<i64>,
    #[serde(default, deserialize_with = "lenient_list")]
    pub(crate) groups: Vec<EmbeddedGroup>,
    #[serde(default, deserialize_with = "lenient_list")]
    pub(crate) phones: Vec<PhoneView>,
    /// Hardware tokens: only how many there are is read.
    #[serde(default, deserialize_with = "lenient_count")]
    pub(crate) tokens: usize,
    #[serde(default, deserialize_with = "lenient_count")]
    pub(crate) webauthncredentials: usize,
    #[serde(default, deserialize_with = "lenient_count")]
    pub(crate) u2ftokens: usize,
}

/// A phone as embedded in a user's `phones`.
#[derive(Debug, Deserialize)]
pub(crate) struct PhoneView {
    /// `auto`, `push`, `sms`, `phone`, `mobile_otp`; unreadable items are skipped.
    #[serde(default, deserialize_with = "lenient_list")]
    pub(crate) capabilities: Vec<String>,
}

/// A group as embedded in a user's `groups`.
#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddedGroup {
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) group_id: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) status: Option<String>,
}

/// The fields of an administrator object the connector reads.
#[derive(Debug, Deserialize)]
pub(crate) struct AdminView {
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) admin_id: String,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) name: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) email: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) role: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) status: Option<String>,
    #[serde(default, deserialize_with = "lenient_unix_seconds")]
    pub(crate) last_login: Option<i64>,
}

/// The fields of a group object the connector reads.
#[derive(Debug, Deserialize)]
pub(crate) struct GroupView {
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) group_id: String,
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) name: Option<String>,
    /// `active`, `bypass` or `disabled`, spelled `Active`… by some tenants.
    #[serde(default, deserialize_with = "lenient")]
    pub(crate) status: Option<String>,
}

/// Every user of `snapshot`, in the snapshot's order.
pub(crate) fn read_users(snapshot: &Snapshot) -> Result<Vec<UserView>, Error> {
    read_objects(snapshot, "users", "user_id", &snapshot.users, |u: &UserView| {
        &u.user_id
    })
}

/// Every administrator of `snapshot`, in the snapshot's order.
pub(crate) fn read_admins(snapshot: &Snapshot) -> Result<Vec<AdminView>, Error> {
    read_objects(
        snapshot,
        "admins",
        "admin_id",
        &snapshot.admins,
        |a: &AdminView| &a.admin_id,
    )
}

/// Every group of `snapshot`, in the snapshot's order.
pub(crate) fn read_groups(snapshot: &Snapshot) -> Result<Vec<GroupView>, Error> {
    read_objects(
        snapshot,
        "groups",
        "group_id",
        &snapshot.groups,
        |g: &GroupView| &g.group_id,
    )
}

/// What is known of a group: its name and status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KnownGroup {
    pub(crate) name: Option<String>,
    pub(crate) status: Option<String>,
}

impl KnownGroup {
    /// The group's status is `bypass`: its members log in without a second factor.
    pub(crate) fn is_bypass(&self) -> bool {
        status_is(self.status.as_deref(), "bypass")
    }
}

/// Groups by id: from the groups list, then from users' embedded groups for any group or field
/// the list lacks (a group created after the groups list was read).
pub(crate) fn known_groups(groups: &[GroupView], users: &[UserView]) -> BTreeMap<String, KnownGroup> {
    let mut known: BTreeMap<String, KnownGroup> = groups
        .iter()
        .map(|g| {
            let group = KnownGroup {
                name: g.name.clone(),
                status: g.status.clone(),
            };
            (g.group_id.clone(), group)
        })
        .collect();
    for embedded in users.iter().flat_map(|u| &u.groups) {
        let Some(id) = embedded.group_id.as_ref().filter(|id| !id.is_empty()) else {
            continue;
        };
        let group = known.entry(id.clone()).or_default();
        if group.name.is_none() {
            group.name.clone_from(&embedded.name);
        }
        if group.status.is_none() {
            group.status.clone_from(&embedded.status);
        }
    }
    known
}

/// Two statuses are the same without regard to case or surrounding spaces (both absent counts as
/// the same).
pub(crate) fn same_status(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        (a, b) => a.is_none() && b.is_none(),
    }
}

/// A status equals `wanted` without regard to case or surrounding spaces: Duo's capitalisation
/// drifts (groups show both `active` and `Active`).
pub(crate) fn status_is(status: Option<&str>, wanted: &str) -> bool {
    same_status(status, Some(wanted))
}

/// Every `(group_id, user_id)` membership: the snapshot's `group_members` and the users' embedded
/// `groups` together.
pub(crate) fn memberships(snapshot: &Snapshot, users: &[UserView]) -> BTreeSet<(String, String)> {
    let listed = snapshot
        .group_members
        .iter()
        .flat_map(|(group, members)| members.iter().map(|user| (group.clone(), user.clone())));
    let embedded = users.iter().flat_map(|user| {
        user.groups
            .iter()
            .filter_map(|g| g.group_id.clone())
            .filter(|id| !id.is_empty())
            .map(|group| (group, user.user_id.clone()))
    });
    listed.chain(embedded).collect()
}

fn read_objects<T: DeserializeOwned>(
    snapshot: &Snapshot,
    list: &str,
    id_field: &str,
    objects: &[RawObject],
    id: impl Fn(&T) -> &String,
) -> Result<Vec<T>, Error> {
    objects
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            // Not an object at all (a string, a number) is the one shape no view can read.
            let view: T = serde_json::from_str(raw.get())
                .map_err(|e| object_error(snapshot, format!("{list}[{index}] is not a JSON object: {e}")))?;
            if id(&view).is_empty() {
                return Err(object_error(
                    snapshot,
                    format!("{list}[{index}] has no \"{id_field}\" string, so it cannot be matched"),
                ));
            }
            Ok(view)
        })
        .collect()
}

/// An error about one object. Snapshots compared or stored may come from anywhere (a file, a
/// database, memory), so the snapshot is named by what it is of and when.
pub(crate) fn object_error(snapshot: &Snapshot, reason: String) -> Error {
    Error::Snapshot {
        path: PathBuf::from(format!(
            "snapshot of {} synced at {}",
            snapshot.api_host, snapshot.synced_at
        )),
        reason,
    }
}

/// A field of any JSON type: the type wanted, or the default (`None`, `""`) when it is null,
/// missing or of another type.
fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Default,
{
    let value = Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).unwrap_or_default())
}

/// How many non-null items a list has; anything but a list counts as none.
fn lenient_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => items.iter().filter(|item| !item.is_null()).count(),
        _ => 0,
    })
}

/// Unix seconds: an integer, and also a float or a numeric string, so that a drifted timestamp
/// is not mistaken for "never".
fn lenient_unix_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A list whose unreadable items are skipped, and which reads as empty when it is not a list.
fn lenient_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Value::deserialize(deserializer)? {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| serde_json::from_value(item).ok())
            .collect(),
        _ => Vec::new(),
    })
}
