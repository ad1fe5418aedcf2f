//! Running a case: serve its scenario over TLS on a port of its own, start the connector as a
//! child process (`sh -c COMMAND`, its own process group) with the contract's environment, watch
//! the journal while it runs, enforce the deadline, then judge what it wrote against the
//! expectation, the ground truth read after the run, and the journal checks.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_server::journal::JournalEntry;
use mock_server::{MockServer, Scenario, StartOptions, TlsMode};
use tokio::sync::{Semaphore, mpsc};

use crate::case::{Case, Credentials, Expectation, ExpectedFailure};
use crate::contract::{
    ConnectorOutput, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE, FailureField, ReportedFailure, Snapshot,
    field_problem,
};
use crate::error::{Error, Result};
use crate::report::count;
use crate::snapshot_compare::first_mismatch;
use crate::stderr_tail;
use crate::timeline::Timeline;
use crate::truth::GroundTruth;

/// How often the journal is checked while a connector runs.
const WATCH_INTERVAL: Duration = Duration::from_millis(200);
/// Secret key handed out for `credentials = "wrong-skey"` (40 characters, like Duo's).
const WRONG_SKEY: &str = "KitWrongSecretKeyKitWrongSecretKey000000";
/// Integration key handed out for `credentials = "unknown-ikey"`.
const UNKNOWN_IKEY: &str = "DIKITUNKNOWN00000000";
/// Variables removed from the connector's environment: the contract's own (set afresh) and
/// proxies, which would send the connector somewhere else than the fake.
const CLEARED_PREFIXES: [&str; 1] = ["DUO_"];
const CLEARED_PROXIES: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// How the run goes.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The connector, as one shell command line.
    pub connector: String,
    /// The collector logs cases run (`CONTRACT-LOGS.md`); none: `connector`.
    pub collector: Option<String>,
    /// Cases run at once, each with its own fake.
    pub jobs: usize,
    /// Shortens every case's deadline to at most this (the kit's self-tests).
    pub max_deadline: Option<Duration>,
    /// Where to keep the output, stderr and journal of every case that did not pass.
    pub artifacts: Option<PathBuf>,
}

/// A case's verdict before the ledger is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The connector did what the case expects.
    Pass,
    /// It did not; the closest mismatch, in words.
    Fail(String),
}

/// What running one case gave.
#[derive(Debug, Clone)]
pub struct CaseRun {
    /// The case id.
    pub id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Time from starting the fake to the verdict.
    pub duration: Duration,
    /// The last lines of the connector's stderr, secrets masked, when the case did not pass
    /// (empty when it passed, or wrote nothing there).
    pub stderr_tail: Vec<String>,
    /// The requests it made, on a time axis, when the case did not pass (empty when it passed).
    pub timeline: Timeline,
}

/// Something that happened during a run, for progress displays.
#[derive(Debug)]
pub enum RunEvent {
    /// A case started.
    Started(String),
    /// A case ended.
    Finished(CaseRun),
}

/// Process groups of running connectors, so an interrupted run leaves none behind.
#[derive(Debug, Clone, Default)]
pub struct RunningConnectors(Arc<Mutex<HashSet<u32>>>);

impl RunningConnectors {
    pub(crate) fn insert(&self, pgid: u32) {
        if let Ok(mut set) = self.0.lock() {
            set.insert(pgid);
        }
    }

    pub(crate) fn remove(&self, pgid: u32) {
        if let Ok(mut set) = self.0.lock() {
            set.remove(&pgid);
        }
    }

    /// Kills every running connector's process group.
    pub fn kill_all(&self) {
        let groups: Vec<u32> = self
            .0
            .lock()
            .map(|set| set.iter().copied().collect())
            .unwrap_or_default();
        for pgid in groups {
            kill_group(pgid);
        }
    }
}

