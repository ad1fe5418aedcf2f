//! Continuous access monitoring: what changed in access between two snapshots of a tenant.
//!
//! Users, administrators and groups are matched by id, so a renamed user is one user whose status
//! may have changed, not one removed and one added. A user's MFA posture is compared too (see
//! [`crate::mfa`]), and a group's status without regard to case (`Bypass` is `bypass`). Group membership is the union of the
//! snapshot's `group_members` and each user's embedded `groups`, so a snapshot that carries only
//! one of the two still compares. Every list is sorted, so the same two snapshots always give the
//! same report, byte for byte.
//!
//! ```
//! use duo_connector::{Snapshot, diff::diff};
//! let old = Snapshot::parse(r#"{"schema_version":1,"api_host":"h","synced_at":"t0",
//!     "users":[],"admins":[],"groups":[],"group_members":{}}"#).unwrap();
//! let new = Snapshot::parse(r#"{"schema_version":1,"api_host":"h","synced_at":"t1",
//!     "users":[{"user_id":"DU1","username":"alice","status":"active"}],
//!     "admins":[],"groups":[],"group_members":{}}"#).unwrap();
//! let changes = diff(&old, &new)?;
//! assert!(changes.render_text().contains("+ user alice (DU1) added"));
//! # Ok::<(), duo_connector::Error>(())
//! ```
//!
//! This is the one place that decides what changed: `duo-connector diff` renders it, and
//! `duo-connector watch` and `evidence` turn it into events ([`crate::events`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::error::Error;
use crate::mfa::MfaPosture;
use crate::objects::{
    AdminView, GroupView, KnownGroup, UserView, known_groups, memberships, read_admins, read_groups,
    read_users, same_status,
};
use crate::snapshot::Snapshot;

/// Which snapshot one side of a diff is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotLabel {
    /// The snapshot's `api_host`.
    pub api_host: String,
    /// The snapshot's `synced_at`.
    pub synced_at: String,
}

/// A user as a change names it. Field order is sort order: by username, then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UserRef {
    /// `username`, when the object has one.
    pub username: Option<String>,
    /// `user_id`.
    pub user_id: String,
}

/// A user added or removed, with the access it had.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UserEntry {
    /// Who.
    #[serde(flatten)]
    pub user: UserRef,
    /// `status` (`active`, `bypass`, `disabled`, `locked out`, `pending deletion`).
    pub status: Option<String>,
    /// `is_enrolled`.
    pub is_enrolled: Option<bool>,
    /// The MFA posture.
    pub mfa: MfaPosture,
}

/// An administrator as a change names it. Field order is sort order: by name, then email, then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AdminRef {
    /// `name`.
    pub name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `admin_id`.
    pub admin_id: String,
}

/// An administrator added or removed, with the access it had.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AdminEntry {
    /// Who.
    #[serde(flatten)]
    pub admin: AdminRef,
    /// `role` (absent on editions without administrative roles).
    pub role: Option<String>,
    /// `status` (`Active`, `Disabled`, `Expired`, `Pending Activation`).
    pub status: Option<String>,
}

/// A group as a change names it. Field order is sort order: by name, then id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GroupRef {
    /// `name`, when the group is known by name in either snapshot.
    pub name: Option<String>,
    /// `group_id`.
    pub group_id: String,
}

/// A group added or removed, with its status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GroupEntry {
    /// Which.
    #[serde(flatten)]
    pub group: GroupRef,
    /// `status` (`active`, `bypass`, `disabled`; some tenants capitalise it).
    pub status: Option<String>,
}

/// A user's status changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StatusChange {
    /// Who (as named in the newer snapshot).
    pub user: UserRef,
    /// Status before (`None`: the object had none).
    pub old: Option<String>,
    /// Status after.
    pub new: Option<String>,
}

/// A user's `is_enrolled` changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EnrollmentChange {
    /// Who (as named in the newer snapshot).
    pub user: UserRef,
    /// Before (`None`: the object had no readable `is_enrolled`).
    pub old: Option<bool>,
    /// After.
    pub new: Option<bool>,
}

/// A user's MFA posture changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MfaChange {
    /// Who (as named in the newer snapshot).
    pub user: UserRef,
    /// Before.
    pub old: MfaPosture,
    /// After.
    pub new: MfaPosture,
}

/// A group's status changed (not merely its capitalisation).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GroupStatusChange {
    /// Which group (as named in the newer snapshot).
    pub group: GroupRef,
    /// Before.
    pub old: Option<String>,
    /// After.
    pub new: Option<String>,
}

/// An administrator's role or status changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct AdminChange {
    /// Who (as named in the newer snapshot).
    pub admin: AdminRef,
    /// Before.
    pub old: Option<String>,
    /// After.
    pub new: Option<String>,
}

/// A user joined or left a group. Field order is sort order: by group, then user.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MembershipChange {
    /// The group.
    pub group: GroupRef,
    /// The member.
    pub user: UserRef,
}

