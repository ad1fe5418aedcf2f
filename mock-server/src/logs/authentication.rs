//! The authentication log: who tried to sign in to what, with which factor and device, and how it
//! ended. Results and enrollments are the log's classes (counted without making events); a
//! success at `t` is a user whose last login is after `t` (see the module `logs`).

use super::access::{Access, NO_LOCATION, write_iso, write_name, write_uuid};
use super::answer::Context;
use super::config::{self, Drift, FACTORS, LogTable, LogsConfig, REASONS};
use super::mix::Mix;
use super::people::{Device, DeviceKind, People, Person, Status};
use super::random::{Draws, seed_of};
use super::{Event, NO_DEVICE, NOBODY};
use crate::model::{write_int, write_str};

/// Classes, in the order of [`CLASS_NAMES`].
pub(crate) const SUCCESS: u8 = 0;
pub(crate) const DENIED: u8 = 1;
pub(crate) const FRAUD: u8 = 2;
pub(crate) const ERROR: u8 = 3;
pub(crate) const ENROLLMENT: u8 = 4;
/// The classes' names in the scenario's `mix`.
pub(crate) const CLASS_NAMES: [&str; 5] = ["success", "denied", "fraud", "error", "enrollment"];

/// What authentication events are made of.
#[derive(Debug)]
pub(crate) struct Tables {
    shares: Vec<f64>,
    factors: Mix,
    /// Index into [`FACTORS`] of each factor of the mix.
    factor_ids: Vec<u16>,
    denied: Mix,
    denied_ids: Vec<u16>,
    live_successes: bool,
}

fn factor(name: &str) -> u16 {
    FACTORS
        .iter()
        .position(|f| *f == name)
        .and_then(|i| u16::try_from(i).ok())
        .unwrap_or(0)
}

fn reason(name: &str) -> u16 {
    REASONS
        .iter()
        .position(|r| *r == name)
        .and_then(|i| u16::try_from(i).ok())
        .unwrap_or(0)
}

/// No reason (enrollments).
pub(crate) const NO_REASON: u16 = u16::MAX;

impl Tables {
    pub(crate) fn new(table: &LogTable, logs: &LogsConfig) -> Self {
        let mix = table.mix.clone().unwrap_or_else(config::default_auth_mix);
        let total: f64 = mix.values().sum();
        let shares = CLASS_NAMES
            .iter()
            .map(|name| mix.get(*name).copied().unwrap_or(0.0) / total.max(f64::MIN_POSITIVE))
            .collect();
        let factors = Mix::given_or(table.factors.as_ref(), config::default_factors);
        let denied = Mix::given_or(table.denied_reasons.as_ref(), config::default_denied_reasons);
        Self {
            shares,
            factor_ids: (0..factors.len())
                .map(|i| factor(factors.name(u16::try_from(i).unwrap_or(0))))
                .collect(),
            denied_ids: (0..denied.len())
                .map(|i| reason(denied.name(u16::try_from(i).unwrap_or(0))))
                .collect(),
            factors,
            denied,
            live_successes: logs.live_successes,
        }
    }

    pub(crate) fn shares(&self) -> Vec<f64> {
        self.shares.clone()
    }

