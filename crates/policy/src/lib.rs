#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod audience;
mod bits;
mod cache;
mod compile;
mod config;
mod convert;
mod decide;
mod effective;
mod explain;
mod filter;
mod ident;
mod item;
mod json;
mod model;
mod reasons;
mod show;
mod table;

pub use audience::{Condition, Exclude, Holds, RoleGives, SystemGives, TypeHolds, WhoCan};
pub use cache::EffectiveCache;
pub use compile::{CompileError, CompiledPolicy};
pub use config::{
    DatasetInfo, DatasetRules, Origin, PolicyConfig, PolicyErrors, PolicyIssue, PublicDef, RoleDef,
    TypeDef, CATALOG_NAME, EDITPERMS_NONE_BY_DEFAULT, SUPERUSER_ACCESS,
};
pub use convert::{convert_user_roles, ConvertError, ConvertErrors};
pub use decide::{
    Decision, Query, Reason, ReasonKind, StaleSet, Subject, EDITOR, OWNER, PUBLIC, USER,
};
pub use effective::EffectiveSet;
pub use explain::{mask_words, Explanation, StepKind, WalkStage, WalkStep};
pub use filter::{Coverage, FilterCondition, ListFilter, OwnerIs};
pub use ident::{
    split_scope, IdentError, Privilege, RoleName, Scope, SystemRole, TypeName, UserId,
    MAX_PRIVILEGE_LEN,
};
pub use item::{Field, ItemRef, Owners, Values};
pub use model::{
    Effect, Entry, EntryError, Grant, GrantTarget, Item, ItemError, Owner, RoleEntry, ScopeFilter,
    ScopeFilterError, UserFacts,
};
pub use show::{HeldListing, RoleListing, TypeListing};
