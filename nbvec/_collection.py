"""The engine's state: segments, the id map, and the writes that change them.

Write path: inputs arrive validated and columnar (ids, {name: float32 array},
presence masks, a payload ColumnBatch); the write takes the lock, tombstones
the rows of replaced ids, appends to the appendable segment and updates the id
map inside an uninterruptible commit; then the optimizer runs (seal + index,
vacuum, merge), building new segments aside and swapping them in at once.

Read path helpers here locate points (id -> segment, row) and run a search
over all segments through the planner; result objects are built by the faces.

>>> import numpy as np
>>> from nbvec._config import EngineConfig, vector_specs
>>> c = Collection(vector_specs(2, "Dot"), EngineConfig())
>>> _ = c.upsert([7], {"": np.array([[1.0, 0.0]], np.float32)}, {"": np.ones(1, bool)}, {})
>>> c.count()
1
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

import numpy as np

from . import _planner
from ._atomic import uninterruptible
from ._distance import Queries
from ._errors import PointNotFound
from ._filter import segment_mask
from ._filter._memo import MEMO_SIZE, remember
from ._optimizer import build_sealed, plan_optimizations, seal_rows_split
from ._partition import Partition
from ._payload import Column, concat_batches
from ._planner import SegmentPlan, plan_segment, post_filter_fails, reads_scale
from ._progress import progress_bar
from ._search import GATHER_BELOW, exact_topk, index_topk, merge_hits, rescored_one
from ._segment import Segment

__all__ = ["Collection", "SearchOutcome", "Allowed"]

_ROW_BITS = 40  # packed location: segment uid << 40 | row
_NO_TALLIES = (post_filter_fails(None), reads_scale(None))  # an unfiltered plan's key ends so
GATHERED_BUDGET = 0.6  # cached gathered matches of a segment: at most 60% of its vector bytes
_EMPTY_SEGMENT = SegmentPlan("skip", None, "empty segment")  # shared: nothing fills it in
# what a segment remembers per filter (mask, rows, plan, ...): a new filter's
# mask evicts the oldest entries beyond this many (some 30 recent filters)
ALLOWED_CACHE_ENTRIES = 256


@dataclass(frozen=True, eq=False)
class Allowed:
    """Which points a request may return: those matching ``condition`` (a
    compiled filter, or None) minus ``exclude_ids`` (e.g. recommend examples).
    Resolved into row masks per segment under the collection lock, so a
    concurrent optimizer run cannot make them stale."""

    condition: object = None
    exclude_ids: tuple = ()

    def __post_init__(self):  # a cache key several times per search: hash the tree once
        object.__setattr__(self, "_hash", hash((self.condition, self.exclude_ids)))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:  # the same object, most often (see Allowed.of)
        return self is other or (isinstance(other, Allowed) and self._hash == other._hash
                                  and self.condition == other.condition
                                  and self.exclude_ids == other.exclude_ids)

    @classmethod
    def of(cls, condition, exclude_ids: tuple = ()) -> Allowed:
        """The Allowed of ``condition`` and ``exclude_ids``: the same object
        for a repeated request (a compiled filter is kept per filter object),
        so the caches keyed by it compare by identity."""
        key = (condition, exclude_ids)
        hit = _ALLOWED.get(key)
        if hit is None:
            hit = cls(condition, exclude_ids)
            remember(_ALLOWED, key, hit, MEMO_SIZE)
        return hit


_ALLOWED: dict = {}  # (condition, excluded ids) -> its Allowed, the recent ones


@dataclass
class SearchOutcome:
    """Merged hits plus, per segment, the plan that answered it."""

    hits: object
    segments: list
    plans: list
    name: str = ""  # the vector searched


class Collection:
    """Segments and id map of one collection. Thread-safe: one re-entrant lock."""

    def __init__(self, specs: dict, config):
        self.specs = specs
        self.config = config
        self.lock = threading.RLock()
        self._next_uid = 0
        self.segments: list[Segment] = []
        self.appendable = self._new_segment()
        self.segments.append(self.appendable)
        self.where: dict = {}  # point id -> packed (segment uid, row)
        self.by_uid = {self.appendable.uid: self.appendable}
        self.last_operation = -1
        self.optimizing = False
        self.journal = None  # attached storage (nbvec._storage): writes are logged first
        self._index_routes: dict = {}  # (name, k, hnsw_ef) -> kept route (_index_route)

    @classmethod
    def restore(cls, specs: dict, config, segments: list, next_uid: int,
                last_operation: int) -> Collection:
        """A collection from stored segments (the appendable one last)."""
        self = cls.__new__(cls)
        self.specs, self.config = specs, config
        self.lock = threading.RLock()
        self.segments = list(segments)
        self.appendable = self.segments[-1]
        self.by_uid = {s.uid: s for s in self.segments}
        self.where = {}
        for s in self.segments:
            base = s.uid << _ROW_BITS
            live = np.flatnonzero(s.live_mask())
            self.where.update(zip(s.ids[live].tolist(), (base + live).tolist()))
        self._next_uid = next_uid
        self.last_operation = last_operation
        self.optimizing = False
        self.journal = None
        self._index_routes = {}
        return self

    # -- helpers -------------------------------------------------------------
    def _new_segment(self) -> Segment:
        seg = Segment(self._next_uid, {n: s.size for n, s in self.specs.items()})
        self._next_uid += 1
        return seg

    def _next_operation(self) -> int:
        self.last_operation += 1
        return self.last_operation

    def locate(self, ids: list):
        """For known ``ids``: (found ids, segment uids, rows); plus the missing ids."""
        get = self.where.get
        packed = [get(i) for i in ids]
        found = [i for i, p in zip(ids, packed) if p is not None]
        missing = [i for i, p in zip(ids, packed) if p is None]
        arr = np.array([p for p in packed if p is not None], dtype=np.int64)
        return found, arr >> _ROW_BITS, arr & ((1 << _ROW_BITS) - 1), missing

    def group_rows(self, uids: np.ndarray, rows: np.ndarray):
        """Yield (segment, rows) for rows given with their segment uids."""
        if len(uids) == 0:
            return
        order = np.argsort(uids, kind="stable")
        uids, rows = uids[order], rows[order]
        cuts = np.flatnonzero(np.diff(uids)) + 1
        for u, r in zip(np.split(uids, cuts), np.split(rows, cuts)):
            yield self.by_uid[int(u[0])], r

    # -- writes --------------------------------------------------------------
    def upsert(self, ids: list, vectors: dict, present: dict, payload: dict,
               prepared: bool = False) -> int:
        """Insert or replace points. Inputs are validated; last write wins.
        ``prepared``: vectors are already as stored (e.g. copied from a segment)."""
        if not prepared:
            vectors = {n: self.specs[n].metric.prepare(v) for n, v in vectors.items()}
        ids, vectors, present, payload = _last_write_wins(ids, vectors, present, payload)
        with self.lock:
            with uninterruptible():
                if self.journal is not None:
                    self.journal.log_upsert(self.last_operation + 1, ids, vectors, present,
                                            payload)
                op = self._next_operation()
                _, uids, rows, _ = self.locate(ids)
                for seg, r in self.group_rows(uids, rows):
                    seg.tombstone(r)
                seg = self.appendable
                new_rows = seg.append(ids, vectors, present, payload, op)
                base = seg.uid << _ROW_BITS
                self.where.update(zip(ids, (base + new_rows).tolist()))
            self.optimize()
            self._written()
            return op

    def delete(self, uids: np.ndarray, rows: np.ndarray) -> int:
        """Tombstone points given by (segment uid, row)."""
        with self.lock:
            with uninterruptible():
                groups = list(self.group_rows(uids, rows))
                if self.journal is not None:
                    self.journal.log_delete(self.last_operation + 1,
                                            [p for seg, r in groups for p in seg.ids[r].tolist()])
                op = self._next_operation()
                for seg, r in groups:
                    for pid in seg.ids[r].tolist():
                        self.where.pop(pid, None)
                    seg.tombstone(r)
            self.optimize()
            self._written()
            return op

    def rewrite_vectors(self, ids: list, new: dict, new_present: dict, drop=()) -> int:
        """Give existing points new vectors for some names (``new``, raw) and/or
        remove the vectors ``drop``; their other vectors and payload are kept.
        Unknown ids raise PointNotFound and change nothing."""
        with self.lock:
            found, uids, rows, missing = self.locate(ids)
            if missing:
                raise PointNotFound(f"no point with id(s) {missing[:10]} in the collection")
            order, parts = [], []
            vectors = {n: [] for n in self.specs}
            present = {n: [] for n in self.specs}
            for seg, r in self.group_rows(uids, rows):
                order.extend(seg.ids[r].tolist())
                for n in self.specs:
                    vectors[n].append(seg.vectors[n][r])
                    present[n].append(seg.has_vector[n][r])
                parts.append((seg.payload.take(r).columns_as_batch(len(r)), len(r)))
            position = {pid: i for i, pid in enumerate(order)}
            at = np.array([position[i] for i in ids], dtype=np.int64)
            vectors = {n: np.concatenate(v)[at] for n, v in vectors.items()}
            present = {n: np.concatenate(p)[at] for n, p in present.items()}
            for n, arr in new.items():
                has = new_present[n]
                vectors[n][has] = self.specs[n].metric.prepare(arr[has])
                present[n] = present[n] | has
            for n in drop:
                present[n] = np.zeros(len(ids), dtype=bool)
            batch = concat_batches(parts)
            batch = {k: Column(c.kind, c.values[at], c.present[at]) for k, c in batch.items()}
            return self.upsert(list(ids), vectors, present, batch, prepared=True)

    def modify(self, uids, rows, change) -> int:
        """Apply ``change(segment, rows, op)`` to each segment's rows in one
        commit. ``change`` may touch only ``segment.payload``."""
        with self.lock:
            with uninterruptible():
                if self.journal is not None:
                    op = self._modify_logged(uids, rows, change)
                else:
                    op = self._next_operation()
                    for seg, r in self.group_rows(uids, rows):
                        change(seg, r, op)
                        seg.touch(r, op)
            self._written()
            return op

    def _modify_logged(self, uids, rows, change) -> int:
        """``modify`` with storage attached: the change runs on copies of the
        rows' payload, the resulting payloads are logged, then written."""
        op = self.last_operation + 1
        done, ids = [], []
        for seg, r in self.group_rows(uids, rows):
            copy = _PayloadOnly(seg.payload.take(r))
            change(copy, np.arange(len(r)), op)
            done.append((seg, r, copy.payload.columns_as_batch(len(r))))
            ids.extend(seg.ids[r].tolist())
        self.journal.log_payload(op, ids, concat_batches([(b, len(r)) for _, r, b in done]))
        self._next_operation()
        for seg, r, batch in done:
            seg.payload.write(r, batch, replace=True)
            seg.touch(r, op)
        return op

    def record_meta(self, key: str, value) -> int:
        """Log a frame-level setting (e.g. the payload schema) as one operation."""
        with self.lock:
            if self.journal is not None:
                self.journal.log_meta(self.last_operation + 1, key, value)
            op = self._next_operation()
            self._written()
            return op

    def _written(self) -> None:
        if self.journal is not None:
            self.journal.written()

    # -- optimizer -------------------------------------------------------------
    def optimize(self, force_index: bool = False) -> list[str]:
        """Run the due optimizations now; returns what ran. ``force_index``
        seals and indexes the appendable segment whatever its size."""
        done = []
        with self.lock:
            while True:
                todo = plan_optimizations(self.segments, self.appendable, self.config)
                if force_index and self.appendable.live_count and not any(
                        kind == "index" for kind, _ in todo):
                    todo.insert(0, ("index", [self.appendable]))
                    force_index = False
                if not todo:
                    if done and self.journal is not None:
                        self.journal.optimized()
                    return done
                kind, group = todo[0]
                self.optimizing = True
                try:
                    self._run(kind, group)
                finally:
                    self.optimizing = False
                done.append(kind)

    def _run(self, kind: str, group: list[Segment]) -> None:
        if kind == "index":
            old = group[0]
            pieces = [old.take(r, 0) for r in seal_rows_split(old, self.config)]
        elif kind == "compact":  # the appendable segment, rewritten without tombstones
            old = group[0]
            fresh = old.take(np.flatnonzero(old.live_mask()), self._next_uid)
            self._next_uid += 1
            with uninterruptible():
                self._swap(group, [], fresh)
            return
        elif kind == "vacuum":
            old = group[0]
            pieces = [old.take(np.flatnonzero(old.live_mask()), 0)]
        else:
            pieces = [Segment.concat(group, 0)]
        built = []
        for p in pieces:  # slow part: nothing visible changes until the swap
            uid = self._next_uid
            self._next_uid += 1
            built.append(build_sealed(p, self.specs, self.config, uid=uid))
        with uninterruptible():
            self._swap(group, built, self._new_segment() if kind == "index" else None)

    def _swap(self, old: list, built: list, appendable: Segment | None) -> None:
        """Replace segments ``old`` by ``built`` (and maybe a new appendable one)."""
        replaced = set(map(id, old))
        self._index_routes.clear()  # they name replaced segments
        for s in old:
            del self.by_uid[s.uid]
        if appendable is not None:
            self.appendable = appendable
            built = built + [appendable]
        for s in built:
            self.by_uid[s.uid] = s
            base = s.uid << _ROW_BITS
            live = np.flatnonzero(s.live_mask())
            self.where.update(zip(s.ids[live].tolist(), (base + live).tolist()))
        kept = [s for s in self.segments if id(s) not in replaced and s is not self.appendable]
        self.segments = kept + [s for s in built if s is not self.appendable] + [self.appendable]

    # -- reads ---------------------------------------------------------------
    def allowed_rows(self, seg: Segment, name: str, allowed: Allowed | None):
        """(mask, count) of the rows of ``seg`` that are live, have vector
        ``name`` and are allowed. Call with the lock held. Filtered masks are
        cached per segment version, so a repeated filter costs no pass over
        the segment."""
        valid, n_valid = seg.searchable(name)
        if allowed is None:
            return valid, n_valid
        key = (name, allowed)
        hit = seg.allowed_cache.get(key)
        if hit is not None and hit[0] == seg.version:
            return hit[1], hit[2]
        if allowed.condition is not None:
            valid = valid & segment_mask(allowed.condition, seg)
        if allowed.exclude_ids:
            get = self.where.get
            packed = np.array([p for p in map(get, allowed.exclude_ids) if p is not None],
                              dtype=np.int64)
            mine = packed[(packed >> _ROW_BITS) == seg.uid] & ((1 << _ROW_BITS) - 1)
            if len(mine):
                valid = valid.copy() if allowed.condition is None else valid
                valid[mine] = False
        n_valid = int(valid.sum())
        valid.flags.writeable = False
        while len(seg.allowed_cache) >= ALLOWED_CACHE_ENTRIES:  # the oldest make room
            seg.allowed_cache.pop(next(iter(seg.allowed_cache)))
        seg.allowed_cache[key] = (seg.version, valid, n_valid)
        return valid, n_valid

    @staticmethod
    def _per_version(seg: Segment, key: tuple, make):
        """``make()``, remembered in ``seg.allowed_cache`` under ``key`` for
        the segment's current version."""
        hit = seg.allowed_cache.get(key)
        if hit is not None and hit[0] == seg.version:
            return hit[1]
        value = make()
        seg.allowed_cache[key] = (seg.version, value)
        return value

    def allowed_list(self, seg: Segment, name: str, allowed: Allowed) -> np.ndarray:
        """The allowed rows of ``seg`` as a sorted array, cached like the mask."""
        return self._per_version(seg, ("rows", name, allowed), lambda: np.flatnonzero(
            self.allowed_rows(seg, name, allowed)[0]))

    def allowed_labels(self, seg: Segment, name: str, allowed: Allowed | None):
        """The allowed rows of ``seg`` as a callable row -> bool (what an HNSW
        graph's filtered traversal calls per node), cached like the mask."""
        return self._per_version(seg, ("labels", name, allowed), lambda: self.allowed_rows(
            seg, name, allowed)[0].tolist().__getitem__)

    def _seen(self, seg: Segment, name: str, allowed: Allowed | None) -> bool:
        """Whether a search of ``seg`` at this version used this filter before
        (and mark it used)."""
        if allowed is None:
            return False
        key = ("seen", name, allowed)
        hit = seg.allowed_cache.get(key)
        seg.allowed_cache[key] = (seg.version, True)
        return hit is not None and hit[0] == seg.version

    @staticmethod
    def _gather_fits(seg: Segment, n_valid: int) -> bool:
        """Whether ``n_valid`` gathered matches fit the segment's copy budget."""
        return n_valid <= GATHERED_BUDGET * seg.n

    @staticmethod
    def _tally(seg: Segment, kind: str, name: str, allowed: Allowed | None):
        """(queries, count) that searches of ``seg`` under this filter added
        up at this segment version: ``"misses"``, queries an index left
        short; ``"reads"``, rows a partition probe read. None when none."""
        if allowed is None:
            return None
        hit = seg.allowed_cache.get((kind, name, allowed))
        return hit[1] if hit is not None and hit[0] == seg.version else None

    def _add_to_tally(self, seg: Segment, kind: str, name: str, allowed: Allowed,
                      queries: int, count: int) -> None:
        seen = self._tally(seg, kind, name, allowed) or (0, 0)
        seg.allowed_cache[(kind, name, allowed)] = (
            seg.version, (seen[0] + queries, seen[1] + count))

    def allowed_gathered(self, seg: Segment, name: str, allowed: Allowed) -> Gathered:
        """(rows, vectors, sqnorms) of the allowed rows of ``seg``, gathered
        into their own arrays, kept as :meth:`_kept_copy` says."""
        def gather():
            rows = self.allowed_list(seg, name, allowed)
            return Gathered(rows, seg.vectors[name][rows], seg.sqnorms[name][rows])

        return self._kept_copy(seg, name, ("gathered", name, allowed), gather)

    def allowed_grouped(self, seg: Segment, name: str, allowed: Allowed, part: Partition):
        """The allowed rows of ``seg`` grouped by the lists of ``part``, their
        vectors gathered list by list and the probe's reach calibrated for
        them (a :class:`Grouped`), kept as :meth:`_kept_copy` says."""
        def group():
            grouped = part.group(self.allowed_list(seg, name, allowed), seg.sqnorms[name])
            grouped.reach = part.reach_for(allowed, grouped, self.config,
                                           among=seg.searchable(name)[0])
            return grouped

        return self._kept_copy(seg, name, ("grouped", name, allowed), group)

    @staticmethod
    def _kept_copy(seg: Segment, name: str, key: tuple, make):
        """``make()``, a copy of a filter's matches of vector ``name`` (it has
        ``.vectors``), kept per segment version
        while the copies of a segment stay under ``GATHERED_BUDGET`` of its
        vector bytes, so a repeated filter scores its matches without copying
        them again (the copy costs several times the scoring). The least
        recently used copies make room for a new one."""
        cache = seg.allowed_cache
        hit = cache.pop(key, None)
        if hit is not None and hit[0] == seg.version:
            cache[key] = hit  # most recently used: last
            return hit[1]
        copy = make()
        for k in [k for k, v in cache.items() if v[0] != seg.version]:
            del cache[k]  # stale copies must not hold memory
        size = copy.vectors.nbytes
        budget = GATHERED_BUDGET * seg.n * seg.dims[name] * 4
        if size <= budget:
            kept = [(k, v[1].vectors.nbytes) for k, v in cache.items() if k[0] in _COPIES]
            held = sum(b for _, b in kept)
            for k, nbytes in kept:  # oldest first
                if held + size <= budget:
                    break
                del cache[k]
                held -= nbytes
            cache[key] = (seg.version, copy)
        return copy

    def partition(self, seg: Segment, name: str) -> Partition:
        """The k-means partition of ``seg``'s vectors ``name``, built on first
        use (with a progress bar) and kept for the segment's life: a sealed
        segment's vectors never change. Call with the lock held."""
        part = seg.partitions.get(name)
        if part is None:
            bar = progress_bar(total=100, desc=f"partitioning segment {seg.uid} "
                               f"({seg.n:,} points)", enabled=self.config.progress)
            with bar:
                part = Partition.create(seg.vectors[name][: seg.n], self.specs[name].metric,
                                        self.config, seg.sqnorms[name][: seg.n], bar.update)
            seg.partitions[name] = part
        return part

    def search_by_scores(self, name: str, score_fn, *, limit: int, offset: int = 0,
                         score_threshold=None, allowed=None) -> SearchOutcome:
        """Top ``offset + limit`` points by ``score_fn(vectors) -> scores``
        (higher is better), one exact pass over the allowed points of every
        segment (for scores no index can answer, e.g. best_score)."""
        from ._distance import metric_for

        higher = metric_for("Dot")  # ordering and threshold: higher is better
        k = offset + limit
        with self.lock:
            segments = list(self.segments)
            parts, plans = [], []
            for pos, seg in enumerate(segments):
                valid, n_valid = self.allowed_rows(seg, name, allowed)
                if n_valid == 0:
                    plans.append(SegmentPlan("skip", None, "no candidate points"))
                    continue
                if n_valid > 0.7 * seg.n:  # score in place: no copy of most of the segment
                    scores = score_fn(seg.vectors[name][: seg.n])
                    scores = np.where(valid, scores, -np.inf).astype(np.float32)
                    rows = np.arange(seg.n)
                else:
                    rows = np.flatnonzero(valid)
                    scores = score_fn(seg.vectors[name][rows])
                top = _custom_topk(scores, min(k, n_valid))
                parts.append((pos, rows[top][None, :], scores[top][None, :]))
                plans.append(SegmentPlan("exact", None, "custom scores need every candidate",
                                         candidates=n_valid, scored=n_valid))
            hits = merge_hits(higher, parts, 1, k, score_threshold, offset)
        return SearchOutcome(hits, segments, plans, name)

    def count(self) -> int:
        return sum(s.live_count for s in self.segments)

    def search(self, name: str, queries: np.ndarray, *, limit: int, offset: int = 0,
               score_threshold=None, exact=False, hnsw_ef=None, indexed_only=False,
               allowed=None, timed=False) -> SearchOutcome:
        """Top ``offset + limit`` of each query over every segment, merged.

        ``queries`` are raw (m, d) float32; ``allowed`` (an :class:`Allowed`)
        restricts the points (filter, excluded ids); None allows all.
        ``timed``: fill in each plan's figures (candidates, scored, fallbacks,
        seconds) for ``explain``; untimed searches may share cached plans.
        """
        metric = self.specs[name].metric
        given = Queries(metric, queries)  # prepared when a plan needs them
        k = offset + limit
        options = (exact, hnsw_ef, indexed_only)
        with self.lock:
            segments = list(self.segments)
            parts, plans = [], []
            for pos, seg in enumerate(segments):
                if seg.n == 0:  # the fresh appendable segment, typically
                    plans.append(_EMPTY_SEGMENT)
                    continue
                t0 = time.perf_counter() if timed else 0.0
                valid, n_valid = self.allowed_rows(seg, name, allowed)
                gather = kept = False
                if allowed is not None:
                    # a filter seen before on this segment version is a repeated one: its
                    # matches are worth a copy, kept while the copies fit GATHERED_BUDGET
                    kept = self._seen(seg, name, allowed) and self._gather_fits(seg, n_valid)
                    gather = n_valid < GATHER_BELOW * seg.n or kept
                plan = self._plan(seg, name, k, n_valid, options, timed, allowed, gathered=kept)
                fallbacks, scored = 0, n_valid * len(queries)
                if plan.strategy == "exact":
                    q = given.prepared
                    if gather:
                        listed, vecs, sqn = self.allowed_gathered(seg, name, allowed)
                        pos_in, scores = exact_topk(metric, q, vecs, sqn, None, k)
                        rows = listed[pos_in]
                    else:
                        rows, scores = exact_topk(metric, q, seg.vectors[name][: seg.n],
                                                  seg.sqnorms[name][: seg.n],
                                                  None if n_valid == seg.n else valid, k)
                    parts.append((pos, rows, scores))
                elif plan.strategy == "partition":
                    part = self.partition(seg, name)
                    rows, scores, scored = part.topk(
                        given.prepared, self.allowed_grouped(seg, name, allowed, part), k)
                    parts.append((pos, rows, scores))
                    self._add_to_tally(seg, "reads", name, allowed, len(queries), scored)
                elif plan.strategy != "skip":  # the segment's index
                    index = seg.indexes[name]
                    rows, scores, fallbacks, scored = index_topk(
                        metric, index, given, seg.vectors[name], valid, k, plan.search_k, n_valid,
                        allowed=partial(self.allowed_labels, seg, name, allowed)
                        if index.filterable and n_valid < index.n_items else None)
                    parts.append((pos, rows, scores))
                    if allowed is not None:
                        self._add_to_tally(seg, "misses", name, allowed, len(queries), fallbacks)
                if timed:
                    plan.candidates, plan.fallbacks = n_valid, fallbacks
                    plan.scored = 0 if plan.strategy == "skip" else scored
                    plan.seconds = time.perf_counter() - t0
                plans.append(plan)
            hits = merge_hits(metric, parts, len(queries), k, score_threshold, offset)
        return SearchOutcome(hits, segments, plans, name)

    def index_answer(self, name: str, query: np.ndarray, k: int, hnsw_ef=None):
        """The notebook's common request answered straight from an index: one
        query (d,), no filter, no offset, the top ``k``, where one segment
        holds every point, nothing is deleted and the planner sends the
        query to that segment's index (HNSW or annoy). The scores are the
        graph's own where it gives them as precisely (HNSW over Cosine and
        Euclid), else the candidates re-scored from the stored vectors.
        ``(segment, rows, scores, convert)``, what :meth:`search` finds for
        it, or None when the request is not that one (:meth:`search` answers
        it). ``convert`` is None, or the graph's ``to_score`` that ``scores``
        (its distances) still need: the hits convert them when first read.

        The query may be unchecked for NaN and inf: a graph that scores its
        own answers finds every distance NaN or inf then; the answer is None
        (the general path then refuses the query; a finite query whose scores
        overflow goes there too). Call with the lock held (the caller reads
        the hits' ids and payloads under it)."""
        route = self._index_route(name, k, hnsw_ef)
        if route is None:
            return None
        seg, index, effort = route
        if not index.scores_itself and not np.isfinite(query).all():
            return None  # NaN and inf reach neither annoy nor a re-score
        # Queries' lazy preparation, written out for one (d,) query: the object and its
        # 2-D views cost the lane ~1%
        metric = self.specs[name].metric
        prepared = None if index.takes_raw_queries else metric.prepare(query[None])[0]
        answer = index.nearest_one(query if prepared is None else prepared, k, effort)
        if answer is None:  # came back short: the general path answers it
            return None
        rows, distances = answer
        if distances is not None:  # finite exactly where their scores are (to_score)
            return (seg, rows, distances, index.to_score) if math.isfinite(distances[0]) else None
        if prepared is None:  # k candidates, re-scored from the stored vectors
            prepared = metric.prepare(query[None])[0]
        rows, scores = rescored_one(metric, prepared, seg.vectors[name], rows)
        return (seg, rows, scores, None) if math.isfinite(scores[0]) else None

    def _index_route(self, name: str, k: int, hnsw_ef):
        """(segment, index, effort) that :meth:`index_answer` searches for
        ``k`` hits at ``hnsw_ef``, or None when the index is not the whole
        answer. Kept (either way; under the lock) while the segment list,
        the appendable segment's and the holding segment's versions, the
        holding index's calibrated default effort, the config and the cost
        model stay: a write, delete, optimization, new default or new cost
        model decides again."""
        key = (name, k, hnsw_ef)
        hit = self._index_routes.get(key)
        if hit is not None:
            stamp, seg, route = hit
            if stamp == self._route_stamp(seg, name):
                return route
            del self._index_routes[key]  # stale: it must not keep replaced segments alive
        holding = [s for s in self.segments if s.n]
        seg = holding[0] if len(holding) == 1 else None
        route = None if seg is None else self._route_through(seg, name, k, hnsw_ef)
        remember(self._index_routes, key, (self._route_stamp(seg, name), seg, route),
                 MEMO_SIZE)
        return route

    def _route_stamp(self, seg: Segment | None, name: str) -> tuple:
        """What a kept index route holds while it stays right: the segment
        list, the appendable segment and its version, the holding segment's
        version and its index's default effort (``seg``; None when no one
        segment holds every point), the config and the cost model."""
        held = None if seg is None else (seg.version, _default_effort(seg, name))
        return (self.segments, self.appendable, self.appendable.version, held, self.config,
                _planner.COSTS)

    def _route_through(self, seg: Segment, name: str, k: int, hnsw_ef):
        """(seg, index, effort) when ``seg``, holding every point, answers
        from its index alone, else None."""
        index = seg.indexes.get(name)
        if index is None:
            return None
        n_valid = seg.searchable(name)[1]
        if n_valid != index.n_items or k > n_valid:
            return None
        plan = self._plan(seg, name, k, n_valid, (False, hnsw_ef, False), False, None,
                          gathered=False)
        if plan.strategy != index.kind:
            return None
        return seg, index, None if plan.search_k is None else int(plan.search_k)

    def _plan(self, seg: Segment, name: str, k: int, n_valid: int, options: tuple,
              fresh: bool, allowed: Allowed | None, gathered: bool) -> SegmentPlan:
        """The planner's plan for ``seg``, kept per segment version, config,
        index default effort and cost model (and, under a filter, whether
        post-filtering has failed it so far), so a repeated request reuses it.
        ``fresh``: a new plan, not kept (explain fills in its figures; its
        reason counts the misses of this moment)."""
        exact, hnsw_ef, indexed_only = options
        effort = _default_effort(seg, name)
        if allowed is None:  # no filter, no tallies: the common key at once
            misses = reads = None
            key = ("plan", name, k, options, None, gathered) + _NO_TALLIES
        else:
            misses = self._tally(seg, "misses", name, allowed)
            reads = self._tally(seg, "reads", name, allowed)
            key = ("plan", name, k, options, allowed, gathered, post_filter_fails(misses),
                   reads_scale(reads))
        inputs = (self.config, effort, _planner.COSTS, name in seg.partitions)
        hit = None if fresh else seg.allowed_cache.get(key)
        if hit is not None and hit[0] == seg.version and hit[2] == inputs:
            return hit[1]
        plan = plan_segment(seg, name, k, n_valid, exact=exact, hnsw_ef=hnsw_ef,
                            indexed_only=indexed_only, config=self.config, misses=misses,
                            gathered=gathered, reads=reads)
        if not fresh:
            seg.allowed_cache[key] = (seg.version, plan, inputs)
        return plan


