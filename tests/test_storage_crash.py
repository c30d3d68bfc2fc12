"""Crash safety: a child process streams upserts, deletes and payload
updates into an attached frame and is killed with SIGKILL at random
moments (during writes, checkpoints, index builds, opening); after each
kill the folder opens without error and holds every acknowledged write —
and the write in flight either entirely or not at all."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nbvec import VectorFrame

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")

ROUNDS = 20
REPO = Path(__file__).resolve().parents[1]

# The operations, shared by the child (which runs them) and the parent (which
# models them): a seeded stream, independent of what the folder holds.
OPS = r'''
import itertools
import numpy as np

def ops(seed):
    rng = np.random.default_rng(seed)
    for i in itertools.count():
        r = rng.random()
        ids = rng.choice(400, int(rng.integers(1, 30)), replace=False).tolist()
        if r < 0.55:
            vecs = rng.normal(size=(len(ids), 4)).astype(np.float32)
            yield ("upsert", ids, vecs, [{"i": i, "seed": seed, "tag": str(j % 3)}
                                         for j in range(len(ids))])
        elif r < 0.75:
            yield ("delete", ids)
        elif r < 0.92:
            yield ("set", ids, {"p": i, "nested": {"seed": seed}})
        else:
            yield ("clear", ids)
'''

CHILD = OPS + r'''
import sys
from nbvec import VectorFrame

path, seed = sys.argv[1], int(sys.argv[2])
vf = VectorFrame.open(path, 4, "Dot", indexing_threshold=2, full_scan_threshold=1,
                      n_trees=3, calibration_queries=10, progress=False,
                      wal_capacity_mb=0.02)
print("ready", flush=True)
for n, op in enumerate(ops(seed)):
    if op[0] == "upsert":
        vf.upsert(op[1], op[2], payload=op[3])
    elif op[0] == "delete":
        vf.delete(op[1])
    elif op[0] == "set":
        vf.set_payload(op[2], ids=op[1])
    else:
        vf.clear_payload(ids=op[1])
    print("ack", n, flush=True)
    if n >= 3000:
        break
'''


def apply(model: dict, op) -> None:
    if op[0] == "upsert":
        for i, v, p in zip(op[1], op[2], op[3]):
            model[i] = (tuple(v.tolist()), dict(p))
    elif op[0] == "delete":
        for i in op[1]:
            model.pop(i, None)
    elif op[0] == "set":
        for i in op[1]:
            if i in model:
                model[i] = (model[i][0], {**model[i][1], **op[2]})
    else:
        for i in op[1]:
            if i in model:
                model[i] = (model[i][0], {})


def stored(path) -> dict:
    vf = VectorFrame.load(path)
    records, _ = vf.scroll(limit=10_000, with_payload=True, with_vectors=True)
    assert len(records) == len(vf)
    return {r.id: (tuple(np.float32(r.vector).tolist()), r.payload) for r in records}


def test_killed_writer_loses_no_acknowledged_write(tmp_path):
    namespace: dict = {}
    exec(OPS, namespace)
    path = tmp_path / "vf"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    model: dict = {}
    rng = np.random.default_rng(11)
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    acked_total = 0
    for round_ in range(ROUNDS):
        child = subprocess.Popen([sys.executable, str(script), str(path), str(round_)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                 text=True)
        if round_ % 5 == 4:  # now and then while it opens (replay, checkpoint)
            time.sleep(rng.uniform(0.3, 1.0))
        else:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
            time.sleep(rng.uniform(0.0, 0.4))
        child.send_signal(signal.SIGKILL)
        child.wait()
        # read through the text buffers, not communicate(): it reads the raw pipe
        # and would skip what readline() above had already buffered
        out, err = child.stdout.read(), child.stderr.read()
        child.stdout.close()
        child.stderr.close()
        assert child.returncode == -signal.SIGKILL, err
        acked = [int(m[1]) for m in re.finditer(r"^ack (\d+)\n", out, re.M)]
        assert "Traceback" not in err, err
        last = acked[-1] if acked else -1
        acked_total += len(acked)
        stream = namespace["ops"](round_)
        for _ in range(last + 1):
            apply(model, next(stream))
        in_flight = dict(model)
        apply(in_flight, next(stream))
        got = stored(path)
        assert got == model or got == in_flight, f"round {round_}: acknowledged op {last}"
        if got == in_flight:
            model = in_flight
    assert acked_total > 50  # the kills did land amid real work
    with VectorFrame.open(path) as vf:  # and the folder still takes writes
        vf.upsert([10_000], np.ones((1, 4)))
    assert 10_000 in stored(path)
