//! The questions platforms ask: `GET /api/users/{user}/effective` (with `ETag` and `304`),
//! `POST /api/who-can`, `POST /api/filter`, and the AuthZEN 1.0 binding
//! (`/access/v1/evaluation`, `/access/v1/evaluations`, `/.well-known/authzen-configuration`).
//! Every answer comes from the core's one decision (`docs/api.md`).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use gatehouse_core::{Expand, UserRef};
use gatehouse_policy::{Item, Owner, Privilege, UserId};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::{CheckResponse, OwnerIn};
use crate::dto_platform::{
    AzBatchOut, AzConfiguration, AzContext, AzDecision, AzError, AzEvaluation, AzEvaluations,
    AzPartial, AzResource, AzSubject, EffectiveOut, FilterOut, FilterRequest, WhoCanOut,
    WhoCanRequest,
};
use crate::error::{ApiError, ApiJson, ApiQuery, ErrorBody};
use crate::{AppState, Caller};

fn privilege(text: &str, field: &str) -> Result<Privilege, ApiError> {
    Privilege::new(text).map_err(|e| ApiError::invalid(format!("field `{field}`: {e}")))
}

/// Whether `If-None-Match` names `tag` (or is `*`).
fn none_match(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == tag)
}

fn with_etag(mut resp: Response, tag: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(tag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    resp
}

/// A user's effective set, for a platform's identity: type, entries, roles held, privilege
/// strings, denies, editorial scope, superuser, and a `generation` (also the `ETag`). Send
/// it back in `If-None-Match` to get `304` while nothing changed. A user may read their own;
/// reading another's needs `check/any`.
#[utoipa::path(get, path = "/api/users/{user}/effective", tag = "platform",
    params(("user" = String, Path, description = "id or email"),
        ("If-None-Match" = Option<String>, Header, description = "the `ETag` of a copy held")),
    responses((status = 200, body = EffectiveOut, headers(("ETag" = String, description = "the generation, quoted"))),
        (status = 304, description = "the copy held is current"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn effective(
    State(state): State<AppState>,
    caller: Caller,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    caller.require()?;
    let who: UserRef = user.parse()?;
    let gh = &state.0.gh;
    if headers.contains_key(header::IF_NONE_MATCH) {
        let generation = gh.effective_generation(&caller.ctx, &who).await?;
        let tag = format!("\"{generation}\"");
        if none_match(&headers, &tag) {
            return Ok(with_etag(StatusCode::NOT_MODIFIED.into_response(), &tag));
        }
    }
    let view = gh.effective(&caller.ctx, &who).await?;
    let tag = format!("\"{}\"", view.generation);
    Ok(with_etag(
        Json(EffectiveOut::from(view)).into_response(),
        &tag,
    ))
}

/// Paging of `expand=users`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WhoCanQuery {
    /// `users`: also list the admitted users, by id, paged.
    expand: Option<String>,
    /// With `expand=users`: only users after this id (the previous page's `next`).
    after: Option<i64>,
    /// With `expand=users`: at most this many users (1 to 1000, default 100).
    limit: Option<u64>,
}

/// Who may exercise a privilege (on an item): what each user type holds, the roles and
/// system roles that give it, the owner and editor conditions, the excludes, and the users
/// whose own entries or grants differ from their type. Agrees with `/api/check` for every
/// user. Needs `check/any`.
#[utoipa::path(post, path = "/api/who-can", tag = "platform", request_body = WhoCanRequest, params(WhoCanQuery),
    responses((status = 200, body = WhoCanOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn who_can(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<WhoCanQuery>,
    ApiJson(req): ApiJson<WhoCanRequest>,
) -> Result<Json<WhoCanOut>, ApiError> {
    caller.require()?;
    let expand = match q.expand.as_deref() {
        None => {
            if q.after.is_some() || q.limit.is_some() {
                return Err(ApiError::invalid(
                    "`after` and `limit` page the users of `expand=users`; add `expand=users`",
                ));
            }
            None
        }
        Some("users") => Some(Expand {
            after: q.after.unwrap_or(0),
            limit: match q.limit.unwrap_or(100) {
                n @ 1..=1000 => n,
                n => return Err(ApiError::invalid(format!("`limit` {n}: give 1 to 1000"))),
            },
        }),
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "`expand={other}`: the only expansion is `expand=users`"
            )))
        }
    };
    let p = privilege(&req.privilege, "privilege")?;
    let item = req.item.map(Item::from);
    let view = state
        .0
        .gh
        .who_can(&caller.ctx, &p, item.as_ref(), expand)
        .await?;
    Ok(Json(view.into()))
}

