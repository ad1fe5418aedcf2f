//! Every failure of the catalogue ends the sync with the right kind and an actionable message,
//! and nothing is retried after a definitive 401 or 403.

use duo_connector::ErrorKind;

use duo_connector::config::Transport;

use crate::support::{assert_equals_dump, expect_kind, scenario, spawn, spawn_plain_http, sync};

/// Syncs the catalogue scenario `name` and expects `kind`.
async fn fails_as(name: &str, kind: ErrorKind) -> duo_connector::Failure {
    let fake = spawn(&scenario(&format!("catalogue/{name}.toml"))).await;
    let failure = expect_kind(sync(&fake.config()).await, kind);
    assert!(
        failure.message.len() > 40,
        "{name}: a message that says what to do: {}",
        failure.message
    );
    failure
}

#[tokio::test]
async fn keys_of_another_application_type_are_invalid_credentials() {
    let failure = fails_as("d01-auth-api-keys", ErrorKind::InvalidCredentials).await;
    assert_eq!((failure.http_status, failure.duo_code), (Some(401), Some(40102)));
    assert!(
        failure.message.contains("Admin API application"),
        "{}",
        failure.message
    );
    fails_as("d08-no-admin-api", ErrorKind::InvalidCredentials).await;
}

#[tokio::test]
async fn a_wrong_secret_key_is_an_invalid_signature_and_is_not_retried() {
    let fake = spawn(&scenario("catalogue/d02-wrong-secret-key.toml")).await;
    let failure = expect_kind(sync(&fake.config()).await, ErrorKind::InvalidSignature);
    assert_eq!((failure.http_status, failure.duo_code), (Some(401), Some(40103)));
    assert_eq!(failure.endpoint.as_deref(), Some("/admin/v1/users"));
    assert_eq!(fake.journal().await.len(), 1, "no request after a definitive 401");
}

#[tokio::test]
async fn clock_skew_says_how_far_both_ways() {
    for (name, offset) in [
        ("d03-clock-skew-server-ahead", 1),
        ("d03-clock-skew-server-behind", -1),
    ] {
        let failure = fails_as(name, ErrorKind::ClockSkew).await;
        let seconds = failure.clock_offset_s.expect("an offset");
        assert!(
            seconds.signum() == offset && seconds.abs() >= 300,
            "{name}: {seconds}"
        );
        assert!(
            failure.message.contains(&seconds.abs().to_string()),
            "{}",
            failure.message
        );
    }
}

#[tokio::test]
async fn a_rewritten_date_is_a_signature_failure_and_a_stripped_one_a_protocol_failure() {
    fails_as("d04-date-header-rewritten", ErrorKind::InvalidSignature).await;
    let failure = fails_as("d04-date-header-stripped", ErrorKind::Protocol).await;
    assert_eq!(failure.duo_code, Some(40104));
}

#[tokio::test]
async fn a_missing_grant_is_named_with_where_to_turn_it_on_and_nothing_partial_is_returned() {
    let failure = fails_as("d06-missing-grant-administrators", ErrorKind::PermissionDenied).await;
    assert_eq!(failure.endpoint.as_deref(), Some("/admin/v1/admins"));
    assert!(
        failure.message.contains("\"Grant administrators\""),
        "{}",
        failure.message
    );
    assert!(failure.message.contains("Duo Admin Panel"), "{}", failure.message);
    let failure = fails_as("d06-missing-grant-read-resource", ErrorKind::PermissionDenied).await;
    assert!(
        failure.message.contains("\"Grant read resource\""),
        "{}",
        failure.message
    );
    fails_as("d07-networks-for-api-access", ErrorKind::PermissionDenied).await;
}

#[tokio::test]
async fn pages_from_a_waf_a_proxy_or_a_gateway_are_blocked_by_an_intermediary() {
    for (name, status, title) in [
        ("d10-waf-cloudflare-403", Some(403), true),
        ("d10-waf-akamai-403", Some(403), true),
        ("d10-proxy-407", Some(407), false),
        ("d10-gateway-502", Some(502), true),
        ("d10-gateway-504", Some(504), true),
        ("d10-block-page-200", Some(200), false),
        ("d10-empty-200", Some(200), false),
    ] {
        let failure = fails_as(name, ErrorKind::BlockedByIntermediary).await;
        assert_eq!(failure.http_status, status, "{name}");
        assert_eq!(
            failure.duo_code, None,
            "{name}: never confused with Duo's own answer"
        );
        assert!(
            failure.message.contains("firewall, WAF or proxy"),
            "{name}: {}",
            failure.message
        );
        if title {
            assert!(
                failure.message.contains("titled"),
                "{name}: quotes the page title: {}",
                failure.message
            );
        }
    }
}

#[tokio::test]
async fn cut_connections_are_blocked_by_an_intermediary() {
    for name in ["d15-closed-before-answer", "d15-closed-mid-body"] {
        let failure = fails_as(name, ErrorKind::BlockedByIntermediary).await;
        assert_eq!(failure.http_status, None, "{name}");
    }
}

