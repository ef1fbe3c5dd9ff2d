//! Property tests of the engine against the reference evaluator (`reference/mod.rs`):
//!
//! (a) privilege parse/print round-trip; (b) the fast path, the full path and the cache give
//! the reference's mask on random policies, users and items; (c) a deny always wins;
//! (d) `:owner` never grants on an item the user does not own.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod reference;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use gatehouse_policy::{
    CompiledPolicy, Effect, EffectiveCache, Entry, Grant, GrantTarget, Item, Origin, Owner,
    PolicyConfig, Privilege, PublicDef, RoleDef, RoleEntry, ScopeFilter, SystemRole, TypeDef,
    UserFacts, UserId,
};
use proptest::prelude::*;
use reference::{deny_covers, Reference};

/// Privilege strings roles, types, users and grants draw from: plain, `:owner`, `:editor`,
/// status-qualified and not, strings no built-in role names, and `superuser-access`.
const PRIVS: &[&str] = &[
    "eprint/view",
    "eprint/edit",
    "eprint/x",
    "eprint/view:owner",
    "eprint/edit:editor",
    "eprint/x:owner",
    "eprint/x:editor",
    "eprint/buffer/view",
    "eprint/buffer/view:editor",
    "eprint/buffer/edit:editor",
    "eprint/buffer/x",
    "eprint/archive/view",
    "eprint/archive/view:owner",
    "eprint/archive/x:editor",
    "eprint/inbox/edit:owner",
    "eprint/deletion/x",
    "eprint/deletion/x:owner",
    "eprint/buffer/archive/x",
    "eprint/buffer",
    "user/view",
    "user/view:owner",
    "user/edit:editor",
    "x",
    "x:owner",
    "x:editor",
    "x:foo",
    "superuser-access",
    "eprint_search",
    "subject/view",
    "eprint/archive/export",
    "create_eprint",
    "items",
    "config/edit",
    "fresh/one",
    "fresh/two:owner",
    "eprint/fresh:editor",
    "eprint/review/x",
];

/// Queries: every pool string plus strings nobody holds and usual EPrints questions.
const EXTRA_QUERIES: &[&str] = &[
    "eprint/y",
    "eprint/buffer/y",
    "nothing",
    "eprint/archive/x",
    "eprint/inbox/x:owner",
    "eprint/x:owner:editor",
    "eprint/details",
    "eprint/move_archive",
    "eprint/inbox",
    "user/edit",
    "saved_search/view",
    "eprint/fresh",
];

const RANDOM_ROLES: [&str; 4] = ["r0", "r1", "r2", "r3"];
/// Role names entries may name (random roles, built-in ones, the scope marker, an undefined
/// one); grants go to all but the undefined one.
const ROLE_NAMES: &[&str] = &[
    "r0",
    "r1",
    "r2",
    "r3",
    "deposit",
    "editor",
    "staff-view",
    "general",
    "editperms_none_by_default",
    "toolbox",
    "nosuchrole",
];
const TYPES: &[&str] = &["user", "editor", "admin", "minuser", "t0", "t1", "ghost"];
const FIELD_VALUES: &[(&str, &[&str])] = &[
    ("divisions", &["law", "ecs", "med"]),
    ("subjects", &["QA", "Q", "B"]),
];

fn p(i: usize) -> Privilege {
    PRIVS[i % PRIVS.len()].parse().unwrap()
}

/// The plain strings a check of `q` on `item` tests: `q`, and `eprint/<status>/<rest>` when
/// the item is an eprint with one of the four statuses and `q` names none.
fn tested_forms(q: &str, item: Option<&Item>) -> Vec<String> {
    const STATUSES: [&str; 4] = ["inbox", "buffer", "archive", "deletion"];
    let mut out = vec![q.to_owned()];
    let status = item
        .filter(|i| i.dataset == "eprint")
        .and_then(|i| i.status.as_deref())
        .filter(|s| STATUSES.contains(s));
    if let (Some(status), Some(rest)) = (status, q.strip_prefix("eprint/")) {
        let names_one = rest
            .split_once('/')
            .is_some_and(|(first, _)| STATUSES.contains(&first));
        if !names_one {
            out.push(format!("eprint/{status}/{rest}"));
        }
    }
    out
}

fn queries() -> Vec<&'static str> {
    PRIVS.iter().chain(EXTRA_QUERIES).copied().collect()
}

