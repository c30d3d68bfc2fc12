"""Shared test helpers: seeded data generators, an independent numpy
brute-force reference, a plain-Python model of a collection, and comparisons.

The reference is deliberately written apart from the engine: float64, one
formula per distance, a full sort: it imports nothing of nbvec. Only
``planner_costs`` and ``exact_looks_dear`` touch nbvec's internals, to make
its cost model send small test segments down a path.
"""

from __future__ import annotations

import string
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DISTANCES = ["Cosine", "Dot", "Euclid", "Manhattan"]
HIGHER_IS_BETTER = {"Cosine": True, "Dot": True, "Euclid": False, "Manhattan": False}

# Frames that seal a segment every few hundred points: with d=32 one point is
# 0.125 KB, so indexing_threshold=50 seals at 400 points and segments of more
# than 80 points are above full_scan_threshold.
SMALL = dict(indexing_threshold=50, full_scan_threshold=10, progress=False)


# -- data generators -------------------------------------------------------------
class Clusters:
    """Gaussian clusters: ``sample(n)`` draws points (and queries) from them."""

    def __init__(self, rng, d: int, n_clusters: int = 30, spread: float = 4.0):
        self.rng = rng
        self.d = d
        self.centers = rng.normal(size=(n_clusters, d)) * spread

    def sample(self, n: int) -> np.ndarray:
        labels = self.rng.integers(0, len(self.centers), n)
        return (self.centers[labels] + self.rng.normal(size=(n, self.d))).astype(np.float32)


def uniform(rng, n: int, d: int) -> np.ndarray:
    """The tutorial's data: uniform in [-1, 1]."""
    return rng.uniform(-1.0, 1.0, size=(n, d))


def random_payload(rng) -> dict:
    """A JSON payload with typed and mixed values, some keys absent."""
    p = {}
    if rng.random() < 0.8:
        p["n"] = int(rng.integers(-1000, 1000))
    if rng.random() < 0.7:
        p["f"] = float(rng.normal())
    if rng.random() < 0.5:
        p["flag"] = bool(rng.random() < 0.5)
    if rng.random() < 0.6:
        p["tag"] = "".join(rng.choice(list(string.ascii_lowercase), size=5))
    if rng.random() < 0.3:
        p["tags"] = [str(t) for t in rng.choice(["a", "b", "c", "d"], size=2)]
    if rng.random() < 0.3:
        p["meta"] = {"depth": int(rng.integers(0, 5)), "inner": {"x": float(rng.random())}}
    if rng.random() < 0.2:
        p["nothing"] = None
    if rng.random() < 0.3:  # one key, several types across points
        p["mixed"] = [1, "one", 1.5, True, None, [1], {"a": 1}][int(rng.integers(0, 7))]
    return p


def random_payloads(rng, n: int) -> list[dict]:
    return [random_payload(rng) for _ in range(n)]


def uuid_from(rng) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


# -- the reference ---------------------------------------------------------------
def reference_scores(distance: str, stored, query) -> np.ndarray:
    """Scores of ``query`` (d,) against every row of ``stored`` (n, d), float64."""
    x = np.asarray(stored, dtype=np.float32).astype(np.float64)
    q = np.asarray(query, dtype=np.float32).astype(np.float64)
    if distance == "Cosine":
        xn = np.linalg.norm(x, axis=1, keepdims=True)
        qn = np.linalg.norm(q)
        x = np.divide(x, xn, out=np.zeros_like(x), where=xn > 0)
        q = q / qn if qn > 0 else np.zeros_like(q)
        return x @ q
    if distance == "Dot":
        return x @ q
    if distance == "Euclid":
        return np.linalg.norm(x - q, axis=1)
    if distance == "Manhattan":
        return np.abs(x - q).sum(axis=1)
    raise ValueError(distance)


def brute_force(distance: str, stored, query, k: int):
    """Exact top-k by plain numpy. ``stored`` is ``{id: vector}``.

    Returns (ids, scores) for a 1-D query, or a list of them for a 2-D one.
    """
    query = np.asarray(query)
    if query.ndim == 2:
        return [brute_force(distance, stored, q, k) for q in query]
    ids = list(stored)
    if not ids:
        return [], np.empty(0)
    scores = reference_scores(distance, np.array([stored[i] for i in ids]), query)
    order = np.argsort(-scores if HIGHER_IS_BETTER[distance] else scores, kind="stable")[:k]
    return [ids[i] for i in order], scores[order]


def assert_hits_match(hits, distance, stored, query, k, *, offset=0, threshold=None,
                      rtol=1e-5, atol=1e-5):
    """``hits`` (Results) equal the brute force over ``stored`` ({id: vector}):
    the same scores rank by rank, each id's score right, and the same ids except
    where scores tie (within tolerance) at the cut."""
    ids_all, scores_all = brute_force(distance, stored, query, len(stored))
    by_id = dict(zip(ids_all, scores_all))
    if threshold is not None:
        better = HIGHER_IS_BETTER[distance]
        keep = [(i, s) for i, s in zip(ids_all, scores_all)
                if (s > threshold if better else s < threshold)]
        ids_all = [i for i, _ in keep]
        scores_all = np.array([s for _, s in keep])
    want_ids = ids_all[offset: offset + k]
    want_scores = np.asarray(scores_all[offset: offset + k], dtype=np.float64)
    got_ids = [p.id for p in hits]
    got_scores = np.array([p.score for p in hits], dtype=np.float64)
    assert len(got_ids) == len(want_ids), (got_ids, want_ids)
    assert len(set(got_ids)) == len(got_ids), f"duplicate ids in results: {got_ids}"
    np.testing.assert_allclose(got_scores, want_scores, rtol=rtol, atol=atol)
    for i, s in zip(got_ids, got_scores):
        assert i in by_id, f"id {i!r} returned but not stored"
        np.testing.assert_allclose(s, by_id[i], rtol=rtol, atol=atol, err_msg=f"score of {i!r}")
    # ids may differ only among ties at the boundaries of the window
    lo_edge = want_scores[0] if len(want_scores) else None
    hi_edge = want_scores[-1] if len(want_scores) else None
    for i in set(got_ids) ^ set(want_ids):
        s = by_id[i]
        tied = any(np.isclose(s, e, rtol=rtol, atol=atol) for e in (lo_edge, hi_edge))
        assert tied, f"id {i!r} (score {s}) differs from the brute force and is not a tie"


