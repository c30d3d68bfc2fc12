"""Persistence: a storage folder per frame (manifest, segment files, a
write-ahead log, an OS lock), attached or as a snapshot. See ``_attached``
for the layout and ``_wal`` for durability."""

from ._attached import DEFAULT_WAL_CAPACITY_MB, Storage, load_frame, open_frame, save_frame

__all__ = ["Storage", "open_frame", "load_frame", "save_frame",
           "DEFAULT_WAL_CAPACITY_MB"]
