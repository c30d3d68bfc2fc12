"""Default search (no ``exact``) against exact search: recall@10 >= 0.95 on
clustered data (where annoy answers), on the tutorial's uniform random data
(where the calibration must send queries to exact scans), and on the real
pydocs-minilm embeddings when that data set is present."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import (
    Clusters,
    mean_recall,
    planner_costs,
    pydocs_or_skip,
    recall_vs_exact,
    uniform,
)

from nbvec import VectorFrame

TARGET = 0.95
def _strategies(vf, queries, k=10):
    outcome = vf._engine.search("", np.asarray(queries, dtype=np.float32), limit=k)
    return [(p.strategy, p.reason, p.search_k) for p in outcome.plans]


# where annoy must be what answers (for Dot and Manhattan the planner may find an
# exact scan cheaper at the search_k they need: then recall is checked alone)
ANNOY_EXPECTED = {"Cosine", "Euclid"}


@pytest.mark.parametrize("distance", ["Cosine", "Euclid", "Manhattan", "Dot"])
def test_recall_on_clustered_data(distance, record_property, monkeypatch):
    rng = np.random.default_rng(7)
    d, n = 32, 20_000
    clusters = Clusters(rng, d)
    # one sealed, indexed 20k segment (2500 KB) plus an appendable one
    vf = VectorFrame(d, distance, index="annoy", indexing_threshold=2500,
                     full_scan_threshold=10, progress=False)
    vf.upsert(np.arange(n), clusters.sample(n))
    vf.upsert(np.arange(n, n + 500), clusters.sample(500))
    segs = vf.info()["segments"]
    assert any(s["indexed"] and s["points"] == n for s in segs), segs
    queries = clusters.sample(200)
    recall = recall_vs_exact(vf, queries)  # whatever the planner picked (at 20k x 32: exact scans)
    record_property("recall", recall)
    assert recall >= TARGET, (recall, _strategies(vf, queries))
    # the calibrated annoy path itself: make exact scans look dear so annoy answers
    planner_costs(monkeypatch, exact_per_float=1e-6)
    plans = _strategies(vf, queries)
    record_property("plans", plans)
    if distance in ANNOY_EXPECTED:
        assert any(s == "annoy" for s, _, _ in plans), plans
    recall = recall_vs_exact(vf, queries)
    record_property("annoy recall", recall)
    assert recall >= TARGET, (recall, plans)


@pytest.mark.parametrize("index", ["annoy", "hnsw"])
def test_recall_on_uniform_random_data_like_the_tutorial(index, record_property):
    """Uniform data in 100-d: annoy's recall is poor at any affordable search_k,
    so its calibrated segments must be scanned exactly; HNSW may answer, at
    the target recall."""
    rng = np.random.default_rng(3)
    d, n = 100, 8_000
    vf = VectorFrame(d, "Cosine", index=index, indexing_threshold=1000, full_scan_threshold=10,
                     progress=False)
    data = uniform(rng, n, d)
    for lo in range(0, n, 2000):
        vf.upsert(range(lo, lo + 2000), data[lo: lo + 2000])
    segs = vf.info()["segments"]
    indexed = [s for s in segs if s["indexed"]]
    assert indexed, segs
    queries = uniform(rng, 100, d)
    plans = _strategies(vf, queries)
    record_property("plans", plans)
    recall = recall_vs_exact(vf, queries)
    record_property("recall", recall)
    assert recall >= TARGET, (recall, plans)
    if index == "hnsw":
        return
    # the calibration found no affordable search_k: indexed segments are scanned
    for s in indexed:
        assert s["vector.search_k"] is None, s
    assert all(strategy == "exact" for strategy, _, _ in plans if strategy != "skip"), plans
    assert any("calibration" in reason for _, reason, _ in plans), plans


def test_recall_on_the_tutorials_own_collection():
    """The tutorial's 1,000 x 100 collection with default options: exact."""
    rng = np.random.default_rng(0)
    vf = VectorFrame(100, "Cosine", progress=False)
    vf.upsert(range(1000), uniform(rng, 1000, 100))
    queries = uniform(rng, 50, 100)
    assert recall_vs_exact(vf, queries) == 1.0
    assert {s for s, _, _ in _strategies(vf, queries)} <= {"exact", "skip"}


@pytest.mark.realdata
@pytest.mark.slow
def test_recall_on_pydocs_minilm(record_property):
    base, queries, truth = pydocs_or_skip()
    vf = VectorFrame(base.shape[1], "Cosine", index="annoy", progress=False)  # default options
    vf.upsert(np.arange(len(base)), base)
    plans = _strategies(vf, queries)
    record_property("plans", plans)
    hits = vf.search(queries, limit=10)
    recall = mean_recall([h.ids for h in hits], truth)
    record_property("recall", recall)
    assert recall >= TARGET, (recall, plans)
    # the reference is the exact search too (the ground truth is exact cosine)
    exact = vf.search(queries[:50], limit=10, exact=True)
    exact_recall = mean_recall([h.ids for h in exact], truth[:50])
    assert exact_recall >= 0.99
    # the calibrated annoy prediction of recall holds for the real held-out queries
    seg = next(s for s in vf._engine.segments if s.indexes)
    index = seg.indexes[""]
    search_k = index.calibration.default_search_k
    assert search_k is not None
    found = index.query(vf._specs[""].metric.prepare(queries), 10, search_k)
    actual = mean_recall(found, truth)
    predicted = index.calibration.predicted_recall(search_k)
    record_property("annoy predicted vs actual", (predicted, actual))
    assert abs(predicted - actual) <= 0.02, (predicted, actual)