def _default_effort(seg: Segment, name: str) -> int | None:
    """The calibrated default effort (search_k, ef) of ``seg``'s index of
    vector ``name``; None without one."""
    index = seg.indexes.get(name)
    return None if index is None or index.calibration is None else \
        index.calibration.default_search_k


_COPIES = ("gathered", "grouped")  # allowed_cache kinds that hold copies of matches


class Gathered(NamedTuple):
    """A filter's matches gathered into their own arrays, in row order."""

    rows: np.ndarray
    vectors: np.ndarray
    sqnorms: np.ndarray


class _PayloadOnly:
    """A stand-in segment that holds only a payload store (see modify)."""

    def __init__(self, payload):
        self.payload = payload


def _custom_topk(scores: np.ndarray, k: int):
    """Positions of the k best (highest) custom scores, best first."""
    from ._search import _topk_from_keys

    return _topk_from_keys(scores[None, :], min(k, len(scores)))[0]


def _last_write_wins(ids, vectors, present, payload):
    """Keep only the last occurrence of each id in a batch (in batch order)."""
    last = dict(zip(ids, range(len(ids))))
    if len(last) == len(ids):
        return ids, vectors, present, payload
    keep = np.fromiter(sorted(last.values()), dtype=np.int64, count=len(last))
    return (
        [ids[i] for i in keep.tolist()],
        {n: v[keep] for n, v in vectors.items()},
        {n: p[keep] for n, p in present.items()},
        {k: Column(c.kind, c.values[keep], c.present[keep]) for k, c in payload.items()},
    )

