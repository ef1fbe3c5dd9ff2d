//! The users list (search, filters, sorting, page sizes and numbers, bulk actions, CSV
//! export), the new-user form, a user's page with every form that changes the user (the
//! forms post to [`super::user_edit`]), a user's effective privileges, and deleting a user.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::text::{AFFILIATIONS_MAX, FULL_NAME_MAX};
use gatehouse_core::{
    CoreError, CreateUser, Email, GrantTo, Password, PasswordSource, SortDirection, User,
    UserQuery, UserRef, UserSort, UserSortField, Username,
};
use gatehouse_policy::{Entry, TypeName, UserId};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{
    button_form, card, csrf_field, needs, pct, when, yes_no, FormView, Input, Marked, Posted,
};
use super::{changed, error_page, refused, user_id, Admin, AdminForm, Refused};
use crate::AppState;

/// The page sizes the list offers.
const PAGE_SIZES: [u64; 4] = [10, 25, 50, 100];
/// The page size when none is asked for.
const DEFAULT_PAGE_SIZE: u64 = 25;
/// Characters an email may have (the core's rule).
pub(crate) const EMAIL_MAX: usize = 254;
/// Characters a username may have (the core's rule).
pub(crate) const USERNAME_MAX: usize = 256;
/// The core's username rule, as a pattern valid under Chrome's `v` flag.
pub(crate) const USERNAME_PATTERN: &str = "[A-Za-z0-9_\\-]{3,256}";

/// Query of the users list. Every value arrives as text and is checked here, so a bad one
/// answers with a 400 page in the panel's layout rather than a plain-text rejection.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    user_type: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    confirmed: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    size: String,
    #[serde(default)]
    sort: String,
}

/// A checked [`ListQuery`].
struct Listing {
    query: UserQuery,
    page: u64,
    size: u64,
    sort: UserSort,
}

/// The sortable columns, with their headings.
const COLUMNS: &[(UserSortField, &str)] = &[
    (UserSortField::Id, "Id"),
    (UserSortField::Email, "Email"),
    (UserSortField::Username, "Username"),
    (UserSortField::FullName, "Name"),
    (UserSortField::Type, "Type"),
    (UserSortField::Active, "Active"),
    (UserSortField::Confirmed, "Confirmed"),
    (UserSortField::Created, "Created"),
];

fn descending(sort: UserSort) -> bool {
    sort.direction == SortDirection::Descending
}

fn yes_no_filter(name: &str, v: &str) -> Result<Option<bool>, String> {
    match v {
        "yes" => Ok(Some(true)),
        "no" => Ok(Some(false)),
        "" => Ok(None),
        other => Err(format!(
            "“{}” is not a value for {name}; use yes, no or leave it empty.",
            gatehouse_core::text::shorten(other)
        )),
    }
}

fn listing(q: &ListQuery) -> Result<Listing, String> {
    let page = match q.page.trim() {
        "" => 1,
        p => p
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| {
                format!(
                    "“{}” is not a page number; pages are numbered from 1.",
                    gatehouse_core::text::shorten(p)
                )
            })?,
    };
    let size = match q.size.trim() {
        "" => DEFAULT_PAGE_SIZE,
        s => s
            .parse::<u64>()
            .ok()
            .filter(|n| PAGE_SIZES.contains(n))
            .ok_or_else(|| {
                format!(
                    "“{}” is not a page size; use 10, 25, 50 or 100.",
                    gatehouse_core::text::shorten(s)
                )
            })?,
    };
    let user_type = match q.user_type.trim() {
        "" => None,
        t => Some(TypeName::new(t).map_err(|e| super::plain(&e.to_string()))?),
    };
    let sort = match q.sort.trim() {
        "" => UserSort::ascending(UserSortField::Id),
        s => s
            .parse::<UserSort>()
            .map_err(|e| super::plain(&e.to_string()))?,
    };
    let text = q.q.trim();
    let query = UserQuery {
        text: (!text.is_empty()).then(|| text.to_owned()),
        user_type,
        active: yes_no_filter("active", q.active.trim())?,
        confirmed: yes_no_filter("confirmed", q.confirmed.trim())?,
        password_scheme: None,
        offset: (page - 1) * size,
        limit: size,
        with_entries: false,
        after_id: None,
    };
    Ok(Listing {
        query,
        page,
        size,
        sort,
    })
}

pub(crate) fn type_options(state: &AppState, any: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if any {
        out.push((String::new(), "any".to_owned()));
    }
    out.extend(
        state
            .0
            .gh
            .config()
            .types()
            .keys()
            .map(|t| (t.to_string(), t.to_string())),
    );
    out
}

