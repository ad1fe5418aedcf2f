//! `duo-mock probe`: measures a live Duo Admin API server (a tenant, or another fake) with a fixed
//! battery of read-only requests ([`battery::BATTERY`]), and writes what it found: `probe.json`
//! (each behaviour's value and the requests that showed it, or why it could not be told) and
//! `scenario.toml` (a tenant of the same sizes and shape, with the options seen, and none of the
//! probed tenant's names, e-mails, phone numbers or ids). `probe --compare DIR` prints where the
//! probed server differs from the fake's defaults.
//!
//! Manners: GETs only, never a write; at most `--max-requests` (60) requests, one every
//! `--pace-ms` (600 ms: 100 a minute, half of Duo's documented 200 a minute for list pages);
//! the first 429 stops the battery. The secret key goes into signatures and nowhere else.

pub mod battery;
mod tenant_shape;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use duo_auth::Scheme;
use http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::reproduce::path_pattern;
use crate::scenario_writer::{ScenarioWriter, TomlValue};
use crate::upstream::{self, Answer, Keys, Signing, Target, Upstream};
use battery::{Ask, Auth, BATTERY, Context, FakeDefault, Step};

/// Version of `probe.json`'s format.
pub const SCHEMA_VERSION: u32 = 1;
/// The default request budget.
pub const DEFAULT_MAX_REQUESTS: usize = 60;
/// The default time between two requests: 100 a minute.
pub const DEFAULT_PACE: Duration = Duration::from_millis(600);
/// The default bound of the idle keep-alive wait: longer than the 32 s Duo's Python client sleeps
/// between two 429 retries on one connection.
pub const DEFAULT_IDLE_BOUND: Duration = Duration::from_secs(40);

/// An integration key that belongs to no tenant (asked about for Duo's 40102 answer).
const UNKNOWN_IKEY: &str = "DIPR0BEUNKN0WN1KEY00";
/// A key that is not the integration's (for Duo's 40103 answer).
const WRONG_SKEY: &str = "pr0beWr0ngSecretKeyN0tAnyb0dysRea1Key00";

/// How to probe.
#[derive(Debug)]
pub struct ProbeOptions {
    /// The server.
    pub target: Target,
    /// The integration's keys.
    pub keys: Keys,
    /// Most requests sent (the idle keep-alive measurement counts as one).
    pub max_requests: usize,
    /// Time between two requests.
    pub pace: Duration,
    /// How long to wait for the server to close an idle connection.
    pub idle_bound: Duration,
}

/// One request that showed a behaviour, as `probe.json` names it (ids as `*`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RequestSeen {
    /// `GET`.
    pub method: String,
    /// The path, ids replaced.
    pub path: String,
    /// The answer's status.
    pub status: u16,
}

/// One behaviour, as found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Finding {
    /// The battery row's id.
    pub id: String,
    /// The scenario option it settles.
    pub option: Option<String>,
    /// The value seen (`null` when it could not be told).
    pub value: Value,
    /// How a measurement was bracketed.
    pub note: Option<String>,
    /// Why it could not be told.
    pub reason: Option<String>,
    /// The fake's default (`null` for a fact of the tenant).
    pub fake_default: Value,
    /// How far the value may be from another and still agree.
    pub tolerance: u32,
    /// The requests that showed it.
    pub requests: Vec<RequestSeen>,
}

/// `probe.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `duo-mock probe` and its version.
    pub tool: String,
    /// When the probe ran (RFC 3339, UTC).
    pub probed_at: String,
    /// Requests sent.
    pub requests_sent: usize,
    /// The budget.
    pub max_requests: usize,
    /// Time between two requests.
    pub pace_ms: u64,
    /// How long the whole probe took.
    pub duration_s: f64,
    /// Why the battery stopped early, if it did (a 429).
    pub stopped: Option<String>,
    /// Every behaviour of the battery, in its order.
    pub behaviours: Vec<Finding>,
    /// The tenant's shape: counts and shares of the objects read, no object itself.
    pub tenant: tenant_shape::TenantShape,
}

