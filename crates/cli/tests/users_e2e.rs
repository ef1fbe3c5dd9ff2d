//! `gatehouse users ...` and log in rules, on the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Env;

#[test]
fn create_without_confirm_is_unconfirmed_and_cannot_log_in() {
    let env = Env::new();
    let r = env.run(&[
        "users",
        "create",
        "Ann@Example.org",
        "--password",
        "password-123",
        "--active",
        "--json",
    ]);
    r.ok();
    let v = r.json();
    assert_eq!(v["user"]["email"], "ann@example.org", "stored lower-cased");
    assert_eq!(v["user"]["confirmed"], false);
    assert_eq!(v["user"]["type"], "user", "default type");
    env.run(&[
        "users",
        "check-login",
        "ann@example.org",
        "--password",
        "password-123",
        "--json",
    ])
    .code(3)
    .out_contains("email_unconfirmed");
    env.run(&["users", "confirm", "ANN@example.org"])
        .ok()
        .out_contains("confirmed");
    env.run(&["users", "confirm", "ann@example.org"])
        .ok()
        .out_contains("already confirmed");
    env.run(&[
        "users",
        "check-login",
        "ann@example.org",
        "--password",
        "password-123",
    ])
    .ok();
}

#[test]
fn create_with_every_flag() {
    let env = Env::new();
    let r = env.run(&[
        "users",
        "create",
        "ed@example.org",
        "--password",
        "password-123",
        "--active",
        "--confirm",
        "--username",
        "Ed_1",
        "--full-name",
        "Ed Editor",
        "--affiliations",
        "Law",
        "--type",
        "editor",
        "--role",
        "toolbox",
        "--role",
        "+eprint/archive/edit:owner",
        "--role",
        "-status",
        "--json",
    ]);
    let u = r.ok().json()["user"].clone();
    assert_eq!(u["username"], "Ed_1");
    assert_eq!(u["full_name"], "Ed Editor");
    assert_eq!(u["affiliations"], "Law");
    assert_eq!(u["type"], "editor");
    assert_eq!(
        u["roles"],
        serde_json::json!(["toolbox", "+eprint/archive/edit:owner", "-status"])
    );
    assert_eq!(u["confirmed"], true);
    assert_eq!(u["active"], true);
    assert!(!r.stdout.contains("password-123"));
    // Log in by username, any case.
    env.run(&["users", "check-login", "ed_1", "--password", "password-123"])
        .ok();
}

#[test]
fn create_errors_exit_2_and_name_the_value() {
    let env = Env::new();
    env.user("a@example.org", &["--username", "alice"]);
    env.run(&[
        "users",
        "create",
        "A@EXAMPLE.ORG",
        "--password",
        "password-123",
    ])
    .code(2)
    .err_contains("email `a@example.org` is already taken");
    env.run(&[
        "users",
        "create",
        "b@example.org",
        "--password",
        "password-123",
        "--username",
        "ALICE",
    ])
    .code(2)
    .err_contains("username `ALICE` is already taken");
    env.run(&[
        "users",
        "create",
        "not-an-email",
        "--password",
        "password-123",
    ])
    .code(2)
    .err_contains("invalid email `not-an-email`");
    env.run(&["users", "create", "c@example.org", "--password", "short"])
        .code(2)
        .err_contains("the password has 5 characters; use 8 to 128 characters");
    env.run(&[
        "users",
        "create",
        "c@example.org",
        "--password",
        "password-123",
        "--type",
        "wizard",
    ])
    .code(2)
    .err_contains("user type `wizard` is not defined");
    env.run(&[
        "users",
        "create",
        "c@example.org",
        "--password",
        "password-123",
        "--role",
        "nosuch",
    ])
    .code(2)
    .err_contains("role `nosuch` is not defined");
    env.run(&[
        "users",
        "create",
        "c@example.org",
        "--password",
        "password-123",
        "--role",
        "eprint/view",
    ])
    .code(2)
    .err_contains("did you mean `+eprint/view`?");
    env.run(&[
        "users",
        "create",
        "c@example.org",
        "--password",
        "password-123",
        "--username",
        "1x",
    ])
    .code(2)
    .err_contains("invalid username `1x`");
    // No password source and no terminal.
    env.run(&["users", "create", "c@example.org"])
        .code(2)
        .err_contains("--password P, --password-stdin or --random");
    assert_eq!(env.users()["total"], 1, "nothing half-written");
}

