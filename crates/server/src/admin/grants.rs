//! Grants (InvenioRDM `access allow|deny|remove`): allow or deny one privilege to a user, a
//! role or a system role; the list with a remove button per row.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::{CoreError, GrantTo};
use gatehouse_policy::{Effect, Privilege, RoleName, SystemRole};
use serde::Deserialize;

use maud::html;

use super::layout::{button_form, card, csrf_field, needs, pct, FormView, Input, Posted};
use super::{changed, error_page, refused, Admin, AdminForm, Fields, Refused};
use crate::AppState;

/// Prefill of the grant form.
#[derive(Debug, Default, Deserialize)]
pub struct GrantQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    target: String,
}

fn kinds() -> Vec<(String, String)> {
    vec![
        ("user".into(), "user (email or id)".into()),
        ("role".into(), "role".into()),
        (
            "system_role".into(),
            "system role (any_user, authenticated_user)".into(),
        ),
    ]
}

fn grant_to(kind: &str, target: &str) -> Result<GrantTo, CoreError> {
    Ok(match kind {
        "user" => GrantTo::User(target.parse()?),
        "role" => GrantTo::Role(RoleName::new(target)?),
        "system_role" => GrantTo::System(target.parse::<SystemRole>()?),
        other => {
            return Err(CoreError::invalid(
                "kind",
                format!(
                    "“{}” is not a kind of grant target; choose user, role or system role",
                    gatehouse_core::text::shorten(other)
                ),
            ))
        }
    })
}

/// `GET /admin/grants`.
pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<GrantQuery>,
) -> Response {
    list_page(&admin, &state, &q, None).await
}

/// What the panel says of `administration-access` wherever it can be given.
pub(crate) const ADMIN_ACCESS_WORDS: &str = "administration-access opens every page of the \
    admin panel to read. Each change there needs its own privilege as well: user/staff/edit \
    (type, roles, scope, activate, confirm, passwords), user/edit (profiles), create_user, \
    user/destroy, and config/edit (roles, grants, tokens, clients). A page shows a control it \
    cannot use as disabled and names the privilege.";

async fn list_page(
    admin: &Admin,
    state: &AppState,
    q: &GrantQuery,
    posted: Option<&Posted>,
) -> Response {
    let chrome = admin.chrome("grants");
    let grants = match state.0.gh.list_grants(admin.ctx(), None).await {
        Ok(g) => g,
        Err(e) => return error_page(&chrome, e),
    };
    let lacks = admin.lacks("config/edit").await;
    let kind = if q.kind.is_empty() {
        "user"
    } else {
        q.kind.as_str()
    };
    let f = FormView::new("grant", posted);
    let fields = html! {
        (f.select("effect", "Effect", &[("allow".into(), "allow".into()), ("deny".into(), "deny".into())], "allow"))
        (f.input(Input::text("privilege", "Privilege").required().autocomplete("off")
            .max(gatehouse_policy::MAX_PRIVILEGE_LEN).placeholder("administration-access")))
        (f.select("kind", "To a", &kinds(), kind))
        (f.input(Input::text("target", "Who (an email or id, a role or a system role)").value(&q.target)
            .required().autocomplete("off").max(254)))
    };
    let form = html! {
        p.hint { "A deny always wins over any allow, for the user, any role they hold and the system roles." }
        p.hint id="admin-access-note" { (ADMIN_ACCESS_WORDS) }
        form.grid method="post" action="/admin/grants" {
            fieldset.wide disabled[lacks.is_some()] {
                legend.sr-only { "New grant" }
                @if let Some(p) = lacks { (needs(p)) }
                (csrf_field(&admin.csrf)) (f.summary())
                div.grid { (fields) }
                p.field { button type="submit" { "Save grant" } }
            }
        }
    };
    let body = html! {
        (card("new", "Allow or deny a privilege", &chrome, form))
        div.table-wrap {
            table.stack {
                caption.sr-only { "Grants" }
                thead { tr {
                    th scope="col" { "Effect" } th scope="col" { "Privilege" } th scope="col" { "To" }
                    th scope="col" { span.sr-only { "Actions" } }
                } }
                tbody {
                    @for g in &grants {
                        @let effect = g.effect.to_string();
                        tr {
                            td data-label="Effect" { span class=(format!("tag {effect}")) { (effect) } }
                            td data-label="Privilege" { a href=(format!("/admin/holders?privilege={}", pct(&g.privilege))) { code { (g.privilege) } } }
                            td data-label="To" { (g.target_kind.replace('_', " ")) " " (g.target) }
                            td data-label="Actions" {
                                (button_form(&admin.csrf, "/admin/grants/remove",
                                    &[("privilege", &g.privilege), ("kind", g.target_kind), ("target", &g.target)],
                                    &format!("Remove {} {} for {}", effect, g.privilege, g.target), "small danger", lacks))
                            }
                        }
                    }
                    @if grants.is_empty() { tr { td colspan="4" { "No grants." } } }
                }
            }
        }
    };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "grants", "Grants", body)
}

