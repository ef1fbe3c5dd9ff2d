//! `/api/check`, `/api/explain`, `/api/check/batch`, roles, grants, service tokens and history.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use gatehouse_core::{Actor, GrantTo, HistoryFilter, RoleOutcome, UserRef};
use gatehouse_policy::{Effect, Item, Privilege, RoleEntry, RoleName, SystemRole};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::{
    BatchRequest, BatchResponse, BatchResult, Changed, CheckRequest, CheckResponse,
    CreateRoleRequest, ExplainResponse, GrantOut, GrantRequest, HistoryOut, RemoveGrantRequest,
    RoleCreated, RoleOut, TargetIn, TokenOut, TokenRequest,
};
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody, ErrorDetail};
use crate::{AppState, Caller};

/// The most checks one batch may hold.
pub const MAX_BATCH: usize = 1000;

type CheckArgs = (Option<UserRef>, Privilege, Option<Item>);

fn check_args(caller: &Caller, req: CheckRequest) -> Result<CheckArgs, ApiError> {
    let privilege = Privilege::new(&req.privilege)
        .map_err(|e| ApiError::invalid(format!("field `privilege`: {e}")))?;
    let subject = match (&req.user, req.anonymous, &caller.ctx.actor) {
        (Some(_), true, _) => {
            return Err(ApiError::invalid(
                "give `user` or `anonymous: true`, not both",
            ))
        }
        (Some(u), false, _) => Some(u.to_ref()?),
        (None, true, _) => None,
        (None, false, Actor::User(me)) => Some(UserRef::Id(*me)),
        (None, false, _) => None,
    };
    Ok((subject, privilege, req.item.map(Item::from)))
}

/// Decide a privilege: the EPrints bitmask (1 public, 2 user, 4 owner, 8 editor) and the
/// reasons. A user may ask about themselves; asking about another user needs `check/any`.
#[utoipa::path(post, path = "/api/check", tag = "check", request_body = CheckRequest,
    responses((status = 200, body = CheckResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn check(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CheckRequest>,
) -> Result<Json<CheckResponse>, ApiError> {
    let (subject, privilege, item) = check_args(&caller, req)?;
    let d = state
        .0
        .gh
        .check(&caller.ctx, subject.as_ref(), &privilege, item.as_ref())
        .await?;
    state.0.metrics.check(d.allowed);
    Ok(Json(d.into()))
}

/// Explain a decision for people: the answer `/api/check` gives, each set bit in words, and
/// every step of the walk that touched the privilege (type and own entries, `-p` removals,
/// grants, denies, public, `superuser-access`). Authorized as `/api/check`. Unlike a check,
/// an item status its dataset does not have is refused (422, naming the valid statuses).
#[utoipa::path(post, path = "/api/explain", tag = "check", request_body = CheckRequest,
    responses((status = 200, body = ExplainResponse), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn explain(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CheckRequest>,
) -> Result<Json<ExplainResponse>, ApiError> {
    let (subject, privilege, item) = check_args(&caller, req)?;
    let e = state
        .0
        .gh
        .explain(&caller.ctx, subject.as_ref(), &privilege, item.as_ref())
        .await?;
    Ok(Json(e.into()))
}

/// Many checks at once (up to 1000), answered in order; one bad check does not fail the rest.
#[utoipa::path(post, path = "/api/check/batch", tag = "check", request_body = BatchRequest,
    responses((status = 200, body = BatchResponse), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    if req.checks.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "field `checks`: {} checks; send at most {MAX_BATCH} per batch",
            req.checks.len()
        )));
    }
    let mut parsed = Vec::with_capacity(req.checks.len());
    let mut early: Vec<Option<ApiError>> = Vec::with_capacity(req.checks.len());
    for c in req.checks {
        match check_args(&caller, c) {
            Ok(a) => {
                parsed.push(a);
                early.push(None);
            }
            Err(e) => early.push(Some(e)),
        }
    }
    let mut answers = state
        .0
        .gh
        .check_many(&caller.ctx, &parsed)
        .await?
        .into_iter();
    let results = early
        .into_iter()
        .map(|e| match e {
            Some(err) => error_result(err),
            None => match answers.next() {
                Some(Ok(d)) => {
                    state.0.metrics.check(d.allowed);
                    BatchResult::Decision(d.into())
                }
                Some(Err(e)) => error_result(e.into()),
                None => error_result(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "missing answer",
                )),
            },
        })
        .collect();
    Ok(Json(BatchResponse { results }))
}

