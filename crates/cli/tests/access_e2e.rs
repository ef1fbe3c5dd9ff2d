//! `roles`, `access`, `check`, `privileges`, `policy` and `history` on the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Env;

const BUFFER: &str = r#"{"dataset":"eprint","status":"buffer"}"#;

#[test]
fn roles_create_is_idempotent_and_refuses_to_change_catalog_roles() {
    let env = Env::new();
    env.run(&[
        "roles",
        "create",
        "curator",
        "-d",
        "Curators",
        "--privilege",
        "eprint/archive/edit",
        "--privilege",
        "-status",
    ])
    .ok()
    .out_contains("role curator created");
    env.run(&["roles", "create", "curator"])
        .ok()
        .out_contains("already exists");
    env.run(&["roles", "create", "admin"])
        .ok()
        .out_contains("already exists (built in");
    env.run(&["roles", "create", "admin", "--privilege", "x"])
        .code(2)
        .err_contains("role `admin` is defined in built in (eprints-3.4.7.yaml line");
    env.run(&["roles", "create", "bad name"])
        .code(2)
        .err_contains("invalid role name `bad name`");
    env.run(&["roles", "create", "x", "--privilege", "+"])
        .code(2)
        .err_contains("invalid privilege");
    let show = env.run(&["roles", "show", "curator", "--json"]).ok().json();
    assert_eq!(
        show["entries"],
        serde_json::json!(["eprint/archive/edit", "-status"])
    );
    assert_eq!(show["origin"], "created at run time");
    let list = env.run(&["roles", "list", "--json"]).ok().json();
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "staff-view"));
    env.run(&["roles", "show", "nosuch"])
        .code(2)
        .err_contains("role `nosuch` not found");
    // A file role cannot be changed at run time either.
    env.write(
        "user_roles.yaml",
        "roles:\n  approve-hat: [eprint/buffer/view:editor]\n",
    );
    env.run(&["roles", "create", "approve-hat", "--privilege", "y"])
        .code(2)
        .err_contains("user_roles.yaml line 2; change it there");
}

#[test]
fn roles_add_and_remove_change_the_next_check() {
    let env = Env::new();
    env.user("u@example.org", &[]);
    env.run(&["check", "--user", "u@example.org", "toolbox"])
        .code(3);
    env.run(&["roles", "add", "u@example.org", "toolbox"])
        .ok()
        .out_contains("toolbox added");
    env.run(&["roles", "add", "u@example.org", "toolbox"])
        .ok()
        .out_contains("already has toolbox; nothing changed");
    env.run(&["check", "--user", "u@example.org", "toolbox"])
        .ok();
    env.run(&["roles", "add", "u@example.org", "-toolbox"]).ok();
    env.run(&["check", "--user", "u@example.org", "toolbox"])
        .code(3);
    env.run(&["roles", "remove", "u@example.org", "-toolbox"])
        .ok();
    env.run(&["check", "--user", "u@example.org", "toolbox"])
        .ok();
    env.run(&["roles", "remove", "u@example.org", "toolbox"])
        .ok();
    env.run(&["roles", "remove", "u@example.org", "toolbox"])
        .ok()
        .out_contains("nothing changed");
    env.run(&["roles", "add", "u@example.org", "nosuch"])
        .code(2)
        .err_contains("role `nosuch` is not defined");
    env.run(&["roles", "add", "nobody@example.org", "toolbox"])
        .code(2)
        .err_contains("not found");
    // Membership through the user type does not count as the user's own entry.
    env.run(&["roles", "add", "u@example.org", "deposit"])
        .ok()
        .out_contains("deposit added");
}

#[test]
fn access_allow_administration_access_as_in_the_seed() {
    let env = Env::new();
    env.user("staff@example.org", &[]);
    env.run(&[
        "check",
        "--user",
        "staff@example.org",
        "administration-access",
    ])
    .code(3);
    env.run(&[
        "access",
        "allow",
        "administration-access",
        "user",
        "STAFF@example.org",
    ])
    .ok()
    .out_contains("allowed");
    env.run(&[
        "access",
        "allow",
        "administration-access",
        "user",
        "staff@example.org",
    ])
    .ok()
    .out_contains("nothing changed");
    env.run(&[
        "check",
        "--user",
        "staff@example.org",
        "administration-access",
    ])
    .ok();
    env.run(&["access", "show", "--user", "staff@example.org"])
        .ok()
        .out_contains("user:staff@example.org:administration-access:allow");
    env.run(&[
        "access",
        "remove",
        "administration-access",
        "user",
        "staff@example.org",
    ])
    .ok();
    env.run(&[
        "access",
        "remove",
        "administration-access",
        "user",
        "staff@example.org",
    ])
    .ok()
    .out_contains("nothing changed");
    env.run(&[
        "check",
        "--user",
        "staff@example.org",
        "administration-access",
    ])
    .code(3);
}

