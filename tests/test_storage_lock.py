"""One writer per folder: a second writer (same process or another) gets
StorageLocked naming the folder and suggesting close(); close(), garbage
collection and a killed process all release the folder; readers need no
lock and see the writer's last checkpoint plus its log."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nbvec
from nbvec import Client, StorageLocked, VectorFrame

REPO = Path(__file__).resolve().parents[1]

HOLDER = r'''
import sys, time, numpy as np
from nbvec import VectorFrame
vf = VectorFrame.open(sys.argv[1], 2, "Dot", progress=False)
vf.upsert(range(5), np.ones((5, 2)))
print("ready", flush=True)
time.sleep(60)
'''


def holder(path):
    """A child process that holds ``path`` as writer (5 points logged)."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert child.stdout.readline().strip() == "ready", child.stderr.read()
    return child


def test_second_writer_in_this_process(tmp_path):
    vf = VectorFrame.open(tmp_path / "vf", 2, progress=False)
    with pytest.raises(StorageLocked, match=r"(?s)vf.*in use.*this process.*close\(\)"):
        VectorFrame.open(tmp_path / "vf")
    vf.upsert([1], np.ones((1, 2)))  # the first writer is unharmed
    vf.close()
    with VectorFrame.open(tmp_path / "vf") as again:
        assert len(again) == 1


def test_garbage_collected_writer_releases_the_folder(tmp_path):
    vf = VectorFrame.open(tmp_path / "vf", 2, progress=False)
    vf.upsert([1], np.ones((1, 2)))
    vf = None  # re-running `vf = VectorFrame.open(...)` after `del vf`
    vf = VectorFrame.open(tmp_path / "vf")
    assert len(vf) == 1
    cycle = [vf]
    cycle.append(cycle)  # only the cycle collector frees it
    del vf, cycle
    with VectorFrame.open(tmp_path / "vf") as again:  # the lock retries after gc
        assert len(again) == 1


def test_writer_in_another_process_and_its_death(tmp_path):
    child = holder(tmp_path / "vf")
    try:
        with pytest.raises(StorageLocked, match=f"another process \\(pid {child.pid}\\)"):
            VectorFrame.open(tmp_path / "vf")
        reader = VectorFrame.open(tmp_path / "vf", read_only=True)  # beside the writer
        assert len(reader) == 5
        assert len(VectorFrame.load(tmp_path / "vf")) == 5
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    with VectorFrame.open(tmp_path / "vf") as vf:  # a dead writer leaves no stale lock
        assert len(vf) == 5


def test_reader_sees_checkpoint_and_log(tmp_path):
    vf = VectorFrame.open(tmp_path / "vf", 2, "Dot", progress=False)
    vf.upsert(range(3), np.eye(2)[[0, 1, 0]])
    vf.save(tmp_path / "vf")  # a checkpoint of the attached folder
    vf.upsert([3], np.ones((1, 2)), payload=[{"late": True}])  # only in the log
    vf.delete([0])
    reader = VectorFrame.open(tmp_path / "vf", read_only=True)
    assert sorted(r.id for r in reader.scroll(limit=10)[0]) == [1, 2, 3]
    assert reader.retrieve([3])[0].payload == {"late": True}
    with pytest.raises(nbvec.InvalidRequest, match="read_only"):
        reader.upsert([9], np.ones((1, 2)))
    with pytest.raises(nbvec.InvalidRequest, match="read_only"):
        reader.set_payload({"a": 1}, ids=[1])
    assert len(reader) == 3
    vf.close()
    assert len(VectorFrame.open(tmp_path / "vf", read_only=True)) == 3


def test_closed_frame_refuses_writes_and_keeps_reading(tmp_path):
    vf = VectorFrame.open(tmp_path / "vf", 2, progress=False)
    vf.upsert([1], np.ones((1, 2)))
    vf.close()
    vf.close()  # idempotent
    with pytest.raises(nbvec.InvalidRequest, match=r"closed.*VectorFrame.open"):
        vf.upsert([2], np.ones((1, 2)))
    with pytest.raises(nbvec.InvalidRequest, match="closed"):
        vf.create_payload_index("a", "keyword")
    assert len(vf) == 1 and vf._payload_schema == {}
    assert len(VectorFrame.load(tmp_path / "vf")) == 1


def test_client_folder_lock(tmp_path):
    client = Client(path=tmp_path / "db")
    with pytest.raises(StorageLocked, match="Client storage folder"):
        Client(path=tmp_path / "db")
    reader = Client(path=tmp_path / "db", read_only=True)
    assert reader.get_collections().collections == []
    client.close()
    Client(path=tmp_path / "db").close()
    client = Client(path=tmp_path / "db")
    del client
    gc.collect()
    with Client(path=tmp_path / "db") as again:
        assert again.get_collections().collections == []


def test_readers_during_checkpoints(tmp_path):
    """A reader never sees a half checkpoint: while a writer checkpoints
    again and again (and removes old files), loads keep succeeding and see
    a count that only grows."""
    import threading

    path = tmp_path / "vf"
    writer = VectorFrame.open(path, 8, "Dot", wal_capacity_mb=0.005, indexing_threshold=3,
                              n_trees=2, calibration_queries=5, progress=False)
    done = threading.Event()

    def write():
        for i in range(150):
            writer.upsert(range(i * 4, i * 4 + 4), np.ones((4, 8)))
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    counts = []
    try:
        while not done.is_set():
            counts.append(len(VectorFrame.load(path)))
    finally:
        thread.join()
    writer.close()
    assert len(counts) > 3 and counts == sorted(counts)
    assert len(VectorFrame.load(path)) == 600