    /// Decides who, what, with which device and why: everything filters look at.
    pub(crate) fn fill(&self, people: &People, event: &mut Event, draws: &mut Draws, subject: Option<u32>) {
        let second = event.at_us.div_euclid(1_000_000);
        let who = subject.unwrap_or_else(|| match event.class {
            SUCCESS => successful_user(people, second, draws, self.live_successes),
            FRAUD if !people.with_phone.is_empty() => people.with_phone[draws.index(people.with_phone.len())],
            _ => any_user(people, second, draws),
        });
        event.subject = who;
        event.app = u16::try_from(draws.index(people.applications.len())).unwrap_or(0);
        let Some(person) = people.persons.get(who as usize) else {
            return;
        };
        let devices = people.devices(person);
        let wanted = self.factor_ids[usize::from(self.factors.pick(draws))];
        let (factor_id, device) = usable(wanted, devices, draws);
        event.what = factor_id;
        event.device = device;
        let name = FACTORS[usize::from(factor_id)];
        event.why = match event.class {
            SUCCESS => reason(success_reason(name, person)),
            FRAUD => {
                event.what = factor(
                    if devices
                        .iter()
                        .any(|d| matches!(d.kind, DeviceKind::Phone { activated: true }))
                    {
                        "duo_push"
                    } else {
                        "phone_call"
                    },
                );
                event.device = first_device(devices, |k| matches!(k, DeviceKind::Phone { .. }));
                reason("user_marked_fraud")
            }
            ERROR => reason("error"),
            ENROLLMENT => {
                event.what = factor("not_available");
                event.device = NO_DEVICE;
                NO_REASON
            }
            _ => match person.status {
                Status::Disabled => reason("user_disabled"),
                Status::LockedOut => reason("locked_out"),
                _ if devices.is_empty() => {
                    event.what = factor("not_available");
                    reason("deny_unenrolled_user")
                }
                _ => self.denied_ids[usize::from(self.denied.pick(draws))],
            },
        };
    }
}

/// Among users whose last login is after `second`, created by then: a success at `second`
/// cannot be anyone else's. Past the latest last login (live successes only): any user who ever
/// logged in.
fn successful_user(people: &People, second: i64, draws: &mut Draws, live: bool) -> u32 {
    let logins = &people.logins;
    let count = logins.who.len();
    if count == 0 {
        return any_user(people, second, draws);
    }
    let from = logins.first_at_or_after(second.saturating_add(1));
    if from >= count {
        return if live {
            logins.who[draws.index(count)]
        } else {
            logins.who[count - 1]
        };
    }
    for _ in 0..8 {
        let who = logins.who[from + draws.index(count - from)];
        if people
            .persons
            .get(who as usize)
            .is_some_and(|p| p.created <= second)
        {
            return who;
        }
    }
    logins.who[count - 1]
}

/// Any user created by `second` (the oldest when nobody was).
pub(crate) fn any_user(people: &People, second: i64, draws: &mut Draws) -> u32 {
    let count = people.persons.len();
    if count == 0 {
        return NOBODY;
    }
    for _ in 0..8 {
        let i = draws.index(count);
        if people.persons[i].created <= second {
            return u32::try_from(i).unwrap_or(NOBODY);
        }
    }
    people.oldest
}

fn first_device(devices: &[Device], wanted: impl Fn(DeviceKind) -> bool) -> u16 {
    devices
        .iter()
        .position(|d| wanted(d.kind))
        .and_then(|i| u16::try_from(i).ok())
        .unwrap_or(NO_DEVICE)
}

/// The factor the user could use (the one asked for if they have its device, else what they
/// have), and the device.
/// The device a factor needs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Need {
    ActivatedPhone,
    Phone,
    Token,
    WebAuthn,
    /// A device no user has (U2F).
    Unavailable,
}

impl Need {
    fn of(factor: &str) -> Option<Self> {
        Some(match factor {
            "duo_push" | "duo_mobile_passcode" => Self::ActivatedPhone,
            "phone_call" | "sms_passcode" | "sms_refresh" => Self::Phone,
            "hardware_token" | "yubikey_code" | "digipass_go_7_token" => Self::Token,
            "WebAuthn Security Key" | "WebAuthn Chrome Touch ID" | "WebAuthn Credential" => Self::WebAuthn,
            "u2f_token" => Self::Unavailable,
            _ => return None,
        })
    }

    fn fits(self, kind: DeviceKind) -> bool {
        match (self, kind) {
            (Self::ActivatedPhone, DeviceKind::Phone { activated }) => activated,
            (Self::Phone, DeviceKind::Phone { .. }) => true,
            (Self::Token, DeviceKind::Token) | (Self::WebAuthn, DeviceKind::WebAuthn) => true,
            _ => false,
        }
    }
}

