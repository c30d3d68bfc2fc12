"""VectorFrame: the pandas-friendly face of the engine.

>>> import numpy as np
>>> vf = VectorFrame(4, "Dot", progress=False)
>>> _ = vf.upsert([1, 2], np.eye(4)[:2], payload=[{"tag": "a"}, {"tag": "b"}])
>>> vf.search([1, 0, 0, 0], limit=1)[0].id
1
"""

from __future__ import annotations

import numbers
import sys

import numpy as np
import pandas as pd

from ._collection import Allowed, Collection
from ._config import DEFAULT_INDEX, EngineConfig, vector_specs
from ._errors import InvalidPointId, InvalidRequest, PointNotFound, UnsupportedFeature
from ._filter import check_condition, compile_filter, segment_mask
from ._hit_results import HitTable, scored_results, vectors_of
from ._html import frame_summary
from ._ids import normalize_id, normalize_ids
from ._json import to_json_object
from ._payload import PayloadStore, column_batch_from_any, columns_from_dicts, concat_batches
from ._results import Results
from ._selection import payload_selector, vector_names
from ._vectors import (
    as_queries,
    check_name,
    is_float32_vector,
    vectors_from_columns,
    vectors_from_rows,
)
from .models import Record, UpdateResult, UpdateStatus

__all__ = ["VectorFrame"]


