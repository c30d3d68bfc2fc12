"""Grouped search: the best ``limit`` groups of up to ``group_size`` hits,
grouped by a payload key (seed 000, "Grouping API").

Only keyword (str) and integer values group; other types are ignored; an
array puts the point in each of its groups. Groups are ordered by their best
hit, hits by score. The selection is vectorized over candidate arrays — no
per-point loop and no sort of the collection: group bests by a group-wise
max, the top ``limit`` groups by argpartition, and only their members sorted.

Candidates come either from one exact pass over the allowed points or from a
plain (index-backed) search of growing depth; :func:`is_complete` says when a
search's hits already determine the answer exactly.

>>> import numpy as np
>>> codes = np.array([0, 0, 1, 2, 1]); keys = np.array([0.9, 0.8, 0.7, 0.6, 0.95])
>>> [(g, m.tolist()) for g, m in select_groups(codes, keys, limit=2, group_size=1)]
[(1, [4]), (0, [0])]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._filter._rowset import rowset_of

__all__ = ["group_values", "select_groups", "is_complete"]


def group_values(seg, group_by: str, rows: np.ndarray):
    """For segment ``rows`` (sorted): (positions into ``rows``, group values)
    for every keyword or integer value at ``group_by``; an array contributes
    each distinct element. As in Qdrant, a point whose value holds anything
    else (a float, a bool, an object, a null in an array) joins no group."""
    pv = rowset_of(seg).values(group_by)
    bad = np.concatenate([pv.floats.rows, pv.bools.rows, pv.other_rows,
                          pv.raw_rows[pv.raw_null & (pv.raw_count > 0)]])
    big = pv.bigs.values
    big_ok = np.array([0 <= v < 2**64 for v in big.tolist()], dtype=bool)  # few: ints past int64
    bad = np.concatenate([bad, pv.bigs.rows[~big_ok]])
    pos, vals = [], []
    for b_rows, b_vals in ((pv.ints.rows, pv.ints.values), (pv.strs.rows, pv.strs.values),
                           (pv.bigs.rows[big_ok], big[big_ok])):
        if len(b_rows) == 0 or len(rows) == 0:
            continue
        at = np.minimum(np.searchsorted(rows, b_rows), len(rows) - 1)
        hit = (rows[at] == b_rows) & ~np.isin(b_rows, bad)
        pos.append(at[hit])
        vals.append(b_vals[hit].astype(object))
    if not pos:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    pos, vals = np.concatenate(pos), np.concatenate(vals)
    if np.bincount(pos).max() == 1:  # one value per point (no arrays): nothing repeats
        return pos, vals
    pairs = pd.DataFrame({"pos": pos, "value": vals})
    pairs = pairs.drop_duplicates()  # ["a", "a"] puts a point in group "a" once
    return pairs["pos"].to_numpy(dtype=np.int64), pairs["value"].to_numpy(dtype=object)


def select_groups(codes: np.ndarray, keys: np.ndarray, limit: int, group_size: int):
    """[(group code, member indices best first)] of the ``limit`` groups with
    the best keys (higher is better), ``group_size`` members at most each."""
    if len(codes) == 0:
        return []
    best = pd.Series(keys).groupby(codes).max()
    groups, bests = best.index.to_numpy(), best.to_numpy()
    if len(groups) > limit:
        top = np.argpartition(-bests, limit - 1)[:limit]
        groups, bests = groups[top], bests[top]
    order = np.argsort(-bests, kind="stable")
    groups = groups[order]
    rank = np.full(codes.max() + 1, -1, dtype=np.int64)
    rank[groups] = np.arange(len(groups))
    member = np.flatnonzero(rank[codes] >= 0)
    srt = member[np.lexsort((-keys[member], rank[codes[member]]))]
    grp = rank[codes[srt]]
    starts = np.searchsorted(grp, np.arange(len(groups)))
    within = np.arange(len(srt)) - starts[grp]
    keep = srt[within < group_size]
    kept_grp = rank[codes[keep]]
    cuts = np.searchsorted(kept_grp, np.arange(1, len(groups)))
    return list(zip(groups.tolist(), np.split(keep, cuts)))


def is_complete(selected, limit: int, group_size: int, exhausted: bool) -> bool:
    """Whether groups chosen from the top hits of a search are the exact answer:
    the search returned everything, or the ``limit`` best groups are full."""
    if exhausted:
        return True
    return len(selected) == limit and all(len(m) >= group_size for _, m in selected)


def _candidates_from_hits(segments, group_by, hits):
    """Group candidates from a search's hits: (seg positions, rows, scores, values)."""
    segs, rows, scores, values = [], [], [], []
    valid = hits.seg[0] >= 0
    hseg, hrows, hscores = hits.seg[0][valid], hits.rows[0][valid], hits.scores[0][valid]
    for pos in np.unique(hseg).tolist():
        sel = np.flatnonzero(hseg == pos)
        order = np.argsort(hrows[sel])
        sel = sel[order]
        at, vals = group_values(segments[pos], group_by, hrows[sel])
        segs.append(np.full(len(at), pos))
        rows.append(hrows[sel][at])
        scores.append(hscores[sel][at])
        values.append(vals)
    return _concat(segs, rows, scores, values)


