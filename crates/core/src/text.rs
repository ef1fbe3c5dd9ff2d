//! Limits on free text (names, affiliations, descriptions, searches), the same wherever the
//! text comes from (fixtures, command line, API, admin UI): the core enforces them, so no
//! door can be forgotten. And how much of a bad value an error message shows.
//!
//! | field | at most | also refused |
//! | --- | --- | --- |
//! | full name | 255 characters | control, invisible and bidirectional control characters |
//! | affiliations | 255 characters | the same |
//! | role description | 1,000 characters | the same |
//! | search | 20 words, 200 characters | - |
//! | email | 254 characters (64 before `@`) | white space, control, invisible characters |
//! | username | 3 to 256 ASCII letters, digits, `-`, `_` | anything else |
//! | privilege | 200 characters | white space, control characters |
//! | role or type name | 80 characters | see the name rule |
//! | scope filter | 16 fields of 64 characters, 100 values of 200 characters each | `,` `;` `=` and control characters in values |
//! | password | 8 to 128 characters by default (`passwords.min_length`) | - |

use std::borrow::Cow;

use crate::error::CoreError;

/// Characters a full name may have.
pub const FULL_NAME_MAX: usize = 255;
/// Characters affiliations may have.
pub const AFFILIATIONS_MAX: usize = 255;
/// Characters a role description may have.
pub const ROLE_DESCRIPTION_MAX: usize = 1000;
/// Words a user search may have.
pub const SEARCH_WORDS_MAX: usize = 20;
/// Characters a user search may have.
pub const SEARCH_CHARS_MAX: usize = 200;
/// Characters of a bad value an error message shows.
pub const SHOWN: usize = 100;

/// At most the first [`SHOWN`] characters of `value`, with `…` when it was longer.
pub fn shorten(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(SHOWN) {
        None => Cow::Borrowed(value),
        Some((cut, _)) => Cow::Owned(format!("{}…", &value[..cut])),
    }
}

/// Characters that show nothing or reorder what is shown: zero-width spaces and joiners,
/// the soft hyphen, the byte order mark, and the bidirectional embeddings, overrides and
/// isolates. Names and emails holding them can look like other ones.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The confusable skeleton of an email (Unicode TR39, after NFKC and lower-casing): two
/// addresses with the same skeleton look alike (`аdmin` with a Cyrillic `а`, fullwidth
/// letters), so a second one is refused. Stored beside each user and indexed.
pub fn email_skeleton(email: &str) -> String {
    skeleton(email)
}

/// The confusable skeleton of a username: NFKC, case folded, then TR39 (usernames are ASCII
/// letters, digits, `-` and `_`, so this mostly catches `l`/`1`/`I` and `O`/`0`).
pub fn username_skeleton(username: &str) -> String {
    skeleton(username)
}

/// NFKC, lower case, TR39 skeleton, lower case. ASCII text (nearly every address and every
/// username) takes each character's skeleton from a table made once by the full walk: the
/// walk costs about a microsecond a string, which a bulk load of 100,000 accounts paid
/// three times each (`ascii_skeletons_are_the_full_walks` checks the table's answers).
fn skeleton(s: &str) -> String {
    if !s.is_ascii() {
        return full_skeleton(s);
    }
    let table = ascii_skeletons();
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        out.push_str(&table[usize::from(b)]);
    }
    out
}

/// The skeleton of each ASCII character alone.
fn ascii_skeletons() -> &'static [String] {
    static TABLE: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0u8..128)
            .map(|b| full_skeleton(char::from(b).encode_utf8(&mut [0; 4])))
            .collect()
    })
}

fn full_skeleton(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = s.nfkc().collect::<String>().to_lowercase();
    unicode_security::skeleton(&folded)
        .collect::<String>()
        .to_lowercase()
}

/// Whether `s` holds a combining mark that does not compose with the letter before it
/// (stacked or overlaid marks that make one address look like another).
pub fn has_loose_mark(s: &str) -> bool {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    s.nfc().any(is_combining_mark)
}

