//! `fixtures load [APP_DATA]`: users.yaml and user_roles.yaml into the database.

use std::fmt::Write as _;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::FixturesCmd;
use crate::{App, Failure};

/// `fixtures load [APP_DATA]`
pub async fn fixtures(app: &App, cmd: FixturesCmd) -> Result<(), Failure> {
    let FixturesCmd::Load { app_data } = cmd;
    let app_data = app_data.unwrap_or_else(|| app.config.app_data.clone());
    if !app_data.is_dir() {
        return Err(Failure::Usage(format!(
            "app_data folder `{}` does not exist; create it, or pass the folder that holds users.yaml",
            app_data.display()
        )));
    }
    let gh = app.services_with(&app_data).await?;
    let users_file = app_data.join("users.yaml");
    let plan = match gatehouse_fixtures::read_users_file(
        &users_file,
        &app.config.settings.password_policy,
    ) {
        Ok(Some(plan)) => plan,
        Ok(None) => gh.default_admin_plan()?,
        Err(errors) => return Err(Failure::Usage(errors.to_string())),
    };
    let total = plan.users.len() as u64;
    let bar = (std::io::stderr().is_terminal() && total >= 500).then(|| {
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} users {elapsed} ({eta} left)")
        {
            bar.set_style(style);
        }
        bar
    });
    let progress_bar = bar.clone();
    let progress = move |n: u64| {
        if let Some(b) = &progress_bar {
            b.set_position(n);
        }
    };
    let report = gh.load_fixtures(&app.ctx, plan, &progress).await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let (Some(p), Some(email)) = (&report.generated_password, &report.default_admin) {
        eprintln!(
            "default admin {email} created with the password below; it is shown once and will not be shown again:\n  {p}"
        );
    }
    let mut s = String::new();
    if total <= 200 {
        for e in &report.entries {
            let what = match e.outcome {
                "created" => format!(
                    "created (password from {})",
                    e.password_source.unwrap_or("-")
                ),
                _ => "skipped: email already exists, nothing changed".into(),
            };
            let _ = writeln!(s, "entry {:>3} {:<36} {what}", e.index, e.email);
        }
    }
    let _ = write!(
        s,
        "{}: {} created, {} skipped (already existed)",
        report.file, report.created, report.skipped
    );
    app.out.emit(&s, &report);
    Ok(())
}
