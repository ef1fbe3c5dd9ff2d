//! Micro-benchmarks of the engine's steps: `cargo bench -p gatehouse-policy --bench check`.
//!
//! Compiling the built-in catalog with a site file, deriving one user's effective set (a
//! plain user, whose set is the type's shared one, and a user with entries of their own),
//! one check through a handle (text and prepared privilege), one `check()` with reasons, and
//! one `decide_json`. The comparison with what a developer would write instead is the other
//! benchmark, `embedded`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use gatehouse_policy::{
    CompiledPolicy, Field, ItemRef, PolicyConfig, ScopeFilter, UserFacts, UserId,
};

const FILE: &str = "\
roles:
  approve-hat:
    - eprint/buffer/view:editor
    - eprint/buffer/move_archive:editor
  self-archive: [eprint/archive/edit:owner]
";

fn users() -> (UserFacts, UserFacts) {
    let plain = UserFacts {
        id: UserId(7),
        active: true,
        user_type: Some("editor".parse().unwrap()),
        editorial_scope: vec!["divisions=law".parse::<ScopeFilter>().unwrap()],
        ..UserFacts::default()
    };
    let own = UserFacts {
        entries: vec![
            "approve-hat".parse().unwrap(),
            "+eprint/archive/edit:owner".parse().unwrap(),
            "-eprint/buffer/edit".parse().unwrap(),
        ],
        deny: vec!["eprint/archive/remove".parse().unwrap()],
        ..plain.clone()
    };
    (plain, own)
}

fn benches(c: &mut Criterion) {
    let config = Arc::new(PolicyConfig::with_file(FILE, "user_roles.yaml").unwrap());
    let mut g = c.benchmark_group("engine");
    g.bench_function("compile", |b| {
        b.iter(|| CompiledPolicy::compile(config.clone(), &[], &[], 1).unwrap())
    });
    let policy = CompiledPolicy::compile(config.clone(), &[], &[], 1).unwrap();
    let (plain, own) = users();
    g.bench_function("effective/plain user (shared)", |b| {
        b.iter(|| policy.effective(black_box(&plain)))
    });
    g.bench_function("effective/own entries (derived)", |b| {
        b.iter(|| policy.effective(black_box(&own)))
    });
    let set = policy.effective(&own);
    let subject = policy.subject(&own, &set).unwrap();
    let status = String::from("buffer");
    let divisions = vec!["law".to_owned()];
    let owners = [UserId(7)];
    let fields = [Field::new("divisions", &divisions)];
    let item = ItemRef::new("eprint")
        .status(&status)
        .owned_by(&owners)
        .fields(&fields);
    g.bench_function("mask/text", |b| {
        b.iter(|| subject.mask(black_box("eprint/move_archive"), Some(&item)))
    });
    let q = policy.query("eprint/move_archive");
    g.bench_function("mask/prepared", |b| {
        b.iter(|| subject.mask_query(black_box(q), Some(&item)))
    });
    g.bench_function("check with reasons", |b| {
        b.iter(|| policy.check(&own, black_box("eprint/move_archive"), Some(&item)))
    });
    let json = r#"{"user": {"id": 7, "type": "editor", "entries": ["approve-hat"],
        "editorial_scope": [{"divisions": ["law"]}]},
        "privilege": "eprint/move_archive",
        "item": {"dataset": "eprint", "status": "buffer", "fields": {"divisions": ["law"]}}}"#;
    g.bench_function("decide_json", |b| {
        b.iter(|| policy.decide_json(black_box(json)))
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
