"""Client batches (query_batch_points, search_batch): n requests answer as n
single calls, however they group, and every response is the model that
validated construction makes (equality, repr, model_dump, model_dump_json)."""

from __future__ import annotations

import numpy as np
import pytest

import nbvec
from nbvec import models as nm

D = 4


@pytest.fixture
def client():
    c = nbvec.Client()
    c.create_collection("c", vectors_config=nm.VectorParams(size=D, distance="Cosine"))
    rng = np.random.default_rng(3)
    payloads = [{"k": i % 5, "tag": f"t{i % 3}", "nested": {"l": [i]}} if i % 4 else {"k": i % 5}
                for i in range(60)]
    c.upsert("c", nm.Batch(ids=list(range(60)), vectors=rng.normal(size=(60, D)).tolist(),
                           payloads=payloads))
    return c


def below(bound):
    return nm.Filter(must=[nm.FieldCondition(key="k", range=nm.Range(lt=bound))])


def validated(response):
    """The same response built through pydantic's validation."""
    return nm.QueryResponse(points=[nm.ScoredPoint(**p.model_dump(exclude_unset=True))
                                    for p in response.points])


def assert_models(got):
    for response in got:
        want = validated(response)
        assert response == want and repr(response) == repr(want)
        assert response.model_dump() == want.model_dump()
        assert response.model_dump_json() == want.model_dump_json()
        assert type(response.points) is list
        assert response.model_fields_set == {"points"}
        assert all(p.model_fields_set == {"id", "version", "score", "payload", "vector"}
                   for p in response.points)


def requests(rng):
    """Requests that group every way: one shared filter object, an equal
    filter given as another object, other limits, a query by id, vectors
    returned, a payload selector."""
    shared = below(3)
    qs = rng.normal(size=(9, D)).tolist()
    return [
        nm.QueryRequest(query=qs[0], filter=shared, limit=3, with_payload=True),
        nm.QueryRequest(query=qs[1], filter=shared, limit=3, with_payload=True),
        nm.QueryRequest(query=qs[2], filter=below(3), limit=3, with_payload=True),
        nm.QueryRequest(query=np.array(qs[3]), filter=shared, limit=5),
        nm.QueryRequest(query=7, filter=shared, limit=3, with_payload=True),
        nm.QueryRequest(query=qs[4], limit=2, with_vector=True),
        nm.QueryRequest(query=qs[5], filter=below(1), limit=4,
                        with_payload=nm.PayloadSelectorInclude(include=["nested"])),
        nm.QueryRequest(query=nm.NearestQuery(nearest=qs[6]), filter=shared, limit=3,
                        with_payload=True),
        nm.QueryRequest(query=qs[7], filter=below(0), limit=3),  # matches nothing
    ]


def single(client, r):
    return client.query_points("c", query=r.query, query_filter=r.filter, limit=r.limit,
                               with_payload=r.with_payload or False,
                               with_vectors=r.with_vector or False)


def test_batch_answers_as_single_calls_with_validated_models(client):
    reqs = requests(np.random.default_rng(0))
    got = client.query_batch_points("c", reqs)
    want = [single(client, r) for r in reqs]
    assert got == want
    assert [len(r.points) for r in got] == [3, 3, 3, 5, 3, 2, 4, 3, 0]
    assert_models(got)
    assert_models(want)


def test_batch_responses_own_their_points_and_payloads(client):
    q = np.random.default_rng(1).normal(size=D).tolist()
    a, b = client.query_batch_points("c", [nm.QueryRequest(query=q, limit=5, with_payload=True)
                                           for _ in range(2)])
    assert a == b and a.points is not b.points
    assert all(p is not r for p, r in zip(a.points, b.points))
    a.points[0].payload["k"] = "edited"
    a.points.pop()
    assert b == client.query_points("c", query=q, limit=5)


def test_search_batch_equals_searches(client):
    rng = np.random.default_rng(2)
    reqs = [nm.SearchRequest(vector=v, filter=below(3), limit=4, with_payload=True)
            for v in rng.normal(size=(4, D)).tolist()]
    got = client.search_batch("c", reqs)
    assert got == [client.search("c", query_vector=r.vector, query_filter=r.filter, limit=4)
                   for r in reqs]
    assert all(type(hits) is list for hits in got)


def test_interleaved_arguments_group_by_identity_then_by_value(client, monkeypatch):
    """Requests alternating between two filter objects, and a third filter
    equal to the first in value, answer as single calls (in request order),
    in two batch searches: the four ``a`` / ``a_again`` requests in one,
    the two ``b`` in the other."""
    from nbvec import VectorFrame

    rng = np.random.default_rng(4)
    a, b, a_again = below(3), below(2), below(3)
    filters = [a, b, a, a_again, b, a]
    reqs = [nm.QueryRequest(query=v, filter=f, limit=3, with_payload=True)
            for v, f in zip(rng.normal(size=(len(filters), D)).tolist(), filters)]
    batches = []
    search_table = VectorFrame._search_table

    def counted(self, name, queries, *args, **kwargs):
        batches.append(len(queries))
        return search_table(self, name, queries, *args, **kwargs)

    monkeypatch.setattr(VectorFrame, "_search_table", counted)
    got = client.query_batch_points("c", reqs)
    assert sorted(batches) == [2, 4]
    assert got == [single(client, r) for r in reqs]
    assert_models(got)
