"""Exploded index: every value at one key path of one set of rows, as flat
numpy arrays, so conditions on that path are vectorized.

Two levels, as Qdrant reads a path:

- *raw* values: what the path reaches, arrays kept whole — for ``is_empty``,
  ``is_null``, ``values_count`` and nested filters;
- *leaves*: raw values with arrays opened one level — for match and range
  (a condition on an array matches if any element matches). Leaves are
  split by JSON type into buckets (int64, float64, bool, str factorized to
  codes, ints beyond int64, and "other": objects, nested arrays, nulls).

Typed payload columns (``int``, ``float``, ``bool``, ``str``) are read
directly; ``object`` columns and nested paths take one Python pass over that
column's objects, once (the result is cached per segment version).

>>> from nbvec._payload import columns_from_dicts
>>> cols = columns_from_dicts([{"a": [1, "x"]}, {"a": 2.5}, {}])
>>> pv = explode(cols, 3, ("a",))
>>> pv.ints.rows.tolist(), pv.strs.rows.tolist(), pv.floats.rows.tolist()
([0], [0], [1])
>>> pv.raw_count.tolist()
[2, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._jsonpath import values_at

__all__ = ["Bucket", "PathValues", "explode", "I64_MIN", "I64_MAX"]

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
_EMPTY_ROWS = np.empty(0, dtype=np.int64)


@dataclass
class Bucket:
    """Leaves of one type: their rows and their values."""

    rows: np.ndarray
    values: np.ndarray

    @staticmethod
    def of(rows: list, values: list, dtype) -> Bucket:
        if dtype is object:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
        else:
            arr = np.array(values, dtype=dtype)
        return Bucket(np.array(rows, dtype=np.int64), arr)


def _empty_bucket(dtype) -> Bucket:
    return Bucket(_EMPTY_ROWS, np.empty(0, dtype=dtype))


class PathValues:
    """The values of one path over ``n`` rows (see the module docstring)."""

    def __init__(self, n: int):
        self.n = n
        self.raw_rows = _EMPTY_ROWS
        self.raw_empty = np.empty(0, dtype=bool)  # null or []
        self.raw_null = np.empty(0, dtype=bool)  # null, or an array holding a null
        self.raw_count = np.empty(0, dtype=np.int64)  # null 0, array its length, else 1
        self.raw_objects: list | None = None  # kept for nested filters (object columns)
        self.ints = _empty_bucket(np.int64)
        self.floats = _empty_bucket(np.float64)
        self.bools = _empty_bucket(bool)
        self.strs = _empty_bucket(object)
        self.bigs = _empty_bucket(object)  # ints outside int64
        self.other_rows = _EMPTY_ROWS  # rows of non-null leaves of other types
        self._codes: tuple | None = None
        self._uniques_cache: dict = {}

    # -- strings, factorized once --------------------------------------------
    def str_codes(self) -> tuple[np.ndarray, np.ndarray, dict]:
        """(codes of each str leaf, unique strings, {string: code})."""
        if self._codes is None:
            codes, uniques = pd.factorize(self.strs.values)
            uniques = np.asarray(uniques, dtype=object)
            self._codes = (codes, uniques, {s: i for i, s in enumerate(uniques.tolist())})
        return self._codes

    def per_unique(self, key, fn) -> np.ndarray:
        """``fn(uniques)`` for the unique strings, cached under ``key``."""
        got = self._uniques_cache.get(key)
        if got is None:
            got = self._uniques_cache[key] = fn(self.str_codes()[1])
        return got

    # -- masks -----------------------------------------------------------------
    def hits(self, rows: np.ndarray) -> np.ndarray:
        """A mask over the ``n`` rows, True at ``rows``."""
        out = np.zeros(self.n, dtype=bool)
        out[rows] = True
        return out

    @property
    def nbytes(self) -> int:
        parts = [self.raw_rows, self.raw_empty, self.raw_null, self.raw_count, self.other_rows]
        for b in (self.ints, self.floats, self.bools, self.strs, self.bigs):
            parts += [b.rows, b.values]
        return sum(p.nbytes for p in parts) + 16 * (len(self.raw_objects or ()))


def explode(columns: dict, n: int, tokens: tuple) -> PathValues:
    """The PathValues of path ``tokens`` over the first ``n`` rows of ``columns``
    (a PayloadStore's ``{key: Column}``)."""
    out = PathValues(n)
    col = columns.get(tokens[0])
    if col is None or n == 0:
        return out
    rows = np.flatnonzero(col.present[:n])
    if col.kind != "object":
        if len(tokens) == 1:  # a scalar has no sub-path
            _typed(out, rows, col.values[rows], col.kind)
        return out
    _objects(out, rows, col.values[rows].tolist(), tokens[1:])
    return out


def _typed(out: PathValues, rows: np.ndarray, values: np.ndarray, kind: str) -> None:
    k = len(rows)
    out.raw_rows = rows
    out.raw_empty = np.zeros(k, dtype=bool)
    out.raw_null = np.zeros(k, dtype=bool)
    out.raw_count = np.ones(k, dtype=np.int64)
    bucket = {"int": "ints", "float": "floats", "bool": "bools", "str": "strs"}[kind]
    setattr(out, bucket, Bucket(rows, values))


def _objects(out: PathValues, rows: np.ndarray, objs: list, rest: tuple) -> None:
    """One pass over the column's objects: raw values, their flags, leaves by type."""
    if rest:
        raw_rows, raw = [], []
        for r, obj in zip(rows.tolist(), objs):
            found = values_at(obj, rest)
            if found:
                raw_rows += [r] * len(found)
                raw += found
    else:
        raw_rows, raw = rows.tolist(), objs
    empty, null, count = [], [], []
    leaves: dict = {int: ([], []), float: ([], []), bool: ([], []), str: ([], []), "big": ([], [])}
    other: list = []
    for r, v in zip(raw_rows, raw):
        if type(v) is list:
            empty.append(not v)
            null.append(any(x is None for x in v))
            count.append(len(v))
            for x in v:
                _leaf(leaves, other, r, x)
        else:
            empty.append(v is None)
            null.append(v is None)
            count.append(0 if v is None else 1)
            _leaf(leaves, other, r, v)
    out.raw_rows = np.array(raw_rows, dtype=np.int64)
    out.raw_empty = np.array(empty, dtype=bool)
    out.raw_null = np.array(null, dtype=bool)
    out.raw_count = np.array(count, dtype=np.int64)
    out.raw_objects = raw
    out.ints = Bucket.of(*leaves[int], np.int64)
    out.floats = Bucket.of(*leaves[float], np.float64)
    out.bools = Bucket.of(*leaves[bool], bool)
    out.strs = Bucket.of(*leaves[str], object)
    out.bigs = Bucket.of(*leaves["big"], object)
    out.other_rows = np.array(other, dtype=np.int64)


def _leaf(leaves: dict, other: list, r: int, v) -> None:
    t = type(v)
    if t is int and not I64_MIN <= v <= I64_MAX:
        t = "big"
    bucket = leaves.get(t)
    if bucket is not None:
        bucket[0].append(r)
        bucket[1].append(v)
    elif v is not None:
        other.append(r)
