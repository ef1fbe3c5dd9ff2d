//! `/api/clients` and `/api/keys`: the OpenID Connect provider's clients and signing keys
//! over the JSON API, the same services as `gatehouse clients` and `gatehouse keys`
//! (`config/edit` to change, `config/view` to read). A client's secret is in the answer to
//! its creation or rotation only.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use gatehouse_core::oidc::clients::{ClientSecret, KeyView, NewClient};
use gatehouse_core::oidc::model::{ClientId, OidcClient};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiJson, ErrorBody};
use crate::{AppState, Caller};

/// A client to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientRequest {
    /// A name for people (shown on the consent page).
    pub name: String,
    /// Redirect URIs, matched exactly (`https://`, or `http://` on loopback).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client: no secret, PKCE required.
    #[serde(default)]
    pub public: bool,
    /// First-party: no consent page.
    #[serde(default)]
    pub first_party: bool,
    /// Scopes it may ask for (default: all of `openid profile email roles offline_access`).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The service token whose privileges the client credentials grant hands out.
    #[serde(default)]
    pub service_token: Option<String>,
}

/// A client (its secret only when created or rotated).
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientOut {
    /// `client_id`.
    pub id: String,
    /// Name.
    pub name: String,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Public (no secret).
    pub public: bool,
    /// First-party (no consent page).
    pub first_party: bool,
    /// Scopes it may ask for.
    pub scopes: Vec<String>,
    /// Service token for the client credentials grant.
    pub service_token: Option<String>,
    /// Created.
    pub created: DateTime<Utc>,
    /// Revoked at.
    pub revoked: Option<DateTime<Utc>>,
    /// The secret, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<&OidcClient> for ClientOut {
    fn from(c: &OidcClient) -> Self {
        ClientOut {
            id: c.id.to_string(),
            name: c.name.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            public: c.public,
            first_party: c.first_party,
            scopes: c.scopes.clone(),
            service_token: c.service_token.clone(),
            created: c.created,
            revoked: c.revoked,
            secret: None,
        }
    }
}

impl From<ClientSecret> for ClientOut {
    fn from(c: ClientSecret) -> Self {
        ClientOut {
            secret: c.secret,
            ..ClientOut::from(&c.client)
        }
    }
}

/// A signing key (never its private part).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyOut {
    /// Key id.
    pub kid: String,
    /// `RS256` or `EdDSA`.
    pub alg: String,
    /// Published since.
    pub created: DateTime<Utc>,
    /// Signs from.
    pub sign_from: DateTime<Utc>,
    /// Published until.
    pub retire_after: Option<DateTime<Utc>>,
    /// `signing`, `published` or `retired`.
    pub state: String,
}

impl From<KeyView> for KeyOut {
    fn from(k: KeyView) -> Self {
        KeyOut {
            kid: k.kid,
            alg: k.alg.as_str().to_owned(),
            created: k.created,
            sign_from: k.sign_from,
            retire_after: k.retire_after,
            state: k.state.to_owned(),
        }
    }
}

fn client_id(id: &str) -> Result<ClientId, ApiError> {
    Ok(id.parse::<ClientId>()?)
}

