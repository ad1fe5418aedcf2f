//! Write endpoints: the tenant changes for the life of the server, through v5 JSON and v2 form
//! bodies, behind Grant write resource.

use mock_server::Scenario;
use mock_server::grants::Grant;
use serde_json::Value;

use crate::support::{Body, Call, V2_SHA512, spawn};

fn writable() -> Scenario {
    Scenario::builder()
        .users(4)
        .groups(2)
        .integration("writer", &[Grant::ReadResource, Grant::WriteResource])
        .integration("reader", &[Grant::ReadResource])
        .build()
        .expect("builds")
}

fn post(path: &str, body: Body) -> Call {
    Call {
        method: "POST",
        body: Some(body),
        ..Call::get(path, "")
    }
}

fn delete(path: &str) -> Call {
    Call {
        method: "DELETE",
        ..Call::get(path, "")
    }
}

#[tokio::test]
async fn users_are_created_modified_and_deleted() {
    let s = spawn(&writable()).await;
    let created = s
        .send(post(
            "/admin/v1/users",
            Body::Json(r#"{"username":"jsmith","realname":"Joe Smith","alias1":"joe"}"#.into()),
        ))
        .await;
    let user = created.ok().clone();
    assert_eq!(
        (user["username"].as_str(), user["realname"].as_str()),
        (Some("jsmith"), Some("Joe Smith"))
    );
    assert_eq!(user["aliases"]["alias1"], "joe");
    let id = user["user_id"].as_str().expect("id").to_owned();
    assert!(mock_server::model::is_duo_id(&id, "DU"));
    assert_eq!(s.get(&format!("/admin/v1/users/{id}"), "").await.ok(), &user);
    assert_eq!(
        s.get("/admin/v1/users", "username=joe").await.ok()[0]["user_id"],
        id.as_str()
    );

    // v2 with a form body, as the Go and Node clients send it.
    let modified = s
        .send(
            post(
                &format!("/admin/v1/users/{id}"),
                Body::Form("status=disabled&realname=Joseph+Smith".into()),
            )
            .scheme(V2_SHA512),
        )
        .await;
    assert_eq!(modified.ok()["status"], "disabled");
    assert_eq!(modified.ok()["realname"], "Joseph Smith");
    assert_eq!(s.get_all("/admin/v1/users", 300).await.len(), 5);

    let gone = s.send(delete(&format!("/admin/v1/users/{id}"))).await;
    assert_eq!(gone.ok(), &Value::from(""));
    s.get(&format!("/admin/v1/users/{id}"), "")
        .await
        .assert_fail(40401, "Resource not found");
    assert_eq!(s.get_all("/admin/v1/users", 300).await.len(), 4);
}

#[tokio::test]
async fn memberships_and_groups_change_everywhere_they_show() {
    let s = spawn(&writable()).await;
    let user_id = s.get("/admin/v1/users", "limit=1").await.ok()[0]["user_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let group = s
        .send(post(
            "/admin/v1/groups",
            Body::Json(r#"{"name":"Auditors","desc":"Q4 review"}"#.into()),
        ))
        .await
        .ok()
        .clone();
    let group_id = group["group_id"].as_str().expect("id").to_owned();
    assert_eq!(group["name"], "Auditors");
    s.send(post(
        &format!("/admin/v1/users/{user_id}/groups"),
        Body::Json(format!(r#"{{"group_id":"{group_id}"}}"#)),
    ))
    .await
    .ok();
    let members = s
        .get_all(&format!("/admin/v2/groups/{group_id}/users"), 500)
        .await;
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["user_id"], user_id.as_str());
    let user = s
        .get(&format!("/admin/v1/users/{user_id}"), "")
        .await
        .ok()
        .clone();
    assert!(user["groups"].as_array().expect("groups").contains(&group));

    s.send(delete(&format!("/admin/v1/users/{user_id}/groups/{group_id}")))
        .await
        .ok();
    assert!(
        s.get_all(&format!("/admin/v2/groups/{group_id}/users"), 500)
            .await
            .is_empty()
    );
    s.send(post(
        &format!("/admin/v1/users/{user_id}/groups"),
        Body::Json(format!(r#"{{"group_id":"{group_id}"}}"#)),
    ))
    .await
    .ok();
    s.send(delete(&format!("/admin/v1/groups/{group_id}"))).await.ok();
    s.get(&format!("/admin/v2/groups/{group_id}"), "")
        .await
        .assert_fail(40401, "Resource not found");
    let user = s
        .get(&format!("/admin/v1/users/{user_id}"), "")
        .await
        .ok()
        .clone();
    assert!(
        !user["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .any(|g| g["group_id"] == group_id.as_str())
    );
}

#[tokio::test]
async fn writes_need_the_write_grant_and_valid_parameters() {
    let s = spawn(&writable()).await;
    s.send(post("/admin/v1/users", Body::Json(r#"{"username":"x"}"#.into())).signed_by("reader"))
        .await
        .assert_fail(40301, "Access forbidden");
    let missing = s
        .send(post(
            "/admin/v1/users",
            Body::Json(r#"{"realname":"No Name"}"#.into()),
        ))
        .await;
    missing.assert_fail(40002, "Invalid request parameters");
    assert_eq!(missing.json["message_detail"], "username");
    s.send(post(
        "/admin/v1/users",
        Body::Json(r#"{"username":"dup"}"#.into()),
    ))
    .await
    .ok();
    s.send(post(
        "/admin/v1/users",
        Body::Json(r#"{"username":"dup"}"#.into()),
    ))
    .await
    .assert_fail(40002, "Invalid request parameters");
    s.send(delete("/admin/v1/users/DUXXXXXXXXXXXXXXXXXX"))
        .await
        .assert_fail(40401, "Resource not found");
    // A reset returns to the scenario.
    let info = s.server.info().clone();
    let reset = s
        .http
        .post(format!("{}/reset", info.control_url))
        .header("X-Duo-Mock-Token", &info.control_token)
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), 200);
    assert_eq!(
        s.get("/admin/v1/users", "username=dup").await.ok(),
        &Value::Array(vec![])
    );
}
