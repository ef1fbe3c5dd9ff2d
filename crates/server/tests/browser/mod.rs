//! Support for the admin UI browser tests: a real server on 127.0.0.1:0 (in-memory SQLite, a
//! file outbox), `chromedriver` started as a child process, and headless Chromium driven
//! over WebDriver with `fantoccini`.
//!
//! [`Harness::check`] is called on every page a test visits: it runs axe-core (the npm
//! package, installed under `tests/browser/` by `.ci/run`) at 1280 and at 390 pixels and
//! fails on any violation of impact serious or critical, fails when the page scrolls sideways
//! at 360 pixels, and keeps a screenshot at both widths in
//! `target/screenshots/<test>-<page>-<width>.png`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use gatehouse_core::{
    Channel, Context, Email, Gatehouse, GrantTo, Lifetimes, PasswordPolicy, Settings, UserRef,
};
use gatehouse_policy::{Effect, PolicyConfig, Privilege, TypeName};
use gatehouse_server::mail::FileOutbox;
use gatehouse_server::{router, AppState, ServerSettings};
use serde_json::json;

pub const PASSWORD: &str = "password-123";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The seed's approve-hat role, as in app_data/user_roles.yaml.
const ROLES: &str = "roles:\n  approve-hat:\n    - eprint/buffer/view:editor\n    - eprint/buffer/summary:editor\n    - eprint/buffer/details:editor\n    - eprint/buffer/move_archive:editor\n";

/// One browser test at a time: two Chromiums on a small machine only slow each other down.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Where axe-core's script is: `GATEHOUSE_AXE_JS`, or `tests/browser/node_modules`.
fn axe_path() -> PathBuf {
    std::env::var_os("GATEHOUSE_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/browser/node_modules/axe-core/axe.min.js")
        })
}

/// Whether the browser tests can run; prints the skip line (or fails when
/// `GATEHOUSE_REQUIRE_BROWSER=1`) when they cannot.
pub fn available() -> bool {
    let browser =
        std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
    let axe = axe_path().exists();
    let ok = browser && axe;
    if !ok {
        let why = if browser {
            format!(
                "axe-core is not installed at {} (run `npm ci --prefix tests/browser`)",
                axe_path().display()
            )
        } else {
            format!("{CHROMIUM} or {CHROMEDRIVER} is missing (install `chromium chromium-driver`)")
        };
        if std::env::var("GATEHOUSE_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("GATEHOUSE_REQUIRE_BROWSER=1 but {why}");
        }
        println!("skipped: {why} (admin UI browser tests)");
    }
    ok
}

/// The serious and critical axe-core violations, as (rule, help, elements).
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
  done(JSON.stringify(r.violations
    .filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
    .map(function (v) {
      return { rule: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' '); }) };
    })));
}).catch(function (e) { done('axe failed: ' + e); });
"#;

fn operator() -> Context {
    Context::operator("tests", Channel::Cli)
}

/// A running server, a chromedriver and a browser session.
pub struct Harness {
    pub base: String,
    pub state: AppState,
    pub client: Client,
    name: String,
    driver: Child,
    _profile: tempfile::TempDir,
    _outbox: tempfile::TempDir,
    _server: tokio::task::JoinHandle<()>,
    _lock: tokio::sync::MutexGuard<'static, ()>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        // chromedriver runs in a process group of its own, with the Chromium it started: end
        // the whole group (only processes this test started), also when the test panicked
        // before the browser session was closed.
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg("--")
            .arg(format!("-{}", self.driver.id()))
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where screenshots go.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}

impl Harness {
    /// Starts everything for the test `name`, with an admin (`admin@example.org`, type admin
    /// plus a grant of superuser-access).
    pub async fn start(name: &str) -> Harness {
        Harness::start_with(name, ROLES).await
    }

    /// [`Harness::start`] with another roles file (`roles: {}` for none of its own).
    pub async fn start_with(name: &str, roles: &str) -> Harness {
        let lock = ONE_AT_A_TIME.lock().await;
        let store = Arc::new(gatehouse_store::SqliteStore::memory().await.unwrap());
        let settings = Settings {
            password_policy: PasswordPolicy::default(),
            default_type: TypeName::new("user").unwrap(),
            admin_email: Email::new("admin@example.org").unwrap(),
            fixture_passwords: Default::default(),
            legacy: Default::default(),
        };
        let policy = PolicyConfig::with_file(roles, "user_roles.yaml").unwrap();
        let gh = Gatehouse::new(store, policy, settings);
        let outbox = tempfile::tempdir().unwrap();
        let mailer =
            Arc::new(FileOutbox::new(outbox.path().to_path_buf(), "gatehouse@test").unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let state = AppState::new(
            gh,
            mailer,
            ServerSettings {
                base_url: base.clone(),
                secure_cookies: false,
                lifetimes: Lifetimes::default(),
                metrics_token: Some("metrics-token-for-tests".into()),
                ..ServerSettings::default()
            },
        );
        let app = router(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });

        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let caps = caps.as_object().unwrap().clone();
        let url = format!("http://127.0.0.1:{port}");
        let mut client = None;
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        let client = client.expect("connect to chromedriver");
        let h = Harness {
            base,
            state,
            client,
            name: name.to_owned(),
            driver,
            _profile: profile,
            _outbox: outbox,
            _server: server,
            _lock: lock,
        };
        h.user("admin@example.org", "admin").await;
        h.gh()
            .grant(
                &operator(),
                Effect::Allow,
                Privilege::new("superuser-access").unwrap(),
                &GrantTo::User(UserRef::Email("admin@example.org".into())),
            )
            .await
            .unwrap();
        h
    }

