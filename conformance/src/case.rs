//! Case files (`conformance/cases/<category>/<id>.toml`): what a case runs and what it expects.
//! A case is data, not code: its id, title, MUST statement, the kit version that added it, its
//! category, the scenario it serves, the credentials it hands the connector, and the expected
//! outcome with the journal checks. Unknown keys are refused; every mistake is reported as
//! `file:line:column`. The format is documented in `conformance/README.md`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mock_server::Scenario;
use serde::Deserialize;
use toml::Spanned;

use crate::contract::{ErrorKind, FailureField, FieldRule, field_rule};
use crate::error::{Error, Result, file_error};
use crate::journal_check::{JournalChecks, PageSizeRule};
use crate::logs::spec::{LogsFile, LogsSpec};

/// Deadline of a case that names none.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);
/// Longest deadline a case may ask for.
pub const MAX_DEADLINE: Duration = Duration::from_secs(600);
/// Default tolerance on a reported clock offset, seconds.
pub const DEFAULT_CLOCK_TOLERANCE_S: u64 = 60;

/// The kit's version: a case added later than this is refused.
pub const KIT_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What a case is about; also the folder it lives in and the JUnit suite it reports under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Whole tenants of every size and shape.
    Sync,
    /// Paging: short pages, metadata shapes, churn.
    Pagination,
    /// Missing grants and refused networks.
    Permissions,
    /// WAF, proxy and gateway answers, TLS inspection.
    Intermediaries,
    /// 429s, a burst and a wall.
    RateLimits,
    /// Keys, signatures, clocks.
    Auth,
    /// 5xx, cut connections, stalls, malformed answers.
    ServerErrors,
    /// New fields and shapes that must be tolerated.
    Drift,
    /// Log collectors (`CONTRACT-LOGS.md`): several runs, nothing lost or twice.
    Logs,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Self; 9] = [
        Self::Sync,
        Self::Pagination,
        Self::Permissions,
        Self::Intermediaries,
        Self::RateLimits,
        Self::Auth,
        Self::ServerErrors,
        Self::Drift,
        Self::Logs,
    ];

    /// The spelling in case files, folders and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Pagination => "pagination",
            Self::Permissions => "permissions",
            Self::Intermediaries => "intermediaries",
            Self::RateLimits => "rate-limits",
            Self::Auth => "auth",
            Self::ServerErrors => "server-errors",
            Self::Drift => "drift",
            Self::Logs => "logs",
        }
    }

    /// The category spelled `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which keys the connector is handed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credentials {
    /// The integration's keys as the scenario hands them out (a scenario may hand out a wrong
    /// secret key itself, with `client_skey`).
    #[default]
    AsGiven,
    /// The integration's ikey with a secret key that is not its own.
    WrongSkey,
    /// An integration key the tenant does not know, with the integration's secret key.
    UnknownIkey,
}

/// What the connector must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Expectation {
    /// Exit 0 with a snapshot equal to the fake's ground truth, read after the run.
    Success {
        /// Failure kinds that also pass (a connector that detects churn may refuse the sync).
        also_accept: Vec<ErrorKind>,
    },
    /// Exit 1 with a failure of this kind within the deadline.
    Failure(ExpectedFailure),
}

/// A failure a case expects.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedFailure {
    /// The kind.
    pub kind: ErrorKind,
    /// Duo's code the failure must carry, when the case says.
    pub duo_code: Option<u32>,
    /// The HTTP status the failure must carry, when the case says.
    pub http_status: Option<u16>,
    /// For clock skew: the offset the connector must report, and the tolerance, seconds.
    pub clock_offset_s: Option<(i64, u64)>,
}

