//! `policy validate [FILE]`, `policy show` and `policy convert`: the roles and types file,
//! without a database.

use std::fmt::Write as _;
use std::sync::Arc;

use gatehouse_core::CoreError;
use gatehouse_policy::{CompiledPolicy, PolicyConfig, RoleName, TypeName};
use serde_json::json;

use crate::cli::PolicyCmd;
use crate::{App, Failure};

/// `policy validate|show`
pub async fn policy(app: &App, cmd: PolicyCmd) -> Result<(), Failure> {
    match cmd {
        PolicyCmd::Validate { file } => validate(app, file).await,
        PolicyCmd::Convert {
            file,
            output,
            force,
        } => convert(app, &file, output.as_deref(), force),
        PolicyCmd::Show { user_type, role } => {
            let config = app.policy_config(&app.config.app_data)?;
            let compiled = CompiledPolicy::compile(Arc::new(config), &[], &[], 0)
                .map_err(|e| Failure::Usage(e.to_string()))?;
            show(app, &compiled, user_type, role)
        }
    }
}

/// `policy convert user_roles.pl [-o user_roles.yaml]`: converts, checks the result as
/// `policy validate` would, and only then writes it.
fn convert(
    app: &App,
    file: &std::path::Path,
    output: Option<&std::path::Path>,
    force: bool,
) -> Result<(), Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", file.display())))?;
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let yaml = gatehouse_policy::convert_user_roles(&text, &name).map_err(|errors| {
        if app.out.json {
            let problems: Vec<_> = errors
                .0
                .iter()
                .map(|e| json!({"line": e.line, "message": e.message}))
                .collect();
            println!("{}", json!({"file": file.display().to_string(), "converted": false, "problems": problems}));
        }
        Failure::Usage(format!("{}: cannot convert:\n{errors}", file.display()))
    })?;
    let out_name = output.map_or_else(
        || "the converted file".to_owned(),
        |o| o.display().to_string(),
    );
    let config = PolicyConfig::with_file(&yaml, &out_name).map_err(|errors| {
        Failure::Usage(format!(
            "the converted file does not validate (nothing written):\n{errors}"
        ))
    })?;
    let summary = json!({
        "file": file.display().to_string(),
        "converted": true,
        "output": output.map(|o| o.display().to_string()),
        "roles_in_force": config.roles().len(),
        "types_in_force": config.types().len(),
    });
    match output {
        None => {
            if app.out.json {
                let mut v = summary;
                v["yaml"] = json!(yaml);
                println!("{v}");
            } else {
                print!("{yaml}");
            }
        }
        Some(path) => {
            if path.exists() && !force {
                return Err(Failure::Usage(format!(
                    "`{}` exists; give --force to replace it, or another -o",
                    path.display()
                )));
            }
            std::fs::write(path, &yaml)
                .map_err(|e| Failure::Usage(format!("cannot write `{}`: {e}", path.display())))?;
            app.out.emit(
                &format!(
                    "wrote {} from {}: valid, {} roles and {} user types in force; check it with \
                     `gatehouse policy validate {}`",
                    path.display(),
                    file.display(),
                    config.roles().len(),
                    config.types().len(),
                    path.display()
                ),
                &summary,
            );
        }
    }
    Ok(())
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
