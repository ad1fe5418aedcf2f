//! A fake Duo Admin API server that Duo's official clients cannot tell from Duo.
//!
//! It verifies Duo's request signatures (v2 with HMAC-SHA1 or -SHA512, v5), pages and errs the
//! way the Admin API does, over a tenant generated from a scenario file.
//!
//! Layout:
//! - [`scenario`]: the TOML schema, its validation (`file:line:column` errors), and a builder.
//! - [`generate`]: scenario → tenant, deterministic for a seed whatever the thread count.
//! - [`store`]: the tenant as served, objects pre-rendered in arenas.
//! - [`auth`]: the signature-checking middleware; [`routes`]: one module per resource.
//! - [`paging`], [`api_error`], [`body`]: Duo's paging metadata, error envelope, and bodies.
//! - [`faults`], [`intermediary`]: fault rules from the scenario, and what WAFs and proxies send.
//! - [`logs`]: Duo's logs as a function of time, generated on demand.
//! - [`churn`], [`edit`]: changes applied to a served tenant (and how a tenant is edited).
//! - [`journal`]: every request and its answer, in memory and optionally a JSON Lines file.
//! - [`control`]: the loopback-only control API (journal, reset, load, clock, dump), and
//!   [`dashboard`], the pages a person opens in a browser under it.
//! - [`proxy`]: a CONNECT proxy in front of the fake, tunnelling or refusing (407, 403).
//! - [`server`]: `run(listener, state, shutdown)` and the in-process [`MockServer`].
//! - [`bundle`]: a connector's support bundle turned into a scenario ([`reproduce`] turns what a
//!   client saw into fault rules; [`scenario_writer`] writes scenario TOML).
//! - [`probe`]: a read-only battery against another Duo Admin API server ([`upstream`] is the
//!   signing client it uses), and the scenario of what it found; [`record`]: a recording signing
//!   proxy in front of one, and the scrubbed scenario that replays it.
//!
//! ```no_run
//! # async fn demo() -> mock_server::Result<()> {
//! use mock_server::{MockServer, Scenario, StartOptions};
//! let scenario = Scenario::load("scenarios/default.toml".as_ref())?;
//! let server = MockServer::start(&scenario, StartOptions::default()).await?;
//! println!("{} ikey={}", server.base_url(), server.info().integrations[0].ikey);
//! # Ok(()) }
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api_error;
pub mod auth;
pub mod body;
pub mod bundle;
pub mod changes;
pub mod churn;
pub mod control;
pub mod dashboard;
pub mod devices;
pub mod dump;
pub mod edit;
pub mod error;
pub mod explain;
pub mod faults;
pub mod generate;
pub mod grants;
pub mod intermediary;
pub mod journal;
pub mod limits;
pub mod logs;
pub mod model;
pub mod netfault;
pub mod network;
pub mod objects_file;
pub mod paging;
pub mod params;
pub mod probe;
pub mod proxy;
pub mod ratelimit;
pub mod record;
pub mod reproduce;
pub mod routes;
pub mod scenario;
pub mod scenario_check;
pub mod scenario_writer;
pub mod server;
pub mod state;
pub mod store;
pub mod tls;
pub mod upstream;

pub use error::{Error, Result};
pub use routes::app;
pub use scenario::{Scenario, ScenarioBuilder};
pub use server::{Listener, MockServer, ServerInfo, StartOptions, TlsMode, run};
pub use state::AppState;
