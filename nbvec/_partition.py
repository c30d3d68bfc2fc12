"""A coarse k-means partition of a sealed segment (an inverted file, IVF):
filtered search for matches that lie away from the query.

A filter that selects whole regions of the vector space (a category, a
tenant, a range over a cluster id) defeats the segment's index: the query's
nearest candidates all fail the filter, and a filtered graph traversal
loses recall far from the matches. An exact scan over the matches costs
O(matches). A partition probe reads only the lists that may hold a top-k
match: lists in order of a likely bound on their best score (the centroid's
score plus ``reach`` times the list's spread seen from the query), until
the next list's bound falls below the k-th best score found. A query near
its matches stops after a few lists; one far from them reads more, as it
must. ``reach`` is calibrated at build for the target recall under a
stand-in for the hardest filters, then for each filter probed, with rows it
rules out as queries (its matches' copy keeps that reach).

Built on demand, the first time the planner wants it for a segment, and
kept for the segment's life (a sealed segment's vectors never change).

>>> import numpy as np
>>> from nbvec._distance import metric_for
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(2000, 8)).astype(np.float32)
>>> part = Partition.build(x, metric_for("Euclid"), seed=0)
>>> matches = part.group(np.arange(0, 2000, 2))  # a filter: the even rows
>>> rows, scores, _ = part.topk(x[:1], matches, 3, reach=np.inf)  # every list: exact
>>> rows[0].tolist() == [r for r in np.argsort(((x - x[0]) ** 2).sum(1)) if r % 2 == 0][:3]
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._calibration import exact_positions, mean_recall
from ._distance import Distance, Metric
from ._filter._memo import remember
from ._search import rescored_one

__all__ = ["Partition", "Grouped", "n_lists_for"]

ITERATIONS = 8  # Lloyd iterations on the sample: the list quality levels off after ~5
SAMPLE_PER_LIST = 32  # training points per list
ASSIGN_CHUNK = 8192  # rows per assignment product: (chunk, lists) floats stay in cache
CALIBRATION_QUERIES = 100
EXCLUDED_SHARES = (0.0, 0.1)  # calibration filters rule out the query's nearest lists
REACHES = 1.5 * 1.05 ** np.arange(70)  # the calibration's grid: 1.5 to 42, 5% steps
FIRST_LISTS = 8  # lists read before the bound is first checked (16: slower, no more recall)
GROWTH = 4  # each later round reads at most GROWTH x the lists read so far
SORTED_LISTS = 64  # lists ranked by a partial sort first (all of them when more are read)
SLICE_ROWS = 16  # matches per list from which lists are read in place
REACHES_KEPT = 64  # filters whose own reach a partition remembers
# Per-query code here calls ndarray methods (a.argsort(), a.cumsum(), a.dot(...)), not
# np.argsort(a) and kin: numpy's Python-level wrappers add 0.1-1.2 us a call, ~10% of a probe.


def n_lists_for(n: int) -> int:
    """Lists for ``n`` rows: ~4 sqrt(n) (faiss's guidance: 4-16 sqrt(n)),
    at least 1 and at most n / 16 rows per list."""
    return int(max(1, min(4 * np.sqrt(n), n / 16, 4096)))


@dataclass
class Grouped:
    """A filter's matches grouped by list: ``rows`` (segment rows, list by
    list), their ``vectors`` and ``sqnorms`` gathered in that order, and
    ``starts``/``counts`` per list; ``holding``: the lists with matches,
    with their ``centroids``, centroid square norms and ``spread``."""

    rows: np.ndarray
    vectors: np.ndarray
    sqnorms: np.ndarray
    starts: np.ndarray
    counts: np.ndarray
    holding: np.ndarray
    centroids: np.ndarray
    centroid_sqnorms: np.ndarray
    spread: np.ndarray
    reach: float | None = None  # calibrated for these matches (None: the partition's)

    def __post_init__(self):  # per holding list, as the bounds are: read without a hop
        self.held_starts, self.held_counts = self.starts[self.holding], self.counts[self.holding]


class Partition:
    """Centroids, the list of every row of a segment's vectors, and each
    list's spread (root mean square distance of its rows to the centroid).

    ``reach``: how far above a list's centroid score its best row may lie,
    in units of the list's spread projected on the query; calibrated at
    build for ``target`` recall@10 under filters that rule out the query's
    own neighbourhood (the case the partition serves).
    """

    def __init__(self, centroids: np.ndarray, lists: np.ndarray, spread: np.ndarray,
                 metric: Metric, vectors, reach: float = np.inf):
        self.centroids = centroids
        self.centroid_sqnorms = np.einsum("ij,ij->i", centroids, centroids)
        self.lists = lists
        self.spread = spread
        self.metric = metric
        self.vectors = vectors
        self.reach = reach
        self._reaches: dict = {}  # a filter's key -> (its matches, its reach): see reach_for

    recall_margin = 0.02  # as the indexes': the calibration's sample has sampling error

    @staticmethod
    def supports(metric: Metric) -> bool:
        """Dot, Cosine and Euclid: a list's bound is a dot product's."""
        return metric.distance is not Distance.MANHATTAN

    @classmethod
    def create(cls, vectors: np.ndarray, metric: Metric, config, sqnorms=None,
               tick=None) -> Partition:
        """Build and calibrate as ``config`` (an EngineConfig) says, for
        ``target_recall`` plus the recall margin, as the indexes' ``create``."""
        return cls.build(vectors, metric, seed=config.seed, sqnorms=sqnorms, tick=tick,
                         target=cls.target_for(config))

    @classmethod
    def target_for(cls, config) -> float:
        """The recall a calibration aims at: ``target_recall`` plus the margin."""
        margin = config.recall_margin if config.recall_margin is not None else cls.recall_margin
        return min(1.0, config.target_recall + margin)

    @classmethod
    def build(cls, vectors: np.ndarray, metric: Metric, *, seed: int = 0, sqnorms=None,
              target: float = 0.97, tick=None) -> Partition:
        """k-means (Lloyd, on a sample) over ``vectors``, every row assigned
        to its nearest centroid, then ``reach`` calibrated for ``target``.
        ``tick(units)`` reports progress, 100 units in all."""
        tick = tick or (lambda units: None)
        n = len(vectors)
        n_lists = n_lists_for(n)
        rng = np.random.default_rng(seed)
        sample = vectors[np.sort(rng.choice(n, min(n, SAMPLE_PER_LIST * n_lists), replace=False))]
        centroids = sample[rng.choice(len(sample), n_lists, replace=False)].copy()
        for _ in range(ITERATIONS):
            nearest = _nearest(sample, centroids)
            sums = np.zeros_like(centroids)
            np.add.at(sums, nearest, sample)
            counts = np.bincount(nearest, minlength=n_lists)
            filled = counts > 0  # an empty list keeps its centroid
            centroids[filled] = sums[filled] / counts[filled, None]
            tick(7)
        lists = np.empty(n, dtype=np.int32)
        squares = np.empty(n, dtype=np.float64)
        for lo in range(0, n, ASSIGN_CHUNK):
            chunk = vectors[lo : lo + ASSIGN_CHUNK]
            lists[lo : lo + len(chunk)] = nearest = _nearest(chunk, centroids)
            residual = chunk - centroids[nearest]
            squares[lo : lo + len(chunk)] = np.einsum("ij,ij->i", residual, residual)
        sizes = np.maximum(np.bincount(lists, minlength=n_lists), 1)
        spread = np.sqrt(np.bincount(lists, weights=squares, minlength=n_lists) / sizes)
        tick(24)
        part = cls(centroids, lists, spread.astype(np.float32), metric, vectors)
        part.reach = part.calibrate(rng, target, sqnorms)
        tick(20)
        return part

    def group(self, rows: np.ndarray, sqnorms=None) -> Grouped:
        """The segment rows ``rows`` (a filter's matches) grouped by list,
        their vectors gathered in that order."""
        rows = rows[np.argsort(self.lists[rows], kind="stable")]
        counts = np.bincount(self.lists[rows], minlength=len(self.centroids))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        vectors = self.vectors[rows]
        sq = sqnorms[rows] if sqnorms is not None else np.einsum("ij,ij->i", vectors, vectors)
        return self._grouped(rows, vectors, sq, starts, counts)

    def reach_for(self, key, matches: Grouped, config, among=None) -> float:
        """The reach of one filter (``key``, e.g. its Allowed), whose matches
        are ``matches``: calibrated (:meth:`calibrate_for`, as ``config``, an
        EngineConfig, says) on first need and kept while the count of its
        matches stays within 10% (new copies of the matches after writes,
        or after making room, reuse it)."""
        count = len(matches.rows)
        hit = self._reaches.get(key)
        if hit is not None and abs(hit[0] - count) <= 0.1 * hit[0]:
            return hit[1]
        reach = self.calibrate_for(matches, self.target_for(config), seed=config.seed,
                                   among=among)
        remember(self._reaches, key, (count, reach), REACHES_KEPT)
        return reach

    def _grouped(self, rows, vectors, sqnorms, starts, counts) -> Grouped:
        held = np.flatnonzero(counts)
        return Grouped(rows, vectors, sqnorms, starts, counts, held, self.centroids[held],
                       self.centroid_sqnorms[held], self.spread[held])

    def topk(self, queries: np.ndarray, matches: Grouped, k: int, reach: float | None = None):
        """Top-k of each query among ``matches``: lists read in order of
        their bound (centroid score + ``reach`` x spread), until the next
        bound is below the k-th best score found; ``reach`` inf reads every
        list (exact).

        Returns (rows (m, k'), scores (m, k'), n_scored), k' = min(k, matches),
        scores exact and best first."""
        metric = self.metric
        if reach is None:
            reach = self.reach if matches.reach is None else matches.reach
        m, kk = len(queries), min(k, len(matches.rows))
        out_rows = np.empty((m, kk), dtype=np.int64)
        out_scores = np.empty((m, kk), dtype=np.float32)
        if kk == 0:
            return out_rows, out_scores, 0
        bounds = self._bounds(queries, matches, reach)
        scored = 0
        for i in range(m):  # per query: each reads its own lists
            q = queries[i]
            best, read = self._read(q, matches, bounds[i], kk)
            best, out_scores[i] = rescored_one(metric, q, matches.vectors, best)
            out_rows[i] = matches.rows[best]
            scored += read + kk
        return out_rows, out_scores, scored

    def _bounds(self, queries, matches: Grouped, reach) -> np.ndarray:
        """(m, holding lists) likely bounds on the best scan key (:meth:`_scan`)
        of each list's rows: a row x = c + e scores q.c + q.e (less |x|^2 / 2
        for Euclid), and q.e spreads as |q'| |e| / sqrt(d), q' = q (- c, Euclid)."""
        dots = queries @ matches.centroids.T
        q2 = np.add.reduce(queries * queries, axis=1, keepdims=True)
        if self.metric.distance is Distance.EUCLID:
            c2 = matches.centroid_sqnorms[None, :]
            key, length = dots - 0.5 * c2, np.sqrt(np.maximum(q2 - 2 * dots + c2, 0))
        else:
            key, length = dots, np.sqrt(q2)
        if np.isinf(reach):
            return key + np.inf * (length + 1)
        # float32 as the vectors (a float64 reach would make them float64: 4% slower
        # probes), the same for calibration (numpy reaches) and searches (floats)
        bounds = (float(reach) / math.sqrt(self.centroids.shape[1])) * length * matches.spread
        bounds += key
        return bounds

    def _read(self, q, matches: Grouped, bounds, k: int):
        """(positions in ``matches`` of the k best scan keys, in no order;
        rows read) for one query. It reads lists by their ``bounds``, best
        first: FIRST_LISTS of them and enough for k rows, then, round by
        round, the lists whose bound beats the k-th best key so far (at most
        GROWTH x as many as read so far); the k best of every key read are
        picked once, at the end."""
        order = _best_first(bounds, SORTED_LISTS)
        held_starts, held_counts = matches.held_starts, matches.held_counts
        bound, starts, counts = bounds[order], held_starts[order], held_counts[order]
        done = max(FIRST_LISTS, int(counts.cumsum().searchsorted(k)) + 1)
        spans, key, start = [], None, 0
        while True:
            if done > len(order) < len(bounds):  # past the partial sort: rank the rest
                rest = np.ones(len(bounds), dtype=bool)
                rest[order] = False
                rest = np.flatnonzero(rest)
                order = np.concatenate([order, rest[_best_first(bounds[rest], len(rest))]])
                bound, starts, counts = bounds[order], held_starts[order], held_counts[order]
            spans.append((starts[start:done], counts[start:done]))
            scanned = self._scan(q, matches, *spans[-1])
            key = scanned if key is None else np.concatenate([key, scanned])  # every key read
            if done >= len(bounds):
                break
            kth = _kth_largest(key, k)
            beating = done + int((-bound[done:]).searchsorted(-kth, side="left"))
            if beating == len(order) < len(bounds):  # perhaps more beyond the partial sort
                beating = len(bounds)
            if beating <= done:
                break
            start, done = done, min(beating, GROWTH * done)
        starts, counts = spans[0] if len(spans) == 1 else map(np.concatenate, zip(*spans))
        if len(key) > k:
            top = key.argpartition(len(key) - k)[len(key) - k :]
            return _positions(starts, counts, top), len(key)
        return _ranges(starts, counts), len(key)

    def _scan(self, q, matches: Grouped, starts, counts) -> np.ndarray:
        """Scan keys (a ranking, higher is better, not the score) of the
        matches of the lists ``starts``/``counts``, list after list, for
        query ``q``: q.x, less |x|^2 / 2 for Euclid. Full lists are read in
        place, a matrix-vector product per list: a row gather moves every
        vector twice, and the scan is memory-bound."""
        total = int(counts.sum())
        at = None
        if total < SLICE_ROWS * len(starts):
            at = _ranges(starts, counts)
            key = matches.vectors[at] @ q
        else:  # a dot into the output: ~25% less than @ and a concatenate
            vectors = matches.vectors
            key = np.empty(total, dtype=np.float32)
            end = 0
            for s, c in zip(starts.tolist(), counts.tolist(), strict=True):
                vectors[s : s + c].dot(q, out=key[end : end + c])
                end += c
        if self.metric.distance is Distance.EUCLID:
            key -= 0.5 * matches.sqnorms[_ranges(starts, counts) if at is None else at]
        return key

    def calibrate(self, rng, target: float, sqnorms=None) -> float:
        """The smallest ``reach`` on the grid whose mean recall@10 reaches
        ``target`` for sample rows as queries under each of the calibration
        filters: rows of the query's own list and of its nearest lists ruled
        out (none, and 10% of the lists)."""
        n, n_lists = len(self.vectors), len(self.centroids)
        if n_lists <= 2 or n <= 100:
            return np.inf
        metric = self.metric
        picked = rng.choice(n, min(CALIBRATION_QUERIES, n), replace=False)
        queries = self.vectors[picked]
        every = self.group(np.arange(n), sqnorms)
        near = every.holding[np.argsort(-self._bounds(queries, every, 0.0), axis=1)]
        key = metric.key(metric.scores(queries, self.vectors, sqnorms))
        key[np.arange(len(picked)), picked] = -np.inf  # a query is not its own neighbour
        filters = []
        for share in EXCLUDED_SHARES:
            ruled_out = np.zeros((len(picked), n_lists), dtype=bool)
            np.put_along_axis(ruled_out, near[:, : int(share * n_lists)], True, axis=1)
            ruled_out[np.arange(len(picked)), self.lists[picked]] = True  # its own list
            filters.append(self._recall_check(queries, key, ruled_out, every))
        return _smallest_reach(filters, target)

    def calibrate_for(self, matches: Grouped, target: float, seed: int = 0, k: int = 10,
                      among=None) -> float:
        """The reach for one filter (its ``matches``): the smallest on the
        grid whose mean recall@k reaches ``target`` for sample rows the
        filter rules out as queries (the queries a probe serves: the planner
        probes once the index has left queries short, their matches away
        from them). The build's reach stands in for the hardest filters (the
        query's own neighbourhood ruled out); a filter of whole clusters,
        say, reaches the target reading fewer lists. inf (every list) when
        the matches are too few to rank or the rows ruled out too few to ask.
        ``among``: a mask of the rows that may be asked (live, holding the
        vector; None: every row)."""
        n, rows = len(self.vectors), matches.rows
        outside = np.ones(n, dtype=bool) if among is None else np.array(among[:n], dtype=bool)
        outside[rows] = False
        outside = np.flatnonzero(outside)
        if len(rows) <= k or len(matches.holding) <= 2 or len(outside) < CALIBRATION_QUERIES:
            return np.inf
        picked = np.random.default_rng(seed).choice(outside, CALIBRATION_QUERIES, replace=False)
        queries = self.vectors[picked]
        truth = rows[exact_positions(self.metric, queries, matches.vectors, k)]

        def recall(reach) -> float:
            return mean_recall(self.topk(queries, matches, k, reach)[0], truth, k)

        return _smallest_reach([recall], target)

    def _recall_check(self, queries, key, ruled_out, every: Grouped, k: int = 10):
        """reach -> mean recall@k, each query under its own filter: every row
        but those of its ``ruled_out`` lists (``every``: all rows grouped)."""
        masked = np.where(ruled_out[:, self.lists], -np.inf, key)
        truth = np.argpartition(-masked, k, axis=1)[:, :k]
        views = [self._grouped(every.rows, every.vectors, every.sqnorms, every.starts,
                               np.where(out, 0, every.counts)) for out in ruled_out]

        def recall(reach):
            return float(np.mean([np.isin(self.topk(q[None], g, k, reach)[0][0], t).mean()
                                  for q, g, t in zip(queries, views, truth, strict=True)]))

        return recall


