"""Filters in, condition trees out.

``compile_filter`` takes a Qdrant filter — an nbvec model, a qdrant-client
model (read by its field names, qdrant-client is never imported), any
object with those attributes, or the REST JSON dict — and/or a ``where``
query string, and returns one :mod:`condition tree <._tree>`.

Qdrant's clauses: ``must`` all hold, ``should`` at least one (an empty
``should`` list is no constraint), ``must_not`` none, ``min_should`` at
least ``min_count`` of its conditions. Fields set to None count as absent.
Anything not understood raises InvalidFilter naming the part and what is
expected; Qdrant features nbvec does not evaluate (geo, slice) raise
UnsupportedFeature.

>>> compile_filter({"must": [{"key": "city", "match": {"value": "London"}}],
...                 "must_not": [{"key": "year", "range": {"lt": 1990}}]})
And(conditions=(Match(path='city', value='London'), Not(condition=Range(path='year', gt=None, gte=None, lt=1990.0, lte=None))))
>>> compile_filter(where="year >= 1990") == compile_filter({"must": {"key": "year", "range": {"gte": 1990}}})
True
>>> compile_filter() is None
True
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping

from .._errors import InvalidFilter, InvalidPointId, UnsupportedFeature
from .._ids import normalize_id
from ._datetime import datetime_micros, parse_datetime
from ._memo import memoized
from ._plain import plain_value
from ._rowset import path_tokens
from ._tree import (
    FALSE,
    Condition,
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
    Range,
    ValuesCount,
    and_,
    not_,
    or_,
)
from ._where import parse_where

__all__ = ["compile_filter", "parse_filter"]

_CLAUSES = ("must", "should", "must_not", "min_should")
_FIELD_KINDS = ("match", "range", "values_count", "is_empty", "is_null",
                "geo_bounding_box", "geo_radius", "geo_polygon")
_MATCH_KINDS = ("value", "any", "except", "text", "text_any", "phrase", "prefix", "substring")
_BOUNDS = ("gt", "gte", "lt", "lte")
_CONDITION_KEYS = ("key", *_CLAUSES, "nested", "has_id", "has_vector", "is_empty", "is_null")


def compile_filter(filter=None, where=None, params=None, frame=None) -> Condition | None:
    """One condition tree from a Qdrant ``filter`` and/or a ``where`` query
    (both given: both must hold); None when neither is given.

    ``params`` (a mapping) and then ``frame`` (a Python frame: its locals,
    then its globals) resolve the ``@name`` references of ``where``.
    """
    parts = []
    if filter is not None:
        parts.append(memoized(filter, parse_filter))
    if where is not None:
        if params is not None and not isinstance(params, Mapping):
            raise InvalidFilter(f"params must be a mapping of names to values, "
                                f"got {type(params).__name__}")
        parts.append(parse_where(where, params=params, frame=frame))
    if not parts:
        return None
    # one part: the compiled tree itself, so repeated searches meet the same object
    return parts[0] if len(parts) == 1 else and_(*parts)


def parse_filter(filter, label: str = "filter") -> Condition:
    """The condition tree of one Qdrant filter (or condition)."""
    if isinstance(filter, Condition):
        return filter
    if isinstance(filter, str):
        raise InvalidFilter(f"{label}: got the string {filter!r}; filter= takes a Filter or its "
                            "dict form, a query string goes to where=")
    try:
        return _condition(filter, label)
    except RecursionError:
        raise InvalidFilter(f"{label}: nested too deeply") from None


# -- reading nodes -------------------------------------------------------------------
def _fields(node, label: str, what: str) -> dict:
    """A node's set fields as ``{name: value}``: a dict, a pydantic model (by
    field alias, so ``except_`` reads as ``except``) or a plain object."""
    if isinstance(node, Mapping):
        bad = [k for k in node if not isinstance(k, str)]
        if bad:
            raise InvalidFilter(f"{label}: key {bad[0]!r} is not a string")
        return {k: v for k, v in node.items() if v is not None}
    aliases = _ALIASES.get(type(node)) or _model_aliases(type(node))
    if aliases:
        values = getattr(node, "__dict__", None) or {}
        return {aliases.get(name, name): value for name, value in values.items()
                if value is not None and name in aliases}
    if hasattr(node, "__dict__") and not isinstance(node, type):
        return {k: v for k, v in vars(node).items() if not k.startswith("_") and v is not None}
    raise InvalidFilter(f"{label}: expected {what}, got {type(node).__name__} {node!r:.60}")


_ALIASES: dict = {}  # model class -> {field name: its alias or name}; {} for non-models


def _model_aliases(cls) -> dict:
    """``{field: alias or field}`` of a pydantic model class (cached), {} otherwise."""
    model_fields = getattr(cls, "model_fields", None)
    aliases = {name: getattr(info, "alias", None) or name
               for name, info in model_fields.items()} if isinstance(model_fields, dict) else {}
    _ALIASES[cls] = aliases
    return aliases


def _only(fields: dict, allowed, label: str, what: str) -> None:
    unknown = [k for k in fields if k not in allowed]
    if unknown:
        names = ", ".join(repr(k) for k in unknown)
        raise InvalidFilter(f"{label}: unknown key {names} in {what}; expected keys: "
                            + ", ".join(repr(k) for k in allowed))


def _one_of(fields: dict, kinds, label: str, what: str) -> str:
    given = [k for k in kinds if k in fields]
    if len(given) != 1:
        got = f"got {', '.join(map(repr, given))}" if given else "got none"
        raise InvalidFilter(f"{label}: {what} takes exactly one of "
                            + ", ".join(repr(k) for k in kinds) + f"; {got}")
    return given[0]


def _is_number(v) -> bool:
    return type(v) in (int, float)


# -- conditions ------------------------------------------------------------------------
def _condition(node, label: str) -> Condition:
    if isinstance(node, Condition):
        return node
    f = _fields(node, label, "a condition (a dict or a filter model)")
    if "key" in f:
        return _field_condition(f, label)
    for key, parse in _SPECIAL.items():
        if key in f:
            return parse(f, label)
    if not f or any(k in f for k in _CLAUSES):
        return _filter(f, label)
    if any(k.startswith("geo_") for k in f):
        raise InvalidFilter(f"{label}: a geo condition needs a 'key'")
    raise InvalidFilter(f"{label}: unknown condition {sorted(f)}; a condition is a dict with one "
                        "of " + ", ".join(repr(k) for k in _CONDITION_KEYS))


def _clause(value, label: str) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [_condition(c, f"{label}[{i}]") for i, c in enumerate(value)]
    if isinstance(value, (str, bytes, int, float)):
        raise InvalidFilter(f"{label}: expected a condition or a list of conditions, "
                            f"got {value!r:.60}")
    return [_condition(value, label)]


def _filter(f: dict, label: str) -> Condition:
    _only(f, _CLAUSES, label, "a filter")
    parts = _clause(f.get("must"), f"{label}.must")
    should = _clause(f.get("should"), f"{label}.should")
    if should:  # an empty should list is no constraint, as in Qdrant
        parts.append(or_(*should))
    parts += [not_(c) for c in _clause(f.get("must_not"), f"{label}.must_not")]
    if "min_should" in f:
        parts.append(_min_should(f["min_should"], f"{label}.min_should"))
    return and_(*parts)


def _min_should(node, label: str) -> Condition:
    f = _fields(node, label, "a min_should: {'conditions': [...], 'min_count': n}")
    _only(f, ("conditions", "min_count"), label, "a min_should")
    count = plain_value(f.get("min_count"))
    if type(count) is not int or count < 1:
        raise InvalidFilter(f"{label}.min_count: expected an integer >= 1, got {count!r}")
    if "conditions" not in f or not isinstance(f["conditions"], (list, tuple)):
        raise InvalidFilter(f"{label}.conditions: expected a list of conditions")
    conditions = _clause(f["conditions"], f"{label}.conditions")
    if count > len(conditions):
        return FALSE
    if count == 1:
        return or_(*conditions)
    if count == len(conditions):
        return and_(*conditions)
    return MinShould(count, tuple(conditions))


def _path(value, label: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidFilter(f"{label}: expected a payload key path (a non-empty string), "
                            f"got {value!r:.60}")
    path_tokens(value)
    return value


def _field_condition(f: dict, label: str) -> Condition:
    _only(f, ("key", *_FIELD_KINDS), label, "a field condition")
    path = _path(f["key"], f"{label}.key")
    kind = _one_of(f, _FIELD_KINDS, label, "a field condition")
    value, sub = f[kind], f"{label}.{kind}"
    if kind.startswith("geo_"):
        raise UnsupportedFeature(f"{sub}: geo conditions ({kind}) are not supported by nbvec")
    if kind == "match":
        return _match(path, value, sub)
    if kind == "range":
        return _range(path, value, sub)
    if kind == "values_count":
        return ValuesCount(path, **_count_bounds(value, sub))
    if type(value) is not bool:
        raise InvalidFilter(f"{sub}: expected true or false, got {value!r:.60}")
    cond = IsEmpty(path) if kind == "is_empty" else IsNull(path)
    return cond if value else not_(cond)


def _match(path: str, node, label: str) -> Condition:
    if isinstance(node, Mapping) and "value" in node and node["value"] is None:
        raise InvalidFilter(f"{label}.value: null matches nothing; for null use is_null")
    f = _fields(node, label, "a match")
    if "except_" in f:
        f["except"] = f.pop("except_")
    _only(f, _MATCH_KINDS, label, "a match")
    kind = _one_of(f, _MATCH_KINDS, label, "a match")
    value, sub = plain_value(f[kind]), f"{label}.{kind}"
    if kind == "value":
        if type(value) in (str, int, bool):
            return Match(path, value)
        hint = "; for a number use range with gte and lte" if type(value) is float else ""
        hint = "; for null use is_null" if value is None else hint
        raise InvalidFilter(f"{sub}: expected a string, integer or boolean, got {value!r:.60}{hint}")
    if kind in ("any", "except"):
        values = _value_list(value, sub)
        if kind == "except":
            return MatchExcept(path, values)
        if not values:
            return FALSE
        return Match(path, values[0]) if len(values) == 1 else MatchAny(path, values)
    if not isinstance(value, str):
        raise InvalidFilter(f"{sub}: expected a string, got {value!r:.60}")
    return MatchText(path, value, kind)


def _value_list(value, label: str) -> tuple:
    """A canonical tuple of all-str or all-int values (Qdrant's AnyVariants)."""
    if isinstance(value, (set, frozenset)):
        value = list(value)
    if not isinstance(value, (list, tuple)):
        raise InvalidFilter(f"{label}: expected a list of strings or of integers, got {value!r:.60}")
    values = [plain_value(v) for v in value]
    types = {type(v) for v in values}
    if types - {str, int} or len(types) > 1:
        raise InvalidFilter(f"{label}: expected a list of strings or a list of integers (not "
                            f"mixed, no booleans or floats), got {value!r:.60}")
    return tuple(sorted(set(values)))


def _range(path: str, node, label: str) -> Condition:
    datetime_class = not isinstance(node, Mapping) and type(node).__name__ == "DatetimeRange"
    f = _fields(node, label, "a range")
    _only(f, _BOUNDS, label, "a range")
    bounds = {k: plain_value(v) for k, v in f.items()}
    moments = {k: v for k, v in bounds.items() if isinstance(v, (str, _dt.date))}
    if datetime_class or moments:
        return DatetimeRange(path, **{k: _moment(v, f"{label}.{k}") for k, v in bounds.items()})
    out = {}
    for k, v in bounds.items():
        if not _is_number(v) or math.isnan(v):
            raise InvalidFilter(f"{label}.{k}: expected a number or a datetime, got {v!r:.60}")
        out[k] = float(v)
    return Range(path, **out)


def _moment(value, label: str) -> int:
    if isinstance(value, _dt.date):
        return datetime_micros(value)
    micros = parse_datetime(value) if isinstance(value, str) else None
    if micros is None:
        raise InvalidFilter(f"{label}: expected a datetime such as '2023-02-08T10:49:00Z' "
                            f"(RFC 3339), got {value!r:.60}")
    return micros


def _count_bounds(node, label: str) -> dict:
    f = _fields(node, label, "a values_count")
    _only(f, _BOUNDS, label, "a values_count")
    out = {}
    for k, v in f.items():
        v = plain_value(v)
        if type(v) is not int or v < 0:
            raise InvalidFilter(f"{label}.{k}: expected an integer >= 0, got {v!r:.60}")
        out[k] = v
    return out


# -- the other conditions ------------------------------------------------------------
def _payload_field(f: dict, key: str, label: str) -> str:
    _only(f, (key,), label, f"an {key} condition")
    inner = _fields(f[key], f"{label}.{key}", "{'key': path}")
    _only(inner, ("key",), f"{label}.{key}", "a payload field")
    if "key" not in inner:
        raise InvalidFilter(f"{label}.{key}: expected {{'key': path}}")
    return _path(inner["key"], f"{label}.{key}.key")


def _is_empty(f: dict, label: str) -> Condition:
    return IsEmpty(_payload_field(f, "is_empty", label))


def _is_null(f: dict, label: str) -> Condition:
    return IsNull(_payload_field(f, "is_null", label))


def _has_id(f: dict, label: str) -> Condition:
    _only(f, ("has_id",), label, "a has_id condition")
    ids = plain_value(f["has_id"])
    if isinstance(ids, (set, frozenset)):
        ids = list(ids)
    if not isinstance(ids, (list, tuple)):
        raise InvalidFilter(f"{label}.has_id: expected a list of point ids, got {ids!r:.60}")
    try:
        normalized = frozenset(normalize_id(plain_value(i)) for i in ids)
    except InvalidPointId as exc:
        raise InvalidFilter(f"{label}.has_id: {exc}") from None
    return HasId(normalized) if normalized else FALSE


def _has_vector(f: dict, label: str) -> Condition:
    _only(f, ("has_vector",), label, "a has_vector condition")
    name = f["has_vector"]
    if not isinstance(name, str):
        raise InvalidFilter(f"{label}.has_vector: expected a vector name, got {name!r:.60}")
    return HasVector(name)


def _nested(f: dict, label: str) -> Condition:
    _only(f, ("nested",), label, "a nested condition")
    inner = _fields(f["nested"], f"{label}.nested", "{'key': path, 'filter': filter}")
    _only(inner, ("key", "filter"), f"{label}.nested", "a nested condition")
    if "filter" not in inner:
        raise InvalidFilter(f"{label}.nested.filter: required (the filter each object must pass)")
    path = _path(inner.get("key"), f"{label}.nested.key")
    if len(path) > 2 and path.endswith("[]"):  # "data[]" and "data" name the same array
        path = path[:-2]
    sub = _condition(inner["filter"], f"{label}.nested.filter")
    return FALSE if sub == FALSE else Nested(path, sub)


def _slice(f: dict, label: str) -> Condition:
    raise UnsupportedFeature(f"{label}: slice conditions are not supported by nbvec")


_SPECIAL = {
    "nested": _nested,
    "has_id": _has_id,
    "has_vector": _has_vector,
    "is_empty": _is_empty,
    "is_null": _is_null,
    "slice": _slice,
}
