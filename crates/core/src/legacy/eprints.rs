//! EPrints' hashes (`EPrints::Utils::crypt` and `crypt_equals`, EPrints 3.3 and 3.4), as
//! stored in the `password` column of its `user` table:
//!
//! - no leading `?`: 13-character traditional DES crypt;
//! - `?method=2&salt=S&digest=HEX`: `_crypt_sha512`, SHA-512 of salt and password, 9,999
//!   more SHA-512s of the binary digest, then the hex of one more (10,001 in all);
//! - `?method=3&salt=S&digest=B`: bcrypt (`$2a$`) over that 128-character hex string;
//! - `?method=4&digest=B`: bcrypt over the password.
//!
//! The value is a URI query (`URI->query_form`): keys in any order (Perl hash order),
//! percent-encoded, `+` for a space, `&` or `;` between pairs. Digests are compared as
//! strings, as EPrints does (an upper-case hex digest never matches).
//!
//! Which bytes are hashed depends on how the password reached EPrints: its web log in form
//! decodes UTF-8, so a password whose characters are all at most U+00FF is hashed as its
//! Latin-1 bytes and any character above is refused; HTTP Basic auth (REST, SWORD) hashes
//! the raw UTF-8 bytes. Both refuse the empty password and control characters (below
//! U+0020). [`EprintsInput`] says which path to follow.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use sha2::{Digest, Sha512};

use super::{ct_eq, des_crypt, hex, Scheme, Unreadable};

/// The password path EPrints would have taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EprintsInput {
    /// The web log in form: Latin-1 bytes; characters above U+00FF refused.
    Form,
    /// HTTP Basic auth: the UTF-8 bytes.
    Bytes,
    /// Either path (what a Gatehouse log in does): the password is right if EPrints would
    /// have accepted it on one of its log in paths.
    Either,
}

/// bcrypt's base64 (`./A-Za-z0-9`), no padding; stray trailing bits are read, then lost on
/// writing, as `Crypt::Eksblowfish::Bcrypt` does.
const BCRYPT64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::BCRYPT,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// Whether `value` has the shape of a DES crypt: 13 characters of `./0-9A-Za-z`.
pub(crate) fn looks_like_des(value: &str) -> bool {
    value.len() == 13 && value.bytes().all(|b| des_crypt::char_value(b).is_some())
}

/// A `$2a$` bcrypt value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Bcrypt {
    cost: u32,
    salt: [u8; 16],
    /// The whole stored value, compared as a string.
    stored: String,
}

impl Bcrypt {
    fn parse(value: &str, looks_like: &str) -> Result<Self, Unreadable> {
        let bad = |why: &str| Unreadable::new(looks_like, why);
        let Some(rest) = value.strip_prefix("$2a$") else {
            return Err(bad(
                "its digest is not a `$2a$` bcrypt value (EPrints' bcrypt accepts only `$2a$`)",
            ));
        };
        let (cost, tail) = rest.split_at_checked(2).unwrap_or(("", ""));
        let cost: u32 = match cost.parse() {
            Ok(c) if cost.bytes().all(|b| b.is_ascii_digit()) && c <= 31 => c,
            _ => return Err(bad("its bcrypt cost is not two digits from 00 to 31")),
        };
        let Some(hash) = tail.strip_prefix('$') else {
            return Err(bad("its bcrypt value is malformed"));
        };
        if hash.len() != 53
            || !hash
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
        {
            return Err(bad(
                "its bcrypt salt and hash are not 53 characters of `./A-Za-z0-9`",
            ));
        }
        let salt = BCRYPT64
            .decode(&hash[..22])
            .ok()
            .and_then(|s| <[u8; 16]>::try_from(s).ok())
            .ok_or_else(|| bad("its bcrypt salt is malformed"))?;
        Ok(Bcrypt {
            cost,
            salt,
            stored: value.to_owned(),
        })
    }

    /// Whether bcrypt of `key` (with its NUL, cut to 72 bytes) gives the stored value.
    fn matches(&self, key: &[u8]) -> bool {
        let mut k: Vec<u8> = key.to_vec();
        k.push(0);
        k.truncate(72);
        // INVARIANT: `k` holds 1 to 72 bytes and `parse` keeps the cost at most 31, which
        // is all `bcrypt::bcrypt` asserts.
        let out = bcrypt::bcrypt(self.cost, self.salt, &k);
        let computed = format!(
            "$2a${:02}${}{}",
            self.cost,
            BCRYPT64.encode(self.salt),
            BCRYPT64.encode(&out[..23])
        );
        ct_eq(computed.as_bytes(), self.stored.as_bytes())
    }
}

/// A parsed EPrints value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Eprints {
    Des([u8; 13]),
    Sha512 { salt: Vec<u8>, digest: String },
    BcryptRehash { salt: Vec<u8>, bcrypt: Bcrypt },
    Bcrypt(Bcrypt),
}

/// `URI->query_form`'s reading of a query: pairs split on `&` or `;`, `+` as a space,
/// percent-decoding; the last value of a repeated key wins (a Perl hash).
fn query_form(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let decode = |s: &str| {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let hexval = |c: Option<&u8>| {
            c.and_then(|&c| char::from(c).to_digit(16))
                .and_then(|d| u8::try_from(d).ok())
        };
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                // `uri_unescape`: `%` and two hex digits; anything else stays as it is.
                b'%' => match (hexval(b.get(i + 1)), hexval(b.get(i + 2))) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                c => out.push(c),
            }
            i += 1;
        }
        out
    };
    query
        .split(['&', ';'])
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), Vec::new()),
        })
        .collect()
}

