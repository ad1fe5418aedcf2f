//! Every list endpoint, served by one handler from its row of [`catalogue::ROUTES`]: the row
//! names the grant, the page sizes and the [`Source`] of its objects; this module checks the
//! grant, finds the parent object a path names (404 40401 when it does not exist), validates
//! paging (400 40002, a larger `limit` clamped) and answers a page. Adding a list endpoint is a
//! row (and, for a new kind of object, a `Source` arm); see ARCHITECTURE.md.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::catalogue::{Paging, ROUTES, Route};
use super::{object, page_of, page_of_selection};
use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::devices::{Devices, Kind};
use crate::paging::PageRequest;
use crate::params::Params;
use crate::scenario::MetadataMode;
use crate::state::AppState;
use crate::store::{JsonList, Tenant};

/// Where a list endpoint's objects come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Every user, in tenant order; `username`, `email`, `user_id_list`, `username_list`.
    Users,
    /// Every administrator.
    Admins,
    /// Every group; `group_id_list` answers every match unpaged.
    Groups,
    /// The groups of the user the path names.
    UserGroups,
    /// The members (`user_id`, `username`) of the group the path names.
    GroupMembers,
    /// Every device of a kind, with its owners; the kind's filters.
    Devices(Kind),
    /// The devices of a kind of the user the path names, as the user object embeds them.
    UserDevices(Kind),
    /// Integrations as the legacy v1 and v2 lists render them (read with the scenario's
    /// `integrations_read_grant`, which the row names by default).
    IntegrationsV1,
    /// Integrations as `/admin/v3/integrations` renders them (the same grant).
    IntegrationsV3,
    /// Administrative units; `admin_id`, `group_id` or `integration_key`, at most one.
    AdminUnits,
    /// Each administrator's password management status.
    PasswordMgmt,
    /// Pending administrator activations.
    Activations,
    /// Policies v2, the global policy first; always with `metadata`.
    Policies,
}

/// Most values Duo takes in `user_id_list` / `username_list` (and, the same here, `group_id_list`).
const MAX_LIST_VALUES: usize = 100;

/// A route for each list row of the catalogue, and for each device by id.
pub(super) fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for row in ROUTES {
        if let Some(paging) = row.paging {
            router = router.route(
                row.path,
                get(move |state, caller, ids| list(row, paging, state, caller, ids)),
            );
        } else if let Some(kind) = row.object {
            router = router.route(
                row.path,
                get(move |state, caller, ids| device(row, kind, state, caller, ids)),
            );
        }
    }
    router
}

/// One device by id, as its list shows it.
async fn device(
    row: &'static Route,
    kind: Kind,
    State(state): State<AppState>,
    caller: Caller,
    ids: Result<Path<Vec<String>>, PathRejection>,
) -> Result<Response, ApiError> {
    if let Some(grant) = row.grant {
        caller.require(grant)?;
    }
    let world = state.world();
    let devices = world.tenant.devices(kind).ok_or_else(ApiError::not_found)?;
    let index = parent(devices, ids, Devices::by_id)?;
    Ok(object(
        devices.listed.item(index).ok_or_else(ApiError::not_found)?,
    ))
}

/// The object a path names (a list's parent, a device): its index, or Duo's 404.
fn parent<T>(
    within: &T,
    ids: Result<Path<Vec<String>>, PathRejection>,
    find: impl Fn(&T, &str) -> Option<usize>,
) -> Result<usize, ApiError> {
    let Ok(Path(ids)) = ids else {
        return Err(ApiError::not_found());
    };
    let id = ids.first().ok_or_else(ApiError::not_found)?;
    find(within, id).ok_or_else(ApiError::not_found)
}

