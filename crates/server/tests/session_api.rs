//! Log in, sessions, throttling, confirmation and reset links, health.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{operator, Api, PASSWORD};
use gatehouse_core::UserRef;
use serde_json::json;

#[tokio::test]
async fn login_needs_right_password_confirmed_and_active() {
    let api = Api::new().await;
    api.user("ann@example.org", "user").await;
    let ok = api
        .call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"email": "ANN@example.org", "password": PASSWORD})),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(ok.body["token"].as_str().map(str::len), Some(43));
    assert_eq!(ok.body["user"]["email"], "ann@example.org");
    let cookie = ok
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.starts_with("gatehouse_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "not behind https in this test");

    let wrong = api
        .call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"email": "ann@example.org", "password": "nope-nope"})),
        )
        .await;
    let unknown = api
        .call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"email": "who@example.org", "password": "nope-nope"})),
        )
        .await;
    assert_eq!(
        (wrong.status, unknown.status),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(wrong.body, unknown.body, "no account enumeration");
    assert_eq!(wrong.code(), "invalid_credentials");

    api.gh()
        .deactivate(&operator(), &UserRef::Email("ann@example.org".into()))
        .await
        .unwrap();
    let r = api
        .call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"email": "ann@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.expect(StatusCode::FORBIDDEN).code(), "account_disabled");

    // Unconfirmed: created through the API without `confirm`.
    let admin = api.admin().await;
    api.post(
        "/api/users",
        &admin,
        json!({"email": "new@example.org", "password": PASSWORD, "active": true}),
    )
    .await
    .expect(StatusCode::CREATED);
    let r = api
        .call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"email": "new@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.expect(StatusCode::FORBIDDEN).code(), "email_unconfirmed");
    let r = api
        .call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(r.expect(StatusCode::UNPROCESSABLE_ENTITY).code(), "invalid");
}

#[tokio::test]
async fn login_by_username_and_the_session_cookie_work() {
    let api = Api::new().await;
    let admin = api.admin().await;
    api.post("/api/users", &admin, json!({"email": "u@example.org", "username": "Ursula", "password": PASSWORD, "active": true, "confirm": true}))
        .await
        .expect(StatusCode::CREATED);
    let r = api
        .call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"username": "ursula", "password": PASSWORD})),
        )
        .await
        .expect(StatusCode::OK);
    let cookie = r
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let req = Request::builder()
        .uri("/api/me")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let me = api.send(req).await.expect(StatusCode::OK);
    assert_eq!(me.body["user"]["username"], "Ursula");
    assert!(
        me.body["privileges"]["privileges"]
            .as_array()
            .unwrap()
            .len()
            >= 50
    );
}

#[tokio::test]
async fn no_or_bad_token_is_401_and_logout_ends_the_token() {
    let api = Api::new().await;
    api.user("a@example.org", "user").await;
    assert_eq!(
        api.call(Method::GET, "/api/me", None, None)
            .await
            .expect(StatusCode::UNAUTHORIZED)
            .code(),
        "unauthorized"
    );
    api.get("/api/me", "made-up-token")
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let token = api.login("a@example.org").await;
    api.get("/api/me", &token).await.expect(StatusCode::OK);
    api.call(Method::POST, "/api/logout", Some(&token), None)
        .await
        .expect(StatusCode::NO_CONTENT);
    api.get("/api/me", &token)
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn deactivating_or_changing_the_password_ends_sessions_at_once() {
    let api = Api::new().await;
    let admin = api.admin().await;
    api.user("b@example.org", "user").await;
    let t1 = api.login("b@example.org").await;
    let t2 = api.login("b@example.org").await;
    // The user changes their own password (giving the current one, issue 11): the other
    // session ends, this one stays.
    api.put(
        "/api/users/b@example.org/password",
        &t1,
        json!({"password": "brand-new-password", "current_password": common::PASSWORD}),
    )
    .await
    .expect(StatusCode::OK);
    api.get("/api/me", &t1).await.expect(StatusCode::OK);
    api.get("/api/me", &t2)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    // Deactivation by an admin ends every session.
    api.post("/api/users/b@example.org/deactivate", &admin, json!({}))
        .await
        .expect(StatusCode::OK);
    api.get("/api/me", &t1)
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

/// The account's budget (10 attempts, then one every 6 minutes) is charged before the
/// password is checked; the 429 carries an honest `Retry-After`. The bookkeeping itself,
/// with the clock run by hand, is tested in `throttle.rs`; failure 2's race is tested end to
/// end in `throttle_race`.
#[tokio::test]
async fn failed_logins_are_throttled_with_retry_after() {
    let api = Api::new().await;
    api.user("t@example.org", "user").await;
    for _ in 0..10 {
        api.call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"email": "t@example.org", "password": "wrong-wrong"})),
        )
        .await
        .expect(StatusCode::UNAUTHORIZED);
    }
    let r = api
        .call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"email": "t@example.org", "password": PASSWORD})),
        )
        .await;
    let r = r.expect(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "too_many_requests");
    let wait: u64 = r
        .headers
        .get(header::RETRY_AFTER)
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((300..=360).contains(&wait), "{wait}");
    let metrics = api
        .call(
            Method::GET,
            "/metrics",
            Some("metrics-token-for-tests"),
            None,
        )
        .await;
    assert!(
        metrics.text.contains("gatehouse_login_failures_total 11"),
        "{}",
        metrics.text
    );
}

