//! Log in, log out, `me`, email confirmation and password reset links, health and readiness.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use gatehouse_core::{Channel, Password, UserRef};
use serde::Deserialize;

use crate::client::Client;
use crate::dto::{
    ForgotRequest, LoginRequest, LoginResponse, MeResponse, Message, Ready, ResetRequest,
    TokenBody, UserOut,
};
use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::{AppState, Caller};

fn cookie(state: &AppState, value: &str, max_age: i64, https: bool) -> Option<HeaderValue> {
    HeaderValue::from_str(&state.0.session_cookie(value, max_age, https)).ok()
}

/// Log in with email or username and password. Only a right password on a confirmed and
/// active account logs in; an unknown user and a wrong password get the same 401.
#[utoipa::path(post, path = "/api/login", tag = "session", request_body = LoginRequest,
    responses(
        (status = 200, description = "logged in; also sets the session cookie", body = LoginResponse),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`email_unconfirmed` or `account_disabled` (after a right password)", body = ErrorBody),
        (status = 429, description = "too many failed log ins; see `Retry-After`", body = ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    client: Client,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let login = match (&req.email, &req.username) {
        (Some(e), _) => e.clone(),
        (None, Some(u)) => u.clone(),
        (None, None) => {
            return Err(ApiError::invalid(
                "give `email` or `username` with `password`",
            ))
        }
    };
    let s = &state.0;
    match s
        .attempt_login(&login, &req.password, &client, true)
        .await?
    {
        Ok(success) => {
            let grant = success.grant;
            let body = LoginResponse {
                token: grant.bearer_token.clone().unwrap_or_default(),
                expires: grant.expires,
                user: UserOut::from(&grant.user),
            };
            let mut resp = Json(body).into_response();
            if let Some(c) = cookie(
                &state,
                &grant.session_token,
                s.settings.lifetimes.session.num_seconds(),
                client.https,
            ) {
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
            if let Ok(c) = HeaderValue::from_str(&success.device_cookie) {
                resp.headers_mut().append(header::SET_COOKIE, c);
            }
            Ok(resp)
        }
        Err(f) => {
            let mut e = ApiError::new(f.status, f.code, f.message);
            e.retry_after = f.retry_after;
            Err(e)
        }
    }
}

/// Log out: ends the session or token the request came with.
#[utoipa::path(post, path = "/api/logout", tag = "session",
    responses((status = 204, description = "logged out"), (status = 401, body = ErrorBody)))]
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let Some(credential) = caller.ctx.credential else {
        return Err(ApiError::unauthorized());
    };
    state.0.gh.logout(credential).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(c) = cookie(&state, "", 0, state.0.settings.secure_cookies) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(resp)
}

/// The logged-in user and their effective privileges.
#[utoipa::path(get, path = "/api/me", tag = "session",
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn me(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MeResponse>, ApiError> {
    let id = caller.user_id()?;
    let gh = &state.0.gh;
    let user = gh.show_user(&caller.ctx, &UserRef::Id(id)).await?;
    let privileges = gh.privileges(&caller.ctx, &UserRef::Id(id)).await?;
    Ok(Json(MeResponse {
        user: UserOut::from(&user),
        privileges: privileges.into(),
    }))
}

/// Follow an email confirmation link (single use, expiring).
#[utoipa::path(post, path = "/api/confirm", tag = "session", request_body = TokenBody,
    responses((status = 200, body = Message), (status = 422, description = "unknown, used or expired link", body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenBody>,
) -> Result<Json<Message>, ApiError> {
    match state
        .0
        .gh
        .confirm_with_link(&req.token, Channel::Api)
        .await?
    {
        Some(u) => Ok(Json(Message {
            message: format!("the email {} is confirmed; you can log in now", u.email),
        })),
        None => Err(ApiError::invalid(
            "this confirmation link is unknown, used or expired; ask for a new one",
        )),
    }
}

/// The page a confirmation link in a mail opens.
#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET /confirm?token=...`: confirms and says so in a small page.
pub async fn confirm_page(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let result = match q.token {
        Some(t) => state.0.gh.confirm_with_link(&t, Channel::Api).await,
        None => Ok(None),
    };
    let (status, text) = match result {
        Ok(Some(_)) => (
            StatusCode::OK,
            "Your email address is confirmed. You can log in now.",
        ),
        Ok(None) => (
            StatusCode::BAD_REQUEST,
            "This confirmation link is unknown, already used or expired. Ask for a new one.",
        ),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong; please try again later.",
        ),
    };
    (
        status,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Email confirmation</title></head><body><main><h1>Email confirmation</h1><p>{text}</p></main></body></html>"
        )),
    )
        .into_response()
}

/// Ask for a password reset link; the answer is the same whether the email exists or not.
#[utoipa::path(post, path = "/api/password/forgot", tag = "session", request_body = ForgotRequest,
    responses((status = 202, body = Message),
        (status = 429, description = "too many requests from this address or for this email; see `Retry-After`", body = ErrorBody)))]
pub async fn forgot(
    State(state): State<AppState>,
    client: Client,
    ApiJson(req): ApiJson<ForgotRequest>,
) -> Result<Response, ApiError> {
    let s = &state.0;
    // Throttled per address and per target email, whether it has an account or not (so
    // the throttle tells nothing either): no mail flood to one victim.
    if let Err(wait) = s
        .throttle
        .reset_request(&client.address, &req.email, crate::throttle::unix_now())
        .await
    {
        let mut e = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("too many reset requests; try again in {wait} s"),
        );
        e.retry_after = Some(wait);
        return Err(e);
    }
    s.resets.push(&state, req.email);
    Ok((
        StatusCode::ACCEPTED,
        Json(Message {
            message: "if an account uses that email, a reset link is on its way".into(),
        }),
    )
        .into_response())
}

/// Set a new password with a reset link; ends every session of the user.
#[utoipa::path(post, path = "/api/password/reset", tag = "session", request_body = ResetRequest,
    responses((status = 200, body = Message), (status = 422, body = ErrorBody)))]
pub async fn reset(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ResetRequest>,
) -> Result<Json<Message>, ApiError> {
    let s = &state.0;
    let password = Password::new(&req.password, &s.gh.settings().password_policy)?;
    match s
        .gh
        .reset_password_with_link(&req.token, password, Channel::Api)
        .await?
    {
        Some(_) => Ok(Json(Message {
            message: "the password is changed; log in with it".into(),
        })),
        None => Err(ApiError::invalid(
            "this reset link is unknown, used or expired; ask for a new one",
        )),
    }
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Message)))]
pub async fn healthz() -> Json<Message> {
    Json(Message {
        message: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Ready), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    let gh = &state.0.gh;
    match gh.ping().await {
        Ok(store) => Ok(Json(Ready {
            status: "ok".into(),
            store: store.into(),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            gh.drop_caches();
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database does not answer",
            ))
        }
    }
}