/// List clients (`config/view`).
#[utoipa::path(get, path = "/api/clients", tag = "clients",
    responses((status = 200, body = [ClientOut]), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ClientOut>>, ApiError> {
    caller.require()?;
    let clients = state.0.gh.list_clients(&caller.ctx).await?;
    Ok(Json(clients.iter().map(ClientOut::from).collect()))
}

/// Register a client (`config/edit`); the secret is in this answer only.
#[utoipa::path(post, path = "/api/clients", tag = "clients", request_body = ClientRequest,
    responses((status = 201, body = ClientOut), (status = 403, body = ErrorBody),
        (status = 404, description = "unknown service token", body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ClientRequest>,
) -> Result<Response, ApiError> {
    caller.require()?;
    let created = state
        .0
        .gh
        .create_client(
            &caller.ctx,
            NewClient {
                name: req.name,
                redirect_uris: req.redirect_uris,
                post_logout_redirect_uris: req.post_logout_redirect_uris,
                public: req.public,
                first_party: req.first_party,
                scopes: req.scopes,
                service_token: req.service_token,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ClientOut::from(created))).into_response())
}

/// One client (`config/view`).
#[utoipa::path(get, path = "/api/clients/{id}", tag = "clients",
    params(("id" = String, Path, description = "client id")),
    responses((status = 200, body = ClientOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ClientOut>, ApiError> {
    caller.require()?;
    let c = state
        .0
        .gh
        .show_client(&caller.ctx, &client_id(&id)?)
        .await?;
    Ok(Json(ClientOut::from(&c)))
}

/// Revoke a client (`config/edit`): refused from now on; its tokens end at once.
#[utoipa::path(post, path = "/api/clients/{id}/revoke", tag = "clients",
    params(("id" = String, Path, description = "client id")),
    responses((status = 200, body = ClientOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ClientOut>, ApiError> {
    caller.require()?;
    let c = state
        .0
        .gh
        .revoke_client(&caller.ctx, &client_id(&id)?)
        .await?;
    Ok(Json(ClientOut::from(&c)))
}

/// Give a confidential client a new secret (`config/edit`), in this answer only.
#[utoipa::path(post, path = "/api/clients/{id}/rotate-secret", tag = "clients",
    params(("id" = String, Path, description = "client id")),
    responses((status = 200, body = ClientOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ClientOut>, ApiError> {
    caller.require()?;
    let c = state
        .0
        .gh
        .rotate_client_secret(&caller.ctx, &client_id(&id)?)
        .await?;
    Ok(Json(ClientOut::from(c)))
}

/// Which consents to forget: one user's (by email or id), or everyone's.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgetConsentRequest {
    /// The user whose consent to forget; without it, every user's.
    #[serde(default)]
    pub user: Option<String>,
}

/// How many consents were forgotten.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForgetConsentOut {
    /// The client.
    pub client: String,
    /// Consents forgotten (0 when there were none: nothing changed).
    pub consents_forgotten: u64,
}

/// Forget the consents users gave a client (`config/edit`): the consent page is shown
/// again at their next authorization. Tokens already issued stay valid.
#[utoipa::path(post, path = "/api/clients/{id}/forget-consent", tag = "clients",
    params(("id" = String, Path, description = "client id")),
    request_body(content = ForgetConsentRequest, description = "`{}` for every user's consent"),
    responses((status = 200, body = ForgetConsentOut), (status = 403, body = ErrorBody),
        (status = 404, description = "unknown client or user", body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn forget_consent(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ForgetConsentRequest>,
) -> Result<Json<ForgetConsentOut>, ApiError> {
    caller.require()?;
    let id = client_id(&id)?;
    let user = req
        .user
        .as_deref()
        .map(str::parse::<gatehouse_core::UserRef>)
        .transpose()?;
    let n = state
        .0
        .gh
        .forget_consent(&caller.ctx, &id, user.as_ref())
        .await?;
    Ok(Json(ForgetConsentOut {
        client: id.to_string(),
        consents_forgotten: n,
    }))
}

/// The signing keys (`config/view`), never their private parts.
#[utoipa::path(get, path = "/api/keys", tag = "clients",
    responses((status = 200, body = [KeyOut]), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<KeyOut>>, ApiError> {
    caller.require()?;
    let keys = state
        .0
        .gh
        .list_keys(&caller.ctx, &state.0.settings.oidc)
        .await?;
    Ok(Json(keys.into_iter().map(KeyOut::from).collect()))
}

/// Rotate the signing keys (`config/edit`): new keys are published now and sign after
/// `oidc.key_rotation_delay_secs`.
#[utoipa::path(post, path = "/api/keys/rotate", tag = "clients",
    responses((status = 200, body = [KeyOut]), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn rotate_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<KeyOut>>, ApiError> {
    caller.require()?;
    let keys = state
        .0
        .gh
        .rotate_keys(&caller.ctx, &state.0.settings.oidc)
        .await?;
    Ok(Json(keys.into_iter().map(KeyOut::from).collect()))
}
