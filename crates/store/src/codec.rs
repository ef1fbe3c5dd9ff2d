//! How domain values become column values and back, the same for every backend: the
//! backend-neutral records a row decodes into ([`UserRecord`], [`CredentialRecord`]) and
//! their conversion to domain types, entry and scope lists as their printed forms, grant
//! targets as a kind and a name, the search haystack and words, expiry, and conflicts.
//!
//! The backends differ only in column types: SQLite keeps times as fixed-width RFC 3339 text
//! and lists as JSON text (helpers here), PostgreSQL as `timestamptz` and `text[]`; each
//! backend's `dialect` module says which. The shared queries decode a row through the
//! dialect into the records below, so what a stored value means, and every message about a
//! broken one, is written once.

use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use gatehouse_core::store::ConflictField;
use gatehouse_core::{
    Channel, Credential, CredentialKind, Email, NewCredential, NewUser, PasswordHash, StoreError,
    User, Username,
};
use gatehouse_policy::{Effect, GrantTarget, SystemRole, UserId};

/// The database error text for logs, for errors that are not a broken uniqueness rule.
pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A stored value that does not parse: the database was edited by hand or by a newer build.
pub(crate) fn corrupt(what: &str, value: &str, why: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored {what} `{value}` is invalid: {why}"))
}

/// `value`, given for `field`, is taken: as the caller wrote it (a username in its own case).
pub(crate) fn taken(field: ConflictField, value: &str) -> StoreError {
    StoreError::Conflict {
        field,
        value: value.to_owned(),
    }
}

/// Now, cut to whole microseconds: what a stored time can hold, so that a value the store
/// hands back equals the value read back later.
pub(crate) fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// Cuts `t` to whole microseconds.
pub(crate) fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// `2024-05-01T12:00:00.000000Z`: UTC, always six decimals, so text order is time order.
pub(crate) fn time_to_text(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads a stored time.
pub(crate) fn time_from_text(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt("time", s, e))
}

/// The printed forms of a list of values, as stored (PostgreSQL `text[]`, or inside JSON).
pub(crate) fn printed<T: ToString>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}

/// A list of printable values as a JSON array of strings (SQLite).
pub(crate) fn list_to_json<T: ToString>(items: &[T]) -> String {
    // Serializing a Vec<String> cannot fail; the fallback keeps the column valid JSON anyway.
    serde_json::to_string(&printed(items)).unwrap_or_else(|_| "[]".to_owned())
}

/// Reads a JSON array of strings (SQLite) into the printed forms.
pub(crate) fn strings_from_json(what: &str, json: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt(what, json, e))
}

/// Parses each stored printed form with `FromStr`; `what` names an item in messages.
pub(crate) fn parse_list<T>(what: &str, strings: &[String]) -> Result<Vec<T>, StoreError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    strings
        .iter()
        .map(|s| s.parse::<T>().map_err(|e| corrupt(what, s, e)))
        .collect()
}

/// A user row decoded to plain values, whatever the backend.
#[derive(Debug)]
pub(crate) struct UserRecord {
    pub(crate) id: i64,
    pub(crate) email: String,
    pub(crate) username: Option<String>,
    pub(crate) full_name: String,
    pub(crate) affiliations: String,
    pub(crate) active: bool,
    pub(crate) confirmed_at: Option<DateTime<Utc>>,
    pub(crate) password_hash: Option<String>,
    pub(crate) user_type: Option<String>,
    pub(crate) entries: Vec<String>,
    pub(crate) editorial_scope: Vec<String>,
    pub(crate) created: DateTime<Utc>,
    pub(crate) updated: DateTime<Utc>,
    pub(crate) version: i64,
}

impl UserRecord {
    /// The domain user; an error names the first stored value that does not parse.
    pub(crate) fn into_user(self) -> Result<User, StoreError> {
        Ok(User {
            id: UserId(self.id),
            email: Email::new(&self.email).map_err(|e| corrupt("email", &self.email, e))?,
            username: self
                .username
                .as_deref()
                .map(|u| Username::new(u).map_err(|e| corrupt("username", u, e)))
                .transpose()?,
            full_name: self.full_name,
            affiliations: self.affiliations,
            active: self.active,
            confirmed_at: self.confirmed_at,
            password_hash: self
                .password_hash
                .as_deref()
                .map(|h| {
                    PasswordHash::parse(h).map_err(|e| {
                        // Never put a hash in a message, not even a broken one.
                        corrupt("password hash", &format!("of user {}", self.id), e)
                    })
                })
                .transpose()?,
            user_type: self
                .user_type
                .as_deref()
                .map(|t| t.parse().map_err(|e| corrupt("user type", t, e)))
                .transpose()?,
            entries: parse_list("entry", &self.entries)?,
            editorial_scope: parse_list("editorial scope filter", &self.editorial_scope)?,
            created: self.created,
            updated: self.updated,
            version: self.version,
        })
    }
}

