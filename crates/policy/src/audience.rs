//! Who may act (`who_can`): the question InvenioRDM's permission generators ask without an
//! identity ("which needs allow this?"), answered from the compiled policy alone.
//!
//! A check's mask depends on the user's effective set (shared by every user of one shape:
//! type, own entries, own grants) and on three facts of the user alone: whether they are
//! active, whether they own the item, and whether the item is in their editorial scope.
//! [`Holds`] is what one shape holds with those three facts left open; [`WhoCan`] lists it
//! for every user type (users with nothing of their own) and says where it comes from
//! (roles, system roles) and what takes it away (denies, `-p` entries). Users with entries
//! or grants of their own are answered by their own [`Holds`]
//! ([`Subject::holds`](crate::Subject::holds)); the caller keeps an index of them.
//!
//! [`WhoCan::mask`] closes the open facts for one user: it is exactly the check's mask (the
//! property tests hold the two equal on random policies, users and items).

use serde::Serialize;

use crate::bits::{PrivId, NONE};
use crate::compile::{deny_coverage, CompiledPolicy};
use crate::decide::{EDITOR, OWNER, PUBLIC, USER};
use crate::ident::{SystemRole, TypeName};
use crate::item::ItemRef;
use crate::model::{Entry, UserFacts};

/// What one shape of user holds for a privilege on an item, before the facts of the user
/// alone (active, owner, editorial scope) are known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Holds {
    /// Bit 1: a public form of the privilege, not denied to them.
    pub public: bool,
    /// Bit 2 (when active): a plain form held, or `superuser-access` and the form not denied.
    pub user: bool,
    /// Bit 4 (when active and an owner of the item): an `:owner` form held.
    pub owner: bool,
    /// Bit 8 (when active and the item is in their editorial scope): an `:editor` form held.
    pub editor: bool,
    /// They hold the marker role `editperms_none_by_default`: an empty editorial scope
    /// admits nothing (otherwise everything).
    pub editperms_none_by_default: bool,
}

impl Holds {
    /// Whether any bit can be set for some user of this shape.
    pub fn any(&self) -> bool {
        self.public || self.user || self.owner || self.editor
    }

    /// The check's mask for `user`, of this shape, on `item`; `scoped` says whether the
    /// item's dataset is checked against editorial scope ([`WhoCan::scoped`]).
    pub fn mask(&self, user: &UserFacts, item: Option<&ItemRef<'_>>, scoped: bool) -> u8 {
        let mut m = if self.public { PUBLIC } else { 0 };
        if !user.active {
            return m;
        }
        if self.user {
            m |= USER;
        }
        if let Some(item) = item {
            if self.owner && item.is_owned_by(user) {
                m |= OWNER;
            }
            if self.editor && scope_admits(scoped, user, self.editperms_none_by_default, item) {
                m |= EDITOR;
            }
        }
        m
    }
}

/// Whether `item` is in `user`'s editorial scope (SPEC 3.4): items of datasets not checked
/// against scope always are; an empty scope admits everything, unless the user holds
/// `editperms_none_by_default`; otherwise one filter must match.
#[inline]
pub(crate) fn scope_admits(
    scoped: bool,
    user: &UserFacts,
    editperms_none: bool,
    item: &ItemRef<'_>,
) -> bool {
    if !scoped {
        return true;
    }
    if user.editorial_scope.is_empty() {
        return !editperms_none;
    }
    user.editorial_scope.iter().any(|f| f.matches(item))
}

/// What users of one type with nothing of their own hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeHolds {
    /// The user type.
    #[serde(rename = "type")]
    pub user_type: TypeName,
    /// What they hold.
    #[serde(flatten)]
    pub holds: Holds,
}

/// A role that gives a tested string to whoever holds it (unless something later in their
/// walk, or a deny, takes it away).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleGives {
    /// The role.
    pub role: String,
    /// Where it is defined (built in, a file and line, run time).
    pub origin: String,
    /// It gives a plain form (bit 2).
    pub user: bool,
    /// It gives an `:owner` form (bit 4 on owned items).
    pub owner: bool,
    /// It gives an `:editor` form (bit 8 on items in scope).
    pub editor: bool,
}

/// An allow grant to a system role that gives a tested string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SystemGives {
    /// `any_user` (everyone, bit 1) or `authenticated_user` (every active user).
    pub system_role: SystemRole,
    /// The string granted.
    pub privilege: String,
    /// The bit it sets: `public`, `user`, `owner` or `editor`.
    pub bit: &'static str,
}

