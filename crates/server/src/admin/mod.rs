//! The admin web UI at `/admin`: server-rendered HTML over the same services as the JSON API,
//! so there is no second authorization path. Every page first asks the engine whether the
//! signed-in user holds `administration-access` ([`Admin`]); every change then calls the
//! normal service method, which authorizes its own privilege (SPEC 6). Every form carries a
//! per-session CSRF token that [`AdminForm`] checks before a handler runs; every change
//! answers with a redirect to a page that shows a notice (POST-redirect-GET).
//!
//! See `docs/admin-ui.md` for the pages and the security model.

mod clients;
mod explain;
mod grants;
pub mod html;
mod roles;
mod session;
mod user_edit;
mod users;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use gatehouse_core::{Actor, Context, CoreError, UserRef};
use gatehouse_policy::{Privilege, UserId};
use sha2::{Digest, Sha256};

use crate::{request_token, AppState, Caller};
use html::{Chrome, Notice};

/// The cookie that carries a notice to the page after a redirect.
const NOTICE_COOKIE: &str = "gatehouse_notice";

/// The privilege that opens the panel.
pub const ADMIN_PRIVILEGE: &str = "administration-access";

/// The admin UI's routes (merged into [`crate::router`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/", get(home))
        .route("/admin/admin.css", get(css))
        .route("/admin/login", get(session::form).post(session::login))
        .route("/admin/logout", post(session::logout))
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/new", get(users::new_form))
        .route("/admin/users/{id}", get(users::show))
        .route("/admin/users/{id}/{action}", post(user_edit::action))
        .route("/admin/roles", get(roles::list).post(roles::create))
        .route("/admin/roles/{name}", get(roles::show).post(roles::update))
        .route("/admin/grants", get(grants::list).post(grants::add))
        .route("/admin/grants/remove", post(grants::remove))
        .route("/admin/explain", get(explain::page))
        .route("/admin/clients", get(clients::list).post(clients::create))
        .route("/admin/clients/{id}/revoke", post(clients::revoke))
}

async fn home(_admin: Admin) -> Response {
    Redirect::to("/admin/users").into_response()
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        html::CSS,
    )
        .into_response()
}

/// The CSRF token of a session: SHA-256 of a constant label and the session token. Only the
/// browser holding the (HttpOnly) session cookie can know it; it needs no server state, so it
/// works on every node and across restarts, and it changes with every log in.
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"gatehouse admin csrf v1\0");
    h.update(session_token.as_bytes());
    html::hex(&h.finalize())
}

pub(crate) use gatehouse_core::auth::same;

/// A cookie from the request.
pub(crate) use crate::cookie_value as cookie;

fn notice_from(headers: &HeaderMap) -> Option<Notice> {
    let raw = cookie(headers, NOTICE_COOKIE)?;
    let (kind, text) = raw.split_once('.')?;
    let text = String::from_utf8(html::unhex(text)?).ok()?;
    Some(Notice {
        ok: kind == "ok",
        text,
    })
}

fn set_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A 303 to `to` that carries a notice for the next page in a short-lived cookie.
pub(crate) fn redirect_with(to: &str, notice: Option<Notice>) -> Response {
    let mut resp = Redirect::to(to).into_response();
    if let Some(n) = notice {
        let kind = if n.ok { "ok" } else { "error" };
        set_cookie(
            &mut resp,
            &format!(
                "{NOTICE_COOKIE}={kind}.{}; Path=/admin; Max-Age=60; HttpOnly; SameSite=Strict",
                html::hex(n.text.as_bytes())
            ),
        );
    }
    resp
}

/// An HTML page with a status; the notice cookie (if any) has been shown, so it is cleared.
pub(crate) fn html_page(status: StatusCode, body: String) -> Response {
    let mut resp = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    resp.headers_mut().insert(
        header::HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    resp.headers_mut().insert(
        header::HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    set_cookie(
        &mut resp,
        &format!("{NOTICE_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict"),
    );
    resp
}

/// The refusal page: 403 with a clear explanation.
pub(crate) fn refusal(chrome: &Chrome, why: &str) -> Response {
    let body = format!(
        "<p class=\"refusal\">{}</p><p>If you need this, ask an administrator of this \
         Gatehouse to give your account the privilege it names.</p>\
         <p><a href=\"/admin\">Back to the admin panel</a></p>",
        html::esc(why)
    );
    html_page(
        StatusCode::FORBIDDEN,
        html::page("Not allowed", chrome, &body),
    )
}

/// The page for a failure on the server's side; details only in the log.
pub(crate) fn internal(chrome: &Chrome, detail: &str) -> Response {
    tracing::error!(%detail, "admin ui: internal error");
    html_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        html::page(
            "Something went wrong",
            chrome,
            "<p>The server could not finish this request; the details are in its log. \
             Please try again later.</p>",
        ),
    )
}

/// The answer to a page that failed with a core error: refusal (403), not found (404), or
/// internal (500); anything else (bad input) also shows the message.
pub(crate) fn error_page(chrome: &Chrome, e: CoreError) -> Response {
    match e {
        CoreError::Forbidden { .. } => refusal(chrome, &e.to_string()),
        CoreError::Internal(d) => internal(chrome, &d),
        CoreError::Policy(p) => internal(chrome, &p.to_string()),
        CoreError::NotFound { .. } => html_page(
            StatusCode::NOT_FOUND,
            html::page(
                "Not found",
                chrome,
                &format!("<p>{}</p>", html::esc(&e.to_string())),
            ),
        ),
        other => html_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            html::page(
                "Cannot show this",
                chrome,
                &format!("<p>{}</p>", html::esc(&other.to_string())),
            ),
        ),
    }
}

