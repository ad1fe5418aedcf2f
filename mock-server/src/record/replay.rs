//! A recording turned into a scenario `duo-mock serve` replays: the objects read (scrubbed) as
//! written-out records plus `objects.json` (each object byte for byte as recorded, but for the
//! pseudonyms), padding to the totals Duo reported, the options the answers showed (metadata,
//! page sizes, `limit=0`), and a fault rule for every refusal and error on the path and calls
//! where it came.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

use super::Exchange as Recorded;
use super::scrub::{Json, Place, Pseudonyms};
use crate::error::{Error, Result};
use crate::reproduce::{self, Exchange, Page, PageShape, Seen};
use crate::scenario_writer::ScenarioWriter;

/// The integration of a replayed scenario (test keys, like every scenario's).
pub const REPLAY_IKEY: &str = "DIREC0RDEDREPLAY0001";
const REPLAY_SKEY: &str = "rec0rdedReplayTestKeyN0tTheUpstream00001";

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Users written out (and generated to reach Duo's total).
    pub users: (usize, u64),
    /// Groups written out (and generated).
    pub groups: (usize, u64),
    /// Administrators written out (and generated).
    pub admins: (usize, u64),
    /// Fault rules.
    pub faults: usize,
}

/// A list read in pages: objects in the order of their offsets.
#[derive(Debug, Default)]
struct Listed {
    objects: Vec<(String, Json)>,
    total: u64,
}

impl Listed {
    /// Adds an object not seen yet.
    fn add(&mut self, id: String, object: Json) {
        if !self.objects.iter().any(|(seen, _)| *seen == id) {
            self.objects.push((id, object));
        }
    }

    /// Adds an object, or replaces the one seen with its id where it stands.
    fn put(&mut self, id: String, object: Json) {
        match self.objects.iter_mut().find(|(seen, _)| *seen == id) {
            Some(slot) => slot.1 = object,
            None => self.objects.push((id, object)),
        }
    }
}

/// A Duo success's `response` and `metadata`, keys in order.
fn success(exchange: &Recorded) -> Option<(Json, Option<Json>)> {
    if exchange.status != 200 || exchange.method != "GET" {
        return None;
    }
    let json: Json = serde_json::from_slice(&exchange.body).ok()?;
    if json.get("stat").and_then(Json::as_str) != Some("OK") {
        return None;
    }
    Some((json.get("response")?.clone(), json.get("metadata").cloned()))
}

fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn id_of(object: &Json, field: &str) -> Option<String> {
    object.get(field).and_then(Json::as_str).map(str::to_owned)
}

/// Which list a path is, and the id in it.
#[derive(Debug, PartialEq, Eq)]
enum Resource {
    Users,
    User(String),
    UserGroups(String),
    Groups,
    Group(String),
    GroupMembers(String),
    Admins,
    Admin(String),
    Summary,
    Settings,
    Other,
}

fn resource(path: &str) -> Resource {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match parts.as_slice() {
        ["", "admin", "v1", "users"] => Resource::Users,
        ["", "admin", "v1", "users", id] => Resource::User((*id).to_owned()),
        ["", "admin", "v1", "users", id, "groups"] => Resource::UserGroups((*id).to_owned()),
        ["", "admin", "v1", "groups"] => Resource::Groups,
        ["", "admin", "v1" | "v2", "groups", id] => Resource::Group((*id).to_owned()),
        ["", "admin", "v2", "groups", id, "users"] => Resource::GroupMembers((*id).to_owned()),
        ["", "admin", "v1", "admins"] => Resource::Admins,
        ["", "admin", "v1", "admins", id] => Resource::Admin((*id).to_owned()),
        ["", "admin", "v1", "info", "summary"] => Resource::Summary,
        ["", "admin", "v1", "settings"] => Resource::Settings,
        _ => Resource::Other,
    }
}

