//! Table tests of the engine, one group per rule of SPEC sections 3 and 7.
//!
//! Every check goes through [`World::check`], which asks the fast path (`mask`), the full
//! path (`decide`), the cache, and the reference evaluator (`reference/mod.rs`), asserts that
//! all four agree, and compares the answer with the table's expected mask.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod reference;

use std::sync::Arc;

use gatehouse_policy::{
    CompileError, CompiledPolicy, Decision, Effect, EffectiveCache, Entry, Grant, GrantTarget,
    Item, Origin, Owner, PolicyConfig, Privilege, ReasonKind, RoleDef, ScopeFilter, SystemRole,
    TypeName, UserFacts, UserId,
};
use reference::Reference;

const ME: i64 = 1;
const OTHER: i64 = 9;
const MY_EMAIL: &str = "ann@example.org";

fn p(s: &str) -> Privilege {
    s.parse().unwrap()
}

fn allow(priv_: &str, target: GrantTarget) -> Grant {
    Grant {
        effect: Effect::Allow,
        privilege: p(priv_),
        target,
    }
}

fn deny(priv_: &str, target: GrantTarget) -> Grant {
    Grant {
        effect: Effect::Deny,
        privilege: p(priv_),
        target,
    }
}

fn to_role(name: &str) -> GrantTarget {
    GrantTarget::Role(name.parse().unwrap())
}

const AUTH: GrantTarget = GrantTarget::SystemRole(SystemRole::AuthenticatedUser);
const ANY: GrantTarget = GrantTarget::SystemRole(SystemRole::AnyUser);

/// An active user with id [`ME`] and email [`MY_EMAIL`], of `user_type`, with own entries.
fn user(user_type: &str, entries: &[&str]) -> UserFacts {
    UserFacts {
        id: UserId(ME),
        email: Some(MY_EMAIL.into()),
        active: true,
        user_type: Some(user_type.parse().unwrap()),
        entries: entries
            .iter()
            .map(|e| e.parse::<Entry>().unwrap())
            .collect(),
        ..UserFacts::default()
    }
}

fn with_allow(mut u: UserFacts, privs: &[&str]) -> UserFacts {
    u.allow.extend(privs.iter().map(|s| p(s)));
    u
}

fn with_deny(mut u: UserFacts, privs: &[&str]) -> UserFacts {
    u.deny.extend(privs.iter().map(|s| p(s)));
    u
}

fn with_scope(mut u: UserFacts, filters: &[&str]) -> UserFacts {
    u.editorial_scope = filters
        .iter()
        .map(|f| f.parse::<ScopeFilter>().unwrap())
        .collect();
    u
}

fn inactive(mut u: UserFacts) -> UserFacts {
    u.active = false;
    u
}

/// An eprint in `status`, owned by nobody.
fn eprint(status: &str) -> Item {
    Item::new("eprint").with_status(status)
}

fn mine(item: Item) -> Item {
    item.with_owner(Owner::Id(UserId(ME)))
}

fn theirs(item: Item) -> Item {
    item.with_owner(Owner::Id(UserId(OTHER)))
}

/// A compiled policy with its reference twin.
struct World {
    policy: CompiledPolicy,
    reference: Reference,
}

impl World {
    fn builtin() -> World {
        World::new(None, &[], &[])
    }

    fn file(text: &str) -> World {
        World::new(Some(text), &[], &[])
    }

    fn grants(grants: &[Grant]) -> World {
        World::new(None, &[], grants)
    }

    fn new(file: Option<&str>, runtime: &[RoleDef], grants: &[Grant]) -> World {
        let cfg = match file {
            Some(text) => PolicyConfig::with_file(text, "user_roles.yaml").unwrap(),
            None => PolicyConfig::builtin().clone(),
        };
        let reference = Reference::new(&cfg, runtime, grants);
        let policy = CompiledPolicy::compile(Arc::new(cfg), runtime, grants, 1).unwrap();
        World { policy, reference }
    }

    /// The mask for `who` (None = anonymous), after checking that every path agrees.
    fn check(&self, who: Option<&UserFacts>, q: &str, item: Option<&Item>) -> u8 {
        let Some(u) = who else {
            let view = item.map(Item::view);
            let fast = self.policy.anonymous().mask(q, view.as_ref());
            let full = self.policy.check_anonymous(q, view.as_ref());
            let reference = self.reference.mask(None, q, item);
            assert_eq!(
                (fast, full.mask),
                (reference, reference),
                "anonymous {q} {item:?}"
            );
            return fast;
        };
        let view = item.map(Item::view);
        let eff = self.policy.effective(u);
        let fast = self.policy.subject(u, &eff).unwrap().mask(q, view.as_ref());
        let full = self.policy.check(u, q, view.as_ref());
        let cache = EffectiveCache::new();
        let cached = cache.get(&self.policy, u, 1);
        let via_cache = self
            .policy
            .subject(u, &cached)
            .unwrap()
            .mask(q, view.as_ref());
        let r = self.reference.effective(u);
        let reference = self.reference.mask(Some((u, &r)), q, item);
        assert_eq!(
            (fast, full.mask, via_cache),
            (reference, reference, reference),
            "fast/decide/cache vs reference for {q} on {item:?} by {u:?}"
        );
        fast
    }

