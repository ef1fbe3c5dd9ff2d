//! The OpenID Connect provider's test helpers: a client, Ann's session, the authorization
//! request and the token exchange, driven in process.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use gatehouse_core::oidc::clients::NewClient;
use serde_json::{json, Value};

use super::{operator, Api, Resp, PASSWORD};

pub const CB: &str = "https://rp.example.org/cb";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct Rp {
    pub id: String,
    pub secret: Option<String>,
}

pub async fn client(api: &Api, first_party: bool, public: bool) -> Rp {
    let c = api
        .gh()
        .create_client(
            &operator(),
            NewClient {
                name: "Repository".into(),
                redirect_uris: vec![CB.into()],
                post_logout_redirect_uris: vec!["https://rp.example.org/bye".into()],
                public,
                first_party,
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    Rp {
        id: c.client.id.to_string(),
        secret: c.secret,
    }
}

/// Ann, logged in: her session cookie's token.
pub async fn session(api: &Api) -> String {
    api.user("ann@example.org", "user").await;
    let r = api
        .call(
            Method::POST,
            "/api/login",
            None,
            Some(json!({"email": "ann@example.org", "password": PASSWORD})),
        )
        .await
        .expect(StatusCode::OK);
    cookie(&r, "gatehouse_session").unwrap()
}

pub fn cookie(r: &Resp, name: &str) -> Option<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_owned())
}

pub fn enc(s: &str) -> String {
    gatehouse_server::admin::html::pct(s)
}

pub fn authorize_url(rp: &Rp, extra: &str) -> String {
    format!(
        "/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid%20email%20profile%20roles&state=st-1&nonce=n-1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        rp.id,
        enc(CB)
    )
}

pub async fn get(api: &Api, url: &str, session: Option<&str>) -> Resp {
    let mut b = Request::builder().method(Method::GET).uri(url);
    if let Some(s) = session {
        b = b.header(header::COOKIE, format!("gatehouse_session={s}"));
    }
    api.send(b.body(Body::empty()).unwrap()).await
}

pub async fn form(
    api: &Api,
    url: &str,
    basic: Option<&Rp>,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> Resp {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(rp) = basic {
        let creds = format!("{}:{}", rp.id, rp.secret.clone().unwrap_or_default());
        b = b.header(
            header::AUTHORIZATION,
            format!("Basic {}", STANDARD.encode(creds)),
        );
    }
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    api.send(b.body(Body::from(body.join("&"))).unwrap()).await
}

pub fn location(r: &Resp) -> String {
    r.headers
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("no Location: {} {}", r.status, r.text))
        .to_str()
        .unwrap()
        .to_owned()
}

pub fn param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            let bytes = v.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' {
                    out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                    i += 3;
                } else {
                    out.push(bytes[i]);
                    i += 1;
                }
            }
            String::from_utf8(out).unwrap()
        })
    })
}

pub async fn code_for(api: &Api, rp: &Rp, session: &str) -> String {
    let r = get(api, &authorize_url(rp, ""), Some(session)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let to = location(&r);
    assert!(to.starts_with(CB), "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some("st-1"));
    assert_eq!(
        param(&to, "iss").as_deref(),
        Some(api.state.0.settings.oidc.issuer.as_str())
    );
    param(&to, "code").unwrap()
}

pub async fn exchange(api: &Api, rp: &Rp, code: &str) -> Resp {
    form(
        api,
        "/oauth/token",
        Some(rp),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
        None,
    )
    .await
}

/// `grant_type=refresh_token` with `token`, authenticated as `rp`.
pub async fn refresh(api: &Api, rp: &Rp, token: &str) -> Resp {
    form(
        api,
        "/oauth/token",
        Some(rp),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
        None,
    )
    .await
}

pub fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub fn oauth_error(r: &Resp) -> &str {
    r.body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no OAuth error in {} {}", r.status, r.text))
}
