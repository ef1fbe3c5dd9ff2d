//! Identifiers that only hold canonical values: privileges, role names, user type names,
//! system roles and user ids.
//!
//! Every type here is built through `FromStr` (or `new`), prints with `Display` exactly what
//! it parsed, and cannot hold a value that breaks its rule. The rest of the crate can therefore
//! compare them as plain strings.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Why an identifier was refused. The message names the bad value and says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    /// A privilege that is empty, too long, has white space or control characters, or starts
    /// with `+` or `-`.
    #[error("invalid privilege `{value}`: {why}")]
    Privilege {
        /// The text as given.
        value: String,
        /// What is wrong, with a hint.
        why: &'static str,
    },
    /// A role name that breaks `^[A-Za-z][A-Za-z0-9_-]{0,79}$`.
    #[error(
        "invalid role name `{0}`: use 1 to 80 letters, digits, `_` or `-`, starting with a letter"
    )]
    RoleName(String),
    /// A user type name that breaks the role name rule.
    #[error(
        "invalid user type `{0}`: use 1 to 80 letters, digits, `_` or `-`, starting with a letter"
    )]
    TypeName(String),
    /// Not one of the system roles.
    #[error("unknown system role `{0}`: use `any_user` or `authenticated_user`")]
    SystemRole(String),
}

/// At most the first 100 characters of `value`, with `…` when it was longer: what error
/// messages show of a bad value (a 20 MB input is not echoed back whole).
pub(crate) fn shorten(value: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN: usize = 100;
    match value.char_indices().nth(SHOWN) {
        None => std::borrow::Cow::Borrowed(value),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}…", &value[..cut])),
    }
}

/// The longest privilege string accepted, in characters.
pub const MAX_PRIVILEGE_LEN: usize = 200;

/// The scope suffix of a privilege string: the only two suffixes with meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// No suffix (or a suffix other than `:owner` / `:editor`, which is part of the name).
    Plain,
    /// `:owner`: held privilege applies to items the user owns (bit 4).
    Owner,
    /// `:editor`: held privilege applies to items in the user's editorial scope (bit 8).
    Editor,
}

impl Scope {
    /// The suffix as written after the privilege, empty for `Plain`.
    pub fn suffix(self) -> &'static str {
        match self {
            Scope::Plain => "",
            Scope::Owner => ":owner",
            Scope::Editor => ":editor",
        }
    }
}

/// A privilege string such as `eprint/buffer/view:editor` or `administration-access`.
///
/// Free-form and case-sensitive; 1..=200 characters, no white space or control characters,
/// not starting with `+` or `-` (those are entry operators, not part of a privilege).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Privilege(Arc<str>);

impl Privilege {
    /// Checks `value` against the privilege rule.
    pub fn new(value: &str) -> Result<Self, IdentError> {
        let bad = |why| IdentError::Privilege {
            value: shorten(value).into_owned(),
            why,
        };
        if value.is_empty() {
            return Err(bad("a privilege cannot be empty"));
        }
        if value.chars().count() > MAX_PRIVILEGE_LEN {
            return Err(bad("a privilege has at most 200 characters"));
        }
        if value.starts_with('+') || value.starts_with('-') {
            return Err(bad(
                "`+` and `-` are entry operators, not part of a privilege; drop the sign",
            ));
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(
                "a privilege cannot contain white space or control characters",
            ));
        }
        Ok(Privilege(Arc::from(value)))
    }

    /// The privilege as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scope suffix and the privilege without it:
    /// `eprint/buffer/view:editor` -> (`eprint/buffer/view`, Editor).
    pub fn split_scope(&self) -> (&str, Scope) {
        split_scope(&self.0)
    }

    /// This privilege's base with `scope` appended.
    pub fn with_scope(&self, scope: Scope) -> String {
        let (base, _) = self.split_scope();
        format!("{base}{}", scope.suffix())
    }
}

/// Splits a `:owner` / `:editor` suffix off a privilege string.
pub fn split_scope(value: &str) -> (&str, Scope) {
    if let Some(base) = value.strip_suffix(":owner") {
        (base, Scope::Owner)
    } else if let Some(base) = value.strip_suffix(":editor") {
        (base, Scope::Editor)
    } else {
        (value, Scope::Plain)
    }
}

impl FromStr for Privilege {
    type Err = IdentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Privilege::new(s)
    }
}

impl TryFrom<String> for Privilege {
    type Error = IdentError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Privilege::new(&value)
    }
}

