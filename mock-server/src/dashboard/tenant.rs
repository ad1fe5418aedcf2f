//! The tenant page: users, administrators, groups, a group's members, the summary and the
//! settings, as the API returns them (each object's own JSON, rendered once at load, the same
//! bytes the control API's dump and the API serve), searchable and paged on the server: a page
//! of a 100,000-user tenant parses the objects it shows and no other.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::{BASE, Nav, encode, esc, layout};
use crate::state::AppState;
use crate::store::{JsonList, Tenant};

/// Objects a page by default, and at most.
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// The kinds of object the page lists, with the fields its table shows (the whole object is a
/// click away).
const KINDS: [(&str, &str, &[&str]); 20] = [
    (
        "users",
        "Users",
        &[
            "user_id",
            "username",
            "realname",
            "email",
            "status",
            "is_enrolled",
        ],
    ),
    (
        "admins",
        "Administrators",
        &["admin_id", "name", "email", "role", "status"],
    ),
    ("groups", "Groups", &["group_id", "name", "desc", "status"]),
    ("members", "Group members", &["user_id", "username"]),
    (
        "phones",
        "Phones",
        &["phone_id", "number", "type", "platform", "activated"],
    ),
    ("tokens", "Hardware tokens", &["token_id", "type", "serial"]),
    (
        "webauthncredentials",
        "WebAuthn credentials",
        &["webauthnkey", "credential_name", "label"],
    ),
    ("u2ftokens", "U2F tokens", &["registration_id", "date_added"]),
    (
        "desktoptokens",
        "Desktop tokens",
        &["desktoptoken_id", "name", "platform"],
    ),
    (
        "bypass_codes",
        "Bypass codes",
        &["bypass_code_id", "created", "expiration", "reuse_count"],
    ),
    (
        "desktop_authenticators",
        "Desktop authenticators",
        &["dakey", "device_name", "os_family"],
    ),
    (
        "endpoints",
        "Endpoints",
        &["epkey", "username", "device_name", "os_family"],
    ),
    (
        "registered_devices",
        "Registered devices",
        &["compkey", "device_name", "os_family"],
    ),
    (
        "integrations",
        "Integrations",
        &["integration_key", "name", "type", "policy_key"],
    ),
    (
        "admin_units",
        "Administrative units",
        &["admin_unit_id", "name", "description"],
    ),
    (
        "policies",
        "Policies",
        &["policy_key", "policy_name", "is_global_policy"],
    ),
    ("summary", "Summary", &[]),
    ("settings", "Settings", &[]),
    ("policy_summary", "Policy summary", &[]),
    ("allowed_auth_methods", "Admin auth methods", &[]),
];

#[derive(Debug, Default, Deserialize)]
pub(super) struct TenantQuery {
    #[serde(default)]
    kind: String,
    /// Any text of the object, case-insensitive.
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: usize,
    limit: Option<usize>,
    /// The group whose members are listed.
    #[serde(default)]
    group: String,
}

/// Whether `haystack` contains `needle` (already lower-case ASCII), ignoring ASCII case: a
/// vectorised scan for the needle's first byte in either case, then a comparison.
fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while let Some(at) = memchr::memchr2(first, first.to_ascii_uppercase(), &haystack[from..]) {
        let start = from + at;
        let end = start + 1 + rest.len();
        if haystack
            .get(start + 1..end)
            .is_some_and(|candidate| candidate.eq_ignore_ascii_case(rest))
        {
            return true;
        }
        from = start + 1;
    }
    false
}

/// The page of `list` at `offset` among the objects matching `needle`, and how many match.
fn page_of(list: &JsonList, needle: &[u8], offset: usize, limit: usize) -> (Vec<Bytes>, usize) {
    if needle.is_empty() {
        let items = (offset..list.len().min(offset + limit))
            .filter_map(|i| list.item(i))
            .collect();
        return (items, list.len());
    }
    let mut items = Vec::with_capacity(limit);
    let mut matched = 0;
    for i in 0..list.len() {
        let Some(item) = list.item(i) else { break };
        if contains_ignore_case(&item, needle) {
            if matched >= offset && items.len() < limit {
                items.push(item);
            }
            matched += 1;
        }
    }
    (items, matched)
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "—".to_owned(),
        Some(Value::String(text)) => esc(text),
        Some(other) => esc(&other.to_string()),
    }
}