#[test]
fn access_errors_name_the_value() {
    let env = Env::new();
    env.run(&["access", "allow", "x", "user", "ghost@example.org"])
        .code(2)
        .err_contains("user `ghost@example.org` not found");
    env.run(&["access", "allow", "x", "role", "ghosts"])
        .code(2)
        .err_contains("role `ghosts` not found");
    env.run(&["access", "allow", "x", "system-role", "everyone"])
        .code(2)
        .err_contains("unknown system role `everyone`");
    env.run(&["access", "allow", "+x", "system-role", "any_user"])
        .code(2)
        .err_contains("invalid privilege `+x`");
    env.run(&["access", "allow", "x", "group", "y"]).code(2);
}

#[test]
fn a_deny_always_wins_and_is_seen_at_once() {
    let env = Env::new();
    env.user("ed@example.org", &["--type", "editor"]);
    assert_eq!(
        env.run(&[
            "check",
            "--user",
            "ed@example.org",
            "eprint/edit",
            "--item",
            BUFFER,
            "--json"
        ])
        .ok()
        .json()["mask"],
        8
    );
    env.run(&["access", "deny", "eprint/edit", "role", "editor"])
        .ok();
    let d = env.run(&[
        "check",
        "--user",
        "ed@example.org",
        "eprint/edit",
        "--item",
        BUFFER,
        "--json",
    ]);
    d.code(3);
    let reasons = d.json()["reasons"].to_string();
    assert!(
        reasons.contains("removed by a deny of `eprint/edit` to role `editor`"),
        "{reasons}"
    );
    env.run(&["access", "remove", "eprint/edit", "role", "editor"])
        .ok();
    env.run(&[
        "check",
        "--user",
        "ed@example.org",
        "eprint/edit",
        "--item",
        BUFFER,
    ])
    .ok();
    // System roles: any_user deny removes a public privilege for everybody.
    env.run(&["check", "--anonymous", "eprint/archive/view"])
        .ok();
    env.run(&[
        "access",
        "deny",
        "eprint/archive/view",
        "system-role",
        "any_user",
    ])
    .ok();
    env.run(&["check", "--anonymous", "eprint/archive/view"])
        .code(3);
    env.run(&["check", "--user", "ed@example.org", "eprint/archive/view"])
        .code(3);
    env.run(&[
        "access",
        "allow",
        "fancy",
        "system-role",
        "authenticated_user",
    ])
    .ok();
    env.run(&["check", "--user", "ed@example.org", "fancy"])
        .ok();
    env.run(&["check", "--anonymous", "fancy"]).code(3);
}

#[test]
fn check_json_shape_exit_codes_and_bad_input() {
    let env = Env::new();
    env.user("u@example.org", &[]);
    let owned = r#"{"dataset":"eprint","status":"inbox","owners":[1]}"#;
    let r = env.run(&[
        "check",
        "--user",
        "u@example.org",
        "eprint/edit",
        "--item",
        owned,
        "--json",
    ]);
    let v = r.ok().json();
    assert_eq!(v["allowed"], true);
    assert_eq!(v["mask"], 4);
    assert_eq!(
        (
            v["public"].as_bool(),
            v["user"].as_bool(),
            v["owner"].as_bool(),
            v["editor"].as_bool()
        ),
        (Some(false), Some(false), Some(true), Some(false))
    );
    assert!(v["reasons"][0]["source"]
        .as_str()
        .unwrap()
        .contains("role `deposit`"));
    let other = r#"{"dataset":"eprint","status":"inbox","owners":["someone@example.org"]}"#;
    let denied = env.run(&[
        "check",
        "--user",
        "u@example.org",
        "eprint/edit",
        "--item",
        other,
        "--json",
    ]);
    denied.code(3);
    assert_eq!(denied.json()["reasons"][0]["kind"], "not_owner");
    env.run(&[
        "check",
        "--user",
        "u@example.org",
        "eprint/edit",
        "--item",
        "{nope",
    ])
    .code(2)
    .err_contains("invalid --item");
    env.run(&[
        "check",
        "--user",
        "u@example.org",
        "eprint/edit",
        "--item",
        r#"{"dataset":"e/p"}"#,
    ])
    .code(2)
    .err_contains("dataset `e/p`");
    env.run(&["check", "--user", "ghost@example.org", "x"])
        .code(2)
        .err_contains("not found");
    env.run(&["check", "--user", "u@example.org", "bad priv"])
        .code(2)
        .err_contains("invalid privilege `bad priv`");
    env.run(&["check", "x"]).code(2);
    let explain = env.run(&[
        "check",
        "--user",
        "u@example.org",
        "eprint/edit",
        "--item",
        owned,
        "--explain",
    ]);
    explain
        .ok()
        .out_contains("bit 4")
        .out_contains("eprint/inbox/edit:owner");
}

