//! Moving in from another platform (issue 12), on the real binary: legacy hashes in
//! users.yaml, the `legacy.*` configuration, `users list --password-scheme`, `migrate
//! status`, and `policy convert`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Env;

/// InvenioRDM, double hashed with the salt `CHANGE_ME`: the password is `123456`.
const INVENIO: &str = "$pbkdf2-sha512$25000$P2csJcRYCyFkLKW0tjYmxA$snGaGHzRUt.VmZL5iYRfrrD0h9lCgnghFvjkHKU8lpdf6dmkDvrURg5uAfFE7vuiaV454zPJCYmK4R6a69c7YA";
/// EPrints method 2 (SHA-512) of `123456`, keys as EPrints wrote them.
const EPRINTS: &str = "?digest=1abcdd7488d8e2a27d9164cd84408a28faa490551516b24c300194d8a841517400f6c57b679b550ba2afe7cacb65ef5731f1259894f58bac96010927bbab3c21&salt=Ab&method=2";
/// DSpace's old unsalted MD5 of `123456`.
const DSPACE: &str = "dspace:::e10adc3949ba59abbe56e057f20f883e";

fn users_yaml(entries: &[(&str, &str)]) -> String {
    entries
        .iter()
        .map(|(email, hash)| {
            format!(
                "- email: {email}\n  active: true\n  confirmed: true\n  password_hash: '{hash}'\n"
            )
        })
        .collect()
}

#[test]
fn legacy_hashes_load_list_count_and_log_in() {
    let env = Env::new();
    env.config("[legacy]\ninvenio_password_salt = \"CHANGE_ME\"\n");
    env.write(
        "users.yaml",
        &users_yaml(&[
            ("inv@example.org", INVENIO),
            ("ep@example.org", EPRINTS),
            ("ds@example.org", DSPACE),
        ]),
    );
    env.run(&["fixtures", "load"]).ok();

    let listed = env
        .run(&[
            "users",
            "list",
            "--password-scheme",
            "eprints-sha512",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["users"][0]["email"], "ep@example.org", "{listed}");
    env.run(&["users", "list", "--password-scheme", "md5"])
        .code(2)
        .err_contains("unknown password scheme `md5`");

    let status = env.run(&["migrate", "status", "--json"]).ok().json();
    let count = |status: &serde_json::Value, scheme: &str| {
        status["password_schemes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scheme"] == scheme)
            .map_or(0, |s| s["accounts"].as_u64().unwrap())
    };
    assert_eq!(count(&status, "invenio-pbkdf2-sha512"), 1, "{status}");
    assert_eq!(count(&status, "eprints-sha512"), 1, "{status}");
    assert_eq!(count(&status, "dspace-md5"), 1, "{status}");
    env.run(&["migrate", "status"])
        .ok()
        .out_contains("dspace-md5: 1 (imported");

    // The command line's check verifies as the platform did and changes nothing.
    for email in ["inv@example.org", "ep@example.org", "ds@example.org"] {
        env.run_stdin(
            &["users", "check-login", email, "--password-stdin"],
            Some("123456"),
        )
        .ok();
        env.run_stdin(
            &["users", "check-login", email, "--password-stdin"],
            Some("1234567"),
        )
        .code(3);
    }
    let status = env.run(&["migrate", "status", "--json"]).ok().json();
    assert_eq!(count(&status, "argon2"), 0, "{status}");
}

#[test]
fn the_invenio_salt_comes_from_the_environment_and_is_required() {
    let mut env = Env::new();
    env.write("users.yaml", &users_yaml(&[("inv@example.org", INVENIO)]));
    // Without the instance's salt, a double-hashed value cannot be verified: refused.
    env.run(&["fixtures", "load"])
        .code(2)
        .err_contains("legacy.invenio_password_salt");
    env.extra_env.push((
        "GATEHOUSE_LEGACY__INVENIO_PASSWORD_SALT".into(),
        "CHANGE_ME".into(),
    ));
    env.run(&["fixtures", "load"]).ok();
    env.run_stdin(
        &[
            "users",
            "check-login",
            "inv@example.org",
            "--password-stdin",
        ],
        Some("123456"),
    )
    .ok();
}

#[test]
fn unreadable_and_costly_hashes_are_refused_naming_the_entry() {
    let env = Env::new();
    env.write(
        "users.yaml",
        "- email: a@example.org\n  password_hash: '$2y$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234'\n",
    );
    let r = env.run(&["fixtures", "load"]);
    r.code(2)
        .err_contains("users.yaml:2: entry 1 (`a@example.org`)")
        .err_contains("bare bcrypt");
    assert!(!r.stderr.contains("abcdefghijklmnop"), "{}", r.stderr);

    env.write(
        "users.yaml",
        "- email: b@example.org\n  password_hash: '?method=4&digest=%242a%2420%24VNNEoqPykl6XYsSUKWtCo.FmHKLzfOnguI5343TBAwJQJCIbsCy6O'\n",
    );
    env.run(&["fixtures", "load"])
        .code(2)
        .err_contains("b@example.org")
        .err_contains("passwords.bcrypt_max_cost");
}

