//! A small connector that follows the contract and can be broken on purpose, one realistic bug at
//! a time (`--breakage NAME` or `BROKEN_MODE`). With no breakage it passes the catalogue; each
//! breakage is the bug some case exists to catch, and the kit's self-tests run every case against
//! its breakage to show the case fails, for the right reason.
//!
//! It is deliberately plain: users, administrators and groups read by offset paging, group
//! members per group, re-reads when the tenant visibly changes, Duo's retry schedule.

pub(crate) mod client;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::contract::{ErrorKind, SNAPSHOT_SCHEMA_VERSION};
use client::{Client, unix_now};

/// A bug the self-test connector can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Breakage {
    /// No bug: the connector does it right.
    Correct,
    /// Reads the first page of every list and stops.
    IgnoresPaging,
    /// Ignores `next_offset`: adds the limit to the offset and stops at a page shorter than it.
    OffsetByLimit,
    /// A page without `metadata` means "next offset 0": a single-page list loops forever.
    MissingMetadataLoops,
    /// `next_offset: null` is read as 0: the last page loops forever.
    NullNextOffsetAsZero,
    /// `metadata` without `next_offset` is refused as a protocol error.
    RequiresNextOffset,
    /// Pages by offset without noticing the tenant change under it.
    NoRereadOnChurn,
    /// Reads the first page of each group's members only.
    IgnoresMemberPaging,
    /// Asks for 1,000 objects a page, above every endpoint's maximum.
    OversizedPage,
    /// Duo's 403 is read as an empty list.
    ForbiddenAsEmpty,
    /// Classifies by HTTP status alone: any 401 is invalid_credentials, any 403 permission_denied,
    /// any 5xx server_error.
    StatusOnlyKinds,
    /// A 200 that is not Duo's JSON (an HTML block page, an empty body, garbage) is an empty page.
    HtmlAsData,
    /// Gives up at the first 429.
    NoRetry429,
    /// Retries 429s and 5xx every 200 ms, forever.
    RetriesForever,
    /// After a 429, waits and starts the whole list again from offset 0.
    RestartListOn429,
    /// Retries Duo's 401 and 403 twice.
    Retries401,
    /// Reports the clock offset with the wrong sign.
    ClockOffsetSignFlipped,
    /// Accepts any certificate (the usual "fix" for a TLS error).
    AcceptsAnyCertificate,
    /// Retries neither 5xx nor cut connections.
    NoRetries,
    /// Retries Duo's own 5xx, but takes a gateway's 5xx page (not Duo's JSON) as final.
    NoRetryGateway5xx,
    /// Sets no request timeout: a stalled answer hangs it.
    NoTimeout,
    /// A connection cut after it was made is reported as `network`.
    ResetAsNetwork,
    /// Knows a fixed set of fields and values; anything else is a protocol error.
    StrictFields,
    /// Never reads group members.
    NoGroupMembers,
    /// An empty tenant is an error.
    EmptyAsError,
    /// Drops the last object of the last page (an off-by-one).
    DropsLastObject,
    /// Writes non-ASCII characters as `?`.
    AsciiFolding,
}

impl Breakage {
    /// Every breakage, `Correct` first.
    pub const ALL: [Self; 27] = [
        Self::Correct,
        Self::IgnoresPaging,
        Self::OffsetByLimit,
        Self::MissingMetadataLoops,
        Self::NullNextOffsetAsZero,
        Self::RequiresNextOffset,
        Self::NoRereadOnChurn,
        Self::IgnoresMemberPaging,
        Self::OversizedPage,
        Self::ForbiddenAsEmpty,
        Self::StatusOnlyKinds,
        Self::HtmlAsData,
        Self::NoRetry429,
        Self::RetriesForever,
        Self::RestartListOn429,
        Self::Retries401,
        Self::ClockOffsetSignFlipped,
        Self::AcceptsAnyCertificate,
        Self::NoRetries,
        Self::NoRetryGateway5xx,
        Self::NoTimeout,
        Self::ResetAsNetwork,
        Self::StrictFields,
        Self::NoGroupMembers,
        Self::EmptyAsError,
        Self::DropsLastObject,
        Self::AsciiFolding,
    ];

