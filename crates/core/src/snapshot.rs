//! Read caches for the hot path (token resolution and checks), valid for one data version.
//!
//! Every committed write on any process increments the store's data version
//! ([`crate::Store::data_version`]). A [`Snapshot`] holds what was read while the version
//! stood still: resolved tokens, users with their grants, the compiled policy. Each request
//! reads the version once (one small query, or none when the store can tell that nothing
//! committed since its last read: [`crate::Store::data_version_unchanged`]); when it moved,
//! the snapshot is replaced and refilled on demand. So caches never serve data older than
//! the request's start, on any node, and a node that cannot read the version serves nothing
//! from cache.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use gatehouse_policy::{CompiledPolicy, UserFacts, UserId};

use crate::auth::Principal;
use crate::decision::ServiceSubject;
use crate::error::CoreError;
use crate::service::{Context, Gatehouse, UserRef};
use crate::user::User;

/// Entries a snapshot keeps at most per map; past that, lookups still work but are not kept.
const MAX_ENTRIES: usize = 200_000;

/// A user as the hot path needs them.
#[derive(Debug, Clone)]
pub struct CachedUser {
    /// The stored user.
    pub user: User,
    /// The engine's facts, with the user's grants.
    pub facts: UserFacts,
}

/// A resolved token (or `None` for one that resolves to nobody) and its expiry.
type TokenEntry = Option<(Principal, Option<DateTime<Utc>>)>;

/// What was read while the data version stood still.
#[derive(Debug)]
pub struct Snapshot {
    version: i64,
    policy: RwLock<Option<Arc<CompiledPolicy>>>,
    users: RwLock<HashMap<UserId, Arc<CachedUser>>>,
    emails: RwLock<HashMap<String, UserId>>,
    tokens: RwLock<HashMap<String, TokenEntry>>,
    /// Service tokens' effective sets, by credential id.
    services: RwLock<HashMap<i64, Arc<ServiceSubject>>>,
    /// Users with entries or grants of their own (who-can's index), read on first use.
    own: RwLock<Option<Arc<crate::platform::OwnIndex>>>,
}

impl Snapshot {
    pub(crate) fn new(version: i64) -> Self {
        Snapshot {
            version,
            policy: RwLock::new(None),
            users: RwLock::new(HashMap::new()),
            emails: RwLock::new(HashMap::new()),
            tokens: RwLock::new(HashMap::new()),
            services: RwLock::new(HashMap::new()),
            own: RwLock::new(None),
        }
    }

    /// The data version this snapshot belongs to.
    pub fn version(&self) -> i64 {
        self.version
    }

    pub(crate) fn token(&self, hash: &str, now: DateTime<Utc>) -> Option<Option<Principal>> {
        let tokens = self.tokens.read().ok()?;
        let entry = tokens.get(hash)?;
        Some(match entry {
            Some((p, expires)) if expires.is_none_or(|e| e > now) => Some(p.clone()),
            Some(_) => None,
            None => None,
        })
    }

    pub(crate) fn keep_token(
        &self,
        hash: String,
        value: Option<(Principal, Option<DateTime<Utc>>)>,
    ) {
        if let Ok(mut t) = self.tokens.write() {
            if t.len() < MAX_ENTRIES {
                t.insert(hash, value);
            }
        }
    }

    /// The service token `credential` (holding `privileges`) under `policy`, derived once
    /// per snapshot.
    pub(crate) fn service(
        &self,
        credential: i64,
        policy: &CompiledPolicy,
        privileges: &[gatehouse_policy::Privilege],
    ) -> Arc<ServiceSubject> {
        if let Ok(services) = self.services.read() {
            if let Some(s) = services.get(&credential).filter(|s| s.fits(policy)) {
                return s.clone();
            }
        }
        let subject = Arc::new(ServiceSubject::new(policy, privileges));
        if let Ok(mut services) = self.services.write() {
            if services.len() < MAX_ENTRIES {
                services.insert(credential, subject.clone());
            }
        }
        subject
    }

    /// Who-can's index of users with entries or grants of their own, if read already.
    pub(crate) fn own_index(&self) -> Option<Arc<crate::platform::OwnIndex>> {
        self.own.read().ok()?.clone()
    }

    pub(crate) fn keep_own_index(&self, index: Arc<crate::platform::OwnIndex>) {
        if let Ok(mut own) = self.own.write() {
            *own = Some(index);
        }
    }

    fn user(&self, who: &UserRef) -> Option<Arc<CachedUser>> {
        let id = match who {
            UserRef::Id(id) => *id,
            UserRef::Email(e) => *self.emails.read().ok()?.get(&e.trim().to_lowercase())?,
        };
        self.users.read().ok()?.get(&id).cloned()
    }

