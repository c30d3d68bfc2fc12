"""Client.rest_request: Qdrant's REST calls run in process.

Every REST example of the search docs (seed 000) that nbvec supports runs
verbatim and returns the documented shape, with the results of the Python
Client's equivalent call; the getting-started tutorial's collection and point
calls (seed 002) run through their REST endpoints.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import nbvec
from nbvec import models

CITIES = ["London", "Berlin", "Paris", "Moscow"]
LONDON = {"must": [{"key": "city", "match": {"value": "London"}}]}
N = 120  # the pagination example skips 100 hits


@pytest.fixture(scope="module")
def client():
    """A 4-d Cosine collection "demo" with a city payload, and "named" with
    vectors "image" (4-d Cosine) and "text" (3-d Dot)."""
    rng = np.random.default_rng(7)
    c = nbvec.Client()
    c.create_collection("demo", vectors_config=models.VectorParams(size=4, distance="Cosine"))
    c.upsert("demo", models.Batch(ids=list(range(N)), vectors=rng.normal(size=(N, 4)).tolist(),
                                  payloads=[{"city": CITIES[i % 4], "n": i} for i in range(N)]))
    c.create_collection("named", vectors_config={
        "image": models.VectorParams(size=4, distance="Cosine"),
        "text": models.VectorParams(size=3, distance="Dot")})
    c.upsert("named", [models.PointStruct(
        id=i, vector={"image": rng.normal(size=4).tolist(), "text": rng.normal(size=3).tolist()},
        payload={"city": CITIES[i % 4]}) for i in range(20)])
    return c


def rest(client, method, path, body=None):
    response = client.rest_request(method, path, body)
    assert set(response) == {"result", "status", "time"}
    assert response["status"] == "ok"
    assert isinstance(response["time"], float) and response["time"] >= 0
    json.dumps(response)  # JSON-able as a whole
    return response["result"]


def as_rest(points) -> list[dict]:
    """The REST form of ScoredPoints, built independently of nbvec's encoder."""
    out = []
    for p in points:
        d = {"id": p.id, "version": p.version, "score": p.score}
        if p.payload is not None:
            d["payload"] = p.payload
        if p.vector is not None:
            d["vector"] = p.vector
        out.append(d)
    return out


def check_hits(result, expected, keys=("id", "version", "score")):
    assert isinstance(result, list)
    for hit in result:
        assert set(hit) == set(keys), hit
    assert result == as_rest(expected)


# -- seed 000: the search API ----------------------------------------------------------------
def test_search_example_with_filter(client):
    body = {"filter": LONDON, "params": {"hnsw_ef": 128, "exact": False},
            "vector": [0.2, 0.1, 0.9, 0.7], "limit": 3}
    result = rest(client, "POST", "/collections/demo/points/search", body)
    expected = client.query_points("demo", query=[0.2, 0.1, 0.9, 0.7], limit=3,
                                   query_filter=models.Filter.model_validate(LONDON),
                                   search_params=models.SearchParams(hnsw_ef=128),
                                   with_payload=False).points
    check_hits(result, expected)


def test_search_example_without_filter_returns_no_payload_or_vector(client):
    body = {"params": {"hnsw_ef": 128, "exact": False}, "vector": [0.2, 0.1, 0.9, 0.7],
            "limit": 3}
    result = rest(client, "POST", "/collections/demo/points/search", body)
    assert len(result) == 3
    assert [h["score"] for h in result] == sorted((h["score"] for h in result), reverse=True)
    check_hits(result, client.query_points("demo", query=[0.2, 0.1, 0.9, 0.7], limit=3,
                                           with_payload=False).points)


def test_top_is_an_alias_of_limit(client):
    by_limit = rest(client, "POST", "/collections/demo/points/search",
                    {"vector": [0.2, 0.1, 0.9, 0.7], "limit": 4})
    by_top = rest(client, "POST", "/collections/demo/points/search",
                  {"vector": [0.2, 0.1, 0.9, 0.7], "top": 4})
    assert by_top == by_limit and len(by_top) == 4


