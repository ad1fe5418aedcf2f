//! The "Connect" button: can this host reach Duo, are the keys accepted, and are the grants the
//! sync needs turned on. One line per check, each failure saying what to do.

use std::fmt::Write as _;

use crate::classify::{grant_for, where_to_grant};
use crate::client::Client;
use crate::config::{Config, Transport};
use crate::error::{Error, ErrorKind};
use crate::time::now_unix;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// Works.
    Pass,
    /// Broken: the sync will fail.
    Fail,
    /// Not needed by the sync; shown for information.
    Info,
    /// Not checked, because an earlier check failed.
    Skipped,
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct CheckLine {
    /// Short name (`dns`, `tls`, `credentials`, `grant`).
    pub name: &'static str,
    /// How it came out.
    pub status: CheckStatus,
    /// What was found, and what to do when it failed.
    pub message: String,
}

/// Every check's line.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// In the order checked.
    pub lines: Vec<CheckLine>,
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
        });
    }

    fn skip(&mut self, names: &[&'static str]) {
        for name in names {
            self.push(name, CheckStatus::Skipped, "not checked");
        }
    }
}

/// The grants the sync needs, with what each covers.
const NEEDED_GRANTS: [(&str, &str); 2] = [
    ("/admin/v1/users", "users, groups and group members"),
    ("/admin/v1/admins", "administrators"),
];

/// Runs every check against `config`'s host.
pub async fn check(config: &Config, client: &Client) -> CheckReport {
    let mut report = CheckReport::default();
    let host = &config.api_host;
    let default_port = if config.transport == Transport::Https {
        443
    } else {
        80
    };
    let address = if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host.clone()
    } else {
        format!("{host}:{default_port}")
    };
    match tokio::net::lookup_host(&address).await {
        Ok(mut addresses) => {
            let first = addresses.next().map(|a| a.ip().to_string()).unwrap_or_default();
            report.push("dns", CheckStatus::Pass, format!("{host} resolves to {first}"));
        }
        Err(e) => {
            report.push(
                "dns",
                CheckStatus::Fail,
                format!(
                    "{host} does not resolve ({e}); check the API hostname on the Admin API application's \
                     page in the Duo Admin Panel"
                ),
            );
            report.skip(&["tls", "credentials", "grant", "grant"]);
            return report;
        }
    }

    match client.get_unsigned("/auth/v2/ping").await {
        Ok(answer) => {
            let clock = answer
                .server_date
                .map(|server| format!("; Duo's clock is {} s from this machine's", server - now_unix()))
                .unwrap_or_default();
            let transport = match config.transport {
                Transport::Https => "TLS handshake done, certificate trusted",
                Transport::PlainHttp => "plain HTTP (local use only)",
            };
            report.push(
                "tls",
                CheckStatus::Pass,
                format!("{transport}; Duo answers{clock}"),
            );
        }
        Err(error) => {
            report.push("tls", CheckStatus::Fail, failure_text(&error));
            report.skip(&["credentials", "grant", "grant"]);
            return report;
        }
    }

    let mut credentials_checked = false;
    for (path, covers) in NEEDED_GRANTS {
        let grant = grant_for(path);
        // Duo checks the keys before the grant: an answer or a 403 40301 both mean the keys work.
        let grant_line = match client.get(path, &[("limit", "1")]).await {
            Ok(_) => (CheckStatus::Pass, format!("\"{grant}\" is on ({covers})")),
            Err(Error::Failed(failure)) if failure.kind == ErrorKind::PermissionDenied => (
                CheckStatus::Fail,
                format!(
                    "\"{grant}\" is missing, so the sync cannot read {covers}: {}",
                    where_to_grant(grant)
                ),
            ),
            Err(error) => {
                let name = if credentials_checked {
                    "grant"
                } else {
                    "credentials"
                };
                report.push(name, CheckStatus::Fail, failure_text(&error));
                if !credentials_checked {
                    report.skip(&["grant", "grant"]);
                }
                return report;
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
        report.push("grant", grant_line.0, grant_line.1);
    }

    let info = "/admin/v1/info/summary";
    let grant = grant_for(info);
    match client.get(info, &[]).await {
        Ok(_) => report.push(
            "grant",
            CheckStatus::Info,
            format!("\"{grant}\" is on (not needed by the sync)"),
        ),
        Err(Error::Failed(failure)) if failure.kind == ErrorKind::PermissionDenied => report.push(
            "grant",
            CheckStatus::Info,
            format!("\"{grant}\" is off (not needed by the sync)"),
        ),
        Err(error) => report.push(
            "grant",
            CheckStatus::Info,
            format!("\"{grant}\": {}", failure_text(&error)),
        ),
    }
    report
}

fn failure_text(error: &Error) -> String {
    match error {
        Error::Failed(failure) => format!("{}: {}", failure.kind, failure.message),
        other => other.to_string(),
    }
}