/// Kills the process group `pgid` (the connector and anything it started). Group 0 would be the
/// kit's own: never.
pub(crate) fn kill_group(pgid: u32) {
    if pgid == 0 {
        return;
    }
    // `kill` from the shell: no unsafe code for a signal, and the group goes whole.
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill -KILL -{pgid} 2>/dev/null"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Runs `cases`, `options.jobs` at a time, reporting each start and end to `on_event`, and
/// returns the runs in the order of `cases`. A connector command whose program is missing or not
/// executable is an error before any case runs ([`crate::preflight`]). Ctrl-C kills the running
/// connectors and ends the run with an error.
pub async fn run_cases(
    cases: &[Case],
    options: &RunOptions,
    mut on_event: impl FnMut(RunEvent),
) -> Result<Vec<CaseRun>> {
    crate::preflight::check_connector(&options.connector)?;
    if let Some(collector) = &options.collector
        && cases.iter().any(|c| c.logs.is_some())
    {
        crate::preflight::check_connector(collector)?;
    }
    let jobs = options.jobs.max(1);
    let permits = Arc::new(Semaphore::new(jobs));
    let running = RunningConnectors::default();
    let (tx, mut rx) = mpsc::unbounded_channel::<std::result::Result<RunEvent, Error>>();
    let mut tasks = tokio::task::JoinSet::new();
    for case in cases.iter().cloned() {
        let permits = Arc::clone(&permits);
        let tx = tx.clone();
        let options = options.clone();
        let running = running.clone();
        tasks.spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            let _ = tx.send(Ok(RunEvent::Started(case.id.clone())));
            let result = run_case(&case, &options, &running).await;
            let _ = tx.send(result.map(RunEvent::Finished));
        });
    }
    drop(tx);
    let mut runs = Vec::with_capacity(cases.len());
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Some(Ok(RunEvent::Finished(run))) => {
                    on_event(RunEvent::Finished(run.clone()));
                    runs.push(run);
                }
                Some(Ok(started)) => on_event(started),
                Some(Err(error)) => {
                    running.kill_all();
                    tasks.abort_all();
                    return Err(error);
                }
                None => break,
            },
            _ = tokio::signal::ctrl_c() => {
                running.kill_all();
                tasks.abort_all();
                return Err(Error::Usage("interrupted: the running connectors were stopped".into()));
            }
        }
    }
    runs.sort_by_key(|run| cases.iter().position(|c| c.id == run.id));
    Ok(runs)
}

/// The keys handed to the connector.
pub(crate) struct HandedKeys {
    pub(crate) ikey: String,
    pub(crate) skey: String,
}

pub(crate) fn keys_for(case: &Case, server: &MockServer) -> Result<HandedKeys> {
    let info = server.info();
    let integration = match &case.integration {
        Some(name) => info.integration(name),
        None => info.integrations.first(),
    }
    .ok_or_else(|| Error::Usage(format!("case {}: the scenario has no such integration", case.id)))?;
    Ok(match case.credentials {
        Credentials::AsGiven => HandedKeys {
            ikey: integration.ikey.clone(),
            skey: integration.skey.clone(),
        },
        Credentials::WrongSkey => HandedKeys {
            ikey: integration.ikey.clone(),
            skey: if integration.skey == WRONG_SKEY {
                WRONG_SKEY.to_lowercase()
            } else {
                WRONG_SKEY.to_owned()
            },
        },
        Credentials::UnknownIkey => HandedKeys {
            ikey: UNKNOWN_IKEY.to_owned(),
            skey: integration.skey.clone(),
        },
    })
}

/// How the connector process ended.
enum Ending {
    Exited(Option<i32>),
    Deadline,
    Stopped(String),
}

/// Removes the contract's variables (set afresh) and proxies from a child's environment.
pub(crate) fn clear_environment(command: &mut tokio::process::Command) {
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if CLEARED_PREFIXES.iter().any(|p| name_text.starts_with(p))
            || CLEARED_PROXIES.contains(&name_text.as_ref())
        {
            command.env_remove(&name);
        }
    }
}

/// A case's fake, served over TLS on a port of its own, with the keys handed out and a work folder
/// holding the CA the connector trusts.
pub(crate) struct CaseFake {
    pub(crate) scenario: Scenario,
    pub(crate) server: MockServer,
    pub(crate) keys: HandedKeys,
    pub(crate) work: tempfile::TempDir,
    pub(crate) ca_path: PathBuf,
    /// `localhost:PORT`.
    pub(crate) api_host: String,
}

