//! The admin web UI at `/admin`: server-rendered HTML (drawn by `maud`, which escapes every
//! value) over the same services as the JSON API, so there is no second authorization path.
//!
//! - Every page first asks the engine whether the signed-in user holds
//!   `administration-access` ([`Admin`]). That privilege alone lets them read every page: the
//!   core's read services accept it beside their own read privilege (`docs/decisions.md`).
//! - Every change calls the normal service method, which authorizes its own privilege (SPEC 6).
//!   A page asks beforehand ([`Admin::lacks`]) and draws a control the administrator cannot use
//!   as disabled, naming the privilege it needs.
//! - Every form carries a per-session CSRF token that [`AdminForm`] checks before a handler
//!   runs.
//! - A change that succeeds answers with a redirect to the card it changed, which shows a
//!   short notice; a change that is refused answers with the same page drawn again, the form
//!   refilled and the error next to its field (nothing of it travels in a cookie).
//!
//! See `docs/admin-ui.md` for the pages and the security model.

mod clients;
mod explain;
mod grants;
mod history;
mod holders;
pub mod html;
pub mod layout;
mod roles;
mod session;
mod tokens;
mod types;
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
use maud::{html, Markup};
use sha2::{Digest, Sha256};

use crate::{request_token, AppState, Caller};
use layout::{Chrome, FieldError, Notice, Posted};

/// The cookie that carries a short success notice to the page after a redirect.
const NOTICE_COOKIE: &str = "gatehouse_notice";

/// The most characters of a notice that travel in the cookie (success notices are short;
/// refusals never travel in it).
const NOTICE_MAX: usize = 300;

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
        .route("/admin/users/export.csv", get(users::export_csv))
        .route("/admin/users/bulk", post(users::bulk))
        .route("/admin/users/{id}", get(users::show))
        .route("/admin/users/{id}/effective", get(users::effective))
        .route(
            "/admin/users/{id}/delete",
            get(users::delete_form).post(users::delete),
        )
        .route("/admin/users/{id}/{action}", post(user_edit::action))
        .route("/admin/roles", get(roles::list).post(roles::create))
        .route("/admin/roles/{name}", get(roles::show).post(roles::update))
        .route("/admin/types", get(types::list))
        .route("/admin/grants", get(grants::list).post(grants::add))
        .route("/admin/grants/remove", post(grants::remove))
        .route("/admin/holders", get(holders::page))
        .route("/admin/explain", get(explain::page))
        .route("/admin/history", get(history::page))
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{name}/revoke", post(tokens::revoke))
        .route("/admin/clients", get(clients::list).post(clients::create))
        .route("/admin/clients/{id}", get(clients::show))
        .route("/admin/clients/{id}/revoke", post(clients::revoke))
        .route("/admin/clients/{id}/rotate-secret", post(clients::rotate))
        .route(
            "/admin/clients/{id}/forget-consent",
            post(clients::forget_consent),
        )
        .route("/admin/{*rest}", get(not_found_page))
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
        layout::CSS,
    )
        .into_response()
}

/// Any other address under `/admin`: a 404 page in the panel's layout.
async fn not_found_page(admin: Admin) -> Response {
    admin.not_found("There is no page at this address in the admin panel.")
}

/// The CSRF token of a session: SHA-256 of a constant label and the session token. Only the
/// browser holding the (HttpOnly) session cookie can know it; it needs no server state, so it
/// works on every node and across restarts, and it changes with every log in.
pub fn csrf_token(session_token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"gatehouse admin csrf v1\0");
    h.update(session_token.as_bytes());
    layout::hex(&h.finalize())
}

pub(crate) use gatehouse_core::auth::same;

/// A cookie from the request.
pub(crate) use crate::cookie_value as cookie;

fn notice_from(headers: &HeaderMap) -> Option<Notice> {
    let raw = cookie(headers, NOTICE_COOKIE)?;
    let mut parts = raw.splitn(3, '.');
    let kind = parts.next()?;
    let card = parts.next()?;
    let text = String::from_utf8(layout::unhex(parts.next()?)?).ok()?;
    Some(Notice {
        ok: kind == "ok",
        card: (!card.is_empty()).then(|| card.to_owned()),
        text,
    })
}

