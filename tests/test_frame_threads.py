"""Several threads writing into one VectorFrame at once (upserts, deletes,
payload edits, on disjoint and shared ids) while another one reads: nothing
raises, and the end state is what a sequential model says."""

from __future__ import annotations

import sys
import threading
import time
import traceback

import numpy as np
import pytest
from conftest import Model, assert_hits_match

from nbvec import VectorFrame

D = 8  # 1/32 KB a point: indexing_threshold=4 seals every 128 points
N_WRITERS = 4
SHARED = list(range(100))  # every writer upserts these; nobody deletes them

@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave threads as much as possible
    yield
    sys.setswitchinterval(old)


def _writer(vf, t, model, barrier, errors, n_ops=120):
    rng = np.random.default_rng(100 + t)
    own = list(range(10_000 * (t + 1), 10_000 * (t + 1) + 1500))
    try:
        barrier.wait()
        for seq in range(n_ops):
            op = rng.random()
            if op < 0.35:
                ids = rng.choice(own, size=int(rng.integers(1, 40)), replace=False).tolist()
                x = rng.normal(size=(len(ids), D))
                payload = [{"t": t, "seq": seq, "i": i} for i in ids]
                vf.upsert(ids, x, payload=payload)
                model.upsert(ids, x, payload)
            elif op < 0.45:
                ids = rng.choice(own, size=int(rng.integers(1, 10)), replace=False).tolist()
                x = rng.normal(size=(len(ids), D))
                vf.upsert_points([{"id": i, "vector": v.tolist(), "payload": {"row": True}}
                                  for i, v in zip(ids, x)])
                model.upsert(ids, x, [{"row": True}] * len(ids))
            elif op < 0.6:
                ids = rng.choice(own, size=int(rng.integers(1, 30)), replace=False).tolist()
                vf.delete(ids)
                model.delete(ids)
            elif op < 0.7:
                ids = rng.choice(own, size=int(rng.integers(1, 30)), replace=False).tolist()
                vf.set_payload({"mark": seq}, ids=ids)
                for i in ids:
                    if i in model.payloads:
                        model.payloads[i]["mark"] = seq
            elif op < 0.75:
                ids = rng.choice(own, size=int(rng.integers(1, 30)), replace=False).tolist()
                vf.delete_payload(["t", "mark"], ids=ids)
                for i in ids:
                    if i in model.payloads:
                        model.payloads[i].pop("t", None)
                        model.payloads[i].pop("mark", None)
            else:  # shared ids: the vector carries the writer's token, and so does the payload
                ids = rng.choice(SHARED, size=int(rng.integers(1, 20)), replace=False).tolist()
                token = float(t * 1000 + seq)
                x = rng.normal(size=(len(ids), D))
                x[:, 0] = token
                vf.upsert(ids, x, payload=[{"token": token}] * len(ids))
    except BaseException:  # noqa: BLE001 - reported by the test
        errors.append((t, traceback.format_exc()))


def _reader(vf, stop, errors, seen):
    rng = np.random.default_rng(7)
    try:
        while not stop.is_set():
            q = rng.normal(size=D)
            hits = vf.search(q, limit=20)
            assert len(set(hits.ids)) == len(hits.ids)
            assert np.all(np.diff(hits.scores) >= 0)  # Euclid: ascending distances
            vf.search(q, limit=5, exact=True)
            vf.retrieve(SHARED[:10], with_vectors=True)
            page, _ = vf.scroll(limit=50)
            assert page.ids == sorted(page.ids)
            vf.count()
            seen[0] += 1
    except BaseException:  # noqa: BLE001
        errors.append(("reader", traceback.format_exc()))