    fn decide(&self, u: &UserFacts, q: &str, item: Option<&Item>) -> Decision {
        self.policy.check(u, q, item.map(Item::view).as_ref())
    }

    /// Runs a table of (user or anonymous, query, item, expected mask).
    fn table(&self, rows: &[(Option<&UserFacts>, &str, Option<&Item>, u8)]) {
        for (i, (who, q, item, want)) in rows.iter().enumerate() {
            let got = self.check(*who, q, *item);
            assert_eq!(got, *want, "row {i}: {q} on {item:?} by {who:?}");
        }
    }
}

#[test]
fn type_walk_order_and_last_op_wins() {
    let w = World::file(
        "roles:\n  hat-a: [+alpha, beta]\n  hat-b: [-alpha, gamma]\n  hat-c: [alpha]\n\
         user_roles:\n  removed: [hat-a, hat-b]\n  readded: [hat-a, hat-b, hat-c]\n  \
         plus-minus: [+delta, -delta]\n  minus-plus: [-delta, +delta]\n",
    );
    let removed = user("removed", &[]);
    let readded = user("readded", &[]);
    let own_readds = user("removed", &["hat-c"]);
    let own_removes = user("readded", &["-alpha"]);
    let own_plus = user("removed", &["+alpha"]);
    let own_minus_then_role = user("minus-plus", &["-delta", "hat-a"]);
    let type_then_own = user("minus-plus", &["-delta"]);
    let own_then_own = user("plus-minus", &["+delta"]);
    #[rustfmt::skip]
    w.table(&[
        (Some(&removed), "alpha", None, 0),
        (Some(&removed), "beta", None, 2),
        (Some(&removed), "gamma", None, 2),
        (Some(&readded), "alpha", None, 2),
        (Some(&user("plus-minus", &[])), "delta", None, 0),
        (Some(&user("minus-plus", &[])), "delta", None, 2),
        // Own entries walk after the type's: a later role adds back an earlier removal...
        (Some(&own_readds), "alpha", None, 2),
        (Some(&own_plus), "alpha", None, 2),
        // ...and a later `-p` removes what the type granted.
        (Some(&own_removes), "alpha", None, 0),
        (Some(&own_removes), "beta", None, 2),
        (Some(&type_then_own), "delta", None, 0),
        (Some(&own_then_own), "delta", None, 2),
        (Some(&own_minus_then_role), "delta", None, 0),
        (Some(&own_minus_then_role), "alpha", None, 2),
    ]);
}

#[test]
fn minus_inside_a_role_definition() {
    let w =
        World::file("roles:\n  no-deposit: [-create_eprint]\n  flip: [x, -x]\n  flop: [-y, y]\n");
    let hat = user("user", &["no-deposit"]);
    let before = user("user", &[]);
    // The hat given before the type's deposit role in the walk would not remove anything;
    // as an own entry it walks after the type and removes.
    #[rustfmt::skip]
    w.table(&[
        (Some(&before), "create_eprint", None, 2),
        (Some(&hat), "create_eprint", None, 0),
        (Some(&hat), "items", None, 2),
        (Some(&user("minuser", &["flip"])), "x", None, 0),
        (Some(&user("minuser", &["flop"])), "y", None, 2),
        (Some(&user("minuser", &["no-deposit", "deposit"])), "create_eprint", None, 2),
    ]);
}

#[test]
fn role_allow_grants() {
    let w = World::grants(&[
        allow("toolbox", to_role("deposit")),
        allow("eprint/buffer/edit:editor", to_role("toolbox")),
    ]);
    let buffer = eprint("buffer");
    #[rustfmt::skip]
    w.table(&[
        // Through the type's `deposit`.
        (Some(&user("user", &[])), "toolbox", None, 2),
        (Some(&user("minuser", &[])), "toolbox", None, 0),
        // Through an own entry.
        (Some(&user("minuser", &["deposit"])), "toolbox", None, 2),
        (Some(&user("minuser", &["toolbox"])), "eprint/edit", Some(&buffer), 8),
        // Role grants are part of the walk: a later `-p` removes them.
        (Some(&user("user", &["-toolbox"])), "toolbox", None, 0),
    ]);
    let d = w.decide(&user("user", &[]), "toolbox", None);
    assert!(
        d.reasons
            .iter()
            .any(|r| r.bit == 2 && r.source.contains("allow grant to role `deposit`")),
        "{:?}",
        d.reasons
    );
}

