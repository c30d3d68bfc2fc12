"""Filter caches: masks are cached per segment object and version, returned
read-only, never shared between two frames whose segments have the same uid
and version, and freed with their segments."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

from nbvec import VectorFrame
from nbvec._errors import InvalidFilter
from nbvec._filter import _rowset, compile_filter, segment_mask


def _frame(payloads):
    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert(list(range(len(payloads))), np.ones((len(payloads), 2)), payload=payloads)
    return vf


def test_cached_masks_are_read_only_and_reused():
    vf = _frame([{"a": 1}, {"a": 2}])
    seg = vf._engine.segments[0]
    cond = compile_filter(where="a == 1")
    mask = segment_mask(cond, seg)
    assert segment_mask(cond, seg) is mask
    with pytest.raises(ValueError):
        mask &= False
    assert (mask & seg.live_mask()).tolist() == [True, False]


def test_same_uid_and_version_in_two_frames_do_not_share_masks():
    one, two = _frame([{"a": 1}, {"a": 2}]), _frame([{"a": 2}, {"a": 1}])
    s1, s2 = one._engine.segments[0], two._engine.segments[0]
    assert (s1.uid, s1.version) == (s2.uid, s2.version)
    cond = compile_filter(where="a == 1")
    assert segment_mask(cond, s1).tolist() == [True, False]
    assert segment_mask(cond, s2).tolist() == [False, True]


def test_writes_invalidate_the_cache():
    vf = _frame([{"a": 1}, {"a": 2}])
    seg = vf._engine.segments[0]
    cond = compile_filter(where="a == 1")
    assert segment_mask(cond, seg).tolist() == [True, False]
    vf.set_payload({"a": 1}, ids=[1])
    assert segment_mask(cond, seg).tolist() == [True, True]
    vf.delete_payload("a", ids=[0])
    assert segment_mask(cond, seg).tolist() == [False, True]


def test_rowsets_die_with_their_segments():
    before = len(_rowset._ROWSETS)
    for _ in range(3):
        vf = _frame([{"a": [1, 2]}, {"a": {"b": 1}}])
        for seg in vf._engine.segments:
            segment_mask(compile_filter({"must": [{"has_id": [1]}, {"key": "a[]", "match": {"value": 1}}]}), seg)
        del vf, seg
    gc.collect()
    assert len(_rowset._ROWSETS) <= before


def _gathered_entries(seg):
    return [v for k, v in seg.allowed_cache.items() if k[0] == "gathered"]


def test_gathered_matches_are_reused_then_refreshed_after_a_write():
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(400, 4)).astype(np.float32)
    vf = VectorFrame(4, "Dot", progress=False)
    vf.upsert(range(400), vecs, payload=[{"a": i % 10} for i in range(400)])
    seg = vf._engine.segments[0]
    q = rng.normal(size=4)
    first = vf.search(q, where="a == 3", limit=5)
    assert len(_gathered_entries(seg)) == 1
    again = vf.search(q, where="a == 3", limit=5)
    assert again.ids == first.ids
    match = np.arange(3, 400, 10)
    assert first.ids == match[np.argsort(-(vecs[match] @ q), kind="stable")[:5]].tolist()
    best = first.ids[0]
    vf.upsert([best], [-q * 100], payload=[{"a": 3}])  # now the worst match
    after = vf.search(q, where="a == 3", limit=5)
    assert best not in after.ids and after.ids[:4] == first.ids[1:5]


def test_gathered_matches_stay_under_the_budget():
    from nbvec._collection import GATHERED_BUDGET

    vf = VectorFrame(4, "Dot", progress=False)
    vf.upsert(range(1000), np.random.default_rng(0).normal(size=(1000, 4)),
              payload=[{"a": i % 4} for i in range(1000)])
    seg = vf._engine.segments[0]
    for value in range(4):  # 25% each: only two fit under half the segment
        vf.search(np.ones(4), where="a == @v", params={"v": value}, limit=3)
    held = sum(v[1][1].nbytes for v in _gathered_entries(seg))
    assert 0 < held <= GATHERED_BUDGET * seg.n * 4 * 4
    assert len(_gathered_entries(seg)) == 2


def test_a_repeated_broad_filter_gathers_its_matches_on_the_second_search():
    rng = np.random.default_rng(4)
    vecs = rng.normal(size=(500, 4)).astype(np.float32)
    vf = VectorFrame(4, "Dot", progress=False)
    vf.upsert(range(500), vecs, payload=[{"a": i % 5} for i in range(500)])
    seg = vf._engine.segments[0]
    q = rng.normal(size=4)
    first = vf.search(q, where="a < 2", limit=5)  # 40%: scanned in place the first time
    assert _gathered_entries(seg) == []
    again = vf.search(q, where="a < 2", limit=5)  # seen before: gathered, and kept
    assert len(_gathered_entries(seg)) == 1
    match = np.flatnonzero(np.arange(500) % 5 < 2)
    expected = match[np.argsort(-(vecs[match] @ q), kind="stable")[:5]].tolist()
    assert first.ids == again.ids == expected


def test_the_least_recently_used_gathered_copy_makes_room():
    vf = VectorFrame(4, "Dot", progress=False)
    vf.upsert(range(1000), np.random.default_rng(1).normal(size=(1000, 4)),
              payload=[{"a": i % 4} for i in range(1000)])
    seg = vf._engine.segments[0]

    def kept():
        return sorted(min(k[2].condition.values) for k in seg.allowed_cache if k[0] == "gathered")

    for value in (0, 1, 0, 2):  # 25% each, room for two: 1 is the least recently used
        vf.search(np.ones(4), where="a == @v", params={"v": value}, limit=3)
    assert kept() == [0, 2]


# -- compiled filters kept per filter object ----------------------------------------------
@pytest.fixture
def compiled(monkeypatch) -> list:
    """The filters compiled from now on (the memo's misses), in order."""
    import nbvec._filter._parse as parse

    calls: list = []
    real = parse.parse_filter
    monkeypatch.setattr(parse, "parse_filter", lambda f, *a: calls.append(f) or real(f, *a))
    return calls


def test_a_filter_object_is_compiled_once_until_edited(compiled):
    """The same Filter (or dict) searched again reuses its compiled tree; an
    edit in place, even 1 -> True, compiles it again and changes the answer."""
    from nbvec import models

    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert([1, 2, 3], np.eye(2)[[0, 0, 1]], payload=[{"v": 1}, {"v": True}, {"v": 2}])
    f = models.Filter(must=[models.FieldCondition(key="v", match=models.MatchValue(value=1))])
    d = {"must": [{"key": "v", "match": {"value": 1}}]}
    for flt in (f, d):
        compiled.clear()
        assert [vf.count(filter=flt) for _ in range(3)] == [1, 1, 1] and len(compiled) == 1
        assert vf.search([1, 0], filter=flt).ids == [1]
        if flt is f:
            f.must[0].match.value = True
        else:
            d["must"][0]["match"]["value"] = True
        assert vf.search([1, 0], filter=flt).ids == [2] and len(compiled) == 2


def test_filters_holding_datetimes_are_kept_until_edited(compiled):
    import datetime as dt

    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert([1, 2], np.eye(2), payload=[{"t": "2024-01-01T00:00:00Z"}, {"t": "2025-01-01T00:00:00Z"}])
    f = {"must": [{"key": "t", "range": {"gte": dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)}}]}
    assert vf.search([1, 1], filter=f).ids == [2] and vf.search([1, 1], filter=f).ids == [2]
    assert len(compiled) == 1  # a datetime cannot change in place: kept
    f["must"][0]["range"]["gte"] = dt.datetime(2023, 6, 1, tzinfo=dt.timezone.utc)
    assert sorted(vf.search([1, 1], filter=f).ids) == [1, 2] and len(compiled) == 2


