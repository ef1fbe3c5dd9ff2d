//! `migrate-from invenio|eprints|dspace`: reads the platform's database (the readers in
//! `gatehouse_store::sources`), then plans or runs the move through the core
//! ([`Gatehouse::migrate_in`]), and prints the plan or the summary.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;

use gatehouse_core::migrate::{KindCounts, MigrateOptions, MigrateReport, Source};
use gatehouse_core::{CoreError, Gatehouse};
use gatehouse_policy::PolicyConfig;
use gatehouse_store::sources::{self, SourceError};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{MigrateFromArgs, MigrateFromCmd};
use crate::{App, Failure};

/// Source errors are the operator's to fix (a bad URL, a wrong database): exit 2.
fn source_failure(e: SourceError) -> Failure {
    Failure::Usage(e.to_string())
}

/// `migrate-from ...`
pub async fn migrate_from(app: &App, cmd: MigrateFromCmd) -> Result<(), Failure> {
    let (args, config_dir) = match &cmd {
        MigrateFromCmd::Invenio(a) | MigrateFromCmd::Dspace(a) => (a, None),
        MigrateFromCmd::Eprints { args, config_dir } => (args, config_dir.as_deref()),
    };
    // The converted policy, checked before the source is even read.
    let converted = config_dir.map(|dir| convert(app, dir)).transpose()?;
    let policy = match &converted {
        Some((_, config, _)) => config.clone(),
        None => app.policy_config(&app.config.app_data)?,
    };
    let spinner = terminal().then(|| {
        let s = ProgressBar::new_spinner();
        s.set_message(format!("reading {}", sources::redact_url(&args.source)));
        s.enable_steady_tick(std::time::Duration::from_millis(120));
        s
    });
    let read = match &cmd {
        MigrateFromCmd::Invenio(a) => sources::read_invenio(&a.source).await,
        MigrateFromCmd::Eprints { args, .. } => sources::read_eprints(&args.source).await,
        MigrateFromCmd::Dspace(a) => sources::read_dspace(&a.source).await,
    };
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let source = read.map_err(source_failure)?;
    let store = app.open_store().await?;
    let gh = Gatehouse::new(store, policy, app.config.settings.clone());
    let report = run(app, &gh, source, args).await?;
    if let Some((target, _, yaml)) = converted.filter(|_| !args.plan) {
        std::fs::write(&target, yaml).map_err(|e| {
            Failure::Internal(format!(
                "the migration is written, but `{}` could not be: {e}; run `gatehouse policy \
                 convert` to write it",
                target.display()
            ))
        })?;
    }
    app.out.emit(&summary(&report), &report);
    Ok(())
}

fn terminal() -> bool {
    std::io::stderr().is_terminal()
}

async fn run(
    app: &App,
    gh: &Gatehouse,
    source: Source,
    args: &MigrateFromArgs,
) -> Result<MigrateReport, Failure> {
    let total = source.users.len() as u64;
    let bar = (terminal() && !args.plan).then(|| {
        let bar = ProgressBar::new(total);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} users {elapsed} ({eta} left)")
        {
            bar.set_style(style);
        }
        bar
    });
    let shown = bar.clone();
    let progress = move |n: u64| {
        if let Some(b) = &shown {
            b.set_position(n);
        }
    };
    let result = gh
        .migrate_in(
            &app.ctx,
            source,
            MigrateOptions {
                plan_only: args.plan,
                update: args.update,
            },
            &progress,
        )
        .await;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(result?)
}

/// `DIR/user_roles.pl` converted: where it goes, the validated config, the YAML text.
fn convert(app: &App, dir: &Path) -> Result<(std::path::PathBuf, PolicyConfig, String), Failure> {
    let file = dir.join("user_roles.pl");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", file.display())))?;
    let yaml = gatehouse_policy::convert_user_roles(&text, "user_roles.pl").map_err(|errors| {
        Failure::Usage(format!("{}: cannot convert:\n{errors}", file.display()))
    })?;
    let target = app.config.app_data.join("user_roles.yaml");
    if target.exists() {
        return Err(Failure::Usage(format!(
            "`{}` exists already; --config-dir writes it: move it away, or leave out \
             --config-dir and convert by hand with `gatehouse policy convert`",
            target.display()
        )));
    }
    let config = PolicyConfig::with_file(&yaml, &target.display().to_string())
        .map_err(|e| Failure::Core(CoreError::Policy(e)))?;
    Ok((target, config, yaml))
}

fn counts_line(out: &mut String, name: &str, c: &KindCounts, plan: bool) {
    let (create, update) = if plan {
        ("to create", "to update")
    } else {
        ("created", "updated")
    };
    let _ = writeln!(
        out,
        "{name:<12} {} in the source: {} {create}, {} {update}, {} already here, {} left out",
        c.source, c.create, c.update, c.existing, c.skipped
    );
}

/// The plan or the summary for people.
fn summary(r: &MigrateReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "migrate-from {} ({}){}",
        r.platform,
        r.source,
        if r.plan_only {
            ": the plan, nothing written"
        } else {
            ": done, in one transaction"
        }
    );
    counts_line(&mut s, "users", &r.counts.users, r.plan_only);
    counts_line(&mut s, "roles", &r.counts.roles, r.plan_only);
    let m = &r.counts.memberships;
    let _ = writeln!(
        s,
        "{:<12} {} {}, {} on updated users, {} left out",
        "role entries",
        m.create,
        if r.plan_only { "to give" } else { "given" },
        m.update,
        m.skipped
    );
    counts_line(&mut s, "grants", &r.counts.grants, r.plan_only);
    let sc = &r.counts.scopes;
    let _ = writeln!(
        s,
        "{:<12} {} editorial scope filters on new users, {} on updated ones",
        "scope", sc.create, sc.update
    );
    if r.conflicts.is_empty() {
        let _ = writeln!(s, "no conflicts");
    } else {
        let _ = writeln!(s, "conflicts ({}), left out:", r.conflicts.len());
        for c in &r.conflicts {
            let _ = writeln!(s, "  [{}] {}: {}", c.kind, c.subject, c.detail);
        }
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(s, "left out ({}):", r.skipped.len());
        for k in &r.skipped {
            let _ = writeln!(s, "  [{}] {}: {}", k.kind, k.subject, k.reason);
        }
    }
    s
}
