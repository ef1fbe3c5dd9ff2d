//! The admin panel's one layout and its form pieces, written with `maud`: every value is
//! escaped by the template engine, so no page builds HTML by hand. A form that the server
//! refused is drawn again with what was typed and the error next to the field it concerns
//! ([`FormView`]); a notice after a change is shown inside the card that was changed.

use std::cell::Cell;

use maud::{html, Markup, PreEscaped, Render, DOCTYPE};

use super::Fields;

/// The style sheet, served at `/admin/admin.css`.
pub const CSS: &str = include_str!("admin.css");

/// A message shown after a change: in the card it concerns (`card`), or at the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Whether it reports a success (otherwise a refusal or an error).
    pub ok: bool,
    /// The id of the card it belongs in, if any.
    pub card: Option<String>,
    /// The text.
    pub text: String,
}

impl Notice {
    /// A success notice for `card`.
    pub fn ok(card: Option<&str>, text: impl Into<String>) -> Self {
        Notice {
            ok: true,
            card: card.map(str::to_owned),
            text: text.into(),
        }
    }

    /// An error notice at the top of the page.
    pub fn error(text: impl Into<String>) -> Self {
        Notice {
            ok: false,
            card: None,
            text: text.into(),
        }
    }
}

impl Render for Notice {
    fn render(&self) -> Markup {
        let (class, role) = if self.ok {
            ("notice ok", "status")
        } else {
            ("notice error", "alert")
        };
        // `autofocus` with `tabindex=-1`: focus (and a screen reader) goes to what changed.
        html! { div.(class) role=(role) id="notice" tabindex="-1" autofocus { (self.text) } }
    }
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

/// The sections of the panel, in the order of the menu.
pub const SECTIONS: &[(&str, &str, &str)] = &[
    ("users", "/admin/users", "Users"),
    ("roles", "/admin/roles", "Roles"),
    ("types", "/admin/types", "User types"),
    ("grants", "/admin/grants", "Grants"),
    ("holders", "/admin/holders", "Who holds"),
    ("explain", "/admin/explain", "Explain"),
    ("history", "/admin/history", "History"),
    ("tokens", "/admin/tokens", "Service tokens"),
    ("clients", "/admin/clients", "Clients"),
];

/// A whole page. A notice meant for a card is shown in that card when the page has it
/// (the card draws it, see [`card`]), otherwise at the top.
pub fn page(title: &str, chrome: &Chrome, body: Markup) -> String {
    let top_notice = chrome.notice.as_ref().filter(|n| match &n.card {
        None => true,
        Some(card) => !body.0.contains(&format!("id=\"{card}\"")),
    });
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (title) " · Gatehouse admin" }
                link rel="stylesheet" href="/admin/admin.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header {
                    a.brand href="/admin" { "Gatehouse admin" }
                    @if let Some(who) = &chrome.who {
                        nav aria-label="Main" {
                            ul {
                                @for (section, href, label) in SECTIONS {
                                    li {
                                        @if *section == chrome.section {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                        form.logout method="post" action="/admin/logout" {
                            (csrf_field(&chrome.csrf))
                            span.who { (who) }
                            " "
                            button.secondary type="submit" { "Log out" }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    h1 { (title) }
                    @if let Some(n) = top_notice { (n) }
                    (body)
                }
            }
        }
    }
    .into_string()
}

/// A card (a section of a page) with an id, a heading and, when the notice of the request
/// belongs to it, the notice under the heading.
pub fn card(id: &str, title: &str, chrome: &Chrome, content: Markup) -> Markup {
    let notice = chrome
        .notice
        .as_ref()
        .filter(|n| n.card.as_deref() == Some(id));
    let heading = format!("h-{id}");
    html! {
        section.card id=(id) aria-labelledby=(heading) tabindex="-1" {
            h2 id=(heading) { (title) }
            @if let Some(n) = notice { (n) }
            (content)
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A form that posts to `action` with one button and hidden fields. `disabled_why`: the
/// privilege the administrator lacks, shown instead of letting the button fail.
pub fn button_form(
    csrf: &str,
    action: &str,
    hidden: &[(&str, &str)],
    label: &str,
    class: &str,
    needs: Option<&str>,
) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf_field(csrf))
            @for (k, v) in hidden { input type="hidden" name=(k) value=(v); }
            @if let Some(p) = needs {
                button type="submit" class=(class) disabled title=(format!("needs the privilege {p}")) { (label) }
            } @else {
                button type="submit" class=(class) { (label) }
            }
        }
    }
}

/// The line a form shows when the administrator lacks the privilege it needs.
pub fn needs(privilege: &str) -> Markup {
    html! {
        p.needs {
            "Needs the privilege " code { (privilege) } ", which your account does not hold. "
            "An administrator who holds " code { "config/edit" } " can give it on the Grants page."
        }
    }
}

/// Text with every non-ASCII character marked visibly (issue 11, point 7): a look-alike
/// such as a Cyrillic `а` in `аdmin@example.org` shows highlighted with its code point as a
/// tooltip, and an invisible one (zero-width space, bidirectional control) shows as its code
/// point, so two accounts that render alike can be told apart.
#[derive(Debug, Clone, Copy)]
pub struct Marked<'a>(pub &'a str);

impl Render for Marked<'_> {
    fn render(&self) -> Markup {
        let s = self.0;
        html! {
            @for c in s.chars() {
                @if c.is_ascii() {
                    (c)
                } @else if gatehouse_core::text::is_invisible(c) || c.is_control() || c.is_whitespace() {
                    mark.non-ascii title=(format!("invisible character U+{:04X}", u32::from(c))) {
                        (format!("U+{:04X}", u32::from(c)))
                    }
                } @else {
                    mark.non-ascii title=(format!("non-ASCII character U+{:04X}", u32::from(c))) { (c) }
                }
            }
        }
    }
}

