//! Signing keys and JSON Web Tokens, by hand: a JWT here is `header.payload.signature` in
//! base64url, signed with RS256 (PKCS#1 v1.5 with SHA-256: `ring`, blinded, signs; the `rsa`
//! crate makes keys, which `ring` cannot) or EdDSA (`ed25519-dalek`). Only ID tokens are JWTs; access and refresh tokens are opaque
//! and live in the database, so that introspection always answers from it.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use ed25519_dalek::Signer as _;
use rand::rngs::OsRng;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::model::{KeyAlg, SigningKey};
use crate::error::CoreError;

/// RSA modulus size.
const RSA_BITS: usize = 2048;

/// A key ready to sign and verify.
pub(crate) enum Loaded {
    /// RS256.
    Rsa(Box<ring::signature::RsaKeyPair>),
    /// EdDSA.
    Ed(Box<ed25519_dalek::SigningKey>),
}

/// A stored key with its parsed form.
pub(crate) struct LiveKey {
    pub(crate) stored: SigningKey,
    pub(crate) loaded: Loaded,
}

impl std::fmt::Debug for LiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveKey")
            .field("stored", &self.stored)
            .finish_non_exhaustive()
    }
}

/// Every stored key, parsed, as one node sees them at one time.
#[derive(Debug, Default)]
pub(crate) struct KeyRing {
    pub(crate) keys: Vec<LiveKey>,
}

fn internal(what: &str, e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("{what}: {e}"))
}

/// Generates a key of `alg`, published at `now` and signing from `sign_from`. Slow for
/// RSA (hundreds of milliseconds): call it on a blocking thread.
pub(crate) fn generate(
    alg: KeyAlg,
    now: DateTime<Utc>,
    sign_from: DateTime<Utc>,
) -> Result<SigningKey, CoreError> {
    let (private_key, mut jwk) = match alg {
        KeyAlg::RS256 => {
            let key = rsa::RsaPrivateKey::new(&mut OsRng, RSA_BITS)
                .map_err(|e| internal("RSA key generation failed", e))?;
            let der = key
                .to_pkcs1_der()
                .map_err(|e| internal("RSA key encoding failed", e))?;
            let jwk = json!({
                "kty": "RSA",
                "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
            });
            (STANDARD.encode(der.as_bytes()), jwk)
        }
        KeyAlg::EdDSA => {
            let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
            let jwk = json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
            });
            (STANDARD.encode(key.to_bytes()), jwk)
        }
    };
    // The key id: the first 16 bytes of the SHA-256 of the public key's members (in the
    // fixed order of RFC 7638's thumbprint input).
    let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(jwk.to_string().as_bytes())[..16]);
    if let Some(m) = jwk.as_object_mut() {
        m.insert("kid".into(), json!(kid));
        m.insert("alg".into(), json!(alg.as_str()));
        m.insert("use".into(), json!("sig"));
    }
    Ok(SigningKey {
        kid,
        alg,
        private_key,
        public_jwk: jwk.to_string(),
        created: now,
        sign_from,
        retire_after: None,
    })
}

/// Parses a stored key.
pub(crate) fn load(stored: SigningKey) -> Result<LiveKey, CoreError> {
    let raw = STANDARD
        .decode(&stored.private_key)
        .map_err(|e| internal("stored signing key is not base64", e))?;
    let loaded = match stored.alg {
        KeyAlg::RS256 => {
            let key = ring::signature::RsaKeyPair::from_der(&raw)
                .map_err(|e| internal("stored RSA key is invalid", e))?;
            Loaded::Rsa(Box::new(key))
        }
        KeyAlg::EdDSA => {
            let seed: [u8; 32] = raw
                .as_slice()
                .try_into()
                .map_err(|_| CoreError::Internal("stored Ed25519 key is not 32 bytes".into()))?;
            Loaded::Ed(Box::new(ed25519_dalek::SigningKey::from_bytes(&seed)))
        }
    };
    Ok(LiveKey { stored, loaded })
}

impl KeyRing {
    /// The key that signs `alg` at `now`: of the published keys of `alg` whose signing
    /// time has come, the one that came last.
    pub(crate) fn signer(&self, alg: KeyAlg, now: DateTime<Utc>) -> Option<&LiveKey> {
        self.keys
            .iter()
            .filter(|k| k.stored.alg == alg && k.stored.sign_from <= now && published(k, now))
            .max_by_key(|k| k.stored.sign_from)
    }

