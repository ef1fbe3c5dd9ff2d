//! Look-alike accounts are refused (issue 11 point 7): an email whose confusable skeleton
//! ([`crate::text::email_skeleton`]) equals another account's (a Cyrillic `а` for a Latin
//! `a`, fullwidth letters, `1` for `l`) is refused at creation, fixtures load and import, so
//! nobody can open `аdmin@example.org` beside `admin@example.org`. Invisible and
//! bidirectional control characters and stray combining marks are refused by [`Email::new`]
//! itself.

use std::collections::HashMap;

use crate::account::Email;
use crate::error::CoreError;
use crate::service::Gatehouse;
use crate::store::Tx;
use crate::text::{email_skeleton, shorten};

fn refused(email: &str, other: &str) -> CoreError {
    CoreError::Conflict(format!(
        "email `{}` looks like the existing account `{}` (their letters are confusable); \
         choose an address that does not",
        shorten(email),
        shorten(other)
    ))
}

impl Gatehouse {
    /// Refuses `email` if another stored account's email looks like it.
    pub(crate) async fn refuse_look_alike(
        &self,
        tx: &mut dyn Tx,
        email: &Email,
    ) -> Result<(), CoreError> {
        if let Some(other) = tx.user_by_skeleton(&email_skeleton(email.as_str())).await? {
            if other.email != *email {
                return Err(refused(email.as_str(), other.email.as_str()));
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
}
