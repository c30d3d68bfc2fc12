"""The case registry. A case is a function ``fn(ctx) -> Section`` registered
with :func:`case`; its module is listed in ``MODULES`` (run order = this
order, then definition order within a module).

Adding a case (e.g. for a new issue)::

    # bench/cases/filters.py
    from .. import fixtures
    from ..runner import Target, interleave
    from . import Section, case

    @case("filtered-search", "Filtered search vs numpy mask + brute force")
    def filtered_search(ctx):
        ds = fixtures.clustered(ctx)            # shared, built once per run
        t = interleave({"nbvec": ..., "numpy": ...}, ctx.repeat, per=ctx.n_timed)
        return Section(columns=[...], rows=[[...]],
                       targets=[Target("nbvec / numpy", t.ratio("nbvec", "numpy"), "<=", 1.5, "x")])

and add ``"filters"`` to ``MODULES``. Raise :class:`Skip` (with the reason)
when an input is absent.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Case", "Context", "Section", "Skip", "case", "all_cases", "MODULES"]

MODULES = ("core", "filters", "recommend_groups", "indexes", "memory", "storage")


class Skip(Exception):
    """Raised by a case whose input is absent; the message says what and why."""


@dataclass
class Section:
    """What a case reports: one table, notes above it, targets below it."""

    columns: list
    rows: list
    notes: list = field(default_factory=list)
    targets: list = field(default_factory=list)
    data: dict = field(default_factory=dict)  # figures for the plots (bench/plots.py)


@dataclass
class Case:
    name: str
    title: str
    fn: Callable
    module: str


@dataclass
class Context:
    """Run-wide settings and a memo of expensive fixtures (data sets, built
    frames) shared between cases of one run."""

    quick: bool = False
    repeat: int = 7
    n_timed: int = 200  # queries per timed call for per-query figures
    cores: int = field(default_factory=lambda: len(os.sched_getaffinity(0)))
    log: Callable = print
    _memo: dict = field(default_factory=dict)

    def fixture(self, key: str, make: Callable[[], object]):
        """``make()`` once per run, under ``key``."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def drop(self, *keys: str) -> None:
        """Forget fixtures no later case needs (frees memory)."""
        for k in keys:
            self._memo.pop(k, None)


_CASES: dict[str, Case] = {}


def case(name: str, title: str):
    """Register ``fn(ctx) -> Section`` as case ``name``."""

    def register(fn):
        if name in _CASES:
            raise ValueError(f"bench case {name!r} is defined twice")
        _CASES[name] = Case(name, title, fn, fn.__module__)
        return fn

    return register


def all_cases() -> dict[str, Case]:
    """Every registered case, in run order."""
    for mod in MODULES:
        importlib.import_module(f"{__name__}.{mod}")
    return dict(_CASES)
