//! The engine embedded in a repository application, against the honest baseline:
//! `cargo bench -p gatehouse-policy --bench embedded` (issue 10's targets).
//!
//! Workload, EPrints 3.3-shaped and deterministic (xorshift, fixed seed): N users (10,000 and
//! 100,000; 90% `user`, 6% `editor` with 1 to 3 editorial scope filters, 3% `minuser`, 1%
//! `admin`; 10% with a role or `+`/`-` entry of their own, 2% with a deny grant of their own,
//! 1% with an allow grant; 2% inactive), 100,000 eprint rows as a repository holds them
//! (`eprint_status`, `userid`, `divisions` and `subjects` as vectors of strings) and 1,000,000
//! checks. A check names its privilege as EPrints' screens and REST code do for an item,
//! `eprint/<status>/<action>` (view, edit, summary, details, move_archive, export, remove,
//! messages, issues, derive_version), or a privilege without an item (create_eprint,
//! config/edit, items, staff/eprint_search...). Each check describes its item from its row.
//!
//! The baseline is what a developer would write instead of using Gatehouse: per user a
//! `HashSet<String>` of effective privilege strings (the engine's own effective set, turned
//! into strings once; users with nothing of their own share their type's set through an
//! `Arc`), the public strings in a second set, and for a check up to three string lookups:
//! `p`, `p:owner` if the user owns the row, `p:editor` if the row is in the user's editorial
//! scope (suffixed strings prepared once per privilege, so the baseline does not allocate
//! either). Both answer every check, and every answer is compared: they must agree.
//!
//! Figures printed (single thread, each the median of 5 runs, baseline and engine runs
//! alternated so the machine's drift hits both):
//! - checks per second for one check per request (user looked up per check) and for list
//!   pages of 20 checks per request (the user's handle taken once per page), and the ratio;
//! - the same through `EffectiveCache::get` per request instead of a caller-held set;
//! - `check()` (one call, reasons included) per second;
//! - allocations per check of each path (a counting global allocator);
//! - live heap bytes of each approach's per-user state (the engine: its cache and compiled
//!   policy; the baseline: its sets), after building it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::alloc::System;
use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use gatehouse_policy::{
    CompiledPolicy, EffectiveCache, EffectiveSet, Entry, Field, ItemRef, PolicyConfig, Privilege,
    ScopeFilter, TypeName, UserFacts, UserId,
};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ITEMS: usize = 100_000;
const CHECKS: usize = 1_000_000;
const PAGE: usize = 20;
const RUNS: usize = 5;

/// The site file: the seed's approve-hat and a few hats EPrints sites add.
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
const STATUSES: [&str; 4] = ["inbox", "buffer", "archive", "deletion"];
const ACTIONS: [&str; 10] = [
    "view",
    "edit",
    "summary",
    "details",
    "move_archive",
    "export",
    "remove",
    "messages",
    "issues",
    "derive_version",
];
const NO_ITEM: [&str; 6] = [
    "create_eprint",
    "config/edit",
    "items",
    "staff/eprint_search",
    "user/view",
    "saved_search",
];
const OWN_ENTRIES: [&str; 7] = [
    "approve-hat",
    "proof-reader",
    "no-deposit",
    "self-archive",
    "+eprint/archive/edit:owner",
    "-create_eprint",
    "+eprint/buffer/view:editor",
];
const OWN_DENIES: [&str; 3] = [
    "eprint/edit",
    "eprint/buffer/move_archive",
    "eprint/archive/edit:owner",
];
const OWN_ALLOWS: [&str; 2] = ["eprint/archive/edit:owner", "staff/user_search"];

/// An eprint row as a repository holds it.
struct Row {
    status: String,
    userid: i64,
    divisions: Vec<String>,
    subjects: Vec<String>,
}

/// A privilege with its suffixed forms, prepared once.
struct Priv {
    plain: String,
    owner: String,
    editor: String,
}

impl Priv {
    fn new(p: String) -> Self {
        Priv {
            owner: format!("{p}:owner"),
            editor: format!("{p}:editor"),
            plain: p,
        }
    }
}

