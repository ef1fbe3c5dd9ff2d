//! Log in throttling that cannot be raced and cannot be turned against users.
//!
//! Token buckets, charged when an attempt **starts** (before the password is verified), so N
//! concurrent guesses cost what N sequential ones do; a successful log in gives its tokens
//! back, so only failures are paid for. Two buckets per attempt:
//!
//! - **the account** (keyed by the account's id, so its email and username share one budget;
//!   an unknown login is keyed by its lower-cased text): [`Rules::account`], 10 attempts,
//!   then one every 6 minutes. An attacker from any number of addresses gets at most 20
//!   guesses per account in the first hour and 10 in each hour after. The account's owner is
//!   not held back by it: a log in from a **known device** (the signed cookie a successful
//!   log in to that account set) or from an address that logged in to that account
//!   successfully before skips the account bucket.
//! - **the client address** (behind a trusted proxy, the address the proxy names):
//!   [`Rules::address`], 30 failures, then one every 2 seconds. A shared address (a campus
//!   NAT, a reverse proxy) is slowed, never blocked: one typo costs one token, and the bucket
//!   always refills.
//!
//! `Retry-After` is the time until the empty bucket has a token again. Keys are SHA-256
//! digests cut to 16 bytes (the raw login never stays in memory), and the table holds at
//! most [`Throttle::MAX_ENTRIES`] entries: buckets that are full again are the same as no
//! entry and go first, then the least recently touched.
//!
//! Every method takes the time from its caller, so tests run the clock by hand.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// A bucket's size and refill rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Tokens when full (the burst allowed).
    pub capacity: f64,
    /// Seconds for one token to come back.
    pub refill_secs: f64,
}

/// The buckets of the log in throttle and of the password-reset requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// Per account.
    pub account: Bucket,
    /// Per client address.
    pub address: Bucket,
    /// Password-reset requests per client address.
    pub reset_address: Bucket,
    /// Password-reset mails per target email.
    pub reset_email: Bucket,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            account: Bucket {
                capacity: 10.0,
                refill_secs: 360.0,
            },
            address: Bucket {
                capacity: 30.0,
                refill_secs: 2.0,
            },
            reset_address: Bucket {
                capacity: 5.0,
                refill_secs: 60.0,
            },
            reset_email: Bucket {
                capacity: 3.0,
                refill_secs: 1200.0,
            },
        }
    }
}

/// A hashed key.
type Key = [u8; 16];

fn key(parts: &[&str]) -> Key {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    let digest = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&digest[..16]);
    k
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Bucket {
        tokens: f64,
        at: Instant,
        rule: Bucket,
    },
    /// An (account, address) pair that logged in successfully, until this time.
    Known { until: Instant },
}

/// Who is trying: the account (its id, or the login text when no account has it), where
/// from, and whether from a device or address that logged in to this account before.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// `id:<n>` for an account, `login:<text>` otherwise.
    pub account: &'a str,
    /// The client address.
    pub address: &'a str,
    /// The request carried a valid known-device cookie for this account.
    pub known_device: bool,
}

/// What an attempt paid, to give back on success.
#[derive(Debug, Clone)]
pub struct Ticket {
    account: Option<Key>,
    address: Key,
    known: Key,
}

/// Log in throttling state (one per node; see docs/security.md).
#[derive(Debug)]
pub struct Throttle {
    rules: Rules,
    table: Mutex<HashMap<Key, Slot>>,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(Rules::default())
    }
}

/// How long an (account, address) pair counts as known after a successful log in.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

impl Throttle {
    /// Most entries the table holds.
    pub const MAX_ENTRIES: usize = 200_000;

    /// A throttle with these rules.
    pub fn new(rules: Rules) -> Self {
        Throttle {
            rules,
            table: Mutex::new(HashMap::new()),
        }
    }

    /// The rules in force.
    pub fn rules(&self) -> Rules {
        self.rules
    }

    /// Charges an attempt: `Ok` with what to give back on success, or `Err(seconds)` to
    /// wait (nothing charged).
    pub fn begin(&self, attempt: &Attempt<'_>, now: Instant) -> Result<Ticket, u64> {
        let Ok(mut table) = self.table.lock() else {
            return Err(1);
        };
        let address = key(&["addr", attempt.address]);
        let known = key(&["known", attempt.account, attempt.address]);
        let pair_known = matches!(table.get(&known), Some(Slot::Known { until }) if *until > now);
        let account =
            (!attempt.known_device && !pair_known).then(|| key(&["acct", attempt.account]));
        // Both buckets must have a token; take from neither unless both do.
        let mut wait = 0.0f64;
        for (k, rule) in [
            (Some(address), self.rules.address),
            (account, self.rules.account),
        ] {
            if let Some(k) = k {
                let tokens = Self::level(&table, &k, rule, now);
                if tokens < 1.0 {
                    wait = wait.max((1.0 - tokens) * rule.refill_secs);
                }
            }
        }
        if wait > 0.0 {
            return Err(wait.ceil().max(1.0) as u64);
        }
        Self::make_room(&mut table, now);
        for (k, rule) in [
            (Some(address), self.rules.address),
            (account, self.rules.account),
        ] {
            if let Some(k) = k {
                let tokens = Self::level(&table, &k, rule, now) - 1.0;
                table.insert(
                    k,
                    Slot::Bucket {
                        tokens,
                        at: now,
                        rule,
                    },
                );
            }
        }
        Ok(Ticket {
            account,
            address,
            known,
        })
    }

