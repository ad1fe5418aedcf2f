//! Checks on the fake's request journal: how the connector asked, not only what it ended with.
//! Page sizes within each endpoint's maximum (or the largest), no page read twice, a bounded
//! number of requests, nothing more after Duo's definitive 401 or 403, after a 429 a wait before
//! the retry and a bounded number of retries, and retries before giving up on a request that
//! keeps getting 429s or the scenario's fault (a gateway's page, a 5xx, a cut connection).
//!
//! Every check but the minimum numbers of retries can only go from passing to failing as
//! requests come in, so the runner also evaluates them while the connector runs and stops a
//! connector that already failed one (a retry loop is caught in a second, not at the deadline).

use std::collections::HashMap;

use mock_server::journal::JournalEntry;
use serde::Deserialize;

use crate::report::count;

/// Duo's documented largest page per list endpoint (`duo-admin-api.md` §3), the same the fake
/// serves by default. A scenario may serve shorter pages (short-page cases); the check is
/// against Duo's maxima, which is what a connector knows.
pub const PAGE_MAXIMA: [(&str, u64); 5] = [
    ("/admin/v1/users", 300),
    ("/admin/v1/admins", 300),
    ("/admin/v1/groups", 100),
    ("/admin/v2/groups/*/users", 500),
    ("/admin/v1/users/*/groups", 500),
];

/// Margin for the wait after a 429: the journal times arrivals to the millisecond, and a client's
/// timer may fire a hair early.
pub const WAIT_TOLERANCE_MS: u64 = 50;

/// How long after Duo's definitive refusal a request may still arrive: a connector reading lists
/// in parallel has requests in flight when one of them is refused.
pub const REFUSAL_GRACE_MS: u64 = 500;

/// What the journal says about page sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageSizeRule {
    /// Every list request asks for at most the endpoint's maximum (or no limit).
    #[default]
    WithinMax,
    /// Every list request asks for exactly the endpoint's maximum.
    Largest,
    /// No check.
    Any,
}

impl PageSizeRule {
    /// The spelling in case files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Largest => "largest",
            Self::WithinMax => "within-max",
            Self::Any => "any",
        }
    }
}

/// The journal checks of one case. Defaults: page sizes within the maxima, no page read twice,
/// no request after a refusal, at least 1 s before retrying a 429, at most 6 retries of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalChecks {
    /// Page sizes.
    pub page_size: PageSizeRule,
    /// No list page (path and offset) read twice, except retries of an answer that failed or was
    /// shaped by a fault.
    pub no_repeated_offsets: bool,
    /// At most this many requests in the whole run.
    pub max_requests: Option<u64>,
    /// No request after Duo's 401, or Duo's 403 40301 (beyond [`REFUSAL_GRACE_MS`]).
    pub no_request_after_refusal: bool,
    /// Shortest wait between a 429 and the retry of the same request, milliseconds.
    pub min_wait_after_429_ms: u64,
    /// Most retries of one request after 429s.
    pub max_retries_after_429: u32,
    /// Fewest retries before giving up on a request that keeps getting 429 (none: no check).
    pub min_retries_after_429: Option<u32>,
    /// Fewest retries before giving up on a request that the scenario's fault rule keeps
    /// answering: a gateway's 5xx page, Duo's 5xx, a cut connection (none: no check).
    pub min_retries_after_fault: Option<u32>,
}

impl Default for JournalChecks {
    fn default() -> Self {
        Self {
            page_size: PageSizeRule::WithinMax,
            no_repeated_offsets: true,
            max_requests: None,
            no_request_after_refusal: true,
            min_wait_after_429_ms: 1000,
            max_retries_after_429: 6,
            min_retries_after_429: None,
            min_retries_after_fault: None,
        }
    }
}

impl JournalChecks {
    /// The defaults of a logs case: the sync checks that hold for log endpoints too (refusals,
    /// back-off after a 429, retries); page sizes and repeats are the logs checks' own
    /// ([`crate::logs::wire`]).
    pub fn for_logs() -> Self {
        Self {
            page_size: PageSizeRule::Any,
            no_repeated_offsets: false,
            ..Self::default()
        }
    }
}

