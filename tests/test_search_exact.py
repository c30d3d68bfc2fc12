"""``exact=True`` search equals a plain numpy brute force: every distance,
several segments (sealed and indexed, plus the appendable one), after updates
and deletes, with offset, score_threshold, batches and named vectors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DISTANCES, HIGHER_IS_BETTER, SMALL, Model, assert_hits_match, brute_force

from nbvec import VectorFrame
from nbvec.models import PointStruct, VectorParams

D = 32


def _segmented_frame(distance, rng, n=1500, batch=300, **options):
    """A frame of ``n`` points upserted in batches: 2+ sealed, indexed segments
    and a non-empty appendable one. Returns (frame, model)."""
    vf = VectorFrame(D, distance, **{**SMALL, **options})
    model = Model()
    x = rng.normal(size=(n, D)) * rng.uniform(0.5, 2.0, size=(n, 1))
    for lo in range(0, n, batch):
        ids = list(range(lo, min(lo + batch, n)))
        vf.upsert(ids, x[lo: lo + batch])
        model.upsert(ids, x[lo: lo + batch])
    return vf, model


def _check_segments(vf, min_sealed=2, appendable=True):
    segs = vf.info()["segments"]
    sealed = [s for s in segs if s["indexed"] and not s["appendable"] and s["points"]]
    assert len(sealed) >= min_sealed, segs
    if appendable:
        assert any(s["appendable"] and s["points"] for s in segs), segs
    return segs


@pytest.fixture(params=DISTANCES)
def distance(request):
    return request.param


def test_exact_equals_brute_force_across_segments(distance, rng):
    vf, model = _segmented_frame(distance, rng)
    _check_segments(vf)
    queries = rng.normal(size=(12, D))
    for q in queries:
        assert_hits_match(vf.search(q, limit=10, exact=True), distance, model.vectors, q, 10)
    # a stored vector as the query: itself first (score 1 / 0 for the metric's best)
    own = model.vectors[777]
    hits = vf.search(own, limit=3, exact=True)
    assert_hits_match(hits, distance, model.vectors, own, 3)
    if distance != "Dot":
        assert hits[0].id == 777
        assert hits[0].score == pytest.approx(1.0 if distance == "Cosine" else 0.0, abs=1e-5)


def test_exact_after_updates_and_deletes(distance, rng):
    vf, model = _segmented_frame(distance, rng)
    # re-upsert ids living in sealed segments and in the appendable one
    again = rng.choice(1500, size=250, replace=False).tolist()
    new = rng.normal(size=(250, D)) * 3
    vf.upsert(again, new)
    model.upsert(again, new)
    gone = rng.choice(1500, size=200, replace=False).tolist() + [10**9]  # one unknown id
    vf.delete(gone)
    model.delete(gone)
    assert vf.count() == len(model.vectors)
    segs = _check_segments(vf, min_sealed=2, appendable=False)
    assert any(s["deleted"] for s in segs), "deletes should leave tombstones in sealed segments"
    for q in rng.normal(size=(10, D)) * 2:
        assert_hits_match(vf.search(q, limit=15, exact=True), distance, model.vectors, q, 15)
    # the updated vector answers, not the old one
    moved = next(i for i in again if i in model.vectors)
    hits = vf.search(model.vectors[moved], limit=1, exact=True)
    if distance != "Dot":
        assert hits[0].id == moved
    dead = set(gone) & set(range(1500))
    for q in rng.normal(size=(5, D)):
        assert not dead & set(vf.search(q, limit=1500, exact=True).ids)


def test_exact_with_offset(distance, rng):
    vf, model = _segmented_frame(distance, rng, n=900)
    for q in rng.normal(size=(5, D)):
        for offset in (0, 1, 7, 895, 900, 5000):
            hits = vf.search(q, limit=6, offset=offset, exact=True)
            assert_hits_match(hits, distance, model.vectors, q, 6, offset=offset)
        # paging with offset walks the exact ranking
        pages = [vf.search(q, limit=10, offset=o, exact=True).ids for o in range(0, 50, 10)]
        assert sum(pages, []) == vf.search(q, limit=50, exact=True).ids


def test_exact_with_score_threshold(distance, rng):
    vf, model = _segmented_frame(distance, rng, n=900)
    better = HIGHER_IS_BETTER[distance]
    for q in rng.normal(size=(5, D)):
        full = vf.search(q, limit=900, exact=True)
        scores = np.array(full.scores)
        threshold = float(np.quantile(scores, 0.9 if better else 0.1))
        hits = vf.search(q, limit=900, score_threshold=threshold, exact=True)
        assert_hits_match(hits, distance, model.vectors, q, 900, threshold=threshold)
        assert all((s > threshold) if better else (s < threshold) for s in hits.scores)
        # strict: the threshold equal to the 5th score keeps exactly the first 4
        fifth = full[4].score
        cut = vf.search(q, limit=10, score_threshold=fifth, exact=True)
        assert cut.ids == full.ids[:4]
        # with offset: the threshold applies before the offset is skipped
        off = vf.search(q, limit=10, offset=2, score_threshold=fifth, exact=True)
        assert off.ids == full.ids[2:4]
        # a threshold nothing passes
        nothing = 1e9 if better else -1.0
        assert vf.search(q, limit=10, score_threshold=nothing, exact=True) == []


def test_score_threshold_as_a_numpy_scalar(rng):
    vf, model = _segmented_frame("Dot", rng, n=500)
    q = rng.normal(size=D)
    for t in (np.float32(0.5), np.int64(1), np.float64(0.5)):
        hits = vf.search(q, limit=500, score_threshold=t, exact=True)
        assert_hits_match(hits, "Dot", model.vectors, q, 500, threshold=float(t))


def test_batch_equals_single_queries(distance, rng):
    vf, model = _segmented_frame(distance, rng, n=900)
    queries = rng.normal(size=(7, D))
    batch = vf.search(queries, limit=8, offset=1, exact=True)
    assert isinstance(batch, list) and len(batch) == 7
    for q, got in zip(queries, batch):
        single = vf.search(q, limit=8, offset=1, exact=True)
        assert got.ids == single.ids
        np.testing.assert_allclose(got.scores, single.scores, rtol=1e-6)
        assert_hits_match(got, distance, model.vectors, q, 8, offset=1)
    # a list of lists is a batch too, and a one-row 2-D array is a batch of one
    as_lists = vf.search(queries.tolist(), limit=8, offset=1, exact=True)
    assert [r.ids for r in as_lists] == [r.ids for r in batch]
    one = vf.search(queries[:1], limit=3, exact=True)
    assert isinstance(one, list) and len(one) == 1


def test_limit_larger_than_collection(distance, rng):
    vf, model = _segmented_frame(distance, rng, n=700)
    vf.delete(list(range(0, 700, 3)))
    model.delete(list(range(0, 700, 3)))
    q = rng.normal(size=D)
    hits = vf.search(q, limit=10_000, exact=True)
    assert len(hits) == len(model.vectors)
    assert sorted(hits.ids) == sorted(model.vectors)
    assert_hits_match(hits, distance, model.vectors, q, 10_000)
    # same without exact=True: small segments are scanned, every point comes back
    assert sorted(vf.search(q, limit=10_000).ids) == sorted(model.vectors)


def test_empty_collection_returns_nothing(distance):
    vf = VectorFrame(D, distance, **SMALL)
    assert vf.search(np.ones(D), limit=5, exact=True) == []
    assert vf.search(np.ones((2, D)), limit=5) == [[], []]


# -- named vectors -------------------------------------------------------------------
NAMED = {"a": VectorParams(size=8, distance="Dot"), "b": VectorParams(size=4, distance="Euclid")}


def _named_frame(rng, n=1200):
    # 12 floats a point: indexing_threshold=10 KB seals at ~214 points
    vf = VectorFrame(vectors=NAMED, indexing_threshold=10, full_scan_threshold=1, progress=False)
    a = rng.normal(size=(n, 8))
    b = rng.normal(size=(n, 4))
    has_a = rng.random(n) < 0.7
    has_b = rng.random(n) < 0.6
    stored_a, stored_b = {}, {}
    for lo in range(0, n, 150):
        ids = list(range(lo, min(lo + 150, n)))
        va = [a[i] if has_a[i] else None for i in ids]
        vb = [b[i] if has_b[i] else None for i in ids]
        vf.upsert(ids, {"a": va, "b": vb})
        stored_a.update({i: a[i] for i in ids if has_a[i]})
        stored_b.update({i: b[i] for i in ids if has_b[i]})
    # row-wise points with only one of the names
    extra = [PointStruct(id=5000, vector={"a": [1.0] * 8}),
             {"id": 5001, "vector": {"b": [0.5] * 4}}]
    vf.upsert_points(extra)
    stored_a[5000] = np.ones(8)
    stored_b[5001] = np.full(4, 0.5)
    return vf, stored_a, stored_b


def test_named_vectors_search_each_name(rng):
    vf, stored_a, stored_b = _named_frame(rng)
    assert sum(s["indexed"] for s in vf.info()["segments"]) >= 2
    for qa, qb in zip(rng.normal(size=(6, 8)), rng.normal(size=(6, 4))):
        assert_hits_match(vf.search(qa, using="a", limit=10, exact=True), "Dot", stored_a, qa, 10)
        assert_hits_match(vf.search(qb, using="b", limit=10, exact=True), "Euclid", stored_b,
                          qb, 10)


def test_points_lacking_a_name_are_never_returned_for_it(rng):
    vf, stored_a, stored_b = _named_frame(rng)
    q = rng.normal(size=4)
    for exact in (True, False):
        everything = vf.search(q, using="b", limit=100_000, exact=exact)
        assert sorted(everything.ids) == sorted(stored_b)
        everything = vf.search(rng.normal(size=8), using="a", limit=100_000, exact=exact)
        assert sorted(everything.ids) == sorted(stored_a)
    # dropping the vector of a point by re-upserting it without that name
    vf.upsert([5000], {"b": [[0.0] * 4]})
    stored_a.pop(5000)
    stored_b[5000] = np.zeros(4)
    assert 5000 not in vf.search(np.ones(8), using="a", limit=100_000, exact=True).ids
    assert vf.search(np.zeros(4), using="b", limit=1, exact=True)[0].id == 5000


def test_named_vectors_brute_force_reference_is_not_trivial(rng):
    """Guard against a vacuous reference: different names rank differently."""
    vf, stored_a, stored_b = _named_frame(rng)
    ids_a, _ = brute_force("Dot", stored_a, np.ones(8), 20)
    ids_b, _ = brute_force("Euclid", stored_b, np.ones(4), 20)
    assert ids_a != ids_b
    assert vf.search(np.ones(8), using="a", limit=20, exact=True).ids == ids_a
