//! `gatehouse serve` as a real process on a free port: log in over HTTP, check, and a
//! graceful shutdown on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::Env;

/// One HTTP/1.1 request over a fresh connection; returns (status, body).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    // Bodies may be chunked: keep the JSON part.
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(a), Some(b)) => body[a..=b].to_owned(),
        _ => body,
    };
    (status, json)
}

#[test]
fn the_real_binary_serves_logs_in_over_http_and_shuts_down_gracefully() {
    let env = Env::new();
    env.write(
        "users.yaml",
        "- email: ed@example.org\n  active: true\n  confirmed: true\n  password: editor-password\n  type: editor\n",
    );
    env.run(&["fixtures", "load"]).ok();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(env.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GATEHOUSE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            let _ = child.kill();
            panic!("the server exited before listening");
        }
        if let Some(rest) = line.trim().strip_prefix("gatehouse listening on http://") {
            break rest.to_owned();
        }
    };

    let (status, _) = http(&addr, "GET", "/healthz", None, None);
    assert_eq!(status, 200);
    let (status, body) = http(
        &addr,
        "POST",
        "/api/login",
        None,
        Some(r#"{"email":"ed@example.org","password":"wrong-password"}"#),
    );
    assert_eq!(status, 401, "{body}");
    let (status, body) = http(
        &addr,
        "POST",
        "/api/login",
        None,
        Some(r#"{"email":"ed@example.org","password":"editor-password"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = v["token"].as_str().unwrap().to_owned();
    let (status, body) = http(
        &addr,
        "POST",
        "/api/check",
        Some(&token),
        Some(r#"{"privilege":"eprint/edit","item":{"dataset":"eprint","status":"buffer"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"mask\":8"), "{body}");

    // A change made by another process (the CLI) is seen by the next check.
    env.run(&["access", "deny", "eprint/edit", "user", "ed@example.org"])
        .ok();
    let (_, body) = http(
        &addr,
        "POST",
        "/api/check",
        Some(&token),
        Some(r#"{"privilege":"eprint/edit","item":{"dataset":"eprint","status":"buffer"}}"#),
    );
    assert!(body.contains("\"allowed\":false"), "{body}");

    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "graceful shutdown exits 0, got {status:?}"
    );
}
