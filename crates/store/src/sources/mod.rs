//! Readers of the platforms Gatehouse takes users from (`gatehouse migrate-from`, issue 12):
//! each connects to the platform's own database, reads what it needs in ONE read-only
//! snapshot, and returns the neutral [`gatehouse_core::migrate::Source`] that the core
//! plans and writes. They never write to the source.
//!
//! - [`read_dspace`]: a DSpace 6 to 9 PostgreSQL database;
//! - [`read_eprints`]: an EPrints 3.3 / 3.4 MySQL or MariaDB database;
//! - [`read_invenio`]: an InvenioRDM PostgreSQL database (invenio-accounts, invenio-access).
//!
//! A source URL carries a password: every message shows it through [`redact_url`].

mod dspace;
mod eprints;
mod invenio;

pub use dspace::read_dspace;
pub use eprints::read_eprints;
pub use invenio::read_invenio;

/// Why a source could not be read. Messages never hold the URL's password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The URL is not one this reader takes.
    #[error("invalid source URL `{url}`: {why}")]
    BadUrl {
        /// The URL, password hidden.
        url: String,
        /// What is wrong.
        why: String,
    },
    /// The database could not be reached or refused the log in.
    #[error("cannot connect to the source `{url}`: {why}")]
    Unreachable {
        /// The URL, password hidden.
        url: String,
        /// The driver's reason.
        why: String,
    },
    /// A table the platform must have is not there: not that platform's database.
    #[error("the source `{url}` has no table `{table}`: is it {platform}'s database?")]
    MissingTable {
        /// The URL, password hidden.
        url: String,
        /// The table.
        table: String,
        /// The platform expected.
        platform: &'static str,
    },
    /// A query failed.
    #[error("reading the source `{url}` failed: {why}")]
    Query {
        /// The URL, password hidden.
        url: String,
        /// The driver's reason.
        why: String,
    },
}

/// `scheme://user:***@host/db`: the URL with its password hidden.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Refuses a URL whose scheme is not one of `schemes`.
fn check_scheme(url: &str, schemes: &[&str]) -> Result<(), SourceError> {
    let scheme = url.split_once("://").map(|(s, _)| s);
    match scheme {
        Some(s) if schemes.contains(&s) => Ok(()),
        _ => Err(SourceError::BadUrl {
            url: redact_url(url),
            why: format!("it must start with {}", schemes.join("://, ") + "://"),
        }),
    }
}

/// A driver error as text without the password (drivers do not echo it, but a URL inside
/// an error would be redacted all the same).
fn why(url: &str, e: &sqlx::Error) -> String {
    let text = e.to_string();
    match url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(creds, _)| creds.split_once(':'))
    {
        Some((_, password)) if !password.is_empty() => text.replace(password, "***"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_password() {
        assert_eq!(
            redact_url("postgres://dspace:s3cret@db:5432/dspace"),
            "postgres://dspace:***@db:5432/dspace"
        );
        assert_eq!(
            redact_url("mysql://root@localhost/ep"),
            "mysql://root@localhost/ep"
        );
        assert!(check_scheme("mysql://x@y/z", &["postgres", "postgresql"]).is_err());
        assert!(check_scheme("postgres://x@y/z", &["postgres", "postgresql"]).is_ok());
    }
}
