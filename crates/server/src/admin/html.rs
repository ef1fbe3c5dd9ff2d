//! Escaping for the pages that still build HTML by hand (the OpenID Connect log in and
//! consent pages); the admin panel itself is drawn by `maud` ([`super::layout`]).

pub use super::layout::pct;

/// Escapes text for an HTML element body or a quoted attribute value.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
