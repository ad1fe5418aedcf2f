//! The requests pages: the journal newest first (filtered by status, path, integration and fault
//! rule, a page at a time, followed live by the page's script), and one request with its answer
//! and why it got it. Pages read the journal in place ([`crate::journal::Journal::visit_newest`])
//! and format only the entries they show, so a 100,000-entry ring costs a scan, not a copy.

use std::fmt::Write as _;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::journal_view::RequestView;
use super::{BASE, Nav, encode, esc, layout, why};
use crate::journal::{JournalEntry, Kept, status_kind};
use crate::state::AppState;

/// Rows on a page, and at most in one live update.
const PAGE_ROWS: usize = 100;
/// Most bytes of a body shown on the one-request page.
const BODY_SHOWN: usize = 16 * 1024;

/// The filters of the requests page, as its query string carries them.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Filter {
    /// `401`, or a class: `4xx`.
    #[serde(default)]
    status: String,
    /// A part of the path.
    #[serde(default)]
    path: String,
    /// An integration's name; `-`: none (unsigned, or an unknown ikey).
    #[serde(default)]
    integration: String,
    /// A fault rule's name; `*`: any; `-`: none.
    #[serde(default)]
    fault: String,
    /// Older than this sequence number (the next page).
    before: Option<u64>,
    /// Newer than this sequence number (a live update).
    after: Option<u64>,
}

impl Filter {
    fn matches(&self, kept: &Kept<'_>) -> bool {
        let status = self.status.trim();
        let status_ok = match status.as_bytes() {
            [] => true,
            [class, b'x' | b'X', b'x' | b'X'] => kept.status() / 100 == u16::from(class.wrapping_sub(b'0')),
            _ => status.parse::<u16>().is_ok_and(|s| s == kept.status()),
        };
        let path = self.path.trim();
        status_ok
            && (path.is_empty() || kept.path().contains(path))
            && match self.integration.as_str() {
                "" => true,
                "-" => kept.integration().is_none(),
                name => kept.integration() == Some(name),
            }
            && match self.fault.as_str() {
                "" => true,
                "*" => kept.fault().is_some(),
                "-" => kept.fault().is_none(),
                name => kept.fault() == Some(name),
            }
    }

    /// The filters as a query string (without `before`/`after`), for links.
    fn query(&self) -> String {
        [
            ("status", &self.status),
            ("path", &self.path),
            ("integration", &self.integration),
            ("fault", &self.fault),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
    }
}

/// The newest entries matching `filter` (older than `before`, newer than `after`), at most
/// [`PAGE_ROWS`]; whether more match; and the newest sequence number in the journal.
fn select(state: &AppState, filter: &Filter) -> (Vec<JournalEntry>, bool, u64) {
    let mut rows = Vec::new();
    let mut more = false;
    let mut newest = None;
    state.journal().visit_newest(|kept| {
        newest.get_or_insert(kept.seq());
        if filter.after.is_some_and(|after| kept.seq() <= after) {
            return false;
        }
        if filter.before.is_some_and(|before| kept.seq() >= before) || !filter.matches(&kept) {
            return true;
        }
        if rows.len() == PAGE_ROWS {
            more = true;
            return false;
        }
        rows.push(kept.entry());
        true
    });
    (rows, more, newest.unwrap_or(0))
}

fn status_class(status: u16) -> String {
    format!("st-{}", status_kind(status))
}

fn latency(us: u64) -> String {
    if us < 10_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{} ms", us / 1000)
    }
}

/// The table row of one entry.
fn row(html: &mut String, entry: &JournalEntry) {
    let clock = entry.time.get(11..23).unwrap_or(&entry.time);
    let query = if entry.query.is_empty() {
        String::new()
    } else {
        format!("<span class=\"query\">?{}</span>", esc(&entry.query))
    };
    let _ = writeln!(
        html,
        "<tr class=\"{}\" data-seq=\"{seq}\" data-status=\"{status}\"><td class=\"time\" title=\"{}\">{clock}</td><td>{}</td>\
         <td class=\"path\"><a href=\"{BASE}/requests/{seq}\">{}</a>{query}</td><td>{}</td><td>{}</td>\
         <td class=\"status\">{status}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
        status_class(entry.status),
        esc(&entry.time),
        esc(&entry.method),
        esc(&entry.path),
        esc(entry.integration.as_deref().unwrap_or("")),
        entry.signature.unwrap_or(""),
        entry.duo_code.map(|c| c.to_string()).unwrap_or_default(),
        latency(entry.latency_us),
        esc(entry.fault.as_deref().unwrap_or("")),
        seq = entry.seq,
        status = entry.status,
    );
}

