"""Qdrant's REST API in process: ``Client.rest_request(method, path, body)``.

A call is routed by method and path through one table to a handler that
validates the JSON body with the REST request models, runs the Client
method, and returns the result in REST's own JSON shape and with REST's own
defaults (search and query return no payload and no vector unless asked;
retrieve and scroll return the payload). Errors are raised as nbvec
exceptions, not turned into status dicts.

>>> from nbvec import Client
>>> client = Client()
>>> client.rest_request("PUT", "/collections/demo",
...                     {"vectors": {"size": 2, "distance": "Dot"}})["result"]
True
>>> _ = client.rest_request("PUT", "/collections/demo/points",
...                         {"points": [{"id": 1, "vector": [1, 0], "payload": {"a": 1}}]})
>>> client.rest_request("POST", "/collections/demo/points/search",
...                     {"vector": [1, 0], "top": 1})["result"]
[{'id': 1, 'version': 0, 'score': 1.0}]
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, unquote

from ._client_query import refuse
from ._errors import InvalidRequest, PointNotFound, UnsupportedFeature
from .models import (
    ChangeAliasesOperation,
    CountRequest,
    CreateCollection,
    CreateFieldIndex,
    DeletePayload,
    FilterSelector,
    PointIdsList,
    PointInsertOperations,
    PointRequest,
    PointsBatch,
    PointsSelector,
    QueryGroupsRequest,
    QueryRequest,
    RecommendGroupsRequest,
    RecommendRequest,
    ScrollRequest,
    SearchGroupsRequest,
    SearchRequest,
    SetPayload,
    to_nbvec,
)

__all__ = ["handle", "ROUTES"]

# Query-string parameters that mean nothing to one in-process replica: writes
# are applied before the call returns (as with wait=true) and every read sees
# them (any consistency level holds).
_NEUTRAL_QUERY_PARAMS = {"wait", "timeout", "ordering", "consistency"}


# -- bodies ------------------------------------------------------------------
def _renamed(body: dict, aliases: dict) -> dict:
    """``body`` with REST's field aliases (``top``, ``with_vectors``) renamed."""
    body = dict(body)
    for alias, field in aliases.items():
        if alias in body:
            if field in body:
                raise InvalidRequest(f"give {field!r} or its alias {alias!r}, not both")
            body[field] = body.pop(alias)
    return body


_WITH_VECTORS = {"with_vectors": "with_vector"}
_SEARCH_ALIASES = {"top": "limit", **_WITH_VECTORS}


def _take(body: dict, what: str, required=(), optional=()) -> dict:
    """Check a body without a request model: required keys present, no unknown ones."""
    unknown = set(body) - set(required) - set(optional)
    missing = [k for k in required if k not in body]
    if unknown or missing:
        raise InvalidRequest(
            f"{what}: " + "; ".join(
                ([f"unknown field(s) {sorted(unknown)}"] if unknown else [])
                + ([f"missing field(s) {missing}"] if missing else []))
            + f" (its fields: {', '.join([*required, *optional])})")
    return body


def _selector(points, flt, what: str):
    """PointIdsList or FilterSelector from a body's ``points`` / ``filter``."""
    if (points is None) == (flt is None):
        raise InvalidRequest(f"{what}: give either 'points' (a list of ids) or 'filter'")
    return PointIdsList(points=points) if points is not None else FilterSelector(filter=flt)


def _searches(body: dict, what: str) -> list:
    _take(body, what, required=["searches"])
    if not isinstance(body["searches"], list):
        raise InvalidRequest(f"{what}: 'searches' must be a list of requests")
    return body["searches"]


# -- results -----------------------------------------------------------------
def _json(model) -> dict:
    """A result model as REST JSON: enums as strings, unset options left out
    (Qdrant skips ``payload``/``vector`` of a point when they were not asked)."""
    return model.model_dump(mode="json", exclude_none=True)


def _points(points) -> list:
    return [_json(p) for p in points]


# -- collections -------------------------------------------------------------
def _create_collection(client, p, body):
    c = to_nbvec(body, CreateCollection, "body")
    return client.create_collection(
        p["name"], vectors_config=c.vectors, sparse_vectors_config=c.sparse_vectors,
        shard_number=c.shard_number, sharding_method=c.sharding_method,
        replication_factor=c.replication_factor,
        write_consistency_factor=c.write_consistency_factor, on_disk_payload=c.on_disk_payload,
        hnsw_config=c.hnsw_config, optimizers_config=c.optimizers_config,
        wal_config=c.wal_config, quantization_config=c.quantization_config,
        strict_mode_config=c.strict_mode_config, metadata=c.metadata)


