//! `migrate-from dspace` on the real binary against a real PostgreSQL database holding
//! DSpace 7's own tables (a subset of its DDL, `dspace-api/.../sqlmigration/postgres`):
//! SHA-512 and unsalted MD5 hashes computed the way DSpace's `PasswordHash` does, nested
//! groups, Administrator and Anonymous. Then each original password logs in, a wrong one
//! does not, and the first log in replaces the old hash.
//!
//! Needs `GATEHOUSE_TEST_DATABASE_URL` (an admin URL); without it every test says it is
//! skipped and passes, unless `GATEHOUSE_REQUIRE_POSTGRES=1` (which `.ci/run` sets).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, Server, TestDb};
use sha2::{Digest, Sha512};

/// DSpace 7's tables, as far as `migrate-from dspace` reads them.
const DDL: &str = r#"
CREATE TABLE dspaceobject (uuid uuid PRIMARY KEY);
CREATE TABLE eperson (
    uuid uuid PRIMARY KEY REFERENCES dspaceobject(uuid),
    eperson_id integer,
    email varchar(64) UNIQUE,
    password varchar(128),
    can_log_in boolean,
    require_certificate boolean,
    self_registered boolean,
    last_active timestamp,
    sub_frequency integer,
    netid varchar(64) UNIQUE,
    salt varchar(32),
    digest_algorithm varchar(16)
);
CREATE TABLE epersongroup (
    uuid uuid PRIMARY KEY REFERENCES dspaceobject(uuid),
    eperson_group_id integer,
    permanent boolean DEFAULT false,
    name varchar(250) UNIQUE
);
CREATE TABLE epersongroup2eperson (
    eperson_group_id uuid NOT NULL REFERENCES epersongroup(uuid),
    eperson_id uuid NOT NULL REFERENCES eperson(uuid),
    PRIMARY KEY (eperson_group_id, eperson_id)
);
CREATE TABLE group2group (
    parent_id uuid NOT NULL REFERENCES epersongroup(uuid),
    child_id uuid NOT NULL REFERENCES epersongroup(uuid),
    PRIMARY KEY (parent_id, child_id)
);
CREATE TABLE metadataschemaregistry (
    metadata_schema_id integer PRIMARY KEY,
    namespace varchar(256) UNIQUE,
    short_id varchar(32) UNIQUE
);
CREATE TABLE metadatafieldregistry (
    metadata_field_id integer PRIMARY KEY,
    metadata_schema_id integer NOT NULL REFERENCES metadataschemaregistry(metadata_schema_id),
    element varchar(64),
    qualifier varchar(64),
    scope_note text
);
CREATE TABLE metadatavalue (
    metadata_value_id serial PRIMARY KEY,
    metadata_field_id integer REFERENCES metadatafieldregistry(metadata_field_id),
    text_value text,
    text_lang varchar(24),
    place integer,
    authority varchar(100),
    confidence integer DEFAULT -1,
    dspace_object_id uuid REFERENCES dspaceobject(uuid)
);
INSERT INTO metadataschemaregistry VALUES (1, 'http://dublincore.org/documents/dcmi-terms/', 'dc'),
    (2, 'http://dspace.org/eperson', 'eperson');
INSERT INTO metadatafieldregistry VALUES (64, 1, 'title', NULL, NULL),
    (129, 2, 'firstname', NULL, NULL), (130, 2, 'lastname', NULL, NULL);
"#;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// DSpace's `PasswordHash` with SHA-512: digest(salt, UTF-8 password), then 1,023 more
/// digests of the digest; password and salt stored as lowercase hex.
fn dspace_sha512(salt: &[u8], password: &str) -> String {
    let mut h = Sha512::new();
    h.update(salt);
    h.update(password.as_bytes());
    let mut x = h.finalize();
    for _ in 1..1024 {
        x = Sha512::digest(x);
    }
    hex(&x)
}

/// DSpace's old hash (empty `digest_algorithm`): one unsalted MD5 of the UTF-8 password.
fn dspace_md5(password: &str) -> String {
    use md5::Digest as _;
    hex(&md5::Md5::digest(password.as_bytes()))
}

