//! The Accounts API's read: `POST /accounts/v1/account/list`, the child accounts of the caller's
//! account. Only Accounts API keys reach it (the auth layer refuses others as Duo does); Admin
//! API calls for a child are routed to the child's world by the auth layer, not here.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;

use super::object;
use crate::auth::Caller;
use crate::model::write_str;
use crate::state::{AppState, World};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/accounts/v1/account/list", post(list))
}

/// Every child account, in the scenario's order, unpaged (Duo's clients page nothing here).
async fn list(State(state): State<AppState>, _caller: Caller) -> Response {
    object(Bytes::from(render_list(&state.world())))
}

/// `[{"account_id":…,"api_hostname":…,"name":…},…]`, keys in Duo's (alphabetical) order.
fn render_list(world: &World) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + world.accounts().len() * 128);
    out.push(b'[');
    for (i, account) in world.accounts().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"account_id\":");
        write_str(&mut out, &account.account_id);
        out.extend_from_slice(b",\"api_hostname\":");
        write_str(&mut out, &account.api_hostname);
        out.extend_from_slice(b",\"name\":");
        write_str(&mut out, &account.name);
        out.push(b'}');
    }
    out.push(b']');
    out
}
