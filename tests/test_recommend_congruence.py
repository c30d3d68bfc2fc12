"""Recommendations against qdrant-client's local mode: the same points loaded
into ``QdrantClient(":memory:")``, ``nbvec.Client`` and a ``VectorFrame``, the
same recommendation asked of each, the answers compared.

Covered: every strategy x every distance, filters (model and REST dict),
score_threshold, offset, named vectors, ids mixed with raw vectors,
negative-only examples, lookup_from, the all-zero Cosine query, batches, the
legacy ``Client.recommend`` (qdrant-client >= 1.16 only has ``query_points``),
and the errors (unknown example ids, average_vector without positives, the
tutorial's ``recommend(query_vector=...)``).

Compared: scores rank by rank (1e-5 relative, 1e-6 absolute) and ids, which
may differ only among equal scores; payloads of the hits.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DISTANCES, uuid_from
from qdrant_client import QdrantClient
from qdrant_client import models as qm

import nbvec
from nbvec import VectorFrame
from nbvec import models as nm

RTOL, ATOL = 1e-5, 1e-6
STRATEGIES = ["average_vector", "best_score", "sum_scores"]
CITIES = ["London", "Berlin", "Paris"]
N, D = 60, 6
COL = "points"


# -- comparisons -------------------------------------------------------------------------
def assert_same_hits(want, got, *, payload=True, where="", atol=ATOL):
    """``got`` equals ``want`` (qdrant-client's ScoredPoints): the same scores
    rank by rank; each id's score right; ids differ only among tied scores."""
    w_ids, g_ids = [p.id for p in want], [p.id for p in got]
    assert len(g_ids) == len(w_ids), f"{where}: {g_ids} != {w_ids}"
    assert len(set(g_ids)) == len(g_ids), f"{where}: duplicate ids {g_ids}"
    np.testing.assert_allclose([p.score for p in got], [p.score for p in want], rtol=RTOL,
                               atol=atol, err_msg=f"{where}: scores rank by rank")
    by_id = {p.id: p for p in want}
    edge = want[-1].score if want else None
    for p in got:
        if p.id in by_id:
            np.testing.assert_allclose(p.score, by_id[p.id].score, rtol=RTOL, atol=atol,
                                       err_msg=f"{where}: score of {p.id}")
            if payload:
                assert p.payload == by_id[p.id].payload, f"{where}: payload of {p.id}"
        else:  # a different point only where it ties with the cut
            assert np.isclose(p.score, edge, rtol=RTOL, atol=atol), (
                f"{where}: {p.id} (score {p.score}) is not in {w_ids} and does not tie the cut")


# -- data --------------------------------------------------------------------------------
def dataset(seed=7):
    """Gaussian vectors; int and UUID ids; a city and a number in the payload."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, D)).astype(np.float32)
    ids = list(range(N // 2)) + [uuid_from(rng) for _ in range(N - N // 2)]
    payloads = [{"city": CITIES[i % 3], "n": i} for i in range(N)]
    return ids, x, payloads, rng


class Trio:
    """The same collection in qdrant-client, nbvec.Client and a VectorFrame."""

    def __init__(self, distance):
        self.distance = distance
        self.ids, self.x, self.payloads, rng = dataset()
        self.text = rng.normal(size=(N, 3)).astype(np.float32)  # a second, named vector
        self.q = QdrantClient(":memory:")
        self.c = nbvec.Client()
        for client, m in ((self.q, qm), (self.c, nm)):
            client.create_collection(COL, vectors_config=m.VectorParams(size=D,
                                                                         distance=distance))
            client.upsert(COL, m.Batch(ids=self.ids, vectors=self.x.tolist(),
                                       payloads=self.payloads))
            client.create_collection("named", vectors_config={
                "image": m.VectorParams(size=D, distance=distance),
                "text": m.VectorParams(size=3, distance=m.Distance.MANHATTAN)})
            client.upsert("named", m.Batch(
                ids=self.ids, vectors={"image": self.x.tolist(), "text": self.text.tolist()},
                payloads=self.payloads))
        # an average_vector threshold keeping about half the points
        self.threshold = {"Cosine": 0.0, "Dot": 0.0, "Euclid": 4.0, "Manhattan": 8.0}[distance]
        self.vf = VectorFrame(D, distance, progress=False)
        self.vf.upsert(self.ids, self.x, payload=self.payloads)

    def qdrant(self, positive=None, negative=None, strategy=None, collection=COL, **kwargs):
        rec = qm.RecommendQuery(recommend=qm.RecommendInput(
            positive=positive, negative=negative, strategy=strategy))
        return self.q.query_points(collection, query=rec, **kwargs).points

    def nbvec(self, positive=None, negative=None, strategy=None, collection=COL, **kwargs):
        rec = nm.RecommendQuery(recommend=nm.RecommendInput(
            positive=positive, negative=negative, strategy=strategy))
        return self.c.query_points(collection, query=rec, **kwargs).points


@pytest.fixture(scope="module", params=DISTANCES)
def trio(request):
    return Trio(request.param)


@pytest.fixture(scope="module")
def cosine():
    return Trio("Cosine")


def examples(trio):
    """Two positive ids (an int and a UUID) and one negative."""
    return [trio.ids[3], trio.ids[40]], [trio.ids[7]]


# -- strategies x distances -----------------------------------------------------------------
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_and_distance(trio, strategy):
    pos, neg = examples(trio)
    for p, n in ((pos, neg), (pos[:1], []), ([trio.ids[i] for i in (1, 2, 35)],
                                             [trio.ids[i] for i in (9, 50)])):
        want = trio.qdrant(p, n, strategy, limit=10)
        where = f"{trio.distance}/{strategy} +{p} -{n}"
        assert_same_hits(want, trio.nbvec(p, n, strategy, limit=10), where=where)
        assert_same_hits(want, trio.vf.recommend(p, n, strategy=strategy, limit=10),
                         where=f"VectorFrame {where}")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_filter_model_and_dict(trio, strategy):
    pos, neg = examples(trio)
    rest = {"must": [{"key": "city", "match": {"value": "London"}}],
            "must_not": [{"key": "n", "range": {"lt": 10}}]}
    want = trio.qdrant(pos, neg, strategy, limit=8, query_filter=qm.Filter(**rest))
    assert len(want) == 8 and all(p.payload["city"] == "London" for p in want)
    assert_same_hits(want, trio.nbvec(pos, neg, strategy, limit=8,
                                      query_filter=nm.Filter(**rest)), where="model")
    assert_same_hits(want, trio.nbvec(pos, neg, strategy, limit=8, query_filter=rest),
                     where="dict")
    assert_same_hits(want, trio.vf.recommend(pos, neg, strategy=strategy, limit=8, filter=rest),
                     where="VectorFrame dict")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_score_threshold_halfway(trio, strategy):
    """Thresholds halfway between two consecutive scores: rounding cannot
    decide which side a point falls on."""
    pos, neg = examples(trio)
    full = trio.qdrant(pos, neg, strategy, limit=N)
    scores = np.array([p.score for p in full])
    gaps = np.abs(np.diff(scores))
    for k in (2, 9, 20):
        at = k + int(np.argmax(gaps[k: k + 5] > 1e-3))  # a clear gap near rank k
        threshold = float((scores[at] + scores[at + 1]) / 2)
        want = full[: at + 1]
        if strategy == "average_vector" or trio.distance in ("Cosine", "Dot"):
            # qdrant-client local mode applies a Euclid/Manhattan threshold to
            # best_score/sum_scores as if smaller were better (and returns
            # nothing), though it ranks them bigger-is-better; Qdrant keeps
            # scores above it, as nbvec does
            assert_same_hits(want, trio.qdrant(pos, neg, strategy, limit=N,
                                               score_threshold=threshold), where="qdrant")
        assert_same_hits(want, trio.nbvec(pos, neg, strategy, limit=N,
                                          score_threshold=threshold), where=f"t={threshold}")
        assert_same_hits(want, trio.vf.recommend(pos, neg, strategy=strategy, limit=N,
                                                 score_threshold=threshold),
                         where=f"VectorFrame t={threshold}")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_offset(trio, strategy):
    pos, neg = examples(trio)
    for offset, limit in ((3, 5), (0, 4), (50, 10), (N, 3)):
        want = trio.qdrant(pos, neg, strategy, limit=limit, offset=offset)
        assert_same_hits(want, trio.nbvec(pos, neg, strategy, limit=limit, offset=offset),
                         where=f"offset={offset}")
        assert_same_hits(want, trio.vf.recommend(pos, neg, strategy=strategy, limit=limit,
                                                 offset=offset),
                         where=f"VectorFrame offset={offset}")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_named_vectors_using(trio, strategy):
    pos, neg = examples(trio)
    for using in ("image", "text"):
        want = trio.qdrant(pos, neg, strategy, collection="named", using=using, limit=10)
        got = trio.nbvec(pos, neg, strategy, collection="named", using=using, limit=10)
        assert_same_hits(want, got, where=f"using={using}")
    # the same examples on "image" score as on the unnamed vector of the same data
    assert_same_hits(trio.qdrant(pos, neg, strategy, limit=10),
                     trio.nbvec(pos, neg, strategy, collection="named", using="image",
                                limit=10), where="image == unnamed")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_ids_mixed_with_raw_vectors(trio, strategy):
    rng = np.random.default_rng(3)
    raw = rng.normal(size=(3, D)).round(3).tolist()
    pos, neg = [trio.ids[5], raw[0], trio.ids[45]], [raw[1], trio.ids[11], raw[2]]
    want = trio.qdrant(pos, neg, strategy, limit=12)
    assert_same_hits(want, trio.nbvec(pos, neg, strategy, limit=12), where="mixed")
    assert_same_hits(want, trio.vf.recommend(pos, neg, strategy=strategy, limit=12),
                     where="VectorFrame mixed")
    # raw vectors alone
    want = trio.qdrant(raw[:2], raw[2:], strategy, limit=12)
    assert_same_hits(want, trio.nbvec(raw[:2], raw[2:], strategy, limit=12), where="raw")


@pytest.mark.parametrize("strategy", ["best_score", "sum_scores"])
def test_negative_only(trio, strategy):
    neg = [trio.ids[7], trio.ids[44]]
    want = trio.qdrant(None, neg, strategy, limit=15)
    assert_same_hits(want, trio.nbvec(None, neg, strategy, limit=15), where="negative only")
    assert_same_hits(want, trio.vf.recommend(negative=neg, strategy=strategy, limit=15),
                     where="VectorFrame negative only")
    if strategy == "best_score":  # nothing beats a missing positive: all scores negative
        assert all(p.score < 0 for p in want)


def test_average_vector_refuses_negative_only(trio):
    neg = [trio.ids[7]]
    with pytest.raises(ValueError):
        trio.qdrant(None, neg, "average_vector", limit=5)
    with pytest.raises(nbvec.InvalidRequest, match="positive"):
        trio.nbvec(None, neg, "average_vector", limit=5)
    with pytest.raises(nbvec.InvalidRequest, match="positive"):
        trio.nbvec(None, neg, None, limit=5)  # the default strategy
    with pytest.raises(nbvec.InvalidRequest, match="positive"):
        trio.c.recommend(COL, negative=neg)
    with pytest.raises(nbvec.InvalidRequest, match="best_score"):  # says what to do
        trio.vf.recommend(negative=neg)


def test_single_positive_is_a_search_without_the_point(trio):
    """Seed 000: one positive id == a search by that point's vector, the
    point itself left out."""
    for i in (0, 17, 33, 59):
        pid = trio.ids[i]
        rec = trio.vf.recommend([pid], limit=10)
        stored = trio.vf.retrieve([pid], with_vectors=True)[0].vector
        search = [p for p in trio.vf.search(stored, limit=11) if p.id != pid][:10]
        assert_same_hits(search, rec, where=f"recommend([{pid}]) vs search")
        assert_same_hits(trio.qdrant([pid], limit=10), rec, where=f"qdrant [{pid}]")
        assert_same_hits(trio.q.query_points(COL, query=pid, limit=10).points,
                         trio.c.query_points(COL, query=pid, limit=10).points,
                         where=f"query={pid!r}")


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_repeated_and_respelled_example_ids(trio, strategy):
    """An id given twice counts twice in the averages and sums; a UUID in
    capitals names the same point (and that point is not returned)."""
    uuid = trio.ids[40]
    pos, neg = [trio.ids[3], trio.ids[3], uuid.upper()], [trio.ids[7], trio.ids[7]]
    want = trio.qdrant(pos, neg, strategy, limit=N)
    assert len(want) == N - 3
    # sum_scores under Euclid sums squared distances of ~10 that cancel to
    # ~0.1: float32 rounding of the terms leaves ~4e-6 absolute
    atol = 1e-5 if strategy == "sum_scores" else ATOL
    for got in (trio.nbvec(pos, neg, strategy, limit=N),
                trio.vf.recommend(pos, neg, strategy=strategy, limit=N)):
        assert_same_hits(want, got, where="repeated ids", atol=atol)
        assert uuid not in {p.id for p in got}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_examples_are_never_returned(trio, strategy):
    pos, neg = [trio.ids[3], trio.ids[40], trio.ids[3]], [trio.ids[7], trio.ids[59]]
    mentioned = set(pos) | set(neg)
    for got in (trio.nbvec(pos, neg, strategy, limit=N),
                trio.vf.recommend(pos, neg, strategy=strategy, limit=N),
                trio.c.recommend(COL, pos, neg, strategy=strategy, limit=N)):
        ids = {p.id for p in got}
        assert not ids & mentioned
        assert len(got) == N - len(mentioned)
    # with a filter that matches only the examples: nothing left
    only = {"must": [{"has_id": sorted(mentioned, key=str)}]}
    assert trio.nbvec(pos, neg, strategy, limit=5, query_filter=only) == []
    assert trio.qdrant(pos, neg, strategy, limit=5, query_filter=qm.Filter(**only)) == []


def test_unknown_example_ids_are_named(cosine):
    missing_uuid = "00000000-0000-4000-8000-000000000abc"
    for pos, neg, name in (([0, 123456], [], "123456"),
                           ([0], [missing_uuid], missing_uuid),
                           ([999999], [888888], "999999")):
        with pytest.raises(Exception):  # noqa: B017 - qdrant-client's own error type
            cosine.qdrant(pos, neg, limit=3)
        for call, args in ((cosine.nbvec, (pos, neg)), (cosine.nbvec, (pos, neg, "best_score")),
                           (cosine.c.recommend, (COL, pos, neg)),
                           (cosine.vf.recommend, (pos, neg))):
            with pytest.raises(nbvec.PointNotFound) as info:
                call(*args, limit=3)
            assert name in str(info.value)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_lookup_from_another_collection(trio, strategy):
    """Example ids name points of another collection (vector "vec"); the
    searched collection's points with the same ids are not excluded."""
    rng = np.random.default_rng(11)
    other_ids = [0, 1, 2, trio.ids[40]]
    other = rng.normal(size=(len(other_ids), D)).astype(np.float32)
    for client, m in ((trio.q, qm), (trio.c, nm)):
        if not client.collection_exists("other"):
            client.create_collection("other", vectors_config={
                "vec": m.VectorParams(size=D, distance=trio.distance)})
            client.upsert("other", m.Batch(ids=other_ids, vectors={"vec": other.tolist()}))
    other_vf = VectorFrame(vectors={"vec": nm.VectorParams(size=D, distance=trio.distance)},
                           progress=False)
    other_vf.upsert(other_ids, {"vec": other})
    pos, neg = [0, trio.ids[40]], [2]
    want = trio.qdrant(pos, neg, strategy, limit=N,
                       lookup_from=qm.LookupLocation(collection="other", vector="vec"))
    assert len(want) == N  # nothing excluded
    got = trio.nbvec(pos, neg, strategy, limit=N,
                     lookup_from=nm.LookupLocation(collection="other", vector="vec"))
    assert_same_hits(want, got, where="lookup_from")
    assert_same_hits(want, trio.c.recommend(
        COL, pos, neg, strategy=strategy, limit=N,
        lookup_from=nm.LookupLocation(collection="other", vector="vec")), where="legacy")
    assert_same_hits(want, trio.vf.recommend(pos, neg, strategy=strategy, limit=N,
                                             lookup_from=(other_vf, "vec")),
                     where="VectorFrame lookup_from")
    with pytest.raises(nbvec.PointNotFound, match="7"):  # 7 is only in the searched one
        trio.nbvec([7], [], strategy, limit=3,
                   lookup_from=nm.LookupLocation(collection="other", vector="vec"))


# -- the all-zero Cosine query ------------------------------------------------------------
def test_zero_average_vector_under_cosine(cosine):
    """avg(pos) + (avg(pos) - avg(neg)) == 0: qdrant-client scores every point
    0 (a zero vector normalizes to zero); nbvec must do the same, not NaN."""
    v = cosine.x[12].tolist()
    pos, neg = [v, v], [(2 * cosine.x[12]).tolist()]
    want = cosine.qdrant(pos, neg, limit=N)
    got = cosine.nbvec(pos, neg, limit=N)
    assert len(want) == len(got) == N
    np.testing.assert_allclose([p.score for p in got], [p.score for p in want], atol=ATOL)
    assert {p.id for p in got} == set(cosine.ids)
    vf = cosine.vf.recommend(pos, neg, limit=N)
    np.testing.assert_allclose([p.score for p in vf], 0.0, atol=ATOL)

    # the same with point ids: e1, -e1 against e2, -e2 (normalized, so exact)
    e = np.eye(D, dtype=np.float32)
    extra = [10_001, 10_002, 10_003, 10_004]
    for client, m in ((cosine.q, qm), (cosine.c, nm)):
        if not client.collection_exists("axes"):
            client.create_collection("axes", vectors_config=m.VectorParams(size=D,
                                                                            distance="Cosine"))
            client.upsert("axes", m.Batch(ids=cosine.ids + extra, vectors=np.concatenate(
                [cosine.x, [e[0], -e[0], e[1], -e[1]]]).tolist()))
    want = cosine.qdrant(extra[:2], extra[2:], collection="axes", limit=N)
    got = cosine.nbvec(extra[:2], extra[2:], collection="axes", limit=N)
    assert len(want) == len(got) == N
    np.testing.assert_allclose([p.score for p in got], [p.score for p in want], atol=ATOL)
    assert {p.id for p in got} == {p.id for p in want} == set(cosine.ids)


# -- batches and the legacy endpoint ---------------------------------------------------------
def test_recommend_batch_shares_a_filter(trio):
    pos, neg = examples(trio)
    london = {"must": [{"key": "city", "match": {"value": "London"}}]}
    requests = [
        dict(positive=pos, negative=neg, filter=london, limit=5),
        dict(positive=[trio.ids[20]], filter=london, limit=7, with_payload=True),
        dict(positive=pos, negative=neg, filter=london, limit=5, strategy="best_score",
             offset=2),
        dict(negative=neg, filter=london, limit=4, strategy="sum_scores"),
        dict(positive=pos, filter=london, limit=30, score_threshold=trio.threshold),
        dict(positive=[trio.ids[30]], limit=3, filter=None),  # one without the filter
    ]
    batch = trio.c.recommend_batch(COL, [nm.RecommendRequest(**r) for r in requests])
    assert len(batch) == len(requests)
    qbatch = trio.q.query_batch_points(COL, [
        qm.QueryRequest(query=qm.RecommendQuery(recommend=qm.RecommendInput(
            positive=r.get("positive"), negative=r.get("negative"),
            strategy=r.get("strategy"))),
            filter=qm.Filter(**r["filter"]) if r["filter"] else None, limit=r["limit"],
            offset=r.get("offset"), score_threshold=r.get("score_threshold"),
            with_payload=r.get("with_payload", False))
        for r in requests])
    for r, got, want in zip(requests, batch, qbatch):
        single = trio.c.recommend(
            COL, r.get("positive"), r.get("negative"), query_filter=r["filter"],
            limit=r["limit"], offset=r.get("offset", 0), strategy=r.get("strategy"),
            score_threshold=r.get("score_threshold"),
            with_payload=r.get("with_payload", False))
        assert [(p.id, p.score, p.payload) for p in got] == [
            (p.id, p.score, p.payload) for p in single]
        assert_same_hits(want.points, got, where=f"batch {r}")


@pytest.mark.parametrize("strategy", [None, *STRATEGIES])
def test_legacy_recommend_equals_query_points(trio, strategy):
    """``Client.recommend`` (seed 000; gone from qdrant-client >= 1.16) against
    qdrant-client's ``query_points(RecommendQuery(...))``."""
    pos, neg = examples(trio)
    for kwargs in ({}, {"query_filter": {"must_not": [{"key": "city",
                                                       "match": {"value": "Paris"}}]}},
                   {"offset": 4, "limit": 6}, {"with_vectors": True}):
        qkwargs = dict(kwargs)
        if "query_filter" in qkwargs:
            qkwargs["query_filter"] = qm.Filter(**qkwargs["query_filter"])
        want = trio.qdrant(pos, neg, strategy, **qkwargs)
        got = trio.c.recommend(COL, positive=pos, negative=neg, strategy=strategy, **kwargs)
        assert_same_hits(want, got, where=f"legacy {kwargs}")
        if kwargs.get("with_vectors"):
            for a, b in zip(sorted(want, key=lambda p: str(p.id)),
                            sorted(got, key=lambda p: str(p.id))):
                np.testing.assert_allclose(b.vector, a.vector, rtol=1e-6, atol=1e-7)
    want = trio.qdrant(pos, neg, strategy, using="text", collection="named", limit=5)
    got = trio.c.recommend("named", positive=pos, negative=neg, strategy=strategy,
                           using="text", limit=5)
    assert_same_hits(want, got, where="legacy using=text")


def test_tutorial_query_vector_is_refused_with_advice(cosine):
    with pytest.raises(nbvec.InvalidRequest) as info:
        cosine.c.recommend(COL, query_vector=cosine.x[0].tolist(), limit=3)
    message = str(info.value)
    assert "query_vector" in message and "positive=" in message and "query_points" in message
