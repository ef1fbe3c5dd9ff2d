//! Policy engine benchmark: `cargo bench -p gatehouse-policy --bench check`.
//!
//! A deterministic workload (xorshift PRNG, fixed seed) on the EPrints defaults plus a small
//! policy file: 100,000 users (about 5% editors with 1 to 3 scope filters, 1% admins, 10%
//! with an extra role or `+`/`-` entry, the rest of type `user`), 100,000 items across the four
//! statuses plus user and saved-search records, and a mix of allowed and denied checks over
//! plain, `:owner` and `:editor` grants.
//!
//! Criterion measures compile, effective, mask, cache+mask and the reference evaluator; a
//! summary section then prints the figures `docs/PERFORMANCE.md` quotes (median ns per check,
//! throughput ratio against the reference, compile and effective times, memory per cached
//! user).
//!
//! Memory is measured as the growth of the resident set while the cache is filled (a
//! counting global allocator would need `unsafe impl GlobalAlloc`, which the workspace's
//! `unsafe_code = "forbid"` refuses), next to an estimate from `EffectiveSet::heap_bytes`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/reference/mod.rs"]
mod reference;

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use gatehouse_policy::{
    CompiledPolicy, Effect, EffectiveCache, EffectiveSet, Entry, Grant, GrantTarget, Item, Owner,
    PolicyConfig, ScopeFilter, SystemRole, TypeName, UserFacts, UserId, Who,
};
use reference::{RefEffective, Reference};

const USERS: usize = 100_000;
const ITEMS: usize = 100_000;
const QUERIES: usize = 4_096;

/// The policy file of the workload: the seed's approve-hat and a few more hats.
const FILE: &str = "\
roles:
  approve-hat:
    - eprint/buffer/view:editor
    - eprint/buffer/summary:editor
    - eprint/buffer/details:editor
    - eprint/buffer/move_archive:editor
  no-deposit: [-create_eprint]
  self-archive: [eprint/archive/edit:owner]
  proof-reader: [eprint/buffer/view:editor, eprint/buffer/edit:editor, -eprint/buffer/export:owner]
";

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const DIVISIONS: [&str; 10] = [
    "law", "ecs", "med", "hist", "phys", "chem", "bio", "math", "econ", "arts",
];
const SUBJECTS: [&str; 20] = [
    "QA", "QA75", "QB", "QC", "QD", "QH", "R", "RA", "K", "KD", "H", "HB", "D", "DA", "N", "NA",
    "B", "BF", "T", "TK",
];
const EXTRA_ENTRIES: [&str; 7] = [
    "toolbox",
    "rest",
    "approve-hat",
    "proof-reader",
    "no-deposit",
    "+eprint/archive/edit:owner",
    "-create_eprint",
];

/// One check of the mix: who, what, on which item.
struct Query {
    user: usize,
    privilege: &'static str,
    item: Option<usize>,
}

struct Workload {
    config: PolicyConfig,
    grants: Vec<Grant>,
    policy: CompiledPolicy,
    reference: Reference,
    users: Vec<UserFacts>,
    items: Vec<Item>,
    queries: Vec<Query>,
    /// The same mix over 64 users and 16 items of each kind: the caller's facts stay in the
    /// CPU cache, so this measures the engine rather than memory latency.
    hot_queries: Vec<Query>,
    /// Effective sets by user (shared by shape, as the cache does).
    effs: Vec<Arc<EffectiveSet>>,
    /// The reference's effective sets by user (shared by shape too).
    ref_effs: Vec<Arc<RefEffective>>,
}

fn t(name: &str) -> TypeName {
    name.parse().unwrap()
}

