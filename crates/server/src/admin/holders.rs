//! Who holds a privilege or a role. For a privilege, the engine's who-can answer (the same
//! as `gatehouse access who-can` and `GET /api/who-can`): which user types, roles and system
//! roles give it, which users differ from their type, and a page of the users it admits. For
//! a role: the user types that include it and the users who carry it in their own entries,
//! with grants to it.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::{CoreError, Expand, UserQuery};
use gatehouse_policy::{Entry, Privilege, RoleName};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{pct, FormView, Input, Posted};
use super::{error_page, field_error, Admin, Fields};
use crate::AppState;

/// Users shown per page.
const PAGE: u64 = 50;

/// The page's query.
#[derive(Debug, Default, Deserialize)]
pub struct HoldersQuery {
    #[serde(default)]
    privilege: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    after: String,
}

fn bits(h: &gatehouse_policy::Holds) -> String {
    let mut out = Vec::new();
    if h.public {
        out.push("everyone (public)");
    }
    if h.user {
        out.push("on any item");
    }
    if h.owner {
        out.push("on items they own");
    }
    if h.editor {
        out.push("on items in their editorial scope");
    }
    if out.is_empty() {
        "no".to_owned()
    } else {
        out.join(", ")
    }
}

fn form(q: &HoldersQuery, posted: Option<&Posted>) -> Markup {
    let f = FormView::new("holders", posted);
    let fields = html! {
        (f.input(Input::text("privilege", "A privilege").value(&q.privilege).autocomplete("off")
            .placeholder("eprint/archive/edit").max(gatehouse_policy::MAX_PRIVILEGE_LEN)))
        (f.input(Input::text("role", "or a role").value(&q.role).autocomplete("off")
            .placeholder("approve-hat").max(80)))
    };
    html! {
        form.card.grid method="get" action="/admin/holders" role="search" {
            div.wide { (f.summary()) }
            (fields)
            p.field { button type="submit" { "Show who holds it" } }
        }
    }
}