impl ProbeReport {
    /// The finding of row `id`.
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.behaviours.iter().find(|f| f.id == id)
    }
}

fn probe_error(message: impl Into<String>) -> Error {
    Error::Upstream(message.into())
}

/// Unix seconds now, by this machine's clock.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Waits so that requests leave at most one per `every`.
struct Pacer {
    every: Duration,
    last: Option<Instant>,
}

impl Pacer {
    async fn wait(&mut self) {
        if let Some(last) = self.last {
            let due = last + self.every;
            tokio::time::sleep_until(due.into()).await;
        }
        self.last = Some(Instant::now());
    }
}

/// Runs the battery.
pub async fn run(options: ProbeOptions) -> Result<ProbeReport> {
    let started = Instant::now();
    let upstream = Arc::new(Upstream::new(options.target.clone())?);
    let mut ctx = Context {
        https: !options.target.plain_http,
        budget_left: options.max_requests,
        ..Context::default()
    };
    // The idle connection is opened first and left alone while the battery runs.
    let idle = if ctx.budget_left > 0 {
        ctx.budget_left -= 1;
        let upstream = Arc::clone(&upstream);
        let ping = upstream::request(
            &options.target,
            &options.keys,
            &Method::GET,
            "/auth/v2/ping",
            "",
            Signing::None,
            None,
        )?;
        let bound = options.idle_bound;
        Some(tokio::spawn(
            async move { upstream.idle_lifetime(ping, bound).await },
        ))
    } else {
        None
    };
    let mut idle = idle;
    let mut pacer = Pacer {
        every: options.pace,
        last: None,
    };
    let mut stopped: Option<String> = None;
    let mut findings = Vec::new();
    let mut sent = usize::from(idle.is_some());
    for probe in BATTERY {
        let mut answers: Vec<Answer> = Vec::new();
        let mut requests = Vec::new();
        let outcome = loop {
            let step = (probe.step)(&ctx, &answers);
            let ask = match step {
                Step::Send(ask) => ask,
                Step::Idle => break idle_outcome(idle.take(), options.idle_bound).await,
                other => break other,
            };
            if let Some(why) = &stopped {
                break Step::Unknown(format!("not asked: {why}"));
            }
            let signed = !matches!(ask.auth, Auth::None);
            if signed && probe.id != "keys" && !ctx.settled.contains_key("keys") {
                break Step::Unknown("not asked: the keys were refused".into());
            }
            if ctx.budget_left == 0 {
                break Step::Unknown(format!(
                    "not asked: the request budget (--max-requests {}) ran out",
                    options.max_requests
                ));
            }
            pacer.wait().await;
            let request = build(&options, &ctx, &ask)?;
            ctx.budget_left -= 1;
            sent += 1;
            match upstream.send(request).await {
                Ok(answer) => {
                    requests.push(RequestSeen {
                        method: "GET".into(),
                        path: path_pattern(&ask.path),
                        status: answer.status.as_u16(),
                    });
                    if answer.status == 429 {
                        stopped = Some(format!(
                            "the server answered 429 (rate limited) to request {sent}; run the probe again later"
                        ));
                    }
                    answers.push(answer);
                }
                Err(error) => break Step::Unknown(format!("no answer: {error}")),
            }
        };
        let (value, note, reason) = match outcome {
            Step::Settled(value) => (value, None, None),
            Step::Measured(value, note) => (value, Some(note), None),
            Step::Unknown(reason) => (Value::Null, None, Some(reason)),
            Step::Send(_) | Step::Idle => (Value::Null, None, Some("not settled".into())),
        };
        if !value.is_null() {
            ctx.settled.insert(probe.id, value.clone());
        }
        ctx.answers.insert(probe.id, answers);
        findings.push(Finding {
            id: probe.id.to_owned(),
            option: probe.option.map(str::to_owned),
            value,
            note,
            reason,
            fake_default: fake_default(probe.fake_default),
            tolerance: probe.tolerance,
            requests,
        });
    }
    let tenant = tenant_shape::TenantShape::of(&ctx);
    Ok(ProbeReport {
        schema_version: SCHEMA_VERSION,
        tool: concat!("duo-mock probe ", env!("CARGO_PKG_VERSION")).to_owned(),
        probed_at: rfc3339_now(),
        requests_sent: sent,
        max_requests: options.max_requests,
        pace_ms: u64::try_from(options.pace.as_millis()).unwrap_or(u64::MAX),
        duration_s: (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        stopped,
        behaviours: findings,
        tenant,
    })
}

async fn idle_outcome(
    idle: Option<tokio::task::JoinHandle<Result<Option<Duration>>>>,
    bound: Duration,
) -> Step {
    let Some(handle) = idle else {
        return Step::Unknown("not asked: the request budget ran out".into());
    };
    match handle.await {
        Ok(Ok(Some(lifetime))) => Step::Measured(
            json!((lifetime.as_secs_f64() * 10.0).round() / 10.0),
            "seconds from the answer to the server closing the idle connection".into(),
        ),
        Ok(Ok(None)) => Step::Unknown(format!(
            "still open after {} s (the probe's bound, --idle-wait-s)",
            bound.as_secs()
        )),
        Ok(Err(error)) => Step::Unknown(format!("no answer: {error}")),
        Err(error) => Step::Unknown(format!("the measurement stopped: {error}")),
    }
}

/// The request an [`Ask`] describes, signed as it says.
fn build(
    options: &ProbeOptions,
    ctx: &Context,
    ask: &Ask,
) -> Result<http::Request<http_body_util::Full<bytes::Bytes>>> {
    let server_now = unix_now()
        + ctx
            .settled
            .get("clock_offset_s")
            .and_then(Value::as_i64)
            .unwrap_or(0);
    let target = &options.target;
    let wrong = Keys::new(&options.keys.ikey, WRONG_SKEY);
    let unknown = Keys {
        ikey: UNKNOWN_IKEY.to_owned(),
        key: options.keys.key.clone(),
    };
    let v5 = |date| Signing::Signed {
        scheme: Scheme::V5,
        date,
    };
    let (keys, signing) = match ask.auth {
        Auth::None => (&options.keys, Signing::None),
        Auth::Signed(scheme) => (
            &options.keys,
            Signing::Signed {
                scheme,
                date: server_now,
            },
        ),
        Auth::Dated(shift) => (&options.keys, v5(server_now - shift)),
        Auth::WrongKey => (&wrong, v5(server_now)),
        Auth::UnknownIkey(shift) => (&unknown, v5(server_now - shift)),
        Auth::NoDate => (&options.keys, v5(server_now)),
    };
    let mut request = upstream::request(target, keys, &Method::GET, &ask.path, &ask.query, signing, None)?;
    if ask.auth == Auth::NoDate {
        request.headers_mut().remove(http::header::DATE);
    }
    Ok(request)
}

/// The fake's default for a row, as a value.
fn fake_default(default: FakeDefault) -> Value {
    match default {
        FakeDefault::Json(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        FakeDefault::FieldsOf(list) => fake_fields(list),
        FakeDefault::TenantFact => Value::Null,
    }
}

/// The fields of the objects of `list` in a tenant generated with the default options.
fn fake_fields(list: &str) -> Value {
    let built = crate::Scenario::builder()
        .users(60)
        .admins(6)
        .groups(6)
        .build()
        .and_then(|s| crate::generate::build(&s));
    let Ok(tenant) = built else {
        return Value::Null;
    };
    let objects = match list {
        "users" => &tenant.users,
        "admins" => &tenant.admins,
        _ => &tenant.groups,
    };
    let mut keys: Vec<String> = (0..objects.len())
        .filter_map(|i| objects.item(i))
        .filter_map(|bytes| serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes).ok())
        .flat_map(|o| o.keys().cloned().collect::<Vec<_>>())
        .collect();
    keys.sort();
    keys.dedup();
    json!(keys)
}

/// Now as RFC 3339 in UTC, to the second.
pub(crate) fn rfc3339_now() -> String {
    let now = unix_now();
    let days = now.div_euclid(86_400);
    let secs = now.rem_euclid(86_400);
    let (y, m, d) = duo_auth::date::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Writes `DIR/probe.json` and `DIR/scenario.toml` (the folder is made if missing).
pub fn write(dir: &Path, report: &ProbeReport) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let json = serde_json::to_vec_pretty(report).map_err(|e| probe_error(e.to_string()))?;
    let path = dir.join("probe.json");
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    let text = scenario(report, &dir.join("scenario.toml").display().to_string())?;
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(())
}

/// The integration of a probed scenario (test keys, like every scenario's).
pub const SCENARIO_IKEY: &str = "DIPR0BEDTENANT000001";
const SCENARIO_SKEY: &str = "pr0bedTenantTestKeyN0tTheProbedOne000001";

/// An option's key, value and the finding it comes from.
type OptionLine<'a> = (String, TomlValue, &'a Finding);

