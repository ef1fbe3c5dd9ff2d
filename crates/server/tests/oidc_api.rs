//! The OpenID Connect provider in process: every endpoint and every error code of issue 14
//! (`invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
//! `unsupported_grant_type`, `invalid_scope`, `access_denied`, `login_required`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::http::{header, Method, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::oidc::*;
use common::{operator, Api, PASSWORD};
use gatehouse_core::oidc::clients::NewClient;
use gatehouse_core::UserRef;
use serde_json::json;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn discovery_and_jwks_describe_the_provider() {
    let api = Api::new().await;
    let d = get(&api, "/.well-known/openid-configuration", None)
        .await
        .expect(StatusCode::OK);
    let iss = api.state.0.settings.oidc.issuer.clone();
    assert_eq!(d.body["issuer"], iss);
    assert_eq!(d.body["token_endpoint"], format!("{iss}/oauth/token"));
    assert_eq!(d.body["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        d.body["authorization_response_iss_parameter_supported"],
        true
    );
    let j = get(&api, "/oauth/jwks", None).await.expect(StatusCode::OK);
    let keys = j.body["keys"].as_array().unwrap();
    let mut kinds: Vec<&str> = keys.iter().map(|k| k["kty"].as_str().unwrap()).collect();
    kinds.sort_unstable();
    assert_eq!(kinds, vec!["OKP", "RSA"]);
    assert!(
        keys.iter().all(|k| k.get("d").is_none()),
        "no private part: {}",
        j.text
    );
}

#[tokio::test]
async fn code_flow_with_pkce_gives_signed_id_token_userinfo_and_rotating_refresh() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let s = session(&api).await;
    let code = code_for(&api, &rp, &s).await;
    let t = exchange(&api, &rp, &code).await.expect(StatusCode::OK);
    assert_eq!(t.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(t.body["token_type"], "Bearer");
    assert_eq!(t.body["expires_in"], 300);
    let access = t.body["access_token"].as_str().unwrap().to_owned();
    let id_token = t.body["id_token"].as_str().unwrap();
    let settings = api.state.0.settings.oidc.clone();
    let claims = api
        .gh()
        .verify_id_token(id_token, &settings)
        .await
        .unwrap()
        .expect("signature checks against the JWKS");
    assert_eq!(claims, jwt_claims(id_token));
    assert_eq!(claims["aud"], rp.id);
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["email"], "ann@example.org");
    assert_eq!(claims["email_verified"], true);
    assert_ne!(claims["sub"], "ann@example.org");
    let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(access.as_bytes())[..16]);
    assert_eq!(claims["at_hash"], at_hash);
    assert_eq!(claims["user_type"], "user");
    assert!(claims["groups"].is_array());

    let u = api
        .get("/oauth/userinfo", &access)
        .await
        .expect(StatusCode::OK);
    assert_eq!(u.body["sub"], claims["sub"]);
    assert_eq!(u.body["preferred_username"], "ann@example.org");

    // Refresh: a new pair; the old refresh token used again revokes the whole chain.
    let r1 = t.body["refresh_token"].as_str().unwrap().to_owned();
    let t2 = refresh(&api, &rp, &r1).await.expect(StatusCode::OK);
    let r2 = t2.body["refresh_token"].as_str().unwrap().to_owned();
    let access2 = t2.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    let widen = form(
        &api,
        "/oauth/token",
        Some(&rp),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r2),
            ("scope", "openid offline_access"),
        ],
        None,
    )
    .await;
    assert_eq!(oauth_error(&widen), "invalid_scope");
    let reuse = refresh(&api, &rp, &r1)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&reuse), "invalid_grant");
    let gone = refresh(&api, &rp, &r2).await;
    assert_eq!(oauth_error(&gone), "invalid_grant");
    let i = form(
        &api,
        "/oauth/introspect",
        Some(&rp),
        &[("token", &access2)],
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(i.body, json!({"active": false}));
    api.get("/oauth/userinfo", &access2)
        .await
        .expect(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn codes_are_single_use_bound_and_a_replay_revokes() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let other = client(&api, true, false).await;
    let s = session(&api).await;
    let code = code_for(&api, &rp, &s).await;
    // Another client, another redirect URI, a wrong verifier: refused, the code survives.
    assert_eq!(
        oauth_error(&exchange(&api, &other, &code).await),
        "invalid_grant"
    );
    let wrong_uri = form(
        &api,
        "/oauth/token",
        Some(&rp),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://rp.example.org/other"),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await;
    assert_eq!(oauth_error(&wrong_uri), "invalid_grant");
    let wrong_verifier = form(
        &api,
        "/oauth/token",
        Some(&rp),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", "x".repeat(43).as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(oauth_error(&wrong_verifier), "invalid_grant");
    let t = exchange(&api, &rp, &code).await.expect(StatusCode::OK);
    let access = t.body["access_token"].as_str().unwrap();
    let replay = exchange(&api, &rp, &code)
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert_eq!(oauth_error(&replay), "invalid_grant");
    api.get("/oauth/userinfo", access)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    assert_eq!(
        oauth_error(&exchange(&api, &rp, "made-up").await),
        "invalid_grant"
    );
}

#[tokio::test]
async fn token_endpoint_errors() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let r = form(
        &api,
        "/oauth/token",
        Some(&rp),
        &[
            ("grant_type", "password"),
            ("username", "a"),
            ("password", "b"),
        ],
        None,
    )
    .await;
    assert_eq!(oauth_error(&r), "unsupported_grant_type");
    let r = form(
        &api,
        "/oauth/token",
        Some(&rp),
        &[("grant_type", "implicit")],
        None,
    )
    .await;
    assert_eq!(oauth_error(&r), "unsupported_grant_type");
    let r = form(&api, "/oauth/token", Some(&rp), &[("code", "x")], None).await;
    assert_eq!(oauth_error(&r), "invalid_request");
    let r = form(
        &api,
        "/oauth/token",
        Some(&rp),
        &[("grant_type", "authorization_code")],
        None,
    )
    .await;
    assert_eq!(oauth_error(&r), "invalid_request");
    let wrong = Rp {
        id: rp.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let r = form(
        &api,
        "/oauth/token",
        Some(&wrong),
        &[("grant_type", "authorization_code"), ("code", "x")],
        None,
    )
    .await
    .expect(StatusCode::UNAUTHORIZED);
    assert_eq!(oauth_error(&r), "invalid_client");
    assert!(!r.text.contains("not-the-secret"));
    let r = form(
        &api,
        "/oauth/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("client_id", &rp.id),
            ("client_secret", "nope"),
        ],
        None,
    )
    .await;
    assert_eq!(oauth_error(&r), "invalid_client");
    // client_secret_post works as well as Basic.
    let r = form(
        &api,
        "/oauth/token",
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &rp.id),
            ("client_secret", rp.secret.as_deref().unwrap()),
        ],
        None,
    )
    .await;
    assert_eq!(oauth_error(&r), "unauthorized_client");
}

