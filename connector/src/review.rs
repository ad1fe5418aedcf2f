//! The access review: what a reviewer signs off on, read from one snapshot.
//!
//! Sections, each sorted: administrators and their roles; users not enrolled; users in bypass;
//! locked-out or disabled users still in groups (with the groups named); users with no login in
//! the last N days; users who never logged in. Statuses are compared without regard to case,
//! because Duo's capitalisation drifts (groups show both `active` and `Active`).
//!
//! ```
//! use duo_connector::{Snapshot, review::{ReviewOptions, review}};
//! let snapshot = Snapshot::parse(r#"{"schema_version":1,"api_host":"h","synced_at":"t",
//!     "users":[{"user_id":"DU1","username":"alice","status":"bypass"}],
//!     "admins":[],"groups":[],"group_members":{}}"#).unwrap();
//! let options = ReviewOptions { inactive_days: 90, now_unix: 1_800_000_000 };
//! let summary = review(&snapshot, &options)?;
//! assert_eq!(summary.bypass[0].username.as_deref(), Some("alice"));
//! # Ok::<(), duo_connector::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use crate::diff::{GroupRef, markdown_cell};
use crate::error::Error;
use crate::objects::{AdminView, UserView, group_names, memberships, read_admins, read_groups, read_users};
use crate::snapshot::Snapshot;

/// The inactivity threshold when none is given, in days.
pub const DEFAULT_INACTIVE_DAYS: u32 = 90;

const SECONDS_PER_DAY: i64 = 86_400;

/// How the review judges inactivity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewOptions {
    /// A user whose last login is more than this many days before `now_unix` is inactive.
    pub inactive_days: u32,
    /// The review's "now", unix seconds; given rather than read so that a review can be re-run
    /// and tested with the same result.
    pub now_unix: i64,
}

impl Default for ReviewOptions {
    /// [`DEFAULT_INACTIVE_DAYS`], judged from this machine's clock now.
    fn default() -> Self {
        Self {
            inactive_days: DEFAULT_INACTIVE_DAYS,
            now_unix: crate::time::now_unix(),
        }
    }
}

/// An administrator as the review lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewedAdmin {
    /// `admin_id`.
    pub admin_id: String,
    /// `name`.
    pub name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `role` (absent on editions without administrative roles).
    pub role: Option<String>,
    /// `status` (`Active`, `Disabled`, `Expired`, `Pending Activation`).
    pub status: Option<String>,
    /// `last_login`, unix seconds; `None` when never (or unreadable).
    pub last_login: Option<i64>,
}

/// A user as the review lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewedUser {
    /// `user_id`.
    pub user_id: String,
    /// `username`.
    pub username: Option<String>,
    /// `realname`.
    pub realname: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `is_enrolled`.
    pub is_enrolled: Option<bool>,
    /// `last_login`, unix seconds; `None` when never.
    pub last_login: Option<i64>,
    /// `created`, unix seconds: tells a new account that has not logged in yet from a forgotten one.
    pub created: Option<i64>,
}

/// A locked-out or disabled user who is still a member of groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockedMember {
    /// Who.
    #[serde(flatten)]
    pub user: ReviewedUser,
    /// The groups, sorted by name.
    pub groups: Vec<GroupRef>,
}

/// One snapshot's access review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessReview {
    /// The snapshot's `api_host`.
    pub api_host: String,
    /// The snapshot's `synced_at`.
    pub synced_at: String,
    /// The review's "now", unix seconds.
    pub reviewed_at: i64,
    /// The inactivity threshold, in days.
    pub inactive_days: u32,
    /// How many users the snapshot has.
    pub user_count: usize,
    /// How many administrators.
    pub admin_count: usize,
    /// How many groups.
    pub group_count: usize,
    /// Every administrator, by role (Owner first) then name.
    pub administrators: Vec<ReviewedAdmin>,
    /// Users whose `is_enrolled` is false.
    pub not_enrolled: Vec<ReviewedUser>,
    /// Users whose status is `bypass`: they log in without a second factor.
    pub bypass: Vec<ReviewedUser>,
    /// Users `locked out` or `disabled` who are still in groups.
    pub blocked_in_groups: Vec<BlockedMember>,
    /// Users whose last login is older than the threshold, oldest first.
    pub inactive: Vec<ReviewedUser>,
    /// Users with no `last_login` at all.
    pub never_logged_in: Vec<ReviewedUser>,
}

