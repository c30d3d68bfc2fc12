"""Cases of the core engine (issue 2): exact search, the annoy path, default
search, writes, index build, small collections; default search on uniform,
digits and the real pydocs-minilm set.

The large set is 100k x 100 clustered (20k with ``--quick``), loaded into one
VectorFrame with a single ``upsert`` (one sealed, indexed segment) and
shared by the cases that search it.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from nbvec import VectorFrame

from .. import datasets, fixtures
from ..baselines import annoy_forest, annoy_search_k_for_recall, numpy_topk, numpy_topk_batch
from ..references import (
    BATCHED,
    SINGLE,
    AnnoyOnNbvec,
    QdrantEdge,
    edge_available,
    same_index,
    same_index_rounds,
)
from ..report import fmt_rate, fmt_ratio, fmt_recall, fmt_time
from ..runner import Target, cumulative, interleave, profiled, recall_at_k
from . import Section, Skip, case

K = 10
SEARCH_K_GRID = (500, 1000, 2000, 4000)


def _ids(results) -> list:
    return [[p.id for p in r] for r in results]


def _single_ids(vf, queries, **kwargs) -> list:
    """Ids from one ``vf.search`` call per query (what a user's loop gets)."""
    return [[p.id for p in vf.search(q, limit=K, **kwargs)] for q in queries]


def _engine_one(vf, q, **kwargs):
    return vf._engine.search("", q[None], limit=K, **kwargs)


def _segments_note(vf) -> str:
    segs = fixtures.sealed_segments(vf)
    return "segments: " + "; ".join(
        f"{s['points']:,} points, {'sealed' if not s['appendable'] else 'appendable'}"
        + (f", indexed (search_k {s.get('vector.search_k')})" if s["indexed"] else "")
        for s in segs)


# -- 1. exact search -------------------------------------------------------------------
@case("exact", "Exact search vs plain numpy")
def exact(ctx):
    ds = fixtures.clustered(ctx)
    _, vf = fixtures.clustered_frame(ctx)
    xb, qs, batch = ds.unit_base, ds.queries[: ctx.n_timed], ds.queries[:100]
    single = interleave({
        "numpy": lambda: [numpy_topk(xb, q, K) for q in qs],
        "nbvec": lambda: [vf.search(q, exact=True, with_payload=False) for q in qs],
        "engine": lambda: [_engine_one(vf, q, exact=True) for q in qs],
    }, ctx.repeat, per=len(qs))
    batched = interleave({
        "numpy": lambda: numpy_topk_batch(xb, batch, K),
        "nbvec": lambda: vf.search(batch, exact=True, with_payload=False),
        "engine": lambda: vf._engine.search("", batch, limit=K, exact=True),
    }, 2 * ctx.repeat)
    recall = recall_at_k(_ids(vf.search(batch, exact=True, with_payload=False)),
                         ds.truth[:100], K)
    rows, targets = [], []
    for label, t in (("1 query (per query)", single), ("batch of 100 (per batch)", batched)):
        ratio = t.ratio("nbvec", "numpy")
        rows.append([label, fmt_time(t["numpy"].median), fmt_time(t["nbvec"].median),
                     fmt_ratio(ratio), fmt_time(t["engine"].median),
                     fmt_ratio(t.ratio("engine", "numpy"))])
        targets.append(Target(f"exact {label.split(' (')[0]}: nbvec / numpy", ratio, "<=", 1.5, "x",
                              goal="exact"))
    return Section(
        columns=["queries", "numpy", "nbvec `vf.search(exact=True)`", "nbvec / numpy",
                 "engine only", "engine / numpy"],
        rows=rows,
        notes=[f"{ds.name} ({ds.shape}, {ds.description}); k = {K}, with_payload=False",
               "numpy: normalized matrix @ normalized query, argpartition, sort of the top 10",
               "engine only: `vf._engine.search(..., exact=True)` without result objects",
               f"nbvec exact recall@10 vs numpy truth: {fmt_recall(recall)}"],
        targets=targets)


# -- 2. annoy path vs raw annoy ------------------------------------------------------------
RECALL_SLACK = 0.001  # "equal recall": raw within 0.001 of nbvec (10 of 10,000 neighbours)


def _raw_at_equal_recall(forest, ds, recall: float, start: int):
    """(search_k, recall) of raw annoy at nbvec's recall, or (None, best seen)."""
    return annoy_search_k_for_recall(forest, ds.queries.tolist(), ds.truth, K,
                                     recall - RECALL_SLACK, start=start, cap=32 * start)


def _annoy_setting(ctx, ds, vf, own, forest, sk: int) -> dict:
    """One search_k: nbvec's plan and recall, nbvec vs raw annoy and the floor
    on nbvec's own forest (:func:`same_index`), and the independent forest at
    nbvec's recall (information)."""
    qs = ds.queries[: ctx.n_timed]
    get = forest.get_nns_by_vector
    indep_same_sk = recall_at_k([get(q, K, sk) for q in ds.queries.tolist()], ds.truth, K)
    with fixtures.forced_search_k(vf, sk):
        plan = fixtures.plans(vf, ds.queries[0])[0]
        recall = recall_at_k(_single_ids(vf, ds.queries, with_payload=False), ds.truth, K)
        indep_sk, indep_recall = _raw_at_equal_recall(forest, ds, recall, sk)
        indep = {"independent": lambda: [get(q.tolist(), K, indep_sk) for q in qs]}
        same = same_index(own.at(sk), qs, partial(vf.search, limit=K, with_payload=False), K,
                          ctx.repeat, extra=indep if indep_sk else None)
    return {"sk": sk, "plan": plan, "recall": recall, "same": same, "indep_same_sk": indep_same_sk,
            "indep_sk": indep_sk, "indep_recall": indep_recall}


def _annoy_rows(r: dict, label: str) -> list:
    """Two table rows of one search_k: single queries, then batches."""
    plan, same = r["plan"], r["same"]
    used = f"{plan.strategy} {plan.search_k}" if plan.strategy == "annoy" else plan.strategy
    single = same.timings[SINGLE]
    scan = "" if plan.strategy == "annoy" else f" (nbvec: {plan.strategy} scan, no target)"
    indep = [fmt_recall(r["indep_same_sk"]),
             r["indep_sk"] or f"> {32 * r['sk']} (recall {fmt_recall(r['indep_recall'])})",
             fmt_ratio(single.ratio("nbvec", "independent")) if r["indep_sk"] else "-"]
    rows = []
    for mode in (SINGLE, BATCHED):
        t = same.timings[mode]
        head = [label, used, fmt_recall(r["recall"])] if mode == SINGLE else ["", "", ""]
        rows.append([*head, mode, same.candidates(mode) + scan, fmt_time(t["raw"].median),
                     fmt_time(t["floor"].median), fmt_time(t["nbvec"].median),
                     fmt_ratio(same.ratio(mode, "floor")), fmt_ratio(same.ratio(mode, "nbvec")),
                     *(indep if mode == SINGLE else ["", "", ""])])
    return rows


def _annoy_targets(r: dict) -> list:
    """The index-vs-raw targets of one search_k, when nbvec took the annoy path."""
    if r["plan"].strategy != "annoy":
        return []
    return r["same"].targets("annoy path / raw annoy on the same forest", f"search_k {r['sk']}")


ANNOY_COLUMNS = ["nbvec search_k", "nbvec plan", "nbvec recall@10", "queries",
                 "candidates vs raw (timed queries)", "raw annoy, same forest / query",
                 "floor wrapper / query", "nbvec / query", "floor / raw", "nbvec / raw",
                 "independent forest: recall at this search_k",
                 "independent forest: search_k at nbvec's recall",
                 "nbvec / independent forest at equal recall"]


@case("annoy-vs-raw", "nbvec's annoy path vs raw annoy on the same forest, same segmentation")
def annoy_vs_raw(ctx):
    ds = fixtures.clustered(ctx)
    _, vf = fixtures.clustered_frame(ctx, "annoy")
    segs = fixtures.sealed_segments(vf)
    if not (len(segs) == 1 and segs[0]["indexed"] and segs[0]["points"] == ds.n):
        raise RuntimeError(f"expected one sealed, indexed segment of all {ds.n} points: {segs}")
    own = AnnoyOnNbvec(fixtures.indexed_segment(vf))
    forest = fixtures.clustered_forest(ctx)
    calibrated = segs[0]["vector.search_k"]
    grid = sorted(set(SEARCH_K_GRID) | ({calibrated} if calibrated else set()))
    rows, targets = [], []
    for sk in grid:
        r = _annoy_setting(ctx, ds, vf, own, forest, sk)
        rows += _annoy_rows(r, f"{sk}" + (" (calibrated)" if sk == calibrated else ""))
        targets += _annoy_targets(r)
    return Section(columns=ANNOY_COLUMNS, rows=rows, notes=_annoy_notes(ctx, ds, vf),
                   targets=targets)


def _annoy_notes(ctx, ds, vf) -> list:
    cfg, n = vf._config, min(ctx.n_timed, len(ds.queries))
    return [
        f"{ds.name} ({ds.shape}); one `upsert` of all points -> {_segments_note(vf)}",
        "nbvec: `vf.search(q, limit=10, with_payload=False)` (a batch: one call with a "
        "(100, d) array) with the segment index's calibrated default search_k temporarily "
        "set to the row's search_k (`bench.fixtures.forced_search_k`); the plan column is what "
        "the planner then chose",
        "raw annoy, same forest: `forest.get_nns_by_vector(q.tolist(), 10, search_k)` on the "
        "forest inside nbvec's segment (`seg.indexes[''].forest`), normalized queries; a batch "
        "is a loop of 100 such calls (annoy has no batch call)",
        "the targets compare nbvec with raw annoy on the *same* forest: the candidates are "
        "identical (checked for every timed query, single and batch calls: candidates column), "
        "so the recall is equal by construction and the ratio is nbvec's overhead alone; two "
        "independently built forests differ in quality by chance (compare the recall "
        "columns), which an equal-recall bisection between them counts as overhead",
        "floor wrapper: the least any Python wrapper returning exact results does - normalize "
        "the query (`q / sqrt(q @ q)`), the raw call, re-score the candidates from its own "
        "copy of the vectors (`V[rows] @ q`), argsort, map rows to ids "
        "(`seg.ids[rows].tolist()`); floor / raw is what any wrapper pays (information)",
        f"independent forest (information): `annoy.AnnoyIndex({ds.d}, 'angular')`, "
        f"{cfg.n_trees} trees, seed {cfg.seed}, n_jobs {cfg.n_jobs}, built apart over the same "
        "normalized vectors; its search_k at nbvec's recall is the smallest (bisection, 5% "
        f"steps) whose recall@10 is within {RECALL_SLACK} of nbvec's, timed in the same "
        "rounds as the single queries",
        f"recall over {len(ds.queries)} queries; time over {n} queries per round (single-query "
        f"calls, then the same queries in batches of 100), {same_index_rounds(ctx.repeat)} "
        "interleaved rounds; "
        "times are per query in both modes"]


# -- 3. default search -----------------------------------------------------------------------
def default_search(ctx, ds, vf, forest=None, targets: bool = False) -> Section:
    """What a user gets from ``vf.search(q, limit=10)``: recall and time
    against numpy brute force (and raw annoy at equal recall, given a forest)."""
    seg_info = fixtures.sealed_segments(vf)
    plan_list = fixtures.plans(vf, ds.queries[0])
    annoy_plans = [p for p in plan_list if p.strategy == "annoy"]
    sk = annoy_plans[0].search_k if len(annoy_plans) == 1 else None
    qs, xb = ds.queries[: ctx.n_timed], ds.unit_base
    runs = {"numpy": lambda: [numpy_topk(xb, q, K) for q in qs],
            "nbvec": lambda: [vf.search(q, limit=K) for q in qs]}
    recall = recall_at_k(_single_ids(vf, ds.queries), ds.truth, K)
    if forest is not None and sk:
        raw_sk, raw_recall = _raw_at_equal_recall(forest, ds, recall, sk)
        if raw_sk:
            get = forest.get_nns_by_vector
            runs["raw"] = lambda: [get(q.tolist(), K, raw_sk) for q in qs]
    t = interleave(runs, ctx.repeat, per=len(qs))
    ratio = t.ratio("nbvec", "numpy")
    rows = [["numpy brute force", "-", fmt_recall(1.0), fmt_time(t["numpy"].median), "1.00x"],
            ["nbvec `vf.search(q, limit=10)`", sk or "-", fmt_recall(recall),
             fmt_time(t["nbvec"].median), fmt_ratio(ratio)]]
    if "raw" in runs:
        rows.append(["raw annoy at equal recall", raw_sk, fmt_recall(raw_recall),
                     fmt_time(t["raw"].median), fmt_ratio(t.ratio("raw", "numpy"))])
    cal = [f"search_k {s.get('vector.search_k')}, predicted recall "
           f"{s.get('vector.calibrated_recall')}" for s in seg_info if s["indexed"]]
    notes = [f"{ds.name} ({ds.shape}, {ds.description})", _segments_note(vf),
             "calibration (`vf.info()`): " + ("; ".join(cal) or "no indexed segment"),
             "planner: " + fixtures.describe_plans(vf, ds.queries[0]),
             f"recall over {len(ds.queries)} queries, time over {len(qs)} single-query calls"]
    goals = []
    if targets:
        goals = [Target("default search recall@10", recall, ">=", 0.95, goal="default-search"),
                 Target("default search time / numpy brute force", ratio, "<=", 0.15, "x",
                        goal="default-search")]
    return Section(columns=["method", "search_k", "recall@10", "time / query", "vs numpy"],
                   rows=rows, notes=notes, targets=goals)


@case("default-clustered", "Default search on clustered data: recall and time vs brute force")
def default_clustered(ctx):
    _, vf = fixtures.clustered_frame(ctx)
    return default_search(ctx, fixtures.clustered(ctx), vf, fixtures.clustered_forest(ctx),
                          targets=True)


# -- 4. upsert throughput -------------------------------------------------------------------------
@case("upsert", "Upsert throughput")
def upsert(ctx):
    ds = fixtures.clustered(ctx)
    ids = np.arange(ds.n)
    ctx.drop("clustered-forest")  # the search cases are done with it

    def nbvec_batch():
        VectorFrame(ds.d, progress=False, indexing_threshold=0).upsert(ids, ds.base)

    batch = interleave({"numpy": lambda: ds.base.copy(), "nbvec": nbvec_batch},
                       ctx.repeat, per=ds.n)
    m = 1000
    ones = ds.base[:m]

    def numpy_rows():
        buf = np.empty((m, ds.d), np.float32)
        for i, v in enumerate(ones):
            buf[i] = v / np.linalg.norm(v)

    def nbvec_rows():
        vf = VectorFrame(ds.d, progress=False)
        for i, v in enumerate(ones):
            vf.upsert([i], v[None])

    single = interleave({"numpy": numpy_rows, "nbvec": nbvec_rows}, ctx.repeat, per=m)
    rows = [[f"one batch of {ds.n:,}", "`base.copy()`", fmt_rate(1 / batch["numpy"].median),
             fmt_rate(1 / batch["nbvec"].median), fmt_ratio(batch.ratio("nbvec", "numpy"))],
            [f"{m:,} one-point calls", "normalize + store a row", fmt_rate(1 / single["numpy"].median),
             fmt_rate(1 / single["nbvec"].median), fmt_ratio(single.ratio("nbvec", "numpy"))]]
    return Section(
        columns=["writes", "numpy reference", "numpy points/s", "nbvec points/s",
                 "nbvec time / numpy"],
        rows=rows,
        notes=[f"{ds.name} vectors, d = {ds.d}, integer ids, no payload",
               "batch: `VectorFrame(..., indexing_threshold=0).upsert(ids, base)` - the write "
               "path alone (validate, normalize, id map, append); the index build is the "
               "`build` case",
               f"one-point: a fresh frame, then `vf.upsert([i], v[None])` {m:,} times "
               "(the optimizer's check runs after each)"])


# -- 5. index build ---------------------------------------------------------------------------------
@case("build", "Index build: upsert to sealed + indexed + calibrated")
def build(ctx):
    ds = fixtures.clustered(ctx)
    opts = {**fixtures.frame_options(ctx), "index": "annoy"}  # the annoy build target
    cfg = VectorFrame(ds.d, **opts)._config
    reps = max(1, min(ctx.repeat, 3))  # ~10 s per round: 3 rounds keep the run short
    t = interleave({
        "nbvec": lambda: fixtures.build_frame(ds, **opts),
        "raw": lambda: annoy_forest(ds.unit_base, cfg.n_trees, cfg.seed, cfg.n_jobs),
    }, reps, warmup=0)
    total, stats = profiled(lambda: fixtures.build_frame(ds, **opts))
    upsert_all = cumulative(stats, "_collection.py", "upsert")
    optimize = cumulative(stats, "_collection.py", "optimize")
    forest_build = cumulative(stats, "~", "<method 'build' of 'annoy.Annoy' objects>")
    index_build = cumulative(stats, "_annoy_index.py", "build")
    calibrate = cumulative(stats, "_annoy_index.py", "calibrate")
    phases = (f"write path {fmt_time(upsert_all - optimize)}, feeding annoy (tolist + add_item) "
              f"{fmt_time(index_build - forest_build)}, annoy's build {fmt_time(forest_build)}, "
              f"calibration {fmt_time(calibrate)}, rest of optimize "
              f"{fmt_time(optimize - index_build - calibrate)}")
    nb = t["nbvec"].median
    rows = [[f"{ds.shape}", cfg.n_trees, fmt_time(t["raw"].median), fmt_time(nb),
             fmt_ratio(t.ratio("nbvec", "raw"))]]
    return Section(
        columns=["points", "n_trees", "raw annoy (add_item + build)", "nbvec upsert -> indexed",
                 "nbvec / raw"],
        rows=rows,
        notes=[f"{ds.name}; nbvec: a fresh `VectorFrame(..., index='annoy')` and one `upsert` of all points (the "
               "optimizer seals, builds and calibrates synchronously inside it); raw: "
               f"`annoy_forest` over normalized vectors, same n_trees, seed, n_jobs ({cfg.n_jobs})",
               f"{reps} interleaved rounds (each round builds both)",
               f"one profiled nbvec build ({fmt_time(total)} under cProfile): {phases}"],
        targets=[Target(f"build of {ds.shape} (upsert -> sealed, indexed, calibrated)",
                        nb, "<=", 10.0, "s", goal="annoy-build")])


# -- 6. small collection ------------------------------------------------------------------------------
@case("small-collection", "Per-query time on a 1k collection (the tutorial's size)")
def small_collection(ctx):
    ds = ctx.fixture("uniform-1k", lambda: datasets.uniform(1000))
    _, vf = fixtures.build_frame(ds, **fixtures.frame_options(ctx, large=False))
    qs, xb = ds.queries[: ctx.n_timed], ds.unit_base
    runs = {
        "numpy": lambda: [numpy_topk(xb, q, K) for q in qs],
        "nbvec": lambda: [vf.search(q, limit=K) for q in qs],
        "nbvec-nopayload": lambda: [vf.search(q, limit=K, with_payload=False) for q in qs],
        "engine": lambda: [_engine_one(vf, q) for q in qs],
    }
    labels = [("numpy brute force", "numpy"), ("nbvec `vf.search(q, limit=10)`", "nbvec"),
              ("nbvec, with_payload=False", "nbvec-nopayload"), ("engine only", "engine")]
    edge_note = edge_available()
    if edge_note is None:  # Qdrant keeps 1k points in a plain segment: a full scan
        edge = QdrantEdge()
        edge.build(ds.base)
        edge_qs = edge.prepare(qs)
        runs["edge"] = lambda: edge.run(None, edge_qs, K)
        labels.append(("Qdrant Edge `shard.query(QueryRequest(...))`", "edge"))
        edge_note = (f"Qdrant Edge: {edge.describe()}; recall@10 "
                     f"{fmt_recall(recall_at_k(edge.run(None, edge.prepare(ds.queries), K), ds.truth, K))}")
    t = interleave(runs, 3 * ctx.repeat, per=len(qs))
    recall = recall_at_k(_single_ids(vf, ds.queries), ds.truth, K)
    rows = [[label, fmt_time(t[key].median),
             "-" if key == "numpy" else fmt_time(t.excess(key, "numpy")),
             "1.00x" if key == "numpy" else fmt_ratio(t.ratio(key, "numpy"))]
            for label, key in labels]
    excess = t.excess("nbvec", "numpy")
    if "edge" in runs:
        rows.append(["nbvec / Qdrant Edge", "", fmt_time(t.excess("nbvec", "edge")),
                     fmt_ratio(t.ratio("nbvec", "edge"))])
    return Section(
        columns=["method", "time / query", "above numpy", "vs numpy"],
        rows=rows,
        notes=[f"{ds.name} ({ds.shape}, {ds.description}); {_segments_note(vf)}",
               "planner: " + fixtures.describe_plans(vf, ds.queries[0]),
               f"nbvec recall@10: {fmt_recall(recall)}; {len(qs)} single-query calls per round, "
               f"{3 * ctx.repeat} rounds", edge_note],
        targets=[Target("1k collection: nbvec time above numpy per query",
                        excess * 1e3, "<=", 0.1, "ms", goal="small-collection")])


# -- default search on other data -------------------------------------------------------------------------
@case("default-uniform", "Default search on uniform random data (the tutorial's kind)")
def default_uniform(ctx):
    ds = fixtures.uniform_large(ctx)
    ctx.log(f"  building the {ds.shape} uniform VectorFrame ...")
    _, vf = fixtures.build_frame(ds, **fixtures.frame_options(ctx))
    return default_search(ctx, ds, vf)


@case("default-digits", "Default search on scikit-learn digits (real, small)")
def default_digits(ctx):
    ds = datasets.digits()
    _, vf = fixtures.build_frame(ds, **fixtures.frame_options(ctx, large=False))
    return default_search(ctx, ds, vf)


@case("default-pydocs", "Default search on pydocs-minilm (real 49k x 384 text embeddings)")
def default_pydocs(ctx):
    ds = fixtures.pydocs(ctx)
    if ds is None:
        raise Skip(f"pydocs-minilm not found at {datasets.PYDOCS_DIR} (optional input)")
    seconds, vf = fixtures.pydocs_frame(ctx)
    section = default_search(ctx, ds, vf)
    section.notes.insert(1, f"build (upsert -> indexed, one run): {fmt_time(seconds)}; "
                         "recall against the provided ground_truth_top100.npy"
                         + (" (recomputed over the quick subset)" if ctx.quick else ""))
    return section
