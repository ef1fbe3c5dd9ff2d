//! The protocol: the authorization request, codes, and the token endpoint's grants
//! (authorization code with PKCE, refresh with rotation and reuse detection, client
//! credentials). What relying parties read afterwards is in `resource`.
//!
//! Every write is one transaction. Codes and tokens are stored by hash; a code is used
//! once, and a replayed code or a reused refresh token revokes the whole chain of tokens
//! that came from that authorization (the chain's id is the code's hash).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use gatehouse_policy::UserId;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::model::{
    AuthCode, ClientId, CodeUse, Consent, OAuthToken, OidcClient, RefreshUse, TokenKind,
};
use super::{keys, same, OAuthError, OidcSettings, CODE_LIFETIME_SECS, SCOPES};
use crate::auth::{new_token, token_hash};
use crate::error::CoreError;
use crate::service::{Context, Gatehouse};
use crate::store::{CredentialKind, Tx};
use crate::user::User;

/// The parameters of an authorization request, as sent.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct AuthParams {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// One of the client's redirect URIs, exactly.
    pub redirect_uri: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// Passed back unchanged.
    pub state: Option<String>,
    /// Bound into the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: Option<String>,
    /// PKCE method: only `S256`.
    pub code_challenge_method: Option<String>,
    /// `none`, `login`, `consent`.
    pub prompt: Option<String>,
    /// Seconds: a log in older than this is asked again (OpenID Connect Core 3.1.2.1).
    pub max_age: Option<String>,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    /// The client.
    pub client: OidcClient,
    /// The redirect URI (one of the client's).
    pub redirect_uri: String,
    /// The scopes granted, space-separated, in the provider's order.
    pub scope: String,
    /// `state`, to pass back.
    pub state: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// PKCE `S256` challenge.
    pub code_challenge: Option<String>,
    /// `prompt` values.
    pub prompt: Vec<String>,
    /// `max_age`, in seconds.
    pub max_age: Option<i64>,
}

impl AuthRequest {
    /// Whether a log in made at `since` is too old for this request's `max_age` at `now`
    /// (then the user logs in again, or `prompt=none` gets `login_required`); `max_age=0`
    /// always asks again, like `prompt=login`.
    pub fn too_old(&self, since: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.max_age.is_some_and(|max| {
            // A `max_age` too large for a duration (over 292 million years) never expires.
            max == 0 || Duration::try_seconds(max).is_some_and(|d| now - since > d)
        })
    }
}

/// Why an authorization request is refused.
#[derive(Debug, Clone)]
pub enum AuthRefusal {
    /// The client or redirect URI cannot be trusted: say so to the user, never redirect.
    Show(OAuthError),
    /// Send the error back to the client's redirect URI (with `state`).
    Redirect {
        /// Where.
        redirect_uri: String,
        /// The request's `state`.
        state: Option<String>,
        /// The error.
        error: OAuthError,
    },
}

/// The user of an authorization request as their session knows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggedIn {
    /// The user.
    pub user: UserId,
    /// When they logged in (their session's start): the ID token's `auth_time`.
    pub since: DateTime<Utc>,
}

/// What the token endpoint answers.
#[derive(Clone, serde::Serialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// The refresh token, if one was issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The ID token, if `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The scopes granted.
    pub scope: String,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "<redacted>"))
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Whether `verifier` is a valid PKCE verifier for the `S256` `challenge` (RFC 7636 4.6).
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed
        && same(
            &URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            challenge,
        )
}

/// Whether a user may use the provider: active and confirmed (SPEC: only confirmed
/// accounts can be logged in).
pub(super) fn usable(user: &User) -> bool {
    user.active && user.confirmed()
}

