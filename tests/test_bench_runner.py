"""The benchmark's measuring rules (``bench/runner.py``): its examples hold,
among them that each round of interleaved timing runs in its own order."""

from __future__ import annotations

import doctest
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: bench/

import bench.runner  # noqa: E402


def test_runner_examples():
    result = doctest.testmod(bench.runner)
    assert result.attempted >= 4 and result.failed == 0
