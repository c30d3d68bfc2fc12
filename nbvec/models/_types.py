"""Field types shared by the models: tagged unions chosen by a dict's keys,
and numpy/pandas values turned into plain Python ones.

A REST JSON dict says what it is by its keys (``{"key": ...}`` is a field
condition, ``{"any": [...]}`` a MatchAny). ``one_of`` builds a union that
reads those keys once and validates against that one member only, so a bad
input gets one precise error instead of one error per member.
"""

from __future__ import annotations

from typing import Annotated, Any, Callable, Dict, List, Mapping, Optional, Union
from uuid import UUID

from pydantic import BeforeValidator, Discriminator, StrictBool, StrictInt, StrictStr, Tag

from ._base import NbvecModel

__all__ = [
    "plain",
    "Plain",
    "StrictValue",
    "ShardKeySelector",
    "one_of",
    "one_or_many",
    "vector_or_id",
    "tag_by_keys",
]


def plain(value: Any) -> Any:
    """numpy and pandas scalars and arrays as Python values; others as is.

    Notebook users pass ``df.year[0]`` (a numpy int) or ``np.array([...])``
    where Qdrant expects an int or a list.
    """
    if type(value).__module__.partition(".")[0] in ("numpy", "pandas") and hasattr(value, "tolist"):
        return value.tolist()
    return value


Plain = BeforeValidator(plain)

#: A keyword, integer or bool to match (Qdrant's ValueVariants): floats are
#: refused rather than truncated.
StrictValue = Annotated[Union[StrictBool, StrictInt, StrictStr], Plain]

#: Shard keys: accepted for name compatibility; nbvec has no shards.
ShardKeySelector = Optional[Any]


def tag_by_keys(
    keys: Mapping[str, str], empty: Optional[str] = None
) -> Callable[[Any], Optional[str]]:
    """A picker naming a union member: an nbvec model by its class name, a
    dict by the first of ``keys`` it holds (``empty`` for ``{}``)."""

    def pick(value: Any) -> Optional[str]:
        if isinstance(value, NbvecModel):
            return type(value).__name__
        if isinstance(value, dict):
            if not value:
                return empty
            for key, tag in keys.items():
                if key in value:
                    return tag
        return None

    return pick


def one_of(
    members: Mapping[str, Any],
    pick: Callable[[Any], Optional[str]],
    expected: str,
) -> Any:
    """A union of ``{tag: type}`` where ``pick(value)`` names the member to
    validate against; ``expected`` words the error when it names none.

    Tags of nbvec models are their class names; others are written in angle
    brackets (``"<vector>"``) so error paths can leave them out.
    """
    tagged = tuple(Annotated[tp, Tag(tag)] for tag, tp in members.items())
    return Annotated[
        Union[tagged],  # type: ignore[valid-type]
        Discriminator(
            pick,
            custom_error_type="nbvec_union",
            custom_error_message=f"expected {expected}",
        ),
    ]


def _list_or_one(value: Any) -> str:
    return "<list>" if isinstance(value, (list, tuple)) else "<one>"


def one_or_many(item: Any, expected: str) -> Any:
    """``item`` or a list of them, kept as given (qdrant-client does too)."""
    return one_of({"<list>": List[item], "<one>": item}, _list_or_one, expected)


def _is_point_id(value: Any) -> bool:
    return isinstance(value, (int, str, UUID)) and not isinstance(value, bool)


def vector_or_id(value: Any, queries: Dict[str, str]) -> Optional[str]:
    """Pick for VectorInput-like unions: a query model or a dict form by its
    keys, a point id, or else a raw vector (checked later by the engine)."""
    if isinstance(value, NbvecModel):
        return type(value).__name__
    if isinstance(value, dict):
        for key, tag in queries.items():
            if key in value:
                return tag
        return None
    if _is_point_id(value):
        return "<id>"
    if value is None or isinstance(value, (bool, float)):
        return None  # neither a vector nor a point id
    return "<vector>"
