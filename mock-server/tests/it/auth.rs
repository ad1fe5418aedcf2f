//! Signature verification end to end: each version, each way of being wrong, each failure code.

use duo_auth::{Digest, Scheme};
use mock_server::AppState;
use mock_server::auth;

use crate::support::{Call, V2_SHA1, V2_SHA512, date_at, now, scenario, scenario_text, spawn};

const USERS: &str = "/admin/v1/users";

#[tokio::test]
async fn every_supported_version_is_accepted() {
    let s = spawn(&scenario("users-1.toml")).await;
    for scheme in [Scheme::V5, V2_SHA1, V2_SHA512] {
        let answer = s.send(Call::get(USERS, "limit=10&offset=0").scheme(scheme)).await;
        assert_eq!(answer.ok().as_array().map(Vec::len), Some(1), "{scheme:?}");
        let upper = Call {
            upper_hex: true,
            ..Call::get(USERS, "limit=10&offset=0").scheme(scheme)
        };
        s.send(upper).await.ok();
    }
}

#[tokio::test]
async fn wrong_skey_and_tampered_params_are_invalid_signatures() {
    let s = spawn(&scenario("users-1.toml")).await;
    for scheme in [Scheme::V5, V2_SHA1, V2_SHA512] {
        let wrong = Call {
            skey: Some("x".repeat(40)),
            ..Call::get(USERS, "").scheme(scheme)
        };
        s.send(wrong)
            .await
            .assert_fail(40103, "Invalid signature in request credentials");
        // Signed limit=10, sent limit=11.
        let tampered = Call {
            signed_params: Some(vec![(b"limit".to_vec(), b"10".to_vec())]),
            ..Call::get(USERS, "limit=11").scheme(scheme)
        };
        s.send(tampered)
            .await
            .assert_fail(40103, "Invalid signature in request credentials");
    }
}

#[tokio::test]
async fn unknown_ikey_is_40102() {
    let s = spawn(&scenario("users-1.toml")).await;
    let call = Call {
        ikey: Some("DIXXXXXXXXXXXXXXXXXX".to_owned()),
        ..Call::get(USERS, "")
    };
    s.send(call)
        .await
        .assert_fail(40102, "Invalid integration key in request credentials");
}

#[tokio::test]
async fn missing_or_garbled_credentials_are_40101() {
    let s = spawn(&scenario("users-1.toml")).await;
    let answer = s.unsigned("GET", USERS).await;
    answer.assert_fail(40101, "Missing request credentials");
    for bad in [
        "Basic !!!not-base64!!!",
        "Bearer abc",
        "Basic ",
        "Basic Zm9vYmFy", /* no colon */
    ] {
        let call = Call {
            authorization: Some(bad.to_owned()),
            ..Call::get(USERS, "")
        };
        s.send(call)
            .await
            .assert_fail(40101, "Missing request credentials");
    }
}

#[tokio::test]
async fn missing_or_unparseable_date_is_40104() {
    let s = spawn(&scenario("users-1.toml")).await;
    let call = Call {
        no_date: true,
        ..Call::get(USERS, "")
    };
    s.send(call).await.assert_fail(40104, "Missing request timestamp");
    // A German-locale date, as a PowerShell client once sent (Duo answered 40104).
    let call = Call {
        date: Some("Mi, 14 Feb 2024 10:00:00 +0100".to_owned()),
        ..Call::get(USERS, "")
    };
    s.send(call).await.assert_fail(40104, "Missing request timestamp");
}

#[tokio::test]
async fn dates_outside_the_window_are_40105_both_ways() {
    let s = spawn(&scenario("users-1.toml")).await;
    for skew in [-400, 400] {
        let call = Call {
            date: Some(date_at(now() + skew)),
            ..Call::get(USERS, "")
        };
        s.send(call).await.assert_fail(40105, "Bad request timestamp");
    }
    for skew in [-240, 240] {
        let call = Call {
            date: Some(date_at(now() + skew)),
            ..Call::get(USERS, "")
        };
        s.send(call).await.ok();
    }
}

