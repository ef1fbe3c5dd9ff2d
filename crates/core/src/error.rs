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
    /// The actor lacks a privilege.
    #[error("not allowed: this needs the privilege `{privilege}`")]
    Forbidden {
        /// The privilege that was missing.
        privilege: String,
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
            crate::store::StoreError::Conflict(m) => CoreError::Conflict(m),
            crate::store::StoreError::Backend(m) => CoreError::Internal(m),
            crate::store::StoreError::SchemaTooNew { found, known } => CoreError::Internal(format!(
                "the database schema is version {found}, newer than this gatehouse knows ({known}); upgrade gatehouse"
            )),
        }
    }
}
