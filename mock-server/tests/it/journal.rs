//! The request journal: what was asked, by whom, how it was answered; never a secret.

use crate::support::{Call, scenario, spawn};

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