/// The writable fields of a stored user.
pub(crate) fn as_new(u: &User) -> NewUser {
    NewUser {
        email: u.email.clone(),
        username: u.username.clone(),
        full_name: u.full_name.clone(),
        affiliations: u.affiliations.clone(),
        active: u.active,
        confirmed_at: u.confirmed_at,
        password_hash: u.password_hash.clone(),
        user_type: u.user_type.clone(),
        entries: u.entries.clone(),
        editorial_scope: u.editorial_scope.clone(),
    }
}

/// The user as it now stands in the database, after writing `u`.
pub(crate) fn stored(
    u: NewUser,
    id: i64,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    version: i64,
) -> User {
    User {
        id: UserId(id),
        email: u.email,
        username: u.username,
        full_name: u.full_name,
        affiliations: u.affiliations,
        active: u.active,
        confirmed_at: u.confirmed_at.map(truncate),
        password_hash: u.password_hash,
        user_type: u.user_type,
        entries: u.entries,
        editorial_scope: u.editorial_scope,
        created,
        updated,
        version,
    }
}

/// A credential row decoded to plain values, whatever the backend.
#[derive(Debug)]
pub(crate) struct CredentialRecord {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) user_id: Option<i64>,
    pub(crate) name: Option<String>,
    pub(crate) privileges: Vec<String>,
    pub(crate) created: DateTime<Utc>,
    pub(crate) expires: Option<DateTime<Utc>>,
}

impl CredentialRecord {
    /// The domain credential.
    pub(crate) fn into_credential(self) -> Result<Credential, StoreError> {
        Ok(Credential {
            id: self.id,
            kind: CredentialKind::parse(&self.kind)
                .ok_or_else(|| corrupt("credential kind", &self.kind, "unknown kind"))?,
            user_id: self.user_id.map(UserId),
            name: self.name,
            privileges: parse_list("privilege", &self.privileges)?,
            created: self.created,
            expires: self.expires,
        })
    }
}

/// Refuses a credential that cannot mean anything: a session or bearer token needs a user,
/// a service token a name. (The schema has the same rules as CHECK constraints; this gives
/// the message.)
pub(crate) fn check_credential(c: &NewCredential) -> Result<(), StoreError> {
    match c.kind {
        CredentialKind::Session | CredentialKind::Bearer if c.user_id.is_none() => {
            Err(StoreError::Backend(format!(
                "cannot store a {} credential without a user",
                c.kind.as_str()
            )))
        }
        CredentialKind::Service if c.name.is_none() => Err(StoreError::Backend(
            "cannot store a service token without a name".to_owned(),
        )),
        _ => Ok(()),
    }
}

/// The credential as stored, after writing `c`.
pub(crate) fn stored_credential(c: &NewCredential, id: i64, created: DateTime<Utc>) -> Credential {
    Credential {
        id,
        kind: c.kind,
        user_id: c.user_id,
        name: c.name.clone(),
        privileges: c.privileges.clone(),
        created,
        expires: c.expires.map(truncate),
    }
}

/// Whether something that expires at `expires` is still valid at `now`: it expires at that
/// very microsecond.
pub(crate) fn live(expires: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires.is_none_or(|e| e > truncate(now))
}

/// What the search looks through: email, username, full name and affiliations, lower-cased
/// with Unicode rules (SQL `lower()` only folds ASCII), one field per line.
pub(crate) fn haystack(
    email: &str,
    username: Option<&str>,
    full_name: &str,
    affiliations: &str,
) -> String {
    let mut s = String::with_capacity(email.len() + full_name.len() + affiliations.len() + 40);
    s.push_str(email);
    s.push('\n');
    s.push_str(username.unwrap_or_default());
    s.push('\n');
    s.push_str(full_name);
    s.push('\n');
    s.push_str(affiliations);
    s.to_lowercase()
}

/// The words of a search query, lower-cased like the haystack.
pub(crate) fn search_words(text: Option<&str>) -> Vec<String> {
    text.map(|t| t.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default()
}

/// `%word%` for `LIKE ... ESCAPE '!'`, with `%`, `_` and `!` taken literally. The escape is
/// `!` rather than `\`, whose spelling in a literal depends on PostgreSQL's
/// `standard_conforming_strings`: one text for both backends.
pub(crate) fn like_contains(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 4);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '!') {
            p.push('!');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// `allow` or `deny`.
pub(crate) fn effect_to_text(e: Effect) -> &'static str {
    match e {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    }
}

/// Reads a stored effect.
pub(crate) fn effect_from_text(s: &str) -> Result<Effect, StoreError> {
    match s {
        "allow" => Ok(Effect::Allow),
        "deny" => Ok(Effect::Deny),
        other => Err(corrupt("grant effect", other, "expected `allow` or `deny`")),
    }
}

