"""The HNSW index of one sealed segment's vector (hnswlib), with its ef calibration.

Built when a segment is sealed, with Qdrant's ``m`` and ``ef_construct``;
item label = segment row. hnswlib rather than voyager: on this machine kind
it answers 1.5-2.7x faster at equal ef and builds 2x faster on two cores
(it compiles with the CPU's own instructions, as annoy does).

Calibration of ``ef``: a seeded sample of the segment's points is kept *out*
of the graph while it is built; those held-out points are answered exactly
and through the graph over a grid of ef, the smallest ef whose recall@10
reaches ``target_recall + margin`` becomes the segment's default, and then
the held-out points are inserted. Unlike a stored point asked about itself
(whose graph links *are* its approximate neighbours), a held-out point
meets the graph as a real query does. If no affordable ef reaches the
target, the segment is marked for exact scans.

Distances: Cosine uses hnswlib's "cosine" space (inner product over the
stored normalized vectors; hnswlib normalizes each query itself, in float32,
so a query's components should stay above ~1e-19), Dot inner product, Euclid
squared L2; hnswlib has no Manhattan (``supports`` says so and the
optimizer builds annoy there). The graph's distances are turned into
Qdrant's scores (``query_scored``) for Cosine and Euclid, where they are as
precise as re-scoring the stored vectors; Dot's are re-scored. Builds use ``n_jobs`` threads: one thread
gives the same graph for the same seed; several threads are faster but the
graph depends on their timing.

>>> import numpy as np
>>> from nbvec._distance import metric_for
>>> x = np.random.default_rng(0).normal(size=(500, 8)).astype(np.float32)
>>> idx = HnswSegmentIndex.build(x, np.arange(500), metric_for("Euclid"), seed=1)
>>> int(idx.query(x[:1], 3, ef=20)[0, 0])
0
"""

from __future__ import annotations

import math
import os
from functools import partial

import hnswlib
import numpy as np

from ._calibration import Calibration, exact_positions, interpolate_effort, mean_recall
from ._costs import COSTS, CostModel
from ._distance import Metric
from .models import Distance

__all__ = ["HnswSegmentIndex"]

# hnswlib's "cosine" is its inner product on vectors and queries it normalizes
# itself (in C): a Cosine graph takes queries as given (``takes_raw_queries``).
_SPACES = {Distance.COSINE: "cosine", Distance.DOT: "ip", Distance.EUCLID: "l2"}
# the space a graph file declares: its distance, inner product over normalized
# vectors for Cosine ("ip", readable by every nbvec); "cosine" is read as well
_STORED_SPACES = {Distance.COSINE: ("ip", "cosine"), Distance.DOT: ("ip",), Distance.EUCLID: ("l2",)}
# The graph's float32 distance -> Qdrant's score, for the distances where it is
# as precise as re-scoring the stored vectors (Qdrant too returns its index's
# float32 scores): Cosine's unit vectors give 1 - dot, |dot| <= 1, so 1 - d
# rounds within ~6e-8 (the dot's own float32 error is ~1e-7 either way);
# Euclid's squared L2 is summed from differences, as a re-score does. Dot is
# left out: its scores have any scale, and 1 - d would drop the digits of small ones.
# Each must be finite exactly where d is (the lane checks the distances) and must
# not write into d (a table's distances are converted on first read, perhaps twice).
_ONE = np.float32(1)  # the same float32 bits as 1 - d, and no scalar conversion per call
# hnswlib's uint64 labels are viewed as rows through a dtype object: ~40 ns less a
# view than through the type np.int64
_ROWS = np.dtype(np.int64)
_SCORES = {Distance.COSINE: partial(np.subtract, _ONE), Distance.EUCLID: np.sqrt}
_UNFILTERED: dict = {}  # knn_query's options without a filter (never changed)
_EF_GROWTH = 1.4  # calibration grid: ef = k, 1.4k, 2k, 2.7k, ...
_CHUNKS = 20  # progress steps of a build