/// One check: user index, and either a row with an action (the privilege is named from the
/// row's status when the check runs, as the repository does) or a privilege without an item.
#[derive(Clone, Copy)]
struct Check {
    user: u32,
    /// Action index for a row check, privilege index (into `privs`) without one.
    what: u16,
    row: Option<u32>,
}

/// The baseline's user.
struct RefUser {
    id: i64,
    set: Arc<HashSet<String>>,
    filters: Vec<HashMap<String, HashSet<String>>>,
    scope_none: bool,
}

struct Workload {
    policy: CompiledPolicy,
    users: Vec<UserFacts>,
    rows: Vec<Row>,
    privs: Vec<Priv>,
    checks: Vec<Check>,
    pages: Vec<(u32, Vec<Check>)>,
}

fn make_user(rng: &mut Rng, id: usize) -> UserFacts {
    let ty = match rng.below(100) {
        0 => "admin",
        1..=6 => "editor",
        7..=9 => "minuser",
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
            OWN_ENTRIES[rng.below(OWN_ENTRIES.len())]
                .parse::<Entry>()
                .unwrap(),
        );
    }
    let mut deny = Vec::new();
    if rng.chance(2) {
        deny.push(Privilege::new(OWN_DENIES[rng.below(OWN_DENIES.len())]).unwrap());
    }
    let mut allow = Vec::new();
    if rng.chance(1) {
        allow.push(Privilege::new(OWN_ALLOWS[rng.below(OWN_ALLOWS.len())]).unwrap());
    }
    UserFacts {
        id: UserId(id as i64 + 1),
        email: None,
        active: !rng.chance(2),
        user_type: Some(ty.parse::<TypeName>().unwrap()),
        entries,
        allow,
        deny,
        editorial_scope: scope,
    }
}

fn make_row(rng: &mut Rng, users: usize) -> Row {
    let status = match rng.below(20) {
        0..=4 => "inbox",
        5..=8 => "buffer",
        9..=18 => "archive",
        _ => "deletion",
    };
    let mut subjects = vec![SUBJECTS[rng.below(SUBJECTS.len())].to_owned()];
    if rng.chance(50) {
        subjects.push(SUBJECTS[rng.below(SUBJECTS.len())].to_owned());
    }
    Row {
        status: status.to_owned(),
        userid: rng.below(users) as i64 + 1,
        divisions: vec![DIVISIONS[rng.below(DIVISIONS.len())].to_owned()],
        subjects,
    }
}

fn workload(n_users: usize) -> Workload {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ n_users as u64);
    let config = PolicyConfig::with_file(FILE, "user_roles.yaml").unwrap();
    let policy = CompiledPolicy::compile(Arc::new(config), &[], &[], 1).unwrap();
    let users: Vec<UserFacts> = (0..n_users).map(|i| make_user(&mut rng, i)).collect();
    let rows: Vec<Row> = (0..ITEMS).map(|_| make_row(&mut rng, n_users)).collect();
    // Privileges: per (status, action) the qualified string, then those without an item.
    let mut privs = Vec::new();
    for st in STATUSES {
        for a in ACTIONS {
            privs.push(Priv::new(format!("eprint/{st}/{a}")));
        }
    }
    let no_item_base = privs.len();
    for p in NO_ITEM {
        privs.push(Priv::new(p.to_owned()));
    }
    let pick = |rng: &mut Rng, user: u32| -> Check {
        if rng.chance(15) {
            return Check {
                user,
                what: (no_item_base + rng.below(NO_ITEM.len())) as u16,
                row: None,
            };
        }
        // A third of item checks are on the user's own rows (depositors look at their own).
        let row = if rng.chance(33) {
            let uid = users[user as usize].id.0;
            (0..64)
                .map(|_| rng.below(ITEMS))
                .find(|r| rows[*r].userid == uid)
                .unwrap_or_else(|| rng.below(ITEMS))
        } else {
            rng.below(ITEMS)
        };
        Check {
            user,
            what: rng.below(ACTIONS.len()) as u16,
            row: Some(row as u32),
        }
    };
    let checks: Vec<Check> = (0..CHECKS)
        .map(|_| {
            let user = rng.below(n_users) as u32;
            pick(&mut rng, user)
        })
        .collect();
    let pages: Vec<(u32, Vec<Check>)> = (0..CHECKS / PAGE)
        .map(|_| {
            let user = rng.below(n_users) as u32;
            (user, (0..PAGE).map(|_| pick(&mut rng, user)).collect())
        })
        .collect();
    Workload {
        policy,
        users,
        rows,
        privs,
        checks,
        pages,
    }
}

