"""Bad input: each raises the named nbvec error (and the builtin it subclasses),
the message names the problem, and the collection is exactly as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL, random_payloads, snapshot

import nbvec
from nbvec import VectorFrame
from nbvec.models import PointStruct, VectorParams

D = 32
GOOD = np.ones(D)


@pytest.fixture(scope="module")
def base_state():
    """Data for a frame with sealed segments, tombstones and payload."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(1000, D))
    return x, random_payloads(rng, 1000)


@pytest.fixture
def vf(base_state):
    x, payloads = base_state
    frame = VectorFrame(D, "Cosine", **SMALL, n_trees=4, calibration_queries=20)
    for lo in range(0, 1000, 250):
        frame.upsert(range(lo, lo + 250), x[lo: lo + 250], payload=payloads[lo: lo + 250])
    frame.delete([3, 500, 999])
    assert sum(s["indexed"] for s in frame.info()["segments"]) >= 2
    return frame


def _rows(n, bad_at=None, bad=None):
    rows = [list(GOOD) for _ in range(n)]
    if bad_at is not None:
        rows[bad_at] = bad
    return rows


def _nan_at(n, i):
    x = np.ones((n, D))
    x[i, 5] = np.nan
    return x


def _inf_at(n, i):
    x = np.ones((n, D))
    x[i, 0] = -np.inf
    return x


