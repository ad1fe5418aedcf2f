//! Access-change events: one JSON object per change of an [`AccessDiff`] between two recorded runs,
//! naming the object, its old and new values, and both runs. `duo-connector watch` appends them
//! to its `--events` file (JSON Lines) after each run; `duo-connector evidence` writes those of a
//! period. What changed is decided by [`crate::diff`] alone; this module only names it.
//!
//! ```
//! use duo_connector::{Snapshot, diff::diff, events::{RunRef, events_of}};
//! let old = Snapshot::parse(r#"{"schema_version":1,"api_host":"h","synced_at":"t0",
//!     "users":[{"user_id":"DU1","username":"alice","status":"active"}],
//!     "admins":[],"groups":[],"group_members":{}}"#).unwrap();
//! let new = Snapshot::parse(r#"{"schema_version":1,"api_host":"h","synced_at":"t1",
//!     "users":[{"user_id":"DU1","username":"alice","status":"disabled"}],
//!     "admins":[],"groups":[],"group_members":{}}"#).unwrap();
//! let events = events_of(&diff(&old, &new)?, &RunRef::new(1, "t0"), &RunRef::new(2, "t1"));
//! assert_eq!(events[0].kind.as_str(), "user_status_changed");
//! assert_eq!((events[0].old.as_str(), events[0].new.as_str()), (Some("active"), Some("disabled")));
//! # Ok::<(), duo_connector::Error>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::diff::{AccessDiff, AdminRef, GroupRef, UserRef};

/// A recorded run, as an event names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    /// The run's id in the SQLite file.
    pub id: i64,
    /// When the run's sync finished (the snapshot's `synced_at`).
    pub synced_at: String,
}

impl RunRef {
    /// Run `id`, synced at `synced_at`.
    pub fn new(id: i64, synced_at: &str) -> Self {
        Self {
            id,
            synced_at: synced_at.to_owned(),
        }
    }
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A user appeared; `new` is `{status, is_enrolled, mfa}`.
    UserAdded,
    /// A user disappeared; `old` is `{status, is_enrolled, mfa}`.
    UserRemoved,
    /// A user's `status` changed.
    UserStatusChanged,
    /// A user's `is_enrolled` changed.
    UserEnrollmentChanged,
    /// A user's MFA posture changed.
    UserMfaChanged,
    /// An administrator appeared; `new` is `{role, status}`.
    AdminAdded,
    /// An administrator disappeared; `old` is `{role, status}`.
    AdminRemoved,
    /// An administrator's `role` changed.
    AdminRoleChanged,
    /// An administrator's `status` changed.
    AdminStatusChanged,
    /// A group appeared; `new` is `{status}`.
    GroupAdded,
    /// A group disappeared; `old` is `{status}`.
    GroupRemoved,
    /// A group's `status` changed (not only its case).
    GroupStatusChanged,
    /// A user joined a group: `old` false, `new` true.
    GroupMemberAdded,
    /// A user left a group: `old` true, `new` false.
    GroupMemberRemoved,
}

impl EventKind {
    /// The name in every output (`user_added`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserAdded => "user_added",
            Self::UserRemoved => "user_removed",
            Self::UserStatusChanged => "user_status_changed",
            Self::UserEnrollmentChanged => "user_enrollment_changed",
            Self::UserMfaChanged => "user_mfa_changed",
            Self::AdminAdded => "admin_added",
            Self::AdminRemoved => "admin_removed",
            Self::AdminRoleChanged => "admin_role_changed",
            Self::AdminStatusChanged => "admin_status_changed",
            Self::GroupAdded => "group_added",
            Self::GroupRemoved => "group_removed",
            Self::GroupStatusChanged => "group_status_changed",
            Self::GroupMemberAdded => "group_member_added",
            Self::GroupMemberRemoved => "group_member_removed",
        }
    }
}

/// The object an event is about, tagged with its `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventObject {
    /// A user.
    User {
        /// `user_id`.
        user_id: String,
        /// `username`, as the newer run names the user (the older, for a removed one).
        username: Option<String>,
    },
    /// An administrator.
    Admin {
        /// `admin_id`.
        admin_id: String,
        /// `name`.
        name: Option<String>,
        /// `email`.
        email: Option<String>,
    },
    /// A group.
    Group {
        /// `group_id`.
        group_id: String,
        /// `name`.
        name: Option<String>,
    },
    /// One user's membership of one group.
    GroupMembership {
        /// The group's `group_id`.
        group_id: String,
        /// The group's `name`.
        group_name: Option<String>,
        /// The member's `user_id`.
        user_id: String,
        /// The member's `username`.
        username: Option<String>,
    },
}

