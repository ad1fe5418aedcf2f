//! `[[changes]]`: the tenant's settings changed while it is served, after some time or some list
//! requests ("it worked until Monday"). Today a change removes or adds an integration's grants;
//! the auth layer then sees the changed grants, so the refusal is Duo's own 403 40301 after a
//! verified signature, exactly as for a grant the integration never had. Each change applies
//! once; a reset (a new world) starts the clock and the count again.

use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::Request;
use axum::response::Response;
use serde::Deserialize;
use toml::Spanned;

use crate::grants::{Grant, GrantSet};
use crate::state::{AppState, Credential, World};

/// One change, as written in the scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// A name for the journal, logs and banner (default `change #N`).
    pub name: Option<String>,
    /// Apply this many seconds after start (or reset), by the server's clock: moving the clock
    /// with the control API (`PUT /__duo-mock/clock`) moves it too…
    pub after_s: Option<Spanned<f64>>,
    /// …or right after this many successful list requests (any list endpoint, any caller).
    pub after_list_requests: Option<Spanned<u64>>,
    /// The integration whose grants change.
    pub integration: Spanned<String>,
    /// Grants it loses (Duo's names, as in `[[integrations]] grants`).
    #[serde(default)]
    pub remove_grants: Vec<Spanned<String>>,
    /// Grants it gains.
    #[serde(default)]
    pub add_grants: Vec<Spanned<String>>,
}

