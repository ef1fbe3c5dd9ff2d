//! Grants (InvenioRDM `access allow|deny|remove`): allow or deny one privilege to a user, a
//! role or a system role; the list with a remove button per row.

use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::Response;
use gatehouse_core::{CoreError, GrantTo};
use gatehouse_policy::{Effect, Privilege, RoleName, SystemRole};
use serde::Deserialize;

use super::html::{button_form, csrf_field, esc, select, text_input};
use super::{done, error_page, Admin, AdminForm, Fields};
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
                format!("`{other}` is not a grant target; use user, role or system_role"),
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
    let grants = match state.0.gh.list_grants(admin.ctx(), None).await {
        Ok(g) => g,
        Err(e) => return error_page(&admin.chrome("grants"), e),
    };
    let kind = if q.kind.is_empty() {
        "user"
    } else {
        q.kind.as_str()
    };
    let mut b = format!(
        "<section class=\"card\" aria-labelledby=\"h-new\"><h2 id=\"h-new\">Allow or deny a privilege</h2>\
         <p class=\"hint\">A deny always wins over any allow, for the user, any role they hold and the system roles.</p>\
         <form method=\"post\" action=\"/admin/grants\" class=\"grid\">{}{}{}{}{}\
         <p class=\"field\"><button type=\"submit\">Save grant</button></p></form></section>",
        csrf_field(&admin.csrf),
        select(
            "effect",
            "Effect",
            &[("allow".into(), "allow".into()), ("deny".into(), "deny".into())],
            "allow"
        ),
        text_input("privilege", "Privilege", "", "required autocomplete=\"off\""),
        select("kind", "To a", &kinds(), kind),
        text_input("target", "Who", &q.target, "required autocomplete=\"off\""),
    );
    b.push_str(
        "<div class=\"table-wrap\"><table><caption class=\"sr-only\">Grants</caption><thead><tr>\
         <th scope=\"col\">Effect</th><th scope=\"col\">Privilege</th><th scope=\"col\">To</th>\
         <th scope=\"col\"><span class=\"sr-only\">Actions</span></th></tr></thead><tbody>",
    );
    for g in &grants {
        let effect = g.effect.to_string();
        let _ = write!(
            b,
            "<tr><td><span class=\"tag {e}\">{e}</span></td><td><code>{p}</code></td>\
             <td>{k} {t}</td><td>{btn}</td></tr>",
            e = esc(&effect),
            p = esc(&g.privilege),
            k = esc(&g.target_kind.replace('_', " ")),
            t = esc(&g.target),
            btn = button_form(
                &admin.csrf,
                "/admin/grants/remove",
                &[
                    ("privilege", &g.privilege),
                    ("kind", g.target_kind),
                    ("target", &g.target)
                ],
                &format!("Remove {} {} for {}", effect, g.privilege, g.target),
                "small danger",
            ),
        );
    }
    if grants.is_empty() {
        b.push_str("<tr><td colspan=\"4\">No grants.</td></tr>");
    }
    b.push_str("</tbody></table></div>");
    admin.page("grants", "Grants", &b)
}

fn parts(fields: &Fields) -> Result<(Privilege, GrantTo), CoreError> {
    let privilege = Privilege::new(fields.get("privilege"))?;
    let to = grant_to(fields.get("kind"), fields.get("target"))?;
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
        let changed = state
            .0
            .gh
            .grant(admin.ctx(), effect, privilege.clone(), &to)
            .await?;
        Ok(if changed.changed() {
            format!("{effect} `{privilege}` for {} saved", words(&to))
        } else {
            format!(
                "{effect} `{privilege}` for {} was already there; nothing changed",
                words(&to)
            )
        })
    }
    .await;
    done(&admin, "/admin/grants", result)
}

/// `POST /admin/grants/remove`: removes the allow and the deny of that privilege and target.
pub async fn remove(State(state): State<AppState>, form: AdminForm) -> Response {
    let AdminForm { admin, fields } = form;
    let result = async {
        let (privilege, to) = parts(&fields)?;
        let changed = state
            .0
            .gh
            .remove_grant(admin.ctx(), privilege.clone(), &to)
            .await?;
        Ok(if changed.changed() {
            format!("grants of `{privilege}` for {} removed", words(&to))
        } else {
            format!(
                "there was no grant of `{privilege}` for {}; nothing changed",
                words(&to)
            )
        })
    }
    .await;
    done(&admin, "/admin/grants", result)
}
