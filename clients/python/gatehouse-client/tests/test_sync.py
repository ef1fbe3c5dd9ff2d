"""The synchronous client against a real server. Expected answers come from the server's own
`/api/check`, never from tables written here."""

from __future__ import annotations

import email.utils
import signal
import time
import uuid
from typing import Any, Dict, List

import httpx
import pytest

from gatehouse_client import (
    BadRequest,
    Client,
    Conflict,
    Decision,
    Forbidden,
    GatehouseError,
    NotFound,
    RetryPolicy,
    ServiceUnavailable,
    TooManyRequests,
    TransportError,
    Unauthorized,
    ValidationError,
    az_resource,
    az_subject,
)
from gatehouse_client.testing import GatehouseServer

from conftest import ADMIN, SAMPLE_PASSWORDS, item_universe

PRIVILEGES = ["eprint/view", "eprint/edit", "eprint/move_archive", "eprint/details"]


def batched_checks(gh: Client, checks: List[Dict[str, Any]]) -> List[Decision]:
    out: List[Decision] = []
    for i in range(0, len(checks), 1000):
        res = gh.check_batch(checks[i : i + 1000])
        for r in res:
            assert isinstance(r, Decision), r
        out.extend(res)
    return out


# --- session ----------------------------------------------------------------------------------


def test_login_me_logout(server: GatehouseServer) -> None:
    with Client(server.url) as gh:
        login = gh.login(email="depositor@example.org", password=SAMPLE_PASSWORDS["depositor@example.org"])
        assert login.user.email == "depositor@example.org"
        assert gh.token == login.token and len(login.token) > 16
        assert gh.me()["user"]["id"] == login.user.id
        # Asks about itself without naming a user.
        mine = gh.check("eprint/view", item={"dataset": "eprint", "status": "inbox", "owners": [login.user.id]})
        assert mine.owner and mine.allowed
        gh.logout()
        assert gh.token is None
        gh.token = login.token  # the ended token is refused from now on
        with pytest.raises(Unauthorized) as e:
            gh.me()
        assert e.value.status == 401 and e.value.code == "unauthorized"


def test_login_refusals(server: GatehouseServer, admin: Client) -> None:
    with Client(server.url) as gh:
        with pytest.raises(Unauthorized) as e:
            gh.login(email="depositor@example.org", password="not-the-password")
        assert e.value.code == "invalid_credentials" and e.value.message
        email = f"unconfirmed-{uuid.uuid4().hex[:8]}@example.org"
        admin.create_user(email, password="password-123", active=True, confirm=False)
        with pytest.raises(Forbidden) as e2:
            gh.login(email=email, password="password-123")
        assert e2.value.code == "email_unconfirmed"
        with pytest.raises(ValueError):
            gh.login(password="x")


def test_throttled_login_is_429_with_retry_after(server: GatehouseServer) -> None:
    """A server of its own with a small per-account burst: failed log ins end in 429 with
    Retry-After, which the client raises (it never retries a 429)."""
    assert server.binary
    with GatehouseServer(server.binary, app_data=server.app_data_source, env={"GATEHOUSE_THROTTLE__ACCOUNT_BURST": "2"}) as small:
        with Client(small.url) as gh:
            seen = []
            for _ in range(8):
                try:
                    gh.login(email="depositor@example.org", password="wrong-password")
                except TooManyRequests as e:
                    seen.append(e)
                    break
                except Unauthorized as e:
                    assert e.code == "invalid_credentials"
            assert seen, "no 429 after 8 failed log ins"
            err = seen[0]
            assert err.status == 429 and err.code == "too_many_requests"
            assert err.retry_after is not None and err.retry_after >= 1


# --- check, batch, AuthZEN agree ---------------------------------------------------------------


