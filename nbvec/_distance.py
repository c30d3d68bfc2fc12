"""The one place that knows each distance: how vectors are stored, how scores
are computed, which way is better, and how ``score_threshold`` cuts.

Cosine vectors are normalized once, at insert (a zero vector stays zero and
scores 0 against everything, as in qdrant-client); Cosine and Dot scores are
higher-is-better dot products, Euclid (L2) and Manhattan (L1) are distances,
lower-is-better. Internally every search ranks by a *key* that is always
higher-is-better: the score itself, or its negation for distances.

>>> import numpy as np
>>> m = metric_for("Euclid")
>>> m.scores(np.zeros((1, 2), np.float32), np.array([[3, 4]], np.float32))
array([[5.]], dtype=float32)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._errors import InvalidRequest
from .models import Distance

__all__ = ["Metric", "Queries", "metric_for", "normalize_rows"]

_EPS = 1.1920929e-7  # f32 epsilon: the floor qdrant uses for a zero norm
_MANHATTAN_CHUNK_FLOATS = 4_000_000  # bound the (m, chunk, d) temporary


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm; zero rows stay zero. Returns float32."""
    x = np.asarray(x, dtype=np.float32)
    squares = np.einsum("ij,ij->i", x, x)
    if len(squares) == 1:  # one query: scalars, the same float32 result (the float64
        # root of a float32, rounded to float32, is its float32 root: no double rounding)
        return x / (np.float32(math.sqrt(squares[0])) or np.float32(_EPS))
    norms = np.sqrt(squares)
    if not norms.all():
        norms[norms == 0] = _EPS
    return x / norms[:, None]


@dataclass(frozen=True)
class Metric:
    """Rules of one distance. ``higher_is_better`` decides ordering and the
    direction of ``score_threshold`` (strict, as qdrant-client's local mode)."""

    distance: Distance
    higher_is_better: bool
    annoy_metric: str

    def prepare(self, vectors: np.ndarray) -> np.ndarray:
        """Vectors as stored: float32, normalized for Cosine."""
        if self.distance is Distance.COSINE:
            return normalize_rows(vectors)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def scores(self, queries: np.ndarray, vectors: np.ndarray, sqnorms=None) -> np.ndarray:
        """(m, n) scores of prepared ``queries`` (m, d) against ``vectors`` (n, d).

        Euclid uses the BLAS expansion |q|^2 + |x|^2 - 2 q.x (fast, accurate to
        ~1e-3 near zero); callers re-score their final candidates with
        :meth:`pair_scores`, which is exact.
        """
        if self.distance in (Distance.COSINE, Distance.DOT):
            return queries @ vectors.T
        if self.distance is Distance.EUCLID:
            if sqnorms is None:
                sqnorms = np.einsum("ij,ij->i", vectors, vectors)
            q2 = np.einsum("ij,ij->i", queries, queries)
            d2 = (q2[:, None] + sqnorms[None, :]) - 2.0 * (queries @ vectors.T)
            return np.sqrt(np.maximum(d2, 0.0, out=d2), out=d2)
        return self._manhattan(queries, vectors)

    def _manhattan(self, queries: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        m, d = queries.shape
        out = np.empty((m, len(vectors)), dtype=np.float32)
        step = max(1, _MANHATTAN_CHUNK_FLOATS // max(1, m * d))
        for lo in range(0, len(vectors), step):
            block = vectors[lo : lo + step]
            out[:, lo : lo + step] = np.abs(queries[:, None, :] - block[None, :, :]).sum(-1)
        return out

    def pair_scores(self, queries: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        """Exact scores of each query (m, d) against its own candidates (m, c, d);
        of one query (d,) against its candidates (c, d): the same float32 sums."""
        if self.distance in (Distance.COSINE, Distance.DOT):  # (stacked) matrix-vector products
            if queries.ndim == 1:
                return candidates @ queries
            return np.matmul(candidates, queries[:, :, None])[:, :, 0]
        diff = candidates - queries[..., None, :]
        if self.distance is Distance.EUCLID:
            return np.sqrt(np.einsum("...cd,...cd->...c", diff, diff))
        return np.abs(diff).sum(-1)

    def key(self, scores: np.ndarray) -> np.ndarray:
        """Ranking key, higher is better, for scores of this metric."""
        return scores if self.higher_is_better else -scores

    def passes(self, scores: np.ndarray, threshold: float | None) -> np.ndarray:
        """Mask of scores that pass ``score_threshold`` (strict comparison)."""
        if threshold is None:
            return np.ones(np.shape(scores), dtype=bool)
        return scores > threshold if self.higher_is_better else scores < threshold


class Queries:
    """Queries as given, float32 (m, d), and as :meth:`Metric.prepare` makes
    them, on first use: an index that prepares them itself (an HNSW graph
    over Cosine normalizes each query in C) takes them as given, and a
    search answered by it alone never prepares them.

    >>> qs = Queries(metric_for("Cosine"), np.array([[3, 4]], np.float32))
    >>> qs.prepared
    array([[0.6, 0.8]], dtype=float32)
    """

    __slots__ = ("given", "metric", "_prepared")

    def __init__(self, metric: Metric, given: np.ndarray):
        self.given, self.metric, self._prepared = given, metric, None

    @property
    def prepared(self) -> np.ndarray:
        if self._prepared is None:
            self._prepared = self.metric.prepare(self.given)
        return self._prepared

    def for_index(self, index) -> np.ndarray:
        """The queries ``index`` (annoy, HNSW) takes: as given or prepared."""
        return self.given if index.takes_raw_queries else self.prepared

    def __len__(self) -> int:
        return len(self.given)


_METRICS = {
    Distance.COSINE: Metric(Distance.COSINE, True, "angular"),
    Distance.DOT: Metric(Distance.DOT, True, "dot"),
    Distance.EUCLID: Metric(Distance.EUCLID, False, "euclidean"),
    Distance.MANHATTAN: Metric(Distance.MANHATTAN, False, "manhattan"),
}


def metric_for(distance) -> Metric:
    """The Metric of a Distance, given as the enum or its name (any case)."""
    if isinstance(distance, Distance):
        return _METRICS[distance]
    if isinstance(distance, str):
        for d in Distance:
            if distance.lower() in (d.value.lower(), d.name.lower()):
                return _METRICS[d]
    raise InvalidRequest(
        f"unknown distance {distance!r}: use one of "
        + ", ".join(repr(d.value) for d in Distance)
    )
