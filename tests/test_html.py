"""Notebook display: ``Results._repr_html_()`` and ``VectorFrame._repr_html_()``
are tables holding the ids, scores and payload values, with payload text
escaped; ``Results.to_pandas()`` columns. The HTML is read back with the
standard library's parser, not by substring guesses."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest

from nbvec import VectorFrame
from nbvec.models import VectorParams


class Tables(HTMLParser):
    """Every table's rows as lists of cell texts; every start tag seen."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.tags: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


EVIL = "<script>alert('x')</script>"


@pytest.fixture
def vf():
    frame = VectorFrame(3, "Dot", progress=False)
    frame.upsert([1, 2, 3], np.array([[1.0, 0, 0], [0.5, 0, 0], [0.25, 0, 0]]),
                 payload=[{"city": "Berlin", "n": 7}, {"city": EVIL, "tags": ["a", "b"]},
                          {EVIL: "key"}])
    return frame


def test_results_html_is_a_table_of_ids_scores_and_payload(vf):
    hits = vf.search([1, 0, 0], limit=3)
    parsed = Tables(hits._repr_html_())
    assert len(parsed.tables) == 1
    header, *rows = [r for r in parsed.tables[0] if r]
    assert header[:2] == ["id", "score"]
    assert {"city", "n", "tags"} <= set(header)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert [float(r[1]) for r in rows] == pytest.approx([1.0, 0.5, 0.25])
    by_id = {r[0]: dict(zip(header, r)) for r in rows}
    assert by_id["1"]["city"] == "Berlin" and by_id["1"]["n"] == "7"
    assert by_id["2"]["city"] == EVIL  # shown as text
    assert "a" in by_id["2"]["tags"] and "b" in by_id["2"]["tags"]


def test_results_html_escapes_payload_text(vf):
    text = vf.search([1, 0, 0], limit=3)._repr_html_()
    assert "script" not in Tables(text).tags
    assert "<script>" not in text
    assert "&lt;script&gt;" in text


def test_records_html(vf):
    recs = vf.retrieve([3, 1], with_vectors=True)
    parsed = Tables(recs._repr_html_())
    header, *rows = [r for r in parsed.tables[0] if r]
    assert header[0] == "id" and "score" not in header and header[-1] == "vector"
    assert [r[0] for r in rows] == ["3", "1"]
    assert EVIL in header  # a payload key shown as a column name, escaped
    assert "script" not in parsed.tags


def test_empty_results_html(vf):
    text = vf.search([1, 0, 0], limit=3, score_threshold=10.0)._repr_html_()
    parsed = Tables(text)
    assert len(parsed.tables) == 1 and "0" in text


def test_frame_html_of_an_unindexed_frame(vf):
    parsed = Tables(vf._repr_html_())
    figures = {row[0]: row[1] for row in parsed.tables[0] if len(row) == 2}
    assert figures["points"] == "3" and figures["indexed points"] == "0"
    seg_header, *seg_rows = [r for r in parsed.tables[-1] if r]
    assert [r[seg_header.index("points")] for r in seg_rows] == ["3"]


def test_frame_html_shows_points_and_segments():
    frame = VectorFrame(32, "Cosine", indexing_threshold=50, full_scan_threshold=10,
                        progress=False)
    x = np.random.default_rng(0).normal(size=(450, 32))
    frame.upsert(range(400), x[:400], payload=[{"note": EVIL}] * 400)  # sealed
    frame.upsert(range(400, 450), x[400:], payload=[{"note": EVIL}] * 50)  # appendable
    text = frame._repr_html_()
    parsed = Tables(text)
    assert "script" not in parsed.tags
    cells = [c for table in parsed.tables for row in table for c in row]
    assert "450" in cells  # points
    info, segments = parsed.tables[0], parsed.tables[-1]
    figures = {row[0]: row[1] for row in info if len(row) == 2}
    assert figures["points"] == "450" and figures["indexed points"] == "400"
    seg_header, *seg_rows = [r for r in segments if r]
    assert "points" in seg_header and "indexed" in seg_header
    points = [int(r[seg_header.index("points")]) for r in seg_rows]
    assert sorted(points) == [50, 400]


def test_results_to_pandas_columns(vf):
    df = vf.search([1, 0, 0], limit=3).to_pandas()
    assert list(df.columns[:2]) == ["id", "score"]
    assert set(df.columns) == {"id", "score", "city", "n", "tags", EVIL}
    assert df["id"].tolist() == [1, 2, 3]
    assert df["score"].tolist() == pytest.approx([1.0, 0.5, 0.25])
    with_vec = vf.search([1, 0, 0], limit=2, with_vectors=True, with_payload=False).to_pandas()
    assert list(with_vec.columns) == ["id", "score", "vector"]
    assert with_vec["vector"].iloc[0] == [1.0, 0.0, 0.0]
    recs = vf.retrieve([1], with_payload=["n"]).to_pandas()
    assert list(recs.columns) == ["id", "n"]


def test_results_to_pandas_named_vectors():
    frame = VectorFrame(vectors={"a": VectorParams(size=2, distance="Dot"),
                                 "b": VectorParams(size=3, distance="Euclid")}, progress=False)
    frame.upsert([1], {"a": [[1.0, 0.0]], "b": [[0.0, 0.0, 1.0]]}, payload=[{"k": 1}])
    df = frame.search([1, 0], using="a", limit=1, with_vectors=True).to_pandas()
    assert list(df.columns) == ["id", "score", "k", "vector.a", "vector.b"]
    assert df["vector.b"].iloc[0] == [0.0, 0.0, 1.0]
