//! Builds a [`Tenant`] from a [`Scenario`]: explicit records first, then generated ones.
//!
//! Determinism: every random choice comes from a ChaCha8 stream seeded by (scenario seed, what,
//! chunk index), and users are generated in fixed chunks of [`CHUNK_ITEMS`], so the bytes are the
//! same for any number of threads and on every machine.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

use bytes::Bytes;
use fake::Fake;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::{AR_SA, DE_DE, EN, FR_FR, JA_JP, PT_BR, ZH_CN};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::Result;
use crate::model::{self, Admin, DesktopToken, Group, Phone, RenderOptions, Token, U2fToken, User, WebAuthn};
use crate::objects_file::Objects;
use crate::scenario::Scenario;
use crate::store::{CHUNK_ITEMS, ChunkBuilder, JsonList, KeyIndex, PreHashed, Tenant, key_hash};

/// Independent random streams, so adding admins never changes the users.
#[derive(Clone, Copy)]
enum Stream {
    Groups = 1,
    ExplicitUsers = 2,
    Users = 3,
    Admins = 4,
    Ids = 5,
    Names = 6,
    /// Names of written-out users who leave them out.
    ExplicitNames = 7,
    /// The exact counts of `[generate]` (index: which count).
    Shape = 8,
    SharedPhones = 9,
}

fn rng_for(seed: u64, stream: Stream, index: u64) -> ChaCha8Rng {
    // splitmix64 over (seed, stream, index): well-spread, stable, no dependency on std's hasher.
    let mut x = seed ^ ((stream as u64) << 56) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(x ^ (x >> 31))
}

/// Builds the tenant on as many threads as the machine has.
pub fn build(scenario: &Scenario) -> Result<Tenant> {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    build_with_threads(scenario, threads)
}

/// Builds the tenant on `threads` threads (the output does not depend on it).
///
/// Three passes keep memory to what is served: who the generated users are (names and ids,
/// parallel); unique usernames and ids (sequential, over borrowed strings); then each chunk of
/// users generated, rendered into its arena and dropped (parallel), leaving only JSON and compact
/// indexes.
pub fn build_with_threads(scenario: &Scenario, threads: usize) -> Result<Tenant> {
    build_at(scenario, scenario.anchor_now(), threads)
}