/// The factor the user could use (the one asked for if they have its device, else what they
/// have), and the device.
fn usable(wanted: u16, devices: &[Device], draws: &mut Draws) -> (u16, u16) {
    let Some(need) = Need::of(FACTORS[usize::from(wanted)]) else {
        return (wanted, NO_DEVICE);
    };
    let fitting = devices.iter().filter(|d| need.fits(d.kind)).count();
    if fitting > 0 {
        let k = draws.index(fitting);
        let at = devices
            .iter()
            .enumerate()
            .filter(|(_, d)| need.fits(d.kind))
            .nth(k)
            .map_or(0, |(i, _)| i);
        return (wanted, u16::try_from(at).unwrap_or(NO_DEVICE));
    }
    for (fallback, need) in [
        ("duo_push", Need::ActivatedPhone),
        ("phone_call", Need::Phone),
        ("hardware_token", Need::Token),
        ("WebAuthn Security Key", Need::WebAuthn),
    ] {
        let device = first_device(devices, |k| need.fits(k));
        if device != NO_DEVICE {
            return (factor(fallback), device);
        }
    }
    (factor("bypass_code"), NO_DEVICE)
}

fn success_reason(factor: &str, person: &Person) -> &'static str {
    match factor {
        "remembered_device" => "remembered_device",
        "trusted_network" => "trusted_network",
        "bypass_code"
        | "sms_passcode"
        | "duo_mobile_passcode"
        | "hardware_token"
        | "yubikey_code"
        | "passcode"
        | "digipass_go_7_token" => "valid_passcode",
        "not_available" if person.status == Status::Bypass => "bypass_user",
        "not_available" => "allow_unenrolled_user",
        _ => "user_approved",
    }
}

/// The result as events spell it.
pub(crate) fn result_name(class: u8) -> &'static str {
    match class {
        SUCCESS | ENROLLMENT => "success",
        DENIED => "denied",
        FRAUD => "fraud",
        _ => "error",
    }
}

/// Whether this event drifts in `what` (a share of events, when the scenario asks).
pub(crate) fn drifts(context: &Context<'_>, event: &Event, what: Drift) -> bool {
    context.config.drift.contains(&what)
        && Draws::new(seed_of(&[event.seed, 0xD1F7, what as u64])).chance(context.config.drift_share)
}