#[tokio::test]
async fn a_single_reset_or_500_is_retried_and_the_sync_is_whole() {
    for name in ["d15-connection-reset", "d15-server-error-500"] {
        // The catalogue faults the second page of 100; at 300 a page there is one, so fault the first.
        let path = crate::support::root().join(format!("scenarios/catalogue/{name}.toml"));
        let text = std::fs::read_to_string(path)
            .unwrap()
            .replace("calls = [2, 2]", "calls = [1, 1]");
        let fake = spawn(&mock_server::Scenario::parse(&text, name).unwrap()).await;
        let snapshot = sync(&fake.config())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_equals_dump(&snapshot, &fake.dump().await);
        let pages: Vec<String> = fake
            .journal()
            .await
            .into_iter()
            .filter(|(path, ..)| path == "/admin/v1/users")
            .map(|(_, query, _)| query)
            .collect();
        assert_eq!(
            pages, ["limit=300&offset=0"; 2],
            "{name}: the page asked again once"
        );
    }
}

#[tokio::test]
async fn tls_failures_are_tls() {
    for name in [
        "d12-tls-inspection-foreign-ca",
        "d12-expired-certificate",
        "d05-wrong-host-certificate",
    ] {
        fails_as(name, ErrorKind::Tls).await;
    }
}

#[tokio::test]
async fn a_plain_http_server_is_a_tls_failure_said_as_such_and_not_retried() {
    // What answered the same address over plain HTTP is told apart: Duo's answer, or a page.
    for (name, what_answered) in [
        ("default.toml", "answers as Duo does"),
        (
            "catalogue/d10-waf-cloudflare-403.toml",
            "Attention Required! | Cloudflare",
        ),
    ] {
        let fake = spawn_plain_http(&scenario(name)).await;
        let failure = expect_kind(sync(&fake.config()).await, ErrorKind::Tls);
        for phrase in ["answered plain HTTP", "--plain-http", what_answered] {
            assert!(failure.message.contains(phrase), "{name}: {}", failure.message);
        }
        assert!(failure.while_connecting);
        assert_eq!(failure.http_status, None);
        // No retry: the one request the fake saw is the plain-HTTP ping that says what it is.
        let journal = fake.journal().await;
        assert_eq!(journal.len(), 1, "{name}: {journal:?}");
        assert_eq!(journal[0].0, "/auth/v2/ping");
    }
}

#[tokio::test]
async fn an_https_server_asked_over_plain_http_is_a_tls_failure() {
    let fake = spawn(&scenario("users-1.toml")).await;
    let mut config = fake.config();
    config.transport = Transport::PlainHttp;
    let failure = expect_kind(sync(&config).await, ErrorKind::Tls);
    assert!(failure.message.contains("speaks HTTPS"), "{}", failure.message);
}

#[tokio::test]
async fn server_errors_after_retries_and_timeouts() {
    let failure = fails_as("d15-service-unavailable-503", ErrorKind::ServerError).await;
    assert_eq!((failure.http_status, failure.duo_code), (Some(503), Some(50300)));
    fails_as("d15-slow-answer", ErrorKind::Network).await;
}

#[tokio::test]
async fn answers_that_are_not_valid_duo_answers_are_protocol_failures() {
    for name in [
        "d16-invalid-json",
        "d16-missing-response",
        "d16-stat-not-ok",
        "d16-truncated",
    ] {
        fails_as(name, ErrorKind::Protocol).await;
    }
}

#[tokio::test]
async fn proxies_are_used_and_their_refusals_reported() {
    let fake = spawn(&scenario("catalogue/d11-proxy-needs-credentials.toml")).await;
    let proxy = fake.server.info().proxy_url.clone().expect("a proxy");
    let mut config = fake.config();
    config.proxy = Some(proxy.clone());
    expect_kind(sync(&config).await, ErrorKind::BlockedByIntermediary);
    config.proxy = Some(proxy.replace("http://", "http://proxy-user:proxy-pass@"));
    sync(&config)
        .await
        .expect("through the proxy with its credentials");

    let fake = spawn(&scenario("catalogue/d11-proxy-blocks-destination.toml")).await;
    let mut config = fake.config();
    config.proxy = fake.server.info().proxy_url.clone();
    expect_kind(sync(&config).await, ErrorKind::BlockedByIntermediary);
}

#[tokio::test]
async fn nothing_listening_is_a_network_failure() {
    let fake = spawn(&scenario("users-1.toml")).await;
    let mut config = fake.config();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    config.api_host = format!("localhost:{port}");
    let failure = expect_kind(sync(&config).await, ErrorKind::Network);
    assert!(
        failure.message.contains("accepted a connection"),
        "{}",
        failure.message
    );
    config.api_host = "no-such-host.invalid".into();
    expect_kind(sync(&config).await, ErrorKind::Network);
}
