"""From merged hits to result objects: the ids, versions, payloads and vectors
of the hits are read one segment at a time (array gathers), then one
ScoredPoint is made per hit and the hits are cut into one Results per query.

>>> import numpy as np
>>> from nbvec import VectorFrame
>>> vf = VectorFrame(2, "Dot", progress=False)
>>> _ = vf.upsert([7, 8], np.eye(2), payload=[{"a": 1}, {"a": 2}])
>>> out = vf._engine.search("", np.eye(2, dtype=np.float32), limit=1)
>>> [r[0].id for r in scored_results(out.hits, out.segments, lambda p: p, None, ("",))]
[7, 8]
"""

from __future__ import annotations

import numpy as np

from ._results import Results
from .models import ScoredPoint

__all__ = ["scored_results", "hit_fields", "vectors_of"]

# the engine's own values: no validation needed
_make_point = ScoredPoint.trusted_maker("id", "version", "score", "payload", "vector")


def scored_results(hits, segments, pick, names, vector_names) -> list[Results]:
    """One Results per query row of ``hits`` (a :class:`~nbvec._search.Hits`).

    ``pick`` selects from a payload (None: no payload), ``names`` are the
    vector names to return (None: no vectors), ``vector_names`` every vector
    name of the collection (an unnamed-only collection returns plain lists).
    """
    valid = hits.seg >= 0
    counts = valid.sum(axis=1).tolist()
    seg_of, rows_of = hits.seg[valid], hits.rows[valid]  # query by query, best first
    ids, versions, payloads, vectors = hit_fields(segments, seg_of, rows_of, pick, names,
                                                  vector_names)
    points = list(map(_make_point, ids, versions, hits.scores[valid].tolist(), payloads,
                      vectors))
    out, start = [], 0
    for count in counts:
        out.append(Results(points[start : start + count]))
        start += count
    return out


def hit_fields(segments, seg_of, rows_of, pick, names, vector_names):
    """(ids, versions, payloads, vectors) lists of the hits given by segment
    position ``seg_of`` and row ``rows_of`` (payloads/vectors None when not
    asked for)."""
    total = len(rows_of)
    ids, versions = [None] * total, [0] * total
    payloads, vectors = [None] * total, [None] * total
    one = total == 0 or bool((seg_of == seg_of[0]).all())  # the common case, cheaply
    positions = [int(seg_of[0])] if one and total else np.unique(seg_of).tolist()
    for pos in positions:
        seg = segments[pos]
        if len(positions) == 1:
            at, rows = None, rows_of
        else:
            at = np.flatnonzero(seg_of == pos).tolist()
            rows = rows_of[at]
        fields = [(ids, seg.ids[rows].tolist()), (versions, seg.versions[rows].tolist())]
        if pick is not None:
            fields.append((payloads, [pick(p) for p in seg.payload.get(rows)]))
        if names is not None:
            fields.append((vectors, vectors_of(seg, rows, names, vector_names)))
        for target, values in fields:
            if at is None:
                target[:] = values
            else:
                for i, value in zip(at, values):
                    target[i] = value
    return ids, versions, payloads, vectors


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
