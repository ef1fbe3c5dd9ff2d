//! The browser side of the OpenID Connect provider: the authorization endpoint with its
//! log in and consent pages, and RP-initiated logout.
//!
//! - The log in page (`/oauth/login`) calls the same [`crate::Shared::attempt_login`] as
//!   the admin UI and the API (throttle, one Argon2 verification, only active and confirmed
//!   accounts) and sets the same `gatehouse_session` cookie; it returns only to
//!   `/oauth/authorize?...` on this server, so it is no open redirect.
//! - The consent page is shown to third-party clients, unless the user's remembered
//!   consent to the client covers every requested scope (`prompt=consent` always asks);
//!   its form carries the session's CSRF token (as the admin UI's forms do) and the
//!   request's parameters, checked again when it comes back, and "Allow" remembers it.
//! - Errors about the client or the redirect URI are shown here and never redirected;
//!   every other error goes back to the registered redirect URI with `state` and `iss`
//!   (RFC 9207).
//! - Every page is `no-store` and refuses to be framed.

use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use gatehouse_core::oidc::flow::{AuthParams, AuthRefusal, AuthRequest, LoggedIn};
use gatehouse_core::oidc::OAuthError;
use gatehouse_core::Actor;
use serde::Deserialize;

use crate::admin::csrf_token;
use crate::admin::html::{esc, pct};
use crate::client::Client;
use crate::{cookie_value, AppState, SESSION_COOKIE};

const LOGIN_CSRF_COOKIE: &str = "gatehouse_oauth_csrf";

/// A page of the provider: the admin style sheet, no framing, no caching.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title} · Gatehouse</title>\
         <link rel=\"stylesheet\" href=\"/admin/admin.css\"></head><body>\
         <header><span class=\"brand\">Gatehouse</span></header>\
         <main id=\"main\"><h1>{title}</h1>{body}</main></body></html>",
        title = esc(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; frame-ancestors 'none'; form-action 'self' https: http://localhost:* http://127.0.0.1:* http://[::1]:*",
            ),
        ],
        html,
    )
        .into_response()
}

fn error_page(e: &OAuthError) -> Response {
    let text = match e {
        OAuthError::Protocol { description, .. } => description.clone(),
        OAuthError::Core(err) => {
            tracing::error!(error = %err, "authorization endpoint: internal error");
            "something went wrong; please try again later".to_owned()
        }
    };
    let status = if matches!(e, OAuthError::Core(_)) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::BAD_REQUEST
    };
    page(
        status,
        "Log in refused",
        &format!(
            "<p class=\"refusal\">The application that sent you here made a request this \
             server cannot accept: {} ({}).</p><p>Go back to the application and try again, \
             or tell its administrators.</p>",
            esc(&text),
            esc(e.code())
        ),
    )
}

/// `uri` with `params` added to its query.
fn with_query(uri: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (k, v) in params {
        if let Some(v) = v {
            out.push(sep);
            out.push_str(k);
            out.push('=');
            out.push_str(&pct(v));
            sep = '&';
        }
    }
    out
}

