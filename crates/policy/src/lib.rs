//! Gatehouse's policy engine: EPrints roles and privileges with InvenioRDM grants, in one
//! pure crate (no I/O, no async, no database or web types).
//!
//! Facts in, decision out:
//!
//! 1. [`PolicyConfig`] holds roles, user types and public privileges: the built-in EPrints
//!    3.4.7 catalog overlaid by an optional `user_roles.yaml` ([`PolicyConfig::with_file`]).
//! 2. [`CompiledPolicy::compile`] adds run-time roles and the grants to roles and system
//!    roles, interns every privilege and walks each user type once.
//! 3. [`CompiledPolicy::effective`] derives one user's [`EffectiveSet`] (type walk, own
//!    entries, grants, denies, superuser); [`EffectiveCache`] keeps them between checks.
//! 4. [`CompiledPolicy::mask`] (fast) and [`CompiledPolicy::decide`] (with reasons) answer
//!    "may this user do this privilege to this item?" with the EPrints bitmask
//!    (1 public, 2 user, 4 owner, 8 editor).
//!
//! See the crate README for the rules with examples.

pub mod cache;
pub mod compile;
pub mod config;
pub mod decide;
pub mod ident;
pub mod model;
pub mod show;
pub mod yaml;

pub use cache::EffectiveCache;
pub use compile::{CompileError, CompiledPolicy, EffectiveSet};
pub use config::{Origin, PolicyConfig, PolicyErrors, PolicyIssue, RoleDef, TypeDef};
pub use decide::{Decision, Reason, ReasonKind, Who, EDITOR, OWNER, PUBLIC, USER};
pub use ident::{IdentError, Privilege, RoleName, Scope, SystemRole, TypeName, UserId};
pub use model::{
    Effect, Entry, Grant, GrantTarget, Item, Owner, RoleEntry, ScopeFilter, UserFacts,
};
