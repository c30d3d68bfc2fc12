"""The base of every nbvec model: a pydantic model that refuses unknown fields.

qdrant-client's models are pydantic models too, so nbvec's behave the same
where tutorials rely on it: attribute access, equality, ``list(model)``
yielding ``(field, value)`` pairs, ``model_dump()``, and REST JSON dicts
accepted through ``Model.model_validate(dict)``.

Where they differ on purpose: a model that cannot be built raises
:class:`nbvec.InvalidRequest` (a ``ValueError``) whose message names each
offending field by its path and says what was expected, instead of
pydantic's ``ValidationError``.
"""

from __future__ import annotations

import typing
from collections import deque
from enum import Enum
from itertools import repeat
from typing import Any, Dict, List, Optional, Tuple, Type

from pydantic import BaseModel as _PydanticModel
from pydantic import ConfigDict, ValidationError

from nbvec._errors import InvalidRequest

__all__ = ["NbvecModel", "NbvecEnum", "invalid_request", "trusted_instances"]

_new_object = object.__new__
# pydantic's per-instance slots, set directly (cheaper than object.__setattr__)
SLOT_SETTERS = {name: _PydanticModel.__dict__[name].__set__
                for name in ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__",
                             "__pydantic_private__")}
_consume = deque(maxlen=0).extend  # runs an iterator, keeps nothing
_MODELS: Dict[str, Type["NbvecModel"]] = {}  # class name -> class, to read error paths
_MAX_ERRORS = 8


class NbvecEnum(str, Enum):
    """A string enum that prints as its value, like qdrant-client's enums."""

    def __str__(self) -> str:
        return str(self.value)


