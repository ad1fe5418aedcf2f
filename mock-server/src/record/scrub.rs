//! Scrubbing a recording: every name, username, e-mail, phone number, id, free text and IP
//! address is replaced by a pseudonym, the same one wherever the same value appears (in users,
//! members, groups, admins, phones, paths and pages), so memberships and references survive.
//! Objects keep every other field, and their key order, as recorded; timestamps are kept.
//!
//! What is replaced, by the key that holds it or by the value's shape:
//!
//! | Value | Pseudonym |
//! |---|---|
//! | a Duo id (`DU…`, `DG…`, `DE…`, `DP…`…: two letters and 18 letters or digits) | the same prefix, a counter |
//! | `username`, `alias1`…`alias4`, the values of `aliases` | `user0001`… |
//! | `email`, any value shaped like an e-mail address | `person0001@example.com`… |
//! | `firstname`, `lastname`, `realname` (kept as first + last when it was) | `Given1`, `Family1` |
//! | `name` of a group / an administrator / a device / the account | `Group 001` / `Admin 001` / `Device 1` / `Recorded tenant` |
//! | `number`, `phone`, `extension` | `+15550100001`… |
//! | `notes`, `desc`, `label`, `credential_name`, custom attributes | `(scrubbed text 1)`… (empty stays empty) |
//! | `external_id` | a UUID-shaped counter |
//! | `serial` | `serial-000001`… |
//! | an IP address (v4 or v6) | `192.0.2.1`…, `2001:db8::1`… |
//! | `role` other than Duo's built-in roles | `Custom role 1`… |
//! | any other string equal to a value replaced above | that value's pseudonym |

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// JSON with objects' keys kept in the order they came.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as serde_json read it.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, keys in order.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// The value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Self::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A string's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// An array's items.
    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }

    /// A number as an unsigned integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Self::Number(n) => n.as_u64(),
            Self::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    /// Compact JSON text.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
                Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut pairs = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Json>()? {
                    pairs.push((key, value));
                }
                Ok(Json::Object(pairs))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(pairs) => {
                let mut map = serializer.serialize_map(Some(pairs.len()))?;
                for (k, v) in pairs {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// What kind of object a value sits in: decides what `name` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A user (or a member list's user).
    User,
    /// A group.
    Group,
    /// An administrator.
    Admin,
    /// A phone, token or WebAuthn credential.
    Device,
    /// The account's settings.
    Settings,
    /// Anything else.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Id,
    Username,
    Email,
    First,
    Last,
    Real,
    GroupName,
    AdminName,
    DeviceName,
    TenantName,
    Phone,
    Text,
    ExternalId,
    Serial,
    Ip,
    Role,
}

/// The pseudonyms given so far.
#[derive(Debug, Default)]
pub struct Pseudonyms {
    given: HashMap<String, String>,
    counters: HashMap<(Kind, String), usize>,
}

fn is_duo_id(text: &str) -> bool {
    text.len() == 20
        && text.bytes().take(2).all(|b| b.is_ascii_uppercase())
        && text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn looks_like_email(text: &str) -> bool {
    match text.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace)
        }
        None => false,
    }
}

impl Pseudonyms {
    /// An empty set of pseudonyms.
    pub fn new() -> Self {
        Self::default()
    }

    fn next(&mut self, kind: Kind, class: &str) -> usize {
        let n = self.counters.entry((kind, class.to_owned())).or_default();
        *n += 1;
        *n
    }

    /// The pseudonym of `original` as a value of `kind` (given once, the same ever after).
    fn name(&mut self, kind: Kind, original: &str) -> String {
        if original.is_empty() {
            return String::new();
        }
        if let Some(given) = self.given.get(original) {
            return given.clone();
        }
        let made = match kind {
            Kind::Id => {
                let prefix = original.get(..2).unwrap_or("DX");
                let n = self.next(kind, prefix);
                format!("{prefix}{n:018}")
            }
            Kind::Username => format!("user{:04}", self.next(kind, "")),
            Kind::Email => format!("person{:04}@example.com", self.next(kind, "")),
            Kind::First => format!("Given{}", self.next(kind, "")),
            Kind::Last => format!("Family{}", self.next(kind, "")),
            Kind::Real => format!("Person {}", self.next(kind, "")),
            Kind::GroupName => format!("Group {:03}", self.next(kind, "")),
            Kind::AdminName => format!("Admin {:03}", self.next(kind, "")),
            Kind::DeviceName => format!("Device {}", self.next(kind, "")),
            Kind::TenantName => "Recorded tenant".to_owned(),
            Kind::Phone => format!("+1555010{:04}", self.next(kind, "")),
            Kind::Text => format!("(scrubbed text {})", self.next(kind, "")),
            Kind::ExternalId => format!("00000000-0000-4000-8000-{:012}", self.next(kind, "")),
            Kind::Serial => format!("serial-{:06}", self.next(kind, "")),
            Kind::Ip => {
                let n = self.next(kind, if original.contains(':') { "6" } else { "4" });
                if original.contains(':') {
                    format!("2001:db8::{n:x}")
                } else {
                    let (net, host) = match n {
                        1..=254 => ("192.0.2", n),
                        255..=508 => ("198.51.100", n - 254),
                        _ => ("203.0.113", (n - 508) % 254 + 1),
                    };
                    format!("{net}.{host}")
                }
            }
            Kind::Role => {
                if crate::model::DUO_ROLES.contains(&original) {
                    return original.to_owned();
                }
                format!("Custom role {}", self.next(kind, ""))
            }
        };
        self.given.insert(original.to_owned(), made.clone());
        made
    }