def test_check_batch_and_authzen_agree(admin: Client, users: List[Dict[str, Any]]) -> None:
    items = item_universe(users)[::7]
    checks = [
        {"user": u["email"], "privilege": p, "item": it}
        for u in users
        for p in PRIVILEGES[:2]
        for it in items
    ]
    batch = batched_checks(admin, checks)
    assert {d.allowed for d in batch} == {True, False}, "the table must hold both answers"
    singles = [admin.check(c["privilege"], user=c["user"], item=c["item"]) for c in checks[:60]]
    assert [d.mask for d in singles] == [d.mask for d in batch[:60]]
    for d in batch:
        assert d.allowed == (d.mask != 0) == bool(d)
        assert d.mask == (1 if d.public else 0) | (2 if d.user else 0) | (4 if d.owner else 0) | (8 if d.editor else 0)
    # AuthZEN: one evaluation each, and one batch with top-level defaults.
    for c, d in list(zip(checks, batch))[:40]:
        az = admin.evaluation(az_subject(c["user"]), {"name": c["privilege"]}, az_resource(c["item"], "7"))
        assert az.decision == d.allowed and az.mask == d.mask
    sample = list(zip(checks, batch))[:120]
    many = admin.evaluations(
        [{"subject": az_subject(c["user"]), "resource": az_resource(c["item"], str(i))} for i, (c, _) in enumerate(sample)],
        action={"name": "eprint/view"},
    )
    expected = [admin.check("eprint/view", user=c["user"], item=c["item"]).mask for c, _ in sample]
    assert [a.mask for a in many] == expected


def test_batch_element_error_and_anonymous(admin: Client) -> None:
    res = admin.check_batch(
        [
            {"user": "nobody@example.org", "privilege": "eprint/view"},
            {"anonymous": True, "privilege": "eprint/view", "item": {"dataset": "eprint", "status": "archive"}},
        ]
    )
    assert isinstance(res[0], NotFound) and res[0].code == "not_found"
    anon = admin.check("eprint/view", anonymous=True, item={"dataset": "eprint", "status": "archive"})
    assert isinstance(res[1], Decision) and res[1].mask == anon.mask
    az = admin.evaluation(az_subject(None), {"name": "eprint/view"}, az_resource({"dataset": "eprint", "status": "archive"}))
    assert az.decision == anon.allowed


def test_authzen_semantics_and_discovery(admin: Client, users: List[Dict[str, Any]]) -> None:
    dep = next(u for u in users if u["email"] == "depositor@example.org")
    own = {"dataset": "eprint", "status": "inbox", "owners": [dep["id"]]}
    other = {"dataset": "eprint", "status": "inbox", "owners": []}
    first = admin.check("eprint/view", user=dep["id"], item=other).allowed
    all_ = admin.evaluations(
        [{"resource": az_resource(other, "1")}, {"resource": az_resource(own, "2")}],
        subject=az_subject(dep["email"]),
        action={"name": "eprint/view"},
    )
    stop = admin.evaluations(
        [{"resource": az_resource(other, "1")}, {"resource": az_resource(own, "2")}],
        subject=az_subject(dep["email"]),
        action={"name": "eprint/view"},
        semantic="deny_on_first_deny",
    )
    assert all_[0].decision == first
    assert first is False, "the scenario needs a deny first"
    assert [a.decision for a in all_] == [first, admin.check("eprint/view", user=dep["id"], item=own).allowed]
    # AuthZEN 1.0: evaluation stops at the first deny.
    assert len(stop) == 1 and stop[0].decision is False
    conf = admin.authzen_configuration()
    assert conf["access_evaluation_endpoint"].endswith("/access/v1/evaluation")
    assert conf["access_evaluations_endpoint"].endswith("/access/v1/evaluations")


# --- effective and its ETag ---------------------------------------------------------------------


