"""Compiled filters kept per filter object: a notebook passes one Filter (or
REST dict) to many searches, and compiling it costs more than the rest of a
selective search's planning. An entry is used only while the object is the
same one and its exact JSON text is unchanged (an object edited in place,
even 1 -> True, compiles again); objects that have no JSON text (a dict
holding datetimes, say) are compiled every time.

>>> calls = []
>>> def compile_(f):
...     calls.append(f)
...     return ("compiled", len(calls))
>>> f = {"must": [{"key": "a", "match": {"value": 1}}]}
>>> memoized(f, compile_), memoized(f, compile_)
(('compiled', 1), ('compiled', 1))
>>> f["must"][0]["match"]["value"] = True
>>> memoized(f, compile_)
('compiled', 2)
"""

from __future__ import annotations

import json
import threading

__all__ = ["memoized", "remember", "MEMO_SIZE"]

MEMO_SIZE = 64  # filter objects remembered (the oldest makes room)
_memo: dict = {}  # id(filter) -> (filter, its JSON text, compiled); holds the object alive
_lock = threading.Lock()


def _text(filter) -> bytes | str | None:
    """The exact JSON text of a filter model or dict, None when it has none."""
    serializer = getattr(type(filter), "__pydantic_serializer__", None)
    try:
        if serializer is not None:
            return serializer.to_json(filter)
        if isinstance(filter, dict):
            return json.dumps(filter)
    except (TypeError, ValueError, RecursionError):  # pydantic's errors are ValueErrors
        return None  # compiled every time: the compiler names what is wrong
    return None


def memoized(filter, compile_):
    """``compile_(filter)``, remembered for this object while its text stays."""
    text = _text(filter)
    if text is None:
        return compile_(filter)
    hit = _memo.get(id(filter))
    if hit is not None and hit[0] is filter and hit[1] == text:
        return hit[2]
    compiled = compile_(filter)
    remember(_memo, id(filter), (filter, text, compiled), MEMO_SIZE)
    return compiled


def remember(memo: dict, key, value, size: int) -> None:
    """``memo[key] = value``, the oldest entries making room beyond ``size``."""
    with _lock:
        while len(memo) >= size:
            memo.pop(next(iter(memo)), None)
        memo[key] = value
