//! A logs case's `[logs]` table: the types, lookback and settle time handed to the collector,
//! and its runs, each with what the kit does around it and what it expects of it.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::log_types;
use crate::contract::ErrorKind;

/// Longest wait a case may put before a run.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// The `[logs]` table, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsSpec {
    /// `DUO_LOG_TYPES`.
    pub types: Vec<String>,
    /// `DUO_LOOKBACK_S`.
    pub lookback_s: u64,
    /// `DUO_SETTLE_S`.
    pub settle_s: u64,
    /// `DUO_LOG_USERS`: the tenant's first this many users (0: no filter, the variable unset).
    pub users: usize,
    /// The runs, in order.
    pub runs: Vec<RunSpec>,
}

/// What one run of the collector expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunExpect {
    /// Exit 0 with `{"status":"ok"}` and everything settled delivered.
    Ok,
    /// Exit 1 with this kind.
    Failure(ErrorKind),
    /// Exit 1 with `sink`: the output could not be written.
    Sink,
    /// The kit kills the run; nothing is expected of it but what the next runs deliver.
    Killed,
}

impl RunExpect {
    /// The spelling in case files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failure(kind) => kind.as_str(),
            Self::Sink => "sink",
            Self::Killed => "killed",
        }
    }
}

/// One run of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    /// How long the kit waits before starting it (events go on happening).
    pub wait: Duration,
    /// `DUO_OUTPUT` is `/dev/full` for this run: every write fails.
    pub sink_full: bool,
    /// The kit kills the run's process group once the fake has answered this many log requests.
    pub kill_after_requests: Option<u32>,
    /// What the run must end with.
    pub expect: RunExpect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogsFile {
    types: Spanned<Vec<String>>,
    #[serde(default = "default_lookback")]
    lookback_s: u64,
    settle_s: Spanned<u64>,
    #[serde(default)]
    users: Option<Spanned<usize>>,
    runs: Spanned<Vec<RunFile>>,
}

fn default_lookback() -> u64 {
    3600
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum Sink {
    Full,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunFile {
    #[serde(default)]
    wait_s: Option<Spanned<f64>>,
    #[serde(default)]
    sink: Option<Sink>,
    #[serde(default)]
    kill_after_requests: Option<Spanned<u32>>,
    #[serde(default)]
    expect: Option<Spanned<String>>,
}

impl LogsFile {
    /// Validates the table; an error is a message and the span it belongs to.
    pub(crate) fn validate(self) -> Result<LogsSpec, (Range<usize>, String)> {
        let types_span = self.types.span();
        let types = self.types.into_inner();
        if types.is_empty() {
            return Err((types_span, "types names at least one log".into()));
        }
        for name in &types {
            if !log_types().contains(&name.as_str()) {
                return Err((
                    types_span,
                    format!("unknown log type {name:?} (types: {})", log_types().join(", ")),
                ));
            }
        }
        let users = match self.users {
            None => 0,
            Some(n) if *n.get_ref() == 0 => {
                return Err((
                    n.span(),
                    "users must be at least 1 (leave it out for no filter)".into(),
                ));
            }
            Some(n) if !types.iter().any(|t| t == "authentication") => {
                return Err((
                    n.span(),
                    "users filters the authentication log: types must name it".into(),
                ));
            }
            Some(n) => n.into_inner(),
        };
        if *self.settle_s.get_ref() == 0 {
            return Err((self.settle_s.span(), "settle_s must be at least 1".into()));
        }
        let runs_span = self.runs.span();
        let files = self.runs.into_inner();
        if files.is_empty() {
            return Err((runs_span, "a logs case has at least one [[logs.runs]]".into()));
        }
        let mut runs = Vec::with_capacity(files.len());
        for run in files {
            let wait = match run.wait_s {
                None => Duration::ZERO,
                Some(w) => {
                    let seconds = *w.get_ref();
                    if !(0.0..=MAX_WAIT.as_secs_f64()).contains(&seconds) {
                        return Err((
                            w.span(),
                            format!("wait_s must be between 0 and {}", MAX_WAIT.as_secs()),
                        ));
                    }
                    Duration::from_secs_f64(seconds)
                }
            };
            let expect = match (&run.kill_after_requests, &run.expect) {
                (Some(n), None) => {
                    if *n.get_ref() == 0 {
                        return Err((n.span(), "kill_after_requests must be at least 1".into()));
                    }
                    RunExpect::Killed
                }
                (Some(n), Some(_)) => {
                    return Err((n.span(), "a killed run expects nothing: leave out expect".into()));
                }
                (None, None) => RunExpect::Ok,
                (None, Some(e)) => match e.get_ref().as_str() {
                    "ok" => RunExpect::Ok,
                    "sink" => RunExpect::Sink,
                    other => match ErrorKind::from_name(other) {
                        Some(kind) => RunExpect::Failure(kind),
                        None => {
                            return Err((
                                e.span(),
                                format!("expect {other:?} is not ok, sink or one of the contract's kinds"),
                            ));
                        }
                    },
                },
            };
            if run.sink == Some(Sink::Full) && expect == RunExpect::Ok {
                return Err((
                    runs_span.clone(),
                    "a run whose sink is full cannot expect ok (expect = \"sink\")".into(),
                ));
            }
            runs.push(RunSpec {
                wait,
                sink_full: run.sink == Some(Sink::Full),
                kill_after_requests: run.kill_after_requests.map(Spanned::into_inner),
                expect,
            });
        }
        Ok(LogsSpec {
            types,
            lookback_s: self.lookback_s,
            settle_s: self.settle_s.into_inner(),
            users,
            runs,
        })
    }
}
