//! Answering `check(subject, privilege, item?)`: the EPrints bitmask (1 public, 2 user,
//! 4 owner, 8 editor) and, when asked, the reasons for each bit or for the denial.
//!
//! There is one evaluation ([`Subject::evaluate`]); the fast path ([`Subject::mask`]) runs it
//! with a sink that keeps nothing, so the compiler drops every reason, and the full answer
//! ([`Subject::decide`], [`CompiledPolicy::check`]) runs it with a sink that keeps them. The
//! two cannot disagree.

use serde::Serialize;

use crate::audience::Holds;
use crate::bits::{PrivId, NONE};
use crate::compile::{CompiledPolicy, QueryInfo};
use crate::effective::{EffectiveSet, F_HELD, F_PUBLIC, F_USER};
use crate::item::ItemRef;
use crate::model::UserFacts;

/// Bit 1: a public privilege.
pub const PUBLIC: u8 = 1;
/// Bit 2: the user holds the plain privilege.
pub const USER: u8 = 2;
/// Bit 4: the user owns the item and holds `privilege:owner`.
pub const OWNER: u8 = 4;
/// Bit 8: the item is in the user's editorial scope and the user holds `privilege:editor`.
pub const EDITOR: u8 = 8;

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
    /// A `-p` entry took the privilege away and nothing added it back.
    Removed,
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
            ReasonKind::Removed => "removed",
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
    /// A decision from a mask and its reasons.
    pub fn from_mask(mask: u8, reasons: Vec<Reason>) -> Self {
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

/// A privilege prepared for asking: looked up in the policy once, asked many times
/// ([`CompiledPolicy::query`]). Asking with a `&str` prepares it on the way.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    text: &'a str,
    info: Option<&'a QueryInfo>,
}

impl<'a> Query<'a> {
    /// The privilege asked for.
    pub fn as_str(&self) -> &'a str {
        self.text
    }
}

/// An effective set given to a policy that did not derive it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the effective set was derived under another compiled policy; derive it again with this one"
)]
pub struct StaleSet;

/// Who is asking, as a policy sees them: anonymous, or a user with their effective set.
///
/// A handle taken once per request ([`CompiledPolicy::subject`], [`CompiledPolicy::anonymous`]):
/// it borrows the policy, the user's facts and their set, so each check through it costs no
/// lock, no lookup of the user and no reference counting, and allocates nothing.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    policy: &'a CompiledPolicy,
    who: Who<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Who<'a> {
    Anonymous,
    User(&'a UserFacts, &'a EffectiveSet),
}

/// The strings a check tests, by id: the privilege asked for and, for a status item, its
/// `<ds>/<status>/<rest>` form; each as the ids of its plain, `:owner` and `:editor` strings.
/// Their text is rebuilt only when needed ([`Tested`]).
#[derive(Debug, Clone, Copy)]
struct Forms {
    ids: [[PrivId; 3]; 2],
    /// 1, or 2 when the status form is tested too.
    n: usize,
}

/// What the text of a tested string is made from: the query and the item's status.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tested<'a> {
    pub(crate) q: &'a str,
    status: Option<&'a str>,
}

pub(crate) const SUFFIXES: [&str; 3] = ["", ":owner", ":editor"];

impl<'a> Tested<'a> {
    /// The pieces that joined make form `form` (0: the query, 1: its status form) with
    /// `suffix`.
    pub(crate) fn parts(&self, form: usize, suffix: &'a str) -> [&'a str; 5] {
        match (form, self.status) {
            (1, Some(status)) => {
                let ds_len = self.q.find('/').unwrap_or(self.q.len());
                let (ds, rest) = self.q.split_at(ds_len);
                [ds, "/", status, rest, suffix]
            }
            _ => [self.q, suffix, "", "", ""],
        }
    }

    /// The tested string as text (explanations only).
    pub(crate) fn text(&self, form: usize, suffix: &str) -> String {
        self.parts(form, suffix).concat()
    }
}

