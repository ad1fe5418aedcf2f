//! The access review: what a reviewer signs off on, read from one snapshot.
//!
//! First how many users have each MFA posture ([`crate::mfa`]), active users and all; then the
//! lists that need action, each sorted: active users with no MFA or SMS/voice only; users in
//! bypass; members of bypass groups; locked-out or disabled users still in groups (with the groups
//! named); administrators and their roles; users not enrolled; users with no login in the last N
//! days; users who never logged in. Every user is also listed once with its posture, bypass flag
//! and groups (the JSON's `users`, the CSV's rows). Statuses are compared without regard to case,
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
use crate::mfa::{MfaPosture, PostureCounts};
use crate::objects::{
    AdminView, KnownGroup, UserView, known_groups, memberships, read_admins, read_groups, read_users,
    status_is,
};
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
    /// The MFA posture.
    pub mfa: MfaPosture,
}

/// A user listed with some of its groups: a locked-out or disabled user still in groups, or a
/// member of bypass groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInGroups {
    /// Who.
    #[serde(flatten)]
    pub user: ReviewedUser,
    /// The groups in question, sorted by name.
    pub groups: Vec<GroupRef>,
}

/// Why a user or administrator is on an action list (the CSV's `needs_action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// An active user with MFA posture `none` or `sms_or_voice_only`.
    WeakMfa,
    /// The user's status is `bypass`.
    Bypass,
    /// The user is in a group whose status is `bypass`.
    BypassGroup,
    /// Locked out or disabled, and still in groups.
    BlockedInGroups,
    /// An administrator: every one is reviewed with its role.
    Administrator,
    /// `is_enrolled` is false.
    NotEnrolled,
    /// No login within the inactivity threshold.
    Inactive,
    /// No login ever.
    NeverLoggedIn,
}

impl Action {
    /// The name in every output (`weak_mfa`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WeakMfa => "weak_mfa",
            Self::Bypass => "bypass",
            Self::BypassGroup => "bypass_group",
            Self::BlockedInGroups => "blocked_in_groups",
            Self::Administrator => "administrator",
            Self::NotEnrolled => "not_enrolled",
            Self::Inactive => "inactive",
            Self::NeverLoggedIn => "never_logged_in",
        }
    }
}

/// One user's posture, as the JSON's `users` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserPosture {
    /// `user_id`.
    pub user_id: String,
    /// `username`.
    pub username: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// The MFA posture.
    pub mfa: MfaPosture,
    /// The user's status is `bypass`, or it is in a group whose status is `bypass`.
    pub bypass: bool,
    /// Every group the user is in, sorted by name.
    pub groups: Vec<GroupRef>,
    /// The action lists the user is on.
    pub needs_action: Vec<Action>,
    /// For the CSV: the user's other fields.
    #[serde(skip)]
    pub details: ReviewedUser,
}

/// Users per MFA posture.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MfaCounts {
    /// Users whose status is `active`.
    pub active: PostureCounts,
    /// Every user, whatever the status.
    pub all: PostureCounts,
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
    /// Users per MFA posture.
    pub mfa_counts: MfaCounts,
    /// Active users whose posture is `none` or `sms_or_voice_only`.
    pub weak_mfa: Vec<ReviewedUser>,
    /// Users whose status is `bypass`: they log in without a second factor.
    pub bypass: Vec<ReviewedUser>,
    /// Users in groups whose status is `bypass` (the groups named): they log in without a second
    /// factor too.
    pub bypass_group_members: Vec<UserInGroups>,
    /// Users `locked out` or `disabled` who are still in groups.
    pub blocked_in_groups: Vec<UserInGroups>,
    /// Every administrator, by role (Owner first) then name.
    pub administrators: Vec<ReviewedAdmin>,
    /// Users whose `is_enrolled` is false.
    pub not_enrolled: Vec<ReviewedUser>,
    /// Users whose last login is older than the threshold, oldest first.
    pub inactive: Vec<ReviewedUser>,
    /// Users with no `last_login` at all.
    pub never_logged_in: Vec<ReviewedUser>,
    /// Every user once, with posture, bypass flag, groups and the action lists it is on.
    pub users: Vec<UserPosture>,
}

