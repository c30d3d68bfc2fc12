"""The ANN libraries a user would pick instead of nbvec, each wrapped the same
way: ``build`` over one data set, then ``run(param, queries)`` answers one
query per call (as a user's loop does) at one setting of the library's
speed/recall knob (annoy search_k, HNSW ef, IVF nprobe).

Every reference holds one index over all points: the cases compare them with
an nbvec frame that holds one segment (checked there). HNSW libraries use
Qdrant's and nbvec's defaults, M = 16 and ef_construction = 100; raw
libraries index the normalized vectors (inner product = cosine), Qdrant Edge
gets the raw vectors with Distance.Cosine (it normalizes, as nbvec does).

:class:`AnnoyOnNbvec` and :class:`HnswOnNbvec` call the raw library on the
index *inside* an nbvec frame's one indexed segment instead, and add the
*floor* wrapper; :func:`same_index` times them against nbvec (the
index-vs-raw targets).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(300, 8)).astype(np.float32)
>>> ref = Hnswlib()
>>> ref.build(x)
>>> ids = ref.run(32, ref.prepare(x[:2]), 3)
>>> [row[0] for row in ids]
[0, 1]
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from .baselines import annoy_forest
from .datasets import unit_rows
from .runner import Target, interleave

__all__ = ["Reference", "NumpyExact", "FaissFlat", "Annoy", "Hnswlib", "Voyager", "FaissHnsw",
           "FaissIvf", "QdrantEdge", "edge_available", "version", "RAW_REFERENCES",
           "AnnoyOnNbvec", "HnswOnNbvec", "SameIndex", "same_index", "SINGLE", "BATCHED"]

HNSW_M, HNSW_EF_CONSTRUCT = 16, 100


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


class Reference:
    """One contestant: ``build(base)``, ``prepare(queries)`` (per-query inputs
    in the library's fast form, made outside any timing), ``run(p, qs, k)``
    (``p`` None: the library's default setting)."""

    name = ""
    param = ""  # the knob run() sweeps; "" for exact methods
    package = ""  # distribution name, for the version note

    def build(self, base: np.ndarray) -> None:
        raise NotImplementedError

    def prepare(self, queries: np.ndarray) -> list:
        return list(unit_rows(queries)[:, None, :])

    def run(self, p, queries: list, k: int) -> list:
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name} ({self.package} {version(self.package)})"


class NumpyExact(Reference):
    """Exact brute force: normalized matrix @ query, argpartition, sort; on
    ``threads`` BLAS threads (None: the BLAS default). One thread is the fair
    reference for single-query libraries, and steadier: two-thread BLAS calls
    compete with whatever thread pool the previous contestant left spinning."""

    name, package = "numpy exact", "numpy"

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def build(self, base):
        self.xb = unit_rows(base)

    def prepare(self, queries):
        return list(unit_rows(queries))

    def run(self, p, queries, k):
        from threadpoolctl import threadpool_limits

        xb, out = self.xb, []
        with threadpool_limits(self.threads, user_api="blas"):
            for q in queries:
                s = xb @ q
                top = np.argpartition(-s, k)[:k]
                out.append(top[np.argsort(-s[top])].tolist())
        return out

    def describe(self):
        threads = "BLAS default threads" if self.threads is None else f"{self.threads} BLAS thread"
        return f"{super().describe()}, {threads}"


def _faiss_one_thread():
    """Single-query calls run faiss on one OpenMP thread: waking a second one
    costs more than it saves on one query (measured: 0.78 vs 0.47 ms, flat 20k)."""
    import faiss

    faiss.omp_set_num_threads(1)


class FaissFlat(Reference):
    """faiss ``IndexFlatIP``: exact brute force in C++."""

    name, package = "faiss Flat (exact)", "faiss-cpu"

    def build(self, base):
        import faiss

        xb = unit_rows(base)
        self.index = faiss.IndexFlatIP(xb.shape[1])
        self.index.add(xb)

    def run(self, p, queries, k):
        _faiss_one_thread()
        search = self.index.search
        return [search(q, k)[1][0].tolist() for q in queries]


class Annoy(Reference):
    """Raw annoy, angular, 50 trees (nbvec's default), all cores for the build."""

    name, param, package = "annoy", "search_k", "annoy"

    def __init__(self, n_trees: int = 50, seed: int = 0, n_jobs: int = -1):
        self.n_trees, self.seed, self.n_jobs = n_trees, seed, n_jobs

    def build(self, base):
        self.index = annoy_forest(unit_rows(base), self.n_trees, self.seed, self.n_jobs)

    def prepare(self, queries):
        return unit_rows(queries).tolist()  # annoy's fast input is a Python list

    def run(self, p, queries, k):
        get, search_k = self.index.get_nns_by_vector, -1 if p is None else int(p)
        return [get(q, k, search_k) for q in queries]


class Hnswlib(Reference):
    """hnswlib, inner product over normalized vectors, M 16, ef_construction 100."""

    name, param, package = "hnswlib", "ef", "hnswlib"

    def build(self, base):
        import hnswlib

        xb = unit_rows(base)
        self.index = hnswlib.Index(space="ip", dim=xb.shape[1])
        self.index.init_index(max_elements=len(xb), M=HNSW_M, ef_construction=HNSW_EF_CONSTRUCT,
                              random_seed=0)
        self.index.add_items(xb, np.arange(len(xb)))

    def run(self, p, queries, k):
        self.index.set_ef(max(10 if p is None else int(p), k))  # hnswlib's default ef: 10
        knn = self.index.knn_query
        return [knn(q, k)[0][0].tolist() for q in queries]


class Voyager(Reference):
    """Spotify's voyager (hnswlib's successor), cosine, M 16, ef_construction 100."""

    name, param, package = "voyager", "ef", "voyager"

    def build(self, base):
        import voyager

        xb = unit_rows(base)
        self.index = voyager.Index(voyager.Space.Cosine, num_dimensions=xb.shape[1], M=HNSW_M,
                                   ef_construction=HNSW_EF_CONSTRUCT, random_seed=1)
        self.index.add_items(xb, list(range(len(xb))))

    def prepare(self, queries):
        return list(unit_rows(queries))

    def run(self, p, queries, k):
        query, ef = self.index.query, -1 if p is None else max(int(p), k)
        return [query(q, k, query_ef=ef)[0].tolist() for q in queries]


class FaissHnsw(Reference):
    """faiss ``IndexHNSWFlat``, inner product, M 16, efConstruction 100."""

    name, param, package = "faiss HNSW", "ef", "faiss-cpu"

    def build(self, base):
        import faiss

        faiss.omp_set_num_threads(_cores())  # the build uses every core
        xb = unit_rows(base)
        self.index = faiss.IndexHNSWFlat(xb.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = HNSW_EF_CONSTRUCT
        self.index.add(xb)

    def run(self, p, queries, k):
        _faiss_one_thread()
        self.index.hnsw.efSearch = max(16 if p is None else int(p), k)  # faiss's default: 16
        search = self.index.search
        return [search(q, k)[1][0].tolist() for q in queries]


class FaissIvf(Reference):
    """faiss ``IndexIVFFlat`` over an ``IndexFlatIP`` quantizer, nlist = 4 sqrt(n)
    trained on every point (k-means, seeded)."""

    name, param, package = "faiss IVF", "nprobe", "faiss-cpu"

    def build(self, base):
        import faiss

        faiss.omp_set_num_threads(_cores())  # training uses every core
        xb = unit_rows(base)
        self.nlist = int(4 * np.sqrt(len(xb)))
        quantizer = faiss.IndexFlatIP(xb.shape[1])
        self.index = faiss.IndexIVFFlat(quantizer, xb.shape[1], self.nlist,
                                        faiss.METRIC_INNER_PRODUCT)
        self.index.cp.seed = 0
        self.index.train(xb)
        self.index.add(xb)
        self._quantizer = quantizer  # the index does not own it

    def run(self, p, queries, k):
        _faiss_one_thread()
        self.index.nprobe = int(p)
        search = self.index.search
        return [search(q, k)[1][0].tolist() for q in queries]

    def describe(self):
        return f"{super().describe()}, nlist {self.nlist}"


def edge_available() -> str | None:
    """None when Qdrant Edge imports, else why not."""
    try:
        import qdrant_edge  # noqa: F401
    except ImportError as e:
        return f"qdrant-edge-py is not installed ({e})"
    return None


class QdrantEdge(Reference):
    """Qdrant Edge (``qdrant-edge-py``): Qdrant's engine in-process, one shard in
    a temporary directory, Cosine, HNSW m 16, ef_construct 100 (Qdrant's
    defaults). ``payload``: one dict per point; ``indexed``: integer payload
    keys indexed *before* the points arrive (so the HNSW graph gets Qdrant's
    payload-aware links, as Qdrant recommends). ``optimize()`` builds the
    index synchronously; below ``indexing_threshold`` KB the shard stays a
    plain segment, and a segment under ``full_scan_threshold`` KB is searched
    exactly even when indexed (Qdrant's rules; quick runs lower both as they
    do nbvec's)."""

    name, param, package = "Qdrant Edge", "ef", "qdrant-edge-py"

    def __init__(self, payload: list | None = None, indexed: tuple = (),
                 indexing_threshold: int | None = None, full_scan_threshold: int = 10_000):
        self.payload, self.indexed = payload, tuple(indexed)
        self.indexing_threshold = indexing_threshold
        self.full_scan_threshold = full_scan_threshold

    def build(self, base):
        import qdrant_edge as qe

        self.path = tempfile.mkdtemp(prefix="nbvec-bench-edge-")
        atexit.register(shutil.rmtree, self.path, True)
        cfg = qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=base.shape[1], distance=qe.Distance.Cosine),
            hnsw_config=qe.HnswIndexConfig(m=HNSW_M, ef_construct=HNSW_EF_CONSTRUCT,
                                           full_scan_threshold=self.full_scan_threshold),
            optimizers=qe.EdgeOptimizersConfig(indexing_threshold=self.indexing_threshold))
        self.shard = shard = qe.EdgeShard.create(self.path, cfg)
        for key in self.indexed:
            shard.update(qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Integer))
        payload = self.payload or [None] * len(base)
        for lo in range(0, len(base), 1000):
            rows = base[lo : lo + 1000].tolist()
            shard.update(qe.UpdateOperation.upsert_points(
                [qe.Point(lo + i, v, payload[lo + i]) for i, v in enumerate(rows)]))
        shard.optimize()
        self.info = shard.info()

    def prepare(self, queries):
        return np.asarray(queries, np.float32).tolist()

    def run(self, p, queries, k, filter=None):
        import qdrant_edge as qe

        params = qe.SearchParams(exact=True) if p == "exact" else \
            qe.SearchParams(hnsw_ef=int(p)) if p else None
        query, request, nearest = self.shard.query, qe.QueryRequest, qe.Query.Nearest
        return [[pt.id for pt in query(request(limit=k, query=nearest(q), params=params,
                                                filter=filter))] for q in queries]

    def describe(self):
        i = self.info
        return (f"{super().describe()}: {i.points_count:,} points, {i.segments_count} segments, "
                f"{i.indexed_vectors_count:,} vectors HNSW-indexed")

    def close(self):
        self.shard.close()
        shutil.rmtree(self.path, ignore_errors=True)


