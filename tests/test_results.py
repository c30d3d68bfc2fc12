"""Results of a search are lists filled on first read: every list operation
sees the points, ``len``/``ids``/``scores`` answer from the hit table, and
what a Results shows is the collection as it was when the search ran."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from nbvec import Results, VectorFrame
from nbvec.models import ScoredPoint


@pytest.fixture
def vf():
    frame = VectorFrame(3, "Dot", progress=False)
    frame.upsert([1, 2, 3, 4], np.array([[1, 0, 0], [0.9, 0.1, 0], [0.5, 0.5, 0], [0, 0, 1]]),
                 payload=[{"tag": "a", "n": 1}, {"tag": "b"}, {"tag": "c", "n": 3}, {"n": 4}])
    return frame


def _eager(results) -> list:
    return [(p.id, p.score, p.payload, p.vector) for p in results]


def test_len_ids_and_scores_do_not_need_the_points(vf):
    r = vf.search([1, 0, 0], limit=3)
    assert r._table is not None
    assert len(r) == 3 and bool(r) and r.ids == [1, 2, 3]
    np.testing.assert_allclose(r.scores, [1.0, 0.9, 0.5], rtol=1e-6)
    assert r._table is not None  # still not filled
    assert [p.id for p in r] == [1, 2, 3] and r._table is None
    assert r.ids == [1, 2, 3] and len(r) == 3  # the same once filled


@pytest.mark.parametrize("read", [
    lambda r: list(r), lambda r: r[0:3], lambda r: [r[i] for i in range(3)], repr,
    lambda r: list(reversed(r)), lambda r: r.copy(), lambda r: sorted(r, key=lambda p: p.id),
    lambda r: r + [], lambda r: r.index(r[1]), lambda r: r.count(r[0]), lambda r: r[1] in r,
    lambda r: pickle.loads(pickle.dumps(r)), copy.copy, copy.deepcopy,
    lambda r: np.array(r, dtype=object).shape, lambda r: r.to_pandas(), lambda r: r._repr_html_(),
])
def test_every_read_sees_the_points(vf, read):
    lazy, filled = vf.search([1, 0, 0], limit=3), vf.search([1, 0, 0], limit=3)
    list(filled)
    assert lazy._table is not None and filled._table is None
    out, expected = read(lazy), read(filled)  # the lazy one's first read
    assert type(out) is type(expected) and _plain(out) == _plain(expected)
    assert _eager(lazy) == _eager(filled)


def _plain(value):
    """A read's result in comparable form: points as (id, score, payload)."""
    if isinstance(value, ScoredPoint):
        return value.id, value.score, value.payload
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "to_json"):  # a DataFrame: JSON text compares NaN as null
        return value.to_json()
    return value


def test_comparisons_and_edits_fill_both_sides(vf):
    a, b = vf.search([1, 0, 0], limit=2), vf.search([1, 0, 0], limit=2)
    assert a == b and not a != b and a == list(vf.search([1, 0, 0], limit=2))
    c = vf.search([1, 0, 0], limit=2)
    c.append("x")
    assert len(c) == 3 and c[-1] == "x" and c[0].id == 1
    d = vf.search([1, 0, 0], limit=2)
    d += vf.search([0, 0, 1], limit=1)
    assert [p.id for p in d] == [1, 2, 4]
    e = vf.search([1, 0, 0], limit=3)
    e.sort(key=lambda p: -p.id)
    assert [p.id for p in e] == [3, 2, 1]


def test_results_show_the_collection_as_it_was_searched(vf):
    """Payloads and vectors are taken when the search runs: later writes do
    not reach a Results read afterwards."""
    r = vf.search([1, 0, 0], limit=2, with_vectors=True)
    batch = vf.search(np.array([[1, 0, 0], [0, 0, 1]]), limit=1)
    vf.set_payload({"tag": "changed"}, ids=[1])
    vf.upsert([2], np.array([[0, 1, 0]]), payload=[{"tag": "new"}])
    vf.delete([4])
    assert [p.payload for p in r] == [{"tag": "a", "n": 1}, {"tag": "b"}]
    np.testing.assert_allclose([p.vector for p in r], [[1, 0, 0], [0.9, 0.1, 0]], rtol=1e-6)
    assert [[p.id, p.payload] for res in batch for p in res] == [[1, {"tag": "a", "n": 1}],
                                                                 [4, {"n": 4}]]


