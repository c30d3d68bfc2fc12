"""Declared payload types (payload indexes) refuse conditions that cannot
match them, such as a range on a keyword field; undeclared fields and
type-free conditions pass."""

from __future__ import annotations

import pytest

from nbvec import InvalidFilter
from nbvec._filter import check_condition, compile_filter
from nbvec.models import KeywordIndexParams, PayloadIndexInfo, PayloadSchemaType

SCHEMA = {"city": "keyword", "year": PayloadSchemaType.INTEGER, "score": {"type": "float"},
          "flag": KeywordIndexParams(type="keyword"), "at": "datetime", "body": "text",
          "ok": PayloadIndexInfo(data_type=PayloadSchemaType.BOOL, points=0),
          "items[].qty": "integer"}


@pytest.mark.parametrize("where", [
    "city == 'Paris' and year >= 1990 and score < 0.5 and at > '2023-01-01'",
    "city in ['a', 'b'] and year in [1, 2] and ok == True",
    "undeclared < 3 and city != 'x' and year == None",
])
def test_fitting_conditions_pass(where):
    check_condition(compile_filter(where=where), SCHEMA)


@pytest.mark.parametrize("rest", [
    {"must": [{"key": "body", "match": {"text": "hello"}}]},
    {"must": [{"key": "city", "match": {"prefix": "Pa"}}]},
    {"must": [{"key": "city", "values_count": {"gt": 1}}, {"is_empty": {"key": "year"}}]},
    {"must": [{"nested": {"key": "items", "filter": {"must": [{"key": "qty", "range": {"gt": 1}}]}}}]},
])
def test_fitting_filters_pass(rest):
    check_condition(compile_filter(rest), SCHEMA)


@pytest.mark.parametrize("where, words", [
    ("city > 3", ["range", "'city'", "'keyword'"]),
    ("year == 'x'", ["match", "'year'", "'integer'"]),
    ("score == True", ["'score'", "'float'"]),
    ("at == 3", ["'at'", "'datetime'"]),
    ("not (ok in [1, 2])", ["'ok'", "'bool'"]),
    ("year > '2023-01-01'", ["datetime range", "'year'"]),
])
def test_mismatched_conditions_are_refused(where, words):
    with pytest.raises(InvalidFilter) as err:
        check_condition(compile_filter(where=where), SCHEMA)
    for w in words:
        assert w in str(err.value)


def test_nested_paths_are_checked_under_their_array():
    rest = {"must": [{"nested": {"key": "items", "filter": {
        "must": [{"key": "qty", "match": {"value": "many"}}]}}}]}
    with pytest.raises(InvalidFilter, match=r"'items\[\]\.qty'"):
        check_condition(compile_filter(rest), SCHEMA)


def test_unknown_schema_names_are_refused():
    with pytest.raises(InvalidFilter, match="unknown payload schema"):
        check_condition(compile_filter(where="x == 1"), {"x": "number"})
