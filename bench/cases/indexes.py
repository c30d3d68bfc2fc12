"""Recall@10 vs queries/second of nbvec's indexes and the libraries a user
would pick instead (issue 8): each contestant's speed/recall knob swept
(annoy search_k, HNSW ef, IVF nprobe), exact methods as single points;
build times; nbvec's HNSW path vs raw hnswlib on nbvec's own graph (the
targets), with the floor any wrapper pays, and vs an independently built
hnswlib graph at equal recall (information).

Segmentation: nbvec is configured to one segment (one ``upsert`` of all
points; the 200 MB ``max_segment_size`` holds both sets, checked below) and
compared with one raw index over the same points.

Timing: per contestant, every setting of its knob and numpy brute force run
interleaved; a call answers one query (what a user's loop does), and the
speed-up is the median of per-round ratios numpy / contestant.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from .. import datasets, fixtures
from ..references import (
    BATCHED,
    RAW_REFERENCES,
    SINGLE,
    FaissFlat,
    Hnswlib,
    HnswOnNbvec,
    NumpyExact,
    Reference,
    edge_available,
    same_index,
    same_index_rounds,
)
from ..report import fmt_rate, fmt_ratio, fmt_recall, fmt_time
from ..runner import Target, interleave, recall_at_k, time_once
from . import Section, Skip, case

K = 10
HNSW_EF = (10, 16, 32, 64, 128, 256)
GRIDS = {  # the knob's settings per data set kind; None = the contestant's default
    "clustered": {"search_k": (None, 500, 1000, 2000, 4000, 8000), "ef": (None, *HNSW_EF),
                  "nprobe": (1, 2, 4, 8, 16, 32, 64)},
    "pydocs": {"search_k": (None, 1000, 3000, 10000, 30000), "ef": (None, *HNSW_EF),
               "nprobe": (1, 2, 4, 8, 16, 32, 64)},
}
RECALL_SLACK = 0.001  # "equal recall": raw within 0.001 of nbvec's
MAX_EF = 4096  # the raw library's ef search stops there


class _OnFrame(Reference):
    """A contestant searching an nbvec frame ``vf`` with raw float32 queries."""

    package = "nbvec"

    def __init__(self, vf):
        self.vf = vf

    def prepare(self, queries):
        return list(np.asarray(queries, np.float32))


class NbvecAnnoy(_OnFrame):
    """``vf.search(q, limit=10, with_payload=False)`` on an annoy-indexed frame;
    a search_k forces the index's calibrated default (``forced_search_k``)."""

    name, param = "nbvec annoy", "search_k"

    def run(self, p, queries, k):
        search = self.vf.search
        if p is None:
            return [[pt.id for pt in search(q, limit=k, with_payload=False)] for q in queries]
        with fixtures.forced_search_k(self.vf, p):
            return [[pt.id for pt in search(q, limit=k, with_payload=False)] for q in queries]

    def plan(self, p, query) -> str:
        if p is None:
            return fixtures.describe_plans(self.vf, query)
        with fixtures.forced_search_k(self.vf, p):
            return fixtures.describe_plans(self.vf, query)


class _NbvecOptions(_OnFrame):
    """``vf.search(q, limit=10, with_payload=False, **options(p))``."""

    def options(self, p) -> dict:
        raise NotImplementedError

    def run(self, p, queries, k):
        search, options = self.vf.search, self.options(p)
        return [[pt.id for pt in search(q, limit=k, with_payload=False, **options)]
                for q in queries]

    def plan(self, p, query) -> str:
        return fixtures.describe_plans(self.vf, query, **self.options(p))


class NbvecHnsw(_NbvecOptions):
    """``vf.search(q, limit=10, hnsw_ef=ef, with_payload=False)`` on a frame
    built with ``index="hnsw"``."""

    name, param = "nbvec hnsw", "ef"

    def options(self, p) -> dict:
        return {"hnsw_ef": p}


class NbvecExact(_NbvecOptions):
    name, param = "nbvec exact", ""

    def options(self, p) -> dict:
        return {"exact": True}


@dataclass
class Point:
    """One setting of one contestant: recall@10 and speed."""

    contestant: str
    param: object
    recall: float
    seconds: float  # median per query
    speedup: float  # median of per-round numpy / contestant
    plan: str = ""


def _one_segment(vf, n: int) -> str:
    segs = fixtures.sealed_segments(vf)
    if not (len(segs) == 1 and segs[0]["indexed"] and segs[0]["points"] == n):
        raise RuntimeError(f"expected one sealed, indexed segment of all {n} points: {segs}")
    return f"one segment of {n:,} points"


