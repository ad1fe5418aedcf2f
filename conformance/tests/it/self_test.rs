//! Every case can fail: run against the self-test connector broken in exactly the way the case
//! exists to catch, it fails, for that reason; run against the same connector unbroken, every
//! case passes. The table below is the kit's claim of what each case catches.

use std::collections::BTreeSet;
use std::time::Duration;

use conformance::broken_connector::Breakage;
use conformance::runner::{RunOptions, run_cases};

use crate::{broken_connector_command, catalogue, not_passed, wrong_verdicts};

/// Case id, a breakage it must catch, and a part of the failure reason it must give. A case that
/// exists to catch several bugs has a row for each.
const CATCHES: &[(&str, &str, &str)] = &[
    (
        "sync-default-tenant",
        "no-group-members",
        "group_members: group DG",
    ),
    (
        "sync-empty-tenant",
        "empty-as-error",
        "got failure protocol: Duo returned no users",
    ),
    ("sync-1-user", "drops-last-object", "users: 1 of 1 missing"),
    ("sync-300-users", "drops-last-object", "users: 1 of 300 missing"),
    ("sync-301-users", "ignores-paging", "users: 1 of 301 missing"),
    ("sync-unicode", "ascii-folding", "got \"zo?"),
    (
        "sync-100k-users",
        "ignores-paging",
        "users: 99700 of 100000 missing",
    ),
    (
        "pagination-301-users",
        "oversized-page",
        "asked for 1000 objects a page",
    ),
    (
        "pagination-short-pages",
        "offset-by-limit",
        "users: 613 of 650 missing",
    ),
    (
        "pagination-no-metadata-single-page",
        "missing-metadata-loops",
        "stopped early",
    ),
    (
        "pagination-next-offset-null",
        "null-next-offset-as-zero",
        "stopped early",
    ),
    (
        "pagination-next-offset-absent",
        "requires-next-offset",
        "got failure protocol: metadata without next_offset",
    ),
    (
        "pagination-churn-during-paging",
        "no-reread-on-churn",
        "users: 5 of 648 missing",
    ),
    (
        "pagination-large-groups",
        "ignores-member-paging",
        "members missing",
    ),
    (
        "permissions-missing-read-resource",
        "403-as-empty",
        "but the connector reported success",
    ),
    (
        "permissions-missing-administrators",
        "403-as-empty",
        "but the connector reported success",
    ),
    (
        "permissions-partial-grant-default-tenant",
        "403-as-empty",
        "but the connector reported success (343 users, 0 admins",
    ),
    (
        "permissions-no-grants",
        "403-as-empty",
        "but the connector reported success (0 users",
    ),
    (
        "permissions-network-not-allowed",
        "403-as-empty",
        "but the connector reported success",
    ),
    (
        "intermediaries-cloudflare-403",
        "status-only-kinds",
        "got permission_denied",
    ),
    (
        "intermediaries-akamai-403",
        "status-only-kinds",
        "got permission_denied",
    ),
    (
        "intermediaries-proxy-407",
        "status-only-kinds",
        "got invalid_credentials",
    ),
    (
        "intermediaries-gateway-502",
        "status-only-kinds",
        "got server_error",
    ),
    (
        "intermediaries-gateway-502",
        "no-retry-gateway-5xx",
        "after 0 retries of what the fault rule \"nginx-502\" answered (status 502)",
    ),
    (
        "intermediaries-gateway-504",
        "status-only-kinds",
        "got server_error",
    ),
    (
        "intermediaries-gateway-504",
        "no-retry-gateway-5xx",
        "after 0 retries of what the fault rule \"nginx-504\" answered (status 504)",
    ),
    (
        "intermediaries-block-page-200",
        "html-as-data",
        "but the connector reported success",
    ),
    (
        "intermediaries-empty-200",
        "html-as-data",
        "but the connector reported success",
    ),
    (
        "intermediaries-tls-inspection",
        "accepts-any-certificate",
        "but the connector reported success",
    ),
    (
        "intermediaries-tls-expired-certificate",
        "accepts-any-certificate",
        "but the connector reported success",
    ),
    (
        "intermediaries-tls-wrong-host",
        "accepts-any-certificate",
        "but the connector reported success",
    ),
    (
        "rate-limits-burst-recovered",
        "no-retry-429",
        "got failure rate_limited",
    ),
    (
        "rate-limits-persistent",
        "retries-forever",
        "ms after a 429; a connector must wait at least 1000 ms",
    ),
    (
        "rate-limits-429-mid-list",
        "restart-list-on-429",
        "read /admin/v1/users offset 0 again",
    ),
    (
        "auth-unknown-ikey",
        "retries-401",
        "after Duo's definitive 401 40102",
    ),
    ("auth-wrong-skey", "status-only-kinds", "got invalid_credentials"),
    (
        "auth-auth-api-keys",
        "retries-401",
        "after Duo's definitive 401 40102",
    ),
    (
        "auth-no-admin-api",
        "retries-401",
        "after Duo's definitive 401 40102",
    ),
    (
        "auth-clock-skew-server-ahead",
        "clock-offset-sign-flipped",
        "clock_offset_s is -",
    ),
    (
        "auth-clock-skew-server-behind",
        "clock-offset-sign-flipped",
        "clock_offset_s is +",
    ),
    (
        "auth-date-header-stripped",
        "status-only-kinds",
        "got invalid_credentials",
    ),
    (
        "auth-date-header-rewritten",
        "status-only-kinds",
        "got invalid_credentials",
    ),
    (
        "server-errors-500-recovered",
        "no-retries",
        "got failure server_error",
    ),
    (
        "server-errors-503-persistent",
        "retries-forever",
        "the case allows at most 20",
    ),
    (
        "server-errors-503-persistent",
        "no-retries",
        "after 0 retries of what the fault rule \"503\" answered (status 503)",
    ),
    (
        "server-errors-connection-reset-recovered",
        "no-retries",
        "got failure blocked_by_intermediary",
    ),
    (
        "server-errors-closed-before-answer",
        "reset-as-network",
        "got network",
    ),
    (
        "server-errors-closed-before-answer",
        "no-retries",
        "after 0 retries of what the fault rule \"closed before answer\" answered",
    ),
    ("server-errors-closed-mid-body", "reset-as-network", "got network"),
    (
        "server-errors-closed-mid-body",
        "no-retries",
        "after 0 retries of what the fault rule \"closed mid-body\" answered",
    ),
    (
        "server-errors-slow-answer",
        "no-timeout",
        "no result within the 15 s deadline",
    ),
    (
        "server-errors-trickled-answer",
        "no-timeout",
        "no result within the 15 s deadline",
    ),
    (
        "server-errors-invalid-json",
        "html-as-data",
        "but the connector reported success",
    ),
    (
        "server-errors-stat-not-ok",
        "html-as-data",
        "but the connector reported success",
    ),
    (
        "server-errors-missing-response",
        "html-as-data",
        "but the connector reported success",
    ),
    (
        "server-errors-truncated",
        "html-as-data",
        "but the connector reported success",
    ),
    (
        "drift-response-drift",
        "strict-fields",
        "got failure protocol: unknown field",
    ),
    (
        "drift-older-object-shapes",
        "strict-fields",
        "got failure protocol: missing field",
    ),
];

