"""Search through HNSW segments (``index="hnsw"``): recall against exact
search, the same answers as annoy segments with ``exact=True``, and filtered
search, recommend, groups, ``indexed_only`` and ``explain()`` through the
HNSW path (checked against exact search / a numpy brute force). The index
path is forced where the planner would scan small test segments exactly, by
making exact scans look dear to the cost model."""

from __future__ import annotations

import gc
import threading
import warnings
import weakref

import numpy as np
import pytest
from conftest import (
    GRAPH_FRAME,
    HIGHER_IS_BETTER,
    Clusters,
    assert_hits_match,
    brute_force,
    mean_recall,
    planner_costs,
    pydocs_or_skip,
    recall_at,
    recall_vs_exact,
    sealed_plan,
)

import nbvec
from nbvec import VectorFrame

TARGET = 0.95
D, N = 32, 8000
# GRAPH_FRAME: one sealed 8,000-point segment (1,000 KB) plus an appendable
# one; one build thread, so the graph (and every answer) is the same on every run


def _payload(labels):
    return [{"cluster": int(c), "n": i % 100} for i, c in enumerate(labels.tolist())]


class Data:
    def __init__(self, seed=11):
        rng = np.random.default_rng(seed)
        self.clusters = Clusters(rng, D)
        self.labels = rng.integers(0, len(self.clusters.centers), N + 300)
        self.x = (self.clusters.centers[self.labels]
                  + rng.normal(size=(N + 300, D))).astype(np.float32)
        self.queries = self.clusters.sample(100)

    def frame(self, distance="Cosine", **options):
        vf = VectorFrame(D, distance, **{**GRAPH_FRAME, **options})
        vf.upsert(np.arange(N), self.x[:N], payload=_payload(self.labels[:N]))
        vf.upsert(np.arange(N, N + 300), self.x[N:], payload=_payload(self.labels[N:]))
        return vf

    def stored(self, where=lambda i: True):
        return {i: self.x[i] for i in range(N + 300) if where(i)}


@pytest.fixture(scope="module")
def data():
    return Data()


@pytest.fixture(scope="module")
def hnsw(data):
    return data.frame(index="hnsw")


def _one_segment(data, distance="Cosine", index="hnsw"):
    """A new frame whose N points all sit in one ``index`` segment (the appendable one empty)."""
    vf = VectorFrame(D, distance, **{**GRAPH_FRAME, "index": index})
    vf.upsert(np.arange(N), data.x[:N], payload=_payload(data.labels[:N]))
    return vf


def _held_index(vf):
    """The index of the one segment that holds points."""
    return next(s for s in vf._engine.segments if s.n).indexes[""]


# (index, distance) of the one-segment frames; annoy's calibration finds no
# affordable search_k over this Dot data (it plans exact scans), so no annoy Dot;
# Manhattan vectors get annoy forests whichever index the collection has
LANES = [("hnsw", "Cosine"), ("hnsw", "Euclid"), ("hnsw", "Dot"), ("annoy", "Cosine"),
         ("annoy", "Euclid"), ("annoy", "Manhattan")]


@pytest.fixture(scope="module")
def one_index(data):
    """{(index, distance): a frame whose points all sit in one segment of that index}."""
    return {(index, distance): _one_segment(data, distance, index=index)
            for index, distance in LANES}


def _plans(vf, queries, **kwargs):
    out = vf._engine.search("", np.atleast_2d(np.asarray(queries, np.float32)), limit=10,
                            **kwargs)
    return [p.strategy for p in out.plans]


def test_segments_get_hnsw_indexes(hnsw):
    sealed = [s for s in hnsw.info()["segments"] if s["indexed"]]
    assert len(sealed) == 1 and sealed[0]["points"] == N
    seg = sealed[0]
    assert seg["vector.index"] == "hnsw"
    assert (seg["vector.m"], seg["vector.ef_construct"]) == (16, 100)
    assert seg["vector.ef"] >= 10 and seg["vector.calibrated_recall"] >= 0.97


@pytest.mark.parametrize("distance", ["Cosine", "Euclid", "Dot"])
def test_recall_on_clustered_data(data, distance, monkeypatch, record_property):
    vf = data.frame(distance, index="hnsw")
    assert recall_vs_exact(vf, data.queries) >= TARGET  # whatever the planner picked
    planner_costs(monkeypatch, exact_per_float=1e-6)  # exact_looks_dear, from here on
    plans = _plans(vf, data.queries)
    assert "hnsw" in plans, plans
    recall = recall_vs_exact(vf, data.queries)
    record_property("recall", recall)
    assert recall >= TARGET, (recall, plans)


