"""One segment as files: ``segments/<uid>/<part>.<generation>.npy``, the
payload as parquet, and each vector index's own files.

A sealed segment's ids, vectors and indexes never change: they are written
once and named by every later manifest. Its tombstones, versions and payload
(and everything of the appendable segment) are rewritten under the new
generation at a checkpoint when the segment changed. The manifest entry
returned by :func:`write_segment` lists the files; :func:`read_segment`
checks each one (dtype, shape, size) and memory-maps the vectors it is told to.

>>> import tempfile, pathlib, numpy as np
>>> from nbvec._config import vector_specs
>>> from nbvec._segment import Segment
>>> seg = Segment(0, {"": 2})
>>> _ = seg.append([1, 2], {"": np.eye(2, dtype=np.float32)}, {"": np.ones(2, bool)}, {}, 0)
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> entry = write_segment(root, seg, vector_specs(2, "Dot"), 1, None)
>>> read_segment(root, entry, vector_specs(2, "Dot"), set()).ids.tolist()
[1, 2]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .._errors import StorageCorrupted
from .._payload import PayloadStore
from .._segment import Segment
from ._codec import batch_to_table, decode_ids, table_to_batch
from ._fileio import fsync_dir, load_npy, save_npy, write_atomic

__all__ = ["write_segment", "read_segment", "segment_files", "SEGMENTS"]

SEGMENTS = "segments"

def _index_class(kind: str, where: str):
    """The index class a stored index's metadata names (nbvec._indexes)."""
    from .._indexes import INDEXES

    cls = INDEXES.get(kind)
    if cls is None:
        raise StorageCorrupted(f"{where}: unknown index kind {kind!r} (known: "
                               f"{sorted(INDEXES)})")
    return cls


def write_segment(root: Path, seg: Segment, specs: dict, gen: int, previous: dict | None,
                  mmap_after: set = frozenset()) -> dict:
    """Write what changed of ``seg`` since ``previous`` (its last entry, or
    None) under generation ``gen``; returns the new manifest entry.
    Vectors of the names in ``mmap_after`` are swapped for their memory map
    once written (a sealed segment's vectors then live on disk)."""
    folder = root / SEGMENTS / str(seg.uid)
    folder.mkdir(parents=True, exist_ok=True)
    n = seg.n

    def save(part: str, arr: np.ndarray) -> str:
        name = f"{part}.{gen}.npy"
        save_npy(folder / name, np.ascontiguousarray(arr))
        return name

    keep = previous is not None and previous["sealed"] and seg.sealed and previous["n"] == n
    entry = {"uid": seg.uid, "n": n, "sealed": seg.sealed}
    if keep:
        entry.update(ids=previous["ids"], vectors=previous["vectors"],
                     indexes=previous["indexes"])
    else:
        is_uuid = seg.id_is_uuid[:n]
        entry["ids"] = {"is_uuid": save("id_is_uuid", is_uuid),
                        "number": save("id_number", seg.id_number[:n]),
                        "uuids": save("id_uuids", seg.ids[:n][is_uuid].astype("U36"))}
        entry["vectors"], entry["indexes"] = [], {}
        for pos, name in enumerate(specs):
            entry["vectors"].append({
                "vectors": save(f"vectors.{pos}", seg.vectors[name][:n]),
                "has": save(f"has_vector.{pos}", seg.has_vector[name][:n]),
                "sqnorms": save(f"sqnorms.{pos}", seg.sqnorms[name][:n])})
            index = seg.indexes.get(name)
            if index is not None:
                entry["indexes"][str(pos)] = index.save_files(folder, f"index.{pos}.{gen}")
    entry["versions"] = save("versions", seg.versions[:n])
    entry["deleted"] = save("deleted", seg.deleted[:n])
    meta, table = batch_to_table(seg.payload.columns_as_batch(n), n)
    entry["payload"] = {"columns": meta, "file": None}
    if table is not None:
        entry["payload"]["file"] = name = f"payload.{gen}.parquet"
        write_atomic(folder / name, lambda f: pq.write_table(table, f), sync_dir=False)
    fsync_dir(folder)
    if seg.sealed:
        for pos, name in enumerate(specs):
            if name in mmap_after and not isinstance(seg.vectors[name], np.memmap):
                path = folder / entry["vectors"][pos]["vectors"]
                seg.vectors[name] = load_npy(path, dtype="float32", shape=(n, seg.dims[name]),
                                             mmap=True)
    return entry


