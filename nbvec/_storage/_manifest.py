"""The manifest: one JSON file that says what a storage folder holds.

It names the format version, the vector specs, the engine config, the
payload schema, the segments (in order, the appendable one last) with their
files, and the write-ahead log it continues with (``wal_id``). It is
replaced atomically, so a reader sees one checkpoint or the next, never a
mix; files no manifest names are leftovers of an interrupted checkpoint.

>>> from nbvec._config import EngineConfig, vector_specs
>>> specs = decode_specs(encode_specs(vector_specs(4, "Dot")), "m")
>>> specs[""].size, specs[""].distance.value
(4, 'Dot')
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from .._config import EngineConfig, VectorSpec
from .._distance import metric_for
from .._errors import NbvecError, StorageCorrupted
from ._fileio import read_json, write_json

__all__ = ["MANIFEST", "FORMAT", "FORMAT_VERSION", "encode_specs", "decode_specs",
           "encode_config", "decode_config", "read_manifest", "write_manifest"]

MANIFEST = "manifest.json"
FORMAT = "nbvec-storage"
FORMAT_VERSION = 1
_REQUIRED = ("specs", "config", "payload_schema", "segments", "generation", "wal_id",
             "checkpoint_seq", "last_operation", "next_uid", "extra")


def encode_specs(specs: dict) -> list:
    return [{"name": s.name, "size": s.size, "distance": s.distance.value,
             "on_disk": s.on_disk} for s in specs.values()]


def decode_specs(data, where: str) -> dict:
    try:
        out = {}
        for s in data:
            if not isinstance(s["size"], int) or s["size"] <= 0 or not isinstance(s["name"], str):
                raise ValueError(f"bad vector spec {s!r}")
            out[s["name"]] = VectorSpec(s["name"], s["size"], metric_for(s["distance"]),
                                        s.get("on_disk"))
        if not out:
            raise ValueError("no vector specs")
        return out
    except (KeyError, TypeError, ValueError, NbvecError) as exc:
        raise StorageCorrupted(f"{where}: unreadable vector specs ({exc})") from None


def encode_config(config: EngineConfig) -> dict:
    return {f.name: getattr(config, f.name) for f in fields(config) if f.name != "extra"}


def decode_config(data, where: str) -> EngineConfig:
    try:
        known = {f.name for f in fields(EngineConfig)} - {"extra"}
        return EngineConfig.from_kwargs(**{k: v for k, v in data.items() if k in known})
    except (AttributeError, TypeError, NbvecError) as exc:
        raise StorageCorrupted(f"{where}: unreadable engine config ({exc})") from None


def read_manifest(folder: Path) -> dict:
    """The manifest of ``folder``, checked; FileNotFoundError if there is none."""
    path = Path(folder) / MANIFEST
    data = read_json(path)
    if data.get("format") != FORMAT:
        raise StorageCorrupted(f"{path}: not an nbvec storage manifest (format "
                               f"{data.get('format')!r}, expected {FORMAT!r})")
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise StorageCorrupted(f"{path}: format version {version!r}; this nbvec reads "
                               f"version {FORMAT_VERSION} (written by a newer nbvec?)")
    missing = [k for k in _REQUIRED if k not in data]
    if missing or not isinstance(data["segments"], list):
        raise StorageCorrupted(f"{path}: missing or malformed entries {missing or ['segments']}")
    return data


def write_manifest(folder: Path, data: dict) -> None:
    """Replace the manifest atomically (temp file, fsync, rename, fsync folder)."""
    write_json(Path(folder) / MANIFEST, {"format": FORMAT, "format_version": FORMAT_VERSION,
                                          **data})