/// Reviews `snapshot`. Fails only when an object has no id.
pub fn review(snapshot: &Snapshot, options: &ReviewOptions) -> Result<AccessReview, Error> {
    let users = read_users(snapshot)?;
    let admins = read_admins(snapshot)?;
    let groups = read_groups(snapshot)?;

    let known_groups = known_groups(&groups, &users);
    let mut groups_of_user: BTreeMap<String, Vec<GroupRef>> = BTreeMap::new();
    for (group_id, user_id) in memberships(snapshot, &users) {
        let name = known_groups.get(&group_id).and_then(|g| g.name.clone());
        groups_of_user
            .entry(user_id)
            .or_default()
            .push(GroupRef { name, group_id });
    }
    for list in groups_of_user.values_mut() {
        list.sort();
    }
    let is_bypass_group = |group: &GroupRef| {
        known_groups
            .get(&group.group_id)
            .is_some_and(KnownGroup::is_bypass)
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
        mfa_counts: MfaCounts::default(),
        weak_mfa: Vec::new(),
        bypass: Vec::new(),
        bypass_group_members: Vec::new(),
        blocked_in_groups: Vec::new(),
        administrators: admins.iter().map(reviewed_admin).collect(),
        not_enrolled: Vec::new(),
        inactive: Vec::new(),
        never_logged_in: Vec::new(),
        users: Vec::with_capacity(users.len()),
    };
    let no_groups = Vec::new();
    for user in &users {
        let reviewed = reviewed_user(user);
        let status = user.status.as_deref();
        let member_of = groups_of_user.get(&user.user_id).unwrap_or(&no_groups);
        let mut actions = Vec::new();

        let active = status_is(status, "active");
        summary.mfa_counts.all.add(reviewed.mfa);
        if active {
            summary.mfa_counts.active.add(reviewed.mfa);
            if reviewed.mfa.needs_action() {
                actions.push(Action::WeakMfa);
                summary.weak_mfa.push(reviewed.clone());
            }
        }
        let status_bypass = status_is(status, "bypass");
        if status_bypass {
            actions.push(Action::Bypass);
            summary.bypass.push(reviewed.clone());
        }
        let bypass_groups: Vec<GroupRef> = member_of.iter().filter(|g| is_bypass_group(g)).cloned().collect();
        if !bypass_groups.is_empty() {
            actions.push(Action::BypassGroup);
            summary.bypass_group_members.push(UserInGroups {
                user: reviewed.clone(),
                groups: bypass_groups,
            });
        }
        if (status_is(status, "locked out") || status_is(status, "disabled")) && !member_of.is_empty() {
            actions.push(Action::BlockedInGroups);
            summary.blocked_in_groups.push(UserInGroups {
                user: reviewed.clone(),
                groups: member_of.clone(),
            });
        }
        if user.is_enrolled == Some(false) {
            actions.push(Action::NotEnrolled);
            summary.not_enrolled.push(reviewed.clone());
        }
        match user.last_login {
            None => {
                actions.push(Action::NeverLoggedIn);
                summary.never_logged_in.push(reviewed.clone());
            }
            // A login exactly `inactive_days` ago is still inside the window.
            Some(at) if at < cutoff => {
                actions.push(Action::Inactive);
                summary.inactive.push(reviewed.clone());
            }
            Some(_) => {}
        }
        summary.users.push(UserPosture {
            user_id: user.user_id.clone(),
            username: user.username.clone(),
            status: user.status.clone(),
            mfa: reviewed.mfa,
            bypass: actions.contains(&Action::Bypass) || actions.contains(&Action::BypassGroup),
            groups: member_of.clone(),
            needs_action: actions,
            details: reviewed,
        });
    }

    summary
        .administrators
        .sort_by(|a, b| admin_order(a).cmp(&admin_order(b)));
    for list in [
        &mut summary.weak_mfa,
        &mut summary.not_enrolled,
        &mut summary.bypass,
        &mut summary.never_logged_in,
    ] {
        list.sort_by(|a, b| user_order(a).cmp(&user_order(b)));
    }
    for list in [&mut summary.bypass_group_members, &mut summary.blocked_in_groups] {
        list.sort_by(|a, b| user_order(&a.user).cmp(&user_order(&b.user)));
    }
    summary
        .users
        .sort_by(|a, b| user_order(&a.details).cmp(&user_order(&b.details)));
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
        mfa: MfaPosture::of(user),
    }
}

