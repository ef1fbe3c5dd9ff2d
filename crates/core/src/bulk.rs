//! One action on many users at once (the admin panel's "select several and act"):
//! activate, deactivate, confirm, add or remove an entry of the users' own lists. All in one
//! transaction, all or nothing; every user authorized through the same choke point as the
//! single operation, and changed by the very same rule (`BulkAction::apply`, which the
//! single operations in `users.rs` call too); one history event per user changed, as the
//! single operation records it.

use gatehouse_policy::{Entry, UserId};
use serde_json::json;

use crate::error::CoreError;
use crate::service::{Changed, Context, Gatehouse, UserRef};
use crate::user::User;

/// The most users one bulk call takes: a page of the admin panel's largest size, and a
/// transaction that stays short.
pub const BULK_MAX_USERS: usize = 500;

/// What a bulk call does to each user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    /// Activate (an unconfirmed user is confirmed too), as [`Gatehouse::activate`].
    Activate,
    /// Deactivate, ending the user's sessions and tokens, as [`Gatehouse::deactivate`].
    Deactivate,
    /// Confirm the email, as [`Gatehouse::confirm`].
    Confirm,
    /// Append a role name, `+privilege` or `-privilege` to the user's own list unless it is
    /// there, as [`Gatehouse::add_entry`].
    AddEntry(Entry),
    /// Remove an entry from the user's own list, as [`Gatehouse::remove_entry`].
    RemoveEntry(Entry),
}

impl BulkAction {
    /// The action's name: `activate`, `deactivate`, `confirm`, `add-entry`, `remove-entry`.
    pub fn name(&self) -> &'static str {
        match self {
            BulkAction::Activate => "activate",
            BulkAction::Deactivate => "deactivate",
            BulkAction::Confirm => "confirm",
            BulkAction::AddEntry(_) => "add-entry",
            BulkAction::RemoveEntry(_) => "remove-entry",
        }
    }

    /// The action named `name` (as [`BulkAction::name`] prints it), with `entry` for the
    /// two entry actions (and only for them).
    pub fn parse(name: &str, entry: Option<Entry>) -> Result<Self, CoreError> {
        let action = match (name, entry) {
            ("activate", None) => BulkAction::Activate,
            ("deactivate", None) => BulkAction::Deactivate,
            ("confirm", None) => BulkAction::Confirm,
            ("add-entry", Some(e)) => BulkAction::AddEntry(e),
            ("remove-entry", Some(e)) => BulkAction::RemoveEntry(e),
            ("add-entry" | "remove-entry", None) => {
                return Err(CoreError::invalid(
                    "entry",
                    format!(
                        "`{name}` needs the entry to add or remove: a role name, `+privilege` \
                         or `-privilege`"
                    ),
                ))
            }
            ("activate" | "deactivate" | "confirm", Some(e)) => {
                return Err(CoreError::invalid(
                    "entry",
                    format!("`{name}` takes no entry, but `{e}` was given; leave it out"),
                ))
            }
            _ => {
                return Err(CoreError::invalid(
                    "action",
                    format!(
                        "unknown bulk action `{}`; use activate, deactivate, confirm, \
                         add-entry or remove-entry",
                        crate::error::shorten(name)
                    ),
                ))
            }
        };
        Ok(action)
    }

    /// The history action each changed user gets: the single operation's.
    pub(crate) fn history_action(&self) -> &'static str {
        match self {
            BulkAction::Activate => "user.activate",
            BulkAction::Deactivate => "user.deactivate",
            BulkAction::Confirm => "user.confirm",
            BulkAction::AddEntry(_) => "user.add_role",
            BulkAction::RemoveEntry(_) => "user.remove_role",
        }
    }

    /// THE rule of the action on one user, shared with the single operation: changes `u`
    /// and returns the history details, or `None` when it was already so.
    pub(crate) fn apply(&self, u: &mut User) -> Option<serde_json::Value> {
        match self {
            BulkAction::Activate => {
                if u.active && u.confirmed_at.is_some() {
                    return None;
                }
                let confirmed_now = u.confirmed_at.is_none();
                u.active = true;
                u.confirmed_at.get_or_insert_with(chrono::Utc::now);
                Some(json!({"active": true, "confirmed_now": confirmed_now}))
            }
            BulkAction::Deactivate => {
                if !u.active {
                    return None;
                }
                u.active = false;
                Some(json!({"active": false}))
            }
            BulkAction::Confirm => {
                if u.confirmed_at.is_some() {
                    return None;
                }
                u.confirmed_at = Some(chrono::Utc::now());
                Some(json!({"confirmed": true}))
            }
            BulkAction::AddEntry(entry) => {
                if u.entries.contains(entry) {
                    return None;
                }
                u.entries.push(entry.clone());
                Some(json!({"added": entry.to_string()}))
            }
            BulkAction::RemoveEntry(entry) => {
                let before = u.entries.len();
                u.entries.retain(|e| e != entry);
                (u.entries.len() != before).then(|| json!({"removed": entry.to_string()}))
            }
        }
    }
}