    /// What a string becomes: by its key and place, else by its shape, else as a value already
    /// replaced elsewhere, else itself.
    fn string(&mut self, key: Option<&str>, place: Place, text: &str) -> String {
        let by_key = match (key, place) {
            (Some("username" | "alias1" | "alias2" | "alias3" | "alias4"), _) => Some(Kind::Username),
            (Some("email"), _) => Some(Kind::Email),
            (Some("firstname"), _) => Some(Kind::First),
            (Some("lastname"), _) => Some(Kind::Last),
            (Some("realname"), _) => Some(Kind::Real),
            (Some("name"), Place::Group) => Some(Kind::GroupName),
            (Some("name"), Place::Admin) => Some(Kind::AdminName),
            (Some("name"), Place::Device) => Some(Kind::DeviceName),
            (Some("name"), Place::Settings) => Some(Kind::TenantName),
            (Some("name"), Place::User | Place::Other) => Some(Kind::Real),
            (Some("number" | "phone" | "extension" | "sms_passcodes_sent_to"), _) => Some(Kind::Phone),
            (Some("notes" | "desc" | "description" | "label" | "credential_name"), _) => Some(Kind::Text),
            (Some("external_id"), _) => Some(Kind::ExternalId),
            (Some("serial"), _) => Some(Kind::Serial),
            (Some("role"), Place::Admin) => Some(Kind::Role),
            _ => None,
        };
        if is_duo_id(text) {
            return self.name(Kind::Id, text);
        }
        if text.parse::<std::net::IpAddr>().is_ok() {
            return self.name(Kind::Ip, text);
        }
        if by_key == Some(Kind::Real)
            && let Some(composed) = self.composed_name(text)
        {
            return composed;
        }
        match by_key {
            Some(kind) => self.name(kind, text),
            None if looks_like_email(text) => self.name(Kind::Email, text),
            None => self.given.get(text).cloned().unwrap_or_else(|| text.to_owned()),
        }
    }

    /// `First Last` as the pseudonyms of its two parts, when both were seen as names.
    fn composed_name(&mut self, text: &str) -> Option<String> {
        if let Some(given) = self.given.get(text) {
            return Some(given.clone());
        }
        let (first, last) = text.split_once(' ')?;
        let (first, last) = (self.given.get(first)?.clone(), self.given.get(last)?.clone());
        let made = format!("{first} {last}");
        self.given.insert(text.to_owned(), made.clone());
        Some(made)
    }

    /// `value` scrubbed; `place` is the kind of object it is (or sits in).
    pub fn json(&mut self, value: &Json, place: Place) -> Json {
        self.walk(value, None, place)
    }

    fn walk(&mut self, value: &Json, key: Option<&str>, place: Place) -> Json {
        match value {
            Json::String(text) => Json::String(self.string(key, place, text)),
            Json::Array(items) => {
                let inner = match key {
                    Some("groups") => Place::Group,
                    Some("phones" | "tokens" | "u2ftokens" | "webauthncredentials" | "desktoptokens") => {
                        Place::Device
                    }
                    Some("users") => Place::User,
                    _ => place,
                };
                // An array keeps the key it sits under: ["a", "b"] under `aliases` are aliases.
                Json::Array(items.iter().map(|item| self.walk(item, key, inner)).collect())
            }
            Json::Object(pairs) => {
                let inner = match key {
                    Some("aliases") => {
                        return Json::Object(
                            pairs
                                .iter()
                                .map(|(k, v)| (k.clone(), self.walk(v, Some("alias1"), place)))
                                .collect(),
                        );
                    }
                    Some("custom_attributes") => {
                        return Json::Object(
                            pairs
                                .iter()
                                .map(|(k, v)| (k.clone(), self.walk(v, Some("notes"), place)))
                                .collect(),
                        );
                    }
                    Some("groups") => Place::Group,
                    Some("phones" | "tokens" | "u2ftokens" | "webauthncredentials" | "desktoptokens") => {
                        Place::Device
                    }
                    _ => place,
                };
                // Names first, so that `realname` can be told as first + last.
                let mut order: Vec<usize> = (0..pairs.len()).collect();
                order.sort_by_key(|i| !matches!(pairs[*i].0.as_str(), "firstname" | "lastname"));
                let mut out: Vec<Option<(String, Json)>> = vec![None; pairs.len()];
                for i in order {
                    let (k, v) = &pairs[i];
                    out[i] = Some((k.clone(), self.walk(v, Some(k), inner)));
                }
                Json::Object(out.into_iter().flatten().collect())
            }
            other => other.clone(),
        }
    }

