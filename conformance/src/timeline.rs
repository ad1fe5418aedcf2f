//! A case's requests on a time axis, from the fake's journal: what the HTML report draws under a
//! case that did not pass. One lane per request (method, path and query), so a retry lands on the
//! lane of the request it retries and the wait before it shows as a gap; each bar is an answer,
//! coloured by its status, from arrival to the answer's head.

use std::collections::HashMap;
use std::fmt::Write as _;

use mock_server::journal::JournalEntry;

use crate::report::xml_escape;

/// Most requests kept for one case: a retry loop stopped by the journal checks makes a few
/// hundred at most, a 100,000-user sync a few hundred pages.
pub const MAX_REQUESTS: usize = 600;

/// One request as the timeline draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRequest {
    /// The journal's sequence number.
    pub seq: u64,
    /// Arrival, milliseconds after the connector was started.
    pub at_ms: u64,
    /// Time to the answer's head, microseconds.
    pub latency_us: u64,
    /// HTTP method.
    pub method: String,
    /// Path, and `?query` when it had one.
    pub target: String,
    /// Status answered (0 or 444: the connection was cut).
    pub status: u16,
    /// Duo's error code.
    pub duo_code: Option<u32>,
    /// The fault rule that shaped the answer.
    pub fault: Option<String>,
}

impl TimelineRequest {
    fn end_ms(&self) -> u64 {
        self.at_ms + self.latency_us.div_ceil(1000)
    }

    /// Whether the answer failed in a way a connector retries: a 429, a 5xx, a cut connection,
    /// or anything a fault rule shaped.
    fn retriable(&self) -> bool {
        self.status == 429 || self.status >= 500 || matches!(self.status, 0 | 444) || self.fault.is_some()
    }

    /// The CSS class of its bar: `s-2xx`, `s-429`, `s-cut`…
    fn class(&self) -> String {
        format!("s-{}", mock_server::journal::status_kind(self.status))
    }

    fn describe(&self) -> String {
        let mut text = format!("#{} {} {} → ", self.seq, self.method, self.target);
        match self.status {
            0 | 444 => text.push_str("connection cut"),
            status => {
                let _ = write!(text, "{status}");
            }
        }
        if let Some(code) = self.duo_code {
            let _ = write!(text, " (Duo {code})");
        }
        if let Some(fault) = &self.fault {
            let _ = write!(text, " [fault {fault:?}]");
        }
        let _ = write!(
            text,
            ", at +{:.3} s, answered in {:.1} ms",
            self.at_ms as f64 / 1000.0,
            self.latency_us as f64 / 1000.0
        );
        text
    }
}

/// The wait after a failed answer: before its retry, or before the connector's next request when
/// it did not retry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    /// Index of the failed answer.
    pub failed: usize,
    /// Index of the request that came next: its retry, or another.
    pub next: usize,
    /// Whether `next` retries the failed request.
    pub retry: bool,
    /// From the failed answer to `next`, milliseconds.
    pub ms: u64,
}

/// A case's requests in arrival order, at most [`MAX_REQUESTS`], and when the connector ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    /// The first requests, in arrival order.
    pub requests: Vec<TimelineRequest>,
    /// Requests after those, not kept.
    pub omitted: usize,
    /// When the connector ended (exited or was stopped), milliseconds after it was started.
    pub ended_ms: u64,
}

impl Timeline {
    /// The journal's `entries` against the connector started at `started_unix_ms` and ended
    /// `ended_ms` later.
    pub fn of(entries: &[JournalEntry], started_unix_ms: u64, ended_ms: u64) -> Self {
        let mut sorted: Vec<&JournalEntry> = entries.iter().collect();
        sorted.sort_by_key(|e| (e.unix_ms, e.seq));
        let omitted = sorted.len().saturating_sub(MAX_REQUESTS);
        let requests = sorted
            .into_iter()
            .take(MAX_REQUESTS)
            .map(|e| TimelineRequest {
                seq: e.seq,
                at_ms: e.unix_ms.saturating_sub(started_unix_ms),
                latency_us: e.latency_us,
                method: e.method.clone(),
                target: if e.query.is_empty() {
                    e.path.clone()
                } else {
                    format!("{}?{}", e.path, e.query)
                },
                status: e.status,
                duo_code: e.duo_code,
                fault: e.fault.clone(),
            })
            .collect();
        Self {
            requests,
            omitted,
            ended_ms,
        }
    }

