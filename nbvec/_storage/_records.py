"""Write-ahead log records: each write as the state it leaves behind.

An upsert logs the points as stored (prepared float32 vectors, presence
masks, payload columns); a delete logs the ids; a payload write logs the
touched points' whole resulting payload; a meta record logs a frame-level
setting (the payload schema). Replaying a record sets that state again, so
replay is idempotent and payload operations need no code of their own.

>>> import numpy as np
>>> body = encode_upsert(3, [1], {"": np.ones((1, 2), np.float32)}, {"": np.ones(1, bool)}, {})
>>> rec = decode(body, "wal")
>>> rec.kind, rec.op, rec.ids
('upsert', 3, [1])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._errors import StorageCorrupted
from ._codec import arrays_to_batch, batch_to_arrays, decode_ids, encode_ids, pack, unpack

__all__ = ["Record", "encode_upsert", "encode_delete", "encode_payload", "encode_meta", "decode"]


@dataclass
class Record:
    """One decoded log record."""

    kind: str
    op: int
    ids: list = field(default_factory=list)
    vectors: dict = field(default_factory=dict)
    present: dict = field(default_factory=dict)
    payload: dict = field(default_factory=dict)
    key: str | None = None
    value: object = None


def _id_arrays(ids: list) -> dict:
    is_uuid, number, uuids = encode_ids(ids)
    return {"is_uuid": is_uuid, "number": number, "uuids": uuids}


def encode_upsert(op: int, ids: list, vectors: dict, present: dict, payload: dict) -> bytes:
    arrays = _id_arrays(ids)
    names = [n for n, has in present.items() if has is not None and has.any()]
    for n in names:
        arrays[f"v:{n}"] = np.asarray(vectors[n], dtype=np.float32)
        arrays[f"h:{n}"] = present[n]
    meta, parr = batch_to_arrays(payload)
    arrays.update(parr)
    return pack({"type": "upsert", "op": op, "n": len(ids), "names": names, "payload": meta},
                arrays)


def encode_delete(op: int, ids: list) -> bytes:
    return pack({"type": "delete", "op": op, "n": len(ids)}, _id_arrays(ids))


def encode_payload(op: int, ids: list, batch: dict) -> bytes:
    meta, parr = batch_to_arrays(batch)
    return pack({"type": "payload", "op": op, "n": len(ids), "payload": meta},
                {**_id_arrays(ids), **parr})


def encode_meta(op: int, key: str, value) -> bytes:
    return pack({"type": "meta", "op": op, "key": key, "value": value}, {})


def decode(body, where: str) -> Record:
    """The Record in a log record's body; StorageCorrupted if malformed."""
    header, arrays = unpack(body, where)
    try:
        kind, op = header["type"], int(header["op"])
        if kind == "meta":
            return Record(kind, op, key=header["key"], value=header["value"])
        n = int(header["n"])
        ids = decode_ids(arrays["is_uuid"], arrays["number"], arrays["uuids"]).tolist()
        if len(ids) != n:
            raise ValueError(f"{len(ids)} ids, expected {n}")
        rec = Record(kind, op, ids)
        if kind in ("upsert", "payload"):
            rec.payload = arrays_to_batch(header["payload"], arrays, n)
        if kind == "upsert":
            for name in header["names"]:
                rec.vectors[name] = arrays[f"v:{name}"]
                rec.present[name] = arrays[f"h:{name}"]
        elif kind not in ("delete", "payload"):
            raise ValueError(f"unknown record type {kind!r}")
        return rec
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise StorageCorrupted(f"{where}: malformed record ({exc!r})") from None
