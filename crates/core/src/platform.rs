//! The questions repository platforms ask (issue 13): a user's effective set with a
//! generation to cache it by, who may act, and which items a list may show. All three are
//! answered from the request's snapshot and the compiled policy, through the one decision
//! (`check/any` for asking about others), and agree with `check` by construction
//! (`gatehouse_policy::WhoCan::mask`, `gatehouse_policy::ListFilter::mask`).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use gatehouse_policy::{
    CompiledPolicy, Effect, EffectiveSet, Entry, GrantTarget, Holds, ItemRef, ListFilter,
    Privilege, UserId, WhoCan,
};
use serde::Serialize;

use crate::decision::Facts;
use crate::error::CoreError;
use crate::service::{Actor, Context, Gatehouse, UserRef};
use crate::snapshot::{CachedUser, Snapshot};
use crate::store::{GrantFilter, UserQuery};

/// A user's effective set as a platform loads it once per request or session
/// (`GET /api/users/{user}/effective`, `gatehouse privileges USER --json`).
#[derive(Debug, Clone, Serialize)]
pub struct EffectiveView {
    /// The user's id.
    pub id: UserId,
    /// Their email.
    pub email: String,
    /// Their username, if any.
    pub username: Option<String>,
    /// Whether the account is active (an inactive one holds only public privileges).
    pub active: bool,
    /// The user type.
    pub user_type: Option<String>,
    /// The type's entries, in order (roles, `+p`, `-p`).
    pub type_entries: Vec<String>,
    /// The user's own entries, in order.
    pub entries: Vec<String>,
    /// The roles they hold, through the type then their own entries, in order.
    pub roles: Vec<String>,
    /// The privilege strings they hold, with `:owner` / `:editor` suffixes, sorted.
    pub privileges: Vec<String>,
    /// Privileges denied to them (a deny always wins).
    pub denied: Vec<String>,
    /// The public privileges (bit 1, held by anonymous visitors too) as this user sees
    /// them: a public privilege denied to the user is not here, so a platform that tests
    /// public privileges without a user (EPrints' `allow_anybody`) can still honour the deny.
    pub public: Vec<String>,
    /// Editorial scope filters (`field=value,value;field=value`), OR-ed.
    pub editorial_scope: Vec<String>,
    /// Whether they hold `superuser-access` (and are active).
    pub superuser: bool,
    /// Changes whenever anything this answer depends on changes (the user, their grants, a
    /// run-time role, a grant to a role or system role, a policy reload); equal on every
    /// node. An opaque string: compare it, do not parse it.
    pub generation: String,
}

/// One user whose own entries or grants make them differ from their type in a who-can
/// answer.
#[derive(Debug, Clone, Serialize)]
pub struct UserHolds {
    /// The user's id.
    pub id: UserId,
    /// Their email.
    pub email: String,
    /// What they hold (their own answer replaces their type's).
    #[serde(flatten)]
    pub holds: Holds,
}

/// A user admitted by a who-can answer (`expand=users`).
#[derive(Debug, Clone, Serialize)]
pub struct AdmittedUser {
    /// The user's id.
    pub id: UserId,
    /// Their email.
    pub email: String,
    /// The check's mask for them (1 public, 2 user, 4 owner, 8 editor).
    pub mask: u8,
}

/// One page of admitted users.
#[derive(Debug, Clone, Serialize)]
pub struct AdmittedPage {
    /// The users, by id.
    pub items: Vec<AdmittedUser>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<i64>,
}

/// `who-can`: the policy's answer, the users who differ from their type, and (when asked)
/// a page of the admitted users.
#[derive(Debug, Clone, Serialize)]
pub struct WhoCanView {
    /// The answer from the compiled policy.
    #[serde(flatten)]
    pub answer: WhoCan,
    /// Users with entries or grants of their own whose answer differs from their type's: a
    /// user listed here is answered by this entry, every other user by their type.
    pub users: Vec<UserHolds>,
    /// With `expand=users`: the admitted users, paged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admitted: Option<AdmittedPage>,
}

