//! A logs case: one fake, the collector run once per `[[logs.runs]]` with the same state folder
//! and output file, each run judged as it ends (its exit and result, how it asked, and after a
//! successful run everything delivered so far against the fake's own log).

use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mock_server::journal::JournalEntry;
use mock_server::logs::LogKind;
use mock_server::state::AppState;
use serde_json::Value;

use super::judge::{Problem, Truth, first_problem, read_output};
use super::spec::{LogsSpec, RunExpect, RunSpec};
use super::wire::{self, log_endpoint, log_type_of};
use crate::case::Case;
use crate::contract::{ReportedFailure, field_problem};
use crate::error::{Error, Result};
use crate::runner::{
    CaseFake, CaseRun, RunOptions, RunningConnectors, Verdict, clear_environment, file_for, kill_group,
    unix_ms_now,
};
use crate::stderr_tail;
use crate::timeline::Timeline;

/// How often the journal is looked at while a run that is to be killed goes on.
const KILL_WATCH: Duration = Duration::from_millis(10);
/// How often otherwise.
const WATCH: Duration = Duration::from_millis(100);
/// A collector starts its lookback a moment after the kit noted the time: events this close to
/// the lookback's start are not required.
const LOOKBACK_SLACK_MS: i64 = 5000;
/// A lookback of Duo's retention may start a day later (Duo's staff advise 179 days).
const RETENTION_MS: i64 = 180 * 86_400_000;
const ONE_DAY_MS: i64 = 86_400_000;
/// The logs only Duo's v1 serves (`mintime` in whole seconds, no `maxtime`).
const V1_LOGS: [&str; 2] = ["administrator", "offline_enrollment"];

/// How a run ended.
enum Ending {
    Exited(Option<i32>),
    Killed,
    Deadline,
    Stopped(String),
}