#[test]
fn user_allow_grants() {
    let w = World::builtin();
    let u = with_allow(
        user("user", &[]),
        &["config/edit", "eprint/buffer/edit:editor"],
    );
    let plain = user("user", &[]);
    let buffer = theirs(eprint("buffer"));
    #[rustfmt::skip]
    w.table(&[
        (Some(&plain), "config/edit", None, 0),
        (Some(&u), "config/edit", None, 2),
        (Some(&u), "config/edit", Some(&Item::new("config")), 2),
        (Some(&plain), "eprint/edit", Some(&buffer), 0),
        (Some(&u), "eprint/edit", Some(&buffer), 8),
        (Some(&inactive(u.clone())), "config/edit", None, 0),
    ]);
    let d = w.decide(&u, "config/edit", None);
    assert!(d
        .reasons
        .iter()
        .any(|r| r.bit == 2 && r.source == "allow grant to the user"));
}

#[test]
fn authenticated_user_allow() {
    let w = World::grants(&[
        allow("status", AUTH),
        allow("eprint/inbox/view:editor", AUTH),
    ]);
    let inbox = eprint("inbox");
    #[rustfmt::skip]
    w.table(&[
        (Some(&user("user", &[])), "status", None, 2),
        (Some(&user("minuser", &[])), "status", None, 2),
        (Some(&user("nosuchtype", &[])), "status", None, 2),
        (None, "status", None, 0),
        (Some(&inactive(user("user", &[]))), "status", None, 0),
        (Some(&user("minuser", &[])), "eprint/view", Some(&inbox), 8),
        (None, "eprint/view", Some(&inbox), 0),
    ]);
    let d = w.decide(&user("user", &[]), "status", None);
    assert!(d
        .reasons
        .iter()
        .any(|r| r.source.contains("authenticated_user")));
}

#[test]
fn a_deny_always_wins() {
    let w = World::grants(&[
        deny("create_eprint", to_role("deposit")),
        deny("toolbox", to_role("toolbox")),
        deny("items", AUTH),
        deny("eprint/archive/view", ANY),
        deny("eprint/edit", to_role("editor")),
        allow("status", to_role("deposit")),
        deny("status", AUTH),
    ]);
    let u = user("user", &[]);
    let ed = user("editor", &[]);
    let archive_mine = mine(eprint("archive"));
    let buffer_mine = mine(eprint("buffer"));
    let buffer = eprint("buffer");
    #[rustfmt::skip]
    w.table(&[
        // Role deny, held through the type; a user not holding the role is not affected.
        (Some(&u), "create_eprint", None, 0),
        (Some(&user("minuser", &["+create_eprint"])), "create_eprint", None, 2),
        // A deny beats an allow grant to the same role and a `+p` after it.
        (Some(&user("user", &["+create_eprint"])), "create_eprint", None, 0),
        (Some(&u), "status", None, 0),
        // Role deny, held through an own entry.
        (Some(&user("user", &["toolbox"])), "toolbox", None, 0),
        // System role denies.
        (Some(&u), "items", None, 0),
        (Some(&with_allow(user("user", &[]), &["items"])), "items", None, 0),
        (None, "eprint/view", Some(&archive_mine), 0),
        (Some(&u), "eprint/view", Some(&archive_mine), 0),
        (Some(&u), "eprint/view", Some(&buffer_mine), 4),
        // Denying `eprint/edit` stops `eprint/buffer/edit:editor`, asked any way.
        (Some(&ed), "eprint/edit", Some(&buffer), 0),
        (Some(&ed), "eprint/buffer/edit:editor", None, 0),
        (Some(&ed), "eprint/buffer/edit", Some(&buffer), 0),
        (Some(&ed), "eprint/move_archive", Some(&buffer), 8),
    ]);
    // User denies, and `p:owner` covers only that string.
    let w = World::builtin();
    let ed_owner_denied = with_deny(user("editor", &[]), &["eprint/buffer/view:owner"]);
    let ed_view_denied = with_deny(user("editor", &[]), &["eprint/view"]);
    #[rustfmt::skip]
    w.table(&[
        (Some(&with_deny(user("user", &[]), &["create_eprint"])), "create_eprint", None, 0),
        (Some(&with_deny(user("user", &[]), &["items"])), "create_eprint", None, 2),
        (Some(&user("editor", &[])), "eprint/view", Some(&buffer_mine), 14),
        (Some(&ed_owner_denied), "eprint/view", Some(&buffer_mine), 10),
        (Some(&ed_owner_denied), "eprint/buffer/view:owner", None, 0),
        (Some(&ed_owner_denied), "eprint/buffer/view:editor", None, 2),
        (Some(&ed_view_denied), "eprint/view", Some(&buffer_mine), 0),
        (Some(&ed_view_denied), "eprint/buffer/view", None, 0),
        (Some(&ed_view_denied), "eprint/buffer/export", None, 2),
        // The public bit goes too.
        (Some(&with_deny(user("user", &[]), &["eprint_search"])), "eprint_search", None, 0),
        (None, "eprint_search", None, 1),
        (Some(&with_deny(user("user", &[]), &["eprint/view"])), "eprint/view", Some(&archive_mine), 0),
    ]);
    let d = w.decide(
        &with_deny(user("user", &[]), &["create_eprint"]),
        "create_eprint",
        None,
    );
    assert!(!d.allowed);
    assert!(
        d.reasons.iter().any(|r| r.kind == ReasonKind::Denied
            && r.source.contains("deny of `create_eprint` to the user")),
        "{:?}",
        d.reasons
    );
}

