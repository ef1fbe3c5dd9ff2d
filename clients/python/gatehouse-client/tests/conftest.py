"""A real `gatehouse serve` for the whole session, loaded from the repository's app_data/."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from gatehouse_client import Client
from gatehouse_client.testing import GatehouseServer, find_binary

ROOT = Path(__file__).resolve().parents[4]
# The sample admin of app_data/users.yaml (README.md's quick start).
ADMIN = {"email": "admin@example.org", "password": "change-me-admin-1"}
# Sample users of app_data/users.yaml that can log in, with their passwords.
SAMPLE_PASSWORDS = {
    "admin@example.org": "change-me-admin-1",
    "editor.law@example.org": "change-me-editor-1",
    "editor.cs@example.org": "change-me-editor-2",
    "reviewer@example.org": "change-me-reviewer",
    "depositor@example.org": "change-me-depositor",
    "minimal@example.org": "change-me-minimal",
}


@pytest.fixture(scope="session")
def server() -> Iterator[GatehouseServer]:
    srv = GatehouseServer(
        find_binary(ROOT),
        app_data=ROOT / "app_data",
        # Many log ins from one address in one session: raise the per-account burst.
        env={"GATEHOUSE_THROTTLE__ACCOUNT_BURST": "1000"},
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def admin(server: GatehouseServer) -> Iterator[Client]:
    with Client(server.url) as gh:
        gh.login(**ADMIN)
        yield gh


@pytest.fixture(scope="session")
def users(admin: Client) -> List[Dict[str, Any]]:
    """Every user of the server, as {id, email}, after adding a few with own entries."""
    extra: List[Tuple[str, Dict[str, Any], List[str]]] = [
        ("law.depositor@example.org", {"user_type": "user"}, ["-eprint/archive/edit:owner"]),
        ("second.editor@example.org", {"user_type": "editor"}, []),
        ("hat.holder@example.org", {"user_type": "user", "roles": ["approve-hat"]}, []),
        ("sleeper@example.org", {"user_type": "editor", "active": False}, []),
    ]
    for email, kw, entries in extra:
        kw = {"active": True, **kw}
        admin.create_user(email, password="password-123", confirm=True, **kw)
        for e in entries:
            admin.add_entry(email, e)
    admin.set_scope("second.editor@example.org", ["divisions=law,ecs;subjects=PN"])
    admin.set_scope("hat.holder@example.org", ["divisions=ecs"])
    return [{"id": u.id, "email": u.email} for u in admin.iter_users(page_size=3)]


def item_universe(users: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Items over every status (and none), owner shapes (by id and by email) and field sets."""
    by_email = {u["email"]: u["id"] for u in users}
    statuses = ["inbox", "buffer", "archive", "deletion", None]
    owners: List[List[Any]] = [
        [],
        [by_email["depositor@example.org"]],
        ["editor.cs@example.org"],
        [by_email["reviewer@example.org"], by_email["law.depositor@example.org"]],
    ]
    fields: List[Dict[str, List[str]]] = [
        {},
        {"divisions": ["law"]},
        {"divisions": ["ecs"], "subjects": ["QA"]},
        {"divisions": ["ecs"], "subjects": ["QA76", "PN"]},
        {"divisions": ["ecs"]},
    ]
    out = []
    for st, ow, fi in itertools.product(statuses, owners, fields):
        item: Dict[str, Any] = {"dataset": "eprint", "owners": ow, "fields": fi}
        if st is not None:
            item["status"] = st
        out.append(item)
    return out
