"""Grouped search and recommendation against qdrant-client's local mode and
against an exact grouped computation written here with numpy and pandas.

Against qdrant-client (``query_points_groups``): keyword and integer keys,
arrays, values of other types ignored, nested key paths, filters,
score_threshold, group_size 1..5, limit beyond the number of groups,
with_lookup, RecommendQuery groups with every strategy; nbvec's
``query_points_groups``, legacy ``search_groups``/``recommend_groups`` and
``VectorFrame.search_groups``/``recommend_groups`` all compared. Groups whose
best scores tie may come in either order; hits of equal scores too.

Against the exact computation: a 5k-point VectorFrame with many small annoy
indexed segments, so that the fetch-more path (a deeper search until the best
groups are full, then an exact pass) is what answers.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import DISTANCES, HIGHER_IS_BETTER, planner_costs, reference_scores
from qdrant_client import QdrantClient
from qdrant_client import models as qm

import nbvec
import nbvec._groups
from nbvec import VectorFrame
from nbvec import models as nm

RTOL, ATOL = 1e-5, 1e-6
STRATEGIES = ["average_vector", "best_score", "sum_scores"]
N, D = 90, 4
COL = "chunks"

# Values of the group key: keyword and integer values group (arrays in each of
# their groups); everything else is ignored.
GROUPING = ["a", "b", "c", "d", "e", -10, 0, 1, 2, 123, ["a", "b"], [1, "c"], [2, 3],
            ["e", 0, "f"]]
IGNORED = [1.5, 2.0, True, False, {"x": 1}, None, [], [[1]], "<missing>"]
DOC_UUID = "4e5e7a0e-3b4f-4e8e-9a3c-1f2d3c4b5a69"  # a group id that is a point id


# -- comparisons -------------------------------------------------------------------------
def key(group_id):
    """1 and "1" are different groups."""
    return type(group_id).__name__, group_id


def assert_same_hits(want, got, *, where="", payload=True):
    """Scores rank by rank; ids differ only among equal scores."""
    w_ids, g_ids = [p.id for p in want], [p.id for p in got]
    assert len(g_ids) == len(w_ids), f"{where}: {g_ids} != {w_ids}"
    assert len(set(g_ids)) == len(g_ids), f"{where}: duplicate hits {g_ids}"
    np.testing.assert_allclose([p.score for p in got], [p.score for p in want], rtol=RTOL,
                               atol=ATOL, err_msg=f"{where}: scores")
    by_id = {p.id: p for p in want}
    for p in got:
        if p.id in by_id:
            np.testing.assert_allclose(p.score, by_id[p.id].score, rtol=RTOL, atol=ATOL)
            if payload:
                assert p.payload == by_id[p.id].payload, f"{where}: payload of {p.id}"
        else:
            assert np.isclose(p.score, want[-1].score, rtol=RTOL, atol=ATOL), (
                f"{where}: hit {p.id} not in {w_ids} and not tied with the cut")


def assert_same_groups(want, got, *, where="", payload=True):
    """Same number of groups, best scores rank by rank, a group present in
    both has the same hits; groups differ only where best scores tie."""
    want = getattr(want, "groups", want)
    got = getattr(got, "groups", got)
    w_keys, g_keys = [key(g.id) for g in want], [key(g.id) for g in got]
    assert len(g_keys) == len(w_keys), f"{where}: groups {g_keys} != {w_keys}"
    assert len(set(g_keys)) == len(g_keys), f"{where}: duplicate groups {g_keys}"
    np.testing.assert_allclose([g.hits[0].score for g in got], [g.hits[0].score for g in want],
                               rtol=RTOL, atol=ATOL, err_msg=f"{where}: best scores")
    by_key = {key(g.id): g for g in want}
    for g in got:
        if key(g.id) in by_key:
            assert_same_hits(by_key[key(g.id)].hits, g.hits, where=f"{where} group {g.id!r}",
                             payload=payload)
        else:
            assert np.isclose(g.hits[0].score, want[-1].hits[0].score, rtol=RTOL, atol=ATOL), (
                f"{where}: group {g.id!r} not in {w_keys} and not tied with the cut")


# -- data --------------------------------------------------------------------------------
def payload_for(rng, i):
    """A ``doc`` value (grouping or ignored), a nested copy and an array of
    objects, and a city to filter on."""
    values = GROUPING + IGNORED
    doc = values[int(rng.integers(len(values)))] if i > 3 else [*IGNORED[:3], DOC_UUID][i]
    p = {"city": ["London", "Berlin", "Paris"][i % 3], "n": i}
    if doc != "<missing>":
        p["doc"] = doc
    p["meta"] = {"doc": ["x", "y", 7, 1.5][i % 4], "tags": [["t1"], ["t1", "t2"], [3], []][i % 4]}
    p["parts"] = [{"doc": "p"}, {"doc": i % 5}] if i % 2 else [{"other": 1}]
    return p


def dataset(seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)).astype(np.float32)
    return list(range(N)), x, [payload_for(rng, i) for i in range(N)]


class Pair:
    """The same points in qdrant-client, nbvec.Client and a VectorFrame, plus a
    "documents" collection for with_lookup."""

    def __init__(self, distance):
        self.distance = distance
        self.ids, self.x, self.payloads = dataset()
        self.q = QdrantClient(":memory:")
        self.c = nbvec.Client()
        self.doc_ids = [1, 2, 3, DOC_UUID]
        for client, m in ((self.q, qm), (self.c, nm)):
            client.create_collection(COL, vectors_config=m.VectorParams(size=D,
                                                                         distance=distance))
            client.upsert(COL, m.Batch(ids=self.ids, vectors=self.x.tolist(),
                                       payloads=self.payloads))
            client.create_collection("documents", vectors_config={
                "v": m.VectorParams(size=2, distance="Dot")})
            client.upsert("documents", [
                m.PointStruct(id=i, vector={"v": [1.0, float(k)]},
                              payload={"title": f"Document {k}", "text": f"<b>{k}</b>", "k": k})
                for k, i in enumerate(self.doc_ids)])
        self.vf = VectorFrame(D, distance, progress=False)
        self.vf.upsert(self.ids, self.x, payload=self.payloads)
        self.query = np.random.default_rng(1).normal(size=D).round(3).tolist()


@pytest.fixture(scope="module", params=DISTANCES)
def pair(request):
    return Pair(request.param)


@pytest.fixture(scope="module")
def dot():
    return Pair("Dot")


# -- grouped search --------------------------------------------------------------------------
def test_groups_match_qdrant(pair):
    for group_size in (1, 2, 3, 4, 5):
        for limit in (1, 4, 1000):  # 1000: more than the number of groups
            kw = dict(limit=limit, group_size=group_size)
            want = pair.q.query_points_groups(COL, "doc", query=pair.query, **kw)
            where = f"{pair.distance} size={group_size} limit={limit}"
            assert_same_groups(want, pair.c.query_points_groups(COL, "doc", query=pair.query,
                                                                **kw), where=where)
            assert_same_groups(want, pair.c.search_groups(COL, pair.query, "doc", **kw),
                               where=f"legacy {where}")
            assert_same_groups(want, pair.vf.search_groups(pair.query, "doc", **kw),
                               where=f"VectorFrame {where}")
            if limit == 1000:
                assert len(want.groups) < limit


def test_which_values_group(dot):
    """Every keyword/integer value (array elements each) forms a group, with
    exactly the points that carry it; other values form none."""
    expected: dict = {}
    for pid, p in zip(dot.ids, dot.payloads):
        values = p.get("doc")
        for v in (values if isinstance(values, list) else [values]):
            if type(v) in (int, str):
                expected.setdefault(key(v), set()).add(pid)
    got = dot.c.query_points_groups(COL, "doc", query=dot.query, limit=1000, group_size=N)
    assert {key(g.id): {h.id for h in g.hits} for g in got.groups} == expected
    assert {type(g.id) for g in got.groups} == {int, str}
    want = dot.q.query_points_groups(COL, "doc", query=dot.query, limit=1000, group_size=N)
    assert_same_groups(want, got, where="all groups")
    for g in got.groups:  # hits best first; groups by their best hit
        assert [h.score for h in g.hits] == sorted((h.score for h in g.hits), reverse=True)
    bests = [g.hits[0].score for g in got.groups]
    assert bests == sorted(bests, reverse=True)


@pytest.mark.parametrize("path", ["meta.doc", "parts[].doc", "meta.tags", "parts.doc", "n",
                                  "city", "nope"])
def test_nested_key_paths(dot, path):
    kw = dict(limit=50, group_size=3)
    want = dot.q.query_points_groups(COL, path, query=dot.query, **kw)
    assert_same_groups(want, dot.c.query_points_groups(COL, path, query=dot.query, **kw),
                       where=path)
    assert_same_groups(want, dot.vf.search_groups(dot.query, path, **kw),
                       where=f"VectorFrame {path}")


def test_filters_model_and_dict(pair):
    rest = {"must": [{"key": "city", "match": {"any": ["London", "Paris"]}}],
            "must_not": [{"key": "n", "range": {"gte": 60}}]}
    kw = dict(limit=6, group_size=3)
    want = pair.q.query_points_groups(COL, "doc", query=pair.query, query_filter=qm.Filter(**rest),
                                      **kw)
    assert all(h.payload["city"] != "Berlin" and h.payload["n"] < 60
               for g in want.groups for h in g.hits)
    assert_same_groups(want, pair.c.query_points_groups(
        COL, "doc", query=pair.query, query_filter=nm.Filter(**rest), **kw), where="model")
    assert_same_groups(want, pair.c.query_points_groups(
        COL, "doc", query=pair.query, query_filter=rest, **kw), where="dict")
    assert_same_groups(want, pair.c.search_groups(COL, pair.query, "doc", query_filter=rest,
                                                  **kw), where="legacy dict")
    assert_same_groups(want, pair.vf.search_groups(pair.query, "doc", filter=rest, **kw),
                       where="VectorFrame dict")


def test_score_threshold_halfway(pair):
    full = pair.q.query_points(COL, query=pair.query, limit=N).points
    scores = np.array([p.score for p in full])
    for k in (5, 20, 50):
        at = k + int(np.argmax(np.abs(np.diff(scores))[k: k + 5] > 1e-3))
        threshold = float((scores[at] + scores[at + 1]) / 2)
        kw = dict(limit=1000, group_size=2, score_threshold=threshold)
        want = pair.q.query_points_groups(COL, "doc", query=pair.query, **kw)
        kept = {p.id for p in full[: at + 1]}
        assert {h.id for g in want.groups for h in g.hits} <= kept
        assert_same_groups(want, pair.c.query_points_groups(COL, "doc", query=pair.query, **kw),
                           where=f"threshold {threshold}")
        assert_same_groups(want, pair.vf.search_groups(pair.query, "doc", **kw),
                           where=f"VectorFrame threshold {threshold}")


# -- with_lookup -------------------------------------------------------------------------
def lookups(result):
    return {key(g.id): g.lookup for g in result.groups}


def test_with_lookup(dot):
    """Group ids that name documents get them; ids that are no valid point id
    ("a", -10) or name no document (0, 123) get None."""
    kw = dict(query=dot.query, limit=1000, group_size=1)
    # explicit WithLookup: as qdrant-client
    for wl in ({"with_payload": ["title"], "with_vectors": False},
               {"with_payload": False, "with_vectors": True},
               {"with_payload": True, "with_vectors": ["v"]}):
        want = dot.q.query_points_groups(COL, "doc", with_lookup=qm.WithLookup(
            collection="documents", **wl), **kw)
        got = dot.c.query_points_groups(COL, "doc", with_lookup=nm.WithLookup(
            collection="documents", **wl), **kw)
        assert_same_groups(want, got, where=f"with_lookup {wl}")
        w, g = lookups(want), lookups(got)
        assert set(w) == set(g)
        for k in w:
            if w[k] is None:
                assert g[k] is None, k
            else:
                assert (g[k].id, g[k].payload, g[k].vector) == (
                    w[k].id, w[k].payload, w[k].vector), k
    found = {k for k, v in lookups(got).items() if v is not None}
    assert found == {key(i) for i in dot.doc_ids} & set(lookups(got))
    assert {key(1), key(2), key(DOC_UUID)} <= found
    assert lookups(got)[key("a")] is None and lookups(got)[key(-10)] is None
    assert lookups(got)[key(123)] is None and lookups(got)[key(0)] is None

    # the shorthand: the whole payload, as qdrant-client; and the vectors,
    # as seed 000 documents it (qdrant-client and the Qdrant server leave them out)
    want = dot.q.query_points_groups(COL, "doc", with_lookup="documents", **kw)
    for got in (dot.c.query_points_groups(COL, "doc", with_lookup="documents", **kw),
                dot.c.search_groups(COL, dot.query, "doc", limit=1000, group_size=1,
                                    with_lookup="documents")):
        w, g = lookups(want), lookups(got)
        assert set(w) == set(g)
        for k in w:
            assert (g[k] is None) == (w[k] is None), k
            if w[k] is not None:
                assert (g[k].id, g[k].payload) == (w[k].id, w[k].payload)
                assert g[k].vector == {"v": [1.0, float(g[k].payload["k"])]}


def test_with_lookup_of_a_missing_collection(dot):
    with pytest.raises(nbvec.CollectionNotFound):
        dot.c.query_points_groups(COL, "doc", query=dot.query, with_lookup="nowhere")


# -- recommendation groups -------------------------------------------------------------------
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_recommend_groups_every_strategy(pair, strategy):
    pos, neg = [4, 50], [17]
    for group_size, limit in ((1, 5), (3, 4), (5, 1000)):
        kw = dict(limit=limit, group_size=group_size)
        want = pair.q.query_points_groups(COL, "doc", query=qm.RecommendQuery(
            recommend=qm.RecommendInput(positive=pos, negative=neg, strategy=strategy)), **kw)
        where = f"{pair.distance}/{strategy} size={group_size} limit={limit}"
        got = pair.c.query_points_groups(COL, "doc", query=nm.RecommendQuery(
            recommend=nm.RecommendInput(positive=pos, negative=neg, strategy=strategy)), **kw)
        assert_same_groups(want, got, where=where)
        assert not {4, 50, 17} & {h.id for g in got.groups for h in g.hits}
        assert_same_groups(want, pair.c.recommend_groups(COL, "doc", positive=pos, negative=neg,
                                                         strategy=strategy, **kw),
                           where=f"legacy {where}")
        assert_same_groups(want, pair.vf.recommend_groups(pos, neg, "doc", strategy=strategy,
                                                          **kw), where=f"VectorFrame {where}")
    if strategy != "average_vector":  # negatives only
        want = pair.q.query_points_groups(COL, "doc", query=qm.RecommendQuery(
            recommend=qm.RecommendInput(negative=neg, strategy=strategy)), limit=5)
        assert_same_groups(want, pair.c.recommend_groups(COL, "doc", negative=neg,
                                                         strategy=strategy, limit=5,
                                                         group_size=3),
                           where="negative only")


def test_groups_of_a_point_id_query(pair):
    """``query=<id>``: the point's vector, the point itself left out."""
    for pid in (0, 33):
        want = pair.q.query_points_groups(COL, "doc", query=pid, limit=5, group_size=2)
        got = pair.c.query_points_groups(COL, "doc", query=pid, limit=5, group_size=2)
        assert_same_groups(want, got, where=f"query={pid}")
        assert pid not in {h.id for g in got.groups for h in g.hits}