fn role_entry() -> impl Strategy<Value = RoleEntry> {
    (0..3u8, 0..PRIVS.len()).prop_map(|(op, i)| match op {
        0 => RoleEntry::Bare(p(i)),
        1 => RoleEntry::Plus(p(i)),
        _ => RoleEntry::Minus(p(i)),
    })
}

/// An entry of a user's own list: may name a role nobody defined (it adds nothing).
fn entry() -> impl Strategy<Value = Entry> {
    entry_naming(ROLE_NAMES.len())
}

/// An entry of a user type: only defined roles (compiling refuses a type naming another).
fn type_entry() -> impl Strategy<Value = Entry> {
    entry_naming(ROLE_NAMES.len() - 1)
}

fn entry_naming(roles: usize) -> impl Strategy<Value = Entry> {
    prop_oneof![
        2 => (0..roles).prop_map(|i| Entry::Role(ROLE_NAMES[i].parse().unwrap())),
        1 => (0..PRIVS.len()).prop_map(|i| Entry::Plus(p(i))),
        1 => (0..PRIVS.len()).prop_map(|i| Entry::Minus(p(i))),
    ]
}

fn grant() -> impl Strategy<Value = Grant> {
    // Targets: the defined role names, then the two system roles.
    let targets = ROLE_NAMES.len() - 1 + 2;
    (any::<bool>(), 0..PRIVS.len(), 0..targets).prop_map(move |(allow, i, t)| {
        let target = match t {
            t if t < ROLE_NAMES.len() - 1 => GrantTarget::Role(ROLE_NAMES[t].parse().unwrap()),
            t if t == targets - 2 => GrantTarget::SystemRole(SystemRole::AuthenticatedUser),
            _ => GrantTarget::SystemRole(SystemRole::AnyUser),
        };
        Grant {
            effect: if allow { Effect::Allow } else { Effect::Deny },
            privilege: p(i),
            target,
        }
    })
}

fn scope_filter() -> impl Strategy<Value = ScopeFilter> {
    prop::collection::btree_map(
        0..FIELD_VALUES.len(),
        prop::collection::btree_set(0..3usize, 1..3),
        1..3,
    )
    .prop_map(|m| {
        let fields: BTreeMap<String, BTreeSet<String>> = m
            .into_iter()
            .map(|(f, vs)| {
                let (name, values) = FIELD_VALUES[f];
                (
                    name.to_owned(),
                    vs.into_iter().map(|v| values[v].to_owned()).collect(),
                )
            })
            .collect();
        ScopeFilter::from_fields(fields).unwrap()
    })
}

/// A random policy: the four random roles (each from the file or created at run time), an
/// optional file replacement of `toolbox`, two file user types, maybe a file `public_roles`,
/// and grants.
#[derive(Debug, Clone)]
struct PolicyGen {
    roles: Vec<(Vec<RoleEntry>, bool)>,
    toolbox: Option<Vec<RoleEntry>>,
    types: Vec<Vec<Entry>>,
    public_roles: Option<Vec<usize>>,
    grants: Vec<Grant>,
}

fn policy_gen() -> impl Strategy<Value = PolicyGen> {
    (
        prop::collection::vec(
            (prop::collection::vec(role_entry(), 0..6), any::<bool>()),
            4,
        ),
        prop::option::of(prop::collection::vec(role_entry(), 0..4)),
        prop::collection::vec(prop::collection::vec(type_entry(), 0..5), 2),
        prop::option::of(prop::collection::vec(0..PRIVS.len(), 0..3)),
        prop::collection::vec(grant(), 0..6),
    )
        .prop_map(|(roles, toolbox, types, public_roles, grants)| PolicyGen {
            roles,
            toolbox,
            types,
            public_roles,
            grants,
        })
}

/// The configuration, the run-time roles and the grants of a generated policy.
fn build(g: &PolicyGen) -> (PolicyConfig, Vec<RoleDef>, Vec<Grant>) {
    let mut cfg = PolicyConfig::builtin().clone();
    let file = |line| Origin::File {
        path: Arc::from("user_roles.yaml"),
        line,
    };
    let mut runtime = Vec::new();
    for (i, (entries, from_file)) in g.roles.iter().enumerate() {
        let def = RoleDef {
            name: RANDOM_ROLES[i].parse().unwrap(),
            entries: entries.clone(),
            origin: if *from_file {
                file(i as u32 + 1)
            } else {
                Origin::Runtime
            },
            description: None,
        };
        if *from_file {
            cfg.insert_role(def);
        } else {
            runtime.push(def);
        }
    }
    if let Some(entries) = &g.toolbox {
        cfg.insert_role(RoleDef {
            name: "toolbox".parse().unwrap(),
            entries: entries.clone(),
            origin: file(10),
            description: None,
        });
    }
    for (i, entries) in g.types.iter().enumerate() {
        let name = TYPES[4 + i].parse().unwrap();
        cfg.insert_type(TypeDef {
            name,
            entries: entries.clone(),
            origin: file(20 + i as u32),
        });
    }
    if let Some(list) = &g.public_roles {
        cfg.set_public_roles(
            list.iter()
                .map(|i| PublicDef {
                    privilege: p(*i),
                    origin: file(30),
                    from_public_roles: true,
                })
                .collect(),
        );
    }
    (cfg, runtime, g.grants.clone())
}