def _smallest_reach(recalls, target: float) -> float:
    """The smallest reach on the grid at which every ``recalls`` (reach ->
    mean recall) reaches ``target`` (recall grows with the reach: bisect);
    inf when none does."""
    lo, hi = 0, len(REACHES)  # REACHES[hi] reaches the target
    while lo < hi:
        mid = (lo + hi) // 2
        if all(recall(REACHES[mid]) >= target for recall in recalls):
            hi = mid
        else:
            lo = mid + 1
    return float(REACHES[hi]) if hi < len(REACHES) else np.inf


def _nearest(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The nearest centroid (Euclidean) of each point."""
    half = 0.5 * np.einsum("ij,ij->i", centroids, centroids)
    return np.argmax(points @ centroids.T - half, axis=1).astype(np.int32)


def _best_first(values: np.ndarray, top: int) -> np.ndarray:
    """Positions of the ``top`` largest ``values``, largest first."""
    negated = -values
    if top < len(values):
        part = negated.argpartition(top)[:top]
        return part[negated[part].argsort(kind="stable")]
    return negated.argsort(kind="stable")


def _kth_largest(values: np.ndarray, k: int):
    """The k-th largest of ``values``; -inf when there are fewer."""
    if len(values) < k:
        return -np.inf
    values = values.copy()
    values.partition(len(values) - k)
    return values[len(values) - k]


def _positions(starts: np.ndarray, counts: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``_ranges(starts, counts)[at]``, without making the ranges."""
    ends = counts.cumsum()
    which = ends.searchsorted(at, side="right")
    return starts[which] + (at - (ends[which] - counts[which]))


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ranges [start, start + count) without a Python loop."""
    total = int(counts.sum())
    shift = (starts - (counts.cumsum() - counts)).repeat(counts)
    return shift + np.arange(total)