/// The baseline's per-user state: each user's effective strings (from the engine's own
/// listing, so both agree on meaning), shared per type when the user has nothing of their
/// own, plus the public strings each user sees.
fn baseline(w: &Workload) -> (Vec<RefUser>, HashSet<String>) {
    let policy = &w.policy;
    let public: HashSet<String> = policy
        .list_public()
        .into_iter()
        .map(|h| h.privilege)
        .collect();
    let mut by_type: HashMap<(Option<TypeName>, bool), Arc<HashSet<String>>> = HashMap::new();
    let strings = |u: &UserFacts| -> HashSet<String> {
        let set = policy.effective(u);
        let mut s: HashSet<String> = policy
            .list_effective(u, &set)
            .into_iter()
            .map(|h| h.privilege)
            .collect();
        // Public strings count for everyone unless denied to this user.
        let subject = policy.subject(u, &set).unwrap();
        for p in &public {
            if subject.mask(p, None) & gatehouse_policy::PUBLIC != 0 {
                s.insert(p.clone());
            }
        }
        s
    };
    let users = w
        .users
        .iter()
        .map(|u| {
            let plain = u.entries.is_empty() && u.allow.is_empty() && u.deny.is_empty();
            // Inactive users see only public strings (the listing of an inactive user's own
            // privileges is empty), so they share per type and activity too.
            let set = if plain {
                by_type
                    .entry((u.user_type.clone(), u.active))
                    .or_insert_with(|| Arc::new(strings(u)))
                    .clone()
            } else {
                Arc::new(strings(u))
            };
            RefUser {
                id: u.id.0,
                set,
                filters: u
                    .editorial_scope
                    .iter()
                    .map(|f| {
                        f.fields()
                            .iter()
                            .map(|(k, v)| (k.clone(), v.iter().cloned().collect()))
                            .collect()
                    })
                    .collect(),
                scope_none: u
                    .entries
                    .iter()
                    .any(|e| e.to_string() == "editperms_none_by_default"),
            }
        })
        .collect();
    (users, public)
}

/// The baseline's answer: up to three string lookups.
#[inline]
fn baseline_allowed(u: &RefUser, p: &Priv, row: Option<&Row>) -> bool {
    if u.set.contains(p.plain.as_str()) {
        return true;
    }
    let Some(row) = row else { return false };
    if row.userid == u.id && u.set.contains(p.owner.as_str()) {
        return true;
    }
    u.set.contains(p.editor.as_str()) && baseline_in_scope(u, row)
}

fn baseline_in_scope(u: &RefUser, row: &Row) -> bool {
    if u.filters.is_empty() {
        return !u.scope_none;
    }
    u.filters.iter().any(|f| {
        !f.is_empty()
            && f.iter().all(|(field, allowed)| {
                let values = match field.as_str() {
                    "divisions" => &row.divisions,
                    "subjects" => &row.subjects,
                    _ => return false,
                };
                values.iter().any(|v| allowed.contains(v))
            })
    })
}

/// The engine's answer for one check through a handle, the item described from its row.
#[inline]
fn engine_allowed(subject: &gatehouse_policy::Subject<'_>, p: &Priv, row: Option<&Row>) -> bool {
    match row {
        None => subject.mask(&p.plain, None) != 0,
        Some(row) => {
            let owners = [UserId(row.userid)];
            let fields = [
                Field::new("divisions", &row.divisions),
                Field::new("subjects", &row.subjects),
            ];
            let item = ItemRef::new("eprint")
                .status(&row.status)
                .owned_by(&owners)
                .fields(&fields);
            subject.mask(&p.plain, Some(&item)) != 0
        }
    }
}