impl Eprints {
    pub(crate) fn parse(value: &str) -> Result<Self, Unreadable> {
        let Some(query) = value.strip_prefix('?') else {
            let des = <[u8; 13]>::try_from(value.as_bytes())
                .ok()
                .filter(|_| looks_like_des(value))
                .ok_or_else(|| {
                    Unreadable::new(
                        "an EPrints DES crypt",
                        "it is not 13 characters of `./0-9A-Za-z`",
                    )
                })?;
            return Ok(Eprints::Des(des));
        };
        let mut method = None;
        let mut salt = None;
        let mut digest = None;
        for (k, v) in query_form(query) {
            match k.as_slice() {
                b"method" => method = Some(v),
                b"salt" => salt = Some(v),
                b"digest" => digest = Some(v),
                _ => {}
            }
        }
        let text = |v: Option<Vec<u8>>| v.and_then(|v| String::from_utf8(v).ok());
        let method = text(method).unwrap_or_default();
        let looks = |m: &str| match m {
            "2" => "an EPrints SHA-512 hash (`?method=2&salt=..&digest=..`)",
            "3" => "an EPrints bcrypt rehash (`?method=3&salt=..&digest=..`)",
            "4" => "an EPrints bcrypt hash (`?method=4&digest=..`)",
            _ => "an EPrints hash (`?method=...`)",
        };
        let l = looks(&method);
        let need_salt = |salt: Option<Vec<u8>>| {
            salt.filter(|s| !s.is_empty())
                .ok_or_else(|| Unreadable::new(l, "it has no `salt`"))
        };
        let digest = text(digest)
            .filter(|d| !d.is_empty())
            .ok_or_else(|| Unreadable::new(l, "it has no `digest`"))?;
        match method.as_str() {
            "2" => {
                let salt = need_salt(salt)?;
                if digest.len() != 128
                    || !digest
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(Unreadable::new(
                        l,
                        "its digest is not 128 lower-case hex characters (EPrints compares \
                         digests as text, so it could never match)",
                    ));
                }
                Ok(Eprints::Sha512 { salt, digest })
            }
            "3" => Ok(Eprints::BcryptRehash {
                salt: need_salt(salt)?,
                bcrypt: Bcrypt::parse(&digest, l)?,
            }),
            "4" => Ok(Eprints::Bcrypt(Bcrypt::parse(&digest, l)?)),
            other => Err(Unreadable::new(
                l,
                format!(
                    "its method `{}` is not one EPrints writes (2, 3 or 4)",
                    crate::error::shorten(other)
                ),
            )),
        }
    }

    pub(crate) fn scheme(&self) -> Scheme {
        match self {
            Eprints::Des(_) => Scheme::EprintsDes,
            Eprints::Sha512 { .. } => Scheme::EprintsSha512,
            Eprints::BcryptRehash { .. } => Scheme::EprintsBcryptRehash,
            Eprints::Bcrypt(_) => Scheme::EprintsBcrypt,
        }
    }

    pub(crate) fn bcrypt_cost(&self) -> Option<u32> {
        match self {
            Eprints::BcryptRehash { bcrypt, .. } | Eprints::Bcrypt(bcrypt) => Some(bcrypt.cost),
            _ => None,
        }
    }

    /// `crypt_equals`, on the bytes of the given path(s).
    pub(crate) fn verify(&self, candidate: &str, input: EprintsInput) -> bool {
        let form = || -> Option<Vec<u8>> {
            candidate
                .chars()
                .map(|c| u8::try_from(u32::from(c)).ok())
                .collect::<Option<Vec<u8>>>()
                .filter(|b| accepted(b))
        };
        let bytes = || Some(candidate.as_bytes().to_vec()).filter(|b| accepted(b));
        let tries: Vec<Vec<u8>> = match input {
            EprintsInput::Form => form().into_iter().collect(),
            EprintsInput::Bytes => bytes().into_iter().collect(),
            EprintsInput::Either => {
                let mut t: Vec<Vec<u8>> = form().into_iter().collect();
                if let Some(b) = bytes() {
                    if !t.contains(&b) {
                        t.push(b);
                    }
                }
                t
            }
        };
        // Every try is computed (no early return), so the work depends only on the
        // candidate's form, never on which try matches.
        tries
            .iter()
            .fold(false, |found, value| self.check(value) | found)
    }

    fn check(&self, value: &[u8]) -> bool {
        match self {
            Eprints::Des(stored) => {
                des_crypt::crypt(value, [stored[0], stored[1]]).is_some_and(|c| ct_eq(&c, stored))
            }
            Eprints::Sha512 { salt, digest } => {
                ct_eq(crypt_sha512(salt, value).as_bytes(), digest.as_bytes())
            }
            Eprints::BcryptRehash { salt, bcrypt } => {
                bcrypt.matches(crypt_sha512(salt, value).as_bytes())
            }
            Eprints::Bcrypt(bcrypt) => bcrypt.matches(value),
        }
    }
}

/// EPrints refuses the empty password and any character below U+0020
/// (`m/[^\x20-\xff]/`; characters above U+00FF never reach here as bytes of the form path).
fn accepted(value: &[u8]) -> bool {
    !value.is_empty() && value.iter().all(|&b| b >= 0x20)
}

/// `_crypt_sha512(salt, value)`: SHA-512 of salt and value, 9,999 more of the binary
/// digest, and the hex of one more.
fn crypt_sha512(salt: &[u8], value: &[u8]) -> String {
    let mut h = Sha512::new();
    h.update(salt);
    h.update(value);
    let mut d = h.finalize();
    for _ in 0..9_999 {
        d = Sha512::digest(d);
    }
    hex(&Sha512::digest(d))
}
