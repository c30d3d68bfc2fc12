"""Notebook rendering as pure functions returning HTML strings (tested as strings).

>>> "<table" in points_table([{"id": 1, "score": 0.5, "payload": {"a": "x"}}], "demo")
True
"""

from __future__ import annotations

import html
import json

__all__ = ["points_table", "groups_table", "key_value_table", "frame_summary"]

_STYLE = (
    "<style>.nbvec-table{border-collapse:collapse;font-size:12px}"
    ".nbvec-table th,.nbvec-table td{padding:2px 8px;border-bottom:1px solid #ddd;"
    "text-align:left;vertical-align:top}.nbvec-table caption{text-align:left;"
    "font-weight:bold;padding-bottom:4px}</style>"
)
_MAX_ROWS = 50
_MAX_CHARS = 80


def _cell(value) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}"
    elif isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
    else:
        text = str(value)
    if len(text) > _MAX_CHARS:
        text = text[: _MAX_CHARS - 1] + "…"
    return html.escape(text)


def points_table(points: list[dict], caption: str) -> str:
    """A table of points given as dicts with id, score?, payload?, vector?."""
    keys: list[str] = []
    for p in points[:_MAX_ROWS]:
        for k in (p.get("payload") or {}):
            if k not in keys:
                keys.append(k)
    has_score = any("score" in p for p in points)
    has_vector = any(p.get("vector") is not None for p in points)
    head = ["id"] + (["score"] if has_score else []) + keys + (["vector"] if has_vector else [])
    rows = []
    for p in points[:_MAX_ROWS]:
        payload = p.get("payload") or {}
        cells = [p["id"]] + ([p.get("score", "")] if has_score else [])
        cells += [payload.get(k, "") for k in keys]
        if has_vector:
            cells.append(p.get("vector"))
        rows.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
    more = len(points) - _MAX_ROWS
    if more > 0:
        rows.append(f"<tr><td colspan={len(head)}>… {more} more</td></tr>")
    return (
        _STYLE + f"<table class='nbvec-table nbvec-results'><caption>{html.escape(caption)}"
        "</caption><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def key_value_table(items: list[tuple[str, object]], caption: str) -> str:
    """A two-column table of (name, value)."""
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in items)
    return (_STYLE + f"<table class='nbvec-table nbvec-info'><caption>{html.escape(caption)}"
            f"</caption><tbody>{rows}</tbody></table>")


def frame_summary(title: str, items: list[tuple[str, object]], segments: list[dict]) -> str:
    """A VectorFrame: its figures, then one row per segment."""
    head = list(dict.fromkeys(h for s in segments for h in s))
    seg_rows = "".join(
        "<tr>" + "".join(f"<td>{_cell(s.get(h, ''))}</td>" for h in head) + "</tr>"
        for s in segments
    )
    seg_table = (
        "<table class='nbvec-table nbvec-segments'><caption>segments</caption><thead><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in head)
        + f"</tr></thead><tbody>{seg_rows}</tbody></table>"
    )
    return key_value_table(items, title) + seg_table


def groups_table(groups: list[dict]) -> str:
    """Groups as a table whose second column nests each group's hits table."""
    rows = []
    for g in groups[:_MAX_ROWS]:
        lookup = "" if g.get("lookup") is None else f"<div>{_cell(g['lookup'])}</div>"
        inner = points_table(g["hits"], f"{len(g['hits'])} hits").replace(_STYLE, "")
        rows.append(f"<tr><td><b>{_cell(g['id'])}</b>{lookup}</td><td>{inner}</td></tr>")
    return (_STYLE + "<table class='nbvec-table nbvec-groups'><caption>"
            f"{len(groups)} groups</caption><thead><tr><th>group</th><th>hits</th></tr>"
            "</thead><tbody>" + "".join(rows) + "</tbody></table>")