def test_offset_is_refused(dot):
    rec = nm.RecommendQuery(recommend=nm.RecommendInput(positive=[4]))
    calls = [
        lambda: dot.c.query_points_groups(COL, "doc", query=dot.query, offset=2),
        lambda: dot.c.query_points_groups(COL, "doc", query=rec, offset=1),
        lambda: dot.c.search_groups(COL, dot.query, "doc", offset=1),
        lambda: dot.c.recommend_groups(COL, "doc", positive=[4], offset=1),
        lambda: dot.vf.search_groups(dot.query, "doc", offset=3),
        lambda: dot.vf.recommend_groups([4], group_by="doc", offset=1),
    ]
    for call in calls:
        with pytest.raises(nbvec.InvalidRequest, match="offset"):
            call()


def test_seed_example_groups():
    """Seed 000, "Grouping API": document_id "a", ["a", "b"], 123 and -10."""
    points = [(0, {"chunk_part": 0, "document_id": "a"}, [0.91]),
              (1, {"chunk_part": 1, "document_id": ["a", "b"]}, [0.8]),
              (2, {"chunk_part": 2, "document_id": "a"}, [0.2]),
              (3, {"chunk_part": 0, "document_id": 123}, [0.79]),
              (4, {"chunk_part": 1, "document_id": 123}, [0.75]),
              (5, {"chunk_part": 0, "document_id": -10}, [0.6])]
    documented = [("a", [0, 1]), ("b", [1]), (123, [3, 4]), (-10, [5])]
    q, c = QdrantClient(":memory:"), nbvec.Client()
    for client, m in ((q, qm), (c, nm)):
        client.create_collection("chunks", vectors_config=m.VectorParams(size=1, distance="Dot"))
        client.upsert("chunks", [m.PointStruct(id=i, payload=p, vector=v) for i, p, v in points])
    want = q.query_points_groups("chunks", "document_id", query=[1.0], limit=4, group_size=2)
    for got in (c.query_points_groups("chunks", "document_id", query=[1.0], limit=4,
                                      group_size=2),
                c.search_groups("chunks", [1.0], "document_id", limit=4, group_size=2)):
        assert [(g.id, [h.id for h in g.hits]) for g in got.groups] == documented
        assert [type(g.id) for g in got.groups] == [str, str, int, int]
        assert_same_groups(want, got, where="seed")
    vf = VectorFrame(1, "Dot", progress=False)
    vf.upsert([i for i, _, _ in points], np.array([v for _, _, v in points]),
              payload=[p for _, p, _ in points])
    got = vf.search_groups([1.0], "document_id", limit=4, group_size=2)
    assert [(g.id, [h.id for h in g.hits]) for g in got] == documented


