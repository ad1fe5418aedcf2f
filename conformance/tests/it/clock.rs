//! The two ways CONTRACT.md gives a connector to learn Duo's clock for `clock_offset_s` hold
//! against the fake of the clock-skew cases: the `Date` header of Duo's 401 40105, and the time
//! of the unsigned `GET /auth/v2/ping`. Both must show the scenario's offset.

use std::time::{SystemTime, UNIX_EPOCH};

use duo_auth::{Scheme, SignedParts, SigningKey};
use mock_server::{MockServer, Scenario, StartOptions, TlsMode};

use crate::catalogue;

/// How far the two readings may be from the expected offset: the request's own time, rounding.
const SLACK_S: i64 = 5;

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Duo's clock as the `Date` of its answer to a signed request, and as `/auth/v2/ping` says it.
async fn duo_clock_readings(scenario: &Scenario) -> (u16, Option<u32>, i64, i64) {
    let server = MockServer::start(
        scenario,
        StartOptions {
            tls: TlsMode::Generate,
            ..StartOptions::default()
        },
    )
    .await
    .expect("the fake starts");
    let ca = reqwest::Certificate::from_pem(server.ca_pem().expect("a CA").as_bytes()).expect("PEM");
    let http = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .no_proxy()
        .build()
        .expect("client");
    let host = format!("localhost:{}", server.info().port);
    let base = format!("https://{host}");

    let keys = &server.info().integrations[0];
    let date = duo_auth::date::format_date(now());
    let parts = SignedParts {
        date: &date,
        method: "GET",
        host: &host,
        path: "/admin/v1/users",
        params: &[],
        body: b"",
        duo_headers: &[],
    };
    let signature = duo_auth::sign(&SigningKey::new(keys.skey.as_bytes()), Scheme::V5, &parts);
    let refused = http
        .get(format!("{base}/admin/v1/users"))
        .header("Date", &date)
        .header(
            "Authorization",
            duo_auth::authorization_header(&keys.ikey, &signature),
        )
        .send()
        .await
        .expect("an answer");
    let status = refused.status().as_u16();
    let date_header = refused
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .and_then(duo_auth::date::parse_date)
        .expect("Duo's answer has a Date header");
    let body: serde_json::Value = refused.json().await.expect("Duo's JSON envelope");
    let code = body["code"].as_u64().and_then(|c| u32::try_from(c).ok());

    let ping: serde_json::Value = http
        .get(format!("{base}/auth/v2/ping"))
        .send()
        .await
        .expect("ping answers")
        .json()
        .await
        .expect("ping's JSON");
    let ping_time = ping["response"]["time"].as_i64().expect("ping's response.time");
    (status, code, date_header - now(), ping_time - now())
}

#[tokio::test]
async fn the_date_header_and_the_unsigned_ping_both_show_duos_clock() {
    let cases = catalogue();
    for id in ["auth-clock-skew-server-ahead", "auth-clock-skew-server-behind"] {
        let case = cases.iter().find(|c| c.id == id).expect("the case exists");
        let conformance::case::Expectation::Failure(expected) = &case.expect else {
            panic!("{id} expects a failure");
        };
        let (offset, _) = expected.clock_offset_s.expect("the case expects an offset");
        let scenario = Scenario::load(&case.scenario_path).expect("the scenario loads");
        let (status, code, by_date, by_ping) = duo_clock_readings(&scenario).await;
        assert_eq!(
            (status, code),
            (401, Some(40105)),
            "{id}: Duo's clock-skew answer"
        );
        assert!(
            (by_date - offset).abs() <= SLACK_S,
            "{id}: the Date header is {by_date:+} s from this clock, the case expects {offset:+}"
        );
        assert!(
            (by_ping - offset).abs() <= SLACK_S,
            "{id}: /auth/v2/ping's time is {by_ping:+} s from this clock, the case expects {offset:+}"
        );
    }
}
