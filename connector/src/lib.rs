//! Reference Duo Admin API connector: checks a connection, syncs users, administrators, groups and
//! group membership into a snapshot, and compares and reviews snapshots for access reviews.
//!
//! The layers, from the wire up: [`client`] signs one request and classifies its answer (retrying
//! what the [`retry`] table says), [`paging`] follows `next_offset` through a list, [`sync`] reads
//! the whole tenant consistently, and [`snapshot`] is what it produces. [`check`] is the "Connect"
//! button; [`diff`], [`review`] (with [`mfa`] postures) and [`sqlite`] work on snapshots;
//! [`watch`] syncs on a schedule and turns each diff into [`events`]; [`evidence`] writes an
//! access-review pack from the recorded runs. [`logs`] collects Duo's logs into JSON Lines with a
//! checkpoint per log type.
//!
//! ```no_run
//! # async fn example() -> Result<(), duo_connector::Error> {
//! use duo_connector::{client::Client, config::Config, sync};
//! let config = Config::from_env()?;
//! let client = Client::new(&config)?;
//! let snapshot = sync::sync(&client, &sync::SyncOptions::default()).await?;
//! println!("{} users", snapshot.users.len());
//! # Ok(()) }
//! ```

pub mod check;
pub mod classify;
pub mod client;
pub mod config;
pub mod contract;
pub mod diff;
pub mod error;
pub mod events;
pub mod evidence;
pub mod list_page;
pub mod logs;
pub mod mfa;
mod objects;
pub mod paging;
pub mod retry;
pub mod review;
mod scan;
pub mod snapshot;
pub mod sqlite;
pub mod support_bundle;
pub mod sync;
mod time;
pub mod watch;

pub use error::{Error, ErrorKind, Failure};
pub use snapshot::Snapshot;
