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

/// A field of the `error` object that some kinds require. `kind` and `message` are required of
/// every kind and `endpoint` of none, so they are not in [`FAILURE_FIELDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureField {
    /// `http_status`: the status of the last answer.
    HttpStatus,
    /// `duo_code`: the `code` of Duo's error envelope.
    DuoCode,
    /// `clock_offset_s`: Duo's clock minus the connector's, seconds.
    ClockOffset,
}

impl FailureField {
    /// Every field, in the order of [`FAILURE_FIELDS`]' rules.
    pub const ALL: [Self; 3] = [Self::HttpStatus, Self::DuoCode, Self::ClockOffset];

    /// The field's name in the `error` object.
    pub fn name(self) -> &'static str {
        match self {
            Self::HttpStatus => "http_status",
            Self::DuoCode => "duo_code",
            Self::ClockOffset => "clock_offset_s",
        }
    }

    /// Its value in `failure`, when it has one.
    pub fn value(self, failure: &ReportedFailure) -> Option<i64> {
        match self {
            Self::HttpStatus => failure.http_status.map(i64::from),
            Self::DuoCode => failure.duo_code.map(i64::from),
            Self::ClockOffset => failure.clock_offset_s,
        }
    }
}

/// The values a required field may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// This one.
    Exactly(i64),
    /// From the first to the second, both included.
    Between(i64, i64),
    /// Any number (what it must be depends on the case: the status a proxy answered, the offset
    /// of the fake's clock).
    Any,
}

impl Values {
    /// Whether `value` is one of them.
    pub fn allow(self, value: i64) -> bool {
        match self {
            Self::Exactly(v) => value == v,
            Self::Between(low, high) => (low..=high).contains(&value),
            Self::Any => true,
        }
    }
}

impl fmt::Display for Values {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exactly(v) => write!(f, "{v}"),
            Self::Between(low, high) => write!(f, "{low} to {high}"),
            Self::Any => f.write_str("any number"),
        }
    }
}

/// What the contract asks of one field of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRule {
    /// Present, with one of these values.
    Required(Values),
    /// Present when the failure came from an HTTP answer (its status), null or absent when none
    /// came (a cut connection). A case whose scenario answers names the status it expects.
    WhenAnswered,
    /// Present when the answer was Duo's error envelope (its `code`). A case that provokes one
    /// names the code it expects.
    WhenDuoAnswered,
    /// Null, absent or any value: not checked.
    Optional,
}

impl FieldRule {
    /// Whether a case may name the value it expects for this field.
    pub fn can_be_pinned(self) -> bool {
        self != Self::Optional
    }

    /// The rule in words, as CONTRACT.md's table shows it.
    pub fn describe(self) -> String {
        match self {
            Self::Required(Values::Exactly(v)) => format!("required, `{v}`"),
            Self::Required(Values::Between(low, high)) => format!("required, `{low}` to `{high}`"),
            Self::Required(Values::Any) => "required".to_owned(),
            Self::WhenAnswered => "required when an answer came".to_owned(),
            Self::WhenDuoAnswered => "required when Duo's envelope came".to_owned(),
            Self::Optional => "optional".to_owned(),
        }
    }
}

/// Which fields each kind requires, in the order of [`FailureField::ALL`]: the one source of the
/// kit's checks ([`field_problem`]) and of CONTRACT.md's table ([`failure_fields_markdown`]).
pub const FAILURE_FIELDS: [(ErrorKind, [FieldRule; 3]); 11] = {
    use FieldRule::{Optional, Required, WhenAnswered, WhenDuoAnswered};
    use Values::{Any, Between, Exactly};
    [
        (
            ErrorKind::InvalidCredentials,
            [Required(Exactly(401)), Required(Exactly(40102)), Optional],
        ),
        (
            ErrorKind::InvalidSignature,
            [Required(Exactly(401)), Required(Exactly(40103)), Optional],
        ),
        (
            ErrorKind::ClockSkew,
            [Required(Exactly(401)), Required(Exactly(40105)), Required(Any)],
        ),
        (
            ErrorKind::PermissionDenied,
            [Required(Exactly(403)), Required(Exactly(40301)), Optional],
        ),
        (
            ErrorKind::BlockedByIntermediary,
            [WhenAnswered, Optional, Optional],
        ),
        (
            ErrorKind::RateLimited,
            [Required(Exactly(429)), WhenDuoAnswered, Optional],
        ),
        (
            ErrorKind::ServerError,
            [
                Required(Between(500, 599)),
                Required(Between(50000, 59999)),
                Optional,
            ],
        ),
        (ErrorKind::Network, [Optional, Optional, Optional]),
        (ErrorKind::Tls, [Optional, Optional, Optional]),
        (ErrorKind::Protocol, [Required(Any), WhenDuoAnswered, Optional]),
        (ErrorKind::TenantChanged, [Optional, Optional, Optional]),
    ]
};

/// The contract's rule for `field` of a failure of `kind`.
pub fn field_rule(kind: ErrorKind, field: FailureField) -> FieldRule {
    let column = FailureField::ALL.iter().position(|f| *f == field).unwrap_or(0);
    FAILURE_FIELDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(FieldRule::Optional, |(_, rules)| rules[column])
}