/// The event as `/admin/v2/logs/authentication` lists it (`event_type` as given: Trust
/// Monitor's `surfaced_auth` has `null`).
pub(crate) fn render_v2(context: &Context<'_>, event: &Event, event_type: Option<&str>, out: &mut Vec<u8>) {
    let Attempt {
        people,
        json,
        person,
        mut draws,
        home,
        access,
    } = Attempt::of(context, event);
    out.extend_from_slice(b"{\"access_device\":{");
    access.write_browser(out);
    out.extend_from_slice(b",\"epkey\":null,\"flash_version\":\"uninstalled\",\"hostname\":null,\"ip\":");
    let port = drifts(context, event, Drift::IpWithPort)
        .then(|| u16::try_from(draws.between(1024, 65535)).unwrap_or(1024));
    access.write_ip(port, out);
    let unknown = drifts(context, event, Drift::UnknownBooleans);
    for key in ["is_encryption_enabled", "is_firewall_enabled", "is_password_set"] {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        out.extend_from_slice(if unknown {
            b"\"unknown\""
        } else if draws.chance(0.9) {
            b"true"
        } else {
            b"false"
        });
    }
    out.extend_from_slice(b",\"java_version\":\"uninstalled\",\"location\":");
    access.write_location(out);
    out.push(b',');
    access.write_os(out);
    out.extend_from_slice(b",\"security_agents\":");
    if drifts(context, event, Drift::SecurityAgents) {
        out.extend_from_slice(if draws.chance(0.5) {
            b"\"unknown\""
        } else {
            b"null"
        });
    } else {
        out.extend_from_slice(b"[]");
    }
    out.push(b'}');
    if context.config.adaptive_trust_assessments {
        out.extend_from_slice(
            b",\"adaptive_trust_assessments\":{\"more_secure_auth\":{\"features_version\":\"3.0\",\"model_version\":\"2024.03.01.000\",\"policy_enabled\":false,\"reason\":\"Normal level of trust\",\"trust_level\":\"NORMAL\"},\"remember_me\":{\"features_version\":\"3.0\",\"model_version\":\"2024.03.01.000\",\"policy_enabled\":false,\"reason\":\"Remember me is not enabled\",\"trust_level\":\"UNSET\"}}",
        );
    }
    out.extend_from_slice(b",\"alias\":\"\",\"application\":");
    write_application(context, event, out);
    out.extend_from_slice(b",\"auth_device\":");
    let device = person.and_then(|p| people.devices(p).get(usize::from(event.device)));
    match device {
        Some(device) => {
            out.extend_from_slice(b"{\"ip\":");
            if matches!(device.kind, DeviceKind::Phone { activated: true }) {
                let phone_access = Access::draw(&mut draws, home);
                phone_access.write_ip(None, out);
                out.extend_from_slice(b",\"key\":");
                out.extend_from_slice(device.id.in_json(&json));
                out.extend_from_slice(b",\"location\":");
                phone_access.write_location(out);
            } else {
                out.extend_from_slice(b"null,\"key\":");
                out.extend_from_slice(device.id.in_json(&json));
                out.extend_from_slice(b",\"location\":");
                out.extend_from_slice(NO_LOCATION);
            }
            out.extend_from_slice(b",\"name\":");
            out.extend_from_slice(device.name.in_json(&json));
            out.push(b'}');
        }
        None => {
            out.extend_from_slice(b"{\"ip\":null,\"key\":null,\"location\":");
            out.extend_from_slice(NO_LOCATION);
            out.extend_from_slice(b",\"name\":null}");
        }
    }
    out.extend_from_slice(b",\"email\":");
    match person {
        Some(p) => out.extend_from_slice(p.email.in_json(&json)),
        None => out.extend_from_slice(b"\"\""),
    }
    out.extend_from_slice(b",\"event_type\":");
    match event_type {
        Some(kind) => write_name(out, kind),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"factor\":");
    write_name(out, FACTORS[usize::from(event.what)]);
    out.extend_from_slice(b",\"isotimestamp\":\"");
    write_iso(out, event.at_us, true);
    out.extend_from_slice(b"\",\"ood_software\":null,\"reason\":");
    match REASONS.get(usize::from(event.why)) {
        Some(reason) if event.why != NO_REASON => write_name(out, reason),
        _ => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"result\":\"");
    out.extend_from_slice(result_name(event.class).as_bytes());
    out.extend_from_slice(b"\",\"timestamp\":");
    write_int(out, event.at_us.div_euclid(1_000_000));
    out.extend_from_slice(b",\"trusted_endpoint_status\":");
    out.extend_from_slice(match draws.below(10) {
        0..=5 => b"\"not trusted\"",
        6..=8 => b"\"trusted\"",
        _ => b"\"unknown\"",
    });
    out.extend_from_slice(b",\"txid\":\"");
    write_txid(event, out);
    out.extend_from_slice(b"\",\"user\":{\"groups\":[");
    for (i, g) in people.groups_of(event.subject).iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(
            people
                .groups
                .get(*g as usize)
                .map_or(b"\"\"", |g| g.name.as_slice()),
        );
    }
    out.extend_from_slice(b"],");
    people.write_key_name(event.subject, out);
    out.extend_from_slice(b"}}");
}

/// What both renderings of an attempt start from: the user, their JSON, the event's draws, and
/// where (mostly their home) and from what they signed in.
struct Attempt<'a> {
    people: &'a People,
    json: bytes::Bytes,
    person: Option<&'a Person>,
    draws: Draws,
    home: u64,
    access: Access,
}