    /// Whether no request was made.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The lanes: each distinct method and target, in order of first arrival, with the indices of
    /// its requests.
    fn lanes(&self) -> Vec<(String, Vec<usize>)> {
        let mut lanes: Vec<(String, Vec<usize>)> = Vec::new();
        let mut index: HashMap<(&str, &str), usize> = HashMap::new();
        for (i, request) in self.requests.iter().enumerate() {
            let lane = *index
                .entry((&request.method, &request.target))
                .or_insert_with(|| {
                    lanes.push((format!("{} {}", request.method, request.target), Vec::new()));
                    lanes.len() - 1
                });
            lanes[lane].1.push(i);
        }
        lanes
    }

    /// The waits after failed answers, in the order of the failed answers: to the retry on the
    /// same lane, or, when there was none, to the connector's next request.
    pub fn waits(&self) -> Vec<Wait> {
        let mut waits = Vec::new();
        for (_, indices) in self.lanes() {
            for (k, &failed) in indices.iter().enumerate() {
                let answer = &self.requests[failed];
                if !answer.retriable() {
                    continue;
                }
                let end = answer.end_ms();
                let (next, retry) = match indices.get(k + 1) {
                    Some(&retry) => (Some(retry), true),
                    None => (
                        (failed + 1..self.requests.len()).find(|&i| self.requests[i].at_ms >= end),
                        false,
                    ),
                };
                if let Some(next) = next {
                    waits.push(Wait {
                        failed,
                        next,
                        retry,
                        ms: self.requests[next].at_ms.saturating_sub(end),
                    });
                }
            }
        }
        waits.sort_by_key(|w| w.failed);
        waits
    }

    /// The timeline as an inline SVG: a time axis, one lane per request, a bar per answer
    /// (coloured by status, titled with what it was), each wait after a failed answer as a dashed
    /// line with its length, and the connector's end as a dotted line.
    pub fn svg(&self) -> String {
        const WIDTH: f64 = 960.0;
        const LABEL: f64 = 300.0;
        const LANE: f64 = 16.0;
        const TOP: f64 = 24.0;
        let lanes = self.lanes();
        let last = self
            .requests
            .iter()
            .map(TimelineRequest::end_ms)
            .max()
            .unwrap_or(0)
            .max(self.ended_ms)
            .max(1);
        let step = tick_step(last);
        let span = (last.div_ceil(step) * step) as f64;
        let plot = WIDTH - LABEL - 20.0;
        let x = |ms: u64| LABEL + ms as f64 / span * plot;
        let height = TOP + LANE * lanes.len() as f64 + 8.0;
        let mut svg = format!(
            "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" role=\"img\" aria-label=\"request timeline\">"
        );
        let mut tick = 0;
        while tick as f64 <= span {
            let tx = x(tick);
            let _ = write!(
                svg,
                "<line class=\"tick\" x1=\"{tx:.1}\" y1=\"{:.1}\" x2=\"{tx:.1}\" y2=\"{height:.1}\"/><text class=\"axis\" x=\"{tx:.1}\" y=\"12\">{}</text>",
                TOP - 6.0,
                seconds_label(tick)
            );
            tick += step;
        }
        let mut lane_of = vec![0; self.requests.len()];
        for (lane, (label, indices)) in lanes.iter().enumerate() {
            let _ = write!(
                svg,
                "<text class=\"lane\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                LABEL - 6.0,
                TOP + LANE * lane as f64 + LANE - 4.0,
                xml_escape(&shorten(label, 46))
            );
            for &i in indices {
                lane_of[i] = lane;
            }
        }
        for wait in self.waits() {
            let y = TOP + LANE * lane_of[wait.failed] as f64 + LANE / 2.0;
            let (x1, x2) = (
                x(self.requests[wait.failed].end_ms()),
                x(self.requests[wait.next].at_ms),
            );
            let (class, what) = if wait.retry {
                ("wait", "wait")
            } else {
                ("wait next", "next request after")
            };
            let _ = write!(
                svg,
                "<line class=\"{class}\" x1=\"{x1:.1}\" y1=\"{y:.1}\" x2=\"{x2:.1}\" y2=\"{y:.1}\"><title>{what} {} (#{} → #{})</title></line>",
                millis_label(wait.ms),
                self.requests[wait.failed].seq,
                self.requests[wait.next].seq
            );
            if x2 - x1 > 60.0 {
                let _ = write!(
                    svg,
                    "<text class=\"wait-label\" x=\"{:.1}\" y=\"{:.1}\">{what} {}</text>",
                    (x1 + x2) / 2.0,
                    y - 2.0,
                    millis_label(wait.ms)
                );
            }
        }
        for (i, request) in self.requests.iter().enumerate() {
            let y = TOP + LANE * lane_of[i] as f64 + 3.0;
            let x1 = x(request.at_ms);
            let width = (x(request.end_ms()) - x1).max(3.0);
            let fault = if request.fault.is_some() { " fault" } else { "" };
            let _ = write!(
                svg,
                "<rect class=\"bar {}{fault}\" data-status=\"{}\" x=\"{x1:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{:.1}\"><title>{}</title></rect>",
                request.class(),
                request.status,
                LANE - 6.0,
                xml_escape(&request.describe())
            );
        }
        if self.ended_ms > 0 {
            let ex = x(self.ended_ms);
            let _ = write!(
                svg,
                "<line class=\"end\" x1=\"{ex:.1}\" y1=\"{:.1}\" x2=\"{ex:.1}\" y2=\"{height:.1}\"><title>the connector ended at +{}</title></line>",
                TOP - 6.0,
                millis_label(self.ended_ms)
            );
        }
        svg.push_str("</svg>");
        svg
    }
}

