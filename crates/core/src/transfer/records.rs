//! The record lines of an export, read into domain values: every field through its domain
//! type (Email, Username, PasswordHash, Entry, ScopeFilter, Privilege, RoleName...), with
//! messages that name the line and the field and never echo a hash.

use chrono::{DateTime, Utc};
use gatehouse_policy::{Effect, Grant, GrantTarget, SystemRole, UserId};

use super::fields::Fields;
use super::TransferCounts;
use crate::account::{Email, PasswordHash, Username};
use crate::error::CoreError;
use crate::store::{CredentialKind, NewCredential};
use crate::user::{Channel, HistoryEvent, StoredRole, User};

/// A grant target from its kind and its value.
fn grant_target(f: &Fields) -> Result<GrantTarget, CoreError> {
    Ok(match f.str("target_kind")? {
        "user" => GrantTarget::User(UserId(f.i64("target")?)),
        "role" => GrantTarget::Role(f.parse("target")?),
        "system_role" => GrantTarget::SystemRole(f.parse::<SystemRole>("target")?),
        other => {
            return Err(f.bad(
                "target_kind",
                format!("`{other}` is not a target kind; expected `user`, `role` or `system_role`"),
            ))
        }
    })
}

/// A credential kind.
fn credential_kind(f: &Fields) -> Result<CredentialKind, CoreError> {
    let s = f.str("kind")?;
    CredentialKind::parse(s).ok_or_else(|| {
        f.bad(
            "kind",
            format!("`{s}` is not a credential kind; expected `session`, `bearer` or `service`"),
        )
    })
}

impl Fields {
    pub(super) fn user(&self) -> Result<User, CoreError> {
        self.only(&[
            "type",
            "id",
            "email",
            "username",
            "full_name",
            "affiliations",
            "active",
            "confirmed_at",
            "password_hash",
            "user_type",
            "roles",
            "editorial_scope",
            "created",
            "updated",
            "version",
        ])?;
        let password_hash = match self.opt_str("password_hash")? {
            // Never echo a hash, not even a broken one.
            // The message names the scheme the value looks like, never the value.
            Some(h) => {
                Some(PasswordHash::parse(h).map_err(|e| self.bad("password_hash", e.to_string()))?)
            }
            None => None,
        };
        Ok(User {
            id: UserId(self.i64("id")?),
            email: self.domain("email", Email::new)?,
            username: match self.opt_str("username")? {
                Some(u) => Some(Username::new(u).map_err(|e| self.bad("username", e))?),
                None => None,
            },
            full_name: self.line("full_name", crate::text::FULL_NAME_MAX)?,
            affiliations: self.line("affiliations", crate::text::AFFILIATIONS_MAX)?,
            active: self.bool("active")?,
            confirmed_at: self.opt_time("confirmed_at")?,
            password_hash,
            user_type: match self.opt_str("user_type")? {
                Some(_) => Some(self.parse("user_type")?),
                None => None,
            },
            entries: self.list("roles")?,
            editorial_scope: self.list("editorial_scope")?,
            created: self.time("created")?,
            updated: self.time("updated")?,
            version: self.i64("version")?,
        })
    }

    pub(super) fn role(&self) -> Result<StoredRole, CoreError> {
        self.only(&["type", "name", "description", "entries"])?;
        Ok(StoredRole {
            name: self.parse("name")?,
            description: self.opt_str("description")?.map(str::to_owned),
            entries: self.list("entries")?,
        })
    }

    pub(super) fn grant(&self) -> Result<Grant, CoreError> {
        self.only(&["type", "effect", "privilege", "target_kind", "target"])?;
        let effect = match self.str("effect")? {
            "allow" => Effect::Allow,
            "deny" => Effect::Deny,
            other => {
                return Err(self.bad(
                    "effect",
                    format!("`{other}` is not an effect; expected `allow` or `deny`"),
                ))
            }
        };
        Ok(Grant {
            effect,
            privilege: self.parse("privilege")?,
            target: grant_target(self)?,
        })
    }

    pub(super) fn credential(&self) -> Result<(NewCredential, DateTime<Utc>), CoreError> {
        self.only(&[
            "type",
            "kind",
            "token_hash",
            "user_id",
            "name",
            "privileges",
            "created",
            "expires",
        ])?;
        let kind = credential_kind(self)?;
        let token_hash = self.str("token_hash")?;
        if token_hash.len() != 64
            || !token_hash
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            // Never echo it.
            return Err(self.bad("token_hash", "must be 64 lower-case hex digits"));
        }
        let user_id = self.opt_i64("user_id")?.map(UserId);
        let name = self.opt_str("name")?.map(str::to_owned);
        match kind {
            CredentialKind::Service if name.is_none() => {
                return Err(self.bad("name", "a service token needs a name"))
            }
            CredentialKind::Session | CredentialKind::Bearer if user_id.is_none() => {
                return Err(self.bad(
                    "user_id",
                    format!("a {} credential needs a user", kind.as_str()),
                ))
            }
            _ => {}
        }
        Ok((
            NewCredential {
                kind,
                token_hash: token_hash.to_owned(),
                user_id,
                name,
                privileges: self.list("privileges")?,
                expires: self.opt_time("expires")?,
            },
            self.time("created")?,
        ))
    }

    pub(super) fn history(&self) -> Result<HistoryEvent, CoreError> {
        self.only(&[
            "type", "id", "at", "actor", "channel", "action", "user_id", "target", "details",
        ])?;
        let channel = self.str("channel")?;
        Ok(HistoryEvent {
            id: self.i64("id")?,
            at: self.time("at")?,
            actor: self.str("actor")?.to_owned(),
            channel: Channel::parse(channel).ok_or_else(|| {
                self.bad(
                    "channel",
                    format!(
                        "`{channel}` is not a channel; expected `cli`, `fixtures`, `api` or `ui`"
                    ),
                )
            })?,
            action: self.str("action")?.to_owned(),
            user_id: self.opt_i64("user_id")?.map(UserId),
            target: self.str("target")?.to_owned(),
            details: self.value("details")?.clone(),
        })
    }

    pub(super) fn counts(&self) -> Result<TransferCounts, CoreError> {
        self.only(&["type", "counts"])?;
        serde_json::from_value::<TransferCounts>(self.value("counts")?.clone()).map_err(|_| {
            self.bad(
                "counts",
                "expected {\"user\":N,\"role\":N,\"grant\":N,\"credential\":N,\"client\":N,\
                 \"signing_key\":N,\"consent\":N,\"history\":N}",
            )
        })
    }
}