fn user_gen(id: i64) -> impl Strategy<Value = UserFacts> {
    (
        prop::option::of(0..TYPES.len()),
        prop::collection::vec(entry(), 0..4),
        prop::collection::vec(0..PRIVS.len(), 0..3),
        prop::collection::vec(0..PRIVS.len(), 0..3),
        prop::bool::weighted(0.85),
        prop::collection::vec(scope_filter(), 0..3),
    )
        .prop_map(move |(ty, entries, allow, deny, active, scope)| UserFacts {
            id: UserId(id),
            email: Some(format!("u{id}@example.org")),
            active,
            user_type: ty.map(|t| TYPES[t].parse().unwrap()),
            entries,
            allow: allow.into_iter().map(p).collect(),
            deny: deny.into_iter().map(p).collect(),
            editorial_scope: scope,
        })
}

fn item_gen() -> impl Strategy<Value = Item> {
    let dataset = prop_oneof![
        4 => prop::option::of(prop::sample::select(vec!["inbox", "buffer", "archive", "deletion"]))
            .prop_map(|st| ("eprint", st)),
        1 => Just(("eprint", Some("review"))),
        1 => Just(("user", None)),
        1 => Just(("user", Some("buffer"))),
        1 => Just(("saved_search", None)),
    ];
    let owner = prop_oneof![
        (1..4i64).prop_map(|i| Owner::Id(UserId(i))),
        (1..4i64).prop_map(|i| Owner::Email(format!("U{i}@Example.org"))),
        Just(Owner::Email("nobody@example.org".into())),
    ];
    let field = (
        0..FIELD_VALUES.len(),
        prop::collection::vec(0..3usize, 1..3),
    );
    (
        dataset,
        prop::collection::vec(owner, 0..3),
        prop::collection::vec(field, 0..3),
    )
        .prop_map(|((ds, status), owners, fields)| {
            let mut item = Item::new(ds);
            item.status = status.map(str::to_owned);
            item.owners = owners;
            for (f, vs) in fields {
                let (name, values) = FIELD_VALUES[f];
                let vs: Vec<&str> = vs.into_iter().map(|v| values[v]).collect();
                item = item.with_field(name, &vs);
            }
            item
        })
}

struct Case {
    policy: CompiledPolicy,
    reference: Reference,
}

