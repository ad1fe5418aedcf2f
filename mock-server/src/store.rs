//! The tenant as served: every object's JSON rendered once at load, in arenas, plus the indexes
//! that filters and look-ups need.
//!
//! A page is never serialized per request: it is a few slices of the arena (`Bytes`, no copy),
//! because consecutive objects are stored comma-separated, so a page inside one chunk is one
//! contiguous slice. This is what keeps a signed 300-user page within a few percent of serving
//! pre-rendered bytes (see `docs/PERFORMANCE.md`).

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use serde::Deserialize;

use bytes::Bytes;

/// Items per arena chunk. Chunks are built in parallel at load, and a page crosses at most one
/// chunk boundary for any `limit` up to this size.
pub const CHUNK_ITEMS: usize = 4096;

/// One arena: items `ends[k-1]+1 .. ends[k]` of `bytes`, separated by single commas.
#[derive(Debug, Clone, Default)]
struct Chunk {
    bytes: Bytes,
    ends: Vec<u32>,
}

impl Chunk {
    fn start(&self, k: usize) -> usize {
        if k == 0 { 0 } else { self.ends[k - 1] as usize + 1 }
    }
}

/// A list of rendered JSON objects, in API order.
#[derive(Debug, Clone, Default)]
pub struct JsonList {
    chunks: Vec<Chunk>,
    len: usize,
}

/// Builds one chunk of a [`JsonList`].
#[derive(Debug, Default)]
pub struct ChunkBuilder {
    buf: Vec<u8>,
    ends: Vec<u32>,
}

impl ChunkBuilder {
    /// A builder sized for `items` objects of about `item_bytes` each.
    pub fn with_capacity(items: usize, item_bytes: usize) -> Self {
        Self {
            buf: Vec::with_capacity(items * item_bytes),
            ends: Vec::with_capacity(items),
        }
    }

    /// Appends one object rendered by `render`.
    pub fn push(&mut self, render: impl FnOnce(&mut Vec<u8>)) {
        if !self.ends.is_empty() {
            self.buf.push(b',');
        }
        render(&mut self.buf);
        // Chunks hold at most CHUNK_ITEMS objects of a few KiB: far below 4 GiB.
        self.ends.push(u32::try_from(self.buf.len()).unwrap_or(u32::MAX));
    }

    /// Number of objects pushed.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The JSON of object `k` (as pushed), or `None` past the end.
    pub fn item(&self, k: usize) -> Option<&[u8]> {
        let end = *self.ends.get(k)? as usize;
        let start = if k == 0 { 0 } else { self.ends[k - 1] as usize + 1 };
        self.buf.get(start..end)
    }

    /// Whether nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn finish(mut self) -> Chunk {
        self.buf.shrink_to_fit();
        self.ends.shrink_to_fit();
        Chunk {
            bytes: Bytes::from(self.buf),
            ends: self.ends,
        }
    }
}

impl JsonList {
    /// A list from chunks built in order; every chunk but the last must hold [`CHUNK_ITEMS`].
    pub fn from_chunks(chunks: Vec<ChunkBuilder>) -> Self {
        let chunks: Vec<Chunk> = chunks
            .into_iter()
            .filter(|c| !c.is_empty())
            .map(ChunkBuilder::finish)
            .collect();
        let len = chunks.iter().map(|c| c.ends.len()).sum();
        debug_assert!(
            chunks.iter().rev().skip(1).all(|c| c.ends.len() == CHUNK_ITEMS),
            "only the last chunk may be short"
        );
        Self { chunks, len }
    }