fn see_other(to: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn redirect_error(
    state: &AppState,
    redirect_uri: &str,
    st: Option<&str>,
    e: &OAuthError,
) -> Response {
    let description = match e {
        OAuthError::Protocol { description, .. } => description.clone(),
        OAuthError::Core(err) => {
            tracing::error!(error = %err, "authorization endpoint: internal error");
            "internal error".to_owned()
        }
    };
    see_other(&with_query(
        redirect_uri,
        &[
            ("error", Some(e.code())),
            ("error_description", Some(&description)),
            ("state", st),
            ("iss", Some(&state.0.settings.oidc.issuer)),
        ],
    ))
}

fn refused(state: &AppState, r: AuthRefusal) -> Response {
    match r {
        AuthRefusal::Show(e) => error_page(&e),
        AuthRefusal::Redirect {
            redirect_uri,
            state: st,
            error,
        } => redirect_error(state, &redirect_uri, st.as_deref(), &error),
    }
}

/// The logged-in user of the session cookie (never a bearer token: this is a browser
/// flow) with when they logged in, the cookie's token and the session's id.
async fn session_user(state: &AppState, headers: &HeaderMap) -> Option<(LoggedIn, String, i64)> {
    let token = cookie_value(headers, SESSION_COOKIE)?;
    match state.0.gh.resolve_token(token).await {
        Ok(Some(r)) => match r.principal.actor {
            Actor::User(id) => Some((
                LoggedIn {
                    user: id,
                    since: r.principal.since,
                },
                token.to_owned(),
                r.principal.credential,
            )),
            _ => None,
        },
        _ => None,
    }
}

/// The query of an authorization request rebuilt from its parameters (`prompt=login` and
/// `max_age` dropped, so that coming back from the log in page, just logged in, does not
/// ask again).
fn authorize_query(p: &AuthParams) -> String {
    let prompt = p
        .prompt
        .as_deref()
        .map(|v| {
            v.split(' ')
                .filter(|x| !x.is_empty() && *x != "login")
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|v| !v.is_empty());
    with_query(
        "/oauth/authorize",
        &[
            ("response_type", p.response_type.as_deref()),
            ("client_id", p.client_id.as_deref()),
            ("redirect_uri", p.redirect_uri.as_deref()),
            ("scope", p.scope.as_deref()),
            ("state", p.state.as_deref()),
            ("nonce", p.nonce.as_deref()),
            ("code_challenge", p.code_challenge.as_deref()),
            ("code_challenge_method", p.code_challenge_method.as_deref()),
            ("prompt", prompt.as_deref()),
        ],
    )
}

async fn grant(state: &AppState, req: &AuthRequest, who: LoggedIn, consented: bool) -> Response {
    match state.0.gh.issue_code(req, who, consented).await {
        Ok(code) => see_other(&with_query(
            &req.redirect_uri,
            &[
                ("code", Some(&code)),
                ("state", req.state.as_deref()),
                ("iss", Some(&state.0.settings.oidc.issuer)),
            ],
        )),
        Err(e) => redirect_error(state, &req.redirect_uri, req.state.as_deref(), &e),
    }
}

fn hidden(name: &str, value: Option<&str>) -> String {
    value.map_or_else(String::new, |v| {
        format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(name),
            esc(v)
        )
    })
}

fn consent_page(req: &AuthRequest, p: &AuthParams, csrf: &str) -> Response {
    let scopes: String = req
        .scope
        .split(' ')
        .map(|s| {
            let what = match s {
                "openid" => "know who you are (an identifier of your account)",
                "email" => "see your email address",
                "profile" => "see your name, username and affiliations",
                "roles" => "see your user type and roles",
                "offline_access" => "stay logged in when you are away",
                other => other,
            };
            format!("<li>{}</li>", esc(what))
        })
        .collect();
    let fields = [
        hidden("csrf", Some(csrf)),
        hidden("response_type", p.response_type.as_deref()),
        hidden("client_id", p.client_id.as_deref()),
        hidden("redirect_uri", p.redirect_uri.as_deref()),
        hidden("scope", p.scope.as_deref()),
        hidden("state", p.state.as_deref()),
        hidden("nonce", p.nonce.as_deref()),
        hidden("code_challenge", p.code_challenge.as_deref()),
        hidden("code_challenge_method", p.code_challenge_method.as_deref()),
    ]
    .concat();
    page(
        StatusCode::OK,
        "Allow access?",
        &format!(
            "<form method=\"post\" action=\"/oauth/authorize\" class=\"card narrow\">{fields}\
             <p><strong>{name}</strong> asks to:</p><ul>{scopes}</ul>\
             <p class=\"hint\">It will send you back to <code>{uri}</code>.</p>\
             <p><button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button> \
             <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></p></form>",
            name = esc(&req.client.name),
            uri = esc(&req.redirect_uri),
        ),
    )
}

/// `GET /oauth/authorize`: the authorization endpoint (OpenID Connect Core 3.1.2).
#[utoipa::path(get, path = "/oauth/authorize", tag = "oidc",
    params(("client_id" = Option<String>, Query, description = "the client"),
        ("redirect_uri" = Option<String>, Query, description = "one of the client's redirect URIs, exactly"),
        ("response_type" = Option<String>, Query, description = "`code`"),
        ("scope" = Option<String>, Query, description = "e.g. `openid email profile roles`"),
        ("state" = Option<String>, Query, description = "passed back"),
        ("nonce" = Option<String>, Query, description = "bound into the ID token"),
        ("code_challenge" = Option<String>, Query, description = "PKCE S256 challenge"),
        ("code_challenge_method" = Option<String>, Query, description = "`S256`"),
        ("prompt" = Option<String>, Query, description = "`none`, `login` or `consent`"),
        ("max_age" = Option<String>, Query, description = "seconds: an older log in is asked again")),
    responses((status = 303, description = "to the log in page, or back to the client with `code` or `error`, `state` and `iss`"),
        (status = 200, description = "the consent page", content_type = "text/html"),
        (status = 400, description = "unknown client or redirect URI (never redirected)", content_type = "text/html")))]
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<AuthParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(p)) = params else {
        return error_page(&OAuthError::invalid_request(
            "the request's parameters are malformed (each may be given once)",
        ));
    };
    let req = match state.0.gh.check_authorize(&p).await {
        Ok(r) => r,
        Err(r) => return refused(&state, r),
    };
    let forced_login = req.prompt.iter().any(|x| x == "login");
    let session = if forced_login {
        None
    } else {
        // A log in older than `max_age` counts as none: the user logs in again.
        session_user(&state, &headers)
            .await
            .filter(|(who, _, _)| !req.too_old(who.since, chrono::Utc::now()))
    };
    let Some((user, token, _)) = session else {
        if req.prompt.iter().any(|x| x == "none") {
            return redirect_error(
                &state,
                &req.redirect_uri,
                req.state.as_deref(),
                &OAuthError::Protocol {
                    code: "login_required",
                    description: "the user is not logged in".into(),
                },
            );
        }
        return see_other(&format!(
            "/oauth/login?return_to={}",
            pct(&authorize_query(&p))
        ));
    };
    match state.0.gh.needs_consent(&req, user.user).await {
        Ok(false) => return grant(&state, &req, user, false).await,
        Ok(true) => {}
        Err(e) => return redirect_error(&state, &req.redirect_uri, req.state.as_deref(), &e),
    }
    if req.prompt.iter().any(|x| x == "none") {
        return redirect_error(
            &state,
            &req.redirect_uri,
            req.state.as_deref(),
            &OAuthError::Protocol {
                code: "consent_required",
                description: "this client needs the user's consent".into(),
            },
        );
    }
    consent_page(&req, &p, &csrf_token(&token))
}

