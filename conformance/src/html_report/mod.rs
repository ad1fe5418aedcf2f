//! The HTML report (`--report html=FILE`): one self-contained file a person opens in a browser.
//! The summary, a table of the cases filterable by category and status, and under each case that
//! did not pass its reason, the end of the connector's stderr and its request timeline
//! ([`crate::timeline`]). Its CSS and script are inline and pinned by hash in the page's Content
//! Security Policy, which forbids everything else: the report loads nothing, from the network or
//! from disk, and a connector's stderr cannot run script in it.

use std::fmt::Write as _;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::case::Category;
use crate::ledger::{CaseResult, Status};
use crate::report::{RunReport, count, stderr_heading, xml_escape};
use crate::timeline::Timeline;

const CSS: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// Statuses in the order the summary and the filter list them.
const STATUSES: [Status; 4] = [
    Status::Failed,
    Status::ExpectedFailure,
    Status::Passed,
    Status::Skipped,
];

/// `'sha256-…'`, the CSP source that allows exactly `text` inline.
fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

fn label(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::Skipped => "skipped",
        Status::ExpectedFailure => "expected failure",
    }
}

/// The report as one HTML document.
pub fn render(report: &RunReport<'_>) -> String {
    let summary = report.summary();
    let total_ms: u128 = report.results.iter().map(|r| r.duration.as_millis()).sum();
    let mut html = String::with_capacity(16 * 1024 + CSS.len() + SCRIPT.len());
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src {}; script-src {}; base-uri 'none'; form-action 'none'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Duo connector conformance: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        csp_hash(CSS),
        csp_hash(SCRIPT),
        xml_escape(&summary.line())
    );
    let _ = write!(
        html,
        "<header>\n<h1>Duo connector conformance</h1>\n<p class=\"meta\">Connector <code>{}</code> · kit {} · {} · {:.1} s of case time</p>\n<ul class=\"summary\">",
        xml_escape(report.connector),
        xml_escape(report.kit_version),
        count(report.results.len() as u64, "case", "cases"),
        total_ms as f64 / 1000.0
    );
    for (status, n) in [
        (Status::Passed, summary.passed),
        (Status::Failed, summary.failed),
        (Status::ExpectedFailure, summary.expected_failures),
        (Status::Skipped, summary.skipped),
    ] {
        let _ = write!(
            html,
            "<li class=\"{}\" data-count=\"{n}\"><b>{n}</b>{}</li>",
            status.as_str(),
            label(status)
        );
    }
    html.push_str("</ul>\n</header>\n");

    html.push_str("<section class=\"filters\">\n<label>Category <select id=\"category\"><option value=\"\">all</option>");
    for category in Category::ALL {
        if report.results.iter().any(|r| r.category == category) {
            let _ = write!(html, "<option value=\"{category}\">{category}</option>");
        }
    }
    html.push_str("</select></label>\n<label>Status <select id=\"status\"><option value=\"\">all</option>");
    for status in STATUSES {
        if report.results.iter().any(|r| r.status == status) {
            let _ = write!(
                html,
                "<option value=\"{}\">{}</option>",
                status.as_str(),
                label(status)
            );
        }
    }
    let _ = write!(
        html,
        "</select></label>\n<span id=\"shown\">{} shown</span>\n</section>\n",
        count(report.results.len() as u64, "case", "cases")
    );

    html.push_str("<table id=\"cases\">\n<thead><tr><th>Status</th><th>Case</th><th>Category</th><th>Time</th><th>Reason</th></tr></thead>\n<tbody>\n");
    for result in report.results {
        case_rows(&mut html, result);
    }
    html.push_str("</tbody>\n</table>\n");
    let _ = write!(html, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    html
}

fn case_rows(html: &mut String, result: &CaseResult) {
    let data = format!(
        "data-category=\"{}\" data-status=\"{}\"",
        result.category,
        result.status.as_str()
    );
    let _ = writeln!(
        html,
        "<tr class=\"case\" id=\"case-{id}\" {data}><td><span class=\"status {}\">{}</span></td><td><code>{id}</code><br>{}</td><td>{}</td><td class=\"time\">{:.1} s</td><td>{}</td></tr>",
        result.status.as_str(),
        label(result.status),
        xml_escape(&result.display_title()),
        result.category,
        result.duration.as_secs_f64(),
        xml_escape(result.reason.as_deref().unwrap_or("")),
        id = xml_escape(&result.id),
    );
    if result.status == Status::Passed || result.status == Status::Skipped {
        return;
    }
    let open = if result.status == Status::Failed {
        " open"
    } else {
        ""
    };
    let _ = writeln!(
        html,
        "<tr class=\"detail\" {data}><td colspan=\"5\"><details{open}><summary>{}; {}</summary>",
        stderr_heading(&result.stderr_tail),
        count(
            (result.timeline.requests.len() + result.timeline.omitted) as u64,
            "request",
            "requests"
        )
    );
    let _ = write!(html, "<h3>{}</h3>", stderr_heading(&result.stderr_tail));
    if result.stderr_tail.is_empty() {
        html.push_str("<p class=\"empty\">The connector wrote nothing to stderr.</p>\n");
    } else {
        let _ = writeln!(
            html,
            "<pre class=\"stderr\">{}</pre>",
            xml_escape(&result.stderr_tail.join("\n"))
        );
    }
    html.push_str("<h3>Requests</h3>");
    timeline_block(html, &result.timeline);
    html.push_str("</details></td></tr>\n");
}

