//! Reports of a run: one terminal line per case (✔/✖, id, title, time, and the reason of a
//! failure) and a summary line; JUnit XML (one `<testsuite>` per category, as GitLab, Jenkins and
//! GitHub test reporters read it); JSON; Markdown for a CI job summary; HTML for a person
//! ([`crate::html_report`]).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;

use crate::case::Category;
use crate::ledger::{CaseResult, Status};

/// A finished run, as every report format sees it.
#[derive(Debug, Clone, Copy)]
pub struct RunReport<'a> {
    /// The kit's version.
    pub kit_version: &'a str,
    /// The connector command.
    pub connector: &'a str,
    /// Results in catalogue order.
    pub results: &'a [CaseResult],
}

/// Counts by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed (stale ledger entries included).
    pub failed: usize,
    /// Cases not run.
    pub skipped: usize,
    /// Cases that failed as the ledger says.
    pub expected_failures: usize,
}

impl Summary {
    /// The counts of `results`.
    pub fn of(results: &[CaseResult]) -> Self {
        let mut summary = Self::default();
        for result in results {
            match result.status {
                Status::Passed => summary.passed += 1,
                Status::Failed => summary.failed += 1,
                Status::Skipped => summary.skipped += 1,
                Status::ExpectedFailure => summary.expected_failures += 1,
            }
        }
        summary
    }

    /// `N passed, N failed`, and the expected failures and skipped cases when there are any.
    pub fn line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed, self.failed);
        let mut extra = Vec::new();
        if self.expected_failures > 0 {
            extra.push(count(
                self.expected_failures as u64,
                "expected failure",
                "expected failures",
            ));
        }
        if self.skipped > 0 {
            extra.push(format!("{} skipped", self.skipped));
        }
        if !extra.is_empty() {
            let _ = write!(line, " ({})", extra.join(", "));
        }
        line
    }
}

/// A report file asked for with `--report FORMAT=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    /// Its format.
    pub format: ReportFormat,
    /// Where to write it.
    pub path: PathBuf,
}

/// Report file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// JUnit XML.
    Junit,
    /// JSON.
    Json,
    /// Markdown.
    Markdown,
    /// One self-contained HTML page.
    Html,
}

impl FromStr for ReportTarget {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (format, path) = text
            .split_once('=')
            .filter(|(_, p)| !p.is_empty())
            .ok_or_else(|| format!("report {text:?} must be FORMAT=FILE (junit, json, markdown or html)"))?;
        let format = match format {
            "junit" => ReportFormat::Junit,
            "json" => ReportFormat::Json,
            "markdown" | "md" => ReportFormat::Markdown,
            "html" => ReportFormat::Html,
            other => {
                return Err(format!(
                    "unknown report format {other:?} (junit, json, markdown or html)"
                ));
            }
        };
        Ok(Self {
            format,
            path: PathBuf::from(path),
        })
    }
}

