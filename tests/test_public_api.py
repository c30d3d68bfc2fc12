"""nbvec's public names: the ones a user imports from the top package."""

import nbvec
from nbvec import _errors

ERRORS = {
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
}
INTENDED = {"VectorFrame", "Client", "models"} | ERRORS


def test_intended_names_are_exported():
    assert INTENDED - set(nbvec.__all__) == set()


def test_every_error_is_exported():
    assert set(_errors.__all__) == ERRORS


def test_exported_names_are_importable_and_unique():
    assert len(nbvec.__all__) == len(set(nbvec.__all__))
    namespace = {}
    exec("from nbvec import *", namespace)
    assert set(nbvec.__all__) <= set(namespace)


def test_errors_share_one_base():
    for name in ERRORS:
        assert issubclass(getattr(nbvec, name), nbvec.NbvecError)
