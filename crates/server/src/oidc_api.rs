//! The OpenID Connect provider's machine endpoints: discovery, JWKS, the token endpoint
//! (authorization code, refresh token and client credentials grants; `client_secret_basic`
//! and `client_secret_post`), userinfo, revocation (RFC 7009) and introspection (RFC 7662).
//!
//! Errors here are RFC 6749 error JSON, `{"error": "...", "error_description": "..."}`,
//! never the API's error shape; internal failures are logged and answered `server_error`.
//! Responses that carry tokens are `Cache-Control: no-store`. The browser side (authorize,
//! log in, consent, logout) is in `oidc_pages`.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use gatehouse_core::oidc::model::OidcClient;
use gatehouse_core::oidc::OAuthError;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::client::Client;
use crate::AppState;

/// An RFC 6749 error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_scope`, `invalid_token`, `slow_down`,
    /// `server_error`.
    pub error: String,
    /// For people.
    pub error_description: String,
}

/// An OAuth error as a response: 401 for client and token authentication, 429 when
/// throttled, 500 for internal failures, 400 otherwise.
pub(crate) fn oauth_error(e: OAuthError) -> Response {
    let (status, code, description) = match e {
        OAuthError::Protocol { code, description } => {
            let status = match code {
                "invalid_client" | "invalid_token" => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            (status, code, description)
        }
        OAuthError::Core(err) => {
            tracing::error!(error = %err, "oauth endpoint: internal error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error; see the server log".to_owned(),
            )
        }
    };
    let mut resp = (
        status,
        no_store(),
        Json(OAuthErrorBody {
            error: code.to_owned(),
            error_description: description,
        }),
    )
        .into_response();
    if code == "invalid_client" {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"gatehouse\""),
        );
    }
    if code == "invalid_token" {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    resp
}

fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

/// The discovery document (OpenID Connect Discovery 1.0).
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "oidc",
    responses((status = 200, description = "the provider's metadata", body = Object)))]
pub async fn discovery(State(state): State<AppState>) -> Response {
    let s = &state.0.settings.oidc;
    let iss = s.issuer.as_str();
    Json(json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/oauth/authorize"),
        "token_endpoint": format!("{iss}/oauth/token"),
        "userinfo_endpoint": format!("{iss}/oauth/userinfo"),
        "jwks_uri": format!("{iss}/oauth/jwks"),
        "revocation_endpoint": format!("{iss}/oauth/revoke"),
        "introspection_endpoint": format!("{iss}/oauth/introspect"),
        "end_session_endpoint": format!("{iss}/oauth/logout"),
        "scopes_supported": gatehouse_core::oidc::SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [s.id_token_alg.as_str()],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "email", "email_verified", "name", "preferred_username", "affiliations",
            "user_type", "roles", s.roles_claim],
        "prompt_values_supported": ["none", "login", "consent"],
        "authorization_response_iss_parameter_supported": true,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    }))
    .into_response()
}

/// The provider's public signing keys (JWKS).
#[utoipa::path(get, path = "/oauth/jwks", tag = "oidc",
    responses((status = 200, description = "JSON Web Key Set", body = Object),
        (status = 500, description = "`server_error`", body = OAuthErrorBody)))]
pub async fn jwks(State(state): State<AppState>) -> Response {
    match state.0.gh.jwks(&state.0.settings.oidc).await {
        Ok(keys) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(keys)).into_response(),
        Err(e) => oauth_error(e.into()),
    }
}

/// The token endpoint's form (every grant's fields; each grant reads its own).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TokenForm {
    /// `authorization_code`, `refresh_token` or `client_credentials`.
    pub grant_type: Option<String>,
    /// The code (authorization_code).
    pub code: Option<String>,
    /// The redirect URI of the authorization request (authorization_code).
    pub redirect_uri: Option<String>,
    /// The PKCE verifier (authorization_code).
    pub code_verifier: Option<String>,
    /// The refresh token (refresh_token).
    pub refresh_token: Option<String>,
    /// Scopes (refresh_token: a narrowing; client_credentials).
    pub scope: Option<String>,
    /// The client (client_secret_post, or public clients).
    pub client_id: Option<String>,
    /// The client's secret (client_secret_post).
    pub client_secret: Option<String>,
}

impl TokenForm {
    /// Debug without secrets is the default `Debug` of a form nobody logs; this type is
    /// never logged.
    fn client(&self) -> (Option<&str>, Option<&str>) {
        (self.client_id.as_deref(), self.client_secret.as_deref())
    }
}