#[test]
fn superuser_access() {
    let w = World::grants(&[deny("eprint/edit", to_role("general"))]);
    let su = with_allow(user("minuser", &[]), &["superuser-access"]);
    let buffer_mine = mine(eprint("buffer"));
    let su_denied = with_deny(su.clone(), &["config/edit"]);
    let su_off = with_deny(su.clone(), &["superuser-access"]);
    let admin = user("admin", &[]);
    #[rustfmt::skip]
    w.table(&[
        (Some(&su), "config/edit", None, 2),
        (Some(&su), "anything/at/all", None, 2),
        (Some(&su), "anything:owner", None, 2),
        // Bit 2 only: never 4 or 8, even on an owned item in scope.
        (Some(&su), "eprint/view", Some(&buffer_mine), 2),
        (Some(&su), "eprint/move_archive", Some(&buffer_mine), 2),
        (Some(&su), "eprint/view", Some(&mine(eprint("archive"))), 3),
        // An explicit deny still wins (user deny; role deny through `general`).
        (Some(&su_denied), "config/edit", None, 0),
        (Some(&su_denied), "config/view", None, 2),
        (Some(&su), "eprint/edit", Some(&buffer_mine), 0),
        (Some(&su), "eprint/buffer/edit", None, 0),
        (Some(&su), "eprint/buffer/edit:editor", None, 0),
        // A deny of `superuser-access` removes superuser power only.
        (Some(&su_off), "config/edit", None, 0),
        (Some(&su_off), "set-password", None, 2),
        (Some(&su_off), "superuser-access", None, 0),
        (Some(&inactive(su.clone())), "config/edit", None, 0),
        (Some(&inactive(su.clone())), "eprint_search", None, 1),
        // The admin type is not a superuser (the grant is on the default admin user only).
        (Some(&admin), "config/edit/perl", None, 2),
        (Some(&admin), "repository/not-a-thing", None, 0),
    ]);
    let d = w.decide(&su, "config/edit", None);
    assert!(d
        .reasons
        .iter()
        .any(|r| r.kind == ReasonKind::Superuser && r.bit == 2));
}

#[test]
fn public_privileges_and_public_roles() {
    let builtin = World::builtin();
    let archive = eprint("archive");
    #[rustfmt::skip]
    builtin.table(&[
        (None, "eprint_search", None, 1),
        (None, "eprint/archive/view", None, 1),
        (None, "eprint/archive/export", None, 1),
        (None, "subject/view", None, 1),
        (None, "subject/export", None, 1),
        (None, "saved_search/public_saved_search/view", None, 1),
        (None, "saved_search/public_saved_search/export", None, 1),
        (None, "eprint/archive/rest/get", None, 1),
        (None, "subject/rest/get", None, 1),
        (None, "eprint/buffer/view", None, 0),
        (None, "eprint/view", Some(&archive), 1),
        (None, "eprint/rest/get", Some(&archive), 1),
        // Logged-in users get the public bit too.
        (Some(&user("user", &[])), "eprint_search", None, 1),
        (Some(&user("editor", &[])), "eprint/view", Some(&archive), 11),
    ]);
    // A file's public_roles replaces the two defaults; the seven built-ins stay.
    let w = World::file("public_roles: [+eprint/archive/rest/put]\n");
    #[rustfmt::skip]
    w.table(&[
        (None, "eprint/archive/rest/get", None, 0),
        (None, "subject/rest/get", None, 0),
        (None, "eprint/archive/rest/put", None, 1),
        (None, "eprint_search", None, 1),
    ]);
    let w = World::grants(&[allow("status", ANY), deny("eprint_search", ANY)]);
    #[rustfmt::skip]
    w.table(&[
        (None, "status", None, 1),
        (Some(&user("user", &[])), "status", None, 1),
        (None, "eprint_search", None, 0),
        (Some(&user("admin", &[])), "eprint_search", None, 0),
    ]);
    let d = World::file("public_roles: [+x]\n")
        .policy
        .check_anonymous("x", None);
    assert!(d.reasons.iter().any(|r| r.kind == ReasonKind::Public
        && r.source.contains("public_roles")
        && r.source.contains("user_roles.yaml line 1")));
}

