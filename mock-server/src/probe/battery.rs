//! The probe's battery, as data: one row per behaviour, each with the scenario option it settles
//! (or none, for what Duo answers where the fake only guessed), the fake's default, and a step
//! function that, given the answers so far, asks for one more read-only request or settles.
//!
//! A behaviour added to the fake later gets one row here. Rows run in order; a row may read the
//! answers of a row before it (`Context::answers_of`) instead of asking again.

use duo_auth::{Digest, Scheme};
use serde_json::{Value, json};

use crate::upstream::Answer;

/// How a probe request is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header.
    None,
    /// Signed with the keys given, in this scheme, dated now (by the server's clock).
    Signed(Scheme),
    /// Signed (v5), dated this many seconds before the server's now.
    Dated(i64),
    /// Signed with a key that is not the integration's.
    WrongKey,
    /// Signed for an integration key the server does not know, dated this many seconds ago.
    UnknownIkey(i64),
    /// Signed, then sent without its `Date`.
    NoDate,
}

/// One read-only request: always `GET`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// Path (may hold an id of the tenant: never written out).
    pub path: String,
    /// Canonical query string.
    pub query: String,
    /// How it is authenticated.
    pub auth: Auth,
}

impl Ask {
    fn new(path: impl Into<String>, query: &str, auth: Auth) -> Self {
        Self {
            path: path.into(),
            query: query.to_owned(),
            auth,
        }
    }

    fn signed(path: impl Into<String>, query: &str) -> Self {
        Self::new(path, query, Auth::Signed(Scheme::V5))
    }
}

/// What a step decides.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send this request, then call the step again with its answer.
    Send(Ask),
    /// The behaviour is settled: this value.
    Settled(Value),
    /// Settled by a measurement: the value, and how it was bracketed.
    Measured(Value, String),
    /// It cannot be told, for this reason.
    Unknown(String),
    /// Measured by the runner on a connection of its own (idle keep-alive).
    Idle,
}

/// What the fake does by default, to compare a probed value with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeDefault {
    /// This JSON value.
    Json(&'static str),
    /// The fields of the fake's objects of this list (`users`, `admins`, `groups`).
    FieldsOf(&'static str),
    /// A fact of the probed tenant (its size): there is no default to compare with.
    TenantFact,
}

/// One row of the battery.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    /// Stable id, the key in `probe.json`.
    pub id: &'static str,
    /// The scenario option this settles (`options.metadata`), when one does.
    pub option: Option<&'static str>,
    /// The fake's default.
    pub fake_default: FakeDefault,
    /// What is sent, for people (`docs/fidelity.md` lists it).
    pub sends: &'static str,
    /// How far two values may be apart and still agree (a measurement's resolution); 0: equal.
    pub tolerance: u32,
    /// The next request, or the verdict, from the answers so far.
    pub step: fn(&Context, &[Answer]) -> Step,
}

/// What the rows before have found, in memory only (answers may hold the tenant's data).
#[derive(Debug, Default)]
pub struct Context {
    /// HTTPS (rather than plain HTTP).
    pub https: bool,
    /// Settled values by row id.
    pub settled: std::collections::HashMap<&'static str, Value>,
    /// Answers by row id.
    pub answers: std::collections::HashMap<&'static str, Vec<Answer>>,
    /// Requests the budget still allows.
    pub budget_left: usize,
}

impl Context {
    /// The answers a row got.
    pub fn answers_of(&self, id: &str) -> &[Answer] {
        self.answers.get(id).map_or(&[], Vec::as_slice)
    }

    /// A settled value as an integer.
    fn int(&self, id: &str) -> Option<u64> {
        self.settled.get(id).and_then(Value::as_u64)
    }

    /// The JSON of the first answer of row `id`, when it was a 200.
    fn ok_json(&self, id: &str) -> Option<Value> {
        self.answers_of(id)
            .first()
            .filter(|a| a.status == 200)
            .and_then(Answer::json)
    }

    /// Objects of the `response` list of row `id`'s answer.
    fn objects(&self, id: &str) -> Vec<Value> {
        self.ok_json(id)
            .and_then(|j| j.get("response").and_then(Value::as_array).cloned())
            .unwrap_or_default()
    }
}

