"""Compiled filters kept per filter object: a notebook passes one Filter (or
REST dict) to many searches, and compiling it costs more than the rest of a
selective search's planning. An entry is used only while the object is the
same one and so is every object inside it, down to its values (an object
edited in place, even 1 -> True, compiles again); a filter holding a value
that could change unseen (a numpy array, say) is compiled every time.

The check reads the objects themselves, not a text of them: serializing a
filter (its JSON) costs ~3 us alone but ~20 us between the searches of a
loop, its code evicted by the scans.

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

import datetime as dt
import threading
import uuid
from operator import is_

__all__ = ["memoized", "remember", "MEMO_SIZE"]

MEMO_SIZE = 64  # filter objects remembered (the oldest makes room)
_memo: dict = {}  # id(filter) -> (filter, its parts, compiled); holds the parts alive
_lock = threading.Lock()
# values that cannot change in place: compared by identity, never read into (a
# datetime only without a time zone or with a fixed one: see _parts)
_IMMUTABLE = frozenset({type(None), str, int, float, bool, dt.date, uuid.UUID})
_END = object()  # closes a container's parts: [a], [b] and [a, b] differ


class _Mutable(Exception):
    """A value that could change in place unseen."""


def _parts(node, out: list) -> list:
    """Every object of a filter (models, dicts, lists, their keys and
    values), in a fixed order: the same objects in the same places read the
    same. A model counts with its class and field names (fields can be
    deleted and set again in another order)."""
    out.append(node)
    kind = type(node)
    if kind is dict:
        out.extend(node)  # the keys, then the values
        values = node.values()
    elif kind is list or kind is tuple:
        values = node
    elif hasattr(kind, "__pydantic_serializer__"):  # a model or pydantic dataclass
        fields = node.__dict__
        out.append(kind)
        out.extend(fields)
        extra = getattr(node, "__pydantic_extra__", None)
        values = fields.values() if not extra else [*fields.values(), extra]
    elif kind is dt.datetime and (node.tzinfo is None or type(node.tzinfo) is dt.timezone):
        return out  # a fixed instant: a value as the immutable ones
    else:
        raise _Mutable
    for value in values:
        if type(value) in _IMMUTABLE:
            out.append(value)
        else:
            _parts(value, out)
    out.append(_END)
    return out


def memoized(filter, compile_):
    """``compile_(filter)``, remembered for this object while its parts stay."""
    try:
        parts = _parts(filter, [])
    except (_Mutable, RecursionError):
        return compile_(filter)  # compiled every time: the compiler names what is wrong
    hit = _memo.get(id(filter))
    if (hit is not None and hit[0] is filter and len(hit[1]) == len(parts)
            and all(map(is_, hit[1], parts))):
        return hit[2]
    compiled = compile_(filter)
    remember(_memo, id(filter), (filter, parts, compiled), MEMO_SIZE)
    return compiled


def remember(memo: dict, key, value, size: int) -> None:
    """``memo[key] = value``, the oldest entries making room beyond ``size``."""
    with _lock:
        while len(memo) >= size:
            memo.pop(next(iter(memo)), None)
        memo[key] = value
