//! Moving a whole database between stores (`gatehouse export` and `gatehouse import`): JSON
//! lines, one record per line, described in `docs/export-format.md`.
//!
//! Export reads in ONE read transaction, so the file is one consistent picture. Import writes
//! in ONE transaction into an empty database: a bad line, a truncated file or wrong counts
//! leave the target exactly as it was. Every value passes through the domain types (Email,
//! Username, PasswordHash, Entry, ScopeFilter, Privilege, RoleName...) on the way in, and
//! messages name the line and the field but never echo a password hash or a token hash.

mod fields;
mod oidc;
mod records;

use std::collections::HashSet;
use std::io::{BufRead, Write};

use chrono::{DateTime, SecondsFormat, Utc};
use gatehouse_policy::{Effect, Grant, GrantTarget, UserId};
use serde::Serialize;
use serde_json::Value;

use crate::error::CoreError;
use crate::service::{Context, Gatehouse};
use crate::store::{Credential, StoreError, Tx, UserQuery};
use crate::user::User;
use fields::Fields;

/// The `format` of the header line.
pub const EXPORT_FORMAT: &str = "gatehouse-export";
/// The version of the format this build writes. It reads this one and version 1 (which
/// had no OpenID Connect records).
pub const EXPORT_VERSION: i64 = 2;

/// Users read per round while exporting.
const USER_PAGE: u64 = 1000;

/// How many records of each kind a file holds (the `end` line) or an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferCounts {
    /// Users.
    pub user: u64,
    /// Run-time roles.
    pub role: u64,
    /// Grants.
    pub grant: u64,
    /// Credentials (sessions, bearer tokens, service tokens).
    pub credential: u64,
    /// OpenID Connect clients (absent from version 1 files).
    #[serde(default)]
    pub client: u64,
    /// Signing keys (absent from version 1 files).
    #[serde(default)]
    pub signing_key: u64,
    /// Remembered consents (absent from version 1 files).
    #[serde(default)]
    pub consent: u64,
    /// History events.
    pub history: u64,
}

impl TransferCounts {
    fn get_mut(&mut self, kind: Kind) -> &mut u64 {
        match kind {
            Kind::User => &mut self.user,
            Kind::Role => &mut self.role,
            Kind::Grant => &mut self.grant,
            Kind::Credential => &mut self.credential,
            Kind::Client => &mut self.client,
            Kind::SigningKey => &mut self.signing_key,
            Kind::Consent => &mut self.consent,
            Kind::History => &mut self.history,
        }
    }

    fn get(&self, kind: Kind) -> u64 {
        match kind {
            Kind::User => self.user,
            Kind::Role => self.role,
            Kind::Grant => self.grant,
            Kind::Credential => self.credential,
            Kind::Client => self.client,
            Kind::SigningKey => self.signing_key,
            Kind::Consent => self.consent,
            Kind::History => self.history,
        }
    }
}

impl std::fmt::Display for TransferCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} users, {} roles, {} grants, {} credentials, {} clients, {} signing keys, \
             {} consents, {} history events",
            self.user,
            self.role,
            self.grant,
            self.credential,
            self.client,
            self.signing_key,
            self.consent,
            self.history
        )
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// `sqlite` or `postgres`.
    pub store: String,
    /// The database's schema version.
    pub schema: i64,
    /// Records written, by kind.
    pub counts: TransferCounts,
}

/// What an import read and wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The store the file was exported from.
    pub source_store: String,
    /// The schema version the file was exported from.
    pub source_schema: i64,
    /// When the file was exported, as written in it.
    pub exported_at: String,
    /// Records written, by kind.
    pub counts: TransferCounts,
    /// Lines read, header and end included.
    pub lines: u64,
}

/// The kinds of record lines, in the order a file holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    User,
    Role,
    Grant,
    Credential,
    Client,
    SigningKey,
    Consent,
    History,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "user" => Kind::User,
            "role" => Kind::Role,
            "grant" => Kind::Grant,
            "credential" => Kind::Credential,
            "client" => Kind::Client,
            "signing_key" => Kind::SigningKey,
            "consent" => Kind::Consent,
            "history" => Kind::History,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Role => "role",
            Kind::Grant => "grant",
            Kind::Credential => "credential",
            Kind::Client => "client",
            Kind::SigningKey => "signing_key",
            Kind::Consent => "consent",
            Kind::History => "history",
        }
    }

    const ALL: [Kind; 8] = [
        Kind::User,
        Kind::Role,
        Kind::Grant,
        Kind::Credential,
        Kind::Client,
        Kind::SigningKey,
        Kind::Consent,
        Kind::History,
    ];
}

