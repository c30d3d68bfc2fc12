"""Filters: boolean clauses of conditions on payload fields, ids and vectors.

Built either from the classes or from Qdrant's REST JSON form, whose keys
say what each part is::

    >>> from nbvec.models import Filter
    >>> f = Filter.model_validate({"must": [{"key": "city", "match": {"value": "London"}}]})
    >>> f.must[0].match
    MatchValue(value='London')

Geo conditions exist so that they parse and can be refused with a clear
error; nbvec does not evaluate them.
"""

from __future__ import annotations

import datetime as _dt
from typing import Annotated, Any, List, Optional, Union

from pydantic import ConfigDict, Field, StrictInt, StrictStr

from ._base import NbvecModel
from ._core import ExtendedPointId
from ._types import Plain, StrictValue, one_of, one_or_many, tag_by_keys

__all__ = [
    "Filter",
    "MinShould",
    "FieldCondition",
    "MatchValue",
    "MatchAny",
    "MatchExcept",
    "MatchText",
    "MatchTextAny",
    "MatchPhrase",
    "MatchPrefix",
    "MatchSubstring",
    "Range",
    "DatetimeRange",
    "ValuesCount",
    "PayloadField",
    "IsEmptyCondition",
    "IsNullCondition",
    "HasIdCondition",
    "HasVectorCondition",
    "Nested",
    "NestedCondition",
    "Slice",
    "SliceCondition",
    "GeoPoint",
    "GeoLineString",
    "GeoBoundingBox",
    "GeoRadius",
    "GeoPolygon",
    "Condition",
    "Match",
    "RangeInterface",
    "ValueVariants",
    "AnyVariants",
]

ValueVariants = StrictValue
AnyVariants = Annotated[Union[List[StrictStr], List[StrictInt]], Plain]
_Number = Annotated[Optional[float], Plain]
_Moment = Optional[_dt.datetime]  # dates and ISO strings too


# --- matches --------------------------------------------------------------


class MatchValue(NbvecModel):
    """The field equals ``value`` (a keyword, integer or bool), or an array
    field contains it."""

    value: ValueVariants


class MatchAny(NbvecModel):
    """The field equals any of ``any`` (keywords or integers)."""

    any: AnyVariants


class MatchExcept(NbvecModel):
    """The field equals none of ``except`` (spelled ``except_`` in Python).

    >>> MatchExcept(**{"except": ["red"]}) == MatchExcept(except_=["red"])
    True
    """

    model_config = ConfigDict(populate_by_name=True)

    except_: AnyVariants = Field(alias="except")


class MatchText(NbvecModel):
    """Full-text match: the field contains the words of ``text``."""

    text: str


class MatchTextAny(NbvecModel):
    """Full-text match: the field contains any word of ``text_any``."""

    text_any: str


class MatchPhrase(NbvecModel):
    """Full-text match: the field contains ``phrase`` as a whole."""

    phrase: str


class MatchPrefix(NbvecModel):
    """The keyword field starts with ``prefix``."""

    prefix: str


class MatchSubstring(NbvecModel):
    """The keyword field contains ``substring``."""

    substring: str


_MATCH_KEYS = {
    "value": "MatchValue",
    "any": "MatchAny",
    "except": "MatchExcept",
    "except_": "MatchExcept",
    "text": "MatchText",
    "text_any": "MatchTextAny",
    "phrase": "MatchPhrase",
    "prefix": "MatchPrefix",
    "substring": "MatchSubstring",
}
Match = one_of(
    {tag: globals()[tag] for tag in dict.fromkeys(_MATCH_KEYS.values())},
    tag_by_keys(_MATCH_KEYS),
    "a match: one of {" + ", ".join(repr(k) for k in _MATCH_KEYS if k != "except_") + "}",
)


# --- ranges ---------------------------------------------------------------


class Range(NbvecModel):
    """Numeric bounds; unset bounds are open."""

    lt: _Number = None
    gt: _Number = None
    gte: _Number = None
    lte: _Number = None


class DatetimeRange(NbvecModel):
    """Datetime bounds, as datetimes, dates or ISO 8601 strings
    (``"2023-02-08T10:49:00Z"``); a date means its midnight. Qdrant reads a
    time without zone as UTC."""

    lt: _Moment = None
    gt: _Moment = None
    gte: _Moment = None
    lte: _Moment = None


class ValuesCount(NbvecModel):
    """Bounds on how many values an array field holds."""

    lt: Optional[int] = None
    gt: Optional[int] = None
    gte: Optional[int] = None
    lte: Optional[int] = None


