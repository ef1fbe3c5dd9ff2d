//! The users list (search, filters, paging), the new-user form and a user's page with every
//! form that changes the user (the forms post to [`super::user_edit`]).

use std::fmt::Write as _;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use gatehouse_core::{
    CoreError, CreateUser, Email, GrantTo, Password, PasswordSource, User, UserQuery, UserRef,
    Username,
};
use gatehouse_policy::{Entry, TypeName, UserId};
use serde::Deserialize;

use super::html::{button_form, csrf_field, esc, esc_marked, pct, select, text_input};
use super::{done, error_page, Admin, AdminForm};
use crate::AppState;

const PAGE_SIZE: u64 = 25;

/// Query of the users list.
#[derive(Debug, Default, Deserialize)]
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
    page: Option<u64>,
}

fn yes_no(v: &str) -> Option<bool> {
    match v {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

fn type_options(state: &AppState, any: bool) -> Vec<(String, String)> {
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

fn tri(name: &str, label: &str, value: &str) -> String {
    select(
        name,
        label,
        &[
            (String::new(), "any".into()),
            ("yes".into(), "yes".into()),
            ("no".into(), "no".into()),
        ],
        value,
    )
}

/// `GET /admin/users`.
pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Response {
    let chrome = admin.chrome("users");
    let page = q.page.unwrap_or(1).max(1);
    let user_type = if q.user_type.is_empty() {
        None
    } else {
        match TypeName::new(&q.user_type) {
            Ok(t) => Some(t),
            Err(e) => return error_page(&chrome, e.into()),
        }
    };
    let text = q.q.trim();
    let query = UserQuery {
        text: (!text.is_empty()).then(|| text.to_owned()),
        user_type,
        active: yes_no(&q.active),
        confirmed: yes_no(&q.confirmed),
        password_scheme: None,
        offset: (page - 1) * PAGE_SIZE,
        limit: PAGE_SIZE,
        with_entries: false,
        after_id: None,
    };
    let found = match state.0.gh.list_users(admin.ctx(), &query).await {
        Ok(p) => p,
        Err(e) => return error_page(&chrome, e),
    };
    let mut body = String::from(
        "<p><a class=\"button\" href=\"/admin/users/new\">Create a user</a></p>\
         <form method=\"get\" action=\"/admin/users\" class=\"filters\" role=\"search\">",
    );
    body.push_str(&text_input(
        "q",
        "Search (email, username, name, affiliation)",
        &q.q,
        "type=\"search\"",
    ));
    body.push_str(&select(
        "type",
        "Type",
        &type_options(&state, true),
        &q.user_type,
    ));
    body.push_str(&tri("active", "Active", &q.active));
    body.push_str(&tri("confirmed", "Confirmed", &q.confirmed));
    body.push_str("<p class=\"field\"><button type=\"submit\">Search</button></p></form>");
    let first = if found.total == 0 {
        0
    } else {
        query.offset + 1
    };
    let last = query.offset + found.items.len() as u64;
    let _ = write!(
        body,
        "<p class=\"count\" aria-live=\"polite\">{first}–{last} of {} users</p>",
        found.total
    );
    body.push_str(
        "<div class=\"table-wrap\"><table><caption class=\"sr-only\">Users</caption><thead><tr>\
         <th scope=\"col\">Id</th><th scope=\"col\">Email</th><th scope=\"col\">Username</th>\
         <th scope=\"col\">Name</th><th scope=\"col\">Affiliations</th><th scope=\"col\">Type</th>\
         <th scope=\"col\">Active</th><th scope=\"col\">Confirmed</th></tr></thead><tbody>",
    );
    for u in &found.items {
        let _ = write!(
            body,
            "<tr><td>{id}</td><td><a href=\"/admin/users/{id}\">{email}</a></td><td>{un}</td>\
             <td>{name}</td><td>{aff}</td><td>{ty}</td><td>{act}</td><td>{conf}</td></tr>",
            id = u.id,
            email = esc_marked(u.email.as_str()),
            un = esc_marked(u.username.as_ref().map_or("", |n| n.as_str())),
            name = esc(&u.full_name),
            aff = esc(&u.affiliations),
            ty = esc(&u
                .user_type
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()),
            act = if u.active { "yes" } else { "no" },
            conf = if u.confirmed() { "yes" } else { "no" },
        );
    }
    if found.items.is_empty() {
        body.push_str("<tr><td colspan=\"8\">No users match.</td></tr>");
    }
    body.push_str("</tbody></table></div>");
    let link = |p: u64| {
        format!(
            "/admin/users?q={}&amp;type={}&amp;active={}&amp;confirmed={}&amp;page={p}",
            pct(&q.q),
            pct(&q.user_type),
            pct(&q.active),
            pct(&q.confirmed)
        )
    };
    body.push_str("<nav class=\"pager\" aria-label=\"Pages\">");
    if page > 1 {
        let _ = write!(
            body,
            "<a href=\"{}\" rel=\"prev\">← Previous</a> ",
            link(page - 1)
        );
    }
    if last < found.total {
        let _ = write!(
            body,
            "<a href=\"{}\" rel=\"next\">Next →</a>",
            link(page + 1)
        );
    }
    body.push_str("</nav>");
    admin.page("users", "Users", &body)
}

/// `GET /admin/users/new`.
pub async fn new_form(admin: Admin, State(state): State<AppState>) -> Response {
    let default_type = state.0.gh.settings().default_type.to_string();
    let mut body = format!(
        "<form method=\"post\" action=\"/admin/users\" class=\"card\">{}",
        csrf_field(&admin.csrf)
    );
    body.push_str(&text_input(
        "email",
        "Email",
        "",
        "type=\"email\" required autocomplete=\"off\"",
    ));
    body.push_str(&text_input(
        "username",
        "Username (optional)",
        "",
        "autocomplete=\"off\"",
    ));
    body.push_str(&text_input("full_name", "Full name", "", ""));
    body.push_str(&text_input("affiliations", "Affiliations", "", ""));
    body.push_str(&select(
        "type",
        "User type",
        &type_options(&state, false),
        &default_type,
    ));
    body.push_str(
        "<p class=\"field\"><label for=\"f-password\">Password (leave empty to generate one, \
         shown once)</label><input id=\"f-password\" name=\"password\" type=\"password\" \
         autocomplete=\"new-password\"></p>\
         <p class=\"check\"><input type=\"checkbox\" id=\"f-active\" name=\"active\" value=\"1\" checked>\
         <label for=\"f-active\">Active</label></p>\
         <p class=\"check\"><input type=\"checkbox\" id=\"f-confirm\" name=\"confirm\" value=\"1\" checked>\
         <label for=\"f-confirm\">Email confirmed</label></p>\
         <p><button type=\"submit\">Create user</button></p></form>",
    );
    admin.page("users", "Create a user", &body)
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
            p => (Password::new(p, policy)?, None),
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
        Ok((user, None)) => done(
            &admin,
            &format!("/admin/users/{}", user.id),
            Ok(format!("user {} created", user.label())),
        ),
        Err(e) => done(&admin, "/admin/users/new", Err(e)),
    }
}

/// The one page that shows a generated password (not cached, never shown again).
pub(crate) fn password_shown(admin: &Admin, user: &User, p: &Password, what: &str) -> Response {
    let body = format!(
        "<div class=\"notice ok\" role=\"status\" id=\"notice\">user {label} {what}; a password \
         was generated</div>\
         <p>The new password of <strong>{email}</strong> is:</p>\
         <p><output class=\"secret\" id=\"generated-password\">{pw}</output></p>\
         <p>Copy it now and hand it over safely: it is shown only this once and is not stored \
         anywhere in clear text.</p>\
         <p><a class=\"button\" href=\"/admin/users/{id}\">Go to the user's page</a></p>",
        label = esc(&user.label()),
        email = esc(user.email.as_str()),
        pw = esc(p.expose()),
        id = user.id,
    );
    admin.page("users", "Password generated", &body)
}

fn target(id: i64) -> UserRef {
    UserRef::Id(UserId(id))
}

/// `GET /admin/users/{id}`.
pub async fn show(admin: Admin, State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    let chrome = admin.chrome("users");
    let gh = &state.0.gh;
    let who = target(id);
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
    let csrf = &admin.csrf;
    let base = format!("/admin/users/{id}");
    let mut b = String::new();
    // Summary.
    let _ = write!(
        b,
        "<section class=\"card\" aria-labelledby=\"h-summary\"><h2 id=\"h-summary\">Account</h2><dl class=\"facts\">\
         <dt>Id</dt><dd>{id}</dd><dt>Email</dt><dd>{email}</dd><dt>Username</dt><dd>{un}</dd>\
         <dt>Active</dt><dd id=\"state-active\">{act}</dd><dt>Confirmed</dt><dd id=\"state-confirmed\">{conf}</dd>\
         <dt>Password</dt><dd>{pw}</dd><dt>Created</dt><dd>{created}</dd><dt>Updated</dt><dd>{updated}</dd></dl>\
         <div class=\"actions\">",
        email = esc_marked(user.email.as_str()),
        un = esc_marked(user.username.as_ref().map_or("—", |u| u.as_str())),
        act = if user.active { "yes" } else { "no" },
        conf = user
            .confirmed_at
            .map_or_else(|| "no".to_owned(), |t| format!("yes, {}", t.format("%Y-%m-%d %H:%M UTC"))),
        pw = if user.password_hash.is_some() { "set" } else { "not set" },
        created = user.created.format("%Y-%m-%d %H:%M UTC"),
        updated = user.updated.format("%Y-%m-%d %H:%M UTC"),
    );
    if user.active {
        b.push_str(&button_form(
            csrf,
            &format!("{base}/deactivate"),
            &[],
            "Deactivate",
            "danger",
        ));
    } else {
        b.push_str(&button_form(
            csrf,
            &format!("{base}/activate"),
            &[],
            "Activate",
            "",
        ));
    }
    if !user.confirmed() {
        b.push_str(&button_form(
            csrf,
            &format!("{base}/confirm"),
            &[],
            "Confirm email",
            "",
        ));
    }
    let _ = write!(
        b,
        " <a class=\"button secondary\" href=\"/admin/explain?user={id}\">Explain a privilege</a></div></section>"
    );
    // Profile.
    let _ = write!(
        b,
        "<section class=\"card\" aria-labelledby=\"h-profile\"><h2 id=\"h-profile\">Profile</h2>\
         <form method=\"post\" action=\"{base}/profile\">{}{}{}<p><button type=\"submit\">Save profile</button></p></form></section>",
        csrf_field(csrf),
        text_input("full_name", "Full name", &user.full_name, ""),
        text_input("affiliations", "Affiliations", &user.affiliations, ""),
    );
    // Type.
    let ty = user
        .user_type
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let _ = write!(
        b,
        "<section class=\"card\" aria-labelledby=\"h-type\"><h2 id=\"h-type\">User type</h2>\
         <form method=\"post\" action=\"{base}/type\">{}{}<p><button type=\"submit\">Set type</button></p></form></section>",
        csrf_field(csrf),
        select("type", "User type", &type_options(&state, false), &ty),
    );
    // Own entries, in order.
    b.push_str(&entries_section(csrf, &base, &user.entries, &roles));
    // Scope.
    let scope: Vec<String> = user
        .editorial_scope
        .iter()
        .map(ToString::to_string)
        .collect();
    let _ = write!(
        b,
        "<section class=\"card\" aria-labelledby=\"h-scope\"><h2 id=\"h-scope\">Editorial scope</h2>\
         <form method=\"post\" action=\"{base}/scope\">{}\
         <p class=\"field\"><label for=\"f-scope\">Filters, one per line, as \
         <code>field=value,value;field=value</code> (an item is in scope when any line matches; \
         empty: every item)</label><textarea id=\"f-scope\" name=\"scope\" rows=\"4\">{}</textarea></p>\
         <p><button type=\"submit\">Save scope</button></p></form></section>",
        csrf_field(csrf),
        esc(&scope.join("\n")),
    );
    // Password.
    let _ = write!(
        b,
        "<section class=\"card\" aria-labelledby=\"h-password\"><h2 id=\"h-password\">Password</h2>\
         <p class=\"hint\">Setting a password ends the user's sessions and tokens.</p>\
         <form method=\"post\" action=\"{base}/password\">{}\
         <p class=\"field\"><label for=\"f-newpw\">New password</label>\
         <input id=\"f-newpw\" name=\"password\" type=\"password\" autocomplete=\"new-password\" required></p>\
         <p><button type=\"submit\">Set password</button></p></form>{}</section>",
        csrf_field(csrf),
        button_form(csrf, &format!("{base}/password"), &[("generate", "1")], "Generate a random password", "secondary"),
    );
    // Grants.
    b.push_str(
        "<section class=\"card\" aria-labelledby=\"h-grants\"><h2 id=\"h-grants\">Grants to this user</h2>",
    );
    if grants.is_empty() {
        b.push_str("<p>None.</p>");
    } else {
        b.push_str("<ul>");
        for g in &grants {
            let _ = write!(
                b,
                "<li><span class=\"tag {e}\">{e}</span> <code>{}</code></li>",
                esc(&g.privilege),
                e = g.effect
            );
        }
        b.push_str("</ul>");
    }
    let _ = write!(
        b,
        "<p><a href=\"/admin/grants?kind=user&amp;target={}\">Allow or deny a privilege for this user</a></p></section>",
        pct(user.email.as_str())
    );
    let title = if user.full_name.is_empty() {
        user.email.to_string()
    } else {
        format!("{} ({})", user.full_name, user.email)
    };
    admin.page("users", &title, &b)
}

fn entries_section(csrf: &str, base: &str, entries: &[Entry], roles: &[String]) -> String {
    let mut b = String::from(
        "<section class=\"card\" aria-labelledby=\"h-roles\"><h2 id=\"h-roles\">Additional roles and privileges</h2>\
         <p class=\"hint\">Applied in this order after the user type's entries; the last operation \
         on a privilege wins. A role name adds the role; <code>+priv</code> grants and \
         <code>-priv</code> removes a privilege.</p>",
    );
    if entries.is_empty() {
        b.push_str("<p id=\"entries-empty\">No entries of their own.</p>");
    } else {
        b.push_str("<ol class=\"entries\" id=\"entries\">");
        let n = entries.len();
        for (i, e) in entries.iter().enumerate() {
            let text = e.to_string();
            let idx = i.to_string();
            let _ = write!(
                b,
                "<li><code>{}</code> <span class=\"row-actions\">",
                esc(&text)
            );
            if i > 0 {
                b.push_str(&button_form(
                    csrf,
                    &format!("{base}/move"),
                    &[("index", &idx), ("dir", "up")],
                    &format!("Move {text} up"),
                    "small secondary",
                ));
            }
            if i + 1 < n {
                b.push_str(&button_form(
                    csrf,
                    &format!("{base}/move"),
                    &[("index", &idx), ("dir", "down")],
                    &format!("Move {text} down"),
                    "small secondary",
                ));
            }
            b.push_str(&button_form(
                csrf,
                &format!("{base}/remove"),
                &[("entry", &text)],
                &format!("Remove {text}"),
                "small danger",
            ));
            b.push_str("</span></li>");
        }
        b.push_str("</ol>");
    }
    let _ = write!(
        b,
        "<form method=\"post\" action=\"{base}/add\">{}\
         <p class=\"field\"><label for=\"f-entry\">Add a role name, <code>+privilege</code> or <code>-privilege</code></label>\
         <input id=\"f-entry\" name=\"entry\" list=\"role-names\" required autocomplete=\"off\"></p>\
         <datalist id=\"role-names\">",
        csrf_field(csrf)
    );
    for r in roles {
        let _ = write!(b, "<option value=\"{}\">", esc(r));
    }
    b.push_str("</datalist><p><button type=\"submit\">Add entry</button></p></form></section>");
    b
}