/// Paging for `expand=users`.
#[derive(Debug, Clone, Copy)]
pub struct Expand {
    /// Only users with a larger id.
    pub after: i64,
    /// At most this many (1 to 1000).
    pub limit: u64,
}

/// Users whose effective set is not their type's (own entries or grants), with their facts:
/// who-can's index, kept per snapshot.
///
/// Users of one shape share one effective set (the cache's sharing), so a who-can computes
/// what each distinct set holds once, not once per user.
#[derive(Debug, Default)]
pub struct OwnIndex {
    users: Vec<Arc<CachedUser>>,
    ids: HashMap<UserId, usize>,
    /// The distinct effective sets of the indexed users, each with one user holding it.
    sets: Vec<(Arc<EffectiveSet>, usize)>,
    /// Per user (same order as `users`), the index of their set in `sets`.
    set_of: Vec<usize>,
    /// The users with a deny or a `-p` entry of their own (who-can's excludes).
    with_excludes: Vec<usize>,
}

impl OwnIndex {
    /// The indexed user `id`, if they have entries or grants of their own.
    pub fn get(&self, id: UserId) -> Option<&Arc<CachedUser>> {
        self.ids.get(&id).and_then(|i| self.users.get(*i))
    }

    /// What each distinct set holds of `privilege` on `item`, in `sets` order.
    fn set_holds(
        &self,
        policy: &CompiledPolicy,
        privilege: &str,
        item: Option<&ItemRef<'_>>,
    ) -> Vec<Holds> {
        self.sets
            .iter()
            .filter_map(|(set, rep)| Some((set, &self.users.get(*rep)?.facts)))
            .map(|(set, facts)| match policy.subject(facts, set) {
                Ok(s) => s.holds(privilege, item),
                // INVARIANT: the index derives its sets under the snapshot's policy; should
                // one not fit, derive afresh rather than answer differently from check.
                Err(_) => {
                    let fresh = policy.effective(facts);
                    policy
                        .subject(facts, &fresh)
                        .map(|s| s.holds(privilege, item))
                        .unwrap_or_default()
                }
            })
            .collect()
    }

    /// What indexed user number `i` holds, from `set_holds`.
    fn holds_at(&self, set_holds: &[Holds], i: usize) -> Holds {
        self.set_of
            .get(i)
            .and_then(|s| set_holds.get(*s))
            .copied()
            .unwrap_or_default()
    }