def _delete_collection(client, p, body):
    return client.delete_collection(p["name"])


def _list_collections(client, p, body):
    return _json(client.get_collections())


def _get_collection(client, p, body):
    return _json(client.get_collection(p["name"]))


def _collection_exists(client, p, body):
    return {"exists": client.collection_exists(p["name"])}


def _update_aliases(client, p, body):
    ops = to_nbvec(body, ChangeAliasesOperation, "body")
    return client.update_collection_aliases(ops.actions)


def _list_aliases(client, p, body):
    return _json(client.get_aliases())


def _collection_aliases(client, p, body):
    client._entry(p["name"])  # CollectionNotFound, as Qdrant answers
    return _json(client.get_collection_aliases(p["name"]))


def _create_index(client, p, body):
    req = to_nbvec(body, CreateFieldIndex, "body")
    return _json(client.create_payload_index(p["name"], req.field_name, req.field_schema))


def _delete_index(client, p, body):
    return _json(client.delete_payload_index(p["name"], p["field"]))


# -- points: writes ----------------------------------------------------------
def _upsert(client, p, body):
    op = to_nbvec(body, PointInsertOperations, "body")
    points = op.batch if isinstance(op, PointsBatch) else op.points
    return _json(client.upsert(p["name"], points, shard_key_selector=op.shard_key,
                                  update_filter=op.update_filter, update_mode=op.update_mode))


def _delete_points(client, p, body):
    sel = to_nbvec(body, PointsSelector, "body")
    return _json(client.delete(p["name"], sel, shard_key_selector=sel.shard_key))


def _payload_op(method: str):
    def handler(client, p, body):
        req = to_nbvec(body, SetPayload, "body")
        sel = _selector(req.points, req.filter, "payload")
        extra = {"key": req.key} if method == "set_payload" else {}
        if method == "overwrite_payload" and req.key is not None:
            raise InvalidRequest("overwriting payload takes no 'key'")
        return _json(getattr(client, method)(p["name"], req.payload, sel,
                                                shard_key_selector=req.shard_key, **extra))

    handler.__name__ = f"_{method}"
    return handler


def _delete_payload(client, p, body):
    req = to_nbvec(body, DeletePayload, "body")
    sel = _selector(req.points, req.filter, "payload/delete")
    return _json(client.delete_payload(p["name"], req.keys, sel,
                                          shard_key_selector=req.shard_key))


def _clear_payload(client, p, body):
    sel = to_nbvec(body, PointsSelector, "body")
    return _json(client.clear_payload(p["name"], sel, shard_key_selector=sel.shard_key))


def _update_vectors(client, p, body):
    _take(body, "points/vectors", required=["points"], optional=["shard_key", "update_filter"])
    return _json(client.update_vectors(p["name"], body["points"],
                                          shard_key_selector=body.get("shard_key"),
                                          update_filter=body.get("update_filter")))


def _delete_vectors(client, p, body):
    _take(body, "points/vectors/delete", required=["vector"],
          optional=["points", "filter", "shard_key"])
    sel = _selector(body.get("points"), body.get("filter"), "points/vectors/delete")
    return _json(client.delete_vectors(p["name"], body["vector"], sel,
                                          shard_key_selector=body.get("shard_key")))


# -- points: reads -----------------------------------------------------------
def _retrieve(client, p, body):
    req = to_nbvec(_renamed(body, _WITH_VECTORS), PointRequest, "body")
    return _points(client.retrieve(
        p["name"], req.ids, shard_key_selector=req.shard_key,
        with_payload=True if req.with_payload is None else req.with_payload,
        with_vectors=req.with_vector or False))


def _get_point(client, p, body):
    raw = p["id"]
    # as Qdrant reads a path id: an unsigned 64-bit number if it is one, else a UUID
    point_id = int(raw) if raw.isdigit() and int(raw) < 2**64 else raw
    found = client.retrieve(p["name"], [point_id], with_payload=True, with_vectors=True)
    if not found:
        raise PointNotFound(f"Not found: Point with id {raw} does not exists!")
    return _json(found[0])


def _count(client, p, body):
    req = to_nbvec(body, CountRequest, "body")
    return _json(client.count(p["name"], count_filter=req.filter, exact=req.exact,
                              shard_key_selector=req.shard_key))


def _scroll(client, p, body):
    req = to_nbvec(_renamed(body, _WITH_VECTORS), ScrollRequest, "body")
    records, next_offset = client.scroll(
        p["name"], scroll_filter=req.filter, limit=req.limit or 10, order_by=req.order_by,
        offset=req.offset, with_payload=True if req.with_payload is None else req.with_payload,
        with_vectors=req.with_vector or False, shard_key_selector=req.shard_key)
    return {"points": _points(records), "next_page_offset": next_offset}


