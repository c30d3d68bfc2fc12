"""What ``get_collection`` and friends return: collection status, counts and
configuration, plus the collection-creation request.

nbvec fills these from its own state; Qdrant-only settings (shards,
replication, WAL) carry Qdrant's defaults so that code reading them works.

>>> from nbvec.models import CollectionStatus
>>> str(CollectionStatus.GREEN)
'green'
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict, List, Optional, Union

from pydantic import StrictStr

from ._base import NbvecEnum, NbvecModel
from ._core import HnswConfigDiff, OptimizersConfigDiff, VectorParams
from ._payload_index import PayloadIndexInfo
from ._types import one_of
from ._vector_config import QuantizationConfig, SparseVectorParams

__all__ = [
    "CollectionStatus",
    "OptimizersStatusOneOf",
    "OptimizersStatusOneOf1",
    "OptimizersStatus",
    "ShardingMethod",
    "VectorsConfig",
    "HnswConfig",
    "OptimizersConfig",
    "WalConfig",
    "WalConfigDiff",
    "CollectionParams",
    "CollectionConfig",
    "CollectionInfo",
    "CollectionDescription",
    "CollectionsResponse",
    "CollectionExistence",
    "CreateCollection",
]


class CollectionStatus(NbvecEnum):
    """``green``: all indexed; ``yellow``: optimizing; ``grey``: optimizations
    pending but not started; ``red``: an operation failed."""

    GREEN = "green"
    YELLOW = "yellow"
    GREY = "grey"
    RED = "red"


class OptimizersStatusOneOf(NbvecEnum):
    """The optimizers work as expected."""

    OK = "ok"


class OptimizersStatusOneOf1(NbvecModel):
    """The optimizers failed, with this error."""

    error: str


OptimizersStatus = Union[OptimizersStatusOneOf, OptimizersStatusOneOf1]


class ShardingMethod(NbvecEnum):
    AUTO = "auto"
    CUSTOM = "custom"


def _pick_vectors(value: Any) -> Optional[str]:
    if isinstance(value, NbvecModel):
        return type(value).__name__
    if isinstance(value, dict):
        return "VectorParams" if "size" in value or "distance" in value else "<named>"
    return None


#: One unnamed vector kind, or ``{name: VectorParams}``.
VectorsConfig = one_of(
    {"VectorParams": VectorParams, "<named>": Dict[StrictStr, VectorParams]},
    _pick_vectors,
    "VectorParams(size=..., distance=...) or {name: VectorParams}",
)


class HnswConfig(NbvecModel):
    """Index parameters in effect; ``full_scan_threshold`` is in kilobytes."""

    m: int
    ef_construct: int
    full_scan_threshold: int
    max_indexing_threads: Optional[int] = 0
    on_disk: Optional[bool] = None
    payload_m: Optional[int] = None
    inline_storage: Optional[bool] = None


class OptimizersConfig(NbvecModel):
    """Optimizer parameters in effect; sizes are in kilobytes."""

    deleted_threshold: Optional[float] = 0.2
    vacuum_min_vector_number: Optional[int] = 1000
    default_segment_number: int
    max_segment_size: Optional[int] = None
    memmap_threshold: Optional[int] = None
    indexing_threshold: Optional[int] = None
    flush_interval_sec: int
    max_optimization_threads: Optional[int] = None
    prevent_unoptimized: Optional[bool] = None


class WalConfig(NbvecModel):
    """Write-ahead log settings. On a storage folder (``Client(path=...)``)
    ``wal_capacity_mb`` is the log size that triggers a checkpoint; the other
    fields are reported as given (nbvec keeps one log file)."""

    wal_capacity_mb: int
    wal_segments_ahead: int
    wal_retain_closed: Optional[int] = 1


class WalConfigDiff(NbvecModel):
    wal_capacity_mb: Optional[int] = None
    wal_segments_ahead: Optional[int] = None
    wal_retain_closed: Optional[int] = None


class CollectionParams(NbvecModel):
    """The collection's vectors, and Qdrant's sharding settings."""

    vectors: Optional[VectorsConfig] = None
    shard_number: Optional[int] = 1
    sharding_method: Optional[ShardingMethod] = None
    replication_factor: Optional[int] = 1
    write_consistency_factor: Optional[int] = 1
    read_fan_out_factor: Optional[int] = None
    on_disk_payload: Optional[bool] = True
    sparse_vectors: Optional[Dict[str, SparseVectorParams]] = None


class CollectionConfig(NbvecModel):
    params: CollectionParams
    hnsw_config: HnswConfig
    optimizer_config: OptimizersConfig
    wal_config: Optional[WalConfig] = None
    quantization_config: Optional[QuantizationConfig] = None
    strict_mode_config: Optional[Any] = None
    metadata: Optional[Dict[str, Any]] = None


class CollectionInfo(NbvecModel):
    """Status, counts and configuration of a collection.

    ``vectors_count`` is not in Qdrant >= 1.13; nbvec keeps it for the older
    tutorials that print it (it counts stored vectors of every name).
    """

    status: CollectionStatus
    optimizer_status: OptimizersStatus
    warnings: Optional[List[Any]] = None
    vectors_count: Optional[int] = None
    indexed_vectors_count: Optional[int] = None
    points_count: Optional[int] = None
    segments_count: int
    config: CollectionConfig
    payload_schema: Dict[str, PayloadIndexInfo]
    update_queue: Optional[Any] = None
    created_at: Optional[Union[datetime, date]] = None


class CollectionDescription(NbvecModel):
    name: str


class CollectionsResponse(NbvecModel):
    """What ``get_collections`` returns: ``.collections``, each with ``.name``."""

    collections: List[CollectionDescription]


class CollectionExistence(NbvecModel):
    exists: bool


class CreateCollection(NbvecModel):
    """The REST body of a collection creation (``create_collection``'s
    keyword arguments have the same names)."""

    vectors: Optional[VectorsConfig] = None
    shard_number: Optional[int] = None
    sharding_method: Optional[ShardingMethod] = None
    replication_factor: Optional[int] = None
    write_consistency_factor: Optional[int] = None
    on_disk_payload: Optional[bool] = None
    hnsw_config: Optional[HnswConfigDiff] = None
    wal_config: Optional[WalConfigDiff] = None
    optimizers_config: Optional[OptimizersConfigDiff] = None
    quantization_config: Optional[QuantizationConfig] = None
    sparse_vectors: Optional[Dict[str, SparseVectorParams]] = None
    strict_mode_config: Optional[Any] = None
    metadata: Optional[Dict[str, Any]] = None
