//! The explain page: name a user (or nobody, for an anonymous visitor), a privilege and
//! optionally an item, and see the answer with its mask in words, every step of the walk
//! that touched the privilege (including `-priv` removals and denies) and the reasons for
//! each bit. It asks the same core explanation as `gatehouse access explain` and the API.
//! A GET form: it changes nothing.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::{CoreError, UserRef};
use gatehouse_policy::{Decision, Item, Owner, Privilege, UserId, WalkStep};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{FieldError, FormView, Input, Posted};
use super::{error_page, field_error, Admin, Fields};
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
                "an item needs a dataset (e.g. eprint) when it has a status, owners or fields",
            ));
        }
        return Ok(None);
    }
    let mut item = Item::new(dataset);
    let status = q.status.trim();
    if !status.is_empty() {
        // The core refuses a status the dataset does not have, naming the valid ones.
        item = item.with_status(status);
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
                format!(
                    "“{}” has no =; write one field per line as divisions=law,ecs",
                    gatehouse_core::text::shorten(line)
                ),
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

/// The mask's bits, for the table of the answer.
const BITS: [(u8, &str, &str); 4] = [
    (
        1,
        "public",
        "anyone, also an anonymous visitor, may do this",
    ),
    (2, "user", "the user may do this to any item"),
    (4, "owner", "the user may do this to items they own"),
    (
        8,
        "editor",
        "the user may do this to items in their editorial scope",
    ),
];

/// The mask in words (the engine's words for each set bit).
pub(crate) fn mask_words(mask: u8) -> String {
    gatehouse_policy::mask_words(mask).join("; ")
}

fn form(
    q: &ExplainQuery,
    state: &AppState,
    users: &[(String, String)],
    posted: Option<&Posted>,
) -> Markup {
    let f = FormView::new("explain", posted);
    let datasets = state.0.gh.datasets();
    let mut status_options = vec![(String::new(), "none".to_owned())];
    for d in &datasets {
        for s in &d.statuses {
            status_options.push((s.clone(), format!("{s} ({})", d.name)));
        }
    }
    let fields = html! {
        (f.input(Input::text("user", "User (email, username or id; empty: an anonymous visitor)")
            .value(&q.user).list("user-names").autocomplete("off").max(254)))
        datalist id="user-names" { @for (_, label) in users { option value=(label) {} } }
        (f.input(Input::text("privilege", "Privilege").value(&q.privilege).required()
            .autocomplete("off").placeholder("eprint/edit").max(gatehouse_policy::MAX_PRIVILEGE_LEN)))
        (f.input(Input::text("dataset", "Item dataset (optional)").value(&q.dataset)
            .list("datasets").placeholder("eprint").max(64)))
        datalist id="datasets" { @for d in &datasets { option value=(d.name) {} } option value="user" {} }
        (f.select("status", "Item status", &status_options, &q.status))
        (f.input(Input::text("owners", "Item owners (ids or emails, comma separated)").value(&q.owners).max(2000)))
        (f.input(Input::area("fields", "Item fields, one per line as divisions=law,ecs", 3).value(&q.fields)))
    };
    html! {
        form.card.grid method="get" action="/admin/explain" {
            div.wide { (f.summary()) }
            (fields)
            p.field { button type="submit" { "Explain" } }
        }
    }
}

fn answer(d: &Decision, steps: &[WalkStep], who: &str, privilege: &str) -> Markup {
    let cls = if d.allowed {
        "card answer allowed"
    } else {
        "card answer denied"
    };
    html! {
        section class=(cls) aria-labelledby="h-answer" id="answer" tabindex="-1" autofocus {
            h2 id="h-answer" {
                span id="verdict" { @if d.allowed { "Allowed" } @else { "Denied" } }
                ": " code { (privilege) } " for " (who)
            }
            p id="mask" { "Mask " (mask_words(d.mask)) }
            table.bits {
                caption { "What each bit of the mask means" }
                thead { tr { th scope="col" { "Bit" } th scope="col" { "Name" } th scope="col" { "Meaning" } th scope="col" { "Set" } } }
                tbody {
                    @for (bit, name, meaning) in BITS {
                        tr id=(format!("bit-{name}")) {
                            td data-label="Bit" { (bit) }
                            td data-label="Name" { (name) }
                            td data-label="Meaning" { (meaning) }
                            td data-label="Set" { @if d.mask & bit != 0 { strong { "yes" } } @else { "no" } }
                        }
                    }
                }
            }
            h3 { "The walk, step by step" }
            p.hint { "Every step of the user's walk (their type, roles, own entries, grants and denies) that touched this privilege or its :owner and :editor forms, in order." }
            @if steps.is_empty() {
                p id="walk-empty" { "No step of the walk touched this privilege." }
            } @else {
                ol.reasons id="walk" {
                    @for s in steps {
                        li {
                            span.tag { (s.stage.as_str().replace('_', " ")) } " "
                            strong { (s.kind.words()) } " " code { (s.privilege) } ": " (super::plain(&s.source))
                            @if s.held_after { " (held after this step)" } @else { " (not held after this step)" }
                        }
                    }
                }
            }
            h3 { "Why each bit is set or not" }
            ol.reasons id="reasons" {
                @for r in &d.reasons {
                    li {
                        span.tag { (r.kind.as_str()) }
                        @if r.bit != 0 { " (bit " (r.bit) ")" }
                        " " code { (r.privilege) } ": " (super::plain(&r.source))
                    }
                }
            }
        }
    }
}

/// `GET /admin/explain`.
pub async fn page(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ExplainQuery>,
) -> Response {
    let gh = &state.0.gh;
    // Suggestions for the user field: the first users (any other can be typed).
    let users: Vec<(String, String)> = match gh
        .list_users(
            admin.ctx(),
            &gatehouse_core::UserQuery {
                limit: 200,
                ..gatehouse_core::UserQuery::default()
            },
        )
        .await
    {
        Ok(p) => p
            .items
            .iter()
            .map(|u| (u.id.to_string(), u.email.to_string()))
            .collect(),
        Err(e) => return error_page(&admin.chrome("explain"), e),
    };
    let mut answer_html = html! {};
    let mut posted = None;
    if !q.privilege.trim().is_empty() {
        let result = async {
            let privilege = Privilege::new(q.privilege.trim())?;
            let subject = match q.user.trim() {
                "" => None,
                u => Some(
                    u.parse::<UserRef>()
                        .map_err(|e| CoreError::invalid("user", e.to_string()))?,
                ),
            };
            let item = item(&q)?;
            let explained = gh
                .explain(admin.ctx(), subject.as_ref(), &privilege, item.as_ref())
                .await?;
            let who = match &subject {
                None => "an anonymous visitor".to_owned(),
                Some(s) => s.to_string(),
            };
            Ok::<_, CoreError>(answer(
                &explained.decision,
                &explained.steps,
                &who,
                privilege.as_str(),
            ))
        }
        .await;
        match result {
            Ok(a) => answer_html = a,
            Err(
                e @ (CoreError::Forbidden { .. } | CoreError::Internal(_) | CoreError::Policy(_)),
            ) => return error_page(&admin.chrome("explain"), e),
            Err(e) => {
                posted = Some(Posted {
                    form: "explain",
                    fields: Fields(vec![
                        ("user".into(), q.user.clone()),
                        ("privilege".into(), q.privilege.clone()),
                        ("dataset".into(), q.dataset.clone()),
                        ("status".into(), q.status.clone()),
                        ("owners".into(), q.owners.clone()),
                        ("fields".into(), q.fields.clone()),
                    ]),
                    error: match field_error(&e) {
                        FieldError { field, message }
                            if field == "item" && message.contains("status") =>
                        {
                            FieldError {
                                field: "status".into(),
                                message,
                            }
                        }
                        FieldError { field, message } if field == "role" || field == "item" => {
                            FieldError {
                                field: String::new(),
                                message,
                            }
                        }
                        other => other,
                    },
                })
            }
        }
    }
    let body = html! {
        (form(&q, &state, &users, posted.as_ref()))
        (answer_html)
    };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "explain", "Explain a decision", body)
}
