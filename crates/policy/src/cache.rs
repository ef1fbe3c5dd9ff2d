//! A bounded cache of effective sets, so that a request does not walk roles again.
//!
//! Entries are keyed by user id and remember the compiled policy and the user's version
//! they were derived for: a changed user (new version) or another policy misses, so every
//! change is seen by the very next request (SPEC 3.5). Users with the same type, entries and
//! grants share one set; users with nothing of their own share their type's set, which the
//! compiled policy already holds. At most `capacity` users are kept: when full, sets of
//! other policies go first, then about a quarter of the rest, in no particular order.

use std::sync::{Arc, Mutex, RwLock, Weak};

use rustc_hash::FxHashMap;

use crate::compile::CompiledPolicy;
use crate::effective::EffectiveSet;
use crate::ident::{Privilege, TypeName, UserId};
use crate::model::{Entry, UserFacts};

type ShapeKey = (Option<TypeName>, Vec<Entry>, Vec<Privilege>, Vec<Privilege>);

#[derive(Debug, Clone)]
struct Cached {
    policy: u64,
    version: u64,
    set: Arc<EffectiveSet>,
}

/// Effective sets by user, invalidated by version and policy, bounded in size.
///
/// Take a user's set once per request, then ask through a [`Subject`](crate::Subject):
///
/// ```
/// use std::sync::Arc;
/// use gatehouse_policy::{CompiledPolicy, EffectiveCache, PolicyConfig, UserFacts, UserId};
///
/// let policy = CompiledPolicy::compile(Arc::new(PolicyConfig::builtin().clone()), &[], &[], 1)
///     .expect("compiles");
/// let cache = EffectiveCache::with_capacity(10_000);
/// let ann = UserFacts { id: UserId(7), active: true, user_type: Some("user".parse().expect("name")),
///                       entries: vec!["+eprint/archive/edit:owner".parse().expect("entry")],
///                       ..UserFacts::default() };
/// let set = cache.get(&policy, &ann, 1);                // derived
/// assert!(Arc::ptr_eq(&set, &cache.get(&policy, &ann, 1))); // kept
/// let ann_asks = policy.subject(&ann, &set).expect("same policy");
/// assert!(ann_asks.allowed("eprint/archive/edit:owner", None));
/// ```
#[derive(Debug)]
pub struct EffectiveCache {
    capacity: usize,
    users: RwLock<FxHashMap<UserId, Cached>>,
    shapes: Mutex<FxHashMap<ShapeKey, Weak<EffectiveSet>>>,
}

impl Default for EffectiveCache {
    fn default() -> Self {
        EffectiveCache::with_capacity(EffectiveCache::DEFAULT_CAPACITY)
    }
}

impl EffectiveCache {
    /// Users kept by [`EffectiveCache::new`].
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// An empty cache keeping at most [`EffectiveCache::DEFAULT_CAPACITY`] users.
    pub fn new() -> Self {
        EffectiveCache::default()
    }

    /// An empty cache keeping at most `capacity` users (at least 1).
    pub fn with_capacity(capacity: usize) -> Self {
        EffectiveCache {
            capacity: capacity.max(1),
            users: RwLock::new(FxHashMap::default()),
            shapes: Mutex::new(FxHashMap::default()),
        }
    }

    /// The effective set of `user` at `version` under `policy`, derived on a miss.
    pub fn get(
        &self,
        policy: &CompiledPolicy,
        user: &UserFacts,
        version: u64,
    ) -> Arc<EffectiveSet> {
        if let Ok(users) = self.users.read() {
            if let Some(c) = users.get(&user.id) {
                if c.policy == policy.id && c.version == version {
                    return c.set.clone();
                }
            }
        }
        let set = match policy.plain_set(user) {
            Some(set) => set.clone(),
            None => self.shared(policy, user),
        };
        if let Ok(mut users) = self.users.write() {
            if users.len() >= self.capacity && !users.contains_key(&user.id) {
                self.evict(&mut users, policy.id);
            }
            users.insert(
                user.id,
                Cached {
                    policy: policy.id,
                    version,
                    set: set.clone(),
                },
            );
        }
        set
    }