fn select_options(html: &mut String, name: &str, chosen: &str, options: &[(String, String)]) {
    let _ = write!(html, "<select name=\"{name}\">");
    for (value, label) in options {
        let selected = if value == chosen { " selected" } else { "" };
        let _ = write!(
            html,
            "<option value=\"{}\"{selected}>{}</option>",
            esc(value),
            esc(label)
        );
    }
    html.push_str("</select>");
}

/// `GET /dashboard/requests`.
pub(super) async fn page(State(state): State<AppState>, Query(filter): Query<Filter>) -> Response {
    let (rows, more, newest) = select(&state, &filter);
    let world = state.world();
    let mut html = String::with_capacity(PAGE_ROWS * 400 + 4096);
    html.push_str("<h1>Requests</h1>\n");
    let _ = write!(
        html,
        "<form class=\"filters\" method=\"get\" action=\"{BASE}/requests\">\
         <label>Status <input name=\"status\" value=\"{}\" placeholder=\"401, 4xx\" size=\"6\"></label>\
         <label>Path <input name=\"path\" value=\"{}\" placeholder=\"/admin/v1/users\"></label><label>Integration ",
        esc(&filter.status),
        esc(&filter.path)
    );
    let mut integrations = vec![
        (String::new(), "any".to_owned()),
        ("-".to_owned(), "none".to_owned()),
    ];
    integrations.extend(
        world
            .scenario
            .integrations
            .iter()
            .map(|i| (i.name.clone(), i.name.clone())),
    );
    select_options(&mut html, "integration", &filter.integration, &integrations);
    html.push_str("</label><label>Fault rule ");
    let mut faults = vec![
        (String::new(), "any or none".to_owned()),
        ("*".to_owned(), "any rule".to_owned()),
        ("-".to_owned(), "none".to_owned()),
    ];
    faults.extend(
        world
            .faults
            .counts()
            .iter()
            .map(|c| (c.name.to_owned(), c.name.to_owned())),
    );
    select_options(&mut html, "fault", &filter.fault, &faults);
    let _ = writeln!(
        html,
        "</label><button type=\"submit\">Filter</button> <a href=\"{BASE}/requests\">clear</a></form>"
    );
    let live = filter.before.is_none();
    let _ = writeln!(
        html,
        "<p class=\"meta\">Newest first, {PAGE_ROWS} a page, from the last {} kept in memory. <span id=\"live-status\">{}</span></p>",
        state.journal().capacity(),
        if live { "live" } else { "an older page: not live" }
    );
    let _ = write!(
        html,
        "<table id=\"requests\" data-last=\"{newest}\" data-live=\"{}\" data-poll=\"{BASE}/api/requests\">\n\
         <thead><tr><th>Time (UTC)</th><th>Method</th><th>Path</th><th>Integration</th><th>Signature</th><th>Status</th><th>Duo code</th><th>Latency</th><th>Fault rule</th></tr></thead>\n<tbody>\n",
        if live { "on" } else { "off" }
    );
    for entry in &rows {
        row(&mut html, entry);
    }
    html.push_str("</tbody>\n</table>\n");
    if rows.is_empty() {
        html.push_str("<p class=\"empty\" id=\"no-requests\">No request matches yet.</p>\n");
    }
    if more && let Some(last) = rows.last() {
        let query = filter.query();
        let _ = writeln!(
            html,
            "<p><a class=\"older\" href=\"{BASE}/requests?{query}{}before={}\">Older requests</a></p>",
            if query.is_empty() { "" } else { "&" },
            last.seq
        );
    }
    layout("Requests", Nav::Requests, &html).into_response()
}

