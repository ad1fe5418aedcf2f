//! Administrators (Grant administrators): one by id, and their extras: password management
//! status, allowed authentication methods, and pending activations, made here from the
//! administrators the tenant has. The lists are rows of the catalogue.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use bytes::Bytes;
use serde_json::json;

use super::{object, path_id};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::grants::Grant;
use crate::model::Admin;
use crate::scenario::Scenario;
use crate::state::AppState;
use crate::store::{JsonList, Tenant};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/v1/admins/{admin_id}", get(one))
        .route("/admin/v1/admins/{admin_id}/password_mgmt", get(password_mgmt))
        .route("/admin/v1/admins/allowed_auth_methods", get(allowed_auth_methods))
}

/// Days an activation link stays valid.
const ACTIVATION_VALID_DAYS: i64 = 7;

/// The extras of `admins`: each one's password management status (in admin order), an activation
/// for each admin still pending activation, and the allowed methods.
pub(crate) fn build_extras(
    scenario: &Scenario,
    admins: &[Admin],
    anchor: i64,
) -> (JsonList, JsonList, Bytes) {
    let password_mgmt = JsonList::build(admins, |admin, out| {
        let status = json!({
            "admin_id": admin.admin_id,
            "email": admin.email,
            "has_external_password_mgmt": admin.external_password_mgmt,
            "name": admin.name,
        });
        out.extend_from_slice(&serde_json::to_vec(&status).unwrap_or_default());
    });
    let host = scenario.tenant.api_hostname.replacen("api-", "admin-", 1);
    let pending: Vec<&Admin> = admins
        .iter()
        .filter(|a| a.status == "Pending Activation")
        .collect();
    let activations = JsonList::build(&pending, |admin, out| {
        // Derived from the admin's id: an activation is the pending admin's invitation.
        let id = format!("DV{}", admin.admin_id.get(2..).unwrap_or_default());
        let created = admin.created.unwrap_or(anchor);
        let activation = json!({
            "admin_activation_id": id,
            "admin_role": admin.role,
            "code": id.to_ascii_lowercase(),
            "email": admin.email,
            "email_sent": "true",
            "expires": created + ACTIVATION_VALID_DAYS * 86_400,
            "link": format!("https://{host}/admin/activate/{}", id.to_ascii_lowercase()),
            "message": "",
            "subject": "Duo administrator activation",
            "valid_days": ACTIVATION_VALID_DAYS,
        });
        out.extend_from_slice(&serde_json::to_vec(&activation).unwrap_or_default());
    });
    let methods = json!({
        "hardware_token_enabled": true,
        "mobile_otp_enabled": true,
        "push_enabled": true,
        "sms_enabled": false,
        "verified_push_enabled": true,
        "verified_push_length": 3,
        "voice_enabled": false,
        "webauthn_enabled": true,
        "yubikey_enabled": true,
    });
    (
        password_mgmt,
        activations,
        Bytes::from(serde_json::to_vec(&methods).unwrap_or_default()),
    )
}

async fn password_mgmt(
    State(state): State<AppState>,
    caller: Caller,
    admin_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    of_admin(&state, &caller, admin_id, |tenant| &tenant.account.password_mgmt)
}

async fn allowed_auth_methods(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(Grant::Administrators)?;
    let world = state.world();
    Ok(object(world.tenant.account.allowed_auth_methods.clone()))
}

async fn one(
    State(state): State<AppState>,
    caller: Caller,
    admin_id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    of_admin(&state, &caller, admin_id, |tenant| &tenant.admins)
}

/// The object of `list` (in admin order) of the administrator the path names: 40401 for none.
fn of_admin(
    state: &AppState,
    caller: &Caller,
    admin_id: Result<Path<String>, PathRejection>,
    list: fn(&Tenant) -> &JsonList,
) -> Result<Response, ApiError> {
    caller.require(Grant::Administrators)?;
    let world = state.world();
    let admin_id = path_id(admin_id)?;
    let tenant = &world.tenant;
    let index = tenant.admin_by_id(&admin_id).ok_or_else(ApiError::not_found)?;
    Ok(object(list(tenant).item(index).ok_or_else(ApiError::not_found)?))
}