def _candidates_exact(engine, segments, name, group_by, score_fn, allowed, keep):
    """Group candidates from one exact pass: every allowed point that has a
    group value, scored by ``score_fn(vectors) -> scores``; ``keep(scores)``
    is the score_threshold mask."""
    segs, rows, scores, values = [], [], [], []
    for pos, seg in enumerate(segments):
        valid, _ = engine.allowed_rows(seg, name, allowed)
        candidates = np.flatnonzero(valid)
        if len(candidates) == 0:
            continue
        at, vals = group_values(seg, group_by, candidates)
        if len(at) == 0:
            continue
        if (at[1:] > at[:-1]).all():  # each point once, in order (no arrays): as they are
            uniq, inverse = at, None
        else:
            uniq, inverse = np.unique(at, return_inverse=True)  # score each point once
        picked = candidates[uniq]
        if len(picked) == seg.n:  # every row, in order: the stored block, not a copy
            s = score_fn(seg.vectors[name][: seg.n])
        else:
            s = score_fn(seg.vectors[name][picked])
        if inverse is not None:
            s = s[inverse]
        ok = keep(s)
        segs.append(np.full(int(ok.sum()), pos))
        rows.append(candidates[at][ok])
        scores.append(s[ok])
        values.append(vals[ok])
    return _concat(segs, rows, scores, values)


def _concat(segs, rows, scores, values):
    if not segs:
        e = np.empty(0, dtype=np.int64)
        return e, e, np.empty(0, dtype=np.float32), np.empty(0, dtype=object)
    if len(segs) == 1:  # one segment: its arrays as they are
        return segs[0], rows[0], scores[0], values[0]
    return (np.concatenate(segs), np.concatenate(rows), np.concatenate(scores),
            np.concatenate(values))


def grouped_search(frame, name, *, group_by, limit, group_size, score_threshold, allowed,
                   query=None, score_fn=None, search_kwargs=None, with_payload=True,
                   with_vectors=False, lookup=None):
    """Groups for a vector ``query`` (fetch-more over the planner, then an exact
    pass if needed) or for custom scores ``score_fn`` (one exact pass).

    ``lookup``: a callable ``group ids -> {id: Record}`` for ``with_lookup``.
    Returns GroupResults.
    """
    from ._results import GroupResults
    from ._search import Hits
    from .models import PointGroup

    engine = frame._engine
    metric = frame._specs[name].metric if score_fn is None else None
    with engine.lock:
        segments = list(engine.segments)
        selected = None
        if query is not None:
            metric = frame._specs[name].metric
            k = limit * group_size * 2
            total = sum(s.live_count for s in segments)
            for _ in range(3):
                outcome = engine.search(name, query, limit=k, score_threshold=score_threshold,
                                        allowed=allowed, **(search_kwargs or {}))
                if all(p.strategy in ("exact", "skip") for p in outcome.plans):
                    break  # exact plans: one exact grouped pass costs the same
                cand = _candidates_from_hits(segments, group_by, outcome.hits)
                selected, codes_vals = _select(cand, limit, group_size, metric)
                exhausted = int((outcome.hits.seg >= 0).sum()) < k
                if is_complete(selected, limit, group_size, exhausted):
                    break
                selected = None
                if k >= total:
                    break
                k *= 4
            if selected is None:
                q = metric.prepare(query)
                cand = _candidates_exact(
                    engine, segments, name, group_by, lambda v: metric.scores(q, v)[0], allowed,
                    lambda s: metric.passes(s, score_threshold))
                selected, codes_vals = _select(cand, limit, group_size, metric)
        else:
            from ._distance import metric_for

            metric = metric_for("Dot")  # custom scores: higher is better
            cand = _candidates_exact(engine, segments, name, group_by, score_fn, allowed,
                                     lambda s: metric.passes(s, score_threshold))
            selected, codes_vals = _select(cand, limit, group_size, metric)
        seg_pos, rows, scores, _ = cand
        members = np.concatenate([m for _, m in selected]) if selected else np.empty(0, int)
        hit_scores = scores[members]
        if query is not None and len(members):  # pair scores, as plain search gives them
            vecs = np.stack([segments[p].vectors[name][r]
                             for p, r in zip(seg_pos[members].tolist(), rows[members].tolist())])
            hit_scores = metric.pair_scores(metric.prepare(query), vecs[None])[0]
        hits = Hits(seg_pos[members][None, :], rows[members][None, :],
                    hit_scores.astype(np.float32)[None, :])
        points = frame._scored(hits, segments, with_payload, with_vectors)[0]
    group_ids = [codes_vals[g] for g, _ in selected]
    found = lookup(group_ids) if lookup is not None else {}
    out, at = GroupResults(), 0
    for gid, (_, m) in zip(group_ids, selected):
        out.append(PointGroup(id=gid, hits=list(points[at: at + len(m)]), lookup=found.get(gid)))
        at += len(m)
    return out


def _select(cand, limit, group_size, metric):
    """Groups of the candidates: (selection, group values by code)."""
    _, _, scores, values = cand
    if len(values) == 0:
        return [], np.empty(0, dtype=object)
    codes, uniques = pd.factorize(values)
    return select_groups(codes, metric.key(scores), limit, group_size), np.asarray(
        uniques, dtype=object)
