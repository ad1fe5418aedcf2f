//! The connector against the fake over real HTTPS on loopback: syncs equal to the fake's ground
//! truth, each failure of the catalogue classified, retries, churn, secrets, and the CLI contract.

mod bundles;
mod check;
mod cli;
mod errors;
mod logs;
mod retries;
mod review;
mod secrets;
mod support;
mod sync;
mod watch;