def sweep(ctx, ref: Reference, ds, grid, numpy_ref: NumpyExact, numpy_samples: list) -> list:
    """Recall over every query, then time over ``ctx.n_timed`` queries at each
    setting, interleaved with numpy brute force (its samples are appended to
    ``numpy_samples``)."""
    all_q, qs = ref.prepare(ds.queries), ref.prepare(ds.queries[: ctx.n_timed])
    np_qs = numpy_ref.prepare(ds.queries[: ctx.n_timed])
    recalls = {p: recall_at_k(ref.run(p, all_q, K), ds.truth, K) for p in grid}
    runs = {"numpy": lambda: numpy_ref.run(None, np_qs, K)}
    runs.update({p: (lambda p=p: ref.run(p, qs, K)) for p in grid})
    t = interleave(runs, ctx.repeat, per=len(qs))
    numpy_samples += t["numpy"].samples
    plan = getattr(ref, "plan", None)
    return [Point(ref.name, p, recalls[p], t[p].median, t.ratio("numpy", p),
                  plan(p, ds.queries[0]) if plan else "") for p in grid]


def equal_recall(ctx, ds, nb: Reference, raw: Reference, settings) -> list:
    """nbvec at each setting vs the raw library at the smallest knob value
    (bisection over integers) reaching nbvec's recall: [(setting, nbvec
    recall, raw setting, raw recall, Timings)]."""
    all_nb, all_raw = nb.prepare(ds.queries), raw.prepare(ds.queries)
    qs_nb, qs_raw = nb.prepare(ds.queries[: ctx.n_timed]), raw.prepare(ds.queries[: ctx.n_timed])

    def raw_recall(p):
        return recall_at_k(raw.run(p, all_raw, K), ds.truth, K)

    out = []
    for p in settings:
        want = recall_at_k(nb.run(p, all_nb, K), ds.truth, K)
        lo, hi = K - 1, K
        r_hi = raw_recall(hi)
        while r_hi < want - RECALL_SLACK and hi < MAX_EF:
            lo, hi = hi, hi * 2
            r_hi = raw_recall(hi)
        while hi - lo > 1 and r_hi >= want - RECALL_SLACK:
            mid = (lo + hi) // 2
            if (r := raw_recall(mid)) >= want - RECALL_SLACK:
                hi, r_hi = mid, r
            else:
                lo = mid
        t = interleave({"nbvec": lambda p=p: nb.run(p, qs_nb, K),
                        "raw": lambda h=hi: raw.run(h, qs_raw, K)}, ctx.repeat, per=len(qs_nb))
        out.append((p, want, hi, r_hi, t))
    return out


FRAMES = {"clustered": fixtures.clustered_frame, "pydocs": fixtures.pydocs_frame}


def contestants(ctx, kind: str, ds) -> tuple[list, dict, list]:
    """([(Reference, grid)], {name: build seconds}, notes)."""
    grids = GRIDS[kind]
    build_s, vf = FRAMES[kind](ctx, "annoy")
    refs = [(NbvecExact(vf), (None,)), (FaissFlat(), (None,)), (NbvecAnnoy(vf), grids["search_k"])]
    builds = {"nbvec annoy": build_s, "nbvec exact": build_s}
    notes = [f"nbvec annoy: `index='annoy'`, {_one_segment(vf, ds.n)} (one `upsert`; build = "
             "upsert -> sealed, indexed, calibrated); nbvec exact runs on this frame"]
    why_not = fixtures.hnsw_unavailable()
    if why_not is None:
        s, hvf = FRAMES[kind](ctx, "hnsw")
        notes.append(f"nbvec hnsw: `index='hnsw'`, {_one_segment(hvf, ds.n)}, built in "
                     f"{fmt_time(s)}; nbvec's default index is {fixtures.default_index()!r}")
        refs.append((NbvecHnsw(hvf), grids["ef"]))
        builds["nbvec hnsw"] = s
    else:
        notes.append(f"nbvec hnsw: {why_not}")
    for cls in RAW_REFERENCES:
        refs.append((cls(), grids[cls.param]))
    edge_missing = edge_available()
    if edge_missing is None:
        s, edge = fixtures.clustered_edge(ctx) if kind == "clustered" else \
            fixtures.edge_shard(ctx, kind, ds)
        refs.append((edge, grids["ef"]))
        builds[edge.name] = s
    else:
        notes.append(f"Qdrant Edge: {edge_missing}")
    for ref, _ in refs:
        if ref.name not in builds:
            ctx.log(f"  building {ref.name} over {ds.shape} ...")
            builds[ref.name], _ = time_once(lambda ref=ref: ref.build(ds.base))
    return refs, builds, notes


