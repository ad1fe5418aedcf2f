//! Why a request got its answer, for the one-request page: for a 401 the signature debugger's
//! work ([`crate::explain`], the engine of `duo-mock explain-signature`: every canonical string
//! the fake tried, the signature each needs, which one the request's matched, the likeliest
//! slip); for Duo's 403 the missing grant or the address outside the allowed networks; for a
//! fault rule the rule, its filters and its counters; for a 429 the bucket.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::esc;
use super::journal_view::RequestView;
use crate::explain::{ExplainInput, ParamsInput, SentSignature, Verdict, explain as explain_signature};
use crate::faults::RuleCount;
use crate::grants::Grant;
use crate::ratelimit::EndpointClass;
use crate::routes::catalogue::ROUTES;
use crate::scenario::{Integration, IntegrationKind};
use crate::state::{AppState, World};

/// Writes the explanation of `view`'s answer into `html`.
pub(super) fn explain(html: &mut String, view: &RequestView, state: &AppState) {
    let world = state.world();
    let entry = &view.entry;
    if let Some(name) = &entry.fault {
        fault(html, name, &world);
        return;
    }
    match (entry.status, entry.duo_code) {
        (401, code) => unauthorized(html, view, &world, code),
        (403, Some(40301)) => forbidden(html, view, &world),
        (429, _) => rate_limited(html, view, &world),
        (200..=299, _) => html.push_str("<p>Answered as Duo would.</p>\n"),
        (404, _) => html
            .push_str("<p>No such object, or no route the fake serves at this path (Duo's 404 40401).</p>\n"),
        (405, _) => html.push_str("<p>The route exists, not with this method.</p>\n"),
        (400, _) => html
            .push_str("<p>A parameter Duo would refuse (400 40002): see the answer's body for which.</p>\n"),
        (0 | 444, _) => html.push_str("<p>The connection was cut before a whole answer went out.</p>\n"),
        _ => html.push_str("<p>See the answer below.</p>\n"),
    }
}

/// The scenario's integration that `view` names, by ikey or else by name.
fn integration<'w>(view: &RequestView, world: &'w World) -> Option<&'w Integration> {
    let integrations = &world.scenario.integrations;
    view.ikey
        .as_deref()
        .and_then(|ikey| integrations.iter().find(|i| i.ikey == ikey))
        .or_else(|| {
            let name = view.entry.integration.as_deref()?;
            integrations.iter().find(|i| i.name == name)
        })
}

