//! The OpenID Connect provider end to end: a real `gatehouse serve`, and a relying party
//! built with the `openidconnect` crate (which nobody here wrote) doing discovery, the code
//! flow with PKCE through the log in page, ID token checks against the JWKS (signature,
//! nonce, `at_hash`), userinfo, refresh rotation with reuse detection, RP-initiated logout,
//! and key rotation while the client holds tokens signed by the old key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};

use common::{Env, Server};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

const CB: &str = "http://127.0.0.1:9/cb";
const BYE: &str = "http://127.0.0.1:9/bye";

/// A response: status, headers (lower-case names), body.
struct Http {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Http {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .find_map(|(_, v)| v.strip_prefix(&format!("{name}=")))
            .map(|v| v.split(';').next().unwrap().to_owned())
    }
}

/// One HTTP/1.1 exchange over a fresh connection (chunked bodies decoded).
fn send(addr: &str, method: &str, target: &str, headers: &[(String, String)], body: &[u8]) -> Http {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        if !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("host") {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut rest = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        let mut out = Vec::new();
        loop {
            let at = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..at]).unwrap().trim(), 16)
                .unwrap();
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[at + 2..at + 2 + size]);
            rest = rest[at + 2 + size + 2..].to_vec();
        }
        rest = out;
    }
    Http {
        status,
        headers,
        body: rest,
    }
}

