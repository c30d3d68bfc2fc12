"""Evaluate a condition tree over a segment: one boolean mask, vectorized.

Each condition kind has one evaluator (a registry, not an ``isinstance``
chain) reading the exploded values of its path (:mod:`._explode`).
Semantics are Qdrant's:

- a condition on a path holds if *any* value there satisfies it (arrays are
  opened one level); a missing key has no values, so it matches nothing —
  except under ``Not`` (``must_not``), which keeps points without the key;
- values of another type simply do not match: ``match 1`` never matches
  ``1.0`` nor ``true``; ranges take ints and floats, never bools;
- ``values_count`` counts the values of each value at the path (an array its
  length, a scalar 1, null and a missing key 0);
- ``Nested`` runs its filter on each object of the array, one at a time.

Masks cover rows ``0 .. segment.n - 1``; tombstoned rows hold anything, so
AND with ``segment.live_mask()``. Returned masks are cached and read-only.

>>> import numpy as np
>>> from nbvec._segment import Segment
>>> from nbvec._payload import columns_from_dicts
>>> from nbvec._filter._tree import Match, Range, and_
>>> seg = Segment(uid=0, dims={"": 2})
>>> _ = seg.append([1, 2, 3], {"": np.ones((3, 2), np.float32)}, {"": np.ones(3, bool)},
...                columns_from_dicts([{"c": "AU", "y": 1995}, {"c": ["AU", "NZ"], "y": 2001.5},
...                                    {"c": "NZ"}]), 1)
>>> segment_mask(and_(Match("c", "AU"), Range("y", gte=2000.0)), seg).tolist()
[False, True, False]
>>> estimate_cardinality(Match("c", "NZ"), seg)
2
"""

from __future__ import annotations

import math
import operator

import numpy as np
import pandas as pd

from ._datetime import parse_datetime
from ._explode import I64_MAX, I64_MIN, PathValues
from ._rowset import RowSet, rowset_of
from ._text import text_matcher
from ._tree import (
    And,
    Const,
    DatetimeRange,
    HasId,
    HasVector,
    IsEmpty,
    IsNull,
    Match,
    MatchAny,
    MatchExcept,
    MatchText,
    MinShould,
    Nested,
    Not,
    NumberIn,
    Or,
    Range,
    ValuesCount,
)

__all__ = ["segment_mask", "estimate_cardinality", "mask_of"]

_OPS = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
_EVALUATORS: dict = {}


def segment_mask(condition, segment) -> np.ndarray:
    """Rows ``0 .. segment.n - 1`` matching ``condition`` (None: every row).

    The array is cached and read-only; ``mask & segment.live_mask()`` gives
    the live matches.
    """
    if condition is None:
        return np.ones(segment.n, dtype=bool)
    return mask_of(condition, rowset_of(segment))


def estimate_cardinality(condition, segment) -> int:
    """The exact number of live points of ``segment`` matching ``condition``."""
    return int(np.count_nonzero(segment_mask(condition, segment) & segment.live_mask()))


def mask_of(condition, rs: RowSet) -> np.ndarray:
    """The mask of ``condition`` over ``rs`` (cached, read-only)."""
    if isinstance(condition, Const):
        return np.full(rs.n, condition.value, dtype=bool)
    with rs.lock:
        got = rs.cached_mask(condition)
    if got is not None:
        return got
    evaluate = _EVALUATORS.get(type(condition))
    if evaluate is None:
        raise TypeError(f"not a filter condition: {condition!r}")
    mask = evaluate(condition, rs)
    with rs.lock:
        return rs.store_mask(condition, mask)


def _evaluator(kind):
    def register(fn):
        _EVALUATORS[kind] = fn
        return fn

    return register


# -- boolean structure ---------------------------------------------------------------
@_evaluator(And)
def _and(c: And, rs: RowSet) -> np.ndarray:
    out = mask_of(c.conditions[0], rs).copy()
    for sub in c.conditions[1:]:
        if not out.any():
            break
        out &= mask_of(sub, rs)
    return out


@_evaluator(Or)
def _or(c: Or, rs: RowSet) -> np.ndarray:
    out = mask_of(c.conditions[0], rs).copy()
    for sub in c.conditions[1:]:
        if out.all():
            break
        out |= mask_of(sub, rs)
    return out


@_evaluator(Not)
def _not(c: Not, rs: RowSet) -> np.ndarray:
    return ~mask_of(c.condition, rs)


