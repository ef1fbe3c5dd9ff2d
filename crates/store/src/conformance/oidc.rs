//! Conformance cases for the OpenID Connect provider's tables: clients, signing keys,
//! authorization codes (single use) and tokens (refresh use, revocation by chain, user and
//! client).

use std::sync::Arc;

use chrono::Duration;
use gatehouse_core::oidc::model::{
    AuthCode, ClientId, CodeUse, Consent, KeyAlg, OAuthToken, OidcClient, RefreshUse, SigningKey,
    TokenKind,
};
use gatehouse_core::Store;
use gatehouse_policy::UserId;

use super::{at, begin, new_user, privilege};

pub(crate) fn client(id: &str) -> OidcClient {
    OidcClient {
        id: id.parse().unwrap(),
        name: format!("client {id}"),
        secret_hash: Some(format!("{:064x}", 7)),
        redirect_uris: vec![
            "https://b.example.org/cb".into(),
            "https://a.example.org/cb".into(),
        ],
        post_logout_redirect_uris: vec!["https://a.example.org/bye".into()],
        public: false,
        first_party: true,
        scopes: vec!["openid".into(), "email".into(), "roles".into()],
        service_token: Some("repo".into()),
        created: at("2025-01-02T03:04:05.123456Z"),
        revoked: None,
    }
}

async fn user_and_client(store: &dyn Store) -> (UserId, ClientId) {
    let mut tx = begin(store).await;
    let ann = tx.insert_user(&new_user("ann@example.org")).await.unwrap();
    let c = client("gh-one");
    tx.insert_oidc_client(&c).await.unwrap();
    tx.commit().await.unwrap();
    (ann.id, c.id)
}

fn code(n: u32, client: &ClientId, user: UserId, expires: &str) -> AuthCode {
    AuthCode {
        code_hash: format!("{n:064x}"),
        client_id: client.clone(),
        user_id: user,
        redirect_uri: "https://a.example.org/cb".into(),
        code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
        nonce: Some("n-0S6_WzA2Mj".into()),
        scope: "openid email".into(),
        auth_time: at("2025-01-02T03:04:00Z"),
        expires: at(expires),
    }
}

fn token(
    n: u32,
    kind: TokenKind,
    client: &ClientId,
    user: Option<UserId>,
    family: &str,
) -> OAuthToken {
    OAuthToken {
        token_hash: format!("{n:064x}"),
        kind,
        client_id: client.clone(),
        user_id: user,
        scope: "openid".into(),
        family: family.into(),
        privileges: vec![privilege("user/view")],
        created: at("2025-01-02T03:04:05Z"),
        expires: at("2025-01-02T04:04:05Z"),
        revoked: false,
        used: false,
        auth_time: Some(at("2025-01-02T03:00:00.654321Z")),
    }
}

/// A client comes back as stored, lists in order; an update writes every field but id and
/// created.
pub async fn oidc_client_round_trips_and_updates(store: Arc<dyn Store>) {
    let mut tx = begin(store.as_ref()).await;
    let mut one = client("gh-one");
    let mut two = client("gh-two");
    two.secret_hash = None;
    two.public = true;
    two.first_party = false;
    two.service_token = None;
    two.created = at("2025-01-01T00:00:00Z");
    tx.insert_oidc_client(&one).await.unwrap();
    tx.insert_oidc_client(&two).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    assert_eq!(tx.oidc_client(&one.id).await.unwrap().as_ref(), Some(&one));
    assert_eq!(
        tx.oidc_client(&"gh-none".parse().unwrap()).await.unwrap(),
        None
    );
    assert_eq!(
        tx.oidc_clients().await.unwrap(),
        vec![two.clone(), one.clone()]
    );
    one.name = "renamed".into();
    one.secret_hash = Some(format!("{:064x}", 8));
    one.redirect_uris = vec!["https://c.example.org/cb".into()];
    one.post_logout_redirect_uris = Vec::new();
    one.scopes = vec!["openid".into()];
    one.service_token = None;
    one.first_party = false;
    one.revoked = Some(at("2025-02-01T00:00:00Z"));
    assert!(tx.update_oidc_client(&one).await.unwrap());
    assert!(!tx.update_oidc_client(&client("gh-none")).await.unwrap());
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    assert_eq!(tx.oidc_client(&one.id).await.unwrap(), Some(one));
}

