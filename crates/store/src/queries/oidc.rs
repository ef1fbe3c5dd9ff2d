//! The OpenID Connect provider's tables: clients, signing keys, authorization codes and
//! tokens. Codes and tokens are found by the hash of their value only.
//!
//! Using a code or a refresh token is one `UPDATE ... WHERE used = FALSE ... RETURNING`:
//! of two transactions using the same one at once, the second waits for the first and then
//! finds it used (a replay), never a second fresh use.

use chrono::{DateTime, Utc};
use gatehouse_core::oidc::model::{
    AuthCode, ClientId, CodeUse, Consent, KeyAlg, OAuthToken, OidcClient, RefreshUse, SigningKey,
    TokenKind,
};
use gatehouse_core::StoreError;
use gatehouse_policy::UserId;

use sqlx::QueryBuilder;

use super::dialect::{self, Conn, Db, List, Time};
use crate::codec::{self, backend, corrupt};

macro_rules! client_columns {
    () => {
        "id, name, secret_hash, redirect_uris, post_logout_redirect_uris, public, \
         first_party, scopes, service_token, created, revoked"
    };
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    name: String,
    secret_hash: Option<String>,
    redirect_uris: List,
    post_logout_redirect_uris: List,
    public: bool,
    first_party: bool,
    scopes: List,
    service_token: Option<String>,
    created: Time,
    revoked: Option<Time>,
}

impl ClientRow {
    fn into_client(self) -> Result<OidcClient, StoreError> {
        Ok(OidcClient {
            id: self
                .id
                .parse::<ClientId>()
                .map_err(|e| corrupt("client id", &self.id, e))?,
            name: self.name,
            secret_hash: self.secret_hash,
            redirect_uris: dialect::list_from("redirect URI", self.redirect_uris)?,
            post_logout_redirect_uris: dialect::list_from(
                "post-logout redirect URI",
                self.post_logout_redirect_uris,
            )?,
            public: self.public,
            first_party: self.first_party,
            scopes: dialect::list_from("scope", self.scopes)?,
            service_token: self.service_token,
            created: dialect::time_from(self.created)?,
            revoked: self.revoked.map(dialect::time_from).transpose()?,
        })
    }
}

