//! Churn (failure catalogue D13): changes to the tenant applied once, after the Nth list request
//! or at a time after start, so offset paging shifts under a connector the way it does on a live
//! tenant. Deleting users at the front makes a pager that goes on by offset skip users; creating
//! users adds to the end; renames and group moves change objects already read.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use rand::SeedableRng;
use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::edit::TenantEdit;
use crate::model::{self, RenderOptions, User};
use crate::ratelimit::EndpointClass;
use crate::state::{AppState, World};

/// One change to the tenant, as written in the scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChurnEvent {
    /// A name for logs.
    pub name: Option<String>,
    /// Apply right after this many successful list requests (any list endpoint)…
    pub after_list_requests: Option<u64>,
    /// …or this many seconds after start (or reset).
    pub at_s: Option<f64>,
    /// Delete this many users from the front of the list (shifts every later offset).
    #[serde(default)]
    pub delete_users: u32,
    /// Create this many users (added at the end of the list).
    #[serde(default)]
    pub create_users: u32,
    /// Rename this many users from the middle of the list.
    #[serde(default)]
    pub rename_users: u32,
    /// Move this many users from the middle of the list to another group.
    #[serde(default)]
    pub move_users: u32,
    /// The users the deletes, renames and moves take instead (the first N of them, in the order
    /// written), by username…
    #[serde(default)]
    pub users: Vec<Spanned<String>>,
    /// …or by position in the list as it is when the event applies (0-based, both ends included).
    pub user_range: Option<Spanned<[u32; 2]>>,
}

impl ChurnEvent {
    /// Checks the event: one trigger, at least one change.
    pub fn check(&self) -> Result<(), String> {
        match (self.after_list_requests, self.at_s) {
            (Some(_), Some(_)) | (None, None) => {
                return Err("a churn event takes one trigger: after_list_requests or at_s".into());
            }
            (Some(0), _) => return Err("after_list_requests counts from 1".into()),
            (_, Some(t)) if t.is_nan() || t < 0.0 => return Err("at_s must be zero or more".into()),
            _ => {}
        }
        if self.delete_users + self.create_users + self.rename_users + self.move_users == 0 {
            return Err(
                "a churn event needs a change: delete_users, create_users, rename_users or move_users".into(),
            );
        }
        let chosen = match (&self.users[..], &self.user_range) {
            ([], None) => return Ok(()),
            ([_, ..], Some(_)) => {
                return Err("a churn event chooses users by users or by user_range, not both".into());
            }
            (names, None) => {
                let mut seen = std::collections::HashSet::new();
                if let Some(twice) = names.iter().find(|n| !seen.insert(n.get_ref())) {
                    return Err(format!("users names {:?} twice", twice.get_ref()));
                }
                names.len() as u64
            }
            ([], Some(range)) => {
                let [first, last] = *range.get_ref();
                if first > last {
                    return Err(format!(
                        "user_range [{first}, {last}]: the first position comes after the last"
                    ));
                }
                u64::from(last - first) + 1
            }
        };
        for (count, key) in [
            (self.delete_users, "delete_users"),
            (self.rename_users, "rename_users"),
            (self.move_users, "move_users"),
        ] {
            if u64::from(count) > chosen {
                return Err(format!("{key} = {count}, but the event chooses {chosen} users"));
            }
        }
        Ok(())
    }

    /// Positions in `users` (the list as the event finds it) of the users the event chose, in
    /// the order written; `None` without a choice. Names not (or no longer) in the list and
    /// positions past its end are skipped.
    fn chosen(&self, users: &[serde_json::Map<String, Value>]) -> Option<Vec<usize>> {
        if let Some(range) = &self.user_range {
            let [first, last] = *range.get_ref();
            return Some(
                (first as usize..=last as usize)
                    .filter(|p| *p < users.len())
                    .collect(),
            );
        }
        if self.users.is_empty() {
            return None;
        }
        Some(
            self.users
                .iter()
                .filter_map(|name| {
                    users
                        .iter()
                        .position(|u| u.get("username").and_then(Value::as_str) == Some(name.get_ref()))
                })
                .collect(),
        )
    }
}

