//! The request journal: what was asked, by whom, how it was answered; never a secret.

use crate::support::{Body, Call, V2_SHA1, scenario, spawn};

#[tokio::test]
async fn every_answer_is_journaled_with_caller_status_and_code() {
    let s = spawn(&scenario("default.toml")).await;
    s.get("/admin/v1/users", "limit=300&offset=0").await.ok();
    let wrong = Call {
        skey: Some("x".repeat(40)),
        ..Call::get("/admin/v1/users", "limit=10")
    };
    s.send(wrong)
        .await
        .assert_fail(40103, "Invalid signature in request credentials");
    s.send(Call::get("/admin/v1/admins", "").signed_by("no-admins"))
        .await
        .assert_fail(40301, "Access forbidden");
    s.unsigned("GET", "/nowhere")
        .await
        .assert_fail(40401, "Resource not found");

    let journal = s.server.state().journal().entries();
    assert_eq!(journal.len(), 4);
    let row = |i: usize| &journal[i];
    assert_eq!(
        (
            row(0).path.as_str(),
            row(0).query.as_str(),
            row(0).status,
            row(0).duo_code
        ),
        ("/admin/v1/users", "limit=300&offset=0", 200, None)
    );
    assert_eq!(row(0).integration.as_deref(), Some("access-review"));
    assert_eq!(row(0).signature, Some("v5"));
    assert_eq!((row(1).status, row(1).duo_code), (401, Some(40103)));
    assert_eq!(
        row(1).integration.as_deref(),
        Some("access-review"),
        "known ikey, bad signature"
    );
    assert_eq!(row(1).signature, None);
    assert_eq!((row(2).status, row(2).duo_code), (403, Some(40301)));
    assert_eq!(row(2).integration.as_deref(), Some("no-admins"));
    assert_eq!((row(3).status, row(3).integration.as_deref()), (404, None));
    assert!(
        journal
            .windows(2)
            .all(|w| w[0].seq < w[1].seq && w[0].unix_ms <= w[1].unix_ms)
    );
    assert!(
        journal
            .iter()
            .all(|e| e.peer.as_deref().is_some_and(|p| p.starts_with("127.0.0.1:")))
    );

    let text = serde_json::to_string(&journal).expect("JSON");
    for integration in &s.server.info().integrations {
        assert!(!text.contains(&integration.skey));
    }
    assert!(!text.contains("Basic "), "no Authorization header");
}

/// A tenant whose admins list is answered by a fault rule before Duo would see it.
fn faulted() -> mock_server::Scenario {
    mock_server::Scenario::builder()
        .users(3)
        .admins(2)
        .toml(
            "[[faults]]\nname = \"outage\"\npath = \"/admin/v1/admins\"\nduo_error = 50000\n\n\
             [[faults]]\nname = \"waf\"\npath = \"/admin/v1/info/summary\"\nintermediary = \"cloudflare-403\"\n",
        )
        .build()
        .expect("builds")
}

#[tokio::test]
async fn a_request_a_fault_answered_still_names_who_signed_and_whether_it_held() {
    let s = spawn(&faulted()).await;
    s.get("/admin/v1/admins", "")
        .await
        .assert_fail(50000, "Internal server error");
    let wrong = Call {
        skey: Some("x".repeat(40)),
        ..Call::get("/admin/v1/info/summary", "")
    };
    assert_eq!(s.send(wrong).await.status, 403, "the WAF's page");
    s.send(Call::get("/admin/v1/admins", "").scheme(V2_SHA1)).await;

    let journal = s.server.state().journal().entries();
    let ikey = s.server.info().integrations[0].ikey.clone();
    let signed = &journal[0];
    assert_eq!(signed.fault.as_deref(), Some("outage"));
    assert_eq!(signed.integration.as_deref(), Some("main"));
    assert_eq!(signed.ikey.as_deref(), Some(ikey.as_str()));
    assert_eq!(
        (signed.signature, signed.signature_valid, signed.auth_error),
        (Some("v5"), Some(true), None)
    );
    assert_eq!(signed.signature_hex.as_ref().map(String::len), Some(128));

    let refused = &journal[1];
    assert_eq!((refused.status, refused.fault.as_deref()), (403, Some("waf")));
    assert_eq!(
        refused.integration.as_deref(),
        Some("main"),
        "known ikey, wrong key"
    );
    assert_eq!(
        (refused.signature, refused.signature_valid, refused.auth_error),
        (None, Some(false), Some(40103)),
        "what Duo would have answered, had the WAF let it through"
    );
    assert!(refused.response_body.contains("cloudflare") || refused.response_body.contains("Cloudflare"));
    assert_eq!(
        refused.response_headers.get("server").map(String::as_str),
        Some("cloudflare")
    );

    assert_eq!(
        (journal[2].signature, journal[2].signature_valid),
        (Some("v2-sha1"), Some(true))
    );
    assert_eq!(journal[2].signature_hex.as_ref().map(String::len), Some(40));
}