# The raw references of the recall/QPS curves, in table order.
RAW_REFERENCES = (Annoy, Hnswlib, Voyager, FaissHnsw, FaissIvf)


# -- raw calls on nbvec's own index, and the floor of any wrapper -------------------------
class _OnNbvec:
    """The raw library called on the index inside nbvec's one indexed segment
    (``seg.indexes[name]``) at one effort (:meth:`at`), and the *floor*: the
    least a plain-Python wrapper returning exact results does around it -
    normalize the query, call the raw index, re-score the candidates exactly
    from its own copy of the vectors (``V[rows] @ q``), sort, map rows to ids.

    Subclasses give ``raw`` (a loop of single-query calls over normalized
    queries, as a user writes it), ``raw_batch`` (a batch of them), and the
    candidate rows of both as int arrays (``rows``, ``batch_rows``)."""

    def __init__(self, seg, name: str = ""):
        self.index = seg.indexes[name]
        self.vectors = np.array(seg.vectors[name][: seg.n])  # a copy: the floor's own
        self.ids = seg.ids[: seg.n]
        self.effort = None

    def at(self, effort: int):
        self.effort = int(effort)
        return self

    def floor(self, q: np.ndarray, k: int) -> tuple[list, np.ndarray]:
        """(ids, scores) of one query, best first."""
        q = q / np.sqrt(q @ q)
        rows = self.rows(q, k)
        s = self.vectors[rows] @ q
        order = np.argsort(-s)
        return self.ids[rows[order]].tolist(), s[order]

    def floor_batch(self, queries: np.ndarray, k: int) -> tuple[list, np.ndarray]:
        """(ids, scores) of a batch of queries, one list and row per query."""
        queries = unit_rows(queries)
        rows = self.batch_rows(queries, k)
        s = (self.vectors[rows] @ queries[:, :, None])[:, :, 0]
        order = np.argsort(-s, axis=1)
        rows, s = np.take_along_axis(rows, order, 1), np.take_along_axis(s, order, 1)
        return self.ids[rows].tolist(), s