# -- known disagreements with Qdrant -----------------------------------------------------
def test_a_repeated_array_value_counts_once():
    c, q = nbvec.Client(), QdrantClient(":memory:")
    for client, m in ((q, qm), (c, nm)):
        client.create_collection("dup", vectors_config=m.VectorParams(size=2, distance="Dot"))
        client.upsert("dup", [m.PointStruct(id=1, vector=[1.0, 0.0], payload={"g": ["a", "a"]}),
                              m.PointStruct(id=2, vector=[0.5, 0.0], payload={"g": "a"})])
    want = q.query_points_groups("dup", "g", query=[1.0, 0.0], group_size=3)
    got = c.query_points_groups("dup", "g", query=[1.0, 0.0], group_size=3)
    assert [(g.id, [h.id for h in g.hits]) for g in want.groups] == [("a", [1, 2])]
    assert [(g.id, [h.id for h in g.hits]) for g in got.groups] == [("a", [1, 2])]


def test_an_array_with_an_unsupported_value_joins_no_group():
    c, q = nbvec.Client(), QdrantClient(":memory:")
    payloads = [{"g": [1, True]}, {"g": [7, 1.5]}, {"g": [None, "s"]}, {"g": ["s", {"x": 1}]},
                {"g": "s"}]
    for client, m in ((q, qm), (c, nm)):
        client.create_collection("mixed", vectors_config=m.VectorParams(size=2, distance="Dot"))
        client.upsert("mixed", [m.PointStruct(id=i, vector=[1.0 - i / 10, 0.0], payload=p)
                                for i, p in enumerate(payloads)])
    want = q.query_points_groups("mixed", "g", query=[1.0, 0.0], group_size=5)
    got = c.query_points_groups("mixed", "g", query=[1.0, 0.0], group_size=5)
    assert [(g.id, [h.id for h in g.hits]) for g in want.groups] == [("s", [4])]
    assert [(g.id, [h.id for h in g.hits]) for g in got.groups] == [("s", [4])]


