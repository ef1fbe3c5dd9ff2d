//! The facts the engine decides on: role and type entries, grants, the subject asking and the
//! item asked about.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ident::{IdentError, Privilege, RoleName, SystemRole, TypeName, UserId};
use crate::item::{ItemRef, Owners};

/// An entry of a role definition. Inside a role every entry is a privilege: `+p` and bare `p`
/// grant, `-p` removes (roles do not nest).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RoleEntry {
    /// `p` written without a sign: grants `p`.
    Bare(Privilege),
    /// `+p`: grants `p`.
    Plus(Privilege),
    /// `-p`: removes `p` if it was granted earlier in the walk.
    Minus(Privilege),
}

impl RoleEntry {
    /// The privilege the entry names.
    pub fn privilege(&self) -> &Privilege {
        match self {
            RoleEntry::Bare(p) | RoleEntry::Plus(p) | RoleEntry::Minus(p) => p,
        }
    }

    /// Whether the entry grants (as opposed to removes).
    pub fn grants(&self) -> bool {
        !matches!(self, RoleEntry::Minus(_))
    }
}

impl FromStr for RoleEntry {
    type Err = IdentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = s.strip_prefix('+') {
            Ok(RoleEntry::Plus(rest.parse()?))
        } else if let Some(rest) = s.strip_prefix('-') {
            Ok(RoleEntry::Minus(rest.parse()?))
        } else {
            Ok(RoleEntry::Bare(s.parse()?))
        }
    }
}

impl fmt::Display for RoleEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoleEntry::Bare(p) => write!(f, "{p}"),
            RoleEntry::Plus(p) => write!(f, "+{p}"),
            RoleEntry::Minus(p) => write!(f, "-{p}"),
        }
    }
}

/// An entry of a user type list or of a user's own roles list (EPrints `user_roles` and the
/// per-user `roles` field): a bare entry is a role name, `+p` grants, `-p` removes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entry {
    /// A role name: expands to the role's entries, then the role's allow grants.
    Role(RoleName),
    /// `+p`: grants the privilege directly.
    Plus(Privilege),
    /// `-p`: removes exactly `p` if it was granted earlier in the walk.
    Minus(Privilege),
}

/// Why an entry string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The privilege after `+` or `-` is not valid.
    #[error(transparent)]
    Privilege(#[from] IdentError),
    /// A bare entry that looks like a privilege: roles lists name roles, privileges need a sign.
    #[error("`{0}` looks like a privilege, but a bare entry names a role: did you mean `+{0}`?")]
    BarePrivilege(String),
    /// A bare entry that is not a valid role name.
    #[error("invalid role name `{0}`: use 1 to 80 letters, digits, `_` or `-`, starting with a letter (or `+priv` / `-priv` for a privilege)")]
    RoleName(String),
}

impl FromStr for Entry {
    type Err = EntryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = s.strip_prefix('+') {
            Ok(Entry::Plus(rest.parse()?))
        } else if let Some(rest) = s.strip_prefix('-') {
            Ok(Entry::Minus(rest.parse()?))
        } else if s.contains('/') || s.contains(':') {
            Err(EntryError::BarePrivilege(s.to_owned()))
        } else {
            RoleName::new(s)
                .map(Entry::Role)
                .map_err(|_| EntryError::RoleName(s.to_owned()))
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Role(r) => write!(f, "{r}"),
            Entry::Plus(p) => write!(f, "+{p}"),
            Entry::Minus(p) => write!(f, "-{p}"),
        }
    }
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Allow or deny (InvenioRDM `exclude`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// Grants the privilege.
    Allow,
    /// Removes the privilege; a deny always wins.
    Deny,
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        })
    }
}

/// Who a grant is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum GrantTarget {
    /// One user.
    User(UserId),
    /// Every holder of a role (through their type or their own entries).
    Role(RoleName),
    /// A system role: everybody, or every logged-in user.
    SystemRole(SystemRole),
}

/// An InvenioRDM action grant: allow or deny one privilege to a user, a role or a system role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Grant {
    /// Allow or deny.
    pub effect: Effect,
    /// The privilege granted or denied.
    pub privilege: Privilege,
    /// Who it is for.
    pub target: GrantTarget,
}

/// One editorial scope filter: field name -> allowed values. It matches an item when every
/// field shares at least one value with the item's field (EPrints `editperms` search).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeFilter(pub BTreeMap<String, BTreeSet<String>>);

/// Why a scope filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid scope filter `{value}`: {why}; write it as `field=value,value;field=value`, e.g. `divisions=law,ecs;subjects=QA`")]
pub struct ScopeFilterError {
    /// The filter as given.
    pub value: String,
    /// What is wrong.
    pub why: String,
}

impl ScopeFilter {
    /// Most fields in one filter.
    pub const MAX_FIELDS: usize = 16;
    /// Longest field name, in characters.
    pub const MAX_FIELD_NAME: usize = 64;
    /// Most values of one field.
    pub const MAX_VALUES: usize = 100;
    /// Longest value, in characters.
    pub const MAX_VALUE: usize = 200;