def test_filters_holding_mutable_values_are_compiled_every_time(compiled):
    """A numpy array inside a filter could change without the filter's own
    objects changing: no memo for it."""
    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert([1, 2, 3], np.eye(2)[[0, 0, 1]], payload=[{"v": 1}, {"v": 2}, {"v": 3}])
    values = np.array([1, 2])
    f = {"must": [{"key": "v", "match": {"any": values}}]}
    assert vf.count(filter=f) == 2 and vf.count(filter=f) == 2 and len(compiled) == 2
    values[1] = 5  # edited inside the array: the filter's objects are all the same ones
    assert vf.count(filter=f) == 1 and len(compiled) == 3


@pytest.mark.parametrize("edit", ["append", "replace", "new_clause", "moved_bound", "qdrant_model"])
def test_every_kind_of_edit_to_a_filter_model_compiles_again(compiled, edit):
    """Edits anywhere in a model filter reach the memo: a list grown, an
    element replaced, a clause set, a bound moved to another field (deleted
    and set again: the same objects under other names), an edit inside a
    qdrant-client model; the answer follows the edit."""
    from qdrant_client import models as qm

    from nbvec import models

    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert(range(6), np.eye(2)[[0] * 6], payload=[{"v": i} for i in range(6)])
    m = qm if edit == "qdrant_model" else models
    f = m.Filter(must=[m.FieldCondition(key="v", range=m.Range(lt=4))])
    assert vf.count(filter=f) == 4 and vf.count(filter=f) == 4 and len(compiled) == 1
    gte1 = models.FieldCondition(key="v", range=models.Range(gte=1))
    expected = {"append": 3, "replace": 5, "new_clause": 3, "moved_bound": 2, "qdrant_model": 2}
    if edit == "append":
        f.must.append(gte1)
    elif edit == "replace":
        f.must[0] = gte1
    elif edit == "new_clause":
        f.must_not = [models.HasIdCondition(has_id=[0])]
    elif edit == "moved_bound":  # lt=4 becomes gte=4: the same value object, another field
        bound = f.must[0].range
        value = bound.lt
        for name in ("gt", "gte", "lt", "lte"):
            delattr(bound, name)
        bound.gte, bound.gt, bound.lt, bound.lte = value, None, None, None
    else:
        f.must[0].range.lt = 2
    assert vf.count(filter=f) == expected[edit] and len(compiled) == 2