def test_unsigned_64_bit_integers_group():
    c, q = nbvec.Client(), QdrantClient(":memory:")
    payloads = [{"g": 2**63 + 5}, {"g": [2**64 - 1, "x"]}, {"g": 2**63 - 1}]
    for client, m in ((q, qm), (c, nm)):
        client.create_collection("u64", vectors_config=m.VectorParams(size=2, distance="Dot"))
        client.upsert("u64", [m.PointStruct(id=i, vector=[1.0 - i / 10, 0.0], payload=p)
                              for i, p in enumerate(payloads)])
    want = q.query_points_groups("u64", "g", query=[1.0, 0.0], group_size=5)
    got = c.query_points_groups("u64", "g", query=[1.0, 0.0], group_size=5)
    expected = [(2**63 + 5, [0]), (2**64 - 1, [1]), ("x", [1]), (2**63 - 1, [2])]
    # groups 2**64-1 and "x" share their best hit (point 1): a tie, in either order
    assert sorted(((g.id, [h.id for h in g.hits]) for g in want.groups), key=str) == sorted(
        expected, key=str)
    assert sorted(((g.id, [h.id for h in g.hits]) for g in got.groups), key=str) == sorted(
        expected, key=str)
    assert [g.id for g in got.groups][::3] == [2**63 + 5, 2**63 - 1]


