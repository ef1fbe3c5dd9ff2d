//! `who-can PRIVILEGE [--item JSON] [--users]` and `filter (--user U | --anonymous)
//! PRIVILEGE`: the questions repository platforms ask (issue 13), for people at a terminal
//! and, with `--json`, in the same shape as `POST /api/who-can` and `POST /api/filter`.

use std::fmt::Write as _;

use gatehouse_core::Expand;
use gatehouse_policy::{Coverage, Holds, ListFilter, Privilege, WhoCan};

use super::check::parse_item;
use super::{bad, user_ref};
use crate::cli::{FilterArgs, WhoCanArgs};
use crate::{App, Failure};

fn bits(h: &Holds) -> String {
    let mut v = Vec::new();
    if h.public {
        v.push("public");
    }
    if h.user {
        v.push("user");
    }
    if h.owner {
        v.push("owner");
    }
    if h.editor {
        v.push("editor");
    }
    if v.is_empty() {
        "nothing".into()
    } else {
        v.join(", ")
    }
}

fn answer_text(a: &WhoCan) -> String {
    let mut s = format!("who can {}", a.privilege);
    let _ = writeln!(s, " (tests {})", a.tested.join(", "));
    let _ = writeln!(
        s,
        "  anonymous visitors: {}",
        if a.anonymous { "yes" } else { "no" }
    );
    s.push_str("user types (users with nothing of their own)\n");
    for t in &a.types {
        let _ = writeln!(s, "  {:<24} {}", t.user_type.to_string(), bits(&t.holds));
    }
    let _ = writeln!(s, "  {:<24} {}", "(no type)", bits(&a.untyped));
    if !a.roles.is_empty() {
        s.push_str("roles that give it\n");
        for r in &a.roles {
            let h = Holds {
                user: r.user,
                owner: r.owner,
                editor: r.editor,
                ..Holds::default()
            };
            let _ = writeln!(s, "  {:<24} {} ({})", r.role, bits(&h), r.origin);
        }
    }
    if !a.system_roles.is_empty() {
        s.push_str("system roles granted it\n");
        for g in &a.system_roles {
            let _ = writeln!(
                s,
                "  {:<24} {} ({})",
                g.system_role.to_string(),
                g.privilege,
                g.bit
            );
        }
    }
    if let Some(c) = &a.owner {
        let _ = writeln!(s, "owner condition: {}", c.condition);
    }
    if let Some(c) = &a.editor {
        let _ = writeln!(s, "editor condition: {}", c.condition);
    }
    if !a.excludes.is_empty() {
        s.push_str("excludes\n");
        for e in &a.excludes {
            let _ = writeln!(s, "  {:<8} {:<32} {}", e.kind, e.privilege, e.by);
        }
    }
    s
}

/// `who-can`
pub async fn who_can(app: &App, args: WhoCanArgs) -> Result<(), Failure> {
    let privilege = Privilege::new(&args.privilege).map_err(|e| bad(e, "privilege"))?;
    let item = parse_item(args.item.as_deref())?;
    let expand = args.users.then_some(Expand {
        after: args.after,
        limit: args.limit,
    });
    let view = app
        .services()
        .await?
        .who_can(&app.ctx, &privilege, item.as_ref(), expand)
        .await?;
    let mut s = answer_text(&view.answer);
    if !view.users.is_empty() {
        s.push_str("users whose own entries or grants change the answer\n");
        for u in &view.users {
            let _ = writeln!(s, "  {:<6} {:<32} {}", u.id.0, u.email, bits(&u.holds));
        }
    }
    if let Some(page) = &view.admitted {
        let _ = writeln!(s, "admitted users ({} on this page)", page.items.len());
        for u in &page.items {
            let _ = writeln!(s, "  {:<6} {:<32} mask {}", u.id.0, u.email, u.mask);
        }
        if let Some(next) = page.next {
            let _ = writeln!(s, "more: --after {next}");
        }
    }
    app.out.emit(&s, &view);
    Ok(())
}

fn filter_text(f: &ListFilter) -> String {
    let mut s = format!("{} on {} items: ", f.privilege, f.dataset);
    match f.coverage {
        Coverage::All => s.push_str("all\n"),
        Coverage::None => s.push_str("none\n"),
        Coverage::Some => {
            s.push_str("those matching any of\n");
            for c in &f.conditions {
                let mut parts = Vec::new();
                if let Some(o) = &c.owner {
                    parts.push(format!("owner = {}", o.id.0));
                }
                if let Some(st) = &c.status {
                    parts.push(format!("status in [{}]", st.join(", ")));
                }
                if let Some(sc) = &c.scope {
                    let v: Vec<String> = sc.iter().map(ToString::to_string).collect();
                    parts.push(format!("scope {}", v.join(" or ")));
                }
                if parts.is_empty() {
                    parts.push("any item".into());
                }
                let _ = writeln!(s, "  {:<7} {}", c.bit, parts.join(" and "));
            }
        }
    }
    s
}

/// `filter`
pub async fn filter(app: &App, args: FilterArgs) -> Result<(), Failure> {
    let privilege = Privilege::new(&args.privilege).map_err(|e| bad(e, "privilege"))?;
    let user = args.user.as_deref().map(user_ref).transpose()?;
    let f = app
        .services()
        .await?
        .list_filter(&app.ctx, user.as_ref(), &privilege, args.dataset.as_deref())
        .await?;
    app.out.emit(&filter_text(&f), &f);
    Ok(())
}
