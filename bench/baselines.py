"""The references nbvec is measured against: plain numpy brute force and raw
annoy, written the way a user would write them by hand.

>>> import numpy as np
>>> x = np.eye(3, dtype=np.float32)
>>> numpy_topk(x, np.array([0, 1, 0.1], np.float32), 2).tolist()
[1, 2]
"""

from __future__ import annotations

import annoy
import numpy as np

__all__ = ["numpy_topk", "numpy_topk_batch", "annoy_forest", "annoy_search",
           "annoy_search_k_for_recall"]


def numpy_topk(unit_base: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Exact cosine top-k of one query: normalize it, matrix @ query,
    argpartition, sort the k winners."""
    q = query / np.linalg.norm(query)
    s = unit_base @ q
    top = np.argpartition(-s, k)[:k]
    return top[np.argsort(-s[top])]


def numpy_topk_batch(unit_base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Exact cosine top-k of a batch of queries, one matrix product."""
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    s = q @ unit_base.T
    top = np.argpartition(-s, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, top, 1), axis=1)
    return np.take_along_axis(top, order, 1)


def annoy_forest(unit_base: np.ndarray, n_trees: int, seed: int = 0,
                 n_jobs: int = -1) -> annoy.AnnoyIndex:
    """A raw angular annoy index over (already normalized) vectors, item i = row i."""
    forest = annoy.AnnoyIndex(unit_base.shape[1], "angular")
    forest.set_seed(seed)
    add = forest.add_item
    for i, v in enumerate(unit_base.tolist()):
        add(i, v)
    forest.build(n_trees, n_jobs=n_jobs)
    return forest


def annoy_search(forest: annoy.AnnoyIndex, query_lists: list, k: int, search_k: int) -> list:
    """Raw annoy over queries given as Python lists (annoy's fast input path)."""
    get = forest.get_nns_by_vector
    return [get(q, k, search_k) for q in query_lists]


def annoy_search_k_for_recall(forest: annoy.AnnoyIndex, query_lists: list, truth: np.ndarray,
                              k: int, recall: float, start: int, tolerance: float = 0.05,
                              cap: int = 1 << 20) -> tuple[int | None, float]:
    """The smallest search_k (within ``tolerance``, relative) at which raw
    annoy's recall@k over these queries reaches ``recall``; (None, best
    recall seen) when even ``cap`` does not. Recall grows with search_k
    (a larger search_k visits a superset of candidates), so a doubling
    search then a bisection in log space finds it."""
    def recall_at(sk: int) -> float:
        found = annoy_search(forest, query_lists, k, sk)
        hits = sum(len(set(f) & set(t)) for f, t in zip(found, truth[:, :k].tolist()))
        return hits / (k * len(query_lists))

    lo, hi = 1, max(int(start), k)
    r_hi = recall_at(hi)
    while r_hi < recall:
        lo, hi = hi, hi * 2
        if hi > cap:
            return None, r_hi
        r_hi = recall_at(hi)
    while hi > lo * (1 + tolerance) and hi - lo > 1:
        mid = int(round(np.sqrt(lo * hi)))
        mid = min(max(mid, lo + 1), hi - 1)
        r_mid = recall_at(mid)
        if r_mid >= recall:
            hi, r_hi = mid, r_mid
        else:
            lo = mid
    return hi, r_hi
