//! The offline enrollment log: users provisioning Duo's offline access on a Windows Logon
//! integration.

use super::Event;
use super::access::write_iso;
use super::administrator::write_json_string;
use super::answer::Context;
use super::config::{self, LogTable};
use super::mix::Mix;
use super::people::People;
use super::random::{Draws, seed_of};
use crate::model::{write_int, write_str};

/// What offline enrollment events are made of.
#[derive(Debug)]
pub(crate) struct Tables {
    actions: Mix,
}

/// Windows workstations' names.
const HOSTS: [&str; 6] = [
    "WKSW10x64",
    "LAPTOP-7Q2M1K",
    "DESKTOP-4HF9R2",
    "WS-FIN-023",
    "WS-ENG-114",
    "SURFACE-JD",
];

impl Tables {
    pub(crate) fn new(table: &LogTable) -> Self {
        Self {
            actions: Mix::given_or(table.actions.as_ref(), config::default_offline_actions),
        }
    }

    pub(crate) fn fill(&self, people: &People, event: &mut Event, draws: &mut Draws) {
        let second = event.at_us.div_euclid(1_000_000);
        event.what = self.actions.pick(draws);
        event.subject = super::authentication::any_user(people, second, draws);
        event.app = u16::try_from(draws.index(people.applications.len())).unwrap_or(0);
    }

    /// The event as `/admin/v1/logs/offline_enrollment` lists it.
    pub(crate) fn render(&self, context: &Context<'_>, event: &Event, out: &mut Vec<u8>) {
        let people = context.people;
        let mut draws = Draws::new(seed_of(&[event.seed, 0x0FF]));
        out.extend_from_slice(b"{\"action\":");
        out.extend_from_slice(self.actions.json(event.what));
        out.extend_from_slice(b",\"description\":");
        let mut inner = b"{\"user_agent\": \"DuoCredProv/4.2.2.1755 (Windows NT 10.0.19045; x64; Workstation)\", \"hostname\": ".to_vec();
        write_str(&mut inner, HOSTS[draws.index(HOSTS.len())]);
        inner.extend_from_slice(b", \"factor\": \"duo_otp\"}");
        write_json_string(out, &inner);
        out.extend_from_slice(b",\"isotimestamp\":\"");
        write_iso(out, event.at_us, false);
        out.extend_from_slice(b"\",\"object\":");
        match people.applications.get(usize::from(event.app)) {
            Some(app) => out.extend_from_slice(&app.name),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"timestamp\":");
        write_int(out, event.at_us.div_euclid(1_000_000));
        out.extend_from_slice(b",\"username\":");
        let json = people.json(event.subject);
        match people.persons.get(event.subject as usize) {
            Some(p) => out.extend_from_slice(p.username.in_json(&json)),
            None => out.extend_from_slice(b"\"\""),
        }
        out.push(b'}');
    }
}