impl Change {
    /// Checks the change against the scenario's integration names; an error comes with the span
    /// of the key it is about (`None`: the whole change).
    pub fn check(&self, integrations: &[&str]) -> Result<(), (Option<Range<usize>>, String)> {
        match (&self.after_s, &self.after_list_requests) {
            (Some(_), Some(_)) | (None, None) => {
                return Err((
                    None,
                    "a change takes one trigger: after_s or after_list_requests".into(),
                ));
            }
            (Some(t), None) if !t.get_ref().is_finite() || *t.get_ref() < 0.0 => {
                return Err((Some(t.span()), "after_s must be zero or more".into()));
            }
            (None, Some(n)) if *n.get_ref() == 0 => {
                return Err((Some(n.span()), "after_list_requests counts from 1".into()));
            }
            _ => {}
        }
        let name = self.integration.get_ref();
        if !integrations.contains(&name.as_str()) {
            return Err((
                Some(self.integration.span()),
                format!("integration {name:?} is not in this scenario"),
            ));
        }
        if self.remove_grants.is_empty() && self.add_grants.is_empty() {
            return Err((
                None,
                "a change needs something to change: remove_grants or add_grants".into(),
            ));
        }
        for grant in self.remove_grants.iter().chain(&self.add_grants) {
            if Grant::from_name(grant.get_ref()).is_none() {
                return Err((
                    Some(grant.span()),
                    format!(
                        "{:?} is not a Duo Admin API permission; expected one of: {}",
                        grant.get_ref(),
                        Grant::ALL.map(Grant::name).join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The change in one line for the start-up banner.
    pub fn describe(&self) -> String {
        let when = match (&self.after_s, &self.after_list_requests) {
            (Some(t), _) => format!("{} s after start", t.get_ref()),
            (None, Some(n)) => format!("after {} list requests", n.get_ref()),
            (None, None) => "never".to_owned(),
        };
        let mut what = Vec::new();
        let names = |grants: &[Spanned<String>]| {
            grants
                .iter()
                .map(|g| format!("{:?}", g.get_ref()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.remove_grants.is_empty() {
            what.push(format!("remove {}", names(&self.remove_grants)));
        }
        if !self.add_grants.is_empty() {
            what.push(format!("add {}", names(&self.add_grants)));
        }
        format!(
            "{when}: integration {:?}: {}",
            self.integration.get_ref(),
            what.join("; ")
        )
    }

    fn grants(list: &[Spanned<String>]) -> GrantSet {
        list.iter()
            .filter_map(|g| Grant::from_name(g.get_ref()))
            .collect()
    }
}

/// A change ready to apply.
#[derive(Debug)]
struct Live {
    change: Change,
    name: Arc<str>,
    applied: AtomicBool,
}

/// One change as the dashboard shows it.
#[derive(Debug, Clone, Copy)]
pub struct ChangeProgress<'a> {
    /// Its name (`change #N` when the scenario gave none).
    pub name: &'a str,
    /// The change as written.
    pub change: &'a Change,
    /// Whether it applied.
    pub applied: bool,
}

/// The scenario's changes and their progress: part of the served world, kept across edits of
/// the tenant, started over by a reset.
#[derive(Debug)]
pub struct Changes {
    changes: Vec<Live>,
    /// Successful list requests so far.
    list_requests: AtomicU64,
    /// The server's clock (its offset included) when the world was built, unix milliseconds.
    started_ms: i64,
    /// Integrations whose grants changed: their credential as it now is, by name.
    changed: RwLock<HashMap<Arc<str>, Arc<Credential>>>,
}

impl Changes {
    /// Changes not yet applied; `clock_offset_s` is the offset the world is served with.
    pub fn new(changes: &[Change], clock_offset_s: i64) -> Self {
        Self {
            changes: changes
                .iter()
                .enumerate()
                .map(|(i, change)| Live {
                    name: Arc::from(
                        change
                            .name
                            .clone()
                            .unwrap_or_else(|| format!("change #{}", i + 1)),
                    ),
                    change: change.clone(),
                    applied: AtomicBool::new(false),
                })
                .collect(),
            list_requests: AtomicU64::new(0),
            started_ms: machine_ms().saturating_add(clock_offset_s.saturating_mul(1000)),
            changed: RwLock::new(HashMap::new()),
        }
    }

    /// Whether there are none (the outer layer then skips them).
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Each change and whether it applied, and the successful list requests counted so far.
    pub fn progress(&self) -> (Vec<ChangeProgress<'_>>, u64) {
        let changes = self
            .changes
            .iter()
            .map(|live| ChangeProgress {
                name: &live.name,
                change: &live.change,
                applied: live.applied.load(Ordering::SeqCst),
            })
            .collect();
        (changes, self.list_requests.load(Ordering::SeqCst))
    }

    /// `credential` as the changes applied so far left it (`None`: unchanged).
    pub fn credential(&self, credential: &Credential) -> Option<Arc<Credential>> {
        if self.changes.is_empty() {
            return None;
        }
        let changed = self
            .changed
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        changed.get(&credential.name).cloned()
    }

    /// Applies the changes due at `now_ms` (the server's clock), each once even under
    /// concurrent requests, in the scenario's order.
    fn apply_due(&self, world: &World, now_ms: i64) {
        let elapsed_s = now_ms.saturating_sub(self.started_ms) as f64 / 1000.0;
        let lists = self.list_requests.load(Ordering::SeqCst);
        for live in &self.changes {
            let change = &live.change;
            let due = change.after_s.as_ref().is_some_and(|t| elapsed_s >= *t.get_ref())
                || change
                    .after_list_requests
                    .as_ref()
                    .is_some_and(|n| lists >= *n.get_ref());
            if !due
                || live
                    .applied
                    .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                    .is_err()
            {
                continue;
            }
            self.apply(world, live);
        }
    }

    fn apply(&self, world: &World, live: &Live) {
        let change = &live.change;
        let name = change.integration.get_ref();
        let mut changed = self
            .changed
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = changed
            .get(name.as_str())
            .cloned()
            .or_else(|| world.credential_named(name).cloned());
        let Some(current) = current else {
            return;
        };
        let removed = Change::grants(&change.remove_grants);
        let grants: GrantSet = current
            .grants
            .iter()
            .filter(|g| !removed.contains(*g))
            .chain(Change::grants(&change.add_grants).iter())
            .collect();
        tracing::info!(
            change = %live.name,
            integration = %current.name,
            before = ?current.grants,
            after = ?grants,
            "change applied: the integration's grants changed"
        );
        let credential = Credential {
            name: Arc::clone(&current.name),
            ikey: current.ikey.clone(),
            key: current.key.clone(),
            grants,
            admin_api: current.admin_api,
            accounts_api: current.accounts_api,
            networks: current.networks.clone(),
            change: Some(Arc::clone(&live.name)),
        };
        changed.insert(Arc::clone(&current.name), Arc::new(credential));
    }
}

fn machine_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Runs `inner` (the rest of the app) under the scenario's changes: applies those due by the
/// server's clock before the request, and counts a successful list request after it (applying
/// those due by count, so the next request sees them). Part of the outer layer (`routes::app`).
pub async fn track<F, Fut>(state: &AppState, request: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let world = state.world();
    if world.changes.is_empty() {
        return inner(request).await;
    }
    let now_ms = || crate::logs::answer::now_us(state) / 1000;
    world.changes.apply_due(&world, now_ms());
    crate::churn::after_list_request(request, inner, || {
        world.changes.list_requests.fetch_add(1, Ordering::SeqCst);
        world.changes.apply_due(&world, now_ms());
    })
    .await
}
