"""A frame attached to a storage folder: every write logged, checkpoints,
open / load / save / close.

Layout of a folder::

    manifest.json              format version, specs, config, payload schema,
                               segments and their files, the log it continues
    wal.log                    writes since the manifest's checkpoint
    segments/<uid>/*.npy       ids, versions, tombstones, vectors, presence masks
    segments/<uid>/*.parquet   payload columns
    segments/<uid>/*.ann       annoy indexes (memory-mapped by annoy)
    .lock                      the writer's OS lock

A checkpoint writes the segments that changed (temp name, fsync, rename),
switches the manifest atomically, starts a new log and removes files no
manifest names. It runs when the log passes ``wal_capacity_mb``, after the
optimizer sealed, vacuumed or merged segments, and on ``close()``.

>>> import tempfile, numpy as np
>>> from nbvec import VectorFrame
>>> folder = tempfile.mkdtemp()
>>> with VectorFrame.open(folder, 2, "Dot", progress=False) as vf:
...     _ = vf.upsert([1], np.array([[1.0, 0.0]]))
>>> len(VectorFrame.load(folder))
1
"""

from __future__ import annotations

import os
import time
import uuid
import warnings
import weakref
from pathlib import Path

from .._errors import InvalidRequest, StorageCorrupted
from ._lock import LOCK_NAME, FolderLock
from ._manifest import MANIFEST, encode_config, encode_specs, read_manifest, write_manifest
from ._records import encode_delete, encode_meta, encode_payload, encode_upsert
from ._segment_files import SEGMENTS, segment_files, write_segment
from ._state import load_state, mmap_names, replay
from ._wal import WalWriter, fsync_interval

__all__ = ["Storage", "open_frame", "load_frame", "save_frame", "DEFAULT_WAL_CAPACITY_MB"]

DEFAULT_WAL_CAPACITY_MB = 32  # Qdrant's default wal_capacity_mb


class _Refuse:
    """The journal of a frame that may not write: read-only, or closed."""

    def __init__(self, message: str):
        self.message = message

    def _refuse(self, *args):
        raise InvalidRequest(self.message)

    log_upsert = log_delete = log_payload = log_meta = _refuse

    def written(self) -> None:
        pass

    def optimized(self) -> None:
        pass


class Storage:
    """The journal of an attached frame's engine: logs each write before it
    is applied and checkpoints the engine into the folder."""

    def __init__(self, folder: Path, lock: FolderLock, frame, fsync, wal_capacity_mb,
                 entries: dict, generation: int, last_seq: int, mmap, extra: dict):
        self.folder = folder
        self.lock = lock
        self.engine = frame._engine
        self._frame = weakref.ref(frame)
        self.fsync = fsync
        self.capacity = int(wal_capacity_mb * 2**20)
        self.entries = entries
        self.generation = generation
        self.mmap = mmap
        self.extra = extra
        self.wal = None
        self.last_seq = last_seq
        self.closed = False

    # -- journal ---------------------------------------------------------------
    def log_upsert(self, op, ids, vectors, present, payload) -> None:
        self.wal.append(encode_upsert(op, ids, vectors, present, payload))

    def log_delete(self, op, ids) -> None:
        self.wal.append(encode_delete(op, ids))

    def log_payload(self, op, ids, batch) -> None:
        self.wal.append(encode_payload(op, ids, batch))

    def log_meta(self, op, key, value) -> None:
        self.wal.append(encode_meta(op, key, value))

    def written(self) -> None:
        if self.wal.size > self.capacity:
            self._checkpoint_quietly()

    def optimized(self) -> None:
        self._checkpoint_quietly()

    def _checkpoint_quietly(self) -> None:
        # The write itself is durable in the log: a failed checkpoint is
        # retried later, not reported as a failed write.
        try:
            self.checkpoint()
        except OSError as exc:
            warnings.warn(f"nbvec: checkpoint of {self.folder} failed ({exc}); the writes are "
                          "safe in the write-ahead log, the checkpoint is retried later",
                          RuntimeWarning, stacklevel=3)

    # -- checkpoints -------------------------------------------------------------
    def dirty(self) -> bool:
        """Whether anything changed since the last checkpoint."""
        if self.wal is None or self.wal.last_seq != self.last_seq:
            return True
        segs = self.engine.segments
        return len(segs) != len(self.entries) or any(
            self.entries.get(s.uid, (None,))[0] != s.version for s in segs)

    def checkpoint(self, force: bool = False) -> None:
        """Write the changed segments, switch the manifest, start a new log
        (nothing to do when nothing changed, unless ``force``)."""
        eng = self.engine
        with eng.lock:
            if not force and not self.dirty():
                return
            gen = self.generation + 1
            names = mmap_names(eng.specs, self.mmap)
            done = {}
            for seg in eng.segments:
                prev = self.entries.get(seg.uid)
                if prev is not None and prev[0] == seg.version and prev[1]["n"] == seg.n:
                    done[seg.uid] = prev
                    continue
                entry = write_segment(self.folder, seg, eng.specs, gen,
                                      prev[1] if prev else None, names)
                done[seg.uid] = (seg.version, entry)
            frame = self._frame()
            schema = frame._payload_schema if frame is not None else {}
            wal_id = uuid.uuid4().hex
            last_seq = self.wal.last_seq if self.wal is not None else self.last_seq
            write_manifest(self.folder, {
                "specs": encode_specs(eng.specs), "config": encode_config(eng.config),
                "payload_schema": schema, "segments": [done[s.uid][1] for s in eng.segments],
                "generation": gen, "wal_id": wal_id, "checkpoint_seq": last_seq,
                "last_operation": eng.last_operation, "next_uid": eng._next_uid,
                "extra": self.extra})
            self.generation, self.entries, self.last_seq = gen, done, last_seq
            if self.wal is None:
                self.wal = WalWriter.create(self.folder, wal_id, last_seq, self.fsync)
            else:
                self.wal.reset(wal_id, last_seq)
            remove_unlisted(self.folder, [e for _, e in done.values()])

    # -- lifecycle ---------------------------------------------------------------
    def close(self, checkpoint: bool = True) -> None:
        """Checkpoint (unless told not to), close the log, release the lock."""
        if self.closed:
            return
        try:
            if checkpoint:
                self.checkpoint()
        finally:
            self.release()

    def release(self) -> None:
        """Close the log and give the lock up (no checkpoint: the log replays)."""
        if self.closed:
            return
        self.closed = True
        self.engine.journal = _Refuse(f"the VectorFrame stored in {str(self.folder)!r} is closed;"
                                      " reopen it with VectorFrame.open(path) to write")
        try:
            if self.wal is not None:
                self.wal.close()
        finally:
            self.lock.release()