/// One access change between two runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessEvent {
    /// What changed.
    pub kind: EventKind,
    /// The tenant (the newer run's `api_host`).
    pub api_host: String,
    /// What it changed on.
    pub object: EventObject,
    /// The value in the older run (`null` when the object did not exist).
    pub old: Value,
    /// The value in the newer run (`null` when the object no longer exists).
    pub new: Value,
    /// The run compared with: the last good run before `new_run`.
    pub old_run: RunRef,
    /// The run in which the change was seen.
    pub new_run: RunRef,
}

impl AccessEvent {
    /// The event as one line of JSON Lines, newline included.
    pub fn to_line(&self) -> String {
        // Strings, numbers and plain JSON values always serialize.
        serde_json::to_string(self).unwrap_or_default() + "\n"
    }
}

/// Every change of `changes` as an event, in the diff's order: users, administrators, groups,
/// memberships, each sorted as the diff sorts it.
pub fn events_of(changes: &AccessDiff, old_run: &RunRef, new_run: &RunRef) -> Vec<AccessEvent> {
    let mut events = Vec::with_capacity(changes.change_count());
    let mut push = |kind: EventKind, object: EventObject, old: Value, new: Value| {
        events.push(AccessEvent {
            kind,
            api_host: changes.new.api_host.clone(),
            object,
            old,
            new,
            old_run: old_run.clone(),
            new_run: new_run.clone(),
        });
    };
    let user_access = |status: &Option<String>, enrolled: Option<bool>, mfa| json!({"status": status, "is_enrolled": enrolled, "mfa": mfa});
    for added in &changes.users_added {
        let access = user_access(&added.status, added.is_enrolled, added.mfa);
        push(EventKind::UserAdded, user(&added.user), Value::Null, access);
    }
    for removed in &changes.users_removed {
        let access = user_access(&removed.status, removed.is_enrolled, removed.mfa);
        push(EventKind::UserRemoved, user(&removed.user), access, Value::Null);
    }
    for c in &changes.user_status_changes {
        push(
            EventKind::UserStatusChanged,
            user(&c.user),
            json!(c.old),
            json!(c.new),
        );
    }
    for c in &changes.user_enrollment_changes {
        push(
            EventKind::UserEnrollmentChanged,
            user(&c.user),
            json!(c.old),
            json!(c.new),
        );
    }
    for c in &changes.user_mfa_changes {
        push(
            EventKind::UserMfaChanged,
            user(&c.user),
            json!(c.old),
            json!(c.new),
        );
    }
    for added in &changes.admins_added {
        let access = json!({"role": added.role, "status": added.status});
        push(EventKind::AdminAdded, admin(&added.admin), Value::Null, access);
    }
    for removed in &changes.admins_removed {
        let access = json!({"role": removed.role, "status": removed.status});
        push(
            EventKind::AdminRemoved,
            admin(&removed.admin),
            access,
            Value::Null,
        );
    }
    for c in &changes.admin_role_changes {
        push(
            EventKind::AdminRoleChanged,
            admin(&c.admin),
            json!(c.old),
            json!(c.new),
        );
    }
    for c in &changes.admin_status_changes {
        push(
            EventKind::AdminStatusChanged,
            admin(&c.admin),
            json!(c.old),
            json!(c.new),
        );
    }
    for added in &changes.groups_added {
        let access = json!({"status": added.status});
        push(EventKind::GroupAdded, group(&added.group), Value::Null, access);
    }
    for removed in &changes.groups_removed {
        let access = json!({"status": removed.status});
        push(
            EventKind::GroupRemoved,
            group(&removed.group),
            access,
            Value::Null,
        );
    }
    for c in &changes.group_status_changes {
        push(
            EventKind::GroupStatusChanged,
            group(&c.group),
            json!(c.old),
            json!(c.new),
        );
    }
    for m in &changes.members_added {
        let object = membership(&m.group, &m.user);
        push(
            EventKind::GroupMemberAdded,
            object,
            Value::Bool(false),
            Value::Bool(true),
        );
    }
    for m in &changes.members_removed {
        let object = membership(&m.group, &m.user);
        push(
            EventKind::GroupMemberRemoved,
            object,
            Value::Bool(true),
            Value::Bool(false),
        );
    }
    events
}

fn user(user: &UserRef) -> EventObject {
    EventObject::User {
        user_id: user.user_id.clone(),
        username: user.username.clone(),
    }
}

fn admin(admin: &AdminRef) -> EventObject {
    EventObject::Admin {
        admin_id: admin.admin_id.clone(),
        name: admin.name.clone(),
        email: admin.email.clone(),
    }
}

fn group(group: &GroupRef) -> EventObject {
    EventObject::Group {
        group_id: group.group_id.clone(),
        name: group.name.clone(),
    }
}

