//! A whole-tenant sync: users, administrators, groups, then every group's members (a few at once),
//! checked for consistency before anything is returned.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::client::Client;
use crate::error::Error;
use crate::paging::{ListEndpoint, read_consistent, tenant_changed};
use crate::snapshot::{SCHEMA_VERSION, Snapshot};
use crate::time::rfc3339_now;

/// What a sync reports as it goes.
#[derive(Debug, Clone)]
pub enum SyncEvent {
    /// A list (`users`, `admins`, `groups`, `group members`) is being read.
    Phase(&'static str),
    /// A page came with this many objects.
    Page(usize),
    /// How many member lists there are to read.
    Groups(usize),
}

/// A callback for [`SyncEvent`]s.
pub type SyncObserver = Arc<dyn Fn(&SyncEvent) + Send + Sync>;

/// How a sync behaves beyond the client's own policy.
#[derive(Clone)]
pub struct SyncOptions {
    /// How many times a list is read again when the tenant changed under it.
    pub rereads: u32,
    /// How many member lists are read at once.
    pub parallelism: usize,
    /// Receives [`SyncEvent`]s (a progress bar).
    pub observer: Option<SyncObserver>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            rereads: 2,
            parallelism: 4,
            observer: None,
        }
    }
}

impl std::fmt::Debug for SyncOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncOptions")
            .field("rereads", &self.rereads)
            .field("parallelism", &self.parallelism)
            .finish_non_exhaustive()
    }
}

impl SyncOptions {
    fn emit(&self, event: &SyncEvent) {
        if let Some(observer) = &self.observer {
            observer(event);
        }
    }
}

/// Reads the whole tenant. Any failure fails the whole sync: a partial snapshot would pass for a
/// tenant with fewer users, admins or members than it has.
pub async fn sync(client: &Client, options: &SyncOptions) -> Result<Snapshot, Error> {
    let page_observer = {
        let options = options.clone();
        move |n: usize| options.emit(&SyncEvent::Page(n))
    };
    options.emit(&SyncEvent::Phase("users"));
    let mut users = read_consistent(client, &ListEndpoint::users(), options.rereads, &page_observer).await?;
    options.emit(&SyncEvent::Phase("admins"));
    let admins = read_consistent(client, &ListEndpoint::admins(), options.rereads, &page_observer).await?;
    options.emit(&SyncEvent::Phase("groups"));
    let groups = read_consistent(client, &ListEndpoint::groups(), options.rereads, &page_observer).await?;
    options.emit(&SyncEvent::Groups(groups.ids.len()));
    options.emit(&SyncEvent::Phase("group members"));
    let group_members = read_members(client, &groups.ids, options, Arc::new(page_observer)).await?;

    // A member the users list lacks means users were added while the sync ran: read them again.
    let mut rereads_left = options.rereads;
    while let Some(stray) = first_stray_member(&users.ids, &group_members) {
        if rereads_left == 0 {
            return Err(tenant_changed(
                "/admin/v1/users",
                options.rereads + 1,
                &format!("group member {stray} is not among the users read"),
            ));
        }
        rereads_left -= 1;
        tracing::warn!(
            stray,
            "a group member is not among the users read; reading users again"
        );
        users = read_consistent(client, &ListEndpoint::users(), 0, &|_| {}).await?;
    }

    Ok(Snapshot {
        schema_version: SCHEMA_VERSION,
        api_host: client.host().to_owned(),
        synced_at: rfc3339_now(),
        users: users.objects,
        admins: admins.objects,
        groups: groups.objects,
        group_members,
    })
}

/// Reads every group's member list, `options.parallelism` at a time.
async fn read_members(
    client: &Client,
    group_ids: &[String],
    options: &SyncOptions,
    on_page: Arc<dyn Fn(usize) + Send + Sync>,
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut members = BTreeMap::new();
    let mut pending = group_ids.iter().cloned();
    let mut running = JoinSet::new();
    let spawn = |running: &mut JoinSet<_>, group_id: String| {
        let client = client.clone();
        let rereads = options.rereads;
        let on_page = Arc::clone(&on_page);
        running.spawn(async move {
            let endpoint = ListEndpoint::group_members(&group_id);
            let items = read_consistent(&client, &endpoint, rereads, on_page.as_ref()).await;
            (group_id, items)
        });
    };
    for group_id in pending.by_ref().take(options.parallelism.max(1)) {
        spawn(&mut running, group_id);
    }
    while let Some(joined) = running.join_next().await {
        let (group_id, items) = joined.map_err(|e| Error::Config(format!("a member read stopped: {e}")))?;
        // The first failure ends the sync; dropping the set cancels the reads still running.
        members.insert(group_id, items?.ids);
        if let Some(next) = pending.next() {
            spawn(&mut running, next);
        }
    }
    Ok(members)
}

fn first_stray_member(user_ids: &[String], members: &BTreeMap<String, Vec<String>>) -> Option<String> {
    let users: HashSet<&str> = user_ids.iter().map(String::as_str).collect();
    members
        .values()
        .flatten()
        .find(|id| !users.contains(id.as_str()))
        .cloned()
}