/// A section: title (with its count), column headings, rows.
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
            let _ = write!(out, "\n{}\n", section.title);
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
            let _ = write!(out, "\n## {}\n\n", section.title);
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

    /// For a spreadsheet (RFC 4180): one row per user, then one per administrator, under the
    /// columns of [`CSV_COLUMNS`]. `needs_action` names the action lists the row is on.
    pub fn render_csv(&self) -> String {
        let mut out = String::new();
        let mut row = |cells: &[&str]| {
            let quoted: Vec<String> = cells.iter().map(|cell| csv_cell(cell)).collect();
            out.push_str(&quoted.join(","));
            out.push_str("\r\n");
        };
        row(&CSV_COLUMNS);
        let when = |at: Option<i64>| at.map(rfc3339).unwrap_or_default();
        for user in &self.users {
            let details = &user.details;
            let groups: Vec<&str> = user
                .groups
                .iter()
                .map(|g| g.name.as_deref().unwrap_or(&g.group_id))
                .collect();
            let actions: Vec<&str> = user.needs_action.iter().map(|a| a.as_str()).collect();
            row(&[
                "user",
                &user.user_id,
                details.username.as_deref().unwrap_or_default(),
                details.realname.as_deref().unwrap_or_default(),
                details.email.as_deref().unwrap_or_default(),
                details.status.as_deref().unwrap_or_default(),
                "",
                user.mfa.as_str(),
                if user.bypass { "true" } else { "false" },
                &groups.join("; "),
                &when(details.last_login),
                &actions.join("; "),
            ]);
        }
        for admin in &self.administrators {
            row(&[
                "admin",
                &admin.admin_id,
                "",
                admin.name.as_deref().unwrap_or_default(),
                admin.email.as_deref().unwrap_or_default(),
                admin.status.as_deref().unwrap_or_default(),
                admin.role.as_deref().unwrap_or_default(),
                "",
                "",
                "",
                &when(admin.last_login),
                Action::Administrator.as_str(),
            ]);
        }
        out
    }

    /// For a program: the whole review, pretty-printed, ending in a newline.
    pub fn render_json(&self) -> String {
        // A struct of strings, numbers and lists always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
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

    fn sections(&self) -> Vec<Section> {
        let listed = |title: &str, headings, rows: Vec<Vec<String>>| Section {
            title: format!("{title} ({})", rows.len()),
            headings,
            rows,
        };
        let user_rows = |users: &[ReviewedUser]| users.iter().map(|u| self.user_row(u)).collect();
        let in_groups_rows = |users: &[UserInGroups]| {
            users
                .iter()
                .map(|member| {
                    let groups: Vec<&str> = member
                        .groups
                        .iter()
                        .map(|g| g.name.as_deref().unwrap_or(&g.group_id))
                        .collect();
                    vec![
                        text(member.user.username.as_deref()),
                        text(member.user.realname.as_deref()),
                        text(member.user.status.as_deref()),
                        groups.join(", "),
                        member.user.user_id.clone(),
                    ]
                })
                .collect()
        };
        let counts = &self.mfa_counts;
        let count_row = |label: &str, active: usize, all: usize| {
            vec![label.to_owned(), active.to_string(), all.to_string()]
        };
        let mut posture_rows: Vec<Vec<String>> = MfaPosture::ALL
            .iter()
            .map(|p| count_row(p.as_str(), counts.active.get(*p), counts.all.get(*p)))
            .collect();
        posture_rows.push(count_row("total", counts.active.total(), counts.all.total()));
        vec![
            Section {
                title: "MFA posture".into(),
                headings: &["Posture", "Active users", "All users"],
                rows: posture_rows,
            },
            listed(
                "Active users with no MFA or SMS/voice only",
                &["Username", "Name", "Email", "MFA", "Last login", "User ID"],
                self.weak_mfa
                    .iter()
                    .map(|u| self.user_row_with(u, u.mfa.to_string()))
                    .collect(),
            ),
            listed("Users in bypass", USER_HEADINGS, user_rows(&self.bypass)),
            listed(
                "Members of bypass groups",
                &["Username", "Name", "Status", "Bypass groups", "User ID"],
                in_groups_rows(&self.bypass_group_members),
            ),
            listed(
                "Locked out or disabled users still in groups",
                &["Username", "Name", "Status", "Groups", "User ID"],
                in_groups_rows(&self.blocked_in_groups),
            ),
            listed(
                "Administrators",
                &["Name", "Email", "Role", "Status", "Last login", "Admin ID"],
                self.administrators
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
            ),
            listed("Users not enrolled", USER_HEADINGS, user_rows(&self.not_enrolled)),
            listed(
                &format!("Users with no login in {} days", self.inactive_days),
                USER_HEADINGS,
                user_rows(&self.inactive),
            ),
            listed(
                "Users who never logged in",
                &["Username", "Name", "Email", "Status", "Created", "User ID"],
                self.never_logged_in
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
            ),
        ]
    }

    /// The columns of [`USER_HEADINGS`].
    fn user_row(&self, user: &ReviewedUser) -> Vec<String> {
        self.user_row_with(user, text(user.status.as_deref()))
    }

    /// A user's row with `fourth` (the status, or the MFA posture) in the fourth column.
    fn user_row_with(&self, user: &ReviewedUser, fourth: String) -> Vec<String> {
        vec![
            text(user.username.as_deref()),
            text(user.realname.as_deref()),
            text(user.email.as_deref()),
            fourth,
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

/// The CSV's columns. `record` is `user` or `admin`; a column that does not apply to the row's
/// kind is empty (`role` for users; `username`, `mfa`, `bypass`, `groups` for administrators).
pub const CSV_COLUMNS: [&str; 12] = [
    "record",
    "id",
    "username",
    "name",
    "email",
    "status",
    "role",
    "mfa",
    "bypass",
    "groups",
    "last_login",
    "needs_action",
];

/// A CSV field: quoted when it holds a comma, a quote or a line break, quotes doubled.
fn csv_cell(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
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

    /// A user with Duo's fields; an enrolled one has a phone with Duo Push.
    fn user(id: &str, name: &str, status: &str, enrolled: bool, last_login: Option<i64>) -> String {
        let last_login = last_login.map_or_else(|| "null".to_owned(), |t| t.to_string());
        let phones = if enrolled {
            r#"{"capabilities":["auto","push","sms","phone","mobile_otp"]}"#
        } else {
            ""
        };
        format!(
            r#"{{"user_id":"{id}","username":"{name}","realname":"{name} Example","email":"{name}@example.com",
                "status":"{status}","is_enrolled":{enrolled},"last_login":{last_login},"created":1600000000,
                "groups":[],"phones":[{phones}],"tokens":[],"webauthncredentials":[],"u2ftokens":[]}}"#
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

    /// Five users, one per posture plus a disabled one, with bypass by status and by group.
    fn mfa_tenant() -> Snapshot {
        let with = |user: String, methods: &str| {
            user.replace(
                r#""phones":[],"tokens":[],"webauthncredentials":[],"u2ftokens":[]"#,
                methods,
            )
        };
        let users = [
            // A security key only.
            with(
                user("DU1", "ann", "active", false, Some(NOW)),
                r#""phones":[],"tokens":[],"webauthncredentials":[{"webauthnkey":"WA1"}],"u2ftokens":[]"#,
            ),
            // Duo Push, and in the bypass group (spelled "Bypass" in the groups list).
            user("DU2", "ben", "active", true, Some(NOW)),
            // A landline.
            with(
                user("DU3", "cat", "active", false, Some(NOW)),
                r#""phones":[{"capabilities":["phone"]}],"tokens":[],"webauthncredentials":[],"u2ftokens":[]"#,
            ),
            // Nothing, and in bypass by status.
            user("DU4", "dan", "bypass", false, Some(NOW)),
            // Nothing, disabled: not on the weak-MFA list, which is for active users.
            user("DU5", "eve", "disabled", false, Some(NOW)),
            // Nothing, active; in a group the groups list lacks, bypass by its embedded status.
            user("DU6", "fay", "active", false, Some(NOW)).replace(
                r#""groups":[]"#,
                r#""groups":[{"group_id":"DG9","name":"Late","status":"bypass"}]"#,
            ),
        ]
        .join(",");
        let groups = r#"{"group_id":"DG1","name":"Break-glass","status":"Bypass"},{"group_id":"DG2","name":"Staff","status":"active"}"#;
        let members = r#""DG1":["DU2"],"DG2":["DU1","DU2","DU5"]"#;
        snapshot(&users, ADMINS, groups, members)
    }

    #[test]
    fn postures_are_counted_for_active_users_and_all() {
        let summary = review(&mfa_tenant(), &options(90)).unwrap();
        let counts = summary.mfa_counts;
        assert_eq!(
            (
                counts.active.phishing_resistant,
                counts.active.strong,
                counts.active.sms_or_voice_only,
                counts.active.none
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(
            (
                counts.all.phishing_resistant,
                counts.all.strong,
                counts.all.sms_or_voice_only,
                counts.all.none
            ),
            (1, 1, 1, 3)
        );
        assert_eq!(usernames(&summary.weak_mfa), ["cat", "fay"]);
        let table = summary.render_table();
        let none_row = table
            .lines()
            .find(|l| l.trim_start().starts_with("none "))
            .unwrap();
        assert_eq!(
            none_row.split_whitespace().collect::<Vec<_>>(),
            ["none", "1", "3"]
        );
        let total = table
            .lines()
            .find(|l| l.trim_start().starts_with("total"))
            .unwrap();
        assert_eq!(total.split_whitespace().collect::<Vec<_>>(), ["total", "4", "6"]);
        assert!(
            table.contains("Active users with no MFA or SMS/voice only (2)"),
            "{table}"
        );
    }

    #[test]
    fn bypass_by_status_and_by_group_are_flagged_with_posture_kept() {
        let summary = review(&mfa_tenant(), &options(90)).unwrap();
        assert_eq!(usernames(&summary.bypass), ["dan"]);
        let members: Vec<(&str, Vec<&str>)> = summary
            .bypass_group_members
            .iter()
            .map(|m| {
                let groups = m.groups.iter().map(|g| g.group_id.as_str()).collect();
                (m.user.username.as_deref().unwrap(), groups)
            })
            .collect();
        // Only the bypass groups are named: ben is in Staff too.
        assert_eq!(members, [("ben", vec!["DG1"]), ("fay", vec!["DG9"])]);
        let flagged: Vec<(&str, MfaPosture, bool)> = summary
            .users
            .iter()
            .map(|u| (u.username.as_deref().unwrap(), u.mfa, u.bypass))
            .collect();
        assert_eq!(
            flagged,
            [
                ("ann", MfaPosture::PhishingResistant, false),
                ("ben", MfaPosture::Strong, true),
                ("cat", MfaPosture::SmsOrVoiceOnly, false),
                ("dan", MfaPosture::None, true),
                ("eve", MfaPosture::None, false),
                ("fay", MfaPosture::None, true),
            ]
        );
        let markdown = summary.render_markdown();
        assert!(markdown.contains("## Members of bypass groups (2)"), "{markdown}");
        assert!(
            markdown.contains("| ben | ben Example | active | Break-glass | DU2 |"),
            "{markdown}"
        );
    }

    #[test]
    fn json_has_one_object_per_user_and_the_counts() {
        let json: serde_json::Value =
            serde_json::from_str(&review(&mfa_tenant(), &options(90)).unwrap().render_json()).unwrap();
        let ben = &json["users"][1];
        assert_eq!(ben["user_id"], "DU2");
        assert_eq!(ben["username"], "ben");
        assert_eq!(ben["status"], "active");
        assert_eq!(ben["mfa"], "strong");
        assert_eq!(ben["bypass"], true);
        assert_eq!(
            ben["groups"],
            serde_json::json!([{"name": "Break-glass", "group_id": "DG1"}, {"name": "Staff", "group_id": "DG2"}])
        );
        assert_eq!(ben["needs_action"], serde_json::json!(["bypass_group"]));
        assert!(ben.get("details").is_none() && ben.get("realname").is_none());
        assert_eq!(json["mfa_counts"]["active"]["phishing_resistant"], 1);
        assert_eq!(json["mfa_counts"]["all"]["none"], 3);
        assert_eq!(json["users"].as_array().unwrap().len(), 6);
        assert_eq!(json["weak_mfa"][0]["username"], "cat");
        assert_eq!(json["administrators"][0]["role"], "Owner");
    }

    #[test]
    fn csv_has_a_row_per_user_then_per_admin_quoted_where_needed() {
        let mut tenant = mfa_tenant();
        let quoted = r#"{"user_id":"DU7","username":"o'neil, \"x\"","status":"active","last_login":1700000000,"phones":[{"capabilities":["push"]}]}"#;
        tenant.users.push(serde_json::from_str(quoted).unwrap());
        let csv = review(&tenant, &options(90)).unwrap().render_csv();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "record,id,username,name,email,status,role,mfa,bypass,groups,last_login,needs_action"
        );
        assert_eq!(
            lines[2],
            "user,DU2,ben,ben Example,ben@example.com,active,,strong,true,Break-glass; Staff,2027-01-15T08:00:00Z,bypass_group"
        );
        assert_eq!(
            lines[4],
            "user,DU4,dan,dan Example,dan@example.com,bypass,,none,true,,2027-01-15T08:00:00Z,bypass; not_enrolled"
        );
        let quoted_row = lines.iter().find(|l| l.contains("DU7")).unwrap();
        assert!(
            quoted_row.starts_with(
                r#"user,DU7,"o'neil, ""x""",,,active,,strong,false,,2023-11-14T22:13:20Z,inactive"#
            ),
            "{quoted_row}"
        );
        let admins: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("admin,"))
            .copied()
            .collect();
        assert_eq!(admins.len(), 3);
        assert!(
            admins[0].starts_with("admin,DE1,,Olivia Owner,olivia@example.com,Active,Owner,,,,"),
            "{}",
            admins[0]
        );
        assert!(admins[0].ends_with(",administrator"), "{}", admins[0]);
        assert_eq!(lines.last(), Some(&""), "every row ends in CRLF");
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
            "## MFA posture\n",
            "## Active users with no MFA or SMS/voice only (0)",
            "## Members of bypass groups (0)",
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