/// The consent form as posted: the request's parameters, the CSRF token and the decision.
#[derive(Debug, Default, Deserialize)]
pub struct ConsentForm {
    #[serde(flatten)]
    params: AuthParams,
    csrf: Option<String>,
    decision: Option<String>,
}

/// `POST /oauth/authorize`: the consent page's answer.
pub async fn consent(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return error_page(&OAuthError::invalid_request("the form is malformed"));
    };
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let f = ConsentForm {
        params: AuthParams {
            response_type: get("response_type"),
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            scope: get("scope"),
            state: get("state"),
            nonce: get("nonce"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            prompt: None,
            max_age: None,
        },
        csrf: get("csrf"),
        decision: get("decision"),
    };
    let req = match state.0.gh.check_authorize(&f.params).await {
        Ok(r) => r,
        Err(r) => return refused(&state, r),
    };
    let Some((user, token, _)) = session_user(&state, &headers).await else {
        return see_other(&format!(
            "/oauth/login?return_to={}",
            pct(&authorize_query(&f.params))
        ));
    };
    if !crate::admin::same(f.csrf.as_deref().unwrap_or(""), &csrf_token(&token)) {
        return page(
            StatusCode::FORBIDDEN,
            "Form refused",
            "<p class=\"refusal\">This form came without its security token. Go back to the application and start again.</p>",
        );
    }
    match f.decision.as_deref() {
        Some("allow") => grant(&state, &req, user, true).await,
        _ => redirect_error(
            &state,
            &req.redirect_uri,
            req.state.as_deref(),
            &OAuthError::Protocol {
                code: "access_denied",
                description: "the user denied the request".into(),
            },
        ),
    }
}

/// Where the log in page may send the browser back to: an authorization request on this
/// server, nothing else.
fn safe_return(to: &str) -> Option<&str> {
    let ok = (to == "/oauth/authorize" || to.starts_with("/oauth/authorize?"))
        && !to.contains(['\\', '\r', '\n']);
    ok.then_some(to)
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    return_to: Option<String>,
}