/// Which items of a dataset a user may exercise a privilege on, as conditions a search
/// index can apply: `all`, `none`, or conditions on status, owner and editorial scope, each
/// tagged with the bit it sets. An item matches exactly when `/api/check` allows it. A user
/// may ask for their own list; another user's needs `check/any`.
#[utoipa::path(post, path = "/api/filter", tag = "platform", request_body = FilterRequest,
    responses((status = 200, body = FilterOut), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn filter(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<FilterRequest>,
) -> Result<Json<FilterOut>, ApiError> {
    caller.require()?;
    let p = privilege(&req.privilege, "privilege")?;
    let subject = match (&req.user, req.anonymous, &caller.ctx.actor) {
        (Some(_), true, _) => {
            return Err(ApiError::invalid(
                "give `user` or `anonymous: true`, not both",
            ))
        }
        (Some(u), false, _) => Some(u.to_ref()?),
        (None, true, _) => None,
        (None, false, gatehouse_core::Actor::User(me)) => Some(UserRef::Id(*me)),
        (None, false, _) => None,
    };
    let f = state
        .0
        .gh
        .list_filter(&caller.ctx, subject.as_ref(), &p, req.dataset.as_deref())
        .await?;
    Ok(Json(f.into()))
}

// --- AuthZEN 1.0 --------------------------------------------------------------------------

/// Reads an AuthZEN body: a missing or mistyped attribute is a `400` (AuthZEN 1.0, 12.1.7);
/// unknown fields are ignored.
fn az_body<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(value)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string()))
}

/// A `401` with `WWW-Authenticate`, as AuthZEN asks of a PDP.
fn az_unauthorized(state: &AppState) -> Response {
    let mut resp = ApiError::unauthorized().into_response();
    let realm = format!("Bearer realm=\"{}\"", state.0.settings.base_url);
    if let Ok(v) = HeaderValue::from_str(&realm) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// Echoes the PEP's `X-Request-ID` (AuthZEN 1.0, 12.1.8).
fn echo_request_id(headers: &HeaderMap, mut resp: Response) -> Response {
    if let Some(id) = headers.get("x-request-id") {
        resp.headers_mut().insert("x-request-id", id.clone());
    }
    resp
}

type CheckArgs = (Option<UserRef>, Privilege, Option<Item>);

/// One evaluation as a check, or why it cannot be one (an element error).
fn az_check(
    subject: &AzSubject,
    action: &crate::dto_platform::AzAction,
    resource: &AzResource,
) -> Result<CheckArgs, ApiError> {
    let who = match subject.kind.as_str() {
        "user" => Some(subject.id.parse::<UserRef>()?),
        "anonymous" => None,
        other => {
            return Err(ApiError::invalid(format!(
                "subject type `{other}`: Gatehouse knows `user` (id: an email or user id) and \
                 `anonymous`"
            )))
        }
    };
    let p = privilege(&action.name, "action.name")?;
    let item = if resource.kind == "gatehouse" {
        None
    } else {
        let props = resource.properties.clone().unwrap_or_default();
        Some(Item {
            dataset: resource.kind.clone(),
            status: props.status,
            owners: props
                .owners
                .into_iter()
                .map(|o| match o {
                    OwnerIn::Id(n) => Owner::Id(UserId(n)),
                    OwnerIn::Email(e) => Owner::Email(e),
                })
                .collect(),
            fields: props.fields,
        })
    };
    Ok((who, p, item))
}

fn az_decision(answer: Result<gatehouse_policy::Decision, ApiError>) -> AzDecision {
    match answer {
        Ok(d) => {
            let out = CheckResponse::from(d);
            AzDecision {
                decision: out.allowed,
                context: AzContext {
                    mask: Some(out.mask),
                    reasons: out.reasons,
                    error: None,
                    reason: None,
                },
            }
        }
        Err(e) => AzDecision {
            decision: false,
            context: AzContext {
                mask: None,
                reasons: Vec::new(),
                error: Some(AzError {
                    status: e.status.as_u16(),
                    code: e.code.to_owned(),
                    message: e.message,
                }),
                reason: None,
            },
        },
    }
}

/// Runs the checks against one snapshot; each answer in order, element errors in place.
async fn az_run(
    state: &AppState,
    caller: &Caller,
    elements: Vec<Result<CheckArgs, ApiError>>,
) -> Result<Vec<AzDecision>, ApiError> {
    let checks: Vec<CheckArgs> = elements
        .iter()
        .filter_map(|e| e.as_ref().ok().cloned())
        .collect();
    let mut answers = state
        .0
        .gh
        .check_many(&caller.ctx, &checks)
        .await?
        .into_iter();
    Ok(elements
        .into_iter()
        .map(|e| match e {
            Err(err) => az_decision(Err(err)),
            Ok(_) => match answers.next() {
                Some(r) => {
                    if let Ok(d) = &r {
                        state.0.metrics.check(d.allowed);
                    }
                    az_decision(r.map_err(ApiError::from))
                }
                None => az_decision(Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "missing answer",
                ))),
            },
        })
        .collect())
}