def test_named_vector_example(client):
    body = {"vector": {"name": "image", "vector": [0.2, 0.1, 0.9, 0.7]}, "limit": 3}
    result = rest(client, "POST", "/collections/named/points/search", body)
    check_hits(result, client.query_points("named", query=[0.2, 0.1, 0.9, 0.7], using="image",
                                           limit=3, with_payload=False).points)
    legacy = client.search("named", query_vector=("image", [0.2, 0.1, 0.9, 0.7]), limit=3,
                           with_payload=False)
    check_hits(result, legacy)


def test_score_threshold(client):
    everything = rest(client, "POST", "/collections/demo/points/search",
                      {"vector": [0.2, 0.1, 0.9, 0.7], "limit": N})
    cut = everything[9]["score"]
    result = rest(client, "POST", "/collections/demo/points/search",
                  {"vector": [0.2, 0.1, 0.9, 0.7], "limit": N, "score_threshold": cut})
    assert result and all(h["score"] >= cut for h in result)
    assert [h["id"] for h in result] == [h["id"] for h in everything[: len(result)]]
    check_hits(result, client.query_points("demo", query=[0.2, 0.1, 0.9, 0.7], limit=N,
                                           score_threshold=cut, with_payload=False).points)


def test_with_vectors_and_payload_example(client):
    body = {"vector": [0.2, 0.1, 0.9, 0.7], "with_vectors": True, "with_payload": True}
    result = rest(client, "POST", "/collections/demo/points/search", body)
    assert len(result) == 10  # the example has no limit: the query API's default
    check_hits(result, client.query_points("demo", query=[0.2, 0.1, 0.9, 0.7], limit=10,
                                           with_payload=True, with_vectors=True).points,
               keys=("id", "version", "score", "payload", "vector"))
    assert all(len(h["vector"]) == 4 and "city" in h["payload"] for h in result)


def test_exclude_payload_example(client):
    body = {"vector": [0.2, 0.1, 0.9, 0.7], "with_payload": {"exclude": ["city"]}}
    result = rest(client, "POST", "/collections/demo/points/search", body)
    assert all(h["payload"] == {"n": h["id"]} for h in result)
    check_hits(result, client.query_points(
        "demo", query=[0.2, 0.1, 0.9, 0.7],
        with_payload=models.PayloadSelectorExclude(exclude=["city"])).points,
        keys=("id", "version", "score", "payload"))


def test_include_payload(client):
    result = rest(client, "POST", "/collections/demo/points/search",
                  {"vector": [0.2, 0.1, 0.9, 0.7], "limit": 2,
                   "with_payload": {"include": ["city"]}})
    assert all(set(h["payload"]) == {"city"} for h in result)


def test_named_vectors_returned_by_name(client):
    result = rest(client, "POST", "/collections/named/points/search",
                  {"vector": {"name": "text", "vector": [1, 0, 0]}, "limit": 2,
                   "with_vector": ["image"]})
    assert all(set(h["vector"]) == {"image"} for h in result)


def test_batch_search_example(client):
    body = {"searches": [
        {"filter": LONDON, "vector": [0.2, 0.1, 0.9, 0.7], "limit": 3},
        {"filter": LONDON, "vector": [0.5, 0.3, 0.2, 0.3], "limit": 3},
    ]}
    result = rest(client, "POST", "/collections/demo/points/search/batch", body)
    assert len(result) == 2
    for hits, vector in zip(result, ([0.2, 0.1, 0.9, 0.7], [0.5, 0.3, 0.2, 0.3])):
        check_hits(hits, client.search("demo", vector, limit=3, with_payload=False,
                                       query_filter=models.Filter.model_validate(LONDON)))


def test_batch_search_is_n_searches(client):
    vectors = ([0.2, 0.1, 0.9, 0.7], [0.5, 0.3, 0.2, 0.3])
    body = {"searches": [{"vector": v, "limit": 3} for v in vectors]
            + [{"vector": {"name": "image", "vector": vectors[0]}, "limit": 1}]}
    with pytest.raises(nbvec.UnknownVectorName):  # "demo" has no vector named image
        rest(client, "POST", "/collections/demo/points/search/batch", body)
    body["searches"].pop()
    result = rest(client, "POST", "/collections/demo/points/search/batch", body)
    assert [r for r in result] == [
        rest(client, "POST", "/collections/demo/points/search", s) for s in body["searches"]]
    expected = client.search_batch("demo", [models.SearchRequest(vector=v, limit=3)
                                            for v in vectors])
    for hits, want in zip(result, expected):
        check_hits(hits, want)


