"""Columnar payload of one segment: one column per top-level key.

A column has a *kind* and two arrays of the segment's row capacity:
``values`` and ``present``. Kinds are typed fast paths — ``int`` (int64),
``float`` (float64), ``bool``, ``str`` (object array of str) — and ``object``
for anything else (nulls, lists, nested objects, mixed types). "Key absent"
is ``present == False``; JSON null is a present ``None`` in an object column.
Writing a value of another kind into a column turns the column into ``object``.

>>> store = PayloadStore(capacity=2)
>>> store.write(np.arange(2), columns_from_dicts([{"a": 1}, {"a": 2, "b": "x"}]), replace=True)
>>> store.get([0, 1])
[{'a': 1}, {'a': 2, 'b': 'x'}]
>>> store.column("a").kind
'int'
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._errors import InvalidPayload
from ._json import to_json_object, to_json_value

__all__ = ["Column", "PayloadStore", "columns_from_dicts", "columns_from_frame", "ColumnBatch"]

_DTYPES = {"int": np.int64, "float": np.float64, "bool": np.bool_, "str": object, "object": object}
_FILL = {"int": 0, "float": np.nan, "bool": False, "str": None, "object": None}


@dataclass
class Column:
    """One payload key over a segment's rows."""

    kind: str
    values: np.ndarray
    present: np.ndarray

    def as_object(self) -> Column:
        """The same column as kind ``object`` (Python values)."""
        if self.kind == "object":
            return self
        return Column("object", self.values.astype(object), self.present)


# A batch of payload in columns: key -> Column of exactly the batch's length.
ColumnBatch = dict


def _kind_of_values(values: list) -> str:
    types = set(map(type, values))
    if len(types) == 1:
        t = types.pop()
        return {int: "int", float: "float", bool: "bool", str: "str"}.get(t, "object")
    return "object"


def _column_from_values(values: list, rows: list, n: int) -> Column:
    """A Column of length ``n`` holding ``values`` at ``rows``."""
    kind = _kind_of_values(values)
    present = np.zeros(n, dtype=bool)
    present[rows] = True
    if kind == "int":
        try:
            typed = np.array(values, dtype=np.int64)
        except OverflowError:  # beyond int64: keep Python ints
            kind = "object"
    if kind == "object" or kind == "str":
        arr = np.empty(n, dtype=object)
        tmp = np.empty(len(values), dtype=object)
        tmp[:] = values if kind == "str" else _as_object_items(values)
        arr[rows] = tmp
        return Column(kind, arr, present)
    arr = np.full(n, _FILL[kind], dtype=_DTYPES[kind])
    arr[rows] = typed if kind == "int" else np.array(values, dtype=_DTYPES[kind])
    return Column(kind, arr, present)


def _as_object_items(values: list) -> list:
    # a list stored whole in an object array must not be broadcast by numpy
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out


def columns_from_dicts(payloads) -> ColumnBatch:
    """Validate a sequence of payload dicts (or None) into a ColumnBatch."""
    payloads = list(payloads)
    n = len(payloads)
    keys: dict[str, tuple[list, list]] = {}
    for row, p in enumerate(payloads):
        if p is None:
            continue
        try:
            p = to_json_object(p)
        except InvalidPayload as exc:
            raise InvalidPayload(f"payload of point #{row}: {exc}") from None
        for k, v in p.items():
            entry = keys.get(k)
            if entry is None:
                entry = keys[k] = ([], [])
            entry[0].append(row)
            entry[1].append(v)
    return {k: _column_from_values(vals, rows, n) for k, (rows, vals) in keys.items()}


