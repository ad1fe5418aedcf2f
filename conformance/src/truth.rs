//! The fake's ground truth: the tenant as it is served at the end of a run (churn included),
//! objects exactly as the API renders them, plus the drift the scenario's fault rules put on
//! every answer.

use std::collections::BTreeMap;

use mock_server::faults::{Drift, FaultRule, glob_matches};
use mock_server::{AppState, Scenario};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The tenant a connector should have synced.
#[derive(Debug)]
pub struct GroundTruth {
    /// Users in API order.
    pub users: Vec<Box<RawValue>>,
    /// Administrators in API order.
    pub admins: Vec<Box<RawValue>>,
    /// Groups in API order.
    pub groups: Vec<Box<RawValue>>,
    /// group_id → its members' user_ids, in API order.
    pub group_members: BTreeMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct Dump {
    users: Vec<Box<RawValue>>,
    admins: Vec<Box<RawValue>>,
    groups: Vec<Box<RawValue>>,
    group_members: BTreeMap<String, Vec<Member>>,
}

#[derive(Deserialize)]
struct Member {
    user_id: String,
}

impl GroundTruth {
    /// The tenant `state` serves now, with the drift of `scenario`'s unconditional drift rules
    /// applied as the fake applies it to every answer.
    pub fn of(state: &AppState, scenario: &Scenario) -> Result<Self, String> {
        let world = state.world();
        let mut dump = Vec::new();
        mock_server::dump::write_dump(&world.tenant, &[], &mut dump)
            .map_err(|e| format!("cannot dump the fake's tenant: {e}"))?;
        drop(world);
        let dump: Dump =
            serde_json::from_slice(&dump).map_err(|e| format!("cannot read the fake's dump: {e}"))?;
        let mut truth = Self {
            users: dump.users,
            admins: dump.admins,
            groups: dump.groups,
            group_members: dump
                .group_members
                .into_iter()
                .map(|(group, members)| (group, members.into_iter().map(|m| m.user_id).collect()))
                .collect(),
        };
        for rule in scenario.faults.iter().filter(|r| always_fires(r)) {
            for (path, list) in [
                ("/admin/v1/users", &mut truth.users),
                ("/admin/v1/admins", &mut truth.admins),
                ("/admin/v1/groups", &mut truth.groups),
            ] {
                if glob_matches(&rule.path, path) {
                    apply_drift(&rule.drift, list)?;
                }
            }
        }
        Ok(truth)
    }
}

/// A drift rule that fires on every read: its drift is part of what Duo "returns".
fn always_fires(rule: &FaultRule) -> bool {
    !rule.drift.is_empty()
        && rule.calls.is_none()
        && rule.page.is_none()
        && rule.query.is_empty()
        && rule.after_s.is_none()
        && rule.until_s.is_none()
        && rule.probability.is_none()
        && rule.integration.is_none()
        && rule
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case("GET"))
}

/// Drifts each object as the fake drifts its answers (the same function).
fn apply_drift(drift: &[Drift], list: &mut [Box<RawValue>]) -> Result<(), String> {
    for raw in list.iter_mut() {
        let mut object: Map<String, Value> = serde_json::from_str(raw.get())
            .map_err(|e| format!("the fake's dump has an object that is not one: {e}"))?;
        mock_server::faults::drift_object(drift, &mut object);
        let text = serde_json::to_string(&object).map_err(|e| e.to_string())?;
        *raw = RawValue::from_string(text).map_err(|e| e.to_string())?;
    }
    Ok(())
}