/// Everything the recording showed, scrubbed.
#[derive(Debug, Default)]
struct Tenant {
    users: Listed,
    groups: Listed,
    admins: Listed,
    members: HashMap<String, Json>,
    /// group id → member user ids.
    memberships: BTreeMap<String, Vec<String>>,
    summary: Option<Json>,
    settings: Option<Json>,
    metadata: Option<&'static str>,
    /// Whether the v1 group info listed the members (`options.group_v1_users`), when asked.
    group_v1_users: Option<bool>,
    max_limit: BTreeMap<&'static str, u64>,
    zero_limit_rejected: bool,
}

impl Tenant {
    fn member_of(&mut self, group: &str, user: &str) {
        let members = self.memberships.entry(group.to_owned()).or_default();
        if !members.iter().any(|m| m == user) {
            members.push(user.to_owned());
        }
    }

    /// Records a user object and its embedded groups.
    fn user(&mut self, object: Json, listed: bool) {
        let Some(id) = id_of(&object, "user_id") else {
            return;
        };
        for group in object.get("groups").and_then(Json::as_array).unwrap_or_default() {
            if let Some(group_id) = id_of(group, "group_id") {
                self.member_of(&group_id, &id);
                self.groups.add(group_id, group.clone());
            }
        }
        if listed || !self.users.objects.iter().any(|(seen, _)| *seen == id) {
            self.users.add(id, object);
        }
    }
}

/// Writes `dir/scenario.toml` and `dir/objects.json` from `exchanges`.
pub fn write(dir: &Path, exchanges: &[Recorded], recorded_at: &str) -> Result<Written> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut names = Pseudonyms::new();
    // Twice: the first pass gives every value its pseudonym, so that the second replaces a value
    // seen under a neutral key before it was seen under its own.
    collect(exchanges, &mut names);
    let tenant = collect(exchanges, &mut names);
    let faults: Vec<Exchange> = exchanges
        .iter()
        .filter(|e| e.method == "GET")
        .map(|e| Exchange {
            path: names.path(&e.path),
            seen: seen(e, &mut names),
            note: format!("{} {} → {}", e.method, names.path(&e.path), e.status),
        })
        .collect();

    let objects = objects_json(&tenant);
    let objects_path = dir.join("objects.json");
    std::fs::write(&objects_path, objects).map_err(|e| Error::io(&objects_path, e))?;

    let mut w = ScenarioWriter::new();
    w.comment(&format!(
        "Recorded by `duo-mock record` on {recorded_at} ({} requests), scrubbed: every name,",
        exchanges.len()
    ));
    w.comment("username, e-mail, phone number, id, free text and IP address is a pseudonym, the same");
    w.comment("everywhere; every other field, key order and timestamp is as recorded (objects.json).");
    w.key("description", format!("Recorded on {recorded_at}"));
    let tenant_name = tenant
        .settings
        .as_ref()
        .and_then(|s| s.get("name"))
        .and_then(Json::as_str)
        .unwrap_or("Recorded tenant")
        .to_owned();
    w.table("tenant")
        .key("name", tenant_name)
        .key("api_hostname", "api-00000000.duosecurity.com")
        .key("seed", 1_u64)
        .key("objects_file", "objects.json");
    let pad = |listed: &Listed| listed.total.saturating_sub(listed.objects.len() as u64);
    let written = Written {
        users: (tenant.users.objects.len(), pad(&tenant.users)),
        groups: (tenant.groups.objects.len(), pad(&tenant.groups)),
        admins: (tenant.admins.objects.len(), pad(&tenant.admins)),
        faults: 0,
    };
    w.comment("objects Duo counted in its totals that the client did not read: generated");
    w.table("generate")
        .key("users", written.users.1)
        .key("admins", written.admins.1)
        .key("groups", written.groups.1);
    w.array_table("integrations")
        .key("name", "recorded")
        .key("ikey", REPLAY_IKEY)
        .key("skey", REPLAY_SKEY)
        .key(
            "grants",
            vec![
                "Grant read resource",
                "Grant administrators",
                "Grant read information",
                "Grant settings",
            ],
        );
    w.table("options");
    if let Some(mode) = tenant.metadata {
        w.comment("a list that fitted one page came with this metadata");
        w.key("metadata", mode);
    }
    if tenant.zero_limit_rejected {
        w.key("zero_limit", "reject");
    }
    if let Some(listed) = tenant.group_v1_users {
        w.key("group_v1_users", listed);
    }
    if !tenant.max_limit.is_empty() {
        w.comment("pages shorter than asked, with more to come");
        w.table("options.max_limit");
        for (list, max) in &tenant.max_limit {
            w.key(list, *max);
        }
    }
    write_records(&mut w, &tenant);
    let rules = reproduce::write_rules(&mut w, &faults, None);
    let text = w.finish(&dir.join("scenario.toml").display().to_string())?;
    let path = dir.join("scenario.toml");
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(Written {
        faults: rules,
        ..written
    })
}

