//! The command tree (InvenioRDM's `invenio users|roles|access` commands, plus EPrints' user
//! types and `+`/`-` entries), parsed by clap. Raw arguments only: `main` turns them into
//! validated values before anything runs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Accounts, roles and privileges for research repositories.
///
/// Gatehouse joins InvenioRDM's user management (users.yaml, `users create`, `access allow`)
/// and EPrints' roles and privileges (user types, roles, `+priv`/`-priv`, `:owner` and
/// `:editor` scopes) in one precedence model. Data lives in an embedded SQLite database in
/// the data directory unless `database_url` points at PostgreSQL.
#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Configuration file [default: ./gatehouse.toml when present; env GATEHOUSE_CONFIG].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory holding the SQLite database [default: ./gatehouse-data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The app_data folder with users.yaml and user_roles.yaml [default: ./app_data].
    #[arg(long, global = true, value_name = "DIR")]
    pub app_data: Option<PathBuf>,
    /// PostgreSQL URL instead of the embedded SQLite database.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load users.yaml and user_roles.yaml from the app_data folder.
    #[command(subcommand)]
    Fixtures(FixturesCmd),
    /// Create, change, list and search user accounts.
    #[command(subcommand)]
    Users(UsersCmd),
    /// Create roles and give them to users (a user's own ordered list of roles and +/- entries).
    #[command(subcommand)]
    Roles(RolesCmd),
    /// Allow or deny a privilege to a user, a role or a system role (InvenioRDM grants).
    #[command(subcommand)]
    Access(AccessCmd),
    /// Decide whether a user (or anonymous) holds a privilege, optionally on an item.
    ///
    /// Exits 0 when allowed and 3 when denied. The answer is the EPrints bitmask: 1 public,
    /// 2 user holds the privilege, 4 owner of the item, 8 item in the editorial scope.
    Check(CheckArgs),
    /// Who may exercise a privilege (on an item): the user types, roles and system roles that
    /// give it, the owner and editor conditions, the users whose own entries or grants change
    /// the answer, and the denies and `-p` removals that take it away.
    ///
    /// Agrees with `check` for every user. With `--users`, also lists the admitted users, a
    /// page at a time (`--after` the last id printed).
    WhoCan(WhoCanArgs),
    /// Which items of a dataset a user may act on, as a filter a search index can apply:
    /// all, none, or conditions (owner, status, editorial scope) each with its bit.
    Filter(FilterArgs),
    /// List a user's effective privileges with where each comes from, and the public ones.
    Privileges {
        /// The user: email or id.
        user: String,
    },
    /// Validate or show the roles and user types policy (no database needed).
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Who changed what, when, through which channel.
    History(HistoryArgs),
    /// Service tokens for the repository application that calls `/api/check`.
    #[command(subcommand)]
    Tokens(TokensCmd),
    /// OpenID Connect clients: the repositories (InvenioRDM, DSpace, EPrints) that log their
    /// users in through Gatehouse (docs/oidc.md).
    #[command(subcommand)]
    Clients(ClientsCmd),
    /// The OpenID Connect provider's signing keys (RS256 and EdDSA), kept in the database.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Write the whole database (users with password hashes, roles, grants, credentials,
    /// history) as JSON lines, to FILE or standard output.
    ///
    /// The format is in docs/export-format.md. The file holds password hashes and token
    /// hashes: keep it as safe as the database (FILE is created readable by you only).
    Export {
        /// Where to write [default: standard output].
        file: Option<PathBuf>,
    },
    /// Read an export into an empty database (SQLite or PostgreSQL), all or nothing.
    ///
    /// Refuses a database that holds anything, a file from a newer gatehouse, a truncated
    /// file and any bad line (naming its number); nothing is written then.
    Import {
        /// The export file.
        file: PathBuf,
    },
    /// Bring the database's schema up to date (PostgreSQL nodes never do it on their own).
    ///
    /// Safe to run while nodes serve and from several places at once: migrations run in one
    /// transaction under a lock. A database newer than this build is refused untouched.
    Migrate {
        /// `status`: the schema version, and how many accounts still carry each imported
        /// platform's password scheme. Without it: migrate.
        #[command(subcommand)]
        cmd: Option<MigrateCmd>,
    },
    /// Move accounts, password hashes, roles and grants in from a running InvenioRDM, EPrints
    /// or DSpace (its database is only read, in one snapshot).
    ///
    /// Everything is written in one transaction: all or nothing. Conflicts (an email or
    /// username already here, a role name clash, two source accounts differing only in case,
    /// look-alike accounts) are listed and their items left out; so is anything Gatehouse
    /// cannot express exactly. Run it again to bring in what is new; `--update` refreshes
    /// what came before. Passwords keep working: each platform's hash is verified as the
    /// platform did at the first log in, then replaced. See docs/migrating.md.
    #[command(subcommand)]
    MigrateFrom(MigrateFromCmd),
    /// Run the HTTP API (and admin UI) until SIGTERM or Ctrl-C.
    ///
    /// Listens on server.listen (default 127.0.0.1:8080). In-flight requests finish before
    /// the process exits. Logs go to standard error (GATEHOUSE_LOG=info by default here,
    /// GATEHOUSE_LOG_FORMAT=json for JSON lines).
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:8080 [default: server.listen].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
}