/// Where the evaluation puts its reasons.
trait Sink {
    /// Whether reasons are kept (when false, no reason is ever built).
    const EXPLAIN: bool;
    fn push(&mut self, reason: impl FnOnce() -> Reason);
}

struct Discard;

impl Sink for Discard {
    const EXPLAIN: bool = false;
    #[inline(always)]
    fn push(&mut self, _reason: impl FnOnce() -> Reason) {}
}

struct Keep(Vec<Reason>);

impl Sink for Keep {
    const EXPLAIN: bool = true;
    fn push(&mut self, reason: impl FnOnce() -> Reason) {
        self.0.push(reason());
    }
}

pub(crate) fn reason(kind: ReasonKind, bit: u8, privilege: String, source: String) -> Reason {
    Reason {
        kind,
        bit,
        privilege,
        source,
    }
}

impl CompiledPolicy {
    /// Prepares `privilege` for asking many times.
    #[inline]
    pub fn query<'a>(&'a self, privilege: &'a str) -> Query<'a> {
        Query {
            text: privilege,
            info: self
                .query_index
                .get(privilege)
                .and_then(|i| self.query_info.get(i)),
        }
    }

    /// The handle for an anonymous visitor (public privileges only).
    pub fn anonymous(&self) -> Subject<'_> {
        Subject {
            policy: self,
            who: Who::Anonymous,
        }
    }

    /// The handle for `user` with the effective set derived for them by this policy
    /// ([`CompiledPolicy::effective`], or an [`EffectiveCache`](crate::EffectiveCache)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gatehouse_policy::{CompiledPolicy, Field, ItemRef, PolicyConfig, UserFacts, UserId};
    ///
    /// let policy = CompiledPolicy::compile(Arc::new(PolicyConfig::builtin().clone()), &[], &[], 1)
    ///     .expect("compiles");
    /// let ann = UserFacts { id: UserId(7), active: true, user_type: Some("user".parse().expect("name")),
    ///                       ..UserFacts::default() };
    /// let set = policy.effective(&ann);
    /// let ann_asks = policy.subject(&ann, &set).expect("derived by this policy");
    ///
    /// // Rows as the repository holds them: (status, owner id).
    /// let rows = [("inbox", 7), ("inbox", 8), ("archive", 8)];
    /// let editable: Vec<bool> = rows.iter().map(|(status, owner)| {
    ///     let owners = [UserId(*owner)];
    ///     let item = ItemRef::new("eprint").status(status).owned_by(&owners);
    ///     ann_asks.allowed("eprint/edit", Some(&item))
    /// }).collect();
    /// assert_eq!(editable, [true, false, false]);
    /// ```
    pub fn subject<'a>(
        &'a self,
        user: &'a UserFacts,
        set: &'a EffectiveSet,
    ) -> Result<Subject<'a>, StaleSet> {
        if set.policy != self.id {
            return Err(StaleSet);
        }
        Ok(Subject {
            policy: self,
            who: Who::User(user, set),
        })
    }

    /// The whole answer, with reasons, for `user` asking for `privilege` on `item`: one call,
    /// nothing to keep. A user with nothing of their own reads their type's shared set; a set
    /// for other users is derived once per shape (type, entries, grants) and kept by the
    /// policy (bounded) for the next call.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use gatehouse_policy::{CompiledPolicy, ItemRef, PolicyConfig, UserFacts, UserId};
    ///
    /// let policy = CompiledPolicy::compile(Arc::new(PolicyConfig::builtin().clone()), &[], &[], 1)
    ///     .expect("compiles");
    /// let editor = UserFacts { id: UserId(3), active: true,
    ///     user_type: Some("editor".parse().expect("name")), ..UserFacts::default() };
    /// let item = ItemRef::new("eprint").status("buffer");
    /// let d = policy.check(&editor, "eprint/move_archive", Some(&item));
    /// assert!(d.allowed && d.editor);
    /// assert_eq!(d.mask, gatehouse_policy::EDITOR);
    /// ```
    pub fn check(&self, user: &UserFacts, privilege: &str, item: Option<&ItemRef<'_>>) -> Decision {
        let set = self.memo_set(user);
        Subject {
            policy: self,
            who: Who::User(user, &set),
        }
        .decide(privilege, item)
    }

    /// The whole answer for an anonymous visitor.
    pub fn check_anonymous(&self, privilege: &str, item: Option<&ItemRef<'_>>) -> Decision {
        self.anonymous().decide(privilege, item)
    }

    /// The strings a check of `q` on `item` tests: `q`, and its status form when the item has
    /// a status of a dataset with statuses and `q` is `<ds>/<rest>` not naming one. Returns
    /// their ids and the status when the status form is tested.
    #[inline]
    fn forms<'a>(&self, q: Query<'_>, item: Option<&ItemRef<'a>>) -> (Forms, Option<&'a str>) {
        let plain = q.info.map_or([NONE; 3], |i| i.ids);
        let one = Forms {
            ids: [plain, [NONE; 3]],
            n: 1,
        };
        let Some(item) = item else { return (one, None) };
        let Some(status) = item.status_str() else {
            return (one, None);
        };
        match q.info {
            Some(info) => {
                let Some((dsi, table)) = &info.by_status else {
                    return (one, None);
                };
                let Some(ds) = self.datasets.get(*dsi as usize) else {
                    return (one, None);
                };
                if !same(&ds.name, item.dataset()) {
                    return (one, None);
                }
                match ds.status_index(status).and_then(|i| table.get(i)) {
                    Some(ids) => (
                        Forms {
                            ids: [plain, *ids],
                            n: 2,
                        },
                        Some(status),
                    ),
                    None => (one, None),
                }
            }
            // A string the policy does not know: its status form is no global string either,
            // but it may be one of a user's own strings.
            None => {
                let Some((ds, rest)) = q.text.split_once('/') else {
                    return (one, None);
                };
                let Some(d) = self.datasets.iter().find(|d| same(&d.name, ds)) else {
                    return (one, None);
                };
                if ds != item.dataset() || d.status_index(status).is_none() || d.names_status(rest)
                {
                    return (one, None);
                }
                (
                    Forms {
                        ids: [plain, [NONE; 3]],
                        n: 2,
                    },
                    Some(status),
                )
            }
        }
    }

    /// The strings a check of `privilege` on `item` tests, per form (the privilege, then its
    /// status form if the item's status adds one): for each suffix (plain, `:owner`,
    /// `:editor`) its global id ([`NONE`] when the policy does not know it) and its text.
    pub(crate) fn tested_strings(
        &self,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Vec<[(PrivId, String); 3]> {
        let q = self.query(privilege);
        let (forms, status) = self.forms(q, item);
        let tested = Tested { q: q.text, status };
        (0..forms.n)
            .map(|f| {
                let at = |slot: usize| (forms.ids[f][slot], tested.text(f, SUFFIXES[slot]));
                [at(0), at(1), at(2)]
            })
            .collect()
    }

    /// The ids of the status form of a query whose table is `by_status`, for `item`.
    #[inline]
    fn status_form<'t>(
        &self,
        item: &ItemRef<'_>,
        (dsi, table): &'t (u16, Box<[[PrivId; 3]]>),
    ) -> Option<&'t [PrivId; 3]> {
        let status = item.status_str()?;
        let ds = self.datasets.get(*dsi as usize)?;
        if !same(&ds.name, item.dataset()) {
            return None;
        }
        ds.status_index(status).and_then(|i| table.get(i))
    }

    /// Whether `item` is in `user`'s editorial scope (SPEC 3.4). Out of line: only checks
    /// of a held `:editor` string get here.
    #[inline(never)]
    pub(crate) fn in_scope(
        &self,
        user: &UserFacts,
        set: &EffectiveSet,
        item: &ItemRef<'_>,
    ) -> bool {
        crate::audience::scope_admits(
            self.is_scoped(item.dataset()),
            user,
            set.editperms_none,
            item,
        )
    }
}