/// Reads every success of the recording into the tenant, scrubbed by `names`.
fn collect(exchanges: &[Recorded], names: &mut Pseudonyms) -> Tenant {
    let mut tenant = Tenant::default();
    let mut pages: Vec<(u64, &Recorded, Json, Option<Json>)> = Vec::new();
    for e in exchanges {
        if e.method == "GET" && e.status == 400 && param(&e.query, "limit") == Some("0") {
            tenant.zero_limit_rejected = true;
        }
        if let Some((response, metadata)) = success(e) {
            let offset = param(&e.query, "offset")
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            pages.push((offset, e, response, metadata));
        }
    }
    // Pages of a list in the order of their offsets: the order the list has.
    pages.sort_by_key(|(offset, e, ..)| (e.path.clone(), *offset));
    for (offset, e, response, metadata) in pages {
        let path = names.path(&e.path);
        let filtered = ["username", "email", "user_id_list", "username_list"]
            .iter()
            .any(|p| param(&e.query, p).is_some());
        let items = response.as_array().map_or(0, <[Json]>::len) as u64;
        let total = metadata
            .as_ref()
            .and_then(|m| m.get("total_objects"))
            .and_then(Json::as_u64)
            .unwrap_or(offset + items);
        let next = metadata
            .as_ref()
            .and_then(|m| m.get("next_offset"))
            .and_then(Json::as_u64);
        let limit = param(&e.query, "limit").and_then(|l| l.parse::<u64>().ok());
        let list_name = |r: &Resource| match r {
            Resource::Users => Some("users"),
            Resource::Groups => Some("groups"),
            Resource::Admins => Some("admins"),
            Resource::GroupMembers(_) => Some("group_users"),
            Resource::UserGroups(_) => Some("user_groups"),
            _ => None,
        };
        let kind = resource(&path);
        if let (Some(list), Some(limit), Some(_)) = (list_name(&kind), limit, next)
            && items < limit
            && !filtered
        {
            tenant.max_limit.insert(list, items);
        }
        if list_name(&kind).is_some()
            && !filtered
            && offset == 0
            && next.is_none()
            && items == total
            && items > 0
        {
            let raw: Option<Value> = serde_json::from_slice(&e.body).ok();
            if let Some(raw) = raw {
                tenant.metadata.get_or_insert(reproduce::metadata_mode_seen(&raw));
            }
        }
        let place = match kind {
            Resource::Users | Resource::User(_) | Resource::GroupMembers(_) => Place::User,
            Resource::Groups | Resource::Group(_) | Resource::UserGroups(_) => Place::Group,
            Resource::Admins | Resource::Admin(_) => Place::Admin,
            Resource::Settings => Place::Settings,
            _ => Place::Other,
        };
        let response = names.json(&response, place);
        let objects: Vec<Json> = match &response {
            Json::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        match kind {
            Resource::Users => {
                if !filtered {
                    tenant.users.total = tenant.users.total.max(total);
                }
                for user in objects {
                    tenant.user(user, !filtered);
                }
            }
            Resource::User(_) => objects.into_iter().for_each(|u| tenant.user(u, false)),
            Resource::UserGroups(user) => {
                for group in objects {
                    if let Some(group_id) = id_of(&group, "group_id") {
                        tenant.member_of(&group_id, &user);
                        tenant.groups.add(group_id, group);
                    }
                }
            }
            Resource::Groups | Resource::Group(_) => {
                if kind == Resource::Groups {
                    tenant.groups.total = tenant.groups.total.max(total);
                }
                for mut group in objects {
                    if e.path.starts_with("/admin/v1/groups/") {
                        // The v1 group info adds the members to the group: an option of the
                        // fake, not a field of the group.
                        if let Json::Object(pairs) = &mut group {
                            let before = pairs.len();
                            pairs.retain(|(k, _)| k != "users");
                            tenant.group_v1_users = Some(pairs.len() != before);
                        }
                    }
                    if let Some(id) = id_of(&group, "group_id") {
                        // The list's object is the group's own; one embedded in a user, or a
                        // single group's, only stands in until the list shows it.
                        if kind == Resource::Groups {
                            tenant.groups.put(id, group);
                        } else {
                            tenant.groups.add(id, group);
                        }
                    }
                }
            }
            Resource::GroupMembers(group) => {
                for member in objects {
                    if let Some(user) = id_of(&member, "user_id") {
                        tenant.member_of(&group, &user);
                        tenant.members.entry(user).or_insert(member);
                    }
                }
            }
            Resource::Admins | Resource::Admin(_) => {
                if kind == Resource::Admins {
                    tenant.admins.total = tenant.admins.total.max(total);
                }
                for admin in objects {
                    if let Some(id) = id_of(&admin, "admin_id") {
                        tenant.admins.add(id, admin);
                    }
                }
            }
            Resource::Summary => tenant.summary = Some(response),
            Resource::Settings => tenant.settings = Some(response),
            Resource::Other => {}
        }
    }
    // Members never seen as users are users too.
    let known: Vec<String> = tenant.users.objects.iter().map(|(id, _)| id.clone()).collect();
    for (id, member) in &tenant.members {
        if !known.contains(id) {
            tenant.users.objects.push((id.clone(), member.clone()));
        }
    }
    tenant
}

/// What one exchange got, for the fault rules: Duo's success and the recorder's own refusals
/// (never sent upstream) are not faults.
fn seen(exchange: &Recorded, names: &mut Pseudonyms) -> Seen {
    let json: Option<Value> = serde_json::from_slice(&exchange.body).ok();
    let stat = json.as_ref().and_then(|j| j.get("stat")).and_then(Value::as_str);
    let code = json
        .as_ref()
        .and_then(|j| j.get("code"))
        .and_then(|c| c.as_u64().or_else(|| c.as_str()?.parse().ok()))
        .and_then(|c| u32::try_from(c).ok());
    let status = exchange.status;
    match (stat, code) {
        (Some("OK"), _) if status == 200 && json.as_ref().is_some_and(|j| j.get("response").is_some()) => {
            Seen::Normal
        }
        (Some("FAIL"), Some(code)) if status != 200 => {
            if code == 40104 {
                return Seen::DateRemoved;
            }
            Seen::Duo {
                status,
                code,
                message: json
                    .as_ref()
                    .and_then(|j| j.get("message"))
                    .and_then(Value::as_str)
                    .map(|m| names.text(m)),
                retry_after: exchange.retry_after.clone(),
            }
        }
        _ => {
            let text = String::from_utf8_lossy(&exchange.body);
            let shape = match (&json, stat) {
                _ if text.trim().is_empty() => PageShape::Empty,
                (Some(j), Some("OK")) if j.get("response").is_none() => PageShape::StatOkWithoutResponse,
                (Some(_), Some(_)) => PageShape::OtherStat,
                (Some(_), None) => PageShape::OtherJson,
                (None, _) if text.trim_start().starts_with('<') => PageShape::Html(None),
                (None, _) => PageShape::NotJson,
            };
            Seen::Page(Page {
                status,
                server: exchange.server.clone(),
                content_type: exchange.content_type.clone(),
                retry_after: exchange.retry_after.clone(),
                shape,
                body: Some(names.text(&text)),
            })
        }
    }
}

fn objects_json(tenant: &Tenant) -> String {
    let map =
        |list: &[(String, Json)]| Json::Object(list.iter().map(|(id, o)| (id.clone(), o.clone())).collect());
    let members = Json::Object(
        tenant
            .members
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect(),
    );
    let mut pairs = vec![
        ("users".to_owned(), map(&tenant.users.objects)),
        ("groups".to_owned(), map(&tenant.groups.objects)),
        ("admins".to_owned(), map(&tenant.admins.objects)),
        ("members".to_owned(), members),
    ];
    if let Some(summary) = &tenant.summary {
        pairs.push(("summary".to_owned(), summary.clone()));
    }
    if let Some(settings) = &tenant.settings {
        pairs.push(("settings".to_owned(), settings.clone()));
    }
    serde_json::to_string_pretty(&Json::Object(pairs)).unwrap_or_default()
}

/// A status the scenario's records accept, else none (the object as recorded says it anyway).
fn valid<'a>(value: Option<&'a str>, allowed: &[&str]) -> Option<&'a str> {
    value.filter(|v| allowed.contains(v))
}

