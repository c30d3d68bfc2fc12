"""Write operations on points: which points (by ids or by filter), new
vectors, new payload.

>>> from nbvec.models import PointIdsList
>>> PointIdsList(points=[1, 2, 3]).points
[1, 2, 3]
"""

from __future__ import annotations

from typing import Annotated, Any, Dict, List, Optional

from ._base import NbvecModel
from ._core import Batch, ExtendedPointId, PointStruct
from ._filters import Filter
from ._types import Plain, ShardKeySelector, one_of, tag_by_keys

__all__ = [
    "PointIdsList",
    "FilterSelector",
    "PointsSelector",
    "PointVectors",
    "SetPayload",
    "DeletePayload",
    "PointsList",
    "PointsBatch",
    "PointInsertOperations",
]

_Ids = Annotated[List[ExtendedPointId], Plain]


class PointIdsList(NbvecModel):
    """Select points by id (for delete, set_payload ...)."""

    points: _Ids
    shard_key: ShardKeySelector = None


class FilterSelector(NbvecModel):
    """Select the points that match ``filter``."""

    filter: Filter
    shard_key: ShardKeySelector = None


PointsSelector = one_of(
    {"PointIdsList": PointIdsList, "FilterSelector": FilterSelector},
    tag_by_keys({"points": "PointIdsList", "filter": "FilterSelector"}),
    "a points selector: {'points': [ids]} or {'filter': {...}}",
)


class PointVectors(NbvecModel):
    """New vectors for the point ``id`` (``update_vectors``): a list, or
    ``{name: list}`` for named vectors."""

    id: ExtendedPointId
    vector: Any


class SetPayload(NbvecModel):
    """Set ``payload`` keys on the points given by ``points`` or ``filter``;
    ``key`` sets them inside the object at that JSON path."""

    payload: Dict[str, Any]
    points: Optional[_Ids] = None
    filter: Optional[Filter] = None
    shard_key: ShardKeySelector = None
    key: Optional[str] = None


class DeletePayload(NbvecModel):
    """Delete payload ``keys`` from the points given by ``points`` or ``filter``."""

    keys: List[str]
    points: Optional[_Ids] = None
    filter: Optional[Filter] = None
    shard_key: ShardKeySelector = None


class PointsList(NbvecModel):
    """Points to upsert, one object each (the REST body of an upsert)."""

    points: List[PointStruct]
    shard_key: ShardKeySelector = None
    update_filter: Optional[Filter] = None
    update_mode: Optional[Any] = None


class PointsBatch(NbvecModel):
    """Points to upsert in columns (the REST body of an upsert)."""

    batch: Batch
    shard_key: ShardKeySelector = None
    update_filter: Optional[Filter] = None
    update_mode: Optional[Any] = None


PointInsertOperations = one_of(
    {"PointsBatch": PointsBatch, "PointsList": PointsList},
    tag_by_keys({"batch": "PointsBatch", "points": "PointsList"}),
    "points to upsert: {'points': [...]} or {'batch': {...}}",
)