/// Runs a logs case (`case.logs` is `Some`).
pub async fn run_logs_case(
    case: &Case,
    spec: &LogsSpec,
    options: &RunOptions,
    running: &RunningConnectors,
) -> Result<CaseRun> {
    let started = Instant::now();
    let CaseFake {
        server,
        keys,
        work,
        ca_path,
        api_host,
        ..
    } = CaseFake::start(case).await?;
    let output_path = work.path().join("output.jsonl");
    let state_dir = work.path().join("state");
    std::fs::create_dir_all(&state_dir).map_err(|e| Error::io(&state_dir, e))?;
    let command_line = options
        .collector
        .clone()
        .unwrap_or_else(|| options.connector.clone());
    let journal = server.state().journal();
    let users = first_users(server.state(), spec.users);
    let deadline = options
        .max_deadline
        .map_or(case.deadline, |cap| cap.min(case.deadline));

    let mut first_start_ms = None;
    let mut allowance: HashMap<String, usize> = HashMap::new();
    let mut verdict = Verdict::Pass;
    let mut failed_entries: Vec<JournalEntry> = Vec::new();
    let mut failed_window = (0, 0);
    let mut stderr_lines = Vec::new();
    let mut all_entries: Vec<JournalEntry> = Vec::new();
    let total = spec.runs.len();
    for (index, run) in spec.runs.iter().enumerate() {
        tokio::time::sleep(run.wait).await;
        let label = format!("run {} of {total}", index + 1);
        let before_seq = journal.entries().last().map_or(0, |e| e.seq);
        let stdout_path = work.path().join(format!("stdout-{}.txt", index + 1));
        let stderr_path = work.path().join(format!("stderr-{}.txt", index + 1));
        let result_path = work.path().join(format!("result-{}.json", index + 1));
        let mut command = tokio::process::Command::new("sh");
        command.arg("-c").arg(&command_line);
        clear_environment(&mut command);
        let output_env = if run.sink_full {
            Path::new("/dev/full")
        } else {
            output_path.as_path()
        };
        command
            .env("DUO_API_HOST", &api_host)
            .env("DUO_IKEY", &keys.ikey)
            .env("DUO_SKEY", &keys.skey)
            .env("DUO_CA_CERT", &ca_path)
            .env("DUO_LOG_TYPES", spec.types.join(","))
            .env("DUO_LOOKBACK_S", spec.lookback_s.to_string())
            .env("DUO_SETTLE_S", spec.settle_s.to_string())
            .env("DUO_STATE_DIR", &state_dir)
            .env("DUO_OUTPUT", output_env)
            .env("DUO_RESULT", &result_path);
        if !users.is_empty() {
            command.env("DUO_LOG_USERS", users.join(","));
        }
        command
            .stdin(Stdio::null())
            .stdout(file_for(&stdout_path)?)
            .stderr(file_for(&stderr_path)?)
            .process_group(0)
            .kill_on_drop(true);
        let start_ms = i64::try_from(unix_ms_now()).unwrap_or(i64::MAX);
        let first_start = *first_start_ms.get_or_insert(start_ms);
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            command: command_line.clone(),
            source,
        })?;
        let pgid = child.id().unwrap_or_default();
        running.insert(pgid);
        let run_started = Instant::now();
        let watch = if run.kill_after_requests.is_some() {
            KILL_WATCH
        } else {
            WATCH
        };
        let ending = loop {
            tokio::select! {
                status = child.wait() => break Ending::Exited(status.ok().and_then(|s| s.code())),
                () = tokio::time::sleep(watch) => {
                    let so_far: Vec<JournalEntry> =
                        journal.entries().into_iter().filter(|e| e.seq > before_seq).collect();
                    if let Some(n) = run.kill_after_requests {
                        let answered = so_far.iter().filter(|e| log_endpoint(&e.path).is_some()).count();
                        if answered >= n as usize {
                            break Ending::Killed;
                        }
                    }
                    // A broken rule stays broken: a collector looping on one page is stopped
                    // now, not at the deadline.
                    let violation = wire::first_violation(&so_far, spec.settle_s)
                        .or_else(|| case.journal.first_violation(&so_far, false));
                    if let Some(violation) = violation {
                        break Ending::Stopped(violation);
                    }
                    if run_started.elapsed() >= deadline {
                        break Ending::Deadline;
                    }
                }
            }
        };
        kill_group(pgid);
        let _ = child.wait().await;
        running.remove(pgid);
        let entries: Vec<JournalEntry> = journal
            .entries()
            .into_iter()
            .filter(|e| e.seq > before_seq)
            .collect();
        all_entries.extend(entries.iter().cloned());
        let judged = judge_run(
            &JudgeRun {
                case,
                spec,
                run,
                state: server.state(),
                output_path: &output_path,
                result_path: &result_path,
                stderr_path: &stderr_path,
                skey: &keys.skey,
                users: &users,
                first_start_ms: first_start,
                start_ms,
                all_entries: &all_entries,
            },
            ending,
            &entries,
            &mut allowance,
        )
        .await;
        if let Err(reason) = judged {
            verdict = Verdict::Fail(format!("{label}: {reason}"));
            stderr_lines = stderr_tail::tail(&std::fs::read(&stderr_path).unwrap_or_default(), &[&keys.skey]);
            failed_window = (
                u64::try_from(start_ms).unwrap_or(0),
                u64::try_from(run_started.elapsed().as_millis()).unwrap_or(u64::MAX),
            );
            failed_entries = entries;
            break;
        }
    }
    let mut timeline = Timeline::default();
    if verdict != Verdict::Pass {
        timeline = Timeline::of(&failed_entries, failed_window.0, failed_window.1);
        if let Some(dir) = &options.artifacts {
            keep_artifacts(&dir.join(&case.id), work.path(), &all_entries, &keys.skey);
        }
    }
    drop(server);
    Ok(CaseRun {
        id: case.id.clone(),
        verdict,
        duration: started.elapsed(),
        stderr_tail: stderr_lines,
        timeline,
    })
}

/// The `user_id`s of the tenant's first `n` users (as the users list serves them).
fn first_users(state: &AppState, n: usize) -> Vec<String> {
    let world = state.world();
    (0..n.min(world.tenant.users.len()))
        .filter_map(|i| world.tenant.users.item(i))
        .filter_map(|json| {
            let user: Value = serde_json::from_slice(&json).ok()?;
            user.get("user_id")?.as_str().map(str::to_owned)
        })
        .collect()
}

/// What judging one run needs.
struct JudgeRun<'a> {
    case: &'a Case,
    spec: &'a LogsSpec,
    run: &'a RunSpec,
    state: &'a AppState,
    output_path: &'a Path,
    result_path: &'a Path,
    stderr_path: &'a Path,
    skey: &'a str,
    /// `DUO_LOG_USERS` (empty: no filter).
    users: &'a [String],
    first_start_ms: i64,
    start_ms: i64,
    all_entries: &'a [JournalEntry],
}

