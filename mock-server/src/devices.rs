//! The devices users carry (phones, hardware tokens, WebAuthn credentials, U2F tokens, legacy
//! desktop tokens) as resources of their
//! own: each kind is a row of [`KINDS`], and its collection is read out of the users' rendered
//! JSON, so `/admin/v1/phones` and a user's `phones` are the same bytes by construction. A device
//! several users share (a desk phone) is one object whose `users` lists each of them.
//!
//! The same collection serves the list (`/admin/v1/phones`, with its owners), one device by id,
//! and a user's devices (`/admin/v1/users/{id}/phones`, as the user object embeds them).

use std::collections::{BTreeMap, HashMap};

use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use serde_json::value::RawValue;

use crate::api_error::ApiError;
use crate::model::{Obj, random_id};
use crate::params::Params;
use crate::store::{JsonList, KeyIndex, key_hash};

/// A kind of device; its facts are [`KINDS`]`[kind as usize]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `/admin/v1/phones`.
    Phones,
    /// `/admin/v1/tokens` (hardware tokens).
    Tokens,
    /// `/admin/v1/webauthncredentials`.
    WebAuthn,
    /// `/admin/v1/u2ftokens`.
    U2f,
    /// `/admin/v1/desktoptokens` (legacy desktop tokens).
    DesktopTokens,
    /// `/admin/v1/bypass_codes` (never the codes themselves).
    BypassCodes,
    /// `/admin/v1/desktop_authenticators` (Duo Desktop).
    DesktopAuthenticators,
    /// `/admin/v1/endpoints` (devices seen by Duo's endpoint health checks).
    Endpoints,
    /// `/admin/v1/registered_devices` (Duo Desktop registered devices; shape unconfirmed).
    RegisteredDevices,
}

/// How a listed device names who holds it.
#[derive(Debug, Clone, Copy)]
pub enum Owners {
    /// `"users": [slim user, …]`, the object's last key.
    Users,
    /// `"user": {slim user}`, placed before the key named, or last (keys stay alphabetical).
    User {
        /// The key `user` precedes.
        before: Option<&'static str>,
    },
    /// Nothing added: the object names its user itself (an endpoint's `username`, `email`).
    Named,
}

/// Where a kind's objects come from.
#[derive(Debug, Clone, Copy)]
pub enum Origin {
    /// The users' array under the kind's key.
    Embedded,
    /// Made for a share of users (the scenario's [`Mix`]), from a stream seeded by the tenant's
    /// seed and the user's id, so a user keeps them through edits; user objects do not show
    /// them.
    Made {
        /// The share of users that have them.
        share: fn(&Mix) -> f64,
        /// Appends a user's objects.
        make: fn(&Owner<'_>, &mut ChaCha8Rng, &mut Vec<Vec<u8>>),
    },
}

/// What made kinds need of the scenario: the seed, the anchor and each kind's share.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mix {
    /// The scenario's seed.
    pub seed: u64,
    /// Unix seconds every generated time is relative to.
    pub anchor: i64,
    /// Share of users with bypass codes.
    pub bypass_codes: f64,
    /// Share of users with a Duo Desktop authenticator.
    pub desktop_authenticators: f64,
    /// Share of users with an endpoint.
    pub endpoints: f64,
    /// Share of users with a Duo Desktop registered device.
    pub registered_devices: f64,
}

/// The user a made object belongs to, as its maker reads it.
#[derive(Debug)]
pub struct Owner<'a> {
    /// `user_id`.
    pub user_id: &'a str,
    /// `username`.
    pub username: &'a str,
    /// `email`.
    pub email: &'a str,
    /// `created`, unix seconds.
    pub created: i64,
    /// The scenario's anchor.
    pub anchor: i64,
    /// An administrator's e-mail (who made bypass codes), or empty.
    pub admin_email: &'a str,
}