/// Something that takes a tested string away from some of the users who would hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclude {
    /// `deny` (an InvenioRDM exclude: always wins) or `removal` (a `-p` entry: removes what
    /// was given earlier in the same walk).
    pub kind: &'static str,
    /// The denied privilege, or the removed string.
    pub privilege: String,
    /// Who it applies to, in words: `role `admin``, `system role `any_user``,
    /// `user type `editor` entry 3`, `role `r` entry 2`.
    pub by: String,
    /// Who it applies to, for programs: `user`, `role`, `user_type` or `system_role`.
    pub target: &'static str,
    /// The target's name (a role, type or system role name; a user's email).
    pub name: String,
}

/// The condition on owners or on editorial scope that an item adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// The strings whose holders the condition admits (`eprint/edit:owner`, and its status
    /// form on a status item).
    pub privileges: Vec<String>,
    /// The condition in words.
    pub condition: String,
}

/// The answer to "who may do `privilege` (on `item`)?", from the compiled policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhoCan {
    /// The privilege asked about.
    pub privilege: String,
    /// The strings a check tests: the privilege and, on a status item, its status form;
    /// with an item, each also with `:owner` and `:editor`.
    pub tested: Vec<String>,
    /// Anonymous visitors hold it (bit 1).
    pub anonymous: bool,
    /// Whether the item's dataset is checked against editorial scope (always true without an
    /// item: no editor bit is set then).
    pub scoped: bool,
    /// What users of each type, with nothing of their own, hold.
    pub types: Vec<TypeHolds>,
    /// What users with no type (or an undefined one), with nothing of their own, hold.
    pub untyped: Holds,
    /// Roles that give a tested string.
    pub roles: Vec<RoleGives>,
    /// Allow grants to system roles that give a tested string.
    pub system_roles: Vec<SystemGives>,
    /// With an item: the item's owners are admitted if they hold one of these.
    pub owner: Option<Condition>,
    /// With an item: users holding one of these are admitted if the item is in their scope.
    pub editor: Option<Condition>,
    /// Denies and `-p` entries that take a tested string away from some of its holders.
    pub excludes: Vec<Exclude>,
}

impl WhoCan {
    /// What a user of `user_type` with nothing of their own holds.
    pub fn holds_of_type(&self, user_type: Option<&TypeName>) -> Holds {
        user_type
            .and_then(|t| self.types.iter().find(|h| &h.user_type == t))
            .map_or(self.untyped, |h| h.holds)
    }

    /// The check's mask for `user` on `item` given what their shape holds (`holds`: from
    /// [`WhoCan::holds_of_type`] for a user with nothing of their own, else their own
    /// [`Subject::holds`](crate::Subject::holds)).
    pub fn mask(&self, holds: &Holds, user: &UserFacts, item: Option<&ItemRef<'_>>) -> u8 {
        holds.mask(user, item, self.scoped)
    }
}

impl CompiledPolicy {
    /// Who may do `privilege` on `item` (or without an item): what every user type holds,
    /// the roles and system roles that give it, the owner and editor conditions, and what
    /// takes it away. Costs one [`Subject::holds`](crate::Subject::holds) per type and a scan
    /// of the roles: independent of the number of users.
    pub fn who_can(&self, privilege: &str, item: Option<&ItemRef<'_>>) -> WhoCan {
        let tested = self.tested_strings(privilege, item);
        let slots = if item.is_some() { 3 } else { 1 };
        let types = self
            .types
            .values()
            .map(|t| TypeHolds {
                user_type: t.name.clone(),
                holds: self.holds_of(&t.set, privilege, item),
            })
            .collect::<Vec<_>>();
        let mut types = types;
        types.sort_by(|a, b| a.user_type.cmp(&b.user_type));
        let condition = |slot: usize, words: &str| {
            item.map(|_| {
                let privileges: Vec<String> = tested.iter().map(|f| f[slot].1.clone()).collect();
                let list = privileges
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                Condition {
                    condition: words.replace("{}", &list),
                    privileges,
                }
            })
        };
        WhoCan {
            privilege: privilege.to_owned(),
            tested: tested
                .iter()
                .flat_map(|f| f.iter().take(slots).map(|(_, t)| t.clone()))
                .collect(),
            anonymous: self.anonymous().holds(privilege, item).public,
            scoped: item.is_none_or(|i| self.is_scoped(i.dataset())),
            types,
            untyped: self.holds_of(&self.untyped, privilege, item),
            roles: self.roles_giving(&tested, slots),
            system_roles: self.system_giving(&tested, slots),
            owner: condition(1, "the item's owners, if they hold {}"),
            editor: condition(2, "users holding {} whose editorial scope matches the item"),
            excludes: self.excludes_of(&tested, slots),
        }
    }