fn membership(group: &GroupRef, user: &UserRef) -> EventObject {
    EventObject::GroupMembership {
        group_id: group.group_id.clone(),
        group_name: group.name.clone(),
        user_id: user.user_id.clone(),
        username: user.username.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;
    use crate::snapshot::test_snapshot as snapshot;

    #[test]
    fn every_kind_of_change_becomes_one_event_naming_both_runs() {
        let old = snapshot(
            "2026-01-01T00:00:00Z",
            r#"{"user_id":"DU1","username":"alice","status":"active","is_enrolled":true,"phones":[{"capabilities":["push"]}]},
               {"user_id":"DU2","username":"bob","status":"active"}"#,
            r#"{"admin_id":"DE1","name":"Olivia","email":"o@x","role":"Owner","status":"Active"},
               {"admin_id":"DE2","name":"Hank","email":"h@x","role":"Help Desk","status":"Active"}"#,
            r#"{"group_id":"DG1","name":"Eng","status":"active"},{"group_id":"DG2","name":"Old","status":"active"}"#,
            r#""DG1":["DU1"],"DG2":[]"#,
        );
        let new = snapshot(
            "2026-01-02T00:00:00Z",
            r#"{"user_id":"DU1","username":"alice","status":"disabled","is_enrolled":false,"phones":[]},
               {"user_id":"DU3","username":"carol","status":"bypass","webauthncredentials":[{"webauthnkey":"WA1"}]}"#,
            r#"{"admin_id":"DE1","name":"Olivia","email":"o@x","role":"Owner","status":"Disabled"},
               {"admin_id":"DE3","name":"Ann","email":"a@x","role":"Administrator","status":"Active"}"#,
            r#"{"group_id":"DG1","name":"Eng","status":"Bypass"},{"group_id":"DG3","name":"New","status":"active"}"#,
            r#""DG1":["DU3"],"DG3":[]"#,
        );
        let mut changes = diff(&old, &new).unwrap();
        // A role change needs the same admin on both sides: Hank's role changes in a second diff.
        let promoted = snapshot(
            "t",
            "",
            r#"{"admin_id":"DE2","name":"Hank","email":"h@x","role":"Administrator","status":"Active"}"#,
            "",
            "",
        );
        let demoted = snapshot(
            "t",
            "",
            r#"{"admin_id":"DE2","name":"Hank","email":"h@x","role":"Help Desk","status":"Active"}"#,
            "",
            "",
        );
        changes.admin_role_changes = diff(&demoted, &promoted).unwrap().admin_role_changes;
        let (old_run, new_run) = (RunRef::new(4, &old.synced_at), RunRef::new(7, &new.synced_at));
        let events = events_of(&changes, &old_run, &new_run);
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "user_added",
                "user_removed",
                "user_status_changed",
                "user_enrollment_changed",
                "user_mfa_changed",
                "admin_added",
                "admin_removed",
                "admin_role_changed",
                "admin_status_changed",
                "group_added",
                "group_removed",
                "group_status_changed",
                "group_member_added",
                "group_member_removed",
            ]
        );
        assert_eq!(events.len(), changes.change_count());
        assert!(
            events
                .iter()
                .all(|e| e.old_run == old_run && e.new_run == new_run)
        );

        let line: Value = serde_json::from_str(&events[0].to_line()).unwrap();
        assert_eq!(
            line,
            json!({
                "kind": "user_added",
                "api_host": "api-test.duosecurity.com",
                "object": {"type": "user", "user_id": "DU3", "username": "carol"},
                "old": null,
                "new": {"status": "bypass", "is_enrolled": null, "mfa": "phishing_resistant"},
                "old_run": {"id": 4, "synced_at": "2026-01-01T00:00:00Z"},
                "new_run": {"id": 7, "synced_at": "2026-01-02T00:00:00Z"},
            })
        );
        let by_kind = |kind: &str| events.iter().find(|e| e.kind.as_str() == kind).unwrap();
        let mfa = by_kind("user_mfa_changed");
        assert_eq!((&mfa.old, &mfa.new), (&json!("strong"), &json!("none")));
        let role = by_kind("admin_role_changed");
        assert_eq!(
            (&role.old, &role.new),
            (&json!("Help Desk"), &json!("Administrator"))
        );
        let group_status = by_kind("group_status_changed");
        assert_eq!(
            (&group_status.old, &group_status.new),
            (&json!("active"), &json!("Bypass"))
        );
        let joined = serde_json::to_value(by_kind("group_member_added")).unwrap();
        assert_eq!(
            joined["object"],
            json!({"type": "group_membership", "group_id": "DG1", "group_name": "Eng",
                   "user_id": "DU3", "username": "carol"})
        );
        assert_eq!((&joined["old"], &joined["new"]), (&json!(false), &json!(true)));
        assert!(events[0].to_line().ends_with("}\n") && !events[0].to_line().trim_end().contains('\n'));
    }

    #[test]
    fn no_change_no_event() {
        let same = snapshot("t", r#"{"user_id":"DU1"}"#, "", "", "");
        let changes = diff(&same, &same).unwrap();
        assert!(events_of(&changes, &RunRef::new(1, "t"), &RunRef::new(2, "t")).is_empty());
    }
}
