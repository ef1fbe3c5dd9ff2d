//! Account values that can only hold valid data: emails, usernames, passwords and their
//! Argon2id hashes, and the random passwords Gatehouse generates.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
pub use crate::hash::{HashLimits, PasswordHash};

/// An email address, syntax-checked and lower-cased as a whole (InvenioRDM stores it so).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Checks and lower-cases `value`.
    pub fn new(value: &str) -> Result<Self, CoreError> {
        let v = value.trim();
        let bad = |why: &str| {
            CoreError::invalid(
                "email",
                format!("invalid email `{}`: {why}", crate::text::shorten(value)),
            )
        };
        if v.is_empty() {
            return Err(bad("it is empty"));
        }
        if v.chars().count() > 254 {
            return Err(bad("it is longer than 254 characters"));
        }
        let Some((local, domain)) = v.rsplit_once('@') else {
            return Err(bad("it needs an `@`, as in `name@example.org`"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(bad("the part before `@` must have 1 to 64 characters"));
        }
        if v.chars().any(|c| c.is_whitespace() || c.is_control()) || local.contains('@') {
            return Err(bad(
                "it may not contain spaces, control characters or a second `@`",
            ));
        }
        if crate::text::has_loose_mark(v) {
            return Err(bad(
                "it holds a combining mark that stands on its own, which makes it look like \
                 another address",
            ));
        }
        if v.chars().any(crate::text::is_invisible) {
            return Err(bad(
                "it holds an invisible or bidirectional control character, which makes it \
                 look like another address",
            ));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(bad(
                "dots in the part before `@` may not lead, trail or repeat",
            ));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.len() > 63
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err(bad("the domain after `@` must look like `example.org`"));
        }
        use unicode_normalization::UnicodeNormalization;
        Ok(Email(v.nfc().collect::<String>().to_lowercase()))
    }

    /// The address, lower-cased.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::new(s)
    }
}

impl TryFrom<String> for Email {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::new(&value)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({:?})", self.0)
    }
}

/// A username: `^[a-zA-Z][a-zA-Z0-9_-]{2,255}$`, unique case-insensitively, display case kept.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    /// Checks `value` against the username rule.
    pub fn new(value: &str) -> Result<Self, CoreError> {
        let mut chars = value.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
        let len = value.chars().count();
        if first_ok
            && (3..=256).contains(&len)
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            Ok(Username(value.to_owned()))
        } else {
            Err(CoreError::invalid(
                "username",
                format!(
                    "invalid username `{}`: it must start with a letter, be 3 to 256 \
                     characters long and contain only letters, digits, `-` and `_`",
                    crate::text::shorten(value)
                ),
            ))
        }
    }

    /// The username as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lower-cased form used for uniqueness and lookups.
    pub fn folded(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

impl FromStr for Username {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Username::new(s)
    }
}

impl TryFrom<String> for Username {
    type Error = CoreError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Username::new(&value)
    }
}

impl From<Username> for String {
    fn from(u: Username) -> String {
        u.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Username({:?})", self.0)
    }
}

/// The password rules: length in characters, and the most work a stored or imported hash
/// may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    /// Fewest characters (default 8).
    pub min_length: usize,
    /// Most characters (128).
    pub max_length: usize,
    /// Bounds on hash parameters ([`HashLimits`]).
    pub hash_limits: HashLimits,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 8,
            max_length: 128,
            hash_limits: HashLimits::default(),
        }
    }
}