/// Reviews `snapshot`. Fails only when an object has no id.
pub fn review(snapshot: &Snapshot, options: &ReviewOptions) -> Result<AccessReview, Error> {
    let users = read_users(snapshot)?;
    let admins = read_admins(snapshot)?;
    let groups = read_groups(snapshot)?;

    let group_names = group_names(&groups, &users);
    let mut groups_of_user: BTreeMap<String, Vec<GroupRef>> = BTreeMap::new();
    for (group_id, user_id) in memberships(snapshot, &users) {
        let name = group_names.get(&group_id).cloned();
        groups_of_user
            .entry(user_id)
            .or_default()
            .push(GroupRef { name, group_id });
    }

    let status_is = |user: &UserView, wanted: &str| {
        user.status
            .as_deref()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case(wanted))
    };
    let cutoff = inactive_cutoff(options.now_unix, options.inactive_days);

    let mut summary = AccessReview {
        api_host: snapshot.api_host.clone(),
        synced_at: snapshot.synced_at.clone(),
        reviewed_at: options.now_unix,
        inactive_days: options.inactive_days,
        user_count: users.len(),
        admin_count: admins.len(),
        group_count: groups.len(),
        administrators: admins.iter().map(reviewed_admin).collect(),
        not_enrolled: Vec::new(),
        bypass: Vec::new(),
        blocked_in_groups: Vec::new(),
        inactive: Vec::new(),
        never_logged_in: Vec::new(),
    };
    for user in &users {
        if user.is_enrolled == Some(false) {
            summary.not_enrolled.push(reviewed_user(user));
        }
        if status_is(user, "bypass") {
            summary.bypass.push(reviewed_user(user));
        }
        if (status_is(user, "locked out") || status_is(user, "disabled"))
            && let Some(mut groups) = groups_of_user.remove(&user.user_id)
        {
            groups.sort();
            summary.blocked_in_groups.push(BlockedMember {
                user: reviewed_user(user),
                groups,
            });
        }
        match user.last_login {
            None => summary.never_logged_in.push(reviewed_user(user)),
            // A login exactly `inactive_days` ago is still inside the window.
            Some(at) if at < cutoff => summary.inactive.push(reviewed_user(user)),
            Some(_) => {}
        }
    }

    summary
        .administrators
        .sort_by(|a, b| admin_order(a).cmp(&admin_order(b)));
    for list in [
        &mut summary.not_enrolled,
        &mut summary.bypass,
        &mut summary.never_logged_in,
    ] {
        list.sort_by(|a, b| user_order(a).cmp(&user_order(b)));
    }
    summary
        .blocked_in_groups
        .sort_by(|a, b| user_order(&a.user).cmp(&user_order(&b.user)));
    // Oldest login first: the likeliest to be a forgotten account.
    summary
        .inactive
        .sort_by(|a, b| (a.last_login, user_order(a)).cmp(&(b.last_login, user_order(b))));
    Ok(summary)
}

/// Users by username, then id.
fn user_order(user: &ReviewedUser) -> (Option<&str>, &str) {
    (user.username.as_deref(), &user.user_id)
}

/// Administrators by role (most powerful first), then name, then id.
fn admin_order(admin: &ReviewedAdmin) -> ((usize, Option<&str>), Option<&str>, &str) {
    (
        role_rank(admin.role.as_deref()),
        admin.name.as_deref(),
        &admin.admin_id,
    )
}

