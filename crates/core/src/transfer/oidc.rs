//! The OpenID Connect provider's records of an export (format version 2): clients with the
//! hashes of their secrets, signing keys as the store holds them (private parts included:
//! see `docs/export-format.md`), and remembered consents. Codes and tokens do not travel:
//! they live minutes (codes, access tokens) or are issued again at the next log in
//! (refresh tokens).

use serde::Serialize;

use super::fields::Fields;
use super::{time, write_line, TransferCounts};
use crate::error::CoreError;
use crate::oidc::model::{ClientId, Consent, KeyAlg, OidcClient, SigningKey};
use crate::store::Tx;
use gatehouse_policy::UserId;

#[derive(Serialize)]
struct ClientLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    name: &'a str,
    secret_hash: Option<&'a str>,
    redirect_uris: &'a [String],
    post_logout_redirect_uris: &'a [String],
    public: bool,
    first_party: bool,
    scopes: &'a [String],
    service_token: Option<&'a str>,
    created: String,
    revoked: Option<String>,
}

#[derive(Serialize)]
struct KeyLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    kid: &'a str,
    alg: &'static str,
    private_key: &'a str,
    public_jwk: &'a str,
    created: String,
    sign_from: String,
    retire_after: Option<String>,
}

#[derive(Serialize)]
struct ConsentLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    user_id: i64,
    client_id: &'a str,
    scopes: &'a [String],
    granted: String,
}

/// Writes every client, then every signing key, then every consent.
pub(super) async fn export(
    tx: &mut dyn Tx,
    out: &mut (dyn std::io::Write + Send),
    counts: &mut TransferCounts,
) -> Result<(), CoreError> {
    for c in tx.oidc_clients().await? {
        write_line(
            out,
            &ClientLine {
                kind: "client",
                id: c.id.as_str(),
                name: &c.name,
                secret_hash: c.secret_hash.as_deref(),
                redirect_uris: &c.redirect_uris,
                post_logout_redirect_uris: &c.post_logout_redirect_uris,
                public: c.public,
                first_party: c.first_party,
                scopes: &c.scopes,
                service_token: c.service_token.as_deref(),
                created: time(&c.created),
                revoked: c.revoked.as_ref().map(time),
            },
        )?;
        counts.client += 1;
    }
    for k in tx.signing_keys().await? {
        write_line(
            out,
            &KeyLine {
                kind: "signing_key",
                kid: &k.kid,
                alg: k.alg.as_str(),
                private_key: &k.private_key,
                public_jwk: &k.public_jwk,
                created: time(&k.created),
                sign_from: time(&k.sign_from),
                retire_after: k.retire_after.as_ref().map(time),
            },
        )?;
        counts.signing_key += 1;
    }
    for c in tx.oidc_consents(None).await? {
        write_line(
            out,
            &ConsentLine {
                kind: "consent",
                user_id: c.user_id.0,
                client_id: c.client_id.as_str(),
                scopes: &c.scopes,
                granted: time(&c.granted),
            },
        )?;
        counts.consent += 1;
    }
    Ok(())
}

/// 64 lower-case hex digits (a SHA-256), never echoed.
fn hex_hash(f: &Fields, field: &str, value: &str) -> Result<(), CoreError> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(f.bad(field, "must be 64 lower-case hex digits"))
    }
}

/// Scopes the provider knows.
fn scopes(f: &Fields, field: &str) -> Result<Vec<String>, CoreError> {
    let list: Vec<String> = f.list(field)?;
    if let Some(bad) = list
        .iter()
        .find(|s| !crate::oidc::SCOPES.contains(&s.as_str()))
    {
        return Err(f.bad(
            field,
            format!(
                "`{}` is not a scope; expected some of {}",
                crate::error::shorten(bad),
                crate::oidc::SCOPES.join(", ")
            ),
        ));
    }
    Ok(list)
}

impl Fields {
    pub(super) fn client(&self) -> Result<OidcClient, CoreError> {
        self.only(&[
            "type",
            "id",
            "name",
            "secret_hash",
            "redirect_uris",
            "post_logout_redirect_uris",
            "public",
            "first_party",
            "scopes",
            "service_token",
            "created",
            "revoked",
        ])?;
        let public = self.bool("public")?;
        let secret_hash = self.opt_str("secret_hash")?;
        match secret_hash {
            Some(h) => hex_hash(self, "secret_hash", h)?,
            None if !public => {
                return Err(self.bad(
                    "secret_hash",
                    "a confidential client (`public` false) needs the hash of its secret",
                ))
            }
            None => {}
        }
        Ok(OidcClient {
            id: self.parse::<ClientId>("id")?,
            name: self.line("name", 200)?,
            secret_hash: secret_hash.map(str::to_owned),
            redirect_uris: self.list("redirect_uris")?,
            post_logout_redirect_uris: self.list("post_logout_redirect_uris")?,
            public,
            first_party: self.bool("first_party")?,
            scopes: scopes(self, "scopes")?,
            service_token: self.opt_str("service_token")?.map(str::to_owned),
            created: self.time("created")?,
            revoked: self.opt_time("revoked")?,
        })
    }

    pub(super) fn signing_key(&self) -> Result<SigningKey, CoreError> {
        self.only(&[
            "type",
            "kid",
            "alg",
            "private_key",
            "public_jwk",
            "created",
            "sign_from",
            "retire_after",
        ])?;
        let alg = self.str("alg")?;
        let alg = KeyAlg::parse(alg).ok_or_else(|| {
            self.bad(
                "alg",
                format!(
                    "`{}` is not a key algorithm; expected `RS256` or `EdDSA`",
                    crate::error::shorten(alg)
                ),
            )
        })?;
        let key = SigningKey {
            kid: self.line("kid", 100)?,
            alg,
            private_key: self.str("private_key")?.to_owned(),
            public_jwk: self.str("public_jwk")?.to_owned(),
            created: self.time("created")?,
            sign_from: self.time("sign_from")?,
            retire_after: self.opt_time("retire_after")?,
        };
        // The key must load as the provider loads it (never echoing the private part), and
        // its public half must be JSON.
        crate::oidc::keys::load(key.clone())
            .map_err(|_| self.bad("private_key", "is not a readable key of its `alg`"))?;
        if serde_json::from_str::<serde_json::Value>(&key.public_jwk)
            .map_or(true, |v| !v.is_object())
        {
            return Err(self.bad("public_jwk", "must be a JSON Web Key (a JSON object)"));
        }
        Ok(key)
    }

    pub(super) fn consent(&self) -> Result<Consent, CoreError> {
        self.only(&["type", "user_id", "client_id", "scopes", "granted"])?;
        Ok(Consent {
            user_id: UserId(self.i64("user_id")?),
            client_id: self.parse::<ClientId>("client_id")?,
            scopes: scopes(self, "scopes")?,
            granted: self.time("granted")?,
        })
    }
}
