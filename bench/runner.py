"""Timing, recall and targets: the measuring rules every case follows.

- Contestants run *interleaved* in one process (A, B, C; C, A, B; ...), so a noisy
  neighbour on this shared 2-core machine slows both sides of a round alike.
  Each round runs them in a new shuffled order (seeded: the same in every
  run): whoever runs right after a contestant sweeping a large array finds
  the caches cold, and in a fixed order that was always the same one (on
  pydocs-minilm, hnswlib at its default ef 10 timed 40% slower than at ef
  10 set explicitly, the first merely running right after numpy's brute
  force in every round).
- Every figure is a *median* over rounds; a comparison is the median of the
  per-round ratios A_i / B_i (each pair ran in the same round), never a ratio of
  timings taken at different moments.
- Each contestant runs once untimed first (warm-up: caches, lazy imports).

>>> t = interleave({"a": lambda: None, "b": lambda: None}, repeat=3)
>>> sorted(t.names), len(t["a"].samples)
(['a', 'b'], 3)
>>> recall_at_k([[1, 2, 3]], np.array([[3, 2, 9]]), 3)
0.6666666666666666
>>> str(Target("x", 1.2, "<=", 1.5, "x"))
'x: 1.20x (target <= 1.50x): met'
"""

from __future__ import annotations

import cProfile
import os
import pstats
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Timing", "Timings", "interleave", "time_once", "profiled", "cumulative",
           "recall_at_k", "Target", "OtherLoad", "wait_until_quiet"]


@dataclass
class Timing:
    """Seconds per unit (per call, or per query when ``per`` was given)."""

    samples: list = field(default_factory=list)

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median (noise indicator)."""
        q1, q3 = np.percentile(self.samples, [25, 75])
        return float((q3 - q1) / self.median) if self.median else 0.0


class Timings:
    """Interleaved timings of named contestants, compared round by round."""

    def __init__(self, names: Sequence[str]):
        self.names = list(names)
        self._t = {n: Timing() for n in self.names}

    def __getitem__(self, name: str) -> Timing:
        return self._t[name]

    def ratio(self, name: str, reference: str) -> float:
        """Median over rounds of ``name / reference`` (paired, same round)."""
        a = np.asarray(self._t[name].samples)
        b = np.asarray(self._t[reference].samples)
        return float(np.median(a / b))

    def excess(self, name: str, reference: str) -> float:
        """Median over rounds of ``name - reference`` (seconds per unit)."""
        a = np.asarray(self._t[name].samples)
        b = np.asarray(self._t[reference].samples)
        return float(np.median(a - b))


ORDER_SEED = 20261122  # the rounds' orders: the same in every run


def interleave(runs: dict[str, Callable[[], object]], repeat: int, *, per: int = 1,
               warmup: int = 1) -> Timings:
    """Time each callable ``repeat`` times, once per round, each round in its
    own order (a seeded shuffle: none always follows the same one).

    ``per``: units of work in one call (e.g. queries answered), so samples
    are seconds per unit. ``warmup`` untimed calls of each come first.

    >>> order = []
    >>> _ = interleave({n: (lambda n=n: order.append(n)) for n in "abcd"}, 3, warmup=0)
    >>> "".join(order)  # each round all four, each in its own order
    'adcbcdbabdac'
    """
    out = Timings(runs)
    for _ in range(warmup):
        for fn in runs.values():
            fn()
    clock = time.perf_counter
    items, shuffle = list(runs.items()), random.Random(ORDER_SEED).shuffle
    for _ in range(repeat):
        shuffle(items)
        for name, fn in items:
            t0 = clock()
            fn()
            out[name].samples.append((clock() - t0) / per)
    return out


def time_once(fn: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call: for work too slow to repeat many times."""
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def profiled(fn: Callable[[], object]) -> tuple[float, pstats.Stats]:
    """(seconds, cProfile stats) of one call: to split a slow step into phases."""
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.runcall(fn)
    seconds = time.perf_counter() - t0
    return seconds, pstats.Stats(prof)


def cumulative(stats: pstats.Stats, file_suffix: str, function: str) -> float:
    """Cumulative seconds of ``function`` defined in a file ending with
    ``file_suffix`` ("~" for C builtins, whose name is e.g. "<method 'build'
    of 'annoy.Annoy' objects>"); 0.0 when it never ran."""
    total = 0.0
    for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():
        if name == function and file.endswith(file_suffix):
            total += ct
    return total


class OtherLoad:
    """CPU used by *other* processes while a block runs, in cores (average):
    all busy time from /proc/stat minus this process's own CPU time. The
    machine is shared; a figure above ~0.3 core means the timings competed.
    None where /proc/stat is unavailable."""

    def __init__(self):
        self._start = self._sample()

    @staticmethod
    def _sample():
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # minus idle, iowait
        own = os.times()
        # own CPU includes waited-for children (the memory case's subprocesses)
        mine = own.user + own.system + own.children_user + own.children_system
        return busy / os.sysconf("SC_CLK_TCK"), mine, time.perf_counter()

    def cores(self) -> float | None:
        end = self._sample()
        if self._start is None or end is None:
            return None
        busy, own, wall = (b - a for a, b in zip(self._start, end))
        return max(0.0, (busy - own) / wall) if wall > 0 else None


def wait_until_quiet(max_seconds: float, threshold: float, window: float = 3.0,
                     log: Callable = print) -> float | None:
    """Sleep in ``window``-second steps until other processes use under
    ``threshold`` cores, at most ``max_seconds``; returns their last use."""
    deadline = time.perf_counter() + max_seconds
    others = None
    while True:
        probe = OtherLoad()
        time.sleep(window)
        others = probe.cores()
        if others is None or others < threshold or time.perf_counter() >= deadline:
            return others
        log(f"   waiting: other processes use {others:.1f} cores")


def recall_at_k(found, truth: np.ndarray, k: int) -> float:
    """Mean over queries of |found[:k] & truth[:k]| / k.

    ``found``: one sequence of ids per query (shorter lists count as misses;
    ``-1`` entries are ignored); ``truth``: (m, >= k) exact neighbours, best first.
    """
    truth = np.asarray(truth)
    if len(found) != len(truth):
        raise ValueError(f"{len(found)} result lists for {len(truth)} queries")
    hits = 0
    for got, want in zip(found, truth[:, :k].tolist()):
        hits += len(set(list(got)[:k]) & set(want))
    return hits / (k * len(truth))


_UNITS = {"x": "{:.2f}x", "s": "{:.2f} s", "ms": "{:.3f} ms", "us": "{:.1f} us", "": "{:.3f}"}


@dataclass
class Target:
    """A stated goal: ``value op limit`` ("<=" or ">="); ``met`` or ``short``.
    ``goal``: the key of the issue-8 target it measures (``bench.goals``)."""

    name: str
    value: float
    op: str
    limit: float
    unit: str = ""
    goal: str = ""

    def __post_init__(self):
        if self.op not in ("<=", ">="):
            raise ValueError(f"Target op must be '<=' or '>=', got {self.op!r}")

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.op == "<=" else self.value >= self.limit

    @property
    def verdict(self) -> str:
        return "met" if self.met else "short"

    def fmt(self, x: float) -> str:
        return _UNITS[self.unit].format(x)

    def __str__(self) -> str:
        return f"{self.name}: {self.fmt(self.value)} (target {self.op} {self.fmt(self.limit)}): {self.verdict}"