/// A time as the file writes it: UTC, always six decimals.
fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[derive(Serialize)]
struct HeaderLine<'a> {
    format: &'a str,
    version: i64,
    schema: i64,
    store: &'a str,
    exported_at: String,
}

#[derive(Serialize)]
struct UserLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: i64,
    email: &'a str,
    username: Option<&'a str>,
    full_name: &'a str,
    affiliations: &'a str,
    active: bool,
    confirmed_at: Option<String>,
    password_hash: Option<&'a str>,
    user_type: Option<&'a str>,
    roles: Vec<String>,
    editorial_scope: Vec<String>,
    created: String,
    updated: String,
    version: i64,
}

impl<'a> UserLine<'a> {
    fn of(u: &'a User) -> Self {
        UserLine {
            kind: "user",
            id: u.id.0,
            email: u.email.as_str(),
            username: u.username.as_ref().map(|n| n.as_str()),
            full_name: &u.full_name,
            affiliations: &u.affiliations,
            active: u.active,
            confirmed_at: u.confirmed_at.as_ref().map(time),
            password_hash: u.password_hash.as_ref().map(|h| h.as_phc()),
            user_type: u.user_type.as_ref().map(|t| t.as_str()),
            roles: u.entries.iter().map(ToString::to_string).collect(),
            editorial_scope: u.editorial_scope.iter().map(ToString::to_string).collect(),
            created: time(&u.created),
            updated: time(&u.updated),
            version: u.version,
        }
    }
}

#[derive(Serialize)]
struct RoleLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
    description: Option<&'a str>,
    entries: Vec<String>,
}

#[derive(Serialize)]
struct GrantLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    effect: &'static str,
    privilege: &'a str,
    target_kind: &'static str,
    target: Value,
}

impl<'a> GrantLine<'a> {
    fn of(g: &'a Grant) -> Self {
        let (target_kind, target) = match &g.target {
            GrantTarget::User(id) => ("user", Value::from(id.0)),
            GrantTarget::Role(r) => ("role", Value::from(r.as_str())),
            GrantTarget::SystemRole(s) => ("system_role", Value::from(s.as_str())),
        };
        GrantLine {
            kind: "grant",
            effect: match g.effect {
                Effect::Allow => "allow",
                Effect::Deny => "deny",
            },
            privilege: g.privilege.as_str(),
            target_kind,
            target,
        }
    }
}

#[derive(Serialize)]
struct CredentialLine<'a> {
    #[serde(rename = "type")]
    record: &'static str,
    kind: &'static str,
    token_hash: &'a str,
    user_id: Option<i64>,
    name: Option<&'a str>,
    privileges: Vec<String>,
    created: String,
    expires: Option<String>,
}

impl<'a> CredentialLine<'a> {
    fn of(c: &'a Credential, token_hash: &'a str) -> Self {
        CredentialLine {
            record: "credential",
            kind: c.kind.as_str(),
            token_hash,
            user_id: c.user_id.map(|u| u.0),
            name: c.name.as_deref(),
            privileges: c.privileges.iter().map(ToString::to_string).collect(),
            created: time(&c.created),
            expires: c.expires.as_ref().map(time),
        }
    }
}

#[derive(Serialize)]
struct HistoryLine<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: i64,
    at: String,
    actor: &'a str,
    channel: &'static str,
    action: &'a str,
    user_id: Option<i64>,
    target: &'a str,
    details: &'a Value,
}

#[derive(Serialize)]
struct EndLine {
    #[serde(rename = "type")]
    kind: &'static str,
    counts: TransferCounts,
}

/// Writes one record as a line.
fn write_line<T: Serialize>(out: &mut dyn Write, record: &T) -> Result<(), CoreError> {
    let text = serde_json::to_string(record)
        .map_err(|e| CoreError::Internal(format!("cannot encode a record: {e}")))?;
    writeln!(out, "{text}").map_err(write_failed)
}

fn write_failed(e: std::io::Error) -> CoreError {
    CoreError::Internal(format!("cannot write the export: {e}"))
}

