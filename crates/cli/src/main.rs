//! The `gatehouse` binary: parses the command line and configuration, opens the store (the
//! only crate that knows which one is in use), runs one command through the core services
//! and prints text or `--json`.
//!
//! Exit codes: 0 success, 1 internal failure, 2 bad usage or bad input (a one-line message
//! naming the bad value), 3 `check` denied.

mod cli;
mod commands;
mod output;
mod settings;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use gatehouse_core::{Channel, Context, CoreError, Gatehouse, Password, PasswordPolicy};
use gatehouse_policy::PolicyConfig;

use crate::cli::{Cli, Command, PasswordArgs};
use crate::output::Out;
use crate::settings::{Config, Overrides};

/// mimalloc instead of the system allocator: a request allocates and frees dozens of small
/// blocks (headers, JSON, reasons), and glibc's malloc took a large share of the server's
/// time under load (docs/PERFORMANCE.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Why a command failed, and so its exit code.
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or input: exit 2.
    Usage(String),
    /// An error from the services.
    Core(CoreError),
    /// `check` answered no: exit 3 (the answer was printed).
    Denied,
    /// Something broke that is not the caller's fault: exit 1.
    Internal(String),
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Self {
        Failure::Core(e)
    }
}

impl From<settings::ConfigError> for Failure {
    fn from(e: settings::ConfigError) -> Self {
        Failure::Usage(e.0)
    }
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Core(e) if e.is_user_error() => 2,
            Failure::Core(_) | Failure::Internal(_) => 1,
            Failure::Denied => 3,
        }
    }

    fn message(&self) -> Option<String> {
        match self {
            Failure::Usage(m) | Failure::Internal(m) => Some(m.clone()),
            Failure::Core(e) => Some(e.to_string()),
            Failure::Denied => None,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Failure::Usage(_) => "invalid",
            Failure::Core(CoreError::Invalid { .. }) => "invalid",
            Failure::Core(CoreError::NotFound { .. }) => "not_found",
            Failure::Core(CoreError::Conflict(_)) => "conflict",
            Failure::Core(CoreError::Forbidden { .. }) => "forbidden",
            Failure::Core(CoreError::Policy(_)) => "invalid_policy",
            Failure::Core(CoreError::Internal(_)) | Failure::Internal(_) => "internal",
            Failure::Denied => "denied",
        }
    }
}

/// Reads and validates `app_data/user_roles.yaml`; the built-in catalog when it is absent.
pub fn read_policy_config(app_data: &Path) -> Result<PolicyConfig, Failure> {
    let file = app_data.join("user_roles.yaml");
    match std::fs::read_to_string(&file) {
        Ok(text) => PolicyConfig::with_file(&text, &file.display().to_string())
            .map_err(|e| Failure::Core(CoreError::Policy(e))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PolicyConfig::builtin().clone()),
        Err(e) => Err(Failure::Usage(format!(
            "cannot read `{}`: {e}",
            file.display()
        ))),
    }
}

/// Everything a command needs.
#[derive(Debug)]
pub struct App {
    /// The validated configuration.
    pub config: Config,
    /// Output mode.
    pub out: Out,
    /// The operator context for the services.
    pub ctx: Context,
}

impl App {
    /// The policy configuration from `app_data/user_roles.yaml` (or the built-in catalog).
    /// An invalid file stops every command that evaluates or loads (SPEC 7.6).
    pub fn policy_config(&self, app_data: &Path) -> Result<PolicyConfig, Failure> {
        read_policy_config(app_data)
    }

    /// Opens the store and builds the services.
    pub async fn services(&self) -> Result<Gatehouse, Failure> {
        self.services_with(&self.config.app_data).await
    }

    /// The services with the policy from another app_data folder.
    pub async fn services_with(&self, app_data: &Path) -> Result<Gatehouse, Failure> {
        let policy = self.policy_config(app_data)?;
        let store = self.open_store().await?;
        Ok(Gatehouse::new(store, policy, self.config.settings.clone()))
    }

    /// Opens the configured store: PostgreSQL when `database_url` is set (never migrated
    /// implicitly: a node refuses a schema older or newer than it knows), otherwise the SQLite
    /// file in the data directory (migrated when opened; refused when newer).
    pub async fn open_store(&self) -> Result<Arc<dyn gatehouse_core::Store>, Failure> {
        let known = gatehouse_store::SCHEMA_VERSION;
        let too_new = |found: i64| {
            Failure::Usage(format!(
                "the database schema is version {found}, newer than this gatehouse knows ({known}); \
                 upgrade gatehouse before using this database"
            ))
        };
        match &self.config.database_url {
            Some(url) => {
                let store = gatehouse_store::PostgresStore::connect_unmigrated(url)
                    .await
                    .map_err(|e| Failure::Usage(e.to_string()))?;
                let found = store
                    .schema_version()
                    .await
                    .map_err(|e| Failure::Core(e.into()))?;
                if found > known {
                    return Err(too_new(found));
                }
                if found < known {
                    return Err(Failure::Usage(format!(
                        "the PostgreSQL database is at schema version {found}; this gatehouse needs \
                         {known}: run `gatehouse migrate` once (with the same database_url), then retry"
                    )));
                }
                Ok(Arc::new(store))
            }
            None => match gatehouse_store::SqliteStore::open(&self.config.sqlite_path()).await {
                Ok(store) => Ok(Arc::new(store)),
                Err(gatehouse_core::StoreError::SchemaTooNew { found, .. }) => Err(too_new(found)),
                Err(e) => Err(Failure::Core(e.into())),
            },
        }
    }

