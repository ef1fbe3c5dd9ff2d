//! The OpenID Connect provider (issue 14): clients ([`clients`]), signing keys and ID tokens
//! (`keys`), and the authorization code, refresh and client credentials grants with
//! revocation, introspection and userinfo ([`flow`], [`resource`]).
//!
//! Client management passes the one choke point like every service (`config/edit` to
//! change, `config/view` to read). The protocol operations authenticate a client or a
//! token instead of an actor, and answer [`OAuthError`]s, which the server turns into RFC
//! 6749 error JSON.

pub mod clients;
pub mod flow;
pub(crate) mod keys;
pub mod model;
pub mod resource;

use std::sync::{Arc, RwLock};
use std::time::Instant;

use chrono::Duration;

use crate::error::CoreError;
use model::KeyAlg;

/// The provider's settings (`oidc.*`), validated by the binary.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer: `server.base_url` without a trailing slash.
    pub issuer: String,
    /// Lifetime of access tokens and ID tokens (`oidc.access_token_lifetime_secs`).
    pub access_token_lifetime: Duration,
    /// Lifetime of refresh tokens (`oidc.refresh_token_lifetime_secs`).
    pub refresh_token_lifetime: Duration,
    /// Time between publishing a new key and signing with it (`oidc.key_rotation_delay_secs`).
    pub key_rotation_delay: Duration,
    /// The claim that carries the role names held (`oidc.roles_claim`).
    pub roles_claim: String,
    /// The algorithm ID tokens are signed with (`oidc.id_token_alg`).
    pub id_token_alg: KeyAlg,
}

impl Default for OidcSettings {
    fn default() -> Self {
        OidcSettings {
            issuer: "http://127.0.0.1:8080".into(),
            access_token_lifetime: Duration::seconds(300),
            refresh_token_lifetime: Duration::days(30),
            key_rotation_delay: Duration::hours(1),
            roles_claim: "groups".into(),
            id_token_alg: KeyAlg::RS256,
        }
    }
}

/// How long an authorization code lives.
pub const CODE_LIFETIME_SECS: i64 = 60;

/// The scopes the provider knows.
pub const SCOPES: &[&str] = &["openid", "profile", "email", "roles", "offline_access"];

/// An error of the OAuth protocol (RFC 6749 section 5.2 and friends), or an internal one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    /// A protocol error: its code (`invalid_grant`, ...) and a description for people, which
    /// never holds a secret.
    #[error("{code}: {description}")]
    Protocol {
        /// The RFC 6749 error code.
        code: &'static str,
        /// What went wrong.
        description: String,
    },
    /// Not the client's fault.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        OAuthError::Core(e.into())
    }
}

impl OAuthError {
    fn new(code: &'static str, description: impl Into<String>) -> Self {
        OAuthError::Protocol {
            code,
            description: description.into(),
        }
    }

    /// `invalid_request`.
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", d)
    }
    /// `invalid_client`.
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new("invalid_client", d)
    }
    /// `invalid_grant`.
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new("invalid_grant", d)
    }
    /// `unauthorized_client`.
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new("unauthorized_client", d)
    }
    /// `unsupported_grant_type`.
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self::new("unsupported_grant_type", d)
    }
    /// `invalid_scope`.
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new("invalid_scope", d)
    }
    /// `invalid_token` (RFC 6750).
    pub fn invalid_token(d: impl Into<String>) -> Self {
        Self::new("invalid_token", d)
    }

    /// The code, `server_error` for an internal error.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::Protocol { code, .. } => code,
            OAuthError::Core(_) => "server_error",
        }
    }
}

/// The provider's state in one process: the signing keys as last read, and when.
#[derive(Debug, Default)]
pub(crate) struct OidcState {
    ring: RwLock<Option<(Instant, Arc<keys::KeyRing>)>>,
    /// Held while the keys are read (or first made): concurrent requests that find the
    /// cache stale wait for one read instead of each reading, or each generating an RSA
    /// key on first start (32 at once kept a 2-core machine busy for tens of seconds).
    loading: tokio::sync::Mutex<()>,
}

/// How long a process keeps the keys it read before reading them again: far below the
/// rotation delay, so every node signs with a new key only after every node publishes it.
const KEY_CACHE: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) use crate::auth::same;
