"""The annoy index of one sealed segment's vector, with its calibration.

Annoy's default ``search_k`` (k * n_trees) gives recall@10 of 0.02-0.63 on
uniform and real text data. So when a segment is sealed, the index is
*calibrated*: sampled stored points, each left out of its own answer (never
the point itself as its own neighbour), are answered exactly and through
annoy over a grid of search_k, and the smallest search_k whose recall@10
reaches ``target_recall + margin`` is the segment's default. If no
affordable search_k gets there, the segment is marked for exact scans.
Everything is seeded: a re-run notebook builds the same trees and picks the
same search_k.

>>> import numpy as np
>>> from nbvec._distance import metric_for
>>> x = np.random.default_rng(0).normal(size=(500, 8)).astype(np.float32)
>>> idx = AnnoySegmentIndex.build(x, np.arange(500), metric_for("Euclid"), n_trees=5, seed=1)
>>> int(idx.query(x[:1], 3)[0, 0])
0
"""

from __future__ import annotations

import annoy
import numpy as np

from ._calibration import Calibration, exact_positions, interpolate_effort, mean_recall
from ._costs import COSTS, CostModel
from ._distance import Metric

__all__ = ["AnnoySegmentIndex", "Calibration", "CostModel", "COSTS"]


def _annoy_search_k(search_k: int | None) -> int:
    """annoy's search_k for ``search_k`` (None: annoy's own default, -1)."""
    return -1 if search_k is None else int(search_k)