def _search_request(body, what: str) -> SearchRequest:
    if not isinstance(body, dict):
        raise InvalidRequest(f"{what}: a search request is a JSON object")
    body = _renamed(body, _SEARCH_ALIASES)
    # Qdrant's server requires a limit, but its own search docs show bodies without
    # one; nbvec runs them with the query API's default.
    body.setdefault("limit", 10)
    return to_nbvec(body, SearchRequest, what)


def _search(client, p, body):
    return _points(client.search_batch(p["name"], [_search_request(body, "body")])[0])


def _search_batch(client, p, body):
    reqs = [_search_request(r, f"searches[{i}]")
            for i, r in enumerate(_searches(body, "search/batch"))]
    return [_points(hits) for hits in client.search_batch(p["name"], reqs)]


def _query_request(body, what: str) -> QueryRequest:
    if not isinstance(body, dict):
        raise InvalidRequest(f"{what}: a query request is a JSON object")
    return to_nbvec(_renamed(body, _WITH_VECTORS), QueryRequest, what)


def _query(client, p, body):
    return _json(client.query_batch_points(p["name"], [_query_request(body, "body")])[0])


def _query_batch(client, p, body):
    reqs = [_query_request(r, f"searches[{i}]")
            for i, r in enumerate(_searches(body, "query/batch"))]
    return [_json(r) for r in client.query_batch_points(p["name"], reqs)]


def _recommend_request(body, what: str) -> RecommendRequest:
    if not isinstance(body, dict):
        raise InvalidRequest(f"{what}: a recommend request is a JSON object")
    body = _renamed(body, _SEARCH_ALIASES)
    body.setdefault("limit", 10)
    return to_nbvec(body, RecommendRequest, what)


def _rest_defaults(req):
    """REST returns no payload and no vectors unless asked."""
    return dict(with_payload=req.with_payload or False, with_vectors=req.with_vector or False)


def _recommend(client, p, body):
    return _points(client.recommend_batch(p["name"], [_recommend_request(body, "body")])[0])


def _recommend_batch(client, p, body):
    reqs = [_recommend_request(r, f"searches[{i}]")
            for i, r in enumerate(_searches(body, "recommend/batch"))]
    return [_points(hits) for hits in client.recommend_batch(p["name"], reqs)]


def _groups_json(result) -> dict:
    return {"groups": [_json(g) for g in result.groups]}


def _search_groups(client, p, body):
    req = to_nbvec(_renamed(_body_dict(body, "search/groups"), _SEARCH_ALIASES),
                   SearchGroupsRequest, "body")
    refuse(req.shard_key, "shard keys")
    return _groups_json(client.search_groups(
        p["name"], req.vector, req.group_by, query_filter=req.filter, search_params=req.params,
        limit=req.limit, group_size=req.group_size, score_threshold=req.score_threshold,
        with_lookup=req.with_lookup, **_rest_defaults(req)))


def _recommend_groups(client, p, body):
    req = to_nbvec(_renamed(_body_dict(body, "recommend/groups"), _SEARCH_ALIASES),
                   RecommendGroupsRequest, "body")
    refuse(req.shard_key, "shard keys")
    return _groups_json(client.recommend_groups(
        p["name"], req.group_by, positive=req.positive, negative=req.negative,
        strategy=req.strategy, query_filter=req.filter, search_params=req.params,
        limit=req.limit, group_size=req.group_size, score_threshold=req.score_threshold,
        using=req.using, lookup_from=req.lookup_from, with_lookup=req.with_lookup,
        **_rest_defaults(req)))


def _query_groups(client, p, body):
    req = to_nbvec(_renamed(_body_dict(body, "query/groups"), _WITH_VECTORS),
                   QueryGroupsRequest, "body")
    refuse(req.shard_key, "shard keys")
    return _groups_json(client.query_points_groups(
        p["name"], req.group_by, query=req.query, using=req.using, prefetch=req.prefetch,
        query_filter=req.filter, search_params=req.params, limit=req.limit or 10,
        group_size=req.group_size or 3, score_threshold=req.score_threshold,
        with_lookup=req.with_lookup, lookup_from=req.lookup_from, **_rest_defaults(req)))


def _body_dict(body, what: str) -> dict:
    if not isinstance(body, dict):
        raise InvalidRequest(f"{what}: the request body is a JSON object")
    return body


def _unsupported(endpoint: str, feature: str):
    def handler(client, p, body):
        raise UnsupportedFeature(f"nbvec does not support the REST endpoint {endpoint} "
                                 f"({feature})")

    return handler