def test_effective_etag_304_and_change(server: GatehouseServer, admin: Client) -> None:
    email = f"etag-{uuid.uuid4().hex[:8]}@example.org"
    admin.create_user(email, password="password-123", active=True, confirm=True, user_type="user")
    with Client(server.url, token=admin.token) as gh:
        first = gh.effective(email)
        assert first.email == email and first.etag == f'"{first.generation}"'
        assert (gh.effective_cache.hits, gh.effective_cache.misses) == (0, 1)
        again = gh.effective(email)
        assert again is first, "a 304 returns the cached object"
        assert (gh.effective_cache.hits, gh.effective_cache.misses) == (1, 1)
        # The same revalidation by hand: the server really answers 304 with the ETag.
        raw = httpx.get(
            f"{server.url}/api/users/{email}/effective",
            headers={"Authorization": f"Bearer {admin.token}", "If-None-Match": first.etag or ""},
        )
        assert raw.status_code == 304 and raw.headers["etag"] == first.etag and raw.content == b""
        # A change to the user changes the generation: a full answer, then 304 again.
        admin.add_entry(email, "editor")
        changed = gh.effective(email)
        assert changed is not first and changed.generation != first.generation
        assert "editor" in changed.entries and "editor" in changed.roles
        assert set(changed.privileges) > set(first.privileges)
        assert gh.effective(email) is changed
        assert (gh.effective_cache.hits, gh.effective_cache.misses) == (2, 2)
        # Deactivation changes it too, and is visible.
        admin.deactivate(email)
        inactive = gh.effective(email)
        assert inactive.generation != changed.generation and inactive.active is False
        # Without the cache: always a full answer.
        assert gh.effective(email, use_cache=False) is not inactive


def test_effective_generation_follows_grants_and_policy_reload(server: GatehouseServer, admin: Client) -> None:
    email = f"reload-{uuid.uuid4().hex[:8]}@example.org"
    admin.create_user(email, password="password-123", active=True, confirm=True, user_type="user")
    with Client(server.url, token=admin.token) as gh:
        before = gh.effective(email)
        # A grant to the user.
        admin.grant("allow", "eprint/archive/issues:owner", kind="user", name=email)
        granted = gh.effective(email)
        assert granted.generation != before.generation
        assert "eprint/archive/issues:owner" in granted.privileges
        admin.remove_grant("eprint/archive/issues:owner", kind="user", name=email)
        revoked = gh.effective(email)
        assert revoked.generation not in (before.generation, granted.generation)
        assert "eprint/archive/issues:owner" not in revoked.privileges
        # A policy reload (SIGHUP) that changes the `user` type.
        assert server.dir is not None and server.proc is not None
        policy = server.dir / "app_data" / "user_roles.yaml"
        text = policy.read_text()
        assert "+eprint/archive/edit:owner]" in text
        policy.write_text(text.replace("+eprint/archive/edit:owner]", "+eprint/archive/edit:owner, +eprint/archive/issues:owner]"))
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        reloaded = gh.effective(email)
        while reloaded is revoked and time.monotonic() < deadline:
            time.sleep(0.1)
            reloaded = gh.effective(email)
        assert reloaded.generation != revoked.generation, "a policy reload changes the generation"
        assert "eprint/archive/issues:owner" in reloaded.privileges
        assert "+eprint/archive/issues:owner" in reloaded.type_entries


def test_effective_revalidation_is_authorized(server: GatehouseServer, admin: Client) -> None:
    """A matching If-None-Match is no way round authorization: 403, never 304."""
    tag = admin.effective("editor.law@example.org").etag
    assert tag
    with Client(server.url) as dep:
        dep.login(email="depositor@example.org", password=SAMPLE_PASSWORDS["depositor@example.org"])
        for inm in (tag, "*"):
            raw = httpx.get(
                f"{server.url}/api/users/editor.law@example.org/effective",
                headers={"Authorization": f"Bearer {dep.token}", "If-None-Match": inm},
            )
            assert raw.status_code == 403 and raw.json()["error"]["code"] == "forbidden"
        dep.logout()


def test_effective_matches_check(admin: Client, users: List[Dict[str, Any]]) -> None:
    """Every plain privilege string in the effective set is allowed by /api/check without an
    item (bit 2), for active non-superusers."""
    for u in users:
        eff = admin.effective(u["email"])
        if not eff.active or eff.superuser:
            continue
        plain = [p for p in eff.privileges if ":" not in p][:40]
        decisions = batched_checks(admin, [{"user": u["id"], "privilege": p} for p in plain])
        assert all(d.user for d in decisions), (u, [p for p, d in zip(plain, decisions) if not d.user])