def test_manhattan_falls_back_to_annoy(data):
    vf = VectorFrame(D, "Manhattan", index="hnsw", **{**GRAPH_FRAME, "indexing_threshold": 100})
    vf.upsert(np.arange(1000), data.x[:1000])
    kinds = {s.get("vector.index") for s in vf.info()["segments"] if s["indexed"]}
    assert kinds == {"annoy"}


def test_exact_answers_equal_through_either_index(data, hnsw):
    annoy = data.frame(index="annoy", n_trees=5)
    for kwargs in ({}, {"where": "cluster < 10"}, {"where": "n == 7", "offset": 3},
                   {"score_threshold": 0.5}):
        a = annoy.search(data.queries, limit=10, exact=True, **kwargs)
        h = hnsw.search(data.queries, limit=10, exact=True, **kwargs)
        for ra, rh in zip(a, h):
            assert ra.ids == rh.ids and list(ra.scores) == list(rh.scores), kwargs


@pytest.mark.parametrize("distance", ["Cosine", "Euclid", "Dot"])
def test_default_search_scores_are_the_points_scores(data, distance, exact_looks_dear):
    """Every score the HNSW path returns is that point's score to float32
    precision (the graph's own for Cosine and Euclid, re-computed for Dot),
    hits best first; a query alone gets the same ids and score bits as in a
    batch."""
    vf = data.frame(distance, index="hnsw")
    assert "hnsw" in _plans(vf, data.queries)
    stored = data.stored()
    batch = vf.search(data.queries[:20], limit=10)
    for q, hits in zip(data.queries[:20], batch):
        got = dict(zip(hits.ids, hits.scores))
        ids, scores = brute_force(distance, {i: stored[i] for i in got}, q, 10)
        exact = dict(zip(ids, scores))
        ordered = [exact[i] * (1 if HIGHER_IS_BETTER[distance] else -1) for i in hits.ids]
        # best first, as the float64 scores order them, up to float32 near-ties
        assert all(a >= b - 1e-6 for a, b in zip(ordered, ordered[1:])), ordered
        np.testing.assert_allclose([got[i] for i in ids], scores, rtol=1e-6, atol=1e-6)
        one = vf.search(q, limit=10)
        assert one.ids == hits.ids and one.scores.tobytes() == hits.scores.tobytes()


@pytest.mark.parametrize("where,share", [("n < 50", "half, random"), ("n == 3", "1%, random"),
                                         ("cluster < 3", "a few whole clusters")])
def test_filtered_search(data, hnsw, exact_looks_dear, where, share):
    """Post-filtered HNSW candidates, with an exact scan or a partition probe
    where the filter's matches lie away from the query: recall against a
    brute force over the matching points."""
    payload = _payload(data.labels)
    keep = {"n < 50": lambda p: p["n"] < 50, "n == 3": lambda p: p["n"] == 3,
            "cluster < 3": lambda p: p["cluster"] < 3}[where]
    stored = data.stored(lambda i: keep(payload[i]))
    results = hnsw.search(data.queries, where=where, limit=10)
    recalls = []
    for q, hits in zip(data.queries, results):
        ids, _ = brute_force("Cosine", stored, q, 10)
        assert set(hits.ids) <= set(stored), share
        recalls.append(recall_at(hits.ids, ids, 10))
    assert np.mean(recalls) >= TARGET, (share, np.mean(recalls))
    plan = hnsw.explain(data.queries, where=where, limit=10).to_pandas()
    assert set(plan["strategy"]) <= {"hnsw", "exact", "skip", "partition"}


def test_explain_through_hnsw(data, hnsw, exact_looks_dear):
    plan = hnsw.explain(data.queries[:5], limit=10).to_pandas()
    row = plan[plan["strategy"] == "hnsw"].iloc[0]
    assert row["index"] == "hnsw" and row["ef"] >= 10 and row["search_k"] is None
    assert 0.95 <= row["predicted_recall"] <= 1.0
    # Cosine: the graph's own scores, no pair scored again
    assert row["scored"] == 0 and row["returned"] > 0
    # hnsw_ef maps directly to ef
    plan = hnsw.explain(data.queries[:5], limit=10, hnsw_ef=77).to_pandas()
    assert plan[plan["strategy"] == "hnsw"]["ef"].tolist() == [77]


def test_indexed_only_skips_the_unindexed_segment(data, hnsw, exact_looks_dear):
    results = hnsw.search(data.queries[:10], limit=10, indexed_only=True)
    for hits in results:
        assert all(i < N for i in hits.ids)  # the appendable segment holds ids >= N
    assert "hnsw" in _plans(hnsw, data.queries[:10], indexed_only=True)


