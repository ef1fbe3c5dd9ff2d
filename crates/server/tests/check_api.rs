//! `/api/check`, `/api/check/batch`, service tokens, freshness, roles, grants and history.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use common::Api;
use serde_json::json;

const BUFFER: &str = "buffer";

fn buffer_item() -> serde_json::Value {
    json!({"dataset": "eprint", "status": BUFFER})
}

#[tokio::test]
async fn a_user_checks_themselves_and_needs_check_any_for_others() {
    let api = Api::new().await;
    api.user("ed@example.org", "editor").await;
    api.user("dep@example.org", "user").await;
    let ed = api.login("ed@example.org").await;
    let r = api
        .post(
            "/api/check",
            &ed,
            json!({"privilege": "eprint/edit", "item": buffer_item()}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (r.body["allowed"].as_bool(), r.body["mask"].as_u64()),
        (Some(true), Some(8))
    );
    assert_eq!(r.body["editor"], true);
    assert!(r.body["reasons"][0]["source"]
        .as_str()
        .unwrap()
        .contains("role `editor`"));
    let other = api
        .post(
            "/api/check",
            &ed,
            json!({"user": "dep@example.org", "privilege": "eprint/edit"}),
        )
        .await;
    assert_eq!(other.expect(StatusCode::FORBIDDEN).code(), "forbidden");
    // Anyone may ask about anonymous.
    let anon = api
        .call(
            Method::POST,
            "/api/check",
            None,
            Some(json!({"privilege": "eprint/archive/view"})),
        )
        .await;
    assert_eq!(anon.expect(StatusCode::OK).body["mask"], 1);
    let anon2 = api
        .post(
            "/api/check",
            &ed,
            json!({"anonymous": true, "privilege": "eprint/edit", "item": buffer_item()}),
        )
        .await;
    assert_eq!(anon2.expect(StatusCode::OK).body["allowed"], false);
}

#[tokio::test]
async fn service_tokens_ask_about_anyone_and_can_be_revoked() {
    let api = Api::new().await;
    let admin = api.admin().await;
    let dep = api.user("dep@example.org", "user").await;
    let r = api
        .post(
            "/api/tokens",
            &admin,
            json!({"name": "eprints-app", "privileges": ["check/any"]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let token = r.body["token"].as_str().unwrap().to_owned();
    let owned = json!({"dataset": "eprint", "status": "inbox", "owners": [dep]});
    let d = api
        .post(
            "/api/check",
            &token,
            json!({"user": dep, "privilege": "eprint/edit", "item": owned}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(d.body["mask"], 4);
    let d = api
        .post(
            "/api/check",
            &token,
            json!({"user": "dep@example.org", "privilege": "eprint/edit", "item": buffer_item()}),
        )
        .await;
    assert_eq!(d.expect(StatusCode::OK).body["allowed"], false);
    let list = api.get("/api/tokens", &admin).await.expect(StatusCode::OK);
    assert_eq!(list.body[0]["name"], "eprints-app");
    assert!(list.body[0].get("token").is_none(), "never listed");
    let dup = api
        .post(
            "/api/tokens",
            &admin,
            json!({"name": "eprints-app", "privileges": ["check/any"]}),
        )
        .await;
    assert_eq!(dup.expect(StatusCode::CONFLICT).code(), "conflict");
    // A token without check/any may not ask about users.
    let weak = api
        .post(
            "/api/tokens",
            &admin,
            json!({"name": "weak", "privileges": ["something"]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let weak = weak.body["token"].as_str().unwrap().to_owned();
    api.post("/api/check", &weak, json!({"user": dep, "privilege": "x"}))
        .await
        .expect(StatusCode::FORBIDDEN);
    api.call(
        Method::DELETE,
        "/api/tokens/eprints-app",
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    api.post("/api/check", &token, json!({"user": dep, "privilege": "x"}))
        .await
        .expect(StatusCode::UNAUTHORIZED);
    api.call(
        Method::DELETE,
        "/api/tokens/eprints-app",
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    // Only config/edit may create tokens.
    let dep_token = api.login("dep@example.org").await;
    api.post(
        "/api/tokens",
        &dep_token,
        json!({"name": "mine", "privileges": ["check/any"]}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn batch_checks_answer_in_order_and_isolate_errors() {
    let api = Api::new().await;
    api.user("ed@example.org", "editor").await;
    let ed = api.login("ed@example.org").await;
    let r = api
        .post(
            "/api/check/batch",
            &ed,
            json!({"checks": [
                {"privilege": "eprint/edit", "item": buffer_item()},
                {"privilege": "config/edit"},
                {"privilege": "bad priv"},
                {"user": "nobody@example.org", "privilege": "x"},
                {"privilege": "eprint/view", "item": {"dataset": "e/p"}}
            ]}),
        )
        .await
        .expect(StatusCode::OK);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(results[0]["allowed"], true);
    assert_eq!(results[1]["allowed"], false);
    assert_eq!(results[2]["error"]["code"], "invalid");
    assert_eq!(results[3]["error"]["code"], "not_found");
    assert_eq!(results[4]["error"]["code"], "invalid");
    let many: Vec<_> = (0..1001).map(|_| json!({"privilege": "x"})).collect();
    api.post("/api/check/batch", &ed, json!({"checks": many}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn role_changes_are_seen_by_the_very_next_check_without_logging_in_again() {
    let api = Api::new().await;
    let admin = api.admin().await;
    api.user("u@example.org", "user").await;
    let user = api.login("u@example.org").await;
    let ask = |privilege: &'static str| json!({"privilege": privilege, "item": buffer_item()});
    assert_eq!(
        api.post("/api/check", &user, ask("eprint/move_archive"))
            .await
            .body["allowed"],
        false
    );
    api.post("/api/roles", &admin, json!({"name": "approve-hat", "privileges": ["eprint/buffer/view:editor", "eprint/buffer/move_archive:editor"]}))
        .await
        .expect(StatusCode::CREATED);
    api.post(
        "/api/users/u@example.org/entries",
        &admin,
        json!({"entry": "approve-hat"}),
    )
    .await
    .expect(StatusCode::OK);
    let d = api
        .post("/api/check", &user, ask("eprint/move_archive"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(d.body["mask"], 8, "the same token sees the new role");
    api.call(
        Method::DELETE,
        "/api/users/u@example.org/entries",
        Some(&admin),
        Some(json!({"entry": "approve-hat"})),
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(
        api.post("/api/check", &user, ask("eprint/move_archive"))
            .await
            .body["allowed"],
        false
    );
}

#[tokio::test]
async fn a_deny_is_seen_by_the_very_next_check() {
    let api = Api::new().await;
    let admin = api.admin().await;
    api.user("ed@example.org", "editor").await;
    let ed = api.login("ed@example.org").await;
    let ask = json!({"privilege": "eprint/edit", "item": buffer_item()});
    assert_eq!(
        api.post("/api/check", &ed, ask.clone()).await.body["allowed"],
        true
    );
    api.post("/api/grants", &admin, json!({"effect": "deny", "privilege": "eprint/edit", "target": {"kind": "user", "name": "ed@example.org"}}))
        .await
        .expect(StatusCode::OK);
    let d = api
        .post("/api/check", &ed, ask.clone())
        .await
        .expect(StatusCode::OK);
    assert_eq!(d.body["allowed"], false);
    assert!(
        d.text
            .contains("removed by a deny of `eprint/edit` to the user"),
        "{}",
        d.text
    );
    api.call(Method::DELETE, "/api/grants", Some(&admin), Some(json!({"privilege": "eprint/edit", "target": {"kind": "user", "name": "ed@example.org"}})))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        api.post("/api/check", &ed, ask.clone()).await.body["allowed"],
        true
    );
    // A deny on a role the user holds, through its type.
    api.post("/api/grants", &admin, json!({"effect": "deny", "privilege": "eprint/edit", "target": {"kind": "role", "name": "editor"}}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        api.post("/api/check", &ed, ask).await.body["allowed"],
        false
    );
}

#[tokio::test]
async fn roles_and_grants_endpoints() {
    let api = Api::new().await;
    let admin = api.admin().await;
    let roles = api.get("/api/roles", &admin).await.expect(StatusCode::OK);
    assert!(roles
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "deposit"));
    let r = api
        .get("/api/roles/editor", &admin)
        .await
        .expect(StatusCode::OK);
    assert!(r.body["origin"].as_str().unwrap().starts_with("built in"));
    api.get("/api/roles/nosuch", &admin)
        .await
        .expect(StatusCode::NOT_FOUND);
    let exists = api
        .post("/api/roles", &admin, json!({"name": "admin"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(exists.body["outcome"], "exists");
    api.post(
        "/api/roles",
        &admin,
        json!({"name": "admin", "privileges": ["x"]}),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    api.post("/api/roles", &admin, json!({"name": "bad name"}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let g = json!({"effect": "allow", "privilege": "fancy", "target": {"kind": "system_role", "name": "authenticated_user"}});
    assert_eq!(
        api.post("/api/grants", &admin, g.clone())
            .await
            .expect(StatusCode::OK)
            .body["changed"],
        true
    );
    assert_eq!(
        api.post("/api/grants", &admin, g)
            .await
            .expect(StatusCode::OK)
            .body["changed"],
        false
    );
    let list = api.get("/api/grants", &admin).await.expect(StatusCode::OK);
    assert!(list
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["privilege"] == "fancy" && g["target_kind"] == "system_role"));
    let bad_kind = api
        .post(
            "/api/grants",
            &admin,
            json!({"effect": "allow", "privilege": "x", "target": {"kind": "group", "name": "y"}}),
        )
        .await;
    assert!(bad_kind
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .text
        .contains("target.kind"));
    api.post(
        "/api/grants",
        &admin,
        json!({"effect": "maybe", "privilege": "x", "target": {"kind": "role", "name": "admin"}}),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    api.post("/api/grants", &admin, json!({"effect": "allow", "privilege": "x", "target": {"kind": "user", "name": "ghost@example.org"}}))
        .await
        .expect(StatusCode::NOT_FOUND);
    // Without config/edit.
    api.user("plain@example.org", "user").await;
    let plain = api.login("plain@example.org").await;
    api.post("/api/roles", &plain, json!({"name": "mine"}))
        .await
        .expect(StatusCode::FORBIDDEN);
    api.get("/api/grants", &plain)
        .await
        .expect(StatusCode::FORBIDDEN);
    api.get("/api/roles", &plain)
        .await
        .expect(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn history_through_the_api() {
    let api = Api::new().await;
    let admin = api.admin().await;
    api.post("/api/users", &admin, json!({"email": "h@example.org", "password": "password-123", "confirm": true, "active": true}))
        .await
        .expect(StatusCode::CREATED);
    let h = api
        .get("/api/history?user=h@example.org", &admin)
        .await
        .expect(StatusCode::OK);
    let events = h.body.as_array().unwrap();
    assert_eq!(events[0]["action"], "user.create");
    assert_eq!(events[0]["channel"], "api");
    assert!(events[0]["actor"]
        .as_str()
        .unwrap()
        .contains("admin@example.org"));
    // A user sees their own history, not others'.
    let me = api.login("h@example.org").await;
    api.get("/api/history?user=h@example.org", &me)
        .await
        .expect(StatusCode::OK);
    api.get("/api/history?user=admin@example.org", &me)
        .await
        .expect(StatusCode::FORBIDDEN);
    api.get("/api/history", &me)
        .await
        .expect(StatusCode::FORBIDDEN);
    api.get("/api/history?since=yesterday", &admin)
        .await
        .expect(StatusCode::BAD_REQUEST);
}

/// A new policy file (what `serve` does on SIGHUP) changes the very next check of a user who
/// stays logged in; one that does not compile against the database's run-time roles is
/// refused, and the policy in force stays.
#[tokio::test]
async fn a_reloaded_policy_file_changes_the_next_check_and_a_bad_one_is_refused() {
    use gatehouse_policy::{PolicyConfig, RoleName};
    let api = Api::new().await;
    api.user("dep@example.org", "user").await;
    let dep = api.login("dep@example.org").await;
    let ask = json!({"privilege": "eprint/move_archive", "item": buffer_item()});
    let mask = |r: common::Resp| r.expect(StatusCode::OK).body["mask"].as_u64();
    assert_eq!(
        mask(api.post("/api/check", &dep, ask.clone()).await),
        Some(0)
    );

    let file = "roles:\n  approve-hat:\n    - eprint/buffer/view:editor\n    - eprint/buffer/move_archive:editor\n\
                user_roles:\n  user: [general, approve-hat]\n";
    let config = PolicyConfig::with_file(file, "app_data/user_roles.yaml").unwrap();
    api.gh().reload_config(config).await.unwrap();
    let r = api
        .post("/api/check", &dep, ask.clone())
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["mask"], 8, "{}", r.body);
    assert!(
        r.body["reasons"][0]["source"]
            .as_str()
            .unwrap()
            .contains("role `approve-hat` (app_data/user_roles.yaml"),
        "{}",
        r.body
    );

    // A run-time role, then a file that defines a role of the same name: refused.
    api.gh()
        .create_role(
            &common::operator(),
            RoleName::new("proofer").unwrap(),
            None,
            vec![],
        )
        .await
        .unwrap();
    let clash = "roles:\n  proofer:\n    - eprint/view\n";
    let clash = PolicyConfig::with_file(clash, "app_data/user_roles.yaml").unwrap();
    let err = api.gh().reload_config(clash).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("role `proofer` is already defined"),
        "{err}"
    );
    assert_eq!(
        mask(api.post("/api/check", &dep, ask).await),
        Some(8),
        "the previous policy stays in force"
    );
}

/// `POST /api/explain` (issue 15): the check's answer, the mask in words, and the walk with a
/// `-p` removal; authorized as `/api/check`; a status the dataset lacks is refused.
#[tokio::test]
async fn explain_shows_the_walk_and_refuses_an_unknown_status() {
    let api = Api::new().await;
    api.user("dep@example.org", "user").await;
    api.user("other@example.org", "user").await;
    api.gh()
        .add_entry(
            &common::operator(),
            &gatehouse_core::UserRef::Email("dep@example.org".into()),
            "-create_eprint".parse().unwrap(),
        )
        .await
        .unwrap();
    let dep = api.login("dep@example.org").await;
    let r = api
        .post("/api/explain", &dep, json!({"privilege": "create_eprint"}))
        .await
        .expect(StatusCode::OK);
    // The check's fields, as `/api/check` gives them.
    let check = api
        .post("/api/check", &dep, json!({"privilege": "create_eprint"}))
        .await
        .expect(StatusCode::OK);
    for field in [
        "allowed", "mask", "public", "user", "owner", "editor", "reasons",
    ] {
        assert_eq!(r.body[field], check.body[field], "{field}");
    }
    assert_eq!(
        r.body["mask_words"],
        json!(["0 = not allowed: no bit is set"])
    );
    let steps = r.body["steps"].as_array().unwrap();
    let kinds: Vec<&str> = steps.iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["added", "removed"]);
    assert_eq!(steps[1]["stage"], "own_entries");
    assert_eq!(steps[1]["held_after"], false);
    assert_eq!(
        steps[1]["source"],
        "`-create_eprint` in the user's own entry 1"
    );
    assert_eq!(r.body["reasons"][0]["kind"], "removed");

    // The mask in words, for each set bit.
    let r = api
        .post(
            "/api/explain",
            &dep,
            json!({"privilege": "eprint/view", "item": {"dataset": "eprint", "status": "archive"}}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["mask"], 1);
    assert_eq!(
        r.body["mask_words"],
        json!(["1 = public: anybody may do this, logged in or not"])
    );

    // Authorized as check: another user needs `check/any`.
    let other = api
        .post(
            "/api/explain",
            &dep,
            json!({"user": "other@example.org", "privilege": "create_eprint"}),
        )
        .await;
    assert_eq!(other.expect(StatusCode::FORBIDDEN).code(), "forbidden");

    // `limbo` is no status of `eprint`: 422 naming it and the valid ones.
    let limbo = api
        .post(
            "/api/explain",
            &dep,
            json!({"privilege": "eprint/view", "item": {"dataset": "eprint", "status": "limbo"}}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(limbo.text.contains(
        "status `limbo` is not a status of dataset `eprint`; use one of `inbox`, `buffer`, `archive`, `deletion`"
    ), "{}", limbo.text);
}
