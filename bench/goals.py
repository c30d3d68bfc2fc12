"""Issue 8's targets, each met or short: the cases tag their ``Target``s with
one of the keys below, and a goal is met when every target tagged with it
in this run is; the deciding figure is the worst of them (relative to its
limit).

>>> from bench.runner import Target
>>> ts = [Target("a", 1.2, "<=", 1.5, "x", goal="exact"),
...       Target("b", 1.6, "<=", 1.5, "x", goal="exact")]
>>> g = summarize(ts)[0]
>>> g["key"], g["verdict"], g["worst"].name, g["count"]
('exact', 'short', 'b', '1 of 2 met')
"""

from __future__ import annotations

__all__ = ["GOALS", "summarize", "lines"]

GOALS = {
    "exact": "exact search <= 1.5x numpy (100k x 100)",
    "default-search": "default search: recall@10 >= 0.95 and <= 0.15x numpy (100k clustered)",
    "index-vs-raw": "nbvec's index path <= 1.3x the raw library at equal recall (the same "
                    "index: identical candidates), single queries and batches of 100",
    "real-hnsw": "real 384-d embeddings: default HNSW search at recall@10 >= 0.95 <= 0.05x "
                 "exact brute force (numpy, one thread, as the raw libraries)",
    "filtered-recall": "filtered recall@10 >= 0.95 at every selectivity, independent and "
                       "cluster-selecting",
    "filtered-vs-qdrant": "filtered search >= 20x faster than qdrant-client local mode",
    "shared-filter-batch": "shared-filter batch (1% filter) >= 5x faster than singles",
    "small-collection": "per-query time on 1k points <= 0.1 ms above numpy's",
    "annoy-build": "100k x 100 annoy build <= 10 s",
}


def _slack(t) -> float:
    """How far inside its limit a target is (negative: short), relative."""
    if not t.limit:
        return t.limit - t.value if t.op == "<=" else t.value - t.limit
    rel = (t.limit - t.value) / abs(t.limit)
    return rel if t.op == "<=" else -rel


def summarize(targets) -> list[dict]:
    """One entry per goal in ``GOALS`` order: key, statement, verdict ("met",
    "short" or "not measured"), the worst target, "n of m met"."""
    out = []
    for key, text in GOALS.items():
        mine = [t for t in targets if t.goal == key]
        if not mine:
            out.append({"key": key, "goal": text, "verdict": "not measured", "worst": None,
                        "count": "0 targets in this run"})
            continue
        met = sum(t.met for t in mine)
        out.append({"key": key, "goal": text, "verdict": "met" if met == len(mine) else "short",
                    "worst": min(mine, key=_slack), "count": f"{met} of {len(mine)} met"})
    return out


def lines(targets) -> list[str]:
    """The summary as printable lines."""
    return [f"{g['verdict'].upper():>12}  {g['goal']} ({g['count']}"
            + (f"; worst: {g['worst']}" if g["worst"] is not None else "") + ")"
            for g in summarize(targets)]