    /// The attempt succeeded: its tokens come back, and the (account, address) pair is
    /// known from now on.
    pub fn succeeded(&self, ticket: &Ticket, now: Instant) {
        let Ok(mut table) = self.table.lock() else {
            return;
        };
        for (k, rule) in [
            (Some(ticket.address), self.rules.address),
            (ticket.account, self.rules.account),
        ] {
            if let Some(k) = k {
                let tokens = (Self::level(&table, &k, rule, now) + 1.0).min(rule.capacity);
                table.insert(
                    k,
                    Slot::Bucket {
                        tokens,
                        at: now,
                        rule,
                    },
                );
            }
        }
        Self::make_room(&mut table, now);
        table.insert(
            ticket.known,
            Slot::Known {
                until: now + KNOWN_FOR,
            },
        );
    }

    /// Charges one request against the reset buckets (per address and per target email):
    /// `Err(seconds)` when either is empty.
    pub fn reset_request(&self, address: &str, email: &str, now: Instant) -> Result<(), u64> {
        let Ok(mut table) = self.table.lock() else {
            return Err(1);
        };
        let keys = [
            (key(&["reset-addr", address]), self.rules.reset_address),
            (
                key(&["reset-email", &email.to_lowercase()]),
                self.rules.reset_email,
            ),
        ];
        let mut wait = 0.0f64;
        for (k, rule) in keys {
            let tokens = Self::level(&table, &k, rule, now);
            if tokens < 1.0 {
                wait = wait.max((1.0 - tokens) * rule.refill_secs);
            }
        }
        if wait > 0.0 {
            return Err(wait.ceil().max(1.0) as u64);
        }
        Self::make_room(&mut table, now);
        for (k, rule) in keys {
            let tokens = Self::level(&table, &k, rule, now) - 1.0;
            table.insert(
                k,
                Slot::Bucket {
                    tokens,
                    at: now,
                    rule,
                },
            );
        }
        Ok(())
    }

    /// Tokens in bucket `k` at `now` (full when absent).
    fn level(table: &HashMap<Key, Slot>, k: &Key, rule: Bucket, now: Instant) -> f64 {
        match table.get(k) {
            Some(Slot::Bucket { tokens, at, .. }) => {
                let refilled = now.saturating_duration_since(*at).as_secs_f64() / rule.refill_secs;
                (tokens + refilled).min(rule.capacity)
            }
            _ => rule.capacity,
        }
    }

    /// Keeps the table under [`Throttle::MAX_ENTRIES`]: buckets full again and pairs no
    /// longer known go first (they are the same as absent); then the quarter of buckets
    /// fullest in proportion. A bucket an attacker has emptied is the last to go, so
    /// flooding the table with new keys cannot reset it.
    fn make_room(table: &mut HashMap<Key, Slot>, now: Instant) {
        if table.len() < Self::MAX_ENTRIES {
            return;
        }
        let fullness = |slot: &Slot| match slot {
            Slot::Bucket { tokens, at, rule } => {
                let refilled = now.saturating_duration_since(*at).as_secs_f64() / rule.refill_secs;
                ((tokens + refilled) / rule.capacity).min(1.0)
            }
            Slot::Known { until } if *until > now => -1.0,
            Slot::Known { .. } => 1.0,
        };
        table.retain(|_, slot| fullness(slot) < 1.0);
        if table.len() >= Self::MAX_ENTRIES {
            let mut levels: Vec<f64> = table.values().map(fullness).collect();
            levels.sort_unstable_by(|a, b| b.total_cmp(a));
            let cut = levels[levels.len() / 4];
            let mut over = levels.iter().filter(|l| **l >= cut).count();
            table.retain(|_, slot| {
                if over > 0 && fullness(slot) >= cut {
                    over -= 1;
                    false
                } else {
                    true
                }
            });
        }
    }

    /// Entries held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.table.lock().map_or(0, |t| t.len())
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn at<'a>(account: &'a str, address: &'a str) -> Attempt<'a> {
        Attempt {
            account,
            address,
            known_device: false,
        }
    }

