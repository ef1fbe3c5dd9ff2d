#!/usr/bin/env python3
"""An InvenioRDM accounts database made by InvenioRDM's own code, for the
`migrate-from invenio` test (crates/cli/tests/migrate_invenio_e2e.rs).

Usage:  python make_invenio_db.py DATABASE_URL SECRET_KEY

In a minimal Flask app with the real invenio-db, invenio-accounts and invenio-access
extensions (versions pinned in clients/python/constraints.txt) against DATABASE_URL
(PostgreSQL, `postgresql://...`): the tables are created from their models, users through
invenio-accounts' datastore with passwords hashed by Flask-Security's `hash_password`
(`SECURITY_PASSWORD_SALT` left to default to SECRET_KEY, as InvenioRDM does), roles and
memberships through the datastore, and action grants through invenio-access's models
(`ActionUsers.allow/deny`, `ActionRoles.allow`, `ActionSystemRoles.allow`). Prints what it
made as JSON for the test to check against.
"""

import json
import sys
import warnings
from datetime import datetime, timezone

from flask import Flask

warnings.simplefilter("ignore", DeprecationWarning)

USERS = [
    # email, username, password, active, profile
    ("alice@inv.example.org", "alice", "alice-Pass-1", True, {"full_name": "Alice Liddell", "affiliations": "CERN"}),
    ("bob@inv.example.org", "bob", "bøb-pässwörd ☃", True, {"full_name": "Bob", "affiliations": ""}),
    ("carol@inv.example.org", None, "carol-pass-3", False, {}),
]


def main():
    url, secret = sys.argv[1], sys.argv[2]
    from invenio_access import InvenioAccess
    from invenio_access.models import ActionRoles, ActionSystemRoles, ActionUsers
    from invenio_access.permissions import any_user, authenticated_user, superuser_access
    from invenio_accounts import InvenioAccounts
    from invenio_accounts.proxies import current_datastore
    from invenio_db import InvenioDB, db
    from invenio_i18n import InvenioI18N
    from flask_principal import ActionNeed
    from flask_security.utils import hash_password

    app = Flask("gatehouse-migrate-invenio")
    app.config.update(
        SECRET_KEY=secret,
        SQLALCHEMY_DATABASE_URI=url,
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        TESTING=True,
    )
    InvenioDB(app)
    InvenioI18N(app)
    InvenioAccounts(app)
    InvenioAccess(app)
    with app.app_context():
        db.create_all()
        made = {}
        for email, username, password, active, profile in USERS:
            kwargs = {"email": email, "password": hash_password(password), "active": active}
            if username:
                kwargs["username"] = username
            if profile:
                kwargs["user_profile"] = profile
            user = current_datastore.create_user(**kwargs)
            made[email] = user
        db.session.commit()
        # Confirmed as Flask-Security's confirmation view does: the time in confirmed_at.
        for email in ("alice@inv.example.org", "bob@inv.example.org"):
            made[email].confirmed_at = datetime.now(timezone.utc).replace(tzinfo=None)
        curators = current_datastore.create_role(name="curators", description="Community curators")
        admins = current_datastore.create_role(name="Site Administrators", description="")
        current_datastore.add_role_to_user(made["alice@inv.example.org"], admins)
        current_datastore.add_role_to_user(made["bob@inv.example.org"], curators)
        db.session.commit()
        db.session.add(ActionRoles.allow(superuser_access, role=admins))
        db.session.add(ActionRoles.allow(ActionNeed("community-curate"), role=curators))
        db.session.add(ActionUsers.deny(ActionNeed("community-curate"), user=made["carol@inv.example.org"]))
        db.session.add(ActionUsers.allow(ActionNeed("record-edit"), argument="rec-12", user=made["bob@inv.example.org"]))
        db.session.add(ActionSystemRoles.allow(ActionNeed("records-read"), role=any_user))
        db.session.add(ActionSystemRoles.allow(ActionNeed("deposit-create"), role=authenticated_user))
        db.session.commit()
        print(json.dumps({"users": [u[0] for u in USERS]}))


if __name__ == "__main__":
    main()