    /// Builds a filter from field -> values pairs, checking that names and values are usable
    /// and within the limits above.
    pub fn from_fields(
        fields: BTreeMap<String, BTreeSet<String>>,
    ) -> Result<Self, ScopeFilterError> {
        let bad = |why: String| ScopeFilterError {
            value: crate::ident::shorten(&ScopeFilter(fields.clone()).to_string()).into_owned(),
            why,
        };
        if fields.is_empty() {
            return Err(bad("a filter needs at least one field".into()));
        }
        if fields.len() > ScopeFilter::MAX_FIELDS {
            return Err(bad(format!(
                "a filter has at most {} fields",
                ScopeFilter::MAX_FIELDS
            )));
        }
        for (field, values) in &fields {
            let shown = crate::ident::shorten(field);
            if field.chars().count() > ScopeFilter::MAX_FIELD_NAME {
                return Err(bad(format!(
                    "field name `{shown}` is longer than {} characters",
                    ScopeFilter::MAX_FIELD_NAME
                )));
            }
            if values.len() > ScopeFilter::MAX_VALUES {
                return Err(bad(format!(
                    "field `{shown}` has more than {} values",
                    ScopeFilter::MAX_VALUES
                )));
            }
            if let Some(v) = values
                .iter()
                .find(|v| v.chars().count() > ScopeFilter::MAX_VALUE)
            {
                return Err(bad(format!(
                    "value `{}` of field `{shown}` is longer than {} characters",
                    crate::ident::shorten(v),
                    ScopeFilter::MAX_VALUE
                )));
            }
            if field.is_empty()
                || !field
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad(format!(
                    "field name `{shown}` must be letters, digits, `_` or `-`"
                )));
            }
            if values.is_empty() {
                return Err(bad(format!("field `{shown}` needs at least one value")));
            }
            for v in values {
                if v.is_empty() || v.contains([',', ';', '=']) || v.chars().any(char::is_control) {
                    return Err(bad(format!(
                        "value `{}` of field `{shown}` must be non-empty without `,` `;` `=`",
                        crate::ident::shorten(v)
                    )));
                }
            }
        }
        Ok(ScopeFilter(fields))
    }

    /// Whether the item's fields satisfy every field of this filter.
    #[inline]
    pub fn matches(&self, item: &ItemRef<'_>) -> bool {
        !self.0.is_empty()
            && self.0.iter().all(|(field, allowed)| {
                // Scope filters hold a few values: a scan beats the tree's string ordering.
                item.field_any(field, |v| {
                    if allowed.len() <= 8 {
                        allowed
                            .iter()
                            .any(|a| crate::table::same_bytes(a.as_bytes(), v.as_bytes()))
                    } else {
                        allowed.contains(v)
                    }
                })
            })
    }

    /// The fields and their allowed values.
    pub fn fields(&self) -> &BTreeMap<String, BTreeSet<String>> {
        &self.0
    }
}

impl FromStr for ScopeFilter {
    type Err = ScopeFilterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| ScopeFilterError {
            value: s.to_owned(),
            why: why.to_owned(),
        };
        let mut fields = BTreeMap::new();
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, values) = part
                .split_once('=')
                .ok_or_else(|| bad(&format!("`{part}` has no `=`")))?;
            let values: BTreeSet<String> = values
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect();
            let entry: &mut BTreeSet<String> = fields.entry(field.trim().to_owned()).or_default();
            entry.extend(values);
        }
        ScopeFilter::from_fields(fields).map_err(|e| ScopeFilterError {
            value: s.to_owned(),
            why: e.why,
        })
    }
}

impl fmt::Display for ScopeFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (field, values) in &self.0 {
            if !first {
                f.write_str(";")?;
            }
            first = false;
            write!(f, "{field}=")?;
            let mut vfirst = true;
            for v in values {
                if !vfirst {
                    f.write_str(",")?;
                }
                vfirst = false;
                f.write_str(v)?;
            }
        }
        Ok(())
    }
}

/// Everything the engine needs to know about one user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct UserFacts {
    /// The user's id.
    pub id: UserId,
    /// The user's email, lower-cased, so that item owners given by email match.
    pub email: Option<String>,
    /// Whether the account is active; an inactive user holds nothing beyond the public set.
    pub active: bool,
    /// The user type; `None` or an undefined type gives no type entries.
    pub user_type: Option<TypeName>,
    /// The user's own ordered entries (EPrints per-user `roles` field).
    pub entries: Vec<Entry>,
    /// Privileges allowed to this user directly (InvenioRDM `access allow ... user`).
    pub allow: Vec<Privilege>,
    /// Privileges denied to this user directly.
    pub deny: Vec<Privilege>,
    /// Editorial scope filters (OR-ed); empty means every item unless the user holds the
    /// marker role `editperms_none_by_default`.
    pub editorial_scope: Vec<ScopeFilter>,
}

