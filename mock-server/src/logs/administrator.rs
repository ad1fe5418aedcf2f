//! The administrator log: what admins (or the API, or Duo itself) did to users, groups, phones,
//! admins, integrations and the account. `admin_login` is its own class and follows the admins'
//! last logins, as successes follow the users'.

use super::access::{Access, write_iso};
use super::answer::Context;
use super::config::{self, LogTable};
use super::mix::Mix;
use super::people::People;
use super::random::{Draws, seed_of};
use super::{Event, NOBODY};
use crate::model::{write_int, write_str};

/// `admin_login`, the class that follows last logins.
pub(crate) const LOGIN: u8 = 0;

/// Who acted when no admin did (`Event::why`).
const BY_ADMIN: u16 = 0;
const BY_API: u16 = 1;
const BY_SYSTEM: u16 = 2;

/// What administrator events are made of.
#[derive(Debug)]
pub(crate) struct Tables {
    login_share: f64,
    /// Every action but `admin_login`.
    others: Mix,
}

impl Tables {
    pub(crate) fn new(table: &LogTable) -> Self {
        Self::of(
            &table
                .actions
                .clone()
                .unwrap_or_else(config::default_admin_actions),
        )
    }

    /// Tables for a mix of actions (the activity log reuses them).
    pub(crate) fn of(actions: &std::collections::BTreeMap<String, f64>) -> Self {
        let total: f64 = actions.values().sum();
        let login = actions.get("admin_login").copied().unwrap_or(0.0);
        let mut others = actions.clone();
        others.remove("admin_login");
        if others.values().sum::<f64>() <= 0.0 {
            others.insert("user_update".into(), 0.0);
        }
        Self {
            login_share: if total > 0.0 { login / total } else { 0.0 },
            others: Mix::new(&others),
        }
    }

    pub(crate) fn shares(&self) -> Vec<f64> {
        vec![self.login_share, 1.0 - self.login_share]
    }

    /// The action's name.
    pub(crate) fn action(&self, event: &Event) -> &str {
        if event.class == LOGIN {
            "admin_login"
        } else {
            self.others.name(event.what)
        }
    }

    pub(crate) fn fill(&self, people: &People, event: &mut Event, draws: &mut Draws, subject: Option<u32>) {
        let second = event.at_us.div_euclid(1_000_000);
        if event.class == LOGIN {
            event.subject = subject.unwrap_or_else(|| logged_in_admin(people, second, draws));
            return;
        }
        event.what = self.others.pick(draws);
        event.why = match draws.below(20) {
            0 | 1 => BY_API,
            2 => BY_SYSTEM,
            _ => BY_ADMIN,
        };
        if event.why == BY_ADMIN {
            event.subject = any_admin(people, second, draws);
            if event.subject == NOBODY {
                event.why = BY_API;
            }
        }
        let action = self.others.name(event.what);
        pick_target(people, action, second, event, draws);
    }
}

/// The object `action` (`user_update`, `group_create`…) is done to, by its prefix.
pub(crate) fn pick_target(people: &People, action: &str, second: i64, event: &mut Event, draws: &mut Draws) {
    event.target = match action.split('_').next().unwrap_or_default() {
        "user" | "webauthncredential" => super::authentication::any_user(people, second, draws),
        "phone" if !people.with_phone.is_empty() => {
            let who = people.with_phone[draws.index(people.with_phone.len())];
            event.device = people.first_phone(who);
            who
        }
        "group" if !people.groups.is_empty() => {
            u32::try_from(draws.index(people.groups.len())).unwrap_or(NOBODY)
        }
        "admin" if !people.admins.is_empty() => {
            u32::try_from(draws.index(people.admins.len())).unwrap_or(NOBODY)
        }
        "integration" | "policy" => u32::try_from(draws.index(people.integrations.len())).unwrap_or(NOBODY),
        _ => NOBODY,
    };
}

/// An admin whose last login is after `second` and who existed then (else the last to log in).
fn logged_in_admin(people: &People, second: i64, draws: &mut Draws) -> u32 {
    let logins = &people.admin_logins;
    let count = logins.who.len();
    if count == 0 {
        return NOBODY;
    }
    let from = logins.first_at_or_after(second.saturating_add(1)).min(count - 1);
    for _ in 0..8 {
        let who = logins.who[from + draws.index(count - from)];
        if people
            .admins
            .get(who as usize)
            .is_some_and(|a| a.created <= second)
        {
            return who;
        }
    }
    logins.who[count - 1]
}

/// Any admin who existed at `second`, or [`NOBODY`].
pub(crate) fn any_admin(people: &People, second: i64, draws: &mut Draws) -> u32 {
    let count = people.admins.len();
    if count == 0 {
        return NOBODY;
    }
    for _ in 0..4 {
        let i = draws.index(count);
        if people.admins[i].created <= second {
            return u32::try_from(i).unwrap_or(NOBODY);
        }
    }
    u32::try_from(draws.index(count)).unwrap_or(NOBODY)
}

/// What an action was done to: `(object for the log, type, key, description)`, JSON strings
/// (`object` and `key` may be `null`).
pub(crate) struct Target {
    pub(crate) object: Vec<u8>,
    pub(crate) kind: &'static str,
    pub(crate) key: Vec<u8>,
    pub(crate) description: Vec<u8>,
}

