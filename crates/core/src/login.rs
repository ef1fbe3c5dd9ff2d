//! Logging in (SPEC 2): only when the password is right AND the account is confirmed AND
//! active. An unknown user and a wrong password get the same answer, after the same work (a
//! dummy hash is verified), so that accounts cannot be enumerated.

use std::sync::OnceLock;

use gatehouse_policy::UserId;
use tracing::warn;

use crate::account::{Email, Password, PasswordHash, Username};
use crate::error::CoreError;
use crate::hash::Verified;
use crate::service::Gatehouse;
use crate::user::User;

/// Why a log in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginRefusal {
    /// Unknown user or wrong password (the same answer for both).
    #[error("invalid email, username or password")]
    InvalidCredentials,
    /// Right password, but the email is not confirmed yet.
    #[error("email requires confirmation")]
    EmailUnconfirmed,
    /// Right password, but the account is disabled.
    #[error("account is disabled")]
    AccountDisabled,
}

impl LoginRefusal {
    /// The stable code (`invalid_credentials`, `email_unconfirmed`, `account_disabled`).
    pub fn code(self) -> &'static str {
        match self {
            LoginRefusal::InvalidCredentials => "invalid_credentials",
            LoginRefusal::EmailUnconfirmed => "email_unconfirmed",
            LoginRefusal::AccountDisabled => "account_disabled",
        }
    }
}

/// The memory of the dummy verification (Gatehouse's own Argon2id parameters), in KiB.
const DUMMY_MEMORY_KIB: u32 = 19_456;

fn dummy_hash() -> Option<&'static PasswordHash> {
    static DUMMY: OnceLock<Option<PasswordHash>> = OnceLock::new();
    DUMMY
        .get_or_init(|| Password::unchecked("gatehouse dummy password").hash().ok())
        .as_ref()
}

impl Gatehouse {
    /// Whether `candidate` is `user`'s password (same work and limits as a log in).
    pub(crate) async fn password_matches(
        &self,
        user: &User,
        candidate: &str,
    ) -> Result<bool, CoreError> {
        let Some(hash) = user.password_hash.clone() else {
            return Ok(false);
        };
        let limits = self.settings.password_policy.hash_limits;
        if hash.check_limits(&limits).is_err() {
            return Ok(false);
        }
        let candidate = candidate.to_owned();
        let memory = hash.memory_kib();
        crate::password_work::run("verification", memory, move || {
            hash.verify_within(&candidate, &limits) == Verified::Match
        })
        .await
    }

    /// The account a log in names (by email or username), if any: the throttle keys its
    /// budget by account, so an account's email and username share one.
    pub async fn login_account(&self, login: &str) -> Result<Option<UserId>, CoreError> {
        let mut tx = self.begin_read().await?;
        Ok(self.user_by_login(tx.as_mut(), login).await?.map(|u| u.id))
    }

    async fn user_by_login(
        &self,
        tx: &mut dyn crate::store::Tx,
        login: &str,
    ) -> Result<Option<User>, CoreError> {
        Ok(if login.contains('@') {
            match Email::new(login) {
                Ok(e) => tx.user_by_email(&e).await?,
                Err(_) => None,
            }
        } else {
            match Username::new(login) {
                Ok(u) => tx.user_by_username(&u).await?,
                Err(_) => None,
            }
        })
    }

    /// Checks a log in by email or username. `Ok(Err(refusal))` is a refused log in;
    /// `Err` is a failure of the system.
    pub async fn authenticate(
        &self,
        login: &str,
        password: &str,
    ) -> Result<Result<User, LoginRefusal>, CoreError> {
        let mut tx = self.begin_read().await?;
        let user = self.user_by_login(tx.as_mut(), login).await?;
        drop(tx);
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let limits = self.settings.password_policy.hash_limits;
        let candidate = password.to_owned();
        // What the verification will take: the hash's own memory, or the dummy's (19 MiB)
        // for no hash or one beyond the limits (never computed).
        let memory = hash
            .as_ref()
            .filter(|h| h.check_limits(&limits).is_ok())
            .map_or(DUMMY_MEMORY_KIB, PasswordHash::memory_kib);
        let verified = crate::password_work::run("verification", memory, move || {
            let verified = match &hash {
                Some(h) => h.verify_within(&candidate, &limits),
                None => Verified::Mismatch,
            };
            let no_work_done = hash.is_none() || verified == Verified::OutOfBounds;
            if no_work_done {
                // No hash, or one beyond the limits: the same work as a real verification,
                // then no (no timing tells these accounts apart).
                if let Some(d) = dummy_hash() {
                    let _ = d.verify(&candidate);
                }
            }
            verified
        })
        .await?;
        if verified == Verified::OutOfBounds {
            if let Some(u) = &user {
                warn!(
                    user_id = u.id.0,
                    "log in refused: the stored password hash asks for more work than \
                     passwords.argon2_max_* allow; it was not computed (rehash the password \
                     with `gatehouse users set-password`)"
                );
            }
        }
        let matches = verified == Verified::Match;
        Ok(match user {
            Some(u) if matches => {
                if u.confirmed_at.is_none() {
                    Err(LoginRefusal::EmailUnconfirmed)
                } else if !u.active {
                    Err(LoginRefusal::AccountDisabled)
                } else {
                    Ok(u)
                }
            }
            _ => Err(LoginRefusal::InvalidCredentials),
        })
    }
}
