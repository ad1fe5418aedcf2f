//! What the fake serves: the route table (`routes::catalogue`) against the router and against
//! `docs/endpoints.md`; what it answers for everything else (Duo's 404 or 405, marked as the
//! fake's own with `X-Duo-Mock-Not-Implemented`).

use mock_server::routes::NOT_IMPLEMENTED_HEADER;
use mock_server::routes::catalogue::ROUTES;

use crate::support::{Call, TestServer, root, scenario, spawn};

/// A concrete path for a table pattern: each `{…}` segment an id no tenant has.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "DXNOSUCHOBJECT000001"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Sends `method path`, signed by read-write.toml's integration that holds every grant the
/// table names; returns the status, the Duo code and the not-implemented header.
async fn ask(s: &TestServer, method: &'static str, path: &str) -> (u16, Option<u64>, Option<String>) {
    let call = Call {
        method,
        ..Call::get(path, "")
    };
    let answer = s.send(call).await;
    let header = answer.headers.get(NOT_IMPLEMENTED_HEADER).cloned();
    (answer.status, answer.json["code"].as_u64(), header)
}

#[test]
fn docs_endpoints_md_is_the_tables_output() {
    let path = root().join("docs/endpoints.md");
    let checked_in = std::fs::read_to_string(&path).expect("docs/endpoints.md");
    assert!(
        checked_in == mock_server::routes::catalogue::markdown(),
        "docs/endpoints.md is stale: run `cargo run -p mock-server -- endpoints > docs/endpoints.md`"
    );
}

#[tokio::test]
async fn every_route_of_the_table_is_served_and_no_other_method_of_its_paths() {
    let s = spawn(&scenario("read-write.toml")).await;
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
    for route in ROUTES {
        let path = concrete(route.path);
        let (status, code, header) = ask(&s, route.method, &path).await;
        assert_eq!(
            header, None,
            "{} {} is in the table but answered {status} {code:?} as not implemented",
            route.method, route.path
        );
        assert_ne!(status, 405, "{} {}", route.method, route.path);
        for method in methods {
            let served = ROUTES.iter().any(|r| r.path == route.path && r.method == method);
            if served {
                continue;
            }
            let (status, code, header) = ask(&s, method, &path).await;
            assert_eq!(
                (status, code),
                (405, Some(40501)),
                "{method} {}: not in the table",
                route.path
            );
            assert_eq!(header, Some(format!("{method} {path}")));
        }
    }
}

#[tokio::test]
async fn a_path_the_fake_does_not_serve_is_duos_404_marked_as_the_fakes() {
    let s = spawn(&scenario("read-write.toml")).await;
    for path in [
        "/admin/v1/branding",
        "/admin/v1/users/DU0000000000000000001/devices",
        "/admin/v2/groups",
        "/admin/v1/groups/DG00000000000000001/users",
        "/admin/v3/logs/authentication",
        "/nowhere",
    ] {
        let answer = s.get(path, "").await;
        answer.assert_fail(40401, "Resource not found");
        assert_eq!(
            answer.headers.get(NOT_IMPLEMENTED_HEADER).map(String::as_str),
            Some(format!("GET {path}").as_str()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn every_signed_route_refuses_an_integration_without_the_grant_the_table_names() {
    // default.toml's integrations, each without some grant.
    const INTEGRATIONS: [&str; 3] = ["access-review", "no-admins", "no-read-resource"];
    let s = spawn(&scenario("default.toml")).await;
    let info = s.server.info();
    let mut checked = 0;
    for route in ROUTES {
        let Some(grant) = route.grant else { continue };
        let lacking = INTEGRATIONS.into_iter().find(|name| {
            info.integration(name)
                .is_some_and(|i| !i.grants.contains(&grant.name()))
        });
        let Some(lacking) = lacking else { continue };
        let call = Call {
            method: route.method,
            ..Call::get(&concrete(route.path), "")
        };
        s.send(call.signed_by(lacking))
            .await
            .assert_fail(40301, "Access forbidden");
        checked += 1;
    }
    assert!(
        checked >= 15,
        "default.toml lacks a grant for too few routes: {checked}"
    );
}

#[tokio::test]
async fn the_journal_names_who_signed_a_request_no_route_serves() {
    let s = spawn(&scenario("read-write.toml")).await;
    s.get("/admin/v1/branding", "number=1").await;
    let entry = s.server.state().journal().entries().pop().expect("journaled");
    assert_eq!(entry.status, 404);
    assert_eq!(entry.integration.as_deref(), Some("access-review"));
    assert_eq!((entry.signature, entry.signature_valid), (Some("v5"), Some(true)));
    assert_eq!(
        entry
            .response_headers
            .get(NOT_IMPLEMENTED_HEADER)
            .map(String::as_str),
        Some("GET /admin/v1/branding")
    );
}

#[test]
fn every_log_endpoint_is_a_row_of_the_table() {
    for endpoint in mock_server::routes::logs::ENDPOINTS {
        assert!(
            ROUTES
                .iter()
                .any(|r| r.method == "GET" && r.path == endpoint.path && r.grant.is_some()),
            "{} is served but not in routes::catalogue",
            endpoint.path
        );
    }
}
