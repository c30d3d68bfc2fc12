"""Shared inputs of the cases, built once per run through ``ctx.fixture``:
data sets, VectorFrames built from them, raw annoy forests; plus the few
looks into engine internals the benchmarks need (segments, plans, a forced
search_k), kept here so that cases read only public-looking helpers.

Sizes: the full run uses 100k points for the large sets, ``--quick`` 20k;
comparisons with qdrant-client's local mode use the first ``qdrant_n``
points (100k, quick 2k) because its filters and groups run point by point
in Python.
20k x 100 floats (7,812 KB) is under the default ``full_scan_threshold``
(10,000 KB) and ``indexing_threshold`` (20,000 KB), so a quick run lowers
both to 1,000 KB for the large sets: the same code path (one sealed,
annoy-indexed segment) as the full run, at a fifth of the size.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd

from nbvec import VectorFrame

from . import datasets
from .baselines import annoy_forest
from .runner import time_once

__all__ = ["large_n", "frame_options", "clustered", "clustered_frame", "clustered_forest",
           "uniform_large", "build_frame", "clustered_payload", "payload_frame", "qdrant_n",
           "qdrant_records", "qdrant_local", "qdrant_frame", "sealed_segments", "indexed_segment",
           "plans", "forced_search_k", "group_passes"]

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


def build_frame(ds, payload=None, n=None, **options) -> tuple[float, VectorFrame]:
    """(seconds, frame): one ``upsert`` of every point (the first ``n``),
    ids 0..n-1, with ``payload`` (a DataFrame, one row per point) if given;
    the optimizer seals and indexes synchronously inside that call."""
    n = ds.n if n is None else n
    vf = VectorFrame(ds.d, "Cosine", **options)
    rows = None if payload is None else payload.iloc[:n].reset_index(drop=True)
    seconds, _ = time_once(lambda: vf.upsert(np.arange(n), ds.base[:n], rows))
    return seconds, vf


def clustered(ctx):
    return ctx.fixture("clustered", lambda: datasets.clustered(large_n(ctx)))


def uniform_large(ctx):
    return ctx.fixture("uniform-large", lambda: datasets.uniform(large_n(ctx)))


def default_index() -> str:
    """The index kind a ``VectorFrame`` builds when not told (nbvec's default)."""
    return VectorFrame(2, progress=False)._config.index


def clustered_frame(ctx, index: str | None = None) -> tuple[float, VectorFrame]:
    """(build seconds, frame) of the clustered set with ``index`` ("annoy",
    "hnsw"; None: nbvec's default), built once per run and index kind."""
    index = index or default_index()

    def make():
        ds = clustered(ctx)
        ctx.log(f"  building the {ds.shape} clustered VectorFrame (index={index!r}) ...")
        return build_frame(ds, index=index, **frame_options(ctx))

    return ctx.fixture(f"clustered-frame-{index}", make)


def clustered_forest(ctx):
    """A raw annoy forest over the clustered set, same n_trees/seed/n_jobs as
    the annoy frame's index."""
    def make():
        _, vf = clustered_frame(ctx, "annoy")
        cfg = vf._config
        ctx.log(f"  building the raw annoy forest ({cfg.n_trees} trees) ...")
        return annoy_forest(clustered(ctx).unit_base, cfg.n_trees, cfg.seed, cfg.n_jobs)

    return ctx.fixture("clustered-forest", make)


# -- payload, and qdrant-client's local mode on the same points ------------------------
QDRANT_COLLECTION = "bench"
QDRANT_N = 100_000  # points loaded into qdrant-client's local mode in a full run


def clustered_payload(ctx) -> pd.DataFrame:
    """Payload of the clustered set, one row per point (seeded):

    - ``r``: integer 0..999 drawn independently of the vectors (``r < t``
      selects t/1000 of the points, scattered over every cluster);
    - ``cluster``: the point's cluster 0..999 (``cluster < c`` selects whole
      clusters, about c/1000 of the points);
    - ``doc``: keyword "d0".."d999" drawn independently (about 1,000 groups);
    - ``topic``: keyword "t0".."t19" = cluster mod 20 (20 big groups, each
      of whole clusters).
    """
    def make():
        ds = clustered(ctx)
        labels = ds.extra["labels"]
        rng = np.random.default_rng(datasets.SEED + 10)
        r = rng.integers(0, 1000, ds.n)
        doc = rng.integers(0, 1000, ds.n)
        return pd.DataFrame({"r": r, "cluster": labels,
                             "doc": pd.Series(doc).map("d{}".format).to_numpy(object),
                             "topic": pd.Series(labels % 20).map("t{}".format).to_numpy(object)})

    return ctx.fixture("clustered-payload", make)


def payload_frame(ctx) -> tuple[float, VectorFrame]:
    """(build seconds, frame) of the clustered set with :func:`clustered_payload`."""
    def make():
        ds = clustered(ctx)
        ctx.log(f"  building the {ds.shape} clustered VectorFrame with payload ...")
        return build_frame(ds, clustered_payload(ctx), **frame_options(ctx))

    return ctx.fixture("payload-frame", make)


def qdrant_n(ctx) -> int:
    return min(2_000 if ctx.quick else QDRANT_N, large_n(ctx))


def qdrant_records(ctx, n: int) -> list[dict]:
    """The first ``n`` payload rows as plain dicts (Python ints and strings)."""
    return clustered_payload(ctx).iloc[:n].to_dict("records")


def qdrant_local(ctx):
    """(load seconds, ``QdrantClient(":memory:")``) holding the first
    :func:`qdrant_n` clustered points with their payload in collection
    ``QDRANT_COLLECTION`` (Cosine, ids 0..n-1), upserted in batches of 1,000."""
    def make():
        from qdrant_client import QdrantClient
        from qdrant_client import models as qm

        ds, n = clustered(ctx), qdrant_n(ctx)
        ctx.log(f"  loading {n:,} points into qdrant-client's local mode ...")
        records = qdrant_records(ctx, n)
        qc = QdrantClient(":memory:")
        qc.create_collection(QDRANT_COLLECTION, vectors_config=qm.VectorParams(
            size=ds.d, distance=qm.Distance.COSINE))

        def load():
            for lo in range(0, n, 1000):
                hi = min(n, lo + 1000)
                qc.upsert(QDRANT_COLLECTION, points=qm.Batch(
                    ids=list(range(lo, hi)), vectors=ds.base[lo:hi].tolist(),
                    payloads=records[lo:hi]))

        with warnings.catch_warnings():  # "Local mode is not recommended for ... > 20,000 points"
            warnings.filterwarnings("ignore", "Local mode is not recommended", UserWarning)
            seconds, _ = time_once(load)
        return seconds, qc

    return ctx.fixture("qdrant-local", make)


def qdrant_frame(ctx) -> VectorFrame:
    """The nbvec frame compared with :func:`qdrant_local`: the same first
    ``qdrant_n`` points and payload (the payload frame itself when that is
    all of them)."""
    n = qdrant_n(ctx)
    if n == large_n(ctx):
        return payload_frame(ctx)[1]

    def make():
        ds = clustered(ctx)
        return build_frame(ds, clustered_payload(ctx), n=n, **frame_options(ctx))[1]

    return ctx.fixture("qdrant-frame", make)


# -- engine internals the benchmarks read ---------------------------------------
def sealed_segments(vf) -> list[dict]:
    """``vf.info()["segments"]`` entries that hold points."""
    return [s for s in vf.info()["segments"] if s["points"]]


def indexed_segment(vf, name: str = ""):
    """The engine segment of a one-segment frame (the one holding points and
    an index of vector ``name``: ``seg.indexes[name]``, ``seg.vectors[name]``,
    ``seg.ids``); an error when there is not exactly one."""
    segs = [s for s in vf._engine.segments if s.n > 0 and name in s.indexes]
    if len(segs) != 1:
        raise RuntimeError(f"expected one indexed segment, found {len(segs)}")
    return segs[0]


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

    How: the planner asks ``index.effort_for(k)``, which returns the
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


@contextmanager
def group_passes(vf):
    """Count how grouped searches on ``vf`` were answered: yields a dict whose
    ``searches`` counts the planner searches (the fetch-more rounds) and
    ``exact`` the exact grouped passes (``nbvec._groups._candidates_exact``)."""
    import nbvec._groups as groups

    counts = {"searches": 0, "exact": 0}
    engine, exact = vf._engine, groups._candidates_exact
    search = engine.search

    def counted_search(*args, **kwargs):
        counts["searches"] += 1
        return search(*args, **kwargs)

    def counted_exact(*args, **kwargs):
        counts["exact"] += 1
        return exact(*args, **kwargs)

    engine.search, groups._candidates_exact = counted_search, counted_exact
    try:
        yield counts
    finally:
        del engine.search
        groups._candidates_exact = exact


# -- the real set, the HNSW index, and Qdrant Edge ------------------------------
PYDOCS_QUICK_N, PYDOCS_QUICK_QUERIES = 10_000, 200


def pydocs(ctx):
    """pydocs-minilm (None when absent); quick runs take its first 10k points
    and 200 queries, with the exact neighbours recomputed over that subset."""
    def make():
        ds = datasets.pydocs_minilm()
        if ds is None or not ctx.quick:
            return ds
        base, queries = ds.base[:PYDOCS_QUICK_N], ds.queries[:PYDOCS_QUICK_QUERIES]
        return datasets.Dataset(f"{ds.name}-{PYDOCS_QUICK_N // 1000}k", base, queries,
                                datasets.exact_truth(base, queries),
                                f"{ds.description}; first {PYDOCS_QUICK_N:,} points (quick)")

    return ctx.fixture("pydocs", make)


def pydocs_frame(ctx, index: str | None = None) -> tuple[float, VectorFrame]:
    """(build seconds, frame) of :func:`pydocs` with ``index`` (None: nbvec's
    default), built once per run and index kind."""
    index = index or default_index()

    def make():
        ds = pydocs(ctx)
        ctx.log(f"  building the {ds.shape} pydocs-minilm VectorFrame (index={index!r}) ...")
        return build_frame(ds, index=index, **frame_options(ctx))

    return ctx.fixture(f"pydocs-frame-{index}", make)


def hnsw_unavailable() -> str | None:
    """None when ``VectorFrame(..., index="hnsw")`` is accepted, else the reason."""
    from nbvec import InvalidRequest

    try:
        VectorFrame(2, index="hnsw", progress=False)
    except (InvalidRequest, ValueError, TypeError, ImportError) as e:
        return f"`VectorFrame(..., index=\"hnsw\")` not available yet ({e})"
    return None


def edge_thresholds(ctx) -> dict:
    """Qdrant Edge's thresholds (KB): Qdrant's defaults, lowered in quick runs
    as nbvec's are (see the module docstring)."""
    if not ctx.quick:
        return {}
    return {"indexing_threshold": QUICK_THRESHOLDS["indexing_threshold"],
            "full_scan_threshold": QUICK_THRESHOLDS["full_scan_threshold"]}


def edge_shard(ctx, name: str, ds, payload=None, indexed=()):
    """(build seconds, :class:`bench.references.QdrantEdge`) over ``ds``, once
    per run: upsert in batches of 1,000, then ``optimize()`` (HNSW build)."""
    from .references import QdrantEdge

    def make():
        ref = QdrantEdge(payload, indexed, **edge_thresholds(ctx))
        what = f" (payload index on {', '.join(indexed)})" if indexed else ""
        ctx.log(f"  building a {ds.shape} Qdrant Edge shard of {name}{what} ...")
        seconds, _ = time_once(lambda: ref.build(ds.base))
        return seconds, ref

    return ctx.fixture(f"edge-{name}-{'-'.join(indexed) or 'plain'}", make)


EDGE_KEYS = ("r", "cluster")  # the payload the filtered-search case filters on


def clustered_edge(ctx, indexed: bool = False):
    """(build seconds, QdrantEdge) of the clustered set with payload ``r`` and
    ``cluster`` (:func:`clustered_payload`); ``indexed``: integer payload
    indexes on both, created before the points arrive."""
    payload = clustered_payload(ctx)[list(EDGE_KEYS)].to_dict("records")
    return edge_shard(ctx, "clustered", clustered(ctx), payload,
                      EDGE_KEYS if indexed else ())
