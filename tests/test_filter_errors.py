"""Bad filters and ``where`` queries raise InvalidFilter naming the offending
part; Qdrant features nbvec does not evaluate raise UnsupportedFeature; and
no query string is ever executed, however hostile."""

from __future__ import annotations

import pytest

from nbvec import InvalidFilter, UnsupportedFeature
from nbvec._filter import compile_filter

qmodels = pytest.importorskip("qdrant_client.models")


@pytest.mark.parametrize("rest, names", [
    ({"must": [{"kye": "a", "match": {"value": 1}}]}, ["filter.must[0]", "kye"]),
    ({"muts": []}, ["muts"]),
    ({"must": [], "extra": 1}, ["'extra'", "a filter"]),
    ({"must": [{"key": "a", "match": {"value": 1}, "foo": 2}]}, ["filter.must[0]", "'foo'"]),
    ({"must": [{"key": "a", "match": {"val": 1}}]}, ["filter.must[0].match", "'val'"]),
    ({"must": [{"key": "a", "match": {"value": 1, "any": [1]}}]}, ["exactly one", "'value', 'any'"]),
    ({"must": [{"key": "a", "match": {"value": 1}, "range": {"gt": 1}}]}, ["exactly one", "'match'"]),
    ({"must": [{"key": "a"}]}, ["filter.must[0]", "got none"]),
    ({"must": [{"key": "a", "match": {"value": 1.5}}]}, ["match.value", "1.5", "range"]),
    ({"must": [{"key": "a", "match": {"value": None}}]}, ["match.value", "is_null"]),
    ({"must": [{"key": "a", "match": {"any": [1, "x"]}}]}, ["match.any", "not mixed"]),
    ({"must": [{"key": "a", "match": {"any": [True]}}]}, ["match.any"]),
    ({"must": [{"key": "a", "match": {"except": "x"}}]}, ["match.except", "list"]),
    ({"must": [{"key": "a", "match": {"text": 3}}]}, ["match.text", "string"]),
    ({"must": [{"key": "a", "range": {"gt": "soon"}}]}, ["range.gt", "'soon'", "datetime"]),
    ({"must": [{"key": "a", "range": {"gt": float("nan")}}]}, ["range.gt"]),
    ({"must": [{"key": "a", "range": {"gt": True}}]}, ["range.gt", "True"]),
    ({"must": [{"key": "a", "range": {"above": 1}}]}, ["'above'", "a range"]),
    ({"must": [{"key": "a", "values_count": {"gt": -1}}]}, ["values_count.gt", ">= 0"]),
    ({"must": [{"key": "a", "is_empty": "yes"}]}, ["is_empty", "true or false"]),
    ({"must": [{"has_id": [-1]}]}, ["has_id", "-1"]),
    ({"must": [{"has_id": [1.5]}]}, ["has_id", "1.5"]),
    ({"must": [{"has_id": "abc"}]}, ["has_id", "list"]),
    ({"must": [{"has_id": [1], "x": 2}]}, ["'x'"]),
    ({"must": [{"has_vector": 3}]}, ["has_vector"]),
    ({"min_should": {"conditions": [{"key": "a", "match": {"value": 1}}], "min_count": 0}},
     ["min_should.min_count", ">= 1"]),
    ({"min_should": {"conditions": {"key": "a"}, "min_count": 1}}, ["min_should.conditions"]),
    ({"must": [{"nested": {"key": "items"}}]}, ["nested.filter", "required"]),
    ({"must": [{"nested": {"key": "items", "filter": {}, "x": 1}}]}, ["nested", "'x'"]),
    ({"must": [{"is_empty": {"key": "a", "extra": 1}}]}, ["is_empty", "'extra'"]),
    ({"must": [{"is_null": "a"}]}, ["is_null"]),
    ({"must": "a"}, ["filter.must", "'a'"]),
    ({"must": [5]}, ["filter.must[0]", "int"]),
    ({"must": [{"key": "a..b", "match": {"value": 1}}]}, ["a..b"]),
    ({"must": [{"key": "", "match": {"value": 1}}]}, ["filter.must[0].key"]),
    ({"should": [{"must_not": [{"key": 3, "match": {"value": 1}}]}]},
     ["filter.should[0].must_not[0].key"]),
    ({1: []}, ["not a string"]),
])
def test_malformed_filters_name_the_offending_part(rest, names):
    with pytest.raises(InvalidFilter) as err:
        compile_filter(rest)
    for name in names:
        assert name in str(err.value), (name, str(err.value))


def test_a_query_string_given_as_filter_points_to_where():
    with pytest.raises(InvalidFilter, match="where="):
        compile_filter("year > 1990")


@pytest.mark.parametrize("rest, feature", [
    ({"must": [{"key": "loc", "geo_radius": {"center": {"lon": 0, "lat": 0}, "radius": 1}}]},
     "geo_radius"),
    ({"must": [{"key": "loc", "geo_bounding_box": {}}]}, "geo_bounding_box"),
    ({"must": [{"slice": {"total": 2, "index": 0}}]}, "slice"),
])
def test_unsupported_conditions_are_refused_by_name(rest, feature):
    with pytest.raises(UnsupportedFeature, match=feature):
        compile_filter(rest)


