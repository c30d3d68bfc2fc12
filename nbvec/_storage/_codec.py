"""Point ids, payload columns and array bundles as bytes and plain arrays.

Nothing is pickled: ids are stored as ``is_uuid`` (bool), ``number``
(uint64) and the UUID strings (``U36``); typed payload columns keep their
numpy dtype, ``str`` columns become strings and ``object`` columns (mixed
types, nested values, null) JSON strings. A *bundle* is a JSON header plus
raw array bytes, with a whitelist of dtypes (no object arrays).

>>> ids = [3, "936da01f-9abd-4d9d-80c7-02af85c822a8"]
>>> decode_ids(*encode_ids(ids)).tolist() == ids
True
>>> header, arrays = unpack(pack({"t": 1}, {"a": np.arange(3)}))
>>> header["t"], arrays["a"].tolist()
(1, [0, 1, 2])
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pyarrow as pa

from .._errors import StorageCorrupted
from .._payload import _DTYPES, _FILL, Column, _as_object_items

__all__ = ["encode_ids", "decode_ids", "pack", "unpack", "batch_to_arrays", "arrays_to_batch",
           "batch_to_table", "table_to_batch"]

_SAFE_KINDS = set("biufUS")  # numeric, bool and fixed-width strings: never object arrays


# -- ids -----------------------------------------------------------------------------------
def encode_ids(ids: list):
    """(is_uuid, number, uuids) arrays of a list of normalized ids."""
    k = len(ids)
    is_uuid = np.fromiter((type(i) is str for i in ids), dtype=bool, count=k)
    number = np.zeros(k, dtype=np.uint64)
    if not is_uuid.any():
        number[:] = np.array(ids, dtype=np.uint64) if k else 0
        return is_uuid, number, np.empty(0, dtype="U36")
    number[~is_uuid] = np.array([i for i in ids if type(i) is not str], dtype=np.uint64)
    return is_uuid, number, np.array([i for i in ids if type(i) is str], dtype="U36")


def decode_ids(is_uuid: np.ndarray, number: np.ndarray, uuids: np.ndarray) -> np.ndarray:
    """The ids as an object array of Python ints and UUID strings."""
    out = number.astype(object)
    if len(uuids):
        out[is_uuid] = uuids.astype(object)
    return out


# -- bundles ---------------------------------------------------------------------------------
def pack(header: dict, arrays: dict) -> bytes:
    """A JSON header and named arrays as one byte string."""
    parts, specs = [], []
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        if arr.dtype.kind not in _SAFE_KINDS:
            raise TypeError(f"array {name!r} of dtype {arr.dtype} is not storable")
        specs.append([name, arr.dtype.str, list(arr.shape)])
        parts.append(arr.tobytes())
    head = json.dumps({**header, "arrays": specs}).encode()
    return b"".join([struct.pack("<I", len(head)), head, *parts])


def unpack(data: bytes, where: str = "record"):
    """(header, {name: array}) of :func:`pack`'s bytes; StorageCorrupted if malformed."""
    try:
        (n,) = struct.unpack_from("<I", data, 0)
        header = json.loads(bytes(data[4: 4 + n]))
        pos, arrays = 4 + n, {}
        for name, dtype, shape in header.pop("arrays"):
            dt = np.dtype(dtype)
            if dt.kind not in _SAFE_KINDS:
                raise ValueError(f"dtype {dtype} is not allowed")
            size = dt.itemsize * int(np.prod(shape, dtype=np.int64))
            if pos + size > len(data):
                raise ValueError("array data runs past the end")
            arrays[name] = np.frombuffer(data, dt, int(np.prod(shape)), pos).reshape(shape).copy()
            pos += size
    except (ValueError, TypeError, KeyError, struct.error) as exc:
        raise StorageCorrupted(f"{where}: malformed content ({exc})") from None
    return header, arrays


# -- payload columns as arrays (WAL records) ------------------------------------------------------
def batch_to_arrays(batch: dict, prefix: str = "p"):
    """Column metadata and arrays of a ColumnBatch."""
    meta, arrays = [], {}
    for j, (key, col) in enumerate(batch.items()):
        meta.append({"key": key, "kind": col.kind})
        arrays[f"{prefix}{j}.present"] = col.present
        if col.kind in ("int", "float", "bool"):
            arrays[f"{prefix}{j}.values"] = col.values
        else:
            text = json.dumps(col.values[col.present].tolist(), ensure_ascii=False)
            arrays[f"{prefix}{j}.json"] = np.frombuffer(text.encode(), dtype=np.uint8)
    return meta, arrays


def arrays_to_batch(meta: list, arrays: dict, n: int, prefix: str = "p") -> dict:
    """The ColumnBatch of :func:`batch_to_arrays`'s output."""
    out = {}
    for j, m in enumerate(meta):
        kind, present = m["kind"], arrays[f"{prefix}{j}.present"].astype(bool)
        if kind in ("int", "float", "bool"):
            values = arrays[f"{prefix}{j}.values"].astype(_DTYPES[kind])
        else:
            got = json.loads(arrays[f"{prefix}{j}.json"].tobytes().decode())
            values = _spread(got, present, n, kind)
        out[m["key"]] = Column(kind, values, present)
    return out


def _spread(values: list, present: np.ndarray, n: int, kind: str) -> np.ndarray:
    if len(values) != int(present.sum()):
        raise ValueError(f"{len(values)} values for {int(present.sum())} present rows")
    out = np.full(n, _FILL[kind], dtype=object)
    out[present] = values if kind == "str" else _as_object_items(values)
    return out


# -- payload columns as a parquet table (segment files) ---------------------------------------------
def batch_to_table(batch: dict, n: int):
    """(column metadata, pyarrow Table) of a ColumnBatch of length ``n``; an
    absent key is a null cell, JSON null in an object column is ``"null"``."""
    meta, cols = [], {}
    for j, (key, col) in enumerate(batch.items()):
        absent = ~col.present[:n]
        values = col.values[:n]
        if col.kind in ("int", "float", "bool"):
            arr = pa.array(values, mask=absent)
        elif col.kind == "str":
            arr = pa.array(values, type=pa.string(), mask=absent)
        else:
            text = np.full(n, None, dtype=object)
            text[~absent] = list(map(_dumps, values[~absent].tolist()))
            arr = pa.array(text, type=pa.string())
        meta.append({"key": key, "kind": col.kind})
        cols[f"c{j}"] = arr
    return meta, pa.table(cols) if cols else None


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def table_to_batch(meta: list, table, n: int, where: str) -> dict:
    """The ColumnBatch of :func:`batch_to_table`'s output, checked."""
    out = {}
    for j, m in enumerate(meta):
        try:
            kind, key = m["kind"], m["key"]
            col = table.column(f"c{j}")
            if len(col) != n:
                raise ValueError(f"column {key!r} has {len(col)} rows, expected {n}")
            present = ~col.is_null().to_numpy(zero_copy_only=False)
            if kind in ("int", "float", "bool"):
                values = col.fill_null(_FILL[kind]).to_numpy().astype(_DTYPES[kind])
            elif kind == "str":
                values = col.to_numpy(zero_copy_only=False).astype(object)
            elif kind == "object":
                text = col.to_numpy(zero_copy_only=False)[present]
                values = _spread(list(map(json.loads, text.tolist())), present, n, kind)
            else:
                raise ValueError(f"unknown payload kind {kind!r}")
        except (KeyError, ValueError, TypeError, pa.ArrowException) as exc:
            raise StorageCorrupted(f"{where}: payload column #{j} is unreadable ({exc})") from None
        out[key] = Column(kind, values, present)
    return out
