//! Time for the logs: minutes (buckets), how many events of each class a minute holds (a Poisson
//! draw from the log's rate at that hour, made without making the events), a minute's events,
//! when each becomes visible, and a walk over a window in either order.
//!
//! Counts of whole days are kept as prefix sums (a bounded cache), so `total_objects` over 180
//! days costs a few hundred additions; only the minutes at a window's edges and the last few
//! minutes, whose events may still be on their way, are made and looked at one by one.

use std::collections::{HashMap, VecDeque};
use std::ops::ControlFlow;
use std::sync::Arc;

use super::config::LogsConfig;
use super::people::{Logins, People};
use super::random::{Draws, poisson, seed_of};
use super::{Event, LogKind, Logs, NO_DEVICE, NOBODY};
use super::{activity, administrator, authentication, offline, telephony, trust_monitor};

/// One bucket: a minute, in microseconds.
pub(crate) const BUCKET_US: i64 = 60_000_000;
/// Buckets in a day.
const DAY_BUCKETS: i64 = 1440;
/// Seed tags: counts, last-login events, visibility.
const COUNT_TAG: u64 = 0xC0;
const LOGIN_TAG: u64 = 0x10;
const DELAY_TAG: u64 = 0xDE1A_7000;

/// Whose last logins a class of events follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Users,
    Admins,
}

/// What makes one log's events, from the scenario's table for it.
#[derive(Debug)]
pub(crate) enum Tables {
    Authentication(authentication::Tables),
    Administrator(administrator::Tables),
    Telephony(telephony::Tables),
    Activity(activity::Tables),
    OfflineEnrollment(offline::Tables),
    TrustMonitor(trust_monitor::Tables),
}

/// One log as a stream of events: its rate by hour, its classes, and what its events are.
#[derive(Debug)]
pub(crate) struct Stream {
    pub(crate) kind: LogKind,
    /// Expected events per minute in each UTC hour, all classes together.
    per_minute: [f64; 24],
    /// Share of each class.
    pub(crate) shares: Vec<f64>,
    /// Share of events at the microsecond of the one before.
    ties: f64,
    /// The class whose events follow last logins (one at each, the others before them).
    pub(crate) logins: Option<(u8, Who)>,
    pub(crate) tables: Tables,
}

impl Stream {
    /// Expected events per minute in UTC hour `hour`.
    pub(crate) fn per_minute(&self, hour: usize) -> f64 {
        self.per_minute.get(hour).copied().unwrap_or(0.0)
    }
}

/// The streams a `[logs]` table declares.
pub(crate) fn streams(config: &LogsConfig) -> Vec<Stream> {
    let mut out = Vec::new();
    let mut add = |kind: LogKind, table: &super::config::LogTable, shares: Vec<f64>, logins, tables| {
        let total: f64 = table.hours.iter().sum();
        let mut per_minute = [0.0; 24];
        for (slot, weight) in per_minute.iter_mut().zip(table.hours) {
            *slot = if total > 0.0 {
                table.per_day * weight / total / 60.0
            } else {
                0.0
            };
        }
        out.push(Stream {
            kind,
            per_minute,
            shares,
            ties: table.ties,
            logins,
            tables,
        });
    };
    if let Some(table) = &config.authentication {
        let tables = authentication::Tables::new(table, config);
        add(
            LogKind::Authentication,
            table,
            tables.shares(),
            Some((authentication::SUCCESS, Who::Users)),
            Tables::Authentication(tables),
        );
    }
    if let Some(table) = &config.administrator {
        let tables = administrator::Tables::new(table);
        add(
            LogKind::Administrator,
            table,
            tables.shares(),
            Some((administrator::LOGIN, Who::Admins)),
            Tables::Administrator(tables),
        );
    }
    if let Some(table) = &config.telephony {
        let tables = telephony::Tables::new(table);
        add(
            LogKind::Telephony,
            table,
            tables.shares(),
            None,
            Tables::Telephony(tables),
        );
    }
    if let Some(table) = &config.activity {
        add(
            LogKind::Activity,
            table,
            vec![1.0],
            None,
            Tables::Activity(activity::Tables::new(table)),
        );
    }
    if let Some(table) = &config.offline_enrollment {
        add(
            LogKind::OfflineEnrollment,
            table,
            vec![1.0],
            None,
            Tables::OfflineEnrollment(offline::Tables::new(table)),
        );
    }
    if let Some(table) = &config.trust_monitor {
        add(
            LogKind::TrustMonitor,
            table,
            vec![1.0],
            None,
            Tables::TrustMonitor(trust_monitor::Tables::new(table)),
        );
    }
    out
}

