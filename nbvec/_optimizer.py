"""The optimizer: turns the segment list into a better one, Qdrant-style.

- *indexing*: the appendable segment past ``indexing_threshold`` KB is sealed
  (split into pieces under ``max_segment_size``) and gets an index per
  vector name (annoy or HNSW, ``index=``), calibrated;
- *vacuum*: a sealed segment whose tombstones pass ``deleted_threshold`` (and
  number at least ``vacuum_min_vector_number``) is rebuilt without them;
- *compact*: the appendable segment, when tombstones outnumber its live points
  (one id upserted again and again), is rewritten without them;
- *merge*: small sealed segments (under half the indexing threshold, e.g.
  after a vacuum) are merged while the result stays under ``max_segment_size``.

Each step builds new segments aside and returns them; the collection swaps
them in at once, so an interrupted build leaves the collection as it was.
``plan_optimizations`` says what would run (for ``info()``'s optimizer status).
"""

from __future__ import annotations

import numpy as np

from ._indexes import index_class, index_kind
from ._progress import progress_bar
from ._segment import Segment

__all__ = ["plan_optimizations", "build_sealed", "seal_rows_split"]


def _kb_per_point(seg: Segment) -> float:
    return sum(seg.dims.values()) * 4 / 1024


def plan_optimizations(segments, appendable, config) -> list[tuple[str, list]]:
    """The optimizations due now: [(kind, [segments])]."""
    todo = []
    if config.indexing_threshold and appendable.vector_kb() >= config.indexing_threshold:
        todo.append(("index", [appendable]))
    if (appendable.deleted_count >= max(config.vacuum_min_vector_number, 1)
            and appendable.deleted_count > appendable.live_count):
        todo.append(("compact", [appendable]))
    for seg in segments:
        if seg is appendable or not seg.sealed:
            continue
        if (seg.deleted_count >= max(config.vacuum_min_vector_number, 1)
                and seg.deleted_count > config.deleted_threshold * seg.n):
            todo.append(("vacuum", [seg]))
    small = [s for s in segments if s.sealed and s.vector_kb() < config.indexing_threshold / 2
             and not any(s in group for _, group in todo)]
    if len(small) >= 2:
        group, total = [], 0.0
        for s in sorted(small, key=lambda s: s.live_count):
            if total + s.vector_kb() > config.max_segment_size:
                break
            group.append(s)
            total += s.vector_kb()
        if len(group) >= 2:
            todo.append(("merge", group))
    return todo


def seal_rows_split(seg: Segment, config) -> list[np.ndarray]:
    """Live rows of ``seg`` cut into pieces that fit ``max_segment_size``."""
    live = np.flatnonzero(seg.live_mask())
    per_piece = max(1, int(config.max_segment_size / _kb_per_point(seg)))
    n_pieces = max(1, -(-len(live) // per_piece))
    return np.array_split(live, n_pieces)


def build_sealed(seg: Segment, specs: dict, config, *, uid: int) -> Segment:
    """Seal ``seg`` (a fresh compacted copy, not yet visible): build and
    calibrate an index of kind ``config.index`` per vector name (annoy for a
    distance the kind lacks). ``specs``: name -> VectorSpec."""
    out = seg
    out.uid = uid
    names = [n for n in out.dims if out.has_vector[n][: out.n].any()]
    bar = progress_bar(total=100 * len(names), desc=f"indexing segment {uid} ({out.n:,} points)",
                       enabled=config.progress and out.n >= 10_000)
    with bar:
        for name in names:
            rows = np.flatnonzero(out.has_vector[name][: out.n])
            metric = specs[name].metric
            cls = index_class(index_kind(config.index, metric))
            ticks = _Ticks(bar)
            out.indexes[name] = cls.create(out.vectors[name], rows, metric, config, ticks)
            ticks.finish()
    out.sealed = True
    out.version += 1
    return out


class _Ticks:
    """Fractional progress of one index (100 units) onto a whole-unit bar."""

    def __init__(self, bar):
        self.bar, self.done, self.shown = bar, 0.0, 0

    def __call__(self, units: float) -> None:
        self.done = min(100.0, self.done + units)
        whole = int(self.done)
        if whole > self.shown:
            self.bar.update(whole - self.shown)
            self.shown = whole

    def finish(self) -> None:
        self(100.0)
