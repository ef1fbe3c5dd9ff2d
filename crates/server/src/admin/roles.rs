//! Roles: the list (built in, file and run time, with where each comes from), creating a
//! run-time role, and a role's page (run-time roles editable, the others read-only).

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_core::{CoreError, RoleOutcome};
use gatehouse_policy::RoleListing;
use gatehouse_policy::{RoleEntry, RoleName};

use super::html::{csrf_field, esc, pct, text_input};
use super::{done, error_page, Admin, AdminForm, Fields};
use crate::AppState;

fn is_runtime(r: &RoleListing) -> bool {
    r.origin == gatehouse_policy::Origin::Runtime.to_string()
}

fn entries_field(value: &str) -> String {
    format!(
        "<p class=\"field\"><label for=\"f-entries\">Privileges, one per line (<code>priv</code> or \
         <code>+priv</code> grants, <code>-priv</code> removes)</label>\
         <textarea id=\"f-entries\" name=\"entries\" rows=\"6\">{}</textarea></p>",
        esc(value)
    )
}

fn parse_entries(fields: &Fields) -> Result<Vec<RoleEntry>, CoreError> {
    fields
        .get("entries")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.parse::<RoleEntry>().map_err(CoreError::from))
        .collect()
}

/// `GET /admin/roles`.
pub async fn list(admin: Admin, State(state): State<AppState>) -> Response {
    let roles = match state.0.gh.list_roles(admin.ctx()).await {
        Ok(r) => r,
        Err(e) => return error_page(&admin.chrome("roles"), e),
    };
    let mut b = format!(
        "<details class=\"card\"><summary>Create a run-time role</summary>\
         <form method=\"post\" action=\"/admin/roles\">{}{}{}{}\
         <p><button type=\"submit\">Create role</button></p></form></details>",
        csrf_field(&admin.csrf),
        text_input(
            "name",
            "Name",
            "",
            "required pattern=\"[A-Za-z][A-Za-z0-9_-]{0,79}\""
        ),
        text_input("description", "Description", "", ""),
        entries_field(""),
    );
    b.push_str(
        "<div class=\"table-wrap\"><table><caption class=\"sr-only\">Roles</caption><thead><tr>\
         <th scope=\"col\">Role</th><th scope=\"col\">Defined</th><th scope=\"col\">Entries</th>\
         <th scope=\"col\">Grants</th></tr></thead><tbody>",
    );
    for r in &roles {
        let _ = write!(
            b,
            "<tr><td><a href=\"/admin/roles/{}\">{}</a></td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            pct(&r.name),
            esc(&r.name),
            esc(&r.origin),
            if is_runtime(r) { "" } else { " <span class=\"tag\">read-only</span>" },
            r.entries.len(),
            r.allow_grants.len() + r.deny_grants.len(),
        );
    }
    b.push_str("</tbody></table></div>");
    admin.page("roles", "Roles", &b)
}

/// `POST /admin/roles`: creates a run-time role (or says it exists and where).
pub async fn create(State(state): State<AppState>, form: AdminForm) -> Response {
    let AdminForm { admin, fields } = form;
    let result = async {
        let name = RoleName::new(fields.get("name"))?;
        let entries = parse_entries(&fields)?;
        let description = Some(fields.get("description").to_owned()).filter(|d| !d.is_empty());
        let outcome = state
            .0
            .gh
            .create_role(admin.ctx(), name.clone(), description, entries)
            .await?;
        Ok::<_, CoreError>((name, outcome))
    }
    .await;
    match result {
        Ok((name, outcome)) => {
            let text = match outcome {
                RoleOutcome::Created => format!("role {name} created"),
                RoleOutcome::Updated => format!("role {name} updated"),
                RoleOutcome::Exists { origin } => {
                    format!("role {name} already exists ({origin}); nothing changed")
                }
            };
            done(
                &admin,
                &format!("/admin/roles/{}", pct(name.as_str())),
                Ok(text),
            )
        }
        Err(e) => done(&admin, "/admin/roles", Err(e)),
    }
}

/// `GET /admin/roles/{name}`.
pub async fn show(
    admin: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Response {
    let chrome = admin.chrome("roles");
    let role = match RoleName::new(&name) {
        Ok(n) => match state.0.gh.show_role(admin.ctx(), &n).await {
            Ok(r) => r,
            Err(e) => return error_page(&chrome, e),
        },
        Err(e) => return error_page(&chrome, e.into()),
    };
    let description = state
        .0
        .gh
        .config()
        .roles()
        .iter()
        .find(|(n, _)| n.as_str() == role.name)
        .and_then(|(_, d)| d.description.clone());
    let mut b = format!(
        "<section class=\"card\"><dl class=\"facts\"><dt>Defined</dt><dd id=\"role-origin\">{}</dd>",
        esc(&role.origin)
    );
    if let Some(d) = &description {
        let _ = write!(b, "<dt>Description</dt><dd>{}</dd>", esc(d));
    }
    b.push_str("</dl><h2>Entries</h2>");
    if role.entries.is_empty() {
        b.push_str("<p>No entries (a marker role).</p>");
    } else {
        b.push_str("<ol class=\"entries\">");
        for e in &role.entries {
            let _ = write!(b, "<li><code>{}</code></li>", esc(e));
        }
        b.push_str("</ol>");
    }
    b.push_str("<h2>Grants to this role</h2><ul>");
    for g in &role.allow_grants {
        let _ = write!(
            b,
            "<li><span class=\"tag allow\">allow</span> <code>{}</code></li>",
            esc(g)
        );
    }
    for g in &role.deny_grants {
        let _ = write!(
            b,
            "<li><span class=\"tag deny\">deny</span> <code>{}</code></li>",
            esc(g)
        );
    }
    if role.allow_grants.is_empty() && role.deny_grants.is_empty() {
        b.push_str("<li>None.</li>");
    }
    let _ = write!(
        b,
        "</ul><p><a href=\"/admin/grants?kind=role&amp;target={}\">Allow or deny a privilege for this role</a></p></section>",
        pct(&role.name)
    );
    if is_runtime(&role) {
        let _ = write!(
            b,
            "<section class=\"card\" aria-labelledby=\"h-edit\"><h2 id=\"h-edit\">Change this role</h2>\
             <form method=\"post\" action=\"/admin/roles/{}\">{}{}{}\
             <p><button type=\"submit\">Save role</button></p></form></section>",
            pct(&role.name),
            csrf_field(&admin.csrf),
            text_input("description", "Description", description.as_deref().unwrap_or(""), ""),
            entries_field(&role.entries.join("\n")),
        );
    } else {
        b.push_str(
            "<p class=\"hint\">This role is defined in the catalog or in user_roles.yaml and \
             cannot be changed here; change it there (and reload the server). Grants to it can \
             be changed on the Grants page.</p>",
        );
    }
    admin.page("roles", &format!("Role {}", role.name), &b)
}

/// `POST /admin/roles/{name}`: replaces a run-time role's entries and description.
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
        if entries.is_empty() {
            return Err(CoreError::invalid(
                "entries",
                "give at least one privilege (a run-time role cannot be emptied here)",
            ));
        }
        let description = Some(fields.get("description").to_owned()).filter(|d| !d.is_empty());
        let outcome = state
            .0
            .gh
            .create_role(admin.ctx(), role.clone(), description, entries)
            .await?;
        Ok(match outcome {
            RoleOutcome::Exists { .. } => format!("role {role} unchanged"),
            _ => format!("role {role} saved"),
        })
    }
    .await;
    done(&admin, &back, result)
}
