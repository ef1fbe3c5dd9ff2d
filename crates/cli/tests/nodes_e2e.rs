//! Several `gatehouse serve` nodes on one database (issue 6), on PostgreSQL and on one SQLite
//! file: a change made through one node, or by the command line beside them, is seen by the
//! very next check on the other, with no new log in, and two nodes creating the same email
//! give one user and one clean conflict.
//!
//! The PostgreSQL run needs `GATEHOUSE_TEST_DATABASE_URL` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`); it is skipped without it unless
//! `GATEHOUSE_REQUIRE_POSTGRES=1`, which `.ci/run` sets. The SQLite run always runs: it is
//! the one that exercises the WAL-index commit probe across processes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, Server, TestDb};

const ASK: &str = r#"{"privilege":"eprint/edit","item":{"dataset":"eprint","status":"buffer"}}"#;

const USERS: &str = "- email: admin@example.org\n  active: true\n  confirmed: true\n  password: admin-password\n  type: admin\n  allow: [superuser-access]\n\
         - email: ed@example.org\n  active: true\n  confirmed: true\n  password: editor-password\n  type: editor\n";

#[test]
fn two_nodes_on_one_postgresql_database_see_each_others_changes_at_once() {
    let Some(db) = TestDb::create("nodes", "PostgreSQL several-nodes test") else {
        return;
    };
    let mut env = Env::new();
    env.extra_env
        .push(("GATEHOUSE_DATABASE_URL".into(), db.url.clone()));
    env.write("users.yaml", USERS);
    // A node refuses an unmigrated database and says what to do.
    env.run(&["users", "list"])
        .code(2)
        .err_contains("run `gatehouse migrate`");
    env.run(&["migrate"])
        .ok()
        .out_contains("migrated from version 0");
    two_nodes(&env);
}

#[test]
fn two_nodes_on_one_sqlite_file_see_each_others_changes_at_once() {
    let env = Env::new();
    env.write("users.yaml", USERS);
    two_nodes(&env);
}

/// The scenario, on whatever database `env` points at (migrated).
fn two_nodes(env: &Env) {
    env.run(&["fixtures", "load"]).ok();

    let a = Server::start(env);
    let b = Server::start(env);
    let admin = a.login("admin@example.org", "admin-password");
    // Logged in on node A, the editor's token works on node B too.
    let ed = a.login("ed@example.org", "editor-password");
    let (_, d) = b.call("POST", "/api/check", Some(&ed), Some(ASK));
    assert_eq!(d["mask"], 8, "{d}");

    // A deny through node A: the next check on node B sees it.
    let deny = r#"{"effect":"deny","privilege":"eprint/edit","target":{"kind":"user","name":"ed@example.org"}}"#;
    assert_eq!(
        a.call("POST", "/api/grants", Some(&admin), Some(deny)).0,
        200
    );
    let (_, d) = b.call("POST", "/api/check", Some(&ed), Some(ASK));
    assert_eq!(d["allowed"], false, "{d}");
    let remove = r#"{"privilege":"eprint/edit","target":{"kind":"user","name":"ed@example.org"}}"#;
    assert_eq!(
        b.call("DELETE", "/api/grants", Some(&admin), Some(remove))
            .0,
        200
    );
    let (_, d) = a.call("POST", "/api/check", Some(&ed), Some(ASK));
    assert_eq!(d["allowed"], true, "{d}");

    // The command line beside the nodes (a third process) denies, then removes the deny:
    // the next check on each node sees each change.
    env.run(&["access", "deny", "eprint/edit", "user", "ed@example.org"])
        .ok();
    for node in [&a, &b] {
        let (_, d) = node.call("POST", "/api/check", Some(&ed), Some(ASK));
        assert_eq!(d["allowed"], false, "{d}");
    }
    env.run(&["access", "remove", "eprint/edit", "user", "ed@example.org"])
        .ok();
    for node in [&a, &b] {
        let (_, d) = node.call("POST", "/api/check", Some(&ed), Some(ASK));
        assert_eq!(d["mask"], 8, "{d}");
    }

    // A role created and given through node B: node A's next check sees it.
    let role = r#"{"name":"approve-hat","privileges":["eprint/archive/move_buffer:editor-not-held","eprint/buffer/move_archive:editor"]}"#;
    assert_eq!(
        b.call("POST", "/api/roles", Some(&admin), Some(role)).0,
        201
    );
    let ask_user =
        r#"{"privilege":"eprint/move_archive","item":{"dataset":"eprint","status":"buffer"}}"#;
    let dep = a.login("admin@example.org", "admin-password");
    let create =
        r#"{"email":"dep@example.org","password":"dep-password","active":true,"confirm":true}"#;
    assert_eq!(
        a.call("POST", "/api/users", Some(&dep), Some(create)).0,
        201
    );
    let dep_token = b.login("dep@example.org", "dep-password");
    assert_eq!(
        a.call("POST", "/api/check", Some(&dep_token), Some(ask_user))
            .1["allowed"],
        false
    );
    assert_eq!(
        b.call(
            "POST",
            "/api/users/dep@example.org/entries",
            Some(&admin),
            Some(r#"{"entry":"approve-hat"}"#)
        )
        .0,
        200
    );
    assert_eq!(
        a.call("POST", "/api/check", Some(&dep_token), Some(ask_user))
            .1["mask"],
        8
    );

    // Deactivated through node A: the user's token stops working on node B at once.
    assert_eq!(
        a.call(
            "POST",
            "/api/users/ed@example.org/deactivate",
            Some(&admin),
            Some("{}")
        )
        .0,
        200
    );
    assert_eq!(b.call("POST", "/api/check", Some(&ed), Some(ASK)).0, 401);

    // Two nodes creating the same email at the same time: one user, one clean conflict.
    for round in 0..5 {
        let body = format!(
            r#"{{"email":"race{round}@example.org","password":"race-password","confirm":true}}"#
        );
        let (addr_a, addr_b) = (a.addr.clone(), b.addr.clone());
        let (t_a, t_b) = (admin.clone(), admin.clone());
        let (body_a, body_b) = (body.clone(), body.clone());
        let ha = std::thread::spawn(move || {
            common::http(&addr_a, "POST", "/api/users", Some(&t_a), Some(&body_a))
        });
        let hb = std::thread::spawn(move || {
            common::http(&addr_b, "POST", "/api/users", Some(&t_b), Some(&body_b))
        });
        let (ra, rb) = (ha.join().unwrap(), hb.join().unwrap());
        let mut statuses = [ra.0, rb.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "round {round}: {ra:?} {rb:?}");
        let conflict = if ra.0 == 409 { &ra.1 } else { &rb.1 };
        assert!(
            conflict.contains("\"code\":\"conflict\"")
                && conflict.contains(&format!("race{round}@example.org")),
            "{conflict}"
        );
    }
    let (_, page) = a.call("GET", "/api/users?q=race", Some(&admin), None);
    assert_eq!(page["total"], 5);

    assert!(a.stop().success());
    assert!(b.stop().success());
}