fn grants() -> Vec<Grant> {
    let g = |effect, p: &str, target| Grant {
        effect,
        privilege: p.parse().unwrap(),
        target,
    };
    vec![
        g(
            Effect::Allow,
            "toolbox",
            GrantTarget::Role("admin".parse().unwrap()),
        ),
        g(
            Effect::Deny,
            "config/edit/perl",
            GrantTarget::Role("admin".parse().unwrap()),
        ),
        g(
            Effect::Allow,
            "status",
            GrantTarget::SystemRole(SystemRole::AuthenticatedUser),
        ),
        g(
            Effect::Deny,
            "eprint/archive/remove",
            GrantTarget::SystemRole(SystemRole::AnyUser),
        ),
    ]
}

fn make_user(rng: &mut Rng, id: usize) -> UserFacts {
    let roll = rng.below(100);
    let ty = match roll {
        0 => "admin",
        1..=5 => "editor",
        _ => "user",
    };
    let mut scope = Vec::new();
    if ty == "editor" {
        for _ in 0..1 + rng.below(3) {
            let text = if rng.chance(50) {
                format!("divisions={}", DIVISIONS[rng.below(DIVISIONS.len())])
            } else {
                format!(
                    "subjects={},{}",
                    SUBJECTS[rng.below(SUBJECTS.len())],
                    SUBJECTS[rng.below(SUBJECTS.len())]
                )
            };
            scope.push(text.parse::<ScopeFilter>().unwrap());
        }
    }
    let mut entries = Vec::new();
    if rng.chance(10) {
        entries.push(
            EXTRA_ENTRIES[rng.below(EXTRA_ENTRIES.len())]
                .parse::<Entry>()
                .unwrap(),
        );
    }
    UserFacts {
        id: UserId(id as i64 + 1),
        email: Some(format!("user{id}@example.org")),
        active: !rng.chance(2),
        user_type: Some(t(ty)),
        entries,
        allow: Vec::new(),
        deny: Vec::new(),
        editorial_scope: scope,
    }
}

fn make_item(rng: &mut Rng, n_users: usize) -> Item {
    let owner = Owner::Id(UserId(rng.below(n_users) as i64 + 1));
    let roll = rng.below(100);
    if roll < 5 {
        return Item::new("user").with_owner(owner);
    }
    if roll < 10 {
        return Item::new("saved_search").with_owner(owner);
    }
    let status = match rng.below(20) {
        0..=4 => "inbox",
        5..=8 => "buffer",
        9..=18 => "archive",
        _ => "deletion",
    };
    let mut item = Item::new("eprint")
        .with_status(status)
        .with_owner(owner)
        .with_field("divisions", &[DIVISIONS[rng.below(DIVISIONS.len())]])
        .with_field(
            "subjects",
            &[
                SUBJECTS[rng.below(SUBJECTS.len())],
                SUBJECTS[rng.below(SUBJECTS.len())],
            ],
        );
    if rng.chance(10) {
        item = item.with_owner(Owner::Id(UserId(rng.below(n_users) as i64 + 1)));
    }
    item
}

/// The query mix: (privilege, item kind) with weights. Item kinds: 0 none, 1 eprint,
/// 2 the user's own user record or someone else's, 3 saved search.
const MIX: [(&str, u8, usize); 14] = [
    ("eprint/view", 1, 20),
    ("eprint/edit", 1, 15),
    ("eprint/move_archive", 1, 8),
    ("eprint/summary", 1, 5),
    ("eprint/details", 1, 5),
    ("eprint/edit:editor", 1, 3),
    ("eprint/buffer/edit:editor", 0, 5),
    ("user/view", 2, 8),
    ("user/edit", 2, 4),
    ("saved_search/view", 3, 6),
    ("config/edit", 0, 5),
    ("items", 0, 6),
    ("create_eprint", 0, 6),
    ("eprint/archive/view", 0, 4),
];

