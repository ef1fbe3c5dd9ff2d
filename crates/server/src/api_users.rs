//! `/api/users...`: create, read, search, profile, type, roles and `+`/`-` entries, editorial
//! scope, activate, deactivate, confirm, passwords, delete, effective privileges.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::{
    BulkAction, CreateUser, Email, Password, PasswordSource, UserQuery, UserRef, UserSort, Username,
};
use gatehouse_policy::{Entry, ScopeFilter, TypeName, UserId};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::{
    BulkRequest, BulkResponse, ChangedUser, CreateUserRequest, CreatedUser, EmailRequest,
    EntryRequest, PasswordChanged, PasswordRequest, PrivilegesOut, ProfileRequest, RolesRequest,
    ScopeRequest, TypeRequest, UserOut, UserPage, UsernameRequest,
};
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::{AppState, Caller};

fn user_ref(s: &str) -> Result<UserRef, ApiError> {
    s.parse::<UserRef>().map_err(ApiError::from)
}

fn entries(list: &[String]) -> Result<Vec<Entry>, ApiError> {
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            e.parse::<Entry>()
                .map_err(|err| ApiError::invalid(format!("field `roles[{i}]`: {err}")))
        })
        .collect()
}

fn changed(pair: (gatehouse_core::User, gatehouse_core::Changed)) -> Json<ChangedUser> {
    Json(ChangedUser {
        changed: pair.1.changed(),
        user: UserOut::from(&pair.0),
    })
}

/// Filters and paging for `GET /api/users`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Words that must all occur in email, username, full name or affiliations.
    q: Option<String>,
    /// Only this user type.
    #[serde(rename = "type")]
    user_type: Option<String>,
    /// Only active (true) or inactive (false) users.
    active: Option<bool>,
    /// Only confirmed (true) or unconfirmed (false) users.
    confirmed: Option<bool>,
    /// The order: `id` (the default), `email`, `username`, `full_name`, `type`, `active`,
    /// `confirmed` or `created`, with `-` in front for descending (`-created`). Ties go by
    /// id; users without a username, type or full name come last either way.
    sort: Option<String>,
    /// Skip this many.
    #[serde(default)]
    offset: u64,
    /// At most this many (default 50, at most 500).
    limit: Option<u64>,
}

/// List or search users (`user/view`; searching needs `staff/user_search`).
#[utoipa::path(get, path = "/api/users", tag = "users", params(ListQuery),
    responses((status = 200, body = UserPage), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<UserPage>, ApiError> {
    caller.require()?;
    let query = UserQuery {
        text: q.q.filter(|t| !t.trim().is_empty()),
        user_type: q
            .user_type
            .as_deref()
            .map(TypeName::new)
            .transpose()
            .map_err(|e| ApiError::invalid(e.to_string()))?,
        active: q.active,
        confirmed: q.confirmed,
        with_entries: false,
        after_id: None,
        password_scheme: None,
        offset: q.offset,
        limit: q.limit.unwrap_or(50).clamp(1, 500),
    };
    let sort = match q.sort.as_deref() {
        None => UserSort::default(),
        Some(s) => s.parse::<UserSort>()?,
    };
    let page = state
        .0
        .gh
        .list_users_sorted(&caller.ctx, &query, sort)
        .await?;
    Ok(Json(UserPage {
        total: page.total,
        users: page.items.iter().map(UserOut::from).collect(),
    }))
}

/// Create a user (`create_user`). Without `confirm`, a confirmation link is mailed.
#[utoipa::path(post, path = "/api/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = CreatedUser), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> Result<Response, ApiError> {
    caller.require()?;
    let s = &state.0;
    let policy = &s.gh.settings().password_policy;
    let (password, generated) = match (&req.password, req.random_password) {
        (Some(_), true) => {
            return Err(ApiError::invalid(
                "give `password` or `random_password`, not both",
            ))
        }
        (Some(p), false) => (PasswordSource::Clear(Password::new(p, policy)?), None),
        (None, true) => {
            let p = Password::random();
            let shown = p.expose().to_owned();
            (PasswordSource::Clear(p), Some(shown))
        }
        (None, false) => (PasswordSource::None, None),
    };
    let user =
        s.gh.create_user(
            &caller.ctx,
            CreateUser {
                email: Email::new(&req.email)?,
                username: req.username.as_deref().map(Username::new).transpose()?,
                full_name: req.full_name,
                affiliations: req.affiliations,
                password,
                active: req.active,
                confirm: req.confirm,
                user_type: req
                    .user_type
                    .as_deref()
                    .map(TypeName::new)
                    .transpose()
                    .map_err(|e| ApiError::invalid(e.to_string()))?,
                entries: entries(&req.roles)?,
            },
        )
        .await?;
    let mut confirmation_sent = false;
    if !user.confirmed() {
        match s
            .gh
            .send_confirmation(
                &caller.ctx,
                &UserRef::Id(user.id),
                s.mailer.as_ref(),
                &s.settings.base_url,
                &s.settings.lifetimes,
            )
            .await
        {
            Ok(_) => confirmation_sent = true,
            Err(e) => tracing::warn!(error = %e, user = %user.email, "confirmation mail not sent"),
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: UserOut::from(&user),
            generated_password: generated,
            confirmation_sent,
        }),
    )
        .into_response())
}