#[tokio::test]
async fn client_credentials_carry_the_service_tokens_privileges() {
    let api = Api::new().await;
    api.gh()
        .create_service_token(&operator(), "repo", vec!["user/view".parse().unwrap()])
        .await
        .unwrap();
    let c = api
        .gh()
        .create_client(
            &operator(),
            NewClient {
                name: "Indexer".into(),
                service_token: Some("repo".into()),
                scopes: vec!["roles".into()],
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    let rp = Rp {
        id: c.client.id.to_string(),
        secret: c.secret,
    };
    let bad = form(
        &api,
        "/oauth/token",
        Some(&rp),
        &[("grant_type", "client_credentials"), ("scope", "email")],
        None,
    )
    .await;
    assert_eq!(oauth_error(&bad), "invalid_scope");
    let t = form(
        &api,
        "/oauth/token",
        Some(&rp),
        &[("grant_type", "client_credentials")],
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert!(t.body.get("refresh_token").is_none());
    let access = t.body["access_token"].as_str().unwrap();
    let i = form(
        &api,
        "/oauth/introspect",
        Some(&rp),
        &[("token", access)],
        None,
    )
    .await
    .expect(StatusCode::OK);
    assert_eq!(i.body["active"], true);
    assert_eq!(i.body["privileges"], json!(["user/view"]));
    form(&api, "/oauth/revoke", Some(&rp), &[("token", access)], None)
        .await
        .expect(StatusCode::OK);
    let i = form(
        &api,
        "/oauth/introspect",
        Some(&rp),
        &[("token", access)],
        None,
    )
    .await;
    assert_eq!(i.body, json!({"active": false}));
}

#[tokio::test]
async fn authorize_errors_never_redirect_to_unknown_places() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let s = session(&api).await;
    let unknown = Rp {
        id: "gh-unknown".into(),
        secret: None,
    };
    let r = get(&api, &authorize_url(&unknown, ""), Some(&s))
        .await
        .expect(StatusCode::BAD_REQUEST);
    assert!(r.headers.get(header::LOCATION).is_none());
    let r = get(
        &api,
        &authorize_url(&rp, "").replace(&enc(CB), &enc("https://evil.example.org/cb")),
        Some(&s),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.headers.get(header::LOCATION).is_none());
    // Errors after the redirect URI is trusted go back to it, with state and iss.
    let r = get(
        &api,
        &authorize_url(&rp, "").replace("response_type=code", "response_type=token"),
        Some(&s),
    )
    .await;
    let to = location(&r);
    assert_eq!(
        param(&to, "error").as_deref(),
        Some("unsupported_response_type")
    );
    assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
    let r = get(
        &api,
        &authorize_url(&rp, "").replace("scope=openid", "scope=openid%20admin"),
        Some(&s),
    )
    .await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("invalid_scope")
    );
    let r = get(
        &api,
        &authorize_url(&rp, "").replace("S256", "plain"),
        Some(&s),
    )
    .await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("invalid_request")
    );
    // No session: to the log in page, or login_required with prompt=none.
    let r = get(&api, &authorize_url(&rp, ""), None).await;
    assert!(location(&r).starts_with("/oauth/login?return_to=%2Foauth%2Fauthorize%3F"));
    let r = get(&api, &authorize_url(&rp, "&prompt=none"), None).await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
    // `max_age`: a recent enough log in gets its code; an older one logs in again (the
    // log in page's way back drops `max_age`, as a fresh log in satisfies it), or gets
    // login_required with prompt=none; a value that is no number of seconds is refused.
    let r = get(&api, &authorize_url(&rp, "&max_age=3600"), Some(&s)).await;
    assert!(param(&location(&r), "code").is_some(), "{}", location(&r));
    let r = get(&api, &authorize_url(&rp, "&max_age=0"), Some(&s)).await;
    let to = location(&r);
    assert!(to.starts_with("/oauth/login?return_to="), "{to}");
    assert!(!to.contains("max_age"), "{to}");
    let r = get(
        &api,
        &authorize_url(&rp, "&max_age=0&prompt=none"),
        Some(&s),
    )
    .await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
    for bad in ["-1", "soon", "1.5"] {
        let r = get(
            &api,
            &authorize_url(&rp, &format!("&max_age={bad}")),
            Some(&s),
        )
        .await;
        let to = location(&r);
        assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
        assert!(
            param(&to, "error_description").is_some_and(|d| d.contains("max_age")),
            "{to}"
        );
    }
    // A public client must use PKCE.
    let public = client(&api, true, true).await;
    let no_pkce = authorize_url(&public, "").replace(
        &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
        "",
    );
    let r = get(&api, &no_pkce, Some(&s)).await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("invalid_request")
    );
    // ... and then exchanges without a secret.
    let code = code_for(&api, &public, &s).await;
    let t = form(
        &api,
        "/oauth/token",
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
            ("client_id", &public.id),
        ],
        None,
    )
    .await;
    assert_eq!(t.status, StatusCode::OK, "{}", t.text);
}