/// The first field of `failure` that breaks the table: a required field missing or out of its
/// values, or a field required "when" something happened missing although the case names the
/// value it provokes (`pinned`).
pub fn field_problem(failure: &ReportedFailure, pinned: &[FailureField]) -> Option<String> {
    let kind = failure.kind;
    for field in FailureField::ALL {
        let rule = field_rule(kind, field);
        let value = field.value(failure);
        let name = field.name();
        match (rule, value) {
            (FieldRule::Required(values), None) => {
                let which = match values {
                    Values::Any => String::new(),
                    values => format!(" ({values})"),
                };
                return Some(format!("{kind} without {name}: the contract requires it{which}"));
            }
            (FieldRule::Required(values), Some(v)) if !values.allow(v) => {
                return Some(format!(
                    "{kind} carries {name} {v}: the contract requires {values}"
                ));
            }
            (FieldRule::WhenAnswered | FieldRule::WhenDuoAnswered, None) if pinned.contains(&field) => {
                let when = if rule == FieldRule::WhenAnswered {
                    "when an answer came, as one did here"
                } else {
                    "when Duo's error envelope came, as it did here"
                };
                return Some(format!("{kind} without {name}: the contract requires it {when}"));
            }
            _ => {}
        }
    }
    None
}

/// CONTRACT.md's table of the fields each kind requires, rendered from [`FAILURE_FIELDS`].
pub fn failure_fields_markdown() -> String {
    let mut table = String::from("| `kind` |");
    for field in FailureField::ALL {
        table.push_str(&format!(" `{}` |", field.name()));
    }
    table.push_str("\n|---|");
    table.push_str(&"---|".repeat(FailureField::ALL.len()));
    table.push('\n');
    for (kind, rules) in FAILURE_FIELDS {
        table.push_str(&format!("| `{kind}` |"));
        for rule in rules {
            table.push_str(&format!(" {} |", rule.describe()));
        }
        table.push('\n');
    }
    table
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

    fn reported(kind: ErrorKind, http_status: Option<u16>, duo_code: Option<u32>) -> ReportedFailure {
        ReportedFailure {
            kind,
            message: "m".into(),
            endpoint: None,
            http_status,
            duo_code,
            clock_offset_s: None,
        }
    }

    #[test]
    fn the_table_has_every_kind_once_in_order() {
        let kinds: Vec<ErrorKind> = FAILURE_FIELDS.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, ErrorKind::ALL);
    }

    #[test]
    fn required_fields_must_be_present_with_their_values() {
        let denied = reported(ErrorKind::PermissionDenied, Some(403), Some(40301));
        assert_eq!(field_problem(&denied, &[]), None);
        let no_status = reported(ErrorKind::PermissionDenied, None, Some(40301));
        assert_eq!(
            field_problem(&no_status, &[]).as_deref(),
            Some("permission_denied without http_status: the contract requires it (403)")
        );
        let other_code = reported(ErrorKind::PermissionDenied, Some(403), Some(40300));
        assert_eq!(
            field_problem(&other_code, &[]).as_deref(),
            Some("permission_denied carries duo_code 40300: the contract requires 40301")
        );
        let server = reported(ErrorKind::ServerError, Some(404), Some(50300));
        assert_eq!(
            field_problem(&server, &[]).as_deref(),
            Some("server_error carries http_status 404: the contract requires 500 to 599")
        );
        let mut skew = reported(ErrorKind::ClockSkew, Some(401), Some(40105));
        assert_eq!(
            field_problem(&skew, &[]).as_deref(),
            Some("clock_skew without clock_offset_s: the contract requires it")
        );
        skew.clock_offset_s = Some(-600);
        assert_eq!(field_problem(&skew, &[]), None);
    }

    #[test]
    fn fields_required_when_something_happened_are_required_where_the_case_says_it_did() {
        let cut = reported(ErrorKind::BlockedByIntermediary, None, None);
        assert_eq!(field_problem(&cut, &[]), None, "no answer came: optional");
        assert_eq!(
            field_problem(&cut, &[FailureField::HttpStatus]).as_deref(),
            Some(
                "blocked_by_intermediary without http_status: the contract requires it when an answer came, as one did here"
            )
        );
        let protocol = reported(ErrorKind::Protocol, Some(401), None);
        assert_eq!(field_problem(&protocol, &[]), None);
        assert!(
            field_problem(&protocol, &[FailureField::DuoCode])
                .is_some_and(|p| p.starts_with("protocol without duo_code"))
        );
        assert!(
            field_problem(&reported(ErrorKind::Protocol, None, None), &[])
                .is_some_and(|p| p == "protocol without http_status: the contract requires it")
        );
        // Optional fields are never checked.
        let tls = reported(ErrorKind::Tls, Some(999), Some(1));
        assert_eq!(field_problem(&tls, &[FailureField::HttpStatus]), None);
    }

    #[test]
    fn contract_md_shows_the_table_the_kit_checks() {
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/CONTRACT.md")).unwrap();
        let table = failure_fields_markdown();
        assert!(
            doc.contains(&table),
            "CONTRACT.md must hold the table of contract.rs exactly:\n{table}"
        );
        // The kinds' "When" table lists the same kinds, in the same order.
        let listed: Vec<&str> = doc
            .lines()
            .skip_while(|l| !l.starts_with("| `kind` | When |"))
            .skip(2)
            .take_while(|l| l.starts_with("| `"))
            .filter_map(|l| l.split('`').nth(1))
            .collect();
        let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(listed, kinds);
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
