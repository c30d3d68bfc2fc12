"""The optimizer and the planner seen from VectorFrame: sealing and indexing at
indexing_threshold, splitting at max_segment_size, vacuum of tombstones,
merging small segments, compacting the appendable segment, indexed_only,
seeded determinism, and Cosine zero vectors as qdrant-client's local mode."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL, Clusters, Model, assert_hits_match, planner_costs

from nbvec import VectorFrame

D = 32  # 0.125 KB a point: indexing_threshold=50 seals at 400 points


def _segments(vf):
    return vf.info()["segments"]


def _sealed(vf):
    return [s for s in _segments(vf) if not s["appendable"]]


def _frame(**options):
    return VectorFrame(D, "Euclid", **{**SMALL, **options})


@pytest.mark.parametrize("index, effort", [("hnsw", "vector.ef"), ("annoy", "vector.search_k")])
def test_sealing_at_the_indexing_threshold(rng, index, effort):
    vf = _frame(index=index)
    x = rng.normal(size=(800, D))
    vf.upsert(range(399), x[:399])
    assert _sealed(vf) == [] and vf.info()["indexed_points"] == 0
    vf.upsert([399], x[399:400])  # 400 points = 50 KB: sealed and indexed now
    sealed = _sealed(vf)
    assert len(sealed) == 1
    assert sealed[0]["points"] == 400 and sealed[0]["indexed"]
    assert sealed[0]["vector_kb"] == pytest.approx(50.0)
    assert sealed[0]["vector.index"] == index
    assert effort in sealed[0] and "vector.index_mb" in sealed[0]
    appendable = [s for s in _segments(vf) if s["appendable"]]
    assert len(appendable) == 1 and appendable[0]["points"] == 0
    assert vf.info()["indexed_points"] == 400 and vf.info()["status"] == "green"
    vf.upsert(range(400, 800), x[400:])
    assert [s["points"] for s in _sealed(vf)] == [400, 400]
    model = Model()
    model.upsert(range(800), x)
    for q in rng.normal(size=(5, D)):
        assert_hits_match(vf.search(q, limit=10), "Euclid", model.vectors, q, 10)


def test_indexing_threshold_zero_never_seals(rng):
    vf = _frame(indexing_threshold=0)
    vf.upsert(range(2000), rng.normal(size=(2000, D)))
    assert _sealed(vf) == [] and vf.info()["indexed_points"] == 0
    assert vf.optimize(index_now=True)  # an explicit request still indexes
    assert [s["points"] for s in _sealed(vf)] == [2000]


def test_seal_splits_at_max_segment_size(rng):
    vf = _frame(max_segment_size=30)  # 240 points a segment
    x = rng.normal(size=(480, D))
    vf.upsert(range(480), x)
    sealed = _sealed(vf)
    assert len(sealed) == 2 and all(s["indexed"] for s in sealed)
    assert all(s["vector_kb"] <= 30 for s in sealed)
    assert sum(s["points"] for s in sealed) == 480
    model = Model()
    model.upsert(range(480), x)
    q = rng.normal(size=D)
    assert_hits_match(vf.search(q, limit=480, exact=True), "Euclid", model.vectors, q, 480)


def test_vacuum_after_deleted_threshold(rng):
    vf = _frame(vacuum_min_vector_number=10, deleted_threshold=0.2)
    x = rng.normal(size=(700, D))
    vf.upsert(range(600), x[:600])
    vf.upsert(range(600, 700), x[600:])
    model = Model()
    model.upsert(range(700), x)
    [seg] = _sealed(vf)
    assert seg["points"] == 600
    vf.delete(list(range(0, 120)))  # 20% of 600: not more than the threshold yet
    model.delete(range(0, 120))
    [same] = _sealed(vf)
    assert same["uid"] == seg["uid"] and same["deleted"] == 120 and same["points"] == 480
    vf.delete([120, 121])  # now past it: the segment is rebuilt without tombstones
    model.delete([120, 121])
    [fresh] = _sealed(vf)
    assert fresh["uid"] != seg["uid"]
    assert fresh["deleted"] == 0 and fresh["points"] == 478 and fresh["indexed"]
    assert vf.count() == len(model.vectors) == 578
    assert vf.retrieve([0, 121, 122, 650]).ids == [122, 650]
    for q in rng.normal(size=(8, D)):
        assert_hits_match(vf.search(q, limit=20), "Euclid", model.vectors, q, 20)
        assert_hits_match(vf.search(q, limit=20, exact=True), "Euclid", model.vectors, q, 20)


def test_updates_count_as_deletes_for_vacuum(rng):
    vf = _frame(vacuum_min_vector_number=10)
    vf.upsert(range(400), rng.normal(size=(400, D)))
    [seg] = _sealed(vf)
    new = rng.normal(size=(100, D))
    vf.upsert(range(100), new)  # 25% of the sealed segment replaced
    [fresh] = _sealed(vf)
    assert fresh["uid"] != seg["uid"] and fresh["deleted"] == 0 and fresh["points"] == 300
    assert vf.count() == 400
    rec = vf.retrieve([5], with_vectors=True)[0]
    np.testing.assert_allclose(rec.vector, new[5], rtol=1e-6)


def test_small_segments_are_merged(rng):
    vf = _frame(vacuum_min_vector_number=10)
    x = rng.normal(size=(800, D))
    # the same keys with other kinds in each segment: the merge must keep every type
    vf.upsert(range(400), x[:400], payload=[{"x": i, "b": True} for i in range(400)])
    vf.upsert(range(400, 800), x[400:], payload=[{"x": i + 0.5, "b": "s"} for i in range(400, 800)])
    vf.set_payload({"edited": [1, {"n": None}]}, ids=[300, 700])  # in sealed segments
    assert [s["points"] for s in _sealed(vf)] == [400, 400]
    gone = list(range(0, 250)) + list(range(400, 650))
    vf.delete(gone)  # each vacuumed to 150 points (18.75 KB < 25 KB): then merged
    sealed = _sealed(vf)
    assert [s["points"] for s in sealed] == [300], sealed
    assert sealed[0]["indexed"] and sealed[0]["deleted"] == 0
    model = Model()
    model.upsert(range(800), x)
    model.delete(gone)
    assert sorted(vf.retrieve(range(800)).ids) == sorted(model.vectors)
    for q in rng.normal(size=(5, D)):
        assert_hits_match(vf.search(q, limit=300), "Euclid", model.vectors, q, 300)
    got = {r.id: r.payload for r in vf.retrieve([299, 300, 700, 799])}
    assert got == {299: {"x": 299, "b": True}, 300: {"x": 300, "b": True, "edited": [1, {"n": None}]},
                   700: {"x": 700.5, "b": "s", "edited": [1, {"n": None}]},
                   799: {"x": 799.5, "b": "s"}}
    assert [type(got[i]["x"]) for i in (299, 700)] == [int, float]
    assert [type(got[i]["b"]) for i in (299, 700)] == [bool, str]


def test_repeated_upserts_of_one_id_are_compacted(rng):
    vf = _frame(vacuum_min_vector_number=10)
    for i in range(60):
        vf.upsert([7], rng.normal(size=(1, D)), payload=[{"i": i}])
    assert vf.count() == 1
    [app] = _segments(vf)
    assert app["appendable"] and app["deleted"] < 12, app
    assert vf.retrieve([7])[0].payload == {"i": 59}


def test_indexed_only_skips_big_unindexed_segments(rng):
    vf = _frame()
    x = rng.normal(size=(700, D))
    vf.upsert(range(700), x[:700])  # sealed at once
    vf.upsert(range(700, 1000), rng.normal(size=(300, D)))  # 37.5 KB, not indexed
    q = rng.normal(size=D)
    found = vf.search(q, limit=1000, indexed_only=True).ids
    assert sorted(found) == list(range(700))
    assert len(vf.search(q, limit=1000).ids) == 1000
    outcome = vf._engine.search("", q[None].astype(np.float32), limit=10, indexed_only=True)
    assert [p.strategy for p in outcome.plans].count("skip") == 1


def test_small_segments_are_scanned_exactly(rng):
    vf = _frame(full_scan_threshold=100)  # every segment here is under 100 KB
    vf.upsert(range(1200), rng.normal(size=(1200, D)))
    outcome = vf._engine.search("", rng.normal(size=(3, D)).astype(np.float32), limit=10)
    strategies = [p.strategy for p in outcome.plans]
    assert "annoy" not in strategies and "exact" in strategies


# -- determinism ------------------------------------------------------------------------
def _annoy_frame(seed=0):
    rng = np.random.default_rng(0)
    clusters = Clusters(rng, 128)
    vf = VectorFrame(128, "Euclid", index="annoy", indexing_threshold=3000,
                     full_scan_threshold=10, n_trees=10, seed=seed, progress=False)
    vf.upsert(range(6000), clusters.sample(6000))
    return vf, clusters.sample(40)


def test_seeded_builds_give_identical_ann_results():
    a, queries = _annoy_frame()
    b, queries_b = _annoy_frame()
    np.testing.assert_array_equal(queries, queries_b)
    plans = a._engine.search("", queries, limit=10).plans
    assert "annoy" in [p.strategy for p in plans], plans  # the ANN path is what is compared
    assert [s.get("vector.search_k") for s in _segments(a)] == \
           [s.get("vector.search_k") for s in _segments(b)]
    ra, rb = a.search(queries, limit=10), b.search(queries, limit=10)
    assert [r.ids for r in ra] == [r.ids for r in rb]
    assert [r.scores.tolist() for r in ra] == [r.scores.tolist() for r in rb]


# -- Cosine zero vectors, as qdrant-client's local mode ---------------------------------------
def test_cosine_zero_vector_like_qdrant_local_mode(rng):
    qdrant_client = pytest.importorskip("qdrant_client")
    from qdrant_client import models as qm

    d = 6
    x = rng.normal(size=(30, d))
    x[4] = 0.0
    x[17] = 0.0
    client = qdrant_client.QdrantClient(":memory:")
    client.create_collection("z", vectors_config=qm.VectorParams(size=d,
                                                                 distance=qm.Distance.COSINE))
    client.upsert("z", points=qm.Batch(ids=list(range(30)), vectors=x.tolist()))
    vf = VectorFrame(d, "Cosine", progress=False)
    vf.upsert(range(30), x)
    for q in [rng.normal(size=d), x[4], np.zeros(d), x[0]]:
        theirs = client.query_points("z", query=q.tolist(), limit=30).points
        ours = vf.search(q, limit=30)
        assert sorted(ours.ids) == sorted(p.id for p in theirs) == list(range(30))
        want = {p.id: p.score for p in theirs}
        for p in ours:
            assert p.score == pytest.approx(want[p.id], abs=1e-5), (q, p.id)
        np.testing.assert_allclose(ours.scores, [p.score for p in theirs], atol=1e-5)
    stored = vf.retrieve([4], with_vectors=True)[0].vector
    assert stored == client.retrieve("z", [4], with_vectors=True)[0].vector == [0.0] * d


# -- plans of unfiltered searches ---------------------------------------------------------
def test_unfiltered_plans_are_kept_until_their_inputs_change(rng, monkeypatch,
                                                             exact_looks_dear):
    """A repeated unfiltered request reuses its plans; a write (new segment
    version), another index default, another cost model or a timed
    (explain) search makes new ones."""
    clusters = Clusters(rng, D)
    vf = _frame(index="hnsw", full_scan_threshold=1)
    vf.upsert(range(800), clusters.sample(800))
    q = clusters.sample(1).astype(np.float32)

    def plans(limit=10, **kwargs):
        return [p for p in vf._engine.search("", q, limit=limit, **kwargs).plans
                if p.strategy != "skip"]

    first = plans()
    assert first and all(a is b for a, b in zip(first, plans()))
    assert not any(a is b for a, b in zip(first, plans(timed=True)))
    assert not any(a is b for a, b in zip(first, plans(limit=5)))
    assert not any(a is b for a, b in zip(first, plans(hnsw_ef=50)))
    index = next(s for s in vf._engine.segments if s.indexes).indexes[""]
    index.calibration.default_search_k += 7
    moved = plans()
    assert first[0].strategy == "hnsw" and moved[0] is not first[0]
    assert moved[0].search_k == first[0].search_k + 7
    planner_costs(monkeypatch, exact_per_float=1e-5)
    assert plans()[0] is not moved[0]
    again = plans()
    vf.set_payload({"x": 1}, ids=[0])  # a write: the segment's version moves on
    assert plans()[0] is not again[0]