#[tokio::test]
async fn third_party_clients_ask_for_consent_with_csrf() {
    let api = Api::new().await;
    let rp = client(&api, false, false).await;
    let s = session(&api).await;
    let page = get(&api, &authorize_url(&rp, ""), Some(&s))
        .await
        .expect(StatusCode::OK);
    assert!(page.text.contains("Allow access?"));
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
    let csrf = page
        .text
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let fields = |csrf: &str, decision: &'static str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("response_type", "code".to_owned()),
            ("client_id", rp.id.clone()),
            ("redirect_uri", CB.to_owned()),
            ("scope", "openid email".to_owned()),
            ("state", "st-2".to_owned()),
            ("code_challenge", CHALLENGE.to_owned()),
            ("code_challenge_method", "S256".to_owned()),
            ("decision", decision.to_owned()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let api = &api;
        let s = s.clone();
        async move {
            let borrowed: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            form(
                api,
                "/oauth/authorize",
                None,
                &borrowed,
                Some(&format!("gatehouse_session={s}")),
            )
            .await
        }
    };
    post(fields("forged", "allow"))
        .await
        .expect(StatusCode::FORBIDDEN);
    let r = post(fields(&csrf, "deny")).await;
    let to = location(&r);
    assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&to, "state").as_deref(), Some("st-2"));
    let r = post(fields(&csrf, "allow")).await;
    assert!(param(&location(&r), "code").is_some());
    // prompt=none cannot show the page.
    let r = get(&api, &authorize_url(&rp, "&prompt=none"), Some(&s)).await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("consent_required")
    );
}

