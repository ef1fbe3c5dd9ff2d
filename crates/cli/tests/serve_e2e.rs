//! `gatehouse serve` as a real process on a free port: log in over HTTP, check, a graceful
//! shutdown on SIGTERM, and the policy file read again on SIGHUP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, Server};

#[test]
fn the_real_binary_serves_logs_in_over_http_and_shuts_down_gracefully() {
    let env = Env::new();
    env.write(
        "users.yaml",
        "- email: ed@example.org\n  active: true\n  confirmed: true\n  password: editor-password\n  type: editor\n",
    );
    env.run(&["fixtures", "load"]).ok();
    let server = Server::start(&env);

    assert_eq!(server.call("GET", "/healthz", None, None).0, 200);
    let (status, _) = server.call(
        "POST",
        "/api/login",
        None,
        Some(r#"{"email":"ed@example.org","password":"wrong-password"}"#),
    );
    assert_eq!(status, 401);
    let (status, body) = server.call(
        "POST",
        "/api/login",
        None,
        Some(r#"{"email":"ed@example.org","password":"editor-password"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let ask = r#"{"privilege":"eprint/edit","item":{"dataset":"eprint","status":"buffer"}}"#;
    let (status, body) = server.call("POST", "/api/check", Some(&token), Some(ask));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["mask"], 8, "{body}");

    // A change made by another process (the CLI) is seen by the next check.
    env.run(&["access", "deny", "eprint/edit", "user", "ed@example.org"])
        .ok();
    let (_, body) = server.call("POST", "/api/check", Some(&token), Some(ask));
    assert_eq!(body["allowed"], false, "{body}");

    let status = server.stop();
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
}

#[test]
fn a_database_with_a_newer_schema_is_refused_with_a_clear_message() {
    let env = Env::new();
    env.run(&["migrate"])
        .ok()
        .out_contains("sqlite database schema");
    env.run(&["migrate"]).ok().out_contains("is at version");
    let db = env.path().join("gatehouse-data/gatehouse.sqlite");
    // Forge a schema version from the future, as a newer gatehouse would leave it.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query(
            "INSERT INTO schema_version (version, applied_at) \
             VALUES (999, '2099-01-01T00:00:00.000000Z')",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    });
    env.run(&["users", "list"])
        .code(2)
        .err_contains("newer than this gatehouse knows");
    env.run(&["serve", "--listen", "127.0.0.1:0"])
        .code(2)
        .err_contains("newer than this gatehouse knows");
}

/// SPEC 2.2: `serve` reads `app_data/user_roles.yaml` again on SIGHUP. A valid file changes
/// the next check of a user who stays logged in; an invalid one is refused with its problems
/// in the log, and the policy in force stays.
#[test]
fn sighup_reloads_the_policy_file_and_refuses_an_invalid_one() {
    let env = Env::new();
    env.write(
        "users.yaml",
        "- email: dep@example.org\n  active: true\n  confirmed: true\n  password: depositor-password\n",
    );
    env.run(&["fixtures", "load"]).ok();
    let server = Server::start(&env);
    let token = server.login("dep@example.org", "depositor-password");
    let ask =
        r#"{"privilege":"eprint/move_archive","item":{"dataset":"eprint","status":"buffer"}}"#;
    let mask = |s: &Server| s.call("POST", "/api/check", Some(&token), Some(ask)).1["mask"].clone();
    assert_eq!(mask(&server), 0);

    env.write(
        "user_roles.yaml",
        "roles:\n  approve-hat:\n    - eprint/buffer/view:editor\n    - eprint/buffer/move_archive:editor\n\
         user_roles:\n  user: [general, approve-hat]\n",
    );
    server.signal("HUP");
    server.wait_for("the reloaded policy", |s| mask(s) == 8);

    // A user type naming a role nobody defined: refused, and approve-hat still applies.
    env.write(
        "user_roles.yaml",
        "user_roles:\n  user: [general, no-such-role]\n",
    );
    server.signal("HUP");
    server.wait_for("the refusal in the log", |s| {
        s.log.lock().unwrap().contains("policy reload refused")
    });
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("no-such-role"), "{log}");
    assert_eq!(mask(&server), 8, "the previous policy stays in force");
    assert!(server.stop().success());
}
