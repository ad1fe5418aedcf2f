//! Integrations: the scenario's applications as Duo's integration objects (`/admin/v3/…`, and the
//! legacy v1 and v2 renderings), one by key, and the secret key route (Grant applications).
//!
//! An object's `adminapi_*` flags are its grants (0/1 integers, as Duo sends them). Its
//! `secret_key` is masked or omitted (`[options] integration_secret_key`), never the key: only
//! `/admin/v1/integrations/{ikey}/skey` answers the key, and the journal keeps no byte of it.

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{object, path_id};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::scenario::{Integration, IntegrationKind, Scenario, SecretKeyShown};
use crate::state::AppState;
use crate::store::JsonList;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v2/integrations/{ikey}", get(one_v1))
        .route("/admin/v3/integrations/{ikey}", get(one_v3))
        .route("/admin/v1/integrations/{ikey}/skey", get(secret_key))
}

/// Duo's `type` of an integration of this kind.
fn type_name(kind: IntegrationKind) -> &'static str {
    match kind {
        IntegrationKind::AdminApi => "adminapi",
        IntegrationKind::AuthApi => "authapi",
        IntegrationKind::WebSdk => "websdk",
        IntegrationKind::AccountsApi => "accountsapi",
    }
}

/// `secret_key` as an object shows it: asterisks, then the key's last four characters.
fn masked(skey: &str) -> String {
    let chars: Vec<char> = skey.chars().collect();
    // A short key would be mostly shown: all asterisks then.
    let hidden = if chars.len() >= 16 {
        chars.len() - 4
    } else {
        chars.len()
    };
    let mut out = "*".repeat(hidden);
    out.extend(&chars[hidden..]);
    out
}

/// One integration as Duo renders it; `v3` adds the fields of the current version.
fn render(integration: &Integration, policy_key: Option<&str>, shown: SecretKeyShown, v3: bool) -> Vec<u8> {
    let mut object = Map::new();
    for grant in Grant::ALL {
        object.insert(
            grant.flag().to_owned(),
            json!(u8::from(integration.grants.contains(grant))),
        );
    }
    if v3 {
        object.insert(
            "adminapi_admins_read".to_owned(),
            json!(u8::from(integration.grants.contains(Grant::Administrators))),
        );
        object.insert("adminapi_allow_to_set_permissions".to_owned(), json!(0));
        object.insert("user_access".to_owned(), json!("ALL_USERS"));
    }
    let api_type = matches!(
        integration.kind,
        IntegrationKind::AdminApi | IntegrationKind::AccountsApi
    );
    let networks: Vec<String> = integration.networks.iter().map(ToString::to_string).collect();
    let fields = [
        ("enroll_policy", json!("enroll")),
        ("greeting", json!("")),
        ("groups_allowed", json!([])),
        ("integration_key", json!(integration.ikey)),
        ("ip_whitelist", json!([])),
        ("ip_whitelist_enroll_policy", json!("enforce")),
        ("name", json!(integration.name)),
        ("notes", json!("")),
        ("self_service_allowed", json!(0)),
        ("type", json!(type_name(integration.kind))),
        ("username_normalization_policy", json!("None")),
    ];
    for (key, value) in fields {
        object.insert(key.to_owned(), value);
    }
    if api_type {
        object.insert("networks_for_api_access".to_owned(), json!(networks.join(",")));
    }
    if let Some(key) = policy_key {
        object.insert("policy_key".to_owned(), json!(key));
    }
    if shown == SecretKeyShown::Masked {
        object.insert("secret_key".to_owned(), json!(masked(&integration.skey)));
    }
    // serde_json's map is ordered by key, as Duo's bodies are.
    serde_json::to_vec(&Value::Object(object)).unwrap_or_default()
}

/// The integration lists (v1/v2 rendering, v3 rendering) and the ikey index, given each
/// integration's custom policy key (`None`: the global policy applies).
pub(crate) fn build(
    scenario: &Scenario,
    policy_keys: &[Option<String>],
) -> (JsonList, JsonList, HashMap<Box<str>, u32>) {
    let shown = scenario.options.integration_secret_key;
    let with_policy: Vec<(&Integration, Option<&str>)> = scenario
        .integrations
        .iter()
        .enumerate()
        .map(|(i, integration)| (integration, policy_keys.get(i).and_then(Option::as_deref)))
        .collect();
    let list = |v3: bool| {
        JsonList::build(&with_policy, |(integration, policy), out| {
            out.extend_from_slice(&render(integration, *policy, shown, v3));
        })
    };
    let by_key = scenario
        .integrations
        .iter()
        .enumerate()
        .map(|(i, integration)| {
            (
                integration.ikey.as_str().into(),
                u32::try_from(i).unwrap_or(u32::MAX),
            )
        })
        .collect();
    (list(false), list(true), by_key)
}

async fn one_v1(
    State(state): State<AppState>,
    caller: Caller,
    ikey: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    one(&state, &caller, ikey, false)
}

async fn one_v3(
    State(state): State<AppState>,
    caller: Caller,
    ikey: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    one(&state, &caller, ikey, true)
}

/// One integration, in the v1/v2 or the v3 rendering.
fn one(
    state: &AppState,
    caller: &Caller,
    ikey: Result<Path<String>, PathRejection>,
    v3: bool,
) -> Result<Response, ApiError> {
    let world = state.world();
    caller.require(world.options().integrations_read_grant.grant())?;
    let ikey = path_id(ikey)?;
    let account = &world.tenant.account;
    let index = account.integration(&ikey).ok_or_else(ApiError::not_found)?;
    let list = if v3 {
        &account.integrations_v3
    } else {
        &account.integrations_v1
    };
    Ok(object(list.item(index).ok_or_else(ApiError::not_found)?))
}

/// `{"secret_key": …}` of an integration, with Grant applications, when the scenario lets it be
/// read back; the journal records the answer's headers only.
async fn secret_key(
    State(state): State<AppState>,
    caller: Caller,
    ikey: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    caller.require(Grant::Applications)?;
    let world = state.world();
    let ikey = path_id(ikey)?;
    let integration = world
        .scenario
        .integrations
        .iter()
        .find(|i| i.ikey == ikey)
        .ok_or_else(ApiError::not_found)?;
    if !world.options().integration_skey_readable {
        return Err(ApiError::forbidden());
    }
    let body = serde_json::to_vec(&json!({ "secret_key": integration.skey })).unwrap_or_default();
    let mut response = object(Bytes::from(body));
    response.extensions_mut().insert(crate::journal::SecretAnswer);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_masked_key_shows_only_its_last_four_characters() {
        let key = "9CPVNPkNa1Hedcm4pMbXDuCL1mHoOsFaQfDPrAJ7";
        assert_eq!(masked(key), format!("{}rAJ7", "*".repeat(36)));
        assert_eq!(masked("short-key"), "*********", "a short key is hidden whole");
        assert_eq!(masked(""), "");
    }
}