    /// A password from --password, --password-stdin, --random or a prompt; `Ok(None)` with
    /// `allow_none` when no source was given and no terminal can be asked. The second value
    /// is true when the password was generated (and must be shown once).
    pub fn password(
        &self,
        args: &PasswordArgs,
        allow_none: bool,
    ) -> Result<Option<(Password, bool)>, Failure> {
        let policy: &PasswordPolicy = &self.config.settings.password_policy;
        let check = |p: &str| Password::new(p, policy).map_err(Failure::Core);
        if let Some(p) = &args.password {
            return Ok(Some((check(p)?, false)));
        }
        if args.password_stdin {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| {
                Failure::Usage(format!("cannot read the password from standard input: {e}"))
            })?;
            let p = line.trim_end_matches(['\n', '\r']);
            return Ok(Some((check(p)?, false)));
        }
        if args.random {
            return Ok(Some((Password::random(), true)));
        }
        if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            let first = rpassword::prompt_password("Password: ")
                .map_err(|e| Failure::Usage(format!("cannot read the password: {e}")))?;
            let second = rpassword::prompt_password("Repeat for confirmation: ")
                .map_err(|e| Failure::Usage(format!("cannot read the password: {e}")))?;
            if first != second {
                return Err(Failure::Usage("the two passwords differ; try again".into()));
            }
            return Ok(Some((check(&first)?, false)));
        }
        if allow_none {
            return Ok(None);
        }
        Err(Failure::Usage(
            "no password given and no terminal to ask on; use --password P, \
             --password-stdin or --random"
                .into(),
        ))
    }
}

impl App {
    /// A password as typed for a log in check: no length rule applies to what is tried.
    pub fn password_unchecked(&self, args: &PasswordArgs) -> Result<Option<String>, Failure> {
        if let Some(p) = &args.password {
            return Ok(Some(p.clone()));
        }
        if args.password_stdin {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| {
                Failure::Usage(format!("cannot read the password from standard input: {e}"))
            })?;
            return Ok(Some(line.trim_end_matches(['\n', '\r']).to_owned()));
        }
        if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            return rpassword::prompt_password("Password: ")
                .map(Some)
                .map_err(|e| Failure::Usage(format!("cannot read the password: {e}")));
        }
        Ok(None)
    }
}

fn init_logging(serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = std::env::var("GATEHOUSE_LOG").unwrap_or_else(|_| default.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal; a log file or pipe gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    if std::env::var("GATEHOUSE_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    let flags = Overrides {
        config: cli.config.clone(),
        data_dir: cli.data_dir.clone(),
        app_data: cli.app_data.clone(),
        database_url: cli.database_url.clone(),
    };
    let out = Out { json: cli.json };
    // `policy` works without a database, and without a valid configuration file if need be.
    let config = Config::load(&flags, &env)?;
    let operator = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    let app = App {
        config,
        out,
        ctx: Context::operator(&operator, Channel::Cli),
    };
    match cli.command {
        Command::Fixtures(cmd) => commands::fixtures::fixtures(&app, cmd).await,
        Command::Users(cmd) => commands::users::users(&app, cmd).await,
        Command::Roles(cmd) => commands::roles::roles(&app, cmd).await,
        Command::Access(cmd) => commands::roles::access(&app, cmd).await,
        Command::Check(args) => commands::check::check(&app, args).await,
        Command::WhoCan(args) => commands::platform::who_can(&app, args).await,
        Command::Filter(args) => commands::platform::filter(&app, args).await,
        Command::Privileges { user } => commands::audit::privileges(&app, &user).await,
        Command::Policy(cmd) => commands::policy::policy(&app, cmd).await,
        Command::History(args) => commands::audit::history(&app, args).await,
        Command::Tokens(cmd) => commands::tokens::tokens(&app, cmd).await,
        Command::Clients(cmd) => commands::clients::clients(&app, cmd).await,
        Command::Keys(cmd) => commands::clients::keys(&app, cmd).await,
        Command::Serve { listen } => commands::serve::serve(&app, listen).await,
        Command::Migrate { cmd: None } => commands::serve::migrate(&app).await,
        Command::Migrate {
            cmd: Some(cli::MigrateCmd::Status),
        } => commands::serve::migrate_status(&app).await,
        Command::Export { file } => commands::transfer::export(&app, file.as_deref()).await,
        Command::Import { file } => commands::transfer::import(&app, &file).await,
        Command::MigrateFrom(cmd) => commands::migrate_from::migrate_from(&app, cmd).await,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(matches!(cli.command, Command::Serve { .. }));
    let json = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if let Some(message) = failure.message() {
                if json {
                    let body =
                        serde_json::json!({"error": {"code": failure.kind(), "message": message}});
                    println!("{body}");
                }
                eprintln!("error: {message}");
            }
            ExitCode::from(failure.code())
        }
    }
}
