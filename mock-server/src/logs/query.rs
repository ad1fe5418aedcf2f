//! A log request's parameters, checked as Duo checks them, with Duo's exact error texts:
//! millisecond windows (`'mintime' must be a timestamp in milliseconds`, `mintime must be within
//! the past 180 days`, `'maxtime' must be strictly greater than 'mintime'`), second-based v1
//! `mintime`, `limit`, `sort`, the cursors of each shape (comma-joined or repeated keys), and the
//! authentication log's filters.

use std::collections::HashSet;

use super::authentication::{DENIED, ENROLLMENT, ERROR, FRAUD, SUCCESS};
use super::config::{FACTORS, REASONS};
use super::people::People;
use super::timeline::Position;
use super::{Event, LogKind, NO_DEVICE};
use crate::api_error::ApiError;
use crate::params::Params;

/// How an endpoint takes its window, pages and answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `mintime`/`maxtime` in ms (required), `limit` (100, at most 1000), `sort`, `next_offset`;
    /// the page and `metadata` inside `response`, the page under `list`.
    V2 {
        /// Key of the page in `response`: `authlogs` or `items`.
        list: &'static str,
        /// The cursor's shape.
        cursor: CursorShape,
    },
    /// `mintime` in seconds only; the 1000 earliest events as a bare array.
    V1,
    /// Trust Monitor: `mintime`/`maxtime` in ms, `limit`, an opaque `offset`, `type`.
    Offset,
}

/// A v2 cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorShape {
    /// `["<ts ms>", "<txid>"]` (authentication): seconds × 1000 and the event's `txid`.
    TimeAndTxid,
    /// `"<ts ms>,<id>"` (telephony, activity): the event's millisecond and its id, masked by
    /// `mask` (see `telephony::ID_MASK`).
    Joined {
        /// What the id's seed digits are mixed with.
        mask: u64,
    },
}

impl CursorShape {
    /// The cursor's time unit, microseconds.
    pub(crate) fn unit_us(self) -> i64 {
        match self {
            Self::TimeAndTxid => 1_000_000,
            Self::Joined { .. } => 1000,
        }
    }

    /// Hex digits of an id before its seed.
    fn lead_digits(self) -> u32 {
        match self {
            Self::TimeAndTxid => 5,
            Self::Joined { .. } => 3,
        }
    }
}

/// One endpoint serving a log: its path, log and style (the table in `routes::logs`).
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    /// Its name in `[rate_limits.log_endpoints]`.
    pub name: &'static str,
    /// The request path.
    pub path: &'static str,
    /// The log it serves.
    pub kind: LogKind,
    /// How it takes parameters and answers.
    pub style: Style,
}

/// Sort order of a v2 page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sort {
    Ascending,
    Descending,
}

/// A checked v2 (or Trust Monitor) request.
#[derive(Debug)]
pub(crate) struct Windowed {
    /// Inclusive window, milliseconds.
    pub(crate) mintime_ms: i64,
    pub(crate) maxtime_ms: i64,
    pub(crate) limit: usize,
    pub(crate) sort: Sort,
    /// Where the previous page ended (v2).
    pub(crate) after: Option<Position>,
    /// Index of the first event (Trust Monitor's `offset`).
    pub(crate) offset: usize,
}

fn invalid(detail: &str) -> ApiError {
    ApiError::invalid_parameter(detail)
}

fn missing(name: &str) -> ApiError {
    ApiError {
        detail: Some(name.to_owned()),
        ..ApiError::custom(40001, "Missing required request parameters")
    }
}

/// A 13-digit millisecond timestamp (Duo's "13 character Unix timestamp").
fn millis(raw: &[u8]) -> Option<i64> {
    if raw.len() != 13 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(raw).ok()?.parse().ok()
}

/// Non-negative decimal digits that fit an `i64` (at most 18 of them).
fn digits(raw: &[u8]) -> Option<i64> {
    if raw.is_empty() || raw.len() > 18 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(raw).ok()?.parse().ok()
}

