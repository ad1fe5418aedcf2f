//! Every logs case can fail: run against the self-test collector broken in the way of an L-row
//! it lists (`duo-logs.md` §10), it fails for that reason; run against the same collector
//! unbroken, every logs case passes. The table is the kit's claim of what each case catches.

use std::collections::BTreeSet;

use conformance::broken_collector::Breakage;
use conformance::runner::{RunOptions, run_cases};

use crate::{broken_collector_command, catalogue, not_passed, wrong_verdicts};

/// Case id, the breakage it must catch, and a part of the verdict it must give.
const CATCHES: &[(&str, &str, &str)] = &[
    (
        "logs-empty-window",
        "empty-as-error",
        "expected ok, got failure protocol",
    ),
    (
        "logs-one-page",
        "v1-authentication",
        "is no event of the fake's log",
    ),
    (
        "logs-many-pages",
        "cursor-first-part",
        "expected ok, got failure protocol",
    ),
    ("logs-many-pages", "drops-cursor", "L11: the same request again"),
    ("logs-many-pages", "stale-cursor", "L11: the same request again"),
    ("logs-every-type", "seconds-for-milliseconds", "L5: mintime="),
    (
        "logs-sink-unwritable",
        "checkpoint-before-delivery",
        "is not in DUO_OUTPUT",
    ),
    ("logs-sink-unwritable", "null-checkpoint", "L5: mintime=null"),
    (
        "logs-boundary-millisecond",
        "inclusive-mintime",
        "delivered twice",
    ),
    (
        "logs-boundary-millisecond",
        "descending-checkpoint",
        "delivered twice",
    ),
    ("logs-v1-cap", "v1-cap-plus-one", "is not in DUO_OUTPUT"),
    ("logs-retention-edge", "exact-retention-edge", "L6: mintime is"),
    (
        "logs-nothing-settled",
        "empty-window-sent",
        "L7: maxtime is not after mintime",
    ),
    ("logs-late-events", "ignores-settle", "L8: maxtime is"),
    ("logs-rate-limited", "no-backoff", "L13: asked again"),
    ("logs-killed-mid-window", "checkpoint-at-end", "delivered twice"),
    (
        "logs-killed-mid-window",
        "skips-after-restart",
        "is not in DUO_OUTPUT",
    ),
    ("logs-type-drift", "strict-parser", "is not in DUO_OUTPUT"),
    (
        "logs-stale-date",
        "stale-date",
        "L15: a request after the run's first was refused 401 40105",
    ),
    ("logs-filter-users", "wrong-filter-name", "outside DUO_LOG_USERS"),
];

/// Cases run at once (each runs a collector several times, mostly waiting).
const JOBS: usize = 4;

#[test]
fn every_logs_case_has_a_breakage_and_every_breakage_is_caught() {
    let ids: BTreeSet<String> = catalogue()
        .into_iter()
        .filter(|c| c.logs.is_some())
        .map(|c| c.id)
        .collect();
    let listed: BTreeSet<String> = CATCHES.iter().map(|(id, _, _)| (*id).to_owned()).collect();
    assert_eq!(
        ids, listed,
        "the table must list every logs case, and nothing else"
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
    for case in catalogue().iter().filter(|c| c.logs.is_some()) {
        let rows_named = !case.rows.is_empty() || case.id == "logs-empty-window";
        assert!(rows_named, "{}: name the L-rows the case exists for", case.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_logs_case_catches_its_breakage_for_the_right_reason() {
    let wrong = wrong_verdicts(CATCHES, JOBS, |breakage| RunOptions {
        connector: "false".into(),
        collector: Some(broken_collector_command(breakage)),
        jobs: 1,
        max_deadline: None,
        artifacts: None,
    })
    .await;
    assert!(wrong.is_empty(), "{} cases:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_correct_collector_passes_every_logs_case() {
    let cases: Vec<_> = catalogue().into_iter().filter(|c| c.logs.is_some()).collect();
    let options = RunOptions {
        connector: "false".into(),
        collector: Some(broken_collector_command("none")),
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