/// A percent-decoded component of `client_secret_basic` (RFC 6749 2.3.1 form-encodes them).
fn form_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The client's credentials: `Authorization: Basic` or the form's `client_id` (and
/// `client_secret`); both at once is a bad request.
fn client_credentials(
    headers: &HeaderMap,
    form: (Option<&str>, Option<&str>),
) -> Result<(String, Option<String>), OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    match (basic, form) {
        (Some(_), (_, Some(_))) => Err(OAuthError::invalid_request(
            "use one client authentication method, not two",
        )),
        (Some(b), (form_id, None)) => {
            let refused = || OAuthError::invalid_client("client authentication failed");
            let raw = STANDARD.decode(b.trim()).map_err(|_| refused())?;
            let text = String::from_utf8(raw).map_err(|_| refused())?;
            let (id, secret) = text.split_once(':').ok_or_else(refused)?;
            let id = form_decode(id).ok_or_else(refused)?;
            if form_id.is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_request(
                    "`client_id` differs from the authenticated client",
                ));
            }
            Ok((id, Some(form_decode(secret).ok_or_else(refused)?)))
        }
        (None, (Some(id), secret)) => Ok((id.to_owned(), secret.map(str::to_owned))),
        (None, (None, _)) => Err(OAuthError::invalid_client(
            "authenticate the client: HTTP Basic, or `client_id` and `client_secret` in the form",
        )),
    }
}

/// Authenticates the client of a request. A failure is charged to the log in throttle's
/// buckets (per client id and per address); once they are empty the answer is 429
/// `slow_down`. A success costs nothing: checking a secret is one SHA-256 and one read (no
/// Argon2 work to ration), a 256-bit secret cannot be guessed, and charging every request
/// would throttle a busy client's own concurrent token requests.
async fn authenticated(
    state: &AppState,
    headers: &HeaderMap,
    form: (Option<&str>, Option<&str>),
    client: &Client,
) -> Result<OidcClient, Response> {
    let (id, secret) = client_credentials(headers, form).map_err(oauth_error)?;
    match state.0.gh.authenticate_client(&id, secret.as_deref()).await {
        Ok(c) => Ok(c),
        Err(e) => Err(refused(state, &id, client, e).await),
    }
}

/// The answer to a request whose client authentication (or anything else) failed with
/// `e`: an `invalid_client` refusal is charged to the throttle's buckets first, and once
/// they are empty becomes 429 `slow_down`.
async fn refused(state: &AppState, id: &str, client: &Client, e: OAuthError) -> Response {
    if e.code() != "invalid_client" {
        return oauth_error(e);
    }
    let account = format!("client:{id}");
    let attempt = crate::throttle::Attempt {
        account: &account,
        address: &client.address,
        known_device: false,
    };
    match state
        .0
        .throttle
        .begin(&attempt, crate::throttle::unix_now())
        .await
    {
        Ok(_) => oauth_error(e),
        Err(wait) => {
            let mut resp = (
                StatusCode::TOO_MANY_REQUESTS,
                no_store(),
                Json(OAuthErrorBody {
                    error: "slow_down".into(),
                    error_description: format!(
                        "too many failed client authentications; try again in {wait} s"
                    ),
                }),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    }
}

/// The token endpoint (RFC 6749 section 3.2).
#[utoipa::path(post, path = "/oauth/token", tag = "oidc",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "tokens: `access_token`, `token_type`, `expires_in`, `refresh_token`, `id_token`, `scope`", body = Object),
        (status = 400, description = "`invalid_request`, `invalid_grant`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
        (status = 429, description = "`slow_down`: too many failed client authentications", body = OAuthErrorBody)))]