async fn judge_run(
    j: &JudgeRun<'_>,
    ending: Ending,
    entries: &[JournalEntry],
    allowance: &mut HashMap<String, usize>,
) -> std::result::Result<(), String> {
    match &ending {
        Ending::Deadline => {
            return Err(format!(
                "no result within the {} s deadline (the collector was killed)",
                j.case.deadline.as_secs()
            ));
        }
        Ending::Stopped(violation) => return Err(format!("stopped early: {violation}")),
        _ => {}
    }
    // How it asked comes first: a bad request explains the failure that followed it.
    if let Some(violation) = wire::first_violation(entries, j.spec.settle_s) {
        return Err(violation);
    }
    match ending {
        Ending::Deadline | Ending::Stopped(_) => {}
        Ending::Killed => {
            if j.run.expect != RunExpect::Killed {
                return Err("the kit killed a run it did not mean to".into());
            }
            for (log_type, limit) in pages_in_flight(entries) {
                *allowance.entry(log_type).or_default() += limit;
            }
        }
        Ending::Exited(code) if j.run.expect == RunExpect::Killed => {
            // It finished before the kill: judged as an ordinary run that had to succeed.
            judge_exit(j, code, RunExpect::Ok)?;
        }
        Ending::Exited(code) => judge_exit(j, code, j.run.expect)?,
    }
    if let Some(violation) = j.case.journal.first_violation(entries, true) {
        return Err(violation);
    }
    if matches!(ending, Ending::Exited(Some(0))) {
        judge_delivery(j, allowance).await?;
    }
    Ok(())
}

/// One page per log type the killed run read: the largest `limit` it asked for (or the
/// endpoint's default page).
fn pages_in_flight(entries: &[JournalEntry]) -> HashMap<String, usize> {
    let mut pages: HashMap<String, usize> = HashMap::new();
    for entry in entries {
        let (Some(millis), Some(log_type)) = (log_endpoint(&entry.path), log_type_of(&entry.path)) else {
            continue;
        };
        let default = if millis { 100 } else { 1000 };
        let limit = wire::param(entry, "limit")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| *l > 0)
            .unwrap_or(default);
        let page = pages.entry(log_type.to_owned()).or_default();
        *page = (*page).max(limit);
    }
    pages
}

