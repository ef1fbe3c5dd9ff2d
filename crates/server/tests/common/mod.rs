//! The router driven in process (`oneshot`) on a fresh in-memory SQLite store per test, with
//! a file outbox for mail.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use gatehouse_core::{
    Channel, Context, CreateUser, Email, Gatehouse, GrantTo, Lifetimes, Password, PasswordPolicy,
    PasswordSource, Settings, UserRef,
};
use gatehouse_policy::{Effect, PolicyConfig, Privilege, TypeName};
use gatehouse_server::mail::FileOutbox;
use gatehouse_server::{router, AppState, ServerSettings};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

pub mod oidc;

pub const PASSWORD: &str = "password-123";

pub struct Api {
    pub router: Router,
    pub state: AppState,
    pub outbox: tempfile::TempDir,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Resp {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }

    #[track_caller]
    pub fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.text))
    }
}

/// Creates an active, confirmed user with [`PASSWORD`] through the services; returns the id.
pub async fn seed_user(gh: &Gatehouse, email: &str, user_type: &str) -> i64 {
    let u = gh
        .create_user(
            &operator(),
            CreateUser {
                email: Email::new(email).unwrap(),
                username: None,
                full_name: String::new(),
                affiliations: String::new(),
                password: PasswordSource::Clear(
                    Password::new(PASSWORD, &PasswordPolicy::default()).unwrap(),
                ),
                active: true,
                confirm: true,
                user_type: Some(TypeName::new(user_type).unwrap()),
                entries: vec![],
            },
        )
        .await
        .unwrap();
    u.id.0
}

pub fn operator() -> Context {
    Context::operator("tests", Channel::Cli)
}

impl Api {
    pub async fn new() -> Api {
        Self::with_policy(PolicyConfig::builtin().clone()).await
    }

    pub async fn with_policy(policy: PolicyConfig) -> Api {
        let store = Arc::new(gatehouse_store::SqliteStore::memory().await.unwrap());
        Self::build(store, policy).await
    }

    /// An API over a given store (for example a wrapper that fails on purpose).
    pub async fn with_store(store: Arc<dyn gatehouse_core::Store>) -> Api {
        Self::build(store, PolicyConfig::builtin().clone()).await
    }

    async fn build(store: Arc<dyn gatehouse_core::Store>, policy: PolicyConfig) -> Api {
        let settings = Settings {
            password_policy: PasswordPolicy::default(),
            default_type: TypeName::new("user").unwrap(),
            admin_email: Email::new("admin@example.org").unwrap(),
            fixture_passwords: Default::default(),
            legacy: Default::default(),
        };
        let gh = Gatehouse::new(store, policy, settings);
        let outbox = tempfile::tempdir().unwrap();
        let mailer =
            Arc::new(FileOutbox::new(outbox.path().to_path_buf(), "gatehouse@test").unwrap());
        let state = AppState::new(
            gh,
            mailer,
            ServerSettings {
                base_url: "http://gatehouse.test".into(),
                secure_cookies: false,
                lifetimes: Lifetimes::default(),
                metrics_token: Some("metrics-token-for-tests".into()),
                ..ServerSettings::default()
            },
        );
        let router =
            router(state.clone()).layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 1], 4444))));
        Api {
            router,
            state,
            outbox,
        }
    }

    pub fn gh(&self) -> &Gatehouse {
        &self.state.0.gh
    }

    /// Creates an active, confirmed user through the services.
    pub async fn user(&self, email: &str, user_type: &str) -> i64 {
        seed_user(self.gh(), email, user_type).await
    }

    pub async fn allow(&self, privilege: &str, email: &str) {
        self.gh()
            .grant(
                &operator(),
                Effect::Allow,
                Privilege::new(privilege).unwrap(),
                &GrantTo::User(UserRef::Email(email.into())),
            )
            .await
            .unwrap();
    }

    /// An admin with superuser-access, logged in; returns the bearer token.
    pub async fn admin(&self) -> String {
        self.user("admin@example.org", "admin").await;
        self.allow("superuser-access", "admin@example.org").await;
        self.login("admin@example.org").await
    }

    pub async fn login(&self, email: &str) -> String {
        let r = self
            .call(
                Method::POST,
                "/api/login",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        let r = r.expect(StatusCode::OK);
        r.body["token"].as_str().unwrap().to_owned()
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.send(req).await
    }

    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: String,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, content_type);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        self.send(b.body(Body::from(body)).unwrap()).await
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> Resp {
        self.call(Method::PUT, path, Some(token), Some(body)).await
    }

    /// Mails in the outbox, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.outbox.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// The token of the link in the newest mail.
    pub fn last_link_token(&self) -> String {
        let mail = self.mails().pop().expect("no mail in the outbox");
        let at = mail.find("token=").expect("no link in the mail");
        mail[at + 6..].split_whitespace().next().unwrap().to_owned()
    }
}