impl ChurnEvent {
    /// The event in one line for the start-up banner.
    pub fn describe(&self) -> String {
        let when = match (self.after_list_requests, self.at_s) {
            (Some(n), _) => format!("after {n} list requests"),
            (None, Some(t)) => format!("at {t} s"),
            (None, None) => "never".to_owned(),
        };
        let changes: Vec<String> = [
            (self.delete_users, "delete"),
            (self.create_users, "create"),
            (self.rename_users, "rename"),
            (self.move_users, "move"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, verb)| format!("{verb} {n} users"))
        .collect();
        let whom = match (&self.user_range, &self.users[..]) {
            (Some(range), _) => format!(" (of positions {}–{})", range.get_ref()[0], range.get_ref()[1]),
            (None, []) => String::new(),
            (None, names) => format!(
                " (of {})",
                names
                    .iter()
                    .map(|n| n.get_ref().as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!("{when}: {}{whom}", changes.join(", "))
    }
}

/// The scenario's churn events and their progress; kept across edits, restarted by a reset.
#[derive(Debug)]
pub struct Churn {
    events: Vec<(ChurnEvent, AtomicBool)>,
    list_requests: AtomicU64,
    started: Instant,
}

impl Churn {
    /// Events not yet applied.
    pub fn new(events: &[ChurnEvent]) -> Self {
        Self {
            events: events
                .iter()
                .map(|e| (e.clone(), AtomicBool::new(false)))
                .collect(),
            list_requests: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    /// Whether there is nothing to do (the middleware then costs one check).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Each event and whether it was applied, and the successful list requests counted so far.
    pub fn progress(&self) -> (Vec<(&ChurnEvent, bool)>, u64) {
        let events = self
            .events
            .iter()
            .map(|(event, fired)| (event, fired.load(Ordering::SeqCst)))
            .collect();
        (events, self.list_requests.load(Ordering::SeqCst))
    }

    /// Events due now, each claimed once even under concurrent requests.
    fn take_due(&self) -> Vec<usize> {
        let elapsed = self.started.elapsed().as_secs_f64();
        let lists = self.list_requests.load(Ordering::SeqCst);
        self.events
            .iter()
            .enumerate()
            .filter(|(_, (event, fired))| {
                let due = event.after_list_requests.is_some_and(|n| lists >= n)
                    || event.at_s.is_some_and(|t| elapsed >= t);
                due && fired
                    .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            })
            .map(|(i, _)| i)
            .collect()
    }
}

/// Runs `inner` (the rest of the app) under the scenario's churn: applies timed events before the
/// request and counted events after a list request. Part of the outer layer (`routes::app`).
pub async fn track<F, Fut>(state: &AppState, request: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    if state.world().churn.is_empty() {
        return inner(request).await;
    }
    apply_due(state);
    after_list_request(request, inner, || {
        state.world().churn.list_requests.fetch_add(1, Ordering::SeqCst);
        apply_due(state);
    })
    .await
}

/// Runs `inner`, then `counted` when the request was a list page answered successfully: the
/// "list requests" that churn events and `[[changes]]` count.
pub(crate) async fn after_list_request<F, Fut>(request: Request, inner: F, counted: impl FnOnce()) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let class = EndpointClass::of(
        request.method().as_str(),
        request.uri().path(),
        request.uri().query().unwrap_or(""),
    );
    let response = inner(request).await;
    if class == EndpointClass::Page && response.status().is_success() {
        counted();
    }
    response
}

fn apply_due(state: &AppState) {
    let world = state.world();
    for index in world.churn.take_due() {
        let world = state.world();
        let (event, _) = &world.churn.events[index];
        tracing::info!(
            churn = event.name.as_deref().unwrap_or("churn"),
            "applying churn to the tenant"
        );
        let tenant = apply(&world, index, event);
        state.swap_world(world.with_tenant(tenant));
    }
}

fn apply(world: &World, index: usize, event: &ChurnEvent) -> crate::store::Tenant {
    let scenario = &world.scenario;
    let mut edit = TenantEdit::new(
        &world.tenant,
        scenario.integrations.len() as u64,
        scenario.tenant.telephony_credits_remaining,
    );
    // Whom the event touches: the users it chose, or today's places (deletes from the front,
    // renames from the middle, moves from a quarter past it).
    let chosen = event.chosen(&edit.users);
    if chosen.is_none() {
        let deleted = (event.delete_users as usize).min(edit.users.len());
        edit.users.drain(..deleted);
    }
    let count = edit.users.len();
    let middle = count / 2;
    let at = |n: u32, from: usize| -> Vec<usize> {
        match &chosen {
            Some(chosen) => chosen.iter().take(n as usize).copied().collect(),
            None => (0..(n as usize).min(count))
                .map(|k| (from + k) % count.max(1))
                .collect(),
        }
    };
    for position in at(event.rename_users, middle) {
        let user = &mut edit.users[position];
        let renamed = format!(
            "{}-renamed",
            user.get("username").and_then(Value::as_str).unwrap_or("user")
        );
        user.insert("username".into(), Value::from(renamed));
    }
    if !edit.groups.is_empty() {
        for (k, position) in at(event.move_users, middle + count / 4).into_iter().enumerate() {
            let target = edit.groups[(index + k) % edit.groups.len()].clone();
            edit.users[position].insert("groups".into(), Value::Array(vec![Value::Object(target)]));
        }
    }
    if let Some(chosen) = &chosen {
        let gone: std::collections::HashSet<usize> =
            chosen.iter().take(event.delete_users as usize).copied().collect();
        let mut position = 0;
        edit.users.retain(|_| {
            position += 1;
            !gone.contains(&(position - 1))
        });
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(scenario.tenant.seed ^ 0xC4_0000 ^ index as u64);
    let render = RenderOptions::of(&scenario.options);
    for k in 0..event.create_users {
        let username = format!("new.hire{}.{k}", index + 1);
        let email = format!("{username}@{}", scenario.tenant.email_domain);
        let mut user = User::new(
            model::random_id(&mut rng, "DU"),
            username,
            email,
            world.tenant.anchor,
        );
        user.realname = Some(format!("New Hire {k}"));
        user.firstname = Some("New".into());
        user.lastname = Some(format!("Hire {k}"));
        edit.users.push(user.to_object(render));
    }
    edit.build()
}