# --- who-can --------------------------------------------------------------------------------------


def test_who_can_expand_paging_agrees_with_check(admin: Client, users: List[Dict[str, Any]]) -> None:
    items = [None] + item_universe(users)[::11]
    # Everybody now on the server (other tests add users too).
    users = [{"id": u.id, "email": u.email} for u in admin.iter_users(page_size=50)]
    seen_multi_page = False
    for privilege in PRIVILEGES:
        for item in items:
            pages = []
            after = None
            while True:
                wc = admin.who_can(privilege, item=item, expand_users=True, after=after, limit=2)
                assert wc.privilege == privilege and wc.admitted is not None
                assert len(wc.admitted.items) <= 2
                pages.append(wc.admitted.items)
                if wc.admitted.next is None:
                    break
                assert wc.admitted.next == wc.admitted.items[-1].id
                after = wc.admitted.next
            seen_multi_page |= len(pages) > 2
            paged = [a for page in pages for a in page]
            assert [a.id for a in paged] == sorted({a.id for a in paged}), "ids ascend, no repeats"
            helper = list(admin.iter_who_can_users(privilege, item=item, page_size=3))
            assert [(a.id, a.mask) for a in helper] == [(a.id, a.mask) for a in paged]
            checks = [{"user": u["id"], "privilege": privilege} for u in users]
            if item is not None:
                for ch in checks:
                    ch["item"] = item
            decisions = batched_checks(admin, checks)
            expected = {u["id"]: d.mask for u, d in zip(users, decisions) if d.allowed}
            assert {a.id: a.mask for a in paged} == expected, (privilege, item)
    assert seen_multi_page, "the table must exercise more than two pages"


def test_who_can_structure(admin: Client, users: List[Dict[str, Any]]) -> None:
    item = {"dataset": "eprint", "status": "buffer", "owners": [], "fields": {"divisions": ["law"]}}
    wc = admin.who_can("eprint/edit", item=item)
    assert wc.admitted is None
    assert "eprint/edit" in wc.tested and wc.owner is not None and wc.editor is not None
    assert {t["type"] for t in wc.types} >= {"user", "editor", "admin"}
    law_dep = admin.who_can("eprint/archive/edit", item={"dataset": "eprint", "status": "archive", "owners": []})
    # law.depositor's `-eprint/archive/edit:owner` is one of the excludes of that string.
    assert any(e["kind"] == "removal" for e in law_dep.excludes), law_dep.excludes
    assert any(u["email"] == "law.depositor@example.org" for u in law_dep.users)
    with pytest.raises(ValueError):
        admin.who_can("eprint/edit", limit=5)


# --- filter -----------------------------------------------------------------------------------------


def test_filter_selects_exactly_what_check_allows(admin: Client, users: List[Dict[str, Any]]) -> None:
    items = item_universe(users)
    compared = 0
    outcomes = set()
    for privilege in PRIVILEGES:
        for u in users + [None]:  # None: an anonymous visitor
            if u is None:
                f = admin.filter(privilege, anonymous=True)
                checks = [{"anonymous": True, "privilege": privilege, "item": it} for it in items]
            else:
                f = admin.filter(privilege, user=u["email"])
                checks = [{"user": u["id"], "privilege": privilege, "item": it} for it in items]
            assert f.dataset == "eprint" and f.privilege == privilege
            assert f.coverage in ("all", "none", "some")
            outcomes.add(f.coverage)
            decisions = batched_checks(admin, checks)
            mismatches = [
                (it, d.mask, f.raw)
                for it, d in zip(items, decisions)
                if f.matches(it) != d.allowed
            ]
            assert not mismatches, (u, privilege, mismatches[:3])
            compared += len(items)
    assert compared > 1000 and {"all", "some"} <= outcomes