fn judge_exit(j: &JudgeRun<'_>, code: Option<i32>, expect: RunExpect) -> std::result::Result<(), String> {
    let result = std::fs::read(j.result_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    let stderr_last = || {
        stderr_tail::tail(&std::fs::read(j.stderr_path).unwrap_or_default(), &[j.skey])
            .pop()
            .unwrap_or_else(|| "nothing on stderr".into())
    };
    match code {
        Some(0) => {
            let ok = result
                .as_ref()
                .is_some_and(|r| r.get("status").and_then(Value::as_str) == Some("ok"));
            if !ok {
                return Err("exited 0 without {\"status\": \"ok\"} in DUO_RESULT".into());
            }
            if expect != RunExpect::Ok {
                return Err(format!(
                    "expected {}, but the run reported success",
                    expect.name()
                ));
            }
            Ok(())
        }
        Some(1) => {
            let Some(error) = result.as_ref().and_then(|r| r.get("error")) else {
                return Err("exited 1 without {\"error\": {…}} in DUO_RESULT".into());
            };
            let kind = error.get("kind").and_then(Value::as_str).unwrap_or("");
            let message = error.get("message").and_then(Value::as_str).unwrap_or("");
            if kind == "sink" {
                return if expect == RunExpect::Sink {
                    Ok(())
                } else {
                    Err(format!("expected {}, got sink: {message}", expect.name()))
                };
            }
            let parsed: Option<ReportedFailure> = serde_json::from_value(error.clone()).ok();
            let Some(failure) = parsed else {
                return Err(format!("DUO_RESULT's error is not the contract's: {error}"));
            };
            if let Some(problem) = field_problem(&failure, &[]) {
                return Err(problem);
            }
            match expect {
                RunExpect::Failure(kind) if kind == failure.kind => Ok(()),
                _ => Err(format!(
                    "expected {}, got failure {}: {message}",
                    expect.name(),
                    failure.kind
                )),
            }
        }
        Some(2) => Err(format!(
            "exited 2 (a usage error: the collector did not accept the contract's environment): {}",
            stderr_last()
        )),
        Some(other) => Err(format!(
            "exited with status {other}; the contract allows 0, 1 and 2"
        )),
        None => Err("was killed by a signal".into()),
    }
}

/// Everything delivered so far against the fake's log: nothing invented, nothing twice beyond
/// `allowance`, nothing settled at this run's start missing.
async fn judge_delivery(
    j: &JudgeRun<'_>,
    allowance: &HashMap<String, usize>,
) -> std::result::Result<(), String> {
    let lookback_ms = i64::try_from(j.spec.lookback_s)
        .unwrap_or(i64::MAX / 4)
        .saturating_mul(1000);
    let settle_ms = i64::try_from(j.spec.settle_s).unwrap_or(0) * 1000;
    let known_from = j.first_start_ms - lookback_ms.min(RETENTION_MS) - 120_000;
    let required_from = j.first_start_ms - lookback_ms.min(RETENTION_MS - ONE_DAY_MS) + LOOKBACK_SLACK_MS;
    let required_to = j.start_ms - settle_ms;
    let world = j.state.world();
    let now_us = mock_server::logs::answer::now_us(j.state);
    let types = j.spec.types.clone();
    let output_path = j.output_path.to_path_buf();
    let users = j.users.to_vec();
    let (truth, delivered) = tokio::task::spawn_blocking(move || {
        let mut truth = Truth::default();
        for log_type in &types {
            let Some(kind) = LogKind::from_name(log_type) else {
                continue;
            };
            let mut dump = Vec::new();
            world
                .logs
                .dump(&world, kind, known_from, now_us / 1000, now_us, &mut dump)
                .map_err(|e| format!("the kit could not read the fake's log: {e}"))?;
            let filter = (log_type == "authentication" && !users.is_empty()).then_some(users.as_slice());
            truth.add_dump_filtered(log_type, &dump, filter)?;
        }
        let bytes = std::fs::read(&output_path).unwrap_or_default();
        let delivered = read_output(&bytes)?;
        Ok::<_, String>((truth, delivered))
    })
    .await
    .map_err(|e| format!("the kit failed judging the output: {e}"))??;
    let mut required = Vec::new();
    for log_type in &j.spec.types {
        // A v1 log takes whole seconds: an event is settled once its whole second is.
        let to = if V1_LOGS.contains(&log_type.as_str()) {
            required_to.div_euclid(1000) * 1000 - 1
        } else {
            required_to
        };
        required.extend(truth.window(log_type, required_from, to));
    }
    required.sort_by(|a, b| (a.1.at_ms, &a.1.id).cmp(&(b.1.at_ms, &b.1.id)));
    let Some(problem) = first_problem(&truth, &delivered, &required, allowance) else {
        return Ok(());
    };
    Err(match problem {
        Problem::Invented { line, what } => format!(
            "DUO_OUTPUT line {line} is no event of the fake's log as Duo sent it ({what}): an event changed, re-typed or read from another endpoint"
        ),
        Problem::Duplicate { line, known, allowed } => {
            let after_kill = if allowed > 0 {
                format!(" (a kill allows {allowed}: the pages in flight)")
            } else {
                String::new()
            };
            format!(
                "{} delivered twice (DUO_OUTPUT line {line}){after_kill}; {}",
                known.describe(),
                covering(j.all_entries, &known.log_type, known.at_ms)
            )
        }
        Problem::OutsideFilter { line, known, user } => format!(
            "DUO_OUTPUT line {line} is {} of user {user}, outside DUO_LOG_USERS ({}): the users filter was not applied (L19: a filter parameter Duo does not know is ignored, not refused); {}",
            known.describe(),
            j.users.join(","),
            covering(j.all_entries, &known.log_type, known.at_ms)
        ),
        Problem::Missing(known) => format!(
            "{} had settled when the run started but is not in DUO_OUTPUT; {}",
            known.describe(),
            covering(j.all_entries, &known.log_type, known.at_ms)
        ),
    })
}

/// The request that asked for the window holding `at_ms` (the last such), or the fact that none
/// did.
fn covering(entries: &[JournalEntry], log_type: &str, at_ms: i64) -> String {
    let ms = |e: &JournalEntry, k: &str| wire::param(e, k).and_then(|v| v.parse::<i64>().ok());
    let of_type: Vec<&JournalEntry> = entries
        .iter()
        .filter(|e| log_type_of(&e.path) == Some(log_type))
        .collect();
    let holding = of_type.iter().rev().find(|e| match log_endpoint(&e.path) {
        Some(true) => {
            ms(e, "mintime").is_some_and(|min| min <= at_ms)
                && ms(e, "maxtime").is_none_or(|max| at_ms <= max)
        }
        Some(false) => ms(e, "mintime").unwrap_or(0) * 1000 <= at_ms,
        None => false,
    });
    match (holding, of_type.first()) {
        (Some(e), _) => format!("the request whose window held it: {}", wire::describe(e)),
        (None, Some(first)) => format!(
            "no request asked for a window holding it (the first for this log: {})",
            wire::describe(first)
        ),
        (None, None) => format!("the collector never asked for the {log_type} log"),
    }
}

fn keep_artifacts(dir: &Path, work: &Path, entries: &[JournalEntry], skey: &str) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(read) = std::fs::read_dir(work) {
        for entry in read.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("stdout") || name.starts_with("stderr") {
                if let Ok(bytes) = std::fs::read(&path) {
                    let masked = stderr_tail::mask_text(&String::from_utf8_lossy(&bytes), &[skey]);
                    let _ = std::fs::write(dir.join(&name), masked);
                }
            } else if name.starts_with("result") || name == "output.jsonl" {
                let _ = std::fs::copy(&path, dir.join(&name));
            }
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
