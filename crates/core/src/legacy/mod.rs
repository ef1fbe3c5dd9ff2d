//! Password hashes made by the platforms Gatehouse takes users from (InvenioRDM, EPrints,
//! DSpace), read and verified exactly as each platform does, so that moved accounts keep
//! their passwords. The facts are in `shared/reference/legacy-hashes.md` and the
//! known-answer vectors in `crates/core/tests/data/legacy/` (made by the platforms' own
//! libraries).
//!
//! A legacy hash is only ever verified, never written: on the first successful log in it
//! is replaced by Gatehouse's own Argon2id hash (`crate::login`). Work parameters carried by
//! a hash (PBKDF2 rounds, bcrypt cost) are bounded by [`crate::hash::HashLimits`] like
//! Argon2's, and compared results use constant-time equality.

mod des_crypt;
mod dspace;
mod eprints;
mod invenio;

use std::fmt;
use std::str::FromStr;

use subtle::ConstantTimeEq;

use crate::error::CoreError;
use crate::hash::HashLimits;

pub use eprints::EprintsInput;

/// The password hash schemes Gatehouse reads: its own, and the legacy ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(into = "&'static str")]
pub enum Scheme {
    /// Gatehouse's own Argon2 (`$argon2id$...`).
    Argon2,
    /// InvenioRDM: `$pbkdf2-sha512$ROUNDS$SALT$CHECKSUM` (double or single hashed, by
    /// configuration).
    InvenioPbkdf2Sha512,
    /// Invenio 1.x: `$invenio-aes$EMAIL$HEX` (deprecated there, re-hashed on log in).
    InvenioAesEncryptedEmail,
    /// EPrints: 13-character traditional DES crypt.
    EprintsDes,
    /// EPrints: `?method=2&salt=..&digest=..`, 10,001 SHA-512.
    EprintsSha512,
    /// EPrints: `?method=3&salt=..&digest=..`, bcrypt over the method-2 digest.
    EprintsBcryptRehash,
    /// EPrints: `?method=4&digest=..`, bcrypt.
    EprintsBcrypt,
    /// DSpace: `dspace:SHA-512:SALT_HEX:HASH_HEX`, 1,024 SHA-512.
    DspaceSha512,
    /// DSpace: `dspace::SALT_HEX:HASH_HEX` (empty algorithm): one unsalted MD5.
    DspaceMd5,
    /// DSpace with another configured digest (`MD5`, `SHA-1`, `SHA-256`, `SHA-384`): 1,024
    /// rounds, salted.
    DspaceDigest,
}

impl Scheme {
    /// Every scheme, Gatehouse's own first.
    pub const ALL: [Scheme; 10] = [
        Scheme::Argon2,
        Scheme::InvenioPbkdf2Sha512,
        Scheme::InvenioAesEncryptedEmail,
        Scheme::EprintsDes,
        Scheme::EprintsSha512,
        Scheme::EprintsBcryptRehash,
        Scheme::EprintsBcrypt,
        Scheme::DspaceSha512,
        Scheme::DspaceMd5,
        Scheme::DspaceDigest,
    ];

    /// The scheme's name, as the command line and the database spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Argon2 => "argon2",
            Scheme::InvenioPbkdf2Sha512 => "invenio-pbkdf2-sha512",
            Scheme::InvenioAesEncryptedEmail => "invenio-aes-encrypted-email",
            Scheme::EprintsDes => "eprints-des",
            Scheme::EprintsSha512 => "eprints-sha512",
            Scheme::EprintsBcryptRehash => "eprints-bcrypt-rehash",
            Scheme::EprintsBcrypt => "eprints-bcrypt",
            Scheme::DspaceSha512 => "dspace-sha512",
            Scheme::DspaceMd5 => "dspace-md5",
            Scheme::DspaceDigest => "dspace-digest",
        }
    }

    /// Whether this is a scheme of another platform (replaced at the next log in).
    pub fn is_legacy(self) -> bool {
        self != Scheme::Argon2
    }
}