/// Checks one line of free text: at most `max` characters, no control characters, nothing
/// invisible. The message names the field and shows at most the first 100 characters.
pub fn check_line(field: &'static str, value: &str, max: usize) -> Result<(), CoreError> {
    let n = value.chars().count();
    if n > max {
        return Err(CoreError::invalid(
            field,
            format!(
                "{} has {n} characters, more than the {max} allowed: `{}`",
                words(field),
                shorten(value)
            ),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control() || is_invisible(*c)) {
        return Err(CoreError::invalid(
            field,
            format!(
                "{} holds the control or invisible character U+{:04X}; remove it",
                words(field),
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

fn words(field: &str) -> &str {
    match field {
        "full_name" => "the full name",
        "affiliations" => "the affiliations",
        "description" => "the description",
        _ => "the value",
    }
}

/// Checks a user search: at most [`SEARCH_WORDS_MAX`] words and [`SEARCH_CHARS_MAX`]
/// characters.
pub fn check_search(text: &str) -> Result<(), CoreError> {
    let words = text.split_whitespace().count();
    if words > SEARCH_WORDS_MAX || text.chars().count() > SEARCH_CHARS_MAX {
        return Err(CoreError::invalid(
            "q",
            format!(
                "the search has {words} words; use at most {SEARCH_WORDS_MAX} words and \
                 {SEARCH_CHARS_MAX} characters"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    /// The table is a shortcut only if the walk is the same character by character: every
    /// ASCII string of one, two and three characters (three from a set that holds the
    /// look-alikes: `rn`/`m`, `l`/`1`/`I`, `0`/`O`, `vv`/`w`, `cl`/`d`), and 20,000 random
    /// ones of up to 40.
    #[test]
    fn ascii_skeletons_are_the_full_walks() {
        let check = |s: &str| assert_eq!(skeleton(s), full_skeleton(s), "{s:?}");
        for a in 0u8..128 {
            for b in 0u8..128 {
                check(&String::from_utf8(vec![a, b]).unwrap());
            }
        }
        let set = b"rnmlI1|0Oovwcd.-_@'`^~ \"";
        for a in set {
            for b in set {
                for c in set {
                    check(&String::from_utf8(vec![*a, *b, *c]).unwrap());
                }
            }
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut v = Vec::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for i in 0..(x % 41) {
                v.push(((x >> (i % 57)) % 128) as u8);
            }
            check(&String::from_utf8(v).unwrap());
        }
        assert_eq!(username_skeleton("rn1l"), username_skeleton("ml1"));
    }

    #[test]
    fn lines_are_bounded_and_visible() {
        assert!(check_line("full_name", "Ann Smith-Jones", FULL_NAME_MAX).is_ok());
        assert!(check_line("full_name", "Zoë Ñúñez 李小龍", FULL_NAME_MAX).is_ok());
        let long = "x".repeat(10_000);
        let e = check_line("full_name", &long, FULL_NAME_MAX)
            .unwrap_err()
            .to_string();
        assert!(e.contains("10000 characters") && e.contains('…'), "{e}");
        assert!(
            e.len() < 300,
            "the message shows at most 100 characters: {e}"
        );
        for bad in ["a\0b", "a\u{200B}b", "a\u{202E}b", "a\u{00AD}b", "a\nb"] {
            assert!(
                check_line("full_name", bad, FULL_NAME_MAX).is_err(),
                "{bad:?}"
            );
        }
        assert!(check_search(&"w ".repeat(21)).is_err());
        assert!(check_search("smith jones").is_ok());
        assert_eq!(shorten("abc"), "abc");
    }

    /// Issue 11, failure 8: look-alike accounts. Cyrillic, fullwidth and the like share the
    /// skeleton of the address they imitate; accented letters of real names do not.
    #[test]
    fn failure_8_look_alike_emails_share_a_skeleton() {
        let admin = email_skeleton("admin@example.org");
        for fake in [
            "\u{0430}dmin@example.org",
            "\u{FF41}dmin@example.org",
            "ADMIN@example.org",
            "admin@examp1e.org",
        ] {
            assert_eq!(email_skeleton(fake), admin, "{fake}");
        }
        assert_ne!(
            email_skeleton("jos\u{E9}@example.org"),
            email_skeleton("jose@example.org")
        );
        assert!(has_loose_mark("adm\u{0300}in@example.org"));
        assert!(!has_loose_mark("jose\u{0301}@example.org"), "composes to é");
    }
}
