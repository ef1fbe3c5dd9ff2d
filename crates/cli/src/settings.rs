//! Configuration, in layers: built-in defaults, then `gatehouse.toml` (or `--config`), then
//! `GATEHOUSE_*` environment variables (`GATEHOUSE_SERVER__LISTEN` for `server.listen`), then
//! command-line flags. The merged table is checked once (unknown keys are errors) into
//! [`Config`], which the rest of the program trusts. Secrets are redacted in `Debug`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use gatehouse_core::legacy::LegacySettings;
use gatehouse_core::{Email, HashLimits, Password, PasswordPolicy, Settings};
use gatehouse_policy::TypeName;
use serde::Deserialize;

mod oidc;

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db` (the store's, shared
/// with `migrate-from`).
pub use gatehouse_store::sources::redact_url;

/// Why the configuration could not be read. Always the caller's to fix (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    data_dir: Option<PathBuf>,
    app_data: Option<PathBuf>,
    database_url: Option<String>,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    fixtures: RawFixtures,
    #[serde(default)]
    passwords: RawPasswords,
    #[serde(default)]
    users: RawUsers,
    #[serde(default)]
    mail: RawMail,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    throttle: RawThrottle,
    #[serde(default)]
    legacy: RawLegacy,
    #[serde(default)]
    oidc: oidc::RawOidc,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLegacy {
    invenio_password_salt: Option<String>,
    invenio_single_hash: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<String>,
    base_url: Option<String>,
    secure_cookies: Option<bool>,
    trusted_proxies: Option<Vec<String>>,
    metrics_listen: Option<String>,
    header_read_timeout_secs: Option<i64>,
    request_timeout_secs: Option<i64>,
    max_connections_per_address: Option<i64>,
    max_connections: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawThrottle {
    account_burst: Option<f64>,
    account_refill_secs: Option<f64>,
    address_burst: Option<f64>,
    address_refill_secs: Option<f64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMail {
    outbox: Option<PathBuf>,
    from: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<i64>,
    smtp_security: Option<String>,
    smtp_username: Option<String>,
    smtp_password: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFixtures {
    passwords: Option<BTreeMap<String, String>>,
    admin_email: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPasswords {
    min_length: Option<i64>,
    argon2_max_memory_kib: Option<i64>,
    argon2_max_time: Option<i64>,
    argon2_max_lanes: Option<i64>,
    pbkdf2_max_rounds: Option<i64>,
    bcrypt_max_cost: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawUsers {
    default_type: Option<String>,
}

/// Flags that override the file and the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--app-data`.
    pub app_data: Option<PathBuf>,
    /// `--database-url`.
    pub database_url: Option<String>,
}

/// Where mail goes.
#[derive(Clone)]
pub enum MailConfig {
    /// Text files in a folder (development and tests).
    Outbox(PathBuf, String),
    /// SMTP.
    Smtp(gatehouse_server::mail::SmtpSettings),
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailConfig::Outbox(p, from) => write!(f, "Outbox({}, {from})", p.display()),
            MailConfig::Smtp(s) => write!(f, "{s:?}"),
        }
    }
}

/// The validated configuration.
#[derive(Clone)]
pub struct Config {
    /// Data directory (the SQLite database lives here).
    pub data_dir: PathBuf,
    /// The app_data folder (`users.yaml`, `user_roles.yaml`).
    pub app_data: PathBuf,
    /// PostgreSQL URL, when set.
    pub database_url: Option<String>,
    /// `server.listen`.
    pub listen: String,
    /// `server.base_url`: the public URL for links in mail and discovery documents.
    pub base_url: String,
    /// Whether `server.base_url` was set; if not, `serve` derives it from the address it
    /// really listens on (so `serve --listen` is honoured).
    pub base_url_set: bool,
    /// `server.secure_cookies`.
    pub secure_cookies: bool,
    /// `server.trusted_proxies`: proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<gatehouse_server::client::Cidr>,
    /// `server.metrics_listen`: a second address serving only `/metrics`.
    pub metrics_listen: Option<String>,
    /// `metrics.token`: the bearer token `/metrics` asks for on the main address (secret).
    pub metrics_token: Option<String>,
    /// `throttle.*`: the log in throttle's buckets.
    pub throttle: gatehouse_server::throttle::Rules,
    /// `server.header_read_timeout_secs` and the other connection limits.
    pub http_limits: gatehouse_server::serve::HttpLimits,
    /// `mail.*`.
    pub mail: MailConfig,
    /// `oidc.*`, with the issuer from `server.base_url`.
    pub oidc: gatehouse_core::oidc::OidcSettings,
    /// Settings for the services.
    pub settings: Settings,
    /// The config file that was read, if any.
    pub file: Option<PathBuf>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("app_data", &self.app_data)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("listen", &self.listen)
            .field("base_url", &self.base_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("metrics_listen", &self.metrics_listen)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("mail", &self.mail)
            .field("admin_email", &self.settings.admin_email)
            .field(
                "fixture_passwords",
                &self.settings.fixture_passwords.keys().collect::<Vec<_>>(),
            )
            .field("password_policy", &self.settings.password_policy)
            // LegacySettings' own Debug redacts the Invenio salt.
            .field("legacy", &self.settings.legacy)
            .field("default_type", &self.settings.default_type)
            .field("file", &self.file)
            .finish()
    }
}