#[tokio::test]
async fn server_clock_offset_moves_the_window() {
    let s = spawn(&scenario("users-1.toml")).await;
    s.server.state().set_clock_offset(3600);
    s.get(USERS, "").await.assert_fail(40105, "Bad request timestamp");
    let call = Call {
        date: Some(date_at(now() + 3600)),
        ..Call::get(USERS, "")
    };
    s.send(call).await.ok();
}

#[tokio::test]
async fn every_client_date_format_is_accepted_as_sent() {
    let s = spawn(&scenario("users-1.toml")).await;
    let t = now();
    let python = date_at(t);
    let gmt = python.replace("-0000", "GMT");
    let plus = python.replace("-0000", "+0000");
    // Java with a JVM zone of UTC-4: same instant, local wall time.
    let shifted = date_at(t - 4 * 3600).replace("-0000", "-0400");
    for date in [python, gmt, plus, shifted] {
        let call = Call {
            date: Some(date.clone()),
            ..Call::get(USERS, "")
        };
        s.send(call).await.ok();
    }
}

#[tokio::test]
async fn x_duo_date_replaces_date_and_is_in_the_v5_header_hash() {
    let s = spawn(&scenario("users-1.toml")).await;
    let call = Call {
        x_duo_date: true,
        duo_headers: vec![("X-Duo-Extra".to_owned(), "yes".to_owned())],
        ..Call::get(USERS, "")
    };
    s.send(call.clone()).await.ok();
    s.send(call.scheme(V2_SHA512)).await.ok();
}

#[tokio::test]
async fn host_line_may_be_with_port_without_port_or_the_api_hostname() {
    let s = spawn(&scenario("users-1.toml")).await;
    let with_port = format!("127.0.0.1:{}", s.port());
    for host in [with_port.as_str(), "127.0.0.1", "API-3FDF2348.duosecurity.com"] {
        let call = Call {
            signed_host: Some(host.to_owned()),
            ..Call::get(USERS, "")
        };
        s.send(call).await.ok();
    }
    let call = Call {
        signed_host: Some("api-00000000.duosecurity.com".to_owned()),
        ..Call::get(USERS, "")
    };
    s.send(call)
        .await
        .assert_fail(40103, "Invalid signature in request credentials");
}

#[tokio::test]
async fn plus_and_percent_20_both_mean_space() {
    let s = spawn(&scenario("unicode.toml")).await;
    for query in ["username=z+o+b", "username=z%20o%20b"] {
        let users = s.get(USERS, query).await;
        let list = users.ok().as_array().cloned().unwrap_or_default();
        assert_eq!(list.len(), 1, "{query}");
        assert_eq!(list[0]["username"], "zoë o'brien+ops");
    }
}

#[tokio::test]
async fn legacy_versions_are_refused_with_40112_unless_enabled() {
    let s = spawn(&scenario("users-1.toml")).await;
    for scheme in [Scheme::V1(Digest::Sha1), Scheme::V4] {
        s.send(Call::get(USERS, "").scheme(scheme))
            .await
            .assert_fail(40112, "Signature type is not supported");
    }
    let text = std::fs::read_to_string(crate::support::scenario_path("users-1.toml")).expect("read")
        + "\n[options]\naccept_v1 = true\naccept_v4 = true\n";
    let lenient = spawn(&scenario_text(&text)).await;
    for scheme in [Scheme::V1(Digest::Sha1), Scheme::V1(Digest::Sha512), Scheme::V4] {
        lenient.send(Call::get(USERS, "").scheme(scheme)).await.ok();
    }
}

#[tokio::test]
async fn the_same_signed_request_may_be_sent_again() {
    // Duo's clients resend the identical request (same Date) after a 429: no replay protection.
    let s = spawn(&scenario("users-1.toml")).await;
    let call = Call {
        date: Some(date_at(now())),
        ..Call::get(USERS, "limit=5")
    };
    s.send(call.clone()).await.ok();
    s.send(call).await.ok();
}