/// One kind of device, as data.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    /// The kind.
    pub kind: Kind,
    /// Where its objects come from.
    pub origin: Origin,
    /// The key of the array in a user object, and of the list in the dump (`phones`).
    pub key: &'static str,
    /// The object's id field (`phone_id`).
    pub id_field: &'static str,
    /// How the listed object names its owners.
    pub owners: Owners,
    /// Fields a listed object has that an embedded one does not, written first (`"admins":[],`).
    pub listed_prefix: &'static str,
    /// Query parameters that select devices by a field of the same name.
    pub filters: &'static [&'static str],
    /// The filter whose values are indexed (a look-up, not a scan).
    pub indexed: &'static str,
    /// Whether the filters must come together (a missing one is 400 40002 naming it).
    pub together: bool,
}

/// Every kind of device, in [`Kind`] order.
pub const KINDS: [KindInfo; 9] = [
    KindInfo {
        origin: Origin::Embedded,
        kind: Kind::Phones,
        key: "phones",
        id_field: "phone_id",
        owners: Owners::Users,
        listed_prefix: "",
        filters: &["number", "extension"],
        indexed: "number",
        together: false,
    },
    KindInfo {
        origin: Origin::Embedded,
        kind: Kind::Tokens,
        key: "tokens",
        id_field: "token_id",
        owners: Owners::Users,
        listed_prefix: "\"admins\":[],",
        filters: &["type", "serial"],
        indexed: "serial",
        together: true,
    },
    KindInfo {
        origin: Origin::Embedded,
        kind: Kind::WebAuthn,
        key: "webauthncredentials",
        id_field: "webauthnkey",
        owners: Owners::User {
            before: Some("webauthnkey"),
        },
        listed_prefix: "",
        filters: &[],
        indexed: "",
        together: false,
    },
    KindInfo {
        origin: Origin::Embedded,
        kind: Kind::U2f,
        key: "u2ftokens",
        id_field: "registration_id",
        owners: Owners::User { before: None },
        listed_prefix: "",
        filters: &[],
        indexed: "",
        together: false,
    },
    KindInfo {
        origin: Origin::Embedded,
        kind: Kind::DesktopTokens,
        key: "desktoptokens",
        id_field: "desktoptoken_id",
        owners: Owners::Users,
        listed_prefix: "",
        filters: &[],
        indexed: "",
        together: false,
    },
    KindInfo {
        origin: Origin::Made {
            share: |m| m.bypass_codes,
            make: make_bypass_codes,
        },
        kind: Kind::BypassCodes,
        key: "bypass_codes",
        id_field: "bypass_code_id",
        owners: Owners::User { before: None },
        listed_prefix: "",
        filters: &[],
        indexed: "",
        together: false,
    },
    KindInfo {
        origin: Origin::Made {
            share: |m| m.desktop_authenticators,
            make: make_desktop_authenticator,
        },
        kind: Kind::DesktopAuthenticators,
        key: "desktop_authenticators",
        id_field: "dakey",
        owners: Owners::User { before: None },
        listed_prefix: "",
        filters: &[],
        indexed: "",
        together: false,
    },
    KindInfo {
        origin: Origin::Made {
            share: |m| m.endpoints,
            make: make_endpoint,
        },
        kind: Kind::Endpoints,
        key: "endpoints",
        id_field: "epkey",
        owners: Owners::Named,
        listed_prefix: "",
        filters: &[],
        indexed: "",
        together: false,
    },
    KindInfo {
        origin: Origin::Made {
            share: |m| m.registered_devices,
            make: make_registered_device,
        },
        kind: Kind::RegisteredDevices,
        key: "registered_devices",
        id_field: "compkey",
        owners: Owners::User { before: None },
        listed_prefix: "",
        filters: &[],
        indexed: "",
        together: false,
    },
];

impl Kind {
    /// This kind's facts.
    pub fn info(self) -> &'static KindInfo {
        &KINDS[self as usize]
    }
}

/// The fields of a user a device's `users`/`user` shows (the slim user), alphabetical.
const SLIM_USER: [&str; 17] = [
    "alias1",
    "alias2",
    "alias3",
    "alias4",
    "aliases",
    "created",
    "email",
    "firstname",
    "is_enrolled",
    "last_directory_sync",
    "last_login",
    "lastname",
    "notes",
    "realname",
    "status",
    "user_id",
    "username",
];

