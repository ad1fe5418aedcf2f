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