/// v2 signs form-body parameters of a POST with the query's; checked on the verifier directly,
/// since this issue's endpoints are all GET.
#[test]
fn v2_form_posts_sign_body_parameters() {
    let scenario = scenario("users-1.toml");
    let state = AppState::new(&scenario, mock_server::store::Tenant::default());
    let integration = &scenario.integrations[0];
    let key = duo_auth::SigningKey::new(integration.skey.as_bytes());
    let date = date_at(now());
    let body = b"realname=J%C3%B6hn+Smith&username=jsmith";
    let params = duo_auth::params::parse_urlencoded(body);
    let parts = duo_auth::SignedParts {
        date: &date,
        method: "POST",
        host: "localhost",
        path: "/admin/v1/users",
        params: &params,
        body: b"",
        duo_headers: &[],
    };
    let signature = duo_auth::sign(&key, V2_SHA512, &parts);
    let request = |body: &'static [u8]| {
        let (parts, ()) = axum::http::Request::post("/admin/v1/users")
            .header("Host", "localhost:1234")
            .header("Date", &date)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header(
                "Authorization",
                duo_auth::authorization_header(&integration.ikey, &signature),
            )
            .body(())
            .expect("request")
            .into_parts();
        auth::verify(&state, &parts, &bytes::Bytes::from_static(body))
    };
    let caller = request(body).expect("form-signed request verifies");
    assert_eq!(caller.params.first("realname"), Some("Jöhn Smith".as_bytes()));
    let refused = request(b"realname=Someone+Else&username=jsmith").expect_err("changed body");
    assert_eq!(refused.code, 40103);
}

#[tokio::test]
async fn the_scenario_can_set_the_server_clock_off() {
    let ahead = mock_server::Scenario::builder()
        .users(1)
        .toml("[options]\nclock_offset_s = 600\n")
        .build()
        .expect("builds");
    let s = spawn(&ahead).await;
    s.get(USERS, "").await.assert_fail(40105, "Bad request timestamp");
    let ping = s.unsigned("GET", "/auth/v2/ping").await;
    let server_time = ping.ok()["time"].as_i64().expect("time");
    assert!(
        (server_time - now() - 600).abs() <= 5,
        "ping tells the server's (offset) time"
    );
}

fn scenario_with(integration_extra: &str, extra: &str) -> mock_server::Scenario {
    let text = format!(
        "[tenant]\napi_hostname = \"api-1.duosecurity.com\"\nseed = 1\n{extra}\n[generate]\nusers = 2\n\n\
         [[integrations]]\nname = \"main\"\nikey = \"DIAAAAAAAAAAAAAAAAAA\"\nskey = \"secret-a\"\n\
         grants = [\"Grant read resource\"]\n{integration_extra}\n"
    );
    scenario_text(&text)
}

#[tokio::test]
async fn keys_of_another_application_type_are_refused_like_unknown_keys() {
    let s = spawn(&scenario_with("type = \"auth-api\"", "")).await;
    s.get(USERS, "")
        .await
        .assert_fail(40102, "Invalid integration key in request credentials");
    let after_signature = scenario_with("type = \"web-sdk\"", "[options]\nwrong_type_code = 40301");
    let s = spawn(&after_signature).await;
    s.get(USERS, "").await.assert_fail(40301, "Access forbidden");
    let wrong = Call {
        skey: Some("other".to_owned()),
        ..Call::get(USERS, "")
    };
    s.send(wrong)
        .await
        .assert_fail(40103, "Invalid signature in request credentials");
}

#[tokio::test]
async fn an_account_without_the_admin_api_refuses_every_key() {
    let s = spawn(&scenario_with("", "admin_api_enabled = false")).await;
    s.get(USERS, "")
        .await
        .assert_fail(40102, "Invalid integration key in request credentials");
    s.unsigned("GET", "/auth/v2/ping").await.ok();
}

