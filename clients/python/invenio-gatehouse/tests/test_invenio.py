"""A records permission policy built on GatehousePrivilege grants, refuses and filters exactly
as Gatehouse's /api/check decides, with the real invenio-access and
invenio-records-permissions. Every expected answer is asked of /api/check."""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any, Dict, List, Optional, Tuple

import pytest
from flask import Flask
from flask_principal import AnonymousIdentity, Identity, RoleNeed, identity_loaded
from gatehouse_client import Client, Decision
from invenio_access.permissions import any_user
from invenio_records_permissions.generators import AnyUser
from invenio_records_permissions.policies import BasePermissionPolicy

from invenio_gatehouse import (
    GatehousePrivilege,
    GatehousePrivilegeNeed,
    GatehouseUserNeed,
    gatehouse_anonymous,
)
from matcher import matches

from conftest import STRANGER, make_records, record_item


class EprintPolicy(BasePermissionPolicy):
    can_read = [GatehousePrivilege("eprint/view")]
    can_update = [GatehousePrivilege("eprint/edit")]
    can_move_archive = [GatehousePrivilege("eprint/move_archive")]
    can_details = [GatehousePrivilege("eprint/details")]
    can_rest_get = [GatehousePrivilege("eprint/rest/get")]


ACTIONS = {
    "read": "eprint/view",
    "update": "eprint/edit",
    "move_archive": "eprint/move_archive",
    "details": "eprint/details",
    "rest_get": "eprint/rest/get",
}


class OpenButGatehouseDenies(BasePermissionPolicy):
    """AnyUser grants everybody; Gatehouse's denies must still win through `excludes`."""

    can_read = [AnyUser(), GatehousePrivilege("eprint/view")]


def load_identity(app: Flask, email: Optional[str]) -> Identity:
    """An identity as Invenio builds it on a request: logged in (or not), then
    `identity_loaded` with every connected loader (invenio-access, invenio-accounts, ours)."""
    from flask_login import login_user
    from invenio_accounts.proxies import current_datastore

    if email is None:
        identity: Identity = AnonymousIdentity()
    else:
        user = current_datastore.get_user_by_email(email)
        login_user(user)
        identity = Identity(user.id)
    identity_loaded.send(app, identity=identity)
    return identity


def expected(admin: Client, email: Optional[str], privilege: str, records: List[Dict[str, Any]]) -> List[Decision]:
    """/api/check's answers; an Invenio user unknown to Gatehouse asks as anonymous."""
    if email is None or email == STRANGER:
        checks = [{"anonymous": True, "privilege": privilege, "item": record_item(r)} for r in records]
    else:
        checks = [{"user": email, "privilege": privilege, "item": record_item(r)} for r in records]
    out: List[Decision] = []
    for i in range(0, len(checks), 1000):
        res = admin.check_batch(checks[i : i + 1000])
        assert all(isinstance(d, Decision) for d in res), res
        out.extend(res)
    return out


def people(gh_users: List[Dict[str, Any]]) -> List[Optional[str]]:
    return [u["email"] for u in gh_users] + [STRANGER, None]


