//! Runs the real `gatehouse` binary in a temporary working directory with a clean
//! environment, so every test has its own data directory and app_data.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One temporary installation.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub extra_env: Vec<(String, String)>,
}

/// What a run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn err_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn out_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }
}

impl Env {
    /// An empty installation with an `app_data` folder.
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app_data")).unwrap();
        Env {
            dir,
            extra_env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn app_data(&self) -> PathBuf {
        self.dir.path().join("app_data")
    }

    /// Writes `app_data/<name>`.
    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.app_data().join(name), text).unwrap();
    }

    /// Writes `gatehouse.toml`.
    pub fn config(&self, text: &str) {
        std::fs::write(self.dir.path().join("gatehouse.toml"), text).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_with(args, stdin, None)
    }

    /// Runs the binary with its address space capped at `vm_kib` (`ulimit -v`): a test of
    /// hostile input fails instead of taking the machine if the defence regresses.
    pub fn run_capped(&self, args: &[&str], vm_kib: u64) -> Run {
        self.run_with(args, None, Some(vm_kib))
    }

    fn run_with(&self, args: &[&str], stdin: Option<&str>, vm_kib: Option<u64>) -> Run {
        let mut cmd = capped_command(vm_kib);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("USER", "tester")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs one SQL statement on the SQLite database directly (to set up what no command
    /// would write, such as a hostile stored hash).
    pub fn sql(&self, statement: &str) {
        let db = self.path().join("gatehouse-data/gatehouse.sqlite");
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
                .await
                .unwrap();
            sqlx::query(statement).execute(&mut conn).await.unwrap();
            conn.close().await.unwrap();
        });
    }

    /// `users list --json` as a value, for before/after comparisons.
    pub fn users(&self) -> serde_json::Value {
        self.run(&["users", "list", "--limit", "0", "--json"])
            .ok()
            .json()
    }

    /// Creates an active, confirmed user with a password.
    pub fn user(&self, email: &str, extra: &[&str]) -> Run {
        let mut args = vec![
            "users",
            "create",
            email,
            "--password",
            "password-123",
            "--active",
            "--confirm",
        ];
        args.extend_from_slice(extra);
        let r = self.run(&args);
        r.ok();
        r
    }
}

/// The `gatehouse` binary, run through `sh -c 'ulimit -v N; exec ...'` when capped.
fn capped_command(vm_kib: Option<u64>) -> Command {
    let bin = env!("CARGO_BIN_EXE_gatehouse");
    match vm_kib {
        None => Command::new(bin),
        Some(kib) => {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", &format!("ulimit -v {kib} && exec \"$0\" \"$@\""), bin]);
            cmd
        }
    }
}

/// A `gatehouse serve` child process on a free port.
pub struct Server {
    pub child: std::process::Child,
    pub addr: String,
    /// What the server wrote to standard error after it started listening.
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    /// Starts `gatehouse serve --listen 127.0.0.1:0` in `env`'s directory and waits until it
    /// listens. The child is reaped by `stop` or, if a test panics first, by `Drop`.
    pub fn start(env: &Env) -> Server {
        Self::start_with(env, None)
    }

    /// The same with the server's address space capped at `vm_kib` (`ulimit -v`).
    pub fn start_capped(env: &Env, vm_kib: u64) -> Server {
        Self::start_with(env, Some(vm_kib))
    }

    #[allow(clippy::zombie_processes)]
    fn start_with(env: &Env, vm_kib: Option<u64>) -> Server {
        use std::io::BufRead;
        let mut cmd = capped_command(vm_kib);
        cmd.args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(env.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GATEHOUSE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in &env.extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if stderr.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the server exited before listening");
            }
            if let Some(rest) = line.trim().strip_prefix("gatehouse listening on http://") {
                let addr = rest.to_owned();
                // Keep draining stderr so the server never blocks on a full pipe.
                let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
                let kept = log.clone();
                std::thread::spawn(move || {
                    let mut line = String::new();
                    while stderr.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                        kept.lock().unwrap().push_str(&line);
                        line.clear();
                    }
                });
                return Server { child, addr, log };
            }
        }
    }

    /// One HTTP/1.1 request; returns the status and the JSON body (parsed, or Null).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let (status, text) = http(&self.addr, method, path, token, body);
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }

    /// The server's peak resident memory so far, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Logs in over HTTP and returns the bearer token; panics unless the answer is 200.
    pub fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self.call(
            "POST",
            "/api/login",
            None,
            Some(&serde_json::json!({"email": email, "password": password}).to_string()),
        );
        assert_eq!(status, 200, "log in as {email}: {body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Sends a signal (`HUP`, `TERM`...) to the server.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} {pid}");
    }

    /// Waits up to 10 s for `pred` to hold, polling; panics with `what` otherwise.
    pub fn wait_for(&self, what: &str, mut pred: impl FnMut(&Server) -> bool) {
        for _ in 0..200 {
            if pred(self) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!(
            "timed out waiting for {what}; server log:\n{}",
            self.log.lock().unwrap()
        );
    }

    /// SIGTERM, and the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One HTTP/1.1 request over a fresh connection; returns (status, JSON text of the body).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
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
    let json = match (body.find(['{', '[']), body.rfind(['}', ']'])) {
        (Some(a), Some(b)) if b >= a => body[a..=b].to_owned(),
        _ => body,
    };
    (status, json)
}

/// A fresh PostgreSQL database for one test, dropped at the end. Made from
/// `GATEHOUSE_TEST_DATABASE_URL` (an admin URL such as
/// `postgres://postgres@127.0.0.1:5432/postgres`).
pub struct TestDb {
    admin: String,
    name: String,
    pub url: String,
}

impl TestDb {
    /// `None` (after printing `skipped: ...` for `what`) without
    /// `GATEHOUSE_TEST_DATABASE_URL`, unless `GATEHOUSE_REQUIRE_POSTGRES=1`, which fails.
    /// `tag` goes into the database name.
    pub fn create(tag: &str, what: &str) -> Option<TestDb> {
        let Ok(admin) = std::env::var("GATEHOUSE_TEST_DATABASE_URL") else {
            if std::env::var("GATEHOUSE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("GATEHOUSE_REQUIRE_POSTGRES=1 but GATEHOUSE_TEST_DATABASE_URL is not set");
            }
            println!("skipped: GATEHOUSE_TEST_DATABASE_URL is not set ({what})");
            return None;
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("gh_{tag}_{}_{}", std::process::id(), nanos % 1_000_000_000);
        run_sql(&admin, &format!("CREATE DATABASE {name}"));
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let url = format!("{base}/{name}");
        Some(TestDb { admin, name, url })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        run_sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn run_sql(url: &str, sql: &str) {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    });
}
