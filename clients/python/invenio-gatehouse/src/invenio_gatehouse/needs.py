"""Flask-Principal needs for what Gatehouse says about an identity."""

from functools import partial

from flask_principal import Need

GatehouseUserNeed = partial(Need, "gatehouse_user")
"""The Gatehouse user (by Gatehouse id) behind an identity."""

GatehousePrivilegeNeed = partial(Need, "gatehouse_privilege")
"""A privilege string the user holds in Gatehouse, with its ``:owner`` / ``:editor`` suffix
(like an ``ActionNeed``, but never expanded through invenio-access's database)."""

GatehouseTypeNeed = partial(Need, "gatehouse_type")
"""The user's Gatehouse user type (``user``, ``editor``, ``admin``, ...)."""

gatehouse_anonymous = Need("gatehouse", "anonymous")
"""Provided by identities that are no Gatehouse user: anonymous visitors."""

gatehouse_superuser = Need("gatehouse", "superuser")
"""Provided when the user holds Gatehouse's ``superuser-access``."""