/// One user (`user/view`, or `user/view:owner` for oneself).
#[utoipa::path(get, path = "/api/users/{user}", tag = "users", params(("user" = String, Path, description = "id or email")),
    responses((status = 200, body = UserOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Json<UserOut>, ApiError> {
    caller.require()?;
    let u = state.0.gh.show_user(&caller.ctx, &user_ref(&user)?).await?;
    Ok(Json(UserOut::from(&u)))
}

/// Change full name or affiliations (`user/edit`, or `user/edit:owner` for oneself).
#[utoipa::path(patch, path = "/api/users/{user}", tag = "users", params(("user" = String, Path, description = "id or email")),
    request_body = ProfileRequest, responses((status = 200, body = ChangedUser), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<ProfileRequest>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    Ok(changed(
        state
            .0
            .gh
            .set_profile(
                &caller.ctx,
                &user_ref(&user)?,
                req.full_name,
                req.affiliations,
            )
            .await?,
    ))
}

/// Delete a user and their grants (`user/destroy`).
#[utoipa::path(delete, path = "/api/users/{user}", tag = "users", params(("user" = String, Path, description = "id or email")),
    responses((status = 204, description = "deleted"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require()?;
    state
        .0
        .gh
        .delete_user(&caller.ctx, &user_ref(&user)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Activate (also confirms) a user (`user/staff/edit`).
#[utoipa::path(post, path = "/api/users/{user}/activate", tag = "users", params(("user" = String, Path, description = "id or email")),
    responses((status = 200, body = ChangedUser), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn activate(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    Ok(changed(
        state.0.gh.activate(&caller.ctx, &user_ref(&user)?).await?,
    ))
}

/// Deactivate a user: their sessions and tokens end at once (`user/staff/edit`).
#[utoipa::path(post, path = "/api/users/{user}/deactivate", tag = "users", params(("user" = String, Path, description = "id or email")),
    responses((status = 200, body = ChangedUser), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn deactivate(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    Ok(changed(
        state
            .0
            .gh
            .deactivate(&caller.ctx, &user_ref(&user)?)
            .await?,
    ))
}

/// Confirm a user's email (`user/staff/edit`).
#[utoipa::path(post, path = "/api/users/{user}/confirm", tag = "users", params(("user" = String, Path, description = "id or email")),
    responses((status = 200, body = ChangedUser), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn confirm(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    Ok(changed(
        state.0.gh.confirm(&caller.ctx, &user_ref(&user)?).await?,
    ))
}

/// Mail a new confirmation link (`user/staff/edit`).
#[utoipa::path(post, path = "/api/users/{user}/send-confirmation", tag = "users", params(("user" = String, Path, description = "id or email")),
    responses((status = 202, body = crate::dto::Message), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn send_confirmation(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Response, ApiError> {
    caller.require()?;
    let s = &state.0;
    let u =
        s.gh.send_confirmation(
            &caller.ctx,
            &user_ref(&user)?,
            s.mailer.as_ref(),
            &s.settings.base_url,
            &s.settings.lifetimes,
        )
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(crate::dto::Message {
            message: format!("a confirmation link was sent to {}", u.email),
        }),
    )
        .into_response())
}

/// Change the email address, the log in identity (`user/staff/edit`). `409` when another
/// account has it or one that looks like it. Sessions are kept.
#[utoipa::path(put, path = "/api/users/{user}/email", tag = "users", params(("user" = String, Path, description = "id or email")),
    request_body = EmailRequest, responses((status = 200, body = ChangedUser), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_email(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<EmailRequest>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    let email = Email::new(&req.email)?;
    Ok(changed(
        state
            .0
            .gh
            .set_email(&caller.ctx, &user_ref(&user)?, email)
            .await?,
    ))
}

/// Set the username (`user/staff/edit`). `409` when another account has it, in any case,
/// or one that looks like it.
#[utoipa::path(put, path = "/api/users/{user}/username", tag = "users", params(("user" = String, Path, description = "id or email")),
    request_body = UsernameRequest, responses((status = 200, body = ChangedUser), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_username(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<UsernameRequest>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    let name = Username::new(&req.username)?;
    Ok(changed(
        state
            .0
            .gh
            .set_username(&caller.ctx, &user_ref(&user)?, Some(name))
            .await?,
    ))
}

/// Remove the username; the user logs in with the email only (`user/staff/edit`).
#[utoipa::path(delete, path = "/api/users/{user}/username", tag = "users", params(("user" = String, Path, description = "id or email")),
    responses((status = 200, body = ChangedUser), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn clear_username(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    Ok(changed(
        state
            .0
            .gh
            .set_username(&caller.ctx, &user_ref(&user)?, None)
            .await?,
    ))
}

/// One action on many users, all or nothing (`user/staff/edit` on each): `activate`,
/// `deactivate` (their sessions and tokens end), `confirm`, `add-entry` or `remove-entry`
/// with `entry`. A user that does not exist or may not be changed fails the whole request,
/// naming that user; at most 500 users.
#[utoipa::path(post, path = "/api/users/bulk", tag = "users", request_body = BulkRequest,
    responses((status = 200, body = BulkResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn bulk(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BulkRequest>,
) -> Result<Json<BulkResponse>, ApiError> {
    caller.require()?;
    let entry = req
        .entry
        .as_deref()
        .map(|e| {
            e.parse::<Entry>()
                .map_err(|err| ApiError::invalid(format!("field `entry`: {err}")))
        })
        .transpose()?;
    let action = BulkAction::parse(&req.action, entry)?;
    let shown = action.to_string();
    let ids: Vec<UserId> = req.users.iter().map(|&id| UserId(id)).collect();
    let out = state.0.gh.bulk_users(&caller.ctx, &ids, action).await?;
    Ok(Json(BulkResponse {
        action: shown,
        changed: out.changed.iter().map(UserOut::from).collect(),
        unchanged: out.unchanged.iter().map(UserOut::from).collect(),
    }))
}

/// Set the user type (`user/staff/edit`).
#[utoipa::path(put, path = "/api/users/{user}/type", tag = "users", params(("user" = String, Path, description = "id or email")),
    request_body = TypeRequest, responses((status = 200, body = ChangedUser), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_type(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<TypeRequest>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    let ty = TypeName::new(&req.user_type)
        .map_err(|e| ApiError::invalid(format!("field `type`: {e}")))?;
    Ok(changed(
        state
            .0
            .gh
            .set_type(&caller.ctx, &user_ref(&user)?, ty)
            .await?,
    ))
}

/// Replace the user's own ordered entries (`user/staff/edit`).
#[utoipa::path(put, path = "/api/users/{user}/roles", tag = "users", params(("user" = String, Path, description = "id or email")),
    request_body = RolesRequest, responses((status = 200, body = ChangedUser), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_roles(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<RolesRequest>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    Ok(changed(
        state
            .0
            .gh
            .set_entries(&caller.ctx, &user_ref(&user)?, entries(&req.roles)?)
            .await?,
    ))
}

fn one_entry(req: &EntryRequest) -> Result<Entry, ApiError> {
    req.entry
        .parse::<Entry>()
        .map_err(|e| ApiError::invalid(format!("field `entry`: {e}")))
}

/// Append a role, `+privilege` or `-privilege` to the user's own list (`user/staff/edit`).
#[utoipa::path(post, path = "/api/users/{user}/entries", tag = "users", params(("user" = String, Path, description = "id or email")),
    request_body = EntryRequest, responses((status = 200, body = ChangedUser), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn add_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<EntryRequest>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    Ok(changed(
        state
            .0
            .gh
            .add_entry(&caller.ctx, &user_ref(&user)?, one_entry(&req)?)
            .await?,
    ))
}

/// Remove an entry from the user's own list (`user/staff/edit`).
#[utoipa::path(delete, path = "/api/users/{user}/entries", tag = "users", params(("user" = String, Path, description = "id or email")),
    request_body = EntryRequest, responses((status = 200, body = ChangedUser), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn remove_entry(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<EntryRequest>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    Ok(changed(
        state
            .0
            .gh
            .remove_entry(&caller.ctx, &user_ref(&user)?, one_entry(&req)?)
            .await?,
    ))
}

/// Replace the editorial scope (`user/staff/edit`).
#[utoipa::path(put, path = "/api/users/{user}/scope", tag = "users", params(("user" = String, Path, description = "id or email")),
    request_body = ScopeRequest, responses((status = 200, body = ChangedUser), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_scope(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<ScopeRequest>,
) -> Result<Json<ChangedUser>, ApiError> {
    caller.require()?;
    let filters = req
        .filters
        .iter()
        .enumerate()
        .map(|(i, f)| {
            f.parse::<ScopeFilter>()
                .map_err(|e| ApiError::invalid(format!("field `filters[{i}]`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(changed(
        state
            .0
            .gh
            .set_scope(&caller.ctx, &user_ref(&user)?, filters)
            .await?,
    ))
}

/// Set a password: one's own with `set-password` and the current password
/// (`current_password`), another's with `user/staff/edit`. Other sessions and tokens of the
/// user end.
#[utoipa::path(put, path = "/api/users/{user}/password", tag = "users", params(("user" = String, Path, description = "id or email")),
    request_body = PasswordRequest, responses((status = 200, body = PasswordChanged), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn set_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<Json<PasswordChanged>, ApiError> {
    caller.require()?;
    let policy = &state.0.gh.settings().password_policy;
    let (password, shown) = match (req.password, req.random) {
        (Some(p), false) => (Password::new(&p, policy)?, None),
        (None, true) => {
            let p = Password::random();
            let shown = p.expose().to_owned();
            (p, Some(shown))
        }
        _ => {
            return Err(ApiError::invalid(
                "give exactly one of `password` and `random: true`",
            ))
        }
    };
    let u = state
        .0
        .gh
        .set_password(
            &caller.ctx,
            &user_ref(&user)?,
            password,
            req.current_password.as_deref(),
        )
        .await?;
    Ok(Json(PasswordChanged {
        user: UserOut::from(&u),
        generated_password: shown,
    }))
}

/// The user's effective privileges with sources (`user/view`, or `user/view:owner`).
#[utoipa::path(get, path = "/api/users/{user}/privileges", tag = "users", params(("user" = String, Path, description = "id or email")),
    responses((status = 200, body = PrivilegesOut), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn privileges(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
) -> Result<Json<PrivilegesOut>, ApiError> {
    caller.require()?;
    Ok(Json(
        state
            .0
            .gh
            .privileges(&caller.ctx, &user_ref(&user)?)
            .await?
            .into(),
    ))
}
