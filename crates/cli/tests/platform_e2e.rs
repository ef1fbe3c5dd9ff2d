//! `who-can`, `filter` and `privileges --json` (issue 13): the same answers as the HTTP API,
//! agreeing with `check` for every user.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Env;
use serde_json::Value;

/// A small population: types, an own `+`/`-` entry, a scoped editor, a deny, an inactive user.
fn population(env: &Env) -> Vec<String> {
    env.user("dep@example.org", &[]);
    env.user("owner@example.org", &[]);
    env.user(
        "plus@example.org",
        &["--role", "+eprint/archive/edit:owner"],
    );
    env.user("minus@example.org", &["--role", "-eprint/inbox/edit:owner"]);
    env.user("ed.law@example.org", &["--type", "editor"]);
    env.run(&[
        "users",
        "set-scope",
        "ed.law@example.org",
        "--filter",
        "divisions=law",
    ])
    .ok();
    env.user("ed.all@example.org", &["--type", "editor"]);
    env.user("boss@example.org", &["--type", "admin"]);
    env.user("denied@example.org", &["--type", "editor"]);
    env.run(&[
        "access",
        "deny",
        "eprint/edit",
        "user",
        "denied@example.org",
    ])
    .ok();
    env.user("gone@example.org", &["--type", "editor"]);
    env.run(&["users", "deactivate", "gone@example.org"]).ok();
    let users = env.users();
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

fn owner_id(env: &Env) -> i64 {
    env.run(&["users", "show", "owner@example.org", "--json"])
        .ok()
        .json()["id"]
        .as_i64()
        .unwrap()
}

fn check_mask(env: &Env, email: &str, privilege: &str, item: &str) -> u64 {
    let r = env.run(&[
        "check", "--user", email, privilege, "--item", item, "--json",
    ]);
    r.json()["mask"].as_u64().unwrap()
}

fn admitted(v: &Value) -> Vec<(String, u64)> {
    v["admitted"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap().to_owned(),
                u["mask"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn who_can_admits_exactly_the_users_check_allows() {
    let env = Env::new();
    let emails = population(&env);
    let owner = owner_id(&env);
    for (privilege, status, division) in [
        ("eprint/edit", "buffer", "law"),
        ("eprint/edit", "archive", "physics"),
        ("eprint/archive/edit", "archive", "law"),
        ("eprint/view", "inbox", "law"),
    ] {
        let item = format!(
            r#"{{"dataset":"eprint","status":"{status}","owners":[{owner}],"fields":{{"divisions":["{division}"]}}}}"#
        );
        let v = env
            .run(&[
                "who-can", privilege, "--item", &item, "--users", "--limit", "1000", "--json",
            ])
            .ok()
            .json();
        let got = admitted(&v);
        for email in &emails {
            let mask = check_mask(&env, email, privilege, &item);
            let listed = got.iter().find(|(e, _)| e == email).map(|(_, m)| *m);
            if mask & !1 == 0 {
                assert_eq!(
                    listed, None,
                    "{email} {privilege} {item}: check says {mask}"
                );
            } else {
                assert_eq!(listed, Some(mask), "{email} {privilege} {item}");
            }
        }
    }
}

#[test]
fn who_can_names_types_roles_conditions_and_excludes() {
    let env = Env::new();
    population(&env);
    let item = r#"{"dataset":"eprint","status":"inbox","owners":[1]}"#;
    let v = env
        .run(&["who-can", "eprint/edit", "--item", item, "--json"])
        .ok()
        .json();
    assert_eq!(v["privilege"], "eprint/edit");
    let editor = v["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "editor")
        .unwrap();
    assert_eq!(editor["editor"], true);
    assert!(v["owner"]["condition"].as_str().unwrap().contains("owner"));
    let kinds: Vec<&str> = v["excludes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"deny"), "{v}");
    assert!(kinds.contains(&"removal"), "{v}");
    assert!(v["excludes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "deny"
            && e["target"] == "user"
            && e["name"] == "denied@example.org"));
    assert!(v["excludes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "removal"
            && e["target"] == "user"
            && e["name"] == "minus@example.org"));
    assert!(v["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["email"] == "minus@example.org"));
    env.run(&["who-can", "eprint/edit", "--item", item])
        .ok()
        .out_contains("user types")
        .out_contains("excludes")
        .out_contains("minus@example.org")
        .out_contains("owner condition");
}

#[test]
fn who_can_pages_admitted_users() {
    let env = Env::new();
    population(&env);
    let all = admitted(
        &env.run(&[
            "who-can",
            "create_eprint",
            "--users",
            "--limit",
            "1000",
            "--json",
        ])
        .ok()
        .json(),
    );
    assert!(all.len() >= 5);
    let first = env
        .run(&[
            "who-can",
            "create_eprint",
            "--users",
            "--limit",
            "2",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(admitted(&first).len(), 2);
    let next = first["admitted"]["next"].as_i64().unwrap().to_string();
    let second = env
        .run(&[
            "who-can",
            "create_eprint",
            "--users",
            "--limit",
            "2",
            "--after",
            &next,
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(admitted(&second)[..], all[2..4]);
}

#[test]
fn who_can_refuses_bad_input_naming_it() {
    let env = Env::new();
    env.run(&["who-can", "eprint/edit", "--item", "{not json"])
        .code(2)
        .err_contains("invalid --item `{not json`");
    env.run(&["who-can", "bad privilege"])
        .err_contains("bad privilege");
    env.run(&["who-can", "eprint/edit", "--users", "--limit", "0"])
        .code(2)
        .err_contains("0");
}

#[test]
fn filter_for_an_owner_a_scoped_editor_and_anonymous() {
    let env = Env::new();
    population(&env);
    let owner = owner_id(&env);
    let v = env
        .run(&[
            "filter",
            "--user",
            "owner@example.org",
            "eprint/edit",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v["coverage"], "some");
    assert!(v["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["bit"] == "owner" && c["owner"]["id"] == owner));
    let v = env
        .run(&[
            "filter",
            "--user",
            "ed.law@example.org",
            "eprint/edit",
            "--json",
        ])
        .ok()
        .json();
    assert!(v["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["bit"] == "editor" && c["scope"][0]["divisions"][0] == "law"));
    env.run(&["filter", "--anonymous", "eprint/edit", "--json"])
        .ok()
        .json()["coverage"]
        .as_str()
        .map(|c| assert_eq!(c, "none"))
        .unwrap();
    env.run(&["filter", "--user", "ed.law@example.org", "eprint/edit"])
        .ok()
        .out_contains("those matching any of")
        .out_contains("divisions=law");
    env.run(&["filter", "--anonymous", "items"])
        .err_contains("--dataset");
}

#[test]
fn privileges_json_carries_the_effective_answer_and_its_generation() {
    let env = Env::new();
    env.user("u@example.org", &[]);
    let before = env
        .run(&["privileges", "u@example.org", "--json"])
        .ok()
        .json();
    let e = &before["effective"];
    assert_eq!(e["email"], "u@example.org");
    assert_eq!(e["user_type"], "user");
    let generation = e["generation"].as_str().unwrap().to_owned();
    assert!(!generation.is_empty());
    assert!(before["privileges"].as_array().unwrap().len() > 10);
    let again = env
        .run(&["privileges", "u@example.org", "--json"])
        .ok()
        .json();
    assert_eq!(again["effective"]["generation"], generation.as_str());
    env.run(&["roles", "add", "u@example.org", "+special/thing"])
        .ok();
    let after = env
        .run(&["privileges", "u@example.org", "--json"])
        .ok()
        .json();
    assert_ne!(after["effective"]["generation"], generation.as_str());
    assert!(after["effective"]["privileges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "special/thing"));
}

#[test]
fn discovery_names_the_address_serve_really_listens_on() {
    let env = Env::new();
    let server = common::Server::start(&env);
    let (status, doc) = server.call("GET", "/.well-known/authzen-configuration", None, None);
    assert_eq!(status, 200);
    assert_eq!(
        doc["policy_decision_point"],
        format!("http://{}", server.addr)
    );
    assert_eq!(
        doc["access_evaluation_endpoint"],
        format!("http://{}/access/v1/evaluation", server.addr)
    );
}