def test_pagination_example(client):
    body = {"vector": [0.2, 0.1, 0.9, 0.7], "with_vectors": True, "with_payload": True,
            "limit": 10, "offset": 100}
    result = rest(client, "POST", "/collections/demo/points/search", body)
    everything = rest(client, "POST", "/collections/demo/points/search",
                      {"vector": [0.2, 0.1, 0.9, 0.7], "limit": N, "with_payload": True,
                       "with_vectors": True})
    assert result == everything[100:110]
    check_hits(result, client.query_points("demo", query=[0.2, 0.1, 0.9, 0.7], limit=10,
                                           offset=100, with_vectors=True).points,
               keys=("id", "version", "score", "payload", "vector"))


# -- the query API -----------------------------------------------------------------------------
def test_query_and_query_batch(client):
    result = rest(client, "POST", "/collections/named/points/query",
                  {"query": [1, 0, 0], "using": "text", "limit": 3})
    assert set(result) == {"points"}
    check_hits(result["points"], client.query_points("named", query=[1, 0, 0], using="text",
                                                     limit=3, with_payload=False).points)
    by_id = rest(client, "POST", "/collections/named/points/query",
                 {"query": 5, "using": "image", "with_payload": True})
    assert len(by_id["points"]) == 10 and 5 not in [h["id"] for h in by_id["points"]]
    batch = rest(client, "POST", "/collections/named/points/query/batch", {"searches": [
        {"query": [1, 0, 0], "using": "text", "limit": 3},
        {"query": {"nearest": [0.2, 0.1, 0.9, 0.7]}, "using": "image", "with_vectors": True}]})
    assert batch[0] == result and len(batch[1]["points"]) == 10
    assert all(set(h["vector"]) == {"image", "text"} for h in batch[1]["points"])


# -- seed 002: the tutorial's collection and point calls ---------------------------------------
def test_tutorial_calls_through_rest():
    c = nbvec.Client()
    rng = np.random.default_rng(0)
    data = rng.uniform(-1, 1, size=(50, 8))
    assert rest(c, "PUT", "/collections/first_collection",
                {"vectors": {"size": 8, "distance": "Cosine"}}) is True
    info = rest(c, "GET", "/collections/first_collection")
    assert info["status"] == "green" and info["points_count"] == 0
    assert info["config"]["params"]["vectors"] == {"size": 8, "distance": "Cosine"}
    assert info["config"]["hnsw_config"]["m"] == 16
    assert rest(c, "GET", "/collections") == {"collections": [{"name": "first_collection"}]}
    assert rest(c, "GET", "/collections/first_collection/exists") == {"exists": True}

    update = rest(c, "PUT", "/collections/first_collection/points?wait=true",
                  {"batch": {"ids": list(range(50)), "vectors": data.tolist()}})
    assert update["status"] == "completed" and isinstance(update["operation_id"], int)
    got = rest(c, "POST", "/collections/first_collection/points",
               {"ids": [10], "with_vector": True})
    assert [set(r) for r in got] == [{"id", "payload", "vector"}] and got[0]["payload"] == {}
    np.testing.assert_allclose(got[0]["vector"], data[10] / np.linalg.norm(data[10]),
                               rtol=1e-6)
    assert rest(c, "GET", "/collections/first_collection/points/10") == got[0]

    rest(c, "PUT", "/collections/first_collection/points",
         {"points": [{"id": 1000, "vector": rng.uniform(-1, 1, 8).tolist()}]})
    assert rest(c, "POST", "/collections/first_collection/points/count",
                {"exact": True}) == {"count": 51}
    rest(c, "POST", "/collections/first_collection/points/delete", {"points": [1000]})
    assert rest(c, "POST", "/collections/first_collection/points/count", {}) == {"count": 50}

    payload = [{"artist": f"artist {i}", "year": str(1970 + i)} for i in range(50)]
    for i, p in enumerate(payload):
        rest(c, "POST", "/collections/first_collection/points/payload",
             {"payload": p, "points": [i]})
    records = rest(c, "POST", "/collections/first_collection/points",
                   {"ids": [10, 14, 50 - 1]})
    assert [r["payload"] for r in records] == [payload[10], payload[14], payload[49]]
    assert all("vector" not in r for r in records)

    page = rest(c, "POST", "/collections/first_collection/points/scroll", {"limit": 5})
    assert [r["id"] for r in page["points"]] == [0, 1, 2, 3, 4]
    assert page["next_page_offset"] == 5

    query = data[3].tolist()
    hits = rest(c, "POST", "/collections/first_collection/points/query",
                {"query": query, "limit": 3, "with_payload": {"exclude": ["year"]}})["points"]
    assert hits[0]["id"] == 3 and all(set(h["payload"]) == {"artist"} for h in hits)

    rest(c, "POST", "/collections/first_collection/points/payload/clear",
         {"points": list(range(50))})
    assert all(r.payload == {} for r in c.scroll("first_collection", limit=50)[0])
    assert rest(c, "DELETE", "/collections/first_collection") is True
    assert rest(c, "GET", "/collections/first_collection/exists") == {"exists": False}