/// The largest page of the list endpoint at `path`, when it is one.
pub fn page_maximum(path: &str) -> Option<(&'static str, u64)> {
    PAGE_MAXIMA
        .iter()
        .find(|(pattern, _)| matches_path(pattern, path))
        .map(|&(pattern, max)| (pattern, max))
}

/// `*` matches one path segment.
fn matches_path(pattern: &str, path: &str) -> bool {
    let mut p = pattern.split('/');
    let mut s = path.split('/');
    loop {
        match (p.next(), s.next()) {
            (None, None) => return true,
            (Some("*"), Some(seg)) if !seg.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

fn query_param(query: &str, name: &str) -> Option<String> {
    duo_auth::params::parse_urlencoded(query.as_bytes())
        .into_iter()
        .find(|(k, _)| k == name.as_bytes())
        .map(|(_, v)| String::from_utf8_lossy(&v).into_owned())
}

fn describe(entry: &JournalEntry) -> String {
    if entry.query.is_empty() {
        format!("{} {} (#{})", entry.method, entry.path, entry.seq)
    } else {
        format!("{} {}?{} (#{})", entry.method, entry.path, entry.query, entry.seq)
    }
}

fn answer_ms(entry: &JournalEntry) -> u64 {
    entry.unix_ms + entry.latency_us / 1000
}

impl JournalChecks {
    /// The first check the journal fails, in words. `finished`: the connector has exited (the
    /// minimum-retries and request-after-refusal checks wait for that).
    pub fn first_violation(&self, entries: &[JournalEntry], finished: bool) -> Option<String> {
        let mut entries: Vec<&JournalEntry> = entries.iter().collect();
        entries.sort_by_key(|e| (e.unix_ms, e.seq));
        if let Some(max) = self.max_requests {
            let n = entries.len() as u64;
            if n > max {
                return Some(format!(
                    "made {}; the case allows at most {max}",
                    count(n, "request", "requests")
                ));
            }
        }
        // Judged once the connector has exited, after its outcome: stopping a run at the first
        // late request raced the connector's own answer (a loaded machine delays a request
        // already in flight past the grace), and a run that keeps going after a refusal still
        // ends at its deadline.
        if self.no_request_after_refusal
            && finished
            && let Some(v) = request_after_refusal(&entries)
        {
            return Some(v);
        }
        if let Some(v) = self.retries_after_429(&entries, finished) {
            return Some(v);
        }
        if let Some(v) = self.page_sizes(&entries) {
            return Some(v);
        }
        if self.no_repeated_offsets
            && let Some(v) = repeated_offset(&entries)
        {
            return Some(v);
        }
        None
    }

    fn page_sizes(&self, entries: &[&JournalEntry]) -> Option<String> {
        if self.page_size == PageSizeRule::Any {
            return None;
        }
        for entry in entries.iter().filter(|e| e.method == "GET") {
            let Some((endpoint, max)) = page_maximum(&entry.path) else {
                continue;
            };
            let limit = query_param(&entry.query, "limit");
            let asked = limit.as_deref().map(str::parse::<u64>);
            match (self.page_size, asked) {
                (_, Some(Err(_))) => {
                    return Some(format!(
                        "{} sent limit={:?}, not a number",
                        describe(entry),
                        limit.unwrap_or_default()
                    ));
                }
                (PageSizeRule::WithinMax, Some(Ok(n))) if n > max => {
                    return Some(format!(
                        "{} asked for {n} objects a page; the largest page of {endpoint} is {max}",
                        describe(entry)
                    ));
                }
                (PageSizeRule::Largest, Some(Ok(n))) if n != max => {
                    return Some(format!(
                        "{} asked for {n} objects a page; the case wants the largest page of {endpoint}, {max}",
                        describe(entry)
                    ));
                }
                (PageSizeRule::Largest, None) => {
                    return Some(format!(
                        "{} sent no limit (Duo's default page is 100); the case wants the largest page of {endpoint}, {max}",
                        describe(entry)
                    ));
                }
                _ => {}
            }
        }
        None
    }

    fn retries_after_429(&self, entries: &[&JournalEntry], finished: bool) -> Option<String> {
        // Entries with the same method, path and query are one request and its retries.
        let mut by_request: HashMap<(&str, &str, &str), Vec<&JournalEntry>> = HashMap::new();
        for entry in entries {
            by_request
                .entry((&entry.method, &entry.path, &entry.query))
                .or_default()
                .push(entry);
        }
        let mut requests: Vec<&Vec<&JournalEntry>> = by_request.values().collect();
        requests.sort_by_key(|attempts| attempts[0].seq);
        for attempts in requests {
            let mut retries = 0u32;
            for pair in attempts.windows(2) {
                let (before, after) = (pair[0], pair[1]);
                if before.status != 429 {
                    retries = 0;
                    continue;
                }
                retries += 1;
                let waited = after.unix_ms.saturating_sub(answer_ms(before));
                if waited + WAIT_TOLERANCE_MS < self.min_wait_after_429_ms {
                    return Some(format!(
                        "retried {} {waited} ms after a 429; a connector must wait at least {} ms",
                        describe(after),
                        self.min_wait_after_429_ms
                    ));
                }
                if retries > self.max_retries_after_429 {
                    return Some(format!(
                        "retried {} {} after 429s; at most {} allowed",
                        describe(after),
                        count(u64::from(retries), "time", "times"),
                        count(u64::from(self.max_retries_after_429), "retry is", "retries are")
                    ));
                }
            }
            if !finished {
                continue;
            }
            if let Some((last, retries)) = given_up(attempts, self.min_retries_after_429, |e| e.status == 429)
            {
                return Some(format!(
                    "gave up on {} after {} of a 429; the case wants at least {}",
                    describe(last),
                    count(u64::from(retries), "retry", "retries"),
                    self.min_retries_after_429.unwrap_or_default()
                ));
            }
            if let Some((last, retries)) =
                given_up(attempts, self.min_retries_after_fault, |e| e.fault.is_some())
            {
                return Some(format!(
                    "gave up on {} after {} of what the fault rule {:?} answered ({}); the case wants at least {}",
                    describe(last),
                    count(u64::from(retries), "retry", "retries"),
                    last.fault.as_deref().unwrap_or_default(),
                    // 444: the fake's "no answer" (nginx's), for a connection closed or reset.
                    if matches!(last.status, 0 | 444) {
                        "no answer: the connection was cut".to_owned()
                    } else {
                        format!("status {}", last.status)
                    },
                    self.min_retries_after_fault.unwrap_or_default()
                ));
            }
        }
        None
    }
}

/// The last attempt of a request that ended on answers `failed` and the retries of them it made,
/// when they are fewer than `min`: the connector gave up too soon.
fn given_up<'a>(
    attempts: &[&'a JournalEntry],
    min: Option<u32>,
    failed: impl Fn(&JournalEntry) -> bool,
) -> Option<(&'a JournalEntry, u32)> {
    let (min, last) = (min?, *attempts.last()?);
    if !failed(last) {
        return None;
    }
    let failures = attempts.iter().rev().take_while(|e| failed(e)).count();
    let retries = u32::try_from(failures.saturating_sub(1)).unwrap_or(u32::MAX);
    (retries < min).then_some((last, retries))
}

/// The first request that came after Duo's definitive answer (any 401, or a 403 with Duo's
/// 40301): a connector must not retry those or go on reading.
fn request_after_refusal(entries: &[&JournalEntry]) -> Option<String> {
    let refusal = entries
        .iter()
        .find(|e| e.status == 401 || (e.status == 403 && e.duo_code == Some(40301)))?;
    let cutoff = answer_ms(refusal) + REFUSAL_GRACE_MS;
    let later = entries
        .iter()
        .find(|e| e.seq != refusal.seq && e.unix_ms > cutoff)?;
    let code = refusal.duo_code.map(|c| format!(" {c}")).unwrap_or_default();
    Some(format!(
        "{} came {} ms after Duo's definitive {}{code} to {}; nothing may follow it",
        describe(later),
        later.unix_ms - answer_ms(refusal),
        refusal.status,
        describe(refusal)
    ))
}

/// The first list page (path and offset) read again after it was read whole. An answer that
/// failed, or that a fault rule shaped (a cut connection, a trickle), may be retried.
fn repeated_offset(entries: &[&JournalEntry]) -> Option<String> {
    let mut read: HashMap<(String, String), u64> = HashMap::new();
    for entry in entries.iter().filter(|e| e.method == "GET") {
        if page_maximum(&entry.path).is_none() {
            continue;
        }
        let offset = query_param(&entry.query, "offset").unwrap_or_else(|| "0".into());
        let key = (entry.path.clone(), offset);
        if let Some(first) = read.get(&key) {
            return Some(format!(
                "{} read {} offset {} again (first read: #{first}); no page may be read twice except to retry a failed answer",
                describe(entry),
                key.0,
                key.1
            ));
        }
        if entry.status == 200 && entry.fault.is_none() {
            read.insert(key, entry.seq);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, unix_ms: u64, path_query: &str, status: u16, duo_code: Option<u32>) -> JournalEntry {
        let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
        JournalEntry {
            seq,
            time: String::new(),
            unix_ms,
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            integration: None,
            signature: None,
            status,
            duo_code,
            fault: None,
            latency_us: 2_000,
            peer: None,
            ..JournalEntry::default()
        }
    }

    fn ok(seq: u64, unix_ms: u64, path_query: &str) -> JournalEntry {
        entry(seq, unix_ms, path_query, 200, None)
    }

    #[test]
    fn endpoints_and_their_maxima_are_recognised() {
        assert_eq!(page_maximum("/admin/v1/users"), Some(("/admin/v1/users", 300)));
        assert_eq!(page_maximum("/admin/v2/groups/DG1/users").map(|m| m.1), Some(500));
        assert_eq!(page_maximum("/admin/v1/users/DU1/groups").map(|m| m.1), Some(500));
        assert_eq!(page_maximum("/admin/v1/users/DU1"), None);
        assert_eq!(page_maximum("/admin/v2/groups//users"), None);
    }

    #[test]
    fn page_sizes_within_max_and_largest() {
        let checks = JournalChecks::default();
        let fine = [
            ok(1, 0, "/admin/v1/users?limit=300&offset=0"),
            ok(2, 5, "/admin/v1/groups"),
        ];
        assert_eq!(checks.first_violation(&fine, true), None);
        let over = [ok(1, 0, "/admin/v1/groups?limit=500&offset=0")];
        let v = checks.first_violation(&over, true).unwrap();
        assert!(
            v.contains("asked for 500 objects a page; the largest page of /admin/v1/groups is 100"),
            "{v}"
        );

        let largest = JournalChecks {
            page_size: PageSizeRule::Largest,
            ..JournalChecks::default()
        };
        let v = largest.first_violation(&fine, true).unwrap();
        assert!(v.contains("sent no limit"), "{v}");
        let small = [ok(1, 0, "/admin/v1/users?limit=100&offset=0")];
        assert!(
            largest
                .first_violation(&small, true)
                .unwrap()
                .contains("wants the largest page")
        );
    }

    #[test]
    fn a_page_read_twice_is_caught_but_a_retry_is_not() {
        let checks = JournalChecks::default();
        let retry = [
            entry(1, 0, "/admin/v1/users?limit=300&offset=300", 500, Some(50000)),
            ok(2, 1500, "/admin/v1/users?limit=300&offset=300"),
        ];
        assert_eq!(checks.first_violation(&retry, true), None);
        let twice = [
            ok(1, 0, "/admin/v1/users?limit=300&offset=0"),
            ok(2, 10, "/admin/v1/users?offset=0&limit=300"),
        ];
        let v = checks.first_violation(&twice, true).unwrap();
        assert!(
            v.contains("read /admin/v1/users offset 0 again (first read: #1)"),
            "{v}"
        );
        let mut faulted = ok(1, 0, "/admin/v1/users?limit=300&offset=0");
        faulted.fault = Some("trickle".into());
        let after_fault = [faulted, ok(2, 10, "/admin/v1/users?limit=300&offset=0")];
        assert_eq!(checks.first_violation(&after_fault, true), None);
        let allowed = JournalChecks {
            no_repeated_offsets: false,
            ..JournalChecks::default()
        };
        assert_eq!(allowed.first_violation(&twice, true), None);
    }

    #[test]
    fn requests_after_a_definitive_refusal_are_caught() {
        let checks = JournalChecks::default();
        let retried = [
            entry(1, 0, "/admin/v1/users?limit=300&offset=0", 401, Some(40103)),
            entry(2, 1_100, "/admin/v1/users?limit=300&offset=0", 401, Some(40103)),
        ];
        let v = checks.first_violation(&retried, true).unwrap();
        assert!(v.contains("definitive 401 40103"), "{v}");
        let in_flight = [
            entry(1, 0, "/admin/v1/admins?limit=300&offset=0", 403, Some(40301)),
            ok(2, 100, "/admin/v2/groups/DG1/users?limit=500&offset=0"),
        ];
        assert_eq!(checks.first_violation(&in_flight, true), None);
        // A WAF's 403 is not Duo's: reading on (to report it) is not a violation.
        let waf = [
            entry(1, 0, "/admin/v1/users?limit=300&offset=0", 403, None),
            entry(2, 5_000, "/admin/v1/users?limit=300&offset=0", 403, None),
        ];
        assert_eq!(checks.first_violation(&waf, true), None);
    }

    #[test]
    fn waits_and_retry_counts_after_429() {
        let checks = JournalChecks {
            min_retries_after_429: Some(2),
            ..JournalChecks::default()
        };
        let q = "/admin/v1/users?limit=300&offset=0";
        let patient = [
            entry(1, 0, q, 429, Some(42901)),
            entry(2, 1_010, q, 429, Some(42901)),
            entry(3, 3_100, q, 429, Some(42901)),
            ok(4, 7_200, q),
        ];
        assert_eq!(checks.first_violation(&patient, true), None);
        let hasty = [entry(1, 0, q, 429, Some(42901)), ok(2, 100, q)];
        let v = checks.first_violation(&hasty, true).unwrap();
        assert!(
            v.contains("98 ms after a 429; a connector must wait at least 1000 ms"),
            "{v}"
        );
        let forever: Vec<JournalEntry> = (0..9)
            .map(|i| entry(i + 1, i * 1_100, q, 429, Some(42901)))
            .collect();
        let v = checks.first_violation(&forever, false).unwrap();
        assert!(v.contains("7 times after 429s; at most 6"), "{v}");
        let quitter = [
            entry(1, 0, q, 429, Some(42901)),
            entry(2, 1_500, q, 429, Some(42901)),
        ];
        assert_eq!(
            checks.first_violation(&quitter, false),
            None,
            "still running: no verdict yet"
        );
        let v = checks.first_violation(&quitter, true).unwrap();
        assert!(
            v.contains("gave up on GET /admin/v1/users?limit=300&offset=0 (#2) after 1 retry of a 429; the case wants at least 2"),
            "{v}"
        );
    }

    #[test]
    fn giving_up_on_a_faulted_request_without_retrying_it_is_caught() {
        let checks = JournalChecks {
            min_retries_after_fault: Some(1),
            ..JournalChecks::default()
        };
        let q = "/admin/v1/users?limit=300&offset=0";
        let gateway = |seq, ms| {
            let mut e = entry(seq, ms, q, 502, None);
            e.fault = Some("nginx-502".into());
            e
        };
        let once = [gateway(1, 0)];
        assert_eq!(checks.first_violation(&once, false), None, "still running");
        let v = checks.first_violation(&once, true).unwrap();
        assert_eq!(
            v,
            "gave up on GET /admin/v1/users?limit=300&offset=0 (#1) after 0 retries of what the fault rule \"nginx-502\" answered (status 502); the case wants at least 1"
        );
        assert_eq!(
            checks.first_violation(&[gateway(1, 0), gateway(2, 1_000)], true),
            None
        );
        let mut cut = entry(1, 0, q, 444, None);
        cut.fault = Some("closed before answer".into());
        let v = checks.first_violation(&[cut], true).unwrap();
        assert!(v.contains("(no answer: the connection was cut)"), "{v}");
        // An answer without the fault ends nothing the check looks at.
        assert_eq!(
            checks.first_violation(&[gateway(1, 0), ok(2, 1_000, q)], true),
            None
        );
        assert_eq!(
            JournalChecks::default().first_violation(&once, true),
            None,
            "no check unless the case asks"
        );
    }

    #[test]
    fn the_request_budget_is_enforced() {
        let checks = JournalChecks {
            max_requests: Some(2),
            ..JournalChecks::default()
        };
        let three: Vec<JournalEntry> = (0..3)
            .map(|i| ok(i + 1, i, &format!("/admin/v1/users/DU{i}")))
            .collect();
        assert_eq!(
            checks.first_violation(&three, false).as_deref(),
            Some("made 3 requests; the case allows at most 2")
        );
    }
}