/// The same through a privilege prepared once ([`CompiledPolicy::query`]), as the baseline
/// prepares its suffixed strings once.
#[inline]
fn engine_prepared(
    subject: &gatehouse_policy::Subject<'_>,
    q: &gatehouse_policy::Query<'_>,
    row: Option<&Row>,
) -> bool {
    match row {
        None => subject.mask_query(*q, None) != 0,
        Some(row) => {
            let owners = [UserId(row.userid)];
            let fields = [
                Field::new("divisions", &row.divisions),
                Field::new("subjects", &row.subjects),
            ];
            let item = ItemRef::new("eprint")
                .status(&row.status)
                .owned_by(&owners)
                .fields(&fields);
            subject.mask_query(*q, Some(&item)) != 0
        }
    }
}

/// `check()`: one call with reasons, the item described from its row; whether allowed.
#[inline]
fn check_with_reasons(policy: &CompiledPolicy, u: &UserFacts, p: &Priv, row: Option<&Row>) -> bool {
    let d = match row {
        None => policy.check(u, &p.plain, None),
        Some(row) => {
            let owners = [UserId(row.userid)];
            let fields = [
                Field::new("divisions", &row.divisions),
                Field::new("subjects", &row.subjects),
            ];
            let item = ItemRef::new("eprint")
                .status(&row.status)
                .owned_by(&owners)
                .fields(&fields);
            policy.check(u, &p.plain, Some(&item))
        }
    };
    black_box(&d);
    d.allowed
}

fn row<'a>(w: &'a Workload, c: &Check) -> Option<&'a Row> {
    c.row.map(|r| &w.rows[r as usize])
}

/// The status's index, read from the row's `eprint_status` text.
#[inline]
fn status_index(status: &str) -> usize {
    match status {
        "inbox" => 0,
        "buffer" => 1,
        "archive" => 2,
        _ => 3,
    }
}

/// The check's privilege index and row: for a row, `eprint/<status>/<action>` named from the
/// row (EPrints' own names for what a screen does to an item in that status).
#[inline]
fn named<'a>(w: &'a Workload, c: &Check) -> (usize, Option<&'a Row>) {
    match row(w, c) {
        None => (c.what as usize, None),
        Some(r) => (
            status_index(&r.status) * ACTIONS.len() + c.what as usize,
            Some(r),
        ),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Checks per second of `f` over `n` checks, median of `RUNS` runs, alternating with `g`.
fn alternate(n: usize, mut f: impl FnMut() -> usize, mut g: impl FnMut() -> usize) -> (f64, f64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = Instant::now();
        black_box(f());
        a.push(n as f64 / t.elapsed().as_secs_f64());
        let t = Instant::now();
        black_box(g());
        b.push(n as f64 / t.elapsed().as_secs_f64());
    }
    (median(a), median(b))
}

/// List pages with their rows freshly loaded (as the repository loads a page's rows before
/// rendering it): the rows are copied into a page buffer, untimed, then the page's checks are
/// timed. Returns checks per second, median of `RUNS`, alternating baseline and engine.
fn hot_pages(
    w: &Workload,
    mut baseline: impl FnMut(u32, &[Check], &[Row]) -> usize,
    mut engine: impl FnMut(u32, &[Check], &[Row]) -> usize,
) -> (f64, f64) {
    let mut buffer: Vec<Row> = (0..PAGE)
        .map(|_| Row {
            status: String::new(),
            userid: 0,
            divisions: Vec::new(),
            subjects: Vec::new(),
        })
        .collect();
    let mut local: Vec<Check> = Vec::with_capacity(PAGE);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        for (times, f) in [
            (
                &mut a,
                &mut baseline as &mut dyn FnMut(u32, &[Check], &[Row]) -> usize,
            ),
            (
                &mut b,
                &mut engine as &mut dyn FnMut(u32, &[Check], &[Row]) -> usize,
            ),
        ] {
            let mut spent = 0f64;
            let mut n = 0usize;
            for (user, cs) in &w.pages {
                local.clear();
                for (i, c) in cs.iter().enumerate() {
                    if let Some(r) = c.row {
                        let src = &w.rows[r as usize];
                        let dst = &mut buffer[i];
                        dst.status.clone_from(&src.status);
                        dst.userid = src.userid;
                        dst.divisions.clone_from(&src.divisions);
                        dst.subjects.clone_from(&src.subjects);
                    }
                    local.push(Check {
                        row: c.row.map(|_| i as u32),
                        ..*c
                    });
                }
                let t = Instant::now();
                n += black_box(f(*user, &local, &buffer));
                spent += t.elapsed().as_secs_f64();
            }
            black_box(n);
            times.push(CHECKS as f64 / spent);
        }
    }
    (median(a), median(b))
}