# -- large collections: the fetch-more path over annoy ---------------------------------------
def exact_groups(distance, vectors, ids, group_values, query, limit, group_size):
    """Groups as plain objects (id, hits of id and score): score every point,
    one row per (point, group value), best first; each group's first
    ``group_size`` rows; groups in the order of their best row; the first
    ``limit`` groups."""
    scores = reference_scores(distance, vectors, query)
    rows = pd.DataFrame({"id": ids, "score": scores, "g": group_values}).explode("g")
    rows = rows[[type(v) in (int, str) for v in rows["g"]]]
    rows = rows.assign(k=[key(v) for v in rows["g"]]).drop_duplicates(["k", "id"])
    rows = rows.sort_values(["score", "id"], ascending=[not HIGHER_IS_BETTER[distance], True],
                            kind="stable")
    top = rows.groupby("k", sort=False).head(group_size)
    out = []
    for _, members in top.groupby("k", sort=False):
        hits = [SimpleNamespace(id=i, score=s, payload=None)
                for i, s in zip(members["id"].tolist(), members["score"].tolist())]
        out.append(SimpleNamespace(id=members["g"].iloc[0], hits=hits))
        if len(out) == limit:
            break
    return out


def pair_recall(got, ref):
    found = {(key(g.id), h.id) for g in got for h in g.hits}
    truth = {(key(g.id), h.id) for g in ref for h in g.hits}
    return len(found & truth), len(truth)