/// A grant target as stored: its kind, its name (a user id in decimal) and, for users, the
/// id again as a number so that the database can cascade deletes.
pub(crate) fn target_parts(t: &GrantTarget) -> (&'static str, String, Option<i64>) {
    match t {
        GrantTarget::User(id) => ("user", id.0.to_string(), Some(id.0)),
        GrantTarget::Role(r) => ("role", r.to_string(), None),
        GrantTarget::SystemRole(s) => ("system_role", s.as_str().to_owned(), None),
    }
}

/// Reads a stored grant target.
pub(crate) fn target_from_parts(kind: &str, name: &str) -> Result<GrantTarget, StoreError> {
    match kind {
        "user" => name
            .parse::<i64>()
            .map(|id| GrantTarget::User(UserId(id)))
            .map_err(|e| corrupt("grant user id", name, e)),
        "role" => name
            .parse()
            .map(GrantTarget::Role)
            .map_err(|e| corrupt("grant role", name, e)),
        "system_role" => name
            .parse::<SystemRole>()
            .map(GrantTarget::SystemRole)
            .map_err(|e| corrupt("grant system role", name, e)),
        other => Err(corrupt(
            "grant target kind",
            other,
            "expected `user`, `role` or `system_role`",
        )),
    }
}

/// Reads a stored channel.
pub(crate) fn channel_from_text(s: &str) -> Result<Channel, StoreError> {
    Channel::parse(s).ok_or_else(|| corrupt("history channel", s, "unknown channel"))
}

/// A count or offset from the API as a SQL integer (saturating; nobody pages past 2^63).
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A SQL count as a `u64` (negative counts do not happen; they read as zero).
pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use gatehouse_policy::Entry;

    #[test]
    fn times_are_fixed_width_and_round_trip() {
        let t = DateTime::parse_from_rfc3339("2024-05-01T12:00:00.123456789+02:00")
            .unwrap()
            .with_timezone(&Utc);
        let text = time_to_text(&truncate(t));
        assert_eq!(text, "2024-05-01T10:00:00.123456Z");
        assert_eq!(time_from_text(&text).unwrap(), truncate(t));
        let whole = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(time_to_text(&whole), "2023-11-14T22:13:20.000000Z");
    }

    #[test]
    fn like_escapes_wildcards() {
        assert_eq!(like_contains("a%b_c!d\\e"), "%a!%b!_c!!d\\e%");
        assert_eq!(like_contains("plain"), "%plain%");
    }

    #[test]
    fn search_words_and_haystack_fold_unicode() {
        assert_eq!(search_words(Some("  ÉMILE  Law ")), vec!["émile", "law"]);
        assert!(search_words(None).is_empty());
        assert_eq!(
            haystack("a@b.org", Some("Ann"), "Émile Zola", "LAW"),
            "a@b.org\nann\némile zola\nlaw"
        );
    }

    #[test]
    fn targets_round_trip() {
        for t in [
            GrantTarget::User(UserId(42)),
            GrantTarget::Role("approve-hat".parse().unwrap()),
            GrantTarget::SystemRole(SystemRole::AuthenticatedUser),
        ] {
            let (kind, name, _) = target_parts(&t);
            assert_eq!(target_from_parts(kind, &name).unwrap(), t);
        }
        assert!(target_from_parts("group", "x").is_err());
    }

    #[test]
    fn expiry_is_exclusive_and_none_never_expires() {
        let t = DateTime::from_timestamp(1_700_000_000, 500).unwrap();
        assert!(live(None, t));
        assert!(
            !live(Some(truncate(t)), t),
            "expires at that very microsecond"
        );
        assert!(live(
            Some(truncate(t) + chrono::Duration::microseconds(1)),
            t
        ));
        assert!(!live(Some(truncate(t) - chrono::Duration::seconds(1)), t));
    }

    #[test]
    fn credentials_need_a_user_or_a_name() {
        let mut c = NewCredential {
            kind: CredentialKind::Session,
            token_hash: "00".to_owned(),
            user_id: None,
            name: None,
            privileges: vec![],
            expires: None,
        };
        assert!(check_credential(&c).is_err());
        c.user_id = Some(UserId(1));
        assert!(check_credential(&c).is_ok());
        c.kind = CredentialKind::Service;
        assert!(check_credential(&c).is_err());
        c.name = Some("repo".to_owned());
        assert!(check_credential(&c).is_ok());
    }

    #[test]
    fn lists_round_trip_and_refuse_garbage() {
        let entries: Vec<Entry> = vec!["admin".parse().unwrap(), "+a/b:owner".parse().unwrap()];
        let json = list_to_json(&entries);
        assert_eq!(json, r#"["admin","+a/b:owner"]"#);
        let read = |json: &str| parse_list::<Entry>("entry", &strings_from_json("entry", json)?);
        assert_eq!(read(&json).unwrap(), entries);
        assert!(read("not json").is_err());
        assert!(read(r#"["a/b"]"#).is_err());
    }
}
