"""The query planner: per segment, choose how to answer a request.

Rules (seed 000, "Query Plan"), in order:
- ``indexed_only`` skips segments without an index that are too big to scan;
- ``exact=True``, no index, or a segment under ``full_scan_threshold`` KB: exact;
- an index whose calibration found no affordable effort for the target
  recall: exact;
- a filter whose matches earlier queries found away from them (post-filtered
  candidates passing far below the filter's share): the cheaper of a probe
  of the segment's k-means partition (:mod:`nbvec._partition`, built on
  first use) and an exact scan of the matches;
- otherwise the cheaper of the index (annoy at its calibrated search_k, HNSW
  at its calibrated ef; under a filter, oversampled candidates post-filtered)
  and an exact scan of the candidate rows, by the cost model
  (:mod:`nbvec._costs`). The plan's strategy is the index kind.

>>> SegmentPlan("exact", None, "segment below full_scan_threshold").strategy
'exact'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._costs import COSTS
from ._partition import FIRST_LISTS, Partition, n_lists_for
from ._search import index_plan

__all__ = ["SegmentPlan", "plan_segment", "post_filter_fails", "reads_scale"]


@dataclass
class SegmentPlan:
    """How one segment answers a request, and why. ``search_k`` is the
    index's effort: annoy's search_k or HNSW's ef."""

    strategy: str  # "exact" | "skip" | "partition" | an index kind ("annoy", "hnsw")
    search_k: int | None  # the index's effort (None for exact, skip and partition plans)
    reason: str
    predicted_recall: float | None = None  # filled in by explain()
    candidates: int = 0  # searchable rows (live, with the vector, passing the filter)
    fallbacks: int = 0  # queries that the index left short and exact search answered
    scored: int = 0  # (query, point) pairs scored exactly (exact plans)
    seconds: float | None = None


MISSES_TO_GO_EXACT = 0.3  # share of a filter's earlier queries the index left to exact search
MISSES_SEEN = 4  # queries seen before that share counts
SCANNED_GUESS = 0.05  # share of a segment a partition probe reads, k * 20 rows more


def post_filter_fails(misses) -> bool:
    """Whether earlier index searches under a filter (``misses``: queries,
    fallbacks) show its matches lie away from the queries."""
    seen, missed = misses or (0, 0)
    return seen >= MISSES_SEEN and missed > MISSES_TO_GO_EXACT * seen


def reads_scale(reads) -> int | None:
    """The order of magnitude (base 2) of the rows a partition probe read
    per query so far under a filter (``reads``: queries, rows), or None: a
    plan kept for a filter holds while this stays the same."""
    return None if not reads else int(np.log2(1 + reads[1] / reads[0]))


def plan_segment(seg, name: str, k: int, n_candidates: int, *, exact: bool, hnsw_ef,
                 indexed_only: bool, config, misses=None, gathered=False,
                 reads=None) -> SegmentPlan:
    """Plan for segment ``seg``, vector ``name``, ``k`` results over
    ``n_candidates`` searchable rows. ``misses``: (queries, fallbacks) of
    earlier searches of this segment's index under the same filter;
    ``gathered``: the filter's matches are kept copied (no copy to pay; a
    partition probe needs such a copy);
    ``reads``: (queries, rows) that partition probes read under the filter."""
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
    effort = index.effort_for(k, hnsw_ef)
    kind, unit = index.kind, index.effort_name
    if effort is None:
        return SegmentPlan("exact", None, f"calibration: {kind} cannot reach the target recall "
                           "affordably on this segment")
    d = seg.dims[name]
    if post_filter_fails(misses):
        seen, missed = misses
        why = (f"{kind} left {missed} of {seen} earlier queries under this filter short "
               "(its matches lie away from the queries)")
        return _away_plan(seg, name, k, n_candidates, d, index.metric, why, gathered, reads)
    want, filtered = index_plan(k, n_candidates, index.n_items, effort)
    over_matches = COSTS.exact if gathered else COSTS.gathered
    exact_cost = min(COSTS.exact(seg.n, d), over_matches(n_candidates, d))
    if index.cost(COSTS, filtered, want, d) >= exact_cost:
        share = n_candidates / max(index.n_items, 1)
        why = (f"exact over {n_candidates:,} matches is cheaper than {kind} at "
               f"{unit}={filtered:,}" if share < 1 else
               f"an exact scan is cheaper than {kind} at {unit}={filtered:,}")
        return SegmentPlan("exact", None, why)
    return SegmentPlan(kind, effort, "calibrated index" + (
        f", post-filtered with {want} candidates" if want > 2 * k else ""))


def _away_plan(seg, name: str, k: int, n_candidates: int, d: int, metric, why: str,
               gathered: bool, reads):
    """A filter whose matches lie away from the queries: probe the segment's
    partition when that is cheaper than scanning the matches, else exact.
    The rows a probe reads are those measured under this filter so far, or
    a guess (``SCANNED_GUESS``) before the first probe."""
    part = seg.partitions.get(name)
    measured = ""
    if gathered and Partition.supports(metric) and (
            part is None or not np.isinf(part.reach)):  # inf: calibration found no reach pays
        n_lists = n_lists_for(seg.n)
        scanned = reads[1] / reads[0] if reads else min(n_candidates,
                                                        SCANNED_GUESS * seg.n + 20 * k)
        lists = FIRST_LISTS + scanned * n_lists / seg.n
        if COSTS.partition(n_lists, lists, scanned, d) < COSTS.exact(n_candidates, d):
            how = "built now" if part is None else "its reach calibrated for this filter"
            return SegmentPlan("partition", None,
                               f"{why}: a probe of a k-means partition ({how})")
        if reads:
            measured = f" (a partition probe read {scanned:,.0f} rows a query)"
    return SegmentPlan("exact", None, f"{why}: exact over the matches{measured}")
