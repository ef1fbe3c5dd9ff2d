//! `check (--user USER | --anonymous) PRIVILEGE [--item JSON] [--explain]`.

use std::fmt::Write as _;

use gatehouse_core::{CoreError, UserRef};
use gatehouse_policy::{Decision, Item, Privilege};

use crate::cli::CheckArgs;
use crate::{App, Failure};

/// Prints a decision for people.
pub fn decision_text(d: &Decision, privilege: &str, explain: bool) -> String {
    let mut s = format!(
        "{} {privilege}: mask {} (public {}, user {}, owner {}, editor {})",
        if d.allowed { "allowed" } else { "denied" },
        d.mask,
        u8::from(d.public),
        u8::from(d.user),
        u8::from(d.owner),
        u8::from(d.editor)
    );
    if explain {
        for r in &d.reasons {
            let bit = if r.bit > 0 {
                format!("bit {}", r.bit)
            } else {
                "no bit".into()
            };
            let _ = write!(s, "\n  {bit:<6} `{}`: {}", r.privilege, r.source);
        }
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
    let d = app
        .services()
        .await?
        .check(&app.ctx, user.as_ref(), &privilege, item.as_ref())
        .await?;
    app.out
        .emit(&decision_text(&d, privilege.as_str(), args.explain), &d);
    if d.allowed {
        Ok(())
    } else {
        Err(Failure::Denied)
    }
}