fn tri() -> Vec<(String, String)> {
    vec![
        (String::new(), "any".into()),
        ("yes".into(), "yes".into()),
        ("no".into(), "no".into()),
    ]
}

/// The address of the list with `q`, changed by `f`.
fn link(q: &ListQuery, f: impl FnOnce(&mut ListQuery)) -> String {
    let mut q = q.clone();
    f(&mut q);
    let mut parts = Vec::new();
    for (k, v) in [
        ("q", &q.q),
        ("type", &q.user_type),
        ("active", &q.active),
        ("confirmed", &q.confirmed),
        ("sort", &q.sort),
        ("size", &q.size),
        ("page", &q.page),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", pct(v)));
        }
    }
    if parts.is_empty() {
        "/admin/users".to_owned()
    } else {
        format!("/admin/users?{}", parts.join("&"))
    }
}

/// The page numbers to offer: the first, the last, and two either side of the current one.
fn page_numbers(page: u64, pages: u64) -> Vec<Option<u64>> {
    let mut out = Vec::new();
    let mut last = 0;
    for p in 1..=pages {
        if p == 1 || p == pages || p.abs_diff(page) <= 2 {
            if p > last + 1 {
                out.push(None);
            }
            out.push(Some(p));
            last = p;
        }
    }
    out
}

/// `GET /admin/users`.
pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Response {
    list_page(&admin, &state, &q, None).await
}