def test_a_datetime_with_a_changeable_time_zone_is_compiled_every_time(compiled):
    """A datetime is a fixed value only without a time zone or with a fixed
    one: a tzinfo object of the caller's could change its offset."""
    import datetime as dt

    class Shifting(dt.tzinfo):
        hours = 0

        def utcoffset(self, when):
            return dt.timedelta(hours=self.hours)

    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert([1, 2], np.eye(2), payload=[{"t": "2024-01-01T01:00:00Z"}, {"t": "2024-01-01T03:00:00Z"}])
    zone = Shifting()
    f = {"must": [{"key": "t", "range": {"gte": dt.datetime(2024, 1, 1, 2, tzinfo=zone)}}]}
    assert vf.count(filter=f) == 1 and vf.count(filter=f) == 1 and len(compiled) == 2
    zone.hours = 2  # 02:00+02:00 is 00:00Z: both points now
    assert vf.count(filter=f) == 2


def test_a_pydantic_dataclass_condition_is_read(compiled):
    """Conditions may be any object with the fields (a pydantic dataclass
    too); the memo reads them as models: kept until edited."""
    import pydantic

    @pydantic.dataclasses.dataclass
    class Condition:
        key: str
        match: dict

    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert([1, 2], np.eye(2), payload=[{"v": 1}, {"v": 2}])
    cond = Condition(key="v", match={"value": 1})
    f = {"must": [cond]}
    assert vf.count(filter=f) == 1 and vf.count(filter=f) == 1 and len(compiled) == 1
    cond.match["value"] = 2
    assert vf.search([0, 1], filter=f).ids == [2] and len(compiled) == 2


