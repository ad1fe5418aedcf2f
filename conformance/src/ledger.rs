//! The expected-failure ledger of a connector that is known not to pass every case (the Python
//! adapter): each entry names a case and says why it fails. A listed case that fails is an
//! expected failure; a listed case that passes fails the run (the entry is stale and must go), as
//! does a failure nobody listed. An entry may pin how the case fails (`fails_with`), so a case
//! that starts failing for another reason is not hidden.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::case::Case;
use crate::error::{Error, Result, file_error};
use crate::runner::{CaseRun, Verdict};

/// A case's final status, after the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Did what the case expects.
    Passed,
    /// Did not, or a ledger entry went stale.
    Failed,
    /// Not run.
    Skipped,
    /// Failed as the ledger says it does.
    ExpectedFailure,
}

impl Status {
    /// The spelling in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::ExpectedFailure => "expected_failure",
        }
    }
}

/// One case's result, as reports show it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// Case id.
    pub id: String,
    /// Its category.
    pub category: crate::case::Category,
    /// Its title.
    pub title: String,
    /// The final status.
    pub status: Status,
    /// Why it failed, was expected to, or was skipped.
    pub reason: Option<String>,
    /// How long it took.
    pub duration: Duration,
    /// The end of the connector's stderr when the case did not pass (secrets masked).
    pub stderr_tail: Vec<String>,
    /// The requests it made, when the case did not pass.
    pub timeline: crate::timeline::Timeline,
    /// The failure modes of `duo-logs.md` §10 a logs case exists to catch (`L1`…).
    pub rows: Vec<String>,
}

impl CaseResult {
    /// The title, with a logs case's L-rows after it (`… [L1, L2]`), as the reports show it.
    pub fn display_title(&self) -> String {
        if self.rows.is_empty() {
            self.title.clone()
        } else {
            format!("{} [{}]", self.title, self.rows.join(", "))
        }
    }
}

/// One expected failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Why the connector fails the case.
    pub reason: String,
    /// A part of the failure reason the case must keep giving, when pinned.
    pub fails_with: Option<String>,
}

/// The expected failures of one connector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Which connector it describes.
    pub connector: String,
    /// Case id → entry.
    pub entries: BTreeMap<String, LedgerEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LedgerFile {
    connector: String,
    #[serde(default)]
    expected_failure: Vec<EntryFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    case: Spanned<String>,
    reason: Spanned<String>,
    #[serde(default)]
    fails_with: Option<String>,
}

