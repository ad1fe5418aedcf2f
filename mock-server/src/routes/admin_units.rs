//! Administrative units (Grant administrators): the scenario's `[[admin_units]]`, whose admins'
//! objects name them (`admin_units`, `restricted_by_admin_units`), and one by id.

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use rand::SeedableRng as _;
use serde_json::json;

use super::{object, path_id};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::error::Result;
use crate::grants::Grant;
use crate::scenario::Scenario;
use crate::state::AppState;
use crate::store::{JsonList, key_hash};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/admin/v1/administrative_units/{admin_unit_id}", get(one))
}

/// The list's filters, at most one at a time: the unit's admins, groups or integrations.
const FILTERS: [&str; 3] = ["admin_id", "group_id", "integration_key"];

/// What [`build`] makes: the units, their index, what filters compare, and each admin's units.
#[derive(Debug, Default)]
pub(crate) struct Built {
    pub list: JsonList,
    pub by_id: HashMap<Box<str>, u32>,
    pub members: Vec<[Vec<Box<str>>; 3]>,
    /// admin e-mail → ids of the units it belongs to, in unit order.
    pub of_admin: HashMap<String, Vec<String>>,
}

/// Ids are the scenario's or drawn from its seed (a stream of their own: adding units changes no
/// other object). `group_ids` maps every group name to its id, `admin_ids` every written-out
/// admin's e-mail to its id.
pub(crate) fn build(
    scenario: &Scenario,
    group_ids: &HashMap<&str, &str>,
    admin_ids: &HashMap<&str, &str>,
) -> Result<Built> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(scenario.tenant.seed ^ key_hash("admin_units"));
    let mut built = Built::default();
    let mut objects = Vec::new();
    for (n, unit) in scenario.admin_units.iter().enumerate() {
        let id = unit.admin_unit_id.as_ref().map_or_else(
            || crate::model::random_id(&mut rng, "DN"),
            |id| id.get_ref().clone(),
        );
        let admins: Vec<&str> = unit
            .admins
            .iter()
            .filter_map(|email| admin_ids.get(email.get_ref().as_str()).copied())
            .collect();
        let mut groups = Vec::new();
        for name in &unit.groups {
            let group = group_ids.get(name.get_ref().as_str()).ok_or_else(|| {
                scenario.error_at(
                    name.span(),
                    format!(
                        "admin unit {:?} names group {:?}, which the scenario does not have",
                        unit.name.get_ref(),
                        name.get_ref()
                    ),
                )
            })?;
            groups.push(*group);
        }
        let integrations: Vec<&str> = unit
            .integrations
            .iter()
            .filter_map(|name| {
                scenario
                    .integrations
                    .iter()
                    .find(|i| i.name == *name.get_ref())
                    .map(|i| i.ikey.as_str())
            })
            .collect();
        for email in &unit.admins {
            built
                .of_admin
                .entry(email.get_ref().clone())
                .or_default()
                .push(id.clone());
        }
        let boxed = |ids: &[&str]| ids.iter().map(|s| Box::<str>::from(*s)).collect::<Vec<_>>();
        built
            .members
            .push([boxed(&admins), boxed(&groups), boxed(&integrations)]);
        built
            .by_id
            .insert(id.as_str().into(), u32::try_from(n).unwrap_or(u32::MAX));
        objects.push(
            serde_json::to_vec(&json!({
                "admin_unit_id": id,
                "admins": admins,
                "description": unit.description,
                "groups": groups,
                "integrations": integrations,
                "name": unit.name.get_ref(),
                "restrict_by_groups": !groups.is_empty(),
                "restrict_by_integrations": !integrations.is_empty(),
            }))
            .unwrap_or_default(),
        );
    }
    built.list = JsonList::build(&objects, |json, out| out.extend_from_slice(json));
    Ok(built)
}

/// The units a list filter keeps (`None`: no filter), or 40002 naming the second filter given.
pub(super) fn filtered(
    params: &crate::params::Params,
    members: &[[Vec<Box<str>>; 3]],
) -> std::result::Result<Option<Vec<u32>>, ApiError> {
    let mut chosen = None;
    for (which, name) in FILTERS.iter().enumerate() {
        if let Some(value) = params.first(name) {
            if chosen.is_some() {
                return Err(ApiError::invalid_parameter(name));
            }
            chosen = Some((which, value));
        }
    }
    Ok(chosen.map(|(which, value)| {
        (0..members.len())
            .filter(|&u| members[u][which].iter().any(|id| id.as_bytes() == value))
            .filter_map(|u| u32::try_from(u).ok())
            .collect()
    }))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> std::result::Result<Response, ApiError> {
    caller.require(Grant::Administrators)?;
    let world = state.world();
    let id = path_id(id)?;
    let account = &world.tenant.account;
    let index = account.admin_unit(&id).ok_or_else(ApiError::not_found)?;
    Ok(object(
        account.admin_units.item(index).ok_or_else(ApiError::not_found)?,
    ))
}
