"""The figures the docs show, drawn from the cases' ``Section.data`` with
matplotlib's Agg backend: recall@10 vs queries/second per data set
(``recall-qps-<kind>.png``) and the filtered-search selectivity sweep
(``filtered-selectivity.png``). Full runs write them to ``docs/img/``,
other runs to ``bench/out/img/``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["render", "recall_qps", "selectivity"]

EXACT = ("nbvec exact", "faiss Flat (exact)")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def recall_qps(data: dict, path: Path) -> Path:
    """One line per contestant through its knob's settings; its default
    setting as a star; exact methods as single markers; numpy as a line."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 6), dpi=110)
    by_name: dict = {}
    for p in data["points"]:
        by_name.setdefault(p["contestant"], []).append(p)
    markers = iter("os^Dv<>ph*X")
    colors = iter(plt.get_cmap("tab10").colors)
    exact_colors = iter(("black", "dimgray", "silver"))
    for name, pts in by_name.items():
        if name in EXACT:
            p = pts[0]
            ax.scatter([p["recall"]], [1 / p["seconds"]], marker="s", s=60, label=name, zorder=3,
                       color=next(exact_colors))
            continue
        swept = sorted((p for p in pts if p["param"] is not None), key=lambda p: p["param"])
        line, = ax.plot([p["recall"] for p in swept], [1 / p["seconds"] for p in swept],
                        marker=next(markers), ms=5, lw=2.2 if name.startswith("nbvec") else 1.1,
                        label=name, color=next(colors))
        for p in pts:
            if p["param"] is None:
                ax.scatter([p["recall"]], [1 / p["seconds"]], marker="*", s=180,
                           color=line.get_color(), edgecolor="black", zorder=4)
    ax.axhline(1 / data["numpy"], color="gray", ls="--", lw=1, label="numpy exact (1 thread)")
    ax.set_yscale("log")
    lo = min(p["recall"] for p in data["points"])
    ax.set_xlim(max(lo - 0.02, 0.5), 1.005)
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries / second (one query per call, log)")
    ax.set_title(f"Recall vs speed, {data['dataset']} (star: default setting)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


SERIES = (  # (latency key, recall key, label, style)
    ("nbvec", "recall", "nbvec", {"lw": 2.4, "color": "tab:blue"}),
    ("exact", None, "numpy exact over the matches", {"lw": 1.2, "color": "black"}),
    ("edge", "edge_recall", "Qdrant Edge, payload index", {"lw": 1.2, "color": "tab:green"}),
    ("edge_plain", "edge_plain_recall", "Qdrant Edge, no payload index",
     {"lw": 1.2, "color": "tab:olive", "ls": "--"}),
    ("qdrant_local", "qdrant_local_recall", "qdrant-client local mode",
     {"lw": 1.2, "color": "tab:red"}),
    ("unfiltered", None, "nbvec unfiltered search", {"lw": 1, "ls": ":", "color": "gray"}),
)


def selectivity(data: dict, path: Path) -> Path:
    """Recall (top) and latency (bottom, log) against selectivity, one
    column per filter kind."""
    plt = _pyplot()
    kinds = list(dict.fromkeys(r["kind"] for r in data["selectivity"]))
    fig, axes = plt.subplots(2, len(kinds), figsize=(6 * len(kinds), 8), dpi=110,
                             sharex=True, squeeze=False)
    for col, kind in enumerate(kinds):
        rows = sorted((r for r in data["selectivity"] if r["kind"] == kind),
                      key=lambda r: r["share"])
        x = [100 * r["share"] for r in rows]
        top, bottom = axes[0][col], axes[1][col]
        for key, rkey, label, style in SERIES:
            if key not in rows[0]:
                continue
            bottom.plot(x, [1e3 * r[key] for r in rows], marker="o", ms=4, label=label, **style)
            if rkey:
                top.plot(x, [r[rkey] for r in rows], marker="o", ms=4, label=label, **style)
        top.axhline(0.95, color="red", ls="--", lw=0.8, label="target 0.95")
        top.set_title(f"{kind} filter ({data['dataset']})")
        top.set_ylabel("recall@10")
        bottom.set_ylabel("ms per query (log)")
        bottom.set_yscale("log")
        bottom.set_xlabel("selectivity: % of points matching (log)")
        for ax in (top, bottom):
            ax.set_xscale("log")
            ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    axes[1][0].legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def render(results, outdir: Path) -> list[Path]:
    """Every plot whose case ran in this run; the paths written."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for r in results:
        data = r.section.data if r.status == "ok" and r.section else {}
        if "points" in data:
            written.append(recall_qps(data, outdir / f"recall-qps-{data['kind']}.png"))
        if "selectivity" in data:
            written.append(selectivity(data, outdir / "filtered-selectivity.png"))
    return written