# (call, error type, builtin, fragments of the message, lower-cased)
CASES = {
    # dimensions
    "dim-array": (lambda f: f.upsert([2000], np.ones((1, D - 1))),
                  nbvec.DimensionMismatch, ValueError, ["31", "32"]),
    "dim-ragged": (lambda f: f.upsert([2000, 2001], _rows(2, 1, [1.0] * (D + 1))),
                   nbvec.DimensionMismatch, ValueError, ["#1", "33", "32"]),
    "dim-points": (lambda f: f.upsert_points([PointStruct(id=2000, vector=[1.0] * 3)]),
                   nbvec.DimensionMismatch, ValueError, ["3", "32"]),
    "dim-query": (lambda f: f.search(np.ones(D + 2)), nbvec.DimensionMismatch, ValueError,
                  ["34", "32"]),
    # NaN and inf
    "nan": (lambda f: f.upsert([2000, 2001, 2002], _nan_at(3, 2)), nbvec.InvalidVector,
            ValueError, ["nan", "#2"]),
    "inf": (lambda f: f.upsert([2000], _inf_at(1, 0)), nbvec.InvalidVector, ValueError, ["inf"]),
    "nan-points": (lambda f: f.upsert_points([{"id": 2000, "vector": [np.nan] * D}]),
                   nbvec.InvalidVector, ValueError, ["nan"]),
    "nan-query": (lambda f: f.search(_nan_at(1, 0)[0]), nbvec.InvalidVector, ValueError,
                  ["nan"]),
    # one float32 query (checked by its sum): NaN, inf, and infs that cancel in a sum
    "nan-query-f32": (lambda f: f.search(_nan_at(1, 0)[0].astype(np.float32)),
                      nbvec.InvalidVector, ValueError, ["nan"]),
    "inf-query-f32": (lambda f: f.search(_inf_at(1, 0)[0].astype(np.float32)),
                      nbvec.InvalidVector, ValueError, ["inf"]),
    "infs-cancel-f32": (lambda f: f.search(np.r_[np.inf, -np.inf, np.ones(D - 2)].astype(
        np.float32)), nbvec.InvalidVector, ValueError, ["inf"]),
    "overflow-to-inf": (lambda f: f.upsert([2000], np.full((1, D), 1e300)), nbvec.InvalidVector,
                        ValueError, ["inf"]),
    "text-vector": (lambda f: f.upsert([2000], [["a"] * D]), nbvec.InvalidVector, ValueError,
                    ["number"]),
    # ids
    "negative-id": (lambda f: f.upsert([-1], np.ones((1, D))), nbvec.InvalidPointId,
                    ValueError, ["-1"]),
    "negative-id-array": (lambda f: f.upsert(np.array([5, -7]), np.ones((2, D))),
                          nbvec.InvalidPointId, ValueError, ["-7"]),
    "float-id": (lambda f: f.upsert([1.5], np.ones((1, D))), nbvec.InvalidPointId, ValueError,
                 ["1.5", "float"]),
    "integral-float-id": (lambda f: f.upsert([2.0], np.ones((1, D))), nbvec.InvalidPointId,
                          ValueError, ["float"]),
    "float-id-array": (lambda f: f.upsert(np.array([1.0, 2.0]), np.ones((2, D))),
                       nbvec.InvalidPointId, ValueError, ["float"]),
    "malformed-uuid": (lambda f: f.upsert(["not-a-uuid"], np.ones((1, D))),
                       nbvec.InvalidPointId, ValueError, ["not-a-uuid", "uuid"]),
    "short-uuid": (lambda f: f.upsert(["936da01f-9abd-4d9d-80c7-02af85c822a"], np.ones((1, D))),
                   nbvec.InvalidPointId, ValueError, ["uuid"]),
    "bool-id": (lambda f: f.upsert([True], np.ones((1, D))), nbvec.InvalidPointId, ValueError,
                ["true"]),
    "huge-id": (lambda f: f.upsert([2**64], np.ones((1, D))), nbvec.InvalidPointId, ValueError,
                ["18446744073709551616"]),
    "none-id": (lambda f: f.upsert_points([{"vector": list(GOOD)}]), nbvec.InvalidPointId,
                ValueError, ["none"]),
    "bad-id-delete": (lambda f: f.delete([1, -5]), nbvec.InvalidPointId, ValueError, ["-5"]),
    "bad-id-retrieve": (lambda f: f.retrieve(["xyz"]), nbvec.InvalidPointId, ValueError,
                        ["xyz"]),
    "bad-id-payload": (lambda f: f.set_payload({"a": 1}, ids=[1.5]), nbvec.InvalidPointId,
                       ValueError, ["1.5"]),
    # lengths
    "fewer-vectors": (lambda f: f.upsert([2000, 2001, 2002], np.ones((2, D))),
                      nbvec.InvalidInput, ValueError, ["3", "2"]),
    "more-vectors": (lambda f: f.upsert([2000], np.ones((4, D))),
                     nbvec.InvalidInput, ValueError, ["1", "4"]),
    "payload-list-length": (lambda f: f.upsert([2000, 2001], np.ones((2, D)),
                                               payload=[{"a": 1}] * 3),
                            nbvec.InvalidInput, ValueError, ["2", "3"]),
    "payload-frame-length": (lambda f: f.upsert([2000, 2001], np.ones((2, D)),
                                                payload=pd.DataFrame({"a": [1]})),
                             nbvec.InvalidInput, ValueError, ["2", "1"]),
    # vector names (an unnamed frame)
    "name-unnamed-search": (lambda f: f.search(GOOD, using="image"), nbvec.UnknownVectorName,
                            KeyError, ["image"]),
    "name-unnamed-upsert": (lambda f: f.upsert([2000], {"image": np.ones((1, D))}),
                            nbvec.UnknownVectorName, KeyError, ["image"]),
    # payload values
    "payload-set": (lambda f: f.upsert([2000], np.ones((1, D)), payload=[{"tags": {1, 2}}]),
                    nbvec.InvalidPayload, ValueError, ["tags", "set"]),
    "payload-object": (lambda f: f.upsert([2000], np.ones((1, D)),
                                          payload=[{"o": {"deep": object()}}]),
                       nbvec.InvalidPayload, ValueError, ["deep", "object"]),
    "payload-nan": (lambda f: f.upsert([2000], np.ones((1, D)), payload=[{"x": float("nan")}]),
                    nbvec.InvalidPayload, ValueError, ["x", "nan"]),
    "payload-key": (lambda f: f.upsert([2000], np.ones((1, D)), payload=[{1: "a"}]),
                    nbvec.InvalidPayload, ValueError, ["1", "string"]),
    "payload-not-dict": (lambda f: f.upsert([2000], np.ones((1, D)), payload=[["a", 1]]),
                         nbvec.InvalidPayload, ValueError, ["dict"]),
    "payload-frame-cell": (lambda f: f.upsert([2000], np.ones((1, D)),
                                              payload=pd.DataFrame({"c": [{1, 2}]})),
                           nbvec.InvalidPayload, ValueError, ["c", "set"]),
    "payload-points": (lambda f: f.upsert_points([{"id": 1, "vector": list(GOOD),
                                                   "payload": {"b": b"bytes"}}]),
                       nbvec.InvalidPayload, ValueError, ["b", "bytes"]),
    "set-payload": (lambda f: f.set_payload({"s": {1}}, ids=[1, 2]), nbvec.InvalidPayload,
                    ValueError, ["s", "set"]),
    "overwrite-payload": (lambda f: f.overwrite_payload({"s": object()}, ids=[1]),
                          nbvec.InvalidPayload, ValueError, ["s", "object"]),
    # request parameters
    "limit-0": (lambda f: f.search(GOOD, limit=0), nbvec.InvalidRequest, ValueError,
                ["limit", "0"]),
    "limit-negative": (lambda f: f.search(GOOD, limit=-3), nbvec.InvalidRequest, ValueError,
                       ["limit", "-3"]),
    "limit-float": (lambda f: f.search(GOOD, limit=2.5), nbvec.InvalidRequest, ValueError,
                    ["limit"]),
    "top-0": (lambda f: f.search(GOOD, top=0), nbvec.InvalidRequest, ValueError, ["limit"]),
    "offset-negative": (lambda f: f.search(GOOD, offset=-1), nbvec.InvalidRequest, ValueError,
                        ["offset", "-1"]),
    "scroll-limit-0": (lambda f: f.scroll(limit=0), nbvec.InvalidRequest, ValueError,
                       ["limit"]),
    "threshold-text": (lambda f: f.search(GOOD, score_threshold="high"), nbvec.InvalidRequest,
                       ValueError, ["score_threshold"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_raises_and_changes_nothing(vf, case):
    call, error, builtin, fragments = CASES[case]
    before = snapshot(vf)
    with pytest.raises(error) as info:
        call(vf)
    assert isinstance(info.value, builtin)
    assert isinstance(info.value, nbvec.NbvecError)
    message = str(info.value).lower()
    for fragment in fragments:
        assert fragment.lower() in message, (fragment, message)
    assert not message.startswith("'"), "KeyError subclasses print the plain message"
    assert snapshot(vf) == before


@pytest.mark.parametrize("payload", [[{}, {}], [None] * 5])
def test_payload_list_of_the_wrong_length_without_keys(vf, payload):
    before = snapshot(vf)
    with pytest.raises(nbvec.InvalidInput):
        vf.upsert([2000, 2001, 2002], np.ones((3, D)), payload=payload)
    assert snapshot(vf) == before


# -- named vectors ---------------------------------------------------------------------------
@pytest.fixture
def named():
    frame = VectorFrame(vectors={"image": VectorParams(size=4, distance="Dot"),
                                 "text": VectorParams(size=3, distance="Cosine")},
                        progress=False)
    frame.upsert([1, 2], {"image": np.ones((2, 4)), "text": np.ones((2, 3))})
    return frame


@pytest.mark.parametrize("call", [
    lambda f: f.search(np.ones(4), using="img"),
    lambda f: f.upsert([3], {"img": np.ones((1, 4))}),
    lambda f: f.upsert_points([{"id": 3, "vector": {"img": [1.0] * 4}}]),
    lambda f: f.retrieve([1], with_vectors=["img"]),
], ids=["search", "upsert", "upsert_points", "with_vectors"])
def test_unknown_vector_name_lists_the_existing_ones(named, call):
    before = snapshot(named)
    with pytest.raises(nbvec.UnknownVectorName) as info:
        call(named)
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert "img" in message and "image" in message and "text" in message
    assert snapshot(named) == before


def test_named_frame_needs_using(named):
    with pytest.raises(nbvec.UnknownVectorName, match="using"):
        named.search(np.ones(4))


def test_dimension_of_a_named_vector(named):
    before = snapshot(named)
    with pytest.raises(nbvec.DimensionMismatch, match="text"):
        named.upsert([3], {"image": np.ones((1, 4)), "text": np.ones((1, 4))})
    assert snapshot(named) == before


# -- options ---------------------------------------------------------------------------------
def test_unknown_option_is_rejected_and_named():
    with pytest.raises(nbvec.InvalidRequest) as info:
        VectorFrame(4, "Dot", indexing_treshold=10)
    assert isinstance(info.value, ValueError)
    assert "indexing_treshold" in str(info.value) and "indexing_threshold" in str(info.value)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(size=4, distance="Hamming"), "hamming"),
    (dict(size=0), "size"),
    (dict(size=4, indexing_threshold=-1), "indexing_threshold"),
    (dict(size=4, deleted_threshold=1.5), "deleted_threshold"),
    (dict(size=4, n_trees=0), "n_trees"),
])
def test_bad_options(kwargs, fragment):
    with pytest.raises(nbvec.InvalidRequest) as info:
        VectorFrame(progress=False, **kwargs)
    assert fragment in str(info.value).lower()


