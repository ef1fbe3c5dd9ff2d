//! The words of reasons: where a held privilege came from (the chain from the user to the
//! entry), which deny or `-p` took one away, and where a public privilege is defined. Only
//! explanations call these; the fast path never does.

use std::fmt::Write as _;

use crate::bits::PrivId;
use crate::compile::{deny_coverage, CompiledPolicy, DenySource, Prov, PublicSource};
use crate::decide::{Reason, ReasonKind};
use crate::effective::EffectiveSet;
use crate::ident::{split_scope, SystemRole};
use crate::model::UserFacts;

impl CompiledPolicy {
    /// Where a public privilege comes from, in words.
    pub(crate) fn public_words(&self, id: PrivId) -> String {
        match self.public_source.get(&id) {
            Some(PublicSource::Def(origin, true)) => format!("public_roles entry ({origin})"),
            Some(PublicSource::Def(origin, false)) => {
                format!("built-in public privilege ({origin})")
            }
            Some(PublicSource::AnyUserGrant) => "allow grant to system role `any_user`".into(),
            None => "public".into(),
        }
    }

    /// Writes `role `name` (origin)`.
    fn write_role(&self, out: &mut String, ri: u32) {
        match self.roles.get(ri as usize) {
            Some(r) => {
                let _ = write!(out, "role `{}` ({})", r.name, r.origin);
            }
            None => out.push_str("a role"),
        }
    }

    /// Writes the user's type name (`-` for none).
    fn write_type(out: &mut String, user: &UserFacts) {
        match &user.user_type {
            Some(t) => out.push_str(t.as_str()),
            None => out.push('-'),
        }
    }

    /// Writes where the user's type is defined.
    fn write_type_origin(&self, out: &mut String, user: &UserFacts) {
        if let Some(t) = user.user_type.as_ref().and_then(|t| self.types.get(t)) {
            let _ = write!(out, "{}", t.origin);
        }
    }

    /// Writes ` `entry`` for the user's own entry number `entry`.
    fn write_own_entry(out: &mut String, user: &UserFacts, entry: u16) {
        if let Some(e) = user.entries.get(entry as usize) {
            let _ = write!(out, " `{e}`");
        }
    }

    /// Where a held privilege comes from, in words: the chain from the user to the entry.
    /// Written into one string (reasons are built on every explained check).
    pub(crate) fn prov_words(&self, user: &UserFacts, set: &EffectiveSet, id: PrivId) -> String {
        let mut out = String::with_capacity(96);
        match set.prov_of(id) {
            Some(Prov::Type { entry, role }) => {
                out.push_str("user type `");
                Self::write_type(&mut out, user);
                let _ = write!(out, "` entry {}", entry + 1);
                match role {
                    None => {
                        let _ = write!(out, " `+{}` (", self.name(id));
                        self.write_type_origin(&mut out, user);
                        out.push(')');
                    }
                    Some(ri) => {
                        out.push_str(" -> ");
                        self.write_role(&mut out, ri);
                    }
                }
            }
            Some(Prov::Own { entry, role }) => {
                let _ = write!(out, "the user's own entry {}", entry + 1);
                match role {
                    None => Self::write_own_entry(&mut out, user, entry),
                    Some(ri) => {
                        out.push_str(" -> ");
                        self.write_role(&mut out, ri);
                    }
                }
            }
            Some(Prov::RoleGrant { role, own, entry }) => {
                out.push_str("allow grant to role `");
                match self.role_name(role) {
                    Some(r) => out.push_str(r.as_str()),
                    None => out.push('?'),
                }
                out.push_str("`, held through ");
                if own {
                    out.push_str("the user's own");
                } else {
                    out.push_str("user type `");
                    Self::write_type(&mut out, user);
                    out.push('`');
                }
                let _ = write!(out, " entry {}", entry + 1);
            }
            Some(Prov::UserGrant) => out.push_str("allow grant to the user"),
            Some(Prov::SystemGrant) => {
                out.push_str("allow grant to system role `authenticated_user`");
            }
            None => {
                let name = set.extra_name(id).unwrap_or_else(|| self.name(id));
                let (base, _) = split_scope(name);
                let _ = write!(out, "`{base}`");
            }
        }
        out
    }

    /// Which `-p` took `text` away, in words.
    pub(crate) fn removal_words(&self, user: &UserFacts, at: Prov, text: &str) -> String {
        let mut out = String::with_capacity(96);
        let _ = write!(out, "removed by `-{text}` in ");
        match at {
            Prov::Type { entry, role: None } => {
                out.push_str("user type `");
                Self::write_type(&mut out, user);
                let _ = write!(out, "` entry {} (", entry + 1);
                self.write_type_origin(&mut out, user);
                out.push(')');
            }
            Prov::Type {
                entry,
                role: Some(ri),
            } => {
                self.write_role(&mut out, ri);
                out.push_str(", held through user type `");
                Self::write_type(&mut out, user);
                let _ = write!(out, "` entry {}", entry + 1);
            }
            Prov::Own { entry, role: None } => {
                let _ = write!(out, "the user's own entry {}", entry + 1);
                Self::write_own_entry(&mut out, user, entry);
            }
            Prov::Own {
                entry,
                role: Some(ri),
            } => {
                self.write_role(&mut out, ri);
                let _ = write!(out, ", held through the user's own entry {}", entry + 1);
            }
            Prov::RoleGrant { .. } | Prov::UserGrant | Prov::SystemGrant => {}
        }
        out.push_str(", and nothing later adds it back");
        out
    }

    /// The denies that cover `text` for this user, in words.
    pub(crate) fn denies_covering(&self, set: &EffectiveSet, text: &str) -> Vec<String> {
        set.denies
            .iter()
            .filter(|(p, _)| {
                deny_coverage(p.as_str(), &self.datasets)
                    .iter()
                    .any(|c| c == text)
            })
            .map(|(p, src)| {
                let who = match src {
                    DenySource::User => "the user".to_owned(),
                    DenySource::Role(r) => format!("role `{r}`, which the user holds"),
                    DenySource::System(sr) => format!("system role `{sr}`"),
                };
                format!("removed by a deny of `{p}` to {who}")
            })
            .collect()
    }

    /// Why an anonymous visitor gets nothing.
    pub(crate) fn anonymous_refusal(&self, privilege: &str) -> Reason {
        let denied = self.system_deny.iter().find(|(p, sr)| {
            *sr == SystemRole::AnyUser
                && deny_coverage(p.as_str(), &self.datasets)
                    .iter()
                    .any(|s| s == privilege)
        });
        match denied {
            Some((p, _)) => Reason {
                kind: ReasonKind::Denied,
                bit: 0,
                privilege: privilege.to_owned(),
                source: format!("denied by a deny of `{p}` to system role `any_user`"),
            },
            None => Reason {
                kind: ReasonKind::NotGranted,
                bit: 0,
                privilege: privilege.to_owned(),
                source: "not a public privilege, and nobody is logged in".into(),
            },
        }
    }
}