/// Environment variables with the prefix that are not configuration keys
/// (`GATEHOUSE_MIGRATE_SOURCE` is `migrate-from --source`, kept off the command line).
const ENV_NOT_KEYS: &[&str] = &[
    "GATEHOUSE_LOG",
    "GATEHOUSE_CONFIG",
    "GATEHOUSE_LOG_FORMAT",
    "GATEHOUSE_MIGRATE_SOURCE",
];

impl Config {
    /// Reads and validates the configuration from the file, `env` and flags.
    pub fn load(flags: &Overrides, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let env_config = env
            .iter()
            .find(|(k, _)| k == "GATEHOUSE_CONFIG")
            .map(|(_, v)| PathBuf::from(v));
        let (mut table, file) = match flags.config.clone().or(env_config) {
            Some(path) => (read_table(&path, true)?, Some(path)),
            None => {
                let default = PathBuf::from("gatehouse.toml");
                if default.exists() {
                    (read_table(&default, true)?, Some(default))
                } else {
                    (toml::Table::new(), None)
                }
            }
        };
        for (k, v) in env {
            let Some(key) = k.strip_prefix("GATEHOUSE_") else {
                continue;
            };
            if ENV_NOT_KEYS.contains(&k.as_str()) || key.starts_with("TEST_") {
                continue;
            }
            let path: Vec<String> = key.split("__").map(str::to_lowercase).collect();
            set_path(&mut table, &path, env_value(&path, v))
                .map_err(|e| ConfigError(format!("environment variable `{k}`: {e}")))?;
        }
        if let Some(d) = &flags.data_dir {
            table.insert(
                "data_dir".into(),
                toml::Value::String(d.display().to_string()),
            );
        }
        if let Some(d) = &flags.app_data {
            table.insert(
                "app_data".into(),
                toml::Value::String(d.display().to_string()),
            );
        }
        if let Some(u) = &flags.database_url {
            table.insert("database_url".into(), toml::Value::String(u.clone()));
        }
        let raw: Raw = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| {
                let origin = file
                    .as_ref()
                    .map_or("the configuration".to_owned(), |f| f.display().to_string());
                ConfigError(format!(
                    "{origin}: {}; the keys are data_dir, app_data, database_url, server.listen, \
                 fixtures.passwords, fixtures.admin_email, passwords.min_length, \
                 passwords.argon2_max_memory_kib, passwords.argon2_max_time, \
                 passwords.argon2_max_lanes, passwords.pbkdf2_max_rounds, \
                 passwords.bcrypt_max_cost, users.default_type, \
                 legacy.invenio_password_salt, legacy.invenio_single_hash, \
                 server.base_url, server.secure_cookies, server.trusted_proxies, \
                 server.metrics_listen, server.header_read_timeout_secs, server.request_timeout_secs, \
                 server.max_connections_per_address, server.max_connections, metrics.token, \
                 throttle.account_burst, throttle.account_refill_secs, throttle.address_burst, \
                 throttle.address_refill_secs, oidc.access_token_lifetime_secs, \
                 oidc.refresh_token_lifetime_secs, oidc.key_rotation_delay_secs, \
                 oidc.roles_claim, oidc.id_token_alg, \
                 mail.outbox, mail.from, mail.smtp_host, \
                 mail.smtp_port, mail.smtp_security, mail.smtp_username, mail.smtp_password",
                    e.message().trim_end_matches('\n')
                ))
            })?;
        Config::validate(raw, file)
    }

    fn validate(raw: Raw, file: Option<PathBuf>) -> Result<Config, ConfigError> {
        let password_policy = password_policy(&raw.passwords)?;
        let http_limits = http_limits(&raw.server)?;
        let admin = raw
            .fixtures
            .admin_email
            .unwrap_or_else(|| "admin@inveniosoftware.org".into());
        let admin_email = Email::new(&admin).map_err(|e| {
            ConfigError(format!(
                "fixtures.admin_email: {e} (env GATEHOUSE_FIXTURES__ADMIN_EMAIL)"
            ))
        })?;
        let mut fixture_passwords = BTreeMap::new();
        for (email, pw) in raw.fixtures.passwords.unwrap_or_default() {
            if pw.is_empty() {
                continue; // empty counts as absent (SPEC 2.1)
            }
            let e = Email::new(&email)
                .map_err(|err| ConfigError(format!("fixtures.passwords: {err}")))?;
            let p = Password::new(&pw, &password_policy)
                .map_err(|err| ConfigError(format!("fixtures.passwords for `{email}`: {err}")))?;
            fixture_passwords.insert(e.to_string(), p);
        }
        let default_type = raw.users.default_type.unwrap_or_else(|| "user".into());
        let default_type = TypeName::new(&default_type)
            .map_err(|e| ConfigError(format!("users.default_type: {e}")))?;
        if let Some(url) = &raw.database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ConfigError(format!(
                    "database_url `{}` is not a PostgreSQL URL; use `postgres://user@host/db`, \
                     or leave it unset for the embedded SQLite database",
                    redact_url(url)
                )));
            }
        }
        let data_dir = raw
            .data_dir
            .unwrap_or_else(|| PathBuf::from("gatehouse-data"));
        let listen = raw.server.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        if listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError(format!(
                "server.listen `{listen}` is not an address like 127.0.0.1:8080 (env GATEHOUSE_SERVER__LISTEN)"
            )));
        }
        let base_url_set = raw.server.base_url.is_some();
        let base_url = raw
            .server
            .base_url
            .unwrap_or_else(|| format!("http://{listen}"));
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "server.base_url `{base_url}` must start with http:// or https://"
            )));
        }
        let secure_cookies = raw
            .server
            .secure_cookies
            .unwrap_or(base_url.starts_with("https://"));
        let trusted_proxies = raw
            .server
            .trusted_proxies
            .clone()
            .unwrap_or_default()
            .iter()
            .map(|c| {
                c.parse::<gatehouse_server::client::Cidr>().map_err(|e| {
                    ConfigError(format!(
                        "server.trusted_proxies: {e} (env GATEHOUSE_SERVER__TRUSTED_PROXIES, \
                         a list like [\"127.0.0.1\", \"10.0.0.0/8\"])"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let throttle = throttle_rules(&raw.throttle)?;
        let metrics_token = raw.metrics.token.filter(|t| !t.is_empty());
        if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError(
                "metrics.token is shorter than 16 characters; use a long random value \
                 (env GATEHOUSE_METRICS__TOKEN)"
                    .into(),
            ));
        }
        let mail = mail_config(raw.mail, &data_dir)?;
        let legacy = legacy_settings(raw.legacy)?;
        let oidc = oidc::oidc_settings(raw.oidc, &base_url)?;
        Ok(Config {
            oidc,
            data_dir,
            app_data: raw.app_data.unwrap_or_else(|| PathBuf::from("app_data")),
            database_url: raw.database_url,
            listen,
            base_url,
            base_url_set,
            secure_cookies,
            trusted_proxies,
            metrics_listen: raw.server.metrics_listen,
            metrics_token,
            throttle,
            http_limits,
            mail,
            settings: Settings {
                password_policy,
                default_type,
                admin_email,
                fixture_passwords,
                legacy,
            },
            file,
        })
    }

    /// The SQLite database file.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("gatehouse.sqlite")
    }
}

/// `legacy.*`: what verifying imported InvenioRDM hashes needs. An empty salt counts as
/// absent (as an empty fixture password does).
fn legacy_settings(raw: RawLegacy) -> Result<LegacySettings, ConfigError> {
    let salt = raw.invenio_password_salt.filter(|s| !s.is_empty());
    if salt.as_ref().is_some_and(|s| s.len() > 4096) {
        return Err(ConfigError(
            "legacy.invenio_password_salt is longer than 4,096 bytes; give the InvenioRDM \
             instance's SECURITY_PASSWORD_SALT (env GATEHOUSE_LEGACY__INVENIO_PASSWORD_SALT)"
                .into(),
        ));
    }
    Ok(LegacySettings {
        invenio_password_salt: salt,
        invenio_single_hash: raw.invenio_single_hash.unwrap_or(false),
    })
}

fn read_table(path: &Path, must_exist: bool) -> Result<toml::Table, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(text) => text.parse::<toml::Table>().map_err(|e| {
            ConfigError(format!(
                "{}: not valid TOML: {}",
                path.display(),
                e.message()
            ))
        }),
        Err(e) if !must_exist && e.kind() == std::io::ErrorKind::NotFound => Ok(toml::Table::new()),
        Err(e) => Err(ConfigError(format!(
            "cannot read config file `{}`: {e}",
            path.display()
        ))),
    }
}

