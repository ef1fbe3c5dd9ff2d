//! EPrints 3.3 / 3.4 (MySQL or MariaDB): the `user` table, each user's `user_roles` (own
//! roles and `+`/`-` entries, in `pos` order) and `user_editperms` (editorial scope
//! searches, converted by [`gatehouse_core::migrate::editperms`]).
//!
//! Columns come from EPrints' SQL generator: `name` is `name_given` / `name_family` (and
//! `name_honourific`, `name_lineage`), `dept` and `org` come from the repository's
//! `user_fields_default.pl` and may be missing, so the reader asks which exist first.
//! EPrints has no "inactive" or "unconfirmed" account: every row can log in.

use std::collections::{BTreeSet, HashMap};

use gatehouse_core::migrate::{editperms, Platform, Skipped, Source, SourceUser};
use sqlx::mysql::MySqlConnection;
use sqlx::{Connection, Executor, Row};

use super::{check_scheme, redact_url, why, SourceError};

const PLATFORM: &str = "EPrints";

/// Reads an EPrints database at `url` (`mysql://...` or `mariadb://...`) in one consistent,
/// read-only snapshot.
pub async fn read_eprints(url: &str) -> Result<Source, SourceError> {
    check_scheme(url, &["mysql", "mariadb"])?;
    let shown = redact_url(url);
    let mysql_url = match url.strip_prefix("mariadb://") {
        Some(rest) => format!("mysql://{rest}"),
        None => url.to_owned(),
    };
    let mut conn =
        MySqlConnection::connect(&mysql_url)
            .await
            .map_err(|e| SourceError::Unreachable {
                url: shown.clone(),
                why: why(url, &e),
            })?;
    let q = |e: sqlx::Error| SourceError::Query {
        url: shown.clone(),
        why: why(url, &e),
    };
    conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .await
        .map_err(q)?;
    conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        .await
        .map_err(q)?;
    let mut columns: HashMap<String, BTreeSet<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT CAST(table_name AS CHAR) AS t, CAST(column_name AS CHAR) AS c \
         FROM information_schema.columns WHERE table_schema = DATABASE() \
         AND table_name IN ('user', 'user_roles', 'user_editperms')",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(q)?
    {
        let t: String = r.try_get("t").map_err(q)?;
        let c: String = r.try_get("c").map_err(q)?;
        columns.entry(t).or_default().insert(c);
    }
    for t in ["user", "user_roles", "user_editperms"] {
        if !columns.contains_key(t) {
            return Err(SourceError::MissingTable {
                url: shown.clone(),
                table: t.to_owned(),
                platform: PLATFORM,
            });
        }
    }
    let user_cols = columns.get("user").cloned().unwrap_or_default();
    let col = |name: &str| {
        if user_cols.contains(name) {
            format!("CAST(`{name}` AS CHAR) AS `{name}`")
        } else {
            format!("NULL AS `{name}`")
        }
    };
    let text_cols = [
        "username",
        "email",
        "usertype",
        "password",
        "name_honourific",
        "name_given",
        "name_family",
        "name_lineage",
        "dept",
        "org",
    ];
    let select = format!(
        "SELECT CAST(userid AS SIGNED) AS userid, {} FROM `user` ORDER BY userid",
        text_cols.map(col).join(", ")
    );

    // Entries and editperms first, by user.
    let mut entries: HashMap<i64, Vec<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT CAST(userid AS SIGNED) AS u, CAST(roles AS CHAR) AS v FROM user_roles \
         ORDER BY userid, pos",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(q)?
    {
        let u: i64 = r.try_get("u").map_err(q)?;
        let v: Option<String> = r.try_get("v").map_err(q)?;
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            entries.entry(u).or_default().push(v);
        }
    }
    let mut searches: HashMap<i64, Vec<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT CAST(userid AS SIGNED) AS u, CAST(editperms AS CHAR) AS v FROM user_editperms \
         ORDER BY userid, pos",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(q)?
    {
        let u: i64 = r.try_get("u").map_err(q)?;
        let v: Option<String> = r.try_get("v").map_err(q)?;
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            searches.entry(u).or_default().push(v);
        }
    }

    let mut source = Source::new(Platform::Eprints, shown.clone());
    for r in sqlx::query(&select).fetch_all(&mut conn).await.map_err(q)? {
        let id: i64 = r.try_get("userid").map_err(q)?;
        let get = |name: &str| -> Result<String, SourceError> {
            let v: Option<String> = r.try_get(name).map_err(q)?;
            Ok(v.unwrap_or_default().trim().to_owned())
        };
        let username = get("username")?;
        let key = if username.is_empty() {
            format!("userid {id}")
        } else {
            format!("userid {id} ({username})")
        };
        let email = get("email")?;
        if email.is_empty() {
            source.skipped.push(Skipped {
                kind: "user",
                subject: key,
                reason: "it has no email (Gatehouse accounts are found by email)".to_owned(),
            });
            continue;
        }
        let mut scope = Vec::new();
        let mine = searches.remove(&id).unwrap_or_default();
        for s in &mine {
            match editperms::scope_filters(s) {
                Ok(filters) => scope.extend(filters),
                Err(reason) => source.skipped.push(Skipped {
                    kind: "editperms",
                    subject: format!("{key}: search `{s}`"),
                    reason,
                }),
            }
        }
        if !mine.is_empty() && scope.is_empty() {
            // An empty scope means every item: leaving every search out would widen it.
            source.skipped.push(Skipped {
                kind: "user",
                subject: key,
                reason: format!(
                    "none of its {} editorial scope searches can be expressed, and an empty \
                     scope would mean every item; left out",
                    mine.len()
                ),
            });
            continue;
        }
        let name = [
            get("name_honourific")?,
            get("name_given")?,
            get("name_family")?,
            get("name_lineage")?,
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        let affiliations = [get("dept")?, get("org")?]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let password = get("password")?;
        let usertype = get("usertype")?;
        source.users.push(SourceUser {
            key,
            email,
            username: (!username.is_empty()).then_some(username),
            full_name: name,
            affiliations,
            active: true,
            confirmed: true,
            password_hash: (!password.is_empty()).then_some(password),
            user_type: (!usertype.is_empty()).then_some(usertype),
            roles: Vec::new(),
            entries: entries.remove(&id).unwrap_or_default(),
            editorial_scope: scope,
        });
    }
    conn.execute("COMMIT").await.map_err(q)?;
    let _ = conn.close().await;
    Ok(source)
}