def test_concurrent_writers_and_a_reader(fast_switching):
    vf = VectorFrame(D, "Euclid", indexing_threshold=4, full_scan_threshold=1,
                     vacuum_min_vector_number=10, n_trees=4, calibration_queries=20,
                     progress=False)
    rng = np.random.default_rng(0)
    initial = rng.normal(size=(len(SHARED), D))
    initial[:, 0] = -1.0
    vf.upsert(SHARED, initial, payload=[{"token": -1.0}] * len(SHARED))
    models = [Model() for _ in range(N_WRITERS)]
    errors, seen = [], [0]
    barrier = threading.Barrier(N_WRITERS)
    stop = threading.Event()
    writers = [threading.Thread(target=_writer, args=(vf, t, models[t], barrier, errors))
               for t in range(N_WRITERS)]
    reader = threading.Thread(target=_reader, args=(vf, stop, errors, seen))
    reader.start()
    for w in writers:
        w.start()
    for w in writers:
        w.join(timeout=120)
    stop.set()
    reader.join(timeout=60)
    assert not any(w.is_alive() for w in writers) and not reader.is_alive()
    assert errors == [], '\n'.join(str(e) for e in errors)
    assert seen[0] > 0

    # the optimizer ran while the threads wrote
    assert sum(s["indexed"] for s in vf.info()["segments"]) >= 2

    # every writer's own ids: exactly its sequential model
    expected = {}
    for m in models:
        expected.update(m.vectors)
    assert vf.count() == len(vf) == len(expected) + len(SHARED)
    own_ids = sorted(expected)
    recs = vf.retrieve(own_ids, with_vectors=True)
    assert recs.ids == own_ids
    payloads = {}
    for m in models:
        payloads.update(m.payloads)
    for r in recs:
        assert r.payload == payloads[r.id], r.id
        np.testing.assert_allclose(r.vector, expected[r.id], rtol=1e-6)

    # shared ids: one whole write won, vector and payload from the same write
    shared = vf.retrieve(SHARED, with_vectors=True)
    assert shared.ids == SHARED
    for r in shared:
        assert r.payload == {"token": r.vector[0]}, (r.id, r.payload, r.vector[0])

    # scroll sees every point exactly once, in id order
    ids, offset = [], None
    while True:
        page, offset = vf.scroll(limit=333, offset=offset, with_payload=False)
        ids += page.ids
        if offset is None:
            break
    assert ids == sorted(SHARED + own_ids)
    assert len(vf._engine.where) == vf.count()  # the id map holds live points only

    # search over what is stored equals the brute force
    stored = {r.id: np.array(r.vector) for r in recs}
    stored.update({r.id: np.array(r.vector) for r in shared})
    for q in rng.normal(size=(10, D)):
        assert_hits_match(vf.search(q, limit=25, exact=True), "Euclid", stored, q, 25)
        assert_hits_match(vf.search(q, limit=25), "Euclid", stored, q, 25)


def test_concurrent_upserts_of_the_same_ids_keep_one_copy(fast_switching):
    vf = VectorFrame(D, "Dot", indexing_threshold=2, full_scan_threshold=1,
                     vacuum_min_vector_number=5, n_trees=2, calibration_queries=10,
                     progress=False)
    ids = list(range(300))
    errors = []
    barrier = threading.Barrier(4)
    stop = threading.Event()

    def read():
        try:
            while not stop.is_set():
                hits = vf.search(np.ones(D), limit=50, with_payload=False, with_vectors=True)
                assert len(set(hits.ids)) == len(hits.ids)
                for h in hits:  # the score is the stored vector's
                    assert h.score == pytest.approx(sum(h.vector), rel=1e-5)
                vf.retrieve(ids[:50])
        except BaseException:  # noqa: BLE001
            errors.append(traceback.format_exc())

    def hammer(t):
        try:
            barrier.wait()
            rng = np.random.default_rng(t)
            for _ in range(40):
                batch = rng.choice(ids, size=60, replace=False).tolist()
                x = np.full((60, D), float(t))
                vf.upsert(batch, x, payload=[{"t": t}] * 60)
        except BaseException:  # noqa: BLE001
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=hammer, args=(t,)) for t in range(4)]
    reader = threading.Thread(target=read)
    reader.start()
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    stop.set()
    reader.join(timeout=60)
    assert errors == [], "\n".join(errors)
    touched = vf.retrieve(ids, with_vectors=True)
    assert vf.count() == len(touched)
    assert len(set(touched.ids)) == len(touched.ids)
    for r in touched:
        assert r.vector == [float(r.payload["t"])] * D
    everything = vf.search(np.ones(D), limit=1000, exact=True)
    assert sorted(everything.ids) == sorted(touched.ids)


