"""A segment: a block of points with their vectors, payload and tombstones.

Rows are append-only. Updating or deleting a point tombstones its row
(``deleted``); the optimizer later rewrites segments with many tombstones.
An *appendable* segment grows (capacity doubles); a *sealed* one is
immutable except for tombstones and payload, and carries one vector index
per vector name, whose item ids are the segment's row numbers.

>>> import numpy as np
>>> seg = Segment(uid=0, dims={"": 3})
>>> rows = seg.append(["a"], {"": np.ones((1, 3), np.float32)}, {"": np.ones(1, bool)}, {}, 1)
>>> seg.n, seg.live_count
(1, 1)
"""

from __future__ import annotations

import numpy as np

from ._payload import ColumnBatch, PayloadStore

__all__ = ["Segment"]


class Segment:
    """Points of one segment. ``dims`` maps vector name to its size."""

    def __init__(self, uid: int, dims: dict[str, int], capacity: int = 0):
        self.uid = uid
        self.dims = dict(dims)
        self.n = 0
        self.capacity = 0
        self.ids = np.empty(0, dtype=object)
        self.id_is_uuid = np.empty(0, dtype=bool)  # for vectorized id ordering
        self.id_number = np.empty(0, dtype=np.uint64)  # integer ids (0 for UUIDs)
        self.versions = np.empty(0, dtype=np.int64)
        self.deleted = np.empty(0, dtype=bool)
        self.vectors = {name: np.empty((0, d), dtype=np.float32) for name, d in dims.items()}
        self.has_vector = {name: np.empty(0, dtype=bool) for name in dims}
        self.sqnorms = {name: np.empty(0, dtype=np.float32) for name in dims}
        self.payload = PayloadStore()
        self.indexes: dict = {}  # vector name -> index (sealed segments only)
        self.partitions: dict = {}  # vector name -> Partition, built on demand (sealed only)
        self.sealed = False
        self.version = 0  # bumped by every change: caches key on (uid, version)
        self.deleted_count = 0
        self._searchable: dict = {}
        self._integer_ids = (-1, False)  # (version, no UUID among the ids)
        self.allowed_cache: dict = {}  # (vector name, Allowed) -> (version, mask, count)
        self._reserve(capacity)

    # -- shape -------------------------------------------------------------
    def _reserve(self, capacity: int) -> None:
        if capacity <= self.capacity:
            return
        extra = capacity - self.capacity
        self.ids = np.concatenate([self.ids, np.empty(extra, dtype=object)])
        self.id_is_uuid = np.concatenate([self.id_is_uuid, np.zeros(extra, bool)])
        self.id_number = np.concatenate([self.id_number, np.zeros(extra, np.uint64)])
        self.versions = np.concatenate([self.versions, np.zeros(extra, np.int64)])
        self.deleted = np.concatenate([self.deleted, np.ones(extra, bool)])
        for name, d in self.dims.items():
            self.vectors[name] = np.concatenate(
                [self.vectors[name], np.zeros((extra, d), np.float32)]
            )
            self.has_vector[name] = np.concatenate([self.has_vector[name], np.zeros(extra, bool)])
            self.sqnorms[name] = np.concatenate([self.sqnorms[name], np.zeros(extra, np.float32)])
        self.payload.reserve(capacity)
        self.capacity = capacity

    @property
    def live_count(self) -> int:
        return self.n - self.deleted_count

    def live_mask(self) -> np.ndarray:
        """Rows ``[0, n)`` that hold a live point."""
        return ~self.deleted[: self.n]

    def searchable(self, name: str) -> tuple[np.ndarray, int]:
        """Rows ``[0, n)`` that are live and have vector ``name``, and their
        count; cached per segment version (do not modify the mask)."""
        hit = self._searchable.get(name)
        if hit is not None and hit[0] == self.version:
            return hit[1], hit[2]
        mask = ~self.deleted[: self.n] & self.has_vector[name][: self.n]
        count = int(mask.sum())
        self._searchable[name] = (self.version, mask, count)
        return mask, count

    def integer_ids(self) -> bool:
        """Whether no point id here is a UUID (cached per version)."""
        if self._integer_ids[0] != self.version:
            self._integer_ids = (self.version, not self.id_is_uuid[: self.n].any())
        return self._integer_ids[1]

    def vector_kb(self) -> float:
        """Live vector data in kilobytes (Qdrant's unit for thresholds)."""
        return self.live_count * sum(self.dims.values()) * 4 / 1024

    def memory_bytes(self) -> int:
        """Bytes held by the vector arrays (capacity included)."""
        return sum(v.nbytes for v in self.vectors.values())

    # -- writes ------------------------------------------------------------
    def append(self, ids, vectors: dict, present: dict, payload: ColumnBatch, version: int):
        """Append points; ``vectors[name]`` is (k, d) float32 already prepared,
        ``present[name]`` marks which of the k points have that vector.
        Returns the new rows."""
        k = len(ids)
        if self.n + k > self.capacity:
            self._reserve(max(self.n + k, 2 * self.capacity, 64))
        rows = np.arange(self.n, self.n + k)
        self.ids[self.n : self.n + k] = ids
        is_uuid = np.fromiter((type(i) is str for i in ids), dtype=bool, count=k)
        self.id_is_uuid[rows] = is_uuid
        if not is_uuid.all():
            numbers = ids if not is_uuid.any() else [i for i in ids if type(i) is not str]
            self.id_number[rows[~is_uuid]] = np.array(numbers, dtype=np.uint64)
        self.versions[rows] = version
        for name in self.dims:
            has = present.get(name)
            if has is None or not has.any():
                continue
            vec = vectors[name]
            self.vectors[name][rows] = vec
            self.has_vector[name][rows] = has
            self.sqnorms[name][rows] = np.einsum("ij,ij->i", vec, vec)
        self.payload.write(rows, payload, replace=True)
        self.deleted[rows] = False  # last: the rows become visible all at once
        self.n += k
        self.version += 1
        return rows

    def tombstone(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        fresh = rows[~self.deleted[rows]]
        self.deleted[fresh] = True
        self.deleted_count += len(fresh)
        self.version += 1

    def touch(self, rows, version: int) -> None:
        """Record an in-place change (payload, vectors) of ``rows``."""
        self.versions[rows] = version
        self.version += 1

    # -- copies ------------------------------------------------------------
    def take(self, rows: np.ndarray, uid: int) -> Segment:
        """A new appendable segment holding ``rows`` (in that order), compacted."""
        rows = np.asarray(rows, dtype=np.int64)
        out = Segment(uid, self.dims)
        k = len(rows)
        out.capacity = out.n = k
        out.ids = self.ids[rows]
        out.id_is_uuid = self.id_is_uuid[rows]
        out.id_number = self.id_number[rows]
        out.versions = self.versions[rows]
        out.deleted = np.zeros(k, dtype=bool)
        for name in self.dims:
            out.vectors[name] = self.vectors[name][rows]
            out.has_vector[name] = self.has_vector[name][rows]
            out.sqnorms[name] = self.sqnorms[name][rows]
        out.payload = self.payload.take(rows)
        return out

    @staticmethod
    def concat(parts: list[Segment], uid: int) -> Segment:
        """One appendable segment with the live rows of ``parts``, in order."""
        first = parts[0]
        pieces = [p.take(np.flatnonzero(p.live_mask()), uid) for p in parts]
        out = Segment(uid, first.dims)
        total = sum(p.n for p in pieces)
        out._reserve(total)
        for p in pieces:
            rows = np.arange(out.n, out.n + p.n)
            out.ids[rows] = p.ids
            out.id_is_uuid[rows] = p.id_is_uuid
            out.id_number[rows] = p.id_number
            out.versions[rows] = p.versions
            for name in out.dims:
                out.vectors[name][rows] = p.vectors[name]
                out.has_vector[name][rows] = p.has_vector[name]
                out.sqnorms[name][rows] = p.sqnorms[name]
            out.payload.write(rows, p.payload.columns_as_batch(p.n), replace=True)
            out.deleted[rows] = False
            out.n += p.n
        return out