fn sql(url: &str, statements: &str) {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(statements).execute(&mut c).await.unwrap();
    });
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// One e-person: (uuid, email, netid, can_log_in, password, salt, algorithm, first, last).
#[allow(clippy::too_many_arguments)]
fn person(
    id: &str,
    email: &str,
    netid: Option<&str>,
    can_log_in: bool,
    password: Option<&str>,
    sha512: bool,
    first: &str,
    last: &str,
) -> String {
    let salt = [7u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    let (hash, salt, alg) = match (password, sha512) {
        (None, _) => ("NULL".to_owned(), "NULL".to_owned(), "NULL".to_owned()),
        (Some(p), true) => (q(&dspace_sha512(&salt, p)), q(&hex(&salt)), q("SHA-512")),
        (Some(p), false) => (q(&dspace_md5(p)), "NULL".to_owned(), "NULL".to_owned()),
    };
    format!(
        "INSERT INTO dspaceobject VALUES ('{id}');
         INSERT INTO eperson (uuid, email, netid, can_log_in, self_registered, password, salt,
             digest_algorithm) VALUES ('{id}', {}, {}, {can_log_in}, false, {hash}, {salt}, {alg});
         INSERT INTO metadatavalue (metadata_field_id, text_value, place, dspace_object_id)
             VALUES (129, {}, 0, '{id}'), (130, {}, 0, '{id}');\n",
        q(email),
        netid.map_or("NULL".to_owned(), q),
        q(first),
        q(last)
    )
}

fn group(id: &str, name: &str) -> String {
    format!(
        "INSERT INTO dspaceobject VALUES ('{id}');
         INSERT INTO epersongroup (uuid, name, permanent) VALUES ('{id}', {}, false);\n",
        q(name)
    )
}

const ADMIN: &str = "00000000-0000-0000-0000-00000000000a";
const CURATOR: &str = "00000000-0000-0000-0000-00000000000b";
const OLD: &str = "00000000-0000-0000-0000-00000000000c";
const NETID: &str = "00000000-0000-0000-0000-00000000000d";
const SITE: &str = "00000000-0000-0000-0000-00000000000e";
const DUP1: &str = "00000000-0000-0000-0000-00000000000f";
const DUP2: &str = "00000000-0000-0000-0000-000000000010";
const G_ADMIN: &str = "00000000-0000-0000-0000-0000000000a1";
const G_ANON: &str = "00000000-0000-0000-0000-0000000000a2";
const G_EDITORS: &str = "00000000-0000-0000-0000-0000000000a3";
const G_CURATORS: &str = "00000000-0000-0000-0000-0000000000a4";
const G_SITE: &str = "00000000-0000-0000-0000-0000000000a5";

const PASSWORDS: &[(&str, &str)] = &[
    ("admin@ds.example.org", "Adm1n-pass"),
    ("curator@ds.example.org", "Ünïcödé-Pässwörd ☃"),
    ("old@ds.example.org", "123456"),
    ("site@ds.example.org", "site-admin-9"),
];

fn seed(url: &str) {
    let mut s = String::from(DDL);
    s += &person(
        ADMIN,
        "admin@ds.example.org",
        None,
        true,
        Some("Adm1n-pass"),
        true,
        "Ada",
        "Admin",
    );
    s += &person(
        CURATOR,
        "Curator@ds.example.org",
        Some("curator"),
        true,
        Some("Ünïcödé-Pässwörd ☃"),
        true,
        "Cüra",
        "Tor",
    );
    s += &person(
        OLD,
        "old@ds.example.org",
        None,
        true,
        Some("123456"),
        false,
        "Old",
        "Timer",
    );
    s += &person(
        NETID,
        "shib@ds.example.org",
        Some("shib@idp.example.org"),
        false,
        None,
        true,
        "Shib",
        "Only",
    );
    s += &person(
        SITE,
        "site@ds.example.org",
        None,
        true,
        Some("site-admin-9"),
        true,
        "Site",
        "Admin",
    );
    s += &person(
        DUP1,
        "Dup@ds.example.org",
        None,
        true,
        Some("x"),
        true,
        "D",
        "One",
    );
    s += &person(
        DUP2,
        "dup@ds.example.org",
        None,
        true,
        Some("y"),
        true,
        "D",
        "Two",
    );
    for (id, name) in [
        (G_ADMIN, "Administrator"),
        (G_ANON, "Anonymous"),
        (G_EDITORS, "Editors"),
        (G_CURATORS, "Curators of Law"),
        (G_SITE, "Site Admins"),
    ] {
        s += &group(id, name);
    }
    s += &format!(
        "INSERT INTO epersongroup2eperson VALUES ('{G_ADMIN}', '{ADMIN}'), ('{G_CURATORS}', '{CURATOR}'),
             ('{G_SITE}', '{SITE}'), ('{G_EDITORS}', '{OLD}');
         INSERT INTO group2group VALUES ('{G_EDITORS}', '{G_CURATORS}'), ('{G_ADMIN}', '{G_SITE}');\n"
    );
    sql(url, &s);
}

fn migrate(env: &Env, url: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["migrate-from", "dspace", "--source", url, "--json"];
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

fn user(env: &Env, email: &str) -> serde_json::Value {
    env.run(&["users", "show", email, "--json"]).ok().json()
}

#[test]
fn dspace_people_groups_and_passwords_move_in() {
    let Some(db) = TestDb::create("dspace", "migrate-from dspace") else {
        return;
    };
    seed(&db.url);
    let env = Env::new();

    // The plan writes nothing.
    let plan = migrate(&env, &db.url, &["--plan"]);
    assert_eq!(plan["plan_only"], true, "{plan}");
    assert_eq!(plan["counts"]["users"]["source"], 7, "{plan}");
    assert_eq!(plan["counts"]["users"]["create"], 5, "{plan}");
    assert_eq!(plan["counts"]["roles"]["create"], 4, "{plan}");
    let conflicts = plan["conflicts"].as_array().unwrap();
    assert_eq!(
        conflicts
            .iter()
            .filter(|c| c["kind"] == "case_duplicate")
            .count(),
        2,
        "{plan}"
    );
    assert_eq!(env.users()["total"], 0);

    // The move.
    let done = migrate(&env, &db.url, &[]);
    assert_eq!(done["plan_only"], false, "{done}");
    assert_eq!(done["counts"]["users"]["create"], 5, "{done}");
    assert_eq!(env.users()["total"], 5);
    let curator = user(&env, "curator@ds.example.org");
    assert_eq!(curator["full_name"], "Cüra Tor", "{curator}");
    assert_eq!(curator["username"], "curator", "{curator}");
    let roles = curator["roles"].as_array().unwrap();
    assert!(roles.contains(&"Curators-of-Law".into()), "{curator}");
    assert!(
        roles.contains(&"Editors".into()),
        "nesting resolved: {curator}"
    );
    let shib = user(&env, "shib@ds.example.org");
    assert_eq!(shib["active"], false, "{shib}");
    assert_eq!(shib["username"], serde_json::Value::Null, "{shib}");
    // Administrator's members, directly or through a nested group, are superusers.
    for email in ["admin@ds.example.org", "site@ds.example.org"] {
        env.run(&["check", "--user", email, "superuser-access"])
            .ok();
    }
    env.run(&["check", "--user", "old@ds.example.org", "superuser-access"])
        .code(3);
    // Anonymous is nobody's role.
    let all = env.users().to_string();
    assert!(!all.contains("Anonymous"), "{all}");

    // Each original password, as DSpace checks it; a wrong one fails.
    for (email, password) in PASSWORDS {
        env.run_stdin(
            &["users", "check-login", email, "--password-stdin"],
            Some(password),
        )
        .ok();
        env.run_stdin(
            &["users", "check-login", email, "--password-stdin"],
            Some("wrong-password"),
        )
        .code(3);
    }
    // The first real log in replaces the old hash.
    let server = Server::start(&env);
    server.login("old@ds.example.org", "123456");
    server.stop();
    let history = env
        .run(&["history", "--user", "old@ds.example.org", "--json"])
        .ok()
        .stdout
        .clone();
    assert!(history.contains("user.password_rehashed"), "{history}");
    assert!(history.contains("dspace-md5"), "{history}");

    // Again: everything is there already.
    let again = migrate(&env, &db.url, &[]);
    assert_eq!(again["counts"]["users"]["create"], 0, "{again}");
    assert_eq!(again["counts"]["users"]["existing"], 5, "{again}");
    assert_eq!(again["counts"]["roles"]["existing"], 4, "{again}");

    // --update refreshes from the source.
    sql(
        &db.url,
        &format!(
            "UPDATE metadatavalue SET text_value = 'Renamed' WHERE dspace_object_id = '{CURATOR}' \
             AND metadata_field_id = 130"
        ),
    );
    let updated = migrate(&env, &db.url, &["--update"]);
    assert_eq!(updated["counts"]["users"]["update"], 1, "{updated}");
    assert_eq!(
        user(&env, "curator@ds.example.org")["full_name"],
        "Cüra Renamed"
    );

    // A text plan names the conflicts.
    env.run(&["migrate-from", "dspace", "--source", &db.url, "--plan"])
        .ok()
        .out_contains("[case_duplicate]");
}

#[test]
fn bad_sources_are_named_and_the_password_never_shown() {
    let mut env = Env::new();
    env.run(&[
        "migrate-from",
        "dspace",
        "--source",
        "mysql://u:pw@localhost/x",
    ])
    .code(2)
    .err_contains("must start with postgres://");
    let r = env.run(&[
        "migrate-from",
        "dspace",
        "--source",
        "postgres://dspace:hunter2-secret@127.0.0.1:1/dspace",
    ]);
    r.code(2)
        .err_contains("cannot connect to the source `postgres://dspace:***@127.0.0.1:1/dspace`");
    assert!(!r.stderr.contains("hunter2"), "{}", r.stderr);
    // The same from the environment, off the command line.
    env.extra_env.push((
        "GATEHOUSE_MIGRATE_SOURCE".into(),
        "postgres://dspace:hunter2-secret@127.0.0.1:1/dspace".into(),
    ));
    let r = env.run(&["migrate-from", "dspace", "--plan"]);
    r.code(2)
        .err_contains("cannot connect to the source `postgres://dspace:***@");
    assert!(!r.stderr.contains("hunter2"), "{}", r.stderr);
    env.extra_env.clear();
    let Some(db) = TestDb::create("notdspace", "migrate-from dspace, missing table") else {
        return;
    };
    env.run(&["migrate-from", "dspace", "--source", &db.url])
        .code(2)
        .err_contains("has no table `eperson`");
}

/// A kill at any moment leaves Gatehouse as it was or with everything: never half.
#[test]
fn a_killed_migration_leaves_all_or_nothing() {
    let Some(db) = TestDb::create("dspacekill", "migrate-from dspace, killed") else {
        return;
    };
    let mut s = String::from(DDL);
    s += "INSERT INTO dspaceobject SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid FROM generate_series(1, 20000) i;
          INSERT INTO eperson (uuid, email, can_log_in, password, salt, digest_algorithm)
          SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'))::uuid,
                 'p' || i || '@ds.example.org', true, md5(i::text), NULL, NULL
          FROM generate_series(1, 20000) i;";
    sql(&db.url, &s);
    // How long a whole run takes here, so that the kills land while it writes.
    let timing = Env::new();
    let started = std::time::Instant::now();
    timing
        .run(&["migrate-from", "dspace", "--source", &db.url])
        .ok();
    let whole = started.elapsed();
    assert_eq!(timing.users()["total"], 20000);

    let env = Env::new();
    env.run(&["migrate"]).ok();
    let bin = env!("CARGO_BIN_EXE_gatehouse");
    for percent in [50u32, 70, 85, 95] {
        let mut child = std::process::Command::new(bin)
            .args(["migrate-from", "dspace", "--source", &db.url])
            .current_dir(env.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(whole * percent / 100);
        let _ = child.kill();
        let _ = child.wait();
        let total = env.users()["total"].as_u64().unwrap();
        assert!(
            total == 0 || total == 20000,
            "half a migration after {percent}% of {whole:?}: {total} users"
        );
        if total == 20000 {
            break;
        }
    }
}

/// Every kind of conflict with what Gatehouse holds is listed, and its item left out.
#[test]
fn conflicts_with_gatehouse_are_listed_and_left_out() {
    let Some(db) = TestDb::create("dspaceconf", "migrate-from dspace, conflicts") else {
        return;
    };
    let mut s = String::from(DDL);
    s += &person(
        ADMIN,
        "admin@ds.example.org",
        None,
        true,
        Some("a"),
        true,
        "A",
        "A",
    );
    s += &person(
        CURATOR,
        "curator@ds.example.org",
        Some("curator"),
        true,
        Some("b"),
        true,
        "C",
        "C",
    );
    s += &person(
        OLD,
        "here@ds.example.org",
        None,
        true,
        Some("c"),
        true,
        "H",
        "H",
    );
    s += &group(G_EDITORS, "deposit");
    s += &group(G_SITE, "Fresh Group");
    s += &format!(
        "INSERT INTO epersongroup2eperson VALUES ('{G_EDITORS}', '{ADMIN}'), ('{G_SITE}', '{ADMIN}');\n"
    );
    sql(&db.url, &s);
    let env = Env::new();
    // A Cyrillic `а`: looks like admin@ds.example.org.
    env.user("\u{430}dmin@ds.example.org", &[]);
    env.user("someone@example.org", &["--username", "Curator"]);
    env.user("here@ds.example.org", &[]);

    let plan = migrate(&env, &db.url, &["--plan"]);
    let conflicts = plan["conflicts"].as_array().unwrap();
    let kinds: Vec<&str> = conflicts
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"look_alike"), "{plan}");
    assert!(kinds.contains(&"username_taken"), "{plan}");
    // `deposit` is a role of the policy (the built-in EPrints catalog): never taken over.
    assert!(kinds.contains(&"role_clash"), "{plan}");
    assert_eq!(plan["counts"]["users"]["existing"], 1, "{plan}");
    assert_eq!(plan["counts"]["users"]["create"], 0, "{plan}");
    assert_eq!(plan["counts"]["roles"]["create"], 1, "{plan}");

    let before = env.users();
    let done = migrate(&env, &db.url, &[]);
    assert_eq!(done["conflicts"], plan["conflicts"], "{done}");
    assert_eq!(env.users()["total"], before["total"]);
    // The existing account was left alone (no --update).
    let here = env
        .run(&["users", "show", "here@ds.example.org", "--json"])
        .ok()
        .json();
    assert_eq!(here["full_name"], "", "{here}");
}

/// The same move into a PostgreSQL Gatehouse (several nodes share it).
#[test]
fn dspace_moves_into_a_postgres_gatehouse_too() {
    let Some(src) = TestDb::create("dspacesrc", "migrate-from dspace into PostgreSQL") else {
        return;
    };
    let Some(dst) = TestDb::create("dspacedst", "migrate-from dspace into PostgreSQL") else {
        return;
    };
    seed(&src.url);
    let env = Env::new();
    env.run(&["--database-url", &dst.url, "migrate"]).ok();
    let args = [
        "--database-url",
        &dst.url,
        "migrate-from",
        "dspace",
        "--source",
        &src.url,
        "--json",
    ];
    let done = env.run(&args).ok().json();
    assert_eq!(done["counts"]["users"]["create"], 5, "{done}");
    assert_eq!(done["counts"]["grants"]["create"], 4, "{done}");
    let again = env.run(&args).ok().json();
    assert_eq!(again["counts"]["users"]["existing"], 5, "{again}");
    env.run_stdin(
        &[
            "--database-url",
            &dst.url,
            "users",
            "check-login",
            "curator@ds.example.org",
            "--password-stdin",
        ],
        Some("Ünïcödé-Pässwörd ☃"),
    )
    .ok();
}
