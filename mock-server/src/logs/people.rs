//! Who the logs name: the tenant's users (with their phones, tokens and WebAuthn credentials),
//! groups, administrators and integrations, read once from the tenant's rendered JSON into
//! compact records whose strings stay slices of that JSON (already escaped, so events copy them).
//!
//! Read from the tenant the scenario built and kept while the served tenant changes (churn,
//! writes): an event of a user deleted since still names them, as Duo's logs do.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::NO_DEVICE;
use crate::scenario::{IntegrationKind, Scenario};
use crate::store::{JsonList, Tenant};

/// A JSON string (quotes and escapes included) at `start..end` of its object's JSON. Four bytes:
/// a user's JSON is a few KB (a field past 64 KiB reads as absent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u16,
    end: u16,
}

impl Span {
    fn of(range: Range<usize>) -> Self {
        match (u16::try_from(range.start), u16::try_from(range.end)) {
            (Ok(start), Ok(end)) => Self { start, end },
            _ => Self::default(),
        }
    }

    /// Whether the field was absent or `null`.
    pub(crate) fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The bytes of the span in `json`.
    pub(crate) fn in_json(self, json: &[u8]) -> &[u8] {
        json.get(self.start as usize..self.end as usize)
            .unwrap_or(b"\"\"")
    }

    /// The string's text without its quotes (escapes left as they are: only ids and numbers,
    /// which have none, are compared this way).
    pub(crate) fn text(self, json: &[u8]) -> &[u8] {
        let raw = self.in_json(json);
        raw.get(1..raw.len().saturating_sub(1)).unwrap_or_default()
    }
}

/// What kind of authentication device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceKind {
    /// A phone; `activated` says whether Duo Mobile is on it.
    Phone { activated: bool },
    /// A hardware token.
    Token,
    /// A WebAuthn credential.
    WebAuthn,
}

/// One of a user's devices: its id and what names it in an event (10 bytes).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Device {
    pub(crate) kind: DeviceKind,
    /// `phone_id`, `token_id` or `webauthnkey`.
    pub(crate) id: Span,
    /// Phone number, token serial or credential name.
    pub(crate) name: Span,
}

/// A user as the logs see them (40 bytes: a million users cost 40 MB).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Person {
    pub(crate) created: i64,
    /// Unix seconds, [`NEVER`] if never.
    last_login: i64,
    pub(crate) user_id: Span,
    pub(crate) username: Span,
    pub(crate) email: Span,
    /// Index of the first device in [`People::devices`].
    devices: u32,
    device_count: u8,
    /// `locked out`, `disabled`…: denied attempts say so.
    pub(crate) status: Status,
}

/// `last_login` of a user who never logged in.
const NEVER: i64 = i64::MIN;

impl Person {
    /// Unix seconds, `None` if never.
    pub(crate) fn last_login(&self) -> Option<i64> {
        (self.last_login != NEVER).then_some(self.last_login)
    }
}

/// The user statuses that change what an attempt answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Active,
    Bypass,
    Disabled,
    LockedOut,
    PendingDeletion,
}

/// An administrator as the logs see them (owned: few, small).
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    pub(crate) admin_id: String,
    /// JSON string of the name.
    pub(crate) name: Vec<u8>,
    /// JSON string of the e-mail.
    pub(crate) email: Vec<u8>,
    pub(crate) created: i64,
    pub(crate) last_login: Option<i64>,
}

/// A group: id and its name as a JSON string.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) group_id: String,
    pub(crate) name: Vec<u8>,
}

/// An integration of the scenario.
#[derive(Debug, Clone)]
pub(crate) struct Application {
    pub(crate) ikey: String,
    /// JSON string of its name.
    pub(crate) name: Vec<u8>,
    /// Duo's integration type as activity events name it.
    pub(crate) kind: &'static str,
}

/// People who log in, ordered by their last login: who may have succeeded at a time `t` is
/// everyone whose last login is after `t`, a suffix of this order.
#[derive(Debug, Default)]
pub(crate) struct Logins {
    /// Last logins, unix seconds, ascending.
    pub(crate) times: Vec<i64>,
    /// Who (index into users or admins), in the same order.
    pub(crate) who: Vec<u32>,
}

impl Logins {
    fn of(last_logins: impl Iterator<Item = Option<i64>>) -> Self {
        let mut pairs: Vec<(i64, u32)> = last_logins
            .enumerate()
            .filter_map(|(i, t)| Some((t?, u32::try_from(i).ok()?)))
            .collect();
        pairs.sort_unstable();
        Self {
            times: pairs.iter().map(|p| p.0).collect(),
            who: pairs.iter().map(|p| p.1).collect(),
        }
    }