impl CaseFake {
    /// Starts the fake of `case`.
    pub(crate) async fn start(case: &Case) -> Result<Self> {
        let fake_error = |source| Error::Fake {
            case: case.id.clone(),
            source,
        };
        let scenario = Scenario::load(&case.scenario_path).map_err(fake_error)?;
        let start = StartOptions {
            tls: TlsMode::Generate,
            ..StartOptions::default()
        };
        let server = MockServer::start(&scenario, start).await.map_err(fake_error)?;
        let keys = keys_for(case, &server)?;
        let work = tempfile::Builder::new()
            .prefix(&format!("duo-conformance-{}-", case.id))
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let ca_path = work.path().join("ca.pem");
        std::fs::write(&ca_path, server.ca_pem().unwrap_or_default()).map_err(|e| Error::io(&ca_path, e))?;
        let api_host = format!("localhost:{}", server.info().port);
        Ok(Self {
            scenario,
            server,
            keys,
            work,
            ca_path,
            api_host,
        })
    }
}

/// Runs one case. An `Err` means the kit could not run it (the scenario does not load, the
/// fake cannot start, the command cannot be spawned); a connector's failure is a verdict.
pub async fn run_case(case: &Case, options: &RunOptions, running: &RunningConnectors) -> Result<CaseRun> {
    if let Some(spec) = &case.logs {
        return crate::logs::run::run_logs_case(case, spec, options, running).await;
    }
    let started = Instant::now();
    let CaseFake {
        scenario,
        server,
        keys,
        work,
        ca_path,
        api_host,
    } = CaseFake::start(case).await?;
    let output_path = work.path().join("output.json");
    let stdout_path = work.path().join("stdout.txt");
    let stderr_path = work.path().join("stderr.txt");

    let mut command = tokio::process::Command::new("sh");
    command.arg("-c").arg(&options.connector);
    clear_environment(&mut command);
    command
        .env("DUO_API_HOST", &api_host)
        .env("DUO_IKEY", &keys.ikey)
        .env("DUO_SKEY", &keys.skey)
        .env("DUO_CA_CERT", &ca_path)
        .env("DUO_OUTPUT", &output_path)
        .stdin(Stdio::null())
        .stdout(file_for(&stdout_path)?)
        .stderr(file_for(&stderr_path)?)
        .process_group(0)
        .kill_on_drop(true);
    let spawn_error = |source| Error::Spawn {
        command: options.connector.clone(),
        source,
    };
    let started_unix_ms = unix_ms_now();
    let mut child = command.spawn().map_err(spawn_error)?;
    // The child leads its own group, so its pid is the group's id (known until it is reaped).
    let pgid = child.id().unwrap_or_default();
    running.insert(pgid);

    let deadline = options
        .max_deadline
        .map_or(case.deadline, |cap| cap.min(case.deadline));
    let journal = server.state().journal();
    let run_started = Instant::now();
    let ending = loop {
        let tick = tokio::time::sleep(WATCH_INTERVAL);
        tokio::select! {
            status = child.wait() => {
                break Ending::Exited(status.ok().and_then(|s| s.code()));
            }
            () = tick => {
                if let Some(violation) = case.journal.first_violation(&journal.entries(), false) {
                    break Ending::Stopped(violation);
                }
                if run_started.elapsed() >= deadline {
                    break Ending::Deadline;
                }
            }
        }
    };
    let ended_ms = u64::try_from(run_started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // Whatever happened, nothing the connector started outlives the case: a connector that
    // exited may have left a background process in its group.
    kill_group(pgid);
    let _ = child.wait().await;
    running.remove(pgid);
    let entries = journal.entries();

    let verdict = match ending {
        Ending::Stopped(violation) => Verdict::Fail(format!("stopped early: {violation}")),
        Ending::Deadline => Verdict::Fail(format!(
            "no result within the {} s deadline (the connector was killed)",
            deadline.as_secs()
        )),
        Ending::Exited(code) => {
            // Reading a 100,000-user snapshot and the truth takes seconds: off the async workers
            // that serve the other cases' fakes.
            let (judged, state) = (case.clone(), server.state().clone());
            let (output, stderr, skey) = (output_path.clone(), stderr_path.clone(), keys.skey.clone());
            let outcome = tokio::task::spawn_blocking(move || {
                let usage = || stderr_tail::tail(&std::fs::read(&stderr).unwrap_or_default(), &[&skey]);
                judge_exit(&judged, code, &output, usage, &api_host, || {
                    GroundTruth::of(&state, &scenario)
                })
            })
            .await
            .unwrap_or_else(|e| Verdict::Fail(format!("the kit failed judging the output: {e}")));
            match outcome {
                Verdict::Pass => match case.journal.first_violation(&entries, true) {
                    Some(violation) => Verdict::Fail(violation),
                    None => Verdict::Pass,
                },
                fail => fail,
            }
        }
    };
    let mut stderr_lines = Vec::new();
    let mut timeline = Timeline::default();
    if verdict != Verdict::Pass {
        stderr_lines = stderr_tail::tail(&std::fs::read(&stderr_path).unwrap_or_default(), &[&keys.skey]);
        timeline = Timeline::of(&entries, started_unix_ms, ended_ms);
        if let Some(dir) = &options.artifacts {
            keep_artifacts(&dir.join(&case.id), work.path(), &entries, &keys.skey);
        }
    }
    // Dropping stops the fake; a connection a killed connector left open drains in the
    // background instead of holding up the run.
    drop(server);
    Ok(CaseRun {
        id: case.id.clone(),
        verdict,
        duration: started.elapsed(),
        stderr_tail: stderr_lines,
        timeline,
    })
}

/// The machine's clock, unix milliseconds: the journal times arrivals on it.
pub(crate) fn unix_ms_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn file_for(path: &Path) -> Result<std::fs::File> {
    std::fs::File::create(path).map_err(|e| Error::io(path, e))
}

/// Keeps what a case that did not pass left behind; the connector's own stdout and stderr with
/// the secret key it was handed (and anything like one) masked.
fn keep_artifacts(dir: &Path, work: &Path, entries: &[JournalEntry], skey: &str) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let _ = std::fs::copy(work.join("output.json"), dir.join("output.json"));
    for name in ["stdout.txt", "stderr.txt"] {
        if let Ok(bytes) = std::fs::read(work.join(name)) {
            let masked = stderr_tail::mask_text(&String::from_utf8_lossy(&bytes), &[skey]);
            let _ = std::fs::write(dir.join(name), masked);
        }
    }
    let mut journal = Vec::new();
    for entry in entries {
        if serde_json::to_writer(&mut journal, entry).is_ok() {
            journal.push(b'\n');
        }
    }
    let _ = std::fs::write(dir.join("journal.jsonl"), journal);
}

