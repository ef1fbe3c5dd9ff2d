//! Every secured HTTP route, asked by four callers: an anonymous visitor, a plain user
//! (EPrints type `user`), a user holding nothing but the route's privilege (SPEC 6's table),
//! and a superuser. Each must get exactly the status the table implies: 401 for the visitor
//! (the API wants a log in first), 403 for the plain user, the route's success status for the
//! last two. One route per test world, so a change made by one caller cannot decide another's
//! answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{Method, StatusCode};
use common::{operator, Api};
use gatehouse_core::{GrantTo, UserRef};
use gatehouse_policy::{Effect, PolicyConfig, Privilege, RoleEntry, RoleName};
use serde_json::{json, Value};

/// A route: method, path and body for the `n`th caller (so that creating twice does not
/// collide), the privilege SPEC 6 names for it, and its success status.
struct Route {
    method: Method,
    path: fn(usize) -> String,
    body: fn(usize) -> Option<Value>,
    privilege: &'static str,
    ok: StatusCode,
}

fn target(n: usize) -> String {
    format!("target{n}@example.org")
}

fn routes() -> Vec<Route> {
    use StatusCode as S;
    let r = |method, path: fn(usize) -> String, body: fn(usize) -> Option<Value>, privilege, ok| {
        Route {
            method,
            path,
            body,
            privilege,
            ok,
        }
    };
    vec![
        r(
            Method::GET,
            |_| "/api/users".into(),
            |_| None,
            "user/view",
            S::OK,
        ),
        r(
            Method::GET,
            |_| "/api/users?q=target".into(),
            |_| None,
            "staff/user_search",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/users".into(),
            |n| Some(json!({"email": format!("new{n}@example.org"), "password": "password-123"})),
            "create_user",
            S::CREATED,
        ),
        r(
            Method::GET,
            |n| format!("/api/users/{}", target(n)),
            |_| None,
            "user/view",
            S::OK,
        ),
        r(
            Method::PATCH,
            |n| format!("/api/users/{}", target(n)),
            |_| Some(json!({"full_name": "Ann Other"})),
            "user/edit",
            S::OK,
        ),
        r(
            Method::DELETE,
            |n| format!("/api/users/{}", target(n)),
            |_| None,
            "user/destroy",
            S::NO_CONTENT,
        ),
        r(
            Method::POST,
            |n| format!("/api/users/{}/deactivate", target(n)),
            |_| None,
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::POST,
            |n| format!("/api/users/{}/activate", target(n)),
            |_| None,
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::POST,
            |n| format!("/api/users/{}/confirm", target(n)),
            |_| None,
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/users/bulk".into(),
            // The four targets are the first users made (ids 1 to 4): each caller acts on all.
            |_| Some(json!({"action": "confirm", "users": [1, 2, 3, 4]})),
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::PUT,
            |n| format!("/api/users/{}/email", target(n)),
            |n| Some(json!({"email": format!("moved{n}@example.org")})),
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::PUT,
            |n| format!("/api/users/{}/username", target(n)),
            |n| Some(json!({"username": format!("target{n}")})),
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::DELETE,
            |n| format!("/api/users/{}/username", target(n)),
            |_| None,
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::PUT,
            |n| format!("/api/users/{}/type", target(n)),
            |_| Some(json!({"type": "editor"})),
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::PUT,
            |n| format!("/api/users/{}/roles", target(n)),
            |_| Some(json!({"roles": ["hat"]})),
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::POST,
            |n| format!("/api/users/{}/entries", target(n)),
            |_| Some(json!({"entry": "hat"})),
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::DELETE,
            |n| format!("/api/users/{}/entries", target(n)),
            |_| Some(json!({"entry": "hat"})),
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::PUT,
            |n| format!("/api/users/{}/scope", target(n)),
            |_| Some(json!({"filters": ["divisions=law"]})),
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::PUT,
            |n| format!("/api/users/{}/password", target(n)),
            |_| Some(json!({"password": "another-password-1"})),
            "user/staff/edit",
            S::OK,
        ),
        r(
            Method::GET,
            |n| format!("/api/users/{}/privileges", target(n)),
            |_| None,
            "user/view",
            S::OK,
        ),
        r(
            Method::GET,
            |_| "/api/roles".into(),
            |_| None,
            "config/view",
            S::OK,
        ),
        r(
            Method::GET,
            |_| "/api/roles/hat".into(),
            |_| None,
            "config/view",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/roles".into(),
            |n| Some(json!({"name": format!("hat{n}"), "privileges": ["x/y"]})),
            "config/edit",
            S::CREATED,
        ),
        r(
            Method::GET,
            |_| "/api/grants".into(),
            |_| None,
            "config/view",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/grants".into(),
            |n| {
                Some(json!({"effect": "allow", "privilege": format!("p/{n}"),
                            "target": {"kind": "role", "name": "hat"}}))
            },
            "config/edit",
            S::OK,
        ),
        r(
            Method::DELETE,
            |_| "/api/grants".into(),
            |_| Some(json!({"privilege": "p/0", "target": {"kind": "role", "name": "hat"}})),
            "config/edit",
            S::OK,
        ),
        r(
            Method::GET,
            |_| "/api/tokens".into(),
            |_| None,
            "config/view",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/tokens".into(),
            |n| Some(json!({"name": format!("svc{n}"), "privileges": ["check/any"]})),
            "config/edit",
            S::CREATED,
        ),
        r(
            Method::DELETE,
            |n| format!("/api/tokens/tok{n}"),
            |_| None,
            "config/edit",
            S::NO_CONTENT,
        ),
        r(
            Method::GET,
            |_| "/api/clients".into(),
            |_| None,
            "config/view",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/clients".into(),
            |n| {
                Some(
                    json!({"name": format!("rp{n}"), "redirect_uris": ["https://rp.example.org/cb"]}),
                )
            },
            "config/edit",
            S::CREATED,
        ),
        r(
            Method::GET,
            |_| "/api/keys".into(),
            |_| None,
            "config/view",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/keys/rotate".into(),
            |_| None,
            "config/edit",
            S::OK,
        ),
        r(
            Method::GET,
            |_| "/api/history".into(),
            |_| None,
            "staff/history_search",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/check".into(),
            |n| Some(json!({"user": target(n), "privilege": "eprint/view"})),
            "check/any",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/explain".into(),
            |n| Some(json!({"user": target(n), "privilege": "eprint/view"})),
            "check/any",
            S::OK,
        ),
        r(
            Method::GET,
            |n| format!("/api/users/{}/effective", target(n)),
            |_| None,
            "check/any",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/who-can".into(),
            |_| Some(json!({"privilege": "eprint/view"})),
            "check/any",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/api/filter".into(),
            |n| Some(json!({"user": target(n), "privilege": "eprint/view"})),
            "check/any",
            S::OK,
        ),
        r(
            Method::POST,
            |_| "/access/v1/evaluation".into(),
            |n| {
                Some(
                    json!({"subject": {"type": "user", "id": target(n)}, "action": {"name": "eprint/view"},
                            "resource": {"type": "gatehouse", "id": "-"}}),
                )
            },
            "check/any",
            S::OK,
        ),
    ]
}