/// Percent-encodes a value for a URL path segment or query value.
pub fn pct(s: &str) -> String {
    use std::fmt::Write as _;
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
    use std::fmt::Write as _;
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

/// A refusal of a posted form, to draw next to the field it concerns.
#[derive(Debug, Clone)]
pub struct FieldError {
    /// The field's name (as the form names it), or a name no input has (then the error is
    /// shown at the top of the form).
    pub field: String,
    /// What is wrong and how to fix it, in the panel's words.
    pub message: String,
}

/// One form on a page, as the page draws it: empty, or refilled with what was posted and the
/// error the server answered. `form` names the form, so that a page with several forms refills
/// only the one that was sent.
#[derive(Debug)]
pub struct FormView<'a> {
    /// This form's name.
    pub form: &'static str,
    posted: Option<(&'a Fields, &'a FieldError)>,
    used: Cell<bool>,
}

/// What a page was asked to draw again after a refused form.
#[derive(Debug, Clone)]
pub struct Posted {
    /// The form that was sent.
    pub form: &'static str,
    /// What was typed.
    pub fields: Fields,
    /// What the server refused.
    pub error: FieldError,
}

impl<'a> FormView<'a> {
    /// The view of form `form` for a page that may be answering a refused `posted` form.
    pub fn new(form: &'static str, posted: Option<&'a Posted>) -> Self {
        FormView {
            form,
            posted: posted
                .filter(|p| p.form == form)
                .map(|p| (&p.fields, &p.error)),
            used: Cell::new(false),
        }
    }

    /// Whether this form is the one refused.
    pub fn refused(&self) -> bool {
        self.posted.is_some()
    }

    /// The value to show in `name`: what was posted, or `default`.
    pub fn value(&self, name: &str, default: &str) -> String {
        match self.posted {
            Some((f, _)) => f.raw(name).to_owned(),
            None => default.to_owned(),
        }
    }

    /// Whether a checkbox is ticked: as posted, or `default`.
    pub fn ticked(&self, name: &str, default: bool) -> bool {
        match self.posted {
            Some((f, _)) => f.ticked(name),
            None => default,
        }
    }