    fn keep_user(&self, u: Arc<CachedUser>) {
        if let (Ok(mut users), Ok(mut emails)) = (self.users.write(), self.emails.write()) {
            if users.len() < MAX_ENTRIES {
                emails.insert(u.user.email.to_string(), u.user.id);
                users.insert(u.user.id, u);
            }
        }
    }
}

/// Shares data version reads between concurrent requests without weakening freshness: a
/// request waits for a read that STARTS after it arrived, so it sees every commit made
/// before it began. Under load one read answers every request that arrived while the
/// previous read ran. The reads run in a spawned task, so a cancelled request cannot leave
/// the others waiting.
#[derive(Debug, Default)]
pub(crate) struct VersionGate {
    inner: std::sync::Mutex<GateInner>,
}

#[derive(Debug, Default)]
struct GateInner {
    reading: bool,
    waiting: Vec<tokio::sync::oneshot::Sender<Result<i64, crate::StoreError>>>,
}

impl VersionGate {
    async fn read(
        &self,
        store: &Arc<dyn crate::Store>,
        gate: &Arc<VersionGate>,
    ) -> Result<i64, CoreError> {
        // A store that can tell for certain that nothing committed since its last read
        // (SQLite's WAL-index header) answers at once, without a query or a hand-off.
        if let Some(version) = store.data_version_unchanged() {
            return Ok(version);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let start = {
            let mut g = self
                .inner
                .lock()
                .map_err(|_| CoreError::Internal("version gate poisoned".into()))?;
            g.waiting.push(tx);
            !std::mem::replace(&mut g.reading, true)
        };
        if start {
            let store = store.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                loop {
                    let batch = match gate.inner.lock() {
                        Ok(mut g) if g.waiting.is_empty() => {
                            g.reading = false;
                            break;
                        }
                        Ok(mut g) => std::mem::take(&mut g.waiting),
                        Err(_) => break,
                    };
                    // This read starts after every request in `batch` arrived.
                    let result = store.data_version().await;
                    for w in batch {
                        let _ = w.send(result.clone());
                    }
                }
            });
        }
        match rx.await {
            Ok(r) => Ok(r?),
            Err(_) => Err(CoreError::Internal(
                "the data version reader stopped".into(),
            )),
        }
    }
}

impl Gatehouse {
    /// The snapshot for the store's current data version. If the version cannot be read,
    /// every cache is dropped and the error returned: nothing stale is served.
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, CoreError> {
        let version = match self
            .version_gate
            .read(&self.store, &self.version_gate)
            .await
        {
            Ok(v) => v,
            Err(e) => {
                self.drop_caches();
                return Err(e);
            }
        };
        if let Ok(current) = self.snapshot.read() {
            if current.version == version {
                return Ok(current.clone());
            }
        }
        let fresh = Arc::new(Snapshot::new(version));
        if let Ok(mut current) = self.snapshot.write() {
            // Another request may have moved on already; keep the newer one.
            if current.version < version {
                *current = fresh.clone();
            }
        }
        Ok(fresh)
    }

    /// The request's snapshot (taken when its token was resolved), or a new one.
    pub(crate) async fn snapshot_for(&self, ctx: &Context) -> Result<Arc<Snapshot>, CoreError> {
        match &ctx.snapshot {
            Some(s) => Ok(s.clone()),
            None => self.snapshot().await,
        }
    }

    /// The compiled policy of a snapshot.
    pub(crate) async fn policy_in(
        &self,
        snap: &Snapshot,
    ) -> Result<Arc<CompiledPolicy>, CoreError> {
        if let Ok(p) = snap.policy.read() {
            if let Some(p) = p.as_ref() {
                return Ok(p.clone());
            }
        }
        let mut tx = self.begin_read().await?;
        let policy = self.policy(tx.as_mut()).await?;
        if let Ok(mut p) = snap.policy.write() {
            *p = Some(policy.clone());
        }
        Ok(policy)
    }

    /// A user with their facts, from the snapshot or the store.
    pub(crate) async fn user_in(
        &self,
        snap: &Snapshot,
        who: &UserRef,
    ) -> Result<Arc<CachedUser>, CoreError> {
        if let Some(u) = snap.user(who) {
            return Ok(u);
        }
        let mut tx = self.begin_read().await?;
        let user = self.find_user(tx.as_mut(), who).await?;
        let facts = self.facts(tx.as_mut(), &user).await?;
        drop(tx);
        let cached = Arc::new(CachedUser { user, facts });
        snap.keep_user(cached.clone());
        Ok(cached)
    }
}
