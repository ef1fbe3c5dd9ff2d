//! The admin UI driven in process (`oneshot`): who gets in, what `administration-access`
//! alone reads, CSRF, every page renders, changes are seen by `/api/check` at once, refused
//! forms come back filled in, bad addresses answer in the layout, exports, and user data is
//! escaped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{Api, Resp, PASSWORD};
use gatehouse_core::{CreateUser, Email, Password, PasswordPolicy, PasswordSource, User, UserRef};
use gatehouse_policy::{PolicyConfig, TypeName, UserId};
use serde_json::json;

const ROLES: &str = "roles:\n  approve-hat:\n    - eprint/buffer/view:editor\n    - eprint/buffer/move_archive:editor\n";

async fn api() -> Api {
    Api::with_policy(PolicyConfig::with_file(ROLES, "user_roles.yaml").unwrap()).await
}

/// A browser-like session: the cookies it holds.
struct Browser<'a> {
    api: &'a Api,
    cookies: Vec<(String, String)>,
}

fn set_cookies(resp: &Resp) -> Vec<(String, String)> {
    resp.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|c| c.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The value of the first hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("no csrf field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl<'a> Browser<'a> {
    fn new(api: &'a Api) -> Self {
        Browser {
            api,
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, resp: &Resp) {
        for (k, v) in set_cookies(resp) {
            self.cookies.retain(|(n, _)| *n != k);
            if !v.is_empty() {
                self.cookies.push((k, v));
            }
        }
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<String>) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            b = b.header(header::COOKIE, c.join("; "));
        }
        let req = match form {
            Some(f) => b
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(f))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        let resp = self.api.send(req).await;
        self.keep(&resp);
        resp
    }

    async fn get(&mut self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        self.send(Method::POST, path, Some(form_body(fields))).await
    }

    /// Posts a form with the CSRF token of the page at `from`.
    async fn submit(&mut self, from: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let page = self.get(from).await.expect(StatusCode::OK);
        let csrf = csrf_of(&page.text);
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    async fn login(&mut self, login: &str) -> Resp {
        let page = self.get("/admin/login").await.expect(StatusCode::OK);
        let csrf = csrf_of(&page.text);
        self.post(
            "/admin/login",
            &[("csrf", &csrf), ("login", login), ("password", PASSWORD)],
        )
        .await
    }
}

fn location(r: &Resp) -> &str {
    r.headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn admin(api: &Api) -> Browser<'_> {
    api.user("admin@example.org", "admin").await;
    api.allow("superuser-access", "admin@example.org").await;
    let mut b = Browser::new(api);
    let r = b.login("admin@example.org").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(b.cookies.iter().any(|(k, _)| k == "gatehouse_session"));
    b
}

#[tokio::test]
async fn anonymous_visitors_get_the_login_page() {
    let api = api().await;
    let mut b = Browser::new(&api);
    for path in ["/admin", "/admin/users", "/admin/users/1", "/admin/explain"] {
        let r = b.get(path).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&r), "/admin/login", "{path}");
    }
    let r = b.post("/admin/users/1/deactivate", &[]).await;
    assert_eq!(location(&r), "/admin/login");
    let r = b.get("/admin/login").await.expect(StatusCode::OK);
    assert!(r.text.contains("<label for=\"f-login\">"), "{}", r.text);
    assert!(r.text.contains("type=\"password\""));
    // An ended session also goes back to the log in page.
    b.cookies
        .push(("gatehouse_session".into(), "not-a-session".into()));
    let r = b.get("/admin/users").await;
    assert_eq!(location(&r), "/admin/login");
}

#[tokio::test]
async fn users_without_administration_access_are_refused() {
    let api = api().await;
    api.user("ann@example.org", "user").await;
    let mut b = Browser::new(&api);
    let r = b.login("ann@example.org").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for path in [
        "/admin/users",
        "/admin/roles",
        "/admin/grants",
        "/admin/explain",
    ] {
        let r = b.get(path).await.expect(StatusCode::FORBIDDEN);
        assert!(r.text.contains("administration-access"), "{}", r.text);
        assert!(r.text.contains("Not allowed"));
    }
    // They can still log out from the refusal page.
    let page = b.get("/admin/users").await;
    let csrf = csrf_of(&page.text);
    let r = b.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(location(&r), "/admin/login");
    assert!(!b.cookies.iter().any(|(k, _)| k == "gatehouse_session"));
}