fn case(g: &PolicyGen) -> Case {
    let (cfg, runtime, grants) = build(g);
    let reference = Reference::new(&cfg, &runtime, &grants);
    let policy = CompiledPolicy::compile(Arc::new(cfg), &runtime, &grants, 7).unwrap();
    Case { policy, reference }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// (a) Valid privileges print as parsed; whitespace, control characters and a leading
    /// sign are refused.
    #[test]
    fn privilege_parse_print_round_trip(s in "[a-zA-Z0-9_/:.\\-+é]{1,40}") {
        match s.parse::<Privilege>() {
            Ok(p) => {
                prop_assert!(!s.starts_with('+') && !s.starts_with('-'));
                prop_assert_eq!(p.to_string(), s.clone());
                prop_assert_eq!(p.to_string().parse::<Privilege>().unwrap(), p);
            }
            Err(_) => prop_assert!(s.starts_with('+') || s.starts_with('-')),
        }
    }

    #[test]
    fn bad_privileges_are_refused(
        head in "[a-z/]{0,10}",
        bad in prop::sample::select(vec![" ", "\t", "\n", "\u{7}", "\u{a0}", "\r"]),
        tail in "[a-z/:]{0,10}",
        sign in prop::sample::select(vec!["+", "-"]),
    ) {
        let with_space = format!("{head}{bad}{tail}");
        prop_assert!(with_space.parse::<Privilege>().is_err(), "{:?}", with_space);
        let signed = format!("{sign}{head}{tail}");
        prop_assert!(signed.parse::<Privilege>().is_err(), "{:?}", signed);
    }

    /// (b) mask, decide and the cache agree with the reference everywhere.
    #[test]
    fn engine_matches_reference(
        g in policy_gen(),
        users in (user_gen(1), user_gen(2), user_gen(3)),
        items in prop::collection::vec(item_gen(), 1..4),
    ) {
        let c = case(&g);
        let users = [users.0, users.1, users.2];
        let cache = EffectiveCache::new();
        let mut items: Vec<Option<&Item>> = items.iter().map(Some).collect();
        items.push(None);
        for q in queries() {
            for item in &items {
                let want = c.reference.mask(None, q, *item);
                let view = item.map(Item::view);
                prop_assert_eq!(c.policy.anonymous().mask(q, view.as_ref()), want, "anonymous {} {:?}", q, item);
                prop_assert_eq!(c.policy.check_anonymous(q, view.as_ref()).mask, want);
            }
        }
        for u in &users {
            let eff = c.policy.effective(u);
            let cached = cache.get(&c.policy, u, 1);
            let r = c.reference.effective(u);
            for q in queries() {
                for item in &items {
                    let want = c.reference.mask(Some((u, &r)), q, *item);
                    let view = item.map(Item::view);
                    let fast = c.policy.subject(u, &eff).unwrap().mask(q, view.as_ref());
                    let full = c.policy.check(u, q, view.as_ref());
                    let via_cache = c.policy.subject(u, &cached).unwrap().mask(q, view.as_ref());
                    prop_assert_eq!(
                        (fast, full.mask, via_cache), (want, want, want),
                        "{} on {:?} by {:?} (reference holds {:?})", q, item, u, r.held
                    );
                    // Every set bit is explained.
                    for bit in [1u8, 2, 4, 8] {
                        if want & bit != 0 {
                            prop_assert!(full.reasons.iter().any(|x| x.bit == bit), "bit {} of {}: {:?}", bit, q, full.reasons);
                        }
                    }
                    // The walk's last word on every tested string is what the evaluation reads.
                    let subject = c.policy.subject(u, &eff).unwrap();
                    let h = subject.holds(q, view.as_ref());
                    let steps = subject.walk(q, view.as_ref());
                    let forms = tested_forms(q, *item);
                    let last = |suffix: &str| forms.iter().any(|f| {
                        let s = format!("{f}{suffix}");
                        steps.iter().rev().find(|x| x.privilege == s).is_some_and(|x| x.held_after)
                    });
                    prop_assert_eq!(last(""), h.user || h.public, "plain forms of {} on {:?}: {:?}", q, item, steps);
                    if item.is_some() {
                        prop_assert_eq!((last(":owner"), last(":editor")), (h.owner, h.editor), "{} on {:?}: {:?}", q, item, steps);
                    }
                }
            }
        }
    }

    /// (c) A deny always wins: when an applicable deny covers `q`, no bit rests on `q`, and
    /// no set bit ever rests on a denied string.
    #[test]
    fn a_deny_always_wins(
        g in policy_gen(),
        u in user_gen(1),
        items in prop::collection::vec(item_gen(), 1..3),
        qi in 0..PRIVS.len(),
        how in 0..3u8,
    ) {
        let c = case(&g);
        // Add a user deny that covers `q`: `q` itself, its base, or its status-free form.
        let q = PRIVS[qi];
        let base = q.strip_suffix(":owner").or_else(|| q.strip_suffix(":editor")).unwrap_or(q);
        let unqualified = base
            .strip_prefix("eprint/")
            .and_then(|rest| rest.split_once('/'))
            .filter(|(st, tail)| ["inbox", "buffer", "archive", "deletion"].contains(st)
                && !tail.split_once('/').is_some_and(|(f, _)| ["inbox", "buffer", "archive", "deletion"].contains(&f)))
            .map(|(_, tail)| format!("eprint/{tail}"));
        let d = match (how, unqualified) {
            (0, _) => q.to_owned(),
            (1, _) => base.to_owned(),
            (_, Some(u)) => u,
            (_, None) => base.to_owned(),
        };
        prop_assert!(deny_covers(&d, q), "{} should cover {}", d, q);
        let mut u = u;
        u.deny.push(d.parse().unwrap());
        let eff = c.policy.effective(&u);
        let r = c.reference.effective(&u);
        prop_assert_eq!(c.policy.subject(&u, &eff).unwrap().mask(q, None) & 3, 0);
        let mut items: Vec<Option<&Item>> = items.iter().map(Some).collect();
        items.push(None);
        for q2 in queries() {
            for item in &items {
                let dec = c.policy.check(&u, q2, item.map(Item::view).as_ref());
                for reason in dec.reasons.iter().filter(|x| x.bit != 0) {
                    prop_assert!(reason.privilege != q, "bit {} rests on denied {}", reason.bit, q);
                    prop_assert!(!r.denied(&reason.privilege), "bit {} rests on denied {}: {:?}", reason.bit, reason.privilege, dec.reasons);
                }
            }
        }
    }

    /// (d) `:owner` never grants on an item the user does not own.
    #[test]
    fn owner_bit_needs_ownership(
        g in policy_gen(),
        u in user_gen(1),
        items in prop::collection::vec(item_gen(), 1..4),
    ) {
        let c = case(&g);
        let eff = c.policy.effective(&u);
        for item in items.iter().filter(|i| !Reference::owns(&u, i)) {
            for q in queries() {
                let view = item.view();
                prop_assert_eq!(c.policy.subject(&u, &eff).unwrap().mask(q, Some(&view)) & 4, 0);
                prop_assert_eq!(c.policy.check(&u, q, Some(&view)).mask & 4, 0);
            }
        }
    }

    /// (e) Who-can agrees with check for every user: a user with nothing of their own is
    /// answered by their type's entry, others by their own holds; anonymous by `anonymous`.
    #[test]
    fn who_can_agrees_with_check(
        g in policy_gen(),
        users in (user_gen(1), user_gen(2), user_gen(3)),
        items in prop::collection::vec(item_gen(), 1..4),
    ) {
        let c = case(&g);
        let mut all = vec![users.0, users.1, users.2];
        // The same users with nothing of their own: answered from the types.
        for u in all.clone() {
            all.push(UserFacts { entries: vec![], allow: vec![], deny: vec![], ..u });
        }
        let mut items: Vec<Option<&Item>> = items.iter().map(Some).collect();
        items.push(None);
        for q in queries() {
            for item in &items {
                let view = item.map(Item::view);
                let who = c.policy.who_can(q, view.as_ref());
                prop_assert_eq!(who.anonymous, c.policy.check_anonymous(q, view.as_ref()).allowed);
                for u in &all {
                    let set = c.policy.effective(u);
                    let plain = u.entries.is_empty() && u.allow.is_empty() && u.deny.is_empty();
                    let holds = if plain {
                        who.holds_of_type(u.user_type.as_ref())
                    } else {
                        c.policy.subject(u, &set).unwrap().holds(q, view.as_ref())
                    };
                    let want = c.policy.check(u, q, view.as_ref()).mask;
                    prop_assert_eq!(who.mask(&holds, u, view.as_ref()), want,
                        "{} on {:?} by {:?}: {:?}", q, item, u, who);
                }
            }
        }
    }

    /// (f) A list filter admits exactly what check allows, with the same bits, item by item.
    #[test]
    fn list_filter_agrees_with_check(
        g in policy_gen(),
        users in (user_gen(1), user_gen(2), user_gen(3)),
        items in prop::collection::vec(item_gen(), 4..12),
    ) {
        let c = case(&g);
        let users = [users.0, users.1, users.2];
        let sets: Vec<_> = users.iter().map(|u| c.policy.effective(u)).collect();
        for q in queries() {
            for ds in ["eprint", "user", "saved_search"] {
                let mut subjects = vec![(None, c.policy.anonymous())];
                for (u, set) in users.iter().zip(&sets) {
                    subjects.push((Some(u), c.policy.subject(u, set).unwrap()));
                }
                for (u, subject) in subjects {
                    let filter = subject.list_filter(q, ds);
                    for item in items.iter().filter(|i| i.dataset == ds) {
                        let view = item.view();
                        let want = match u {
                            Some(u) => c.policy.check(u, q, Some(&view)).mask,
                            None => c.policy.check_anonymous(q, Some(&view)).mask,
                        };
                        prop_assert_eq!(filter.mask(&view), want, "{} on {:?} by {:?}: {:?}", q, item, u, filter);
                        match filter.coverage {
                            gatehouse_policy::Coverage::All => prop_assert!(want != 0),
                            gatehouse_policy::Coverage::None => prop_assert_eq!(want, 0),
                            gatehouse_policy::Coverage::Some => {}
                        }
                    }
                }
            }
        }
    }
}