    fn error_of(&self, name: &str) -> Option<&'a FieldError> {
        let (_, e) = self.posted?;
        (e.field == name).then(|| {
            self.used.set(true);
            e
        })
    }

    fn err_id(&self) -> String {
        format!("err-{}", self.form)
    }

    /// The error at the top of the form, when no field of the form drew it: call after the
    /// fields (maud evaluates in order, so draw the form's fields into a `Markup` first).
    pub fn summary(&self) -> Markup {
        match self.posted {
            Some((_, e)) if !self.used.get() => html! {
                p.field-error role="alert" id=(self.err_id()) tabindex="-1" autofocus { (e.message) }
            },
            _ => html! {},
        }
    }

    /// A labelled input.
    pub fn input(&self, spec: Input<'_>) -> Markup {
        let id = format!("f-{}-{}", self.form, spec.name);
        let value = if spec.kind == "password" {
            String::new()
        } else {
            self.value(spec.name, spec.value)
        };
        let error = self.error_of(spec.name);
        let hint_id = format!("{id}-hint");
        let described = match (error.is_some(), spec.hint.is_some()) {
            (true, true) => Some(format!("{} {hint_id}", self.err_id())),
            (true, false) => Some(self.err_id()),
            (false, true) => Some(hint_id.clone()),
            (false, false) => None,
        };
        html! {
            p.field {
                label for=(id) { (spec.label) }
                @if let Some(h) = spec.hint { span.hint id=(hint_id) { (h) } }
                @if let Some(e) = error {
                    span.field-error role="alert" id=(self.err_id()) { (e.message) }
                }
                @if spec.rows > 0 {
                    textarea id=(id) name=(spec.name) rows=(spec.rows)
                        maxlength=[spec.max] required[spec.required]
                        aria-invalid=[error.map(|_| "true")]
                        aria-describedby=[described.as_deref()]
                        autofocus[error.is_some()] { (value) }
                } @else {
                    input id=(id) name=(spec.name) type=(spec.kind) value=(value)
                        maxlength=[spec.max] pattern=[spec.pattern] required[spec.required]
                        autocomplete=[spec.autocomplete] list=[spec.list]
                        placeholder=[spec.placeholder]
                        aria-invalid=[error.map(|_| "true")]
                        aria-describedby=[described.as_deref()]
                        autofocus[error.is_some()];
                }
            }
        }
    }

    /// A labelled select; `options` are (value, label).
    pub fn select(
        &self,
        name: &str,
        label: &str,
        options: &[(String, String)],
        selected: &str,
    ) -> Markup {
        let id = format!("f-{}-{name}", self.form);
        let chosen = self.value(name, selected);
        let error = self.error_of(name);
        html! {
            p.field {
                label for=(id) { (label) }
                @if let Some(e) = error {
                    span.field-error role="alert" id=(self.err_id()) { (e.message) }
                }
                select id=(id) name=(name)
                    aria-invalid=[error.map(|_| "true")]
                    aria-describedby=[error.map(|_| self.err_id())]
                    autofocus[error.is_some()] {
                    @for (v, l) in options {
                        option value=(v) selected[*v == chosen] { (l) }
                    }
                }
            }
        }
    }

    /// A labelled checkbox.
    pub fn checkbox(&self, name: &str, label: &str, default: bool) -> Markup {
        let id = format!("f-{}-{name}", self.form);
        html! {
            p.check {
                input type="checkbox" id=(id) name=(name) value="yes" checked[self.ticked(name, default)];
                label for=(id) { (label) }
            }
        }
    }
}

/// An input's description for [`FormView::input`].
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// The field's name.
    pub name: &'a str,
    /// Its label.
    pub label: &'a str,
    /// The value shown when the form is not being refilled.
    pub value: &'a str,
    /// `text`, `email`, `password`, `search`...
    pub kind: &'a str,
    /// The server's limit (characters).
    pub max: Option<usize>,
    /// A pattern valid under the `v` flag (Chrome checks patterns with it).
    pub pattern: Option<&'a str>,
    /// Required.
    pub required: bool,
    /// `autocomplete`.
    pub autocomplete: Option<&'a str>,
    /// A `datalist` id.
    pub list: Option<&'a str>,
    /// A placeholder.
    pub placeholder: Option<&'a str>,
    /// A hint under the label.
    pub hint: Option<&'a str>,
    /// Rows, for a textarea (0: a one-line input).
    pub rows: u8,
}

