//! The control API: token and loopback guard, journal, clock, reset, load, dump.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use mock_server::Scenario;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::support::{TestServer, dump, spawn};

const USERS: &str = "/admin/v1/users";

pub(crate) async fn control(s: &TestServer, method: &str, route: &str, body: Option<String>) -> (u16, Value) {
    let info = s.server.info();
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = s
        .http
        .request(method, format!("{}{route}", info.control_url))
        .header("X-Duo-Mock-Token", &info.control_token);
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.expect("control request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn burst() -> Scenario {
    Scenario::builder()
        .users(3)
        .toml("[[faults]]\npath = \"/admin/v1/users\"\ncalls = [1, 2]\nduo_error = 42901\n")
        .build()
        .expect("builds")
}

#[tokio::test]
async fn the_token_is_required() {
    let s = spawn(&burst()).await;
    let url = format!("{}/health", s.server.info().control_url);
    assert_eq!(s.http.get(&url).send().await.expect("request").status(), 401);
    let wrong = s
        .http
        .get(&url)
        .header("X-Duo-Mock-Token", "nope")
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        control(&s, "GET", "/health", None).await,
        (200, json!({"status": "ok"}))
    );
    assert!(s.server.info().control_url.ends_with("/__duo-mock"));
    assert_eq!(s.server.info().control_token.len(), 32);
}

#[tokio::test]
async fn non_loopback_peers_are_refused() {
    let state = mock_server::AppState::from_scenario(&burst()).expect("state");
    let token = state.control_token().to_owned();
    let app = mock_server::app(state);
    let request = |peer: [u8; 4]| {
        let mut r = axum::http::Request::get("/__duo-mock/health")
            .header("X-Duo-Mock-Token", &token)
            .body(axum::body::Body::empty())
            .expect("request");
        r.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from((peer, 5000))));
        r
    };
    assert_eq!(
        app.clone()
            .oneshot(request([10, 0, 0, 7]))
            .await
            .expect("answer")
            .status(),
        403
    );
    assert_eq!(
        app.oneshot(request([127, 0, 0, 1]))
            .await
            .expect("answer")
            .status(),
        200
    );
}

#[tokio::test]
async fn a_loopback_peer_seen_through_a_dual_stack_socket_is_loopback() {
    let state = mock_server::AppState::from_scenario(&burst()).expect("state");
    let token = state.control_token().to_owned();
    let app = mock_server::app(state);
    let request = |peer: std::net::IpAddr| {
        let mut r = axum::http::Request::get("/__duo-mock/health")
            .header("X-Duo-Mock-Token", &token)
            .body(axum::body::Body::empty())
            .expect("request");
        r.extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(peer, 5000)));
        r
    };
    // A server bound to [::] sees IPv4 clients as ::ffff:a.b.c.d.
    let mapped_loopback = std::net::Ipv4Addr::LOCALHOST.to_ipv6_mapped().into();
    let mapped_remote = std::net::Ipv4Addr::new(10, 0, 0, 7).to_ipv6_mapped().into();
    assert_eq!(
        app.clone()
            .oneshot(request(mapped_loopback))
            .await
            .expect("answer")
            .status(),
        200
    );
    assert_eq!(
        app.oneshot(request(mapped_remote))
            .await
            .expect("answer")
            .status(),
        403
    );
}

