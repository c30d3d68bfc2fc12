"""Per-segment search kernels and the merge across segments. Batch-first:
queries come in as an (m, d) array, results leave as (m, k) arrays of rows
and scores, with row -1 where a segment had fewer than k matches.

>>> import numpy as np
>>> from nbvec._distance import metric_for
>>> x = np.array([[1, 0], [0.5, 0], [0.25, 0]], dtype=np.float32)
>>> rows, scores = exact_topk(metric_for("Dot"), x[:1], x, None, None, 2)
>>> rows.tolist(), scores.tolist()
([[0, 1]], [[1.0, 0.5]])
"""

from __future__ import annotations

import math

import numpy as np

from ._distance import Metric

__all__ = ["exact_topk", "index_topk", "index_plan", "traverse_effort", "merge_hits", "Hits",
           "rescored_best_first", "rescored_one", "QUERY_CHUNK"]

QUERY_CHUNK = 128  # queries per matrix product: 100-256 is BLAS's sweet spot here
# Per-query code calls ndarray methods (a.argsort()), not np.argsort(a): numpy's
# Python-level wrapper adds ~1 us a call (see nbvec._partition).
_NEG = np.float32(-np.inf)


def _topk_from_keys(key: np.ndarray, k: int) -> np.ndarray:
    """Column positions of the k largest keys of each row, best first."""
    m, n = key.shape
    if m == 1:  # one query (the notebook's case): the same selection in 1-D, ~1.5 us less
        row = key[0]
        part = row.argpartition(n - k)[n - k :] if k < n else np.arange(n)
        return part[(-row[part]).argsort(kind="stable")][None, :]
    if k < n:
        part = key.argpartition(n - k, axis=1)[:, n - k :]
    else:
        part = np.broadcast_to(np.arange(n), key.shape)
    r = np.arange(m)[:, None]
    order = (-key[r, part]).argsort(axis=1, kind="stable")
    return part[r, order]


GATHER_BELOW = 0.3  # candidate share under which exact search gathers rows instead of masking


def exact_topk(metric: Metric, queries, vectors, sqnorms, valid, k: int, rows=None):
    """Exact top-k of ``queries`` over the rows of ``vectors`` allowed by the
    boolean mask ``valid`` (all rows when None).

    Returns (rows (m, k'), scores (m, k')), k' = min(k, allowed rows), best
    first. A sparse candidate set is gathered first (cheaper than scoring
    every row); a dense one is scored whole and masked. ``rows``, when given,
    are the allowed rows already listed (a cached filter's).
    """
    mask = None
    if rows is not None:
        vectors = vectors[rows]
        sqnorms = sqnorms[rows] if sqnorms is not None else None
    elif valid is not None:
        count = int(valid.sum())
        if count < GATHER_BELOW * len(valid):
            rows = np.flatnonzero(valid)
            vectors = vectors[rows]
            sqnorms = sqnorms[rows] if sqnorms is not None else None
        elif count < len(valid):
            mask = ~valid
    n = len(vectors) if mask is None else len(vectors) - int(mask.sum())
    m = len(queries)
    kk = min(k, n)
    if kk == 0:
        return np.empty((m, 0), dtype=np.int64), np.empty((m, 0), dtype=np.float32)
    if m <= QUERY_CHUNK:  # one product: its answer as it comes
        pos, scores = _chunk_topk(metric, queries, vectors, sqnorms, mask, kk)
        return (pos if rows is None else rows[pos]), scores
    out_rows = np.empty((m, kk), dtype=np.int64)
    out_scores = np.empty((m, kk), dtype=np.float32)
    for lo in range(0, m, QUERY_CHUNK):
        q = queries[lo : lo + QUERY_CHUNK]
        pos, out_scores[lo : lo + len(q)] = _chunk_topk(metric, q, vectors, sqnorms, mask, kk)
        out_rows[lo : lo + len(q)] = pos if rows is None else rows[pos]
    return out_rows, out_scores


