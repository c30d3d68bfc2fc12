"""Vector inputs other than a plain list of floats: named vectors, sparse
vectors, and objects for server-side inference.

Only :class:`NamedVector` is something nbvec searches with; the others exist
so that tutorials' code parses and the engine can refuse them by name.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ._base import NbvecModel

__all__ = [
    "NamedVector",
    "NamedSparseVector",
    "SparseVector",
    "Document",
    "Image",
    "InferenceObject",
]


class NamedVector(NbvecModel):
    """A dense query vector for the vector kind called ``name``."""

    name: str
    vector: Any


class SparseVector(NbvecModel):
    """A sparse vector: values at indices (not supported by nbvec)."""

    indices: List[int]
    values: List[float]


class NamedSparseVector(NbvecModel):
    """A sparse query vector with its name (not supported by nbvec)."""

    name: str
    vector: SparseVector


class Document(NbvecModel):
    """Text to embed with ``model`` (server-side inference: not supported)."""

    text: str
    model: str
    options: Optional[Any] = None


class Image(NbvecModel):
    """An image to embed with ``model`` (server-side inference: not supported)."""

    image: Any
    model: str
    options: Optional[Dict[str, Any]] = None


class InferenceObject(NbvecModel):
    """An object to embed with ``model`` (server-side inference: not supported)."""

    object: Any
    model: str
    options: Optional[Dict[str, Any]] = None