fn unauthorized(html: &mut String, view: &RequestView, world: &World, code: Option<u32>) {
    let headline = match code {
        Some(40101) => {
            "No usable <code>Authorization</code> header: <code>Basic base64(ikey:signature)</code> is missing or malformed (401 40101)."
        }
        Some(40102) => "The integration key is not one of this tenant's Admin API applications (401 40102).",
        Some(40104) => "No readable <code>Date</code> or <code>X-Duo-Date</code> header (401 40104).",
        Some(40105) => "The request's date is outside the signature window of the fake's clock (401 40105).",
        Some(40112) => {
            "The signature matched a version this scenario does not accept (401 40112): v1 and v4 need <code>options.accept_v1</code> / <code>accept_v4</code>."
        }
        _ => "The signature does not match what the fake computed (401 40103).",
    };
    let _ = writeln!(html, "<p class=\"headline\">{headline}</p>");
    if code == Some(40105)
        && let Some(date) = view
            .request_header("x-duo-date")
            .or_else(|| view.request_header("date"))
    {
        let arrival = i64::try_from(view.entry.unix_ms / 1000).unwrap_or(0);
        if let Some(sent) = duo_auth::date::parse_date(date) {
            let _ = writeln!(
                html,
                "<p>The request said <code>{}</code>; it arrived at {} by the machine's clock, and the fake's clock is {} s off it now (<code>options.signature_window_s</code> is {} s).</p>",
                esc(date),
                duo_auth::date::format_date(arrival),
                world.options().clock_offset_s,
                world.options().signature_window_s
            );
            let _ = writeln!(
                html,
                "<p>The client's clock is about {} s {} the machine's.</p>",
                (sent - arrival).abs(),
                if sent < arrival { "behind" } else { "ahead of" }
            );
        }
    }
    let Some(integration) = integration(view, world) else {
        let listed: Vec<String> = world
            .scenario
            .integrations
            .iter()
            .map(|i| format!("<code>{}</code> ({})", esc(&i.ikey), esc(&i.name)))
            .collect();
        let _ = writeln!(
            html,
            "<p>The ikey sent, <code>{}</code>, is none of the scenario's: {}.</p>",
            esc(view.ikey.as_deref().unwrap_or("(not kept)")),
            listed.join(", ")
        );
        return;
    };
    if code == Some(40102) {
        let _ = writeln!(
            html,
            "<p><b>{}</b> is {}.</p>",
            esc(&integration.name),
            match integration.kind {
                _ if crate::auth::is_accounts_path(&view.entry.path) => "not an Accounts API application",
                IntegrationKind::AdminApi =>
                    "an Admin API application on an account whose plan has no Admin API",
                _ => "not an Admin API application",
            }
        );
        return;
    }
    let (Some(headers), Some(signature)) = (&view.request_headers, &view.signature_hex) else {
        html.push_str("<p class=\"empty\">The journal did not keep this request's headers and signature, so its canonical strings cannot be rebuilt.</p>\n");
        return;
    };
    let input = ExplainInput {
        method: view.entry.method.clone(),
        host: view.request_header("host").unwrap_or_default().to_owned(),
        path: view.entry.path.clone(),
        params: ParamsInput::Query(view.entry.query.clone()),
        date: view.request_header("date").unwrap_or_default().to_owned(),
        body: view
            .request_body
            .as_ref()
            .map(|(text, _)| text.as_bytes().to_vec())
            .unwrap_or_default(),
        headers: headers.clone(),
        api_hostname: Some(world.api_hostname().to_owned()),
        skey: integration.skey.clone(),
        sent: Some(SentSignature::Hex(signature.clone())),
    };
    if let Some((kept, whole)) = &view.request_body
        && (kept.len() as u64) < *whole
    {
        let _ = writeln!(
            html,
            "<p class=\"meta\">The journal kept {} of the body's {whole} bytes: schemes that hash the body (v4, v5) are computed over that prefix.</p>",
            kept.len()
        );
    }
    signature_table(html, &input, &integration.name);
}

/// The explain engine's candidates, scheme by host spelling, beside the sent signature.
fn signature_table(html: &mut String, input: &ExplainInput, name: &str) {
    let explanation = explain_signature(input);
    let sent = input
        .sent
        .as_ref()
        .map(|s| match s {
            SentSignature::Hex(hex) | SentSignature::Authorization(hex) => hex.as_str(),
        })
        .unwrap_or_default();
    let _ = writeln!(
        html,
        "<p>Signed for <b>{}</b> (its skey: {} characters, not shown). The request's signature is <code class=\"hex\">{}</code>.</p>",
        esc(name),
        input.skey.chars().count(),
        esc(sent)
    );
    match &explanation.verdict {
        Verdict::NoMatch { reasons } => {
            if let Some((first, rest)) = reasons.split_first() {
                let _ = writeln!(
                    html,
                    "<p class=\"slip\"><b>Likeliest slip:</b> {}</p>",
                    esc(first)
                );
                if !rest.is_empty() {
                    html.push_str("<ul class=\"reasons\">");
                    for reason in rest {
                        let _ = write!(html, "<li>{}</li>", esc(reason));
                    }
                    html.push_str("</ul>\n");
                }
            }
        }
        Verdict::Match { scheme, notes, .. } => {
            let _ = writeln!(html, "<p class=\"slip\">It matches <b>{}</b>.</p>", scheme.name());
            for note in notes {
                let _ = writeln!(html, "<p class=\"meta\">{}</p>", esc(note));
            }
        }
        Verdict::NotCompared => {}
    }
    for note in &explanation.notes {
        let _ = writeln!(html, "<p class=\"meta\">Note: {}</p>", esc(note));
    }
    html.push_str("<div class=\"scroll\"><table class=\"canonical\"><thead><tr><th>Version</th>");
    for host in &explanation.hosts {
        let roles: Vec<String> = host.roles.iter().map(ToString::to_string).collect();
        let _ = write!(
            html,
            "<th>Host <code>{}</code><br><small>{}</small></th>",
            esc(&host.host),
            esc(&roles.join("; "))
        );
    }
    html.push_str("</tr></thead><tbody>\n");
    for candidate in &explanation.candidates {
        let _ = write!(html, "<tr><th>{}</th>", candidate.scheme.name());
        for signed in &candidate.per_host {
            let class = if signed.matches { " class=\"match\"" } else { "" };
            let _ = write!(
                html,
                "<td{class}><pre class=\"canonical\">{}</pre><div class=\"needs\">needs <code class=\"hex\" title=\"{}\">{}…</code>{}</div></td>",
                esc(&signed.canonical),
                signed.signature,
                signed.signature.get(..16).unwrap_or(&signed.signature),
                if signed.matches { " = the request's" } else { "" }
            );
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody></table></div>\n");
}

/// The grant the route at `method` and `path` needs, from the table of routes.
fn required_grant(method: &str, path: &str) -> Option<Grant> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    ROUTES
        .iter()
        .find(|route| {
            let pattern: Vec<&str> = route.path.trim_matches('/').split('/').collect();
            route.method.eq_ignore_ascii_case(method)
                && pattern.len() == segments.len()
                && pattern
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p == s || (p.starts_with('{') && !s.is_empty()))
        })
        .and_then(|route| route.grant)
}