fn make_queries(rng: &mut Rng, users: &[UserFacts], items: &[Item]) -> Vec<Query> {
    let total: usize = MIX.iter().map(|(_, _, w)| w).sum();
    let by_kind = |kind: u8| -> Vec<usize> {
        (0..items.len())
            .filter(|i| match kind {
                1 => items[*i].dataset == "eprint",
                2 => items[*i].dataset == "user",
                _ => items[*i].dataset == "saved_search",
            })
            .collect()
    };
    let pools = [Vec::new(), by_kind(1), by_kind(2), by_kind(3)];
    (0..QUERIES)
        .map(|_| {
            let mut pick = rng.below(total);
            let (privilege, kind, _) = *MIX
                .iter()
                .find(|(_, _, w)| {
                    if pick < *w {
                        true
                    } else {
                        pick -= w;
                        false
                    }
                })
                .unwrap();
            let user = rng.below(users.len());
            let item = match kind {
                0 => None,
                k => {
                    let pool = &pools[k as usize];
                    Some(pool[rng.below(pool.len())])
                }
            };
            Query {
                user,
                privilege,
                item,
            }
        })
        .collect()
}

/// What makes two users' effective sets equal.
type Shape = (Option<TypeName>, Vec<Entry>);

fn workload() -> Workload {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let config = PolicyConfig::with_file(FILE, "user_roles.yaml").unwrap();
    let grants = grants();
    let policy = CompiledPolicy::compile(Arc::new(config.clone()), &[], &grants, 1).unwrap();
    let reference = Reference::new(&config, &[], &grants);
    let users: Vec<UserFacts> = (0..USERS).map(|i| make_user(&mut rng, i)).collect();
    let mut items: Vec<Item> = (0..ITEMS).map(|_| make_item(&mut rng, USERS)).collect();
    // Half the user-record items are the asker's own: retarget them when queried below.
    let queries = make_queries(&mut rng, &users, &items);
    for q in &queries {
        if let Some(i) = q.item {
            if items[i].dataset == "user" && rng.chance(50) {
                items[i].owners = vec![Owner::Id(users[q.user].id)];
            }
        }
    }
    let mut firsts: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let list = firsts.entry(item.dataset.as_str()).or_default();
        if list.len() < 16 {
            list.push(i);
        }
    }
    let hot_queries = queries
        .iter()
        .enumerate()
        .map(|(n, q)| Query {
            user: q.user % 64,
            privilege: q.privilege,
            item: q.item.map(|i| firsts[items[i].dataset.as_str()][n % 16]),
        })
        .collect();
    let mut shapes: HashMap<Shape, (Arc<EffectiveSet>, Arc<RefEffective>)> = HashMap::new();
    let mut effs = Vec::with_capacity(USERS);
    let mut ref_effs = Vec::with_capacity(USERS);
    for u in &users {
        let (e, r) = shapes
            .entry((u.user_type.clone(), u.entries.clone()))
            .or_insert_with(|| {
                (
                    Arc::new(policy.effective(u.user_type.as_ref(), &u.entries, &u.allow, &u.deny)),
                    Arc::new(reference.effective(u)),
                )
            });
        effs.push(e.clone());
        ref_effs.push(r.clone());
    }
    Workload {
        config,
        grants,
        policy,
        reference,
        users,
        items,
        queries,
        hot_queries,
        effs,
        ref_effs,
    }
}

impl Workload {
    fn item(&self, q: &Query) -> Option<&Item> {
        q.item.map(|i| &self.items[i])
    }

    fn fast(&self, q: &Query) -> u8 {
        let u = &self.users[q.user];
        self.policy
            .mask(Who::User(u, &self.effs[q.user]), q.privilege, self.item(q))
    }

    fn cached(&self, cache: &EffectiveCache, q: &Query) -> u8 {
        let u = &self.users[q.user];
        let eff = cache.get(&self.policy, u, 1);
        self.policy
            .mask(Who::User(u, &eff), q.privilege, self.item(q))
    }

    fn reference(&self, q: &Query) -> u8 {
        let u = &self.users[q.user];
        self.reference
            .mask(Some((u, &self.ref_effs[q.user])), q.privilege, self.item(q))
    }
}

