//! The "Connect" button: can this host reach Duo, are the keys accepted, and are the grants the
//! sync needs turned on. One line per check, each failure saying what to do.

use std::fmt::Write as _;

use crate::classify::{grant_for, where_to_grant};
use crate::client::{Client, PING, address_of};
use crate::config::{Config, Transport};
use crate::error::{Error, ErrorKind, Failure};
use crate::time::now_unix;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Works.
    Pass,
    /// Broken: the sync will fail, or something other than Duo answers in its place.
    Fail,
    /// Not needed by the sync; shown for information.
    Info,
    /// Not checked, because an earlier check failed.
    Skipped,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct CheckLine {
    /// Short name (`dns`, `tls`, `ping`, `credentials`, `grant`).
    pub name: &'static str,
    /// How it came out.
    pub status: CheckStatus,
    /// What was found, and what to do when it failed.
    pub message: String,
    /// The classified failure behind a failed (or informational) row, when there was one.
    pub failure: Option<Failure>,
}

/// What `check` found out about one grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantFinding {
    /// Duo's name of the grant (`Grant administrators`).
    pub grant: &'static str,
    /// `Some(true)` on, `Some(false)` off (403 40301), `None` not known (not checked, or another
    /// failure answered).
    pub on: Option<bool>,
}

/// Every check's line.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// In the order checked.
    pub lines: Vec<CheckLine>,
    /// Each grant `check` asks about, in order, with what it found.
    pub grants: Vec<GrantFinding>,
}

impl CheckReport {
    /// True when the sync can work: no line failed.
    pub fn ok(&self) -> bool {
        self.lines.iter().all(|l| l.status != CheckStatus::Fail)
    }

    /// One line per check: `✔ credentials  accepted`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            let mark = match line.status {
                CheckStatus::Pass => "✔",
                CheckStatus::Fail => "✖",
                CheckStatus::Info => "·",
                CheckStatus::Skipped => "-",
            };
            let _ = writeln!(out, "{mark} {:<12} {}", line.name, line.message);
        }
        out
    }

    fn push(&mut self, name: &'static str, status: CheckStatus, message: impl Into<String>) {
        self.lines.push(CheckLine {
            name,
            status,
            message: message.into(),
            failure: None,
        });
    }

    /// A row that failed with `error`: its text, and the failure kept for a support bundle.
    fn push_error(&mut self, name: &'static str, status: CheckStatus, prefix: &str, error: &Error) {
        self.lines.push(CheckLine {
            name,
            status,
            message: format!("{prefix}{}", failure_text(error)),
            failure: error.failure().cloned(),
        });
    }

    /// The first row that failed, with its failure: what `check` ended with.
    pub fn first_failure(&self) -> Option<&CheckLine> {
        self.lines.iter().find(|l| l.status == CheckStatus::Fail)
    }

    fn skip(&mut self, names: &[&'static str]) {
        for name in names {
            self.push(name, CheckStatus::Skipped, "not checked");
        }
    }

    /// The grant rows, when an earlier failure leaves them unknowable; each names its grant.
    fn skip_grants(&mut self) {
        for GrantCheck { path, .. } in GRANT_CHECKS {
            let grant = grant_for(path);
            self.push("grant", CheckStatus::Skipped, format!("\"{grant}\": not checked"));
            self.grants.push(GrantFinding { grant, on: None });
        }
    }
}

/// One signed request of `check`, judging one grant.
struct GrantCheck {
    path: &'static str,
    params: &'static [(&'static str, &'static str)],
    /// What the sync reads with this grant; `None`: the sync does not need it, so its row is for
    /// information.
    reads: Option<&'static str>,
}

/// The signed requests `check` makes, in order. The first one also judges the keys: Duo checks
/// them before the grant, so an answer or a 403 40301 both mean the keys work.
const GRANT_CHECKS: [GrantCheck; 3] = [
    GrantCheck {
        path: "/admin/v1/users",
        params: &[("limit", "1")],
        reads: Some("users, groups and group members"),
    },
    GrantCheck {
        path: "/admin/v1/admins",
        params: &[("limit", "1")],
        reads: Some("administrators"),
    },
    GrantCheck {
        path: "/admin/v1/info/summary",
        params: &[],
        reads: None,
    },
];

