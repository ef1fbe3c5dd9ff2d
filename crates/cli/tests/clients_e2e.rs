//! The client packages under `clients/` (issue 13, point 5), each run by its own script
//! against this build's `gatehouse` binary: the Python packages (`gatehouse-client`,
//! `invenio-gatehouse` with the real `invenio-access` and `invenio-records-permissions`
//! from PyPI, in virtual environments the script makes under `target/`) and the Perl
//! distribution with the EPrints hooks (`prove`).
//!
//! They need PyPI and take a few minutes the first time, so they run only when
//! `GATEHOUSE_CLIENTS=1` (`.ci/run` sets it; nothing skips there). Otherwise they say how
//! to run them and pass.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn run_suite(script: &str) {
    if std::env::var("GATEHOUSE_CLIENTS").as_deref() != Ok("1") {
        println!(
            "skipped: set GATEHOUSE_CLIENTS=1 to run {script} (needs python3 with venv and \
             PyPI, or perl with prove)"
        );
        return;
    }
    let root = repo_root();
    let out = Command::new("bash")
        .arg(root.join(script))
        .current_dir(&root)
        .env("GATEHOUSE_BIN", env!("CARGO_BIN_EXE_gatehouse"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[test]
fn python_client_packages_pass_their_suites() {
    run_suite("clients/python/ci.sh");
}

#[test]
fn perl_client_and_eprints_hooks_pass_their_suite() {
    run_suite("clients/perl/ci.sh");
}
