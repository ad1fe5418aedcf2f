//! What the fake serves, as data: one row per method and path, with its grant and, for a list, its
//! paging and filters. `docs/endpoints.md` is generated from this table (`duo-mock endpoints`), and
//! the integration tests check that the router serves exactly these rows: a route added to the
//! router without a row here, or a row without a route, fails them.

use std::fmt::Write as _;

use super::lists::Source;
use crate::devices::Kind;
use crate::grants::Grant;
use crate::paging::DEFAULT_LIMIT;
use crate::scenario::MaxLimits;

/// One method and path the fake serves.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: &'static str,
    /// Path in the router's syntax: `/admin/v1/users/{user_id}`.
    pub path: &'static str,
    /// The grant the route requires; `None` for an unsigned route.
    pub grant: Option<Grant>,
    /// For a list: its page sizes; `None` for a single object or a write.
    pub paging: Option<Paging>,
    /// For one device by id: its kind (`lists` serves the row); `None` for any other route.
    pub object: Option<Kind>,
    /// Query parameters that select objects (besides `limit` and `offset`).
    pub filters: &'static [&'static str],
    /// What the route answers, in a few words.
    pub summary: &'static str,
}

/// A list's page sizes (the default, and the largest, which a scenario may change) and its
/// objects: a row with paging is served by `lists`, the one paging handler.
#[derive(Debug, Clone, Copy)]
pub struct Paging {
    /// Objects per page without a `limit`.
    pub default_limit: usize,
    /// The key of `[options.max_limit]` that sets the largest page.
    pub max_limit_key: &'static str,
    /// The largest page under a scenario's limits.
    pub largest: fn(&MaxLimits) -> u32,
    /// Where the objects come from (`lists` serves every row that has paging).
    pub source: Source,
}

const fn paged(
    max_limit_key: &'static str,
    largest: fn(&MaxLimits) -> u32,
    source: Source,
) -> Option<Paging> {
    Some(Paging {
        default_limit: DEFAULT_LIMIT,
        max_limit_key,
        largest,
        source,
    })
}