/// Every access change between two snapshots, each list sorted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessDiff {
    /// The older snapshot.
    pub old: SnapshotLabel,
    /// The newer snapshot.
    pub new: SnapshotLabel,
    /// Users only in the newer snapshot.
    pub users_added: Vec<UserEntry>,
    /// Users only in the older snapshot.
    pub users_removed: Vec<UserEntry>,
    /// Users in both whose `status` differs.
    pub user_status_changes: Vec<StatusChange>,
    /// Users in both whose `is_enrolled` differs.
    pub user_enrollment_changes: Vec<EnrollmentChange>,
    /// Users in both whose MFA posture differs.
    pub user_mfa_changes: Vec<MfaChange>,
    /// Administrators only in the newer snapshot.
    pub admins_added: Vec<AdminEntry>,
    /// Administrators only in the older snapshot.
    pub admins_removed: Vec<AdminEntry>,
    /// Administrators in both whose `role` differs.
    pub admin_role_changes: Vec<AdminChange>,
    /// Administrators in both whose `status` differs.
    pub admin_status_changes: Vec<AdminChange>,
    /// Groups only in the newer snapshot.
    pub groups_added: Vec<GroupEntry>,
    /// Groups only in the older snapshot.
    pub groups_removed: Vec<GroupEntry>,
    /// Groups in both whose `status` differs other than in case.
    pub group_status_changes: Vec<GroupStatusChange>,
    /// Memberships only in the newer snapshot.
    pub members_added: Vec<MembershipChange>,
    /// Memberships only in the older snapshot.
    pub members_removed: Vec<MembershipChange>,
}

/// Compares two snapshots. Fails only when an object has no id to match it by.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Result<AccessDiff, Error> {
    let before = Tenant::read(old)?;
    let after = Tenant::read(new)?;

    let mut changes = AccessDiff {
        old: SnapshotLabel {
            api_host: old.api_host.clone(),
            synced_at: old.synced_at.clone(),
        },
        new: SnapshotLabel {
            api_host: new.api_host.clone(),
            synced_at: new.synced_at.clone(),
        },
        users_added: only_in(&after.users, &before.users).map(user_entry).collect(),
        users_removed: only_in(&before.users, &after.users).map(user_entry).collect(),
        user_status_changes: Vec::new(),
        user_enrollment_changes: Vec::new(),
        user_mfa_changes: Vec::new(),
        admins_added: only_in(&after.admins, &before.admins).map(admin_entry).collect(),
        admins_removed: only_in(&before.admins, &after.admins).map(admin_entry).collect(),
        admin_role_changes: Vec::new(),
        admin_status_changes: Vec::new(),
        groups_added: Vec::new(),
        groups_removed: Vec::new(),
        group_status_changes: Vec::new(),
        members_added: Vec::new(),
        members_removed: Vec::new(),
    };

    for (id, was) in &before.users {
        let Some(is) = after.users.get(id) else { continue };
        if was.status != is.status {
            changes.user_status_changes.push(StatusChange {
                user: user_ref(is),
                old: was.status.clone(),
                new: is.status.clone(),
            });
        }
        if was.is_enrolled != is.is_enrolled {
            changes.user_enrollment_changes.push(EnrollmentChange {
                user: user_ref(is),
                old: was.is_enrolled,
                new: is.is_enrolled,
            });
        }
        let (old_mfa, new_mfa) = (MfaPosture::of(was), MfaPosture::of(is));
        if old_mfa != new_mfa {
            changes.user_mfa_changes.push(MfaChange {
                user: user_ref(is),
                old: old_mfa,
                new: new_mfa,
            });
        }
    }
    for (id, was) in &before.admins {
        let Some(is) = after.admins.get(id) else { continue };
        if was.role != is.role {
            changes.admin_role_changes.push(AdminChange {
                admin: admin_ref(is),
                old: was.role.clone(),
                new: is.role.clone(),
            });
        }
        if was.status != is.status {
            changes.admin_status_changes.push(AdminChange {
                admin: admin_ref(is),
                old: was.status.clone(),
                new: is.status.clone(),
            });
        }
    }

    // Names come from the side where the thing exists, and from the other side when that side
    // does not know it (a member id missing from the users list, say).
    let group_ref = |id: &str, primary: &Tenant, fallback: &Tenant| GroupRef {
        name: [primary, fallback]
            .iter()
            .find_map(|side| side.known_groups.get(id).and_then(|g| g.name.clone())),
        group_id: id.to_owned(),
    };
    let member_ref = |id: &str, primary: &Tenant, fallback: &Tenant| UserRef {
        username: primary
            .users
            .get(id)
            .or_else(|| fallback.users.get(id))
            .and_then(|u| u.username.clone()),
        user_id: id.to_owned(),
    };
    changes.groups_added = only_in(&after.groups, &before.groups)
        .map(|g| GroupEntry {
            group: group_ref(&g.group_id, &after, &before),
            status: g.status.clone(),
        })
        .collect();
    changes.groups_removed = only_in(&before.groups, &after.groups)
        .map(|g| GroupEntry {
            group: group_ref(&g.group_id, &before, &after),
            status: g.status.clone(),
        })
        .collect();
    for (id, was) in &before.groups {
        let Some(is) = after.groups.get(id) else { continue };
        if !same_status(was.status.as_deref(), is.status.as_deref()) {
            changes.group_status_changes.push(GroupStatusChange {
                group: group_ref(id, &after, &before),
                old: was.status.clone(),
                new: is.status.clone(),
            });
        }
    }
    changes.members_added = after
        .memberships
        .difference(&before.memberships)
        .map(|(group, user)| MembershipChange {
            group: group_ref(group, &after, &before),
            user: member_ref(user, &after, &before),
        })
        .collect();
    changes.members_removed = before
        .memberships
        .difference(&after.memberships)
        .map(|(group, user)| MembershipChange {
            group: group_ref(group, &before, &after),
            user: member_ref(user, &before, &after),
        })
        .collect();

    changes.sort();
    Ok(changes)
}

