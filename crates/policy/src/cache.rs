//! A cache of effective sets, so that a check does not walk roles again.
//!
//! Entries are keyed by user id and remember the policy generation and the user's version
//! they were derived for: a changed user (new version) or a recompiled policy (new
//! generation) misses, so every change is seen by the very next check (SPEC 3.5). Users with
//! the same type, entries and grants share one set.

use std::sync::{Arc, Mutex, RwLock, Weak};

use rustc_hash::FxHashMap;

use crate::compile::{CompiledPolicy, EffectiveSet};
use crate::ident::{Privilege, TypeName, UserId};
use crate::model::{Entry, UserFacts};

type ShapeKey = (Option<TypeName>, Vec<Entry>, Vec<Privilege>, Vec<Privilege>);

#[derive(Debug, Clone)]
struct Cached {
    generation: u64,
    version: u64,
    set: Arc<EffectiveSet>,
}

/// Effective sets by user, invalidated by version and policy generation.
#[derive(Debug, Default)]
pub struct EffectiveCache {
    users: RwLock<FxHashMap<UserId, Cached>>,
    shapes: Mutex<FxHashMap<ShapeKey, Weak<EffectiveSet>>>,
}

impl EffectiveCache {
    /// An empty cache.
    pub fn new() -> Self {
        EffectiveCache::default()
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
                if c.generation == policy.generation() && c.version == version {
                    return c.set.clone();
                }
            }
        }
        let set = self.shared(policy, user);
        if let Ok(mut users) = self.users.write() {
            users.insert(
                user.id,
                Cached {
                    generation: policy.generation(),
                    version,
                    set: set.clone(),
                },
            );
        }
        set
    }

    fn shared(&self, policy: &CompiledPolicy, user: &UserFacts) -> Arc<EffectiveSet> {
        let key: ShapeKey = (
            user.user_type.clone(),
            user.entries.clone(),
            user.allow.clone(),
            user.deny.clone(),
        );
        let derive = || {
            Arc::new(policy.effective(
                user.user_type.as_ref(),
                &user.entries,
                &user.allow,
                &user.deny,
            ))
        };
        let Ok(mut shapes) = self.shapes.lock() else {
            return derive();
        };
        if let Some(set) = shapes.get(&key).and_then(Weak::upgrade) {
            if set.generation() == policy.generation() {
                return set;
            }
        }
        let set = derive();
        shapes.insert(key, Arc::downgrade(&set));
        set
    }

    /// Forgets one user (their next check derives again).
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

    /// Number of distinct effective sets alive.
    pub fn distinct_sets(&self) -> usize {
        self.shapes
            .lock()
            .map(|s| s.values().filter(|w| w.strong_count() > 0).count())
            .unwrap_or(0)
    }
}
