//! The dashboard: pages a person opens in a browser to see what a running fake was asked and
//! answered, the tenant it serves and its scenario, under `/__duo-mock/dashboard`. Everything is
//! served from the binary (HTML rendered here, one stylesheet and one script embedded): it works
//! offline, and a page loads nothing from anywhere else (its Content Security Policy says so).
//!
//! Who may see it: loopback clients only, like the control API, and only with the control token.
//! A browser cannot send `X-Duo-Mock-Token`, so the ready file's `dashboard_url` carries the token
//! once (`/__duo-mock/dashboard?token=…`); that request is answered with an HttpOnly,
//! SameSite=Strict cookie and a redirect to the requests page, which takes the token out of the
//! address bar and the history. Without the token or the cookie every dashboard route is 403. A
//! request that changes something (every `POST`) also needs to come from the dashboard's own
//! pages: its `Origin` must be this server, and `Sec-Fetch-Site`, when sent, `same-origin`.
//!
//! | Route | Page |
//! |---|---|
//! | `GET /dashboard?token=T` | trades the token for the cookie, then redirects to the requests |
//! | `GET /dashboard/requests` | the journal, newest first, filtered, live ([`requests`]) |
//! | `GET /dashboard/requests/{seq}` | one request, its answer, and why ([`why`]) |
//! | `GET /dashboard/tenant` | users, admins, groups, members, summary, settings ([`tenant`]) |
//! | `GET /dashboard/scenario` | options, integrations, faults, churn, changes, buckets, clock ([`scenario`]) |
//! | `POST /dashboard/scenario/{reset,clock,load}` | the scenario page's buttons |
//! | `POST /dashboard/api/skey` | an integration's skey, for the reveal button |
//! | `GET /dashboard/api/requests?after=N` | rows newer than N, for the live requests page |

mod journal_view;
mod requests;
mod scenario;
mod tenant;
mod why;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};

use crate::control::{PREFIX, constant_time_eq, from_loopback};
use crate::state::{AppState, random_token};

/// Where the dashboard sits under the control prefix.
pub const PATH: &str = "/dashboard";
/// The dashboard's full path, for links and redirects.
const BASE: &str = "/__duo-mock/dashboard";

const CSS: &str = include_str!("assets/dashboard.css");
const SCRIPT: &str = include_str!("assets/dashboard.js");
/// The pages' icon: without one a browser asks the origin's `/favicon.ico`, an API path that the
/// journal would record among a connector's requests.
const ICON: &str = include_str!("assets/icon.svg");

/// What a page may load: its own stylesheet, script and requests, nothing inline, nothing else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The dashboard's `dashboard_url` for a server at `base_url`: the entry, with the token.
pub fn url(base_url: &str, token: &str) -> String {
    format!("{base_url}{PREFIX}{PATH}?token={token}")
}

/// The browser session of one server: a cookie of its own name (two fakes on one host keep
/// their cookies apart, as cookies ignore ports) and a secret that is not the token.
#[derive(Debug)]
struct Session {
    cookie: String,
    secret: String,
}

/// The dashboard's routes, behind their guard.
pub fn routes(state: AppState) -> Router<AppState> {
    let name = random_token();
    let session = Arc::new(Session {
        cookie: format!("duo_mock_dashboard_{}", &name[..8]),
        secret: random_token(),
    });
    let bundled = Arc::new(scenario::Bundled::beside(&state.world().scenario.base_dir));
    Router::new()
        .route("/", get(enter))
        .route("/requests", get(requests::page))
        .route("/requests/{seq}", get(requests::one))
        .route("/api/requests", get(requests::poll))
        .route("/tenant", get(tenant::page))
        .route("/scenario", get(scenario::page))
        .route("/scenario/reset", post(scenario::reset))
        .route("/scenario/clock", post(scenario::set_clock))
        .route("/scenario/load", post(scenario::load))
        .route("/api/skey", post(scenario::reveal_skey))
        .route("/assets/dashboard.css", get(stylesheet))
        .route("/assets/dashboard.js", get(script))
        .route("/assets/icon.svg", get(icon))
        // A route, not a fallback: nested twice (control prefix, dashboard), a fallback would
        // give way to the API's own 404, outside the guard.
        .route("/{*rest}", any(not_found))
        .layer(axum::Extension(bundled))
        .layer(from_fn_with_state((state, session), guard))
}

fn forbidden(why: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("403 Forbidden: {why}\n"),
    )
        .into_response()
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

/// The `token` parameter of the entry's query.
fn token_in(request: &Request) -> Option<String> {
    let query = request.uri().query()?;
    duo_auth::params::parse_urlencoded(query.as_bytes())
        .into_iter()
        .find(|(k, _)| k == b"token")
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
}

/// Whether a state-changing request comes from this server's own pages: its `Origin` is this
/// host (a browser sends it with every POST), and `Sec-Fetch-Site`, when sent, says so too.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let site_ok = headers
        .get("sec-fetch-site")
        .is_none_or(|v| v.as_bytes() == b"same-origin");
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        });
    site_ok && origin_ok
}