/// A scenario with the probed options and the tenant's shape.
pub fn scenario(report: &ProbeReport, origin: &str) -> Result<String> {
    let mut w = ScenarioWriter::new();
    w.comment(&format!(
        "Made by `duo-mock probe` on {}: the probed server's options and its tenant's sizes and shape.",
        report.probed_at
    ));
    w.comment("It holds no name, e-mail, phone number or id of the probed tenant: its users are generated.");
    w.key(
        "description",
        format!("A tenant shaped like the one probed on {}", report.probed_at),
    );
    w.table("tenant")
        .key("name", "Probed tenant")
        .key("api_hostname", "api-00000000.duosecurity.com")
        .key("seed", 1_u64);
    report.tenant.write(&mut w);

    let grant_on = |id: &str| report.finding(id).is_some_and(|f| f.value == json!("on"));
    let mut grants = Vec::new();
    if report.finding("keys").is_some_and(|f| !f.value.is_null())
        && report.finding("users_total").is_some_and(|f| !f.value.is_null())
    {
        grants.push("Grant read resource");
    }
    if report.finding("admins_total").is_some_and(|f| !f.value.is_null()) {
        grants.push("Grant administrators");
    }
    if grant_on("grant_read_information") {
        grants.push("Grant read information");
    }
    if grant_on("grant_settings") {
        grants.push("Grant settings");
    }
    w.array_table("integrations")
        .key("name", "probe")
        .key("ikey", SCENARIO_IKEY)
        .key("skey", SCENARIO_SKEY)
        .key("grants", grants);

    // Options by table: `options`, `options.max_limit`, `options.limits`.
    let mut tables: Vec<(&str, Vec<OptionLine<'_>>)> = Vec::new();
    for finding in &report.behaviours {
        let Some(option) = &finding.option else {
            continue;
        };
        let Some(value) = option_value(finding) else {
            continue;
        };
        let (table, key) = option.rsplit_once('.').unwrap_or(("options", option));
        let (key, value) = if key == "header_read_timeout_ms" {
            // Seconds measured; the option is milliseconds, to the tenth of a second.
            let ms = value_f64(&finding.value).map_or(15_000, |s| ((s * 10.0).round() as u64).max(1) * 100);
            (key.to_owned(), TomlValue::from(ms))
        } else {
            (key.to_owned(), value)
        };
        match tables.iter_mut().find(|(t, _)| *t == table) {
            Some((_, keys)) => keys.push((key, value, finding)),
            None => tables.push((table, vec![(key, value, finding)])),
        }
    }
    for (table, keys) in tables {
        w.table(table);
        for (key, value, finding) in keys {
            if let Some(request) = finding.requests.first() {
                w.comment(&format!(
                    "{}: {} {} answered {}",
                    finding.id, request.method, request.path, request.status
                ));
            }
            w.key(&key, value);
        }
    }
    w.finish(origin)
}

fn value_f64(value: &Value) -> Option<f64> {
    value.as_f64()
}

/// A finding's value as the option's TOML value.
fn option_value(finding: &Finding) -> Option<TomlValue> {
    match &finding.value {
        Value::Bool(b) => Some((*b).into()),
        Value::String(s) => Some(s.as_str().into()),
        Value::Number(n) => n
            .as_i64()
            .map(TomlValue::Int)
            .or_else(|| n.as_f64().map(TomlValue::Float)),
        _ => None,
    }
}

/// Whether a probed value agrees with another (the fake's default, or another probe's).
pub fn agrees(a: &Value, b: &Value, tolerance: u32) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if tolerance > 0 => (x - y).abs() <= f64::from(tolerance),
        _ => a == b,
    }
}

