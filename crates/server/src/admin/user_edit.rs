//! The changes a user's page posts: email and username, profile, type, own entries (add,
//! remove, move), editorial scope, activate, deactivate, confirm, resend the confirmation,
//! password. Each calls the normal service method, which authorizes its own privilege. A
//! change answers with a redirect to the card it changed and a notice there; a refusal draws
//! the user's page again with the form refilled and the error by its field.

use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_core::{Changed, CoreError, Email, Password, UserRef, Username};
use gatehouse_policy::{Entry, ScopeFilter, TypeName};

use super::users::{password_shown, user_page};
use super::{changed, refused, user_id, AdminForm, Fields, Refused};
use crate::AppState;

fn said(changed: Changed, yes: String, user: &str) -> String {
    if changed.changed() {
        yes
    } else {
        format!("nothing changed for {user}: it was already so")
    }
}

fn entry(fields: &Fields) -> Result<Entry, CoreError> {
    let raw = fields.get("entry");
    if raw.is_empty() {
        return Err(CoreError::invalid(
            "entry",
            "give a role name, +privilege or -privilege",
        ));
    }
    raw.parse::<Entry>()
        .map_err(|e| CoreError::invalid("entry", e.to_string()))
}

/// The card (and form) each action belongs to.
fn card_of(action: &str) -> &'static str {
    match action {
        "identity" => "identity",
        "profile" => "profile",
        "type" => "type",
        "add" | "remove" | "move" => "roles",
        "scope" => "scope",
        "password" => "password",
        _ => "account",
    }
}

/// The form name a refusal refills: the entries card's add form is `entries`.
fn form_of(action: &str) -> &'static str {
    match card_of(action) {
        "roles" => "entries",
        other => other,
    }
}

/// `POST /admin/users/{id}/{action}`.
pub async fn action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    form: AdminForm,
) -> Response {
    let AdminForm { admin, fields } = form;
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(why) => return admin.not_found(&why),
    };
    let gh = &state.0.gh;
    let ctx = admin.ctx();
    let who = UserRef::Id(id);
    let back = format!("/admin/users/{id}");
    let result: Result<String, CoreError> = match action.as_str() {
        "identity" => identity(&state, ctx, &who, &fields).await,
        "resend" => {
            let s = &state.0;
            gh.send_confirmation(
                ctx,
                &who,
                s.mailer.as_ref(),
                &s.settings.base_url,
                &s.settings.lifetimes,
            )
            .await
            .map(|u| format!("a new confirmation link was sent to {}", u.email))
        }
        "profile" => gh
            .set_profile(
                ctx,
                &who,
                Some(fields.get("full_name").to_owned()),
                Some(fields.get("affiliations").to_owned()),
            )
            .await
            .map(|(u, c)| said(c, format!("profile of {} saved", u.email), u.email.as_str())),
        "type" => match TypeName::new(fields.get("type")) {
            Ok(ty) => gh.set_type(ctx, &who, ty.clone()).await.map(|(u, c)| {
                said(
                    c,
                    format!("user type of {} set to {ty}", u.email),
                    u.email.as_str(),
                )
            }),
            Err(e) => Err(e.into()),
        },
        "add" => match entry(&fields) {
            Ok(e) => gh.add_entry(ctx, &who, e.clone()).await.map(|(u, c)| {
                said(
                    c,
                    format!("added “{e}” to the roles of {}", u.email),
                    u.email.as_str(),
                )
            }),
            Err(e) => Err(e),
        },
        "remove" => match entry(&fields) {
            Ok(e) => gh.remove_entry(ctx, &who, e.clone()).await.map(|(u, c)| {
                said(
                    c,
                    format!("removed “{e}” from the roles of {}", u.email),
                    u.email.as_str(),
                )
            }),
            Err(e) => Err(e),
        },
        "move" => move_entry(&state, &admin.ctx, &who, &fields).await,
        "scope" => {
            let parsed: Result<Vec<ScopeFilter>, CoreError> = fields
                .get("scope")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| {
                    l.parse::<ScopeFilter>().map_err(|e| {
                        CoreError::invalid(
                            "scope",
                            format!("line “{}”: {e}", gatehouse_core::text::shorten(l)),
                        )
                    })
                })
                .collect();
            match parsed {
                Ok(scope) => {
                    let n = scope.len();
                    gh.set_scope(ctx, &who, scope).await.map(|(u, c)| {
                        said(
                            c,
                            format!(
                                "editorial scope of {} set ({n} {})",
                                u.email,
                                if n == 1 { "filter" } else { "filters" }
                            ),
                            u.email.as_str(),
                        )
                    })
                }
                Err(e) => Err(e),
            }
        }
        "activate" => gh
            .activate(ctx, &who)
            .await
            .map(|(u, c)| said(c, format!("{} is active", u.email), u.email.as_str())),
        "deactivate" => gh.deactivate(ctx, &who).await.map(|(u, c)| {
            said(
                c,
                format!(
                    "{} is deactivated: their sessions ended and they can no longer log in",
                    u.email
                ),
                u.email.as_str(),
            )
        }),
        "confirm" => gh.confirm(ctx, &who).await.map(|(u, c)| {
            said(
                c,
                format!("the email {} is confirmed", u.email),
                u.email.as_str(),
            )
        }),
        "password" => {
            if fields.ticked("generate") {
                let p = Password::random();
                return match gh
                    .set_password(ctx, &who, p.clone(), fields.opt("current_password"))
                    .await
                {
                    Ok(u) => password_shown(&admin, &u, &p, "has a new password"),
                    Err(e) => answer(&state, &admin, id, &action, fields, &back, Err(e)).await,
                };
            }
            match Password::new(fields.raw("password"), &gh.settings().password_policy)
                .map_err(|e| CoreError::invalid("password", e.to_string()))
            {
                Ok(p) => gh
                    .set_password(ctx, &who, p, fields.opt("current_password"))
                    .await
                    .map(|u| {
                        format!(
                            "password of {} set; their sessions and tokens ended",
                            u.email
                        )
                    }),
                Err(e) => Err(e),
            }
        }
        other => {
            return admin.not_found(&format!(
                "There is no action “{}” on a user.",
                gatehouse_core::text::shorten(other)
            ))
        }
    };
    answer(&state, &admin, id, &action, fields, &back, result).await
}