/// Builds the tenant with every generated time relative to `anchor` (unix seconds).
pub fn build_at(scenario: &Scenario, anchor: i64, threads: usize) -> Result<Tenant> {
    let render = RenderOptions::of(&scenario.options);
    let objects = Objects::of(scenario)?;
    let groups = make_groups(scenario);
    let group_json: Vec<Vec<u8>> = groups
        .iter()
        .map(|g| match objects.group(&g.group_id) {
            Some(raw) => raw.to_vec(),
            None => {
                let mut out = Vec::with_capacity(200);
                model::render_group(g, render, &mut out);
                out
            }
        })
        .collect();
    let group_index: HashMap<&str, u32> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.as_str(), index_u32(i)))
        .collect();

    let explicit = explicit_users(scenario, &group_index, anchor)?;
    let generated = scenario.generate.users as usize;
    let mut identities: Vec<Identity> = in_chunks(generated, threads, |range| {
        range.map(|k| identity(scenario, k)).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    make_unique(scenario, &explicit, &mut identities, threads);

    let shape = Shape::of(scenario, &explicit, generated)?;
    let weights = group_weights(
        groups.len(),
        scenario.generate.group_size_skew,
        shape.sized_groups(scenario),
    );
    let total = explicit.len() + generated;
    let rendered = in_chunks(total, threads, |range| {
        let mut out = RenderedChunk {
            users: ChunkBuilder::with_capacity(range.len(), 1400),
            members: ChunkBuilder::with_capacity(range.len(), 64),
            ..RenderedChunk::default()
        };
        let sharing = scenario.generate.shared_phones > 0.0;
        let mut previous_phone: Option<Phone> = None;
        for i in range {
            let made;
            let user = match explicit.get(i) {
                Some(user) => user,
                None => {
                    let mut user = make_user(
                        scenario,
                        &weights,
                        &shape,
                        &identities[i - explicit.len()],
                        i - explicit.len(),
                        anchor,
                    );
                    if let Some(phone) = previous_phone.take() {
                        let mut rng = rng_for(scenario.tenant.seed, Stream::SharedPhones, i as u64);
                        if chance(&mut rng, scenario.generate.shared_phones) {
                            user.phones.push(phone);
                        }
                    }
                    made = user;
                    &made
                }
            };
            if sharing {
                previous_phone = user.phones.first().cloned();
            }
            out.users.push(|buf| match objects.user(&user.user_id) {
                Some(raw) => buf.extend_from_slice(raw),
                None => model::render_user(user, |g| group_json[g as usize].as_slice(), render, buf),
            });
            out.members.push(|buf| match objects.member(&user.user_id) {
                Some(raw) => buf.extend_from_slice(raw),
                None => model::render_member(&user.user_id, &user.username, buf),
            });
            let at = index_u32(i);
            out.ids.push((key_hash(&user.user_id), at));
            out.emails.push((key_hash(&user.email), at));
            out.names.push((key_hash(&user.username), at));
            out.names.extend(user.aliases.iter().map(|a| (key_hash(a), at)));
            out.group_counts.push(index_u32(user.groups.len()));
            out.group_list.extend_from_slice(&user.groups);
            out.pending_deletion += u64::from(user.status == "pending deletion");
        }
        out
    });

    let mut tenant = Tenant {
        anchor,
        ..Tenant::default()
    };
    tenant.user_group_offsets.reserve(total + 1);
    tenant.user_group_offsets.push(0);
    let mut pending_deletion = 0u64;
    let mut user_chunks = Vec::with_capacity(rendered.len());
    let mut keys = Vec::with_capacity(rendered.len());
    let mut member_json = Vec::with_capacity(rendered.len());
    for chunk in rendered {
        let mut end = tenant.user_group_list.len();
        for count in chunk.group_counts {
            end += count as usize;
            tenant.user_group_offsets.push(index_u32(end));
        }
        tenant.user_group_list.extend(chunk.group_list);
        pending_deletion += chunk.pending_deletion;
        user_chunks.push(chunk.users);
        keys.push([chunk.ids, chunk.names, chunk.emails]);
        member_json.push(chunk.members);
    }
    tenant.users = JsonList::from_chunks(user_chunks);
    // The three indexes are independent: one thread each (a million users: 0.2 s in a row).
    let [ids, names, emails]: [KeyIndex; 3] = in_parallel(3, threads, |which| {
        let mut index = KeyIndex::with_capacity(total);
        for chunk in &keys {
            for (hash, i) in &chunk[which] {
                index.insert_hash(*hash, *i);
            }
        }
        index
    })
    .try_into()
    .unwrap_or_default();
    drop(keys);
    (tenant.user_ids, tenant.user_names, tenant.user_emails) = (ids, names, emails);

    let mut members: Vec<Vec<u32>> = vec![Vec::new(); groups.len()];
    for user in 0..total {
        for g in tenant.groups_of(user).unwrap_or_default() {
            members[*g as usize].push(index_u32(user));
        }
    }
    // Rendered chunk by chunk across all groups: with a few large groups and many small ones,
    // a thread per group would leave the largest (a fifth of all members) to one thread.
    let pieces: Vec<(usize, &[u32])> = members
        .iter()
        .enumerate()
        .flat_map(|(g, m)| m.chunks(CHUNK_ITEMS).map(move |part| (g, part)))
        .collect();
    let mut rendered = in_parallel(pieces.len(), threads, |p| {
        let (g, part) = pieces[p];
        let mut chunk = ChunkBuilder::with_capacity(part.len(), 64);
        for i in part {
            let i = *i as usize;
            let json = member_json[i / CHUNK_ITEMS]
                .item(i % CHUNK_ITEMS)
                .unwrap_or_default();
            chunk.push(|out| out.extend_from_slice(json));
        }
        (g, chunk)
    })
    .into_iter()
    .peekable();
    tenant.group_members = (0..groups.len())
        .map(|g| {
            let mut chunks = Vec::new();
            while let Some((_, chunk)) = rendered.next_if(|(of, _)| *of == g) {
                chunks.push(chunk);
            }
            JsonList::from_chunks(chunks)
        })
        .collect();
    drop(member_json);
    tenant.group_by_id = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.group_id.as_str().into(), index_u32(i)))
        .collect();
    tenant.group_ids = groups.iter().map(|g| g.group_id.as_str().into()).collect();
    tenant.groups = JsonList::build(&group_json, |g, out| out.extend_from_slice(g));

    let mut admins = make_admins(scenario, anchor);
    let group_ids: HashMap<&str, &str> = groups
        .iter()
        .map(|g| (g.name.as_str(), g.group_id.as_str()))
        .collect();
    let admin_ids: HashMap<&str, &str> = admins
        .iter()
        .take(scenario.admins.len())
        .map(|a| (a.email.as_str(), a.admin_id.as_str()))
        .collect();
    let mut units = crate::routes::build_admin_units(scenario, &group_ids, &admin_ids)?;
    for admin in admins.iter_mut().take(scenario.admins.len()) {
        admin.admin_units = units.of_admin.remove(&admin.email).unwrap_or_default();
    }
    tenant.account = crate::routes::build_account(scenario, &admins, units, anchor);
    tenant.admin_by_id = admins
        .iter()
        .enumerate()
        .map(|(i, a)| (a.admin_id.as_str().into(), index_u32(i)))
        .collect();
    tenant.admins = JsonList::build(&admins, |admin, out| match objects.admin(&admin.admin_id) {
        Some(raw) => out.extend_from_slice(raw),
        None => model::render_admin(admin, out),
    });

    tenant.device_mix = crate::devices::Mix {
        seed: scenario.tenant.seed,
        anchor,
        bypass_codes: scenario.generate.bypass_codes,
        desktop_authenticators: scenario.generate.desktop_authenticators,
        endpoints: scenario.generate.endpoints,
        registered_devices: scenario.generate.registered_devices,
    };
    let user_count = total as u64 - pending_deletion;
    tenant.summary = Bytes::from(format!(
        "{{\"admin_count\":{},\"integration_count\":{},\"telephony_credits_remaining\":{},\"user_count\":{user_count},\"user_pending_deletion_count\":{pending_deletion}}}",
        admins.len(),
        scenario.integrations.len(),
        scenario.tenant.telephony_credits_remaining,
    ));
    tenant.settings = match objects.settings() {
        Some(raw) => Bytes::copy_from_slice(raw),
        None => Bytes::from(render_settings(scenario)),
    };
    if let Some(raw) = objects.summary() {
        tenant.summary = Bytes::copy_from_slice(raw);
    }
    check_churn_names(scenario, &tenant)?;
    Ok(tenant)
}

/// Every username a churn event chooses is a user of the built tenant (generated names are only
/// known now), reported at the name in the file.
fn check_churn_names(scenario: &Scenario, tenant: &Tenant) -> Result<()> {
    for name in scenario.churn.iter().flat_map(|event| &event.users) {
        let found = tenant
            .user_by_name(name.get_ref())
            .and_then(|i| tenant.users.item(i))
            .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
            .is_some_and(|user| user["username"].as_str() == Some(name.get_ref().as_str()));
        if !found {
            return Err(scenario.error_at(
                name.span(),
                format!("churn users: the tenant has no user named {:?}", name.get_ref()),
            ));
        }
    }
    Ok(())
}

