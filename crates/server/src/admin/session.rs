//! Log in and log out pages. Logging in calls the same [`gatehouse_core::Gatehouse::login`]
//! as `POST /api/login`, with the server's throttle and the same refusals, and sets the same
//! `gatehouse_session` cookie (through [`crate::Shared::attempt_login`]); no bearer token is
//! issued, as the browser never needs one. The log in form is protected by a double-submit cookie (there is
//! no session yet to derive a token from).

use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;

use maud::html;

use super::layout::{Chrome, Notice};
use super::{cookie, csrf_refused, layout_page, notice_from, redirect_with, same, set_cookie};
use crate::client::Client;
use crate::{request_token, AppState, Caller};

const LOGIN_CSRF_COOKIE: &str = "gatehouse_login_csrf";

fn secure(state: &AppState) -> &'static str {
    if state.0.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    }
}

/// The `Set-Cookie` value that ends the session cookie in the browser.
pub(crate) fn clear_cookie(state: &AppState) -> String {
    state
        .0
        .session_cookie("", 0, state.0.settings.secure_cookies)
}

fn login_page(status: StatusCode, csrf: &str, login: &str, notice: Option<Notice>) -> Response {
    let chrome = Chrome {
        notice,
        ..Chrome::default()
    };
    let body = html! {
        form.card.narrow method="post" action="/admin/login" {
            input type="hidden" name="csrf" value=(csrf);
            p.field {
                label for="f-login" { "Email or username" }
                input id="f-login" name="login" value=(login) required maxlength="254"
                    autocomplete="username" autofocus;
            }
            p.field {
                label for="f-password" { "Password" }
                input id="f-password" name="password" type="password" required maxlength="1024"
                    autocomplete="current-password";
            }
            p { button type="submit" { "Log in" } }
        }
        p.hint {
            "The admin panel is for accounts that hold the privilege "
            code { "administration-access" } "."
        }
    };
    layout_page(status, &chrome, "Log in", body)
}

fn login_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|v| v.len() == 43)
        .map(str::to_owned)
}

/// `GET /admin/login`.
pub async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (token, fresh) = match login_token(&headers) {
        Some(t) => (t, false),
        None => (gatehouse_core::auth::new_token(), true),
    };
    let mut resp = login_page(StatusCode::OK, &token, "", notice_from(&headers));
    if fresh {
        set_cookie(
            &mut resp,
            &format!(
                "{LOGIN_CSRF_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/admin{}",
                secure(&state)
            ),
        );
    }
    resp
}

/// `POST /admin/login`.
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let fields = super::Fields(f);
    let Some(expected) = login_token(&headers) else {
        return csrf_refused(&Chrome::default());
    };
    if !same(fields.get("csrf"), &expected) {
        return csrf_refused(&Chrome::default());
    }
    let login = fields.get("login").to_owned();
    let password = fields.raw("password");
    let refuse =
        |status, text: String| login_page(status, &expected, &login, Some(Notice::error(text)));
    if login.is_empty() || password.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "give your email or username and your password".into(),
        );
    }
    let s = &state.0;
    match s.attempt_login(&login, password, &client, false).await {
        Ok(Ok(success)) => {
            let grant = success.grant;
            let mut resp = redirect_with(
                "/admin/users",
                Some(Notice::ok(
                    None,
                    format!("logged in as {}", grant.user.email),
                )),
            );
            set_cookie(
                &mut resp,
                &s.session_cookie(
                    &grant.session_token,
                    s.settings.lifetimes.session.num_seconds(),
                    client.https,
                ),
            );
            set_cookie(&mut resp, &success.device_cookie);
            resp
        }
        Ok(Err(f)) => {
            let text = if f.status == StatusCode::TOO_MANY_REQUESTS {
                f.message
            } else {
                format!("log in refused: {}", f.message)
            };
            refuse(f.status, text)
        }
        Err(e) => super::internal(&Chrome::default(), &e.to_string()),
    }
}

/// `POST /admin/logout`: ends the session (any signed-in user may, admin or not).
pub async fn logout(State(state): State<AppState>, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let token = request_token(&parts);
    let caller = Caller::from_request_parts(&mut parts, &state).await;
    let req = Request::from_parts(parts, body);
    let fields =
        match <Form<Vec<(String, String)>> as axum::extract::FromRequest<AppState>>::from_request(
            req, &state,
        )
        .await
        {
            Ok(Form(f)) => super::Fields(f),
            Err(_) => super::Fields::default(),
        };
    let mut resp = match (token, caller) {
        (Some(token), Ok(caller)) => {
            if !same(fields.get("csrf"), &super::csrf_token(&token)) {
                return csrf_refused(&Chrome::default());
            }
            if let Some(credential) = caller.ctx.credential {
                if let Err(e) = state.0.gh.logout(credential).await {
                    return super::internal(&Chrome::default(), &e.to_string());
                }
            }
            redirect_with("/admin/login", Some(Notice::ok(None, "you are logged out")))
        }
        // No session (or one that already ended): nothing to end.
        _ => redirect_with("/admin/login", None),
    };
    set_cookie(&mut resp, &clear_cookie(&state));
    resp
}
