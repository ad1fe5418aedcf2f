//! The connector contract (`conformance/CONTRACT.md`) as types: the failure kinds a connector
//! reports, and what it writes to `DUO_OUTPUT` — a snapshot on success, `{"error": {…}}` on
//! failure — read back and checked for shape.

use std::fmt;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// Version of the snapshot document the contract describes.
pub const SNAPSHOT_SCHEMA_VERSION: u64 = 1;

/// Exit status of a connector whose sync succeeded.
pub const EXIT_SUCCESS: i32 = 0;
/// Exit status of a connector whose sync failed (the output holds the error).
pub const EXIT_FAILURE: i32 = 1;
/// Exit status of a connector that was started wrongly (missing variables, bad flags).
pub const EXIT_USAGE: i32 = 2;

/// What kind of failure ended a sync: the contract's `error.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 401 40102: unknown integration key, or keys of another application type.
    InvalidCredentials,
    /// 401 40103: the signature does not match.
    InvalidSignature,
    /// 401 40105: the request's date is too far from Duo's clock.
    ClockSkew,
    /// 403 40301: a permission grant is missing (or the address is not allowed).
    PermissionDenied,
    /// An answer that is not Duo's (WAF, proxy, gateway page; empty 200; a connection cut after
    /// it was made and before a whole answer).
    BlockedByIntermediary,
    /// Still 429 after the retries.
    RateLimited,
    /// Duo's 5xx after the retries.
    ServerError,
    /// Refused, DNS, timeouts.
    Network,
    /// Handshake or certificate failure.
    Tls,
    /// A 200 that is not a valid Duo answer, or a Duo error meaning the request was malformed.
    Protocol,
    /// The tenant kept changing under the sync.
    TenantChanged,
}

impl ErrorKind {
    /// Every kind, in the contract's order.
    pub const ALL: [Self; 11] = [
        Self::InvalidCredentials,
        Self::InvalidSignature,
        Self::ClockSkew,
        Self::PermissionDenied,
        Self::BlockedByIntermediary,
        Self::RateLimited,
        Self::ServerError,
        Self::Network,
        Self::Tls,
        Self::Protocol,
        Self::TenantChanged,
    ];

    /// The contract's spelling (`invalid_credentials`, …).
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
        }
    }

    /// The kind spelled `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A snapshot as a connector wrote it, lists kept as raw JSON (a 100,000-user tenant is compared
/// object by object without being parsed whole).
#[derive(Debug, Deserialize)]
pub struct Snapshot {
    /// Must be [`SNAPSHOT_SCHEMA_VERSION`].
    pub schema_version: u64,
    /// The API host the connector was given.
    pub api_host: String,
    /// When the sync finished, RFC 3339.
    pub synced_at: String,
    /// Users as Duo returned them.
    pub users: Vec<Box<RawValue>>,
    /// Administrators as Duo returned them.
    pub admins: Vec<Box<RawValue>>,
    /// Groups as Duo returned them.
    pub groups: Vec<Box<RawValue>>,
    /// group_id → the user_ids of its members.
    pub group_members: std::collections::BTreeMap<String, Vec<String>>,
}

/// The `error` object a failed connector writes.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ReportedFailure {
    /// The failure kind.
    pub kind: ErrorKind,
    /// For a person.
    pub message: String,
    /// The request path that failed, when one did.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The last answer's HTTP status, when there was one.
    #[serde(default)]
    pub http_status: Option<u16>,
    /// Duo's error code, when the answer was Duo's.
    #[serde(default)]
    pub duo_code: Option<u32>,
    /// For `clock_skew`: seconds Duo's clock is ahead of the connector's (negative: behind).
    #[serde(default)]
    pub clock_offset_s: Option<i64>,
}

/// What a connector wrote to `DUO_OUTPUT`.
#[derive(Debug)]
pub enum ConnectorOutput {
    /// A snapshot (exit 0).
    Snapshot(Snapshot),
    /// A classified failure (exit 1).
    Failure(ReportedFailure),
}

