"""Payload indexes as declared types: a condition that cannot fit a field's
declared type is refused (nbvec filters without indexes, so declared
types only serve to catch mistakes, such as a range on a keyword field).

``schema`` maps a key path to its type: a name (``"keyword"``), a
``PayloadSchemaType``, index params with a ``type``, a ``PayloadIndexInfo``
(``data_type``), or ``{"type": ...}``.

>>> from nbvec._filter._tree import Match, Range, and_
>>> check_condition(and_(Match("city", "Paris"), Range("year", gte=1990.0)),
...                 {"city": "keyword", "year": "integer"})
>>> check_condition(Range("city", gt=1.0), {"city": "keyword"})
Traceback (most recent call last):
...
nbvec._errors.InvalidFilter: a range condition on 'city' cannot match its declared type 'keyword'; it needs integer or float
"""

from __future__ import annotations

from collections.abc import Mapping

from .._errors import InvalidFilter
from ._tree import (
    And,
    DatetimeRange,
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
)

__all__ = ["PAYLOAD_SCHEMAS", "schema_name", "check_condition"]

PAYLOAD_SCHEMAS = ("keyword", "integer", "float", "bool", "text", "datetime", "uuid", "geo")
_BY_VALUE = {bool: ("bool",), int: ("integer",), str: ("keyword", "uuid", "text")}
_NUMBERS = ("integer", "float")


def schema_name(schema) -> str:
    """The type name of a declared schema, checked against PAYLOAD_SCHEMAS."""
    if isinstance(schema, Mapping):
        schema = schema.get("type", schema.get("data_type"))
    elif not isinstance(schema, str):  # index params (.type) or PayloadIndexInfo (.data_type)
        schema = getattr(schema, "type", getattr(schema, "data_type", schema))
    name = getattr(schema, "value", schema)
    if name not in PAYLOAD_SCHEMAS:
        raise InvalidFilter(f"unknown payload schema {schema!r}; use one of {', '.join(PAYLOAD_SCHEMAS)}")
    return name


def _needs(cond) -> tuple[str, tuple] | None:
    """(what the condition is, the types it can match), or None: any type."""
    if isinstance(cond, Match):
        return "a match", _BY_VALUE[type(cond.value)]
    if isinstance(cond, (MatchAny, MatchExcept)) and cond.values:
        return "a match", _BY_VALUE[type(cond.values[0])]
    if isinstance(cond, MatchText):
        return f"a {cond.mode} match", ("text",) if cond.mode in ("text", "text_any", "phrase") \
            else ("keyword", "text")
    if isinstance(cond, (Range, NumberIn)):
        return "a range condition" if isinstance(cond, Range) else "a number match", _NUMBERS
    if isinstance(cond, DatetimeRange):
        return "a datetime range", ("datetime",)
    return None


def check_condition(condition, schema: Mapping, _prefix: str = "") -> None:
    """Raise InvalidFilter if a condition of the tree cannot match the
    declared type of its field."""
    if isinstance(condition, (And, Or, MinShould)):
        for sub in condition.conditions:
            check_condition(sub, schema, _prefix)
        return
    if isinstance(condition, Not):
        check_condition(condition.condition, schema, _prefix)
        return
    if isinstance(condition, Nested):
        check_condition(condition.filter, schema, f"{_prefix}{condition.path}[].")
        return
    path = getattr(condition, "path", None)
    needs = _needs(condition)
    if path is None or needs is None:
        return
    full = _prefix + path
    if full not in schema:
        return
    declared = schema_name(schema[full])
    what, types = needs
    if declared not in types:
        raise InvalidFilter(f"{what} on {full!r} cannot match its declared type {declared!r}; "
                            f"it needs {' or '.join(types)}")
