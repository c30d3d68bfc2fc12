"""From merged hits to result objects, in two steps.

Under the collection lock, a :class:`HitTable` takes what the hits will
show: their ids, versions and scores as arrays, and, per segment they come
from, the payload columns and vectors of just those rows (array gathers:
later writes cannot change them). The ScoredPoints are made from the table
when a :class:`~nbvec.Results` is first read (iterated, indexed, printed),
all hits of a batch at once; ``Results.ids`` and ``.scores`` read the arrays
and never make them. The Client, which answers with the points, takes them
at once as plain lists (:meth:`HitTable.point_lists`).

>>> import numpy as np
>>> from nbvec import VectorFrame
>>> vf = VectorFrame(2, "Dot", progress=False)
>>> _ = vf.upsert([7, 8], np.eye(2), payload=[{"a": 1}, {"a": 2}])
>>> out = vf._engine.search("", np.eye(2, dtype=np.float32), limit=1)
>>> [r[0].payload for r in scored_results(out.hits, out.segments, lambda p: p, None, ("",))]
[{'a': 1}, {'a': 2}]
"""

from __future__ import annotations

from itertools import repeat

import numpy as np

from ._gc import gc_paused
from ._results import Results
from ._selection import whole_payload
from .models import ScoredPoint
from .models._base import trusted_instances

__all__ = ["scored_results", "HitTable", "vectors_of"]

PAUSE_GC_FROM = 100  # hits from which making their points pauses the cyclic collector
_FIELDS = ("id", "version", "score", "payload", "vector", "shard_key", "order_value")
_GIVEN = frozenset(_FIELDS[:5])  # the fields a hit sets; the others keep their default
if tuple(ScoredPoint.model_fields) != _FIELDS:  # _make_points spells them out
    raise ImportError(f"ScoredPoint's fields changed: {tuple(ScoredPoint.model_fields)}")


def _make_points(ids, versions, scores, payloads, vectors) -> list:
    """The ScoredPoints of hits, from the engine's own values, unvalidated:
    what ``ScoredPoint.trusted(...)`` makes, for every hit at once (a dict
    display per hit, then the slots set in C loops: ~0.47 us a point
    instead of ~1.1)."""
    return trusted_instances(ScoredPoint, [
        {"id": i, "version": v, "score": s, "payload": p, "vector": x, "shard_key": None,
         "order_value": None} for i, v, s, p, x in zip(ids, versions, scores, payloads, vectors)
    ], _GIVEN)


class _Rows:
    """Copies of what some hits show of one segment: payload columns (a
    PayloadStore of just those rows) and vectors, in hit order. Quacks like a
    segment for :func:`vectors_of`."""

    __slots__ = ("at", "n", "payload", "vectors", "has_vector")

    def __init__(self, seg, rows, at, pick, names):
        self.at = at  # positions of these hits in the table (None: all of them)
        self.n = len(rows)
        self.payload = seg.payload.take(rows) if pick is not None else None
        self.vectors = {n: seg.vectors[n][rows] for n in names}
        self.has_vector = {n: seg.has_vector[n][rows] for n in names}