class AnnoySegmentIndex:
    """An annoy forest over some rows of a segment; item id = segment row."""

    kind = "annoy"
    effort_name = "search_k"
    filterable = False  # annoy cannot skip rows: filters are applied to its candidates
    takes_raw_queries = False  # queries come prepared (normalized for Cosine)
    scores_itself = False  # candidates are re-scored from the stored vectors
    to_score = None  # its distances are not Qdrant's scores: nothing to convert
    recall_margin = 0.02  # leave-one-out ran <= 0.006 optimistic near 0.95-0.98 (measured)

    def __init__(self, forest, metric: Metric, dim: int, n_trees: int, n_items: int):
        self.forest = forest
        self.metric = metric
        self.dim = dim
        self.n_trees = n_trees
        self.n_items = n_items
        self.calibration: Calibration | None = None

    @staticmethod
    def supports(metric: Metric) -> bool:
        """annoy has every distance nbvec has."""
        return True

    @classmethod
    def create(cls, vectors, rows, metric: Metric, config, tick=None):
        """Build and calibrate as ``config`` (an EngineConfig) says;
        ``tick(units)`` reports progress, 100 units in all."""
        tick = tick or (lambda n: None)
        index = cls.build(vectors, rows, metric, config.n_trees, seed=config.seed,
                          n_jobs=config.n_jobs)
        tick(60)
        margin = config.recall_margin if config.recall_margin is not None else cls.recall_margin
        index.calibrate(vectors, rows, n_queries=config.calibration_queries,
                        target=min(1.0, config.target_recall + margin), seed=config.seed)
        tick(40)
        return index

    @classmethod
    def build(cls, vectors, rows, metric: Metric, n_trees: int, seed: int, n_jobs: int = -1):
        """Index ``vectors[rows]`` (prepared vectors of a segment)."""
        dim = vectors.shape[1]
        forest = annoy.AnnoyIndex(dim, metric.annoy_metric)
        forest.set_seed(seed)
        add = forest.add_item
        for row, vec in zip(rows.tolist(), vectors[rows].tolist()):  # annoy's only input path
            add(row, vec)
        forest.build(n_trees, n_jobs=n_jobs)
        return cls(forest, metric, dim, n_trees, len(rows))

    def query(self, queries: np.ndarray, n: int, search_k: int | None = None) -> np.ndarray:
        """Candidate rows (m, n) for each query, annoy's order; -1 pads a
        query annoy leaves short."""
        get, sk = self.forest.get_nns_by_vector, _annoy_search_k(search_k)
        found = [get(q, n, sk) for q in queries.tolist()]
        if len(found) == 1 and len(found[0]) == n:
            return np.array(found, dtype=np.int64)
        return padded(found, n)

    def nearest_one(self, query: np.ndarray, n: int, search_k: int | None = None):
        """(rows, None) of one prepared query (d,): annoy's n candidates, to
        be re-scored; None when annoy came back short."""
        found = self.forest.get_nns_by_vector(query.tolist(), n, _annoy_search_k(search_k))
        return None if len(found) < n else (np.array(found, dtype=np.int64), None)

    def query_scored(self, queries: np.ndarray, n: int, search_k: int | None = None):
        """(rows, None): annoy's distances are not Qdrant's scores (angular is
        sqrt(2 - 2 cos), and float32-rounded): its candidates are re-scored."""
        return self.query(queries, n, search_k), None

    def size_bytes(self) -> int:
        """Approximate memory of the forest (annoy stores ~ items*(d+ overhead) + trees)."""
        return int(self.n_items * (self.dim * 4 + 16) * (1 + self.n_trees / max(self.dim, 1) / 2))

    def describe(self) -> dict:
        """Figures for ``info()``."""
        cal = self.calibration
        default = cal.default_search_k if cal else None
        return {"index": self.kind, "n_trees": self.n_trees, "search_k": default,
                "calibrated_recall": round(cal.predicted_recall(default), 4)
                if default else None}

    def cost(self, costs: CostModel, search_k: int, k: int, d: int) -> float:
        """Per-query seconds at ``search_k`` by the cost model ``costs``."""
        return costs.annoy(search_k, k, d)

    # -- calibration -------------------------------------------------------
    def calibrate(self, vectors, rows, *, k=10, n_queries=100, target=0.97, seed=0):
        """Measure recall@k over a search_k grid; choose the default search_k.

        The queries are sampled stored points, each left out of its own
        answer (asked for k + 1, the point itself dropped from both annoy's
        answer and the exact one). Measured here against real held-out
        queries, it runs at most ~0.006 optimistic near recall 0.95-0.98 on
        clustered data and on real text embeddings (more at low recall);
        the recall margin (0.02) covers that and the sampling error.
        """
        rng = np.random.default_rng(seed)
        data = vectors[rows]
        n = len(rows)
        k = min(k, n - 1) if n > 1 else n
        left_out = rng.choice(n, size=min(n_queries, n), replace=False)
        own = data[left_out]
        truth = rows[exact_positions(self.metric, own, data, k + 1)]
        own_rows = rows[left_out]
        cal = Calibration(k=k, target=target)
        exact_cost = COSTS.exact(n, self.dim)
        search_k = k * self.n_trees
        while True:
            found = self.query(own, k + 1, search_k)
            recall = mean_recall(found, truth, k, exclude=own_rows)
            cal.search_ks.append(search_k)
            cal.recalls.append(recall)
            if recall >= target and cal.default_search_k is None:
                cal.default_search_k = interpolate_effort(cal, target)
            too_costly = COSTS.annoy(search_k, k, self.dim) > 2 * exact_cost
            if recall >= 0.999 or too_costly or search_k >= 8 * n:
                break
            if cal.default_search_k is not None and recall >= min(0.995, target + 0.01):
                break
            search_k *= 2
        self.calibration = cal
        return cal

    def effort_for(self, k: int, hnsw_ef: int | None = None) -> int | None:
        """search_k for ``k`` results: the calibrated default scaled by k/10,
        or, with ``hnsw_ef``, ``ef / 100`` of it (Qdrant's default ef is 100).
        None when the calibration found no affordable search_k."""
        cal = self.calibration
        if cal is None or cal.default_search_k is None:
            if hnsw_ef is None:
                return None
            return max(hnsw_ef, k) * self.n_trees
        base = cal.default_search_k * max(1.0, k / cal.k)
        if hnsw_ef is not None:
            base *= max(hnsw_ef, k) / 100
        return int(max(base, k * self.n_trees))

    # -- persistence (nbvec._storage) ----------------------------------------
    def save_files(self, folder, stem: str) -> dict:
        """Write the forest to ``folder/<stem>.ann`` (temporary name, fsync,
        rename) and return the JSON metadata :meth:`load_files` reads back.
        Annoy memory-maps the written file from then on."""
        from dataclasses import asdict
        from pathlib import Path

        from ._storage._fileio import write_by_name

        path = Path(folder) / f"{stem}.ann"
        write_by_name(path, self.forest.save)
        cal = self.calibration
        return {"kind": "annoy", "file": path.name, "bytes": path.stat().st_size,
                "dim": self.dim, "n_trees": self.n_trees, "n_items": self.n_items,
                "calibration": asdict(cal) if cal is not None else None}

    @classmethod
    def load_files(cls, folder, meta: dict, metric: Metric, vectors=None):
        """The index :meth:`save_files` wrote, memory-mapped by annoy (which
        then refuses new items: fine for a sealed segment). StorageCorrupted
        names the file if it is missing, truncated or not annoy's."""
        from pathlib import Path

        from ._errors import StorageCorrupted

        path = Path(folder) / meta["file"]
        size = path.stat().st_size
        if size != meta["bytes"]:
            raise StorageCorrupted(f"{path}: {size} bytes, expected {meta['bytes']} (truncated "
                                   "or replaced annoy index)")
        forest = annoy.AnnoyIndex(int(meta["dim"]), metric.annoy_metric)
        try:
            forest.load(str(path))
        except OSError as exc:
            raise StorageCorrupted(f"{path}: not a readable annoy index ({exc})") from None
        index = cls(forest, metric, int(meta["dim"]), int(meta["n_trees"]), int(meta["n_items"]))
        if meta.get("calibration") is not None:
            index.calibration = Calibration(**meta["calibration"])
        return index


def padded(found: list, n: int) -> np.ndarray:
    """Lists of candidate rows as an (m, n) int64 array, -1 where short."""
    lengths = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
    if len(found) and (lengths == n).all():
        return np.array(found, dtype=np.int64).reshape(len(found), n)
    out = np.full((len(found), n), -1, dtype=np.int64)
    for i, f in enumerate(found):  # one row per query, not per point
        out[i, : len(f)] = f
    return out
