"""Resident memory per million vectors (issue 8): each contestant is built in
its own subprocess (``python -m bench.memprobe``) over the clustered set's
kind of data, and the RSS it adds is scaled to a million 100-d vectors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .. import fixtures
from ..memprobe import CONTESTANTS
from ..references import edge_available
from ..report import fmt_time
from . import Section, case

MB = 1 << 20
RAW_BYTES = 4 * 100  # one float32 100-d vector
# glibc otherwise raises its mmap threshold after a large free, so freed build
# temporaries stay on the heap and count as held: a fixed threshold returns them
MMAP_THRESHOLD = 1 << 20
TIMEOUT = 900  # seconds per subprocess (qdrant-client local mode loads slowly)


def _run(name: str, n: int) -> dict:
    cmd = [sys.executable, "-m", "bench.memprobe", name, str(n)]
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                         cwd=fixtures.datasets.ROOT, env=env)
    if out.returncode:
        raise RuntimeError(f"{name}: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _unavailable(name: str) -> str | None:
    if name == "nbvec hnsw":
        return fixtures.hnsw_unavailable()
    if name == "Qdrant Edge":
        return edge_available()
    return None


@case("memory", "Resident memory per million vectors (one subprocess per contestant)")
def memory(ctx):
    n = fixtures.large_n(ctx)
    rows = []
    data = []
    for name in CONTESTANTS:
        why = _unavailable(name)
        if why:
            rows.append([name, why, "", "", "", "", "", ""])
            continue
        ctx.log(f"  measuring {name} ...")
        m, half = _run(name, n), _run(name, n // 2)
        per_vec = m["held"] / n
        marginal = (m["held"] - half["held"]) / (n - n // 2)
        peak = "-" if m["peak"] is None else f"{m['peak'] / n * 1e6 / MB:,.0f} MB"
        rows.append([name, f"{m['held'] / MB:,.1f} MB", f"{per_vec:,.0f} B",
                     f"{per_vec * 1e6 / MB:,.0f} MB", f"{per_vec / RAW_BYTES:.2f}x",
                     f"{marginal * 1e6 / MB:,.0f} MB", peak, fmt_time(m["seconds"])])
        m["marginal_per_vector"] = marginal
        data.append(m)
    return Section(
        columns=["contestant", f"held at {n:,} points", "per vector", "per million vectors",
                 "vs raw float32", f"marginal per million ({n // 2:,} -> {n:,})",
                 "peak during build, per million", "build"],
        rows=rows,
        notes=[f"clustered {n:,} x 100 (the clustered set's generator), cosine; raw float32 "
               f"data = {RAW_BYTES} B per vector ({RAW_BYTES * 1e6 / MB:,.0f} MB per million)",
               "held: VmRSS after the build (and `gc.collect()`) minus VmRSS before it, with "
               "the input array alive in both and every library imported before; peak: "
               "VmHWM reset at the baseline (/proc/self/clear_refs) minus the baseline; "
               f"glibc's mmap threshold fixed at {MMAP_THRESHOLD >> 20} MB "
               "(`MALLOC_MMAP_THRESHOLD_`) so that freed build temporaries are returned; "
               "scaled linearly to 1M vectors (fixed costs such as thread pools and arenas "
               "included); marginal: (held at n - held at n/2) per added vector, scaled: the "
               "slope without the fixed part",
               "nbvec: `VectorFrame(100, 'Cosine', index=..., indexing_threshold=1000, "
               "full_scan_threshold=1000)` + one `upsert` (one sealed, indexed, calibrated "
               "segment at both sizes; 50k x 100 is under the default threshold); annoy 50 trees; HNSW M 16, ef_construction 100; faiss IVF nlist "
               "4 sqrt(n); Qdrant Edge: a shard in a temporary directory, thresholds "
               "1,000 KB, after `optimize()` (its mmap'd files count once resident); qdrant-client: `QdrantClient(':memory:')`"
               + (" - quick run: 20k points, small-number effects (allocator arenas, page "
                  "granularity) weigh more" if ctx.quick else "")],
        data={"memory": data})