#[tokio::test]
async fn the_journal_can_be_read_from_a_point_and_cleared() {
    let s = spawn(&burst()).await;
    s.get(USERS, "limit=1").await;
    s.get(USERS, "limit=2").await;
    s.get(USERS, "limit=3").await.ok();
    let (status, all) = control(&s, "GET", "/journal", None).await;
    assert_eq!(status, 200);
    let entries = all["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3, "control requests are not journaled");
    assert_eq!(entries[0]["status"], 429);
    assert_eq!(entries[2]["query"], "limit=3");
    let (_, later) = control(&s, "GET", "/journal?after=2", None).await;
    assert_eq!(later["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(control(&s, "DELETE", "/journal", None).await.0, 204);
    assert_eq!(
        control(&s, "GET", "/journal", None).await.1,
        json!({"entries": []})
    );
}

#[tokio::test]
async fn the_clock_can_be_set_at_run_time() {
    let s = spawn(&Scenario::builder().users(1).build().expect("builds")).await;
    let (_, set) = control(&s, "PUT", "/clock", Some(r#"{"offset_s": -900}"#.to_owned())).await;
    assert_eq!(set["offset_s"], -900);
    s.get(USERS, "").await.assert_fail(40105, "Bad request timestamp");
    control(&s, "PUT", "/clock", Some(r#"{"offset_s": 0}"#.to_owned())).await;
    s.get(USERS, "").await.ok();
    let (_, clock) = control(&s, "GET", "/clock", None).await;
    assert!((clock["server_time"].as_i64().expect("time") - crate::support::now()).abs() <= 2);
}

#[tokio::test]
async fn reset_starts_fault_counters_over_and_load_serves_another_scenario() {
    let s = spawn(&burst()).await;
    for expected in [429, 429, 200] {
        assert_eq!(s.get(USERS, "").await.status, expected);
    }
    assert_eq!(control(&s, "POST", "/reset", None).await.1["status"], "ok");
    assert_eq!(s.get(USERS, "").await.status, 429, "the burst starts over");

    let other = Scenario::builder().users(7).admins(1).to_toml();
    let (status, loaded) = control(&s, "POST", "/load", Some(other.clone())).await;
    assert_eq!((status, loaded["users"].as_u64()), (200, Some(7)));
    assert_eq!(s.get(USERS, "").await.ok().as_array().map(Vec::len), Some(7));
    let (_, dumped) = control(&s, "GET", "/dump", None).await;
    let expected = dump(&Scenario::parse(&other, "x").expect("parses"));
    assert_eq!(dumped["users"], expected["users"]);
    assert_eq!(dumped["integrations"][0]["name"], "main");

    let (status, refused) = control(&s, "POST", "/load", Some("[tenant]\nseed = \"x\"\n".to_owned())).await;
    assert_eq!(status, 400);
    // Every mistake, one a line in file order, as `duo-mock validate` prints them.
    let lines: Vec<&str> = refused["error"].as_str().expect("error").lines().collect();
    assert_eq!(lines.len(), 2, "{refused}");
    assert!(
        lines[0].starts_with("<control>:1:1: missing field `api_hostname`"),
        "{refused}"
    );
    assert!(
        lines[1].starts_with("<control>:2:8: invalid type: string \"x\""),
        "{refused}"
    );
    assert_eq!(
        s.get(USERS, "").await.ok().as_array().map(Vec::len),
        Some(7),
        "a bad load changes nothing"
    );
}

#[tokio::test]
async fn every_route_refuses_a_missing_or_near_miss_token_and_changes_nothing() {
    let s = spawn(&burst()).await;
    s.get(USERS, "").await;
    let info = s.server.info();
    let token = info.control_token.clone();
    let mut near_misses = vec![
        None,
        Some(String::new()),
        Some(token[..31].to_owned()),
        Some(format!("{token}x")),
        Some(token.to_uppercase()),
    ];
    let mut flipped = token.clone().into_bytes();
    flipped[31] = if flipped[31] == b'a' { b'b' } else { b'a' };
    near_misses.push(Some(String::from_utf8(flipped).expect("ASCII")));
    let other = Scenario::builder().users(9).to_toml();
    let routes: [(&str, &str, Option<&str>); 8] = [
        ("GET", "/health", None),
        ("GET", "/journal", None),
        ("DELETE", "/journal", None),
        ("POST", "/reset", None),
        ("POST", "/load", Some(&other)),
        ("GET", "/clock", None),
        ("PUT", "/clock", Some(r#"{"offset_s": 999}"#)),
        ("GET", "/dump", None),
    ];
    for (method, route, body) in routes {
        for sent in &near_misses {
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let mut request = s
                .http
                .request(method.clone(), format!("{}{route}", info.control_url));
            if let Some(sent) = sent {
                request = request.header("X-Duo-Mock-Token", sent);
            }
            if let Some(body) = body {
                request = request.body(body.to_owned());
            }
            let response = request.send().await.expect("control request");
            assert_eq!(response.status(), 401, "{method} {route} with {sent:?}");
            let refusal: Value = response.json().await.expect("JSON refusal");
            assert!(refusal["error"].is_string(), "{refusal}");
        }
        // The token in the query string is not the header.
        let in_query = s
            .http
            .get(format!(
                "{}{route}?token={token}&x-duo-mock-token={token}",
                info.control_url
            ))
            .send()
            .await
            .expect("control request");
        assert_eq!(in_query.status(), 401, "{route} with the token in the query");
    }
    // Nothing was done: the journal still holds the request, the clock and the tenant are as
    // they were, and the fault counters did not start over.
    let (_, journal) = control(&s, "GET", "/journal", None).await;
    assert_eq!(journal["entries"].as_array().map(Vec::len), Some(1));
    assert_eq!(control(&s, "GET", "/clock", None).await.1["offset_s"], 0);
    assert_eq!(s.get(USERS, "").await.status, 429, "the burst's second call");
    assert_eq!(s.get(USERS, "").await.ok().as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn forwarded_headers_cannot_make_a_remote_peer_local() {
    // Even a scenario that trusts X-Forwarded-For for Networks for API Access.
    let scenario = Scenario::builder()
        .users(1)
        .toml("[options]\ntrust_forwarded_for = true\n")
        .build()
        .expect("builds");
    let state = mock_server::AppState::from_scenario(&scenario).expect("state");
    let token = state.control_token().to_owned();
    let app = mock_server::app(state);
    let request = |peer: Option<SocketAddr>| {
        let mut r = axum::http::Request::get("/__duo-mock/health")
            .header("X-Duo-Mock-Token", &token)
            .header("X-Forwarded-For", "127.0.0.1")
            .header("Forwarded", "for=127.0.0.1")
            .header("X-Real-IP", "127.0.0.1")
            .body(axum::body::Body::empty())
            .expect("request");
        if let Some(peer) = peer {
            r.extensions_mut().insert(ConnectInfo(peer));
        }
        r
    };
    let status = |peer| {
        let app = app.clone();
        async move { app.oneshot(request(peer)).await.expect("answer").status() }
    };
    assert_eq!(
        status(Some(SocketAddr::from(([192, 168, 1, 20], 5000)))).await,
        403
    );
    assert_eq!(status(None).await, 403, "no peer address: not known to be local");
    assert_eq!(
        status(Some(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 5000)))).await,
        200,
        "::1 is loopback"
    );
}

#[tokio::test]
async fn an_unknown_control_route_is_the_control_apis_404_neither_faulted_nor_journaled() {
    // Every request of this tenant meets a WAF page on its first call.
    let scenario = Scenario::builder()
        .users(2)
        .toml("[[faults]]\nname = \"waf\"\npath = \"*\"\ncalls = [1, 1]\nintermediary = \"cloudflare-403\"\n")
        .build()
        .expect("builds");
    let s = spawn(&scenario).await;
    for (method, route) in [
        ("GET", "/nope"),
        ("POST", "/journal/extra"),
        ("GET", "/"),
        ("GET", ""),
    ] {
        let (status, answer) = control(&s, method, route, None).await;
        assert_eq!(status, 404, "{method} {route}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|e| e.contains("no control route")),
            "{method} {route}: {answer}"
        );
    }
    let (status, answer) = control(&s, "PUT", "/reset", None).await;
    assert_eq!(status, 405, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
    // Without the token an unknown route is refused like a known one, in the same JSON.
    let bare = s
        .http
        .get(format!("{}/nope", s.server.info().control_url))
        .send()
        .await
        .expect("request");
    assert_eq!(bare.status(), 401);
    // Nothing above was journaled or counted by the fault rule: the first API call meets it.
    assert!(s.server.state().journal().entries().is_empty());
    assert_eq!(s.get(USERS, "").await.status, 403, "the WAF's first call");
    assert_eq!(s.get(USERS, "").await.status, 200);
    assert_eq!(s.server.state().journal().entries().len(), 2);
}

#[tokio::test]
async fn reset_returns_to_the_scenario_served_and_to_start_when_asked() {
    let start = Scenario::builder().users(3).to_toml();
    let s = spawn(&Scenario::parse(&start, "start.toml").expect("parses")).await;
    let loaded = Scenario::builder().users(7).to_toml();
    assert_eq!(control(&s, "POST", "/load", Some(loaded)).await.0, 200);
    // Change the loaded tenant, so that a reset has something to undo.
    assert_eq!(
        control(&s, "PUT", "/clock", Some(r#"{"offset_s": 5}"#.to_owned()))
            .await
            .0,
        200
    );

    let (status, reset) = control(&s, "POST", "/reset", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (reset["users"].as_u64(), reset["scenario"].as_str()),
        (Some(7), Some("<control>")),
        "a reset returns to the scenario being served, the last one loaded: {reset}"
    );
    assert_eq!(s.get(USERS, "").await.ok().as_array().map(Vec::len), Some(7));
    assert_eq!(control(&s, "GET", "/clock", None).await.1["offset_s"], 0);

    let (status, back) = control(&s, "POST", "/reset?to=start", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        (back["users"].as_u64(), back["scenario"].as_str()),
        (Some(3), Some("start.toml")),
        "{back}"
    );
    assert_eq!(s.get(USERS, "").await.ok().as_array().map(Vec::len), Some(3));
    // And from then on a plain reset keeps the start scenario.
    assert_eq!(control(&s, "POST", "/reset", None).await.1["users"], 3);
    let (status, refused) = control(&s, "POST", "/reset?to=yesterday", None).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused["error"].as_str().is_some_and(|e| e.contains("start")));
}
