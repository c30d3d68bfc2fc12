"""nbvec._gc: the collector paused for a block, and as it was afterwards."""

import gc

import numpy as np
import pytest

from nbvec import Client, models
from nbvec._gc import gc_paused


def test_paused_inside_and_back_on_after_an_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("inside")
    assert gc.isenabled()


def test_a_caller_that_turned_it_off_keeps_it_off():
    gc.disable()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_batch_calls_leave_the_collector_on():
    client = Client(":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(
        size=4, distance=models.Distance.DOT))
    client.upsert("c", points=models.Batch(ids=[1, 2, 3], vectors=np.eye(3, 4).tolist(),
                                           payloads=[{"a": i} for i in range(3)]))
    requests = [models.QueryRequest(query=[1.0, 0, 0, 0], limit=2, with_payload=True)] * 3
    answers = client.query_batch_points("c", requests)
    assert gc.isenabled()
    assert [p.id for p in answers[0].points][:1] == [1] and answers[0].points[0].payload == {"a": 0}
    search = [models.SearchRequest(vector=[0, 1.0, 0, 0], limit=1)] * 2
    assert [h.id for h in client.search_batch("c", search)[1]] == [2]
    assert gc.isenabled()


def test_only_many_hits_pause_the_collector(monkeypatch):
    """A result of a few points is made with the collector on (a pause costs
    more than the one pass it could save); PAUSE_GC_FROM hits or more pause it."""
    import contextlib

    import nbvec._hit_results as hit_results
    from nbvec import VectorFrame

    paused = []

    @contextlib.contextmanager
    def recording():
        paused.append(gc.isenabled())
        with gc_paused():
            yield

    monkeypatch.setattr(hit_results, "gc_paused", recording)
    n = hit_results.PAUSE_GC_FROM
    vf = VectorFrame(4, "Dot", progress=False)
    vf.upsert(np.arange(2 * n), np.random.default_rng(0).random((2 * n, 4)))
    few = vf.search(np.ones(4), limit=n - 1)
    assert len(list(few)) == n - 1 and paused == []
    many = vf.search(np.ones((2, 4)), limit=n // 2)  # n hits in one table
    assert [len(list(r)) for r in many] == [n // 2, n // 2] and paused == [True]
    assert gc.isenabled()