/// The relying party's HTTP client for `openidconnect`.
fn rp_http(req: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, std::io::Error> {
    let uri = req.uri().clone();
    let addr = uri.authority().unwrap().to_string();
    let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    let r = send(&addr, req.method().as_str(), &target, &headers, req.body());
    let mut b = openidconnect::http::Response::builder().status(r.status);
    for (k, v) in &r.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    Ok(b.body(r.body).unwrap())
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let url = openidconnect::url::Url::parse(url).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn enc(s: &str) -> String {
    openidconnect::url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A browser: follows the authorization request through the log in page (logging in as
/// ann when there is no session) and returns the redirect to the client.
fn browse(addr: &str, auth_url: &str, session: &mut Option<String>) -> String {
    let path = |u: &str| {
        u.split_once(addr)
            .map_or(u.to_owned(), |(_, p)| p.to_owned())
    };
    let mut target = path(auth_url);
    for _ in 0..6 {
        let mut headers = Vec::new();
        if let Some(s) = session {
            headers.push(("Cookie".to_owned(), format!("gatehouse_session={s}")));
        }
        let r = send(addr, "GET", &target, &headers, b"");
        if r.status == 200 && target.starts_with("/oauth/login") {
            let csrf = r.cookie("gatehouse_oauth_csrf").unwrap();
            let return_to = query_param(&format!("http://{addr}{target}"), "return_to").unwrap();
            let form = format!(
                "csrf={csrf}&return_to={}&login={}&password=password-123",
                enc(&return_to),
                enc("ann@example.org")
            );
            let r = send(
                addr,
                "POST",
                "/oauth/login",
                &[
                    (
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                    ("Cookie".into(), format!("gatehouse_oauth_csrf={csrf}")),
                ],
                form.as_bytes(),
            );
            assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.body));
            *session = r.cookie("gatehouse_session");
            target = r.header("location").unwrap().to_owned();
            continue;
        }
        assert_eq!(
            r.status,
            303,
            "{target}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let to = r.header("location").unwrap().to_owned();
        if to.starts_with("http://127.0.0.1:9/") {
            return to;
        }
        target = path(&to);
    }
    panic!("too many redirects");
}

fn client(
    addr: &str,
    id: &str,
    secret: &str,
) -> (CoreProviderMetadata, impl Fn() -> CoreClientSet) {
    let issuer = IssuerUrl::new(format!("http://{addr}")).unwrap();
    let meta = CoreProviderMetadata::discover(&issuer, &rp_http).unwrap();
    let (id, secret) = (id.to_owned(), secret.to_owned());
    let m = meta.clone();
    (meta, move || {
        CoreClient::from_provider_metadata(
            m.clone(),
            ClientId::new(id.clone()),
            Some(ClientSecret::new(secret.clone())),
        )
        .set_redirect_uri(RedirectUrl::new(CB.into()).unwrap())
    })
}

type CoreClientSet = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Logs in through the code flow with PKCE; checks state, iss, the ID token (signature
/// against the JWKS, nonce, at_hash); returns the tokens.
fn log_in(addr: &str, rp: &CoreClientSet, session: &mut Option<String>) -> CoreTokenResponse {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("roles".into()))
        .set_pkce_challenge(challenge)
        .url();
    let back = browse(addr, url.as_str(), session);
    assert_eq!(
        query_param(&back, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(query_param(&back, "iss"), Some(format!("http://{addr}")));
    let code = query_param(&back, "code").unwrap();
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request(&rp_http)
        .unwrap();
    let id_token = tokens.id_token().unwrap();
    let verifier = rp.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).unwrap();
    let expected = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&expected));
    assert_eq!(claims.email().map(|e| e.as_str()), Some("ann@example.org"));
    tokens
}

fn kid(token: &CoreIdToken) -> String {
    let jwt = token.to_string();
    let header = jwt.split('.').next().unwrap();
    let bytes = base64_decode(header);
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["kid"].as_str().unwrap().to_owned()
}

fn base64_decode(s: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = alphabet.iter().position(|a| *a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}

#[test]
fn a_relying_party_logs_in_refreshes_logs_out_and_survives_key_rotation() {
    let env = Env::new();
    env.config("[oidc]\nkey_rotation_delay_secs = 0\n");
    env.user("ann@example.org", &[]);
    env.write(
        "users.yaml",
        "- email: admin@example.org\n  active: true\n  confirmed: true\n  password: admin-password\n  type: admin\n  allow: [superuser-access]\n",
    );
    env.run(&["fixtures", "load"]).ok();
    let created = env.run(&[
        "clients",
        "create",
        "Repository",
        "--redirect-uri",
        CB,
        "--first-party",
        "--post-logout-redirect-uri",
        BYE,
        "--json",
    ]);
    created.ok();
    let created = created.json();
    let id = created["client"]["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    let server = Server::start(&env);
    let addr = server.addr.clone();

    // Discovery and the code flow with PKCE.
    let (_, make) = client(&addr, &id, &secret);
    let rp = make();
    let mut session = None;
    let tokens = log_in(&addr, &rp, &mut session);

    // Userinfo with the access token.
    let info: openidconnect::core::CoreUserInfoClaims = rp
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request(&rp_http)
        .unwrap();
    assert_eq!(info.email().map(|e| e.as_str()), Some("ann@example.org"));

    // Refresh rotates; the old refresh token used again revokes the chain.
    let r1 = tokens.refresh_token().unwrap().clone();
    let t2 = rp
        .exchange_refresh_token(&r1)
        .unwrap()
        .request(&rp_http)
        .unwrap();
    let r2 = t2.refresh_token().unwrap().clone();
    assert_ne!(r1.secret(), r2.secret());
    let reuse = rp.exchange_refresh_token(&r1).unwrap().request(&rp_http);
    assert!(
        format!("{reuse:?}").contains("invalid_grant")
            || format!("{reuse:?}").contains("InvalidGrant"),
        "{reuse:?}"
    );
    assert!(rp
        .exchange_refresh_token(&r2)
        .unwrap()
        .request(&rp_http)
        .is_err());

    // RP-initiated logout with the ID token as hint.
    let hint = tokens.id_token().unwrap().to_string();
    let r = send(
        &addr,
        "GET",
        &format!(
            "/oauth/logout?id_token_hint={hint}&post_logout_redirect_uri={}&state=s1",
            enc(BYE)
        ),
        &[(
            "Cookie".into(),
            format!("gatehouse_session={}", session.clone().unwrap()),
        )],
        b"",
    );
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some(format!("{BYE}?state=s1").as_str())
    );
    let (url, _, _) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_extra_param("prompt", "none")
        .url();
    let target = url.as_str().split_once(&addr).unwrap().1.to_owned();
    let r = send(
        &addr,
        "GET",
        &target,
        &[(
            "Cookie".into(),
            format!("gatehouse_session={}", session.clone().unwrap()),
        )],
        b"",
    );
    assert_eq!(
        query_param(r.header("location").unwrap(), "error").as_deref(),
        Some("login_required")
    );

    // Key rotation while the client holds a token signed by the old key.
    let mut session = None;
    let old = log_in(&addr, &rp, &mut session);
    let admin = server.login("admin@example.org", "admin-password");
    let (status, keys) = server.call("POST", "/api/keys/rotate", Some(&admin), None);
    assert_eq!(status, 200, "{keys}");
    // With `key_rotation_delay_secs = 0` the new key signs at once, so the client fetches
    // the JWKS again (with the default delay of an hour, it is published long before).
    let (_, make_again) = client(&addr, &id, &secret);
    let rp2 = make_again();
    let new = log_in(&addr, &rp2, &mut session);
    let (old_kid, new_kid) = (kid(old.id_token().unwrap()), kid(new.id_token().unwrap()));
    assert_ne!(old_kid, new_kid);
    // The token signed by the old key still verifies: its key is still published.
    let verifier = rp2.id_token_verifier().require_issuer_match(true);
    let claims = old
        .id_token()
        .unwrap()
        .claims(&verifier, |_: Option<&Nonce>| Ok(()));
    assert!(claims.is_ok(), "{claims:?}");
    let jwks = String::from_utf8(send(&addr, "GET", "/oauth/jwks", &[], b"").body).unwrap();
    assert!(jwks.contains(&old_kid) && jwks.contains(&new_kid), "{jwks}");
    server.stop();
}