/// One kind's devices, as served.
#[derive(Debug, Default)]
pub struct Devices {
    /// As the kind's list and by-id endpoints show them (with their owners), in tenant order:
    /// the order in which users, in API order, first embed them.
    pub listed: JsonList,
    /// As users embed them (and a user's own list shows them), same order.
    pub embedded: JsonList,
    /// id → index.
    ids: HashMap<Box<str>, u32>,
    /// The indexed filter's value → index.
    keys: KeyIndex,
    /// User `i`'s devices are `user_list[user_offsets[i]..user_offsets[i + 1]]`, in the order
    /// the user object shows them.
    user_offsets: Vec<u32>,
    user_list: Vec<u32>,
}

impl Devices {
    /// The device with this id.
    pub fn by_id(&self, id: &str) -> Option<usize> {
        self.ids.get(id).map(|i| *i as usize)
    }

    /// Indices of user `user`'s devices, in the user object's order.
    pub fn of_user(&self, user: usize) -> Option<&[u32]> {
        let start = *self.user_offsets.get(user)? as usize;
        let end = *self.user_offsets.get(user + 1)? as usize;
        self.user_list.get(start..end)
    }

    /// The devices the request's filters select, in order; `None` without filters. A value
    /// must equal the field exactly; filters that must come together fail without each other.
    pub fn select(&self, info: &KindInfo, params: &Params) -> Result<Option<Vec<u32>>, ApiError> {
        let given: Vec<(&str, &[u8])> = info
            .filters
            .iter()
            .filter_map(|f| params.first(f).map(|v| (*f, v)))
            .collect();
        if given.is_empty() {
            return Ok(None);
        }
        if info.together
            && let Some(missing) = info.filters.iter().find(|f| !params.has(f))
        {
            return Err(ApiError::invalid_parameter(missing));
        }
        let candidates: Vec<usize> = match given.iter().find(|(f, _)| *f == info.indexed) {
            Some((_, value)) => match std::str::from_utf8(value) {
                Ok(value) => self.keys.candidates(value).collect(),
                Err(_) => Vec::new(),
            },
            None => (0..self.embedded.len()).collect(),
        };
        let mut found: Vec<u32> = candidates
            .into_iter()
            .filter(|i| {
                self.embedded
                    .item(*i)
                    .is_some_and(|json| fields_equal(&json, &given))
            })
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        found.sort_unstable();
        found.dedup();
        Ok(Some(found))
    }
}

/// Whether the object `json` has each `(field, value)` as a string equal to the value.
fn fields_equal(json: &[u8], given: &[(&str, &[u8])]) -> bool {
    let Ok(fields) = serde_json::from_slice::<BTreeMap<&str, &RawValue>>(json) else {
        return false;
    };
    given.iter().all(|(field, value)| {
        fields
            .get(field)
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
            .is_some_and(|text| text.as_bytes() == *value)
    })
}

/// A device seen while reading the users.
struct Seen {
    embedded: Vec<u8>,
    owners: Vec<u32>,
}

