//! The OpenID Connect provider against a second relying-party library nobody here wrote:
//! Python's authlib (`authlib_rp.py`), in the virtual environment `.ci/run` makes. Skipped
//! unless `GATEHOUSE_AUTHLIB_PYTHON` names that environment's python; with
//! `GATEHOUSE_REQUIRE_AUTHLIB=1` (CI) a missing one fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, Server};

#[test]
fn authlib_logs_in_with_pkce_checks_the_id_token_and_refreshes() {
    let Ok(python) = std::env::var("GATEHOUSE_AUTHLIB_PYTHON") else {
        assert!(
            std::env::var("GATEHOUSE_REQUIRE_AUTHLIB").is_err(),
            "GATEHOUSE_REQUIRE_AUTHLIB is set but GATEHOUSE_AUTHLIB_PYTHON is not"
        );
        eprintln!("skipped: GATEHOUSE_AUTHLIB_PYTHON is not set (a python with authlib)");
        return;
    };
    let env = Env::new();
    env.user("ann@example.org", &[]);
    let created = env.run(&[
        "clients",
        "create",
        "Repository",
        "--redirect-uri",
        "http://127.0.0.1:9/cb",
        "--first-party",
        "--json",
    ]);
    created.ok();
    let created = created.json();
    let server = Server::start(&env);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/authlib_rp.py");
    let out = std::process::Command::new(python)
        .args([
            script,
            &format!("http://{}", server.addr),
            created["client"]["id"].as_str().unwrap(),
            created["secret"].as_str().unwrap(),
            "ann@example.org",
            "password-123",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "authlib relying party failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
    assert!(server.stop().success());
}
