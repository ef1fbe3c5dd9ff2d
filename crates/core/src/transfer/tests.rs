//! Table tests for reading export lines: the header checks, every record type through the
//! domain types, and messages that name the line and field but never a hash.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

const PHC: &str = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

fn fields(kind: &'static str, line: &str) -> Fields {
    Fields::read(7, line).unwrap().with_kind(kind)
}

fn message(e: CoreError) -> String {
    e.to_string()
}

#[test]
fn header_checks_format_version_and_schema() {
    let ok = r#"{"format":"gatehouse-export","version":1,"schema":3,"store":"sqlite","exported_at":"2024-05-01T12:00:00.000000Z"}"#;
    let h = read_header(ok, 3).unwrap();
    assert_eq!((h.store.as_str(), h.schema), ("sqlite", 3));
    for (line, want) in [
        (
            r#"{"type":"user"}"#,
            "line 1: this is not a gatehouse export",
        ),
        ("not json", "line 1: this is not a gatehouse export"),
        (
            r#"{"format":"gatehouse-export","version":3,"schema":3,"store":"sqlite","exported_at":"2024-05-01T12:00:00Z"}"#,
            "line 1: export format version 3 is not supported",
        ),
        (
            r#"{"format":"gatehouse-export","version":1,"schema":4,"store":"sqlite","exported_at":"2024-05-01T12:00:00Z"}"#,
            "newer than this gatehouse knows (3); upgrade gatehouse",
        ),
        (
            r#"{"format":"gatehouse-export","version":1,"schema":3,"store":"sqlite","exported_at":"2024-05-01T12:00:00Z","x":1}"#,
            "unknown field `x`",
        ),
    ] {
        let got = message(read_header(line, 3).err().unwrap());
        assert!(got.contains(want), "{line}: {got}");
    }
}

#[test]
fn a_user_line_reads_through_the_domain_types() {
    let line = format!(
        r#"{{"type":"user","id":4,"email":"Ann@Example.org","username":"Ann","full_name":"Ann","affiliations":"","active":true,"confirmed_at":null,"password_hash":"{PHC}","user_type":"editor","roles":["admin","-a/b:owner"],"editorial_scope":["subjects=law"],"created":"2024-05-01T12:00:00.000001Z","updated":"2024-05-01T12:00:00.000001Z","version":3}}"#
    );
    let u = fields("user", &line).user().unwrap();
    assert_eq!(u.id, UserId(4));
    assert_eq!(u.email.as_str(), "ann@example.org");
    assert_eq!(u.entries.len(), 2);
    assert_eq!(u.version, 3);
    assert_eq!(u.password_hash.unwrap().as_phc(), PHC);
}

#[test]
fn bad_values_name_the_line_and_field_but_never_a_hash() {
    let secret = "$argon2id$v=19$not-a-real-hash-but-secret";
    let user = |field: &str, value: &str| {
        let mut v: serde_json::Value = serde_json::from_str(
            r#"{"type":"user","id":4,"email":"a@example.org","username":null,"full_name":"","affiliations":"","active":true,"confirmed_at":null,"password_hash":null,"user_type":null,"roles":[],"editorial_scope":[],"created":"2024-05-01T12:00:00Z","updated":"2024-05-01T12:00:00Z","version":1}"#,
        )
        .unwrap();
        v[field] = serde_json::from_str(value).unwrap();
        message(fields("user", &v.to_string()).user().err().unwrap())
    };
    let got = user("password_hash", &format!("\"{secret}\""));
    assert!(got.starts_with("line 7: field `password_hash`"), "{got}");
    assert!(!got.contains("secret"), "{got}");
    assert!(user("email", "\"nope\"").contains("line 7: field `email` of a `user` record"));
    assert!(user("roles", r#"["a/b"]"#).contains("field `roles`"));
    assert!(user("active", "1").contains("must be true or false"));
    assert!(user("created", "\"yesterday\"").contains("RFC 3339"));

    let token = "ZZ".repeat(32);
    let line = format!(
        r#"{{"type":"credential","kind":"service","token_hash":"{token}","user_id":null,"name":"repo","privileges":[],"created":"2024-05-01T12:00:00Z","expires":null}}"#
    );
    let got = message(fields("credential", &line).credential().err().unwrap());
    assert!(
        got.contains("field `token_hash`") && !got.contains(&token),
        "{got}"
    );
}

#[test]
fn grants_roles_history_and_end_lines_read() {
    let g = fields(
        "grant",
        r#"{"type":"grant","effect":"deny","privilege":"a/b","target_kind":"system_role","target":"authenticated_user"}"#,
    )
    .grant()
    .unwrap();
    assert_eq!(g.effect, Effect::Deny);
    let bad = fields(
        "grant",
        r#"{"type":"grant","effect":"allow","privilege":"a/b","target_kind":"group","target":"x"}"#,
    )
    .grant()
    .err()
    .unwrap();
    assert!(message(bad).contains("`group` is not a target kind"));
    let r = fields(
        "role",
        r#"{"type":"role","name":"hat","description":null,"entries":["+a/b","-c/d"]}"#,
    )
    .role()
    .unwrap();
    assert_eq!(r.entries.len(), 2);
    let h = fields(
        "history",
        r#"{"type":"history","id":9,"at":"2024-05-01T12:00:00Z","actor":"operator root","channel":"cli","action":"user.create","user_id":null,"target":"","details":{"a":[1]}}"#,
    )
    .history()
    .unwrap();
    assert_eq!(h.id, 9);
    let c = fields(
        "end",
        r#"{"type":"end","counts":{"user":1,"role":2,"grant":3,"credential":4,"history":5}}"#,
    )
    .counts()
    .unwrap();
    assert_eq!(c.get(Kind::Credential), 4);
    assert!(Fields::read(3, "{\"type\":").is_err());
    assert!(message(Fields::read(3, "\n").err().unwrap()).starts_with("line 3: an empty line"));
}