/// The exact counts of `[generate]` (`not_enrolled`, `status_counts`, `group_sizes`) as choices
/// of generated users, made before any user: each a sparse shuffle from its own seeded stream,
/// sequential and as long as the choice (not the tenant), so no choice depends on the thread
/// count. Each list is sorted by user, for a binary search a user.
#[derive(Default)]
struct Shape {
    /// Generated users without a method, when `not_enrolled` is set.
    unenrolled: Option<Vec<u32>>,
    /// `(user, status)` of the users `status_counts` gave a status.
    statuses: Vec<(u32, &'static str)>,
    /// The statuses `status_counts` names: the other users draw among the rest.
    counted: Vec<&'static str>,
    /// `(user, group)` memberships of the `group_sizes` groups.
    members: Vec<(u32, u32)>,
}

impl Shape {
    fn of(scenario: &Scenario, explicit: &[User], generated: usize) -> Result<Self> {
        let g = &scenario.generate;
        let n = index_u32(generated);
        let draw = |which: u64, k: u32| -> Vec<u32> {
            distinct(
                &mut rng_for(scenario.tenant.seed, Stream::Shape, which),
                n,
                k.min(n),
            )
        };
        let mut shape = Self {
            unenrolled: g.not_enrolled.as_ref().map(|k| sorted(draw(0, *k.get_ref()))),
            ..Self::default()
        };
        if let Some(counts) = &g.status_counts {
            let total = counts.get_ref().values().sum();
            let mut chosen = draw(1, total).into_iter();
            for (status, count) in counts.get_ref() {
                let status = status_name(status.get_ref());
                shape.counted.push(status);
                shape
                    .statuses
                    .extend(chosen.by_ref().take(*count as usize).map(|k| (k, status)));
            }
            shape.statuses.sort_unstable();
        }
        if let Some(sizes) = &g.group_sizes {
            for (j, size) in sizes.get_ref().iter().enumerate() {
                let group = index_u32(scenario.groups.len() + j);
                let written = explicit.iter().filter(|u| u.groups.contains(&group)).count();
                let Some(wanted) = (*size as usize).checked_sub(written) else {
                    return Err(scenario.error_at(
                        sizes.span(),
                        format!(
                            "generate.group_sizes: generated group {} has {size} members, but {written} written-out users name it",
                            j + 1
                        ),
                    ));
                };
                if wanted > generated {
                    return Err(scenario.error_at(
                        sizes.span(),
                        format!(
                            "generate.group_sizes: generated group {} needs {wanted} generated members, and there are {generated}",
                            j + 1
                        ),
                    ));
                }
                let chosen = draw(2 + j as u64, index_u32(wanted));
                shape.members.extend(chosen.into_iter().map(|k| (k, group)));
            }
            shape.members.sort_unstable();
        }
        Ok(shape)
    }

    /// The groups whose size is fixed: no generated user draws them.
    fn sized_groups(&self, scenario: &Scenario) -> std::ops::Range<usize> {
        let first = scenario.groups.len();
        first
            ..first
                + scenario
                    .generate
                    .group_sizes
                    .as_ref()
                    .map_or(0, |s| s.get_ref().len())
    }

    fn enrolled(&self, k: u32) -> Option<bool> {
        self.unenrolled
            .as_ref()
            .map(|list| list.binary_search(&k).is_err())
    }

    fn status(&self, k: u32) -> Option<&'static str> {
        let at = self.statuses.partition_point(|(user, _)| *user < k);
        self.statuses
            .get(at)
            .filter(|(user, _)| *user == k)
            .map(|(_, status)| *status)
    }

    fn groups(&self, k: u32) -> impl Iterator<Item = u32> + '_ {
        let at = self.members.partition_point(|(user, _)| *user < k);
        self.members[at..]
            .iter()
            .take_while(move |(user, _)| *user == k)
            .map(|(_, group)| *group)
    }
}

/// `k` distinct numbers of `0..n` in a uniformly random order: the first `k` steps of a
/// Fisher–Yates shuffle, keeping only the moved entries (memory and time grow with `k`).
fn distinct(rng: &mut ChaCha8Rng, n: u32, k: u32) -> Vec<u32> {
    let mut moved: HashMap<u32, u32> = HashMap::with_capacity(k as usize);
    (0..k.min(n))
        .map(|i| {
            let j = rng.random_range(i..n);
            let at_j = moved.get(&j).copied().unwrap_or(j);
            let at_i = moved.get(&i).copied().unwrap_or(i);
            moved.insert(j, at_i);
            at_j
        })
        .collect()
}

fn sorted(mut list: Vec<u32>) -> Vec<u32> {
    list.sort_unstable();
    list
}

/// What one chunk of users leaves behind once rendered.
#[derive(Default)]
struct RenderedChunk {
    users: ChunkBuilder,
    /// Each user as a group member, rendered while the user is at hand: rendering them later,
    /// group by group, read every user's strings from all over memory again (0.6 s a million).
    members: ChunkBuilder,
    ids: Vec<(u64, u32)>,
    names: Vec<(u64, u32)>,
    emails: Vec<(u64, u32)>,
    group_counts: Vec<u32>,
    group_list: Vec<u32>,
    pending_deletion: u64,
}

/// Runs `work` over `0..total` in chunks of [`CHUNK_ITEMS`] on up to `threads` threads and
/// returns the results in chunk order (so the output never depends on the thread count).
fn in_chunks<T: Send>(
    total: usize,
    threads: usize,
    work: impl Fn(std::ops::Range<usize>) -> T + Sync,
) -> Vec<T> {
    in_parallel(total.div_ceil(CHUNK_ITEMS), threads, |c| {
        let start = c * CHUNK_ITEMS;
        work(start..total.min(start + CHUNK_ITEMS))
    })
}

/// Runs `work(0)` … `work(count - 1)` on up to `threads` threads, each taking the next item
/// when done (so uneven items balance), and returns the results in item order.
fn in_parallel<T: Send>(count: usize, threads: usize, work: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = threads.clamp(1, count.max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= count {
                            break done;
                        }
                        done.push((i, work(i)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, t)| t).collect()
}

fn index_u32(i: usize) -> u32 {
    // Tenants are bounded by the scenario's u32 counts.
    u32::try_from(i).unwrap_or(u32::MAX)
}

const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Finance",
    "Marketing",
    "IT Admins",
    "Human Resources",
    "Legal",
    "Customer Support",
    "Contractors",
    "VPN Users",
    "Executives",
    "Security",
    "Operations",
    "Product",
    "Design",
    "Data Science",
    "Facilities",
    "Interns",
];