#[test]
fn passwords_from_stdin_and_random() {
    let env = Env::new();
    env.run_stdin(
        &[
            "users",
            "create",
            "s@example.org",
            "--password-stdin",
            "--active",
            "--confirm",
        ],
        Some("from-stdin-pw\n"),
    )
    .ok();
    env.run(&[
        "users",
        "check-login",
        "s@example.org",
        "--password",
        "from-stdin-pw",
    ])
    .ok();
    let r = env.run(&[
        "users",
        "set-password",
        "s@example.org",
        "--random",
        "--json",
    ]);
    r.ok().err_contains("shown once");
    let pw = r.json()["generated_password"].as_str().unwrap().to_owned();
    assert_eq!(pw.chars().count(), 20);
    env.run(&["users", "check-login", "s@example.org", "--password", &pw])
        .ok();
    env.run(&[
        "users",
        "check-login",
        "s@example.org",
        "--password",
        "from-stdin-pw",
    ])
    .code(3);
    env.run(&[
        "users",
        "set-password",
        "s@example.org",
        "--password",
        "tiny",
    ])
    .code(2);
    env.run(&[
        "users",
        "set-password",
        "nobody@example.org",
        "--password",
        "password-123",
    ])
    .code(2)
    .err_contains("user `nobody@example.org` not found");
}

#[test]
fn login_answers_are_the_same_for_unknown_users_and_wrong_passwords() {
    let env = Env::new();
    env.user("a@example.org", &[]);
    let wrong = env.run(&[
        "users",
        "check-login",
        "a@example.org",
        "--password",
        "wrong-password",
        "--json",
    ]);
    let unknown = env.run(&[
        "users",
        "check-login",
        "zz@example.org",
        "--password",
        "wrong-password",
        "--json",
    ]);
    wrong.code(3);
    unknown.code(3);
    assert_eq!(wrong.json(), unknown.json());
    assert_eq!(wrong.json()["code"], "invalid_credentials");
    env.run(&["users", "deactivate", "a@example.org"]).ok();
    env.run(&[
        "users",
        "check-login",
        "a@example.org",
        "--password",
        "password-123",
        "--json",
    ])
    .code(3)
    .out_contains("account_disabled");
    // A wrong password on a disabled account says nothing about the account.
    env.run(&[
        "users",
        "check-login",
        "a@example.org",
        "--password",
        "nope-nope",
        "--json",
    ])
    .code(3)
    .out_contains("invalid_credentials");
}

#[test]
fn activate_deactivate_confirm_are_idempotent_and_activate_confirms() {
    let env = Env::new();
    env.run(&[
        "users",
        "create",
        "u@example.org",
        "--password",
        "password-123",
    ])
    .ok();
    let v = env
        .run(&["users", "activate", "u@example.org", "--json"])
        .ok()
        .json();
    assert_eq!(v["changed"], true);
    assert_eq!(v["user"]["confirmed"], true, "activating confirms");
    env.run(&["users", "activate", "1"])
        .ok()
        .out_contains("already active");
    env.run(&["users", "deactivate", "u@example.org"])
        .ok()
        .out_contains("deactivated");
    env.run(&["users", "deactivate", "u@example.org"])
        .ok()
        .out_contains("already inactive");
    env.run(&["users", "activate", "99"])
        .code(2)
        .err_contains("user `99` not found");
    env.run(&["users", "activate", "bob"])
        .code(2)
        .err_contains("neither an email nor a user id");
}

