//! Reading a whole offset-paged list: largest page, follow `next_offset`, stop when it is absent or
//! null, refuse one that does not advance, and check the result against `total_objects`.
//!
//! Objects are kept as raw JSON, slices of the pages they came in; only the id is parsed out of
//! each. A page is read once ([`crate::list_page`]) for its validity, its items, their ids and its
//! metadata, which is most of why a sync costs little more than downloading the pages.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use crate::client::Client;
use crate::error::{Error, ErrorKind, Failure};
use crate::list_page::ListPage;
use crate::snapshot::RawObject;

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
    pub objects: Vec<RawObject>,
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

/// A page's envelope, with the items borrowed: how serde_json reads a page that the one-pass
/// reader left to it.
#[derive(Deserialize)]
struct PageEnvelope<'a> {
    #[serde(borrow)]
    response: Vec<&'a RawValue>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize, Default, Debug, PartialEq, Eq)]
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
            .get_list_page(
                &endpoint.path,
                &[("limit", &limit), ("offset", &offset_text)],
                endpoint.id_field.name(),
            )
            .await?;
        items.pages += 1;
        let (count, metadata) = match &answer.page {
            Some(page) => take_read_page(&mut items, endpoint, &answer.body, page)?,
            None => take_page(&mut items, endpoint, &answer.body)?,
        };
        on_page(count);
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

/// Adds the items of a page the one-pass reader read (the usual case): each object a slice of
/// the body, no copy. The count of items and the page's metadata.
fn take_read_page(
    items: &mut ListItems,
    endpoint: &ListEndpoint,
    body: &Bytes,
    page: &ListPage,
) -> Result<(usize, Metadata), Error> {
    items.ids.reserve(page.items.len());
    items.objects.reserve(page.items.len());
    for item in &page.items {
        let id = item
            .id
            .clone()
            .and_then(|value| body.get(value))
            .and_then(|value| std::str::from_utf8(value).ok())
            .and_then(crate::scan::string_value);
        items.ids.push(usable_id(endpoint, id)?);
        items.objects.push(RawObject::slice_of(body, item.object.clone()));
    }
    let metadata = Metadata {
        total_objects: page.total_objects,
        next_offset: page.next_offset,
    };
    Ok((page.items.len(), metadata))
}

/// Adds the items of a page the one-pass reader left to serde_json (something unusual in it):
/// validated, copied and scanned as before, so it is accepted, refused and worded as before.
fn take_page(
    items: &mut ListItems,
    endpoint: &ListEndpoint,
    body: &[u8],
) -> Result<(usize, Metadata), Error> {
    let page: PageEnvelope<'_> = serde_json::from_slice(body).map_err(|e| {
        protocol(
            &endpoint.path,
            format!("a page of {} is not a Duo list answer: {e}", endpoint.path),
        )
    })?;
    for raw in &page.response {
        let id = crate::scan::top_level_string(raw.get(), endpoint.id_field.name());
        items.ids.push(usable_id(endpoint, id)?);
        items.objects.push(RawObject::from((*raw).to_owned()));
    }
    Ok((page.response.len(), page.metadata.unwrap_or_default()))
}

