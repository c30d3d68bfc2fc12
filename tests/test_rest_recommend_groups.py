"""Seed 000's recommend, recommend/batch, search/groups, recommend/groups and
with_lookup REST examples, run verbatim through Client.rest_request and
compared with the Python Client and with the documented results."""

import numpy as np
import pytest

import nbvec
from nbvec import models

SEED_GROUP_POINTS = [
    (0, {"chunk_part": 0, "document_id": "a"}, [0.91]),
    (1, {"chunk_part": 1, "document_id": ["a", "b"]}, [0.8]),
    (2, {"chunk_part": 2, "document_id": "a"}, [0.2]),
    (3, {"chunk_part": 0, "document_id": 123}, [0.79]),
    (4, {"chunk_part": 1, "document_id": 123}, [0.75]),
    (5, {"chunk_part": 0, "document_id": -10}, [0.6]),
]


@pytest.fixture
def client():
    c = nbvec.Client()
    rng = np.random.default_rng(0)
    c.create_collection("songs", vectors_config={
        "image": models.VectorParams(size=4, distance="Cosine"),
        "text": models.VectorParams(size=3, distance="Dot")})
    cities = ["London", "Paris", "Berlin"]
    ids = list(range(1000))
    c.upsert("songs", models.Batch(
        ids=ids, vectors={"image": rng.normal(size=(1000, 4)).tolist(),
                          "text": rng.normal(size=(1000, 3)).tolist()},
        payloads=[{"city": cities[i % 3]} for i in ids]))
    c.create_collection("chunks", vectors_config=models.VectorParams(size=1, distance="Dot"))
    c.upsert("chunks", [models.PointStruct(id=i, payload=p, vector=v)
                        for i, p, v in SEED_GROUP_POINTS])
    c.create_collection("documents", vectors_config=models.VectorParams(size=1, distance="Dot"))
    c.upsert("documents", [
        models.PointStruct(id=1, vector=[1.0], payload={"title": "Document A",
                                                        "text": "This is document A"}),
        models.PointStruct(id=2, vector=[1.0], payload={"title": "Document B",
                                                        "text": "This is document B"})])
    return c


def _ids(points):
    return [p["id"] for p in points]


def test_recommend_with_filter_verbatim(client):
    body = {"filter": {"must": [{"key": "city", "match": {"value": "London"}}]},
            "negative": [718], "positive": [100, 231], "using": "image", "limit": 10}
    out = client.rest_request("POST", "/collections/songs/points/recommend", body)
    assert out["status"] == "ok" and isinstance(out["time"], float)
    assert len(out["result"]) == 10
    assert all(set(p) == {"id", "version", "score"} for p in out["result"])  # no payload
    expected = client.recommend("songs", positive=[100, 231], negative=[718], using="image",
                                query_filter=models.Filter(must=[models.FieldCondition(
                                    key="city", match=models.MatchValue(value="London"))]),
                                limit=10)
    assert _ids(out["result"]) == [p.id for p in expected]
    assert all(p.payload["city"] == "London" for p in expected)
    assert not {100, 231, 718} & set(_ids(out["result"]))


def test_recommend_batch_verbatim(client):
    flt = {"must": [{"key": "city", "match": {"value": "London"}}]}
    body = {"searches": [
        {"filter": flt, "negative": [718], "positive": [100, 231], "limit": 10,
         "using": "image"},
        {"filter": flt, "negative": [300], "positive": [200, 67], "limit": 10,
         "using": "image"}]}
    out = client.rest_request("POST", "/collections/songs/points/recommend/batch", body)
    assert [len(r) for r in out["result"]] == [10, 10]
    single = client.rest_request("POST", "/collections/songs/points/recommend",
                                 body["searches"][1])
    assert out["result"][1] == single["result"]


def test_search_groups_verbatim(client):
    body = {"vector": [1.1], "group_by": "document_id", "limit": 4, "group_size": 2}
    out = client.rest_request("POST", "/collections/chunks/points/search/groups", body)
    groups = out["result"]["groups"]
    # seed 000's documented answer: an array value puts point 1 in groups a and b
    assert [(g["id"], _ids(g["hits"])) for g in groups] == [
        ("a", [0, 1]), ("b", [1]), (123, [3, 4]), (-10, [5])]
    assert groups[0]["hits"][0]["score"] == pytest.approx(0.91 * 1.1, rel=1e-6)


def test_recommend_groups_verbatim(client):
    body = {"negative": [1], "positive": [2, 5], "group_by": "document_id", "limit": 4,
            "group_size": 2}
    out = client.rest_request("POST", "/collections/chunks/points/recommend/groups", body)
    expected = client.recommend_groups("chunks", "document_id", positive=[2, 5],
                                       negative=[1], limit=4, group_size=2)
    assert [(g["id"], _ids(g["hits"])) for g in out["result"]["groups"]] == [
        (g.id, [h.id for h in g.hits]) for g in expected.groups]
    mentioned = {1, 2, 5}
    assert not mentioned & {h for g in out["result"]["groups"] for h in _ids(g["hits"])}


def test_search_groups_with_lookup_verbatim(client):
    client.upsert("chunks", [models.PointStruct(id=10, vector=[0.95],
                                                payload={"document_id": 1}),
                             models.PointStruct(id=11, vector=[0.9],
                                                payload={"document_id": 2})])
    body = {"vector": [1.1], "group_by": "document_id", "limit": 2, "group_size": 2,
            "with_lookup": {"collection": "documents", "with_payload": ["title", "text"],
                            "with_vectors": False}}
    out = client.rest_request("POST", "/collections/chunks/points/search/groups", body)
    groups = out["result"]["groups"]
    assert [g["id"] for g in groups] == [1, "a"]
    assert groups[0]["lookup"] == {"id": 1, "payload": {"title": "Document A",
                                                         "text": "This is document A"}}
    assert "lookup" not in groups[1]  # "a" is no point id: no lookup
    short = client.rest_request("POST", "/collections/chunks/points/search/groups",
                                {**body, "with_lookup": "documents"})
    assert short["result"]["groups"][0]["lookup"]["vector"] == [1.0]


def test_groups_refuse_offset(client):
    with pytest.raises(nbvec.InvalidRequest, match="offset"):
        client.query_points_groups("chunks", "document_id", query=[1.0], offset=2)