/// `passwords.*`: the length rule and the bounds on hash parameters.
fn password_policy(raw: &RawPasswords) -> Result<PasswordPolicy, ConfigError> {
    let min = raw.min_length.unwrap_or(8);
    if !(1..=128).contains(&min) {
        return Err(ConfigError(format!(
            "passwords.min_length is {min}; use a number from 1 to 128 \
             (env GATEHOUSE_PASSWORDS__MIN_LENGTH)"
        )));
    }
    let defaults = HashLimits::default();
    let hash_limits = HashLimits {
        argon2_memory_kib: bounded(
            raw.argon2_max_memory_kib,
            "passwords.argon2_max_memory_kib",
            defaults.argon2_memory_kib,
            19_456..=4_194_304,
        )?,
        argon2_time: bounded(
            raw.argon2_max_time,
            "passwords.argon2_max_time",
            defaults.argon2_time,
            2..=100,
        )?,
        argon2_lanes: bounded(
            raw.argon2_max_lanes,
            "passwords.argon2_max_lanes",
            defaults.argon2_lanes,
            1..=64,
        )?,
        pbkdf2_max_rounds: bounded(
            raw.pbkdf2_max_rounds,
            "passwords.pbkdf2_max_rounds",
            defaults.pbkdf2_max_rounds,
            1_000..=10_000_000,
        )?,
        bcrypt_max_cost: bounded(
            raw.bcrypt_max_cost,
            "passwords.bcrypt_max_cost",
            defaults.bcrypt_max_cost,
            4..=31,
        )?,
    };
    let password_policy = PasswordPolicy {
        min_length: min as usize,
        max_length: 128,
        hash_limits,
    };
    Ok(password_policy)
}

