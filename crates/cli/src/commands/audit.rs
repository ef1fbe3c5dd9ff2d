//! `privileges USER` and `history`: what a user holds and where it comes from, who changed
//! what and when.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_core::{EffectiveView, HistoryFilter, PrivilegesView};

use super::user_ref;
use crate::cli::HistoryArgs;
use crate::{App, Failure};

/// `privileges --json`: the sources, and the effective answer `GET /api/users/{user}/effective`
/// gives (with its generation).
#[derive(serde::Serialize)]
struct PrivilegesJson<'a> {
    #[serde(flatten)]
    view: &'a PrivilegesView,
    effective: EffectiveView,
}

/// `privileges USER`
pub async fn privileges(app: &App, user: &str) -> Result<(), Failure> {
    let who = user_ref(user)?;
    let gh = app.services().await?;
    let view = gh.privileges(&app.ctx, &who).await?;
    let effective = gh.effective(&app.ctx, &who).await?;
    let mut s = format!("effective privileges of {}", view.user);
    if !view.active {
        s.push_str(" (inactive: only public privileges apply)");
    }
    if view.superuser {
        s.push_str(" (superuser: holds every privilege not denied)");
    }
    s.push('\n');
    for p in &view.privileges {
        let _ = writeln!(s, "  {:<44} {}", p.privilege, p.source);
    }
    if !view.denied.is_empty() {
        s.push_str("denied\n");
        for p in &view.denied {
            let _ = writeln!(s, "  {:<44} {}", p.privilege, p.source);
        }
    }
    s.push_str("public privileges\n");
    for p in &view.public {
        let _ = writeln!(s, "  {:<44} {}", p.privilege, p.source);
    }
    let _ = writeln!(s, "generation {}", effective.generation);
    app.out.emit(
        &s,
        &PrivilegesJson {
            view: &view,
            effective,
        },
    );
    Ok(())
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, Failure> {
    parse_time(s, "--since")
}

fn parse_time(s: &str, flag: &str) -> Result<DateTime<Utc>, Failure> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "invalid time `{s}` for {flag}; use a date like 2026-11-01 or an RFC 3339 time like 2026-11-01T12:00:00Z"
            ))
        })
}

/// `history`
pub async fn history(app: &App, args: HistoryArgs) -> Result<(), Failure> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let until = args
        .until
        .as_deref()
        .map(|s| parse_time(s, "--until"))
        .transpose()?;
    let who = args.user.as_deref().map(user_ref).transpose()?;
    let page = app
        .services()
        .await?
        .history_page(
            &app.ctx,
            who.as_ref(),
            HistoryFilter {
                user_id: None,
                since,
                until,
                actor: args.actor,
                target: args.target,
                action: args.action,
                offset: args.offset,
                limit: args.limit,
                newest_first: args.newest_first,
            },
        )
        .await?;
    let events = page.items;
    let mut s = String::new();
    for e in &events {
        let _ = writeln!(
            s,
            "{}  {:<9} {:<22} {:<32} by {}  {}",
            e.at.format("%Y-%m-%d %H:%M:%S"),
            e.channel.as_str(),
            e.action,
            e.target,
            e.actor,
            e.details
        );
    }
    let _ = write!(s, "{} of {} events", events.len(), page.total);
    app.out.emit(&s, &events);
    Ok(())
}
