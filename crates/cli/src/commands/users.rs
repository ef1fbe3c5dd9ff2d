//! `users ...`: create, change, list, search, show, delete, passwords, log in checks.

use gatehouse_core::{BulkAction, CreateUser, Email, PasswordSource, UserRef, Username};
use gatehouse_policy::{Entry, ScopeFilter, TypeName};
use serde_json::json;

use super::{bad, emit_changed, print_page, query, sort, user_ref, user_text};
use crate::cli::UsersCmd;
use crate::{App, Failure};

/// `users ...`
pub async fn users(app: &App, cmd: UsersCmd) -> Result<(), Failure> {
    let out = app.out;
    match cmd {
        UsersCmd::Create(a) => create(app, a).await?,
        UsersCmd::Activate { user } => {
            let done = app
                .services()
                .await?
                .activate(&app.ctx, &user_ref(&user)?)
                .await?;
            let u = &done.0;
            let (yes, no) = (
                format!("user {} activated", u.label()),
                format!("user {} was already active", u.label()),
            );
            emit_changed(app, done, yes, no);
        }
        UsersCmd::Deactivate { user } => {
            let done = app
                .services()
                .await?
                .deactivate(&app.ctx, &user_ref(&user)?)
                .await?;
            let u = &done.0;
            let (yes, no) = (
                format!("user {} deactivated", u.label()),
                format!("user {} was already inactive", u.label()),
            );
            emit_changed(app, done, yes, no);
        }
        UsersCmd::Confirm { user } => {
            let done = app
                .services()
                .await?
                .confirm(&app.ctx, &user_ref(&user)?)
                .await?;
            let u = &done.0;
            let (yes, no) = (
                format!("user {} confirmed", u.label()),
                format!("user {} was already confirmed", u.label()),
            );
            emit_changed(app, done, yes, no);
        }
        UsersCmd::SetPassword { user, password } => set_password(app, user, password).await?,
        UsersCmd::SetType { user, user_type } => {
            let ty = TypeName::new(&user_type).map_err(|e| bad(e, "type"))?;
            let done = app
                .services()
                .await?
                .set_type(&app.ctx, &user_ref(&user)?, ty)
                .await?;
            let u = &done.0;
            let (yes, no) = (
                format!("user {} is now of type {user_type}", u.label()),
                format!("user {} was already of type {user_type}", u.label()),
            );
            emit_changed(app, done, yes, no);
        }
        UsersCmd::SetScope {
            user,
            filters,
            clear,
        } => set_scope(app, user, filters, clear).await?,
        UsersCmd::SetRoles { user, entries } => {
            let entries = entries
                .iter()
                .map(|r| r.parse::<Entry>().map_err(|e| bad(e, "role")))
                .collect::<Result<Vec<_>, _>>()?;
            let done = app
                .services()
                .await?
                .set_entries(&app.ctx, &user_ref(&user)?, entries)
                .await?;
            let u = &done.0;
            let (yes, no) = (
                format!("roles of {} set", u.label()),
                format!("roles of {} unchanged", u.label()),
            );
            emit_changed(app, done, yes, no);
        }
        UsersCmd::Bulk {
            action,
            entry,
            users,
        } => bulk(app, action, entry, users).await?,
        UsersCmd::SetEmail { user, email } => {
            let email = Email::new(&email)?;
            let done = app
                .services()
                .await?
                .set_email(&app.ctx, &user_ref(&user)?, email)
                .await?;
            let u = &done.0;
            let (yes, no) = (
                format!("email of user {} is now {}", u.id, u.email),
                format!("email of user {} was already {}", u.id, u.email),
            );
            emit_changed(app, done, yes, no);
        }
        UsersCmd::SetUsername {
            user,
            username,
            clear: _,
        } => {
            // clap makes sure that exactly one of USERNAME and --clear was given.
            let username = username.as_deref().map(Username::new).transpose()?;
            let done = app
                .services()
                .await?
                .set_username(&app.ctx, &user_ref(&user)?, username)
                .await?;
            let u = &done.0;
            let now = u
                .username
                .as_ref()
                .map_or_else(|| "no username".to_owned(), |n| format!("username {n}"));
            let (yes, no) = (
                format!("user {} now has {now}", u.label()),
                format!("user {} already had {now}", u.label()),
            );
            emit_changed(app, done, yes, no);
        }
        UsersCmd::SetProfile {
            user,
            full_name,
            affiliations,
        } => {
            let done = app
                .services()
                .await?
                .set_profile(&app.ctx, &user_ref(&user)?, full_name, affiliations)
                .await?;
            let u = &done.0;
            let (yes, no) = (
                format!("profile of {} changed", u.label()),
                format!("profile of {} unchanged", u.label()),
            );
            emit_changed(app, done, yes, no);
        }
        UsersCmd::List(list) => {
            let page = app
                .services()
                .await?
                .list_users_sorted(&app.ctx, &query(&list, None)?, sort(&list)?)
                .await?;
            print_page(app, &page);
        }
        UsersCmd::Search { text, list } => search(app, text, list).await?,
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
        UsersCmd::HashPassword { password } => hash_password(app, password).await?,
        UsersCmd::CheckLogin { login, password } => check_login(app, login, password).await?,
        UsersCmd::SendConfirmation { user } => send_confirmation(app, user).await?,
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

async fn create(app: &App, a: crate::cli::CreateArgs) -> Result<(), Failure> {
    let out = app.out;
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
    Ok(())
}

async fn set_password(
    app: &App,
    user: String,
    password: crate::cli::PasswordArgs,
) -> Result<(), Failure> {
    let out = app.out;
    let who = user_ref(&user)?;
    let Some((p, generated)) = app.password(&password, false)? else {
        return Err(Failure::Usage("no password given".into()));
    };
    let shown = generated.then(|| p.expose().to_owned());
    let u = app
        .services()
        .await?
        .set_password(&app.ctx, &who, p, None)
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
    Ok(())
}

async fn hash_password(app: &App, password: crate::cli::PasswordArgs) -> Result<(), Failure> {
    let out = app.out;
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
    Ok(())
}

async fn check_login(
    app: &App,
    login: String,
    password: crate::cli::PasswordArgs,
) -> Result<(), Failure> {
    let out = app.out;
    if password.random {
        return Err(Failure::Usage(
            "--random makes no sense for a log in check; use --password or --password-stdin".into(),
        ));
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
    Ok(())
}

async fn set_scope(
    app: &App,
    user: String,
    filters: Vec<String>,
    clear: bool,
) -> Result<(), Failure> {
    let scope = if clear {
        Vec::new()
    } else {
        filters
            .iter()
            .map(|f| f.parse::<ScopeFilter>().map_err(|e| bad(e, "filter")))
            .collect::<Result<Vec<_>, _>>()?
    };
    let done = app
        .services()
        .await?
        .set_scope(&app.ctx, &user_ref(&user)?, scope)
        .await?;
    let u = &done.0;
    let (yes, no) = (
        format!("editorial scope of {} set", u.label()),
        format!("editorial scope of {} unchanged", u.label()),
    );
    emit_changed(app, done, yes, no);
    Ok(())
}

async fn search(app: &App, text: String, list: crate::cli::ListArgs) -> Result<(), Failure> {
    if text.trim().is_empty() {
        return Err(Failure::Usage(
            "give words to search for, e.g. `gatehouse users search smith`".into(),
        ));
    }
    let page = app
        .services()
        .await?
        .list_users_sorted(&app.ctx, &query(&list, Some(text))?, sort(&list)?)
        .await?;
    print_page(app, &page);
    Ok(())
}

async fn send_confirmation(app: &App, user: String) -> Result<(), Failure> {
    let out = app.out;
    let mailer = super::serve::mailer(app)?;
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
    Ok(())
}

/// `users bulk ACTION [--entry E] USER...`: emails are looked up first (a read), then the
/// one transaction acts on the ids.
async fn bulk(
    app: &App,
    action: crate::cli::BulkActionArg,
    entry: Option<String>,
    users: Vec<String>,
) -> Result<(), Failure> {
    let entry = entry
        .as_deref()
        .map(|e| e.parse::<Entry>().map_err(|err| bad(err, "entry")))
        .transpose()?;
    let action = BulkAction::parse(action.name(), entry)?;
    let gh = app.services().await?;
    let mut ids = Vec::with_capacity(users.len());
    for u in &users {
        ids.push(match user_ref(u)? {
            UserRef::Id(id) => id,
            by_email => gh.show_user(&app.ctx, &by_email).await?.id,
        });
    }
    let shown = action.to_string();
    let out = gh.bulk_users(&app.ctx, &ids, action).await?;
    let label = |list: &[gatehouse_core::User]| {
        list.iter()
            .map(|u| u.label())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = format!("{shown}: {} changed", out.changed.len());
    if !out.changed.is_empty() {
        text.push_str(&format!(" ({})", label(&out.changed)));
    }
    if !out.unchanged.is_empty() {
        text.push_str(&format!(
            "; {} already so ({})",
            out.unchanged.len(),
            label(&out.unchanged)
        ));
    }
    app.out.emit(
        &text,
        &json!({
            "action": shown,
            "changed": out.changed.iter().map(gatehouse_core::User::view).collect::<Vec<_>>(),
            "unchanged": out.unchanged.iter().map(gatehouse_core::User::view).collect::<Vec<_>>(),
        }),
    );
    Ok(())
}
