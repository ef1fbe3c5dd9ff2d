//! Service tokens (`gatehouse tokens`): the list, creating one (the token shown once, on the
//! page that answers the form) and revoking one. The same services as the CLI and the API
//! (`config/edit` to change; reading also with `administration-access`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::CoreError;
use gatehouse_policy::Privilege;
use maud::html;

use super::layout::{button_form, card, csrf_field, needs, pct, when, FormView, Input, Posted};
use super::{changed, error_page, refused, Admin, AdminForm, Fields, Refused};
use crate::AppState;

/// `GET /admin/tokens`.
pub async fn list(admin: Admin, State(state): State<AppState>) -> Response {
    list_page(&admin, &state, None).await
}

async fn list_page(admin: &Admin, state: &AppState, posted: Option<&Posted>) -> Response {
    let chrome = admin.chrome("tokens");
    let tokens = match state.0.gh.list_service_tokens(admin.ctx()).await {
        Ok(t) => t,
        Err(e) => return error_page(&chrome, e),
    };
    let lacks = admin.lacks("config/edit").await;
    let f = FormView::new("create", posted);
    let fields = html! {
        (f.input(Input::text("name", "Name").required().max(80).pattern("[A-Za-z0-9_.\\-]{1,80}")
            .hint("1 to 80 letters, digits, -, _ or .; e.g. the repository it is for.")))
        (f.input(Input::area("privileges", "Privileges it holds, one per line", 4)
            .hint("A repository application that asks about its users needs check/any.")))
    };
    let form = html! {
        form method="post" action="/admin/tokens" {
            fieldset disabled[lacks.is_some()] {
                legend.sr-only { "New service token" }
                @if let Some(p) = lacks { (needs(p)) }
                (csrf_field(&admin.csrf)) (f.summary()) (fields)
                p { button type="submit" { "Create token" } }
            }
        }
    };
    let body = html! {
        p.hint { "Service tokens let a repository application call the API (for example to ask who may act). They are stored hashed: a token is shown once, when it is made." }
        (card("new", "Create a service token", &chrome, form))
        div.table-wrap {
            table.stack {
                caption.sr-only { "Service tokens" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Privileges" } th scope="col" { "Created" }
                    th scope="col" { span.sr-only { "Actions" } }
                } }
                tbody {
                    @for t in &tokens {
                        @let name = t.name.clone().unwrap_or_default();
                        tr {
                            td data-label="Name" { (name) }
                            td data-label="Privileges" { @for p in &t.privileges { code { (p.as_str()) } " " } }
                            td data-label="Created" { (when(&t.created)) }
                            td data-label="Actions" {
                                (button_form(&admin.csrf, &format!("/admin/tokens/{}/revoke", pct(&name)), &[], &format!("Revoke {name}"), "small danger", lacks))
                            }
                        }
                    }
                    @if tokens.is_empty() { tr { td colspan="4" { "No service tokens." } } }
                }
            }
        }
    };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "tokens", "Service tokens", body)
}

fn privileges(fields: &Fields) -> Result<Vec<Privilege>, CoreError> {
    fields
        .raw("privileges")
        .split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            Privilege::new(l)
                .map_err(|e| CoreError::invalid("privileges", super::plain(&e.to_string())))
        })
        .collect()
}

/// `POST /admin/tokens`: creates a token and shows it once.
pub async fn create(State(state): State<AppState>, form: AdminForm) -> Response {
    let AdminForm { admin, fields } = form;
    let result = async {
        let privileges = privileges(&fields)?;
        state
            .0
            .gh
            .create_service_token(admin.ctx(), fields.get("name"), privileges)
            .await
    }
    .await;
    match result {
        Ok(t) => {
            let body = html! {
                div.notice.ok role="status" id="notice" tabindex="-1" autofocus {
                    "service token " (t.credential.name.as_deref().unwrap_or("")) " created"
                }
                div.card {
                    p { "The token, shown this once (it is stored hashed and cannot be shown again):" }
                    p { output.secret id="service-token" { (t.token) } }
                    p { "Give it to the application as a bearer token: " code { "Authorization: Bearer …" } "." }
                }
                p { a href="/admin/tokens" { "Back to the service tokens" } }
            };
            admin.page("tokens", "Service token created", body)
        }
        Err(e) => match refused(&admin, "create", fields, e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => list_page(&admin, &state, Some(&posted)).await,
        },
    }
}

/// `POST /admin/tokens/{name}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Path(name): Path<String>,
    form: AdminForm,
) -> Response {
    let admin = form.admin;
    match state.0.gh.revoke_service_token(admin.ctx(), &name).await {
        Ok(()) => changed(
            "/admin/tokens",
            Some("new"),
            format!("service token {name} revoked; it no longer works"),
        ),
        Err(e) => error_page(&admin.chrome("tokens"), e),
    }
}
