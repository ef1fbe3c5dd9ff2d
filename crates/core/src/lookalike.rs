//! Look-alike accounts are refused (issue 11 point 7): an email whose confusable skeleton
//! ([`crate::text::email_skeleton`]) equals another account's (a Cyrillic `а` for a Latin
//! `a`, fullwidth letters, `1` for `l`) is refused at creation, fixtures load and import, so
//! nobody can open `аdmin@example.org` beside `admin@example.org`. Invisible and
//! bidirectional control characters and stray combining marks are refused by [`Email::new`]
//! itself.

use std::collections::HashMap;

use crate::account::{Email, Username};
use crate::error::CoreError;
use crate::service::Gatehouse;
use crate::store::Tx;
use crate::text::{email_skeleton, shorten, username_skeleton};

fn refused(email: &str, other: &str) -> CoreError {
    CoreError::Conflict(format!(
        "email `{}` looks like the existing account `{}` (their letters are confusable); \
         choose an address that does not",
        shorten(email),
        shorten(other)
    ))
}

impl Gatehouse {
    /// Refuses `email` (and `username`) if another stored account's looks like it.
    pub(crate) async fn refuse_look_alike(
        &self,
        tx: &mut dyn Tx,
        email: &Email,
        username: Option<&Username>,
    ) -> Result<(), CoreError> {
        if let Some(other) = tx.user_by_skeleton(&email_skeleton(email.as_str())).await? {
            if other.email != *email {
                return Err(refused(email.as_str(), other.email.as_str()));
            }
        }
        if let Some(name) = username {
            let skeleton = username_skeleton(name.as_str());
            if let Some(other) = tx.user_by_username_skeleton(&skeleton).await? {
                if other.username.as_ref().map(Username::folded) != Some(name.folded()) {
                    return Err(CoreError::Conflict(format!(
                        "username `{}` looks like the username of an existing account \
                         (their letters are confusable); choose another",
                        shorten(name.as_str())
                    )));
                }
            }
        }
        Ok(())
    }

    /// For a bulk load: the first email that looks like a stored account or like an earlier
    /// email of the batch, with the error saying which. Emails already stored as they are
    /// (skipped by the load) do not count.
    pub(crate) async fn first_look_alike<'e>(
        &self,
        tx: &mut dyn Tx,
        emails: &[&'e Email],
    ) -> Result<Option<(&'e Email, CoreError)>, CoreError> {
        let skeletons: Vec<String> = emails.iter().map(|e| email_skeleton(e.as_str())).collect();
        let mut owners: HashMap<String, String> = HashMap::new();
        for (skeleton, email) in tx.skeleton_owners(&skeletons).await? {
            owners.entry(skeleton).or_insert(email);
        }
        for (email, skeleton) in emails.iter().zip(skeletons) {
            match owners.get(&skeleton) {
                Some(other) if other != email.as_str() => {
                    return Ok(Some((email, refused(email.as_str(), other))));
                }
                Some(_) => {}
                None => {
                    owners.insert(skeleton, email.as_str().to_owned());
                }
            }
        }
        Ok(None)
    }

    /// For a bulk load: the first username that looks like a stored one or an earlier one
    /// of the batch (one query for the whole batch).
    pub(crate) async fn first_look_alike_username<'e>(
        &self,
        tx: &mut dyn Tx,
        names: &[(&'e Email, &Username)],
    ) -> Result<Option<(&'e Email, CoreError)>, CoreError> {
        let skeletons: Vec<String> = names
            .iter()
            .map(|(_, n)| username_skeleton(n.as_str()))
            .collect();
        // The folded username holding each skeleton: stored ones first, then the batch's
        // own in order. Stored usernames fold as `Username::folded` does (ASCII lower case).
        let mut seen: HashMap<String, String> = HashMap::new();
        for (skeleton, stored) in tx.username_skeleton_owners(&skeletons).await? {
            seen.entry(skeleton)
                .or_insert_with(|| stored.to_ascii_lowercase());
        }
        for ((email, name), skeleton) in names.iter().zip(skeletons) {
            let clash = seen.get(&skeleton).is_some_and(|f| *f != name.folded());
            if clash {
                return Ok(Some((
                    email,
                    CoreError::Conflict(format!(
                        "username `{}` looks like another account's username (their letters \
                         are confusable); choose another",
                        shorten(name.as_str())
                    )),
                )));
            }
            seen.entry(skeleton).or_insert_with(|| name.folded());
        }
        Ok(None)
    }
}
