//! InvenioRDM (PostgreSQL), as invenio-accounts 2.0 and later define it (the profile in
//! `accounts_user`, InvenioRDM 10 on; tested with invenio-accounts 9.1 and invenio-access 7.1):
//!
//! - `accounts_user`: email, username, active, confirmed_at, blocked_at (a blocked account
//!   comes inactive), password (`$pbkdf2-sha512$...`, copied), and the `profile` JSON with
//!   `full_name` and `affiliations`;
//! - `accounts_role` (id, name, description): run-time roles; `accounts_userrole`
//!   (user_id, role_id): each user's role entries;
//! - `access_actionsusers` / `access_actionsroles` / `access_actionssystemroles` (action,
//!   exclude, argument, and the user, the role or the system role): `exclude` is a deny.
//!   A grant with an `argument` (an action on one object) has no meaning in Gatehouse yet:
//!   reported and left out. System roles other than `any_user` and `authenticated_user`
//!   are left out too.

use std::collections::HashMap;

use gatehouse_core::migrate::{
    Platform, Skipped, Source, SourceGrant, SourceRole, SourceTarget, SourceUser,
};
use gatehouse_policy::{Effect, SystemRole};
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor, Row};

use super::dspace::pg_tables;
use super::{check_scheme, redact_url, why, SourceError};

const PLATFORM: &str = "InvenioRDM";
const TABLES: &[&str] = &[
    "accounts_user",
    "accounts_role",
    "accounts_userrole",
    "access_actionsusers",
    "access_actionsroles",
    "access_actionssystemroles",
];

/// Reads an InvenioRDM database at `url` (`postgres://...`) in one read-only snapshot.
pub async fn read_invenio(url: &str) -> Result<Source, SourceError> {
    check_scheme(url, &["postgres", "postgresql"])?;
    let shown = redact_url(url);
    let mut conn = PgConnection::connect(url)
        .await
        .map_err(|e| SourceError::Unreachable {
            url: shown.clone(),
            why: why(url, &e),
        })?;
    let q = |e: sqlx::Error| SourceError::Query {
        url: shown.clone(),
        why: why(url, &e),
    };
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(q)?;
    let present = pg_tables(&mut conn).await.map_err(q)?;
    for t in TABLES {
        if !present.contains(*t) {
            return Err(SourceError::MissingTable {
                url: shown.clone(),
                table: (*t).to_owned(),
                platform: PLATFORM,
            });
        }
    }
    let mut source = Source::new(Platform::Invenio, shown.clone());

    let mut role_name: HashMap<String, String> = HashMap::new();
    for r in
        sqlx::query("SELECT id::text AS id, name, description FROM accounts_role ORDER BY name")
            .fetch_all(&mut conn)
            .await
            .map_err(q)?
    {
        let id: String = r.try_get("id").map_err(q)?;
        let name: Option<String> = r.try_get("name").map_err(q)?;
        let description: Option<String> = r.try_get("description").map_err(q)?;
        let name = name.filter(|n| !n.is_empty()).unwrap_or_else(|| id.clone());
        role_name.insert(id, name.clone());
        source.roles.push(SourceRole { name, description });
    }
    let mut memberships: HashMap<i64, Vec<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT user_id::bigint AS u, role_id::text AS r FROM accounts_userrole \
         ORDER BY user_id, role_id",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(q)?
    {
        let u: Option<i64> = r.try_get("u").map_err(q)?;
        let role: Option<String> = r.try_get("r").map_err(q)?;
        if let (Some(u), Some(name)) = (u, role.and_then(|r| role_name.get(&r).cloned())) {
            memberships.entry(u).or_default().push(name);
        }
    }

    for r in sqlx::query(
        "SELECT id::bigint AS id, email, username, password, active, \
                confirmed_at IS NOT NULL AS confirmed, blocked_at IS NOT NULL AS blocked, \
                profile::text AS profile \
         FROM accounts_user ORDER BY id",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(q)?
    {
        let id: i64 = r.try_get("id").map_err(q)?;
        let key = format!("accounts_user {id}");
        let email: Option<String> = r.try_get("email").map_err(q)?;
        let Some(email) = email.filter(|e| !e.is_empty()) else {
            source.skipped.push(Skipped {
                kind: "user",
                subject: key,
                reason: "it has no email (Gatehouse accounts are found by email)".to_owned(),
            });
            continue;
        };
        let username: Option<String> = r.try_get("username").map_err(q)?;
        let password: Option<String> = r.try_get("password").map_err(q)?;
        let active: Option<bool> = r.try_get("active").map_err(q)?;
        let confirmed: bool = r.try_get("confirmed").map_err(q)?;
        let blocked: bool = r.try_get("blocked").map_err(q)?;
        let profile: Option<String> = r.try_get("profile").map_err(q)?;
        let profile: serde_json::Value = profile
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default();
        let text = |k: &str| {
            profile
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .trim()
                .to_owned()
        };
        source.users.push(SourceUser {
            key,
            email,
            username: username.filter(|n| !n.is_empty()),
            full_name: text("full_name"),
            affiliations: text("affiliations"),
            active: active.unwrap_or(false) && !blocked,
            confirmed,
            password_hash: password.filter(|p| !p.is_empty()),
            user_type: None,
            roles: memberships.remove(&id).unwrap_or_default(),
            entries: Vec::new(),
            editorial_scope: Vec::new(),
        });
    }

    for (table, column, kind) in [
        ("access_actionsusers", "user_id::text", "user"),
        ("access_actionsroles", "role_id::text", "role"),
        (
            "access_actionssystemroles",
            "role_name::text",
            "system role",
        ),
    ] {
        let sql =
            format!("SELECT action, exclude, argument, {column} AS who FROM {table} ORDER BY id");
        for r in sqlx::query(&sql).fetch_all(&mut conn).await.map_err(q)? {
            let action: Option<String> = r.try_get("action").map_err(q)?;
            let exclude: Option<bool> = r.try_get("exclude").map_err(q)?;
            let argument: Option<String> = r.try_get("argument").map_err(q)?;
            let who: Option<String> = r.try_get("who").map_err(q)?;
            let (Some(action), Some(who)) = (action, who) else {
                continue;
            };
            let effect = if exclude.unwrap_or(false) {
                Effect::Deny
            } else {
                Effect::Allow
            };
            let subject = format!("{table}: {effect} `{action}` to {kind} `{who}`");
            if let Some(arg) = argument {
                source.skipped.push(Skipped {
                    kind: "grant",
                    subject,
                    reason: format!(
                        "it is limited to the argument `{arg}`, which Gatehouse grants cannot \
                         hold; left out rather than given for everything"
                    ),
                });
                continue;
            }
            let target = match kind {
                "user" => SourceTarget::User(format!("accounts_user {who}")),
                "role" => match role_name.get(&who) {
                    Some(n) => SourceTarget::Role(n.clone()),
                    None => continue,
                },
                _ => match who.parse::<SystemRole>() {
                    Ok(s) => SourceTarget::SystemRole(s),
                    Err(_) => {
                        source.skipped.push(Skipped {
                            kind: "grant",
                            subject,
                            reason: "Gatehouse knows the system roles `any_user` and \
                                     `authenticated_user` only"
                                .to_owned(),
                        });
                        continue;
                    }
                },
            };
            source.grants.push(SourceGrant {
                effect,
                privilege: action,
                target,
            });
        }
    }
    conn.execute("COMMIT").await.map_err(q)?;
    let _ = conn.close().await;
    Ok(source)
}
