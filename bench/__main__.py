"""``python -m bench [--quick] [--only CASE ...] [--out PATH] [--repeat N]``

Runs the benchmark cases in order, prints each table as it finishes, and
writes a Markdown report. A full run (no ``--quick``, no ``--only``) writes
``bench/RESULTS.md``; quick and partial runs write under ``bench/out/``
(git-ignored) unless ``--out`` says otherwise, so they never overwrite the
committed full results. Exit status 1 if a case failed with an error;
targets that fall short are results, not errors.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from . import goals, plots, report
from .cases import Context, Section, Skip, all_cases
from .runner import OtherLoad, wait_until_quiet

BUSY_CORES = report.BUSY_CORES
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CaseResult:
    name: str
    title: str
    status: str  # "ok" | "skipped" | "error"
    section: Section | None = None
    message: str = ""
    seconds: float = 0.0
    others: float | None = None  # cores other processes used meanwhile (average)


def parse_args(argv, names):
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smaller data (20k instead of 100k points), fewer rounds: a few minutes")
    p.add_argument("--only", nargs="+", metavar="CASE", choices=names,
                   help="run only these cases: " + ", ".join(names))
    p.add_argument("--out", type=Path, help="report path (default: bench/RESULTS.md for a full "
                   "run, bench/out/RESULTS-quick.md or -partial.md otherwise)")
    p.add_argument("--repeat", type=int, help="timed rounds per comparison (default 7, quick 3)")
    p.add_argument("--blas-threads", type=int, metavar="N",
                   help="limit BLAS threads for the whole run (threadpoolctl): steadier figures "
                        "on a busy machine; default: the BLAS default (all cores)")
    p.add_argument("--wait-quiet", type=float, metavar="SECONDS", default=0,
                   help="before each case, wait (at most SECONDS) until other processes use "
                        f"under {report.BUSY_CORES} core")
    p.add_argument("--retry-busy", type=int, metavar="N", default=0,
                   help="re-run a case flagged busy up to N times, keeping its quietest run")
    p.add_argument("--profile", action="store_true",
                   help="also run each case under cProfile; stats go to bench/out/<case>.prof")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    return p.parse_args(argv)


def run_case(c, ctx, args) -> CaseResult:
    """Run one case; when it was busy, re-run it up to ``--retry-busy`` times
    and keep the run during which other processes used the least CPU."""
    best = None
    for attempt in range(1 + max(args.retry_busy, 0)):
        if args.wait_quiet:
            wait_until_quiet(args.wait_quiet, BUSY_CORES)
        others = OtherLoad()
        result = _run_case(c, ctx, args.profile)
        result.others = others.cores()
        if best is None or (result.others or 0) < (best.others or 0):
            best = result
        busy = result.others is not None and result.others > BUSY_CORES
        if busy:
            print(f"   warning: other processes used {result.others:.1f} of {ctx.cores} cores "
                  "meanwhile; figures of this case are noisy"
                  + ("; running it again" if attempt < args.retry_busy else ""))
        if not busy or result.status != "ok":
            break
    return best


def _run_case(c, ctx, profile: bool) -> CaseResult:
    print(f"\n== {c.name}: {c.title}", flush=True)
    t0 = time.perf_counter()
    try:
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            section = prof.runcall(c.fn, ctx)
            out = ROOT / "bench" / "out" / f"{c.name}.prof"
            out.parent.mkdir(parents=True, exist_ok=True)
            prof.dump_stats(out)
            pstats.Stats(prof).sort_stats("tottime").print_stats(15)
        else:
            section = c.fn(ctx)
    except Skip as e:
        print(f"   skipped: {e}")
        return CaseResult(c.name, c.title, "skipped", message=str(e),
                          seconds=time.perf_counter() - t0)
    except Exception as e:  # one broken case must not lose the others' figures
        traceback.print_exc()
        return CaseResult(c.name, c.title, "error", message=f"{type(e).__name__}: {e}",
                          seconds=time.perf_counter() - t0)
    result = CaseResult(c.name, c.title, "ok", section, seconds=time.perf_counter() - t0)
    for note in section.notes:
        print(f"   {note}")
    print(report.markdown_table(section.columns, section.rows))
    for t in section.targets:
        print(f"   {t}")
    print(f"   ({result.seconds:.1f} s)", flush=True)
    return result


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cases = all_cases()
    args = parse_args(argv, list(cases))
    if args.list:
        for c in cases.values():
            print(f"{c.name:20s} {c.title}")
        return 0
    if args.repeat is not None and args.repeat < 1:
        print("--repeat must be >= 1", file=sys.stderr)
        return 2
    ctx = Context(quick=args.quick, repeat=args.repeat or (3 if args.quick else 7),
                  n_timed=100 if args.quick else 200)
    chosen = [cases[n] for n in cases if not args.only or n in args.only]
    mode = "quick" if args.quick else "full"
    if args.out is None:
        partial = bool(args.only) or args.profile
        name = "RESULTS.md" if mode == "full" and not partial else \
            f"out/RESULTS-{mode if not partial else mode + '-partial'}.md"
        args.out = ROOT / "bench" / name
    started, t0 = dt.datetime.now(), time.perf_counter()
    with contextlib.ExitStack() as stack:
        if args.blas_threads:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(args.blas_threads, user_api="blas"))
        info = report.machine(ROOT)
        print(f"nbvec bench, {mode} run: {len(chosen)} case(s), {ctx.repeat} rounds; "
              + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
        results = [run_case(c, ctx, args) for c in chosen]
    info["load average (1 min) at end"] = f"{os.getloadavg()[0]:.2f}"
    full = mode == "full" and not (args.only or args.profile)
    img = ROOT / ("docs/img" if full else "bench/out/img")
    pictures = [p.relative_to(ROOT) for p in plots.render(results, img)]
    text = report.render(results, mode=mode, argv=argv, started=started,
                         seconds=time.perf_counter() - t0, info=info, plots=pictures,
                         relative_to=args.out.parent)
    report.write(args.out, text)
    short = [t for r in results if r.status == "ok" for t in r.section.targets if not t.met]
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
          f" ({(time.perf_counter() - t0) / 60:.1f} min); targets short: {len(short)}")
    for t in short:
        print(f"   {t}")
    print("\nissue 8 targets:")
    for line in goals.lines([t for r in results if r.status == "ok" for t in r.section.targets]):
        print(f"   {line}")
    for p in pictures:
        print(f"plot: {p}")
    return 1 if any(r.status == "error" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