impl RunReport<'_> {
    /// The report in `format`.
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Junit => self.junit(),
            ReportFormat::Json => self.json(),
            ReportFormat::Markdown => self.markdown(),
            ReportFormat::Html => crate::html_report::render(self),
        }
    }

    /// The summary line.
    pub fn summary(&self) -> Summary {
        Summary::of(self.results)
    }

    /// JUnit XML: one `<testsuite>` per category, each case a `<testcase classname="CATEGORY"
    /// name="ID: title">`; a failure is `<failure>`, an expected failure or a skipped case
    /// `<skipped>`.
    pub fn junit(&self) -> String {
        let summary = self.summary();
        let total_time: f64 = self.results.iter().map(|r| r.duration.as_secs_f64()).sum();
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"duo-conformance\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{total_time:.3}\">",
            self.results.len(),
            summary.failed,
            summary.skipped + summary.expected_failures
        );
        for category in Category::ALL {
            let results: Vec<&CaseResult> = self.results.iter().filter(|r| r.category == category).collect();
            if results.is_empty() {
                continue;
            }
            let counts = Summary::of(&results.iter().map(|r| (*r).clone()).collect::<Vec<_>>());
            let time: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
            let _ = writeln!(
                xml,
                "  <testsuite name=\"{category}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{time:.3}\">",
                results.len(),
                counts.failed,
                counts.skipped + counts.expected_failures
            );
            let _ = writeln!(xml, "    <properties>");
            let _ = writeln!(
                xml,
                "      <property name=\"kit_version\" value=\"{}\"/>",
                xml_escape(self.kit_version)
            );
            let _ = writeln!(
                xml,
                "      <property name=\"connector\" value=\"{}\"/>",
                xml_escape(self.connector)
            );
            let _ = writeln!(xml, "    </properties>");
            for result in results {
                let name = xml_escape(&format!("{}: {}", result.id, result.display_title()));
                let time = result.duration.as_secs_f64();
                let reason = xml_escape(result.reason.as_deref().unwrap_or(""));
                match result.status {
                    Status::Passed => {
                        let _ = writeln!(
                            xml,
                            "    <testcase classname=\"{category}\" name=\"{name}\" time=\"{time:.3}\"/>"
                        );
                    }
                    Status::Failed => {
                        let _ = writeln!(
                            xml,
                            "    <testcase classname=\"{category}\" name=\"{name}\" time=\"{time:.3}\">"
                        );
                        let _ = writeln!(
                            xml,
                            "      <failure message=\"{reason}\" type=\"conformance\">{reason}</failure>"
                        );
                        if !result.stderr_tail.is_empty() {
                            let _ = writeln!(
                                xml,
                                "      <system-err>{}</system-err>",
                                xml_escape(&result.stderr_tail.join("\n"))
                            );
                        }
                        let _ = writeln!(xml, "    </testcase>");
                    }
                    Status::Skipped | Status::ExpectedFailure => {
                        let label = if result.status == Status::Skipped {
                            "skipped"
                        } else {
                            "expected failure"
                        };
                        let _ = writeln!(
                            xml,
                            "    <testcase classname=\"{category}\" name=\"{name}\" time=\"{time:.3}\">"
                        );
                        let _ = writeln!(xml, "      <skipped message=\"{label}: {reason}\"/>");
                        let _ = writeln!(xml, "    </testcase>");
                    }
                }
            }
            let _ = writeln!(xml, "  </testsuite>");
        }
        xml.push_str("</testsuites>\n");
        xml
    }

    /// `{"kit_version", "connector", "summary", "cases": [{"id", "category", "title", "status",
    /// "reason", "duration_ms"}]}`.
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Document<'a> {
            kit_version: &'a str,
            connector: &'a str,
            summary: Summary,
            cases: Vec<JsonCase<'a>>,
        }
        #[derive(Serialize)]
        struct JsonCase<'a> {
            id: &'a str,
            category: &'a str,
            title: &'a str,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            rows: &'a [String],
            status: &'a str,
            reason: Option<&'a str>,
            duration_ms: u128,
        }
        let document = Document {
            kit_version: self.kit_version,
            connector: self.connector,
            summary: self.summary(),
            cases: self
                .results
                .iter()
                .map(|r| JsonCase {
                    id: &r.id,
                    category: r.category.as_str(),
                    title: &r.title,
                    rows: &r.rows,
                    status: r.status.as_str(),
                    reason: r.reason.as_deref(),
                    duration_ms: r.duration.as_millis(),
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Markdown for a CI job summary: the summary line, then a table of the cases.
    pub fn markdown(&self) -> String {
        let summary = self.summary();
        let mut md = format!("## Duo connector conformance: {}\n\n", summary.line());
        let _ = writeln!(
            md,
            "Connector: `{}` · kit {}\n",
            self.connector.replace('`', "'"),
            self.kit_version
        );
        md.push_str("| | Case | Category | Time | Reason |\n|---|---|---|---|---|\n");
        for r in self.results {
            let mark = match r.status {
                Status::Passed => "✅",
                Status::Failed => "❌",
                Status::Skipped => "⏭️",
                Status::ExpectedFailure => "⚠️",
            };
            let _ = writeln!(
                md,
                "| {mark} | `{}` {} | {} | {} | {} |",
                r.id,
                markdown_cell(&r.display_title()),
                r.category,
                seconds(r.duration),
                markdown_cell(r.reason.as_deref().unwrap_or(""))
            );
        }
        md
    }
}

/// `n` and its noun, singular for one: `1 case`, `2 cases`, `1 retry`, `0 retries`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Width of the id column of terminal lines.
pub fn id_width(ids: impl IntoIterator<Item = usize>) -> usize {
    ids.into_iter().max().unwrap_or(0)
}

/// One case on the terminal: `✔ id  title (1.2 s)`, and the reason on the next line.
pub fn terminal_line(result: &CaseResult, id_width: usize) -> String {
    let mark = match result.status {
        Status::Passed => "✔",
        Status::Failed => "✖",
        Status::Skipped => "-",
        Status::ExpectedFailure => "○",
    };
    let mut line = format!(
        "{mark} {:<id_width$}  {} ({})",
        result.id,
        result.title,
        seconds(result.duration)
    );
    match result.status {
        Status::ExpectedFailure => line.push_str(" expected failure"),
        Status::Skipped => line.push_str(" skipped"),
        _ => {}
    }
    if let Some(reason) = &result.reason {
        let _ = write!(line, "\n    {reason}");
    }
    if result.status == Status::Failed {
        line.push('\n');
        line.push_str(&stderr_block(&result.stderr_tail));
    }
    line
}

/// The end of a failed connector's stderr, indented under its case: `    stderr (last 2
/// lines):` and the lines, or a note that it wrote nothing there.
pub fn stderr_block(lines: &[String]) -> String {
    let colon = if lines.is_empty() { "" } else { ":" };
    let mut block = format!("    {}{colon}", stderr_heading(lines));
    for line in lines {
        let _ = write!(block, "\n      {line}");
    }
    block
}

/// `stderr (last 2 lines)`, or `stderr: (empty)` when the connector wrote nothing there.
pub fn stderr_heading(lines: &[String]) -> String {
    if lines.is_empty() {
        "stderr: (empty)".to_owned()
    } else {
        format!("stderr (last {})", count(lines.len() as u64, "line", "lines"))
    }
}

fn seconds(d: std::time::Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// Text safe in XML attributes and content (control characters XML 1.0 refuses are dropped).
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn result(id: &str, category: Category, status: Status, reason: Option<&str>) -> CaseResult {
        CaseResult {
            id: id.into(),
            category,
            title: format!("title of {id}"),
            status,
            reason: reason.map(str::to_owned),
            duration: Duration::from_millis(1234),
            stderr_tail: Vec::new(),
            timeline: crate::timeline::Timeline::default(),
            rows: Vec::new(),
        }
    }

    fn results() -> Vec<CaseResult> {
        vec![
            result("sync-1-user", Category::Sync, Status::Passed, None),
            result(
                "sync-301-users",
                Category::Sync,
                Status::Failed,
                Some("users: 1 of 301 missing, first DU1 (username \"a<b>&c\")"),
            ),
            result(
                "auth-wrong-skey",
                Category::Auth,
                Status::ExpectedFailure,
                Some("expected x, got y [ledger: why]"),
            ),
        ]
    }

    fn report(results: &[CaseResult]) -> RunReport<'_> {
        RunReport {
            kit_version: "0.1.0",
            connector: "python adapter.py \"quoted\"",
            results,
        }
    }

    #[test]
    fn summary_lines_count_by_status() {
        let results = results();
        let summary = Summary::of(&results);
        assert_eq!(summary.line(), "1 passed, 1 failed (1 expected failure)");
        let more = Summary {
            expected_failures: 2,
            ..summary
        };
        assert_eq!(more.line(), "1 passed, 1 failed (2 expected failures)");
        assert_eq!(Summary::default().line(), "0 passed, 0 failed");
    }

    #[test]
    fn counts_take_the_singular_for_one_only() {
        assert_eq!(count(1, "case", "cases"), "1 case");
        assert_eq!(count(0, "case", "cases"), "0 cases");
        assert_eq!(count(53, "case", "cases"), "53 cases");
        assert_eq!(count(1, "retry", "retries"), "1 retry");
    }

    #[test]
    fn terminal_lines_show_mark_id_title_time_and_reason() {
        let results = results();
        assert_eq!(
            terminal_line(&results[0], 14),
            "✔ sync-1-user     title of sync-1-user (1.2 s)"
        );
        let failed = terminal_line(&results[1], 14);
        assert!(
            failed.starts_with(
                "✖ sync-301-users  title of sync-301-users (1.2 s)\n    users: 1 of 301 missing"
            ),
            "{failed}"
        );
        assert!(
            terminal_line(&results[2], 0)
                .contains("○ auth-wrong-skey  title of auth-wrong-skey (1.2 s) expected failure")
        );
    }

    #[test]
    fn failed_cases_show_the_end_of_the_connectors_stderr() {
        let mut results = results();
        results[1].stderr_tail = vec![
            "Traceback (most recent call last):".into(),
            "KeyError: <x>".into(),
        ];
        results[2].stderr_tail = vec!["known noise".into()];
        let failed = terminal_line(&results[1], 0);
        assert!(
            failed.ends_with(
                "\n    stderr (last 2 lines):\n      Traceback (most recent call last):\n      KeyError: <x>"
            ),
            "{failed}"
        );
        results[1].stderr_tail.truncate(1);
        assert!(terminal_line(&results[1], 0).contains("\n    stderr (last 1 line):\n"));
        results[1].stderr_tail.clear();
        assert!(terminal_line(&results[1], 0).ends_with("\n    stderr: (empty)"));
        // Passed and expected failures stay one or two lines.
        assert!(!terminal_line(&results[0], 0).contains("stderr"));
        assert!(!terminal_line(&results[2], 0).contains("stderr"));

        results[1].stderr_tail = vec!["a".into(), "b & <c>".into()];
        let xml = report(&results).junit();
        assert!(
            xml.contains("<system-err>a&#10;b &amp; &lt;c&gt;</system-err>"),
            "{xml}"
        );
        assert_eq!(xml.matches("<system-err>").count(), 1, "only failed cases: {xml}");
    }

    #[test]
    fn junit_has_one_suite_per_category_and_escapes_text() {
        let results = results();
        let xml = report(&results).junit();
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"duo-conformance\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""), "{xml}");
        assert_eq!(xml.matches("<testsuite ").count(), 2);
        assert!(
            xml.contains("<testsuite name=\"sync\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\"")
        );
        assert!(xml.contains(
            "<testcase classname=\"sync\" name=\"sync-1-user: title of sync-1-user\" time=\"1.234\"/>"
        ));
        assert!(xml.contains("<failure message=\"users: 1 of 301 missing, first DU1 (username &quot;a&lt;b&gt;&amp;c&quot;)\" type=\"conformance\">"));
        assert!(
            xml.contains("<testsuite name=\"auth\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\"")
        );
        assert!(xml.contains("<skipped message=\"expected failure: expected x, got y [ledger: why]\"/>"));
        assert!(
            xml.contains("<property name=\"connector\" value=\"python adapter.py &quot;quoted&quot;\"/>")
        );
        // Balanced: every opened element is closed.
        assert_eq!(
            xml.matches("<testsuite ").count(),
            xml.matches("</testsuite>").count()
        );
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert_eq!(
            xml.matches("<testcase ").count(),
            xml.matches("</testcase>").count() + 1
        );
        assert!(xml.ends_with("</testsuites>\n"));
    }

    #[test]
    fn json_has_the_documented_shape() {
        let results = results();
        let value: serde_json::Value = serde_json::from_str(&report(&results).json()).unwrap();
        assert_eq!(value["kit_version"], "0.1.0");
        assert_eq!(
            value["summary"],
            serde_json::json!({"passed": 1, "failed": 1, "skipped": 0, "expected_failures": 1})
        );
        assert_eq!(value["cases"][1]["status"], "failed");
        assert_eq!(value["cases"][2]["status"], "expected_failure");
        assert_eq!(value["cases"][0]["reason"], serde_json::Value::Null);
        assert_eq!(value["cases"][0]["duration_ms"], 1234);
        assert_eq!(value["cases"][0]["category"], "sync");
        let keys: Vec<&String> = value["cases"][0].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["category", "duration_ms", "id", "reason", "status", "title"]
        );
    }

    #[test]
    fn markdown_is_a_table_with_escaped_cells() {
        let mut results = results();
        results[1].reason = Some("a | b".into());
        let md = report(&results).markdown();
        assert!(md.starts_with("## Duo connector conformance: 1 passed, 1 failed (1 expected failure)\n"));
        assert!(
            md.contains("| ❌ | `sync-301-users` title of sync-301-users | sync | 1.2 s | a \\| b |"),
            "{md}"
        );
    }

    #[test]
    fn report_targets_parse() {
        assert_eq!(
            "junit=out/r.xml".parse::<ReportTarget>(),
            Ok(ReportTarget {
                format: ReportFormat::Junit,
                path: "out/r.xml".into()
            })
        );
        assert!("xml=r.xml".parse::<ReportTarget>().is_err());
        assert!("json=".parse::<ReportTarget>().is_err());
        assert!("json".parse::<ReportTarget>().is_err());
    }
}