impl<'a> Subject<'a> {
    /// The fast path: the bitmask for `privilege` on `item`, with no reasons and no
    /// allocation.
    #[inline]
    pub fn mask(&self, privilege: &str, item: Option<&ItemRef<'_>>) -> u8 {
        self.lean(self.policy.query(privilege), item)
    }

    /// The bitmask for a prepared privilege ([`CompiledPolicy::query`]).
    #[inline]
    pub fn mask_query(&self, query: Query<'_>, item: Option<&ItemRef<'_>>) -> u8 {
        self.lean(query, item)
    }

    /// Whether `privilege` is allowed on `item` (the mask is not zero).
    #[inline]
    pub fn allowed(&self, privilege: &str, item: Option<&ItemRef<'_>>) -> bool {
        self.mask(privilege, item) != 0
    }

    /// The evaluation specialised for the common case, a user who holds no string of their
    /// own (see [`EffectiveSet`]'s `general`): a few flag bytes read by id. Anything else takes
    /// [`Subject::evaluate`]. The property tests hold the two equal on random policies.
    /// Inlined into its two callers, so that a check is one call with one prologue.
    #[inline(always)]
    fn lean(&self, q: Query<'_>, item: Option<&ItemRef<'_>>) -> u8 {
        let (user, set) = match self.who {
            Who::User(user, set) if !set.general => (user, set),
            _ => return self.general(q, item),
        };
        let flag = |id: PrivId| {
            set.flags
                .get(id as usize)
                .copied()
                .unwrap_or(set.none_flags)
        };
        let Some(info) = q.info else {
            // No string of the policy is this one or its status form: only a superuser
            // holds it (every string denied to this user has an id).
            // The user's facts are read only when the set would grant it.
            return if set.none_flags & F_USER != 0 && user.active {
                F_USER
            } else {
                0
            };
        };
        let a = info.ids;
        let (x0, x1, x2) = (flag(a[0]), flag(a[1]), flag(a[2]));
        let (y0, y1, y2) = match (item, &info.by_status) {
            (Some(item), Some(by_status)) => match self.policy.status_form(item, by_status) {
                Some(b) => (flag(b[0]), flag(b[1]), flag(b[2])),
                None => (0, 0, 0),
            },
            _ => (0, 0, 0),
        };
        // Nothing public and nothing held: refused whoever the user is, without reading
        // their facts (most checks are refusals, and a user's facts are another cache line
        // than the set every user of their type shares).
        if (x0 | y0 | ((x1 | y1 | x2 | y2) & F_HELD)) == 0 {
            return 0;
        }
        if !user.active {
            return (x0 | y0) & F_PUBLIC;
        }
        // F_PUBLIC and F_USER are the answer's bits 1 and 2.
        let mut m = (x0 | y0) & (F_PUBLIC | F_USER);
        if let Some(item) = item {
            if (x1 | y1) & F_HELD != 0 && item.is_owned_by(user) {
                m |= OWNER;
            }
            if (x2 | y2) & F_HELD != 0 && self.policy.in_scope(user, set, item) {
                m |= EDITOR;
            }
        }
        m
    }