    /// Makes room: sets of other policies first, then about a quarter of the rest.
    fn evict(&self, users: &mut FxHashMap<UserId, Cached>, current: u64) {
        users.retain(|_, c| c.policy == current);
        if users.len() >= self.capacity {
            let mut n = 0usize;
            users.retain(|_, _| {
                n += 1;
                n % 4 != 0
            });
        }
    }

    fn shared(&self, policy: &CompiledPolicy, user: &UserFacts) -> Arc<EffectiveSet> {
        let key: ShapeKey = (
            user.user_type.clone(),
            user.entries.clone(),
            user.allow.clone(),
            user.deny.clone(),
        );
        let derive = || policy.effective(user);
        let Ok(mut shapes) = self.shapes.lock() else {
            return derive();
        };
        if let Some(set) = shapes.get(&key).and_then(Weak::upgrade) {
            if set.policy == policy.id {
                return set;
            }
        }
        let set = derive();
        if shapes.len() >= self.capacity {
            shapes.retain(|_, w| w.strong_count() > 0);
        }
        shapes.insert(key, Arc::downgrade(&set));
        set
    }

    /// Forgets one user (their next request derives again).
    pub fn invalidate(&self, user: UserId) {
        if let Ok(mut users) = self.users.write() {
            users.remove(&user);
        }
    }

    /// Forgets everything (for example after losing contact with the database).
    pub fn clear(&self) {
        if let Ok(mut users) = self.users.write() {
            users.clear();
        }
        if let Ok(mut shapes) = self.shapes.lock() {
            shapes.clear();
        }
    }

    /// Number of users cached.
    pub fn len(&self) -> usize {
        self.users.read().map(|u| u.len()).unwrap_or(0)
    }

    /// Whether no user is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most users kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of distinct effective sets of users with entries or grants of their own.
    pub fn distinct_sets(&self) -> usize {
        self.shapes
            .lock()
            .map(|s| s.values().filter(|w| w.strong_count() > 0).count())
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PolicyConfig;

    fn policy() -> CompiledPolicy {
        match CompiledPolicy::compile(Arc::new(PolicyConfig::builtin().clone()), &[], &[], 1) {
            Ok(p) => p,
            Err(e) => unreachable!("{e}"),
        }
    }

    fn user(id: i64, own: bool) -> UserFacts {
        UserFacts {
            id: UserId(id),
            active: true,
            user_type: "user".parse().ok(),
            entries: if own {
                vec![Entry::Plus(
                    Privilege::new("x/y").unwrap_or_else(|e| unreachable!("{e}")),
                )]
            } else {
                Vec::new()
            },
            ..UserFacts::default()
        }
    }

    #[test]
    fn bounded_and_shared() {
        let p = policy();
        let cache = EffectiveCache::with_capacity(100);
        for id in 0..1_000 {
            cache.get(&p, &user(id, id % 2 == 0), 1);
            assert!(cache.len() <= 100, "{} users kept", cache.len());
        }
        // Same shapes share one set; plain users share the type's set.
        let a = cache.get(&p, &user(5_001, true), 1);
        let b = cache.get(&p, &user(5_003, true), 1);
        assert!(Arc::ptr_eq(&a, &b));
        let c = cache.get(&p, &user(5_005, false), 1);
        assert!(Arc::ptr_eq(&c, &p.effective(&user(1, false))));
        assert!(cache.distinct_sets() <= 100);
    }

    #[test]
    fn version_and_policy_miss() {
        let p = policy();
        let cache = EffectiveCache::new();
        let u = user(1, true);
        let a = cache.get(&p, &u, 1);
        assert!(Arc::ptr_eq(&a, &cache.get(&p, &u, 1)));
        let b = cache.get(&p, &u, 2);
        assert!(
            Arc::ptr_eq(&a, &b),
            "same shape, new version: shared set, new entry"
        );
        let q = policy();
        let c = cache.get(&q, &u, 2);
        assert!(!Arc::ptr_eq(&a, &c), "another policy derives again");
        assert!(q.subject(&u, &c).is_ok() && q.subject(&u, &a).is_err());
    }
}
