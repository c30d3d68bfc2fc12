"""Point ids: unsigned 64-bit integers or UUIDs (kept as canonical strings).

>>> normalize_ids([1, "936DA01F-9ABD-4D9D-80C7-02AF85C822A8"])
[1, '936da01f-9abd-4d9d-80c7-02af85c822a8']
"""

from __future__ import annotations

import uuid
from numbers import Integral

import numpy as np

from ._errors import InvalidPointId

__all__ = ["normalize_id", "normalize_ids"]

_U64_MAX = 2**64 - 1


def _bad(value, why: str) -> InvalidPointId:
    return InvalidPointId(
        f"invalid point id {value!r}: {why}; a point id is an unsigned integer "
        "(0 to 2**64-1) or a UUID string"
    )


def normalize_id(value) -> int | str:
    """One id as stored: a Python int, or a canonical lowercase UUID string."""
    if isinstance(value, (bool, np.bool_)):
        raise _bad(value, "booleans are not ids")
    if isinstance(value, Integral):
        value = int(value)
        if not 0 <= value <= _U64_MAX:
            raise _bad(value, "out of range")
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise _bad(value, "not a valid UUID") from None
    if isinstance(value, (float, np.floating)):
        raise _bad(value, "floats are not ids")
    raise _bad(value, f"type {type(value).__name__} is not an id type")


def normalize_ids(ids) -> list:
    """Validated ids as a list. Integer numpy arrays take a vectorized path."""
    if isinstance(ids, (str, bytes, uuid.UUID)) or np.isscalar(ids):
        ids = [ids]
    if isinstance(ids, range):
        if len(ids) and (min(ids[0], ids[-1]) < 0 or max(ids[0], ids[-1]) > _U64_MAX):
            raise _bad(min(ids[0], ids[-1]), "out of range")
        return list(ids)
    arr = ids if isinstance(ids, np.ndarray) else None
    if arr is None and hasattr(ids, "to_numpy"):  # pandas Series / Index
        arr = ids.to_numpy()
    if arr is not None and arr.dtype.kind in "iu":
        if arr.ndim != 1:
            raise InvalidPointId(f"ids must be one-dimensional, got shape {arr.shape}")
        if arr.dtype.kind == "i" and len(arr) and arr.min() < 0:
            raise _bad(int(arr.min()), "negative")
        return arr.tolist()
    if arr is not None and arr.dtype.kind == "f":
        raise _bad(arr[0] if len(arr) else None, "floats are not ids")
    return [normalize_id(v) for v in (arr.tolist() if arr is not None else ids)]
