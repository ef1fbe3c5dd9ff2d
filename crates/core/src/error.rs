//! One error type for the accounts domain. Messages are lowercase, name the bad value in
//! backticks and say how to fix it; internal details (SQL, hashes) never reach them.

use gatehouse_policy::{IdentError, PolicyErrors};

/// What went wrong in a core operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    /// Bad input: the field and a message naming the value.
    #[error("{message}")]
    Invalid {
        /// The field or argument at fault.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Something named does not exist.
    #[error("{what} `{value}` not found{hint}")]
    NotFound {
        /// What kind of thing: `user`, `role`, `user type`.
        what: &'static str,
        /// The name or id given.
        value: String,
        /// A hint, starting with `; ` when present.
        hint: String,
    },
    /// The change clashes with existing data (a taken email or username).
    #[error("{0}")]
    Conflict(String),
    /// The actor lacks a privilege (on one user of many, in a bulk action).
    #[error("{}", forbidden_message(privilege, user.as_deref()))]
    Forbidden {
        /// The privilege that was missing.
        privilege: String,
        /// The user it was missing on, when one call acted on many (`bulk_users`).
        user: Option<String>,
    },
    /// The policy file is invalid.
    #[error("{0}")]
    Policy(PolicyErrors),
    /// A failure that is not the caller's fault (database, hashing).
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    /// Bad input in `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        CoreError::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// `what` named `value` does not exist.
    pub fn not_found(what: &'static str, value: impl Into<String>) -> Self {
        CoreError::NotFound {
            what,
            value: value.into(),
            hint: String::new(),
        }
    }

    /// Whether this is the caller's fault (exit code 2) rather than an internal failure.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, CoreError::Internal(_))
    }
}

impl From<IdentError> for CoreError {
    fn from(e: IdentError) -> Self {
        let field = match e {
            IdentError::Privilege { .. } => "privilege",
            IdentError::RoleName(_) => "role",
            IdentError::TypeName(_) => "type",
            IdentError::SystemRole(_) => "system_role",
        };
        CoreError::invalid(field, e.to_string())
    }
}

impl From<crate::store::StoreError> for CoreError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Conflict { field, value } => {
                CoreError::Conflict(crate::store::conflict_message(field, &value))
            }
            crate::store::StoreError::Backend(m) => CoreError::Internal(m),
            crate::store::StoreError::SchemaTooNew { found, known } => CoreError::Internal(format!(
                "the database schema is version {found}, newer than this gatehouse knows ({known}); upgrade gatehouse"
            )),
        }
    }
}

/// ``not allowed: this needs the privilege `user/staff/edit` `` and, for one user of many,
/// ``... on user ann@example.org (id 3)``.
fn forbidden_message(privilege: &str, user: Option<&str>) -> String {
    match user {
        None => format!("not allowed: this needs the privilege `{privilege}`"),
        Some(u) => format!("not allowed: this needs the privilege `{privilege}` on user {u}"),
    }
}

/// At most the first 100 characters of `value`, with `…` when it was longer: what messages
/// show of a value (the rule of `gatehouse_policy`'s identifiers, so a 20 MB input is never
/// echoed back whole).
pub(crate) fn shorten(value: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN: usize = 100;
    match value.char_indices().nth(SHOWN) {
        None => std::borrow::Cow::Borrowed(value),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}…", &value[..cut])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ConflictField, StoreError};

    #[test]
    fn conflicts_keep_their_words_and_cut_long_values() {
        let conflict = |field, value: &str| {
            CoreError::from(StoreError::Conflict {
                field,
                value: value.to_owned(),
            })
            .to_string()
        };
        assert_eq!(
            conflict(ConflictField::Email, "a@b.org"),
            "email `a@b.org` is already taken"
        );
        assert_eq!(
            conflict(ConflictField::Username, "Ann"),
            "username `Ann` is already taken"
        );
        assert_eq!(
            conflict(ConflictField::ServiceTokenName, "repo"),
            "service token `repo` already exists"
        );
        let long = "é".repeat(150);
        let shown = format!("{}…", "é".repeat(100));
        assert_eq!(
            conflict(ConflictField::ServiceTokenName, &long),
            format!("service token `{shown}` already exists")
        );
        assert_eq!(shorten(&"x".repeat(100)), "x".repeat(100));
    }
}
