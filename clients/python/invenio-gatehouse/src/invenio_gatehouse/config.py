"""Configuration keys InvenioGatehouse reads (set them in ``invenio.cfg``)."""

GATEHOUSE_URL = "http://127.0.0.1:8080"
"""Base URL of the Gatehouse server."""

GATEHOUSE_TOKEN = None
"""A Gatehouse service token holding ``check/any`` (``gatehouse tokens create invenio
--privilege check/any``): reads users' effective sets, who-can and filters."""

GATEHOUSE_TIMEOUT = 5.0
"""Seconds per HTTP request to Gatehouse."""

GATEHOUSE_MAX_RETRIES = 2
"""How often a ``503`` from Gatehouse is retried (honouring ``Retry-After``)."""

GATEHOUSE_CACHE_SIZE = 10000
"""How many users' effective sets are kept (revalidated with ``If-None-Match`` on every
identity load, so a change in Gatehouse is seen on the next request)."""

GATEHOUSE_IDENTITY_RESOLVER = None
"""Callable (or import string) ``resolver(identity) -> email | id | None`` naming the
Gatehouse user of a Flask-Principal identity. Default: the email of ``current_user`` or of
the invenio-accounts user with ``identity.id``; ``None`` for anonymous."""

GATEHOUSE_ROLE_NEED_PREFIX = ""
"""Prefix of the ``RoleNeed`` added for each Gatehouse role (e.g. ``"gatehouse:"`` to keep
them apart from Invenio's own roles)."""

GATEHOUSE_RECORD_FIELDS = {
    "owners": "owners",
    "status": "status",
    "scope": {},
    "owner_value": "id",
}
"""Where a record keeps what Gatehouse decides on, as dotted paths valid both in the record
dict and in the search index:

- ``owners``: list of the record's owners (Gatehouse user ids, or emails),
- ``status``: the EPrints-style status (``inbox``, ``buffer``, ``archive``, ``deletion``),
- ``scope``: Gatehouse editorial-scope field -> record field, e.g.
  ``{"divisions": "metadata.divisions", "subjects": "metadata.subjects"}``,
- ``owner_value``: what ``owners`` holds: ``"id"``, ``"email"`` or ``"any"`` (both).
"""

GATEHOUSE_WHO_CAN_PAGE_SIZE = 1000
"""Page size when a generator lists the users who-can admits (1 to 1000)."""