def test_filter_own_list_and_dataset(server: GatehouseServer, users: List[Dict[str, Any]]) -> None:
    with Client(server.url) as gh:
        me = gh.login(email="depositor@example.org", password=SAMPLE_PASSWORDS["depositor@example.org"]).user
        mine = gh.filter("eprint/view")
        assert any(c.owner is not None and c.owner.id == me.id for c in mine.conditions)
        with pytest.raises(Forbidden) as e:
            gh.filter("eprint/view", user="editor.law@example.org")
        assert e.value.code == "forbidden"
        with pytest.raises(ValidationError) as e2:
            gh.filter("datasets")  # no dataset segment and none given
        assert e2.value.code == "invalid" and "dataset" in e2.value.message
        gh.logout()


# --- errors ---------------------------------------------------------------------------------------


def test_error_codes(server: GatehouseServer, admin: Client) -> None:
    with Client(server.url) as anon:
        with pytest.raises(Unauthorized) as e401:
            anon.list_users()
        assert (e401.value.status, e401.value.code) == (401, "unauthorized")
    with pytest.raises(NotFound) as e404:
        admin.get_user("nobody-at-all@example.org")
    assert (e404.value.status, e404.value.code) == (404, "not_found")
    assert "nobody-at-all@example.org" in e404.value.message
    with pytest.raises(ValidationError) as e422:
        admin.who_can("eprint/edit", expand_users=True, limit=5000)
    assert (e422.value.status, e422.value.code) == (422, "invalid") and "limit" in e422.value.message
    with pytest.raises(ValidationError) as e422b:
        admin.check("eprint/edit", item={"dataset": "eprint", "owners": [{"bad": 1}]})
    assert "item.owners" in e422b.value.message
    with pytest.raises(Conflict) as e409:
        admin.create_user("admin@example.org", password="password-123")
    assert (e409.value.status, e409.value.code) == (409, "conflict")
    with pytest.raises(BadRequest) as e400:
        admin.evaluation({"type": "user"}, {"name": "eprint/view"}, {"type": "eprint", "id": "1"})
    assert (e400.value.status, e400.value.code) == (400, "bad_request")
    with Client(server.url) as dep:
        dep.login(email="depositor@example.org", password=SAMPLE_PASSWORDS["depositor@example.org"])
        with pytest.raises(Forbidden) as e403:
            dep.effective("editor.law@example.org")
        assert (e403.value.status, e403.value.code) == (403, "forbidden")
        with pytest.raises(Forbidden):
            dep.who_can("eprint/view")
        dep.logout()
    err = e404.value
    assert isinstance(err, GatehouseError) and "not_found" in str(err) and err.method == "GET"


def test_transport_error(server: GatehouseServer) -> None:
    with Client("http://127.0.0.1:9", timeout=2) as gh:
        with pytest.raises(TransportError) as e:
            gh.healthz()
        assert e.value.status == 0 and e.value.code == "transport"


# --- retries on 503 -----------------------------------------------------------------------------


class Flaky(httpx.BaseTransport):
    """Answers 503 (with the given Retry-After values) before passing requests on to the real
    server."""

    def __init__(self, retry_afters: List[Any]) -> None:
        self.pending = list(retry_afters)
        self.inner = httpx.HTTPTransport()
        self.calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.pending:
            ra = self.pending.pop(0)
            headers = {} if ra is None else {"Retry-After": str(ra)}
            return httpx.Response(
                503,
                headers=headers,
                json={"error": {"code": "unavailable", "message": "try later"}},
                request=request,
            )
        return self.inner.handle_request(request)


def test_retries_503_honouring_retry_after(server: GatehouseServer, admin: Client) -> None:
    waits: List[float] = []
    date = email.utils.formatdate(time.time() + 4, usegmt=True)
    flaky = Flaky([2, None, date])
    with Client(server.url, token=admin.token, transport=flaky, sleep=waits.append,
                retry=RetryPolicy(max_retries=3, backoff=0.25, max_wait=10)) as gh:
        d = gh.check("eprint/view", user="depositor@example.org", item={"dataset": "eprint", "status": "archive"})
    assert d.mask == admin.check("eprint/view", user="depositor@example.org", item={"dataset": "eprint", "status": "archive"}).mask
    assert flaky.calls == 4
    assert waits[0] == 2 and waits[1] == 0.5  # Retry-After seconds; then backoff 0.25 * 2**1
    assert 2 <= waits[2] <= 4.5  # an HTTP date about 4 s ahead (whole seconds)