impl From<Scheme> for &'static str {
    fn from(s: Scheme) -> Self {
        s.as_str()
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scheme {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scheme::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Scheme::ALL.iter().map(|x| x.as_str()).collect();
                CoreError::invalid(
                    "password_scheme",
                    format!(
                        "unknown password scheme `{}`; use one of {}",
                        crate::error::shorten(s),
                        names.join(", ")
                    ),
                )
            })
    }
}

/// What verifying legacy hashes needs to know about the instance they came from
/// (configuration `legacy.*`). `Debug` hides the salt.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LegacySettings {
    /// InvenioRDM's `SECURITY_PASSWORD_SALT` (its `SECRET_KEY` by default): the HMAC key of
    /// double hashing. A secret.
    pub invenio_password_salt: Option<String>,
    /// The Invenio instance had `SECURITY_PASSWORD_SINGLE_HASH = ["pbkdf2_sha512"]`: PBKDF2
    /// over the password itself.
    pub invenio_single_hash: bool,
}

impl fmt::Debug for LegacySettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacySettings")
            .field(
                "invenio_password_salt",
                &self.invenio_password_salt.as_ref().map(|_| "<redacted>"),
            )
            .field("invenio_single_hash", &self.invenio_single_hash)
            .finish()
    }
}

/// A legacy hash Gatehouse can verify, parsed.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum LegacyHash {
    Invenio(invenio::Pbkdf2),
    InvenioAes(invenio::Aes),
    Eprints(eprints::Eprints),
    Dspace(dspace::Dspace),
}

