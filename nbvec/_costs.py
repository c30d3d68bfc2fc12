"""The planner's cost model: per-query seconds of each way to answer a segment.

Constants measured on this machine kind (2 cores; bench/RESULTS.md and
../shared/notes/ann-measurements.md), not timings taken at query time, so a
plan is deterministic: the same request on the same data is always answered
the same way.

>>> COSTS.exact(100_000, 100) > COSTS.hnsw(32, 10, 100, 16)
True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CostModel", "COSTS"]


@dataclass(frozen=True)
class CostModel:
    """Per-query cost estimates (seconds).

    - annoy visits ~0.18 us per search_k candidate;
    - an exact BLAS scan (two threads) costs ~0.1 ns per stored float;
    - HNSW (hnswlib) expands ~ef nodes, each ~0.7 us + 2.5 ns per dimension at
      M = 16 (fitted on 100k x 100 and 49k x 384, ef 10-320), growing as M^0.4
      (more links per node, many already visited);
    - a partition probe (:mod:`nbvec._partition`) scores every centroid, then
      reads each probed list in place, ~0.25 ns per float (memory-bound, one
      thread) and ~1.2 us per list, after ~40 us of per-query bookkeeping.
    """

    annoy_per_candidate: float = 0.18e-6
    exact_per_float: float = 0.10e-9
    fixed_overhead: float = 5e-6
    hnsw_per_ef: float = 0.7e-6
    hnsw_per_ef_dim: float = 2.5e-9
    hnsw_fixed: float = 3e-6
    scan_per_float: float = 0.25e-9
    scan_per_list: float = 1.2e-6
    partition_fixed: float = 40e-6

    def annoy(self, search_k: int, k: int, d: int) -> float:
        return self.fixed_overhead + search_k * self.annoy_per_candidate + k * d * 1e-9

    def hnsw(self, ef: int, k: int, d: int, m: int) -> float:
        """One HNSW query at ``ef`` (hnswlib searches with max(ef, k))."""
        per_node = (self.hnsw_per_ef + d * self.hnsw_per_ef_dim) * (m / 16) ** 0.4
        return self.fixed_overhead + self.hnsw_fixed + max(ef, k) * per_node + k * d * 1e-9

    def partition(self, n_lists: int, read: float, scanned: float, d: int) -> float:
        """One query reading ``read`` of ``n_lists`` lists, ``scanned`` rows in them."""
        return (self.partition_fixed + n_lists * d * self.exact_per_float
                + read * self.scan_per_list + scanned * d * self.scan_per_float)

    def exact(self, n: int, d: int) -> float:
        """A full scan of n rows (masked if filtered)."""
        return self.fixed_overhead + n * d * self.exact_per_float

    def gathered(self, n: int, d: int) -> float:
        """Exact scoring of n gathered rows (copy + product): ~3x a scan per row."""
        return self.fixed_overhead + n * d * 3 * self.exact_per_float


COSTS = CostModel()