/// `tokens ...`
#[derive(Debug, Subcommand)]
pub enum TokensCmd {
    /// Create a service token; it is printed once.
    Create {
        /// A name: letters, digits, `-`, `_`, `.`.
        name: String,
        /// A privilege it holds, e.g. `check/any`; repeatable.
        #[arg(long = "privilege", value_name = "PRIVILEGE", required = true)]
        privileges: Vec<String>,
    },
    /// List service tokens (never the tokens themselves).
    List,
    /// Revoke a service token at once.
    Revoke {
        /// Its name.
        name: String,
    },
}

/// `clients ...`
#[derive(Debug, Subcommand)]
pub enum ClientsCmd {
    /// Register a client; its id and secret are printed once (the secret is stored hashed).
    ///
    /// Example: `gatehouse clients create "Our repository" --redirect-uri
    /// https://repo.example.org/oauth/authorized/gatehouse/ --first-party`
    Create {
        /// A name for people, shown on the consent page.
        name: String,
        /// A redirect URI, matched exactly (`https://`, or `http://` on localhost); repeatable.
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// A public client (a single-page or native app): no secret, PKCE S256 required.
        #[arg(long)]
        public: bool,
        /// A first-party client: the consent page is skipped.
        #[arg(long)]
        first_party: bool,
        /// Where RP-initiated logout may send the browser back to; repeatable.
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// A scope the client may ask for (openid, profile, email, roles, offline_access);
        /// repeatable [default: all of them].
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// The service token whose privileges the client credentials grant hands out.
        #[arg(long, value_name = "NAME")]
        service_token: Option<String>,
    },
    /// List clients (never their secrets).
    List,
    /// Show one client.
    Show {
        /// The client id.
        id: String,
    },
    /// Revoke a client: it is refused from now on and its tokens end at once.
    Revoke {
        /// The client id.
        id: String,
    },
    /// Give a confidential client a new secret, printed once; the old one stops working.
    RotateSecret {
        /// The client id.
        id: String,
    },
    /// Forget the consents users gave a third-party client, so that its consent page is
    /// shown again; tokens already issued stay valid.
    ForgetConsent {
        /// The client id.
        id: String,
        /// Only this user's consent (email or id); without it, every user's.
        #[arg(long, value_name = "USER")]
        user: Option<String>,
    },
}

/// `keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// List the signing keys (never their private parts); the first ones are made if there
    /// are none.
    List,
    /// Publish new keys now; they sign after oidc.key_rotation_delay_secs (default an hour),
    /// and the old keys stay published until what they signed has expired.
    Rotate,
}

/// `fixtures ...`
#[derive(Debug, Subcommand)]
pub enum FixturesCmd {
    /// Load APP_DATA/users.yaml (and check APP_DATA/user_roles.yaml) in one transaction.
    ///
    /// No users.yaml: create the default admin (active, confirmed, type admin, role admin,
    /// superuser-access) and print its random password once. An empty users.yaml: create
    /// nobody. Users whose email exists are skipped; any error loads nothing.
    Load {
        /// The app_data folder [default: the configured app_data].
        app_data: Option<PathBuf>,
    },
}