/// `line N: message`, an input error (exit 2).
fn at_line(line: u64, message: impl std::fmt::Display) -> CoreError {
    CoreError::invalid("import", format!("line {line}: {message}"))
}

/// A store error while writing line `line`: conflicts and failures name the line.
fn store_at_line(line: u64, e: StoreError) -> CoreError {
    match e {
        e @ StoreError::Conflict { .. } => at_line(line, e),
        other => match CoreError::from(other) {
            CoreError::Internal(m) => CoreError::Internal(format!("line {line}: {m}")),
            e => e,
        },
    }
}

impl Gatehouse {
    /// Writes the whole database to `out` as JSON lines (`docs/export-format.md`), read in one
    /// transaction. Needs `config/edit`.
    pub async fn export(
        &self,
        ctx: &Context,
        out: &mut (dyn Write + Send),
    ) -> Result<ExportReport, CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        let schema = tx.schema_version().await?;
        let store = self.store.kind();
        write_line(
            out,
            &HeaderLine {
                format: EXPORT_FORMAT,
                version: EXPORT_VERSION,
                schema,
                store,
                exported_at: time(&Utc::now()),
            },
        )?;
        let mut counts = TransferCounts::default();
        let mut offset = 0;
        loop {
            let page = tx
                .list_users(&UserQuery {
                    offset,
                    limit: USER_PAGE,
                    ..UserQuery::default()
                })
                .await?;
            for u in &page.items {
                write_line(out, &UserLine::of(u))?;
            }
            let n = page.items.len() as u64;
            counts.user += n;
            offset += n;
            if n < USER_PAGE {
                break;
            }
        }
        for r in tx.roles().await? {
            write_line(
                out,
                &RoleLine {
                    kind: "role",
                    name: r.name.as_str(),
                    description: r.description.as_deref(),
                    entries: r.entries.iter().map(ToString::to_string).collect(),
                },
            )?;
            counts.role += 1;
        }
        for g in tx.grants(&Default::default()).await? {
            write_line(out, &GrantLine::of(&g))?;
            counts.grant += 1;
        }
        for (c, hash) in tx.export_credentials().await? {
            write_line(out, &CredentialLine::of(&c, &hash))?;
            counts.credential += 1;
        }
        oidc::export(tx.as_mut(), out, &mut counts).await?;
        for e in tx.history(&Default::default()).await? {
            write_line(
                out,
                &HistoryLine {
                    kind: "history",
                    id: e.id,
                    at: time(&e.at),
                    actor: &e.actor,
                    channel: e.channel.as_str(),
                    action: &e.action,
                    user_id: e.user_id.map(|u| u.0),
                    target: &e.target,
                    details: &e.details,
                },
            )?;
            counts.history += 1;
        }
        write_line(
            out,
            &EndLine {
                kind: "end",
                counts,
            },
        )?;
        out.flush().map_err(write_failed)?;
        Ok(ExportReport {
            store: store.to_owned(),
            schema,
            counts,
        })
    }

    /// Reads an export into this database, which must be empty, in ONE transaction: any bad
    /// line, a missing `end` line or wrong counts write nothing. Needs `config/edit`.
    /// `progress` is told how many bytes have been read.
    pub async fn import(
        &self,
        ctx: &Context,
        input: &mut (dyn BufRead + Send),
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ImportReport, CoreError> {
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        if !tx.is_empty().await? {
            return Err(CoreError::Conflict(
                "the target database is not empty; import needs an empty database \
                 (a fresh data directory, or a freshly migrated PostgreSQL database)"
                    .to_owned(),
            ));
        }
        let known_schema = tx.schema_version().await?;
        let mut reader = Lines::new(input);
        let Some(first) = reader.read()? else {
            return Err(CoreError::invalid(
                "import",
                "the file is empty; expected a gatehouse export (see docs/export-format.md)",
            ));
        };
        let header = read_header(&first, known_schema)?;
        let mut state = ImportState {
            limits: self.settings.password_policy.hash_limits,
            legacy: self.settings.legacy.clone(),
            ..ImportState::default()
        };
        let mut end = None;
        while let Some(line) = reader.read()? {
            progress(reader.bytes);
            if end.is_some() {
                return Err(at_line(
                    reader.number,
                    "there is more after the `end` line; the file is damaged",
                ));
            }
            let fields = Fields::read(reader.number, &line)?;
            let kind = fields.str("type")?.to_owned();
            if kind == "end" {
                end = Some((reader.number, fields.with_kind("end").counts()?));
                continue;
            }
            let Some(kind) = Kind::parse(&kind) else {
                return Err(at_line(
                    reader.number,
                    format!(
                        "unknown record type `{kind}`; expected `user`, `role`, `grant`, \
                         `credential`, `client`, `signing_key`, `consent`, `history` or `end`"
                    ),
                ));
            };
            state
                .apply(tx.as_mut(), kind, &fields.with_kind(kind.as_str()))
                .await?;
        }
        let Some((end_line, declared)) = end else {
            return Err(CoreError::invalid(
                "import",
                format!(
                    "the file ends after line {} without its `end` line: it is truncated; \
                     export again",
                    reader.number
                ),
            ));
        };
        for kind in Kind::ALL {
            let (want, got) = (declared.get(kind), state.counts.get(kind));
            if want != got {
                return Err(at_line(
                    end_line,
                    format!(
                        "the `end` line counts {want} `{}` records but the file holds {got}; \
                         the file is damaged",
                        kind.as_str()
                    ),
                ));
            }
        }
        tx.commit().await?;
        Ok(ImportReport {
            source_store: header.store,
            source_schema: header.schema,
            exported_at: header.exported_at,
            counts: state.counts,
            lines: reader.number,
        })
    }
}

