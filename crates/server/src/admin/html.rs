//! Escaping for the pages that still build HTML by hand (the OpenID Connect log in and
//! consent pages); the admin panel itself is drawn by `maud` ([`super::layout`]).

pub use super::layout::pct;

/// Escapes text for an HTML element body or a double-quoted attribute value, with the
/// template engine's own escaper (the one the admin panel's pages use).
pub fn esc(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    let _ = maud::Escaper::new(&mut out).write_str(s);
    out
}
