//! Continuous access monitoring: a sync on a schedule, every run recorded in SQLite (a failed one
//! with its error), and after each good run the access changes since the last good run appended
//! to an events file, one JSON object a line ([`crate::events`]).
//!
//! Runs never overlap: the next starts after the previous one ended. Each run is one SQLite
//! transaction, so a process killed at any moment leaves the file with every finished run whole.
//! A stop request ends the wait between runs at once, and a run in progress by dropping it (its
//! requests are cancelled; nothing of it was written).
//!
//! ```no_run
//! # async fn example(config: duo_connector::config::Config) -> Result<(), duo_connector::Error> {
//! use std::time::Duration;
//! use duo_connector::{sqlite::SnapshotStore, watch::{WatchOptions, watch}};
//! let mut store = SnapshotStore::open(std::path::Path::new("runs.sqlite"))?;
//! let options = WatchOptions::every(Duration::from_secs(3600));
//! let stop = async { let _ = tokio::signal::ctrl_c().await; };
//! let summary = watch(&config, &mut store, &options, stop).await?;
//! println!("{} runs recorded", summary.recorded);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::{Client, ClientEvent};
use crate::config::Config;
use crate::diff::diff;
use crate::error::Error;
use crate::events::{AccessEvent, RunRef, events_of};
use crate::retry::RetryClass;
use crate::snapshot::Snapshot;
use crate::sqlite::{FailedRun, SnapshotStore};
use crate::sync::{SyncOptions, sync};
use crate::time::rfc3339_now;

/// After runs that met rate limits, the pause grows to at most this many times the interval.
pub const MAX_STRETCH: u32 = 16;

/// What a watch does besides syncing.
#[derive(Clone)]
pub struct WatchOptions {
    /// Runs start this long apart (a run longer than that is followed at once by the next).
    pub every: Duration,
    /// Stop after this many runs, good or failed; `None`: until stopped.
    pub runs: Option<u64>,
    /// Append access-change events to this file (JSON Lines).
    pub events: Option<PathBuf>,
    /// How each sync reads the tenant.
    pub sync: SyncOptions,
    /// Receives a [`WatchEvent`] as each run starts, ends and the wait begins.
    pub observer: Option<WatchObserver>,
}

impl WatchOptions {
    /// A run every `every`, until stopped, without an events file.
    pub fn every(every: Duration) -> Self {
        Self {
            every,
            runs: None,
            events: None,
            sync: SyncOptions::default(),
            observer: None,
        }
    }
}

impl std::fmt::Debug for WatchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchOptions")
            .field("every", &self.every)
            .field("runs", &self.runs)
            .field("events", &self.events)
            .field("sync", &self.sync)
            .finish_non_exhaustive()
    }
}

/// What a watch reports as it goes.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    /// A sync started.
    Started,
    /// A sync succeeded and was recorded as `run`.
    Recorded {
        /// The new run.
        run: RunRef,
        /// Users, administrators and groups synced.
        counts: (usize, usize, usize),
        /// The last good run it was compared with, and how many access changes were found; `None`
        /// for the first good run of the tenant in the file.
        compared: Option<(RunRef, usize)>,
    },
    /// A sync failed and was recorded.
    Failed(FailedRun),
    /// The watch waits this long before the next run; `stretched` when rate limits lengthened it.
    Waiting {
        /// How long.
        wait: Duration,
        /// Whether rate limits made it longer than the schedule.
        stretched: bool,
    },
}

/// A callback for [`WatchEvent`]s.
pub type WatchObserver = Arc<dyn Fn(&WatchEvent) + Send + Sync>;

/// How a watch ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchSummary {
    /// Runs recorded.
    pub recorded: u64,
    /// Failed runs recorded.
    pub failed: u64,
    /// The stop request ended it (rather than `runs`).
    pub stopped: bool,
    /// The last run that ended failed.
    pub last_run_failed: bool,
}

/// When the next run starts.
///
/// Runs start `every` apart. After a run that met a rate limit (a 429, whether or not the retries
/// got through), the pause is counted from the run's end instead, doubles with each such run in
/// a row up to [`MAX_STRETCH`] times `every`, and is never shorter than the longest wait the
/// answers asked for; a run without a 429 restores the schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    every: Duration,
    /// Rate-limited runs in a row.
    streak: u32,
}

