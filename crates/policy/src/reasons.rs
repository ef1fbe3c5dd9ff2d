//! The words of reasons: where a held privilege came from (the chain from the user to the
//! entry), which deny or `-p` took one away, where a public privilege is defined, and why a
//! refusal got no bit (without contradicting a held-but-not-applicable line). Only
//! explanations call these; the fast path never does.

use std::fmt::Write as _;

use crate::bits::PrivId;
use crate::compile::{deny_coverage, CompiledPolicy, DenySource, Prov, PublicSource};
use crate::decide::{reason, Reason, ReasonKind, Tested, SUFFIXES};
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

    /// Writes where a privilege held through entry `entry` of user type `name` (defined at
    /// `origin`) comes from: the role the entry names, or the `+p` that adds `id`.
    pub(crate) fn write_type_words(
        &self,
        out: &mut String,
        name: &str,
        origin: &crate::config::Origin,
        entry: u16,
        role: Option<u32>,
        id: PrivId,
    ) {
        out.push_str("user type `");
        out.push_str(name);
        let _ = write!(out, "` entry {}", u32::from(entry) + 1);
        match role {
            None => {
                let _ = write!(out, " `+{}` ({origin})", self.name(id));
            }
            Some(ri) => {
                out.push_str(" -> ");
                self.write_role(out, ri);
            }
        }
    }

    /// Where a held privilege comes from, in words: the chain from the user to the entry.
    /// Written into one string (reasons are built on every explained check).
    pub(crate) fn prov_words(&self, user: &UserFacts, set: &EffectiveSet, id: PrivId) -> String {
        let mut out = String::new();
        self.write_prov_words(&mut out, user, set, id);
        out
    }

    /// [`CompiledPolicy::prov_words`] between `before` and `after`, in one string.
    pub(crate) fn words_around(
        &self,
        before: &str,
        user: &UserFacts,
        set: &EffectiveSet,
        id: PrivId,
        after: &str,
    ) -> String {
        let mut out = String::with_capacity(before.len() + 96 + after.len());
        out.push_str(before);
        self.write_prov_words(&mut out, user, set, id);
        out.push_str(after);
        out
    }

    /// [`CompiledPolicy::prov_words`] written at the end of `out`.
    pub(crate) fn write_prov_words(
        &self,
        out: &mut String,
        user: &UserFacts,
        set: &EffectiveSet,
        id: PrivId,
    ) {
        out.reserve(96);
        match set.prov_of(id) {
            Some(Prov::Type { entry, role }) => {
                let ty = user.user_type.as_ref().and_then(|t| self.types.get(t));
                // Written when the type was compiled, for the entry that gives it.
                if let Some(Some(w)) = ty.and_then(|t| t.entry_words.get(entry as usize)) {
                    if w.role == role && (role.is_some() || w.id == id) {
                        out.push_str(&w.words);
                        return;
                    }
                }
                match ty {
                    Some(t) => {
                        self.write_type_words(out, t.name.as_str(), &t.origin, entry, role, id);
                    }
                    None => {
                        out.push_str("user type `");
                        Self::write_type(out, user);
                        let _ = write!(out, "` entry {}", entry + 1);
                        match role {
                            None => {
                                let _ = write!(out, " `+{}` (", self.name(id));
                                self.write_type_origin(out, user);
                                out.push(')');
                            }
                            Some(ri) => {
                                out.push_str(" -> ");
                                self.write_role(out, ri);
                            }
                        }
                    }
                }
            }
            Some(Prov::Own { entry, role }) => {
                let _ = write!(out, "the user's own entry {}", entry + 1);
                match role {
                    None => Self::write_own_entry(out, user, entry),
                    Some(ri) => {
                        out.push_str(" -> ");
                        self.write_role(out, ri);
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
                    Self::write_type(out, user);
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
    }

    /// Which `-p` took `text` away, in words.
    pub(crate) fn removal_words(&self, user: &UserFacts, at: Prov, text: &str) -> String {
        let mut out = String::from("removed by ");
        out.push_str(&self.entry_words(user, at, text, false));
        out.push_str(", and nothing later adds it back");
        out
    }

    /// The entry or allow grant at `at` that adds (`add`) or removes `text`, in words, with
    /// where it is written: "`+p` in user type `user` entry 7 (origin)", "`p` in role `r`
    /// (origin), held through the user's own entry 1", "allow grant of `p` to the user".
    pub(crate) fn entry_words(&self, user: &UserFacts, at: Prov, text: &str, add: bool) -> String {
        let mut out = String::with_capacity(96);
        match at {
            Prov::Type { entry, role: None } => {
                let sign = if add { '+' } else { '-' };
                let _ = write!(out, "`{sign}{text}` in user type `");
                Self::write_type(&mut out, user);
                let _ = write!(out, "` entry {} (", entry + 1);
                self.write_type_origin(&mut out, user);
                out.push(')');
            }
            Prov::Own { entry, role: None } => {
                let sign = if add { '+' } else { '-' };
                let _ = write!(out, "`{sign}{text}` in the user's own entry {}", entry + 1);
            }
            Prov::Type {
                entry,
                role: Some(ri),
            }
            | Prov::Own {
                entry,
                role: Some(ri),
            } => {
                let sign = if add { "" } else { "-" };
                let _ = write!(out, "`{sign}{text}` in ");
                self.write_role(&mut out, ri);
                out.push_str(", held through ");
                if matches!(at, Prov::Own { .. }) {
                    out.push_str("the user's own");
                } else {
                    out.push_str("user type `");
                    Self::write_type(&mut out, user);
                    out.push('`');
                }
                let _ = write!(out, " entry {}", entry + 1);
            }
            Prov::RoleGrant { role, own, entry } => {
                let _ = write!(out, "allow grant of `{text}` to role `");
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
            Prov::UserGrant => {
                let _ = write!(out, "allow grant of `{text}` to the user");
            }
            Prov::SystemGrant => {
                let _ = write!(
                    out,
                    "allow grant of `{text}` to system role `authenticated_user`"
                );
            }
        }
        out
    }

    /// Who a deny was given to, in words.
    pub(crate) fn deny_who(src: &DenySource) -> String {
        match src {
            DenySource::User => "the user".to_owned(),
            DenySource::Role(r) => format!("role `{r}`, which the user holds"),
            DenySource::System(sr) => format!("system role `{sr}`"),
        }
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
            .map(|(p, src)| format!("removed by a deny of `{p}` to {}", Self::deny_who(src)))
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

impl CompiledPolicy {
    /// Why a user got mask 0: for every string the check tested that the user does not
    /// hold, the deny or the `-p` that took it away, and what nothing granted.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn explain_refusal(
        &self,
        user: &UserFacts,
        set: &EffectiveSet,
        forms: usize,
        tested: Tested<'_>,
        with_item: bool,
        resolve: &dyn Fn(usize, usize) -> PrivId,
        push: &mut dyn FnMut(Reason),
    ) {
        let slots = if with_item { 3 } else { 1 };
        // A bit whose string is held in some form was explained already (not an owner, out
        // of scope): saying that nothing grants its other forms would read as a contradiction.
        let mut answered = [false; 3];
        for (slot, done) in answered.iter_mut().enumerate().take(slots) {
            *done = (0..forms).any(|f| set.held.has(resolve(f, slot)));
        }
        // The strings nothing grants, as (form, slot), written into one sentence at the end
        // (at most two forms of three strings each; no string is built for them before).
        let mut not_granted = [(0usize, 0usize); 6];
        let mut n = 0;
        for f in 0..forms {
            for (slot, suffix) in SUFFIXES.iter().enumerate().take(slots) {
                let id = resolve(f, slot);
                if set.held.has(id) {
                    continue; // explained already (not an owner, out of scope)
                }
                // Only a denied id is worth finding the deny for (every denied string of
                // this user has an id, global or their own).
                if set.denied.has(id) {
                    let text = tested.text(f, suffix);
                    let denies = self.denies_covering(set, &text);
                    if !denies.is_empty() {
                        for words in denies {
                            push(reason(ReasonKind::Denied, 0, text.clone(), words));
                        }
                        continue;
                    }
                }
                if let Some(at) = set.removal_of(id) {
                    let text = tested.text(f, suffix);
                    let words = self.removal_words(user, at, &text);
                    push(reason(ReasonKind::Removed, 0, text, words));
                    continue;
                }
                if !answered[slot] {
                    if let Some(at) = not_granted.get_mut(n) {
                        *at = (f, slot);
                        n += 1;
                    }
                }
            }
        }
        if n > 0 && user.active {
            const LEAD: &str = "nothing the user holds grants ";
            let parts = |f: usize, slot: usize| tested.parts(f, SUFFIXES[slot]);
            let len: usize = not_granted
                .iter()
                .take(n)
                .map(|(f, slot)| parts(*f, *slot).iter().map(|p| p.len()).sum::<usize>() + 4)
                .sum();
            let mut words = String::with_capacity(LEAD.len() + len);
            words.push_str(LEAD);
            for (i, (f, slot)) in not_granted.iter().take(n).enumerate() {
                if i > 0 {
                    words.push_str(", ");
                }
                words.push('`');
                for p in parts(*f, *slot) {
                    words.push_str(p);
                }
                words.push('`');
            }
            push(reason(
                ReasonKind::NotGranted,
                0,
                tested.q.to_owned(),
                words,
            ));
        }
    }
}