fn login_form(
    status: StatusCode,
    csrf: &str,
    return_to: &str,
    login: &str,
    notice: Option<&str>,
) -> Response {
    let notice = notice.map_or_else(String::new, |n| {
        format!(
            "<div class=\"notice error\" role=\"alert\" id=\"notice\">{}</div>",
            esc(n)
        )
    });
    page(
        status,
        "Log in",
        &format!(
            "{notice}<form method=\"post\" action=\"/oauth/login\" class=\"card narrow\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"return_to\" value=\"{ret}\">\
             <p class=\"field\"><label for=\"f-login\">Email or username</label>\
             <input id=\"f-login\" name=\"login\" value=\"{login}\" required autocomplete=\"username\" autofocus></p>\
             <p class=\"field\"><label for=\"f-password\">Password</label>\
             <input id=\"f-password\" name=\"password\" type=\"password\" required autocomplete=\"current-password\"></p>\
             <p><button type=\"submit\">Log in</button></p></form>",
            csrf = esc(csrf),
            ret = esc(return_to),
            login = esc(login),
        ),
    )
}

fn login_csrf(headers: &HeaderMap) -> Option<String> {
    cookie_value(headers, LOGIN_CSRF_COOKIE)
        .filter(|v| v.len() == 43)
        .map(str::to_owned)
}

/// `GET /oauth/login`: the log in page of the authorization flow.
pub async fn login_page(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    q: Result<Query<LoginQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let Some(return_to) = q.return_to.as_deref().and_then(safe_return) else {
        return error_page(&OAuthError::invalid_request(
            "this page is reached from an application's log in link",
        ));
    };
    let (token, fresh) = match login_csrf(&headers) {
        Some(t) => (t, false),
        None => (gatehouse_core::auth::new_token(), true),
    };
    let mut resp = login_form(StatusCode::OK, &token, return_to, "", None);
    if fresh {
        let secure = if client.https || state.0.settings.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{LOGIN_CSRF_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/oauth{secure}"
        )) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// `POST /oauth/login`.
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Ok(Form(fields)) = form else {
        return error_page(&OAuthError::invalid_request("the form is malformed"));
    };
    let get = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let Some(return_to) = safe_return(get("return_to")) else {
        return error_page(&OAuthError::invalid_request(
            "this page is reached from an application's log in link",
        ));
    };
    let Some(expected) = login_csrf(&headers) else {
        return page(
            StatusCode::FORBIDDEN,
            "Form refused",
            "<p class=\"refusal\">This form came without its security token; reload the page.</p>",
        );
    };
    if !crate::admin::same(get("csrf"), &expected) {
        return page(
            StatusCode::FORBIDDEN,
            "Form refused",
            "<p class=\"refusal\">This form came without its security token; reload the page.</p>",
        );
    }
    let login = get("login").trim().to_owned();
    let password = get("password");
    if login.is_empty() || password.is_empty() {
        return login_form(
            StatusCode::UNPROCESSABLE_ENTITY,
            &expected,
            return_to,
            &login,
            Some("give your email or username and your password"),
        );
    }
    let s = &state.0;
    match s.attempt_login(&login, password, &client, false).await {
        Ok(Ok(success)) => {
            let mut resp = see_other(return_to);
            for c in [
                s.session_cookie(
                    &success.grant.session_token,
                    s.settings.lifetimes.session.num_seconds(),
                    client.https,
                ),
                success.device_cookie,
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    resp.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            resp
        }
        Ok(Err(f)) => login_form(f.status, &expected, return_to, &login, Some(&f.message)),
        Err(e) => error_page(&OAuthError::Core(e)),
    }
}

/// The parameters of RP-initiated logout.
#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    id_token_hint: Option<String>,
    client_id: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    csrf: Option<String>,
}

/// `GET` and `POST /oauth/logout`: RP-initiated logout 1.0. With a valid `id_token_hint`
/// the session ends at once; without one the user confirms (a form with the session's
/// CSRF token), so that no other site can log anyone out. `post_logout_redirect_uri` must
/// be registered for the client (named by the hint's audience or `client_id`).
#[utoipa::path(get, path = "/oauth/logout", tag = "oidc",
    params(("id_token_hint" = Option<String>, Query, description = "an ID token this provider issued"),
        ("client_id" = Option<String>, Query, description = "the client, without a hint"),
        ("post_logout_redirect_uri" = Option<String>, Query, description = "registered for the client, exactly"),
        ("state" = Option<String>, Query, description = "passed back")),
    responses((status = 303, description = "logged out, back to `post_logout_redirect_uri`"),
        (status = 200, description = "confirmation page, or logged out", content_type = "text/html"),
        (status = 400, description = "unknown client or post-logout redirect URI", content_type = "text/html")))]
