//! Log ins of accounts that still carry another platform's password hash (issue 12): the
//! hash is verified as its platform does, replaced by Argon2id in the log in's own
//! transaction with a history event, and never replaced by a wrong password. Also the
//! import refusals: unreadable hashes and work beyond the limits. Core behaviour, on the
//! SQLite store.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use gatehouse_core::legacy::{LegacySettings, Scheme};
use gatehouse_core::{
    Channel, Context, CreateUser, Email, Gatehouse, HistoryFilter, Lifetimes, PasswordHash,
    PasswordPolicy, PasswordSource, Settings, UserRef,
};
use gatehouse_policy::{PolicyConfig, TypeName};
use gatehouse_store::SqliteStore;

/// InvenioRDM, double hashed with the salt `CHANGE_ME`: the password is `123456`.
const INVENIO: &str = "$pbkdf2-sha512$25000$P2csJcRYCyFkLKW0tjYmxA$snGaGHzRUt.VmZL5iYRfrrD0h9lCgnghFvjkHKU8lpdf6dmkDvrURg5uAfFE7vuiaV454zPJCYmK4R6a69c7YA";
/// EPrints DES crypt of `secret12`.
const EPRINTS_DES: &str = ".S2OVrGQA154k";
/// DSpace SHA-512 of `123456`.
const DSPACE: &str = "dspace:SHA-512:5de48974aa728c3a43d06ca39380a675:de11768260adc5fa083e7587aabef1eba2894baa8cf88bab69d16164ef3ee1a539f10788438d71133aa225c3a76a4229d5c7ada49767014ac9e143bbecd471ac";

async fn gatehouse(legacy: LegacySettings) -> Gatehouse {
    let store = Arc::new(SqliteStore::memory().await.unwrap());
    let settings = Settings {
        password_policy: PasswordPolicy::default(),
        default_type: TypeName::new("user").unwrap(),
        admin_email: Email::new("admin@example.org").unwrap(),
        fixture_passwords: Default::default(),
        legacy,
    };
    Gatehouse::new(store, PolicyConfig::builtin().clone(), settings)
}

fn invenio_salt() -> LegacySettings {
    LegacySettings {
        invenio_password_salt: Some("CHANGE_ME".into()),
        invenio_single_hash: false,
    }
}

fn operator() -> Context {
    Context::operator("tests", Channel::Cli)
}

fn new_user(email: &str, hash: &str) -> CreateUser {
    CreateUser {
        email: Email::new(email).unwrap(),
        username: None,
        full_name: String::new(),
        affiliations: String::new(),
        password: PasswordSource::Hash(PasswordHash::parse(hash).unwrap()),
        active: true,
        confirm: true,
        user_type: None,
        entries: Vec::new(),
    }
}

async fn stored_scheme(gh: &Gatehouse, email: &str) -> Scheme {
    let user = gh
        .show_user(&operator(), &UserRef::Email(email.into()))
        .await
        .unwrap();
    user.password_hash.unwrap().scheme()
}

async fn rehash_events(gh: &Gatehouse) -> Vec<(String, String)> {
    gh.history(&operator(), None, HistoryFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "user.password_rehashed")
        .map(|e| (e.actor, e.target))
        .collect()
}

