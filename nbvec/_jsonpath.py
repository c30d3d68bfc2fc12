"""Payload key paths, shared by filters and payload selectors.

A path is ``key``, ``a.b`` (nested object), ``a[]`` (every element of an
array) or ``a[0]`` (one element); ``"quoted keys"`` may hold dots.

>>> parse_path('meta.tags[].name')
('meta', 'tags', '[]', 'name')
>>> select_paths({"a": {"b": 1, "c": 2}, "d": 3}, ["a.b"])
{'a': {'b': 1}}
"""

from __future__ import annotations

import re
from functools import lru_cache

from ._errors import InvalidRequest

__all__ = ["parse_path", "values_at", "select_paths", "exclude_paths", "delete_path"]

_TOKEN = re.compile(r'"(?P<q>[^"]*)"|(?P<k>[^.\[\]"]+)|\[(?P<i>\d*)\]|(?P<dot>\.)')


@lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple:
    """Tokens of a key path: str keys, ``'[]'`` for all elements, int indices."""
    if not isinstance(path, str) or not path:
        raise InvalidRequest(f"a payload key path must be a non-empty string, got {path!r}")
    tokens: list = []
    pos = 0
    expect_key = True
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            raise InvalidRequest(f"cannot parse payload key path {path!r} at position {pos}")
        if m.group("dot"):
            if expect_key:
                raise InvalidRequest(f"empty key in payload key path {path!r}")
            expect_key = True
        elif m.group("i") is not None:
            if expect_key:
                raise InvalidRequest(f"'[' must follow a key in payload key path {path!r}")
            tokens.append("[]" if m.group("i") == "" else int(m.group("i")))
        else:
            if not expect_key:
                raise InvalidRequest(f"missing '.' between keys in payload key path {path!r}")
            tokens.append(m.group("q") if m.group("q") is not None else m.group("k"))
            expect_key = False
        pos = m.end()
    if expect_key:
        raise InvalidRequest(f"payload key path {path!r} ends with '.'")
    return tuple(tokens)


def values_at(obj, tokens) -> list:
    """Every value at ``tokens`` under ``obj`` the way Qdrant's filters read a
    path: a key step reads only objects, ``[]`` walks an array, ``[i]`` takes
    one element. Arrays found at the end are returned whole (a filter then
    looks one level into them).

    >>> values_at({"a": [{"b": 1}, {"b": [2, 3]}]}, parse_path("a[].b"))
    [1, [2, 3]]
    >>> values_at({"a": [{"b": 1}]}, parse_path("a.b"))  # no implicit walk
    []
    """
    current = [obj]
    for tok in tokens:
        nxt = []
        for v in current:
            if tok == "[]":
                if type(v) is list:
                    nxt.extend(v)
            elif type(tok) is int:
                if type(v) is list and tok < len(v):
                    nxt.append(v[tok])
            elif type(v) is dict and tok in v:
                nxt.append(v[tok])
        if not nxt:
            return nxt
        current = nxt
    return current


def _select(obj, tokens):
    """The part of ``obj`` along ``tokens``, or a sentinel when absent."""
    if not tokens:
        return obj
    tok, rest = tokens[0], tokens[1:]
    if isinstance(tok, str) and tok != "[]":
        if isinstance(obj, dict) and tok in obj:
            sub = _select(obj[tok], rest)
            return _MISSING if sub is _MISSING else {tok: sub}
        return _MISSING
    if isinstance(obj, list):
        items = obj if tok == "[]" else obj[tok : tok + 1]
        subs = [_select(x, rest) for x in items]
        return [s for s in subs if s is not _MISSING]
    return _MISSING


_MISSING = object()


def _merge(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge(out[k], v) if k in out else v
        return out
    return b


def select_paths(payload: dict, paths) -> dict:
    """Only the parts of ``payload`` named by ``paths`` (include)."""
    out: dict = {}
    for p in paths:
        part = _select(payload, parse_path(p))
        if part is not _MISSING:
            out = _merge(out, part)
    return out


def delete_path(obj, tokens):
    """A copy of ``obj`` without the value at ``tokens``."""
    if not tokens:
        return obj
    tok, rest = tokens[0], tokens[1:]
    if isinstance(tok, str) and tok != "[]" and isinstance(obj, dict):
        if tok not in obj:
            return obj
        out = dict(obj)
        if rest:
            out[tok] = delete_path(obj[tok], rest)
        else:
            del out[tok]
        return out
    if isinstance(obj, list):
        if tok == "[]":
            return [delete_path(x, rest) for x in obj] if rest else []
        if isinstance(tok, int):
            if tok >= len(obj):
                return obj
            out = list(obj)
            if rest:
                out[tok] = delete_path(obj[tok], rest)
            else:
                del out[tok]
            return out
        return [delete_path(x, tokens) for x in obj]
    return obj


def exclude_paths(payload: dict, paths) -> dict:
    """``payload`` without the parts named by ``paths`` (exclude)."""
    out = payload
    for p in paths:
        out = delete_path(out, parse_path(p))
    return out