def curves(ctx, kind: str, ds) -> Section:
    numpy_ref = NumpyExact(threads=1)
    numpy_ref.build(ds.base)
    refs, builds, notes = contestants(ctx, kind, ds)
    points, numpy_samples = [], []
    for ref, grid in refs:
        ctx.log(f"  sweeping {ref.name} ...")
        points += sweep(ctx, ref, ds, grid, numpy_ref, numpy_samples)
    numpy_t = float(np.median(numpy_samples))
    rows = [["numpy exact, 1 thread", "-", fmt_recall(1.0), fmt_time(numpy_t), fmt_rate(1 / numpy_t),
             "1.00x", "-", ""]]
    for pt in points:
        ref = next(r for r, _ in refs if r.name == pt.contestant)
        setting = "-" if not ref.param else f"{ref.param} " + (
            "default" if pt.param is None else f"{pt.param:,}")
        rows.append([pt.contestant, setting, fmt_recall(pt.recall), fmt_time(pt.seconds),
                     fmt_rate(1 / pt.seconds), fmt_ratio(pt.speedup),
                     fmt_time(builds.get(pt.contestant, 0.0)), pt.plan])
    section = Section(
        columns=["contestant", "setting", "recall@10", "time / query", "queries/s",
                 "speed-up over numpy", "build", "nbvec plan"],
        rows=rows,
        notes=[f"{ds.name} ({ds.shape}, {ds.description}); every nbvec frame is one segment "
               "(checked) and every raw index holds all points too",
               "contestants: " + "; ".join(r.describe() for r, _ in refs if not
                                           r.name.startswith("nbvec")),
               *notes,
               "nbvec: `vf.search(q, limit=10, with_payload=False)`; annoy settings force the "
               "index's search_k (`bench.fixtures.forced_search_k`), hnsw settings pass "
               "`hnsw_ef`; 'default' is what the planner picks by itself",
               "HNSW everywhere: M 16, ef_construction 100 (Qdrant's and nbvec's defaults); "
               "ef below 10 is raised to k",
               f"recall@10 over {len(ds.queries)} queries; time over {ctx.n_timed} single-query "
               f"calls x {ctx.repeat} rounds, each contestant's settings interleaved with numpy; "
               "numpy's row: the median of all its rounds; speed-up: the median of per-round "
               "ratios numpy / contestant",
               "numpy here runs on one BLAS thread (threadpoolctl), as the raw libraries answer "
               "one query on one thread (faiss: one OpenMP thread); with two BLAS threads it "
               "is ~1.8x faster on 100k x 100 when the machine is quiet, but its timings then "
               "swing with the thread pools faiss and Qdrant Edge leave spinning, which made "
               "the paired ratios meaningless"],
        data={"kind": kind, "dataset": f"{ds.name} ({ds.shape})", "numpy": numpy_t,
              "points": [pt.__dict__ for pt in points]})
    section.targets += _hnsw_targets(ctx, ds, refs, section)
    return section


HNSW_TARGET_EFS = (None, 16, 64)  # None: the calibrated default


def _hnsw_targets(ctx, ds, refs, section) -> list:
    """nbvec's HNSW path vs raw hnswlib on nbvec's own graph (the targets; a
    note per ef), and vs an independently built graph at equal recall
    (information)."""
    nb = next((r for r, _ in refs if isinstance(r, NbvecHnsw)), None)
    raw = next((r for r, _ in refs if isinstance(r, Hnswlib)), None)
    if nb is None or raw is None:
        return []
    own = HnswOnNbvec(fixtures.indexed_segment(nb.vf))
    section.notes += _same_graph_notes(own, same_index_rounds(ctx.repeat))
    targets = []
    for p, want, raw_p, raw_r, t in equal_recall(ctx, ds, nb, raw, HNSW_TARGET_EFS):
        plan = fixtures.plans(nb.vf, ds.queries[0], hnsw_ef=p)[0]
        label = f"default ({plan.search_k})" if p is None else p
        if plan.strategy != "hnsw":
            section.notes.append(f"nbvec hnsw ef {label}: the planner chose {plan.strategy} "
                                 f"({plan.reason}): no target")
            continue
        same = same_index(own.at(plan.search_k), ds.queries[: ctx.n_timed],
                          partial(nb.vf.search, limit=K, hnsw_ef=p, with_payload=False),
                          K, ctx.repeat)
        section.notes.append(_same_graph_note(label, want, same))
        section.notes.append(
            f"independent hnswlib graph at equal recall (information), ef {label}: nbvec "
            f"(recall {fmt_recall(want)}) {fmt_time(t['nbvec'].median)} vs raw hnswlib ef {raw_p} "
            f"(recall {fmt_recall(raw_r)}) {fmt_time(t['raw'].median)}: "
            f"{fmt_ratio(t.ratio('nbvec', 'raw'))}")
        targets += same.targets(f"{ds.name}: nbvec hnsw path / raw hnswlib on the same graph",
                                f"ef {label}")
    return targets


