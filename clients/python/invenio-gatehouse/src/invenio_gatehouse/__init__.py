"""Gatehouse for InvenioRDM: roles and privileges on the identity, and a records permission
generator answered by Gatehouse (see ``docs/integrations/invenio.md``)."""

from .ext import InvenioGatehouse, current_gatehouse, default_resolver
from .generators import GatehousePrivilege
from .needs import (
    GatehousePrivilegeNeed,
    GatehouseTypeNeed,
    GatehouseUserNeed,
    gatehouse_anonymous,
    gatehouse_superuser,
)
from .query import filter_to_query

__version__ = "0.1.0"

__all__ = [
    "GatehousePrivilege",
    "GatehousePrivilegeNeed",
    "GatehouseTypeNeed",
    "GatehouseUserNeed",
    "InvenioGatehouse",
    "current_gatehouse",
    "default_resolver",
    "filter_to_query",
    "gatehouse_anonymous",
    "gatehouse_superuser",
]