def test_identity_gets_gatehouse_roles_and_privileges(app: Flask, admin: Client, gh_users: List[Dict[str, Any]]) -> None:
    state = app.extensions["invenio-gatehouse"]
    for u in gh_users:
        with app.test_request_context():
            identity = load_identity(app, u["email"])
        eff = admin.effective(u["email"])
        assert GatehouseUserNeed(eff.id) in identity.provides
        roles = {n.value for n in identity.provides if n.method == "role"}
        privs = {n.value for n in identity.provides if n.method == "gatehouse_privilege"}
        if eff.active:
            assert roles == set(eff.roles) and privs == set(eff.privileges)
        else:
            assert roles == set() and privs == set()
        assert identity.gatehouse.generation == eff.generation
    with app.test_request_context():
        anon = load_identity(app, None)
    assert gatehouse_anonymous in anon.provides
    with app.test_request_context():
        stranger = load_identity(app, STRANGER)
    assert gatehouse_anonymous in stranger.provides and stranger.gatehouse is None

    # Cached by generation: loading again revalidates (304) instead of refetching ...
    hits, misses = state.client.effective_cache.hits, state.client.effective_cache.misses
    with app.test_request_context():
        load_identity(app, "depositor@example.org")
    assert state.client.effective_cache.hits == hits + 1
    assert state.client.effective_cache.misses == misses
    # ... and a change in Gatehouse is seen on the next identity load.
    admin.add_entry("depositor@example.org", "approve-hat")
    try:
        with app.test_request_context():
            changed = load_identity(app, "depositor@example.org")
        assert RoleNeed("approve-hat") in changed.provides
        assert state.client.effective_cache.misses == misses + 1
        assert all(
            GatehousePrivilegeNeed(p) in changed.provides for p in admin.effective("depositor@example.org").privileges
        )
    finally:
        admin.remove_entry("depositor@example.org", "approve-hat")


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_policy_grants_and_refuses_as_check_does(app: Flask, admin: Client, gh_users: List[Dict[str, Any]], action: str) -> None:
    records = make_records(gh_users)
    privilege = ACTIONS[action]
    seen = set()
    for email in people(gh_users):
        want = expected(admin, email, privilege, records)
        with app.test_request_context():
            identity = load_identity(app, email)
            got = [EprintPolicy(action, record=r).allows(identity) for r in records]
        wrong = [(r["id"], w.mask) for r, g, w in zip(records, got, want) if g != w.allowed]
        assert not wrong, (email, action, wrong[:5])
        seen.update(got)
    assert seen == {True, False}, "the table must hold both answers"


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_query_filter_selects_exactly_the_allowed_records(app: Flask, admin: Client, gh_users: List[Dict[str, Any]], action: str) -> None:
    records = make_records(gh_users)
    privilege = ACTIONS[action]
    sizes = set()
    for email in people(gh_users):
        want = [d.allowed for d in expected(admin, email, privilege, records)]
        with app.test_request_context():
            identity = load_identity(app, email)
            filters = EprintPolicy(action, identity=identity).query_filters
        assert filters, "GatehousePrivilege always gives a filter"
        query = reduce(operator.or_, filters).to_dict()
        got = [matches(query, r) for r in records]
        wrong = [r["id"] for r, g, w in zip(records, got, want) if g != w]
        assert not wrong, (email, action, query, wrong[:5])
        sizes.add(sum(got))
    assert len(sizes) > 1, "different users must see different lists"


def test_gatehouse_denies_win_over_other_generators(app: Flask, admin: Client, gh_users: List[Dict[str, Any]]) -> None:
    """With AnyUser beside it, only those Gatehouse refuses *by a deny* are refused."""
    records = make_records(gh_users)
    refused_by_deny = 0
    for email in people(gh_users):
        want: List[Tuple[bool, Decision]] = [
            (d.allowed or not any(r.kind == "denied" for r in d.reasons), d)
            for d in expected(admin, email, "eprint/view", records)
        ]
        with app.test_request_context():
            identity = load_identity(app, email)
            got = [OpenButGatehouseDenies("read", record=r).allows(identity) for r in records]
        wrong = [(r["id"], w[1].reasons) for r, g, w in zip(records, got, want) if g != w[0]]
        assert not wrong, (email, wrong[:3])
        refused_by_deny += sum(1 for g in got if not g)
    assert refused_by_deny > 0, "the fixtures' denies must refuse someone"


def test_generator_without_record_and_dataset(app: Flask, admin: Client) -> None:
    with pytest.raises(ValueError):
        GatehousePrivilege("datasets")
    gen = GatehousePrivilege("datasets", dataset="eprint")
    with app.test_request_context():
        needs = gen.needs(record=None)
    admitted = {a.id for a in admin.iter_who_can_users("datasets")}
    assert {n.value for n in needs if n.method == "gatehouse_user"} == admitted and admitted


def test_everybody_needs_any_user(app: Flask, admin: Client, gh_users: List[Dict[str, Any]]) -> None:
    """When who-can says everybody holds it and nothing takes it away, the need is any_user
    (no listing of users), and exactly then."""
    gen = GatehousePrivilege("eprint/rest/get")
    shortcut = 0
    for rec in make_records(gh_users):
        wc = admin.who_can("eprint/rest/get", item=record_item(rec))
        everybody = (
            wc.anonymous
            and not wc.excludes
            and wc.untyped.public
            and all(t["public"] for t in wc.types)
            and all(u["public"] for u in wc.users)
        )
        with app.test_request_context():
            needs = gen.needs(record=rec)
        if everybody:
            shortcut += 1
            assert needs == [any_user]
        else:
            assert any_user not in needs
    assert shortcut > 0, "the record set must reach the any_user case"
