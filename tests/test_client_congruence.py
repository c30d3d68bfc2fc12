"""nbvec.Client against qdrant-client's local mode: the same scripted calls on
both, compared result by result.

Compared: ids (ties in any order), scores (relative 1e-5), payloads, vectors
as stored (Cosine vectors come back normalized). Not compared, by design:
versions, operation ids, segment counts. Searches are exact on both sides:
the collections are far below full_scan_threshold, and some calls also pass
``SearchParams(exact=True)``.

Each test runs three times: with nbvec's models passed to nbvec, with
qdrant_client's models passed to nbvec (the import-swap scenario), and on a
path-backed nbvec Client that is reopened before every call (alternately
after close() and after being dropped unclosed, its log then replayed).
"""

from __future__ import annotations

import uuid
import weakref

import numpy as np
import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as qm

import nbvec
from nbvec import models as nm

pytestmark = pytest.mark.filterwarnings(
    "ignore:Local mode performs exact:UserWarning")  # qdrant-client on search_params

DISTANCES = ["Cosine", "Dot", "Euclid", "Manhattan"]
RTOL, ATOL = 1e-5, 1e-6  # ATOL only for scores that are (near) zero, e.g. a self-distance
CITIES = ["London", "Berlin", "Paris"]


class Pair:
    """qdrant-client local mode and nbvec.Client, driven by the same calls.

    ``pair.run(lambda c, m: ...)`` calls the function with (QdrantClient,
    qdrant_client.models) and with (nbvec.Client, the models given to nbvec),
    and returns both results.
    """

    def __init__(self, swap: bool, path=None):
        self.qdrant = QdrantClient(":memory:")
        self.path = path
        self.nbvec = nbvec.Client() if path is None else nbvec.Client(path=path)
        self.nbvec_models = qm if swap else nm
        self.reopened = 0

    def run(self, call):
        if self.path is not None:
            self.reopen()
        return call(self.qdrant, qm), call(self.nbvec, self.nbvec_models)

    def reopen(self):
        """A new Client on the same folder: the old one closed, or dropped
        (its finalizer releases the folder; a test may still hold it)."""
        self.reopened += 1
        old = weakref.ref(self.nbvec)
        if self.reopened % 2:
            self.nbvec.close()
        self.nbvec = None
        try:
            self.nbvec = nbvec.Client(path=self.path)
        except nbvec.StorageLocked:
            old().close()
            self.nbvec = nbvec.Client(path=self.path)

    def same(self, call, compare=None):
        q, n = self.run(call)
        (compare or assert_same)(q, n)
        return q, n


@pytest.fixture(params=[False, True, "path"], ids=["nbvec-models", "qdrant-models", "path"])
def pair(request, tmp_path):
    if request.param == "path":
        pair = Pair(swap=False, path=tmp_path / "storage")
        yield pair
        pair.nbvec.close()
    else:
        yield Pair(swap=request.param)


# -- comparisons -------------------------------------------------------------------------
def assert_vectors(q, n, where=""):
    if q is None or n is None:
        assert q == n, f"{where}vector: {q!r} != {n!r}"
    elif isinstance(q, dict):
        assert isinstance(n, dict) and set(q) == set(n), f"{where}vector names {q} != {n}"
        for name in q:
            assert_vectors(q[name], n[name], f"{where}{name}: ")
    else:
        np.testing.assert_allclose(n, q, rtol=1e-6, atol=1e-7, err_msg=f"{where}vector")


def assert_records(q, n):
    """Records (retrieve, scroll) in the same order, with the same content."""
    assert [r.id for r in n] == [r.id for r in q]
    for a, b in zip(q, n):
        assert b.payload == a.payload, f"payload of {a.id}"
        assert_vectors(a.vector, b.vector, f"point {a.id}: ")