/// The instant before which a last login makes a user inactive.
fn inactive_cutoff(now_unix: i64, inactive_days: u32) -> i64 {
    now_unix.saturating_sub(i64::from(inactive_days) * SECONDS_PER_DAY)
}

/// Duo's built-in roles from most to least powerful; custom roles come after, by name.
const ROLES_BY_POWER: [&str; 9] = [
    "Owner",
    "Administrator",
    "Application Manager",
    "User Manager",
    "Security Analyst",
    "Help Desk",
    "Billing",
    "Phishing Manager",
    "Read-only",
];

fn role_rank(role: Option<&str>) -> (usize, Option<&str>) {
    let builtin = role.and_then(|r| {
        ROLES_BY_POWER
            .iter()
            .position(|known| known.eq_ignore_ascii_case(r))
    });
    match builtin {
        Some(rank) => (rank, None),
        None => (ROLES_BY_POWER.len(), role),
    }
}

fn reviewed_admin(admin: &AdminView) -> ReviewedAdmin {
    ReviewedAdmin {
        admin_id: admin.admin_id.clone(),
        name: admin.name.clone(),
        email: admin.email.clone(),
        role: admin.role.clone(),
        status: admin.status.clone(),
        last_login: admin.last_login,
    }
}

fn reviewed_user(user: &UserView) -> ReviewedUser {
    ReviewedUser {
        user_id: user.user_id.clone(),
        username: user.username.clone(),
        realname: user.realname.clone(),
        email: user.email.clone(),
        status: user.status.clone(),
        is_enrolled: user.is_enrolled,
        last_login: user.last_login,
        created: user.created,
    }
}

