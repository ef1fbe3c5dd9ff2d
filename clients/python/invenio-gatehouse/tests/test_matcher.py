"""The test matcher itself, on hand-made queries (so a broken matcher cannot hide a bug)."""

from matcher import matches

REC = {"status": "buffer", "owners": [5, 7], "metadata": {"divisions": ["law", "ecs"]}}


def test_term_terms_and_paths() -> None:
    assert matches({"term": {"owners": 7}}, REC)
    assert not matches({"term": {"owners": 6}}, REC)
    assert matches({"terms": {"metadata.divisions": ["bio", "ecs"]}}, REC)
    assert not matches({"terms": {"metadata.divisions": ["bio"]}}, REC)
    assert not matches({"terms": {"missing.path": ["x"]}}, REC)


def test_bool() -> None:
    t = {"term": {"status": "buffer"}}
    f = {"term": {"status": "inbox"}}
    assert matches({"bool": {"must": [t, {"terms": {"owners": [5]}}]}}, REC)
    assert not matches({"bool": {"must": [t, f]}}, REC)
    assert matches({"bool": {"should": [f, t]}}, REC)
    assert not matches({"bool": {"should": [f, f]}}, REC)
    assert not matches({"bool": {"must_not": [t]}}, REC)
    assert matches({"bool": {"must": [t], "should": [f]}}, REC)  # should optional beside must
    assert not matches({"bool": {"must": [t], "should": [f], "minimum_should_match": 1}}, REC)
    assert matches({"match_all": {}}, REC) and not matches({"match_none": {}}, REC)