def columns_from_frame(df: pd.DataFrame) -> ColumnBatch:
    """A DataFrame's columns as payload; NaN/None/NA cells mean "key absent"."""
    out = {}
    n = len(df)
    for key in df.columns:
        if not isinstance(key, str):
            raise InvalidPayload(f"payload column {key!r} is not named by a string")
        s = df[key]
        present = ~s.isna().to_numpy()
        kind = s.dtype.kind
        if kind in "iu" and s.dtype != object:
            out[key] = Column("int", s.to_numpy(dtype=np.int64, na_value=0), present)
        elif kind == "f":
            out[key] = Column("float", s.to_numpy(dtype=np.float64, na_value=np.nan), present)
        elif kind == "b":
            out[key] = Column("bool", s.to_numpy(dtype=bool, na_value=False), present)
        else:
            rows = np.flatnonzero(present)
            raw = s.to_numpy(dtype=object)[rows]
            vals = [to_json_value(v, f"column {key!r}") for v in raw]
            out[key] = _column_from_values(vals, rows, n)
    return out


def _plain_values(col: Column, rows: np.ndarray) -> list:
    """Python values of ``col`` at ``rows``; objects (lists, dicts) copied,
    each on its own (a row asked twice gets two copies, not one shared)."""
    vals = col.values[rows].tolist()
    return list(map(copy.deepcopy, vals)) if col.kind == "object" else vals


class PayloadStore:
    """The payload columns of one segment (row capacity grows with it)."""

    def __init__(self, capacity: int = 0):
        self.columns: dict[str, Column] = {}
        self.capacity = capacity

    # -- shape -------------------------------------------------------------
    def reserve(self, capacity: int) -> None:
        """Grow every column to ``capacity`` rows (new rows absent)."""
        if capacity <= self.capacity:
            return
        for col in self.columns.values():
            _grow(col, capacity)
        self.capacity = capacity

    def column(self, key: str) -> Column | None:
        return self.columns.get(key)

    # -- writes ------------------------------------------------------------
    def write(self, rows: np.ndarray, batch: ColumnBatch, *, replace: bool) -> None:
        """Write ``batch`` (aligned with ``rows``) into those rows.

        ``replace=True`` first clears every key of those rows (overwrite,
        or newly appended rows); otherwise keys not in the batch are kept.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if replace:
            self.clear(rows)
        for key, new in batch.items():
            col = self.columns.get(key)
            if col is None:
                col = Column(new.kind, np.full(self.capacity, _FILL[new.kind], _DTYPES[new.kind]),
                             np.zeros(self.capacity, dtype=bool))
                self.columns[key] = col
            if col.kind != new.kind and new.present.any():
                col = self.columns[key] = col.as_object()
                new = new.as_object()
            sel = rows[new.present]
            col.values[sel] = new.values[new.present]
            col.present[sel] = True

    def set_same(self, rows: np.ndarray, payload: dict) -> None:
        """Set the same payload ``{key: value}`` on every row (set_payload)."""
        payload = to_json_object(payload)
        n = len(rows)
        batch = {}
        for key, value in payload.items():
            vals = np.empty(n, dtype=object)
            vals.fill(value)
            kind = _kind_of_values([value])
            if kind == "int" and not -(2**63) <= value < 2**63:
                kind = "object"  # beyond int64: kept as a Python int
            if kind in ("int", "float", "bool"):
                vals = vals.astype(_DTYPES[kind])
            batch[key] = Column(kind, vals, np.ones(n, dtype=bool))
        self.write(rows, batch, replace=False)

    def delete_keys(self, rows: np.ndarray, keys) -> None:
        """Remove top-level ``keys`` (or nested ``a.b`` paths) from those rows."""
        from ._jsonpath import delete_path, parse_path

        for key in keys:
            path = parse_path(key)
            col = self.columns.get(path[0])
            if col is None:
                continue
            if len(path) == 1:
                col.present[rows] = False
                continue
            if col.kind != "object":
                continue
            for r in rows[col.present[rows]]:  # nested edits touch only those rows' objects
                col.values[r] = delete_path(col.values[r], path[1:])

    def clear(self, rows: np.ndarray) -> None:
        """Remove every key from those rows."""
        for col in self.columns.values():
            col.present[rows] = False

    # -- reads -------------------------------------------------------------
    def get(self, rows) -> list[dict]:
        """Payload dicts of ``rows`` (copies: callers may mutate them), keys
        in column order. Filled column by column: a store per value costs
        half of zipping each row's values into a dict."""
        rows = np.asarray(rows, dtype=np.int64)
        out = [{} for _ in range(len(rows))]
        for key, col in self.columns.items():
            present = col.present[rows]
            if present.all():  # the common case
                for payload, value in zip(out, _plain_values(col, rows)):
                    payload[key] = value
                continue
            at = np.flatnonzero(present)
            for i, value in zip(at.tolist(), _plain_values(col, rows[at])):
                out[i][key] = value
        return out

    def take(self, rows: np.ndarray) -> PayloadStore:
        """A new store holding ``rows`` in that order (compaction, merge)."""
        out = PayloadStore(len(rows))
        for key, col in self.columns.items():
            present = col.present[rows]
            if present.any():
                out.columns[key] = Column(col.kind, col.values[rows], present)
        return out

    def to_pandas(self, rows) -> pd.DataFrame:
        """Payload of ``rows`` as a DataFrame; absent keys are missing values."""
        rows = np.asarray(rows, dtype=np.int64)
        data = {}
        for key, col in self.columns.items():
            present = col.present[rows]
            if not present.any():
                continue
            vals = col.values[rows]
            if col.kind == "int":
                s = pd.array(vals, dtype="Int64")
                if not present.all():
                    s[~present] = pd.NA
            elif col.kind == "float":
                s = np.where(present, vals, np.nan)
            elif col.kind == "bool":
                s = pd.array(vals, dtype="boolean")
                if not present.all():
                    s[~present] = pd.NA
            else:
                s = vals.copy()
                s[~present] = None
            data[key] = s
        return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))

    def keys(self) -> list[str]:
        return list(self.columns)

    def columns_as_batch(self, n: int) -> ColumnBatch:
        """The first ``n`` rows of every column, as a ColumnBatch."""
        return {
            k: Column(c.kind, c.values[:n], c.present[:n])
            for k, c in self.columns.items()
            if c.present[:n].any()
        }


