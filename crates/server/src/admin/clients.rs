//! OpenID Connect clients: the list, registering one, a client's page, a new secret and
//! revoking one. A secret is shown once, on the page that answers the form (never in a
//! redirect or a cookie). Every action calls the same services as `gatehouse clients`
//! (`config/edit` to change; reading also with `administration-access`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatehouse_core::oidc::clients::NewClient;
use gatehouse_core::oidc::model::{ClientId, OidcClient};
use gatehouse_core::{CoreError, UserRef};
use maud::{html, Markup};

use super::layout::{
    button_form, card, csrf_field, needs, pct, when, yes_no, FormView, Input, Posted,
};
use super::{changed, error_page, refused, Admin, AdminForm, Refused};
use crate::AppState;

fn register_form(admin: &Admin, posted: Option<&Posted>, lacks: Option<&str>) -> Markup {
    let f = FormView::new("register", posted);
    let fields = html! {
        (f.input(Input::text("name", "Name").required().max(200)))
        (f.input(Input::area("redirect_uris", "Redirect URIs, one per line (matched exactly)", 3)))
        (f.input(Input::area("post_logout_redirect_uris", "Post-logout redirect URIs, one per line", 2)))
        (f.checkbox("first_party", "First-party (no consent page)", false))
        (f.checkbox("public", "Public (no secret; PKCE required)", false))
    };
    html! {
        details.card open[f.refused()] {
            summary { "Register a client" }
            form method="post" action="/admin/clients" {
                fieldset disabled[lacks.is_some()] {
                    legend.sr-only { "New client" }
                    @if let Some(p) = lacks { (needs(p)) }
                    (csrf_field(&admin.csrf)) (f.summary()) (fields)
                    p { button type="submit" { "Register client" } }
                }
            }
        }
    }
}

fn kind(c: &OidcClient) -> String {
    format!(
        "{}{}",
        if c.public { "public" } else { "confidential" },
        if c.first_party { ", first-party" } else { "" }
    )
}

/// `GET /admin/clients`.
pub async fn list(admin: Admin, State(state): State<AppState>) -> Response {
    list_page(&admin, &state, None).await
}

async fn list_page(admin: &Admin, state: &AppState, posted: Option<&Posted>) -> Response {
    let clients = match state.0.gh.list_clients(admin.ctx()).await {
        Ok(c) => c,
        Err(e) => return error_page(&admin.chrome("clients"), e),
    };
    let lacks = admin.lacks("config/edit").await;
    let body = html! {
        (register_form(admin, posted, lacks))
        div.table-wrap {
            table.stack {
                caption.sr-only { "Clients" }
                thead { tr {
                    th scope="col" { "Client id" } th scope="col" { "Name" } th scope="col" { "Kind" }
                    th scope="col" { "Redirect URIs" } th scope="col" { "State" }
                } }
                tbody {
                    @for c in &clients {
                        tr {
                            td data-label="Client id" { a href=(format!("/admin/clients/{}", pct(c.id.as_str()))) { code { (c.id.as_str()) } } }
                            td data-label="Name" { (c.name) }
                            td data-label="Kind" { (kind(c)) }
                            td data-label="Redirect URIs" { @for u in &c.redirect_uris { (u) br; } }
                            td data-label="State" {
                                @if c.revoked.is_some() { "revoked" } @else {
                                    "active "
                                    (button_form(&admin.csrf, &format!("/admin/clients/{}/revoke", pct(c.id.as_str())), &[], &format!("Revoke {}", c.name), "secondary small", lacks))
                                }
                            }
                        }
                    }
                    @if clients.is_empty() { tr { td colspan="5" { "No clients yet." } } }
                }
            }
        }
    };
    let status = if posted.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    admin.page_with(status, "clients", "OpenID Connect clients", body)
}