async fn list_page(
    admin: &Admin,
    state: &AppState,
    q: &ListQuery,
    posted: Option<&Posted>,
) -> Response {
    let chrome = admin.chrome("users");
    let l = match listing(q) {
        Ok(l) => l,
        Err(why) => return admin.bad_request(&why),
    };
    let found = match state
        .0
        .gh
        .list_users_sorted(admin.ctx(), &l.query, l.sort)
        .await
    {
        Ok(p) => p,
        Err(e) => return error_page(&chrome, e),
    };
    let roles: Vec<String> = match state.0.gh.list_roles(admin.ctx()).await {
        Ok(r) => r.into_iter().map(|r| r.name).collect(),
        Err(e) => return error_page(&chrome, e),
    };
    let create_needs = admin.lacks("create_user").await;
    let bulk_needs = admin.lacks("user/staff/edit").await;
    let pages = found.total.div_ceil(l.size).max(1);
    let first = if found.total == 0 {
        0
    } else {
        l.query.offset + 1
    };
    let last = l.query.offset + found.items.len() as u64;
    let filters = FormView::new("filters", None);
    let bulk = FormView::new("bulk", posted);
    let bulk_fields = html! {
        (bulk.select("action", "With the selected users", &[
            ("activate".into(), "activate".into()),
            ("deactivate".into(), "deactivate".into()),
            ("confirm".into(), "confirm the email".into()),
            ("add".into(), "add a role".into()),
            ("remove".into(), "remove a role".into()),
        ], "activate"))
        (bulk.input(Input::text("entry", "Role (to add or remove)").list("role-names").max(200)
            .hint("A role name, +privilege or -privilege; only for adding or removing.")))
    };
    let size_options: Vec<(String, String)> = PAGE_SIZES
        .iter()
        .map(|s| (s.to_string(), format!("{s} per page")))
        .collect();
    let body = html! {
        p.actions {
            @if let Some(p) = create_needs {
                span.button.disabled aria-disabled="true" { "Create a user" }
                (needs(p))
            } @else {
                a.button href="/admin/users/new" { "Create a user" }
            }
            a.button.secondary href=(link(q, |q| { q.page.clear(); })
                .replacen("/admin/users", "/admin/users/export.csv", 1)) { "Export these users as CSV" }
        }
        form.filters method="get" action="/admin/users" role="search" {
            (filters.input(Input::text("q", "Search (email, username, name, affiliation)")
                .kind("search").value(&q.q).max(gatehouse_core::text::SEARCH_CHARS_MAX)))
            (filters.select("type", "Type", &type_options(state, true), &q.user_type))
            (filters.select("active", "Active", &tri(), &q.active))
            (filters.select("confirmed", "Confirmed", &tri(), &q.confirmed))
            (filters.select("size", "Page size", &size_options, &l.size.to_string()))
            input type="hidden" name="sort" value=(l.sort.to_string());
            p.field { button type="submit" { "Search" } }
        }
        p.count aria-live="polite" { (first) "–" (last) " of " (found.total) " users" }
        form id="bulk" method="post" action="/admin/users/bulk" {
            (csrf_field(&admin.csrf))
            input type="hidden" name="back" value=(link(q, |_| {}));
            div.table-wrap {
                table.stack {
                    caption.sr-only { "Users, sorted by " (l.sort.to_string()) }
                    thead { tr {
                        th scope="col" { span.sr-only { "Select" } }
                        @for (field, heading) in COLUMNS {
                            @let current = l.sort.field == *field;
                            @let next = if current && !descending(l.sort) { UserSort::descending(*field) } else { UserSort::ascending(*field) };
                            th scope="col" aria-sort=[current.then(|| if descending(l.sort) { "descending" } else { "ascending" })] {
                                a href=(link(q, |q| { q.sort = next.to_string(); q.page.clear(); })) {
                                    (heading)
                                    @if current { span aria-hidden="true" { @if descending(l.sort) { " ▼" } @else { " ▲" } } }
                                    span.sr-only { ", sort" }
                                }
                            }
                        }
                        th scope="col" { "Affiliations" }
                    } }
                    tbody {
                        @for u in &found.items {
                            tr {
                                td data-label="Select" {
                                    label.tap {
                                        input type="checkbox" name="ids" value=(u.id) id=(format!("sel-{}", u.id))
                                            aria-label=(format!("Select {}", u.email));
                                    }
                                }
                                td data-label="Id" { (u.id) }
                                td data-label="Email" { a href=(format!("/admin/users/{}", u.id)) { (Marked(u.email.as_str())) } }
                                td data-label="Username" { (Marked(u.username.as_ref().map_or("", |n| n.as_str()))) }
                                td data-label="Name" { (u.full_name) }
                                td data-label="Type" { (u.user_type.as_ref().map(ToString::to_string).unwrap_or_default()) }
                                td data-label="Active" { (yes_no(u.active)) }
                                td data-label="Confirmed" { (yes_no(u.confirmed())) }
                                td data-label="Created" { (u.created.format("%Y-%m-%d")) }
                                td data-label="Affiliations" { (u.affiliations) }
                            }
                        }
                        @if found.items.is_empty() {
                            tr { td colspan="10" { "No users match." } }
                        }
                    }
                }
            }
            fieldset.card.bulk disabled[bulk_needs.is_some()] {
                legend { "Act on the selected users" }
                @if let Some(p) = bulk_needs { (needs(p)) }
                (bulk_fields)
                (bulk.summary())
                p { button type="submit" { "Apply to the selected users" } }
            }
        }
        datalist id="role-names" { @for r in &roles { option value=(r) {} } }
        nav.pager aria-label="Pages" {
            @if l.page > 1 {
                a href=(link(q, |q| q.page = (l.page - 1).to_string())) rel="prev" { "← Previous" }
            }
            @for p in page_numbers(l.page, pages) {
                @match p {
                    Some(p) if p == l.page => { span aria-current="page" { (p) } }
                    Some(p) => { a href=(link(q, |q| q.page = p.to_string())) aria-label=(format!("Page {p}")) { (p) } }
                    None => { span aria-hidden="true" { "…" } }
                }
            }
            @if last < found.total {
                a href=(link(q, |q| q.page = (l.page + 1).to_string())) rel="next" { "Next →" }
            }
        }
    };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "users", "Users", body)
}

/// Makes a spreadsheet cell of a value: quoted when it holds a separator, and with a `'` in
/// front of what a spreadsheet would take for a formula.
pub(crate) fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

