"""Turn what a user passes into an nbvec model: one of ours, a REST JSON
dict, or a qdrant-client model (read through its ``model_dump``; qdrant-client
is never imported).

>>> from nbvec.models import Filter, to_nbvec
>>> to_nbvec({"must": [{"key": "city", "match": {"value": "London"}}]}, Filter).must[0].key
'city'
"""

from __future__ import annotations

from typing import Any, Type, TypeVar

from nbvec._errors import InvalidRequest

from ._base import NbvecModel

__all__ = ["to_nbvec", "is_qdrant_model"]

M = TypeVar("M", bound=NbvecModel)


def is_qdrant_model(obj: Any) -> bool:
    """Whether ``obj`` is a qdrant-client model (without importing it)."""
    return type(obj).__module__.startswith("qdrant_client") and hasattr(obj, "model_dump")


def to_nbvec(obj: Any, model_cls: Type[M]) -> M:
    """``obj`` as a ``model_cls``: returned as is if it is one, validated if
    it is a dict or a qdrant-client model.

    Raises
    ------
    InvalidRequest
        Naming the model and each offending field, when ``obj`` does not fit.
    """
    if isinstance(obj, model_cls):
        return obj
    if is_qdrant_model(obj):
        if type(obj).__name__ != model_cls.__name__:
            raise InvalidRequest(f"expected {model_cls.__name__}, got qdrant_client's {type(obj).__name__}")
        # by_alias: MatchExcept's field is ``except`` in the REST form
        obj = obj.model_dump(exclude_none=True, by_alias=True)
    elif isinstance(obj, NbvecModel):
        raise InvalidRequest(f"expected {model_cls.__name__}, got {type(obj).__name__}")
    elif not isinstance(obj, dict):
        raise InvalidRequest(
            f"expected {model_cls.__name__} or its dict form, got {type(obj).__name__}: {obj!r:.60}"
        )
    return model_cls.model_validate(obj)