/// AuthZEN 1.0 Access Evaluation: `subject` (`user` by email or id, or `anonymous`),
/// `action.name` (the privilege), `resource` (`type` the dataset, `properties` the item's
/// `status`, `owners` and `fields`; `gatehouse` for no item). The decision is `/api/check`'s
/// `allowed`; its `context` holds the mask and reasons. A deny is `200` with `false`.
#[utoipa::path(post, path = "/access/v1/evaluation", tag = "authzen", request_body = AzEvaluation,
    responses((status = 200, body = AzDecision), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn az_evaluation(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Response {
    if caller.require().is_err() {
        return echo_request_id(&headers, az_unauthorized(&state));
    }
    let resp = async {
        let req: AzEvaluation = az_body(body)?;
        let element = az_check(&req.subject, &req.action, &req.resource);
        let mut out = az_run(&state, &caller, vec![element]).await?;
        // The PEP may not ask this (about another user without `check/any`): a 403 for the
        // whole request, as AuthZEN's error table has it.
        if let Some(AzError {
            status: 403,
            message,
            ..
        }) = out.last().and_then(|d| d.context.error.as_ref())
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                message.clone(),
            ));
        }
        out.pop().ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "missing answer",
            )
        })
    }
    .await
    .map_or_else(IntoResponse::into_response, |d| Json(d).into_response());
    echo_request_id(&headers, resp)
}

/// The most evaluations one batch may hold.
const MAX_EVALUATIONS: usize = 1000;

/// AuthZEN 1.0 Access Evaluations: top-level `subject`, `action`, `resource` are defaults
/// that an element's own key replaces; `options.evaluations_semantic` is `execute_all`
/// (default), `deny_on_first_deny` or `permit_on_first_permit`. Answers `{"evaluations":
/// [...]}` in order (up to 1,000); without `evaluations`, one decision.
#[utoipa::path(post, path = "/access/v1/evaluations", tag = "authzen", request_body = AzEvaluations,
    responses((status = 200, body = AzBatchOut), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn az_evaluations(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Response {
    if caller.require().is_err() {
        return echo_request_id(&headers, az_unauthorized(&state));
    }
    let resp = async {
        let req: AzEvaluations = az_body(body)?;
        let semantic = req
            .options
            .as_ref()
            .and_then(|o| o.evaluations_semantic.as_deref())
            .unwrap_or("execute_all");
        let stop_on = match semantic {
            "execute_all" => None,
            "deny_on_first_deny" => Some(false),
            "permit_on_first_permit" => Some(true),
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!(
                        "options.evaluations_semantic `{other}`: give `execute_all`, \
                         `deny_on_first_deny` or `permit_on_first_permit`"
                    ),
                ))
            }
        };
        let list = req.evaluations.clone().unwrap_or_default();
        if list.len() > MAX_EVALUATIONS {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!(
                    "{} evaluations; send at most {MAX_EVALUATIONS} per request",
                    list.len()
                ),
            ));
        }
        let single = list.is_empty();
        let list = if single {
            vec![AzPartial::default()]
        } else {
            list
        };
        let mut elements = Vec::with_capacity(list.len());
        for (i, e) in list.into_iter().enumerate() {
            let missing = |key: &str| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!(
                        "evaluations[{i}] has no `{key}` and the request gives no default `{key}`"
                    ),
                )
            };
            let subject = e
                .subject
                .or(req.subject.clone())
                .ok_or(missing("subject"))?;
            let action = e.action.or(req.action.clone()).ok_or(missing("action"))?;
            let resource = e
                .resource
                .or(req.resource.clone())
                .ok_or(missing("resource"))?;
            elements.push(az_check(&subject, &action, &resource));
        }
        let mut out = az_run(&state, &caller, elements).await?;
        if single {
            return out.pop().map(AzBatchOut::One).ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "missing answer",
                )
            });
        }
        if let Some(stop) = stop_on {
            if let Some(at) = out.iter().position(|d| d.decision == stop) {
                out.truncate(at + 1);
                if let Some(last) = out.last_mut() {
                    last.context.reason = Some(semantic.to_owned());
                }
            }
        }
        Ok(AzBatchOut::Many { evaluations: out })
    }
    .await
    .map_or_else(IntoResponse::into_response, |d| Json(d).into_response());
    echo_request_id(&headers, resp)
}

/// AuthZEN 1.0 metadata: where the evaluation endpoints are, from `server.base_url`.
#[utoipa::path(get, path = "/.well-known/authzen-configuration", tag = "authzen",
    responses((status = 200, body = AzConfiguration)))]
pub async fn az_configuration(State(state): State<AppState>) -> Json<AzConfiguration> {
    let base = state.0.settings.base_url.trim_end_matches('/').to_owned();
    Json(AzConfiguration {
        access_evaluation_endpoint: format!("{base}/access/v1/evaluation"),
        access_evaluations_endpoint: format!("{base}/access/v1/evaluations"),
        policy_decision_point: base,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(none_match(&h, "\"a\""));
        assert!(none_match(&h, "\"b\""));
        assert!(!none_match(&h, "\"c\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(none_match(&h, "\"c\""));
    }
}
