//! Stored password hashes: Argon2 PHC strings, with bounds on the work a hash may ask for.
//!
//! A hash decides how much memory and time its own verification costs (Argon2's `m`, `t`,
//! `p`). One written by an attacker into `users.yaml` or an import could ask for gigabytes:
//! so a hash that enters Gatehouse must stay within [`HashLimits`], and a stored hash beyond
//! them (the limits were lowered, or the database was written by hand) is never computed at
//! log in: the log in fails after the same work as a wrong password, and a warning names the
//! account.
//!
//! A stored hash may also be one of the legacy schemes of the platforms Gatehouse takes
//! users from ([`crate::legacy`]): read, bounded (PBKDF2 rounds, bcrypt cost) and verified
//! the same way, and replaced by Argon2id at the first successful log in.

use std::fmt;

use argon2::password_hash::{PasswordHash as PhcHash, PasswordVerifier};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::legacy::{EprintsInput, LegacyHash, LegacySettings, Scheme};

/// The most work a password hash may ask for. Gatehouse's own hashes use Argon2id with
/// `m=19456,t=2,p=1` (19 MiB, OWASP's recommendation), well within the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashLimits {
    /// Argon2 memory in KiB (`m`); default 65,536 (64 MiB).
    pub argon2_memory_kib: u32,
    /// Argon2 passes (`t`); default 10.
    pub argon2_time: u32,
    /// Argon2 lanes (`p`); default 8.
    pub argon2_lanes: u32,
    /// PBKDF2 rounds of an imported InvenioRDM hash; default 100,000 (InvenioRDM writes
    /// 25,000).
    pub pbkdf2_max_rounds: u32,
    /// bcrypt cost (log2 of the rounds) of an imported EPrints hash; default 13 (EPrints
    /// writes 12; each step doubles the work).
    pub bcrypt_max_cost: u32,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits {
            argon2_memory_kib: 65_536,
            argon2_time: 10,
            argon2_lanes: 8,
            pbkdf2_max_rounds: 100_000,
            bcrypt_max_cost: 13,
        }
    }
}

/// What verifying a candidate password found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// The password matches.
    Match,
    /// It does not.
    Mismatch,
    /// The stored hash asks for more work than the limits allow: not computed.
    OutOfBounds,
}

