"""Save / open / load round trips: ids (int and UUID), vectors bit-exact,
payloads (every kind, nested, mixed, null vs absent), config, payload
indexes, named vectors, segments (sealed + appendable) and search results
(exact and indexed) come back identical."""

from __future__ import annotations

import gc

import numpy as np
import pytest
from conftest import random_payloads, snapshot, uuid_from

from nbvec import VectorFrame
from nbvec.models import VectorParams

# 12 floats per point (0.047 KB): a segment is sealed every ~210 points
OPTIONS = dict(indexing_threshold=10, full_scan_threshold=1, n_trees=5, calibration_queries=20,
               progress=False)


def build(vf, rng, n=600):
    """Fill ``vf``: several sealed segments and an appendable one, deletes,
    payload edits, a missing vector, a payload index."""
    ids = [int(i) for i in rng.choice(10**6, n // 2, replace=False)] + [
        uuid_from(rng) for _ in range(n - n // 2)]
    rng.shuffle(ids)
    img = rng.normal(size=(n, 8)).astype(np.float32)
    txt = rng.normal(size=(n, 4)).astype(np.float32)
    payloads = random_payloads(rng, n)
    payloads[0] = {"big": 2**63 + 5, "ключ": "значение", "nothing": None, "deep": {"a": [1, {"b": None}]}}
    payloads[1] = {}
    for lo in range(0, n, 100):
        vf.upsert(ids[lo: lo + 100], {"img": img[lo: lo + 100], "txt": txt[lo: lo + 100]},
                  payloads[lo: lo + 100])
    vf.delete(ids[5:40])
    vf.set_payload({"added": [1, "two"]}, ids=ids[50:60])
    vf.delete_payload(["n", "meta.depth"], ids=ids[60:80])
    vf.overwrite_payload({"only": True}, ids=ids[80:85])
    vf.clear_payload(ids=ids[85:88])
    vf.delete_vectors("txt", ids=ids[90:95])
    vf.create_payload_index("tag", "keyword")
    vf.create_payload_index("n", "integer")
    vf.delete_payload_index("n")
    return ids, img, txt


@pytest.fixture
def frame(rng):
    vf = VectorFrame(vectors={"img": VectorParams(size=8, distance="Cosine"),
                              "txt": VectorParams(size=4, distance="Euclid")}, **OPTIONS)
    ids, img, txt = build(vf, rng)
    return vf, ids, img, txt


def segment_shape(vf):
    return [(s.sealed, s.n, s.deleted_count, sorted(s.indexes),
             {k: c.kind for k, c in s.payload.columns.items()})
            for s in vf._engine.segments]


def searches(vf, rng):
    queries = np.random.default_rng(7).normal(size=(5, 8)).astype(np.float32)
    out = []
    for exact in (True, False):
        for res in vf.search(queries, using="img", limit=10, exact=exact, with_vectors=True):
            out.append([(p.id, p.score, p.version, str(p.payload), str(p.vector)) for p in res])
    res = vf.search(np.ones(4), using="txt", limit=7, where="flag == True")
    out.append([(p.id, p.score) for p in res])
    return out


def assert_same_frame(a, b, rng):
    assert snapshot(a) == snapshot(b)
    assert a._config == b._config
    assert a._specs == b._specs
    assert a._payload_schema == b._payload_schema == {"tag": "keyword"}
    assert a.payload_schema == b.payload_schema
    assert segment_shape(a) == segment_shape(b)
    assert a._engine.last_operation == b._engine.last_operation
    assert searches(a, rng) == searches(b, rng)
    for sa, sb in zip(a._engine.segments, b._engine.segments):
        for name in a._specs:  # bit-exact vectors and masks
            assert sa.vectors[name][: sa.n].tobytes() == sb.vectors[name][: sb.n].tobytes()
            assert np.array_equal(sa.has_vector[name][: sa.n], sb.has_vector[name][: sb.n])
        assert sa.ids[: sa.n].tolist() == sb.ids[: sb.n].tolist()
        assert [type(i) for i in sa.ids[: sa.n]] == [type(i) for i in sb.ids[: sb.n]]


def test_fixture_has_sealed_and_appendable_segments(frame):
    vf = frame[0]
    shape = segment_shape(vf)
    assert sum(s[0] for s in shape) >= 2 and not shape[-1][0] and shape[-1][1] > 0
    assert all(s[3] == ["img", "txt"] for s in shape if s[0])


@pytest.mark.parametrize("mmap", [None, True, False])
def test_save_then_load_and_open(frame, tmp_path, rng, mmap):
    vf = frame[0]
    vf.save(tmp_path / "snap")
    loaded = VectorFrame.load(tmp_path / "snap", mmap=mmap)
    assert_same_frame(vf, loaded, rng)
    sealed = [s for s in loaded._engine.segments if s.sealed]
    assert all(isinstance(s.vectors["img"], np.memmap) == bool(mmap) for s in sealed)
    with VectorFrame.open(tmp_path / "snap", mmap=mmap) as opened:
        assert_same_frame(vf, opened, rng)


def test_save_over_an_earlier_snapshot(frame, tmp_path, rng):
    vf, ids, *_ = frame
    small = VectorFrame(vectors={"img": VectorParams(size=8, distance="Cosine"),
                                 "txt": VectorParams(size=4, distance="Euclid")}, **OPTIONS)
    small.save(tmp_path / "snap")
    vf.save(tmp_path / "snap")
    assert_same_frame(vf, VectorFrame.load(tmp_path / "snap"), rng)
    vf.delete(ids[100:110])
    vf.save(tmp_path / "snap")
    assert_same_frame(vf, VectorFrame.load(tmp_path / "snap"), rng)
    files = {p.name for p in (tmp_path / "snap").rglob("*") if p.is_file()}
    assert not any(f.endswith(".tmp") for f in files)


@pytest.mark.parametrize("how", ["close", "drop"])
def test_attached_frame_reopens_identical(tmp_path, rng, how):
    """Every write of an attached frame is in storage: after close(), or
    after the frame is dropped unclosed (the log is replayed)."""
    path = tmp_path / "vf"
    vf = VectorFrame.open(path, vectors={"img": VectorParams(size=8, distance="Cosine"),
                                         "txt": VectorParams(size=4, distance="Euclid")},
                          **OPTIONS)
    build(vf, np.random.default_rng(3))
    reference = VectorFrame(vectors={"img": VectorParams(size=8, distance="Cosine"),
                                     "txt": VectorParams(size=4, distance="Euclid")}, **OPTIONS)
    build(reference, np.random.default_rng(3))
    if how == "close":
        vf.close()
    else:
        del vf
        gc.collect()
    with VectorFrame.open(path) as again:
        assert_same_frame(reference, again, rng)


def test_on_disk_vectors_are_memory_mapped_after_sealing(tmp_path):
    rng = np.random.default_rng(0)
    with VectorFrame.open(tmp_path / "vf", vectors={"v": VectorParams(size=8, distance="Dot",
                                                                         on_disk=True)},
                          **OPTIONS) as vf:
        vf.upsert(range(500), {"v": rng.normal(size=(500, 8))})
        sealed = [s for s in vf._engine.segments if s.sealed]
        assert sealed and all(isinstance(s.vectors["v"], np.memmap) for s in sealed)
        before = [(p.id, p.score) for p in vf.search(np.ones(8), using="v", limit=5)]
    again = VectorFrame.load(tmp_path / "vf")
    assert [(p.id, p.score) for p in again.search(np.ones(8), using="v", limit=5)] == before
    assert all(isinstance(s.vectors["v"], np.memmap) for s in again._engine.segments if s.sealed)


def test_writes_after_reload_continue(frame, tmp_path, rng):
    """A loaded frame takes new writes: new segments, new ids, payload edits
    on points of memory-mapped sealed segments."""
    vf, ids, img, txt = frame
    vf.save(tmp_path / "snap")
    with VectorFrame.open(tmp_path / "snap", mmap=True) as opened:
        for f in (vf, opened):
            f.set_payload({"late": 1}, ids=ids[100:300])
            f.delete(ids[300:320])
            f.upsert(ids[320:330], {"img": img[:10], "txt": txt[:10]})
            f.upsert([7, 8], {"img": img[:2], "txt": txt[:2]})
            f.optimize(index_now=True)
        assert_same_frame(vf, opened, rng)
    assert_same_frame(vf, VectorFrame.load(tmp_path / "snap"), rng)


def test_empty_frame_round_trip(tmp_path):
    VectorFrame(3, "Manhattan", progress=False).save(tmp_path / "e")
    vf = VectorFrame.load(tmp_path / "e")
    assert len(vf) == 0 and vf._specs[""].distance.value == "Manhattan"
    assert vf.search([0, 0, 0], limit=3) == []


def test_close_and_context_manager_of_in_memory_frame():
    with VectorFrame(2, progress=False) as vf:
        vf.upsert([1], np.ones((1, 2)))
    vf.close()
    assert len(vf) == 1


def test_hnsw_indexes_round_trip(tmp_path):
    pytest.importorskip("hnswlib")
    rng = np.random.default_rng(4)
    x = rng.normal(size=(800, 16)).astype(np.float32)
    vf = VectorFrame(16, "Cosine", index="hnsw", indexing_threshold=10, full_scan_threshold=1,
                     calibration_queries=20, progress=False)
    vf.upsert(range(800), x)
    vf.save(tmp_path / "h")
    loaded = VectorFrame.load(tmp_path / "h")
    assert [type(i).__name__ for s in loaded._engine.segments for i in s.indexes.values()] == [
        type(i).__name__ for s in vf._engine.segments for i in s.indexes.values()]
    for q in x[:5]:
        assert ([(p.id, p.score) for p in loaded.search(q, limit=5)]
                == [(p.id, p.score) for p in vf.search(q, limit=5)])
