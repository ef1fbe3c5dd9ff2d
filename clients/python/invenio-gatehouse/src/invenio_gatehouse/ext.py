"""The Flask extension: a Gatehouse client per application, and the identity loader."""

from __future__ import annotations

import logging
from typing import Any, Callable, Dict, Optional, Union

from flask import Flask, current_app, g, has_request_context
from flask_principal import Identity, RoleNeed, identity_loaded
from gatehouse_client import Client, Effective, NotFound, RetryPolicy
from werkzeug.utils import import_string

from . import config
from .needs import (
    GatehousePrivilegeNeed,
    GatehouseTypeNeed,
    GatehouseUserNeed,
    gatehouse_anonymous,
    gatehouse_superuser,
)

log = logging.getLogger(__name__)

Resolver = Callable[[Identity], Optional[Union[int, str]]]


def default_resolver(identity: Identity) -> Optional[Union[int, str]]:
    """The email of the Invenio user behind ``identity`` (``None``: anonymous).

    ``current_user`` when it is that user, else invenio-accounts' datastore by id.
    """
    if identity is None or identity.id is None:
        return None
    try:
        from flask_login import current_user

        if (
            has_request_context()
            and current_user
            and current_user.is_authenticated
            and str(current_user.get_id()) == str(identity.id)
        ):
            return str(current_user.email)
    except Exception:  # pragma: no cover - no flask-login set up
        pass
    try:
        from invenio_accounts.proxies import current_datastore

        by_id = getattr(current_datastore, "get_user_by_id", None)
        user = by_id(identity.id) if by_id is not None else current_datastore.get_user(identity.id)
    except Exception:  # pragma: no cover - no invenio-accounts
        user = None
    return str(user.email) if user is not None else None


class _State:
    """What the extension keeps per application."""

    def __init__(self, app: Flask, client: Optional[Client] = None) -> None:
        cfg = app.config
        self.app = app
        self.client = client or Client(
            cfg["GATEHOUSE_URL"],
            token=cfg.get("GATEHOUSE_TOKEN"),
            timeout=float(cfg["GATEHOUSE_TIMEOUT"]),
            retry=RetryPolicy(max_retries=int(cfg["GATEHOUSE_MAX_RETRIES"])),
            cache_size=int(cfg["GATEHOUSE_CACHE_SIZE"]),
        )
        resolver = cfg.get("GATEHOUSE_IDENTITY_RESOLVER") or default_resolver
        self.resolver: Resolver = import_string(resolver) if isinstance(resolver, str) else resolver
        self.role_prefix: str = cfg.get("GATEHOUSE_ROLE_NEED_PREFIX", "")
        self.fields: Dict[str, Any] = dict(config.GATEHOUSE_RECORD_FIELDS)
        self.fields.update(cfg.get("GATEHOUSE_RECORD_FIELDS") or {})
        self.page_size = int(cfg["GATEHOUSE_WHO_CAN_PAGE_SIZE"])

    def effective(self, user: Union[int, str]) -> Effective:
        """The user's effective set: cached, revalidated by generation (ETag / 304)."""
        return self.client.effective(user)

    def request_cache(self) -> Dict[Any, Any]:
        """Answers kept for the current request only (who-can per record, filters)."""
        if not has_request_context():
            return {}
        cache = getattr(g, "_gatehouse_cache", None)
        if cache is None:
            cache = {}
            g._gatehouse_cache = cache
        return cache

    def load_identity(self, identity: Identity) -> None:
        """Adds the Gatehouse needs of ``identity``'s user (see ``docs/integrations/invenio.md``)."""
        ref = self.resolver(identity)
        eff: Optional[Effective] = None
        if ref is not None:
            try:
                eff = self.effective(ref)
            except NotFound:
                log.warning("Invenio user %s has no Gatehouse account; treated as anonymous", ref)
        identity.gatehouse = eff  # type: ignore[attr-defined]
        if eff is None:
            identity.provides.add(gatehouse_anonymous)
            return
        identity.provides.add(GatehouseUserNeed(eff.id))
        if not eff.active:
            # An inactive account holds only the public privileges (checked per record).
            return
        if eff.user_type:
            identity.provides.add(GatehouseTypeNeed(eff.user_type))
        for role in eff.roles:
            identity.provides.add(RoleNeed(self.role_prefix + role))
        for p in eff.privileges:
            identity.provides.add(GatehousePrivilegeNeed(p))
        if eff.superuser:
            identity.provides.add(gatehouse_superuser)


class InvenioGatehouse:
    """Flask extension: ``InvenioGatehouse(app)`` or ``ext.init_app(app)``.

    On Flask-Principal's ``identity_loaded`` it loads the user's Gatehouse effective set
    (``GET /api/users/{user}/effective``, cached by generation) and adds
    :data:`GatehouseUserNeed` (the Gatehouse id), ``RoleNeed`` per role,
    :data:`GatehousePrivilegeNeed` per privilege string and :data:`GatehouseTypeNeed`;
    identities without a Gatehouse user get :data:`gatehouse_anonymous`.
    """

    def __init__(self, app: Optional[Flask] = None, *, client: Optional[Client] = None) -> None:
        self._client = client
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        for k in dir(config):
            if k.startswith("GATEHOUSE_"):
                app.config.setdefault(k, getattr(config, k))
        state = _State(app, self._client)
        app.extensions["invenio-gatehouse"] = state

        def on_identity_loaded(sender: Any, identity: Identity) -> None:
            state.load_identity(identity)

        # Keep a strong reference: blinker holds receivers weakly.
        state.receiver = on_identity_loaded  # type: ignore[attr-defined]
        identity_loaded.connect_via(app)(on_identity_loaded)


def current_gatehouse() -> _State:
    """The state of the current application's extension."""
    return current_app.extensions["invenio-gatehouse"]