    /// A path with its ids replaced.
    pub fn path(&mut self, path: &str) -> String {
        path.split('/')
            .map(|segment| {
                if is_duo_id(segment) {
                    self.name(Kind::Id, segment)
                } else {
                    segment.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Free text (a page, a message): every value replaced so far, and every e-mail address and
    /// IP address in it, replaced; the longest values first, so a name inside an e-mail goes
    /// with the e-mail.
    pub fn text(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut word = String::new();
        let flush = |this: &mut Self, word: &mut String, out: &mut String| {
            if !word.is_empty() {
                let trimmed = word.trim_matches(|c: char| matches!(c, '.' | ':' | '[' | ']'));
                let replaced = if looks_like_email(trimmed) {
                    Some(this.name(Kind::Email, trimmed))
                } else if trimmed.parse::<std::net::IpAddr>().is_ok() {
                    Some(this.name(Kind::Ip, trimmed))
                } else if is_duo_id(trimmed) {
                    Some(this.name(Kind::Id, trimmed))
                } else {
                    None
                };
                match replaced {
                    Some(r) => out.push_str(&word.replacen(trimmed, &r, 1)),
                    None => out.push_str(word),
                }
                word.clear();
            }
        };
        for c in text.chars() {
            if c.is_alphanumeric() || matches!(c, '.' | '@' | ':' | '_' | '-' | '+') {
                word.push(c);
            } else {
                flush(self, &mut word, &mut out);
                out.push(c);
            }
        }
        flush(self, &mut word, &mut out);
        let mut known: Vec<(&String, &String)> = self
            .given
            .iter()
            .filter(|(original, _)| original.chars().count() >= 3)
            .collect();
        known.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
        for (original, pseudonym) in known {
            if out.contains(original.as_str()) {
                out = out.replace(original.as_str(), pseudonym);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Json {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_same_value_gets_the_same_pseudonym_everywhere_and_key_order_stays() {
        let mut p = Pseudonyms::new();
        let user = parse(
            r#"{"username":"ann.lee","user_id":"DU0123456789ABCDEFGH","realname":"Ann Lee","firstname":"Ann","lastname":"Lee","email":"ann@acme.example","phones":[{"number":"+15551234567","name":"Ann's phone","platform":"Apple iOS"}],"groups":[{"name":"Sales","group_id":"DGAAAAAAAAAAAAAAAAAA"}],"notes":"","created":1700000000}"#,
        );
        let member =
            parse(r#"{"user_id":"DU0123456789ABCDEFGH","username":"ann.lee","email":"ann@acme.example"}"#);
        let user_out = p.json(&user, Place::User);
        let member_out = p.json(&member, Place::User);
        let text = user_out.to_text();
        for original in [
            "ann.lee",
            "Ann",
            "Lee",
            "acme",
            "5551234567",
            "Sales",
            "0123456789",
        ] {
            assert!(!text.contains(original), "{original} in {text}");
        }
        assert_eq!(user_out.get("username"), member_out.get("username"));
        assert_eq!(user_out.get("user_id"), member_out.get("user_id"));
        assert_eq!(user_out.get("email"), member_out.get("email"));
        let keys: Vec<&str> = match &user_out {
            Json::Object(pairs) => pairs.iter().map(|(k, _)| k.as_str()).collect(),
            _ => vec![],
        };
        assert_eq!(
            keys[..3],
            ["username", "user_id", "realname"],
            "order as recorded"
        );
        assert_eq!(
            user_out.get("realname").and_then(Json::as_str),
            Some("Given1 Family1"),
            "first + last stays first + last"
        );
        assert_eq!(user_out.get("created"), user.get("created"), "timestamps kept");
        assert_eq!(user_out.get("notes").and_then(Json::as_str), Some(""));
        let phone = &user_out.get("phones").unwrap().as_array().unwrap()[0];
        assert_eq!(phone.get("platform").and_then(Json::as_str), Some("Apple iOS"));
        assert_eq!(
            p.path("/admin/v1/users/DU0123456789ABCDEFGH/groups"),
            format!(
                "/admin/v1/users/{}/groups",
                user_out.get("user_id").unwrap().as_str().unwrap()
            )
        );
    }

    #[test]
    fn pages_lose_addresses_and_known_names() {
        let mut p = Pseudonyms::new();
        p.json(&parse(r#"{"username":"bob.smith"}"#), Place::User);
        let page =
            p.text("<p>Blocked for bob.smith from 203.0.113.77 (ops@acme.example), IPv6 2001:db8:1::5.</p>");
        for original in ["bob.smith", "203.0.113.77", "acme", "2001:db8:1::5"] {
            assert!(!page.contains(original), "{original} in {page}");
        }
        assert!(page.contains("user0001"), "{page}");
    }
}