/// Objects of `here` whose id `there` lacks, in id order.
fn only_in<'a, T>(
    here: &'a BTreeMap<String, T>,
    there: &'a BTreeMap<String, T>,
) -> impl Iterator<Item = &'a T> {
    here.iter()
        .filter(|(id, _)| !there.contains_key(*id))
        .map(|(_, object)| object)
}

fn user_ref(user: &UserView) -> UserRef {
    UserRef {
        username: user.username.clone(),
        user_id: user.user_id.clone(),
    }
}

fn user_entry(user: &UserView) -> UserEntry {
    UserEntry {
        user: user_ref(user),
        status: user.status.clone(),
        is_enrolled: user.is_enrolled,
        mfa: MfaPosture::of(user),
    }
}

fn admin_ref(admin: &AdminView) -> AdminRef {
    AdminRef {
        name: admin.name.clone(),
        email: admin.email.clone(),
        admin_id: admin.admin_id.clone(),
    }
}

fn admin_entry(admin: &AdminView) -> AdminEntry {
    AdminEntry {
        admin: admin_ref(admin),
        role: admin.role.clone(),
        status: admin.status.clone(),
    }
}

/// One snapshot, indexed by id for comparing.
struct Tenant {
    users: BTreeMap<String, UserView>,
    admins: BTreeMap<String, AdminView>,
    groups: BTreeMap<String, GroupView>,
    /// See [`known_groups`].
    known_groups: BTreeMap<String, KnownGroup>,
    /// `(group_id, user_id)` pairs.
    memberships: BTreeSet<(String, String)>,
}

impl Tenant {
    fn read(snapshot: &Snapshot) -> Result<Self, Error> {
        let users = read_users(snapshot)?;
        let admins = read_admins(snapshot)?;
        let groups = read_groups(snapshot)?;
        let memberships = memberships(snapshot, &users);
        let known_groups = known_groups(&groups, &users);
        Ok(Self {
            users: users.into_iter().map(|u| (u.user_id.clone(), u)).collect(),
            admins: admins.into_iter().map(|a| (a.admin_id.clone(), a)).collect(),
            groups: groups.into_iter().map(|g| (g.group_id.clone(), g)).collect(),
            known_groups,
            memberships,
        })
    }
}

