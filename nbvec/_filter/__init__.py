"""nbvec's filter language: Qdrant filters and pandas-style ``where`` queries,
compiled to one condition tree and evaluated as numpy masks per segment.

    filter (model | qdrant-client model | REST dict) ─┐
                                                      ├─ compile_filter ─> Condition tree
    where ("year >= 1990 and `meta.lang` in @langs") ─┘
    Condition tree + segment ─ segment_mask ─> bool mask (cached per segment version)

>>> import numpy as np
>>> from nbvec._segment import Segment
>>> from nbvec._payload import columns_from_dicts
>>> seg = Segment(uid=0, dims={"": 2})
>>> _ = seg.append([1, 2], {"": np.ones((2, 2), np.float32)}, {"": np.ones(2, bool)},
...                columns_from_dicts([{"year": 1995}, {"year": 2005}]), 1)
>>> cond = compile_filter(where="year < @cut", params={"cut": 2000})
>>> segment_mask(cond, seg).tolist()
[True, False]
"""

from ._evaluate import estimate_cardinality, segment_mask
from ._index import PAYLOAD_SCHEMAS, check_condition
from ._parse import compile_filter
from ._tree import Condition

__all__ = [
    "compile_filter",
    "segment_mask",
    "estimate_cardinality",
    "check_condition",
    "PAYLOAD_SCHEMAS",
    "Condition",
]