/// A section: title, column headings, rows, and what to say when there is no row.
struct Section {
    title: String,
    headings: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

const USER_HEADINGS: &[&str] = &["Username", "Name", "Email", "Status", "Last login", "User ID"];

impl AccessReview {
    /// For a terminal: a header, then each section as a table with aligned columns.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        for line in self.header_lines() {
            let _ = writeln!(out, "{line}");
        }
        for section in self.sections() {
            let _ = write!(out, "\n{} ({})\n", section.title, section.rows.len());
            if section.rows.is_empty() {
                out.push_str("  none\n");
            } else {
                out.push_str(&aligned_table(section.headings, &section.rows));
            }
        }
        out
    }

    /// For a ticket or a wiki: a heading, the header as a list, then each section as a table.
    pub fn render_markdown(&self) -> String {
        let mut out = format!("# Access review: {}\n\n", markdown_cell(&self.api_host));
        for line in self.header_lines().iter().skip(1) {
            let _ = writeln!(out, "- {}", markdown_cell(line));
        }
        for section in self.sections() {
            let _ = write!(out, "\n## {} ({})\n\n", section.title, section.rows.len());
            if section.rows.is_empty() {
                out.push_str("None.\n");
                continue;
            }
            let _ = writeln!(out, "| {} |", section.headings.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(section.headings.len()));
            for row in &section.rows {
                let cells: Vec<String> = row.iter().map(|cell| markdown_cell(cell)).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
        }
        out
    }

    fn inactive_cutoff(&self) -> i64 {
        inactive_cutoff(self.reviewed_at, self.inactive_days)
    }

    fn header_lines(&self) -> Vec<String> {
        vec![
            format!("Access review of {}", self.api_host),
            format!("Snapshot synced at {}", self.synced_at),
            format!("Reviewed at {}", rfc3339(self.reviewed_at)),
            format!(
                "{} users, {} administrators, {} groups",
                self.user_count, self.admin_count, self.group_count
            ),
            format!(
                "Inactive: no login in the {} days before the review (last login before {})",
                self.inactive_days,
                rfc3339(self.inactive_cutoff())
            ),
        ]
    }

    fn sections(&self) -> [Section; 6] {
        let user_rows = |users: &[ReviewedUser]| users.iter().map(|u| self.user_row(u)).collect();
        [
            Section {
                title: "Administrators".into(),
                headings: &["Name", "Email", "Role", "Status", "Last login", "Admin ID"],
                rows: self
                    .administrators
                    .iter()
                    .map(|a| {
                        vec![
                            text(a.name.as_deref()),
                            text(a.email.as_deref()),
                            text(a.role.as_deref()),
                            text(a.status.as_deref()),
                            self.last_login(a.last_login),
                            a.admin_id.clone(),
                        ]
                    })
                    .collect(),
            },
            Section {
                title: "Users not enrolled".into(),
                headings: USER_HEADINGS,
                rows: user_rows(&self.not_enrolled),
            },
            Section {
                title: "Users in bypass".into(),
                headings: USER_HEADINGS,
                rows: user_rows(&self.bypass),
            },
            Section {
                title: "Locked out or disabled users still in groups".into(),
                headings: &["Username", "Name", "Status", "Groups", "User ID"],
                rows: self
                    .blocked_in_groups
                    .iter()
                    .map(|b| {
                        let groups: Vec<&str> = b
                            .groups
                            .iter()
                            .map(|g| g.name.as_deref().unwrap_or(&g.group_id))
                            .collect();
                        vec![
                            text(b.user.username.as_deref()),
                            text(b.user.realname.as_deref()),
                            text(b.user.status.as_deref()),
                            groups.join(", "),
                            b.user.user_id.clone(),
                        ]
                    })
                    .collect(),
            },
            Section {
                title: format!("Users with no login in {} days", self.inactive_days),
                headings: USER_HEADINGS,
                rows: user_rows(&self.inactive),
            },
            Section {
                title: "Users who never logged in".into(),
                headings: &["Username", "Name", "Email", "Status", "Created", "User ID"],
                rows: self
                    .never_logged_in
                    .iter()
                    .map(|u| {
                        vec![
                            text(u.username.as_deref()),
                            text(u.realname.as_deref()),
                            text(u.email.as_deref()),
                            text(u.status.as_deref()),
                            u.created.map_or_else(|| "unknown".to_owned(), date),
                            u.user_id.clone(),
                        ]
                    })
                    .collect(),
            },
        ]
    }

    fn user_row(&self, user: &ReviewedUser) -> Vec<String> {
        vec![
            text(user.username.as_deref()),
            text(user.realname.as_deref()),
            text(user.email.as_deref()),
            text(user.status.as_deref()),
            self.last_login(user.last_login),
            user.user_id.clone(),
        ]
    }

    /// `2025-01-01 (120 days ago)`, or `never`.
    fn last_login(&self, at: Option<i64>) -> String {
        match at {
            None => "never".to_owned(),
            Some(at) => {
                let days = self.reviewed_at.saturating_sub(at).div_euclid(SECONDS_PER_DAY);
                let plural = if days == 1 { "" } else { "s" };
                format!("{} ({days} day{plural} ago)", date(at))
            }
        }
    }
}

