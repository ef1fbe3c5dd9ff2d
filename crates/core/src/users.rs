//! User operations: create, activate, deactivate, confirm, passwords, type, own entries,
//! editorial scope, list and search, delete. Each runs in one transaction and is authorized
//! with the privileges of SPEC 6.

use chrono::Utc;
use gatehouse_policy::{Entry, ScopeFilter, TypeName};
use serde_json::json;

use crate::account::{Email, Password, PasswordHash, Username};
use crate::bulk::BulkAction;
use crate::error::CoreError;
use crate::service::{hash_password, Changed, Context, Gatehouse, UserRef};
use crate::store::{Page, Tx, UserQuery, UserSort};
use crate::text;
use crate::user::{NewUser, User};

/// Where a new user's password comes from.
#[derive(Debug, Clone)]
pub enum PasswordSource {
    /// A clear-text password (already checked against the length rule).
    Clear(Password),
    /// A ready Argon2 hash.
    Hash(PasswordHash),
    /// No password (the user cannot log in until one is set).
    None,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct CreateUser {
    /// Email as given.
    pub email: Email,
    /// Username.
    pub username: Option<Username>,
    /// Full name.
    pub full_name: String,
    /// Affiliations.
    pub affiliations: String,
    /// Password.
    pub password: PasswordSource,
    /// Active.
    pub active: bool,
    /// Confirmed now.
    pub confirm: bool,
    /// User type; the configured default when `None`.
    pub user_type: Option<TypeName>,
    /// Own entries.
    pub entries: Vec<Entry>,
}

impl Gatehouse {
    /// Checks that every role an entry names exists (built in, file or run time).
    pub(crate) async fn check_entries(
        &self,
        tx: &mut dyn Tx,
        entries: &[Entry],
    ) -> Result<(), CoreError> {
        let policy = self.policy(tx).await?;
        for e in entries {
            if let Entry::Role(r) = e {
                if !policy.has_role(r) {
                    let problem = self
                        .config()
                        .role_problem(r.as_str())
                        .unwrap_or_else(|| format!("role `{r}` is not defined"));
                    return Err(CoreError::invalid("role", problem));
                }
            }
        }
        Ok(())
    }

    /// Checks that a user type exists.
    pub(crate) fn check_type(&self, ty: &TypeName) -> Result<(), CoreError> {
        if self.config().types().contains_key(ty) {
            Ok(())
        } else {
            let known: Vec<String> = self
                .config()
                .types()
                .keys()
                .map(ToString::to_string)
                .collect();
            Err(CoreError::invalid(
                "type",
                format!(
                    "user type `{ty}` is not defined; use one of {} or define it under \
                     `user_roles:` in user_roles.yaml",
                    known.join(", ")
                ),
            ))
        }
    }

