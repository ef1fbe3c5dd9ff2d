//! The explain page: pick a user (or anonymous), a privilege and optionally an item, and see
//! the answer of `check` with its four bits and the chain of reasons. It asks the same
//! [`gatehouse_core::Gatehouse::check`] as `POST /api/check` (asking about another user
//! needs `check/any`). A GET form: it changes nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::response::Response;
use gatehouse_core::{CoreError, UserRef};
use gatehouse_policy::{Decision, Item, Owner, Privilege, UserId};
use serde::Deserialize;

use super::html::{esc, select, text_input};
use super::{error_page, Admin};
use crate::AppState;

/// The explain form.
#[derive(Debug, Default, Deserialize)]
pub struct ExplainQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    privilege: String,
    #[serde(default)]
    dataset: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    owners: String,
    #[serde(default)]
    fields: String,
}

fn item(q: &ExplainQuery) -> Result<Option<Item>, CoreError> {
    let dataset = q.dataset.trim();
    if dataset.is_empty() {
        if !q.status.trim().is_empty() || !q.owners.trim().is_empty() || !q.fields.trim().is_empty()
        {
            return Err(CoreError::invalid(
                "dataset",
                "an item needs a dataset (e.g. `eprint`) when it has a status, owners or fields",
            ));
        }
        return Ok(None);
    }
    let mut item = Item::new(dataset);
    if !q.status.trim().is_empty() {
        item = item.with_status(q.status.trim());
    }
    for o in q.owners.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        item = item.with_owner(match o.parse::<i64>() {
            Ok(n) => Owner::Id(UserId(n)),
            Err(_) => Owner::Email(o.to_owned()),
        });
    }
    let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in q.fields.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (field, values) = line.split_once('=').ok_or_else(|| {
            CoreError::invalid(
                "fields",
                format!("`{line}` has no `=`; write one field per line as `divisions=law,ecs`"),
            )
        })?;
        fields.entry(field.trim().to_owned()).or_default().extend(
            values
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        );
    }
    item.fields = fields;
    item.validate()
        .map_err(|e| CoreError::invalid("item", e.to_string()))?;
    Ok(Some(item))
}

fn form(q: &ExplainQuery, users: &[(String, String)]) -> String {
    let mut options = vec![(String::new(), "anonymous visitor".to_owned())];
    options.extend(users.iter().cloned());
    if !q.user.is_empty() && !options.iter().any(|(v, _)| *v == q.user) {
        options.push((q.user.clone(), q.user.clone()));
    }
    format!(
        "<form method=\"get\" action=\"/admin/explain\" class=\"card grid\">{}{}{}{}{}\
         <p class=\"field wide\"><label for=\"f-fields\">Item fields, one per line as \
         <code>divisions=law,ecs</code></label><textarea id=\"f-fields\" name=\"fields\" rows=\"3\">{}</textarea></p>\
         <p class=\"field\"><button type=\"submit\">Explain</button></p></form>",
        select("user", "User", &options, &q.user),
        text_input("privilege", "Privilege", &q.privilege, "required autocomplete=\"off\" placeholder=\"eprint/edit\""),
        text_input("dataset", "Item dataset (optional)", &q.dataset, "placeholder=\"eprint\""),
        text_input("status", "Item status", &q.status, "placeholder=\"buffer\""),
        text_input("owners", "Item owners (ids or emails, comma separated)", &q.owners, ""),
        esc(&q.fields),
    )
}

fn answer(d: &Decision, who: &str, privilege: &str) -> String {
    let mut b = format!(
        "<section class=\"card answer {cls}\" aria-labelledby=\"h-answer\" id=\"answer\">\
         <h2 id=\"h-answer\"><span id=\"verdict\">{verdict}</span>: <code>{p}</code> for {who}</h2>\
         <table class=\"bits\"><caption>Mask {mask}</caption><thead><tr><th scope=\"col\">Bit</th>\
         <th scope=\"col\">Meaning</th><th scope=\"col\">Set</th></tr></thead><tbody>",
        cls = if d.allowed { "allowed" } else { "denied" },
        verdict = if d.allowed { "Allowed" } else { "Denied" },
        p = esc(privilege),
        who = esc(who),
        mask = d.mask,
    );
    for (bit, name, set) in [
        (1, "public", d.public),
        (2, "user", d.user),
        (4, "owner", d.owner),
        (8, "editor", d.editor),
    ] {
        let _ = write!(
            b,
            "<tr id=\"bit-{name}\"><td>{bit}</td><td>{name}</td><td>{}</td></tr>",
            if set { "<strong>yes</strong>" } else { "no" }
        );
    }
    b.push_str("</tbody></table><h3>Reasons</h3><ol class=\"reasons\" id=\"reasons\">");
    for r in &d.reasons {
        let bit = if r.bit == 0 {
            String::new()
        } else {
            format!(" (bit {})", r.bit)
        };
        let _ = write!(
            b,
            "<li><span class=\"tag\">{}</span>{bit} <code>{}</code>: {}</li>",
            esc(r.kind.as_str()),
            esc(&r.privilege),
            esc(&r.source)
        );
    }
    b.push_str("</ol></section>");
    b
}

/// `GET /admin/explain`.
pub async fn page(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ExplainQuery>,
) -> Response {
    let gh = &state.0.gh;
    // The user picker: the first page of users (more can be typed as an id in the URL).
    let users: Vec<(String, String)> = match gh
        .list_users(
            admin.ctx(),
            &gatehouse_core::UserQuery {
                limit: 500,
                ..gatehouse_core::UserQuery::default()
            },
        )
        .await
    {
        Ok(p) => p
            .items
            .iter()
            .map(|u| (u.id.to_string(), u.label()))
            .collect(),
        Err(e) => return error_page(&admin.chrome("explain"), e),
    };
    let mut b = form(&q, &users);
    if !q.privilege.trim().is_empty() {
        let result = async {
            let privilege = Privilege::new(q.privilege.trim())?;
            let subject = match q.user.trim() {
                "" => None,
                u => Some(u.parse::<UserRef>()?),
            };
            let item = item(&q)?;
            let d = gh
                .check(admin.ctx(), subject.as_ref(), &privilege, item.as_ref())
                .await?;
            let who = match &subject {
                None => "an anonymous visitor".to_owned(),
                Some(s) => users
                    .iter()
                    .find(|(id, _)| *id == s.to_string())
                    .map_or_else(|| format!("user {s}"), |(_, l)| l.clone()),
            };
            Ok::<_, CoreError>(answer(&d, &who, privilege.as_str()))
        }
        .await;
        match result {
            Ok(a) => b.push_str(&a),
            Err(e @ (CoreError::Forbidden { .. } | CoreError::Internal(_))) => {
                return error_page(&admin.chrome("explain"), e)
            }
            Err(e) => {
                let _ = write!(
                    b,
                    "<div class=\"notice error\" role=\"alert\">{}</div>",
                    esc(&e.to_string())
                );
            }
        }
    }
    admin.page("explain", "Explain a decision", &b)
}