#[tokio::test]
async fn a_right_password_replaces_the_old_hash_and_a_wrong_one_does_not() {
    let gh = gatehouse(invenio_salt()).await;
    let lifetimes = Lifetimes::default();
    for (email, hash) in [
        ("inv@example.org", INVENIO),
        ("ep@example.org", EPRINTS_DES),
        ("ds@example.org", DSPACE),
    ] {
        gh.create_user(&operator(), new_user(email, hash))
            .await
            .unwrap();
    }
    for (email, from, right) in [
        ("inv@example.org", Scheme::InvenioPbkdf2Sha512, "123456"),
        ("ep@example.org", Scheme::EprintsDes, "secret12"),
        ("ds@example.org", Scheme::DspaceSha512, "123456"),
    ] {
        // Wrong: refused, the old hash stays, no event.
        let wrong = gh.login(email, "not it", &lifetimes, false).await.unwrap();
        assert!(wrong.is_err(), "{email}");
        assert_eq!(stored_scheme(&gh, email).await, from);
        // `authenticate` (the command line's check) changes nothing either.
        assert!(gh.authenticate(email, right).await.unwrap().is_ok());
        assert_eq!(stored_scheme(&gh, email).await, from);
        // Right: a session, and now Argon2id.
        let grant = gh.login(email, right, &lifetimes, true).await.unwrap();
        assert!(grant.is_ok(), "{email}");
        assert_eq!(stored_scheme(&gh, email).await, Scheme::Argon2);
        // The new hash takes the same password, and only that.
        assert!(gh
            .login(email, right, &lifetimes, false)
            .await
            .unwrap()
            .is_ok());
        assert!(gh
            .login(email, "not it", &lifetimes, false)
            .await
            .unwrap()
            .is_err());
    }
    let events = rehash_events(&gh).await;
    assert_eq!(
        events.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
        [
            "password rehashed (from invenio-pbkdf2-sha512)",
            "password rehashed (from eprints-des)",
            "password rehashed (from dspace-sha512)",
        ]
    );
    assert!(events[0].0.contains("inv@example.org"), "{}", events[0].0);
}

#[tokio::test]
async fn a_right_password_on_an_unconfirmed_account_still_replaces_the_hash() {
    let gh = gatehouse(LegacySettings::default()).await;
    let mut u = new_user("un@example.org", EPRINTS_DES);
    u.confirm = false;
    gh.create_user(&operator(), u).await.unwrap();
    let refused = gh
        .login("un@example.org", "secret12", &Lifetimes::default(), false)
        .await
        .unwrap();
    assert!(refused.is_err());
    assert_eq!(stored_scheme(&gh, "un@example.org").await, Scheme::Argon2);
    assert_eq!(rehash_events(&gh).await.len(), 1);
}

#[tokio::test]
async fn hashes_that_cannot_be_used_are_refused_on_the_way_in() {
    // Double-hashed Invenio without the instance's salt: names the key to set.
    let gh = gatehouse(LegacySettings::default()).await;
    let err = gh
        .create_user(&operator(), new_user("a@example.org", INVENIO))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("legacy.invenio_password_salt"), "{err}");

    // Work beyond the limits: rounds and cost, naming the limit.
    let gh = gatehouse(invenio_salt()).await;
    let many_rounds = INVENIO.replace("$25000$", "$2000000$");
    let err = gh
        .create_user(&operator(), new_user("b@example.org", &many_rounds))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("passwords.pbkdf2_max_rounds") && err.contains("2000000"),
        "{err}"
    );
    let costly =
        "?method=4&digest=%242a%2420%24VNNEoqPykl6XYsSUKWtCo.FmHKLzfOnguI5343TBAwJQJCIbsCy6O";
    let err = gh
        .create_user(&operator(), new_user("c@example.org", costly))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("passwords.bcrypt_max_cost"), "{err}");

    // Unreadable values name the scheme they look like, never the value.
    for (value, looks_like) in [
        (
            "$pbkdf2-sha512$025000$P2csJcRYCyFkLKW0tjYmxA$snGa",
            "InvenioRDM",
        ),
        ("?method=9&digest=abc", "EPrints"),
        ("dspace:SHA-512:zz:00", "DSpace"),
        (
            "$2y$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234",
            "bcrypt",
        ),
        ("*LK*", "Argon2"),
    ] {
        let err = PasswordHash::parse(value).unwrap_err().to_string();
        assert!(err.contains(looks_like), "{value}: {err}");
        assert!(!err.contains(value), "{value}: {err}");
    }
}