impl AccessDiff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.change_count() == 0
    }

    /// How many changes there are, all sections together.
    pub fn change_count(&self) -> usize {
        self.users_added.len()
            + self.users_removed.len()
            + self.user_status_changes.len()
            + self.user_enrollment_changes.len()
            + self.user_mfa_changes.len()
            + self.admins_added.len()
            + self.admins_removed.len()
            + self.admin_role_changes.len()
            + self.admin_status_changes.len()
            + self.groups_added.len()
            + self.groups_removed.len()
            + self.group_status_changes.len()
            + self.members_added.len()
            + self.members_removed.len()
    }

    /// One line with every section's counts.
    pub fn summary(&self) -> String {
        let total = self.change_count();
        let plural = if total == 1 { "" } else { "s" };
        format!(
            "{total} change{plural} — users {} added, {} removed, {} status, {} enrollment, {} MFA; \
             admins {} added, {} removed, {} role, {} status; groups {} added, {} removed, {} status; \
             memberships {} added, {} removed",
            self.users_added.len(),
            self.users_removed.len(),
            self.user_status_changes.len(),
            self.user_enrollment_changes.len(),
            self.user_mfa_changes.len(),
            self.admins_added.len(),
            self.admins_removed.len(),
            self.admin_role_changes.len(),
            self.admin_status_changes.len(),
            self.groups_added.len(),
            self.groups_removed.len(),
            self.group_status_changes.len(),
            self.members_added.len(),
            self.members_removed.len(),
        )
    }

    /// For a terminal: a header, one line per change grouped by section, and the summary.
    ///
    /// `+` is access granted, `-` access taken away, `~` access changed.
    pub fn render_text(&self) -> String {
        let mut out = self.header_lines().join("\n");
        out.push('\n');
        for (title, lines) in self.sections() {
            if lines.is_empty() {
                continue;
            }
            let _ = write!(out, "\n{title}\n");
            for line in lines {
                let _ = writeln!(out, "{} {}", line.mark, line.text());
            }
        }
        if self.is_empty() {
            out.push_str("\nNo access changes.\n");
        }
        let _ = write!(out, "\nSummary: {}\n", self.summary());
        out
    }

    /// For a ticket or a wiki: a heading, then every section (saying "No changes." when empty, so
    /// a reader sees each was compared), each change a table row.
    pub fn render_markdown(&self) -> String {
        let mut out = String::from("# Access changes\n\n");
        for line in self.header_lines() {
            let _ = writeln!(out, "- {}", markdown_cell(&line));
        }
        let _ = write!(out, "\n**Summary:** {}\n", self.summary());
        for (title, lines) in self.sections() {
            let _ = write!(out, "\n## {title} ({})\n\n", lines.len());
            if lines.is_empty() {
                out.push_str("No changes.\n");
                continue;
            }
            write_markdown_table(&mut out, &lines);
        }
        out
    }

    /// Every change as one Markdown table (for a report that lists many diffs), or `No changes.`
    pub fn render_markdown_table(&self) -> String {
        let lines: Vec<ChangeLine> = self.sections().into_iter().flat_map(|(_, lines)| lines).collect();
        let mut out = String::new();
        if lines.is_empty() {
            out.push_str("No changes.\n");
        } else {
            write_markdown_table(&mut out, &lines);
        }
        out
    }

    fn header_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if self.old.api_host == self.new.api_host {
            lines.push(format!(
                "Access changes on {}: {} → {}",
                self.old.api_host, self.old.synced_at, self.new.synced_at
            ));
        } else {
            lines.push(format!(
                "Access changes from {} ({}) to {} ({})",
                self.old.api_host, self.old.synced_at, self.new.api_host, self.new.synced_at
            ));
            // Comparing two tenants reports every object as added and removed; say why.
            lines.push("Warning: the snapshots are of different API hosts.".to_owned());
        }
        lines
    }

    fn sections(&self) -> [(&'static str, Vec<ChangeLine>); 4] {
        let users = self
            .users_added
            .iter()
            .map(|u| ChangeLine::new('+', "user", user_label(&u.user), added_user_detail(u)))
            .chain(
                self.users_removed
                    .iter()
                    .map(|u| ChangeLine::new('-', "user", user_label(&u.user), "removed".into())),
            )
            .chain(self.user_status_changes.iter().map(|c| {
                let change = from_to("status", c.old.as_deref(), c.new.as_deref());
                ChangeLine::new('~', "user", user_label(&c.user), change)
            }))
            .chain(self.user_enrollment_changes.iter().map(|c| {
                let change = format!("enrolled {} → {}", yes_no(c.old), yes_no(c.new));
                ChangeLine::new('~', "user", user_label(&c.user), change)
            }))
            .chain(self.user_mfa_changes.iter().map(|c| {
                let change = format!("MFA {} → {}", c.old, c.new);
                ChangeLine::new('~', "user", user_label(&c.user), change)
            }))
            .collect();
        let admins = self
            .admins_added
            .iter()
            .map(|a| ChangeLine::new('+', "admin", admin_label(&a.admin), added_admin_detail(a)))
            .chain(
                self.admins_removed
                    .iter()
                    .map(|a| ChangeLine::new('-', "admin", admin_label(&a.admin), "removed".into())),
            )
            .chain(self.admin_role_changes.iter().map(|c| {
                let change = from_to("role", c.old.as_deref(), c.new.as_deref());
                ChangeLine::new('~', "admin", admin_label(&c.admin), change)
            }))
            .chain(self.admin_status_changes.iter().map(|c| {
                let change = from_to("status", c.old.as_deref(), c.new.as_deref());
                ChangeLine::new('~', "admin", admin_label(&c.admin), change)
            }))
            .collect();
        let groups = self
            .groups_added
            .iter()
            .map(|g| {
                let change = added_with(&[g.status.as_deref()]);
                ChangeLine::new('+', "group", group_label(&g.group), change)
            })
            .chain(
                self.groups_removed
                    .iter()
                    .map(|g| ChangeLine::new('-', "group", group_label(&g.group), "removed".into())),
            )
            .chain(self.group_status_changes.iter().map(|c| {
                let change = from_to("status", c.old.as_deref(), c.new.as_deref());
                ChangeLine::new('~', "group", group_label(&c.group), change)
            }))
            .collect();
        let members = self
            .members_added
            .iter()
            .map(|m| {
                let change = format!("added to {}", group_label(&m.group));
                ChangeLine::new('+', "member", user_label(&m.user), change)
            })
            .chain(self.members_removed.iter().map(|m| {
                let change = format!("removed from {}", group_label(&m.group));
                ChangeLine::new('-', "member", user_label(&m.user), change)
            }))
            .collect();
        [
            ("Users", users),
            ("Administrators", admins),
            ("Groups", groups),
            ("Group membership", members),
        ]
    }

    fn sort(&mut self) {
        self.users_added.sort();
        self.users_removed.sort();
        self.user_status_changes.sort();
        self.user_enrollment_changes.sort();
        self.user_mfa_changes.sort();
        self.admins_added.sort();
        self.admins_removed.sort();
        self.admin_role_changes.sort();
        self.admin_status_changes.sort();
        self.groups_added.sort();
        self.groups_removed.sort();
        self.group_status_changes.sort();
        self.members_added.sort();
        self.members_removed.sort();
    }
}

