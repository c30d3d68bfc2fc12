"""Cases of persistence (issue 7): opening a stored collection memory-mapped
vs fully loaded (time and resident memory, each open in a fresh process),
and upsert throughput with the write-ahead log vs in memory.

The stored collections are 1M x 100-d clustered (bench.datasets; 100k with
``--quick``), Cosine, built in memory with one ``upsert`` (sealed into
segments under max_segment_size) and written with ``save``: one with the
default HNSW index, one with annoy (10 trees, to keep the build short). A
probe process (``python -m bench.cases.storage PATH MMAP``) opens one as the
writer and reports JSON: seconds to open, and the anonymous and file-backed
resident memory it added after opening, after 100 default (indexed) searches
and after one exact search, which reads every vector.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .. import datasets
from ..fixtures import build_frame
from ..memprobe import rss
from ..report import fmt_ratio, fmt_time
from ..runner import Target, interleave, time_once
from . import Section, case

MB = 1 << 20
ROOT = Path(__file__).resolve().parents[2]
STAGES = {"open": "after opening", "search": "after 100 indexed searches",
          "exact": "after one exact search (reads every vector)"}  # memory read after each
INDEXES = {"hnsw": {}, "annoy": {"n_trees": 10}}  # hnsw: the default index


def resident() -> dict:
    """Resident bytes of this process by kind, from /proc/self/status.
    ``anon`` (RssAnon): heap and other private memory, which only swap could
    free: what the process pays. ``file`` (RssFile): pages of mapped files,
    clean here, which the kernel drops under pressure and reads again."""
    found = rss(("RssAnon", "RssFile"))
    return {"anon": found["RssAnon"], "file": found["RssFile"]}


def probe(path: str, mmap: bool) -> dict:
    """Open the stored collection in this (fresh) process and measure."""
    import annoy  # noqa: F401  (code pages and import-time heap are not the open's)
    import hnswlib  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    from nbvec import VectorFrame

    queries = np.load(Path(path).parent / "queries.npy")
    base = resident()
    out = {}

    def take(stage):
        now = resident()
        out.update({f"{stage}_{k}": (now[k] - base[k]) / MB for k in now})

    t0 = time.perf_counter()
    vf = VectorFrame.open(path, mmap=mmap)
    out["open_s"] = time.perf_counter() - t0
    take("open")
    t0 = time.perf_counter()
    for q in queries:
        vf.search(q, limit=10, with_payload=False)
    out["search_s"] = (time.perf_counter() - t0) / len(queries)
    take("search")
    vf.search(queries[0], limit=10, exact=True, with_payload=False)
    take("exact")
    out["points"] = len(vf)
    vf.close()
    return out


def _stored(ctx, n: int, index: str) -> Path:
    """The stored collection with ``index`` (built once per run)."""
    def make():
        folder = Path(tempfile.mkdtemp(prefix=f"nbvec-bench-storage-{index}-"))
        ds = datasets.clustered(n, 100, n_queries=100)
        np.save(folder / "queries.npy", ds.queries)
        seconds, vf = build_frame(ds, index=index, progress=False, **INDEXES[index])
        ctx.log(f"  storage: built {n:,} x 100 ({index}) in {seconds:.0f} s")
        del ds
        seconds, _ = time_once(lambda: vf.save(folder / "c"))
        ctx.log(f"  storage: saved in {seconds:.1f} s")
        return folder / "c"

    return ctx.fixture(f"storage-{index}-{n}", make)


def _probe_run(path: Path, mmap: bool) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.cases.storage", str(path), str(mmap)],
                         capture_output=True, text=True, cwd=ROOT, timeout=900)
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _mb(path: Path, pattern: str) -> float:
    return sum(f.stat().st_size for f in path.rglob(pattern) if f.is_file()) / MB


def _rows(index: str, med: dict) -> list:
    """Table rows of one index: memory as anonymous + file-backed MB, the
    ratio of the anonymous parts."""
    def mem(m, stage):
        return f"{med[m][stage + '_anon']:,.0f} + {med[m][stage + '_file']:,.0f} MB"

    def ratio(key):
        value = _mapped_over_loaded(med, key)
        return "-" if np.isnan(value) else fmt_ratio(value)

    rows = [[index, "open (seconds)", fmt_time(med[True]["open_s"]),
             fmt_time(med[False]["open_s"]), ratio("open_s")]]
    for stage, label in STAGES.items():
        rows.append([index, f"memory {label}", mem(True, stage), mem(False, stage),
                     ratio(stage + "_anon")])
    rows.append([index, "indexed search (per query)", fmt_time(med[True]["search_s"]),
                 fmt_time(med[False]["search_s"]), ratio("search_s")])
    return rows


def _mapped_over_loaded(med: dict, key: str) -> float:
    """Memory-mapped / loaded of one median figure; NaN when loaded is 0."""
    return med[True][key] / med[False][key] if med[False][key] else float("nan")


@case("storage-open", "Opening a stored collection: memory-mapped vs fully loaded")
def storage_open(ctx):
    n = 100_000 if ctx.quick else 1_000_000
    rows, targets, sizes = [], [], {}
    repeats = 3 if ctx.quick else 5
    for index in INDEXES:
        path = _stored(ctx, n, index)
        sizes[index] = (_mb(path, "*"), _mb(path, "vectors.*"), _mb(path, "index.*"))
        runs = {True: [], False: []}
        for _ in range(repeats):  # alternating, each in a fresh process
            for mmap in (True, False):
                runs[mmap].append(_probe_run(path, mmap))
        med = {m: {k: float(np.median([r[k] for r in rs])) for k in rs[0]}
               for m, rs in runs.items()}
        rows += _rows(index, med)
        label = "hnsw, the default index" if index == "hnsw" else index
        targets.append(Target(f"open anonymous memory: memory-mapped / loaded ({label})",
                              _mapped_over_loaded(med, "open_anon"), "<=", 0.5, "x"))
        shutil.rmtree(path.parent, ignore_errors=True)
        ctx.drop(f"storage-{index}-{n}")
    (h_all, h_vec, h_graph), (a_all, _, a_forest) = sizes["hnsw"], sizes["annoy"]
    notes = [
        f"{n:,} x 100-d Cosine, stored with HNSW ({h_all:,.0f} MB on disk: vectors "
        f"{h_vec:,.0f} MB, graph {h_graph:,.0f} MB) and with annoy ({a_all:,.0f} MB: forest "
        f"{a_forest:,.0f} MB); medians of {repeats} opens each, alternating, one fresh "
        "process per open, from a baseline taken after importing nbvec, hnswlib, annoy and "
        "pyarrow.",
        "Memory is 'anonymous + file-backed' MB added (RssAnon + RssFile of "
        "/proc/<pid>/status). Anonymous memory is what the process pays: only swap frees it. "
        "File-backed pages are clean pages of memory-mapped files, shared with the page "
        "cache, which the kernel drops under pressure and reads again on the next touch; "
        "VmRSS adds the two, so it counted pages a search merely read as if they were held. "
        "The ratio column and the targets compare the anonymous parts.",
        "Opening memory-mapped reads none of the vectors file (no checksum or norm pass: "
        "squared norms are stored); pages become file-backed resident only when a search "
        "reads them. Both modes rebuild the id map (a Python dict) in memory.",
        "annoy memory-maps its own index file, so with mmap=True the open pays little "
        "beyond the id map. hnswlib has no memory map: load_index reads the whole graph "
        "into the heap in both modes, and that graph holds its own copy of every vector "
        "beside the links, so with HNSW mmap=True saves only nbvec's vectors array: "
        "the HNSW target stays short until the graph itself can be memory-mapped.",
    ]
    return Section(columns=["index", "", "memory-mapped", "loaded", "mapped / loaded"],
                   rows=rows, notes=notes, targets=targets)


@case("storage-upsert", "Upsert throughput: write-ahead log vs in memory")
def storage_upsert(ctx):
    from nbvec import VectorFrame

    folder = Path(tempfile.mkdtemp(prefix="nbvec-bench-wal-"))
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1000, 100), dtype=np.float32)
    frames = {"in memory": VectorFrame(100, progress=False),
              "WAL (fsync interval)": VectorFrame.open(folder / "i", 100, progress=False),
              "WAL (fsync always)": VectorFrame.open(folder / "a", 100, fsync="always",
                                                     progress=False)}
    ids = itertools.count()
    singles = 100

    def one_point(vf):
        def run():
            for _ in range(singles):  # the tutorial's loop: one point per call
                vf.upsert([next(ids)], x[:1], payload=[{"n": 1}])
        return run

    def batches(vf):
        def run():
            for _ in range(2):
                start = next(ids)
                for _ in range(999):
                    next(ids)
                vf.upsert(np.arange(start, start + 1000), x,
                          payload=[{"n": i} for i in range(1000)])
        return run

    single = interleave({k: one_point(v) for k, v in frames.items()}, ctx.repeat, per=singles)
    batch = interleave({k: batches(v) for k, v in frames.items() if "always" not in k},
                       ctx.repeat, per=2)
    for vf in frames.values():
        vf.close()
    shutil.rmtree(folder, ignore_errors=True)
    rows = []
    for label, t in (("one point per call", single), ("batch of 1,000", batch)):
        mem = t["in memory"].median
        rows.append([label, fmt_time(mem), fmt_time(t["WAL (fsync interval)"].median),
                     fmt_ratio(t.ratio("WAL (fsync interval)", "in memory")),
                     fmt_time(t["WAL (fsync always)"].median) if "WAL (fsync always)" in t.names
                     else "-",
                     fmt_ratio(t.ratio("WAL (fsync always)", "in memory"))
                     if "WAL (fsync always)" in t.names else "-"])
    notes = ["Seconds per call, medians of interleaved rounds; ratios are medians of per-round "
             "ratios. 100-d vectors with a small payload; checkpoints (every 32 MB of log) fall "
             "inside the rounds they interrupt.",
             f"fsync 'always' costs one fdatasync per write (this disk: ~"
             f"{single['WAL (fsync always)'].median * 1e3:.1f} ms per one-point upsert)."]
    return Section(columns=["upsert", "in memory", "WAL", "WAL / memory", "WAL fsync always",
                            "always / memory"], rows=rows, notes=notes,
                   targets=[Target("batch of 1,000: WAL / in memory",
                                   batch.ratio("WAL (fsync interval)", "in memory"), "<=", 1.5,
                                   "x"),
                            Target("one point: WAL / in memory",
                                   single.ratio("WAL (fsync interval)", "in memory"), "<=", 2.0,
                                   "x")])


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    print(json.dumps(probe(sys.argv[1], sys.argv[2] == "True")))