#[test]
fn type_scope_roles_profile_and_show() {
    let env = Env::new();
    env.user("e@example.org", &[]);
    env.run(&["users", "set-type", "e@example.org", "editor"])
        .ok()
        .out_contains("now of type editor");
    env.run(&["users", "set-type", "e@example.org", "editor"])
        .ok()
        .out_contains("already of type editor");
    env.run(&["users", "set-type", "e@example.org", "wizard"])
        .code(2)
        .err_contains("user type `wizard` is not defined");
    env.run(&[
        "users",
        "set-scope",
        "e@example.org",
        "--filter",
        "divisions=law,ecs;subjects=QA",
        "--filter",
        "type=article",
    ])
    .ok();
    let u = env
        .run(&["users", "show", "e@example.org", "--json"])
        .ok()
        .json();
    assert_eq!(
        u["editorial_scope"],
        serde_json::json!(["divisions=ecs,law;subjects=QA", "type=article"])
    );
    env.run(&[
        "users",
        "set-scope",
        "e@example.org",
        "--filter",
        "divisions",
    ])
    .code(2)
    .err_contains("invalid scope filter `divisions`");
    env.run(&["users", "set-scope", "e@example.org", "--clear"])
        .ok();
    env.run(&[
        "users",
        "set-roles",
        "e@example.org",
        "toolbox",
        "+a/b",
        "-status",
    ])
    .ok();
    let u = env
        .run(&["users", "show", "e@example.org", "--json"])
        .ok()
        .json();
    assert_eq!(
        u["roles"],
        serde_json::json!(["toolbox", "+a/b", "-status"])
    );
    assert_eq!(u["editorial_scope"], serde_json::json!([]));
    env.run(&[
        "users",
        "set-profile",
        "e@example.org",
        "--full-name",
        "Eve",
        "--affiliations",
        "Physics",
    ])
    .ok();
    env.run(&["users", "show", "e@example.org"])
        .ok()
        .out_contains("Eve")
        .out_contains("Physics");
    for key in [
        "id",
        "email",
        "username",
        "full_name",
        "affiliations",
        "active",
        "confirmed",
        "confirmed_at",
        "type",
        "roles",
        "editorial_scope",
        "created",
        "updated",
    ] {
        assert!(u.get(key).is_some(), "users show --json lacks {key}");
    }
}