/// `lines` as a Markdown table: mark, subject, change.
fn write_markdown_table(out: &mut String, lines: &[ChangeLine]) {
    out.push_str("| | Subject | Change |\n|---|---|---|\n");
    for line in lines {
        let _ = writeln!(
            out,
            "| {} | {} {} | {} |",
            line.mark,
            line.kind,
            markdown_cell(&line.subject),
            markdown_cell(&line.change)
        );
    }
}

/// One rendered change: `+ user alice (DU1) added`.
struct ChangeLine {
    mark: char,
    kind: &'static str,
    subject: String,
    change: String,
}

impl ChangeLine {
    fn new(mark: char, kind: &'static str, subject: String, change: String) -> Self {
        Self {
            mark,
            kind,
            subject,
            change,
        }
    }

    /// The text after the mark. A changed field reads `subject: what`; an added or removed thing
    /// reads as a sentence.
    fn text(&self) -> String {
        let separator = if self.mark == '~' { ": " } else { " " };
        format!("{} {}{separator}{}", self.kind, self.subject, self.change)
    }
}

fn added_user_detail(user: &UserEntry) -> String {
    let enrolled = user
        .is_enrolled
        .map(|e| if e { "enrolled" } else { "not enrolled" });
    let mfa = format!("MFA {}", user.mfa);
    added_with(&[user.status.as_deref(), enrolled, Some(&mfa)])
}

fn added_admin_detail(admin: &AdminEntry) -> String {
    added_with(&[admin.role.as_deref(), admin.status.as_deref()])
}

/// `added`, followed by whichever of `facts` are known: `added (Owner, Active)`.
fn added_with(facts: &[Option<&str>]) -> String {
    let known: Vec<&str> = facts.iter().copied().flatten().collect();
    if known.is_empty() {
        "added".to_owned()
    } else {
        format!("added ({})", known.join(", "))
    }
}

fn user_label(user: &UserRef) -> String {
    match &user.username {
        Some(name) => format!("{name} ({})", user.user_id),
        None => user.user_id.clone(),
    }
}

fn admin_label(admin: &AdminRef) -> String {
    match (&admin.name, &admin.email) {
        (Some(name), Some(email)) if !email.is_empty() => format!("{name} <{email}> ({})", admin.admin_id),
        (Some(name), _) => format!("{name} ({})", admin.admin_id),
        (None, Some(email)) if !email.is_empty() => format!("<{email}> ({})", admin.admin_id),
        (None, _) => admin.admin_id.clone(),
    }
}

fn group_label(group: &GroupRef) -> String {
    match &group.name {
        Some(name) => format!("{name} ({})", group.group_id),
        None => group.group_id.clone(),
    }
}

/// `status active → disabled`; an absent value reads `(none)`.
fn from_to(field: &str, old: Option<&str>, new: Option<&str>) -> String {
    format!("{field} {} → {}", or_none(old), or_none(new))
}