#[tokio::test]
async fn log_in_page_returns_to_the_authorization_request() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    api.user("ann@example.org", "user").await;
    let back = authorize_url(&rp, "");
    get(
        &api,
        "/oauth/login?return_to=https%3A%2F%2Fevil.example.org%2F",
        None,
    )
    .await
    .expect(StatusCode::BAD_REQUEST);
    let page = get(
        &api,
        &format!("/oauth/login?return_to={}", enc(&back)),
        None,
    )
    .await
    .expect(StatusCode::OK);
    let csrf = cookie(&page, "gatehouse_oauth_csrf").unwrap();
    let jar = format!("gatehouse_oauth_csrf={csrf}");
    let r = form(
        &api,
        "/oauth/login",
        None,
        &[
            ("csrf", &csrf),
            ("return_to", &back),
            ("login", "ann@example.org"),
            ("password", "wrong-password"),
        ],
        Some(&jar),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = form(
        &api,
        "/oauth/login",
        None,
        &[
            ("csrf", "forged"),
            ("return_to", &back),
            ("login", "ann@example.org"),
            ("password", PASSWORD),
        ],
        Some(&jar),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = form(
        &api,
        "/oauth/login",
        None,
        &[
            ("csrf", &csrf),
            ("return_to", &back),
            ("login", "ann@example.org"),
            ("password", PASSWORD),
        ],
        Some(&jar),
    )
    .await;
    assert_eq!(location(&r), back);
    let s = cookie(&r, "gatehouse_session").unwrap();
    code_for(&api, &rp, &s).await;
}

#[tokio::test]
async fn deactivation_password_change_and_client_revocation_end_tokens() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let s = session(&api).await;
    let t = exchange(&api, &rp, &code_for(&api, &rp, &s).await)
        .await
        .expect(StatusCode::OK);
    let refresh_token = t.body["refresh_token"].as_str().unwrap().to_owned();
    api.gh()
        .deactivate(&operator(), &UserRef::Email("ann@example.org".into()))
        .await
        .unwrap();
    let r = refresh(&api, &rp, &refresh_token).await;
    assert_eq!(oauth_error(&r), "invalid_grant");
    let i = form(
        &api,
        "/oauth/introspect",
        Some(&rp),
        &[("token", t.body["access_token"].as_str().unwrap())],
        None,
    )
    .await;
    assert_eq!(i.body["active"], false);

    // A revoked client: refused, and its tokens end.
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let s = session(&api).await;
    let t = exchange(&api, &rp, &code_for(&api, &rp, &s).await)
        .await
        .expect(StatusCode::OK);
    api.gh()
        .revoke_client(&operator(), &rp.id.parse().unwrap())
        .await
        .unwrap();
    api.get("/oauth/userinfo", t.body["access_token"].as_str().unwrap())
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let r = refresh(&api, &rp, t.body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(oauth_error(&r), "invalid_client");
}

#[tokio::test]
async fn revocation_of_a_refresh_token_takes_its_chain() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let s = session(&api).await;
    let t = exchange(&api, &rp, &code_for(&api, &rp, &s).await)
        .await
        .expect(StatusCode::OK);
    let r = form(&api, "/oauth/revoke", Some(&rp), &[], None).await;
    assert_eq!(oauth_error(&r), "invalid_request");
    form(
        &api,
        "/oauth/revoke",
        Some(&rp),
        &[("token", "unknown")],
        None,
    )
    .await
    .expect(StatusCode::OK);
    form(
        &api,
        "/oauth/revoke",
        Some(&rp),
        &[
            ("token", t.body["refresh_token"].as_str().unwrap()),
            ("token_type_hint", "refresh_token"),
        ],
        None,
    )
    .await
    .expect(StatusCode::OK);
    api.get("/oauth/userinfo", t.body["access_token"].as_str().unwrap())
        .await
        .expect(StatusCode::UNAUTHORIZED);
    let r = api
        .call(Method::GET, "/oauth/userinfo", None, None)
        .await
        .expect(StatusCode::UNAUTHORIZED);
    assert_eq!(oauth_error(&r), "invalid_token");
}

