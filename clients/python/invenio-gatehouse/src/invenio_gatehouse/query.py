"""A Gatehouse list filter (``POST /api/filter``) as an OpenSearch query (``dsl.Q``)."""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any, Dict, List, Mapping

from gatehouse_client import FilterCondition, ListFilter
from invenio_search.engine import dsl


def _or(queries: List[Any]) -> Any:
    return reduce(operator.or_, queries) if queries else dsl.Q("match_none")


def _and(queries: List[Any]) -> Any:
    return reduce(operator.and_, queries) if queries else dsl.Q("match_all")


def owner_values(cond: FilterCondition, owner_value: str) -> List[Any]:
    assert cond.owner is not None
    if owner_value == "id":
        return [cond.owner.id]
    if owner_value == "email":
        return [cond.owner.email] if cond.owner.email else []
    values: List[Any] = [cond.owner.id]
    if cond.owner.email:
        values.append(cond.owner.email)
    return values


def condition_query(cond: FilterCondition, fields: Mapping[str, Any]) -> Any:
    """One condition: every present part must hold (status in, owner is, scope matches)."""
    parts: List[Any] = []
    if cond.status is not None:
        parts.append(dsl.Q("terms", **{fields["status"]: list(cond.status)}))
    if cond.owner is not None:
        values = owner_values(cond, fields.get("owner_value", "id"))
        if not values:
            return dsl.Q("match_none")
        parts.append(dsl.Q("terms", **{fields["owners"]: values}))
    if cond.scope is not None:
        scope_map: Dict[str, str] = dict(fields.get("scope") or {})
        alternatives = []
        for f in cond.scope:
            # A filter matches when every field shares a value with the item.
            alternatives.append(
                _and([dsl.Q("terms", **{scope_map.get(k, k): list(v)}) for k, v in f.items()])
            )
        parts.append(_or(alternatives))
    return _and(parts)


def filter_to_query(f: ListFilter, fields: Mapping[str, Any]) -> Any:
    """``all`` -> ``match_all``, ``none`` -> ``match_none``, else the OR of the conditions."""
    if f.coverage == "all":
        return dsl.Q("match_all")
    if f.coverage == "none":
        return dsl.Q("match_none")
    return _or([condition_query(c, fields) for c in f.conditions])
