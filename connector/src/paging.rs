//! Reading a whole offset-paged list: largest page, follow `next_offset`, stop when it is absent or
//! null, refuse one that does not advance, and check the result against `total_objects`.
//!
//! Objects are kept as raw JSON; only the id is parsed out of each (borrowed, skipping the rest),
//! which is most of why a sync costs little more than downloading the pages.

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use crate::client::Client;
use crate::error::{Error, ErrorKind, Failure};

/// One list endpoint.
#[derive(Debug, Clone)]
pub struct ListEndpoint {
    /// Path (`/admin/v1/users`).
    pub path: String,
    /// Page size asked for: the largest the endpoint allows.
    pub limit: u32,
    /// The field that identifies an object (`user_id`).
    pub id_field: IdField,
}

/// Which field identifies an object of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdField {
    /// `user_id` (users, group members).
    User,
    /// `admin_id`.
    Admin,
    /// `group_id`.
    Group,
}

impl IdField {
    fn name(self) -> &'static str {
        match self {
            Self::User => "user_id",
            Self::Admin => "admin_id",
            Self::Group => "group_id",
        }
    }
}

impl ListEndpoint {
    /// `GET /admin/v1/users`: at most 300 a page (Duo's documented maximum).
    pub fn users() -> Self {
        Self::new("/admin/v1/users".into(), 300, IdField::User)
    }

    /// `GET /admin/v1/admins`: 300 a page (Duo documents no maximum; a larger limit would be clamped).
    pub fn admins() -> Self {
        Self::new("/admin/v1/admins".into(), 300, IdField::Admin)
    }

    /// `GET /admin/v1/groups`: 100 a page (the smaller of the two maxima Duo's docs give).
    pub fn groups() -> Self {
        Self::new("/admin/v1/groups".into(), 100, IdField::Group)
    }

    /// `GET /admin/v2/groups/{id}/users`: 500 a page.
    pub fn group_members(group_id: &str) -> Self {
        let id = duo_auth::params::encode(group_id.as_bytes());
        Self::new(format!("/admin/v2/groups/{id}/users"), 500, IdField::User)
    }

    fn new(path: String, limit: u32, id_field: IdField) -> Self {
        Self {
            path,
            limit,
            id_field,
        }
    }
}

/// A list as read: each object once, with its id.
#[derive(Debug, Default)]
pub struct ListItems {
    /// Objects, raw, in Duo's order (each once when the read is consistent).
    pub objects: Vec<Box<RawValue>>,
    /// Their ids, same order.
    pub ids: Vec<String>,
    /// Pages requested.
    pub pages: u32,
}

/// What a read of a list found wrong with the tenant's consistency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inconsistency {
    /// `total_objects` changed from one page to the next.
    TotalChanged {
        /// Before.
        from: u64,
        /// After.
        to: u64,
    },
    /// The same id came on two pages (objects shifted back under the offsets).
    Duplicate(String),
    /// The count read differs from `total_objects` (objects shifted forward and were skipped).
    CountMismatch {
        /// Unique objects read.
        read: usize,
        /// What the last page said.
        total: u64,
    },
}

impl std::fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TotalChanged { from, to } => {
                write!(f, "total_objects went from {from} to {to} between pages")
            }
            Self::Duplicate(id) => write!(f, "{id} came on two pages"),
            Self::CountMismatch { read, total } => {
                write!(f, "{read} objects were read but total_objects says {total}")
            }
        }
    }
}

/// A page's envelope, with the items borrowed.
#[derive(Deserialize)]
struct ListPage<'a> {
    #[serde(borrow)]
    response: Vec<&'a RawValue>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default, deserialize_with = "lenient_number")]
    total_objects: Option<u64>,
    #[serde(default, deserialize_with = "lenient_number")]
    next_offset: Option<u64>,
}

/// A number, a numeric string (Duo's Go client accepts both), or null.
fn lenient_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lenient<'a> {
        Number(u64),
        Text(&'a str),
        Null(()),
    }
    match Option::<Lenient<'_>>::deserialize(deserializer)? {
        None | Some(Lenient::Null(())) => Ok(None),
        Some(Lenient::Number(n)) => Ok(Some(n)),
        Some(Lenient::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{t:?} is not an offset"))),
    }
}

