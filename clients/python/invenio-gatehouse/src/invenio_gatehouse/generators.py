"""``GatehousePrivilege``: an invenio-records-permissions generator answered by Gatehouse."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Dict, List, Mapping, Optional, Set, Tuple

from flask_principal import Identity, Need
from gatehouse_client import Admitted, Item, NotFound, WhoCan
from invenio_access.permissions import any_user
from invenio_records_permissions.generators import Generator

from .ext import current_gatehouse
from .needs import GatehouseUserNeed, gatehouse_anonymous
from .query import filter_to_query

log = logging.getLogger(__name__)


def get_path(record: Any, path: str) -> Any:
    """``a.b.c`` in nested mappings (and objects with ``.get``); ``None`` when absent."""
    cur = record
    for part in path.split("."):
        if cur is None:
            return None
        try:
            cur = cur.get(part)
        except AttributeError:
            cur = getattr(cur, part, None)
    return cur


def _as_list(v: Any) -> List[Any]:
    if v is None:
        return []
    if isinstance(v, (list, tuple, set)):
        return list(v)
    return [v]


class GatehousePrivilege(Generator):
    """Grants what Gatehouse's ``/api/check`` allows for ``privilege`` on the record.

    - ``needs(record=None)``: the users Gatehouse's who-can admits on the record (one
      :data:`GatehouseUserNeed` each, paged through ``?expand=users``), plus
      :data:`gatehouse_anonymous` when anonymous visitors hold it; ``any_user`` when everybody
      holds it and nothing takes it away.
    - ``excludes(record=None)``: the users a Gatehouse *deny* refuses when it names the user
      or a role among their own entries, so such a deny also wins over the other generators
      of the policy (denies through user types or system roles show in ``needs`` only).
    - ``query_filter(identity=None)``: Gatehouse's list filter for the identity's user (or an
      anonymous visitor) as a ``dsl.Q``.

    ``dataset`` defaults to the privilege's first segment; ``item`` may be a callable
    ``record -> Gatehouse item`` replacing the mapping from ``GATEHOUSE_RECORD_FIELDS``;
    ``fields`` overrides that configuration for this generator.
    """

    def __init__(
        self,
        privilege: str,
        *,
        dataset: Optional[str] = None,
        item: Optional[Callable[[Any], Optional[Item]]] = None,
        fields: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self.privilege = privilege
        if dataset is None:
            if "/" not in privilege:
                raise ValueError(f"`{privilege}` names no dataset; pass dataset=")
            dataset = privilege.split("/", 1)[0]
        self.dataset = dataset
        self._item = item
        self._fields = dict(fields or {})

    def __repr__(self) -> str:
        return f"GatehousePrivilege({self.privilege!r})"

    # --- records as Gatehouse items -----------------------------------------------------------

    def fields(self) -> Dict[str, Any]:
        f = dict(current_gatehouse().fields)
        f.update(self._fields)
        return f

    def item_for(self, record: Any) -> Optional[Item]:
        """The Gatehouse item of a record: dataset, status, owners and scope fields."""
        if record is None:
            return None
        if self._item is not None:
            return self._item(record)
        f = self.fields()
        item: Dict[str, Any] = {"dataset": self.dataset}
        status = get_path(record, f["status"])
        if status is not None:
            item["status"] = str(status)
        item["owners"] = _as_list(get_path(record, f["owners"]))
        item["fields"] = {
            gh: [str(v) for v in _as_list(get_path(record, path))]
            for gh, path in (f.get("scope") or {}).items()
            if get_path(record, path) is not None
        }
        return item  # type: ignore[return-value]

    # --- who-can, once per record and request ------------------------------------------------

    def _who_can(self, record: Any) -> Tuple[WhoCan, Optional[List[Admitted]]]:
        """The structural answer, and the admitted users (``None``: every user)."""
        state = current_gatehouse()
        item = self.item_for(record)
        key = ("who-can", self.privilege, json.dumps(item, sort_keys=True, default=str))
        cache = state.request_cache()
        if key in cache:
            return cache[key]
        wc = state.client.who_can(self.privilege, item=item)
        # Everybody holds the public form and nothing takes it away: no need to list users.
        everybody = (
            wc.anonymous
            and not wc.excludes
            and wc.untyped.public
            and all(t.get("public") for t in wc.types)
            and all(u.get("public") for u in wc.users)
        )
        admitted = (
            None
            if everybody
            else list(state.client.iter_who_can_users(self.privilege, item=item, page_size=state.page_size))
        )
        cache[key] = (wc, admitted)
        return wc, admitted

    def needs(self, record: Any = None, **kwargs: Any) -> List[Need]:
        wc, admitted = self._who_can(record)
        needs: List[Need] = []
        if admitted is None:
            return [any_user]
        if wc.anonymous:
            needs.append(gatehouse_anonymous)
        needs.extend(GatehouseUserNeed(a.id) for a in admitted)
        return needs

    def excludes(self, record: Any = None, **kwargs: Any) -> List[Need]:
        wc, admitted = self._who_can(record)
        denies = [e for e in wc.excludes if e.get("kind") == "deny"]
        if not denies or admitted is None:
            return []
        admitted_ids: Set[int] = {a.id for a in admitted}
        by_email = {u["email"]: int(u["id"]) for u in wc.users}
        state = current_gatehouse()
        out: Set[Need] = set()
        denied_roles: Set[str] = set()
        for e in denies:
            kind, name = str(e.get("target", "")), str(e.get("name", ""))
            if kind not in ("user", "role"):
                # Denies to user types and system roles are already reflected in `needs`.
                log.debug("Gatehouse deny %r not mapped to an exclude", e)
                continue
            if kind == "role":
                denied_roles.add(name)
                continue
            uid = by_email.get(name)
            if uid is None:
                try:
                    uid = state.effective(name).id
                except NotFound:
                    continue
            if uid not in admitted_ids:
                out.add(GatehouseUserNeed(uid))
        if denied_roles:
            for u in wc.users:
                uid = int(u["id"])
                if uid in admitted_ids:
                    continue
                if denied_roles & set(state.effective(uid).roles):
                    out.add(GatehouseUserNeed(uid))
        return sorted(out)

    # --- search ------------------------------------------------------------------------------

    def query_filter(self, identity: Optional[Identity] = None, **kwargs: Any) -> Any:
        state = current_gatehouse()
        uid: Optional[int] = None
        eff = getattr(identity, "gatehouse", None) if identity is not None else None
        if eff is not None:
            uid = eff.id
        elif identity is not None:
            uid = next(
                (int(n.value) for n in identity.provides if n.method == "gatehouse_user"), None
            )
        key = ("filter", self.privilege, self.dataset, uid)
        cache = state.request_cache()
        if key not in cache:
            if uid is None:
                cache[key] = state.client.filter(self.privilege, anonymous=True, dataset=self.dataset)
            else:
                cache[key] = state.client.filter(self.privilege, user=uid, dataset=self.dataset)
        return filter_to_query(cache[key], self.fields())