/// Each class's events in the hours of one day, as prefix sums (`[0, first hour, first two…]`):
/// 100 bytes a class, so a year of days costs little; minutes at a range's edges are drawn again.
#[derive(Debug)]
pub(crate) struct DayCounts {
    hours: Vec<[u32; 25]>,
}

/// Recently made minutes, kept while there is room (pages that go on where the last ended
/// find the minute already made).
#[derive(Debug, Default)]
pub(crate) struct BucketCache {
    made: HashMap<(LogKind, i64), Arc<[Event]>>,
    order: VecDeque<(LogKind, i64)>,
    events: usize,
}

/// Most events kept made (about 40 bytes each).
const CACHE_EVENTS: usize = 50_000;
/// Most days of counts kept.
const CACHE_DAYS: usize = 4096;

impl BucketCache {
    fn get(&self, key: (LogKind, i64)) -> Option<Arc<[Event]>> {
        self.made.get(&key).cloned()
    }

    fn put(&mut self, key: (LogKind, i64), events: Arc<[Event]>) {
        if events.len() > CACHE_EVENTS / 4 {
            return;
        }
        while self.events + events.len() > CACHE_EVENTS {
            let Some(old) = self.order.pop_front() else { break };
            if let Some(gone) = self.made.remove(&old) {
                self.events -= gone.len();
            }
        }
        self.events += events.len();
        if let Some(replaced) = self.made.insert(key, events) {
            self.events -= replaced.len();
        } else {
            self.order.push_back(key);
        }
    }
}

/// A window of a log: inclusive microsecond bounds, the time "now" (what is visible), and the
/// log's stream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub(crate) stream: &'a Stream,
    pub(crate) people: &'a People,
    /// First microsecond (inclusive).
    pub(crate) lo_us: i64,
    /// Last microsecond (inclusive).
    pub(crate) hi_us: i64,
    /// The server's now, microseconds: events not yet visible are left out.
    pub(crate) now_us: i64,
}

/// Walking order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Ascending,
    Descending,
}

/// Where an event sits in a log's order: (time in the cursor's unit, the rest in microseconds,
/// seed). The ids Duo's cursors carry start with the rest and then the seed in hex, so comparing
/// positions compares what the cursors' ids compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Position {
    pub(crate) coarse: i64,
    pub(crate) fine: u64,
    pub(crate) seed: u64,
}

impl Position {
    /// The position of `event` for cursors whose time is in units of `unit_us`.
    pub(crate) fn of(event: &Event, unit_us: i64) -> Self {
        Self {
            coarse: event.at_us.div_euclid(unit_us),
            fine: event.at_us.rem_euclid(unit_us).unsigned_abs(),
            seed: event.seed,
        }
    }
}

impl Logs {
    /// Expected events of `class` in bucket `b`.
    fn expected(&self, stream: &Stream, people: &People, b: i64, class: usize) -> f64 {
        let possible = match stream.tables {
            Tables::Authentication(_) | Tables::OfflineEnrollment(_) | Tables::TrustMonitor(_) => {
                !people.persons.is_empty() && !people.applications.is_empty()
            }
            Tables::Telephony(_) => !people.with_phone.is_empty(),
            Tables::Administrator(_) | Tables::Activity(_) => true,
        };
        if !possible {
            return 0.0;
        }
        let hour = usize::try_from(b.rem_euclid(DAY_BUCKETS) / 60).unwrap_or(0);
        let share = stream.shares.get(class).copied().unwrap_or(0.0);
        if let Some((login_class, who)) = stream.logins
            && usize::from(login_class) == class
            && !self.config.live_successes
        {
            // No success after the latest last login: nobody could have had it.
            let latest = logins_of(people, who).latest();
            if latest.is_none_or(|t| b >= t.saturating_mul(1_000_000).div_euclid(BUCKET_US)) {
                return 0.0;
            }
        }
        stream.per_minute.get(hour).copied().unwrap_or(0.0) * share
    }