/// A clear-text password that passed the length rule. Never printed: `Debug` and `Display`
/// show a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks `value` against `policy` (length in characters, not bytes).
    pub fn new(value: &str, policy: &PasswordPolicy) -> Result<Self, CoreError> {
        let n = value.chars().count();
        if n < policy.min_length || n > policy.max_length {
            return Err(CoreError::invalid(
                "password",
                format!(
                    "the password has {n} characters; use {} to {} characters",
                    policy.min_length, policy.max_length
                ),
            ));
        }
        Ok(Password(value.to_owned()))
    }

    /// A password from a fixture file, not held to the length rule (InvenioRDM's loader
    /// does not check lengths); still never empty.
    pub fn unchecked(value: &str) -> Self {
        Password(value.to_owned())
    }

    /// A new random password: 20 characters from letters, digits and `+,-_.`, from the
    /// operating system's CSPRNG.
    pub fn random() -> Self {
        const ALPHABET: &[u8] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,-_.";
        // The first character is a letter or digit, so the password never starts with `-`
        // (a command line would read it as a flag: `--password -x...`).
        const ALNUM: usize = 62;
        let mut rng = OsRng;
        let s: String = (0..20)
            .map(|i| {
                let n = if i == 0 { ALNUM } else { ALPHABET.len() };
                char::from(ALPHABET[rng.gen_range(0..n)])
            })
            .collect();
        Password(s)
    }

    /// The clear text, for hashing or showing once to the person who asked for it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Hashes with Argon2id (PHC string). Slow on purpose: call it off the async runtime's
    /// threads (see [`crate::service::hash_password`]).
    pub fn hash(&self) -> Result<PasswordHash, CoreError> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(self.0.as_bytes(), &salt)
            .map(|h| PasswordHash::ours(h.to_string()))
            .map_err(|e| CoreError::Internal(format!("password hashing failed: {e}")))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn emails() {
        for (input, stored) in [
            ("Ann@Example.ORG", "ann@example.org"),
            ("  a.b+c@sub.example.org ", "a.b+c@sub.example.org"),
            ("admin@inveniosoftware.org", "admin@inveniosoftware.org"),
        ] {
            assert_eq!(
                Email::new(input).map(|e| e.to_string()).ok().as_deref(),
                Some(stored)
            );
        }
        for bad in [
            "",
            "plain",
            "@example.org",
            "a@",
            "a@b",
            "a b@example.org",
            "a@@b.org",
            ".a@b.org",
            "a@-b.org",
        ] {
            assert!(Email::new(bad).is_err(), "{bad}");
        }
        let msg = Email::new("nope")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(msg.contains("`nope`"), "{msg}");
    }

    #[test]
    fn usernames() {
        for ok in ["abc", "Ann_Smith-2", &format!("a{}", "b".repeat(255))] {
            assert!(Username::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "1abc",
            "_abc",
            "a b c",
            "ann@x",
            &format!("a{}", "b".repeat(256)),
        ] {
            assert!(Username::new(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Username::new("AnnS").map(|u| u.folded()).ok().as_deref(),
            Some("anns")
        );
    }

    #[test]
    fn password_lengths_count_characters() {
        let p = PasswordPolicy::default();
        assert!(Password::new("1234567", &p).is_err());
        assert!(Password::new("12345678", &p).is_ok());
        assert!(Password::new(&"é".repeat(8), &p).is_ok());
        assert!(Password::new(&"x".repeat(129), &p).is_err());
        assert_eq!(
            format!("{:?}", Password::unchecked("secret")),
            "Password(<redacted>)"
        );
    }

    #[test]
    fn random_passwords() {
        let a = Password::random();
        let b = Password::random();
        assert_ne!(a, b);
        assert_eq!(a.expose().chars().count(), 20);
        for _ in 0..500 {
            let p = Password::random();
            assert!(p.expose().starts_with(|c: char| c.is_ascii_alphanumeric()));
        }
        assert!(a
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+,-_.".contains(c)));
    }

    #[test]
    fn hash_and_verify() {
        let p = Password::unchecked("correct horse");
        let h = p.hash().unwrap_or_else(|e| panic!("{e}"));
        assert!(h.as_phc().starts_with("$argon2id$"));
        assert!(h.verify("correct horse"));
        assert!(!h.verify("wrong"));
        assert_eq!(format!("{h:?}"), "PasswordHash(<redacted>)");
        assert!(PasswordHash::from_phc(h.as_phc()).is_ok());
        assert!(PasswordHash::from_phc("$pbkdf2-sha512$25000$abc$def").is_err());
        assert!(PasswordHash::from_phc("plain").is_err());
    }
}
