//! Managing clients and signing keys: `gatehouse clients ...`, `gatehouse keys ...` and
//! `/api/clients`. Every operation authorizes through the choke point (`config/edit` to
//! change, `config/view` to read) and records each change in history.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::keys::{self, KeyRing};
use super::model::{ClientId, KeyAlg, OidcClient, SigningKey};
use super::{OidcSettings, SCOPES};
use crate::auth::{new_token, token_hash};
use crate::error::CoreError;
use crate::service::{Context, Gatehouse, UserRef};
use crate::store::{CredentialKind, Tx};

/// A client to register.
#[derive(Debug, Clone, Default)]
pub struct NewClient {
    /// A name for people.
    pub name: String,
    /// Redirect URIs (at least one for the authorization code grant).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser.
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client: no secret, PKCE required.
    pub public: bool,
    /// First-party: no consent page.
    pub first_party: bool,
    /// Scopes it may ask for; empty means `openid profile email roles offline_access`.
    pub scopes: Vec<String>,
    /// The service token whose privileges the client credentials grant hands out.
    pub service_token: Option<String>,
}

/// A registered client and its secret, shown once.
#[derive(Clone, serde::Serialize)]
pub struct ClientSecret {
    /// The client.
    pub client: OidcClient,
    /// The secret (none for public clients).
    pub secret: Option<String>,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret")
            .field("client", &self.client)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A signing key as `keys list` shows it (never its private part).
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyView {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub alg: KeyAlg,
    /// Published since.
    pub created: DateTime<Utc>,
    /// Signs from.
    pub sign_from: DateTime<Utc>,
    /// Published until (set when a newer key took over).
    pub retire_after: Option<DateTime<Utc>>,
    /// `signing`, `published` (not signing yet, or no longer), or `retired`.
    pub state: &'static str,
}

/// Checks a redirect URI: absolute `https`, or `http` on a loopback host; no fragment.
fn check_uri(field: &str, uri: &str) -> Result<(), CoreError> {
    let bad = |why: &str| {
        Err(CoreError::invalid(
            field,
            format!("invalid {field} `{}`: {why}", crate::error::shorten(uri)),
        ))
    };
    if uri.len() > 2000 || uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("use an absolute URI of at most 2000 characters without spaces");
    }
    if uri.contains('#') {
        return bad("a redirect URI cannot have a fragment (`#...`)");
    }
    let rest = if let Some(r) = uri.strip_prefix("https://") {
        r
    } else if let Some(r) = uri.strip_prefix("http://") {
        let host = r.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let name = if host.starts_with('[') {
            host.split(']')
                .next()
                .map(|h| format!("{h}]"))
                .unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or("").to_owned()
        };
        if !matches!(name.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return bad("use `https://` (plain `http://` only for localhost, 127.0.0.1 or [::1])");
        }
        r
    } else {
        return bad("use an absolute `https://` URI");
    };
    if rest.is_empty() || rest.starts_with('/') {
        return bad("the URI has no host");
    }
    Ok(())
}

