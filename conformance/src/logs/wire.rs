//! How a collector asked for logs (CONTRACT-LOGS.md, "On the wire"): milliseconds where Duo wants
//! them (L5), within the 180-day retention (L6), `maxtime` after `mintime` (L7), nothing
//! unsettled (L8), no identical request after a page that had a next cursor (L11).

use std::collections::HashMap;

use mock_server::journal::JournalEntry;

/// Duo's retention, milliseconds.
const RETENTION_MS: i64 = 180 * 86_400_000;
/// Grace on the settle check: the collector's clock and the journal's may differ a little.
const SETTLE_GRACE_MS: i64 = 1000;
/// An answer this slow may have outlived the client's timeout (microseconds).
const SLOW_ANSWER_US: u64 = 5_000_000;
/// Least wait after a 429 before asking the same log again (Duo sends no `Retry-After`), less
/// the journal's timing margin.
const MIN_WAIT_AFTER_429_MS: u64 = 1000 - crate::journal_check::WAIT_TOLERANCE_MS;

/// Whether `path` is a log endpoint, and whether it takes milliseconds (v2 and Trust Monitor).
pub fn log_endpoint(path: &str) -> Option<bool> {
    if path == "/admin/v1/trust_monitor/events" || path.starts_with("/admin/v2/logs/") {
        Some(true)
    } else if path.starts_with("/admin/v1/logs/") {
        Some(false)
    } else {
        None
    }
}

/// The log type a request reads.
pub fn log_type_of(path: &str) -> Option<&'static str> {
    if path == "/admin/v1/trust_monitor/events" {
        return Some("trust_monitor");
    }
    let last = path.rsplit('/').next()?;
    super::LOG_TYPES.iter().copied().find(|t| *t == last)
}

/// One parameter of a request's query, decoded.
pub fn param(entry: &JournalEntry, name: &str) -> Option<String> {
    duo_auth::params::parse_urlencoded(entry.query.as_bytes())
        .into_iter()
        .find(|(k, _)| k == name.as_bytes())
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
}

/// `GET path?query (#seq)`.
pub fn describe(entry: &JournalEntry) -> String {
    if entry.query.is_empty() {
        format!("{} {} (#{})", entry.method, entry.path, entry.seq)
    } else {
        format!("{} {}?{} (#{})", entry.method, entry.path, entry.query, entry.seq)
    }
}

/// The first request of one run that breaks a wire rule, in words.
pub fn first_violation(entries: &[JournalEntry], settle_s: u64) -> Option<String> {
    let mut answered: HashMap<(&str, &str), u64> = HashMap::new();
    let mut limited: HashMap<&str, &JournalEntry> = HashMap::new();
    for entry in entries {
        let Some(millis) = log_endpoint(&entry.path) else {
            continue;
        };
        if let Some(refused) = limited.remove(entry.path.as_str()) {
            let answered_ms = refused.unix_ms + refused.latency_us / 1000;
            let waited = entry.unix_ms.saturating_sub(answered_ms);
            if waited < MIN_WAIT_AFTER_429_MS {
                return Some(format!(
                    "L13: asked again {waited} ms after a 429 (#{}); at least 1 s, backing off: {}",
                    refused.seq,
                    describe(entry)
                ));
            }
        }
        if entry.status == 429 {
            limited.insert(entry.path.as_str(), entry);
        }
        let arrival = i64::try_from(entry.unix_ms).unwrap_or(i64::MAX);
        let at = describe(entry);
        if millis {
            let mintime = param(entry, "mintime");
            let maxtime = param(entry, "maxtime");
            for (name, value) in [("mintime", &mintime), ("maxtime", &maxtime)] {
                if let Some(v) = value
                    && (v.len() != 13 || !v.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Some(format!(
                        "L5: {name}={v} is not a 13-digit time in milliseconds: {at}"
                    ));
                }
            }
            let (min, max) = (
                mintime.and_then(|v| v.parse::<i64>().ok()),
                maxtime.and_then(|v| v.parse::<i64>().ok()),
            );
            if let Some(min) = min
                && min < arrival - RETENTION_MS
            {
                return Some(format!(
                    "L6: mintime is {} s older than Duo's 180-day retention when the request arrived: {at}",
                    (arrival - RETENTION_MS - min + 999) / 1000
                ));
            }
            if let (Some(min), Some(max)) = (min, max)
                && max <= min
            {
                return Some(format!("L7: maxtime is not after mintime: {at}"));
            }
            let settle_ms = i64::try_from(settle_s).unwrap_or(0) * 1000;
            if let Some(max) = max
                && max > arrival - settle_ms + SETTLE_GRACE_MS
            {
                return Some(format!(
                    "L8: maxtime is {} ms after the request's arrival minus DUO_SETTLE_S ({settle_s} s): events that young are not final: {at}",
                    max - (arrival - settle_ms)
                ));
            }
        } else if let Some(v) = param(entry, "mintime")
            && v.len() > 10
        {
            return Some(format!("L5: a v1 log takes mintime in seconds, not {v}: {at}"));
        }
        // An answer slower than a client's usual timeout may never have reached it: asking again
        // is then a retry, not a loop.
        if entry.status == 200 && entry.latency_us < SLOW_ANSWER_US {
            if let Some(first) = answered.get(&(entry.path.as_str(), entry.query.as_str())) {
                return Some(format!(
                    "L11: the same request again after its answer (#{first}) had given the page and its next cursor: {at}"
                ));
            }
            answered.insert((entry.path.as_str(), entry.query.as_str()), entry.seq);
        }
    }
    None
}