fn forbidden(html: &mut String, view: &RequestView, world: &World) {
    let Some(integration) = integration(view, world) else {
        html.push_str("<p>Duo's 403 40301 (Access forbidden), to a caller the journal does not name.</p>\n");
        return;
    };
    let name = esc(&integration.name);
    let accounts_path = crate::auth::is_accounts_path(&view.entry.path);
    if accounts_path && integration.kind != IntegrationKind::AccountsApi {
        let _ = writeln!(
            html,
            "<p class=\"headline\"><b>{name}</b> is not an Accounts API application (403 40301).</p>"
        );
        return;
    }
    if integration.kind == IntegrationKind::AccountsApi && !accounts_path {
        let params = crate::params::Params::parse(view.entry.query.as_bytes());
        let child = params
            .first("account_id")
            .and_then(|id| std::str::from_utf8(id).ok())
            .filter(|id| world.account(id).is_some());
        if child.is_none() {
            let _ = writeln!(
                html,
                "<p class=\"headline\"><b>{name}</b> holds Accounts API keys: on an Admin API path they read the child account named in <code>account_id</code>, and this request's query named no child of this account (403 40301).</p>"
            );
            return;
        }
    } else if integration.kind != IntegrationKind::AdminApi && !accounts_path {
        let _ = writeln!(
            html,
            "<p class=\"headline\"><b>{name}</b> is not an Admin API application (403 40301).</p>"
        );
        return;
    }
    if !integration.networks.is_empty() {
        let peer = client_address(view, world);
        let outside = peer.is_none_or(|ip| !integration.networks.iter().any(|n| n.contains(ip)));
        if outside {
            let networks: Vec<String> = integration.networks.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                html,
                "<p class=\"headline\">The client's address <code>{}</code> is outside <b>{name}</b>'s Networks for API Access: <code>{}</code> (403 40301).</p>",
                peer.map_or_else(|| "(unknown)".to_owned(), |ip| ip.to_string()),
                networks.join(", ")
            );
            return;
        }
    }
    let held: Vec<&str> = integration.grants.names();
    match required_grant(&view.entry.method, &view.entry.path) {
        Some(grant) => {
            let _ = writeln!(
                html,
                "<p class=\"headline\"><b>{name}</b> lacks <b>{}</b>, which <code>{} {}</code> needs (403 40301; Duo's answer names nothing).</p>",
                grant.name(),
                esc(&view.entry.method),
                esc(&view.entry.path)
            );
        }
        None => {
            let _ = writeln!(
                html,
                "<p class=\"headline\"><b>{name}</b> lacks the grant this route needs (403 40301; Duo's answer names nothing).</p>"
            );
        }
    }
    let _ = writeln!(
        html,
        "<p>It holds: {}.</p>",
        if held.is_empty() {
            "no grant at all".to_owned()
        } else {
            held.join(", ")
        }
    );
}

