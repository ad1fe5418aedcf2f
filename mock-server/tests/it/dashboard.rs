//! The dashboard over HTTP: the token traded for a cookie, every route closed without it, changes
//! only from this origin, and the pages' server side (journal filters and live rows, one request,
//! tenant search and paging, the scenario's buttons). The pages in a browser are tested by
//! mock-server/tests/browser (scripts/browser-tests.sh).

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use serde_json::Value;
use tower::ServiceExt as _;

use crate::support::{Call, TestServer, scenario, spawn};

/// A client that does not follow redirects, and the dashboard's base URL.
struct Browser {
    http: reqwest::Client,
    base: String,
    entry: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(s: &TestServer) -> Self {
        let entry = s.server.info().dashboard_url.clone();
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            base: entry.split('?').next().expect("a URL").to_owned(),
            entry,
            cookie: None,
        }
    }

    async fn sign_in(&mut self) -> reqwest::Response {
        let answer = self.http.get(&self.entry).send().await.expect("entry");
        let set = answer
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .expect("a cookie")
            .to_owned();
        self.cookie = set.split(';').next().map(str::to_owned);
        answer
    }

    fn request(&self, method: reqwest::Method, route: &str) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{route}", self.base));
        match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        }
    }

    async fn page(&self, route: &str) -> (u16, String) {
        let answer = self
            .request(reqwest::Method::GET, route)
            .send()
            .await
            .expect("page");
        (answer.status().as_u16(), answer.text().await.unwrap_or_default())
    }

    /// A form POST from the dashboard's own page.
    async fn post(&self, route: &str, form: &str) -> (u16, String) {
        let origin = self.base.split("/__").next().unwrap_or_default().to_owned();
        let answer = self
            .request(reqwest::Method::POST, route)
            .header("origin", origin)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .expect("post");
        (answer.status().as_u16(), answer.text().await.unwrap_or_default())
    }
}

#[tokio::test]
async fn the_token_is_traded_once_for_a_strict_http_only_cookie() {
    let s = spawn(&scenario("users-1.toml")).await;
    let info = s.server.info();
    assert_eq!(
        info.dashboard_url,
        format!(
            "{}/__duo-mock/dashboard?token={}",
            info.base_url, info.control_token
        )
    );
    assert!(
        !format!("{info:?}").contains(&info.control_token),
        "Debug hides it"
    );
    let mut browser = Browser::new(&s);
    let answer = browser.sign_in().await;
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        "/__duo-mock/dashboard/requests",
        "the address bar loses the token"
    );
    let cookie = answer.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.ends_with("; Path=/__duo-mock/dashboard; HttpOnly; SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains(&info.control_token),
        "the cookie is not the token"
    );
    assert_eq!(answer.headers()["referrer-policy"], "same-origin");
    let (status, page) = browser.page("/requests").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Requests</h1>"), "{page}");
    // Another start, another cookie: two fakes on one host keep theirs apart.
    let other = spawn(&scenario("users-1.toml")).await;
    let mut second = Browser::new(&other);
    second.sign_in().await;
    assert_ne!(
        browser.cookie.as_deref().and_then(|c| c.split('=').next()),
        second.cookie.as_deref().and_then(|c| c.split('=').next())
    );
}

#[tokio::test]
async fn every_route_is_403_without_the_token_or_the_cookie() {
    let s = spawn(&scenario("users-1.toml")).await;
    let mut browser = Browser::new(&s);
    for route in [
        "",
        "?token=wrong",
        "/requests",
        "/requests/1",
        "/api/requests?after=0",
        "/tenant",
        "/scenario",
        "/assets/dashboard.js",
        "/nothing/here",
    ] {
        let (status, text) = browser.page(route).await;
        assert_eq!(status, 403, "{route}: {text}");
        assert!(text.starts_with("403 Forbidden: "), "{text}");
    }
    let (status, _) = browser.post("/scenario/clock", "offset_s=5").await;
    assert_eq!(status, 403);
    browser.sign_in().await;
    let (status, text) = browser.page("/nothing/here").await;
    assert_eq!((status, text.contains("No such dashboard page")), (404, true));
    assert_eq!(s.server.state().clock_offset(), 0);
}

#[tokio::test]
async fn a_change_needs_the_cookie_and_this_origin() {
    let s = spawn(&scenario("users-1.toml")).await;
    let mut browser = Browser::new(&s);
    browser.sign_in().await;
    let cross = browser
        .request(reqwest::Method::POST, "/scenario/clock")
        .header("origin", "http://attacker.example")
        .body("offset_s=60")
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);
    let no_origin = browser
        .request(reqwest::Method::POST, "/scenario/clock")
        .body("offset_s=60")
        .send()
        .await
        .unwrap();
    assert_eq!(no_origin.status(), 403);
    assert_eq!(s.server.state().clock_offset(), 0, "nothing changed");
    assert_eq!(browser.post("/scenario/clock", "offset_s=60").await.0, 303);
    assert_eq!(s.server.state().clock_offset(), 60);
    assert_eq!(browser.post("/scenario/clock", "offset_s=soon").await.0, 400);
    assert_eq!(browser.post("/scenario/reset", "").await.0, 303);
    assert_eq!(s.server.state().clock_offset(), 0, "reset restores the clock");
    assert_eq!(
        browser.post("/scenario/load", "name=../Cargo.toml").await.0,
        400,
        "only the bundled files load"
    );
    let (status, skey) = browser.post("/api/skey", "integration=access-review").await;
    assert_eq!(status, 200);
    let skey: Value = serde_json::from_str(&skey).unwrap();
    assert_eq!(skey["skey"], s.server.info().integrations[0].skey);
}