impl Schedule {
    /// A run every `every`.
    pub fn new(every: Duration) -> Self {
        Self { every, streak: 0 }
    }

    /// The pause after a run that took `ran_for`, and whether rate limits stretched it.
    /// `rate_limited` is `None` for a run without a 429, else the longest wait its 429s asked for
    /// (the retry table's, or a longer `Retry-After`).
    pub fn pause_after(&mut self, ran_for: Duration, rate_limited: Option<Duration>) -> (Duration, bool) {
        match rate_limited {
            None => {
                self.streak = 0;
                (self.every.saturating_sub(ran_for), false)
            }
            Some(asked) => {
                self.streak = self.streak.saturating_add(1);
                let factor = 1u32
                    .checked_shl(self.streak)
                    .unwrap_or(MAX_STRETCH)
                    .min(MAX_STRETCH);
                (self.every.saturating_mul(factor).max(asked), true)
            }
        }
    }
}

/// Syncs `config`'s tenant on `options`' schedule into `store` until `stop` completes or
/// `options.runs` runs are done. Fails only when the store or the events file cannot be written
/// (or the configuration cannot make a client); a failed sync is recorded and the watch goes on.
pub async fn watch(
    config: &Config,
    store: &mut SnapshotStore,
    options: &WatchOptions,
    stop: impl Future<Output = ()>,
) -> Result<WatchSummary, Error> {
    let emit = |event: WatchEvent| {
        if let Some(observer) = &options.observer {
            observer(&event);
        }
    };
    // A configuration that cannot make a client fails now, not at every run.
    let api_host = Client::new(config)?.host().to_owned();
    if let Some(path) = &options.events {
        append_events(path, &[])?;
    }
    tokio::pin!(stop);
    let mut summary = WatchSummary::default();
    let mut schedule = Schedule::new(options.every);
    // The last good run and its snapshot, loaded when first needed and kept: each run is compared
    // with it, and it is replaced by each good run.
    let mut last_good: Option<(RunRef, Snapshot)> = None;
    let mut attempts = 0u64;
    loop {
        attempts += 1;
        emit(WatchEvent::Started);
        let started = Instant::now();
        let started_at = rfc3339_now();
        let rate_limits = Arc::new(RateLimitSeen::default());
        // A client per run: the retry deadline counts from the client's making.
        let client = Client::with_observer(config, Some(rate_limits.observer()))?;
        let synced = tokio::select! {
            biased;
            () = &mut stop => {
                summary.stopped = true;
                return Ok(summary);
            }
            synced = sync(&client, &options.sync) => synced,
        };
        match synced {
            Ok(snapshot) => {
                if last_good.is_none()
                    && let Some(run) = store.latest_run(&api_host)?
                {
                    last_good = Some((RunRef::new(run.id, &run.synced_at), store.load(run.id)?));
                }
                let changes = match &last_good {
                    Some((_, previous)) => Some(diff(previous, &snapshot)?),
                    None => None,
                };
                let run_id = store.record(&snapshot)?;
                let run = RunRef::new(run_id, &snapshot.synced_at);
                summary.recorded += 1;
                summary.last_run_failed = false;
                let compared = match (&last_good, changes) {
                    (Some((old_run, _)), Some(changes)) => {
                        let events = events_of(&changes, old_run, &run);
                        if let Some(path) = &options.events {
                            append_events(path, &events)?;
                        }
                        Some((old_run.clone(), events.len()))
                    }
                    _ => None,
                };
                emit(WatchEvent::Recorded {
                    run: run.clone(),
                    counts: (snapshot.users.len(), snapshot.admins.len(), snapshot.groups.len()),
                    compared,
                });
                last_good = Some((run, snapshot));
            }
            Err(error) => {
                let failed = store.record_failure(&api_host, &started_at, &rfc3339_now(), &error)?;
                summary.failed += 1;
                summary.last_run_failed = true;
                if error
                    .failure()
                    .is_some_and(|f| f.kind == crate::ErrorKind::RateLimited)
                {
                    rate_limits.seen.store(true, Ordering::Relaxed);
                }
                emit(WatchEvent::Failed(failed));
            }
        }
        if options.runs.is_some_and(|runs| attempts >= runs) {
            return Ok(summary);
        }
        let (wait, stretched) = schedule.pause_after(started.elapsed(), rate_limits.asked());
        emit(WatchEvent::Waiting { wait, stretched });
        tokio::select! {
            biased;
            () = &mut stop => {
                summary.stopped = true;
                return Ok(summary);
            }
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// The 429s one run met, as the client reports its waits.
#[derive(Debug, Default)]
struct RateLimitSeen {
    seen: AtomicBool,
    longest_wait_ms: AtomicU64,
}

impl RateLimitSeen {
    fn observer(self: &Arc<Self>) -> crate::client::Observer {
        let seen = Arc::clone(self);
        Arc::new(move |event| {
            if let ClientEvent::RetryWait {
                class: RetryClass::RateLimited,
                wait,
                ..
            } = event
            {
                seen.seen.store(true, Ordering::Relaxed);
                let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                seen.longest_wait_ms.fetch_max(ms, Ordering::Relaxed);
            }
        })
    }

    /// `Some(longest wait asked)` when the run met a rate limit.
    fn asked(&self) -> Option<Duration> {
        self.seen
            .load(Ordering::Relaxed)
            .then(|| Duration::from_millis(self.longest_wait_ms.load(Ordering::Relaxed)))
    }
}

/// Appends `events` to `path` in one write and flushes them to disk (creating the file).
fn append_events(path: &Path, events: &[AccessEvent]) -> Result<(), Error> {
    let text: String = events.iter().map(AccessEvent::to_line).collect();
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_data()
        });
    written.map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn runs_start_every_interval_and_a_long_run_is_followed_at_once() {
        let mut schedule = Schedule::new(10 * SECOND);
        assert_eq!(schedule.pause_after(3 * SECOND, None), (7 * SECOND, false));
        assert_eq!(schedule.pause_after(12 * SECOND, None), (Duration::ZERO, false));
    }

    #[test]
    fn rate_limits_double_the_pause_up_to_the_cap_and_a_clean_run_restores_it() {
        let mut schedule = Schedule::new(10 * SECOND);
        let limited = Some(SECOND);
        let pauses: Vec<Duration> = (0..6)
            .map(|_| schedule.pause_after(2 * SECOND, limited).0)
            .collect();
        assert_eq!(
            pauses,
            [20, 40, 80, 160, 160, 160].map(|s| s * SECOND),
            "doubled from the run's end, at most {MAX_STRETCH}×"
        );
        assert_eq!(schedule.pause_after(2 * SECOND, None), (8 * SECOND, false));
        assert_eq!(schedule.pause_after(2 * SECOND, limited), (20 * SECOND, true));
    }

    #[test]
    fn a_longer_wait_asked_for_wins() {
        let mut schedule = Schedule::new(SECOND);
        assert_eq!(
            schedule.pause_after(Duration::ZERO, Some(45 * SECOND)),
            (45 * SECOND, true)
        );
    }

    #[test]
    fn events_are_appended_and_the_file_is_created_even_when_there_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        append_events(&path, &[]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        let old = crate::snapshot::test_snapshot("t0", "", "", "", "");
        let new = crate::snapshot::test_snapshot("t1", r#"{"user_id":"DU1"},{"user_id":"DU2"}"#, "", "", "");
        let events = events_of(
            &diff(&old, &new).unwrap(),
            &RunRef::new(1, "t0"),
            &RunRef::new(2, "t1"),
        );
        append_events(&path, &events).unwrap();
        append_events(&path, &events[..1]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        for line in text.lines() {
            let event: AccessEvent = serde_json::from_str(line).unwrap();
            assert_eq!(event.new_run.id, 2);
        }
        let error = append_events(&dir.path().join("missing/events.jsonl"), &[]).unwrap_err();
        assert!(error.to_string().contains("missing/events.jsonl"), "{error}");
    }
}