# -- the races, made deterministic ------------------------------------------------------
def _sealing_frame():
    vf = VectorFrame(D, "Euclid", indexing_threshold=4, full_scan_threshold=1, n_trees=2,
                     calibration_queries=10, progress=False)
    vf.upsert(range(100), np.ones((100, D)), payload=[{"a": i} for i in range(100)])
    assert not any(s["indexed"] for s in vf.info()["segments"])  # 100 < 128 points
    return vf


def _other_thread_seals_after_locate(vf, monkeypatch):
    """Between locating the ids and applying the change, another thread upserts
    enough points to seal the appendable segment (it may have to wait for the
    lock: then it finishes afterwards)."""
    real = vf._engine.locate
    others = []

    def locate(ids):
        out = real(ids)
        if not others:
            t = threading.Thread(target=vf.upsert,
                                 args=(range(1000, 1100), np.zeros((100, D))))
            others.append(t)
            t.start()
            owned = getattr(vf._engine.lock, "_is_owned", lambda: False)()
            # under the lock the other thread must wait: finishing it here would deadlock
            t.join(timeout=0.05 if owned else 30)
        return out

    monkeypatch.setattr(vf._engine, "locate", locate)
    return others


@pytest.mark.parametrize("edit, check", [
    (lambda vf: vf.delete([1, 2, 3]), lambda vf: vf.retrieve([1, 2, 3, 4]).ids == [4]),
    (lambda vf: vf.set_payload({"b": 1}, ids=[1, 2]),
     lambda vf: [r.payload for r in vf.retrieve([1, 2])] == [{"a": 1, "b": 1}, {"a": 2, "b": 1}]),
    (lambda vf: vf.overwrite_payload({"b": 1}, ids=[1]),
     lambda vf: vf.retrieve([1])[0].payload == {"b": 1}),
    (lambda vf: vf.delete_payload("a", ids=[1]), lambda vf: vf.retrieve([1])[0].payload == {}),
    (lambda vf: vf.clear_payload(ids=[1]), lambda vf: vf.retrieve([1])[0].payload == {}),
], ids=["delete", "set_payload", "overwrite_payload", "delete_payload", "clear_payload"])
def test_edit_racing_with_a_seal_by_another_thread(monkeypatch, edit, check):
    vf = _sealing_frame()
    others = _other_thread_seals_after_locate(vf, monkeypatch)
    edit(vf)
    for t in others:
        t.join(timeout=30)
    assert others and not others[0].is_alive()
    assert check(vf)
    assert vf.retrieve([1099]).ids == [1099]  # the other thread's write is there too
    assert any(s["indexed"] for s in vf.info()["segments"])


def test_search_while_another_thread_adds_payload_keys(fast_switching):
    vf = VectorFrame(D, "Dot", progress=False)
    vf.upsert(range(500), np.random.default_rng(0).normal(size=(500, D)),
              payload=[{"a": i} for i in range(500)])
    stop = threading.Event()

    def add_keys():
        i = 0
        while not stop.is_set():
            vf.set_payload({f"k{i}": i}, ids=[i % 500])
            i += 1

    writer = threading.Thread(target=add_keys)
    writer.start()
    try:
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            hits = vf.search(np.ones(D), limit=50)
            assert all("a" in h.payload for h in hits)
    finally:
        stop.set()
        writer.join(timeout=30)