#[derive(Deserialize)]
struct ErrorDocument {
    error: ReportedFailure,
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    error: Option<IgnoredAny>,
}

impl ConnectorOutput {
    /// Reads an output document; the error names what is wrong with its shape.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err("the output file is empty".into());
        }
        let probe: Probe =
            serde_json::from_slice(bytes).map_err(|e| format!("the output is not a JSON object: {e}"))?;
        if probe.error.is_some() {
            let document: ErrorDocument = serde_json::from_slice(bytes)
                .map_err(|e| format!("the output's \"error\" does not follow the contract: {e}"))?;
            return Ok(Self::Failure(document.error));
        }
        let snapshot: Snapshot = serde_json::from_slice(bytes)
            .map_err(|e| format!("the output is not a contract snapshot: {e}"))?;
        if snapshot.schema_version != SNAPSHOT_SCHEMA_VERSION {
            return Err(format!(
                "the snapshot's schema_version is {}, the contract's is {SNAPSHOT_SCHEMA_VERSION}",
                snapshot.schema_version
            ));
        }
        if !is_rfc3339(&snapshot.synced_at) {
            return Err(format!(
                "the snapshot's synced_at {:?} is not an RFC 3339 time",
                snapshot.synced_at
            ));
        }
        Ok(Self::Snapshot(snapshot))
    }
}

/// Whether `text` is an RFC 3339 date-time (`2026-01-01T00:00:00Z`, fractions and offsets allowed).
pub fn is_rfc3339(text: &str) -> bool {
    let b = text.as_bytes();
    let digits =
        |range: std::ops::Range<usize>| b.get(range).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let fixed = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !fixed {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.as_str()), Some(kind));
        }
        assert_eq!(ErrorKind::from_name("forbidden"), None);
    }

    #[test]
    fn rfc3339_times_are_recognised() {
        for good in [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.123456Z",
            "2026-01-01T00:00:00+02:00",
            "2026-01-01 00:00:00-05:30",
        ] {
            assert!(is_rfc3339(good), "{good}");
        }
        for bad in [
            "",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "Thu, 01 Jan 2026 00:00:00 GMT",
            "2026-01-01T00:00:00.Z",
            "1767225600",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn outputs_are_told_apart_and_checked() {
        let failure = ConnectorOutput::parse(
            br#"{"error":{"kind":"permission_denied","message":"m","endpoint":"/admin/v1/admins","http_status":403,"duo_code":40301}}"#,
        )
        .unwrap();
        assert!(
            matches!(failure, ConnectorOutput::Failure(f) if f.kind == ErrorKind::PermissionDenied && f.duo_code == Some(40301))
        );
        let snapshot = ConnectorOutput::parse(
            br#"{"schema_version":1,"api_host":"localhost:1","synced_at":"2026-01-01T00:00:00Z","users":[{"user_id":"DU1"}],"admins":[],"groups":[],"group_members":{}}"#,
        )
        .unwrap();
        assert!(matches!(snapshot, ConnectorOutput::Snapshot(s) if s.users.len() == 1));
        let unknown_kind = ConnectorOutput::parse(br#"{"error":{"kind":"oops","message":"m"}}"#).unwrap_err();
        assert!(
            unknown_kind.contains("does not follow the contract"),
            "{unknown_kind}"
        );
        let old = ConnectorOutput::parse(
            br#"{"schema_version":2,"api_host":"h","synced_at":"2026-01-01T00:00:00Z","users":[],"admins":[],"groups":[],"group_members":{}}"#,
        )
        .unwrap_err();
        assert!(old.contains("schema_version is 2"), "{old}");
        assert!(ConnectorOutput::parse(b"").unwrap_err().contains("empty"));
        assert!(ConnectorOutput::parse(b"<html>").is_err());
    }
}