#[tokio::test]
async fn refused_log_ins_say_why_like_the_api() {
    let api = api().await;
    let id = api.user("off@example.org", "user").await;
    api.gh()
        .deactivate(&common::operator(), &UserRef::Id(UserId(id)))
        .await
        .unwrap();
    let mut b = Browser::new(&api);
    let r = b
        .login("off@example.org")
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(r.text.contains("account is disabled"), "{}", r.text);
    let page = b.get("/admin/login").await;
    let csrf = csrf_of(&page.text);
    let r = b
        .post(
            "/admin/login",
            &[
                ("csrf", &csrf),
                ("login", "off@example.org"),
                ("password", "wrong-password"),
            ],
        )
        .await
        .expect(StatusCode::UNAUTHORIZED);
    assert!(r.text.contains("invalid email, username or password"));
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let api = api().await;
    let ann = api.user("ann@example.org", "user").await;
    let mut b = admin(&api).await;
    let path = format!("/admin/users/{ann}/deactivate");
    let r = b.post(&path, &[]).await.expect(StatusCode::FORBIDDEN);
    assert!(r.text.contains("security token"), "{}", r.text);
    let r = b
        .post(&path, &[("csrf", "0000")])
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(r.text.contains("Form refused"));
    let u = api
        .gh()
        .show_user(&common::operator(), &UserRef::Id(UserId(ann)))
        .await
        .unwrap();
    assert!(u.active, "nothing changed");
    // The token of the page works.
    let r = b.submit(&format!("/admin/users/{ann}"), &path, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // The log in form is protected too (double-submit cookie).
    let mut anon = Browser::new(&api);
    let r = anon
        .post(
            "/admin/login",
            &[("login", "admin@example.org"), ("password", PASSWORD)],
        )
        .await
        .expect(StatusCode::FORBIDDEN);
    assert!(r.text.contains("security token"));
}

#[tokio::test]
async fn every_page_renders_for_the_admin() {
    let api = api().await;
    let ann = api.user("ann@example.org", "user").await;
    let mut b = admin(&api).await;
    for path in every_page(ann) {
        let r = b.get(&path).await.expect(StatusCode::OK);
        assert!(r.text.starts_with("<!DOCTYPE html>"), "{path}");
        assert!(r.text.contains("Log out"), "{path}");
        assert!(!r.text.contains("$argon2"), "{path}: no hashes");
    }
    let r = b.get("/admin").await;
    assert_eq!(location(&r), "/admin/users");
    let r = b.get("/admin/admin.css").await.expect(StatusCode::OK);
    assert!(r.text.contains(":focus-visible"));
    let r = b.get("/admin/roles/approve-hat").await;
    assert!(r.text.contains("user_roles.yaml line"), "{}", r.text);
    let r = b.get("/admin/users?q=ann").await;
    assert!(r.text.contains("ann@example.org"));
    assert!(r.text.contains("1–1 of 1 users"), "{}", r.text);
    let r = b
        .get("/admin/users/999")
        .await
        .expect(StatusCode::NOT_FOUND);
    assert!(r.text.contains("not found"));
}

/// Every page of the panel that reads, for a user `ann`.
fn every_page(ann: i64) -> Vec<String> {
    vec![
        "/admin/users".to_owned(),
        "/admin/users?q=ann&type=user&active=yes&confirmed=yes&page=1".to_owned(),
        "/admin/users?sort=-created&size=50&page=1".to_owned(),
        "/admin/users/new".to_owned(),
        format!("/admin/users/{ann}"),
        format!("/admin/users/{ann}/effective"),
        format!("/admin/users/{ann}/delete"),
        "/admin/roles".to_owned(),
        "/admin/roles/approve-hat".to_owned(),
        "/admin/roles/admin".to_owned(),
        "/admin/types".to_owned(),
        "/admin/grants".to_owned(),
        "/admin/holders".to_owned(),
        "/admin/holders?privilege=eprint%2Fbuffer%2Fview".to_owned(),
        "/admin/holders?role=approve-hat".to_owned(),
        "/admin/explain".to_owned(),
        format!("/admin/explain?user={ann}&privilege=eprint%2Fmove_archive&dataset=eprint&status=buffer&owners=&fields=divisions%3Dlaw"),
        "/admin/history".to_owned(),
        format!("/admin/history?user={ann}&kind=user.create&from=2020-01-01&to=2099-12-31"),
        "/admin/tokens".to_owned(),
        "/admin/clients".to_owned(),
    ]
}

/// Issue 15, point 1: the seed's step (`access allow administration-access user EMAIL`)
/// alone opens every page of the panel to read; each change needs its own privilege and is
/// drawn disabled, naming it.
#[tokio::test]
async fn administration_access_alone_reads_every_page_and_changes_nothing() {
    let api = api().await;
    let ann = api.user("ann@example.org", "user").await;
    api.user("reader@example.org", "user").await;
    api.allow("administration-access", "reader@example.org")
        .await;
    let mut b = Browser::new(&api);
    let r = b.login("reader@example.org").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    for path in every_page(ann) {
        let r = b.get(&path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
        assert!(!r.text.contains("Not allowed"), "{path}");
    }
    let page = b.get(&format!("/admin/users/{ann}")).await;
    assert!(
        page.text
            .contains("Needs the privilege <code>user/staff/edit</code>"),
        "{}",
        page.text
    );
    assert!(page.text.contains("disabled"));
    // Changes are refused by the services, whatever the form says.
    let r = b
        .submit(
            &format!("/admin/users/{ann}"),
            &format!("/admin/users/{ann}/deactivate"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("user/staff/edit"));
    let r = b
        .submit(
            "/admin/roles",
            "/admin/roles",
            &[("name", "sneaky"), ("entries", "superuser-access")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let u = api
        .gh()
        .show_user(&common::operator(), &UserRef::Id(UserId(ann)))
        .await
        .unwrap();
    assert!(u.active, "nothing changed");
}

/// Bad ids and query values answer with a page in the panel's layout that names them.
#[tokio::test]
async fn bad_addresses_answer_in_the_layout() {
    let api = api().await;
    let mut b = admin(&api).await;
    for (path, status, says) in [
        (
            "/admin/users/abc",
            StatusCode::NOT_FOUND,
            "“abc” is not a user id",
        ),
        (
            "/admin/users/abc/effective",
            StatusCode::NOT_FOUND,
            "is not a user id",
        ),
        (
            "/admin/users?page=zero",
            StatusCode::BAD_REQUEST,
            "“zero” is not a page number",
        ),
        ("/admin/users?size=7", StatusCode::BAD_REQUEST, "page size"),
        (
            "/admin/users?sort=shoe",
            StatusCode::BAD_REQUEST,
            "cannot sort users by “shoe”",
        ),
        (
            "/admin/users?active=maybe",
            StatusCode::BAD_REQUEST,
            "use yes, no",
        ),
        (
            "/admin/history?from=yesterday",
            StatusCode::BAD_REQUEST,
            "write it as 2026-12-31",
        ),
        (
            "/admin/history?format=xml",
            StatusCode::BAD_REQUEST,
            "not an export format",
        ),
        (
            "/admin/nowhere/at/all",
            StatusCode::NOT_FOUND,
            "no page at this address",
        ),
        (
            "/admin/roles/no%20such",
            StatusCode::NOT_FOUND,
            "not a role name",
        ),
    ] {
        let r = b.get(path).await;
        assert_eq!(r.status, status, "{path}: {}", r.text);
        assert!(r.text.starts_with("<!DOCTYPE html>"), "{path}: {}", r.text);
        assert!(r.text.contains(says), "{path}: {}", r.text);
        assert!(r.text.contains("Log out"), "{path}: in the layout");
    }
}

/// Issue 15, point 3: a refusal is drawn on the page that answers the form, next to its
/// field, with what was typed; nothing of it travels in a cookie.
#[tokio::test]
async fn refused_forms_come_back_filled_in() {
    let api = api().await;
    let ann = api.user("ann@example.org", "user").await;
    let mut b = admin(&api).await;
    let page = format!("/admin/users/{ann}");
    let long = "x".repeat(10_000);
    let r = b
        .submit(
            &page,
            &format!("{page}/profile"),
            &[("full_name", &long), ("affiliations", "Law")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("more than the 255 allowed"), "{}", r.text);
    assert!(r.text.contains(&long), "the typed value is kept");
    assert!(r.text.contains("aria-invalid=\"true\""));
    assert!(
        !r.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("gatehouse_notice=e")),
        "no refusal in a cookie"
    );
    // The role form keeps a pasted list and stays open; the error names the bad line.
    let r = b
        .submit(
            "/admin/roles",
            "/admin/roles",
            &[
                ("name", "reviewers"),
                ("description", "Reads"),
                ("entries", "eprint/view\nbad privilege"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text.contains("<details class=\"card\" open"),
        "{}",
        r.text
    );
    assert!(r.text.contains("eprint/view\nbad privilege"));
    assert!(r.text.contains("line “bad privilege”"), "{}", r.text);
    assert!(!r.text.contains('`'), "no backticks in the panel's words");
    // Long input everywhere the issue names.
    for (from, action, fields) in [
        (
            "/admin/roles",
            "/admin/roles",
            vec![("name", long.as_str())],
        ),
        (
            "/admin/grants",
            "/admin/grants",
            vec![
                ("effect", "allow"),
                ("privilege", long.as_str()),
                ("kind", "user"),
                ("target", "ann@example.org"),
            ],
        ),
        (
            "/admin/users/new",
            "/admin/users",
            vec![("email", long.as_str())],
        ),
        (
            page.as_str(),
            &format!("{page}/add"),
            vec![("entry", long.as_str())],
        ),
    ] {
        let r = b.submit(from, action, &fields).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{action}: {}",
            r.text
        );
        assert!(r.text.contains("field-error"), "{action}: {}", r.text);
    }
    // A run-time role can be emptied again, and its description is shown and kept.
    b.submit(
        "/admin/roles",
        "/admin/roles",
        &[
            ("name", "markers"),
            ("description", "Marks people"),
            ("entries", "eprint/view"),
        ],
    )
    .await;
    let r = b.get("/admin/roles/markers").await.expect(StatusCode::OK);
    assert!(r.text.contains("Marks people"), "{}", r.text);
    let r = b
        .submit(
            "/admin/roles/markers",
            "/admin/roles/markers",
            &[("description", "Marks people"), ("entries", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = b.get("/admin/roles/markers").await.expect(StatusCode::OK);
    assert!(r.text.contains("No entries (a marker role)"), "{}", r.text);
    assert!(r.text.contains("Marks people"));
}

/// CSV of the users list (current filter) and of the history; JSON of the history.
#[tokio::test]
async fn exports_follow_the_filter() {
    let api = api().await;
    active_user(
        &api,
        "csv-a@example.org",
        "=cmd|' /C calc'!A0",
        "Law, School",
    )
    .await;
    active_user(&api, "other@example.org", "Other", "").await;
    let mut b = admin(&api).await;
    let r = b
        .get("/admin/users/export.csv?q=csv")
        .await
        .expect(StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.text);
    assert!(lines[0].starts_with("id,email,username,full_name"));
    assert!(lines[1].contains("csv-a@example.org"));
    assert!(
        lines[1].contains("'=cmd"),
        "formulas are defused: {}",
        lines[1]
    );
    assert!(lines[1].contains("\"Law, School\""));
    let r = b
        .get("/admin/history?kind=user.create&format=csv")
        .await
        .expect(StatusCode::OK);
    assert!(r.text.lines().count() >= 3, "{}", r.text);
    assert!(
        r.text.lines().skip(1).all(|l| l.contains("user.create")),
        "{}",
        r.text
    );
    let r = b
        .get("/admin/history?target=csv-a&format=json")
        .await
        .expect(StatusCode::OK);
    let events: serde_json::Value = serde_json::from_str(&r.text).unwrap();
    assert_eq!(events.as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(events[0]["action"], "user.create");
}

#[tokio::test]
async fn changes_through_the_ui_are_seen_by_api_check_at_once() {
    let api = api().await;
    let ann = api.user("ann@example.org", "user").await;
    let mut b = admin(&api).await;
    let token = api.login("admin@example.org").await;
    let page = format!("/admin/users/{ann}");
    let check = |privilege: &'static str| {
        json!({"user": ann, "privilege": privilege,
               "item": {"dataset": "eprint", "status": "buffer"}})
    };
    let r = api
        .post("/api/check", &token, check("eprint/move_archive"))
        .await;
    assert_eq!(r.body["allowed"], false);

    let r = b
        .submit(&page, &format!("{page}/add"), &[("entry", "approve-hat")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), format!("{page}#roles"));
    let shown = b.get(&page).await.expect(StatusCode::OK);
    assert!(
        shown
            .text
            .contains("added “approve-hat” to the roles of ann@example.org"),
        "the notice says what happened: {}",
        shown.text
    );
    let r = api
        .post("/api/check", &token, check("eprint/move_archive"))
        .await;
    assert_eq!(r.body["allowed"], true, "{}", r.text);
    assert_eq!(r.body["editor"], true);

    // A grant from the grants page, then its removal.
    let r = b
        .submit(
            "/admin/grants",
            "/admin/grants",
            &[
                ("effect", "deny"),
                ("privilege", "eprint/move_archive"),
                ("kind", "user"),
                ("target", "ann@example.org"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/grants#new");
    let r = api
        .post("/api/check", &token, check("eprint/move_archive"))
        .await;
    assert_eq!(r.body["allowed"], false, "a deny wins: {}", r.text);
    b.submit(
        "/admin/grants",
        "/admin/grants/remove",
        &[
            ("privilege", "eprint/move_archive"),
            ("kind", "user"),
            ("target", "ann@example.org"),
        ],
    )
    .await;
    let r = api
        .post("/api/check", &token, check("eprint/move_archive"))
        .await;
    assert_eq!(r.body["allowed"], true);

    // Reorder: `-p` after the role removes it, before it does not.
    b.submit(
        &page,
        &format!("{page}/add"),
        &[("entry", "-eprint/buffer/move_archive:editor")],
    )
    .await;
    let r = api
        .post("/api/check", &token, check("eprint/move_archive"))
        .await;
    assert_eq!(r.body["allowed"], false);
    b.submit(
        &page,
        &format!("{page}/move"),
        &[("index", "1"), ("dir", "up")],
    )
    .await;
    let u = api
        .gh()
        .show_user(&common::operator(), &UserRef::Id(UserId(ann)))
        .await
        .unwrap();
    assert_eq!(
        u.view().roles,
        ["-eprint/buffer/move_archive:editor", "approve-hat"]
    );
    let r = api
        .post("/api/check", &token, check("eprint/move_archive"))
        .await;
    assert_eq!(r.body["allowed"], true);

    // Scope: out of scope now, so no editor bit.
    b.submit(
        &page,
        &format!("{page}/scope"),
        &[("scope", "divisions=law")],
    )
    .await;
    let r = api
        .post("/api/check", &token, check("eprint/move_archive"))
        .await;
    assert_eq!(r.body["allowed"], false);

    // Type, deactivate.
    b.submit(&page, &format!("{page}/type"), &[("type", "editor")])
        .await;
    let u = api
        .gh()
        .show_user(&common::operator(), &UserRef::Id(UserId(ann)))
        .await
        .unwrap();
    assert_eq!(u.user_type, Some(TypeName::new("editor").unwrap()));
    b.submit(&page, &format!("{page}/deactivate"), &[]).await;
    let r = api
        .post(
            "/api/check",
            &token,
            json!({"user": ann, "privilege": "user/view"}),
        )
        .await;
    assert_eq!(r.body["allowed"], false);
    let shown = b.get(&page).await;
    assert!(shown.text.contains("is deactivated"), "{}", shown.text);

    // A generated password is shown once, on the answer only.
    let r = b
        .submit(&page, &format!("{page}/password"), &[("generate", "1")])
        .await
        .expect(StatusCode::OK);
    assert!(r.text.contains("id=\"generated-password\""));
    let again = b.get(&page).await;
    assert!(!again.text.contains("generated-password"));
}

#[tokio::test]
async fn creating_users_and_roles_through_the_ui() {
    let api = api().await;
    let mut b = admin(&api).await;
    let r = b
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[
                ("email", "Bob@Example.org"),
                ("full_name", "Bob"),
                ("type", "user"),
                ("password", "a-good-password"),
                ("active", "1"),
                ("confirm", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(location(&r).starts_with("/admin/users/"));
    let r = b
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[("email", "not-an-email"), ("full_name", "Kept Name")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("field-error"), "{}", r.text);
    assert!(r.text.contains("value=\"Kept Name\""), "{}", r.text);
    let r = b
        .submit(
            "/admin/users/new",
            "/admin/users",
            &[("email", "gen@example.org")],
        )
        .await
        .expect(StatusCode::OK);
    assert!(r.text.contains("generated-password"));
    let r = b
        .submit(
            "/admin/roles",
            "/admin/roles",
            &[
                ("name", "reviewer"),
                ("entries", "eprint/buffer/view\n+eprint/buffer/summary"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/admin/roles/reviewer#about");
    let page = b.get("/admin/roles/reviewer").await.expect(StatusCode::OK);
    assert!(page.text.contains("role reviewer created"));
    assert!(
        page.text.contains("Save role"),
        "run-time roles are editable"
    );
    let page = b.get("/admin/roles/approve-hat").await;
    assert!(!page.text.contains("Save role"), "file roles are read-only");
}

/// An active, confirmed user made through the core, with a name and affiliations.
async fn active_user(api: &Api, email: &str, full_name: &str, affiliations: &str) -> User {
    api.gh()
        .create_user(
            &common::operator(),
            CreateUser {
                email: Email::new(email).unwrap(),
                username: None,
                full_name: full_name.into(),
                affiliations: affiliations.into(),
                password: PasswordSource::Clear(
                    Password::new(PASSWORD, &PasswordPolicy::default()).unwrap(),
                ),
                active: true,
                confirm: true,
                user_type: None,
                entries: vec![],
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn user_data_is_escaped() {
    let api = api().await;
    let u = active_user(
        &api,
        "xss@example.org",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
    )
    .await;
    let mut b = admin(&api).await;
    for path in ["/admin/users".to_owned(), format!("/admin/users/{}", u.id)] {
        let r = b.get(&path).await.expect(StatusCode::OK);
        assert!(!r.text.contains("<script>alert(1)"), "{path}");
        assert!(!r.text.contains("<img src=x"), "{path}");
        assert!(
            r.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
}

/// Issue 11, point 7 (failure 8): a look-alike account is told apart in the list: its
/// non-ASCII characters are marked with their code points.
#[tokio::test]
async fn non_ascii_characters_are_marked_in_the_users_list() {
    let api = api().await;
    let u = active_user(&api, "\u{430}lice@example.org", "", "").await;
    let mut b = admin(&api).await;
    for path in ["/admin/users".to_owned(), format!("/admin/users/{}", u.id)] {
        let r = b.get(&path).await.expect(StatusCode::OK);
        assert!(
            r.text.contains(
                "<mark class=\"non-ascii\" title=\"non-ASCII character U+0430\">\u{430}</mark>lice@example.org"
            ),
            "{path}: {}",
            r.text
        );
    }
    // Plain ASCII addresses are not marked.
    let r = b.get("/admin/users").await.expect(StatusCode::OK);
    assert_eq!(r.text.matches("<mark class=\"non-ascii\"").count(), 1);
}

#[tokio::test]
async fn clients_page_registers_shows_the_secret_once_and_revokes() {
    let api = api().await;
    let mut b = admin(&api).await;
    let page = b.get("/admin/clients").await.expect(StatusCode::OK);
    assert!(page.text.contains("Register a client"));
    let csrf = csrf_of(&page.text);
    let r = b
        .post(
            "/admin/clients",
            &[
                ("csrf", &csrf),
                ("name", "Repo <b>"),
                ("redirect_uris", "https://rp.example.org/cb\n"),
                ("first_party", "yes"),
            ],
        )
        .await
        .expect(StatusCode::OK);
    assert!(r.text.contains("Repo &lt;b&gt;"), "{}", r.text);
    let secret = r
        .text
        .split("id=\"client-secret\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let id = r
        .text
        .split("id=\"client-id\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let list = b.get("/admin/clients").await.expect(StatusCode::OK);
    assert!(list.text.contains(&id));
    assert!(!list.text.contains(&secret), "the secret is shown once");
    let r = b
        .post(&format!("/admin/clients/{id}/revoke"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), format!("/admin/clients/{id}#about"));
    let list = b.get("/admin/clients").await.expect(StatusCode::OK);
    assert!(list.text.contains("revoked"));
    let bad = b
        .post(
            "/admin/clients",
            &[
                ("csrf", &csrf),
                ("name", "x"),
                ("redirect_uris", "http://evil.example.org/"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert!(bad.text.contains("evil.example.org"), "{}", bad.text);
}
