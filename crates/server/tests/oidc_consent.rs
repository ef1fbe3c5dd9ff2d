//! The OpenID Connect provider's remembered consent, `auth_time` and roles claim, in
//! process: a consent is asked once per (user, client, scopes), forgotten on request or
//! when the client is revoked; `auth_time` is the session's log in time and stays put on
//! refresh; the roles claim follows the engine (run-time roles in, deleted roles out).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use common::oidc::*;
use common::{operator, Api};
use gatehouse_core::{GrantTo, Store, UserRef};
use gatehouse_policy::{Effect, Entry, Privilege, RoleName};
use serde_json::json;

/// The consent page's CSRF token.
fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// Answers the consent page for the request `authorize_url(rp, "")` asks (scope
/// `openid email profile roles`) with "Allow"; returns the redirect's code.
async fn allow(api: &Api, rp: &Rp, session: &str, csrf: &str, scope: &str) -> String {
    let fields = [
        ("csrf", csrf),
        ("response_type", "code"),
        ("client_id", rp.id.as_str()),
        ("redirect_uri", CB),
        ("scope", scope),
        ("state", "st-1"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("decision", "allow"),
    ];
    let r = form(
        api,
        "/oauth/authorize",
        None,
        &fields,
        Some(&format!("gatehouse_session={session}")),
    )
    .await;
    param(&location(&r), "code").unwrap_or_else(|| panic!("no code: {}", location(&r)))
}

fn scoped_url(rp: &Rp, scope: &str, extra: &str) -> String {
    authorize_url(rp, extra).replace(
        "scope=openid%20email%20profile%20roles",
        &format!("scope={}", scope.replace(' ', "%20")),
    )
}

#[tokio::test]
async fn consent_is_remembered_per_user_client_and_scopes() {
    let api = Api::new().await;
    let admin = api.admin().await;
    let rp = client(&api, false, false).await;
    let s = session(&api).await;

    // First time: the page; "Allow" gives a code and remembers `openid email`.
    let page = get(&api, &scoped_url(&rp, "openid email", ""), Some(&s))
        .await
        .expect(StatusCode::OK);
    assert!(page.text.contains("Allow access?"));
    let code = allow(&api, &rp, &s, &csrf_of(&page.text), "openid email").await;
    exchange(&api, &rp, &code).await.expect(StatusCode::OK);

    // The same scopes (or fewer): straight back with a code, `prompt=none` included.
    for (scope, extra) in [
        ("openid email", ""),
        ("openid", ""),
        ("openid email", "&prompt=none"),
    ] {
        let r = get(&api, &scoped_url(&rp, scope, extra), Some(&s)).await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{scope}{extra}: {}",
            r.text
        );
        assert!(param(&location(&r), "code").is_some(), "{scope}{extra}");
    }
    // A wider request asks again; `prompt=consent` always asks.
    let wider = get(&api, &scoped_url(&rp, "openid email roles", ""), Some(&s))
        .await
        .expect(StatusCode::OK);
    assert!(wider.text.contains("Allow access?"));
    get(
        &api,
        &scoped_url(&rp, "openid", "&prompt=consent"),
        Some(&s),
    )
    .await
    .expect(StatusCode::OK);
    let r = get(
        &api,
        &scoped_url(&rp, "openid roles", "&prompt=none"),
        Some(&s),
    )
    .await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("consent_required")
    );
    // Allowing the wider request widens what is remembered.
    allow(&api, &rp, &s, &csrf_of(&wider.text), "openid email roles").await;
    let r = get(&api, &scoped_url(&rp, "openid roles", ""), Some(&s)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // Forgotten over the API: asked again. Bob gave none, so forgetting his changes nothing.
    api.user("bob@example.org", "user").await;
    let none = api
        .post(
            &format!("/api/clients/{}/forget-consent", rp.id),
            &admin,
            json!({"user": "bob@example.org"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(none.body["consents_forgotten"], 0);
    let one = api
        .post(
            &format!("/api/clients/{}/forget-consent", rp.id),
            &admin,
            json!({"user": "ann@example.org"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(one.body["consents_forgotten"], 1);
    get(&api, &scoped_url(&rp, "openid", ""), Some(&s))
        .await
        .expect(StatusCode::OK);
    // Bad input is named, never a panic.
    let bad = api
        .post(
            &format!("/api/clients/{}/forget-consent", rp.id),
            &admin,
            json!({"user": "nobody"}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("`nobody`"), "{}", bad.text);
    api.post("/api/clients/gh-none/forget-consent", &admin, json!({}))
        .await
        .expect(StatusCode::NOT_FOUND);
    api.post(
        &format!("/api/clients/{}/forget-consent", rp.id),
        &admin,
        json!({"user": "nobody@example.org"}),
    )
    .await
    .expect(StatusCode::NOT_FOUND);
    // A plain user may not.
    let ann = api.login("ann@example.org").await;
    api.post(
        &format!("/api/clients/{}/forget-consent", rp.id),
        &ann,
        json!({}),
    )
    .await
    .expect(StatusCode::FORBIDDEN);

    // Revoking the client drops every consent given to it.
    let page = get(&api, &scoped_url(&rp, "openid", ""), Some(&s))
        .await
        .expect(StatusCode::OK);
    allow(&api, &rp, &s, &csrf_of(&page.text), "openid").await;
    api.post(&format!("/api/clients/{}/revoke", rp.id), &admin, json!({}))
        .await
        .expect(StatusCode::OK);
    let history = api
        .get("/api/history?limit=200", &admin)
        .await
        .expect(StatusCode::OK);
    for action in ["client.consent", "client.forget_consent", "client.revoke"] {
        assert!(history.text.contains(action), "{action}");
    }
    let revoke = history
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "client.revoke")
        .unwrap()
        .clone();
    assert_eq!(revoke["details"]["consents_forgotten"], 1, "{revoke}");
}

#[tokio::test]
async fn first_party_clients_never_ask_unless_prompted() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let s = session(&api).await;
    code_for(&api, &rp, &s).await;
    let page = get(&api, &authorize_url(&rp, "&prompt=consent"), Some(&s))
        .await
        .expect(StatusCode::OK);
    assert!(page.text.contains("Allow access?"));
}

#[tokio::test]
async fn auth_time_is_the_log_in_time_and_stays_on_refresh() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let before = chrono::Utc::now().timestamp();
    let s = session(&api).await;
    let logged_in = chrono::Utc::now().timestamp();
    // Time passes between the log in and the authorization, and again before the refresh.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let code = code_for(&api, &rp, &s).await;
    let t = exchange(&api, &rp, &code).await.expect(StatusCode::OK);
    let first = jwt_claims(t.body["id_token"].as_str().unwrap());
    let auth_time = first["auth_time"].as_i64().unwrap();
    assert!(
        (before..=logged_in).contains(&auth_time),
        "auth_time {auth_time} is not the log in ({before}..={logged_in})"
    );
    assert!(first["iat"].as_i64().unwrap() > auth_time);

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let refreshed = refresh(&api, &rp, t.body["refresh_token"].as_str().unwrap())
        .await
        .expect(StatusCode::OK);
    let second = jwt_claims(refreshed.body["id_token"].as_str().unwrap());
    assert_eq!(second["auth_time"].as_i64(), Some(auth_time));
    assert!(second["iat"].as_i64().unwrap() > first["iat"].as_i64().unwrap());

    // A new log in (prompt=login) is a new auth_time.
    let r = get(&api, &authorize_url(&rp, "&prompt=login"), Some(&s)).await;
    assert!(location(&r).starts_with("/oauth/login"), "{}", location(&r));
}

#[tokio::test]
async fn the_roles_claim_follows_the_engine() {
    let store: Arc<dyn Store> = Arc::new(gatehouse_store::SqliteStore::memory().await.unwrap());
    let api = Api::with_store(store.clone()).await;
    let rp = client(&api, true, false).await;
    let s = session(&api).await;
    let gh = api.gh();
    let hat: RoleName = "hat".parse().unwrap();
    // A role made at run time, a run-time grant to it, and Ann holding it.
    gh.create_role(
        &operator(),
        hat.clone(),
        Some("a run-time role".into()),
        vec![],
    )
    .await
    .unwrap();
    gh.grant(
        &operator(),
        Effect::Allow,
        Privilege::new("hat/wear").unwrap(),
        &GrantTo::Role(hat.clone()),
    )
    .await
    .unwrap();
    gh.add_entry(
        &operator(),
        &UserRef::Email("ann@example.org".into()),
        Entry::Role(hat.clone()),
    )
    .await
    .unwrap();
    let effective = api
        .get("/api/users/ann@example.org/effective", &api.admin().await)
        .await
        .expect(StatusCode::OK);
    let code = code_for(&api, &rp, &s).await;
    let t = exchange(&api, &rp, &code).await.expect(StatusCode::OK);
    let claims = jwt_claims(t.body["id_token"].as_str().unwrap());
    let groups: Vec<String> = serde_json::from_value(claims["groups"].clone()).unwrap();
    assert_eq!(groups.last().map(String::as_str), Some("hat"), "{groups:?}");
    assert_eq!(claims["roles"], json!(["hat"]));
    // The platform's effective set lists the very same roles.
    assert_eq!(effective.body["roles"], claims["groups"]);
    let access = t.body["access_token"].as_str().unwrap().to_owned();
    let info = api
        .call(Method::GET, "/oauth/userinfo", Some(&access), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(info.body["groups"], claims["groups"]);

    // The role is deleted (as an import or a hand edit can): never listed again.
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_role(&hat).await.unwrap());
    tx.commit().await.unwrap();
    let again = refresh(&api, &rp, t.body["refresh_token"].as_str().unwrap())
        .await
        .expect(StatusCode::OK);
    let claims = jwt_claims(again.body["id_token"].as_str().unwrap());
    assert!(
        !claims["groups"].to_string().contains("\"hat\""),
        "{claims}"
    );
    assert_eq!(claims["roles"], json!([]));
}
