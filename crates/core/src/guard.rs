//! The last superuser stays: a change that would leave the database without any active
//! holder of `superuser-access` is refused (issue 11, point 3), so that the panel and the API
//! never lose the one account that can repair them. Only the command-line operator, who holds
//! the database and can repair it anyway, is not stopped.
//!
//! The guard runs inside the changing transaction, after the change, against a policy
//! compiled from that transaction (and never cached: the transaction may still roll back).

use std::collections::HashMap;

use gatehouse_policy::{CompiledPolicy, Effect, GrantTarget, UserId};

use crate::error::CoreError;
use crate::service::{Actor, Context, Gatehouse};
use crate::store::{GrantFilter, Tx, UserQuery};
use crate::user::User;

impl Gatehouse {
    /// The active users holding `superuser-access` other than `except`, up to `enough` of
    /// them, as the transaction sees the database now.
    pub(crate) async fn superusers_except(
        &self,
        tx: &mut dyn Tx,
        except: Option<UserId>,
        enough: usize,
    ) -> Result<Vec<UserId>, CoreError> {
        let policy: CompiledPolicy = self.compile_in(tx).await?;
        let mut grants: HashMap<UserId, (Vec<_>, Vec<_>)> = HashMap::new();
        for g in tx.grants(&GrantFilter::default()).await? {
            if let GrantTarget::User(id) = g.target {
                let entry = grants.entry(id).or_default();
                match g.effect {
                    Effect::Allow => entry.0.push(g.privilege),
                    Effect::Deny => entry.1.push(g.privilege),
                }
            }
        }
        let users = tx
            .list_users(&UserQuery {
                active: Some(true),
                limit: 0,
                ..UserQuery::default()
            })
            .await?;
        let mut found = Vec::new();
        for u in users.items.into_iter().filter(|u| Some(u.id) != except) {
            let (allow, deny) = grants.remove(&u.id).unwrap_or_default();
            if is_superuser(&policy, &u.facts(allow, deny)) {
                found.push(u.id);
                if found.len() >= enough {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Whether `user` (as stored in the transaction now) is an active superuser.
    pub(crate) async fn user_is_superuser(
        &self,
        tx: &mut dyn Tx,
        user: &User,
    ) -> Result<bool, CoreError> {
        if !user.active {
            return Ok(false);
        }
        let policy = self.compile_in(tx).await?;
        let facts = self.facts(tx, user).await?;
        Ok(is_superuser(&policy, &facts))
    }

    /// Whether the guard applies to this actor: everyone but the command-line operator.
    pub(crate) fn guarded(ctx: &Context) -> bool {
        !matches!(ctx.actor, Actor::Operator(_))
    }

    /// Refuses a change after which `target` (a superuser before it) is no longer one and
    /// no other active superuser is left.
    pub(crate) async fn keep_a_superuser(
        &self,
        tx: &mut dyn Tx,
        target: Option<&User>,
        what: &str,
    ) -> Result<(), CoreError> {
        if let Some(u) = target {
            if self.user_is_superuser(tx, u).await? {
                return Ok(());
            }
        }
        if !self
            .superusers_except(tx, target.map(|u| u.id), 1)
            .await?
            .is_empty()
        {
            return Ok(());
        }
        Err(CoreError::invalid(
            "superuser",
            format!(
                "{what} would leave no active account holding `superuser-access`; give it to \
                 another account first (`gatehouse access allow superuser-access user EMAIL`)"
            ),
        ))
    }
}

fn is_superuser(policy: &CompiledPolicy, facts: &gatehouse_policy::UserFacts) -> bool {
    let set = policy.effective(facts);
    policy.subject(facts, &set).is_ok_and(|s| s.is_superuser())
}