/// Judges a connector that exited with `code` against the case's expectation.
fn judge_exit(
    case: &Case,
    code: Option<i32>,
    output: &Path,
    stderr_tail: impl FnOnce() -> Vec<String>,
    api_host: &str,
    truth: impl FnOnce() -> std::result::Result<GroundTruth, String>,
) -> Verdict {
    let read = || -> std::result::Result<ConnectorOutput, String> {
        let bytes = std::fs::read(output).map_err(|_| "wrote nothing to DUO_OUTPUT".to_owned())?;
        ConnectorOutput::parse(&bytes)
    };
    let output = match code {
        Some(EXIT_SUCCESS) => match read() {
            Ok(ConnectorOutput::Snapshot(s)) => ConnectorOutput::Snapshot(s),
            Ok(ConnectorOutput::Failure(f)) => {
                return Verdict::Fail(format!("exited 0 but wrote an error ({}: {})", f.kind, f.message));
            }
            Err(e) => return Verdict::Fail(format!("exited 0 but {e}")),
        },
        Some(EXIT_FAILURE) => match read() {
            Ok(ConnectorOutput::Failure(f)) => ConnectorOutput::Failure(f),
            Ok(ConnectorOutput::Snapshot(_)) => {
                return Verdict::Fail("exited 1 but wrote a snapshot, not an error".into());
            }
            Err(e) => return Verdict::Fail(format!("exited 1 but {e}")),
        },
        Some(EXIT_USAGE) => {
            let last = stderr_tail().pop().unwrap_or_else(|| "nothing on stderr".into());
            return Verdict::Fail(format!(
                "exited 2 (a usage error: the connector did not accept the contract's environment): {last}"
            ));
        }
        Some(status @ (126 | 127)) => {
            let what = if status == 127 {
                "the shell did not find a command it was to run"
            } else {
                "the shell could not execute a command it was to run"
            };
            return Verdict::Fail(format!(
                "exited with status {status}: {what} (see stderr); the contract allows 0, 1 and 2"
            ));
        }
        Some(other) => {
            return Verdict::Fail(format!(
                "exited with status {other}; the contract allows 0, 1 and 2"
            ));
        }
        None => return Verdict::Fail("was killed by a signal".into()),
    };
    match (&case.expect, output) {
        (Expectation::Success { .. }, ConnectorOutput::Snapshot(snapshot)) => {
            judge_snapshot(&snapshot, api_host, truth)
        }
        (Expectation::Success { also_accept }, ConnectorOutput::Failure(failure)) => {
            if also_accept.contains(&failure.kind) {
                field_problem(&failure, &[]).map_or(Verdict::Pass, Verdict::Fail)
            } else {
                Verdict::Fail(format!(
                    "expected a snapshot equal to the tenant, got failure {}: {}",
                    failure.kind,
                    one_line(&failure.message)
                ))
            }
        }
        (Expectation::Failure(expected), ConnectorOutput::Snapshot(snapshot)) => Verdict::Fail(format!(
            "expected failure {}, but the connector reported success ({}, {}, {})",
            describe_expected(expected),
            count(snapshot.users.len() as u64, "user", "users"),
            count(snapshot.admins.len() as u64, "admin", "admins"),
            count(snapshot.groups.len() as u64, "group", "groups")
        )),
        (Expectation::Failure(expected), ConnectorOutput::Failure(failure)) => {
            judge_failure(expected, &failure)
        }
    }
}

