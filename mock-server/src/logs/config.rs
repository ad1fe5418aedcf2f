//! The scenario's `[logs]` table: how many events of each log a day, when in the day, of what
//! mix, and the knobs for what Duo's logs leave open (`scenarios/README.md`, `docs/fidelity.md`).

use std::collections::BTreeMap;

use serde::Deserialize;

/// `[logs]`: every log is empty unless its own table (`[logs.authentication]`…) is present.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogsConfig {
    /// How far back events exist and `mintime` may reach (Duo: 180 days).
    pub retention_days: u32,
    /// A `mintime` this much older than the retention is still accepted (a client computes
    /// "now − 180 days" an instant before its request arrives); 0 checks to the millisecond.
    pub retention_grace_s: u32,
    /// An event becomes visible this long after it happened (Duo: "two minutes")…
    pub ingestion_delay_s: u32,
    /// …plus up to this much more (uniform)…
    pub ingestion_jitter_s: u32,
    /// …except this share of events, which arrive later still…
    pub late_share: f64,
    /// …up to this long after the delay.
    pub late_max_s: u32,
    /// Successful authentications after the tenant's anchor. Off by default: a user's
    /// `last_login` is then exactly their latest success in the log (the objects are a snapshot
    /// at the anchor). On: successes go on at the declared rate, and `last_login` lags the log.
    pub live_successes: bool,
    /// When a v2 page carries a `next_offset`.
    pub final_cursor: FinalCursor,
    /// What a v1 log (1000 events a call) does with the events of the 1000th event's second.
    pub v1_ties: V1Ties,
    /// v1 authentication events in display strings (`"Duo Push"`, `"SUCCESS"`, `"User approved"`).
    pub v1_display_strings: bool,
    /// Shape of `metadata.total_objects` per v2 log.
    pub total_objects: TotalObjects,
    /// Activity events' `action`: `{"details":null,"name":…}` or the name alone.
    pub activity_action: ActivityAction,
    /// Trust Monitor's `limit`: default and largest.
    pub trust_monitor_limit: [u32; 2],
    /// Authentication events carry `adaptive_trust_assessments` (as newer events do).
    pub adaptive_trust_assessments: bool,
    /// Shape of the info reports' bodies.
    pub info_reports: super::reports::ReportShape,
    /// Type drift served on a share of events (failure mode L17).
    pub drift: Vec<Drift>,
    /// Share of events that carry each drift.
    pub drift_share: f64,
    /// `[logs.authentication]`: `/admin/v2/logs/authentication` and the v1 legacy log.
    pub authentication: Option<LogTable>,
    /// `[logs.administrator]`: `/admin/v1/logs/administrator`.
    pub administrator: Option<LogTable>,
    /// `[logs.telephony]`: `/admin/v1/logs/telephony` and `/admin/v2/logs/telephony`.
    pub telephony: Option<LogTable>,
    /// `[logs.activity]`: `/admin/v2/logs/activity`.
    pub activity: Option<LogTable>,
    /// `[logs.offline_enrollment]`: `/admin/v1/logs/offline_enrollment`.
    pub offline_enrollment: Option<LogTable>,
    /// `[logs.trust_monitor]`: `/admin/v1/trust_monitor/events`.
    pub trust_monitor: Option<LogTable>,
}

impl Default for LogsConfig {
    fn default() -> Self {
        Self {
            retention_days: 180,
            retention_grace_s: 60,
            ingestion_delay_s: 120,
            ingestion_jitter_s: 60,
            late_share: 0.02,
            late_max_s: 600,
            live_successes: false,
            final_cursor: FinalCursor::default(),
            v1_ties: V1Ties::default(),
            v1_display_strings: false,
            total_objects: TotalObjects::default(),
            activity_action: ActivityAction::default(),
            trust_monitor_limit: [100, 500],
            adaptive_trust_assessments: true,
            info_reports: super::reports::ReportShape::default(),
            drift: Vec::new(),
            drift_share: 0.1,
            authentication: None,
            administrator: None,
            telephony: None,
            activity: None,
            offline_enrollment: None,
            trust_monitor: None,
        }
    }
}