pub async fn token(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return oauth_error(OAuthError::invalid_request(
            "send an `application/x-www-form-urlencoded` body",
        ));
    };
    let grant = match form.grant_type.as_deref() {
        None | Some("") => {
            return oauth_error(OAuthError::invalid_request("`grant_type` is missing"))
        }
        Some(g @ ("authorization_code" | "refresh_token" | "client_credentials")) => g,
        Some(other) => {
            return oauth_error(OAuthError::unsupported_grant_type(format!(
                "grant type `{}` is not supported: use authorization_code, refresh_token or client_credentials",
                other.chars().take(60).collect::<String>()
            )))
        }
    };
    // The client is read outside the exchange's writing transaction: the read runs beside
    // other requests, where inside it would lengthen the one writer's turn (measured:
    // 1,175 against 970 exchanges/s, docs/PERFORMANCE.md).
    let oauth_client = match authenticated(&state, &headers, form.client(), &client).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let settings = &state.0.settings.oidc;
    let gh = &state.0.gh;
    let result = match grant {
        "authorization_code" => match form.code.as_deref() {
            Some(code) if !code.is_empty() => {
                gh.exchange_code(
                    &oauth_client,
                    code,
                    form.redirect_uri.as_deref(),
                    form.code_verifier.as_deref(),
                    settings,
                )
                .await
            }
            _ => Err(OAuthError::invalid_request("`code` is missing")),
        },
        "refresh_token" => match form.refresh_token.as_deref() {
            Some(t) if !t.is_empty() => {
                gh.refresh(&oauth_client, t, form.scope.as_deref(), settings)
                    .await
            }
            _ => Err(OAuthError::invalid_request("`refresh_token` is missing")),
        },
        _ => {
            gh.client_credentials(&oauth_client, form.scope.as_deref(), settings)
                .await
        }
    };
    match result {
        Ok(tokens) => (no_store(), Json(tokens)).into_response(),
        Err(e) => oauth_error(e),
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Userinfo (OpenID Connect Core 5.3): the claims the access token's scopes allow.
#[utoipa::path(get, path = "/oauth/userinfo", tag = "oidc",
    responses((status = 200, description = "the user's claims", body = Object),
        (status = 401, description = "`invalid_token`", body = OAuthErrorBody)),
    security(("bearer" = [])))]
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return oauth_error(OAuthError::invalid_token(
            "send the access token as `Authorization: Bearer <token>`",
        ));
    };
    match state.0.gh.userinfo(token, &state.0.settings.oidc).await {
        Ok(claims) => (no_store(), Json(Value::Object(claims))).into_response(),
        Err(e) => oauth_error(e),
    }
}

/// The form of revocation and introspection.
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
pub struct TokenOnlyForm {
    /// The token.
    pub token: Option<String>,
    /// `access_token` or `refresh_token` (a hint; every kind is looked up).
    pub token_type_hint: Option<String>,
    /// The client (client_secret_post, or public clients).
    pub client_id: Option<String>,
    /// The client's secret (client_secret_post).
    pub client_secret: Option<String>,
}

/// Revocation (RFC 7009): a client's own token; a refresh token takes its chain with it.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oidc",
    request_body(content = TokenOnlyForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "revoked, or unknown (no difference is told)"),
        (status = 400, description = "`invalid_request`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
        (status = 429, description = "`slow_down`", body = OAuthErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    form: Result<Form<TokenOnlyForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return oauth_error(OAuthError::invalid_request(
            "send an `application/x-www-form-urlencoded` body",
        ));
    };
    let creds = (form.client_id.as_deref(), form.client_secret.as_deref());
    let oauth_client = match authenticated(&state, &headers, creds, &client).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let Some(token) = form.token.as_deref().filter(|t| !t.is_empty()) else {
        return oauth_error(OAuthError::invalid_request("`token` is missing"));
    };
    match state.0.gh.revoke_oauth(&oauth_client, token).await {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(e) => oauth_error(e),
    }
}

/// Introspection (RFC 7662) for confidential clients (resource servers): always answered
/// from the database.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oidc",
    request_body(content = TokenOnlyForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "`{\"active\": false}` or the token's facts", body = Object),
        (status = 400, description = "`invalid_request`, `unauthorized_client`", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`", body = OAuthErrorBody),
        (status = 429, description = "`slow_down`", body = OAuthErrorBody)))]
pub async fn introspect(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    form: Result<Form<TokenOnlyForm>, FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return oauth_error(OAuthError::invalid_request(
            "send an `application/x-www-form-urlencoded` body",
        ));
    };
    let creds = (form.client_id.as_deref(), form.client_secret.as_deref());
    let oauth_client = match authenticated(&state, &headers, creds, &client).await {
        Ok(c) => c,
        Err(resp) => return resp,
    };
    let Some(token) = form.token.as_deref().filter(|t| !t.is_empty()) else {
        return oauth_error(OAuthError::invalid_request("`token` is missing"));
    };
    match state
        .0
        .gh
        .introspect(&oauth_client, token, &state.0.settings.oidc)
        .await
    {
        Ok(v) => (no_store(), Json(v)).into_response(),
        Err(e) => oauth_error(e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded_and_exclusive() {
        let mut h = HeaderMap::new();
        let v = format!("Basic {}", STANDARD.encode("gh-a%3Ab:s%2Bt+x"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&v).unwrap());
        assert_eq!(
            client_credentials(&h, (None, None)).unwrap(),
            ("gh-a:b".into(), Some("s+t x".into()))
        );
        assert_eq!(
            client_credentials(&h, (None, Some("x")))
                .unwrap_err()
                .code(),
            "invalid_request"
        );
        assert_eq!(
            client_credentials(&HeaderMap::new(), (None, None))
                .unwrap_err()
                .code(),
            "invalid_client"
        );
    }
}