def _grow(col: Column, capacity: int) -> None:
    extra = capacity - len(col.values)
    col.values = np.concatenate([col.values, np.full(extra, _FILL[col.kind], col.values.dtype)])
    col.present = np.concatenate([col.present, np.zeros(extra, dtype=bool)])


def column_batch_from_any(payload, n: int) -> ColumnBatch:
    """Payload given as None, a DataFrame, a dict of columns or a list of dicts."""
    if payload is None:
        return {}
    if isinstance(payload, pd.DataFrame):
        return columns_from_frame(payload.reset_index(drop=True))
    if isinstance(payload, dict):
        return columns_from_frame(pd.DataFrame(payload))
    return columns_from_dicts(payload)




def concat_batches(parts: list[tuple[ColumnBatch, int]]) -> ColumnBatch:
    """One ColumnBatch from ``(batch, length)`` parts, in order; a key's kind
    is kept when every part agrees on it, else the column becomes ``object``."""
    keys = list(dict.fromkeys(k for b, _ in parts for k in b))
    out = {}
    for key in keys:
        kinds = {b[key].kind for b, _ in parts if key in b and b[key].present.any()}
        kind = kinds.pop() if len(kinds) == 1 else "object"
        cols = []
        for batch, n in parts:
            col = batch.get(key)
            if col is None:
                col = Column(kind, np.full(n, _FILL[kind], dtype=_DTYPES[kind]),
                             np.zeros(n, dtype=bool))
            elif col.kind != kind:
                col = col.as_object()
            cols.append(col)
        out[key] = Column(kind, np.concatenate([c.values for c in cols]),
                          np.concatenate([c.present for c in cols]))
    return out