    pub fn gh(&self) -> &Gatehouse {
        &self.state.0.gh
    }

    /// Creates an active, confirmed user through the services; returns the id.
    pub async fn user(&self, email: &str, user_type: &str) -> i64 {
        crate::common::seed_user(self.gh(), email, user_type).await
    }

    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Types into the field with this id (clearing it first).
    pub async fn fill(&self, id: &str, text: &str) {
        let e = self.client.find(Locator::Id(id)).await.unwrap();
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Clicks the first element matching a CSS selector and waits for the next page.
    pub async fn click(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no `{css}` on the page: {e}"))
            .click()
            .await
            .unwrap();
        // Every click in these pages submits a form or follows a link: wait until the old
        // document is gone and the new one has its main element.
        for _ in 0..200 {
            if old.tag_name().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("main"))
            .await
            .unwrap();
    }

    /// Logs in through the form and returns the page text after it.
    pub async fn login(&self, login: &str, password: &str) -> String {
        self.goto("/admin/login").await;
        self.fill("f-login", login).await;
        self.fill("f-password", password).await;
        self.click("form[action='/admin/login'] button[type=submit]")
            .await;
        self.text().await
    }

    /// Logs out through the header button.
    pub async fn logout(&self) {
        self.click("form[action='/admin/logout'] button").await;
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The text of the element with this id.
    pub async fn text_of(&self, id: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no #{id}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// Saves a screenshot as `target/screenshots/<test><suffix>.png`.
    pub async fn screenshot(&self, suffix: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}{suffix}.png", self.name));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
    }

    pub async fn window(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
    }

    /// Runs axe-core on the page and fails on any serious or critical violation.
    pub async fn axe(&self, label: &str) {
        let source = std::fs::read_to_string(axe_path()).unwrap();
        let loaded = self
            .client
            .execute(&format!("{source}\nreturn typeof axe;"), vec![])
            .await
            .unwrap();
        assert_eq!(loaded, json!("object"), "axe-core did not load on {label}");
        let found = self.client.execute_async(AXE_RUN, vec![]).await.unwrap();
        let found = found.as_str().unwrap_or_default().to_owned();
        assert!(
            found == "[]",
            "axe-core found serious or critical violations on {label} ({}): {found}",
            self.client.current_url().await.unwrap()
        );
    }

    /// Whether the page scrolls sideways at the current width.
    async fn scrolls_sideways(&self) -> Option<String> {
        let v = self
            .client
            .execute(
                "const d = document.documentElement; \
                 if (d.scrollWidth <= d.clientWidth) { return ''; } \
                 let worst = null; \
                 for (const e of document.querySelectorAll('body *')) { \
                   const r = e.getBoundingClientRect(); \
                   if (r.right > d.clientWidth + 1 && (!worst || r.right > worst.r)) { \
                     worst = { r: r.right, what: e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className }; } } \
                 return 'page is ' + d.scrollWidth + ' px wide in a ' + d.clientWidth + ' px window; widest: ' + (worst ? worst.what : '?');",
                vec![],
            )
            .await
            .unwrap();
        v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
    }

    /// The checks every visited page gets: axe-core at 1280 and 390 pixels, no sideways
    /// scrolling at 360, and a screenshot at 1280 and at 390.
    pub async fn check(&self, label: &str) {
        self.window(1280, 1000).await;
        self.axe(label).await;
        self.shot(&format!("-{label}-1280")).await;
        self.window(390, 1400).await;
        self.axe(&format!("{label} at 390 px")).await;
        self.shot(&format!("-{label}-390")).await;
        self.window(360, 1400).await;
        if let Some(why) = self.scrolls_sideways().await {
            panic!("{label} scrolls sideways at 360 px: {why}");
        }
        self.window(1280, 1000).await;
    }

    async fn shot(&self, suffix: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}{suffix}.png", self.name));
        std::fs::write(&path, png).unwrap();
    }

    /// Goes to `path` and runs [`Harness::check`] on it.
    pub async fn visit(&self, path: &str, label: &str) {
        self.goto(path).await;
        self.check(label).await;
    }

    /// Ticks or unticks a checkbox by id.
    pub async fn tick(&self, id: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no #{id}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Chooses an option of a select by its value.
    pub async fn choose(&self, id: &str, value: &str) {
        self.client
            .find(Locator::Css(&format!("#{id} option[value='{value}']")))
            .await
            .unwrap_or_else(|e| panic!("no option {value} in #{id}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// The value of an input by id.
    pub async fn value_of(&self, id: &str) -> String {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no #{id}: {e}"))
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// The id of the element that has the focus.
    pub async fn focused(&self) -> String {
        self.client
            .execute(
                "return document.activeElement ? document.activeElement.id : '';",
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Whether an element matching `css` is on the page.
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Ends the browser session (chromedriver is killed on drop).
    pub async fn finish(self) {
        let client = self.client.clone();
        let _ = client.close().await;
    }
}
