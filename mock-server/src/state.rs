//! The server's shared state: a cheap-to-clone handle on the tenant, the credentials and the
//! scenario's options.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use duo_auth::SigningKey;

use crate::changes::Changes;
use crate::churn::Churn;
use crate::error::Result;
use crate::faults::FaultSet;
use crate::grants::GrantSet;
use crate::journal::Journal;
use crate::logs::Logs;
use crate::network::IpNet;
use crate::ratelimit::RateLimiter;
use crate::routes::UnservedPaths;
use crate::scenario::{IntegrationKind, Options, Scenario};
use crate::store::Tenant;

/// An integration as the server checks it: the skey is kept only pre-keyed, never as text.
pub struct Credential {
    /// Name from the scenario, for logs; shared with the journal's records without a copy.
    pub name: Arc<str>,
    /// Integration key.
    pub ikey: String,
    /// The skey, pre-keyed for HMAC (Debug prints it redacted).
    pub key: SigningKey,
    /// Its permissions.
    pub grants: GrantSet,
    /// Whether the Admin API takes these keys at all (an Admin API application on a plan that has
    /// the Admin API); when not, they are refused like unknown keys (D1, D8).
    pub admin_api: bool,
    /// Networks for API Access (empty: anywhere).
    pub networks: Vec<IpNet>,
    /// The scenario's `[[changes]]` entry that last changed these grants, by name.
    pub change: Option<Arc<str>>,
    /// Accounts API keys: `/accounts/v1/` takes them, and Admin API paths with the `account_id`
    /// of a child account.
    pub accounts_api: bool,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("name", &self.name)
            .field("ikey", &self.ikey)
            .field("key", &self.key)
            .field("grants", &self.grants)
            .field("admin_api", &self.admin_api)
            .field("networks", &self.networks)
            .field("change", &self.change)
            .field("accounts_api", &self.accounts_api)
            .finish()
    }
}

/// What is being served: a scenario's tenant, credentials and options. Replaced whole (reset,
/// load another scenario); requests in flight keep the world they started with.
#[derive(Debug)]
pub struct World {
    /// The scenario served.
    pub scenario: Scenario,
    /// Its tenant.
    pub tenant: Tenant,
    /// ikey → credential; looked up on every signed request.
    credentials: HashMap<String, Arc<Credential>>,
    /// The scenario's API hostname, lower-cased: one of the host spellings a signature may use.
    api_hostname: String,
    /// The scenario's fault rules and their call counters (shared with edited versions of this
    /// world, so edits do not restart them).
    pub faults: Arc<FaultSet>,
    /// The scenario's rate limits and their buckets.
    pub rate_limiter: Arc<RateLimiter>,
    /// The scenario's churn events and their progress.
    pub churn: Arc<Churn>,
    /// The scenario's timed changes to its integrations and their progress.
    pub changes: Arc<Changes>,
    /// The scenario's logs (who they name is read from the tenant as built, and kept across
    /// edits).
    pub logs: Arc<Logs>,
    /// The child accounts (an MSP's customers), each served as a world of its own.
    accounts: Arc<[Account]>,
}

/// A child account being served: its id and names, and its own world, behind a lock of its own
/// (an edit made through `account_id` swaps the child's world; the parent's is left as it is,
/// and edits of the parent's keep the children as they are).
#[derive(Debug)]
pub struct Account {
    /// `DA…`.
    pub account_id: Arc<str>,
    /// The child's name (its tenant's `name`).
    pub name: String,
    /// The child's API hostname.
    pub api_hostname: String,
    /// What the child serves.
    world: RwLock<Arc<World>>,
}

impl Account {
    /// The child's world as of now.
    pub fn world(&self) -> Arc<World> {
        match self.world.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Serves `world` for this child from now on.
    fn swap(&self, world: World) {
        let world = Arc::new(world);
        match self.world.write() {
            Ok(mut guard) => *guard = world,
            Err(poisoned) => *poisoned.into_inner() = world,
        }
    }
}

impl World {
    /// Builds the scenario's tenant, and its child accounts'.
    pub fn build(scenario: &Scenario) -> Result<Self> {
        let mut world = Self::new(scenario, crate::generate::build(scenario)?);
        world.accounts = build_accounts(scenario)?;
        Ok(world)
    }

