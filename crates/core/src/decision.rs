//! THE decision: every question "may this actor do this?" that Gatehouse answers, for its
//! own operations ([`Gatehouse::authorize`]) and for the repository's checks
//! ([`Gatehouse::check`]), is answered by [`Gatehouse::decide_as`], over facts read from one
//! source: the operation's transaction, or the request's snapshot.
//!
//! Reading the facts differs by source (a transaction reads the database; a snapshot reads
//! what was cached at the request's data version); deciding never does.

use std::sync::Arc;

use gatehouse_policy::{
    CompiledPolicy, Decision, EffectiveSet, Explanation, ItemRef, Privilege, Reason, ReasonKind,
    UserFacts, USER,
};

use crate::error::CoreError;
use crate::service::{Actor, Gatehouse, UserRef};
use crate::snapshot::{CachedUser, Snapshot};
use crate::store::Tx;

/// Where a decision reads its facts.
pub(crate) enum Facts<'a> {
    /// The operation's own transaction: it decides on what it is about to change.
    Tx(&'a mut dyn Tx),
    /// The request's snapshot: the facts at the request's data version, cached.
    Snapshot(&'a Snapshot),
}

/// A service token as the engine sees it: an active user holding exactly the token's allow
/// grants, with no type, no entries and no denies of its own.
#[derive(Debug)]
pub(crate) struct ServiceSubject {
    facts: UserFacts,
    set: Arc<EffectiveSet>,
}

impl ServiceSubject {
    /// Derives the token's effective set under `policy`.
    pub(crate) fn new(policy: &CompiledPolicy, privileges: &[Privilege]) -> Self {
        let facts = UserFacts {
            active: true,
            allow: privileges.to_vec(),
            ..UserFacts::default()
        };
        let set = policy.effective(&facts);
        ServiceSubject { facts, set }
    }

    /// Whether it was derived under this policy.
    pub(crate) fn fits(&self, policy: &CompiledPolicy) -> bool {
        policy.subject(&self.facts, &self.set).is_ok()
    }
}

/// Who asks, with their facts loaded.
pub(crate) enum Asker {
    /// The operator at the command line, who already holds the database.
    Operator,
    /// Nobody logged in.
    Anonymous,
    /// A user id that names nobody (deleted since the session began).
    Nobody,
    /// A user.
    User(Arc<CachedUser>),
    /// A service token.
    Service(Arc<ServiceSubject>),
}

impl Gatehouse {
    /// The compiled policy, from the source.
    pub(crate) async fn policy_from(
        &self,
        facts: &mut Facts<'_>,
    ) -> Result<Arc<CompiledPolicy>, CoreError> {
        match facts {
            Facts::Tx(tx) => self.policy(&mut **tx).await,
            Facts::Snapshot(snap) => self.policy_in(snap).await,
        }
    }

    /// A user with their facts, from the source.
    pub(crate) async fn user_from(
        &self,
        facts: &mut Facts<'_>,
        who: &UserRef,
    ) -> Result<Arc<CachedUser>, CoreError> {
        match facts {
            Facts::Tx(tx) => {
                let user = self.find_user(&mut **tx, who).await?;
                let facts = self.facts(&mut **tx, &user).await?;
                Ok(Arc::new(CachedUser { user, facts }))
            }
            Facts::Snapshot(snap) => self.user_in(snap, who).await,
        }
    }

    /// Loads the facts of `actor` (a service token's set is kept per snapshot and
    /// credential).
    pub(crate) async fn asker(
        &self,
        facts: &mut Facts<'_>,
        policy: &CompiledPolicy,
        actor: &Actor,
        credential: Option<i64>,
    ) -> Result<Asker, CoreError> {
        Ok(match actor {
            Actor::Operator(_) => Asker::Operator,
            Actor::Anonymous => Asker::Anonymous,
            Actor::User(id) => match self.user_from(facts, &UserRef::Id(*id)).await {
                Ok(u) => Asker::User(u),
                Err(CoreError::NotFound { .. }) => Asker::Nobody,
                Err(e) => return Err(e),
            },
            Actor::Service { privileges, .. } => Asker::Service(match (facts, credential) {
                (Facts::Snapshot(snap), Some(credential)) => {
                    snap.service(credential, policy, privileges)
                }
                _ => Arc::new(ServiceSubject::new(policy, privileges)),
            }),
        })
    }

    /// THE decision: `asker` asking for `privilege` on `item` under `policy`. Every
    /// authorization and every check ends here.
    pub(crate) fn decide_as(
        &self,
        policy: &CompiledPolicy,
        asker: &Asker,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Decision {
        match asker {
            Asker::Operator => Decision::from_mask(
                USER,
                vec![Reason {
                    kind: ReasonKind::User,
                    bit: USER,
                    privilege: privilege.to_owned(),
                    source: "the operator at the command line, who holds the database".into(),
                }],
            ),
            Asker::Anonymous => policy.check_anonymous(privilege, item),
            Asker::Nobody => Decision::from_mask(
                0,
                vec![Reason {
                    kind: ReasonKind::NotGranted,
                    bit: 0,
                    privilege: privilege.to_owned(),
                    source: "the account no longer exists".into(),
                }],
            ),
            Asker::User(u) => {
                let version = u64::try_from(u.user.version).unwrap_or(0);
                let set = self.cache.get(policy, &u.facts, version);
                match policy.subject(&u.facts, &set) {
                    Ok(subject) => subject.decide(privilege, item),
                    // INVARIANT: the cache derives under the policy it is given; should it
                    // ever not, the one-call path derives afresh.
                    Err(_) => policy.check(&u.facts, privilege, item),
                }
            }
            Asker::Service(s) => match policy.subject(&s.facts, &s.set) {
                Ok(subject) => subject.decide(privilege, item),
                Err(_) => policy.check(&s.facts, privilege, item),
            },
        }
    }

    /// THE decision ([`Gatehouse::decide_as`]) with the walk that led to it, for people.
    /// The walk is replayed from the same facts and set; it never decides.
    pub(crate) fn explain_as(
        &self,
        policy: &CompiledPolicy,
        asker: &Asker,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Explanation {
        let decision = self.decide_as(policy, asker, privilege, item);
        let steps = match asker {
            Asker::Anonymous => policy.anonymous().walk(privilege, item),
            Asker::User(u) => {
                let version = u64::try_from(u.user.version).unwrap_or(0);
                let set = self.cache.get(policy, &u.facts, version);
                policy
                    .subject(&u.facts, &set)
                    .map(|s| s.walk(privilege, item))
                    // INVARIANT: the cache derives under the policy it is given.
                    .unwrap_or_default()
            }
            Asker::Service(s) => policy
                .subject(&s.facts, &s.set)
                .map(|s| s.walk(privilege, item))
                .unwrap_or_default(),
            // The operator holds the database, and nobody holds nothing: no walk.
            Asker::Operator | Asker::Nobody => Vec::new(),
        };
        Explanation { decision, steps }
    }

    /// Loads the facts of `actor` and decides: the choke point's whole work.
    pub(crate) async fn decide(
        &self,
        facts: &mut Facts<'_>,
        actor: &Actor,
        credential: Option<i64>,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Result<Decision, CoreError> {
        let policy = self.policy_from(facts).await?;
        let asker = self.asker(facts, &policy, actor, credential).await?;
        Ok(self.decide_as(&policy, &asker, privilege, item))
    }
}
