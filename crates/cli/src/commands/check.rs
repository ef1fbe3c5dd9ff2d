//! `check (--user USER | --anonymous) PRIVILEGE [--item JSON] [--explain]`: the decision, and
//! with `--explain` the mask in words, the reasons and every step of the walk that touched
//! the privilege (`-p` removals and denies included).

use std::fmt::Write as _;

use gatehouse_core::{CoreError, UserRef};
use gatehouse_policy::{Decision, Explanation, Item, Privilege, WalkStep};
use serde::Serialize;

use crate::cli::CheckArgs;
use crate::{App, Failure};

/// Prints a decision for people: one line.
pub fn decision_text(d: &Decision, privilege: &str) -> String {
    format!(
        "{} {privilege}: mask {} (public {}, user {}, owner {}, editor {})",
        if d.allowed { "allowed" } else { "denied" },
        d.mask,
        u8::from(d.public),
        u8::from(d.user),
        u8::from(d.owner),
        u8::from(d.editor)
    )
}

/// `check --explain --json`: the decision's fields, the mask in words and the walk.
#[derive(Serialize)]
struct ExplainedOut<'a> {
    #[serde(flatten)]
    decision: &'a Decision,
    mask_words: Vec<&'static str>,
    steps: &'a [WalkStep],
}

/// Prints an explanation for people: the decision with each set bit in words and the
/// reasons, then the walk, one numbered step a line.
pub fn explanation_text(e: &Explanation, privilege: &str) -> String {
    let d = &e.decision;
    let mut s = decision_text(d, privilege);
    for w in e.mask_words() {
        let _ = write!(s, "\n  {w}");
    }
    s.push_str("\nreasons:");
    for r in &d.reasons {
        let bit = if r.bit > 0 {
            format!("bit {}", r.bit)
        } else {
            "no bit".into()
        };
        let _ = write!(s, "\n  {bit:<6} `{}`: {}", r.privilege, r.source);
    }
    if e.steps.is_empty() {
        let _ = write!(
            s,
            "\nwalk: no entry, grant, deny or public definition touches `{privilege}` or its \
             `:owner` and `:editor` forms"
        );
    } else {
        s.push_str("\nwalk (every step that touched the privilege, in order):");
    }
    for (i, step) in e.steps.iter().enumerate() {
        let _ = write!(
            s,
            "\n  {:>2}. [{}] {} `{}`: {} -> {}",
            i + 1,
            step.stage.as_str().replace('_', " "),
            step.kind.words(),
            step.privilege,
            step.source,
            if step.held_after { "held" } else { "not held" }
        );
    }
    s
}

/// The `--item JSON` of `check` and `who-can`.
pub(crate) fn parse_item(json: Option<&str>) -> Result<Option<Item>, Failure> {
    json.map(|j| {
        serde_json::from_str::<Item>(j).map_err(|e| {
            Failure::Usage(format!(
                "invalid --item `{j}`: {e}; expected e.g. {{\"dataset\":\"eprint\",\"status\":\"buffer\",\"owners\":[3]}}"
            ))
        })
    })
    .transpose()
}

/// `check`
pub async fn check(app: &App, args: CheckArgs) -> Result<(), Failure> {
    let privilege = Privilege::new(&args.privilege)
        .map_err(|e| Failure::Core(CoreError::invalid("privilege", e.to_string())))?;
    let item = parse_item(args.item.as_deref())?;
    let user = args
        .user
        .as_deref()
        .map(str::parse::<UserRef>)
        .transpose()?;
    let gh = app.services().await?;
    let allowed = if args.explain {
        let e = gh
            .explain(&app.ctx, user.as_ref(), &privilege, item.as_ref())
            .await?;
        let out = ExplainedOut {
            decision: &e.decision,
            mask_words: e.mask_words(),
            steps: &e.steps,
        };
        app.out
            .emit(&explanation_text(&e, privilege.as_str()), &out);
        e.decision.allowed
    } else {
        let d = gh
            .check(&app.ctx, user.as_ref(), &privilege, item.as_ref())
            .await?;
        app.out.emit(&decision_text(&d, privilege.as_str()), &d);
        d.allowed
    };
    if allowed {
        Ok(())
    } else {
        Err(Failure::Denied)
    }
}