#[tokio::test]
async fn non_loopback_clients_are_refused_even_with_the_token() {
    let state = mock_server::AppState::from_scenario(&scenario("users-1.toml")).expect("state");
    let entry = format!("/__duo-mock/dashboard?token={}", state.control_token());
    let app = mock_server::app(state);
    let request = |peer: [u8; 4]| {
        let mut r = axum::http::Request::get(entry.as_str())
            .body(axum::body::Body::empty())
            .expect("request");
        r.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((peer, 5000))));
        r
    };
    let far = app.clone().oneshot(request([192, 0, 2, 7])).await.unwrap();
    assert_eq!(far.status(), 403);
    let near = app.oneshot(request([127, 0, 0, 1])).await.unwrap();
    assert_eq!(near.status(), 303);
}

#[tokio::test]
async fn the_requests_pages_filter_follow_and_open_the_journal() {
    let s = spawn(&scenario("default.toml")).await;
    let mut browser = Browser::new(&s);
    browser.sign_in().await;
    s.send(Call::get("/admin/v1/users", "limit=5&offset=0"))
        .await
        .ok();
    s.send(Call::get("/admin/v1/admins", "").signed_by("no-admins"))
        .await
        .assert_fail(40301, "Access forbidden");
    let (_, page) = browser.page("/requests").await;
    assert!(page.contains("data-last=\"2\""), "{page}");
    assert_eq!(page.matches("<tr class=").count(), 2, "{page}");
    let (_, page) = browser.page("/requests?status=4xx").await;
    assert_eq!(page.matches("<tr class=\"st-4xx\"").count(), 1, "{page}");
    assert!(!page.contains("/admin/v1/users</a>"), "{page}");
    let (_, page) = browser
        .page("/requests?integration=access-review&path=users")
        .await;
    assert_eq!(page.matches("<tr class=").count(), 1, "{page}");

    // Live rows: only those after the newest the page shows.
    let (_, update) = browser.page("/api/requests?after=2").await;
    assert_eq!(serde_json::from_str::<Value>(&update).unwrap()["rows"], "");
    s.send(Call::get("/admin/v1/groups", "")).await.ok();
    let (_, update) = browser.page("/api/requests?after=2").await;
    let update: Value = serde_json::from_str(&update).unwrap();
    assert_eq!(update["last"], 3);
    let rows = update["rows"].as_str().unwrap();
    assert!(
        rows.contains("data-seq=\"3\"") && !rows.contains("data-seq=\"2\""),
        "{rows}"
    );

    // The 403, opened: the grant it lacks is named, with what it holds.
    let (status, page) = browser.page("/requests/2").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<b>no-admins</b> lacks <b>Grant administrators</b>, which <code>GET /admin/v1/admins</code> needs"),
        "{page}"
    );
    assert!(
        page.contains("It holds: Grant read information, Grant read resource."),
        "{page}"
    );
    assert_eq!(browser.page("/requests/99").await.0, 404);
    assert_eq!(browser.page("/requests/x").await.0, 404);
}

#[tokio::test]
async fn a_401_opens_to_the_canonical_strings_of_every_version_and_the_slip() {
    let s = spawn(&scenario("users-1.toml")).await;
    let mut browser = Browser::new(&s);
    browser.sign_in().await;
    let mut wrong = Call::get("/admin/v1/users", "limit=10&offset=0");
    wrong.skey = Some("WrongSecretKeyWrongSecretKeyWrongSecret0".into());
    s.send(wrong)
        .await
        .assert_fail(40103, "Invalid signature in request credentials");
    let (_, page) = browser.page("/requests/1").await;
    assert!(page.contains("Likeliest slip:"), "{page}");
    for version in ["v1-sha1", "v1-sha512", "v2-sha1", "v2-sha512", "v4", "v5"] {
        assert!(
            page.contains(&format!("<tr><th>{version}</th>")),
            "{version}: {page}"
        );
    }
    assert_eq!(
        page.matches("<pre class=\"canonical\">").count(),
        6 * 3,
        "three host spellings"
    );
    assert!(!page.contains("class=\"match\""), "a wrong skey matches nothing");
    let skey = &s.server.info().integrations[0].skey;
    assert!(!page.contains(skey.as_str()), "the skey is never on the page");
}