def assert_hits(q, n):
    """ScoredPoints: same scores rank by rank; the same ids, except that ids of
    equal scores may come in any order (and differ at the cut)."""
    assert len(n) == len(q), ([p.id for p in q], [p.id for p in n])
    np.testing.assert_allclose([p.score for p in n], [p.score for p in q], rtol=RTOL,
                               atol=ATOL)
    q_by_id = {p.id: p for p in q}
    edge = {0, len(n) - 1}  # a tie may straddle the offset or the limit: the other id is cut
    for i, p in enumerate(n):
        if p.id != q[i].id:  # only among ties
            tied = [r.id for r in q if np.isclose(r.score, p.score, rtol=RTOL, atol=ATOL)]
            assert p.id in tied or i in edge, f"rank {i}: {p.id} vs {q[i].id}"
        if p.id in q_by_id:
            a = q_by_id[p.id]
            np.testing.assert_allclose(p.score, a.score, rtol=RTOL, atol=ATOL)
            assert p.payload == a.payload, f"payload of {p.id}"
            assert_vectors(a.vector, p.vector, f"point {p.id}: ")
    assert len({p.id for p in n}) == len(n)


def assert_same(q, n):
    """Dispatch on what qdrant-client returned."""
    kind = type(q[0] if isinstance(q, list) and q else q).__name__
    if isinstance(q, tuple) and len(q) == 2 and isinstance(q[0], list):  # scroll
        assert_records(q[0], n[0])
        assert n[1] == q[1], "next_page_offset"
    elif kind == "QueryResponse" and isinstance(q, list):
        assert len(n) == len(q)
        for a, b in zip(q, n):
            assert_hits(a.points, b.points)
    elif kind == "QueryResponse":
        assert_hits(q.points, n.points)
    elif kind == "ScoredPoint":
        assert_hits(q, n)
    elif kind == "Record":
        assert_records(q, n)
    elif kind == "CountResult":
        assert n.count == q.count
    elif kind == "UpdateResult":
        assert str(n.status) == str(q.status) == "completed"
    else:
        assert n == q


# -- data --------------------------------------------------------------------------------
def uuids(rng, n):
    return [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(n)]