def _chunk_topk(metric: Metric, q, vectors, sqnorms, mask, k: int):
    """(positions, scores) of the k best ``vectors`` for each of the queries
    ``q`` (one matrix product), best first."""
    key = metric.key(metric.scores(q, vectors, sqnorms))
    if mask is not None:
        key[:, mask] = _NEG
    return rescored_best_first(metric, q, vectors, _topk_from_keys(key, k))


def rescored_best_first(metric: Metric, queries, vectors, pos):
    """(pos, scores): each query's candidates ``pos`` (m, c) among
    ``vectors``, re-scored pair by pair and ordered best first (stable).
    Pair by pair: exact for the BLAS-expanded distances, and the same
    float32 sums whether a query came alone or in a batch (a matrix product
    rounds differently from a matrix-vector one), so n batched searches
    equal n single ones to the bit."""
    if len(queries) == 1:  # one query: no row bookkeeping
        rows, scores = rescored_one(metric, queries[0], vectors, pos[0])
        return rows[None], scores[None]
    scores = metric.pair_scores(queries, vectors[pos])
    order = (-metric.key(scores)).argsort(axis=1, kind="stable")
    r = np.arange(len(queries))[:, None]
    return pos[r, order], scores[r, order]


def rescored_one(metric: Metric, query, vectors, rows):
    """(rows, scores) of one query (d,): its candidate ``rows`` among
    ``vectors`` re-scored (one matrix-vector product, the float32 sums of
    :func:`rescored_best_first`) and ordered best first (stable).

    >>> from nbvec._distance import metric_for
    >>> v = np.array([[1, 0], [0, 1], [0.6, 0.8]], np.float32)
    >>> rescored_one(metric_for("Dot"), np.array([0, 1], np.float32), v, np.arange(3))[0]
    array([1, 2, 0])
    """
    scores = metric.pair_scores(query, vectors[rows])
    order = (-metric.key(scores)).argsort(kind="stable")
    return rows[order], scores[order]


def index_plan(k: int, n_valid: int, n_items: int, effort: int) -> tuple[int, int]:
    """(candidates to ask the index for, effort) so that about k of them pass
    ``valid`` (tombstones, filters): with every item valid exactly k at the
    calibrated effort; otherwise k over the valid share with 50% to spare,
    and the effort (annoy's search_k, HNSW's ef) widened by the same share:
    the index must visit 1/share more nodes to meet as many valid ones."""
    share = n_valid / max(n_items, 1)
    if share >= 1.0:
        return k, effort
    share = max(share, 1e-4)
    return min(n_items, math.ceil(1.5 * k / share) + 4), math.ceil(effort / share)


def traverse_effort(effort: int, share: float) -> int:
    """The ef of an HNSW traversal for allowed rows where a share ``share``
    of the points is allowed at random: the calibrated ef widened as the
    allowed points thin out, x1.5 at 30%, x2.2 at 10%, x5 at 1% (measured
    on 100k x 100 clustered data with filters independent of the vectors:
    recall@10 >= 0.98 down to 1%)."""
    return math.ceil(effort * max(share, 1e-4) ** -0.35)


