//! `check`'s rows: each says one thing, and a failure is on the row of what failed — the
//! connection on `tls`, an answer on the row of the request it answered — never elsewhere.

use duo_connector::check::{CheckReport, CheckStatus, check};
use duo_connector::client::Client;
use duo_connector::config::{Config, Transport};

use crate::support::{scenario, scenario_with, spawn, spawn_plain_http};

async fn rows(config: &Config) -> CheckReport {
    let client = Client::new(config).unwrap();
    check(config, &client).await
}

/// The status and message of the first row named `name`.
fn row<'a>(report: &'a CheckReport, name: &str) -> (CheckStatus, &'a str) {
    let line = report
        .lines
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no {name} row:\n{}", report.render()));
    (line.status, &line.message)
}

fn grant_rows(report: &CheckReport) -> Vec<(CheckStatus, &str)> {
    report
        .lines
        .iter()
        .filter(|l| l.name == "grant")
        .map(|l| (l.status, l.message.as_str()))
        .collect()
}

/// The three grant rows skipped, each naming its grant.
fn assert_grants_skipped_by_name(report: &CheckReport) {
    let grants = grant_rows(report);
    let expected = [
        "\"Grant read resource\": not checked",
        "\"Grant administrators\": not checked",
        "\"Grant read information\": not checked",
    ];
    assert_eq!(grants.len(), expected.len(), "{}", report.render());
    for ((status, message), want) in grants.into_iter().zip(expected) {
        assert_eq!((status, message), (CheckStatus::Skipped, want));
    }
}

#[tokio::test]
async fn a_plain_http_server_is_named_on_the_tls_row_and_never_called_an_intermediary() {
    // With no fault at all, and with a WAF's rule, the answer over HTTPS is the same handshake
    // failure: neither may read as a WAF reproduced.
    for name in ["default.toml", "catalogue/d10-waf-cloudflare-403.toml"] {
        let fake = spawn_plain_http(&scenario(name)).await;
        let report = rows(&fake.config()).await;
        let text = report.render();
        assert!(!report.ok(), "{text}");
        let (status, message) = row(&report, "tls");
        assert_eq!(status, CheckStatus::Fail, "{name}: {text}");
        assert!(
            message.starts_with("tls: ") && message.contains("answered plain HTTP"),
            "{name}: {message}"
        );
        assert!(message.contains("--plain-http"), "{name}: {message}");
        assert!(!text.contains("blocked_by_intermediary"), "{name}: {text}");
        assert!(
            !text.to_lowercase().contains("firewall, waf or proxy"),
            "{name}: {text}"
        );
        assert_eq!(row(&report, "ping").0, CheckStatus::Skipped);
        assert_grants_skipped_by_name(&report);
    }

    // The same server with --plain-http passes.
    let fake = spawn_plain_http(&scenario("default.toml")).await;
    let mut config = fake.config();
    config.transport = Transport::PlainHttp;
    let report = rows(&config).await;
    assert!(report.ok(), "{}", report.render());
}

#[tokio::test]
async fn an_https_server_asked_over_plain_http_is_named_on_the_tls_row() {
    let fake = spawn(&scenario("default.toml")).await;
    let mut config = fake.config();
    config.transport = Transport::PlainHttp;
    let report = rows(&config).await;
    let (status, message) = row(&report, "tls");
    assert_eq!(status, CheckStatus::Fail, "{}", report.render());
    assert!(
        message.starts_with("tls: ") && message.contains("speaks HTTPS"),
        "{message}"
    );
    assert!(message.contains("without --plain-http"), "{message}");
    assert_grants_skipped_by_name(&report);
}

#[tokio::test]
async fn a_waf_answer_is_on_the_row_of_the_request_it_answered() {
    // The WAF answers every request: the connection under it works, the ping and the keys'
    // request each show the page, and no grant can be judged.
    let fake = spawn(&scenario("catalogue/d10-waf-cloudflare-403.toml")).await;
    let report = rows(&fake.config()).await;
    let text = report.render();
    assert_eq!(row(&report, "tls").0, CheckStatus::Pass, "{text}");
    for name in ["ping", "credentials"] {
        let (status, message) = row(&report, name);
        assert_eq!(status, CheckStatus::Fail, "{text}");
        assert!(
            message.starts_with("blocked_by_intermediary: ")
                && message.contains("Attention Required! | Cloudflare"),
            "{name}: {message}"
        );
    }
    assert_grants_skipped_by_name(&report);

    // A rule on the administrators' list only: that grant's row, named, and nothing else.
    let waf_on_admins = r#"
[[faults]]
name = "waf on the administrators"
path = "/admin/v1/admins"
intermediary = "cloudflare-403"
"#;
    let fake = spawn(&scenario_with("default.toml", waf_on_admins)).await;
    let report = rows(&fake.config()).await;
    let text = report.render();
    for name in ["tls", "ping", "credentials"] {
        assert_eq!(row(&report, name).0, CheckStatus::Pass, "{text}");
    }
    let grants = grant_rows(&report);
    assert_eq!(grants.len(), 3, "{text}");
    assert_eq!(grants[0].0, CheckStatus::Pass, "{text}");
    assert_eq!(grants[1].0, CheckStatus::Fail, "{text}");
    assert!(
        grants[1]
            .1
            .starts_with("\"Grant administrators\": blocked_by_intermediary: ")
            && grants[1].1.contains("/admin/v1/admins"),
        "{}",
        grants[1].1
    );
    assert_eq!(grants[2].0, CheckStatus::Info, "{text}");
}

#[tokio::test]
async fn a_certificate_failure_stays_on_the_tls_row() {
    let fake = spawn(&scenario("catalogue/d12-tls-inspection-foreign-ca.toml")).await;
    let report = rows(&fake.config()).await;
    let (status, message) = row(&report, "tls");
    assert_eq!(status, CheckStatus::Fail, "{}", report.render());
    assert!(
        message.starts_with("tls: ") && message.contains("--ca-cert"),
        "{message}"
    );
    assert!(!message.contains("plain HTTP"), "{message}");
    assert_eq!(row(&report, "ping").0, CheckStatus::Skipped);
    assert_grants_skipped_by_name(&report);
}