    /// The first position whose last login is at or after `second`.
    pub(crate) fn first_at_or_after(&self, second: i64) -> usize {
        self.times.partition_point(|t| *t < second)
    }

    /// The latest last login.
    pub(crate) fn latest(&self) -> Option<i64> {
        self.times.last().copied()
    }
}

/// Everyone the logs name.
#[derive(Debug)]
pub(crate) struct People {
    users: JsonList,
    pub(crate) persons: Vec<Person>,
    devices: Vec<Device>,
    group_offsets: Vec<u32>,
    group_list: Vec<u32>,
    pub(crate) groups: Vec<Group>,
    pub(crate) logins: Logins,
    /// Users with a phone, for telephony.
    pub(crate) with_phone: Vec<u32>,
    /// The user created first, named when a time precedes everyone else.
    pub(crate) oldest: u32,
    pub(crate) admins: Vec<Admin>,
    pub(crate) admin_logins: Logins,
    /// Integrations users sign in to.
    pub(crate) applications: Vec<Application>,
    /// Every integration of the scenario.
    pub(crate) integrations: Vec<Application>,
}

impl People {
    /// Reads `tenant` (as built for `scenario`); `applications` names the integrations users sign
    /// in to (empty: every one that is not an Admin or Accounts API application, else all).
    pub(crate) fn read(scenario: &Scenario, tenant: &Tenant, applications: &[String]) -> Self {
        let (persons, devices) = read_persons(&tenant.users);
        let groups = (0..tenant.groups.len())
            .filter_map(|i| {
                let json = tenant.groups.item(i)?;
                let fields = raw_fields(&json);
                Some(Group {
                    group_id: text_of(fields.get("group_id")),
                    name: raw_of(fields.get("name")),
                })
            })
            .collect();
        let admins: Vec<Admin> = (0..tenant.admins.len())
            .filter_map(|i| tenant.admins.item(i))
            .map(|json| {
                let fields = raw_fields(&json);
                let number = |key: &str| fields.get(key).and_then(|v| v.get().parse::<i64>().ok());
                Admin {
                    admin_id: text_of(fields.get("admin_id")),
                    name: raw_of(fields.get("name")),
                    email: raw_of(fields.get("email")),
                    created: number("created").unwrap_or(tenant.anchor),
                    last_login: number("last_login"),
                }
            })
            .collect();
        let integrations: Vec<Application> = scenario
            .integrations
            .iter()
            .map(|i| Application {
                ikey: i.ikey.clone(),
                name: serde_json::to_vec(&i.name).unwrap_or_else(|_| b"\"\"".to_vec()),
                kind: match i.kind {
                    IntegrationKind::AdminApi => "adminapi",
                    IntegrationKind::AuthApi => "authapi",
                    IntegrationKind::WebSdk => "websdk",
                    IntegrationKind::AccountsApi => "accountsapi",
                },
            })
            .collect();
        let signed_into: Vec<Application> = if applications.is_empty() {
            let protected: Vec<Application> = scenario
                .integrations
                .iter()
                .zip(&integrations)
                .filter(|(i, _)| !matches!(i.kind, IntegrationKind::AdminApi | IntegrationKind::AccountsApi))
                .map(|(_, app)| app.clone())
                .collect();
            if protected.is_empty() {
                integrations.clone()
            } else {
                protected
            }
        } else {
            scenario
                .integrations
                .iter()
                .zip(&integrations)
                .filter(|(i, _)| applications.contains(&i.name))
                .map(|(_, app)| app.clone())
                .collect()
        };
        let with_phone = persons
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                devices_of(&devices, p)
                    .iter()
                    .any(|d| matches!(d.kind, DeviceKind::Phone { .. }))
            })
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .collect();
        let oldest = persons
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| p.created)
            .and_then(|(i, _)| u32::try_from(i).ok())
            .unwrap_or(0);
        Self {
            logins: Logins::of(persons.iter().map(Person::last_login)),
            admin_logins: Logins::of(admins.iter().map(|a| a.last_login)),
            users: tenant.users.clone(),
            group_offsets: tenant.user_group_offsets.clone(),
            group_list: tenant.user_group_list.clone(),
            persons,
            devices,
            groups,
            with_phone,
            oldest,
            admins,
            applications: signed_into,
            integrations,
        }
    }

    /// The rendered JSON of user `i` (where every [`Span`] of the person points).
    pub(crate) fn json(&self, i: u32) -> Bytes {
        self.users.item(i as usize).unwrap_or_default()
    }

    /// User `i`'s devices.
    pub(crate) fn devices(&self, person: &Person) -> &[Device] {
        devices_of(&self.devices, person)
    }

    /// Index among user `who`'s devices of their first phone, or [`NO_DEVICE`].
    pub(crate) fn first_phone(&self, who: u32) -> u16 {
        self.phones(who).first().copied().unwrap_or(NO_DEVICE)
    }

    /// Indices among user `who`'s devices of their phones.
    pub(crate) fn phones(&self, who: u32) -> Vec<u16> {
        self.persons
            .get(who as usize)
            .map(|p| {
                self.devices(p)
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| matches!(d.kind, DeviceKind::Phone { .. }))
                    .filter_map(|(i, _)| u16::try_from(i).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Writes `"key":<user_id>,"name":<username>` of user `who` (`null` and `"unknown"` for
    /// nobody).
    pub(crate) fn write_key_name(&self, who: u32, out: &mut Vec<u8>) {
        match self.persons.get(who as usize) {
            Some(p) => {
                let json = self.json(who);
                out.extend_from_slice(b"\"key\":");
                out.extend_from_slice(p.user_id.in_json(&json));
                out.extend_from_slice(b",\"name\":");
                out.extend_from_slice(p.username.in_json(&json));
            }
            None => out.extend_from_slice(b"\"key\":null,\"name\":\"unknown\""),
        }
    }

    /// Indices into `groups` of user `i`'s groups.
    pub(crate) fn groups_of(&self, i: u32) -> &[u32] {
        let i = i as usize;
        match (self.group_offsets.get(i), self.group_offsets.get(i + 1)) {
            (Some(&start), Some(&end)) => self
                .group_list
                .get(start as usize..end as usize)
                .unwrap_or_default(),
            _ => &[],
        }
    }

    /// The users with these `user_id`s (one pass over everyone: filters name few users, and
    /// an index of a million ids would cost more memory than the people themselves).
    pub(crate) fn users_by_id(&self, user_ids: &[String]) -> HashSet<u32> {
        let wanted: HashSet<&[u8]> = user_ids.iter().map(String::as_bytes).collect();
        if wanted.is_empty() {
            return HashSet::new();
        }
        (0..self.persons.len())
            .filter_map(|i| u32::try_from(i).ok())
            .filter(|&i| {
                let json = self.json(i);
                wanted.contains(self.persons[i as usize].user_id.text(&json))
            })
            .collect()
    }
}

fn devices_of<'a>(devices: &'a [Device], person: &Person) -> &'a [Device] {
    let start = person.devices as usize;
    devices
        .get(start..start + usize::from(person.device_count))
        .unwrap_or_default()
}

/// The text of a JSON string (empty for anything else).
fn text_of(raw: Option<&&RawValue>) -> String {
    raw.and_then(|r| serde_json::from_str::<String>(r.get()).ok())
        .unwrap_or_default()
}

/// A raw JSON string, or `""` for anything else.
fn raw_of(raw: Option<&&RawValue>) -> Vec<u8> {
    match raw {
        Some(r) if r.get().starts_with('"') => r.get().as_bytes().to_vec(),
        _ => b"\"\"".to_vec(),
    }
}

/// The fields of a rendered user the logs read, borrowed as raw JSON.
#[derive(Deserialize)]
struct UserFields<'a> {
    #[serde(default)]
    created: Option<i64>,
    #[serde(default)]
    last_login: Option<i64>,
    #[serde(borrow, default)]
    user_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    username: Option<&'a RawValue>,
    #[serde(borrow, default)]
    email: Option<&'a RawValue>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    phones: Vec<DeviceFields<'a>>,
    #[serde(borrow, default)]
    tokens: Vec<DeviceFields<'a>>,
    #[serde(borrow, default)]
    webauthncredentials: Vec<DeviceFields<'a>>,
}