/// Where a password comes from.
#[derive(Debug, Args, Clone, Default)]
#[group(multiple = false)]
pub struct PasswordArgs {
    /// The password (visible in the process list; prefer --password-stdin).
    #[arg(long, value_name = "PASSWORD")]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Generate a random 20-character password and print it once.
    #[arg(long)]
    pub random: bool,
}

/// `users ...`
#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// Create a user. Without --confirm the user must confirm their email before logging in.
    Create(CreateArgs),
    /// Activate a user (this also confirms an unconfirmed user, as InvenioRDM does).
    Activate {
        /// Email or id.
        user: String,
    },
    /// Deactivate a user: from the next check on they hold only public privileges.
    Deactivate {
        /// Email or id.
        user: String,
    },
    /// Confirm a user's email address.
    Confirm {
        /// Email or id.
        user: String,
    },
    /// Set or change a user's password (prompts when no source is given on a terminal).
    SetPassword {
        /// Email or id.
        user: String,
        /// Password source.
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Set a user's type (EPrints user type: user, editor, admin, minuser, or one of the file).
    SetType {
        /// Email or id.
        user: String,
        /// The type.
        #[arg(value_name = "TYPE")]
        user_type: String,
    },
    /// Set a user's editorial scope: items matching any filter are in scope.
    SetScope {
        /// Email or id.
        user: String,
        /// A filter `field=value,value;field=value` (all fields must match); repeat for OR.
        #[arg(
            long = "filter",
            value_name = "FILTER",
            required_unless_present = "clear"
        )]
        filters: Vec<String>,
        /// Remove every filter (then every item is in scope).
        #[arg(long, conflicts_with = "filters")]
        clear: bool,
    },
    /// Replace a user's whole ordered list of roles and +/- entries (for reordering).
    SetRoles {
        /// Email or id.
        user: String,
        /// Entries in order: role names, `+privilege`, `-privilege`.
        #[arg(allow_hyphen_values = true, value_name = "ENTRY")]
        entries: Vec<String>,
    },
    /// Change a user's email address (the log in identity). Refused when another account
    /// has it or one that looks like it; sessions are kept.
    SetEmail {
        /// Email or id.
        user: String,
        /// The new email address (stored lower-cased).
        email: String,
    },
    /// Set or remove a user's username. Refused when another account has it (in any case)
    /// or one that looks like it.
    SetUsername {
        /// Email or id.
        user: String,
        /// The new username: a letter, then letters, digits, `-` or `_` (3 to 256).
        #[arg(required_unless_present = "clear")]
        username: Option<String>,
        /// Remove the username (the user logs in with the email only).
        #[arg(long, conflicts_with = "username")]
        clear: bool,
    },
    /// One action on many users at once, all or nothing: if one user is missing or may not
    /// be changed, nothing changes (at most 500 users).
    ///
    /// Example: `gatehouse users bulk add-entry --entry editor ann@example.org 7 12`.
    Bulk {
        /// What to do to each user.
        #[arg(value_enum)]
        action: BulkActionArg,
        /// For add-entry and remove-entry: a role name, `+privilege` or `-privilege`.
        #[arg(long, value_name = "ENTRY", allow_hyphen_values = true)]
        entry: Option<String>,
        /// The users: emails or ids.
        #[arg(required = true, value_name = "USER")]
        users: Vec<String>,
    },
    /// Change a user's full name or affiliations.
    SetProfile {
        /// Email or id.
        user: String,
        /// Full name.
        #[arg(long)]
        full_name: Option<String>,
        /// Affiliations.
        #[arg(long)]
        affiliations: Option<String>,
    },
    /// List users, optionally filtered.
    List(ListArgs),
    /// Search users by words in email, username, full name or affiliations.
    Search {
        /// The words (all must match, case-insensitively).
        text: String,
        /// Filters and paging.
        #[command(flatten)]
        list: ListArgs,
    },
    /// Show one user.
    Show {
        /// Email or id.
        user: String,
    },
    /// Delete a user and their grants.
    Delete {
        /// Email or id.
        user: String,
    },
    /// Rebuild the user search index.
    Reindex,
    /// E-mail a confirmation link again to a user who has not confirmed.
    SendConfirmation {
        /// Email or id.
        user: String,
    },
    /// Print the Argon2id hash (PHC string) of a password, for `password_hash` in users.yaml.
    HashPassword {
        /// Password source.
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Check a log in as the server would: right password, confirmed email, active account.
    ///
    /// Exits 0 when the log in would succeed and 3 when it would be refused, saying why
    /// (an unknown user and a wrong password get the same answer).
    CheckLogin {
        /// Email or username.
        login: String,
        /// Password source (a prompt on a terminal when none is given).
        #[command(flatten)]
        password: PasswordArgs,
    },
}