def test_payload_vector_index_and_alias_endpoints():
    c = nbvec.Client()
    rest(c, "PUT", "/collections/col", {"vectors": {"a": {"size": 2, "distance": "Dot"},
                                                    "b": {"size": 2, "distance": "Euclid"}}})
    rest(c, "PUT", "/collections/col/points", {"points": [
        {"id": i, "vector": {"a": [i, 1], "b": [1, i]}, "payload": {"k": i, "m": {"x": i}}}
        for i in range(4)]})
    rest(c, "PUT", "/collections/col/points/payload", {"payload": {"only": True}, "points": [0]})
    rest(c, "POST", "/collections/col/points/payload/delete", {"keys": ["m.x"], "points": [1]})
    rest(c, "PUT", "/collections/col/points/vectors",
         {"points": [{"id": 2, "vector": {"a": [9, 9]}}]})
    rest(c, "POST", "/collections/col/points/vectors/delete", {"points": [3], "vector": ["b"]})
    got = {r["id"]: r for r in rest(c, "POST", "/collections/col/points",
                                    {"ids": [0, 1, 2, 3], "with_vectors": True})}
    assert got[0]["payload"] == {"only": True}
    assert got[1]["payload"] == {"k": 1, "m": {}}
    assert got[2]["vector"] == {"a": [9.0, 9.0], "b": [1.0, 2.0]}
    assert got[3]["vector"] == {"a": [3.0, 1.0]}

    rest(c, "PUT", "/collections/col/index", {"field_name": "k", "field_schema": "integer"})
    schema = rest(c, "GET", "/collections/col")["payload_schema"]
    assert schema["k"]["data_type"] == "integer"
    rest(c, "DELETE", "/collections/col/index/k")
    assert rest(c, "GET", "/collections/col")["payload_schema"] == {}

    assert rest(c, "POST", "/collections/aliases", {"actions": [
        {"create_alias": {"collection_name": "col", "alias_name": "latest"}}]}) is True
    assert rest(c, "GET", "/aliases") == {
        "aliases": [{"alias_name": "latest", "collection_name": "col"}]}
    assert rest(c, "GET", "/collections/col/aliases") == rest(c, "GET", "/aliases")
    hits = rest(c, "POST", "/collections/latest/points/search",
                {"vector": {"name": "a", "vector": [1, 0]}, "limit": 1})
    assert hits[0]["id"] == 2


def test_delete_by_filter():
    c = nbvec.Client()
    rest(c, "PUT", "/collections/col", {"vectors": {"size": 2, "distance": "Dot"}})
    rest(c, "PUT", "/collections/col/points", {"points": [
        {"id": i, "vector": [i, 1], "payload": {"city": CITIES[i % 4]}} for i in range(8)]})
    rest(c, "POST", "/collections/col/points/delete", {"filter": LONDON})
    assert rest(c, "POST", "/collections/col/points/count", {}) == {"count": 6}