async fn privilege_answer(
    admin: &Admin,
    state: &AppState,
    privilege: &Privilege,
    after: i64,
) -> Result<Markup, CoreError> {
    let view = state
        .0
        .gh
        .who_can(
            admin.ctx(),
            privilege,
            None,
            Some(Expand { after, limit: PAGE }),
        )
        .await?;
    let a = &view.answer;
    let admitted = view.admitted.as_ref();
    Ok(html! {
        section.card id="answer" aria-labelledby="h-answer" tabindex="-1" {
            h2 id="h-answer" { "Who holds " code { (privilege.as_str()) } }
            @if a.anonymous { p.notice.ok { "It is public: everyone holds it, also anonymous visitors." } }
            h3 { "By user type" }
            ul {
                @for t in &a.types {
                    li { a href=(format!("/admin/users?type={}", pct(t.user_type.as_str()))) { (t.user_type.as_str()) } ": " (bits(&t.holds)) }
                }
                li { "users without a type: " (bits(&a.untyped)) }
            }
            h3 { "Roles that give it" }
            @if a.roles.is_empty() { p { "None." } } @else {
                ul { @for r in &a.roles { li { a href=(format!("/admin/roles/{}", pct(&r.role))) { (r.role) } " (" (r.origin) ")" } } }
            }
            @if !a.system_roles.is_empty() {
                h3 { "Grants to system roles" }
                ul { @for s in &a.system_roles { li { (s.system_role.to_string()) ": " code { (s.privilege) } } } }
            }
            @if !a.excludes.is_empty() {
                h3 { "Denies and removals that take it away" }
                ul { @for x in &a.excludes { li { span.tag { (x.kind) } " " code { (x.privilege) } " by " (super::plain(&x.by)) } } }
            }
            @if !view.users.is_empty() {
                h3 { "Users whose own entries or grants change it" }
                ul { @for u in &view.users { li { a href=(format!("/admin/users/{}", u.id)) { (u.email) } ": " (bits(&u.holds)) } } }
            }
            @if let Some(page) = admitted {
                h3 { "Users who hold it" }
                @if page.items.is_empty() { p { "No (more) users hold it." } } @else {
                    div.table-wrap {
                        table.stack {
                            caption.sr-only { "Users who hold " (privilege.as_str()) }
                            thead { tr { th scope="col" { "Id" } th scope="col" { "Email" } th scope="col" { "Mask" } } }
                            tbody {
                                @for u in &page.items {
                                    tr {
                                        td data-label="Id" { (u.id) }
                                        td data-label="Email" { a href=(format!("/admin/users/{}", u.id)) { (u.email) } }
                                        td data-label="Mask" { (super::explain::mask_words(u.mask)) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if let Some(next) = page.next {
                    nav.pager aria-label="Pages" {
                        a rel="next" href=(format!("/admin/holders?privilege={}&after={next}", pct(privilege.as_str()))) { "Next users →" }
                    }
                }
            }
        }
    })
}

async fn role_answer(
    admin: &Admin,
    state: &AppState,
    role: &RoleName,
) -> Result<Markup, CoreError> {
    let gh = &state.0.gh;
    let listing = gh.show_role(admin.ctx(), role).await?;
    let types: Vec<String> = gh
        .config()
        .types()
        .values()
        .filter(|t| {
            t.entries
                .iter()
                .any(|e| matches!(e, Entry::Role(r) if r == role))
        })
        .map(|t| t.name.to_string())
        .collect();
    // Users who carry the role in their own entries, scanned by id a page at a time.
    let mut users = Vec::new();
    let mut query = UserQuery {
        with_entries: true,
        limit: 1000,
        ..UserQuery::default()
    };
    loop {
        let page = gh.list_users(admin.ctx(), &query).await?;
        let n = page.items.len() as u64;
        users.extend(page.items.into_iter().filter(|u| {
            u.entries
                .iter()
                .any(|e| matches!(e, Entry::Role(r) if r == role))
        }));
        if n < query.limit || users.len() >= 1000 {
            break;
        }
        query.offset += query.limit;
    }
    Ok(html! {
        section.card id="answer" aria-labelledby="h-answer" tabindex="-1" {
            h2 id="h-answer" { "Who holds the role " a href=(format!("/admin/roles/{}", pct(&listing.name))) { (listing.name) } }
            h3 { "User types that include it" }
            @if types.is_empty() { p { "None." } } @else {
                ul { @for t in &types { li { a href=(format!("/admin/users?type={}", pct(t))) { (t) } " (every user of this type)" } } }
            }
            h3 { "Users who have it among their own roles (" (users.len()) ")" }
            @if users.is_empty() { p { "None." } } @else {
                ul { @for u in &users { li { a href=(format!("/admin/users/{}", u.id)) { (u.email.as_str()) } } } }
            }
            p.hint { "A user may still lose a privilege of the role to a later -privilege entry or a deny; the explain page shows the walk for one user." }
        }
    })
}

/// `GET /admin/holders`.
pub async fn page(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<HoldersQuery>,
) -> Response {
    let after = match q.after.trim() {
        "" => 0,
        a => match a.parse::<i64>() {
            Ok(n) if n >= 0 => n,
            _ => {
                return admin.bad_request(&format!(
                    "“{}” is not a user id to continue after.",
                    gatehouse_core::text::shorten(a)
                ))
            }
        },
    };
    let result = match (q.privilege.trim(), q.role.trim()) {
        ("", "") => Ok(html! {}),
        (p, "") => match Privilege::new(p) {
            Ok(p) => privilege_answer(&admin, &state, &p, after).await,
            Err(e) => Err(CoreError::invalid("privilege", e.to_string())),
        },
        ("", r) => match RoleName::new(r) {
            Ok(r) => role_answer(&admin, &state, &r).await,
            Err(e) => Err(CoreError::invalid("role", e.to_string())),
        },
        _ => Err(CoreError::invalid(
            "privilege",
            "give a privilege or a role, not both",
        )),
    };
    let (answer, posted) = match result {
        Ok(m) => (m, None),
        Err(e @ (CoreError::Forbidden { .. } | CoreError::Internal(_) | CoreError::Policy(_))) => {
            return error_page(&admin.chrome("holders"), e)
        }
        Err(e) => (
            html! {},
            Some(Posted {
                form: "holders",
                fields: Fields(vec![
                    ("privilege".into(), q.privilege.clone()),
                    ("role".into(), q.role.clone()),
                ]),
                error: field_error(&e),
            }),
        ),
    };
    let body = html! { (form(&q, posted.as_ref())) (answer) };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "holders", "Who holds a privilege or a role", body)
}
