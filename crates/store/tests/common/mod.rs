//! What the service-level tests on the SQLite store share: a `Gatehouse` over a fresh
//! in-memory database with the built-in policy, the command-line operator, a user's context,
//! and creating users.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gatehouse_core::legacy::LegacySettings;
use gatehouse_core::{
    Actor, Channel, Context, CreateUser, Email, Gatehouse, PasswordPolicy, PasswordSource,
    Settings, User, Username,
};
use gatehouse_policy::{PolicyConfig, TypeName};
use gatehouse_store::SqliteStore;

/// Services over a new in-memory SQLite database and the built-in policy.
pub async fn gatehouse() -> Gatehouse {
    let store = Arc::new(SqliteStore::memory().await.unwrap());
    let settings = Settings {
        password_policy: PasswordPolicy::default(),
        default_type: TypeName::new("user").unwrap(),
        admin_email: Email::new("admin@example.org").unwrap(),
        fixture_passwords: Default::default(),
        legacy: LegacySettings::default(),
    };
    Gatehouse::new(store, PolicyConfig::builtin().clone(), settings)
}

/// The command-line operator (allowed everything).
pub fn operator() -> Context {
    Context::operator("tests", Channel::Cli)
}

/// A logged-in user acting through the API.
pub fn as_user(user: &User) -> Context {
    Context {
        actor: Actor::User(user.id),
        channel: Channel::Api,
        credential: None,
        snapshot: None,
    }
}

/// A user to create: active, confirmed, no password, the default type.
pub fn new_user(email: &str, username: Option<&str>) -> CreateUser {
    CreateUser {
        email: Email::new(email).unwrap(),
        username: username.map(|u| Username::new(u).unwrap()),
        full_name: String::new(),
        affiliations: String::new(),
        password: PasswordSource::None,
        active: true,
        confirm: true,
        user_type: None,
        entries: Vec::new(),
    }
}

/// Creates a user as the operator.
pub async fn create(gh: &Gatehouse, email: &str, username: Option<&str>) -> User {
    gh.create_user(&operator(), new_user(email, username))
        .await
        .unwrap()
}