fn check_scopes(scopes: &[String]) -> Result<Vec<String>, CoreError> {
    if scopes.is_empty() {
        return Ok(SCOPES.iter().map(|s| (*s).to_owned()).collect());
    }
    let mut out: Vec<String> = Vec::new();
    for s in scopes.iter().flat_map(|s| s.split_whitespace()) {
        if !SCOPES.contains(&s) {
            return Err(CoreError::invalid(
                "scope",
                format!(
                    "unknown scope `{}`: use some of {}",
                    crate::error::shorten(s),
                    SCOPES.join(", ")
                ),
            ));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// How many consents [`Gatehouse::client_consents`] names at most (the newest).
pub const CONSENTS_SHOWN: usize = 200;

impl Gatehouse {
    async fn client_or_not_found(
        &self,
        tx: &mut dyn Tx,
        id: &ClientId,
    ) -> Result<OidcClient, CoreError> {
        tx.oidc_client(id)
            .await?
            .ok_or_else(|| CoreError::NotFound {
                what: "client",
                value: id.to_string(),
                hint: "; list them with `gatehouse clients list`".into(),
            })
    }

    /// Registers a client (`clients create`): the secret is returned once and stored hashed.
    pub async fn create_client(
        &self,
        ctx: &Context,
        new: NewClient,
    ) -> Result<ClientSecret, CoreError> {
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "name",
                "give the client a name of 1 to 200 characters, e.g. `Our repository`",
            ));
        }
        if new.redirect_uris.len() > 20 || new.post_logout_redirect_uris.len() > 20 {
            return Err(CoreError::invalid(
                "redirect_uri",
                "a client has at most 20 redirect URIs of each kind",
            ));
        }
        for u in &new.redirect_uris {
            check_uri("redirect_uri", u)?;
        }
        for u in &new.post_logout_redirect_uris {
            check_uri("post_logout_redirect_uri", u)?;
        }
        let scopes = check_scopes(&new.scopes)?;
        let secret = (!new.public).then(new_token);
        let client = OidcClient {
            id: ClientId::generate(),
            name,
            secret_hash: secret.as_deref().map(token_hash),
            redirect_uris: new.redirect_uris,
            post_logout_redirect_uris: new.post_logout_redirect_uris,
            public: new.public,
            first_party: new.first_party,
            scopes,
            service_token: new.service_token,
            created: Utc::now(),
            revoked: None,
        };
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        if let Some(name) = &client.service_token {
            let exists = tx
                .credentials(Some(CredentialKind::Service))
                .await?
                .iter()
                .any(|c| c.name.as_deref() == Some(name));
            if !exists {
                return Err(CoreError::NotFound {
                    what: "service token",
                    value: name.clone(),
                    hint: "; create it first with `gatehouse tokens create`".into(),
                });
            }
        }
        tx.insert_oidc_client(&client).await?;
        // The stored client, as a later read gives it (times cut to microseconds).
        let client = self.client_or_not_found(tx.as_mut(), &client.id).await?;
        self.record(
            tx.as_mut(),
            ctx,
            "client.create",
            None,
            client.id.as_str(),
            json!({
                "name": client.name,
                "redirect_uris": client.redirect_uris,
                "post_logout_redirect_uris": client.post_logout_redirect_uris,
                "public": client.public,
                "first_party": client.first_party,
                "scopes": client.scopes,
                "service_token": client.service_token,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(ClientSecret { client, secret })
    }

    /// Every client (`clients list`), never a secret.
    pub async fn list_clients(&self, ctx: &Context) -> Result<Vec<OidcClient>, CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize_read(tx.as_mut(), ctx, "config/view", None)
            .await?;
        Ok(tx.oidc_clients().await?)
    }

    /// One client (`clients show`).
    pub async fn show_client(&self, ctx: &Context, id: &ClientId) -> Result<OidcClient, CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize_read(tx.as_mut(), ctx, "config/view", None)
            .await?;
        self.client_or_not_found(tx.as_mut(), id).await
    }

    /// Revokes a client (`clients revoke`): it is refused from now on, every token issued
    /// to it ends at once, and every consent given to it is forgotten.
    pub async fn revoke_client(
        &self,
        ctx: &Context,
        id: &ClientId,
    ) -> Result<OidcClient, CoreError> {
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        let mut client = self.client_or_not_found(tx.as_mut(), id).await?;
        if client.revoked.is_some() {
            return Ok(client);
        }
        client.revoked = Some(Utc::now());
        tx.update_oidc_client(&client).await?;
        let ended = tx.revoke_client_oauth_tokens(id).await?;
        let forgotten = tx.forget_oidc_consents(id, None).await?;
        self.record(
            tx.as_mut(),
            ctx,
            "client.revoke",
            None,
            id.as_str(),
            json!({"tokens_revoked": ended, "consents_forgotten": forgotten}),
        )
        .await?;
        tx.commit().await?;
        Ok(client)
    }

    /// Forgets the consents given to a client (`clients forget-consent`): one user's, or
    /// with `user` `None` everyone's, so that the consent page is shown again at the next
    /// authorization. Tokens already issued stay valid (revoke the client, or the user's
    /// tokens, to end them). Returns how many consents were forgotten; a change is
    /// recorded in history.
    pub async fn forget_consent(
        &self,
        ctx: &Context,
        id: &ClientId,
        user: Option<&UserRef>,
    ) -> Result<u64, CoreError> {
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        self.client_or_not_found(tx.as_mut(), id).await?;
        let user = match user {
            Some(who) => Some(self.find_user(tx.as_mut(), who).await?),
            None => None,
        };
        let n = tx
            .forget_oidc_consents(id, user.as_ref().map(|u| u.id))
            .await?;
        if n == 0 {
            return Ok(0);
        }
        self.record(
            tx.as_mut(),
            ctx,
            "client.forget_consent",
            user.as_ref().map(|u| u.id),
            id.as_str(),
            json!({
                "user": user.as_ref().map(|u| u.email.as_str()),
                "consents_forgotten": n,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The consents users gave `id` (for its page in the admin UI): how many there are, and
    /// the newest [`CONSENTS_SHOWN`] with each user's email. Read as `config/view` and
    /// `user/view` (it names users).
    pub async fn client_consents(
        &self,
        ctx: &Context,
        id: &ClientId,
    ) -> Result<(usize, Vec<(String, super::model::Consent)>), CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize_read(tx.as_mut(), ctx, "config/view", None)
            .await?;
        self.authorize_read(tx.as_mut(), ctx, "user/view", None)
            .await?;
        self.client_or_not_found(tx.as_mut(), id).await?;
        let mut mine = tx.oidc_consents(Some(id)).await?;
        mine.sort_by_key(|c| std::cmp::Reverse(c.granted));
        let total = mine.len();
        mine.truncate(CONSENTS_SHOWN);
        let mut out = Vec::with_capacity(mine.len());
        for c in mine {
            let email = match tx.user_by_id(c.user_id).await? {
                Some(u) => u.email.as_str().to_owned(),
                None => format!("user {}", c.user_id),
            };
            out.push((email, c));
        }
        Ok((total, out))
    }

    /// Gives a confidential client a new secret (`clients rotate-secret`), shown once; the
    /// old one stops working at once.
    pub async fn rotate_client_secret(
        &self,
        ctx: &Context,
        id: &ClientId,
    ) -> Result<ClientSecret, CoreError> {
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        let mut client = self.client_or_not_found(tx.as_mut(), id).await?;
        if client.public {
            return Err(CoreError::invalid(
                "client",
                format!("client `{id}` is public: it has no secret to rotate"),
            ));
        }
        if client.revoked.is_some() {
            return Err(CoreError::invalid(
                "client",
                format!("client `{id}` is revoked; register a new one"),
            ));
        }
        let secret = new_token();
        client.secret_hash = Some(token_hash(&secret));
        tx.update_oidc_client(&client).await?;
        self.record(
            tx.as_mut(),
            ctx,
            "client.rotate_secret",
            None,
            id.as_str(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(ClientSecret {
            client,
            secret: Some(secret),
        })
    }

    /// The signing keys (`keys list`), never their private parts. Creates the first keys
    /// if there are none yet.
    pub async fn list_keys(
        &self,
        ctx: &Context,
        settings: &OidcSettings,
    ) -> Result<Vec<KeyView>, CoreError> {
        {
            let mut tx = self.begin_read().await?;
            self.authorize_read(tx.as_mut(), ctx, "config/view", None)
                .await?;
        }
        self.key_views(settings).await
    }

    /// Every key's view, read afresh.
    async fn key_views(&self, settings: &OidcSettings) -> Result<Vec<KeyView>, CoreError> {
        let ring = self.key_ring_fresh(settings).await?;
        let now = Utc::now();
        Ok(ring
            .keys
            .iter()
            .map(|k| {
                let s = &k.stored;
                let signing = ring
                    .signer(s.alg, now)
                    .is_some_and(|x| x.stored.kid == s.kid);
                KeyView {
                    kid: s.kid.clone(),
                    alg: s.alg,
                    created: s.created,
                    sign_from: s.sign_from,
                    retire_after: s.retire_after,
                    state: if signing {
                        "signing"
                    } else if s.retire_after.is_some_and(|r| r <= now) {
                        "retired"
                    } else {
                        "published"
                    },
                }
            })
            .collect())
    }

    /// Rotates the signing keys (`keys rotate`): a new key of each algorithm is published
    /// now and signs after `oidc.key_rotation_delay`; the keys it replaces stay published
    /// until everything they signed has expired.
    pub async fn rotate_keys(
        &self,
        ctx: &Context,
        settings: &OidcSettings,
    ) -> Result<Vec<KeyView>, CoreError> {
        {
            let mut tx = self.begin_read().await?;
            self.authorize(tx.as_mut(), ctx, "config/edit", None)
                .await?;
        }
        let now = Utc::now();
        let sign_from = now + settings.key_rotation_delay;
        let fresh = generate_all(now, sign_from).await?;
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        // The old key signs until the new one takes over; what it signed then lives one
        // token lifetime more (and a minute for clocks).
        let retire = sign_from + settings.access_token_lifetime + chrono::Duration::minutes(1);
        for old in tx.signing_keys().await? {
            if old.retire_after.is_none() {
                tx.retire_signing_key(&old.kid, retire).await?;
            }
        }
        for k in &fresh {
            tx.insert_signing_key(k).await?;
        }
        self.record(
            tx.as_mut(),
            ctx,
            "keys.rotate",
            None,
            "signing keys",
            json!({
                "new": fresh.iter().map(|k| json!({"kid": k.kid, "alg": k.alg.as_str()})).collect::<Vec<_>>(),
                "sign_from": sign_from,
                "old_published_until": retire,
            }),
        )
        .await?;
        tx.commit().await?;
        self.forget_keys();
        // Authorized above for `config/edit`, which shows the keys it made.
        self.key_views(settings).await
    }

    fn forget_keys(&self) {
        if let Ok(mut guard) = self.oidc.ring.write() {
            *guard = None;
        }
    }

    /// The signing keys, read at most every 30 s; the first keys are made on first use.
    pub(crate) async fn key_ring(
        &self,
        settings: &OidcSettings,
    ) -> Result<Arc<KeyRing>, CoreError> {
        let cached = || {
            self.oidc.ring.read().ok().and_then(|guard| {
                guard
                    .as_ref()
                    .filter(|(at, _)| at.elapsed() < super::KEY_CACHE)
                    .map(|(_, ring)| ring.clone())
            })
        };
        if let Some(ring) = cached() {
            return Ok(ring);
        }
        let _one_reader = self.oidc.loading.lock().await;
        // Another request may have read them while this one waited.
        if let Some(ring) = cached() {
            return Ok(ring);
        }
        self.key_ring_fresh(settings).await
    }

    async fn key_ring_fresh(&self, _settings: &OidcSettings) -> Result<Arc<KeyRing>, CoreError> {
        let mut stored = {
            let mut tx = self.begin_read().await?;
            tx.signing_keys().await?
        };
        if stored.is_empty() {
            stored = self.first_keys().await?;
        }
        // A key that cannot be parsed (one imported from elsewhere that `ring` refuses:
        // RS256 keys must be 2,048 to 4,096 bits) is left out with a warning, so that one
        // bad old key does not stop every other; if it was the signing key, signing says
        // so and `gatehouse keys rotate` makes a new one.
        let ring = Arc::new(KeyRing {
            keys: stored
                .into_iter()
                .filter_map(|k| {
                    let kid = k.kid.clone();
                    keys::load(k)
                        .map_err(|e| tracing::warn!(%kid, error = %e, "signing key left out"))
                        .ok()
                })
                .collect(),
        });
        if let Ok(mut guard) = self.oidc.ring.write() {
            *guard = Some((Instant::now(), ring.clone()));
        }
        Ok(ring)
    }

    /// Makes the first keys, once for all nodes: of two nodes starting together, the one
    /// whose marker the shared secret keeps stores its keys; the other reads them.
    async fn first_keys(&self) -> Result<Vec<SigningKey>, CoreError> {
        let now = Utc::now();
        let fresh = generate_all(now, now).await?;
        let marker = new_token();
        let mut tx = self.begin().await?;
        let winner = tx.secret("oidc.first_keys", &marker).await?;
        if winner == marker {
            for k in &fresh {
                tx.insert_signing_key(k).await?;
            }
            let ctx = Context::operator("gatehouse", crate::Channel::Api);
            self.record(
                tx.as_mut(),
                &ctx,
                "keys.create",
                None,
                "signing keys",
                json!({"new": fresh.iter().map(|k| json!({"kid": k.kid, "alg": k.alg.as_str()})).collect::<Vec<_>>()}),
            )
            .await?;
            tx.commit().await?;
        } else {
            drop(tx);
        }
        let mut tx = self.begin_read().await?;
        Ok(tx.signing_keys().await?)
    }
}

/// A new key of each algorithm, made on a blocking thread (RSA takes a while).
async fn generate_all(
    now: DateTime<Utc>,
    sign_from: DateTime<Utc>,
) -> Result<Vec<SigningKey>, CoreError> {
    tokio::task::spawn_blocking(move || {
        Ok::<_, CoreError>(vec![
            keys::generate(KeyAlg::RS256, now, sign_from)?,
            keys::generate(KeyAlg::EdDSA, now, sign_from)?,
        ])
    })
    .await
    .map_err(|e| CoreError::Internal(format!("key generation stopped: {e}")))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn redirect_uris_must_be_https_or_loopback() {
        for ok in [
            "https://repo.example.org/oauth/authorized",
            "http://localhost:5000/cb",
            "http://127.0.0.1/cb?x=1",
            "http://[::1]:8080/cb",
        ] {
            assert!(check_uri("redirect_uri", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://repo.example.org/cb",
            "https://repo.example.org/cb#frag",
            "javascript:alert(1)",
            "https:///cb",
            "/relative",
            "http://localhost.evil.org/cb",
            "http://user@evil.org/cb",
        ] {
            assert!(check_uri("redirect_uri", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_default_and_refuse_unknown_ones() {
        assert_eq!(check_scopes(&[]).unwrap().len(), SCOPES.len());
        assert_eq!(
            check_scopes(&["openid email".into(), "openid".into()]).unwrap(),
            vec!["openid", "email"]
        );
        assert!(check_scopes(&["admin".into()]).is_err());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let shown = format!(
            "{:?}",
            ClientSecret {
                client: OidcClient {
                    id: ClientId::generate(),
                    name: "x".into(),
                    secret_hash: Some(token_hash("s3cr3t-value")),
                    redirect_uris: vec![],
                    post_logout_redirect_uris: vec![],
                    public: false,
                    first_party: false,
                    scopes: vec![],
                    service_token: None,
                    created: Utc::now(),
                    revoked: None,
                },
                secret: Some("s3cr3t-value".into()),
            }
        );
        assert!(!shown.contains("s3cr3t-value"));
        assert!(!shown.contains(&token_hash("s3cr3t-value")));
    }
}