/// A phone, token or WebAuthn credential: its id and what names it.
#[derive(Deserialize)]
struct DeviceFields<'a> {
    #[serde(borrow, default, alias = "token_id", alias = "webauthnkey")]
    phone_id: Option<&'a RawValue>,
    #[serde(borrow, default, alias = "serial", alias = "credential_name")]
    number: Option<&'a RawValue>,
    #[serde(default)]
    activated: bool,
}

/// Where `raw` (borrowed from `json`) sits in it.
fn span_in(json: &[u8], raw: Option<&RawValue>) -> Span {
    let Some(raw) = raw.filter(|r| r.get() != "null") else {
        return Span::default();
    };
    let start = (raw.get().as_ptr() as usize).wrapping_sub(json.as_ptr() as usize);
    if start
        .checked_add(raw.get().len())
        .is_some_and(|end| end <= json.len())
    {
        Span::of(start..start + raw.get().len())
    } else {
        Span::default()
    }
}

/// The fields of an object of rendered JSON as raw values (admins, groups).
fn raw_fields(json: &[u8]) -> HashMap<Cow<'_, str>, &RawValue> {
    serde_json::from_slice(json).unwrap_or_default()
}

/// Every user of `users`, read on as many threads as the machine has (a million users' JSON is
/// a gigabyte and a half), in order.
fn read_persons(users: &JsonList) -> (Vec<Person>, Vec<Device>) {
    let read_range = |range: Range<usize>| {
        let mut persons = Vec::with_capacity(range.len());
        let mut devices = Vec::new();
        for i in range {
            let json = users.item(i).unwrap_or_default();
            persons.push(read_person(&json, &mut devices));
        }
        (persons, devices)
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let per_thread = users.len().div_ceil(threads).max(1);
    let ranges: Vec<Range<usize>> = (0..users.len())
        .step_by(per_thread)
        .map(|start| start..(start + per_thread).min(users.len()))
        .collect();
    let parts: Vec<(Vec<Person>, Vec<Device>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = ranges
            .iter()
            .map(|range| (range.clone(), scope.spawn(|| read_range(range.clone()))))
            .collect();
        workers
            .into_iter()
            // Reading cannot panic; if a thread did, its range is read again here.
            .map(|(range, worker)| worker.join().unwrap_or_else(|_| read_range(range)))
            .collect()
    });
    let mut persons = Vec::with_capacity(users.len());
    let mut devices = Vec::with_capacity(parts.iter().map(|(_, d)| d.len()).sum());
    for (mut part, part_devices) in parts {
        let offset = u32::try_from(devices.len()).unwrap_or(u32::MAX);
        for person in &mut part {
            person.devices = person.devices.saturating_add(offset);
        }
        persons.extend(part);
        devices.extend(part_devices);
    }
    (persons, devices)
}