@_evaluator(MinShould)
def _min_should(c: MinShould, rs: RowSet) -> np.ndarray:
    counts = np.zeros(rs.n, dtype=np.int32)
    for sub in c.conditions:
        counts += mask_of(sub, rs)
    return counts >= c.min_count


# -- matches ---------------------------------------------------------------------------
def _int_rows(pv: PathValues, wanted: set, keep: bool = True) -> np.ndarray:
    """Rows of int leaves in ``wanted`` (``keep=False``: not in it)."""
    small = [v for v in wanted if I64_MIN <= v <= I64_MAX]
    hit = np.isin(pv.ints.values, np.array(small, dtype=np.int64))
    rows = pv.ints.rows[hit if keep else ~hit]
    if len(pv.bigs.rows):
        big = np.array([(v in wanted) == keep for v in pv.bigs.values.tolist()], dtype=bool)
        rows = np.concatenate([rows, pv.bigs.rows[big]])
    return rows


def _str_rows(pv: PathValues, wanted, keep: bool = True) -> np.ndarray:
    """Rows of str leaves in ``wanted`` (``keep=False``: not in it)."""
    if not len(pv.strs.rows):
        return pv.strs.rows
    codes, _, index = pv.str_codes()
    hit = np.isin(codes, [index[s] for s in wanted if s in index])
    return pv.strs.rows[hit if keep else ~hit]


def _split(values) -> tuple[set, set]:
    return ({v for v in values if type(v) is int}, {v for v in values if type(v) is str})


@_evaluator(Match)
def _match(c: Match, rs: RowSet) -> np.ndarray:
    pv = rs.values(c.path)
    v = c.value
    if type(v) is bool:
        return pv.hits(pv.bools.rows[pv.bools.values == v])
    if type(v) is int:
        return pv.hits(_int_rows(pv, {v}))
    return pv.hits(_str_rows(pv, (v,)))


@_evaluator(MatchAny)
def _match_any(c: MatchAny, rs: RowSet) -> np.ndarray:
    pv = rs.values(c.path)
    ints, strs = _split(c.values)
    return pv.hits(np.concatenate([_int_rows(pv, ints), _str_rows(pv, strs)]))


@_evaluator(MatchExcept)
def _match_except(c: MatchExcept, rs: RowSet) -> np.ndarray:
    # any non-null leaf that equals none of the values: floats and bools never
    # equal an int or str value, objects and nested arrays equal nothing
    pv = rs.values(c.path)
    ints, strs = _split(c.values)
    return pv.hits(np.concatenate([
        _int_rows(pv, ints, keep=False), _str_rows(pv, strs, keep=False),
        pv.floats.rows, pv.bools.rows, pv.other_rows]))


@_evaluator(NumberIn)
def _number_in(c: NumberIn, rs: RowSet) -> np.ndarray:
    pv = rs.values(c.path)
    ints, floats = set(), []
    for v in c.values:
        if type(v) is int:
            ints.add(v)
        elif math.isfinite(v) and v.is_integer():
            ints.add(int(v))
        try:
            if float(v) == v:  # an int beyond 2**53 equals no float exactly
                floats.append(float(v))
        except OverflowError:
            pass
    rows = np.concatenate([_int_rows(pv, ints),
                           pv.floats.rows[np.isin(pv.floats.values, floats)]])
    return pv.hits(rows)


@_evaluator(MatchText)
def _match_text(c: MatchText, rs: RowSet) -> np.ndarray:
    pv = rs.values(c.path)
    if not len(pv.strs.rows):
        return pv.hits(pv.strs.rows)
    codes, uniques, _ = pv.str_codes()
    matches = text_matcher(c.mode, c.text)
    ok = np.fromiter((matches(s) for s in uniques.tolist()), dtype=bool, count=len(uniques))
    return pv.hits(pv.strs.rows[ok[codes]])


# -- ranges ----------------------------------------------------------------------------
def _bounds(c) -> list:
    return [(op, b) for op in ("gt", "gte", "lt", "lte") if (b := getattr(c, op)) is not None]