def dataset(seed=0, n=40, d=6):
    """Vectors with deliberate ties (a duplicate; for Cosine, a scaled copy), int and
    UUID ids, payloads with a nested object."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    x[5] = x[4]
    x[7] = 2 * x[6]
    ids = list(range(n // 2)) + uuids(rng, n - n // 2)
    payloads = [{"city": CITIES[i % 3], "n": i, "meta": {"a": i % 5, "b": [i, "x"]}}
                for i in range(n)]
    return ids, x, payloads, rng


def create_single(pair, name, distance, d=6):
    pair.same(lambda c, m: c.create_collection(
        name, vectors_config=m.VectorParams(size=d, distance=distance)))


def create_named(pair, name="named"):
    pair.same(lambda c, m: c.create_collection(name, vectors_config={
        "image": m.VectorParams(size=6, distance=m.Distance.COSINE),
        "text": m.VectorParams(size=3, distance=m.Distance.EUCLID)}))


def fill_single(pair, name, distance):
    create_single(pair, name, distance)
    ids, x, payloads, rng = dataset()
    half = len(ids) // 2
    pair.same(lambda c, m: c.upsert(name, points=m.Batch(
        ids=ids[:half], vectors=x[:half].tolist(), payloads=payloads[:half])))
    pair.same(lambda c, m: c.upsert(name, points=[
        m.PointStruct(id=i, vector=v.tolist(), payload=p)
        for i, v, p in zip(ids[half:], x[half:], payloads[half:])]))
    return ids, x, payloads, rng


def fill_named(pair, name="named"):
    create_named(pair, name)
    ids, x, payloads, rng = dataset(seed=1)
    text = rng.normal(size=(len(ids), 3)).round(2)
    pair.same(lambda c, m: c.upsert(name, points=[
        m.PointStruct(id=i, vector={"image": v.tolist(), "text": t.tolist()}, payload=p)
        for i, v, t, p in zip(ids, x, text, payloads)]))
    return ids, x, text, rng


# -- collections -------------------------------------------------------------------------
def config_fields(info):
    """The get_collection fields both must agree on (qdrant-client local mode
    reports defaults for hnsw and optimizer settings, so defaults are used)."""
    vectors = info.config.params.vectors

    def as_pairs(v):
        return v.size, str(getattr(v.distance, "value", v.distance))

    hnsw, opt = info.config.hnsw_config, info.config.optimizer_config
    return {
        "points_count": info.points_count,
        "status": str(getattr(info.status, "value", info.status)),
        "vectors": ({k: as_pairs(v) for k, v in vectors.items()} if isinstance(vectors, dict)
                    else as_pairs(vectors)),
        "hnsw": (hnsw.m, hnsw.ef_construct, hnsw.full_scan_threshold),
        "optimizer": (opt.deleted_threshold, opt.vacuum_min_vector_number,
                      opt.indexing_threshold, opt.default_segment_number),
    }


@pytest.mark.parametrize("distance", DISTANCES)
def test_create_collection_and_info(pair, distance):
    create_single(pair, "single", distance)
    pair.same(lambda c, m: c.create_collection("named", vectors_config={
        "a": m.VectorParams(size=3, distance=distance),
        "b": m.VectorParams(size=5, distance="Dot")}))
    for name in ("single", "named"):
        pair.same(lambda c, m, name=name: config_fields(c.get_collection(name)))
    ids, x, payloads, _ = dataset()
    pair.same(lambda c, m: c.upsert("single", m.Batch(ids=ids, vectors=x.tolist())))
    q, n = pair.same(lambda c, m: config_fields(c.get_collection("single")))
    assert n["points_count"] == len(ids) and n["status"] == "green"


def test_collections_exist_list_delete_and_aliases(pair):
    create_single(pair, "one", "Dot")
    create_named(pair, "two")
    pair.same(lambda c, m: sorted(d.name for d in c.get_collections().collections))
    pair.same(lambda c, m: (c.collection_exists("one"), c.collection_exists("nope")))
    pair.same(lambda c, m: c.upsert("one", m.Batch(ids=[1, 2], vectors=np.eye(6)[:2].tolist())))

    pair.same(lambda c, m: c.update_collection_aliases(change_aliases_operations=[
        m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name="one",
                                                          alias_name="latest"))]))
    pair.same(lambda c, m: c.count("latest"))
    pair.same(lambda c, m: c.query_points("latest", query=[1, 0, 0, 0, 0, 0], limit=1))
    pair.same(lambda c, m: c.collection_exists("latest"))
    pair.same(lambda c, m: c.update_collection_aliases(change_aliases_operations=[
        m.RenameAliasOperation(rename_alias=m.RenameAlias(old_alias_name="latest",
                                                          new_alias_name="current"))]))
    pair.same(lambda c, m: [(a.alias_name, a.collection_name) for a in c.get_aliases().aliases])
    pair.same(lambda c, m: [a.alias_name for a in c.get_collection_aliases("one").aliases])
    pair.same(lambda c, m: c.update_collection_aliases(change_aliases_operations=[
        m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name="current"))]))
    pair.same(lambda c, m: c.get_aliases().aliases)

    pair.same(lambda c, m: (c.delete_collection("one"), c.delete_collection("one")))
    pair.same(lambda c, m: (c.collection_exists("one"),
                            [d.name for d in c.get_collections().collections]))


# -- points ------------------------------------------------------------------------------
@pytest.mark.parametrize("distance", DISTANCES)
def test_upsert_and_retrieve_variants(pair, distance):
    ids, x, payloads, _ = fill_single(pair, "c", distance)
    pick = [ids[3], ids[-1], ids[25], 10_000, ids[0]]  # 10_000 is not stored
    pair.same(lambda c, m: c.retrieve("c", pick))
    pair.same(lambda c, m: c.retrieve("c", pick, with_vectors=True, with_payload=False))
    pair.same(lambda c, m: c.retrieve("c", pick, with_payload=["n", "meta.a"]))
    pair.same(lambda c, m: c.retrieve(
        "c", pick, with_payload=m.PayloadSelectorInclude(include=["city", "meta.b"])))
    pair.same(lambda c, m: c.retrieve(
        "c", pick, with_payload=m.PayloadSelectorExclude(exclude=["city", "meta.a"])))
    pair.same(lambda c, m: c.count("c", exact=True))


def test_retrieve_named_vectors(pair):
    ids, *_ = fill_named(pair)
    for with_vectors in (True, False, ["text"], ["image", "text"]):
        pair.same(lambda c, m, wv=with_vectors: c.retrieve("named", ids[::7], with_vectors=wv))


def test_upsert_replaces_points(pair):
    ids, x, payloads, _ = fill_single(pair, "c", "Cosine")
    pair.same(lambda c, m: c.upsert("c", m.Batch(ids=ids[:3], vectors=x[10:13].tolist(),
                                                 payloads=[{"new": True}] * 3)))
    pair.same(lambda c, m: c.upsert("c", [m.PointStruct(id=ids[-1], vector=x[0].tolist())]))
    pair.same(lambda c, m: c.retrieve("c", ids[:3] + ids[-1:], with_vectors=True))
    pair.same(lambda c, m: c.count("c"))


def test_delete_by_ids_and_count(pair):
    ids, *_ = fill_single(pair, "c", "Dot")
    pair.same(lambda c, m: c.delete("c", points_selector=m.PointIdsList(
        points=[ids[0], ids[-1], 123_456])))
    pair.same(lambda c, m: c.delete("c", points_selector=ids[10:14]))
    pair.same(lambda c, m: c.count("c"))
    pair.same(lambda c, m: c.retrieve("c", ids[:15]))
    pair.same(lambda c, m: c.query_points("c", query=ids[5], limit=40))


def test_scroll_pagination(pair):
    fill_single(pair, "c", "Euclid")
    pages_q, pages_n = [], []
    for client, pages in ((pair.qdrant, pages_q), (pair.nbvec, pages_n)):
        offset = None
        while True:
            records, offset = client.scroll("c", limit=7, offset=offset, with_vectors=True)
            pages.append((records, offset))
            if offset is None:
                break
    assert len(pages_n) == len(pages_q) == 6
    for q, n in zip(pages_q, pages_n):
        assert_same(q, n)
    pair.same(lambda c, m: c.scroll("c", limit=100))
    ids, *_ = dataset()
    pair.same(lambda c, m: c.scroll("c", limit=3, offset=ids[-5],
                                    with_payload=m.PayloadSelectorInclude(include=["n"])))


# -- payload and vector writes -----------------------------------------------------------
def test_payload_writes(pair):
    ids, *_ = fill_single(pair, "c", "Cosine")
    some = [ids[1], ids[30]]
    pair.same(lambda c, m: c.set_payload("c", payload={"city": "Rome", "extra": [1, 2]},
                                         points=some))
    pair.same(lambda c, m: c.overwrite_payload("c", payload={"only": {"x": 1}},
                                               points=m.PointIdsList(points=[ids[2]])))
    pair.same(lambda c, m: c.delete_payload("c", keys=["n", "meta.a"], points=[ids[3], ids[31]]))
    pair.same(lambda c, m: c.clear_payload("c", points_selector=m.PointIdsList(points=[ids[4]])))
    pair.same(lambda c, m: c.retrieve("c", ids[:5] + ids[30:32]))
    pair.same(lambda c, m: c.query_points("c", query=ids[0], limit=5, with_payload=True))


def test_vector_writes(pair):
    ids, x, text, _ = fill_named(pair)
    pair.same(lambda c, m: c.update_vectors("named", points=[
        m.PointVectors(id=ids[0], vector={"text": [9.0, 9.0, 9.0]}),
        m.PointVectors(id=ids[-1], vector={"image": x[3].tolist()})]))
    pair.same(lambda c, m: c.delete_vectors("named", vectors=["image"], points=ids[5:9]))
    pair.same(lambda c, m: c.retrieve("named", ids[:9] + ids[-1:], with_vectors=True))
    # points without the "image" vector are not hits of an image query
    pair.same(lambda c, m: c.query_points("named", query=x[5].tolist(), using="image",
                                          limit=40, with_vectors=True))
    pair.same(lambda c, m: c.query_points("named", query=[9, 9, 9], using="text", limit=3))


def test_vector_writes_single_vector(pair):
    ids, x, *_ = fill_single(pair, "c", "Manhattan")
    pair.same(lambda c, m: c.update_vectors("c", points=[
        m.PointVectors(id=ids[7], vector=[0.5] * 6)]))
    pair.same(lambda c, m: c.retrieve("c", [ids[7]], with_vectors=True))
    pair.same(lambda c, m: c.query_points("c", query=[0.5] * 6, limit=3))


# -- queries -----------------------------------------------------------------------------
@pytest.mark.parametrize("distance", DISTANCES)
def test_query_points(pair, distance):
    ids, x, payloads, rng = fill_single(pair, "c", distance)
    queries = rng.normal(size=(3, 6)).round(3)
    for qv in [q.tolist() for q in (*queries, x[4])]:  # x[4] ties with x[5]
        pair.same(lambda c, m, qv=qv: c.query_points("c", query=qv, limit=8))
        pair.same(lambda c, m, qv=qv: c.query_points(
            "c", query=qv, limit=5, offset=3, with_vectors=True,
            search_params=m.SearchParams(exact=True)))
        pair.same(lambda c, m, qv=qv: c.query_points(
            "c", query=m.NearestQuery(nearest=qv), limit=40, with_payload=False))
    pair.same(lambda c, m: c.query_points("c", query=np.asarray(queries[0]), limit=4))


@pytest.mark.parametrize("distance", DISTANCES)
def test_query_by_point_id_excludes_the_point(pair, distance):
    ids, *_ = fill_single(pair, "c", distance)
    for pid in (ids[4], ids[6], ids[33]):
        q, n = pair.same(lambda c, m, pid=pid: c.query_points("c", query=pid, limit=6,
                                                             with_vectors=True))
        assert pid not in [p.id for p in n.points]


@pytest.mark.parametrize("distance", DISTANCES)
def test_score_threshold(pair, distance):
    ids, x, payloads, rng = fill_single(pair, "c", distance)
    qv = rng.normal(size=6).round(3).tolist()
    scores = [p.score for p in pair.qdrant.query_points("c", query=qv, limit=40).points]
    # cuts halfway between two scores: which side a point falls on is then not a
    # matter of float32 vs float64 rounding
    for k in (3, 20, 38):
        cut = (scores[k] + scores[k + 1]) / 2
        q, n = pair.same(lambda c, m, cut=cut: c.query_points("c", query=qv, limit=40,
                                                             score_threshold=cut))
        assert len(n.points) == k + 1
        pair.same(lambda c, m, cut=cut: c.query_points("c", query=qv, limit=5, offset=2,
                                                      score_threshold=cut))


@pytest.mark.parametrize("distance", ["Dot", "Euclid", "Manhattan"])
def test_score_threshold_excludes_equal_scores(pair, distance):
    create_single(pair, "c", distance, d=2)
    pair.same(lambda c, m: c.upsert("c", m.Batch(ids=[1, 2, 3], vectors=[[1, 0], [2, 0], [3, 0]])))
    for cut in (0.0, 1.0, 2.0):  # scores are exact small integers here
        pair.same(lambda c, m, cut=cut: c.query_points("c", query=[1, 0], score_threshold=cut))


def test_named_vectors_using(pair):
    ids, x, text, rng = fill_named(pair)
    pair.same(lambda c, m: c.query_points("named", query=x[2].tolist(), using="image", limit=6,
                                          with_vectors=["text"]))
    pair.same(lambda c, m: c.query_points("named", query=text[2].tolist(), using="text",
                                          limit=6, with_payload=["city"]))
    pair.same(lambda c, m: c.query_points("named", query=ids[2], using="text", limit=6))
    pair.same(lambda c, m: c.query_points("named", query=ids[25], using="image", limit=6,
                                          score_threshold=0.2))


def test_query_batch_points(pair):
    ids, x, text, rng = fill_named(pair)
    pair.same(lambda c, m: c.query_batch_points("named", requests=[
        m.QueryRequest(query=x[0].tolist(), using="image", limit=3),
        m.QueryRequest(query=text[1].tolist(), using="text", limit=4, offset=1,
                       with_payload=True, with_vector=["image"]),
        m.QueryRequest(query=ids[3], using="image", limit=2, score_threshold=0.0),
        m.QueryRequest(query=m.NearestQuery(nearest=x[9].tolist()), using="image",
                       with_payload=m.PayloadSelectorExclude(exclude=["meta"]),
                       params=m.SearchParams(exact=True)),
    ]))


@pytest.fixture
def legacy_pair():
    """qdrant_client.models has no SearchRequest or NamedVector any more: the
    legacy calls are written with nbvec's models."""
    return Pair(swap=False)