fn set_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// At most [`NOTICE_MAX`] characters of `text`.
fn clip(text: &str) -> String {
    match text.char_indices().nth(NOTICE_MAX) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

/// A 303 to `to` (and to the notice's card in it) that carries a short notice for the next
/// page in a cookie.
pub(crate) fn redirect_with(to: &str, notice: Option<Notice>) -> Response {
    let target = match notice.as_ref().and_then(|n| n.card.as_deref()) {
        Some(card) => format!("{to}#{card}"),
        None => to.to_owned(),
    };
    let mut resp = Redirect::to(&target).into_response();
    if let Some(n) = notice {
        let kind = if n.ok { "ok" } else { "error" };
        let card: String = n
            .card
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        set_cookie(
            &mut resp,
            &format!(
                "{NOTICE_COOKIE}={kind}.{card}.{}; Path=/admin; Max-Age=60; HttpOnly; SameSite=Strict",
                layout::hex(clip(&n.text).as_bytes())
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

/// A page drawn in the layout with a status.
pub(crate) fn layout_page(
    status: StatusCode,
    chrome: &Chrome,
    title: &str,
    body: Markup,
) -> Response {
    html_page(status, layout::page(title, chrome, body))
}

/// The refusal page: 403 with a clear explanation.
pub(crate) fn refusal(chrome: &Chrome, why: &str) -> Response {
    layout_page(
        StatusCode::FORBIDDEN,
        chrome,
        "Not allowed",
        html! {
            p.refusal { (why) }
            p { "If you need this, ask an administrator of this Gatehouse to give your account the privilege it names." }
            p { a href="/admin" { "Back to the admin panel" } }
        },
    )
}

/// The page for a failure on the server's side; details only in the log.
pub(crate) fn internal(chrome: &Chrome, detail: &str) -> Response {
    tracing::error!(%detail, "admin ui: internal error");
    layout_page(
        StatusCode::INTERNAL_SERVER_ERROR,
        chrome,
        "Something went wrong",
        html! {
            p { "The server could not finish this request; the details are in its log. Please try again later." }
        },
    )
}

/// A core error in the panel's own words: no command lines, no backticks.
pub(crate) fn ui_words(e: &CoreError) -> String {
    let raw = match e {
        CoreError::NotFound { what, value, .. } => {
            format!(
                "{what} “{}” not found",
                gatehouse_core::text::shorten(value)
            )
        }
        CoreError::Forbidden { privilege, user } => match user {
            Some(u) => format!("not allowed on {u}: this needs the privilege “{privilege}”"),
            None => format!("not allowed: this needs the privilege “{privilege}”"),
        },
        other => other.to_string(),
    };
    plain(&raw)
}

/// Drops the parts of a message that name a command (`; create it with gatehouse …`) and
/// turns backtick quotes into typographic ones.
pub(crate) fn plain(message: &str) -> String {
    // A command in parentheses (`... first (`gatehouse access allow ...`)`) goes whole.
    let mut message = message.to_owned();
    while let Some(start) = message.find(" (`gatehouse ") {
        let Some(end) = message[start..].find(')') else {
            break;
        };
        message.replace_range(start..start + end + 1, "");
    }
    let kept: Vec<&str> = message
        .split("; ")
        .filter(|part| !part.contains("`gatehouse ") && !part.contains("gatehouse users "))
        .collect();
    let mut out = String::with_capacity(message.len());
    let mut open = true;
    for c in kept.join("; ").chars() {
        if c == '`' {
            out.push(if open { '“' } else { '”' });
            open = !open;
        } else {
            out.push(c);
        }
    }
    out
}

/// The answer to a page that failed with a core error: refusal (403), not found (404), or
/// internal (500); anything else (bad input in the address) is a 400 with the message.
pub(crate) fn error_page(chrome: &Chrome, e: CoreError) -> Response {
    match e {
        CoreError::Forbidden { .. } => refusal(chrome, &ui_words(&e)),
        CoreError::Internal(d) => internal(chrome, &d),
        CoreError::Policy(p) => internal(chrome, &p.to_string()),
        CoreError::NotFound { .. } => layout_page(
            StatusCode::NOT_FOUND,
            chrome,
            "Not found",
            html! { p { (ui_words(&e)) } p { a href="/admin" { "Back to the admin panel" } } },
        ),
        other => layout_page(
            StatusCode::BAD_REQUEST,
            chrome,
            "Cannot show this",
            html! { p { (ui_words(&other)) } p { a href="/admin" { "Back to the admin panel" } } },
        ),
    }
}

/// A refused form's error, for the field it names (or the top of the form).
pub(crate) fn field_error(e: &CoreError) -> FieldError {
    let field = match e {
        CoreError::Invalid { field, .. } => field.clone(),
        CoreError::Conflict(m) if m.contains("username") => "username".to_owned(),
        CoreError::Conflict(m) if m.contains("email") => "email".to_owned(),
        _ => String::new(),
    };
    FieldError {
        field,
        message: ui_words(e),
    }
}

/// What a handler of a form does with a refusal: a forbidden or internal error gets its own
/// page; bad input is drawn again by `redraw` with the form refilled.
pub(crate) enum Refused {
    /// The page to answer with.
    Page(Response),
    /// Draw the form again with this.
    Form(Posted),
}

/// Sorts a form's error into [`Refused`].
pub(crate) fn refused(admin: &Admin, form: &'static str, fields: Fields, e: CoreError) -> Refused {
    match e {
        CoreError::Forbidden { .. } | CoreError::Internal(_) | CoreError::Policy(_) => {
            Refused::Page(error_page(&admin.chrome(""), e))
        }
        e => Refused::Form(Posted {
            form,
            error: field_error(&e),
            fields,
        }),
    }
}

/// A user id from an address, or the words for the 404 page that answers a bad one.
pub(crate) fn user_id(raw: &str) -> Result<UserId, String> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(UserId)
        .ok_or_else(|| {
            format!(
                "“{}” is not a user id: user ids are whole numbers, as in /admin/users/42.",
                gatehouse_core::text::shorten(raw)
            )
        })
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
    state: AppState,
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

    /// A page for this administrator (200).
    pub fn page(&self, section: &'static str, title: &str, body: Markup) -> Response {
        self.page_with(StatusCode::OK, section, title, body)
    }

    /// A page for this administrator with a status (422 for a refused form).
    pub fn page_with(
        &self,
        status: StatusCode,
        section: &'static str,
        title: &str,
        body: Markup,
    ) -> Response {
        layout_page(status, &self.chrome(section), title, body)
    }

    /// A 404 page in the panel's layout.
    pub fn not_found(&self, why: &str) -> Response {
        layout_page(
            StatusCode::NOT_FOUND,
            &self.chrome(""),
            "Not found",
            html! { p { (why) } p { a href="/admin" { "Back to the admin panel" } } },
        )
    }

    /// A 400 page in the panel's layout, for a bad value in the address.
    pub fn bad_request(&self, why: &str) -> Response {
        layout_page(
            StatusCode::BAD_REQUEST,
            &self.chrome(""),
            "Cannot show this",
            html! { p { (why) } p { a href="/admin" { "Back to the admin panel" } } },
        )
    }

    /// The services.
    pub fn ctx(&self) -> &Context {
        &self.ctx
    }

    /// `Some(privilege)` when this administrator does not hold `privilege` (asked of the same
    /// decision the service will ask), so a page can draw the control as disabled and say
    /// why; `None` when they hold it.
    pub async fn lacks<'p>(&self, privilege: &'p str) -> Option<&'p str> {
        let Ok(p) = Privilege::new(privilege) else {
            return Some(privilege);
        };
        let me = UserRef::Id(self.id);
        match self.state.0.gh.check(&self.ctx, Some(&me), &p, None).await {
            Ok(d) if d.allowed => None,
            _ => Some(privilege),
        }
    }
}

/// The answer to a change that succeeded: back to `back`, to `card`, with a notice.
pub(crate) fn changed(back: &str, card: Option<&str>, text: String) -> Response {
    redirect_with(back, Some(Notice::ok(card, text)))
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
                    Some(Notice::error("your session has ended; log in again")),
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
                     privilege “{ADMIN_PRIVILEGE}”"
                ),
            ));
        }
        Ok(Admin {
            ctx: caller.ctx,
            id,
            label,
            csrf: csrf_token(&token),
            notice,
            state: state.clone(),
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

    /// A text field's value, or `None` when it is absent or blank.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.raw(name)).filter(|v| !v.trim().is_empty())
    }

    /// Whether a checkbox `name` was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && !v.is_empty())
    }

    /// Every value of `name` (checkboxes of a list).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The fields without passwords (what a refilled form may show again).
    pub fn without_secrets(self) -> Fields {
        Fields(
            self.0
                .into_iter()
                .filter(|(k, _)| !k.contains("password"))
                .collect(),
        )
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
                admin.bad_request(&format!("The form could not be read: {}", e.body_text()))
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
    layout_page(
        StatusCode::FORBIDDEN,
        chrome,
        "Form refused",
        html! {
            p.refusal {
                "This form was sent without its security token (or with an old one), so nothing \
                 was changed. This protects you against other web sites sending forms in your name."
            }
            p { "Go back, reload the page and send the form again." }
            p { a href="/admin" { "Back to the admin panel" } }
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn errors_are_said_in_the_panels_words() {
        assert_eq!(
            plain("role `x` not found; create it with `gatehouse roles create x`"),
            "role “x” not found"
        );
        let e = CoreError::NotFound {
            what: "user",
            value: "a@b".into(),
            hint: "; list users with `gatehouse users list`".into(),
        };
        assert_eq!(ui_words(&e), "user “a@b” not found");
        assert_eq!(
            plain(
                "give it to another account first (`gatehouse access allow x user E`); then retry"
            ),
            "give it to another account first; then retry"
        );
    }

    #[test]
    fn a_long_notice_is_clipped_before_it_travels() {
        let long = "x".repeat(10_000);
        let resp = redirect_with("/admin/users", Some(Notice::ok(Some("card"), long)));
        let cookie = resp
            .headers()
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(cookie.len() < 1_000, "{}", cookie.len());
        assert_eq!(
            resp.headers().get(header::LOCATION).unwrap(),
            "/admin/users#card"
        );
    }
}
