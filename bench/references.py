"""The ANN libraries a user would pick instead of nbvec, each wrapped the same
way: ``build`` over one data set, then ``run(param, queries)`` answers one
query per call (as a user's loop does) at one setting of the library's
speed/recall knob (annoy search_k, HNSW ef, IVF nprobe).

Every reference holds one index over all points: the cases compare them with
an nbvec frame that holds one segment (checked there). HNSW libraries use
Qdrant's and nbvec's defaults, M = 16 and ef_construction = 100; raw
libraries index the normalized vectors (inner product = cosine), Qdrant Edge
gets the raw vectors with Distance.Cosine (it normalizes, as nbvec does).

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
from importlib import metadata

import numpy as np

from .baselines import annoy_forest
from .datasets import unit_rows

__all__ = ["Reference", "NumpyExact", "FaissFlat", "Annoy", "Hnswlib", "Voyager", "FaissHnsw",
           "FaissIvf", "QdrantEdge", "edge_available", "version", "RAW_REFERENCES"]

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
