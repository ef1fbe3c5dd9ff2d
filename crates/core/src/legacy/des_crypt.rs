//! Traditional Unix DES `crypt(3)`, the oldest EPrints password form (`EP_CRYPT_CRYPT`).
//!
//! Written from FIPS 46-3 and the Seventh Edition `crypt.c`, because no maintained crate
//! offers it: the 12-bit salt swaps pairs of bits of DES's expansion `E`, which general DES
//! implementations do not expose. Bit-at-a-time and slow by DES standards (a few
//! microseconds), which does not matter here: it runs once per log in of an account that
//! still has such a hash, and DES crypt is never written, only checked.
//!
//! The password's first 8 bytes count, and only the low 7 bits of each (as in glibc's and
//! libxcrypt's `crypt`, which EPrints calls through Perl).

/// Initial permutation.
const IP: [u8; 64] = [
    58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6,
    64, 56, 48, 40, 32, 24, 16, 8, 57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61,
    53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];

/// Final permutation (the inverse of `IP`).
const FP: [u8; 64] = [
    40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30,
    37, 5, 45, 13, 53, 21, 61, 29, 36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
    34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
];

/// Expansion of the 32-bit half block to 48 bits.
const E: [u8; 48] = [
    32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17, 16, 17, 18,
    19, 20, 21, 20, 21, 22, 23, 24, 25, 24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
];

/// Permutation of the S-box outputs.
const P: [u8; 32] = [
    16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19,
    13, 30, 6, 22, 11, 4, 25,
];

/// Permuted choice 1: the 56 key bits.
const PC1: [u8; 56] = [
    57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60,
    52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29,
    21, 13, 5, 28, 20, 12, 4,
];

/// Permuted choice 2: the 48 bits of a round key.
const PC2: [u8; 48] = [
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52,
    31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];

/// Left rotations of the key halves before each round.
const SHIFTS: [u8; 16] = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];

/// The eight S-boxes, each 4 rows of 16.
const S: [[u8; 64]; 8] = [
    [
        14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12,
        11, 9, 5, 3, 8, 4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9,
        1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
    ],
    [
        15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1,
        10, 6, 9, 11, 5, 0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15,
        4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
    ],
    [
        10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5,
        14, 12, 11, 15, 1, 13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6,
        9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
    ],
    [
        7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2,
        12, 1, 10, 14, 9, 10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1,
        13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
    ],
    [
        2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15,
        10, 3, 9, 8, 6, 4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14,
        2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
    ],
    [
        12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13,
        14, 0, 11, 3, 8, 9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5,
        15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
    ],
    [
        4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5,
        12, 2, 15, 8, 6, 1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4,
        10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
    ],
    [
        13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6,
        11, 0, 14, 9, 2, 7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10,
        8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
    ],
];

/// The crypt alphabet: `./0-9A-Za-z`, six bits a character.
const ALPHABET: &[u8; 64] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The six-bit value of a salt or hash character, if it is one.
pub(crate) fn char_value(c: u8) -> Option<u8> {
    ALPHABET
        .iter()
        .position(|&a| a == c)
        .and_then(|i| u8::try_from(i).ok())
}

/// Applies a 1-based permutation table to a bit array.
fn permute<const N: usize>(input: &[u8], table: &[u8; N]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, &t) in out.iter_mut().zip(table) {
        *o = input[usize::from(t) - 1];
    }
    out
}

/// The 16 round keys of an 8-byte key (each byte's top 7 bits; the parity bit is unused).
fn round_keys(key: &[u8; 8]) -> [[u8; 48]; 16] {
    let mut bits = [0u8; 64];
    for (i, b) in bits.iter_mut().enumerate() {
        *b = (key[i / 8] >> (7 - i % 8)) & 1;
    }
    let mut cd = permute(&bits, &PC1);
    let mut keys = [[0u8; 48]; 16];
    for (k, &shift) in keys.iter_mut().zip(&SHIFTS) {
        for _ in 0..shift {
            cd[..28].rotate_left(1);
            cd[28..].rotate_left(1);
        }
        *k = permute(&cd, &PC2);
    }
    keys
}

