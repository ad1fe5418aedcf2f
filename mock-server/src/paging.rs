//! Offset paging exactly as Duo does it (§3.0): `limit`/`offset` validation and the `metadata`
//! object with `total_objects`, `next_offset` only when more remain, `prev_offset` only past the
//! first page.

use crate::api_error::ApiError;
use crate::model::write_int;
use crate::params::Params;
use crate::scenario::{MetadataMode, ZeroLimit};

/// Default page size of every list endpoint.
pub const DEFAULT_LIMIT: usize = 100;

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Index of the first object.
    pub offset: usize,
    /// Objects per page, already clamped to the endpoint's maximum.
    pub limit: usize,
}

impl PageRequest {
    /// Reads `limit` and `offset`: absent means the default; a value that is not a non-negative
    /// decimal integer is 400 40002 naming the parameter; a limit over `max` is clamped.
    pub fn from_params(params: &Params, max: usize, zero: ZeroLimit) -> Result<Self, ApiError> {
        let limit = match params.first("limit") {
            None => DEFAULT_LIMIT.min(max),
            Some(raw) => match parse_count(raw).ok_or_else(|| ApiError::invalid_parameter("limit"))? {
                0 if zero == ZeroLimit::Reject => return Err(ApiError::invalid_parameter("limit")),
                0 => DEFAULT_LIMIT.min(max),
                n => n.min(max),
            },
        };
        let offset = match params.first("offset") {
            None => 0,
            Some(raw) => parse_count(raw).ok_or_else(|| ApiError::invalid_parameter("offset"))?,
        };
        Ok(Self { offset, limit })
    }

    /// The index range this page covers in a list of `total` objects.
    pub fn range(self, total: usize) -> std::ops::Range<usize> {
        let start = self.offset.min(total);
        start..self.offset.saturating_add(self.limit).min(total)
    }

    /// The `metadata` object for this page of `total` objects, or `None` when Duo sends none.
    pub fn metadata(self, total: usize, mode: MetadataMode) -> Option<String> {
        let mut out = Vec::with_capacity(64);
        self.write_metadata(total, mode, &mut out)
            .then(|| String::from_utf8_lossy(&out).into_owned())
    }

    /// Writes [`PageRequest::metadata`] to `out` (no intermediate strings: it is written on every
    /// page); false, writing nothing, when Duo sends none.
    pub fn write_metadata(self, total: usize, mode: MetadataMode, out: &mut Vec<u8>) -> bool {
        let single_page = self.offset == 0 && total <= self.limit;
        if single_page && mode == MetadataMode::OmitOnSinglePage {
            return false;
        }
        let end = self.offset.saturating_add(self.limit);
        let next = (end < total).then_some(end);
        let prev = (self.offset > 0).then(|| self.offset.saturating_sub(self.limit));
        out.push(b'{');
        let mut field = |name: &[u8], value: Option<usize>| match (value, mode) {
            (Some(v), _) => {
                out.extend_from_slice(name);
                write_int(out, i64::try_from(v).unwrap_or(i64::MAX));
                out.push(b',');
            }
            (None, MetadataMode::AlwaysWithNulls) => {
                out.extend_from_slice(name);
                out.extend_from_slice(b"null,");
            }
            (None, _) => {}
        };
        field(b"\"next_offset\":", next);
        field(b"\"prev_offset\":", prev);
        out.extend_from_slice(b"\"total_objects\":");
        write_int(out, i64::try_from(total).unwrap_or(i64::MAX));
        out.push(b'}');
        true
    }
}

