//! DSpace's hashes (`dspace-api/.../eperson/PasswordHash.java`, unchanged since 2012 so
//! DSpace 7 to 9 alike), written `dspace:ALGORITHM:SALT_HEX:HASH_HEX` from the three
//! columns of an `eperson` row (`digest_algorithm`, `salt`, `password`).
//!
//! An empty algorithm (NULL or empty in the row) is the old one-trip unsalted MD5 of the
//! UTF-8 password, whatever the salt column holds. Any other algorithm is a JCA digest name
//! (`SHA-512` by default): the digest of salt then UTF-8 password, then 1,023 more digests
//! of the digest, 1,024 in all. Hex is read in either case (commons-codec `decodeHex`); an
//! odd length or a non-hex character makes DSpace answer no, so such a value is unreadable.

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{ct_eq, unhex, Scheme, Unreadable};

const LOOKS_LIKE: &str = "a DSpace hash (`dspace:ALGORITHM:SALT_HEX:HASH_HEX`)";

/// The digest algorithms Gatehouse computes, by JCA name (case-insensitive, as the JCA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    /// The old unsalted single MD5 (empty algorithm).
    OldMd5,
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_uppercase().as_str() {
            "" => Algorithm::OldMd5,
            "MD5" => Algorithm::Md5,
            "SHA-1" | "SHA1" | "SHA" => Algorithm::Sha1,
            "SHA-256" => Algorithm::Sha256,
            "SHA-384" => Algorithm::Sha384,
            "SHA-512" => Algorithm::Sha512,
            _ => return None,
        })
    }

    fn output_len(self) -> usize {
        match self {
            Algorithm::OldMd5 | Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }
}

/// 1,024 applications of `D`, the first over salt and password.
fn rounds<D: Digest>(salt: &[u8], password: &[u8]) -> Vec<u8> {
    let mut h = D::new();
    h.update(salt);
    h.update(password);
    let mut x = h.finalize();
    for _ in 1..1024 {
        x = D::digest(&x);
    }
    x.to_vec()
}

/// A parsed DSpace value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Dspace {
    algorithm: Algorithm,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl Dspace {
    /// Reads `ALGORITHM:SALT_HEX:HASH_HEX` (after `dspace:`).
    pub(crate) fn parse(rest: &str) -> Result<Self, Unreadable> {
        let bad = |why: String| Unreadable::new(LOOKS_LIKE, why);
        let mut parts = rest.splitn(3, ':');
        let (Some(alg), Some(salt), Some(hash)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad(
                "it does not have the three fields ALGORITHM, SALT_HEX and HASH_HEX".to_owned(),
            ));
        };
        let algorithm = Algorithm::from_name(alg).ok_or_else(|| {
            bad(format!(
                "its algorithm `{}` is not one Gatehouse computes (empty for the old MD5, \
                 MD5, SHA-1, SHA-256, SHA-384 or SHA-512)",
                crate::error::shorten(alg)
            ))
        })?;
        let salt = unhex(salt)
            .ok_or_else(|| bad("its salt is not hex (DSpace itself refuses it)".to_owned()))?;
        let hash = unhex(hash)
            .ok_or_else(|| bad("its hash is not hex (DSpace itself refuses it)".to_owned()))?;
        if hash.len() != algorithm.output_len() {
            return Err(bad(format!(
                "its hash is {} bytes where the algorithm makes {}, so it could never match",
                hash.len(),
                algorithm.output_len()
            )));
        }
        Ok(Dspace {
            algorithm,
            salt,
            hash,
        })
    }

    pub(crate) fn scheme(&self) -> Scheme {
        match self.algorithm {
            Algorithm::OldMd5 => Scheme::DspaceMd5,
            Algorithm::Sha512 => Scheme::DspaceSha512,
            _ => Scheme::DspaceDigest,
        }
    }

    /// `PasswordHash.matches`: the UTF-8 password, no normalisation or trimming.
    pub(crate) fn verify(&self, candidate: &str) -> bool {
        let pw = candidate.as_bytes();
        let computed = match self.algorithm {
            Algorithm::OldMd5 => md5::Md5::digest(pw).to_vec(),
            Algorithm::Md5 => rounds::<md5::Md5>(&self.salt, pw),
            Algorithm::Sha1 => rounds::<Sha1>(&self.salt, pw),
            Algorithm::Sha256 => rounds::<Sha256>(&self.salt, pw),
            Algorithm::Sha384 => rounds::<Sha384>(&self.salt, pw),
            Algorithm::Sha512 => rounds::<Sha512>(&self.salt, pw),
        };
        ct_eq(&computed, &self.hash)
    }
}
