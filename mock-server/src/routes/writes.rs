//! Write endpoints (Grant write resource): create, modify and delete users, add and remove a
//! user's group membership, create and delete groups. Each write edits the served tenant (see
//! `edit`), so the fake is stateful for its life; `/__duo-mock/dump` shows the current state and
//! a reset returns to the scenario. Writes are serialized, and rebuild the tenant: fine for test
//! tenants, slow (about a second) on a 100,000-user one.

use std::sync::Mutex;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use rand::SeedableRng;
use serde_json::{Map, Value};

use super::{object, path_id};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::edit::TenantEdit;
use crate::grants::Grant;
use crate::model::{self, Group, RenderOptions, User};
use crate::params::Params;
use crate::scenario::GROUP_STATUSES;
use crate::state::{AppState, World};

/// Serializes edits, so two writes never start from the same tenant and lose one.
static EDITS: Mutex<()> = Mutex::new(());

/// The parameters of a write: query, form body (v2) and JSON body (v5) together.
fn write_params(caller: &Caller, body: &Bytes) -> Params {
    let mut params = caller.params.clone();
    if let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(body) {
        let pairs: Vec<String> = fields
            .iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                format!(
                    "{}={}",
                    duo_auth::params::encode(k.as_bytes()),
                    duo_auth::params::encode(value.as_bytes())
                )
            })
            .collect();
        params.extend(&Params::parse(pairs.join("&").as_bytes()));
    }
    params
}

fn text(params: &Params, key: &str) -> Result<Option<String>, ApiError> {
    params
        .first(key)
        .map(|v| String::from_utf8(v.to_vec()).map_err(|_| ApiError::invalid_parameter(key)))
        .transpose()
}

/// Runs `change` on the tenant being served and serves the result.
fn edit<R>(
    state: &AppState,
    change: impl FnOnce(&mut TenantEdit, &World) -> Result<R, ApiError>,
) -> Result<R, ApiError> {
    let _one_at_a_time = EDITS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let world = state.world();
    let scenario = &world.scenario;
    let mut tenant = TenantEdit::new(
        &world.tenant,
        scenario.integrations.len() as u64,
        scenario.tenant.telephony_credits_remaining,
    );
    let result = change(&mut tenant, &world)?;
    state.swap_world(world.with_tenant(tenant.build()));
    Ok(result)
}

fn as_response(object_json: &Map<String, Value>) -> Response {
    object(Bytes::from(serde_json::to_vec(object_json).unwrap_or_default()))
}

fn empty() -> Response {
    object(Bytes::from_static(b"\"\""))
}

fn field(o: &Map<String, Value>, key: &str) -> String {
    o.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Applies Duo's writable user fields from `params` to a user object.
fn apply_user_fields(user: &mut Map<String, Value>, params: &Params) -> Result<(), ApiError> {
    for key in ["realname", "email", "firstname", "lastname", "notes"] {
        if let Some(value) = text(params, key)? {
            user.insert(key.into(), Value::from(value));
        }
    }
    if let Some(status) = text(params, "status")? {
        if !["active", "bypass", "disabled"].contains(&status.as_str()) {
            return Err(ApiError::invalid_parameter("status"));
        }
        user.insert("status".into(), Value::from(status));
    }
    let mut aliases = user
        .get("aliases")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for n in 1..=4 {
        let key = format!("alias{n}");
        if let Some(alias) = text(params, &key)? {
            if alias.is_empty() {
                aliases.remove(&key);
                user.insert(key, Value::Null);
            } else {
                aliases.insert(key.clone(), Value::from(alias.clone()));
                user.insert(key, Value::from(alias));
            }
        }
    }
    user.insert("aliases".into(), Value::Object(aliases));
    Ok(())
}

fn username_taken(tenant: &TenantEdit, username: &str, except: Option<usize>) -> bool {
    tenant
        .users
        .iter()
        .enumerate()
        .any(|(i, u)| Some(i) != except && field(u, "username") == username)
}

/// `POST /admin/v1/users`
pub(super) async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Grant::WriteResource)?;
    let params = write_params(&caller, &body);
    let username = text(&params, "username")?
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter("username"))?;
    edit(&state, |tenant, world| {
        let scenario = &world.scenario;
        if username_taken(tenant, &username, None) {
            return Err(ApiError::invalid_parameter("username"));
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
            scenario.tenant.seed ^ crate::store::key_hash(&username) ^ tenant.users.len() as u64,
        );
        let user = User::new(
            model::random_id(&mut rng, "DU"),
            username,
            String::new(),
            state.now(),
        );
        let mut object = user.to_object(RenderOptions::of(&scenario.options));
        apply_user_fields(&mut object, &params)?;
        tenant.users.push(object.clone());
        Ok(as_response(&object))
    })
}