def remove_unlisted(folder: Path, entries: list) -> None:
    """Delete segment folders and files no entry names (old generations,
    leftovers of an interrupted checkpoint). Only the lock holder calls this."""
    root = folder / SEGMENTS
    keep = {str(e["uid"]): segment_files(e) for e in entries}
    if not root.is_dir():
        return
    for sub in root.iterdir():
        files = keep.get(sub.name)
        for f in (sub.iterdir() if sub.is_dir() else ()):
            if files is None or f.name not in files:
                _unlink(f)
        if files is None:
            try:
                sub.rmdir()
            except OSError:
                pass
    for f in folder.glob("*.tmp"):
        _unlink(f)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


# -- entry points ------------------------------------------------------------------------------
def _check_mmap(mmap) -> None:
    if mmap not in (None, True, False):
        raise InvalidRequest(f"mmap={mmap!r} is invalid: True (memory-map sealed segments' "
                             "vectors), False (load them) or None (per vector's on_disk)")


def _check_empty(folder: Path) -> None:
    others = [p.name for p in folder.iterdir() if p.name != LOCK_NAME] if folder.is_dir() else []
    if others:
        raise InvalidRequest(f"{str(folder)!r} is not an nbvec storage folder (no {MANIFEST}; it "
                             f"holds {sorted(others)[:5]}): give a new or empty folder")


def _restored_frame(cls, state, meta: dict):
    """The frame around a read-back engine; ``meta``: settings the log replayed."""
    return cls._restored(state.specs, state.config, state.engine,
                         dict(meta.get("payload_schema", state.manifest["payload_schema"])))


