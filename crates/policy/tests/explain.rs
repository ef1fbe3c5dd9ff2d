//! The walk an explanation shows, step by step, and reasons that never contradict it or each
//! other: `-p` removals, removal then re-add, denies, public and `superuser-access`, an
//! `:editor` privilege held out of scope, and the seed's reviewer moving a buffer item.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gatehouse_policy::{
    mask_words, CompiledPolicy, Effect, Entry, Explanation, Grant, GrantTarget, Item, Owner,
    PolicyConfig, ReasonKind, ScopeFilter, StepKind, SystemRole, UserFacts, UserId, WalkStage,
    WalkStep,
};

const ME: i64 = 1;

/// The seed's hat (SPEC 2.2), as a site file defines it.
const APPROVE_HAT: &str = "roles:\n  approve-hat:\n    - eprint/buffer/view:editor\n    \
    - eprint/buffer/move_archive:editor\n";

fn policy(file: Option<&str>, grants: &[Grant]) -> CompiledPolicy {
    let cfg = match file {
        Some(text) => PolicyConfig::with_file(text, "user_roles.yaml").unwrap(),
        None => PolicyConfig::builtin().clone(),
    };
    CompiledPolicy::compile(Arc::new(cfg), &[], grants, 1).unwrap()
}

fn user(user_type: &str, entries: &[&str]) -> UserFacts {
    UserFacts {
        id: UserId(ME),
        active: true,
        user_type: Some(user_type.parse().unwrap()),
        entries: entries
            .iter()
            .map(|e| e.parse::<Entry>().unwrap())
            .collect(),
        ..UserFacts::default()
    }
}

fn explain(p: &CompiledPolicy, u: &UserFacts, q: &str, item: Option<&Item>) -> Explanation {
    let e = p.explain(u, q, item.map(Item::view).as_ref());
    // The decision is the check's, exactly.
    assert_eq!(e.decision, p.check(u, q, item.map(Item::view).as_ref()));
    e
}

/// The steps that touched `s`, as (stage, kind, held after).
fn on(e: &Explanation, s: &str) -> Vec<(WalkStage, StepKind, bool)> {
    steps_on(&e.steps, s)
        .map(|x| (x.stage, x.kind, x.held_after))
        .collect()
}

fn steps_on<'a>(steps: &'a [WalkStep], s: &'a str) -> impl Iterator<Item = &'a WalkStep> {
    steps.iter().filter(move |x| x.privilege == s)
}

#[test]
fn a_minus_entry_removes_what_the_type_gave() {
    // `user` has `deposit` (entry 5), which gives `create_eprint`; the user's own `-create_eprint`
    // takes it away.
    let p = policy(None, &[]);
    let u = user("user", &["-create_eprint"]);
    let e = explain(&p, &u, "create_eprint", None);
    assert!(!e.decision.allowed);
    assert_eq!(
        on(&e, "create_eprint"),
        [
            (WalkStage::UserType, StepKind::Added, true),
            (WalkStage::OwnEntries, StepKind::Removed, false),
        ]
    );
    let added = &e.steps[0];
    assert!(
        added.source.contains("role `deposit`")
            && added.source.contains("user type `user` entry 5"),
        "{added:?}"
    );
    let removed = &e.steps[1];
    assert_eq!(removed.source, "`-create_eprint` in the user's own entry 1");
    // The decision says the same, once.
    assert_eq!(e.decision.reasons.len(), 1, "{:?}", e.decision.reasons);
    assert_eq!(e.decision.reasons[0].kind, ReasonKind::Removed);
    assert!(e.decision.reasons[0]
        .source
        .starts_with("removed by `-create_eprint` in the user's own entry 1"));
    // A `-p` of something not held does nothing, and says so.
    let e = explain(
        &p,
        &user("minuser", &["-create_eprint"]),
        "create_eprint",
        None,
    );
    assert_eq!(
        on(&e, "create_eprint"),
        [(WalkStage::OwnEntries, StepKind::NotHeld, false)]
    );
}

#[test]
fn a_later_entry_adds_back_what_a_minus_removed() {
    let p = policy(None, &[]);
    let u = user("user", &["-create_eprint", "deposit"]);
    let e = explain(&p, &u, "create_eprint", None);
    assert_eq!(e.decision.mask, 2);
    assert_eq!(
        on(&e, "create_eprint"),
        [
            (WalkStage::UserType, StepKind::Added, true),
            (WalkStage::OwnEntries, StepKind::Removed, false),
            (WalkStage::OwnEntries, StepKind::Added, true),
        ]
    );
    assert!(e.steps[2]
        .source
        .contains("held through the user's own entry 2"));
    // The decision names the source that counts: the last one.
    assert!(e.decision.reasons[0].source.contains("own entry 2"));
    // `+p` of what is held already changes nothing.
    let e = explain(
        &p,
        &user("user", &["+create_eprint"]),
        "create_eprint",
        None,
    );
    assert_eq!(
        on(&e, "create_eprint"),
        [
            (WalkStage::UserType, StepKind::Added, true),
            (WalkStage::OwnEntries, StepKind::AlreadyHeld, true),
        ]
    );
}