impl From<Privilege> for String {
    fn from(p: Privilege) -> String {
        p.0.to_string()
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Privilege({:?})", &*self.0)
    }
}

impl AsRef<str> for Privilege {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn is_name(value: &str) -> bool {
    let mut chars = value.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    value.len() <= 80 && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

macro_rules! name_type {
    ($(#[$meta:meta])* $name:ident, $err:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            /// Checks `value` against the name rule `^[A-Za-z][A-Za-z0-9_-]{0,79}$`.
            pub fn new(value: &str) -> Result<Self, IdentError> {
                if is_name(value) {
                    Ok($name(Arc::from(value)))
                } else {
                    Err(IdentError::$err(shorten(value).into_owned()))
                }
            }

            /// The name as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdentError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdentError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                $name::new(&value)
            }
        }

        impl From<$name> for String {
            fn from(n: $name) -> String {
                n.0.to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// The name of a role, such as `approve-hat` or `staff-view`.
    RoleName,
    RoleName
);
name_type!(
    /// The name of a user type (EPrints `usertype`), such as `user`, `editor`, `admin`.
    TypeName,
    TypeName
);

/// InvenioRDM's system roles that grants can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemRole {
    /// Everybody, including anonymous visitors.
    AnyUser,
    /// Every logged-in (known, active) user.
    AuthenticatedUser,
}

impl SystemRole {
    /// The name as InvenioRDM spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            SystemRole::AnyUser => "any_user",
            SystemRole::AuthenticatedUser => "authenticated_user",
        }
    }
}

impl FromStr for SystemRole {
    type Err = IdentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "any_user" => Ok(SystemRole::AnyUser),
            "authenticated_user" => Ok(SystemRole::AuthenticatedUser),
            other => Err(IdentError::SystemRole(shorten(other).into_owned())),
        }
    }
}

impl fmt::Display for SystemRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user's numeric id, as the store assigns it.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for UserId {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(UserId)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn privilege_rule_table() {
        let ok = [
            "eprint/buffer/view:editor",
            "create_user",
            "administration-access",
            "eprint/coindoiffff",
            "a",
            "x:foo",
            "ünïcode/ok",
        ];
        for p in ok {
            let parsed = Privilege::new(p);
            assert_eq!(
                parsed.as_ref().map(|p| p.as_str()),
                Ok(p),
                "{p} should parse"
            );
        }
        let bad = [
            "",
            "+eprint/view",
            "-eprint/view",
            "a b",
            "tab\there",
            "nl\n",
            "\u{7}",
        ];
        for p in bad {
            assert!(Privilege::new(p).is_err(), "{p:?} should be refused");
        }
        assert!(Privilege::new(&"a".repeat(200)).is_ok());
        assert!(Privilege::new(&"a".repeat(201)).is_err());
        // Characters, not bytes.
        assert!(Privilege::new(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn privilege_error_names_value_and_hint() {
        let err = Privilege::new("+eprint/view").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("invalid privilege `+eprint/view`: `+` and `-` are entry operators, not part of a privilege; drop the sign")
        );
    }

    #[test]
    fn scope_split() {
        let p = Privilege::new("eprint/buffer/view:editor").ok();
        assert_eq!(
            p.as_ref().map(|p| p.split_scope()),
            Some(("eprint/buffer/view", Scope::Editor))
        );
        assert_eq!(split_scope("user/view:owner"), ("user/view", Scope::Owner));
        assert_eq!(split_scope("x:foo"), ("x:foo", Scope::Plain));
        assert_eq!(split_scope("status"), ("status", Scope::Plain));
    }

    #[test]
    fn names_table() {
        for ok in [
            "approve-hat",
            "a",
            "staff-view",
            "editperms_none_by_default",
            "A1",
        ] {
            assert!(RoleName::new(ok).is_ok(), "{ok}");
            assert!(TypeName::new(ok).is_ok(), "{ok}");
        }
        let long = format!("a{}", "b".repeat(79));
        assert!(RoleName::new(&long).is_ok());
        assert!(RoleName::new(&format!("{long}c")).is_err());
        for bad in ["", "1abc", "-x", "_x", "a b", "a/b", "a.b", "ümlaut"] {
            assert!(RoleName::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn system_roles_round_trip() {
        for s in ["any_user", "authenticated_user"] {
            assert_eq!(
                s.parse::<SystemRole>().map(|r| r.to_string()),
                Ok(s.to_owned())
            );
        }
        assert!("system_process".parse::<SystemRole>().is_err());
    }
}