const SEED: &str = r#"# cfg.d/user_roles.pl (the EPrints documentation's example)
$c->{roles}->{"approve-hat"} = [
       "eprint/buffer/view:editor",
       "eprint/buffer/summary:editor",
       "eprint/buffer/details:editor",
       "eprint/buffer/move_archive:editor",
];

$c->{user_roles}->{user} = [
        'general',
        'edit-own-record',
        'saved-searches',
        'set-password',
        'deposit',
        'change-email',
        'approve-hat',
        '+eprint/archive/edit:owner',
],
"#;

#[test]
fn policy_convert_writes_a_file_that_validates_and_names_lines_it_cannot_read() {
    let env = Env::new();
    std::fs::write(env.path().join("user_roles.pl"), SEED).unwrap();
    env.run(&[
        "policy",
        "convert",
        "user_roles.pl",
        "-o",
        "app_data/user_roles.yaml",
    ])
    .ok()
    .out_contains("valid");
    let yaml = std::fs::read_to_string(env.app_data().join("user_roles.yaml")).unwrap();
    assert!(yaml.contains("- approve-hat  # user_roles.pl:16"), "{yaml}");
    env.run(&["policy", "validate"]).ok();
    env.run(&["policy", "show", "--role", "approve-hat", "--json"])
        .ok();
    // An existing output is kept unless --force.
    env.run(&[
        "policy",
        "convert",
        "user_roles.pl",
        "-o",
        "app_data/user_roles.yaml",
    ])
    .code(2)
    .err_contains("--force");
    // To standard output.
    env.run(&["policy", "convert", "user_roles.pl"])
        .ok()
        .out_contains("approve-hat:");

    std::fs::write(
        env.path().join("bad.pl"),
        "$c->{roles}->{approve-hat} = [ 'eprint/buffer/view:editor' ];\n\
         $c->{user_roles}->{'approve-hat'} = [ 'eprint/buffer/view:editor' ];\n",
    )
    .unwrap();
    env.run(&["policy", "convert", "bad.pl", "-o", "out.yaml"])
        .code(2)
        .err_contains("line 1: the key `{approve-hat}` must be quoted")
        .err_contains("line 2: `eprint/buffer/view:editor`")
        .err_contains("Ensure the role is in {roles} not {user_roles}!");
    assert!(!env.path().join("out.yaml").exists());
}

#[test]
fn legacy_hashes_travel_through_export_and_import_with_the_same_checks() {
    let a = Env::new();
    a.write(
        "users.yaml",
        &users_yaml(&[("ep@example.org", EPRINTS), ("ds@example.org", DSPACE)]),
    );
    a.run(&["fixtures", "load"]).ok();
    a.run(&["export", "a.jsonl"]).ok();
    let text = std::fs::read_to_string(a.path().join("a.jsonl")).unwrap();

    let b = Env::new();
    std::fs::write(b.path().join("a.jsonl"), &text).unwrap();
    b.run(&["import", "a.jsonl"]).ok();
    b.run_stdin(
        &["users", "check-login", "ds@example.org", "--password-stdin"],
        Some("123456"),
    )
    .ok();
    let status = b.run(&["migrate", "status", "--json"]).ok().json();
    assert_eq!(
        status["password_schemes"].as_array().unwrap().len(),
        2,
        "{status}"
    );

    // An InvenioRDM hash without the instance's salt, and one asking for too many rounds.
    let line = text.lines().position(|l| l.contains("dspace:::")).unwrap();
    for (replacement, needle) in [
        (INVENIO.to_owned(), "legacy.invenio_password_salt"),
        (
            "?method=3&salt=Ab&digest=%242a%2414%243ApuE0KzfCWxI40aWbnOTu.lHel9zWOlZSYMIsSd0lvGSFnrc5pY2"
                .to_owned(),
            "passwords.bcrypt_max_cost",
        ),
        ("dspace:SHA-512:abc:00".to_owned(), "DSpace hash"),
    ] {
        let c = Env::new();
        let changed = text.replace(DSPACE, &replacement);
        std::fs::write(c.path().join("c.jsonl"), changed).unwrap();
        let r = c.run(&["import", "c.jsonl"]);
        r.code(2)
            .err_contains(&format!("c.jsonl: line {}", line + 1))
            .err_contains(needle);
        assert_eq!(c.run(&["users", "list", "--json"]).ok().json()["total"], 0);
    }
}