    /// The general evaluation without reasons, out of line (anonymous visitors and users
    /// with strings of their own).
    #[inline(never)]
    fn general(&self, q: Query<'_>, item: Option<&ItemRef<'_>>) -> u8 {
        self.evaluate(q, item, &mut Discard)
    }

    /// The whole answer with reasons.
    pub fn decide(&self, privilege: &str, item: Option<&ItemRef<'_>>) -> Decision {
        // Room for the usual answer (a reason or two, three with not-applicable ones).
        let mut sink = Keep(Vec::with_capacity(3));
        let mask = self.evaluate(self.policy.query(privilege), item, &mut sink);
        Decision::from_mask(mask, sink.0)
    }

    /// The policy this handle asks.
    pub(crate) fn policy(&self) -> &'a CompiledPolicy {
        self.policy
    }

    /// The user's facts, or `None` for an anonymous visitor.
    pub(crate) fn user_facts(&self) -> Option<&'a UserFacts> {
        match self.who {
            Who::Anonymous => None,
            Who::User(u, _) => Some(u),
        }
    }

    /// The user's effective set, or `None` for an anonymous visitor.
    pub(crate) fn user_set(&self) -> Option<&'a EffectiveSet> {
        match self.who {
            Who::Anonymous => None,
            Who::User(_, s) => Some(s),
        }
    }

    /// What this subject holds for `privilege` on `item`, leaving open the facts that
    /// differ between users of one shape: whether they own the item, whether it is in their
    /// editorial scope, whether they are active. [`Holds::mask`] closes them for one user and
    /// gives exactly [`Subject::mask`] (the property tests hold the two equal).
    pub fn holds(&self, privilege: &str, item: Option<&ItemRef<'_>>) -> Holds {
        let p = self.policy;
        let q = p.query(privilege);
        let (forms, status) = p.forms(q, item);
        let tested = Tested { q: q.text, status };
        let mut h = Holds::default();
        let (set, editperms_none) = match self.who {
            Who::Anonymous => {
                h.public = (0..forms.n).any(|f| p.public.has(forms.ids[f][0]));
                return h;
            }
            Who::User(_, set) => (set, set.editperms_none),
        };
        let has_extras = !set.extras.is_empty();
        let resolve = |f: usize, slot: usize| -> PrivId {
            let id = forms.ids[f][slot];
            if id != NONE || !has_extras {
                return id;
            }
            set.extra_id(&tested.parts(f, SUFFIXES[slot]))
                .unwrap_or(NONE)
        };
        h.editperms_none_by_default = editperms_none;
        for f in 0..forms.n {
            let public = forms.ids[f][0];
            h.public |= p.public.has(public) && !set.denied.has(public);
            let plain = resolve(f, 0);
            h.user |= set.held.has(plain) || (set.superuser && !set.denied.has(plain));
            if item.is_some() {
                h.owner |= set.held.has(resolve(f, 1));
                h.editor |= set.held.has(resolve(f, 2));
            }
        }
        h
    }

    /// Whether this is a user holding `superuser-access` (and active).
    pub fn is_superuser(&self) -> bool {
        matches!(self.who, Who::User(u, s) if u.active && s.superuser)
    }

    /// THE evaluation: every answer of the engine comes from here.
    #[inline]
    fn evaluate<S: Sink>(&self, q: Query<'_>, item: Option<&ItemRef<'_>>, sink: &mut S) -> u8 {
        let p = self.policy;
        let (forms, status) = p.forms(q, item);
        let tested = Tested { q: q.text, status };
        let (user, set) = match self.who {
            Who::Anonymous => return self.evaluate_anonymous(&forms, tested, sink),
            Who::User(user, set) => (user, set),
        };
        // The id of form `f`'s string with suffix `slot`: global, or one of the user's own.
        let has_extras = !set.extras.is_empty();
        let resolve = |f: usize, slot: usize| -> PrivId {
            let id = forms.ids[f][slot];
            if id != NONE || !has_extras {
                return id;
            }
            set.extra_id(&tested.parts(f, SUFFIXES[slot]))
                .unwrap_or(NONE)
        };
        let mut m = 0;
        for f in 0..forms.n {
            let public = forms.ids[f][0];
            if p.public.has(public) && !set.denied.has(public) {
                m |= PUBLIC;
                sink.push(|| {
                    reason(
                        ReasonKind::Public,
                        PUBLIC,
                        tested.text(f, ""),
                        p.public_words(public),
                    )
                });
            }
        }
        if !user.active {
            sink.push(|| {
                reason(
                    ReasonKind::Inactive,
                    0,
                    q.text.to_owned(),
                    "the account is not active: only public privileges apply".into(),
                )
            });
            if S::EXPLAIN && m == 0 {
                p.explain_refusal(
                    user,
                    set,
                    forms.n,
                    tested,
                    item.is_some(),
                    &resolve,
                    &mut |r| sink.push(|| r),
                );
            }
            return m;
        }
        let mut owned: Option<bool> = None;
        let mut in_scope: Option<bool> = None;
        for f in 0..forms.n {
            let plain = resolve(f, 0);
            if set.held.has(plain) {
                m |= USER;
                sink.push(|| {
                    reason(
                        ReasonKind::User,
                        USER,
                        tested.text(f, ""),
                        p.prov_words(user, set, plain),
                    )
                });
            } else if set.superuser && !set.denied.has(plain) {
                m |= USER;
                sink.push(|| {
                    reason(
                        ReasonKind::Superuser,
                        USER,
                        tested.text(f, ""),
                        p.words_around("holds `superuser-access` (", user, set, p.superuser, ")"),
                    )
                });
            }
            let Some(item) = item else { continue };
            let owner = resolve(f, 1);
            if set.held.has(owner) {
                if *owned.get_or_insert_with(|| item.is_owned_by(user)) {
                    m |= OWNER;
                    sink.push(|| {
                        reason(
                            ReasonKind::Owner,
                            OWNER,
                            tested.text(f, ":owner"),
                            p.prov_words(user, set, owner),
                        )
                    });
                } else {
                    sink.push(|| {
                        reason(
                            ReasonKind::NotOwner,
                            0,
                            tested.text(f, ":owner"),
                            p.words_around(
                                "held (",
                                user,
                                set,
                                owner,
                                "), but the user is not an owner of the item",
                            ),
                        )
                    });
                }
            }
            let editor = resolve(f, 2);
            if set.held.has(editor) {
                if *in_scope.get_or_insert_with(|| p.in_scope(user, set, item)) {
                    m |= EDITOR;
                    sink.push(|| {
                        reason(
                            ReasonKind::Editor,
                            EDITOR,
                            tested.text(f, ":editor"),
                            p.prov_words(user, set, editor),
                        )
                    });
                } else {
                    sink.push(|| {
                        let why = if user.editorial_scope.is_empty() {
                            "), but the user holds `editperms_none_by_default` and has no \
                             editorial scope"
                        } else {
                            "), but the item matches none of the user's editorial scope filters"
                        };
                        reason(
                            ReasonKind::OutOfScope,
                            0,
                            tested.text(f, ":editor"),
                            p.words_around("held (", user, set, editor, why),
                        )
                    });
                }
            }
        }
        if S::EXPLAIN && m == 0 {
            p.explain_refusal(
                user,
                set,
                forms.n,
                tested,
                item.is_some(),
                &resolve,
                &mut |r| sink.push(|| r),
            );
        }
        m
    }

    fn evaluate_anonymous<S: Sink>(&self, forms: &Forms, tested: Tested<'_>, sink: &mut S) -> u8 {
        let p = self.policy;
        let mut m = 0;
        for f in 0..forms.n {
            let id = forms.ids[f][0];
            if p.public.has(id) {
                m |= PUBLIC;
                sink.push(|| {
                    reason(
                        ReasonKind::Public,
                        PUBLIC,
                        tested.text(f, ""),
                        p.public_words(id),
                    )
                });
            }
        }
        if S::EXPLAIN && m == 0 {
            sink.push(|| p.anonymous_refusal(tested.q));
        }
        m
    }
}

/// Two short strings equal, compared inline (dataset and status names are a few bytes).
#[inline(always)]
fn same(a: &str, b: &str) -> bool {
    crate::table::same_bytes(a.as_bytes(), b.as_bytes())
}