/// A world for one route: a policy with a `bare` type (no privileges at all), the run-time
/// role `hat`, a target user and a service token per caller, the three logged-in callers.
async fn world(privilege: &str) -> (Api, [Option<String>; 4]) {
    let policy = PolicyConfig::with_file("user_roles:\n  bare: []\n", "user_roles.yaml").unwrap();
    let api = Api::with_policy(policy).await;
    let gh = api.gh();
    gh.create_role(
        &operator(),
        RoleName::new("hat").unwrap(),
        None,
        vec![RoleEntry::Bare(Privilege::new("x/y").unwrap())],
    )
    .await
    .unwrap();
    gh.grant(
        &operator(),
        Effect::Allow,
        Privilege::new("p/0").unwrap(),
        &GrantTo::Role(RoleName::new("hat").unwrap()),
    )
    .await
    .unwrap();
    for n in 0..4 {
        api.user(&target(n), "user").await;
        gh.set_entries(
            &operator(),
            &UserRef::Email(target(n)),
            vec!["hat".parse().unwrap()],
        )
        .await
        .unwrap();
        gh.create_service_token(
            &operator(),
            &format!("tok{n}"),
            vec![Privilege::new("check/any").unwrap()],
        )
        .await
        .unwrap();
    }
    api.user("plain@example.org", "user").await;
    api.user("holder@example.org", "bare").await;
    api.allow(privilege, "holder@example.org").await;
    let plain = api.login("plain@example.org").await;
    let holder = api.login("holder@example.org").await;
    let admin = api.admin().await;
    (api, [None, Some(plain), Some(holder), Some(admin)])
}

