"""A Client's storage folder: ``collections/<name>/`` (one frame folder
each), ``aliases/data.json``, and the folder's own writer lock.

A collection appears atomically (built in ``collections/.new-*``, then
renamed) and disappears atomically (renamed to ``collections/.del-*``,
then removed); leftovers of an interrupted create or delete are cleared
when a writer opens the folder.

>>> import tempfile
>>> root = ClientRoot(tempfile.mkdtemp(), read_only=False)
>>> root.names(), root.aliases()
([], {})
>>> root.release()
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from .._errors import InvalidRequest, StorageCorrupted
from ._fileio import fsync_dir, read_json, write_json
from ._lock import FolderLock
from ._manifest import MANIFEST

__all__ = ["ClientRoot"]

_COLLECTIONS = "collections"
_ALIASES = Path("aliases") / "data.json"


class ClientRoot:
    """The folder of a ``Client(path=...)``; locked unless ``read_only``."""

    def __init__(self, path, read_only: bool):
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            if not (self.path / _COLLECTIONS).is_dir():
                raise InvalidRequest(f"no nbvec Client storage in {str(self.path)!r} (no "
                                     f"{_COLLECTIONS}/ folder) to open read-only")
            self.lock = None
            return
        if self.path.exists() and not self.path.is_dir():
            raise InvalidRequest(f"Client(path={str(path)!r}): not a folder")
        self.path.mkdir(parents=True, exist_ok=True)
        self.lock = FolderLock(self.path, "Client storage folder")
        try:
            (self.path / _COLLECTIONS).mkdir(exist_ok=True)
            for leftover in (self.path / _COLLECTIONS).glob(".*-*"):
                shutil.rmtree(leftover, ignore_errors=True)
        except BaseException:
            self.lock.release()
            raise

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()

    # -- collections -----------------------------------------------------------------
    def folder(self, name: str) -> Path:
        """The folder of collection ``name`` (a name usable as a folder name)."""
        if (not isinstance(name, str) or not name or name.startswith(".") or len(name) > 200
                or any(c in name for c in '/\\\x00')):
            raise InvalidRequest(f"collection name {name!r} cannot be stored: use 1-200 "
                                 "characters without '/', '\\\\' or a leading '.'")
        return self.path / _COLLECTIONS / name

    def names(self) -> list[str]:
        """Stored collections, by name."""
        root = self.path / _COLLECTIONS
        return sorted(p.name for p in root.iterdir()
                      if not p.name.startswith(".") and (p / MANIFEST).exists())

    def create(self, name: str, build) -> Path:
        """Make collection ``name`` appear at once: ``build(folder)`` writes
        it in a temporary folder, which is then renamed into place."""
        self.check_writable()
        final = self.folder(name)
        if final.exists():
            raise InvalidRequest(f"{str(final)!r} exists and is not a stored collection: remove "
                                 "it or choose another collection name")
        tmp = self.path / _COLLECTIONS / f".new-{uuid.uuid4().hex}"
        try:
            build(tmp)
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(final.parent)
        return final

    def delete(self, name: str) -> None:
        """Make collection ``name`` disappear at once, then remove its files."""
        self.check_writable()
        gone = self.path / _COLLECTIONS / f".del-{uuid.uuid4().hex}"
        self.folder(name).rename(gone)
        fsync_dir(gone.parent)
        shutil.rmtree(gone, ignore_errors=True)

    # -- aliases -----------------------------------------------------------------------
    def aliases(self) -> dict:
        try:
            data = read_json(self.path / _ALIASES)
        except FileNotFoundError:
            return {}
        aliases = data.get("aliases")
        if not isinstance(aliases, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()):
            raise StorageCorrupted(f"{self.path / _ALIASES}: expected {{\"aliases\": {{alias: "
                                   "collection}}}")
        return aliases

    def write_aliases(self, aliases: dict) -> None:
        self.check_writable()
        (self.path / _ALIASES).parent.mkdir(exist_ok=True)
        write_json(self.path / _ALIASES, {"aliases": aliases})

    def check_writable(self) -> None:
        if self.read_only:
            raise InvalidRequest(f"this Client opened {str(self.path)!r} with read_only=True: "
                                 "collections and aliases cannot change")
