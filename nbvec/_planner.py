"""The query planner: per segment, choose how to answer a request.

Rules (seed 000, "Query Plan"), in order:
- ``indexed_only`` skips segments without an index that are too big to scan;
- ``exact=True``, no index, or a segment under ``full_scan_threshold`` KB: exact;
- an index whose calibration found no affordable search_k for the target
  recall: exact;
- otherwise the cheaper of annoy (at the calibrated search_k) and an exact
  scan of the candidate rows, by the cost model of the index module.

>>> SegmentPlan("exact", None, "segment below full_scan_threshold").strategy
'exact'
"""

from __future__ import annotations

from dataclasses import dataclass

from ._annoy_index import COSTS
from ._search import annoy_plan

__all__ = ["SegmentPlan", "plan_segment"]


@dataclass
class SegmentPlan:
    """How one segment answers a request, and why."""

    strategy: str  # "exact" | "annoy" | "skip"
    search_k: int | None
    reason: str
    predicted_recall: float | None = None  # filled in by explain()
    candidates: int = 0  # searchable rows (live, with the vector, passing the filter)
    fallbacks: int = 0  # queries that annoy left short and exact search answered
    scored: int = 0  # (query, point) pairs scored exactly (exact plans)
    seconds: float | None = None


def plan_segment(seg, name: str, k: int, n_candidates: int, *, exact: bool, hnsw_ef,
                 indexed_only: bool, config) -> SegmentPlan:
    """Plan for segment ``seg``, vector ``name``, ``k`` results over
    ``n_candidates`` searchable rows."""
    index = seg.indexes.get(name)
    small = seg.vector_kb() < config.full_scan_threshold
    if indexed_only and index is None and not small:
        return SegmentPlan("skip", None, "indexed_only: segment not indexed yet")
    if n_candidates == 0:
        return SegmentPlan("skip", None, "no candidate points")
    if exact:
        return SegmentPlan("exact", None, "exact=True")
    if index is None:
        return SegmentPlan("exact", None, "segment not indexed")
    if small:
        return SegmentPlan("exact", None, "segment below full_scan_threshold")
    search_k = index.search_k_for(k, hnsw_ef)
    if search_k is None:
        return SegmentPlan("exact", None, "calibration: annoy cannot reach the target recall "
                           "affordably on this segment")
    d = seg.dims[name]
    want, filtered_k = annoy_plan(k, n_candidates, index.n_items, search_k)
    exact_cost = min(COSTS.exact(seg.n, d), COSTS.gathered(n_candidates, d))
    if COSTS.annoy(filtered_k, want, d) >= exact_cost:
        share = n_candidates / max(index.n_items, 1)
        why = (f"exact over {n_candidates:,} matches is cheaper than annoy at "
               f"search_k={filtered_k:,}" if share < 1 else
               f"an exact scan is cheaper than annoy at search_k={filtered_k:,}")
        return SegmentPlan("exact", None, why)
    return SegmentPlan("annoy", search_k, "calibrated index" + (
        f", post-filtered with {want} candidates" if want > 2 * k else ""))