fn or_none(value: Option<&str>) -> &str {
    value.unwrap_or("(none)")
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// Text made safe for one Markdown table cell: a `|` would end the cell and a newline the row.
pub(crate) fn markdown_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::snapshot::test_snapshot as snapshot;

    const USERS: &str = r#"
        {"user_id":"DU1","username":"alice","status":"active","is_enrolled":true,"last_login":1700000000,"groups":[]},
        {"user_id":"DU2","username":"bob","status":"active","is_enrolled":true,"last_login":null,"groups":[]},
        {"user_id":"DU3","username":"carol","status":"bypass","is_enrolled":false,"groups":[]}"#;
    const ADMINS: &str = r#"
        {"admin_id":"DE1","name":"Olivia Owner","email":"olivia@example.com","role":"Owner","status":"Active"},
        {"admin_id":"DE2","name":"Hank Help","email":"hank@example.com","role":"Help Desk","status":"Active"}"#;
    const GROUPS: &str = r#"
        {"group_id":"DG1","name":"Engineering","desc":"","status":"active"},
        {"group_id":"DG2","name":"Sales","desc":"","status":"active"}"#;
    const MEMBERS: &str = r#""DG1":["DU1","DU2"],"DG2":["DU3"]"#;

    fn base() -> Snapshot {
        snapshot("2026-01-01T00:00:00Z", USERS, ADMINS, GROUPS, MEMBERS)
    }

    fn user(id: &str, name: &str) -> UserRef {
        UserRef {
            username: Some(name.to_owned()),
            user_id: id.to_owned(),
        }
    }

    fn group(id: &str, name: &str) -> GroupRef {
        GroupRef {
            name: Some(name.to_owned()),
            group_id: id.to_owned(),
        }
    }

    #[test]
    fn an_unchanged_tenant_gives_an_empty_diff() {
        let changes = diff(&base(), &base()).unwrap();
        assert!(changes.is_empty(), "{changes:?}");
        assert_eq!(changes.change_count(), 0);
        let text = changes.render_text();
        assert!(text.contains("No access changes."), "{text}");
        assert!(text.contains("Summary: 0 changes — users 0 added"), "{text}");
    }

    #[test]
    fn users_added_and_removed_are_found_by_id_with_their_access() {
        let new_users = r#"
            {"user_id":"DU1","username":"alice","status":"active","is_enrolled":true},
            {"user_id":"DU2","username":"bob","status":"active","is_enrolled":true},
            {"user_id":"DU4","username":"dave","status":"bypass","is_enrolled":false}"#;
        let new = snapshot("t1", new_users, ADMINS, GROUPS, r#""DG1":["DU1","DU2"]"#);
        let changes = diff(&base(), &new).unwrap();
        assert_eq!(
            changes.users_added,
            [UserEntry {
                user: user("DU4", "dave"),
                status: Some("bypass".into()),
                is_enrolled: Some(false),
                mfa: MfaPosture::None,
            }]
        );
        assert_eq!(changes.users_removed.len(), 1);
        assert_eq!(changes.users_removed[0].user, user("DU3", "carol"));
        assert!(changes.user_status_changes.is_empty());
        let text = changes.render_text();
        assert!(
            text.contains("+ user dave (DU4) added (bypass, not enrolled, MFA none)"),
            "{text}"
        );
        assert!(text.contains("- user carol (DU3) removed"), "{text}");
    }

    #[test]
    fn status_and_enrollment_changes_show_old_and_new() {
        let new_users = r#"
            {"user_id":"DU1","username":"alice","status":"active","is_enrolled":false},
            {"user_id":"DU2","username":"bob","status":"disabled","is_enrolled":true},
            {"user_id":"DU3","username":"carol","status":"bypass","is_enrolled":false}"#;
        let new = snapshot("t1", new_users, ADMINS, GROUPS, MEMBERS);
        let changes = diff(&base(), &new).unwrap();
        assert_eq!(
            changes.user_status_changes,
            [StatusChange {
                user: user("DU2", "bob"),
                old: Some("active".into()),
                new: Some("disabled".into()),
            }]
        );
        assert_eq!(
            changes.user_enrollment_changes,
            [EnrollmentChange {
                user: user("DU1", "alice"),
                old: Some(true),
                new: Some(false),
            }]
        );
        assert_eq!(changes.change_count(), 2);
        let text = changes.render_text();
        assert!(
            text.contains("~ user bob (DU2): status active → disabled"),
            "{text}"
        );
        assert!(text.contains("~ user alice (DU1): enrolled yes → no"), "{text}");
    }

    #[test]
    fn a_renamed_user_is_one_user_named_as_now() {
        let new_users = USERS.replace(
            r#""username":"bob","status":"active""#,
            r#""username":"robert","status":"locked out""#,
        );
        let new = snapshot("t1", &new_users, ADMINS, GROUPS, MEMBERS);
        let changes = diff(&base(), &new).unwrap();
        assert!(changes.users_added.is_empty() && changes.users_removed.is_empty());
        assert_eq!(changes.user_status_changes[0].user, user("DU2", "robert"));
        assert_eq!(changes.user_status_changes[0].new.as_deref(), Some("locked out"));
    }

    #[test]
    fn admin_additions_removals_role_and_status_changes() {
        let new_admins = r#"
            {"admin_id":"DE1","name":"Olivia Owner","email":"olivia@example.com","role":"Owner","status":"Disabled"},
            {"admin_id":"DE2","name":"Hank Help","email":"hank@example.com","role":"Administrator","status":"Active"},
            {"admin_id":"DE3","name":"Ann Analyst","email":"ann@example.com","role":"Security Analyst","status":"Pending Activation"}"#;
        let new = snapshot("t1", USERS, new_admins, GROUPS, MEMBERS);
        let changes = diff(&base(), &new).unwrap();
        assert_eq!(changes.admins_added.len(), 1);
        assert_eq!(changes.admins_added[0].admin.admin_id, "DE3");
        assert_eq!(changes.admins_added[0].role.as_deref(), Some("Security Analyst"));
        assert!(changes.admins_removed.is_empty());
        assert_eq!(changes.admin_role_changes.len(), 1);
        assert_eq!(changes.admin_role_changes[0].admin.admin_id, "DE2");
        assert_eq!(
            (
                changes.admin_role_changes[0].old.as_deref(),
                changes.admin_role_changes[0].new.as_deref()
            ),
            (Some("Help Desk"), Some("Administrator"))
        );
        assert_eq!(changes.admin_status_changes.len(), 1);
        assert_eq!(changes.admin_status_changes[0].new.as_deref(), Some("Disabled"));
        let text = changes.render_text();
        assert!(
            text.contains(
                "+ admin Ann Analyst <ann@example.com> (DE3) added (Security Analyst, Pending Activation)"
            ),
            "{text}"
        );
        assert!(
            text.contains("~ admin Hank Help <hank@example.com> (DE2): role Help Desk → Administrator"),
            "{text}"
        );
        assert!(text.contains("~ admin Olivia Owner <olivia@example.com> (DE1): status Active → Disabled"));

        let removed = diff(&new, &base()).unwrap();
        assert_eq!(removed.admins_removed.len(), 1);
        assert!(
            removed
                .render_text()
                .contains("- admin Ann Analyst <ann@example.com> (DE3) removed")
        );
    }

    #[test]
    fn mfa_posture_changes_show_old_and_new() {
        let with_methods = |alice: &str, bob: &str| {
            let users = format!(
                r#"{{"user_id":"DU1","username":"alice","status":"active",{alice}}},
                   {{"user_id":"DU2","username":"bob","status":"active",{bob}}}"#
            );
            snapshot("t", &users, "", "", "")
        };
        let push = r#""phones":[{"capabilities":["push"]}]"#;
        let old = with_methods(push, r#""phones":[{"capabilities":["sms"]}]"#);
        // Alice loses her phone; Bob adds a U2F token, and the fake's empty list becomes a real one.
        let new = with_methods(
            r#""phones":[]"#,
            r#""phones":[{"capabilities":["sms"]}],"u2ftokens":[{"registration_id":"R1"}]"#,
        );
        let changes = diff(&old, &new).unwrap();
        assert_eq!(
            changes.user_mfa_changes,
            [
                MfaChange {
                    user: user("DU1", "alice"),
                    old: MfaPosture::Strong,
                    new: MfaPosture::None,
                },
                MfaChange {
                    user: user("DU2", "bob"),
                    old: MfaPosture::SmsOrVoiceOnly,
                    new: MfaPosture::PhishingResistant,
                },
            ]
        );
        assert!(changes.user_status_changes.is_empty());
        let text = changes.render_text();
        assert!(text.contains("~ user alice (DU1): MFA strong → none"), "{text}");
        // A second phone with push changes nothing: the posture is the same.
        let two_phones = with_methods(
            &push.replace(']', r#",{"capabilities":["push","sms"]}]"#),
            r#""phones":[{"capabilities":["sms"]}]"#,
        );
        assert!(diff(&old, &two_phones).unwrap().is_empty());
    }

    #[test]
    fn group_status_changes_ignore_case_only_changes() {
        let groups = |eng: &str, sales: &str| {
            format!(
                r#"{{"group_id":"DG1","name":"Engineering","status":"{eng}"}},
                   {{"group_id":"DG2","name":"Sales","status":"{sales}"}}"#
            )
        };
        let old = snapshot("t0", USERS, ADMINS, &groups("active", "active"), MEMBERS);
        let new = snapshot("t1", USERS, ADMINS, &groups("Active", "Bypass"), MEMBERS);
        let changes = diff(&old, &new).unwrap();
        assert_eq!(
            changes.group_status_changes,
            [GroupStatusChange {
                group: group("DG2", "Sales"),
                old: Some("active".into()),
                new: Some("Bypass".into()),
            }]
        );
        assert_eq!(changes.change_count(), 1);
        let text = changes.render_text();
        assert!(
            text.contains("~ group Sales (DG2): status active → Bypass"),
            "{text}"
        );
        assert!(text.contains("groups 0 added, 0 removed, 1 status"), "{text}");
    }

    #[test]
    fn groups_added_and_removed() {
        let new_groups = r#"
            {"group_id":"DG1","name":"Engineering"},
            {"group_id":"DG3","name":"Contractors"}"#;
        let new = snapshot("t1", USERS, ADMINS, new_groups, r#""DG1":["DU1","DU2"],"DG3":[]"#);
        let changes = diff(&base(), &new).unwrap();
        let entry = |id: &str, name: &str, status: Option<&str>| GroupEntry {
            group: group(id, name),
            status: status.map(str::to_owned),
        };
        assert_eq!(changes.groups_added, [entry("DG3", "Contractors", None)]);
        assert_eq!(changes.groups_removed, [entry("DG2", "Sales", Some("active"))]);
        // Carol lost Sales with the group: that is a membership change too, named by the old side.
        assert_eq!(
            changes.members_removed,
            [MembershipChange {
                group: group("DG2", "Sales"),
                user: user("DU3", "carol"),
            }]
        );
        let text = changes.render_text();
        assert!(text.contains("+ group Contractors (DG3) added"), "{text}");
        assert!(text.contains("- group Sales (DG2) removed"), "{text}");
    }

    #[test]
    fn membership_changes_are_named_by_username_and_group_name_and_sorted() {
        let new = snapshot(
            "t1",
            USERS,
            ADMINS,
            GROUPS,
            r#""DG1":["DU1"],"DG2":["DU3","DU2","DU1"]"#,
        );
        let changes = diff(&base(), &new).unwrap();
        assert_eq!(
            changes.members_added,
            [
                MembershipChange {
                    group: group("DG2", "Sales"),
                    user: user("DU1", "alice"),
                },
                MembershipChange {
                    group: group("DG2", "Sales"),
                    user: user("DU2", "bob"),
                },
            ]
        );
        assert_eq!(
            changes.members_removed,
            [MembershipChange {
                group: group("DG1", "Engineering"),
                user: user("DU2", "bob"),
            }]
        );
        let text = changes.render_text();
        assert!(
            text.contains("+ member alice (DU1) added to Sales (DG2)"),
            "{text}"
        );
        assert!(
            text.contains("- member bob (DU2) removed from Engineering (DG1)"),
            "{text}"
        );
        assert!(
            text.find("alice (DU1) added to Sales").unwrap() < text.find("bob (DU2) added to Sales").unwrap()
        );
    }

    #[test]
    fn membership_from_embedded_groups_counts_when_group_members_is_empty() {
        let old = snapshot(
            "t0",
            r#"{"user_id":"DU1","username":"alice","groups":[{"group_id":"DG9","name":"Admins"}]}"#,
            "",
            "",
            "",
        );
        let new = snapshot(
            "t1",
            r#"{"user_id":"DU1","username":"alice","groups":[]}"#,
            "",
            "",
            "",
        );
        let changes = diff(&old, &new).unwrap();
        assert_eq!(
            changes.members_removed,
            [MembershipChange {
                group: group("DG9", "Admins"),
                user: user("DU1", "alice"),
            }]
        );
    }

    #[test]
    fn drifted_objects_compare_and_only_a_missing_id_fails() {
        let drifted = r#"
            {"user_id":"DU1","username":null,"status":7,"is_enrolled":"yes","groups":"none","new_field":{"a":1}},
            {"user_id":"DU2","username":"bob"},
            {"user_id":"DU3","username":"carol","status":"bypass","is_enrolled":false,"groups":[1,{"group_id":"DG2"}]}"#;
        let new = snapshot("t1", drifted, ADMINS, GROUPS, MEMBERS);
        let changes = diff(&base(), &new).unwrap();
        // Unreadable values read as absent: alice's status and enrollment are now unknown.
        let alice = changes
            .user_status_changes
            .iter()
            .find(|c| c.user.user_id == "DU1")
            .unwrap();
        assert_eq!(alice.user.username, None);
        assert_eq!(
            (alice.old.as_deref(), alice.new.as_deref()),
            (Some("active"), None)
        );
        assert!(
            changes
                .render_text()
                .contains("~ user DU1: status active → (none)")
        );

        let missing_id = snapshot("t1", r#"{"username":"ghost"}"#, "", "", "");
        let error = diff(&base(), &missing_id).unwrap_err().to_string();
        assert!(error.contains("users[0] has no \"user_id\""), "{error}");
        let not_an_object = snapshot("t1", "", r#""DE1""#, "", "");
        let error = diff(&base(), &not_an_object).unwrap_err().to_string();
        assert!(error.contains("admins[0] is not a JSON object"), "{error}");
    }

    #[test]
    fn markdown_has_every_section_and_escapes_cells() {
        let new_users = USERS.replace("\"alice\"", "\"al|ice\"").replace(
            r#""username":"bob","status":"active""#,
            r#""username":"bob","status":"disabled""#,
        );
        let new = snapshot("t1", &new_users, ADMINS, GROUPS, MEMBERS);
        let markdown = diff(&base(), &new).unwrap().render_markdown();
        for heading in [
            "# Access changes",
            "## Users (1)",
            "## Administrators (0)",
            "## Groups (0)",
            "## Group membership (0)",
        ] {
            assert!(markdown.contains(heading), "{heading}: {markdown}");
        }
        assert!(
            markdown.contains("| ~ | user bob (DU2) | status active → disabled |"),
            "{markdown}"
        );
        assert!(
            markdown.contains("**Summary:** 1 change — users 0 added"),
            "{markdown}"
        );
        assert_eq!(markdown_cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn json_output_names_every_section() {
        let new = snapshot("t1", USERS, "", GROUPS, MEMBERS);
        let json = serde_json::to_value(diff(&base(), &new).unwrap()).unwrap();
        // Sorted by name: Hank Help before Olivia Owner; the admin's fields are flat.
        assert_eq!(json["admins_removed"][0]["admin_id"], "DE2");
        assert_eq!(json["admins_removed"][1]["name"], "Olivia Owner");
        assert_eq!(json["admins_removed"][1]["role"], "Owner");
        assert_eq!(json["old"]["synced_at"], "2026-01-01T00:00:00Z");
        assert_eq!(json["users_added"], serde_json::json!([]));
    }

    #[test]
    fn snapshots_of_different_hosts_are_flagged() {
        let mut other = base();
        other.api_host = "api-other.duosecurity.com".into();
        let text = diff(&base(), &other).unwrap().render_text();
        assert!(text.contains("different API hosts"), "{text}");
    }
}
