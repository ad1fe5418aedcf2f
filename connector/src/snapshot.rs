//! The snapshot document: what one sync saw, as evidence for an access review.
//!
//! Objects are kept as Duo sent them (`RawValue`: every field, byte for byte), so a field Duo adds
//! tomorrow reaches the evidence without a release of this connector. The schema is documented in
//! `connector/SNAPSHOT.md` and versioned by `schema_version`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
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
    pub users: Vec<Box<RawValue>>,
    /// `GET /admin/v1/admins` objects.
    pub admins: Vec<Box<RawValue>>,
    /// `GET /admin/v1/groups` objects.
    pub groups: Vec<Box<RawValue>>,
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
    /// it in memory.
    pub fn write_to(&self, mut out: impl std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer(&mut out, self)?;
        out.write_all(b"\n")?;
        out.flush()
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