/// A tick every 1, 2 or 5 × 10^k ms, for about six ticks over `span_ms`.
fn tick_step(span_ms: u64) -> u64 {
    let rough = (span_ms / 6).max(1);
    let mut magnitude = 1;
    while magnitude * 10 <= rough {
        magnitude *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(magnitude * 10)
}

fn seconds_label(ms: u64) -> String {
    if ms == 0 {
        return "0".to_owned();
    }
    let text = format!("{:.3}", ms as f64 / 1000.0);
    format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
}

fn millis_label(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.2} s", ms as f64 / 1000.0)
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(max - 1).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(seq: u64, at_ms: u64, target: &str, status: u16) -> TimelineRequest {
        TimelineRequest {
            seq,
            at_ms,
            latency_us: 2_500,
            method: "GET".into(),
            target: target.into(),
            status,
            duo_code: (status == 429).then_some(42901),
            fault: None,
        }
    }

    fn timeline() -> Timeline {
        Timeline {
            requests: vec![
                request(1, 5, "/admin/v1/users?limit=300&offset=0", 200),
                request(2, 20, "/admin/v1/users?limit=300&offset=300", 429),
                request(3, 1_030, "/admin/v1/users?limit=300&offset=300", 429),
                request(4, 3_100, "/admin/v1/users?limit=300&offset=300", 200),
                request(5, 3_120, "/admin/v1/admins?limit=300&offset=0", 403),
            ],
            omitted: 0,
            ended_ms: 3_200,
        }
    }

    fn waits(timeline: &Timeline) -> Vec<(usize, usize, bool, u64)> {
        timeline
            .waits()
            .iter()
            .map(|w| (w.failed, w.next, w.retry, w.ms))
            .collect()
    }

    #[test]
    fn a_retry_shares_its_lane_and_the_wait_is_measured_from_the_failed_answer() {
        let timeline = timeline();
        let lanes = timeline.lanes();
        assert_eq!(lanes.len(), 3);
        assert_eq!(lanes[1].1, [1, 2, 3]);
        // Answered at 20 + 2.5 ms (rounded up to 23), retried at 1030: 1007 ms; then 2067 ms.
        assert_eq!(waits(&timeline), [(1, 2, true, 1_007), (2, 3, true, 2_067)]);
    }

    #[test]
    fn a_failed_answer_not_retried_is_followed_to_the_next_request() {
        let timeline = Timeline {
            requests: vec![
                request(1, 0, "/admin/v1/users?offset=0", 200),
                request(2, 10, "/admin/v1/users?offset=300", 429),
                request(3, 1_500, "/admin/v1/users?offset=0", 200),
            ],
            omitted: 0,
            ended_ms: 1_600,
        };
        assert_eq!(waits(&timeline), [(1, 2, false, 1_487)]);
        let svg = timeline.svg();
        assert!(svg.contains("<line class=\"wait next\""), "{svg}");
        assert!(svg.contains(">next request after 1.49 s</text>"), "{svg}");
    }

    #[test]
    fn the_svg_has_a_bar_per_request_coloured_by_status_and_labelled_waits() {
        let svg = timeline().svg();
        assert_eq!(svg.matches("<rect class=\"bar").count(), 5, "{svg}");
        assert_eq!(svg.matches("class=\"bar s-429\"").count(), 2);
        assert_eq!(svg.matches("class=\"bar s-2xx\"").count(), 2);
        assert_eq!(svg.matches("class=\"bar s-4xx\"").count(), 1);
        assert_eq!(svg.matches("<line class=\"wait\"").count(), 2);
        assert!(svg.contains("<title>wait 1.01 s (#2 → #3)</title>"), "{svg}");
        assert!(svg.contains(">wait 1.01 s</text>"), "{svg}");
        assert!(svg.contains(">wait 2.07 s</text>"), "{svg}");
        assert!(
            svg.contains("<title>#2 GET /admin/v1/users?limit=300&amp;offset=300 → 429 (Duo 42901), at +0.020 s, answered in 2.5 ms</title>"),
            "{svg}"
        );
        assert!(svg.contains("<title>the connector ended at +3.20 s</title>"));
        // A tick every 1 s up to 4 s: 3.2 s rounds the axis up.
        for label in [">0<", ">1 s<", ">2 s<", ">3 s<", ">4 s<"] {
            assert!(svg.contains(label), "{label} in {svg}");
        }
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
    }

    #[test]
    fn a_cut_connection_and_a_faulted_answer_are_marked() {
        let mut timeline = timeline();
        timeline.requests[4].status = 444;
        timeline.requests[0].fault = Some("gateway".into());
        let svg = timeline.svg();
        assert!(svg.contains("class=\"bar s-cut\""), "{svg}");
        assert!(svg.contains("class=\"bar s-2xx fault\""), "{svg}");
        assert!(svg.contains("connection cut"), "{svg}");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(1), 1);
        assert_eq!(tick_step(3_200), 1_000);
        assert_eq!(tick_step(130), 50);
        assert_eq!(tick_step(70_000), 20_000);
        assert_eq!(seconds_label(500), "0.5 s");
        assert_eq!(seconds_label(250), "0.25 s");
        assert_eq!(seconds_label(2_000), "2 s");
        assert_eq!(millis_label(999), "999 ms");
    }

    #[test]
    fn journal_entries_are_kept_in_arrival_order_up_to_the_maximum() {
        let entry = |seq: u64, unix_ms: u64| JournalEntry {
            seq,
            time: String::new(),
            unix_ms,
            method: "GET".into(),
            path: "/admin/v1/users".into(),
            query: if seq.is_multiple_of(2) {
                String::new()
            } else {
                "offset=0".into()
            },
            integration: None,
            signature: None,
            status: 200,
            duo_code: None,
            fault: None,
            latency_us: 900,
            ..JournalEntry::default()
        };
        // Out of order in the journal: parallel requests finish in any order.
        let entries: Vec<JournalEntry> = (1..=MAX_REQUESTS as u64 + 5)
            .rev()
            .map(|seq| entry(seq, 1_000_000 + seq * 10))
            .collect();
        let timeline = Timeline::of(&entries, 1_000_000, 99_000);
        assert_eq!(timeline.requests.len(), MAX_REQUESTS);
        assert_eq!(timeline.omitted, 5);
        assert_eq!(timeline.requests[0].seq, 1);
        assert_eq!(timeline.requests[0].at_ms, 10);
        assert_eq!(timeline.requests[0].target, "/admin/v1/users?offset=0");
        assert_eq!(timeline.requests[1].target, "/admin/v1/users");
        assert_eq!(timeline.ended_ms, 99_000);
        assert!(Timeline::of(&[], 0, 0).is_empty());
    }
}
