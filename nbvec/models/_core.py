"""Core models shared by the engine and the Client: distances, vector
parameters, collection configuration diffs, points and query results."""

from __future__ import annotations

from typing import Annotated, Any, Dict, List, Optional, Union
from uuid import UUID

from pydantic import StrictInt, StrictStr

from ._base import NbvecEnum, NbvecModel
from ._types import Plain

__all__ = [
    "Distance",
    "VectorParams",
    "HnswConfigDiff",
    "OptimizersConfigDiff",
    "ExtendedPointId",
    "PointStruct",
    "Batch",
    "Record",
    "ScoredPoint",
    "UpdateStatus",
    "UpdateResult",
    "CountResult",
]

ExtendedPointId = Union[int, str, UUID]
#: A point id given as input: strict (True is no id 1, 5.0 no id 5), numpy
#: integers taken as Python ints.
PointIdInput = Annotated[Union[StrictInt, StrictStr, UUID], Plain]
VectorStruct = Union[List[float], Dict[str, Any], Any]


class Distance(NbvecEnum):
    """Similarity measure of a vector: Cosine and Dot score higher-is-better,
    Euclid and Manhattan are distances (lower is better)."""

    COSINE = "Cosine"
    EUCLID = "Euclid"
    DOT = "Dot"
    MANHATTAN = "Manhattan"


class HnswConfigDiff(NbvecModel):
    """Index parameters (Qdrant's names). ``full_scan_threshold`` is in kilobytes
    of vector data; below it a segment is always scanned exactly."""

    m: Optional[int] = None
    ef_construct: Optional[int] = None
    full_scan_threshold: Optional[int] = None
    max_indexing_threads: Optional[int] = None
    on_disk: Optional[bool] = None
    payload_m: Optional[int] = None
    inline_storage: Optional[bool] = None


class OptimizersConfigDiff(NbvecModel):
    """Optimizer parameters in Qdrant's units (kilobytes of vector data)."""

    deleted_threshold: Optional[float] = None
    vacuum_min_vector_number: Optional[int] = None
    default_segment_number: Optional[int] = None
    max_segment_size: Optional[int] = None
    memmap_threshold: Optional[int] = None
    indexing_threshold: Optional[int] = None
    flush_interval_sec: Optional[int] = None
    max_optimization_threads: Optional[int] = None
    prevent_unoptimized: Optional[bool] = None


class VectorParams(NbvecModel):
    """Size and distance of one vector kind.

    >>> VectorParams(size=100, distance=Distance.COSINE)
    VectorParams(size=100, distance=<Distance.COSINE: 'Cosine'>, hnsw_config=None, quantization_config=None, on_disk=None, datatype=None, multivector_config=None)
    """

    size: int
    distance: Distance
    hnsw_config: Optional[HnswConfigDiff] = None
    quantization_config: Optional[Any] = None
    on_disk: Optional[bool] = None
    datatype: Optional[Any] = None
    multivector_config: Optional[Any] = None


class PointStruct(NbvecModel):
    """One point to upsert: id, vector (a list, or ``{name: list}``), payload."""

    id: PointIdInput
    vector: VectorStruct
    payload: Optional[Dict[str, Any]] = None


class Batch(NbvecModel):
    """Points to upsert in columns: ids, vectors (list of lists, or
    ``{name: list of lists}``), payloads."""

    ids: Annotated[List[PointIdInput], Plain]
    vectors: Any
    payloads: Optional[List[Optional[Dict[str, Any]]]] = None


class Record(NbvecModel):
    """A stored point as returned by retrieve and scroll."""

    id: ExtendedPointId
    payload: Optional[Dict[str, Any]] = None
    vector: Optional[Any] = None
    shard_key: Optional[Union[int, str]] = None
    order_value: Optional[Union[int, float]] = None


class ScoredPoint(NbvecModel):
    """A search hit: id, score, and the payload and vectors asked for."""

    id: ExtendedPointId
    version: int = 0
    score: float
    payload: Optional[Dict[str, Any]] = None
    vector: Optional[Any] = None
    shard_key: Optional[Union[int, str]] = None
    order_value: Optional[Union[int, float]] = None


class UpdateStatus(NbvecEnum):
    """Outcome of a write: nbvec applies writes at once, so ``completed``."""

    ACKNOWLEDGED = "acknowledged"
    COMPLETED = "completed"
    WAIT_TIMEOUT = "wait_timeout"


class UpdateResult(NbvecModel):
    """Result of a write (upsert, delete, set_payload ...)."""

    operation_id: Optional[int] = None
    status: UpdateStatus


class CountResult(NbvecModel):
    """Result of ``count``: the number of matching points."""

    count: int