impl std::fmt::Display for BulkAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BulkAction::AddEntry(e) | BulkAction::RemoveEntry(e) => {
                write!(f, "{} {e}", self.name())
            }
            _ => f.write_str(self.name()),
        }
    }
}

/// What a bulk call did: the users it changed and those that were already so, each as
/// stored after the call, in the order given (a repeated id counts once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkOutcome {
    /// Changed (one history event each).
    pub changed: Vec<User>,
    /// Already so: nothing changed, nothing recorded.
    pub unchanged: Vec<User>,
}

impl Gatehouse {
    /// Applies `action` to every user of `ids` in one transaction (`users bulk`), all or
    /// nothing: a user that does not exist, or on whom the actor lacks `user/staff/edit`,
    /// fails the whole call with an error naming that user, and nothing changes. The rules
    /// are the single operations': deactivation ends sessions and tokens, a role must
    /// exist, and the last active superuser stays. At most [`BULK_MAX_USERS`] ids.
    pub async fn bulk_users(
        &self,
        ctx: &Context,
        ids: &[UserId],
        action: BulkAction,
    ) -> Result<BulkOutcome, CoreError> {
        if ids.is_empty() {
            return Err(CoreError::invalid(
                "users",
                "no users given; select at least one".to_owned(),
            ));
        }
        if ids.len() > BULK_MAX_USERS {
            return Err(CoreError::invalid(
                "users",
                format!(
                    "{} users given, but one bulk action takes at most {BULK_MAX_USERS}; \
                     split them into several calls",
                    ids.len()
                ),
            ));
        }
        let mut unique: Vec<UserId> = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(id) {
                unique.push(*id);
            }
        }
        let mut tx = self.begin().await?;
        if let BulkAction::AddEntry(e) = &action {
            self.check_entries(tx.as_mut(), std::slice::from_ref(e))
                .await?;
        }
        // Every user is found and authorized before anything is written.
        let mut users = Vec::with_capacity(unique.len());
        for id in &unique {
            let user = self.find_user(tx.as_mut(), &UserRef::Id(*id)).await?;
            self.authorize_on_user(tx.as_mut(), ctx, "user/staff/edit", &user)
                .await
                .map_err(|e| match e {
                    CoreError::Forbidden { privilege, .. } => CoreError::Forbidden {
                        privilege,
                        user: Some(user.label()),
                    },
                    other => other,
                })?;
            users.push(user);
        }
        // Who holds `superuser-access` now, when the last one must stay.
        let superusers = if Self::guarded(ctx) {
            self.superusers_except(tx.as_mut(), None, usize::MAX)
                .await?
        } else {
            Vec::new()
        };
        let mut outcome = BulkOutcome {
            changed: Vec::new(),
            unchanged: Vec::new(),
        };
        let mut touched_superuser = false;
        for mut user in users {
            let Some(details) = action.apply(&mut user) else {
                outcome.unchanged.push(user);
                continue;
            };
            touched_superuser |= superusers.contains(&user.id);
            let user = tx.update_user(&user).await?;
            if !user.active {
                tx.delete_user_credentials(user.id, None).await?;
                tx.revoke_user_oauth_tokens(user.id).await?;
            }
            self.record(
                tx.as_mut(),
                ctx,
                action.history_action(),
                Some(user.id),
                user.email.as_str(),
                details,
            )
            .await?;
            outcome.changed.push(user);
        }
        if touched_superuser {
            self.keep_a_superuser(tx.as_mut(), None, &format!("this bulk {}", action.name()))
                .await?;
        }
        if !outcome.changed.is_empty() {
            tx.commit().await?;
        }
        Ok(outcome)
    }
}

impl BulkOutcome {
    /// [`Changed::Yes`] when at least one user changed.
    pub fn changed_any(&self) -> Changed {
        Changed::from(!self.changed.is_empty())
    }
}