    /// Creates a user (`users create`).
    pub async fn create_user(&self, ctx: &Context, req: CreateUser) -> Result<User, CoreError> {
        text::check_line("full_name", &req.full_name, text::FULL_NAME_MAX)?;
        text::check_line("affiliations", &req.affiliations, text::AFFILIATIONS_MAX)?;
        // Refuse an actor who may not create users before any Argon2 work (a password hash
        // costs ~25 ms and 19 MiB); the binding decision is the one in the writing
        // transaction below.
        if matches!(req.password, PasswordSource::Clear(_)) {
            let mut tx = self.begin_read().await?;
            self.authorize(tx.as_mut(), ctx, "create_user", None)
                .await?;
        }
        let hash = match req.password.clone() {
            PasswordSource::Clear(p) => Some(hash_password(p).await?),
            PasswordSource::Hash(h) => {
                // A hash from outside: bounded, and verifiable with `legacy.*`.
                h.check_import(
                    &self.settings.password_policy.hash_limits,
                    &self.settings.legacy,
                )?;
                Some(h)
            }
            PasswordSource::None => None,
        };
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "create_user", None)
            .await?;
        let user_type = req
            .user_type
            .clone()
            .unwrap_or_else(|| self.settings.default_type.clone());
        self.check_type(&user_type)?;
        self.check_entries(tx.as_mut(), &req.entries).await?;
        self.refuse_look_alike(tx.as_mut(), &req.email, req.username.as_ref())
            .await?;
        if tx.user_by_email(&req.email).await?.is_some() {
            return Err(CoreError::Conflict(format!(
                "email `{}` is already taken; see it with `gatehouse users show {}`",
                req.email, req.email
            )));
        }
        let user = tx
            .insert_user(&NewUser {
                email: req.email.clone(),
                username: req.username.clone(),
                full_name: req.full_name.clone(),
                affiliations: req.affiliations.clone(),
                active: req.active,
                confirmed_at: req.confirm.then(Utc::now),
                password_hash: hash,
                user_type: Some(user_type),
                entries: req.entries.clone(),
                editorial_scope: Vec::new(),
            })
            .await?;
        self.record(
            tx.as_mut(),
            ctx,
            "user.create",
            Some(user.id),
            user.email.as_str(),
            json!({
                "email": user.email.as_str(),
                "username": user.username.as_ref().map(ToString::to_string),
                "active": user.active,
                "confirmed": user.confirmed(),
                "type": user.user_type.as_ref().map(ToString::to_string),
                "roles": user.entries.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "password_set": user.password_hash.is_some(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Loads the user, authorizes `privilege` on their record, applies `change`; records and
    /// commits if something changed.
    async fn change_user<F>(
        &self,
        ctx: &Context,
        who: &UserRef,
        privilege: &str,
        action: &str,
        change: F,
    ) -> Result<(User, Changed), CoreError>
    where
        F: FnOnce(&mut User) -> Result<Option<serde_json::Value>, CoreError> + Send,
    {
        self.change_user_checked(ctx, who, privilege, action, &[], change)
            .await
    }

    /// `change_user`, also checking (in the same transaction, after authorization) that
    /// every role named by `entries` exists.
    async fn change_user_checked<F>(
        &self,
        ctx: &Context,
        who: &UserRef,
        privilege: &str,
        action: &str,
        entries: &[Entry],
        change: F,
    ) -> Result<(User, Changed), CoreError>
    where
        F: FnOnce(&mut User) -> Result<Option<serde_json::Value>, CoreError> + Send,
    {
        let mut tx = self.begin().await?;
        let mut user = self.find_user(tx.as_mut(), who).await?;
        self.authorize_on_user(tx.as_mut(), ctx, privilege, &user)
            .await?;
        self.check_entries(tx.as_mut(), entries).await?;
        let was_superuser =
            Self::guarded(ctx) && self.user_is_superuser(tx.as_mut(), &user).await?;
        let Some(details) = change(&mut user)? else {
            return Ok((user, Changed::No));
        };
        let user = tx.update_user(&user).await?;
        if was_superuser {
            // Deactivating or demoting the last superuser is refused (issue 11).
            self.keep_a_superuser(
                tx.as_mut(),
                Some(&user),
                &format!("changing {}", user.label()),
            )
            .await?;
        }
        if !user.active {
            // Deactivation ends every session and bearer token at once, for good, and every
            // OpenID Connect token issued to the account.
            tx.delete_user_credentials(user.id, None).await?;
            tx.revoke_user_oauth_tokens(user.id).await?;
        }
        self.record(
            tx.as_mut(),
            ctx,
            action,
            Some(user.id),
            user.email.as_str(),
            details,
        )
        .await?;
        tx.commit().await?;
        Ok((user, Changed::Yes))
    }

    /// Activates a user; an unconfirmed user is confirmed too (InvenioRDM `activate_user`).
    pub async fn activate(
        &self,
        ctx: &Context,
        who: &UserRef,
    ) -> Result<(User, Changed), CoreError> {
        self.change_user(ctx, who, "user/staff/edit", "user.activate", |u| {
            Ok(BulkAction::Activate.apply(u))
        })
        .await
    }

    /// Deactivates a user: from the next check on they hold only public privileges.
    pub async fn deactivate(
        &self,
        ctx: &Context,
        who: &UserRef,
    ) -> Result<(User, Changed), CoreError> {
        self.change_user(ctx, who, "user/staff/edit", "user.deactivate", |u| {
            Ok(BulkAction::Deactivate.apply(u))
        })
        .await
    }

    /// Confirms a user's email.
    pub async fn confirm(
        &self,
        ctx: &Context,
        who: &UserRef,
    ) -> Result<(User, Changed), CoreError> {
        self.change_user(ctx, who, "user/staff/edit", "user.confirm", |u| {
            Ok(BulkAction::Confirm.apply(u))
        })
        .await
    }

    /// Sets a user's password. Users may change their own with `set-password`; changing
    /// another user's needs `user/staff/edit`.
    pub async fn set_password(
        &self,
        ctx: &Context,
        who: &UserRef,
        password: Password,
        current: Option<&str>,
    ) -> Result<User, CoreError> {
        // Decide, and check the current password of one's own account, before hashing the
        // new one (Argon2 work is only done for a change that will happen).
        let (user, own) = {
            let mut tx = self.begin_read().await?;
            let user = self.find_user(tx.as_mut(), who).await?;
            let own = ctx.actor == crate::service::Actor::User(user.id);
            let privilege = if own {
                "set-password"
            } else {
                "user/staff/edit"
            };
            self.authorize_on_user(tx.as_mut(), ctx, privilege, &user)
                .await?;
            (user, own)
        };
        if own {
            // Changing one's own password needs the current one (a stolen session alone
            // must not be enough to take the account); an admin setting someone else's
            // does not.
            let Some(current) = current else {
                return Err(CoreError::invalid(
                    "current_password",
                    "give your current password to change it".to_owned(),
                ));
            };
            if !self.password_matches(&user, current).await? {
                return Err(CoreError::invalid(
                    "current_password",
                    "the current password is not right".to_owned(),
                ));
            }
        }
        let hash = hash_password(password).await?;
        let mut tx = self.begin().await?;
        let mut user = self.find_user(tx.as_mut(), who).await?;
        let privilege = if own {
            "set-password"
        } else {
            "user/staff/edit"
        };
        self.authorize_on_user(tx.as_mut(), ctx, privilege, &user)
            .await?;
        user.password_hash = Some(hash);
        let user = tx.update_user(&user).await?;
        // Every other session and token of the user ends (SPEC 7.9); the one making the
        // change stays when users change their own password.
        let keep = if own { ctx.credential } else { None };
        tx.delete_user_credentials(user.id, keep).await?;
        // And every OpenID Connect token: a client logged in with the old password.
        tx.revoke_user_oauth_tokens(user.id).await?;
        self.record(
            tx.as_mut(),
            ctx,
            "user.set_password",
            Some(user.id),
            user.email.as_str(),
            json!({"password": "changed"}),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Sets a user's type.
    pub async fn set_type(
        &self,
        ctx: &Context,
        who: &UserRef,
        ty: TypeName,
    ) -> Result<(User, Changed), CoreError> {
        self.check_type(&ty)?;
        self.change_user(ctx, who, "user/staff/edit", "user.set_type", move |u| {
            if u.user_type.as_ref() == Some(&ty) {
                return Ok(None);
            }
            let before = u.user_type.replace(ty.clone());
            Ok(Some(json!({
                "before": before.map(|t| t.to_string()),
                "after": ty.to_string(),
            })))
        })
        .await
    }

    /// Replaces a user's editorial scope (empty clears it).
    pub async fn set_scope(
        &self,
        ctx: &Context,
        who: &UserRef,
        scope: Vec<ScopeFilter>,
    ) -> Result<(User, Changed), CoreError> {
        self.change_user(ctx, who, "user/staff/edit", "user.set_scope", move |u| {
            if u.editorial_scope == scope {
                return Ok(None);
            }
            let before: Vec<String> = u.editorial_scope.iter().map(ToString::to_string).collect();
            u.editorial_scope = scope;
            Ok(Some(json!({
                "before": before,
                "after": u.editorial_scope.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })))
        })
        .await
    }

    /// Replaces a user's own ordered entries (`users set-roles`).
    pub async fn set_entries(
        &self,
        ctx: &Context,
        who: &UserRef,
        entries: Vec<Entry>,
    ) -> Result<(User, Changed), CoreError> {
        let check = entries.clone();
        self.change_user_checked(
            ctx,
            who,
            "user/staff/edit",
            "user.set_roles",
            &check,
            move |u| {
                if u.entries == entries {
                    return Ok(None);
                }
                let before: Vec<String> = u.entries.iter().map(ToString::to_string).collect();
                u.entries = entries;
                Ok(Some(json!({
                    "before": before,
                    "after": u.entries.iter().map(ToString::to_string).collect::<Vec<_>>(),
                })))
            },
        )
        .await
    }

    /// Appends an entry to a user's own list unless it is there already (`roles add`).
    pub async fn add_entry(
        &self,
        ctx: &Context,
        who: &UserRef,
        entry: Entry,
    ) -> Result<(User, Changed), CoreError> {
        let check = [entry.clone()];
        self.change_user_checked(
            ctx,
            who,
            "user/staff/edit",
            "user.add_role",
            &check,
            move |u| Ok(BulkAction::AddEntry(entry).apply(u)),
        )
        .await
    }

    /// Removes an entry from a user's own list (`roles remove`); absent is not an error.
    pub async fn remove_entry(
        &self,
        ctx: &Context,
        who: &UserRef,
        entry: Entry,
    ) -> Result<(User, Changed), CoreError> {
        self.change_user(ctx, who, "user/staff/edit", "user.remove_role", move |u| {
            Ok(BulkAction::RemoveEntry(entry).apply(u))
        })
        .await
    }

    /// Updates name and affiliations.
    pub async fn set_profile(
        &self,
        ctx: &Context,
        who: &UserRef,
        full_name: Option<String>,
        affiliations: Option<String>,
    ) -> Result<(User, Changed), CoreError> {
        if let Some(n) = &full_name {
            text::check_line("full_name", n, text::FULL_NAME_MAX)?;
        }
        if let Some(a) = &affiliations {
            text::check_line("affiliations", a, text::AFFILIATIONS_MAX)?;
        }
        // `user/edit` on the user's record: staff hold it plain, the user as `user/edit:owner`.
        self.change_user(ctx, who, "user/edit", "user.set_profile", move |u| {
            let mut changes = serde_json::Map::new();
            if let Some(n) = full_name.filter(|n| *n != u.full_name) {
                changes.insert("full_name".into(), json!(n));
                u.full_name = n;
            }
            if let Some(a) = affiliations.filter(|a| *a != u.affiliations) {
                changes.insert("affiliations".into(), json!(a));
                u.affiliations = a;
            }
            Ok((!changes.is_empty()).then_some(serde_json::Value::Object(changes)))
        })
        .await
    }

    /// One user.
    pub async fn show_user(&self, ctx: &Context, who: &UserRef) -> Result<User, CoreError> {
        let mut tx = self.begin_read().await?;
        let user = self.find_user(tx.as_mut(), who).await?;
        // Staff hold `user/view`; the user themselves `user/view:owner` (bit 4); the
        // administration panel's readers `administration-access`.
        self.authorize_read_on_user(tx.as_mut(), ctx, "user/view", &user)
            .await?;
        Ok(user)
    }

    /// Lists or searches users, by id.
    pub async fn list_users(
        &self,
        ctx: &Context,
        query: &UserQuery,
    ) -> Result<Page<User>, CoreError> {
        self.list_users_sorted(ctx, query, UserSort::default())
            .await
    }

    /// Lists or searches users in `sort` order (ties by id; users missing the field last).
    pub async fn list_users_sorted(
        &self,
        ctx: &Context,
        query: &UserQuery,
        sort: UserSort,
    ) -> Result<Page<User>, CoreError> {
        if let Some(t) = &query.text {
            text::check_search(t)?;
        }
        let mut tx = self.begin_read().await?;
        let privilege = if query.text.is_some() {
            "staff/user_search"
        } else {
            "user/view"
        };
        self.authorize_read(tx.as_mut(), ctx, privilege, None)
            .await?;
        Ok(tx.list_users_sorted(query, sort).await?)
    }

    /// How many accounts hold a password hash of each scheme (accounts moved from another
    /// platform keep its hash until their first log in), Gatehouse's own first.
    pub async fn password_schemes(
        &self,
        ctx: &Context,
    ) -> Result<Vec<(crate::legacy::Scheme, u64)>, CoreError> {
        let mut tx = self.begin_read().await?;
        self.authorize_read(tx.as_mut(), ctx, "user/view", None)
            .await?;
        let mut counts = Vec::new();
        for (name, n) in tx.password_schemes().await? {
            let scheme = name.parse().map_err(|_| {
                CoreError::Internal(format!(
                    "the database holds an unknown password scheme `{name}`"
                ))
            })?;
            counts.push((scheme, n));
        }
        counts.sort();
        Ok(counts)
    }

    /// Deletes a user with their grants.
    pub async fn delete_user(&self, ctx: &Context, who: &UserRef) -> Result<User, CoreError> {
        let mut tx = self.begin().await?;
        let user = self.find_user(tx.as_mut(), who).await?;
        self.authorize_on_user(tx.as_mut(), ctx, "user/destroy", &user)
            .await?;
        // Deleting the last superuser is refused (issue 11): count the others.
        if Self::guarded(ctx)
            && self.user_is_superuser(tx.as_mut(), &user).await?
            && self
                .superusers_except(tx.as_mut(), Some(user.id), 1)
                .await?
                .is_empty()
        {
            return Err(CoreError::invalid(
                "superuser",
                format!(
                    "deleting {} would leave no active account holding `superuser-access`; \
                     give it to another account first (`gatehouse access allow \
                     superuser-access user EMAIL`)",
                    user.label()
                ),
            ));
        }
        tx.delete_user(user.id).await?;
        self.record(
            tx.as_mut(),
            ctx,
            "user.delete",
            Some(user.id),
            user.email.as_str(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Rebuilds the user search index.
    pub async fn reindex_users(&self, ctx: &Context) -> Result<u64, CoreError> {
        let mut tx = self.begin().await?;
        self.authorize(tx.as_mut(), ctx, "config/edit", None)
            .await?;
        let n = tx.reindex_users().await?;
        tx.commit().await?;
        Ok(n)
    }
}
