"""The write-ahead log: ``wal.log``, one record per acknowledged write.

File: a 48-byte header (magic, the log's id, the sequence number it starts
after), then records::

    length u32 | seq u64 | body crc32 u32 | header crc32 u32 | body

A record reaches the OS (``os.write``) before the write call returns, so a
killed process loses nothing acknowledged; ``fsync`` decides what survives
a power loss: ``"always"`` (each record), ``"interval"`` (at most 1 s after a
write, the default), ``"never"`` (the OS flushes when it likes), or a number
of seconds. A checkpoint starts a new log (new id) by renaming a fresh file
into place. On reading, a torn last record (short, or bad checksum at the
very end, or zero fill) is ignored; a bad record followed by more data is
StorageCorrupted.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> w = WalWriter.create(d, "a" * 32, 0, fsync="never")
>>> w.append(b"hello")
1
>>> w.close()
>>> log = read_wal(d)
>>> log.wal_id == "a" * 32, [(s, bytes(b)) for s, b in log.records]
(True, [(1, b'hello')])
"""

from __future__ import annotations

import os
import struct
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import InvalidRequest, StorageCorrupted
from ._fileio import fsync_dir, sync_fd

__all__ = ["WAL_NAME", "WalWriter", "WalContent", "read_wal", "fsync_interval"]

WAL_NAME = "wal.log"
_MAGIC = b"NBVWAL1\n"
_HEAD = struct.Struct("<8s32sQ")
_REC = struct.Struct("<IQI")  # length, seq, body crc
_RECCRC = struct.Struct("<I")
_REC_SIZE = _REC.size + _RECCRC.size


def fsync_interval(fsync) -> float | None:
    """Seconds between fsyncs for a policy: 0 always, None never."""
    if fsync == "always":
        return 0.0
    if fsync == "interval":
        return 1.0
    if fsync == "never":
        return None
    if isinstance(fsync, (int, float)) and not isinstance(fsync, bool) and fsync > 0:
        return float(fsync)
    raise InvalidRequest(f"fsync={fsync!r} is invalid: use 'always' (every write), 'interval' "
                         "(at most 1 s after a write, the default), 'never', or a number of "
                         "seconds")


@dataclass
class WalContent:
    """What a log holds: its id, the sequence it starts after, its records
    ``(seq, body)``, the length of its valid part, and whether a torn tail
    followed that part."""

    wal_id: str | None
    base_seq: int
    records: list = field(default_factory=list)
    valid_bytes: int = 0
    torn: bool = False


def read_wal(folder: Path) -> WalContent:
    """The records of ``folder/wal.log`` (none if there is no log)."""
    path = Path(folder) / WAL_NAME
    try:
        data = memoryview(path.read_bytes())
    except FileNotFoundError:
        return WalContent(None, 0)
    if len(data) < _HEAD.size or bytes(data[:8]) != _MAGIC:
        raise StorageCorrupted(f"{path}: not an nbvec write-ahead log (bad header)")
    _, wal_id, base = _HEAD.unpack_from(data, 0)
    out = WalContent(wal_id.decode("ascii", "replace"), base)
    pos, last = _HEAD.size, base
    while pos < len(data):
        rest = len(data) - pos
        if rest < _REC_SIZE:
            out.torn = True
            break
        length, seq, body_crc = _REC.unpack_from(data, pos)
        (head_crc,) = _RECCRC.unpack_from(data, pos + _REC.size)
        if zlib.crc32(data[pos: pos + _REC.size]) != head_crc:
            if not any(data[pos:]):  # zero fill after a power loss
                out.torn = True
                break
            raise StorageCorrupted(f"{path}: record header at byte {pos} is damaged "
                                   "(checksum mismatch) and more data follows")
        end = pos + _REC_SIZE + length
        if end > len(data):
            out.torn = True
            break
        body = data[pos + _REC_SIZE: end]
        if zlib.crc32(body) != body_crc:
            if end == len(data):
                out.torn = True
                break
            raise StorageCorrupted(f"{path}: record {seq} at byte {pos} is damaged "
                                   "(checksum mismatch) and more records follow")
        if seq != last + 1:
            raise StorageCorrupted(f"{path}: record at byte {pos} has sequence {seq}, "
                                   f"expected {last + 1}")
        out.records.append((seq, body))
        last, pos = seq, end
    out.valid_bytes = pos
    return out


