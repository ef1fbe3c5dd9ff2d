"""A real Gatehouse server, and a Flask application with the real invenio-db (SQLite),
invenio-accounts, invenio-access and invenio-gatehouse, whose accounts mirror Gatehouse's."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from flask import Flask
from gatehouse_client import Client
from gatehouse_client.testing import GatehouseServer, find_binary

ROOT = Path(__file__).resolve().parents[4]
ADMIN = {"email": "admin@example.org", "password": "change-me-admin-1"}
SCOPE_FIELDS = {"divisions": "metadata.divisions", "subjects": "metadata.subjects"}
# An Invenio account with no Gatehouse account: Gatehouse treats it as an anonymous visitor.
STRANGER = "stranger@example.org"


@pytest.fixture(scope="session")
def server() -> Iterator[GatehouseServer]:
    srv = GatehouseServer(
        find_binary(ROOT),
        app_data=ROOT / "app_data",
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
        # A few users with their own entries, scopes and denies, beside app_data's.
        gh.create_user("law.depositor@example.org", password="password-123", active=True, confirm=True)
        gh.add_entry("law.depositor@example.org", "-eprint/archive/edit:owner")
        gh.create_user("second.editor@example.org", password="password-123", active=True, confirm=True, user_type="editor")
        gh.set_scope("second.editor@example.org", ["divisions=law,ecs;subjects=PN"])
        gh.create_user("hat.holder@example.org", password="password-123", active=True, confirm=True, roles=["approve-hat"])
        gh.set_scope("hat.holder@example.org", ["divisions=ecs"])
        gh.create_user("sleeper@example.org", password="password-123", active=False, confirm=True, user_type="editor")
        gh.grant("deny", "eprint/archive/view", kind="user", name="editor.cs@example.org")
        gh.grant("deny", "eprint/buffer/details:editor", kind="role", name="approve-hat")
        yield gh


@pytest.fixture(scope="session")
def service_token(admin: Client) -> str:
    tok = admin.create_token("invenio-tests", ["check/any"]).token
    assert tok
    return tok


@pytest.fixture(scope="session")
def gh_users(admin: Client) -> List[Dict[str, Any]]:
    return [{"id": u.id, "email": u.email} for u in admin.iter_users(page_size=100)]


@pytest.fixture(scope="session")
def app(server: GatehouseServer, service_token: str, gh_users: List[Dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from invenio_access import InvenioAccess
    from invenio_accounts import InvenioAccounts
    from invenio_accounts.proxies import current_datastore
    from invenio_db import InvenioDB, db
    from invenio_i18n import InvenioI18N

    from invenio_gatehouse import InvenioGatehouse

    dbfile = tmp_path_factory.mktemp("invenio") / "invenio.sqlite"
    app = Flask("invenio-gatehouse-tests")
    app.config.update(
        SECRET_KEY="test-secret",
        SECURITY_PASSWORD_SALT="test-salt",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{dbfile}",
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        TESTING=True,
        GATEHOUSE_URL=server.url,
        GATEHOUSE_TOKEN=service_token,
        GATEHOUSE_RECORD_FIELDS={"owners": "owners", "status": "status", "scope": SCOPE_FIELDS, "owner_value": "id"},
    )
    InvenioDB(app)
    InvenioI18N(app)
    InvenioAccounts(app)
    InvenioAccess(app)
    InvenioGatehouse(app)
    with app.app_context():
        db.create_all()
        for u in gh_users:
            current_datastore.create_user(email=u["email"], password=None, active=True)
        current_datastore.create_user(email=STRANGER, password=None, active=True)
        db.session.commit()
    yield app
    app.extensions["invenio-gatehouse"].client.close()


def make_records(gh_users: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Records over every status (and none), owner sets and field sets."""
    by_email = {u["email"]: u["id"] for u in gh_users}
    owners = [
        [],
        [by_email["depositor@example.org"]],
        [by_email["editor.cs@example.org"], by_email["law.depositor@example.org"]],
        [by_email["reviewer@example.org"]],
    ]
    metadata = [
        {},
        {"divisions": ["law"]},
        {"divisions": ["ecs"], "subjects": ["QA"]},
        {"divisions": ["ecs", "law"], "subjects": ["QA76", "PN"]},
    ]
    records = []
    for n, (status, ow, md) in enumerate(
        itertools.product(["inbox", "buffer", "archive", "deletion", None], owners, metadata)
    ):
        rec: Dict[str, Any] = {"id": f"rec-{n}", "owners": ow, "metadata": md}
        if status is not None:
            rec["status"] = status
        records.append(rec)
    return records


def record_item(rec: Dict[str, Any]) -> Dict[str, Any]:
    """The Gatehouse item the tests expect for a record (for `/api/check`)."""
    item: Dict[str, Any] = {"dataset": "eprint", "owners": rec["owners"], "fields": dict(rec["metadata"])}
    if "status" in rec:
        item["status"] = rec["status"]
    return item