/// `scope` split, each checked against the provider's and the client's scopes, in the
/// provider's order.
fn granted_scope(requested: &str, client: &OidcClient) -> Result<String, OAuthError> {
    let mut wanted: Vec<&str> = Vec::new();
    for s in requested.split(' ').filter(|s| !s.is_empty()) {
        if !SCOPES.contains(&s) || !client.scopes.iter().any(|c| c == s) {
            return Err(OAuthError::invalid_scope(format!(
                "scope `{}` is not available to this client",
                crate::error::shorten(s)
            )));
        }
        wanted.push(s);
    }
    if wanted.is_empty() {
        return Err(OAuthError::invalid_scope(
            "ask for at least one scope, e.g. `openid email profile`",
        ));
    }
    Ok(SCOPES
        .iter()
        .filter(|s| wanted.contains(s))
        .copied()
        .collect::<Vec<_>>()
        .join(" "))
}

pub(super) fn has_scope(scope: &str, want: &str) -> bool {
    scope.split(' ').any(|s| s == want)
}

impl Gatehouse {
    /// Checks an authorization request (before any log in): the client and redirect URI
    /// first (refused without a redirect), then the rest (refused by a redirect).
    pub async fn check_authorize(&self, p: &AuthParams) -> Result<AuthRequest, AuthRefusal> {
        let show = |e: OAuthError| AuthRefusal::Show(e);
        let Some(client_id) = p.client_id.as_deref().filter(|s| !s.is_empty()) else {
            return Err(show(OAuthError::invalid_request("`client_id` is missing")));
        };
        let Ok(id) = client_id.parse::<ClientId>() else {
            return Err(show(OAuthError::invalid_client("unknown client")));
        };
        let client = {
            let mut tx = self.begin_read().await.map_err(|e| show(e.into()))?;
            tx.oidc_client(&id).await.map_err(|e| show(e.into()))?
        };
        let Some(client) = client.filter(|c| c.revoked.is_none()) else {
            return Err(show(OAuthError::invalid_client(
                "unknown or revoked client",
            )));
        };
        let Some(redirect_uri) = p.redirect_uri.clone() else {
            return Err(show(OAuthError::invalid_request(
                "`redirect_uri` is missing",
            )));
        };
        // Exact string matching, nothing else (no prefix, no normalisation).
        if !client.redirect_uris.contains(&redirect_uri) {
            return Err(show(OAuthError::invalid_request(
                "`redirect_uri` is not one registered for this client",
            )));
        }
        let back = |error: OAuthError| AuthRefusal::Redirect {
            redirect_uri: redirect_uri.clone(),
            state: p.state.clone(),
            error,
        };
        match p.response_type.as_deref() {
            Some("code") => {}
            None => {
                return Err(back(OAuthError::invalid_request(
                    "`response_type` is missing",
                )))
            }
            Some(_) => {
                return Err(back(OAuthError::Protocol {
                    code: "unsupported_response_type",
                    description: "only `response_type=code` is supported".into(),
                }))
            }
        }
        let scope = granted_scope(p.scope.as_deref().unwrap_or(""), &client).map_err(back)?;
        let challenge = p.code_challenge.clone().filter(|c| !c.is_empty());
        if let Some(c) = &challenge {
            if p.code_challenge_method.as_deref() != Some("S256") {
                return Err(back(OAuthError::invalid_request(
                    "only `code_challenge_method=S256` is supported",
                )));
            }
            if c.len() != 43
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err(back(OAuthError::invalid_request(
                    "`code_challenge` is not a base64url SHA-256",
                )));
            }
        } else if client.public {
            return Err(back(OAuthError::invalid_request(
                "a public client must send a PKCE `code_challenge` with `code_challenge_method=S256`",
            )));
        }
        if p.nonce.as_ref().is_some_and(|n| n.len() > 512)
            || p.state.as_ref().is_some_and(|s| s.len() > 2048)
        {
            return Err(back(OAuthError::invalid_request(
                "`nonce` or `state` is too long",
            )));
        }
        let prompt: Vec<String> = p
            .prompt
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if prompt.iter().any(|x| x == "none") && prompt.len() > 1 {
            return Err(back(OAuthError::invalid_request(
                "`prompt=none` cannot be combined with other values",
            )));
        }
        let max_age = match p.max_age.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 0 => Some(n),
                _ => {
                    return Err(back(OAuthError::invalid_request(format!(
                        "`max_age` must be a whole number of seconds, 0 or more, not `{}`",
                        v.chars().take(20).collect::<String>()
                    ))))
                }
            },
        };
        Ok(AuthRequest {
            client,
            redirect_uri,
            scope,
            state: p.state.clone(),
            nonce: p.nonce.clone(),
            code_challenge: challenge,
            prompt,
            max_age,
        })
    }

    /// Whether `user` must see the consent page for `req`: never for a first-party client
    /// (unless `prompt=consent`), always with `prompt=consent`, otherwise unless the user's
    /// remembered consent to this client covers every requested scope.
    pub async fn needs_consent(&self, req: &AuthRequest, user: UserId) -> Result<bool, OAuthError> {
        let forced = req.prompt.iter().any(|x| x == "consent");
        if forced {
            return Ok(true);
        }
        if req.client.first_party {
            return Ok(false);
        }
        let mut tx = self.begin_read().await?;
        let remembered = tx.oidc_consent(user, &req.client.id).await?;
        Ok(!remembered.is_some_and(|c| c.covers(&req.scope)))
    }

    /// Issues an authorization code for `who` (logged in, and consenting or first-party):
    /// single use, 60 s, bound to the client, redirect URI and PKCE challenge, carrying
    /// when the user logged in. With `consented` (the user just allowed a third-party
    /// client), the consent is remembered in the same transaction: the scopes granted so
    /// far and these, recorded in history when they widen.
    pub async fn issue_code(
        &self,
        req: &AuthRequest,
        who: LoggedIn,
        consented: bool,
    ) -> Result<String, OAuthError> {
        let code = new_token();
        let now = Utc::now();
        let mut tx = self.begin().await?;
        match tx.user_by_id(who.user).await? {
            Some(u) if usable(&u) => {}
            _ => {
                return Err(OAuthError::Protocol {
                    code: "access_denied",
                    description: "only active, confirmed accounts can log in".into(),
                })
            }
        }
        if consented && !req.client.first_party {
            self.remember_consent(tx.as_mut(), req, who.user, now)
                .await?;
        }
        tx.insert_auth_code(&AuthCode {
            code_hash: token_hash(&code),
            client_id: req.client.id.clone(),
            user_id: who.user,
            redirect_uri: req.redirect_uri.clone(),
            code_challenge: req.code_challenge.clone(),
            nonce: req.nonce.clone(),
            scope: req.scope.clone(),
            // A session from the future (a clock step back) is never trusted beyond now.
            auth_time: who.since.min(now),
            expires: now + Duration::seconds(CODE_LIFETIME_SECS),
        })
        .await?;
        tx.commit().await?;
        Ok(code)
    }

    /// Widens the user's remembered consent to the request's client by its scopes.
    async fn remember_consent(
        &self,
        tx: &mut dyn Tx,
        req: &AuthRequest,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(), OAuthError> {
        let before = tx.oidc_consent(user, &req.client.id).await?;
        if before.as_ref().is_some_and(|c| c.covers(&req.scope)) {
            return Ok(());
        }
        let held: Vec<String> = before.map(|c| c.scopes).unwrap_or_default();
        let scopes: Vec<String> = SCOPES
            .iter()
            .filter(|s| held.iter().any(|h| h == *s) || has_scope(&req.scope, s))
            .map(|s| (*s).to_owned())
            .collect();
        tx.save_oidc_consent(&Consent {
            user_id: user,
            client_id: req.client.id.clone(),
            scopes: scopes.clone(),
            granted: now,
        })
        .await?;
        // The user consents themselves, on the consent page.
        let ctx = Context {
            actor: crate::Actor::User(user),
            channel: crate::Channel::Ui,
            credential: None,
            snapshot: None,
        };
        self.record(
            tx,
            &ctx,
            "client.consent",
            Some(user),
            req.client.id.as_str(),
            json!({"scopes": scopes}),
        )
        .await?;
        Ok(())
    }

    /// Authenticates a client at the token, revocation or introspection endpoint: a
    /// confidential client by its secret (compared in constant time), a public one by its
    /// id alone.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: Option<&str>,
    ) -> Result<OidcClient, OAuthError> {
        let mut tx = self.begin_read().await?;
        client_in(tx.as_mut(), client_id, secret).await
    }

    /// `grant_type=authorization_code`, for a client [`Gatehouse::authenticate_client`]
    /// let in.
    pub async fn exchange_code(
        &self,
        client: &OidcClient,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        settings: &OidcSettings,
    ) -> Result<TokenResponse, OAuthError> {
        let ring = self.key_ring(settings).await?;
        let now = Utc::now();
        let code_hash = token_hash(code);
        // One writing transaction: the code is used, checked and the tokens stored
        // together, or nothing is (a mismatch drops the transaction and leaves the code
        // unused for its own client).
        let mut tx = self.begin().await?;
        let code = match tx.use_auth_code(&code_hash, now).await? {
            CodeUse::Fresh(c) => c,
            CodeUse::Unknown => {
                return Err(OAuthError::invalid_grant("the code is unknown or expired"))
            }
            CodeUse::Replayed(c) => {
                // RFC 6749 4.1.2: a code used twice revokes what it gave the first time.
                let revoked = tx.revoke_oauth_family(&c.code_hash).await?;
                let ctx = Context::operator("gatehouse", crate::Channel::Api);
                self.record(
                    tx.as_mut(),
                    &ctx,
                    "client.code_replayed",
                    Some(c.user_id),
                    c.client_id.as_str(),
                    json!({"tokens_revoked": revoked}),
                )
                .await?;
                tx.commit().await?;
                return Err(OAuthError::invalid_grant(
                    "the code was used already; the tokens issued for it are revoked",
                ));
            }
        };
        // Dropping the transaction on a mismatch leaves the code unused for its client.
        if code.client_id != client.id {
            return Err(OAuthError::invalid_grant(
                "the code was issued to another client",
            ));
        }
        if redirect_uri != Some(code.redirect_uri.as_str()) {
            return Err(OAuthError::invalid_grant(
                "`redirect_uri` differs from the authorization request's",
            ));
        }
        match (&code.code_challenge, code_verifier) {
            (Some(challenge), Some(v)) if pkce_matches(v, challenge) => {}
            (None, None) => {}
            (Some(_), None) => return Err(OAuthError::invalid_grant("`code_verifier` is missing")),
            _ => return Err(OAuthError::invalid_grant("`code_verifier` does not match")),
        }
        let user = match tx.user_by_id(code.user_id).await? {
            Some(u) if usable(&u) => u,
            _ => return Err(OAuthError::invalid_grant("the account cannot log in")),
        };
        let claims = if has_scope(&code.scope, "openid") {
            Some(
                self.claims_in(tx.as_mut(), &user, &code.scope, settings)
                    .await?,
            )
        } else {
            None
        };
        let issued = self
            .issue_tokens(
                tx.as_mut(),
                client,
                Some(&user),
                &code.scope,
                &code.code_hash,
                (true, Vec::new()),
                Some(code.auth_time),
                settings,
            )
            .await?;
        tx.commit().await?;
        // Signed after the commit: the write lock is never held for a signature.
        let id_token = match claims {
            Some(claims) => Some(id_token(
                &ring,
                client,
                claims,
                code.nonce.as_deref(),
                code.auth_time,
                &issued.access_token,
                settings,
            )?),
            None => None,
        };
        Ok(TokenResponse { id_token, ..issued })
    }

    /// `grant_type=refresh_token`: the refresh token is used once and replaced; a reused
    /// one revokes its whole chain.
    pub async fn refresh(
        &self,
        client: &OidcClient,
        refresh_token: &str,
        scope: Option<&str>,
        settings: &OidcSettings,
    ) -> Result<TokenResponse, OAuthError> {
        let ring = self.key_ring(settings).await?;
        let now = Utc::now();
        let mut tx = self.begin().await?;
        let old = match tx
            .use_refresh_token(&token_hash(refresh_token), now)
            .await?
        {
            RefreshUse::Fresh(t) => t,
            RefreshUse::Unknown => {
                return Err(OAuthError::invalid_grant(
                    "the refresh token is unknown or expired",
                ))
            }
            RefreshUse::Reused(t) => {
                if t.client_id != client.id {
                    return Err(OAuthError::invalid_grant(
                        "the refresh token is unknown or expired",
                    ));
                }
                let revoked = tx.revoke_oauth_family(&t.family).await?;
                let ctx = Context::operator("gatehouse", crate::Channel::Api);
                self.record(
                    tx.as_mut(),
                    &ctx,
                    "client.refresh_reused",
                    t.user_id,
                    t.client_id.as_str(),
                    json!({"tokens_revoked": revoked}),
                )
                .await?;
                tx.commit().await?;
                return Err(OAuthError::invalid_grant(
                    "the refresh token was used already or revoked; its whole chain is revoked",
                ));
            }
        };
        if old.client_id != client.id {
            return Err(OAuthError::invalid_grant(
                "the refresh token is unknown or expired",
            ));
        }
        let scope = match scope.filter(|s| !s.trim().is_empty()) {
            None => old.scope.clone(),
            Some(s) => {
                let asked = granted_scope(s, client)?;
                if asked.split(' ').any(|x| !has_scope(&old.scope, x)) {
                    return Err(OAuthError::invalid_scope(
                        "a refresh can only narrow the scopes first granted",
                    ));
                }
                asked
            }
        };
        let user = match old.user_id {
            Some(id) => match tx.user_by_id(id).await? {
                Some(u) if usable(&u) => u,
                _ => return Err(OAuthError::invalid_grant("the account cannot log in")),
            },
            None => return Err(OAuthError::invalid_grant("not a user's refresh token")),
        };
        // The log in time travels with the chain (tokens stored before schema version 7
        // have none: their creation is the nearest bound known).
        let auth_time = old.auth_time.unwrap_or(old.created);
        let claims = if has_scope(&scope, "openid") {
            Some(self.claims_in(tx.as_mut(), &user, &scope, settings).await?)
        } else {
            None
        };
        let issued = self
            .issue_tokens(
                tx.as_mut(),
                client,
                Some(&user),
                &scope,
                &old.family,
                (true, Vec::new()),
                Some(auth_time),
                settings,
            )
            .await?;
        tx.commit().await?;
        let id_token = match claims {
            Some(claims) => Some(id_token(
                &ring,
                client,
                claims,
                None,
                auth_time,
                &issued.access_token,
                settings,
            )?),
            None => None,
        };
        Ok(TokenResponse { id_token, ..issued })
    }

    /// `grant_type=client_credentials`: an access token carrying the privileges of the
    /// service token the client was registered with.
    pub async fn client_credentials(
        &self,
        client: &OidcClient,
        scope: Option<&str>,
        settings: &OidcSettings,
    ) -> Result<TokenResponse, OAuthError> {
        let Some(service) = client.service_token.as_deref().filter(|_| !client.public) else {
            return Err(OAuthError::unauthorized_client(
                "this client is not registered for the client credentials grant (it needs a service token)",
            ));
        };
        let scope = match scope.filter(|s| !s.trim().is_empty()) {
            Some(s) => granted_scope(s, client)?,
            None => String::new(),
        };
        let mut tx = self.begin().await?;
        let Some(token) = tx
            .credentials(Some(CredentialKind::Service))
            .await?
            .into_iter()
            .find(|c| c.name.as_deref() == Some(service))
        else {
            return Err(OAuthError::unauthorized_client(
                "the service token this client was registered with is revoked",
            ));
        };
        let family = token_hash(&new_token());
        let issued = self
            .issue_tokens(
                tx.as_mut(),
                client,
                None,
                &scope,
                &family,
                (false, token.privileges),
                None,
                settings,
            )
            .await?;
        tx.commit().await?;
        Ok(issued)
    }

    /// Stores a grant's access token (and refresh token) in `tx`, in one statement.
    #[allow(clippy::too_many_arguments)]
    async fn issue_tokens(
        &self,
        tx: &mut dyn Tx,
        client: &OidcClient,
        user: Option<&User>,
        scope: &str,
        family: &str,
        (refresh, privileges): (bool, Vec<gatehouse_policy::Privilege>),
        auth_time: Option<DateTime<Utc>>,
        settings: &OidcSettings,
    ) -> Result<TokenResponse, OAuthError> {
        let now = Utc::now();
        let access = new_token();
        let base = OAuthToken {
            token_hash: token_hash(&access),
            kind: TokenKind::Access,
            client_id: client.id.clone(),
            user_id: user.map(|u| u.id),
            scope: scope.to_owned(),
            family: family.to_owned(),
            privileges,
            created: now,
            expires: now + settings.access_token_lifetime,
            revoked: false,
            used: false,
            auth_time,
        };
        let refresh_token = refresh.then(new_token);
        match &refresh_token {
            Some(r) => {
                let refresh_row = OAuthToken {
                    token_hash: token_hash(r),
                    kind: TokenKind::Refresh,
                    expires: now + settings.refresh_token_lifetime,
                    ..base.clone()
                };
                tx.insert_oauth_tokens(&[base, refresh_row]).await?;
            }
            None => tx.insert_oauth_tokens(std::slice::from_ref(&base)).await?,
        }
        Ok(TokenResponse {
            access_token: access,
            token_type: "Bearer",
            expires_in: settings.access_token_lifetime.num_seconds(),
            refresh_token,
            id_token: None,
            scope: scope.to_owned(),
        })
    }
}