/// A CSV download answer.
pub(crate) fn csv_response(file: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /admin/users/export.csv`: every user the current filter matches, in its order.
pub async fn export_csv(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Response {
    let mut l = match listing(&q) {
        Ok(l) => l,
        Err(why) => return admin.bad_request(&why),
    };
    let mut out =
        String::from("id,email,username,full_name,affiliations,type,active,confirmed,created\r\n");
    // A page at a time, so a large repository is not held twice in memory.
    l.query.limit = 1000;
    l.query.offset = 0;
    loop {
        let page = match state
            .0
            .gh
            .list_users_sorted(admin.ctx(), &l.query, l.sort)
            .await
        {
            Ok(p) => p,
            Err(e) => return error_page(&admin.chrome("users"), e),
        };
        for u in &page.items {
            let row = [
                u.id.to_string(),
                u.email.to_string(),
                u.username
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                u.full_name.clone(),
                u.affiliations.clone(),
                u.user_type
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                yes_no(u.active).to_owned(),
                yes_no(u.confirmed()).to_owned(),
                u.created.to_rfc3339(),
            ];
            out.push_str(
                &row.iter()
                    .map(|c| csv_cell(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
        if page.items.len() < 1000 {
            break;
        }
        l.query.offset += 1000;
    }
    csv_response("users.csv", out)
}

/// `POST /admin/users/bulk`: one action on the selected users, all or nothing.
pub async fn bulk(State(state): State<AppState>, form: AdminForm) -> Response {
    let AdminForm { admin, fields } = form;
    let back = Some(fields.get("back"))
        .filter(|b| b.starts_with("/admin/users") && !b.contains("//"))
        .unwrap_or("/admin/users")
        .to_owned();
    let result = async {
        let ids: Vec<UserId> = fields
            .all("ids")
            .iter()
            .map(|v| {
                v.parse::<i64>().map(UserId).map_err(|_| {
                    CoreError::invalid(
                        "ids",
                        format!("“{}” is not a user id", gatehouse_core::text::shorten(v)),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            return Err(CoreError::invalid(
                "ids",
                "select at least one user with the boxes in the first column",
            ));
        }
        let entry = || -> Result<Entry, CoreError> {
            let raw = fields.get("entry");
            if raw.is_empty() {
                return Err(CoreError::invalid(
                    "entry",
                    "name the role to add or remove",
                ));
            }
            raw.parse::<Entry>()
                .map_err(|e| CoreError::invalid("entry", e.to_string()))
        };
        let action = match fields.get("action") {
            "activate" => gatehouse_core::BulkAction::Activate,
            "deactivate" => gatehouse_core::BulkAction::Deactivate,
            "confirm" => gatehouse_core::BulkAction::Confirm,
            "add" => gatehouse_core::BulkAction::AddEntry(entry()?),
            "remove" => gatehouse_core::BulkAction::RemoveEntry(entry()?),
            other => {
                return Err(CoreError::invalid(
                    "action",
                    format!(
                        "“{}” is not an action; choose one from the list",
                        gatehouse_core::text::shorten(other)
                    ),
                ))
            }
        };
        let n = ids.len();
        let outcome = state.0.gh.bulk_users(admin.ctx(), &ids, action).await?;
        Ok(format!(
            "{} of the {n} selected users changed; the others were already so",
            outcome.changed.len()
        ))
    }
    .await;
    match result {
        Ok(text) => changed(&back, None, text),
        Err(e) => match refused(&admin, "bulk", fields, e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => {
                let q = back
                    .split_once('?')
                    .and_then(|(_, qs)| serde_urlencoded_query(qs))
                    .unwrap_or_default();
                list_page(&admin, &state, &q, Some(&posted)).await
            }
        },
    }
}

/// The list's query from the `back` address of a bulk form.
fn serde_urlencoded_query(qs: &str) -> Option<ListQuery> {
    axum::extract::Query::<ListQuery>::try_from_uri(&format!("/admin/users?{qs}").parse().ok()?)
        .ok()
        .map(|q| q.0)
}

/// `GET /admin/users/new`.
pub async fn new_form(admin: Admin, State(state): State<AppState>) -> Response {
    new_page(&admin, &state, None).await
}

async fn new_page(admin: &Admin, state: &AppState, posted: Option<&Posted>) -> Response {
    let default_type = state.0.gh.settings().default_type.to_string();
    let f = FormView::new("create", posted);
    let lacks = admin.lacks("create_user").await;
    let fields = html! {
        (f.input(Input::text("email", "Email").kind("email").required().max(EMAIL_MAX).autocomplete("off")))
        (f.input(Input::text("username", "Username (optional)").max(USERNAME_MAX)
            .pattern(USERNAME_PATTERN).autocomplete("off")
            .hint("3 to 256 letters, digits, - or _.")))
        (f.input(Input::text("full_name", "Full name").max(FULL_NAME_MAX)))
        (f.input(Input::text("affiliations", "Affiliations").max(AFFILIATIONS_MAX)))
        (f.select("type", "User type", &type_options(state, false), &default_type))
        (f.input(Input::text("password", "Password (leave empty to generate one, shown once)")
            .kind("password").autocomplete("new-password").max(1024)))
        (f.checkbox("active", "Active", true))
        (f.checkbox("confirm", "Email confirmed", true))
    };
    let body = html! {
        form.card method="post" action="/admin/users" {
            fieldset disabled[lacks.is_some()] {
                legend.sr-only { "New user" }
                @if let Some(p) = lacks { (needs(p)) }
                (csrf_field(&admin.csrf))
                (f.summary())
                (fields)
                p { button type="submit" { "Create user" } }
            }
        }
    };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "users", "Create a user", body)
}

/// `POST /admin/users`: creates a user; a generated password is shown once on the answer.
pub async fn create(State(state): State<AppState>, form: AdminForm) -> Response {
    let AdminForm { admin, fields } = form;
    let gh = &state.0.gh;
    let policy = &gh.settings().password_policy;
    let result: Result<(User, Option<Password>), CoreError> = async {
        let email = Email::new(fields.get("email"))?;
        let username = match fields.get("username") {
            "" => None,
            u => Some(Username::new(u)?),
        };
        let user_type = match fields.get("type") {
            "" => None,
            t => Some(TypeName::new(t)?),
        };
        let (password, generated) = match fields.raw("password") {
            "" => {
                let p = Password::random();
                (p.clone(), Some(p))
            }
            p => (
                Password::new(p, policy)
                    .map_err(|e| CoreError::invalid("password", e.to_string()))?,
                None,
            ),
        };
        let user = gh
            .create_user(
                admin.ctx(),
                CreateUser {
                    email,
                    username,
                    full_name: fields.get("full_name").to_owned(),
                    affiliations: fields.get("affiliations").to_owned(),
                    password: PasswordSource::Clear(password),
                    active: fields.ticked("active"),
                    confirm: fields.ticked("confirm"),
                    user_type,
                    entries: Vec::new(),
                },
            )
            .await?;
        Ok((user, generated))
    }
    .await;
    match result {
        Ok((user, Some(p))) => password_shown(&admin, &user, &p, "created"),
        Ok((user, None)) => changed(
            &format!("/admin/users/{}", user.id),
            Some("account"),
            format!("user {} created", user.label()),
        ),
        Err(e) => match refused(&admin, "create", fields.without_secrets(), e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => new_page(&admin, &state, Some(&posted)).await,
        },
    }
}

/// The one page that shows a generated password (not cached, never shown again).
pub(crate) fn password_shown(admin: &Admin, user: &User, p: &Password, what: &str) -> Response {
    let body = html! {
        div.notice.ok role="status" id="notice" tabindex="-1" autofocus {
            "user " (user.label()) " " (what) "; a password was generated"
        }
        p { "The new password of " strong { (user.email.as_str()) } " is:" }
        p { output.secret id="generated-password" { (p.expose()) } }
        p { "Copy it now and hand it over safely: it is shown only this once and is not stored anywhere in clear text." }
        p { a.button href=(format!("/admin/users/{}", user.id)) { "Go to the user's page" } }
    };
    admin.page("users", "Password generated", body)
}

/// `GET /admin/users/{id}`.
pub async fn show(admin: Admin, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(why) => return admin.not_found(&why),
    };
    user_page(&admin, &state, id, None).await
}

/// What a user's page may do, asked once per page.
struct UserPerms {
    staff: Option<&'static str>,
    edit: Option<&'static str>,
    destroy: Option<&'static str>,
    grants: Option<&'static str>,
}

/// A user's page, with `posted` the form to refill after a refusal (422).
pub(crate) async fn user_page(
    admin: &Admin,
    state: &AppState,
    id: UserId,
    posted: Option<&Posted>,
) -> Response {
    let chrome = admin.chrome("users");
    let gh = &state.0.gh;
    let who = UserRef::Id(id);
    let user = match gh.show_user(admin.ctx(), &who).await {
        Ok(u) => u,
        Err(e) => return error_page(&chrome, e),
    };
    let grants = match gh
        .list_grants(admin.ctx(), Some(&GrantTo::User(who.clone())))
        .await
    {
        Ok(g) => g,
        Err(e) => return error_page(&chrome, e),
    };
    let roles: Vec<String> = match gh.list_roles(admin.ctx()).await {
        Ok(r) => r.into_iter().map(|r| r.name).collect(),
        Err(e) => return error_page(&chrome, e),
    };
    let own = id == admin.id;
    let perms = UserPerms {
        staff: admin.lacks("user/staff/edit").await,
        edit: if own {
            None
        } else {
            admin.lacks("user/edit").await
        },
        destroy: admin.lacks("user/destroy").await,
        grants: admin.lacks("config/edit").await,
    };
    let csrf = admin.csrf.as_str();
    let base = format!("/admin/users/{id}");
    let ty = user
        .user_type
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let scope: Vec<String> = user
        .editorial_scope
        .iter()
        .map(ToString::to_string)
        .collect();
    let account = html! {
        dl.facts {
            dt { "Id" } dd { (id) }
            dt { "Email" } dd { (Marked(user.email.as_str())) }
            dt { "Username" } dd { @match &user.username { Some(u) => { (Marked(u.as_str())) } None => { "—" } } }
            dt { "Active" } dd id="state-active" { (yes_no(user.active)) }
            dt { "Confirmed" } dd id="state-confirmed" {
                @match user.confirmed_at { Some(t) => { "yes, " (when(&t)) } None => { "no" } }
            }
            dt { "Password" } dd { @if user.password_hash.is_some() { "set" } @else { "not set" } }
            dt { "Created" } dd { (when(&user.created)) }
            dt { "Updated" } dd { (when(&user.updated)) }
        }
        @if let Some(p) = perms.staff { (needs(p)) }
        div.actions {
            @if user.active {
                (button_form(csrf, &format!("{base}/deactivate"), &[], "Deactivate", "danger", perms.staff))
            } @else {
                (button_form(csrf, &format!("{base}/activate"), &[], "Activate", "", perms.staff))
            }
            @if !user.confirmed() {
                (button_form(csrf, &format!("{base}/confirm"), &[], "Confirm email", "", perms.staff))
                (button_form(csrf, &format!("{base}/resend"), &[], "Resend the confirmation email", "secondary", perms.staff))
            }
            a.button.secondary href=(format!("/admin/explain?user={id}")) { "Explain a privilege" }
            a.button.secondary href=(format!("{base}/effective")) { "Effective privileges" }
            a.button.secondary href=(format!("/admin/history?user={id}")) { "History" }
            @if perms.destroy.is_some() {
                span.button.danger.disabled aria-disabled="true" title="needs the privilege user/destroy" { "Delete…" }
            } @else {
                a.button.danger href=(format!("{base}/delete")) { "Delete…" }
            }
        }
    };
    let identity = {
        let f = FormView::new("identity", posted);
        let lacks = perms.staff;
        let fields = html! {
            (f.input(Input::text("email", "Email").kind("email").required().max(EMAIL_MAX)
                .value(user.email.as_str()).autocomplete("off")))
            (f.input(Input::text("username", "Username (empty: none)").max(USERNAME_MAX)
                .pattern(USERNAME_PATTERN).autocomplete("off")
                .value(user.username.as_ref().map_or("", |u| u.as_str()))))
        };
        html! {
            form method="post" action=(format!("{base}/identity")) {
                fieldset disabled[lacks.is_some()] {
                    legend.sr-only { "Email and username" }
                    @if let Some(p) = lacks { (needs(p)) }
                    (csrf_field(csrf)) (f.summary()) (fields)
                    p { button type="submit" { "Save email and username" } }
                }
            }
        }
    };
    let profile = {
        let f = FormView::new("profile", posted);
        let fields = html! {
            (f.input(Input::text("full_name", "Full name").max(FULL_NAME_MAX).value(&user.full_name)))
            (f.input(Input::text("affiliations", "Affiliations").max(AFFILIATIONS_MAX).value(&user.affiliations)))
        };
        html! {
            form method="post" action=(format!("{base}/profile")) {
                fieldset disabled[perms.edit.is_some()] {
                    legend.sr-only { "Profile" }
                    @if let Some(p) = perms.edit { (needs(p)) }
                    (csrf_field(csrf)) (f.summary()) (fields)
                    p { button type="submit" { "Save profile" } }
                }
            }
        }
    };
    let user_type = {
        let f = FormView::new("type", posted);
        let fields = html! { (f.select("type", "User type", &type_options(state, false), &ty)) };
        html! {
            form method="post" action=(format!("{base}/type")) {
                fieldset disabled[perms.staff.is_some()] {
                    legend.sr-only { "User type" }
                    (csrf_field(csrf)) (f.summary()) (fields)
                    p { button type="submit" { "Set type" } a href="/admin/types" { " What each type includes" } }
                }
            }
        }
    };
    let scope_card = {
        let f = FormView::new("scope", posted);
        let fields = html! {
            (f.input(Input::area("scope", "Filters, one per line, as field=value,value;field=value", 4)
                .value(&scope.join("\n"))
                .hint("An item is in scope when any line matches; empty: every item. At most 16 fields of 64 characters, 100 values of 200 characters each.")))
        };
        html! {
            form method="post" action=(format!("{base}/scope")) {
                fieldset disabled[perms.staff.is_some()] {
                    legend.sr-only { "Editorial scope" }
                    (csrf_field(csrf)) (f.summary()) (fields)
                    p { button type="submit" { "Save scope" } }
                }
            }
        }
    };
    let password = {
        let f = FormView::new("password", posted);
        let fields = html! {
            (f.input(Input::text("password", "New password").kind("password").required()
                .autocomplete("new-password").max(1024)))
        };
        let lacks = if own { None } else { perms.staff };
        html! {
            p.hint { "Setting a password ends the user's sessions and tokens." }
            form method="post" action=(format!("{base}/password")) {
                fieldset disabled[lacks.is_some()] {
                    legend.sr-only { "Set a password" }
                    (csrf_field(csrf)) (f.summary()) (fields)
                    @if own {
                        (f.input(Input::text("current_password", "Your current password").kind("password")
                            .autocomplete("current-password").max(1024)))
                    }
                    p { button type="submit" { "Set password" } }
                }
            }
            @if !own {
                (button_form(csrf, &format!("{base}/password"), &[("generate", "1")], "Generate a random password", "secondary", lacks))
            }
        }
    };
    let grants_card = html! {
        @if grants.is_empty() {
            p { "None." }
        } @else {
            ul { @for g in &grants { li { span class=(format!("tag {}", g.effect)) { (g.effect) } " " code { (g.privilege) } } } }
        }
        p {
            @if let Some(p) = perms.grants { (needs(p)) }
            @else { a href=(format!("/admin/grants?kind=user&target={}", pct(user.email.as_str()))) { "Allow or deny a privilege for this user" } }
        }
    };
    let title = if user.full_name.is_empty() {
        user.email.to_string()
    } else {
        format!("{} ({})", user.full_name, user.email)
    };
    let body = html! {
        (card("account", "Account", &chrome, account))
        (card("identity", "Email and username", &chrome, identity))
        (card("profile", "Profile", &chrome, profile))
        (card("type", "User type", &chrome, user_type))
        (card("roles", "Additional roles and privileges", &chrome,
            entries_section(csrf, &base, &user.entries, &roles, posted, perms.staff)))
        (card("scope", "Editorial scope", &chrome, scope_card))
        (card("password", "Password", &chrome, password))
        (card("grants", "Grants to this user", &chrome, grants_card))
    };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "users", &title, body)
}

fn entries_section(
    csrf: &str,
    base: &str,
    entries: &[Entry],
    roles: &[String],
    posted: Option<&Posted>,
    lacks: Option<&str>,
) -> Markup {
    let n = entries.len();
    let f = FormView::new("entries", posted);
    let fields = html! {
        (f.input(Input::text("entry", "Add a role name, +privilege or -privilege").required()
            .list("role-names").autocomplete("off").max(200)))
    };
    html! {
        p.hint {
            "Applied in this order after the user type's entries; the last operation on a privilege \
             wins. A role name adds the role; " code { "+priv" } " grants and " code { "-priv" }
            " removes a privilege."
        }
        @if let Some(p) = lacks { (needs(p)) }
        @if entries.is_empty() {
            p id="entries-empty" { "No entries of their own." }
        } @else {
            ol.entries id="entries" {
                @for (i, e) in entries.iter().enumerate() {
                    @let text = e.to_string();
                    @let idx = i.to_string();
                    li {
                        code { (text) }
                        " "
                        span.row-actions {
                            @if i > 0 {
                                (button_form(csrf, &format!("{base}/move"), &[("index", &idx), ("dir", "up")], &format!("Move {text} up"), "small secondary", lacks))
                            }
                            @if i + 1 < n {
                                (button_form(csrf, &format!("{base}/move"), &[("index", &idx), ("dir", "down")], &format!("Move {text} down"), "small secondary", lacks))
                            }
                            (button_form(csrf, &format!("{base}/remove"), &[("entry", &text)], &format!("Remove {text}"), "small danger", lacks))
                        }
                    }
                }
            }
        }
        form method="post" action=(format!("{base}/add")) {
            fieldset disabled[lacks.is_some()] {
                legend.sr-only { "Add an entry" }
                (csrf_field(csrf)) (f.summary()) (fields)
                datalist id="role-names" { @for r in roles { option value=(r) {} } }
                p { button type="submit" { "Add entry" } }
            }
        }
    }
}

/// `GET /admin/users/{id}/effective`: what the user holds, and where each comes from.
pub async fn effective(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(why) => return admin.not_found(&why),
    };
    let chrome = admin.chrome("users");
    let view = match state.0.gh.privileges(admin.ctx(), &UserRef::Id(id)).await {
        Ok(v) => v,
        Err(e) => return error_page(&chrome, e),
    };
    let table = |caption: &str, rows: &[gatehouse_policy::HeldListing], from: &str| {
        html! {
            div.table-wrap {
                table.stack {
                    caption { (caption) " (" (rows.len()) ")" }
                    thead { tr { th scope="col" { "Privilege" } th scope="col" { (from) } } }
                    tbody {
                        @for r in rows {
                            tr {
                                td data-label="Privilege" { a href=(format!("/admin/holders?privilege={}", pct(&r.privilege))) { code { (r.privilege) } } }
                                td data-label=(from) { (r.source) }
                            }
                        }
                        @if rows.is_empty() { tr { td colspan="2" { "None." } } }
                    }
                }
            }
        }
    };
    let body = html! {
        p {
            a href=(format!("/admin/users/{id}")) { "Back to " (view.user) }
            " · "
            a href=(format!("/admin/explain?user={id}")) { "Explain one privilege" }
        }
        @if !view.active {
            p.notice.error { "This account is not active: it holds only the public privileges." }
        }
        @if view.superuser {
            p.notice.ok { "This account holds superuser-access: every privilege that is not denied to it." }
        }
        (table("Held privileges", &view.privileges, "Where it comes from"))
        (table("Denied privileges", &view.denied, "Denied by"))
        (table("Public privileges (everyone, also anonymous visitors)", &view.public, "Defined by"))
    };
    admin.page(
        "users",
        &format!("Effective privileges of {}", view.user),
        body,
    )
}

/// `GET /admin/users/{id}/delete`: the confirmation step, naming the user.
pub async fn delete_form(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(why) => return admin.not_found(&why),
    };
    let user = match state.0.gh.show_user(admin.ctx(), &UserRef::Id(id)).await {
        Ok(u) => u,
        Err(e) => return error_page(&admin.chrome("users"), e),
    };
    let lacks = admin.lacks("user/destroy").await;
    let body = html! {
        div.card {
            p { "Delete the account " strong { (Marked(user.email.as_str())) } " (id " (id) ")?" }
            p { "Their sessions, tokens and own grants end with it; the history keeps what was done. This cannot be undone." }
            @if let Some(p) = lacks { (needs(p)) }
            div.actions {
                (button_form(&admin.csrf, &format!("/admin/users/{id}/delete"), &[("confirm", user.email.as_str())],
                    &format!("Delete {}", user.email), "danger", lacks))
                a.button.secondary href=(format!("/admin/users/{id}")) { "Keep the account" }
            }
        }
    };
    admin.page("users", &format!("Delete {}?", user.email), body)
}

/// `POST /admin/users/{id}/delete`: deletes, when the form names the same account.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Response {
    let AdminForm { admin, fields } = form;
    let id = match user_id(&id) {
        Ok(id) => id,
        Err(why) => return admin.not_found(&why),
    };
    let gh = &state.0.gh;
    let result = async {
        let user = gh.show_user(admin.ctx(), &UserRef::Id(id)).await?;
        if fields.get("confirm") != user.email.as_str() {
            return Err(CoreError::invalid(
                "confirm",
                "the confirmation does not name this account; open its delete page again",
            ));
        }
        gh.delete_user(admin.ctx(), &UserRef::Id(id)).await
    }
    .await;
    match result {
        Ok(u) => changed("/admin/users", None, format!("user {} deleted", u.label())),
        Err(e) => match refused(&admin, "delete", fields, e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => admin.page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                "users",
                "Not deleted",
                html! { p.notice.error role="alert" { (posted.error.message) } p { a href=(format!("/admin/users/{id}")) { "Back to the user" } } },
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn page_numbers_keep_the_ends_and_the_neighbourhood() {
        assert_eq!(page_numbers(1, 3), vec![Some(1), Some(2), Some(3)]);
        assert_eq!(
            page_numbers(10, 20),
            vec![
                Some(1),
                None,
                Some(8),
                Some(9),
                Some(10),
                Some(11),
                Some(12),
                None,
                Some(20)
            ]
        );
    }

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }

    #[test]
    fn bad_list_values_are_named() {
        let q = ListQuery {
            page: "abc".into(),
            ..ListQuery::default()
        };
        assert!(listing(&q)
            .err()
            .unwrap()
            .contains("“abc” is not a page number"));
        let q = ListQuery {
            size: "7".into(),
            ..ListQuery::default()
        };
        assert!(listing(&q).err().unwrap().contains("page size"));
        let q = ListQuery {
            sort: "-email".into(),
            ..ListQuery::default()
        };
        let l = listing(&q).unwrap();
        assert!(descending(l.sort));
        assert_eq!(l.sort.to_string(), "-email");
    }
}
