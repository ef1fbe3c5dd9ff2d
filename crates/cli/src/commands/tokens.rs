//! `tokens create|list|revoke`: service tokens for the repository that calls `check`.

use std::fmt::Write as _;

use gatehouse_policy::Privilege;
use serde_json::json;

use crate::cli::TokensCmd;
use crate::{App, Failure};

/// `tokens ...`
pub async fn tokens(app: &App, cmd: TokensCmd) -> Result<(), Failure> {
    let gh = app.services().await?;
    match cmd {
        TokensCmd::Create { name, privileges } => {
            let privileges = privileges
                .iter()
                .map(|p| Privilege::new(p).map_err(|e| Failure::Core(e.into())))
                .collect::<Result<Vec<_>, _>>()?;
            let t = gh.create_service_token(&app.ctx, &name, privileges).await?;
            eprintln!("service token `{name}` (shown once, it will not be shown again):");
            app.out.emit(
                &t.token,
                &json!({"name": name, "token": t.token, "privileges": t.credential.privileges}),
            );
        }
        TokensCmd::List => {
            let list = gh.list_service_tokens(&app.ctx).await?;
            let mut s = String::new();
            for c in &list {
                let privs: Vec<String> = c.privileges.iter().map(ToString::to_string).collect();
                let _ = writeln!(
                    s,
                    "{:<24} {}  {}",
                    c.name.as_deref().unwrap_or("-"),
                    c.created.format("%Y-%m-%d %H:%M"),
                    privs.join(", ")
                );
            }
            let _ = write!(s, "{} service tokens", list.len());
            let v: Vec<_> = list
                .iter()
                .map(|c| json!({"name": c.name, "privileges": c.privileges, "created": c.created}))
                .collect();
            app.out.emit(&s, &v);
        }
        TokensCmd::Revoke { name } => {
            gh.revoke_service_token(&app.ctx, &name).await?;
            app.out.emit(
                &format!("service token {name} revoked"),
                &json!({"revoked": name}),
            );
        }
    }
    Ok(())
}