fn timeline_block(html: &mut String, timeline: &Timeline) {
    if timeline.is_empty() {
        html.push_str("<p class=\"empty\">The connector made no request to the fake.</p>\n");
        return;
    }
    let retries = timeline.waits().iter().filter(|w| w.retry).count();
    let _ = writeln!(
        html,
        "<p class=\"meta\">{} from the connector's start (0) to its end (the dotted line); {}{}.</p>",
        count(timeline.requests.len() as u64, "request", "requests"),
        count(retries as u64, "retry", "retries"),
        if timeline.omitted > 0 {
            format!("; {} later requests not drawn", timeline.omitted)
        } else {
            String::new()
        }
    );
    html.push_str(
        "<ul class=\"legend\"><li><i class=\"s-2xx\"></i>2xx</li><li><i class=\"s-4xx\"></i>4xx</li>\
         <li><i class=\"s-429\"></i>429</li><li><i class=\"s-5xx\"></i>5xx</li><li><i class=\"s-cut\"></i>connection cut</li>\
         <li><i class=\"wait\"></i>wait before a retry</li><li><i class=\"wait next\"></i>wait before the next request</li><li>outlined: a fault rule answered</li></ul>\n",
    );
    let _ = writeln!(html, "<div class=\"scroll\">{}</div>", timeline.svg());
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::timeline::TimelineRequest;

    fn results() -> Vec<CaseResult> {
        let result = |id: &str, category, status, reason: Option<&str>| CaseResult {
            id: id.into(),
            category,
            title: format!("title of {id}"),
            status,
            reason: reason.map(str::to_owned),
            duration: Duration::from_millis(1500),
            stderr_tail: Vec::new(),
            timeline: Timeline::default(),
            rows: Vec::new(),
        };
        let mut failed = result(
            "rate-limits-429-mid-list",
            Category::RateLimits,
            Status::Failed,
            Some("read <b>offset 0</b> again"),
        );
        failed.stderr_tail = vec!["<script>alert(1)</script>".into(), "exit".into()];
        failed.timeline = Timeline {
            requests: vec![
                TimelineRequest {
                    seq: 1,
                    at_ms: 10,
                    latency_us: 1_000,
                    method: "GET".into(),
                    target: "/admin/v1/users?offset=0".into(),
                    status: 429,
                    duo_code: Some(42901),
                    fault: Some("burst".into()),
                },
                TimelineRequest {
                    seq: 2,
                    at_ms: 1_100,
                    latency_us: 1_000,
                    method: "GET".into(),
                    target: "/admin/v1/users?offset=0".into(),
                    status: 200,
                    duo_code: None,
                    fault: None,
                },
            ],
            omitted: 0,
            ended_ms: 1_300,
        };
        vec![
            result("sync-1-user", Category::Sync, Status::Passed, None),
            failed,
            result(
                "auth-wrong-skey",
                Category::Auth,
                Status::ExpectedFailure,
                Some("x [ledger: y]"),
            ),
        ]
    }

    fn html(results: &[CaseResult]) -> String {
        render(&RunReport {
            kit_version: "0.1.0",
            connector: "node \"a.js\" sync",
            results,
        })
    }

    #[test]
    fn the_page_pins_its_inline_css_and_script_and_allows_nothing_else() {
        let page = html(&results());
        let csp = page
            .split("Content-Security-Policy\" content=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"), "{csp}");
        assert!(csp.contains(&csp_hash(CSS)) && csp.contains(&csp_hash(SCRIPT)));
        assert_eq!(page.matches("<script>").count(), 1, "stderr is escaped");
        assert!(page.contains(&format!("<style>{CSS}</style>")));
        assert!(page.contains(&format!("<script>{SCRIPT}</script>")));
        for link in ["src=\"", "href=\"", "url(", "@import"] {
            assert!(!page.contains(link), "{link} would load something");
        }
    }

    #[test]
    fn each_case_is_a_row_and_each_that_did_not_pass_has_its_story() {
        let page = html(&results());
        assert_eq!(page.matches("<tr class=\"case\"").count(), 3);
        assert_eq!(
            page.matches("<tr class=\"detail\"").count(),
            2,
            "failed and expected"
        );
        assert!(
            page.contains(
                "<title>Duo connector conformance: 1 passed, 1 failed (1 expected failure)</title>"
            )
        );
        assert!(page.contains(
            "<tr class=\"case\" id=\"case-rate-limits-429-mid-list\" data-category=\"rate-limits\" data-status=\"failed\">"
        ));
        assert!(page.contains("read &lt;b&gt;offset 0&lt;/b&gt; again"));
        assert!(page.contains("<h3>stderr (last 2 lines)</h3><pre class=\"stderr\">&lt;script&gt;alert(1)&lt;/script&gt;&#10;exit</pre>"), "{page}");
        assert!(page.contains("<details open><summary>stderr (last 2 lines); 2 requests</summary>"));
        assert!(
            page.contains("<details><summary>stderr: (empty); 0 requests</summary>"),
            "{page}"
        );
        assert!(
            page.contains("2 requests from the connector's start (0) to its end (the dotted line); 1 retry.")
        );
        assert!(page.contains("class=\"bar s-429 fault\""));
        assert!(page.contains("<line class=\"wait\""));
        assert!(page.contains("The connector made no request to the fake."));
        assert!(page.contains("<option value=\"rate-limits\">rate-limits</option>"));
        assert!(
            !page.contains("<option value=\"drift\">"),
            "only categories present"
        );
        assert!(page.contains("<option value=\"expected_failure\">expected failure</option>"));
        assert!(page.contains("Connector <code>node &quot;a.js&quot; sync</code>"));
    }
}