pub(super) async fn insert_client(conn: &mut Conn, c: &OidcClient) -> Result<(), StoreError> {
    sqlx::query(sql!(
        "INSERT INTO oidc_clients (",
        client_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(c.id.as_str())
    .bind(&c.name)
    .bind(c.secret_hash.as_deref())
    .bind(dialect::list(&c.redirect_uris))
    .bind(dialect::list(&c.post_logout_redirect_uris))
    .bind(c.public)
    .bind(c.first_party)
    .bind(dialect::list(&c.scopes))
    .bind(c.service_token.as_deref())
    .bind(dialect::time(&c.created))
    .bind(c.revoked.as_ref().map(dialect::time))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn client(
    conn: &mut Conn,
    id: &ClientId,
) -> Result<Option<OidcClient>, StoreError> {
    let row: Option<ClientRow> = sqlx::query_as(sql!(
        "SELECT ",
        client_columns!(),
        " FROM oidc_clients WHERE id = ?"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(ClientRow::into_client).transpose()
}

pub(super) async fn clients(conn: &mut Conn) -> Result<Vec<OidcClient>, StoreError> {
    let rows: Vec<ClientRow> = sqlx::query_as(sql!(
        "SELECT ",
        client_columns!(),
        " FROM oidc_clients ORDER BY created, id"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.into_iter().map(ClientRow::into_client).collect()
}

pub(super) async fn update_client(conn: &mut Conn, c: &OidcClient) -> Result<bool, StoreError> {
    let done = sqlx::query(sql!(
        "UPDATE oidc_clients SET name = ?, secret_hash = ?, redirect_uris = ?, \
         post_logout_redirect_uris = ?, public = ?, first_party = ?, scopes = ?, \
         service_token = ?, revoked = ? WHERE id = ?"
    ))
    .bind(&c.name)
    .bind(c.secret_hash.as_deref())
    .bind(dialect::list(&c.redirect_uris))
    .bind(dialect::list(&c.post_logout_redirect_uris))
    .bind(c.public)
    .bind(c.first_party)
    .bind(dialect::list(&c.scopes))
    .bind(c.service_token.as_deref())
    .bind(c.revoked.as_ref().map(dialect::time))
    .bind(c.id.as_str())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    kid: String,
    alg: String,
    private_key: String,
    public_jwk: String,
    created: Time,
    sign_from: Time,
    retire_after: Option<Time>,
}

pub(super) async fn insert_key(conn: &mut Conn, k: &SigningKey) -> Result<(), StoreError> {
    sqlx::query(sql!(
        "INSERT INTO oidc_keys (kid, alg, private_key, public_jwk, created, sign_from, \
         retire_after) VALUES (?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&k.kid)
    .bind(k.alg.as_str())
    .bind(&k.private_key)
    .bind(&k.public_jwk)
    .bind(dialect::time(&k.created))
    .bind(dialect::time(&k.sign_from))
    .bind(k.retire_after.as_ref().map(dialect::time))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn keys(conn: &mut Conn) -> Result<Vec<SigningKey>, StoreError> {
    let rows: Vec<KeyRow> = sqlx::query_as(sql!(
        "SELECT kid, alg, private_key, public_jwk, created, sign_from, retire_after \
         FROM oidc_keys ORDER BY created, kid"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.into_iter()
        .map(|r| {
            Ok(SigningKey {
                alg: KeyAlg::parse(&r.alg)
                    .ok_or_else(|| corrupt("key algorithm", &r.alg, "unknown algorithm"))?,
                kid: r.kid,
                private_key: r.private_key,
                public_jwk: r.public_jwk,
                created: dialect::time_from(r.created)?,
                sign_from: dialect::time_from(r.sign_from)?,
                retire_after: r.retire_after.map(dialect::time_from).transpose()?,
            })
        })
        .collect()
}

pub(super) async fn retire_key(
    conn: &mut Conn,
    kid: &str,
    after: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(sql!("UPDATE oidc_keys SET retire_after = ? WHERE kid = ?"))
        .bind(dialect::time(&after))
        .bind(kid)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

macro_rules! code_columns {
    () => {
        "code_hash, client_id, user_id, redirect_uri, code_challenge, nonce, scope, \
         auth_time, expires, used"
    };
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    code_hash: String,
    client_id: String,
    user_id: i64,
    redirect_uri: String,
    code_challenge: Option<String>,
    nonce: Option<String>,
    scope: String,
    auth_time: Time,
    expires: Time,
    used: bool,
}

impl CodeRow {
    fn into_code(self) -> Result<(AuthCode, bool), StoreError> {
        let used = self.used;
        Ok((
            AuthCode {
                client_id: self
                    .client_id
                    .parse::<ClientId>()
                    .map_err(|e| corrupt("client id", &self.client_id, e))?,
                code_hash: self.code_hash,
                user_id: UserId(self.user_id),
                redirect_uri: self.redirect_uri,
                code_challenge: self.code_challenge,
                nonce: self.nonce,
                scope: self.scope,
                auth_time: dialect::time_from(self.auth_time)?,
                expires: dialect::time_from(self.expires)?,
            },
            used,
        ))
    }
}

pub(super) async fn insert_code(conn: &mut Conn, c: &AuthCode) -> Result<(), StoreError> {
    sqlx::query(sql!(
        "INSERT INTO oidc_codes (",
        code_columns!(),
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)"
    ))
    .bind(&c.code_hash)
    .bind(c.client_id.as_str())
    .bind(c.user_id.0)
    .bind(&c.redirect_uri)
    .bind(c.code_challenge.as_deref())
    .bind(c.nonce.as_deref())
    .bind(&c.scope)
    .bind(dialect::time(&c.auth_time))
    .bind(dialect::time(&c.expires))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn use_code(
    conn: &mut Conn,
    code_hash: &str,
    now: DateTime<Utc>,
) -> Result<CodeUse, StoreError> {
    let fresh: Option<CodeRow> = sqlx::query_as(sql!(
        "UPDATE oidc_codes SET used = TRUE \
         WHERE code_hash = ? AND used = FALSE AND expires > ? RETURNING ",
        code_columns!()
    ))
    .bind(code_hash)
    .bind(dialect::time(&codec::truncate(now)))
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    if let Some(row) = fresh {
        return Ok(CodeUse::Fresh(row.into_code()?.0));
    }
    let seen: Option<CodeRow> = sqlx::query_as(sql!(
        "SELECT ",
        code_columns!(),
        " FROM oidc_codes WHERE code_hash = ?"
    ))
    .bind(code_hash)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(match seen {
        Some(row) => match row.into_code()? {
            (code, true) => CodeUse::Replayed(code),
            // Unused but expired: worth nothing, and no replay either.
            (_, false) => CodeUse::Unknown,
        },
        None => CodeUse::Unknown,
    })
}

macro_rules! token_columns {
    () => {
        "token_hash, kind, client_id, user_id, scope, family, privileges, created, expires, \
         revoked, used, auth_time"
    };
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    token_hash: String,
    kind: String,
    client_id: String,
    user_id: Option<i64>,
    scope: String,
    family: String,
    privileges: List,
    created: Time,
    expires: Time,
    revoked: bool,
    used: bool,
    auth_time: Option<Time>,
}

impl TokenRow {
    fn into_token(self) -> Result<OAuthToken, StoreError> {
        Ok(OAuthToken {
            kind: TokenKind::parse(&self.kind)
                .ok_or_else(|| corrupt("token kind", &self.kind, "unknown kind"))?,
            client_id: self
                .client_id
                .parse::<ClientId>()
                .map_err(|e| corrupt("client id", &self.client_id, e))?,
            token_hash: self.token_hash,
            user_id: self.user_id.map(UserId),
            scope: self.scope,
            family: self.family,
            privileges: codec::parse_list(
                "privilege",
                &dialect::list_from("privilege", self.privileges)?,
            )?,
            created: dialect::time_from(self.created)?,
            expires: dialect::time_from(self.expires)?,
            revoked: self.revoked,
            used: self.used,
            auth_time: self.auth_time.map(dialect::time_from).transpose()?,
        })
    }
}

/// Every token in one `INSERT` (a grant stores its access and refresh token together: one
/// statement, one round trip to the database).
pub(super) async fn insert_tokens(
    conn: &mut Conn,
    tokens: &[OAuthToken],
) -> Result<(), StoreError> {
    if tokens.is_empty() {
        return Ok(());
    }
    let mut qb =
        QueryBuilder::<Db>::new(concat!("INSERT INTO oidc_tokens (", token_columns!(), ") "));
    qb.push_values(tokens, |mut row, t| {
        row.push_bind(t.token_hash.clone())
            .push_bind(t.kind.as_str())
            .push_bind(t.client_id.as_str().to_owned())
            .push_bind(t.user_id.map(|u| u.0))
            .push_bind(t.scope.clone())
            .push_bind(t.family.clone())
            .push_bind(dialect::list(&t.privileges))
            .push_bind(dialect::time(&t.created))
            .push_bind(dialect::time(&t.expires))
            .push_bind(t.revoked)
            .push_bind(t.used)
            .push_bind(t.auth_time.as_ref().map(dialect::time));
    });
    qb.build()
        .persistent(true)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

pub(super) async fn token(
    conn: &mut Conn,
    token_hash: &str,
) -> Result<Option<OAuthToken>, StoreError> {
    let row: Option<TokenRow> = sqlx::query_as(sql!(
        "SELECT ",
        token_columns!(),
        " FROM oidc_tokens WHERE token_hash = ?"
    ))
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(TokenRow::into_token).transpose()
}

pub(super) async fn use_refresh(
    conn: &mut Conn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<RefreshUse, StoreError> {
    let fresh: Option<TokenRow> = sqlx::query_as(sql!(
        "UPDATE oidc_tokens SET used = TRUE WHERE token_hash = ? AND kind = 'refresh' \
         AND used = FALSE AND revoked = FALSE AND expires > ? RETURNING ",
        token_columns!()
    ))
    .bind(token_hash)
    .bind(dialect::time(&codec::truncate(now)))
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    if let Some(row) = fresh {
        return Ok(RefreshUse::Fresh(row.into_token()?));
    }
    Ok(match token(conn, token_hash).await? {
        Some(t) if t.kind == TokenKind::Refresh && (t.used || t.revoked) => RefreshUse::Reused(t),
        // Expired (or an access token): worth nothing, and no reuse either.
        _ => RefreshUse::Unknown,
    })
}

pub(super) async fn revoke_token(conn: &mut Conn, token_hash: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(sql!(
        "UPDATE oidc_tokens SET revoked = TRUE WHERE token_hash = ? AND revoked = FALSE"
    ))
    .bind(token_hash)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

pub(super) async fn revoke_family(conn: &mut Conn, family: &str) -> Result<u64, StoreError> {
    let done = sqlx::query(sql!(
        "UPDATE oidc_tokens SET revoked = TRUE WHERE family = ? AND revoked = FALSE"
    ))
    .bind(family)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

pub(super) async fn revoke_user(conn: &mut Conn, user: UserId) -> Result<u64, StoreError> {
    let done = sqlx::query(sql!(
        "UPDATE oidc_tokens SET revoked = TRUE WHERE user_id = ? AND revoked = FALSE"
    ))
    .bind(user.0)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

pub(super) async fn revoke_client(conn: &mut Conn, client: &ClientId) -> Result<u64, StoreError> {
    let done = sqlx::query(sql!(
        "UPDATE oidc_tokens SET revoked = TRUE WHERE client_id = ? AND revoked = FALSE"
    ))
    .bind(client.as_str())
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

// A time is a `String` on SQLite, bound twice by reference; on PostgreSQL it is `Copy`.
#[allow(clippy::needless_borrows_for_generic_args)]
pub(super) async fn purge(conn: &mut Conn, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let before = dialect::time(&before);
    let codes = sqlx::query(sql!("DELETE FROM oidc_codes WHERE expires < ?"))
        .bind(&before)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    let tokens = sqlx::query(sql!("DELETE FROM oidc_tokens WHERE expires < ?"))
        .bind(&before)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(codes.rows_affected() + tokens.rows_affected())
}

#[derive(sqlx::FromRow)]
struct ConsentRow {
    user_id: i64,
    client_id: String,
    scopes: List,
    granted: Time,
}

impl ConsentRow {
    fn into_consent(self) -> Result<Consent, StoreError> {
        Ok(Consent {
            user_id: UserId(self.user_id),
            client_id: self
                .client_id
                .parse::<ClientId>()
                .map_err(|e| corrupt("client id", &self.client_id, e))?,
            scopes: dialect::list_from("scope", self.scopes)?,
            granted: dialect::time_from(self.granted)?,
        })
    }
}

pub(super) async fn consent(
    conn: &mut Conn,
    user: UserId,
    client: &ClientId,
) -> Result<Option<Consent>, StoreError> {
    let row: Option<ConsentRow> = sqlx::query_as(sql!(
        "SELECT user_id, client_id, scopes, granted FROM oidc_consents \
         WHERE user_id = ? AND client_id = ?"
    ))
    .bind(user.0)
    .bind(client.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(backend)?;
    row.map(ConsentRow::into_consent).transpose()
}

pub(super) async fn save_consent(conn: &mut Conn, c: &Consent) -> Result<(), StoreError> {
    sqlx::query(sql!(
        "INSERT INTO oidc_consents (user_id, client_id, scopes, granted) VALUES (?, ?, ?, ?) \
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, \
         granted = excluded.granted"
    ))
    .bind(c.user_id.0)
    .bind(c.client_id.as_str())
    .bind(dialect::list(&c.scopes))
    .bind(dialect::time(&c.granted))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

pub(super) async fn forget_consents(
    conn: &mut Conn,
    client: &ClientId,
    user: Option<UserId>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(sql!(
        "DELETE FROM oidc_consents WHERE client_id = ? AND (? IS NULL OR user_id = ?)"
    ))
    .bind(client.as_str())
    .bind(user.map(|u| u.0))
    .bind(user.map(|u| u.0))
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

pub(super) async fn consents(
    conn: &mut Conn,
    client: Option<&ClientId>,
) -> Result<Vec<Consent>, StoreError> {
    let client = client.map(ClientId::as_str);
    let rows: Vec<ConsentRow> = sqlx::query_as(sql!(
        "SELECT user_id, client_id, scopes, granted FROM oidc_consents \
         WHERE (? IS NULL OR client_id = ?) ORDER BY user_id, client_id"
    ))
    .bind(client)
    .bind(client)
    .fetch_all(&mut *conn)
    .await
    .map_err(backend)?;
    rows.into_iter().map(ConsentRow::into_consent).collect()
}
