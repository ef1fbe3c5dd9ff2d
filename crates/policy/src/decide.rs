//! Answering `check(subject, privilege, item?)`: the EPrints bitmask (1 public, 2 user,
//! 4 owner, 8 editor) and, on the full path, the reasons for each bit or for the denial.
//!
//! [`CompiledPolicy::mask`] is the fast path (ids and bit tests only);
//! [`CompiledPolicy::decide`] computes the same mask and explains it.

use std::borrow::Cow;

use serde::Serialize;

use crate::compile::{CompiledPolicy, DenySource, EffectiveSet, PrivId, Prov, PublicSource};
use crate::ident::split_scope;
use crate::model::{Entry, Item, UserFacts};

/// Bit 1: a public privilege.
pub const PUBLIC: u8 = 1;
/// Bit 2: the user holds the plain privilege.
pub const USER: u8 = 2;
/// Bit 4: the user owns the item and holds `privilege:owner`.
pub const OWNER: u8 = 4;
/// Bit 8: the item is in the user's editorial scope and the user holds `privilege:editor`.
pub const EDITOR: u8 = 8;

/// Who is asking.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    /// Nobody logged in.
    Anonymous,
    /// A user, with the effective set derived for them.
    User(&'a UserFacts, &'a EffectiveSet),
}

/// The kind of a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// Bit 1 was set.
    Public,
    /// Bit 2 was set by a held privilege.
    User,
    /// Bit 2 was set by `superuser-access`.
    Superuser,
    /// Bit 4 was set.
    Owner,
    /// Bit 8 was set.
    Editor,
    /// A scoped privilege is held but the user does not own the item.
    NotOwner,
    /// A scoped privilege is held but the item is outside the editorial scope.
    OutOfScope,
    /// A deny removed the privilege.
    Denied,
    /// Nothing granted the privilege.
    NotGranted,
    /// The account is not active: only public privileges apply.
    Inactive,
}

impl ReasonKind {
    /// The kind as JSON names it (`public`, `not_owner`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonKind::Public => "public",
            ReasonKind::User => "user",
            ReasonKind::Superuser => "superuser",
            ReasonKind::Owner => "owner",
            ReasonKind::Editor => "editor",
            ReasonKind::NotOwner => "not_owner",
            ReasonKind::OutOfScope => "out_of_scope",
            ReasonKind::Denied => "denied",
            ReasonKind::NotGranted => "not_granted",
            ReasonKind::Inactive => "inactive",
        }
    }
}

/// One reason: what was tested, what it found and where that came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The kind.
    pub kind: ReasonKind,
    /// The bit it set, 0 for reasons that set none.
    pub bit: u8,
    /// The privilege string tested.
    pub privilege: String,
    /// Where it came from (or why it did not apply), in words.
    pub source: String,
}

/// The answer to a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the mask is non-zero.
    pub allowed: bool,
    /// The bitmask.
    pub mask: u8,
    /// Bit 1.
    pub public: bool,
    /// Bit 2.
    pub user: bool,
    /// Bit 4.
    pub owner: bool,
    /// Bit 8.
    pub editor: bool,
    /// Why each bit is set, or why none is.
    pub reasons: Vec<Reason>,
}

impl Decision {
    fn from_mask(mask: u8, reasons: Vec<Reason>) -> Self {
        Decision {
            allowed: mask != 0,
            mask,
            public: mask & PUBLIC != 0,
            user: mask & USER != 0,
            owner: mask & OWNER != 0,
            editor: mask & EDITOR != 0,
            reasons,
        }
    }
}

/// The strings one query tests: `c`, `c:owner`, `c:editor` for c in [q, vq].
#[derive(Clone, Copy)]
struct Triple {
    ids: [Option<PrivId>; 3],
}

impl CompiledPolicy {
    /// The triples to test for `q` on `item` from the query table (global ids only).
    #[inline]
    fn triples(&self, q: &str, item: Option<&Item>) -> ([Triple; 2], usize) {
        let none = Triple { ids: [None; 3] };
        let Some(info) = self.queries.get(q) else {
            return ([none, none], 0);
        };
        let base = Triple { ids: info.ids };
        if let (Some(item), Some((dsi, table))) = (item, &info.by_status) {
            if let (Some(status), Some((ds, statuses))) =
                (&item.status, self.datasets.get(*dsi as usize))
            {
                if **ds == *item.dataset {
                    if let Some(sti) = statuses.iter().position(|s| **s == **status) {
                        if let Some(ids) = table.get(sti) {
                            return ([base, Triple { ids: *ids }], 2);
                        }
                    }
                }
            }
        }
        ([base, none], 1)
    }