/// Checks `mintime`/`maxtime` (ms), `limit`, `sort` and the cursor of a v2 or Trust Monitor
/// request. `bare` names parameters without Duo's sentences (Trust Monitor answers `maxtime`).
pub(crate) fn windowed(
    params: &Params,
    style: Style,
    now_ms: i64,
    retention_days: u32,
    grace_s: u32,
    limits: [usize; 2],
) -> Result<Windowed, ApiError> {
    let bare = style == Style::Offset;
    let mintime = params.first("mintime").ok_or_else(|| missing("mintime"))?;
    let maxtime = params.first("maxtime").ok_or_else(|| missing("maxtime"))?;
    let mintime_ms = millis(mintime).ok_or_else(|| {
        invalid(if bare {
            "mintime"
        } else {
            "'mintime' must be a timestamp in milliseconds"
        })
    })?;
    let maxtime_ms = millis(maxtime).ok_or_else(|| {
        invalid(if bare {
            "maxtime"
        } else {
            "'maxtime' must be a timestamp in milliseconds"
        })
    })?;
    if maxtime_ms <= mintime_ms {
        return Err(invalid(if bare {
            "maxtime"
        } else {
            "'maxtime' must be strictly greater than 'mintime'"
        }));
    }
    let oldest = now_ms - i64::from(retention_days) * 86_400_000 - i64::from(grace_s) * 1000;
    if mintime_ms < oldest {
        return Err(invalid(&format!(
            "mintime must be within the past {retention_days} days"
        )));
    }
    let [default_limit, max_limit] = limits;
    let limit = match params.first("limit") {
        None => default_limit,
        Some(raw) => match digits(raw).ok_or_else(|| invalid("limit"))? {
            0 => default_limit,
            n => usize::try_from(n).unwrap_or(max_limit).min(max_limit),
        },
    };
    let sort = match params.first("sort") {
        None | Some(b"ts:desc") => Sort::Descending,
        Some(b"ts:asc") => Sort::Ascending,
        Some(_) => return Err(invalid("sort")),
    };
    let mut request = Windowed {
        mintime_ms,
        maxtime_ms,
        limit,
        sort,
        after: None,
        offset: 0,
    };
    match style {
        Style::V2 { cursor, .. } => {
            if params.has("next_offset") {
                request.after = Some(position(params, cursor).ok_or_else(|| invalid("next_offset"))?);
            }
        }
        Style::Offset => {
            if let Some(raw) = params.first("offset") {
                request.offset = digits(raw)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or_else(|| invalid("offset"))?;
            }
        }
        Style::V1 => {}
    }
    Ok(request)
}

/// A v1 request's `mintime` (seconds; absent means 0), or 40002.
pub(crate) fn v1_mintime(params: &Params) -> Result<i64, ApiError> {
    match params.first("mintime") {
        None => Ok(0),
        Some(raw) => digits(raw).ok_or_else(|| invalid("mintime")),
    }
}

/// The values of a list parameter: repeated keys, each possibly comma-separated, or a JSON
/// list (what some clients send). Empty items are dropped. `None`: not UTF-8 or bad JSON.
pub(crate) fn list(params: &Params, key: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for raw in params.all(key) {
        let text = std::str::from_utf8(raw).ok()?;
        if text.trim_start().starts_with('[') {
            out.extend(
                serde_json::from_str::<Vec<serde_json::Value>>(text)
                    .ok()?
                    .into_iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    }),
            );
        } else {
            out.extend(text.split(',').filter(|s| !s.is_empty()).map(str::to_owned));
        }
    }
    Some(out)
}

/// The cursor of `next_offset` in its `shape`.
fn position(params: &Params, shape: CursorShape) -> Option<Position> {
    let values = list(params, "next_offset")?;
    let [ts, id] = values.as_slice() else {
        return None;
    };
    let ts = digits(ts.as_bytes())?;
    let (lead, seed) = super::access::read_uuid(id.as_bytes(), shape.lead_digits())?;
    let seed = match shape {
        CursorShape::TimeAndTxid => seed,
        CursorShape::Joined { mask } => seed ^ mask,
    };
    Some(Position {
        // The cursor's time is in ms; positions count in the cursor's unit.
        coarse: ts.div_euclid(shape.unit_us() / 1000),
        fine: lead,
        seed,
    })
}

/// The authentication log's filters; each set given narrows what matches.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    /// Classes allowed (bit per class), from `results` and `event_types`.
    classes: Option<u32>,
    users: Option<HashSet<u32>>,
    groups: Option<HashSet<u32>>,
    applications: Option<HashSet<u16>>,
    factors: Option<u32>,
    reasons: Option<u64>,
    phone_numbers: Option<HashSet<Vec<u8>>>,
    devices: Option<HashSet<Vec<u8>>>,
}