/// When a v2 page (authentication, telephony, activity) carries a `next_offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum FinalCursor {
    /// Whenever the page is full, as a search-after store answers: a last page that happens to be
    /// full still carries one, and the next call gets an empty page with `null` (seen by
    /// Elastic's collector, failure mode L12).
    #[default]
    FullPage,
    /// Only when more events follow.
    Exact,
}

/// What a v1 log does at its 1000-event cap with the rest of the last event's second (L4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum V1Ties {
    /// Return every event of that second too ("more or fewer than 1000", Duo's docs).
    #[default]
    Include,
    /// Stop at exactly 1000: a client that goes on at the last second + 1 loses the rest.
    Cut,
    /// Leave out that whole second (fewer than 1000): going on at the last timestamp is exact.
    Drop,
}

/// `metadata.total_objects`: an integer or `{"relation":"eq","value":N}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TotalShape {
    /// `2233`.
    Int,
    /// `{"relation":"eq","value":2233}`.
    Relation,
}

/// `total_objects` shape per v2 log.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TotalObjects {
    /// Authentication v2 (captures show an integer).
    pub authentication: TotalShape,
    /// Telephony v2 (a capture shows an integer, Duo's Python client documents an object).
    pub telephony: TotalShape,
    /// Activity (Duo's Python client documents an object).
    pub activity: TotalShape,
}

impl Default for TotalObjects {
    fn default() -> Self {
        Self {
            authentication: TotalShape::Int,
            telephony: TotalShape::Int,
            activity: TotalShape::Relation,
        }
    }
}

/// Activity events' `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ActivityAction {
    /// `{"details":null,"name":"user_update"}`, as captured events show.
    #[default]
    Object,
    /// `"user_update"`, as Duo's Python client documents it.
    String,
}

/// A variation of types seen in Duo's logs that breaks strict parsers (L17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Drift {
    /// `access_device.security_agents` as `"unknown"` or `null` instead of a list.
    SecurityAgents,
    /// `access_device.ip` with a port (`"1.2.3.4:1234"`).
    IpWithPort,
    /// `is_encryption_enabled` and its siblings as `"unknown"` instead of a boolean.
    UnknownBooleans,
}

/// One log's table (`[logs.authentication]`, `[logs.telephony]`…). Volume and timing are common;
/// each mix belongs to the logs named in its comment, and is refused in another log's table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogTable {
    /// Expected events a day (fractions allowed: 0.5 is one every other day).
    #[serde(default = "default_per_day")]
    pub per_day: f64,
    /// Relative weights of the 24 UTC hours of the day.
    #[serde(default = "office_hours")]
    pub hours: [f64; 24],
    /// Share of events that happen at the very microsecond of the one before them (ties in the
    /// same second and millisecond, failure mode L3).
    #[serde(default)]
    pub ties: f64,
    /// Authentication: weights of `success`, `denied`, `fraud`, `error` and `enrollment` events.
    pub mix: Option<BTreeMap<String, f64>>,
    /// Authentication: weights of factors (Duo's names, e.g. `duo_push`,
    /// `"WebAuthn Security Key"`); a user without the device a factor needs uses one they have.
    pub factors: Option<BTreeMap<String, f64>>,
    /// Authentication: weights of the reasons of denied attempts.
    pub denied_reasons: Option<BTreeMap<String, f64>>,
    /// Authentication: integrations (by scenario name) users sign in to; default: every
    /// integration that is not an Admin or Accounts API application, or all when there is none.
    pub applications: Option<Vec<String>>,
    /// Administrator, activity, offline enrollment: weights of actions.
    pub actions: Option<BTreeMap<String, f64>>,
    /// Telephony (`sms`, `phone`) and Trust Monitor (`auth`, `bypass_status`,
    /// `device_registration`): weights of event types.
    pub types: Option<BTreeMap<String, f64>>,
    /// Telephony: weights of contexts (`authentication`, `enrollment`, `administrator login`,
    /// `verify`).
    pub contexts: Option<BTreeMap<String, f64>>,
    /// Telephony: share of messages and calls abroad, which cost more credits.
    pub international: Option<f64>,
}

