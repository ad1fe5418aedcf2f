//! The snapshot document: what one sync saw, as evidence for an access review.
//!
//! Objects are kept as Duo sent them ([`RawObject`]: every field, byte for byte), so a field Duo
//! adds tomorrow reaches the evidence without a release of this connector. The schema is documented in
//! `connector/SNAPSHOT.md` and versioned by `schema_version`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use bytes::Bytes;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::Error;

/// The version of the snapshot schema this crate writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// One sync's result.
#[derive(Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`SCHEMA_VERSION`] when written by this crate.
    pub schema_version: u32,
    /// The API hostname synced, as configured (`host` or `host:port`).
    pub api_host: String,
    /// When the sync finished, RFC 3339 in UTC.
    pub synced_at: String,
    /// `GET /admin/v1/users` objects, each once, in the order Duo listed them.
    pub users: Vec<RawObject>,
    /// `GET /admin/v1/admins` objects.
    pub admins: Vec<RawObject>,
    /// `GET /admin/v1/groups` objects.
    pub groups: Vec<RawObject>,
    /// Every group's member user ids (`GET /admin/v2/groups/{id}/users`), each once, in Duo's order.
    pub group_members: BTreeMap<String, Vec<String>>,
}

impl Snapshot {
    /// Reads a snapshot file written by `sync`.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::io(path, source))?;
        Self::parse(&text).map_err(|reason| Error::Snapshot {
            path: path.to_owned(),
            reason,
        })
    }

    /// Parses a snapshot document; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Self, String> {
        let snapshot: Self = serde_json::from_str(text)
            .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
        if snapshot.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} is not supported (this connector reads version {SCHEMA_VERSION})",
                snapshot.schema_version
            ));
        }
        Ok(snapshot)
    }

    /// The document as written to disk: compact JSON ending in a newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing raw values and strings to memory cannot fail.
        let _ = self.write_to(&mut out);
        out
    }

    /// Streams the document to `out`, so writing a large snapshot does not hold a second copy of
    /// it in memory. The same bytes as serde_json writes for the document, written by hand so that
    /// each object's bytes go out as they are instead of being checked as JSON again.
    pub fn write_to(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        write!(out, "{{\"schema_version\":{},\"api_host\":", self.schema_version)?;
        serde_json::to_writer(&mut out, &self.api_host)?;
        out.write_all(b",\"synced_at\":")?;
        serde_json::to_writer(&mut out, &self.synced_at)?;
        for (name, objects) in [
            ("users", &self.users),
            ("admins", &self.admins),
            ("groups", &self.groups),
        ] {
            write!(out, ",\"{name}\":[")?;
            for (i, object) in objects.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(object.as_bytes())?;
            }
            out.write_all(b"]")?;
        }
        out.write_all(b",\"group_members\":")?;
        serde_json::to_writer(&mut out, &self.group_members)?;
        out.write_all(b"}\n")?;
        out.flush()
    }
}

/// One object exactly as Duo sent it: JSON text, every field, byte for byte.
///
/// A synced object is a slice of the page it came in (`Bytes` counts references), so keeping a
/// page's 300 objects costs no copy and no allocation each. The page's buffer lives as long as
/// any of its objects does, which costs little: the objects are nearly all of the page.
#[derive(Clone, PartialEq, Eq)]
pub struct RawObject(Bytes);

impl RawObject {
    /// `body[range]`, where `body` is UTF-8 and `range` spans one JSON value in it.
    pub(crate) fn slice_of(body: &Bytes, range: Range<usize>) -> Self {
        Self(body.slice(range))
    }

    /// The object's JSON text.
    pub fn get(&self) -> &str {
        // Never empty in practice: an object is made only from text already checked as UTF-8 JSON.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The object's JSON text, as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Box<RawValue>> for RawObject {
    fn from(raw: Box<RawValue>) -> Self {
        Self(Bytes::from(Box::<str>::from(raw).into_boxed_bytes()))
    }
}

impl std::fmt::Debug for RawObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RawObject").field(&self.get()).finish()
    }
}

impl Serialize for RawObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(self.get()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(deserializer).map(Self::from)
    }
}

/// A snapshot from JSON fragments, for tests: `users`, `admins`, `groups` are the lists' contents
/// and `members` the `group_members` object's contents.
#[cfg(test)]
pub(crate) fn test_snapshot(
    synced_at: &str,
    users: &str,
    admins: &str,
    groups: &str,
    members: &str,
) -> Snapshot {
    let text = format!(
        r#"{{"schema_version":1,"api_host":"api-test.duosecurity.com","synced_at":"{synced_at}",
           "users":[{users}],"admins":[{admins}],"groups":[{groups}],"group_members":{{{members}}}}}"#
    );
    Snapshot::parse(&text).expect("a test snapshot parses")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written document is byte for byte what serde_json writes for it.
    #[test]
    fn written_by_hand_as_serde_json_writes_it() {
        let users = r#"{"user_id":"DU1","realname":"Zoë \"Z\" \u00e9","groups":[{"group_id":"DG1"}]},
            { "user_id" : "DU2" }"#;
        let groups = r#"{"group_id":"DG1","name":"a/b\\c"}"#;
        let members = r#""DG1":["DU2","DU1"],"DG\"2\n":[]"#;
        let mut snapshot = test_snapshot("2026-01-01T00:00:00Z", users, "", groups, members);
        snapshot.api_host = "api-\"x\"\u{1}.example:443".to_owned();
        let mut expected = serde_json::to_vec(&snapshot).unwrap();
        expected.push(b'\n');
        assert_eq!(String::from_utf8(snapshot.to_json()), String::from_utf8(expected));
        let reread = Snapshot::parse(std::str::from_utf8(&snapshot.to_json()).unwrap()).unwrap();
        assert_eq!(reread.users, snapshot.users);
        assert_eq!(reread.users[1].get(), r#"{ "user_id" : "DU2" }"#);
    }
}