/// Why a value is not a hash Gatehouse can read: the scheme it looks like, if any, and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// What the value looks like (`an EPrints SHA-512 hash (?method=2)`), if anything.
    pub looks_like: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl Unreadable {
    pub(crate) fn new(looks_like: &str, reason: impl Into<String>) -> Self {
        Unreadable {
            looks_like: Some(looks_like.to_owned()),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.looks_like {
            Some(l) => write!(
                f,
                "unreadable password hash: it looks like {l}, but {}",
                self.reason
            ),
            None => write!(f, "unreadable password hash: {}", self.reason),
        }
    }
}

impl LegacyHash {
    /// Reads a legacy hash as the platform stores it (see the module docs for the forms).
    pub(crate) fn parse(value: &str) -> Result<Self, Unreadable> {
        if let Some(rest) = value.strip_prefix("$pbkdf2-sha512$") {
            invenio::Pbkdf2::parse(rest).map(LegacyHash::Invenio)
        } else if let Some(rest) = value.strip_prefix("$invenio-aes$") {
            invenio::Aes::parse(rest).map(LegacyHash::InvenioAes)
        } else if let Some(rest) = value.strip_prefix("dspace:") {
            dspace::Dspace::parse(rest).map(LegacyHash::Dspace)
        } else if value.starts_with('?') || eprints::looks_like_des(value) {
            eprints::Eprints::parse(value).map(LegacyHash::Eprints)
        } else {
            Err(Unreadable {
                looks_like: guess(value).map(str::to_owned),
                reason: "Gatehouse reads Argon2 (`$argon2id$...`), InvenioRDM \
                         (`$pbkdf2-sha512$...`), EPrints (13-character DES crypt or \
                         `?method=...`) and DSpace (`dspace:ALGORITHM:SALT_HEX:HASH_HEX`) \
                         hashes only"
                    .to_owned(),
            })
        }
    }

    /// The scheme.
    pub(crate) fn scheme(&self) -> Scheme {
        match self {
            LegacyHash::Invenio(_) => Scheme::InvenioPbkdf2Sha512,
            LegacyHash::InvenioAes(_) => Scheme::InvenioAesEncryptedEmail,
            LegacyHash::Eprints(e) => e.scheme(),
            LegacyHash::Dspace(d) => d.scheme(),
        }
    }

    /// Refuses a hash that asks for more work than `limits` allow, naming the limit.
    pub(crate) fn check_limits(&self, limits: &HashLimits) -> Result<(), CoreError> {
        let over = |what: &str, value: u32, limit: u32, key: &str| {
            Err(CoreError::invalid(
                "password_hash",
                format!(
                    "the {} hash asks for {what} {value}, more than the limit {limit} \
                     (configuration `passwords.{key}`); raise the limit if this hash is \
                     genuine, or leave the password out and let the user reset it",
                    self.scheme()
                ),
            ))
        };
        match self {
            LegacyHash::Invenio(p) if p.rounds > limits.pbkdf2_max_rounds => over(
                "rounds",
                p.rounds,
                limits.pbkdf2_max_rounds,
                "pbkdf2_max_rounds",
            ),
            LegacyHash::Eprints(e) => match e.bcrypt_cost() {
                Some(cost) if cost > limits.bcrypt_max_cost => {
                    over("cost", cost, limits.bcrypt_max_cost, "bcrypt_max_cost")
                }
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// Refuses a hash that cannot be verified with these settings (an InvenioRDM
    /// double-hashed value without the instance's salt).
    pub(crate) fn check_settings(&self, settings: &LegacySettings) -> Result<(), CoreError> {
        if let LegacyHash::Invenio(_) = self {
            if !settings.invenio_single_hash && settings.invenio_password_salt.is_none() {
                return Err(CoreError::invalid(
                    "password_hash",
                    "an InvenioRDM hash (`$pbkdf2-sha512$...`) needs the instance's \
                     `SECURITY_PASSWORD_SALT` (its `SECRET_KEY` unless set): give it as \
                     `legacy.invenio_password_salt` (or `GATEHOUSE_LEGACY__INVENIO_PASSWORD_SALT`), \
                     or set `legacy.invenio_single_hash = true` if the instance single-hashed"
                        .to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// Whether `candidate` is the password, as the platform decides. The work depends only
    /// on the hash and on the candidate's form (never on whether it matches). EPrints
    /// hashes are checked as the given input path would.
    pub(crate) fn verify(
        &self,
        candidate: &str,
        settings: &LegacySettings,
        input: EprintsInput,
    ) -> bool {
        match self {
            LegacyHash::Invenio(p) => p.verify(candidate, settings),
            LegacyHash::InvenioAes(a) => a.verify(candidate),
            LegacyHash::Eprints(e) => e.verify(candidate, input),
            LegacyHash::Dspace(d) => d.verify(candidate),
        }
    }
}

/// Verifies `candidate` against a stored legacy hash: false for a value Gatehouse cannot
/// read (as the platforms answer for malformed values). For tools and tests; log ins go
/// through [`crate::PasswordHash`].
pub fn verify_legacy(
    stored: &str,
    candidate: &str,
    settings: &LegacySettings,
    input: EprintsInput,
) -> bool {
    match LegacyHash::parse(stored) {
        Ok(h) => h.verify(candidate, settings, input),
        Err(_) => false,
    }
}

/// The scheme a legacy value is, if Gatehouse reads it.
pub fn scheme_of(stored: &str) -> Result<Scheme, Unreadable> {
    LegacyHash::parse(stored).map(|h| h.scheme())
}

/// What an unreadable value looks like, for the error message.
fn guess(value: &str) -> Option<&'static str> {
    let v = value.trim();
    if v.starts_with("$2a$") || v.starts_with("$2b$") || v.starts_with("$2y$") {
        Some("a bare bcrypt hash (EPrints stores bcrypt as `?method=4&digest=...`; give the value exactly as stored)")
    } else if v.starts_with("$pbkdf2") {
        Some("a passlib PBKDF2 hash other than InvenioRDM's `$pbkdf2-sha512$`")
    } else if v.starts_with("$1$") || v.starts_with("$5$") || v.starts_with("$6$") {
        Some("a Unix crypt hash (md5-crypt or sha-crypt), which none of the supported platforms writes")
    } else if v.len() == 13 {
        Some("an EPrints DES crypt")
    } else if v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some("a bare MD5 (a DSpace hash is written `dspace:::HASH_HEX`)")
    } else if v.len() == 128 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some("a bare SHA-512 (a DSpace hash is written `dspace:SHA-512:SALT_HEX:HASH_HEX`)")
    } else {
        None
    }
}

/// Constant-time equality of two byte strings (lengths are not secret).
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// Decodes hex of either case; `None` for an odd length or a non-hex character.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}