def segment_files(entry: dict) -> set:
    """Names of the files an entry refers to (within its segment folder)."""
    names = set(entry["ids"].values()) | {entry["versions"], entry["deleted"]}
    for v in entry["vectors"]:
        names |= set(v.values())
    for meta in entry["indexes"].values():
        names.add(meta["file"])
        names.update(meta.get("files", ()))
    if entry["payload"]["file"]:
        names.add(entry["payload"]["file"])
    return names


def read_segment(root: Path, entry: dict, specs: dict, mmap: set) -> Segment:
    """The segment an entry describes; vectors of names in ``mmap`` are
    memory-mapped (sealed segments only). Raises FileNotFoundError when a file
    is gone (a checkpoint replaced it: the caller re-reads the manifest) and
    StorageCorrupted when one is damaged."""
    try:
        uid, n, sealed = int(entry["uid"]), int(entry["n"]), bool(entry["sealed"])
        folder = root / SEGMENTS / str(uid)
        where = str(folder)
        seg = Segment(uid, {name: s.size for name, s in specs.items()})
        ids = entry["ids"]
        is_uuid = load_npy(folder / ids["is_uuid"], dtype="bool", shape=(n,))
        number = load_npy(folder / ids["number"], dtype="uint64", shape=(n,))
        uuids = load_npy(folder / ids["uuids"], dtype="<U36", shape=(int(is_uuid.sum()),))
        seg.ids, seg.id_is_uuid, seg.id_number = decode_ids(is_uuid, number, uuids), is_uuid, number
        seg.versions = load_npy(folder / entry["versions"], dtype="int64", shape=(n,))
        seg.deleted = load_npy(folder / entry["deleted"], dtype="bool", shape=(n,))
        if len(entry["vectors"]) != len(specs):
            raise StorageCorrupted(f"{where}: {len(entry['vectors'])} vector kinds, expected "
                                   f"{len(specs)}")
        for pos, (name, spec) in enumerate(specs.items()):
            files = entry["vectors"][pos]
            seg.vectors[name] = load_npy(folder / files["vectors"], dtype="float32",
                                         shape=(n, spec.size), mmap=sealed and name in mmap)
            seg.has_vector[name] = load_npy(folder / files["has"], dtype="bool", shape=(n,))
            seg.sqnorms[name] = load_npy(folder / files["sqnorms"], dtype="float32", shape=(n,))
            meta = entry["indexes"].get(str(pos))
            if meta is not None:
                cls = _index_class(meta["kind"], where)
                seg.indexes[name] = cls.load_files(folder, meta, spec.metric, seg.vectors[name])
        seg.payload = _read_payload(folder, entry["payload"], n)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise StorageCorrupted(f"{root}: malformed segment entry in the manifest ({exc!r})") \
            from None
    seg.n = seg.capacity = n
    seg.deleted_count = int(seg.deleted.sum())
    seg.sealed = sealed
    return seg


def _read_payload(folder: Path, entry: dict, n: int) -> PayloadStore:
    store = PayloadStore(n)
    if entry["file"] is None:
        return store
    path = folder / entry["file"]
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise
    except (OSError, pa.ArrowException) as exc:
        raise StorageCorrupted(f"{path}: not a readable parquet file ({exc})") from None
    store.columns.update(table_to_batch(entry["columns"], table, n, str(path)))
    return store
