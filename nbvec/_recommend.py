"""Recommendation queries: examples (point ids or vectors) turned into a query.

- ``average_vector`` (seed 000): avg(positive) + (avg(positive) - avg(negative)),
  searched like any vector (so it uses the segment indexes);
- ``best_score``: each point scores its best similarity to a positive example if
  that beats its best to a negative one, squashed by a scaled sigmoid into
  (0.5, 1); otherwise minus the squashed best negative;
- ``sum_scores``: sum of similarities to positives minus sum to negatives.

The last two compare every candidate with every example, so they run as one
exact pass (one matrix product per example set) over the allowed points. Their
similarities are Qdrant's internal ones: dot products for Cosine (normalized)
and Dot, minus the squared distance for Euclid, minus the L1 distance for
Manhattan; their scores are always higher-is-better.

>>> import numpy as np
>>> average_vector(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])).tolist()
[2.0, -1.0]
"""

from __future__ import annotations

import numpy as np

from ._distance import Metric, normalize_rows
from ._errors import InvalidRequest
from .models import Distance

__all__ = ["average_vector", "example_scores", "check_examples", "split_examples", "STRATEGIES"]

STRATEGIES = ("average_vector", "best_score", "sum_scores")


def average_vector(positive: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """avg(positive) + (avg(positive) - avg(negative)); avg(positive) without negatives."""
    if len(positive) == 0:
        raise InvalidRequest("average_vector recommendation needs at least one positive example")
    avg = positive.mean(axis=0)
    if len(negative) == 0:
        return avg
    return avg + (avg - negative.mean(axis=0))


def _similarities(metric: Metric, examples: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """(E, n) internal similarities, higher is better."""
    d = metric.distance
    if d is Distance.COSINE:
        return normalize_rows(examples) @ vectors.T
    if d is Distance.DOT:
        return examples @ vectors.T
    if d is Distance.EUCLID:
        sq = np.einsum("ij,ij->i", vectors, vectors)
        e2 = np.einsum("ij,ij->i", examples, examples)
        return -((e2[:, None] + sq[None, :]) - 2.0 * (examples @ vectors.T))
    return -metric.scores(examples, vectors)


def _scaled_sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (x / (1.0 + np.abs(x)) + 1.0)


def example_scores(metric: Metric, strategy: str, positive: np.ndarray, negative: np.ndarray,
                   vectors: np.ndarray) -> np.ndarray:
    """Scores of ``vectors`` (n, d) for ``best_score`` or ``sum_scores``."""
    n = len(vectors)
    if strategy == "best_score":
        best_pos = (_similarities(metric, positive, vectors).max(0) if len(positive)
                    else np.full(n, -np.inf, dtype=np.float32))
        best_neg = (_similarities(metric, negative, vectors).max(0) if len(negative)
                    else np.full(n, -np.inf, dtype=np.float32))
        with np.errstate(invalid="ignore"):
            return np.where(best_pos > best_neg, _scaled_sigmoid(best_pos),
                            -_scaled_sigmoid(best_neg)).astype(np.float32)
    if strategy == "sum_scores":
        pos = _similarities(metric, positive, vectors).sum(0) if len(positive) else 0.0
        neg = _similarities(metric, negative, vectors).sum(0) if len(negative) else 0.0
        return np.asarray(pos - neg, dtype=np.float32) * np.ones(n, dtype=np.float32)
    raise InvalidRequest(f"unknown recommend strategy {strategy!r}: use one of {STRATEGIES}")


def split_examples(examples) -> tuple[list, list]:
    """(point ids, raw vectors) among ``examples``, keeping their kinds apart."""
    import uuid
    from numbers import Integral

    ids, vectors = [], []
    for ex in examples if examples is not None else ():
        if isinstance(ex, bool):
            raise InvalidRequest(f"recommend example {ex!r} is neither a point id nor a vector")
        if isinstance(ex, (Integral, str, uuid.UUID)):
            ids.append(ex)
        else:
            vectors.append(ex)
    return ids, vectors


def check_examples(strategy: str, positive: np.ndarray, negative: np.ndarray) -> None:
    """Refuse a strategy nbvec does not know and example sets it cannot use."""
    if strategy not in STRATEGIES:
        raise InvalidRequest(f"unknown recommend strategy {strategy!r}: use one of "
                             f"{list(STRATEGIES)}")
    if strategy == "average_vector" and not len(positive):
        raise InvalidRequest("average_vector recommendation needs at least one positive "
                             "example; use strategy='best_score' for negatives only")
    if not len(positive) and not len(negative):
        raise InvalidRequest("recommend needs positive and/or negative examples")