fn default_per_day() -> f64 {
    100.0
}

/// Quiet nights, a morning peak and a working day (UTC).
pub fn office_hours() -> [f64; 24] {
    [
        0.3, 0.2, 0.2, 0.2, 0.3, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 4.5, 3.5, 4.5, 5.0, 4.5, 4.0, 3.0, 2.0, 1.5,
        1.0, 0.8, 0.6, 0.4,
    ]
}

fn weights(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

pub fn default_auth_mix() -> BTreeMap<String, f64> {
    weights(&[
        ("success", 90.0),
        ("denied", 7.0),
        ("fraud", 0.3),
        ("error", 0.7),
        ("enrollment", 2.0),
    ])
}

pub fn default_factors() -> BTreeMap<String, f64> {
    weights(&[
        ("duo_push", 55.0),
        ("phone_call", 4.0),
        ("sms_passcode", 6.0),
        ("duo_mobile_passcode", 8.0),
        ("hardware_token", 3.0),
        ("WebAuthn Security Key", 5.0),
        ("bypass_code", 1.0),
        ("remembered_device", 12.0),
        ("trusted_network", 6.0),
    ])
}

pub fn default_denied_reasons() -> BTreeMap<String, f64> {
    weights(&[
        ("no_response", 25.0),
        ("invalid_passcode", 18.0),
        ("user_cancelled", 12.0),
        ("denied_by_policy", 8.0),
        ("deny_unenrolled_user", 6.0),
        ("locked_out", 5.0),
        ("location_restricted", 4.0),
        ("user_disabled", 3.0),
        ("out_of_date", 3.0),
        ("platform_restricted", 3.0),
        ("version_restricted", 3.0),
        ("anomalous_push", 2.0),
        ("no_screen_lock", 2.0),
        ("call_timed_out", 2.0),
        ("anonymous_ip", 2.0),
        ("invalid_device", 2.0),
    ])
}

pub fn default_telephony_types() -> BTreeMap<String, f64> {
    weights(&[("sms", 70.0), ("phone", 30.0)])
}

pub fn default_telephony_contexts() -> BTreeMap<String, f64> {
    weights(&[
        ("authentication", 85.0),
        ("enrollment", 10.0),
        ("administrator login", 3.0),
        ("verify", 2.0),
    ])
}

pub fn default_trust_monitor_types() -> BTreeMap<String, f64> {
    weights(&[
        ("auth", 75.0),
        ("bypass_status", 20.0),
        ("device_registration", 5.0),
    ])
}

/// The usual administrator-log mix (actions Duo's Python client lists, and a few seen since).
pub fn default_admin_actions() -> BTreeMap<String, f64> {
    weights(&[
        ("admin_login", 40.0),
        ("admin_login_error", 3.0),
        ("user_update", 14.0),
        ("user_create", 5.0),
        ("user_delete", 2.0),
        ("group_update", 5.0),
        ("group_create", 1.0),
        ("phone_create", 3.0),
        ("phone_update", 2.0),
        ("phone_delete", 1.0),
        ("admin_update", 2.0),
        ("admin_create", 1.0),
        ("integration_update", 2.0),
        ("integration_create", 0.5),
        ("customer_update", 0.5),
    ])
}

/// The usual activity-log mix.
pub fn default_activity_actions() -> BTreeMap<String, f64> {
    weights(&[
        ("admin_login", 30.0),
        ("user_update", 20.0),
        ("user_create", 6.0),
        ("user_delete", 2.0),
        ("group_update", 6.0),
        ("phone_create", 5.0),
        ("phone_delete", 1.0),
        ("webauthncredential_create", 4.0),
        ("integration_update", 2.0),
        ("policy_update", 2.0),
        ("admin_update", 2.0),
    ])
}

/// The usual offline-enrollment mix.
pub fn default_offline_actions() -> BTreeMap<String, f64> {
    weights(&[
        ("o2fa_user_provisioned", 70.0),
        ("o2fa_user_reenrolled", 20.0),
        ("o2fa_user_deprovisioned", 10.0),
    ])
}

/// Authentication results, as the `results` filter and events spell them.
pub const RESULTS: [&str; 4] = ["success", "denied", "fraud", "error"];

/// Factors Duo's docs list for the authentication log.
pub const FACTORS: [&str; 18] = [
    "duo_push",
    "phone_call",
    "u2f_token",
    "hardware_token",
    "bypass_code",
    "sms_passcode",
    "duo_mobile_passcode",
    "yubikey_code",
    "passcode",
    "digipass_go_7_token",
    "WebAuthn Security Key",
    "WebAuthn Chrome Touch ID",
    "WebAuthn Credential",
    "not_available",
    "sms_refresh",
    "remembered_device",
    "trusted_network",
    "trusted_mobile_authenticator",
];

/// Reasons Duo's docs list for the authentication log.
pub const REASONS: [&str; 46] = [
    "user_marked_fraud",
    "deny_unenrolled_user",
    "error",
    "locked_out",
    "user_disabled",
    "user_cancelled",
    "invalid_passcode",
    "no_response",
    "no_keys_pressed",
    "call_timed_out",
    "location_restricted",
    "factor_restricted",
    "platform_restricted",
    "version_restricted",
    "rooted_device",
    "no_screen_lock",
    "touch_id_disabled",
    "no_disk_encryption",
    "anonymous_ip",
    "out_of_date",
    "denied_by_policy",
    "software_restricted",
    "no_duo_certificate_present",
    "user_provided_invalid_certificate",
    "could_not_determine_if_endpoint_was_trusted",
    "invalid_management_certificate_collection_state",
    "no_referring_hostname_provided",
    "invalid_referring_hostname_provided",
    "no_web_referer_match",
    "endpoint_failed_google_verification",
    "endpoint_is_not_trusted",
    "invalid_device",
    "anomalous_push",
    "endpoint_is_not_in_management_system",
    "no_activated_duo_mobile_account",
    "allow_unenrolled_user",
    "bypass_user",
    "trusted_network",
    "remembered_device",
    "trusted_location",
    "user_approved",
    "valid_passcode",
    "allowed_by_policy",
    "allow_unenrolled_user_on_trusted_network",
    "user_not_in_permitted_group",
    "user_mistake",
];

impl LogsConfig {
    /// Checks numbers, shares, weights and names; `integrations` are the scenario's names.
    pub fn check(&self, integrations: &[&str]) -> Result<(), String> {
        let share = |name: &str, value: f64| {
            if (0.0..=1.0).contains(&value) {
                Ok(())
            } else {
                Err(format!(
                    "logs.{name} is a share and must be between 0 and 1, not {value}"
                ))
            }
        };
        share("late_share", self.late_share)?;
        share("drift_share", self.drift_share)?;
        if self.retention_days == 0 || self.retention_days > 3650 {
            return Err("logs.retention_days must be between 1 and 3650".into());
        }
        let [default_limit, max_limit] = self.trust_monitor_limit;
        if default_limit == 0 || max_limit < default_limit || max_limit > 100_000 {
            return Err(
                "logs.trust_monitor_limit is [default, largest], 1 <= default <= largest <= 100000".into(),
            );
        }
        const AUTH: [&str; 4] = ["mix", "factors", "denied_reasons", "applications"];
        const ACTIONS: [&str; 1] = ["actions"];
        const TELEPHONY: [&str; 3] = ["types", "contexts", "international"];
        const TRUST: [&str; 1] = ["types"];
        for (name, table, allowed) in [
            ("authentication", &self.authentication, &AUTH[..]),
            ("administrator", &self.administrator, &ACTIONS[..]),
            ("telephony", &self.telephony, &TELEPHONY[..]),
            ("activity", &self.activity, &ACTIONS[..]),
            ("offline_enrollment", &self.offline_enrollment, &ACTIONS[..]),
            ("trust_monitor", &self.trust_monitor, &TRUST[..]),
        ] {
            let Some(table) = table else { continue };
            table.check(name, allowed, integrations)?;
        }
        if let Some(international) = self.telephony.as_ref().and_then(|t| t.international) {
            share("telephony.international", international)?;
        }
        Ok(())
    }
}

/// Most events a log may declare a day: far above any tenant, low enough that counts fit.
const MAX_PER_DAY: f64 = 1e9;

/// A table's mix, by key, and the names it may hold (`None`: any).
type Enumerated<'a> = (&'a str, &'a Option<BTreeMap<String, f64>>, Option<&'a [&'a str]>);

impl LogTable {
    fn check(&self, name: &str, allowed: &[&str], integrations: &[&str]) -> Result<(), String> {
        if !(0.0..=MAX_PER_DAY).contains(&self.per_day) {
            return Err(format!(
                "logs.{name}.per_day must be between 0 and {MAX_PER_DAY}, not {}",
                self.per_day
            ));
        }
        if self.hours.iter().any(|w| !(0.0..=1e6).contains(w)) || self.hours.iter().sum::<f64>() <= 0.0 {
            return Err(format!(
                "logs.{name}.hours are 24 weights between 0 and 1000000, not all 0"
            ));
        }
        if !(0.0..=1.0).contains(&self.ties) {
            return Err(format!(
                "logs.{name}.ties is a share between 0 and 1, not {}",
                self.ties
            ));
        }
        let given = [
            ("mix", self.mix.is_some()),
            ("factors", self.factors.is_some()),
            ("denied_reasons", self.denied_reasons.is_some()),
            ("applications", self.applications.is_some()),
            ("actions", self.actions.is_some()),
            ("types", self.types.is_some()),
            ("contexts", self.contexts.is_some()),
            ("international", self.international.is_some()),
        ];
        if let Some((key, _)) = given.iter().find(|(key, set)| *set && !allowed.contains(key)) {
            return Err(format!(
                "logs.{name} has no `{key}` (it takes per_day, hours, ties{})",
                allowed.iter().map(|k| format!(", {k}")).collect::<String>()
            ));
        }
        let enumerated: [Enumerated<'_>; 6] = [
            (
                "mix",
                &self.mix,
                Some(&["success", "denied", "fraud", "error", "enrollment"]),
            ),
            ("factors", &self.factors, Some(&FACTORS)),
            ("denied_reasons", &self.denied_reasons, Some(&REASONS)),
            ("actions", &self.actions, None),
            (
                "types",
                &self.types,
                Some(if name == "telephony" {
                    &["sms", "phone"][..]
                } else {
                    &["auth", "bypass_status", "device_registration"][..]
                }),
            ),
            (
                "contexts",
                &self.contexts,
                Some(&["authentication", "enrollment", "administrator login", "verify"]),
            ),
        ];
        for (key, mix, known) in enumerated {
            if let Some(mix) = mix {
                check_mix(&format!("{name}.{key}"), mix, known)?;
            }
        }
        for app in self.applications.iter().flatten() {
            if !integrations.contains(&app.as_str()) {
                return Err(format!(
                    "logs.{name}.applications names {app:?}, which is not an integration of the scenario"
                ));
            }
        }
        Ok(())
    }
}

fn check_mix(name: &str, mix: &BTreeMap<String, f64>, known: Option<&[&str]>) -> Result<(), String> {
    for (key, weight) in mix {
        if let Some(known) = known
            && !known.contains(&key.as_str())
        {
            return Err(format!(
                "logs.{name}: {key:?} is not one of: {}",
                known.join(", ")
            ));
        }
        if !(0.0..=1e9).contains(weight) {
            return Err(format!(
                "logs.{name}.{key} must be a weight between 0 and 1e9, not {weight}"
            ));
        }
    }
    if mix.values().sum::<f64>() <= 0.0 {
        return Err(format!("logs.{name}: the weights are all 0"));
    }
    Ok(())
}