def _same_graph_notes(own, rounds: int) -> list:
    g = own.index.graph
    return [
        f"nbvec hnsw vs raw hnswlib on nbvec's *own* graph ({rounds} interleaved rounds; "
        "`seg.indexes[''].graph`; the "
        "index-vs-raw targets): raw = `graph.set_ef(ef)` once, then `graph.knn_query(q, 10)` "
        "per normalized query, or one `graph.knn_query(Q, 10)` per batch of 100 (hnswlib's "
        f"batch call, on the graph's {g.num_threads} threads, as nbvec's); nbvec = "
        "`vf.search(q, limit=10, hnsw_ef=ef, with_payload=False)`, or one call with the (100, "
        "d) batch; ef is the one nbvec's plan uses. The candidates are checked identical for "
        "every timed query, so the recall is equal by construction and the ratio is nbvec's "
        "overhead alone (two independently built graphs differ in quality by chance, which an "
        "equal-recall search between them counts as overhead)",
        "floor: the least any Python wrapper returning exact results does - normalize the "
        "query, the raw call, re-score the candidates from its own copy of the vectors "
        "(`V[rows] @ q`), argsort, map rows to ids (information). nbvec's unfiltered HNSW "
        "path on Cosine (and Euclid) skips that re-score: it returns the graph's own float32 "
        "scores, as Qdrant does, as close to the float64 scores as a float32 re-score "
        "(`HnswSegmentIndex.query_scored`); on Dot it re-scores. A single query's scores are "
        "converted from the graph's distances when first read: the timed calls read the ids "
        "(as raw hnswlib returns labels and distances), so they do not convert"]


def _same_graph_note(label, recall: float, same) -> str:
    parts = []
    for mode in (SINGLE, BATCHED):
        t = same.timings[mode]
        parts.append(f"{mode}: raw {fmt_time(t['raw'].median)}, floor "
                     f"{fmt_time(t['floor'].median)} ({fmt_ratio(same.ratio(mode, 'floor'))} "
                     f"raw), nbvec {fmt_time(t['nbvec'].median)} "
                     f"({fmt_ratio(same.ratio(mode, 'nbvec'))} raw), candidates "
                     f"{same.candidates(mode)}")
    return (f"same graph, ef {label} (nbvec recall@10 {fmt_recall(recall)}), time per query - "
            + "; ".join(parts))


@case("recall-qps-clustered", "Recall@10 vs queries/second, clustered: nbvec vs raw libraries")
def recall_qps_clustered(ctx):
    return curves(ctx, "clustered", fixtures.clustered(ctx))


@case("recall-qps-pydocs", "Recall@10 vs queries/second, pydocs-minilm (real 384-d text)")
def recall_qps_pydocs(ctx):
    ds = fixtures.pydocs(ctx)
    if ds is None:
        raise Skip(f"pydocs-minilm not found at {datasets.PYDOCS_DIR} (optional input)")
    section = curves(ctx, "pydocs", ds)
    section.targets += _real_hnsw_targets(section)
    ctx.drop("edge-pydocs-plain", "pydocs-frame-annoy", "pydocs-frame-hnsw")
    return section


def _real_hnsw_targets(section) -> list:
    """nbvec's default HNSW search on the real set: recall@10 >= 0.95 at <= 0.05x
    the time of exact brute force (numpy on one thread, as in the curves)."""
    default = next((p for p in section.data["points"]
                    if p["contestant"] == NbvecHnsw.name and p["param"] is None), None)
    if default is None:
        return []
    return [Target("pydocs-minilm: nbvec hnsw default search recall@10", default["recall"],
                   ">=", 0.95, "", goal="real-hnsw"),
            Target("pydocs-minilm: nbvec hnsw default search time / numpy brute force (1 thread)",
                   1 / default["speedup"], "<=", 0.05, "x", goal="real-hnsw")]
