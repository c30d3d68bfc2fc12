"""nbvec.Client's errors: Qdrant's meaning, nbvec's types, and no half-done writes.

Each error is an nbvec exception subclassing the matching builtin, its
message names what was wrong (the collection, the vector names, the expected
size, the feature), and a call that fails leaves the collection as it was.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as qm

import nbvec
from nbvec import models as nm

V4 = [0.1, 0.2, 0.3, 0.4]
UUID = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"


@pytest.fixture
def client():
    """Collections "single" (4-d Cosine, 6 points) and "named" ("image" 4-d
    Cosine, "text" 3-d Dot, 4 points), and an alias "alias" of "single"."""
    c = nbvec.Client()
    c.create_collection("single", vectors_config=nm.VectorParams(size=4, distance="Cosine"))
    c.upsert("single", nm.Batch(ids=[1, 2, 3, 4, 5, UUID],
                                vectors=np.random.default_rng(0).normal(size=(6, 4)).tolist(),
                                payloads=[{"k": i, "nested": {"a": i}} for i in range(6)]))
    c.create_collection("named", vectors_config={
        "image": nm.VectorParams(size=4, distance="Cosine"),
        "text": nm.VectorParams(size=3, distance="Dot")})
    c.upsert("named", [nm.PointStruct(id=i, vector={"image": V4, "text": [i, 1, 0]})
                       for i in range(4)])
    c.update_collection_aliases([nm.CreateAliasOperation(
        create_alias=nm.CreateAlias(collection_name="single", alias_name="alias"))])
    return c


def state(c) -> dict:
    """Everything a failing call must leave as it was."""
    out = {"collections": sorted(d.name for d in c.get_collections().collections),
           "aliases": sorted((a.alias_name, a.collection_name) for a in c.get_aliases().aliases)}
    for name in out["collections"]:
        info = c.get_collection(name)
        records, _ = c.scroll(name, limit=1000, with_payload=True, with_vectors=True)
        out[name] = {"count": c.count(name).count, "points_count": info.points_count,
                     "config": info.config.model_dump(), "schema": info.payload_schema,
                     "points": [r.model_dump() for r in records]}
    return out


# -- missing and existing collections ------------------------------------------------------
MISSING_COLLECTION_CALLS = {
    "get_collection": lambda c: c.get_collection("ghost"),
    "upsert": lambda c: c.upsert("ghost", nm.Batch(ids=[1], vectors=[V4])),
    "retrieve": lambda c: c.retrieve("ghost", [1]),
    "count": lambda c: c.count("ghost"),
    "scroll": lambda c: c.scroll("ghost"),
    "query_points": lambda c: c.query_points("ghost", query=V4),
    "query_batch_points": lambda c: c.query_batch_points("ghost", [nm.QueryRequest(query=V4)]),
    "search": lambda c: c.search("ghost", query_vector=V4),
    "delete": lambda c: c.delete("ghost", points_selector=[1]),
    "set_payload": lambda c: c.set_payload("ghost", payload={"a": 1}, points=[1]),
    "overwrite_payload": lambda c: c.overwrite_payload("ghost", payload={"a": 1}, points=[1]),
    "delete_payload": lambda c: c.delete_payload("ghost", keys=["a"], points=[1]),
    "clear_payload": lambda c: c.clear_payload("ghost", points_selector=[1]),
    "update_vectors": lambda c: c.update_vectors("ghost", [nm.PointVectors(id=1, vector=V4)]),
    "delete_vectors": lambda c: c.delete_vectors("ghost", vectors=[""], points=[1]),
    "create_payload_index": lambda c: c.create_payload_index("ghost", "k", "integer"),
    "create_alias": lambda c: c.update_collection_aliases([nm.CreateAliasOperation(
        create_alias=nm.CreateAlias(collection_name="ghost", alias_name="a2"))]),
    "rest": lambda c: c.rest_request("POST", "/collections/ghost/points/count", {}),
}


@pytest.mark.parametrize("call", MISSING_COLLECTION_CALLS.values(),
                         ids=MISSING_COLLECTION_CALLS.keys())
def test_unknown_collection(client, call):
    before = state(client)
    with pytest.raises(nbvec.CollectionNotFound, match="`ghost`") as err:
        call(client)
    assert isinstance(err.value, KeyError)
    assert state(client) == before


def test_qdrant_also_refuses_unknown_collections():
    with pytest.raises(ValueError, match="ghost"):
        QdrantClient(":memory:").get_collection("ghost")


@pytest.mark.parametrize("name", ["single", "alias"])
def test_create_existing_collection(client, name):
    before = state(client)
    with pytest.raises(nbvec.CollectionExists, match=f"`{name}` already exists") as err:
        client.create_collection(name, vectors_config=nm.VectorParams(size=2, distance="Dot"))
    assert isinstance(err.value, ValueError)
    assert state(client) == before


# -- vector names and sizes ------------------------------------------------------------------
UNKNOWN_NAME_CALLS = {
    "query_points": lambda c: c.query_points("named", query=V4, using="imag"),
    "query_by_id": lambda c: c.query_points("named", query=1, using="imag"),
    "search": lambda c: c.search("named", query_vector=("imag", V4)),
    "upsert": lambda c: c.upsert("named", [nm.PointStruct(id=9, vector={"imag": V4})]),
    "update_vectors": lambda c: c.update_vectors(
        "named", [nm.PointVectors(id=1, vector={"imag": V4})]),
    "delete_vectors": lambda c: c.delete_vectors("named", vectors=["imag"], points=[1]),
    "retrieve": lambda c: c.retrieve("named", [1], with_vectors=["imag"]),
    "unnamed_query": lambda c: c.query_points("named", query=V4),
}


@pytest.mark.parametrize("call", UNKNOWN_NAME_CALLS.values(), ids=UNKNOWN_NAME_CALLS.keys())
def test_unknown_vector_name_lists_the_names(client, call):
    before = state(client)
    with pytest.raises(nbvec.UnknownVectorName) as err:
        call(client)
    assert "'image'" in str(err.value) and "'text'" in str(err.value)
    assert state(client) == before


DIMENSION_CALLS = {
    "upsert_batch": lambda c: c.upsert("single", nm.Batch(ids=[7, 8], vectors=[V4, [1, 2, 3]])),
    "upsert_points": lambda c: c.upsert("single", [nm.PointStruct(id=7, vector=V4),
                                                   nm.PointStruct(id=8, vector=V4 + [1])]),
    "upsert_named": lambda c: c.upsert("named", [nm.PointStruct(id=7, vector={"image": [1, 2]})]),
    "query": lambda c: c.query_points("single", query=[1, 2, 3]),
    "search": lambda c: c.search("named", query_vector=("text", V4)),
    "update_vectors": lambda c: c.update_vectors("single", [nm.PointVectors(id=1, vector=[1])]),
}


@pytest.mark.parametrize("call", DIMENSION_CALLS.values(), ids=DIMENSION_CALLS.keys())
def test_dimension_mismatch_names_the_size(client, call):
    before = state(client)
    with pytest.raises(nbvec.DimensionMismatch, match=r"expects [34]\b") as err:
        call(client)
    assert isinstance(err.value, ValueError)
    assert state(client) == before


# -- point ids ---------------------------------------------------------------------------
def id_calls(bad):
    return {
        "batch": lambda c: c.upsert("single", nm.Batch(ids=[10, bad], vectors=[V4, V4])),
        "qdrant_batch": lambda c: c.upsert("single", qm.Batch(ids=[10, bad], vectors=[V4, V4])),
        "points": lambda c: c.upsert("single", [nm.PointStruct(id=11, vector=V4),
                                                nm.PointStruct(id=bad, vector=V4)]),
        "dicts": lambda c: c.upsert("single", [{"id": 11, "vector": V4},
                                               {"id": bad, "vector": V4}]),
        "retrieve": lambda c: c.retrieve("single", [1, bad]),
        "delete": lambda c: c.delete("single", points_selector=[1, bad]),
        "delete_list": lambda c: c.delete("single", nm.PointIdsList(points=[1, bad])),
        "set_payload": lambda c: c.set_payload("single", payload={"x": 1}, points=[1, bad]),
        "update_vectors": lambda c: c.update_vectors("single", [
            nm.PointVectors(id=1, vector=V4), {"id": bad, "vector": V4}]),
    }


@pytest.mark.parametrize("bad", [-1, 2**64, "abc", "5c56c793-69f3"])
@pytest.mark.parametrize("kind", list(id_calls(0)))
def test_invalid_point_id(client, bad, kind):
    before = state(client)
    with pytest.raises(nbvec.InvalidPointId, match="point id") as err:
        id_calls(bad)[kind](client)
    assert isinstance(err.value, ValueError)
    assert state(client) == before


@pytest.mark.parametrize("kind", ["retrieve", "delete", "set_payload"])
def test_float_point_id(client, kind):
    with pytest.raises(nbvec.InvalidPointId, match="floats are not ids"):
        id_calls(1.5)[kind](client)


@pytest.mark.parametrize("kind", ["batch", "points", "dicts", "delete_list"])
def test_float_point_id_in_models(client, kind):
    # nbvec's models refuse it while they are built: an InvalidRequest naming the field
    with pytest.raises(nbvec.InvalidInput, match="point id"):
        id_calls(1.5)[kind](client)


@pytest.mark.parametrize("kind", ["batch", "points", "dicts"])
def test_bool_point_id(client, kind):
    before = state(client)
    with pytest.raises(nbvec.InvalidInput, match="point id"):
        id_calls(True)[kind](client)
    assert state(client) == before


# -- servers and persistence ------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{"url": "http://localhost:6333"}, {"host": "localhost"},
                                    {"location": "http://localhost:6333"}])
def test_servers_are_reached_with_qdrant_client(kwargs):
    with pytest.raises(nbvec.UnsupportedFeature, match="qdrant-client"):
        nbvec.Client(**kwargs)


@pytest.mark.parametrize("kwargs", [{"read_only": True}, {"fsync": "always"}, {"mmap": True}])
def test_storage_options_need_a_path(kwargs):
    with pytest.raises(nbvec.InvalidRequest, match="path"):
        nbvec.Client(**kwargs)


# -- unsupported features, refused by name -----------------------------------------------
def unsupported_calls(m):
    """Calls of features nbvec does not implement, with models from ``m``."""
    sparse = m.SparseVectorParams()
    scalar = m.ScalarQuantization(scalar=m.ScalarQuantizationConfig(type="int8"))
    return {
        "sparse vectors": lambda c: c.create_collection(
            "new", vectors_config={}, sparse_vectors_config={"s": sparse}),
        "quantization": lambda c: c.create_collection(
            "new", vectors_config=m.VectorParams(size=2, distance="Dot"),
            quantization_config=scalar),
        "quantization ": lambda c: c.create_collection(
            "new", vectors_config=m.VectorParams(size=2, distance="Dot",
                                                 quantization_config=scalar)),
        "prefetch": lambda c: c.query_points("single", query=V4,
                                             prefetch=m.Prefetch(query=V4, limit=5)),
        "fusion": lambda c: c.query_points(
            "single", prefetch=[m.Prefetch(query=V4)], query=m.FusionQuery(fusion=m.Fusion.RRF)),
        "discovery": lambda c: c.query_points("single", query=m.DiscoverQuery(
            discover=m.DiscoverInput(target=V4, context=[m.ContextPair(positive=1,
                                                                       negative=2)]))),
        "order_by": lambda c: c.scroll("single", order_by="k"),
        "shard keys": lambda c: c.upsert("single", m.Batch(ids=[9], vectors=[V4]),
                                         shard_key_selector="eu"),
        "shard keys ": lambda c: c.query_points("single", query=V4, shard_key_selector="eu"),
        "shard keys  ": lambda c: c.retrieve("single", [1], shard_key_selector="eu"),
        "shard keys   ": lambda c: c.delete("single", m.PointIdsList(points=[1], shard_key="eu")),
        "shard keys    ": lambda c: c.count("single", shard_key_selector="eu"),
    }


@pytest.mark.parametrize("models", [nm, qm], ids=["nbvec-models", "qdrant-models"])
@pytest.mark.parametrize("feature", list(unsupported_calls(nm)))
def test_unsupported_features_are_named(client, models, feature):
    before = state(client)
    with pytest.raises(nbvec.UnsupportedFeature) as err:
        unsupported_calls(models)[feature](client)
    assert feature.strip().split()[0] in str(err.value).lower()
    assert isinstance(err.value, NotImplementedError)
    assert state(client) == before


def test_unknown_arguments_are_refused_as_qdrant_client_does(client):
    """qdrant-client asserts that no unknown keyword arguments reach its methods;
    nbvec raises InvalidRequest naming them (a typo is never silently ignored)."""
    qdrant = QdrantClient(":memory:")
    qdrant.create_collection("single", vectors_config=qm.VectorParams(size=4, distance="Cosine"))
    for c, error in ((qdrant, AssertionError), (client, nbvec.InvalidRequest)):
        with pytest.raises(error, match="with_vector"):
            c.retrieve("single", [1], with_vector=True)
        with pytest.raises(error, match="filter"):
            c.count("single", filter=None)
        with pytest.raises(error, match="payload_filter"):
            c.delete("single", points_selector=[1], payload_filter=None)


def test_legacy_search_takes_a_vector(client):
    with pytest.raises(nbvec.InvalidRequest, match="query_points"):
        client.search("single", query_vector=1)


# -- the deprecated recreate_collection -------------------------------------------------
def test_recreate_collection_warns_as_qdrant_client_does(client):
    params = {"size": 4, "distance": "Cosine"}
    with pytest.warns(DeprecationWarning) as theirs:
        QdrantClient(":memory:").recreate_collection(
            "single", vectors_config=qm.VectorParams(**params))
    with pytest.warns(DeprecationWarning) as ours:
        assert client.recreate_collection("single", vectors_config=nm.VectorParams(**params))
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert ours[0].filename == __file__  # points at the caller's line
    assert client.count("single").count == 0


# -- failing writes change nothing -------------------------------------------------------
FAILING_WRITES = {
    "batch_with_nan": (lambda c: c.upsert("single", nm.Batch(
        ids=[20, 21], vectors=[V4, [np.nan, 0, 0, 0]])), nbvec.InvalidVector),
    "payload_not_json": (lambda c: c.upsert("single", nm.Batch(
        ids=[20, 21], vectors=[V4, V4], payloads=[{"a": 1}, {"b": object()}])),
        nbvec.InvalidPayload),
    "set_payload_unknown_id": (lambda c: c.set_payload("single", payload={"x": 1},
                                                       points=[1, 99]), nbvec.PointNotFound),
    "overwrite_payload_unknown_id": (lambda c: c.overwrite_payload(
        "single", payload={"x": 1}, points=[99, 2]), nbvec.PointNotFound),
    "delete_payload_unknown_id": (lambda c: c.delete_payload("single", keys=["k"],
                                                             points=[1, 99]), nbvec.PointNotFound),
    "clear_payload_unknown_id": (lambda c: c.clear_payload("single", points_selector=[1, 99]),
                                 nbvec.PointNotFound),
    "update_vectors_unknown_id": (lambda c: c.update_vectors("single", [
        nm.PointVectors(id=1, vector=[1, 1, 1, 1]), nm.PointVectors(id=99, vector=V4)]),
        nbvec.PointNotFound),
    "delete_vectors_unknown_id": (lambda c: c.delete_vectors("named", vectors=["text"],
                                                             points=[1, 99]), nbvec.PointNotFound),
    "delete_payload_bad_path": (lambda c: c.delete_payload("single", keys=["a..b"], points=[1]),
                                nbvec.InvalidInput),
    "aliases_all_or_nothing": (lambda c: c.update_collection_aliases([
        nm.CreateAliasOperation(create_alias=nm.CreateAlias(collection_name="named",
                                                            alias_name="fresh")),
        nm.DeleteAliasOperation(delete_alias=nm.DeleteAlias(alias_name="never"))]),
        nbvec.CollectionNotFound),
    "set_payload_under_key": (lambda c: c.set_payload("single", payload={"x": 1}, points=[1],
                                                      key="nested"), nbvec.UnsupportedFeature),
    "rest_upsert_bad_dimension": (lambda c: c.rest_request(
        "PUT", "/collections/single/points",
        {"points": [{"id": 30, "vector": V4}, {"id": 31, "vector": [1, 2]}]}),
        nbvec.DimensionMismatch),
    "rest_set_payload_unknown_id": (lambda c: c.rest_request(
        "POST", "/collections/single/points/payload", {"payload": {"x": 1}, "points": [1, 99]}),
        nbvec.PointNotFound),
}


@pytest.mark.parametrize("call, error", FAILING_WRITES.values(), ids=FAILING_WRITES.keys())
def test_failing_writes_leave_the_collection_unchanged(client, call, error):
    before = state(client)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(error):
            call(client)
    assert state(client) == before


def test_not_found_message_names_the_ids(client):
    with pytest.raises(nbvec.PointNotFound, match="99") as err:
        client.set_payload("single", payload={"x": 1}, points=[1, 99])
    assert isinstance(err.value, KeyError)  # qdrant-client local mode raises KeyError(99)
