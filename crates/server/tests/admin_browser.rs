//! The admin UI in headless Chromium over WebDriver. Skipped (with a line saying so) when
//! /usr/bin/chromium, /usr/bin/chromedriver or axe-core (`npm ci --prefix tests/browser`) is
//! missing, unless GATEHOUSE_REQUIRE_BROWSER=1.
//!
//! Every page a test visits goes through [`Harness::check`]: axe-core at 1280 and 390 pixels
//! (no serious or critical violation), no sideways scrolling at 360 pixels, and a screenshot
//! at both widths in `target/screenshots/`.
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

/// The approve-hat role of the EPrints seed, pasted into the roles page.
const APPROVE_HAT: &str = "eprint/buffer/view:editor\neprint/buffer/summary:editor\neprint/buffer/details:editor\neprint/buffer/move_archive:editor";

/// Sets a field's value directly (past the browser's own `maxlength`), as a script or an old
/// browser could send it.
async fn force_value(h: &Harness, id: &str, value_js: &str) {
    h.client
        .execute(
            &format!("document.getElementById('{id}').value = {value_js};"),
            vec![],
        )
        .await
        .unwrap();
}

/// The seed's steps as one walk: log in, find a user, create a user, confirm, set a
/// password, give `administration-access` and use the panel with it, create the approve-hat
/// role, give it to a user, add `+eprint/archive/edit:owner` and a `-` entry, set an
/// editor's scope, explain the reviewer moving a buffer item to the archive, deactivate,
/// read the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_steps_as_one_walk() {
    if !browser::available() {
        return;
    }
    let h = Harness::start_with("seed_walk", "roles: {}\n").await;
    h.user("dan@example.org", "user").await;

    // Log in.
    h.visit("/admin/login", "login").await;
    let after = h.login("admin@example.org", PASSWORD).await;
    assert!(after.contains("logged in as admin@example.org"), "{after}");
    h.check("users").await;

    // Find a user.
    h.fill("f-filters-q", "dan").await;
    h.click("form[action='/admin/users'][method=get] button[type=submit]")
        .await;
    let found = h.text().await;
    assert!(
        found.contains("dan@example.org") && found.contains("1–1 of 1 users"),
        "{found}"
    );
    h.check("users-search").await;

    // Create a user (not confirmed, password generated and shown once).
    h.click("a[href='/admin/users/new']").await;
    h.check("new-user").await;
    h.fill("f-create-email", "rev@example.org").await;
    h.fill("f-create-full_name", "Rhea Reviewer").await;
    h.fill("f-create-affiliations", "Law School").await;
    h.tick("f-create-confirm").await;
    h.click("form[action='/admin/users'] button[type=submit]")
        .await;
    assert!(h.text_of("notice").await.contains("created"));
    let generated = h.text_of("generated-password").await;
    assert!(generated.len() >= 12, "{generated}");
    h.check("password-generated").await;
    h.click("a.button[href^='/admin/users/']").await;
    let url = h.client.current_url().await.unwrap();
    let rev: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(h.text_of("state-confirmed").await, "no");
    h.check("user").await;

    // Confirm: the notice is in the account card, and the focus is back on that card.
    h.click("form[action$='/confirm'] button").await;
    assert!(h.text_of("notice").await.contains("is confirmed"));
    assert!(h.text_of("state-confirmed").await.starts_with("yes"));
    assert_eq!(h.focused().await, "account");
    assert!(
        h.has("#account #notice").await,
        "the notice sits in the card that changed"
    );

    // Set a password.
    h.fill("f-password-password", "rhea-password-1").await;
    h.click("form[action$='/password'] button[type=submit]")
        .await;
    assert!(h
        .text_of("notice")
        .await
        .contains("password of rev@example.org set"));

    // Give administration-access on the grants page, which says what it opens.
    h.visit("/admin/grants", "grants").await;
    assert!(h
        .text_of("admin-access-note")
        .await
        .contains("opens every page"));
    h.fill("f-grant-privilege", "administration-access").await;
    h.fill("f-grant-target", "rev@example.org").await;
    h.click("form[action='/admin/grants'] button[type=submit]")
        .await;
    let notice = h.text_of("notice").await;
    assert!(notice.contains("can now read every page"), "{notice}");

    // ... and use the panel with it alone: every page reads, changes are disabled and name
    // the privilege they need.
    h.logout().await;
    let page = h.login("rev@example.org", "rhea-password-1").await;
    assert!(
        page.contains("Users") && !page.contains("Not allowed"),
        "{page}"
    );
    h.check("users-as-reader").await;
    h.goto(&format!("/admin/users/{rev}")).await;
    assert!(h.has("form[action$='/deactivate'] button[disabled]").await);
    assert!(h
        .text()
        .await
        .contains("Needs the privilege user/staff/edit"));
    h.check("user-as-reader").await;
    h.visit("/admin/roles", "roles-as-reader").await;
    assert!(
        h.has("details fieldset[disabled]").await,
        "the role form is disabled"
    );
    h.visit("/admin/grants", "grants-as-reader").await;
    assert!(h.text().await.contains("Needs the privilege config/edit"));
    h.goto("/admin/explain?user=dan%40example.org&privilege=eprint%2Fview")
        .await;
    assert!(!h.text_of("verdict").await.is_empty());
    h.check("explain-as-reader").await;
    h.visit("/admin/history", "history-as-reader").await;
    h.logout().await;
    h.login("admin@example.org", PASSWORD).await;

    // Create the approve-hat role with a pasted list of privileges.
    h.goto("/admin/roles").await;
    h.client
        .find(Locator::Css("details.card summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    h.fill("f-create-name", "approve-hat").await;
    h.fill(
        "f-create-description",
        "Reviewers who move items from the buffer to the archive",
    )
    .await;
    h.fill("f-create-entries", APPROVE_HAT).await;
    h.check("roles-create-open").await;
    h.click("form[action='/admin/roles'] button[type=submit]")
        .await;
    assert!(h
        .text_of("notice")
        .await
        .contains("role approve-hat created"));
    assert!(h
        .text_of("role-description")
        .await
        .contains("Reviewers who move"));
    h.check("role").await;

    // Give it to the user, with `+eprint/archive/edit:owner` and a `-` entry.
    h.goto(&format!("/admin/users/{rev}")).await;
    for entry in [
        "approve-hat",
        "+eprint/archive/edit:owner",
        "-eprint/buffer/details:editor",
    ] {
        h.fill("f-entries-entry", entry).await;
        h.click("form[action$='/add'] button[type=submit]").await;
        let notice = h.text_of("notice").await;
        assert!(
            notice.contains(&format!("added “{entry}”")) || notice.contains(entry),
            "{notice}"
        );
        assert!(h.has("#roles #notice").await);
    }
    let entries = h.text_of("entries").await;
    assert!(entries.contains("approve-hat") && entries.contains("-eprint/buffer/details:editor"));

    // Set an editor's scope.
    h.fill("f-scope-scope", "divisions=law").await;
    h.click("form[action$='/scope'] button[type=submit]").await;
    assert!(h.text_of("notice").await.contains("editorial scope"));
    h.check("user-with-roles").await;

    // Explain the reviewer moving a buffer item (of the law division) to the archive.
    h.goto("/admin/explain").await;
    h.fill("f-explain-user", "rev@example.org").await;
    h.fill("f-explain-privilege", "eprint/move_archive").await;
    h.fill("f-explain-dataset", "eprint").await;
    h.choose("f-explain-status", "buffer").await;
    h.fill("f-explain-fields", "divisions=law").await;
    h.click("form[action='/admin/explain'] button[type=submit]")
        .await;
    assert_eq!(h.text_of("verdict").await, "Allowed");
    assert!(h.text_of("bit-editor").await.contains("yes"));
    assert!(h.text_of("mask").await.contains("8 = editor"));
    assert!(h.text_of("walk").await.contains("approve-hat"));
    h.check("explain-allowed").await;
    // The `-` entry shows in the walk of the privilege it removes.
    h.fill("f-explain-privilege", "eprint/details").await;
    h.click("form[action='/admin/explain'] button[type=submit]")
        .await;
    let walk = h.text_of("walk").await;
    assert!(walk.contains("-eprint/buffer/details:editor"), "{walk}");
    assert_eq!(h.text_of("verdict").await, "Denied");
    h.check("explain-removed").await;

    // Deactivate.
    h.goto(&format!("/admin/users/{rev}")).await;
    h.click("form[action$='/deactivate'] button").await;
    assert!(h.text_of("notice").await.contains("is deactivated"));
    assert_eq!(h.text_of("state-active").await, "no");

    // Read the history of this user.
    h.click(&format!("a[href='/admin/history?user={rev}']"))
        .await;
    let history = h.text().await;
    for kind in [
        "user.create",
        "user.confirm",
        "user.set_password",
        "user.deactivate",
    ] {
        assert!(
            history.contains(kind),
            "{kind} missing from the history: {history}"
        );
    }
    h.check("history-of-user").await;
    h.finish().await;
}

/// The pages the walk does not reach, each checked at both widths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_other_page_at_both_widths() {
    if !browser::available() {
        return;
    }
    let h = Harness::start("pages").await;
    let ann = h.user("ann@example.org", "editor").await;
    h.login("admin@example.org", PASSWORD).await;

    h.visit(&format!("/admin/users/{ann}/effective"), "effective")
        .await;
    assert!(h.text().await.contains("Held privileges"));
    h.visit("/admin/types", "types").await;
    assert!(h.text().await.contains("What a user of this type holds"));
    h.visit(
        "/admin/holders?privilege=eprint%2Fbuffer%2Fview",
        "holders-privilege",
    )
    .await;
    assert!(h.text().await.contains("By user type"));
    h.visit("/admin/holders?role=approve-hat", "holders-role")
        .await;
    assert!(h.text().await.contains("User types that include it"));
    h.visit("/admin/roles/approve-hat", "role-from-file").await;
    h.visit("/admin/history", "history").await;
    h.visit("/admin/users?sort=-email&size=10", "users-sorted")
        .await;
    assert!(h.has("th[aria-sort=descending]").await);

    // Service tokens: the token is shown once.
    h.visit("/admin/tokens", "tokens").await;
    h.fill("f-create-name", "repository").await;
    h.fill("f-create-privileges", "check/any").await;
    h.click("form[action='/admin/tokens'] button[type=submit]")
        .await;
    assert!(h.text_of("service-token").await.len() > 20);
    h.check("token-created").await;
    h.goto("/admin/tokens").await;
    h.click("form[action='/admin/tokens/repository/revoke'] button")
        .await;
    assert!(h.text_of("notice").await.contains("revoked"));

    // Not found and bad addresses answer in the panel's layout.
    h.visit("/admin/users/abc", "bad-id").await;
    assert!(h.text().await.contains("is not a user id"));
    h.visit("/admin/users/999999", "no-such-user").await;
    assert!(h.text().await.contains("not found"));
    h.visit("/admin/nowhere", "no-such-page").await;
    h.visit("/admin/users?page=zero", "bad-page").await;
    assert!(h.text().await.contains("is not a page number"));

    // Delete: a confirmation step that names the user.
    h.visit(&format!("/admin/users/{ann}/delete"), "delete-confirm")
        .await;
    assert!(h
        .text()
        .await
        .contains("Delete the account ann@example.org"));
    h.click(&format!("form[action='/admin/users/{ann}/delete'] button"))
        .await;
    assert!(h.text_of("notice").await.contains("deleted"));
    assert!(h
        .gh()
        .show_user(&operator(), &UserRef::Id(UserId(ann)))
        .await
        .is_err());
    h.finish().await;
}

