"""``python -m bench.memprobe CONTESTANT N``: build one contestant
over N clustered 100-d points in this fresh process and print, as JSON, the
resident memory it added (the memory case runs one subprocess per
contestant so that no other index or fixture shares the heap).

Measured from /proc/self/status: ``VmRSS`` after the data is made and the
library imported (baseline), then after the build and a ``gc.collect()``
(held), and ``VmHWM`` (peak) reset at the baseline through
/proc/self/clear_refs. The input array stays alive, as in a user's notebook:
"held" is what the collection adds on top of the caller's data.
"""

from __future__ import annotations

import argparse
import gc
import json
import time

import numpy as np

from . import datasets

__all__ = ["CONTESTANTS", "rss", "probe"]


def rss(keys=("VmRSS", "VmHWM")) -> dict:
    """Memory fields ``keys`` of /proc/self/status (by default the current
    and peak resident set size) of this process, in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in keys:
                out[key] = int(value.split()[0]) * 1024
    return out


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        return True
    except OSError:
        return False


def _nbvec(index):
    def build(ds):
        from nbvec import VectorFrame

        from .fixtures import QUICK_THRESHOLDS

        vf = VectorFrame(ds.d, "Cosine", index=index, progress=False, **QUICK_THRESHOLDS)
        vf.upsert(np.arange(ds.n), ds.base)
        return vf

    return build


def _numpy(ds):
    return datasets.unit_rows(ds.base)  # the normalized copy brute force needs


def _reference(cls, **kw):
    def build(ds):
        ref = cls(**kw)
        ref.build(ds.base)
        return ref

    return build


def _qdrant_local(ds):
    import warnings

    from qdrant_client import QdrantClient
    from qdrant_client import models as qm

    qc = QdrantClient(":memory:")
    qc.create_collection("m", vectors_config=qm.VectorParams(size=ds.d,
                                                             distance=qm.Distance.COSINE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lo in range(0, ds.n, 1000):
            hi = min(ds.n, lo + 1000)
            qc.upsert("m", points=qm.Batch(ids=list(range(lo, hi)),
                                           vectors=ds.base[lo:hi].tolist()))
    return qc


def _contestants() -> dict:
    """Thresholds are lowered (1,000 KB) for nbvec and Qdrant Edge so that every
    size measured is indexed (50k x 100 is under nbvec's default 20,000 KB)."""
    from . import references as r

    edge_kw = {"indexing_threshold": 1000, "full_scan_threshold": 1000}
    return {
        "numpy (normalized copy)": _numpy,
        "nbvec annoy": _nbvec("annoy"),
        "nbvec hnsw": _nbvec("hnsw"),
        "annoy": _reference(r.Annoy),
        "hnswlib": _reference(r.Hnswlib),
        "voyager": _reference(r.Voyager),
        "faiss HNSW": _reference(r.FaissHnsw),
        "faiss IVF": _reference(r.FaissIvf),
        "Qdrant Edge": _reference(r.QdrantEdge, **edge_kw),
        "qdrant-client local": _qdrant_local,
    }


CONTESTANTS = ("numpy (normalized copy)", "nbvec annoy", "nbvec hnsw", "annoy", "hnswlib",
               "voyager", "faiss HNSW", "faiss IVF", "Qdrant Edge", "qdrant-client local")


def _import_libraries():
    """Import every library before the baseline, so that no contestant is
    charged for code pages."""
    import annoy  # noqa: F401

    import nbvec  # noqa: F401

    for mod in ("hnswlib", "voyager", "faiss", "qdrant_edge", "qdrant_client"):
        try:
            __import__(mod)
        except ImportError:
            pass


def probe(name: str, n: int) -> dict:
    """Build ``name`` over n clustered points; bytes held, peak, seconds."""
    ds = datasets.clustered(n, 100, n_queries=10)
    build = _contestants()[name]
    _import_libraries()
    gc.collect()
    before = rss()["VmRSS"]
    peak_ok = _reset_peak()
    t0 = time.perf_counter()
    held = build(ds)
    seconds = time.perf_counter() - t0
    gc.collect()
    after = rss()
    return {"name": name, "n": n, "d": ds.d, "held": after["VmRSS"] - before,
            "peak": after["VmHWM"] - before if peak_ok else None, "seconds": seconds,
            "alive": held is not None}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.memprobe")
    p.add_argument("name", choices=CONTESTANTS)
    p.add_argument("n", type=int)
    args = p.parse_args(argv)
    print(json.dumps(probe(args.name, args.n)))


if __name__ == "__main__":
    main()
