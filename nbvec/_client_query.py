"""Translating the Client's query arguments into engine calls: the query kind
(vector, point id, NearestQuery, later RecommendQuery), SearchParams, named
vectors of the legacy ``search``, and the features nbvec refuses by name.

>>> kind, value = query_kind([0.1, 0.2])
>>> kind
'vector'
"""

from __future__ import annotations

import uuid
from numbers import Integral

import numpy as np

from ._errors import InvalidRequest, UnsupportedFeature
from .models import (
    NamedSparseVector,
    NamedVector,
    NearestQuery,
    SearchParams,
    SparseVector,
    to_nbvec,
)

__all__ = ["query_kind", "search_params_kwargs", "named_query_vector", "refuse"]

_UNSUPPORTED_QUERIES = {
    "FusionQuery": "fusion queries (prefetch + fusion)",
    "RrfQuery": "fusion queries (RRF)",
    "DiscoverQuery": "discovery search",
    "ContextQuery": "context search",
    "OrderByQuery": "order_by queries",
    "SampleQuery": "random sampling queries",
    "FormulaQuery": "score formula queries",
    "RelevanceFeedbackQuery": "relevance feedback queries",
    "SparseVector": "sparse vectors",
    "Document": "server-side inference (Document)",
    "Image": "server-side inference (Image)",
    "InferenceObject": "server-side inference",
    "TextQuery": "full-text queries",
}


def refuse(value, feature: str) -> None:
    """Raise UnsupportedFeature when an argument nbvec does not implement is set."""
    if value is not None and value is not False and value != []:
        raise UnsupportedFeature(f"nbvec does not support {feature}")


def _is_point_id(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (Integral, uuid.UUID)):
        return True
    if isinstance(value, str):
        try:
            uuid.UUID(value)
            return True
        except ValueError:
            return False
    return False


def query_kind(query):
    """('vector', array) | ('id', point id) | ('recommend', RecommendQuery) | ('none', None)."""
    if query is None:
        return "none", None
    if isinstance(query, np.ndarray):
        return "vector", query
    if isinstance(query, (list, tuple)):  # first: the common case, and never a point id
        if query and isinstance(query[0], (list, tuple, np.ndarray)):
            raise UnsupportedFeature("multi-vector queries are not supported by nbvec")
        return "vector", query
    if _is_point_id(query):
        return "id", query
    name = type(query).__name__
    if name in _UNSUPPORTED_QUERIES:
        raise UnsupportedFeature(f"nbvec does not support {_UNSUPPORTED_QUERIES[name]}")
    if isinstance(query, dict) or type(query).__module__.startswith("qdrant_client"):
        from .models import QueryInterface

        return query_kind(to_nbvec(query, QueryInterface, "query"))
    if isinstance(query, NearestQuery):
        refuse(query.mmr, "MMR (maximal marginal relevance) re-ranking")
        return query_kind(query.nearest)
    if name == "RecommendQuery":
        return "recommend", query
    raise InvalidRequest(
        f"query: expected a vector (list or numpy array), a point id, NearestQuery or "
        f"RecommendQuery, got {name}"
    )


def search_params_kwargs(params) -> dict:
    """Engine keyword arguments (exact, hnsw_ef, indexed_only) of SearchParams."""
    if params is None:
        return {}
    params = to_nbvec(params, SearchParams, "search_params")
    refuse(params.quantization, "quantization search parameters")
    refuse(getattr(params, "acorn", None), "ACORN search parameters")
    return {
        "exact": bool(params.exact),
        "hnsw_ef": params.hnsw_ef,
        "indexed_only": bool(params.indexed_only),
    }


def named_query_vector(query_vector):
    """(vector name or None, vector) of the legacy ``search`` query_vector:
    a list/array, ``(name, vector)``, NamedVector or its dict form."""
    if isinstance(query_vector, tuple) and len(query_vector) == 2 and isinstance(
            query_vector[0], str):
        name, vec = query_vector
        if isinstance(vec, SparseVector):
            raise UnsupportedFeature("sparse vectors are not supported by nbvec")
        return name, vec
    if isinstance(query_vector, dict) or type(query_vector).__module__.startswith("qdrant_client"):
        if type(query_vector).__name__ == "NamedSparseVector" or (
                isinstance(query_vector, dict) and "indices" in str(query_vector.get("vector"))):
            raise UnsupportedFeature("sparse vectors are not supported by nbvec")
        if isinstance(query_vector, dict) and "name" not in query_vector:
            raise InvalidRequest("a named query vector needs 'name' and 'vector'")
        query_vector = to_nbvec(query_vector, NamedVector, "query_vector")
    if isinstance(query_vector, NamedSparseVector):
        raise UnsupportedFeature("sparse vectors are not supported by nbvec")
    if isinstance(query_vector, NamedVector):
        return query_vector.name, query_vector.vector
    return None, query_vector
