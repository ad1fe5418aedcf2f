//! The secret key never shows: not in Debug output of the client or its errors, not in failures.

use crate::support::{scenario, spawn, sync};

#[tokio::test]
async fn the_skey_is_in_no_debug_output_and_no_failure() {
    let fake = spawn(&scenario("catalogue/d02-wrong-secret-key.toml")).await;
    let config = fake.config();
    let skey = fake.skey();
    let client = duo_connector::client::Client::new(&config).unwrap();
    let error = sync(&config).await.unwrap_err();
    let failure = error.failure().unwrap().clone();
    let document = String::from_utf8(duo_connector::contract::error_document(&failure)).unwrap();
    for shown in [
        format!("{config:?}"),
        format!("{config:#?}"),
        format!("{client:?}"),
        format!("{error:?}"),
        format!("{error}"),
        document,
    ] {
        assert!(!shown.contains(&skey), "the skey leaked: {shown}");
    }
    assert!(
        format!("{config:?}").contains(&config.ikey),
        "Debug still shows what is not secret"
    );
}