def test_retries_are_bounded(server: GatehouseServer) -> None:
    waits: List[float] = []
    flaky = Flaky([100, 100, 100])
    with Client(server.url, transport=flaky, sleep=waits.append, retry=RetryPolicy(max_retries=2, max_wait=5)) as gh:
        with pytest.raises(ServiceUnavailable) as e:
            gh.healthz()
    assert e.value.status == 503 and e.value.code == "unavailable" and e.value.retry_after == 100
    assert waits == [5, 5] and flaky.calls == 3


# --- user operations ----------------------------------------------------------------------------


def test_user_operations(server: GatehouseServer, admin: Client) -> None:
    email = f"ops-{uuid.uuid4().hex[:8]}@example.org"
    created = admin.create_user(email, password="password-123", full_name="Olga Ops", active=True, confirm=False)
    uid = created.user.id
    assert created.user.email == email and created.user.confirmed is False
    assert admin.get_user(uid).email == email == admin.get_user(email).email
    found = admin.list_users(email.split("@")[0])
    assert [u.email for u in found.users] == [email] and found.total == 1
    assert email in [u.email for u in admin.iter_users(page_size=2, confirmed=False)]
    assert admin.confirm(email).user.confirmed is True
    assert admin.update_profile(email, affiliations="Dept. of Tests").user.affiliations == "Dept. of Tests"
    assert admin.set_type(email, "editor").user.type == "editor"
    assert admin.set_roles(email, ["approve-hat", "+eprint/archive/view"]).user.roles == ["approve-hat", "+eprint/archive/view"]
    assert admin.add_entry(email, "-eprint/archive/view").user.roles[-1] == "-eprint/archive/view"
    assert "-eprint/archive/view" not in admin.remove_entry(email, "-eprint/archive/view").user.roles
    assert admin.set_scope(email, ["divisions=law"]).user.editorial_scope == ["divisions=law"]
    assert admin.privileges(email).active is True
    # Deactivated: log in refused after a right password.
    assert admin.deactivate(email).user.active is False
    with Client(server.url) as gh:
        with pytest.raises(Forbidden) as e:
            gh.login(email=email, password="password-123")
        assert e.value.code == "account_disabled"
    assert admin.activate(email).user.active is True
    changed = admin.set_password(email, random=True)
    assert changed.generated_password
    with Client(server.url) as gh:
        gh.login(email=email, password=changed.generated_password)
        assert gh.me()["user"]["email"] == email
        with pytest.raises(ValidationError):
            gh.set_password(email, "new-password-456")  # one's own needs current_password
        gh.set_password(email, "new-password-456", current_password=changed.generated_password)
    with Client(server.url) as gh:
        gh.login(email=email, password="new-password-456")
    admin.delete_user(email)
    with pytest.raises(NotFound):
        admin.get_user(uid)


def test_service_token(server: GatehouseServer, admin: Client) -> None:
    name = f"svc-{uuid.uuid4().hex[:6]}"
    tok = admin.create_token(name, ["check/any"])
    assert tok.token and tok.name == name
    assert name in [t.name for t in admin.list_tokens()]
    with Client(server.url, token=tok.token) as svc:
        item = {"dataset": "eprint", "status": "buffer", "fields": {"divisions": ["law"]}}
        assert svc.check("eprint/edit", user="editor.law@example.org", item=item).mask == admin.check(
            "eprint/edit", user="editor.law@example.org", item=item
        ).mask
        assert svc.effective("editor.law@example.org").email == "editor.law@example.org"
        with pytest.raises(Forbidden):
            svc.list_users()
        admin.revoke_token(name)
        with pytest.raises(Unauthorized):
            svc.check("eprint/view")