class AnnoyOnNbvec(_OnNbvec):
    """Raw annoy on nbvec's own forest (``AnnoySegmentIndex.forest``) at
    ``search_k``; annoy has no batch call, so a batch is a loop."""

    def raw(self, unit_queries, k):
        get, sk = self.index.forest.get_nns_by_vector, self.effort
        return [get(q.tolist(), k, sk) for q in unit_queries]

    def raw_batch(self, unit_queries, k):
        get, sk = self.index.forest.get_nns_by_vector, self.effort
        return [get(q, k, sk) for q in unit_queries.tolist()]

    def rows(self, q, k):
        return np.array(self.index.forest.get_nns_by_vector(q.tolist(), k, self.effort))

    def batch_rows(self, queries, k):
        return np.array(self.raw_batch(queries, k))


class HnswOnNbvec(_OnNbvec):
    """Raw hnswlib on nbvec's own graph (``HnswSegmentIndex.graph``) at ``ef``;
    a batch is one ``knn_query`` (hnswlib's own, on the graph's threads)."""

    def at(self, effort: int):
        # hnswlib keeps ef as graph state and nbvec caches what it last set
        # (``_ef``): forget it, so that nbvec sets its own ef again if it differs
        self.index.graph.set_ef(int(effort))
        self.index._ef = None
        return super().at(effort)

    def raw(self, unit_queries, k):
        knn = self.index.graph.knn_query
        return [knn(q, k) for q in unit_queries]

    def raw_batch(self, unit_queries, k):
        return self.index.graph.knn_query(unit_queries, k)

    def rows(self, q, k):
        return self.index.graph.knn_query(q, k)[0][0].view(np.int64)

    def batch_rows(self, queries, k):
        return self.index.graph.knn_query(queries, k)[0].view(np.int64)


