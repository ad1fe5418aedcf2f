//! The kit's integration tests, one binary: the catalogue loads and covers what it must, every
//! case catches the bug it exists for and passes a correct connector, and the command line
//! selects, reports and exits as documented; what CONTRACT.md tells a connector about Duo's clock
//! holds against the fake.

mod catalogue;
mod cli;
mod clock;
mod logs_self_test;
mod self_test;

use std::path::PathBuf;

use conformance::case::{Case, bundled_cases_dir, bundled_root, load_catalogue};

/// The bundled catalogue.
fn catalogue() -> Vec<Case> {
    load_catalogue(&bundled_cases_dir(), &bundled_root()).expect("the bundled catalogue loads")
}

/// The self-test connector built with these tests.
fn broken_connector() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_duo-broken-connector"))
}

/// The self-test connector's command line with `breakage`.
fn broken_connector_command(breakage: &str) -> String {
    format!("'{}' sync --breakage {breakage}", broken_connector().display())
}

/// The self-test collector built with these tests.
fn broken_collector_command(breakage: &str) -> String {
    format!(
        "'{}' logs --breakage {breakage}",
        env!("CARGO_BIN_EXE_duo-broken-collector")
    )
}

/// Runs each `(case id, breakage, reason)` of a self-test table with the options `options` gives
/// the breakage, `jobs` at a time, and returns what went wrong: a case that passed, or failed
/// for another reason than the one listed.
async fn wrong_verdicts(
    table: &[(&'static str, &'static str, &'static str)],
    jobs: usize,
    options: impl Fn(&str) -> conformance::runner::RunOptions,
) -> Vec<String> {
    use conformance::runner::{RunningConnectors, Verdict, run_case};
    let cases = catalogue();
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(jobs));
    let running = RunningConnectors::default();
    let mut tasks = tokio::task::JoinSet::new();
    for &(id, breakage, reason) in table {
        let case = cases
            .iter()
            .find(|c| c.id == id)
            .cloned()
            .expect("listed cases exist");
        let options = options(breakage);
        let (permits, running) = (std::sync::Arc::clone(&permits), running.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("the semaphore stays open");
            let run = run_case(&case, &options, &running)
                .await
                .expect("the kit runs the case");
            (id, breakage, reason, run.verdict)
        });
    }
    let mut wrong = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (id, breakage, reason, verdict) = joined.expect("no task panics");
        match verdict {
            Verdict::Fail(why) if why.contains(reason) => {}
            Verdict::Fail(why) => wrong.push(format!(
                "{id} with {breakage}: failed, but not for {reason:?}: {why}"
            )),
            Verdict::Pass => wrong.push(format!(
                "{id} with {breakage}: passed; the case does not catch it"
            )),
        }
    }
    wrong.sort();
    wrong
}

/// The cases of `cases` that did not pass, with why.
fn not_passed(runs: &[conformance::runner::CaseRun]) -> Vec<String> {
    runs.iter()
        .filter_map(|run| match &run.verdict {
            conformance::runner::Verdict::Pass => None,
            conformance::runner::Verdict::Fail(why) => Some(format!("{}: {why}", run.id)),
        })
        .collect()
}
