//! The admin UI in headless Chromium over WebDriver. Skipped (with a line saying so) when
//! /usr/bin/chromium or /usr/bin/chromedriver is missing, unless GATEHOUSE_REQUIRE_BROWSER=1.
//! Every test leaves a screenshot under `target/screenshots/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod browser;
mod common;

use browser::{Harness, PASSWORD};
use fantoccini::Locator;
use gatehouse_core::{Channel, Context, UserRef};
use gatehouse_policy::UserId;

fn operator() -> Context {
    Context::operator("tests", Channel::Cli)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_creates_a_user_gives_roles_and_explains() {
    if !browser::available() {
        return;
    }
    let h = Harness::start("admin_creates_a_user_gives_roles_and_explains").await;
    let after = h.login("admin@example.org", PASSWORD).await;
    assert!(after.contains("logged in as admin@example.org"), "{after}");
    h.screenshot("_users").await;

    // Create a user.
    h.click("a[href='/admin/users/new']").await;
    h.fill("f-email", "carol@example.org").await;
    h.fill("f-full_name", "Carol Reviewer").await;
    h.fill("f-affiliations", "Law School").await;
    h.fill("f-password", "carol-password-1").await;
    h.click("form[action='/admin/users'] button[type=submit]")
        .await;
    let notice = h.text_of("notice").await;
    assert!(
        notice.contains("carol@example.org") && notice.contains("created"),
        "{notice}"
    );
    let url = h.client.current_url().await.unwrap();
    let id: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();

    // Give it the approve-hat role and a `+eprint/archive/edit:owner` entry.
    h.fill("f-entry", "approve-hat").await;
    h.click("form[action$='/add'] button[type=submit]").await;
    assert!(h.text_of("notice").await.contains("added `approve-hat`"));
    h.fill("f-entry", "+eprint/archive/edit:owner").await;
    h.click("form[action$='/add'] button[type=submit]").await;
    assert!(h
        .text_of("notice")
        .await
        .contains("added `+eprint/archive/edit:owner`"));
    let entries = h.text_of("entries").await;
    assert!(entries.contains("approve-hat") && entries.contains("+eprint/archive/edit:owner"));
    h.screenshot("_user_page").await;
    h.window(400, 1400).await;
    h.screenshot("_user_page_phone").await;
    h.window(1280, 1000).await;

    // Explain: move_archive on a buffer item in scope is allowed as editor; edit is denied.
    h.goto(&format!(
        "/admin/explain?user={id}&privilege=eprint%2Fmove_archive&dataset=eprint&status=buffer"
    ))
    .await;
    assert_eq!(h.text_of("verdict").await, "Allowed");
    assert!(h.text_of("bit-editor").await.contains("yes"));
    assert!(h.text_of("bit-user").await.contains("no"));
    assert!(h.text_of("reasons").await.contains("approve-hat"));
    h.screenshot("_explain_allowed").await;

    // The same through the form: change the privilege and submit.
    h.fill("f-privilege", "eprint/edit").await;
    h.click("form[action='/admin/explain'] button[type=submit]")
        .await;
    assert_eq!(h.text_of("verdict").await, "Denied");
    h.screenshot("_explain_denied").await;
    h.window(400, 1200).await;
    h.screenshot("_explain_phone").await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_cannot_log_in() {
    if !browser::available() {
        return;
    }
    let h = Harness::start("a_deactivated_user_cannot_log_in").await;
    let dan = h.user("dan@example.org", "user").await;
    h.login("admin@example.org", PASSWORD).await;
    h.goto(&format!("/admin/users/{dan}")).await;
    assert_eq!(h.text_of("state-active").await, "yes");
    h.click("form[action$='/deactivate'] button").await;
    assert!(h.text_of("notice").await.contains("is deactivated"));
    assert_eq!(h.text_of("state-active").await, "no");
    let u = h
        .gh()
        .show_user(&operator(), &UserRef::Id(UserId(dan)))
        .await
        .unwrap();
    assert!(!u.active);
    h.logout().await;
    assert!(h.text_of("notice").await.contains("logged out"));
    let page = h.login("dan@example.org", PASSWORD).await;
    assert!(page.contains("account is disabled"), "{page}");
    h.screenshot("").await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_administration_access_is_refused() {
    if !browser::available() {
        return;
    }
    let h = Harness::start("a_user_without_administration_access_is_refused").await;
    h.user("eve@example.org", "user").await;
    let page = h.login("eve@example.org", PASSWORD).await;
    assert!(page.contains("Not allowed"), "{page}");
    assert!(page.contains("administration-access"));
    h.goto("/admin/grants").await;
    assert!(h.text().await.contains("Not allowed"));
    h.screenshot("").await;
    // Anonymous visitors get the log in page.
    h.logout().await;
    h.goto("/admin/users").await;
    let url = h.client.current_url().await.unwrap();
    assert_eq!(url.path(), "/admin/login");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_without_its_csrf_token_is_rejected() {
    if !browser::available() {
        return;
    }
    let h = Harness::start("a_form_without_its_csrf_token_is_rejected").await;
    let fay = h.user("fay@example.org", "user").await;
    h.login("admin@example.org", PASSWORD).await;
    h.goto(&format!("/admin/users/{fay}")).await;
    // Take the hidden token out of the deactivate form, as a forged form would lack it.
    let hidden = h
        .client
        .find(Locator::Css("form[action$='/deactivate'] input[name=csrf]"))
        .await
        .unwrap();
    h.client
        .execute(
            "arguments[0].remove();",
            vec![serde_json::to_value(&hidden).unwrap()],
        )
        .await
        .unwrap();
    h.click("form[action$='/deactivate'] button").await;
    let page = h.text().await;
    assert!(page.contains("Form refused"), "{page}");
    assert!(page.contains("security token"));
    h.screenshot("").await;
    let u = h
        .gh()
        .show_user(&operator(), &UserRef::Id(UserId(fay)))
        .await
        .unwrap();
    assert!(u.active, "nothing changed");
    h.finish().await;
}

/// Issue 14, point 7: the admin UI's client page and the consent page, in the browser. An
/// administrator registers a third-party client; a user then logs in through
/// `/oauth/authorize` on Gatehouse's own log in page, is asked for consent, allows, and is
/// sent back to the registered redirect URI with a code, the state and the issuer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_registers_a_client_and_a_user_consents() {
    if !browser::available() {
        return;
    }
    let h = Harness::start("admin_registers_a_client_and_a_user_consents").await;
    h.user("reader@example.org", "user").await;
    h.login("admin@example.org", PASSWORD).await;
    h.goto("/admin/clients").await;
    h.client
        .find(Locator::Css("details.card summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    h.fill("f-name", "Reading room").await;
    let redirect = format!("{}/healthz", h.base);
    h.fill("f-redirect", &redirect).await;
    h.screenshot("_clients_form").await;
    h.click("form[action='/admin/clients'] button[type=submit]")
        .await;
    assert!(h.text_of("notice").await.contains("registered"));
    let client_id = h.text_of("client-id").await;
    assert!(!h.text_of("client-secret").await.is_empty());
    h.screenshot("_client_registered").await;
    h.window(390, 1000).await;
    h.screenshot("_client_registered_phone").await;
    h.window(1280, 1000).await;
    h.goto("/admin/clients").await;
    assert!(h.text().await.contains("Reading room"));
    h.screenshot("_clients").await;
    h.logout().await;

    // The user's side: authorize -> Gatehouse's log in page -> consent -> back with a code.
    h.goto(&format!(
        "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}\
         &scope=openid%20email&state=s-123&nonce=n-456",
        urlencode(&redirect)
    ))
    .await;
    h.client
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Id("f-login"))
        .await
        .unwrap();
    h.screenshot("_login").await;
    h.fill("f-login", "reader@example.org").await;
    h.fill("f-password", PASSWORD).await;
    h.click("form[action='/oauth/login'] button[type=submit]")
        .await;
    let consent = h.text().await;
    assert!(
        consent.contains("Allow access?") && consent.contains("Reading room"),
        "{consent}"
    );
    h.screenshot("_consent").await;
    h.window(390, 1000).await;
    h.screenshot("_consent_phone").await;
    h.window(1280, 1000).await;
    h.client
        .find(Locator::Css("button[name=decision][value=allow]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let mut landed = None;
    for _ in 0..200 {
        let url = h.client.current_url().await.unwrap();
        if url.path() == "/healthz" {
            landed = Some(url);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let url = landed.expect("sent back to the redirect URI");
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert!(query.get("code").is_some_and(|c| !c.is_empty()), "{url}");
    assert_eq!(
        query.get("state").map(String::as_str),
        Some("s-123"),
        "{url}"
    );
    assert!(query.contains_key("iss"), "{url}");
    h.finish().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