def test_a_batch_makes_its_points_once(vf):
    batch = vf.search(np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]]), limit=2)
    assert [len(r) for r in batch] == [2, 2, 2]
    first = batch[0][0]
    assert isinstance(first, ScoredPoint)
    assert batch[1]._table[0]._points is not None  # made for the whole batch at once
    assert [r.ids for r in batch] == [[p.id for p in r] for r in batch]


def test_short_answers_and_thresholds(vf):
    batch = vf.search(np.array([[1, 0, 0], [0, 0, 1]]), limit=10, score_threshold=0.6)
    assert [len(r) for r in batch] == [2, 1] and [r.ids for r in batch] == [[1, 2], [4]]
    assert [[p.id for p in r] for r in batch] == [[1, 2], [4]]


def test_eager_results_still_work():
    r = Results([ScoredPoint(id=1, score=0.5), ScoredPoint(id=2, score=0.25)])
    assert len(r) == 2 and r.ids == [1, 2] and list(r.scores) == [0.5, 0.25]
    assert pickle.loads(pickle.dumps(r)) == r


def test_points_equal_validated_models_and_stay_independent(vf):
    a, b = vf.search([1, 0, 0], limit=2, with_vectors=True)
    same = ScoredPoint(id=a.id, version=a.version, score=a.score, payload=a.payload,
                       vector=a.vector)
    assert a == same and a.model_dump() == same.model_dump() and repr(a) == repr(same)
    a.score, a.payload["tag"] = 5.0, "edited"  # one point's edit is its own
    assert b.score != 5.0 and b.payload["tag"] == "b" and "score" in b.model_fields_set
    assert vf.search([1, 0, 0], limit=1)[0].payload == {"tag": "a", "n": 1}


def test_plain_is_a_new_list_of_the_points_and_leaves_the_results_unread(vf):
    lazy = vf.search([1, 0, 0], limit=3)
    plain = lazy._plain_list()
    assert type(plain) is list and lazy._table is not None
    assert plain == list(lazy) and all(a is b for a, b in zip(plain, lazy))
    plain.pop()
    assert len(lazy) == 3 and lazy._plain_list() is not lazy._plain_list()
    eager = Results([ScoredPoint(id=1, score=0.5)])
    assert type(eager._plain_list()) is list and eager._plain_list() == eager


def test_a_point_hit_by_two_queries_of_a_batch_has_two_payloads():
    frame = VectorFrame(2, "Dot", progress=False)
    frame.upsert([1, 2], np.eye(2), payload=[{"tags": ["a"], "n": 1}, {"n": 2}])
    a, b = frame.search(np.array([[1.0, 0.0], [1.0, 0.1]]), limit=1)
    assert a[0].id == b[0].id == 1 and a[0].payload is not b[0].payload
    a[0].payload["tags"].append("edited")
    assert b[0].payload == {"tags": ["a"], "n": 1}


def test_a_hit_tables_point_lists_are_its_results_made_now(vf):
    queries = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float32)
    options = dict(limit=2, offset=0, score_threshold=0.3, exact=True, hnsw_ef=None,
                   indexed_only=False, with_payload=True, with_vectors=False)
    table = vf._search_table("", queries, None, **options)
    lists = table.point_lists()
    assert all(type(points) is list for points in lists)
    assert lists == [list(r) for r in vf._search_table("", queries, None, **options).results()]
    assert [[p.id for p in points] for points in lists] == [[1, 2], [4], [3]]
    assert lists == table.point_lists() and lists[0] is not table.point_lists()[0]
