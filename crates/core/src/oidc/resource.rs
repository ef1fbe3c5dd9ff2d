//! What relying parties and resource servers read: the claims of an account, userinfo,
//! introspection (RFC 7662), revocation (RFC 7009), ID token hints and the JWKS. Every
//! answer about a token reads its row and its user from the database.

use chrono::Utc;
use gatehouse_policy::Entry;
use serde_json::{json, Map, Value};

use super::flow::{has_scope, usable};
use super::model::{ClientId, OidcClient, TokenKind};
use super::{OAuthError, OidcSettings};
use crate::auth::token_hash;
use crate::error::CoreError;
use crate::service::Gatehouse;
use crate::store::Tx;
use crate::user::User;

impl Gatehouse {
    /// The claims of `user` for `scope`, as `tx` sees the database: `sub` always (the
    /// account's id, never the email); `email` and `email_verified` with `email`; `name`,
    /// `preferred_username` and `affiliations` with `profile`; with `roles`, the user's
    /// type, own roles in order, and under `oidc.roles_claim` every role they hold now, as
    /// the engine's effective set has it (through the type, then their own entries; roles
    /// made at run time included, a role that no longer exists never).
    pub(crate) async fn claims_in(
        &self,
        tx: &mut dyn Tx,
        user: &User,
        scope: &str,
        settings: &OidcSettings,
    ) -> Result<Map<String, Value>, CoreError> {
        let mut c = Map::new();
        c.insert("sub".into(), json!(user.id.0.to_string()));
        if has_scope(scope, "email") {
            c.insert("email".into(), json!(user.email.as_str()));
            c.insert("email_verified".into(), json!(user.confirmed()));
        }
        if has_scope(scope, "profile") {
            if !user.full_name.is_empty() {
                c.insert("name".into(), json!(user.full_name));
            }
            let preferred = user
                .username
                .as_ref()
                .map_or_else(|| user.email.as_str().to_owned(), ToString::to_string);
            c.insert("preferred_username".into(), json!(preferred));
            c.insert("affiliations".into(), json!(user.affiliations));
        }
        if has_scope(scope, "roles") {
            let policy = self.policy(tx).await?;
            let facts = self.facts(tx, user).await?;
            let version = u64::try_from(user.version).unwrap_or(0);
            let effective = self.cache.get(&policy, &facts, version);
            let held: Vec<String> = effective
                .held_roles()
                .iter()
                .map(ToString::to_string)
                .collect();
            // The user's own ordered roles, as the engine reads them: a name whose role is
            // not defined (or was deleted) holds nothing and is left out.
            let own: Vec<String> = user
                .entries
                .iter()
                .filter_map(|e| match e {
                    Entry::Role(r) if policy.has_role(r) => Some(r.to_string()),
                    _ => None,
                })
                .collect();
            c.insert(
                "user_type".into(),
                json!(user.user_type.as_ref().map(ToString::to_string)),
            );
            c.insert("roles".into(), json!(own));
            c.insert(settings.roles_claim.clone(), json!(held));
        }
        Ok(c)
    }

    /// A live access token's user and scope, for userinfo: refused (RFC 6750
    /// `invalid_token`) when the token is unknown, expired or revoked, or its user or client
    /// can no longer log in. Always read from the database.
    pub async fn userinfo(
        &self,
        access_token: &str,
        settings: &OidcSettings,
    ) -> Result<Map<String, Value>, OAuthError> {
        let refused = || OAuthError::invalid_token("the access token is not valid");
        let mut tx = self.begin_read().await?;
        let t = tx
            .oauth_token(&token_hash(access_token))
            .await?
            .ok_or_else(refused)?;
        if t.kind != TokenKind::Access || t.revoked || t.expires <= Utc::now() {
            return Err(refused());
        }
        let user_id = t.user_id.ok_or_else(refused)?;
        let client = tx.oidc_client(&t.client_id).await?;
        if client.is_none_or(|c| c.revoked.is_some()) {
            return Err(refused());
        }
        match tx.user_by_id(user_id).await? {
            Some(u) if usable(&u) => {
                Ok(self.claims_in(tx.as_mut(), &u, &t.scope, settings).await?)
            }
            _ => Err(refused()),
        }
    }