    /// Events of `class` in bucket `b` (besides the last-login events).
    fn drawn(&self, stream: &Stream, people: &People, b: i64, class: usize) -> u32 {
        let lambda = self.expected(stream, people, b, class);
        if lambda <= 0.0 {
            return 0;
        }
        let mut draws = Draws::new(seed_of(&[
            self.seed,
            stream.kind as u64,
            b as u64,
            class as u64,
            COUNT_TAG,
        ]));
        poisson(lambda, draws.unit())
    }

    fn day_counts(&self, stream: &Stream, people: &People, day: i64) -> Arc<DayCounts> {
        let key = (stream.kind, day);
        if let Some(found) = lock(&self.days).get(&key) {
            return Arc::clone(found);
        }
        let hours = (0..stream.shares.len())
            .map(|class| {
                let mut prefix = [0u32; 25];
                for hour in 0..24 {
                    let first = day * DAY_BUCKETS + hour as i64 * 60;
                    let in_hour: u32 = (first..first + 60)
                        .map(|b| self.drawn(stream, people, b, class))
                        .fold(0, u32::saturating_add);
                    prefix[hour + 1] = prefix[hour].saturating_add(in_hour);
                }
                prefix
            })
            .collect();
        let counts = Arc::new(DayCounts { hours });
        let mut days = lock(&self.days);
        if days.len() >= CACHE_DAYS {
            days.clear();
        }
        days.insert(key, Arc::clone(&counts));
        counts
    }

    /// Events of `class` in minutes `start..end` of `day`.
    fn count_in_day(
        &self,
        stream: &Stream,
        people: &People,
        day: i64,
        class: usize,
        start: i64,
        end: i64,
    ) -> u64 {
        let minutes = |from: i64, to: i64| -> u64 {
            (from..to)
                .map(|m| u64::from(self.drawn(stream, people, day * DAY_BUCKETS + m, class)))
                .sum()
        };
        let (first_hour, last_hour) = ((start + 59) / 60, end / 60);
        if first_hour >= last_hour {
            return minutes(start, end);
        }
        let counts = self.day_counts(stream, people, day);
        let whole = counts.hours.get(class).map_or(0, |prefix| {
            let at = |h: i64| u64::from(prefix[usize::try_from(h).unwrap_or(0).min(24)]);
            at(last_hour).saturating_sub(at(first_hour))
        });
        whole + minutes(start, first_hour * 60) + minutes(last_hour * 60, end)
    }

    /// Events of the classes in `classes` (a bit per class) in whole buckets `from..to`, last-login
    /// events included, visible or not.
    pub(crate) fn count_buckets(
        &self,
        stream: &Stream,
        people: &People,
        from: i64,
        to: i64,
        classes: u32,
    ) -> u64 {
        let mut total = 0u64;
        let mut b = from;
        while b < to {
            let day = b.div_euclid(DAY_BUCKETS);
            let start = b - day * DAY_BUCKETS;
            let end = (to - day * DAY_BUCKETS).min(DAY_BUCKETS);
            for class in 0..stream.shares.len() {
                if classes & (1 << class) != 0 {
                    total += self.count_in_day(stream, people, day, class, start, end);
                }
            }
            b = day * DAY_BUCKETS + end;
        }
        if let Some((class, who)) = stream.logins
            && classes & (1 << class) != 0
        {
            let logins = logins_of(people, who);
            let range = logins.first_at_or_after(from.saturating_mul(60))
                ..logins.first_at_or_after(to.saturating_mul(60));
            total += range.len() as u64;
        }
        total
    }

    /// The events of bucket `b`, in the log's order (time, then seed).
    pub(crate) fn bucket(&self, stream: &Stream, people: &People, b: i64) -> Arc<[Event]> {
        let key = (stream.kind, b);
        if let Some(found) = lock(&self.buckets).get(key) {
            return found;
        }
        let made: Arc<[Event]> = self.make_bucket(stream, people, b).into();
        if !made.is_empty() {
            lock(&self.buckets).put(key, Arc::clone(&made));
        }
        made
    }

    /// How many events bucket `b` holds (visible or not), without making them.
    fn bucket_total(&self, stream: &Stream, people: &People, b: i64) -> u64 {
        self.count_buckets(stream, people, b, b + 1, u32::MAX)
    }