fn write_records(w: &mut ScenarioWriter, tenant: &Tenant) {
    let mut group_names: HashMap<String, String> = HashMap::new();
    for (n, (id, group)) in tenant.groups.objects.iter().enumerate() {
        let name = group
            .get("name")
            .and_then(Json::as_str)
            .filter(|name| !name.is_empty() && !group_names.values().any(|v| v == name))
            .map_or_else(|| format!("Group {id} {n}"), str::to_owned);
        group_names.insert(id.clone(), name.clone());
        w.array_table("groups")
            .key("name", name)
            .key("group_id", id.as_str());
        let status = group
            .get("status")
            .and_then(Json::as_str)
            .map(str::to_ascii_lowercase);
        w.key_opt(
            "status",
            valid(status.as_deref(), &crate::scenario::GROUP_STATUSES),
        );
    }
    let mut usernames: Vec<String> = Vec::new();
    for (n, (id, user)) in tenant.users.objects.iter().enumerate() {
        let text = |key: &str| user.get(key).and_then(Json::as_str);
        let username = text("username")
            .filter(|u| !u.is_empty() && !usernames.iter().any(|seen| seen == u))
            .map_or_else(|| format!("user-{n}-{id}"), str::to_owned);
        usernames.push(username.clone());
        let groups: Vec<String> = tenant
            .memberships
            .iter()
            .filter(|(_, members)| members.iter().any(|m| m == id))
            .filter_map(|(group, _)| group_names.get(group).cloned())
            .collect();
        let aliases: Vec<String> = match user.get("aliases") {
            Some(Json::Object(pairs)) => pairs
                .iter()
                .filter_map(|(_, v)| v.as_str().map(str::to_owned))
                .collect(),
            _ => ["alias1", "alias2", "alias3", "alias4"]
                .iter()
                .filter_map(|k| text(k).filter(|a| !a.is_empty()).map(str::to_owned))
                .collect(),
        };
        w.array_table("users")
            .key("username", username)
            .key("user_id", id.as_str())
            .key("email", text("email").unwrap_or_default());
        w.key_opt("realname", text("realname"));
        w.key_opt("status", valid(text("status"), &crate::scenario::USER_STATUSES));
        if !groups.is_empty() {
            w.key("groups", groups);
        }
        if !aliases.is_empty() && aliases.len() <= 8 {
            w.key("aliases", aliases);
        }
    }
    let mut emails: Vec<String> = Vec::new();
    for (n, (id, admin)) in tenant.admins.objects.iter().enumerate() {
        let text = |key: &str| admin.get(key).and_then(Json::as_str);
        let email = text("email")
            .filter(|e| !e.is_empty() && !emails.iter().any(|seen| seen == e))
            .map_or_else(|| format!("admin{n}@example.com"), str::to_owned);
        emails.push(email.clone());
        w.array_table("admins")
            .key("name", text("name").unwrap_or("Admin"))
            .key("email", email)
            .key("admin_id", id.as_str());
        w.key_opt("role", text("role"));
        w.key_opt("status", valid(text("status"), &crate::scenario::ADMIN_STATUSES));
    }
}
