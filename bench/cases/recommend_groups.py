"""Cases of recommendations and grouped search (issue: "recommend and grouped
search against the same calls in qdrant-client's local mode (ratio; target
>= 20x faster), and grouped search against a plain search of limit *
group_size points (ratio)").

Data: the clustered set with the payload of ``bench.fixtures.clustered_payload``
(``doc``: ~1,000 groups drawn independently of the vectors; ``topic``: 20
groups of whole clusters). Where annoy answers (average_vector, grouped
search), recall is measured against exact computations written here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import fixtures
from ..baselines import numpy_topk_batch
from ..report import fmt_ratio, fmt_recall, fmt_time
from ..runner import Target, interleave
from . import Section, case
from .filters import KeyBelow, need_qdrant, per_query_rounds, qdrant_caveat, recall

K = 10
STRATEGIES = ("average_vector", "best_score", "sum_scores")
RECOMMEND_CALLS = 5  # timed qdrant-client calls per strategy (~0.4 s each at 100k)
GROUP_CALLS = 3  # timed qdrant-client calls per grouping (~3.5 s each at 100k)
LIMIT, GROUP_SIZE = 10, 3
GROUP_KEYS = {"doc": ("~1,000 groups", "independent of the vectors"),
              "topic": ("20 groups", "each of 50 whole clusters (cluster mod 20)")}
GROUP_FILTER = KeyBelow("random", 0.1)  # r < 100: 10% of the points, scattered


# -- recommend -------------------------------------------------------------------------------
def examples(unit_base: np.ndarray, queries: np.ndarray) -> list[tuple[list, list]]:
    """Per query: positive = its 2 nearest points, negative = the nearest point
    of the next query (another cluster, mostly)."""
    top = numpy_topk_batch(unit_base, queries, 3)
    out = []
    for i in range(len(queries)):
        pos = top[i, :2].tolist()
        other = top[(i + 1) % len(queries)].tolist()
        out.append((pos, [next(x for x in other if x not in pos)]))
    return out


def average_vector_truth(unit_base: np.ndarray, pairs) -> list[list]:
    """Exact top-10 of avg(pos) + (avg(pos) - avg(neg)) over the stored
    (normalized) vectors, the examples themselves excluded."""
    out = []
    for pos, neg in pairs:
        avg = unit_base[pos].mean(0)
        q = avg + (avg - unit_base[neg].mean(0))
        s = unit_base @ (q / np.linalg.norm(q))
        s[pos + neg] = -np.inf
        top = np.argpartition(-s, K)[:K]
        out.append(top[np.argsort(-s[top])].tolist())
    return out


def _qdrant_recommend(qc, strategy):
    from qdrant_client import models as qm

    def call(example):
        pos, neg = example
        query = qm.RecommendQuery(recommend=qm.RecommendInput(
            positive=pos, negative=neg, strategy=qm.RecommendStrategy(strategy)))
        return [p.id for p in qc.query_points(fixtures.QDRANT_COLLECTION, query=query,
                                              limit=K).points]

    return call


def overlap(a, b) -> float:
    """Mean share of common ids between paired result lists."""
    return float(np.mean([len(set(x) & set(y)) / max(len(y), 1) for x, y in zip(a, b)]))


@case("recommend", "Recommend (3 strategies) vs qdrant-client's local mode")
def recommend(ctx):
    need_qdrant()
    ds = fixtures.clustered(ctx)
    _, vf = fixtures.payload_frame(ctx)
    load_s, qc = fixtures.qdrant_local(ctx)
    qf, n_q = fixtures.qdrant_frame(ctx), fixtures.qdrant_n(ctx)
    qs = ds.queries[: ctx.n_timed]
    pairs = examples(ds.unit_base, qs)
    few = examples(ds.unit_base[:n_q], ds.queries[: RECOMMEND_CALLS + 1])
    truth = average_vector_truth(ds.unit_base, pairs)
    rows, targets = [], []
    for strategy in STRATEGIES:
        found = [[p.id for p in vf.recommend(pos, neg, strategy=strategy, limit=K,
                                              with_payload=False)] for pos, neg in pairs]
        got = fmt_recall(recall(found, truth)) if strategy == "average_vector" else "exact pass"
        t = interleave({
            "recommend": lambda s=strategy: [vf.recommend(pos, neg, strategy=s, limit=K)
                                             for pos, neg in pairs],
            "search": lambda: [vf.search(q, limit=K) for q in qs],
        }, ctx.repeat, per=len(qs))
        answers: dict = {}
        qt = per_query_rounds({
            "nbvec": lambda ex, s=strategy: [p.id for p in qf.recommend(
                ex[0], ex[1], strategy=s, limit=K)],
            "qdrant": _qdrant_recommend(qc, strategy),
        }, few, answers)
        speedup = qt.ratio("qdrant", "nbvec")
        rows.append([strategy, got, fmt_time(t["recommend"].median),
                     fmt_time(t["search"].median), fmt_ratio(t.ratio("recommend", "search")),
                     fmt_time(qt["nbvec"].median), fmt_time(qt["qdrant"].median),
                     f"{speedup:,.0f}x", fmt_recall(overlap(answers["nbvec"], answers["qdrant"]))])
        targets.append(Target(f"recommend {strategy}: qdrant-client local / nbvec", speedup,
                              ">=", 20, "x"))
    return Section(
        columns=["strategy", "recall@10 vs exact", "nbvec / call", "plain search / call",
                 "recommend / search", f"nbvec ({RECOMMEND_CALLS} calls)",
                 f"qdrant local ({RECOMMEND_CALLS} calls)", "nbvec speed-up",
                 "same top-10 as qdrant"],
        rows=rows,
        notes=[f"{ds.name} ({ds.shape}, {ds.description}); frame with payload",
               "`vf.recommend(positive=[a, b], negative=[c], strategy=..., limit=10)` (with "
               "payload): a, b the 2 nearest points of a query, c the nearest point of the next "
               "query; average_vector searches avg(pos) + (avg(pos) - avg(neg)) through the "
               "planner (annoy), best_score and sum_scores are one exact pass",
               f"recall@10 of average_vector over {len(qs)} calls against numpy exact search "
               "of the same vector over the stored vectors, examples excluded; plain search: "
               "`vf.search(q, limit=10)` of the query itself (for scale)",
               f"qdrant-client `QdrantClient(':memory:')` holding the first {n_q:,} points "
               f"(loaded in {fmt_time(load_s)}): `query_points(query=RecommendQuery("
               "recommend=RecommendInput(positive, negative, strategy)), limit=10)` vs nbvec's "
               "`recommend` " + ("on the same frame" if n_q == ds.n else
                                 f"on a {n_q:,}-point frame of the same points")
               + f"; {RECOMMEND_CALLS} calls each, paired by examples after one warm-up; "
               "examples chosen among those points" + qdrant_caveat(ctx)],
        targets=targets)


# -- grouped search ----------------------------------------------------------------------------
def exact_groups(unit_rows: np.ndarray, ids: np.ndarray, values: np.ndarray, query: np.ndarray,
                 limit: int = LIMIT, size: int = GROUP_SIZE) -> dict:
    """The exact grouped answer over the given (allowed) points: every point
    scored, hits ordered by score, the ``size`` best of each group, the
    ``limit`` groups with the best first hits. ``{group value: [ids]}``."""
    s = unit_rows @ (query / np.linalg.norm(query))
    order = np.argsort(-s, kind="stable")
    g = values[order]
    within = pd.Series(g).groupby(g, sort=False).cumcount().to_numpy()
    best = g[within == 0][:limit]
    keep = (within < size) & np.isin(g, best)
    out = {v: [] for v in best.tolist()}
    for v, i in zip(g[keep].tolist(), ids[order[keep]].tolist()):
        out[v].append(i)
    return out


def group_recall(found, truth) -> tuple[float, float]:
    """(group recall, hit recall) of found GroupResults against exact answers."""
    g_hits = g_all = h_hits = h_all = 0
    for groups, want in zip(found, truth):
        got = {g.id: {h.id for h in g.hits} for g in groups}
        g_hits += len(set(got) & set(want))
        g_all += len(want)
        have = set().union(*got.values()) if got else set()
        every = {i for members in want.values() for i in members}
        h_hits += len(have & every)
        h_all += len(every)
    return g_hits / max(g_all, 1), h_hits / max(h_all, 1)


def _truths(ds, payload, key, flt, queries, n=None):
    rows = np.arange(ds.n if n is None else n) if flt is None else GROUP_FILTER.rows(payload, n)
    xb, values = ds.unit_base[rows], payload[key].to_numpy()[rows]
    return [exact_groups(xb, rows, values, q) for q in queries]


@case("groups", "Grouped search vs plain search and qdrant-client's local mode")
def groups(ctx):
    need_qdrant()
    ds = fixtures.clustered(ctx)
    payload = fixtures.clustered_payload(ctx)
    _, vf = fixtures.payload_frame(ctx)
    load_s, qc = fixtures.qdrant_local(ctx)
    qf, n_q = fixtures.qdrant_frame(ctx), fixtures.qdrant_n(ctx)
    n_calls = max(ctx.n_timed // 4, 10)
    qs, checked = ds.queries[:n_calls], ds.queries[: 2 * n_calls]
    few = ds.queries[: GROUP_CALLS + 1]
    rows, targets = [], []
    for key, flt_def in [(k, f) for k in GROUP_KEYS for f in (None, GROUP_FILTER)]:
        flt = flt_def.model() if flt_def else None
        q_flt = flt_def.qdrant() if flt_def else None
        args = dict(limit=LIMIT, group_size=GROUP_SIZE, filter=flt)
        with fixtures.group_passes(vf) as passes:
            found = [vf.search_groups(q, key, with_payload=False, **args) for q in checked]
        g_rec, h_rec = group_recall(found, _truths(ds, payload, key, flt_def, checked))
        t = interleave({
            "groups": lambda key=key, args=args: [vf.search_groups(q, key, **args) for q in qs],
            "plain": lambda flt=flt: [vf.search(q, limit=LIMIT * GROUP_SIZE, filter=flt)
                                      for q in qs],
        }, ctx.repeat, per=len(qs))
        answers: dict = {}
        qt = per_query_rounds({
            "nbvec": lambda q, key=key, args=args: qf.search_groups(q, key, **args),
            "qdrant": lambda q, key=key, q_flt=q_flt: qc.query_points_groups(
                fixtures.QDRANT_COLLECTION, query=q.tolist(), group_by=key, limit=LIMIT,
                group_size=GROUP_SIZE, query_filter=q_flt).groups,
        }, few, answers)
        q_truth = _truths(ds, payload, key, flt_def, few, n_q)
        speedup = qt.ratio("qdrant", "nbvec")
        label = f"`{key}` ({GROUP_KEYS[key][0]})"
        rows.append([label, flt_def.label() if flt_def else "-",
                     f"{fmt_recall(g_rec)} / {fmt_recall(h_rec)}",
                     f"{passes['searches'] / len(checked):.1f}, "
                     f"{passes['exact'] / len(checked):.0%}",
                     fmt_time(t["groups"].median), fmt_time(t["plain"].median),
                     fmt_ratio(t.ratio("groups", "plain")), fmt_time(qt["nbvec"].median),
                     fmt_time(qt["qdrant"].median), f"{speedup:,.0f}x",
                     " / ".join(fmt_recall(group_recall(answers[n], q_truth)[1])
                                for n in ("qdrant", "nbvec"))])
        targets.append(Target(f"groups by {key}{' filtered' if flt_def else ''}: "
                              "qdrant-client local / nbvec", speedup, ">=", 20, "x"))
    ctx.drop("qdrant-local", "qdrant-frame")  # the last case that compares with qdrant-client
    return Section(
        columns=["group_by", "filter", "recall groups / hits", "searches per call, exact passes",
                 "nbvec groups / call", f"plain search limit {LIMIT * GROUP_SIZE}",
                 "groups / plain", f"nbvec ({GROUP_CALLS} calls)",
                 f"qdrant local ({GROUP_CALLS} calls)", "nbvec speed-up",
                 "hit recall qdrant / nbvec (those calls)"],
        rows=rows,
        notes=[f"{ds.name} ({ds.shape}, {ds.description}); "
               + "; ".join(f"`{k}`: {', '.join(v)}" for k, v in GROUP_KEYS.items())
               + "; filter `r < 100` keeps 10% of the points at random",
               f"`vf.search_groups(q, key, limit={LIMIT}, group_size={GROUP_SIZE}, filter=...)` "
               f"(with payload) vs `vf.search(q, limit={LIMIT * GROUP_SIZE}, filter=...)`; "
               f"times over {len(qs)} calls x {ctx.repeat} rounds",
               f"recall over {len(checked)} calls against an exact grouped answer (numpy "
               "scores of every allowed point, pandas rank within group): the share of the "
               "exact groups found, and of the exact hits",
               "searches per call: planner searches of the fetch-more loop (limit x group_size "
               "x 2, then x4, up to 3 rounds); exact passes: share of calls that ended in one "
               "exact grouped pass over every allowed point (counted by wrapping "
               "`nbvec._groups._candidates_exact`)",
               f"qdrant-client `QdrantClient(':memory:')` holding the first {n_q:,} points "
               f"(loaded in {fmt_time(load_s)}): `query_points_groups(query=q.tolist(), "
               "group_by=key, limit, group_size, query_filter)` vs nbvec's `search_groups` "
               + ("on the same frame" if n_q == ds.n else
                  f"on a {n_q:,}-point frame of the same points")
               + f"; {GROUP_CALLS} calls each after one warm-up, paired by query; hit recall "
               "of both against the exact grouped answer over those points" + qdrant_caveat(ctx)],
        targets=targets)
