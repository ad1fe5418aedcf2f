//! How a collector asked for logs (CONTRACT-LOGS.md, "On the wire"): milliseconds where Duo wants
//! them (L5), within the 180-day retention (L6), `maxtime` after `mintime` (L7), nothing
//! unsettled (L8), no identical request after a page that had a next cursor (L11), a fresh Date
//! on every page (L15).

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
    super::log_types().into_iter().find(|t| *t == last)
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

/// The Date a request was signed with (`X-Duo-Date` wins, as in Duo's check).
fn sent_date(entry: &JournalEntry) -> Option<&str> {
    entry
        .request_headers
        .get("x-duo-date")
        .or_else(|| entry.request_headers.get("date"))
        .map(String::as_str)
}

/// L15: a log request after the run's first refused for its date or signature (401 40105 or
/// 40103), in words; the earlier request whose Date it carried, when one did.
fn stale_date(entry: &JournalEntry, earlier: &[&JournalEntry]) -> Option<String> {
    let code = entry.duo_code.or(entry.auth_error)?;
    if entry.status != 401 || !matches!(code, 40103 | 40105) || earlier.is_empty() {
        return None;
    }
    let date = sent_date(entry).unwrap_or("none");
    let reused = earlier.iter().find(|e| sent_date(e) == Some(date)).map_or_else(
        || {
            "a Date more than the fake's window from its clock, though the run's first request was accepted"
                .to_owned()
        },
        |first| {
            format!(
                "the Date of #{}, sent {} ms earlier (a Date kept from an earlier page)",
                first.seq,
                entry.unix_ms.saturating_sub(first.unix_ms)
            )
        },
    );
    Some(format!(
        "L15: a request after the run's first was refused 401 {code}: its Date {date:?} is {reused}; sign each request with a fresh Date: {}",
        describe(entry)
    ))
}

/// The first request of one run that breaks a wire rule, in words.
pub fn first_violation(entries: &[JournalEntry], settle_s: u64) -> Option<String> {
    let mut answered: HashMap<(&str, &str), u64> = HashMap::new();
    let mut limited: HashMap<&str, &JournalEntry> = HashMap::new();
    let mut earlier: Vec<&JournalEntry> = Vec::new();
    for entry in entries {
        let Some(millis) = log_endpoint(&entry.path) else {
            continue;
        };
        if let Some(stale) = stale_date(entry, &earlier) {
            return Some(stale);
        }
        earlier.push(entry);
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_796_630_400_000;
    const AUTH: &str = "/admin/v2/logs/authentication";

    fn entry(seq: u64, unix_ms: u64, path: &str, query: &str, status: u16) -> JournalEntry {
        JournalEntry {
            seq,
            unix_ms,
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            status,
            latency_us: 2000,
            ..JournalEntry::default()
        }
    }

    fn window(min: u64, max: u64) -> String {
        format!("limit=1000&maxtime={max}&mintime={min}&sort=ts%3Aasc")
    }

    #[test]
    fn a_well_asked_run_passes() {
        let q = window(NOW - 600_000, NOW - 4000);
        let entries = [
            entry(1, NOW, AUTH, &q, 200),
            entry(2, NOW + 10, AUTH, &format!("{q}&next_offset=1,a"), 429),
            entry(3, NOW + 1100, AUTH, &format!("{q}&next_offset=1,a"), 200),
            entry(
                4,
                NOW + 1200,
                "/admin/v1/logs/administrator",
                "mintime=1796629800",
                200,
            ),
        ];
        assert_eq!(first_violation(&entries, 4), None);
    }

    #[test]
    fn each_rule_names_its_row_and_the_request() {
        let check = |query: &str| first_violation(&[entry(7, NOW, AUTH, query, 200)], 4).unwrap_or_default();
        let seconds = check(&window((NOW - 600_000) / 1000, (NOW - 4000) / 1000));
        assert!(
            seconds.starts_with("L5: mintime=1796629800 is not a 13-digit"),
            "{seconds}"
        );
        assert!(seconds.ends_with("(#7)"), "{seconds}");
        let edge = check(&window(NOW - 180 * 86_400_000 - 2000, NOW - 4000));
        assert!(edge.starts_with("L6: mintime is 2 s older"), "{edge}");
        let empty = check(&window(NOW - 4000, NOW - 4000));
        assert!(empty.starts_with("L7: maxtime is not after mintime"), "{empty}");
        let young = check(&window(NOW - 600_000, NOW));
        assert!(young.starts_with("L8: maxtime is 4000 ms after"), "{young}");
        let v1 = first_violation(
            &[entry(
                1,
                NOW,
                "/admin/v1/logs/administrator",
                "mintime=1796629800000",
                200,
            )],
            4,
        );
        assert!(
            v1.unwrap_or_default()
                .starts_with("L5: a v1 log takes mintime in seconds")
        );
    }

    #[test]
    fn a_page_refused_for_a_reused_date_is_l15() {
        let q = window(NOW - 600_000, NOW - 4000);
        let dated = |seq, at, query: &str, status, code, date: &str| {
            let mut e = entry(seq, at, AUTH, query, status);
            e.duo_code = code;
            e.request_headers.insert("date".into(), date.into());
            e
        };
        let first = dated(1, NOW, &q, 200, None, "Mon, 07 Dec 2026 08:00:00 -0000");
        let later = |date| {
            dated(
                2,
                NOW + 4000,
                &format!("{q}&next_offset=1,a"),
                401,
                Some(40105),
                date,
            )
        };
        let reused = first_violation(&[first.clone(), later("Mon, 07 Dec 2026 08:00:00 -0000")], 4)
            .unwrap_or_default();
        assert!(
            reused.starts_with("L15: a request after the run's first was refused 401 40105")
                && reused.contains("the Date of #1, sent 4000 ms earlier"),
            "{reused}"
        );
        let skewed = first_violation(&[first, later("Mon, 07 Dec 2026 07:00:00 -0000")], 4);
        assert!(skewed.unwrap_or_default().contains("more than the fake's window"));
        let alone = dated(1, NOW, &q, 401, Some(40105), "Mon, 07 Dec 2026 07:00:00 -0000");
        assert_eq!(
            first_violation(&[alone], 4),
            None,
            "the first request's skew is no L15"
        );
    }

    #[test]
    fn repeats_and_hurried_retries_are_caught() {
        let q = window(NOW - 600_000, NOW - 4000);
        let again = first_violation(
            &[entry(1, NOW, AUTH, &q, 200), entry(2, NOW + 50, AUTH, &q, 200)],
            4,
        );
        assert!(
            again
                .unwrap_or_default()
                .starts_with("L11: the same request again")
        );
        let mut slow = entry(1, NOW, AUTH, &q, 200);
        slow.latency_us = 12_000_000;
        assert_eq!(
            first_violation(&[slow, entry(2, NOW + 13_000, AUTH, &q, 200)], 4),
            None
        );
        let hurried = first_violation(
            &[entry(1, NOW, AUTH, &q, 429), entry(2, NOW + 200, AUTH, &q, 200)],
            4,
        );
        assert!(
            hurried
                .unwrap_or_default()
                .starts_with("L13: asked again 198 ms after a 429 (#1)")
        );
    }
}