#[tokio::test]
async fn confirmation_links_are_mailed_single_use_and_confirm() {
    let api = Api::new().await;
    let admin = api.admin().await;
    let r = api
        .post(
            "/api/users",
            &admin,
            json!({"email": "c@example.org", "password": PASSWORD, "active": true}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(r.body["confirmation_sent"], true);
    let mail = api.mails().pop().unwrap();
    assert!(
        mail.contains("To: c@example.org") && mail.contains("http://gatehouse.test/confirm?token="),
        "{mail}"
    );
    let token = api.last_link_token();
    api.call(
        Method::POST,
        "/api/confirm",
        None,
        Some(json!({"token": token})),
    )
    .await
    .expect(StatusCode::OK);
    api.login("c@example.org").await;
    let again = api
        .call(
            Method::POST,
            "/api/confirm",
            None,
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(
        again.expect(StatusCode::UNPROCESSABLE_ENTITY).code(),
        "invalid"
    );
    // Resend for an unconfirmed user, and follow the link as a browser would.
    api.post(
        "/api/users",
        &admin,
        json!({"email": "d@example.org", "password": PASSWORD, "active": true}),
    )
    .await
    .expect(StatusCode::CREATED);
    api.post(
        "/api/users/d@example.org/send-confirmation",
        &admin,
        json!({}),
    )
    .await
    .expect(StatusCode::ACCEPTED);
    assert_eq!(api.mails().len(), 2 + 1);
    let page = api
        .call(
            Method::GET,
            &format!("/confirm?token={}", api.last_link_token()),
            None,
            None,
        )
        .await;
    assert!(page.expect(StatusCode::OK).text.contains("is confirmed"));
    let already = api
        .post(
            "/api/users/d@example.org/send-confirmation",
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(
        already.expect(StatusCode::UNPROCESSABLE_ENTITY).code(),
        "invalid"
    );
}

#[tokio::test]
async fn password_reset_says_the_same_either_way_and_ends_sessions() {
    let api = Api::new().await;
    api.user("r@example.org", "user").await;
    let session = api.login("r@example.org").await;
    let known = api
        .call(
            Method::POST,
            "/api/password/forgot",
            None,
            Some(json!({"email": "r@example.org"})),
        )
        .await;
    let unknown = api
        .call(
            Method::POST,
            "/api/password/forgot",
            None,
            Some(json!({"email": "nobody@example.org"})),
        )
        .await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!(
        (known.status, known.body.clone()),
        (unknown.status, unknown.body)
    );
    // Mail goes out after the answer, from the reset worker.
    api.state.0.resets.idle().await;
    assert_eq!(api.mails().len(), 1, "only the real account gets mail");
    let token = api.last_link_token();
    let short = api
        .call(
            Method::POST,
            "/api/password/reset",
            None,
            Some(json!({"token": token, "password": "short"})),
        )
        .await;
    assert_eq!(
        short.expect(StatusCode::UNPROCESSABLE_ENTITY).code(),
        "invalid"
    );
    api.call(
        Method::POST,
        "/api/password/reset",
        None,
        Some(json!({"token": token, "password": "a-new-password"})),
    )
    .await
    .expect(StatusCode::OK);
    api.get("/api/me", &session)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    api.call(
        Method::POST,
        "/api/login",
        None,
        Some(json!({"email": "r@example.org", "password": "a-new-password"})),
    )
    .await
    .expect(StatusCode::OK);
    api.call(
        Method::POST,
        "/api/password/reset",
        None,
        Some(json!({"token": token, "password": "another-password"})),
    )
    .await
    .expect(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn health_readiness_metrics() {
    let api = Api::new().await;
    api.call(Method::GET, "/healthz", None, None)
        .await
        .expect(StatusCode::OK);
    let ready = api
        .call(Method::GET, "/readyz", None, None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ready.body["store"], "sqlite");
    api.call(
        Method::POST,
        "/api/check",
        None,
        Some(json!({"privilege": "eprint/archive/view"})),
    )
    .await
    .expect(StatusCode::OK);
    // Issue 11, failure 9: /metrics was public. Without the token it is refused.
    api.call(Method::GET, "/metrics", None, None)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let m = api
        .call(
            Method::GET,
            "/metrics",
            Some("metrics-token-for-tests"),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert!(
        m.text.contains(
            "gatehouse_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{}",
        m.text
    );
    assert!(m
        .text
        .contains("gatehouse_checks_total{decision=\"allowed\"} 1"));
    assert!(m
        .text
        .contains("gatehouse_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
}