def test_recommend_through_hnsw(data, hnsw, exact_looks_dear):
    pos, neg = [1, 2, 3], [4000]
    got = hnsw.recommend(pos, neg, limit=10)
    want = hnsw.recommend(pos, neg, limit=10, exact=True)
    assert recall_at(got.ids, want.ids, 10) >= 0.9
    assert not set(got.ids) & {1, 2, 3, 4000}


def test_groups_through_hnsw(data, hnsw, exact_looks_dear):
    q = data.queries[0]
    got = hnsw.search_groups(q, "cluster", limit=3, group_size=2)
    want = hnsw.search_groups(q, "cluster", limit=3, group_size=2, exact=True)
    assert [g.id for g in got] == [g.id for g in want] and len(got) == 3
    for g in got:
        assert all(data.labels[h.id] == g.id for h in g.hits)


def test_deleted_points_never_come_back(data, exact_looks_dear):
    vf = data.frame(index="hnsw")
    gone = list(range(0, N, 3))
    vf.delete(gone)
    stored = {i: v for i, v in data.stored().items() if i not in set(gone)}
    for q, hits in zip(data.queries[:20], vf.search(data.queries[:20], limit=10)):
        assert not set(hits.ids) & set(gone)
        ids, _ = brute_force("Cosine", stored, q, 10)
        assert recall_at(hits.ids, ids, 10) >= 0.8


def test_client_with_hnsw_honours_hnsw_config(data):
    from nbvec import models

    client = nbvec.Client(":memory:", index="hnsw")
    client.create_collection(
        "c", vectors_config=models.VectorParams(size=D, distance=models.Distance.COSINE),
        hnsw_config=models.HnswConfigDiff(m=8, ef_construct=40, full_scan_threshold=10),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=500))
    client.upsert("c", points=models.Batch(ids=list(range(4000)), vectors=data.x[:4000].tolist()))
    info = client.get_collection("c")
    assert (info.config.hnsw_config.m, info.config.hnsw_config.ef_construct) == (8, 40)
    frame = client._frame("c")
    indexes = [idx for s in frame._engine.segments for idx in s.indexes.values()]
    assert indexes and all((i.kind, i.m, i.ef_construct) == ("hnsw", 8, 40) for i in indexes)
    hits = client.query_points("c", query=data.x[7].tolist(), limit=3).points
    assert hits[0].id == 7


def test_client_default_is_hnsw():
    from nbvec import models

    client = nbvec.Client(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(
        size=4, distance=models.Distance.DOT))
    assert client._frame("c")._config.index == "hnsw"
    assert nbvec.Client(":memory:", index="annoy")._index == "annoy"


@pytest.mark.realdata
@pytest.mark.slow
def test_recall_on_pydocs_minilm(record_property):
    base, queries, truth = pydocs_or_skip()
    vf = VectorFrame(base.shape[1], "Cosine", index="hnsw", progress=False)  # default options
    vf.upsert(np.arange(len(base)), base)
    plans = _plans(vf, queries)
    record_property("plans", plans)
    assert "hnsw" in plans  # at 49k x 384 the graph is far cheaper than a scan
    hits = vf.search(queries, limit=10)
    recall = mean_recall([h.ids for h in hits], truth)
    record_property("recall", recall)
    assert recall >= TARGET, (recall, plans)
    # the held-out calibration predicts the real queries' recall
    seg = next(s for s in vf._engine.segments if s.indexes)
    index = seg.indexes[""]
    ef = index.calibration.default_search_k
    found = index.query(vf._specs[""].metric.prepare(queries), 10, ef)
    actual = mean_recall(found, truth)
    assert abs(index.calibration.predicted_recall(ef) - actual) <= 0.02


def test_assert_hits_match_through_hnsw_with_offset(data, hnsw, exact_looks_dear):
    """With a generous ef the HNSW path equals the brute force, offset included."""
    stored = data.stored()
    for q in data.queries[:5]:
        hits = hnsw.search(q, limit=5, offset=2, hnsw_ef=400)
        assert_hits_match(hits, "Cosine", stored, q, 5, offset=2)


