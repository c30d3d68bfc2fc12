"""One writer per storage folder: an OS lock on ``<folder>/.lock``.

``flock`` locks belong to the open file, so the OS drops them when the
process dies (a crash never leaves a stale lock) and a second open of the
same folder in the same process conflicts too. The lock file's content (the
holder's pid) is only for the error message.

Windows has no ``flock``: ``msvcrt.locking`` on the file's first byte is
used instead (untested there).

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> lock = FolderLock(folder)
>>> try:
...     FolderLock(folder)
... except StorageLocked:
...     print("locked")
locked
>>> lock.release()
>>> FolderLock(folder).release()
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

from .._errors import StorageLocked

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

__all__ = ["FolderLock", "LOCK_NAME"]

LOCK_NAME = ".lock"


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        return True
    except OSError:
        return False


class FolderLock:
    """The exclusive writer lock of ``folder`` (created if absent), held
    until :meth:`release` or until the process ends."""

    def __init__(self, folder, what: str = "storage folder"):
        self.path = Path(folder) / LOCK_NAME
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        # A writer nobody references any more may only await the garbage
        # collector (a reference cycle): collect once before refusing.
        if not _try_lock(self.fd) and not (gc.collect() >= 0 and _try_lock(self.fd)):
            holder = self._holder()
            os.close(self.fd)
            self.fd = None
            who = ("another VectorFrame or Client in this process" if holder == os.getpid()
                   else f"another process (pid {holder})" if holder else "another writer")
            raise StorageLocked(
                f"{what} {str(Path(folder))!r} is in use by {who}: one writer at a time. "
                "Call close() on the object that opened it (or `del` it), or open it with "
                "read_only=True to read beside the writer")
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, str(os.getpid()).encode(), 0)

    def _holder(self) -> int | None:
        try:
            return int(os.pread(self.fd, 32, 0).decode() or 0) or None
        except (OSError, ValueError):
            return None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        """Give the folder up (closing the file releases the OS lock)."""
        if self.fd is not None:
            fd, self.fd = self.fd, None
            os.close(fd)
