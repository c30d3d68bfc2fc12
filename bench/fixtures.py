"""Shared inputs of the cases, built once per run through ``ctx.fixture``:
data sets, VectorFrames built from them, raw annoy forests; plus the few
looks into engine internals the benchmarks need (segments, plans, a forced
search_k), kept here so that cases read only public-looking helpers.

Sizes: the full run uses 100k points for the large sets, ``--quick`` 20k.
20k x 100 floats (7,812 KB) is under the default ``full_scan_threshold``
(10,000 KB) and ``indexing_threshold`` (20,000 KB), so a quick run lowers
both to 1,000 KB for the large sets: the same code path (one sealed,
annoy-indexed segment) as the full run, at a fifth of the size.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from nbvec import VectorFrame

from . import datasets
from .baselines import annoy_forest
from .runner import time_once

__all__ = ["large_n", "frame_options", "clustered", "clustered_frame", "clustered_forest",
           "uniform_large", "build_frame", "sealed_segments", "plans", "forced_search_k"]

QUICK_THRESHOLDS = {"indexing_threshold": 1000, "full_scan_threshold": 1000}


def large_n(ctx) -> int:
    return 20_000 if ctx.quick else 100_000


def frame_options(ctx, large: bool = True) -> dict:
    """VectorFrame options: no progress bars; quick runs lower the thresholds
    of the large sets (see the module docstring)."""
    opts = {"progress": False}
    if ctx.quick and large:
        opts.update(QUICK_THRESHOLDS)
    return opts


def build_frame(ds, **options) -> tuple[float, VectorFrame]:
    """(seconds, frame): one ``upsert`` of every point, ids 0..n-1; the
    optimizer seals and indexes synchronously inside that call."""
    vf = VectorFrame(ds.d, "Cosine", **options)
    seconds, _ = time_once(lambda: vf.upsert(np.arange(ds.n), ds.base))
    return seconds, vf


def clustered(ctx):
    return ctx.fixture("clustered", lambda: datasets.clustered(large_n(ctx)))


def uniform_large(ctx):
    return ctx.fixture("uniform-large", lambda: datasets.uniform(large_n(ctx)))


def clustered_frame(ctx) -> tuple[float, VectorFrame]:
    """(build seconds, frame) of the clustered set, built once per run."""
    def make():
        ds = clustered(ctx)
        ctx.log(f"  building the {ds.shape} clustered VectorFrame ...")
        return build_frame(ds, **frame_options(ctx))

    return ctx.fixture("clustered-frame", make)


def clustered_forest(ctx):
    """A raw annoy forest over the clustered set, same n_trees/seed/n_jobs as
    the frame's index."""
    def make():
        _, vf = clustered_frame(ctx)
        cfg = vf._config
        ctx.log(f"  building the raw annoy forest ({cfg.n_trees} trees) ...")
        return annoy_forest(clustered(ctx).unit_base, cfg.n_trees, cfg.seed, cfg.n_jobs)

    return ctx.fixture("clustered-forest", make)


# -- engine internals the benchmarks read ---------------------------------------
def sealed_segments(vf) -> list[dict]:
    """``vf.info()["segments"]`` entries that hold points."""
    return [s for s in vf.info()["segments"] if s["points"]]


def plans(vf, query: np.ndarray, **kwargs) -> list:
    """The engine's per-segment plans for one query (segments with points)."""
    q = np.asarray(query, np.float32).reshape(1, -1)
    out = vf._engine.search("", q, limit=kwargs.pop("limit", 10), **kwargs)
    return [p for p in out.plans if p.strategy != "skip"]


def describe_plans(vf, query, **kwargs) -> str:
    return "; ".join(f"{p.strategy}" + (f" search_k={p.search_k}" if p.search_k else "")
                     + f" ({p.reason})" for p in plans(vf, query, **kwargs))


@contextmanager
def forced_search_k(vf, search_k: int):
    """Make every annoy index of ``vf`` answer at ``search_k``.

    How: the planner asks ``index.search_k_for(k)``, which returns the
    calibrated ``default_search_k`` scaled by k/10 (floored at k * n_trees).
    For k = 10 and search_k >= 10 * n_trees, setting the calibration's
    default to ``search_k`` makes the planner use exactly that value; the
    old default is restored on exit. Callers check ``plans()`` to confirm
    the planner still chose annoy (it switches to an exact scan when the
    cost model says that is cheaper).
    """
    saved = []
    for seg in vf._engine.segments:
        for idx in seg.indexes.values():
            if idx.calibration is not None:
                saved.append((idx.calibration, idx.calibration.default_search_k))
                idx.calibration.default_search_k = int(search_k)
    try:
        yield
    finally:
        for cal, old in saved:
            cal.default_search_k = old