/// `server.header_read_timeout_secs` and the other connection limits.
fn http_limits(raw: &RawServer) -> Result<gatehouse_server::serve::HttpLimits, ConfigError> {
    let http_defaults = gatehouse_server::serve::HttpLimits::default();
    let http_limits = gatehouse_server::serve::HttpLimits {
        header_read_timeout: std::time::Duration::from_secs(u64::from(bounded(
            raw.header_read_timeout_secs,
            "server.header_read_timeout_secs",
            http_defaults.header_read_timeout.as_secs() as u32,
            1..=300,
        )?)),
        request_timeout: std::time::Duration::from_secs(u64::from(bounded(
            raw.request_timeout_secs,
            "server.request_timeout_secs",
            http_defaults.request_timeout.as_secs() as u32,
            1..=3600,
        )?)),
        max_connections_per_address: bounded(
            raw.max_connections_per_address,
            "server.max_connections_per_address",
            http_defaults.max_connections_per_address as u32,
            1..=100_000,
        )? as usize,
        max_connections: bounded(
            raw.max_connections,
            "server.max_connections",
            http_defaults.max_connections as u32,
            1..=1_000_000,
        )? as usize,
    };
    Ok(http_limits)
}

/// `throttle.*`: the log in throttle's buckets.
fn throttle_rules(raw: &RawThrottle) -> Result<gatehouse_server::throttle::Rules, ConfigError> {
    let throttle = {
        let d = gatehouse_server::throttle::Rules::default();
        let number = |v: Option<f64>, key: &str, default: f64| -> Result<f64, ConfigError> {
            match v {
                None => Ok(default),
                Some(n) if n.is_finite() && n > 0.0 && n <= 1e7 => Ok(n),
                Some(n) => Err(ConfigError(format!(
                    "{key} is {n}; use a positive number (env GATEHOUSE_{})",
                    key.to_uppercase().replace('.', "__")
                ))),
            }
        };
        gatehouse_server::throttle::Rules {
            account: gatehouse_server::throttle::Bucket {
                capacity: number(
                    raw.account_burst,
                    "throttle.account_burst",
                    d.account.capacity,
                )?,
                refill_secs: number(
                    raw.account_refill_secs,
                    "throttle.account_refill_secs",
                    d.account.refill_secs,
                )?,
            },
            address: gatehouse_server::throttle::Bucket {
                capacity: number(
                    raw.address_burst,
                    "throttle.address_burst",
                    d.address.capacity,
                )?,
                refill_secs: number(
                    raw.address_refill_secs,
                    "throttle.address_refill_secs",
                    d.address.refill_secs,
                )?,
            },
            ..d
        }
    };
    Ok(throttle)
}

