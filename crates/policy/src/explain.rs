//! Explaining one decision for people: the walk (SPEC 3.1) replayed for the strings a check
//! of one privilege tests, step by step, next to the decision itself, and the mask in words.
//!
//! The decision comes from THE evaluation ([`Subject::decide`]); the walk is replayed from
//! the same facts for explanations only, so it may allocate and take its time. The fast path
//! never comes here. A property test holds the walk's last word on every string equal to
//! what the evaluation reads ([`Subject::holds`]).

use serde::Serialize;

use crate::compile::{deny_coverage, CompiledPolicy, DenySource, Prov};
use crate::decide::{Decision, Subject, EDITOR, OWNER, PUBLIC, USER};
use crate::effective::EffectiveSet;
use crate::ident::RoleName;
use crate::item::ItemRef;
use crate::model::{Entry, UserFacts};

/// A decision and the walk that led to it ([`Subject::explain`], [`CompiledPolicy::explain`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The decision, exactly as a check gives it (mask, bits, reasons).
    pub decision: Decision,
    /// Every step of the walk that touched a string the check tests (the privilege and its
    /// `:owner` and `:editor` forms, and their `<dataset>/<status>/...` forms on an item with
    /// a status), in walk order. Empty for an anonymous visitor whose privilege is not public.
    /// The walk is about what the user holds; whether they are active, own the item or have
    /// it in their editorial scope are facts of the check, which the decision's reasons give.
    pub steps: Vec<WalkStep>,
}

impl Explanation {
    /// Each set bit of the decision's mask in words ([`mask_words`]).
    pub fn mask_words(&self) -> Vec<&'static str> {
        mask_words(self.decision.mask)
    }
}

/// Where in the walk a step happened, in walk order (SPEC 3.1 and the public set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WalkStage {
    /// The entries of the user's type: `+p`, `-p`, and roles (their entries, then their
    /// allow grants).
    UserType,
    /// The user's own entries, after the type's: extra roles, `+p`, `-p`.
    OwnEntries,
    /// Allow grants to the user, then to `authenticated_user`.
    Grants,
    /// Denies to the user, to roles they hold, and to system roles (`authenticated_user`,
    /// `any_user`).
    Denies,
    /// The public set: the built-in public list, `public_roles`, allow grants to `any_user`.
    Public,
    /// `superuser-access`: every plain privilege not denied.
    Superuser,
}

/// What a step did to the string it touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// `+p`, a role's entry or an allow grant gave the string, which was not held.
    Added,
    /// The same, but the string was held already: no effect.
    AlreadyHeld,
    /// A `-p` (in the type, the user's own entries, or inside a role) took the string away.
    Removed,
    /// A `-p` of a string that was not held: no effect.
    NotHeld,
    /// A deny covers the string: not held from here on, whatever gave it, and neither the
    /// public set nor `superuser-access` gives it back (a deny always wins).
    Denied,
    /// The string is public: bit 1, for everybody.
    Public,
    /// The string is public, but a deny above takes it from this user.
    PublicDenied,
    /// The user holds `superuser-access`: the plain string counts as held (bit 2).
    Superuser,
    /// The user holds `superuser-access`, but a deny above wins over it.
    SuperuserDenied,
}

impl StepKind {
    /// The kind as JSON names it (`added`, `already_held`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Added => "added",
            StepKind::AlreadyHeld => "already_held",
            StepKind::Removed => "removed",
            StepKind::NotHeld => "not_held",
            StepKind::Denied => "denied",
            StepKind::Public => "public",
            StepKind::PublicDenied => "public_denied",
            StepKind::Superuser => "superuser",
            StepKind::SuperuserDenied => "superuser_denied",
        }
    }

    /// A few words for people: `added`, `no effect (already held)`, ...
    pub fn words(self) -> &'static str {
        match self {
            StepKind::Added => "added",
            StepKind::AlreadyHeld => "no effect (already held)",
            StepKind::Removed => "removed",
            StepKind::NotHeld => "no effect (not held)",
            StepKind::Denied => "denied",
            StepKind::Public => "public",
            StepKind::PublicDenied => "public, but denied to this user",
            StepKind::Superuser => "held through superuser-access",
            StepKind::SuperuserDenied => "superuser-access, but denied",
        }
    }
}

impl WalkStage {
    /// The stage as JSON names it (`user_type`, `own_entries`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            WalkStage::UserType => "user_type",
            WalkStage::OwnEntries => "own_entries",
            WalkStage::Grants => "grants",
            WalkStage::Denies => "denies",
            WalkStage::Public => "public",
            WalkStage::Superuser => "superuser",
        }
    }
}