    /// The strings `check` tests for `q` on `item`, as text: `[q, vq?]`. Only the
    /// status-qualified form is allocated.
    fn candidates<'q>(&self, q: &'q str, item: Option<&Item>) -> Vec<Cow<'q, str>> {
        let mut out = Vec::with_capacity(2);
        out.push(Cow::Borrowed(q));
        let Some(item) = item else { return out };
        let Some(status) = &item.status else {
            return out;
        };
        let Some((ds, rest)) = q.split_once('/') else {
            return out;
        };
        if ds != item.dataset {
            return out;
        }
        let Some((_, statuses)) = self.datasets.iter().find(|(d, _)| &**d == ds) else {
            return out;
        };
        // A status the dataset does not have is no virtual dataset: nothing to expand (as
        // the fast path's query table, which only knows the dataset's statuses).
        if !statuses.iter().any(|s| **s == **status) {
            return out;
        }
        let names_status = rest
            .split_once('/')
            .is_some_and(|(f, _)| statuses.iter().any(|s| **s == *f));
        if !names_status {
            out.push(Cow::Owned(format!("{ds}/{status}/{rest}")));
        }
        out
    }

    /// Whether `item` is in `user`'s editorial scope (SPEC 3.4).
    pub fn in_scope(&self, user: &UserFacts, eff: &EffectiveSet, item: &Item) -> bool {
        if !self.config.datasets.scoped.contains(&item.dataset) {
            return true;
        }
        if user.editorial_scope.is_empty() {
            return !eff.editperms_none;
        }
        user.editorial_scope.iter().any(|f| f.matches(item))
    }

    /// Whether a string with no global id is denied to this user (string coverage).
    fn denied_text(&self, eff: &EffectiveSet, s: &str) -> bool {
        eff.denies.iter().any(|(p, _)| {
            crate::compile::deny_coverage(p.as_str(), &self.datasets)
                .iter()
                .any(|c| c == s)
        })
    }

    /// The local id of `s` in `eff`: global, or one of the user's extra strings.
    fn id_in(&self, eff: &EffectiveSet, s: &str) -> Option<PrivId> {
        self.ids.get(s).copied().or_else(|| {
            eff.extras
                .iter()
                .position(|e| **e == *s)
                .map(|p| (eff.universe + p) as PrivId)
        })
    }

    /// The fast path: the bitmask of `who` asking for `privilege` on `item`.
    ///
    /// `eff` must have been derived from this policy (same generation) for this user.
    #[inline]
    pub fn mask(&self, who: Who<'_>, privilege: &str, item: Option<&Item>) -> u8 {
        match who {
            Who::Anonymous => {
                let (t, n) = self.triples(privilege, item);
                let mut m = 0;
                for t in &t[..n] {
                    if t.ids[0].is_some_and(|id| self.public.has(id)) {
                        m |= PUBLIC;
                    }
                }
                m
            }
            Who::User(user, eff) => {
                // Users with strings the policy does not know, and superusers (whose bit 2 hangs
                // on string-level deny coverage), take the string path; they are few.
                if !eff.extras.is_empty() || eff.superuser {
                    return self.decide_inner(user, eff, privilege, item, false).mask;
                }
                let (t, n) = self.triples(privilege, item);
                let mut m = 0;
                for t in &t[..n] {
                    if let Some(id) = t.ids[0] {
                        if self.public.has(id) && !eff.denied.has(id) {
                            m |= PUBLIC;
                        }
                        if user.active && eff.held.has(id) {
                            m |= USER;
                        }
                    }
                }
                if let (Some(item), true) = (item, user.active) {
                    for t in &t[..n] {
                        if m & OWNER == 0
                            && t.ids[1].is_some_and(|id| eff.held.has(id))
                            && item.is_owned_by(user)
                        {
                            m |= OWNER;
                        }
                        if m & EDITOR == 0
                            && t.ids[2].is_some_and(|id| eff.held.has(id))
                            && self.in_scope(user, eff, item)
                        {
                            m |= EDITOR;
                        }
                    }
                }
                m
            }
        }
    }

    /// The full answer with reasons.
    pub fn decide(&self, who: Who<'_>, privilege: &str, item: Option<&Item>) -> Decision {
        match who {
            Who::Anonymous => {
                let mut reasons = Vec::new();
                let mut m = 0;
                for c in self.candidates(privilege, item) {
                    if let Some(id) = self.ids.get(&*c) {
                        if self.public.has(*id) {
                            m |= PUBLIC;
                            reasons.push(Reason {
                                kind: ReasonKind::Public,
                                bit: PUBLIC,
                                privilege: c.into_owned(),
                                source: self.public_words(*id),
                            });
                        }
                    }
                }
                if m == 0 {
                    let denied = self.system_deny.iter().find(|(p, sr)| {
                        *sr == crate::ident::SystemRole::AnyUser
                            && crate::compile::deny_coverage(p.as_str(), &self.datasets)
                                .iter()
                                .any(|s| s == privilege)
                    });
                    reasons.push(match denied {
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
                    });
                }
                Decision::from_mask(m, reasons)
            }
            Who::User(user, eff) => self.decide_inner(user, eff, privilege, item, true),
        }
    }

    fn decide_inner(
        &self,
        user: &UserFacts,
        eff: &EffectiveSet,
        privilege: &str,
        item: Option<&Item>,
        explain: bool,
    ) -> Decision {
        let mut reasons = Vec::new();
        let mut m = 0;
        let cands = self.candidates(privilege, item);
        let mut push = |kind, bit, privilege: &str, source: String| {
            if explain {
                reasons.push(Reason {
                    kind,
                    bit,
                    privilege: privilege.to_owned(),
                    source,
                });
            }
        };
        let is_denied = |s: &str| match self.id_in(eff, s) {
            Some(id) => eff.denied.has(id),
            None => self.denied_text(eff, s),
        };
        if !user.active {
            push(
                ReasonKind::Inactive,
                0,
                privilege,
                "the account is not active: only public privileges apply".into(),
            );
        }
        // `c:owner` and `c:editor`, written into one buffer for the lookups; a reason copies it.
        let mut scoped = String::with_capacity(privilege.len() + 48);
        for c in &cands {
            let c: &str = c;
            if let Some(id) = self.ids.get(c) {
                if self.public.has(*id) && !eff.denied.has(*id) {
                    m |= PUBLIC;
                    push(ReasonKind::Public, PUBLIC, c, self.public_words(*id));
                }
            }
            if !user.active {
                continue;
            }
            let held = self.id_in(eff, c).filter(|id| eff.held.has(*id));
            if let Some(id) = held {
                m |= USER;
                push(ReasonKind::User, USER, c, self.prov_words(user, eff, id));
            } else if eff.superuser && !is_denied(c) {
                m |= USER;
                push(
                    ReasonKind::Superuser,
                    USER,
                    c,
                    format!(
                        "holds `superuser-access` ({})",
                        self.prov_words(user, eff, self.superuser)
                    ),
                );
            }
            let Some(item) = item else { continue };
            scoped.clear();
            scoped.push_str(c);
            scoped.push_str(":owner");
            if let Some(id) = self.id_in(eff, &scoped).filter(|id| eff.held.has(*id)) {
                if item.is_owned_by(user) {
                    m |= OWNER;
                    push(
                        ReasonKind::Owner,
                        OWNER,
                        &scoped,
                        self.prov_words(user, eff, id),
                    );
                } else {
                    push(
                        ReasonKind::NotOwner,
                        0,
                        &scoped,
                        format!(
                            "held ({}), but the user is not an owner of the item",
                            self.prov_words(user, eff, id)
                        ),
                    );
                }
            }
            scoped.truncate(c.len());
            scoped.push_str(":editor");
            if let Some(id) = self.id_in(eff, &scoped).filter(|id| eff.held.has(*id)) {
                if self.in_scope(user, eff, item) {
                    m |= EDITOR;
                    push(
                        ReasonKind::Editor,
                        EDITOR,
                        &scoped,
                        self.prov_words(user, eff, id),
                    );
                } else {
                    let why = if user.editorial_scope.is_empty() {
                        "the user holds `editperms_none_by_default` and has no editorial scope"
                    } else {
                        "the item matches none of the user's editorial scope filters"
                    };
                    push(
                        ReasonKind::OutOfScope,
                        0,
                        &scoped,
                        format!("held ({}), but {why}", self.prov_words(user, eff, id)),
                    );
                }
            }
        }
        if m == 0 && explain {
            // Which deny removed it, if any: test every string the check looked at.
            let mut tested: Vec<String> = Vec::with_capacity(3 * cands.len());
            for c in &cands {
                tested.push(c.to_string());
                if item.is_some() {
                    tested.push(format!("{c}:owner"));
                    tested.push(format!("{c}:editor"));
                }
            }
            // Each deny's coverage once, not once per tested string.
            let coverage: Vec<Vec<String>> = eff
                .denies
                .iter()
                .map(|(p, _)| crate::compile::deny_coverage(p.as_str(), &self.datasets))
                .collect();
            let mut found = false;
            for s in &tested {
                for ((p, src), covered) in eff.denies.iter().zip(&coverage) {
                    if covered.iter().any(|c| c == s) {
                        found = true;
                        let who = match src {
                            DenySource::User => "the user".to_owned(),
                            DenySource::Role(r) => format!("role `{r}`, which the user holds"),
                            DenySource::System(sr) => format!("system role `{sr}`"),
                        };
                        push(
                            ReasonKind::Denied,
                            0,
                            s,
                            format!("removed by a deny of `{p}` to {who}"),
                        );
                    }
                }
            }
            if !found && user.active {
                let mut words = String::from("nothing the user holds grants ");
                for (i, s) in tested.iter().enumerate() {
                    if i > 0 {
                        words.push_str(", ");
                    }
                    words.push('`');
                    words.push_str(s);
                    words.push('`');
                }
                push(ReasonKind::NotGranted, 0, privilege, words);
            }
        }
        Decision::from_mask(m, reasons)
    }

    /// Where a public privilege comes from, in words.
    fn public_words(&self, id: PrivId) -> String {
        match self.public_source.get(&id) {
            Some(PublicSource::Def(origin, true)) => format!("public_roles entry ({origin})"),
            Some(PublicSource::Def(origin, false)) => {
                format!("built-in public privilege ({origin})")
            }
            Some(PublicSource::AnyUserGrant) => "allow grant to system role `any_user`".into(),
            None => "public".into(),
        }
    }

    /// Where a held privilege comes from, in words: the chain from the user to the entry.
    pub(crate) fn prov_words(&self, user: &UserFacts, eff: &EffectiveSet, id: PrivId) -> String {
        let ty = user
            .user_type
            .as_ref()
            .map_or("-".to_owned(), |t| t.to_string());
        let role_words = |ri: u32| match self.roles.get(ri as usize) {
            Some(r) => format!("role `{}` ({})", r.name, r.origin),
            None => "a role".into(),
        };
        let type_origin = user
            .user_type
            .as_ref()
            .and_then(|t| self.types.get(t))
            .map(|t| t.origin.to_string())
            .unwrap_or_default();
        let own_entry = |entry: u16| {
            user.entries
                .get(entry as usize)
                .map_or(String::new(), |e: &Entry| format!(" `{e}`"))
        };
        match eff.prov_of(id) {
            Some(Prov::Type { entry, role: None }) => format!(
                "user type `{ty}` entry {} `+{}` ({type_origin})",
                entry + 1,
                self.name(id)
            ),
            Some(Prov::Type {
                entry,
                role: Some(ri),
            }) => format!("user type `{ty}` entry {} -> {}", entry + 1, role_words(ri)),
            Some(Prov::Own { entry, role: None }) => {
                format!("the user's own entry {}{}", entry + 1, own_entry(entry))
            }
            Some(Prov::Own {
                entry,
                role: Some(ri),
            }) => format!("the user's own entry {} -> {}", entry + 1, role_words(ri)),
            Some(Prov::RoleGrant { role, own, entry }) => format!(
                "allow grant to role `{}`, held through {} entry {}",
                self.role_name(role).map_or("?".into(), |r| r.to_string()),
                if own {
                    "the user's own".to_owned()
                } else {
                    format!("user type `{ty}`")
                },
                entry + 1
            ),
            Some(Prov::UserGrant) => "allow grant to the user".into(),
            Some(Prov::SystemGrant) => "allow grant to system role `authenticated_user`".into(),
            None => {
                let (base, _) = split_scope(self.name(id));
                format!("`{base}`")
            }
        }
    }
}