def test_hnsw_frames_survive_save_and_load(data, hnsw, exact_looks_dear, tmp_path):
    """Index files written and read back (hnswlib's own format, no pickle):
    the loaded frame answers through its HNSW segments exactly as before."""
    hnsw.save(tmp_path / "snap")
    files = [p.name for p in (tmp_path / "snap").rglob("*") if p.is_file()]
    assert any(f.endswith(".hnsw") for f in files) and not any(f.endswith(".pkl") for f in files)
    back = VectorFrame.load(tmp_path / "snap")
    assert "hnsw" in _plans(back, data.queries)
    for a, b in zip(hnsw.search(data.queries, limit=10), back.search(data.queries, limit=10)):
        assert a.ids == b.ids and list(a.scores) == list(b.scores)
    seg = next(s for s in back.info()["segments"] if s["indexed"])
    assert seg["vector.index"] == "hnsw" and seg["vector.ef"] is not None


def test_planner_scans_exactly_where_that_is_cheaper(data, hnsw):
    """The measured HNSW cost per query against the exact scan's, per segment:
    a 1% filter is answered exactly over its matches, an unfiltered query
    through the graph (8,000 x 32: ~20 us at the calibrated ef vs ~30 us)."""
    plan = hnsw.explain(data.queries[:3], limit=10).to_pandas()
    assert plan["strategy"].tolist()[0] == "hnsw"
    plan = hnsw.explain(data.queries[:3], where="n == 3", limit=10).to_pandas()
    first = plan.iloc[0]
    assert first["strategy"] == "exact" and "cheaper than hnsw at ef=" in first["reason"]


@pytest.mark.parametrize("index", ["hnsw", "annoy"])
def test_a_filter_the_index_keeps_missing_is_planned_for_directly(data, exact_looks_dear,
                                                                  monkeypatch, index):
    """Whole clusters selected, queries elsewhere: the index leaves most
    queries short and exact search answers them; after a few, the planner
    remembers and plans for matches away from the queries directly: a
    partition probe, or an exact scan where the probe costs more, until a
    write."""
    vf = data.frame(index=index)
    where = "cluster < 3"
    payload = _payload(data.labels)
    stored = data.stored(lambda i: payload[i]["cluster"] < 3)
    centers = data.clusters.centers
    nearest = ((data.queries[:, None, :] - centers[None]) ** 2).sum(-1).argmin(1)
    far = data.queries[nearest >= 3][:8]
    first = vf._engine.search("", far[:4], limit=10, allowed=vf._allowed(None, where, None, None),
                              timed=True)  # timed: the plans carry their figures
    sealed = next(p for p in first.plans if p.strategy != "skip")
    assert sealed.strategy == index and sealed.fallbacks > 0.3 * 4, sealed
    plan = sealed_plan(vf, far[4:], where=where)
    assert plan.strategy == "partition" and "earlier queries" in plan.reason, plan
    recall = mean_recall([hits.ids for hits in vf.search(far, where=where, limit=10)],
                         [ids for ids, _ in brute_force("Cosine", stored, far, 10)])
    assert recall >= TARGET, recall
    # a probe that reads dear: exact over the matches, every answer exact
    planner_costs(monkeypatch, exact_per_float=1e-6, scan_per_float=1e-3)  # reads look dear
    plan = sealed_plan(vf, far[4:], where=where)
    assert plan.strategy == "exact" and "exact over the matches" in plan.reason, plan
    for q, hits in zip(far, vf.search(far, where=where, limit=10)):
        assert hits.ids == brute_force("Cosine", stored, q, 10)[0]
    vf.set_payload({"touched": True}, ids=[0])  # a new segment version: start afresh
    assert {p.strategy for p in vf._engine.search(
        "", far[:1], limit=10, allowed=vf._allowed(None, where, None, None)).plans} >= {index}


def test_short_post_filtered_queries_traverse_the_graph(data):
    """A random filter leaves a query's post-filtered candidates short by bad
    luck: the graph is searched again for allowed rows only (not an exact
    scan), whose answers are allowed rows, at a recall like the rest."""
    from nbvec._distance import Queries
    from nbvec._search import index_topk

    vf = data.frame(index="hnsw")
    seg = next(s for s in vf._engine.segments if s.indexes)
    index, metric = seg.indexes[""], vf._specs[""].metric
    valid = np.random.default_rng(3).random(seg.n) < 0.2  # allowed at random, ~20%
    asked = []

    def allowed():
        asked.append(1)
        return valid.tolist().__getitem__

    queries = Queries(metric, data.queries)
    rows, scores, exact, _ = index_topk(metric, index, queries,
                                        seg.vectors[""], valid, 10, 4,
                                        int(valid.sum()), allowed=allowed)
    assert asked and exact == 0  # short ones traversed, none scanned exactly
    assert valid[rows].all()
    stored = {int(seg.ids[r]): seg.vectors[""][r] for r in np.flatnonzero(valid)}
    recall = mean_recall(seg.ids[rows].tolist(),
                         [ids for ids, _ in brute_force("Dot", stored, queries.prepared, 10)])
    assert recall >= 0.9, recall


