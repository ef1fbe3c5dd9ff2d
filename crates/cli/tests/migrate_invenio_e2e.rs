//! `migrate-from invenio` on the real binary against a PostgreSQL database made by the real
//! invenio-accounts and invenio-access packages (`tests/data/invenio/make_invenio_db.py`, run
//! with the Python of a virtual environment that `.ci/run` builds from PyPI, pinned): users
//! created through invenio-accounts' datastore with passwords hashed by Flask-Security's own
//! `hash_password` under a known SECRET_KEY, roles and memberships through the datastore,
//! action grants through invenio-access. Then each original password logs in to Gatehouse,
//! a wrong one does not, and the first log in replaces the hash.
//!
//! Needs `GATEHOUSE_TEST_DATABASE_URL` and `GATEHOUSE_INVENIO_PYTHON` (that virtual
//! environment's `python`); without them the test says it is skipped and passes, unless
//! `GATEHOUSE_REQUIRE_INVENIO=1` (which `.ci/run` sets).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, Server, TestDb};

const SECRET_KEY: &str = "migrate-test-secret-key-0123456789";

fn python() -> Option<String> {
    match std::env::var("GATEHOUSE_INVENIO_PYTHON") {
        Ok(p) => Some(p),
        Err(_) => {
            if std::env::var("GATEHOUSE_REQUIRE_INVENIO").as_deref() == Ok("1") {
                panic!("GATEHOUSE_REQUIRE_INVENIO=1 but GATEHOUSE_INVENIO_PYTHON is not set");
            }
            println!("skipped: GATEHOUSE_INVENIO_PYTHON is not set (migrate-from invenio)");
            None
        }
    }
}

fn make_db(python: &str, url: &str) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/invenio/make_invenio_db.py"
    );
    // SQLAlchemy spells the scheme `postgresql://`.
    let sa_url = url.replacen("postgres://", "postgresql://", 1);
    let out = std::process::Command::new(python)
        .args([script, &sa_url, SECRET_KEY])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make_invenio_db.py: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn migrate(env: &Env, url: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["migrate-from", "invenio", "--source", url, "--json"];
    args.extend_from_slice(extra);
    env.run(&args).ok().json()
}

#[test]
fn invenio_accounts_roles_grants_and_passwords_move_in() {
    let Some(python) = python() else {
        return;
    };
    let Some(db) = TestDb::create("invenio", "migrate-from invenio") else {
        return;
    };
    make_db(&python, &db.url);
    let env = Env::new();

    // Without the instance's salt the hashes cannot be verified: every account is listed.
    let plan = migrate(&env, &db.url, &["--plan"]);
    assert_eq!(plan["counts"]["users"]["skipped"], 3, "{plan}");
    assert!(
        plan["conflicts"]
            .to_string()
            .contains("legacy.invenio_password_salt"),
        "{plan}"
    );

    env.config(&format!(
        "[legacy]\ninvenio_password_salt = \"{SECRET_KEY}\"\n"
    ));
    let plan = migrate(&env, &db.url, &["--plan"]);
    assert_eq!(plan["counts"]["users"]["create"], 3, "{plan}");
    assert_eq!(plan["counts"]["roles"]["create"], 2, "{plan}");
    assert_eq!(plan["counts"]["grants"]["create"], 5, "{plan}");
    assert!(plan["skipped"].to_string().contains("rec-12"), "{plan}");
    assert_eq!(env.users()["total"], 0);

    let done = migrate(&env, &db.url, &[]);
    assert_eq!(done["counts"]["users"]["create"], 3, "{done}");
    let alice = env
        .run(&["users", "show", "alice@inv.example.org", "--json"])
        .ok()
        .json();
    assert_eq!(alice["full_name"], "Alice Liddell", "{alice}");
    assert_eq!(alice["affiliations"], "CERN", "{alice}");
    assert_eq!(alice["confirmed"], true, "{alice}");
    assert_eq!(
        alice["roles"],
        serde_json::json!(["Site-Administrators"]),
        "{alice}"
    );
    let carol = env
        .run(&["users", "show", "carol@inv.example.org", "--json"])
        .ok()
        .json();
    assert_eq!(carol["active"], false, "{carol}");
    assert_eq!(carol["confirmed"], false, "{carol}");
    // The role's grant reaches its member; the deny reaches its user.
    env.run(&[
        "check",
        "--user",
        "alice@inv.example.org",
        "superuser-access",
    ])
    .ok();
    env.run(&["check", "--user", "bob@inv.example.org", "community-curate"])
        .ok();
    env.run(&[
        "check",
        "--user",
        "carol@inv.example.org",
        "community-curate",
    ])
    .code(3);

    for (email, password) in [
        ("alice@inv.example.org", "alice-Pass-1"),
        ("bob@inv.example.org", "bøb-pässwörd ☃"),
    ] {
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
    let server = Server::start(&env);
    server.login("alice@inv.example.org", "alice-Pass-1");
    server.stop();
    let history = env
        .run(&["history", "--user", "alice@inv.example.org", "--json"])
        .ok()
        .stdout
        .clone();
    assert!(history.contains("user.password_rehashed"), "{history}");
    assert!(history.contains("invenio-pbkdf2-sha512"), "{history}");

    let again = migrate(&env, &db.url, &[]);
    assert_eq!(again["counts"]["users"]["existing"], 3, "{again}");
    assert_eq!(again["counts"]["grants"]["create"], 0, "{again}");
}