/// Lines of the input with their 1-based numbers and the bytes read so far.
struct Lines<'a> {
    input: &'a mut (dyn BufRead + Send),
    number: u64,
    bytes: u64,
}

impl<'a> Lines<'a> {
    fn new(input: &'a mut (dyn BufRead + Send)) -> Self {
        Lines {
            input,
            number: 0,
            bytes: 0,
        }
    }

    fn read(&mut self) -> Result<Option<String>, CoreError> {
        let mut line = String::new();
        let n = self.input.read_line(&mut line).map_err(|e| {
            let number = self.number + 1;
            if e.kind() == std::io::ErrorKind::InvalidData {
                at_line(number, "the line is not UTF-8 text")
            } else {
                CoreError::Internal(format!("cannot read line {number}: {e}"))
            }
        })?;
        if n == 0 {
            return Ok(None);
        }
        self.number += 1;
        self.bytes += n as u64;
        Ok(Some(line))
    }
}

/// The header, checked.
struct Header {
    store: String,
    schema: i64,
    exported_at: String,
}

fn read_header(line: &str, known_schema: i64) -> Result<Header, CoreError> {
    let not_export = || {
        at_line(
            1,
            "this is not a gatehouse export: the first line must be the header \
             `{\"format\":\"gatehouse-export\",\"version\":1,...}`",
        )
    };
    let fields = Fields::read(1, line).map_err(|_| not_export())?;
    if fields.opt_str("format").ok().flatten() != Some(EXPORT_FORMAT) {
        return Err(not_export());
    }
    let fields = fields.with_kind("header");
    fields.only(&["format", "version", "schema", "store", "exported_at"])?;
    let version = fields.i64("version")?;
    if !(1..=EXPORT_VERSION).contains(&version) {
        return Err(at_line(
            1,
            format!(
                "export format version {version} is not supported (this gatehouse reads \
                 versions 1 to {EXPORT_VERSION}); import with the gatehouse that exported it"
            ),
        ));
    }
    let schema = fields.i64("schema")?;
    if schema > known_schema {
        return Err(at_line(
            1,
            format!(
                "the file comes from database schema version {schema}, newer than this \
                 gatehouse knows ({known_schema}); upgrade gatehouse"
            ),
        ));
    }
    let store = fields.str("store")?.to_owned();
    let exported_at = fields.str("exported_at")?.to_owned();
    fields.time("exported_at")?;
    Ok(Header {
        store,
        schema,
        exported_at,
    })
}

/// What the import has written so far.
#[derive(Default)]
struct ImportState {
    counts: TransferCounts,
    last: Option<Kind>,
    user_ids: HashSet<i64>,
    history_ids: HashSet<i64>,
    client_ids: HashSet<String>,
    key_ids: HashSet<String>,
    /// Bounds on imported password hashes.
    limits: crate::hash::HashLimits,
    /// What verifying imported legacy hashes needs.
    legacy: crate::legacy::LegacySettings,
}