fn parts(fields: &Fields) -> Result<(Privilege, GrantTo), CoreError> {
    let privilege = Privilege::new(fields.get("privilege"))?;
    let to = grant_to(fields.get("kind"), fields.get("target")).map_err(|e| match e {
        CoreError::Invalid { field, message } if field != "kind" => CoreError::Invalid {
            field: "target".into(),
            message,
        },
        other => other,
    })?;
    Ok((privilege, to))
}

fn words(to: &GrantTo) -> String {
    match to {
        GrantTo::User(u) => format!("user {u}"),
        GrantTo::Role(r) => format!("role {r}"),
        GrantTo::System(s) => format!("system role {s}"),
    }
}

/// `POST /admin/grants`.
pub async fn add(State(state): State<AppState>, form: AdminForm) -> Response {
    let AdminForm { admin, fields } = form;
    let result = async {
        let effect = match fields.get("effect") {
            "allow" => Effect::Allow,
            "deny" => Effect::Deny,
            other => {
                return Err(CoreError::invalid(
                    "effect",
                    format!("`{other}` is neither allow nor deny"),
                ))
            }
        };
        let (privilege, to) = parts(&fields)?;
        let done = state
            .0
            .gh
            .grant(admin.ctx(), effect, privilege.clone(), &to)
            .await?;
        let mut text = if done.changed() {
            format!("{effect} {privilege} for {} saved", words(&to))
        } else {
            format!(
                "{effect} {privilege} for {} was already there; nothing changed",
                words(&to)
            )
        };
        if privilege.as_str() == super::ADMIN_PRIVILEGE && effect == Effect::Allow {
            text.push_str(". They can now read every page of the admin panel; each change there needs its own privilege (see the note on this page).");
        }
        Ok(text)
    }
    .await;
    match result {
        Ok(text) => changed("/admin/grants", Some("new"), text),
        Err(e) => match refused(&admin, "grant", fields, e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => {
                list_page(&admin, &state, &GrantQuery::default(), Some(&posted)).await
            }
        },
    }
}

/// `POST /admin/grants/remove`: removes the allow and the deny of that privilege and target.
pub async fn remove(State(state): State<AppState>, form: AdminForm) -> Response {
    let AdminForm { admin, fields } = form;
    let result = async {
        let (privilege, to) = parts(&fields)?;
        let done = state
            .0
            .gh
            .remove_grant(admin.ctx(), privilege.clone(), &to)
            .await?;
        Ok(if done.changed() {
            format!("grants of {privilege} for {} removed", words(&to))
        } else {
            format!(
                "there was no grant of {privilege} for {}; nothing changed",
                words(&to)
            )
        })
    }
    .await;
    match result {
        Ok(text) => changed("/admin/grants", Some("new"), text),
        Err(e) => match refused(&admin, "grant", fields, e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => {
                list_page(&admin, &state, &GrantQuery::default(), Some(&posted)).await
            }
        },
    }
}