def index_topk(metric: Metric, index, queries, vectors, valid: np.ndarray, k: int,
               effort: int, n_valid: int | None = None, allowed=None):
    """Top-k through a segment ``index`` (annoy or HNSW) at ``effort``,
    post-filtered by ``valid``; ``queries`` a :class:`~nbvec._distance.Queries`
    (the index takes them as it wants them). With every item valid, the scores are the
    index's own where it gives them as precisely as a re-score (HNSW on
    Cosine and Euclid: ``query_scored``); otherwise every score is
    re-computed exactly from the stored vectors.

    A query whose candidates pass ``valid`` at about the valid share of the
    segment but still fall short of k (a random filter's bad luck) searches
    again: an HNSW graph traversed for the valid rows only, when ``allowed``
    is given (called with no argument, it returns the callable row -> bool
    of the same rows as ``valid`` that the traversal asks). A query
    whose candidates pass far below that share is answered exactly over the
    valid rows — the sign of a filter whose matches lie away from the query
    (e.g. a category that selects other clusters), where post-filtering
    loses recall, and so does a filtered traversal (measured: recall@10
    0.83-0.90 on filters of whole clusters at 2x the ef); so is one still
    short after its second search.
    Returns (rows, scores, n_fallback, n_scored): n_fallback counts the
    queries answered exactly because their matches lie away from them;
    n_scored the (query, point) pairs scored exactly, re-scoring included.
    """
    n_valid = int(valid.sum()) if n_valid is None else n_valid
    kk = min(k, n_valid)
    m = len(queries)
    if kk == 0:
        return (np.full((m, 0), -1, dtype=np.int64), np.full((m, 0), np.nan, np.float32), 0, 0)
    if n_valid == index.n_items:  # every candidate is valid
        cand, scores = index.query_scored(queries.for_index(index), kk, effort)
        if scores is not None:  # the index's own, as precise as a re-score
            return cand, scores, 0, 0
        rows, scores, scored = _rescored(metric, cand, queries.prepared, vectors, valid, kk,
                                         n_valid)
        return rows, scores, 0, scored
    want, widened = index_plan(kk, n_valid, index.n_items, effort)
    graph_queries, queries = queries.for_index(index), queries.prepared
    cand = index.query(graph_queries, want, widened)
    if m == 1 and cand[0, -1] >= 0:  # one query, a full answer (the notebook's case)
        one = _one_post_filtered(metric, cand[0], queries[0], vectors, valid, kk)
        if one is not None:
            return one
    ok = cand >= 0
    ok[ok] = valid[cand[ok]]
    passed = ok.sum(1)
    share = n_valid / max(index.n_items, 1)
    away = passed < np.minimum(kk, 0.3 * share * np.maximum((cand >= 0).sum(1), 1))
    short = (passed < kk) & ~away
    s = metric.pair_scores(queries, vectors[np.where(ok, cand, 0)])
    key = np.where(ok, metric.key(s), _NEG)
    pos = _topk_from_keys(key, kk)
    r = np.arange(m)[:, None]
    rows, scores = cand[r, pos], s[r, pos]
    scored = int(ok.sum())
    if allowed is not None and short.any():  # the graph again, for valid rows only
        again = np.flatnonzero(short)
        cand = index.query(graph_queries[again], kk, traverse_effort(effort, share),
                           allowed=allowed())
        rows[again], scores[again], more = _rescored(metric, cand, queries[again], vectors,
                                                     valid, kk, n_valid)
        scored += more
    else:
        away |= short
    n_fallback = int(away.sum())
    if n_fallback:
        fb = np.flatnonzero(away)
        rows[fb], scores[fb] = exact_topk(metric, queries[fb], vectors[: len(valid)], None,
                                          valid, kk)
        scored += n_fallback * n_valid
    return rows, scores, n_fallback, scored


def _one_post_filtered(metric, cand, query, vectors, valid, k):
    """:func:`index_topk`'s answer for one query (d,) whose full answer
    ``cand`` holds at least k valid rows, so is neither away nor short: the
    top k of those, by the general path's steps in 1-D (a dozen numpy
    calls fewer, ~10% of a filtered query); None for any other answer.

    >>> from nbvec._distance import metric_for
    >>> v = np.array([[1, 0], [0.6, 0.8], [0, 1]], np.float32)
    >>> valid = np.array([True, False, True])
    >>> rows, scores, fallbacks, scored = _one_post_filtered(
    ...     metric_for("Dot"), np.array([1, 2, 0]), np.array([0, 1], np.float32), v, valid, 1)
    >>> rows.tolist(), scores.tolist(), fallbacks, scored
    ([[2]], [[1.0]], 0, 2)
    """
    ok = valid[cand]
    passed = int(np.count_nonzero(ok))
    if passed < k:
        return None
    scores = metric.pair_scores(query, vectors[np.where(ok, cand, 0)])
    pos = _topk_from_keys(np.where(ok, metric.key(scores), _NEG)[None], k)[0]
    return cand[pos][None], scores[pos][None], 0, passed