def recall_at(found: list, truth: list, k: int) -> float:
    return len(set(found[:k]) & set(truth[:k])) / k


def mean_recall(found, truth, k: int = 10) -> float:
    """Mean recall@k of id lists (or rows of arrays) ``found`` against ``truth``."""
    return float(np.mean([recall_at(list(f), list(t), k) for f, t in zip(found, truth,
                                                                          strict=True)]))


def recall_vs_exact(vf, queries, k: int = 10, **search) -> float:
    """Mean recall@k of ``vf.search`` against its own ``exact=True`` answers."""
    approx = vf.search(queries, limit=k, **search)
    exact = vf.search(queries, limit=k, exact=True, **search)
    return mean_recall([a.ids for a in approx], [e.ids for e in exact], k)


# -- a sequential model of a collection ----------------------------------------------
class Model:
    """What a collection should hold: ``{id: vector}`` and ``{id: payload}``."""

    def __init__(self):
        self.vectors: dict = {}
        self.payloads: dict = {}

    def upsert(self, ids, vectors, payloads=None):
        for j, i in enumerate(ids):
            self.vectors[i] = np.asarray(vectors[j], dtype=np.float32)
            self.payloads[i] = dict(payloads[j] or {}) if payloads is not None else {}

    def delete(self, ids):
        for i in ids:
            self.vectors.pop(i, None)
            self.payloads.pop(i, None)


# -- snapshots for "nothing changed" checks -----------------------------------------------
def snapshot(vf) -> dict:
    """Everything observable about a frame's points: count, and per id the
    payload and the stored vectors (as tuples)."""
    records, offset = [], None
    while True:
        page, offset = vf.scroll(limit=256, offset=offset, with_payload=True, with_vectors=True)
        records.extend(page)
        if offset is None:
            break
    out = {}
    for r in records:
        vec = r.vector
        if isinstance(vec, dict):
            vec = {k: tuple(v) for k, v in vec.items()}
        elif vec is not None:
            vec = tuple(vec)
        out[r.id] = (r.payload, vec)
    frame = vf.to_pandas()
    table = {"index": frame.index.tolist(),
             **{c: [_cell(v) for v in frame[c].tolist()] for c in frame.columns}}
    return {"count": vf.count(), "len": len(vf), "points": out, "frame": table}


def _cell(v):
    """A DataFrame cell in a form that compares with ==."""
    if isinstance(v, np.ndarray):
        return tuple(v.tolist())
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "<missing>"
    return v


# -- the real data set ---------------------------------------------------------------
def pydocs_dir() -> Path | None:
    here = Path(__file__).resolve()
    for cand in (here.parents[2] / "shared/data/pydocs-minilm",
                 Path("/work/shared/data/pydocs-minilm")):
        if (cand / "base.npy").exists() and (cand / "ground_truth_top100.npy").exists():
            return cand
    return None


def pydocs_or_skip(n_queries: int = 200):
    """(base, queries, exact top-10 of each query) of the real pydocs-minilm
    set, read in place; skips the test when the set is absent."""
    folder = pydocs_dir()
    if folder is None:
        pytest.skip("../shared/data/pydocs-minilm is not present")
    return (np.load(folder / "base.npy"), np.load(folder / "queries.npy")[:n_queries],
            np.load(folder / "ground_truth_top100.npy")[:n_queries, :10])


# -- fixtures ------------------------------------------------------------------------
@pytest.fixture
def rng():
    return np.random.default_rng(20240611)


@pytest.fixture
def clusters(rng):
    return Clusters(rng, 32)


# frames that seal one indexed segment at 8,000+ points of 32-d, built on one thread
# (the same graph, and answers, every run)
GRAPH_FRAME = dict(indexing_threshold=1000, full_scan_threshold=10, progress=False, n_jobs=1)


def sealed_plan(vf, queries, **search):
    """The explain() row of the biggest segment (the sealed one) for ``queries``."""
    plans = vf.explain(queries, limit=10, **search).to_pandas()
    return plans.loc[plans["points"].idxmax()]


def planner_costs(monkeypatch, **costs) -> None:
    """The planner's current cost model with ``costs`` changed (for this test)."""
    import dataclasses

    import nbvec._planner

    monkeypatch.setattr(nbvec._planner, "COSTS", dataclasses.replace(nbvec._planner.COSTS,
                                                                     **costs))


@pytest.fixture
def exact_looks_dear(monkeypatch):
    """Exact scans look dear to the cost model, as on big segments: the
    planner answers small test segments by their index (or partition)."""
    planner_costs(monkeypatch, exact_per_float=1e-6)