def open_frame(cls, path, spec_args, *, read_only=False, fsync="interval", mmap=None,
               wal_capacity_mb=DEFAULT_WAL_CAPACITY_MB, config=None, extra=None):
    """The frame stored in ``path`` (created from ``spec_args`` — size,
    distance, vectors — and ``config`` when absent), attached."""
    fsync_interval(fsync)
    _check_mmap(mmap)
    config = dict(config or {})
    folder = Path(path)
    if read_only:
        if config or extra:
            raise InvalidRequest("read_only=True opens a stored frame as it is: options "
                                 f"{sorted(config)} cannot apply")
        state = _read_existing(folder, mmap)
        meta = replay(state.engine, state.wal, folder, state.manifest["checkpoint_seq"])
        frame = _restored_frame(cls, state, meta)
        frame._storage = None
        state.engine.journal = _Refuse(
            f"{str(folder)!r} was opened with read_only=True: writes are refused (one writer "
            "per folder); open it without read_only to write")
        return frame
    if folder.exists() and not folder.is_dir():
        raise InvalidRequest(f"{str(folder)!r} is a file; a storage is a folder")
    if not (folder / MANIFEST).exists():
        _check_empty(folder)
        if spec_args[0] is None and spec_args[2] is None:
            raise InvalidRequest(f"no nbvec storage in {str(folder)!r} yet: to create one give "
                                 "the vector size, e.g. VectorFrame.open(path, 384, 'Cosine') "
                                 "or VectorFrame.open(path, vectors={...})")
        cls(*spec_args[:2], vectors=spec_args[2], **config)  # validates before any file is made
    folder.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(folder)
    try:
        if not (folder / MANIFEST).exists():
            _check_empty(folder)
            frame = cls(*spec_args[:2], vectors=spec_args[2], **config)
            storage = Storage(folder, lock, frame, fsync, wal_capacity_mb, {}, 0, 0, mmap,
                              dict(extra or {}))
        else:
            state = load_state(folder, mmap)
            _check_specs(folder, state.specs, spec_args)
            if config:
                state.engine.config = state.config = state.config.updated(**config)
            meta = replay(state.engine, state.wal, folder, state.manifest["checkpoint_seq"])
            frame = _restored_frame(cls, state, meta)
            storage = Storage(folder, lock, frame, fsync, wal_capacity_mb, state.entries,
                              int(state.manifest["generation"]),
                              int(state.manifest["checkpoint_seq"]), mmap,
                              {**state.manifest["extra"], **(extra or {})})
            wal = state.wal
            if (wal.wal_id == state.manifest["wal_id"] and not wal.records and not wal.torn
                    and not config and not extra):
                storage.wal = WalWriter.resume(folder, wal, fsync)  # nothing to take in
                remove_unlisted(folder, state.manifest["segments"])
        # take the log in (replayed records, torn tail), start a fresh one, clear leftovers
        storage.checkpoint(force=storage.wal is None)
    except BaseException:
        lock.release()
        raise
    _attach(frame, storage)
    return frame


def _attach(frame, storage: Storage) -> None:
    frame._storage = storage
    frame._engine.journal = storage
    # Re-running a notebook cell drops the old frame: its lock goes with it.
    weakref.finalize(frame, storage.release)


def _read_existing(folder: Path, mmap):
    """The stored state of ``folder``, which must hold a storage."""
    try:
        return load_state(folder, mmap)
    except FileNotFoundError:
        raise InvalidRequest(f"no nbvec storage in {str(folder)!r} (no {MANIFEST}); create one "
                             "with VectorFrame.open(path, size) or Client(path=...)") from None


def _check_specs(folder: Path, stored: dict, spec_args) -> None:
    """Refuse size/vectors given on opening that differ from what is stored."""
    size, distance, vectors = spec_args
    if size is None and vectors is None:
        return
    from .._config import vector_specs

    given = vector_specs(size, distance, vectors)

    def shape(specs):
        return {n: (s.size, s.distance.value) for n, s in specs.items()}

    if shape(given) != shape(stored):
        raise InvalidRequest(f"{str(folder)!r} holds vectors {shape(stored)}, not "
                             f"{shape(given)}: open it without size/vectors to use what is "
                             "stored, or give another folder")


def load_frame(cls, path, *, mmap=None):
    """A detached in-memory frame from a storage folder (no lock taken)."""
    _check_mmap(mmap)
    folder = Path(path)
    state = _read_existing(folder, mmap)
    meta = replay(state.engine, state.wal, folder, state.manifest["checkpoint_seq"])
    frame = _restored_frame(cls, state, meta)
    frame._storage = None
    return frame


def save_frame(frame, path) -> None:
    """Write a detached snapshot of ``frame`` to ``path``."""
    folder = Path(path)
    storage = frame._storage
    if isinstance(storage, Storage) and not storage.closed and _same(storage.folder, folder):
        storage.checkpoint()
        return
    if folder.exists() and not folder.is_dir():
        raise InvalidRequest(f"{str(folder)!r} is a file; a snapshot is saved to a folder")
    folder.mkdir(parents=True, exist_ok=True)
    lock = FolderLock(folder)
    try:
        try:
            generation = int(read_manifest(folder)["generation"])
        except FileNotFoundError:
            _check_empty(folder)
            generation = 0
        except StorageCorrupted:
            generation = time.time_ns()  # newer than any generation of the old content
        snap = Storage(folder, lock, frame, "never", DEFAULT_WAL_CAPACITY_MB, {}, generation, 0,
                       False, {})
        snap.checkpoint()
        snap.wal.close()
    finally:
        lock.release()


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