/// Each bulk action on selected users, at both widths.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_on_selected_users() {
    if !browser::available() {
        return;
    }
    let h = Harness::start("bulk").await;
    let a = h.user("bulk-a@example.org", "user").await;
    let b = h.user("bulk-b@example.org", "user").await;
    let c = h.user("bulk-c@example.org", "user").await;
    h.login("admin@example.org", PASSWORD).await;
    let ops = operator();
    for (action, entry) in [
        ("deactivate", ""),
        ("activate", ""),
        ("add", "approve-hat"),
        ("remove", "approve-hat"),
        ("confirm", ""),
    ] {
        h.goto("/admin/users?q=bulk").await;
        h.tick(&format!("sel-{a}")).await;
        h.tick(&format!("sel-{b}")).await;
        h.choose("f-bulk-action", action).await;
        if !entry.is_empty() {
            h.fill("f-bulk-entry", entry).await;
        }
        h.check(&format!("bulk-{action}-form")).await;
        h.click("#bulk button[type=submit]").await;
        let notice = h.text_of("notice").await;
        assert!(
            notice.contains("of the 2 selected users changed"),
            "{action}: {notice}"
        );
        h.check(&format!("bulk-{action}-done")).await;
        let ua = h
            .gh()
            .show_user(&ops, &UserRef::Id(UserId(a)))
            .await
            .unwrap();
        let uc = h
            .gh()
            .show_user(&ops, &UserRef::Id(UserId(c)))
            .await
            .unwrap();
        match action {
            "deactivate" => assert!(!ua.active && uc.active),
            "activate" => assert!(ua.active),
            "add" => assert!(ua.entries.iter().any(|e| e.to_string() == "approve-hat")),
            "remove" => assert!(ua.entries.is_empty()),
            _ => assert!(ua.confirmed()),
        }
        assert!(
            uc.entries.is_empty() && uc.active,
            "an unselected user is untouched"
        );
    }
    // Nothing selected: the refusal is on the page, by the form.
    h.goto("/admin/users?q=bulk").await;
    h.click("#bulk button[type=submit]").await;
    assert!(h.text().await.contains("select at least one user"));
    h.check("bulk-nothing-selected").await;
    h.finish().await;
}