#[tokio::test]
async fn networks_for_api_access_are_checked_after_the_signature() {
    let outside = spawn(&scenario_with(
        "networks = [\"10.0.0.0/8\", \"2001:db8::/32\"]",
        "",
    ))
    .await;
    outside
        .get(USERS, "")
        .await
        .assert_fail(40301, "Access forbidden");
    let wrong = Call {
        skey: Some("other".to_owned()),
        ..Call::get(USERS, "")
    };
    outside
        .send(wrong)
        .await
        .assert_fail(40103, "Invalid signature in request credentials");
    let forwarded = Call {
        headers: vec![("X-Forwarded-For".to_owned(), "10.1.2.3, 127.0.0.1".to_owned())],
        ..Call::get(USERS, "")
    };
    outside
        .send(forwarded.clone())
        .await
        .assert_fail(40301, "Access forbidden");

    let inside = spawn(&scenario_with("networks = [\"127.0.0.0/8\"]", "")).await;
    inside.get(USERS, "").await.ok();
    let trusting = spawn(&scenario_with(
        "networks = [\"10.0.0.0/8\"]",
        "[options]\ntrust_forwarded_for = true",
    ))
    .await;
    trusting.send(forwarded).await.ok();

    let bad = "[tenant]\napi_hostname = \"a\"\nseed = 1\n[[integrations]]\nname = \"m\"\nikey = \"DI1\"\nskey = \"s\"\ngrants = []\nnetworks = [\"10.0.0.0/33\"]\n";
    let error = mock_server::Scenario::parse(bad, "n.toml")
        .expect_err("bad CIDR")
        .to_string();
    assert!(
        error.starts_with("n.toml:9:13:") && error.contains("prefix length"),
        "{error}"
    );
}

#[tokio::test]
async fn refusals_are_explained_only_when_the_scenario_asks() {
    let quiet = spawn(&scenario("default.toml")).await;
    let refused = quiet
        .send(Call::get("/admin/v1/admins", "").signed_by("no-admins"))
        .await;
    refused.assert_fail(40301, "Access forbidden");
    assert_eq!(refused.explain, None, "like Duo, no hint by default");

    let text = std::fs::read_to_string(crate::support::scenario_path("default.toml")).expect("read")
        + "\n[options]\nexplain = true\n";
    let s = spawn(&scenario_text(&text)).await;
    let refused = s
        .send(Call::get("/admin/v1/admins", "").signed_by("no-admins"))
        .await;
    refused.assert_fail(40301, "Access forbidden");
    assert_eq!(
        refused.explain.as_deref(),
        Some(r#"the integration "no-admins" lacks "Grant administrators""#)
    );
    let stale = s
        .send(Call {
            date: Some(date_at(now() - 1000)),
            ..Call::get(USERS, "")
        })
        .await;
    stale.assert_fail(40105, "Bad request timestamp");
    assert!(
        stale
            .explain
            .as_deref()
            .is_some_and(|e| e.contains("behind the server's clock")),
        "{:?}",
        stale.explain
    );
    let wrong = s
        .send(Call {
            skey: Some("wrong".to_owned()),
            ..Call::get(USERS, "limit=5")
        })
        .await;
    wrong.assert_fail(40103, "Invalid signature in request credentials");
    let why = wrong.explain.expect("explained");
    assert!(
        why.contains(r"\nGET\n127.0.0.1\n/admin/v1/users\nlimit=5\n"),
        "{why}"
    );
    assert!(why.contains("v5"), "{why}");
}

#[tokio::test]
async fn a_client_skey_hands_out_a_key_the_fake_refuses() {
    let sc = scenario_with("client_skey = \"the-key-the-customer-has\"", "");
    let s = spawn(&sc).await;
    assert_eq!(s.server.info().integrations[0].skey, "the-key-the-customer-has");
    s.get(USERS, "")
        .await
        .assert_fail(40103, "Invalid signature in request credentials");
    let right = Call {
        skey: Some("secret-a".to_owned()),
        ..Call::get(USERS, "")
    };
    s.send(right).await.ok();
    assert!(!format!("{sc:?}").contains("the-key-the-customer-has"));
}