#[test]
fn anonymous() {
    let w = World::grants(&[deny("eprint/archive/export", ANY)]);
    let owned_by_zero = eprint("archive").with_owner(Owner::Id(UserId(0)));
    #[rustfmt::skip]
    w.table(&[
        (None, "eprint/view", Some(&owned_by_zero), 1),
        (None, "eprint/edit", Some(&owned_by_zero), 0),
        (None, "eprint/archive/edit:owner", None, 0),
        (None, "create_eprint", None, 0),
        (None, "eprint/archive/export", None, 0),
        (None, "eprint/export", Some(&owned_by_zero), 0),
    ]);
    let d = w.policy.check_anonymous("create_eprint", None);
    assert_eq!(
        d.reasons.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [ReasonKind::NotGranted]
    );
    let d = w.policy.check_anonymous("eprint/archive/export", None);
    assert!(d
        .reasons
        .iter()
        .any(|r| r.kind == ReasonKind::Denied && r.source.contains("any_user")));
}

#[test]
fn inactive_users_hold_only_public_privileges() {
    let w = World::builtin();
    let admin = inactive(user("admin", &[]));
    let archive_mine = mine(eprint("archive"));
    #[rustfmt::skip]
    w.table(&[
        (Some(&admin), "config/edit", None, 0),
        (Some(&admin), "eprint/edit", Some(&archive_mine), 0),
        (Some(&admin), "eprint/view", Some(&archive_mine), 1),
        (Some(&admin), "eprint_search", None, 1),
        (Some(&with_deny(admin.clone(), &["eprint_search"])), "eprint_search", None, 0),
    ]);
    for q in ["config/edit", "eprint_search"] {
        let d = w.decide(&admin, q, None);
        assert!(
            d.reasons.iter().any(|r| r.kind == ReasonKind::Inactive),
            "{q}: {d:?}"
        );
    }
}

#[test]
fn dataset_and_status_expansion() {
    let w = World::file("roles:\n  odd: [eprint/review/view]\n");
    let bv = user("minuser", &["+eprint/buffer/view"]);
    let ed = user("editor", &[]);
    let admin = user("admin", &[]);
    let (inbox, buffer, archive, deletion) = (
        eprint("inbox"),
        eprint("buffer"),
        eprint("archive"),
        eprint("deletion"),
    );
    let user_item = Item::new("user").with_status("buffer");
    #[rustfmt::skip]
    w.table(&[
        (Some(&bv), "eprint/view", Some(&buffer), 2),
        (Some(&bv), "eprint/view", Some(&archive), 1),
        (Some(&bv), "eprint/view", Some(&inbox), 0),
        (Some(&bv), "eprint/view", Some(&Item::new("eprint")), 0),
        (Some(&bv), "eprint/view", None, 0),
        // A privilege that names a status is not checked against the item's status.
        (Some(&bv), "eprint/buffer/view", Some(&archive), 2),
        (Some(&bv), "eprint/buffer/view", Some(&inbox), 2),
        (Some(&ed), "eprint/archive/view", Some(&buffer), 11),
        // Only the item's own dataset expands.
        (Some(&bv), "eprint/view", Some(&user_item), 0),
        // The plain `eprint/view` of an admin passes for every status.
        (Some(&admin), "eprint/destroy", Some(&inbox), 2),
        (Some(&admin), "eprint/destroy", Some(&deletion), 2),
        (Some(&admin), "eprint/destroy", None, 2),
        // A status the dataset does not have is no virtual dataset: no expansion, on both
        // paths (regression: `decide` used to expand it while `mask` did not).
        (Some(&user("minuser", &["odd"])), "eprint/view", Some(&eprint("review")), 0),
        (Some(&user("minuser", &["odd"])), "eprint/review/view", Some(&eprint("review")), 2),
    ]);
}

#[test]
fn literal_match_of_scoped_strings() {
    let w = World::builtin();
    let ed = with_scope(user("editor", &[]), &["divisions=law"]);
    let out_of_scope = eprint("buffer").with_field("divisions", &["med"]);
    #[rustfmt::skip]
    w.table(&[
        (Some(&ed), "eprint/buffer/edit:editor", None, 2),
        (Some(&ed), "eprint/edit", None, 0),
        (Some(&ed), "eprint/view", None, 0),
        (Some(&user("user", &[])), "user/view:owner", None, 2),
        // EPrints' STAFF_ONLY test: `eprint/edit:editor` on a buffer item tests
        // `eprint/buffer/edit:editor` as a plain string, without a scope check
        // (regression: the fast path used to miss the status form of a suffixed query).
        (Some(&ed), "eprint/edit:editor", Some(&out_of_scope), 2),
        (Some(&ed), "eprint/edit", Some(&out_of_scope), 0),
        (Some(&user("user", &[])), "eprint/edit:owner", Some(&mine(eprint("inbox"))), 2),
    ]);
}