fn make_groups(scenario: &Scenario) -> Vec<Group> {
    let case = scenario.options.group_status_case;
    let status = |s: &str| case.spell(s);
    let mut rng = rng_for(scenario.tenant.seed, Stream::Groups, 0);
    let mut out = Vec::new();
    let mut names = HashSet::new();
    for g in &scenario.groups {
        let name = g.name.get_ref().clone();
        names.insert(name.clone());
        out.push(Group {
            group_id: g
                .group_id
                .as_ref()
                .map_or_else(|| model::random_id(&mut rng, "DG"), |id| id.get_ref().clone()),
            desc: g.desc.clone().unwrap_or_default(),
            status: status(g.status.as_ref().map_or("active", |s| s.get_ref())),
            name,
        });
    }
    let mut n = 0usize;
    while out.len() < scenario.groups.len() + scenario.generate.groups as usize {
        let base = DEPARTMENTS[n % DEPARTMENTS.len()];
        let round = n / DEPARTMENTS.len();
        n += 1;
        let name = if round == 0 {
            base.to_owned()
        } else {
            format!("{base} {}", round + 1)
        };
        if !names.insert(name.clone()) {
            continue;
        }
        let roll = rng.random_range(0..100);
        let state = match roll {
            0..=2 => "disabled",
            3..=5 => "bypass",
            _ => "active",
        };
        out.push(Group {
            group_id: model::random_id(&mut rng, "DG"),
            desc: format!("{name} team"),
            status: status(state),
            name,
        });
    }
    out
}

/// Cumulative Zipf weights with exponent `skew`: 0 gives groups of about equal size, 1 (the
/// default) a few large groups and many small ones, more than 1 a steeper drop. Groups in
/// `fixed` (their size is given) weigh nothing: no draw lands on them.
fn group_weights(count: usize, skew: f64, fixed: std::ops::Range<usize>) -> Vec<f64> {
    let mut total = 0.0;
    (0..count)
        .map(|i| {
            if !fixed.contains(&i) {
                total += (i as f64 + 1.0).powf(-skew);
            }
            total
        })
        .collect()
}

fn pick_groups(rng: &mut ChaCha8Rng, weights: &[f64], range: [u32; 2]) -> Vec<u32> {
    let Some(&total) = weights.last().filter(|total| **total > 0.0) else {
        return Vec::new();
    };
    let want = (rng.random_range(range[0]..=range[1]) as usize).min(weights.len());
    let mut picked: Vec<u32> = Vec::with_capacity(want);
    let mut tries = 0;
    while picked.len() < want && tries < want * 8 {
        tries += 1;
        let x = rng.random_range(0.0..total);
        let g = index_u32(weights.partition_point(|w| *w <= x).min(weights.len() - 1));
        if !picked.contains(&g) {
            picked.push(g);
        }
    }
    picked
}

fn explicit_users(scenario: &Scenario, group_index: &HashMap<&str, u32>, anchor: i64) -> Result<Vec<User>> {
    let mut rng = rng_for(scenario.tenant.seed, Stream::ExplicitUsers, 0);
    let mut out = Vec::with_capacity(scenario.users.len());
    for (n, record) in scenario.users.iter().enumerate() {
        let username = record.username.get_ref().clone();
        let mut groups = Vec::new();
        for name in &record.groups {
            let g = group_index.get(name.get_ref().as_str()).ok_or_else(|| {
                scenario.error_at(
                    name.span(),
                    format!(
                        "user {username:?} is in group {:?}, which the scenario does not have",
                        name.get_ref()
                    ),
                )
            })?;
            groups.push(*g);
        }
        let created = record.created.unwrap_or(anchor - 86_400 * (400 + n as i64));
        let phones = record
            .phones
            .unwrap_or(u32::from(record.enrolled.unwrap_or(true)));
        let tokens = record.tokens.unwrap_or(0);
        let (realname, firstname, lastname) = written_names(scenario, record, n);
        let mut user = User {
            user_id: record
                .user_id
                .as_ref()
                .map_or_else(|| model::random_id(&mut rng, "DU"), |id| id.get_ref().clone()),
            realname,
            firstname,
            lastname,
            email: record
                .email
                .clone()
                .unwrap_or_else(|| format!("{}@{}", email_local(&username), scenario.tenant.email_domain)),
            status: status_name(record.status.as_ref().map_or("active", |s| s.get_ref())),
            created,
            last_login: match record.last_login {
                Some(-1) => None,
                Some(t) => Some(t),
                None => Some(anchor - 3600 * (n as i64 + 1)),
            },
            last_directory_sync: record.external_id.as_ref().map(|_| anchor - 3600),
            external_id: record.external_id.clone(),
            notes: record.notes.clone().unwrap_or_default(),
            aliases: record.aliases.clone(),
            groups,
            phones: Vec::new(),
            tokens: Vec::new(),
            webauthn: Vec::new(),
            u2f: Vec::new(),
            desktop_tokens: Vec::new(),
            username,
        };
        if record.enrolled != Some(false) {
            for _ in 0..phones {
                user.phones.push(make_phone(&mut rng, anchor));
            }
            for _ in 0..tokens {
                user.tokens.push(make_token(&mut rng));
            }
        }
        out.push(user);
    }
    Ok(out)
}