impl<'a> Attempt<'a> {
    fn of(context: &Context<'a>, event: &Event) -> Self {
        let people = context.people;
        let person = people.persons.get(event.subject as usize);
        let mut draws = Draws::new(seed_of(&[event.seed, 0xACCE55]));
        let home = person.map_or(0, |p| {
            seed_of(&[u64::from(event.subject), p.created.unsigned_abs()])
        });
        let access = Access::draw(&mut draws, home);
        Self {
            people,
            json: people.json(event.subject),
            person,
            draws,
            home,
            access,
        }
    }
}

/// `{"key":…,"name":…}` of the event's application.
pub(crate) fn write_application(context: &Context<'_>, event: &Event, out: &mut Vec<u8>) {
    match context.people.applications.get(usize::from(event.app)) {
        Some(app) => {
            out.extend_from_slice(b"{\"key\":");
            write_str(out, &app.ikey);
            out.extend_from_slice(b",\"name\":");
            out.extend_from_slice(&app.name);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"{\"key\":null,\"name\":null}"),
    }
}

/// The event's `txid`: the microsecond in its second, then its seed, in hex.
pub(crate) fn write_txid(event: &Event, out: &mut Vec<u8>) {
    write_uuid(
        out,
        event.at_us.rem_euclid(1_000_000).unsigned_abs(),
        5,
        event.seed,
    );
}

/// The event as the legacy `/admin/v1/logs/authentication` lists it.
pub(crate) fn render_v1(context: &Context<'_>, event: &Event, out: &mut Vec<u8>) {
    let Attempt {
        people,
        json,
        person,
        access,
        ..
    } = Attempt::of(context, event);
    let display = context.config.v1_display_strings;
    let factor = FACTORS[usize::from(event.what)];
    out.extend_from_slice(b"{\"factor\":");
    if display {
        write_str(out, &display_factor(factor));
    } else {
        write_str(out, factor);
    }
    out.extend_from_slice(b",\"integration\":");
    match people.applications.get(usize::from(event.app)) {
        Some(app) => out.extend_from_slice(&app.name),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"ip\":");
    access.write_ip(None, out);
    out.extend_from_slice(b",\"location\":");
    access.write_location(out);
    out.extend_from_slice(b",\"new_enrollment\":");
    out.extend_from_slice(if event.class == ENROLLMENT {
        b"true"
    } else {
        b"false"
    });
    out.extend_from_slice(b",\"reason\":");
    match REASONS.get(usize::from(event.why)) {
        Some(reason) if event.why != NO_REASON && display => write_str(out, &display_reason(reason)),
        Some(reason) if event.why != NO_REASON => write_str(out, reason),
        _ => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"result\":");
    let result = result_name(event.class);
    if display {
        write_str(out, &result.to_ascii_uppercase());
    } else {
        write_str(out, result);
    }
    out.extend_from_slice(b",\"timestamp\":");
    write_int(out, event.at_us.div_euclid(1_000_000));
    out.extend_from_slice(b",\"username\":");
    match person {
        Some(p) => out.extend_from_slice(p.username.in_json(&json)),
        None => out.extend_from_slice(b"\"unknown\""),
    }
    out.push(b'}');
}

/// `duo_push` → `Duo Push`, `sms_passcode` → `SMS Passcode` (Duo's Admin Panel wording).
fn display_factor(factor: &str) -> String {
    factor
        .split('_')
        .map(|word| match word {
            "sms" => "SMS".to_owned(),
            "u2f" => "U2F".to_owned(),
            _ => {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `valid_passcode` → `Valid passcode`.
fn display_reason(reason: &str) -> String {
    let text = reason.replace('_', " ");
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_strings_read_as_the_admin_panel_writes_them() {
        assert_eq!(display_factor("duo_push"), "Duo Push");
        assert_eq!(display_factor("sms_passcode"), "SMS Passcode");
        assert_eq!(display_factor("WebAuthn Security Key"), "WebAuthn Security Key");
        assert_eq!(display_reason("valid_passcode"), "Valid passcode");
        assert_eq!(display_reason("user_approved"), "User approved");
    }
}