/// `mail.*`: SMTP when a host is set, otherwise the outbox folder.
fn mail_config(raw: RawMail, data_dir: &std::path::Path) -> Result<MailConfig, ConfigError> {
    let from = raw.from.unwrap_or_else(|| "gatehouse@localhost".into());
    let mail = match raw.smtp_host {
        Some(host) => {
            let port = raw.smtp_port.unwrap_or(587);
            let port = u16::try_from(port)
                .map_err(|_| ConfigError(format!("mail.smtp_port {port} is not a port number")))?;
            MailConfig::Smtp(gatehouse_server::mail::SmtpSettings {
                host,
                port,
                security: raw.smtp_security.unwrap_or_else(|| "starttls".into()),
                username: raw.smtp_username,
                password: raw.smtp_password,
                from,
            })
        }
        None => MailConfig::Outbox(raw.outbox.unwrap_or_else(|| data_dir.join("outbox")), from),
    };
    Ok(mail)
}

/// A whole-number setting within `range`, or its default; the error names the key and its
/// environment variable.
fn bounded(
    value: Option<i64>,
    key: &str,
    default: u32,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, ConfigError> {
    let Some(v) = value else { return Ok(default) };
    match u32::try_from(v) {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError(format!(
            "{key} is {v}; use a number from {} to {} (env GATEHOUSE_{})",
            range.start(),
            range.end(),
            key.to_uppercase().replace('.', "__")
        ))),
    }
}