def _int_compare(values: np.ndarray, op: str, bound) -> np.ndarray:
    """``values <op> bound`` exactly, for int64 values and any real bound."""
    if isinstance(bound, float):
        if math.isinf(bound):
            return np.full(len(values), _OPS[op](0, bound), dtype=bool)
        # for an integer v: v > b  <=> v > floor(b);  v >= b <=> v >= ceil(b) ...
        bound = math.floor(bound) if op in ("gt", "lte") else math.ceil(bound)
    if bound > I64_MAX or bound < I64_MIN:
        return np.full(len(values), _OPS[op](0, bound), dtype=bool)
    return _OPS[op](values, np.int64(bound))


@_evaluator(Range)
def _range(c: Range, rs: RowSet) -> np.ndarray:
    pv = rs.values(c.path)
    bounds = _bounds(c)
    ok_int = np.ones(len(pv.ints.rows), dtype=bool)
    ok_float = np.ones(len(pv.floats.rows), dtype=bool)
    for op, b in bounds:
        ok_int &= _int_compare(pv.ints.values, op, b)
        ok_float &= _OPS[op](pv.floats.values, float(b))
    ok_big = np.array([all(_OPS[op](v, b) for op, b in bounds)
                       for v in pv.bigs.values.tolist()], dtype=bool)
    return pv.hits(np.concatenate([
        pv.ints.rows[ok_int], pv.floats.rows[ok_float], pv.bigs.rows[ok_big]]))


def _parse_datetimes(uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    parsed = [parse_datetime(s) for s in uniques.tolist()]
    ok = np.array([p is not None for p in parsed], dtype=bool)
    micros = np.array([p if p is not None else 0 for p in parsed], dtype=np.int64)
    return micros, ok


@_evaluator(DatetimeRange)
def _datetime_range(c: DatetimeRange, rs: RowSet) -> np.ndarray:
    pv = rs.values(c.path)
    if not len(pv.strs.rows):
        return pv.hits(pv.strs.rows)
    codes = pv.str_codes()[0]
    micros, ok = pv.per_unique("datetime", _parse_datetimes)
    ok = ok.copy()
    for op, b in _bounds(c):
        ok &= _OPS[op](micros, np.int64(b))
    return pv.hits(pv.strs.rows[ok[codes]])


@_evaluator(ValuesCount)
def _values_count(c: ValuesCount, rs: RowSet) -> np.ndarray:
    pv = rs.values(c.path)
    bounds = _bounds(c)
    ok = np.ones(len(pv.raw_count), dtype=bool)
    for op, b in bounds:
        ok &= _OPS[op](pv.raw_count, b)
    out = pv.hits(pv.raw_rows[ok])
    if all(_OPS[op](0, b) for op, b in bounds):  # rows without any value count 0
        out |= ~pv.hits(pv.raw_rows)
    return out


# -- emptiness -------------------------------------------------------------------------
@_evaluator(IsEmpty)
def _is_empty(c: IsEmpty, rs: RowSet) -> np.ndarray:
    pv = rs.values(c.path)
    return ~pv.hits(pv.raw_rows[~pv.raw_empty])


@_evaluator(IsNull)
def _is_null(c: IsNull, rs: RowSet) -> np.ndarray:
    pv = rs.values(c.path)
    return pv.hits(pv.raw_rows[pv.raw_null])


# -- points ----------------------------------------------------------------------------
@_evaluator(HasId)
def _has_id(c: HasId, rs: RowSet) -> np.ndarray:
    seg, n = rs.segment, rs.n
    if seg is None:  # objects of a nested array have no id
        return np.zeros(n, dtype=bool)
    is_uuid = seg.id_is_uuid[:n]
    numbers = np.array([i for i in c.ids if type(i) is int], dtype=np.uint64)
    out = ~is_uuid & np.isin(seg.id_number[:n], numbers)
    uuids = [i for i in c.ids if type(i) is str]
    if uuids and is_uuid.any():
        rows = np.flatnonzero(is_uuid)
        out[rows] = pd.Series(seg.ids[rows]).isin(uuids).to_numpy()
    return out


@_evaluator(HasVector)
def _has_vector(c: HasVector, rs: RowSet) -> np.ndarray:
    has = rs.segment.has_vector.get(c.name) if rs.segment is not None else None
    return np.zeros(rs.n, dtype=bool) if has is None else has[: rs.n].copy()


@_evaluator(Nested)
def _nested(c: Nested, rs: RowSet) -> np.ndarray:
    inner, parents = rs.nested(c.path)
    out = np.zeros(rs.n, dtype=bool)
    out[parents[mask_of(c.filter, inner)]] = True
    return out