#[test]
fn a_deny_shows_where_it_wins() {
    let deny = |priv_: &str, target| Grant {
        effect: Effect::Deny,
        privilege: priv_.parse().unwrap(),
        target,
    };
    let p = policy(
        None,
        &[deny(
            "eprint/edit",
            GrantTarget::Role("deposit".parse().unwrap()),
        )],
    );
    let u = user("user", &[]);
    let inbox = Item::new("eprint")
        .with_status("inbox")
        .with_owner(Owner::Id(UserId(ME)));
    let e = explain(&p, &u, "eprint/edit", Some(&inbox));
    assert_eq!(e.decision.mask, 0);
    assert_eq!(
        on(&e, "eprint/inbox/edit:owner"),
        [
            (WalkStage::UserType, StepKind::Added, true),
            (WalkStage::Denies, StepKind::Denied, false),
        ]
    );
    let denied = steps_on(&e.steps, "eprint/inbox/edit:owner")
        .nth(1)
        .unwrap();
    assert_eq!(
        denied.source,
        "deny of `eprint/edit` to role `deposit`, which the user holds"
    );
    // A deny of a string that was not held is shown too (it also stops public and
    // superuser-access).
    let plain = on(&e, "eprint/edit");
    assert_eq!(plain, [(WalkStage::Denies, StepKind::Denied, false)]);
    assert!(e
        .decision
        .reasons
        .iter()
        .any(|r| r.kind == ReasonKind::Denied && r.privilege == "eprint/inbox/edit:owner"));

    // A superuser is denied exactly what a deny covers, and says so.
    let mut su = user("user", &["+superuser-access"]);
    su.deny.push("config/edit".parse().unwrap());
    let e = explain(&p, &su, "config/edit", None);
    assert_eq!(e.decision.mask, 0);
    assert_eq!(
        on(&e, "config/edit"),
        [
            (WalkStage::Denies, StepKind::Denied, false),
            (WalkStage::Superuser, StepKind::SuperuserDenied, false),
        ]
    );
    let e = explain(&p, &su, "config/view", None);
    assert_eq!(e.decision.mask, 2);
    assert_eq!(
        on(&e, "config/view"),
        [(WalkStage::Superuser, StepKind::Superuser, true)]
    );
}

#[test]
fn public_privileges_show_their_definition() {
    let p = policy(None, &[]);
    let e = p.explain_anonymous("eprint/archive/view", None);
    assert_eq!(e.decision.mask, 1);
    assert_eq!(
        on(&e, "eprint/archive/view"),
        [(WalkStage::Public, StepKind::Public, true)]
    );
    assert!(e.steps[0].source.contains("built-in public privilege"));
    let e = p.explain_anonymous("config/edit", None);
    assert!(e.steps.is_empty() && !e.decision.allowed);

    // A deny to `any_user` takes a public privilege from everybody, logged in or not, and
    // an allow grant to `authenticated_user` shows as a grant.
    let grant = |effect, priv_: &str, sr| Grant {
        effect,
        privilege: priv_.parse().unwrap(),
        target: GrantTarget::SystemRole(sr),
    };
    let p = policy(
        None,
        &[
            grant(Effect::Deny, "eprint/archive/view", SystemRole::AnyUser),
            grant(Effect::Allow, "toolbox", SystemRole::AuthenticatedUser),
        ],
    );
    let e = p.explain_anonymous("eprint/archive/view", None);
    assert_eq!(e.decision.mask, 0);
    assert_eq!(
        on(&e, "eprint/archive/view"),
        [
            (WalkStage::Denies, StepKind::Denied, false),
            (WalkStage::Public, StepKind::PublicDenied, false),
        ]
    );
    assert_eq!(
        e.steps[0].source,
        "deny of `eprint/archive/view` to system role `any_user`"
    );
    let u = user("user", &[]);
    let e = explain(&p, &u, "eprint/archive/view", None);
    assert_eq!(e.decision.mask, 0);
    assert_eq!(
        on(&e, "eprint/archive/view"),
        [
            (WalkStage::Denies, StepKind::Denied, false),
            (WalkStage::Public, StepKind::PublicDenied, false),
        ]
    );
    // `deposit` gave her the `:owner` form; the deny covers it too.
    assert_eq!(
        on(&e, "eprint/archive/view:owner"),
        [
            (WalkStage::UserType, StepKind::Added, true),
            (WalkStage::Denies, StepKind::Denied, false),
        ]
    );
    let e = explain(&p, &u, "toolbox", None);
    assert_eq!(
        on(&e, "toolbox"),
        [(WalkStage::Grants, StepKind::Added, true)]
    );
    assert_eq!(
        e.steps[0].source,
        "allow grant of `toolbox` to system role `authenticated_user`"
    );
}