@pytest.fixture
def annoy_is_cheap(monkeypatch):
    """At 5k x 16 floats an exact scan costs less than any annoy search, so the
    planner would never use the indexes; a dearer exact scan makes it use them."""
    planner_costs(monkeypatch, exact_per_float=1e-6)


@pytest.fixture
def spies(monkeypatch):
    """Counts of the grouped search's steps: fetch-more rounds, exact passes."""
    counts = {"rounds": 0, "complete": 0, "exact": 0}
    is_complete, exact = nbvec._groups.is_complete, nbvec._groups._candidates_exact

    def count_rounds(*args, **kwargs):
        counts["rounds"] += 1
        done = is_complete(*args, **kwargs)
        counts["complete"] += done
        return done

    def count_exact(*args, **kwargs):
        counts["exact"] += 1
        return exact(*args, **kwargs)

    monkeypatch.setattr(nbvec._groups, "is_complete", count_rounds)
    monkeypatch.setattr(nbvec._groups, "_candidates_exact", count_exact)
    return counts


def clustered_frame(rng, group_of, n=5000, d=16, n_clusters=40):
    """A Cosine frame of ``n`` clustered points in many annoy-indexed segments;
    ``group_of(labels, rng)`` gives each point's group value."""
    centers = rng.normal(size=(n_clusters, d)) * 4
    labels = rng.integers(0, n_clusters, n)
    x = (centers[labels] + rng.normal(size=(n, d))).astype(np.float32)
    groups = group_of(labels, rng)
    vf = VectorFrame(d, "Cosine", index="annoy", indexing_threshold=20, full_scan_threshold=5,
                     progress=False)
    for lo in range(0, n, 250):
        vf.upsert(np.arange(lo, lo + 250), x[lo: lo + 250],
                  payload=[{"doc": g} for g in groups[lo: lo + 250]])
    segs = vf.info()["segments"]
    assert sum(s["indexed"] for s in segs) >= 10, segs
    return vf, x, groups, centers