pub async fn logout(
    State(state): State<AppState>,
    method: axum::http::Method,
    headers: HeaderMap,
    form: Result<Form<LogoutParams>, FormRejection>,
) -> Response {
    // `Form` reads the query of a GET and the body of a POST.
    let posted = method == axum::http::Method::POST;
    let Ok(Form(p)) = form else {
        return error_page(&OAuthError::invalid_request(
            "the logout request is malformed",
        ));
    };
    let settings = &state.0.settings.oidc;
    let gh = &state.0.gh;
    let hint = match p.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => match gh.verify_id_token(h, settings).await {
            Ok(Some(claims)) => Some(claims),
            Ok(None) => {
                return error_page(&OAuthError::invalid_request(
                    "`id_token_hint` is not an ID token of this server",
                ))
            }
            Err(e) => return error_page(&OAuthError::Core(e)),
        },
        None => None,
    };
    let client_id = hint
        .as_ref()
        .and_then(|c| c.get("aud"))
        .and_then(|a| a.as_str())
        .map(str::to_owned)
        .or_else(|| p.client_id.clone());
    if let (Some(a), Some(b)) = (&client_id, &p.client_id) {
        if a != b {
            return error_page(&OAuthError::invalid_request(
                "`client_id` differs from the hint's audience",
            ));
        }
    }
    let back = match &p.post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            let Some(id) = client_id.as_deref() else {
                return error_page(&OAuthError::invalid_request("name the client (`client_id` or `id_token_hint`) with `post_logout_redirect_uri`"));
            };
            match gh.live_client(id).await {
                Ok(Some(c)) if c.post_logout_redirect_uris.contains(uri) => Some(uri.clone()),
                Ok(_) => {
                    return error_page(&OAuthError::invalid_request(
                        "`post_logout_redirect_uri` is not registered for this client",
                    ))
                }
                Err(e) => return error_page(&OAuthError::Core(e)),
            }
        }
    };
    let session = session_user(&state, &headers).await;
    if let Some((user, token, credential)) = &session {
        let hinted_user = hint
            .as_ref()
            .and_then(|c| c.get("sub"))
            .and_then(|s| s.as_str())
            .is_some_and(|s| s == user.user.0.to_string());
        let confirmed =
            posted && crate::admin::same(p.csrf.as_deref().unwrap_or(""), &csrf_token(token));
        if !hinted_user && !confirmed {
            let fields = [
                hidden("csrf", Some(&csrf_token(token))),
                hidden("client_id", client_id.as_deref()),
                hidden("post_logout_redirect_uri", back.as_deref()),
                hidden("state", p.state.as_deref()),
            ]
            .concat();
            return page(
                StatusCode::OK,
                "Log out?",
                &format!(
                    "<form method=\"post\" action=\"/oauth/logout\" class=\"card narrow\">{fields}\
                     <p>Do you want to log out of Gatehouse?</p>\
                     <p><button type=\"submit\">Log out</button></p></form>"
                ),
            );
        }
        if let Err(e) = gh.logout(*credential).await {
            return error_page(&OAuthError::Core(e));
        }
    }
    let mut resp = match back {
        Some(uri) => see_other(&with_query(&uri, &[("state", p.state.as_deref())])),
        None => page(
            StatusCode::OK,
            "Logged out",
            "<p>You are logged out of Gatehouse.</p>",
        ),
    };
    if session.is_some() {
        if let Ok(v) = HeaderValue::from_str(&state.0.session_cookie(
            "",
            0,
            state.0.settings.secure_cookies,
        )) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_log_in_page_returns_only_to_authorization_requests() {
        assert!(safe_return("/oauth/authorize?client_id=x").is_some());
        for bad in [
            "https://evil.example.org/",
            "//evil.example.org/oauth/authorize?",
            "/oauth/authorizeX",
            "/admin/users",
            "/oauth/authorize?\\evil",
        ] {
            assert!(safe_return(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            with_query(
                "https://a.example/cb?x=1",
                &[("code", Some("a b&c")), ("state", None)]
            ),
            "https://a.example/cb?x=1&code=a%20b%26c"
        );
    }
}