    /// The name given to `--breakage`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Correct => "none",
            Self::IgnoresPaging => "ignores-paging",
            Self::OffsetByLimit => "offset-by-limit",
            Self::MissingMetadataLoops => "missing-metadata-loops",
            Self::NullNextOffsetAsZero => "null-next-offset-as-zero",
            Self::RequiresNextOffset => "requires-next-offset",
            Self::NoRereadOnChurn => "no-reread-on-churn",
            Self::IgnoresMemberPaging => "ignores-member-paging",
            Self::OversizedPage => "oversized-page",
            Self::ForbiddenAsEmpty => "403-as-empty",
            Self::StatusOnlyKinds => "status-only-kinds",
            Self::HtmlAsData => "html-as-data",
            Self::NoRetry429 => "no-retry-429",
            Self::RetriesForever => "retries-forever",
            Self::RestartListOn429 => "restart-list-on-429",
            Self::Retries401 => "retries-401",
            Self::ClockOffsetSignFlipped => "clock-offset-sign-flipped",
            Self::AcceptsAnyCertificate => "accepts-any-certificate",
            Self::NoRetries => "no-retries",
            Self::NoRetryGateway5xx => "no-retry-gateway-5xx",
            Self::NoTimeout => "no-timeout",
            Self::ResetAsNetwork => "reset-as-network",
            Self::StrictFields => "strict-fields",
            Self::NoGroupMembers => "no-group-members",
            Self::EmptyAsError => "empty-as-error",
            Self::DropsLastObject => "drops-last-object",
            Self::AsciiFolding => "ascii-folding",
        }
    }

    /// The breakage named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }
}

impl fmt::Display for Breakage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A classified failure: the contract's `error` object.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
    endpoint: Option<String>,
    http_status: Option<u16>,
    duo_code: Option<u32>,
    clock_offset_s: Option<i64>,
}

impl Failure {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            endpoint: None,
            http_status: None,
            duo_code: None,
            clock_offset_s: None,
        }
    }

    pub(crate) fn at(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
        self
    }

    pub(crate) fn status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }
}

/// Page sizes: Duo's maxima.
const USERS_LIMIT: u32 = 300;
const ADMINS_LIMIT: u32 = 300;
const GROUPS_LIMIT: u32 = 100;
const MEMBERS_LIMIT: u32 = 500;
/// The oversized page of [`Breakage::OversizedPage`].
const OVERSIZED_LIMIT: u32 = 1000;
/// Reads of a list that changed under the sync, before giving up with `tenant_changed`.
const READS_PER_LIST: usize = 3;
/// Restarts of [`Breakage::RestartListOn429`].
const RESTARTS: usize = 5;

const USER_FIELDS: [&str; 26] = [
    "alias1",
    "alias2",
    "alias3",
    "alias4",
    "aliases",
    "created",
    "desktoptokens",
    "email",
    "enable_auto_prompt",
    "external_id",
    "firstname",
    "groups",
    "is_enrolled",
    "last_directory_sync",
    "last_login",
    "lastname",
    "lockout_reason",
    "notes",
    "phones",
    "realname",
    "status",
    "tokens",
    "u2ftokens",
    "user_id",
    "username",
    "webauthncredentials",
];
const USER_STATUSES: [&str; 5] = ["active", "bypass", "disabled", "locked out", "pending deletion"];
const GROUP_FIELDS: [&str; 8] = [
    "desc",
    "group_id",
    "mobile_otp_enabled",
    "name",
    "push_enabled",
    "sms_enabled",
    "status",
    "voice_enabled",
];
const GROUP_STATUSES: [&str; 3] = ["active", "bypass", "disabled"];

/// The command line: `duo-broken-connector sync [--breakage NAME]`; the breakage may also come
/// from `BROKEN_MODE`. Exit 0 synced, 1 failed (the error in `DUO_OUTPUT`), 2 bad usage.
pub fn main_with_args(args: &[String]) -> ExitCode {
    match parse_args(args) {
        Ok(breakage) => run(breakage),
        Err(usage) => {
            eprintln!("duo-broken-connector: {usage}");
            eprintln!(
                "usage: duo-broken-connector sync [--breakage NAME]   (names: {})",
                names()
            );
            ExitCode::from(2)
        }
    }
}

