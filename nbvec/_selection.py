"""What of a point a result carries: ``with_payload`` and ``with_vectors``.

``with_payload``: True / False, a list of keys (nested paths allowed),
``PayloadSelectorInclude(include=[...])``, ``PayloadSelectorExclude(exclude=[...])``
or their REST forms ``{"include": [...]}`` / ``{"exclude": [...]}``.
``with_vectors``: True / False or a list of vector names.

>>> pick = payload_selector(["a.b"])
>>> pick({"a": {"b": 1, "c": 2}, "d": 3})
{'a': {'b': 1}}
"""

from __future__ import annotations

from ._errors import InvalidRequest
from ._jsonpath import exclude_paths, parse_path, select_paths
from ._vectors import check_name

__all__ = ["payload_selector", "vector_names", "whole_payload"]


def whole_payload(payload):
    """The selector of ``with_payload=True``: the payload as it is."""
    return payload


def _as_key_list(keys, what):
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) for k in keys):
        raise InvalidRequest(f"{what} must be a list of payload keys, got {keys!r}")
    for k in keys:
        parse_path(k)
    return list(keys)


def payload_selector(with_payload):
    """A function payload -> selected payload, or None when no payload is wanted."""
    if with_payload is True:
        return whole_payload
    if with_payload is False or with_payload is None:
        return None
    include = exclude = None
    if isinstance(with_payload, (list, tuple, str)):
        include = _as_key_list(with_payload, "with_payload")
    elif isinstance(with_payload, dict):
        unknown = set(with_payload) - {"include", "exclude"}
        if unknown or len(with_payload) != 1:
            raise InvalidRequest("with_payload as a dict takes exactly one of 'include' or "
                                 f"'exclude', got {sorted(with_payload)}")
        include = with_payload.get("include")
        exclude = with_payload.get("exclude")
    elif hasattr(with_payload, "include"):
        include = with_payload.include
    elif hasattr(with_payload, "exclude"):
        exclude = with_payload.exclude
    else:
        raise InvalidRequest(
            "with_payload must be True/False, a list of keys, PayloadSelectorInclude or "
            f"PayloadSelectorExclude, got {type(with_payload).__name__}"
        )
    if include is not None:
        keys = _as_key_list(include, "include")
        if all("." not in k and "[" not in k for k in keys):  # the common, flat case
            return lambda p: {k: p[k] for k in keys if k in p}
        return lambda p: select_paths(p, keys)
    keys = _as_key_list(exclude, "exclude")
    if all("." not in k and "[" not in k for k in keys):
        return lambda p: {k: v for k, v in p.items() if k not in keys}
    return lambda p: exclude_paths(p, keys)


def vector_names(with_vectors, specs) -> list[str] | None:
    """Vector names to return, or None for none."""
    if with_vectors is True:
        return list(specs)
    if with_vectors is False or with_vectors is None:
        return None
    if isinstance(with_vectors, str):
        with_vectors = [with_vectors]
    if isinstance(with_vectors, (list, tuple)):
        return [check_name(n, specs) for n in with_vectors]
    raise InvalidRequest(f"with_vectors must be True/False or a list of vector names, "
                         f"got {with_vectors!r}")
