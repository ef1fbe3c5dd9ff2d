//! The OpenAPI 3.1 document, generated from the handlers' annotations and the DTO types.
//! A committed copy lives in `docs/openapi.json`; a test fails when they drift.

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{
    api_access, api_clients, api_platform, api_session, api_users, dto, error, oidc_api, oidc_pages,
};

#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        // Every operation that takes a token answers 401 to a token that is not valid
        // (expired, logged out, revoked) and, where it needs someone, to no token at all.
        let unauthorized = utoipa::openapi::ResponseBuilder::new()
            .description("no valid token or session: log in, or send a valid bearer token")
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        // Every error has the one shape; statuses beside those each operation names (400 bad
        // JSON, 404, 413 too large, 415 not JSON, 422 meaning, 429 throttled, 503 timeout or
        // database down) are covered by `default`.
        let any_error = utoipa::openapi::ResponseBuilder::new()
            .description(
                "any other error, in the one error shape; the statuses and codes are in \
                 docs/api.md",
            )
            .content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                if op.security.is_some() && !op.responses.responses.contains_key("401") {
                    op.responses
                        .responses
                        .insert("401".into(), unauthorized.clone().into());
                }
                op.responses
                    .responses
                    .entry("default".into())
                    .or_insert_with(|| any_error.clone().into());
            }
        }
    }
}

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gatehouse",
        description = "Accounts, roles and privileges for research repositories. Ask `POST /api/check` whether a user may do something to an item; manage users, roles and grants. Errors are always `{\"error\": {\"code\", \"message\"}}`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    paths(
        api_session::login, api_session::logout, api_session::me, api_session::confirm,
        api_session::forgot, api_session::reset, api_session::healthz, api_session::readyz,
        api_access::check, api_access::explain, api_access::batch, api_access::roles, api_access::role, api_access::create_role,
        api_access::grants, api_access::grant, api_access::remove_grant, api_access::tokens,
        api_access::create_token, api_access::revoke_token, api_access::history,
        api_users::list, api_users::create, api_users::show, api_users::profile, api_users::delete,
        api_users::activate, api_users::deactivate, api_users::confirm, api_users::send_confirmation,
        api_users::bulk, api_users::set_email, api_users::set_username, api_users::clear_username,
        api_users::set_type, api_users::set_roles, api_users::add_entry, api_users::remove_entry,
        api_users::set_scope, api_users::set_password, api_users::privileges,
        api_platform::effective, api_platform::who_can, api_platform::filter,
        api_platform::az_evaluation, api_platform::az_evaluations, api_platform::az_configuration,
        api_clients::list, api_clients::create, api_clients::show, api_clients::revoke,
        api_clients::rotate_secret, api_clients::forget_consent, api_clients::keys, api_clients::rotate_keys,
        oidc_api::discovery, oidc_api::jwks, oidc_api::token, oidc_api::userinfo,
        oidc_api::revoke, oidc_api::introspect, oidc_pages::authorize, oidc_pages::logout,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail, oidc_api::OAuthErrorBody, dto::UserOut, dto::CheckResponse, dto::ReasonOut)),
    tags(
        (name = "session", description = "log in, log out, confirmation and reset links"),
        (name = "check", description = "deciding privileges"),
        (name = "users", description = "accounts"),
        (name = "roles", description = "roles"),
        (name = "grants", description = "allow and deny grants"),
        (name = "tokens", description = "service tokens for repository applications"),
        (name = "history", description = "who changed what"),
        (name = "platform", description = "what repository platforms ask: effective sets, who may act, list filters"),
        (name = "authzen", description = "OpenID AuthZEN Authorization API 1.0"),
        (name = "operations", description = "health and readiness"),
        (name = "clients", description = "OpenID Connect clients and signing keys"),
        (name = "oidc", description = "the OpenID Connect provider: discovery, keys, authorization, tokens, userinfo, revocation, introspection, logout (errors are RFC 6749 `{\"error\", \"error_description\"}`)"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The document as pretty JSON (what `docs/openapi.json` holds).
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// `GET /api/openapi.json`.
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