BATCH = 100
SINGLE, BATCHED = "1 query", f"batch of {BATCH}"  # the modes, as table cells
# Rounds of a same-index comparison, at least: one is ~20 ms, and the ratio
# decides a 1.3x target a few percent away (three runs of one code at ef 16:
# 1.26-1.33x with 7 rounds, 1.30-1.31x with 31)
SAME_INDEX_ROUNDS = 31


def same_index_rounds(repeat: int) -> int:
    """The rounds :func:`same_index` times: ``repeat``, at least ``SAME_INDEX_ROUNDS``."""
    return max(repeat, SAME_INDEX_ROUNDS)


@dataclass
class SameIndex:
    """nbvec, the raw library and the floor on one index at one effort:
    ``timings[mode]`` (seconds per query; names "raw", "floor", "nbvec" and
    any extras) and ``differ[mode]`` ({"nbvec": n, "floor": n}: queries whose
    result ids are not exactly the raw call's candidates) over ``n`` queries."""

    timings: dict
    differ: dict
    n: int

    def ratio(self, mode: str, name: str) -> float:
        return self.timings[mode].ratio(name, "raw")

    def candidates(self, mode: str) -> str:
        """The identity check, as a table cell."""
        bad = {k: v for k, v in self.differ[mode].items() if v}
        if not bad:
            return f"identical ({self.n} of {self.n})"
        return "; ".join(f"{k} differs on {v} of {self.n}" for k, v in bad.items())

    def identical(self, mode: str) -> bool:
        return not any(self.differ[mode].values())

    def targets(self, path: str, setting: str) -> list[Target]:
        """The <= 1.3x index-vs-raw targets, single queries and batches:
        "``path`` (``setting``, single query)"; differing candidates are named."""
        out = []
        for mode, what in ((SINGLE, "single query"), (BATCHED, BATCHED)):
            caveat = "" if self.identical(mode) else f"; candidates: {self.candidates(mode)}"
            out.append(Target(f"{path} ({setting}, {what}{caveat})", self.ratio(mode, "nbvec"),
                              "<=", 1.3, "x", goal="index-vs-raw"))
        return out