def test_fetch_more_over_annoy(annoy_is_cheap, spies):
    """Groups follow the clusters (and 10% of points sit in two groups): the
    best groups fill from a deeper search. Default: >= 95% of the exact
    hits, always ``limit`` full groups; ``exact=True``: exactly the reference."""
    rng = np.random.default_rng(5)

    def group_of(labels, rng):
        sub = labels * 4 + rng.integers(0, 4, len(labels))
        return [int(g) if rng.random() > 0.1 else [int(g), f"s{g % 7}"] for g in sub]

    vf, x, groups, centers = clustered_frame(rng, group_of)
    queries = centers[rng.integers(0, len(centers), 12)] + rng.normal(size=(12, 16))
    assert "annoy" in set(vf.explain(queries[0], limit=60).to_pandas()["strategy"])
    found = total = 0
    for limit, group_size in ((5, 3), (10, 2), (3, 5), (20, 1)):
        for q in queries:
            ref = exact_groups("Cosine", x, np.arange(len(x)), groups, q, limit, group_size)
            assert_same_groups(
                ref, vf.search_groups(q, "doc", limit=limit, group_size=group_size, exact=True),
                where=f"exact limit={limit} size={group_size}", payload=False)
            got = vf.search_groups(q, "doc", limit=limit, group_size=group_size)
            assert len(got) == limit and all(len(g.hits) == group_size for g in got)
            f, t = pair_recall(got, ref)
            found, total = found + f, total + t
    assert found / total >= 0.95, found / total
    assert spies["complete"] > 0  # deeper annoy searches answered some queries


def test_one_group_dominates(annoy_is_cheap, spies):
    """90% of the points in group "big": the nearest neighbours hold too few
    members of other groups, the fetch-more loop gives up and an exact pass
    answers — complete by default, exact with exact=True."""
    rng = np.random.default_rng(9)

    def group_of(labels, rng):
        return ["big" if rng.random() < 0.9 else int(rng.integers(0, 100))
                for _ in range(len(labels))]

    vf, x, groups, centers = clustered_frame(rng, group_of)
    for q in centers[:4] + rng.normal(size=(4, 16)):
        for limit, group_size in ((20, 3), (8, 5)):
            ref = exact_groups("Cosine", x, np.arange(len(x)), groups, q, limit, group_size)
            assert len(ref) == limit and ref[0].id == "big"
            spies["exact"] = 0
            got = vf.search_groups(q, "doc", limit=limit, group_size=group_size)
            assert spies["exact"] == 1  # fell back to the exact grouped pass
            assert_same_groups(ref, got, where=f"default limit={limit}", payload=False)
            assert_same_groups(
                ref, vf.search_groups(q, "doc", limit=limit, group_size=group_size, exact=True),
                where=f"exact limit={limit}", payload=False)
    assert spies["rounds"] > 0