def _rescored(metric, cand, queries, vectors, valid, k, n_valid):
    """(rows, scores, n_scored) of index candidates ``cand`` (m, k), all
    valid, -1 padding a query the index left short: re-scored exactly, best
    first; a short query is answered exactly over the ``valid`` rows."""
    if len(cand) == 1 and cand[0, -1] >= 0:  # one full answer (the notebook's case)
        return (*rescored_best_first(metric, queries, vectors, cand), k)
    short = cand[:, -1] < 0  # short answers are padded at the end
    n_short = int(np.count_nonzero(short))
    if n_short:
        cand = np.where(cand >= 0, cand, 0)
    rows, scores = rescored_best_first(metric, queries, vectors, cand)
    if n_short:
        fb = np.flatnonzero(short)
        rows[fb], scores[fb] = exact_topk(metric, queries[fb], vectors[: len(valid)], None,
                                          valid, k)
    return rows, scores, cand.size + n_short * n_valid


class Hits:
    """Merged results of m queries: (m, K) segment positions, rows, scores.
    ``seg == -1`` marks an empty slot (fewer hits than asked, or cut by
    score_threshold); a row's hits come first, best first, then its empty
    slots. ``only``: the one segment every hit comes from, when known.
    ``full_from``: that segment when, besides, every slot holds a hit (the
    common one-segment answer: ``seg`` is then made only if read)."""

    __slots__ = ("_seg", "rows", "scores", "only")

    def __init__(self, seg, rows, scores, only=None):
        self._seg, self.rows, self.scores, self.only = seg, rows, scores, only

    @property
    def full_from(self) -> int | None:
        return self.only if self._seg is None else None

    @property
    def seg(self) -> np.ndarray:
        if self._seg is None:
            self._seg = np.full(self.rows.shape, self.only)
        return self._seg


def merge_hits(metric: Metric, parts, m: int, k: int, score_threshold=None, offset=0) -> Hits:
    """Merge per-segment ``(seg_pos, rows, scores)`` (each sorted best first)
    into the best k per query, then apply ``score_threshold`` (strict) and
    skip ``offset``."""
    if not parts:
        empty = np.empty((m, 0), dtype=np.int64)
        return Hits(empty, empty, np.empty((m, 0), dtype=np.float32))
    only = None
    if len(parts) == 1:  # one segment: already ordered, nothing to merge
        only, rows, scores = parts[0]
        full = m == 1 and (rows.size == 0 or rows[0, -1] >= 0)  # -1 pads at the end
        if full and score_threshold is None and not offset:
            return Hits(None, rows, scores, only)
        seg = np.where(rows >= 0, only, -1)
    else:
        seg = np.concatenate([np.where(r >= 0, p, -1) for p, r, _ in parts], axis=1)
        rows = np.concatenate([r for _, r, _ in parts], axis=1)
        scores = np.concatenate([s for _, _, s in parts], axis=1)
        key = np.where(seg >= 0, metric.key(scores), _NEG)
        pos = _topk_from_keys(key, min(k, key.shape[1]))
        r = np.arange(m)[:, None]
        seg, rows, scores = seg[r, pos], rows[r, pos], scores[r, pos]
    if score_threshold is not None:
        seg = np.where(metric.passes(scores, score_threshold), seg, -1)
    if offset:
        seg, rows, scores = seg[:, offset:], rows[:, offset:], scores[:, offset:]
    return Hits(seg, rows, scores, only)
