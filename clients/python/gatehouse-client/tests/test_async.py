"""The asynchronous client against the same real server."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

import httpx
import pytest

from gatehouse_client import (
    AsyncClient,
    Decision,
    Forbidden,
    NotFound,
    RetryPolicy,
    ServiceUnavailable,
    Unauthorized,
    ValidationError,
    az_resource,
    az_subject,
)
from gatehouse_client.testing import GatehouseServer

from conftest import ADMIN, SAMPLE_PASSWORDS, item_universe

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_login_check_logout(server: GatehouseServer) -> None:
    async with AsyncClient(server.url) as gh:
        login = await gh.login(email="editor.law@example.org", password=SAMPLE_PASSWORDS["editor.law@example.org"])
        item = {"dataset": "eprint", "status": "buffer", "owners": [], "fields": {"divisions": ["law"]}}
        mine = await gh.check("eprint/edit", item=item)
        assert isinstance(mine, Decision) and mine.allowed == (mine.mask != 0)
        assert (await gh.me())["user"]["id"] == login.user.id
        await gh.logout()
        gh.token = login.token
        with pytest.raises(Unauthorized) as e:
            await gh.me()
        assert e.value.code == "unauthorized"


async def test_effective_etag_304(server: GatehouseServer, admin: Any) -> None:
    email = f"aetag-{uuid.uuid4().hex[:8]}@example.org"
    admin.create_user(email, password="password-123", active=True, confirm=True)
    async with AsyncClient(server.url) as gh:
        await gh.login(**ADMIN)
        first = await gh.effective(email)
        second = await gh.effective(email)
        assert second is first and gh.effective_cache.hits == 1 and gh.effective_cache.misses == 1
        await gh.add_entry(email, "+eprint/archive/view")
        third = await gh.effective(email)
        assert third.generation != first.generation and "+eprint/archive/view" in third.entries
        assert gh.effective_cache.misses == 2
        await gh.logout()


async def test_who_can_paging_and_filter_agree_with_check(server: GatehouseServer, admin: Any, users: List[Dict[str, Any]]) -> None:
    items = item_universe(users)[3::13]
    async with AsyncClient(server.url, token=admin.token) as gh:
        everyone = [u async for u in gh.iter_users(page_size=4)]
        assert len(everyone) == (await gh.list_users(limit=1)).total
        for item in items:
            admitted = [a async for a in gh.iter_who_can_users("eprint/view", item=item, page_size=2)]
            res = await gh.check_batch([{"user": u.id, "privilege": "eprint/view", "item": item} for u in everyone])
            assert {a.id: a.mask for a in admitted} == {u.id: d.mask for u, d in zip(everyone, res) if d.allowed}
        for u in everyone[:8]:
            f = await gh.filter("eprint/edit", user=u.id)
            res = await gh.check_batch([{"user": u.id, "privilege": "eprint/edit", "item": it} for it in item_universe(users)])
            assert [f.matches(it) for it in item_universe(users)] == [d.allowed for d in res]


async def test_authzen_async(server: GatehouseServer, admin: Any, users: List[Dict[str, Any]]) -> None:
    items = item_universe(users)[::9]
    async with AsyncClient(server.url, token=admin.token) as gh:
        decisions = await gh.evaluations(
            [{"resource": az_resource(it, str(i))} for i, it in enumerate(items)],
            subject=az_subject("reviewer@example.org"),
            action={"name": "eprint/move_archive"},
        )
        checks = await gh.check_batch([{"user": "reviewer@example.org", "privilege": "eprint/move_archive", "item": it} for it in items])
        assert [d.decision for d in decisions] == [c.allowed for c in checks]
        assert True in [c.allowed for c in checks] and False in [c.allowed for c in checks]
        one = await gh.evaluation(az_subject("reviewer@example.org"), {"name": "eprint/move_archive"}, az_resource(items[0]), request_id="req-1")
        assert one.decision == checks[0].allowed


async def test_errors_async(server: GatehouseServer, admin: Any) -> None:
    async with AsyncClient(server.url, token=admin.token) as gh:
        with pytest.raises(NotFound) as e:
            await gh.effective("nobody-here@example.org")
        assert e.value.code == "not_found"
        with pytest.raises(ValidationError) as e2:
            await gh.who_can("eprint/edit", expand_users=True, limit=0)
        assert e2.value.code == "invalid"
    async with AsyncClient(server.url) as dep:
        await dep.login(email="depositor@example.org", password=SAMPLE_PASSWORDS["depositor@example.org"])
        with pytest.raises(Forbidden) as e3:
            await dep.check("eprint/view", user="editor.law@example.org")
        assert e3.value.code == "forbidden"
        await dep.logout()


class AsyncFlaky(httpx.AsyncBaseTransport):
    def __init__(self, retry_afters: List[Any]) -> None:
        self.pending = list(retry_afters)
        self.inner = httpx.AsyncHTTPTransport()
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.pending:
            ra = self.pending.pop(0)
            return httpx.Response(503, headers={"Retry-After": str(ra)}, json={"error": {"code": "unavailable", "message": "busy"}}, request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_retries_async(server: GatehouseServer, admin: Any) -> None:
    waits: List[float] = []

    async def sleep(s: float) -> None:
        waits.append(s)

    flaky = AsyncFlaky([1, 3])
    async with AsyncClient(server.url, token=admin.token, transport=flaky, sleep=sleep) as gh:
        eff = await gh.effective("editor.cs@example.org")
    assert eff.email == "editor.cs@example.org" and waits == [1, 3] and flaky.calls == 3
    flaky2 = AsyncFlaky([0, 0, 0])
    async with AsyncClient(server.url, transport=flaky2, sleep=sleep, retry=RetryPolicy(max_retries=1)) as gh:
        with pytest.raises(ServiceUnavailable):
            await gh.healthz()
    assert flaky2.calls == 2
