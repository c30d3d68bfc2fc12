"""Payload values as JSON: numpy scalars become JSON types, datetimes become
ISO 8601 strings, and anything that is not JSON is refused, naming its key.

>>> import numpy as np
>>> to_json_object({"n": np.int64(3), "tags": np.array(["a", "b"])})
{'n': 3, 'tags': ['a', 'b']}
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np

from ._errors import InvalidPayload

__all__ = ["to_json_value", "to_json_object"]

_PLAIN = (str, int, float, bool, type(None))


def to_json_value(value, path: str = "payload"):
    """``value`` as a JSON value (str, int, float, bool, None, list, dict)."""
    t = type(value)
    if t is str or t is bool or t is int or value is None:
        return value
    if t is float:
        if not math.isfinite(value):
            raise InvalidPayload(f"{path}: {value} is not a JSON number (NaN and inf are not)")
        return value
    if t is dict:
        return to_json_object(value, path)
    if t is list or t is tuple:
        return [to_json_value(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return to_json_value(value.item(), path)
    if isinstance(value, np.ndarray):
        return to_json_value(value.tolist(), path)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, _PLAIN):  # subclasses: str enums, IntEnum ...
        base = next(b for b in _PLAIN if isinstance(value, b))
        return to_json_value(base(value), path)
    if isinstance(value, dict):
        return to_json_object(dict(value), path)
    raise InvalidPayload(
        f"{path}: a value of type {t.__name__} ({value!r:.60}) is not JSON; payload values "
        "are strings, numbers, booleans, null, lists and objects"
    )


def to_json_object(obj, path: str = "payload") -> dict:
    """A payload dict with JSON values and string keys."""
    if not isinstance(obj, dict):
        raise InvalidPayload(f"{path} must be a dict (a JSON object), got {type(obj).__name__}")
    out = {}
    for k, v in obj.items():
        if not isinstance(k, str):
            raise InvalidPayload(f"{path}: key {k!r} is not a string; JSON keys are strings")
        out[k] = to_json_value(v, k if path == "payload" else f"{path}.{k}")
    return out
