#![doc = include_str!("../README.md")]

pub mod admin;
pub mod api_access;
pub mod api_clients;
pub mod api_platform;
pub mod api_session;
pub mod api_users;
pub mod client;
pub mod dto;
pub mod dto_platform;
pub mod error;
pub mod mail;
pub mod metrics;
pub mod oidc_api;
pub mod oidc_pages;
pub mod openapi;
pub mod serve;
pub mod throttle;

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use gatehouse_core::{Actor, Channel, Context, Gatehouse, Lifetimes, Mailer};

pub use error::{ApiError, ApiJson};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "gatehouse_session";

/// Settings of the HTTP service.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The public base URL, for links in mail (e.g. `https://auth.example.org`).
    pub base_url: String,
    /// Mark cookies `Secure` (when served behind https). Behind a trusted proxy, its
    /// `X-Forwarded-Proto` / `Forwarded: proto=` decides per request.
    pub secure_cookies: bool,
    /// Credential and link lifetimes.
    pub lifetimes: Lifetimes,
    /// Proxies whose `Forwarded` / `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<client::Cidr>,
    /// A bearer token `/metrics` asks for (`metrics.token`); without one, `/metrics` is not
    /// on this listener (see `server.metrics_listen`).
    pub metrics_token: Option<String>,
    /// The throttle's buckets (`throttle.*`).
    pub throttle: throttle::Rules,
    /// The key of known-device cookies, shared by every node (`None`: a random key, so
    /// cookies are known to this process only).
    pub device_keys: Option<client::DeviceKeys>,
    /// The OpenID Connect provider's settings (`oidc.*`; the issuer is `base_url`).
    pub oidc: gatehouse_core::oidc::OidcSettings,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            base_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
            lifetimes: Lifetimes::default(),
            trusted_proxies: Vec::new(),
            metrics_token: None,
            throttle: throttle::Rules::default(),
            device_keys: None,
            oidc: gatehouse_core::oidc::OidcSettings::default(),
        }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct Shared {
    /// The services.
    pub gh: Gatehouse,
    /// Mail delivery.
    pub mailer: Arc<dyn Mailer>,
    /// Log in throttling.
    pub throttle: throttle::Throttle,
    /// Signs known-device cookies.
    pub devices: client::DeviceKeys,
    /// Password-reset requests waiting for the mail worker.
    pub resets: ResetQueue,
    /// Metrics.
    pub metrics: metrics::Metrics,
    /// Settings.
    pub settings: ServerSettings,
}

/// A log in refused by the server: throttled (429), bad credentials (401), or a right
/// password on an unconfirmed or disabled account (403).
#[derive(Debug, Clone)]
pub struct LoginFailure {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (`too_many_requests`, `invalid_credentials`, ...).
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// Seconds to wait, when throttled.
    pub retry_after: Option<u64>,
}

/// A successful log in as the server hands it out.
#[derive(Debug, Clone)]
pub struct LoginSuccess {
    /// The core's grant (user, session, bearer token).
    pub grant: gatehouse_core::LoginGrant,
    /// The known-device cookie to set (`Set-Cookie` value).
    pub device_cookie: String,
}