    /// Issue 11, failure 2: concurrent guesses are charged when they start, so ten at once
    /// take the ten tokens, and the eleventh waits even before any of them finished.
    #[test]
    fn failure_2_attempts_in_flight_are_counted() {
        let t = Throttle::default();
        let now = Instant::now();
        let tickets: Vec<_> = (0..10)
            .map(|i| t.begin(&at("id:1", &format!("10.0.0.{i}")), now))
            .collect();
        assert!(tickets.iter().all(Result::is_ok));
        let wait = t.begin(&at("id:1", "10.0.0.99"), now).unwrap_err();
        assert_eq!(wait, 360, "Retry-After is the time to the next token");
    }

    /// Failure 3: rotating addresses kept a victim out for 110 s of 120; every failure
    /// refreshed the block. The owner's known device (or known address) is not held back by
    /// the account bucket, and the attacker gets a bounded number of guesses per hour.
    #[test]
    fn failure_3_rotating_addresses_cannot_keep_the_owner_out() {
        let t = Throttle::default();
        let start = Instant::now();
        // The owner logged in once from home before the attack.
        let home = t.begin(&at("id:1", "192.0.2.7"), start).unwrap();
        t.succeeded(&home, start);
        let mut guesses = 0;
        let mut owner_refused = 0;
        for s in 0..3600u64 {
            let now = start + Duration::from_secs(s);
            let attacker = at("id:1", "");
            let address = format!("198.51.100.{}", s % 250);
            if t.begin(
                &Attempt {
                    address: &address,
                    ..attacker
                },
                now,
            )
            .is_ok()
            {
                guesses += 1;
            }
            if s % 60 == 0 {
                let device = Attempt {
                    account: "id:1",
                    address: "203.0.113.5",
                    known_device: true,
                };
                match t.begin(&device, now) {
                    Ok(ticket) => t.succeeded(&ticket, now),
                    Err(_) => owner_refused += 1,
                }
                if t.begin(&at("id:1", "192.0.2.7"), now).is_err() {
                    owner_refused += 1;
                }
            }
        }
        assert_eq!(owner_refused, 0);
        assert!(guesses <= 20, "{guesses} guesses in an hour");
        // Successes of the owner do not give the attacker a fresh budget: after the token of
        // the hour's end is spent and the owner logs in, the attacker still waits.
        let end = start + Duration::from_secs(3600);
        assert!(t.begin(&at("id:1", "198.51.100.1"), end).is_ok());
        let device = Attempt {
            account: "id:1",
            address: "203.0.113.5",
            known_device: true,
        };
        let ticket = t.begin(&device, end).unwrap();
        t.succeeded(&ticket, end);
        assert!(t.begin(&at("id:1", "198.51.100.2"), end).is_err());
    }

    /// Failure 3: 62 failures from one address blocked everyone behind it for 15 minutes.
    /// A shared address is slowed (a token every 2 s), never blocked, and successes cost
    /// nothing.
    #[test]
    fn failure_3_a_shared_address_is_slowed_not_blocked() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..30 {
            assert!(t.begin(&at(&format!("id:{i}"), "10.1.1.1"), now).is_ok());
        }
        let wait = t.begin(&at("id:99", "10.1.1.1"), now).unwrap_err();
        assert_eq!(wait, 2);
        let later = now + Duration::from_secs(2);
        let ticket = t.begin(&at("id:99", "10.1.1.1"), later).unwrap();
        t.succeeded(&ticket, later);
        assert!(
            t.begin(&at("id:100", "10.1.1.1"), later).is_ok(),
            "a success refunds"
        );
    }

    /// Failure 7: throttle keys held the raw login for 30 minutes (a 60 KB login kept 217
    /// KB per request). Keys are 16-byte digests and the table is bounded; an account an
    /// attacker emptied keeps its bucket through the flood.
    #[test]
    fn failure_7_a_million_distinct_logins_stay_bounded() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..10 {
            t.begin(&at("id:1", "10.255.0.1"), now).unwrap();
        }
        let long = "x".repeat(60_000);
        for i in 0..1_000_000u32 {
            let account = if i % 100_000 == 0 {
                format!("login:{long}{i}")
            } else {
                format!("login:user{i}@example.org")
            };
            let _ = t.begin(
                &at(&account, &format!("10.{}.{}.1", i >> 16, (i >> 8) & 255)),
                now,
            );
            assert!(t.len() <= Throttle::MAX_ENTRIES);
        }
        assert!(t.len() <= Throttle::MAX_ENTRIES);
        assert!(
            t.begin(&at("id:1", "10.255.0.2"), now).is_err(),
            "the victim's bucket survived"
        );
    }

    #[test]
    fn reset_requests_are_throttled_per_address_and_email() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..3 {
            assert!(t.reset_request("10.0.0.1", "ann@example.org", now).is_ok());
        }
        assert!(t.reset_request("10.0.0.2", "ANN@example.org", now).is_err());
        assert!(t.reset_request("10.0.0.1", "bob@example.org", now).is_ok());
        assert!(t.reset_request("10.0.0.1", "eve@example.org", now).is_ok());
        assert!(t.reset_request("10.0.0.1", "zed@example.org", now).is_err());
    }
}
