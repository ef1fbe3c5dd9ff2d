//! Issue 11's numbered failures, one regression test each, on the real binary. The tests
//! of hostile hashes and YAML run the binary with its address space capped (`ulimit -v`),
//! so a regression fails the test instead of taking the machine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Env, Server};

/// Address space for capped runs: the server needs about 1.4 GB of it idle (thread stacks,
/// the allocator's reservations); a hostile Argon2 hash asks for terabytes.
const CAP_KIB: u64 = 3 * 1024 * 1024;

/// Salt and hash parts of a PHC string, valid base64, so only the parameters are hostile.
const SALT_AND_HASH: &str = "$c2FsdHNhbHRzYWx0$uX8hJLw0DTq8gT6cdgt0BW2uAlEoxKYyWNuVjVlUZdA";

fn hostile_hash(params: &str) -> String {
    format!("$argon2id$v=19${params}{SALT_AND_HASH}")
}

/// Failure 1: `fixtures load` accepted any Argon2 PHC string whatever its parameters.
#[test]
fn failure_1_hostile_hash_is_refused_at_fixtures_load() {
    let env = Env::new();
    for (params, key) in [
        ("m=2147483640,t=1,p=16777215", "argon2_max_memory_kib"),
        ("m=4294967295,t=1,p=1", "argon2_max_memory_kib"),
        ("m=19456,t=400,p=1", "argon2_max_time"),
    ] {
        env.write(
            "users.yaml",
            &format!(
                "- email: mallory@example.org\n  active: true\n  confirmed: true\n  password_hash: \"{}\"\n",
                hostile_hash(params)
            ),
        );
        env.run_capped(&["fixtures", "load"], CAP_KIB)
            .code(2)
            .err_contains("mallory@example.org")
            .err_contains(key);
    }
    assert_eq!(env.users()["total"], 0, "nothing of the load was written");
}

/// Failure 1: one anonymous log in for an account whose stored hash asks for 2 TiB grew
/// the server to the whole machine. Now the hash is never computed: the log in fails like a
/// wrong password, the server's memory stays small, and other users log in as usual.
#[test]
fn failure_1_hostile_stored_hash_is_never_computed_at_log_in() {
    let env = Env::new();
    env.user("mallory@example.org", &[]);
    env.user("ann@example.org", &[]);
    env.sql(&format!(
        "UPDATE users SET password_hash = '{}' WHERE email = 'mallory@example.org'",
        hostile_hash("m=2147483640,t=1,p=16777215")
    ));
    let server = Server::start_capped(&env, CAP_KIB);
    let body = r#"{"email":"mallory@example.org","password":"password-123"}"#;
    for _ in 0..3 {
        let (status, answer) = server.call("POST", "/api/login", None, Some(body));
        assert_eq!(status, 401, "{answer}");
        assert_eq!(answer["error"]["code"], "invalid_credentials");
    }
    assert!(
        server.peak_rss_kib() < 300 * 1024,
        "the server's memory grew to {} KiB",
        server.peak_rss_kib()
    );
    server.login("ann@example.org", "password-123");
    server.wait_for("the warning naming the account", |s| {
        s.log.lock().unwrap().contains("user_id=1")
    });
    assert!(server.stop().success());
}