#[tokio::test]
async fn rp_initiated_logout_checks_the_redirect_and_ends_the_session() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let s = session(&api).await;
    let t = exchange(&api, &rp, &code_for(&api, &rp, &s).await)
        .await
        .expect(StatusCode::OK);
    let hint = t.body["id_token"].as_str().unwrap();
    let r = get(
        &api,
        &format!(
            "/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri={}",
            enc("https://evil.example.org/")
        ),
        Some(&s),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.headers.get(header::LOCATION).is_none());
    // Without a hint the user confirms.
    let r = get(
        &api,
        &format!("/oauth/logout?client_id={}", rp.id),
        Some(&s),
    )
    .await
    .expect(StatusCode::OK);
    assert!(r.text.contains("Log out?"));
    let r = get(
        &api,
        &format!(
            "/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=bye-1",
            enc("https://rp.example.org/bye")
        ),
        Some(&s),
    )
    .await;
    assert_eq!(location(&r), "https://rp.example.org/bye?state=bye-1");
    // The session is over.
    let r = get(&api, &authorize_url(&rp, "&prompt=none"), Some(&s)).await;
    assert_eq!(
        param(&location(&r), "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn clients_and_keys_over_the_json_api() {
    let api = Api::new().await;
    let admin = api.admin().await;
    let r = api
        .post(
            "/api/clients",
            &admin,
            json!({"name": "DSpace", "redirect_uris": [CB], "scopes": ["openid", "email"]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let id = r.body["id"].as_str().unwrap().to_owned();
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let shown = api
        .get(&format!("/api/clients/{id}"), &admin)
        .await
        .expect(StatusCode::OK);
    assert!(shown.body.get("secret").is_none());
    assert!(!shown.text.contains(&secret));
    let bad = api
        .post(
            "/api/clients",
            &admin,
            json!({"name": "x", "redirect_uris": ["http://evil.example.org/cb"]}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.code(), "invalid");
    let rotated = api
        .post(
            &format!("/api/clients/{id}/rotate-secret"),
            &admin,
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    assert_ne!(rotated.body["secret"].as_str().unwrap(), secret);
    let old = Rp {
        id: id.clone(),
        secret: Some(secret),
    };
    let r = form(
        &api,
        "/oauth/token",
        Some(&old),
        &[("grant_type", "client_credentials")],
        None,
    )
    .await;
    assert_eq!(oauth_error(&r), "invalid_client");
    api.post(&format!("/api/clients/{id}/revoke"), &admin, json!({}))
        .await
        .expect(StatusCode::OK);
    let listed = api.get("/api/clients", &admin).await.expect(StatusCode::OK);
    assert!(listed.body[0]["revoked"].is_string());
    api.get("/api/clients/gh-none", &admin)
        .await
        .expect(StatusCode::NOT_FOUND);
    let history = api.get("/api/history", &admin).await.expect(StatusCode::OK);
    for action in ["client.create", "client.rotate_secret", "client.revoke"] {
        assert!(history.text.contains(action), "{action}");
    }
    assert!(!history
        .text
        .contains(rotated.body["secret"].as_str().unwrap()));

    let keys = api.get("/api/keys", &admin).await.expect(StatusCode::OK);
    assert_eq!(keys.body.as_array().unwrap().len(), 2);
    assert!(keys
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|k| k["state"] == "signing"));
    let rotated = api
        .post("/api/keys/rotate", &admin, json!({}))
        .await
        .expect(StatusCode::OK);
    let states: Vec<&str> = rotated
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["state"].as_str().unwrap())
        .collect();
    // The default delay is an hour: the old keys still sign, the new ones are published.
    assert_eq!(states, vec!["signing", "signing", "published", "published"]);
    let jwks = get(&api, "/oauth/jwks", None).await.expect(StatusCode::OK);
    assert_eq!(jwks.body["keys"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn failed_client_authentications_are_throttled_and_successes_are_not() {
    let api = Api::new().await;
    let rp = client(&api, true, false).await;
    let wrong = Rp {
        id: rp.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    // Many concurrent-looking successes never run into the throttle.
    for _ in 0..40 {
        let r = form(
            &api,
            "/oauth/introspect",
            Some(&rp),
            &[("token", "x")],
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let mut statuses = Vec::new();
    for _ in 0..15 {
        let r = form(
            &api,
            "/oauth/introspect",
            Some(&wrong),
            &[("token", "x")],
            None,
        )
        .await;
        statuses.push(r.status.as_u16());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 401).count(),
        10,
        "{statuses:?}"
    );
    let r = form(
        &api,
        "/oauth/introspect",
        Some(&wrong),
        &[("token", "x")],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(oauth_error(&r), "slow_down");
    assert!(r.headers.get(header::RETRY_AFTER).is_some());
}