def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class WalWriter:
    """Appends records to ``folder/wal.log`` (the writer's only handle on it)."""

    def __init__(self, folder: Path, fd: int, wal_id: str, base_seq: int, size: int, fsync):
        self.folder = Path(folder)
        self.fd = fd
        self.wal_id = wal_id
        self.last_seq = base_seq
        self.size = size
        self.interval = fsync_interval(fsync)
        self.dirty = False
        self.broken: BaseException | None = None
        self._io = threading.Lock()
        self._timer = None

    @classmethod
    def create(cls, folder: Path, wal_id: str, base_seq: int, fsync="interval") -> WalWriter:
        """A new, empty log (replacing any log there, atomically)."""
        fd = _fresh_log(Path(folder), wal_id, base_seq)
        return cls(folder, fd, wal_id, base_seq, _HEAD.size, fsync)

    @classmethod
    def resume(cls, folder: Path, content: WalContent, fsync="interval") -> WalWriter:
        """Continue the log ``content`` was read from (no torn tail)."""
        fd = os.open(Path(folder) / WAL_NAME, os.O_RDWR)
        os.lseek(fd, content.valid_bytes, os.SEEK_SET)
        last = content.records[-1][0] if content.records else content.base_seq
        return cls(folder, fd, content.wal_id, last, content.valid_bytes, fsync)

    def append(self, body: bytes) -> int:
        """Write one record; returns its sequence number."""
        if self.broken is not None:
            raise StorageCorrupted(f"{self.folder / WAL_NAME}: an earlier write failed and could "
                                   f"not be undone ({self.broken}); reopen the storage")
        seq = self.last_seq + 1
        head = _REC.pack(len(body), seq, zlib.crc32(body))
        head += _RECCRC.pack(zlib.crc32(head))
        with self._io:
            try:
                _write_all(self.fd, head)
                _write_all(self.fd, body)
            except BaseException:
                self._undo()
                raise
            self.size += len(head) + len(body)
            self.last_seq = seq
            if self.interval == 0.0:
                sync_fd(self.fd)
            elif self.interval is not None:
                self.dirty = True
                if self._timer is None:
                    self._timer = threading.Timer(self.interval, self._timed_sync)
                    self._timer.daemon = True
                    self._timer.start()
        return seq

    def _undo(self) -> None:
        """Cut a partly written record off, so the log stays well formed."""
        try:
            os.ftruncate(self.fd, self.size)
            os.lseek(self.fd, self.size, os.SEEK_SET)
        except OSError as exc:
            self.broken = exc

    def _timed_sync(self) -> None:
        with self._io:
            self._timer = None
            if self.fd is not None and self.dirty:
                try:
                    sync_fd(self.fd)
                except OSError:
                    return
                self.dirty = False

    def reset(self, wal_id: str, base_seq: int) -> None:
        """Start a new, empty log (after a checkpoint took the old records in)."""
        fd = _fresh_log(self.folder, wal_id, base_seq)
        with self._io:
            old, self.fd = self.fd, fd
            self.wal_id, self.last_seq, self.size = wal_id, base_seq, _HEAD.size
            self.dirty = False
            self.broken = None
        os.close(old)

    def close(self) -> None:
        """Flush (fsync) and close; idempotent."""
        with self._io:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self.fd is None:
                return
            fd, self.fd = self.fd, None
            try:
                if self.dirty:
                    sync_fd(fd)
            finally:
                os.close(fd)


def _fresh_log(folder: Path, wal_id: str, base_seq: int) -> int:
    """An fd on a new log file that has replaced ``wal.log``."""
    path = folder / WAL_NAME
    tmp = folder / (WAL_NAME + ".tmp")
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _write_all(fd, _HEAD.pack(_MAGIC, wal_id.encode("ascii"), base_seq))
        sync_fd(fd)
        os.replace(tmp, path)
    except BaseException:
        os.close(fd)
        raise
    fsync_dir(folder)
    return fd
