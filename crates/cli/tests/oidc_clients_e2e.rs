//! `gatehouse clients ...` end to end with the real binary: show, rotate-secret (the new
//! secret printed once), forget-consent and revoke, with the errors a typo gets; and the
//! OpenID Connect provider's clients, signing keys and consents through `export` and
//! `import`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Env;

/// Registers a confidential client; returns (id, secret).
fn create(env: &Env, name: &str) -> (String, String) {
    let r = env.run(&[
        "--json",
        "clients",
        "create",
        name,
        "--redirect-uri",
        "https://rp.example.org/cb",
    ]);
    r.ok();
    let v = r.json();
    (
        v["client"]["id"].as_str().unwrap().to_owned(),
        v["secret"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn show_rotate_secret_forget_consent_and_revoke() {
    let env = Env::new();
    let (id, secret) = create(&env, "Repository");

    // `show`, as text and JSON, never with a secret or its hash.
    let shown = env.run(&["clients", "show", &id]);
    shown.ok().out_contains(&id).out_contains("confidential");
    assert!(!shown.stdout.contains(&secret));
    let json = env.run(&["--json", "clients", "show", &id]);
    json.ok();
    assert_eq!(json.json()["id"], id.as_str());
    assert!(json.json().get("secret_hash").is_none(), "{}", json.stdout);

    // `rotate-secret`: a new secret, printed once, with a warning that says so.
    let r = env.run(&["--json", "clients", "rotate-secret", &id]);
    r.ok().err_contains("shown once");
    let rotated = r.json()["secret"].as_str().unwrap().to_owned();
    assert_ne!(rotated, secret);
    assert_eq!(rotated.len(), secret.len());
    let again = env.run(&["clients", "show", &id]);
    assert!(!again.ok().stdout.contains(&rotated));
    env.run(&["clients", "rotate-secret", "gh-nobody"])
        .code(2)
        .err_contains("gh-nobody");
    env.run(&["clients", "rotate-secret", "no spaces allowed"])
        .code(2)
        .err_contains("invalid client id");

    // `forget-consent`: none given yet; a bad user is named.
    env.user("ann@example.org", &[]).ok();
    let r = env.run(&["--json", "clients", "forget-consent", &id]);
    r.ok();
    assert_eq!(r.json()["consents_forgotten"], 0);
    env.run(&[
        "clients",
        "forget-consent",
        &id,
        "--user",
        "ann@example.org",
    ])
    .ok()
    .out_contains("0 consents");
    env.run(&["clients", "forget-consent", &id, "--user", "ann"])
        .code(2)
        .err_contains("`ann`");
    env.run(&[
        "clients",
        "forget-consent",
        &id,
        "--user",
        "nobody@example.org",
    ])
    .code(2)
    .err_contains("nobody@example.org");

    // `revoke`; a revoked client gets no new secret.
    env.run(&["clients", "revoke", &id])
        .ok()
        .out_contains("revoked");
    env.run(&["clients", "rotate-secret", &id])
        .code(2)
        .err_contains("revoked");
    let history = env.run(&["--json", "history", "--limit", "50"]);
    history.ok();
    for action in ["client.create", "client.rotate_secret", "client.revoke"] {
        assert!(history.stdout.contains(action), "{action}");
    }
    assert!(!history.stdout.contains(&rotated));
}

/// The export without the header's `store` and `exported_at`.
fn comparable(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let fields = header.as_object_mut().unwrap();
    fields.remove("store");
    fields.remove("exported_at");
    lines[0] = header.to_string();
    lines
}

#[test]
fn clients_and_signing_keys_travel_through_export_and_import() {
    let a = Env::new();
    a.user("ann@example.org", &[]).ok();
    let (id, secret) = create(&a, "Repository");
    a.run(&[
        "clients",
        "create",
        "Desktop",
        "--public",
        "--redirect-uri",
        "http://127.0.0.1:8000/cb",
    ])
    .ok();
    a.run(&["clients", "revoke", &id]).ok();
    // `keys list` makes the first keys; a rotation adds a second pair.
    a.run(&["keys", "list"]).ok();
    a.run(&["keys", "rotate"]).ok();
    let keys_a = a.run(&["--json", "keys", "list"]).ok().stdout.clone();

    let r = a.run(&["--json", "export", "a.jsonl"]);
    r.ok();
    let counts = &r.json()["counts"];
    assert_eq!(counts["client"], 2, "{counts}");
    assert_eq!(counts["signing_key"], 4, "{counts}");
    let text = std::fs::read_to_string(a.path().join("a.jsonl")).unwrap();
    assert!(text.starts_with(r#"{"format":"gatehouse-export","version":2,"#));
    // The secret's hash travels, never the secret.
    assert!(!text.contains(&secret));
    assert!(text.contains(r#""type":"client""#) && text.contains(r#""secret_hash":""#));
    assert!(text.contains(r#""type":"signing_key""#));

    let b = Env::new();
    std::fs::write(b.path().join("a.jsonl"), &text).unwrap();
    let r = b.run(&["--json", "import", "a.jsonl"]);
    r.ok();
    assert_eq!(r.json()["counts"]["client"], 2);
    b.run(&["clients", "show", &id])
        .ok()
        .out_contains("revoked:");
    assert_eq!(b.run(&["--json", "keys", "list"]).ok().stdout, keys_a);
    let again = b.run(&["export"]).ok().stdout.clone();
    assert_eq!(comparable(&again), comparable(&text));

    // A damaged key is refused by line and field, never echoed, and nothing is written.
    let c = Env::new();
    let damaged = text.replacen(r#""private_key":""#, r#""private_key":"AAAA"#, 1);
    std::fs::write(c.path().join("bad.jsonl"), &damaged).unwrap();
    let r = c.run(&["import", "bad.jsonl"]);
    r.code(2)
        .err_contains("field `private_key` of a `signing_key` record");
    c.run(&["--json", "clients", "list"])
        .ok()
        .out_contains("[]");
}