@pytest.mark.parametrize("index_kind, distance", [("hnsw", "Cosine"), ("hnsw", "Euclid"),
                                                   ("hnsw", "Dot"), ("annoy", "Cosine"),
                                                   ("annoy", "Manhattan")])
def test_one_post_filtered_query_equals_the_general_path(data, monkeypatch, index_kind,
                                                         distance):
    """One query whose post-filtered candidates hold k allowed rows takes a
    1-D shortcut: its rows and score bits equal its answer beside another
    query (the general path), from allowed rows with no fallback; a query
    whose candidates hold fewer (matches away from it) is declined by the
    shortcut and answered by the general path, equal too."""
    import nbvec._search as search
    from nbvec._distance import Queries

    vf = data.frame(distance, index=index_kind)
    seg = next(s for s in vf._engine.segments if s.indexes)
    index, metric, vectors = seg.indexes[""], vf._specs[""].metric, seg.vectors[""]
    effort = index.calibration.default_search_k  # annoy's search_k, HNSW's ef
    shortcut, answers = search._one_post_filtered, []

    def spy(*args):
        answers.append(shortcut(*args))
        return answers[-1]

    monkeypatch.setattr(search, "_one_post_filtered", spy)
    nearness = metric.key(metric.scores(metric.prepare(data.queries[:1]), vectors[: seg.n]))[0]
    far = np.argsort(nearness)[: int(0.3 * seg.n)]  # the 30% of rows farthest from query 0
    masks = {"random 30%": np.random.default_rng(5).random(seg.n) < 0.3,
             "away from query 0": np.isin(np.arange(seg.n), far)}
    masks["random 30%"][0] = False  # row 0, a stand-in for others in the score gather
    taken = {name: [] for name in masks}  # per single call: shortcut taken, declined or not offered
    for name, valid in masks.items():
        for i in range(0, 40, 2):
            pair = data.queries[i : i + 2]
            if i == 2:  # a query at row 0: a stand-in, were it ranked, would come first
                pair = np.stack([vectors[0], pair[1]])
            offered = len(answers)
            rows, scores, fallbacks, scored = search.index_topk(
                metric, index, Queries(metric, pair[:1]), vectors, valid, 10, effort,
                int(valid.sum()))
            beside = search.index_topk(metric, index, Queries(metric, pair), vectors, valid,
                                       10, effort, int(valid.sum()))
            assert rows[0].tolist() == beside[0][0].tolist(), (name, i)
            assert scores[0].tobytes() == beside[1][0].tobytes(), (name, i)
            assert valid[rows].all()
            answer = answers[offered] if len(answers) > offered else "not offered"
            taken[name].append(answer is not None and answer != "not offered")
            if taken[name][-1]:  # the shortcut's answer
                assert fallbacks == 0 and scored >= 10
            elif name == "away from query 0" and i == 0:
                assert answer is None  # offered (a full answer) and declined
    # at random, most single calls take the shortcut, the first among them
    assert sum(taken["random 30%"]) >= 15 and taken["random 30%"][0]


@pytest.mark.parametrize("lane", [False, True])
def test_cosine_graph_normalizes_each_query(data, hnsw, one_index, exact_looks_dear, lane):
    """A Cosine graph normalizes each query itself (hnswlib's "cosine", in
    float32): a query scaled by 1e3 or 1e-3 gets the ids and scores of the
    unit one; a zero query scores 0 against every point, as the exact path
    does; so does a finite query whose square norm overflows float32 (both
    paths divide it by an infinite norm). Through the general path (two
    segments hold points) and the graph's answer alone (one does)."""
    q = data.queries[:1] / np.linalg.norm(data.queries[:1])
    vf = one_index["hnsw", "Cosine"] if lane else hnsw
    answers = [vf._engine.index_answer("", v.astype(np.float32), 5) for v in
               (q[0], np.zeros(D), np.full(D, 3e38))]
    assert all((a is not None) == lane for a in answers)
    unit = vf.search(q[0], limit=10)
    assert "hnsw" in _plans(vf, q)
    for scale in (1e3, 1e-3):
        got = vf.search((q[0] * scale).astype(np.float32), limit=10)
        assert got.ids == unit.ids
        np.testing.assert_allclose(got.scores, unit.scores, atol=1e-6)
    zero = vf.search(np.zeros(D, np.float32), limit=5)
    assert len(zero) == 5 and np.all(zero.scores == 0)
    assert np.all(vf.search(np.zeros(D, np.float32), limit=5, exact=True).scores == 0)
    huge = np.full(D, 3e38, np.float32)  # its square norm is inf in float32, every value finite
    assert np.all(vf.search(huge, limit=3).scores == 0)
    assert np.all(vf.search(huge, limit=3, exact=True).scores == 0)