    fn make_bucket(&self, stream: &Stream, people: &People, b: i64) -> Vec<Event> {
        let mut events = Vec::new();
        let mut previous: Option<i64> = None;
        let start = b * BUCKET_US;
        for class in 0..stream.shares.len() {
            let n = self.drawn(stream, people, b, class);
            for slot in 0..n {
                let seed = seed_of(&[
                    self.seed,
                    stream.kind as u64,
                    b as u64,
                    class as u64,
                    u64::from(slot),
                ]);
                let mut draws = Draws::new(seed);
                let at_us = match previous {
                    Some(at) if draws.chance(stream.ties) => at,
                    _ => start + draws.between(0, BUCKET_US),
                };
                previous = Some(at_us);
                let mut event = blank(at_us, seed, class);
                self.fill(stream, people, &mut event, &mut draws, None);
                events.push(event);
            }
        }
        if let Some((class, who)) = stream.logins {
            let logins = logins_of(people, who);
            let from = logins.first_at_or_after(b * 60);
            let to = logins.first_at_or_after(b * 60 + 60);
            for k in from..to {
                let subject = logins.who[k];
                let seed = seed_of(&[self.seed, stream.kind as u64, LOGIN_TAG, u64::from(subject)]);
                let mut draws = Draws::new(seed);
                let at_us = logins.times[k]
                    .saturating_mul(1_000_000)
                    .saturating_add(draws.between(0, 1_000_000));
                let mut event = blank(at_us, seed, usize::from(class));
                self.fill(stream, people, &mut event, &mut draws, Some(subject));
                events.push(event);
            }
        }
        events.sort_unstable_by_key(|e| (e.at_us, e.seed));
        events
    }

    fn fill(
        &self,
        stream: &Stream,
        people: &People,
        event: &mut Event,
        draws: &mut Draws,
        subject: Option<u32>,
    ) {
        match &stream.tables {
            Tables::Authentication(t) => t.fill(people, event, draws, subject),
            Tables::Administrator(t) => t.fill(people, event, draws, subject),
            Tables::Telephony(t) => t.fill(people, event, draws),
            Tables::Activity(t) => t.fill(people, event, draws),
            Tables::OfflineEnrollment(t) => t.fill(people, event, draws),
            Tables::TrustMonitor(t) => t.fill(people, event, draws),
        }
    }

    /// When `event` becomes visible, microseconds: after the ingestion delay and its jitter.
    pub(crate) fn visible_at(&self, event: &Event) -> i64 {
        let c = &self.config;
        let mut draws = Draws::new(event.seed ^ DELAY_TAG);
        let base = i64::from(c.ingestion_delay_s) * 1_000_000;
        let jitter = i64::from(c.ingestion_jitter_s) * 1_000_000;
        let extra = if draws.chance(c.late_share) {
            draws.between(jitter, i64::from(c.late_max_s) * 1_000_000)
        } else {
            draws.between(0, jitter)
        };
        event.at_us.saturating_add(base + extra)
    }

    /// The longest an event can take to become visible, microseconds.
    fn longest_delay_us(&self) -> i64 {
        let c = &self.config;
        i64::from(c.ingestion_delay_s + c.ingestion_jitter_s.max(c.late_max_s)) * 1_000_000
    }

    /// First bucket that may hold events not yet visible at `now_us`.
    fn unsettled_from(&self, now_us: i64) -> i64 {
        (now_us - self.longest_delay_us()).div_euclid(BUCKET_US) - 1
    }

