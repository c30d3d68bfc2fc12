"""Formatting of figures, and the Markdown report (bench/RESULTS.md): date,
machine, the measuring rules, a summary of targets, then one table per case.

>>> fmt_time(0.0012), fmt_ratio(1.234), fmt_rate(12345.0)
('1.200 ms', '1.23x', '12,345/s')
>>> print(markdown_table(["a", "b"], [[1, "x"]]))
| a | b |
|---|---|
| 1 | x |
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

BUSY_CORES = 0.3  # other processes' average CPU use above which a case is flagged

__all__ = ["fmt_time", "fmt_ratio", "fmt_rate", "fmt_recall", "markdown_table", "machine",
           "render", "write"]


# -- figures -----------------------------------------------------------------------
def fmt_time(seconds: float) -> str:
    """Seconds in the unit that reads best: s, ms or us."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds * 1e6:.1f} us"


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}x"


def fmt_rate(per_second: float) -> str:
    return f"{per_second:,.0f}/s"


def fmt_recall(x: float) -> str:
    return f"{x:.3f}"


def markdown_table(columns: list, rows: list) -> str:
    lines = ["| " + " | ".join(map(str, columns)) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(lines)


# -- machine -------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit(root: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "nbvec"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + (" (nbvec/ modified)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        return ", ".join(f"{p.get('internal_api')} {p.get('version')} "
                         f"({p.get('num_threads')} threads)"
                         for p in threadpool_info() if p.get("user_api") == "blas") or "unknown"
    except ImportError:
        return "unknown (threadpoolctl absent)"


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def machine(root: Path) -> dict:
    """What the figures depend on: cores, CPU, versions, BLAS, load."""
    import numpy

    import nbvec

    return {
        "nproc": _cores(),
        "CPU": _cpu_model(),
        "Python": sys.version.split()[0],
        "numpy": f"{numpy.__version__} (BLAS: {_blas()})",
        "annoy": _version("annoy"),
        "nbvec": f"{nbvec.__version__} (commit {_git_commit(root)})",
        "load average (1 min) at start": f"{os.getloadavg()[0]:.2f}",
    }


# -- report ----------------------------------------------------------------------------
RULES = """\
Every time is the **median** over repeated rounds; contestants run **interleaved**
in one process, each round in its own (seeded, shuffled) order so that none
always runs right after the same one (caches), and each ratio is the median of
the per-round ratios of two contestants that ran in the same round. Per-query
figures are a loop of single-query calls divided by the number of queries. Recall@10 is against exact
cosine neighbours (numpy, or the provided ground truth for pydocs-minilm). The
machine is shared and noisy: treat differences under ~10% as noise, and distrust
a case flagged busy (other processes used more than 0.3 core meanwhile; two-thread
BLAS calls then slow down 2-15x in bursts; `--blas-threads 1` is steadier)."""


def render_section(result) -> str:
    """One case as Markdown: heading, notes, table, targets (or why not)."""
    out = [f"## {result.title} (`{result.name}`)", ""]
    if result.status != "ok":
        out += [f"*{result.status}*: {result.message}", ""]
        return "\n".join(out)
    sec = result.section
    out += [f"- {n}" for n in sec.notes] + ([""] if sec.notes else [])
    out += [markdown_table(sec.columns, sec.rows), ""]
    if sec.targets:
        out += [f"- **{t.verdict}** - {t}" for t in sec.targets] + [""]
    out.append(f"*case took {result.seconds:.1f} s; {_others(result.others)}*")
    out.append("")
    return "\n".join(out)


def _others(cores) -> str:
    if cores is None:
        return "CPU use of other processes unknown"
    busy = " - **busy machine: noisy figures**" if cores > BUSY_CORES else ""
    return f"other processes used {cores:.2f} of {_cores()} cores meanwhile{busy}"


def _quiet(cores) -> str:
    if cores is None:
        return "unknown"
    return f"{'busy' if cores > BUSY_CORES else 'quiet'} ({cores:.2f} other cores)"


def render_goals(targets: list) -> list:
    """Issue 8's targets, each met, short or not measured (``bench.goals``)."""
    from .goals import summarize

    return [markdown_table(
        ["issue-8 target", "verdict", "targets", "deciding figure"],
        [[g["goal"], f"**{g['verdict']}**", g["count"], str(g["worst"] or "-")]
         for g in summarize(targets)]), ""]


def render(results: list, *, mode: str, argv: list, started: _dt.datetime, seconds: float,
           info: dict, plots: list = (), relative_to: Path | None = None) -> str:
    targets = [(r, t) for r in results if r.status == "ok" for t in r.section.targets]
    command = " ".join(["python -m bench", *argv])
    out = ["# nbvec benchmarks", "",
           f"Generated by `{command}` "
           f"on {started:%Y-%m-%d %H:%M} ({mode} run, {seconds / 60:.1f} min). "
           "Do not edit by hand: re-run the harness.", "",
           "## Machine", ""]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += ["", "## How to read", "", RULES, "", "## Issue 8's targets", ""]
    out += render_goals([t for _, t in targets])
    if plots:
        root = Path(__file__).resolve().parent.parent
        out += ["## Plots", ""] + [
            f"![{p.stem}]({os.path.relpath(root / p, relative_to or root)})" for p in plots] + [""]
    out += ["## Targets", ""]
    if targets:
        out.append(markdown_table(
            ["case", "target", "value", "limit", "verdict", "machine during the case"],
            [[f"`{r.name}`", t.name, t.fmt(t.value), f"{t.op} {t.fmt(t.limit)}",
              f"**{t.verdict}**", _quiet(r.others)] for r, t in targets]))
    else:
        out.append("(no targets in this run)")
    others = [r for r in results if r.status != "ok"]
    if others:
        out += [""] + [f"- `{r.name}`: {r.status} ({r.message})" for r in others]
    out.append("")
    out += [render_section(r) for r in results]
    return "\n".join(out)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