def test_many_distinct_filters_keep_the_cache_bounded():
    from nbvec._collection import ALLOWED_CACHE_ENTRIES

    vf = VectorFrame(2, "Dot", progress=False)
    vf.upsert(range(50), np.random.default_rng(0).normal(size=(50, 2)),
              payload=[{"n": i} for i in range(50)])
    for bound in range(400):  # one-shot filters, each with its mask, plan, rows...
        vf.search([1, 0], where="n < @bound", params={"bound": bound % 50 + 0.5 * (bound // 50)})
    seg = next(s for s in vf._engine.segments if s.n)
    assert len(seg.allowed_cache) <= ALLOWED_CACHE_ENTRIES + 8


def test_where_queries_compile_once_per_text_and_values():
    """The same query text with the same @values returns the compiled tree
    kept from before; a changed value, or the same value of another type
    (True vs 1, 1 vs 1.0), or an edited list compiles afresh."""
    from nbvec._filter._where import parse_where

    first = parse_where("a == @v and b in @xs", params={"v": 1, "xs": [1, 2]})
    assert parse_where("a == @v and b in @xs", params={"v": 1, "xs": [1, 2]}) is first
    for v, xs in ((True, [1, 2]), (1.0, [1, 2]), (2, [1, 2]), (1, [1, 3]), (1, [True, 2])):
        other = parse_where("a == @v and b in @xs", params={"v": v, "xs": xs})
        assert other is not first
        assert other == parse_where(f"a == {v!r} and b in {xs!r}")
    xs = [1, 2]
    assert parse_where("b in @xs", frame=sys._getframe()) == parse_where("b in [1, 2]")
    xs.append(5)  # the caller's list, edited in place: read again
    assert parse_where("b in @xs", frame=sys._getframe()) == parse_where("b in [1, 2, 5]")


def test_where_memo_still_raises_for_bad_values():
    from nbvec._filter._where import parse_where

    with pytest.raises(InvalidFilter, match="@missing is not defined"):
        parse_where("a == @missing")
    with pytest.raises(InvalidFilter, match="NaN"):
        parse_where("a == @v", params={"v": float("nan")})
    assert parse_where("a == @v", params={"v": 1}) == parse_where("a == 1")
    with pytest.raises(InvalidFilter, match="NaN"):  # the same text, kept compiled: still checked
        parse_where("a == @v", params={"v": float("nan")})
    with pytest.raises(InvalidFilter, match="nested list"):
        parse_where("a in @v", params={"v": [[1]]})


def test_a_repeated_filter_meets_the_same_allowed_object():
    """Requests repeating a filter (object or where text) resolve to one
    Allowed, so the per-segment caches keyed by it compare by identity; a
    new filter, or the same one with excluded ids, gets its own."""
    from nbvec import models

    vf = _frame([{"v": i % 3} for i in range(30)])
    f = models.Filter(must=[models.FieldCondition(key="v", match=models.MatchValue(value=1))])
    first = vf._allowed(f, None, None, None)
    assert vf._allowed(f, None, None, None) is first
    assert vf._allowed(None, "v == 1", None, None) is vf._allowed(None, "v == 1", None, None)
    other = models.Filter(must=[models.FieldCondition(key="v", match=models.MatchValue(value=2))])
    assert vf._allowed(other, None, None, None) is not first
    excluding = vf._allowed(f, None, None, None, exclude_ids=[1])
    assert excluding is not first and excluding.exclude_ids == (1,)
    assert excluding == vf._allowed(f, None, None, None, exclude_ids=[1]) != first
    assert vf.search([1, 0], filter=f, limit=30).ids == vf.search([1, 0], where="v == 1",
                                                                   limit=30).ids
