//! `/api/users...` and the error shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use common::{Api, PASSWORD};
use serde_json::json;

#[tokio::test]
async fn create_read_update_delete() {
    let api = Api::new().await;
    let admin = api.admin().await;
    let r = api
        .post(
            "/api/users",
            &admin,
            json!({"email": "Ann@Example.org", "username": "ann", "full_name": "Ann", "affiliations": "CERN",
                   "random_password": true, "active": true, "confirm": true, "type": "editor", "roles": ["toolbox", "+x/y"]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let pw = r.body["generated_password"].as_str().unwrap().to_owned();
    assert_eq!(r.body["user"]["email"], "ann@example.org");
    assert_eq!(r.body["user"]["roles"], json!(["toolbox", "+x/y"]));
    assert_eq!(r.body["confirmation_sent"], false);
    assert!(!r.text.contains("argon2"), "never a hash in a response");
    api.call(
        Method::POST,
        "/api/login",
        None,
        Some(json!({"email": "ann@example.org", "password": pw})),
    )
    .await
    .expect(StatusCode::OK);
    let id = r.body["user"]["id"].as_i64().unwrap();
    let by_id = api
        .get(&format!("/api/users/{id}"), &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(by_id.body["username"], "ann");
    let p = api
        .call(
            Method::PATCH,
            "/api/users/ann@example.org",
            Some(&admin),
            Some(json!({"full_name": "Ann Smith"})),
        )
        .await;
    assert_eq!(
        p.expect(StatusCode::OK).body["user"]["full_name"],
        "Ann Smith"
    );
    let t = api
        .put(
            "/api/users/ann@example.org/type",
            &admin,
            json!({"type": "admin"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(t.body["user"]["type"], "admin");
    api.put(
        "/api/users/ann@example.org/type",
        &admin,
        json!({"type": "wizard"}),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let rr = api
        .put(
            "/api/users/ann@example.org/roles",
            &admin,
            json!({"roles": ["-x/y", "toolbox"]}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(rr.body["user"]["roles"], json!(["-x/y", "toolbox"]));
    let bad = api
        .put(
            "/api/users/ann@example.org/roles",
            &admin,
            json!({"roles": ["ok", "eprint/view"]}),
        )
        .await;
    assert!(bad
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .text
        .contains("roles[1]"));
    let sc = api
        .put(
            "/api/users/ann@example.org/scope",
            &admin,
            json!({"filters": ["divisions=law"]}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(sc.body["user"]["editorial_scope"], json!(["divisions=law"]));
    let bad = api
        .put(
            "/api/users/ann@example.org/scope",
            &admin,
            json!({"filters": ["nope"]}),
        )
        .await;
    assert!(bad
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .text
        .contains("filters[0]"));
    let de = api
        .post("/api/users/ann@example.org/deactivate", &admin, json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (
            de.body["changed"].as_bool(),
            de.body["user"]["active"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let de2 = api
        .post("/api/users/ann@example.org/deactivate", &admin, json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(de2.body["changed"], false);
    api.post("/api/users/ann@example.org/activate", &admin, json!({}))
        .await
        .expect(StatusCode::OK);
    api.post("/api/users/ann@example.org/confirm", &admin, json!({}))
        .await
        .expect(StatusCode::OK);
    let privs = api
        .get("/api/users/ann@example.org/privileges", &admin)
        .await
        .expect(StatusCode::OK);
    assert!(privs.body["privileges"].as_array().unwrap().len() > 190);
    api.call(
        Method::DELETE,
        "/api/users/ann@example.org",
        Some(&admin),
        None,
    )
    .await
    .expect(StatusCode::NO_CONTENT);
    api.get("/api/users/ann@example.org", &admin)
        .await
        .expect(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn create_errors() {
    let api = Api::new().await;
    let admin = api.admin().await;
    let dup = api
        .post("/api/users", &admin, json!({"email": "ADMIN@example.org"}))
        .await;
    assert_eq!(dup.expect(StatusCode::CONFLICT).code(), "conflict");
    let bad = api
        .post("/api/users", &admin, json!({"email": "nope"}))
        .await;
    assert!(bad
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .text
        .contains("invalid email `nope`"));
    let short = api
        .post(
            "/api/users",
            &admin,
            json!({"email": "s@example.org", "password": "short"}),
        )
        .await;
    assert!(short
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .text
        .contains("use 8 to 128"));
    api.post(
        "/api/users",
        &admin,
        json!({"email": "s@example.org", "password": PASSWORD, "random_password": true}),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
    api.post(
        "/api/users",
        &admin,
        json!({"email": "s@example.org", "roles": ["nosuch"]}),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn list_and_search_with_paging() {
    let api = Api::new().await;
    let admin = api.admin().await;
    for (e, n) in [
        ("a@example.org", "Alice Smith"),
        ("b@example.org", "Bob Smith"),
        ("c@example.org", "Carol Jones"),
    ] {
        api.post(
            "/api/users",
            &admin,
            json!({"email": e, "full_name": n, "active": true, "confirm": true}),
        )
        .await
        .expect(StatusCode::CREATED);
    }
    let all = api.get("/api/users", &admin).await.expect(StatusCode::OK);
    assert_eq!(all.body["total"], 4);
    let smith = api
        .get("/api/users?q=smith", &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(smith.body["total"], 2);
    let page = api
        .get("/api/users?q=smith&limit=1&offset=1", &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(page.body["users"][0]["email"], "b@example.org");
    assert_eq!(page.body["total"], 2);
    let admins = api
        .get("/api/users?type=admin", &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(admins.body["total"], 1);
    api.get("/api/users?colour=red", &admin)
        .await
        .expect(StatusCode::BAD_REQUEST);

    // Sorted: `sort=FIELD` ascending, `sort=-FIELD` descending; ties by id.
    let emails = |r: &common::Resp| -> Vec<String> {
        r.body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let by_name = api
        .get("/api/users?sort=-full_name&limit=3", &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        emails(&by_name),
        ["c@example.org", "b@example.org", "a@example.org"]
    );
    let first = api
        .get("/api/users?sort=-email&limit=1", &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(emails(&first), ["c@example.org"]);
    assert_eq!(first.body["total"], 4);
    let bad = api
        .get("/api/users?sort=colour", &admin)
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let message = bad.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`colour`") && message.contains("full_name"),
        "{message}"
    );
}

#[tokio::test]
async fn users_may_see_and_edit_their_own_record_but_not_others() {
    let api = Api::new().await;
    api.user("me@example.org", "user").await;
    api.user("you@example.org", "user").await;
    let me = api.login("me@example.org").await;
    api.get("/api/users/me@example.org", &me)
        .await
        .expect(StatusCode::OK);
    api.call(
        Method::PATCH,
        "/api/users/me@example.org",
        Some(&me),
        Some(json!({"affiliations": "Law"})),
    )
    .await
    .expect(StatusCode::OK);
    let no = api.get("/api/users/you@example.org", &me).await;
    assert_eq!(no.expect(StatusCode::FORBIDDEN).code(), "forbidden");
    api.call(
        Method::PATCH,
        "/api/users/you@example.org",
        Some(&me),
        Some(json!({"affiliations": "x"})),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    api.get("/api/users", &me)
        .await
        .expect(StatusCode::FORBIDDEN);
    api.get("/api/users?q=you", &me)
        .await
        .expect(StatusCode::FORBIDDEN);
    api.post("/api/users", &me, json!({"email": "z@example.org"}))
        .await
        .expect(StatusCode::FORBIDDEN);
    api.post("/api/users/you@example.org/deactivate", &me, json!({}))
        .await
        .expect(StatusCode::FORBIDDEN);
    api.put(
        "/api/users/me@example.org/type",
        &me,
        json!({"type": "admin"}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    api.post(
        "/api/users/me@example.org/entries",
        &me,
        json!({"entry": "+superuser-access"}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    api.put(
        "/api/users/you@example.org/password",
        &me,
        json!({"password": "hijacked-pw"}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    api.call(
        Method::DELETE,
        "/api/users/you@example.org",
        Some(&me),
        None,
    )
    .await
    .expect(StatusCode::FORBIDDEN);
    api.get("/api/users/you@example.org/privileges", &me)
        .await
        .expect(StatusCode::FORBIDDEN);
    // Anonymous callers are 401 on everything that needs a user.
    api.call(Method::GET, "/api/users", None, None)
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn one_error_shape_for_bad_bodies() {
    let api = Api::new().await;
    let admin = api.admin().await;
    let r = api
        .raw(
            Method::POST,
            "/api/check",
            Some(&admin),
            "application/json",
            "{not json".into(),
        )
        .await;
    assert_eq!(r.expect(StatusCode::BAD_REQUEST).code(), "bad_json");
    let r = api
        .post("/api/check", &admin, json!({"privilege": "x", "colour": 1}))
        .await;
    let r = r.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("colour"), "{}", r.text);
    let r = api
        .post("/api/check", &admin, json!({"privilege": 7}))
        .await;
    let r = r.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("field `privilege`"), "{}", r.text);
    let r = api
        .post(
            "/api/check",
            &admin,
            json!({"privilege": "x", "item": {"dataset": "eprint", "owners": [true]}}),
        )
        .await;
    assert!(r
        .expect(StatusCode::UNPROCESSABLE_ENTITY)
        .text
        .contains("item.owners"));
    let big = "x".repeat(70 * 1024);
    let r = api
        .raw(
            Method::POST,
            "/api/check",
            Some(&admin),
            "application/json",
            format!("{{\"privilege\":\"{big}\"}}"),
        )
        .await;
    assert_eq!(
        r.expect(StatusCode::PAYLOAD_TOO_LARGE).code(),
        "payload_too_large"
    );
    let r = api
        .raw(
            Method::POST,
            "/api/check",
            Some(&admin),
            "text/plain",
            "{}".into(),
        )
        .await;
    assert_eq!(
        r.expect(StatusCode::UNSUPPORTED_MEDIA_TYPE).code(),
        "unsupported_media_type"
    );
    let r = api.get("/api/nothing-here", &admin).await;
    assert_eq!(r.expect(StatusCode::NOT_FOUND).code(), "not_found");
    let r = api
        .call(Method::PUT, "/api/check", Some(&admin), Some(json!({})))
        .await;
    assert_eq!(
        r.expect(StatusCode::METHOD_NOT_ALLOWED).code(),
        "method_not_allowed"
    );
    // Never internals.
    let text = api
        .post("/api/check", &admin, json!({"privilege": 7}))
        .await
        .text;
    assert!(!text.contains("sqlx") && !text.contains("SELECT") && !text.contains("panicked"));
}

#[tokio::test]
async fn email_and_username_change_with_conflicts_named() {
    let api = Api::new().await;
    let admin = api.admin().await;
    api.user("ann@example.org", "user").await;
    api.user("bob@example.org", "user").await;
    let r = api
        .put(
            "/api/users/ann@example.org/email",
            &admin,
            json!({"email": "Ann.New@Example.org"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["changed"], true);
    assert_eq!(r.body["user"]["email"], "ann.new@example.org");
    let r = api
        .put(
            "/api/users/ann.new@example.org/email",
            &admin,
            json!({"email": "bob@example.org"}),
        )
        .await
        .expect(StatusCode::CONFLICT);
    assert!(r.text.contains("bob@example.org"), "{}", r.text);
    api.put(
        "/api/users/ann.new@example.org/email",
        &admin,
        json!({"email": "not an email"}),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);

    let r = api
        .put(
            "/api/users/ann.new@example.org/username",
            &admin,
            json!({"username": "annie"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["user"]["username"], "annie");
    api.put(
        "/api/users/bob@example.org/username",
        &admin,
        json!({"username": "ANNIE"}),
    )
    .await
    .expect(StatusCode::CONFLICT);
    let r = api
        .call(
            Method::DELETE,
            "/api/users/ann.new@example.org/username",
            Some(&admin),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["changed"], true);
    assert!(r.body["user"]["username"].is_null());

    // A user may not change their own login identity (it needs `user/staff/edit`).
    let bob = api.login("bob@example.org").await;
    let r = api
        .put(
            "/api/users/bob@example.org/email",
            &bob,
            json!({"email": "robert@example.org"}),
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(r.text.contains("user/staff/edit"), "{}", r.text);
}

#[tokio::test]
async fn bulk_actions_are_all_or_nothing() {
    let api = Api::new().await;
    let admin = api.admin().await;
    let a = api.user("a@example.org", "user").await;
    let b = api.user("b@example.org", "user").await;
    let r = api
        .post(
            "/api/users/bulk",
            &admin,
            json!({"action": "add-entry", "entry": "editor", "users": [a, b]}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["action"], "add-entry editor");
    assert_eq!(r.body["changed"].as_array().unwrap().len(), 2);
    let r = api
        .post(
            "/api/users/bulk",
            &admin,
            json!({"action": "deactivate", "users": [a, 999, b]}),
        )
        .await
        .expect(StatusCode::NOT_FOUND);
    assert!(r.text.contains("999"), "{}", r.text);
    let shown = api
        .get("/api/users/a@example.org", &admin)
        .await
        .expect(StatusCode::OK);
    assert_eq!(shown.body["active"], true);
    let r = api
        .post(
            "/api/users/bulk",
            &admin,
            json!({"action": "deactivate", "users": [a, b, a]}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["changed"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["unchanged"].as_array().unwrap().len(), 0);
    for (body, needle) in [
        (
            json!({"action": "add-entry", "users": [a]}),
            "needs the entry",
        ),
        (json!({"action": "explode", "users": [a]}), "`explode`"),
        (json!({"action": "confirm", "users": []}), "no users"),
        (
            json!({"action": "confirm", "users": (1..=501).collect::<Vec<i64>>()}),
            "at most 500",
        ),
    ] {
        let r = api
            .post("/api/users/bulk", &admin, body)
            .await
            .expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text.contains(needle), "{}", r.text);
    }
}

#[tokio::test]
async fn history_filters_and_pages_with_a_total() {
    let api = Api::new().await;
    let admin = api.admin().await;
    for e in ["h1@example.org", "h2@example.org", "h3@example.org"] {
        api.post("/api/users", &admin, json!({"email": e}))
            .await
            .expect(StatusCode::CREATED);
    }
    let r = api
        .get(
            "/api/history?action=user.create&target=h&limit=2&offset=0&newest_first=true",
            &admin,
        )
        .await
        .expect(StatusCode::OK);
    let targets: Vec<&str> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    assert_eq!(targets, ["h3@example.org", "h2@example.org"]);
    assert_eq!(r.headers.get("x-total-count").unwrap(), "3");
    let r = api
        .get(
            "/api/history?actor=ADMIN@example&action=user.create&limit=10",
            &admin,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body.as_array().unwrap().len(), 3);
    api.get("/api/history?until=yesterday", &admin)
        .await
        .expect(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_openapi_document_is_served_and_matches_the_committed_copy() {
    let api = Api::new().await;
    let r = api
        .call(Method::GET, "/api/openapi.json", None, None)
        .await
        .expect(StatusCode::OK);
    assert!(r.body["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(r.body["paths"]["/api/check"]["post"].is_object());
    let generated = gatehouse_server::openapi::document();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var("GATEHOUSE_UPDATE_OPENAPI").is_ok() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date; regenerate it with `GATEHOUSE_UPDATE_OPENAPI=1 cargo test -p gatehouse-server --test users_api` and commit it"
    );
}
