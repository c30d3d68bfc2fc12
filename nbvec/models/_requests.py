"""Search requests and their parameters: what to search with, which points
to consider, and what to return with each hit.

The request models are the REST bodies of Qdrant's search, recommend and
query endpoints; the client methods take the same names as keyword
arguments (``query_filter=`` for ``filter``, ``search_params=`` for
``params``).

>>> from nbvec.models import SearchParams, PayloadSelectorExclude
>>> SearchParams.model_validate({"hnsw_ef": 128, "exact": False})
SearchParams(hnsw_ef=128, exact=False, quantization=None, indexed_only=False, acorn=None)
"""

from __future__ import annotations

from typing import Any, List, Optional, Union

from pydantic import StrictBool, StrictStr

from ._base import NbvecModel
from ._core import ExtendedPointId
from ._filters import Filter
from ._queries import QueryInterface, RecommendStrategy, VectorInput
from ._types import ShardKeySelector, one_of, tag_by_keys
from ._vectors import NamedSparseVector, NamedVector

__all__ = [
    "QuantizationSearchParams",
    "AcornSearchParams",
    "SearchParams",
    "PayloadSelectorInclude",
    "PayloadSelectorExclude",
    "PayloadSelector",
    "WithPayloadInterface",
    "WithVector",
    "WithLookup",
    "WithLookupInterface",
    "LookupLocation",
    "NamedVectorStruct",
    "RecommendExample",
    "Prefetch",
    "QueryRequest",
    "QueryGroupsRequest",
    "SearchRequest",
    "SearchGroupsRequest",
    "RecommendRequest",
    "RecommendGroupsRequest",
    "ScrollRequest",
    "CountRequest",
    "PointRequest",
]


class QuantizationSearchParams(NbvecModel):
    """Quantization options of a search (nbvec does not quantize)."""

    ignore: Optional[bool] = False
    rescore: Optional[bool] = None
    oversampling: Optional[float] = None


class AcornSearchParams(NbvecModel):
    """ACORN filtered-search options (not supported by nbvec)."""

    enable: Optional[bool] = False
    max_selectivity: Optional[float] = None


class SearchParams(NbvecModel):
    """How to search: ``exact=True`` scans every candidate exactly;
    ``hnsw_ef`` is the approximate index's search width."""

    hnsw_ef: Optional[int] = None
    exact: Optional[bool] = False
    quantization: Optional[QuantizationSearchParams] = None
    indexed_only: Optional[bool] = False
    acorn: Optional[AcornSearchParams] = None


# --- what to return ---------------------------------------------------------


class PayloadSelectorInclude(NbvecModel):
    """Return only these payload keys (JSON paths)."""

    include: List[str]


class PayloadSelectorExclude(NbvecModel):
    """Return the payload without these keys (JSON paths)."""

    exclude: List[str]


PayloadSelector = one_of(
    {
        "PayloadSelectorInclude": PayloadSelectorInclude,
        "PayloadSelectorExclude": PayloadSelectorExclude,
    },
    tag_by_keys({"include": "PayloadSelectorInclude", "exclude": "PayloadSelectorExclude"}),
    "{'include': [keys]} or {'exclude': [keys]}",
)


def _pick_with_payload(value: Any) -> Optional[str]:
    if isinstance(value, bool):
        return "<bool>"
    if isinstance(value, (list, tuple)):
        return "<keys>"
    return tag_by_keys({"include": "PayloadSelectorInclude", "exclude": "PayloadSelectorExclude"})(
        value
    )


#: True/False, a list of payload keys, or an include/exclude selector.
WithPayloadInterface = one_of(
    {
        "<bool>": StrictBool,
        "<keys>": List[StrictStr],
        "PayloadSelectorInclude": PayloadSelectorInclude,
        "PayloadSelectorExclude": PayloadSelectorExclude,
    },
    _pick_with_payload,
    "True, False, a list of payload keys, or {'include': [...]} / {'exclude': [...]}",
)

#: True/False, or the names of the vectors to return.
WithVector = Union[StrictBool, List[StrictStr]]


class LookupLocation(NbvecModel):
    """Take the vectors of point-id examples from another collection."""

    collection: str
    vector: Optional[str] = None
    shard_key: ShardKeySelector = None


class WithLookup(NbvecModel):
    """With each group, return the point of ``collection`` whose id is the
    group's id."""

    collection: str
    with_payload: Optional[WithPayloadInterface] = None
    with_vectors: Optional[WithVector] = None


