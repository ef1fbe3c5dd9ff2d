//! DSpace 6 to 9 (PostgreSQL): e-people, groups and their nesting.
//!
//! - `eperson`: email, netid (the username), can_log_in (active), the password hash from
//!   `digest_algorithm`, `salt` and `password` written `dspace:ALG:SALT:HASH`; names are
//!   metadata (`eperson.firstname`, `eperson.lastname` in `metadatavalue`).
//! - `epersongroup`: each group becomes a run-time role, named from the `name` column
//!   (DSpace 6.1 and later) or its `dc.title` metadata (DSpace 6.0).
//! - `epersongroup2eperson` and `group2group`: nesting resolved, so a member of a child group
//!   is a member of every group above it.
//! - `Administrator`'s members get `administration-access` and `superuser-access` grants;
//!   `Anonymous` is everybody (`any_user`), not a role, and gives no memberships.

use std::collections::{BTreeSet, HashMap};

use gatehouse_core::migrate::{
    Platform, Skipped, Source, SourceGrant, SourceRole, SourceTarget, SourceUser,
};
use gatehouse_policy::Effect;
use sqlx::postgres::PgConnection;
use sqlx::{Connection, Executor, Row};

use super::{check_scheme, redact_url, why, SourceError};

const PLATFORM: &str = "DSpace";
const TABLES: &[&str] = &[
    "eperson",
    "epersongroup",
    "epersongroup2eperson",
    "group2group",
];