/// An alias bomb: ten levels of ten aliases each, 10^9 nodes if expanded.
fn alias_bomb(key: &str) -> String {
    let mut text = format!("{key}:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("  a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    text
}

/// Failure 5: alias bombs passed 2 GB in `policy validate` and `fixtures load`, and a list
/// nested 30,000 deep aborted the process (exit 134). Each is now refused with a message.
#[test]
fn failure_5_hostile_yaml_is_refused_with_a_message() {
    let env = Env::new();
    env.write("user_roles.yaml", &alias_bomb("roles"));
    env.run_capped(&["policy", "validate"], CAP_KIB)
        .code(2)
        .err_contains("aliases");
    env.write("user_roles.yaml", "roles: {}\n");
    env.write(
        "users.yaml",
        &format!(
            "- email: a@example.org\n  {}",
            alias_bomb("roles").replace('\n', "\n  ")
        ),
    );
    env.run_capped(&["fixtures", "load"], CAP_KIB)
        .code(2)
        .err_contains("aliases");
    let deep = format!("roles: {}{}\n", "[".repeat(30_000), "]".repeat(30_000));
    env.write("user_roles.yaml", &deep);
    let r = env.run_capped(&["policy", "validate"], CAP_KIB);
    r.code(2);
    assert!(
        r.stderr.contains("nested") || r.stderr.contains("recursion limit"),
        "{}",
        r.stderr
    );
}

/// Failure 5: a `user_roles.yaml` nested 10,000 deep killed a running server on SIGHUP.
/// The reload runs the same checks as `policy validate`: refused, and the server serves on.
#[test]
fn failure_5_a_hostile_file_on_sighup_leaves_the_server_serving() {
    let env = Env::new();
    env.user("ann@example.org", &[]);
    let server = Server::start_capped(&env, CAP_KIB);
    let token = server.login("ann@example.org", "password-123");
    let block: String = (0..10_000)
        .map(|i| format!("{}- \n", " ".repeat(i * 2)))
        .collect();
    env.write("user_roles.yaml", &format!("roles:\n  deep:\n{block}"));
    server.signal("HUP");
    server.wait_for("the refused reload", |s| {
        s.log.lock().unwrap().contains("policy reload refused")
    });
    env.write("user_roles.yaml", &alias_bomb("roles"));
    server.signal("HUP");
    let (status, _) = server.call(
        "POST",
        "/api/check",
        Some(&token),
        Some(r#"{"privilege":"eprint/archive/view"}"#),
    );
    assert_eq!(status, 200);
    assert!(server.stop().success());
}

/// Sends raw bytes and returns everything the server answers before closing.
fn raw(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Failure 7: there was no timeout on reading request headers, so idle half-sent requests
/// held descriptors forever; nor a cap on connections per address. Both are limits now.
#[test]
fn failure_7_half_sent_requests_are_closed_and_connections_capped() {
    use std::io::Read;
    let env = Env::new();
    env.config("[server]\nheader_read_timeout_secs = 1\nmax_connections_per_address = 2\n");
    let server = Server::start(&env);
    let mut half = std::net::TcpStream::connect(&server.addr).unwrap();
    std::io::Write::write_all(&mut half, b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    half.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = Vec::new();
    let _ = half.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(9),
        "a half-sent request was held {waited:?}"
    );
    // Two idle connections from this address are the most; a third is closed at once.
    let _a = std::net::TcpStream::connect(&server.addr).unwrap();
    let _b = std::net::TcpStream::connect(&server.addr).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let third = raw(
        &server.addr,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(third.is_empty(), "the third connection was served: {third}");
    drop((_a, _b));
    std::thread::sleep(std::time::Duration::from_millis(200));
    let (status, _) = server.call("GET", "/healthz", None, None);
    assert_eq!(status, 200);
    assert!(server.stop().success());
}

/// Failure 9: `/metrics` was public, and the `Secure` cookie flag ignored
/// `X-Forwarded-Proto` from a trusted proxy. Now `/metrics` is served on a separate address
/// or to a token, and a trusted proxy's headers are believed (only a trusted proxy's).
#[test]
fn failure_9_metrics_are_private_and_trusted_proxies_are_believed() {
    let env = Env::new();
    env.user("ann@example.org", &[]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    env.config(&format!(
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\nmetrics_listen = \"127.0.0.1:{port}\"\n"
    ));
    let server = Server::start(&env);
    let (status, _) = server.call("GET", "/metrics", None, None);
    assert_eq!(status, 404, "no token configured: not on the main address");
    let separate = format!("127.0.0.1:{port}");
    server.wait_for("the metrics address", |_| {
        std::net::TcpStream::connect(&separate).is_ok()
    });
    let text = raw(
        &separate,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(text.contains("gatehouse_http_requests_total"), "{text}");
    let body = r#"{"email":"ann@example.org","password":"password-123"}"#;
    let login = |extra: &str| {
        raw(
            &server.addr,
            &format!(
                "POST /api/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    };
    let behind_tls = login("X-Forwarded-Proto: https\r\nX-Forwarded-For: 203.0.113.9\r\n");
    let cookie = behind_tls
        .lines()
        .find(|l| {
            l.to_lowercase()
                .starts_with("set-cookie: gatehouse_session=")
        })
        .unwrap_or_default()
        .to_owned();
    assert!(cookie.contains("Secure"), "{behind_tls}");
    let plain = login("");
    let cookie = plain
        .lines()
        .find(|l| {
            l.to_lowercase()
                .starts_with("set-cookie: gatehouse_session=")
        })
        .unwrap_or_default()
        .to_owned();
    assert!(!cookie.contains("Secure"), "{plain}");
    assert!(server.stop().success());
}