/// Every route the fake serves, in the order `docs/endpoints.md` lists them.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/admin/v1/users",
        grant: Some(Grant::ReadResource),
        paging: paged("users", |m| m.users, Source::Users),
        object: None,
        filters: &["username", "email", "user_id_list", "username_list"],
        summary: "Users, in tenant order; `user_id_list`/`username_list` answer every match unpaged",
    },
    Route {
        method: "GET",
        path: "/admin/v1/users/{user_id}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "One user",
    },
    Route {
        method: "GET",
        path: "/admin/v1/users/{user_id}/groups",
        grant: Some(Grant::ReadResource),
        paging: paged("user_groups", |m| m.user_groups, Source::UserGroups),
        object: None,
        filters: &[],
        summary: "A user's groups",
    },
    Route {
        method: "GET",
        path: "/admin/v1/admins",
        grant: Some(Grant::Administrators),
        paging: paged("admins", |m| m.admins, Source::Admins),
        object: None,
        filters: &[],
        summary: "Administrators",
    },
    Route {
        method: "GET",
        path: "/admin/v1/admins/{admin_id}",
        grant: Some(Grant::Administrators),
        paging: None,
        object: None,
        filters: &[],
        summary: "One administrator",
    },
    Route {
        method: "GET",
        path: "/admin/v1/admins/password_mgmt",
        grant: Some(Grant::Administrators),
        paging: paged("password_mgmt", |m| m.password_mgmt, Source::PasswordMgmt),
        object: None,
        filters: &[],
        summary: "Each administrator's password management status, in admin order",
    },
    Route {
        method: "GET",
        path: "/admin/v1/admins/activations",
        grant: Some(Grant::Administrators),
        paging: paged("activations", |m| m.activations, Source::Activations),
        object: None,
        filters: &[],
        summary: "Pending administrator activations (one per admin pending activation)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/administrative_units",
        grant: Some(Grant::Administrators),
        paging: paged("admin_units", |m| m.admin_units, Source::AdminUnits),
        object: None,
        filters: &["admin_id", "group_id", "integration_key"],
        summary: "Administrative units; at most one filter (two: 400 40002)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/admins/{admin_id}/password_mgmt",
        grant: Some(Grant::Administrators),
        paging: None,
        object: None,
        filters: &[],
        summary: "An administrator's password management status",
    },
    Route {
        method: "GET",
        path: "/admin/v1/admins/allowed_auth_methods",
        grant: Some(Grant::Administrators),
        paging: None,
        object: None,
        filters: &[],
        summary: "The authentication methods administrators may use",
    },
    Route {
        method: "GET",
        path: "/admin/v1/administrative_units/{admin_unit_id}",
        grant: Some(Grant::Administrators),
        paging: None,
        object: None,
        filters: &[],
        summary: "One administrative unit: its admins, groups and integrations",
    },
    Route {
        method: "GET",
        path: "/admin/v1/groups",
        grant: Some(Grant::ReadResource),
        paging: paged("groups", |m| m.groups, Source::Groups),
        object: None,
        filters: &["group_id_list"],
        summary: "Groups; `group_id_list` answers every match unpaged",
    },
    Route {
        method: "GET",
        path: "/admin/v1/groups/{group_id}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "One group, v1 (deprecated by Duo): the group and its members in `users`, unpaged",
    },
    Route {
        method: "GET",
        path: "/admin/v2/groups/{group_id}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "One group, v2",
    },
    Route {
        method: "GET",
        path: "/admin/v2/groups/{group_id}/users",
        grant: Some(Grant::ReadResource),
        paging: paged("group_users", |m| m.group_users, Source::GroupMembers),
        object: None,
        filters: &[],
        summary: "A group's members (`user_id`, `username`)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/phones",
        grant: Some(Grant::ReadResource),
        paging: paged("phones", |m| m.phones, Source::Devices(Kind::Phones)),
        object: None,
        filters: &["number", "extension"],
        summary: "Phones, each with its `users`; `number`/`extension` select exactly",
    },
    Route {
        method: "GET",
        path: "/admin/v1/phones/{phone_id}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: Some(Kind::Phones),
        filters: &[],
        summary: "One phone, with its `users`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/users/{user_id}/phones",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "user_phones",
            |m| m.user_phones,
            Source::UserDevices(Kind::Phones),
        ),
        object: None,
        filters: &[],
        summary: "A user's phones, as the user object embeds them",
    },
    Route {
        method: "GET",
        path: "/admin/v1/tokens",
        grant: Some(Grant::ReadResource),
        paging: paged("tokens", |m| m.tokens, Source::Devices(Kind::Tokens)),
        object: None,
        filters: &["type", "serial"],
        summary: "Hardware tokens, each with its `users`; `type` and `serial` (together) select exactly",
    },
    Route {
        method: "GET",
        path: "/admin/v1/tokens/{token_id}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: Some(Kind::Tokens),
        filters: &[],
        summary: "One hardware token, with its `users`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/users/{user_id}/tokens",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "user_tokens",
            |m| m.user_tokens,
            Source::UserDevices(Kind::Tokens),
        ),
        object: None,
        filters: &[],
        summary: "A user's hardware tokens, as the user object embeds them",
    },
    Route {
        method: "GET",
        path: "/admin/v1/webauthncredentials",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "webauthncredentials",
            |m| m.webauthncredentials,
            Source::Devices(Kind::WebAuthn),
        ),
        object: None,
        filters: &[],
        summary: "WebAuthn credentials, each with its `user`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/webauthncredentials/{webauthnkey}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: Some(Kind::WebAuthn),
        filters: &[],
        summary: "One WebAuthn credential, with its `user`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/users/{user_id}/webauthncredentials",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "user_webauthncredentials",
            |m| m.user_webauthncredentials,
            Source::UserDevices(Kind::WebAuthn),
        ),
        object: None,
        filters: &[],
        summary: "A user's WebAuthn credentials, as the user object embeds them",
    },
    Route {
        method: "GET",
        path: "/admin/v1/u2ftokens",
        grant: Some(Grant::ReadResource),
        paging: paged("u2ftokens", |m| m.u2ftokens, Source::Devices(Kind::U2f)),
        object: None,
        filters: &[],
        summary: "U2F tokens, each with its `user`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/u2ftokens/{registration_id}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: Some(Kind::U2f),
        filters: &[],
        summary: "One U2F token, with its `user` (an object, not a one-element array)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/users/{user_id}/u2ftokens",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "user_u2ftokens",
            |m| m.user_u2ftokens,
            Source::UserDevices(Kind::U2f),
        ),
        object: None,
        filters: &[],
        summary: "A user's U2F tokens, as the user object embeds them",
    },
    Route {
        method: "GET",
        path: "/admin/v1/desktoptokens",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "desktoptokens",
            |m| m.desktoptokens,
            Source::Devices(Kind::DesktopTokens),
        ),
        object: None,
        filters: &[],
        summary: "Legacy desktop tokens, each with its `users`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/desktoptokens/{desktoptoken_id}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: Some(Kind::DesktopTokens),
        filters: &[],
        summary: "One legacy desktop token, with its `users`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/bypass_codes",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "bypass_codes",
            |m| m.bypass_codes,
            Source::Devices(Kind::BypassCodes),
        ),
        object: None,
        filters: &[],
        summary: "Bypass codes (never the codes), each with its `user`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/bypass_codes/{bypass_code_id}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: Some(Kind::BypassCodes),
        filters: &[],
        summary: "One bypass code (never the code), with its `user`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/users/{user_id}/bypass_codes",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "user_bypass_codes",
            |m| m.user_bypass_codes,
            Source::UserDevices(Kind::BypassCodes),
        ),
        object: None,
        filters: &[],
        summary: "A user's bypass codes (never the codes), without `user`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/registered_devices",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "registered_devices",
            |m| m.registered_devices,
            Source::Devices(Kind::RegisteredDevices),
        ),
        object: None,
        filters: &[],
        summary: "Duo Desktop registered devices, each with its `user` (shape unconfirmed)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/registered_devices/{compkey}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: Some(Kind::RegisteredDevices),
        filters: &[],
        summary: "One Duo Desktop registered device, with its `user` (shape unconfirmed)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/desktop_authenticators",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "desktop_authenticators",
            |m| m.desktop_authenticators,
            Source::Devices(Kind::DesktopAuthenticators),
        ),
        object: None,
        filters: &[],
        summary: "Duo Desktop authenticators, each with its `user`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/desktop_authenticators/{dakey}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: Some(Kind::DesktopAuthenticators),
        filters: &[],
        summary: "One Duo Desktop authenticator, with its `user`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/users/{user_id}/desktopauthenticators",
        grant: Some(Grant::ReadResource),
        paging: paged(
            "user_desktop_authenticators",
            |m| m.user_desktop_authenticators,
            Source::UserDevices(Kind::DesktopAuthenticators),
        ),
        object: None,
        filters: &[],
        summary: "A user's Duo Desktop authenticators, without `user`",
    },
    Route {
        method: "GET",
        path: "/admin/v1/endpoints",
        grant: Some(Grant::ReadResource),
        paging: paged("endpoints", |m| m.endpoints, Source::Devices(Kind::Endpoints)),
        object: None,
        filters: &[],
        summary: "Endpoints seen by health checks (each names its `username`, `email`)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/endpoints/{epkey}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: Some(Kind::Endpoints),
        filters: &[],
        summary: "One endpoint",
    },
    Route {
        method: "GET",
        path: "/admin/v1/info/summary",
        grant: Some(Grant::ReadInformation),
        paging: None,
        object: None,
        filters: &[],
        summary: "Counts of users, admins and integrations; telephony credits",
    },
    Route {
        method: "GET",
        path: "/admin/v1/settings",
        grant: Some(Grant::Settings),
        paging: None,
        object: None,
        filters: &[],
        summary: "The account's settings",
    },
    Route {
        method: "GET",
        path: "/admin/v2/passport/config",
        grant: Some(Grant::Settings),
        paging: None,
        object: None,
        filters: &[],
        summary: "Duo Passport's configuration (`[options] passport`; shape and grant unconfirmed)",
    },
    Route {
        method: "GET",
        path: "/admin/v2/identity_verification/{user_id}/status",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "A user's identity verification status: none started (shape unconfirmed)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/users/{user_id}/verification_push_response",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: None,
        filters: &["push_id"],
        summary: "A verification push's response: no push is sent, so any `push_id` is 404",
    },
    Route {
        method: "GET",
        path: "/admin/v3/integrations",
        grant: Some(Grant::Applications),
        paging: paged("integrations", |m| m.integrations, Source::IntegrationsV3),
        object: None,
        filters: &[],
        summary: "Integrations, v3 (a scenario may make the grant Grant read resource); `secret_key` masked",
    },
    Route {
        method: "GET",
        path: "/admin/v2/integrations",
        grant: Some(Grant::Applications),
        paging: paged("integrations", |m| m.integrations, Source::IntegrationsV1),
        object: None,
        filters: &[],
        summary: "Integrations, v2 (legacy)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/integrations",
        grant: Some(Grant::Applications),
        paging: paged("integrations", |m| m.integrations, Source::IntegrationsV1),
        object: None,
        filters: &[],
        summary: "Integrations, v1 (legacy)",
    },
    Route {
        method: "GET",
        path: "/admin/v2/policies",
        grant: Some(Grant::ReadResource),
        paging: paged("policies", |m| m.policies, Source::Policies),
        object: None,
        filters: &[],
        summary: "Policies, the global policy first; `metadata` on every page",
    },
    Route {
        method: "GET",
        path: "/admin/v2/integrations/{ikey}",
        grant: Some(Grant::Applications),
        paging: None,
        object: None,
        filters: &[],
        summary: "One integration, v2 (a scenario may make the grant Grant read resource); `secret_key` masked",
    },
    Route {
        method: "GET",
        path: "/admin/v3/integrations/{ikey}",
        grant: Some(Grant::Applications),
        paging: None,
        object: None,
        filters: &[],
        summary: "One integration, v3 (a scenario may make the grant Grant read resource); `secret_key` masked",
    },
    Route {
        method: "GET",
        path: "/admin/v1/integrations/{ikey}/skey",
        grant: Some(Grant::Applications),
        paging: None,
        object: None,
        filters: &[],
        summary: "An integration's secret key, `{\"secret_key\": …}`, when the scenario lets it be read; never journaled",
    },
    Route {
        method: "GET",
        path: "/admin/v2/policies/global",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "The global policy (every tenant has one)",
    },
    Route {
        method: "GET",
        path: "/admin/v2/policies/summary",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "Each policy and the applications it applies to",
    },
    Route {
        method: "GET",
        path: "/admin/v2/policies/calculate",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: None,
        filters: &["integration_key", "user_id"],
        summary: "The policy in force for a user of an application: `policy_elements` and the merged `sections`",
    },
    Route {
        method: "GET",
        path: "/admin/v2/policies/{policy_key}",
        grant: Some(Grant::ReadResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "One policy",
    },
    Route {
        method: "GET",
        path: "/admin/v1/logo",
        grant: Some(Grant::Settings),
        paging: None,
        object: None,
        filters: &[],
        summary: "The logo as `image/png`; 404 40401 without one",
    },
    Route {
        method: "GET",
        path: "/admin/v1/billing/edition",
        grant: Some(Grant::ReadInformation),
        paging: None,
        object: None,
        filters: &[],
        summary: "The edition (`ENTERPRISE`, `PLATFORM`, `BEYOND`, `PERSONAL`); 403 40301 unless the scenario enables billing",
    },
    Route {
        method: "GET",
        path: "/admin/v1/billing/telephony_credits",
        grant: Some(Grant::ReadInformation),
        paging: None,
        object: None,
        filters: &[],
        summary: "Telephony credits (`credits`); 403 40301 unless the scenario enables billing",
    },
    Route {
        method: "GET",
        path: "/admin/v1/info/authentication_attempts",
        grant: Some(Grant::ReadInformation),
        paging: None,
        object: None,
        filters: &["mintime", "maxtime"],
        summary: "Authentication attempts by result in a window (seconds), counted from the authentication log",
    },
    Route {
        method: "GET",
        path: "/admin/v1/info/user_authentication_attempts",
        grant: Some(Grant::ReadInformation),
        paging: None,
        object: None,
        filters: &["mintime", "maxtime"],
        summary: "Distinct users by authentication result in a window (seconds), counted from the authentication log",
    },
    Route {
        method: "GET",
        path: "/admin/v1/info/telephony_credits_used",
        grant: Some(Grant::ReadInformation),
        paging: None,
        object: None,
        filters: &["mintime", "maxtime"],
        summary: "Telephony credits used in a window (seconds), counted from the telephony log",
    },
    Route {
        method: "GET",
        path: "/admin/v2/logs/authentication",
        grant: Some(Grant::ReadLog),
        paging: None,
        object: None,
        filters: &[
            "mintime",
            "maxtime",
            "limit",
            "sort",
            "next_offset",
            "users",
            "groups",
            "applications",
            "event_types",
            "factors",
            "reasons",
            "results",
            "phone_numbers",
            "tokens",
        ],
        summary: "Authentication log v2: window in ms, 100 / 1000 events a page, `next_offset` a `[ts, txid]` list",
    },
    Route {
        method: "GET",
        path: "/admin/v1/logs/authentication",
        grant: Some(Grant::ReadLog),
        paging: None,
        object: None,
        filters: &["mintime"],
        summary: "Authentication log v1 (legacy): the 1000 earliest events from `mintime` (seconds), a bare array",
    },
    Route {
        method: "GET",
        path: "/admin/v1/logs/administrator",
        grant: Some(Grant::ReadLog),
        paging: None,
        object: None,
        filters: &["mintime"],
        summary: "Administrator log: the 1000 earliest events from `mintime` (seconds)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/logs/telephony",
        grant: Some(Grant::ReadLog),
        paging: None,
        object: None,
        filters: &["mintime"],
        summary: "Telephony log v1: the 1000 earliest events from `mintime` (seconds)",
    },
    Route {
        method: "GET",
        path: "/admin/v2/logs/telephony",
        grant: Some(Grant::ReadLog),
        paging: None,
        object: None,
        filters: &["mintime", "maxtime", "limit", "sort", "next_offset"],
        summary: "Telephony log v2: window in ms, 100 / 1000 events a page, `next_offset` a `\"ts,id\"` string",
    },
    Route {
        method: "GET",
        path: "/admin/v2/logs/activity",
        grant: Some(Grant::ReadLog),
        paging: None,
        object: None,
        filters: &["mintime", "maxtime", "limit", "sort", "next_offset"],
        summary: "Activity log: window in ms, 100 / 1000 events a page, `next_offset` a `\"ts,id\"` string",
    },
    Route {
        method: "GET",
        path: "/admin/v1/logs/offline_enrollment",
        grant: Some(Grant::ReadLog),
        paging: None,
        object: None,
        filters: &["mintime"],
        summary: "Offline enrollment log: the 1000 earliest events from `mintime` (seconds)",
    },
    Route {
        method: "GET",
        path: "/admin/v1/trust_monitor/events",
        grant: Some(Grant::ReadLog),
        paging: None,
        object: None,
        filters: &["mintime", "maxtime", "limit", "offset", "type"],
        summary: "Trust Monitor events: window in ms on the surfaced time, opaque `offset` cursor",
    },
    Route {
        method: "GET",
        path: "/auth/v2/ping",
        grant: None,
        paging: None,
        object: None,
        filters: &[],
        summary: "Duo's connectivity check: the server's time",
    },
    Route {
        method: "POST",
        path: "/admin/v1/users",
        grant: Some(Grant::WriteResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "Create a user",
    },
    Route {
        method: "POST",
        path: "/admin/v1/users/{user_id}",
        grant: Some(Grant::WriteResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "Modify a user",
    },
    Route {
        method: "DELETE",
        path: "/admin/v1/users/{user_id}",
        grant: Some(Grant::WriteResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "Delete a user",
    },
    Route {
        method: "POST",
        path: "/admin/v1/users/{user_id}/groups",
        grant: Some(Grant::WriteResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "Add a user to a group (`group_id`)",
    },
    Route {
        method: "DELETE",
        path: "/admin/v1/users/{user_id}/groups/{group_id}",
        grant: Some(Grant::WriteResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "Remove a user from a group",
    },
    Route {
        method: "POST",
        path: "/admin/v1/groups",
        grant: Some(Grant::WriteResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "Create a group",
    },
    Route {
        method: "DELETE",
        path: "/admin/v1/groups/{group_id}",
        grant: Some(Grant::WriteResource),
        paging: None,
        object: None,
        filters: &[],
        summary: "Delete a group (and its memberships)",
    },
    Route {
        method: "POST",
        path: "/accounts/v1/account/list",
        grant: None,
        paging: None,
        object: None,
        filters: &[],
        summary: "Child accounts (`account_id`, `api_hostname`, `name`); Accounts API keys only. Those keys reach every Admin API route of a child with `account_id`",
    },
];

/// `docs/endpoints.md`: the table as Markdown, page sizes as a default scenario has them.
pub fn markdown() -> String {
    let defaults = MaxLimits::default();
    let mut out = String::from(
        "# Endpoints the fake serves\n\n\
         Generated from `mock-server/src/routes/catalogue.rs` by `duo-mock endpoints`; a test checks\n\
         that this file is its output and that the server answers exactly these routes. Signed\n\
         routes check the signature first (`docs/fidelity.md`), then the grant (403 40301 without\n\
         it). Paging: the page size without `limit`, and the largest (a larger `limit` is clamped),\n\
         which a scenario sets in `[options.max_limit]` under the key named. A `GET` route also\n\
         answers `HEAD`, without the body.\n\n\
         Any other path answers Duo's `404 {\"code\":40401,\"message\":\"Resource not found\",…}`,\n\
         and a served path asked with another method answers `405 40501`; both carry the header\n\
         `X-Duo-Mock-Not-Implemented: <METHOD> <path>`, which Duo never sends, and the server logs\n\
         a warning the first time each path is asked. A served route asked for an object that does\n\
         not exist answers a plain 404 40401, without that header.\n\n\
         | Method | Path | Grant | Paging (default / largest) | Filters | Answers |\n\
         |---|---|---|---|---|---|\n",
    );
    for route in ROUTES {
        let grant = match route.grant {
            Some(grant) => grant.name(),
            None if crate::auth::is_accounts_path(route.path) => "Accounts API keys",
            None => "none (unsigned)",
        };
        let paging = route.paging.map_or_else(
            || "—".to_owned(),
            |p| {
                format!(
                    "{} / {} (`max_limit.{}`)",
                    p.default_limit,
                    (p.largest)(&defaults),
                    p.max_limit_key
                )
            },
        );
        let filters = if route.filters.is_empty() {
            "—".to_owned()
        } else {
            route
                .filters
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {grant} | {paging} | {filters} | {} |",
            route.method, route.path, route.summary
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_method_and_path_appears_once() {
        let mut seen = std::collections::HashSet::new();
        for route in ROUTES {
            assert!(
                seen.insert((route.method, route.path)),
                "{} {}",
                route.method,
                route.path
            );
        }
    }
}