/// Runs every check against `config`'s host. Every row is about one thing: `dns` the name,
/// `tls` the connection (the handshake and the certificate, or whatever stopped a connection
/// being made), `ping` Duo's unsigned ping, `credentials` the keys, each `grant` one grant. An
/// answer that is not Duo's (a WAF's page, a gateway's error) is on the row of the request it
/// answered: the connection under it worked.
pub async fn check(config: &Config, client: &Client) -> CheckReport {
    let mut report = CheckReport::default();
    let host = &config.api_host;
    let default_port = if config.transport == Transport::Https {
        443
    } else {
        80
    };
    match tokio::net::lookup_host(address_of(host, default_port)).await {
        Ok(mut addresses) => {
            let first = addresses.next().map(|a| a.ip().to_string()).unwrap_or_default();
            report.push("dns", CheckStatus::Pass, format!("{host} resolves to {first}"));
        }
        Err(e) => {
            let message = format!(
                "{host} does not resolve ({e}); check the API hostname on the Admin API application's \
                 page in the Duo Admin Panel"
            );
            report.push("dns", CheckStatus::Fail, message.clone());
            if let Some(line) = report.lines.last_mut() {
                line.failure = Some(Failure {
                    while_connecting: true,
                    ..Failure::new(ErrorKind::Network, message)
                });
            }
            report.skip(&["tls", "ping", "credentials"]);
            report.skip_grants();
            return report;
        }
    }

    let connection = match config.transport {
        Transport::Https => "TLS handshake done, certificate trusted",
        Transport::PlainHttp => "plain HTTP (local use only)",
    };
    match client.get_unsigned(PING).await {
        Ok(answer) => {
            let clock = answer
                .server_date
                .map(|server| format!("; Duo's clock is {} s from this machine's", server - now_unix()))
                .unwrap_or_default();
            report.push("tls", CheckStatus::Pass, connection);
            report.push("ping", CheckStatus::Pass, format!("Duo answers{clock}"));
        }
        Err(error) if error.failure().is_none_or(|f| f.while_connecting) => {
            report.push_error("tls", CheckStatus::Fail, "", &error);
            report.skip(&["ping", "credentials"]);
            report.skip_grants();
            return report;
        }
        Err(error) => {
            // Something answered over the connection, so the connection is fine; what answered is
            // this row's business, and the signed requests below may still get through.
            report.push("tls", CheckStatus::Pass, connection);
            report.push_error("ping", CheckStatus::Fail, "", &error);
        }
    }

    let mut credentials_checked = false;
    for GrantCheck { path, params, reads } in GRANT_CHECKS {
        let grant = grant_for(path);
        let answered = client.get(path, params).await;
        let on = match &answered {
            Ok(_) => Some(true),
            Err(Error::Failed(failure)) if failure.kind == ErrorKind::PermissionDenied => Some(false),
            Err(_) => None,
        };
        let failure = answered.as_ref().err().and_then(Error::failure).cloned();
        let (status, message) = match answered {
            Ok(_) => match reads {
                Some(reads) => (CheckStatus::Pass, format!("\"{grant}\" is on ({reads})")),
                None => (
                    CheckStatus::Info,
                    format!("\"{grant}\" is on (not needed by the sync)"),
                ),
            },
            Err(Error::Failed(failure)) if failure.kind == ErrorKind::PermissionDenied => match reads {
                Some(reads) => (
                    CheckStatus::Fail,
                    format!(
                        "\"{grant}\" is missing, so the sync cannot read {reads}: {}",
                        where_to_grant(grant)
                    ),
                ),
                None => (
                    CheckStatus::Info,
                    format!("\"{grant}\" is off (not needed by the sync)"),
                ),
            },
            Err(error) if !credentials_checked => {
                // The keys are judged by the first answer; without one, no grant can be.
                report.push_error("credentials", CheckStatus::Fail, "", &error);
                report.skip_grants();
                return report;
            }
            Err(error) => {
                let status = if reads.is_some() {
                    CheckStatus::Fail
                } else {
                    CheckStatus::Info
                };
                (status, format!("\"{grant}\": {}", failure_text(&error)))
            }
        };
        if !credentials_checked {
            report.push(
                "credentials",
                CheckStatus::Pass,
                "integration key and secret key accepted",
            );
            credentials_checked = true;
        }
        report.push("grant", status, message);
        if let Some(line) = report.lines.last_mut() {
            line.failure = failure;
        }
        report.grants.push(GrantFinding { grant, on });
    }
    report
}

fn failure_text(error: &Error) -> String {
    match error {
        Error::Failed(failure) => format!("{}: {}", failure.kind, failure.message),
        other => other.to_string(),
    }
}