# -- the route table ---------------------------------------------------------
_C = "/collections/{name}"
_P = _C + "/points"

#: (method, path template, handler); ``{name}``, ``{id}``, ``{field}`` match one segment.
ROUTES = [
    ("GET", "/collections", _list_collections),
    ("POST", "/collections/aliases", _update_aliases),
    ("GET", "/aliases", _list_aliases),
    ("PUT", _C, _create_collection),
    ("DELETE", _C, _delete_collection),
    ("GET", _C, _get_collection),
    ("GET", _C + "/exists", _collection_exists),
    ("GET", _C + "/aliases", _collection_aliases),
    ("PUT", _C + "/index", _create_index),
    ("DELETE", _C + "/index/{field}", _delete_index),
    ("PUT", _P, _upsert),
    ("POST", _P, _retrieve),
    ("GET", _P + "/{id}", _get_point),
    ("POST", _P + "/delete", _delete_points),
    ("POST", _P + "/count", _count),
    ("POST", _P + "/scroll", _scroll),
    ("POST", _P + "/payload", _payload_op("set_payload")),
    ("PUT", _P + "/payload", _payload_op("overwrite_payload")),
    ("POST", _P + "/payload/delete", _delete_payload),
    ("POST", _P + "/payload/clear", _clear_payload),
    ("PUT", _P + "/vectors", _update_vectors),
    ("POST", _P + "/vectors/delete", _delete_vectors),
    ("POST", _P + "/search", _search),
    ("POST", _P + "/search/batch", _search_batch),
    ("POST", _P + "/query", _query),
    ("POST", _P + "/query/batch", _query_batch),
    ("POST", _P + "/recommend", _recommend),
    ("POST", _P + "/recommend/batch", _recommend_batch),
    ("POST", _P + "/recommend/groups", _recommend_groups),
    ("POST", _P + "/search/groups", _search_groups),
    ("POST", _P + "/query/groups", _query_groups),
    ("POST", _P + "/discover", _unsupported("POST /collections/{name}/points/discover",
                                             "discovery search")),
    ("POST", _P + "/discover/batch", _unsupported(
        "POST /collections/{name}/points/discover/batch", "discovery search")),
]


# A point id in a path is a number or a UUID, so /points/search is never read as an id.
_PARAM_PATTERNS = {"id": r"[0-9]+|[0-9a-fA-F-]{32,36}"}


def _compile(template: str):
    def param(match):
        name = match.group(1)
        return f"(?P<{name}>{_PARAM_PATTERNS.get(name, '[^/]+')})"

    return re.compile(re.sub(r"\\\{(\w+)\\\}", param, re.escape(template)))


_TABLE = [(method, _compile(template), handler) for method, template, handler in ROUTES]


def _route(method: str, path: str):
    other_methods = []
    for m, pattern, handler in _TABLE:
        match = pattern.fullmatch(path)
        if match and m == method:
            return handler, {k: unquote(v) for k, v in match.groupdict().items()}
        if match:
            other_methods.append(m)
    if other_methods:
        raise InvalidRequest(f"{path} takes {' or '.join(other_methods)}, not {method}")
    known = "\n".join(f"  {m} {t}" for m, t, _ in ROUTES)
    raise InvalidRequest(f"no REST endpoint {method} {path}; the known ones:\n{known}")


def _body(body) -> dict:
    if body is None:
        return {}
    if isinstance(body, (str, bytes, bytearray)):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise InvalidRequest(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequest(f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def handle(client, method: str, path: str, body=None) -> dict:
    """Run one REST call on ``client``: ``{"result": ..., "status": "ok", "time": s}``.

    ``path`` may carry a query string; ``wait``, ``timeout``, ``ordering`` and
    ``consistency`` are accepted (they change nothing in process), others refused.
    """
    start = time.perf_counter()
    if not isinstance(method, str) or not isinstance(path, str):
        raise InvalidRequest("rest_request(method, path, body): method and path are strings")
    path, _, query = path.partition("?")
    unknown = set(parse_qs(query, keep_blank_values=True)) - _NEUTRAL_QUERY_PARAMS
    if unknown:
        raise InvalidRequest(f"unknown query parameter(s) {sorted(unknown)} in {path}?{query}; "
                             f"nbvec accepts {sorted(_NEUTRAL_QUERY_PARAMS)}")
    method = method.upper()
    handler, params = _route(method, "/" + path.strip("/"))
    body = _body(body)
    if body and method in ("GET", "DELETE"):
        raise InvalidRequest(f"{method} {path} takes no body")
    result = handler(client, params, body)
    return {"result": result, "status": "ok", "time": time.perf_counter() - start}