/// `(status, code, message, message_detail)` of an answer.
fn duo_error(answer: &Answer) -> Value {
    let json = answer.json().unwrap_or(Value::Null);
    let mut out =
        json!({ "status": answer.status.as_u16(), "code": json.get("code").cloned().unwrap_or(Value::Null) });
    for key in ["message", "message_detail"] {
        if let Some(text) = json.get(key) {
            out[key] = text.clone();
        }
    }
    out
}

fn refusal(answer: &Answer) -> String {
    let json = answer.json().unwrap_or(Value::Null);
    format!(
        "answered {} {}",
        answer.status.as_u16(),
        json.get("code").map(ToString::to_string).unwrap_or_default()
    )
}

/// `metadata.total_objects`, else the length of `response`.
fn total(answer: &Answer) -> Option<u64> {
    let json = answer.json()?;
    json.pointer("/metadata/total_objects")
        .and_then(Value::as_u64)
        .or_else(|| json.get("response")?.as_array().map(|a| a.len() as u64))
}

fn items(answer: &Answer) -> Option<usize> {
    Some(answer.json()?.get("response")?.as_array()?.len())
}

/// A row that sends one request and settles on its one answer.
fn once(answers: &[Answer], ask: impl FnOnce() -> Ask, settle: impl FnOnce(&Answer) -> Step) -> Step {
    match answers.first() {
        None => Step::Send(ask()),
        Some(answer) => settle(answer),
    }
}

fn list_total(path: &str, answers: &[Answer]) -> Step {
    once(
        answers,
        || Ask::signed(path, "limit=1"),
        |a| match (a.status.as_u16(), total(a)) {
            (200, Some(n)) => Step::Settled(json!(n)),
            _ => Step::Unknown(format!("{path} {}", refusal(a))),
        },
    )
}

/// The largest page of a list: asked with a limit over any maximum; told only when the list is
/// longer than what came.
fn largest_page(ctx: &Context, answers: &[Answer], path: &str, total_row: &str, what: &str) -> Step {
    let Some(total) = ctx.int(total_row) else {
        return Step::Unknown(format!("the number of {what} is not known"));
    };
    once(
        answers,
        || Ask::signed(path, "limit=1000"),
        |a| match (a.status.as_u16(), items(a)) {
            (200, Some(n)) if (n as u64) < total => Step::Settled(json!(n)),
            (200, Some(n)) => Step::Unknown(format!(
                "the tenant has {total} {what} and a page held all {n}: the largest page cannot be seen"
            )),
            _ => Step::Unknown(format!("{path}?limit=1000 {}", refusal(a))),
        },
    )
}

/// The union of the keys of the objects row `id` got, sorted.
fn fields(ctx: &Context, id: &str, what: &str) -> Step {
    let objects = ctx.objects(id);
    if objects.is_empty() {
        return Step::Unknown(format!("no {what} were read"));
    }
    let mut keys: Vec<String> = objects
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().cloned())
        .collect();
    keys.sort();
    keys.dedup();
    Step::Settled(json!(keys))
}

fn has_field(ctx: &Context, id: &str, field: &str, what: &str) -> Step {
    let objects = ctx.objects(id);
    if objects.is_empty() {
        return Step::Unknown(format!("no {what} were read"));
    }
    Step::Settled(json!(objects.iter().any(|o| o.get(field).is_some())))
}

/// What metadata a page that holds a whole list carries: read from a largest page that held
/// its whole list, else asked of the smallest group counted (a list short enough for one page
/// whatever the maximum).
fn metadata_mode(ctx: &Context, answers: &[Answer]) -> Step {
    let mode_of = crate::reproduce::metadata_mode_seen;
    for (id, total_row) in [
        ("max_limit_groups", "groups_total"),
        ("max_limit_admins", "admins_total"),
        ("max_limit_users", "users_total"),
    ] {
        let (Some(json), Some(total)) = (ctx.ok_json(id), ctx.int(total_row)) else {
            continue;
        };
        let held = json.get("response").and_then(Value::as_array).map_or(0, Vec::len) as u64;
        if held == total && total > 0 {
            return Step::Settled(json!(mode_of(&json)));
        }
    }
    let smallest = ctx
        .answers_of("group_sizes")
        .iter()
        .enumerate()
        .filter_map(|(i, a)| total(a).filter(|t| *t > 0).map(|t| (t, i)))
        .min();
    let ids = group_ids(ctx);
    let Some((size, id)) = smallest.and_then(|(size, i)| Some((size, ids.get(i)?.clone()))) else {
        return Step::Unknown("no list was known to fit one page".into());
    };
    once(
        answers,
        || {
            let id = duo_auth::params::encode(id.as_bytes());
            Ask::signed(format!("/admin/v2/groups/{id}/users"), "limit=1000")
        },
        |a| match (a.status.as_u16(), a.json()) {
            (200, Some(json)) if items(a) == usize::try_from(size).ok() => {
                Step::Settled(json!(mode_of(&json)))
            }
            _ => Step::Unknown(format!(
                "the smallest group's members did not come on one page ({})",
                refusal(a)
            )),
        },
    )
}