#[test]
fn editor_out_of_scope_says_held_and_nothing_else_about_editor() {
    let p = policy(Some(APPROVE_HAT), &[]);
    let mut reviewer = user("user", &["approve-hat"]);
    reviewer.editorial_scope = vec!["divisions=law".parse::<ScopeFilter>().unwrap()];
    let ecs = Item::new("eprint")
        .with_status("buffer")
        .with_field("divisions", &["ecs"]);
    let e = explain(&p, &reviewer, "eprint/move_archive", Some(&ecs));
    assert_eq!(e.decision.mask, 0);
    let reasons = &e.decision.reasons;
    let out = reasons
        .iter()
        .find(|r| r.kind == ReasonKind::OutOfScope)
        .unwrap();
    assert_eq!(out.privilege, "eprint/buffer/move_archive:editor");
    assert!(out.source.starts_with("held ("), "{out:?}");
    assert!(out
        .source
        .ends_with("but the item matches none of the user's editorial scope filters"));
    // Bit 8 was answered: no line may say that nothing grants an `:editor` form.
    for r in reasons {
        assert!(
            !(r.kind == ReasonKind::NotGranted && r.source.contains(":editor")),
            "contradicts the out-of-scope line: {r:?}"
        );
    }
    // What is still said is true: nothing gives the plain or the owner forms.
    let not_granted = reasons
        .iter()
        .find(|r| r.kind == ReasonKind::NotGranted)
        .unwrap();
    assert!(not_granted
        .source
        .contains("`eprint/buffer/move_archive:owner`"));
    // The walk shows where the `:editor` form came from.
    assert_eq!(
        on(&e, "eprint/buffer/move_archive:editor"),
        [(WalkStage::OwnEntries, StepKind::Added, true)]
    );
}

#[test]
fn the_seed_reviewer_moves_a_buffer_item_to_the_archive() {
    let p = policy(Some(APPROVE_HAT), &[]);
    let reviewer = user("user", &["approve-hat"]);
    let buffer = Item::new("eprint")
        .with_status("buffer")
        .with_owner(Owner::Id(UserId(9)));
    let e = explain(&p, &reviewer, "eprint/move_archive", Some(&buffer));
    assert_eq!(e.decision.mask, 8);
    assert_eq!(
        e.mask_words(),
        ["8 = editor: the user may act on items in their editorial scope (holds the `:editor` form)"]
    );
    assert_eq!(mask_words(e.decision.mask), e.mask_words());
    assert_eq!(e.steps.len(), 1, "{:?}", e.steps);
    let step = &e.steps[0];
    assert_eq!(step.privilege, "eprint/buffer/move_archive:editor");
    assert_eq!(
        (step.stage, step.kind, step.held_after),
        (WalkStage::OwnEntries, StepKind::Added, true)
    );
    assert_eq!(
        step.source,
        "`eprint/buffer/move_archive:editor` in role `approve-hat` (user_roles.yaml line 2), \
         held through the user's own entry 1"
    );
    // As JSON: snake_case kinds and stages.
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["steps"][0]["kind"], "added");
    assert_eq!(json["steps"][0]["stage"], "own_entries");
    assert_eq!(json["decision"]["mask"], 8);
}

#[test]
fn datasets_list_their_statuses_and_refuse_others() {
    let rules = PolicyConfig::builtin().datasets();
    let list = rules.list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "eprint");
    assert_eq!(list[0].statuses, ["inbox", "buffer", "archive", "deletion"]);
    assert!(list[0].scoped);
    assert!(rules.check_status("eprint", "buffer").is_ok());
    assert_eq!(
        rules
            .check_status("eprint", "limbo")
            .unwrap_err()
            .to_string(),
        "invalid item: status `limbo` is not a status of dataset `eprint`; use one of \
         `inbox`, `buffer`, `archive`, `deletion`"
    );
    assert_eq!(
        rules
            .check_status("user", "buffer")
            .unwrap_err()
            .to_string(),
        "invalid item: dataset `user` has no statuses, so status `buffer` would be ignored; \
         leave the status out (datasets with statuses: `eprint`)"
    );
}