def test_cosine_graph_answers_never_prepare_the_queries(data, one_index, exact_looks_dear,
                                                        monkeypatch):
    """An unfiltered search answered by Cosine graphs alone hands the graph
    the queries as given (no normalization pass of nbvec's own); a filtered
    one, whose candidates are re-scored, prepares them once."""
    from nbvec._distance import Metric

    calls = []
    prepare = Metric.prepare
    monkeypatch.setattr(Metric, "prepare", lambda self, v: calls.append(len(v)) or prepare(self, v))
    vf = one_index["hnsw", "Cosine"]
    assert sorted(_plans(vf, data.queries[:3])) == ["hnsw", "skip"]  # + the empty appendable
    calls.clear()
    vf.search(data.queries[:3], limit=10)
    vf.search(data.queries[0], limit=10)
    assert calls == []
    vf.search(data.queries[:3], limit=10, where="n < 50")
    assert calls == [3]


def test_cosine_graphs_declared_either_way_load(data, hnsw, exact_looks_dear, tmp_path):
    """A Cosine graph file declares its distance, inner product ("ip" over
    normalized vectors, as every nbvec wrote it); one declaring hnswlib's
    "cosine" space loads too, and both answer as the frame saved; one
    declaring L2 is refused, naming the space."""
    def declare(folder, space) -> int:
        hnsw.save(folder)
        edited = 0
        for path in folder.rglob("*.json"):
            text = path.read_text()
            if '"space": "ip"' in text:
                path.write_text(text.replace('"space": "ip"', f'"space": "{space}"'))
                edited += 1
        return edited

    assert declare(tmp_path / "l2", "l2"), "no stored HNSW metadata declaring inner product"
    with pytest.raises(nbvec.StorageCorrupted, match="space 'l2'"):
        VectorFrame.load(tmp_path / "l2")
    assert declare(tmp_path / "snap", "cosine")
    back = VectorFrame.load(tmp_path / "snap")
    assert "hnsw" in _plans(back, data.queries)
    for a, b in zip(hnsw.search(data.queries, limit=10), back.search(data.queries, limit=10)):
        assert a.ids == b.ids
        np.testing.assert_allclose(a.scores, b.scores, atol=1e-6)


def _taking_index_answers(monkeypatch) -> list:
    """The answers of ``Collection.index_answer`` from now on (None: declined)."""
    from nbvec._collection import Collection

    taken = []
    answer = Collection.index_answer
    monkeypatch.setattr(Collection, "index_answer",
                        lambda self, *a: taken.append(answer(self, *a)) or taken[-1])
    return taken


@pytest.mark.parametrize("index, distance", LANES)
def test_index_answers_equal_the_general_path(data, one_index, exact_looks_dear, monkeypatch,
                                              index, distance):
    """One unfiltered query over one indexed segment is answered straight from
    its index (``Collection.index_answer``; HNSW's own scores, annoy's and
    Dot's candidates re-scored): the same ids, score bits, versions,
    payloads and vectors as the general search path, for plain, scaled,
    zero and huge queries (whose scores may overflow: the general path)."""
    from nbvec._collection import Collection

    vf = one_index[index, distance]
    assert index in _plans(vf, data.queries[:1])
    requests = [dict(limit=1), dict(limit=10), dict(limit=50, hnsw_ef=200),
                dict(limit=10, with_payload=["cluster"], with_vectors=True),
                dict(limit=7, with_payload=False, hnsw_ef=16)]
    odd = [data.queries[0] * 1e3, data.queries[0] * 1e-3, np.zeros(D), np.full(D, 3e38)]
    queries = [q.astype(np.float32) for q in [*data.queries[:10], *odd]]
    huge = queries[-1]
    taken = _taking_index_answers(monkeypatch)
    express = []
    for r in requests:
        for q in queries:
            if q is huge:  # its Dot scores overflow: either path answers it
                with np.errstate(over="ignore", invalid="ignore"):
                    express.append(vf.search(q, **r))
                continue
            with warnings.catch_warnings():  # every other query warns nothing
                warnings.simplefilter("error")
                express.append(vf.search(q, **r))
            assert taken[-1] is not None  # and the lane answered it
    assert len(taken) == len(express)
    monkeypatch.setattr(Collection, "index_answer", lambda self, *a: None)
    with np.errstate(over="ignore", invalid="ignore"):  # the huge query's Dot scores overflow
        general = [vf.search(q, **r) for r in requests for q in queries]
    for a, b in zip(express, general, strict=True):
        assert a.ids == b.ids and a.scores.tobytes() == b.scores.tobytes()
        assert [(p.version, p.payload, p.vector) for p in a] == \
            [(p.version, p.payload, p.vector) for p in b]


