"""Turning user arguments (our models, REST dicts, qdrant-client models) into
nbvec models, for the few parameter types the engine itself reads."""

from __future__ import annotations

from ._errors import InvalidRequest
from .models import VectorParams

__all__ = ["vector_params"]


def vector_params(params) -> VectorParams:
    """A VectorParams from ours, a dict, or a qdrant-client VectorParams."""
    if isinstance(params, VectorParams):
        return params
    if isinstance(params, dict):
        data = params
    elif type(params).__module__.startswith("qdrant_client"):
        data = params.model_dump(exclude_none=True)
        data["distance"] = getattr(data["distance"], "value", data["distance"])
    else:
        raise InvalidRequest(
            f"expected VectorParams(size=..., distance=...), got {type(params).__name__}"
        )
    try:
        return VectorParams.model_validate(data)
    except Exception as exc:  # pydantic ValidationError
        raise InvalidRequest(f"invalid VectorParams {data!r}: {exc}") from None
