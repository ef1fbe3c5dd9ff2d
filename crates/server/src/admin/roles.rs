//! Roles: the list (built in, file and run time, with where each comes from), creating a
//! run-time role, and a role's page (run-time roles editable, the others read-only), with
//! who holds it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::text::ROLE_DESCRIPTION_MAX;
use gatehouse_core::{CoreError, RoleOutcome};
use gatehouse_policy::RoleListing;
use gatehouse_policy::{RoleEntry, RoleName};
use maud::{html, Markup};

use super::layout::{card, csrf_field, needs, pct, FormView, Input, Posted};
use super::{changed, error_page, refused, Admin, AdminForm, Fields, Refused};
use crate::AppState;

/// The role-name rule as a pattern valid under Chrome's `v` flag (a `-` in a class escaped).
pub(crate) const ROLE_PATTERN: &str = "[A-Za-z][A-Za-z0-9_\\-]{0,79}";
/// Characters a role name may have.
pub(crate) const ROLE_NAME_MAX: usize = 80;

fn is_runtime(r: &RoleListing) -> bool {
    r.origin == gatehouse_policy::Origin::Runtime.to_string()
}

fn entries_field(f: &FormView<'_>, value: &str) -> Markup {
    f.input(
        Input::area(
            "entries",
            "Privileges, one per line (priv or +priv grants, -priv removes)",
            6,
        )
        .value(value)
        .hint("Each privilege has at most 200 characters. A role may have no entries (a marker role)."),
    )
}

fn parse_entries(fields: &Fields) -> Result<Vec<RoleEntry>, CoreError> {
    fields
        .raw("entries")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            l.parse::<RoleEntry>().map_err(|e| {
                CoreError::invalid(
                    "entries",
                    format!(
                        "line “{}”: {}",
                        gatehouse_core::text::shorten(l),
                        super::plain(&CoreError::from(e).to_string())
                    ),
                )
            })
        })
        .collect()
}

/// The description field (the core checks its length and characters).
fn description(fields: &Fields) -> Result<Option<String>, CoreError> {
    Ok(Some(fields.get("description").to_owned()).filter(|d| !d.is_empty()))
}

/// `GET /admin/roles`.
pub async fn list(admin: Admin, State(state): State<AppState>) -> Response {
    list_page(&admin, &state, None).await
}

async fn list_page(admin: &Admin, state: &AppState, posted: Option<&Posted>) -> Response {
    let roles = match state.0.gh.list_roles(admin.ctx()).await {
        Ok(r) => r,
        Err(e) => return error_page(&admin.chrome("roles"), e),
    };
    let lacks = admin.lacks("config/edit").await;
    let f = FormView::new("create", posted);
    let fields = html! {
        (f.input(Input::text("name", "Name").required().max(ROLE_NAME_MAX).pattern(ROLE_PATTERN)
            .hint("A letter, then up to 79 letters, digits, - or _.")))
        (f.input(Input::text("description", "Description").max(ROLE_DESCRIPTION_MAX)))
        (entries_field(&f, ""))
    };
    let body = html! {
        details.card open[f.refused()] {
            summary { "Create a run-time role" }
            form method="post" action="/admin/roles" {
                fieldset disabled[lacks.is_some()] {
                    legend.sr-only { "New role" }
                    @if let Some(p) = lacks { (needs(p)) }
                    (csrf_field(&admin.csrf)) (f.summary()) (fields)
                    p { button type="submit" { "Create role" } }
                }
            }
        }
        div.table-wrap {
            table.stack {
                caption.sr-only { "Roles" }
                thead { tr {
                    th scope="col" { "Role" } th scope="col" { "Defined" }
                    th scope="col" { "Entries" } th scope="col" { "Grants" }
                } }
                tbody {
                    @for r in &roles {
                        tr {
                            td data-label="Role" { a href=(format!("/admin/roles/{}", pct(&r.name))) { (r.name) } }
                            td data-label="Defined" {
                                (r.origin)
                                @if !is_runtime(r) { " " span.tag { "read-only" } }
                            }
                            td data-label="Entries" { (r.entries.len()) }
                            td data-label="Grants" { (r.allow_grants.len() + r.deny_grants.len()) }
                        }
                    }
                }
            }
        }
    };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "roles", "Roles", body)
}