/// One step of the walk that touched one of the strings a check tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalkStep {
    /// Where in the walk.
    pub stage: WalkStage,
    /// What it did.
    pub kind: StepKind,
    /// The string it touched: the privilege, its `:owner` or `:editor` form, or one of
    /// their `<dataset>/<status>/...` forms.
    pub privilege: String,
    /// The entry, grant, deny or definition, in words, with where it is written (the same
    /// words as the decision's reasons).
    pub source: String,
    /// Whether the user has the string after this step: held through the walk and grants,
    /// and, for a plain string, public or given by `superuser-access`. After a deny it stays
    /// false. The last step of a string gives what the check reads; a string with no step
    /// is not held.
    pub held_after: bool,
}

/// What each bit of a mask means, in words, lowest bit first; `0 = ...` for a zero mask.
///
/// ```
/// assert_eq!(
///     gatehouse_policy::mask_words(8),
///     ["8 = editor: the user may act on items in their editorial scope (holds the `:editor` form)"]
/// );
/// assert_eq!(gatehouse_policy::mask_words(5).len(), 2);
/// ```
pub fn mask_words(mask: u8) -> Vec<&'static str> {
    const WORDS: [(u8, &str); 4] = [
        (
            PUBLIC,
            "1 = public: anybody may do this, logged in or not",
        ),
        (
            USER,
            "2 = user: the user holds the privilege itself, for every item",
        ),
        (
            OWNER,
            "4 = owner: the user owns the item and holds the `:owner` form",
        ),
        (
            EDITOR,
            "8 = editor: the user may act on items in their editorial scope (holds the `:editor` form)",
        ),
    ];
    if mask == 0 {
        return vec!["0 = not allowed: no bit is set"];
    }
    WORDS
        .iter()
        .filter(|(bit, _)| mask & bit != 0)
        .map(|(_, w)| *w)
        .collect()
}

impl CompiledPolicy {
    /// The decision for `user` asking for `privilege` on `item`, with the walk that led to
    /// it: one call, as [`CompiledPolicy::check`].
    pub fn explain(
        &self,
        user: &UserFacts,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Explanation {
        let set = self.memo_set(user);
        match self.subject(user, &set) {
            Ok(s) => s.explain(privilege, item),
            // INVARIANT: `memo_set` derives under this policy; should it not, no steps.
            Err(_) => Explanation {
                decision: self.check(user, privilege, item),
                steps: Vec::new(),
            },
        }
    }

    /// The decision for an anonymous visitor, with the public steps.
    pub fn explain_anonymous(&self, privilege: &str, item: Option<&ItemRef<'_>>) -> Explanation {
        self.anonymous().explain(privilege, item)
    }
}

impl Subject<'_> {
    /// The decision ([`Subject::decide`]) and the walk that led to it ([`Subject::walk`]).
    pub fn explain(&self, privilege: &str, item: Option<&ItemRef<'_>>) -> Explanation {
        Explanation {
            decision: self.decide(privilege, item),
            steps: self.walk(privilege, item),
        }
    }

    /// Every step of the walk that touched a string a check of `privilege` on `item` tests,
    /// in walk order. For explanations: it replays the walk and allocates.
    pub fn walk(&self, privilege: &str, item: Option<&ItemRef<'_>>) -> Vec<WalkStep> {
        let p = self.policy();
        let forms = p.tested_strings(privilege, item);
        let mut strings = Vec::with_capacity(forms.len() * 3);
        let mut plain = Vec::with_capacity(forms.len());
        for form in forms {
            for (slot, (_, text)) in form.into_iter().enumerate() {
                if slot == 0 {
                    plain.push(strings.len());
                }
                strings.push(text);
            }
        }
        let mut t = Trace {
            policy: p,
            held: vec![false; strings.len()],
            denied: vec![false; strings.len()],
            strings,
            plain,
            steps: Vec::new(),
        };
        match (self.user_facts(), self.user_set()) {
            (Some(user), Some(set)) => t.user(user, set),
            _ => t.anonymous(),
        }
        t.steps
    }
}

/// The walk replayed for a few strings.
struct Trace<'p> {
    policy: &'p CompiledPolicy,
    /// The strings a check tests.
    strings: Vec<String>,
    /// Indexes of the plain ones (the only ones public and `superuser-access` apply to).
    plain: Vec<usize>,
    held: Vec<bool>,
    denied: Vec<bool>,
    steps: Vec<WalkStep>,
}

