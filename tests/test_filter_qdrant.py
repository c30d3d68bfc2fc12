"""Filters agree with qdrant-client's local mode: a fixed set of filters over
~200 points with varied payloads (typed columns, mixed types, arrays, nested
objects, nulls, datetimes, text), spread over several segments with updated
points, give the same matching ids as ``QdrantClient(":memory:")``.

Each filter goes to nbvec as its REST dict, as a qdrant-client model object
(read by duck typing) and as an nbvec model: all three compile alike.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from nbvec import VectorFrame
from nbvec._filter import compile_filter, estimate_cardinality, segment_mask
from nbvec.models import Filter as NbvecFilter

qdrant_client = pytest.importorskip("qdrant_client")
from qdrant_client import QdrantClient, models  # noqa: E402

D = 32  # 0.125 KB a point: indexing_threshold=5 seals every 40 points
N = 200
WORDS = ["alpha", "beta", "gamma", "delta"]
MIXED = [1, "one", 1.0, 1.5, True, False, None, [1, 2], {"a": 1}, [], [None], "2023-05-01T00:00:00Z",
         [1, "x", 2.5], 0, -7, 2**63 + 11]
DATES = ["2023-01-01T00:00:00Z", "2023-06-15T12:30:00+02:00", "2023-06-15 10:30:00",
         "2024-02-29T23:59:59.999999Z", "2022-12-31", "not a date", "2023-06-15T10:30:00.5-01:00"]
TEXTS = ["The quick brown fox", "jumps over the lazy dog", "Quick, quick!", "brown_fox jumps",
         "nothing here", ""]


def _payload(rng, i: int) -> dict:
    p: dict = {}
    if rng.random() < 0.85:
        p["n"] = int(rng.integers(-20, 20))
    if rng.random() < 0.7:
        p["f"] = float(np.round(rng.normal() * 5, 2))
    if rng.random() < 0.5:
        p["flag"] = bool(rng.random() < 0.5)
    if rng.random() < 0.7:
        p["tag"] = str(rng.choice(WORDS))
    r = rng.random()
    if r < 0.5:
        p["tags"] = [str(t) for t in rng.choice(WORDS, size=int(rng.integers(1, 4)))]
    elif r < 0.6:
        p["tags"] = []
    elif r < 0.7:
        p["tags"] = None
    if rng.random() < 0.6:
        p["mixed"] = MIXED[int(rng.integers(0, len(MIXED)))]
    if rng.random() < 0.5:
        meta: dict = {"depth": int(rng.integers(0, 4))}
        if rng.random() < 0.6:
            meta["lang"] = str(rng.choice(["en", "de", "fr"]))
        if rng.random() < 0.4:
            meta["inner"] = {"x": float(rng.integers(0, 3)), "ok": bool(rng.random() < 0.5)}
        p["meta"] = meta
    if rng.random() < 0.6:
        p["items"] = [
            {"name": str(rng.choice(WORDS)), "qty": int(rng.integers(0, 5)),
             **({"tags": ["x", "y"][: int(rng.integers(0, 3))]} if rng.random() < 0.5 else {})}
            for _ in range(int(rng.integers(0, 4)))
        ]
        if rng.random() < 0.15:
            p["items"].append("not an object")
    if rng.random() < 0.6:
        p["created"] = DATES[int(rng.integers(0, len(DATES)))]
    if rng.random() < 0.5:
        p["text"] = TEXTS[int(rng.integers(0, len(TEXTS)))]
    return p


def _ids(rng) -> list:
    ids = list(range(N - 20))
    ids += [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(20)]
    return ids


FILTERS = [
    {},
    {"must": [{"key": "n", "match": {"value": 3}}]},
    {"must": [{"key": "tag", "match": {"value": "alpha"}}]},
    {"must": [{"key": "flag", "match": {"value": True}}]},
    {"must": [{"key": "mixed", "match": {"value": 1}}]},
    {"must": [{"key": "mixed", "match": {"value": True}}]},
    {"must": [{"key": "mixed", "match": {"value": "one"}}]},
    {"must": [{"key": "mixed", "match": {"value": 2**63 + 11}}]},
    {"must": [{"key": "tags", "match": {"any": ["alpha", "delta"]}}]},
    {"must": [{"key": "n", "match": {"any": [1, 2, 3, -5]}}]},
    {"must": [{"key": "tags", "match": {"except": ["alpha"]}}]},
    {"must": [{"key": "mixed", "match": {"except": [1, 2]}}]},
    {"must": [{"key": "mixed", "match": {"except": ["one"]}}]},
    {"must": [{"key": "n", "range": {"gte": -3, "lt": 7.5}}]},
    {"must": [{"key": "f", "range": {"gt": 0}}]},
    {"must": [{"key": "mixed", "range": {"gte": 1, "lte": 1}}]},
    {"must": [{"key": "mixed", "range": {"lt": 1e300}}]},
    {"must": [{"key": "meta.inner.x", "range": {"gte": 1}}]},
    {"must": [{"key": "created", "range": {"gte": "2023-06-15T10:00:00Z", "lt": "2024-01-01"}}]},
    {"must": [{"key": "mixed", "range": {"lte": "2023-12-31T00:00:00Z"}}]},
    {"must": [{"key": "tags", "values_count": {"gte": 2}}]},
    {"must": [{"key": "tags", "values_count": {"lt": 1}}]},
    {"must": [{"key": "mixed", "values_count": {"gt": 1}}]},
    {"must": [{"is_empty": {"key": "tags"}}]},
    {"must": [{"is_empty": {"key": "mixed"}}]},
    {"must": [{"is_null": {"key": "mixed"}}]},
    {"must": [{"is_null": {"key": "tags"}}]},
    {"must": [{"key": "meta", "is_empty": False}]},
    {"must": [{"is_empty": {"key": "items[].tags"}}]},
    {"must": [{"key": "meta.lang", "match": {"value": "en"}}]},
    {"must": [{"key": "items[].name", "match": {"value": "beta"}}]},
    {"must": [{"key": "items[0].qty", "range": {"gte": 3}}]},
    {"must": [{"key": "items[].tags", "match": {"value": "y"}}]},
    {"must": [{"key": "text", "match": {"text": "quick"}}]},
    {"must": [{"key": "text", "match": {"text": "brown fox"}}]},
    {"must": [{"key": "text", "match": {"phrase": "lazy dog"}}]},
    {"must": [{"key": "text", "match": {"text_any": "fox dog"}}]},
    {"must": [{"key": "tag", "match": {"prefix": "al"}}]},
    {"must": [{"key": "text", "match": {"substring": "row"}}]},
    {"must_not": [{"key": "tag", "match": {"value": "alpha"}}]},
    {"must_not": [{"key": "n", "range": {"lt": 0}}, {"is_null": {"key": "mixed"}}]},
    {"should": [{"key": "tag", "match": {"value": "beta"}}, {"key": "flag", "match": {"value": False}}]},
    {"should": []},
    {"must": [{"key": "n", "range": {"gte": 0}}],
     "should": [{"key": "tag", "match": {"value": "beta"}}, {"key": "meta.depth", "match": {"value": 2}}],
     "must_not": [{"key": "flag", "match": {"value": True}}]},
    {"min_should": {"conditions": [{"key": "tag", "match": {"value": "beta"}},
                                   {"key": "n", "range": {"gt": 0}},
                                   {"key": "flag", "match": {"value": True}},
                                   {"is_empty": {"key": "meta"}}], "min_count": 2}},
    {"must": [{"should": [{"key": "n", "match": {"value": 1}}, {"key": "n", "match": {"value": 2}}]},
              {"must_not": [{"is_empty": {"key": "tags"}}]}]},
    {"must": [{"nested": {"key": "items", "filter": {
        "must": [{"key": "name", "match": {"value": "alpha"}}, {"key": "qty", "range": {"gte": 2}}]}}}]},
    {"must": [{"nested": {"key": "items[]", "filter": {
        "must_not": [{"key": "qty", "range": {"gt": 1}}]}}}]},
    {"must": [{"nested": {"key": "items", "filter": {
        "must": [{"is_empty": {"key": "tags"}}, {"key": "name", "match": {"any": ["beta", "gamma"]}}]}}}]},
    {"must_not": [{"nested": {"key": "items", "filter": {"must": [{"key": "qty", "match": {"value": 0}}]}}}]},
    {"must": [{"has_id": [0, 5, 17, 99, 150, 1000]}]},
    {"must_not": [{"has_id": list(range(0, 180, 2))}]},
    {"must": [{"has_vector": ""}]},
]


@pytest.fixture(scope="module")
def both():
    """(nbvec frame, qdrant client) holding the same points."""
    rng = np.random.default_rng(7)
    ids = _ids(rng)
    payloads = [_payload(rng, i) for i in range(N)]
    vectors = rng.normal(size=(N, D))
    vf = VectorFrame(D, "Dot", indexing_threshold=5, full_scan_threshold=1, progress=False)
    for lo in range(0, N, 60):  # several segments
        vf.upsert(ids[lo: lo + 60], vectors[lo: lo + 60], payload=payloads[lo: lo + 60])
    # updates: new payloads for some points (old rows tombstoned)
    changed = list(range(0, N, 7))
    for i in changed:
        payloads[i] = _payload(rng, i)
    vf.upsert([ids[i] for i in changed], vectors[changed], payload=[payloads[i] for i in changed])
    assert len(vf._engine.segments) > 1

    client = QdrantClient(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=D, distance="Dot"))
    client.upsert("c", [models.PointStruct(id=ids[i], vector=vectors[i].tolist(), payload=payloads[i])
                        for i in range(N)])
    yield vf, client
    client.close()


def _nbvec_ids(vf, condition) -> set:
    out = set()
    for seg in vf._engine.segments:
        mask = segment_mask(condition, seg) & seg.live_mask()
        out.update(seg.ids[: seg.n][mask].tolist())
    return out


def _qdrant_ids(client, f) -> set:
    points, _ = client.scroll("c", scroll_filter=f, limit=10 * N)
    return {p.id for p in points}


@pytest.mark.parametrize("rest", FILTERS, ids=[f"f{i}" for i in range(len(FILTERS))])
def test_filter_matches_qdrant_client(both, rest):
    vf, client = both
    qf = models.Filter.model_validate(rest)
    want = _qdrant_ids(client, qf)
    assert client.count("c", count_filter=qf, exact=True).count == len(want)
    from_dict = compile_filter(rest)
    assert compile_filter(qf) == from_dict  # a qdrant-client model, read by duck typing
    assert compile_filter(NbvecFilter.model_validate(rest)) == from_dict
    got = _nbvec_ids(vf, from_dict)
    assert got == want, f"only nbvec: {got - want}, only qdrant: {want - got}"
    assert sum(estimate_cardinality(from_dict, s) for s in vf._engine.segments) == len(want)


def test_filters_are_not_trivial(both):
    """The case set discriminates: most filters match some but not all points."""
    vf, client = both
    sizes = [len(_qdrant_ids(client, models.Filter.model_validate(f))) for f in FILTERS]
    partial = [s for s in sizes if 0 < s < N]
    assert len(partial) >= 0.8 * len(FILTERS), sizes
