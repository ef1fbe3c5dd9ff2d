//! `users`, `roles`, `access`, `privileges` and `history`: turn raw arguments into validated
//! values, call the services, print the outcome.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_core::{
    Changed, CoreError, CreateUser, Email, GrantTo, HistoryFilter, PasswordSource, RoleOutcome,
    User, UserQuery, UserRef, Username,
};
use gatehouse_policy::{
    Effect, Entry, Privilege, RoleEntry, RoleName, ScopeFilter, SystemRole, TypeName,
};
use serde_json::json;

use crate::cli::{AccessCmd, GrantArgs, HistoryArgs, ListArgs, RolesCmd, TargetKind, UsersCmd};
use crate::output::yes_no;
use crate::{App, Failure};

fn user_ref(s: &str) -> Result<UserRef, Failure> {
    s.parse::<UserRef>().map_err(Failure::Core)
}

fn bad(e: impl std::fmt::Display, field: &str) -> Failure {
    Failure::Core(CoreError::invalid(field, e.to_string()))
}

/// One user in a few lines for people.
pub fn user_text(u: &User) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "id:            {}", u.id);
    let _ = writeln!(s, "email:         {}", u.email);
    let _ = writeln!(
        s,
        "username:      {}",
        u.username.as_ref().map_or("-".into(), ToString::to_string)
    );
    let _ = writeln!(
        s,
        "full name:     {}",
        if u.full_name.is_empty() {
            "-"
        } else {
            &u.full_name
        }
    );
    let _ = writeln!(
        s,
        "affiliations:  {}",
        if u.affiliations.is_empty() {
            "-"
        } else {
            &u.affiliations
        }
    );
    let _ = writeln!(s, "active:        {}", yes_no(u.active));
    let _ = writeln!(
        s,
        "confirmed:     {}",
        u.confirmed_at
            .map_or("no".into(), |t| format!("yes ({})", t.to_rfc3339()))
    );
    let _ = writeln!(
        s,
        "type:          {}",
        u.user_type.as_ref().map_or("-".into(), ToString::to_string)
    );
    let roles: Vec<String> = u.entries.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        s,
        "roles:         {}",
        if roles.is_empty() {
            "-".into()
        } else {
            roles.join(", ")
        }
    );
    let scope: Vec<String> = u.editorial_scope.iter().map(ToString::to_string).collect();
    let _ = writeln!(
        s,
        "scope:         {}",
        if scope.is_empty() {
            "- (every item)".into()
        } else {
            scope.join(" | ")
        }
    );
    let _ = writeln!(s, "created:       {}", u.created.to_rfc3339());
    let _ = write!(s, "updated:       {}", u.updated.to_rfc3339());
    s
}

fn changed_text(changed: Changed, yes: String, no: String) -> String {
    if changed.changed() {
        yes
    } else {
        no
    }
}

fn query(list: &ListArgs, text: Option<String>) -> Result<UserQuery, Failure> {
    Ok(UserQuery {
        text,
        user_type: list
            .user_type
            .as_deref()
            .map(TypeName::new)
            .transpose()
            .map_err(|e| bad(e, "type"))?,
        active: if list.active {
            Some(true)
        } else if list.inactive {
            Some(false)
        } else {
            None
        },
        confirmed: if list.confirmed {
            Some(true)
        } else if list.unconfirmed {
            Some(false)
        } else {
            None
        },
        offset: list.offset,
        limit: list.limit,
    })
}