/// Reads a DSpace database at `url` (`postgres://...`) in one read-only snapshot.
pub async fn read_dspace(url: &str) -> Result<Source, SourceError> {
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
    let mut source = Source::new(Platform::Dspace, shown.clone());
    let metadata = present.contains("metadatavalue")
        && present.contains("metadatafieldregistry")
        && present.contains("metadataschemaregistry");

    // Metadata: (object, field) -> values in order.
    let mut meta: HashMap<(String, &'static str), Vec<String>> = HashMap::new();
    if metadata {
        let rows = sqlx::query(
            "SELECT v.dspace_object_id::text AS obj, s.short_id || '.' || f.element AS field, \
                    v.text_value AS value \
             FROM metadatavalue v \
             JOIN metadatafieldregistry f ON f.metadata_field_id = v.metadata_field_id \
             JOIN metadataschemaregistry s ON s.metadata_schema_id = f.metadata_schema_id \
             WHERE f.qualifier IS NULL AND ((s.short_id = 'eperson' AND f.element IN \
                   ('firstname', 'lastname')) OR (s.short_id = 'dc' AND f.element = 'title')) \
             ORDER BY v.dspace_object_id, v.place",
        )
        .fetch_all(&mut conn)
        .await
        .map_err(q)?;
        for r in rows {
            let obj: Option<String> = r.try_get("obj").map_err(q)?;
            let field: String = r.try_get("field").map_err(q)?;
            let value: Option<String> = r.try_get("value").map_err(q)?;
            let field: &'static str = match field.as_str() {
                "eperson.firstname" => "first",
                "eperson.lastname" => "last",
                _ => "title",
            };
            if let (Some(obj), Some(value)) = (obj, value) {
                meta.entry((obj, field)).or_default().push(value);
            }
        }
    }
    let meta_of = |obj: &str, field: &'static str| -> String {
        meta.get(&(obj.to_owned(), field))
            .map(|v| v.join(" "))
            .unwrap_or_default()
    };

    // Groups.
    let has_name = pg_has_column(&mut conn, "epersongroup", "name")
        .await
        .map_err(q)?;
    let sql = if has_name {
        "SELECT uuid::text AS id, name FROM epersongroup"
    } else {
        "SELECT uuid::text AS id, NULL::text AS name FROM epersongroup"
    };
    let mut group_name: HashMap<String, String> = HashMap::new();
    for r in sqlx::query(sql).fetch_all(&mut conn).await.map_err(q)? {
        let id: String = r.try_get("id").map_err(q)?;
        let name: Option<String> = r.try_get("name").map_err(q)?;
        let name = name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| meta_of(&id, "title"));
        if name.is_empty() {
            source.skipped.push(Skipped {
                kind: "role",
                subject: format!("group {id}"),
                reason: "it has no name".to_owned(),
            });
            continue;
        }
        group_name.insert(id, name);
    }
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    for r in sqlx::query("SELECT parent_id::text AS p, child_id::text AS c FROM group2group")
        .fetch_all(&mut conn)
        .await
        .map_err(q)?
    {
        let p: String = r.try_get("p").map_err(q)?;
        let c: String = r.try_get("c").map_err(q)?;
        parents.entry(c).or_default().push(p);
    }
    // Each group with every group above it (cycles are cut: DSpace refuses them, but a
    // damaged database must not hang the reader).
    let mut closure: HashMap<String, BTreeSet<String>> = HashMap::new();
    for g in group_name.keys() {
        let mut seen = BTreeSet::new();
        let mut stack = vec![g.clone()];
        while let Some(x) = stack.pop() {
            if seen.insert(x.clone()) {
                if let Some(ps) = parents.get(&x) {
                    stack.extend(ps.iter().cloned());
                }
            }
        }
        closure.insert(g.clone(), seen);
    }
    let mut direct: HashMap<String, Vec<String>> = HashMap::new();
    for r in sqlx::query(
        "SELECT eperson_group_id::text AS g, eperson_id::text AS p FROM epersongroup2eperson",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(q)?
    {
        let g: String = r.try_get("g").map_err(q)?;
        let p: String = r.try_get("p").map_err(q)?;
        direct.entry(p).or_default().push(g);
    }
    for name in group_name.values() {
        if name == "Anonymous" {
            source.skipped.push(Skipped {
                kind: "role",
                subject: "group `Anonymous`".to_owned(),
                reason: "everybody: Gatehouse's system role `any_user`, not a role; its \
                         members need no entry"
                    .to_owned(),
            });
        } else {
            source.roles.push(SourceRole {
                name: name.clone(),
                description: None,
            });
        }
    }
    source.roles.sort_by(|a, b| a.name.cmp(&b.name));

    // E-people.
    let rows = sqlx::query(
        "SELECT uuid::text AS id, email, netid, can_log_in, password, salt, digest_algorithm \
         FROM eperson ORDER BY uuid",
    )
    .fetch_all(&mut conn)
    .await
    .map_err(q)?;
    for r in rows {
        let id: String = r.try_get("id").map_err(q)?;
        let key = format!("eperson {id}");
        let email: Option<String> = r.try_get("email").map_err(q)?;
        let Some(email) = email.filter(|e| !e.is_empty()) else {
            source.skipped.push(Skipped {
                kind: "user",
                subject: key,
                reason: "it has no email (Gatehouse accounts are found by email)".to_owned(),
            });
            continue;
        };
        let netid: Option<String> = r.try_get("netid").map_err(q)?;
        let can_log_in: Option<bool> = r.try_get("can_log_in").map_err(q)?;
        let password: Option<String> = r.try_get("password").map_err(q)?;
        let salt: Option<String> = r.try_get("salt").map_err(q)?;
        let algorithm: Option<String> = r.try_get("digest_algorithm").map_err(q)?;
        let password_hash = password.filter(|p| !p.is_empty()).map(|p| {
            format!(
                "dspace:{}:{}:{p}",
                algorithm.unwrap_or_default(),
                salt.unwrap_or_default()
            )
        });
        let mut groups: BTreeSet<String> = BTreeSet::new();
        for g in direct.get(&id).into_iter().flatten() {
            for up in closure.get(g).into_iter().flatten() {
                if let Some(n) = group_name.get(up) {
                    groups.insert(n.clone());
                }
            }
        }
        if groups.contains("Administrator") {
            for p in ["administration-access", "superuser-access"] {
                source.grants.push(SourceGrant {
                    effect: Effect::Allow,
                    privilege: p.to_owned(),
                    target: SourceTarget::User(key.clone()),
                });
            }
        }
        groups.remove("Anonymous");
        let full_name = format!("{} {}", meta_of(&id, "first"), meta_of(&id, "last"))
            .trim()
            .to_owned();
        source.users.push(SourceUser {
            key,
            email,
            username: netid.filter(|n| !n.is_empty()),
            full_name,
            affiliations: String::new(),
            active: can_log_in.unwrap_or(false),
            // DSpace makes an e-person only once its address is confirmed (registration
            // tokens wait in `registrationdata`).
            confirmed: true,
            password_hash,
            user_type: None,
            roles: groups.into_iter().collect(),
            entries: Vec::new(),
            editorial_scope: Vec::new(),
        });
    }
    conn.execute("COMMIT").await.map_err(q)?;
    let _ = conn.close().await;
    Ok(source)
}

/// The tables of the current schema.
pub(super) async fn pg_tables(conn: &mut PgConnection) -> Result<BTreeSet<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT table_name::text AS t FROM information_schema.tables \
         WHERE table_schema = current_schema()",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| r.try_get::<String, _>("t")).collect()
}

/// Whether `table` has `column`.
pub(super) async fn pg_has_column(
    conn: &mut PgConnection,
    table: &str,
    column: &str,
) -> Result<bool, sqlx::Error> {
    let row = sqlx::query(
        "SELECT count(*) AS n FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
    )
    .bind(table)
    .bind(column)
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}