/// Every kind's devices, read from the users' rendered JSON or made for them (in [`Kind`]
/// order); `admins` (rendered) name who made bypass codes.
pub fn collect(users: &JsonList, admins: &JsonList, mix: &Mix) -> Vec<Devices> {
    let admin_email = admins
        .item(0)
        .and_then(|json| {
            serde_json::from_slice::<BTreeMap<&str, &RawValue>>(&json)
                .ok()
                .and_then(|a| {
                    a.get("email")
                        .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
                })
        })
        .unwrap_or_default();
    let total = users.len();
    let mut seen: Vec<Vec<Seen>> = KINDS.iter().map(|_| Vec::new()).collect();
    let mut out: Vec<Devices> = KINDS
        .iter()
        .map(|_| Devices {
            user_offsets: {
                let mut offsets = Vec::with_capacity(total + 1);
                offsets.push(0);
                offsets
            },
            ..Devices::default()
        })
        .collect();
    let mut slim: HashMap<u32, Vec<u8>> = HashMap::new();
    for i in 0..total {
        let at = u32::try_from(i).unwrap_or(u32::MAX);
        let json = users.item(i).unwrap_or_default();
        let fields = serde_json::from_slice::<BTreeMap<&str, &RawValue>>(&json).unwrap_or_default();
        for (info, (devices, seen)) in KINDS.iter().zip(out.iter_mut().zip(seen.iter_mut())) {
            let items: Vec<Vec<u8>> = match info.origin {
                Origin::Embedded => fields
                    .get(info.key)
                    .and_then(|raw| serde_json::from_str::<Vec<&RawValue>>(raw.get()).ok())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|item| item.get().as_bytes().to_vec())
                    .collect(),
                Origin::Made { share, make } => made(&fields, mix, &admin_email, info.kind, share(mix), make),
            };
            for item in items {
                let Ok(object) = serde_json::from_slice::<BTreeMap<&str, &RawValue>>(&item) else {
                    continue;
                };
                let text = |field: &str| {
                    object
                        .get(field)
                        .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
                        .unwrap_or_default()
                };
                let id = text(info.id_field);
                let next = u32::try_from(seen.len()).unwrap_or(u32::MAX);
                let index = *devices.ids.entry(id.into_boxed_str()).or_insert(next);
                if index == next {
                    devices.keys.insert_hash(key_hash(&text(info.indexed)), index);
                    seen.push(Seen {
                        embedded: item.clone(),
                        owners: Vec::new(),
                    });
                }
                let device = &mut seen[index as usize];
                if !device.owners.contains(&at) {
                    device.owners.push(at);
                }
                devices.user_list.push(index);
                slim.entry(at).or_insert_with(|| slim_user(&fields));
            }
            devices
                .user_offsets
                .push(u32::try_from(devices.user_list.len()).unwrap_or(u32::MAX));
        }
    }
    for ((info, devices), seen) in KINDS.iter().zip(&mut out).zip(seen) {
        devices.embedded = JsonList::build(&seen, |d, out| out.extend_from_slice(&d.embedded));
        devices.listed = JsonList::build(&seen, |d, out| {
            let owners: Vec<&[u8]> = d
                .owners
                .iter()
                .filter_map(|o| slim.get(o).map(Vec::as_slice))
                .collect();
            render_listed(info, &d.embedded, &owners, out);
        });
    }
    out
}