/// One conformance case, validated.
#[derive(Debug, Clone)]
pub struct Case {
    /// Stable id, starting with the category (`pagination-301-users`).
    pub id: String,
    /// One line for people.
    pub title: String,
    /// The requirement, as a MUST statement.
    pub must: String,
    /// The kit version the case was added in.
    pub since: String,
    /// Its category (also its folder).
    pub category: Category,
    /// The scenario file as written in the case (relative to the repository root).
    pub scenario: String,
    /// The scenario file, resolved.
    pub scenario_path: PathBuf,
    /// The integration whose keys are handed out (default: the scenario's first).
    pub integration: Option<String>,
    /// Which keys are handed out.
    pub credentials: Credentials,
    /// How long the connector may run.
    pub deadline: Duration,
    /// The outcome expected.
    pub expect: Expectation,
    /// Checks on the requests the connector made.
    pub journal: JournalChecks,
    /// The case file, for messages.
    pub origin: String,
    /// The failure modes of `duo-logs.md` §10 the case exists to catch (`L1`…), for `--list`.
    pub rows: Vec<String>,
    /// A logs case's collector runs (`category = "logs"` only).
    pub logs: Option<LogsSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    id: Spanned<String>,
    title: Spanned<String>,
    must: Spanned<String>,
    since: Spanned<String>,
    category: Spanned<Category>,
    scenario: Spanned<String>,
    #[serde(default)]
    integration: Option<Spanned<String>>,
    #[serde(default)]
    credentials: Credentials,
    #[serde(default)]
    deadline_s: Option<Spanned<u64>>,
    #[serde(default)]
    expect: Option<Spanned<ExpectFile>>,
    #[serde(default)]
    journal: Option<JournalFile>,
    #[serde(default)]
    rows: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    logs: Option<Spanned<LogsFile>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum Outcome {
    Success,
    Failure,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectFile {
    outcome: Outcome,
    #[serde(default)]
    kind: Option<Spanned<ErrorKind>>,
    #[serde(default)]
    duo_code: Option<Spanned<u32>>,
    #[serde(default)]
    http_status: Option<Spanned<u16>>,
    #[serde(default)]
    clock_offset_s: Option<Spanned<i64>>,
    #[serde(default)]
    clock_offset_tolerance_s: Option<u64>,
    #[serde(default)]
    also_accept: Vec<ErrorKind>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalFile {
    #[serde(default)]
    page_size: Option<PageSizeRule>,
    #[serde(default)]
    no_repeated_offsets: Option<bool>,
    #[serde(default)]
    max_requests: Option<u64>,
    #[serde(default)]
    no_request_after_refusal: Option<bool>,
    #[serde(default)]
    min_wait_after_429_ms: Option<u64>,
    #[serde(default)]
    max_retries_after_429: Option<u32>,
    #[serde(default)]
    min_retries_after_429: Option<u32>,
    #[serde(default)]
    min_retries_after_fault: Option<u32>,
}

impl Case {
    /// Reads and validates the case file at `path`; scenario paths resolve against `root`.
    pub fn load(path: &Path, root: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string(), root)
    }

    /// Parses and validates case text; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str, root: &Path) -> Result<Self> {
        let at = |span: Range<usize>, message: String| file_error(origin, text, span.start, message);
        let file: CaseFile =
            toml::from_str(text).map_err(|e| at(e.span().unwrap_or(0..0), e.message().trim().to_owned()))?;
        let id = file.id.get_ref();
        let category = *file.category.get_ref();
        let valid_id = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        if !valid_id {
            return Err(at(
                file.id.span(),
                format!("id {id:?} must be lower-case letters, digits and dashes"),
            ));
        }
        if !id.starts_with(&format!("{category}-")) {
            return Err(at(
                file.id.span(),
                format!("id {id:?} must start with its category, \"{category}-\""),
            ));
        }
        for (field, value) in [("title", &file.title), ("must", &file.must)] {
            if value.get_ref().trim().is_empty() || value.get_ref().contains('\n') {
                return Err(at(value.span(), format!("{field} must be one non-empty line")));
            }
        }
        if !file.must.get_ref().contains("MUST") {
            return Err(at(
                file.must.span(),
                "must is the requirement as a MUST statement (\"A connector MUST …\")".into(),
            ));
        }
        check_since(file.since.get_ref()).map_err(|m| at(file.since.span(), m))?;

        let scenario_path = root.join(file.scenario.get_ref());
        let scenario = Scenario::load(&scenario_path).map_err(|e| {
            at(
                file.scenario.span(),
                format!("scenario {:?} does not load: {e}", file.scenario.get_ref()),
            )
        })?;
        if let Some(name) = &file.integration
            && !scenario.integrations.iter().any(|i| &i.name == name.get_ref())
        {
            let known: Vec<&str> = scenario.integrations.iter().map(|i| i.name.as_str()).collect();
            return Err(at(
                name.span(),
                format!(
                    "the scenario has no integration {:?} (it has {})",
                    name.get_ref(),
                    known.join(", ")
                ),
            ));
        }
        let deadline = match &file.deadline_s {
            None => DEFAULT_DEADLINE,
            Some(s) => {
                let d = Duration::from_secs(*s.get_ref());
                if d.is_zero() || d > MAX_DEADLINE {
                    return Err(at(
                        s.span(),
                        format!("deadline_s must be between 1 and {}", MAX_DEADLINE.as_secs()),
                    ));
                }
                d
            }
        };
        let rows = match &file.rows {
            None => Vec::new(),
            Some(rows) => {
                let valid = |r: &String| {
                    r.strip_prefix('L')
                        .and_then(|n| n.parse::<u32>().ok())
                        .is_some_and(|n| (1..=19).contains(&n))
                };
                if let Some(bad) = rows.get_ref().iter().find(|r| !valid(r)) {
                    return Err(at(
                        rows.span(),
                        format!("rows are duo-logs.md §10's L1 to L19, not {bad:?}"),
                    ));
                }
                rows.get_ref().clone()
            }
        };
        let logs =
            match (category, file.logs) {
                (Category::Logs, Some(table)) => {
                    if let Some(expect) = &file.expect {
                        return Err(at(
                            expect.span(),
                            "a logs case expects per run ([[logs.runs]] expect), not in [expect]".into(),
                        ));
                    }
                    let span = table.span();
                    Some(table.into_inner().validate().map_err(|(inner, message)| {
                        at(if inner.is_empty() { span } else { inner }, message)
                    })?)
                }
                (Category::Logs, None) => {
                    return Err(at(
                        file.category.span(),
                        "a logs case needs its [logs] table".into(),
                    ));
                }
                (_, Some(table)) => {
                    return Err(at(table.span(), "[logs] belongs to category = \"logs\"".into()));
                }
                (_, None) => None,
            };
        let expect_file = match file.expect {
            Some(expect) => expect,
            None if logs.is_some() => Spanned::new(
                0..0,
                ExpectFile {
                    outcome: Outcome::Success,
                    kind: None,
                    duo_code: None,
                    http_status: None,
                    clock_offset_s: None,
                    clock_offset_tolerance_s: None,
                    also_accept: Vec::new(),
                },
            ),
            None => return Err(at(0..0, "missing field `expect`".into())),
        };
        let expect_span = expect_file.span();
        let expect = expect_file.into_inner();
        let expect = match expect.outcome {
            Outcome::Success => {
                let stray = expect.kind.is_some()
                    || expect.duo_code.is_some()
                    || expect.http_status.is_some()
                    || expect.clock_offset_s.is_some()
                    || expect.clock_offset_tolerance_s.is_some();
                if stray {
                    return Err(at(
                        expect_span,
                        "an expected success takes no kind, duo_code, http_status or clock_offset_s (only also_accept)".into(),
                    ));
                }
                Expectation::Success {
                    also_accept: expect.also_accept,
                }
            }
            Outcome::Failure => {
                let Some(kind) = expect.kind else {
                    return Err(at(expect_span, "an expected failure needs its kind".into()));
                };
                if !expect.also_accept.is_empty() {
                    return Err(at(
                        expect_span,
                        "also_accept goes with outcome = \"success\"".into(),
                    ));
                }
                let kind = kind.into_inner();
                // A case expects only what the contract's table lets a failure of its kind carry.
                let pins = [
                    (
                        FailureField::HttpStatus,
                        expect
                            .http_status
                            .as_ref()
                            .map(|v| (i64::from(*v.get_ref()), v.span())),
                    ),
                    (
                        FailureField::DuoCode,
                        expect
                            .duo_code
                            .as_ref()
                            .map(|v| (i64::from(*v.get_ref()), v.span())),
                    ),
                    (
                        FailureField::ClockOffset,
                        expect.clock_offset_s.as_ref().map(|v| (*v.get_ref(), v.span())),
                    ),
                ];
                for (field, pin) in pins {
                    let Some((value, span)) = pin else { continue };
                    let name = field.name();
                    match field_rule(kind, field) {
                        FieldRule::Optional => {
                            return Err(at(
                                span,
                                format!(
                                    "{name} is optional for kind = \"{kind}\" in the contract: a case cannot expect it"
                                ),
                            ));
                        }
                        FieldRule::Required(values) if !values.allow(value) => {
                            return Err(at(
                                span,
                                format!(
                                    "the contract requires {name} {values} of kind = \"{kind}\": {value} cannot be expected"
                                ),
                            ));
                        }
                        _ => {}
                    }
                }
                let clock_offset_s = match (expect.clock_offset_s, expect.clock_offset_tolerance_s) {
                    (Some(offset), tolerance) => Some((
                        offset.into_inner(),
                        tolerance.unwrap_or(DEFAULT_CLOCK_TOLERANCE_S),
                    )),
                    (None, Some(_)) => {
                        return Err(at(
                            expect_span,
                            "clock_offset_tolerance_s needs clock_offset_s".into(),
                        ));
                    }
                    (None, None) => None,
                };
                Expectation::Failure(ExpectedFailure {
                    kind,
                    duo_code: expect.duo_code.map(Spanned::into_inner),
                    http_status: expect.http_status.map(Spanned::into_inner),
                    clock_offset_s,
                })
            }
        };
        let mut journal = if logs.is_some() {
            JournalChecks::for_logs()
        } else {
            JournalChecks::default()
        };
        if let Some(j) = file.journal {
            if let Some(v) = j.page_size {
                journal.page_size = v;
            }
            if let Some(v) = j.no_repeated_offsets {
                journal.no_repeated_offsets = v;
            }
            if let Some(v) = j.no_request_after_refusal {
                journal.no_request_after_refusal = v;
            }
            if let Some(v) = j.min_wait_after_429_ms {
                journal.min_wait_after_429_ms = v;
            }
            if let Some(v) = j.max_retries_after_429 {
                journal.max_retries_after_429 = v;
            }
            journal.max_requests = j.max_requests;
            journal.min_retries_after_429 = j.min_retries_after_429;
            journal.min_retries_after_fault = j.min_retries_after_fault;
        }
        Ok(Self {
            id: file.id.into_inner(),
            title: file.title.into_inner(),
            must: file.must.into_inner(),
            since: file.since.into_inner(),
            category,
            scenario: file.scenario.into_inner(),
            scenario_path,
            integration: file.integration.map(Spanned::into_inner),
            credentials: file.credentials,
            deadline,
            expect,
            journal,
            origin: origin.to_owned(),
            rows,
            logs,
        })
    }
}

/// `since` must be a version `x.y.z` no later than the kit's.
fn check_since(since: &str) -> Result<(), String> {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
        let version = (parts.next()??, parts.next()??, parts.next()??);
        parts.next().is_none().then_some(version)
    };
    let Some(version) = parse(since) else {
        return Err(format!("since {since:?} must be a kit version such as \"0.1.0\""));
    };
    match parse(KIT_VERSION) {
        Some(kit) if version > kit => Err(format!(
            "since {since:?} is later than this kit's version {KIT_VERSION}"
        )),
        _ => Ok(()),
    }
}