/// A written-out user's `realname`, `firstname` and `lastname`: as written; without a
/// `realname`, the given names a person's (each name not written drawn from the user's own
/// stream, so other users and fields stay as they were) and `realname` the two. A written
/// `realname` alone leaves the other two unset, as Duo shows a user made with a full name only.
fn written_names(
    scenario: &Scenario,
    record: &crate::scenario::UserRecord,
    n: usize,
) -> (Option<String>, Option<String>, Option<String>) {
    if let Some(realname) = &record.realname {
        return (
            Some(realname.clone()),
            record.firstname.clone(),
            record.lastname.clone(),
        );
    }
    let mut rng = rng_for(scenario.tenant.seed, Stream::ExplicitNames, n as u64);
    let (first, last) = names(&mut rng, Locale::En);
    let first = record.firstname.clone().unwrap_or(first);
    let last = record.lastname.clone().unwrap_or(last);
    (Some(concat(&[&first, " ", &last])), Some(first), Some(last))
}

fn status_name(s: &str) -> &'static str {
    crate::scenario::USER_STATUSES
        .into_iter()
        .find(|known| *known == s)
        .unwrap_or("active")
}

#[derive(Clone, Copy)]
enum Locale {
    En,
    De,
    Fr,
    Pt,
    Zh,
    Ja,
    Ar,
}

fn names(rng: &mut ChaCha8Rng, locale: Locale) -> (String, String) {
    macro_rules! pick {
        ($l:expr) => {
            (
                FirstName($l).fake_with_rng(rng),
                LastName($l).fake_with_rng(rng),
            )
        };
    }
    match locale {
        Locale::En => pick!(EN),
        Locale::De => pick!(DE_DE),
        Locale::Fr => pick!(FR_FR),
        Locale::Pt => pick!(PT_BR),
        Locale::Zh => pick!(ZH_CN),
        Locale::Ja => pick!(JA_JP),
        Locale::Ar => pick!(AR_SA),
    }
}

/// A login name from a person's name: lower-cased, letters and digits kept (in any script).
fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|c| c.is_alphanumeric()) {
        push_lowercase(&mut out, c);
    }
    out
}

/// `c` lower-cased; ASCII without the general case's iterator (most names are ASCII).
fn push_lowercase(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
    } else {
        out.extend(c.to_lowercase());
    }
}

/// The local part of an e-mail for a username: spaces and symbols become dots.
fn email_local(username: &str) -> String {
    let mut out = String::with_capacity(username.len());
    for c in username.chars() {
        if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') {
            push_lowercase(&mut out, c);
        } else if !out.ends_with('.') {
            out.push('.');
        }
    }
    let trimmed = out.trim_matches('.');
    if trimmed.is_empty() {
        "user".to_owned()
    } else if trimmed.len() == out.len() {
        out
    } else {
        trimmed.to_owned()
    }
}

/// `parts` joined in one allocation (what `format!("{a}{b}")` makes, for less).
fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

fn chance(rng: &mut ChaCha8Rng, share: f64) -> bool {
    share > 0.0 && rng.random_bool(share.min(1.0))
}

/// Who generated user `k` is: the parts that must be unique across the tenant, decided before
/// anything else so the uniqueness pass can run over them alone.
struct Identity {
    first: String,
    last: String,
    username: String,
    user_id: String,
    unusual: bool,
}

fn identity(scenario: &Scenario, k: usize) -> Identity {
    let g = &scenario.generate;
    let mut rng = rng_for(scenario.tenant.seed, Stream::Names, k as u64);
    let rng = &mut rng;
    let locale = if chance(rng, g.non_ascii_names) {
        *[
            Locale::De,
            Locale::Fr,
            Locale::Pt,
            Locale::Zh,
            Locale::Ja,
            Locale::Ar,
        ]
        .choose(rng)
        .unwrap_or(&Locale::De)
    } else {
        Locale::En
    };
    let (first, last) = names(rng, locale);
    let (fs, ls) = (slug(&first), slug(&last));
    let unusual = chance(rng, g.unusual_usernames);
    let username = if unusual {
        match rng.random_range(0..6) {
            0 => format!("{first} {last}"),
            1 => format!("{fs}.{ls}+ops"),
            2 => format!("{last}, {first}"),
            3 => format!("{fs}'{ls}"),
            4 => format!("{fs}&{ls} (contractor)"),
            _ => format!("{fs}/{ls}#1"),
        }
    } else {
        concat(&[&fs, ".", &ls])
    };
    Identity {
        user_id: model::random_id(rng, "DU"),
        first,
        last,
        username,
        unusual,
    }
}