class NbvecModel(_PydanticModel):
    """Base model: unknown fields are an error, never silently ignored.

    >>> from nbvec.models import VectorParams
    >>> VectorParams(size=4, distance="Cosine").distance.value
    'Cosine'
    >>> VectorParams(size=4, distance="Cosine", on_dsk=True)
    Traceback (most recent call last):
    ...
    nbvec._errors.InvalidRequest: invalid VectorParams:
      on_dsk: not a field of VectorParams (its fields: size, distance, hnsw_config, quantization_config, on_disk, datatype, multivector_config)
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _MODELS[cls.__name__] = cls

    def __init__(self, /, **data: Any) -> None:
        __tracebackhide__ = True
        try:
            self.__pydantic_validator__.validate_python(data, self_instance=self)
        except ValidationError as exc:
            raise invalid_request(type(self), exc) from None

    # Pydantic's own marker for its base __init__: nested models keep being
    # built inside pydantic-core instead of calling this Python function.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def trusted(cls, **values: Any) -> Any:
        """An instance from values the engine made and already checked (search
        hits, responses): pydantic's validation is skipped. Fields not given
        take their defaults (many at once: :func:`trusted_instances`).

        >>> from nbvec.models import ScoredPoint
        >>> ScoredPoint.trusted(id=1, score=0.5) == ScoredPoint(id=1, score=0.5)
        True
        """
        template = cls.__dict__.get("_trusted_template")
        if template is None:  # every field, in order (update() keeps the order)
            template = {name: None if f.is_required() else f.get_default(call_default_factory=True)
                        for name, f in cls.model_fields.items()}
            cls._trusted_template = template
        fields = dict(template)
        fields.update(values)
        return _instance(cls, fields, values)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Any:
        """Build the model from a dict (REST JSON form) or a model instance."""
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise invalid_request(cls, exc) from None

    @classmethod
    def model_validate_json(cls, json_data: Any, **kwargs: Any) -> Any:
        """Build the model from a JSON string."""
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as exc:
            raise invalid_request(cls, exc) from None


def _instance(cls: type, fields: Dict[str, Any], given) -> Any:
    """A model instance holding ``fields`` (all of them, in order), ``given``
    being the names set explicitly; no validation."""
    return trusted_instances(cls, [fields], frozenset(given))[0]


def trusted_instances(cls: type, fields: List[Dict[str, Any]], given: frozenset) -> List[Any]:
    """Instances of ``cls``, one per dict of ``fields`` (every field, in
    order; the engine's own checked values), ``given`` the names set
    explicitly in each: what :func:`_instance` makes, one slot at a time
    for all of them (C loops over the instances, no Python call per one).

    >>> from nbvec.models import QueryResponse
    >>> trusted_instances(QueryResponse, [{"points": []}], frozenset({"points"}))
    [QueryResponse(points=[])]
    """
    n = len(fields)
    objs = list(map(_new_object, repeat(cls, n)))
    _consume(map(SLOT_SETTERS["__dict__"], objs, fields))
    _consume(map(SLOT_SETTERS["__pydantic_fields_set__"], objs, map(set, repeat(given, n))))
    _consume(map(SLOT_SETTERS["__pydantic_extra__"], objs, repeat(None, n)))
    _consume(map(SLOT_SETTERS["__pydantic_private__"], objs, repeat(None, n)))
    return objs


def invalid_request(
    model_cls: Optional[type], exc: ValidationError, name: Optional[str] = None
) -> InvalidRequest:
    """Turn pydantic's ``ValidationError`` into an ``InvalidRequest`` listing
    each bad field by path (``must[0].match.value``) and what was expected.

    ``model_cls`` is the model validated (None for a union type), ``name``
    what to call the input (the model's name by default); a given name
    leads each path.
    """
    prefix = name  # a parameter's name leads each path: "query_filter.must[0]"
    name = name or getattr(model_cls, "__name__", "input")
    by_path: Dict[str, List[Any]] = {}  # path -> [reasons, union labels, input]
    for err in exc.errors(include_url=False):
        path, owner, labels = _read_path(model_cls, err["loc"], err["type"])
        if prefix and path:
            path = prefix + ("" if path.startswith("[") else ".") + path
        entry = by_path.setdefault(path or name, [[], set(), err["input"]])
        entry[0].append(_explain(err, owner))
        entry[1].update(labels)
    lines = []
    for path, (reasons, labels, value) in by_path.items():
        words = _UNION_WORDS.get(frozenset(labels)) if len(reasons) > 1 else None
        reason = f"expected {words}; got {_short(value)}" if words else _join(reasons)
        lines.append(f"  {path}: {reason}")
    if len(lines) > _MAX_ERRORS:
        lines[_MAX_ERRORS:] = [f"  ... and {len(lines) - _MAX_ERRORS} more"]
    return InvalidRequest(f"invalid {name}:\n" + "\n".join(lines))


# What a plain union of these pydantic member labels accepts, in words.
_UNION_WORDS = {
    frozenset({"int", "str", "uuid"}): "a point id: an unsigned integer or a UUID",
    frozenset({"bool", "int", "str"}): "a string, an integer or a bool",
    frozenset({"list[str]", "list[int]"}): "a list of strings or a list of integers (not mixed)",
    frozenset({"bool", "list[str]"}): "True, False, or a list of vector names",
}


def _join(reasons: List[str]) -> str:
    """'Input should be a valid integer; got 1.5' twice or more, worded once."""
    prefix = "Input should be "
    if len(reasons) == 1 or not all(r.startswith(prefix) for r in reasons):
        return "; ".join(dict.fromkeys(reasons))
    got = reasons[0].rpartition("; ")[2]
    wanted = [r.rpartition("; ")[0].removeprefix(prefix) for r in reasons]
    return prefix + ", or ".join(dict.fromkeys(wanted)) + "; " + got


def _read_path(
    model_cls: Optional[type], loc: Tuple[Any, ...], kind: str
) -> Tuple[str, Optional[type], List[str]]:
    """Render an error location without its union labels; find the model
    owning its last field (to list that model's fields) and the labels."""
    path = ""
    labels: List[str] = []
    current: Optional[type] = model_cls
    owner: Optional[type] = model_cls
    for n, item in enumerate(loc):
        last = n == len(loc) - 1
        if isinstance(item, int):
            path += f"[{item}]"
            continue
        if item in _MODELS and (current is None or item not in current.model_fields):
            current = _MODELS[item]  # a union tag naming the member tried
            continue
        fields = _fields_by_name(current) if current is not None else {}
        if item in fields:
            owner, current = current, _model_in(fields[item].annotation)
        elif _is_label(item) and not (last and kind == "extra_forbidden"):
            labels.append(item)
            continue
        else:
            owner, current = current, None
        path += f".{item}" if path else str(item)
    return path, owner, labels


def _fields_by_name(model_cls: type) -> Dict[str, Any]:
    fields = dict(model_cls.model_fields)
    fields.update({f.alias: f for f in model_cls.model_fields.values() if f.alias})
    return fields


def _model_in(annotation: Any) -> Optional[type]:
    """The one nbvec model a field annotation holds, if exactly one."""
    found = set()

    def visit(tp: Any) -> None:
        if isinstance(tp, type) and issubclass(tp, NbvecModel):
            found.add(tp)
        for arg in typing.get_args(tp):
            visit(arg)

    visit(annotation)
    return found.pop() if len(found) == 1 else None


def _is_label(item: str) -> bool:
    # pydantic names union members 'list[str]', 'int', 'function-after[...]';
    # nbvec's own tagged unions use labels in angle brackets ('<list>').
    return item.startswith("<") or "[" in item or item in _TYPE_LABELS


_TYPE_LABELS = {"int", "str", "bool", "float", "uuid", "datetime", "date", "list", "dict", "none"}


def _explain(err: Dict[str, Any], owner: Optional[type]) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        if owner is None:
            return "unknown field"
        names = ", ".join(f.alias or name for name, f in owner.model_fields.items())
        return f"not a field of {owner.__name__} (its fields: {names})"
    if kind == "missing":
        return "required field is missing"
    if kind in ("nbvec_union", "union_tag_not_found", "union_tag_invalid"):
        return f"{err['msg']}; got {_short(err['input'])}"
    return f"{err['msg'].rstrip('.')}; got {_short(err['input'])}"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