/// One owner of an item: a user id or an email.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Owner {
    /// A Gatehouse user id.
    Id(UserId),
    /// An email (compared case-insensitively).
    Email(String),
}

/// The thing a privilege is checked against, described by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// The dataset, e.g. `eprint`, `user`, `saved_search`.
    pub dataset: String,
    /// The EPrints virtual dataset (status): `inbox`, `buffer`, `archive`, `deletion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The owners (co-owners allowed); none means the item has no owner.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<Owner>,
    /// Field values used by editorial scope, hierarchical values with their ancestors.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, Vec<String>>,
}

/// Why an item description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid item: {0}")]
pub struct ItemError(pub String);

impl Item {
    /// An item of `dataset` with no status, owners or fields.
    pub fn new(dataset: impl Into<String>) -> Self {
        Item {
            dataset: dataset.into(),
            ..Item::default()
        }
    }

    /// Sets the status.
    pub fn with_status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// Adds an owner.
    pub fn with_owner(mut self, owner: Owner) -> Self {
        self.owners.push(owner);
        self
    }

    /// Adds values to a field.
    pub fn with_field(mut self, field: &str, values: &[&str]) -> Self {
        self.fields
            .entry(field.to_owned())
            .or_default()
            .extend(values.iter().map(|v| (*v).to_owned()));
        self
    }

    /// Lends the item as an [`ItemRef`], the form checks take.
    pub fn view(&self) -> ItemRef<'_> {
        ItemRef::new(&self.dataset)
            .maybe_status(self.status.as_deref())
            .owners(if self.owners.is_empty() {
                Owners::None
            } else {
                Owners::Mixed(&self.owners)
            })
            .field_map(&self.fields)
    }

    /// Checks the parts that become part of privilege strings.
    pub fn validate(&self) -> Result<(), ItemError> {
        self.view().validate()
    }

    /// Whether `user` is one of the owners.
    pub fn is_owned_by(&self, user: &UserFacts) -> bool {
        self.view().is_owned_by(user)
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn entries_parse_and_print() {
        for s in [
            "approve-hat",
            "+eprint/archive/edit:owner",
            "-create_eprint",
        ] {
            let e: Result<Entry, _> = s.parse();
            assert_eq!(e.map(|e| e.to_string()), Ok(s.to_owned()));
        }
        assert_eq!(
            "eprint/view".parse::<Entry>().err().map(|e| e.to_string()),
            Some("`eprint/view` looks like a privilege, but a bare entry names a role: did you mean `+eprint/view`?".to_owned())
        );
        assert!(matches!(
            "+".parse::<Entry>(),
            Err(EntryError::Privilege(_))
        ));
        assert!(matches!(
            "bad name".parse::<Entry>(),
            Err(EntryError::RoleName(_))
        ));
        let r: Result<RoleEntry, _> = "status".parse();
        assert_eq!(r.map(|r| r.to_string()), Ok("status".to_owned()));
    }

    #[test]
    fn scope_filter_parse_print_match() {
        let f: ScopeFilter = match "divisions=law,ecs;subjects=QA".parse() {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(f.to_string(), "divisions=ecs,law;subjects=QA");
        let both = Item::new("eprint")
            .with_field("divisions", &["law"])
            .with_field("subjects", &["QA", "Q"]);
        assert!(f.matches(&both.view()));
        let one = Item::new("eprint").with_field("divisions", &["law"]);
        assert!(
            !f.matches(&one.view()),
            "every field of a filter must match"
        );
        let other = Item::new("eprint")
            .with_field("divisions", &["med"])
            .with_field("subjects", &["QA"]);
        assert!(!f.matches(&other.view()));
        assert!("divisions".parse::<ScopeFilter>().is_err());
        assert!("".parse::<ScopeFilter>().is_err());
        assert!("divisions=".parse::<ScopeFilter>().is_err());
    }

    #[test]
    fn owners_by_id_or_email() {
        let user = UserFacts {
            id: UserId(7),
            email: Some("ann@example.org".into()),
            ..UserFacts::default()
        };
        assert!(Item::new("eprint")
            .with_owner(Owner::Id(UserId(7)))
            .is_owned_by(&user));
        assert!(Item::new("eprint")
            .with_owner(Owner::Id(UserId(1)))
            .with_owner(Owner::Email("ANN@example.org".into()))
            .is_owned_by(&user));
        assert!(!Item::new("eprint").is_owned_by(&user));
    }

    #[test]
    fn item_json_and_validation() {
        let item: Item = match serde_json::from_str(
            r#"{"dataset":"eprint","status":"buffer","owners":[3,"a@b.org"],"fields":{"divisions":["law"]}}"#,
        ) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            item.owners,
            vec![Owner::Id(UserId(3)), Owner::Email("a@b.org".into())]
        );
        assert!(item.validate().is_ok());
        assert!(serde_json::from_str::<Item>(r#"{"dataset":"eprint","colour":1}"#).is_err());
        assert!(Item::new("e/print").validate().is_err());
        assert!(Item::new("eprint").with_status("").validate().is_err());
    }
}
