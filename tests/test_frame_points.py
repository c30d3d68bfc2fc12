"""Point operations of VectorFrame: upsert in its forms, replace, retrieve,
count, delete, scroll, ids, payload edits and types, pandas/numpy round trips,
payload selectors."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
from conftest import random_payloads

import nbvec.models as nm
from nbvec import VectorFrame
from nbvec.models import PointStruct

D = 4
# with d=4 one point is 1/64 KB: seal a segment every 384 points
SMALL = dict(indexing_threshold=6, full_scan_threshold=1)


def _frame(distance="Dot", **options):
    return VectorFrame(D, distance, **{"progress": False, **options})


def _payloads(vf, ids):
    return {r.id: r.payload for r in vf.retrieve(ids)}


def _all_ids(vf):
    ids, offset = [], None
    while True:
        page, offset = vf.scroll(limit=7, offset=offset, with_payload=False)
        ids += page.ids
        if offset is None:
            return ids


# -- upsert forms --------------------------------------------------------------------
def test_upsert_columnar_with_list_of_dicts_payload():
    vf = _frame()
    x = np.arange(12, dtype=float).reshape(3, D)
    res = vf.upsert([5, 6, 7], x, payload=[{"a": 1}, None, {"b": "x"}])
    assert res.status == nm.UpdateStatus.COMPLETED
    recs = vf.retrieve([5, 6, 7], with_vectors=True)
    assert recs.ids == [5, 6, 7]
    assert [r.payload for r in recs] == [{"a": 1}, {}, {"b": "x"}]
    np.testing.assert_array_equal(np.array([r.vector for r in recs]), x)
    assert vf.count() == len(vf) == 3


def test_upsert_with_dataframe_payload():
    vf = _frame()
    df = pd.DataFrame({"city": ["Berlin", "Paris"], "pop": [3.6, 2.1], "n": [1, 2]},
                      index=[10, 20])  # the frame's own index is not used for ids
    vf.upsert([1, 2], np.ones((2, D)), payload=df)
    assert _payloads(vf, [1, 2]) == {1: {"city": "Berlin", "pop": 3.6, "n": 1},
                                     2: {"city": "Paris", "pop": 2.1, "n": 2}}
    assert type(_payloads(vf, [1])[1]["n"]) is int


def test_upsert_points_with_pointstruct_and_dicts():
    vf = _frame()
    vf.upsert_points([
        PointStruct(id=1, vector=[1.0, 0, 0, 0], payload={"k": "a"}),
        {"id": 2, "vector": [0, 1.0, 0, 0], "payload": {"k": "b"}},
        {"id": str(uuid.UUID(int=9)), "vector": np.array([0, 0, 1.0, 0])},
    ])
    recs = vf.retrieve([1, 2, str(uuid.UUID(int=9))], with_vectors=True)
    assert [r.payload for r in recs] == [{"k": "a"}, {"k": "b"}, {}]
    assert [r.vector for r in recs] == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]


def test_replacing_an_id_replaces_vector_and_payload():
    vf = _frame(**SMALL)
    rng = np.random.default_rng(0)
    vf.upsert(range(500), rng.normal(size=(500, D)), payload=[{"old": i} for i in range(500)])
    # id 3 sits in a sealed segment now, id 499 too; replace both and one fresh
    vf.upsert([3, 499], np.full((2, D), 7.0), payload=[{"new": True}, None])
    recs = vf.retrieve([3, 499], with_vectors=True)
    assert [r.payload for r in recs] == [{"new": True}, {}]  # no "old" key left
    assert [r.vector for r in recs] == [[7.0] * D, [7.0] * D]
    assert vf.count() == 500
    hits = vf.search(np.full(D, 7.0), limit=2, exact=True)
    assert sorted(hits.ids) == [3, 499]
    assert sorted(_all_ids(vf)) == list(range(500))  # no duplicate of a replaced id


def test_last_write_wins_within_a_batch():
    vf = _frame()
    vecs = np.arange(4 * D, dtype=float).reshape(4, D)
    vf.upsert([1, 2, 1, 1], vecs, payload=[{"v": 0}, {"v": 1}, {"v": 2}, {"v": 3}])
    assert vf.count() == 2
    recs = vf.retrieve([1, 2], with_vectors=True)
    assert recs[0].payload == {"v": 3} and recs[0].vector == vecs[3].tolist()
    assert recs[1].payload == {"v": 1} and recs[1].vector == vecs[1].tolist()
    vf.upsert_points([{"id": 5, "vector": [1.0] * D, "payload": {"w": 1}},
                      {"id": 5, "vector": [2.0] * D}])
    rec = vf.retrieve([5], with_vectors=True)[0]
    assert rec.payload == {} and rec.vector == [2.0] * D


# -- retrieve, count, delete -----------------------------------------------------------
def test_retrieve_order_unknown_ids_and_stored_vectors():
    vf = _frame("Cosine", **SMALL)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(450, D)) * 5
    vf.upsert(range(450), x)
    recs = vf.retrieve([449, 7, 123456, 0, 7], with_vectors=True)
    assert recs.ids == [449, 7, 0]  # asked order, unknown skipped, duplicates once
    for r in recs:
        want = x[r.id] / np.linalg.norm(x[r.id])  # stored cosine vectors are normalized
        np.testing.assert_allclose(r.vector, want, rtol=1e-6, atol=1e-7)
    assert vf.retrieve([123456]) == []
    assert vf.retrieve([]) == []
    assert all(r.vector is None for r in vf.retrieve([1, 2]))  # with_vectors defaults False


def test_count_and_delete_with_unknown_ids():
    vf = _frame(**SMALL)
    vf.upsert(range(600), np.ones((600, D)))
    vf.delete([1, 2, 3, 10**12, str(uuid.uuid4())])
    assert vf.count() == len(vf) == 597
    assert vf.retrieve([1, 2, 3, 4]).ids == [4]
    vf.delete([1, 2])  # deleting again changes nothing
    assert vf.count() == 597
    vf.delete(list(range(600)))
    assert vf.count() == 0 and vf.search(np.ones(D), exact=True) == []
    vf.upsert([2], np.ones((1, D)))  # a deleted id can come back
    assert vf.retrieve([2]).ids == [2] and vf.count() == 1


# -- scroll ------------------------------------------------------------------------------
def _mixed_ids_frame():
    vf = _frame(**SMALL)
    rng = np.random.default_rng(2)
    uuids = [str(uuid.UUID(bytes=rng.bytes(16))) for _ in range(60)]
    ints = rng.choice(10**6, size=540, replace=False).tolist() + [0, 2**64 - 1]
    ids = ints + uuids
    order = rng.permutation(len(ids))
    ids = [ids[i] for i in order]
    for lo in range(0, len(ids), 200):  # a sealed segment of 400, then 202 appendable
        vf.upsert(ids[lo: lo + 200], rng.normal(size=(len(ids[lo: lo + 200]), D)))
    return vf, sorted(ints) + sorted(uuids, key=lambda u: uuid.UUID(u).bytes)


def test_scroll_orders_ints_then_uuids_and_pages_cover_everything():
    vf, expected = _mixed_ids_frame()
    assert len([s for s in vf.info()["segments"] if s["points"]]) >= 2
    seen, offset, pages = [], None, 0
    while True:
        page, next_offset = vf.scroll(limit=37, offset=offset)
        seen += page.ids
        pages += 1
        if next_offset is None:
            break
        assert next_offset == expected[len(seen)]  # the first id of the next page
        offset = next_offset
    assert seen == expected
    assert pages == -(-len(expected) // 37)


def test_scroll_offset_is_inclusive_and_may_be_absent():
    vf = _frame()
    vf.upsert([1, 3, 5, 7], np.ones((4, D)))
    page, nxt = vf.scroll(limit=2, offset=3)
    assert page.ids == [3, 5] and nxt == 7
    page, nxt = vf.scroll(limit=2, offset=4)  # not an id: start at the next one
    assert page.ids == [5, 7] and nxt is None
    page, nxt = vf.scroll(limit=10, offset=8)
    assert page == [] and nxt is None
    page, nxt = vf.scroll(limit=4)
    assert page.ids == [1, 3, 5, 7] and nxt is None
    u = str(uuid.UUID(int=5))
    page, _ = vf.scroll(limit=10, offset=u)  # a UUID offset: after every integer id
    assert page == []


def test_scroll_after_deletes_and_updates():
    vf, expected = _mixed_ids_frame()
    gone = expected[::5]
    vf.delete(gone)
    back = expected[1:50:2]  # some of them were just deleted
    vf.upsert(back, np.zeros((len(back), D)))
    left = [i for i in expected if i not in set(gone) or i in set(back)]
    assert _all_ids(vf) == left


# -- ids -----------------------------------------------------------------------------------
def test_uuid_ids_are_normalized():
    vf = _frame()
    u = uuid.UUID("936da01f-9abd-4d9d-80c7-02af85c822a8")
    vf.upsert([u], np.ones((1, D)), payload=[{"v": 1}])
    for form in (u, str(u), str(u).upper(), u.hex, f"{{{u}}}", f"urn:uuid:{u}"):
        assert vf.retrieve([form]).ids == [str(u)], form
    vf.upsert([str(u).upper()], np.ones((1, D)), payload=[{"v": 2}])
    assert vf.count() == 1 and _payloads(vf, [u]) == {str(u): {"v": 2}}
    vf.delete([u.hex])
    assert vf.count() == 0


def test_numpy_and_pandas_integer_ids():
    vf = _frame()
    vf.upsert(np.array([3, 1], dtype=np.uint64), np.ones((2, D)))
    vf.upsert(pd.Series([7], dtype="int32"), np.ones((1, D)))
    vf.upsert([np.int16(9)], np.ones((1, D)))
    ids = _all_ids(vf)
    assert ids == [1, 3, 7, 9] and all(type(i) is int for i in ids)


# -- payload edits ----------------------------------------------------------------------
@pytest.fixture
def edited():
    vf = _frame(**SMALL)
    vf.upsert(range(450), np.ones((450, D)),
              payload=[{"a": i, "keep": "k", "nest": {"b": 1, "c": 2}} for i in range(450)])
    return vf


def test_set_payload_keeps_other_keys(edited):
    edited.set_payload({"a": "new", "extra": [1, 2]}, ids=[0, 449, 10**9])
    got = _payloads(edited, [0, 1, 449])
    assert got[0] == {"a": "new", "keep": "k", "nest": {"b": 1, "c": 2}, "extra": [1, 2]}
    assert got[449] == got[0]
    assert got[1] == {"a": 1, "keep": "k", "nest": {"b": 1, "c": 2}}


def test_overwrite_payload_replaces_everything(edited):
    edited.overwrite_payload({"only": 1}, ids=[5, 445])
    assert _payloads(edited, [5, 445, 6]) == {
        5: {"only": 1}, 445: {"only": 1}, 6: {"a": 6, "keep": "k", "nest": {"b": 1, "c": 2}}}


def test_delete_payload_keys_and_nested_paths(edited):
    edited.delete_payload(["a", "nest.b", "missing"], ids=[2, 448])
    edited.delete_payload("keep", ids=[3])
    got = _payloads(edited, [2, 3, 448, 4])
    assert got[2] == {"keep": "k", "nest": {"c": 2}}
    assert got[448] == got[2]
    assert got[3] == {"a": 3, "nest": {"b": 1, "c": 2}}
    assert got[4] == {"a": 4, "keep": "k", "nest": {"b": 1, "c": 2}}


def test_nested_delete_on_set_payload_values_touches_only_selected_points(edited):
    # set_payload writes one value to many points: editing it for one must not leak
    edited.set_payload({"shared": {"x": 1, "y": 2}}, ids=[0, 1, 2])
    edited.delete_payload("shared.x", ids=[1])
    got = _payloads(edited, [0, 1, 2])
    assert got[0]["shared"] == {"x": 1, "y": 2}
    assert got[1]["shared"] == {"y": 2}
    assert got[2]["shared"] == {"x": 1, "y": 2}
    # and mutating a returned payload changes nothing stored
    got[0]["shared"]["x"] = 99
    assert _payloads(edited, [0])[0]["shared"]["x"] == 1


def test_clear_payload(edited):
    edited.clear_payload(ids=[7, 446])
    got = _payloads(edited, [7, 446, 8])
    assert got[7] == {} and got[446] == {} and got[8]["a"] == 8


def test_set_payload_with_a_big_integer(edited):
    edited.set_payload({"big": 2**63}, ids=[1])
    assert _payloads(edited, [1])[1]["big"] == 2**63


def test_upsert_keeps_a_big_integer():
    vf = _frame()
    vf.upsert([1, 2], np.ones((2, D)), payload=[{"big": 2**64 - 1}, {"big": -(2**63) - 1}])
    assert _payloads(vf, [1, 2]) == {1: {"big": 2**64 - 1}, 2: {"big": -(2**63) - 1}}


# -- payload types ------------------------------------------------------------------------
def test_payload_types_round_trip():
    vf = _frame(**SMALL)
    payloads = [
        {"i": 1, "f": 2.0, "b": True, "s": "x", "null": None, "l": [1, "a", None],
         "d": {"e": {"f": [1.5]}}, "mixed": 1},
        {"i": 2, "f": 0.5, "b": False, "s": "", "l": [], "d": {}, "mixed": "one"},
        {"mixed": 1.5},
        {"mixed": True},
        {"mixed": None},
        {"mixed": [1, 2]},
        {"mixed": {"k": "v"}},
        {},
    ]
    ids = list(range(len(payloads)))
    vf.upsert(ids, np.ones((len(ids), D)), payload=payloads)
    got = [r.payload for r in vf.retrieve(ids)]
    assert got == payloads
    for want, have in zip(payloads, got):
        for k in want:
            assert type(have[k]) is type(want[k]), (k, want[k], have[k])
    assert "null" in got[0] and "null" not in got[1]  # null is not absent
    # the same after the optimizer moved them into a sealed segment
    vf.upsert(range(100, 600), np.ones((500, D)), payload=[{"mixed": i} for i in range(500)])
    assert any(s["indexed"] and s["points"] > 400 for s in vf.info()["segments"])
    got = [r.payload for r in vf.retrieve(ids)]
    assert got == payloads
    assert [type(p.get("mixed")) for p in got] == [type(p.get("mixed")) for p in payloads]


def test_random_payloads_round_trip():
    rng = np.random.default_rng(5)
    vf = _frame(**SMALL)
    payloads = random_payloads(rng, 900)
    for lo in range(0, 900, 150):
        vf.upsert(range(lo, lo + 150), rng.normal(size=(150, D)), payload=payloads[lo: lo + 150])
    assert [r.payload for r in vf.retrieve(range(900))] == payloads


def test_numpy_scalars_in_payload_become_python_types():
    vf = _frame()
    vf.upsert([1], np.ones((1, D)), payload=[{
        "i": np.int64(3), "u": np.uint8(4), "f": np.float32(1.5), "b": np.bool_(True),
        "s": np.str_("x"), "arr": np.array([1, 2]), "nested": {"x": np.float64(2.5)}}])
    p = vf.retrieve([1])[0].payload
    assert p == {"i": 3, "u": 4, "f": 1.5, "b": True, "s": "x", "arr": [1, 2],
                 "nested": {"x": 2.5}}
    assert [type(p[k]) for k in ("i", "u", "f", "b", "s")] == [int, int, float, bool, str]
    assert [type(v) for v in p["arr"]] == [int, int]
    vf.set_payload({"g": np.int32(7)}, ids=[1])
    assert type(vf.retrieve([1])[0].payload["g"]) is int


def test_nan_cell_in_a_dataframe_payload_means_absent():
    vf = _frame()
    df = pd.DataFrame({"f": [1.5, np.nan], "s": ["a", None], "o": [[1], np.nan],
                       "n": pd.array([1, None], dtype="Int64")})
    vf.upsert([1, 2], np.ones((2, D)), payload=df)
    assert _payloads(vf, [1, 2]) == {1: {"f": 1.5, "s": "a", "o": [1], "n": 1}, 2: {}}
    assert type(_payloads(vf, [1])[1]["n"]) is int


# -- pandas and numpy round trips ------------------------------------------------------------
def test_to_pandas_and_from_pandas_round_trip():
    rng = np.random.default_rng(6)
    vf = _frame("Euclid", **SMALL)
    x = rng.normal(size=(500, D))
    payloads = [{"i": i, "f": i / 3, "s": f"p{i}", "b": i % 2 == 0} if i % 7 else {"i": i}
                for i in range(500)]
    vf.upsert(range(500), x, payload=payloads)
    vf.upsert([1000, 1001], rng.normal(size=(2, D)), payload=[{"f": 5.5}, {"s": None}])
    df = vf.to_pandas()
    assert df.index.name == "id" and df.index.tolist() == list(range(500)) + [1000, 1001]
    assert list(df.columns)[-1] == "vector"
    np.testing.assert_allclose(np.stack(df["vector"].to_numpy()[:500]), x, rtol=1e-6)
    back = VectorFrame.from_pandas(df, distance="Euclid", progress=False)
    assert back.count() == vf.count()
    ids = list(range(500)) + [1000, 1001]
    a = vf.retrieve(ids, with_vectors=True)
    b = back.retrieve(ids, with_vectors=True)
    # JSON null becomes a missing cell in a DataFrame: the one loss by design
    assert [r.payload for r in b[:-1]] == [r.payload for r in a[:-1]]
    assert b[-1].payload == {}
    for ra, rb in zip(a, b):
        assert {k: type(v) for k, v in ra.payload.items() if v is not None} == \
               {k: type(v) for k, v in rb.payload.items()}
        np.testing.assert_allclose(ra.vector, rb.vector, rtol=1e-6)


def test_to_pandas_keeps_int_payloads_when_segments_differ_in_kind():
    vf = _frame(**SMALL)
    vf.upsert(range(400), np.ones((400, D)), payload=[{"x": i / 2} for i in range(400)])
    vf.upsert([1000], np.ones((1, D)), payload=[{"x": 5}])  # appendable segment: an int
    assert len([s for s in vf.info()["segments"] if s["points"]]) == 2
    assert type(vf.retrieve([1000])[0].payload["x"]) is int
    cell = vf.to_pandas().loc[1000, "x"]
    assert type(cell) is int, type(cell)  # as it is when both live in one segment


def test_payload_keys_named_like_the_frame_columns():
    vf = _frame()
    payload = {"id": "doc-1", "score": 5, "vector": "v"}
    vf.upsert([1], np.ones((1, D)), payload=[payload])
    df = vf.to_pandas()
    cells = df.iloc[0].tolist()
    assert any(isinstance(c, str) and c == "v" for c in cells), cells  # the payload value is kept
    back = VectorFrame.from_pandas(df, distance="Dot", progress=False)
    assert back.retrieve([1])[0].payload == payload
    hits = vf.search(np.ones(D), limit=1, with_vectors=True).to_pandas()
    assert hits.columns.is_unique, hits.columns.tolist()
    assert hits["id"].tolist() == [1]


def test_to_pandas_keeps_mixed_kinds_within_one_segment():
    vf = _frame()
    vf.upsert([1, 2], np.ones((2, D)), payload=[{"x": 0.5}, {"x": 5}])
    df = vf.to_pandas()
    assert type(df.loc[2, "x"]) is int and type(df.loc[1, "x"]) is float


def test_from_pandas_with_an_id_column_and_named_vectors():
    df = pd.DataFrame({
        "key": [str(uuid.UUID(int=1)), 2],
        "img": [np.ones(3), np.zeros(3)],
        "txt": [np.ones(2), np.full(2, 2.0)],
        "tag": ["a", "b"],
    })
    vf = VectorFrame.from_pandas(df, vector={"image": "img", "text": "txt"}, id="key",
                                 distance="Dot", progress=False)
    recs = vf.retrieve([2, str(uuid.UUID(int=1))], with_vectors=True)
    assert recs[0].payload == {"tag": "b"}
    assert recs[0].vector == {"image": [0.0] * 3, "text": [2.0, 2.0]}
    assert recs[1].payload == {"tag": "a"}


def test_from_numpy_round_trip():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(30, D))
    vf = VectorFrame.from_numpy(x, distance="Manhattan", progress=False)
    assert vf.count() == 30
    np.testing.assert_allclose(np.stack(vf.to_pandas()["vector"].to_numpy()), x, rtol=1e-6)
    with_ids = VectorFrame.from_numpy(x[:3], ids=[9, 8, 7], payload=[{"a": 1}, {}, {"a": 3}],
                                      distance="Dot", progress=False)
    recs = with_ids.retrieve([7, 8, 9], with_vectors=True)
    assert [r.payload for r in recs] == [{"a": 3}, {}, {"a": 1}]
    np.testing.assert_allclose([r.vector for r in recs], x[[2, 1, 0]], rtol=1e-6)


def test_to_pandas_of_an_empty_frame():
    df = _frame().to_pandas()
    assert len(df) == 0 and df.index.name == "id"


# -- payload selectors -------------------------------------------------------------------------
@pytest.fixture
def selector_frame():
    vf = _frame()
    vf.upsert([1], np.ones((1, D)), payload=[{"a": 1, "b": {"c": 2, "d": 3}, "e": "x"}])
    return vf


@pytest.mark.parametrize("selector, expected", [
    (True, {"a": 1, "b": {"c": 2, "d": 3}, "e": "x"}),
    (False, None),
    (["a", "e"], {"a": 1, "e": "x"}),
    (["b.c"], {"b": {"c": 2}}),
    ({"include": ["a"]}, {"a": 1}),
    ({"exclude": ["a", "b.d"]}, {"b": {"c": 2}, "e": "x"}),
    (nm.PayloadSelectorInclude(include=["e"]), {"e": "x"}),
    (nm.PayloadSelectorExclude(exclude=["b"]), {"a": 1, "e": "x"}),
    (["missing"], {}),
])
def test_with_payload_selectors(selector_frame, selector, expected):
    assert selector_frame.retrieve([1], with_payload=selector)[0].payload == expected
    hit = selector_frame.search(np.ones(D), limit=1, with_payload=selector)[0]
    assert hit.payload == expected
    page, _ = selector_frame.scroll(with_payload=selector)
    assert page[0].payload == expected