impl Shared {
    /// The one log in path of the JSON API and the admin UI: the throttle charges the
    /// attempt before the password is verified (docs/security.md), the services log in,
    /// and a success gives the tokens back and marks the device as known.
    pub async fn attempt_login(
        &self,
        login: &str,
        password: &str,
        client: &client::Client,
        bearer: bool,
    ) -> Result<Result<LoginSuccess, LoginFailure>, gatehouse_core::CoreError> {
        let now = throttle::unix_now();
        let account = self.gh.login_account(login).await?;
        let key = match account {
            Some(id) => format!("id:{id}"),
            None => format!("login:{}", login.trim().to_lowercase()),
        };
        let unix_now = chrono::Utc::now().timestamp();
        let known_device = match (account, &client.device) {
            (Some(id), Some(cookie)) => self.devices.known(cookie, id.0, unix_now),
            _ => false,
        };
        let attempt = throttle::Attempt {
            account: &key,
            address: &client.address,
            known_device,
        };
        let ticket = match self.throttle.begin(&attempt, now).await {
            Ok(t) => t,
            Err(wait) => {
                self.metrics.login_failure();
                return Ok(Err(LoginFailure {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    code: "too_many_requests",
                    message: format!("too many failed log ins; try again in {wait} s"),
                    retry_after: Some(wait),
                }));
            }
        };
        match self
            .gh
            .login(login, password, &self.settings.lifetimes, bearer)
            .await?
        {
            Ok(grant) => {
                self.throttle.succeeded(&ticket, throttle::unix_now()).await;
                let value = self
                    .devices
                    .sign(grant.user.id.0, unix_now + client::DEVICE_MAX_AGE);
                let secure = if client.https { "; Secure" } else { "" };
                let device_cookie = format!(
                    "{}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={}{secure}",
                    client::DEVICE_COOKIE,
                    client::DEVICE_MAX_AGE
                );
                Ok(Ok(LoginSuccess {
                    grant,
                    device_cookie,
                }))
            }
            Err(refusal) => {
                self.metrics.login_failure();
                let status = match refusal {
                    gatehouse_core::LoginRefusal::InvalidCredentials => StatusCode::UNAUTHORIZED,
                    gatehouse_core::LoginRefusal::EmailUnconfirmed
                    | gatehouse_core::LoginRefusal::AccountDisabled => StatusCode::FORBIDDEN,
                };
                Ok(Err(LoginFailure {
                    status,
                    code: refusal.code(),
                    message: refusal.to_string(),
                    retry_after: None,
                }))
            }
        }
    }

    /// The `Set-Cookie` value for the session cookie (`max_age` 0 ends it); `Secure` when
    /// the client spoke HTTPS.
    pub fn session_cookie(&self, token: &str, max_age: i64, https: bool) -> String {
        let secure = if https { "; Secure" } else { "" };
        format!(
            "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
        )
    }
}

/// Password-reset requests, handled after the response by one worker: the answer to
/// `/api/password/forgot` takes the same time whether the email has an account or not
/// (issue 11: with SMTP a known address answered in 88 ms and an unknown one in 0.7 ms).
#[derive(Debug, Default)]
pub struct ResetQueue {
    sender: std::sync::OnceLock<tokio::sync::mpsc::Sender<String>>,
    pending: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl ResetQueue {
    /// Requests the queue holds at most; beyond, requests are dropped (and logged).
    pub const CAPACITY: usize = 1024;

    /// Queues a reset for `email`, starting the worker on first use.
    fn push(&self, shared: &AppState, email: String) {
        use std::sync::atomic::Ordering;
        let sender = self.sender.get_or_init(|| {
            let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(Self::CAPACITY);
            let state = shared.clone();
            let pending = self.pending.clone();
            tokio::spawn(async move {
                while let Some(email) = rx.recv().await {
                    let s = &state.0;
                    if let Err(e) =
                        s.gh.request_password_reset(
                            &email,
                            s.mailer.as_ref(),
                            &s.settings.base_url,
                            &s.settings.lifetimes,
                        )
                        .await
                    {
                        tracing::warn!(error = %e, "password reset mail failed");
                    }
                    pending.fetch_sub(1, Ordering::SeqCst);
                }
            });
            tx
        });
        self.pending.fetch_add(1, Ordering::SeqCst);
        if sender.try_send(email).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!("password reset queue full: request dropped");
        }
    }

