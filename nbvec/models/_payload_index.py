"""Payload indexes: the schema type of a payload field and its index options.

nbvec filters without payload indexes; ``create_payload_index`` records the
declared type so ``CollectionInfo.payload_schema`` reports it, and the
per-type options are accepted for compatibility (loosely typed).

>>> from nbvec.models import PayloadSchemaType
>>> PayloadSchemaType("keyword") is PayloadSchemaType.KEYWORD
True
"""

from __future__ import annotations

from typing import Any, Optional, Union

from ._base import NbvecEnum, NbvecModel
from ._types import one_of

__all__ = [
    "PayloadSchemaType",
    "TokenizerType",
    "KeywordIndexType",
    "IntegerIndexType",
    "FloatIndexType",
    "GeoIndexType",
    "TextIndexType",
    "BoolIndexType",
    "DatetimeIndexType",
    "UuidIndexType",
    "KeywordIndexParams",
    "IntegerIndexParams",
    "FloatIndexParams",
    "GeoIndexParams",
    "TextIndexParams",
    "BoolIndexParams",
    "DatetimeIndexParams",
    "UuidIndexParams",
    "PayloadSchemaParams",
    "PayloadFieldSchema",
    "PayloadIndexInfo",
    "CreateFieldIndex",
]


class PayloadSchemaType(NbvecEnum):
    KEYWORD = "keyword"
    INTEGER = "integer"
    FLOAT = "float"
    GEO = "geo"
    TEXT = "text"
    BOOL = "bool"
    DATETIME = "datetime"
    UUID = "uuid"


class TokenizerType(NbvecEnum):
    PREFIX = "prefix"
    WHITESPACE = "whitespace"
    WORD = "word"
    MULTILINGUAL = "multilingual"
    CODE = "code"


class KeywordIndexType(NbvecEnum):
    KEYWORD = "keyword"


class IntegerIndexType(NbvecEnum):
    INTEGER = "integer"


class FloatIndexType(NbvecEnum):
    FLOAT = "float"


class GeoIndexType(NbvecEnum):
    GEO = "geo"


class TextIndexType(NbvecEnum):
    TEXT = "text"


class BoolIndexType(NbvecEnum):
    BOOL = "bool"


class DatetimeIndexType(NbvecEnum):
    DATETIME = "datetime"


class UuidIndexType(NbvecEnum):
    UUID = "uuid"


class _IndexParams(NbvecModel):
    on_disk: Optional[bool] = None
    enable_hnsw: Optional[bool] = None


class KeywordIndexParams(_IndexParams):
    type: KeywordIndexType
    is_tenant: Optional[bool] = None


class IntegerIndexParams(_IndexParams):
    type: IntegerIndexType
    lookup: Optional[bool] = None
    range: Optional[bool] = None
    is_principal: Optional[bool] = None


class FloatIndexParams(_IndexParams):
    type: FloatIndexType
    is_principal: Optional[bool] = None


class GeoIndexParams(_IndexParams):
    type: GeoIndexType


class TextIndexParams(_IndexParams):
    type: TextIndexType
    tokenizer: Optional[TokenizerType] = None
    min_token_len: Optional[int] = None
    max_token_len: Optional[int] = None
    lowercase: Optional[bool] = None
    phrase_matching: Optional[bool] = None
    stopwords: Optional[Any] = None
    stemmer: Optional[Any] = None


class BoolIndexParams(_IndexParams):
    type: BoolIndexType


class DatetimeIndexParams(_IndexParams):
    type: DatetimeIndexType
    is_principal: Optional[bool] = None


class UuidIndexParams(_IndexParams):
    type: UuidIndexType
    is_tenant: Optional[bool] = None


_PARAMS_BY_TYPE = {
    "keyword": KeywordIndexParams,
    "integer": IntegerIndexParams,
    "float": FloatIndexParams,
    "geo": GeoIndexParams,
    "text": TextIndexParams,
    "bool": BoolIndexParams,
    "datetime": DatetimeIndexParams,
    "uuid": UuidIndexParams,
}


def _pick_params(value: Any) -> Optional[str]:
    if isinstance(value, NbvecModel):
        return type(value).__name__
    if isinstance(value, dict) and str(value.get("type")) in _PARAMS_BY_TYPE:
        return _PARAMS_BY_TYPE[str(value["type"])].__name__
    return None


PayloadSchemaParams = one_of(
    {cls.__name__: cls for cls in _PARAMS_BY_TYPE.values()},
    _pick_params,
    "index params: a dict whose 'type' is one of " + ", ".join(map(repr, _PARAMS_BY_TYPE)),
)
PayloadFieldSchema = Union[PayloadSchemaType, PayloadSchemaParams]


class PayloadIndexInfo(NbvecModel):
    """A payload field's declared type, its index options, and how many
    points have it."""

    data_type: PayloadSchemaType
    params: Optional[PayloadSchemaParams] = None
    points: int


class CreateFieldIndex(NbvecModel):
    field_name: str
    field_schema: Optional[PayloadFieldSchema] = None