/// An environment value as TOML: numbers and booleans where the key wants them, a JSON-ish
/// inline table for `fixtures.passwords`, a string otherwise.
fn env_value(path: &[String], v: &str) -> toml::Value {
    if path == ["fixtures", "passwords"] {
        if let Ok(t) = format!("x = {v}").parse::<toml::Table>() {
            if let Some(val) = t.get("x") {
                return val.clone();
            }
        }
    }
    if path == ["server", "trusted_proxies"] {
        // A TOML list, or addresses separated by commas.
        if let Ok(t) = format!("x = {v}").parse::<toml::Table>() {
            if let Some(val) = t.get("x").filter(|x| x.is_array()) {
                return val.clone();
            }
        }
        return toml::Value::Array(
            v.split(',')
                .map(|s| toml::Value::String(s.trim().to_owned()))
                .filter(|s| s.as_str() != Some(""))
                .collect(),
        );
    }
    if path == ["server", "secure_cookies"] || path == ["legacy", "invenio_single_hash"] {
        if let Ok(b) = v.trim().parse::<bool>() {
            return toml::Value::Boolean(b);
        }
    }
    let numeric = matches!(
        path.iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["passwords", _]
            | ["throttle", _]
            | ["mail", "smtp_port"]
            | ["server", "header_read_timeout_secs"]
            | ["server", "request_timeout_secs"]
            | ["server", "max_connections_per_address"]
            | ["server", "max_connections"]
            | ["oidc", "access_token_lifetime_secs"]
            | ["oidc", "refresh_token_lifetime_secs"]
            | ["oidc", "key_rotation_delay_secs"]
    );
    if numeric {
        if let Ok(n) = v.trim().parse::<i64>() {
            return toml::Value::Integer(n);
        }
    }
    toml::Value::String(v.to_owned())
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) -> Result<(), String> {
    match path {
        [] => Err("empty key".into()),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set_path(t, rest, value),
                _ => Err(format!("`{first}` is not a section")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn defaults() {
        let c = Config::load(&Overrides::default(), &[]).unwrap();
        assert_eq!(c.data_dir, PathBuf::from("gatehouse-data"));
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.settings.password_policy.min_length, 8);
        assert_eq!(c.settings.admin_email.as_str(), "admin@inveniosoftware.org");
    }

    #[test]
    fn layers_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("g.toml");
        std::fs::write(
            &f,
            "data_dir = \"/from/file\"\n[server]\nlisten = \"0.0.0.0:1\"\n[fixtures.passwords]\n\"Admin@Inveniosoftware.org\" = \"supersecret123\"\n",
        )
        .unwrap();
        let flags = Overrides {
            config: Some(f),
            ..Overrides::default()
        };
        let c = Config::load(
            &flags,
            &env(&[
                ("GATEHOUSE_SERVER__LISTEN", "127.0.0.1:9"),
                ("GATEHOUSE_PASSWORDS__MIN_LENGTH", "10"),
            ]),
        )
        .unwrap();
        assert_eq!(c.data_dir, PathBuf::from("/from/file"));
        assert_eq!(c.listen, "127.0.0.1:9", "env beats file");
        assert_eq!(c.settings.password_policy.min_length, 10);
        assert!(c
            .settings
            .fixture_passwords
            .contains_key("admin@inveniosoftware.org"));
        let flags2 = Overrides {
            data_dir: Some("/flag".into()),
            ..flags
        };
        let c2 = Config::load(&flags2, &[]).unwrap();
        assert_eq!(c2.data_dir, PathBuf::from("/flag"), "flag beats file");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("supersecret123"), "{dbg}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("g.toml");
        std::fs::write(&f, "colour = \"blue\"\n").unwrap();
        let err = Config::load(
            &Overrides {
                config: Some(f),
                ..Overrides::default()
            },
            &[],
        )
        .unwrap_err();
        assert!(err.0.contains("colour"), "{err}");
        let err =
            Config::load(&Overrides::default(), &env(&[("GATEHOUSE_NOPE", "1")])).unwrap_err();
        assert!(
            err.0.contains("GATEHOUSE_NOPE") || err.0.contains("nope"),
            "{err}"
        );
        let err = Config::load(
            &Overrides::default(),
            &env(&[("GATEHOUSE_PASSWORDS__MIN_LENGTH", "0")]),
        )
        .unwrap_err();
        assert!(err.0.contains("passwords.min_length"), "{err}");
        let err = Config::load(
            &Overrides::default(),
            &env(&[("GATEHOUSE_DATABASE_URL", "mysql://u:pw@h/db")]),
        )
        .unwrap_err();
        assert!(
            err.0.contains("mysql://u:***@h/db") && !err.0.contains("pw@"),
            "{err}"
        );
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://h/db"), "postgres://h/db");
    }

    /// `legacy.*` from the environment (issue 12): typed, and the salt never in `Debug`.
    #[test]
    fn legacy_keys_from_the_environment_and_the_salt_redacted() {
        let env = vec![
            (
                "GATEHOUSE_LEGACY__INVENIO_PASSWORD_SALT".to_owned(),
                "instance-salt-xyz".to_owned(),
            ),
            (
                "GATEHOUSE_LEGACY__INVENIO_SINGLE_HASH".to_owned(),
                "true".to_owned(),
            ),
            (
                "GATEHOUSE_PASSWORDS__PBKDF2_MAX_ROUNDS".to_owned(),
                "50000".to_owned(),
            ),
        ];
        let c = Config::load(&Overrides::default(), &env).unwrap();
        assert_eq!(
            c.settings.legacy.invenio_password_salt.as_deref(),
            Some("instance-salt-xyz")
        );
        assert!(c.settings.legacy.invenio_single_hash);
        assert_eq!(
            c.settings.password_policy.hash_limits.pbkdf2_max_rounds,
            50_000
        );
        for dbg in [format!("{c:?}"), format!("{:?}", c.settings)] {
            assert!(!dbg.contains("instance-salt-xyz"), "{dbg}");
            assert!(dbg.contains("<redacted>"), "{dbg}");
        }
        let defaults = Config::load(&Overrides::default(), &[]).unwrap();
        assert_eq!(defaults.settings.legacy.invenio_password_salt, None);
        assert!(!defaults.settings.legacy.invenio_single_hash);
        let err = Config::load(
            &Overrides::default(),
            &[(
                "GATEHOUSE_PASSWORDS__BCRYPT_MAX_COST".to_owned(),
                "40".to_owned(),
            )],
        )
        .unwrap_err();
        assert!(err.0.contains("passwords.bcrypt_max_cost is 40"), "{err}");
    }
}