    /// Waits until every queued request was handled (tests, graceful shutdown); at most 10 s.
    pub async fn idle(&self) {
        for _ in 0..1000 {
            if self.pending.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

/// The router's state.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Shared>);

impl AppState {
    /// State over the services.
    pub fn new(gh: Gatehouse, mailer: Arc<dyn Mailer>, settings: ServerSettings) -> Self {
        let shared_buckets = gh.shared_buckets();
        AppState(Arc::new(Shared {
            gh,
            mailer,
            throttle: match shared_buckets {
                Some(buckets) => throttle::Throttle::shared(settings.throttle, buckets),
                None => throttle::Throttle::new(settings.throttle),
            },
            devices: settings
                .device_keys
                .clone()
                .unwrap_or_else(client::DeviceKeys::random),
            resets: ResetQueue::default(),
            metrics: metrics::Metrics::default(),
            settings,
        }))
    }
}

/// Who is calling: from `Authorization: Bearer <token>` or the session cookie; anonymous when
/// neither is sent. A token that is sent but not valid is refused with 401.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The context for the services.
    pub ctx: Context,
}

impl Caller {
    /// The logged-in user's id, or 401.
    pub fn user_id(&self) -> Result<gatehouse_policy::UserId, ApiError> {
        match self.ctx.actor {
            Actor::User(id) => Ok(id),
            _ => Err(ApiError::unauthorized()),
        }
    }

    /// 401 unless someone (a user or a service token) is logged in.
    pub fn require(&self) -> Result<(), ApiError> {
        if self.ctx.actor == Actor::Anonymous {
            Err(ApiError::unauthorized())
        } else {
            Ok(())
        }
    }
}

/// The token a request carries, if any.
pub fn request_token(parts: &Parts) -> Option<String> {
    if let Some(auth) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return Some(auth.strip_prefix("Bearer ").unwrap_or("").trim().to_owned());
    }
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let channel = if parts.uri.path().starts_with("/admin") {
            Channel::Ui
        } else {
            Channel::Api
        };
        let Some(token) = request_token(parts) else {
            return Ok(Caller {
                ctx: Context {
                    actor: Actor::Anonymous,
                    channel,
                    credential: None,
                    snapshot: None,
                },
            });
        };
        match state.0.gh.resolve_token(&token).await? {
            Some(r) => Ok(Caller {
                ctx: Context {
                    actor: r.principal.actor,
                    channel,
                    credential: Some(r.principal.credential),
                    snapshot: Some(r.snapshot),
                },
            }),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the token or session is not valid (expired, logged out, or revoked); log in again",
            )),
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie_value<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let resp = next.run(req).await;
    let status = resp.status().as_u16();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let elapsed = start.elapsed();
    state
        .0
        .metrics
        .request(method.as_str(), route, status, elapsed);
    tracing::debug!(%method, route, status, micros = elapsed.as_micros() as u64, "request");
    resp
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; see /api/openapi.json",
    )
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /api/openapi.json",
    )
}

