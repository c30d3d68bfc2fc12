"""Reading a storage folder: the last checkpoint plus the log after it.

Readers take no lock, so a writer may checkpoint while they read: the log
names the manifest it continues (``wal_id``), and a file removed under a
reader's feet sends it back to the newest manifest (a few tries).

>>> import tempfile
>>> try:
...     load_state(tempfile.mkdtemp(), None)
... except FileNotFoundError:
...     print("no storage")
no storage
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._collection import Collection
from .._errors import StorageCorrupted
from .._payload import Column
from ._manifest import decode_config, decode_specs, read_manifest
from ._records import decode
from ._segment_files import read_segment
from ._wal import WAL_NAME, WalContent, read_wal

__all__ = ["StoredState", "load_state", "replay", "mmap_names"]

_TRIES = 5


@dataclass
class StoredState:
    """A checkpoint read back: the engine as of the manifest, the log records
    to replay on top, and the manifest itself."""

    manifest: dict
    specs: dict
    config: object
    engine: Collection
    wal: WalContent
    entries: dict  # segment uid -> (segment version when read, manifest entry)


def mmap_names(specs: dict, mmap) -> set:
    """Vector names whose sealed segments are memory-mapped: all (True),
    none (False), or those declared ``on_disk`` (None)."""
    if mmap is None:
        return {n for n, s in specs.items() if s.on_disk}
    return set(specs) if mmap else set()


def load_state(folder, mmap) -> StoredState:
    """The checkpoint of ``folder`` and the log records after it.
    FileNotFoundError if the folder holds no manifest."""
    folder = Path(folder)
    missing = None
    for _ in range(_TRIES):
        manifest = read_manifest(folder)
        wal = read_wal(folder)
        if wal.wal_id is not None and wal.wal_id != manifest["wal_id"]:
            if read_manifest(folder)["wal_id"] == wal.wal_id:
                continue  # a checkpoint happened between the two reads
            wal = WalContent(None, 0)  # a log the manifest already took in (crash in between)
        where = str(folder / "manifest.json")
        specs = decode_specs(manifest["specs"], where)
        config = decode_config(manifest["config"], where)
        try:
            names = mmap_names(specs, mmap)
            segments = [read_segment(folder, e, specs, names) for e in manifest["segments"]]
        except FileNotFoundError as exc:
            missing = exc
            continue  # replaced by a newer checkpoint: read that one
        except StorageCorrupted:
            if read_manifest(folder)["generation"] != manifest["generation"]:
                continue  # a file went away mid-read: read the newer checkpoint
            raise
        if not segments or segments[-1].sealed:
            raise StorageCorrupted(f"{where}: the last segment must be the appendable one")
        try:
            engine = Collection.restore(specs, config, segments, int(manifest["next_uid"]),
                                        int(manifest["last_operation"]))
        except (TypeError, ValueError) as exc:
            raise StorageCorrupted(f"{where}: bad counters ({exc})") from None
        entries = {s.uid: (s.version, e) for s, e in zip(segments, manifest["segments"])}
        return StoredState(manifest, specs, config, engine, wal, entries)
    raise StorageCorrupted(f"{missing.filename}: file named by the manifest is missing")


def replay(engine: Collection, wal: WalContent, folder: Path, after_seq: int) -> dict:
    """Apply the log records after ``after_seq`` to ``engine`` (journal off).
    Returns the frame-level settings the records set (e.g. payload schema)."""
    meta = {}
    for seq, body in wal.records:
        if seq <= after_seq:
            continue
        rec = decode(body, f"{Path(folder) / WAL_NAME} record {seq}")
        engine.last_operation = rec.op - 1
        if rec.kind == "upsert":
            engine.upsert(rec.ids, rec.vectors, rec.present, rec.payload, prepared=True)
        elif rec.kind == "delete":
            _, uids, rows, _ = engine.locate(rec.ids)
            engine.delete(uids, rows)
        elif rec.kind == "payload":
            _replay_payload(engine, rec)
        else:
            meta[rec.key] = rec.value
            engine.last_operation = rec.op
    return meta


def _replay_payload(engine: Collection, rec) -> None:
    """Set the logged payloads of the points (those that still exist)."""
    found, uids, rows, _ = engine.locate(rec.ids)
    position = {pid: i for i, pid in enumerate(rec.ids)}
    at = np.array([position[p] for p in found], dtype=np.int64)
    for u in np.unique(uids).tolist():
        sel = uids == u
        seg, pick = engine.by_uid[u], at[sel]
        batch = {k: Column(c.kind, c.values[pick], c.present[pick])
                 for k, c in rec.payload.items()}
        seg.payload.write(rows[sel], batch, replace=True)
        seg.touch(rows[sel], rec.op)
    engine.last_operation = rec.op