# -- routing and errors ----------------------------------------------------------------------
def test_json_body_as_text(client):
    as_text = rest(client, "POST", "/collections/demo/points/search",
                   '{"vector": [0.2, 0.1, 0.9, 0.7], "limit": 2}')
    assert len(as_text) == 2


def test_unknown_route_lists_the_known_ones(client):
    with pytest.raises(nbvec.InvalidRequest) as err:
        client.rest_request("POST", "/collections/demo/points/nearest", {})
    assert "POST /collections/{name}/points/search" in str(err.value)
    assert "PUT /collections/{name}" in str(err.value)


def test_wrong_method_says_which_one(client):
    with pytest.raises(nbvec.InvalidRequest, match="takes POST, not GET"):
        client.rest_request("GET", "/collections/demo/points/search")


@pytest.mark.parametrize("path", [
    "/collections/demo/points/discover", "/collections/demo/points/discover/batch"])
def test_unsupported_endpoints_are_refused_by_name(client, path):
    endpoint = path.replace("/demo/", "/{name}/")
    with pytest.raises(nbvec.UnsupportedFeature, match=f"POST {endpoint} "):
        client.rest_request("POST", path, {"target": [1, 2, 3, 4], "limit": 3})


def test_errors_are_nbvec_exceptions(client):
    with pytest.raises(nbvec.CollectionNotFound, match="nope"):
        client.rest_request("POST", "/collections/nope/points/search", {"vector": [1, 2, 3, 4]})
    with pytest.raises(nbvec.CollectionExists):
        client.rest_request("PUT", "/collections/demo", {"vectors": {"size": 4,
                                                                     "distance": "Cosine"}})
    with pytest.raises(nbvec.DimensionMismatch, match="expects 4"):
        client.rest_request("POST", "/collections/demo/points/search", {"vector": [1, 2]})
    with pytest.raises(nbvec.PointNotFound):
        client.rest_request("GET", "/collections/demo/points/99999")
    with pytest.raises(nbvec.InvalidRequest, match="vectr"):
        client.rest_request("POST", "/collections/demo/points/search", {"vectr": [1, 2, 3, 4]})
    with pytest.raises(nbvec.InvalidRequest, match="'limit' or its alias 'top'"):
        client.rest_request("POST", "/collections/demo/points/search",
                            {"vector": [1, 2, 3, 4], "limit": 1, "top": 2})
    with pytest.raises(nbvec.InvalidRequest, match="unknown query parameter"):
        client.rest_request("POST", "/collections/demo/points/count?exact=false", {})
    with pytest.raises(nbvec.UnsupportedFeature, match="quantization"):
        client.rest_request("PUT", "/collections/q", {"vectors": {"size": 2, "distance": "Dot"},
                                                      "quantization_config": {
                                                          "scalar": {"type": "int8"}}})
    with pytest.raises(nbvec.UnsupportedFeature, match="shard keys"):
        client.rest_request("POST", "/collections/demo/points/search",
                            {"vector": [1, 2, 3, 4], "shard_key": "eu"})
    assert client.count("demo").count == N and not client.collection_exists("q")


def test_point_by_uuid_path_and_no_body_on_get():
    c = nbvec.Client()
    rest(c, "PUT", "/collections/col", {"vectors": {"size": 2, "distance": "Euclid"}})
    uid = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
    rest(c, "PUT", "/collections/col/points", {"points": [
        {"id": uid, "vector": [1, 2], "payload": {"a": None}}, {"id": 7, "vector": [3, 4]}]})
    assert rest(c, "GET", f"/collections/col/points/{uid}") == {
        "id": uid, "payload": {"a": None}, "vector": [1.0, 2.0]}
    assert rest(c, "GET", "/collections/col/points/7")["payload"] == {}
    with pytest.raises(nbvec.InvalidRequest, match="takes no body"):
        c.rest_request("GET", "/collections/col", {"with_payload": True})
