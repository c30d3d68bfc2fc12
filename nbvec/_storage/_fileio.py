"""Durable file writes and checked reads, the building blocks of the storage.

A file is written to a temporary name, fsynced and renamed into place, then
its folder is fsynced: a crash leaves either the old file or the new one,
never half of one. Reads name the file and what is wrong with it, as
StorageCorrupted; ``.npy`` files are read with ``allow_pickle=False``, so
loading never unpickles.

>>> import tempfile, pathlib, numpy as np
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> save_npy(d / "x.npy", np.arange(3))
>>> load_npy(d / "x.npy", dtype="int64", shape=(3,)).tolist()
[0, 1, 2]
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .._errors import StorageCorrupted

__all__ = ["write_atomic", "write_by_name", "save_npy", "load_npy", "fsync_dir", "read_json",
           "write_json", "sync_fd"]


def sync_fd(fd: int) -> None:
    """Flush a file's data to the device (fdatasync where there is one).
    macOS's fsync does not flush the drive's cache (F_FULLFSYNC would)."""
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def fsync_dir(folder: Path) -> None:
    """Make renames and new files in ``folder`` durable (POSIX; a no-op where
    folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, write, *, sync_dir: bool = True) -> None:
    """Write ``path`` through ``write(fileobj)``: temp name, fsync, rename."""

    def save(name: str) -> None:
        with open(name, "wb") as f:
            write(f)

    write_by_name(path, save)
    if sync_dir:
        fsync_dir(path.parent)


def write_by_name(path: Path, save) -> None:
    """``save(name)`` writes the file by name (our writers; annoy, hnswlib):
    to a temporary name, fsynced, then renamed over ``path``. A failure
    leaves ``path`` as it was and no temporary file behind."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        save(str(tmp))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            sync_fd(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save_npy(path: Path, array: np.ndarray, *, sync_dir: bool = False) -> None:
    """One array as ``.npy`` (never an object array), written atomically."""
    if array.dtype.hasobject:
        raise TypeError(f"{path.name}: object arrays are not stored")  # a bug, not user input
    write_atomic(path, lambda f: np.save(f, array, allow_pickle=False), sync_dir=sync_dir)


def load_npy(path: Path, *, dtype: str, shape: tuple, mmap: bool = False) -> np.ndarray:
    """A ``.npy`` file checked against the ``dtype`` and ``shape`` expected
    (``None`` in ``shape``: any length); StorageCorrupted otherwise."""
    try:
        arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as exc:  # truncated, pickled, not an npy
        raise StorageCorrupted(
            f"{path}: not a readable .npy file of {dtype} {shape} ({exc})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype != np.dtype(dtype) or len(arr.shape) != len(
            shape) or any(w is not None and w != s for w, s in zip(shape, arr.shape)):
        got = f"{arr.dtype} {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
        raise StorageCorrupted(f"{path}: holds {got}, expected {dtype} {shape}")
    return arr


def read_json(path: Path) -> dict:
    """A JSON object from ``path``; StorageCorrupted if it is not one."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise
    except (ValueError, OSError) as exc:
        raise StorageCorrupted(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise StorageCorrupted(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def write_json(path: Path, data: dict) -> None:
    """``data`` as JSON at ``path``, atomically (folder fsynced too)."""
    body = json.dumps(data, indent=1, sort_keys=True).encode()
    write_atomic(path, lambda f: f.write(body))