/// The whole HTTP service.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/login", post(api_session::login))
        .route("/api/logout", post(api_session::logout))
        .route("/api/me", get(api_session::me))
        .route("/api/confirm", post(api_session::confirm))
        .route("/api/password/forgot", post(api_session::forgot))
        .route("/api/password/reset", post(api_session::reset))
        .route("/api/check", post(api_access::check))
        .route("/api/explain", post(api_access::explain))
        .route("/api/users", get(api_users::list).post(api_users::create))
        .route(
            "/api/users/{user}",
            get(api_users::show)
                .patch(api_users::profile)
                .delete(api_users::delete),
        )
        .route("/api/users/{user}/activate", post(api_users::activate))
        .route("/api/users/{user}/deactivate", post(api_users::deactivate))
        .route("/api/users/{user}/confirm", post(api_users::confirm))
        .route(
            "/api/users/{user}/send-confirmation",
            post(api_users::send_confirmation),
        )
        .route("/api/users/bulk", post(api_users::bulk))
        .route("/api/users/{user}/email", put(api_users::set_email))
        .route(
            "/api/users/{user}/username",
            put(api_users::set_username).delete(api_users::clear_username),
        )
        .route("/api/users/{user}/type", put(api_users::set_type))
        .route("/api/users/{user}/roles", put(api_users::set_roles))
        .route(
            "/api/users/{user}/entries",
            post(api_users::add_entry).delete(api_users::remove_entry),
        )
        .route("/api/users/{user}/scope", put(api_users::set_scope))
        .route("/api/users/{user}/password", put(api_users::set_password))
        .route("/api/users/{user}/privileges", get(api_users::privileges))
        .route("/api/users/{user}/effective", get(api_platform::effective))
        .route("/api/who-can", post(api_platform::who_can))
        .route("/api/filter", post(api_platform::filter))
        .route(
            "/api/roles",
            get(api_access::roles).post(api_access::create_role),
        )
        .route("/api/roles/{name}", get(api_access::role))
        .route(
            "/api/grants",
            get(api_access::grants)
                .post(api_access::grant)
                .delete(api_access::remove_grant),
        )
        .route(
            "/api/tokens",
            get(api_access::tokens).post(api_access::create_token),
        )
        .route(
            "/api/tokens/{name}",
            axum::routing::delete(api_access::revoke_token),
        )
        .route("/api/history", get(api_access::history))
        .route(
            "/api/clients",
            get(api_clients::list).post(api_clients::create),
        )
        .route("/api/clients/{id}", get(api_clients::show))
        .route("/api/clients/{id}/revoke", post(api_clients::revoke))
        .route(
            "/api/clients/{id}/forget-consent",
            post(api_clients::forget_consent),
        )
        .route(
            "/api/clients/{id}/rotate-secret",
            post(api_clients::rotate_secret),
        )
        .route("/api/keys", get(api_clients::keys))
        .route("/api/keys/rotate", post(api_clients::rotate_keys))
        .layer(DefaultBodyLimit::max(64 * 1024));
    let batch = Router::new()
        .route("/api/check/batch", post(api_access::batch))
        .route("/access/v1/evaluations", post(api_platform::az_evaluations))
        .layer(DefaultBodyLimit::max(1024 * 1024));
    Router::new()
        .merge(api)
        .merge(batch)
        .merge(admin::routes())
        .route("/api/openapi.json", get(openapi::serve))
        .route("/access/v1/evaluation", post(api_platform::az_evaluation))
        .route(
            "/.well-known/authzen-configuration",
            get(api_platform::az_configuration),
        )
        .route("/healthz", get(api_session::healthz))
        .route("/readyz", get(api_session::readyz))
        .route("/metrics", get(metrics_text))
        .route("/confirm", get(api_session::confirm_page))
        .route(
            "/.well-known/openid-configuration",
            get(oidc_api::discovery),
        )
        .route("/oauth/jwks", get(oidc_api::jwks))
        .route(
            "/oauth/authorize",
            get(oidc_pages::authorize).post(oidc_pages::consent),
        )
        .route(
            "/oauth/login",
            get(oidc_pages::login_page).post(oidc_pages::login),
        )
        .route(
            "/oauth/logout",
            get(oidc_pages::logout).post(oidc_pages::logout),
        )
        .route(
            "/oauth/token",
            post(oidc_api::token).layer(DefaultBodyLimit::max(64 * 1024)),
        )
        .route(
            "/oauth/userinfo",
            get(oidc_api::userinfo).post(oidc_api::userinfo),
        )
        .route(
            "/oauth/revoke",
            post(oidc_api::revoke).layer(DefaultBodyLimit::max(64 * 1024)),
        )
        .route(
            "/oauth/introspect",
            post(oidc_api::introspect).layer(DefaultBodyLimit::max(64 * 1024)),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track))
        .with_state(state)
}

/// `/metrics` on the main address: only with `metrics.token` configured, and only to a
/// request bearing it (issue 11: it was public). Without a token it is not served here; see
/// [`metrics_router`] for a separate address.
async fn metrics_text(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(expected) = &state.0.settings.metrics_token else {
        return not_found().await.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !gatehouse_core::auth::same(given, expected) {
        return ApiError::unauthorized().into_response();
    }
    metrics_body(&state)
}

fn metrics_body(state: &AppState) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.0.metrics.render(),
    )
        .into_response()
}

/// The router of a separate metrics address (`server.metrics_listen`): `/metrics` only, no
/// token (the address is meant for the monitoring network).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move { metrics_body(&state) }),
        )
        .fallback(not_found)
        .with_state(state)
}
