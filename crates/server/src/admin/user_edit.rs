//! The changes a user's page posts: profile, type, own entries (add, remove, move), editorial
//! scope, activate, deactivate, confirm, password. Each calls the normal service method,
//! which authorizes its own privilege, and answers with a redirect and a notice.

use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_core::{Changed, CoreError, Password, UserRef};
use gatehouse_policy::{Entry, ScopeFilter, TypeName, UserId};

use super::users::password_shown;
use super::{done, AdminForm, Fields};
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
    raw.parse::<Entry>()
        .map_err(|e| CoreError::invalid("entry", e.to_string()))
}

/// `POST /admin/users/{id}/{action}`.
pub async fn action(
    State(state): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    form: AdminForm,
) -> Response {
    let AdminForm { admin, fields } = form;
    let gh = &state.0.gh;
    let ctx = admin.ctx();
    let who = UserRef::Id(UserId(id));
    let back = format!("/admin/users/{id}");
    let result: Result<String, CoreError> = match action.as_str() {
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
                    format!("added `{e}` to the roles of {}", u.email),
                    u.email.as_str(),
                )
            }),
            Err(e) => Err(e),
        },
        "remove" => match entry(&fields) {
            Ok(e) => gh.remove_entry(ctx, &who, e.clone()).await.map(|(u, c)| {
                said(
                    c,
                    format!("removed `{e}` from the roles of {}", u.email),
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
                    l.parse::<ScopeFilter>()
                        .map_err(|e| CoreError::invalid("scope", e.to_string()))
                })
                .collect();
            match parsed {
                Ok(scope) => {
                    let n = scope.len();
                    gh.set_scope(ctx, &who, scope).await.map(|(u, c)| {
                        said(
                            c,
                            format!("editorial scope of {} set ({n} filters)", u.email),
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
                    Err(e) => done(&admin, &back, Err(e)),
                };
            }
            match Password::new(fields.raw("password"), &gh.settings().password_policy) {
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
        other => Err(CoreError::invalid(
            "action",
            format!("unknown action `{other}`"),
        )),
    };
    done(&admin, &back, result)
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
            "moved `{moved}` {} in the roles of {}",
            fields.get("dir"),
            u.email
        ),
        u.email.as_str(),
    ))
}
