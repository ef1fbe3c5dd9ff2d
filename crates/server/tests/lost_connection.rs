//! A node that cannot reach its database drops its caches instead of answering from them
//! (issue 6): while the data version cannot be read, checks fail with 500; a change made in
//! the meantime is seen by the first check after the database answers again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use common::{operator, Api};
use gatehouse_core::{GrantTo, Store, StoreError, Tx, UserRef};
use gatehouse_policy::{Effect, Privilege};
use serde_json::json;

/// A store whose data version read can be made to fail, as when the connection is lost.
#[derive(Debug)]
struct Flaky {
    inner: gatehouse_store::SqliteStore,
    down: Arc<AtomicBool>,
}

#[async_trait]
impl Store for Flaky {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.inner.begin().await
    }
    async fn begin_read(&self) -> Result<Box<dyn Tx>, StoreError> {
        self.inner.begin_read().await
    }
    async fn data_version(&self) -> Result<i64, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Backend("connection refused".into()))
        } else {
            self.inner.data_version().await
        }
    }
    fn kind(&self) -> &'static str {
        "flaky"
    }
}

#[tokio::test]
async fn a_node_that_loses_its_database_serves_nothing_stale() {
    let down = Arc::new(AtomicBool::new(false));
    let store = Arc::new(Flaky {
        inner: gatehouse_store::SqliteStore::memory().await.unwrap(),
        down: down.clone(),
    });
    let api = Api::with_store(store).await;
    api.user("ed@example.org", "editor").await;
    let ed = api.login("ed@example.org").await;
    let ask =
        json!({"privilege": "eprint/edit", "item": {"dataset": "eprint", "status": "buffer"}});
    assert_eq!(
        api.post("/api/check", &ed, ask.clone())
            .await
            .expect(StatusCode::OK)
            .body["mask"],
        8
    );

    down.store(true, Ordering::SeqCst);
    let r = api.post("/api/check", &ed, ask.clone()).await;
    assert_eq!(
        r.expect(StatusCode::INTERNAL_SERVER_ERROR).code(),
        "internal"
    );
    let ready = api.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(
        ready.status,
        StatusCode::OK,
        "readyz reads through a transaction, which still works here"
    );

    // Meanwhile the editor loses the privilege (written straight through the services).
    api.gh()
        .grant(
            &operator(),
            Effect::Deny,
            Privilege::new("eprint/edit").unwrap(),
            &GrantTo::User(UserRef::Email("ed@example.org".into())),
        )
        .await
        .unwrap();
    down.store(false, Ordering::SeqCst);
    let d = api
        .post("/api/check", &ed, ask)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        d.body["allowed"], false,
        "the first answer after the outage is fresh: {}",
        d.text
    );
}