fn criterion_benches(c: &mut Criterion, w: &Workload) {
    let mut g = c.benchmark_group("check");
    g.sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("compile", |b| {
        b.iter(|| CompiledPolicy::compile(Arc::new(w.config.clone()), &[], &w.grants, 1).unwrap())
    });
    let mut i = 0;
    g.bench_function("effective", |b| {
        b.iter(|| {
            i = (i + 1) % USERS;
            let u = &w.users[i];
            w.policy
                .effective(u.user_type.as_ref(), &u.entries, &u.allow, &u.deny)
        })
    });
    let mut i = 0;
    g.bench_function("mask", |b| {
        b.iter(|| {
            i = (i + 1) % QUERIES;
            w.fast(black_box(&w.queries[i]))
        })
    });
    let cache = EffectiveCache::new();
    for q in &w.queries {
        cache.get(&w.policy, &w.users[q.user], 1);
    }
    let mut i = 0;
    g.bench_function("cache+mask", |b| {
        b.iter(|| {
            i = (i + 1) % QUERIES;
            w.cached(&cache, black_box(&w.queries[i]))
        })
    });
    let mut i = 0;
    g.bench_function("reference", |b| {
        b.iter(|| {
            i = (i + 1) % QUERIES;
            w.reference(black_box(&w.queries[i]))
        })
    });
    g.finish();
}

/// Median of `runs` timings of `batch` calls of `f`, in ns per call.
fn median_ns(runs: usize, batch: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut per_call: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            for i in 0..batch {
                f(i);
            }
            start.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[runs / 2]
}

/// Each query of the mix timed on its own, repeated `reps` times in a row so that its facts
/// are warm: (median, 90th percentile) ns per check over the mix.
fn per_query_ns(queries: &[Query], reps: u32, mut f: impl FnMut(&Query) -> u8) -> (f64, f64) {
    let mut ns: Vec<f64> = queries
        .iter()
        .map(|q| {
            black_box(f(q));
            let start = Instant::now();
            for _ in 0..reps {
                black_box(f(black_box(q)));
            }
            start.elapsed().as_nanos() as f64 / f64::from(reps)
        })
        .collect();
    ns.sort_by(f64::total_cmp);
    (ns[ns.len() / 2], ns[ns.len() * 9 / 10])
}

/// A few single checks, each repeated on the same facts: (label, ns per check, mask).
fn single_checks(w: &Workload) -> Vec<(String, f64, u8)> {
    let active_of = |ty: &str| {
        w.users
            .iter()
            .position(|u| {
                u.active
                    && u.entries.is_empty()
                    && u.user_type.as_ref().is_some_and(|t| t.as_str() == ty)
            })
            .unwrap()
    };
    let (user, editor, admin) = (active_of("user"), active_of("editor"), active_of("admin"));
    let buffer = w
        .items
        .iter()
        .position(|i| i.status.as_deref() == Some("buffer"))
        .unwrap();
    let record = w.items.iter().position(|i| i.dataset == "user").unwrap();
    let filters = w.users[editor].editorial_scope.len();
    let cases = [
        (
            "user, `config/edit`, no item".to_owned(),
            user,
            "config/edit",
            None,
        ),
        (
            "user, a string nobody holds, no item".to_owned(),
            user,
            "zzz/unknown",
            None,
        ),
        (
            "user, `eprint/view`, buffer item of another user".to_owned(),
            user,
            "eprint/view",
            Some(buffer),
        ),
        (
            "user, `user/view`, another user's record".to_owned(),
            user,
            "user/view",
            Some(record),
        ),
        (
            format!("editor ({filters} scope filters), `eprint/edit`, buffer item"),
            editor,
            "eprint/edit",
            Some(buffer),
        ),
        (
            "admin, `eprint/edit`, buffer item".to_owned(),
            admin,
            "eprint/edit",
            Some(buffer),
        ),
    ];
    cases
        .into_iter()
        .map(|(label, user, privilege, item)| {
            let q = Query {
                user,
                privilege,
                item,
            };
            let ns = median_ns(101, 10_000, |_| {
                black_box(w.fast(black_box(&q)));
            });
            (label, ns, w.fast(&q))
        })
        .collect()
}