#[test]
fn owners_and_co_owners() {
    let w = World::builtin();
    let u = user("user", &[]);
    let no_email = UserFacts {
        email: None,
        ..user("user", &[])
    };
    let inbox = eprint("inbox");
    let co_owned = theirs(inbox.clone()).with_owner(Owner::Id(UserId(ME)));
    let by_email = theirs(inbox.clone()).with_owner(Owner::Email("ANN@Example.ORG".into()));
    let other_email = inbox
        .clone()
        .with_owner(Owner::Email("bob@example.org".into()));
    let me_item = Item::new("user").with_owner(Owner::Id(UserId(ME)));
    let saved = Item::new("saved_search").with_owner(Owner::Id(UserId(ME)));
    #[rustfmt::skip]
    w.table(&[
        (Some(&u), "eprint/edit", Some(&mine(inbox.clone())), 4),
        (Some(&u), "eprint/edit", Some(&co_owned), 4),
        (Some(&u), "eprint/edit", Some(&by_email), 4),
        (Some(&no_email), "eprint/edit", Some(&by_email), 0),
        (Some(&u), "eprint/edit", Some(&other_email), 0),
        (Some(&u), "eprint/edit", Some(&theirs(inbox.clone())), 0),
        (Some(&u), "eprint/edit", Some(&inbox), 0),
        (Some(&u), "user/edit", Some(&me_item), 4),
        (Some(&u), "user/edit", Some(&theirs(Item::new("user"))), 0),
        (Some(&u), "saved_search/view", Some(&saved), 4),
        (Some(&user("minuser", &[])), "eprint/edit", Some(&mine(inbox.clone())), 0),
    ]);
    let d = w.decide(&u, "eprint/edit", Some(&theirs(inbox)));
    assert!(d.reasons.iter().any(|r| r.kind == ReasonKind::NotOwner));
}

#[test]
fn editorial_scope() {
    let w = World::file("user_roles:\n  blind-editor: [editor, editperms_none_by_default]\n");
    let item = eprint("buffer")
        .with_field("divisions", &["law"])
        .with_field("subjects", &["QA", "Q"]);
    let ed = |filters: &[&str]| with_scope(user("editor", &[]), filters);
    let none = user("editor", &["editperms_none_by_default"]);
    let none_scoped = with_scope(none.clone(), &["divisions=law"]);
    let user_editor = with_scope(
        user(
            "minuser",
            &["editperms_none_by_default", "+user/edit:editor"],
        ),
        &["divisions=ecs"],
    );
    #[rustfmt::skip]
    w.table(&[
        (Some(&ed(&[])), "eprint/edit", Some(&item), 8),
        (Some(&ed(&["divisions=law"])), "eprint/edit", Some(&item), 8),
        (Some(&ed(&["divisions=ecs"])), "eprint/edit", Some(&item), 0),
        (Some(&ed(&["divisions=law,ecs"])), "eprint/edit", Some(&item), 8),
        // Fields of one filter are AND-ed.
        (Some(&ed(&["divisions=law;subjects=QA"])), "eprint/edit", Some(&item), 8),
        (Some(&ed(&["divisions=law;subjects=B"])), "eprint/edit", Some(&item), 0),
        (Some(&ed(&["divisions=ecs;subjects=QA"])), "eprint/edit", Some(&item), 0),
        (Some(&ed(&["type=article"])), "eprint/edit", Some(&item), 0),
        // Filters are OR-ed.
        (Some(&ed(&["divisions=ecs", "subjects=Q"])), "eprint/edit", Some(&item), 8),
        // The marker role empties an empty scope, through own entries or the type.
        (Some(&none), "eprint/edit", Some(&item), 0),
        (Some(&none), "eprint/view", Some(&item), 2),
        (Some(&none_scoped), "eprint/edit", Some(&item), 8),
        (Some(&user("blind-editor", &[])), "eprint/edit", Some(&item), 0),
        // Datasets without scope rules are always in scope.
        (Some(&user_editor), "user/edit", Some(&Item::new("user")), 8),
        // Scope gates bit 8 only: ownership still counts.
        (Some(&ed(&["divisions=ecs"])), "eprint/view", Some(&mine(item.clone())), 6),
    ]);
    let d = w.decide(&ed(&["divisions=ecs"]), "eprint/edit", Some(&item));
    assert!(d.reasons.iter().any(|r| r.kind == ReasonKind::OutOfScope));
}

#[test]
fn unknown_user_type_has_no_type_entries() {
    let w = World::builtin();
    let no_type = UserFacts {
        user_type: None,
        ..user("user", &[])
    };
    #[rustfmt::skip]
    w.table(&[
        (Some(&user("ghost", &[])), "items", None, 0),
        (Some(&user("ghost", &[])), "user/view:owner", None, 0),
        (Some(&user("ghost", &[])), "eprint_search", None, 1),
        (Some(&user("ghost", &["deposit"])), "items", None, 2),
        (Some(&no_type), "items", None, 0),
        // An undefined role name in own entries is ignored.
        (Some(&user("user", &["nosuchrole"])), "items", None, 2),
    ]);
}

