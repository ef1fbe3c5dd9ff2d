//! The commands, one file per group: turn raw arguments into validated values, call the
//! services, print the outcome (text for people, `--json` for programs).

pub mod audit;
pub mod check;
pub mod clients;
pub mod fixtures;
pub mod migrate_from;
pub mod platform;
pub mod policy;
pub mod roles;
pub mod serve;
pub mod tokens;
pub mod transfer;
pub mod users;

use std::fmt::Write as _;

use gatehouse_core::{Changed, CoreError, User, UserQuery, UserRef, UserSort};
use gatehouse_policy::TypeName;
use serde_json::json;

use crate::cli::ListArgs;
use crate::output::yes_no;
use crate::{App, Failure};

pub(crate) fn user_ref(s: &str) -> Result<UserRef, Failure> {
    s.parse::<UserRef>().map_err(Failure::Core)
}

pub(crate) fn bad(e: impl std::fmt::Display, field: &str) -> Failure {
    Failure::Core(CoreError::invalid(field, e.to_string()))
}

/// One user in a few lines for people.
pub fn user_text(u: &User) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "id:            {}", u.id);
    let _ = writeln!(s, "email:         {}", u.email);
    let _ = writeln!(
        s,
        "username:      {}",
        u.username.as_ref().map_or("-".into(), ToString::to_string)
    );
    let _ = writeln!(
        s,
        "full name:     {}",
        if u.full_name.is_empty() {
            "-"
        } else {
            &u.full_name
        }
    );
    let _ = writeln!(
        s,
        "affiliations:  {}",
        if u.affiliations.is_empty() {
            "-"
        } else {
            &u.affiliations
        }
    );
    let _ = writeln!(s, "active:        {}", yes_no(u.active));
    let _ = writeln!(
        s,
        "confirmed:     {}",
        u.confirmed_at
            .map_or("no".into(), |t| format!("yes ({})", t.to_rfc3339()))
    );
    let _ = writeln!(
        s,
        "type:          {}",
        u.user_type.as_ref().map_or("-".into(), ToString::to_string)
    );
    let roles: Vec<String> = u.entries.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        s,
        "roles:         {}",
        if roles.is_empty() {
            "-".into()
        } else {
            roles.join(", ")
        }
    );
    let scope: Vec<String> = u.editorial_scope.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        s,
        "scope:         {}",
        if scope.is_empty() {
            "- (every item)".into()
        } else {
            scope.join(" | ")
        }
    );
    let _ = writeln!(s, "created:       {}", u.created.to_rfc3339());
    let _ = write!(s, "updated:       {}", u.updated.to_rfc3339());
    s
}

pub(crate) fn changed_text(changed: Changed, yes: String, no: String) -> String {
    if changed.changed() {
        yes
    } else {
        no
    }
}

/// The order `--sort` asks for.
pub(crate) fn sort(list: &ListArgs) -> Result<UserSort, Failure> {
    list.sort.parse::<UserSort>().map_err(Failure::Core)
}

pub(crate) fn query(list: &ListArgs, text: Option<String>) -> Result<UserQuery, Failure> {
    Ok(UserQuery {
        text,
        user_type: list
            .user_type
            .as_deref()
            .map(TypeName::new)
            .transpose()
            .map_err(|e| bad(e, "type"))?,
        active: if list.active {
            Some(true)
        } else if list.inactive {
            Some(false)
        } else {
            None
        },
        confirmed: if list.confirmed {
            Some(true)
        } else if list.unconfirmed {
            Some(false)
        } else {
            None
        },
        password_scheme: list
            .password_scheme
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e| bad(e, "password-scheme"))?,
        offset: list.offset,
        limit: list.limit,
        with_entries: false,
        after_id: None,
    })
}

/// Prints the outcome of a change to one user: `yes` when it changed something, `no` when it
/// was already so, and the user as JSON.
pub(crate) fn emit_changed(app: &App, (user, changed): (User, Changed), yes: String, no: String) {
    app.out.emit(
        &changed_text(changed, yes, no),
        &json!({"changed": changed.changed(), "user": user.view()}),
    );
}

pub(crate) fn print_page(app: &App, page: &gatehouse_core::Page<User>) {
    let mut s = String::new();
    for u in &page.items {
        let _ = writeln!(
            s,
            "{:>6}  {:<32} {:<16} {:<8} {:<7} {}",
            u.id.0,
            u.email.as_str(),
            u.username
                .as_ref()
                .map_or("-".to_owned(), ToString::to_string),
            u.user_type
                .as_ref()
                .map_or("-".to_owned(), ToString::to_string),
            if u.active { "active" } else { "inactive" },
            if u.confirmed() {
                "confirmed"
            } else {
                "unconfirmed"
            },
        );
    }
    let _ = write!(s, "{} of {} users", page.items.len(), page.total);
    let views: Vec<_> = page.items.iter().map(User::view).collect();
    app.out
        .emit(&s, &json!({"total": page.total, "users": views}));
}