impl ImportState {
    async fn apply(&mut self, tx: &mut dyn Tx, kind: Kind, f: &Fields) -> Result<(), CoreError> {
        let line = f.line;
        if let Some(last) = self.last.filter(|l| *l > kind) {
            return Err(at_line(
                line,
                format!(
                    "a `{}` record after `{}` records; records come in the order user, role, \
                     grant, credential, client, signing_key, consent, history",
                    kind.as_str(),
                    last.as_str()
                ),
            ));
        }
        self.last = Some(kind);
        match kind {
            Kind::User => {
                let user = f.user()?;
                if let Some(h) = &user.password_hash {
                    h.check_import(&self.limits, &self.legacy)
                        .map_err(|e| at_line(line, format!("user {}: {e}", user.id)))?;
                }
                if let Some(other) = tx
                    .user_by_skeleton(&crate::text::email_skeleton(user.email.as_str()))
                    .await?
                {
                    if other.email != user.email {
                        return Err(at_line(
                            line,
                            format!(
                                "user {}: email `{}` looks like the account `{}` (their \
                                 letters are confusable)",
                                user.id,
                                crate::text::shorten(user.email.as_str()),
                                crate::text::shorten(other.email.as_str())
                            ),
                        ));
                    }
                }
                if !self.user_ids.insert(user.id.0) {
                    return Err(at_line(line, format!("user id {} appears twice", user.id)));
                }
                tx.import_user(&user)
                    .await
                    .map_err(|e| store_at_line(line, e))?;
            }
            Kind::Role => {
                let role = f.role()?;
                let added = tx
                    .insert_role(&role)
                    .await
                    .map_err(|e| store_at_line(line, e))?;
                if !added {
                    return Err(at_line(line, format!("role `{}` appears twice", role.name)));
                }
            }
            Kind::Grant => {
                let grant = f.grant()?;
                if let GrantTarget::User(id) = grant.target {
                    self.known_user(line, id)?;
                }
                let added = tx
                    .import_grant(&grant)
                    .await
                    .map_err(|e| store_at_line(line, e))?;
                if !added {
                    return Err(at_line(line, "the same grant appears twice"));
                }
            }
            Kind::Credential => {
                let (credential, created) = f.credential()?;
                if let Some(id) = credential.user_id {
                    self.known_user(line, id)?;
                }
                tx.import_credential(&credential, created)
                    .await
                    .map_err(|e| store_at_line(line, e))?;
            }
            Kind::Client => {
                let client = f.client()?;
                if !self.client_ids.insert(client.id.to_string()) {
                    return Err(at_line(
                        line,
                        format!("client `{}` appears twice", client.id),
                    ));
                }
                tx.insert_oidc_client(&client)
                    .await
                    .map_err(|e| store_at_line(line, e))?;
            }
            Kind::SigningKey => {
                let key = f.signing_key()?;
                if !self.key_ids.insert(key.kid.clone()) {
                    return Err(at_line(
                        line,
                        format!("signing key `{}` appears twice", key.kid),
                    ));
                }
                tx.insert_signing_key(&key)
                    .await
                    .map_err(|e| store_at_line(line, e))?;
            }
            Kind::Consent => {
                let consent = f.consent()?;
                self.known_user(line, consent.user_id)?;
                if !self.client_ids.contains(consent.client_id.as_str()) {
                    return Err(at_line(
                        line,
                        format!(
                            "client `{}` is not among the file's clients",
                            consent.client_id
                        ),
                    ));
                }
                tx.save_oidc_consent(&consent)
                    .await
                    .map_err(|e| store_at_line(line, e))?;
            }
            Kind::History => {
                let event = f.history()?;
                if !self.history_ids.insert(event.id) {
                    return Err(at_line(
                        line,
                        format!("history id {} appears twice", event.id),
                    ));
                }
                tx.import_history(&event)
                    .await
                    .map_err(|e| store_at_line(line, e))?;
            }
        }
        *self.counts.get_mut(kind) += 1;
        Ok(())
    }

    fn known_user(&self, line: u64, id: UserId) -> Result<(), CoreError> {
        if self.user_ids.contains(&id.0) {
            Ok(())
        } else {
            Err(at_line(
                line,
                format!("user id {id} is not among the file's users"),
            ))
        }
    }
}

#[cfg(test)]
mod tests;
