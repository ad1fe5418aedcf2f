//! Policies v2 (Grant read resource): the global policy every tenant has, then the scenario's
//! `[[policies]]`; one by key, `global`, and the summary of which applications each applies to.

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use rand::SeedableRng as _;
use serde_json::{Value, json};

use super::{object, path_id};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::scenario::{GLOBAL_POLICY_NAME, Scenario};
use crate::state::AppState;
use crate::store::{JsonList, key_hash};

pub(super) fn routes() -> Router<AppState> {
    // `global` and `summary` are fixed segments, matched before a policy key.
    Router::new()
        .route("/admin/v2/policies/global", get(global))
        .route("/admin/v2/policies/summary", get(summary))
        .route("/admin/v2/policies/calculate", get(calculate))
        .route("/admin/v2/policies/{policy_key}", get(one))
}

/// The global policy's sections: what a new account's global policy holds.
fn global_sections() -> Value {
    json!({
        "authentication_methods": {
            "allowed_auth_list": [
                "duo-passcode", "duo-push", "hardware-token", "phonecall", "sms",
                "webauthn-platform", "webauthn-roaming"
            ],
            "blocked_auth_list": [],
        },
        "authentication_policy": { "user_auth_behavior": "enforce" },
        "authorized_networks": { "deny_other_access": false },
        "duo_desktop": { "requires_duo_desktop": false },
        "new_user": { "new_user_behavior": "enroll" },
        "remembered_devices": {
            "browser_apps": { "enabled": false },
            "windows_logon": { "enabled": false },
        },
        "trusted_endpoints": { "trusted_endpoint_checking": "not-configured" },
    })
}

/// TOML as JSON (dates as their RFC 3339 text).
fn json_of(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => json!(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::Datetime(d) => json!(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(json_of).collect()),
        toml::Value::Table(table) => {
            Value::Object(table.iter().map(|(k, v)| (k.clone(), json_of(v))).collect())
        }
    }
}

/// What [`build`] makes.
#[derive(Debug, Default)]
pub(crate) struct Built {
    pub list: JsonList,
    pub by_key: HashMap<Box<str>, u32>,
    pub summary: Bytes,
    /// Per integration (scenario order), the custom policy applied to it.
    pub key_of_integration: Vec<Option<String>>,
    /// Per integration, the index of the policy that applies (0: the global policy).
    pub index_of_integration: Vec<u32>,
    /// Per integration, `/admin/v2/policies/calculate`'s answer for any of its users.
    pub calculated: Vec<Bytes>,
}

/// The policy in force for an application: the global policy's sections with the application's
/// own policy laid over them setting by setting, and the policies that made it.
fn calculated(global: &Value, own: Option<&Value>) -> Bytes {
    let element = |p: &Value| {
        json!({
            "is_global_policy": p["is_global_policy"],
            "policy_key": p["policy_key"],
            "policy_name": p["policy_name"],
        })
    };
    let mut sections = global["sections"].clone();
    let mut elements = vec![element(global)];
    if let Some(own) = own {
        elements.push(element(own));
        if let (Some(into), Some(from)) = (sections.as_object_mut(), own["sections"].as_object()) {
            for (name, settings) in from {
                match (
                    into.get_mut(name).and_then(Value::as_object_mut),
                    settings.as_object(),
                ) {
                    (Some(base), Some(over)) => {
                        for (key, value) in over {
                            base.insert(key.clone(), value.clone());
                        }
                    }
                    _ => {
                        into.insert(name.clone(), settings.clone());
                    }
                }
            }
        }
    }
    Bytes::from(
        serde_json::to_vec(&json!({ "policy_elements": elements, "sections": sections })).unwrap_or_default(),
    )
}