/// The address Networks for API Access judged: the peer, or the first `X-Forwarded-For` entry
/// when the scenario trusts it.
fn client_address(view: &RequestView, world: &World) -> Option<IpAddr> {
    let forwarded = world
        .options()
        .trust_forwarded_for
        .then(|| view.request_header("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.split(',').next())
        .and_then(|first| first.trim().parse::<IpAddr>().ok());
    forwarded.or_else(|| {
        view.entry
            .peer
            .as_deref()
            .and_then(|p| p.parse::<SocketAddr>().ok())
            .map(|a| a.ip())
    })
}

fn rate_limited(html: &mut String, view: &RequestView, world: &World) {
    let class = EndpointClass::of(&view.entry.method, &view.entry.path, &view.entry.query);
    let _ = writeln!(
        html,
        "<p class=\"headline\">Over the rate limit: the bucket of {} for {:?} calls was empty (429 42901; Duo sends no Retry-After).</p>",
        esc(view.entry.integration.as_deref().unwrap_or("the account")),
        class
    );
    for bucket in world.rate_limiter.buckets() {
        if bucket.class == class || bucket.class == EndpointClass::Total {
            let _ = writeln!(
                html,
                "<p>Now: {:.1} of {:.0} calls left for {} ({} a minute).</p>",
                bucket.tokens,
                bucket.capacity,
                esc(if bucket.owner.is_empty() {
                    "the account"
                } else {
                    &bucket.owner
                }),
                bucket.per_minute
            );
        }
    }
}

fn fault(html: &mut String, name: &str, world: &World) {
    let counts = world.faults.counts();
    let Some(count) = counts.iter().find(|c| c.name == name) else {
        let _ = writeln!(
            html,
            "<p class=\"headline\">The fault rule <b>{}</b> answered; the scenario served now has no rule of that name (it was reset or another was loaded).</p>",
            esc(name)
        );
        return;
    };
    let _ = writeln!(
        html,
        "<p class=\"headline\">The scenario's fault rule <b>{}</b> answered instead of Duo: {}.</p>",
        esc(name),
        esc(&action(count))
    );
    html.push_str("<table class=\"fields\">");
    for (field, value) in filters(count) {
        let _ = write!(
            html,
            "<tr><th>{field}</th><td><code>{}</code></td></tr>",
            esc(&value)
        );
    }
    let _ = writeln!(
        html,
        "<tr><th>Counters</th><td>matched {} calls, answered {}</td></tr></table>",
        count.calls_seen, count.fired
    );
}

/// A rule's filters as the scenario wrote them: which calls it applies to.
pub(super) fn filters(count: &RuleCount<'_>) -> Vec<(&'static str, String)> {
    let rule = count.rule;
    let mut rows = vec![("path", rule.path.clone())];
    let optional = [
        ("method", rule.method.clone()),
        ("integration", rule.integration.clone()),
        ("query", rule.query_text()),
        ("calls", rule.calls.map(|calls| calls.to_string())),
        ("page", rule.page.map(|page| page.to_string())),
        (
            "count_per",
            (rule.counted_per() != crate::faults::CountPer::Server)
                .then(|| rule.counted_per().name().to_owned()),
        ),
        ("after_s", rule.after_s.map(|s| s.to_string())),
        ("until_s", rule.until_s.map(|s| s.to_string())),
        ("probability", rule.probability.map(|p| p.to_string())),
    ];
    rows.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    rows
}

/// What a rule answers with, in a few words.
pub(super) fn action(count: &RuleCount<'_>) -> String {
    let rule = count.rule;
    let mut parts = Vec::new();
    if let Some(ms) = rule.delay_ms {
        parts.push(format!("waits {ms} ms"));
    }
    if let Some(code) = rule.duo_error {
        parts.push(format!("Duo's error {code}"));
    }
    if let Some(seconds) = rule.retry_after_s {
        parts.push(format!("Retry-After {seconds} s"));
    }
    if let Some(profile) = &rule.intermediary {
        parts.push(format!("an intermediary's page ({profile:?})"));
    }
    if let Some(status) = rule.status {
        parts.push(format!("status {status}"));
    }
    if let Some(malformed) = &rule.malformed {
        parts.push(format!("a malformed answer ({malformed:?})"));
    }
    if !rule.drift.is_empty() {
        parts.push(format!("drift {:?}", rule.drift));
    }
    if let Some(network) = rule.network {
        parts.push(format!("a network fault ({})", network.name()));
    }
    if let Some(rewrite) = rule.rewrite_date {
        parts.push(format!("the date rewritten ({rewrite:?})"));
    }
    if parts.is_empty() {
        "the real answer".to_owned()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_s_grant_comes_from_the_table_of_routes() {
        assert_eq!(
            required_grant("GET", "/admin/v1/admins"),
            Some(Grant::Administrators)
        );
        assert_eq!(
            required_grant("GET", "/admin/v2/groups/DG123/users"),
            Some(Grant::ReadResource)
        );
        assert_eq!(required_grant("GET", "/admin/v1/nothing"), None);
    }
}