#[tokio::test]
async fn a_403_from_outside_the_allowed_networks_names_the_address() {
    let s = spawn(&scenario("catalogue/d07-networks-for-api-access.toml")).await;
    let mut browser = Browser::new(&s);
    browser.sign_in().await;
    s.send(Call::get("/admin/v1/users", ""))
        .await
        .assert_fail(40301, "Access forbidden");
    let (_, page) = browser.page("/requests/1").await;
    assert!(
        page.contains("The client's address <code>127.0.0.1</code> is outside <b>customer-connector</b>'s Networks for API Access: <code>203.0.113.0/24</code>"),
        "{page}"
    );
}

#[tokio::test]
async fn a_403_to_accounts_api_keys_says_which_account_they_failed_to_name() {
    let s = spawn(&scenario("msp.toml")).await;
    let mut browser = Browser::new(&s);
    browser.sign_in().await;
    s.send(Call::get("/admin/v1/users", "account_id=DA0THERMSPCUST000001").signed_by("msp-accounts"))
        .await
        .assert_fail(40301, "Access forbidden");
    s.send(Call {
        method: "POST",
        ..Call::get("/accounts/v1/account/list", "").signed_by("parent-admin")
    })
    .await
    .assert_fail(40102, "Invalid integration key in request credentials");
    let (_, page) = browser.page("/requests/1").await;
    assert!(
        page.contains("<b>msp-accounts</b> holds Accounts API keys: on an Admin API path they read the child account named in <code>account_id</code>"),
        "{page}"
    );
    let (_, page) = browser.page("/requests/2").await;
    assert!(
        page.contains("<b>parent-admin</b> is not an Accounts API application."),
        "{page}"
    );
}

#[tokio::test]
async fn the_tenant_page_searches_and_pages_on_the_server() {
    let default = scenario("default.toml");
    let s = spawn(&default).await;
    let mut browser = Browser::new(&s);
    browser.sign_in().await;
    let users = crate::support::dump(&default)["users"].clone();
    let wanted = &users[200];
    let name = wanted["realname"].as_str().unwrap().to_uppercase();
    let (_, page) = browser
        .page(&format!("/tenant?kind=users&q={}", name.replace(' ', "+")))
        .await;
    assert!(
        page.contains(&format!("<td>{}</td>", wanted["username"].as_str().unwrap())),
        "{page}"
    );
    assert!(page.contains("matching"), "{page}");
    let (_, page) = browser.page("/tenant?kind=users&offset=340&limit=50").await;
    assert!(page.contains("341 to 343 of 343"), "{page}");
    assert!(
        page.contains("rel=\"prev\"") && !page.contains("rel=\"next\""),
        "{page}"
    );
    let (_, page) = browser.page("/tenant?kind=summary").await;
    assert!(page.contains("user_count"), "{page}");
    // Every kind of device has its tab, listing the objects of its list.
    let truth = crate::support::dump(&default);
    for info in &mock_server::devices::KINDS {
        let first = &truth[info.key][0][info.id_field];
        let (_, page) = browser.page(&format!("/tenant?kind={}", info.key)).await;
        assert!(
            page.contains(&format!("<td>{}</td>", first.as_str().unwrap())),
            "{}: {page}",
            info.key
        );
        assert!(page.contains(&format!("kind={}\"", info.key)), "{page}");
    }
    let truth = crate::support::dump(&default);
    for (kind, list, id) in [
        ("integrations", "integration_objects", "integration_key"),
        ("admin_units", "admin_units", "admin_unit_id"),
        ("policies", "policies", "policy_key"),
    ] {
        let (_, page) = browser.page(&format!("/tenant?kind={kind}")).await;
        for object in truth[list].as_array().unwrap() {
            let id = object[id].as_str().unwrap();
            assert!(page.contains(&format!("<td>{id}</td>")), "{kind} {id}: {page}");
        }
    }
    let (_, page) = browser.page("/tenant?kind=policy_summary").await;
    assert!(page.contains("policy_applies_to"), "{page}");
    let (_, page) = browser.page("/tenant?kind=integrations").await;
    for integration in &default.integrations {
        assert!(
            !page.contains(&integration.skey),
            "the dashboard shows a secret key"
        );
    }
}

#[tokio::test]
async fn the_scenario_page_shows_counters_and_masks_keys() {
    let burst = mock_server::Scenario::builder()
        .users(3)
        .toml("[[faults]]\nname = \"burst\"\npath = \"/admin/v1/users\"\ncalls = [1, 1]\nduo_error = 42901\n")
        .build()
        .expect("builds");
    let s = spawn(&burst).await;
    assert_eq!(s.send(Call::get("/admin/v1/users", "")).await.status, 429);
    assert_eq!(s.send(Call::get("/admin/v1/users", "")).await.status, 200);
    let mut browser = Browser::new(&s);
    browser.sign_in().await;
    let (_, page) = browser.page("/scenario").await;
    assert!(
        page.contains("<td>burst</td><td><code>path = /admin/v1/users<br>calls = 1 to 1</code></td><td>Duo&#39;s error 42901</td><td class=\"num\">2</td><td class=\"num\">1</td>"),
        "{page}"
    );
    assert!(!page.contains(&s.server.info().integrations[0].skey), "masked");
    let (_, page) = browser.page("/requests/1").await;
    assert!(
        page.contains("fault rule <b>burst</b> answered instead of Duo"),
        "{page}"
    );
}
