"""The write-ahead log: record format, fsync policies, checkpoints that
keep it short, a failed write that leaves nothing behind, a stale log (a
crash between the manifest switch and the new log) ignored."""

from __future__ import annotations

import errno
import json
import shutil
import time

import numpy as np
import pytest
from conftest import random_payloads

import nbvec
from nbvec import VectorFrame
from nbvec._payload import columns_from_dicts
from nbvec._storage import _wal
from nbvec._storage._records import (
    decode,
    encode_delete,
    encode_meta,
    encode_payload,
    encode_upsert,
)
from nbvec._storage._wal import WAL_NAME, WalWriter, read_wal


def test_log_round_trip_and_sequence(tmp_path):
    w = WalWriter.create(tmp_path, "a" * 32, 41, fsync="never")
    assert [w.append(b"x" * n) for n in (0, 1, 1000)] == [42, 43, 44]
    w.close()
    log = read_wal(tmp_path)
    assert (log.wal_id, log.base_seq, log.torn) == ("a" * 32, 41, False)
    assert [(s, len(b)) for s, b in log.records] == [(42, 0), (43, 1), (44, 1000)]
    resumed = WalWriter.resume(tmp_path, log, fsync="never")
    assert resumed.append(b"more") == 45
    resumed.close()
    assert [s for s, _ in read_wal(tmp_path).records] == [42, 43, 44, 45]


def test_records_round_trip(rng):
    ids = [1, 2**64 - 1, "936da01f-9abd-4d9d-80c7-02af85c822a8"]
    payloads = random_payloads(rng, 3)
    payloads[0] = {"big": 2**63 + 1, "nothing": None, "text": "ü"}
    batch = columns_from_dicts(payloads)
    vecs = {"a": rng.normal(size=(3, 4)).astype(np.float32)}
    rec = decode(encode_upsert(5, ids, vecs, {"a": np.array([True, False, True])}, batch), "t")
    assert (rec.kind, rec.op, rec.ids) == ("upsert", 5, ids)
    assert rec.vectors["a"].tobytes() == vecs["a"].tobytes()
    for key, col in batch.items():
        got = rec.payload[key]
        assert got.kind == col.kind and np.array_equal(got.present, col.present)
        assert got.values[got.present].tolist() == col.values[col.present].tolist()
    assert decode(encode_delete(6, ids), "t").ids == ids
    assert decode(encode_payload(7, ids[:1], columns_from_dicts([{"k": [1]}])), "t").payload[
        "k"].values.tolist() == [[1]]
    meta = decode(encode_meta(8, "payload_schema", {"a": "keyword"}), "t")
    assert (meta.kind, meta.key, meta.value) == ("meta", "payload_schema", {"a": "keyword"})


@pytest.mark.parametrize("fsync", ["always", "interval", "never", 0.05])
def test_fsync_policies(tmp_path, fsync):
    with VectorFrame.open(tmp_path / "vf", 2, fsync=fsync, progress=False) as vf:
        vf.upsert([1, 2], np.ones((2, 2)))
        if fsync == 0.05:
            assert vf._storage.wal.dirty
            time.sleep(0.3)
            assert not vf._storage.wal.dirty  # the timer synced
        if fsync == "always":
            assert not vf._storage.wal.dirty
    assert len(VectorFrame.load(tmp_path / "vf")) == 2


@pytest.mark.parametrize("fsync", ["sometimes", 0, -1, True, None])
def test_bad_fsync_policy(tmp_path, fsync):
    with pytest.raises(nbvec.InvalidRequest, match="fsync=.*'always'.*'interval'"):
        VectorFrame.open(tmp_path / "vf", 2, fsync=fsync)
    assert not (tmp_path / "vf").exists()


def test_checkpoints_keep_the_log_short(tmp_path):
    path = tmp_path / "vf"
    with VectorFrame.open(path, 16, wal_capacity_mb=0.01, progress=False) as vf:
        for i in range(60):
            vf.upsert(range(i * 10, i * 10 + 10), np.ones((10, 16)))
            assert (path / WAL_NAME).stat().st_size < 0.01 * 2**20 + 2000
        generation = json.loads((path / "manifest.json").read_text())["generation"]
        assert generation >= 5  # ~11 records of ~900 bytes per 10 KB log
    assert len(VectorFrame.load(path)) == 600


def test_failed_log_write_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "vf"
    vf = VectorFrame.open(path, 2, progress=False)
    vf.upsert([1], np.ones((1, 2)), payload=[{"a": 1}])
    size = (path / WAL_NAME).stat().st_size
    real_write = _wal.os.write

    def disk_full(fd, data):  # half a record reaches the file, then ENOSPC
        real_write(fd, bytes(data)[: max(1, len(data) // 2)])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_wal.os, "write", disk_full)
    for write in (lambda: vf.upsert([2], np.ones((1, 2))), lambda: vf.delete([1]),
                  lambda: vf.set_payload({"b": 2}, ids=[1])):
        with pytest.raises(OSError, match="No space"):
            write()
    monkeypatch.undo()
    assert (path / WAL_NAME).stat().st_size == size
    assert [(r.id, r.payload) for r in vf.scroll()[0]] == [(1, {"a": 1})]
    op = vf.upsert([3], np.ones((1, 2))).operation_id
    assert op == 1  # the failed writes used no operation number
    vf._storage.release()  # as if the process ended: the log is replayed
    assert sorted(r.id for r in VectorFrame.load(path).scroll()[0]) == [1, 3]


def test_stale_log_after_a_crash_mid_checkpoint_is_ignored(tmp_path):
    """Crash after the manifest switched, before the new log replaced the
    old: the old log's records are in the checkpoint already."""
    path = tmp_path / "vf"
    vf = VectorFrame.open(path, 2, progress=False)
    vf.upsert([1], np.ones((1, 2)), payload=[{"v": 1}])
    vf.set_payload({"v": 2}, ids=[1])
    shutil.copy(path / WAL_NAME, tmp_path / "old.log")
    vf.delete([1])
    vf.upsert([2], np.ones((1, 2)))
    vf.close()
    shutil.copy(tmp_path / "old.log", path / WAL_NAME)
    assert [r.id for r in VectorFrame.load(path).scroll()[0]] == [2]
    with VectorFrame.open(path) as again:
        assert [r.id for r in again.scroll()[0]] == [2]
    assert read_wal(path).wal_id == json.loads((path / "manifest.json").read_text())["wal_id"]