class HitTable:
    """The hits of m queries, query by query and best first: ``ids``,
    ``versions``, ``scores`` arrays and ``starts`` (query q's hits are
    ``starts[q]:starts[q + 1]``); payloads and vectors per source segment.
    Taken under the lock; :meth:`points` makes the ScoredPoints (once).
    The scores of an index's answer may come as its distances, converted
    when first read (``_scores`` is then ``(distances, convert)``)."""

    def __init__(self, hits, segments, pick, names, vector_names):
        self.pick, self.names, self.vector_names = pick, names, vector_names
        self.parts: list[_Rows] = []
        self._points = None
        if hits.full_from is not None and len(hits.rows) == 1:  # one full answer, one segment
            self._scores, self.starts = hits.scores[0], [0, hits.rows.shape[1]]
            self._from_one(segments[hits.full_from], hits.rows[0])
            return
        m, width = hits.seg.shape
        # every query answered in full (empty slots come last: the last column tells)
        if width == 0 or (hits.seg[0, -1] >= 0 if m == 1 else hits.seg[:, -1].min() >= 0):
            seg_of, rows_of = hits.seg.ravel(), hits.rows.ravel()
            self._scores = hits.scores.ravel()
            self.starts = list(range(0, m * width + 1, width)) if width else [0] * (m + 1)
        else:  # hits come first in each row, then empty slots
            valid = hits.seg >= 0
            seg_of, rows_of, self._scores = hits.seg[valid], hits.rows[valid], hits.scores[valid]
            self.starts = [0, *np.cumsum(valid.sum(axis=1)).tolist()]
        only = hits.only
        if only is None and len(seg_of) and bool((seg_of == seg_of[0]).all()):
            only = int(seg_of[0])
        if only is not None or len(seg_of) == 0:  # the common case: one segment
            if len(seg_of):
                self._from_one(segments[only], rows_of)
            else:
                self.ids, self.versions = np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
            return
        copied = self._copied()
        self.ids = np.empty(len(seg_of), dtype=object)
        self.versions = np.empty(len(seg_of), dtype=np.int64)
        for pos in np.unique(seg_of).tolist():
            at = np.flatnonzero(seg_of == pos)
            seg, rows = segments[pos], rows_of[at]
            self.ids[at], self.versions[at] = _ids(seg, rows), seg.versions[rows]
            if pick is not None or names is not None:
                self.parts.append(_Rows(seg, rows, at, pick, copied))

    @classmethod
    def of_segment(cls, seg, rows, values, convert, pick, names, vector_names) -> HitTable:
        """The table of one query's full answer (``rows`` of ``seg`` and their
        ``values``, best first): ``values`` are the scores when ``convert`` is
        None, else an index's distances that ``convert`` turns into scores on
        first read (a search whose scores are never read skips it: a ufunc
        call, ~2.5% of an HNSW query)."""
        self = cls.__new__(cls)
        self.pick, self.names, self.vector_names = pick, names, vector_names
        self.parts, self._points = [], None
        self._scores = values if convert is None else (values, convert)
        self.starts = [0, len(rows)]
        # _from_one's work, written out: a call costs the single-query lane ~1%
        self.ids, self.versions = _ids(seg, rows), seg.versions[rows]
        if pick is not None or names is not None:
            self.parts.append(_Rows(seg, rows, None, pick, self._copied()))
        return self

    def _from_one(self, seg, rows) -> None:
        """Ids, versions and what the hits show, all from ``rows`` of ``seg``
        (:meth:`of_segment` writes this out: keep the two in step)."""
        self.ids, self.versions = _ids(seg, rows), seg.versions[rows]
        if self.pick is not None or self.names is not None:
            self.parts.append(_Rows(seg, rows, None, self.pick, self._copied()))

    def _copied(self) -> list:
        """The vectors :func:`vectors_of` will read: the unnamed one alone, or those named."""
        if self.names is None:
            return []
        return [""] if list(self.vector_names) == [""] else self.names

    @property
    def scores(self) -> np.ndarray:
        """The hits' scores (float32), converted from distances on first read.
        Thread-safe: a racing reader converts the same distances again."""
        scores = self._scores
        if type(scores) is tuple:
            distances, convert = scores
            scores = self._scores = convert(distances)
        return scores

    def __len__(self) -> int:
        return self.starts[-1]

    def points(self) -> list:
        """Every hit's ScoredPoint, made on the first call."""
        if self._points is None:
            if len(self) < PAUSE_GC_FROM:  # one pass of the collector at most: not worth a pause
                self._points = self._make_points()
            else:
                with gc_paused():  # many acyclic objects at once (see nbvec._gc)
                    self._points = self._make_points()
        return self._points

    def _make_points(self) -> list:
        n = len(self)
        payloads, vectors = repeat(None, n), repeat(None, n)
        if self.pick is not None and n:
            payloads = self._per_hit(lambda part: _picked(part.payload, part.n, self.pick))
        if self.names is not None and n:
            vectors = self._per_hit(lambda part: vectors_of(
                part, np.arange(part.n), self.names, self.vector_names))
        return _make_points(self.ids.tolist(), self.versions.tolist(), self.scores.tolist(),
                            payloads, vectors)

    def results(self) -> list[Results]:
        """One Results per query, its points made on first read."""
        starts = self.starts
        return [Results.of_table(self, lo, hi) for lo, hi in zip(starts, starts[1:])]

    def first(self) -> Results:
        """The Results of the first (the only) query."""
        return Results.of_table(self, 0, self.starts[1])

    def point_lists(self) -> list[list]:
        """One plain list of ScoredPoints per query, made now (what the
        Client's responses hold)."""
        points, starts = self.points(), self.starts
        return [points[lo:hi] for lo, hi in zip(starts, starts[1:])]

    def _per_hit(self, values_of) -> list:
        """One value per hit: ``values_of(part)`` of each part, put in hit order."""
        if len(self.parts) == 1 and self.parts[0].at is None:
            return values_of(self.parts[0])
        out = [None] * len(self)
        for part in self.parts:
            for i, value in zip(part.at.tolist(), values_of(part)):
                out[i] = value
        return out


def _ids(seg, rows) -> np.ndarray:
    """The point ids of ``rows`` of ``seg``: from the integer column when none
    is a UUID (a gather of numbers, not of Python objects: 25x faster)."""
    if seg.integer_ids() or not seg.id_is_uuid[rows].any():
        return seg.id_number[rows]
    return seg.ids[rows]


def _picked(store, n: int, pick) -> list:
    """The payloads of the ``n`` rows of ``store`` as ``pick`` selects them."""
    payloads = store.get(np.arange(n))
    return payloads if pick is whole_payload else [pick(p) for p in payloads]


def scored_results(hits, segments, pick, names, vector_names) -> list[Results]:
    """One Results per query row of ``hits`` (a :class:`~nbvec._search.Hits`),
    its points made on first read. Call with the collection lock held.

    ``pick`` selects from a payload (None: no payload), ``names`` are the
    vector names to return (None: no vectors), ``vector_names`` every vector
    name of the collection (an unnamed-only collection returns plain lists).
    """
    return HitTable(hits, segments, pick, names, vector_names).results()


def vectors_of(seg, rows, names, vector_names) -> list:
    """The vectors ``names`` of ``rows`` of ``seg``, as Qdrant returns them: a
    list per point for a collection with only the unnamed vector, otherwise a
    ``{name: list}`` dict per point (names the point lacks left out)."""
    rows = np.asarray(rows, dtype=np.int64)
    if list(vector_names) == [""]:
        has = seg.has_vector[""][rows].tolist()
        return [v if h else None for v, h in zip(seg.vectors[""][rows].tolist(), has)]
    out = [{} for _ in range(len(rows))]
    for n in names:
        has = seg.has_vector[n][rows]
        for i, v in zip(np.flatnonzero(has).tolist(), seg.vectors[n][rows[has]].tolist()):
            out[i][n] = v
    return out
