//! The bundled catalogue: every case file loads, ids are stable and unique, and the categories
//! and situations the kit promises are all there.

use std::collections::BTreeSet;

use conformance::case::{Category, Credentials, Expectation};
use conformance::contract::ErrorKind;

use crate::catalogue;

/// Cases the kit's issue names; renaming one breaks CI pipelines that select it.
const PROMISED: [&str; 30] = [
    "sync-default-tenant",
    "sync-empty-tenant",
    "sync-1-user",
    "sync-300-users",
    "sync-301-users",
    "sync-unicode",
    "sync-100k-users",
    "pagination-301-users",
    "pagination-short-pages",
    "pagination-no-metadata-single-page",
    "pagination-next-offset-null",
    "pagination-next-offset-absent",
    "pagination-churn-during-paging",
    "permissions-missing-read-resource",
    "permissions-missing-administrators",
    "intermediaries-cloudflare-403",
    "intermediaries-akamai-403",
    "intermediaries-proxy-407",
    "intermediaries-gateway-502",
    "intermediaries-gateway-504",
    "intermediaries-block-page-200",
    "intermediaries-empty-200",
    "rate-limits-burst-recovered",
    "rate-limits-persistent",
    "auth-unknown-ikey",
    "auth-wrong-skey",
    "auth-clock-skew-server-ahead",
    "auth-clock-skew-server-behind",
    "server-errors-503-persistent",
    "drift-response-drift",
];

#[test]
fn every_promised_case_is_in_the_catalogue() {
    let ids: BTreeSet<String> = catalogue().into_iter().map(|c| c.id).collect();
    for id in PROMISED {
        assert!(ids.contains(id), "{id} is missing from conformance/cases");
    }
}

#[test]
fn every_category_has_cases_and_every_case_says_what_it_requires() {
    let cases = catalogue();
    for category in Category::ALL {
        assert!(cases.iter().any(|c| c.category == category), "no {category} case");
    }
    for case in &cases {
        assert!(case.must.contains("MUST"), "{}", case.id);
        assert!(case.scenario_path.is_file(), "{}: {}", case.id, case.scenario);
        assert_eq!(case.since, "0.1.0", "{}", case.id);
    }
}

#[test]
fn the_catalogue_expects_both_outcomes_and_every_credential_variant() {
    let cases = catalogue();
    let kinds: BTreeSet<&str> = cases
        .iter()
        .filter_map(|c| match &c.expect {
            Expectation::Failure(f) => Some(f.kind.as_str()),
            Expectation::Success { .. } => None,
        })
        .collect();
    // Every kind a tenant can provoke; `network` by DNS or refusal needs no fake.
    for kind in ErrorKind::ALL {
        if kind != ErrorKind::TenantChanged {
            assert!(kinds.contains(kind.as_str()), "no case expects {kind}");
        }
    }
    for credentials in [
        Credentials::AsGiven,
        Credentials::WrongSkey,
        Credentials::UnknownIkey,
    ] {
        assert!(
            cases.iter().any(|c| c.credentials == credentials),
            "{credentials:?}"
        );
    }
    assert!(
        cases.iter().any(|c| c.integration.is_some()),
        "no case picks an integration"
    );
    let persistent = cases.iter().find(|c| c.id == "rate-limits-persistent").unwrap();
    assert_eq!(
        persistent.deadline.as_secs(),
        120,
        "Duo's clients back off for about 63 s"
    );
}
