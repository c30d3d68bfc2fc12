"""Turn what a user passes into an nbvec model: one of ours, a REST JSON
dict, or a qdrant-client model (read through its ``model_dump``; qdrant-client
is never imported).

>>> from nbvec.models import Filter, QueryInterface, NearestQuery, to_nbvec
>>> to_nbvec({"must": [{"key": "city", "match": {"value": "London"}}]}, Filter).must[0].key
'city'
>>> to_nbvec({"nearest": 42}, QueryInterface, name="query")
NearestQuery(nearest=42, mmr=None)
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from pydantic import TypeAdapter, ValidationError

from nbvec._errors import InvalidRequest

from ._base import NbvecModel, invalid_request

__all__ = ["to_nbvec", "is_qdrant_model"]

_ADAPTERS: Dict[int, Tuple[Any, TypeAdapter]] = {}  # id(union type) -> (it, its adapter)


def is_qdrant_model(obj: Any) -> bool:
    """Whether ``obj`` is a qdrant-client model (without importing it)."""
    return type(obj).__module__.startswith("qdrant_client") and hasattr(obj, "model_dump")


def _dump(obj: Any) -> Dict[str, Any]:
    # by_alias: MatchExcept's field is ``except`` in the REST form
    return obj.model_dump(exclude_none=True, by_alias=True)


def to_nbvec(obj: Any, model_cls: Any, name: Optional[str] = None) -> Any:
    """``obj`` as a ``model_cls``: returned as is if it is one, validated if
    it is a dict or a qdrant-client model.

    Parameters
    ----------
    obj
        An nbvec model, its REST JSON dict form, or a qdrant-client model.
    model_cls
        An nbvec model class, or one of the union types of ``nbvec.models``
        (``QueryInterface``, ``Condition``, ``WithPayloadInterface`` ...),
        which also take their non-model members (a vector, a point id, True).
    name
        What to call ``obj`` in error messages (the parameter's name, say).

    Raises
    ------
    InvalidRequest
        Naming the model and each offending field, when ``obj`` does not fit.
    """
    if not isinstance(model_cls, type):
        return _to_union(obj, model_cls, name)
    if isinstance(obj, model_cls):
        return obj
    label = name or model_cls.__name__
    if is_qdrant_model(obj):
        if type(obj).__name__ != model_cls.__name__:
            raise InvalidRequest(
                f"{label}: expected {model_cls.__name__}, got qdrant_client's {type(obj).__name__}"
            )
        obj = _dump(obj)
    elif isinstance(obj, NbvecModel):
        raise InvalidRequest(f"{label}: expected {model_cls.__name__}, got {type(obj).__name__}")
    elif not isinstance(obj, dict):
        raise InvalidRequest(
            f"{label}: expected {model_cls.__name__} or its dict form, "
            f"got {type(obj).__name__}: {obj!r:.60}"
        )
    try:
        return model_cls.__pydantic_validator__.validate_python(obj)
    except ValidationError as exc:
        raise invalid_request(model_cls, exc, name) from None


def _to_union(obj: Any, union: Any, name: Optional[str]) -> Any:
    cached = _ADAPTERS.get(id(union))
    if cached is None or cached[0] is not union:
        cached = _ADAPTERS[id(union)] = (union, TypeAdapter(union))
    adapter = cached[1]
    if is_qdrant_model(obj):
        # Its REST form picks the same member by its keys.
        obj = _dump(obj)
    try:
        return adapter.validate_python(obj)
    except ValidationError as exc:
        raise invalid_request(None, exc, name or "input") from None
