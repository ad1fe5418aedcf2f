//! The telephony log: SMS and phone calls to users' phones and the credits they cost. Type and
//! destination (home or abroad) are the log's classes, so the credits used over any window are
//! counted without making events.

use std::collections::BTreeMap;

use super::access::{write_iso, write_uuid};
use super::answer::Context;
use super::config::{self, LogTable};
use super::mix::Mix;
use super::people::People;
use super::random::Draws;
use super::{Event, NO_DEVICE};
use crate::model::{write_int, write_str};

/// Classes: `(type, credits)`: SMS and calls at home, then abroad.
pub(crate) const CLASSES: [(&str, u64); 4] = [("sms", 1), ("phone", 1), ("sms", 3), ("phone", 6)];

/// What telephony events are made of.
#[derive(Debug)]
pub(crate) struct Tables {
    shares: Vec<f64>,
    contexts: Mix,
}

impl Tables {
    pub(crate) fn new(table: &LogTable) -> Self {
        let types: BTreeMap<String, f64> = table
            .types
            .clone()
            .unwrap_or_else(config::default_telephony_types);
        let total: f64 = types.values().sum::<f64>().max(f64::MIN_POSITIVE);
        let sms = types.get("sms").copied().unwrap_or(0.0) / total;
        let phone = types.get("phone").copied().unwrap_or(0.0) / total;
        let abroad = table.international.unwrap_or(0.05);
        Self {
            shares: vec![
                sms * (1.0 - abroad),
                phone * (1.0 - abroad),
                sms * abroad,
                phone * abroad,
            ],
            contexts: Mix::given_or(table.contexts.as_ref(), config::default_telephony_contexts),
        }
    }

    pub(crate) fn shares(&self) -> Vec<f64> {
        self.shares.clone()
    }

    pub(crate) fn fill(&self, people: &People, event: &mut Event, draws: &mut Draws) {
        if people.with_phone.is_empty() {
            return;
        }
        let who = people.with_phone[draws.index(people.with_phone.len())];
        event.subject = who;
        event.what = self.contexts.pick(draws);
        let phones = people.phones(who);
        event.device = if phones.is_empty() {
            NO_DEVICE
        } else {
            phones[draws.index(phones.len())]
        };
    }

    /// Credits an event of `class` costs.
    pub(crate) fn credits(class: u8) -> u64 {
        CLASSES.get(usize::from(class)).map_or(1, |c| c.1)
    }

    fn write_common(&self, context: &Context<'_>, event: &Event, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"context\":");
        out.extend_from_slice(self.contexts.json(event.what));
        out.extend_from_slice(b",\"credits\":");
        write_int(out, i64::try_from(Self::credits(event.class)).unwrap_or(1));
        out.extend_from_slice(b",\"phone\":");
        let people = context.people;
        let json = people.json(event.subject);
        match people
            .persons
            .get(event.subject as usize)
            .and_then(|p| people.devices(p).get(usize::from(event.device)))
        {
            Some(device) => out.extend_from_slice(device.name.in_json(&json)),
            None => out.extend_from_slice(b"\"\""),
        }
    }

    /// The event as `/admin/v1/logs/telephony` lists it.
    pub(crate) fn render_v1(&self, context: &Context<'_>, event: &Event, out: &mut Vec<u8>) {
        // Keys in Duo's order: context, credits, isotimestamp, phone, timestamp, type.
        let mut head = Vec::with_capacity(96);
        self.write_common(context, event, &mut head);
        let phone_at = find(&head, b",\"phone\":").unwrap_or(head.len());
        out.extend_from_slice(&head[..phone_at]);
        out.extend_from_slice(b",\"isotimestamp\":\"");
        write_iso(out, event.at_us, false);
        out.push(b'"');
        out.extend_from_slice(&head[phone_at..]);
        out.extend_from_slice(b",\"timestamp\":");
        write_int(out, event.at_us.div_euclid(1_000_000));
        out.extend_from_slice(b",\"type\":");
        write_str(out, CLASSES.get(usize::from(event.class)).map_or("sms", |c| c.0));
        out.push(b'}');
    }

    /// The event as `/admin/v2/logs/telephony` lists it.
    pub(crate) fn render_v2(&self, context: &Context<'_>, event: &Event, out: &mut Vec<u8>) {
        self.write_common(context, event, out);
        out.extend_from_slice(b",\"telephony_id\":\"");
        write_telephony_id(event, out);
        out.extend_from_slice(b"\",\"ts\":\"");
        write_iso(out, event.at_us, true);
        out.extend_from_slice(b"\",\"txid\":\"");
        super::authentication::write_txid(event, out);
        out.extend_from_slice(b"\",\"type\":");
        write_str(out, CLASSES.get(usize::from(event.class)).map_or("sms", |c| c.0));
        out.push(b'}');
    }
}

/// Mixed into the seed a `telephony_id` shows, so it does not repeat its `txid`'s digits.
pub(crate) const ID_MASK: u64 = 0x7E1E_0000_0000_7E1E;

/// `telephony_id`: the microsecond within its millisecond, then the seed (masked), in hex.
pub(crate) fn write_telephony_id(event: &Event, out: &mut Vec<u8>) {
    write_uuid(
        out,
        event.at_us.rem_euclid(1000).unsigned_abs(),
        3,
        event.seed ^ ID_MASK,
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
