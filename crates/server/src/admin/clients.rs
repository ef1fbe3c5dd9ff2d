//! OpenID Connect clients: the list, registering one (its secret shown once, on the page
//! that answers the form, never in a redirect or a cookie), and revoking one. Every action
//! calls the same services as `gatehouse clients` (`config/view`, `config/edit`).

use std::fmt::Write as _;

use axum::extract::{Path, State};
use axum::response::Response;
use gatehouse_core::oidc::clients::NewClient;
use gatehouse_core::oidc::model::{ClientId, OidcClient};
use gatehouse_core::CoreError;

use super::html::{csrf_field, esc, pct, text_input};
use super::{done, error_page, Admin, AdminForm};
use crate::AppState;

fn register_form(admin: &Admin) -> String {
    format!(
        "<details class=\"card\"><summary>Register a client</summary>\
         <form method=\"post\" action=\"/admin/clients\">{}{}\
         <p class=\"field\"><label for=\"f-redirect\">Redirect URIs, one per line (matched exactly)</label>\
         <textarea id=\"f-redirect\" name=\"redirect_uris\" rows=\"3\"></textarea></p>\
         <p class=\"field\"><label for=\"f-logout\">Post-logout redirect URIs, one per line</label>\
         <textarea id=\"f-logout\" name=\"post_logout_redirect_uris\" rows=\"2\"></textarea></p>\
         <p><label><input type=\"checkbox\" name=\"first_party\" value=\"yes\"> First-party (no consent page)</label></p>\
         <p><label><input type=\"checkbox\" name=\"public\" value=\"yes\"> Public (no secret; PKCE required)</label></p>\
         <p><button type=\"submit\">Register client</button></p></form></details>",
        csrf_field(&admin.csrf),
        text_input("name", "Name", "", "required maxlength=\"200\""),
    )
}

fn table(admin: &Admin, clients: &[OidcClient]) -> String {
    let mut b = String::from(
        "<div class=\"table-wrap\"><table><caption class=\"sr-only\">Clients</caption><thead><tr>\
         <th scope=\"col\">Client id</th><th scope=\"col\">Name</th><th scope=\"col\">Kind</th>\
         <th scope=\"col\">Redirect URIs</th><th scope=\"col\">State</th></tr></thead><tbody>",
    );
    for c in clients {
        let state = if c.revoked.is_some() {
            "revoked".to_owned()
        } else {
            format!(
                "active <form method=\"post\" action=\"/admin/clients/{}/revoke\" class=\"inline\">{}\
                 <button type=\"submit\" class=\"secondary\">Revoke</button></form>",
                pct(c.id.as_str()),
                csrf_field(&admin.csrf)
            )
        };
        let _ = write!(
            b,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td></tr>",
            esc(c.id.as_str()),
            esc(&c.name),
            if c.public { "public" } else { "confidential" },
            if c.first_party { ", first-party" } else { "" },
            c.redirect_uris
                .iter()
                .map(|u| esc(u))
                .collect::<Vec<_>>()
                .join("<br>"),
            state
        );
    }
    b.push_str("</tbody></table></div>");
    b
}

/// `GET /admin/clients`.
pub async fn list(admin: Admin, State(state): State<AppState>) -> Response {
    match state.0.gh.list_clients(admin.ctx()).await {
        Ok(clients) => {
            let body = format!("{}{}", register_form(&admin), table(&admin, &clients));
            admin.page("clients", "OpenID Connect clients", &body)
        }
        Err(e) => error_page(&admin.chrome("clients"), e),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
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
                public: fields.get("public") == "yes",
                first_party: fields.get("first_party") == "yes",
                scopes: Vec::new(),
                service_token: None,
            },
        )
        .await;
    match created {
        Ok(shown) => {
            let secret = shown.secret.as_deref().map_or_else(
                || "<p>A public client has no secret; it must use PKCE <code>S256</code>.</p>".to_owned(),
                |s| {
                    format!(
                        "<p>Its secret, shown this once (it is stored hashed and cannot be shown again):</p>\
                         <p><code id=\"client-secret\">{}</code></p>",
                        esc(s)
                    )
                },
            );
            let body = format!(
                "<div class=\"notice ok\" role=\"status\" id=\"notice\">client {} registered</div>\
                 <div class=\"card\"><p>Client id: <code id=\"client-id\">{}</code></p>{secret}</div>\
                 <p><a href=\"/admin/clients\">Back to the clients</a></p>",
                esc(&shown.client.name),
                esc(shown.client.id.as_str()),
            );
            admin.page("clients", "Client registered", &body)
        }
        Err(e) => done(&admin, "/admin/clients", Err(e)),
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
        let c = state.0.gh.revoke_client(admin.ctx(), &id).await?;
        Ok::<_, CoreError>(format!("client {} revoked; its tokens ended", c.id))
    }
    .await;
    done(&admin, "/admin/clients", result)
}