/// What `users bulk` does to each user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BulkActionArg {
    /// Activate (and confirm, as `users activate` does).
    Activate,
    /// Deactivate: their sessions and tokens end.
    Deactivate,
    /// Confirm the email.
    Confirm,
    /// Append --entry to each user's own list unless it is there.
    AddEntry,
    /// Remove --entry from each user's own list.
    RemoveEntry,
}

impl BulkActionArg {
    /// The core's name for the action.
    pub fn name(self) -> &'static str {
        match self {
            BulkActionArg::Activate => "activate",
            BulkActionArg::Deactivate => "deactivate",
            BulkActionArg::Confirm => "confirm",
            BulkActionArg::AddEntry => "add-entry",
            BulkActionArg::RemoveEntry => "remove-entry",
        }
    }
}

/// `users create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// The email address (stored lower-cased).
    pub email: String,
    /// Password source.
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Make the account active.
    #[arg(long, short = 'a')]
    pub active: bool,
    /// Mark the email as confirmed (otherwise the user must confirm before logging in).
    #[arg(long, short = 'c')]
    pub confirm: bool,
    /// Username: a letter, then letters, digits, `-` or `_` (3 to 256 characters).
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// Full name.
    #[arg(long)]
    pub full_name: Option<String>,
    /// Affiliations.
    #[arg(long)]
    pub affiliations: Option<String>,
    /// User type [default: users.default_type, `user`].
    #[arg(long = "type", value_name = "TYPE")]
    pub user_type: Option<String>,
    /// A role name, `+privilege` or `-privilege` for the user's own list; repeatable.
    #[arg(long = "role", value_name = "ENTRY", allow_hyphen_values = true)]
    pub roles: Vec<String>,
}

/// Filters and paging.
#[derive(Debug, Args, Clone, Default)]
pub struct ListArgs {
    /// Only users of this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub user_type: Option<String>,
    /// Only active users.
    #[arg(long, conflicts_with = "inactive")]
    pub active: bool,
    /// Only inactive users.
    #[arg(long)]
    pub inactive: bool,
    /// Only confirmed users.
    #[arg(long, conflicts_with = "unconfirmed")]
    pub confirmed: bool,
    /// Only unconfirmed users.
    #[arg(long)]
    pub unconfirmed: bool,
    /// The order: id, email, username, full_name, type, active, confirmed or created, with
    /// `-` in front for descending (`--sort -created`). Ties go by id; users without a
    /// username, type or full name come last either way.
    #[arg(
        long,
        value_name = "FIELD",
        default_value = "id",
        allow_hyphen_values = true
    )]
    pub sort: String,
    /// Skip this many.
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Show at most this many (0 = all).
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
    /// Only users whose password hash has this scheme: argon2, or an imported platform's
    /// (invenio-pbkdf2-sha512, eprints-sha512, dspace-sha512, ...; see `migrate status`).
    #[arg(long, value_name = "SCHEME")]
    pub password_scheme: Option<String>,
}