/// An object's id, or the `protocol` failure for an object without one.
fn usable_id(endpoint: &ListEndpoint, id: Option<Cow<'_, str>>) -> Result<String, Error> {
    id.filter(|id| !id.is_empty())
        .map(Cow::into_owned)
        .ok_or_else(|| {
            protocol(
                &endpoint.path,
                format!(
                    "an object of {} has no {}",
                    endpoint.path,
                    endpoint.id_field.name()
                ),
            )
        })
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
    use proptest::prelude::*;

    use super::*;
    use crate::classify::{Answer, Verdict, classify_answer};
    use crate::list_page::read_list_page;
    use crate::list_page::tests::{json_text, mutated};

    fn fields_text(fields: &[(String, String)]) -> String {
        let fields: Vec<String> = fields.iter().map(|(k, v)| format!("{k}:{v}")).collect();
        format!("{{{}}}", fields.join(","))
    }

    /// A list item: mostly an object with an id somewhere among its fields (a plain, escaped,
    /// empty or non-string id, or a key that only decodes to `user_id`), sometimes any value.
    fn item() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            Just(r#""user_id""#.to_owned()),
            Just(r#""user\u005fid""#.to_owned()),
            "\"[a-z_]{1,8}\"",
        ];
        let id = prop_oneof![
            4 => "\"DU[A-Z0-9]{1,6}\"",
            1 => Just(r#""""#.to_owned()),
            1 => Just(r#""DU\u00e9\"x""#.to_owned()),
            1 => Just(r#""\ud800""#.to_owned()),
            1 => Just("null".to_owned()),
            1 => Just("7".to_owned()),
        ];
        let object = (
            prop::collection::vec((key, json_text()), 0..4),
            prop::option::of(id),
            any::<usize>(),
        )
            .prop_map(|(mut fields, id, at)| {
                if let Some(id) = id {
                    let at = at % (fields.len() + 1);
                    fields.insert(at, (r#""user_id""#.to_owned(), id));
                }
                fields_text(&fields)
            });
        prop_oneof![6 => object, 1 => json_text()]
    }

    /// `total_objects` or `next_offset`, as Duo writes it or as it should not.
    fn offset_value() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "0|[1-9][0-9]{0,20}",
            1 => Just("null".to_owned()),
            1 => "\" ?\\+?[0-9]{1,4} ?\"",
            1 => prop::sample::select(vec![r#""x""#, "-1", "-0", "1.5", "1e3", "[1]", r#""1\u0030""#])
                .prop_map(str::to_owned),
        ]
    }

    fn metadata() -> impl Strategy<Value = String> {
        let object = (
            prop::option::of(offset_value()),
            prop::option::of(offset_value()),
            prop::option::of(offset_value()),
            any::<bool>(),
        )
            .prop_map(|(total, next, repeated, prev)| {
                let mut fields = Vec::new();
                for (key, value) in [
                    ("total_objects", total),
                    ("next_offset", next),
                    ("next_offset", repeated),
                ] {
                    if let Some(value) = value {
                        fields.push((format!("\"{key}\""), value));
                    }
                }
                if prev {
                    fields.push((r#""prev_offset""#.to_owned(), "null".to_owned()));
                }
                fields_text(&fields)
            });
        prop_oneof![6 => object, 1 => Just("null".to_owned()), 1 => json_text()]
    }

    /// A list answer: Duo's usual envelope in any order, with the odd stat, response, message,
    /// repeated or extra field.
    fn page_body() -> impl Strategy<Value = String> {
        let stat = prop::sample::select(vec![
            r#""OK""#,
            r#""OK""#,
            r#""OK""#,
            r#""OK""#,
            r#""FAIL""#,
            r#""\u004fK""#,
            "null",
        ]);
        let response = prop_oneof![
            8 => prop::collection::vec(item(), 0..6).prop_map(|items| format!("[{}]", items.join(","))),
            1 => json_text(),
        ];
        let message = prop::sample::select(vec![r#""fine""#, r#""a\nb""#, r#""\ud800""#, "null", "5"]);
        (
            stat,
            response,
            prop::option::of(metadata()),
            prop::option::of(message),
            prop::option::of(("\"[a-z_]{1,14}\"", json_text())),
            any::<bool>(),
        )
            .prop_flat_map(|(stat, response, metadata, message, extra, repeat)| {
                let mut fields = vec![
                    (r#""stat""#.to_owned(), stat.to_owned()),
                    (r#""response""#.to_owned(), response),
                ];
                if let Some(metadata) = metadata {
                    fields.push((r#""metadata""#.to_owned(), metadata));
                }
                if let Some(message) = message {
                    fields.push((r#""message""#.to_owned(), message.to_owned()));
                }
                fields.extend(extra);
                if repeat {
                    fields.push(fields[0].clone());
                }
                Just(fields)
                    .prop_shuffle()
                    .prop_map(|fields: Vec<(String, String)>| fields_text(&fields))
            })
    }

    /// Whenever the one-pass reader vouches for a body, the classifier calls it Duo's success and
    /// the page comes out exactly as serde_json's reading gives it: ids, objects byte for byte,
    /// metadata, or the same error. `false` when the reader left the body to serde_json.
    fn one_pass_agrees(bytes: &[u8]) -> bool {
        let Some(page) = read_list_page(bytes, "user_id") else {
            return false;
        };
        let answer = Answer {
            endpoint: "/admin/v1/users",
            status: 200,
            content_type: Some("application/json"),
            server: None,
            retry_after: None,
            server_date: None,
            local_now: 0,
            body: bytes,
        };
        assert!(matches!(classify_answer(&answer), Verdict::Success));
        let body = Bytes::copy_from_slice(bytes);
        let endpoint = ListEndpoint::users();
        let (mut fast, mut slow) = (ListItems::default(), ListItems::default());
        let one_pass = take_read_page(&mut fast, &endpoint, &body, &page);
        let serde = take_page(&mut slow, &endpoint, &body);
        match (one_pass, serde) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}")),
            (a, b) => panic!("one pass: {a:?}, serde_json: {b:?}"),
        }
        assert_eq!(fast.ids, slow.ids);
        assert_eq!(fast.objects, slow.objects);
        true
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]

        #[test]
        fn the_one_pass_read_agrees_with_serde_json(
            body in page_body(),
            edits in prop::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 0..3),
            cut in prop::option::of(any::<usize>()),
        ) {
            let bytes = mutated(body.into_bytes(), edits, cut);
            one_pass_agrees(&bytes);
        }

        /// Plain pages, as Duo sends them, are read in one pass, not left to serde_json.
        #[test]
        fn plain_pages_are_read_in_one_pass(
            ids in prop::collection::vec("DU[A-Z0-9]{1,18}", 0..8),
            fields in prop::collection::vec(("\"[a-z_]{1,8}\"", json_text()), 0..4),
            next in prop::option::of(0u64..1_000_000),
            pretty in any::<bool>(),
        ) {
            let items: Vec<String> = ids
                .iter()
                .map(|id| {
                    let mut item = fields.clone();
                    item.push((r#""user_id""#.to_owned(), format!("\"{id}\"")));
                    fields_text(&item)
                })
                .collect();
            let next = next.map_or("null".to_owned(), |n| n.to_string());
            let separator = if pretty { ",\n  " } else { "," };
            let body = format!(
                r#"{{"metadata":{{"next_offset":{next},"total_objects":{}}},"response":[{}],"stat":"OK"}}"#,
                ids.len(),
                items.join(separator)
            );
            prop_assert!(one_pass_agrees(body.as_bytes()), "{}", body);
        }
    }

    #[test]
    fn duplicates_are_found_wherever_they_are() {
        let ids = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(first_duplicate(&ids(&["DU1", "DU2", "DU3"])), None);
        assert_eq!(first_duplicate(&ids(&["DU3", "DU1", "DU2", "DU3"])), Some("DU3"));
        assert_eq!(first_duplicate(&ids(&[])), None);
    }
}