fn text(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

/// The calendar date (UTC) of unix seconds, or the number itself when it is before 1970.
fn date(unix: i64) -> String {
    let mut stamp = rfc3339(unix);
    if stamp.len() > 10 && stamp.as_bytes()[4] == b'-' {
        stamp.truncate(10);
    }
    stamp
}

fn rfc3339(unix: i64) -> String {
    u64::try_from(unix)
        .ok()
        .and_then(|seconds| UNIX_EPOCH.checked_add(Duration::from_secs(seconds)))
        .map_or_else(
            || unix.to_string(),
            |at| humantime::format_rfc3339_seconds(at).to_string(),
        )
}

/// Columns padded to their widest cell, two spaces apart, under underlined headings.
fn aligned_table(headings: &[&str], rows: &[Vec<String>]) -> String {
    let width = |cell: &str| cell.chars().count();
    let mut widths: Vec<usize> = headings.iter().map(|h| width(h)).collect();
    for row in rows {
        for (column, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(column) {
                *w = (*w).max(width(cell));
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = String>| {
        let mut text = String::from(" ");
        for (cell, w) in cells.zip(&widths) {
            let pad = w.saturating_sub(width(&cell));
            let _ = write!(text, " {cell}{}", " ".repeat(pad + 1));
        }
        // Padding after the last column is invisible and noisy in diffs and copies.
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut headings.iter().map(|h| (*h).to_owned()));
    line(&mut widths.iter().map(|w| "─".repeat(*w)));
    for row in rows {
        line(&mut row.iter().cloned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = SECONDS_PER_DAY;

    fn snapshot(users: &str, admins: &str, groups: &str, members: &str) -> Snapshot {
        crate::snapshot::test_snapshot("2026-01-01T00:00:00Z", users, admins, groups, members)
    }

    fn options(inactive_days: u32) -> ReviewOptions {
        ReviewOptions {
            inactive_days,
            now_unix: NOW,
        }
    }

    fn usernames(users: &[ReviewedUser]) -> Vec<&str> {
        users
            .iter()
            .map(|u| u.username.as_deref().unwrap_or("?"))
            .collect()
    }

    fn user(id: &str, name: &str, status: &str, enrolled: bool, last_login: Option<i64>) -> String {
        let last_login = last_login.map_or_else(|| "null".to_owned(), |t| t.to_string());
        format!(
            r#"{{"user_id":"{id}","username":"{name}","realname":"{name} Example","email":"{name}@example.com",
                "status":"{status}","is_enrolled":{enrolled},"last_login":{last_login},"created":1600000000,
                "groups":[],"phones":[],"tokens":[]}}"#
        )
    }

    const ADMINS: &str = r#"
        {"admin_id":"DE3","name":"Rita Reader","email":"rita@example.com","role":"Read-only","status":"Active","last_login":null},
        {"admin_id":"DE2","name":"Carl Custom","email":"carl@example.com","role":"Auditors","status":"Disabled","last_login":1799900000},
        {"admin_id":"DE1","name":"Olivia Owner","email":"olivia@example.com","role":"Owner","status":"Active","last_login":1799990000}"#;

    #[test]
    fn administrators_are_listed_by_role_power_with_status_and_last_login() {
        let summary = review(&snapshot("", ADMINS, "", ""), &options(90)).unwrap();
        let ids: Vec<&str> = summary
            .administrators
            .iter()
            .map(|a| a.admin_id.as_str())
            .collect();
        assert_eq!(ids, ["DE1", "DE3", "DE2"]);
        assert_eq!(summary.administrators[0].role.as_deref(), Some("Owner"));
        assert_eq!(summary.administrators[2].status.as_deref(), Some("Disabled"));
        assert_eq!(summary.administrators[0].last_login, Some(1_799_990_000));
        let table = summary.render_table();
        let owner = table.lines().find(|l| l.contains("Olivia Owner")).unwrap();
        assert!(owner.contains("Owner") && owner.contains("Active"), "{owner}");
        assert!(owner.contains("2027-01-15 (0 days ago)"), "{owner}");
        let reader = table.lines().find(|l| l.contains("Rita Reader")).unwrap();
        assert!(reader.contains("never"), "{reader}");
    }

    #[test]
    fn not_enrolled_and_bypass_users_are_listed() {
        let users = [
            user("DU1", "alice", "active", true, Some(NOW)),
            user("DU2", "bob", "active", false, Some(NOW)),
            user("DU3", "carol", "bypass", true, Some(NOW)),
            user("DU4", "dave", "Bypass", false, Some(NOW)),
        ]
        .join(",");
        let summary = review(&snapshot(&users, "", "", ""), &options(90)).unwrap();
        assert_eq!(usernames(&summary.not_enrolled), ["bob", "dave"]);
        assert_eq!(usernames(&summary.bypass), ["carol", "dave"]);
        assert!(summary.blocked_in_groups.is_empty());
        assert!(summary.inactive.is_empty() && summary.never_logged_in.is_empty());
    }

    #[test]
    fn a_disabled_user_still_in_a_group_is_listed_with_the_group_name() {
        let mut locked = user("DU3", "carol", "locked out", true, Some(NOW));
        // Carol's membership of DG2 shows only in her embedded groups, of DG1 only in group_members.
        locked = locked.replace(
            r#""groups":[]"#,
            r#""groups":[{"group_id":"DG2","name":"Sales"}]"#,
        );
        let users = [
            user("DU1", "alice", "active", true, Some(NOW)),
            user("DU2", "bob", "disabled", true, Some(NOW)),
            locked,
            user("DU4", "dave", "disabled", true, Some(NOW)),
        ]
        .join(",");
        let groups = r#"{"group_id":"DG1","name":"Engineering"},{"group_id":"DG2","name":"Sales"}"#;
        let members = r#""DG1":["DU1","DU2","DU3"],"DG2":[]"#;
        let summary = review(&snapshot(&users, "", groups, members), &options(90)).unwrap();
        let listed: Vec<(&str, Vec<&str>)> = summary
            .blocked_in_groups
            .iter()
            .map(|b| {
                let groups = b.groups.iter().map(|g| g.name.as_deref().unwrap()).collect();
                (b.user.username.as_deref().unwrap(), groups)
            })
            .collect();
        // Dave is disabled but in no group: nothing to clean up.
        assert_eq!(
            listed,
            [
                ("bob", vec!["Engineering"]),
                ("carol", vec!["Engineering", "Sales"])
            ]
        );
        let table = summary.render_table();
        let carol = table.lines().find(|l| l.contains("carol")).unwrap();
        assert!(
            carol.contains("locked out") && carol.contains("Engineering, Sales"),
            "{carol}"
        );
    }

    #[test]
    fn never_logged_in_users_are_listed_apart_from_inactive_ones() {
        let users = [
            user("DU1", "alice", "active", true, None),
            user("DU2", "bob", "active", true, Some(NOW - 200 * DAY)),
        ]
        .join(",");
        let summary = review(&snapshot(&users, "", "", ""), &options(90)).unwrap();
        assert_eq!(usernames(&summary.never_logged_in), ["alice"]);
        assert_eq!(usernames(&summary.inactive), ["bob"]);
        let table = summary.render_table();
        assert!(table.contains("Users who never logged in (1)"), "{table}");
        let bob = table.lines().find(|l| l.contains("bob@example.com")).unwrap();
        assert!(bob.contains("(200 days ago)"), "{bob}");
        let alice = table.lines().find(|l| l.contains("alice@example.com")).unwrap();
        assert!(alice.contains("2020-09-13"), "created date shown: {alice}");
    }

    #[test]
    fn the_inactive_threshold_is_exclusive_at_exactly_n_days() {
        let users = [
            user("DU1", "on-the-day", "active", true, Some(NOW - 30 * DAY)),
            user("DU2", "one-second-over", "active", true, Some(NOW - 30 * DAY - 1)),
            user("DU3", "long-ago", "active", true, Some(NOW - 400 * DAY)),
            user("DU4", "yesterday", "active", true, Some(NOW - DAY)),
        ]
        .join(",");
        let summary = review(&snapshot(&users, "", "", ""), &options(30)).unwrap();
        assert_eq!(usernames(&summary.inactive), ["long-ago", "one-second-over"]);
        let looser = review(&snapshot(&users, "", "", ""), &options(500)).unwrap();
        assert!(looser.inactive.is_empty());
    }

    #[test]
    fn drifted_users_are_reviewed_and_a_missing_id_fails() {
        let users = r#"
            {"user_id":"DU1","username":"alice","status":null,"is_enrolled":null,"last_login":"1700000000","extra":[1]},
            {"user_id":"DU2","is_enrolled":false,"last_login":1.7e9}"#;
        let summary = review(&snapshot(users, "", "", ""), &options(90)).unwrap();
        // A numeric string is still a timestamp, not "never".
        assert!(summary.never_logged_in.is_empty());
        assert_eq!(summary.inactive.len(), 2);
        assert_eq!(summary.not_enrolled[0].user_id, "DU2");
        assert!(summary.render_table().contains("DU2"));

        let error = review(&snapshot("", r#"{"name":"no id"}"#, "", ""), &options(90)).unwrap_err();
        assert!(
            error.to_string().contains("admins[0] has no \"admin_id\""),
            "{error}"
        );
    }

    #[test]
    fn table_header_has_host_sync_time_counts_and_aligned_columns() {
        let users = [
            user("DU1", "a", "bypass", false, None),
            user("DU2", "a-much-longer-name", "bypass", false, None),
        ]
        .join(",");
        let table = review(&snapshot(&users, ADMINS, "", ""), &options(90))
            .unwrap()
            .render_table();
        assert!(
            table.starts_with("Access review of api-test.duosecurity.com\n"),
            "{table}"
        );
        assert!(
            table.contains("Snapshot synced at 2026-01-01T00:00:00Z"),
            "{table}"
        );
        assert!(table.contains("2 users, 3 administrators, 0 groups"), "{table}");
        assert!(
            table.contains("(last login before 2026-10-17T08:00:00Z)"),
            "{table}"
        );
        assert!(table.contains("Users in bypass (2)"), "{table}");
        assert!(
            table.contains("Locked out or disabled users still in groups (0)\n  none\n"),
            "{table}"
        );
        // The email column starts at the same place on every row of the bypass table.
        let bypass: Vec<&str> = table
            .split("Users in bypass")
            .nth(1)
            .unwrap()
            .lines()
            .take_while(|l| !l.is_empty())
            .filter(|l| l.contains("@example.com"))
            .collect();
        assert_eq!(bypass.len(), 2);
        let email_at: Vec<usize> = bypass
            .iter()
            .zip(["a@", "a-much-longer-name@"])
            .map(|(line, email)| line[..line.find(email).unwrap()].chars().count())
            .collect();
        assert_eq!(email_at[0], email_at[1], "{bypass:?}");
        assert!(table.lines().all(|l| !l.ends_with(' ')), "no trailing spaces");
    }

    #[test]
    fn markdown_has_every_section_with_counts() {
        let users = [
            user("DU1", "alice", "disabled", false, None),
            user("DU2", "bob|pipe", "bypass", true, Some(NOW - 100 * DAY)),
        ]
        .join(",");
        let summary = review(
            &snapshot(
                &users,
                ADMINS,
                r#"{"group_id":"DG1","name":"Engineering"}"#,
                r#""DG1":["DU1"]"#,
            ),
            &options(90),
        )
        .unwrap();
        let markdown = summary.render_markdown();
        for heading in [
            "# Access review: api-test.duosecurity.com",
            "- Snapshot synced at 2026-01-01T00:00:00Z",
            "## Administrators (3)",
            "## Users not enrolled (1)",
            "## Users in bypass (1)",
            "## Locked out or disabled users still in groups (1)",
            "## Users with no login in 90 days (1)",
            "## Users who never logged in (1)",
        ] {
            assert!(markdown.contains(heading), "{heading}: {markdown}");
        }
        assert!(
            markdown.contains("| alice | alice Example | disabled | Engineering | DU1 |"),
            "{markdown}"
        );
        assert!(markdown.contains("bob\\|pipe"), "{markdown}");
        let empty = review(&snapshot("", "", "", ""), &options(90))
            .unwrap()
            .render_markdown();
        assert!(empty.contains("## Users not enrolled (0)\n\nNone.\n"), "{empty}");
    }
}