    /// How many users are indexed.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// Users scanned at most for one page of `expand=users`: past it the page ends early with a
/// `next` cursor, so that one request stays short however rare the admitted users are.
const EXPAND_SCAN: u64 = 20_000;

/// The validator of an effective answer: the policy's fingerprint, the user's facts and
/// record version, hashed with a fixed hasher.
fn generation_of(policy: &CompiledPolicy, user: &CachedUser) -> String {
    let mut h = rustc_hash::FxHasher::default();
    policy.fingerprint().hash(&mut h);
    user.facts.hash(&mut h);
    user.user.version.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// A user's own denies and `-p` entries that take a tested string away, added to the
/// answer's excludes.
fn user_excludes(policy: &CompiledPolicy, answer: &mut WhoCan, user: &CachedUser) {
    let email = &user.user.email;
    for d in &user.facts.deny {
        if answer
            .tested
            .iter()
            .any(|t| policy.deny_covers(d.as_str(), t))
        {
            answer.excludes.push(gatehouse_policy::Exclude {
                kind: "deny",
                privilege: d.to_string(),
                by: format!("user `{email}`"),
                target: "user",
                name: email.to_string(),
            });
        }
    }
    for (i, e) in user.facts.entries.iter().enumerate() {
        if let Entry::Minus(p) = e {
            if answer.tested.iter().any(|t| t == p.as_str()) {
                answer.excludes.push(gatehouse_policy::Exclude {
                    kind: "removal",
                    privilege: p.to_string(),
                    by: format!("user `{email}` entry {}", i + 1),
                    target: "user",
                    name: email.to_string(),
                });
            }
        }
    }
}

impl Gatehouse {
    /// Whether `ctx`'s actor may ask about `user`: themselves, or anyone with `check/any`.
    async fn may_ask_about(
        &self,
        snap: &Snapshot,
        ctx: &Context,
        user: Option<&CachedUser>,
    ) -> Result<(), CoreError> {
        let about_self = match (&ctx.actor, user) {
            (_, None) => true,
            (Actor::User(me), Some(u)) => *me == u.user.id,
            _ => false,
        };
        if about_self {
            return Ok(());
        }
        self.require_in(snap, ctx, "check/any").await
    }

    /// The one decision, over the snapshot, as an authorization to read: every question
    /// here only reads, so holders of `administration-access` (the panel's readers) may ask
    /// it too ([`Gatehouse::authorize_read`](crate::service)).
    async fn require_in(
        &self,
        snap: &Snapshot,
        ctx: &Context,
        privilege: &str,
    ) -> Result<(), CoreError> {
        self.authorize_read_from(&mut Facts::Snapshot(snap), ctx, privilege, None)
            .await
    }

    /// The generation of `who`'s effective answer, without building it: what a platform
    /// revalidating with `If-None-Match` costs (one snapshot read, like a check).
    pub async fn effective_generation(
        &self,
        ctx: &Context,
        who: &UserRef,
    ) -> Result<String, CoreError> {
        let snap = self.snapshot_for(ctx).await?;
        let policy = self.policy_in(&snap).await?;
        let user = self.user_in(&snap, who).await?;
        self.may_ask_about(&snap, ctx, Some(&user)).await?;
        Ok(generation_of(&policy, &user))
    }

    /// `who`'s effective set, for a platform to load into its own identity: type, entries,
    /// roles held, privilege strings, denies, scope, superuser, and the generation.
    pub async fn effective(
        &self,
        ctx: &Context,
        who: &UserRef,
    ) -> Result<EffectiveView, CoreError> {
        let snap = self.snapshot_for(ctx).await?;
        let policy = self.policy_in(&snap).await?;
        let user = self.user_in(&snap, who).await?;
        self.may_ask_about(&snap, ctx, Some(&user)).await?;
        let version = u64::try_from(user.user.version).unwrap_or(0);
        let set = self.cache.get(&policy, &user.facts, version);
        let facts = &user.facts;
        let type_entries: Vec<Entry> = facts
            .user_type
            .as_ref()
            .and_then(|t| policy.config().types().get(t))
            .map(|t| t.entries.clone())
            .unwrap_or_default();
        // The roles the set's walk met (the type's, then the user's own; defined ones only).
        let roles: Vec<String> = set.held_roles().iter().map(ToString::to_string).collect();
        Ok(EffectiveView {
            id: user.user.id,
            email: user.user.email.to_string(),
            username: user.user.username.as_ref().map(ToString::to_string),
            active: facts.active,
            user_type: facts.user_type.as_ref().map(ToString::to_string),
            type_entries: type_entries.iter().map(ToString::to_string).collect(),
            entries: facts.entries.iter().map(ToString::to_string).collect(),
            roles,
            privileges: policy
                .list_effective(facts, &set)
                .into_iter()
                .map(|h| h.privilege)
                .collect(),
            denied: policy
                .list_denies(&set)
                .into_iter()
                .map(|(p, _)| p)
                .collect(),
            public: policy
                .list_public_for(facts, &set)
                .into_iter()
                .map(|p| p.privilege)
                .collect(),
            editorial_scope: facts
                .editorial_scope
                .iter()
                .map(ToString::to_string)
                .collect(),
            superuser: facts.active && set.is_superuser(),
            generation: generation_of(&policy, &user),
        })
    }

    /// Who may exercise `privilege` on `item` (`check/any`): the compiled policy's answer,
    /// the users whose own entries or grants change it, and with `expand` a page of the
    /// admitted users.
    pub async fn who_can(
        &self,
        ctx: &Context,
        privilege: &Privilege,
        item: Option<&gatehouse_policy::Item>,
        expand: Option<Expand>,
    ) -> Result<WhoCanView, CoreError> {
        if let Some(item) = item {
            item.validate()
                .map_err(|e| CoreError::invalid("item", e.to_string()))?;
        }
        let snap = self.snapshot_for(ctx).await?;
        self.require_in(&snap, ctx, "check/any").await?;
        let policy = self.policy_in(&snap).await?;
        let view = item.map(gatehouse_policy::Item::view);
        let mut answer = policy.who_can(privilege.as_str(), view.as_ref());
        let own = self.own_index(&snap, &policy).await?;
        let set_holds = own.set_holds(&policy, privilege.as_str(), view.as_ref());
        let mut users = Vec::new();
        for (i, u) in own.users.iter().enumerate() {
            let holds = own.holds_at(&set_holds, i);
            if holds != answer.holds_of_type(u.facts.user_type.as_ref()) {
                users.push(UserHolds {
                    id: u.user.id,
                    email: u.user.email.to_string(),
                    holds,
                });
            }
        }
        for &i in &own.with_excludes {
            if let Some(u) = own.users.get(i) {
                user_excludes(&policy, &mut answer, u);
            }
        }
        let admitted = match expand {
            None => None,
            Some(e) => Some(
                self.admitted(&answer, &own, &set_holds, view.as_ref(), e)
                    .await?,
            ),
        };
        Ok(WhoCanView {
            answer,
            users,
            admitted,
        })
    }

    /// One page of the users a who-can answer admits, scanning users by id after
    /// `expand.after`.
    async fn admitted(
        &self,
        answer: &WhoCan,
        own: &OwnIndex,
        set_holds: &[Holds],
        item: Option<&ItemRef<'_>>,
        expand: Expand,
    ) -> Result<AdmittedPage, CoreError> {
        let limit = expand.limit.clamp(1, 1000);
        let mut items = Vec::new();
        let mut after = expand.after;
        let mut scanned = 0u64;
        let mut tx = self.begin_read().await?;
        loop {
            let page = tx
                .list_users(&UserQuery {
                    after_id: Some(UserId(after)),
                    limit: 500,
                    ..UserQuery::default()
                })
                .await?
                .items;
            let Some(last) = page.last() else {
                return Ok(AdmittedPage { items, next: None });
            };
            let last_id = last.id.0;
            for user in page {
                scanned += 1;
                after = user.id.0;
                let (holds, facts) = match own.ids.get(&user.id).map(|i| (*i, own.users.get(*i))) {
                    Some((i, Some(c))) => (own.holds_at(set_holds, i), c.facts.clone()),
                    _ => {
                        let facts = user.facts(Vec::new(), Vec::new());
                        (answer.holds_of_type(facts.user_type.as_ref()), facts)
                    }
                };
                let mask = answer.mask(&holds, &facts, item);
                if mask != 0 {
                    items.push(AdmittedUser {
                        id: user.id,
                        email: user.email.to_string(),
                        mask,
                    });
                    if items.len() as u64 >= limit {
                        return Ok(AdmittedPage {
                            items,
                            next: Some(after),
                        });
                    }
                }
            }
            if scanned >= EXPAND_SCAN {
                return Ok(AdmittedPage {
                    items,
                    next: Some(last_id),
                });
            }
        }
    }

    /// The users with entries or grants of their own, with their facts: read once per
    /// snapshot (two queries), then shared by every who-can at that data version.
    pub(crate) async fn own_index(
        &self,
        snap: &Snapshot,
        policy: &CompiledPolicy,
    ) -> Result<Arc<OwnIndex>, CoreError> {
        if let Some(index) = snap.own_index() {
            return Ok(index);
        }
        let mut tx = self.begin_read().await?;
        let with_entries = tx
            .list_users(&UserQuery {
                with_entries: true,
                ..UserQuery::default()
            })
            .await?
            .items;
        let mut grants: HashMap<UserId, (Vec<Privilege>, Vec<Privilege>)> = HashMap::new();
        for g in tx.grants(&GrantFilter::default()).await? {
            if let GrantTarget::User(id) = g.target {
                let (allow, deny) = grants.entry(id).or_default();
                match g.effect {
                    Effect::Allow => allow.push(g.privilege),
                    Effect::Deny => deny.push(g.privilege),
                }
            }
        }
        let mut users = with_entries;
        let indexed: std::collections::HashSet<UserId> = users.iter().map(|u| u.id).collect();
        let mut missing: Vec<UserId> = grants
            .keys()
            .filter(|id| !indexed.contains(id))
            .copied()
            .collect();
        missing.sort();
        for id in missing {
            if let Some(u) = tx.user_by_id(id).await? {
                users.push(u);
            }
        }
        drop(tx);
        users.sort_by_key(|u| u.id);
        let mut index = OwnIndex::default();
        let mut set_ids: HashMap<*const EffectiveSet, usize> = HashMap::new();
        for user in users {
            let (allow, deny) = grants.remove(&user.id).unwrap_or_default();
            let facts = user.facts(allow, deny);
            let i = index.users.len();
            let version = u64::try_from(user.version).unwrap_or(0);
            let set = self.cache.get(policy, &facts, version);
            let s = *set_ids.entry(Arc::as_ptr(&set)).or_insert_with(|| {
                index.sets.push((set.clone(), i));
                index.sets.len() - 1
            });
            index.set_of.push(s);
            if !facts.deny.is_empty() || facts.entries.iter().any(|e| matches!(e, Entry::Minus(_)))
            {
                index.with_excludes.push(i);
            }
            index.ids.insert(user.id, i);
            index.users.push(Arc::new(CachedUser { user, facts }));
        }
        let index = Arc::new(index);
        snap.keep_own_index(index.clone());
        Ok(index)
    }

    /// Which items of `dataset` (default: the privilege's first segment) `subject` (or an
    /// anonymous visitor) may exercise `privilege` on, as conditions a search index can
    /// apply. A user may ask about themselves; asking about another user needs `check/any`.
    pub async fn list_filter(
        &self,
        ctx: &Context,
        subject: Option<&UserRef>,
        privilege: &Privilege,
        dataset: Option<&str>,
    ) -> Result<ListFilter, CoreError> {
        let dataset = match (dataset, privilege.as_str().split_once('/')) {
            (Some(d), _) => d,
            (None, Some((first, _))) => first,
            (None, None) => {
                return Err(CoreError::invalid(
                    "dataset",
                    format!(
                        "`{privilege}` names no dataset; name one (`--dataset` on the command \
                         line, `\"dataset\"` in the API), e.g. `eprint`"
                    ),
                ))
            }
        };
        ItemRef::new(dataset)
            .validate()
            .map_err(|e| CoreError::invalid("dataset", e.to_string()))?;
        let snap = self.snapshot_for(ctx).await?;
        let policy = self.policy_in(&snap).await?;
        let user = match subject {
            Some(u) => Some(self.user_in(&snap, u).await?),
            None => None,
        };
        self.may_ask_about(&snap, ctx, user.as_deref()).await?;
        Ok(match &user {
            None => policy.anonymous().list_filter(privilege.as_str(), dataset),
            Some(u) => {
                let version = u64::try_from(u.user.version).unwrap_or(0);
                let set = self.cache.get(&policy, &u.facts, version);
                match policy.subject(&u.facts, &set) {
                    Ok(s) => s.list_filter(privilege.as_str(), dataset),
                    Err(_) => {
                        let set = policy.effective(&u.facts);
                        policy
                            .subject(&u.facts, &set)
                            .map_err(|e| CoreError::Internal(e.to_string()))?
                            .list_filter(privilege.as_str(), dataset)
                    }
                }
            }
        })
    }
}
