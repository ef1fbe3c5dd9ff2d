//! Changing who an account is: its email (the log in identity, and where mail goes) and its
//! username. Each is one transaction that authorizes `user/staff/edit` on the user's record,
//! refuses an email or username another account holds or looks like (the rules
//! `create_user` keeps, [`crate::lookalike`]), writes the user, and records a history event.
//!
//! Sessions and tokens are kept: they belong to the account, not to the address, and the
//! password did not change (docs/decisions.md).

use serde_json::json;

use crate::account::{Email, Username};
use crate::error::CoreError;
use crate::service::{Changed, Context, Gatehouse, UserRef};
use crate::store::{ConflictField, StoreError, Tx};
use crate::text::{email_skeleton, shorten, username_skeleton};
use crate::user::User;

/// The privilege both changes need on the user's record: staff hold it plain; a site may
/// give `user/staff/edit:owner` to let users change their own.
const PRIVILEGE: &str = "user/staff/edit";

impl Gatehouse {
    /// Changes a user's email (`users set-email`). The new address must not belong to, or
    /// look like, another account's; the confirmation state is kept (staff vouch for the
    /// address they type).
    pub async fn set_email(
        &self,
        ctx: &Context,
        who: &UserRef,
        email: Email,
    ) -> Result<(User, Changed), CoreError> {
        let mut tx = self.begin().await?;
        let mut user = self.find_user(tx.as_mut(), who).await?;
        self.authorize_on_user(tx.as_mut(), ctx, PRIVILEGE, &user)
            .await?;
        if user.email == email {
            return Ok((user, Changed::No));
        }
        if let Some(other) = tx.user_by_email(&email).await? {
            if other.id != user.id {
                return Err(taken(ConflictField::Email, email.as_str()));
            }
        }
        refuse_email_look_alike(tx.as_mut(), &user, &email).await?;
        let before = std::mem::replace(&mut user.email, email);
        let user = tx.update_user(&user).await?;
        self.record(
            tx.as_mut(),
            ctx,
            "user.set_email",
            Some(user.id),
            user.email.as_str(),
            json!({"before": before.as_str(), "after": user.email.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok((user, Changed::Yes))
    }

    /// Sets (`Some`) or removes (`None`) a user's username (`users set-username`). A new
    /// one must not belong to, or look like, another account's; changing only its case is
    /// a change.
    pub async fn set_username(
        &self,
        ctx: &Context,
        who: &UserRef,
        username: Option<Username>,
    ) -> Result<(User, Changed), CoreError> {
        let mut tx = self.begin().await?;
        let mut user = self.find_user(tx.as_mut(), who).await?;
        self.authorize_on_user(tx.as_mut(), ctx, PRIVILEGE, &user)
            .await?;
        if user.username == username {
            return Ok((user, Changed::No));
        }
        if let Some(name) = &username {
            if let Some(other) = tx.user_by_username(name).await? {
                if other.id != user.id {
                    return Err(taken(ConflictField::Username, name.as_str()));
                }
            }
            refuse_username_look_alike(tx.as_mut(), &user, name).await?;
        }
        let before = std::mem::replace(&mut user.username, username);
        let user = tx.update_user(&user).await?;
        self.record(
            tx.as_mut(),
            ctx,
            "user.set_username",
            Some(user.id),
            user.email.as_str(),
            json!({
                "before": before.as_ref().map(Username::as_str),
                "after": user.username.as_ref().map(Username::as_str),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok((user, Changed::Yes))
    }
}

/// ``email `a@b.org` is already taken``: the store's own wording of the clash.
fn taken(field: ConflictField, value: &str) -> CoreError {
    CoreError::from(StoreError::Conflict {
        field,
        value: value.to_owned(),
    })
}

/// Refuses `email` for `user` when another account's email is confusable with it. The
/// user's own current address does not count (a change may fix a typo of the same shape).
async fn refuse_email_look_alike(
    tx: &mut dyn Tx,
    user: &User,
    email: &Email,
) -> Result<(), CoreError> {
    let owners = tx
        .skeleton_owners(&[email_skeleton(email.as_str())])
        .await?;
    match owners
        .iter()
        .find(|(_, other)| other != user.email.as_str() && other != email.as_str())
    {
        Some((_, other)) => Err(CoreError::Conflict(format!(
            "email `{}` looks like the existing account `{}` (their letters are confusable); \
             choose an address that does not",
            shorten(email.as_str()),
            shorten(other)
        ))),
        None => Ok(()),
    }
}

/// Refuses `name` for `user` when another account's username is confusable with it (the
/// user's own current username does not count).
async fn refuse_username_look_alike(
    tx: &mut dyn Tx,
    user: &User,
    name: &Username,
) -> Result<(), CoreError> {
    let own = user.username.as_ref().map(Username::folded);
    let owners = tx
        .username_skeleton_owners(&[username_skeleton(name.as_str())])
        .await?;
    let clash = owners.iter().any(|(_, other)| {
        let folded = other.to_ascii_lowercase();
        Some(&folded) != own.as_ref() && folded != name.folded()
    });
    if clash {
        return Err(CoreError::Conflict(format!(
            "username `{}` looks like the username of an existing account (their letters \
             are confusable); choose another",
            shorten(name.as_str())
        )));
    }
    Ok(())
}
