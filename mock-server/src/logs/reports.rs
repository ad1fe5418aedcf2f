//! The info reports counted from the logs the log endpoints serve: authentication attempts by
//! result, users with an attempt of each result, and telephony credits used, over a window in
//! seconds (default: the 30 days before `maxtime`, which defaults to now).

use std::collections::HashSet;
use std::ops::ControlFlow;

use serde::Deserialize;

use super::authentication::{DENIED, ERROR, FRAUD, SUCCESS};
use super::telephony::Tables as Telephony;
use super::timeline::{Order, Scope};
use super::{LogKind, Logs};
use crate::api_error::ApiError;
use crate::model::write_int;
use crate::params::Params;
use crate::state::World;

/// The three reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// `/admin/v1/info/authentication_attempts`.
    AuthenticationAttempts,
    /// `/admin/v1/info/user_authentication_attempts`.
    UserAuthenticationAttempts,
    /// `/admin/v1/info/telephony_credits_used`.
    TelephonyCreditsUsed,
}

/// How a report's body is shaped (Duo's docs and its Python client differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ReportShape {
    /// `{"authentication_attempts":{"ERROR":…,…},"maxtime":…,"mintime":…}`.
    #[default]
    WithWindow,
    /// The counts alone: `{"ERROR":…,"FAILURE":…,"FRAUD":…,"SUCCESS":…}`
    /// (`{"telephony_credits_used":N}` for credits), as the Python client's docstring shows.
    CountsOnly,
}

/// Result classes and the names the reports give them.
const RESULTS: [(u8, &str); 4] = [
    (ERROR, "ERROR"),
    (DENIED, "FAILURE"),
    (FRAUD, "FRAUD"),
    (SUCCESS, "SUCCESS"),
];

const THIRTY_DAYS: i64 = 30 * 86_400;

fn seconds(params: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    match params.first(key) {
        None => Ok(None),
        Some(raw) if !raw.is_empty() && raw.len() <= 12 && raw.iter().all(u8::is_ascii_digit) => {
            Ok(std::str::from_utf8(raw).ok().and_then(|s| s.parse().ok()))
        }
        Some(_) => Err(ApiError::invalid_parameter(key)),
    }
}

impl Logs {
    /// Answers a report request: the whole JSON body, or Duo's error.
    pub fn report(
        &self,
        world: &World,
        report: Report,
        params: &Params,
        now_us: i64,
    ) -> Result<Vec<u8>, ApiError> {
        let now = now_us.div_euclid(1_000_000);
        let maxtime = seconds(params, "maxtime")?.unwrap_or(now);
        let mintime = seconds(params, "mintime")?.unwrap_or(maxtime - THIRTY_DAYS);
        if mintime > maxtime {
            return Err(ApiError::invalid_parameter("mintime"));
        }
        if maxtime - mintime > i64::from(self.config.retention_days) * 86_400 {
            return Err(ApiError::invalid_parameter("mintime"));
        }
        let people = self.people(&world.scenario, &world.tenant);
        let kind = match report {
            Report::TelephonyCreditsUsed => LogKind::Telephony,
            _ => LogKind::Authentication,
        };
        let scope = self.stream(kind).map(|stream| Scope {
            stream,
            people,
            lo_us: mintime
                .saturating_mul(1_000_000)
                .max(now_us - i64::from(self.config.retention_days) * 86_400_000_000),
            hi_us: maxtime
                .saturating_mul(1_000_000)
                .saturating_add(999_999)
                .min(now_us),
            now_us,
        });
        let shape = self.config.info_reports;
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(b"{\"response\":{");
        let window = |out: &mut Vec<u8>, first: bool| {
            if shape == ReportShape::WithWindow {
                if !first {
                    out.push(b',');
                }
                out.extend_from_slice(b"\"maxtime\":");
                write_int(out, maxtime);
                out.extend_from_slice(b",\"mintime\":");
                write_int(out, mintime);
            }
        };
        match report {
            Report::AuthenticationAttempts | Report::UserAuthenticationAttempts => {
                let counts: Vec<u64> = match &scope {
                    None => vec![0; RESULTS.len()],
                    Some(scope) if report == Report::AuthenticationAttempts => RESULTS
                        .iter()
                        .map(|(class, _)| self.count(scope, Some(1 << class), |e| e.class == *class))
                        .collect(),
                    Some(scope) => {
                        let mut users: Vec<HashSet<u32>> = vec![HashSet::new(); RESULTS.len()];
                        self.walk(scope, Order::Ascending, None, |e| {
                            if let Some(i) = RESULTS.iter().position(|(class, _)| *class == e.class) {
                                users[i].insert(e.subject);
                            }
                            ControlFlow::Continue(())
                        });
                        users.iter().map(|u| u.len() as u64).collect()
                    }
                };
                let key: &[u8] = if report == Report::AuthenticationAttempts {
                    b"authentication_attempts"
                } else {
                    b"user_authentication_attempts"
                };
                if shape == ReportShape::WithWindow {
                    // Keys in alphabetical order: the counts' key sorts before or after the window.
                    let counts_first = key < b"maxtime".as_slice();
                    if !counts_first {
                        window(&mut out, true);
                        out.push(b',');
                    }
                    out.push(b'"');
                    out.extend_from_slice(key);
                    out.extend_from_slice(b"\":{");
                    write_counts(&counts, &mut out);
                    out.push(b'}');
                    if counts_first {
                        window(&mut out, false);
                    }
                } else {
                    write_counts(&counts, &mut out);
                }
            }
            Report::TelephonyCreditsUsed => {
                let credits: u64 = scope.as_ref().map_or(0, |scope| {
                    (0..4u8)
                        .map(|class| {
                            self.count(scope, Some(1 << class), |e| e.class == class)
                                * Telephony::credits(class)
                        })
                        .sum()
                });
                window(&mut out, true);
                if shape == ReportShape::WithWindow {
                    out.push(b',');
                }
                out.extend_from_slice(b"\"telephony_credits_used\":");
                write_int(&mut out, i64::try_from(credits).unwrap_or(i64::MAX));
            }
        }
        out.extend_from_slice(b"},\"stat\":\"OK\"}");
        Ok(out)
    }
}

fn write_counts(counts: &[u64], out: &mut Vec<u8>) {
    for (i, ((_, name), count)) in RESULTS.iter().zip(counts).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        write_int(out, i64::try_from(*count).unwrap_or(i64::MAX));
    }
}
