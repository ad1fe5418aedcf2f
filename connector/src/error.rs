//! The connector's one error type, and the classified failure a sync or check reports.
//!
//! A [`Failure`] is what the contract writes to `DUO_OUTPUT` and what a person reads: a
//! [`ErrorKind`] a program can act on, and a message that says what happened and what to do.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// What kind of failure ended a sync (the contract's `error.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 401 40102: the integration key is unknown or not an Admin API application's.
    InvalidCredentials,
    /// 401 40103: the signature does not match (wrong secret key, or a signing bug).
    InvalidSignature,
    /// 401 40105: this machine's clock is too far from Duo's.
    ClockSkew,
    /// 403 40301: the application lacks a permission grant (or the caller's address is refused).
    PermissionDenied,
    /// Something between this host and Duo answered instead of Duo (WAF, proxy, gateway).
    BlockedByIntermediary,
    /// Still 429 after every retry.
    RateLimited,
    /// Duo answered 5xx after every retry.
    ServerError,
    /// DNS, a refused connection, or a timeout.
    Network,
    /// The TLS handshake or the certificate failed.
    Tls,
    /// Duo's answer was not valid, or Duo says the request was malformed.
    Protocol,
    /// The tenant changed under the sync and re-reading did not give a consistent list.
    TenantChanged,
    /// `logs`: the output (or a checkpoint) could not be written; no checkpoint moved past it.
    Sink,
}

impl ErrorKind {
    /// The contract's name (`invalid_credentials`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidSignature => "invalid_signature",
            Self::ClockSkew => "clock_skew",
            Self::PermissionDenied => "permission_denied",
            Self::BlockedByIntermediary => "blocked_by_intermediary",
            Self::RateLimited => "rate_limited",
            Self::ServerError => "server_error",
            Self::Network => "network",
            Self::Tls => "tls",
            Self::Protocol => "protocol",
            Self::TenantChanged => "tenant_changed",
            Self::Sink => "sink",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classified failure: the contract's `error` object.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What happened and what to do, for a person.
    pub message: String,
    /// The request path that failed (`/admin/v1/users`), when one did.
    pub endpoint: Option<String>,
    /// The HTTP status of the last answer, when there was one.
    pub http_status: Option<u16>,
    /// Duo's error code, when the answer was Duo's.
    pub duo_code: Option<u32>,
    /// For `clock_skew`: how many seconds Duo's clock is ahead of this machine's (negative: behind).
    pub clock_offset_s: Option<i64>,
    /// The failure came before the request could be sent: DNS, a refused connection, a proxy's
    /// tunnel, the TLS handshake, a server that speaks the other scheme, or a connection cut or
    /// timed out while it was being made. `check` reports such a failure on its `tls` row and any
    /// other on the row of the request it answered. Not part of the contract's output.
    #[serde(skip)]
    pub while_connecting: bool,
}

impl Failure {
    /// A failure of `kind` with `message` and no request details.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            endpoint: None,
            http_status: None,
            duo_code: None,
            clock_offset_s: None,
            while_connecting: false,
        }
    }

    /// Names the endpoint that failed.
    pub fn at(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
        self
    }
}

/// Everything the connector library can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A sync or check failed against Duo (or what answered in its place).
    #[error("{}: {}", .0.kind, .0.message)]
    Failed(Box<Failure>),
    /// The configuration cannot work (missing credentials, a bad host, an unreadable CA file).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not a snapshot this connector can read.
    #[error("{}: not a snapshot: {reason}", path.display())]
    Snapshot {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        reason: String,
    },
    /// The SQLite database could not be written or read.
    #[error("{}: SQLite: {source}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// The classified failure, if this is one.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Self::Failed(failure) => Some(failure),
            _ => None,
        }
    }
}

impl From<Failure> for Error {
    fn from(failure: Failure) -> Self {
        Self::Failed(Box::new(failure))
    }
}