/// `migrate-from ...`
#[derive(Debug, Subcommand)]
pub enum MigrateFromCmd {
    /// An InvenioRDM database (PostgreSQL): accounts, roles, memberships, action grants.
    ///
    /// Its `$pbkdf2-sha512$` hashes need the instance's salt: set
    /// `legacy.invenio_password_salt` (or GATEHOUSE_LEGACY__INVENIO_PASSWORD_SALT) first.
    Invenio(MigrateFromArgs),
    /// An EPrints database (MySQL or MariaDB): users, their roles and editorial scope.
    Eprints {
        /// The source and what to do.
        #[command(flatten)]
        args: MigrateFromArgs,
        /// The repository's cfg.d folder: its user_roles.pl is converted (as `policy
        /// convert` does) into app_data/user_roles.yaml, which must not exist yet.
        #[arg(long, value_name = "DIR")]
        config_dir: Option<PathBuf>,
    },
    /// A DSpace database (PostgreSQL): e-people, groups (nesting resolved), Administrator.
    Dspace(MigrateFromArgs),
}

/// What every `migrate-from` takes.
#[derive(Debug, Args)]
pub struct MigrateFromArgs {
    /// The source database URL (postgres://... or mysql://...); from the environment
    /// variable GATEHOUSE_MIGRATE_SOURCE to keep its password off the command line.
    #[arg(
        long,
        value_name = "URL",
        env = "GATEHOUSE_MIGRATE_SOURCE",
        hide_env_values = true
    )]
    pub source: String,
    /// Only print what would happen (counts per kind and every conflict); write nothing.
    #[arg(long)]
    pub plan: bool,
    /// Refresh accounts and roles that came before from the source (names, status, type,
    /// roles, scope; a password only while it is still the platform's hash).
    #[arg(long)]
    pub update: bool,
}

/// `migrate ...`
#[derive(Debug, Subcommand)]
pub enum MigrateCmd {
    /// Show the schema version and the number of accounts per password scheme (changes
    /// nothing on PostgreSQL; a SQLite file is brought up to date when opened, as always).
    Status,
}

/// `roles ...`
#[derive(Debug, Subcommand)]
pub enum RolesCmd {
    /// Create a run-time role (stored in the database). An existing role is left as it is.
    Create {
        /// Role name: a letter, then letters, digits, `_` or `-` (at most 80).
        name: String,
        /// Description.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// A privilege for the role (`p` or `+p` grants, `-p` removes); repeatable.
        #[arg(
            long = "privilege",
            value_name = "PRIVILEGE",
            allow_hyphen_values = true
        )]
        privileges: Vec<String>,
    },
    /// Append ENTRY (a role name, `+privilege` or `-privilege`) to a user's own list.
    Add {
        /// Email or id.
        user: String,
        /// The entry.
        #[arg(allow_hyphen_values = true)]
        entry: String,
    },
    /// Remove ENTRY from a user's own list.
    Remove {
        /// Email or id.
        user: String,
        /// The entry.
        #[arg(allow_hyphen_values = true)]
        entry: String,
    },
    /// List every role: built in, from user_roles.yaml, and created at run time.
    List,
    /// Show one role with its entries, origin and grants.
    Show {
        /// The role.
        name: String,
    },
}

/// Who a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetKind {
    /// A user, by email or id.
    User,
    /// A role, by name.
    Role,
    /// A system role: any_user (everybody) or authenticated_user.
    SystemRole,
}

/// The target of a grant command.
#[derive(Debug, Args)]
pub struct GrantArgs {
    /// The privilege, e.g. administration-access.
    pub privilege: String,
    /// user, role or system-role.
    #[arg(value_enum)]
    pub kind: TargetKind,
    /// The user's email or id, the role name, or any_user / authenticated_user.
    pub name: String,
}

/// `access ...`
#[derive(Debug, Subcommand)]
pub enum AccessCmd {
    /// Allow a privilege, e.g. `access allow administration-access user EMAIL`.
    Allow(GrantArgs),
    /// Deny a privilege; a deny always wins over any allow.
    Deny(GrantArgs),
    /// Remove both the allow and the deny of a privilege for that user, role or system role.
    Remove(GrantArgs),
    /// List grants, optionally for one user or role.
    Show {
        /// Only this user's grants.
        #[arg(long, conflicts_with = "role")]
        user: Option<String>,
        /// Only this role's grants.
        #[arg(long)]
        role: Option<String>,
    },
}