    /// Calls `each` with every visible event of `scope` in `order`, from just past `after` (a
    /// position in units of `unit_us`) if given, until it breaks.
    pub(crate) fn walk(
        &self,
        scope: &Scope<'_>,
        order: Order,
        after: Option<(Position, i64)>,
        mut each: impl FnMut(&Event) -> ControlFlow<()>,
    ) {
        if scope.lo_us > scope.hi_us {
            return;
        }
        let (first, last) = (
            scope.lo_us.div_euclid(BUCKET_US),
            scope.hi_us.div_euclid(BUCKET_US),
        );
        let (mut first, mut last) = (first, last);
        if let Some((position, unit)) = after {
            // The bucket of the cursor's time: nothing before it (ascending) or after it
            // (descending) can follow the cursor.
            let at = position.coarse.saturating_mul(unit);
            let b = at.div_euclid(BUCKET_US);
            match order {
                Order::Ascending => first = first.max(b),
                Order::Descending => last = last.min(b + 1),
            }
        }
        let passes = |event: &Event| {
            event.at_us >= scope.lo_us
                && event.at_us <= scope.hi_us
                && after.is_none_or(|(cursor, unit)| {
                    let here = Position::of(event, unit);
                    match order {
                        Order::Ascending => here > cursor,
                        Order::Descending => here < cursor,
                    }
                })
                && self.visible_at(event) <= scope.now_us
        };
        let mut b = if order == Order::Ascending { first } else { last };
        while (first..=last).contains(&b) {
            let next = if order == Order::Ascending { b + 1 } else { b - 1 };
            // Skip a whole day without events in one step (sparse logs over 180 days).
            if b.rem_euclid(DAY_BUCKETS)
                == if order == Order::Ascending {
                    0
                } else {
                    DAY_BUCKETS - 1
                }
            {
                let day = b.div_euclid(DAY_BUCKETS);
                let all = u32::MAX;
                if self.count_buckets(
                    scope.stream,
                    scope.people,
                    day * DAY_BUCKETS,
                    (day + 1) * DAY_BUCKETS,
                    all,
                ) == 0
                {
                    b = if order == Order::Ascending {
                        (day + 1) * DAY_BUCKETS
                    } else {
                        day * DAY_BUCKETS - 1
                    };
                    continue;
                }
            }
            if self.bucket_total(scope.stream, scope.people, b) == 0 {
                b = next;
                continue;
            }
            let events = self.bucket(scope.stream, scope.people, b);
            let flow = match order {
                Order::Ascending => events.iter().filter(|e| passes(e)).try_for_each(&mut each),
                Order::Descending => events.iter().rev().filter(|e| passes(e)).try_for_each(&mut each),
            };
            if flow.is_break() {
                return;
            }
            b = next;
        }
    }

    /// How many visible events of `scope` `matches` accepts. When `classes` is `Some`, `matches`
    /// looks at nothing but an event's class, so whole settled buckets are counted without making
    /// them.
    pub(crate) fn count(
        &self,
        scope: &Scope<'_>,
        classes: Option<u32>,
        matches: impl Fn(&Event) -> bool,
    ) -> u64 {
        if scope.lo_us > scope.hi_us {
            return 0;
        }
        let mut total = 0u64;
        let exact = |lo: i64, hi: i64, total: &mut u64| {
            let part = Scope {
                lo_us: lo.max(scope.lo_us),
                hi_us: hi.min(scope.hi_us),
                ..*scope
            };
            self.walk(&part, Order::Ascending, None, |e| {
                if matches(e) {
                    *total += 1;
                }
                ControlFlow::Continue(())
            });
        };
        let Some(classes) = classes else {
            exact(scope.lo_us, scope.hi_us, &mut total);
            return total;
        };
        // Whole buckets inside the window and old enough that all their events are visible.
        let first_whole =
            scope.lo_us.div_euclid(BUCKET_US) + i64::from(scope.lo_us.rem_euclid(BUCKET_US) != 0);
        let end_whole = (scope.hi_us + 1)
            .div_euclid(BUCKET_US)
            .min(self.unsettled_from(scope.now_us));
        if first_whole >= end_whole {
            exact(scope.lo_us, scope.hi_us, &mut total);
            return total;
        }
        total += self.count_buckets(scope.stream, scope.people, first_whole, end_whole, classes);
        exact(scope.lo_us, first_whole * BUCKET_US - 1, &mut total);
        exact(end_whole * BUCKET_US, scope.hi_us, &mut total);
        total
    }
}

fn blank(at_us: i64, seed: u64, class: usize) -> Event {
    Event {
        at_us,
        seed,
        class: u8::try_from(class).unwrap_or(u8::MAX),
        subject: NOBODY,
        target: NOBODY,
        what: 0,
        why: 0,
        app: 0,
        device: NO_DEVICE,
    }
}

pub(crate) fn logins_of(people: &People, who: Who) -> &Logins {
    match who {
        Who::Users => &people.logins,
        Who::Admins => &people.admin_logins,
    }
}

/// A poisoned lock still guards whole data (nothing here panics while holding one).
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}