impl<'a> Input<'a> {
    /// A text input named `name`.
    pub fn text(name: &'a str, label: &'a str) -> Self {
        Input {
            name,
            label,
            value: "",
            kind: "text",
            max: None,
            pattern: None,
            required: false,
            autocomplete: None,
            list: None,
            placeholder: None,
            hint: None,
            rows: 0,
        }
    }

    /// A textarea named `name`.
    pub fn area(name: &'a str, label: &'a str, rows: u8) -> Self {
        Input {
            rows,
            ..Input::text(name, label)
        }
    }

    /// With a value.
    pub fn value(self, value: &'a str) -> Self {
        Input { value, ..self }
    }

    /// Of a kind (`email`, `password`, `search`).
    pub fn kind(self, kind: &'a str) -> Self {
        Input { kind, ..self }
    }

    /// At most `max` characters.
    pub fn max(self, max: usize) -> Self {
        Input {
            max: Some(max),
            ..self
        }
    }

    /// Required.
    pub fn required(self) -> Self {
        Input {
            required: true,
            ..self
        }
    }

    /// With a pattern.
    pub fn pattern(self, pattern: &'a str) -> Self {
        Input {
            pattern: Some(pattern),
            ..self
        }
    }

    /// With `autocomplete`.
    pub fn autocomplete(self, v: &'a str) -> Self {
        Input {
            autocomplete: Some(v),
            ..self
        }
    }

    /// With a datalist.
    pub fn list(self, v: &'a str) -> Self {
        Input {
            list: Some(v),
            ..self
        }
    }

    /// With a placeholder.
    pub fn placeholder(self, v: &'a str) -> Self {
        Input {
            placeholder: Some(v),
            ..self
        }
    }

    /// With a hint.
    pub fn hint(self, v: &'a str) -> Self {
        Input {
            hint: Some(v),
            ..self
        }
    }
}

/// `yes` or `no`.
pub fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Text that is trusted markup (only for constant strings written in this crate).
pub fn trusted(s: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(s)
}

/// A date and time as the panel shows it.
pub fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn values_are_escaped_by_the_templates() {
        let m = html! { p title=("\"x'") { ("<script>alert('1')</script> & ") } };
        assert_eq!(
            m.into_string(),
            "<p title=\"&quot;x'\">&lt;script&gt;alert('1')&lt;/script&gt; &amp; </p>"
        );
    }

    #[test]
    fn non_ascii_is_marked() {
        let m = html! { (Marked("а\u{200B}b")) }.into_string();
        assert!(m.contains("U+0430"), "{m}");
        assert!(m.contains(">U+200B</mark>"), "{m}");
        assert!(m.ends_with('b'), "{m}");
    }

    #[test]
    fn percent_and_hex_round_trip() {
        assert_eq!(pct("a b/é?&"), "a%20b%2F%C3%A9%3F%26");
        let h = hex("é notice".as_bytes());
        assert_eq!(unhex(&h).unwrap(), "é notice".as_bytes());
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("abc"), None);
    }

    #[test]
    fn a_refused_form_is_refilled_and_its_error_sits_by_the_field() {
        let posted = Posted {
            form: "profile",
            fields: Fields(vec![("full_name".into(), "Ada <L>".into())]),
            error: FieldError {
                field: "full_name".into(),
                message: "too long".into(),
            },
        };
        let v = FormView::new("profile", Some(&posted));
        let m = v
            .input(Input::text("full_name", "Full name").max(255))
            .into_string();
        assert!(m.contains("value=\"Ada &lt;L&gt;\""), "{m}");
        assert!(m.contains("aria-invalid=\"true\""), "{m}");
        assert!(m.contains("too long"), "{m}");
        assert_eq!(v.summary().into_string(), "");
        // Another form on the same page is drawn empty.
        let other = FormView::new("type", Some(&posted));
        assert!(!other.refused());
        assert_eq!(other.value("full_name", "x"), "x");
    }
}