async fn list(
    row: &'static Route,
    paging: Paging,
    State(state): State<AppState>,
    caller: Caller,
    ids: Result<Path<Vec<String>>, PathRejection>,
) -> Result<Response, ApiError> {
    let world = state.world();
    let options = world.options();
    let grant = match paging.source {
        Source::IntegrationsV1 | Source::IntegrationsV3 => Some(options.integrations_read_grant.grant()),
        _ => row.grant,
    };
    if let Some(grant) = grant {
        caller.require(grant)?;
    }
    let tenant = &world.tenant;
    let mode = options.metadata;
    let max = (paging.largest)(&options.max_limit) as usize;
    let page = |params: &Params| PageRequest::from_params(params, max, options.zero_limit);
    Ok(match paging.source {
        Source::Users => {
            let page = page(&caller.params)?;
            users(tenant, &caller.params, page, mode)?
        }
        Source::Admins => page_of(&tenant.admins, page(&caller.params)?, mode),
        Source::Groups if caller.params.has("group_id_list") => {
            named_by_list(&tenant.groups, &caller.params, "group_id_list", mode, |id| {
                tenant.group_by_id(id)
            })?
        }
        Source::Groups => page_of(&tenant.groups, page(&caller.params)?, mode),
        Source::UserGroups => {
            let user = parent(tenant, ids, Tenant::user_by_id)?;
            let page = page(&caller.params)?;
            let groups = tenant.groups_of(user).ok_or_else(ApiError::not_found)?;
            page_of_selection(&tenant.groups, groups, page, mode)
        }
        Source::GroupMembers => {
            let group = parent(tenant, ids, Tenant::group_by_id)?;
            let page = page(&caller.params)?;
            let members = tenant.group_members.get(group).ok_or_else(ApiError::not_found)?;
            page_of(members, page, mode)
        }
        Source::Devices(kind) => {
            let page = page(&caller.params)?;
            let devices = tenant.devices(kind).ok_or_else(ApiError::not_found)?;
            match devices.select(kind.info(), &caller.params)? {
                Some(found) => page_of_selection(&devices.listed, &found, page, mode),
                None => page_of(&devices.listed, page, mode),
            }
        }
        Source::UserDevices(kind) => {
            let user = parent(tenant, ids, Tenant::user_by_id)?;
            let page = page(&caller.params)?;
            let devices = tenant.devices(kind).ok_or_else(ApiError::not_found)?;
            let own = devices.of_user(user).ok_or_else(ApiError::not_found)?;
            page_of_selection(&devices.embedded, own, page, mode)
        }
        Source::IntegrationsV1 => page_of(&tenant.account.integrations_v1, page(&caller.params)?, mode),
        Source::IntegrationsV3 => page_of(&tenant.account.integrations_v3, page(&caller.params)?, mode),
        Source::AdminUnits => {
            let page = page(&caller.params)?;
            let units = &tenant.account.admin_units;
            match super::admin_units::filtered(&caller.params, &tenant.account.admin_unit_members)? {
                Some(found) => page_of_selection(units, &found, page, mode),
                None => page_of(units, page, mode),
            }
        }
        Source::PasswordMgmt => page_of(&tenant.account.password_mgmt, page(&caller.params)?, mode),
        Source::Activations => page_of(&tenant.account.activations, page(&caller.params)?, mode),
        Source::Policies => {
            // A client of Duo's reads the policy list's `metadata` unconditionally.
            let mode = match mode {
                MetadataMode::OmitOnSinglePage => MetadataMode::Always,
                other => other,
            };
            page_of(&tenant.account.policies, page(&caller.params)?, mode)
        }
    })
}

/// Every object a list parameter (`user_id_list`, `group_id_list`…) names, in tenant order and
/// once each, answered unpaged; a value that is no JSON list of strings, or more than
/// [`MAX_LIST_VALUES`] values, is Duo's 40002 naming the parameter.
fn named_by_list(
    list: &JsonList,
    params: &Params,
    key: &'static str,
    mode: MetadataMode,
    find: impl Fn(&str) -> Option<usize>,
) -> Result<Response, ApiError> {
    let values = params.list(key).ok_or_else(|| ApiError::invalid_parameter(key))?;
    if values.len() > MAX_LIST_VALUES {
        return Err(ApiError::invalid_parameter(key));
    }
    let mut found: Vec<u32> = values
        .iter()
        .filter_map(|v| find(v))
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    found.sort_unstable();
    found.dedup();
    let whole = PageRequest {
        offset: 0,
        limit: found.len().max(1),
    };
    Ok(page_of_selection(list, &found, whole, mode))
}

/// `/admin/v1/users` with its filters: the lists answer every match unpaged and exclude the
/// other filters (Duo's docs: mutually exclusive); `username` and `email` select within pages.
fn users(
    tenant: &Tenant,
    params: &Params,
    page: PageRequest,
    mode: MetadataMode,
) -> Result<Response, ApiError> {
    let id_list = params.has("user_id_list");
    let name_list = params.has("username_list");
    if id_list || name_list {
        for (present, name) in [
            (id_list && name_list, "username_list"),
            (params.has("username"), "username"),
            (params.has("email"), "email"),
        ] {
            if present {
                return Err(ApiError::invalid_parameter(name));
            }
        }
        let key = if id_list { "user_id_list" } else { "username_list" };
        return named_by_list(&tenant.users, params, key, mode, |v| {
            if id_list {
                tenant.user_by_id(v)
            } else {
                tenant.user_by_name(v)
            }
        });
    }

    let by_name = params.first("username").map(|v| {
        std::str::from_utf8(v)
            .ok()
            .and_then(|name| tenant.user_by_name(name).and_then(|i| u32::try_from(i).ok()))
    });
    let by_email = params.first("email").map(|v| {
        std::str::from_utf8(v)
            .ok()
            .and_then(|email| tenant.user_by_email(email).and_then(|i| u32::try_from(i).ok()))
    });
    let selected: Option<Vec<u32>> = match (by_name, by_email) {
        (None, None) => None,
        (Some(a), None) | (None, Some(a)) => Some(a.into_iter().collect()),
        (Some(a), Some(b)) => Some(a.filter(|x| Some(*x) == b).into_iter().collect()),
    };
    Ok(match selected {
        Some(found) => page_of_selection(&tenant.users, &found, page, mode),
        None => page_of(&tenant.users, page, mode),
    })
}