/// A password hash in PHC string format. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// A hash Gatehouse just computed.
    pub(crate) fn ours(phc: String) -> Self {
        PasswordHash(phc)
    }

    /// Reads a PHC string as stored (by the database, or before checking its bounds): only
    /// Argon2 hashes are accepted. Hashes that come from outside (a fixtures file, an import)
    /// must also pass [`PasswordHash::check_limits`].
    pub fn from_phc(value: &str) -> Result<Self, CoreError> {
        let bad = || {
            CoreError::invalid(
                "password_hash",
                "invalid password hash: give an Argon2 PHC string such as \
                 `$argon2id$v=19$m=19456,t=2,p=1$...`"
                    .to_owned(),
            )
        };
        let parsed = PhcHash::new(value).map_err(|_| bad())?;
        if !parsed.algorithm.as_str().starts_with("argon2") || parsed.hash.is_none() {
            return Err(bad());
        }
        Ok(PasswordHash(value.to_owned()))
    }

    /// Reads a hash of any scheme Gatehouse verifies: Argon2, or a legacy one
    /// ([`crate::legacy`]). An unreadable value is refused naming the scheme it looks like
    /// (never echoing it). Hashes that come from outside (a fixtures file, an import) must
    /// also pass [`PasswordHash::check_import`].
    pub fn parse(value: &str) -> Result<Self, CoreError> {
        if value.starts_with("$argon2") {
            return Self::from_phc(value);
        }
        match LegacyHash::parse(value) {
            Ok(_) => Ok(PasswordHash(value.to_owned())),
            Err(e) => Err(CoreError::invalid("password_hash", e.to_string())),
        }
    }

    /// The PHC string (or the legacy value as its platform stored it), for storing.
    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// The legacy hash, if this is one.
    fn legacy(&self) -> Option<LegacyHash> {
        if self.0.starts_with("$argon2") {
            None
        } else {
            LegacyHash::parse(&self.0).ok()
        }
    }

    /// The scheme of this hash.
    pub fn scheme(&self) -> Scheme {
        self.legacy().map_or(Scheme::Argon2, |l| l.scheme())
    }

    /// What a hash from outside must pass: its work within `limits`, and, for a legacy
    /// hash, whatever verifying it needs in `legacy` (an InvenioRDM instance's salt).
    pub fn check_import(
        &self,
        limits: &HashLimits,
        legacy: &LegacySettings,
    ) -> Result<(), CoreError> {
        self.check_limits(limits)?;
        match self.legacy() {
            Some(l) => l.check_settings(legacy),
            None => Ok(()),
        }
    }

    /// The Argon2 parameters `(m, t, p)` the hash asks for.
    fn argon2_params(&self) -> Option<(u32, u32, u32)> {
        let h = PhcHash::new(&self.0).ok()?;
        let get = |name: &str| h.params.get_decimal(name);
        Some((get("m")?, get("t")?, get("p")?))
    }

    /// The memory one verification takes, in KiB (for the process-wide memory budget).
    pub(crate) fn memory_kib(&self) -> u32 {
        self.argon2_params().map_or(0, |(m, _, _)| m)
    }

    /// Refuses a hash that asks for more work than `limits` allow, naming the parameter and
    /// the limit.
    pub fn check_limits(&self, limits: &HashLimits) -> Result<(), CoreError> {
        if let Some(l) = self.legacy() {
            return l.check_limits(limits);
        }
        let Some((m, t, p)) = self.argon2_params() else {
            return Err(CoreError::invalid(
                "password_hash",
                "the Argon2 hash does not state its parameters `m`, `t` and `p`".to_owned(),
            ));
        };
        let over = |what: &str, value: u32, limit: u32, key: &str| {
            CoreError::invalid(
                "password_hash",
                format!(
                    "the Argon2 hash asks for {what} {value}, more than the limit {limit} \
                     (configuration `passwords.{key}`); rehash the password, or raise the \
                     limit if this hash is genuine"
                ),
            )
        };
        if m > limits.argon2_memory_kib {
            return Err(over(
                "memory (KiB)",
                m,
                limits.argon2_memory_kib,
                "argon2_max_memory_kib",
            ));
        }
        if t > limits.argon2_time {
            return Err(over("passes", t, limits.argon2_time, "argon2_max_time"));
        }
        if p > limits.argon2_lanes {
            return Err(over("lanes", p, limits.argon2_lanes, "argon2_max_lanes"));
        }
        Ok(())
    }

    /// Verifies `candidate`, unless the hash asks for more work than `limits` allow. Slow
    /// on purpose: run it through [`crate::password_work`].
    pub fn verify_within(&self, candidate: &str, limits: &HashLimits) -> Verified {
        self.verify_with(candidate, limits, &LegacySettings::default())
    }

    /// Verifies `candidate`, unless the hash asks for more work than `limits` allow; a
    /// legacy hash as its platform does, with `legacy` for what the instance configured
    /// (EPrints: on either of its log in paths, see [`EprintsInput::Either`]). Slow on
    /// purpose: run it through [`crate::password_work`].
    pub fn verify_with(
        &self,
        candidate: &str,
        limits: &HashLimits,
        legacy: &LegacySettings,
    ) -> Verified {
        if self.check_limits(limits).is_err() {
            return Verified::OutOfBounds;
        }
        if let Some(l) = self.legacy() {
            return if l.verify(candidate, legacy, EprintsInput::Either) {
                Verified::Match
            } else {
                Verified::Mismatch
            };
        }
        let Ok(h) = PhcHash::new(&self.0) else {
            return Verified::Mismatch;
        };
        // The hash's own parameters (checked above) decide the work.
        if Argon2::default()
            .verify_password(candidate.as_bytes(), &h)
            .is_ok()
        {
            Verified::Match
        } else {
            Verified::Mismatch
        }
    }

    /// Whether `candidate` matches, within the default limits.
    pub fn verify(&self, candidate: &str) -> bool {
        self.verify_within(candidate, &HashLimits::default()) == Verified::Match
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::account::Password;

    /// Issue 11, failure 1: hostile parameters are refused before any work, at import and
    /// at log in.
    #[test]
    fn hostile_parameters_are_refused_without_computing() {
        let limits = HashLimits::default();
        let ours = Password::unchecked("correct horse").hash().unwrap();
        assert!(ours.check_limits(&limits).is_ok());
        assert_eq!(
            ours.verify_within("correct horse", &limits),
            Verified::Match
        );
        assert_eq!(ours.verify_within("wrong", &limits), Verified::Mismatch);
        // Salt and hash are valid base64 so that only the parameters are wrong.
        let salt_hash = "$c2FsdHNhbHRzYWx0$uX8hJLw0DTq8gT6cdgt0BW2uAlEoxKYyWNuVjVlUZdA";
        for (params, word) in [
            ("m=2147483640,t=1,p=16777215", "memory"),
            ("m=4294967295,t=1,p=1", "memory"),
            ("m=19456,t=400,p=1", "passes"),
            ("m=19456,t=2,p=64", "lanes"),
        ] {
            let h = PasswordHash::from_phc(&format!("$argon2id$v=19${params}{salt_hash}")).unwrap();
            let err = h.check_limits(&limits).unwrap_err().to_string();
            assert!(
                err.contains(word) && err.contains("passwords.argon2_max_"),
                "{err}"
            );
            assert_eq!(h.verify_within("x", &limits), Verified::OutOfBounds);
        }
    }
}