/// [`named`] over a page buffer.
#[inline]
fn named_in<'a>(c: &Check, rows: &'a [Row]) -> (usize, Option<&'a Row>) {
    match c.row {
        None => (c.what as usize, None),
        Some(i) => {
            let r = &rows[i as usize];
            (
                status_index(&r.status) * ACTIONS.len() + c.what as usize,
                Some(r),
            )
        }
    }
}

fn live_bytes(region: &Region<'_, System>) -> i64 {
    let s = region.change();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64 + s.bytes_reallocated as i64
}

fn run(n_users: usize) {
    let w = workload(n_users);
    println!("\n== {n_users} users, {ITEMS} rows, {CHECKS} checks");

    // Per-user state of each approach, measured as live heap growth while it is built.
    let region = Region::new(GLOBAL);
    let (ref_users, public) = baseline(&w);
    let baseline_bytes = live_bytes(&region);
    let region = Region::new(GLOBAL);
    let cache = EffectiveCache::with_capacity(n_users);
    let sets: Vec<Arc<EffectiveSet>> = w.users.iter().map(|u| cache.get(&w.policy, u, 1)).collect();
    let engine_bytes = live_bytes(&region);
    let policy_bytes = {
        let region = Region::new(GLOBAL);
        let p = CompiledPolicy::compile(Arc::new(w.policy.config().clone()), &[], &[], 2).unwrap();
        let b = live_bytes(&region);
        drop(p);
        b
    };
    drop(public);
    let queries: Vec<gatehouse_policy::Query<'_>> =
        w.privs.iter().map(|p| w.policy.query(&p.plain)).collect();

    // `EMBEDDED_PROFILE=engine|prepared|cached|check|baseline`: run one path over the hot pages and stop
    // (for a profiler: `valgrind --tool=callgrind` counts its instructions per check).
    if let Ok(which) = std::env::var("EMBEDDED_PROFILE") {
        let buffer: Vec<Row> = w.pages[0]
            .1
            .iter()
            .map(|c| {
                let r = &w.rows[c.row.unwrap_or(0) as usize];
                Row {
                    status: r.status.clone(),
                    userid: r.userid,
                    divisions: r.divisions.clone(),
                    subjects: r.subjects.clone(),
                }
            })
            .collect();
        let mut n = 0usize;
        let pages: usize = std::env::var("EMBEDDED_PAGES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5_000);
        for (user, cs) in w.pages.iter().cycle().take(pages) {
            let local: Vec<Check> = cs
                .iter()
                .enumerate()
                .map(|(i, c)| Check {
                    row: c.row.map(|_| i as u32),
                    ..*c
                })
                .collect();
            match which.as_str() {
                "none" => n += local.len(),
                "common" => {
                    for c in &local {
                        let (pi, r) = named_in(c, &buffer);
                        n += pi + usize::from(black_box(r).is_some());
                    }
                }
                "check" => {
                    let u = &w.users[*user as usize];
                    for c in &local {
                        let (pi, r) = named_in(c, &buffer);
                        n += usize::from(check_with_reasons(&w.policy, u, &w.privs[pi], r));
                    }
                }
                "cached" => {
                    let u = &w.users[*user as usize];
                    for c in &local {
                        let set = cache.get(&w.policy, u, 1);
                        let subject = w.policy.subject(u, &set).unwrap();
                        let (pi, r) = named_in(c, &buffer);
                        n += usize::from(engine_allowed(&subject, &w.privs[pi], r));
                    }
                }
                "baseline" => {
                    let u = &ref_users[*user as usize];
                    for c in &local {
                        let (pi, r) = named_in(c, &buffer);
                        n += usize::from(baseline_allowed(u, &w.privs[pi], r));
                    }
                }
                other => {
                    let u = &w.users[*user as usize];
                    let subject = w.policy.subject(u, &sets[*user as usize]).unwrap();
                    for c in &local {
                        let (pi, r) = named_in(c, &buffer);
                        n += usize::from(if other == "prepared" {
                            engine_prepared(&subject, &queries[pi], r)
                        } else {
                            engine_allowed(&subject, &w.privs[pi], r)
                        });
                    }
                }
            }
        }
        println!("{which}: {n} allowed");
        return;
    }

    // Every answer must agree.
    let mut allowed = 0usize;
    for c in w
        .checks
        .iter()
        .chain(w.pages.iter().flat_map(|(_, cs)| cs.iter()))
    {
        let u = &w.users[c.user as usize];
        let subject = w.policy.subject(u, &sets[c.user as usize]).unwrap();
        let (pi, r) = named(&w, c);
        let p = &w.privs[pi];
        let e = engine_allowed(&subject, p, r);
        let q = engine_prepared(&subject, &queries[pi], r);
        let b = baseline_allowed(&ref_users[c.user as usize], p, r);
        assert_eq!(e, q, "prepared and text disagree on {}", p.plain);
        assert_eq!(
            e, b,
            "disagree on {} for user {:?} row {:?}",
            p.plain, u, c.row
        );
        allowed += usize::from(e);
    }
    println!(
        "answers: all {} agree ({:.1}% allowed)",
        CHECKS * 2,
        allowed as f64 * 50.0 / CHECKS as f64
    );

    // One check per request: the user looked up per check.
    let one_engine = || {
        let mut n = 0;
        for c in &w.checks {
            let u = &w.users[c.user as usize];
            let subject = w.policy.subject(u, &sets[c.user as usize]).unwrap();
            let (pi, r) = named(&w, c);
            n += usize::from(engine_allowed(&subject, &w.privs[pi], r));
        }
        n
    };
    let one_baseline = || {
        let mut n = 0;
        for c in &w.checks {
            let u = &ref_users[c.user as usize];
            let (pi, r) = named(&w, c);
            n += usize::from(baseline_allowed(u, &w.privs[pi], r));
        }
        n
    };
    let one_prepared = || {
        let mut n = 0;
        for c in &w.checks {
            let u = &w.users[c.user as usize];
            let subject = w.policy.subject(u, &sets[c.user as usize]).unwrap();
            let (pi, r) = named(&w, c);
            n += usize::from(engine_prepared(&subject, &queries[pi], r));
        }
        n
    };
    let (b1, e1) = alternate(CHECKS, one_baseline, one_engine);
    let (b1p, e1p) = alternate(CHECKS, one_baseline, one_prepared);
    // List pages: the handle taken once per page.
    let page_engine = || {
        let mut n = 0;
        for (user, cs) in &w.pages {
            let u = &w.users[*user as usize];
            let subject = w.policy.subject(u, &sets[*user as usize]).unwrap();
            for c in cs {
                let (pi, r) = named(&w, c);
                n += usize::from(engine_allowed(&subject, &w.privs[pi], r));
            }
        }
        n
    };
    let page_baseline = || {
        let mut n = 0;
        for (user, cs) in &w.pages {
            let u = &ref_users[*user as usize];
            for c in cs {
                let (pi, r) = named(&w, c);
                n += usize::from(baseline_allowed(u, &w.privs[pi], r));
            }
        }
        n
    };
    let page_prepared = || {
        let mut n = 0;
        for (user, cs) in &w.pages {
            let u = &w.users[*user as usize];
            let subject = w.policy.subject(u, &sets[*user as usize]).unwrap();
            for c in cs {
                let (pi, r) = named(&w, c);
                n += usize::from(engine_prepared(&subject, &queries[pi], r));
            }
        }
        n
    };
    let (b2, e2) = alternate(CHECKS, page_baseline, page_engine);
    let (b2p, e2p) = alternate(CHECKS, page_baseline, page_prepared);
    // List pages over freshly loaded rows.
    let (b4, e4) = hot_pages(
        &w,
        |user, cs, rows| {
            let u = &ref_users[user as usize];
            cs.iter()
                .map(|c| {
                    let (pi, r) = named_in(c, rows);
                    usize::from(baseline_allowed(u, &w.privs[pi], r))
                })
                .sum()
        },
        |user, cs, rows| {
            let u = &w.users[user as usize];
            let subject = w.policy.subject(u, &sets[user as usize]).unwrap();
            cs.iter()
                .map(|c| {
                    let (pi, r) = named_in(c, rows);
                    usize::from(engine_allowed(&subject, &w.privs[pi], r))
                })
                .sum()
        },
    );
    let (b5, e5) = hot_pages(
        &w,
        |user, cs, rows| {
            let u = &ref_users[user as usize];
            cs.iter()
                .map(|c| {
                    let (pi, r) = named_in(c, rows);
                    usize::from(baseline_allowed(u, &w.privs[pi], r))
                })
                .sum()
        },
        |user, cs, rows| {
            let u = &w.users[user as usize];
            let subject = w.policy.subject(u, &sets[user as usize]).unwrap();
            cs.iter()
                .map(|c| {
                    let (pi, r) = named_in(c, rows);
                    usize::from(engine_prepared(&subject, &queries[pi], r))
                })
                .sum()
        },
    );
    // Through the engine's cache per request instead of a caller-held set.
    let one_cached = || {
        let mut n = 0;
        for c in &w.checks {
            let u = &w.users[c.user as usize];
            let set = cache.get(&w.policy, u, 1);
            let subject = w.policy.subject(u, &set).unwrap();
            let (pi, r) = named(&w, c);
            n += usize::from(engine_allowed(&subject, &w.privs[pi], r));
        }
        n
    };
    let (b3, e3) = alternate(CHECKS, one_baseline, one_cached);
    // check(): one call with reasons, nothing kept between calls.
    let decide_n = CHECKS / 10;
    let with_reasons = || {
        let mut n = 0;
        for c in &w.checks[..decide_n] {
            let u = &w.users[c.user as usize];
            let (pi, r) = named(&w, c);
            n += usize::from(check_with_reasons(&w.policy, u, &w.privs[pi], r));
        }
        n
    };
    let (_, d1) = alternate(decide_n, one_baseline, with_reasons);

    // Allocations per check.
    let allocs = |f: &dyn Fn() -> usize, n: usize| -> f64 {
        let region = Region::new(GLOBAL);
        black_box(f());
        region.change().allocations as f64 / n as f64
    };
    let a_engine = allocs(&one_engine, CHECKS);
    let a_pages = allocs(&page_engine, CHECKS);
    let a_prepared = allocs(&one_prepared, CHECKS);
    let a_cached = allocs(&one_cached, CHECKS);
    let a_baseline = allocs(&one_baseline, CHECKS);
    let a_check = allocs(&with_reasons, decide_n);

    println!(
        "{:<46} {:>14} {:>14} {:>7}",
        "checks per second (median of 5)", "baseline", "engine", "ratio"
    );
    for (name, b, e) in [
        ("one check per request (set held by caller)", b1, e1),
        ("  the same, privileges prepared", b1p, e1p),
        ("list pages of 20 (handle per page)", b2, e2),
        ("  the same, privileges prepared", b2p, e2p),
        ("list pages of 20, rows freshly loaded", b4, e4),
        ("  the same, privileges prepared", b5, e5),
        ("one check per request, EffectiveCache::get", b3, e3),
    ] {
        println!("{name:<46} {b:>14.0} {e:>14.0} {:>6.2}x", e / b);
    }
    println!(
        "{:<46} {:>14} {d1:>14.0}",
        "check() with reasons, one call", ""
    );
    println!(
        "allocations per check: engine {a_engine:.3} (pages {a_pages:.3}, prepared {a_prepared:.3}, via cache {a_cached:.3}), \
         baseline {a_baseline:.3}, check() with reasons {a_check:.2}"
    );
    println!(
        "per-user state, live heap bytes: baseline {} ({:.0} B/user), engine {} ({:.0} B/user; \
         compiled policy {} more, shared by all)",
        baseline_bytes,
        baseline_bytes as f64 / n_users as f64,
        engine_bytes,
        engine_bytes as f64 / n_users as f64,
        policy_bytes
    );
    drop(sets);
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a user count to run alone.
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    for n in sizes {
        run(n);
    }
}