/// `GET /dashboard/api/requests?after=N&…`: `{"last": newest seq, "rows": "<tr>…"}`.
pub(super) async fn poll(State(state): State<AppState>, Query(filter): Query<Filter>) -> Response {
    let (rows, _, newest) = select(&state, &filter);
    let mut html = String::with_capacity(rows.len() * 400);
    for entry in &rows {
        row(&mut html, entry);
    }
    Json(json!({ "last": newest.max(filter.after.unwrap_or(0)), "rows": html })).into_response()
}

/// The entry with sequence number `seq`, while the ring keeps it.
fn find(state: &AppState, seq: u64) -> Option<JournalEntry> {
    let mut found = None;
    state.journal().visit_newest(|kept| {
        if kept.seq() == seq {
            found = Some(kept.entry());
        }
        kept.seq() > seq
    });
    found
}

fn table(html: &mut String, rows: &[(&str, String)]) {
    html.push_str("<table class=\"fields\">");
    for (name, value) in rows {
        let _ = write!(html, "<tr><th>{name}</th><td>{value}</td></tr>");
    }
    html.push_str("</table>\n");
}

fn headers_table(html: &mut String, headers: Option<&Vec<(String, String)>>) {
    match headers {
        None => html.push_str("<p class=\"empty\">The journal did not keep the headers.</p>\n"),
        Some(headers) if headers.is_empty() => html.push_str("<p class=\"empty\">None.</p>\n"),
        Some(headers) => {
            let rows: Vec<(&str, String)> = headers
                .iter()
                .map(|(name, value)| (name.as_str(), format!("<code>{}</code>", esc(value))))
                .collect();
            table(html, &rows);
        }
    }
}

fn body_block(html: &mut String, body: Option<(&str, Option<u64>)>) {
    match body {
        None => html.push_str("<p class=\"empty\">No body kept.</p>\n"),
        Some((text, whole)) => {
            let shown: String = text.chars().take(BODY_SHOWN).collect();
            let _ = writeln!(html, "<pre class=\"body\">{}</pre>", esc(&shown));
            let kept = text.len() as u64;
            if let Some(whole) = whole.filter(|w| *w > kept) {
                let _ = writeln!(
                    html,
                    "<p class=\"meta\">The first {kept} of {whole} bytes (the journal keeps a bounded prefix).</p>"
                );
            }
        }
    }
}