#[test]
fn file_roles_and_types_replace_built_in_ones() {
    let w = World::file("roles:\n  deposit: [+items]\nuser_roles:\n  minuser: [general]\n");
    let inbox_mine = mine(eprint("inbox"));
    #[rustfmt::skip]
    w.table(&[
        (Some(&user("user", &[])), "items", None, 2),
        (Some(&user("user", &[])), "create_eprint", None, 0),
        (Some(&user("user", &[])), "eprint/edit", Some(&inbox_mine), 0),
        (Some(&user("minuser", &[])), "user/view:owner", None, 2),
        (Some(&user("minuser", &[])), "set-password", None, 0),
        (Some(&user("editor", &[])), "eprint/edit", Some(&eprint("buffer")), 8),
    ]);
    // A run-time role works like any other, but may not take a defined name.
    let hat = RoleDef {
        name: "runtime-hat".parse().unwrap(),
        entries: vec!["config/edit".parse().unwrap()],
        origin: Origin::Runtime,
        description: None,
    };
    let w = World::new(None, &[hat], &[]);
    w.table(&[(
        Some(&user("minuser", &["runtime-hat"])),
        "config/edit",
        None,
        2,
    )]);
    let clash = RoleDef {
        name: "deposit".parse().unwrap(),
        entries: Vec::new(),
        origin: Origin::Runtime,
        description: None,
    };
    let err = CompiledPolicy::compile(Arc::new(PolicyConfig::builtin().clone()), &[clash], &[], 1);
    assert!(matches!(err, Err(CompileError::RoleClash(r, _)) if r.as_str() == "deposit"));
}

