//! Logging in (SPEC 2): only when the password is right AND the account is confirmed AND
//! active. An unknown user and a wrong password get the same answer, after the same work (a
//! dummy hash is verified), so that accounts cannot be enumerated.
//!
//! An account moved from another platform may still carry that platform's hash
//! ([`crate::legacy`]). Its log in verifies it as the platform did, then always computes
//! one Argon2id hash of the candidate: on success that hash replaces the old one (in the
//! log in's own transaction, see [`Gatehouse::login`]), on failure it is thrown away. So a
//! wrong password costs exactly what a right one does for that account. The cost does
//! differ between accounts (the old scheme's work plus Argon2id, against Argon2id alone),
//! which tells nothing about a password and ends at the account's first log in.

use std::sync::OnceLock;

use gatehouse_policy::UserId;
use tracing::warn;

use crate::account::{Email, Password, PasswordHash, Username};
use crate::error::CoreError;
use crate::hash::Verified;
use crate::legacy::Scheme;
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
        let legacy = self.settings.legacy.clone();
        crate::password_work::run("verification", memory, move || {
            hash.verify_with(&candidate, &limits, &legacy) == Verified::Match
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
    /// `Err` is a failure of the system. Changes nothing: a legacy hash stays (only
    /// [`Gatehouse::login`] replaces it).
    pub async fn authenticate(
        &self,
        login: &str,
        password: &str,
    ) -> Result<Result<User, LoginRefusal>, CoreError> {
        Ok(self.check_login(login, password).await?.0)
    }

    /// [`Gatehouse::authenticate`], plus the replacement for a legacy hash that matched.
    pub(crate) async fn check_login(
        &self,
        login: &str,
        password: &str,
    ) -> Result<(Result<User, LoginRefusal>, Option<Rehash>), CoreError> {
        let mut tx = self.begin_read().await?;
        let user = self.user_by_login(tx.as_mut(), login).await?;
        drop(tx);
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let user_id = user.as_ref().map_or(UserId(0), |u| u.id);
        let limits = self.settings.password_policy.hash_limits;
        let legacy = self.settings.legacy.clone();
        let candidate = password.to_owned();
        // What the verification will take: the hash's own memory, or the dummy's (19 MiB)
        // for no hash or one beyond the limits (never computed), and at least that for a
        // legacy hash (its Argon2id replacement is computed in the same job).
        let memory = hash
            .as_ref()
            .filter(|h| h.check_limits(&limits).is_ok())
            .map_or(DUMMY_MEMORY_KIB, PasswordHash::memory_kib)
            .max(if hash.as_ref().is_some_and(|h| h.scheme().is_legacy()) {
                DUMMY_MEMORY_KIB
            } else {
                0
            });
        let (verified, rehash) = crate::password_work::run("verification", memory, move || {
            let verified = match &hash {
                Some(h) => h.verify_with(&candidate, &limits, &legacy),
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
            let mut rehash = None;
            if let Some(h) = hash.as_ref().filter(|_| verified != Verified::OutOfBounds) {
                let from = h.scheme();
                if from.is_legacy() {
                    // Always computed, kept only on a match: right and wrong passwords
                    // cost the same for an account that still has an old hash.
                    let new = Password::unchecked(&candidate).hash();
                    if verified == Verified::Match {
                        rehash = new.ok().map(|new| Rehash {
                            user_id,
                            old: h.clone(),
                            new,
                            from,
                        });
                    }
                }
            }
            (verified, rehash)
        })
        .await?;
        if verified == Verified::OutOfBounds {
            if let Some(u) = &user {
                warn!(
                    user_id = u.id.0,
                    "log in refused: the stored password hash asks for more work than \
                     passwords.*_max_* allow; it was not computed (raise the limit, or set a \
                     new password with `gatehouse users set-password`)"
                );
            }
        }
        let matches = verified == Verified::Match;
        Ok(match user {
            Some(u) if matches => {
                let refusal = if u.confirmed_at.is_none() {
                    Some(LoginRefusal::EmailUnconfirmed)
                } else if !u.active {
                    Some(LoginRefusal::AccountDisabled)
                } else {
                    None
                };
                match refusal {
                    // The password was right, so an old hash is replaced even when the
                    // log in is refused for another reason: nothing leaks, and the weak
                    // hash goes sooner.
                    Some(r) => (Err(r), rehash),
                    None => (Ok(u), rehash),
                }
            }
            _ => (Err(LoginRefusal::InvalidCredentials), None),
        })
    }

    /// Replaces a legacy hash that just matched by its Argon2id successor, in `tx`, and
    /// records `password rehashed (from <scheme>)`; nothing if the stored hash changed
    /// since it was read (a password set meanwhile wins).
    pub(crate) async fn apply_rehash(
        &self,
        tx: &mut dyn crate::store::Tx,
        rehash: Rehash,
    ) -> Result<Option<User>, CoreError> {
        let Some(mut user) = tx.user_by_id(rehash.user_id).await? else {
            return Ok(None);
        };
        if user.password_hash.as_ref() != Some(&rehash.old) {
            return Ok(None);
        }
        user.password_hash = Some(rehash.new);
        let user = tx.update_user(&user).await?;
        let ctx = crate::service::Context {
            actor: crate::service::Actor::User(user.id),
            channel: crate::user::Channel::Api,
            credential: None,
            snapshot: None,
        };
        self.record(
            tx,
            &ctx,
            "user.password_rehashed",
            Some(user.id),
            &format!("password rehashed (from {})", rehash.from),
            serde_json::json!({"from": rehash.from.as_str(), "to": Scheme::Argon2.as_str()}),
        )
        .await?;
        Ok(Some(user))
    }
}

/// A legacy hash that matched, and its Argon2id replacement.
#[derive(Debug)]
pub(crate) struct Rehash {
    user_id: UserId,
    old: PasswordHash,
    new: PasswordHash,
    from: Scheme,
}