/// Resident set size of this process in bytes (Linux), if known.
fn rss_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn summary(w: &Workload) {
    // Every path agrees on the whole mix before anything is timed.
    let cache = EffectiveCache::new();
    let mut allowed = 0;
    for q in &w.queries {
        let (fast, reference) = (w.fast(q), w.reference(q));
        assert_eq!(fast, reference, "{} by user {}", q.privilege, q.user);
        assert_eq!(w.cached(&cache, q), fast);
        allowed += usize::from(fast != 0);
    }

    let compile_us = median_ns(31, 1, |_| {
        black_box(CompiledPolicy::compile(Arc::new(w.config.clone()), &[], &w.grants, 1).unwrap());
    }) / 1_000.0;
    let effective_of = |ty: &str| {
        let ty = t(ty);
        median_ns(101, 200, |_| {
            black_box(w.policy.effective(Some(&ty), &[], &[], &[]));
        })
    };
    let (eff_user, eff_editor, eff_admin) = (
        effective_of("user"),
        effective_of("editor"),
        effective_of("admin"),
    );
    let eff_mix = median_ns(101, 200, |i| {
        let u = &w.users[(i * 7919) % USERS];
        black_box(
            w.policy
                .effective(u.user_type.as_ref(), &u.entries, &u.allow, &u.deny),
        );
    });
    let fast_ns = median_ns(301, QUERIES, |i| {
        black_box(w.fast(black_box(&w.queries[i])));
    });
    // Take the best of three passes: the machine is shared, a pass can be disturbed.
    let pass = || per_query_ns(&w.queries, 256, |q| w.fast(q));
    let (per_q_median, per_q_p90) = [pass(), pass(), pass()]
        .into_iter()
        .fold((f64::MAX, f64::MAX), |a, b| (a.0.min(b.0), a.1.min(b.1)));
    let (ref_q_median, _) = per_query_ns(&w.queries, 16, |q| w.reference(q));
    let hot_ns = median_ns(301, QUERIES, |i| {
        black_box(w.fast(black_box(&w.hot_queries[i])));
    });
    let hot_reference_ns = median_ns(31, QUERIES, |i| {
        black_box(w.reference(black_box(&w.hot_queries[i])));
    });
    let cached_ns = median_ns(301, QUERIES, |i| {
        black_box(w.cached(&cache, black_box(&w.queries[i])));
    });
    let reference_ns = median_ns(31, QUERIES, |i| {
        black_box(w.reference(black_box(&w.queries[i])));
    });
    let singles = single_checks(w);
    let su = UserFacts {
        allow: vec!["superuser-access".parse().unwrap()],
        active: true,
        ..w.users[0].clone()
    };
    let su_eff = w
        .policy
        .effective(su.user_type.as_ref(), &su.entries, &su.allow, &su.deny);
    let local = UserFacts {
        entries: vec!["+local/only".parse().unwrap()],
        active: true,
        ..w.users[0].clone()
    };
    let local_eff = w.policy.effective(
        local.user_type.as_ref(),
        &local.entries,
        &local.allow,
        &local.deny,
    );
    let local_ns = median_ns(31, QUERIES, |i| {
        let q = &w.queries[i];
        black_box(
            w.policy
                .mask(Who::User(&local, &local_eff), q.privilege, w.item(q)),
        );
    });
    let superuser_ns = median_ns(31, QUERIES, |i| {
        let q = &w.queries[i];
        black_box(
            w.policy
                .mask(Who::User(&su, &su_eff), q.privilege, w.item(q)),
        );
    });

    // Memory: fill a fresh cache for every user.
    let fresh = EffectiveCache::new();
    let before = rss_bytes();
    for u in &w.users {
        black_box(fresh.get(&w.policy, u, 1));
    }
    let after = rss_bytes();
    let distinct = fresh.distinct_sets();
    let mut seen: Vec<*const EffectiveSet> = Vec::new();
    let mut set_bytes = 0;
    for u in &w.users {
        let set = fresh.get(&w.policy, u, 1);
        let ptr = Arc::as_ptr(&set);
        if !seen.contains(&ptr) {
            seen.push(ptr);
            set_bytes += set.heap_bytes() + std::mem::size_of::<EffectiveSet>();
        }
    }
    // One map slot per bucket: id, generation, version, Arc pointer, and a control byte; a
    // hash map keeps at most 7/8 of its buckets (a power of two) full.
    let entry = std::mem::size_of::<(UserId, u64, u64, usize)>() + 1;
    let buckets = (USERS * 8 / 7).next_power_of_two();
    let estimate = (set_bytes + buckets * entry) as f64 / USERS as f64;

    let mut out = String::new();
    out.push_str("\n== policy engine summary (issue 2) ==\n");
    out.push_str(&format!(
        "workload: {USERS} users, {ITEMS} items, {QUERIES} queries in the mix, {allowed} allowed / {} denied, {} distinct effective sets, universe {} strings\n",
        QUERIES - allowed,
        distinct,
        w.policy.universe_len(),
    ));
    out.push_str(&format!(
        "compile (defaults + file, 4 grants): median {compile_us:.0} µs   (target < 10 ms)\n"
    ));
    out.push_str(&format!(
        "effective set of one user: user {:.2} µs, editor {:.2} µs, admin {:.2} µs, mix {:.2} µs   (target < 5 µs)\n",
        eff_user / 1e3,
        eff_editor / 1e3,
        eff_admin / 1e3,
        eff_mix / 1e3
    ));
    out.push_str(&format!(
        "mix over 100k users and items (facts mostly outside the CPU cache): mask {fast_ns:.1} ns, cache.get+mask {cached_ns:.1} ns per check (median of 301 passes)\n"
    ));
    out.push_str(&format!(
        "warm check per query (each query of the mix repeated 256 times): median {per_q_median:.1} ns, p90 {per_q_p90:.1} ns; reference median {ref_q_median:.1} ns   (target < 30 ns)\n"
    ));
    out.push_str(&format!(
        "warm check, caller's facts in CPU cache (64 users, 16 items per kind): mask {hot_ns:.1} ns, reference {hot_reference_ns:.1} ns, ratio {:.1}x\n",
        hot_reference_ns / hot_ns
    ));
    out.push_str(&format!(
        "reference evaluator: {reference_ns:.1} ns per check; fast/reference throughput ratio {:.1}x (cache+mask {:.1}x)   (target >= 2x)\n",
        reference_ns / fast_ns,
        reference_ns / cached_ns,
    ));
    for (label, ns, mask) in &singles {
        out.push_str(&format!(
            "  single check: {label}: {ns:.1} ns (mask {mask})\n"
        ));
    }
    out.push_str(&format!(
        "string path, same mix: superuser {superuser_ns:.1} ns, user with an own `+p` the policy does not know {local_ns:.1} ns per check\n"
    ));
    match (before, after) {
        (Some(b), Some(a)) => out.push_str(&format!(
            "memory per cached user: {:.1} bytes measured (RSS growth {} KiB over {USERS} users); estimate {estimate:.1} bytes ({} distinct sets, {set_bytes} bytes)\n",
            a.saturating_sub(b) as f64 / USERS as f64,
            a.saturating_sub(b) / 1024,
            distinct
        )),
        _ => out.push_str(&format!(
            "memory per cached user: estimate {estimate:.1} bytes ({distinct} distinct sets, {set_bytes} bytes); RSS not available\n"
        )),
    }
    println!("{out}");
}

fn main() {
    let started = Instant::now();
    let w = workload();
    println!("workload built in {:.1} s", started.elapsed().as_secs_f64());
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, &w);
    c.final_summary();
    summary(&w);
}
