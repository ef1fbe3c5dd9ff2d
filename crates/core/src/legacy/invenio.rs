//! InvenioRDM's hashes (invenio-accounts 8/9 on Flask-Security-Invenio and passlib/libpass):
//! `$pbkdf2-sha512$ROUNDS$SALT$CHECKSUM`, double hashed by default, and Invenio 1.x's
//! `$invenio-aes$EMAIL$HEX`.
//!
//! Double hashing: the PBKDF2 input is not the password but
//! `base64(HMAC-SHA512(key = SECURITY_PASSWORD_SALT, msg = password))`, the 88 ASCII
//! characters with padding; single hashing (`SECURITY_PASSWORD_SINGLE_HASH`) uses the
//! password itself. No normalisation, trimming or truncation anywhere.

use aes::cipher::{BlockEncrypt, KeyInit};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine as _};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::{ct_eq, hex, LegacySettings, Unreadable};

const LOOKS_LIKE: &str = "an InvenioRDM hash (`$pbkdf2-sha512$ROUNDS$SALT$CHECKSUM`)";
const LOOKS_LIKE_AES: &str = "an Invenio 1.x hash (`$invenio-aes$EMAIL$HEX`)";

/// passlib's "ab64" read as its `ab64_decode` does: `.` stands for `+` (and `+` is accepted
/// too), no padding needed.
const AB64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fn ab64_decode(s: &str) -> Option<Vec<u8>> {
    AB64.decode(s.replace('.', "+")).ok()
}

/// A parsed `$pbkdf2-sha512$` value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Pbkdf2 {
    pub(crate) rounds: u32,
    salt: Vec<u8>,
    checksum: Vec<u8>,
}

impl Pbkdf2 {
    /// Reads `ROUNDS$SALT$CHECKSUM` (after the `$pbkdf2-sha512$` prefix), refusing what
    /// passlib refuses (zero-padded rounds, a checksum that is not 64 bytes).
    pub(crate) fn parse(rest: &str) -> Result<Self, Unreadable> {
        let bad = |why: &str| Unreadable::new(LOOKS_LIKE, why);
        let mut parts = rest.split('$');
        let (Some(rounds), Some(salt), Some(checksum), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(
                "it does not have the three fields ROUNDS, SALT and CHECKSUM",
            ));
        };
        if rounds.starts_with('0') || !rounds.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                "its rounds are not a decimal number without leading zeros",
            ));
        }
        let rounds: u32 = rounds
            .parse()
            .ok()
            .filter(|&r| r >= 1)
            .ok_or_else(|| bad("its rounds are out of range"))?;
        let salt = ab64_decode(salt)
            .filter(|s| s.len() <= 1024)
            .ok_or_else(|| bad("its salt is not passlib's base64 (at most 1,024 bytes)"))?;
        let checksum = ab64_decode(checksum)
            .filter(|c| c.len() == 64)
            .ok_or_else(|| bad("its checksum is not 64 bytes of passlib's base64"))?;
        Ok(Pbkdf2 {
            rounds,
            salt,
            checksum,
        })
    }

    /// Flask-Security's `verify_password` for this value.
    pub(crate) fn verify(&self, candidate: &str, settings: &LegacySettings) -> bool {
        let input: Vec<u8> = if settings.invenio_single_hash {
            candidate.as_bytes().to_vec()
        } else {
            // Without the instance's salt the answer is no (import refuses such hashes);
            // the work is the same either way.
            let key = settings.invenio_password_salt.as_deref().unwrap_or("");
            let Ok(mut mac) = <Hmac<Sha512> as Mac>::new_from_slice(key.as_bytes()) else {
                return false;
            };
            mac.update(candidate.as_bytes());
            STANDARD.encode(mac.finalize().into_bytes()).into_bytes()
        };
        let mut out = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<Sha512>(&input, &self.salt, self.rounds, &mut out);
        ct_eq(&out, &self.checksum)
            && (settings.invenio_single_hash || settings.invenio_password_salt.is_some())
    }
}

/// A parsed Invenio 1.x value: the email is the data, the password the AES key.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Aes {
    email: String,
    checksum: String,
}

impl Aes {
    /// Reads `EMAIL$HEX` (after the `$invenio-aes$` prefix).
    pub(crate) fn parse(rest: &str) -> Result<Self, Unreadable> {
        let bad = |why: &str| Unreadable::new(LOOKS_LIKE_AES, why);
        let Some((email, checksum)) = rest.split_once('$') else {
            return Err(bad("it does not have the two fields EMAIL and CHECKSUM"));
        };
        if email.is_empty() || !email.is_ascii() {
            // Invenio counts the padding in characters, so a non-ASCII email makes its own
            // verification fail (block length): such a hash never matched.
            return Err(bad(
                "its email is empty or not ASCII (Invenio itself cannot verify such a hash)",
            ));
        }
        if checksum.len() != 64
            || !checksum
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(bad("its checksum is not 64 lower-case hex characters"));
        }
        Ok(Aes {
            email: email.to_owned(),
            checksum: checksum.to_owned(),
        })
    }

    /// `sha256_hex(AES-128-ECB(key = password bytes XOR-folded to 16, email padded))`.
    pub(crate) fn verify(&self, candidate: &str) -> bool {
        let mut key = [0u8; 16];
        for (i, b) in candidate.as_bytes().iter().enumerate() {
            key[i % 16] ^= b;
        }
        let cipher = aes::Aes128::new(&key.into());
        let mut data = self.email.as_bytes().to_vec();
        let pad = 16 - data.len() % 16;
        // `pad` is 1 to 16.
        data.extend(std::iter::repeat_n(u8::try_from(pad).unwrap_or(16), pad));
        let mut sha = Sha256::new();
        for chunk in data.chunks(16) {
            let mut block = aes::Block::clone_from_slice(chunk);
            cipher.encrypt_block(&mut block);
            sha.update(block);
        }
        ct_eq(hex(&sha.finalize()).as_bytes(), self.checksum.as_bytes())
    }
}