fn names() -> String {
    Breakage::ALL.map(Breakage::name).join(", ")
}

fn parse_args(args: &[String]) -> Result<Breakage, String> {
    match breakage_arg(args, "sync")? {
        None => Ok(Breakage::Correct),
        Some(n) => Breakage::from_name(&n).ok_or_else(|| format!("unknown breakage {n:?}")),
    }
}

/// The breakage a self-test program's command line (`COMMAND [--breakage NAME]`) or
/// `BROKEN_MODE` names, if any.
pub(crate) fn breakage_arg(args: &[String], command: &str) -> Result<Option<String>, String> {
    let mut args = args.iter();
    match args.next().map(String::as_str) {
        Some(c) if c == command => {}
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("missing command".into()),
    }
    let mut name = std::env::var("BROKEN_MODE").ok();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--breakage" => name = Some(args.next().ok_or("--breakage needs a name")?.clone()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()))
}

fn required(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{name} is not set"))
}

fn run(breakage: Breakage) -> ExitCode {
    let config = (|| -> Result<_, String> {
        let host = required("DUO_API_HOST")?;
        let ikey = required("DUO_IKEY")?;
        let skey = required("DUO_SKEY")?;
        let output = PathBuf::from(required("DUO_OUTPUT")?);
        let ca = match std::env::var_os("DUO_CA_CERT").filter(|v| !v.is_empty()) {
            Some(path) => Some(std::fs::read(&path).map_err(|e| format!("DUO_CA_CERT: {e}"))?),
            None => None,
        };
        Ok((host, ikey, skey, output, ca))
    })();
    let (host, ikey, skey, output, ca) = match config {
        Ok(config) => config,
        Err(usage) => {
            eprintln!("duo-broken-connector: {usage}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("duo-broken-connector: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        let client = Client::new(&host, &ikey, &skey, ca.as_deref(), breakage)
            .map_err(|m| Failure::new(ErrorKind::Tls, m))?;
        Sync { client, breakage }.run(&host).await
    });
    let (document, code) = match result {
        Ok(snapshot) => (snapshot, 0),
        Err(failure) => {
            eprintln!("duo-broken-connector: {}: {}", failure.kind, failure.message);
            (serde_json::json!({ "error": failure }), 1)
        }
    };
    let mut bytes = serde_json::to_vec(&document).unwrap_or_default();
    if breakage == Breakage::AsciiFolding {
        bytes = String::from_utf8_lossy(&bytes)
            .chars()
            .map(|c| if c.is_ascii() { c } else { '?' })
            .collect::<String>()
            .into_bytes();
    }
    if let Err(e) = std::fs::write(&output, bytes) {
        eprintln!("duo-broken-connector: {}: {e}", output.display());
        return ExitCode::from(2);
    }
    ExitCode::from(code)
}

/// One sync.
struct Sync {
    client: Client,
    breakage: Breakage,
}

/// Where a list's next page is, as `metadata` says.
enum Next {
    Offset(u64),
    End,
}

impl Sync {
    async fn run(&self, host: &str) -> Result<Value, Failure> {
        let users_limit = self.limit(USERS_LIMIT);
        let users = self.list("/admin/v1/users", users_limit, "user_id").await?;
        self.check_strict(&users, &USER_FIELDS, &USER_STATUSES, "/admin/v1/users")?;
        let admins = self
            .list("/admin/v1/admins", self.limit(ADMINS_LIMIT), "admin_id")
            .await?;
        let groups = self
            .list("/admin/v1/groups", self.limit(GROUPS_LIMIT), "group_id")
            .await?;
        self.check_strict(&groups, &GROUP_FIELDS, &GROUP_STATUSES, "/admin/v1/groups")?;
        let mut members = BTreeMap::new();
        if self.breakage != Breakage::NoGroupMembers {
            for group in &groups {
                let Some(id) = group.get("group_id").and_then(Value::as_str) else {
                    continue;
                };
                let path = format!("/admin/v2/groups/{id}/users");
                let list = self.list(&path, self.limit(MEMBERS_LIMIT), "user_id").await?;
                let ids: Vec<String> = list
                    .iter()
                    .filter_map(|m| m.get("user_id").and_then(Value::as_str).map(str::to_owned))
                    .collect();
                members.insert(id.to_owned(), ids);
            }
        }
        if self.breakage == Breakage::EmptyAsError && users.is_empty() {
            return Err(Failure::new(ErrorKind::Protocol, "Duo returned no users").at("/admin/v1/users"));
        }
        Ok(serde_json::json!({
            "schema_version": SNAPSHOT_SCHEMA_VERSION,
            "api_host": host,
            "synced_at": rfc3339(unix_now()),
            "users": users,
            "admins": admins,
            "groups": groups,
            "group_members": members,
        }))
    }

    fn limit(&self, max: u32) -> u32 {
        if self.breakage == Breakage::OversizedPage {
            OVERSIZED_LIMIT
        } else {
            max
        }
    }

    fn check_strict(
        &self,
        objects: &[Value],
        fields: &[&str],
        statuses: &[&str],
        path: &str,
    ) -> Result<(), Failure> {
        if self.breakage != Breakage::StrictFields {
            return Ok(());
        }
        for object in objects {
            let Some(map) = object.as_object() else {
                continue;
            };
            if let Some(unknown) = map.keys().find(|k| !fields.contains(&k.as_str())) {
                return Err(Failure::new(ErrorKind::Protocol, format!("unknown field {unknown:?}")).at(path));
            }
            if let Some(missing) = fields
                .iter()
                .find(|f| **f != "external_id" && !map.contains_key(**f))
            {
                return Err(Failure::new(ErrorKind::Protocol, format!("missing field {missing:?}")).at(path));
            }
            let status = map.get("status").and_then(Value::as_str).unwrap_or("");
            if !statuses.contains(&status) {
                return Err(Failure::new(ErrorKind::Protocol, format!("unknown status {status:?}")).at(path));
            }
        }
        Ok(())
    }

    /// A whole list: pages followed by `next_offset`, read again (up to [`READS_PER_LIST`]
    /// times) when the tenant visibly changed under it.
    async fn list(&self, path: &str, limit: u32, id_field: &str) -> Result<Vec<Value>, Failure> {
        let mut restarts = 0;
        let mut reads = 0;
        loop {
            reads += 1;
            match self.read_once(path, limit, id_field).await {
                Ok(Read::Consistent(objects)) => return Ok(objects),
                Ok(Read::Changed(why)) if reads >= READS_PER_LIST => {
                    return Err(Failure::new(
                        ErrorKind::TenantChanged,
                        format!("the tenant kept changing during {READS_PER_LIST} reads: {why}"),
                    )
                    .at(path));
                }
                Ok(Read::Changed(_)) => {}
                Err(failure)
                    if failure.kind == ErrorKind::RateLimited
                        && self.breakage == Breakage::RestartListOn429
                        && restarts < RESTARTS =>
                {
                    restarts += 1;
                    reads -= 1;
                    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
                }
                Err(failure) => return Err(failure),
            }
        }
    }

    async fn read_once(&self, path: &str, limit: u32, id_field: &str) -> Result<Read, Failure> {
        use Breakage as B;
        let members = path.starts_with("/admin/v2/groups/");
        let first_page_only =
            self.breakage == B::IgnoresPaging || (members && self.breakage == B::IgnoresMemberPaging);
        let mut objects: Vec<Value> = Vec::new();
        let mut totals: HashSet<u64> = HashSet::new();
        let mut offset = 0u64;
        loop {
            let params = [("limit", limit.to_string()), ("offset", offset.to_string())];
            let envelope = match self.client.get(path, &params).await {
                Ok(envelope) => envelope,
                Err(f) if f.kind == ErrorKind::PermissionDenied && self.breakage == B::ForbiddenAsEmpty => {
                    return Ok(Read::Consistent(Vec::new()));
                }
                Err(f) => return Err(f),
            };
            let Some(Value::Array(page)) = envelope.get("response").cloned() else {
                return Err(
                    Failure::new(ErrorKind::Protocol, "the response of a list is not an array").at(path),
                );
            };
            let page_len = page.len() as u64;
            let metadata = envelope.get("metadata").and_then(Value::as_object);
            if let Some(total) = metadata
                .and_then(|m| m.get("total_objects"))
                .and_then(Value::as_u64)
            {
                totals.insert(total);
            }
            let next = self.next(metadata, offset, limit, page_len, path)?;
            let mut page = page;
            if self.breakage == B::DropsLastObject && matches!(next, Next::End) {
                page.pop();
            }
            objects.extend(page);
            match next {
                Next::End => break,
                Next::Offset(_) if first_page_only => break,
                Next::Offset(n) => {
                    let loops = matches!(self.breakage, B::MissingMetadataLoops | B::NullNextOffsetAsZero);
                    if n <= offset && !loops {
                        return Err(Failure::new(
                            ErrorKind::Protocol,
                            format!("next_offset {n} does not advance past offset {offset}"),
                        )
                        .at(path));
                    }
                    offset = n;
                }
            }
        }
        if self.breakage == B::NoRereadOnChurn {
            let mut seen = HashSet::new();
            objects.retain(|o| seen.insert(o.get(id_field).cloned().unwrap_or(Value::Null)));
            return Ok(Read::Consistent(objects));
        }
        let mut seen = HashSet::new();
        if let Some(twice) = objects
            .iter()
            .filter_map(|o| o.get(id_field).and_then(Value::as_str))
            .find(|id| !seen.insert(*id))
        {
            return Ok(Read::Changed(format!("{twice} came twice")));
        }
        if totals.len() > 1 {
            return Ok(Read::Changed(format!(
                "total_objects changed between pages: {totals:?}"
            )));
        }
        if let Some(total) = totals.iter().next()
            && *total != objects.len() as u64
            && !first_page_only
            && !matches!(self.breakage, B::DropsLastObject | B::OffsetByLimit)
        {
            return Ok(Read::Changed(format!(
                "read {} objects of {total}",
                objects.len()
            )));
        }
        Ok(Read::Consistent(objects))
    }

    fn next(
        &self,
        metadata: Option<&Map<String, Value>>,
        offset: u64,
        limit: u32,
        page_len: u64,
        path: &str,
    ) -> Result<Next, Failure> {
        use Breakage as B;
        if self.breakage == B::OffsetByLimit {
            return Ok(if page_len == u64::from(limit) {
                Next::Offset(offset + u64::from(limit))
            } else {
                Next::End
            });
        }
        let Some(metadata) = metadata else {
            return Ok(if self.breakage == B::MissingMetadataLoops {
                Next::Offset(0)
            } else {
                Next::End
            });
        };
        match metadata.get("next_offset") {
            None if self.breakage == B::RequiresNextOffset => {
                Err(Failure::new(ErrorKind::Protocol, "metadata without next_offset").at(path))
            }
            None => Ok(Next::End),
            Some(Value::Null) if self.breakage == B::NullNextOffsetAsZero => Ok(Next::Offset(0)),
            Some(Value::Null) => Ok(Next::End),
            Some(Value::Number(n)) if n.as_u64().is_some() => {
                Ok(Next::Offset(n.as_u64().unwrap_or_default()))
            }
            Some(Value::String(s)) if s.parse::<u64>().is_ok() => {
                Ok(Next::Offset(s.parse().unwrap_or_default()))
            }
            Some(other) => Err(Failure::new(
                ErrorKind::Protocol,
                format!("next_offset {other} is not an offset"),
            )
            .at(path)),
        }
    }
}

/// One read of a list.
enum Read {
    /// Every page agrees.
    Consistent(Vec<Value>),
    /// The tenant changed under the read; why.
    Changed(String),
}

/// Unix seconds as RFC 3339 UTC: the fake's own calendar arithmetic, plus the zone.
fn rfc3339(unix: i64) -> String {
    mock_server::model::iso_time(unix) + "Z"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakages_round_trip_through_their_names() {
        for breakage in Breakage::ALL {
            assert_eq!(Breakage::from_name(breakage.name()), Some(breakage));
        }
        assert_eq!(
            parse_args(&["sync".into(), "--breakage".into(), "403-as-empty".into()]),
            Ok(Breakage::ForbiddenAsEmpty)
        );
        assert!(parse_args(&["sync".into(), "--breakage".into(), "nope".into()]).is_err());
        assert!(parse_args(&["check".into()]).is_err());
    }

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400 + 3661), "2000-02-29T01:01:01Z");
        assert!(crate::contract::is_rfc3339(&rfc3339(unix_now())));
    }
}