    /// Whether a deny of `denied` takes `tested` away (SPEC 7.8: the string itself, and for
    /// a plain one its `:owner` and `:editor` forms and every status form).
    pub fn deny_covers(&self, denied: &str, tested: &str) -> bool {
        deny_coverage(denied, &self.datasets)
            .iter()
            .any(|c| c == tested)
    }

    /// What the holder of a shared set (a type's, or the untyped one) holds.
    fn holds_of(
        &self,
        set: &crate::EffectiveSet,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Holds {
        // A shared set has no strings of its own, so any facts of that shape will do.
        let facts = UserFacts::default();
        self.subject(&facts, set)
            .map(|s| s.holds(privilege, item))
            .unwrap_or_default()
    }

    fn roles_giving(&self, tested: &[[(PrivId, String); 3]], slots: usize) -> Vec<RoleGives> {
        let mut out = Vec::new();
        for role in &self.roles {
            let gives = |id: PrivId| {
                id != NONE
                    && (role.allow.contains(&id)
                        || role
                            .ops
                            .iter()
                            .rev()
                            .find(|(_, op)| *op == id)
                            .is_some_and(|(add, _)| *add))
            };
            let by_slot = |slot: usize| slot < slots && tested.iter().any(|f| gives(f[slot].0));
            let (user, owner, editor) = (by_slot(0), by_slot(1), by_slot(2));
            if user || owner || editor {
                out.push(RoleGives {
                    role: role.name.to_string(),
                    origin: role.origin.to_string(),
                    user,
                    owner,
                    editor,
                });
            }
        }
        out.sort_by(|a, b| a.role.cmp(&b.role));
        out
    }

    fn system_giving(&self, tested: &[[(PrivId, String); 3]], slots: usize) -> Vec<SystemGives> {
        const BITS: [&str; 3] = ["user", "owner", "editor"];
        let mut out = Vec::new();
        for form in tested {
            let (id, text) = &form[0];
            if matches!(
                self.public_source.get(id),
                Some(crate::compile::PublicSource::AnyUserGrant)
            ) {
                out.push(SystemGives {
                    system_role: SystemRole::AnyUser,
                    privilege: text.clone(),
                    bit: "public",
                });
            }
            for (slot, (id, text)) in form.iter().enumerate().take(slots) {
                if *id != NONE && self.auth_allow.contains(id) {
                    out.push(SystemGives {
                        system_role: SystemRole::AuthenticatedUser,
                        privilege: text.clone(),
                        bit: BITS[slot],
                    });
                }
            }
        }
        out
    }

    fn excludes_of(&self, tested: &[[(PrivId, String); 3]], slots: usize) -> Vec<Exclude> {
        let texts: Vec<&str> = tested
            .iter()
            .flat_map(|f| f.iter().take(slots).map(|(_, t)| t.as_str()))
            .collect();
        let covers = |denied: &str| {
            deny_coverage(denied, &self.datasets)
                .iter()
                .any(|c| texts.contains(&c.as_str()))
        };
        let mut out = Vec::new();
        for role in &self.roles {
            for d in role.deny.iter().filter(|d| covers(d.as_str())) {
                out.push(Exclude {
                    kind: "deny",
                    privilege: d.to_string(),
                    by: format!("role `{}`", role.name),
                    target: "role",
                    name: role.name.to_string(),
                });
            }
        }
        for (d, sr) in self.system_deny.iter().filter(|(d, _)| covers(d.as_str())) {
            out.push(Exclude {
                kind: "deny",
                privilege: d.to_string(),
                by: format!("system role `{sr}`"),
                target: "system_role",
                name: sr.to_string(),
            });
        }
        for ty in self.config.types().values() {
            for (i, e) in ty.entries.iter().enumerate() {
                if let Entry::Minus(p) = e {
                    if texts.contains(&p.as_str()) {
                        out.push(Exclude {
                            kind: "removal",
                            privilege: p.to_string(),
                            by: format!("user type `{}` entry {}", ty.name, i + 1),
                            target: "user_type",
                            name: ty.name.to_string(),
                        });
                    }
                }
            }
        }
        for role in &self.roles {
            for (i, (add, id)) in role.ops.iter().enumerate() {
                if !add && texts.contains(&self.name(*id)) {
                    out.push(Exclude {
                        kind: "removal",
                        privilege: self.name(*id).to_owned(),
                        by: format!("role `{}` entry {}", role.name, i + 1),
                        target: "role",
                        name: role.name.to_string(),
                    });
                }
            }
        }
        out
    }
}
