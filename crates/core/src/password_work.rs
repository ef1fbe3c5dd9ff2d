//! Argon2 work (hashing and verifying passwords) on blocking threads, a few at a time.
//!
//! One Argon2id computation with the default parameters takes about 20 to 30 ms of one core
//! and 19 MiB of memory. Unbounded on tokio's blocking pool (up to 512 threads), a burst of
//! log ins takes every core and gigabytes of memory, and every other request waits behind
//! it. A password-guessing flood makes such bursts: each time its throttle block lifts,
//! every waiting connection passes the throttle at once, before the first failure is
//! recorded. Measured before this limit (`scripts/bench-server.sh`): checks served during a
//! flood had a p99 of 30 to 440 ms; see docs/PERFORMANCE.md.
//!
//! So at most half the cores (at least one) compute at once, and the others keep serving.
//! Waiting callers queue in arrival order (a fair semaphore) and hold no thread while they
//! wait. The permit travels into the blocking closure, so a request cancelled mid-way does
//! not free its place before its computation ends.
//!
//! Bulk hashing by `fixtures load` (a command, not a server) uses every core instead
//! (`load::hash_many`).

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use crate::error::CoreError;

/// How many Argon2 computations run at once in this process: half the cores, at least one.
pub fn concurrency() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get() / 2)
        .max(1)
}

fn limit() -> &'static Arc<Semaphore> {
    static LIMIT: OnceLock<Arc<Semaphore>> = OnceLock::new();
    LIMIT.get_or_init(|| Arc::new(Semaphore::new(concurrency())))
}

/// Argon2 computations finished in this process (hashes and verifications), for metrics
/// and for tests that prove a path does none.
pub fn jobs_done() -> u64 {
    JOBS.load(std::sync::atomic::Ordering::Relaxed)
}

static JOBS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The memory all Argon2 work in flight may take together, in KiB: four of the largest
/// hashes the default limits allow (4 x 64 MiB), whatever the number of cores.
pub const MEMORY_BUDGET_KIB: u32 = 4 * 65_536;

fn memory() -> &'static Arc<Semaphore> {
    static MEMORY: OnceLock<Arc<Semaphore>> = OnceLock::new();
    MEMORY.get_or_init(|| Arc::new(Semaphore::new(MEMORY_BUDGET_KIB as usize)))
}

/// Runs `work` on a blocking thread once a place is free and `memory_kib` of the memory
/// budget is (a job larger than the whole budget waits for all of it); `what` names it in
/// errors.
pub(crate) async fn run<T, F>(what: &'static str, memory_kib: u32, work: F) -> Result<T, CoreError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let closed = || CoreError::Internal(format!("{what}: the password worker limit closed"));
    let permit = limit()
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| closed())?;
    let share = memory_kib.clamp(1, MEMORY_BUDGET_KIB);
    let memory = memory()
        .clone()
        .acquire_many_owned(share)
        .await
        .map_err(|_| closed())?;
    tokio::task::spawn_blocking(move || {
        let out = work();
        JOBS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        drop(memory);
        drop(permit);
        out
    })
    .await
    .map_err(|e| CoreError::Internal(format!("{what} task failed: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_limit_run_at_once_and_all_finish() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..12 {
            let (running, most) = (running.clone(), most.clone());
            tasks.push(tokio::spawn(run("test work", 19_456, move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
                i
            })));
        }
        let mut done = Vec::new();
        for t in tasks {
            done.push(t.await.unwrap().unwrap());
        }
        assert_eq!(done, (0..12).collect::<Vec<_>>());
        let most = most.load(Ordering::SeqCst);
        assert!(
            (1..=concurrency()).contains(&most),
            "{most} ran at once, limit {}",
            concurrency()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_caller_keeps_its_place_until_the_work_ends() {
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let work = |running: Arc<AtomicUsize>, most: Arc<AtomicUsize>| {
            move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(30));
                running.fetch_sub(1, Ordering::SeqCst);
            }
        };
        // Callers that give up after 5 ms, while their work still runs.
        for _ in 0..concurrency() * 3 {
            let f = run("test work", 19_456, work(running.clone(), most.clone()));
            let _ = tokio::time::timeout(Duration::from_millis(5), f).await;
        }
        run("test work", 19_456, work(running.clone(), most.clone()))
            .await
            .unwrap();
        assert!(most.load(Ordering::SeqCst) <= concurrency());
    }
}