/// Loopback, then the token (traded for the cookie) or the cookie, then, for a POST, the origin.
async fn guard(
    State((state, session)): State<(AppState, Arc<Session>)>,
    request: Request,
    next: Next,
) -> Response {
    if !from_loopback(&request) {
        return forbidden("the dashboard answers loopback clients only");
    }
    let entry = matches!(request.uri().path(), "" | "/");
    if entry && let Some(token) = token_in(&request) {
        if !constant_time_eq(token.as_bytes(), state.control_token().as_bytes()) {
            return forbidden("wrong token: open the dashboard_url of the ready file");
        }
        let cookie = format!(
            "{}={}; Path={BASE}; HttpOnly; SameSite=Strict",
            session.cookie, session.secret
        );
        let mut response = see_other(&format!("{BASE}/requests"));
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        return secured(response);
    }
    let signed_in = cookie(request.headers(), &session.cookie)
        .is_some_and(|value| constant_time_eq(value.as_bytes(), session.secret.as_bytes()));
    if !signed_in {
        return forbidden(
            "open the dashboard_url of the ready file (or the start-up banner): it carries the token once",
        );
    }
    if request.method() == axum::http::Method::POST && !same_origin(request.headers()) {
        return forbidden("a change must come from the dashboard's own pages (Origin and Sec-Fetch-Site)");
    }
    secured(next.run(request).await)
}

/// Adds the headers every dashboard answer carries: its policy, no framing, no caching, and a
/// referrer for this server only (the entry's address holds the token; `no-referrer` would also
/// make a browser send `Origin: null` with the pages' own forms).
fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

async fn enter() -> Response {
    see_other(&format!("{BASE}/requests"))
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        layout(
            "Not found",
            Nav::None,
            "<h1>Not found</h1><p>No such dashboard page.</p>",
        ),
    )
        .into_response()
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

async fn icon() -> Response {
    ([(header::CONTENT_TYPE, "image/svg+xml")], ICON).into_response()
}

async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], SCRIPT).into_response()
}

/// Which page of the navigation is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nav {
    Requests,
    Tenant,
    Scenario,
    None,
}

impl Nav {
    fn name(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::Tenant => "tenant",
            Self::Scenario => "scenario",
            Self::None => "none",
        }
    }
}

/// A whole page: the head (stylesheet and script from the binary), the navigation, `body`.
fn layout(title: &str, nav: Nav, body: &str) -> axum::response::Html<String> {
    let mut html = String::with_capacity(body.len() + 1024);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} · duo-mock</title>\n<link rel=\"stylesheet\" href=\"{BASE}/assets/dashboard.css\">\n\
         <link rel=\"icon\" href=\"{BASE}/assets/icon.svg\" type=\"image/svg+xml\">\n\
         <script src=\"{BASE}/assets/dashboard.js\" defer></script>\n</head>\n<body data-page=\"{}\">\n<header><span class=\"brand\">duo-mock</span><nav>",
        esc(title),
        nav.name()
    );
    for (item, label) in [
        (Nav::Requests, "Requests"),
        (Nav::Tenant, "Tenant"),
        (Nav::Scenario, "Scenario"),
    ] {
        let current = if item == nav { " aria-current=\"page\"" } else { "" };
        let _ = write!(html, "<a href=\"{BASE}/{}\"{current}>{label}</a>", item.name());
    }
    let _ = write!(
        html,
        "</nav></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    );
    axum::response::Html(html)
}

/// Text made safe inside HTML elements and quoted attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query string's value, percent-encoded for a link.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The pairs of a form body.
fn form(body: &[u8]) -> Vec<(String, String)> {
    duo_auth::params::parse_urlencoded(body)
        .into_iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(&k).into_owned(),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_base_is_under_the_control_prefix() {
        assert_eq!(BASE, format!("{PREFIX}{PATH}"));
        assert_eq!(
            url("http://127.0.0.1:8080", "abc"),
            "http://127.0.0.1:8080/__duo-mock/dashboard?token=abc"
        );
    }

    #[test]
    fn cookies_are_found_by_name_among_others() {
        let map = headers(&[("cookie", "a=1; duo_x=secret"), ("cookie", "b=2")]);
        assert_eq!(cookie(&map, "duo_x"), Some("secret"));
        assert_eq!(cookie(&map, "b"), Some("2"));
        assert_eq!(cookie(&map, "duo"), None);
    }

    #[test]
    fn a_change_needs_this_origin() {
        let host = ("host", "127.0.0.1:4000");
        assert!(same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:4000")
        ])));
        assert!(same_origin(&headers(&[
            host,
            ("origin", "https://127.0.0.1:4000"),
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!same_origin(&headers(&[host])), "no Origin");
        assert!(!same_origin(&headers(&[host, ("origin", "http://evil.test")])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:4001")
        ])));
        assert!(!same_origin(&headers(&[
            host,
            ("origin", "http://127.0.0.1:4000"),
            ("sec-fetch-site", "cross-site")
        ])));
    }

    #[test]
    fn text_is_escaped_and_encoded() {
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        assert_eq!(encode("a b/é"), "a%20b%2F%C3%A9");
    }
}
