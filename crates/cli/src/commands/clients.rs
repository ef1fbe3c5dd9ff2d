//! `clients create|list|show|revoke|rotate-secret|forget-consent` and `keys list|rotate`: the OpenID
//! Connect provider's clients and signing keys. Secrets are printed once, on creation and
//! rotation; private keys never.

use std::fmt::Write as _;

use gatehouse_core::oidc::clients::{ClientSecret, KeyView, NewClient};
use gatehouse_core::oidc::model::{ClientId, OidcClient};
use serde_json::json;

use crate::cli::{ClientsCmd, KeysCmd};
use crate::output::yes_no;
use crate::{App, Failure};

fn client_id(s: &str) -> Result<ClientId, Failure> {
    s.parse::<ClientId>().map_err(Failure::Core)
}

fn describe(c: &OidcClient) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "client id:        {}", c.id);
    let _ = writeln!(s, "name:             {}", c.name);
    let _ = writeln!(
        s,
        "kind:             {}{}",
        if c.public { "public" } else { "confidential" },
        if c.first_party { ", first-party" } else { "" }
    );
    for u in &c.redirect_uris {
        let _ = writeln!(s, "redirect URI:     {u}");
    }
    for u in &c.post_logout_redirect_uris {
        let _ = writeln!(s, "after logout:     {u}");
    }
    let _ = writeln!(s, "scopes:           {}", c.scopes.join(" "));
    if let Some(t) = &c.service_token {
        let _ = writeln!(s, "service token:    {t}");
    }
    let _ = writeln!(
        s,
        "created:          {}",
        c.created.format("%Y-%m-%d %H:%M")
    );
    let _ = write!(
        s,
        "revoked:          {}",
        c.revoked.map_or_else(
            || yes_no(false).to_owned(),
            |r| r.format("%Y-%m-%d %H:%M").to_string()
        )
    );
    s
}

fn emit_secret(app: &App, shown: &ClientSecret, verb: &str) {
    let mut text = describe(&shown.client);
    match &shown.secret {
        Some(secret) => {
            eprintln!("client {verb}; the secret is shown once, it will not be shown again:");
            let _ = write!(text, "\nclient secret:    {secret}");
        }
        None => eprintln!("client {verb} (public: no secret; it must use PKCE S256)"),
    }
    app.out.emit(
        &text,
        &json!({"client": shown.client, "secret": shown.secret}),
    );
}

/// `clients ...`
pub async fn clients(app: &App, cmd: ClientsCmd) -> Result<(), Failure> {
    let gh = app.services().await?;
    match cmd {
        ClientsCmd::Create {
            name,
            redirect_uris,
            public,
            first_party,
            post_logout_redirect_uris,
            scopes,
            service_token,
        } => {
            let shown = gh
                .create_client(
                    &app.ctx,
                    NewClient {
                        name,
                        redirect_uris,
                        post_logout_redirect_uris,
                        public,
                        first_party,
                        scopes,
                        service_token,
                    },
                )
                .await?;
            emit_secret(app, &shown, "registered");
        }
        ClientsCmd::List => {
            let list = gh.list_clients(&app.ctx).await?;
            let mut s = String::new();
            for c in &list {
                let _ = writeln!(
                    s,
                    "{:<26} {:<12} {:<8} {}",
                    c.id.as_str(),
                    if c.public { "public" } else { "confidential" },
                    if c.revoked.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
                    c.name
                );
            }
            let _ = write!(s, "{} clients", list.len());
            app.out.emit(&s, &list);
        }
        ClientsCmd::Show { id } => {
            let c = gh.show_client(&app.ctx, &client_id(&id)?).await?;
            app.out.emit(&describe(&c), &c);
        }
        ClientsCmd::Revoke { id } => {
            let c = gh.revoke_client(&app.ctx, &client_id(&id)?).await?;
            app.out
                .emit(&format!("client {} revoked; its tokens ended", c.id), &c);
        }
        ClientsCmd::RotateSecret { id } => {
            let shown = gh.rotate_client_secret(&app.ctx, &client_id(&id)?).await?;
            emit_secret(app, &shown, "has a new secret");
        }
        ClientsCmd::ForgetConsent { id, user } => {
            let id = client_id(&id)?;
            let who = user
                .as_deref()
                .map(str::parse::<gatehouse_core::UserRef>)
                .transpose()
                .map_err(Failure::Core)?;
            let n = gh.forget_consent(&app.ctx, &id, who.as_ref()).await?;
            let whose = who.map_or_else(|| "every user".to_owned(), |w| format!("`{w}`"));
            app.out.emit(
                &format!("{n} consents to client {id} forgotten ({whose}); the consent page is shown again"),
                &json!({"client": id, "consents_forgotten": n}),
            );
        }
    }
    Ok(())
}

fn keys_text(keys: &[KeyView]) -> String {
    let mut s = String::new();
    for k in keys {
        let _ = writeln!(
            s,
            "{:<24} {:<6} {:<10} published {}  signs from {}{}",
            k.kid,
            k.alg.as_str(),
            k.state,
            k.created.format("%Y-%m-%d %H:%M"),
            k.sign_from.format("%Y-%m-%d %H:%M"),
            k.retire_after.map_or_else(String::new, |r| format!(
                "  published until {}",
                r.format("%Y-%m-%d %H:%M")
            ))
        );
    }
    let _ = write!(s, "{} keys", keys.len());
    s
}

/// `keys ...`
pub async fn keys(app: &App, cmd: KeysCmd) -> Result<(), Failure> {
    let gh = app.services().await?;
    let keys = match cmd {
        KeysCmd::List => gh.list_keys(&app.ctx, &app.config.oidc).await?,
        KeysCmd::Rotate => gh.rotate_keys(&app.ctx, &app.config.oidc).await?,
    };
    app.out.emit(&keys_text(&keys), &keys);
    Ok(())
}