/// The ids of the groups read, in order (to ask for their members; never written out).
fn group_ids(ctx: &Context) -> Vec<String> {
    ctx.objects("max_limit_groups")
        .iter()
        .filter_map(|g| g.get("group_id").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn window(ctx: &Context, answers: &[Answer]) -> Step {
    const FAR: i64 = 960;
    const WITHIN: i64 = 30;
    if !ctx.settled.contains_key("keys") {
        return Step::Unknown("the keys were not accepted".into());
    }
    // Each answer settles one distance: 40105 refused it, anything else accepted it.
    let mut accepted = 0;
    let mut refused = None;
    let mut tried = vec![FAR];
    for (i, answer) in answers.iter().enumerate() {
        let distance = tried[i];
        let code = answer.json().and_then(|j| j.get("code").and_then(Value::as_u64));
        match (answer.status.as_u16(), code) {
            (401, Some(40105)) => refused = Some(refused.map_or(distance, |r: i64| r.min(distance))),
            (200, _) => accepted = accepted.max(distance),
            _ => return Step::Unknown(format!("a dated request {}", refusal(answer))),
        }
        let next = match refused {
            None => break,
            Some(hi) if hi - accepted <= WITHIN => break,
            Some(hi) => (accepted + hi) / 2,
        };
        tried.push(next);
    }
    match (answers.len(), refused) {
        (0, _) => Step::Send(Ask::new("/admin/v1/users", "limit=1", Auth::Dated(FAR))),
        (_, None) => Step::Measured(
            json!(FAR),
            format!("a request dated {FAR} s back was accepted: the window is at least that"),
        ),
        (_, Some(hi)) if hi - accepted <= WITHIN => Step::Measured(
            json!(accepted),
            format!("accepted {accepted} s back, refused (40105) {hi} s back"),
        ),
        (n, Some(_)) => Step::Send(Ask::new(
            "/admin/v1/users",
            "limit=1",
            Auth::Dated(tried.get(n).copied().unwrap_or(FAR)),
        )),
    }
}

fn first_object_id(ctx: &Context, row: &str, field: &str) -> Option<String> {
    ctx.objects(row)
        .first()
        .and_then(|o| o.get(field))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Members of as many groups as the budget allows (a dozen requests kept for the rows after).
fn group_sizes(ctx: &Context, answers: &[Answer]) -> Step {
    let ids = group_ids(ctx);
    if ids.is_empty() {
        return Step::Unknown("no groups were read".into());
    }
    let room = ctx.budget_left.saturating_sub(ROWS_AFTER_GROUP_SIZES);
    let want = ids.len().min(answers.len() + room).min(MAX_GROUPS_SAMPLED);
    if answers.len() < want {
        let id = duo_auth::params::encode(ids[answers.len()].as_bytes());
        return Step::Send(Ask::signed(format!("/admin/v2/groups/{id}/users"), "limit=1"));
    }
    let mut sizes: Vec<u64> = answers.iter().filter_map(total).collect();
    if sizes.is_empty() {
        return Step::Unknown("no member list could be read".into());
    }
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    Step::Settled(json!({ "groups_sampled": sizes.len(), "sizes": sizes }))
}

/// Requests kept for the rows after `group_sizes`.
const ROWS_AFTER_GROUP_SIZES: usize = 3;
/// At most this many member lists are counted.
const MAX_GROUPS_SAMPLED: usize = 25;

fn largest_group_page(ctx: &Context, answers: &[Answer]) -> Step {
    let sizes = ctx.answers_of("group_sizes");
    let largest = sizes
        .iter()
        .enumerate()
        .filter_map(|(i, a)| total(a).map(|t| (t, i)))
        .max();
    let Some((size, index)) = largest else {
        return Step::Unknown("no member list was counted".into());
    };
    let ids = group_ids(ctx);
    let Some(id) = ids.get(index) else {
        return Step::Unknown("no group id".into());
    };
    once(
        answers,
        || {
            let id = duo_auth::params::encode(id.as_bytes());
            Ask::signed(format!("/admin/v2/groups/{id}/users"), "limit=1000")
        },
        |a| match items(a) {
            Some(n) if (n as u64) < size => Step::Settled(json!(n)),
            Some(n) => Step::Unknown(format!(
                "the largest group counted has {size} members and a page held all {n}: the largest page cannot be seen"
            )),
            None => Step::Unknown(refusal(a)),
        },
    )
}

fn largest_user_groups_page(ctx: &Context, answers: &[Answer]) -> Step {
    let most = ctx
        .objects("max_limit_users")
        .iter()
        .filter_map(|u| {
            let count = u.get("groups")?.as_array()?.len();
            Some((count, u.get("user_id")?.as_str()?.to_owned()))
        })
        .max();
    let Some((count, id)) = most else {
        return Step::Unknown("no users with groups were read".into());
    };
    once(
        answers,
        || {
            let id = duo_auth::params::encode(id.as_bytes());
            Ask::signed(format!("/admin/v1/users/{id}/groups"), "limit=1000")
        },
        |a| match items(a) {
            Some(n) if n < count => Step::Settled(json!(n)),
            Some(n) => Step::Unknown(format!(
                "the user in the most groups is in {count} and a page held all {n}: the largest page cannot be seen"
            )),
            None => Step::Unknown(refusal(a)),
        },
    )
}

fn grant(path: &'static str, answers: &[Answer]) -> Step {
    once(
        answers,
        || Ask::signed(path, ""),
        |a| {
            let code = a.json().and_then(|j| j.get("code").and_then(Value::as_u64));
            match (a.status.as_u16(), code) {
                (200, _) => Step::Settled(json!("on")),
                (403, Some(40301)) => Step::Settled(json!("off")),
                _ => Step::Unknown(refusal(a)),
            }
        },
    )
}

/// Ids the probe makes up: Duo-shaped, belonging to no tenant.
const NO_USER: &str = "DUPR0BEN0SUCHUSER000";
const NO_GROUP: &str = "DGPR0BEN0SUCHGR0UP00";

/// The battery, in the order it runs.
pub const BATTERY: &[Probe] = &[
    Probe {
        id: "tls",
        option: Some("options.tls"),
        fake_default: FakeDefault::TenantFact,
        sends: "nothing: whether the server was reached over HTTPS",
        tolerance: 0,
        step: |ctx, _| Step::Settled(json!(ctx.https)),
    },
    Probe {
        id: "clock_offset_s",
        option: Some("options.clock_offset_s"),
        fake_default: FakeDefault::Json("0"),
        sends: "unsigned GET /auth/v2/ping: its time against this machine's clock",
        tolerance: 2,
        step: |_, answers| {
            once(
                answers,
                || Ask::new("/auth/v2/ping", "", Auth::None),
                |a| {
                    let server = a
                        .json()
                        .and_then(|j| j.pointer("/response/time").and_then(Value::as_i64));
                    match server {
                        Some(time) => {
                            let local = crate::probe::unix_now() - (a.elapsed.as_secs_f64() / 2.0) as i64;
                            Step::Settled(json!(time - local))
                        }
                        None => Step::Unknown(format!("the ping {}", refusal(a))),
                    }
                },
            )
        },
    },
    Probe {
        id: "keys",
        option: None,
        fake_default: FakeDefault::Json("\"accepted\""),
        sends: "GET /admin/v1/users?limit=1, signed (v5): are the keys accepted, how many users",
        tolerance: 0,
        step: |_, answers| {
            once(
                answers,
                || Ask::signed("/admin/v1/users", "limit=1"),
                |a| match a.status.as_u16() {
                    200 | 403 => Step::Settled(json!("accepted")),
                    _ => Step::Unknown(format!("the keys were refused: {}", refusal(a))),
                },
            )
        },
    },
    Probe {
        id: "users_total",
        option: None,
        fake_default: FakeDefault::TenantFact,
        sends: "(the answer of `keys`)",
        tolerance: 0,
        step: |ctx, _| match ctx.answers_of("keys").first() {
            Some(a) if a.status == 200 => {
                total(a).map_or_else(|| Step::Unknown("no total".into()), |n| Step::Settled(json!(n)))
            }
            Some(a) => Step::Unknown(refusal(a)),
            None => Step::Unknown("not asked".into()),
        },
    },
    Probe {
        id: "admins_total",
        option: None,
        fake_default: FakeDefault::TenantFact,
        sends: "GET /admin/v1/admins?limit=1",
        tolerance: 0,
        step: |_, answers| list_total("/admin/v1/admins", answers),
    },
    Probe {
        id: "groups_total",
        option: None,
        fake_default: FakeDefault::TenantFact,
        sends: "GET /admin/v1/groups?limit=1",
        tolerance: 0,
        step: |_, answers| list_total("/admin/v1/groups", answers),
    },
    Probe {
        id: "max_limit_users",
        option: Some("options.max_limit.users"),
        fake_default: FakeDefault::Json("300"),
        sends: "GET /admin/v1/users?limit=1000: objects on the largest page (told when the tenant has more)",
        tolerance: 0,
        step: |ctx, answers| largest_page(ctx, answers, "/admin/v1/users", "users_total", "users"),
    },
    Probe {
        id: "user_enable_auto_prompt",
        option: Some("options.user_enable_auto_prompt"),
        fake_default: FakeDefault::Json("true"),
        sends: "(the users page): whether users carry enable_auto_prompt",
        tolerance: 0,
        step: |ctx, _| has_field(ctx, "max_limit_users", "enable_auto_prompt", "users"),
    },
    Probe {
        id: "user_fields",
        option: None,
        fake_default: FakeDefault::FieldsOf("users"),
        sends: "(the users page): every field of a user object",
        tolerance: 0,
        step: |ctx, _| fields(ctx, "max_limit_users", "users"),
    },
    Probe {
        id: "max_limit_admins",
        option: Some("options.max_limit.admins"),
        fake_default: FakeDefault::Json("300"),
        sends: "GET /admin/v1/admins?limit=1000",
        tolerance: 0,
        step: |ctx, answers| largest_page(ctx, answers, "/admin/v1/admins", "admins_total", "admins"),
    },
    Probe {
        id: "admin_fields",
        option: None,
        fake_default: FakeDefault::FieldsOf("admins"),
        sends: "(the admins page): every field of an administrator object",
        tolerance: 0,
        step: |ctx, _| fields(ctx, "max_limit_admins", "admins"),
    },
    Probe {
        id: "max_limit_groups",
        option: Some("options.max_limit.groups"),
        fake_default: FakeDefault::Json("100"),
        sends: "GET /admin/v1/groups?limit=1000",
        tolerance: 0,
        step: |ctx, answers| largest_page(ctx, answers, "/admin/v1/groups", "groups_total", "groups"),
    },
    Probe {
        id: "group_status_case",
        option: Some("options.group_status_case"),
        fake_default: FakeDefault::Json("\"lower\""),
        sends: "(the groups page): `active` or `Active`",
        tolerance: 0,
        step: |ctx, _| {
            let statuses: Vec<String> = ctx
                .objects("max_limit_groups")
                .iter()
                .filter_map(|g| g.get("status").and_then(Value::as_str).map(str::to_owned))
                .collect();
            match statuses.first() {
                None => Step::Unknown("no group status was read".into()),
                Some(s) if s.starts_with(|c: char| c.is_ascii_uppercase()) => {
                    Step::Settled(json!("capitalized"))
                }
                Some(_) => Step::Settled(json!("lower")),
            }
        },
    },
    Probe {
        id: "group_voice_enabled",
        option: Some("options.group_voice_enabled"),
        fake_default: FakeDefault::Json("true"),
        sends: "(the groups page): whether groups carry voice_enabled",
        tolerance: 0,
        step: |ctx, _| has_field(ctx, "max_limit_groups", "voice_enabled", "groups"),
    },
    Probe {
        id: "group_v1_users",
        option: Some("options.group_v1_users"),
        fake_default: FakeDefault::Json("true"),
        sends: "GET /admin/v1/groups/{a group read above} (the deprecated v1 group info): whether it lists the members in `users`",
        tolerance: 0,
        step: |ctx, answers| {
            let Some(id) = group_ids(ctx).into_iter().next() else {
                return Step::Unknown("no groups were read".into());
            };
            once(
                answers,
                || {
                    let id = duo_auth::params::encode(id.as_bytes());
                    Ask::signed(format!("/admin/v1/groups/{id}"), "")
                },
                |a| match (a.status.as_u16(), a.json()) {
                    (200, Some(json)) => Step::Settled(json!(json.pointer("/response/users").is_some())),
                    _ => Step::Unknown(format!("the v1 group info {}", refusal(a))),
                },
            )
        },
    },
    Probe {
        id: "group_fields",
        option: None,
        fake_default: FakeDefault::FieldsOf("groups"),
        sends: "(the groups page): every field of a group object",
        tolerance: 0,
        step: |ctx, _| fields(ctx, "max_limit_groups", "groups"),
    },
    Probe {
        id: "zero_limit",
        option: Some("options.zero_limit"),
        fake_default: FakeDefault::Json("\"default\""),
        sends: "GET /admin/v1/users?limit=0",
        tolerance: 0,
        step: |_, answers| {
            once(
                answers,
                || Ask::signed("/admin/v1/users", "limit=0"),
                |a| match a.status.as_u16() {
                    200 => Step::Settled(json!("default")),
                    400 => Step::Settled(json!("reject")),
                    _ => Step::Unknown(refusal(a)),
                },
            )
        },
    },
    Probe {
        id: "accept_v1",
        option: Some("options.accept_v1"),
        fake_default: FakeDefault::Json("false"),
        sends: "GET /admin/v1/users?limit=1 signed v1 (HMAC-SHA1): 200, or 401 40112",
        tolerance: 0,
        step: |_, answers| signature_version(answers, Scheme::V1(Digest::Sha1)),
    },
    Probe {
        id: "accept_v4",
        option: Some("options.accept_v4"),
        fake_default: FakeDefault::Json("false"),
        sends: "GET /admin/v1/users?limit=1 signed v4: 200, or 401 40112",
        tolerance: 0,
        step: |_, answers| signature_version(answers, Scheme::V4),
    },
    Probe {
        id: "signature_window_s",
        option: Some("options.signature_window_s"),
        fake_default: FakeDefault::Json("300"),
        sends: "GET /admin/v1/users?limit=1 dated 960 s before the server's clock, then halving the gap between accepted and refused (40105) to within 30 s (about 6 requests): the longest distance accepted",
        tolerance: 30,
        step: window,
    },
    Probe {
        id: "explain",
        option: Some("options.explain"),
        fake_default: FakeDefault::Json("false"),
        sends: "GET /admin/v1/users?limit=1 signed with a wrong key: whether the 401 explains itself (X-Duo-Mock-Explain, never from Duo)",
        tolerance: 0,
        step: |_, answers| {
            once(
                answers,
                || Ask::new("/admin/v1/users", "limit=1", Auth::WrongKey),
                |a| match a.status.as_u16() {
                    401 => Step::Settled(json!(a.header("x-duo-mock-explain").is_some())),
                    _ => Step::Unknown(format!("a wrong signature {}", refusal(a))),
                },
            )
        },
    },
    Probe {
        id: "message_40103",
        option: None,
        fake_default: FakeDefault::Json(
            "{\"status\":401,\"code\":40103,\"message\":\"Invalid signature in request credentials\"}",
        ),
        sends: "(the answer of `explain`): Duo's answer to a wrong signature",
        tolerance: 0,
        step: |ctx, _| match ctx.answers_of("explain").first() {
            Some(a) => Step::Settled(duo_error(a)),
            None => Step::Unknown("not asked".into()),
        },
    },
    Probe {
        id: "message_40101",
        option: None,
        fake_default: FakeDefault::Json(
            "{\"status\":401,\"code\":40101,\"message\":\"Missing request credentials\"}",
        ),
        sends: "GET /admin/v1/users?limit=1 without Authorization",
        tolerance: 0,
        step: |_, answers| error_answer(answers, Ask::new("/admin/v1/users", "limit=1", Auth::None)),
    },
    Probe {
        id: "message_40102",
        option: None,
        fake_default: FakeDefault::Json(
            "{\"status\":401,\"code\":40102,\"message\":\"Invalid integration key in request credentials\"}",
        ),
        sends: "GET /admin/v1/users?limit=1 signed for an integration key no tenant has",
        tolerance: 0,
        step: |_, answers| {
            error_answer(
                answers,
                Ask::new("/admin/v1/users", "limit=1", Auth::UnknownIkey(0)),
            )
        },
    },
    Probe {
        id: "message_40104",
        option: None,
        fake_default: FakeDefault::Json(
            "{\"status\":401,\"code\":40104,\"message\":\"Missing request timestamp\"}",
        ),
        sends: "GET /admin/v1/users?limit=1 signed, sent without its Date",
        tolerance: 0,
        step: |_, answers| error_answer(answers, Ask::new("/admin/v1/users", "limit=1", Auth::NoDate)),
    },
    Probe {
        id: "routing_unknown_path",
        option: None,
        fake_default: FakeDefault::Json("{\"status\":404,\"code\":40401,\"message\":\"Resource not found\"}"),
        sends: "unsigned GET /admin/v1/no-such-endpoint: routing before authentication?",
        tolerance: 0,
        step: |_, answers| error_answer(answers, Ask::new("/admin/v1/no-such-endpoint", "", Auth::None)),
    },
    Probe {
        id: "routing_wrong_method",
        option: None,
        fake_default: FakeDefault::Json("{\"status\":405,\"code\":40501,\"message\":\"Method not allowed\"}"),
        sends: "unsigned GET /admin/v1/users/{made-up id}/groups/{made-up id} (a DELETE-only route; a GET changes nothing)",
        tolerance: 0,
        step: |_, answers| {
            error_answer(
                answers,
                Ask::new(
                    format!("/admin/v1/users/{NO_USER}/groups/{NO_GROUP}"),
                    "",
                    Auth::None,
                ),
            )
        },
    },
    Probe {
        id: "bad_limit",
        option: None,
        fake_default: FakeDefault::Json(
            "{\"status\":400,\"code\":40002,\"message\":\"Invalid request parameters\",\"message_detail\":\"limit\"}",
        ),
        sends: "GET /admin/v1/users?limit=abc, signed",
        tolerance: 0,
        step: |_, answers| error_answer(answers, Ask::signed("/admin/v1/users", "limit=abc")),
    },
    Probe {
        id: "order_stale_date_and_unknown_ikey",
        option: None,
        fake_default: FakeDefault::Json(
            "{\"status\":401,\"code\":40105,\"message\":\"Bad request timestamp\"}",
        ),
        sends: "GET /admin/v1/users?limit=1 for an unknown integration key, dated an hour ago: which check comes first",
        tolerance: 0,
        step: |_, answers| {
            error_answer(
                answers,
                Ask::new("/admin/v1/users", "limit=1", Auth::UnknownIkey(3600)),
            )
        },
    },
    Probe {
        id: "order_bad_signature_and_bad_limit",
        option: None,
        fake_default: FakeDefault::Json(
            "{\"status\":401,\"code\":40103,\"message\":\"Invalid signature in request credentials\"}",
        ),
        sends: "GET /admin/v1/users?limit=abc signed with a wrong key: signature or parameters first",
        tolerance: 0,
        step: |_, answers| error_answer(answers, Ask::new("/admin/v1/users", "limit=abc", Auth::WrongKey)),
    },
    Probe {
        id: "offset_past_end",
        option: None,
        fake_default: FakeDefault::Json(
            "{\"status\":200,\"items\":0,\"metadata\":[\"prev_offset\",\"total_objects\"]}",
        ),
        sends: "GET /admin/v1/users?limit=1&offset=(users + 100)",
        tolerance: 0,
        step: |ctx, answers| {
            let Some(users) = ctx.int("users_total") else {
                return Step::Unknown("the number of users is not known".into());
            };
            once(
                answers,
                || Ask::signed("/admin/v1/users", &format!("limit=1&offset={}", users + 100)),
                page_shape,
            )
        },
    },
    Probe {
        id: "filtered_list",
        option: None,
        fake_default: FakeDefault::Json("{\"status\":200,\"items\":1,\"metadata\":null}"),
        sends: "GET /admin/v1/users?username=(a username read above): the filtered list's metadata",
        tolerance: 0,
        step: |ctx, answers| {
            let Some(name) = first_object_id(ctx, "max_limit_users", "username") else {
                return Step::Unknown("no username was read".into());
            };
            once(
                answers,
                || {
                    let query = duo_auth::params::canon_params(&[(b"username".to_vec(), name.into_bytes())]);
                    Ask::signed("/admin/v1/users", &query)
                },
                page_shape,
            )
        },
    },
    Probe {
        id: "grant_read_information",
        option: None,
        fake_default: FakeDefault::TenantFact,
        sends: "GET /admin/v1/info/summary: on (200) or off (403 40301)",
        tolerance: 0,
        step: |_, answers| grant("/admin/v1/info/summary", answers),
    },
    Probe {
        id: "grant_settings",
        option: None,
        fake_default: FakeDefault::TenantFact,
        sends: "GET /admin/v1/settings: on (200) or off (403 40301)",
        tolerance: 0,
        step: |_, answers| grant("/admin/v1/settings", answers),
    },
    Probe {
        id: "group_sizes",
        option: None,
        fake_default: FakeDefault::TenantFact,
        sends: "GET /admin/v2/groups/{id}/users?limit=1 for up to 25 groups, as the budget allows: members per group",
        tolerance: 0,
        step: group_sizes,
    },
    Probe {
        id: "max_limit_group_users",
        option: Some("options.max_limit.group_users"),
        fake_default: FakeDefault::Json("500"),
        sends: "GET /admin/v2/groups/{the largest counted}/users?limit=1000",
        tolerance: 0,
        step: largest_group_page,
    },
    Probe {
        id: "max_limit_user_groups",
        option: Some("options.max_limit.user_groups"),
        fake_default: FakeDefault::Json("500"),
        sends: "GET /admin/v1/users/{the user in most groups}/groups?limit=1000",
        tolerance: 0,
        step: largest_user_groups_page,
    },
    Probe {
        id: "metadata",
        option: Some("options.metadata"),
        fake_default: FakeDefault::Json("\"omit-on-single-page\""),
        sends: "(a largest page that held its whole list) or GET /admin/v2/groups/{the smallest counted}/users?limit=1000: metadata absent, present, or with nulls",
        tolerance: 0,
        step: metadata_mode,
    },
    Probe {
        id: "idle_keepalive_s",
        option: Some("options.limits.header_read_timeout_ms"),
        fake_default: FakeDefault::Json("15"),
        sends: "unsigned GET /auth/v2/ping on a connection of its own, then nothing: seconds until the server closes it (waited for while the battery runs)",
        tolerance: 1,
        step: |_, _| Step::Idle,
    },
];

fn signature_version(answers: &[Answer], scheme: Scheme) -> Step {
    once(
        answers,
        || Ask::new("/admin/v1/users", "limit=1", Auth::Signed(scheme)),
        |a| {
            let code = a.json().and_then(|j| j.get("code").and_then(Value::as_u64));
            match (a.status.as_u16(), code) {
                (200, _) => Step::Settled(json!(true)),
                (401, Some(40112)) => Step::Settled(json!(false)),
                _ => Step::Unknown(refusal(a)),
            }
        },
    )
}

fn error_answer(answers: &[Answer], ask: Ask) -> Step {
    once(answers, || ask, |a| Step::Settled(duo_error(a)))
}

/// Status, items and metadata keys of a list answer.
fn page_shape(a: &Answer) -> Step {
    let json = a.json().unwrap_or(Value::Null);
    let metadata = json.get("metadata").and_then(Value::as_object).map(|m| {
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        json!(keys)
    });
    Step::Settled(json!({
        "status": a.status.as_u16(),
        "items": items(a),
        "metadata": metadata,
    }))
}
