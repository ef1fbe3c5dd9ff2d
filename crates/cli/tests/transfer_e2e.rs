//! `gatehouse export` and `gatehouse import` with the real binary: a varied SQLite database
//! survives SQLite -> SQLite and SQLite -> PostgreSQL -> SQLite unchanged (the exports
//! compare equal but for the header's `store` and `exported_at`), users still log in, the
//! service token still works, checks answer the same; and every refusal exits 2 writing
//! nothing.
//!
//! The PostgreSQL part needs `GATEHOUSE_TEST_DATABASE_URL`; it is skipped without it unless
//! `GATEHOUSE_REQUIRE_POSTGRES=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, Server, TestDb};

const ITEM: &str =
    r#"{"dataset":"eprint","status":"buffer","owners":[3],"fields":{"subjects":["law"]}}"#;

/// What `check` answers for each of these questions, to compare databases.
const QUESTIONS: &[(&str, &str)] = &[
    ("admin@example.org", "eprint/edit"),
    ("ann@example.org", "eprint/edit"),
    ("ann@example.org", "eprint/view"),
    ("ann@example.org", "toolbox"),
    ("ann@example.org", "eprint/move_archive"),
    ("bob@example.org", "toolbox"),
    ("ed@example.org", "eprint/edit"),
];

/// Loads a database with something of every kind; returns the service token.
fn load_varied(env: &Env) -> String {
    let hash = env
        .run(&["users", "hash-password", "--password", "hashed-pass-1"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    env.write(
        "users.yaml",
        &format!(
            "- email: admin@example.org\n  active: true\n  confirmed: true\n  password: admin-password\n  type: admin\n  allow: [superuser-access]\n\
             - email: ed@example.org\n  username: EdTor\n  active: true\n  confirmed: true\n  password_hash: \"{hash}\"\n  type: editor\n  editorial_scope: [\"subjects=law\"]\n"
        ),
    );
    env.run(&["fixtures", "load"]).ok();
    env.user(
        "ann@example.org",
        &[
            "--username",
            "Ann",
            "--full-name",
            "Ann Émile \"Zola\"",
            "--affiliations",
            "Law; History",
            "--type",
            "user",
            "--role",
            "+eprint/view",
            "--role",
            "-eprint/edit:owner",
        ],
    );
    env.run(&["users", "create", "bob@example.org", "--random"])
        .ok();
    env.run(&[
        "users",
        "set-scope",
        "ann@example.org",
        "--filter",
        "subjects=law,hist;divisions=x",
        "--filter",
        "subjects=art",
    ])
    .ok();
    env.run(&[
        "roles",
        "create",
        "approve-hat",
        "-d",
        "moves buffer items",
        "--privilege",
        "eprint/buffer/move_archive:editor",
        "--privilege",
        "-eprint/edit",
    ])
    .ok();
    env.run(&["roles", "add", "ann@example.org", "approve-hat"])
        .ok();
    env.run(&["access", "allow", "eprint/edit", "user", "ann@example.org"])
        .ok();
    env.run(&["access", "deny", "toolbox", "user", "bob@example.org"])
        .ok();
    env.run(&["access", "allow", "eprint/view", "role", "approve-hat"])
        .ok();
    env.run(&[
        "access",
        "allow",
        "toolbox",
        "system-role",
        "authenticated_user",
    ])
    .ok();
    // Deleting a user leaves a gap in the ids, which the import must keep.
    env.run(&["users", "create", "gone@example.org", "--random"])
        .ok();
    env.run(&["users", "delete", "gone@example.org"]).ok();
    env.run(&["users", "create", "cy@example.org", "--random"])
        .ok();
    env.run(&["tokens", "create", "repo", "--privilege", "check/any"])
        .ok()
        .stdout
        .trim()
        .to_owned()
}

/// `check --json` for every question: (exit code, answer).
fn answers(env: &Env) -> Vec<(i32, String)> {
    QUESTIONS
        .iter()
        .map(|(user, privilege)| {
            let r = env.run(&["--json", "check", "--user", user, privilege, "--item", ITEM]);
            assert!(r.code == 0 || r.code == 3, "{r:?}");
            (r.code, r.stdout)
        })
        .collect()
}

/// Exports `env`'s database to `file` in its directory and returns the text.
fn export(env: &Env, file: &str) -> String {
    let r = env.run(&["--json", "export", file]);
    r.ok();
    let summary = r.json();
    assert_eq!(summary["counts"]["user"], 5, "{summary}");
    std::fs::read_to_string(env.path().join(file)).unwrap()
}

/// The export without the header's `store` and `exported_at`.
fn comparable(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let fields = header.as_object_mut().unwrap();
    assert!(fields.remove("store").is_some() && fields.remove("exported_at").is_some());
    lines[0] = header.to_string();
    lines
}

/// Imports `text` into `env`, writing it to `file` first.
fn import(env: &Env, file: &str, text: &str) -> serde_json::Value {
    std::fs::write(env.path().join(file), text).unwrap();
    let r = env.run(&["--json", "import", file]);
    r.ok();
    r.json()
}

/// What must hold in a database that received the export.
fn check_imported(env: &Env, token: &str, want: &[(i32, String)]) {
    env.run(&[
        "users",
        "check-login",
        "admin@example.org",
        "--password",
        "admin-password",
    ])
    .ok();
    env.run(&[
        "users",
        "check-login",
        "ed@example.org",
        "--password",
        "hashed-pass-1",
    ])
    .ok();
    env.run(&[
        "users",
        "check-login",
        "ann@example.org",
        "--password",
        "password-123",
    ])
    .ok();
    env.run(&["tokens", "list"]).ok().out_contains("repo");
    assert_eq!(answers(env), want);
    assert!(!token.is_empty());
    // New users never take an imported id.
    let r = env.run(&["--json", "users", "create", "new@example.org", "--random"]);
    r.ok();
    let id = r.json()["user"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{r:?}"));
    assert!(id > 6, "id {id} after the imported ones");
}

#[test]
fn sqlite_round_trip_is_identical_and_everything_still_works() {
    let a = Env::new();
    let token = load_varied(&a);
    let want = answers(&a);
    let original = export(&a, "a.jsonl");
    assert!(original.lines().count() > 20, "{original}");
    // Standard output gives the same records.
    let stdout = a.run(&["export"]).ok().stdout.clone();
    assert_eq!(comparable(&stdout), comparable(&original));

    let b = Env::new();
    let report = import(&b, "a.jsonl", &original);
    assert_eq!(report["counts"]["user"], 5, "{report}");
    assert_eq!(report["source_store"], "sqlite");
    let again = export(&b, "b.jsonl");
    assert_eq!(comparable(&again), comparable(&original));

    // The service token made on A works on B.
    let server = Server::start(&b);
    let (status, body) = server.call(
        "POST",
        "/api/check",
        Some(&token),
        Some(r#"{"privilege":"eprint/view","user":"ann@example.org"}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert!(server.stop().success());
    check_imported(&b, &token, &want);
}

#[test]
fn sqlite_to_postgres_to_sqlite_round_trip_is_identical() {
    let Some(db) = TestDb::create("transfer", "PostgreSQL export/import round trip") else {
        return;
    };
    let a = Env::new();
    let token = load_varied(&a);
    let want = answers(&a);
    let original = export(&a, "a.jsonl");

    let mut p = Env::new();
    p.extra_env
        .push(("GATEHOUSE_DATABASE_URL".into(), db.url.clone()));
    p.run(&["migrate"]).ok();
    import(&p, "a.jsonl", &original);
    let on_postgres = export(&p, "p.jsonl");
    assert!(on_postgres
        .lines()
        .next()
        .unwrap()
        .contains("\"store\":\"postgres\""));
    assert_eq!(comparable(&on_postgres), comparable(&original));
    // Import into a database that holds data is refused and changes nothing.
    p.run(&["import", "a.jsonl"])
        .code(2)
        .err_contains("the target database is not empty; import needs an empty database");

    let c = Env::new();
    import(&c, "p.jsonl", &on_postgres);
    let back = export(&c, "c.jsonl");
    assert_eq!(comparable(&back), comparable(&original));

    check_imported(&p, &token, &want);
    check_imported(&c, &token, &want);
}

#[test]
fn refusals_exit_2_and_write_nothing() {
    let a = Env::new();
    load_varied(&a);
    let original = export(&a, "a.jsonl");

    // Into a database that is not empty.
    a.run(&["import", "a.jsonl"])
        .code(2)
        .err_contains("the target database is not empty; import needs an empty database");

    let b = Env::new();
    let lines: Vec<&str> = original.lines().collect();
    let n = lines.len();

    // Truncated: the end line is missing.
    std::fs::write(b.path().join("cut.jsonl"), lines[..n - 3].join("\n")).unwrap();
    b.run(&["import", "cut.jsonl"])
        .code(2)
        .err_contains("without its `end` line: it is truncated");

    // Wrong counts.
    let mut fewer = lines.clone();
    fewer.remove(n - 2);
    std::fs::write(b.path().join("fewer.jsonl"), fewer.join("\n")).unwrap();
    b.run(&["import", "fewer.jsonl"])
        .code(2)
        .err_contains(&format!("line {}: the `end` line counts", n - 1));

    // A bad line names its number and never echoes the hash in it.
    let mut bad = lines.clone();
    let broken = lines[2].replace("$argon2id$", "$md5$");
    bad[2] = &broken;
    std::fs::write(b.path().join("bad.jsonl"), bad.join("\n")).unwrap();
    let r = b.run(&["import", "bad.jsonl"]);
    r.code(2)
        .err_contains("bad.jsonl: line 3: field `password_hash` of a `user` record");
    assert!(!r.stderr.contains("$md5$"), "{}", r.stderr);

    // Broken JSON, an unknown record type, a header from the future.
    let mut json = lines.clone();
    json[4] = "{\"type\":\"role\",";
    std::fs::write(b.path().join("json.jsonl"), json.join("\n")).unwrap();
    b.run(&["import", "json.jsonl"])
        .code(2)
        .err_contains("line 5: not valid JSON");
    let future = original.replacen("\"version\":2", "\"version\":3", 1);
    std::fs::write(b.path().join("future.jsonl"), future).unwrap();
    b.run(&["import", "future.jsonl"])
        .code(2)
        .err_contains("line 1: export format version 3 is not supported");
    std::fs::write(b.path().join("other.jsonl"), "hello\n").unwrap();
    b.run(&["import", "other.jsonl"])
        .code(2)
        .err_contains("line 1: this is not a gatehouse export");

    // Nothing was written by any of them: the full file still imports.
    assert_eq!(b.users()["total"], 0, "{}", b.users());
    import(&b, "a.jsonl", &original);
}

/// Issue 10 D / issue 11 point 9: an export holds password and token hashes. Written over an
/// existing world-readable file, the file ends readable by its owner only; written at a path
/// that is a symbolic link, the link is replaced, and the file it pointed to is untouched.
#[cfg(unix)]
#[test]
fn export_is_private_even_over_an_existing_file_or_a_link() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let a = Env::new();
    load_varied(&a);
    let open = a.path().join("open.jsonl");
    std::fs::write(&open, "old").unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    export(&a, "open.jsonl");
    let mode = std::fs::metadata(&open).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "export left mode {mode:o}");
    assert!(std::fs::read_to_string(&open)
        .unwrap()
        .starts_with("{\"format\":\"gatehouse-export\""));

    let victim = a.path().join("victim.txt");
    std::fs::write(&victim, "keep me").unwrap();
    symlink(&victim, a.path().join("link.jsonl")).unwrap();
    export(&a, "link.jsonl");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    let link = std::fs::symlink_metadata(a.path().join("link.jsonl")).unwrap();
    assert!(
        link.file_type().is_file(),
        "the link was followed, not replaced"
    );
    assert_eq!(link.permissions().mode() & 0o777, 0o600);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(a.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