fn judge_snapshot(
    snapshot: &Snapshot,
    api_host: &str,
    truth: impl FnOnce() -> std::result::Result<GroundTruth, String>,
) -> Verdict {
    if snapshot.api_host != api_host {
        return Verdict::Fail(format!(
            "the snapshot's api_host is {:?}; the connector was given {api_host:?}",
            snapshot.api_host
        ));
    }
    match truth() {
        Err(e) => Verdict::Fail(format!("the kit could not read the ground truth: {e}")),
        Ok(truth) => match first_mismatch(snapshot, &truth) {
            None => Verdict::Pass,
            Some(mismatch) => Verdict::Fail(format!("snapshot differs from the tenant: {mismatch}")),
        },
    }
}

fn describe_expected(expected: &ExpectedFailure) -> String {
    let mut text = expected.kind.to_string();
    match (expected.http_status, expected.duo_code) {
        (Some(status), Some(code)) => text.push_str(&format!(" (HTTP {status}, Duo {code})")),
        (Some(status), None) => text.push_str(&format!(" (HTTP {status})")),
        (None, Some(code)) => text.push_str(&format!(" (Duo {code})")),
        (None, None) => {}
    }
    text
}

fn one_line(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(160).collect::<String>())
    } else {
        line
    }
}

/// A reported failure against the expected one: its kind, the fields the contract requires of
/// that kind ([`crate::contract::FAILURE_FIELDS`]), then the values the case pins.
pub fn judge_failure(expected: &ExpectedFailure, got: &ReportedFailure) -> Verdict {
    if got.kind != expected.kind {
        return Verdict::Fail(format!(
            "expected failure {}, got {}: {}",
            describe_expected(expected),
            got.kind,
            one_line(&got.message)
        ));
    }
    let pinned: Vec<FailureField> = [
        (FailureField::HttpStatus, expected.http_status.is_some()),
        (FailureField::DuoCode, expected.duo_code.is_some()),
        (FailureField::ClockOffset, expected.clock_offset_s.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, pinned)| pinned.then_some(field))
    .collect();
    if let Some(problem) = field_problem(got, &pinned) {
        return Verdict::Fail(problem);
    }
    if let Some(code) = expected.duo_code
        && got.duo_code != Some(code)
    {
        return Verdict::Fail(format!(
            "{} carries duo_code {}, expected {code}",
            got.kind,
            got.duo_code.map_or("null".into(), |c| c.to_string())
        ));
    }
    if let Some(status) = expected.http_status
        && got.http_status != Some(status)
    {
        return Verdict::Fail(format!(
            "{} carries http_status {}, expected {status}",
            got.kind,
            got.http_status.map_or("null".into(), |c| c.to_string())
        ));
    }
    if let Some((offset, tolerance)) = expected.clock_offset_s {
        let Some(reported) = got.clock_offset_s else {
            return Verdict::Fail(format!(
                "clock_skew without clock_offset_s; Duo's clock is about {offset:+} s from the connector's"
            ));
        };
        if reported.abs_diff(offset) > tolerance {
            return Verdict::Fail(format!(
                "clock_offset_s is {reported:+}; Duo's clock is {offset:+} s from the connector's (±{tolerance} s)"
            ));
        }
        if !got.message.contains(&reported.unsigned_abs().to_string()) {
            return Verdict::Fail(format!(
                "the clock_skew message does not state the offset in seconds ({}): {}",
                reported.unsigned_abs(),
                one_line(&got.message)
            ));
        }
    }
    Verdict::Pass
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::ErrorKind;

    fn failure(kind: ErrorKind) -> ReportedFailure {
        ReportedFailure {
            kind,
            message: "Duo's clock is 598 seconds ahead".into(),
            endpoint: Some("/admin/v1/users".into()),
            http_status: Some(401),
            duo_code: Some(40105),
            clock_offset_s: Some(598),
        }
    }

    fn expected(kind: ErrorKind) -> ExpectedFailure {
        ExpectedFailure {
            kind,
            duo_code: None,
            http_status: None,
            clock_offset_s: None,
        }
    }

    #[test]
    fn failures_are_judged_by_kind_then_details() {
        assert_eq!(
            judge_failure(&expected(ErrorKind::ClockSkew), &failure(ErrorKind::ClockSkew)),
            Verdict::Pass
        );
        let Verdict::Fail(reason) = judge_failure(
            &expected(ErrorKind::PermissionDenied),
            &failure(ErrorKind::ClockSkew),
        ) else {
            panic!("a wrong kind must fail");
        };
        assert!(
            reason.starts_with("expected failure permission_denied, got clock_skew: Duo's clock"),
            "{reason}"
        );
        let with_code = ExpectedFailure {
            duo_code: Some(40301),
            ..expected(ErrorKind::ClockSkew)
        };
        assert_eq!(
            judge_failure(&with_code, &failure(ErrorKind::ClockSkew)),
            Verdict::Fail("clock_skew carries duo_code 40105, expected 40301".into())
        );
    }

    #[test]
    fn the_fields_the_contract_requires_of_a_kind_are_checked_whatever_the_case_pins() {
        let mut denied = failure(ErrorKind::PermissionDenied);
        (denied.duo_code, denied.clock_offset_s, denied.http_status) = (Some(40301), None, None);
        assert_eq!(
            judge_failure(&expected(ErrorKind::PermissionDenied), &denied),
            Verdict::Fail("permission_denied without http_status: the contract requires it (403)".into())
        );
        denied.http_status = Some(403);
        assert_eq!(
            judge_failure(&expected(ErrorKind::PermissionDenied), &denied),
            Verdict::Pass
        );
        // An intermediary's status is required where the case says an answer came.
        let mut blocked = failure(ErrorKind::BlockedByIntermediary);
        (blocked.http_status, blocked.duo_code, blocked.clock_offset_s) = (None, None, None);
        assert_eq!(
            judge_failure(&expected(ErrorKind::BlockedByIntermediary), &blocked),
            Verdict::Pass
        );
        let answered = ExpectedFailure {
            http_status: Some(407),
            ..expected(ErrorKind::BlockedByIntermediary)
        };
        assert!(matches!(
            judge_failure(&answered, &blocked),
            Verdict::Fail(r) if r.starts_with("blocked_by_intermediary without http_status")
        ));
    }

    #[test]
    fn clock_offsets_need_the_right_sign_and_the_seconds_in_the_message() {
        let ahead = ExpectedFailure {
            clock_offset_s: Some((600, 60)),
            ..expected(ErrorKind::ClockSkew)
        };
        assert_eq!(
            judge_failure(&ahead, &failure(ErrorKind::ClockSkew)),
            Verdict::Pass
        );
        let behind = ExpectedFailure {
            clock_offset_s: Some((-600, 60)),
            ..expected(ErrorKind::ClockSkew)
        };
        assert!(
            matches!(judge_failure(&behind, &failure(ErrorKind::ClockSkew)), Verdict::Fail(r) if r.contains("clock_offset_s is +598"))
        );
        let mut silent = failure(ErrorKind::ClockSkew);
        silent.message = "fix your clock".into();
        assert!(
            matches!(judge_failure(&ahead, &silent), Verdict::Fail(r) if r.contains("does not state the offset"))
        );
        silent.clock_offset_s = None;
        assert!(
            matches!(judge_failure(&ahead, &silent), Verdict::Fail(r) if r.contains("without clock_offset_s"))
        );
    }
}