/// A non-negative decimal integer, digits only (no sign, spaces or exponent), that fits usize.
fn parse_count(raw: &[u8]) -> Option<usize> {
    if raw.is_empty() || raw.len() > 18 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(raw).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn page(offset: usize, limit: usize) -> PageRequest {
        PageRequest { offset, limit }
    }

    #[test]
    fn metadata_matches_duos_captured_shapes() {
        // SGNL's capture: 10 users, limit 4.
        let m = MetadataMode::OmitOnSinglePage;
        assert_eq!(
            page(0, 4).metadata(10, m).as_deref(),
            Some(r#"{"next_offset":4,"total_objects":10}"#)
        );
        assert_eq!(
            page(4, 4).metadata(10, m).as_deref(),
            Some(r#"{"next_offset":8,"prev_offset":0,"total_objects":10}"#)
        );
        assert_eq!(
            page(8, 4).metadata(10, m).as_deref(),
            Some(r#"{"prev_offset":4,"total_objects":10}"#)
        );
        assert_eq!(page(0, 100).metadata(2, m), None);
        assert_eq!(
            page(0, 100).metadata(2, MetadataMode::Always).as_deref(),
            Some(r#"{"total_objects":2}"#)
        );
        assert_eq!(
            page(0, 100).metadata(2, MetadataMode::AlwaysWithNulls).as_deref(),
            Some(r#"{"next_offset":null,"prev_offset":null,"total_objects":2}"#)
        );
    }

    #[test]
    fn limits_and_offsets_are_validated_and_clamped() {
        let parse = |q: &str| PageRequest::from_params(&Params::parse(q.as_bytes()), 300, ZeroLimit::Default);
        assert_eq!(parse(""), Ok(page(0, 100)));
        assert_eq!(parse("limit=1000&offset=5"), Ok(page(5, 300)));
        assert_eq!(parse("limit=0"), Ok(page(0, 100)));
        for bad in [
            "limit=-1",
            "limit=ten",
            "limit=",
            "limit=1e3",
            "limit=+5",
            "offset=-3",
            "offset=99999999999999999999",
        ] {
            let err = parse(bad).expect_err(bad);
            assert_eq!(err.code, 40002);
            assert_eq!(
                err.detail.as_deref(),
                Some(bad.split('=').next().unwrap_or_default())
            );
        }
        let strict = PageRequest::from_params(&Params::parse(b"limit=0"), 300, ZeroLimit::Reject);
        assert_eq!(strict.map_err(|e| e.detail), Err(Some("limit".to_owned())));
    }

    proptest! {
        /// Following next_offset from 0 visits every object exactly once, in order, for any
        /// total and limit, and stops exactly when next_offset is absent.
        #[test]
        fn following_next_offset_covers_everything_once(total in 0usize..2000, limit in 1usize..400) {
            let mut seen = Vec::new();
            let mut offset = 0;
            let mut pages = 0;
            loop {
                let p = page(offset, limit);
                seen.extend(p.range(total));
                pages += 1;
                let meta = p.metadata(total, MetadataMode::Always).unwrap_or_default();
                let value: serde_json::Value = serde_json::from_str(&meta).expect("valid metadata");
                prop_assert_eq!(value["total_objects"].as_u64(), Some(total as u64));
                match value.get("next_offset").and_then(serde_json::Value::as_u64) {
                    Some(next) => { prop_assert!(next as usize > offset); offset = next as usize; }
                    None => break,
                }
            }
            prop_assert_eq!(seen, (0..total).collect::<Vec<_>>());
            prop_assert_eq!(pages, total.div_ceil(limit).max(1));
        }
    }

    /// The same walk through the list endpoints themselves (signed requests to the app, routing,
    /// the page renderer and the endpoint's cap on `limit`), for tenants of any size.
    mod through_the_endpoints {
        use axum::http::Request;
        use serde_json::Value;
        use tower::ServiceExt as _;

        use super::*;
        use crate::state::AppState;

        const MODES: [&str; 3] = ["omit-on-single-page", "always", "always-with-nulls"];

        /// Every object's id, in API order, following `next_offset` from 0 with `limit`, giving
        /// up after one page per object (and one more): past that, paging does not advance.
        async fn walk(state: &AppState, path: &str, limit: usize, id: &str, total: usize) -> Vec<String> {
            let world = state.world();
            let integration = &world.scenario.integrations[0];
            let key = duo_auth::SigningKey::new(integration.skey.as_bytes());
            let app = crate::routes::app(state.clone());
            let mut ids = Vec::new();
            let mut offset = 0usize;
            for _ in 0..=total + 1 {
                let query = format!("limit={limit}&offset={offset}");
                let date = duo_auth::date::format_date(state.now());
                let params = duo_auth::params::parse_urlencoded(query.as_bytes());
                let parts = duo_auth::SignedParts {
                    date: &date,
                    method: "GET",
                    host: world.api_hostname(),
                    path,
                    params: &params,
                    body: b"",
                    duo_headers: &[],
                };
                let signature = duo_auth::sign(&key, duo_auth::Scheme::V5, &parts);
                let request = Request::get(format!("{path}?{query}"))
                    .header("Date", &date)
                    .header(
                        "Authorization",
                        duo_auth::authorization_header(&integration.ikey, &signature),
                    )
                    .body(axum::body::Body::empty())
                    .expect("request");
                let response = app.clone().oneshot(request).await.expect("infallible");
                assert_eq!(response.status(), 200, "{path}?{query}");
                let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                    .await
                    .expect("body");
                let page: Value = serde_json::from_slice(&body).expect("JSON page");
                for object in page["response"].as_array().expect("a list") {
                    ids.push(object[id].as_str().expect("an id").to_owned());
                }
                match page["metadata"]["next_offset"].as_u64() {
                    Some(next) => {
                        let next = usize::try_from(next).expect("fits");
                        assert!(next > offset, "next_offset {next} does not advance past {offset}");
                        offset = next;
                    }
                    None => return ids,
                }
            }
            panic!("{path}: more pages than objects with limit {limit}");
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(24))]

            /// For any tenant size, `limit` (0 and past the endpoint's cap included) and metadata
            /// shape, the pages of every list of the tenant (users, groups, admins and their
            /// extras, integrations, administrative units, policies) hold every object exactly
            /// once, in the tenant's order.
            #[test]
            fn pages_cover_every_object_exactly_once(
                users in 0u32..=320,
                groups in 0u32..=120,
                admins in 0u32..=40,
                integrations in 1usize..=12,
                units in 0usize..=12,
                policies in 0usize..=12,
                limit in prop_oneof![Just(0usize), 1usize..=12, 1usize..=350],
                mode in 0usize..3,
            ) {
                let mut builder = crate::Scenario::builder()
                    .users(users)
                    .groups(groups)
                    .admins(admins)
                    .toml(&format!("[options]\nmetadata = \"{}\"\n", MODES[mode]));
                for i in 0..integrations {
                    builder = builder.integration(&format!("app-{i}"), &crate::grants::Grant::ALL);
                }
                for i in 0..units {
                    builder = builder.toml(&format!("[[admin_units]]\nname = \"unit-{i}\"\n"));
                }
                for i in 0..policies {
                    // An application has at most one policy: the later ones apply to none.
                    let applies = if i < integrations { format!("\"app-{i}\"") } else { String::new() };
                    builder = builder.toml(&format!(
                        "[[policies]]\nname = \"policy-{i}\"\nintegrations = [{applies}]\n"
                    ));
                }
                let scenario = builder.build().expect("scenario");
                let state = AppState::from_scenario(&scenario).expect("tenant");
                let mut dumped = Vec::new();
                crate::dump::write_dump(&state.world().tenant, &[], &mut dumped).expect("dump");
                let dumped: Value = serde_json::from_slice(&dumped).expect("dump JSON");
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                for (path, list, id) in [
                    ("/admin/v1/users", "users", "user_id"),
                    ("/admin/v1/groups", "groups", "group_id"),
                    ("/admin/v1/admins", "admins", "admin_id"),
                    ("/admin/v1/admins/password_mgmt", "password_mgmt", "admin_id"),
                    ("/admin/v1/admins/activations", "activations", "admin_activation_id"),
                    ("/admin/v3/integrations", "integration_objects", "integration_key"),
                    ("/admin/v2/integrations", "integration_objects", "integration_key"),
                    ("/admin/v1/integrations", "integration_objects", "integration_key"),
                    ("/admin/v1/administrative_units", "admin_units", "admin_unit_id"),
                    ("/admin/v2/policies", "policies", "policy_key"),
                ] {
                    let expected: Vec<String> = dumped[list]
                        .as_array()
                        .expect("list")
                        .iter()
                        .map(|o| o[id].as_str().expect("id").to_owned())
                        .collect();
                    let walked = runtime.block_on(walk(&state, path, limit, id, expected.len()));
                    prop_assert_eq!(walked, expected, "{} with limit {}", path, limit);
                }
            }
        }
    }
}