/// Every case under `cases_dir` (`<category>/<id>.toml`), sorted by id. Scenario paths resolve
/// against `root`. A file in the wrong folder, an id that is not its file name, or an id used
/// twice is an error.
pub fn load_catalogue(cases_dir: &Path, root: &Path) -> Result<Vec<Case>> {
    let mut cases: Vec<Case> = Vec::new();
    let folders = std::fs::read_dir(cases_dir).map_err(|e| Error::io(cases_dir, e))?;
    let mut files = Vec::new();
    for folder in folders {
        let folder = folder.map_err(|e| Error::io(cases_dir, e))?.path();
        if !folder.is_dir() {
            continue;
        }
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if Category::from_name(&name).is_none() {
            return Err(Error::Usage(format!(
                "{}: not a category folder (categories: {})",
                folder.display(),
                Category::ALL.map(Category::as_str).join(", ")
            )));
        }
        for entry in std::fs::read_dir(&folder).map_err(|e| Error::io(&folder, e))? {
            let path = entry.map_err(|e| Error::io(&folder, e))?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push((name.clone(), path));
            }
        }
    }
    for (folder, path) in files {
        let case = Case::load(&path, root)?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if stem != case.id {
            return Err(Error::Usage(format!(
                "{}: the file must be named after the case id ({}.toml)",
                path.display(),
                case.id
            )));
        }
        if folder != case.category.as_str() {
            return Err(Error::Usage(format!(
                "{}: a {} case belongs in cases/{}/",
                path.display(),
                case.category,
                case.category
            )));
        }
        if let Some(other) = cases.iter().find(|c| c.id == case.id) {
            return Err(Error::Usage(format!(
                "{}: case id {} is already used by {}",
                path.display(),
                case.id,
                other.origin
            )));
        }
        cases.push(case);
    }
    cases.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(cases)
}

