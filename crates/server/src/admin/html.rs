//! Small HTML helpers for the admin pages: escaping, the page layout, notices, forms with
//! their CSRF field, and URL encoding. Every piece of data that did not come from this file
//! goes through [`esc`] (or [`pct`] inside a URL) before it reaches a page.

use std::fmt::Write as _;

/// The style sheet, served at `/admin/admin.css`.
pub const CSS: &str = include_str!("admin.css");

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

/// Escapes `s` and marks every non-ASCII character visibly (issue 11, point 7): a look-alike
/// such as a Cyrillic `а` in `аdmin@example.org` shows highlighted with its code point as a
/// tooltip, and an invisible one (zero-width space, bidirectional control) shows as its code
/// point, so two accounts that render alike can be told apart in the list.
pub fn esc_marked(s: &str) -> String {
    if s.is_ascii() {
        return esc(s);
    }
    let mut out = String::with_capacity(s.len() + 64);
    let mut buf = [0u8; 4];
    for c in s.chars() {
        if c.is_ascii() {
            out.push_str(&esc(c.encode_utf8(&mut buf)));
        } else if gatehouse_core::text::is_invisible(c) || c.is_control() || c.is_whitespace() {
            let _ = write!(
                out,
                "<mark class=\"non-ascii\" title=\"invisible character U+{:04X}\">U+{:04X}</mark>",
                u32::from(c),
                u32::from(c)
            );
        } else {
            let _ = write!(
                out,
                "<mark class=\"non-ascii\" title=\"non-ASCII character U+{:04X}\">{c}</mark>",
                u32::from(c)
            );
        }
    }
    out
}

/// Percent-encodes a value for a URL path segment or query value.
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Decodes [`hex`]; `None` for anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|p| u8::from_str_radix(p, 16).ok()))
        .collect()
}

/// A message shown at the top of the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Whether it reports a success (otherwise a refusal or an error).
    pub ok: bool,
    /// The text.
    pub text: String,
}

/// What the layout needs to know about the person looking.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// The signed-in administrator's label, if any.
    pub who: Option<String>,
    /// The session's CSRF token (for the log out form).
    pub csrf: String,
    /// The notice to show, if any.
    pub notice: Option<Notice>,
    /// The current section, for `aria-current`.
    pub section: &'static str,
}

/// A whole page.
pub fn page(title: &str, chrome: &Chrome, body: &str) -> String {
    let mut nav = String::new();
    if let Some(who) = &chrome.who {
        nav.push_str("<nav aria-label=\"Main\"><ul>");
        for (section, href, label) in [
            ("users", "/admin/users", "Users"),
            ("roles", "/admin/roles", "Roles"),
            ("grants", "/admin/grants", "Grants"),
            ("explain", "/admin/explain", "Explain"),
            ("clients", "/admin/clients", "Clients"),
        ] {
            let current = if section == chrome.section {
                " aria-current=\"page\""
            } else {
                ""
            };
            let _ = write!(nav, "<li><a href=\"{href}\"{current}>{label}</a></li>");
        }
        let _ = write!(
            nav,
            "</ul><form method=\"post\" action=\"/admin/logout\" class=\"logout\">{}\
             <span class=\"who\">{}</span> <button type=\"submit\" class=\"secondary\">Log out</button></form></nav>",
            csrf_field(&chrome.csrf),
            esc(who)
        );
    }
    let notice = chrome.notice.as_ref().map_or_else(String::new, |n| {
        let (class, role) = if n.ok {
            ("notice ok", "status")
        } else {
            ("notice error", "alert")
        };
        format!(
            "<div class=\"{class}\" role=\"{role}\" id=\"notice\">{}</div>",
            esc(&n.text)
        )
    });
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"same-origin\">\
         <title>{title} · Gatehouse admin</title>\
         <link rel=\"stylesheet\" href=\"/admin/admin.css\"></head><body>\
         <a class=\"skip\" href=\"#main\">Skip to content</a>\
         <header><a class=\"brand\" href=\"/admin\">Gatehouse admin</a>{nav}</header>\
         <main id=\"main\" tabindex=\"-1\"><h1>{title}</h1>{notice}{body}</main></body></html>",
        title = esc(title),
    )
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(token: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(token)
    )
}

/// A form that posts to `action` with one button and hidden fields.
pub fn button_form(
    csrf: &str,
    action: &str,
    hidden: &[(&str, &str)],
    label: &str,
    class: &str,
) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"{}\" class=\"inline\">{}",
        esc(action),
        csrf_field(csrf)
    );
    for (k, v) in hidden {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        );
    }
    let _ = write!(
        out,
        "<button type=\"submit\" class=\"{}\">{}</button></form>",
        esc(class),
        esc(label)
    );
    out
}

/// A labelled text input.
pub fn text_input(name: &str, label: &str, value: &str, extra: &str) -> String {
    format!(
        "<p class=\"field\"><label for=\"f-{n}\">{l}</label>\
         <input id=\"f-{n}\" name=\"{n}\" value=\"{v}\" {extra}></p>",
        n = esc(name),
        l = esc(label),
        v = esc(value),
    )
}

/// A labelled select; `options` are (value, label).
pub fn select(name: &str, label: &str, options: &[(String, String)], selected: &str) -> String {
    let mut out = format!(
        "<p class=\"field\"><label for=\"f-{n}\">{l}</label><select id=\"f-{n}\" name=\"{n}\">",
        n = esc(name),
        l = esc(label)
    );
    for (v, l) in options {
        let sel = if v == selected { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{}\"{sel}>{}</option>", esc(v), esc(l));
    }
    out.push_str("</select></p>");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('1')</script> & \"x\""),
            "&lt;script&gt;alert(&#39;1&#39;)&lt;/script&gt; &amp; &quot;x&quot;"
        );
    }

    #[test]
    fn percent_and_hex_round_trip() {
        assert_eq!(pct("a b/é?&"), "a%20b%2F%C3%A9%3F%26");
        let h = hex("é notice".as_bytes());
        assert_eq!(unhex(&h).unwrap(), "é notice".as_bytes());
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }
}