/// The routes that need no privilege: the same answer for every caller, except that
/// `/api/me` needs someone logged in who may see their own record.
#[tokio::test]
async fn open_routes_answer_everyone() {
    let (api, callers) = world("status").await;
    let open: [(Method, &str, Option<Value>, StatusCode); 8] = [
        (Method::GET, "/healthz", None, StatusCode::OK),
        (Method::GET, "/readyz", None, StatusCode::OK),
        (Method::GET, "/api/openapi.json", None, StatusCode::OK),
        (Method::GET, "/api/me", None, StatusCode::OK),
        (
            Method::POST,
            "/api/check",
            Some(json!({"privilege": "eprint/archive/view"})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/explain",
            Some(json!({"privilege": "eprint/archive/view"})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/check/batch",
            Some(json!({"checks": [{"privilege": "eprint/archive/view"}]})),
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/password/forgot",
            Some(json!({"email": "nobody@example.org"})),
            StatusCode::ACCEPTED,
        ),
    ];
    let mut failures = Vec::new();
    for (method, path, body, ok) in open {
        for (n, token) in callers.iter().enumerate() {
            // Reset requests are throttled per target email: one email per caller.
            let body = if path == "/api/password/forgot" {
                Some(json!({"email": format!("nobody{n}@example.org")}))
            } else {
                body.clone()
            };
            let resp = api.call(method.clone(), path, token.as_deref(), body).await;
            let want = match (n, path) {
                (0, "/api/me") => StatusCode::UNAUTHORIZED,
                // Seeing one's own record needs `user/view:owner` (SPEC 6); the `bare` user
                // holds nothing but `status`.
                (2, "/api/me") => StatusCode::FORBIDDEN,
                _ => ok,
            };
            if resp.status != want {
                failures.push(format!(
                    "{method} {path} as caller {n}: {} instead of {want}: {}",
                    resp.status, resp.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_route_answers_each_caller_as_spec_6_says() {
    let mut failures = Vec::new();
    for route in routes() {
        let (api, callers) = world(route.privilege).await;
        for (n, token) in callers.iter().enumerate() {
            let path = (route.path)(n);
            let resp = api
                .call(
                    route.method.clone(),
                    &path,
                    token.as_deref(),
                    (route.body)(n),
                )
                .await;
            let who = [
                "anonymous",
                "plain user",
                "holder of the privilege",
                "superuser",
            ][n];
            let want = match n {
                // `/api/check` (and `/api/explain`) take anonymous visitors (SPEC 7.15):
                // asking about a user is refused to them like to anyone without `check/any`.
                0 if path == "/api/check" || path == "/api/explain" => StatusCode::FORBIDDEN,
                0 => StatusCode::UNAUTHORIZED,
                1 => StatusCode::FORBIDDEN,
                _ => route.ok,
            };
            if resp.status != want {
                failures.push(format!(
                    "{} {path} as {who} (needs `{}`): {} instead of {}: {}",
                    route.method, route.privilege, resp.status, want, resp.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Holders of `administration-access` and nothing else (the seed's step) read every route
/// that only reads, and are refused every change with the change's own privilege named.
#[tokio::test]
async fn administration_access_reads_every_read_route_and_changes_nothing() {
    let mut failures = Vec::new();
    let (api, callers) = world("administration-access").await;
    let holder = callers[2].as_deref();
    for route in routes() {
        let reads = route.method == Method::GET
            || [
                "/api/check",
                "/api/explain",
                "/api/who-can",
                "/api/filter",
                "/access/v1/evaluation",
            ]
            .iter()
            .any(|p| (route.path)(2) == *p);
        let path = (route.path)(2);
        let resp = api
            .call(route.method.clone(), &path, holder, (route.body)(2))
            .await;
        let want = if reads {
            route.ok
        } else {
            StatusCode::FORBIDDEN
        };
        if resp.status != want {
            failures.push(format!(
                "{} {path}: {} instead of {want}: {}",
                route.method, resp.status, resp.text
            ));
        } else if !reads && !resp.text.contains(route.privilege) {
            failures.push(format!(
                "{} {path}: the refusal does not name `{}`: {}",
                route.method, route.privilege, resp.text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