/// Keys are the scenario's or drawn from its seed (a stream of their own).
pub(crate) fn build(scenario: &Scenario) -> Built {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(scenario.tenant.seed ^ key_hash("policies"));
    let mut policies = vec![json!({
        "is_global_policy": true,
        "policy_key": crate::model::random_id(&mut rng, "PO"),
        "policy_name": GLOBAL_POLICY_NAME,
        "sections": global_sections(),
    })];
    let mut built = Built {
        key_of_integration: vec![None; scenario.integrations.len()],
        index_of_integration: vec![0; scenario.integrations.len()],
        ..Built::default()
    };
    for (n, record) in scenario.policies.iter().enumerate() {
        let drawn = crate::model::random_id(&mut rng, "PO");
        let key = record
            .policy_key
            .as_ref()
            .map_or(drawn, |key| key.get_ref().clone());
        let sections = record.sections.as_ref().map_or_else(
            || json!({ "new_user": { "new_user_behavior": "deny" } }),
            |table| json_of(&toml::Value::Table(table.clone())),
        );
        policies.push(json!({
            "is_global_policy": false,
            "policy_key": key,
            "policy_name": record.name.get_ref(),
            "sections": sections,
        }));
        for name in &record.integrations {
            if let Some(i) = scenario
                .integrations
                .iter()
                .position(|i| i.name == *name.get_ref())
            {
                built.key_of_integration[i] = Some(key.clone());
                built.index_of_integration[i] = u32::try_from(n + 1).unwrap_or(u32::MAX);
            }
        }
    }
    let text = |v: &Value, key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let summary: Vec<Value> = policies
        .iter()
        .enumerate()
        .map(|(p, policy)| {
            let applies: Vec<Value> = scenario
                .integrations
                .iter()
                .zip(&built.index_of_integration)
                .filter(|(_, of)| p > 0 && **of as usize == p)
                .map(|(integration, _)| {
                    json!({
                        "app_integration_key": integration.ikey,
                        "app_name": integration.name,
                        "apply_type": "app",
                    })
                })
                .collect();
            json!({
                "policy_applies_to": applies,
                "policy_key": text(policy, "policy_key"),
                "policy_name": text(policy, "policy_name"),
            })
        })
        .collect();
    built.summary = Bytes::from(
        serde_json::to_vec(&json!({
            "policies": summary,
            "policy_count": policies.len(),
            "response_is_truncated": false,
            "warnings": [],
        }))
        .unwrap_or_default(),
    );
    built.by_key = policies
        .iter()
        .enumerate()
        .map(|(i, p)| (text(p, "policy_key").into(), u32::try_from(i).unwrap_or(u32::MAX)))
        .collect();
    built.calculated = built
        .index_of_integration
        .iter()
        .map(|&p| calculated(&policies[0], policies.get(p as usize).filter(|_| p > 0)))
        .collect();
    let rendered: Vec<Vec<u8>> = policies
        .iter()
        .map(|p| serde_json::to_vec(p).unwrap_or_default())
        .collect();
    built.list = JsonList::build(&rendered, |json, out| out.extend_from_slice(json));
    built
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    key: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let key = path_id(key)?;
    let account = &world.tenant.account;
    let index = account.policy(&key).ok_or_else(ApiError::not_found)?;
    Ok(object(
        account.policies.item(index).ok_or_else(ApiError::not_found)?,
    ))
}

async fn global(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    Ok(object(
        world
            .tenant
            .account
            .policies
            .item(0)
            .ok_or_else(ApiError::not_found)?,
    ))
}

async fn summary(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    Ok(object(world.tenant.account.policy_summary.clone()))
}

/// The policy in force for `user_id` signing in to `integration_key` (both required: 40002
/// naming the one missing; either unknown: 404 40401).
async fn calculate(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::ReadResource)?;
    let world = state.world();
    let text = |name: &str| {
        caller
            .params
            .first(name)
            .and_then(|v| std::str::from_utf8(v).ok())
            .ok_or_else(|| ApiError::invalid_parameter(name))
    };
    let (ikey, user_id) = (text("integration_key")?, text("user_id")?);
    let tenant = &world.tenant;
    let integration = tenant.account.integration(ikey).ok_or_else(ApiError::not_found)?;
    tenant.user_by_id(user_id).ok_or_else(ApiError::not_found)?;
    let answer = tenant.account.policy_calculated.get(integration);
    Ok(object(answer.cloned().ok_or_else(ApiError::not_found)?))
}