impl Trace<'_> {
    fn index(&self, s: &str) -> Option<usize> {
        self.strings.iter().position(|t| t == s)
    }

    fn push(&mut self, i: usize, stage: WalkStage, kind: StepKind, source: String) {
        let held_after = match kind {
            StepKind::Added | StepKind::AlreadyHeld | StepKind::Public | StepKind::Superuser => {
                true
            }
            StepKind::Removed
            | StepKind::NotHeld
            | StepKind::Denied
            | StepKind::PublicDenied
            | StepKind::SuperuserDenied => false,
        };
        self.steps.push(WalkStep {
            stage,
            kind,
            privilege: self.strings.get(i).cloned().unwrap_or_default(),
            source,
            held_after,
        });
    }

    /// `+s` (`add`) or `-s` from `at`: the step, if `s` is traced.
    fn apply(&mut self, user: &UserFacts, s: &str, add: bool, at: Prov, stage: WalkStage) {
        let Some(i) = self.index(s) else { return };
        let was = self.held[i];
        let kind = match (add, was) {
            (true, false) => StepKind::Added,
            (true, true) => StepKind::AlreadyHeld,
            (false, true) => StepKind::Removed,
            (false, false) => StepKind::NotHeld,
        };
        self.held[i] = add;
        let words = self.policy.entry_words(user, at, s, add);
        self.push(i, stage, kind, words);
    }

    /// An allow grant: gives `s` unless held (the earlier source stays).
    fn grant(&mut self, user: &UserFacts, s: &str, at: Prov) {
        let Some(i) = self.index(s) else { return };
        let kind = if self.held[i] {
            StepKind::AlreadyHeld
        } else {
            StepKind::Added
        };
        self.held[i] = true;
        let words = self.policy.entry_words(user, at, s, true);
        self.push(i, WalkStage::Grants, kind, words);
    }

    /// A role's entries, then its allow grants, held through `entry` of the type or the user.
    fn role(&mut self, user: &UserFacts, role: &RoleName, entry: u16, own: bool) {
        let p = self.policy;
        let Some(ri) = p.role_index.get(role).copied() else {
            return;
        };
        let Some(r) = p.roles.get(ri as usize) else {
            return;
        };
        let (at, stage) = if own {
            (
                Prov::Own {
                    entry,
                    role: Some(ri),
                },
                WalkStage::OwnEntries,
            )
        } else {
            (
                Prov::Type {
                    entry,
                    role: Some(ri),
                },
                WalkStage::UserType,
            )
        };
        for (add, id) in &r.ops {
            self.apply(user, p.name(*id), *add, at, stage);
        }
        let grant = Prov::RoleGrant {
            role: ri,
            own,
            entry,
        };
        for id in &r.allow {
            let Some(i) = self.index(p.name(*id)) else {
                continue;
            };
            // A role's allow grant is applied like an entry: it is part of the role.
            let kind = if self.held[i] {
                StepKind::AlreadyHeld
            } else {
                StepKind::Added
            };
            self.held[i] = true;
            let words = p.entry_words(user, grant, p.name(*id), true);
            self.push(i, stage, kind, words);
        }
    }

    /// SPEC 3.1 for a user, then the public set and `superuser-access`.
    fn user(&mut self, user: &UserFacts, set: &EffectiveSet) {
        let p = self.policy;
        let mut held_roles: Vec<&RoleName> = Vec::new();
        // Step 1: the type's entries (as compiled: an unknown type has none) ...
        let ty = user
            .user_type
            .as_ref()
            .filter(|t| p.types.contains_key(*t))
            .and_then(|t| p.config.types().get(t));
        for (i, e) in ty
            .map(|t| t.entries.as_slice())
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let entry = u16::try_from(i).unwrap_or(u16::MAX);
            match e {
                Entry::Plus(s) | Entry::Minus(s) => self.apply(
                    user,
                    s.as_str(),
                    matches!(e, Entry::Plus(_)),
                    Prov::Type { entry, role: None },
                    WalkStage::UserType,
                ),
                Entry::Role(r) => {
                    held_roles.push(r);
                    self.role(user, r, entry, false);
                }
            }
        }
        // ... then the user's own.
        for (i, e) in user.entries.iter().enumerate() {
            let entry = u16::try_from(i).unwrap_or(u16::MAX);
            match e {
                Entry::Plus(s) | Entry::Minus(s) => self.apply(
                    user,
                    s.as_str(),
                    matches!(e, Entry::Plus(_)),
                    Prov::Own { entry, role: None },
                    WalkStage::OwnEntries,
                ),
                Entry::Role(r) => {
                    held_roles.push(r);
                    self.role(user, r, entry, true);
                }
            }
        }
        // Step 2: allow grants to the user, then to `authenticated_user`.
        for s in &user.allow {
            self.grant(user, s.as_str(), Prov::UserGrant);
        }
        for id in &p.auth_allow {
            self.grant(user, p.name(*id), Prov::SystemGrant);
        }
        // Step 3: denies, in the order the set is derived (each denied string once per deny).
        let mut denies: Vec<(&crate::ident::Privilege, DenySource)> =
            user.deny.iter().map(|d| (d, DenySource::User)).collect();
        for r in &held_roles {
            let Some(role) = p.role_index.get(*r).and_then(|i| p.roles.get(*i as usize)) else {
                continue;
            };
            for d in &role.deny {
                if !denies.iter().any(|(q, _)| *q == d) {
                    denies.push((d, DenySource::Role((*r).clone())));
                }
            }
        }
        for (d, sr) in &p.system_deny {
            if !denies.iter().any(|(q, _)| *q == d) {
                denies.push((d, DenySource::System(*sr)));
            }
        }
        for (d, src) in &denies {
            let words = format!("deny of `{d}` to {}", CompiledPolicy::deny_who(src));
            for s in deny_coverage(d.as_str(), &p.datasets) {
                if let Some(i) = self.index(&s) {
                    let why = if self.held[i] {
                        words.clone()
                    } else {
                        format!("{words} (it was not held; the deny also stops public and `superuser-access`)")
                    };
                    self.held[i] = false;
                    self.denied[i] = true;
                    self.push(i, WalkStage::Denies, StepKind::Denied, why);
                }
            }
        }
        self.public();
        // Step 4: `superuser-access` (whether the account is active is the check's fact).
        if set.is_superuser() {
            let words = format!(
                "holds `superuser-access` ({})",
                p.prov_words(user, set, p.superuser)
            );
            for i in self.plain.clone() {
                let kind = if self.denied[i] {
                    StepKind::SuperuserDenied
                } else {
                    StepKind::Superuser
                };
                self.held[i] = !self.denied[i];
                self.push(i, WalkStage::Superuser, kind, words.clone());
            }
        }
    }

    /// An anonymous visitor: the denies to `any_user` that cover a public string, and the
    /// public set.
    fn anonymous(&mut self) {
        let p = self.policy;
        for (d, sr) in &p.system_deny {
            if *sr != crate::ident::SystemRole::AnyUser {
                continue;
            }
            for s in deny_coverage(d.as_str(), &p.datasets) {
                if let Some(i) = self.index(&s) {
                    self.denied[i] = true;
                    let words = format!("deny of `{d}` to system role `any_user`");
                    self.push(i, WalkStage::Denies, StepKind::Denied, words);
                }
            }
        }
        self.public();
    }

    /// The public set: a plain string defined public gives bit 1 unless denied above.
    fn public(&mut self) {
        let p = self.policy;
        for i in self.plain.clone() {
            let Some(id) = self.strings.get(i).and_then(|s| p.ids.get(s.as_str())) else {
                continue;
            };
            if !p.public_source.contains_key(id) {
                continue;
            }
            let words = p.public_words(*id);
            if self.denied[i] {
                self.push(i, WalkStage::Public, StepKind::PublicDenied, words);
            } else {
                self.held[i] = true;
                self.push(i, WalkStage::Public, StepKind::Public, words);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_words_name_every_bit() {
        assert_eq!(mask_words(0), ["0 = not allowed: no bit is set"]);
        let all = mask_words(15);
        assert_eq!(all.len(), 4);
        for (w, start) in all
            .iter()
            .zip(["1 = public", "2 = user", "4 = owner", "8 = editor"])
        {
            assert!(w.starts_with(start), "{w}");
        }
        assert_eq!(mask_words(16), Vec::<&str>::new());
    }

    #[test]
    fn kinds_and_stages_serialize_as_named() {
        for k in [
            StepKind::Added,
            StepKind::AlreadyHeld,
            StepKind::Removed,
            StepKind::NotHeld,
            StepKind::Denied,
            StepKind::Public,
            StepKind::PublicDenied,
            StepKind::Superuser,
            StepKind::SuperuserDenied,
        ] {
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(serde_json::Value::String(k.as_str().to_owned()))
            );
        }
        for s in [
            WalkStage::UserType,
            WalkStage::OwnEntries,
            WalkStage::Grants,
            WalkStage::Denies,
            WalkStage::Public,
            WalkStage::Superuser,
        ] {
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::String(s.as_str().to_owned()))
            );
        }
    }
}