    /// A list of a few objects, rendered in one go (small lists: admins, one group's members).
    pub fn build<T>(items: &[T], mut render: impl FnMut(&T, &mut Vec<u8>)) -> Self {
        let builders = items
            .chunks(CHUNK_ITEMS)
            .map(|part| {
                let mut chunk = ChunkBuilder::with_capacity(part.len(), 64);
                for item in part {
                    chunk.push(|out| render(item, out));
                }
                chunk
            })
            .collect();
        Self::from_chunks(builders)
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The JSON of object `i`, without copying. `None` past the end.
    pub fn item(&self, i: usize) -> Option<Bytes> {
        let chunk = self.chunks.get(i / CHUNK_ITEMS)?;
        let k = i % CHUNK_ITEMS;
        let end = *chunk.ends.get(k)? as usize;
        Some(chunk.bytes.slice(chunk.start(k)..end))
    }

    /// Appends to `out` the comma-separated JSON of objects `start..end` (clamped to the list),
    /// as slices of the arena: one per chunk touched, with a `,` between chunks.
    pub fn range_into(&self, start: usize, end: usize, out: &mut Vec<Bytes>) {
        let end = end.min(self.len);
        let mut i = start;
        while i < end {
            let c = i / CHUNK_ITEMS;
            let chunk = &self.chunks[c];
            let first = i % CHUNK_ITEMS;
            let last = (end - c * CHUNK_ITEMS).min(chunk.ends.len());
            if i > start {
                out.push(Bytes::from_static(b","));
            }
            out.push(
                chunk
                    .bytes
                    .slice(chunk.start(first)..chunk.ends[last - 1] as usize),
            );
            i = c * CHUNK_ITEMS + last;
        }
    }

    /// Writes the objects at `indices`, comma-separated, into `out` (copying: filtered results).
    pub fn select_into(&self, indices: impl IntoIterator<Item = usize>, out: &mut Vec<u8>) {
        let mut first = true;
        for i in indices {
            if let Some(item) = self.item(i) {
                if !first {
                    out.push(b',');
                }
                first = false;
                out.extend_from_slice(&item);
            }
        }
    }

    /// Bytes held by the arenas (for memory reports).
    pub fn arena_bytes(&self) -> usize {
        self.chunks.iter().map(|c| c.bytes.len() + c.ends.len() * 4).sum()
    }
}

/// The 64-bit key of a string in a [`KeyIndex`] (SipHash with fixed keys: stable, spread).
pub fn key_hash(key: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    hasher.write(key.as_bytes());
    hasher.finish()
}

/// A `u64` key that is already a hash: passed through, not hashed again.
#[derive(Debug, Default, Clone, Copy)]
pub struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// String → object index, storing only 64-bit hashes of the strings (12 bytes an entry instead
/// of an owned key). Lookups return candidates, which the caller checks against the object itself,
/// so a hash collision can never return a wrong object.
#[derive(Debug, Default)]
pub struct KeyIndex {
    first: HashMap<u64, u32, BuildHasherDefault<PreHashed>>,
    /// Further objects under a hash already taken (the same alias twice, or a collision).
    more: HashMap<u64, Vec<u32>, BuildHasherDefault<PreHashed>>,
}

impl KeyIndex {
    /// An index sized for `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            first: HashMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            more: HashMap::default(),
        }
    }

    /// Adds object `index` under a key hashed with [`key_hash`].
    pub fn insert_hash(&mut self, hash: u64, index: u32) {
        match self.first.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert(index);
            }
            Entry::Occupied(_) => self.more.entry(hash).or_default().push(index),
        }
    }

    /// Objects that may have `key`, in insertion order.
    pub fn candidates(&self, key: &str) -> impl Iterator<Item = usize> + '_ {
        self.candidates_hash(key_hash(key))
    }

    /// Objects that may have a key of this [`key_hash`], in insertion order.
    pub fn candidates_hash(&self, hash: u64) -> impl Iterator<Item = usize> + '_ {
        let more = self.more.get(&hash).map_or(&[][..], Vec::as_slice);
        self.first.get(&hash).into_iter().chain(more).map(|i| *i as usize)
    }
}

/// The fields of a rendered user that look-ups compare.
#[derive(Debug, Deserialize)]
struct UserKeys<'a> {
    #[serde(borrow)]
    user_id: Cow<'a, str>,
    #[serde(borrow)]
    username: Cow<'a, str>,
    #[serde(borrow)]
    email: Cow<'a, str>,
    #[serde(borrow, default)]
    aliases: BTreeMap<Cow<'a, str>, Cow<'a, str>>,
}

