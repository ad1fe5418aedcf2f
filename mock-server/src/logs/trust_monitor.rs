//! Trust Monitor: authentications that looked unusual, bypass codes turned on, and devices
//! registered, each surfaced with its explanations.

use super::answer::Context;
use super::config::{self, LogTable};
use super::mix::Mix;
use super::people::People;
use super::random::{Draws, seed_of};
use super::{Event, NOBODY};
use crate::model::{write_int, write_str};

/// What Trust Monitor events are made of.
#[derive(Debug)]
pub(crate) struct Tables {
    pub(crate) types: Mix,
}

/// `(type, summary)` of explanations, by event type.
const AUTH_EXPLANATIONS: [(&str, &str); 4] = [
    (
        "NEW_COUNTRY_CODE",
        "User has not logged in from this country recently",
    ),
    (
        "NEW_NETBLOCK",
        "User has not logged in from this network recently",
    ),
    ("NEW_IKEY", "User has not accessed this application recently"),
    (
        "UNUSUAL_TIME_OF_DAY",
        "User has not logged in at this time recently",
    ),
];
const DEVICE_EXPLANATIONS: [(&str, &str); 2] = [
    (
        "REGISTER_OS_OUTDATED",
        "The device's operating system is out of date",
    ),
    ("REGISTER_UNLOCK", "The device has no screen lock"),
];

impl Tables {
    pub(crate) fn new(table: &LogTable) -> Self {
        Self {
            types: Mix::given_or(table.types.as_ref(), config::default_trust_monitor_types),
        }
    }

    pub(crate) fn fill(&self, people: &People, event: &mut Event, draws: &mut Draws) {
        let second = event.at_us.div_euclid(1_000_000);
        event.what = self.types.pick(draws);
        event.subject = super::authentication::any_user(people, second, draws);
        event.app = u16::try_from(draws.index(people.applications.len())).unwrap_or(0);
        event.target = if people.admins.is_empty() {
            NOBODY
        } else {
            u32::try_from(draws.index(people.admins.len())).unwrap_or(NOBODY)
        };
    }

    /// The event as `/admin/v1/trust_monitor/events` lists it.
    pub(crate) fn render(&self, context: &Context<'_>, event: &Event, out: &mut Vec<u8>) {
        let people = context.people;
        let kind = self.types.name(event.what);
        let mut draws = Draws::new(seed_of(&[event.seed, 0x7A]));
        let surfaced_ms = event.at_us.div_euclid(1000);
        out.push(b'{');
        if kind == "bypass_status" {
            out.extend_from_slice(b"\"bypass_status_enabled\":");
            write_int(out, surfaced_ms - draws.between(1_000, 600_000));
            out.extend_from_slice(b",\"enabled_by\":");
            match people.admins.get(event.target as usize) {
                Some(admin) => {
                    out.extend_from_slice(b"{\"key\":");
                    write_str(out, &admin.admin_id);
                    out.extend_from_slice(b",\"name\":");
                    out.extend_from_slice(&admin.name);
                    out.push(b'}');
                }
                None => out.extend_from_slice(b"{\"key\":null,\"name\":\"API\"}"),
            }
            out.extend_from_slice(b",\"enabled_for\":{");
            people.write_key_name(event.subject, out);
            out.push(b'}');
            out.extend_from_slice(b",\"explanations\":[{\"summary\":\"A bypass code was enabled for this user\",\"type\":\"BYPASS_ENABLED\"}]");
        } else {
            let table: &[(&str, &str)] = if kind == "auth" {
                &AUTH_EXPLANATIONS
            } else {
                &DEVICE_EXPLANATIONS
            };
            let (code, summary) = table[draws.index(table.len())];
            out.extend_from_slice(b"\"explanations\":[{\"summary\":");
            write_str(out, summary);
            out.extend_from_slice(b",\"type\":");
            write_str(out, code);
            out.extend_from_slice(b"}],\"from_common_netblock\":");
            out.extend_from_slice(if draws.chance(0.5) { b"true" } else { b"false" });
            out.extend_from_slice(b",\"from_new_user\":");
            out.extend_from_slice(if draws.chance(0.1) { b"true" } else { b"false" });
            out.extend_from_slice(b",\"low_risk_ip\":");
            out.extend_from_slice(if draws.chance(0.2) { b"true" } else { b"false" });
        }
        let priority = draws.chance(0.3);
        out.extend_from_slice(b",\"priority_event\":");
        out.extend_from_slice(if priority { b"true" } else { b"false" });
        out.extend_from_slice(b",\"priority_reasons\":[");
        if priority {
            out.extend_from_slice(b"{\"label\":\"Unusual location\",\"type\":\"NEW_COUNTRY_CODE\"}");
        }
        out.extend_from_slice(b"],\"sekey\":");
        write_sekey(event, out);
        out.extend_from_slice(b",\"state\":\"new\",\"state_updated_timestamp\":null");
        if kind != "bypass_status" {
            // A surfaced authentication: the user's attempt at the surfaced time, as the
            // authentication log shows it but with a null event type.
            let mut attempt = *event;
            attempt.what = factor_push();
            attempt.device = people.first_phone(event.subject);
            attempt.why = reason_of("anomalous_push");
            attempt.class = super::authentication::DENIED;
            out.extend_from_slice(b",\"surfaced_auth\":");
            super::authentication::render_v2(context, &attempt, None, out);
        }
        out.extend_from_slice(b",\"surfaced_timestamp\":");
        write_int(out, surfaced_ms);
        if kind != "bypass_status" {
            out.extend_from_slice(b",\"triage_event_uri\":\"https://");
            out.extend_from_slice(context.admin_host.as_bytes());
            out.extend_from_slice(b"/trust-monitor?sekey=");
            let mut sekey = Vec::new();
            write_sekey(event, &mut sekey);
            out.extend_from_slice(sekey.get(1..sekey.len().saturating_sub(1)).unwrap_or_default());
            out.push(b'"');
        }
        out.extend_from_slice(b",\"triaged_as_interesting\":false,\"type\":");
        write_str(out, kind);
        out.push(b'}');
    }
}

fn factor_push() -> u16 {
    super::config::FACTORS
        .iter()
        .position(|f| *f == "duo_push")
        .and_then(|i| u16::try_from(i).ok())
        .unwrap_or(0)
}

fn reason_of(name: &str) -> u16 {
    super::config::REASONS
        .iter()
        .position(|r| *r == name)
        .and_then(|i| u16::try_from(i).ok())
        .unwrap_or(0)
}

/// `"SE…"`: 20 characters from the seed.
pub(crate) fn write_sekey(event: &Event, out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut draws = Draws::new(seed_of(&[event.seed, 0x5E]));
    out.extend_from_slice(b"\"SE");
    for _ in 0..18 {
        out.push(ALPHABET[draws.index(ALPHABET.len())]);
    }
    out.push(b'"');
}