/// The client `client_id`, read in `tx`: a confidential client by its `secret` (its hash
/// compared in constant time), a public one by its id alone; anything else is
/// `invalid_client`, with the same words whatever failed.
async fn client_in(
    tx: &mut dyn Tx,
    client_id: &str,
    secret: Option<&str>,
) -> Result<OidcClient, OAuthError> {
    let refused = || OAuthError::invalid_client("client authentication failed");
    let id: ClientId = client_id.parse().map_err(|_| refused())?;
    let client = tx
        .oidc_client(&id)
        .await?
        .filter(|c| c.revoked.is_none())
        .ok_or_else(refused)?;
    match (&client.secret_hash, secret) {
        (Some(stored), Some(given)) if same(stored, &token_hash(given)) => Ok(client),
        (None, None) if client.public => Ok(client),
        _ => Err(refused()),
    }
}

/// Signs an ID token: the user's `claims` (from [`Gatehouse::claims_in`]) with the
/// issuer, audience, times, `auth_time`, `at_hash` and `nonce`.
fn id_token(
    ring: &keys::KeyRing,
    client: &OidcClient,
    mut claims: serde_json::Map<String, Value>,
    nonce: Option<&str>,
    auth_time: DateTime<Utc>,
    access_token: &str,
    settings: &OidcSettings,
) -> Result<String, OAuthError> {
    let now = Utc::now();
    let key = ring.signer(settings.id_token_alg, now).ok_or_else(|| {
        CoreError::Internal(format!(
            "no {} key signs now; run `gatehouse keys rotate`",
            settings.id_token_alg.as_str()
        ))
    })?;
    claims.insert("iss".into(), json!(settings.issuer));
    claims.insert("aud".into(), json!(client.id.as_str()));
    claims.insert("azp".into(), json!(client.id.as_str()));
    claims.insert("iat".into(), json!(now.timestamp()));
    claims.insert(
        "exp".into(),
        json!((now + settings.access_token_lifetime).timestamp()),
    );
    claims.insert("auth_time".into(), json!(auth_time.timestamp()));
    claims.insert(
        "at_hash".into(),
        json!(keys::at_hash(key.stored.alg, access_token)),
    );
    if let Some(n) = nonce {
        claims.insert("nonce".into(), json!(n));
    }
    Ok(keys::sign(key, &Value::Object(claims))?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn pkce_s256_from_rfc_7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj",
            challenge
        ));
        assert!(!pkce_matches("short", challenge));
    }
}
