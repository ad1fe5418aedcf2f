//! `[tenant] objects_file`: objects a scenario serves exactly as written, keyed by id. The
//! written-out records (`[[users]]`, `[[groups]]`, `[[admins]]`) still say who exists, with which
//! ids, names and memberships; an object here replaces the rendering of the record with its id,
//! byte for byte: every field, in the order written. `duo-mock record` writes one, because Duo's
//! objects carry far more than a record can say (phones, tokens, custom attributes…).
//!
//! ```json
//! {"users":   {"DU…": {…the user object…}},
//!  "groups":  {"DG…": {…}},
//!  "admins":  {"DE…": {…}},
//!  "members": {"DU…": {…the user as a group's member list shows it…}},
//!  "summary": {…/admin/v1/info/summary's response…},
//!  "settings": {…/admin/v1/settings' response…}}
//! ```

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// The objects of a scenario's `objects_file` (empty without one).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objects {
    /// Users by `user_id`.
    #[serde(default)]
    pub users: HashMap<String, Box<RawValue>>,
    /// Groups by `group_id` (in lists, and in users' `groups`).
    #[serde(default)]
    pub groups: HashMap<String, Box<RawValue>>,
    /// Administrators by `admin_id`.
    #[serde(default)]
    pub admins: HashMap<String, Box<RawValue>>,
    /// Users as member lists show them, by `user_id`.
    #[serde(default)]
    pub members: HashMap<String, Box<RawValue>>,
    /// `/admin/v1/info/summary`'s `response`.
    pub summary: Option<Box<RawValue>>,
    /// `/admin/v1/settings`' `response`.
    pub settings: Option<Box<RawValue>>,
}

fn bytes(raw: Option<&RawValue>) -> Option<&[u8]> {
    raw.map(|r| r.get().as_bytes())
}

impl Objects {
    /// Reads the scenario's `objects_file`, if it names one.
    pub fn of(scenario: &Scenario) -> Result<Self> {
        let Some(file) = &scenario.tenant.objects_file else {
            return Ok(Self::default());
        };
        let path = scenario.base_dir.join(file);
        let invalid = |message: String| {
            Error::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, message),
            )
        };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let objects: Self =
            serde_json::from_str(&text).map_err(|e| invalid(format!("tenant.objects_file: {e}")))?;
        let all = [&objects.users, &objects.groups, &objects.admins, &objects.members];
        let singles = [&objects.summary, &objects.settings];
        let not_an_object = all
            .iter()
            .flat_map(|m| m.iter())
            .map(|(id, raw)| (id.as_str(), raw))
            .chain(
                singles
                    .iter()
                    .filter_map(|r| r.as_ref().map(|raw| ("summary or settings", raw))),
            )
            .find(|(_, raw)| !raw.get().trim_start().starts_with('{'));
        if let Some((id, _)) = not_an_object {
            return Err(invalid(format!("tenant.objects_file: {id} is not a JSON object")));
        }
        Ok(objects)
    }

    /// The user with this id, as written.
    pub fn user(&self, id: &str) -> Option<&[u8]> {
        bytes(self.users.get(id).map(AsRef::as_ref))
    }

    /// The group with this id, as written.
    pub fn group(&self, id: &str) -> Option<&[u8]> {
        bytes(self.groups.get(id).map(AsRef::as_ref))
    }

    /// The administrator with this id, as written.
    pub fn admin(&self, id: &str) -> Option<&[u8]> {
        bytes(self.admins.get(id).map(AsRef::as_ref))
    }

    /// The user with this id as a member list shows it.
    pub fn member(&self, id: &str) -> Option<&[u8]> {
        bytes(self.members.get(id).map(AsRef::as_ref))
    }

    /// `info/summary`, as written.
    pub fn summary(&self) -> Option<&[u8]> {
        bytes(self.summary.as_deref())
    }

    /// `settings`, as written.
    pub fn settings(&self) -> Option<&[u8]> {
        bytes(self.settings.as_deref())
    }
}