/// Generated user `k` in full, from its identity and its own random stream.
fn make_user(
    scenario: &Scenario,
    weights: &[f64],
    shape: &Shape,
    who: &Identity,
    k: usize,
    anchor: i64,
) -> User {
    let g = &scenario.generate;
    let mut rng = rng_for(scenario.tenant.seed, Stream::Users, k as u64);
    let rng = &mut rng;
    let (first, last, unusual) = (who.first.clone(), who.last.clone(), who.unusual);
    let created = anchor - rng.random_range(86_400 * 30..86_400 * 1500);
    let mix = g.user_status;
    // The statuses `status_counts` names weigh nothing here: their users are chosen.
    let mix = [
        ("active", mix.active),
        ("bypass", mix.bypass),
        ("disabled", mix.disabled),
        ("locked out", mix.locked_out),
        ("pending deletion", mix.pending_deletion),
    ]
    .map(|(name, w)| (name, if shape.counted.contains(&name) { 0 } else { w }));
    let roll = rng.random_range(0..mix.iter().map(|(_, w)| w).sum::<u32>().max(1));
    let drawn = mix
        .iter()
        .scan(0, |acc, (name, w)| {
            *acc += w;
            Some((*name, *acc))
        })
        .find(|(_, upto)| roll < *upto)
        .map_or("active", |(name, _)| name);
    let status = shape.status(index_u32(k)).unwrap_or(drawn);
    let last_login = (!chance(rng, g.never_logged_in)).then(|| recent_login(rng, created, anchor));
    let synced = chance(rng, g.directory_synced);
    let external_id = synced.then(|| {
        let a: u128 = rng.random();
        let h = format!("{a:032x}");
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    });
    let aliases = if chance(rng, g.aliases) {
        let (fs, ls) = (slug(&first), slug(&last));
        let initial: String = fs.chars().take(1).collect();
        let mut list = vec![format!("{initial}{ls}")];
        if rng.random_bool(0.3) {
            list.push(if unusual {
                format!("{first} {last} (alt)")
            } else {
                format!("{fs}_{ls}")
            });
        }
        list
    } else {
        Vec::new()
    };
    let mut user = User {
        user_id: who.user_id.clone(),
        realname: Some(concat(&[&first, " ", &last])),
        firstname: Some(first),
        lastname: Some(last),
        email: concat(&[&email_local(&who.username), "@", &scenario.tenant.email_domain]),
        status,
        created,
        last_login,
        last_directory_sync: synced.then(|| anchor - rng.random_range(0..86_400)),
        external_id,
        notes: if rng.random_range(0..50) == 0 {
            "Contractor; access reviewed quarterly".to_owned()
        } else {
            String::new()
        },
        aliases,
        groups: pick_groups(rng, weights, g.groups_per_user),
        phones: Vec::new(),
        tokens: Vec::new(),
        webauthn: Vec::new(),
        u2f: Vec::new(),
        desktop_tokens: Vec::new(),
        username: who.username.clone(),
    };
    user.groups.extend(shape.groups(index_u32(k)));
    let drawn = chance(rng, g.enrolled);
    if shape.enrolled(index_u32(k)).unwrap_or(drawn) {
        if chance(rng, g.phones) {
            user.phones.push(make_phone(rng, anchor));
        }
        if chance(rng, g.tokens) {
            user.tokens.push(make_token(rng));
        }
        if chance(rng, g.webauthn) {
            user.webauthn.push(make_webauthn(rng, created, anchor));
        }
        if !user.is_enrolled() {
            user.phones.push(make_phone(rng, anchor));
        }
        // Drawn last, and only when asked for: scenarios without them keep every other byte.
        if chance(rng, g.u2f) {
            user.u2f.push(U2fToken {
                registration_id: model::random_id(rng, "D2"),
                date_added: rng.random_range(created..anchor.max(created + 1)),
            });
        }
        if chance(rng, g.desktop_tokens) {
            let (platform, machine) = *[("Windows", "DESKTOP"), ("Mac OS X", "MacBook")]
                .choose(rng)
                .unwrap_or(&("Windows", "DESKTOP"));
            let number: u32 = rng.random_range(1000..99_999);
            user.desktop_tokens.push(DesktopToken {
                desktoptoken_id: model::random_id(rng, "DT"),
                name: format!("{machine}-{number}"),
                platform,
            });
        }
    }
    user
}

/// A last login between `created` and `anchor`, as people log in: most within the last two days,
/// fewer within two weeks or three months, a few longer ago (uniform over each span, so no
/// floating-point function that could round differently on another machine).
fn recent_login(rng: &mut ChaCha8Rng, created: i64, anchor: i64) -> i64 {
    const DAY: i64 = 86_400;
    let (newest, oldest) = match rng.random_range(0..100) {
        0..55 => (0, 2 * DAY),
        55..80 => (2 * DAY, 14 * DAY),
        80..92 => (14 * DAY, 90 * DAY),
        _ => (90 * DAY, anchor - created),
    };
    let earliest = (anchor - oldest).max(created);
    let latest = anchor - newest;
    if earliest < latest {
        rng.random_range(earliest..latest)
    } else {
        rng.random_range(created..anchor.max(created + 1))
    }
}

const PLATFORMS: &[(&str, &[&str])] = &[
    ("Apple iOS", &["iPhone 15", "iPhone 14 Pro", "iPhone 13"]),
    ("Google Android", &["Pixel 8", "Galaxy S23", "Pixel 7a"]),
    ("Generic Smartphone", &["Generic Smartphone"]),
];

fn make_phone(rng: &mut ChaCha8Rng, anchor: i64) -> Phone {
    let landline = rng.random_range(0..20) == 0;
    let (platform, model) = if landline {
        ("Unknown", "Unknown")
    } else {
        let (p, models) = PLATFORMS.choose(rng).copied().unwrap_or(PLATFORMS[0]);
        (p, models.choose(rng).copied().unwrap_or("Unknown"))
    };
    let activated = !landline && rng.random_range(0..10) > 0;
    let mut number = String::from("+1");
    for _ in 0..10 {
        number.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    Phone {
        phone_id: model::random_id(rng, "DP"),
        number,
        platform,
        kind: if landline { "Landline" } else { "Mobile" },
        model,
        activated,
        last_seen: if activated {
            model::iso_time(anchor - rng.random_range(0..86_400 * 60))
        } else {
            String::new()
        },
    }
}

fn make_token(rng: &mut ChaCha8Rng) -> Token {
    let (kind, step) = *[
        ("h6", None),
        ("h8", None),
        ("yk", None),
        ("d1", None),
        ("t6", Some(30)),
    ]
    .choose(rng)
    .unwrap_or(&("h6", None));
    Token {
        token_id: model::random_id(rng, "DH"),
        serial: rng.random_range(100_000..999_999_999u32).to_string(),
        kind,
        totp_step: step,
    }
}

fn make_webauthn(rng: &mut ChaCha8Rng, created: i64, anchor: i64) -> WebAuthn {
    let (name, label) = *[
        ("YubiKey 5", "Security Key"),
        ("MacBook Touch ID", "Touch ID"),
        ("Work laptop", "Windows Hello"),
    ]
    .choose(rng)
    .unwrap_or(&("YubiKey 5", "Security Key"));
    WebAuthn {
        webauthnkey: model::random_id(rng, "WA"),
        credential_name: name.to_owned(),
        label,
        date_added: rng.random_range(created..anchor.max(created + 1)),
    }
}

/// Gives repeated generated usernames a numeric suffix (`jane.doe2`) and repeated ids a fresh
/// one, as one pass in index order would: the first user of a name keeps it, the next ones take
/// the next free suffix. Written-out records keep what they say.
///
/// At a million users a quarter of the names repeat, and that single pass, over tables of a
/// million borrowed names, missed the cache on nearly every look-up (1.1 s of a 3.6 s build). So
/// names are hashed once, in parallel, and split into [`UNIQUE_SHARDS`] shards by their stem
/// (the name without trailing digits): a name and every suffixed spelling of it share a shard,
/// so no decision in one shard depends on another, and each shard, run in index order, decides
/// exactly what the single pass decided, over tables that stay in cache, on any thread count.
fn make_unique(scenario: &Scenario, explicit: &[User], generated: &mut [Identity], threads: usize) {
    let (renamed, ids_repeat) = {
        let hashed = in_chunks(generated.len(), threads, |range| {
            range
                .map(|k| {
                    let who = &generated[k];
                    let name = NameRef {
                        text: &who.username,
                        hash: key_hash(&who.username),
                        k: index_u32(k),
                    };
                    (name_shard(&who.username), name, key_hash(&who.user_id))
                })
                .collect::<Vec<_>>()
        })
        .concat();
        let ids_repeat = ids_repeat(explicit, hashed.iter().map(|(_, _, id)| *id));
        (unique_names(explicit, &hashed, threads), ids_repeat)
    };
    for (k, name) in renamed {
        generated[k as usize].username = name;
    }
    // Random 18-character ids practically never repeat: only when one does, the sequential
    // pass draws fresh ids from one stream in index order.
    if ids_repeat {
        for (k, id) in fresh_ids(scenario, explicit, generated) {
            generated[k].user_id = id;
        }
    }
}

/// Shards of the uniqueness pass; fixed (not the thread count), though any count gives the same
/// names.
const UNIQUE_SHARDS: usize = 256;

/// A generated user's name as the uniqueness pass reads it: hashed once, in index order.
#[derive(Clone, Copy)]
struct NameRef<'a> {
    text: &'a str,
    hash: u64,
    k: u32,
}

