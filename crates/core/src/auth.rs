//! Credentials: log in sessions and bearer tokens, service tokens, and single-use links for
//! email confirmation and password reset. Tokens are 32 random bytes (base64url); only their
//! SHA-256 is stored, so a stolen database holds no usable token.

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use gatehouse_policy::Privilege;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::account::{Email, Password};
use crate::error::CoreError;
use crate::login::LoginRefusal;
use crate::service::{hash_password, Actor, Context, Gatehouse, UserRef};
use crate::store::{Credential, CredentialKind, LinkPurpose, NewCredential};
use crate::user::User;

/// A fresh random token (43 characters, base64url).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    // On every authenticated request: a table, not `format!` per byte.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(2 * digest.len());
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

/// Sends mail (SMTP or a file outbox; see the server crate).
#[async_trait]
pub trait Mailer: Send + Sync + std::fmt::Debug {
    /// Sends one plain-text message.
    async fn send(&self, to: &Email, subject: &str, body: &str) -> Result<(), CoreError>;
}

/// Lifetimes of credentials and links.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// Browser sessions.
    pub session: Duration,
    /// Bearer tokens from a log in.
    pub bearer: Duration,
    /// Email confirmation links.
    pub confirm_link: Duration,
    /// Password reset links.
    pub reset_link: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            session: Duration::hours(8),
            bearer: Duration::hours(24),
            confirm_link: Duration::hours(48),
            reset_link: Duration::minutes(30),
        }
    }
}

/// A successful log in: the tokens are shown once.
#[derive(Debug, Clone)]
pub struct LoginGrant {
    /// The user.
    pub user: User,
    /// Session token for the cookie.
    pub session_token: String,
    /// Bearer token for the `Authorization` header, when one was asked for.
    pub bearer_token: Option<String>,
    /// When the bearer token expires.
    pub expires: DateTime<Utc>,
}

/// A resolved token and the snapshot it was resolved in (reuse it for the request).
#[derive(Debug, Clone)]
pub struct Resolved {
    /// Who.
    pub principal: Principal,
    /// The snapshot of this request.
    pub snapshot: std::sync::Arc<crate::snapshot::Snapshot>,
}

/// Who a token authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The actor for the services.
    pub actor: Actor,
    /// The credential's id (for log out and "keep this session").
    pub credential: i64,
    /// When the credential was made: for a session, when the user logged in (the ID
    /// token's `auth_time`).
    pub since: DateTime<Utc>,
}

/// A created service token, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceToken {
    /// The stored credential.
    pub credential: Credential,
    /// The token itself.
    pub token: String,
}