/// Folder of the bundled cases in this source tree.
pub fn bundled_cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}

/// The repository root of this source tree (scenario paths in cases are relative to it).
pub fn bundled_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        bundled_root()
    }

    const GOOD: &str = r#"
id = "sync-301-users"
title = "301 users"
must = "A connector MUST read every page."
since = "0.1.0"
category = "sync"
scenario = "scenarios/users-301.toml"

[expect]
outcome = "success"
"#;

    fn error_of(text: &str) -> String {
        Case::parse(text, "cases/x.toml", &root())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_good_case_loads_with_defaults() {
        let case = Case::parse(GOOD, "cases/x.toml", &root()).unwrap();
        assert_eq!(case.id, "sync-301-users");
        assert_eq!(case.category, Category::Sync);
        assert_eq!(case.credentials, Credentials::AsGiven);
        assert_eq!(case.deadline, DEFAULT_DEADLINE);
        assert_eq!(case.expect, Expectation::Success { also_accept: vec![] });
        assert_eq!(case.journal, JournalChecks::default());
    }

    #[test]
    fn unknown_keys_are_located() {
        let text = GOOD.replace("[expect]", "colour = \"red\"\n[expect]");
        assert!(
            error_of(&text).starts_with("cases/x.toml:9:1: unknown field `colour`"),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn bad_values_are_located_at_the_value() {
        let text = GOOD.replace("category = \"sync\"", "category = \"syncing\"");
        let error = error_of(&text);
        assert!(
            error.starts_with("cases/x.toml:6:12: unknown variant `syncing`"),
            "{error}"
        );

        let text = GOOD.replace("users-301", "users-302");
        let error = error_of(&text);
        assert!(
            error.starts_with("cases/x.toml:7:12: scenario \"scenarios/users-302.toml\" does not load"),
            "{error}"
        );

        let text = GOOD.replace("id = \"sync-301-users\"", "id = \"pagination-301-users\"");
        let error = error_of(&text);
        assert!(
            error.starts_with("cases/x.toml:2:6: id \"pagination-301-users\" must start with its category"),
            "{error}"
        );

        let text = GOOD.replace("0.1.0", "99.0.0");
        assert!(error_of(&text).contains("later than this kit's version"));

        let text = GOOD.replace("A connector MUST read every page.", "Reads pages.");
        assert!(error_of(&text).starts_with("cases/x.toml:4:8:"));
    }

    #[test]
    fn expectations_are_checked_for_consistency() {
        let text = GOOD.replace("outcome = \"success\"", "outcome = \"failure\"");
        assert!(error_of(&text).contains("an expected failure needs its kind"));
        let text = GOOD.replace("outcome = \"success\"", "outcome = \"success\"\nkind = \"tls\"");
        assert!(error_of(&text).contains("an expected success takes no kind"));
        let text = GOOD.replace(
            "outcome = \"success\"",
            "outcome = \"failure\"\nkind = \"tls\"\nclock_offset_s = 600",
        );
        let error = error_of(&text);
        assert!(
            error.starts_with(
                "cases/x.toml:12:18: clock_offset_s is optional for kind = \"tls\" in the contract: a case cannot expect it"
            ),
            "{error}"
        );
        let text = GOOD.replace(
            "outcome = \"success\"",
            "outcome = \"failure\"\nkind = \"network\"\nhttp_status = 504",
        );
        assert!(error_of(&text).contains("http_status is optional for kind = \"network\""));
        let text = GOOD.replace(
            "outcome = \"success\"",
            "outcome = \"failure\"\nkind = \"permission_denied\"\nduo_code = 40300",
        );
        let error = error_of(&text);
        assert!(
            error.starts_with(
                "cases/x.toml:12:12: the contract requires duo_code 40301 of kind = \"permission_denied\": 40300 cannot be expected"
            ),
            "{error}"
        );
        // What a kind requires "when" something happened, a case may expect.
        let text = GOOD.replace(
            "outcome = \"success\"",
            "outcome = \"failure\"\nkind = \"blocked_by_intermediary\"\nhttp_status = 407",
        );
        Case::parse(&text, "cases/x.toml", &root()).unwrap();
        let text = GOOD.replace(
            "outcome = \"success\"",
            "outcome = \"failure\"\nkind = \"forbidden\"",
        );
        assert!(
            error_of(&text).starts_with("cases/x.toml:11:8: unknown variant `forbidden`"),
            "{}",
            error_of(&text)
        );
    }

    #[test]
    fn integrations_must_exist_in_the_scenario() {
        let text = GOOD.replace("[expect]", "integration = \"no-admins\"\n[expect]");
        let error = error_of(&text);
        assert!(
            error.starts_with(
                "cases/x.toml:9:15: the scenario has no integration \"no-admins\" (it has access-review)"
            ),
            "{error}"
        );
    }

    const LOGS: &str = r#"
id = "logs-x"
title = "x"
must = "A collector MUST x."
since = "0.1.0"
category = "logs"
rows = ["L1"]
scenario = "conformance/scenarios/logs-steady.toml"

[logs]
types = ["authentication"]
settle_s = 4

[[logs.runs]]
sink = "full"
expect = "sink"

[[logs.runs]]
wait_s = 1.5
"#;

    #[test]
    fn a_logs_case_loads_its_runs() {
        let case = Case::parse(LOGS, "cases/x.toml", &root()).unwrap();
        let logs = case.logs.unwrap();
        assert_eq!(case.rows, ["L1"]);
        assert_eq!(logs.lookback_s, 3600);
        assert_eq!(logs.users, 0, "no DUO_LOG_USERS unless the case asks");
        assert_eq!(logs.runs.len(), 2);
        assert!(logs.runs[0].sink_full);
        assert_eq!(logs.runs[0].expect, crate::logs::spec::RunExpect::Sink);
        assert_eq!(logs.runs[1].wait, Duration::from_millis(1500));
        assert_eq!(logs.runs[1].expect, crate::logs::spec::RunExpect::Ok);
        assert_eq!(case.journal, JournalChecks::for_logs());
    }

    #[test]
    fn logs_mistakes_are_located() {
        let error = error_of(&LOGS.replace("[\"authentication\"]", "[\"auth\"]"));
        assert!(
            error.starts_with("cases/x.toml:11:9: unknown log type \"auth\""),
            "{error}"
        );
        let error = error_of(&LOGS.replace("[\"L1\"]", "[\"L20\"]"));
        assert!(error.starts_with("cases/x.toml:7:8: rows are"), "{error}");
        let error = error_of(&LOGS.replace("expect = \"sink\"", "expect = \"ok\""));
        assert!(
            error.contains("a run whose sink is full cannot expect ok"),
            "{error}"
        );
        let error = error_of(&LOGS.replace("expect = \"sink\"", "expect = \"lost\""));
        assert!(
            error.starts_with("cases/x.toml:16:10: expect \"lost\""),
            "{error}"
        );
        let error = error_of(&LOGS.replace(
            "sink = \"full\"\nexpect = \"sink\"",
            "kill_after_requests = 2\nexpect = \"ok\"",
        ));
        assert!(error.contains("a killed run expects nothing"), "{error}");
        let error = error_of(
            &LOGS
                .replace("category = \"logs\"", "category = \"sync\"")
                .replace("logs-x", "sync-x"),
        );
        assert!(error.contains("[logs] belongs to category = \"logs\""), "{error}");
        let error = error_of(&format!("{LOGS}\n[expect]\noutcome = \"success\"\n"));
        assert!(error.contains("a logs case expects per run"), "{error}");
        let error = error_of(&LOGS.replace("settle_s = 4", "settle_s = 4\nusers = 0"));
        assert!(
            error.starts_with("cases/x.toml:13:9: users must be at least 1"),
            "{error}"
        );
        let error = error_of(
            &LOGS
                .replace("[\"authentication\"]", "[\"administrator\"]")
                .replace("settle_s = 4", "settle_s = 4\nusers = 2"),
        );
        assert!(
            error.starts_with("cases/x.toml:13:9: users filters the authentication log"),
            "{error}"
        );
        let error = error_of(&LOGS.replace("settle_s = 4", "settle_s = 4\ncolour = 1"));
        assert!(
            error.starts_with("cases/x.toml:13:1: unknown field `colour`"),
            "{error}"
        );
    }

    #[test]
    fn journal_overrides_apply() {
        let text = format!(
            "{GOOD}\n[journal]\npage_size = \"largest\"\nmax_requests = 12\nno_repeated_offsets = false\n"
        );
        let case = Case::parse(&text, "x", &root()).unwrap();
        assert_eq!(case.journal.page_size, PageSizeRule::Largest);
        assert_eq!(case.journal.max_requests, Some(12));
        assert!(!case.journal.no_repeated_offsets);
        assert!(case.journal.no_request_after_refusal);
    }
}