/// `users ...`
pub async fn users(app: &App, cmd: UsersCmd) -> Result<(), Failure> {
    let out = app.out;
    match cmd {
        UsersCmd::Create(a) => {
            let email = Email::new(&a.email)?;
            let username = a.username.as_deref().map(Username::new).transpose()?;
            let user_type = a
                .user_type
                .as_deref()
                .map(TypeName::new)
                .transpose()
                .map_err(|e| bad(e, "type"))?;
            let entries = a
                .roles
                .iter()
                .map(|r| r.parse::<Entry>().map_err(|e| bad(e, "role")))
                .collect::<Result<Vec<_>, _>>()?;
            let (password, generated) = match app.password(&a.password, false)? {
                Some((p, generated)) => (Some(p), generated),
                None => (None, false),
            };
            let shown = generated
                .then(|| password.as_ref().map(|p| p.expose().to_owned()))
                .flatten();
            let gh = app.services().await?;
            let user = gh
                .create_user(
                    &app.ctx,
                    CreateUser {
                        email,
                        username,
                        full_name: a.full_name.unwrap_or_default(),
                        affiliations: a.affiliations.unwrap_or_default(),
                        password: password.map_or(PasswordSource::None, PasswordSource::Clear),
                        active: a.active,
                        confirm: a.confirm,
                        user_type,
                        entries,
                    },
                )
                .await?;
            if let Some(p) = &shown {
                eprintln!(
                    "generated password for {} (shown once, it will not be shown again): {p}",
                    user.email
                );
            }
            let mut v = json!({"created": true, "user": user.view()});
            if let Some(p) = shown {
                v["generated_password"] = json!(p);
            }
            let note = if user.confirmed() {
                ""
            } else {
                "\nthe email is not confirmed: the user cannot log in until it is (`gatehouse users confirm`)"
            };
            out.emit(&format!("created user {}{note}", user.label()), &v);
        }
        UsersCmd::Activate { user } => {
            let (u, c) = app
                .services()
                .await?
                .activate(&app.ctx, &user_ref(&user)?)
                .await?;
            let text = changed_text(
                c,
                format!("user {} activated", u.label()),
                format!("user {} was already active", u.label()),
            );
            out.emit(&text, &json!({"changed": c.changed(), "user": u.view()}));
        }
        UsersCmd::Deactivate { user } => {
            let (u, c) = app
                .services()
                .await?
                .deactivate(&app.ctx, &user_ref(&user)?)
                .await?;
            let text = changed_text(
                c,
                format!("user {} deactivated", u.label()),
                format!("user {} was already inactive", u.label()),
            );
            out.emit(&text, &json!({"changed": c.changed(), "user": u.view()}));
        }
        UsersCmd::Confirm { user } => {
            let (u, c) = app
                .services()
                .await?
                .confirm(&app.ctx, &user_ref(&user)?)
                .await?;
            let text = changed_text(
                c,
                format!("user {} confirmed", u.label()),
                format!("user {} was already confirmed", u.label()),
            );
            out.emit(&text, &json!({"changed": c.changed(), "user": u.view()}));
        }
        UsersCmd::SetPassword { user, password } => {
            let who = user_ref(&user)?;
            let Some((p, generated)) = app.password(&password, false)? else {
                return Err(Failure::Usage("no password given".into()));
            };
            let shown = generated.then(|| p.expose().to_owned());
            let u = app
                .services()
                .await?
                .set_password(&app.ctx, &who, p)
                .await?;
            if let Some(p) = &shown {
                eprintln!(
                    "generated password for {} (shown once, it will not be shown again): {p}",
                    u.email
                );
            }
            let mut v = json!({"changed": true, "user": u.view()});
            if let Some(p) = shown {
                v["generated_password"] = json!(p);
            }
            out.emit(&format!("password of {} changed", u.label()), &v);
        }
        UsersCmd::SetType { user, user_type } => {
            let ty = TypeName::new(&user_type).map_err(|e| bad(e, "type"))?;
            let (u, c) = app
                .services()
                .await?
                .set_type(&app.ctx, &user_ref(&user)?, ty)
                .await?;
            let text = changed_text(
                c,
                format!("user {} is now of type {user_type}", u.label()),
                format!("user {} was already of type {user_type}", u.label()),
            );
            out.emit(&text, &json!({"changed": c.changed(), "user": u.view()}));
        }
        UsersCmd::SetScope {
            user,
            filters,
            clear,
        } => {
            let scope = if clear {
                Vec::new()
            } else {
                filters
                    .iter()
                    .map(|f| f.parse::<ScopeFilter>().map_err(|e| bad(e, "filter")))
                    .collect::<Result<Vec<_>, _>>()?
            };
            let (u, c) = app
                .services()
                .await?
                .set_scope(&app.ctx, &user_ref(&user)?, scope)
                .await?;
            let text = changed_text(
                c,
                format!("editorial scope of {} set", u.label()),
                format!("editorial scope of {} unchanged", u.label()),
            );
            out.emit(&text, &json!({"changed": c.changed(), "user": u.view()}));
        }
        UsersCmd::SetRoles { user, entries } => {
            let entries = entries
                .iter()
                .map(|r| r.parse::<Entry>().map_err(|e| bad(e, "role")))
                .collect::<Result<Vec<_>, _>>()?;
            let (u, c) = app
                .services()
                .await?
                .set_entries(&app.ctx, &user_ref(&user)?, entries)
                .await?;
            let text = changed_text(
                c,
                format!("roles of {} set", u.label()),
                format!("roles of {} unchanged", u.label()),
            );
            out.emit(&text, &json!({"changed": c.changed(), "user": u.view()}));
        }
        UsersCmd::SetProfile {
            user,
            full_name,
            affiliations,
        } => {
            let (u, c) = app
                .services()
                .await?
                .set_profile(&app.ctx, &user_ref(&user)?, full_name, affiliations)
                .await?;
            let text = changed_text(
                c,
                format!("profile of {} changed", u.label()),
                format!("profile of {} unchanged", u.label()),
            );
            out.emit(&text, &json!({"changed": c.changed(), "user": u.view()}));
        }
        UsersCmd::List(list) => {
            let page = app
                .services()
                .await?
                .list_users(&app.ctx, &query(&list, None)?)
                .await?;
            print_page(app, &page);
        }
        UsersCmd::Search { text, list } => {
            if text.trim().is_empty() {
                return Err(Failure::Usage(
                    "give words to search for, e.g. `gatehouse users search smith`".into(),
                ));
            }
            let page = app
                .services()
                .await?
                .list_users(&app.ctx, &query(&list, Some(text))?)
                .await?;
            print_page(app, &page);
        }
        UsersCmd::Show { user } => {
            let u = app
                .services()
                .await?
                .show_user(&app.ctx, &user_ref(&user)?)
                .await?;
            out.emit(&user_text(&u), &u.view());
        }
        UsersCmd::Delete { user } => {
            let u = app
                .services()
                .await?
                .delete_user(&app.ctx, &user_ref(&user)?)
                .await?;
            out.emit(
                &format!("user {} deleted", u.label()),
                &json!({"deleted": true, "user": u.view()}),
            );
        }
        UsersCmd::HashPassword { password } => {
            let Some((p, generated)) = app.password(&password, false)? else {
                return Err(Failure::Usage("no password given".into()));
            };
            if generated {
                eprintln!(
                    "generated password (shown once, it will not be shown again): {}",
                    p.expose()
                );
            }
            let hash = gatehouse_core::hash_password(p).await?;
            out.emit(hash.as_phc(), &json!({"password_hash": hash.as_phc()}));
        }
        UsersCmd::CheckLogin { login, password } => {
            if password.random {
                return Err(Failure::Usage("--random makes no sense for a log in check; use --password or --password-stdin".into()));
            }
            let Some(p) = app.password_unchecked(&password)? else {
                return Err(Failure::Usage(
                    "no password given; use --password or --password-stdin".into(),
                ));
            };
            let result = app.services().await?.authenticate(&login, &p).await?;
            match result {
                Ok(u) => out.emit(
                    &format!("log in as {} would succeed", u.label()),
                    &json!({"ok": true, "user": u.view()}),
                ),
                Err(refusal) => {
                    out.emit(
                        &format!("log in refused: {refusal}"),
                        &json!({"ok": false, "code": refusal.code(), "message": refusal.to_string()}),
                    );
                    return Err(Failure::Denied);
                }
            }
        }
        UsersCmd::SendConfirmation { user } => {
            let mailer = crate::serve_cmd::mailer(app)?;
            let u = app
                .services()
                .await?
                .send_confirmation(
                    &app.ctx,
                    &user_ref(&user)?,
                    mailer.as_ref(),
                    &app.config.base_url,
                    &gatehouse_core::Lifetimes::default(),
                )
                .await?;
            out.emit(
                &format!("confirmation link sent to {}", u.email),
                &json!({"sent": true, "user": u.view()}),
            );
        }
        UsersCmd::Reindex => {
            let n = app.services().await?.reindex_users(&app.ctx).await?;
            out.emit(
                &format!("search index rebuilt: {n} users"),
                &json!({"indexed": n}),
            );
        }
    }
    Ok(())
}