#[test]
fn explain_shows_the_walk_with_a_removal_and_a_deny() {
    let env = Env::new();
    env.user("u@example.org", &[]);
    env.run(&["roles", "add", "u@example.org", "-create_eprint"])
        .ok();
    let text = env.run(&[
        "check",
        "--user",
        "u@example.org",
        "create_eprint",
        "--explain",
    ]);
    text.code(3)
        .out_contains("denied create_eprint: mask 0")
        .out_contains("0 = not allowed: no bit is set")
        .out_contains("removed by `-create_eprint` in the user's own entry 1")
        .out_contains(
            "1. [user type] added `create_eprint`: `create_eprint` in role `deposit`",
        )
        .out_contains(
            "2. [own entries] removed `create_eprint`: `-create_eprint` in the user's own entry 1 -> not held",
        );
    let json = env
        .run(&[
            "check",
            "--user",
            "u@example.org",
            "create_eprint",
            "--explain",
            "--json",
        ])
        .code(3)
        .json();
    assert_eq!(json["allowed"], false);
    assert_eq!(json["mask_words"][0], "0 = not allowed: no bit is set");
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(steps[1]["kind"], "removed");
    assert_eq!(steps[1]["stage"], "own_entries");
    assert_eq!(steps[1]["held_after"], false);

    // A deny shows as its own step, and the mask in words.
    env.run(&["access", "deny", "eprint/edit", "user", "u@example.org"])
        .ok();
    let owned = r#"{"dataset":"eprint","status":"inbox","owners":[1]}"#;
    let id = env
        .run(&["users", "show", "u@example.org", "--json"])
        .ok()
        .json()["id"]
        .as_i64()
        .unwrap();
    let owned = owned.replace("[1]", &format!("[{id}]"));
    env.run(&[
        "check",
        "--user",
        "u@example.org",
        "eprint/edit",
        "--item",
        &owned,
        "--explain",
    ])
    .code(3)
    .out_contains(
        "[denies] denied `eprint/inbox/edit:owner`: deny of `eprint/edit` to the user -> not held",
    );
    env.run(&[
        "check",
        "--user",
        "u@example.org",
        "eprint/view",
        "--item",
        &owned,
        "--explain",
    ])
    .ok()
    .out_contains("4 = owner: the user owns the item and holds the `:owner` form");

    // A status the dataset does not have is refused by explain, naming the valid ones; a
    // plain check ignores it.
    let limbo = r#"{"dataset":"eprint","status":"limbo"}"#;
    env.run(&[
        "check",
        "--user",
        "u@example.org",
        "eprint/view",
        "--item",
        limbo,
        "--explain",
    ])
    .code(2)
    .err_contains("status `limbo` is not a status of dataset `eprint`; use one of `inbox`, `buffer`, `archive`, `deletion`");
    env.run(&[
        "check",
        "--user",
        "u@example.org",
        "eprint/view",
        "--item",
        limbo,
    ])
    .code(3);
}

#[test]
fn inactive_users_hold_only_public_privileges() {
    let env = Env::new();
    env.user("a@example.org", &["--type", "admin"]);
    env.run(&["check", "--user", "a@example.org", "config/edit"])
        .ok();
    env.run(&["users", "deactivate", "a@example.org"]).ok();
    let d = env.run(&["check", "--user", "a@example.org", "config/edit", "--json"]);
    d.code(3);
    assert_eq!(d.json()["reasons"][0]["kind"], "inactive");
    assert_eq!(
        env.run(&[
            "check",
            "--user",
            "a@example.org",
            "eprint/archive/view",
            "--json"
        ])
        .ok()
        .json()["mask"],
        1
    );
}

#[test]
fn privileges_lists_sources_denies_and_public() {
    let env = Env::new();
    env.user("u@example.org", &["--role", "+special/thing"]);
    env.run(&["access", "deny", "create_eprint", "user", "u@example.org"])
        .ok();
    let v = env
        .run(&["privileges", "u@example.org", "--json"])
        .ok()
        .json();
    let privs = v["privileges"].as_array().unwrap();
    assert_eq!(
        privs.len(),
        52,
        "user type's 52 + special/thing - create_eprint"
    );
    assert!(privs.iter().any(|p| p["privilege"] == "special/thing"
        && p["source"].as_str().unwrap().contains("own entry 1")));
    assert!(!privs.iter().any(|p| p["privilege"] == "create_eprint"));
    assert_eq!(v["denied"][0]["privilege"], "create_eprint");
    assert_eq!(v["public"].as_array().unwrap().len(), 9);
    env.run(&["privileges", "u@example.org"])
        .ok()
        .out_contains("public privileges")
        .out_contains("user type `user` entry");
}