def _pick_range(value: object) -> Optional[str]:
    if isinstance(value, NbvecModel):
        return type(value).__name__
    if isinstance(value, dict):
        moments = (str, _dt.date)  # datetime is a date
        return "DatetimeRange" if any(isinstance(v, moments) for v in value.values()) else "Range"
    return None


RangeInterface = one_of(
    {"Range": Range, "DatetimeRange": DatetimeRange},
    _pick_range,
    "a range: {'gt', 'gte', 'lt', 'lte'} of numbers or of datetimes",
)


# --- geo (parsed, not evaluated) --------------------------------------------


class GeoPoint(NbvecModel):
    lon: float
    lat: float


class GeoLineString(NbvecModel):
    points: List[GeoPoint]


class GeoBoundingBox(NbvecModel):
    top_left: GeoPoint
    bottom_right: GeoPoint


class GeoRadius(NbvecModel):
    center: GeoPoint
    radius: float


class GeoPolygon(NbvecModel):
    exterior: GeoLineString
    interiors: Optional[List[GeoLineString]] = None


# --- conditions -------------------------------------------------------------


class FieldCondition(NbvecModel):
    """A condition on the payload field at ``key`` (a JSON path such as
    ``"country.cities[].name"``): give one of match, range, values_count,
    is_empty, is_null (or a geo condition)."""

    key: str
    match: Optional[Match] = None
    range: Optional[RangeInterface] = None
    geo_bounding_box: Optional[GeoBoundingBox] = None
    geo_radius: Optional[GeoRadius] = None
    geo_polygon: Optional[GeoPolygon] = None
    values_count: Optional[ValuesCount] = None
    is_empty: Optional[bool] = None
    is_null: Optional[bool] = None


class PayloadField(NbvecModel):
    """A payload field named by its JSON path."""

    key: str


class IsEmptyCondition(NbvecModel):
    """The field is missing, null, or an empty array."""

    is_empty: PayloadField


class IsNullCondition(NbvecModel):
    """The field is null (present with value ``null``)."""

    is_null: PayloadField


class HasIdCondition(NbvecModel):
    """The point's id is one of ``has_id``."""

    has_id: Annotated[List[ExtendedPointId], Plain]


class HasVectorCondition(NbvecModel):
    """The point has a vector of the given name."""

    has_vector: str


class Nested(NbvecModel):
    """``filter`` must hold for one and the same element of the array at
    ``key``."""

    key: str
    filter: Filter


class NestedCondition(NbvecModel):
    nested: Nested


class Slice(NbvecModel):
    total: int
    index: int


class SliceCondition(NbvecModel):
    slice: Slice


_CONDITION_KEYS = {
    "key": "FieldCondition",
    "is_empty": "IsEmptyCondition",
    "is_null": "IsNullCondition",
    "has_id": "HasIdCondition",
    "has_vector": "HasVectorCondition",
    "nested": "NestedCondition",
    "slice": "SliceCondition",
    "must": "Filter",
    "should": "Filter",
    "must_not": "Filter",
    "min_should": "Filter",
}


def _condition(filter_type: Any) -> Any:
    members = {
        tag: globals()[tag] for tag in dict.fromkeys(_CONDITION_KEYS.values()) if tag != "Filter"
    }
    return one_of(
        {**members, "Filter": filter_type},
        tag_by_keys(_CONDITION_KEYS, empty="Filter"),
        "a condition: a dict with one of {" + ", ".join(repr(k) for k in _CONDITION_KEYS) + "}",
    )


# "Filter" is a forward reference here: Filter is defined below, from Condition.
Condition = _condition("Filter")
_Clause = Optional[one_or_many(Condition, "a condition or a list of conditions")]


class MinShould(NbvecModel):
    """At least ``min_count`` of ``conditions`` must hold."""

    conditions: List[Condition]
    min_count: int


class Filter(NbvecModel):
    """All of ``must``, any of ``should`` (when given), none of ``must_not``,
    and at least ``min_should.min_count`` of ``min_should.conditions``.

    Each clause takes one condition or a list; conditions nest (a Filter is
    a condition too).

    >>> Filter(must=FieldCondition(key="color", match=MatchValue(value="red")))
    Filter(should=None, min_should=None, must=FieldCondition(key='color', match=MatchValue(value='red'), range=None, geo_bounding_box=None, geo_radius=None, geo_polygon=None, values_count=None, is_empty=None, is_null=None), must_not=None)
    """

    should: _Clause = None
    min_should: Optional[MinShould] = None
    must: _Clause = None
    must_not: _Clause = None


Condition = _condition(Filter)  # resolved, for use outside models (TypeAdapter)
for _model in (Nested, NestedCondition, MinShould, Filter):
    _model.model_rebuild()