def _threads(n_jobs: int) -> int:
    return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)


class HnswSegmentIndex:
    """An hnswlib graph over some rows of a segment; label = segment row."""

    kind = "hnsw"
    effort_name = "ef"
    filterable = True  # query(allowed=...) traverses for allowed rows only
    recall_margin = 0.02  # default margin: a held-out calibration has sampling error only

    def __init__(self, graph, metric: Metric, dim: int, m: int, ef_construct: int,
                 n_items: int):
        self.graph = graph
        self.metric = metric
        self.dim = dim
        self.m = m
        self.ef_construct = ef_construct
        self.n_items = n_items
        self.calibration: Calibration | None = None
        self._ef = None  # the ef set on the graph (hnswlib keeps it as state)
        self.takes_raw_queries = metric.distance is Distance.COSINE
        self.to_score = _SCORES.get(metric.distance)  # distances -> scores; None: re-scored
        self.scores_itself = self.to_score is not None  # query_scored gives scores

    @staticmethod
    def supports(metric: Metric) -> bool:
        """hnswlib has inner product and L2, not L1."""
        return metric.distance in _SPACES

    @classmethod
    def create(cls, vectors, rows, metric: Metric, config, tick=None):
        """Build and calibrate as ``config`` (an EngineConfig) says: the
        calibration sample is held out of the graph, answered, then inserted.
        ``tick(units)`` reports progress, 100 units in all."""
        tick = tick or (lambda n: None)
        rng = np.random.default_rng(config.seed)
        n = len(rows)
        n_held = min(config.calibration_queries, n // 5) if n > 50 else 0
        held = np.zeros(n, dtype=bool)
        held[rng.choice(n, size=n_held, replace=False)] = True
        index = cls.build(vectors, rows[~held], metric, m=config.hnsw_m,
                          ef_construct=config.hnsw_ef_construct, seed=config.seed,
                          n_jobs=config.n_jobs, capacity=n, tick=lambda u: tick(u * 0.9))
        margin = config.recall_margin if config.recall_margin is not None else cls.recall_margin
        index.calibrate(vectors, rows[~held], rows[held],
                        target=min(1.0, config.target_recall + margin))
        if n_held:
            index.add(vectors, rows[held])
        tick(10)
        return index

    @classmethod
    def build(cls, vectors, rows, metric: Metric, *, m: int = 16, ef_construct: int = 100,
              seed: int = 0, n_jobs: int = -1, capacity: int | None = None, tick=None):
        """A graph over ``vectors[rows]`` (prepared vectors of a segment),
        room for ``capacity`` items (rows added later with :meth:`add`)."""
        dim = vectors.shape[1]
        graph = hnswlib.Index(space=_SPACES[metric.distance], dim=dim)
        graph.init_index(max_elements=max(capacity or len(rows), 1), M=m,
                         ef_construction=ef_construct, random_seed=seed)
        graph.set_num_threads(_threads(n_jobs))
        index = cls(graph, metric, dim, m, ef_construct, 0)
        step = max(1000, -(-len(rows) // _CHUNKS))
        for lo in range(0, len(rows), step):  # chunks: a progress bar that moves
            index.add(vectors, rows[lo: lo + step])
            if tick:
                tick(100 * min(step, len(rows) - lo) / max(len(rows), 1))
        return index

    def add(self, vectors, rows) -> None:
        """Insert ``vectors[rows]``, labelled by row."""
        if len(rows):
            self.graph.add_items(vectors[rows], rows)
            self.n_items += len(rows)

    def query(self, queries: np.ndarray, n: int, ef: int | None = None,
              allowed=None) -> np.ndarray:
        """Candidate rows (m, n) for each query, best first, searched with
        ``max(ef, n)``; -1 pads a query the graph leaves short.

        ``allowed``: a callable row -> bool (e.g. ``mask.tolist().__getitem__``);
        the graph is then traversed for the n nearest *allowed* rows
        (hnswlib's filter: every node is still a stepping stone, only allowed
        ones become results), on one thread, as the callable is Python."""
        return self._search(queries, n, ef, allowed)[0]

    def query_scored(self, queries: np.ndarray, n: int, ef: int | None = None):
        """(rows, scores): :meth:`query`'s candidates with the graph's own
        float32 scores, best first; scores None where they would be less
        precise than a re-score (Dot) or some query came back short."""
        rows, distances = self._search(queries, n, ef, None)
        if distances is None or self.to_score is None:
            return rows, None
        return rows, self.to_score(distances)

    def nearest_one(self, query: np.ndarray, n: int, ef: int | None = None):
        """(rows, distances) of one query (d,), best first: :meth:`query_scored`
        for the single-query path, without its 2-D round trip, its scores
        left as the graph's distances (``to_score`` converts them: the caller
        does, when they are read); distances None where the candidates are
        re-scored (Dot); None when the graph came back short. ``n`` is at
        most ``n_items``."""
        if ef is None or ef != self._ef or ef < n:  # unchanged: no call (the lane's ~1% each)
            self._set_ef(ef, n)
        try:
            labels, distances = self.graph.knn_query(query, n)
        except RuntimeError:
            return None
        return labels[0].view(_ROWS), None if self.to_score is None else distances[0]

    def _search(self, queries, n, ef, allowed):
        """(rows, distances); distances None when a query came back short."""
        n = min(n, self.n_items)
        if n == 0:
            return np.full((len(queries), 0), -1, dtype=np.int64), None
        self._set_ef(ef, n)
        options = _UNFILTERED if allowed is None else {"filter": allowed, "num_threads": 1}
        try:
            labels, distances = self.graph.knn_query(queries, n, **options)
        except RuntimeError:  # some query found fewer than n: answer them one by one
            return self._query_each(queries, n, options), None
        return labels.view(_ROWS), distances

    def _set_ef(self, ef: int | None, n: int) -> None:
        """Search at ``ef`` (at least ``n``; None: ``n``), set on the graph
        only when it changes (hnswlib keeps ef as graph state)."""
        ef = max(int(ef or n), n)
        if ef != self._ef:
            self.graph.set_ef(ef)
            self._ef = ef

    def _query_each(self, queries, n, options) -> np.ndarray:
        out = np.full((len(queries), n), -1, dtype=np.int64)
        for i in range(len(queries)):
            try:
                out[i] = self.graph.knn_query(queries[i: i + 1], n, **options)[0][0].view(_ROWS)
            except RuntimeError:
                pass  # left short: the search answers it exactly
        return out

    def size_bytes(self) -> int:
        """Approximate memory: vectors, level-0 links (2m) and labels per item."""
        return int(self.n_items * (self.dim * 4 + (2 * self.m + 1) * 4 + 8) * 1.07)

    def describe(self) -> dict:
        """Figures for ``info()``."""
        cal = self.calibration
        default = cal.default_search_k if cal else None
        return {"index": self.kind, "m": self.m, "ef_construct": self.ef_construct,
                "ef": default, "calibrated_recall": round(cal.predicted_recall(default), 4)
                if default else None}

    def cost(self, costs: CostModel, ef: int, k: int, d: int) -> float:
        """Per-query seconds at ``ef`` by the cost model ``costs``."""
        return costs.hnsw(ef, k, d, self.m)

    # -- calibration -------------------------------------------------------
    def calibrate(self, vectors, indexed_rows, query_rows, *, k: int = 10, target: float = 0.97):
        """Recall@k of the held-out ``query_rows`` over an ef grid against the
        exact top-k among ``indexed_rows``; choose the default ef."""
        k = max(1, min(k, len(indexed_rows)))
        cal = Calibration(k=k, target=target, method="held-out")
        self.calibration = cal
        if len(query_rows) == 0:  # too few points to hold any out: ef = k (n is tiny)
            cal.search_ks, cal.recalls, cal.default_search_k = [k], [1.0], k
            cal.method = "none"
            return cal
        queries = vectors[query_rows]
        truth = indexed_rows[exact_positions(self.metric, queries, vectors[indexed_rows], k)]
        exact_cost = COSTS.exact(len(indexed_rows), self.dim)
        ef = k
        while True:
            recall = mean_recall(self.query(queries, k, ef), truth, k)
            cal.search_ks.append(ef)
            cal.recalls.append(recall)
            if recall >= target and cal.default_search_k is None:
                cal.default_search_k = interpolate_effort(cal, target)
            too_costly = COSTS.hnsw(ef, k, self.dim, self.m) > 2 * exact_cost
            if recall >= 0.999 or too_costly or ef >= len(indexed_rows):
                break
            if cal.default_search_k is not None and recall >= min(0.995, target + 0.01):
                break
            ef = int(np.ceil(ef * _EF_GROWTH))
        return cal

    def effort_for(self, k: int, hnsw_ef: int | None = None) -> int | None:
        """ef for ``k`` results: ``hnsw_ef`` when given, else the calibrated
        default scaled by k/10 (ef >= k always). None when the calibration
        found no affordable ef."""
        if hnsw_ef is not None:
            return max(int(hnsw_ef), k)
        cal = self.calibration
        if cal is None or cal.default_search_k is None:
            return None
        if k <= cal.k:
            return max(k, cal.default_search_k)
        return math.ceil(cal.default_search_k * k / cal.k)

    # -- persistence ---------------------------------------------------------
    def save_files(self, folder, stem: str) -> dict:
        """Write the graph to ``folder/<stem>.hnsw`` (hnswlib's own format,
        temporary name, fsync, rename) and return the JSON metadata
        :meth:`load_files` reads back."""
        from dataclasses import asdict
        from pathlib import Path

        from ._storage._fileio import write_by_name

        path = Path(folder) / f"{stem}.hnsw"
        write_by_name(path, self.graph.save_index)
        cal = self.calibration
        return {"kind": self.kind, "file": path.name, "bytes": path.stat().st_size,
                "dim": self.dim, "m": self.m, "ef_construct": self.ef_construct,
                "n_items": self.n_items, "space": _STORED_SPACES[self.metric.distance][0],
                "calibration": asdict(cal) if cal is not None else None}

    @classmethod
    def load_files(cls, folder, meta: dict, metric: Metric, vectors=None):
        """The index :meth:`save_files` wrote (read into memory: hnswlib has
        no memory map). StorageCorrupted names the file if it is missing,
        truncated or not a matching hnswlib graph."""
        from pathlib import Path

        from ._errors import StorageCorrupted

        path = Path(folder) / meta["file"]
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise StorageCorrupted(f"{path}: missing HNSW index file ({exc})") from None
        if size != meta["bytes"]:
            raise StorageCorrupted(f"{path}: {size} bytes, expected {meta['bytes']} (truncated "
                                   "or replaced HNSW index)")
        if meta.get("space") not in _STORED_SPACES.get(metric.distance, ()):
            raise StorageCorrupted(f"{path}: an HNSW index for space {meta.get('space')!r}, "
                                   f"but the vector's distance is {metric.distance.value}")
        graph = hnswlib.Index(space=_SPACES[metric.distance], dim=int(meta["dim"]))
        try:
            graph.load_index(str(path), max_elements=int(meta["n_items"]))
        except (RuntimeError, ValueError) as exc:
            raise StorageCorrupted(f"{path}: not a readable HNSW index ({exc})") from None
        if graph.get_current_count() != meta["n_items"] or graph.dim != meta["dim"]:
            raise StorageCorrupted(f"{path}: {graph.get_current_count()} items of dimension "
                                   f"{graph.dim}, expected {meta['n_items']} of {meta['dim']}")
        graph.set_num_threads(_threads(-1))
        index = cls(graph, metric, int(meta["dim"]), int(meta["m"]), int(meta["ef_construct"]),
                    int(meta["n_items"]))
        if meta.get("calibration") is not None:
            index.calibration = Calibration(**meta["calibration"])
        return index
