//! `fixtures load`, `check` and `policy validate|show`.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::sync::Arc;

use gatehouse_core::{CoreError, UserRef};
use gatehouse_policy::{
    CompiledPolicy, Decision, Item, PolicyConfig, Privilege, RoleName, TypeName,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use crate::cli::{CheckArgs, FixturesCmd, PolicyCmd};
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

/// Prints a decision for people.
pub fn decision_text(d: &Decision, privilege: &str, explain: bool) -> String {
    let mut s = format!(
        "{} {privilege}: mask {} (public {}, user {}, owner {}, editor {})",
        if d.allowed { "allowed" } else { "denied" },
        d.mask,
        u8::from(d.public),
        u8::from(d.user),
        u8::from(d.owner),
        u8::from(d.editor)
    );
    if explain {
        for r in &d.reasons {
            let bit = if r.bit > 0 {
                format!("bit {}", r.bit)
            } else {
                "no bit".into()
            };
            let _ = write!(s, "\n  {bit:<6} `{}`: {}", r.privilege, r.source);
        }
    }
    s
}

/// `check`
pub async fn check(app: &App, args: CheckArgs) -> Result<(), Failure> {
    let privilege = Privilege::new(&args.privilege)
        .map_err(|e| Failure::Core(CoreError::invalid("privilege", e.to_string())))?;
    let item: Option<Item> = args
        .item
        .as_deref()
        .map(|j| {
            serde_json::from_str::<Item>(j).map_err(|e| {
                Failure::Usage(format!(
                    "invalid --item `{j}`: {e}; expected e.g. {{\"dataset\":\"eprint\",\"status\":\"buffer\",\"owners\":[3]}}"
                ))
            })
        })
        .transpose()?;
    let user = args
        .user
        .as_deref()
        .map(str::parse::<UserRef>)
        .transpose()?;
    let d = app
        .services()
        .await?
        .check(&app.ctx, user.as_ref(), &privilege, item.as_ref())
        .await?;
    app.out
        .emit(&decision_text(&d, privilege.as_str(), args.explain), &d);
    if d.allowed {
        Ok(())
    } else {
        Err(Failure::Denied)
    }
}

/// `policy validate|show`
pub async fn policy(app: &App, cmd: PolicyCmd) -> Result<(), Failure> {
    match cmd {
        PolicyCmd::Validate { file } => validate(app, file).await,
        PolicyCmd::Show { user_type, role } => {
            let config = app.policy_config(&app.config.app_data)?;
            let compiled = CompiledPolicy::compile(Arc::new(config), &[], &[], 0)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            show(app, &compiled, user_type, role)
        }
    }
}

async fn validate(app: &App, file: Option<std::path::PathBuf>) -> Result<(), Failure> {
    let explicit = file.is_some();
    let path = file.unwrap_or_else(|| app.config.app_data.join("user_roles.yaml"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            app.out.emit(
                &format!("{} does not exist: the built-in EPrints 3.4.7 catalog is in force", path.display()),
                &json!({"file": path.display().to_string(), "exists": false, "valid": true, "problems": []}),
            );
            return Ok(());
        }
        Err(e) => {
            return Err(Failure::Usage(format!(
                "cannot read `{}`: {e}",
                path.display()
            )))
        }
    };
    let name = path.display().to_string();
    let config = match PolicyConfig::with_file(&text, &name) {
        Ok(c) => c,
        Err(errors) => {
            if app.out.json {
                println!(
                    "{}",
                    json!({"file": name, "valid": false, "problems": errors.0})
                );
            }
            return Err(Failure::Usage(errors.to_string()));
        }
    };
    // With a database at hand, also list users whose type or roles the file no longer defines
    // (either store; a database that does not exist yet has no users to list).
    let mut warnings = Vec::new();
    let has_database = app.config.database_url.is_some() || app.config.sqlite_path().exists();
    if has_database {
        let gh = app
            .services_with(path.parent().unwrap_or(std::path::Path::new(".")))
            .await?;
        warnings = gh.policy_problems(&app.ctx, &config).await?;
    }
    let mut s = format!(
        "{name} is valid: {} roles and {} user types in force",
        config.roles().len(),
        config.types().len()
    );
    for w in &warnings {
        let _ = write!(s, "\nwarning: {w}");
    }
    app.out.emit(
        &s,
        &json!({"file": name, "valid": true, "problems": [], "warnings": warnings}),
    );
    Ok(())
}

fn show(
    app: &App,
    compiled: &CompiledPolicy,
    user_type: Option<String>,
    role: Option<String>,
) -> Result<(), Failure> {
    let bad = |e: gatehouse_policy::IdentError| Failure::Core(CoreError::from(e));
    if let Some(t) = user_type {
        let name = TypeName::new(&t).map_err(bad)?;
        let listing = compiled.show_type(&name).ok_or_else(|| {
            Failure::Core(CoreError::NotFound {
                what: "user type",
                value: t.clone(),
                hint: "; list them with `gatehouse policy show`".into(),
            })
        })?;
        let mut s = format!(
            "user type {} ({}): {} distinct privileges\n  entries: {}\n",
            listing.name,
            listing.origin,
            listing.privileges.len(),
            listing.entries.join(", ")
        );
        for p in &listing.privileges {
            let _ = writeln!(s, "  {:<44} {}", p.privilege, p.source);
        }
        app.out.emit(&s, &listing);
        return Ok(());
    }
    if let Some(r) = role {
        let name = RoleName::new(&r).map_err(bad)?;
        let listing = compiled.show_role(&name).ok_or_else(|| {
            Failure::Core(CoreError::NotFound {
                what: "role",
                value: r.clone(),
                hint: "; list them with `gatehouse policy show`".into(),
            })
        })?;
        let mut s = format!("role {} ({})\n", listing.name, listing.origin);
        for e in &listing.entries {
            let _ = writeln!(s, "  {e}");
        }
        app.out.emit(&s, &listing);
        return Ok(());
    }
    let roles = compiled.list_roles();
    let types = compiled.list_types();
    let public = compiled.list_public();
    let mut s = String::from("roles\n");
    for r in &roles {
        let _ = writeln!(
            s,
            "  {:<28} {:>3} entries  {}",
            r.name,
            r.entries.len(),
            r.origin
        );
    }
    s.push_str("user types\n");
    for t in &types {
        let _ = writeln!(
            s,
            "  {:<12} {:>3} privileges  {}  [{}]",
            t.name,
            t.privileges.len(),
            t.origin,
            t.entries.join(", ")
        );
    }
    s.push_str("public privileges\n");
    for p in &public {
        let _ = writeln!(s, "  {:<44} {}", p.privilege, p.source);
    }
    app.out.emit(
        &s,
        &json!({"roles": roles, "types": types, "public": public}),
    );
    Ok(())
}
