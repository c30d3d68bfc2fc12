"""Ctrl-C during a write. The contract: everything is validated and converted
before the commit, so an interrupt there leaves the collection as it was; the
commit itself holds SIGINT back and re-raises it once done; an interrupt
during the optimizer's (slow) index build leaves a consistent collection."""

from __future__ import annotations

import signal

import numpy as np
import pytest
from conftest import SMALL, Model, assert_hits_match, snapshot

import nbvec._collection
import nbvec._frame
import nbvec._payload
from nbvec import VectorFrame
from nbvec._atomic import uninterruptible
from nbvec._segment import Segment

D = 32


@pytest.fixture
def filled():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(700, D))
    vf = VectorFrame(D, "Euclid", **SMALL, n_trees=4, calibration_queries=20)
    vf.upsert(range(600), x[:600], payload=[{"i": i} for i in range(600)])
    vf.upsert(range(600, 700), x[600:], payload=[{"i": i} for i in range(600, 700)])
    model = Model()
    model.upsert(range(700), x, [{"i": i} for i in range(700)])
    return vf, model


class InterruptingPayload(dict):
    """A payload whose conversion is interrupted (as if Ctrl-C arrived there)."""

    def items(self):
        raise KeyboardInterrupt


class InterruptingNumber:
    def __float__(self):
        raise KeyboardInterrupt


def _batch(n=1000, start=5000):
    ids = list(range(start, start + n))
    # some ids replace existing points: an interrupted batch must not tombstone them
    ids[: n // 10] = range(n // 10)
    x = np.random.default_rng(9).normal(size=(n, D))
    return ids, x, [{"new": True} for _ in ids]


def test_interrupt_while_converting_a_payload_changes_nothing(filled):
    vf, _ = filled
    before = snapshot(vf)
    ids, x, payload = _batch()
    payload[499] = InterruptingPayload(a=1)
    with pytest.raises(KeyboardInterrupt):
        vf.upsert(ids, x, payload=payload)
    assert snapshot(vf) == before


def test_interrupt_while_converting_a_row_wise_point_changes_nothing(filled):
    vf, _ = filled
    before = snapshot(vf)
    ids, x, payload = _batch()
    points = [{"id": i, "vector": v.tolist(), "payload": p} for i, v, p in zip(ids, x, payload)]
    points[499]["vector"][3] = InterruptingNumber()
    with pytest.raises(KeyboardInterrupt):
        vf.upsert_points(points)
    assert snapshot(vf) == before


@pytest.mark.parametrize("target", ["payload", "frame"])
def test_interrupt_in_payload_conversion_patched(filled, monkeypatch, target):
    vf, _ = filled
    before = snapshot(vf)

    def interrupted(payloads):
        raise KeyboardInterrupt

    module = nbvec._payload if target == "payload" else nbvec._frame
    monkeypatch.setattr(module, "columns_from_dicts", interrupted)
    if target == "frame":  # set_payload validates its one payload dict directly
        monkeypatch.setattr(module, "to_json_object", interrupted)
    ids, x, payload = _batch()
    with pytest.raises(KeyboardInterrupt):
        if target == "payload":
            vf.upsert(ids, x, payload=payload)
        else:
            vf.upsert_points([{"id": i, "vector": v.tolist()} for i, v in zip(ids, x)])
    with pytest.raises(KeyboardInterrupt):
        vf.set_payload({"a": 1}, ids=[1, 2]) if target == "frame" else vf.upsert(
            [1], x[:1], payload=[{"a": 1}])
    monkeypatch.undo()
    assert snapshot(vf) == before


def test_sigint_inside_uninterruptible_is_raised_after_the_block():
    handler = signal.getsignal(signal.SIGINT)
    done = []
    with pytest.raises(KeyboardInterrupt):
        with uninterruptible():
            signal.raise_signal(signal.SIGINT)
            done.append("rest of the block ran")
    assert done == ["rest of the block ran"]
    assert signal.getsignal(signal.SIGINT) is handler
    with uninterruptible():  # nothing pending afterwards
        pass


def test_sigint_during_the_commit_completes_the_batch_first(filled, monkeypatch):
    vf, model = filled
    real_append = Segment.append
    fired = []

    def append_with_ctrl_c(self, *args, **kwargs):
        if not fired:
            fired.append(True)
            signal.raise_signal(signal.SIGINT)  # Ctrl-C in the middle of the commit
        return real_append(self, *args, **kwargs)

    monkeypatch.setattr(Segment, "append", append_with_ctrl_c)
    ids, x, payload = _batch(n=50)
    with pytest.raises(KeyboardInterrupt):
        vf.upsert(ids, x, payload=payload)
    assert fired
    monkeypatch.undo()
    model.upsert(ids, x, payload)  # the whole batch went in, nothing half-done
    assert vf.count() == len(model.vectors)
    got = vf.retrieve(ids, with_vectors=True)
    assert got.ids == ids and all(r.payload == {"new": True} for r in got)
    np.testing.assert_allclose([r.vector for r in got], x, rtol=1e-6)
    for q in np.random.default_rng(1).normal(size=(5, D)):
        assert_hits_match(vf.search(q, limit=20, exact=True), "Euclid", model.vectors, q, 20)


def test_interrupt_during_index_build_leaves_a_consistent_collection(filled, monkeypatch):
    vf, model = filled

    def interrupted_build(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(nbvec._collection, "build_sealed", interrupted_build)
    x = np.random.default_rng(4).normal(size=(400, D))
    ids = list(range(2000, 2400))
    with pytest.raises(KeyboardInterrupt):
        vf.upsert(ids, x)  # committed, then the seal it triggers is interrupted
    monkeypatch.undo()
    model.upsert(ids, x)
    assert vf.count() == len(model.vectors)
    assert vf.info()["status"] == "green"
    assert sorted(vf.retrieve(list(model.vectors)).ids) == sorted(model.vectors)
    for q in np.random.default_rng(2).normal(size=(5, D)):
        assert_hits_match(vf.search(q, limit=20), "Euclid", model.vectors, q, 20)
    # the seal was postponed, not lost: optimize() (or the next write) does it
    appendable = [s for s in vf.info()["segments"] if s["appendable"]]
    assert appendable[0]["points"] == 500
    assert "index" in vf.optimize()
    assert vf.info()["indexed_points"] == vf.count()
    for q in np.random.default_rng(2).normal(size=(5, D)):
        assert_hits_match(vf.search(q, limit=20), "Euclid", model.vectors, q, 20)