#[test]
fn list_search_filters_and_reindex() {
    let env = Env::new();
    env.user(
        "ann@example.org",
        &[
            "--username",
            "annie",
            "--full-name",
            "Ann Smith",
            "--affiliations",
            "CERN",
        ],
    );
    env.user(
        "bob@example.org",
        &["--full-name", "Bob Jones", "--type", "editor"],
    );
    env.run(&[
        "users",
        "create",
        "cy@example.org",
        "--password",
        "password-123",
    ])
    .ok();
    let all = env.users();
    assert_eq!(all["total"], 3);
    let find = |args: &[&str]| {
        let mut a = vec!["users"];
        a.extend_from_slice(args);
        a.push("--json");
        let v = env.run(&a).ok().json();
        v["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["email"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(find(&["search", "smith"]), ["ann@example.org"]);
    assert_eq!(find(&["search", "cern"]), ["ann@example.org"]);
    assert_eq!(find(&["search", "ANNIE"]), ["ann@example.org"]);
    assert_eq!(find(&["search", "bob@"]), ["bob@example.org"]);
    assert_eq!(find(&["search", "ann cern"]), ["ann@example.org"]);
    assert!(find(&["search", "nobody"]).is_empty());
    assert_eq!(find(&["list", "--type", "editor"]), ["bob@example.org"]);
    assert_eq!(find(&["list", "--inactive"]), ["cy@example.org"]);
    assert_eq!(find(&["list", "--unconfirmed"]), ["cy@example.org"]);
    assert_eq!(
        find(&["list", "--limit", "1", "--offset", "1"]),
        ["bob@example.org"]
    );
    // Sorted: `--sort FIELD`, `--sort -FIELD` descending; missing values last either way.
    assert_eq!(
        find(&["list", "--sort", "-email"]),
        ["cy@example.org", "bob@example.org", "ann@example.org"]
    );
    assert_eq!(
        find(&["list", "--sort", "username"]),
        ["ann@example.org", "bob@example.org", "cy@example.org"]
    );
    assert_eq!(
        find(&["search", "example", "--sort", "-full_name", "--limit", "2"]),
        ["bob@example.org", "ann@example.org"]
    );
    env.run(&["users", "list", "--sort", "colour"])
        .code(2)
        .err_contains("`colour`");
    // The index follows changes in the same transaction.
    env.run(&[
        "users",
        "set-profile",
        "bob@example.org",
        "--full-name",
        "Robert Smith",
    ])
    .ok();
    assert_eq!(
        find(&["search", "smith"]),
        ["ann@example.org", "bob@example.org"]
    );
    env.run(&["users", "reindex"]).ok().out_contains("3 users");
    assert_eq!(find(&["search", "robert"]), ["bob@example.org"]);
    env.run(&["users", "search", " "]).code(2);
}

#[test]
fn delete_removes_the_user_and_their_grants() {
    let env = Env::new();
    env.user("gone@example.org", &[]);
    env.run(&[
        "access",
        "allow",
        "administration-access",
        "user",
        "gone@example.org",
    ])
    .ok();
    env.run(&["users", "delete", "gone@example.org"]).ok();
    assert_eq!(env.users()["total"], 0);
    let grants = env.run(&["access", "show", "--json"]).ok().json();
    assert_eq!(grants.as_array().map(Vec::len), Some(0));
}

#[test]
fn invalid_configuration_is_refused_with_the_key() {
    let env = Env::new();
    env.config("colour = 'blue'\n");
    env.run(&["users", "list"]).code(2).err_contains("colour");
    env.config("");
    let mut env2 = Env::new();
    env2.extra_env
        .push(("GATEHOUSE_PASSWORDS__MIN_LENGTH".into(), "12".into()));
    env2.run(&[
        "users",
        "create",
        "a@example.org",
        "--password",
        "eleven-char",
    ])
    .code(2)
    .err_contains("use 12 to 128");
}

#[test]
fn set_email_and_set_username_change_the_identity_and_name_clashes() {
    let env = Env::new();
    env.user("ann@example.org", &["--username", "annie"]);
    env.user("bob@example.org", &["--username", "bobby"]);
    env.run(&[
        "users",
        "set-email",
        "ann@example.org",
        "Ann.New@Example.org",
    ])
    .ok()
    .out_contains("is now ann.new@example.org");
    env.run(&[
        "users",
        "set-email",
        "ann.new@example.org",
        "ann.new@example.org",
    ])
    .ok()
    .out_contains("was already");
    env.run(&[
        "users",
        "set-email",
        "ann.new@example.org",
        "bob@example.org",
    ])
    .code(2)
    .err_contains("email `bob@example.org` is already taken");
    env.run(&["users", "set-email", "ann.new@example.org", "nope"])
        .code(2)
        .err_contains("`nope`");
    env.run(&["users", "set-username", "ann.new@example.org", "BOBBY"])
        .code(2)
        .err_contains("username `BOBBY` is already taken");
    let v = env
        .run(&[
            "users",
            "set-username",
            "ann.new@example.org",
            "Annie",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["changed"], true);
    assert_eq!(v["user"]["username"], "Annie");
    env.run(&["users", "set-username", "ann.new@example.org", "--clear"])
        .ok()
        .out_contains("now has no username");
    env.run(&["users", "set-username", "ann.new@example.org"])
        .code(2);
    env.run(&[
        "users",
        "set-username",
        "ann.new@example.org",
        "x1y",
        "--clear",
    ])
    .code(2);
    let history = env
        .run(&["history", "--user", "ann.new@example.org", "--json"])
        .ok()
        .json();
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.create",
            "user.set_email",
            "user.set_username",
            "user.set_username"
        ]
    );
    // Filters and paging: the newest username change only, out of two.
    let newest = env
        .run(&[
            "history",
            "--action",
            "user.set_username",
            "--target",
            "ANN.NEW",
            "--newest-first",
            "--limit",
            "1",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(newest[0]["details"]["after"], serde_json::Value::Null);
    env.run(&["history", "--action", "user.set_username", "--limit", "1"])
        .ok()
        .out_contains("1 of 2 events");
    env.run(&["history", "--until", "soon"])
        .code(2)
        .err_contains("--until");
}

#[test]
fn bulk_acts_on_many_users_all_or_nothing() {
    let env = Env::new();
    env.user("a@example.org", &[]);
    env.user("b@example.org", &[]);
    let ids: Vec<String> = env.users()["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].to_string())
        .collect();
    env.run(&[
        "users",
        "bulk",
        "add-entry",
        "--entry",
        "editor",
        "a@example.org",
        &ids[1],
    ])
    .ok()
    .out_contains("add-entry editor: 2 changed");
    env.run(&[
        "users",
        "bulk",
        "remove-entry",
        "--entry",
        "-x/y",
        "a@example.org",
    ])
    .ok()
    .out_contains("0 changed; 1 already so");
    // One unknown user: nothing changes, and the error names it.
    env.run(&[
        "users",
        "bulk",
        "deactivate",
        "a@example.org",
        "nobody@example.org",
    ])
    .code(2)
    .err_contains("nobody@example.org");
    env.run(&["users", "bulk", "deactivate", &ids[0], "999"])
        .code(2)
        .err_contains("`999`");
    assert_eq!(env.users()["users"][0]["active"], true);
    let v = env
        .run(&["users", "bulk", "deactivate", &ids[0], &ids[1], "--json"])
        .ok()
        .json();
    assert_eq!(v["changed"].as_array().map(Vec::len), Some(2));
    env.run(&["users", "bulk", "add-entry", "a@example.org"])
        .code(2)
        .err_contains("needs the entry");
    env.run(&["users", "bulk", "explode", "a@example.org"])
        .code(2);
}
