//! Every known-answer vector in `tests/data/legacy/vectors.json` (made by the platforms' own
//! libraries, see the README there): matching and non-matching passwords, refusals and
//! malformed values, verified as the platform verifies them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gatehouse_core::legacy::{scheme_of, verify_legacy, EprintsInput, LegacySettings, Scheme};
use gatehouse_core::{HashLimits, PasswordHash, Verified};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/legacy/vectors.json"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v.as_array().unwrap().clone()
}

fn settings(params: &Value) -> LegacySettings {
    LegacySettings {
        invenio_password_salt: params["invenio_password_salt"].as_str().map(str::to_owned),
        invenio_single_hash: params["single_hash"].as_bool().unwrap_or(false),
    }
}

fn input(params: &Value) -> EprintsInput {
    match params["eprints_input"].as_str() {
        Some("basic_auth") => EprintsInput::Bytes,
        _ => EprintsInput::Form,
    }
}

fn expected_scheme(name: &str) -> Scheme {
    match name {
        "pbkdf2-sha512" | "invenio-single" => Scheme::InvenioPbkdf2Sha512,
        "invenio-aes-encrypted-email" => Scheme::InvenioAesEncryptedEmail,
        other => other.parse().unwrap(),
    }
}

/// Runs `check` on every vector on a few threads (a debug build computes 25,000 PBKDF2
/// rounds slowly), and fails listing every vector that disagrees.
fn each_vector(check: impl Fn(&Value) -> Option<String> + Sync) {
    let all = vectors();
    assert!(all.len() >= 122, "{} vectors", all.len());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = all.len().div_ceil(threads);
    let failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = all
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().filter_map(&check).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_vector_gives_the_platforms_answer() {
    each_vector(|v| {
        let stored = v["stored"].as_str().unwrap();
        let password = v["password"].as_str().unwrap();
        let params = &v["params"];
        let want = v["matches"].as_bool().unwrap();
        let got = verify_legacy(stored, password, &settings(params), input(params));
        (got != want).then(|| format!("{} ({}): got {got}, want {want}", v["note"], v["scheme"]))
    });
}

#[test]
fn every_readable_vector_has_its_scheme_and_malformed_ones_are_refused() {
    each_vector(|v| {
        let stored = v["stored"].as_str().unwrap();
        let params = &v["params"];
        let malformed = params.get("verifier_raised").is_some() || stored == "*LK*";
        let note = &v["note"];
        match (scheme_of(stored), malformed) {
            (Ok(s), false) if s == expected_scheme(v["scheme"].as_str().unwrap()) => None,
            (Ok(s), false) => Some(format!("{note}: scheme {s}")),
            (Ok(s), true) => Some(format!("{note}: malformed, but read as {s}")),
            (Err(_), true) => None,
            (Err(e), false) => {
                // An upper-case EPrints digest never matches there: refused here.
                (v["matches"] == true).then(|| format!("{note}: refused: {e}"))
            }
        }
    });
}

#[test]
fn a_log_in_accepts_either_eprints_path() {
    // Stored through the web form (Latin-1 bytes), and stored from UTF-8 bytes (epadmin):
    // a Gatehouse log in accepts the password for both, as EPrints does on one of its paths.
    let latin1 = "7rolasjhUII/Q";
    let utf8 = "MxvnkzdJeOem6";
    let none = LegacySettings::default();
    for stored in [latin1, utf8] {
        assert!(verify_legacy(
            stored,
            "pässwörd",
            &none,
            EprintsInput::Either
        ));
        let h = PasswordHash::parse(stored).unwrap();
        assert_eq!(
            h.verify_with("pässwörd", &HashLimits::default(), &none),
            Verified::Match
        );
        assert_eq!(
            h.verify_with("passwort", &HashLimits::default(), &none),
            Verified::Mismatch
        );
    }
    assert!(!verify_legacy(
        latin1,
        "pässwörd",
        &none,
        EprintsInput::Bytes
    ));
    assert!(!verify_legacy(utf8, "pässwörd", &none, EprintsInput::Form));
}
