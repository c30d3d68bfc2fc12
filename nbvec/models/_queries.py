"""What ``query_points`` can be asked: a vector or point id, or a query
object naming the kind of query (nearest, recommend, discover ...).

nbvec answers nearest-neighbour and recommend queries; the other kinds
exist so that they parse and can be refused by name.

>>> from nbvec.models import RecommendQuery, RecommendInput
>>> RecommendQuery.model_validate({"recommend": {"positive": [1, 2], "negative": [7]}}).recommend.negative
[7]
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from pydantic import StrictStr

from ._base import NbvecEnum, NbvecModel
from ._core import ExtendedPointId
from ._types import one_of, vector_or_id
from ._vectors import Document, Image, InferenceObject, SparseVector

__all__ = [
    "VectorInput",
    "RecommendStrategy",
    "RecommendInput",
    "RecommendQuery",
    "Mmr",
    "NearestQuery",
    "ContextPair",
    "DiscoverInput",
    "DiscoverQuery",
    "ContextQuery",
    "Direction",
    "OrderBy",
    "OrderByQuery",
    "Fusion",
    "FusionQuery",
    "Rrf",
    "RrfQuery",
    "Sample",
    "SampleQuery",
    "FormulaQuery",
    "RelevanceFeedbackQuery",
    "TextQuery",
    "Query",
    "QueryInterface",
]

# Keys of a dict naming what it is, in the order they are looked for.
_INPUT_KEYS = {
    "indices": "SparseVector",
    "image": "Image",
    "object": "InferenceObject",
    "model": "Document",
}
_INPUT_TYPES: Dict[str, Any] = {
    "<vector>": Any,  # a list, numpy array or multivector: checked by the engine
    "<id>": ExtendedPointId,
    "SparseVector": SparseVector,
    "Document": Document,
    "Image": Image,
    "InferenceObject": InferenceObject,
}

#: A vector (list or numpy array), the id of a stored point whose vector to
#: use, or an object for server-side inference.
VectorInput = one_of(
    _INPUT_TYPES,
    lambda value: vector_or_id(value, _INPUT_KEYS),
    "a vector (list of floats or numpy array) or a point id",
)


class RecommendStrategy(NbvecEnum):
    """How recommend combines examples: ``average_vector`` searches with
    ``avg(positive) + avg(positive) - avg(negative)``; ``best_score`` and
    ``sum_scores`` score each candidate against every example."""

    AVERAGE_VECTOR = "average_vector"
    BEST_SCORE = "best_score"
    SUM_SCORES = "sum_scores"


class RecommendInput(NbvecModel):
    """Examples to look like (``positive``) and unlike (``negative``):
    point ids or vectors."""

    positive: Optional[List[VectorInput]] = None
    negative: Optional[List[VectorInput]] = None
    strategy: Optional[RecommendStrategy] = None


class RecommendQuery(NbvecModel):
    recommend: RecommendInput


class Mmr(NbvecModel):
    """Maximal marginal relevance re-ranking (not supported by nbvec)."""

    diversity: Optional[float] = None
    candidates_limit: Optional[int] = None


class NearestQuery(NbvecModel):
    """The points nearest to ``nearest`` (a vector or a point id)."""

    nearest: VectorInput
    mmr: Optional[Mmr] = None


class ContextPair(NbvecModel):
    positive: VectorInput
    negative: VectorInput


class DiscoverInput(NbvecModel):
    target: VectorInput
    context: Union[List[ContextPair], ContextPair]


class DiscoverQuery(NbvecModel):
    discover: DiscoverInput


class ContextQuery(NbvecModel):
    context: Union[List[ContextPair], ContextPair]


class Direction(NbvecEnum):
    ASC = "asc"
    DESC = "desc"


class OrderBy(NbvecModel):
    """Order by the payload field ``key``."""

    key: str
    direction: Optional[Direction] = None
    start_from: Optional[Any] = None


class OrderByQuery(NbvecModel):
    order_by: Union[StrictStr, OrderBy]


class Fusion(NbvecEnum):
    RRF = "rrf"
    DBSF = "dbsf"


class FusionQuery(NbvecModel):
    fusion: Fusion


class Rrf(NbvecModel):
    k: Optional[int] = None
    weights: Optional[List[float]] = None


class RrfQuery(NbvecModel):
    rrf: Rrf


class Sample(NbvecEnum):
    RANDOM = "random"


class SampleQuery(NbvecModel):
    sample: Sample


class FormulaQuery(NbvecModel):
    formula: Any
    defaults: Optional[Dict[str, Any]] = {}


class RelevanceFeedbackQuery(NbvecModel):
    relevance_feedback: Any


class TextQuery(NbvecModel):
    text: Any


_QUERY_KEYS = {
    "nearest": "NearestQuery",
    "recommend": "RecommendQuery",
    "discover": "DiscoverQuery",
    "context": "ContextQuery",
    "order_by": "OrderByQuery",
    "fusion": "FusionQuery",
    "rrf": "RrfQuery",
    "formula": "FormulaQuery",
    "sample": "SampleQuery",
    "relevance_feedback": "RelevanceFeedbackQuery",
}
_QUERY_TYPES = {tag: globals()[tag] for tag in [*_QUERY_KEYS.values(), "TextQuery"]}


def _pick_query(value: Any) -> Optional[str]:
    if isinstance(value, (dict, NbvecModel)):
        return vector_or_id(value, {**_QUERY_KEYS, "text": "TextQuery"})
    return None


Query = one_of(
    _QUERY_TYPES,
    _pick_query,
    "a query: a dict with one of {" + ", ".join(map(repr, _QUERY_KEYS)) + "}",
)

#: What ``query_points(query=...)`` takes: a vector, a point id, or a query.
QueryInterface = one_of(
    {**_INPUT_TYPES, **_QUERY_TYPES},
    lambda value: vector_or_id(value, {**_QUERY_KEYS, **_INPUT_KEYS, "text": "TextQuery"}),
    "a vector, a point id, or a query (NearestQuery, RecommendQuery ...)",
)