    /// RFC 7662 introspection for an authenticated client: `{"active": false}` for anything
    /// not live now (unknown, expired, revoked, used refresh token, its user or client no
    /// longer able to log in). Always read from the database.
    pub async fn introspect(
        &self,
        client: &OidcClient,
        token: &str,
        settings: &OidcSettings,
    ) -> Result<Value, OAuthError> {
        if client.public {
            return Err(OAuthError::unauthorized_client(
                "a public client cannot introspect tokens",
            ));
        }
        let inactive = json!({"active": false});
        let mut tx = self.begin_read().await?;
        let Some(t) = tx.oauth_token(&token_hash(token)).await? else {
            return Ok(inactive);
        };
        let now = Utc::now();
        if t.revoked || t.used || t.expires <= now {
            return Ok(inactive);
        }
        if tx
            .oidc_client(&t.client_id)
            .await?
            .is_none_or(|c| c.revoked.is_some())
        {
            return Ok(inactive);
        }
        let mut out = json!({
            "active": true,
            "scope": t.scope,
            "client_id": t.client_id.as_str(),
            "token_type": match t.kind { TokenKind::Access => "Bearer", TokenKind::Refresh => "refresh_token" },
            "exp": t.expires.timestamp(),
            "iat": t.created.timestamp(),
            "iss": settings.issuer,
            "aud": t.client_id.as_str(),
        });
        if let Some(id) = t.user_id {
            match tx.user_by_id(id).await? {
                Some(u) if usable(&u) => {
                    out["sub"] = json!(id.0.to_string());
                    out["username"] = json!(u
                        .username
                        .as_ref()
                        .map_or_else(|| u.email.as_str().to_owned(), ToString::to_string));
                }
                _ => return Ok(inactive),
            }
        }
        if !t.privileges.is_empty() {
            out["privileges"] = json!(t
                .privileges
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>());
        }
        Ok(out)
    }

    /// RFC 7009 revocation by an authenticated client: its own tokens only; a refresh token
    /// takes its whole chain with it. Unknown tokens are no error.
    pub async fn revoke_oauth(&self, client: &OidcClient, token: &str) -> Result<(), OAuthError> {
        let mut tx = self.begin().await?;
        let Some(t) = tx.oauth_token(&token_hash(token)).await? else {
            return Ok(());
        };
        if t.client_id != client.id {
            return Ok(());
        }
        match t.kind {
            TokenKind::Refresh => {
                tx.revoke_oauth_family(&t.family).await?;
            }
            TokenKind::Access => {
                tx.revoke_oauth_token(&t.token_hash).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The claims of an ID token this provider signed (for `id_token_hint`), if its
    /// signature checks against a published key and it names this issuer; expiry is not
    /// checked.
    pub async fn verify_id_token(
        &self,
        jwt: &str,
        settings: &OidcSettings,
    ) -> Result<Option<Value>, CoreError> {
        let ring = self.key_ring(settings).await?;
        Ok(ring
            .verify(jwt, Utc::now())
            .filter(|c| c.get("iss").and_then(Value::as_str) == Some(settings.issuer.as_str())))
    }

    /// A client by id, if it exists and is not revoked (the logout endpoint).
    pub async fn live_client(&self, id: &str) -> Result<Option<OidcClient>, CoreError> {
        let Ok(id) = id.parse::<ClientId>() else {
            return Ok(None);
        };
        let mut tx = self.begin_read().await?;
        Ok(tx.oidc_client(&id).await?.filter(|c| c.revoked.is_none()))
    }

    /// The JWKS document: every published public key (the first keys are made on first
    /// use).
    pub async fn jwks(&self, settings: &OidcSettings) -> Result<Value, CoreError> {
        Ok(self.key_ring(settings).await?.jwks(Utc::now()))
    }
}
