//! Changing a built tenant: objects are taken back out of the arenas as JSON values, edited, and
//! the tenant is rebuilt with fresh arenas and indexes. Used by churn (and by write endpoints);
//! slower than generation, but edits are rare and the result is exactly what a fresh build of the
//! same objects would serve.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::model;
use crate::store::{CHUNK_ITEMS, ChunkBuilder, JsonList, KeyIndex, Tenant, key_hash};

/// A tenant taken apart for editing: users and groups as JSON objects, in API order.
#[derive(Debug)]
pub struct TenantEdit {
    /// Users in API order.
    pub users: Vec<Map<String, Value>>,
    /// Groups in API order.
    pub groups: Vec<Map<String, Value>>,
    admins: JsonList,
    admin_by_id: HashMap<Box<str>, u32>,
    settings: Bytes,
    summary_rest: (u64, u64),
    anchor: i64,
    device_mix: crate::devices::Mix,
    account: crate::store::Account,
}

fn objects(list: &JsonList) -> Vec<Map<String, Value>> {
    (0..list.len())
        .filter_map(|i| list.item(i))
        .filter_map(|json| serde_json::from_slice::<Value>(&json).ok())
        .filter_map(|v| match v {
            Value::Object(o) => Some(o),
            _ => None,
        })
        .collect()
}

fn text<'a>(o: &'a Map<String, Value>, key: &str) -> &'a str {
    o.get(key).and_then(Value::as_str).unwrap_or_default()
}

impl TenantEdit {
    /// Takes `tenant` apart; `integration_count` and `telephony_credits` feed the summary.
    pub fn new(tenant: &Tenant, integration_count: u64, telephony_credits: u64) -> Self {
        Self {
            users: objects(&tenant.users),
            groups: objects(&tenant.groups),
            admins: tenant.admins.clone(),
            admin_by_id: tenant.admin_by_id.clone(),
            settings: tenant.settings.clone(),
            summary_rest: (integration_count, telephony_credits),
            anchor: tenant.anchor,
            device_mix: tenant.device_mix,
            account: tenant.account.clone(),
        }
    }

    /// Index of the user with `user_id`.
    pub fn user_index(&self, user_id: &str) -> Option<usize> {
        self.users.iter().position(|u| text(u, "user_id") == user_id)
    }

    /// The group object with `group_id`, as embedded in users.
    pub fn group(&self, group_id: &str) -> Option<&Map<String, Value>> {
        self.groups.iter().find(|g| text(g, "group_id") == group_id)
    }

    /// Renders everything again, with indexes, members and summary recomputed.
    pub fn build(self) -> Tenant {
        let total = self.users.len();
        let mut tenant = Tenant {
            anchor: self.anchor,
            account: self.account,
            user_ids: KeyIndex::with_capacity(total),
            user_names: KeyIndex::with_capacity(total),
            user_emails: KeyIndex::with_capacity(total),
            ..Tenant::default()
        };
        let group_index: HashMap<String, u32> = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                (
                    text(g, "group_id").to_owned(),
                    u32::try_from(i).unwrap_or(u32::MAX),
                )
            })
            .collect();
        let mut members: Vec<Vec<(String, String)>> = vec![Vec::new(); self.groups.len()];
        let mut chunks = Vec::new();
        let mut chunk = ChunkBuilder::with_capacity(CHUNK_ITEMS.min(total), 1400);
        let mut pending_deletion = 0u64;
        tenant.user_group_offsets.push(0);
        for (i, user) in self.users.iter().enumerate() {
            let at = u32::try_from(i).unwrap_or(u32::MAX);
            if chunk.len() == CHUNK_ITEMS {
                chunks.push(std::mem::take(&mut chunk));
            }
            chunk.push(|out| {
                // serde_json's map is ordered by key, as Duo's objects are.
                let _ = serde_json::to_writer(&mut *out, user);
            });
            let (user_id, username) = (text(user, "user_id"), text(user, "username"));
            tenant.user_ids.insert_hash(key_hash(user_id), at);
            tenant.user_names.insert_hash(key_hash(username), at);
            tenant.user_emails.insert_hash(key_hash(text(user, "email")), at);
            if let Some(aliases) = user.get("aliases").and_then(Value::as_object) {
                for alias in aliases.values().filter_map(Value::as_str) {
                    tenant.user_names.insert_hash(key_hash(alias), at);
                }
            }
            for group in user.get("groups").and_then(Value::as_array).into_iter().flatten() {
                if let Some(g) = group
                    .get("group_id")
                    .and_then(Value::as_str)
                    .and_then(|id| group_index.get(id))
                {
                    tenant.user_group_list.push(*g);
                    members[*g as usize].push((user_id.to_owned(), username.to_owned()));
                }
            }
            tenant
                .user_group_offsets
                .push(u32::try_from(tenant.user_group_list.len()).unwrap_or(u32::MAX));
            pending_deletion += u64::from(text(user, "status") == "pending deletion");
        }
        chunks.push(chunk);
        tenant.users = JsonList::from_chunks(chunks);
        tenant.group_members = members
            .iter()
            .map(|m| JsonList::build(m, |(id, name), out| model::render_member(id, name, out)))
            .collect();
        tenant.group_by_id = group_index
            .iter()
            .map(|(id, i)| (id.as_str().into(), *i))
            .collect();
        tenant.group_ids = self.groups.iter().map(|g| text(g, "group_id").into()).collect();
        tenant.groups = JsonList::build(&self.groups, |g, out| {
            let _ = serde_json::to_writer(&mut *out, g);
        });
        let (integrations, credits) = self.summary_rest;
        tenant.summary = Bytes::from(format!(
            "{{\"admin_count\":{},\"integration_count\":{integrations},\"telephony_credits_remaining\":{credits},\"user_count\":{},\"user_pending_deletion_count\":{pending_deletion}}}",
            self.admins.len(),
            total as u64 - pending_deletion,
        ));
        tenant.admins = self.admins;
        tenant.device_mix = self.device_mix;
        tenant.admin_by_id = self.admin_by_id;
        tenant.settings = self.settings;
        tenant
    }
}