def _id_sets(lists) -> list:
    return [set(ids) for ids in lists]


def same_index(own: _OnNbvec, queries: np.ndarray, nbvec: Callable, k: int, repeat: int,
               extra: dict | None = None) -> SameIndex:
    """Time ``nbvec`` (``nbvec(x)``: a Results for a 1-D query, a list of them
    for a 2-D batch) against ``own``'s raw calls and floor at its effort,
    interleaved: single-query calls over ``queries``, then the same queries
    in batches of 100; ``extra`` callables join the single-query round.
    Pass ``nbvec`` as a ``functools.partial`` of the method, not a lambda:
    the raw calls are bound methods called directly, and a lambda would add
    a Python frame (~1% of a 20 us query) on nbvec's side alone.
    nbvec's timed calls read each answer's ids (``Results.ids``: the raw
    calls return row labels; nbvec's ScoredPoints are made on first read of
    the points, which the raw libraries have no counterpart of).
    First checks that every contestant returns exactly the raw candidates.
    :func:`same_index_rounds` rounds."""
    qs = list(np.asarray(queries, np.float32))
    unit = unit_rows(queries)
    chunks = [slice(lo, lo + BATCH) for lo in range(0, len(qs), BATCH)]
    batches = [np.asarray(queries[c], np.float32) for c in chunks]
    unit_batches = [unit[c] for c in chunks]
    raw = _id_sets(own.ids[own.rows(q, k)].tolist() for q in unit)
    found = {
        SINGLE: {"nbvec": _id_sets([p.id for p in nbvec(q)] for q in qs),
                    "floor": _id_sets(own.floor(q, k)[0] for q in qs)},
        BATCHED: {
            "nbvec": _id_sets([p.id for p in r] for b in batches for r in nbvec(b)),
            "floor": _id_sets(ids for b in batches for ids in own.floor_batch(b, k)[0]),
            "raw": _id_sets(ids for u in unit_batches
                            for ids in own.ids[own.batch_rows(u, k)].tolist())}}
    differ = {mode: {name: sum(a != b for a, b in zip(sets, raw)) for name, sets in by.items()}
              for mode, by in found.items()}
    repeat = same_index_rounds(repeat)
    single = interleave({"raw": lambda: own.raw(unit, k),
                         "floor": lambda: [own.floor(q, k) for q in qs],
                         "nbvec": lambda: [nbvec(q).ids for q in qs], **(extra or {})},
                        repeat, per=len(qs))
    batched = interleave({"raw": lambda: [own.raw_batch(u, k) for u in unit_batches],
                          "floor": lambda: [own.floor_batch(b, k) for b in batches],
                          "nbvec": lambda: [[r.ids for r in nbvec(b)] for b in batches]},
                         repeat, per=len(qs))
    return SameIndex({SINGLE: single, BATCHED: batched}, differ, len(qs))
