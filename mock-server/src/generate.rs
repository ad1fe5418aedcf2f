//! Builds a [`Tenant`] from a [`Scenario`]: explicit records first, then generated ones.
//!
//! Determinism: every random choice comes from a ChaCha8 stream seeded by (scenario seed, what,
//! chunk index), and users are generated in fixed chunks of [`CHUNK_ITEMS`], so the bytes are the
//! same for any number of threads and on every machine.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use fake::Fake;
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::{AR_SA, DE_DE, EN, FR_FR, JA_JP, PT_BR, ZH_CN};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::Result;
use crate::model::{self, Admin, Group, Phone, RenderOptions, Token, User, WebAuthn};
use crate::scenario::Scenario;
use crate::store::{CHUNK_ITEMS, ChunkBuilder, JsonList, KeyIndex, Tenant, key_hash};

/// Independent random streams, so adding admins never changes the users.
#[derive(Clone, Copy)]
enum Stream {
    Groups = 1,
    ExplicitUsers = 2,
    Users = 3,
    Admins = 4,
    Ids = 5,
    Names = 6,
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
    let render = RenderOptions::of(&scenario.options);
    let groups = make_groups(scenario);
    let group_json: Vec<Vec<u8>> = groups
        .iter()
        .map(|g| {
            let mut out = Vec::with_capacity(200);
            model::render_group(g, render, &mut out);
            out
        })
        .collect();
    let group_index: HashMap<&str, u32> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.as_str(), index_u32(i)))
        .collect();

    let explicit = explicit_users(scenario, &group_index)?;
    let generated = scenario.generate.users as usize;
    let mut identities: Vec<Identity> = in_chunks(generated, threads, |range| {
        range.map(|k| identity(scenario, k)).collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    make_unique(scenario, &explicit, &mut identities);

    let weights = group_weights(groups.len(), scenario.generate.group_size_skew);
    let total = explicit.len() + generated;
    let rendered = in_chunks(total, threads, |range| {
        let mut out = RenderedChunk {
            users: ChunkBuilder::with_capacity(range.len(), 1400),
            ..RenderedChunk::default()
        };
        for i in range {
            let made;
            let user = match explicit.get(i) {
                Some(user) => user,
                None => {
                    made = make_user(
                        scenario,
                        &weights,
                        &identities[i - explicit.len()],
                        i - explicit.len(),
                    );
                    &made
                }
            };
            out.users
                .push(|buf| model::render_user(user, |g| group_json[g as usize].as_slice(), render, buf));
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
        user_ids: KeyIndex::with_capacity(total),
        user_names: KeyIndex::with_capacity(total),
        user_emails: KeyIndex::with_capacity(total),
        ..Tenant::default()
    };
    tenant.user_group_offsets.reserve(total + 1);
    tenant.user_group_offsets.push(0);
    let mut pending_deletion = 0u64;
    let mut user_chunks = Vec::with_capacity(rendered.len());
    for chunk in rendered {
        for (hash, i) in chunk.ids {
            tenant.user_ids.insert_hash(hash, i);
        }
        for (hash, i) in chunk.names {
            tenant.user_names.insert_hash(hash, i);
        }
        for (hash, i) in chunk.emails {
            tenant.user_emails.insert_hash(hash, i);
        }
        let mut end = tenant.user_group_list.len();
        for count in chunk.group_counts {
            end += count as usize;
            tenant.user_group_offsets.push(index_u32(end));
        }
        tenant.user_group_list.extend(chunk.group_list);
        pending_deletion += chunk.pending_deletion;
        user_chunks.push(chunk.users);
    }
    tenant.users = JsonList::from_chunks(user_chunks);

    // Members, in user order, need each member's id and username.
    let id_and_name = |i: usize| match explicit.get(i) {
        Some(u) => (u.user_id.as_str(), u.username.as_str()),
        None => {
            let who = &identities[i - explicit.len()];
            (who.user_id.as_str(), who.username.as_str())
        }
    };
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); groups.len()];
    for user in 0..total {
        for g in tenant.groups_of(user).unwrap_or_default() {
            members[*g as usize].push(index_u32(user));
        }
    }
    let per_thread = members.len().div_ceil(threads.max(1)).max(1);
    tenant.group_members = std::thread::scope(|scope| {
        let workers: Vec<_> = members
            .chunks(per_thread)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|m| {
                            JsonList::build(m, |i, out| {
                                let (id, name) = id_and_name(*i as usize);
                                model::render_member(id, name, out);
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    tenant.group_by_id = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.group_id.as_str().into(), index_u32(i)))
        .collect();
    tenant.group_ids = groups.iter().map(|g| g.group_id.as_str().into()).collect();
    tenant.groups = JsonList::build(&group_json, |g, out| out.extend_from_slice(g));

    let admins = make_admins(scenario);
    tenant.admin_by_id = admins
        .iter()
        .enumerate()
        .map(|(i, a)| (a.admin_id.as_str().into(), index_u32(i)))
        .collect();
    tenant.admins = JsonList::build(&admins, model::render_admin);

    let user_count = total as u64 - pending_deletion;
    tenant.summary = Bytes::from(format!(
        "{{\"admin_count\":{},\"integration_count\":{},\"telephony_credits_remaining\":{},\"user_count\":{user_count},\"user_pending_deletion_count\":{pending_deletion}}}",
        admins.len(),
        scenario.integrations.len(),
        scenario.tenant.telephony_credits_remaining,
    ));
    tenant.settings = Bytes::from(render_settings(scenario));
    Ok(tenant)
}

/// What one chunk of users leaves behind once rendered.
#[derive(Default)]
struct RenderedChunk {
    users: ChunkBuilder,
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
    let chunks = total.div_ceil(CHUNK_ITEMS);
    let threads = threads.clamp(1, chunks.max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if c >= chunks {
                            break done;
                        }
                        let start = c * CHUNK_ITEMS;
                        done.push((c, work(start..total.min(start + CHUNK_ITEMS))));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(c, _)| *c);
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
/// default) a few large groups and many small ones, more than 1 a steeper drop.
fn group_weights(count: usize, skew: f64) -> Vec<f64> {
    let mut total = 0.0;
    (0..count)
        .map(|i| {
            total += (i as f64 + 1.0).powf(-skew);
            total
        })
        .collect()
}

fn pick_groups(rng: &mut ChaCha8Rng, weights: &[f64], range: [u32; 2]) -> Vec<u32> {
    let Some(&total) = weights.last() else {
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

fn explicit_users(scenario: &Scenario, group_index: &HashMap<&str, u32>) -> Result<Vec<User>> {
    let mut rng = rng_for(scenario.tenant.seed, Stream::ExplicitUsers, 0);
    let reference = scenario.tenant.reference_time;
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
        let created = record.created.unwrap_or(reference - 86_400 * (400 + n as i64));
        let phones = record
            .phones
            .unwrap_or(u32::from(record.enrolled.unwrap_or(true)));
        let tokens = record.tokens.unwrap_or(0);
        let mut user = User {
            user_id: record
                .user_id
                .as_ref()
                .map_or_else(|| model::random_id(&mut rng, "DU"), |id| id.get_ref().clone()),
            realname: record
                .realname
                .clone()
                .or_else(|| match (&record.firstname, &record.lastname) {
                    (Some(f), Some(l)) => Some(format!("{f} {l}")),
                    _ => Some(username.clone()),
                }),
            firstname: record.firstname.clone(),
            lastname: record.lastname.clone(),
            email: record
                .email
                .clone()
                .unwrap_or_else(|| format!("{}@{}", email_local(&username), scenario.tenant.email_domain)),
            status: status_name(record.status.as_ref().map_or("active", |s| s.get_ref())),
            created,
            last_login: match record.last_login {
                Some(-1) => None,
                Some(t) => Some(t),
                None => Some(reference - 3600 * (n as i64 + 1)),
            },
            last_directory_sync: record.external_id.as_ref().map(|_| reference - 3600),
            external_id: record.external_id.clone(),
            notes: record.notes.clone().unwrap_or_default(),
            aliases: record.aliases.clone(),
            groups,
            phones: Vec::new(),
            tokens: Vec::new(),
            webauthn: Vec::new(),
            username,
        };
        if record.enrolled != Some(false) {
            for _ in 0..phones {
                user.phones.push(make_phone(&mut rng, reference));
            }
            for _ in 0..tokens {
                user.tokens.push(make_token(&mut rng));
            }
        }
        out.push(user);
    }
    Ok(out)
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
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The local part of an e-mail for a username: spaces and symbols become dots.
fn email_local(username: &str) -> String {
    let mut out = String::with_capacity(username.len());
    for c in username.chars() {
        if c.is_alphanumeric() || matches!(c, '.' | '_' | '-') {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('.') {
            out.push('.');
        }
    }
    let trimmed = out.trim_matches('.');
    if trimmed.is_empty() {
        "user".to_owned()
    } else {
        trimmed.to_owned()
    }
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
        format!("{fs}.{ls}")
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
fn make_user(scenario: &Scenario, weights: &[f64], who: &Identity, k: usize) -> User {
    let g = &scenario.generate;
    let reference = scenario.tenant.reference_time;
    let mut rng = rng_for(scenario.tenant.seed, Stream::Users, k as u64);
    let rng = &mut rng;
    let (first, last, unusual) = (who.first.clone(), who.last.clone(), who.unusual);
    let (fs, ls) = (slug(&first), slug(&last));
    let created = reference - rng.random_range(86_400 * 30..86_400 * 1500);
    let mix = g.user_status;
    let roll = rng.random_range(
        0..(mix.active + mix.bypass + mix.disabled + mix.locked_out + mix.pending_deletion).max(1),
    );
    let status = [
        ("active", mix.active),
        ("bypass", mix.bypass),
        ("disabled", mix.disabled),
        ("locked out", mix.locked_out),
        ("pending deletion", mix.pending_deletion),
    ]
    .iter()
    .scan(0, |acc, (name, w)| {
        *acc += w;
        Some((*name, *acc))
    })
    .find(|(_, upto)| roll < *upto)
    .map_or("active", |(name, _)| name);
    let last_login = (!chance(rng, g.never_logged_in)).then(|| rng.random_range(created..reference));
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
        realname: Some(format!("{first} {last}")),
        firstname: Some(first),
        lastname: Some(last),
        email: format!("{}@{}", email_local(&who.username), scenario.tenant.email_domain),
        status,
        created,
        last_login,
        last_directory_sync: synced.then(|| reference - rng.random_range(0..86_400)),
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
        username: who.username.clone(),
    };
    if chance(rng, g.enrolled) {
        if chance(rng, g.phones) {
            user.phones.push(make_phone(rng, reference));
        }
        if chance(rng, g.tokens) {
            user.tokens.push(make_token(rng));
        }
        if chance(rng, g.webauthn) {
            user.webauthn.push(make_webauthn(rng, created, reference));
        }
        if !user.is_enrolled() {
            user.phones.push(make_phone(rng, reference));
        }
    }
    user
}

const PLATFORMS: &[(&str, &[&str])] = &[
    ("Apple iOS", &["iPhone 15", "iPhone 14 Pro", "iPhone 13"]),
    ("Google Android", &["Pixel 8", "Galaxy S23", "Pixel 7a"]),
    ("Generic Smartphone", &["Generic Smartphone"]),
];

fn make_phone(rng: &mut ChaCha8Rng, reference: i64) -> Phone {
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
            model::iso_time(reference - rng.random_range(0..86_400 * 60))
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

fn make_webauthn(rng: &mut ChaCha8Rng, created: i64, reference: i64) -> WebAuthn {
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
        date_added: rng.random_range(created..reference.max(created + 1)),
    }
}

/// Gives repeated generated usernames a numeric suffix (`jane.doe2`) and repeated ids a fresh
/// one, in index order (sequential, so the result does not depend on threads). Written-out
/// records keep what they say. One pass over borrowed names; a counter per repeated name keeps
/// a name shared by thousands of users linear.
fn make_unique(scenario: &Scenario, explicit: &[User], generated: &mut [Identity]) {
    let mut renamed: Vec<(usize, Option<String>, Option<String>)> = Vec::new();
    {
        let total = explicit.len() + generated.len();
        let mut names: HashSet<&str> = HashSet::with_capacity(total);
        let mut ids: HashSet<&str> = HashSet::with_capacity(total);
        for user in explicit {
            names.insert(&user.username);
            ids.insert(&user.user_id);
        }
        let mut created_names: HashSet<String> = HashSet::new();
        let mut created_ids: HashSet<String> = HashSet::new();
        let mut next_suffix: HashMap<&str, u32> = HashMap::new();
        let mut id_rng = rng_for(scenario.tenant.seed, Stream::Ids, 0);
        for (k, who) in generated.iter().enumerate() {
            let name = who.username.as_str();
            let mut new_name = None;
            if !created_names.contains(name) && names.insert(name) {
                // First use of this name.
            } else {
                let n = next_suffix.entry(name).or_insert(2);
                loop {
                    let candidate = format!("{name}{n}");
                    *n += 1;
                    if !names.contains(candidate.as_str()) && created_names.insert(candidate.clone()) {
                        new_name = Some(candidate);
                        break;
                    }
                }
            }
            let mut new_id = None;
            if created_ids.contains(&who.user_id) || !ids.insert(&who.user_id) {
                loop {
                    let candidate = model::random_id(&mut id_rng, "DU");
                    if !ids.contains(candidate.as_str()) && created_ids.insert(candidate.clone()) {
                        new_id = Some(candidate);
                        break;
                    }
                }
            }
            if new_name.is_some() || new_id.is_some() {
                renamed.push((k, new_name, new_id));
            }
        }
    }
    for (k, name, id) in renamed {
        if let Some(name) = name {
            generated[k].username = name;
        }
        if let Some(id) = id {
            generated[k].user_id = id;
        }
    }
}

fn make_admins(scenario: &Scenario) -> Vec<Admin> {
    let mut rng = rng_for(scenario.tenant.seed, Stream::Admins, 0);
    let reference = scenario.tenant.reference_time;
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
                None => Some(reference - 7200),
            },
            created: Some(reference - 86_400 * 500),
            password_change_required: false,
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
        let created = reference - rng.random_range(86_400 * 10..86_400 * 1500);
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
            last_login: (status != "Pending Activation").then(|| rng.random_range(created..reference)),
            // Duo reports no `created` for admins made before October 2021.
            created: (created >= 1_633_046_400).then_some(created),
            password_change_required: rng.random_range(0..20) == 0,
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
