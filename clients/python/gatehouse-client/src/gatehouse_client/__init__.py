"""Python client for Gatehouse: accounts, roles and privileges for research repositories.

>>> from gatehouse_client import Client
>>> with Client("http://127.0.0.1:8080") as gh:                     # doctest: +SKIP
...     gh.login(email="admin@example.org", password="change-me-admin-1")
...     gh.check("eprint/edit", user="editor.law@example.org",
...              item={"dataset": "eprint", "status": "buffer", "fields": {"divisions": ["law"]}})
"""

from ._core import RetryPolicy
from .aio import AsyncClient
from .client import Client
from .errors import (
    BadRequest,
    Conflict,
    Forbidden,
    GatehouseError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    ServerError,
    ServiceUnavailable,
    TooManyRequests,
    TransportError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
)
from .models import (
    Admitted,
    AdmittedPage,
    AzDecision,
    ChangedUser,
    CheckSpec,
    CreatedUser,
    Decision,
    Effective,
    FilterCondition,
    Holds,
    Item,
    ItemArg,
    ListFilter,
    Login,
    OwnerIs,
    PasswordChanged,
    Privileges,
    Reason,
    ServiceToken,
    User,
    UserPage,
    UserRef,
    WhoCan,
    az_resource,
    az_subject,
)

__version__ = "0.1.0"

__all__ = [
    "AsyncClient",
    "Client",
    "RetryPolicy",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "GatehouseError",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "ServerError",
    "ServiceUnavailable",
    "TooManyRequests",
    "TransportError",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationError",
    "Admitted",
    "AdmittedPage",
    "AzDecision",
    "ChangedUser",
    "CheckSpec",
    "CreatedUser",
    "Decision",
    "Effective",
    "FilterCondition",
    "Holds",
    "Item",
    "ItemArg",
    "ListFilter",
    "Login",
    "OwnerIs",
    "PasswordChanged",
    "Privileges",
    "Reason",
    "ServiceToken",
    "User",
    "UserPage",
    "UserRef",
    "WhoCan",
    "az_resource",
    "az_subject",
]