    /// A world serving an already built `tenant` of `scenario` (its child accounts are built
    /// here; if they fail to build, none is served, and the error is logged).
    pub fn new(scenario: &Scenario, tenant: Tenant) -> Self {
        let mut world = Self::without_accounts(scenario, tenant);
        if !scenario.accounts.is_empty() {
            world.accounts = build_accounts(scenario).unwrap_or_else(|error| {
                tracing::error!(%error, "the child accounts could not be built");
                Arc::from([])
            });
        }
        world
    }

    fn without_accounts(scenario: &Scenario, tenant: Tenant) -> Self {
        let credentials = scenario
            .integrations
            .iter()
            .map(|i| {
                let credential = Credential {
                    name: Arc::from(i.name.as_str()),
                    ikey: i.ikey.clone(),
                    key: SigningKey::new(i.skey.as_bytes()),
                    grants: i.grants,
                    admin_api: i.kind == IntegrationKind::AdminApi && scenario.tenant.admin_api_enabled,
                    networks: i.networks.clone(),
                    change: None,
                    accounts_api: i.kind == IntegrationKind::AccountsApi,
                };
                (i.ikey.clone(), Arc::new(credential))
            })
            .collect();
        Self {
            faults: Arc::new(FaultSet::new(
                &scenario.faults,
                &scenario.base_dir,
                scenario.tenant.seed,
            )),
            rate_limiter: Arc::new(RateLimiter::new(scenario.rate_limits.clone())),
            churn: Arc::new(Churn::new(&scenario.churn)),
            changes: Arc::new(Changes::new(&scenario.changes, scenario.options.clock_offset_s)),
            logs: Arc::new(Logs::new(scenario, tenant.anchor)),
            api_hostname: scenario.tenant.api_hostname.to_ascii_lowercase(),
            scenario: scenario.clone(),
            tenant,
            credentials,
            accounts: Arc::from([]),
        }
    }

    /// This world with another tenant: same scenario, keys, fault counters, buckets, churn and
    /// changes.
    pub fn with_tenant(&self, tenant: Tenant) -> Self {
        // Events keep naming the tenant as built: read it before it is replaced.
        self.logs.read_people(&self.scenario, &self.tenant);
        Self {
            scenario: self.scenario.clone(),
            tenant,
            credentials: self.credentials.clone(),
            api_hostname: self.api_hostname.clone(),
            faults: Arc::clone(&self.faults),
            rate_limiter: Arc::clone(&self.rate_limiter),
            churn: Arc::clone(&self.churn),
            changes: Arc::clone(&self.changes),
            logs: Arc::clone(&self.logs),
            accounts: Arc::clone(&self.accounts),
        }
    }

    /// The child accounts, in the scenario's order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// The child account `account_id`.
    pub fn account(&self, account_id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| &*a.account_id == account_id)
    }

    /// The credential of `ikey`.
    pub fn credential(&self, ikey: &str) -> Option<&Arc<Credential>> {
        self.credentials.get(ikey)
    }

    /// The credential of the integration named `name` (as the scenario wrote it).
    pub fn credential_named(&self, name: &str) -> Option<&Arc<Credential>> {
        self.credentials.values().find(|c| &*c.name == name)
    }

    /// The scenario's options.
    pub fn options(&self) -> &Options {
        &self.scenario.options
    }

    /// The scenario's API hostname, lower-cased.
    pub fn api_hostname(&self) -> &str {
        &self.api_hostname
    }
}

/// The child accounts of `scenario`, each built as a world of its own.
fn build_accounts(scenario: &Scenario) -> Result<Arc<[Account]>> {
    scenario
        .accounts
        .iter()
        .map(|account| {
            let child = scenario.child_scenario(account);
            Ok(Account {
                account_id: Arc::from(account.account_id.as_str()),
                name: account.tenant.name.clone(),
                api_hostname: account.tenant.api_hostname.clone(),
                world: RwLock::new(Arc::new(World::build_child(&child)?)),
            })
        })
        .collect()
}

impl World {
    fn build_child(scenario: &Scenario) -> Result<Self> {
        Ok(Self::without_accounts(
            scenario,
            crate::generate::build(scenario)?,
        ))
    }
}

/// Handle on everything requests read. Clone is one reference count plus, for a request made
/// through `account_id`, the child account it reads.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Shared>,
    /// Set for a request to a child account: its id and the world it reads, taken from the
    /// world the request was admitted in.
    account: Option<(Arc<str>, Arc<World>)>,
}