/// `GET /dashboard/requests/{seq}`.
pub(super) async fn one(State(state): State<AppState>, Path(seq): Path<String>) -> Response {
    let Some(entry) = seq.parse::<u64>().ok().and_then(|seq| find(&state, seq)) else {
        let body = format!(
            "<h1>Request {}</h1><p>Not in the journal's memory: it keeps the last {} requests. <a href=\"{BASE}/requests\">All requests</a></p>",
            esc(&seq),
            state.journal().capacity()
        );
        return (
            StatusCode::NOT_FOUND,
            layout("Request not found", Nav::Requests, &body),
        )
            .into_response();
    };
    let view = RequestView::from(entry);
    let entry = &view.entry;
    let mut html = String::with_capacity(16 * 1024);
    let _ = writeln!(
        html,
        "<p><a href=\"{BASE}/requests\">← Requests</a></p><h1>#{} {} {}</h1>",
        entry.seq,
        esc(&entry.method),
        esc(&entry.path)
    );
    let _ = writeln!(
        html,
        "<p class=\"verdict {}\"><span class=\"status\">{}</span> {}{}</p>",
        status_class(entry.status),
        entry.status,
        entry.duo_code.map(|c| format!("Duo {c}")).unwrap_or_default(),
        entry
            .fault
            .as_deref()
            .map(|f| format!(" · answered by the fault rule <b>{}</b>", esc(f)))
            .unwrap_or_default()
    );
    html.push_str("<section class=\"why\"><h2>Why</h2>\n");
    why::explain(&mut html, &view, &state);
    html.push_str("</section>\n<div class=\"columns\"><section><h2>Request</h2>\n");
    let params: String = duo_auth::params::parse_urlencoded(entry.query.as_bytes())
        .iter()
        .map(|(k, v)| {
            format!(
                "<code>{}</code> = <code>{}</code><br>",
                esc(&String::from_utf8_lossy(k)),
                esc(&String::from_utf8_lossy(v))
            )
        })
        .collect();
    let mut fields = vec![
        ("Time", esc(&entry.time)),
        ("Method", esc(&entry.method)),
        ("Path", format!("<code>{}</code>", esc(&entry.path))),
        ("Query", if params.is_empty() { "—".into() } else { params }),
        ("Client", esc(entry.peer.as_deref().unwrap_or("—"))),
        (
            "Integration",
            esc(entry.integration.as_deref().unwrap_or("— (unknown or none)")),
        ),
        (
            "Signature",
            entry.signature.unwrap_or("— (none matched)").to_owned(),
        ),
    ];
    if let Some(ikey) = &view.ikey {
        fields.push(("ikey", format!("<code>{}</code>", esc(ikey))));
    }
    if let Some(valid) = view.signature_valid {
        fields.push(("Signature valid", if valid { "yes" } else { "no" }.to_owned()));
    }
    if let Some(hex) = &view.signature_hex {
        fields.push((
            "Signature sent",
            format!("<code class=\"hex\">{}</code>", esc(hex)),
        ));
    }
    table(&mut html, &fields);
    html.push_str("<h3>Headers</h3>\n");
    headers_table(&mut html, view.request_headers.as_ref());
    html.push_str("<h3>Body</h3>\n");
    body_block(
        &mut html,
        view.request_body
            .as_ref()
            .map(|(text, whole)| (text.as_str(), Some(*whole))),
    );
    html.push_str("</section><section><h2>Answer</h2>\n");
    table(
        &mut html,
        &[
            ("Status", entry.status.to_string()),
            (
                "Duo code",
                entry
                    .duo_code
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "—".into()),
            ),
            ("Fault rule", esc(entry.fault.as_deref().unwrap_or("—"))),
            ("Latency", latency(entry.latency_us)),
        ],
    );
    html.push_str("<h3>Headers</h3>\n");
    headers_table(&mut html, view.response_headers.as_ref());
    html.push_str("<h3>Body</h3>\n");
    body_block(
        &mut html,
        view.response_body
            .as_ref()
            .map(|(text, whole)| (text.as_str(), *whole)),
    );
    html.push_str("</section></div>\n");
    layout(&format!("Request #{}", entry.seq), Nav::Requests, &html).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_keep_their_values_in_links() {
        let filter = Filter {
            status: "4xx".into(),
            path: "/admin/v1/users".into(),
            fault: "*".into(),
            ..Filter::default()
        };
        assert_eq!(filter.query(), "status=4xx&path=%2Fadmin%2Fv1%2Fusers&fault=%2A");
        assert_eq!(Filter::default().query(), "");
    }

    #[test]
    fn rows_link_to_their_request_and_escape_what_the_client_sent() {
        let entry = JournalEntry {
            seq: 7,
            time: "2026-01-01T10:11:12.345Z".into(),
            unix_ms: 0,
            method: "GET".into(),
            path: "/admin/v1/<users>".into(),
            query: "a=\"b\"".into(),
            integration: Some("access-review".into()),
            signature: Some("v5"),
            status: 401,
            duo_code: Some(40103),
            fault: None,
            latency_us: 1500,
            ..JournalEntry::default()
        };
        let mut html = String::new();
        row(&mut html, &entry);
        assert!(
            html.starts_with("<tr class=\"st-4xx\" data-seq=\"7\" data-status=\"401\">"),
            "{html}"
        );
        assert!(html.contains(">10:11:12.345<"), "{html}");
        assert!(
            html.contains("<a href=\"/__duo-mock/dashboard/requests/7\">/admin/v1/&lt;users&gt;</a>"),
            "{html}"
        );
        assert!(html.contains("?a=&quot;b&quot;"), "{html}");
        assert!(
            html.contains("<td>40103</td><td class=\"num\">1.5 ms</td>"),
            "{html}"
        );
    }
}