    /// The JWKS document: every key published at `now`.
    pub(crate) fn jwks(&self, now: DateTime<Utc>) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .filter(|k| published(k, now))
            .filter_map(|k| serde_json::from_str(&k.stored.public_jwk).ok())
            .collect();
        json!({ "keys": keys })
    }

    /// Verifies a JWT signed by one of the published keys; returns its claims. Expiry is
    /// not checked (an `id_token_hint` may have expired).
    pub(crate) fn verify(&self, jwt: &str, now: DateTime<Utc>) -> Option<Value> {
        let mut parts = jwt.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        let kid = header.get("kid")?.as_str()?;
        let alg = header.get("alg")?.as_str()?;
        let key = self
            .keys
            .iter()
            .find(|k| k.stored.kid == kid && published(k, now))?;
        if key.stored.alg.as_str() != alg {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(s).ok()?;
        let signed = &jwt[..h.len() + 1 + p.len()];
        let ok = match &key.loaded {
            Loaded::Rsa(k) => ring::signature::UnparsedPublicKey::new(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                k.public().as_ref(),
            )
            .verify(signed.as_bytes(), &signature)
            .is_ok(),
            Loaded::Ed(k) => ed25519_dalek::Signature::from_slice(&signature).is_ok_and(|sig| {
                k.verifying_key()
                    .verify_strict(signed.as_bytes(), &sig)
                    .is_ok()
            }),
        };
        if !ok {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
    }
}

fn published(k: &LiveKey, now: DateTime<Utc>) -> bool {
    k.stored.retire_after.is_none_or(|r| r > now)
}

/// Signs `claims` as a JWT with `key`.
pub(crate) fn sign(key: &LiveKey, claims: &Value) -> Result<String, CoreError> {
    let header = json!({"alg": key.stored.alg.as_str(), "typ": "JWT", "kid": key.stored.kid});
    let mut jwt = URL_SAFE_NO_PAD.encode(header.to_string());
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = match &key.loaded {
        Loaded::Rsa(k) => {
            let mut signature = vec![0; k.public().modulus_len()];
            k.sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                jwt.as_bytes(),
                &mut signature,
            )
            .map_err(|e| internal("RSA signing failed", e))?;
            signature
        }
        Loaded::Ed(k) => k.sign(jwt.as_bytes()).to_bytes().to_vec(),
    };
    jwt.push('.');
    jwt.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jwt)
}

/// `at_hash` (OpenID Connect Core 3.1.3.6): the left half of the access token's hash,
/// base64url, with the hash of the ID token's algorithm: SHA-256 for RS256, SHA-512 for
/// EdDSA over Ed25519 (as relying-party libraries compute it).
pub(crate) fn at_hash(alg: KeyAlg, access_token: &str) -> String {
    match alg {
        KeyAlg::RS256 => URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]),
        KeyAlg::EdDSA => {
            let digest = sha2::Sha512::digest(access_token.as_bytes());
            URL_SAFE_NO_PAD.encode(&digest[..32])
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn keys_sign_and_verify_and_retire() {
        let now = Utc::now();
        let ring = KeyRing {
            keys: vec![
                load(generate(KeyAlg::RS256, now, now).unwrap()).unwrap(),
                load(generate(KeyAlg::EdDSA, now, now).unwrap()).unwrap(),
            ],
        };
        for alg in [KeyAlg::RS256, KeyAlg::EdDSA] {
            let key = ring.signer(alg, now).unwrap();
            let jwt = sign(key, &json!({"sub": "1"})).unwrap();
            assert_eq!(ring.verify(&jwt, now).unwrap()["sub"], "1");
            let mut forged = jwt.clone();
            forged.pop();
            forged.push(if jwt.ends_with('A') { 'B' } else { 'A' });
            assert!(ring.verify(&forged, now).is_none());
            assert!(!format!("{key:?}").contains(&key.stored.private_key));
        }
        assert_eq!(ring.jwks(now)["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn the_latest_key_whose_time_came_signs() {
        let now = Utc::now();
        let old = load(generate(KeyAlg::EdDSA, now, now).unwrap()).unwrap();
        let later = now + chrono::Duration::minutes(5);
        let new = load(generate(KeyAlg::EdDSA, now, later).unwrap()).unwrap();
        let (old_kid, new_kid) = (old.stored.kid.clone(), new.stored.kid.clone());
        let ring = KeyRing {
            keys: vec![old, new],
        };
        assert_eq!(ring.signer(KeyAlg::EdDSA, now).unwrap().stored.kid, old_kid);
        assert_eq!(
            ring.signer(KeyAlg::EdDSA, later).unwrap().stored.kid,
            new_kid
        );
        assert!(ring.signer(KeyAlg::RS256, now).is_none());
    }
}