#[tokio::test]
async fn entries_keep_both_sides_headers_and_bounded_bodies() {
    let s = spawn(&scenario("read-write.toml")).await;
    s.server.state().journal().set_body_limit(64);
    let page = s.get("/admin/v1/users", "limit=3").await;
    page.ok();
    let create = Call {
        method: "POST",
        body: Some(Body::Json(
            r#"{"username":"journal.probe","realname":"Journal Probe"}"#.to_owned(),
        )),
        headers: vec![
            ("X-Custom".to_owned(), "kept".to_owned()),
            ("Cookie".to_owned(), "session=abc".to_owned()),
            (
                "Proxy-Authorization".to_owned(),
                "Basic cHJveHk6c2VjcmV0".to_owned(),
            ),
        ],
        ..Call::get("/admin/v1/users", "")
    };
    s.send(create).await.ok();

    let journal = s.server.state().journal().entries();
    let read = &journal[0];
    assert_eq!(
        read.response_body,
        page.raw[..64],
        "the first 64 bytes of the answer"
    );
    assert_eq!(read.response_body_bytes, Some(page.raw.len() as u64));
    assert_eq!(
        read.response_headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert!(
        read.request_headers.contains_key("date"),
        "{:?}",
        read.request_headers
    );
    assert!(read.request_headers.contains_key("host"));
    assert!(!read.request_headers.contains_key("authorization"));
    assert_eq!(
        (read.request_body.as_deref(), read.request_body_bytes),
        (None, None)
    );

    let write = &journal[1];
    let sent = r#"{"username":"journal.probe","realname":"Journal Probe"}"#;
    assert_eq!(
        write.request_body.as_deref(),
        Some(sent),
        "shorter than the limit: whole"
    );
    assert_eq!(write.request_body_bytes, Some(sent.len() as u64));
    assert_eq!(write.request_headers["x-custom"], "kept");
    assert_eq!(write.request_headers["cookie"], "<redacted>");
    assert_eq!(write.request_headers["proxy-authorization"], "<redacted>");
    assert!(
        write.response_body.starts_with(r#"{"response":{"#),
        "{}",
        write.response_body
    );
    let text = serde_json::to_string(&journal).expect("JSON");
    assert!(!text.contains("cHJveHk6c2VjcmV0") && !text.contains("session=abc"));

    s.server.state().journal().set_body_limit(0);
    s.get("/admin/v1/users", "limit=1").await.ok();
    let bare = s.server.state().journal().entries().pop().expect("entry");
    assert_eq!(bare.response_body, "");
    assert!(bare.response_body_bytes.is_some_and(|n| n > 0));
}

#[tokio::test]
async fn a_secret_sent_in_place_of_a_signature_is_never_journaled() {
    // A skey that looks like a SHA-1 signature: 40 hex digits.
    let skey = "0123456789abcdef0123456789abcdef01234567";
    let scenario = mock_server::Scenario::builder()
        .users(1)
        .integration_with_keys(
            "hexy",
            "DIHEXYHEXYHEXYHEXY01",
            skey,
            &[mock_server::grants::Grant::ReadResource],
        )
        .toml("[[faults]]\npath = \"/admin/v1/groups\"\nduo_error = 50300\n")
        .build()
        .expect("builds");
    let s = spawn(&scenario).await;
    for path in ["/admin/v1/users", "/admin/v1/groups", "/admin/v1/phones"] {
        let leaked = Call {
            authorization: Some(duo_auth::authorization_header("DIHEXYHEXYHEXYHEXY01", skey)),
            ..Call::get(path, "")
        };
        s.send(leaked).await;
        let upper = Call {
            authorization: Some(duo_auth::authorization_header(
                "DIHEXYHEXYHEXYHEXY01",
                &skey.to_uppercase(),
            )),
            ..Call::get(path, "")
        };
        s.send(upper).await;
    }
    let journal = s.server.state().journal().entries();
    assert_eq!(journal.len(), 6);
    for entry in &journal {
        assert_eq!(entry.ikey.as_deref(), Some("DIHEXYHEXYHEXYHEXY01"));
        assert_eq!(entry.signature_hex, None, "{entry:?}");
    }
    let text = serde_json::to_string(&journal).expect("JSON").to_lowercase();
    assert!(!text.contains(skey), "{text}");
}