#[test]
fn policy_validate_and_show_without_a_database() {
    let env = Env::new();
    env.run(&["policy", "validate"])
        .ok()
        .out_contains("built-in EPrints 3.4.7 catalog is in force");
    env.write(
        "user_roles.yaml",
        "roles:\n  approve-hat: [eprint/buffer/view:editor]\nuser_roles:\n  user: [general, eprint/view, nosuch]\n  hat: [+x]\n  other: [hat]\npublic_roles: [eprint/archive/view]\n",
    );
    let r = env.run(&["policy", "validate"]);
    r.code(2)
        .err_contains("4 problems")
        .err_contains("user_roles.yaml:4: in user type `user`: `eprint/view` looks like a privilege")
        .err_contains("user_roles.yaml:4: in user type `user`: role `nosuch` is not defined")
        .err_contains("user_roles.yaml:6: in user type `other`: `hat` is defined under `user_roles` (a user type), not under `roles`")
        .err_contains("user_roles.yaml:7: public_roles takes only `+privilege` entries");
    assert!(
        !env.path().join("gatehouse-data").exists(),
        "validate needs no database"
    );
    // Every command that evaluates refuses to run on an invalid file.
    env.run(&["check", "--anonymous", "x"])
        .code(2)
        .err_contains("problems in the policy file");
    env.write(
        "user_roles.yaml",
        "roles:\n  approve-hat: [eprint/buffer/view:editor]\n",
    );
    env.run(&["policy", "validate"])
        .ok()
        .out_contains("is valid");
    let other = env.path().join("other.yaml");
    std::fs::write(&other, "roles: [x]\n").unwrap();
    env.run(&["policy", "validate", other.to_str().unwrap()])
        .code(2)
        .err_contains("`roles` must be a mapping");
    env.run(&["policy", "validate", "missing.yaml"])
        .code(2)
        .err_contains("cannot read");

    let editor = env
        .run(&["policy", "show", "--type", "editor", "--json"])
        .ok()
        .json();
    assert_eq!(editor["privileges"].as_array().unwrap().len(), 127);
    let admin = env
        .run(&["policy", "show", "--type", "admin", "--json"])
        .ok()
        .json();
    assert_eq!(admin["privileges"].as_array().unwrap().len(), 200);
    env.run(&["policy", "show", "--role", "approve-hat"])
        .ok()
        .out_contains("user_roles.yaml line 2");
    env.run(&["policy", "show"])
        .ok()
        .out_contains("public privileges")
        .out_contains("minuser");
    env.run(&["policy", "show", "--type", "wizard"])
        .code(2)
        .err_contains("user type `wizard` not found");
}

#[test]
fn history_records_who_what_when_and_channel_without_secrets() {
    let env = Env::new();
    env.run(&[
        "users",
        "create",
        "h@example.org",
        "--password",
        "secret-password-1",
        "--active",
    ])
    .ok();
    env.run(&[
        "users",
        "set-password",
        "h@example.org",
        "--password",
        "secret-password-2",
    ])
    .ok();
    env.run(&["roles", "add", "h@example.org", "toolbox"]).ok();
    env.run(&["access", "allow", "x/y", "user", "h@example.org"])
        .ok();
    env.run(&["roles", "create", "team"]).ok();
    env.run(&["access", "deny", "x/y", "role", "team"]).ok();
    let all = env.run(&["history", "--json"]);
    all.ok();
    assert!(
        !all.stdout.contains("secret-password") && !all.stdout.contains("argon2"),
        "{}",
        all.stdout
    );
    let events = all.json();
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.create",
            "user.set_password",
            "user.add_role",
            "grant.allow",
            "role.create",
            "grant.deny"
        ]
    );
    assert_eq!(events[0]["actor"], "operator tester");
    assert_eq!(events[0]["channel"], "cli");
    let mine = env
        .run(&["history", "--user", "h@example.org", "--json"])
        .ok()
        .json();
    assert_eq!(mine.as_array().unwrap().len(), 4);
    env.run(&["history", "--since", "2999-01-01", "--json"])
        .ok()
        .out_contains("[]");
    env.run(&["history", "--since", "yesterday"])
        .code(2)
        .err_contains("invalid time `yesterday`");
}