impl Ledger {
    /// Reads a ledger; every entry must name a case of `catalogue` once, with a reason.
    pub fn load(path: &Path, catalogue: &[Case]) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string(), catalogue)
    }

    /// Parses ledger text; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str, catalogue: &[Case]) -> Result<Self> {
        let file: LedgerFile = toml::from_str(text)
            .map_err(|e| file_error(origin, text, e.span().map_or(0, |s| s.start), e.message().trim()))?;
        let mut entries = BTreeMap::new();
        for entry in file.expected_failure {
            let id = entry.case.get_ref();
            if !catalogue.iter().any(|c| &c.id == id) {
                return Err(file_error(
                    origin,
                    text,
                    entry.case.span().start,
                    format!("no case {id:?} in the catalogue"),
                ));
            }
            if entry.reason.get_ref().trim().is_empty() {
                return Err(file_error(
                    origin,
                    text,
                    entry.reason.span().start,
                    "an expected failure needs a reason",
                ));
            }
            let span = entry.case.span();
            let previous = entries.insert(
                entry.case.into_inner(),
                LedgerEntry {
                    reason: entry.reason.into_inner(),
                    fails_with: entry.fails_with,
                },
            );
            if previous.is_some() {
                return Err(file_error(origin, text, span.start, "this case is listed twice"));
            }
        }
        Ok(Self {
            connector: file.connector,
            entries,
        })
    }

    /// The final result of `run` of `case`.
    pub fn judge(&self, case: &Case, run: &CaseRun) -> CaseResult {
        let entry = self.entries.get(&case.id);
        let (status, reason) = match (&run.verdict, entry) {
            (Verdict::Pass, None) => (Status::Passed, None),
            (Verdict::Pass, Some(entry)) => (
                Status::Failed,
                Some(format!(
                    "passed, but the ledger lists it as an expected failure ({}): remove the entry",
                    entry.reason
                )),
            ),
            (Verdict::Fail(why), None) => (Status::Failed, Some(why.clone())),
            (Verdict::Fail(why), Some(entry)) => match &entry.fails_with {
                Some(pinned) if !why.contains(pinned.as_str()) => (
                    Status::Failed,
                    Some(format!(
                        "fails otherwise than the ledger says (it pins {pinned:?}): {why}"
                    )),
                ),
                _ => (
                    Status::ExpectedFailure,
                    Some(format!("{why} [ledger: {}]", entry.reason)),
                ),
            },
        };
        CaseResult {
            id: case.id.clone(),
            category: case.category,
            title: case.title.clone(),
            status,
            reason,
            duration: run.duration,
            stderr_tail: run.stderr_tail.clone(),
            timeline: run.timeline.clone(),
            rows: case.rows.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{bundled_cases_dir, bundled_root, load_catalogue};

    fn catalogue() -> Vec<Case> {
        load_catalogue(&bundled_cases_dir(), &bundled_root()).unwrap()
    }

    fn run(id: &str, verdict: Verdict) -> CaseRun {
        CaseRun {
            id: id.into(),
            verdict,
            duration: Duration::from_millis(5),
            stderr_tail: Vec::new(),
            timeline: crate::timeline::Timeline::default(),
        }
    }

    #[test]
    fn entries_must_name_real_cases_once_with_a_reason() {
        let cases = catalogue();
        let error = Ledger::parse(
            "connector = \"x\"\n[[expected_failure]]\ncase = \"sync-nope\"\nreason = \"r\"\n",
            "l.toml",
            &cases,
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "l.toml:3:8: no case \"sync-nope\" in the catalogue"
        );
        let twice = "connector = \"x\"\n[[expected_failure]]\ncase = \"sync-301-users\"\nreason = \"r\"\n[[expected_failure]]\ncase = \"sync-301-users\"\nreason = \"r\"\n";
        assert_eq!(
            Ledger::parse(twice, "l.toml", &cases).unwrap_err().to_string(),
            "l.toml:6:8: this case is listed twice"
        );
        let no_reason =
            "connector = \"x\"\n[[expected_failure]]\ncase = \"sync-301-users\"\nreason = \" \"\n";
        assert!(
            Ledger::parse(no_reason, "l.toml", &cases)
                .unwrap_err()
                .to_string()
                .contains("needs a reason")
        );
        let typo = "connector = \"x\"\n[[expected_failure]]\ncase = \"sync-301-users\"\nwhy = \"r\"\n";
        assert!(
            Ledger::parse(typo, "l.toml", &cases)
                .unwrap_err()
                .to_string()
                .starts_with("l.toml:")
        );
    }

    #[test]
    fn the_ledger_turns_listed_failures_into_expected_ones_and_stale_entries_into_failures() {
        let cases = catalogue();
        let ledger = Ledger::parse(
            "connector = \"x\"\n[[expected_failure]]\ncase = \"sync-301-users\"\nreason = \"pages badly\"\nfails_with = \"missing\"\n",
            "l.toml",
            &cases,
        )
        .unwrap();
        let case = cases.iter().find(|c| c.id == "sync-301-users").unwrap();
        let other = cases.iter().find(|c| c.id == "sync-1-user").unwrap();

        let expected = ledger.judge(
            case,
            &run(&case.id, Verdict::Fail("users: 1 of 301 missing".into())),
        );
        assert_eq!(expected.status, Status::ExpectedFailure);
        assert_eq!(
            expected.reason.as_deref(),
            Some("users: 1 of 301 missing [ledger: pages badly]")
        );

        let stale = ledger.judge(case, &run(&case.id, Verdict::Pass));
        assert_eq!(stale.status, Status::Failed);
        assert!(stale.reason.unwrap().contains("remove the entry"));

        let otherwise = ledger.judge(case, &run(&case.id, Verdict::Fail("exited 2".into())));
        assert_eq!(otherwise.status, Status::Failed);
        assert!(
            otherwise
                .reason
                .unwrap()
                .starts_with("fails otherwise than the ledger says")
        );

        let new = ledger.judge(other, &run(&other.id, Verdict::Fail("boom".into())));
        assert_eq!(
            (new.status, new.reason.as_deref()),
            (Status::Failed, Some("boom"))
        );
        assert_eq!(
            ledger.judge(other, &run(&other.id, Verdict::Pass)).status,
            Status::Passed
        );
    }
}