impl Filter {
    /// Reads the filters of an authentication request (unknown parameters are ignored, as Duo
    /// appears to; unknown values match nothing).
    pub(crate) fn authentication(params: &Params, people: &People) -> Result<Self, ApiError> {
        let read = |key: &str| -> Result<Option<Vec<String>>, ApiError> {
            if !params.has(key) {
                return Ok(None);
            }
            list(params, key).map(Some).ok_or_else(|| invalid(key))
        };
        let mut filter = Self::default();
        if let Some(results) = read("results")? {
            let mut mask = 0;
            for r in &results {
                mask |= match r.as_str() {
                    "success" => 1 << SUCCESS | 1 << ENROLLMENT,
                    "denied" => 1 << DENIED,
                    "fraud" => 1 << FRAUD,
                    "error" => 1 << ERROR,
                    _ => 0,
                };
            }
            filter.classes = Some(mask);
        }
        if let Some(types) = read("event_types")? {
            let mut mask = 0;
            for t in &types {
                mask |= match t.as_str() {
                    "authentication" => (1 << SUCCESS) | (1 << DENIED) | (1 << FRAUD) | (1 << ERROR),
                    "enrollment" => 1 << ENROLLMENT,
                    _ => 0,
                };
            }
            filter.classes = Some(filter.classes.unwrap_or(u32::MAX) & mask);
        }
        if let Some(users) = read("users")? {
            filter.users = Some(people.users_by_id(&users));
        }
        if let Some(groups) = read("groups")? {
            filter.groups = Some(
                groups
                    .iter()
                    .filter_map(|id| people.groups.iter().position(|g| g.group_id == *id))
                    .filter_map(|i| u32::try_from(i).ok())
                    .collect(),
            );
        }
        if let Some(apps) = read("applications")? {
            filter.applications = Some(
                apps.iter()
                    .filter_map(|ikey| people.applications.iter().position(|a| a.ikey == *ikey))
                    .filter_map(|i| u16::try_from(i).ok())
                    .collect(),
            );
        }
        if let Some(factors) = read("factors")? {
            filter.factors = Some(
                factors
                    .iter()
                    .filter_map(|f| FACTORS.iter().position(|known| known == f))
                    .fold(0, |mask, i| mask | 1 << i),
            );
        }
        if let Some(reasons) = read("reasons")? {
            filter.reasons = Some(
                reasons
                    .iter()
                    .filter_map(|r| REASONS.iter().position(|known| known == r))
                    .fold(0, |mask, i| mask | 1 << i),
            );
        }
        if let Some(numbers) = read("phone_numbers")? {
            filter.phone_numbers = Some(numbers.into_iter().map(String::into_bytes).collect());
        }
        let mut devices: Option<HashSet<Vec<u8>>> = None;
        for key in ["tokens", "token_id", "registration_id", "webauthnkey"] {
            if let Some(ids) = read(key)? {
                devices
                    .get_or_insert_with(HashSet::new)
                    .extend(ids.into_iter().map(String::into_bytes));
            }
        }
        filter.devices = devices;
        Ok(filter)
    }

    /// When only classes are filtered: the allowed classes (so counts need no events).
    pub(crate) fn classes_only(&self) -> Option<u32> {
        let other = self.users.is_some()
            || self.groups.is_some()
            || self.applications.is_some()
            || self.factors.is_some()
            || self.reasons.is_some()
            || self.phone_numbers.is_some()
            || self.devices.is_some();
        if other {
            None
        } else {
            Some(self.classes.unwrap_or(u32::MAX))
        }
    }

    /// Whether `event` passes every filter given.
    pub(crate) fn matches(&self, event: &Event, people: &People) -> bool {
        if self.classes.is_some_and(|mask| mask & (1 << event.class) == 0)
            || self
                .users
                .as_ref()
                .is_some_and(|set| !set.contains(&event.subject))
            || self
                .applications
                .as_ref()
                .is_some_and(|set| !set.contains(&event.app))
            || self.factors.is_some_and(|mask| mask & (1 << event.what) == 0)
            || self
                .reasons
                .is_some_and(|mask| event.why >= 64 || mask & (1 << event.why) == 0)
        {
            return false;
        }
        if let Some(groups) = &self.groups
            && !people.groups_of(event.subject).iter().any(|g| groups.contains(g))
        {
            return false;
        }
        if self.phone_numbers.is_some() || self.devices.is_some() {
            let person = people.persons.get(event.subject as usize);
            let device = person.and_then(|p| {
                (event.device != NO_DEVICE)
                    .then(|| people.devices(p).get(usize::from(event.device)))
                    .flatten()
            });
            let json = people.json(event.subject);
            if let Some(numbers) = &self.phone_numbers {
                let number = device
                    .filter(|d| matches!(d.kind, super::people::DeviceKind::Phone { .. }))
                    .map(|d| d.name.text(&json));
                if !number.is_some_and(|n| numbers.contains(n)) {
                    return false;
                }
            }
            if let Some(ids) = &self.devices
                && !device.is_some_and(|d| ids.contains(d.id.text(&json)))
            {
                return false;
            }
        }
        true
    }
}