/// The answer to a change: back to `back` with a notice saying what happened, or the
/// refusal page when the service said the administrator lacks the privilege.
pub(crate) fn done(admin: &Admin, back: &str, result: Result<String, CoreError>) -> Response {
    match result {
        Ok(text) => redirect_with(back, Some(Notice { ok: true, text })),
        Err(e @ (CoreError::Forbidden { .. } | CoreError::Internal(_) | CoreError::Policy(_))) => {
            error_page(&admin.chrome(""), e)
        }
        Err(e) => redirect_with(
            back,
            Some(Notice {
                ok: false,
                text: e.to_string(),
            }),
        ),
    }
}

/// A signed-in user who holds `administration-access`, asked of the engine on every request.
/// Anonymous visitors (and expired sessions) are sent to the log in page; others get the
/// refusal page.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The context for the services (channel `ui`).
    pub ctx: Context,
    /// The administrator's id.
    pub id: UserId,
    /// The administrator's label for the header.
    pub label: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// The notice carried over from the previous request, if any.
    pub notice: Option<Notice>,
}

impl Admin {
    /// The layout's view of this administrator.
    pub fn chrome(&self, section: &'static str) -> Chrome {
        Chrome {
            who: Some(self.label.clone()),
            csrf: self.csrf.clone(),
            notice: self.notice.clone(),
            section,
        }
    }

    /// A page for this administrator.
    pub fn page(&self, section: &'static str, title: &str, body: &str) -> Response {
        html_page(
            StatusCode::OK,
            html::page(title, &self.chrome(section), body),
        )
    }

    /// The services.
    pub fn ctx(&self) -> &Context {
        &self.ctx
    }
}

fn to_login() -> Response {
    redirect_with("/admin/login", None)
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = request_token(parts) else {
            return Err(to_login());
        };
        let notice = notice_from(&parts.headers);
        let caller = match Caller::from_request_parts(parts, state).await {
            Ok(c) => c,
            // An expired or ended session: log in again.
            Err(e) if e.status == StatusCode::UNAUTHORIZED => {
                let mut resp = redirect_with(
                    "/admin/login",
                    Some(Notice {
                        ok: false,
                        text: "your session has ended; log in again".into(),
                    }),
                );
                set_cookie(&mut resp, &session::clear_cookie(state));
                return Err(resp);
            }
            Err(e) => {
                return Err(internal(&Chrome::default(), &e.message));
            }
        };
        let chrome = Chrome {
            notice: notice.clone(),
            ..Chrome::default()
        };
        let Actor::User(id) = caller.ctx.actor else {
            return Err(refusal(
                &chrome,
                "the admin panel is for people who log in; service tokens cannot use it",
            ));
        };
        let gh = &state.0.gh;
        let privilege =
            Privilege::new(ADMIN_PRIVILEGE).map_err(|e| internal(&chrome, &e.to_string()))?;
        let me = UserRef::Id(id);
        let allowed = match gh.check(&caller.ctx, Some(&me), &privilege, None).await {
            Ok(d) => d.allowed,
            Err(e) => return Err(error_page(&chrome, e)),
        };
        let label = match gh.show_user(&caller.ctx, &me).await {
            Ok(u) => u.email.to_string(),
            Err(_) => format!("user {id}"),
        };
        let chrome = Chrome {
            who: Some(label.clone()),
            csrf: csrf_token(&token),
            ..chrome
        };
        if !allowed {
            return Err(refusal(
                &chrome,
                &format!(
                    "your account ({label}) may not use the admin panel: this needs the \
                     privilege `{ADMIN_PRIVILEGE}`"
                ),
            ));
        }
        Ok(Admin {
            ctx: caller.ctx,
            id,
            label,
            csrf: csrf_token(&token),
            notice,
        })
    }
}

/// The fields of a posted form, in order (repeated names allowed).
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// The value of `name` as written (not trimmed), for passwords.
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether a checkbox `name` was ticked.
    /// A text field's value, or `None` when it is absent or blank.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.raw(name)).filter(|v| !v.trim().is_empty())
    }

    pub fn ticked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }
}

/// A posted admin form: the [`Admin`] checks, then the CSRF token of the session. A form
/// without it, or with a wrong one, is refused with 403 before any handler runs.
#[derive(Debug)]
pub struct AdminForm {
    /// The administrator.
    pub admin: Admin,
    /// The fields, without `csrf`.
    pub fields: Fields,
}

impl FromRequest<AppState> for AdminForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let admin = Admin::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(|e| {
                html_page(
                    StatusCode::BAD_REQUEST,
                    html::page(
                        "Bad form",
                        &admin.chrome(""),
                        &format!("<p>{}</p>", html::esc(&e.body_text())),
                    ),
                )
            })?;
        let fields = Fields(fields);
        if !same(fields.get("csrf"), &admin.csrf) {
            return Err(csrf_refused(&admin.chrome("")));
        }
        Ok(AdminForm {
            admin,
            fields: Fields(fields.0.into_iter().filter(|(k, _)| k != "csrf").collect()),
        })
    }
}

/// 403 for a form without its CSRF token.
pub(crate) fn csrf_refused(chrome: &Chrome) -> Response {
    html_page(
        StatusCode::FORBIDDEN,
        html::page(
            "Form refused",
            chrome,
            "<p class=\"refusal\">This form was sent without its security token (or with an \
             old one), so nothing was changed. This protects you against other web sites \
             sending forms in your name.</p><p>Go back, reload the page and send the form \
             again.</p><p><a href=\"/admin\">Back to the admin panel</a></p>",
        ),
    )
}