#: A collection name, or a WithLookup.
WithLookupInterface = Union[StrictStr, WithLookup]


# --- requests ---------------------------------------------------------------


class Prefetch(NbvecModel):
    """A sub-query whose results the main query re-scores (not supported)."""

    prefetch: Optional[Union[List["Prefetch"], "Prefetch"]] = None
    query: Optional[QueryInterface] = None
    using: Optional[str] = None
    filter: Optional[Filter] = None
    params: Optional[SearchParams] = None
    score_threshold: Optional[float] = None
    limit: Optional[int] = None
    lookup_from: Optional[LookupLocation] = None


class _QueryBase(NbvecModel):
    shard_key: ShardKeySelector = None
    prefetch: Optional[Union[List[Prefetch], Prefetch]] = None
    query: Optional[QueryInterface] = None
    using: Optional[str] = None
    filter: Optional[Filter] = None
    params: Optional[SearchParams] = None
    score_threshold: Optional[float] = None
    with_vector: Optional[WithVector] = None
    with_payload: Optional[WithPayloadInterface] = None
    lookup_from: Optional[LookupLocation] = None


class QueryRequest(_QueryBase):
    """One query of ``query_points`` / ``query_batch_points``: ``query``
    against the vector named ``using``, among points matching ``filter``.

    >>> QueryRequest(query=[0.1, 0.2], limit=3).limit
    3
    """

    limit: Optional[int] = None
    offset: Optional[int] = None


class QueryGroupsRequest(_QueryBase):
    """A query whose hits are grouped by the payload field ``group_by``."""

    group_by: str
    group_size: Optional[int] = None
    limit: Optional[int] = None
    with_lookup: Optional[WithLookupInterface] = None


#: A query vector: a list, or a NamedVector (sparse ones are refused later).
NamedVectorStruct = one_of(
    {"<vector>": Any, "NamedVector": NamedVector, "NamedSparseVector": NamedSparseVector},
    lambda value: (
        tag_by_keys({"vector": "NamedVector"})(value)
        if isinstance(value, (dict, NbvecModel))
        else "<vector>"
    ),
    "a vector, or {'name': ..., 'vector': [...]}",
)

#: A recommend example: a point id or a vector.
RecommendExample = VectorInput


class _SearchBase(NbvecModel):
    shard_key: ShardKeySelector = None
    filter: Optional[Filter] = None
    params: Optional[SearchParams] = None
    with_payload: Optional[WithPayloadInterface] = None
    with_vector: Optional[WithVector] = None
    score_threshold: Optional[float] = None


class SearchRequest(_SearchBase):
    """A search by vector (Qdrant's pre-1.10 search API, kept for batch
    search and old tutorials)."""

    vector: NamedVectorStruct
    limit: int
    offset: Optional[int] = None


class SearchGroupsRequest(_SearchBase):
    vector: NamedVectorStruct
    group_by: str
    group_size: int
    limit: int
    with_lookup: Optional[WithLookupInterface] = None


class _RecommendBase(_SearchBase):
    positive: Optional[List[RecommendExample]] = []
    negative: Optional[List[RecommendExample]] = []
    strategy: Optional[RecommendStrategy] = None
    using: Optional[str] = None
    lookup_from: Optional[LookupLocation] = None


class RecommendRequest(_RecommendBase):
    """Points like ``positive`` and unlike ``negative`` (ids or vectors)."""

    limit: int
    offset: Optional[int] = None


class RecommendGroupsRequest(_RecommendBase):
    group_by: str
    group_size: int
    limit: int
    with_lookup: Optional[WithLookupInterface] = None


class ScrollRequest(NbvecModel):
    """A page of points in id order, from ``offset`` on."""

    shard_key: ShardKeySelector = None
    offset: Optional[ExtendedPointId] = None
    limit: Optional[int] = None
    filter: Optional[Filter] = None
    with_payload: Optional[WithPayloadInterface] = None
    with_vector: Optional[WithVector] = None
    order_by: Optional[Any] = None


class CountRequest(NbvecModel):
    shard_key: ShardKeySelector = None
    filter: Optional[Filter] = None
    exact: Optional[bool] = True


class PointRequest(NbvecModel):
    shard_key: ShardKeySelector = None
    ids: List[ExtendedPointId]
    with_payload: Optional[WithPayloadInterface] = None
    with_vector: Optional[WithVector] = None


Prefetch.model_rebuild()