/// `POST /admin/roles`: creates a run-time role (or says it exists and where).
pub async fn create(State(state): State<AppState>, form: AdminForm) -> Response {
    let AdminForm { admin, fields } = form;
    let result = async {
        let name = RoleName::new(fields.get("name"))
            .map_err(|e| CoreError::invalid("name", super::plain(&e.to_string())))?;
        let entries = parse_entries(&fields)?;
        let description = description(&fields)?;
        let outcome = state
            .0
            .gh
            .create_role(admin.ctx(), name.clone(), description, entries)
            .await?;
        Ok::<_, CoreError>((name, outcome))
    }
    .await;
    match result {
        Ok((name, RoleOutcome::Exists { origin })) => match refused(
            &admin,
            "create",
            fields,
            CoreError::invalid(
                "name",
                format!("a role named {name} already exists ({origin}); choose another name or change that role on its page"),
            ),
        ) {
            Refused::Page(p) => p,
            Refused::Form(posted) => list_page(&admin, &state, Some(&posted)).await,
        },
        Ok((name, outcome)) => changed(
            &format!("/admin/roles/{}", pct(name.as_str())),
            Some("about"),
            match outcome {
                RoleOutcome::Updated => format!("role {name} updated"),
                _ => format!("role {name} created"),
            },
        ),
        Err(e) => match refused(&admin, "create", fields, e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => list_page(&admin, &state, Some(&posted)).await,
        },
    }
}

/// `GET /admin/roles/{name}`.
pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Response {
    role_page(&admin, &state, &name, None).await
}

async fn role_page(
    admin: &Admin,
    state: &AppState,
    name: &str,
    posted: Option<&Posted>,
) -> Response {
    let chrome = admin.chrome("roles");
    let role = match RoleName::new(name) {
        Ok(n) => match state.0.gh.show_role(admin.ctx(), &n).await {
            Ok(r) => r,
            Err(e) => return error_page(&chrome, e),
        },
        Err(_) => {
            return admin.not_found(&format!(
                "“{}” is not a role name, so there is no such role.",
                gatehouse_core::text::shorten(name)
            ))
        }
    };
    let lacks = admin.lacks("config/edit").await;
    let description = role.description.clone();
    let about = html! {
        dl.facts {
            dt { "Defined" } dd id="role-origin" { (role.origin) }
            dt { "Description" } dd id="role-description" { (description.as_deref().unwrap_or("—")) }
        }
        h3 { "Entries" }
        @if role.entries.is_empty() {
            p { "No entries (a marker role)." }
        } @else {
            ol.entries { @for e in &role.entries { li { code { (e) } } } }
        }
        h3 { "Grants to this role" }
        ul {
            @for g in &role.allow_grants { li { span.tag.allow { "allow" } " " code { (g) } } }
            @for g in &role.deny_grants { li { span.tag.deny { "deny" } " " code { (g) } } }
            @if role.allow_grants.is_empty() && role.deny_grants.is_empty() { li { "None." } }
        }
        p {
            a href=(format!("/admin/holders?role={}", pct(&role.name))) { "Who holds this role" }
            " · "
            a href=(format!("/admin/grants?kind=role&target={}", pct(&role.name))) { "Allow or deny a privilege for this role" }
        }
    };
    let edit = if is_runtime(&role) {
        let f = FormView::new("edit", posted);
        let fields = html! {
            (f.input(Input::text("description", "Description").max(ROLE_DESCRIPTION_MAX)
                .value(description.as_deref().unwrap_or(""))))
            (entries_field(&f, &role.entries.join("\n")))
        };
        html! {
            form method="post" action=(format!("/admin/roles/{}", pct(&role.name))) {
                fieldset disabled[lacks.is_some()] {
                    legend.sr-only { "Change this role" }
                    @if let Some(p) = lacks { (needs(p)) }
                    (csrf_field(&admin.csrf)) (f.summary()) (fields)
                    p { button type="submit" { "Save role" } }
                }
            }
        }
    } else {
        html! {
            p.hint {
                "This role is defined in the catalog or in the roles file and cannot be changed \
                 here; change it there and reload the server. Grants to it can be changed on \
                 the Grants page."
            }
        }
    };
    let body = html! {
        (card("about", "About this role", &chrome, about))
        (card("edit", "Change this role", &chrome, edit))
    };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "roles", &format!("Role {}", role.name), body)
}

/// `POST /admin/roles/{name}`: replaces a run-time role's entries and description (an empty
/// list makes it a marker role).
pub async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    form: AdminForm,
) -> Response {
    let AdminForm { admin, fields } = form;
    let back = format!("/admin/roles/{}", pct(&name));
    let result = async {
        let role = RoleName::new(&name)?;
        let entries = parse_entries(&fields)?;
        let description = description(&fields)?;
        let outcome = state
            .0
            .gh
            .update_role(admin.ctx(), role.clone(), description, entries)
            .await?;
        Ok(if outcome.changed() {
            format!("role {role} saved")
        } else {
            format!("role {role} unchanged: it was already so")
        })
    }
    .await;
    match result {
        Ok(text) => changed(&back, Some("about"), text),
        Err(e) => match refused(&admin, "edit", fields, e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => role_page(&admin, &state, &name, Some(&posted)).await,
        },
    }
}
