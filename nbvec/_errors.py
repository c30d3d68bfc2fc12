"""nbvec's exceptions: one module, one tree.

Every error nbvec raises on bad input subclasses the matching builtin, so
``except ValueError`` keeps working for callers who do not know nbvec::

    NbvecError
    ├── CollectionNotFound (KeyError)
    ├── CollectionExists (ValueError)
    ├── PointNotFound (KeyError)
    ├── UnknownVectorName (KeyError)
    ├── InvalidInput (ValueError)
    │   ├── DimensionMismatch
    │   ├── InvalidVector          NaN, inf, wrong shape or type
    │   ├── InvalidPointId         negative, float, malformed UUID
    │   ├── InvalidPayload         values that are not JSON
    │   ├── InvalidFilter
    │   └── InvalidRequest         limit <= 0, negative offset, unknown parameter
    ├── UnsupportedFeature (NotImplementedError)
    ├── StorageLocked (RuntimeError)
    └── StorageCorrupted (RuntimeError)

A ``KeyError`` subclass normally prints its message with quotes around it;
nbvec's print the plain message.
"""

from __future__ import annotations

__all__ = [
    "NbvecError",
    "CollectionNotFound",
    "CollectionExists",
    "PointNotFound",
    "UnknownVectorName",
    "InvalidInput",
    "DimensionMismatch",
    "InvalidVector",
    "InvalidPointId",
    "InvalidPayload",
    "InvalidFilter",
    "InvalidRequest",
    "UnsupportedFeature",
    "StorageLocked",
    "StorageCorrupted",
]


class NbvecError(Exception):
    """Base class of every error nbvec raises on purpose."""

    def __str__(self) -> str:  # KeyError would repr() its message
        return str(self.args[0]) if self.args else ""


class CollectionNotFound(NbvecError, KeyError):
    """The named collection does not exist."""


class CollectionExists(NbvecError, ValueError):
    """A collection of that name exists already."""


class PointNotFound(NbvecError, KeyError):
    """One or more point ids are not in the collection."""


class UnknownVectorName(NbvecError, KeyError):
    """A vector name that the collection does not have."""


class InvalidInput(NbvecError, ValueError):
    """Bad input: the message says what was wrong and what is expected."""


class DimensionMismatch(InvalidInput):
    """A vector's length differs from the collection's size."""


class InvalidVector(InvalidInput):
    """A vector with NaN or infinite values, or of the wrong shape or type."""


class InvalidPointId(InvalidInput):
    """A point id that is neither an unsigned integer nor a UUID."""


class InvalidPayload(InvalidInput):
    """A payload that is not a JSON object of JSON values."""


class InvalidFilter(InvalidInput):
    """A filter or ``where`` query that cannot be understood or is not allowed."""


class InvalidRequest(InvalidInput):
    """A request parameter out of range or not understood."""


class UnsupportedFeature(NbvecError, NotImplementedError):
    """A Qdrant feature that nbvec does not implement: never silently ignored."""


class StorageLocked(NbvecError, RuntimeError):
    """Another writer holds the storage folder."""


class StorageCorrupted(NbvecError, RuntimeError):
    """A storage file is damaged or not what nbvec wrote."""
