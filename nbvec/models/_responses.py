"""Results of reads beyond single points: a query's hits, groups of hits,
and a page of a scroll.

``Client.scroll`` returns a ``(points, next_page_offset)`` tuple like
qdrant-client; ``ScrollResult`` is the REST form of the same.
"""

from __future__ import annotations

from typing import List, Optional, Union

from pydantic import StrictInt, StrictStr

from ._base import NbvecModel
from ._core import ExtendedPointId, Record, ScoredPoint

__all__ = ["QueryResponse", "PointGroup", "GroupsResult", "ScrollResult", "GroupId"]

#: A group's id: the value of the group_by payload field.
GroupId = Union[StrictInt, StrictStr]


class QueryResponse(NbvecModel):
    """What ``query_points`` returns: the hits, best first, in ``.points``."""

    points: List[ScoredPoint]


class PointGroup(NbvecModel):
    """The hits sharing one value (``id``) of the group_by field, and the
    looked-up point of that id when ``with_lookup`` was asked."""

    hits: List[ScoredPoint]
    id: GroupId
    lookup: Optional[Record] = None


class GroupsResult(NbvecModel):
    """What ``query_points_groups`` returns: the groups, best first."""

    groups: List[PointGroup]


class ScrollResult(NbvecModel):
    points: List[Record]
    next_page_offset: Optional[ExtendedPointId] = None