#[test]
fn held_roles_are_the_types_then_the_users_own_defined_ones_once() {
    let hat = RoleDef {
        name: "runtime-hat".parse().unwrap(),
        entries: vec!["config/edit".parse().unwrap()],
        origin: Origin::Runtime,
        description: None,
    };
    let with_hat = World::new(None, &[hat], &[allow("hat/wear", to_role("runtime-hat"))]);
    let names = |w: &World, facts: &UserFacts| -> Vec<String> {
        w.policy
            .effective(facts)
            .held_roles()
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let plain = user("editor", &[]);
    let typed = names(&with_hat, &plain);
    assert!(!typed.is_empty(), "the editor type holds roles");
    // A user's own run-time role comes after the type's; a repeat and an undefined name
    // are not listed.
    let own = user("editor", &["runtime-hat", &typed[0], "no-such-role"]);
    let mut want = typed.clone();
    want.push("runtime-hat".into());
    assert_eq!(names(&with_hat, &own), want);
    // Without the run-time role (deleted), it is held by nobody.
    assert_eq!(names(&World::builtin(), &own), typed);
}

#[test]
fn distinct_privileges_per_default_type() {
    let policy = World::builtin().policy;
    for (ty, want) in [
        ("user", 52),
        ("editor", 127),
        ("admin", 200),
        ("minuser", 10),
    ] {
        let name: TypeName = ty.parse().unwrap();
        let listed = policy.show_type(&name).unwrap().privileges.len();
        let facts = user(ty, &[]);
        let eff = policy.effective(&facts);
        let effective = policy.list_effective(&facts, &eff).len();
        let reference = World::builtin().reference.effective(&facts).held.len();
        assert_eq!((listed, effective, reference), (want, want, want), "{ty}");
    }
    let minuser: TypeName = "minuser".parse().unwrap();
    let names: Vec<String> = policy
        .show_type(&minuser)
        .unwrap()
        .privileges
        .into_iter()
        .map(|h| h.privilege)
        .collect();
    assert_eq!(
        names,
        [
            "create_saved_search",
            "saved_search",
            "saved_search/destroy:owner",
            "saved_search/edit:owner",
            "saved_search/view:owner",
            "set-password",
            "user/details:owner",
            "user/edit:owner",
            "user/history:owner",
            "user/view:owner"
        ]
    );
    let admin = policy.show_type(&"admin".parse().unwrap()).unwrap();
    assert!(admin
        .privileges
        .iter()
        .any(|h| h.privilege == "administration-access"));
}

const APPROVE_HAT: &str = "roles:\n  approve-hat:\n    - eprint/buffer/view:editor\n    \
    - eprint/buffer/summary:editor\n    - eprint/buffer/details:editor\n    \
    - eprint/buffer/move_archive:editor\n";

#[test]
fn the_seed_approve_hat() {
    let w = World::file(APPROVE_HAT);
    let hat = user("user", &["approve-hat"]);
    let plain = user("user", &[]);
    let buffer = theirs(eprint("buffer"));
    let archive = theirs(eprint("archive"));
    let inbox = theirs(eprint("inbox"));
    #[rustfmt::skip]
    w.table(&[
        (Some(&hat), "eprint/view", Some(&buffer), 8),
        (Some(&hat), "eprint/summary", Some(&buffer), 8),
        (Some(&hat), "eprint/details", Some(&buffer), 8),
        (Some(&hat), "eprint/move_archive", Some(&buffer), 8),
        (Some(&plain), "eprint/move_archive", Some(&buffer), 0),
        (Some(&hat), "eprint/edit", Some(&buffer), 0),
        // `deposit` gives `eprint/buffer/move_inbox:owner`, but this item is not theirs.
        (Some(&hat), "eprint/move_inbox", Some(&buffer), 0),
        (Some(&hat), "eprint/move_inbox", Some(&mine(eprint("buffer"))), 4),
        // Nothing outside the buffer.
        (Some(&hat), "eprint/view", Some(&archive), 1),
        (Some(&hat), "eprint/move_archive", Some(&archive), 0),
        (Some(&hat), "eprint/view", Some(&inbox), 0),
        (Some(&hat), "eprint/move_archive", Some(&inbox), 0),
        (Some(&with_scope(hat.clone(), &["divisions=law"])), "eprint/view", Some(&buffer), 0),
    ]);
}

#[test]
fn reasons_name_their_sources() {
    let w = World::new(
        Some(APPROVE_HAT),
        &[],
        &[deny("eprint/details", to_role("approve-hat"))],
    );
    let hat = user("user", &["approve-hat"]);
    let buffer_mine = mine(eprint("buffer"));
    let d = w.decide(&hat, "eprint/move_archive", Some(&buffer_mine));
    assert_eq!(d.mask, 8);
    assert!((d.allowed, d.editor, d.owner, d.user, d.public) == (true, true, false, false, false));
    let r = d.reasons.iter().find(|r| r.bit == 8).unwrap();
    assert_eq!(r.kind, ReasonKind::Editor);
    assert_eq!(r.privilege, "eprint/buffer/move_archive:editor");
    assert!(
        r.source.contains("role `approve-hat`") && r.source.contains("own entry 1"),
        "{r:?}"
    );

    // Every set bit has its reason.
    let d = w.decide(
        &user("editor", &[]),
        "eprint/view",
        Some(&mine(eprint("archive"))),
    );
    assert_eq!(d.mask, 15);
    for bit in [1, 2, 4, 8] {
        assert!(
            d.reasons.iter().any(|r| r.bit == bit),
            "bit {bit}: {:?}",
            d.reasons
        );
    }
    let by_bit = |bit| {
        d.reasons
            .iter()
            .find(|r| r.bit == bit)
            .unwrap()
            .source
            .clone()
    };
    assert!(by_bit(1).contains("built-in public privilege"));
    assert!(by_bit(2).contains("role `staff-view`"));
    assert!(by_bit(4).contains("role `deposit`"));
    assert!(by_bit(8).contains("role `editor`"));

    // A denial names the deny, or says nothing granted it.
    assert_eq!(
        w.check(
            Some(&hat),
            "eprint/details",
            Some(&theirs(eprint("buffer")))
        ),
        0
    );
    let d = w.decide(&hat, "eprint/details", Some(&theirs(eprint("buffer"))));
    assert!(d.reasons.iter().any(|r| r.kind == ReasonKind::Denied
        && r.privilege == "eprint/buffer/details:editor"
        && r.source
            .contains("deny of `eprint/details` to role `approve-hat`")));
    let d = w.decide(&hat, "config/edit", None);
    assert_eq!(d.reasons.len(), 1);
    assert_eq!(d.reasons[0].kind, ReasonKind::NotGranted);
    assert!(d.reasons[0].source.contains("`config/edit`"));
}

#[test]
fn cache_sees_every_change() {
    let w = World::builtin();
    let cache = EffectiveCache::new();
    let mut u = user("user", &[]);
    let first = cache.get(&w.policy, &u, 1);
    assert_eq!(
        w.policy
            .subject(&u, &first)
            .unwrap()
            .mask("config/edit", None),
        0
    );
    u.allow.push(p("config/edit"));
    let stale = cache.get(&w.policy, &u, 1);
    assert!(
        Arc::ptr_eq(&first, &stale),
        "same version: the cached set is kept"
    );
    let fresh = cache.get(&w.policy, &u, 2);
    assert_eq!(
        w.policy
            .subject(&u, &fresh)
            .unwrap()
            .mask("config/edit", None),
        2
    );
    // A new policy generation misses too.
    let grants = [deny("config/edit", AUTH)];
    let policy2 =
        CompiledPolicy::compile(Arc::new(PolicyConfig::builtin().clone()), &[], &grants, 2)
            .unwrap();
    let again = cache.get(&policy2, &u, 2);
    assert_eq!(
        policy2
            .subject(&u, &again)
            .unwrap()
            .mask("config/edit", None),
        0
    );
    // Users of the same shape share one set.
    let mut twin = user("user", &[]);
    twin.id = UserId(2);
    twin.allow.push(p("config/edit"));
    let shared = cache.get(&policy2, &twin, 1);
    assert!(Arc::ptr_eq(&again, &shared));
    // `first` is the type's own set, which the policy holds; the one shape of users with
    // grants of their own is the shared one.
    assert!(Arc::ptr_eq(&first, &w.policy.effective(&user("user", &[]))));
    assert_eq!(cache.distinct_sets(), 1);
    assert_eq!(cache.len(), 2);
}
