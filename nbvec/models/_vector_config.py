"""How a collection stores its vectors beyond size and distance: datatype,
multivectors, sparse vectors and quantization.

nbvec stores float32 dense vectors without quantization; these models exist
so that collection definitions from tutorials parse, and anything nbvec does
not do is refused by name rather than silently dropped.
"""

from __future__ import annotations

from typing import Optional, Union

from ._base import NbvecEnum, NbvecModel
from ._core import HnswConfigDiff
from ._types import one_of, tag_by_keys

__all__ = [
    "Datatype",
    "MultiVectorComparator",
    "MultiVectorConfig",
    "Modifier",
    "SparseIndexParams",
    "SparseVectorParams",
    "ScalarType",
    "ScalarQuantizationConfig",
    "ScalarQuantization",
    "CompressionRatio",
    "ProductQuantizationConfig",
    "ProductQuantization",
    "BinaryQuantizationConfig",
    "BinaryQuantization",
    "QuantizationConfig",
    "Disabled",
    "VectorParamsDiff",
]


class Datatype(NbvecEnum):
    FLOAT32 = "float32"
    UINT8 = "uint8"
    FLOAT16 = "float16"
    TURBO4 = "turbo4"
    TURBO8 = "turbo8"
    TURBO16 = "turbo16"


class MultiVectorComparator(NbvecEnum):
    MAX_SIM = "max_sim"


class MultiVectorConfig(NbvecModel):
    comparator: MultiVectorComparator


class Modifier(NbvecEnum):
    NONE = "none"
    IDF = "idf"


class SparseIndexParams(NbvecModel):
    full_scan_threshold: Optional[int] = None
    on_disk: Optional[bool] = None
    datatype: Optional[Datatype] = None


class SparseVectorParams(NbvecModel):
    index: Optional[SparseIndexParams] = None
    modifier: Optional[Modifier] = None


class ScalarType(NbvecEnum):
    INT8 = "int8"


class ScalarQuantizationConfig(NbvecModel):
    type: ScalarType
    quantile: Optional[float] = None
    always_ram: Optional[bool] = None


class ScalarQuantization(NbvecModel):
    scalar: ScalarQuantizationConfig


class CompressionRatio(NbvecEnum):
    X4 = "x4"
    X8 = "x8"
    X16 = "x16"
    X32 = "x32"
    X64 = "x64"


class ProductQuantizationConfig(NbvecModel):
    compression: CompressionRatio
    always_ram: Optional[bool] = None


class ProductQuantization(NbvecModel):
    product: ProductQuantizationConfig


class BinaryQuantizationConfig(NbvecModel):
    always_ram: Optional[bool] = None


class BinaryQuantization(NbvecModel):
    binary: BinaryQuantizationConfig


class Disabled(NbvecEnum):
    DISABLED = "Disabled"


_QUANTIZATION_KEYS = {
    "scalar": "ScalarQuantization",
    "product": "ProductQuantization",
    "binary": "BinaryQuantization",
}
QuantizationConfig = one_of(
    {tag: globals()[tag] for tag in _QUANTIZATION_KEYS.values()},
    tag_by_keys(_QUANTIZATION_KEYS),
    "a quantization config: a dict with one of {'scalar', 'product', 'binary'}",
)


class VectorParamsDiff(NbvecModel):
    """Changes to one vector kind's parameters (``update_collection``)."""

    hnsw_config: Optional[HnswConfigDiff] = None
    quantization_config: Optional[Union[QuantizationConfig, Disabled]] = None
    on_disk: Optional[bool] = None