/// A broken connector that hangs is cut at this, not at its case's deadline: the stall cases
/// then fail on time in 15 s instead of two minutes.
const BROKEN_MAX_DEADLINE: Duration = Duration::from_secs(15);
/// Cases run at once by each self-test.
const JOBS: usize = 4;

#[test]
fn every_case_has_one_breakage_and_every_breakage_is_caught_somewhere() {
    // Logs cases have their own table (logs_self_test.rs).
    let ids: BTreeSet<String> = catalogue()
        .into_iter()
        .filter(|c| c.logs.is_none())
        .map(|c| c.id)
        .collect();
    let listed: BTreeSet<String> = CATCHES.iter().map(|(id, _, _)| (*id).to_owned()).collect();
    let pairs: BTreeSet<(&str, &str)> = CATCHES.iter().map(|(id, b, _)| (*id, *b)).collect();
    assert_eq!(pairs.len(), CATCHES.len(), "a case and breakage are listed twice");
    assert_eq!(
        ids, listed,
        "the table must list every case of the catalogue, and nothing else"
    );
    for &(id, name, _) in CATCHES {
        assert!(
            Breakage::from_name(name).is_some(),
            "{id}: no breakage named {name}"
        );
    }
    for breakage in Breakage::ALL.into_iter().filter(|b| *b != Breakage::Correct) {
        assert!(
            CATCHES.iter().any(|(_, name, _)| *name == breakage.name()),
            "no case catches {breakage}: drop it or add the case"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_case_catches_its_breakage_for_the_right_reason() {
    let wrong = wrong_verdicts(CATCHES, JOBS, |breakage| RunOptions {
        connector: broken_connector_command(breakage),
        collector: None,
        jobs: 1,
        max_deadline: Some(BROKEN_MAX_DEADLINE),
        artifacts: None,
    })
    .await;
    assert!(wrong.is_empty(), "{} cases:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_correct_connector_passes_every_case() {
    let cases: Vec<_> = catalogue().into_iter().filter(|c| c.logs.is_none()).collect();
    let options = RunOptions {
        connector: broken_connector_command("none"),
        collector: None,
        jobs: JOBS,
        max_deadline: None,
        artifacts: None,
    };
    let runs = run_cases(&cases, &options, |_| {}).await.expect("the kit runs");
    assert_eq!(runs.len(), cases.len());
    let failed = not_passed(&runs);
    assert!(
        failed.is_empty(),
        "{} cases:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