fn print_page(app: &App, page: &gatehouse_core::Page<User>) {
    let mut s = String::new();
    for u in &page.items {
        let _ = writeln!(
            s,
            "{:>6}  {:<32} {:<16} {:<8} {:<7} {}",
            u.id.0,
            u.email.as_str(),
            u.username
                .as_ref()
                .map_or("-".to_owned(), ToString::to_string),
            u.user_type
                .as_ref()
                .map_or("-".to_owned(), ToString::to_string),
            if u.active { "active" } else { "inactive" },
            if u.confirmed() {
                "confirmed"
            } else {
                "unconfirmed"
            },
        );
    }
    let _ = write!(s, "{} of {} users", page.items.len(), page.total);
    let views: Vec<_> = page.items.iter().map(User::view).collect();
    app.out
        .emit(&s, &json!({"total": page.total, "users": views}));
}

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

/// `privileges USER`
pub async fn privileges(app: &App, user: &str) -> Result<(), Failure> {
    let view = app
        .services()
        .await?
        .privileges(&app.ctx, &user_ref(user)?)
        .await?;
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
    app.out.emit(&s, &view);
    Ok(())
}

fn parse_since(s: &str) -> Result<DateTime<Utc>, Failure> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "invalid time `{s}` for --since; use a date like 2026-11-01 or an RFC 3339 time like 2026-11-01T12:00:00Z"
            ))
        })
}

/// `history`
pub async fn history(app: &App, args: HistoryArgs) -> Result<(), Failure> {
    let since = args.since.as_deref().map(parse_since).transpose()?;
    let who = args.user.as_deref().map(user_ref).transpose()?;
    let events = app
        .services()
        .await?
        .history(
            &app.ctx,
            who.as_ref(),
            HistoryFilter {
                user_id: None,
                since,
                limit: args.limit,
            },
        )
        .await?;
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
    let _ = write!(s, "{} events", events.len());
    app.out.emit(&s, &events);
    Ok(())
}