impl Gatehouse {
    /// Logs in: checks the password, confirmation and activity, then issues a session and,
    /// when `bearer` is true, a bearer token.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        lifetimes: &Lifetimes,
        bearer: bool,
    ) -> Result<Result<LoginGrant, LoginRefusal>, CoreError> {
        let (checked, rehash) = self.check_login(login, password).await?;
        let user = match checked {
            Ok(u) => u,
            Err(refusal) => {
                // A right password on an unconfirmed or disabled account still replaces
                // its legacy hash.
                if let Some(rehash) = rehash {
                    let mut tx = self.begin().await?;
                    self.apply_rehash(tx.as_mut(), rehash).await?;
                    tx.commit().await?;
                }
                return Ok(Err(refusal));
            }
        };
        let now = Utc::now();
        let session_token = new_token();
        // A browser (the admin UI) needs only the session; API clients also get a token.
        let bearer_token = bearer.then(new_token);
        let mut tx = self.begin().await?;
        // An old platform's hash that just matched is replaced in this same transaction:
        // the session and the new hash are stored together or not at all.
        let user = match rehash {
            Some(r) => self.apply_rehash(tx.as_mut(), r).await?.unwrap_or(user),
            None => user,
        };
        // Log ins are what add credentials, so they are where expired ones go: the table
        // holds only live sessions, tokens and links.
        tx.purge_expired(now).await?;
        // And OpenID Connect codes and tokens a day after they expired (kept that long so
        // that a replayed code or refresh token is still recognised as one).
        tx.purge_oauth(now - Duration::days(1)).await?;
        // The session and the bearer token of one log in share a name, so that logging out
        // with either ends both.
        let login_id = new_token();
        let mut issue = vec![(CredentialKind::Session, &session_token, lifetimes.session)];
        if let Some(t) = &bearer_token {
            issue.push((CredentialKind::Bearer, t, lifetimes.bearer));
        }
        for (kind, token, ttl) in issue {
            tx.insert_credential(&NewCredential {
                kind,
                token_hash: token_hash(token),
                user_id: Some(user.id),
                name: Some(login_id.clone()),
                privileges: Vec::new(),
                expires: Some(now + ttl),
            })
            .await?;
        }
        tx.commit().await?;
        Ok(Ok(LoginGrant {
            user,
            session_token,
            bearer_token,
            expires: now + lifetimes.bearer,
        }))
    }

    /// Who `token` authenticates, if anyone: an active user's session or bearer token, or a
    /// service token. Answers from the snapshot when nothing changed since the token was
    /// last seen.
    pub async fn resolve_token(&self, token: &str) -> Result<Option<Resolved>, CoreError> {
        if token.is_empty() || token.len() > 200 {
            return Ok(None);
        }
        let snapshot = self.snapshot().await?;
        let hash = token_hash(token);
        let now = Utc::now();
        let principal = match snapshot.token(&hash, now) {
            Some(found) => found,
            None => {
                let found = self.resolve_uncached(&hash, now).await?;
                snapshot.keep_token(hash, found.clone());
                found.map(|(p, _)| p)
            }
        };
        Ok(principal.map(|principal| Resolved {
            principal,
            snapshot,
        }))
    }

    async fn resolve_uncached(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Principal, Option<DateTime<Utc>>)>, CoreError> {
        let mut tx = self.begin_read().await?;
        let Some(cred) = tx.credential_by_hash(hash, now).await? else {
            return Ok(None);
        };
        let actor = match (cred.kind, cred.user_id) {
            (CredentialKind::Service, _) => Actor::Service {
                name: cred.name.clone().unwrap_or_default(),
                privileges: cred.privileges.clone(),
            },
            (_, Some(id)) => match tx.user_by_id(id).await? {
                Some(u) if u.active => Actor::User(id),
                _ => return Ok(None),
            },
            (_, None) => return Ok(None),
        };
        Ok(Some((
            Principal {
                actor,
                credential: cred.id,
                since: cred.created,
            },
            cred.expires,
        )))
    }

    /// A secret shared by every node (stored on first use): `fresh` is stored if there was
    /// none yet. The server keeps the key that signs known-device cookies here.
    pub async fn shared_secret(&self, name: &str, fresh: &str) -> Result<String, CoreError> {
        let mut tx = self.begin().await?;
        let value = tx.secret(name, fresh).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// Logs out: ends the credential and the other one its log in issued (the session and
    /// the bearer token of one log in end together).
    pub async fn logout(&self, credential: i64) -> Result<(), CoreError> {
        let mut tx = self.begin().await?;
        tx.end_login(credential).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a service token (`gatehouse tokens create NAME --privilege P...`).
    pub async fn create_service_token(
        &self,
        ctx: &Context,
        name: &str,
        privileges: Vec<Privilege>,
    ) -> Result<ServiceToken, CoreError> {
        if name.is_empty()
            || name.len() > 80
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(CoreError::invalid(
                "name",
                format!(
                    "invalid token name `{name}`: use 1 to 80 letters, digits, `-`, `_` or `.`"
                ),
            ));
        }
        let token = new_token();
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        let credential = tx
            .insert_credential(&NewCredential {
                kind: CredentialKind::Service,
                token_hash: token_hash(&token),
                user_id: None,
                name: Some(name.to_owned()),
                privileges: privileges.clone(),
                expires: None,
            })
            .await?;
        self.record(
            tx.as_mut(),
            ctx,
            "token.create",
            None,
            name,
            json!({"privileges": privileges.iter().map(ToString::to_string).collect::<Vec<_>>()}),
        )
        .await?;
        tx.commit().await?;
        Ok(ServiceToken { credential, token })
    }

    /// Lists service tokens (never the tokens themselves).
    pub async fn list_service_tokens(&self, ctx: &Context) -> Result<Vec<Credential>, CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize_read(tx.as_mut(), ctx, "config/view", None)
            .await?;
        Ok(tx.credentials(Some(CredentialKind::Service)).await?)
    }

    /// Revokes a service token by name.
    pub async fn revoke_service_token(&self, ctx: &Context, name: &str) -> Result<(), CoreError> {
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        if !tx.delete_service_token(name).await? {
            return Err(CoreError::NotFound {
                what: "service token",
                value: name.to_owned(),
                hint: "; list them with `gatehouse tokens list`".into(),
            });
        }
        self.record(tx.as_mut(), ctx, "token.revoke", None, name, json!({}))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends a confirmation link to a user whose email is not confirmed yet.
    pub async fn send_confirmation(
        &self,
        ctx: &Context,
        who: &UserRef,
        mailer: &dyn Mailer,
        base_url: &str,
        lifetimes: &Lifetimes,
    ) -> Result<User, CoreError> {
        let token = new_token();
        let mut tx = self.begin().await?;
        let user = self.find_user(tx.as_mut(), who).await?;
        self.authorize_on_user(tx.as_mut(), ctx, "user/staff/edit", &user)
            .await?;
        if user.confirmed() {
            return Err(CoreError::invalid(
                "user",
                format!("the email of {} is already confirmed", user.label()),
            ));
        }
        tx.insert_link(
            LinkPurpose::Confirm,
            user.id,
            &token_hash(&token),
            Utc::now() + lifetimes.confirm_link,
        )
        .await?;
        self.record(
            tx.as_mut(),
            ctx,
            "user.send_confirmation",
            Some(user.id),
            user.email.as_str(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        let link = format!("{}/confirm?token={token}", base_url.trim_end_matches('/'));
        let body = format!(
            "Hello,\n\nplease confirm your email address for your repository account by opening this link:\n\n  {link}\n\nThe link works once and expires in {} hours. If you did not expect this message, ignore it.\n",
            lifetimes.confirm_link.num_hours()
        );
        mailer
            .send(&user.email, "Confirm your email address", &body)
            .await?;
        Ok(user)
    }

    /// Follows a confirmation link: confirms the email. `Ok(None)` for an unknown, used or
    /// expired link.
    pub async fn confirm_with_link(
        &self,
        token: &str,
        channel: crate::Channel,
    ) -> Result<Option<User>, CoreError> {
        let mut tx = self.begin().await?;
        let Some(id) = tx
            .consume_link(LinkPurpose::Confirm, &token_hash(token), Utc::now())
            .await?
        else {
            tx.commit().await?;
            return Ok(None);
        };
        let Some(mut user) = tx.user_by_id(id).await? else {
            return Ok(None);
        };
        if user.confirmed_at.is_none() {
            user.confirmed_at = Some(Utc::now());
            user = tx.update_user(&user).await?;
        }
        let ctx = Context {
            actor: Actor::User(user.id),
            channel,
            credential: None,
            snapshot: None,
        };
        self.record(
            tx.as_mut(),
            &ctx,
            "user.confirm",
            Some(user.id),
            user.email.as_str(),
            json!({"via": "link"}),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    /// A lost-password request: mails a reset link if the email belongs to a user, and says
    /// nothing either way.
    pub async fn request_password_reset(
        &self,
        email: &str,
        mailer: &dyn Mailer,
        base_url: &str,
        lifetimes: &Lifetimes,
    ) -> Result<(), CoreError> {
        let Ok(email) = Email::new(email) else {
            return Ok(());
        };
        let token = new_token();
        let mut tx = self.begin().await?;
        let Some(user) = tx.user_by_email(&email).await? else {
            return Ok(());
        };
        tx.insert_link(
            LinkPurpose::Reset,
            user.id,
            &token_hash(&token),
            Utc::now() + lifetimes.reset_link,
        )
        .await?;
        tx.commit().await?;
        let link = format!(
            "{}/reset-password?token={token}",
            base_url.trim_end_matches('/')
        );
        let body = format!(
            "Hello,\n\nsomeone asked to reset the password of your repository account. To choose a new password, open:\n\n  {link}\n\nThe link works once and expires in {} minutes. If it was not you, ignore this message; your password is unchanged.\n",
            lifetimes.reset_link.num_minutes()
        );
        mailer.send(&user.email, "Reset your password", &body).await
    }

    /// Follows a reset link: sets the new password and ends every session. `Ok(None)` for an
    /// unknown, used or expired link.
    pub async fn reset_password_with_link(
        &self,
        token: &str,
        password: Password,
        channel: crate::Channel,
    ) -> Result<Option<User>, CoreError> {
        // Look at the link first: a made-up token costs no Argon2 work (issue 11: 64
        // anonymous clients posting made-up tokens slowed a log in from 20 ms to 1.26 s).
        {
            let mut tx = self.begin_read().await?;
            if tx
                .link_user(LinkPurpose::Reset, &token_hash(token), Utc::now())
                .await?
                .is_none()
            {
                return Ok(None);
            }
        }
        let hash = hash_password(password).await?;
        let mut tx = self.begin().await?;
        let Some(id) = tx
            .consume_link(LinkPurpose::Reset, &token_hash(token), Utc::now())
            .await?
        else {
            tx.commit().await?;
            return Ok(None);
        };
        let Some(mut user) = tx.user_by_id(id).await? else {
            return Ok(None);
        };
        user.password_hash = Some(hash);
        let user = tx.update_user(&user).await?;
        tx.delete_user_credentials(user.id, None).await?;
        tx.revoke_user_oauth_tokens(user.id).await?;
        let ctx = Context {
            actor: Actor::User(user.id),
            channel,
            credential: None,
            snapshot: None,
        };
        self.record(
            tx.as_mut(),
            &ctx,
            "user.set_password",
            Some(user.id),
            user.email.as_str(),
            json!({"via": "reset link"}),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(user))
    }
}

/// Constant-time comparison of two strings (secrets, their hashes, CSRF tokens): the time
/// depends on the lengths only, never on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 64);
        // SHA-256 of "abc" (FIPS 180-2), lower-case hex: hashes stored by earlier builds match.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }
}