/// The shard of a name: that of its stem, so `jane.doe` and `jane.doe17` share it. Taken from
/// bits the hash tables do not use (they index by the low bits and tag by the top seven).
fn name_shard(name: &str) -> u8 {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    key_hash(stem).to_le_bytes()[4]
}

/// New usernames `(index, name)` for generated users whose name is taken.
fn unique_names(explicit: &[User], hashed: &[(u8, NameRef<'_>, u64)], threads: usize) -> Vec<(u32, String)> {
    // A counting sort by shard, each shard in index order.
    let mut bounds = vec![0usize; UNIQUE_SHARDS + 1];
    for (shard, _, _) in hashed {
        bounds[usize::from(*shard) + 1] += 1;
    }
    for i in 0..UNIQUE_SHARDS {
        bounds[i + 1] += bounds[i];
    }
    let mut next = bounds.clone();
    let mut grouped = vec![
        NameRef {
            text: "",
            hash: 0,
            k: 0
        };
        hashed.len()
    ];
    for (shard, name, _) in hashed {
        let slot = &mut next[usize::from(*shard)];
        grouped[*slot] = *name;
        *slot += 1;
    }
    let explicit: Vec<(u8, NameRef<'_>)> = explicit
        .iter()
        .map(|u| {
            let name = NameRef {
                text: &u.username,
                hash: key_hash(&u.username),
                k: 0,
            };
            (name_shard(&u.username), name)
        })
        .collect();
    in_parallel(UNIQUE_SHARDS, threads, |shard| {
        let members = &grouped[bounds[shard]..bounds[shard + 1]];
        // Names in use, by hash: a hash match is checked against the text, so a collision
        // never takes a free name.
        let mut taken: Vec<&str> = Vec::with_capacity(members.len());
        let mut names = KeyIndex::with_capacity(members.len());
        let mut renamed: Vec<(u32, String)> = Vec::new();
        let mut created = KeyIndex::default();
        for (s, name) in &explicit {
            if usize::from(*s) == shard {
                names.insert_hash(name.hash, index_u32(taken.len()));
                taken.push(name.text);
            }
        }
        // A counter per repeated name keeps a name shared by thousands of users linear.
        let mut next_suffix: HashMap<&str, u32> = HashMap::new();
        for name in members {
            let in_names = |text: &str, hash: u64| names.candidates_hash(hash).any(|i| taken[i] == text);
            let was_created = |text: &str, hash: u64, renamed: &[(u32, String)]| {
                created.candidates_hash(hash).any(|i| renamed[i].1 == text)
            };
            if !was_created(name.text, name.hash, &renamed) && !in_names(name.text, name.hash) {
                names.insert_hash(name.hash, index_u32(taken.len()));
                taken.push(name.text);
                continue; // First use of this name.
            }
            let n = next_suffix.entry(name.text).or_insert(2);
            loop {
                let candidate = format!("{}{n}", name.text);
                *n += 1;
                let hash = key_hash(&candidate);
                if !in_names(&candidate, hash) && !was_created(&candidate, hash, &renamed) {
                    created.insert_hash(hash, index_u32(renamed.len()));
                    renamed.push((name.k, candidate));
                    break;
                }
            }
        }
        renamed
    })
    .concat()
}

/// Whether a generated id (given by its hash) repeats a written-out or an earlier one; a false
/// alarm from a hash collision only costs the exact sequential pass.
fn ids_repeat(explicit: &[User], generated: impl ExactSizeIterator<Item = u64>) -> bool {
    let mut seen: HashSet<u64, BuildHasherDefault<PreHashed>> =
        HashSet::with_capacity_and_hasher(explicit.len() + generated.len(), BuildHasherDefault::default());
    for user in explicit {
        seen.insert(key_hash(&user.user_id));
    }
    let mut generated = generated;
    generated.any(|hash| !seen.insert(hash))
}

/// Fresh ids `(index, id)` for generated users whose id is taken, drawn in index order from one
/// stream (sequential: which user gets which draw must not depend on threads).
fn fresh_ids(scenario: &Scenario, explicit: &[User], generated: &[Identity]) -> Vec<(usize, String)> {
    let mut ids: HashSet<&str> = explicit.iter().map(|u| u.user_id.as_str()).collect();
    let mut created: HashSet<String> = HashSet::new();
    let mut rng = rng_for(scenario.tenant.seed, Stream::Ids, 0);
    let mut fresh = Vec::new();
    for (k, who) in generated.iter().enumerate() {
        if created.contains(&who.user_id) || !ids.insert(&who.user_id) {
            loop {
                let candidate = model::random_id(&mut rng, "DU");
                if !ids.contains(candidate.as_str()) && created.insert(candidate.clone()) {
                    fresh.push((k, candidate));
                    break;
                }
            }
        }
    }
    fresh
}

fn make_admins(scenario: &Scenario, anchor: i64) -> Vec<Admin> {
    let mut rng = rng_for(scenario.tenant.seed, Stream::Admins, 0);
    let mut out = Vec::new();
    let mut emails = HashSet::new();
    for record in &scenario.admins {
        emails.insert(record.email.get_ref().clone());
        out.push(Admin {
            admin_id: record
                .admin_id
                .as_ref()
                .map_or_else(|| model::random_id(&mut rng, "DE"), |id| id.get_ref().clone()),
            name: record.name.clone(),
            email: record.email.get_ref().clone(),
            phone: record.phone.clone(),
            role: record.role.clone().unwrap_or_else(|| "Administrator".to_owned()),
            status: admin_status(record.status.as_ref().map_or("Active", |s| s.get_ref())),
            last_login: match record.last_login {
                Some(-1) => None,
                Some(t) => Some(t),
                None => Some(anchor - 7200),
            },
            created: Some(anchor - 86_400 * 500),
            password_change_required: false,
            admin_units: Vec::new(),
            external_password_mgmt: record.external_password_mgmt,
        });
    }
    let roles: Vec<(&str, u32)> = scenario
        .generate
        .admin_roles
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    let role_total: u32 = roles.iter().map(|(_, w)| w).sum();
    for n in 0..scenario.generate.admins {
        let (first, last): (String, String) = (
            FirstName(EN).fake_with_rng(&mut rng),
            LastName(EN).fake_with_rng(&mut rng),
        );
        let mut email = format!(
            "{}.{}@{}",
            slug(&first),
            slug(&last),
            scenario.tenant.email_domain
        );
        let mut k = 2;
        while !emails.insert(email.clone()) {
            email = format!(
                "{}.{}{k}@{}",
                slug(&first),
                slug(&last),
                scenario.tenant.email_domain
            );
            k += 1;
        }
        // The first generated admin of a tenant without explicit ones is its Owner.
        let role = if n == 0 && scenario.admins.is_empty() {
            "Owner".to_owned()
        } else {
            let mut roll = rng.random_range(0..role_total.max(1));
            roles
                .iter()
                .find(|(_, w)| {
                    if roll < *w {
                        true
                    } else {
                        roll -= w;
                        false
                    }
                })
                .map_or("Administrator", |(name, _)| name)
                .to_owned()
        };
        let status = match rng.random_range(0..100) {
            0..=4 => "Disabled",
            5..=8 => "Expired",
            9..=12 => "Pending Activation",
            _ => "Active",
        };
        let created = anchor - rng.random_range(86_400 * 10..86_400 * 1500);
        out.push(Admin {
            admin_id: model::random_id(&mut rng, "DE"),
            name: format!("{first} {last}"),
            email,
            phone: rng.random_bool(0.7).then(|| {
                let mut p = String::from("+1");
                for _ in 0..10 {
                    p.push(char::from(b'0' + rng.random_range(0..10u8)));
                }
                p
            }),
            role,
            status,
            last_login: (status != "Pending Activation").then(|| recent_login(&mut rng, created, anchor)),
            // Duo reports no `created` for admins made before October 2021.
            created: (created >= 1_633_046_400).then_some(created),
            password_change_required: rng.random_range(0..20) == 0,
            admin_units: Vec::new(),
            external_password_mgmt: false,
        });
    }
    out
}

fn admin_status(s: &str) -> &'static str {
    crate::scenario::ADMIN_STATUSES
        .into_iter()
        .find(|known| *known == s)
        .unwrap_or("Active")
}

fn render_settings(scenario: &Scenario) -> Vec<u8> {
    let settings = serde_json::json!({
        "caller_id": "+15555550100",
        "fraud_email": format!("security@{}", scenario.tenant.email_domain),
        "fraud_email_enabled": true,
        "helpdesk_bypass": "allow",
        "helpdesk_bypass_expiration": 0,
        "helpdesk_can_send_enroll_email": false,
        "helpdesk_message": "",
        "inactive_user_expiration": 0,
        "keypress_confirm": "#",
        "keypress_fraud": "0",
        "language": "EN",
        "lockout_expire_duration": null,
        "lockout_threshold": 10,
        "minimum_password_length": 12,
        "name": scenario.tenant.name,
        "password_requires_lower_alpha": false,
        "password_requires_numeric": false,
        "password_requires_special": false,
        "password_requires_upper_alpha": false,
        "security_checkup_enabled": true,
        "sms_batch": 1,
        "sms_expiration": null,
        "sms_message": "",
        "sms_refresh": 0,
        "telephony_warning_min": 0,
        "timezone": "UTC",
        "user_managers_can_put_users_in_bypass": true,
        "user_telephony_cost_max": 20,
    });
    // serde_json's default map is ordered by key, like Duo's bodies.
    serde_json::to_vec(&settings).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_time_matches_known_dates() {
        assert_eq!(model::iso_time(0), "1970-01-01T00:00:00");
        assert_eq!(model::iso_time(1_767_225_600), "2026-01-01T00:00:00");
        assert_eq!(model::iso_time(951_782_400 + 3661), "2000-02-29T01:01:01");
    }

    #[test]
    fn email_local_parts_are_clean() {
        assert_eq!(email_local("Jöhn Smith+x"), "jöhn.smith.x");
        assert_eq!(email_local("smith, anna"), "smith.anna");
        assert_eq!(email_local("!!!"), "user");
    }
}