def test_unsupported_conditions_in_qdrant_client_models():
    f = qmodels.Filter(must=[qmodels.FieldCondition(
        key="loc", geo_radius=qmodels.GeoRadius(center=qmodels.GeoPoint(lon=0, lat=0), radius=5))])
    with pytest.raises(UnsupportedFeature, match="geo_radius"):
        compile_filter(f)


@pytest.mark.parametrize("query, piece", [
    ("a.__class__ == 1", "a.__class__"),
    ("__import__('os').system('x')", "function call"),
    ("len(tags) > 2", "len(tags)"),
    ("tags[0] == 'a'", "subscript"),
    ("(lambda: 1)() == 1", "lambda"),
    ("__builtins__ == 1", "dunder name is not allowed: __builtins__"),
    ("__class__", "__class__"),
    ("[t for t in tags] == 1", "comprehension"),
    ("f'{x}' == 'a'", "f-string"),
    ("(y := 1) == 1", ":="),
    ("year + 1 > 2000", "arithmetic"),
    ("year * 2 > 2000", "year * 2"),
    ("x == (1 if y else 2)", "conditional"),
    ("x == {'a': 1}", "dict"),
    ("x == 1j", "complex"),
    ("x == b'a'", "bytes"),
    ("x == ...", "ellipsis"),
    ("x == y", "two fields"),
    ("1 < 2", "two values"),
    ("x in 'abc'", "single value"),
    ("x < 'abc'", "not a datetime"),
    ("x < [1, 2]", "with a list"),
    ("x in [[1]]", "nested list"),
    ("x == -'a'", "sign"),
    ("x is 1", "is"),
    ("meta.lang == 'en'", "`meta.lang`"),
    ("@x", "@x"),
    ("x == @undefined_name_here", "@undefined_name_here is not defined"),
    ("x == @", "'@' must be followed"),
    ("x == 'open", "unterminated string"),
    ("`meta.lang == 1", "unterminated backtick"),
    ("`` == 1", "empty backtick"),
    ("x = 1", "cannot parse"),
    ("x ==", "cannot parse"),
    ("   ", "empty"),
    ("x == float('nan')", "function call"),
    ("x == 1 ; y == 2", "cannot parse"),
    ("x == 1\0", "cannot parse"),
    ("(" * 300 + "x == 1" + ")" * 300, "x == 1"),
])
def test_disallowed_where_queries_name_the_piece(query, piece):
    with pytest.raises(InvalidFilter) as err:
        compile_filter(where=query)
    assert piece in str(err.value), str(err.value)


def test_deeply_nested_input_is_refused_cleanly():
    with pytest.raises(InvalidFilter, match="nested too deeply"):
        compile_filter(where="not " * 5000 + "x == 1")
    deep: dict = {"key": "x", "match": {"value": 1}}
    for _ in range(5000):
        deep = {"must": [deep]}
    with pytest.raises(InvalidFilter, match="nested too deeply"):
        compile_filter(deep)


def test_where_and_params_types():
    with pytest.raises(InvalidFilter, match="query string"):
        compile_filter(where=3)
    with pytest.raises(InvalidFilter, match="params"):
        compile_filter(where="x == @a", params=[("a", 1)])
    for bad in ({"k": 1}, b"x", object(), [[1]]):
        with pytest.raises(InvalidFilter, match="@a"):
            compile_filter(where="x in @a", params={"a": bad})
    with pytest.raises(InvalidFilter, match="NaN"):
        compile_filter(where="x == @a", params={"a": float("nan")})


def _hostile(path: str) -> list[str]:
    touch = f"__import__('pathlib').Path({path!r}).touch()"
    return [
        touch,
        f"x == {touch}",
        f"({touch}) and x == 1",
        f"x == 1 or {touch}",
        f"x in [{touch}]",
        f"f'{{{touch}}}' == 'a'",
        f"`a` == 1 and (lambda: {touch})() == 1",
        f"[{touch} for _ in [1]] == 1",
        f"x == 1 & {touch}",
        f"~{touch}",
        f"open({path!r}, 'w').write('x')",
        "x == @p.__class__.__init__.__globals__",
        f"`{path}` == 1 or {touch}",
        f"x == '{path}' or {touch}",
        f"x == \"\\\"\" or {touch}",
    ]


def test_hostile_strings_never_execute(tmp_path):
    target = tmp_path / "pwned"
    for query in _hostile(str(target)):
        with pytest.raises(InvalidFilter):
            compile_filter(where=query, params={"p": 1})
        assert not target.exists(), query


def test_params_objects_are_never_called(tmp_path):
    """An @value that is not plain data is refused, without calling its methods."""
    target = tmp_path / "called"

    class Sneaky:
        def tolist(self):
            target.touch()
            return [1]

        def __iter__(self):
            target.touch()
            return iter([1])

        def __eq__(self, other):
            target.touch()
            return False

        __hash__ = object.__hash__

    with pytest.raises(InvalidFilter, match="Sneaky"):
        compile_filter(where="x in @s", params={"s": Sneaky()})
    assert not target.exists()
