"""``explain()``: how a search was answered, segment by segment — the plan
the planner chose, why, the filter's cardinality, the points scored exactly,
the hits each segment contributed, and the time it took.

>>> import numpy as np
>>> from nbvec import VectorFrame
>>> vf = VectorFrame(2, "Dot", progress=False)
>>> _ = vf.upsert([1, 2], np.eye(2), payload=[{"a": 1}, {"a": 2}])
>>> plan = vf.explain([1, 0], where="a == 2")
>>> plan.to_pandas()[["strategy", "cardinality", "returned"]].values.tolist()
[['exact', 1, 1]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._html import points_table

__all__ = ["Explanation", "explain_outcome"]


class Explanation(list):
    """One dict per segment: uid, points, indexed, index (its kind), strategy
    (exact, skip, partition or the index kind), reason, cardinality (points
    the filter allows), scored (query-point pairs scored exactly), fallbacks,
    returned (hits in the final result), search_k (annoy) or ef (HNSW),
    predicted_recall (the calibration's, at that effort), time_ms."""

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(list(self))

    def _repr_html_(self) -> str:
        rows = [{"id": r["segment"], "payload": {k: v for k, v in r.items() if k != "segment"}}
                for r in self]
        html = points_table(rows, f"plan over {len(self)} segment(s)")
        return html.replace("nbvec-results", "nbvec-explain")


def explain_outcome(outcome) -> Explanation:
    """The Explanation of a timed search outcome."""
    hits = outcome.hits
    returned = np.bincount(hits.seg[hits.seg >= 0].ravel(), minlength=len(outcome.segments))
    out = Explanation()
    for pos, (seg, plan) in enumerate(zip(outcome.segments, outcome.plans)):
        index = seg.indexes.get(outcome.name)
        used = index is not None and plan.strategy == index.kind
        if used and index.calibration is not None:
            plan.predicted_recall = index.calibration.predicted_recall(plan.search_k)
        out.append({
            "segment": seg.uid,
            "points": seg.live_count,
            "indexed": bool(seg.indexes),
            "index": index.kind if index is not None else None,
            "strategy": plan.strategy,
            "reason": plan.reason,
            "cardinality": plan.candidates,
            "scored": plan.scored,
            "fallbacks": plan.fallbacks,
            "returned": int(returned[pos]),
            "search_k": plan.search_k if used and index.effort_name == "search_k" else None,
            "ef": plan.search_k if used and index.effort_name == "ef" else None,
            "predicted_recall": (round(plan.predicted_recall, 3)
                                 if plan.predicted_recall is not None else None),
            "time_ms": round(plan.seconds * 1000, 3) if plan.seconds is not None else None,
        })
    return out