/// The object an event's action was done to.
pub(crate) fn target(context: &Context<'_>, action: &str, event: &Event) -> Target {
    let people = context.people;
    let null = || b"null".to_vec();
    let mut description = Vec::new();
    let (object, kind, key) = match action.split('_').next().unwrap_or_default() {
        "user" | "webauthncredential" => match people.persons.get(event.target as usize) {
            Some(p) => {
                let json = people.json(event.target);
                let username = p.username.in_json(&json).to_vec();
                description.extend_from_slice(b"{\"email\": ");
                description.extend_from_slice(p.email.in_json(&json));
                description.extend_from_slice(b", \"status\": \"active\"}");
                (username, "user", p.user_id.in_json(&json).to_vec())
            }
            None => (null(), "user", null()),
        },
        "phone" => match people.persons.get(event.target as usize) {
            Some(p) => {
                let json = people.json(event.target);
                match people.devices(p).get(usize::from(event.device)) {
                    Some(device) => {
                        let number = device.name.in_json(&json).to_vec();
                        description.extend_from_slice(b"{\"number\": ");
                        description.extend_from_slice(&number);
                        description.extend_from_slice(b", \"type\": \"Mobile\"}");
                        (number, "phone", device.id.in_json(&json).to_vec())
                    }
                    None => (null(), "phone", null()),
                }
            }
            None => (null(), "phone", null()),
        },
        "group" => match people.groups.get(event.target as usize) {
            Some(g) => {
                description.extend_from_slice(b"{\"name\": ");
                description.extend_from_slice(&g.name);
                description.push(b'}');
                (
                    g.name.clone(),
                    "group",
                    serde_json::to_vec(&g.group_id).unwrap_or_else(|_| null()),
                )
            }
            None => (null(), "group", null()),
        },
        "admin" => match people.admins.get(event.target as usize) {
            Some(a) => {
                description.extend_from_slice(b"{\"email\": ");
                description.extend_from_slice(&a.email);
                description.push(b'}');
                (
                    a.name.clone(),
                    "admin",
                    serde_json::to_vec(&a.admin_id).unwrap_or_else(|_| null()),
                )
            }
            None => (null(), "admin", null()),
        },
        "integration" | "policy" => match people.integrations.get(event.target as usize) {
            Some(i) => {
                description.extend_from_slice(b"{\"name\": ");
                description.extend_from_slice(&i.name);
                description.push(b'}');
                (
                    i.name.clone(),
                    "integration",
                    serde_json::to_vec(&i.ikey).unwrap_or_else(|_| null()),
                )
            }
            None => (null(), "integration", null()),
        },
        _ => {
            description.extend_from_slice(b"{\"name\": ");
            write_str(&mut description, context.tenant_name);
            description.push(b'}');
            (null(), "account", null())
        }
    };
    Target {
        object,
        kind,
        key,
        description,
    }
}

/// The JSON string of the text `inner` (Duo's descriptions are JSON documents in a string).
pub(crate) fn write_json_string(out: &mut Vec<u8>, inner: &[u8]) {
    write_str(out, &String::from_utf8_lossy(inner));
}

/// The event as `/admin/v1/logs/administrator` lists it.
pub(crate) fn render(context: &Context<'_>, tables: &Tables, event: &Event, out: &mut Vec<u8>) {
    let people = context.people;
    let action = tables.action(event);
    out.extend_from_slice(b"{\"action\":");
    write_str(out, action);
    out.extend_from_slice(b",\"description\":");
    let mut draws = Draws::new(seed_of(&[event.seed, 0xAD]));
    let actor = people.admins.get(event.subject as usize);
    let (object, description) = if event.class == LOGIN {
        let mut inner = b"{\"ip_address\": ".to_vec();
        Access::draw(&mut draws, u64::from(event.subject)).write_ip(None, &mut inner);
        inner.extend_from_slice(b", \"factor\": \"push\", \"primary_auth_method\": \"Password\"}");
        (b"null".to_vec(), inner)
    } else if action == "admin_login_error" {
        let mut inner = b"{\"error\": \"Invalid password\", \"ip_address\": ".to_vec();
        Access::draw(&mut draws, u64::from(event.subject)).write_ip(None, &mut inner);
        inner.push(b'}');
        (actor.map_or_else(|| b"null".to_vec(), |a| a.email.clone()), inner)
    } else {
        let target = target(context, action, event);
        (target.object, target.description)
    };
    write_json_string(out, &description);
    out.extend_from_slice(b",\"isotimestamp\":\"");
    write_iso(out, event.at_us, false);
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(&object);
    out.extend_from_slice(b",\"timestamp\":");
    write_int(out, event.at_us.div_euclid(1_000_000));
    out.extend_from_slice(b",\"username\":");
    match (actor, event.why) {
        _ if action == "admin_login_error" => out.extend_from_slice(b"\"\""),
        (Some(admin), _) => out.extend_from_slice(&admin.name),
        (None, BY_SYSTEM) => out.extend_from_slice(b"\"System\""),
        (None, _) => out.extend_from_slice(b"\"API\""),
    }
    out.push(b'}');
}
