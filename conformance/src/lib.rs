//! The conformance kit: runs a Duo Admin API connector against the fake, case by case, and
//! reports whether it synced exactly the right data or failed the right way.
//!
//! Like the OpenID conformance suite's client tests, the kit is the upstream and the connector is
//! under test. A case is a data file ([`case`]) naming a scenario, the keys handed out and what
//! is expected; the [`runner`] serves the scenario over TLS, runs the connector as a child
//! process under the contract (`conformance/CONTRACT.md`, [`contract`]), and judges what it
//! wrote against the fake's ground truth ([`truth`], [`snapshot_compare`]) and how it asked
//! ([`journal_check`]). The [`ledger`] turns known failures of a connector into expected ones;
//! [`report`] writes terminal, JUnit, JSON, Markdown and HTML ([`html_report`]) reports, with the end of a failed
//! connector's stderr ([`stderr_tail`]). [`broken_connector`] is a
//! connector that can be broken on purpose, one bug per case, for the kit's self-tests.
//!
//! ```no_run
//! # async fn demo() -> conformance::Result<()> {
//! use conformance::case::{bundled_cases_dir, bundled_root, load_catalogue};
//! use conformance::runner::{RunOptions, run_cases};
//! let catalogue = load_catalogue(&bundled_cases_dir(), &bundled_root())?;
//! let options = RunOptions {
//!     connector: "target/debug/duo-connector sync".into(),
//!     collector: Some("target/debug/duo-connector logs".into()),
//!     jobs: 2,
//!     max_deadline: None,
//!     artifacts: None,
//! };
//! let runs = run_cases(&catalogue, &options, |_| {}).await?;
//! println!("{} cases run", runs.len());
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod broken_collector;
pub mod broken_connector;
pub mod case;
pub mod contract;
pub mod error;
pub mod html_report;
pub mod journal_check;
pub mod ledger;
pub mod logs;
pub mod preflight;
pub mod report;
pub mod runner;
pub mod selection;
pub mod snapshot_compare;
pub mod stderr_tail;
pub mod timeline;
pub mod truth;

pub use error::{Error, Result};
