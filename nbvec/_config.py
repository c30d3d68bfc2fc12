"""Collection configuration: vector kinds and the engine's tunables, validated
once from a table of constraints (units as Qdrant's: kilobytes of vectors).

>>> cfg = EngineConfig.from_kwargs(indexing_threshold=1000)
>>> cfg.indexing_threshold, cfg.full_scan_threshold
(1000, 10000)
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from ._distance import Metric, metric_for
from ._errors import InvalidRequest

__all__ = ["VectorSpec", "EngineConfig", "vector_specs", "DEFAULT_INDEX"]

# HNSW by default: on real 384-d text embeddings it answers at recall@10 0.97 in
# ~0.07x brute-force time, where annoy cannot beat brute force (bench/RESULTS.md).
DEFAULT_INDEX = "hnsw"


@dataclass(frozen=True)
class VectorSpec:
    """One vector kind of a collection: its name ("" = unnamed), size, metric."""

    name: str
    size: int
    metric: Metric
    on_disk: bool | None = None

    @property
    def distance(self):
        return self.metric.distance


def vector_specs(size=None, distance="Cosine", vectors=None) -> dict[str, VectorSpec]:
    """The vector kinds from ``size``/``distance`` or a ``{name: VectorParams}`` map."""
    from .models import VectorParams, to_nbvec

    if vectors is not None:
        if size is not None:
            raise InvalidRequest("give either size/distance (one vector) or vectors={...}, not both")
        if not isinstance(vectors, dict):
            vectors = {"": vectors}
        if not vectors:
            raise InvalidRequest("vectors={...} needs at least one named vector")
        out = {}
        for name, params in vectors.items():
            if not isinstance(name, str):
                raise InvalidRequest(f"vector names are strings, got {name!r}")
            p = to_nbvec(params, VectorParams, f"vectors[{name!r}]")
            out[name] = VectorSpec(name, p.size, metric_for(p.distance), p.on_disk)
        return out
    if size is None:
        raise InvalidRequest("VectorFrame needs the vector size, e.g. VectorFrame(384) "
                             "or VectorFrame(vectors={'image': VectorParams(...)})")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise InvalidRequest(f"vector size must be a positive integer, got {size!r}")
    return {"": VectorSpec("", size, metric_for(distance))}


def _index_kinds():
    from ._indexes import INDEXES

    return INDEXES


def _positive_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _nonneg_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _fraction(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v <= 1


@dataclass(frozen=True)
class EngineConfig:
    """Tunables of one collection. Thresholds are kilobytes of vector data
    (1 KB = one 256-d float32 vector), as in Qdrant."""

    indexing_threshold: int = 20_000
    full_scan_threshold: int = 10_000
    max_segment_size: int = 200_000
    deleted_threshold: float = 0.2
    vacuum_min_vector_number: int = 1000
    index: str = DEFAULT_INDEX
    n_trees: int = 50
    seed: int = 0
    target_recall: float = 0.95
    recall_margin: float | None = None  # None: the index's own (0.02 for annoy and HNSW)
    calibration_queries: int = 200
    n_jobs: int = -1
    progress: bool = True
    hnsw_m: int = 16
    hnsw_ef_construct: int = 100
    extra: dict = field(default_factory=dict, compare=False)

    _RULES = {
        "indexing_threshold": (_nonneg_int, "an integer >= 0 (KB; 0 disables indexing)"),
        "full_scan_threshold": (_nonneg_int, "an integer >= 0 (KB)"),
        "max_segment_size": (_positive_int, "a positive integer (KB)"),
        "deleted_threshold": (_fraction, "a fraction in (0, 1]"),
        "vacuum_min_vector_number": (_nonneg_int, "an integer >= 0"),
        "index": (lambda v: isinstance(v, str) and v in _index_kinds(),
                  "one of 'annoy', 'hnsw'"),
        "n_trees": (_positive_int, "a positive integer"),
        "seed": (_nonneg_int, "an integer >= 0"),
        "target_recall": (_fraction, "a fraction in (0, 1]"),
        "recall_margin": (lambda v: v is None or (isinstance(v, (int, float))
                                                  and not isinstance(v, bool) and 0 <= v < 1),
                          "None (the index's own) or a number in [0, 1)"),
        "calibration_queries": (_positive_int, "a positive integer"),
        "n_jobs": (lambda v: isinstance(v, int) and v != 0, "a non-zero integer (-1: all cores)"),
        "progress": (lambda v: isinstance(v, bool), "True or False"),
        "hnsw_m": (lambda v: _positive_int(v) and v >= 2, "an integer >= 2 (links per node)"),
        "hnsw_ef_construct": (_positive_int, "a positive integer"),
    }

    @classmethod
    def from_kwargs(cls, **kwargs) -> EngineConfig:
        """Validated config; unknown keys are an error listing the known ones."""
        known = {f.name for f in fields(cls)} - {"extra"}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise InvalidRequest(
                f"unknown VectorFrame option(s) {unknown}: use one of {sorted(known)}"
            )
        for key, value in kwargs.items():
            check, expected = cls._RULES[key]
            if not check(value):
                raise InvalidRequest(f"{key}={value!r} is invalid: expected {expected}")
        return cls(**kwargs)

    def updated(self, **kwargs) -> EngineConfig:
        """A copy with some options changed (validated)."""
        merged = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        merged.update({k: v for k, v in kwargs.items() if v is not None})
        return replace(self, **EngineConfig.from_kwargs(**merged).__dict__)