@pytest.mark.parametrize("distance", ["Cosine", "Euclid"])
def test_graph_scores_are_converted_when_first_read(data, one_index, exact_looks_dear,
                                                    monkeypatch, distance):
    """The lane keeps a graph's distances as it gave them and converts them
    (``to_score``) on the first read of the scores, once: a search read for
    its ids only never converts. The distances stay as they were, so a
    reader racing the first one converts the same ones again."""
    from nbvec._collection import Collection

    vf = one_index["hnsw", distance]
    seg_index = _held_index(vf)
    calls = []
    to_score = seg_index.to_score
    monkeypatch.setattr(seg_index, "to_score", lambda d: calls.append(d.copy()) or to_score(d))
    q = data.queries[3].astype(np.float32)
    got = vf.search(q, limit=10, with_payload=False)
    assert len(got.ids) == 10 and len(got) == 10 and calls == []  # ids and len: no conversion
    table = got._table[0]
    distances = table._scores[0]
    first = got.scores
    assert len(calls) == 1  # the first read converts
    assert got.scores.tobytes() == first.tobytes() and len(calls) == 1  # later ones reuse it
    np.testing.assert_array_equal(distances, calls[0])  # not converted in place
    assert [p.score for p in got] == first.tolist() and len(calls) == 1
    monkeypatch.setattr(Collection, "index_answer", lambda self, *a: None)
    want = vf.search(q, limit=10, with_payload=False)  # the general path: converted at once
    assert got.ids == want.ids and first.tobytes() == want.scores.tobytes()