/// A refused form comes back filled in, with the error by its field and the focus on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_input_stays_with_its_error() {
    if !browser::available() {
        return;
    }
    let h = Harness::start("refused_input").await;
    let gus = h.user("gus@example.org", "user").await;
    h.login("admin@example.org", PASSWORD).await;

    // A 10,000-character name: refused by the server (the browser's maxlength is bypassed).
    h.goto(&format!("/admin/users/{gus}")).await;
    force_value(&h, "f-profile-full_name", "'x'.repeat(10000)").await;
    h.click("form[action$='/profile'] button[type=submit]")
        .await;
    let page = h.text().await;
    assert!(page.contains("more than the 255 allowed"), "{page}");
    assert_eq!(h.value_of("f-profile-full_name").await.len(), 10_000);
    assert_eq!(h.focused().await, "f-profile-full_name");
    h.check("profile-too-long").await;

    // A pasted list of privileges with one bad line: the role form stays open and filled.
    h.goto("/admin/roles").await;
    h.client
        .find(Locator::Css("details.card summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    h.fill("f-create-name", "reviewers").await;
    h.fill(
        "f-create-entries",
        "eprint/view\nbad privilege\neprint/edit",
    )
    .await;
    h.click("form[action='/admin/roles'] button[type=submit]")
        .await;
    assert!(h.has("details.card[open]").await);
    assert_eq!(
        h.value_of("f-create-entries").await,
        "eprint/view\nbad privilege\neprint/edit"
    );
    assert_eq!(h.value_of("f-create-name").await, "reviewers");
    assert!(h.text().await.contains("bad privilege"));
    h.check("role-refused").await;

    // A user that exists already: the create form keeps what was typed.
    h.goto("/admin/users/new").await;
    h.fill("f-create-email", "gus@example.org").await;
    h.fill("f-create-full_name", "Second Gus").await;
    h.click("form[action='/admin/users'] button[type=submit]")
        .await;
    assert_eq!(h.value_of("f-create-full_name").await, "Second Gus");
    assert!(h.text().await.contains("gus@example.org"));
    h.check("create-refused").await;

    // A status the dataset does not know cannot be chosen, and one typed into the address
    // is refused by name.
    h.goto(
        "/admin/explain?user=gus%40example.org&privilege=eprint%2Fview&dataset=eprint&status=limbo",
    )
    .await;
    let page = h.text().await;
    assert!(
        page.contains("“limbo” is not a status of dataset “eprint”"),
        "{page}"
    );
    h.check("explain-refused").await;
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
    h.check("login-refused").await;
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
    h.visit("/admin/grants", "refused").await;
    assert!(h.text().await.contains("Not allowed"));
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
    h.check("csrf-refused").await;
    let u = h
        .gh()
        .show_user(&operator(), &UserRef::Id(UserId(fay)))
        .await
        .unwrap();
    assert!(u.active, "nothing changed");
    h.finish().await;
}

/// Issue 14, point 7: the admin UI's client pages and the consent page, in the browser. An
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
    h.fill("f-register-name", "Reading room").await;
    let redirect = format!("{}/healthz", h.base);
    h.fill("f-register-redirect_uris", &redirect).await;
    h.check("clients-form").await;
    h.click("form[action='/admin/clients'] button[type=submit]")
        .await;
    assert!(h.text_of("notice").await.contains("registered"));
    let client_id = h.text_of("client-id").await;
    let first_secret = h.text_of("client-secret").await;
    assert!(!first_secret.is_empty());
    h.check("client-registered").await;
    h.visit("/admin/clients", "clients").await;
    assert!(h.text().await.contains("Reading room"));
    // The client's page, and a new secret shown once.
    h.visit(&format!("/admin/clients/{client_id}"), "client")
        .await;
    h.click("form[action$='/rotate-secret'] button").await;
    let second_secret = h.text_of("client-secret").await;
    assert!(!second_secret.is_empty() && second_secret != first_secret);
    h.check("client-new-secret").await;
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
    h.check("oidc-login").await;
    h.fill("f-login", "reader@example.org").await;
    h.fill("f-password", PASSWORD).await;
    h.click("form[action='/oauth/login'] button[type=submit]")
        .await;
    let consent = h.text().await;
    assert!(
        consent.contains("Allow access?") && consent.contains("Reading room"),
        "{consent}"
    );
    h.check("oidc-consent").await;
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

    // Back to the administrator: the client's page lists the remembered consent, and
    // forgetting it empties the list (the user is asked again next time).
    h.login("admin@example.org", PASSWORD).await;
    h.visit(&format!("/admin/clients/{client_id}"), "client-consents")
        .await;
    let card = h.text_of("consents").await;
    assert!(
        card.contains("reader@example.org") && card.contains("openid email"),
        "{card}"
    );
    h.click("form[action$='/forget-consent'] button.danger")
        .await;
    assert!(
        h.text_of("notice").await.contains("1 consent forgotten"),
        "{}",
        h.text().await
    );
    assert!(h
        .text_of("consents")
        .await
        .contains("No user has a remembered consent"));
    h.check("client-consent-forgotten").await;
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