/// `check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The user asking: email or id.
    #[arg(
        long,
        required_unless_present = "anonymous",
        conflicts_with = "anonymous"
    )]
    pub user: Option<String>,
    /// Ask for an anonymous visitor.
    #[arg(long)]
    pub anonymous: bool,
    /// The privilege, e.g. eprint/edit.
    pub privilege: String,
    #[arg(
        long,
        value_name = "JSON",
        help = r#"The item as JSON: {"dataset":"eprint","status":"buffer","owners":[3],"fields":{"divisions":["law"]}}"#
    )]
    pub item: Option<String>,
    /// Explain: the mask in words, the reasons, and every step of the walk that touched the
    /// privilege (type and own entries, `-p` removals, grants, denies, public,
    /// superuser-access). Refuses an item status its dataset does not have.
    #[arg(long)]
    pub explain: bool,
}

/// `who-can`
#[derive(Debug, Args)]
pub struct WhoCanArgs {
    /// The privilege, e.g. eprint/edit.
    pub privilege: String,
    #[arg(
        long,
        value_name = "JSON",
        help = r#"The item as JSON: {"dataset":"eprint","status":"buffer","owners":[3],"fields":{"divisions":["law"]}}"#
    )]
    pub item: Option<String>,
    /// Also list the users admitted, by id.
    #[arg(long)]
    pub users: bool,
    /// With --users: only users with a larger id (the `next` of the previous page).
    #[arg(long, value_name = "ID", default_value_t = 0, requires = "users")]
    pub after: i64,
    /// With --users: at most this many users (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = 100, requires = "users",
          value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub limit: u64,
}

/// `filter`
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// The user: email or id.
    #[arg(
        long,
        required_unless_present = "anonymous",
        conflicts_with = "anonymous"
    )]
    pub user: Option<String>,
    /// The filter for anonymous visitors.
    #[arg(long)]
    pub anonymous: bool,
    /// The privilege, e.g. eprint/view.
    pub privilege: String,
    /// The dataset of the items listed [default: the privilege's first segment].
    #[arg(long)]
    pub dataset: Option<String>,
}

/// `policy ...`
#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Check a user_roles.yaml; lists every problem and exits 2 if there is one.
    Validate {
        /// The file [default: APP_DATA/user_roles.yaml].
        file: Option<PathBuf>,
    },
    /// Show the effective catalog: roles, user types with their privileges, public privileges.
    Show {
        /// Only this user type, with its effective privileges and their sources.
        #[arg(long = "type", value_name = "TYPE", conflicts_with = "role")]
        user_type: Option<String>,
        /// Only this role.
        #[arg(long)]
        role: Option<String>,
    },
    /// Convert an EPrints cfg.d/user_roles.pl into a user_roles.yaml (checked before it is
    /// written); each entry's comment names the line it came from.
    ///
    /// Reads the Perl subset those files use ($c->{roles}->{"name"} = [...],
    /// $c->{user_roles}->{type} = [...], $c->{public_roles}, push @{...}); anything else is
    /// an error naming its line.
    Convert {
        /// The user_roles.pl to read.
        file: PathBuf,
        /// Write the YAML here instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
    },
}

/// `history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only changes about this user (email or id).
    #[arg(long)]
    pub user: Option<String>,
    /// Only changes at or after this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<String>,
    /// Only changes before this time (RFC 3339, or a date YYYY-MM-DD: before that day).
    #[arg(long)]
    pub until: Option<String>,
    /// Only changes whose actor contains this text (ASCII case ignored), e.g. `ann@`.
    #[arg(long, value_name = "TEXT")]
    pub actor: Option<String>,
    /// Only changes whose target contains this text (ASCII case ignored).
    #[arg(long, value_name = "TEXT")]
    pub target: Option<String>,
    /// Only changes of exactly this action, e.g. `user.create`, `grant.allow`.
    #[arg(long)]
    pub action: Option<String>,
    /// Skip this many of the newest matches (page n of size s: --offset n*s).
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// At most this many, the newest (0 = all).
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// Print the newest first (otherwise oldest first).
    #[arg(long)]
    pub newest_first: bool,
}
