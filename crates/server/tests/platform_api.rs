//! The questions platforms ask: `effective` (with ETag and 304), `who-can`, `filter`, and
//! the AuthZEN 1.0 binding; each for its success and each error, and who-can and filter
//! held equal to `/api/check` for a table of users and items.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{operator, Api};
use gatehouse_core::UserRef;
use gatehouse_policy::{Entry, Privilege, RoleEntry, RoleName, ScopeFilter};
use serde_json::{json, Value};

/// A service token holding `check/any`.
async fn service(api: &Api) -> String {
    let admin = api.admin().await;
    let r = api
        .post(
            "/api/tokens",
            &admin,
            json!({"name": "platform", "privileges": ["check/any"]}),
        )
        .await
        .expect(StatusCode::CREATED);
    r.body["token"].as_str().unwrap().to_owned()
}

async fn get_with(api: &Api, path: &str, token: &str, if_none_match: &str) -> common::Resp {
    let req = Request::builder()
        .method(Method::GET)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::IF_NONE_MATCH, if_none_match)
        .body(Body::empty())
        .unwrap();
    api.send(req).await
}

#[tokio::test]
async fn effective_is_cached_by_generation_and_changes_with_every_input() {
    let api = Api::new().await;
    let ed = api.user("ed@example.org", "editor").await;
    let token = api.login("ed@example.org").await;
    let path = format!("/api/users/{ed}/effective");
    let r = api.get(&path, &token).await.expect(StatusCode::OK);
    assert_eq!(r.body["user_type"], "editor");
    assert_eq!(r.body["email"], "ed@example.org");
    assert!(r.body["roles"]
        .as_array()
        .unwrap()
        .contains(&json!("editor")));
    let privs: Vec<&str> = r.body["privileges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(privs.contains(&"eprint/buffer/edit:editor"), "{privs:?}");
    assert_eq!(r.body["superuser"], false);
    assert!(r.body["public"]
        .as_array()
        .unwrap()
        .contains(&json!("eprint/archive/view")));
    let tag = r.headers[header::ETAG].to_str().unwrap().to_owned();
    assert_eq!(
        tag,
        format!("\"{}\"", r.body["generation"].as_str().unwrap())
    );
    assert_eq!(r.headers[header::CACHE_CONTROL], "private, no-cache");

    // Revalidation: 304 while nothing changed, with the tag; a stale tag gets the body.
    let same = get_with(&api, &path, &token, &tag).await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    assert_eq!(same.headers[header::ETAG].to_str().unwrap(), tag);
    assert!(same.text.is_empty());
    let stale = get_with(&api, &path, &token, "\"0000\"").await;
    assert_eq!(stale.expect(StatusCode::OK).body["id"], ed);

    // Every input moves the generation: a grant to the user, their entries, a run-time
    // role, a grant to a role, a policy reload.
    let gh = api.gh();
    let mut tags = vec![tag];
    let mut expect_new = |t: String, what: &str| {
        assert!(!tags.contains(&t), "{what} must change the generation");
        tags.push(t);
    };
    api.allow("x/extra", "ed@example.org").await;
    let t = api.get(&path, &token).await;
    assert!(t.body["privileges"]
        .as_array()
        .unwrap()
        .contains(&json!("x/extra")));
    expect_new(
        t.headers[header::ETAG].to_str().unwrap().to_owned(),
        "a user grant",
    );
    gh.add_entry(
        &operator(),
        &UserRef::Id(gatehouse_policy::UserId(ed)),
        Entry::Plus(Privilege::new("y/own").unwrap()),
    )
    .await
    .unwrap();
    let t = api.get(&path, &token).await;
    assert_eq!(t.body["entries"], json!(["+y/own"]));
    expect_new(
        t.headers[header::ETAG].to_str().unwrap().to_owned(),
        "an entry",
    );
    gh.create_role(
        &operator(),
        RoleName::new("curator").unwrap(),
        None,
        vec![RoleEntry::Plus(Privilege::new("z/curate").unwrap())],
    )
    .await
    .unwrap();
    let t = api.get(&path, &token).await;
    expect_new(
        t.headers[header::ETAG].to_str().unwrap().to_owned(),
        "a run-time role",
    );
    gh.grant(
        &operator(),
        gatehouse_policy::Effect::Deny,
        Privilege::new("eprint/view").unwrap(),
        &gatehouse_core::GrantTo::Role(RoleName::new("editor").unwrap()),
    )
    .await
    .unwrap();
    let t = api.get(&path, &token).await;
    assert!(t.body["denied"]
        .as_array()
        .unwrap()
        .contains(&json!("eprint/view")));
    // Denying `eprint/view` covers its status forms, the public `eprint/archive/view` too.
    assert!(!t.body["public"]
        .as_array()
        .unwrap()
        .contains(&json!("eprint/archive/view")));
    expect_new(
        t.headers[header::ETAG].to_str().unwrap().to_owned(),
        "a role grant",
    );
    let reloaded = gatehouse_policy::PolicyConfig::with_file(
        "roles:\n  extra-role:\n    - +w/new\n",
        "user_roles.yaml",
    )
    .unwrap();
    gh.reload_config(reloaded).await.unwrap();
    let t = api.get(&path, &token).await;
    expect_new(
        t.headers[header::ETAG].to_str().unwrap().to_owned(),
        "a policy reload",
    );
}

/// A public privilege denied to one user is not in their `public` list (EPrints tests public
/// privileges without a user; the list lets a platform honour the deny).
#[tokio::test]
async fn effective_public_list_leaves_out_what_is_denied_to_the_user() {
    let api = Api::new().await;
    let dep = api.user("dep@example.org", "user").await;
    let token = api.login("dep@example.org").await;
    api.gh()
        .grant(
            &operator(),
            gatehouse_policy::Effect::Deny,
            Privilege::new("eprint/archive/view").unwrap(),
            &gatehouse_core::GrantTo::User(UserRef::Id(gatehouse_policy::UserId(dep))),
        )
        .await
        .unwrap();
    let r = api
        .get(&format!("/api/users/{dep}/effective"), &token)
        .await
        .expect(StatusCode::OK);
    let public = r.body["public"].as_array().unwrap();
    assert!(
        !public.contains(&json!("eprint/archive/view")),
        "{public:?}"
    );
    assert!(!public.is_empty());
    assert!(r.body["denied"]
        .as_array()
        .unwrap()
        .contains(&json!("eprint/archive/view")));
}

#[tokio::test]
async fn effective_refusals() {
    let api = Api::new().await;
    let ed = api.user("ed@example.org", "editor").await;
    let dep = api.user("dep@example.org", "user").await;
    let dep_token = api.login("dep@example.org").await;
    let r = api
        .get(&format!("/api/users/{ed}/effective"), &dep_token)
        .await;
    assert_eq!(r.expect(StatusCode::FORBIDDEN).code(), "forbidden");
    // Also with a tag: the generation is not revealed to whoever may not read the set.
    let r = get_with(&api, &format!("/api/users/{ed}/effective"), &dep_token, "*").await;
    assert_eq!(r.expect(StatusCode::FORBIDDEN).code(), "forbidden");
    let r = api
        .call(
            Method::GET,
            &format!("/api/users/{dep}/effective"),
            None,
            None,
        )
        .await;
    assert_eq!(r.expect(StatusCode::UNAUTHORIZED).code(), "unauthorized");
    let token = service(&api).await;
    let r = api
        .get("/api/users/nobody@example.org/effective", &token)
        .await;
    assert_eq!(r.expect(StatusCode::NOT_FOUND).code(), "not_found");
    let r = api.get("/api/users/not-a-user/effective", &token).await;
    assert_eq!(r.expect(StatusCode::UNPROCESSABLE_ENTITY).code(), "invalid");
    // A service token with check/any reads anyone's, by email too.
    let r = api.get("/api/users/ed@example.org/effective", &token).await;
    assert_eq!(r.expect(StatusCode::OK).body["id"], ed);
}

/// The mask a who-can answer gives `user` on `item` (the rule in the OpenAPI document).
fn mask_from_who_can(answer: &Value, user: &Value, item: Option<&Value>) -> u64 {
    let id = user["id"].as_i64().unwrap();
    let holds = answer["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == id)
        .cloned()
        .or_else(|| {
            answer["types"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["type"] == user["user_type"])
                .cloned()
        })
        .unwrap_or_else(|| answer["untyped"].clone());
    let mut m = 0;
    if holds["public"] == true {
        m |= 1;
    }
    if user["active"] != true {
        return m;
    }
    if holds["user"] == true {
        m |= 2;
    }
    if let Some(item) = item {
        let owners = item["owners"].as_array().cloned().unwrap_or_default();
        if holds["owner"] == true && owners.contains(&json!(id)) {
            m |= 4;
        }
        let scope = user["editorial_scope"].as_array().unwrap();
        let in_scope = answer["scoped"] == false
            || if scope.is_empty() {
                holds["editperms_none_by_default"] == false
            } else {
                scope.iter().any(|f| {
                    let f: ScopeFilter = f.as_str().unwrap().parse().unwrap();
                    f.fields().iter().all(|(field, values)| {
                        item["fields"][field].as_array().is_some_and(|vs| {
                            vs.iter().any(|v| values.contains(v.as_str().unwrap()))
                        })
                    })
                })
            };
        if holds["editor"] == true && in_scope {
            m |= 8;
        }
    }
    m
}

/// A small population: every default type, a user with own entries, one with a deny, an
/// inactive one, an editor with a scope.
async fn population(api: &Api) -> Vec<i64> {
    let gh = api.gh();
    let mut ids = Vec::new();
    for (email, ty) in [
        ("u@example.org", "user"),
        ("e@example.org", "editor"),
        ("a@example.org", "admin"),
        ("m@example.org", "minuser"),
        ("own@example.org", "user"),
        ("denied@example.org", "editor"),
        ("off@example.org", "editor"),
        ("scoped@example.org", "editor"),
    ] {
        ids.push(api.user(email, ty).await);
    }
    let own = UserRef::Email("own@example.org".into());
    gh.add_entry(&operator(), &own, "editor".parse().unwrap())
        .await
        .unwrap();
    gh.add_entry(
        &operator(),
        &own,
        "-eprint/buffer/edit:editor".parse().unwrap(),
    )
    .await
    .unwrap();
    gh.grant(
        &operator(),
        gatehouse_policy::Effect::Deny,
        Privilege::new("eprint/edit").unwrap(),
        &gatehouse_core::GrantTo::User(UserRef::Email("denied@example.org".into())),
    )
    .await
    .unwrap();
    gh.deactivate(&operator(), &UserRef::Email("off@example.org".into()))
        .await
        .unwrap();
    gh.set_scope(
        &operator(),
        &UserRef::Email("scoped@example.org".into()),
        vec!["divisions=law".parse().unwrap()],
    )
    .await
    .unwrap();
    ids
}

fn items(ids: &[i64]) -> Vec<Value> {
    let mut out = Vec::new();
    for status in ["inbox", "buffer", "archive", "deletion"] {
        for owner in [ids[0], ids[4], ids[7]] {
            for division in ["law", "med"] {
                out.push(
                    json!({"dataset": "eprint", "status": status, "owners": [owner],
                                "fields": {"divisions": [division]}}),
                );
            }
        }
    }
    out
}

#[tokio::test]
async fn who_can_agrees_with_check_for_every_user() {
    let api = Api::new().await;
    let ids = population(&api).await;
    let token = service(&api).await;
    let admin_id = api
        .gh()
        .show_user(&operator(), &UserRef::Email("admin@example.org".into()))
        .await
        .unwrap()
        .id
        .0;
    let mut everyone = ids.clone();
    everyone.push(admin_id);
    let mut users = Vec::new();
    for id in &everyone {
        let u = api
            .get(&format!("/api/users/{id}/effective"), &token)
            .await
            .expect(StatusCode::OK)
            .body;
        let scope = u["editorial_scope"].clone();
        users.push(
            json!({"id": id, "user_type": u["user_type"], "active": u["active"],
                          "editorial_scope": scope}),
        );
    }
    let all_items = items(&ids);
    let mut asked: Vec<Option<&Value>> = all_items.iter().map(Some).collect();
    asked.push(None);
    for privilege in [
        "eprint/edit",
        "eprint/view",
        "eprint/move_archive",
        "user/view",
        "x/none",
    ] {
        for item in &asked {
            let mut body = json!({"privilege": privilege});
            if let Some(i) = item {
                body["item"] = (*i).clone();
            }
            let answer = api
                .post("/api/who-can", &token, body.clone())
                .await
                .expect(StatusCode::OK)
                .body;
            for u in &users {
                let mut check = body.clone();
                check["user"] = u["id"].clone();
                let want = api
                    .post("/api/check", &token, check)
                    .await
                    .expect(StatusCode::OK)
                    .body["mask"]
                    .as_u64()
                    .unwrap();
                assert_eq!(
                    mask_from_who_can(&answer, u, *item),
                    want,
                    "{privilege} on {item:?} for {u}: {answer}"
                );
            }
        }
    }
}

#[tokio::test]
async fn who_can_explains_and_expands() {
    let api = Api::new().await;
    let ids = population(&api).await;
    let token = service(&api).await;
    let item = json!({"dataset": "eprint", "status": "buffer", "owners": [ids[0]],
                      "fields": {"divisions": ["law"]}});
    let r = api
        .post(
            "/api/who-can",
            &token,
            json!({"privilege": "eprint/edit", "item": item}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let editor = r["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "editor")
        .unwrap();
    assert_eq!(editor["editor"], true);
    assert!(r["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["role"] == "editor" && x["editor"] == true));
    assert_eq!(r["owner"]["privileges"][0], "eprint/edit:owner");
    assert!(r["owner"]["condition"]
        .as_str()
        .unwrap()
        .contains("the item's owners"));
    let excludes = r["excludes"].as_array().unwrap();
    assert!(
        excludes.iter().any(|e| e["kind"] == "deny"
            && e["privilege"] == "eprint/edit"
            && e["by"] == "user `denied@example.org`"),
        "{excludes:?}"
    );
    assert!(
        excludes.iter().any(|e| e["kind"] == "removal"
            && e["privilege"] == "eprint/buffer/edit:editor"
            && e["by"] == "user `own@example.org` entry 2"),
        "{excludes:?}"
    );
    assert_eq!(
        r["tested"],
        json!([
            "eprint/edit",
            "eprint/edit:owner",
            "eprint/edit:editor",
            "eprint/buffer/edit",
            "eprint/buffer/edit:owner",
            "eprint/buffer/edit:editor"
        ])
    );
    // The editor denied `eprint/edit` is listed (their type says otherwise); the user whose
    // own `editor` role is undone by their own `-eprint/buffer/edit:editor` holds what their
    // type holds, so is not.
    let listed: Vec<&Value> = r["users"].as_array().unwrap().iter().collect();
    assert!(
        listed
            .iter()
            .any(|u| u["id"] == ids[5] && u["editor"] == false),
        "{listed:?}"
    );
    assert!(!listed.iter().any(|u| u["id"] == ids[4]), "{listed:?}");
    assert!(r.get("admitted").is_none());

    // expand=users pages the admitted users by id.
    let page = api
        .post(
            "/api/who-can?expand=users&limit=2",
            &token,
            json!({"privilege": "eprint/edit", "item": item}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let first = page["admitted"]["items"].as_array().unwrap().clone();
    assert_eq!(first.len(), 2);
    let next = page["admitted"]["next"].as_i64().unwrap();
    let rest = api
        .post(
            &format!("/api/who-can?expand=users&after={next}&limit=1000"),
            &token,
            json!({"privilege": "eprint/edit", "item": item}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    let mut admitted: Vec<i64> = first.iter().map(|u| u["id"].as_i64().unwrap()).collect();
    admitted.extend(
        rest["admitted"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].as_i64().unwrap()),
    );
    assert!(rest["admitted"]["next"].is_null());
    // Exactly the users /api/check allows, with check's mask: here the editors (the one
    // with a scope too: a law item) and the admin; not the inactive editor, not the one
    // denied eprint/edit, not the buffer item's owner (a `user` edits only in the inbox).
    for id in &ids {
        let want = api
            .post(
                "/api/check",
                &token,
                json!({"user": id, "privilege": "eprint/edit", "item": item}),
            )
            .await
            .expect(StatusCode::OK)
            .body["mask"]
            .as_u64()
            .unwrap();
        assert_eq!(admitted.contains(id), want != 0, "user {id}: {admitted:?}");
    }
    assert!(admitted.contains(&ids[1]) && admitted.contains(&ids[7]));
    for not in [ids[0], ids[5], ids[6]] {
        assert!(!admitted.contains(&not), "{not} in {admitted:?}");
    }
}

#[tokio::test]
async fn who_can_refusals() {
    let api = Api::new().await;
    api.user("dep@example.org", "user").await;
    let dep = api.login("dep@example.org").await;
    let r = api
        .post("/api/who-can", &dep, json!({"privilege": "eprint/edit"}))
        .await;
    assert_eq!(r.expect(StatusCode::FORBIDDEN).code(), "forbidden");
    let r = api
        .call(
            Method::POST,
            "/api/who-can",
            None,
            Some(json!({"privilege": "x"})),
        )
        .await;
    assert_eq!(r.expect(StatusCode::UNAUTHORIZED).code(), "unauthorized");
    let token = service(&api).await;
    for (path, body, want) in [
        (
            "/api/who-can",
            json!({"privilege": "bad priv"}),
            "privilege",
        ),
        (
            "/api/who-can",
            json!({"privilege": "x", "item": {"dataset": "a/b"}}),
            "dataset",
        ),
        (
            "/api/who-can?expand=roles",
            json!({"privilege": "x"}),
            "expand=users",
        ),
        (
            "/api/who-can?expand=users&limit=0",
            json!({"privilege": "x"}),
            "1 to 1000",
        ),
        (
            "/api/who-can?after=3",
            json!({"privilege": "x"}),
            "expand=users",
        ),
    ] {
        let r = api.post(path, &token, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            r.text
        );
        assert!(r.text.contains(want), "{path}: {}", r.text);
    }
    let r = api
        .post(
            "/api/who-can?limit=x&expand=users",
            &token,
            json!({"privilege": "x"}),
        )
        .await;
    assert_eq!(r.expect(StatusCode::BAD_REQUEST).code(), "bad_request");
}

#[tokio::test]
async fn filter_agrees_with_check_item_by_item() {
    let api = Api::new().await;
    let ids = population(&api).await;
    let token = service(&api).await;
    let all_items = items(&ids);
    for privilege in ["eprint/edit", "eprint/view", "eprint/move_archive"] {
        for who in ids.iter().map(|i| json!(i)).chain([Value::Null]) {
            let mut body = json!({"privilege": privilege});
            if who.is_null() {
                body["anonymous"] = json!(true);
            } else {
                body["user"] = who.clone();
            }
            let f = api
                .post("/api/filter", &token, body.clone())
                .await
                .expect(StatusCode::OK)
                .body;
            assert_eq!(f["dataset"], "eprint");
            for item in &all_items {
                let mut check = body.clone();
                check["item"] = item.clone();
                let want = api
                    .post("/api/check", &token, check)
                    .await
                    .expect(StatusCode::OK)
                    .body["mask"]
                    .as_u64()
                    .unwrap();
                let got = filter_mask(&f, item);
                assert_eq!(got, want, "{privilege} for {who} on {item}: {f}");
            }
        }
    }
}

/// The mask a filter gives an item (the rule in the OpenAPI document).
fn filter_mask(f: &Value, item: &Value) -> u64 {
    let mut m = 0;
    for c in f["conditions"].as_array().unwrap() {
        let status_ok = c
            .get("status")
            .is_none_or(|l| l.as_array().unwrap().contains(&item["status"]));
        let owner_ok = c
            .get("owner")
            .is_none_or(|o| item["owners"].as_array().unwrap().contains(&o["id"]));
        let scope_ok = c.get("scope").is_none_or(|filters| {
            filters.as_array().unwrap().iter().any(|flt| {
                flt.as_object().unwrap().iter().all(|(field, values)| {
                    item["fields"][field]
                        .as_array()
                        .is_some_and(|vs| vs.iter().any(|v| values.as_array().unwrap().contains(v)))
                })
            })
        });
        if status_ok && owner_ok && scope_ok {
            m |= match c["bit"].as_str().unwrap() {
                "public" => 1,
                "user" => 2,
                "owner" => 4,
                _ => 8,
            };
        }
    }
    m
}

#[tokio::test]
async fn filter_shapes_and_refusals() {
    let api = Api::new().await;
    let ids = population(&api).await;
    let dep = api.login("u@example.org").await;
    // A depositor edits their own items in the inbox (and more statuses the catalog lists).
    let f = api
        .post("/api/filter", &dep, json!({"privilege": "eprint/edit"}))
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(f["coverage"], "some");
    let owner = f["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bit"] == "owner")
        .unwrap();
    assert_eq!(owner["owner"]["id"], ids[0]);
    assert!(owner["status"]
        .as_array()
        .unwrap()
        .contains(&json!("inbox")));
    // The scoped editor's editor condition carries the scope.
    let scoped = api.login("scoped@example.org").await;
    let f = api
        .post("/api/filter", &scoped, json!({"privilege": "eprint/edit"}))
        .await
        .expect(StatusCode::OK)
        .body;
    let editor = f["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["bit"] == "editor")
        .unwrap();
    assert_eq!(editor["scope"], json!([{"divisions": ["law"]}]));
    // Nothing for anonymous on edit; everything archived is public to view.
    let f = api
        .post(
            "/api/filter",
            &dep,
            json!({"anonymous": true, "privilege": "eprint/edit"}),
        )
        .await
        .expect(StatusCode::OK)
        .body;
    assert_eq!(f["coverage"], "none");
    let r = api
        .post(
            "/api/filter",
            &dep,
            json!({"user": ids[1], "privilege": "eprint/edit"}),
        )
        .await;
    assert_eq!(r.expect(StatusCode::FORBIDDEN).code(), "forbidden");
    let r = api
        .post("/api/filter", &dep, json!({"privilege": "create_eprint"}))
        .await;
    let r = r.expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("dataset"), "{}", r.text);
    let r = api
        .post(
            "/api/filter",
            &dep,
            json!({"privilege": "x/y", "user": 1, "anonymous": true}),
        )
        .await;
    assert_eq!(r.expect(StatusCode::UNPROCESSABLE_ENTITY).code(), "invalid");
    let r = api
        .post(
            "/api/filter",
            &dep,
            json!({"privilege": "x", "dataset": "a b"}),
        )
        .await;
    assert_eq!(r.expect(StatusCode::UNPROCESSABLE_ENTITY).code(), "invalid");
}

async fn authzen(
    api: &Api,
    path: &str,
    token: Option<&str>,
    body: Value,
    rid: Option<&str>,
) -> common::Resp {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    if let Some(r) = rid {
        b = b.header("x-request-id", r);
    }
    api.send(b.body(Body::from(body.to_string())).unwrap())
        .await
}

#[tokio::test]
async fn authzen_evaluation_maps_onto_check() {
    let api = Api::new().await;
    let ids = population(&api).await;
    let token = service(&api).await;
    let req = json!({
        "subject": {"type": "user", "id": "e@example.org"},
        "action": {"name": "eprint/edit"},
        "resource": {"type": "eprint", "id": "42", "properties": {"status": "buffer"}},
        "context": {"time": "1985-10-26T01:22-07:00"},
        "unknown": "ignored"
    });
    let r = authzen(
        &api,
        "/access/v1/evaluation",
        Some(&token),
        req,
        Some("req-7"),
    )
    .await;
    let r = r.expect(StatusCode::OK);
    assert_eq!(r.body["decision"], true);
    assert_eq!(r.body["context"]["mask"], 8);
    assert_eq!(r.headers["x-request-id"], "req-7");
    // A deny is 200 with false; anonymous and item-less forms.
    let deny = json!({"subject": {"type": "user", "id": ids[0].to_string()},
                      "action": {"name": "eprint/edit"},
                      "resource": {"type": "eprint", "id": "1", "properties": {"status": "buffer"}}});
    let r = authzen(&api, "/access/v1/evaluation", Some(&token), deny, None).await;
    assert_eq!(r.expect(StatusCode::OK).body["decision"], false);
    let anon = json!({"subject": {"type": "anonymous", "id": "-"}, "action": {"name": "eprint/archive/view"},
                      "resource": {"type": "gatehouse", "id": "-"}});
    let r = authzen(&api, "/access/v1/evaluation", Some(&token), anon, None).await;
    assert_eq!(r.expect(StatusCode::OK).body["context"]["mask"], 1);
    // An unknown user is a decision of false with the error in the context.
    let ghost = json!({"subject": {"type": "user", "id": "ghost@example.org"}, "action": {"name": "x"},
                       "resource": {"type": "gatehouse", "id": "-"}});
    let r = authzen(&api, "/access/v1/evaluation", Some(&token), ghost, None).await;
    let r = r.expect(StatusCode::OK);
    assert_eq!(r.body["decision"], false);
    assert_eq!(r.body["context"]["error"]["status"], 404);
    // Missing attribute: 400; no credentials: 401 with WWW-Authenticate.
    let r = authzen(
        &api,
        "/access/v1/evaluation",
        Some(&token),
        json!({"subject": {"type": "user", "id": "e@example.org"}, "action": {"name": "x"}}),
        Some("r1"),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text.contains("resource"), "{}", r.text);
    assert_eq!(r.headers["x-request-id"], "r1");
    let r = authzen(&api, "/access/v1/evaluation", None, json!({}), None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.headers[header::WWW_AUTHENTICATE]
        .to_str()
        .unwrap()
        .starts_with("Bearer realm="));
}

#[tokio::test]
async fn authzen_evaluations_defaults_and_semantics() {
    let api = Api::new().await;
    population(&api).await;
    let token = service(&api).await;
    let base = json!({
        "subject": {"type": "user", "id": "e@example.org"},
        "resource": {"type": "eprint", "id": "1", "properties": {"status": "buffer"}},
        "evaluations": [
            {"action": {"name": "eprint/edit"}},
            {"action": {"name": "nothing/here"}},
            {"action": {"name": "eprint/view"}, "subject": {"type": "user", "id": "u@example.org"}},
            {"action": {"name": "eprint/edit"}, "subject": {"type": "robot", "id": "r2"}}
        ]
    });
    let r = authzen(
        &api,
        "/access/v1/evaluations",
        Some(&token),
        base.clone(),
        None,
    )
    .await
    .expect(StatusCode::OK);
    let decisions: Vec<bool> = r.body["evaluations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["decision"].as_bool().unwrap())
        .collect();
    assert_eq!(decisions, [true, false, false, false]);
    assert_eq!(r.body["evaluations"][3]["context"]["error"]["status"], 422);
    let mut deny_first = base.clone();
    deny_first["options"] = json!({"evaluations_semantic": "deny_on_first_deny"});
    let r = authzen(
        &api,
        "/access/v1/evaluations",
        Some(&token),
        deny_first,
        None,
    )
    .await
    .expect(StatusCode::OK);
    let list = r.body["evaluations"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[1]["context"]["reason"], "deny_on_first_deny");
    let mut permit_first = base.clone();
    permit_first["options"] = json!({"evaluations_semantic": "permit_on_first_permit"});
    let r = authzen(
        &api,
        "/access/v1/evaluations",
        Some(&token),
        permit_first,
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(r.body["evaluations"].as_array().unwrap().len(), 1);
    // No evaluations: one decision.
    let single = json!({"subject": {"type": "user", "id": "e@example.org"}, "action": {"name": "eprint/edit"},
                        "resource": {"type": "eprint", "id": "1", "properties": {"status": "buffer"}},
                        "evaluations": []});
    let r = authzen(&api, "/access/v1/evaluations", Some(&token), single, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.body["decision"], true);
    // A key missing everywhere, and an unknown semantic: 400.
    let r = authzen(
        &api,
        "/access/v1/evaluations",
        Some(&token),
        json!({"evaluations": [{"action": {"name": "x"}}]}),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text.contains("evaluations[0] has no `subject`"),
        "{}",
        r.text
    );
    let mut odd = base;
    odd["options"] = json!({"evaluations_semantic": "sometimes"});
    let r = authzen(&api, "/access/v1/evaluations", Some(&token), odd, None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn authzen_discovery_document() {
    let api = Api::new().await;
    let r = api
        .call(
            Method::GET,
            "/.well-known/authzen-configuration",
            None,
            None,
        )
        .await
        .expect(StatusCode::OK);
    let pdp = r.body["policy_decision_point"].as_str().unwrap();
    assert_eq!(
        r.body["access_evaluation_endpoint"],
        format!("{pdp}/access/v1/evaluation")
    );
    assert_eq!(
        r.body["access_evaluations_endpoint"],
        format!("{pdp}/access/v1/evaluations")
    );
}
