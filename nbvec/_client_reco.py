"""The Client's recommendation and grouping endpoints: ``recommend``,
``recommend_batch``, ``search_groups``, ``recommend_groups``,
``query_points_groups`` and RecommendQuery inside ``query_points``.

They translate to VectorFrame.recommend / search_groups / recommend_groups.
"""

from __future__ import annotations

from ._client_query import named_query_vector, query_kind, refuse, search_params_kwargs
from ._errors import InvalidRequest
from .models import (
    GroupsResult,
    LookupLocation,
    RecommendInput,
    RecommendQuery,
    RecommendRequest,
    ScoredPoint,
    WithLookup,
    to_nbvec,
)

__all__ = ["RecommendGroupsMixin"]


def _strategy(strategy) -> str:
    return "average_vector" if strategy is None else getattr(strategy, "value", strategy)


class RecommendGroupsMixin:
    """Client methods for recommendations and groups (mixed into Client)."""

    def _lookup_location(self, lookup_from, name):
        """``(frame, vector name)`` of a LookupLocation, or None."""
        if lookup_from is None:
            return None
        loc = to_nbvec(lookup_from, LookupLocation, "lookup_from")
        return self._frame(loc.collection), loc.vector if loc.vector is not None else name

    def _with_lookup(self, with_lookup):
        """``(frame, with_payload, with_vectors)`` of a with_lookup argument."""
        if with_lookup is None:
            return None
        if isinstance(with_lookup, str):
            return self._frame(with_lookup), True, True
        wl = to_nbvec(with_lookup, WithLookup, "with_lookup")
        return (self._frame(wl.collection),
                True if wl.with_payload is None else wl.with_payload,
                True if wl.with_vectors is None else wl.with_vectors)

    def _recommend(self, collection_name, recommend: RecommendInput, using, query_filter,
                   search_params, limit, offset, with_payload, with_vectors, score_threshold,
                   lookup_from):
        """ScoredPoints of one recommendation."""
        frame = self._frame(collection_name)
        return frame.recommend(
            recommend.positive or (), recommend.negative or (),
            strategy=_strategy(recommend.strategy), using=using, filter=query_filter,
            limit=limit, offset=offset or 0, score_threshold=score_threshold,
            with_payload=with_payload, with_vectors=with_vectors,
            lookup_from=self._lookup_location(lookup_from, using),
            **search_params_kwargs(search_params))

    def recommend(self, collection_name: str, positive=None, negative=None,
                  query_filter=None, search_params=None, limit=10, offset=0,
                  with_payload=True, with_vectors=False, score_threshold=None, using=None,
                  lookup_from=None, strategy=None, consistency=None, shard_key_selector=None,
                  timeout=None, **kwargs) -> list[ScoredPoint]:
        """The legacy recommend endpoint (seed 000): points like ``positive``
        and unlike ``negative`` (ids or vectors)."""
        refuse(shard_key_selector, "shard keys")
        if "query_vector" in kwargs:
            raise InvalidRequest(
                "recommend() takes no query_vector: recommendations are made from examples. "
                "Use positive=[...]/negative=[...] (ids or vectors), or query_points("
                "query=models.RecommendQuery(recommend=models.RecommendInput(positive=..., "
                "negative=...)))")
        if kwargs:
            raise InvalidRequest(f"recommend() got unknown argument(s) {sorted(kwargs)}")
        rec = RecommendInput(positive=positive, negative=negative, strategy=strategy)
        return list(self._recommend(collection_name, rec, using, query_filter, search_params,
                                    limit, offset, with_payload, with_vectors, score_threshold,
                                    lookup_from))

    def recommend_batch(self, collection_name: str, requests, consistency=None, timeout=None,
                        **kwargs) -> list[list[ScoredPoint]]:
        """Several RecommendRequests (requests sharing a filter share its
        per-segment masks through the filter cache)."""
        out = []
        for r in requests:
            r = to_nbvec(r, RecommendRequest, "requests[]")
            rec = RecommendInput(positive=r.positive, negative=r.negative, strategy=r.strategy)
            out.append(list(self._recommend(collection_name, rec, r.using, r.filter, r.params,
                                            r.limit, r.offset, r.with_payload or False,
                                            r.with_vector or False, r.score_threshold,
                                            r.lookup_from)))
        return out

    def _groups(self, collection_name, group_by, query, using, query_filter, search_params,
                limit, group_size, with_payload, with_vectors, score_threshold, with_lookup,
                lookup_from):
        frame = self._frame(collection_name)
        kind, value = query_kind(query)
        lookup = self._with_lookup(with_lookup)
        common = dict(limit=limit, group_size=group_size, with_lookup=lookup, using=using,
                      filter=query_filter, score_threshold=score_threshold,
                      with_payload=with_payload, with_vectors=with_vectors,
                      **search_params_kwargs(search_params))
        if kind == "recommend":
            rec = value.recommend
            groups = frame.recommend_groups(
                rec.positive or (), rec.negative or (), group_by, strategy=_strategy(rec.strategy),
                lookup_from=self._lookup_location(lookup_from, using), **common)
        elif kind == "none":
            raise InvalidRequest("grouped queries need a query (vector, point id or "
                                 "RecommendQuery)")
        else:
            if kind == "id":
                groups = frame.recommend_groups(
                    [value], (), group_by,
                    lookup_from=self._lookup_location(lookup_from, using), **common)
            else:
                groups = frame.search_groups(value, group_by, **common)
        return GroupsResult(groups=list(groups))

    def query_points_groups(self, collection_name: str, group_by: str, query=None, using=None,
                            prefetch=None, query_filter=None, search_params=None, limit=10,
                            group_size=3, with_payload=True, with_vectors=False,
                            score_threshold=None, with_lookup=None, lookup_from=None,
                            consistency=None, shard_key_selector=None, timeout=None,
                            **kwargs) -> GroupsResult:
        """Groups of a query (vector, point id or RecommendQuery)."""
        refuse(prefetch, "prefetch")
        refuse(shard_key_selector, "shard keys")
        if kwargs:
            raise InvalidRequest(f"query_points_groups() got unknown argument(s) "
                                 f"{sorted(kwargs)} (offset is not allowed with groups)")
        return self._groups(collection_name, group_by, query, using, query_filter,
                            search_params, limit, group_size, with_payload, with_vectors,
                            score_threshold, with_lookup, lookup_from)

    def search_groups(self, collection_name: str, query_vector, group_by: str,
                      query_filter=None, search_params=None, limit=10, group_size=1,
                      with_payload=True, with_vectors=False, score_threshold=None,
                      with_lookup=None, consistency=None, shard_key_selector=None,
                      timeout=None, **kwargs) -> GroupsResult:
        """The legacy grouped search (seed 000)."""
        refuse(shard_key_selector, "shard keys")
        if kwargs:
            raise InvalidRequest(f"search_groups() got unknown argument(s) {sorted(kwargs)}")
        name, vector = named_query_vector(query_vector)
        return self._groups(collection_name, group_by, vector, name, query_filter,
                            search_params, limit, group_size, with_payload, with_vectors,
                            score_threshold, with_lookup, None)

    def recommend_groups(self, collection_name: str, group_by: str, positive=None,
                         negative=None, query_filter=None, search_params=None, limit=10,
                         group_size=1, score_threshold=None, with_payload=True,
                         with_vectors=False, using=None, lookup_from=None, with_lookup=None,
                         strategy=None, consistency=None, shard_key_selector=None,
                         timeout=None, **kwargs) -> GroupsResult:
        """The legacy grouped recommendation (seed 000)."""
        refuse(shard_key_selector, "shard keys")
        if kwargs:
            raise InvalidRequest(f"recommend_groups() got unknown argument(s) {sorted(kwargs)}")
        query = RecommendQuery(recommend=RecommendInput(positive=positive, negative=negative,
                                                        strategy=strategy))
        return self._groups(collection_name, group_by, query, using, query_filter,
                            search_params, limit, group_size, with_payload, with_vectors,
                            score_threshold, with_lookup, lookup_from)