/// `GET /admin/clients/{id}`.
pub async fn show(admin: Admin, State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let chrome = admin.chrome("clients");
    let Ok(cid) = id.parse::<ClientId>() else {
        return admin.not_found(&format!(
            "“{}” is not a client id.",
            gatehouse_core::text::shorten(&id)
        ));
    };
    let c = match state.0.gh.show_client(admin.ctx(), &cid).await {
        Ok(c) => c,
        Err(e) => return error_page(&chrome, e),
    };
    let lacks = admin.lacks("config/edit").await;
    let (total, consents) = match state.0.gh.client_consents(admin.ctx(), &cid).await {
        Ok(v) => v,
        Err(e) => return error_page(&chrome, e),
    };
    let base = format!("/admin/clients/{}", pct(c.id.as_str()));
    let about = html! {
        dl.facts {
            dt { "Client id" } dd { code id="client-id" { (c.id.as_str()) } }
            dt { "Kind" } dd { (kind(&c)) }
            dt { "Scopes" } dd { @if c.scopes.is_empty() { "all that the provider offers" } @else { (c.scopes.join(" ")) } }
            dt { "Redirect URIs" } dd { @for u in &c.redirect_uris { code { (u) } br; } }
            dt { "Post-logout redirect URIs" } dd { @for u in &c.post_logout_redirect_uris { code { (u) } br; } @if c.post_logout_redirect_uris.is_empty() { "—" } }
            dt { "Created" } dd { (when(&c.created)) }
            dt { "Revoked" } dd { @match &c.revoked { Some(t) => { (when(t)) } None => { (yes_no(false)) } } }
        }
        @if let Some(p) = lacks { (needs(p)) }
        @if c.revoked.is_none() {
            div.actions {
                @if !c.public {
                    (button_form(&admin.csrf, &format!("{base}/rotate-secret"), &[], "Give it a new secret", "secondary", lacks))
                }
                (button_form(&admin.csrf, &format!("{base}/revoke"), &[], "Revoke", "danger", lacks))
            }
        }
        p { a href=(format!("/admin/history?target={}", pct(c.id.as_str()))) { "History of this client" } }
    };
    let remembered = html! {
        @if c.first_party {
            p { "A first-party client never asks for consent; consents below are from before it was one." }
        }
        @if consents.is_empty() {
            p { "No user has a remembered consent to this client: each is asked on their next log in through it." }
        } @else {
            p { "Each user below is not asked again while the client asks for no more than these scopes. Forgetting a consent asks the user again; tokens already issued stay valid (revoke the client to end them)." }
            @if let Some(p) = lacks { (needs(p)) }
            div.table-wrap {
                table {
                    caption {
                        (total) @if total == 1 { " remembered consent" } @else { " remembered consents" }
                        @if total > consents.len() { ", the newest " (consents.len()) " shown" }
                    }
                    thead { tr { th scope="col" { "User" } th scope="col" { "Scopes" } th scope="col" { "Since" } th scope="col" { span.sr-only { "Action" } } } }
                    tbody {
                        @for (email, k) in &consents {
                            tr {
                                td { a href=(format!("/admin/users/{}", k.user_id)) { (email) } }
                                td { (k.scopes.join(" ")) }
                                td { (when(&k.granted)) }
                                td { (button_form(&admin.csrf, &format!("{base}/forget-consent"), &[("user", &k.user_id.to_string())], &format!("Forget {email}'s consent"), "secondary", lacks)) }
                            }
                        }
                    }
                }
            }
            div.actions {
                (button_form(&admin.csrf, &format!("{base}/forget-consent"), &[], "Forget every consent", "danger", lacks))
            }
        }
    };
    let body = html! {
        (card("about", "About this client", &chrome, about))
        (card("consents", "Remembered consents", &chrome, remembered))
    };
    admin.page("clients", &format!("Client {}", c.name), body)
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn secret_page(admin: &Admin, client: &OidcClient, secret: Option<&str>, what: &str) -> Response {
    let body = html! {
        div.notice.ok role="status" id="notice" tabindex="-1" autofocus { "client " (client.name) " " (what) }
        div.card {
            p { "Client id: " code id="client-id" { (client.id.as_str()) } }
            @match secret {
                Some(s) => {
                    p { "Its secret, shown this once (it is stored hashed and cannot be shown again):" }
                    p { output.secret id="client-secret" { (s) } }
                }
                None => { p { "A public client has no secret; it must use PKCE S256." } }
            }
        }
        p { a href=(format!("/admin/clients/{}", pct(client.id.as_str()))) { "Go to the client's page" } }
    };
    admin.page("clients", "Client secret", body)
}

/// `POST /admin/clients`: registers a client and shows its secret, once, on this page.
pub async fn create(State(state): State<AppState>, form: AdminForm) -> Response {
    let AdminForm { admin, fields } = form;
    let created = state
        .0
        .gh
        .create_client(
            admin.ctx(),
            NewClient {
                name: fields.get("name").to_owned(),
                redirect_uris: lines(fields.raw("redirect_uris")),
                post_logout_redirect_uris: lines(fields.raw("post_logout_redirect_uris")),
                public: fields.ticked("public"),
                first_party: fields.ticked("first_party"),
                scopes: Vec::new(),
                service_token: None,
            },
        )
        .await;
    match created {
        Ok(shown) => secret_page(&admin, &shown.client, shown.secret.as_deref(), "registered"),
        Err(e) => match refused(&admin, "register", fields, e) {
            Refused::Page(p) => p,
            Refused::Form(posted) => list_page(&admin, &state, Some(&posted)).await,
        },
    }
}

/// `POST /admin/clients/{id}/rotate-secret`: a new secret, shown once; the old one ends.
pub async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Response {
    let admin = form.admin;
    let result = async {
        let id: ClientId = id.parse()?;
        state.0.gh.rotate_client_secret(admin.ctx(), &id).await
    }
    .await;
    match result {
        Ok(shown) => secret_page(
            &admin,
            &shown.client,
            shown.secret.as_deref(),
            "has a new secret; the old one no longer works",
        ),
        Err(e) => error_page(&admin.chrome("clients"), e),
    }
}

/// `POST /admin/clients/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Response {
    let admin = form.admin;
    let result = async {
        let id: ClientId = id.parse()?;
        state.0.gh.revoke_client(admin.ctx(), &id).await
    }
    .await;
    match result {
        Ok(c) => changed(
            &format!("/admin/clients/{}", pct(c.id.as_str())),
            Some("about"),
            format!("client {} revoked; its tokens ended", c.name),
        ),
        Err(e) => error_page(&admin.chrome("clients"), e),
    }
}

/// `POST /admin/clients/{id}/forget-consent`: forgets one user's consent (`user` = their
/// id) or, without `user`, everyone's; they are asked again at their next log in.
pub async fn forget_consent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: AdminForm,
) -> Response {
    let AdminForm { admin, fields } = form;
    let who = fields.get("user").trim().to_owned();
    let result = async {
        let id: ClientId = id.parse()?;
        let user = if who.is_empty() {
            None
        } else {
            Some(who.parse::<UserRef>()?)
        };
        let n = state
            .0
            .gh
            .forget_consent(admin.ctx(), &id, user.as_ref())
            .await?;
        Ok::<_, CoreError>((id, n))
    }
    .await;
    match result {
        Ok((id, n)) => changed(
            &format!("/admin/clients/{}", pct(id.as_str())),
            Some("consents"),
            match n {
                0 => "no consent to forget".to_owned(),
                1 => "1 consent forgotten; that user is asked again".to_owned(),
                n => format!("{n} consents forgotten; those users are asked again"),
            },
        ),
        Err(e) => error_page(&admin.chrome("clients"), e),
    }
}