/// `POST /admin/v1/users/{user_id}`
pub(super) async fn modify_user(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Grant::WriteResource)?;
    let user_id = path_id(user_id)?;
    let params = write_params(&caller, &body);
    edit(&state, |tenant, _| {
        let index = tenant.user_index(&user_id).ok_or_else(ApiError::not_found)?;
        if let Some(username) = text(&params, "username")? {
            if username.is_empty() || username_taken(tenant, &username, Some(index)) {
                return Err(ApiError::invalid_parameter("username"));
            }
            tenant.users[index].insert("username".into(), Value::from(username));
        }
        apply_user_fields(&mut tenant.users[index], &params)?;
        Ok(as_response(&tenant.users[index]))
    })
}

/// `DELETE /admin/v1/users/{user_id}`
pub(super) async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::WriteResource)?;
    let user_id = path_id(user_id)?;
    edit(&state, |tenant, _| {
        let index = tenant.user_index(&user_id).ok_or_else(ApiError::not_found)?;
        tenant.users.remove(index);
        Ok(empty())
    })
}

/// `POST /admin/v1/users/{user_id}/groups` with `group_id`
pub(super) async fn add_user_group(
    State(state): State<AppState>,
    caller: Caller,
    user_id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Grant::WriteResource)?;
    let user_id = path_id(user_id)?;
    let params = write_params(&caller, &body);
    let group_id = text(&params, "group_id")?.ok_or_else(|| ApiError::invalid_parameter("group_id"))?;
    edit(&state, |tenant, _| {
        let index = tenant.user_index(&user_id).ok_or_else(ApiError::not_found)?;
        let group = tenant
            .group(&group_id)
            .cloned()
            .ok_or_else(|| ApiError::invalid_parameter("group_id"))?;
        let groups = tenant.users[index]
            .entry("groups")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = groups
            && !list.iter().any(|g| g["group_id"] == group["group_id"])
        {
            list.push(Value::Object(group));
        }
        Ok(empty())
    })
}

/// `DELETE /admin/v1/users/{user_id}/groups/{group_id}`
pub(super) async fn remove_user_group(
    State(state): State<AppState>,
    caller: Caller,
    ids: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::WriteResource)?;
    let Path((user_id, group_id)) = ids.map_err(|_| ApiError::not_found())?;
    edit(&state, |tenant, _| {
        let index = tenant.user_index(&user_id).ok_or_else(ApiError::not_found)?;
        if let Some(Value::Array(list)) = tenant.users[index].get_mut("groups") {
            list.retain(|g| g["group_id"] != group_id.as_str());
        }
        Ok(empty())
    })
}

/// `POST /admin/v1/groups`
pub(super) async fn create_group(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Grant::WriteResource)?;
    let params = write_params(&caller, &body);
    let name = text(&params, "name")?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter("name"))?;
    let status = text(&params, "status")?.unwrap_or_else(|| "active".to_owned());
    if !GROUP_STATUSES.contains(&status.as_str()) {
        return Err(ApiError::invalid_parameter("status"));
    }
    let desc = text(&params, "desc")?.unwrap_or_default();
    edit(&state, |tenant, world| {
        let (options, seed) = (&world.scenario.options, world.scenario.tenant.seed);
        if tenant.groups.iter().any(|g| field(g, "name") == name) {
            return Err(ApiError::invalid_parameter("name"));
        }
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ crate::store::key_hash(&name));
        let shown_status = options.group_status_case.spell(&status);
        let group = Group {
            group_id: model::random_id(&mut rng, "DG"),
            name,
            desc,
            status: shown_status,
        };
        let render = RenderOptions::of(options);
        let mut json = Vec::new();
        model::render_group(&group, render, &mut json);
        let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&json) else {
            return Err(ApiError::custom(50000, "Internal server error"));
        };
        tenant.groups.push(object.clone());
        Ok(as_response(&object))
    })
}

/// `DELETE /admin/v1/groups/{group_id}` (also removes it from every user)
pub(super) async fn delete_group(
    State(state): State<AppState>,
    caller: Caller,
    group_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::WriteResource)?;
    let group_id = path_id(group_id)?;
    edit(&state, |tenant, _| {
        let before = tenant.groups.len();
        tenant.groups.retain(|g| field(g, "group_id") != group_id);
        if tenant.groups.len() == before {
            return Err(ApiError::not_found());
        }
        for user in &mut tenant.users {
            if let Some(Value::Array(list)) = user.get_mut("groups") {
                list.retain(|g| g["group_id"] != group_id.as_str());
            }
        }
        Ok(empty())
    })
}
