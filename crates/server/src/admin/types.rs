//! User types: each type, where it is defined, its entries in order and what a user of that
//! type with nothing of their own holds, with where each privilege comes from.

use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::layout::pct;
use super::{error_page, Admin};
use crate::AppState;

/// `GET /admin/types`.
pub async fn list(admin: Admin, State(state): State<AppState>) -> Response {
    let types = match state.0.gh.list_types(admin.ctx()).await {
        Ok(t) => t,
        Err(e) => return error_page(&admin.chrome("types"), e),
    };
    let default_type = state.0.gh.settings().default_type.to_string();
    let body = html! {
        p.hint {
            "A user's type gives them its entries first (roles, +privilege and -privilege, in \
             order); the user's own roles and entries follow, then grants and denies. New \
             users get the type " code { (default_type) } "."
        }
        nav.toc aria-label="User types" {
            ul { @for t in &types { li { a href=(format!("#type-{}", pct(&t.name))) { (t.name) } } } }
        }
        @for t in &types {
            section.card id=(format!("type-{}", pct(&t.name))) aria-labelledby=(format!("h-type-{}", pct(&t.name))) {
                h2 id=(format!("h-type-{}", pct(&t.name))) { (t.name) }
                p { "Defined " (t.origin) ". " a href=(format!("/admin/users?type={}", pct(&t.name))) { "Users of this type" } }
                h3 { "Entries, in order" }
                @if t.entries.is_empty() { p { "None." } } @else {
                    ol.entries { @for e in &t.entries { li {
                        @if e.starts_with(['+', '-']) { code { (e) } } @else { a href=(format!("/admin/roles/{}", pct(e))) { code { (e) } } }
                    } } }
                }
                details {
                    summary { "What a user of this type holds (" (t.privileges.len()) " privileges)" }
                    div.table-wrap {
                        table.stack {
                            caption.sr-only { "Privileges of " (t.name) }
                            thead { tr { th scope="col" { "Privilege" } th scope="col" { "Where it comes from" } } }
                            tbody {
                                @for p in &t.privileges {
                                    tr { td data-label="Privilege" { code { (p.privilege) } } td data-label="Where it comes from" { (p.source) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    admin.page("types", "User types", body)
}