def _positive_int(value, what: str) -> int:
    if type(value) is int and value > 0:  # the common case, at once
        return value
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise InvalidRequest(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _nonneg_int(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise InvalidRequest(f"{what} must be an integer >= 0, got {value!r}")
    return int(value)


class VectorFrame:
    """Vectors and payload columns, searched like Qdrant searches a collection.

    ``VectorFrame(size, distance="Cosine")`` holds one unnamed vector per
    point; ``VectorFrame(vectors={"image": VectorParams(size=512, distance="Dot")})``
    holds named ones. Options (Qdrant's units, KB of vector data):
    ``indexing_threshold`` (20000), ``full_scan_threshold`` (10000),
    ``max_segment_size``, ``deleted_threshold`` (0.2), ``n_trees`` (50),
    ``seed``, ``target_recall`` (0.95), ``progress`` (True), ``n_jobs``
    (-1: all cores; 1 builds bit-identical HNSW graphs run after run).
    Sealed segments get an HNSW graph (hnswlib; ``hnsw_m`` 16,
    ``hnsw_ef_construct`` 100) by default, or an annoy forest with
    ``index="annoy"``.
    """

    def __init__(self, size=None, distance="Cosine", *, vectors=None, index=DEFAULT_INDEX,
                 **config):
        specs = vector_specs(size, distance, vectors)
        config = EngineConfig.from_kwargs(index=index, **config)
        self._setup(specs, config, Collection(specs, config), {})

    def _setup(self, specs, config, engine, payload_schema: dict) -> None:
        self._specs = specs
        self._config = config
        self._engine = engine
        self._payload_schema = payload_schema  # key path -> declared type (create_payload_index)
        self._order_cache = None  # (segments' state, uids, rows, ids) in id order
        self._storage = None  # nbvec._storage.Storage when attached to a folder

    @classmethod
    def _restored(cls, specs, config, engine, payload_schema: dict) -> VectorFrame:
        """A frame around an engine read back from storage."""
        frame = cls.__new__(cls)
        frame._setup(specs, config, engine, payload_schema)
        return frame

    # -- storage ---------------------------------------------------------------
    @classmethod
    def open(cls, path, size=None, distance="Cosine", *, vectors=None, read_only=False,
             fsync="interval", mmap=None, wal_capacity_mb=32, **config) -> VectorFrame:
        """The frame stored in folder ``path``, attached: every write goes to
        storage (write-ahead log first, then checkpoints). A folder without a
        frame gets a new one, made like ``VectorFrame(size, distance, ...)``.

        ``read_only``: read beside a writer (no lock; sees its last checkpoint
        and log). ``fsync``: ``"interval"`` (default: a write survives a
        killed process at once and a power loss within ~1 s), ``"always"``,
        ``"never"`` or seconds. ``mmap``: memory-map sealed segments' vectors
        (True), load them (False), or per vector's ``on_disk`` (None); annoy
        indexes are memory-mapped either way, HNSW graphs (which hold their
        own copy of the vectors) read into memory either way.
        One writer per folder: call :meth:`close` (or use ``with``) when done.

        >>> import tempfile, numpy as np
        >>> path = tempfile.mkdtemp()
        >>> with VectorFrame.open(path, 2, "Dot", progress=False) as vf:
        ...     _ = vf.upsert([1, 2], np.eye(2))
        >>> with VectorFrame.open(path) as vf:
        ...     len(vf)
        2
        """
        from ._storage import open_frame

        return open_frame(cls, path, (size, distance, vectors), read_only=read_only,
                          fsync=fsync, mmap=mmap, wal_capacity_mb=wal_capacity_mb,
                          config=config)

    @classmethod
    def load(cls, path, *, mmap=None) -> VectorFrame:
        """An in-memory copy of the frame stored in ``path`` (a snapshot from
        :meth:`save` or an attached folder); later writes stay in memory."""
        from ._storage import load_frame

        return load_frame(cls, path, mmap=mmap)

    def save(self, path) -> None:
        """Write a snapshot of this frame to folder ``path`` (new, or holding
        an earlier snapshot), readable by :meth:`load` and :meth:`open`. On
        a frame attached to ``path``: a checkpoint."""
        from ._storage import save_frame

        save_frame(self, path)

    def close(self) -> None:
        """Checkpoint and detach from storage (releasing the folder for another
        writer); later writes are refused. In-memory frames: nothing to do."""
        if self._storage is not None:
            self._storage.close()

    def __enter__(self) -> VectorFrame:
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False

    # -- constructors --------------------------------------------------------
    @classmethod
    def from_numpy(cls, vectors, ids=None, payload=None, distance="Cosine", **options):
        """A frame from an (n, d) array (or ``{name: array}``), ids default 0..n-1."""
        if isinstance(vectors, dict):
            from .models import VectorParams

            arrays = {k: np.asarray(v) for k, v in vectors.items()}
            vf = cls(vectors={k: VectorParams(size=a.shape[1], distance=distance)
                              for k, a in arrays.items()}, **options)
            n = len(next(iter(arrays.values())))
        else:
            arrays = np.asarray(vectors)
            if arrays.ndim != 2:
                raise InvalidRequest(f"from_numpy expects an (n, d) array, got shape {arrays.shape}")
            vf = cls(arrays.shape[1], distance, **options)
            n = len(arrays)
        vf.upsert(range(n) if ids is None else ids, arrays, payload)
        return vf

    @classmethod
    def from_pandas(cls, df: pd.DataFrame, vector="vector", id=None, distance="Cosine", **options):
        """A frame from a DataFrame: ``vector`` names the column of vectors (or a
        ``{name: column}`` map), ``id`` the id column (default: the index);
        every other column is payload."""
        cols = {"": vector} if isinstance(vector, str) else dict(vector)
        missing = [c for c in list(cols.values()) + ([id] if id else []) if c not in df.columns]
        if missing:
            raise InvalidRequest(f"from_pandas: no column(s) {missing}; columns are {list(df.columns)}")
        arrays = {name: np.stack(df[c].to_numpy()) if len(df) else np.empty((0, 0))
                  for name, c in cols.items()}
        ids = df[id] if id else df.index
        payload = df.drop(columns=list(cols.values()) + ([id] if id else []))
        # to_pandas writes a payload key named like a vector column as payload.<key>
        payload = payload.rename(columns={f"payload.{c}": c for c in cols.values()
                                          if f"payload.{c}" in payload.columns})
        vectors = arrays[""] if list(arrays) == [""] else arrays
        return cls.from_numpy(vectors, ids=ids, payload=payload, distance=distance, **options)

    # -- writes --------------------------------------------------------------
    def _result(self, op: int) -> UpdateResult:
        return UpdateResult(operation_id=op, status=UpdateStatus.COMPLETED)

    def upsert(self, ids, vectors, payload=None) -> UpdateResult:
        """Insert or replace points given in columns: ``vectors`` an (n, d) array
        or ``{name: array}``, ``payload`` a DataFrame or a list of dicts."""
        ids = normalize_ids(ids)
        arrays, present = vectors_from_columns(vectors, self._specs, len(ids))
        if payload is not None and not isinstance(payload, dict) and len(payload) != len(ids):
            raise InvalidRequest(f"upsert: {len(ids)} id(s) but {len(payload)} payloads; give one "
                                 "payload (or None) per id")
        batch = column_batch_from_any(payload, len(ids))
        lengths = {len(c.values) for c in batch.values()}
        if lengths - {len(ids)}:
            raise InvalidRequest(f"upsert: {len(ids)} id(s) but payload for {lengths.pop()} "
                                 "point(s)")
        return self._result(self._engine.upsert(ids, arrays, present, batch))

    def upsert_points(self, points) -> UpdateResult:
        """Insert or replace points given row-wise: PointStruct or
        ``{"id", "vector", "payload"}`` dicts."""
        ids, vecs, payloads = [], [], []
        for p in points:
            get = p.get if isinstance(p, dict) else lambda k, p=p: getattr(p, k, None)
            ids.append(get("id"))
            vecs.append(get("vector"))
            payloads.append(get("payload"))
        ids = normalize_ids(ids)
        arrays, present = vectors_from_rows(vecs, self._specs)
        batch = columns_from_dicts(payloads)
        return self._result(self._engine.upsert(ids, arrays, present, batch))

    def _select(self, ids, filter, where, frame, params=None):
        """(segment uids, rows) of the live points named by ``ids`` and/or
        matching the filter (both given: points that are named AND match)."""
        cond = self._condition(filter, where, params, frame)
        if ids is None and cond is None:
            raise InvalidRequest("select points with ids=..., filter=... or where=...")
        with self._engine.lock:
            if ids is not None:
                _, uids, rows, _ = self._engine.locate(normalize_ids(ids))
                if cond is None:
                    return uids, rows
                keep = np.zeros(len(rows), dtype=bool)
                for seg, r in self._engine.group_rows(uids, rows):
                    keep[np.isin(rows, r) & (uids == seg.uid)] = segment_mask(cond, seg)[r]
                return uids[keep], rows[keep]
            parts_u, parts_r = [], []
            for seg in self._engine.segments:
                r = np.flatnonzero(segment_mask(cond, seg) & seg.live_mask())
                parts_u.append(np.full(len(r), seg.uid, dtype=np.int64))
                parts_r.append(r)
            return np.concatenate(parts_u), np.concatenate(parts_r)

    def _on_selected(self, ids, filter, where, frame, write) -> UpdateResult:
        """``write(uids, rows)`` on the selected points, selection and write under
        one hold of the lock (an optimizer run in between would move rows)."""
        with self._engine.lock:
            uids, rows = self._select(ids, filter, where, frame)
            return self._result(write(uids, rows))

    def delete(self, ids=None, filter=None, *, where=None) -> UpdateResult:
        """Delete points by id (unknown ids are ignored) and/or filter."""
        return self._on_selected(ids, filter, where, sys._getframe(1), self._engine.delete)

    def set_payload(self, payload: dict, ids=None, filter=None, *, where=None) -> UpdateResult:
        """Set keys of ``payload`` on the selected points, keeping other keys."""
        to_json_object(payload)  # validates before anything changes
        return self._on_selected(ids, filter, where, sys._getframe(1), lambda u, r: (
            self._engine.modify(u, r, lambda seg, rows, op: seg.payload.set_same(rows, payload))))

    def overwrite_payload(self, payload: dict, ids=None, filter=None, *, where=None):
        """Replace the whole payload of the selected points."""
        to_json_object(payload)

        def change(seg, r, op):
            seg.payload.clear(r)
            seg.payload.set_same(r, payload)

        return self._on_selected(ids, filter, where, sys._getframe(1),
                                 lambda u, r: self._engine.modify(u, r, change))

    def delete_payload(self, keys, ids=None, filter=None, *, where=None) -> UpdateResult:
        """Remove ``keys`` (nested paths allowed) from the selected points."""
        keys = [keys] if isinstance(keys, str) else list(keys)
        from ._jsonpath import parse_path

        for k in keys:
            parse_path(k)
        return self._on_selected(ids, filter, where, sys._getframe(1), lambda u, r: (
            self._engine.modify(u, r, lambda seg, rows, op: seg.payload.delete_keys(rows, keys))))

    def clear_payload(self, ids=None, filter=None, *, where=None) -> UpdateResult:
        """Remove every payload key of the selected points."""
        return self._on_selected(ids, filter, where, sys._getframe(1), lambda u, r: (
            self._engine.modify(u, r, lambda seg, rows, op: seg.payload.clear(rows))))

    def update_vectors(self, ids, vectors) -> UpdateResult:
        """Replace some vectors of existing points (``vectors``: an array for
        the single vector kind, ``{name: array}``, or one ``{name: vector}``
        per point); payload and other vectors stay. Unknown ids raise
        PointNotFound."""
        ids = normalize_ids(ids)
        if isinstance(vectors, (list, tuple)) and any(isinstance(v, dict) for v in vectors):
            arrays, present = vectors_from_rows(list(vectors), self._specs)
        else:
            arrays, present = vectors_from_columns(vectors, self._specs, len(ids))
        return self._result(self._engine.rewrite_vectors(ids, arrays, present))

    def delete_vectors(self, names, ids=None, filter=None, *, where=None) -> UpdateResult:
        """Remove the named vectors of the selected points (they stay, with
        their payload and other vectors)."""
        names = [check_name(n, self._specs) for n in ([names] if isinstance(names, str) else names)]
        return self._on_selected(ids, filter, where, sys._getframe(1), lambda u, r: (
            self._engine.rewrite_vectors(_ids_at(self._engine, u, r), {}, {}, drop=names)))

    def create_payload_index(self, field: str, schema) -> UpdateResult:
        """Declare the type of payload field ``field`` (keyword, integer, float,
        bool, text, datetime). Filters on it are then checked against that type
        (a range on a keyword field is an InvalidFilter), and its value index
        is built now rather than at the first filter."""
        from ._filter._index import schema_name
        from ._filter._rowset import rowset_of
        from ._jsonpath import parse_path

        parse_path(field)
        kind = schema_name(schema)
        if kind in ("geo", "uuid"):
            raise UnsupportedFeature(f"{kind} payload indexes are not supported by nbvec")
        with self._engine.lock:
            schema = {**self._payload_schema, field: kind}
            op = self._engine.record_meta("payload_schema", schema)
            self._payload_schema = schema
            for seg in self._engine.segments:
                rowset_of(seg).values(field)
            return self._result(op)

    def delete_payload_index(self, field: str) -> UpdateResult:
        """Forget the declared type of ``field``."""
        with self._engine.lock:
            schema = {k: v for k, v in self._payload_schema.items() if k != field}
            op = self._engine.record_meta("payload_schema", schema)
            self._payload_schema = schema
            return self._result(op)

    @property
    def payload_schema(self) -> dict:
        """``{field: {"data_type": type, "points": points with a value there}}``."""
        from ._filter._rowset import rowset_of

        out = {}
        with self._engine.lock:
            for field, kind in self._payload_schema.items():
                points = 0
                for seg in self._engine.segments:
                    rows = np.unique(rowset_of(seg).values(field).raw_rows)
                    points += int(seg.live_mask()[rows].sum())
                out[field] = {"data_type": kind, "points": points}
        return out

    def optimize(self, *, index_now: bool = False) -> list[str]:
        """Run due optimizations (they also run after each write); with
        ``index_now`` seal and index the appendable segment whatever its size."""
        return self._engine.optimize(force_index=index_now)

    # -- point reads ---------------------------------------------------------
    def _records(self, uids, rows, ids, with_payload, with_vectors) -> Results:
        """Records of points given by (segment uid, row), in the order of ``ids``;
        payloads are read one segment at a time."""
        pick = payload_selector(with_payload)
        names = vector_names(with_vectors, self._specs)
        found = {}
        for seg, r in self._engine.group_rows(uids, rows):
            payloads = [pick(p) for p in seg.payload.get(r)] if pick else [None] * len(r)
            vectors = vectors_of(seg, r, names, self._specs) if names else [None] * len(r)
            for pid, payload, vector in zip(seg.ids[r].tolist(), payloads, vectors):
                found[pid] = Record(id=pid, payload=payload, vector=vector)
        return Results(found[pid] for pid in ids)

    def retrieve(self, ids, with_payload=True, with_vectors=False) -> Results:
        """Records of the ids that exist, in the order asked (unknown ids skipped)."""
        ids = list(dict.fromkeys(normalize_ids(ids)))
        with self._engine.lock:
            found, uids, rows, _ = self._engine.locate(ids)
            return self._records(uids, rows, found, with_payload, with_vectors)

    def count(self, filter=None, *, where=None, params=None) -> int:
        """Number of points (matching the filter, if given)."""
        if filter is None and where is None:
            return self._engine.count()
        uids, _ = self._select(None, filter, where, sys._getframe(1), params)
        return len(uids)

    def __len__(self) -> int:
        return self._engine.count()

    def scroll(self, filter=None, limit=10, offset=None, with_payload=True, with_vectors=False,
               *, where=None):
        """Points in id order from ``offset`` (an id, inclusive):
        returns (records, next_offset), next_offset None at the end."""
        limit = _positive_int(limit, "limit")
        with self._engine.lock:
            if filter is not None or where is not None:
                uids, rows = self._select(None, filter, where, sys._getframe(1))
                order_uids, order_rows = _sorted_by_id(self._engine, uids, rows)
                ids = _ids_at(self._engine, order_uids, order_rows)
            else:
                order_uids, order_rows, ids = self._id_order()
            start = 0
            if offset is not None:
                start = _search_sorted_id(ids, normalize_id(offset))
            stop = start + limit
            page = ids[start:stop]
            next_offset = ids[stop] if stop < len(ids) else None
            recs = self._records(order_uids[start:stop], order_rows[start:stop], page,
                                 with_payload, with_vectors)
        return recs, next_offset

    def _id_order(self):
        """(uids, rows, ids) of every live point in id order, kept until the
        next change of any segment (paging with scroll sorts only once)."""
        key = tuple((s.uid, s.version, s.n) for s in self._engine.segments)
        if self._order_cache is None or self._order_cache[0] != key:
            segs = self._engine.segments
            uids = np.concatenate([np.full(s.live_count, s.uid) for s in segs])
            rows = np.concatenate([np.flatnonzero(s.live_mask()) for s in segs])
            uids, rows = _sorted_by_id(self._engine, uids, rows)
            self._order_cache = (key, uids, rows, _ids_at(self._engine, uids, rows))
        return self._order_cache[1:]

    # -- search --------------------------------------------------------------
    def search(self, query, *, using=None, filter=None, where=None, params=None, limit=10,
               top=None, offset=0, score_threshold=None, exact=False, hnsw_ef=None,
               indexed_only=False, with_payload=True, with_vectors=False):
        """Nearest points to ``query`` (1-D: returns Results; 2-D: a list of
        Results, one per query row). Scores follow Qdrant: Cosine/Dot higher is
        better, Euclid/Manhattan are distances.

        ``filter`` takes a Qdrant filter (model or REST dict), ``where`` a
        pandas-syntax query string (``@name`` from the caller or ``params``).
        """
        name = check_name(using, self._specs)
        # perhaps one index's answer alone (Collection.index_answer): no offset, threshold,
        # exact or indexed_only (tested inline: a call costs this lane ~1%)
        plain = (filter is None and where is None and top is None and not offset
                 and score_threshold is None and not exact and not indexed_only
                 and is_float32_vector(query, self._specs[name].size))
        if plain:  # the notebook's commonest request: perhaps the index's answer alone
            limit, hnsw_ef, pick, names = self._shown(limit, hnsw_ef, with_payload, with_vectors)
            with self._engine.lock:  # _index_table, written out: the lane pays ~1% a call
                answer = self._engine.index_answer(name, query, limit, hnsw_ef)
                if answer is not None:
                    seg, rows, values, convert = answer
                    return Results.of_table(HitTable.of_segment(
                        seg, rows, values, convert, pick, names, self._specs), 0, len(rows))
        queries, batch = as_queries(query, self._specs[name].size, name)
        allowed = self._allowed(filter, where, params,
                                sys._getframe(1) if where is not None else None)
        table = self._search_table(
            name, queries, allowed, limit=limit if top is None else top, offset=offset,
            score_threshold=score_threshold, exact=exact, hnsw_ef=hnsw_ef,
            indexed_only=indexed_only, with_payload=with_payload, with_vectors=with_vectors,
            lane=not plain)
        return table.results() if batch else table.first()

    def recommend(self, positive=(), negative=(), *, strategy="average_vector", using=None,
                  filter=None, where=None, params=None, limit=10, offset=0,
                  score_threshold=None, exact=False, hnsw_ef=None, indexed_only=False,
                  with_payload=True, with_vectors=False, lookup_from=None) -> Results:
        """Points like the ``positive`` examples and unlike the ``negative`` ones.

        Examples are point ids (their stored vectors; the points themselves are
        not returned) or raw vectors. ``strategy``: ``"average_vector"`` (seed
        000's formula, searched through the indexes), ``"best_score"`` or
        ``"sum_scores"`` (one exact pass). ``lookup_from``: another VectorFrame
        (or ``(frame, vector_name)``) whose points the example ids name.

        >>> import numpy as np
        >>> vf = VectorFrame(2, "Dot", progress=False)
        >>> _ = vf.upsert([1, 2, 3], np.array([[1, 0], [0.9, 0.1], [0, 1]]))
        >>> [p.id for p in vf.recommend(positive=[1], negative=[3], limit=1)]
        [2]
        """
        from ._recommend import average_vector, example_scores

        name, strategy, pos, neg, allowed = self._recommendation(
            positive, negative, strategy, using, lookup_from, filter, where, params,
            sys._getframe(1))
        if strategy == "average_vector":
            query = average_vector(pos, neg)[None, :]
            return self._search_table(
                name, query, allowed, limit=limit, offset=offset, score_threshold=score_threshold,
                exact=exact, hnsw_ef=hnsw_ef, indexed_only=indexed_only,
                with_payload=with_payload, with_vectors=with_vectors).first()
        limit = _positive_int(limit, "limit")
        offset = _nonneg_int(offset, "offset") if offset else 0
        metric = self._specs[name].metric
        with self._engine.lock:
            outcome = self._engine.search_by_scores(
                name, lambda vectors: example_scores(metric, strategy, pos, neg, vectors),
                limit=limit, offset=offset, score_threshold=score_threshold, allowed=allowed)
            return self._scored(outcome.hits, outcome.segments, with_payload, with_vectors)[0]

    def search_groups(self, query, group_by: str, *, limit=10, group_size=3, with_lookup=None,
                      using=None, filter=None, where=None, params=None, score_threshold=None,
                      exact=False, hnsw_ef=None, indexed_only=False, with_payload=True,
                      with_vectors=False, offset=None):
        """The ``limit`` best groups of up to ``group_size`` hits, grouped by the
        payload key ``group_by`` (keyword or integer values; an array puts a
        point in several groups). ``with_lookup``: a VectorFrame or a DataFrame
        indexed by id whose row with the group's id joins each group.

        >>> import numpy as np
        >>> vf = VectorFrame(2, "Dot", progress=False)
        >>> _ = vf.upsert([1, 2, 3], np.array([[1, 0], [0.9, 0], [0.8, 0]]),
        ...               payload=[{"doc": "a"}, {"doc": "a"}, {"doc": "b"}])
        >>> [(g.id, [h.id for h in g.hits]) for g in vf.search_groups([1, 0], "doc", group_size=1)]
        [('a', [1]), ('b', [3])]
        """
        name = check_name(using, self._specs)
        queries, batch = as_queries(query, self._specs[name].size, name)
        if batch:
            raise InvalidRequest("search_groups takes one query vector")
        allowed = self._allowed(filter, where, params, sys._getframe(1))
        return self._groups(name, group_by, limit, group_size, offset, score_threshold, allowed,
                            with_lookup, with_payload, with_vectors, query=queries,
                            search_kwargs=dict(exact=bool(exact), hnsw_ef=hnsw_ef,
                                               indexed_only=bool(indexed_only)))

    def recommend_groups(self, positive=(), negative=(), group_by: str = None, *,
                         strategy="average_vector", limit=10, group_size=3, with_lookup=None,
                         using=None, filter=None, where=None, params=None, score_threshold=None,
                         exact=False, hnsw_ef=None, indexed_only=False, with_payload=True,
                         with_vectors=False, lookup_from=None, offset=None):
        """Groups (as :meth:`search_groups`) of a recommendation (as :meth:`recommend`)."""
        from ._recommend import average_vector, example_scores

        if group_by is None:
            raise InvalidRequest("recommend_groups needs group_by=<payload key>")
        name, strategy, pos, neg, allowed = self._recommendation(
            positive, negative, strategy, using, lookup_from, filter, where, params,
            sys._getframe(1))
        if strategy == "average_vector":
            return self._groups(name, group_by, limit, group_size, offset, score_threshold,
                                allowed, with_lookup, with_payload, with_vectors,
                                query=average_vector(pos, neg)[None, :],
                                search_kwargs=dict(exact=bool(exact), hnsw_ef=hnsw_ef,
                                                   indexed_only=bool(indexed_only)))
        metric = self._specs[name].metric
        return self._groups(name, group_by, limit, group_size, offset, score_threshold, allowed,
                            with_lookup, with_payload, with_vectors,
                            score_fn=lambda v: example_scores(metric, strategy, pos, neg, v))

    def _groups(self, name, group_by, limit, group_size, offset, score_threshold, allowed,
                with_lookup, with_payload, with_vectors, **how):
        from ._groups import grouped_search
        from ._jsonpath import parse_path

        if offset:
            raise InvalidRequest("offset is not allowed with groups: grouped results have no "
                                 "pagination (as in Qdrant)")
        if not isinstance(group_by, str):
            raise InvalidRequest(f"group_by must be a payload key, got {group_by!r}")
        parse_path(group_by)
        return grouped_search(
            self, name, group_by=group_by, limit=_positive_int(limit, "limit"),
            group_size=_positive_int(group_size, "group_size"), score_threshold=score_threshold,
            allowed=allowed, with_payload=with_payload, with_vectors=with_vectors,
            lookup=_lookup_function(with_lookup), **how)

    def _recommendation(self, positive, negative, strategy, using, lookup_from, filter, where,
                        params, frame):
        """(vector name, strategy, positive and negative vectors, what may be
        returned) of a recommendation request, checked."""
        from ._recommend import check_examples

        name = check_name(using, self._specs)
        strategy = getattr(strategy, "value", strategy)
        pos, neg, mentioned = self._examples(positive, negative, name, lookup_from)
        check_examples(strategy, pos, neg)
        allowed = self._allowed(filter, where, params, frame, exclude_ids=mentioned)
        return name, strategy, pos, neg, allowed

    def _examples(self, positive, negative, name, lookup_from):
        """Vectors of the positive and negative examples, and the ids to exclude."""
        from ._recommend import split_examples
        from ._vectors import as_matrix

        source, source_name = self, name
        if lookup_from is not None:
            source, source_name = (lookup_from if isinstance(lookup_from, tuple)
                                   else (lookup_from, None))
            source_name = check_name(source_name if source_name is not None else name,
                                     source._specs)
        size = self._specs[name].size
        out, mentioned = [], []
        for label, examples in (("positive", positive), ("negative", negative)):
            ids, raw = split_examples(examples)
            ids = normalize_ids(ids) if ids else []
            parts = [source._stored_vectors(ids, source_name)] if ids else []
            if raw:
                parts.append(as_matrix(raw, size, f"recommend {label}", name))
            vecs = np.concatenate(parts) if parts else np.empty((0, size), np.float32)
            if vecs.shape[1] != size:
                raise InvalidRequest(f"lookup vector {source_name!r} has {vecs.shape[1]} "
                                     f"dimensions, the searched vector {size}")
            out.append(vecs)
            if source is self:
                mentioned.extend(ids)
        return out[0], out[1], mentioned

    def _stored_vectors(self, ids: list, name: str) -> np.ndarray:
        """Stored vectors ``name`` of existing points, in the order of ``ids``."""
        unique = list(dict.fromkeys(ids))
        with self._engine.lock:
            found, uids, rows, missing = self._engine.locate(unique)
            if missing:
                raise PointNotFound(f"no point with id(s) {missing[:10]} in this collection")
            out = np.empty((len(unique), self._specs[name].size), dtype=np.float32)
            position = {pid: i for i, pid in enumerate(found)}
            for seg, r in self._engine.group_rows(uids, rows):
                lacking = ~seg.has_vector[name][r]
                if lacking.any():
                    raise PointNotFound(f"point(s) {seg.ids[r[lacking]].tolist()[:10]} have no "
                                        f"vector {name!r}")
                at = [position[p] for p in seg.ids[r].tolist()]
                out[at] = seg.vectors[name][r]
        if len(unique) == len(ids):
            return out
        return out[[position[p] for p in ids]]

    def explain(self, query, *, using=None, filter=None, where=None, params=None, limit=10,
                offset=0, score_threshold=None, exact=False, hnsw_ef=None, indexed_only=False):
        """Run the search and say how each segment answered it (strategy and
        why, filter cardinality, points scored, hits returned, time); renders
        as a table in a notebook, ``.to_pandas()`` for a DataFrame."""
        from ._explain import explain_outcome

        name = check_name(using, self._specs)
        queries, _ = as_queries(query, self._specs[name].size, name)
        allowed = self._allowed(filter, where, params, sys._getframe(1))
        with self._engine.lock:
            outcome = self._engine.search(
                name, queries, limit=_positive_int(limit, "limit"),
                offset=_nonneg_int(offset or 0, "offset"), score_threshold=score_threshold,
                exact=bool(exact), hnsw_ef=hnsw_ef, indexed_only=bool(indexed_only),
                allowed=allowed, timed=True)
        return explain_outcome(outcome)

    def _condition(self, filter, where, params, frame):
        """The compiled filter (Qdrant filter AND ``where``), checked against the
        declared payload schema; None when neither is given."""
        cond = compile_filter(filter=filter, where=where, params=params, frame=frame)
        if cond is not None and self._payload_schema:
            check_condition(cond, self._payload_schema)
        return cond

    def _allowed(self, filter, where, params, frame, exclude_ids=()) -> Allowed | None:
        """What a request may return (filter, excluded ids); None for everything."""
        if filter is None and where is None and not exclude_ids:
            return None
        cond = self._condition(filter, where, params, frame)
        if cond is None and not exclude_ids:
            return None
        return Allowed.of(cond, tuple(exclude_ids))

    def _search_table(self, name, queries, allowed, *, limit, offset, score_threshold, exact,
                      hnsw_ef, indexed_only, with_payload, with_vectors,
                      lane=True) -> HitTable:
        """Search validated (m, d) float32 queries of vector ``name``: the hits of every
        query, taken under the lock (see :class:`~nbvec._hit_results.HitTable`).
        ``lane``: try the index's answer alone first (False: tried already); the
        lane's options are tested as :meth:`search` tests them (keep the two in step)."""
        limit, hnsw_ef, pick, names = self._shown(limit, hnsw_ef, with_payload, with_vectors)
        if (lane and len(queries) == 1 and allowed is None and not offset
                and score_threshold is None and not exact and not indexed_only):
            table = self._index_table(name, queries[0], limit, hnsw_ef, pick, names)
            if table is not None:
                return table
        offset = _nonneg_int(offset, "offset") if offset else 0
        if score_threshold is not None:
            if isinstance(score_threshold, (bool, np.bool_)) or not isinstance(
                    score_threshold, (numbers.Real, np.number)):
                raise InvalidRequest(f"score_threshold must be a number, got {score_threshold!r}")
            score_threshold = float(score_threshold)
        with self._engine.lock:  # results read payloads: no write in between
            outcome = self._engine.search(name, queries, limit=limit, offset=offset,
                                          score_threshold=score_threshold, exact=bool(exact),
                                          hnsw_ef=hnsw_ef, indexed_only=bool(indexed_only),
                                          allowed=allowed)
            return HitTable(outcome.hits, outcome.segments, pick, names, self._specs)

    def _shown(self, limit, hnsw_ef, with_payload, with_vectors) -> tuple:
        """(limit, hnsw_ef, payload selector, vector names) checked: what a
        search's hits show, validated before searching."""
        limit = _positive_int(limit, "limit")
        if hnsw_ef is not None:
            hnsw_ef = _positive_int(hnsw_ef, "hnsw_ef")
        return (limit, hnsw_ef, payload_selector(with_payload),
                vector_names(with_vectors, self._specs))

    def _index_table(self, name, query, limit, hnsw_ef, pick, names):
        """The hits of one unfiltered query (d,) from the top, when one index
        answers it alone (:meth:`Collection.index_answer`: the query may be
        unchecked for NaN and inf), else None; the options checked (:meth:`_shown`).
        :meth:`search` writes this out for its own lane: keep the two in step."""
        with self._engine.lock:  # results read payloads: no write in between
            answer = self._engine.index_answer(name, query, limit, hnsw_ef)
            if answer is None:
                return None
            seg, rows, values, convert = answer  # not *answer: a star call is not specialized
            return HitTable.of_segment(seg, rows, values, convert, pick, names, self._specs)

    def _scored(self, hits, segs, with_payload, with_vectors) -> list[Results]:
        """Result objects of merged hits: one Results per query row."""
        return scored_results(hits, segs, payload_selector(with_payload),
                              vector_names(with_vectors, self._specs), self._specs)

    # -- frames and info -------------------------------------------------------
    def to_pandas(self, with_vectors=True) -> pd.DataFrame:
        """All points in id order, indexed by id: payload columns, then one
        column per vector (``vector`` or the vector's name) holding arrays.
        A payload key named like a vector column comes out as ``payload.<key>``."""
        with self._engine.lock:
            uids, rows, ids = self._id_order()
            runs = list(_runs(self._engine, uids, rows))
            parts = [(seg, r, seg.payload.take(r).columns_as_batch(len(r))) for seg, r in runs]
            batch = concat_batches([(b, len(r)) for _, r, b in parts])
            store = PayloadStore(len(rows))
            store.write(np.arange(len(rows)), batch, replace=True)
            frame = store.to_pandas(np.arange(len(rows)))
            frame.index = pd.Index(ids, name="id")
            vector_cols = {name: "vector" if name == "" else name for name in self._specs}
            frame = frame.rename(columns={c: f"payload.{c}" for c in frame.columns
                                          if c in vector_cols.values()})
            if with_vectors:
                for name, col in vector_cols.items():
                    cells = []
                    for seg, r, _ in parts:
                        has = seg.has_vector[name][r]
                        cells.extend(v if h else None for v, h in zip(seg.vectors[name][r], has))
                    frame[col] = cells
        return frame

    def info(self) -> dict:
        """Figures: points, segments (indexed or not, search_k, memory), config."""
        with self._engine.lock:
            segments = []
            for s in self._engine.segments:
                entry = {"uid": s.uid, "points": s.live_count, "deleted": s.deleted_count,
                         "indexed": bool(s.indexes), "appendable": not s.sealed,
                         "vector_kb": round(s.vector_kb(), 1),
                         "memory_mb": round(s.memory_bytes() / 2**20, 2)}
                for name, idx in s.indexes.items():
                    label = name or "vector"
                    entry.update({f"{label}.{k}": v for k, v in idx.describe().items()})
                    entry[f"{label}.index_mb"] = round(idx.size_bytes() / 2**20, 2)
                segments.append(entry)
            indexed = sum(s.live_count for s in self._engine.segments if s.indexes)
            return {
                "points": self._engine.count(),
                "indexed_points": indexed,
                "segments": segments,
                "vectors": {n: {"size": s.size, "distance": s.distance.value}
                            for n, s in self._specs.items()},
                "config": self._config,
                "status": "yellow" if self._engine.optimizing else "green",
            }

    def __repr__(self) -> str:
        kinds = ", ".join(f"{n or 'vector'}: {s.size}-d {s.distance.value}"
                          for n, s in self._specs.items())
        return (f"VectorFrame({len(self):,} points, {kinds}, "
                f"{len(self._engine.segments)} segments)")

    def _repr_html_(self) -> str:
        info = self.info()
        items = [("points", f"{info['points']:,}"), ("indexed points", f"{info['indexed_points']:,}"),
                 ("vectors", info["vectors"]), ("status", info["status"])]
        return frame_summary("VectorFrame", items, info["segments"])


def _ids_at(engine, uids, rows) -> list:
    """Ids of (uid, row) pairs, in the given order."""
    out = np.empty(len(rows), dtype=object)
    for u in np.unique(uids).tolist():
        sel = uids == u
        out[sel] = engine.by_uid[u].ids[rows[sel]]
    return out.tolist()


def _runs(engine, uids, rows):
    """Consecutive runs of the same segment, in order."""
    if len(uids) == 0:
        return
    cuts = np.flatnonzero(np.diff(uids)) + 1
    for u, r in zip(np.split(uids, cuts), np.split(rows, cuts)):
        yield engine.by_uid[int(u[0])], r


def _sorted_by_id(engine, uids, rows):
    """(uids, rows) ordered by point id: integers ascending, then UUIDs."""
    if len(uids) == 0:
        return uids, rows
    grouped = list(engine.group_rows(uids, rows))
    uids = np.concatenate([np.full(len(r), s.uid) for s, r in grouped])
    rows = np.concatenate([r for _, r in grouped])
    is_uuid = np.concatenate([s.id_is_uuid[r] for s, r in grouped])
    numbers = np.concatenate([s.id_number[r] for s, r in grouped])
    texts = np.concatenate([np.where(s.id_is_uuid[r], s.ids[r], "") for s, r in grouped])
    order = np.lexsort((texts.astype("U36"), numbers, is_uuid))
    return uids[order], rows[order]


def _search_sorted_id(ids: list, start) -> int:
    """Position of the first id >= ``start`` in ids sorted Qdrant's way."""
    key = (1, start) if isinstance(start, str) else (0, start)
    lo, hi = 0, len(ids)
    while lo < hi:
        mid = (lo + hi) // 2
        v = ids[mid]
        if ((1, v) if isinstance(v, str) else (0, v)) < key:
            lo = mid + 1
        else:
            hi = mid
    return lo



def _lookup_function(with_lookup):
    """``group ids -> {id: Record}`` for a VectorFrame, a DataFrame indexed by
    id, or ``(frame, with_payload, with_vectors)``; None for no lookup."""
    if with_lookup is None:
        return None
    with_payload, with_vectors = True, True
    if isinstance(with_lookup, tuple):
        with_lookup, with_payload, with_vectors = with_lookup
    if isinstance(with_lookup, pd.DataFrame):
        frame = with_lookup

        if not frame.index.is_unique:
            raise InvalidRequest("with_lookup: the DataFrame's index (the point ids) has "
                                 "repeated values; each group id must name one row")

        def from_frame(group_ids):
            from .models import Record

            index = set(frame.index.tolist())
            out = {}
            for gid in group_ids:  # one row per returned group, `limit` at most
                if gid in index:
                    row = frame.loc[[gid]].to_dict("records")[0]  # keeps ints as ints
                    payload = {k: v for k, v in row.items() if not _is_missing(v)}
                    out[gid] = Record(id=gid, payload=to_json_object(payload))
            return out

        return from_frame
    if isinstance(with_lookup, VectorFrame):
        target = with_lookup

        def from_vectorframe(group_ids):
            # a group id that is no point id has no lookup
            valid = [normalize_id(gid) for gid in group_ids if _valid_id(gid)]
            records = target.retrieve(valid, with_payload=with_payload,
                                      with_vectors=with_vectors)
            by_id = {r.id: r for r in records}
            return {gid: by_id[normalize_id(gid)] for gid in group_ids
                    if _valid_id(gid) and normalize_id(gid) in by_id}

        return from_vectorframe
    raise InvalidRequest("with_lookup takes a VectorFrame or a DataFrame indexed by point id "
                         f"(the Client takes a collection name), got {type(with_lookup).__name__}")


def _valid_id(value) -> bool:
    try:
        normalize_id(value)
        return True
    except InvalidPointId:
        return False


def _is_missing(value) -> bool:
    """A missing cell (NaN, None, NA, NaT); lists and arrays are values."""
    if isinstance(value, (list, tuple, dict, np.ndarray)):
        return False
    return bool(pd.isna(value))
