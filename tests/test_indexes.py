"""The index registry and the HNSW segment index on its own: choosing a kind
(and the errors naming the choices), labels as segment rows, batch-first
queries, seeded one-thread builds, the held-out ef calibration, and index
files written and read back (never pickled)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import Clusters, brute_force, recall_at

import nbvec
from nbvec import VectorFrame
from nbvec._calibration import Calibration, interpolate_effort, mean_recall
from nbvec._config import EngineConfig
from nbvec._distance import metric_for
from nbvec._hnsw_index import HnswSegmentIndex
from nbvec._indexes import INDEXES, index_class, index_kind


@pytest.fixture(scope="module")
def points():
    clusters = Clusters(np.random.default_rng(5), 16)
    return clusters.sample(3000), clusters.sample(200)


def _index(points, n_jobs=1, **config):
    x, _ = points
    cfg = EngineConfig.from_kwargs(n_jobs=n_jobs, **config)
    return HnswSegmentIndex.create(x, np.arange(len(x)), metric_for("Euclid"), cfg)


# -- choosing an index -------------------------------------------------------------
def test_registry_names_the_kinds():
    assert set(INDEXES) == {"annoy", "hnsw"}
    assert index_class("hnsw") is HnswSegmentIndex
    with pytest.raises(nbvec.InvalidRequest, match="'annoy', 'hnsw'"):
        index_class("faiss")
    assert index_kind("hnsw", metric_for("Manhattan")) == "annoy"  # hnswlib has no L1
    assert index_kind("annoy", metric_for("Cosine")) == "annoy"


@pytest.mark.parametrize("kwargs,named", [
    ({"index": "foo"}, "'annoy', 'hnsw'"), ({"index": None}, "'annoy', 'hnsw'"),
    ({"index": "hnsw", "hnsw_m": 1}, "hnsw_m"), ({"hnsw_m": 0}, "hnsw_m"),
    ({"hnsw_m": "16"}, "hnsw_m"), ({"hnsw_ef_construct": 0}, "hnsw_ef_construct"),
    ({"recall_margin": 1.5}, "recall_margin"),
])
def test_bad_index_options_are_named(kwargs, named):
    with pytest.raises(nbvec.InvalidRequest, match=named):
        VectorFrame(4, **kwargs)


def test_client_index_option():
    with pytest.raises(nbvec.InvalidRequest, match="'annoy', 'hnsw'"):
        nbvec.Client(":memory:", index="foo")
    with pytest.raises(nbvec.InvalidRequest, match="hnsw_m"):
        client = nbvec.Client(":memory:", index="hnsw")
        client.create_collection("c", vectors_config=nbvec.models.VectorParams(
            size=4, distance="Cosine"), hnsw_config={"m": 1})


# -- the HNSW index ------------------------------------------------------------------
def test_labels_are_segment_rows(points):
    x, _ = points
    x = metric_for("Cosine").prepare(x)  # as a segment stores them
    rows = np.arange(0, len(x), 3)  # a segment whose other rows lack the vector
    idx = HnswSegmentIndex.build(x, rows, metric_for("Cosine"), seed=0, n_jobs=1)
    found = idx.query(x[rows[:5]], 4, ef=50)
    assert found.dtype == np.int64 and found.shape == (5, 4)
    assert found[:, 0].tolist() == rows[:5].tolist()
    assert np.isin(found, rows).all()


@pytest.mark.parametrize("distance", ["Cosine", "Euclid", "Dot"])
def test_scored_query_gives_the_graphs_scores_where_as_precise(points, distance):
    """query_scored: query's candidates, best first, with the graph's own
    float32 scores for Cosine and Euclid, as close to the float64 scores as
    a float32 re-score is; for Dot none (its scores are re-computed); one
    query alone gets the same bits as in a batch."""
    x, queries = points
    metric = metric_for(distance)
    x, queries = metric.prepare(x), metric.prepare(queries[:40])
    idx = HnswSegmentIndex.build(x, np.arange(len(x)), metric, seed=0, n_jobs=1)
    rows, scores = idx.query_scored(queries, 10, ef=40)
    np.testing.assert_array_equal(rows, idx.query(queries, 10, ef=40))
    for i in (0, 7):  # nearest_one: one query (d,), the same rows and (converted) score bits
        one_rows, distances = idx.nearest_one(queries[i], 10, 40)
        assert one_rows.dtype == np.int64 and one_rows.shape == (10,)
        np.testing.assert_array_equal(one_rows, rows[i])
        assert distances is None if scores is None else \
            idx.to_score(distances).tobytes() == scores[i].tobytes()
    if distance == "Dot":
        assert scores is None
        return
    assert scores.dtype == np.float32 and scores.shape == (40, 10)
    cand, q = x[rows].astype(np.float64), queries.astype(np.float64)[:, None, :]
    want = (cand * q).sum(-1) if distance == "Cosine" else np.sqrt(((cand - q) ** 2).sum(-1))
    rescored = metric.pair_scores(queries, x[rows])  # what re-scoring would return
    err, rescore_err = np.abs(scores - want).max(), np.abs(rescored - want).max()
    assert err <= max(2 * rescore_err, 4 * np.finfo(np.float32).eps * np.abs(want).max())
    assert (np.diff(metric.key(scores), axis=1) <= 0).all()  # best first
    one_rows, one_scores = idx.query_scored(queries[7:8], 10, ef=40)
    np.testing.assert_array_equal(one_rows[0], rows[7])
    np.testing.assert_array_equal(one_scores[0], scores[7])


def test_short_answers_are_padded(points):
    x, _ = points
    idx = HnswSegmentIndex.build(x, np.arange(3), metric_for("Euclid"), seed=0)
    assert idx.query(x[:2], 10).shape == (2, 3)  # at most the items there are
    rows, scores = idx.query_scored(x[:2], 10)
    assert rows.shape == scores.shape == (2, 3)
    assert all(set(r) == {0, 1, 2} for r in rows.tolist())  # every item, best first
    assert (np.diff(scores, axis=1) >= 0).all()  # Euclid: distances grow
    assert rows[:, 0].tolist() == [0, 1]  # each query is itself a stored item
    assert idx.nearest_one(x[0], 10) is None  # short: the single-query lane declines
    assert idx.nearest_one(x[0], 3)[0].tolist() == rows[0].tolist()


@pytest.mark.parametrize("search_k", [None, 200])
def test_annoy_nearest_one_is_its_batch_query(points, search_k):
    """An annoy forest answers one query (d,) with the rows a batch query
    gives it (to be re-scored: no scores), and declines a short answer."""
    from nbvec._annoy_index import AnnoySegmentIndex

    x, queries = points
    metric = metric_for("Euclid")
    idx = AnnoySegmentIndex.build(x, np.arange(len(x)), metric, 8, seed=0, n_jobs=1)
    batch = idx.query(queries[:5].astype(np.float32), 10, search_k)
    for q, want in zip(queries[:5].astype(np.float32), batch):
        rows, scores = idx.nearest_one(q, 10, search_k)
        assert rows.dtype == np.int64 and scores is None
        np.testing.assert_array_equal(rows, want)
    small = AnnoySegmentIndex.build(x, np.arange(4), metric, 2, seed=0, n_jobs=1)
    assert small.nearest_one(x[0], 10) is None
    assert sorted(small.nearest_one(x[0], 4)[0].tolist()) == [0, 1, 2, 3]


def test_filtered_traversal_returns_allowed_rows_only(points):
    """query(allowed=...) traverses the graph for allowed rows: every answer
    is allowed, and they are the nearest allowed rows (recall against a
    brute force over them), for a batch of queries at once."""
    x, queries = points
    idx = _index(points)
    allowed = np.zeros(len(x), dtype=bool)
    allowed[::4] = True
    found = idx.query(queries[:30], 10, ef=60, allowed=allowed.tolist().__getitem__)
    assert found.shape == (30, 10) and allowed[found].all()
    stored = {int(r): x[r] for r in np.flatnonzero(allowed)}
    recall = np.mean([recall_at(f, brute_force("Euclid", stored, q, 10)[0], 10)
                      for f, q in zip(found.tolist(), queries[:30])])
    assert recall >= 0.95, recall


def test_filtered_traversal_pads_what_it_cannot_find(points):
    """Fewer allowed rows than asked for: hnswlib answers nothing, so the
    query comes back all -1 (the search then answers it exactly); asked for
    as many as there are, the traversal finds exactly those."""
    x, queries = points
    idx = _index(points)
    allowed = np.zeros(len(x), dtype=bool)
    allowed[[5, 9, 13]] = True
    check = allowed.tolist().__getitem__
    assert (idx.query(queries[:2], 10, ef=50, allowed=check) == -1).all()
    found = idx.query(queries[:2], 3, ef=50, allowed=check)
    assert [set(r) for r in found.tolist()] == [{5, 9, 13}] * 2


def test_one_thread_builds_are_reproducible(points):
    _, q = points
    a, b = _index(points), _index(points)
    assert a.calibration == b.calibration
    np.testing.assert_array_equal(a.query(q, 10, 12), b.query(q, 10, 12))


def test_calibration_predicts_fresh_queries(points):
    """Held-out calibration against the recall of queries never stored."""
    x, q = points
    idx = _index(points)
    cal = idx.calibration
    assert cal.method == "held-out" and cal.default_search_k is not None
    assert cal.predicted_recall(cal.default_search_k) >= cal.target - 0.005
    assert idx.n_items == len(x)  # the held-out sample went in after calibration
    metric = metric_for("Euclid")
    truth = np.argsort(metric.scores(q, x), axis=1, kind="stable")[:, :10]
    for ef in cal.search_ks:
        actual = mean_recall(idx.query(q, 10, ef), truth, 10)
        assert abs(cal.predicted_recall(ef) - actual) <= 0.05, (ef, actual)


def test_hnsw_ef_is_the_ef(points):
    idx = _index(points)
    assert idx.effort_for(10, hnsw_ef=64) == 64
    assert idx.effort_for(10, hnsw_ef=3) == 10  # never below k
    default = idx.calibration.default_search_k
    assert idx.effort_for(10) == max(10, default)
    assert idx.effort_for(40) >= 4 * default


def test_cost_grows_with_ef_and_m(points):
    from nbvec._costs import COSTS

    idx = _index(points, hnsw_m=8)
    assert idx.cost(COSTS, 100, 10, 16) < idx.cost(COSTS, 200, 10, 16)
    assert COSTS.hnsw(100, 10, 16, 8) < COSTS.hnsw(100, 10, 16, 32)


def test_files_round_trip(points, tmp_path):
    _, q = points
    idx = _index(points, hnsw_m=8, hnsw_ef_construct=50)
    meta = idx.save_files(tmp_path, "seg0-vector")
    assert meta["kind"] == "hnsw" and (tmp_path / meta["file"]).exists()
    assert not list(tmp_path.glob("*.pkl")) and not list(tmp_path.glob("*.tmp"))
    back = INDEXES[meta["kind"]].load_files(tmp_path, meta, metric_for("Euclid"))
    assert (back.m, back.ef_construct, back.n_items) == (8, 50, idx.n_items)
    assert back.calibration == idx.calibration
    np.testing.assert_array_equal(back.query(q, 10, 20), idx.query(q, 10, 20))


def test_damaged_files_are_named(points, tmp_path):
    idx = _index(points)
    meta = idx.save_files(tmp_path, "s")
    with pytest.raises(nbvec.StorageCorrupted, match="space"):
        HnswSegmentIndex.load_files(tmp_path, meta, metric_for("Cosine"))
    path = tmp_path / meta["file"]
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(nbvec.StorageCorrupted, match="s.hnsw"):
        HnswSegmentIndex.load_files(tmp_path, meta, metric_for("Euclid"))
    path.unlink()
    with pytest.raises(nbvec.StorageCorrupted, match="missing"):
        HnswSegmentIndex.load_files(tmp_path, meta, metric_for("Euclid"))


# -- calibration helpers -------------------------------------------------------------
def test_calibration_helpers():
    cal = Calibration(k=2, search_ks=[10, 40], recalls=[0.5, 1.0])
    assert interpolate_effort(cal, 0.75) == 20
    assert cal.predicted_recall(5) == 0.5 and cal.predicted_recall(80) == 1.0
    found = np.array([[1, 2, -1], [3, 4, 5]])
    truth = np.array([[1, 9], [5, 3]])
    assert mean_recall(found, truth, 2) == 0.5  # one of two in each answer's top 2
    assert mean_recall(np.array([[7, 1, 2]]), np.array([[7, 2, 1]]), 2, exclude=[7]) == 1.0


@pytest.mark.parametrize("name", ["_indexes", "_hnsw_index", "_annoy_index", "_calibration",
                                  "_costs", "_search", "_planner", "_explain"])
def test_docstring_examples(name):
    import doctest
    import importlib

    module = importlib.import_module(f"nbvec.{name}")
    assert module.__doc__ and ">>>" in module.__doc__
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