/// Everything the API serves, read-only once built.
#[derive(Debug, Default)]
pub struct Tenant {
    /// Users in API order, as `/admin/v1/users` renders them.
    pub users: JsonList,
    /// user_id → user.
    pub(crate) user_ids: KeyIndex,
    /// username and every alias → user. Duo's `username` filter matches either.
    pub(crate) user_names: KeyIndex,
    /// e-mail → user, for the `email` filter.
    pub(crate) user_emails: KeyIndex,
    /// User `i`'s groups are `user_group_list[user_group_offsets[i]..user_group_offsets[i + 1]]`
    /// (indices into `groups`, in the order the user's `groups` shows them): one flat array
    /// instead of an allocation per user.
    pub(crate) user_group_offsets: Vec<u32>,
    pub(crate) user_group_list: Vec<u32>,
    /// Groups in API order.
    pub groups: JsonList,
    /// group_id → index into `groups`.
    pub(crate) group_by_id: HashMap<Box<str>, u32>,
    /// group_id of each group, in API order.
    pub group_ids: Vec<Box<str>>,
    /// Per group, its members as `{"user_id","username"}` in user order.
    pub group_members: Vec<JsonList>,
    /// Administrators in API order.
    pub admins: JsonList,
    /// admin_id → index into `admins`.
    pub(crate) admin_by_id: HashMap<Box<str>, u32>,
    /// Each kind of device (`devices::KINDS` order), read from the users' embedded arrays or
    /// made for them: collected at the first read ([`Tenant::all_devices`]), so a tenant that is
    /// never asked for devices costs no pass over its users at start (an edit starts it empty).
    pub(crate) devices: std::sync::OnceLock<Vec<crate::devices::Devices>>,
    /// What made kinds of device need of the scenario (kept through edits).
    pub device_mix: crate::devices::Mix,
    /// Rendered `response` of `/admin/v1/info/summary`.
    pub summary: Bytes,
    /// Rendered `response` of `/admin/v1/settings`.
    pub settings: Bytes,
    /// The anchor every generated time is relative to, unix seconds (see `scenario::Anchor`).
    pub anchor: i64,
    /// Integrations, policies, administrative units and the account's other objects.
    pub account: Account,
}

/// The account's objects besides users, groups and administrators: integrations, policies,
/// administrative units, the administrators' extras, logo and billing. Cheap to clone (arenas
/// are shared), so an edit of users or groups carries it over whole.
#[derive(Debug, Default, Clone)]
pub struct Account {
    /// Integrations as the legacy v1 and v2 endpoints render them, in scenario order.
    pub integrations_v1: JsonList,
    /// Integrations as `/admin/v3/integrations` renders them.
    pub integrations_v3: JsonList,
    /// ikey → index into the integration lists.
    pub integration_by_key: HashMap<Box<str>, u32>,
    /// Administrative units in API order.
    pub admin_units: JsonList,
    /// admin_unit_id → index into `admin_units`.
    pub admin_unit_by_id: HashMap<Box<str>, u32>,
    /// What the unit list's filters compare, per unit: admin ids, group ids, ikeys.
    pub admin_unit_members: Vec<[Vec<Box<str>>; 3]>,
    /// Per administrator (same order as `Tenant::admins`), its password management status.
    pub password_mgmt: JsonList,
    /// Pending administrator activations.
    pub activations: JsonList,
    /// Rendered `response` of `/admin/v1/admins/allowed_auth_methods`.
    pub allowed_auth_methods: Bytes,
    /// Policies, the global policy first.
    pub policies: JsonList,
    /// policy_key → index into `policies`.
    pub policy_by_key: HashMap<Box<str>, u32>,
    /// Rendered `response` of `/admin/v2/policies/summary`.
    pub policy_summary: Bytes,
    /// Per integration (scenario order), the index of the policy that applies (global: 0).
    pub policy_of_integration: Vec<u32>,
    /// Per integration, `/admin/v2/policies/calculate`'s answer.
    pub policy_calculated: Vec<Bytes>,
    /// The logo's PNG bytes, when the scenario sets one.
    pub logo: Option<Bytes>,
    /// Rendered `response` of `/admin/v1/billing/edition`.
    pub edition: Bytes,
    /// Rendered `response` of `/admin/v1/billing/telephony_credits`.
    pub telephony_credits: Bytes,
}

impl Account {
    /// The integration with this ikey.
    pub fn integration(&self, ikey: &str) -> Option<usize> {
        self.integration_by_key.get(ikey).map(|i| *i as usize)
    }

    /// The administrative unit with this id.
    pub fn admin_unit(&self, id: &str) -> Option<usize> {
        self.admin_unit_by_id.get(id).map(|i| *i as usize)
    }