def test_racing_first_reads_of_graph_scores_agree(data, one_index, exact_looks_dear,
                                                  monkeypatch):
    """Two threads reading a lane answer's scores for the first time at once
    both convert the same distances (each waits inside its conversion for
    the other) and get the same scores, those of a search read at leisure."""
    vf = one_index["hnsw", "Cosine"]
    seg_index = _held_index(vf)
    to_score = seg_index.to_score
    started, inside = threading.Barrier(2), threading.Barrier(2, timeout=10)

    def slow(d):
        out = to_score(d)
        inside.wait()  # both threads are inside a conversion at once
        return out

    q = data.queries[5].astype(np.float32)
    calm = vf.search(q, limit=10, with_payload=False).scores
    monkeypatch.setattr(seg_index, "to_score", slow)
    got = vf.search(q, limit=10, with_payload=False)
    table, seen = got._table[0], [None, None]

    def read(i):
        started.wait()
        seen[i] = table.scores

    threads = [threading.Thread(target=read, args=(i,)) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen[0] is not seen[1]  # each converted: they overlapped
    assert seen[0].tobytes() == seen[1].tobytes() == calm.astype(np.float32).tobytes()
    assert got.scores.tobytes() == calm.tobytes()


@pytest.mark.parametrize("index, distance", LANES)
def test_index_lane_refuses_non_finite_queries(data, one_index, exact_looks_dear, monkeypatch,
                                               index, distance):
    """A float32 query reaches a graph that scores its own answers unchecked
    for NaN and inf (either makes every distance NaN or inf); annoy and a
    re-score never see one. The lane declines, and the general path
    refuses the query with InvalidVector, warning nothing."""
    vf = one_index[index, distance]
    seg_index = _held_index(vf)
    seen = []
    nearest_one = seg_index.nearest_one
    monkeypatch.setattr(seg_index, "nearest_one",
                        lambda q, *a: seen.append(np.isfinite(q).all()) or nearest_one(q, *a))
    taken = _taking_index_answers(monkeypatch)
    good = data.queries[0].astype(np.float32)
    assert vf.search(good, limit=5).ids and taken[-1] is not None  # the lane answers
    for at, values in ((0, [np.nan]), (3, [np.inf]), (5, [np.inf, -np.inf])):
        bad = good.copy()
        bad[at : at + len(values)] = values
        taken.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(nbvec.InvalidVector, match="NaN or inf"):
                vf.search(bad, limit=5)
        assert taken == [None]  # tried once, declined
    # the good query, then the bad ones only where a graph scores itself
    assert seen == ([True, False, False, False] if seg_index.scores_itself else [True])


@pytest.mark.parametrize("index, distance", [("hnsw", "Cosine"), ("annoy", "Euclid")])
def test_a_route_follows_its_default_effort(data, one_index, exact_looks_dear, monkeypatch,
                                            index, distance):
    """A kept route is planned again when the index's calibrated default
    effort (ef, search_k) changes, as a kept plan is: the lane then searches
    at the effort that explain() reports."""
    vf = one_index[index, distance]
    effort_name = _held_index(vf).effort_name
    q = data.queries[0].astype(np.float32)
    vf.search(q, limit=10)
    before = vf._engine._index_route("", 10, None)[2]
    assert before == sealed_plan(vf, q)[effort_name]
    monkeypatch.setattr(_held_index(vf).calibration, "default_search_k", before * 3)
    after = vf._engine._index_route("", 10, None)[2]
    assert after == before * 3 == sealed_plan(vf, q)[effort_name]


def test_index_routes_are_kept_until_the_collection_changes(data, exact_looks_dear,
                                                            monkeypatch):
    """The index's route (segment, index, effort) is planned once per limit
    and ef, then reused; a write to another segment, a delete or a new cost
    model plans again (a new default effort: the test above); a deleted
    point is never returned, a new one is."""
    from nbvec._collection import Collection

    vf = _one_segment(data)
    plans = []
    plan = Collection._plan
    monkeypatch.setattr(Collection, "_plan", lambda self, *a, **kw: plans.append(a[2])
                        or plan(self, *a, **kw))
    q = data.queries[0].astype(np.float32)
    first = vf.search(q, limit=10)
    assert [vf.search(q, limit=10).ids for _ in range(3)] == [first.ids] * 3
    assert plans == [10]  # planned once for limit 10
    vf.search(q, limit=5)
    assert plans == [10, 5]
    planner_costs(monkeypatch, exact_per_float=1e-15)  # exact scans look cheap: planned again
    assert vf._engine.index_answer("", q, 10) is None
    assert plans[2:] == [10]
    planner_costs(monkeypatch, exact_per_float=1e-6)  # and dear again
    assert vf._engine.index_answer("", q, 10) is not None
    nearest = vf.search(q, limit=3, exact=True).ids
    vf.delete(nearest[:1])  # the holding segment changes
    assert vf._engine.index_answer("", q, 10) is None
    assert nearest[0] not in vf.search(q, limit=10).ids
    fresh = _one_segment(data)
    assert fresh._engine.index_answer("", q, 10) is not None
    fresh.upsert([N + 1], [q])  # the appendable segment now holds a point too
    assert fresh._engine.index_answer("", q, 10) is None
    assert fresh.search(q, limit=10).ids[0] == N + 1
    assert fresh.search(q, limit=10, hnsw_ef=64).ids[0] == N + 1  # its own route
    replaced = weakref.ref(fresh._engine.appendable)  # which every kept route names
    fresh.optimize(index_now=True)  # the appendable segment's point is sealed elsewhere
    assert replaced() not in fresh._engine.segments
    gc.collect()
    assert replaced() is None  # no route keeps a replaced segment alive
    assert fresh.search(q, limit=10).ids[0] == N + 1


def test_index_answers_only_the_plain_request(data, hnsw, one_index, exact_looks_dear):
    """An index answers alone only when it is the whole answer: not for a
    limit over the points or two segments holding points (deleted points:
    the routes test); those go through the general path and stay right.
    Dot graphs and annoy forests answer too, their candidates re-scored."""
    q = data.queries[:1]
    one = q[0].astype(np.float32)
    first_n = data.stored(lambda i: i < N)
    for index, distance in (("hnsw", "Cosine"), ("hnsw", "Dot"), ("annoy", "Euclid")):
        vf = one_index[index, distance]
        assert vf._engine.index_answer("", one, 10, 400) is not None
        assert_hits_match(vf.search(q[0], limit=10, hnsw_ef=400), distance, first_n, q[0], 10)
        assert vf._engine.index_answer("", one, N + 1) is None
    dot_forest = _one_segment(data, "Dot", index="annoy")  # calibrated to plan exact scans
    assert dot_forest._engine.index_answer("", one, 10) is None
    assert_hits_match(dot_forest.search(q[0], limit=10), "Dot", first_n, q[0], 10)
    everything = one_index["hnsw", "Cosine"].search(q[0], limit=N + 1)
    assert sorted(everything.ids) == list(range(N))
    assert hnsw._engine.index_answer("", one, 10) is None  # + 300 in the appendable segment
    assert_hits_match(hnsw.search(q[0], limit=10, hnsw_ef=400), "Cosine", data.stored(), q[0],
                      10)
