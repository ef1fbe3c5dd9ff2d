//! `oidc.*`: the OpenID Connect provider's settings, checked into
//! [`gatehouse_core::oidc::OidcSettings`].

use serde::Deserialize;

use super::{bounded, ConfigError};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOidc {
    pub(super) access_token_lifetime_secs: Option<i64>,
    pub(super) refresh_token_lifetime_secs: Option<i64>,
    pub(super) key_rotation_delay_secs: Option<i64>,
    pub(super) roles_claim: Option<String>,
    pub(super) id_token_alg: Option<String>,
}

/// `oidc.*`: token lifetimes, the key rotation delay, the roles claim and the ID token
/// algorithm; the issuer is `server.base_url` without a trailing slash.
pub(super) fn oidc_settings(
    raw: RawOidc,
    base_url: &str,
) -> Result<gatehouse_core::oidc::OidcSettings, ConfigError> {
    use chrono::Duration;
    use gatehouse_core::oidc::model::KeyAlg;
    let defaults = gatehouse_core::oidc::OidcSettings::default();
    let secs = |v, key, default: Duration, range| {
        bounded(v, key, default.num_seconds() as u32, range).map(|n| Duration::seconds(n.into()))
    };
    let roles_claim = raw.roles_claim.unwrap_or(defaults.roles_claim);
    const TAKEN: &[&str] = &[
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "nonce",
        "email",
        "name",
        "roles",
        "user_type",
    ];
    if roles_claim.is_empty()
        || roles_claim.len() > 64
        || !roles_claim
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.:/".contains(c))
        || TAKEN.contains(&roles_claim.as_str())
    {
        return Err(ConfigError(format!(
            "oidc.roles_claim `{roles_claim}` is not a claim name to use; use e.g. `groups` \
             (env GATEHOUSE_OIDC__ROLES_CLAIM)"
        )));
    }
    let id_token_alg = match raw.id_token_alg.as_deref() {
        None => defaults.id_token_alg,
        Some(a) => KeyAlg::parse(a).ok_or_else(|| {
            ConfigError(format!(
                "oidc.id_token_alg `{a}` is not supported; use `RS256` or `EdDSA` \
                 (env GATEHOUSE_OIDC__ID_TOKEN_ALG)"
            ))
        })?,
    };
    Ok(gatehouse_core::oidc::OidcSettings {
        issuer: base_url.trim_end_matches('/').to_owned(),
        access_token_lifetime: secs(
            raw.access_token_lifetime_secs,
            "oidc.access_token_lifetime_secs",
            defaults.access_token_lifetime,
            30..=3600,
        )?,
        refresh_token_lifetime: secs(
            raw.refresh_token_lifetime_secs,
            "oidc.refresh_token_lifetime_secs",
            defaults.refresh_token_lifetime,
            60..=31_536_000,
        )?,
        key_rotation_delay: secs(
            raw.key_rotation_delay_secs,
            "oidc.key_rotation_delay_secs",
            defaults.key_rotation_delay,
            0..=2_592_000,
        )?,
        roles_claim,
        id_token_alg,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn defaults_bounds_and_names() {
        let s = oidc_settings(RawOidc::default(), "https://auth.example.org/").unwrap();
        assert_eq!(s.issuer, "https://auth.example.org");
        assert_eq!(s.access_token_lifetime.num_seconds(), 300);
        assert_eq!(s.roles_claim, "groups");
        let bad = |raw: RawOidc| oidc_settings(raw, "https://a.example").unwrap_err().0;
        assert!(bad(RawOidc {
            access_token_lifetime_secs: Some(5),
            ..RawOidc::default()
        })
        .contains("GATEHOUSE_OIDC__ACCESS_TOKEN_LIFETIME_SECS"));
        assert!(bad(RawOidc {
            id_token_alg: Some("HS256".into()),
            ..RawOidc::default()
        })
        .contains("RS256"));
        assert!(bad(RawOidc {
            roles_claim: Some("sub".into()),
            ..RawOidc::default()
        })
        .contains("oidc.roles_claim"));
    }
}