def test_legacy_search_matches_query_points(legacy_pair):
    """qdrant-client >= 1.16 has no search/search_batch: nbvec's legacy methods
    are compared with qdrant-client's query_points/query_batch_points."""
    pair, m = legacy_pair, nm
    ids, x, payloads, rng = fill_single(pair, "c", "Dot")
    for qv in rng.normal(size=(3, 6)).round(3).tolist():
        want = pair.qdrant.query_points("c", query=qv, limit=5, offset=1, score_threshold=-1.0,
                                        with_vectors=True)
        got = pair.nbvec.search("c", query_vector=qv, limit=5, offset=1, score_threshold=-1.0,
                                with_vectors=True, search_params=m.SearchParams(exact=True))
        assert_hits(want.points, got)
    want = pair.qdrant.query_batch_points("c", requests=[
        qm.QueryRequest(query=x[1].tolist(), limit=3),
        qm.QueryRequest(query=x[2].tolist(), limit=4, with_payload=True)])
    got = pair.nbvec.search_batch("c", requests=[
        m.SearchRequest(vector=x[1].tolist(), limit=3),
        m.SearchRequest(vector=x[2].tolist(), limit=4, with_payload=True)])
    for a, b in zip(want, got):
        assert_hits(a.points, b)


def test_legacy_search_named_vectors(legacy_pair):
    pair, m = legacy_pair, nm
    ids, x, text, rng = fill_named(pair)
    want = pair.qdrant.query_points("named", query=text[3].tolist(), using="text", limit=4)
    for query_vector in (("text", text[3].tolist()),
                         m.NamedVector(name="text", vector=text[3].tolist())):
        assert_hits(want.points, pair.nbvec.search("named", query_vector=query_vector, limit=4))
    got = pair.nbvec.search_batch("named", requests=[m.SearchRequest(
        vector=m.NamedVector(name="text", vector=text[3].tolist()), limit=4, with_payload=True)])
    assert_hits(want.points, got[0])


# -- filters (until issue 4 lands nbvec refuses them) --------------------------------------
def test_filtered_count_scroll_query_and_delete(pair):
    fill_single(pair, "c", "Cosine")

    def london(m):
        return m.Filter(must=[m.FieldCondition(key="city", match=m.MatchValue(value="London"))])

    pair.same(lambda c, m: c.count("c", count_filter=london(m)))
    pair.same(lambda c, m: c.scroll("c", scroll_filter=london(m), limit=5))
    pair.same(lambda c, m: c.query_points("c", query=[1, 0, 0, 0, 0, 0], query_filter=london(m),
                                          limit=5))
    pair.same(lambda c, m: c.delete("c", points_selector=m.FilterSelector(filter=london(m))))
    pair.same(lambda c, m: c.count("c"))