/// A redirect to the changed card, or the user's page drawn again with the refused form.
async fn answer(
    state: &AppState,
    admin: &super::Admin,
    id: gatehouse_policy::UserId,
    action: &str,
    fields: Fields,
    back: &str,
    result: Result<String, CoreError>,
) -> Response {
    match result {
        Ok(text) => changed(back, Some(card_of(action)), text),
        Err(e) => match refused(admin, form_of(action), fields.without_secrets(), e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => user_page(admin, state, id, Some(&posted)).await,
        },
    }
}

/// Changes the email and the username (each only when it differs).
async fn identity(
    state: &AppState,
    ctx: &gatehouse_core::Context,
    who: &UserRef,
    fields: &Fields,
) -> Result<String, CoreError> {
    let gh = &state.0.gh;
    let user = gh.show_user(ctx, who).await?;
    let email = Email::new(fields.get("email"))?;
    let username = match fields.get("username") {
        "" => None,
        u => Some(Username::new(u)?),
    };
    let mut said = Vec::new();
    if email != user.email {
        gh.set_email(ctx, who, email.clone()).await?;
        said.push(format!("email changed from {} to {email}", user.email));
    }
    if username != user.username {
        gh.set_username(ctx, who, username.clone()).await?;
        said.push(match &username {
            Some(u) => format!("username set to {u}"),
            None => "username removed".to_owned(),
        });
    }
    Ok(if said.is_empty() {
        format!("nothing changed for {}: it was already so", user.email)
    } else {
        said.join("; ")
    })
}

/// Moves one own entry up or down: the whole ordered list is replaced (`users set-roles`).
async fn move_entry(
    state: &AppState,
    ctx: &gatehouse_core::Context,
    who: &UserRef,
    fields: &Fields,
) -> Result<String, CoreError> {
    let gh = &state.0.gh;
    let user = gh.show_user(ctx, who).await?;
    let mut entries = user.entries.clone();
    let index: usize = fields
        .get("index")
        .parse()
        .map_err(|_| CoreError::invalid("index", "the entry to move is not a number"))?;
    let other = match fields.get("dir") {
        "up" => index.checked_sub(1),
        "down" => index.checked_add(1),
        _ => None,
    };
    let Some(other) = other.filter(|o| *o < entries.len() && index < entries.len()) else {
        return Err(CoreError::invalid(
            "index",
            "that entry cannot move further (the list changed? reload the page)",
        ));
    };
    entries.swap(index, other);
    let moved = entries
        .get(other)
        .map(ToString::to_string)
        .unwrap_or_default();
    let (u, c) = gh.set_entries(ctx, who, entries).await?;
    Ok(said(
        c,
        format!(
            "moved “{moved}” {} in the roles of {}",
            fields.get("dir"),
            u.email
        ),
        u.email.as_str(),
    ))
}