/// A made kind's objects for the user of `fields`: none unless the user's draw falls within
/// `share`.
fn made(
    fields: &BTreeMap<&str, &RawValue>,
    mix: &Mix,
    admin_email: &str,
    kind: Kind,
    share: f64,
    make: fn(&Owner<'_>, &mut ChaCha8Rng, &mut Vec<Vec<u8>>),
) -> Vec<Vec<u8>> {
    if share <= 0.0 {
        return Vec::new();
    }
    let text = |field: &str| {
        fields
            .get(field)
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
            .unwrap_or_default()
    };
    let (user_id, username, email) = (text("user_id"), text("username"), text("email"));
    let created = fields
        .get("created")
        .and_then(|raw| raw.get().parse::<i64>().ok())
        .unwrap_or(mix.anchor);
    // One stream per user and kind: the same user gets the same objects in any tenant order.
    let mut rng = ChaCha8Rng::seed_from_u64(
        mix.seed ^ key_hash(&user_id) ^ (kind as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let mut out = Vec::new();
    if rng.random_bool(share.min(1.0)) {
        let owner = Owner {
            user_id: &user_id,
            username: &username,
            email: &email,
            created,
            anchor: mix.anchor,
            admin_email,
        };
        make(&owner, &mut rng, &mut out);
    }
    out
}

/// A time between the user's creation and the anchor.
fn since_created(owner: &Owner<'_>, rng: &mut ChaCha8Rng) -> i64 {
    rng.random_range(owner.created..owner.anchor.max(owner.created + 1))
}

/// One to ten bypass codes (never their values): some never expire, some are reusable.
fn make_bypass_codes(owner: &Owner<'_>, rng: &mut ChaCha8Rng, out: &mut Vec<Vec<u8>>) {
    let count = rng.random_range(1..=10);
    let created = since_created(owner, rng);
    let expiration = rng
        .random_bool(0.6)
        .then(|| created + 86_400 * rng.random_range(1..30));
    let reuse_count = if rng.random_bool(0.2) {
        None
    } else {
        Some(rng.random_range(1..4))
    };
    for _ in 0..count {
        let mut json = Vec::with_capacity(160);
        let mut o = Obj::new(&mut json);
        o.str("admin_email", owner.admin_email)
            .str("bypass_code_id", &random_id(rng, "DB"))
            .int("created", created)
            .opt_int("expiration", expiration)
            .opt_int("reuse_count", reuse_count)
            .end();
        out.push(json);
    }
}

/// A Duo Desktop installation on the user's computer.
fn make_desktop_authenticator(_owner: &Owner<'_>, rng: &mut ChaCha8Rng, out: &mut Vec<Vec<u8>>) {
    let (os, machine) = *[
        ("Windows", "DESKTOP"),
        ("macOS", "MacBook"),
        ("Windows", "LAPTOP"),
    ]
    .choose(rng)
    .unwrap_or(&("Windows", "DESKTOP"));
    let daid: u128 = rng.random();
    let mut json = Vec::with_capacity(200);
    let dakey = random_id(rng, "DK");
    let (name, version) = desktop_name_and_version(machine, rng);
    Obj::new(&mut json)
        .str("daid", &format!("{daid:032x}"))
        .str("dakey", &dakey)
        .str("device_name", &name)
        .str("duo_desktop_version", version)
        .str("os_family", os)
        .end();
    out.push(json);
}

/// A Duo Desktop computer's `device_name` (`LAPTOP-12345`) and `duo_desktop_version`, drawn in
/// that order.
fn desktop_name_and_version(machine: &str, rng: &mut ChaCha8Rng) -> (String, &'static str) {
    let name = format!("{machine}-{}", rng.random_range(1000..99_999));
    let version = ["6.10.0", "6.11.1", "7.0.2"]
        .choose(rng)
        .copied()
        .unwrap_or("7.0.2");
    (name, version)
}

/// A computer Duo Desktop registered for its user. Duo publishes no example of this object: the
/// fields are the ones Duo Desktop's other objects show (docs/fidelity.md, unconfirmed).
fn make_registered_device(owner: &Owner<'_>, rng: &mut ChaCha8Rng, out: &mut Vec<Vec<u8>>) {
    let (os, version, machine) = *[
        ("Windows", "11", "DESKTOP"),
        ("macOS", "14.5", "MacBook"),
        ("Windows", "10", "LAPTOP"),
    ]
    .choose(rng)
    .unwrap_or(&("Windows", "11", "DESKTOP"));
    let registered = since_created(owner, rng);
    let mut json = Vec::with_capacity(200);
    let compkey = random_id(rng, "CD");
    let (name, desktop_version) = desktop_name_and_version(machine, rng);
    Obj::new(&mut json)
        .str("compkey", &compkey)
        .str("device_name", &name)
        .str("duo_desktop_version", desktop_version)
        .str("os_family", os)
        .str("os_version", version)
        .int("registered", registered)
        .end();
    out.push(json);
}

/// A computer seen by Duo's endpoint health checks, naming its user.
fn make_endpoint(owner: &Owner<'_>, rng: &mut ChaCha8Rng, out: &mut Vec<Vec<u8>>) {
    let mac = rng.random_bool(0.4);
    let (family, version, model) = if mac {
        ("Mac OS X", "14.5", "MacBookPro18,3")
    } else {
        ("Windows", "11", "Latitude 7440")
    };
    let uuid: u128 = rng.random();
    let hex = format!("{uuid:032X}");
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    let on_off = |rng: &mut ChaCha8Rng| if rng.random_bool(0.85) { "On" } else { "Off" };
    let (disk, firewall) = (on_off(rng), on_off(rng));
    let collected = since_created(owner, rng);
    let mut json = Vec::with_capacity(900);
    Obj::new(&mut json)
        .raw("browsers", b"[{\"browser_family\":\"Chrome\",\"browser_version\":\"126.0.6478.127\",\"flash_version\":\"uninstalled\",\"java_version\":\"uninstalled\"}]")
        .str("computer_sid", "")
        .str("cpu_id", "")
        .str("device_id", "")
        .str("device_identifier", &uuid)
        .str("device_identifier_type", "hardware_uuid")
        .str("device_name", &format!("{}-{}", if mac { "MacBook" } else { "DESKTOP" }, &hex[..6]))
        .str("device_udid", "")
        .str("device_username", owner.username)
        .str("device_username_type", "os_username")
        .str("disk_encryption_status", disk)
        .str("domain_sid", "")
        .str("email", owner.email)
        .str("epkey", &random_id(rng, "EP"))
        .str("firewall_status", firewall)
        .str("hardware_uuid", &uuid)
        .str("health_app_client_version", "5.1.0")
        .int("health_data_last_collected", collected)
        .int("last_updated", collected)
        .str("machine_guid", "")
        .str("model", model)
        .str("os_build", if mac { "23F79" } else { "22631" })
        .str("os_family", family)
        .str("os_version", version)
        .str("password_status", "Set")
        .raw("security_agents", b"[]")
        .str("trusted_endpoint", if disk == "On" && firewall == "On" { "yes" } else { "no" })
        .str("type", "")
        .str("username", owner.username)
        .end();
    out.push(json);
}

/// The slim user of a user object's fields.
fn slim_user(fields: &BTreeMap<&str, &RawValue>) -> Vec<u8> {
    let mut out = Vec::with_capacity(400);
    out.push(b'{');
    for name in SLIM_USER {
        if let Some(raw) = fields.get(name) {
            if out.len() > 1 {
                out.push(b',');
            }
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            out.extend_from_slice(raw.get().as_bytes());
        }
    }
    out.push(b'}');
    out
}

/// A device as its list shows it: the embedded object with the kind's extra fields and owners.
fn render_listed(info: &KindInfo, embedded: &[u8], owners: &[&[u8]], out: &mut Vec<u8>) {
    let Some(inner) = embedded
        .strip_prefix(b"{")
        .and_then(|rest| rest.strip_suffix(b"}"))
    else {
        out.extend_from_slice(embedded);
        return;
    };
    out.push(b'{');
    out.extend_from_slice(info.listed_prefix.as_bytes());
    match info.owners {
        Owners::Named => out.extend_from_slice(inner),
        Owners::Users => {
            out.extend_from_slice(inner);
            out.extend_from_slice(b",\"users\":[");
            for (i, owner) in owners.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(owner);
            }
            out.push(b']');
        }
        Owners::User { before } => {
            let at = before
                .and_then(|key| find_last(inner, format!(",\"{key}\":").as_bytes()))
                .unwrap_or(inner.len());
            out.extend_from_slice(&inner[..at]);
            out.extend_from_slice(b",\"user\":");
            out.extend_from_slice(owners.first().copied().unwrap_or(b"null"));
            out.extend_from_slice(&inner[at..]);
        }
    }
    out.push(b'}');
}

/// The position of the last `needle` in `haystack`.
fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_device_is_the_embedded_one_with_its_owners_in_key_order() {
        let mut out = Vec::new();
        render_listed(
            Kind::Phones.info(),
            br#"{"number":"+1","phone_id":"DP1","type":"Mobile"}"#,
            &[br#"{"user_id":"DU1"}"#, br#"{"user_id":"DU2"}"#],
            &mut out,
        );
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"number":"+1","phone_id":"DP1","type":"Mobile","users":[{"user_id":"DU1"},{"user_id":"DU2"}]}"#
        );
        out.clear();
        render_listed(
            Kind::WebAuthn.info(),
            br#"{"credential_name":"k","label":"Security Key","webauthnkey":"WA1"}"#,
            &[br#"{"user_id":"DU1"}"#],
            &mut out,
        );
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"credential_name":"k","label":"Security Key","user":{"user_id":"DU1"},"webauthnkey":"WA1"}"#
        );
        out.clear();
        render_listed(
            Kind::Tokens.info(),
            br#"{"serial":"1","token_id":"DH1"}"#,
            &[],
            &mut out,
        );
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"{"admins":[],"serial":"1","token_id":"DH1","users":[]}"#
        );
    }
}
