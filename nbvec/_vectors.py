"""Vector input: arrays, lists and ``{name: ...}`` maps checked against the
collection's vector kinds (names, sizes, finite float values) and turned into
float32 arrays plus a presence mask per name.

>>> import numpy as np
>>> from nbvec._config import vector_specs
>>> arrs, present = vectors_from_columns(np.ones((2, 3)), vector_specs(3), 2)
>>> arrs[""].dtype, present[""].tolist()
(dtype('float32'), [True, True])
"""

from __future__ import annotations

import numpy as np

from ._errors import DimensionMismatch, InvalidVector, UnknownVectorName

__all__ = ["as_matrix", "vectors_from_columns", "vectors_from_rows", "check_name", "as_queries",
           "is_float32_vector"]

_FLOAT32 = np.dtype(np.float32)


def check_name(name, specs) -> str:
    """The vector name to use: ``name`` if known; None means the only/unnamed one."""
    if name is None:
        if "" in specs:
            return ""
        if len(specs) == 1:
            return next(iter(specs))
        raise UnknownVectorName(
            f"this collection has named vectors {sorted(specs)}: say which one with using=..."
        )
    if name not in specs:
        have = ", ".join("the unnamed vector" if n == "" else repr(n) for n in sorted(specs))
        raise UnknownVectorName(f"unknown vector name {name!r}: the collection has "
                                f"{have or 'no vectors'}")
    return name


def is_float32_vector(values, size: int) -> bool:
    """Whether ``values`` is one vector of ``size`` float32s laid out as
    stored (1-D, contiguous): usable as given, once checked finite.

    >>> is_float32_vector(np.zeros(3, np.float32), 3), is_float32_vector(np.zeros(3), 3)
    (True, False)
    """
    return (type(values) is np.ndarray and values.dtype == _FLOAT32 and values.ndim == 1
            and values.shape[0] == size and values.flags.c_contiguous)


def as_matrix(values, size: int, what: str, name: str = "") -> np.ndarray:
    """``values`` as a float32 (n, size) array of finite numbers, or a clear error."""
    if is_float32_vector(values, size) and np.isfinite(values).all():  # the notebook's case
        return values[None, :]
    label = f"vector {name!r}" if name else "vector"
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        arr = values
    else:
        try:
            arr = np.asarray(values, dtype=np.float64)  # range-checked below
        except (ValueError, TypeError):
            _explain_ragged(values, size, what, label)
            raise InvalidVector(f"{what}: {label} values must be numbers") from None
    if arr.dtype.kind not in "fiu":
        raise InvalidVector(f"{what}: {label} values must be numbers, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :] if arr.size else arr.reshape(0, size)
    if arr.ndim != 2:
        raise InvalidVector(f"{what}: expected a 2-D array of {label}s, got shape {arr.shape}")
    if arr.shape[1] != size and len(arr):
        raise DimensionMismatch(
            f"{what}: {label} has {arr.shape[1]} dimensions, the collection expects {size}"
        )
    if arr.dtype.kind == "f" and arr.dtype != np.float32:
        finite = np.isfinite(arr).all(axis=1)
        too_big = finite & (np.abs(arr) > np.finfo(np.float32).max).any(axis=1)
        if too_big.any():
            bad = int(np.flatnonzero(too_big)[0])
            raise InvalidVector(f"{what}: {label} #{bad} has values beyond float32's range "
                                "(about 3.4e38): stored as float32 they would become inf")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        raise InvalidVector(f"{what}: {label} #{bad} holds NaN or inf; vectors must be finite")
    return arr


def _explain_ragged(values, size, what, label):
    try:
        for i, v in enumerate(values):
            if len(v) != size:
                raise DimensionMismatch(
                    f"{what}: {label} #{i} has {len(v)} dimensions, the collection expects {size}"
                )
    except TypeError:
        return


def vectors_from_columns(vectors, specs, n: int):
    """Columnar vectors — an (n, d) array for the single vector kind, or
    ``{name: (n, d)}`` — as ({name: float32 array}, {name: present mask})."""
    if not isinstance(vectors, dict):
        vectors = {check_name(None, specs): vectors}
    arrays, present = {}, {}
    for name, values in vectors.items():
        name = check_name(name, specs)
        if values is None:
            continue
        if isinstance(values, (list, tuple)) and any(v is None for v in values):
            has = np.array([v is not None for v in values], dtype=bool)
            dense = np.zeros((len(values), specs[name].size), dtype=np.float32)
            if has.any():
                dense[has] = as_matrix([v for v in values if v is not None], specs[name].size,
                                       "upsert", name)
            arr = dense
        else:
            arr = as_matrix(values, specs[name].size, "upsert", name)
            has = np.ones(len(arr), dtype=bool)
        if len(arr) != n:
            label = f"vector {name!r}" if name else "vectors"
            raise InvalidVector(f"upsert: {n} id(s) but {len(arr)} {label}; give one per id")
        arrays[name], present[name] = arr, has
    return arrays, present


def vectors_from_rows(per_point: list, specs):
    """Row-wise vectors (a list per point, or ``{name: list}`` per point) as columns."""
    n = len(per_point)
    columns: dict[str, list] = {}
    for i, v in enumerate(per_point):
        if isinstance(v, dict):
            for name, vec in v.items():
                columns.setdefault(check_name(name, specs), [None] * n)[i] = vec
        elif v is not None:
            columns.setdefault(check_name(None, specs), [None] * n)[i] = v
    return vectors_from_columns(columns, specs, n)


def as_queries(query, size: int, name: str = "") -> tuple[np.ndarray, bool]:
    """A query vector or a 2-D batch as float32 (m, size); also whether it was a batch."""
    batch = getattr(query, "ndim", None) == 2 or (
        isinstance(query, (list, tuple)) and len(query) > 0
        and isinstance(query[0], (list, tuple, np.ndarray))
    )
    arr = as_matrix(query, size, "query", name)
    return arr, batch