/// Reads `DIR/probe.json`.
pub fn read(dir: &Path) -> Result<ProbeReport> {
    let path = dir.join("probe.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| probe_error(format!("{}: not a probe.json: {e}", path.display())))
}

/// The row-by-row comparison `probe --compare` prints.
pub fn compare(report: &ProbeReport) -> String {
    use std::fmt::Write as _;
    let show = |v: &Value| match v {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => {
            let text = other.to_string();
            if text.chars().count() > 48 {
                format!("{}…", text.chars().take(47).collect::<String>())
            } else {
                text
            }
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<36} {:<34} {:<22} {:<22} verdict",
        "behaviour", "option", "fake default", "probed"
    );
    let (mut differ, mut unknown) = (0, 0);
    for f in &report.behaviours {
        let verdict = if f.value.is_null() {
            unknown += 1;
            format!("not told: {}", f.reason.as_deref().unwrap_or(""))
        } else if f.fake_default.is_null() {
            "the tenant's".to_owned()
        } else if agrees(&f.value, &f.fake_default, f.tolerance) {
            "same".to_owned()
        } else {
            differ += 1;
            "DIFFERS".to_owned()
        };
        let _ = writeln!(
            out,
            "{:<36} {:<34} {:<22} {:<22} {verdict}",
            f.id,
            f.option.as_deref().unwrap_or("-"),
            show(&f.fake_default),
            show(&f.value)
        );
        if verdict == "DIFFERS" && f.value.is_array() {
            let _ = writeln!(out, "    probed:       {}", f.value);
            let _ = writeln!(out, "    fake default: {}", f.fake_default);
        }
    }
    let _ = writeln!(
        out,
        "\n{differ} behaviour(s) differ from the fake's defaults; {unknown} could not be told ({} requests in {} s{}).",
        report.requests_sent,
        report.duration_s,
        report
            .stopped
            .as_deref()
            .map(|s| format!("; stopped: {s}"))
            .unwrap_or_default()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_battery_is_documented_and_has_a_unique_id() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/fidelity.md")).unwrap();
        let mut ids = std::collections::HashSet::new();
        for probe in BATTERY {
            assert!(ids.insert(probe.id), "{} twice", probe.id);
            assert!(
                doc.contains(&format!("| `{}` |", probe.id)),
                "docs/fidelity.md has no row for {}",
                probe.id
            );
            if let FakeDefault::Json(text) = probe.fake_default {
                assert!(
                    serde_json::from_str::<Value>(text).is_ok(),
                    "{}: {text}",
                    probe.id
                );
            }
        }
    }

    #[test]
    fn values_agree_within_a_rows_tolerance_only() {
        assert!(agrees(&json!(120), &json!(135), 30));
        assert!(!agrees(&json!(120), &json!(151), 30));
        assert!(agrees(&json!("lower"), &json!("lower"), 0));
        assert!(!agrees(&json!(1), &json!(2), 0));
    }
}
