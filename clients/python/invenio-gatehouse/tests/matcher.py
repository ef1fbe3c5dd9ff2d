"""A minimal evaluator of OpenSearch queries over plain record dicts: match_all, match_none,
term, terms and bool (must, filter, should with minimum_should_match, must_not). Enough
to check what a query filter selects without an OpenSearch server."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping


def values_at(record: Any, path: str) -> List[Any]:
    """Every value at a dotted path, flattening lists on the way (as the index does)."""
    cur: List[Any] = [record]
    for part in path.split("."):
        nxt: List[Any] = []
        for c in cur:
            if isinstance(c, Mapping) and part in c:
                v = c[part]
                nxt.extend(v if isinstance(v, list) else [v])
        cur = nxt
    return [v for v in cur if v is not None]


def _same(a: Any, b: Any) -> bool:
    # keyword fields compare as strings; numbers as numbers
    return a == b or str(a) == str(b)


def matches(query: Mapping[str, Any], record: Any) -> bool:
    if len(query) != 1:
        raise ValueError(f"one query type per clause: {query}")
    (kind, body), = query.items()
    if kind == "match_all":
        return True
    if kind == "match_none":
        return False
    if kind == "term":
        (field, value), = body.items()
        if isinstance(value, Mapping):
            value = value["value"]
        return any(_same(v, value) for v in values_at(record, field))
    if kind == "terms":
        (field, wanted), = body.items()
        have = values_at(record, field)
        return any(_same(v, w) for v in have for w in wanted)
    if kind == "bool":
        def clauses(name: str) -> List[Dict[str, Any]]:
            c = body.get(name, [])
            return c if isinstance(c, list) else [c]
        must = clauses("must") + clauses("filter")
        should = clauses("should")
        must_not = clauses("must_not")
        if not all(matches(q, record) for q in must):
            return False
        if any(matches(q, record) for q in must_not):
            return False
        msm = body.get("minimum_should_match", 0 if must or must_not else 1)
        if should and sum(1 for q in should if matches(q, record)) < int(msm):
            return False
        return True
    raise ValueError(f"unsupported query: {kind}")
