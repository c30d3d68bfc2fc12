"""``where`` queries by example: pandas' query syntax over payload fields,
``@name`` from params or from the caller's frame, backticked key paths,
and what ``!=``, ``not in``, numbers, None and datetimes mean."""

from __future__ import annotations

import datetime as dt
import sys

import numpy as np
import pandas as pd
import pytest

from nbvec import VectorFrame
from nbvec._filter import compile_filter, segment_mask

PAYLOADS = {
    1: {"country": "Australia", "year": 1995, "meta": {"lang": "en"}, "tags": ["a", "b"]},
    2: {"country": "Australia", "year": 2001, "meta": {"lang": "de"}, "tags": ["c"]},
    3: {"country": "Australia", "year": 1990.0, "meta": {"lang": "fr"}, "flag": True},
    4: {"country": "New Zealand", "year": 1999, "meta": {"lang": "en"}, "flag": False},
    5: {"country": "Australia", "year": 1989, "meta": {"lang": "en"}, "note": None},
    6: {"title": 'say "hi" @home `now` & | ~', "year": True},
    7: {"created": "2023-06-01T12:00:00Z", "country": None},
    8: {"created": "2022-01-01 00:00:00", "title": "it's"},
}
LANGS = ["en", "de"]  # a global of this module: found through the caller's frame


@pytest.fixture(scope="module")
def vf():
    ids = list(PAYLOADS)
    frame = VectorFrame(2, "Dot", progress=False)
    frame.upsert(ids, np.ones((len(ids), 2)), payload=[PAYLOADS[i] for i in ids])
    return frame


def where(vf, query, params=None) -> set:
    """Ids matching ``query``; ``@names`` resolve in the caller's frame."""
    cond = compile_filter(where=query, params=params, frame=sys._getframe(1))
    out = set()
    for seg in vf._engine.segments:
        out.update(seg.ids[: seg.n][segment_mask(cond, seg) & seg.live_mask()].tolist())
    return out


def test_the_readme_example(vf):
    langs = ["en", "fr"]  # noqa: F841 (read by @langs through the caller's frame)
    assert where(vf, "country == 'Australia' and year >= 1990 and `meta.lang` in @langs") == {1, 3}


def test_at_name_from_globals_and_params(vf):
    assert where(vf, "`meta.lang` in @LANGS") == {1, 2, 4, 5}
    assert where(vf, "`meta.lang` in @LANGS", params={"LANGS": ["fr"]}) == {3}  # params first
    assert where(vf, "year < @cut", params={"cut": np.int64(1991)}) == {3, 5}
    assert where(vf, "year in @ys", params={"ys": np.array([1995, 2001])}) == {1, 2}
    assert where(vf, "country in @c", params={"c": pd.Series(["New Zealand"])}) == {4}


def test_chained_comparisons(vf):
    assert where(vf, "1990 <= year < 2000") == {1, 3, 4}
    assert where(vf, "2000 > year >= 1990") == {1, 3, 4}
    assert where(vf, "1989 < year <= 1995") == {1, 3}


def test_numbers_compare_as_numbers_never_as_bools(vf):
    assert where(vf, "year == 1990") == {3}  # the float 1990.0
    assert where(vf, "year == 1990.0") == {3}
    assert where(vf, "year == True") == {6}
    assert where(vf, "year in [1, 1995]") == {1}  # True is not 1


def test_quotes_backticks_and_at_inside_values_are_values(vf):
    assert where(vf, """title == 'say "hi" @home `now` & | ~'""") == {6}
    assert where(vf, "title == \"it's\"") == {8}
    assert where(vf, "title == 'it\\'s'") == {8}
    assert where(vf, "`title` in ['x', \"say \\\"hi\\\" @home `now` & | ~\"]") == {6}


def test_pandas_boolean_operators_and_their_precedence(vf):
    assert where(vf, "country == 'Australia' & year > 2000 | flag == False") == {2, 4}
    assert where(vf, "(country == 'Australia') & ~(year > 1990)") == {3, 5}
    assert where(vf, "flag") == {3}
    assert where(vf, "not flag") == set(PAYLOADS) - {3}


def test_not_equal_and_not_in_keep_points_without_the_key(vf):
    """Like Qdrant's must_not and like pandas (NaN != 'x'), unlike Qdrant's except."""
    assert where(vf, "country != 'Australia'") == {4, 6, 7, 8}
    assert where(vf, "country not in ['Australia', 'New Zealand']") == {6, 7, 8}
    except_ = compile_filter({"must": [{"key": "country", "match": {"except": ["Australia"]}}]})
    seg = vf._engine.segments[0]
    assert set(seg.ids[: seg.n][segment_mask(except_, seg)].tolist()) == {4}


def test_arrays_match_if_any_element_does(vf):
    assert where(vf, "tags == 'b'") == {1}
    assert where(vf, "'c' in tags") == {2}
    assert where(vf, "tags != 'b'") == set(PAYLOADS) - {1}


def test_none_means_null(vf):
    assert where(vf, "note == None") == {5}
    assert where(vf, "country is None") == {7}
    assert where(vf, "note is not None") == set(PAYLOADS) - {5}
    assert where(vf, "country in [None, 'New Zealand']") == {4, 7}


def test_datetimes(vf):
    assert where(vf, "created >= '2023-01-01'") == {7}
    assert where(vf, "created < '2023-01-01T00:00:00+01:00'") == {8}
    assert where(vf, "created > @t", params={"t": dt.datetime(2021, 1, 1)}) == {7, 8}
    assert where(vf, "created > @t", params={"t": pd.Timestamp("2022-06-01", tz="UTC")}) == {7}
    assert where(vf, "created == @t", params={"t": np.datetime64("2022-01-01T00:00:00")}) == {8}


def test_both_filter_and_where_must_hold(vf):
    cond = compile_filter({"must": [{"key": "meta.lang", "match": {"value": "en"}}]},
                          where="year > 1990")
    seg = vf._engine.segments[0]
    assert set(seg.ids[: seg.n][segment_mask(cond, seg)].tolist()) == {1, 4}


def test_multiline_queries(vf):
    assert where(vf, """
        country == 'Australia'
        and year > 2000
    """) == {2}