    /// The policy with this key.
    pub fn policy(&self, key: &str) -> Option<usize> {
        self.policy_by_key.get(key).map(|i| *i as usize)
    }
}

impl Tenant {
    /// The first candidate whose rendered fields satisfy `matches`.
    fn find_user(
        &self,
        candidates: impl Iterator<Item = usize>,
        matches: impl Fn(&UserKeys<'_>) -> bool,
    ) -> Option<usize> {
        candidates.into_iter().find(|&i| {
            self.users
                .item(i)
                .and_then(|json| {
                    serde_json::from_slice::<UserKeys<'_>>(&json)
                        .ok()
                        .map(|keys| matches(&keys))
                })
                .unwrap_or(false)
        })
    }

    /// The user with this `user_id`.
    pub fn user_by_id(&self, user_id: &str) -> Option<usize> {
        self.find_user(self.user_ids.candidates(user_id), |u| u.user_id == user_id)
    }

    /// The user with this username, else the first with this alias.
    pub fn user_by_name(&self, name: &str) -> Option<usize> {
        self.find_user(self.user_names.candidates(name), |u| u.username == name)
            .or_else(|| {
                self.find_user(self.user_names.candidates(name), |u| {
                    u.aliases.values().any(|a| a == name)
                })
            })
    }

    /// The first user with this e-mail.
    pub fn user_by_email(&self, email: &str) -> Option<usize> {
        self.find_user(self.user_emails.candidates(email), |u| u.email == email)
    }

    /// Indices into `groups` of user `index`'s groups, in order.
    pub fn groups_of(&self, index: usize) -> Option<&[u32]> {
        let start = *self.user_group_offsets.get(index)? as usize;
        let end = *self.user_group_offsets.get(index + 1)? as usize;
        self.user_group_list.get(start..end)
    }

    /// The group with this `group_id`.
    pub fn group_by_id(&self, group_id: &str) -> Option<usize> {
        self.group_by_id.get(group_id).map(|i| *i as usize)
    }

    /// One kind of device.
    pub fn devices(&self, kind: crate::devices::Kind) -> Option<&crate::devices::Devices> {
        self.all_devices().get(kind as usize)
    }

    /// Every kind's devices, in `devices::KINDS` order (collected on the first call).
    pub fn all_devices(&self) -> &[crate::devices::Devices] {
        self.devices
            .get_or_init(|| crate::devices::collect(&self.users, &self.admins, &self.device_mix))
    }

    /// The administrator with this `admin_id`.
    pub fn admin_by_id(&self, admin_id: &str) -> Option<usize> {
        self.admin_by_id.get(admin_id).map(|i| *i as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: usize) -> JsonList {
        let items: Vec<usize> = (0..n).collect();
        let builders = items
            .chunks(CHUNK_ITEMS)
            .map(|part| {
                let mut chunk = ChunkBuilder::default();
                for i in part {
                    chunk.push(|out| out.extend_from_slice(format!("{{\"i\":{i}}}").as_bytes()));
                }
                chunk
            })
            .collect();
        JsonList::from_chunks(builders)
    }

    fn joined(parts: &[Bytes]) -> String {
        parts.iter().map(|b| String::from_utf8_lossy(b)).collect()
    }

    #[test]
    fn ranges_inside_and_across_chunks_are_exact() {
        let l = list(CHUNK_ITEMS * 2 + 10);
        for (start, end) in [
            (0, 3),
            (CHUNK_ITEMS - 2, CHUNK_ITEMS + 2),
            (CHUNK_ITEMS * 2, CHUNK_ITEMS * 3),
        ] {
            let mut parts = Vec::new();
            l.range_into(start, end, &mut parts);
            let json: Vec<serde_json::Value> =
                serde_json::from_str(&format!("[{}]", joined(&parts))).expect("valid JSON");
            let got: Vec<u64> = json.iter().filter_map(|v| v["i"].as_u64()).collect();
            let want: Vec<u64> = (start as u64..end.min(l.len()) as u64).collect();
            assert_eq!(got, want);
        }
        let mut none = Vec::new();
        l.range_into(l.len(), l.len() + 5, &mut none);
        assert!(none.is_empty());
        assert_eq!(l.item(CHUNK_ITEMS + 1).as_deref(), Some(&b"{\"i\":4097}"[..]));
        assert!(l.item(l.len()).is_none());
    }
}