fn error_result(e: ApiError) -> BatchResult {
    BatchResult::Error(ErrorBody {
        error: ErrorDetail {
            code: e.code.to_owned(),
            message: e.message,
        },
    })
}

/// Every role: built in, from user_roles.yaml, created at run time (`config/view`).
#[utoipa::path(get, path = "/api/roles", tag = "roles", responses((status = 200, body = [RoleOut]), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn roles(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<RoleOut>>, ApiError> {
    caller.require()?;
    Ok(Json(
        state
            .0
            .gh
            .list_roles(&caller.ctx)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One role (`config/view`).
#[utoipa::path(get, path = "/api/roles/{name}", tag = "roles", params(("name" = String, Path, description = "role name")),
    responses((status = 200, body = RoleOut), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn role(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<RoleOut>, ApiError> {
    caller.require()?;
    let name = RoleName::new(&name).map_err(|e| ApiError::invalid(e.to_string()))?;
    Ok(Json(state.0.gh.show_role(&caller.ctx, &name).await?.into()))
}

/// Create a run-time role; an existing role is left as it is (`config/edit`).
#[utoipa::path(post, path = "/api/roles", tag = "roles", request_body = CreateRoleRequest,
    responses((status = 201, body = RoleCreated), (status = 200, description = "existed or updated", body = RoleCreated), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateRoleRequest>,
) -> Result<Response, ApiError> {
    caller.require()?;
    let name =
        RoleName::new(&req.name).map_err(|e| ApiError::invalid(format!("field `name`: {e}")))?;
    let entries = req
        .privileges
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.parse::<RoleEntry>()
                .map_err(|e| ApiError::invalid(format!("field `privileges[{i}]`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let gh = &state.0.gh;
    let outcome = gh
        .create_role(&caller.ctx, name.clone(), req.description, entries)
        .await?;
    let role = gh.show_role(&caller.ctx, &name).await?;
    let (status, word) = match outcome {
        RoleOutcome::Created => (StatusCode::CREATED, "created"),
        RoleOutcome::Updated => (StatusCode::OK, "updated"),
        RoleOutcome::Exists { .. } => (StatusCode::OK, "exists"),
    };
    Ok((
        status,
        Json(RoleCreated {
            outcome: word.into(),
            role: role.into(),
        }),
    )
        .into_response())
}

fn target(t: &TargetIn) -> Result<GrantTo, ApiError> {
    let bad = |m: String| ApiError::invalid(format!("field `target.name`: {m}"));
    Ok(match t.kind.as_str() {
        "user" => GrantTo::User(t.name.parse::<UserRef>().map_err(|e| bad(e.to_string()))?),
        "role" => GrantTo::Role(RoleName::new(&t.name).map_err(|e| bad(e.to_string()))?),
        "system_role" => GrantTo::System(
            t.name
                .parse::<SystemRole>()
                .map_err(|e| bad(e.to_string()))?,
        ),
        other => {
            return Err(ApiError::invalid(format!(
                "field `target.kind`: `{other}` is not one of `user`, `role`, `system_role`"
            )))
        }
    })
}

/// Filters for `GET /api/grants`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GrantQuery {
    /// Only this user's grants (id or email).
    user: Option<String>,
    /// Only this role's grants.
    role: Option<String>,
}

/// List grants (`config/view`).
#[utoipa::path(get, path = "/api/grants", tag = "grants", params(GrantQuery),
    responses((status = 200, body = [GrantOut]), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn grants(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<GrantQuery>,
) -> Result<Json<Vec<GrantOut>>, ApiError> {
    caller.require()?;
    let to = match (q.user, q.role) {
        (Some(u), None) => Some(target(&TargetIn {
            kind: "user".into(),
            name: u,
        })?),
        (None, Some(r)) => Some(target(&TargetIn {
            kind: "role".into(),
            name: r,
        })?),
        (None, None) => None,
        (Some(_), Some(_)) => return Err(ApiError::invalid("give `user` or `role`, not both")),
    };
    Ok(Json(
        state
            .0
            .gh
            .list_grants(&caller.ctx, to.as_ref())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Allow or deny a privilege to a user, role or system role (`config/edit`).
#[utoipa::path(post, path = "/api/grants", tag = "grants", request_body = GrantRequest,
    responses((status = 200, body = Changed), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn grant(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<GrantRequest>,
) -> Result<Json<Changed>, ApiError> {
    caller.require()?;
    let effect = match req.effect.as_str() {
        "allow" => Effect::Allow,
        "deny" => Effect::Deny,
        other => {
            return Err(ApiError::invalid(format!(
                "field `effect`: `{other}` is not `allow` or `deny`"
            )))
        }
    };
    let privilege = Privilege::new(&req.privilege)
        .map_err(|e| ApiError::invalid(format!("field `privilege`: {e}")))?;
    let c = state
        .0
        .gh
        .grant(&caller.ctx, effect, privilege, &target(&req.target)?)
        .await?;
    Ok(Json(Changed {
        changed: c.changed(),
    }))
}

/// Remove the allow and the deny of a privilege for a target (`config/edit`).
#[utoipa::path(delete, path = "/api/grants", tag = "grants", request_body = RemoveGrantRequest,
    responses((status = 200, body = Changed), (status = 422, body = ErrorBody)), security(("bearer" = [])))]
pub async fn remove_grant(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RemoveGrantRequest>,
) -> Result<Json<Changed>, ApiError> {
    caller.require()?;
    let privilege = Privilege::new(&req.privilege)
        .map_err(|e| ApiError::invalid(format!("field `privilege`: {e}")))?;
    let c = state
        .0
        .gh
        .remove_grant(&caller.ctx, privilege, &target(&req.target)?)
        .await?;
    Ok(Json(Changed {
        changed: c.changed(),
    }))
}

/// List service tokens, never the tokens themselves (`config/view`).
#[utoipa::path(get, path = "/api/tokens", tag = "tokens", responses((status = 200, body = [TokenOut])), security(("bearer" = [])))]
pub async fn tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenOut>>, ApiError> {
    caller.require()?;
    Ok(Json(
        state
            .0
            .gh
            .list_service_tokens(&caller.ctx)
            .await?
            .iter()
            .map(TokenOut::from)
            .collect(),
    ))
}

/// Create a service token; the token is in this answer only (`config/edit`).
#[utoipa::path(post, path = "/api/tokens", tag = "tokens", request_body = TokenRequest,
    responses((status = 201, body = TokenOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Response, ApiError> {
    caller.require()?;
    let privileges = req
        .privileges
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Privilege::new(p)
                .map_err(|e| ApiError::invalid(format!("field `privileges[{i}]`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let t = state
        .0
        .gh
        .create_service_token(&caller.ctx, &req.name, privileges)
        .await?;
    let mut out = TokenOut::from(&t.credential);
    out.token = Some(t.token);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// Revoke a service token (`config/edit`).
#[utoipa::path(delete, path = "/api/tokens/{name}", tag = "tokens", params(("name" = String, Path, description = "token name")),
    responses((status = 204, description = "revoked"), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require()?;
    state.0.gh.revoke_service_token(&caller.ctx, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Filters for `GET /api/history`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Only changes about this user (id or email).
    user: Option<String>,
    /// Only changes at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Only changes before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// Only changes whose actor contains this text (ASCII case ignored).
    actor: Option<String>,
    /// Only changes whose target contains this text (ASCII case ignored).
    target: Option<String>,
    /// Only changes of exactly this action, e.g. `user.create`.
    action: Option<String>,
    /// Skip this many of the newest matches.
    #[serde(default)]
    offset: u64,
    /// At most this many, the newest (default 100, at most 1000).
    limit: Option<u64>,
    /// The page newest first (default: oldest first).
    #[serde(default)]
    newest_first: bool,
}

/// Who changed what, when, through which channel (`staff/history_search`, or one's own
/// with `user/history:owner`).
#[utoipa::path(get, path = "/api/history", tag = "history", params(HistoryQuery),
    responses((status = 200, body = [HistoryOut], headers(("X-Total-Count" = u64, description = "how many events match, for page numbers"))),
        (status = 403, body = ErrorBody)), security(("bearer" = [])))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Response, ApiError> {
    caller.require()?;
    let who = q.user.as_deref().map(str::parse::<UserRef>).transpose()?;
    let page = state
        .0
        .gh
        .history_page(
            &caller.ctx,
            who.as_ref(),
            HistoryFilter {
                user_id: None,
                since: q.since,
                until: q.until,
                actor: q.actor,
                target: q.target,
                action: q.action,
                offset: q.offset,
                limit: q.limit.unwrap_or(100).clamp(1, 1000),
                newest_first: q.newest_first,
            },
        )
        .await?;
    let events: Vec<HistoryOut> = page.items.into_iter().map(Into::into).collect();
    Ok((
        [(
            axum::http::HeaderName::from_static("x-total-count"),
            page.total.to_string(),
        )],
        Json(events),
    )
        .into_response())
}
