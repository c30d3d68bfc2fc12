"""The condition tree: small frozen dataclasses that every filter compiles to.

Nodes are hashable, so a compiled filter is a cache key (masks are cached
per condition and segment). Paths are payload key paths (``a.b``, ``a[]``,
``a[0]``) as :mod:`nbvec._jsonpath` reads them; datetimes are UTC
microseconds since the epoch; range bounds are floats, as in Qdrant.

Build trees with :func:`and_`, :func:`or_` and :func:`not_`, which fold
constants and flatten, so equal filters give equal trees:

>>> and_(Match("city", "London"), TRUE, and_(Range("year", gte=1990.0)))
And(conditions=(Match(path='city', value='London'), Range(path='year', gt=None, gte=1990.0, lt=None, lte=None)))
>>> not_(not_(IsNull("x")))
IsNull(path='x')
>>> Match("a", 1) == Match("a", True)   # bool and int never match each other
False
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Condition",
    "Const",
    "TRUE",
    "FALSE",
    "And",
    "Or",
    "Not",
    "MinShould",
    "Match",
    "MatchAny",
    "MatchExcept",
    "MatchText",
    "NumberIn",
    "Range",
    "DatetimeRange",
    "ValuesCount",
    "IsEmpty",
    "IsNull",
    "HasId",
    "HasVector",
    "Nested",
    "TEXT_MODES",
    "and_",
    "or_",
    "not_",
]

#: How MatchText compares (Qdrant's MatchText, MatchTextAny, MatchPhrase,
#: MatchPrefix, MatchSubstring).
TEXT_MODES = ("text", "text_any", "phrase", "prefix", "substring")


class Condition:
    """Base of every node."""

    __slots__ = ()


@dataclass(frozen=True)
class Const(Condition):
    """Every point (``TRUE``) or none (``FALSE``)."""

    value: bool


TRUE = Const(True)
FALSE = Const(False)


@dataclass(frozen=True)
class And(Condition):
    conditions: tuple


@dataclass(frozen=True)
class Or(Condition):
    conditions: tuple


@dataclass(frozen=True)
class Not(Condition):
    """Qdrant's ``must_not``: also true where the key is missing."""

    condition: Condition


@dataclass(frozen=True)
class MinShould(Condition):
    """At least ``min_count`` of ``conditions`` hold."""

    min_count: int
    conditions: tuple


@dataclass(frozen=True)
class Match(Condition):
    """Some value at ``path`` equals ``value`` (a str, int or bool; an int
    never equals a float or a bool, as in Qdrant)."""

    path: str
    value: object
    # part of equality and hash: Match(p, 1) must not share a cache entry with Match(p, True)
    kind: str = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "kind", type(self.value).__name__)


@dataclass(frozen=True)
class MatchAny(Condition):
    """Some value at ``path`` is one of ``values`` (strs or ints)."""

    path: str
    values: tuple


@dataclass(frozen=True)
class MatchExcept(Condition):
    """Some non-null value at ``path`` is none of ``values`` (Qdrant's
    ``except``: a missing key or a null does not match)."""

    path: str
    values: tuple


@dataclass(frozen=True)
class MatchText(Condition):
    """Some string at ``path`` matches ``text`` in one of :data:`TEXT_MODES`."""

    path: str
    text: str
    mode: str = "text"


@dataclass(frozen=True)
class NumberIn(Condition):
    """Some number at ``path`` equals one of ``values`` numerically (ints and
    floats alike, never bools): what ``where="x == 3"`` means."""

    path: str
    values: frozenset


@dataclass(frozen=True)
class Range(Condition):
    """Some number (int or float, not bool) at ``path`` is within the bounds."""

    path: str
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None


@dataclass(frozen=True)
class DatetimeRange(Condition):
    """Some datetime string at ``path`` is within the bounds (UTC microseconds)."""

    path: str
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None


@dataclass(frozen=True)
class ValuesCount(Condition):
    """Some value at ``path`` holds a number of values within the bounds
    (an array its length, a scalar 1, null or a missing key 0)."""

    path: str
    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None


@dataclass(frozen=True)
class IsEmpty(Condition):
    """The key is missing, null or ``[]``."""

    path: str


@dataclass(frozen=True)
class IsNull(Condition):
    """Some value at ``path`` is null (or an array holding a null)."""

    path: str


@dataclass(frozen=True)
class HasId(Condition):
    """The point id is one of ``ids`` (ints and canonical UUID strings)."""

    ids: frozenset


@dataclass(frozen=True)
class HasVector(Condition):
    """The point has the vector ``name`` (``""`` for the unnamed one)."""

    name: str


@dataclass(frozen=True)
class Nested(Condition):
    """``filter`` holds for one and the same object of the array at ``path``."""

    path: str
    filter: Condition


def and_(*conditions: Condition) -> Condition:
    """All of ``conditions``: flattened, ``TRUE`` dropped, ``FALSE`` absorbing."""
    out = _flatten(conditions, And, absorbing=False)
    if out is None:
        return FALSE
    if not out:
        return TRUE
    return out[0] if len(out) == 1 else And(tuple(out))


def or_(*conditions: Condition) -> Condition:
    """Any of ``conditions``: flattened, ``FALSE`` dropped, ``TRUE`` absorbing."""
    out = _flatten(conditions, Or, absorbing=True)
    if out is None:
        return TRUE
    if not out:
        return FALSE
    return out[0] if len(out) == 1 else Or(tuple(out))


def _flatten(conditions, kind: type, absorbing: bool) -> list | None:
    """Children of an And/Or without duplicates or neutral constants;
    None when the ``absorbing`` constant occurs."""
    out: list = []
    seen: set = set()
    for c in conditions:
        if not isinstance(c, Condition):
            raise TypeError(f"not a condition: {c!r}")
        if isinstance(c, Const):
            if c.value is absorbing:
                return None
            continue
        for part in c.conditions if isinstance(c, kind) else (c,):
            if part not in seen:
                seen.add(part)
                out.append(part)
    return out


def not_(condition: Condition) -> Condition:
    """The negation of ``condition`` (double negations cancel)."""
    if isinstance(condition, Const):
        return FALSE if condition.value else TRUE
    if isinstance(condition, Not):
        return condition.condition
    return Not(condition)