fn read_person(json: &[u8], devices: &mut Vec<Device>) -> Person {
    let fields: Option<UserFields<'_>> = serde_json::from_slice(json).ok();
    let first = u32::try_from(devices.len()).unwrap_or(u32::MAX);
    let Some(fields) = fields else {
        return Person {
            created: 0,
            last_login: NEVER,
            user_id: Span::default(),
            username: Span::default(),
            email: Span::default(),
            devices: first,
            device_count: 0,
            status: Status::Active,
        };
    };
    let kinds = fields
        .phones
        .iter()
        .map(|d| {
            (
                d,
                DeviceKind::Phone {
                    activated: d.activated,
                },
            )
        })
        .chain(fields.tokens.iter().map(|d| (d, DeviceKind::Token)))
        .chain(
            fields
                .webauthncredentials
                .iter()
                .map(|d| (d, DeviceKind::WebAuthn)),
        );
    // A user has a handful of devices; more are not named in events.
    for (found, kind) in kinds.take(64) {
        let id = span_in(json, found.phone_id);
        if !id.is_empty() {
            devices.push(Device {
                kind,
                id,
                name: span_in(json, found.number),
            });
        }
    }
    Person {
        created: fields.created.unwrap_or(0),
        last_login: fields.last_login.unwrap_or(NEVER),
        user_id: span_in(json, fields.user_id),
        username: span_in(json, fields.username),
        email: span_in(json, fields.email),
        devices: first,
        device_count: u8::try_from(devices.len() - first as usize).unwrap_or(0),
        status: match fields.status.as_deref() {
            Some("bypass") => Status::Bypass,
            Some("disabled") => Status::Disabled,
            Some("locked out") => Status::LockedOut,
            Some("pending deletion") => Status::PendingDeletion,
            _ => Status::Active,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_read_as_spans_of_its_json() {
        let json = r#"{"created":5,"email":"a\"b@x","last_login":null,"phones":[{"activated":true,"number":"+1","phone_id":"DP1"},{"number":"+2","phone_id":"DP2"}],"status":"locked out","tokens":[{"serial":"77","token_id":"DH1"}],"user_id":"DU1","username":"ü","webauthncredentials":[]}"#.as_bytes();
        let mut devices = Vec::new();
        let person = read_person(json, &mut devices);
        assert_eq!(
            (person.created, person.last_login(), person.status),
            (5, None, Status::LockedOut)
        );
        assert_eq!(person.email.in_json(json), br#""a\"b@x""#);
        assert_eq!(person.user_id.text(json), b"DU1");
        assert_eq!(person.username.in_json(json), "\"ü\"".as_bytes());
        let kinds: Vec<DeviceKind> = devices.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            [
                DeviceKind::Phone { activated: true },
                DeviceKind::Phone { activated: false },
                DeviceKind::Token
            ]
        );
        assert_eq!(devices[2].name.text(json), b"77");
        assert_eq!(devices[1].id.text(json), b"DP2");
        // What is not a user reads as nobody, never a panic.
        for cut in 0..json.len() {
            let mut devices = Vec::new();
            let _ = read_person(&json[..cut], &mut devices);
        }
    }
}