/// Signing keys come back oldest first with their private part; retiring sets the time.
pub async fn signing_keys_round_trip_and_retire(store: Arc<dyn Store>) {
    let old = SigningKey {
        kid: "k1".into(),
        alg: KeyAlg::RS256,
        private_key: "cHJpdmF0ZQ".into(),
        public_jwk: r#"{"kty":"RSA"}"#.into(),
        created: at("2025-01-01T00:00:00Z"),
        sign_from: at("2025-01-01T00:00:00Z"),
        retire_after: None,
    };
    let new = SigningKey {
        kid: "k2".into(),
        alg: KeyAlg::EdDSA,
        created: at("2025-03-01T00:00:00Z"),
        sign_from: at("2025-03-01T01:00:00Z"),
        ..old.clone()
    };
    let mut tx = begin(store.as_ref()).await;
    tx.insert_signing_key(&new).await.unwrap();
    tx.insert_signing_key(&old).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    assert_eq!(
        tx.signing_keys().await.unwrap(),
        vec![old.clone(), new.clone()]
    );
    assert!(tx
        .retire_signing_key("k1", at("2025-03-01T02:00:00Z"))
        .await
        .unwrap());
    assert!(!tx
        .retire_signing_key("k9", at("2025-03-01T02:00:00Z"))
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    let keys = tx.signing_keys().await.unwrap();
    assert_eq!(keys[0].retire_after, Some(at("2025-03-01T02:00:00Z")));
    assert_eq!(keys[1].retire_after, None);
}

/// A code is used once: the first use gets it, every later one is a replay; an expired
/// unused code and an unknown one are unknown.
pub async fn auth_code_is_used_once(store: Arc<dyn Store>) {
    let (ann, c) = user_and_client(store.as_ref()).await;
    let now = at("2025-01-02T03:04:30Z");
    let live = code(1, &c, ann, "2025-01-02T03:05:00Z");
    let expired = code(2, &c, ann, "2025-01-02T03:04:30Z");
    let mut tx = begin(store.as_ref()).await;
    tx.insert_auth_code(&live).await.unwrap();
    tx.insert_auth_code(&expired).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    assert_eq!(
        tx.use_auth_code(&live.code_hash, now).await.unwrap(),
        CodeUse::Fresh(live.clone())
    );
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    assert_eq!(
        tx.use_auth_code(&live.code_hash, now).await.unwrap(),
        CodeUse::Replayed(live.clone())
    );
    // Expiry is exclusive, as for credentials.
    assert_eq!(
        tx.use_auth_code(&expired.code_hash, now).await.unwrap(),
        CodeUse::Unknown
    );
    assert_eq!(
        tx.use_auth_code(&format!("{:064x}", 3), now).await.unwrap(),
        CodeUse::Unknown
    );
    // A replay is a replay even after expiry.
    assert_eq!(
        tx.use_auth_code(&live.code_hash, now + Duration::hours(1))
            .await
            .unwrap(),
        CodeUse::Replayed(live)
    );
}

/// A use that is rolled back leaves the code unused.
pub async fn auth_code_use_rolls_back(store: Arc<dyn Store>) {
    let (ann, c) = user_and_client(store.as_ref()).await;
    let now = at("2025-01-02T03:04:30Z");
    let live = code(1, &c, ann, "2025-01-02T03:05:00Z");
    let mut tx = begin(store.as_ref()).await;
    tx.insert_auth_code(&live).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    assert!(matches!(
        tx.use_auth_code(&live.code_hash, now).await.unwrap(),
        CodeUse::Fresh(_)
    ));
    drop(tx);
    let mut tx = begin(store.as_ref()).await;
    assert!(matches!(
        tx.use_auth_code(&live.code_hash, now).await.unwrap(),
        CodeUse::Fresh(_)
    ));
}

/// Tokens come back as stored; a refresh token is used once, and a used or revoked one is
/// a reuse; access tokens and expired ones are not refresh tokens to use.
pub async fn refresh_token_is_used_once(store: Arc<dyn Store>) {
    let (ann, c) = user_and_client(store.as_ref()).await;
    let now = at("2025-01-02T03:10:00Z");
    let refresh = token(1, TokenKind::Refresh, &c, Some(ann), "f1");
    let access = token(2, TokenKind::Access, &c, Some(ann), "f1");
    let mut revoked = token(3, TokenKind::Refresh, &c, Some(ann), "f2");
    revoked.revoked = true;
    let mut tx = begin(store.as_ref()).await;
    tx.insert_oauth_tokens(&[refresh.clone(), access.clone(), revoked.clone()])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    assert_eq!(
        tx.oauth_token(&access.token_hash).await.unwrap().as_ref(),
        Some(&access)
    );
    assert_eq!(tx.oauth_token(&format!("{:064x}", 9)).await.unwrap(), None);
    let used = OAuthToken {
        used: true,
        ..refresh.clone()
    };
    assert_eq!(
        tx.use_refresh_token(&refresh.token_hash, now)
            .await
            .unwrap(),
        RefreshUse::Fresh(used.clone())
    );
    assert_eq!(
        tx.use_refresh_token(&refresh.token_hash, now)
            .await
            .unwrap(),
        RefreshUse::Reused(used)
    );
    assert_eq!(
        tx.use_refresh_token(&revoked.token_hash, now)
            .await
            .unwrap(),
        RefreshUse::Reused(revoked.clone())
    );
    assert_eq!(
        tx.use_refresh_token(&access.token_hash, now).await.unwrap(),
        RefreshUse::Unknown
    );
    let later = at("2025-01-02T04:04:05Z");
    let fresh = token(4, TokenKind::Refresh, &c, Some(ann), "f3");
    tx.insert_oauth_tokens(std::slice::from_ref(&fresh))
        .await
        .unwrap();
    assert_eq!(
        tx.use_refresh_token(&fresh.token_hash, later)
            .await
            .unwrap(),
        RefreshUse::Unknown
    );
}

/// Revocation by token, chain, user and client touches exactly those tokens and counts the
/// ones that were live.
pub async fn oauth_tokens_revoke_by_token_family_user_client(store: Arc<dyn Store>) {
    let (ann, c) = user_and_client(store.as_ref()).await;
    let mut tx = begin(store.as_ref()).await;
    let bob = tx
        .insert_user(&new_user("bob@example.org"))
        .await
        .unwrap()
        .id;
    let other = client("gh-other");
    tx.insert_oidc_client(&other).await.unwrap();
    let tokens = [
        token(1, TokenKind::Access, &c, Some(ann), "f1"),
        token(2, TokenKind::Refresh, &c, Some(ann), "f1"),
        token(3, TokenKind::Access, &c, Some(bob), "f2"),
        token(4, TokenKind::Access, &other.id, Some(bob), "f3"),
        token(5, TokenKind::Access, &other.id, None, "f4"),
    ];
    tx.insert_oauth_tokens(&tokens).await.unwrap();
    tx.commit().await.unwrap();
    let revoked = |n: u32| format!("{n:064x}");
    let mut tx = begin(store.as_ref()).await;
    assert!(tx.revoke_oauth_token(&revoked(5)).await.unwrap());
    assert!(!tx.revoke_oauth_token(&revoked(5)).await.unwrap());
    assert!(!tx.revoke_oauth_token(&revoked(9)).await.unwrap());
    assert_eq!(tx.revoke_oauth_family("f1").await.unwrap(), 2);
    assert_eq!(tx.revoke_oauth_family("f1").await.unwrap(), 0);
    assert_eq!(tx.revoke_user_oauth_tokens(bob).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    for n in 1..=5 {
        assert!(
            tx.oauth_token(&revoked(n)).await.unwrap().unwrap().revoked,
            "{n}"
        );
    }
    tx.insert_oauth_tokens(&[
        token(6, TokenKind::Access, &other.id, Some(ann), "f5"),
        token(7, TokenKind::Access, &c, Some(ann), "f6"),
    ])
    .await
    .unwrap();
    assert_eq!(tx.revoke_client_oauth_tokens(&other.id).await.unwrap(), 1);
    assert!(!tx.oauth_token(&revoked(7)).await.unwrap().unwrap().revoked);
}

/// Purging deletes expired codes and tokens and keeps live ones; deleting a user takes
/// their codes and tokens.
pub async fn oauth_purge_and_user_delete(store: Arc<dyn Store>) {
    let (ann, c) = user_and_client(store.as_ref()).await;
    let mut tx = begin(store.as_ref()).await;
    tx.insert_auth_code(&code(1, &c, ann, "2025-01-02T03:05:00Z"))
        .await
        .unwrap();
    tx.insert_auth_code(&code(2, &c, ann, "2025-01-03T03:05:00Z"))
        .await
        .unwrap();
    let mut late = token(3, TokenKind::Refresh, &c, Some(ann), "f");
    late.expires = at("2025-02-01T00:00:00Z");
    tx.insert_oauth_tokens(&[
        token(4, TokenKind::Access, &c, Some(ann), "f"),
        late.clone(),
    ])
    .await
    .unwrap();
    assert_eq!(tx.purge_oauth(at("2025-01-02T12:00:00Z")).await.unwrap(), 2);
    assert!(tx.oauth_token(&late.token_hash).await.unwrap().is_some());
    assert!(tx.delete_user(ann).await.unwrap());
    assert_eq!(tx.oauth_token(&late.token_hash).await.unwrap(), None);
    assert_eq!(
        tx.use_auth_code(&format!("{:064x}", 2), at("2025-01-02T12:00:00Z"))
            .await
            .unwrap(),
        CodeUse::Unknown
    );
}

/// Several tokens stored in one call read back exactly (the log in time included, or its
/// absence for the client credentials grant); an empty call stores nothing.
pub async fn oauth_tokens_insert_together(store: Arc<dyn Store>) {
    let (ann, c) = user_and_client(store.as_ref()).await;
    let access = token(1, TokenKind::Access, &c, Some(ann), "f1");
    let refresh = token(2, TokenKind::Refresh, &c, Some(ann), "f1");
    let mut service = token(3, TokenKind::Access, &c, None, "f2");
    service.auth_time = None;
    service.privileges = Vec::new();
    let mut tx = begin(store.as_ref()).await;
    tx.insert_oauth_tokens(&[access.clone(), refresh.clone()])
        .await
        .unwrap();
    tx.insert_oauth_tokens(std::slice::from_ref(&service))
        .await
        .unwrap();
    tx.insert_oauth_tokens(&[]).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    for t in [&access, &refresh, &service] {
        assert_eq!(
            tx.oauth_token(&t.token_hash).await.unwrap().as_ref(),
            Some(t)
        );
    }
    // A token hash is unique: storing the pair again fails and stores neither.
    let again = OAuthToken {
        token_hash: format!("{:064x}", 8),
        ..access.clone()
    };
    assert!(tx
        .insert_oauth_tokens(&[again, refresh.clone()])
        .await
        .is_err());
    drop(tx);
    let mut tx = begin(store.as_ref()).await;
    assert_eq!(tx.oauth_token(&format!("{:064x}", 8)).await.unwrap(), None);
}

/// A consent is remembered per (user, client): saving again replaces its scopes, forgetting
/// takes one user's or every user's for that client only, and deleting the user or the
/// client takes theirs.
pub async fn oidc_consents_remember_replace_and_forget(store: Arc<dyn Store>) {
    let (ann, c) = user_and_client(store.as_ref()).await;
    let mut tx = begin(store.as_ref()).await;
    let bob = tx
        .insert_user(&new_user("bob@example.org"))
        .await
        .unwrap()
        .id;
    let other = client("gh-other");
    tx.insert_oidc_client(&other).await.unwrap();
    let consent = |user: UserId, client: &ClientId, scopes: &[&str], when: &str| Consent {
        user_id: user,
        client_id: client.clone(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        granted: at(when),
    };
    assert_eq!(tx.oidc_consent(ann, &c).await.unwrap(), None);
    let first = consent(ann, &c, &["openid", "email"], "2025-01-02T03:04:05.123456Z");
    tx.save_oidc_consent(&first).await.unwrap();
    tx.save_oidc_consent(&consent(bob, &c, &["openid"], "2025-01-02T03:04:06Z"))
        .await
        .unwrap();
    tx.save_oidc_consent(&consent(
        ann,
        &other.id,
        &["openid"],
        "2025-01-02T03:04:07Z",
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(store.as_ref()).await;
    assert_eq!(tx.oidc_consent(ann, &c).await.unwrap(), Some(first.clone()));
    assert!(first.covers("email openid"));
    assert!(!first.covers("openid roles"));
    let wider = consent(
        ann,
        &c,
        &["openid", "email", "roles"],
        "2025-01-03T00:00:00Z",
    );
    tx.save_oidc_consent(&wider).await.unwrap();
    assert_eq!(tx.oidc_consent(ann, &c).await.unwrap(), Some(wider.clone()));
    let all = tx.oidc_consents(None).await.unwrap();
    assert_eq!(
        all.iter()
            .map(|k| (k.user_id, k.client_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(ann, "gh-one"), (ann, "gh-other"), (bob, "gh-one")]
    );
    let one = tx.oidc_consents(Some(&c)).await.unwrap();
    assert_eq!(
        one.iter()
            .map(|k| (k.user_id, k.client_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(ann, "gh-one"), (bob, "gh-one")]
    );
    // One user's, then everyone's, of one client only.
    assert_eq!(tx.forget_oidc_consents(&c, Some(bob)).await.unwrap(), 1);
    assert_eq!(tx.forget_oidc_consents(&c, Some(bob)).await.unwrap(), 0);
    assert_eq!(tx.oidc_consent(ann, &c).await.unwrap(), Some(wider));
    assert_eq!(tx.forget_oidc_consents(&c, None).await.unwrap(), 1);
    assert_eq!(tx.oidc_consent(ann, &c).await.unwrap(), None);
    assert!(tx.oidc_consent(ann, &other.id).await.unwrap().is_some());
    // A consent needs its user and its client.
    tx.commit().await.unwrap();
    let mut tx = begin(store.as_ref()).await;
    assert!(tx
        .save_oidc_consent(&consent(
            UserId(999),
            &c,
            &["openid"],
            "2025-01-03T00:00:00Z"
        ))
        .await
        .is_err());
    drop(tx);
    let mut tx = begin(store.as_ref()).await;
    assert!(tx.delete_user(ann).await.unwrap());
    assert_eq!(tx.oidc_consents(None).await.unwrap(), Vec::new());
}
