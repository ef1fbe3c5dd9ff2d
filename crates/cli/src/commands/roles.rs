//! `roles ...` and `access ...`: run-time roles, user entries, allow and deny grants.

use std::fmt::Write as _;

use gatehouse_core::{GrantTo, RoleOutcome};
use gatehouse_policy::{Effect, Entry, Privilege, RoleEntry, RoleName, SystemRole};
use serde_json::json;

use super::{bad, changed_text, user_ref};
use crate::cli::{AccessCmd, GrantArgs, RolesCmd, TargetKind};
use crate::{App, Failure};

/// `roles ...`
pub async fn roles(app: &App, cmd: RolesCmd) -> Result<(), Failure> {
    let out = app.out;
    match cmd {
        RolesCmd::Create {
            name,
            description,
            privileges,
        } => {
            let role = RoleName::new(&name).map_err(|e| bad(e, "role"))?;
            let entries = privileges
                .iter()
                .map(|p| p.parse::<RoleEntry>().map_err(|e| bad(e, "privilege")))
                .collect::<Result<Vec<_>, _>>()?;
            let outcome = app
                .services()
                .await?
                .create_role(&app.ctx, role, description, entries)
                .await?;
            let text = match &outcome {
                RoleOutcome::Created => format!("role {name} created"),
                RoleOutcome::Updated => format!("role {name} updated"),
                RoleOutcome::Exists { origin } => {
                    format!("role {name} already exists ({origin}); nothing changed")
                }
            };
            out.emit(&text, &json!({"role": name, "result": outcome}));
        }
        RolesCmd::Add { user, entry } => {
            let e = entry.parse::<Entry>().map_err(|e| bad(e, "entry"))?;
            let (u, c) = app
                .services()
                .await?
                .add_entry(&app.ctx, &user_ref(&user)?, e)
                .await?;
            let text = changed_text(
                c,
                format!("{entry} added to {}", u.label()),
                format!("{} already has {entry}; nothing changed", u.label()),
            );
            out.emit(&text, &json!({"changed": c.changed(), "user": u.view()}));
        }
        RolesCmd::Remove { user, entry } => {
            let e = entry.parse::<Entry>().map_err(|e| bad(e, "entry"))?;
            let (u, c) = app
                .services()
                .await?
                .remove_entry(&app.ctx, &user_ref(&user)?, e)
                .await?;
            let text = changed_text(
                c,
                format!("{entry} removed from {}", u.label()),
                format!("{} does not have {entry}; nothing changed", u.label()),
            );
            out.emit(&text, &json!({"changed": c.changed(), "user": u.view()}));
        }
        RolesCmd::List => {
            let roles = app.services().await?.list_roles(&app.ctx).await?;
            let mut s = String::new();
            for r in &roles {
                let _ = writeln!(
                    s,
                    "{:<28} {:>3} entries  {}",
                    r.name,
                    r.entries.len(),
                    r.origin
                );
            }
            let _ = write!(s, "{} roles", roles.len());
            out.emit(&s, &roles);
        }
        RolesCmd::Show { name } => {
            let role = RoleName::new(&name).map_err(|e| bad(e, "role"))?;
            let r = app.services().await?.show_role(&app.ctx, &role).await?;
            let mut s = format!("role {} ({})\n", r.name, r.origin);
            for e in &r.entries {
                let _ = writeln!(s, "  {e}");
            }
            for g in &r.allow_grants {
                let _ = writeln!(s, "  allow grant: {g}");
            }
            for g in &r.deny_grants {
                let _ = writeln!(s, "  deny grant: {g}");
            }
            out.emit(&s, &r);
        }
    }
    Ok(())
}

fn grant_to(kind: TargetKind, name: &str) -> Result<GrantTo, Failure> {
    Ok(match kind {
        TargetKind::User => GrantTo::User(user_ref(name)?),
        TargetKind::Role => GrantTo::Role(RoleName::new(name).map_err(|e| bad(e, "role"))?),
        TargetKind::SystemRole => GrantTo::System(
            name.parse::<SystemRole>()
                .map_err(|e| bad(e, "system_role"))?,
        ),
    })
}

fn target_words(kind: TargetKind, name: &str) -> String {
    match kind {
        TargetKind::User => format!("user {name}"),
        TargetKind::Role => format!("role {name}"),
        TargetKind::SystemRole => format!("system role {name}"),
    }
}

/// `access ...`
pub async fn access(app: &App, cmd: AccessCmd) -> Result<(), Failure> {
    let out = app.out;
    let grant = |effect: Option<Effect>, a: GrantArgs| async move {
        let privilege = Privilege::new(&a.privilege).map_err(|e| bad(e, "privilege"))?;
        let to = grant_to(a.kind, &a.name)?;
        let gh = app.services().await?;
        let c = match effect {
            Some(e) => gh.grant(&app.ctx, e, privilege, &to).await?,
            None => gh.remove_grant(&app.ctx, privilege, &to).await?,
        };
        let who = target_words(a.kind, &a.name);
        let text = match (effect, c.changed()) {
            (Some(Effect::Allow), true) => format!("allowed {} to {who}", a.privilege),
            (Some(Effect::Deny), true) => format!("denied {} to {who}", a.privilege),
            (Some(_), false) => format!(
                "{who} already has that grant of {}; nothing changed",
                a.privilege
            ),
            (None, true) => format!("removed the grants of {} for {who}", a.privilege),
            (None, false) => format!("{who} has no grant of {}; nothing changed", a.privilege),
        };
        out.emit(
            &text,
            &json!({"changed": c.changed(), "privilege": a.privilege, "target": who}),
        );
        Ok::<(), Failure>(())
    };
    match cmd {
        AccessCmd::Allow(a) => grant(Some(Effect::Allow), a).await?,
        AccessCmd::Deny(a) => grant(Some(Effect::Deny), a).await?,
        AccessCmd::Remove(a) => grant(None, a).await?,
        AccessCmd::Show { user, role } => {
            let to = match (user, role) {
                (Some(u), _) => Some(GrantTo::User(user_ref(&u)?)),
                (_, Some(r)) => Some(GrantTo::Role(
                    RoleName::new(&r).map_err(|e| bad(e, "role"))?,
                )),
                _ => None,
            };
            let grants = app
                .services()
                .await?
                .list_grants(&app.ctx, to.as_ref())
                .await?;
            let mut s = String::new();
            for g in &grants {
                let _ = writeln!(
                    s,
                    "{}:{}:{}:{}",
                    g.target_kind, g.target, g.privilege, g.effect
                );
            }
            let _ = write!(s, "{} grants", grants.len());
            out.emit(&s, &grants);
        }
    }
    Ok(())
}
