"""Calibration shared by the segment indexes: the recall@k of an index over a
grid of search efforts (annoy's search_k, HNSW's ef), measured against exact
search when a segment is sealed, and the smallest effort reaching a target.

>>> cal = Calibration(k=10, search_ks=[10, 20], recalls=[0.9, 1.0])
>>> round(cal.predicted_recall(14), 3), interpolate_effort(cal, 0.95)
(0.949, 15)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._distance import Metric

__all__ = ["Calibration", "interpolate_effort", "exact_positions", "mean_recall"]


@dataclass
class Calibration:
    """Recall@k of an index against exact search over a grid of efforts.

    ``search_ks`` holds the efforts (annoy's search_k or HNSW's ef: the
    name is kept for stored calibrations); ``default_search_k`` is the
    smallest effort reaching ``target``, None when none affordable does.
    """

    k: int
    search_ks: list = field(default_factory=list)
    recalls: list = field(default_factory=list)
    default_search_k: int | None = None  # None: the index cannot reach the target here
    target: float = 0.97
    method: str = "leave-one-out"  # or "held-out": queries kept out of the index

    def predicted_recall(self, search_k: int) -> float:
        """Recall interpolated from the curve (log effort), clamped to its ends."""
        if not self.search_ks:
            return 0.0
        return float(np.interp(np.log(search_k), np.log(self.search_ks), self.recalls))


def interpolate_effort(cal: Calibration, target: float) -> int:
    """The effort where the curve (linear in log effort) reaches ``target``,
    between the last two grid points."""
    if len(cal.recalls) < 2 or cal.recalls[-2] >= target:
        return cal.search_ks[-1]
    (k0, k1), (r0, r1) = cal.search_ks[-2:], cal.recalls[-2:]
    t = (target - r0) / (r1 - r0) if r1 > r0 else 1.0
    return int(np.ceil(np.exp(np.log(k0) + t * (np.log(k1) - np.log(k0))) - 1e-9))


def exact_positions(metric: Metric, queries: np.ndarray, data: np.ndarray, k: int) -> np.ndarray:
    """Positions of the exact top-k of each query in ``data`` (best first)."""
    key = metric.key(metric.scores(queries, data))
    part = np.argpartition(-key, k - 1, axis=1)[:, :k] if k < data.shape[0] else np.argsort(-key, 1)
    order = np.argsort(-np.take_along_axis(key, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)


def mean_recall(found: np.ndarray, truth: np.ndarray, k: int, exclude=None) -> float:
    """Mean recall@k of ``found`` (m, w) rows (-1 = none) against ``truth``
    (m, >= k). ``exclude[i]``, when given, is left out of both the answer and
    the truth of query i (a stored point used as its own query)."""
    found = np.asarray(found, dtype=np.int64)
    truth = np.asarray(truth, dtype=np.int64)
    if exclude is not None:
        found = _drop(found, exclude, k)
        truth = _drop(truth, exclude, k)
    found, truth = found[:, :k], truth[:, :k]
    hits = ((found[:, :, None] == truth[:, None, :]) & (truth[:, None, :] >= 0)).any(2).sum()
    return float(hits) / (k * len(truth))


def _drop(rows: np.ndarray, exclude, k: int) -> np.ndarray:
    """Each row of ``rows`` without ``exclude[i]``, first k kept (-1 padded)."""
    keep = rows != np.asarray(exclude, dtype=np.int64)[:, None]
    order = np.argsort(~keep, axis=1, kind="stable")  # kept entries first, in order
    out = np.take_along_axis(np.where(keep, rows, -1), order, 1)[:, :k]
    if out.shape[1] < k:
        out = np.pad(out, ((0, 0), (0, k - out.shape[1])), constant_values=-1)
    return out
