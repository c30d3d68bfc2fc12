"""The segment index kinds, by name: what ``index=`` chooses, what the
optimizer builds, and what a stored segment's metadata ("kind") loads back.

Every kind has the same interface: ``create(vectors, rows, metric, config,
tick)`` (build + calibrate), ``query(queries, n, effort) -> (m, n) rows``,
``query_scored(queries, n, effort) -> (rows, scores or None)`` (the index's
own scores where they are as precise as a re-score),
``effort_for(k, hnsw_ef)``, ``cost(costs, effort, k, d)``, ``calibration``,
``n_items``, ``describe()``, ``size_bytes()``, ``save_files`` / ``load_files``.

>>> from nbvec._distance import metric_for
>>> index_kind("hnsw", metric_for("Cosine")), index_kind("hnsw", metric_for("Manhattan"))
('hnsw', 'annoy')
"""

from __future__ import annotations

from ._annoy_index import AnnoySegmentIndex
from ._errors import InvalidRequest
from ._hnsw_index import HnswSegmentIndex

__all__ = ["INDEXES", "index_class", "index_kind"]

INDEXES = {"annoy": AnnoySegmentIndex, "hnsw": HnswSegmentIndex}


def index_class(kind: str):
    """The index class of ``kind``; InvalidRequest names the kinds there are."""
    try:
        return INDEXES[kind]
    except (KeyError, TypeError):
        raise InvalidRequest(f"unknown index {kind!r}: use one of "
                             + ", ".join(repr(k) for k in INDEXES)) from None


def index_kind(kind: str, metric) -> str:
    """The kind built for a vector of ``metric`` when ``kind`` is asked for:
    itself, or annoy where the kind lacks the distance (HNSW has no Manhattan)."""
    return kind if index_class(kind).supports(metric) else "annoy"
