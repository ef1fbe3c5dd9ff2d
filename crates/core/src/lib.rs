#![doc = include_str!("../README.md")]

pub mod access;
pub mod account;
pub mod auth;
pub mod bulk;
mod decision;
pub mod error;
mod guard;
pub mod hash;
mod identity;
pub mod legacy;
pub mod load;
pub mod login;
mod lookalike;
pub mod migrate;
pub mod oidc;
pub mod password_work;
pub mod platform;
pub mod service;
pub mod snapshot;
pub mod store;
pub mod text;
pub mod transfer;
pub mod user;
pub mod users;

pub use access::{GrantTo, GrantView, PrivilegesView, RoleOutcome};
pub use account::{Email, Password, PasswordPolicy, Username};
pub use auth::{Lifetimes, LoginGrant, Mailer, Principal, Resolved, ServiceToken};
pub use bulk::{BulkAction, BulkOutcome, BULK_MAX_USERS};
pub use error::CoreError;
pub use hash::{HashLimits, PasswordHash, Verified};
pub use load::{FilePassword, FixtureOutcome, FixturePlan, FixtureReport, FixtureUser};
pub use login::LoginRefusal;
pub use migrate::{MigrateOptions, MigrateReport, Platform, Source};
pub use platform::{AdmittedPage, AdmittedUser, EffectiveView, Expand, UserHolds, WhoCanView};
pub use service::{
    hash_password, Actor, Changed, Context, Gatehouse, Settings, UserRef, ADMINISTRATION_ACCESS,
};
pub use store::{
    Credential, CredentialKind, GrantFilter, HistoryFilter, LinkPurpose, NewCredential, Page,
    SortDirection, Store, StoreError, Tx, UserQuery, UserSort, UserSortField,
};
pub use transfer::{ExportReport, ImportReport, TransferCounts};
pub use user::{Channel, HistoryEvent, NewUser, StoredRole, User, UserView};
pub use users::{CreateUser, PasswordSource};
