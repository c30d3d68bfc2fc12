"""nbvec.models against qdrant-client's models: same names, fields, enum
values and REST forms; readable errors; qdrant-client objects convert.

qdrant-client is the oracle here only; nbvec.models never imports it.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from datetime import datetime, timezone

import numpy as np
import pytest

import nbvec.models as nm
from nbvec._errors import InvalidRequest
from nbvec.models import to_nbvec
from nbvec.models._base import NbvecEnum, NbvecModel

qm = pytest.importorskip("qdrant_client.http.models")
qdrant_models = pytest.importorskip("qdrant_client.models")

MODULES = [
    "_core",
    "_filters",
    "_points",
    "_vectors",
    "_vector_config",
    "_queries",
    "_requests",
    "_responses",
    "_collections",
    "_aliases",
    "_payload_index",
    "_convert",
]

# Fields nbvec has and qdrant-client 1.20 has not, each with its reason.
EXTRA_FIELDS = {
    ("CollectionInfo", "vectors_count"): "dropped by Qdrant 1.13; older tutorials print it",
}
# Classes nbvec has and qdrant-client 1.20 has not: its pre-1.10 search API.
NOT_IN_QDRANT = {
    "NamedVector",
    "NamedSparseVector",
    "SearchRequest",
    "SearchGroupsRequest",
    "RecommendRequest",
    "RecommendGroupsRequest",
}


def _qdrant_twin(name):
    # qdrant_client.models.QueryResponse is fastembed's; the REST model that
    # query_points returns is in qdrant_client.http.models.
    return getattr(qm, name, None) or getattr(qdrant_models, name, None)


def _public_classes(base):
    return sorted(
        name
        for name in nm.__all__
        if isinstance(getattr(nm, name), type) and issubclass(getattr(nm, name), base)
    )


MODEL_NAMES = _public_classes(NbvecModel)
ENUM_NAMES = _public_classes(NbvecEnum)


# --- public names -------------------------------------------------------------


def test_init_reexports_exactly_the_modules_names():
    names = []
    for module in MODULES:
        mod = importlib.import_module(f"nbvec.models.{module}")
        names += mod.__all__
        for name in mod.__all__:
            assert getattr(nm, name) is getattr(mod, name)
    assert sorted(nm.__all__) == sorted(names)
    assert len(set(names)) == len(names), "a name is exported by two modules"


def test_tutorial_names_are_there():
    tutorial = (
        "Distance VectorParams PointStruct Batch PointIdsList Filter FieldCondition MatchValue "
        "MatchAny MatchExcept MatchText Range DatetimeRange PayloadSelectorExclude RecommendQuery "
        "RecommendInput RecommendStrategy CollectionStatus SearchParams NearestQuery QueryResponse "
        "UpdateStatus ScoredPoint Record HasIdCondition IsEmptyCondition NestedCondition Nested"
    )
    assert set(tutorial.split()) <= set(nm.__all__)


def test_models_do_not_import_qdrant_client():
    code = "import sys, nbvec.models; print('qdrant_client' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- same names, fields and enum values as qdrant-client ----------------------


def test_only_known_classes_are_missing_from_qdrant_client():
    missing = {name for name in MODEL_NAMES + ENUM_NAMES if _qdrant_twin(name) is None}
    assert missing == NOT_IN_QDRANT


@pytest.mark.parametrize("name", [n for n in MODEL_NAMES if n not in NOT_IN_QDRANT])
def test_field_names_are_a_subset_of_qdrant_clients(name):
    """Every field of an nbvec model is a field of qdrant-client's model of
    the same name (minus the listed extras), with the same default."""
    ours, theirs = getattr(nm, name).model_fields, _qdrant_twin(name).model_fields
    extra = {f for f in ours if f not in theirs and (name, f) not in EXTRA_FIELDS}
    assert not extra, f"{name} has fields qdrant-client lacks: {extra}"
    for field, info in ours.items():
        twin = theirs.get(field)
        if twin is None or twin.is_required():
            continue
        assert not info.is_required(), f"{name}.{field} is optional in qdrant-client"
        assert info.default == twin.default, f"{name}.{field} default differs"
        assert info.alias == twin.alias


@pytest.mark.parametrize("name", [n for n in ENUM_NAMES if n not in NOT_IN_QDRANT])
def test_enum_values_equal_qdrant_clients(name):
    ours, theirs = getattr(nm, name), _qdrant_twin(name)
    assert [m.name for m in ours] == [m.name for m in theirs]
    assert [m.value for m in ours] == [m.value for m in theirs]
    assert all(str(member) == member.value for member in ours)


# --- REST JSON forms from Qdrant's documentation -------------------------------

city_london = nm.FieldCondition(key="city", match=nm.MatchValue(value="London"))

REST_FORMS = [
    (
        nm.Filter,
        {"must": [{"key": "city", "match": {"value": "London"}}]},
        nm.Filter(must=[city_london]),
    ),
    (
        nm.Filter,
        {"must_not": [{"key": "color", "match": {"any": ["red", "green"]}}]},
        nm.Filter(
            must_not=[nm.FieldCondition(key="color", match=nm.MatchAny(any=["red", "green"]))]
        ),
    ),
    (
        nm.Filter,
        {
            "should": [
                {"key": "city", "match": {"value": "London"}},
                {"key": "city", "match": {"value": "Berlin"}},
            ],
            "min_should": {
                "conditions": [{"key": "count", "range": {"gte": 3}}, {"has_id": [1, 3, 5]}],
                "min_count": 1,
            },
        },
        nm.Filter(
            should=[
                city_london,
                nm.FieldCondition(key="city", match=nm.MatchValue(value="Berlin")),
            ],
            min_should=nm.MinShould(
                conditions=[
                    nm.FieldCondition(key="count", range=nm.Range(gte=3)),
                    nm.HasIdCondition(has_id=[1, 3, 5]),
                ],
                min_count=1,
            ),
        ),
    ),
    (
        nm.Filter,
        {
            "must": [
                {"key": "price", "range": {"gt": 10, "lte": 100.5}},
                {"key": "color", "match": {"except": ["black", "yellow"]}},
                {"key": "description", "match": {"text": "good cheap"}},
                {"key": "comments", "values_count": {"gt": 2}},
                {"is_empty": {"key": "reports"}},
                {"is_null": {"key": "reports"}},
                {"has_vector": "image"},
            ]
        },
        nm.Filter(
            must=[
                nm.FieldCondition(key="price", range=nm.Range(gt=10, lte=100.5)),
                nm.FieldCondition(
                    key="color", match=nm.MatchExcept(**{"except": ["black", "yellow"]})
                ),
                nm.FieldCondition(key="description", match=nm.MatchText(text="good cheap")),
                nm.FieldCondition(key="comments", values_count=nm.ValuesCount(gt=2)),
                nm.IsEmptyCondition(is_empty=nm.PayloadField(key="reports")),
                nm.IsNullCondition(is_null=nm.PayloadField(key="reports")),
                nm.HasVectorCondition(has_vector="image"),
            ]
        ),
    ),
    (
        nm.Filter,
        {
            "must": [
                {
                    "nested": {
                        "key": "diet",
                        "filter": {
                            "must": [
                                {"key": "food", "match": {"value": "meat"}},
                                {"key": "likes", "match": {"value": True}},
                            ]
                        },
                    }
                }
            ]
        },
        nm.Filter(
            must=[
                nm.NestedCondition(
                    nested=nm.Nested(
                        key="diet",
                        filter=nm.Filter(
                            must=[
                                nm.FieldCondition(key="food", match=nm.MatchValue(value="meat")),
                                nm.FieldCondition(key="likes", match=nm.MatchValue(value=True)),
                            ]
                        ),
                    )
                )
            ]
        ),
    ),
    (  # a clause holding a nested filter, and a single condition instead of a list
        nm.Filter,
        {"must_not": {"must": [{"key": "city", "match": {"value": "London"}}]}},
        nm.Filter(must_not=nm.Filter(must=[city_london])),
    ),
    (
        nm.FieldCondition,
        {"key": "date", "range": {"gt": "2023-02-08T10:49:00Z", "lte": "2024-01-31 10:14:31Z"}},
        nm.FieldCondition(
            key="date",
            range=nm.DatetimeRange(
                gt=datetime(2023, 2, 8, 10, 49, tzinfo=timezone.utc),
                lte=datetime(2024, 1, 31, 10, 14, 31, tzinfo=timezone.utc),
            ),
        ),
    ),
    (nm.SearchParams, {"hnsw_ef": 128, "exact": False}, nm.SearchParams(hnsw_ef=128, exact=False)),
    (
        nm.QueryRequest,
        {"query": [0.2, 0.1, 0.9], "with_payload": {"exclude": ["city"]}, "limit": 3},
        nm.QueryRequest(
            query=[0.2, 0.1, 0.9], with_payload=nm.PayloadSelectorExclude(exclude=["city"]), limit=3
        ),
    ),
    (
        nm.QueryRequest,
        {
            "query": {
                "recommend": {"positive": [100, 231], "negative": [718], "strategy": "best_score"}
            }
        },
        nm.QueryRequest(
            query=nm.RecommendQuery(
                recommend=nm.RecommendInput(
                    positive=[100, 231], negative=[718], strategy=nm.RecommendStrategy.BEST_SCORE
                )
            )
        ),
    ),
    (
        nm.QueryGroupsRequest,
        {
            "query": {"nearest": 43},
            "group_by": "document_id",
            "with_lookup": {"collection": "docs", "with_payload": ["title"]},
        },
        nm.QueryGroupsRequest(
            query=nm.NearestQuery(nearest=43),
            group_by="document_id",
            with_lookup=nm.WithLookup(collection="docs", with_payload=["title"]),
        ),
    ),
    (
        nm.PointsList,
        {"points": [{"id": 1, "vector": [0.05, 0.61], "payload": {"city": "Berlin"}}]},
        nm.PointsList(
            points=[nm.PointStruct(id=1, vector=[0.05, 0.61], payload={"city": "Berlin"})]
        ),
    ),
    (
        nm.CreateCollection,
        {"vectors": {"size": 4, "distance": "Dot"}, "optimizers_config": {"indexing_threshold": 0}},
        nm.CreateCollection(
            vectors=nm.VectorParams(size=4, distance=nm.Distance.DOT),
            optimizers_config=nm.OptimizersConfigDiff(indexing_threshold=0),
        ),
    ),
    (
        nm.ChangeAliasesOperation,
        {
            "actions": [
                {"create_alias": {"collection_name": "c", "alias_name": "a"}},
                {"delete_alias": {"alias_name": "b"}},
            ]
        },
        nm.ChangeAliasesOperation(
            actions=[
                nm.CreateAliasOperation(
                    create_alias=nm.CreateAlias(collection_name="c", alias_name="a")
                ),
                nm.DeleteAliasOperation(delete_alias=nm.DeleteAlias(alias_name="b")),
            ]
        ),
    ),
]


@pytest.mark.parametrize("model, rest, expected", REST_FORMS)
def test_rest_json_forms_parse(model, rest, expected):
    assert model.model_validate(rest) == expected


@pytest.mark.parametrize("model, rest, expected", REST_FORMS)
def test_rest_json_forms_parse_the_same_in_qdrant_client(model, rest, expected):
    """Our dump of a REST form is read by qdrant-client as the REST form is."""
    theirs = _qdrant_twin(model.__name__)
    dumped = expected.model_dump(exclude_none=True, by_alias=True)
    assert theirs.model_validate(dumped) == theirs.model_validate(rest)


def test_condition_and_match_kinds_are_picked_by_key():
    f = nm.Filter.model_validate(
        {
            "should": [
                {"key": "a", "match": {"text_any": "x y"}},
                {"key": "a", "match": {"phrase": "x y"}},
                {"key": "a", "match": {"prefix": "x"}},
                {"key": "a", "match": {"substring": "x"}},
                {
                    "key": "a",
                    "geo_radius": {"center": {"lon": 13.4, "lat": 52.5}, "radius": 1000.0},
                },
                {},
            ]
        }
    )
    kinds = [
        type(c.match).__name__ if isinstance(c, nm.FieldCondition) else type(c).__name__
        for c in f.should
    ]
    assert kinds[:4] == ["MatchTextAny", "MatchPhrase", "MatchPrefix", "MatchSubstring"]
    assert isinstance(f.should[4].geo_radius, nm.GeoRadius)
    assert kinds[5] == "Filter"  # {} is an empty filter, as in Qdrant


def test_range_kind_follows_its_values():
    assert isinstance(
        nm.FieldCondition.model_validate({"key": "n", "range": {"gte": 1}}).range, nm.Range
    )
    when = nm.FieldCondition.model_validate({"key": "t", "range": {"gte": "2024-05-01"}}).range
    assert isinstance(when, nm.DatetimeRange)
    aware = nm.DatetimeRange(lt=datetime(2024, 5, 1, tzinfo=timezone.utc))
    assert aware.lt.tzinfo is not None


def test_query_inputs_are_picked_by_shape():
    point = uuid.UUID("5c56c793-69f3-4fbf-87e6-c4bf54c28c26")
    assert nm.QueryRequest(query=7).query == 7
    assert nm.QueryRequest(query=str(point)).query == str(point)
    assert nm.QueryRequest(query=point).query == point
    vector = np.array([0.1, 0.2], dtype=np.float32)
    assert nm.QueryRequest(query=vector).query is vector  # vectors are checked by the engine
    assert isinstance(nm.QueryRequest(query={"fusion": "rrf"}).query, nm.FusionQuery)
    assert isinstance(
        nm.QueryRequest(query={"indices": [1], "values": [0.5]}).query, nm.SparseVector
    )
    assert isinstance(nm.QueryRequest(query={"text": "hi", "model": "m"}).query, nm.Document)
    assert isinstance(nm.QueryRequest(query={"order_by": "price"}).query, nm.OrderByQuery)


def test_with_payload_forms():
    assert nm.QueryRequest(with_payload=True).with_payload is True
    assert nm.QueryRequest(with_payload=["a", "b"]).with_payload == ["a", "b"]
    include = nm.QueryRequest.model_validate({"with_payload": {"include": ["a"]}}).with_payload
    assert include == nm.PayloadSelectorInclude(include=["a"])


def test_clauses_take_one_condition_or_a_list_and_keep_it():
    assert nm.Filter(must=city_london).must == city_london
    assert nm.Filter(must=[city_london]).must == [city_london]


def test_numpy_values_become_python_values():
    cond = nm.FieldCondition(key="year", match=nm.MatchValue(value=np.int64(2020)))
    assert cond.match.value == 2020 and type(cond.match.value) is int
    assert nm.MatchAny(any=np.array([1, 2])).any == [1, 2]
    assert nm.Range(gte=np.int32(3)).gte == 3.0
    assert nm.HasIdCondition(has_id=np.array([4, 5])).has_id == [4, 5]


def test_match_value_refuses_floats_and_keeps_bools():
    assert nm.MatchValue(value=True).value is True
    with pytest.raises(InvalidRequest, match="value"):
        nm.MatchValue(value=1.5)


def _message(call):
    with pytest.raises(InvalidRequest) as info:
        call()
    assert isinstance(info.value, ValueError)
    return str(info.value)


# --- qdrant-client objects convert -------------------------------------------

CONVERSIONS = [
    (
        qm.Filter(
            must=[
                qm.FieldCondition(key="city", match=qm.MatchValue(value="London")),
                qm.FieldCondition(key="price", range=qm.Range(gte=10, lt=20.5)),
            ],
            should=qm.FieldCondition(key="color", match=qm.MatchAny(any=["red", "blue"])),
            must_not=[
                qm.FieldCondition(key="size", match=qm.MatchExcept(**{"except": [1, 2]})),
                qm.HasIdCondition(has_id=[3]),
                qm.IsEmptyCondition(is_empty=qm.PayloadField(key="tags")),
                qm.NestedCondition(nested=qm.Nested(key="diet", filter=qm.Filter(must=[]))),
            ],
        ),
        nm.Filter(
            must=[city_london, nm.FieldCondition(key="price", range=nm.Range(gte=10, lt=20.5))],
            should=nm.FieldCondition(key="color", match=nm.MatchAny(any=["red", "blue"])),
            must_not=[
                nm.FieldCondition(key="size", match=nm.MatchExcept(except_=[1, 2])),
                nm.HasIdCondition(has_id=[3]),
                nm.IsEmptyCondition(is_empty=nm.PayloadField(key="tags")),
                nm.NestedCondition(nested=nm.Nested(key="diet", filter=nm.Filter(must=[]))),
            ],
        ),
    ),
    (
        qm.FieldCondition(key="t", range=qm.DatetimeRange(gt="2023-02-08T10:49:00Z")),
        nm.FieldCondition(
            key="t", range=nm.DatetimeRange(gt=datetime(2023, 2, 8, 10, 49, tzinfo=timezone.utc))
        ),
    ),
    (qm.SearchParams(hnsw_ef=128, exact=True), nm.SearchParams(hnsw_ef=128, exact=True)),
    (
        qm.VectorParams(size=100, distance=qm.Distance.COSINE, on_disk=True),
        nm.VectorParams(size=100, distance=nm.Distance.COSINE, on_disk=True),
    ),
    (
        qm.PointStruct(id=1, vector=[0.05, 0.61, 0.76], payload={"city": "Berlin"}),
        nm.PointStruct(id=1, vector=[0.05, 0.61, 0.76], payload={"city": "Berlin"}),
    ),
    (
        qm.PointStruct(id="5c56c793-69f3-4fbf-87e6-c4bf54c28c26", vector={"image": [0.1, 0.2]}),
        nm.PointStruct(id="5c56c793-69f3-4fbf-87e6-c4bf54c28c26", vector={"image": [0.1, 0.2]}),
    ),
    (
        qm.Batch(ids=[1, 2], vectors=[[0.1, 0.2], [0.3, 0.4]], payloads=[{"a": 1}, {"a": 2}]),
        nm.Batch(ids=[1, 2], vectors=[[0.1, 0.2], [0.3, 0.4]], payloads=[{"a": 1}, {"a": 2}]),
    ),
    (
        qm.RecommendInput(
            positive=[100, 231], negative=[[0.1, 0.2]], strategy=qm.RecommendStrategy.AVERAGE_VECTOR
        ),
        nm.RecommendInput(positive=[100, 231], negative=[[0.1, 0.2]], strategy="average_vector"),
    ),
    (
        qm.RecommendQuery(recommend=qm.RecommendInput(positive=[1])),
        nm.RecommendQuery(recommend=nm.RecommendInput(positive=[1])),
    ),
    (qm.PointIdsList(points=[1, 2]), nm.PointIdsList(points=[1, 2])),
    (qm.PayloadSelectorExclude(exclude=["city"]), nm.PayloadSelectorExclude(exclude=["city"])),
    (
        qm.HnswConfigDiff(m=16, ef_construct=100),
        nm.HnswConfigDiff(m=16, ef_construct=100),
    ),
    (
        qm.ScoredPoint(id=3, version=2, score=0.9, payload={"a": 1}),
        nm.ScoredPoint(id=3, version=2, score=0.9, payload={"a": 1}),
    ),
]


@pytest.mark.parametrize("theirs, ours", CONVERSIONS, ids=lambda o: type(o).__name__)
def test_qdrant_client_objects_convert(theirs, ours):
    converted = to_nbvec(theirs, type(ours))
    assert type(converted) is type(ours)
    assert converted == ours


def test_enums_convert_to_ours():
    converted = to_nbvec(qm.VectorParams(size=3, distance=qm.Distance.DOT), nm.VectorParams)
    assert type(converted.distance) is nm.Distance and converted.distance is nm.Distance.DOT


def test_to_nbvec_takes_ours_as_is_and_dicts():
    params = nm.SearchParams(exact=True)
    assert to_nbvec(params, nm.SearchParams) is params
    assert to_nbvec({"exact": True}, nm.SearchParams) == params


@pytest.mark.parametrize(
    "obj",
    [
        qm.FieldCondition(key="a", match=qm.MatchValue(value=1)),
        nm.FieldCondition(key="a"),
        [{"key": "a"}],
        "must",
    ],
    ids=["qdrant-other-class", "ours-other-class", "list", "str"],
)
def test_to_nbvec_refuses_other_kinds(obj):
    with pytest.raises(InvalidRequest, match="expected Filter"):
        to_nbvec(obj, nm.Filter)


@pytest.mark.parametrize(
    "obj, union, expected",
    [
        (
            qm.NearestQuery(nearest=[0.1, 0.2]),
            nm.QueryInterface,
            nm.NearestQuery(nearest=[0.1, 0.2]),
        ),
        (
            qm.RecommendQuery(recommend=qm.RecommendInput(positive=[1], strategy="best_score")),
            nm.QueryInterface,
            nm.RecommendQuery(recommend=nm.RecommendInput(positive=[1], strategy="best_score")),
        ),
        (17, nm.QueryInterface, 17),
        ({"nearest": 17}, nm.QueryInterface, nm.NearestQuery(nearest=17)),
        (qm.HasIdCondition(has_id=[1]), nm.Condition, nm.HasIdCondition(has_id=[1])),
        ({"must": {"key": "a"}}, nm.Condition, nm.Filter(must=nm.FieldCondition(key="a"))),
        (True, nm.WithPayloadInterface, True),
        (
            qm.PayloadSelectorExclude(exclude=["a"]),
            nm.WithPayloadInterface,
            nm.PayloadSelectorExclude(exclude=["a"]),
        ),
        (qm.PointIdsList(points=[1]), nm.PointsSelector, nm.PointIdsList(points=[1])),
    ],
    ids=lambda o: type(o).__name__,
)
def test_to_nbvec_takes_union_types(obj, union, expected):
    assert to_nbvec(obj, union) == expected


def test_to_nbvec_keeps_numpy_query_vectors():
    vector = np.ones(3, dtype=np.float32)
    assert to_nbvec(vector, nm.QueryInterface) is vector


def test_to_nbvec_union_errors_use_the_given_name():
    msg = _message(lambda: to_nbvec({"nearst": [0.1]}, nm.QueryInterface, name="query"))
    assert msg.startswith("invalid query:") and "expected a vector, a point id, or a query" in msg
    msg = _message(
        lambda: to_nbvec({"recommend": {"positive": [1.5]}}, nm.QueryInterface, name="query")
    )
    assert "query.recommend.positive[0]: expected a vector" in msg


def test_nested_models_are_built_without_python_init():
    """NbvecModel.__init__ only wraps errors; pydantic must not call it for
    nested models (that would slow every ScoredPoint in a QueryResponse)."""
    assert not any(getattr(nm, name).__pydantic_custom_init__ for name in MODEL_NAMES)


# --- errors name the field --------------------------------------------------


def test_unknown_field_is_named_with_the_models_fields():
    msg = _message(lambda: nm.VectorParams(size=4, distance="Cosine", on_dsk=True))
    assert msg.startswith("invalid VectorParams:")
    assert "on_dsk: not a field of VectorParams" in msg and "on_disk" in msg


def test_unknown_nested_field_is_named_by_path():
    msg = _message(
        lambda: nm.Filter.model_validate({"must": [{"key": "city", "mach": {"value": "London"}}]})
    )
    assert "must[0].mach: not a field of FieldCondition" in msg


def test_bad_type_is_named_by_path_with_what_is_expected():
    msg = _message(
        lambda: nm.Filter.model_validate({"must": [{"key": "city", "match": {"value": 1.5}}]})
    )
    assert "must[0].match.value:" in msg and "valid integer" in msg and "1.5" in msg
    assert msg.count("\n") == 1  # one line for the path, not one per union member


def test_unknown_condition_kind_lists_the_known_ones():
    msg = _message(lambda: nm.Filter.model_validate({"must": [{"field": "city"}]}))
    assert "must[0]: expected a condition" in msg and "'key'" in msg and "'has_id'" in msg


def test_unknown_match_kind_lists_the_known_ones():
    msg = _message(lambda: nm.FieldCondition.model_validate({"key": "a", "match": {"values": [1]}}))
    assert "match: expected a match" in msg and "'any'" in msg


def test_missing_field_is_named():
    msg = _message(lambda: nm.VectorParams(size=4))
    assert "distance: required field is missing" in msg


def test_bad_enum_value_is_named():
    msg = _message(lambda: nm.VectorParams(size=4, distance="cosinus"))
    assert "distance:" in msg and "'Cosine'" in msg


def test_to_nbvec_errors_name_model_and_field():
    msg = _message(lambda: to_nbvec({"hnsw_ef": "many"}, nm.SearchParams))
    assert msg.startswith("invalid SearchParams:") and "hnsw_ef:" in msg


def test_qdrant_fields_nbvec_lacks_are_refused_not_ignored():
    if "idf" not in qm.SearchParams.model_fields:
        pytest.skip("qdrant-client without SearchParams.idf")
    theirs = qm.SearchParams(idf=next(iter(qm.IdfScope)))
    msg = _message(lambda: to_nbvec(theirs, nm.SearchParams))
    assert "idf: not a field of SearchParams" in msg


# --- pydantic behaviour tutorials rely on -------------------------------------


def test_list_of_model_yields_field_value_pairs():
    assert list(nm.CountResult(count=3)) == [("count", 3)]
    pairs = dict(nm.UpdateResult(operation_id=1, status=nm.UpdateStatus.COMPLETED))
    assert pairs == {"operation_id": 1, "status": nm.UpdateStatus.COMPLETED}


def test_equality_is_by_value():
    assert nm.Filter(must=[city_london]) == nm.Filter.model_validate(
        {"must": [{"key": "city", "match": {"value": "London"}}]}
    )
    assert nm.MatchValue(value="a") != nm.MatchValue(value="b")
    assert nm.Range(gte=1) != nm.ValuesCount(gte=1)


def test_enums_print_as_their_values():
    assert str(nm.CollectionStatus.GREEN) == "green"
    assert nm.CollectionStatus.GREEN == "green"
    assert f"{nm.Distance.COSINE}" == "Cosine"


def test_collection_info_reads_like_qdrant_clients():
    info = nm.CollectionInfo(
        status="green",
        optimizer_status="ok",
        points_count=2,
        segments_count=1,
        config=nm.CollectionConfig(
            params=nm.CollectionParams(vectors=nm.VectorParams(size=4, distance="Dot")),
            hnsw_config=nm.HnswConfig(m=16, ef_construct=100, full_scan_threshold=10000),
            optimizer_config=nm.OptimizersConfig(default_segment_number=0, flush_interval_sec=5),
        ),
        payload_schema={"city": nm.PayloadIndexInfo(data_type="keyword", points=2)},
    )
    assert info.status == nm.CollectionStatus.GREEN
    assert info.optimizer_status is nm.OptimizersStatusOneOf.OK
    assert info.config.params.vectors.size == 4
    dumped = info.model_dump(exclude_none=True, exclude={"vectors_count"})
    assert qm.CollectionInfo.model_validate(dumped).config.params.vectors.size == 4


@pytest.mark.parametrize("values", [
    {"id": 1, "score": 0.5},
    {"id": "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", "version": 3, "score": -1.5,
     "payload": {"a": [1, {"b": None}]}, "vector": [0.1, 0.2]},
    {"id": 7, "version": 0, "score": 2.0, "payload": None, "vector": {"img": [1.0]}},
])
def test_trusted_scored_point_equals_a_validated_one(values):
    from nbvec.models import ScoredPoint

    fast, checked = ScoredPoint.trusted(**values), ScoredPoint(**values)
    assert fast == checked
    assert repr(fast) == repr(checked)
    assert fast.model_dump() == checked.model_dump()
    assert fast.model_dump_json() == checked.model_dump_json()
    assert fast.model_fields_set == checked.model_fields_set
    assert list(fast) == list(checked)


def test_search_hits_are_what_validation_makes():
    from nbvec._hit_results import _make_points
    from nbvec.models import ScoredPoint

    fast, bare = _make_points([3, 1], [2, 0], [0.25, 0.0], [{"k": [1]}, None], [[0.5], None])
    checked = ScoredPoint(id=3, version=2, score=0.25, payload={"k": [1]}, vector=[0.5])
    assert fast == checked and repr(fast) == repr(checked)
    assert fast.model_dump() == checked.model_dump()
    assert fast.model_dump_json() == checked.model_dump_json()
    assert fast.model_fields_set == checked.model_fields_set
    assert bare == ScoredPoint(id=1, version=0, score=0.0, payload=None, vector=None)
    fast.model_fields_set.add("shard_key")  # each instance owns its set
    assert bare.model_fields_set == checked.model_fields_set


def test_trusted_instances_equal_validated_ones():
    from nbvec.models import QueryResponse, ScoredPoint
    from nbvec.models._base import trusted_instances

    hits = [ScoredPoint(id=i, score=i / 2) for i in range(3)]
    fast = trusted_instances(QueryResponse, [{"points": hits[:2]}, {"points": []}],
                             frozenset({"points"}))
    checked = [QueryResponse(points=hits[:2]), QueryResponse(points=[])]
    assert fast == checked and repr(fast) == repr(checked)
    assert [r.model_dump_json() for r in fast] == [r.model_dump_json() for r in checked]
    assert [r.model_fields_set for r in fast] == [r.model_fields_set for r in checked]
    fast[0].points.append(hits[2])  # each instance owns its values
    assert fast[1].points == [] and fast[0].model_fields_set is not fast[1].model_fields_set
    assert trusted_instances(QueryResponse, [], frozenset({"points"})) == []