/// DES of one block (as 64 bits), with `e` as the expansion (the salted one for crypt).
fn des_block(block: &[u8; 64], keys: &[[u8; 48]; 16], e: &[u8; 48]) -> [u8; 64] {
    let lr = permute(block, &IP);
    let (mut l, mut r) = ([0u8; 32], [0u8; 32]);
    l.copy_from_slice(&lr[..32]);
    r.copy_from_slice(&lr[32..]);
    for k in keys {
        let expanded = permute(&r, e);
        let mut sout = [0u8; 32];
        for (box_index, sbox) in S.iter().enumerate() {
            let x: Vec<u8> = (0..6)
                .map(|j| expanded[box_index * 6 + j] ^ k[box_index * 6 + j])
                .collect();
            let row = usize::from(x[0] << 1 | x[5]);
            let col = usize::from(x[1] << 3 | x[2] << 2 | x[3] << 1 | x[4]);
            let v = sbox[row * 16 + col];
            for j in 0..4 {
                sout[box_index * 4 + j] = (v >> (3 - j)) & 1;
            }
        }
        let f = permute(&sout, &P);
        let mut next_r = [0u8; 32];
        for i in 0..32 {
            next_r[i] = l[i] ^ f[i];
        }
        l = r;
        r = next_r;
    }
    // The halves swap after the last round.
    let mut rl = [0u8; 64];
    rl[..32].copy_from_slice(&r);
    rl[32..].copy_from_slice(&l);
    permute(&rl, &FP)
}

/// `crypt(password, salt)` for a two-character salt of the crypt alphabet: the 13-character
/// result, or `None` for an invalid salt (where libxcrypt returns `*0`, equal to no stored
/// value).
pub(crate) fn crypt(password: &[u8], salt: [u8; 2]) -> Option<[u8; 13]> {
    let mut key = [0u8; 8];
    for (k, &b) in key.iter_mut().zip(password.iter().take(8)) {
        *k = b << 1;
    }
    let keys = round_keys(&key);
    let mut e = E;
    for (i, &c) in salt.iter().enumerate() {
        let v = char_value(c)?;
        for j in 0..6 {
            if (v >> j) & 1 == 1 {
                e.swap(6 * i + j, 6 * i + j + 24);
            }
        }
    }
    let mut block = [0u8; 64];
    for _ in 0..25 {
        block = des_block(&block, &keys, &e);
    }
    let mut out = [0u8; 13];
    out[..2].copy_from_slice(&salt);
    for (i, o) in out[2..].iter_mut().enumerate() {
        let mut c = 0u8;
        for j in 0..6 {
            let bit = block.get(6 * i + j).copied().unwrap_or(0);
            c = c << 1 | bit;
        }
        *o = ALPHABET[usize::from(c)];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn des_known_answer() {
        // The classic worked example: key 133457799BBCDFF1, 0123456789ABCDEF -> 85E813540F0AB405.
        let bits = |v: u64| {
            let mut b = [0u8; 64];
            for (i, x) in b.iter_mut().enumerate() {
                *x = u8::from((v >> (63 - i)) & 1 == 1);
            }
            b
        };
        let keys = round_keys(&0x1334_5779_9BBC_DFF1u64.to_be_bytes());
        let out = des_block(&bits(0x0123_4567_89AB_CDEF), &keys, &E);
        assert_eq!(out, bits(0x85E8_1354_0F0A_B405));
    }

    #[test]
    fn crypt_matches_glibc() {
        // Made with Perl's `crypt` (glibc / libxcrypt).
        for (pw, salt, want) in [
            ("secret12", *b".S", ".S2OVrGQA154k"),
            ("", *b"ab", "abmF1QH4PEr.E"),
            ("password", *b"zz", "zzXUHfURnGg8I"),
        ] {
            let got = crypt(pw.as_bytes(), salt).unwrap();
            assert_eq!(std::str::from_utf8(&got).unwrap(), want, "{pw}");
        }
        assert!(crypt(b"x", *b"*L").is_none());
    }
}
