//! What the OpenID Connect provider stores: clients, signing keys, authorization codes and
//! tokens. Secrets (client secrets, codes, tokens) are stored by their SHA-256 only
//! ([`crate::auth::token_hash`]); private keys are stored whole (every node signs with
//! them) and never shown: their `Debug` is redacted.

use chrono::{DateTime, Utc};
use gatehouse_policy::{Privilege, UserId};

use crate::error::CoreError;

/// A client's identifier: `gh-` and 22 URL-safe characters, or what an import gave (1 to 80
/// letters, digits, `-`, `_`, `.`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ClientId(String);

impl ClientId {
    /// A fresh random id.
    pub fn generate() -> Self {
        let token = crate::auth::new_token();
        ClientId(format!("gh-{}", &token[..22]))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for ClientId {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty()
            || s.len() > 80
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(CoreError::invalid(
                "client_id",
                format!(
                    "invalid client id `{}`: use the id `gatehouse clients create` printed",
                    crate::error::shorten(s)
                ),
            ));
        }
        Ok(ClientId(s.to_owned()))
    }
}

impl std::fmt::Display for ClientId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registered relying party.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct OidcClient {
    /// Its id (`client_id`).
    pub id: ClientId,
    /// A name for people (shown on the consent page).
    pub name: String,
    /// Hex SHA-256 of the secret; `None` for public clients. Never serialized.
    #[serde(skip)]
    pub secret_hash: Option<String>,
    /// Redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (no secret; PKCE `S256` required).
    pub public: bool,
    /// Registered as first-party: no consent page.
    pub first_party: bool,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// The service token whose privileges the client credentials grant hands out, if any.
    pub service_token: Option<String>,
    /// Created.
    pub created: DateTime<Utc>,
    /// When it was revoked; a revoked client is refused everywhere.
    pub revoked: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("id", &self.id)
            .field("name", &self.name)
            .field(
                "secret_hash",
                &self.secret_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("redirect_uris", &self.redirect_uris)
            .field("post_logout_redirect_uris", &self.post_logout_redirect_uris)
            .field("public", &self.public)
            .field("first_party", &self.first_party)
            .field("scopes", &self.scopes)
            .field("service_token", &self.service_token)
            .field("created", &self.created)
            .field("revoked", &self.revoked)
            .finish()
    }
}

/// The signature algorithms of the provider's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum KeyAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (every client supports it), 2048-bit keys.
    RS256,
    /// Ed25519.
    EdDSA,
}

impl KeyAlg {
    /// The JOSE name (`RS256`, `EdDSA`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::RS256 => "RS256",
            KeyAlg::EdDSA => "EdDSA",
        }
    }

    /// Parses a JOSE name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RS256" => Some(KeyAlg::RS256),
            "EdDSA" => Some(KeyAlg::EdDSA),
            _ => None,
        }
    }
}

/// A signing key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Key id (`kid`).
    pub kid: String,
    /// Algorithm.
    pub alg: KeyAlg,
    /// The private key: PKCS#1 DER (RS256) or the 32-byte seed (EdDSA), base64. Never shown.
    pub private_key: String,
    /// The public key as a JWK (JSON text), as published.
    pub public_jwk: String,
    /// Created; published from then on.
    pub created: DateTime<Utc>,
    /// Signs from this time on (after the rotation delay).
    pub sign_from: DateTime<Utc>,
    /// No longer published after this time (set when a newer key replaces it).
    pub retire_after: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("private_key", &"<redacted>")
            .field("created", &self.created)
            .field("sign_from", &self.sign_from)
            .field("retire_after", &self.retire_after)
            .finish()
    }
}

/// An authorization code as stored (by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCode {
    /// Hex SHA-256 of the code.
    pub code_hash: String,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user who authorized.
    pub user_id: UserId,
    /// The redirect URI of the request (the token request must repeat it).
    pub redirect_uri: String,
    /// The PKCE `S256` challenge, if one was sent.
    pub code_challenge: Option<String>,
    /// The `nonce` of the request, bound into the ID token.
    pub nonce: Option<String>,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// When the user authenticated (`auth_time`).
    pub auth_time: DateTime<Utc>,
    /// Expires (60 s after issue).
    pub expires: DateTime<Utc>,
}

/// What using an authorization code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeUse {
    /// The code was unused: it is used now.
    Fresh(AuthCode),
    /// The code was used before: a replay.
    Replayed(AuthCode),
    /// No such code.
    Unknown,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// An access token (bearer, short-lived).
    Access,
    /// A refresh token (used once, then replaced).
    Refresh,
}

impl TokenKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "access" => Some(TokenKind::Access),
            "refresh" => Some(TokenKind::Refresh),
            _ => None,
        }
    }
}

/// An access or refresh token as stored (by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthToken {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// Access or refresh.
    pub kind: TokenKind,
    /// The client it was issued to.
    pub client_id: ClientId,
    /// The user (none for the client credentials grant).
    pub user_id: Option<UserId>,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The chain: every token issued from one authorization code (or one client credentials
    /// request) shares it; reuse of a refresh token revokes the chain.
    pub family: String,
    /// Privileges (client credentials grant: the service token's).
    pub privileges: Vec<Privilege>,
    /// Issued.
    pub created: DateTime<Utc>,
    /// Expires.
    pub expires: DateTime<Utc>,
    /// Revoked (by revocation, reuse, deactivation, a password change or the client's
    /// revocation).
    pub revoked: bool,
    /// Used (a refresh token that was exchanged).
    pub used: bool,
    /// When the user logged in (the session's start), the same for every token of a chain
    /// so that a refreshed ID token's `auth_time` never moves forward; `None` for the
    /// client credentials grant and for tokens stored before schema version 7.
    pub auth_time: Option<DateTime<Utc>>,
}

/// A user's remembered consent to a client: every scope granted to it so far. The consent
/// page is skipped while the requested scopes are all among them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Consent {
    /// The user who consented.
    pub user_id: UserId,
    /// The client consented to.
    pub client_id: ClientId,
    /// The scopes granted, in the provider's order.
    pub scopes: Vec<String>,
    /// When the consent was last widened.
    pub granted: DateTime<Utc>,
}

impl Consent {
    /// Whether every scope of `scope` (space-separated) is among the granted ones.
    pub fn covers(&self, scope: &str) -> bool {
        scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .all(|s| self.scopes.iter().any(|g| g == s))
    }
}

/// What using a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshUse {
    /// Live and unused: it is used now.
    Fresh(OAuthToken),
    /// Used before, or revoked: a reuse (the caller revokes the chain).
    Reused(OAuthToken),
    /// No such refresh token.
    Unknown,
}
