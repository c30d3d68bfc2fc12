"""Grouped results at the notebook's edge: ``GroupResults.to_pandas()`` is
tidy (one row per hit: group_id, rank, id, score, payload columns,
``lookup.<key>`` columns), ``_repr_html_`` nests one hits table per group
with every payload string escaped, and ``VectorFrame.search_groups`` joins
groups with another VectorFrame or with a DataFrame indexed by id."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import nbvec
from nbvec import VectorFrame
from nbvec._results import GroupResults

DOC_UUID = "4e5e7a0e-3b4f-4e8e-9a3c-1f2d3c4b5a69"
CHUNKS = [  # id, vector, payload: scores under Dot with [1, 0] are the first component
    (1, [1.0, 0.0], {"doc": 10, "text": "<script>alert('x')</script>", "part": 0}),
    (2, [0.9, 0.0], {"doc": [10, 20], "text": "a & b", "part": 1}),
    (3, [0.8, 0.0], {"doc": 20, "part": 2}),
    (4, [0.7, 0.0], {"doc": "a", "text": "plain", "part": 0}),
    (5, [0.6, 0.0], {"doc": 30, "part": 0}),  # no such document
    (6, [0.5, 0.0], {"doc": DOC_UUID.upper(), "part": 0}),  # a UUID, spelled otherwise
    (7, [0.4, 0.0], {"doc": "<g&>", "part": 1}),
    (8, [0.3, 0.0], {"part": 3}),  # in no group
]
Q = [1.0, 0.0]


@pytest.fixture
def chunks():
    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert([i for i, _, _ in CHUNKS], np.array([v for _, v, _ in CHUNKS]),
              payload=[p for _, _, p in CHUNKS])
    return vf


@pytest.fixture
def documents():
    vf = VectorFrame(3, "Cosine", progress=False)
    vf.upsert([10, 20, DOC_UUID], np.array([[3.0, 4.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 1.0]]),
              payload=[{"title": "Ten <b>", "tags": ["x"]}, {"title": "Twenty"},
                       {"title": "Uuid", "year": 2001}])
    return vf


# -- to_pandas -----------------------------------------------------------------------------
def test_to_pandas_is_tidy(chunks):
    groups = chunks.search_groups(Q, "doc", limit=10, group_size=2, with_vectors=True)
    df = groups.to_pandas()
    assert list(df.columns[:4]) == ["group_id", "rank", "id", "score"]
    assert {"doc", "text", "part", "vector"} <= set(df.columns)
    assert not any(c.startswith("lookup.") for c in df.columns)
    assert len(df) == sum(len(g.hits) for g in groups)
    expected = [(g.id, rank, h.id, h.score) for g in groups for rank, h in enumerate(g.hits)]
    assert list(df[["group_id", "rank", "id", "score"]].itertuples(index=False, name=None)) \
        == expected
    assert [gid for gid, *_ in expected][:4] == [10, 10, 20, 20]  # point 2 in both groups
    for row, h in zip(df.itertuples(index=False), (h for g in groups for h in g.hits)):
        assert row.part == h.payload["part"]
        assert row.text == h.payload["text"] if "text" in h.payload else pd.isna(row.text)
        np.testing.assert_allclose(row.vector, h.vector)
    assert df["rank"].tolist() == df.groupby("group_id", sort=False).cumcount().tolist()


def test_to_pandas_lookup_columns(chunks, documents):
    groups = chunks.search_groups(Q, "doc", limit=10, group_size=1, with_lookup=documents)
    df = groups.to_pandas()
    assert {"lookup.title", "lookup.tags", "lookup.year"} <= set(df.columns)
    by_group = df.set_index("group_id")
    assert by_group.loc[10, "lookup.title"] == "Ten <b>"
    assert by_group.loc[10, "lookup.tags"] == ["x"]
    assert by_group.loc[20, "lookup.title"] == "Twenty"
    assert by_group.loc[DOC_UUID.upper(), "lookup.year"] == 2001
    for missing in ("a", 30, "<g&>"):  # groups without a document
        assert by_group.loc[missing, ["lookup.title", "lookup.tags", "lookup.year"]].isna().all()


def test_to_pandas_of_no_groups(chunks):
    for groups in (GroupResults(),
                   chunks.search_groups(Q, "doc", where="part > 10"),
                   chunks.search_groups(Q, "nothing_here")):
        df = groups.to_pandas()
        assert list(df.columns) == ["group_id", "rank", "id", "score"] and len(df) == 0


def test_to_pandas_renames_payload_keys_named_id_or_score():
    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert([1, 2], np.eye(2), payload=[{"doc": "a", "id": "mine", "score": 5},
                                         {"doc": "a", "id": "other"}])
    df = vf.search_groups(Q, "doc").to_pandas()
    assert df["id"].tolist() == [1, 2] and df["payload.id"].tolist() == ["mine", "other"]
    assert df["score"].tolist() == [1.0, 0.0] and df["payload.score"].iloc[0] == 5


def test_to_pandas_renames_payload_keys_named_rank_or_group_id():
    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert([1, 2], np.eye(2), payload=[{"doc": "a", "rank": 7, "group_id": "g"},
                                         {"doc": "a"}])
    df = vf.search_groups(Q, "doc").to_pandas()
    assert df["rank"].tolist() == [0, 1] and df["group_id"].tolist() == ["a", "a"]
    assert df["payload.rank"].iloc[0] == 7 and df["payload.group_id"].iloc[0] == "g"


# -- _repr_html_ ---------------------------------------------------------------------------
def test_repr_html_nests_and_escapes(chunks, documents):
    groups = chunks.search_groups(Q, "doc", limit=10, group_size=2, with_lookup=documents)
    html = groups._repr_html_()
    assert html.count("<style>") == 1
    assert html.count("<table") == 1 + len(groups)
    assert html.count("nbvec-groups") == 1 and html.count("nbvec-results") == len(groups)
    assert f"{len(groups)} groups" in html
    assert "2 hits" in html and "1 hits" in html
    # payload strings, group ids and lookup payloads are escaped
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html and "<script" not in html
    assert "a &amp; b" in html
    assert "<b>&lt;g&amp;&gt;</b>" in html  # the group id cell
    assert "Ten &lt;b&gt;" in html and "Ten <b>" not in html
    # the nested tables: each group's hits in order
    for g in groups:
        inner = html.split(f"<b>{_escaped(g.id)}</b>", 1)[1].split("</table>", 1)[0]
        cells = [c.split("</td>", 1)[0] for c in inner.split("<tr><td>")[1:]]
        assert cells == [str(h.id) for h in g.hits]
    assert "0 groups" in GroupResults()._repr_html_()


def _escaped(value) -> str:
    import html

    return html.escape(str(value))


# -- with_lookup on a VectorFrame ------------------------------------------------------------
def test_with_lookup_from_another_vectorframe(chunks, documents):
    groups = chunks.search_groups(Q, "doc", limit=10, group_size=1, with_lookup=documents)
    looked = {g.id: g.lookup for g in groups}
    assert set(looked) == {10, 20, "a", 30, DOC_UUID.upper(), "<g&>"}
    assert looked[10].id == 10 and looked[10].payload == {"title": "Ten <b>", "tags": ["x"]}
    np.testing.assert_allclose(looked[10].vector, [0.6, 0.8, 0.0], rtol=1e-6)  # normalized
    assert looked[20].payload == {"title": "Twenty"}
    assert looked[DOC_UUID.upper()].id == DOC_UUID  # the point's own id spelling
    assert looked["a"] is None and looked["<g&>"] is None  # not point ids
    assert looked[30] is None  # no such point
    rec = chunks.recommend_groups([1], [], "doc", limit=10, group_size=1,
                                  with_lookup=documents, strategy="best_score")
    assert {g.id: g.lookup for g in rec}[20].payload == {"title": "Twenty"}
    assert 1 not in {h.id for g in rec for h in g.hits}


def test_with_lookup_from_a_dataframe(chunks):
    docs = pd.DataFrame({"title": ["Ten", "Twenty", "Uuid"], "year": [1999, 2000, 2001],
                         "rating": [4.5, np.nan, 3.0], "tags": [["x"], [], ["y", "z"]]},
                        index=[10, 20, DOC_UUID.upper()])
    groups = chunks.search_groups(Q, "doc", limit=10, group_size=1, with_lookup=docs)
    looked = {g.id: g.lookup for g in groups}
    assert looked[10].id == 10
    assert looked[10].payload == {"title": "Ten", "year": 1999, "rating": 4.5, "tags": ["x"]}
    assert looked[20].payload == {"title": "Twenty", "year": 2000, "tags": []}  # NaN dropped
    assert looked[DOC_UUID.upper()].payload["title"] == "Uuid"
    assert looked["a"] is None and looked[30] is None and looked["<g&>"] is None
    assert type(looked[10].payload["year"]) is int
    df = groups.to_pandas().set_index("group_id")
    assert df.loc[20, "lookup.title"] == "Twenty" and pd.isna(df.loc[20, "lookup.rating"])


def test_with_lookup_from_a_numeric_dataframe_keeps_ints(chunks):
    docs = pd.DataFrame({"year": [1999, 2000], "rating": [4.5, np.nan]}, index=[10, 20])
    looked = {g.id: g.lookup for g in chunks.search_groups(Q, "doc", with_lookup=docs)}
    assert looked[10].payload == {"year": 1999, "rating": 4.5}
    assert type(looked[10].payload["year"]) is int and type(looked[20].payload["year"]) is int


def test_with_lookup_from_a_dataframe_with_a_repeated_id_is_refused(chunks):
    docs = pd.DataFrame({"title": ["x", "y"]}, index=[10, 10])
    with pytest.raises(nbvec.InvalidInput):
        chunks.search_groups(Q, "doc", with_lookup=docs)


def test_with_lookup_of_another_kind_is_refused(chunks):
    for bad in ("documents", {"collection": "documents"}, [10, 20]):
        with pytest.raises(nbvec.InvalidRequest, match="VectorFrame or a DataFrame"):
            chunks.search_groups(Q, "doc", with_lookup=bad)
