//! Listing the effective catalog: what each role holds, what each user type ends up with and
//! where every entry came from (`gatehouse policy show`).

use serde::Serialize;

use crate::compile::CompiledPolicy;
use crate::effective::EffectiveSet;
use crate::ident::{RoleName, TypeName};
use crate::model::UserFacts;

/// A role as listed.
#[derive(Debug, Clone, Serialize)]
pub struct RoleListing {
    /// The role.
    pub name: String,
    /// Where it is defined.
    pub origin: String,
    /// Its description (run-time roles, and roles files that give one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its entries as written.
    pub entries: Vec<String>,
    /// Privileges allowed to it by grants.
    pub allow_grants: Vec<String>,
    /// Privileges denied to it by grants.
    pub deny_grants: Vec<String>,
}

/// A held privilege and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct HeldListing {
    /// The privilege.
    pub privilege: String,
    /// Its source, in words.
    pub source: String,
}

/// A user type as listed: its entries and the effective privileges they give.
#[derive(Debug, Clone, Serialize)]
pub struct TypeListing {
    /// The type.
    pub name: String,
    /// Where it is defined.
    pub origin: String,
    /// Its entries as written.
    pub entries: Vec<String>,
    /// The distinct effective privileges, sorted, with sources.
    pub privileges: Vec<HeldListing>,
}

impl CompiledPolicy {
    /// Every role, sorted by name.
    pub fn list_roles(&self) -> Vec<RoleListing> {
        let mut out: Vec<RoleListing> = self
            .roles
            .iter()
            .map(|r| {
                let def_entries = self
                    .config
                    .roles()
                    .get(&r.name)
                    .map(|d| d.entries.iter().map(ToString::to_string).collect())
                    .unwrap_or_else(|| {
                        r.ops
                            .iter()
                            .map(|(add, id)| {
                                format!("{}{}", if *add { "" } else { "-" }, self.name(*id))
                            })
                            .collect()
                    });
                RoleListing {
                    name: r.name.to_string(),
                    origin: r.origin.to_string(),
                    description: r.description.clone(),
                    entries: def_entries,
                    allow_grants: r.allow.iter().map(|id| self.name(*id).to_owned()).collect(),
                    deny_grants: r.deny.iter().map(ToString::to_string).collect(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// One role.
    pub fn show_role(&self, name: &RoleName) -> Option<RoleListing> {
        self.list_roles()
            .into_iter()
            .find(|r| r.name == name.as_str())
    }

    /// One user type with its effective privileges (as a user of that type with no entries
    /// or grants of their own holds them).
    pub fn show_type(&self, name: &TypeName) -> Option<TypeListing> {
        let ty = self.types.get(name)?;
        let facts = UserFacts {
            active: true,
            user_type: Some(name.clone()),
            ..UserFacts::default()
        };
        let eff = ty.set.clone();
        let mut privileges: Vec<HeldListing> = eff
            .prov
            .iter()
            .map(|(id, _)| HeldListing {
                privilege: self.name(*id).to_owned(),
                source: self.prov_words(&facts, &eff, *id),
            })
            .collect();
        privileges.sort_by(|a, b| a.privilege.cmp(&b.privilege));
        Some(TypeListing {
            name: ty.name.to_string(),
            origin: ty.origin.to_string(),
            entries: self
                .config
                .types()
                .get(name)
                .map(|d| d.entries.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            privileges,
        })
    }

    /// Every user type, sorted by name.
    pub fn list_types(&self) -> Vec<TypeListing> {
        let mut names: Vec<&TypeName> = self.types.keys().collect();
        names.sort();
        names
            .into_iter()
            .filter_map(|n| self.show_type(n))
            .collect()
    }

    /// The public privileges as the user with `facts` and effective set `set` sees them:
    /// without those denied to them (a deny wins over public too), sorted. Empty when `set`
    /// was not derived by this policy.
    pub fn list_public_for(&self, facts: &UserFacts, set: &EffectiveSet) -> Vec<HeldListing> {
        let Ok(subject) = self.subject(facts, set) else {
            return Vec::new();
        };
        let mut out = self.list_public();
        out.retain(|p| subject.mask(&p.privilege, None) & crate::PUBLIC != 0);
        out
    }

    /// The public privileges with their sources, sorted.
    pub fn list_public(&self) -> Vec<HeldListing> {
        let mut out: Vec<HeldListing> = (0..self.names.len() as u32)
            .filter(|id| self.public.has(*id))
            .map(|id| HeldListing {
                privilege: self.name(id).to_owned(),
                source: match self.public_source.get(&id) {
                    Some(crate::compile::PublicSource::Def(o, true)) => {
                        format!("public_roles ({o})")
                    }
                    Some(crate::compile::PublicSource::Def(o, false)) => {
                        format!("built-in public privilege ({o})")
                    }
                    Some(crate::compile::PublicSource::AnyUserGrant) => {
                        "allow grant to `any_user`".into()
                    }
                    None => String::new(),
                },
            })
            .collect();
        out.sort_by(|a, b| a.privilege.cmp(&b.privilege));
        out
    }

    /// A user's effective privileges with sources (for `gatehouse privileges USER`).
    pub fn list_effective(
        &self,
        user: &UserFacts,
        eff: &crate::effective::EffectiveSet,
    ) -> Vec<HeldListing> {
        if !user.active {
            return Vec::new();
        }
        let mut out: Vec<HeldListing> = eff
            .prov
            .iter()
            .map(|(id, _)| HeldListing {
                privilege: eff
                    .extra_name(*id)
                    .unwrap_or_else(|| self.name(*id))
                    .to_owned(),
                source: self.prov_words(user, eff, *id),
            })
            .collect();
        out.sort_by(|a, b| a.privilege.cmp(&b.privilege));
        out
    }
}

impl CompiledPolicy {
    /// The denies that apply to a user, with whom each was given to.
    pub fn list_denies(&self, eff: &crate::effective::EffectiveSet) -> Vec<(String, String)> {
        eff.denies
            .iter()
            .map(|(p, src)| {
                let by = match src {
                    crate::compile::DenySource::User => "deny to the user".to_owned(),
                    crate::compile::DenySource::Role(r) => format!("deny to role `{r}`"),
                    crate::compile::DenySource::System(s) => format!("deny to system role `{s}`"),
                };
                (p.to_string(), by)
            })
            .collect()
    }
}