/// The pretty JSON of an object, as the API returns it.
fn pretty(item: &[u8]) -> String {
    serde_json::from_slice::<Value>(item)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(item).into_owned())
}

fn link(kind: &str, q: &str, offset: usize, limit: usize, group: &str) -> String {
    let mut url = format!("{BASE}/tenant?kind={kind}&offset={offset}&limit={limit}");
    if !q.is_empty() {
        let _ = write!(url, "&q={}", encode(q));
    }
    if !group.is_empty() {
        let _ = write!(url, "&group={}", encode(group));
    }
    url
}

fn single(html: &mut String, title: &str, json: &Bytes) {
    let _ = writeln!(
        html,
        "<h2>{title}</h2><pre class=\"json\">{}</pre>",
        esc(&pretty(json))
    );
}

/// `GET /dashboard/tenant?kind=users&q=…&offset=0&limit=50`.
pub(super) async fn page(State(state): State<AppState>, Query(query): Query<TenantQuery>) -> Response {
    let world = state.world();
    let tenant: &Tenant = &world.tenant;
    let (kind, title, columns) = KINDS
        .iter()
        .copied()
        .find(|(k, _, _)| *k == query.kind)
        .unwrap_or(KINDS[0]);
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let mut html = String::with_capacity(limit * 1024 + 4096);
    html.push_str("<h1>Tenant</h1>\n<nav class=\"tabs\">");
    for (k, label, _) in KINDS {
        if k == "members" {
            continue;
        }
        let current = if k == kind { " aria-current=\"page\"" } else { "" };
        let _ = write!(html, "<a href=\"{BASE}/tenant?kind={k}\"{current}>{label}</a>");
    }
    let _ = writeln!(
        html,
        "</nav>\n<p class=\"meta\">{} users, {} administrators, {} groups: the objects as the API returns them, the same as the control API's dump.</p>",
        tenant.users.len(),
        tenant.admins.len(),
        tenant.groups.len()
    );
    let list: &JsonList = match kind {
        "summary" => {
            single(&mut html, title, &tenant.summary);
            return layout("Tenant", Nav::Tenant, &html).into_response();
        }
        "settings" => {
            single(&mut html, title, &tenant.settings);
            return layout("Tenant", Nav::Tenant, &html).into_response();
        }
        "policy_summary" => {
            single(&mut html, title, &tenant.account.policy_summary);
            return layout("Tenant", Nav::Tenant, &html).into_response();
        }
        "allowed_auth_methods" => {
            single(&mut html, title, &tenant.account.allowed_auth_methods);
            return layout("Tenant", Nav::Tenant, &html).into_response();
        }
        "admins" => &tenant.admins,
        "groups" => &tenant.groups,
        "integrations" => &tenant.account.integrations_v3,
        "admin_units" => &tenant.account.admin_units,
        "policies" => &tenant.account.policies,
        "members" => match tenant.group_ids.iter().position(|id| **id == *query.group) {
            Some(index) => &tenant.group_members[index],
            None => {
                let _ = write!(
                    html,
                    "<p class=\"empty\">No group <code>{}</code>.</p>",
                    esc(&query.group)
                );
                return layout("Tenant", Nav::Tenant, &html).into_response();
            }
        },
        // A kind of device (`devices::KINDS`), else the users.
        other => crate::devices::KINDS
            .iter()
            .zip(tenant.all_devices())
            .find(|(info, _)| info.key == other)
            .map_or(&tenant.users, |(_, devices)| &devices.listed),
    };
    let _ = write!(
        html,
        "<h2>{title}{}</h2>\n<form class=\"filters\" method=\"get\" action=\"{BASE}/tenant\"><input type=\"hidden\" name=\"kind\" value=\"{kind}\">",
        if kind == "members" {
            format!(" of <code>{}</code>", esc(&query.group))
        } else {
            String::new()
        }
    );
    if kind == "members" {
        let _ = write!(
            html,
            "<input type=\"hidden\" name=\"group\" value=\"{}\">",
            esc(&query.group)
        );
    }
    let _ = writeln!(
        html,
        "<label>Search <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"a name, an e-mail, an id\"></label><button type=\"submit\">Search</button></form>",
        esc(&query.q)
    );
    let needle = query.q.trim().to_ascii_lowercase();
    let (items, total) = page_of(list, needle.as_bytes(), query.offset, limit);
    let shown_to = query.offset + items.len();
    let _ = writeln!(
        html,
        "<p class=\"meta\" id=\"range\">{} to {shown_to} of {total}{}</p>",
        if items.is_empty() { 0 } else { query.offset + 1 },
        if needle.is_empty() {
            String::new()
        } else {
            format!(" matching “{}”", esc(query.q.trim()))
        }
    );
    html.push_str("<table id=\"objects\"><thead><tr>");
    for column in columns {
        let _ = write!(html, "<th>{column}</th>");
    }
    if kind == "groups" {
        html.push_str("<th>members</th>");
    }
    html.push_str("<th>JSON</th></tr></thead><tbody>\n");
    for item in &items {
        let value: Value = serde_json::from_slice(item).unwrap_or(Value::Null);
        html.push_str("<tr>");
        for column in columns {
            let _ = write!(html, "<td>{}</td>", cell(value.get(*column)));
        }
        if kind == "groups" {
            let id = value.get("group_id").and_then(Value::as_str).unwrap_or_default();
            let members = tenant
                .group_ids
                .iter()
                .position(|g| **g == *id)
                .map_or(0, |i| tenant.group_members[i].len());
            let _ = write!(
                html,
                "<td><a href=\"{}\">{members}</a></td>",
                link("members", "", 0, DEFAULT_LIMIT, id)
            );
        }
        let _ = writeln!(
            html,
            "<td><details><summary>as served</summary><pre class=\"json\">{}</pre></details></td></tr>",
            esc(&pretty(item))
        );
    }
    html.push_str("</tbody></table>\n<p class=\"pager\">");
    if query.offset > 0 {
        let _ = write!(
            html,
            "<a rel=\"prev\" href=\"{}\">← Previous</a> ",
            link(
                kind,
                &query.q,
                query.offset.saturating_sub(limit),
                limit,
                &query.group
            )
        );
    }
    if shown_to < total {
        let _ = write!(
            html,
            "<a rel=\"next\" href=\"{}\">Next →</a>",
            link(kind, &query.q, shown_to, limit, &query.group)
        );
    }
    html.push_str("</p>\n");
    layout("Tenant", Nav::Tenant, &html).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_ignores_ascii_case_anywhere_in_the_object() {
        let haystack = br#"{"realname":"Ada LOVELACE","username":"ada"}"#;
        assert!(contains_ignore_case(haystack, b"lovelace"));
        assert!(contains_ignore_case(haystack, b"ada l"));
        assert!(contains_ignore_case(haystack, b""));
        assert!(!contains_ignore_case(haystack, b"babbage"));
        assert!(
            !contains_ignore_case(b"ab", b"abc"),
            "a match may not run past the end"
        );
    }

    #[test]
    fn pages_count_every_match_and_keep_the_asked_window() {
        let objects: Vec<String> = (0..10).map(|i| format!("{{\"n\":\"user{i}\"}}")).collect();
        let list = JsonList::build(&objects, |o, out| out.extend_from_slice(o.as_bytes()));
        let (items, total) = page_of(&list, b"", 8, 5);
        assert_eq!((items.len(), total), (2, 10));
        let (items, total) = page_of(&list, b"user1", 0, 5);
        assert_eq!((items.len(), total), (1, 1));
        let (items, total) = page_of(&list, b"user", 3, 2);
        assert_eq!(total, 10);
        assert_eq!(&items[0][..], b"{\"n\":\"user3\"}");
    }
}
