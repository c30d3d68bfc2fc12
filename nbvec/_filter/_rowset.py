"""What a filter runs over, with its caches: the rows of a segment, or the
objects of a nested array (one row per object).

A RowSet caches, for as long as its segment keeps the same ``version``:
the exploded values of each path, the RowSet of each nested array, and the
masks of recently evaluated conditions (an LRU bounded in bytes). RowSets
are looked up per segment *object* (a weak reference), not by ``uid``:
two collections both have a segment 0.

>>> import numpy as np
>>> from nbvec._segment import Segment
>>> from nbvec._payload import columns_from_dicts
>>> seg = Segment(uid=0, dims={"": 2})
>>> _ = seg.append([1, 2], {"": np.ones((2, 2), np.float32)}, {"": np.ones(2, bool)},
...                columns_from_dicts([{"a": 1}, {"a": [2, 3]}]), 1)
>>> rowset_of(seg) is rowset_of(seg)
True
>>> rowset_of(seg).values("a").raw_count.tolist()
[1, 2]
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np

from .._errors import InvalidFilter, InvalidRequest
from .._jsonpath import parse_path
from .._payload import columns_from_dicts
from ._explode import PathValues, explode

__all__ = ["RowSet", "rowset_of", "path_tokens", "MASK_CACHE_BYTES"]

#: Bytes of cached condition masks per RowSet (at least a few masks are kept).
MASK_CACHE_BYTES = 32 * 2**20
_MIN_MASKS, _MAX_MASKS = 4, 256

_ROWSETS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def path_tokens(path: str) -> tuple:
    """The tokens of a key path, or InvalidFilter naming it."""
    try:
        return parse_path(path)
    except InvalidRequest as exc:
        raise InvalidFilter(str(exc)) from None


class RowSet:
    """``n`` rows with payload ``columns``; ``segment`` for ids and vectors
    (None for the objects of a nested array, which have neither)."""

    def __init__(self, n: int, columns: dict, segment=None, version=None):
        self.n = n
        self.columns = columns
        # weak: the registry's values must not keep their keys (segments) alive
        self._segment = weakref.ref(segment) if segment is not None else None
        self.version = version
        self.lock = threading.RLock()
        self._paths: dict[str, PathValues] = {}
        self._nested: dict[str, tuple[RowSet, np.ndarray]] = {}
        self._masks: OrderedDict = OrderedDict()
        self._max_masks = min(_MAX_MASKS, max(_MIN_MASKS, MASK_CACHE_BYTES // max(n, 1)))

    @property
    def segment(self):
        return self._segment() if self._segment is not None else None

    @classmethod
    def of_segment(cls, seg) -> RowSet:
        return cls(seg.n, seg.payload.columns, seg, (seg.version, seg.n))

    def values(self, path: str) -> PathValues:
        """The exploded values at ``path`` (built once)."""
        got = self._paths.get(path)
        if got is None:
            got = self._paths[path] = explode(self.columns, self.n, path_tokens(path))
        return got

    def nested(self, path: str) -> tuple[RowSet, np.ndarray]:
        """The objects of the arrays at ``path`` as a RowSet, and the row each
        came from. Only objects count; a value that is not an array has none."""
        got = self._nested.get(path)
        if got is None:
            pv = self.values(path)
            objs, parents = [], []
            if pv.raw_objects is not None:
                for r, v in zip(pv.raw_rows.tolist(), pv.raw_objects):
                    if type(v) is list:
                        for x in v:
                            if type(x) is dict:
                                objs.append(x)
                                parents.append(r)
            inner = RowSet(len(objs), columns_from_dicts(objs))
            got = self._nested[path] = (inner, np.array(parents, dtype=np.int64))
        return got

    def cached_mask(self, condition) -> np.ndarray | None:
        mask = self._masks.get(condition)
        if mask is not None:
            self._masks.move_to_end(condition)
        return mask

    def store_mask(self, condition, mask: np.ndarray) -> np.ndarray:
        """Cache ``mask`` (made read-only: callers must copy to modify)."""
        mask.flags.writeable = False
        self._masks[condition] = mask
        while len(self._masks) > self._max_masks:
            self._masks.popitem(last=False)
        return mask


def rowset_of(seg) -> RowSet:
    """The RowSet of a segment, rebuilt when the segment's version changed."""
    key = (seg.version, seg.n)
    with _REGISTRY_LOCK:
        rs = _ROWSETS.get(seg)
        if rs is None or rs.version != key:
            rs = _ROWSETS[seg] = RowSet.of_segment(seg)
        return rs
