//! `gatehouse serve` (the HTTP API and admin UI, SIGHUP reloads the policy file) and
//! `gatehouse migrate`.

use std::net::SocketAddr;
use std::sync::Arc;

use gatehouse_core::{Lifetimes, Mailer};
use gatehouse_server::mail::{FileOutbox, SmtpMailer};
use gatehouse_server::{router, AppState, ServerSettings};
use serde_json::json;

use crate::settings::MailConfig;
use crate::{App, Failure};

/// The configured mailer.
pub fn mailer(app: &App) -> Result<Arc<dyn Mailer>, Failure> {
    Ok(match &app.config.mail {
        MailConfig::Outbox(dir, from) => Arc::new(FileOutbox::new(dir.clone(), from)?),
        MailConfig::Smtp(s) => Arc::new(SmtpMailer::new(s)?),
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Reads `app_data/user_roles.yaml` again on every SIGHUP (SPEC 2.2, like EPrints' cfg.d):
/// a valid file replaces the policy from the next request on; an invalid one, or one that
/// does not compile against the database's run-time roles, is refused with every problem
/// logged, and the policy in force stays.
fn reload_on_hangup(state: AppState, app_data: std::path::PathBuf) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; the policy file will not be reloaded");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            let file = app_data.join("user_roles.yaml");
            let outcome = match crate::read_policy_config(&app_data) {
                Ok(config) => state
                    .0
                    .gh
                    .reload_config(config)
                    .await
                    .map_err(Failure::Core),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(()) => tracing::info!(file = %file.display(), "policy reloaded"),
                Err(e) => tracing::error!(
                    file = %file.display(),
                    error = %e.message().unwrap_or_default(),
                    "policy reload refused; the previous policy stays in force"
                ),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = (state, app_data);
}

/// `serve`
pub async fn serve(app: &App, listen: Option<String>) -> Result<(), Failure> {
    let addr_text = listen.unwrap_or_else(|| app.config.listen.clone());
    let addr: SocketAddr = addr_text.parse().map_err(|_| {
        Failure::Usage(format!(
            "invalid listen address `{addr_text}`; use e.g. 127.0.0.1:8080"
        ))
    })?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::Usage(format!("cannot listen on {addr}: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::Internal(e.to_string()))?;
    // Without `server.base_url`, links and discovery documents name the address really
    // listened on (`--listen`, or port 0 resolved).
    let base_url = if app.config.base_url_set {
        app.config.base_url.clone()
    } else {
        format!("http://{local}")
    };
    let gh = app.services().await?;
    // Every node signs known-device cookies with the same key, kept in the database.
    let device_key = gh
        .shared_secret(
            "device_cookie_key",
            &gatehouse_server::client::DeviceKeys::fresh_hex(),
        )
        .await?;
    let device_keys = gatehouse_server::client::DeviceKeys::from_hex(&device_key);
    // The OpenID Connect issuer is the public URL.
    let mut oidc = app.config.oidc.clone();
    oidc.issuer = base_url.trim_end_matches('/').to_owned();
    let state = AppState::new(
        gh,
        mailer(app)?,
        ServerSettings {
            base_url,
            secure_cookies: app.config.secure_cookies,
            lifetimes: Lifetimes::default(),
            trusted_proxies: app.config.trusted_proxies.clone(),
            metrics_token: app.config.metrics_token.clone(),
            throttle: app.config.throttle,
            device_keys,
            oidc,
        },
    );
    tracing::info!(address = %local, "listening");
    if let Some(metrics_addr) = &app.config.metrics_listen {
        let metrics_listener = tokio::net::TcpListener::bind(metrics_addr)
            .await
            .map_err(|e| {
                Failure::Usage(format!(
                    "cannot listen on server.metrics_listen `{metrics_addr}`: {e}"
                ))
            })?;
        let metrics = gatehouse_server::metrics_router(state.clone());
        tracing::info!(address = %metrics_addr, "metrics listening");
        tokio::spawn(gatehouse_server::serve::serve(
            metrics_listener,
            metrics,
            gatehouse_server::serve::HttpLimits::default(),
            std::future::pending(),
        ));
    }
    reload_on_hangup(state.clone(), app.config.app_data.clone());
    eprintln!("gatehouse listening on http://{local}");
    gatehouse_server::serve::serve(
        listener,
        router(state),
        app.config.http_limits,
        shutdown_signal(),
    )
    .await
    .map_err(|e| Failure::Internal(format!("server failed: {e}")))?;
    Ok(())
}

/// `migrate`
pub async fn migrate(app: &App) -> Result<(), Failure> {
    let known = gatehouse_store::SCHEMA_VERSION;
    let (kind, before, after) = match &app.config.database_url {
        Some(url) => {
            let store = gatehouse_store::PostgresStore::connect_unmigrated(url)
                .await
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let before = store
                .schema_version()
                .await
                .map_err(|e| Failure::Core(e.into()))?;
            store.migrate().await.map_err(|e| match e {
                gatehouse_core::StoreError::SchemaTooNew { found, known } => Failure::Usage(format!(
                    "the database schema is version {found}, newer than this gatehouse knows ({known}); upgrade gatehouse"
                )),
                other => Failure::Core(other.into()),
            })?;
            let after = store
                .schema_version()
                .await
                .map_err(|e| Failure::Core(e.into()))?;
            ("postgres", before, after)
        }
        None => {
            // SQLite files are brought up to date when opened.
            let existed = app.config.sqlite_path().exists();
            let store = app.open_store().await?;
            drop(store);
            ("sqlite", if existed { -1 } else { 0 }, known)
        }
    };
    let text = if before == after {
        format!("{kind} database schema is at version {after}; nothing to do")
    } else if before < 0 {
        format!("{kind} database schema is at version {after}")
    } else {
        format!("{kind} database schema migrated from version {before} to {after}")
    };
    app.out.emit(
        &text,
        &json!({"store": kind, "before": (before >= 0).then_some(before), "version": after}),
    );
    Ok(())
}

/// `migrate status`: the schema version, and the accounts per password scheme (how many
/// still carry an imported platform's hash).
pub async fn migrate_status(app: &App) -> Result<(), Failure> {
    let known = gatehouse_store::SCHEMA_VERSION;
    let (kind, version) = match &app.config.database_url {
        Some(url) => {
            let store = gatehouse_store::PostgresStore::connect_unmigrated(url)
                .await
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let found = store
                .schema_version()
                .await
                .map_err(|e| Failure::Core(e.into()))?;
            ("postgres", found)
        }
        None => ("sqlite", known),
    };
    if version != known {
        let text = format!(
            "{kind} database schema is at version {version}; this gatehouse knows {known}{}",
            if version < known {
                ": run `gatehouse migrate` to bring it up to date"
            } else {
                ": upgrade gatehouse"
            }
        );
        app.out.emit(
            &text,
            &json!({"store": kind, "version": version, "known": known, "up_to_date": false,
                    "password_schemes": null}),
        );
        return Ok(());
    }
    let gh = app.services().await?;
    let counts = gh.password_schemes(&app.ctx).await?;
    let mut text = format!("{kind} database schema is at version {version}; up to date\n");
    if counts.is_empty() {
        text.push_str("no account has a password");
    } else {
        text.push_str("accounts per password scheme:");
        for (scheme, n) in &counts {
            let note = if scheme.is_legacy() {
                " (imported; replaced at the account's next log in)"
            } else {
                ""
            };
            text.push_str(&format!("\n  {scheme}: {n}{note}"));
        }
    }
    let schemes: Vec<_> = counts
        .iter()
        .map(|(s, n)| json!({"scheme": s.as_str(), "legacy": s.is_legacy(), "accounts": n}))
        .collect();
    app.out.emit(
        &text,
        &json!({"store": kind, "version": version, "known": known, "up_to_date": true,
                "password_schemes": schemes}),
    );
    Ok(())
}
