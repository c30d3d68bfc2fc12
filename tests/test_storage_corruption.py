"""Damaged storage: StorageCorrupted names the file and what is wrong, and
reading changes nothing on disk; a torn last log record is ignored; a
pickle planted in a .npy file is refused without being executed."""

from __future__ import annotations

import hashlib
import json
import pathlib
import pickle

import numpy as np
import pytest

from nbvec import Client, StorageCorrupted, VectorFrame
from nbvec._storage._wal import WAL_NAME, read_wal

OPTIONS = dict(indexing_threshold=2, full_scan_threshold=1, n_trees=3, calibration_queries=10,
               progress=False)


@pytest.fixture
def stored(tmp_path):
    """A closed folder: a sealed, indexed segment and an appendable one."""
    path = tmp_path / "vf"
    with VectorFrame.open(path, 4, "Dot", **OPTIONS) as vf:
        vf.upsert(range(200), np.random.default_rng(0).normal(size=(200, 4)),
                  payload=[{"n": i, "mixed": [i, "x"] if i % 2 else None} for i in range(200)])
        vf.upsert(range(1000, 1010), np.ones((10, 4)))
    return path


def sealed_file(path, prefix):
    manifest = json.loads((path / "manifest.json").read_text())
    entry = next(e for e in manifest["segments"] if e["sealed"])
    folder = path / "segments" / str(entry["uid"])
    return next(f for f in folder.iterdir() if f.name.startswith(prefix))


def fingerprint(path):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file() and p.name != ".lock"}


def refused(path, match):
    """Every way of opening ``path`` raises StorageCorrupted; no file changes."""
    before = fingerprint(path)
    for opener in (lambda: VectorFrame.open(path), lambda: VectorFrame.load(path),
                   lambda: VectorFrame.open(path, read_only=True)):
        with pytest.raises(StorageCorrupted, match=match):
            opener()
    assert fingerprint(path) == before


def test_truncated_npy(stored):
    f = sealed_file(stored, "vectors.0")
    f.write_bytes(f.read_bytes()[:-40])
    refused(stored, f"{f.name}.*not a readable .npy")


def test_npy_of_the_wrong_dtype(stored):
    f = sealed_file(stored, "vectors.0")
    np.save(f, np.load(f).astype(np.float64))
    refused(stored, f"{f.name}.*float64.*expected float32")


def test_bad_manifest_json(stored):
    (stored / "manifest.json").write_text('{"format": "nbvec-storage", ')
    refused(stored, "manifest.json.*not valid JSON")


def test_manifest_from_a_newer_nbvec(stored):
    data = json.loads((stored / "manifest.json").read_text())
    (stored / "manifest.json").write_text(json.dumps({**data, "format_version": 99}))
    refused(stored, "manifest.json.*format version 99")


def test_manifest_with_missing_entries(stored):
    data = json.loads((stored / "manifest.json").read_text())
    del data["segments"]
    (stored / "manifest.json").write_text(json.dumps(data))
    refused(stored, "manifest.json.*missing or malformed.*segments")


def test_missing_segment_file(stored):
    f = sealed_file(stored, "deleted")
    f.unlink()
    refused(stored, f"{f.name}.*missing")


def test_truncated_annoy_index(stored):
    f = sealed_file(stored, "index.0")
    f.write_bytes(f.read_bytes()[:1000])
    refused(stored, f"{f.name}.*expected")


def test_damaged_parquet_payload(stored):
    f = sealed_file(stored, "payload")
    data = bytearray(f.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64
    f.write_bytes(bytes(data))
    refused(stored, f"{f.name}")


class _Plant:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


@pytest.mark.parametrize("part", ["deleted", "id_number", "vectors.0"])
@pytest.mark.parametrize("form", ["object-npy", "raw-pickle"])
def test_pickle_in_npy_is_refused_and_not_executed(stored, tmp_path, part, form):
    marker = tmp_path / "executed"
    f = sealed_file(stored, part)
    if form == "object-npy":
        arr = np.empty(200, dtype=object)
        arr[:] = [_Plant(marker)] * 200
        with open(f, "wb") as out:
            np.save(out, arr, allow_pickle=True)
    else:
        f.write_bytes(pickle.dumps(_Plant(marker)))
    refused(stored, f"{f.name}.*(pickle|Object arrays)")
    assert not marker.exists()


def test_torn_last_wal_record_is_ignored(tmp_path):
    path = tmp_path / "vf"
    vf = VectorFrame.open(path, 2, "Dot", progress=False)
    vf.upsert([1], np.ones((1, 2)))
    vf.upsert([2], np.ones((1, 2)))
    del vf  # not closed: both writes only in the log
    log = path / WAL_NAME
    assert len(read_wal(path).records) == 2
    log.write_bytes(log.read_bytes()[:-7])  # the last record torn
    assert len(VectorFrame.load(path)) == 1
    with VectorFrame.open(path) as vf:  # the writer takes the log in and starts clean
        assert sorted(r.id for r in vf.scroll()[0]) == [1]
        vf.upsert([3], np.ones((1, 2)))
    assert sorted(r.id for r in VectorFrame.load(path).scroll()[0]) == [1, 3]


@pytest.mark.parametrize("damage", ["zero-fill", "bad-checksum-at-end"])
def test_other_torn_tails_are_ignored(tmp_path, damage):
    path = tmp_path / "vf"
    vf = VectorFrame.open(path, 2, "Dot", progress=False)
    vf.upsert([1], np.ones((1, 2)))
    vf.upsert([2], np.ones((1, 2)))
    del vf
    log = path / WAL_NAME
    data = bytearray(log.read_bytes())
    if damage == "zero-fill":
        data += b"\x00" * 100
    else:
        data[-1] ^= 0xFF
    log.write_bytes(bytes(data))
    assert len(VectorFrame.load(path)) == (2 if damage == "zero-fill" else 1)


def test_damaged_record_mid_log_is_corruption(tmp_path):
    path = tmp_path / "vf"
    vf = VectorFrame.open(path, 2, "Dot", progress=False)
    for i in range(3):
        vf.upsert([i], np.ones((1, 2)))
    del vf
    log = path / WAL_NAME
    data = bytearray(log.read_bytes())
    data[60] ^= 0xFF  # inside the first record
    log.write_bytes(bytes(data))
    refused(path, f"{WAL_NAME}.*damaged.*more")


def test_client_names_the_damaged_collection(tmp_path):
    with Client(path=tmp_path / "db") as client:
        from nbvec import models

        client.create_collection("good", vectors_config=models.VectorParams(size=2,
                                                                           distance="Dot"))
        client.create_collection("bad", vectors_config=models.VectorParams(size=2,
                                                                          distance="Dot"))
    (tmp_path / "db" / "collections" / "bad" / "manifest.json").write_text("[]")
    for _ in range(2):  # the failed open released what it held
        with pytest.raises(StorageCorrupted, match="bad.manifest.json.*JSON object"):
            Client(path=tmp_path / "db")
    with VectorFrame.open(tmp_path / "db" / "collections" / "good") as good:  # untouched
        assert len(good) == 0
