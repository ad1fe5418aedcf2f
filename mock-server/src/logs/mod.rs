//! Duo's logs as a function of time: events are never stored, they are generated on demand from
//! the scenario's seed, the log and the minute they fall in, so any window reads the same events
//! in any order and page size, and memory does not grow with the log's volume.
//!
//! - [`config`]: the scenario's `[logs]` table.
//! - `timeline`: minutes (buckets), how many events each holds (drawn without making them, so
//!   counts over 180 days are cheap), making a minute's events, visibility after the ingestion
//!   delay, and walking a window in either order.
//! - `people`: the users, devices, groups, admins and integrations events name.
//! - one module per log: what an event of it is (`authentication`, `administrator`,
//!   `telephony`, `activity`, `offline`, `trust_monitor`), as tables of names and weights.
//! - [`query`]: request parameters, Duo's exact error texts, cursors and filters.
//! - [`answer`]: a request's page as Duo's JSON; [`reports`]: the info reports counted from
//!   the same logs.
//!
//! A user's `last_login` is exactly their latest successful authentication: each user with a
//! last login has one success at that very second, other successes at `t` are drawn among the
//! users whose last login is after `t`, and none follow the latest last login unless
//! `live_successes` is set. Administrators' `admin_login` events follow the same rule.

pub(crate) mod access;
pub(crate) mod activity;
pub(crate) mod administrator;
pub mod answer;
pub(crate) mod authentication;
pub mod config;
pub(crate) mod mix;
pub(crate) mod offline;
pub(crate) mod people;
pub mod query;
pub(crate) mod random;
pub mod reports;
pub(crate) mod telephony;
#[cfg(test)]
mod tests;
pub(crate) mod timeline;
pub(crate) mod trust_monitor;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use crate::scenario::Scenario;
use crate::store::Tenant;

use self::config::LogsConfig;
use self::people::People;
use self::timeline::{BucketCache, DayCounts, Stream};

/// The logs Duo serves, each a stream of events in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogKind {
    /// Authentication attempts (v2, and v1 legacy).
    Authentication,
    /// Administrator actions (v1).
    Administrator,
    /// SMS and phone calls (v1 and v2).
    Telephony,
    /// The activity log (v2, public preview).
    Activity,
    /// Offline enrollment (Windows Logon) events (v1).
    OfflineEnrollment,
    /// Trust Monitor events.
    TrustMonitor,
}

impl LogKind {
    /// Every log.
    pub const ALL: [Self; 6] = [
        Self::Authentication,
        Self::Administrator,
        Self::Telephony,
        Self::Activity,
        Self::OfflineEnrollment,
        Self::TrustMonitor,
    ];

    /// The name used in the scenario (`[logs.<name>]`), the dump and the control API.
    pub fn name(self) -> &'static str {
        match self {
            Self::Authentication => "authentication",
            Self::Administrator => "administrator",
            Self::Telephony => "telephony",
            Self::Activity => "activity",
            Self::OfflineEnrollment => "offline_enrollment",
            Self::TrustMonitor => "trust_monitor",
        }
    }

    /// The log called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// No user, admin or target.
pub(crate) const NOBODY: u32 = u32::MAX;
/// No device.
pub(crate) const NO_DEVICE: u16 = u16::MAX;

/// One event before it is rendered: when, its seed (identity, ties, everything else drawn from
/// it), and what filters look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    /// When it happened, unix microseconds.
    pub(crate) at_us: i64,
    /// Its seed: ids are made from it, and it breaks ties in time.
    pub(crate) seed: u64,
    /// Its class in the log's counts (authentication: the result or enrollment).
    pub(crate) class: u8,
    /// The user it is about (or the admin who acted), or [`NOBODY`].
    pub(crate) subject: u32,
    /// Another object it names (a user acted on, the admin who enabled a bypass), or [`NOBODY`].
    pub(crate) target: u32,
    /// Per log: factor, action, context, type.
    pub(crate) what: u16,
    /// Per log: reason.
    pub(crate) why: u16,
    /// The application (index into the people's applications or integrations).
    pub(crate) app: u16,
    /// The subject's device, or [`NO_DEVICE`].
    pub(crate) device: u16,
}

/// The logs of one served scenario: their configuration, the people they name (read at the
/// first use), and bounded caches of counts and generated minutes.
#[derive(Debug)]
pub struct Logs {
    config: LogsConfig,
    seed: u64,
    anchor: i64,
    streams: Vec<Stream>,
    people: OnceLock<People>,
    days: Mutex<HashMap<(LogKind, i64), Arc<DayCounts>>>,
    buckets: Mutex<BucketCache>,
    /// The admin panel's host, for Trust Monitor's `triage_event_uri`.
    admin_host: String,
    /// The account's `akey` (activity events).
    akey: String,
}

impl Logs {
    /// The logs of `scenario`, whose tenant has `anchor` (unix seconds).
    pub fn new(scenario: &Scenario, anchor: i64) -> Self {
        let config = scenario.logs.clone();
        let streams = timeline::streams(&config);
        let seed = scenario.tenant.seed;
        let host = &scenario.tenant.api_hostname;
        let admin_host = host
            .strip_prefix("api-")
            .map_or_else(|| host.clone(), |rest| format!("admin-{rest}"));
        let mut draws = random::Draws::new(random::seed_of(&[seed, 0xA4E7]));
        let akey = crate::model::random_id(&mut RngOf(&mut draws), "DA");
        Self {
            config,
            seed,
            anchor,
            streams,
            people: OnceLock::new(),
            days: Mutex::new(HashMap::new()),
            buckets: Mutex::new(BucketCache::default()),
            admin_host,
            akey,
        }
    }

    /// Whether the scenario declares any log.
    pub fn any(&self) -> bool {
        !self.streams.is_empty()
    }

    /// The scenario's `[logs]` table.
    pub fn config(&self) -> &LogsConfig {
        &self.config
    }

    /// The tenant's anchor, unix seconds.
    pub fn anchor(&self) -> i64 {
        self.anchor
    }

    /// The people events name, read from `tenant` the first time (the tenant the scenario
    /// built: a world that edits its tenant reads them first, see `World::with_tenant`).
    pub(crate) fn people(&self, scenario: &Scenario, tenant: &Tenant) -> &People {
        self.people.get_or_init(|| {
            let apps = self
                .config
                .authentication
                .as_ref()
                .and_then(|a| a.applications.clone())
                .unwrap_or_default();
            People::read(scenario, tenant, &apps)
        })
    }

    /// Reads the people now if the scenario has logs (before the tenant is edited).
    pub fn read_people(&self, scenario: &Scenario, tenant: &Tenant) {
        if self.any() {
            self.people(scenario, tenant);
        }
    }

    /// The stream of `kind`, if the scenario declares it.
    pub(crate) fn stream(&self, kind: LogKind) -> Option<&Stream> {
        self.streams.iter().find(|s| s.kind == kind)
    }
}

/// Lets the model's id maker draw from a [`random::Draws`].
struct RngOf<'a>(&'a mut random::Draws);

impl rand::RngCore for RngOf<'_> {
    fn next_u32(&mut self) -> u32 {
        (self.0.next() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.0.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}