/// Reads every page of `endpoint` once. `on_page(items)` is called after each page.
///
/// Returns the objects with an [`Inconsistency`] if the tenant visibly changed during the read;
/// the caller decides whether to read again.
pub async fn read_once(
    client: &Client,
    endpoint: &ListEndpoint,
    on_page: &(dyn Fn(usize) + Send + Sync),
) -> Result<(ListItems, Option<Inconsistency>), Error> {
    let limit = endpoint.limit.to_string();
    let mut items = ListItems::default();
    let mut offset: u64 = 0;
    let mut total: Option<u64> = None;
    let mut inconsistency = None;
    loop {
        let offset_text = offset.to_string();
        let answer = client
            .get(&endpoint.path, &[("limit", &limit), ("offset", &offset_text)])
            .await?;
        items.pages += 1;
        let page: ListPage<'_> = serde_json::from_slice(&answer.body).map_err(|e| {
            protocol(
                &endpoint.path,
                format!("a page of {} is not a Duo list answer: {e}", endpoint.path),
            )
        })?;
        let metadata = page.metadata.unwrap_or_default();
        for raw in &page.response {
            let id = crate::scan::top_level_string(raw.get(), endpoint.id_field.name())
                .filter(|id| !id.is_empty())
                .ok_or_else(|| {
                    protocol(
                        &endpoint.path,
                        format!(
                            "an object of {} has no {}",
                            endpoint.path,
                            endpoint.id_field.name()
                        ),
                    )
                })?;
            items.ids.push(id.into_owned());
            items.objects.push((*raw).to_owned());
        }
        on_page(page.response.len());
        match (total, metadata.total_objects) {
            (Some(from), Some(to)) if from != to => {
                inconsistency.get_or_insert(Inconsistency::TotalChanged { from, to });
            }
            _ => {}
        }
        total = metadata.total_objects.or(total);
        match metadata.next_offset {
            None => break,
            Some(next) if next <= offset => {
                return Err(protocol(
                    &endpoint.path,
                    format!(
                        "{} answered next_offset {next} to a request at offset {offset}: the offset does \
                         not advance, so following it would loop forever",
                        endpoint.path
                    ),
                ));
            }
            Some(next) => offset = next,
        }
    }
    // A duplicate means objects shifted back under the offsets; the read is then discarded (read
    // again, or tenant_changed), so it is only detected here, not removed.
    if let Some(id) = first_duplicate(&items.ids) {
        inconsistency.get_or_insert(Inconsistency::Duplicate(id.to_owned()));
    }
    if let Some(total) = total
        && usize::try_from(total).ok() != Some(items.objects.len())
    {
        inconsistency.get_or_insert(Inconsistency::CountMismatch {
            read: items.objects.len(),
            total,
        });
    }
    Ok((items, inconsistency))
}

/// An id that occurs twice, if any. Sorting borrowed ids costs less than hashing every one into a
/// set as it arrives, and duplicates are rare.
fn first_duplicate(ids: &[String]) -> Option<&str> {
    let mut sorted: Vec<&str> = ids.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted
        .windows(2)
        .find(|pair| pair[0] == pair[1])
        .map(|pair| pair[0])
}

/// Reads `endpoint` until a read is consistent, at most `1 + rereads` times.
pub async fn read_consistent(
    client: &Client,
    endpoint: &ListEndpoint,
    rereads: u32,
    on_page: &(dyn Fn(usize) + Send + Sync),
) -> Result<ListItems, Error> {
    let mut attempt = 0;
    loop {
        let (items, inconsistency) = read_once(client, endpoint, on_page).await?;
        let Some(inconsistency) = inconsistency else {
            return Ok(items);
        };
        if attempt >= rereads {
            return Err(tenant_changed(&endpoint.path, attempt + 1, &inconsistency));
        }
        attempt += 1;
        tracing::warn!(path = endpoint.path, %inconsistency, "the tenant changed during the read; reading again");
    }
}

/// The `tenant_changed` failure.
pub fn tenant_changed(path: &str, reads: u32, what: &dyn std::fmt::Display) -> Error {
    Failure::new(
        ErrorKind::TenantChanged,
        format!(
            "The tenant changed during the sync and {reads} read(s) of {path} did not agree ({what}). \
             Users or groups were being added or removed while the sync ran; run it again when the \
             directory is quiet. Nothing was written, so no partial or duplicated list is kept."
        ),
    )
    .at(path)
    .into()
}

fn protocol(path: &str, message: String) -> Error {
    Failure::new(ErrorKind::Protocol, message).at(path).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_found_wherever_they_are() {
        let ids = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(first_duplicate(&ids(&["DU1", "DU2", "DU3"])), None);
        assert_eq!(first_duplicate(&ids(&["DU3", "DU1", "DU2", "DU3"])), Some("DU3"));
        assert_eq!(first_duplicate(&ids(&[])), None);
    }
}
