//! `gatehouse fixtures load`, one test per rule of SPEC 2.1, on the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Env;

#[test]
fn absent_users_yaml_creates_the_default_admin_and_prints_its_password_once() {
    let env = Env::new();
    let r = env.run(&["fixtures", "load", "--json"]);
    r.ok()
        .err_contains("shown once and will not be shown again");
    let report = r.json();
    assert_eq!(report["created"], 1);
    assert_eq!(report["default_admin"], "admin@inveniosoftware.org");
    let password = report["generated_password"].as_str().unwrap().to_owned();
    assert!(password.chars().count() >= 20, "{password}");
    assert!(
        r.stderr.contains(&password),
        "the password is also printed on stderr"
    );

    let show = env
        .run(&["users", "show", "admin@inveniosoftware.org", "--json"])
        .ok()
        .json();
    assert_eq!(show["active"], true);
    assert_eq!(show["confirmed"], true);
    assert_eq!(show["type"], "admin");
    assert_eq!(show["roles"], serde_json::json!(["admin"]));
    let grants = env
        .run(&[
            "access",
            "show",
            "--user",
            "admin@inveniosoftware.org",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(grants[0]["privilege"], "superuser-access");
    assert_eq!(grants[0]["effect"], "allow");
    env.run_stdin(
        &[
            "users",
            "check-login",
            "admin@inveniosoftware.org",
            "--password-stdin",
        ],
        Some(&password),
    )
    .ok();

    // A second load creates nothing and never shows a password again.
    let again = env.run(&["fixtures", "load", "--json"]);
    again.ok();
    assert!(!again.stderr.contains(&password));
    assert_eq!(again.json()["created"], 0);
    assert!(again.json().get("generated_password").is_none());
}

#[test]
fn the_config_can_set_the_default_admin_and_its_password() {
    let env = Env::new();
    env.config("[fixtures]\nadmin_email = \"boss@example.org\"\n[fixtures.passwords]\n\"BOSS@example.org\" = \"configured-secret\"\n");
    let r = env.run(&["fixtures", "load", "--json"]);
    r.ok();
    assert!(
        r.json().get("generated_password").is_none(),
        "nothing printed when the config sets it"
    );
    assert!(!r.stderr.contains("shown once"));
    env.run(&[
        "users",
        "check-login",
        "boss@example.org",
        "--password",
        "configured-secret",
    ])
    .ok();
}

#[test]
fn an_empty_users_yaml_creates_nobody() {
    for text in ["", "# nobody here\n", "[]\n"] {
        let env = Env::new();
        env.write("users.yaml", text);
        env.run(&["fixtures", "load"])
            .ok()
            .out_contains("0 created");
        assert_eq!(env.users()["total"], 0, "{text:?}");
    }
}

#[test]
fn password_precedence_config_then_file_then_random() {
    let env = Env::new();
    env.config("[fixtures.passwords]\n\"a@example.org\" = \"from-the-config\"\n");
    env.write(
        "users.yaml",
        "- email: A@Example.org\n  active: true\n  confirmed: true\n  password: from-the-file-a\n\
         - email: b@example.org\n  active: true\n  confirmed: true\n  password: from-the-file-b\n\
         - email: c@example.org\n  active: true\n  confirmed: true\n",
    );
    let r = env.run(&["fixtures", "load", "--json"]);
    r.ok();
    let entries = &r.json()["entries"];
    assert_eq!(entries[0]["password_source"], "config");
    assert_eq!(entries[1]["password_source"], "file");
    assert_eq!(entries[2]["password_source"], "random");
    assert!(
        !r.stdout.contains("from-the") && !r.stderr.contains("from-the"),
        "passwords never printed"
    );
    env.run(&[
        "users",
        "check-login",
        "a@example.org",
        "--password",
        "from-the-config",
    ])
    .ok();
    env.run(&[
        "users",
        "check-login",
        "a@example.org",
        "--password",
        "from-the-file-a",
    ])
    .code(3);
    env.run(&[
        "users",
        "check-login",
        "b@example.org",
        "--password",
        "from-the-file-b",
    ])
    .ok();
    // The random one is not shown for ordinary users (only the default admin's is).
    assert!(r.json().get("generated_password").is_none());
}

#[test]
fn a_second_load_changes_nothing_and_says_so() {
    let env = Env::new();
    env.write(
        "users.yaml",
        "- email: a@example.org\n  active: true\n  confirmed: true\n  password: password-a1\n  roles: [admin]\n",
    );
    env.run(&["fixtures", "load"])
        .ok()
        .out_contains("1 created, 0 skipped");
    let before = env.users();
    let history_before = env.run(&["history", "--limit", "0", "--json"]).ok().json();
    // Change the file: the existing user is still left alone.
    env.write(
        "users.yaml",
        "- email: A@EXAMPLE.ORG\n  active: false\n  password: other-password\n  roles: []\n",
    );
    env.run(&["fixtures", "load"])
        .ok()
        .out_contains("skipped: email already exists, nothing changed")
        .out_contains("0 created, 1 skipped");
    assert_eq!(env.users(), before);
    let history_after = env.run(&["history", "--limit", "0", "--json"]).ok().json();
    assert_eq!(history_before, history_after);
    env.run(&[
        "users",
        "check-login",
        "a@example.org",
        "--password",
        "password-a1",
    ])
    .ok();
}

#[test]
fn a_missing_role_fails_the_whole_load_and_writes_nothing() {
    let env = Env::new();
    env.run(&[
        "users",
        "create",
        "pre@example.org",
        "--password",
        "password-123",
    ])
    .ok();
    let before = env.users();
    env.write(
        "users.yaml",
        "- email: first@example.org\n  password: password-1st\n- email: second@example.org\n  roles: [no-such-role]\n",
    );
    let r = env.run(&["fixtures", "load"]);
    r.code(2)
        .err_contains("users.yaml: entry 2 (`second@example.org`): field `roles`: role `no-such-role` is not defined");
    assert_eq!(env.users(), before, "nothing of that load is written");
}

#[test]
fn a_role_defined_as_a_user_type_gets_the_seed_tip() {
    let env = Env::new();
    env.write(
        "user_roles.yaml",
        "user_roles:\n  approve-hat: [+eprint/buffer/view:editor]\n",
    );
    env.write(
        "users.yaml",
        "- email: a@example.org\n  roles: [approve-hat]\n",
    );
    env.run(&["fixtures", "load"])
        .code(2)
        .err_contains("entry 1 (`a@example.org`): field `roles`: `approve-hat` is defined under `user_roles` (a user type), not under `roles`; ensure the role is in `roles` not `user_roles`");
    assert_eq!(env.users()["total"], 0);
}

#[test]
fn bad_values_name_file_entry_and_field() {
    let env = Env::new();
    env.write(
        "users.yaml",
        "- email: ok@example.org\n- email: broken\n  username: x\n  colour: red\n",
    );
    let r = env.run(&["fixtures", "load"]);
    r.code(2)
        .err_contains("users.yaml:2: entry 2 (`broken`): field `email`: invalid email `broken`")
        .err_contains("entry 2 (`broken`): field `username`")
        .err_contains("field `colour`: unknown key `colour`")
        .err_contains("nothing was loaded");
    assert_eq!(env.users()["total"], 0);

    env.write("users.yaml", "admin@example.org:\n  active: true\n");
    env.run(&["fixtures", "load"])
        .code(2)
        .err_contains("must be a list of users, not a mapping");
}

#[test]
fn a_taken_username_fails_the_load() {
    let env = Env::new();
    env.run(&[
        "users",
        "create",
        "x@example.org",
        "--username",
        "Taken",
        "--password",
        "password-123",
    ])
    .ok();
    env.write(
        "users.yaml",
        "- email: new@example.org\n  username: taken\n",
    );
    env.run(&["fixtures", "load"])
        .code(2)
        .err_contains("entry 1 (`new@example.org`): field `username`");
    assert_eq!(env.users()["total"], 1);
}

#[test]
fn flags_default_to_false_and_yaml11_booleans_are_read() {
    let env = Env::new();
    env.write(
        "users.yaml",
        "- email: plain@example.org\n- email: yes@example.org\n  active: yes\n  confirmed: On\n",
    );
    env.run(&["fixtures", "load"]).ok();
    let plain = env
        .run(&["users", "show", "plain@example.org", "--json"])
        .ok()
        .json();
    assert_eq!(
        (plain["active"].as_bool(), plain["confirmed"].as_bool()),
        (Some(false), Some(false))
    );
    let yes = env
        .run(&["users", "show", "yes@example.org", "--json"])
        .ok()
        .json();
    assert_eq!(
        (yes["active"].as_bool(), yes["confirmed"].as_bool()),
        (Some(true), Some(true))
    );
}

#[test]
fn extensions_type_scope_allow_and_password_hash() {
    let env = Env::new();
    // A hash made by gatehouse itself, read back from a user created with a known password.
    env.write(
        "users.yaml",
        "- email: ed@example.org\n  active: true\n  confirmed: true\n  password: editor-pass\n  type: editor\n  editorial_scope: ['divisions=law']\n  allow: [administration-access]\n",
    );
    env.run(&["fixtures", "load"]).ok();
    let ed = env
        .run(&["users", "show", "ed@example.org", "--json"])
        .ok()
        .json();
    assert_eq!(ed["type"], "editor");
    assert_eq!(ed["editorial_scope"], serde_json::json!(["divisions=law"]));
    env.run(&["check", "--user", "ed@example.org", "administration-access"])
        .ok();
    let law = r#"{"dataset":"eprint","status":"buffer","fields":{"divisions":["law"]}}"#;
    let med = r#"{"dataset":"eprint","status":"buffer","fields":{"divisions":["med"]}}"#;
    assert_eq!(
        env.run(&[
            "check",
            "--user",
            "ed@example.org",
            "eprint/edit",
            "--item",
            law,
            "--json"
        ])
        .ok()
        .json()["mask"],
        8
    );
    env.run(&[
        "check",
        "--user",
        "ed@example.org",
        "eprint/edit",
        "--item",
        med,
    ])
    .code(3);
}

#[test]
fn the_sample_app_data_loads() {
    let env = Env::new();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../app_data");
    for f in ["users.yaml", "user_roles.yaml"] {
        std::fs::copy(sample.join(f), env.app_data().join(f)).unwrap();
    }
    env.run(&["policy", "validate"]).ok();
    let r = env.run(&["fixtures", "load", "--json"]);
    r.ok();
    assert!(r.json()["created"].as_u64().unwrap() >= 6);
    let buffer = r#"{"dataset":"eprint","status":"buffer"}"#;
    let d = env
        .run(&[
            "check",
            "--user",
            "reviewer@example.org",
            "eprint/move_archive",
            "--item",
            buffer,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(d["editor"], true);
    env.run(&[
        "check",
        "--user",
        "reviewer@example.org",
        "eprint/edit",
        "--item",
        buffer,
    ])
    .code(3);
    env.run(&[
        "users",
        "check-login",
        "newcomer@example.org",
        "--password",
        "whatever",
    ])
    .code(3);
}