# -- a bad point deep in a batch -------------------------------------------------------------------
def _batch(n=1000):
    ids = list(range(5000, 5000 + n))
    return ids, np.random.default_rng(1).normal(size=(n, D)), [{"k": i} for i in ids]


def _bad_vector(vf):
    ids, x, p = _batch()
    x[499, 3] = np.nan
    vf.upsert(ids, x, payload=p)


def _bad_id(vf):
    ids, x, p = _batch()
    ids[499] = "bad-id"
    vf.upsert(ids, x, payload=p)


def _bad_payload(vf):
    ids, x, p = _batch()
    p[499] = {"k": {1, 2}}
    vf.upsert(ids, x, payload=p)


def _bad_dimension(vf):
    ids, x, p = _batch()
    rows = [list(r) for r in x]
    rows[499] = rows[499][:-1]
    vf.upsert(ids, rows, payload=p)


def _bad_point(vf):
    ids, x, p = _batch()
    points = [PointStruct(id=i, vector=list(v), payload=q) for i, v, q in zip(ids, x, p)]
    points[499] = {"id": -1, "vector": list(x[499])}
    vf.upsert_points(points)


def _bad_point_vector(vf):
    ids, x, p = _batch()
    points = [{"id": i, "vector": list(v), "payload": q} for i, v, q in zip(ids, x, p)]
    points[499]["vector"] = [np.inf] * D
    vf.upsert_points(points)


@pytest.mark.parametrize("call, error, fragment", [
    (_bad_vector, nbvec.InvalidVector, "#499"),
    (_bad_id, nbvec.InvalidPointId, "bad-id"),
    (_bad_payload, nbvec.InvalidPayload, "#499"),
    (_bad_dimension, nbvec.DimensionMismatch, "#499"),
    (_bad_point, nbvec.InvalidPointId, "-1"),
    (_bad_point_vector, nbvec.InvalidVector, "#499"),
], ids=["vector", "id", "payload", "dimension", "point-id", "point-vector"])
def test_a_batch_whose_500th_point_is_bad_changes_nothing(vf, call, error, fragment):
    # the batch would also replace existing ids: they must keep their old state
    before = snapshot(vf)
    with pytest.raises(error) as info:
        call(vf)
    assert fragment in str(info.value)
    assert snapshot(vf) == before
    assert vf.retrieve([5000, 5498, 5999]) == []