#[derive(Debug)]
struct Shared {
    /// What is served. Behind a lock so that reset, load and writes can swap in a new world while
    /// requests in flight keep the one they started with.
    world: RwLock<Arc<World>>,
    /// Seconds added to the machine's clock, to play a server whose clock is off.
    clock_offset_s: AtomicI64,
    /// Every request and its answer, for tests and support.
    journal: Journal,
    /// Secret of the control API, random per start, handed out in the ready file.
    control_token: String,
    /// The scenario served at start, which `POST /__duo-mock/reset?to=start` returns to.
    start: Scenario,
    /// Paths asked that no route serves, each logged once.
    unserved: UnservedPaths,
}

impl AppState {
    /// Builds the tenant of `scenario` and the state that serves it.
    pub fn from_scenario(scenario: &Scenario) -> Result<Self> {
        Ok(Self::from_world(World::build(scenario)?))
    }

    /// State serving an already built `tenant` of `scenario`.
    pub fn new(scenario: &Scenario, tenant: Tenant) -> Self {
        Self::from_world(World::new(scenario, tenant))
    }

    /// The control API's token.
    pub fn control_token(&self) -> &str {
        &self.inner.control_token
    }

    /// The request journal.
    pub fn journal(&self) -> &Journal {
        &self.inner.journal
    }

    /// The scenario served at start (a `/load` serves another; this one stays).
    pub fn start_scenario(&self) -> &Scenario {
        &self.inner.start
    }

    /// Paths asked that no route serves.
    pub fn unserved(&self) -> &UnservedPaths {
        &self.inner.unserved
    }

    /// The same state reading the child account `account` of `world` (`None`: `world` has no
    /// such child).
    pub fn for_account(&self, world: &World, account: &str) -> Option<Self> {
        let child = world.account(account)?;
        Some(Self {
            inner: Arc::clone(&self.inner),
            account: Some((Arc::clone(&child.account_id), child.world())),
        })
    }

    /// The child account this state reads, if any.
    pub fn account_id(&self) -> Option<&str> {
        self.account.as_ref().map(|(id, _)| &**id)
    }

    fn from_world(world: World) -> Self {
        Self {
            account: None,
            inner: Arc::new(Shared {
                clock_offset_s: AtomicI64::new(world.options().clock_offset_s),
                start: world.scenario.clone(),
                world: RwLock::new(Arc::new(world)),
                journal: Journal::default(),
                control_token: random_token(),
                unserved: UnservedPaths::default(),
            }),
        }
    }

    /// The world as of now (for a child account's request: the child's, as of the request's
    /// admission).
    pub fn world(&self) -> Arc<World> {
        if let Some((_, child)) = &self.account {
            return Arc::clone(child);
        }
        self.parent_world()
    }

    /// The parent account's world as of now, whichever account this state reads.
    pub fn parent_world(&self) -> Arc<World> {
        match self.inner.world.read() {
            Ok(guard) => Arc::clone(&guard),
            // A writer never panics while holding the lock; if one did, the world is still whole.
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Serves `world` from now on, with its scenario's clock offset (reset, load); always the
    /// parent account's.
    pub fn replace_world(&self, world: World) {
        self.set_clock_offset(world.options().clock_offset_s);
        let world = Arc::new(world);
        match self.inner.world.write() {
            Ok(mut guard) => *guard = world,
            Err(poisoned) => *poisoned.into_inner() = world,
        }
    }

    /// Serves `world` from now on, leaving the clock as it is (an edit of the same scenario).
    /// For a child account's state, `world` is the child's: the parent keeps serving its own,
    /// with that child's world replaced (nothing, if the child is gone since).
    pub fn swap_world(&self, world: World) {
        if let Some((id, _)) = &self.account {
            if let Some(account) = self.parent_world().account(id) {
                account.swap(world);
            }
            return;
        }
        let world = Arc::new(world);
        match self.inner.world.write() {
            Ok(mut guard) => *guard = world,
            Err(poisoned) => *poisoned.into_inner() = world,
        }
    }

    /// The server's "now", unix seconds, offset included.
    pub fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        real.saturating_add(self.inner.clock_offset_s.load(Ordering::Relaxed))
    }

    /// Sets how far the server's clock is from the machine's, seconds.
    pub fn set_clock_offset(&self, seconds: i64) {
        self.inner.clock_offset_s.store(seconds, Ordering::Relaxed);
    }

    /// How far the server's clock is from the machine's, seconds.
    pub fn clock_offset(&self) -> i64 {
        self.inner.clock_offset_s.load(Ordering::Relaxed)
    }
}

/// 32 random characters from the operating system's generator.
pub(crate) fn random_token() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)]))
        .collect()
}
