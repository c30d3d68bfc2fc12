"""nbvec.Client: qdrant-client's method names over VectorFrames, in process.

Code written for Qdrant runs with the import changed::

    from nbvec import Client as QdrantClient, models

>>> from nbvec import Client, models
>>> client = Client(":memory:")
>>> client.create_collection("demo", vectors_config=models.VectorParams(size=2, distance="Dot"))
True
>>> _ = client.upsert("demo", points=models.Batch(ids=[1, 2], vectors=[[1, 0], [0, 1]]))
>>> client.query_points("demo", query=[1, 0], limit=1).points[0].id
1
"""

from __future__ import annotations

import json
import uuid
import warnings
from dataclasses import dataclass
from operator import is_

import numpy as np

from ._client_query import named_query_vector, query_kind, refuse, search_params_kwargs
from ._client_reco import RecommendGroupsMixin
from ._config import DEFAULT_INDEX
from ._errors import (
    CollectionExists,
    CollectionNotFound,
    InvalidRequest,
    PointNotFound,
    UnsupportedFeature,
)
from ._frame import VectorFrame
from ._gc import gc_paused
from ._ids import normalize_id, normalize_ids
from ._progress import progress_bar
from ._results import Results
from ._vectors import as_queries, check_name
from .models import (
    AliasDescription,
    Batch,
    CollectionConfig,
    CollectionDescription,
    CollectionInfo,
    CollectionParams,
    CollectionsAliasesResponse,
    CollectionsResponse,
    CollectionStatus,
    CountResult,
    Filter,
    FilterSelector,
    HnswConfig,
    HnswConfigDiff,
    OptimizersConfig,
    OptimizersConfigDiff,
    OptimizersStatusOneOf,
    PayloadIndexInfo,
    PointIdsList,
    PointStruct,
    PointVectors,
    QueryRequest,
    QueryResponse,
    ScoredPoint,
    SearchRequest,
    VectorParams,
    WalConfig,
    WalConfigDiff,
    to_nbvec,
)
from .models._base import trusted_instances

__all__ = ["Client"]

_SERVER_HINT = ("nbvec runs in this process; a Qdrant server is reached with qdrant-client: "
                "`from qdrant_client import QdrantClient; QdrantClient({arg})`")


@dataclass
class _Entry:
    """One collection: its frame and the configuration it was created with."""

    frame: VectorFrame
    vectors_config: object
    hnsw: HnswConfig
    optimizers: OptimizersConfig
    wal: WalConfig
    on_disk_payload: bool
    metadata: dict | None


def _diff(model_cls, value, name):
    return None if value is None else to_nbvec(value, model_cls, name)


class Client(RecommendGroupsMixin):
    """An in-process Qdrant-compatible client.

    ``Client()``, ``Client(":memory:")`` and ``Client(location=":memory:")`` are
    the same: collections live in memory. ``Client(path="./nbvec_storage")``
    keeps every collection on disk in ``<path>/collections/<name>/``: each
    write is logged before it returns and survives a killed process (see
    :meth:`VectorFrame.open`, whose ``fsync`` and ``mmap`` options it takes).
    One writer per folder: ``close()`` it (or use ``with``) to hand it on;
    ``read_only=True`` reads beside a writer. A server (``url=``, ``host=``)
    is reached with qdrant-client. ``index`` (nbvec's own option) picks the
    index of the collections it creates: ``"hnsw"`` (default; HNSW graphs
    built with each collection's ``hnsw_config`` m and ef_construct) or
    ``"annoy"``.
    """

    def __init__(self, location=None, url=None, port=6333, grpc_port=6334, prefer_grpc=False,
                 https=None, api_key=None, prefix=None, timeout=None, host=None, path=None,
                 read_only=False, fsync="interval", mmap=None, index=DEFAULT_INDEX, **kwargs):
        if url is not None or host is not None:
            arg = f"url={url!r}" if url is not None else f"host={host!r}, port={port}"
            raise UnsupportedFeature(_SERVER_HINT.format(arg=arg))
        if location not in (None, ":memory:"):
            raise UnsupportedFeature(_SERVER_HINT.format(arg=repr(location)))
        refuse(api_key, "api_key (there is no server)")
        from ._indexes import index_class

        index_class(index)  # InvalidRequest naming the kinds
        self._index = index  # the index kind of the collections this Client creates
        self._collections: dict[str, _Entry] = {}
        self._aliases: dict[str, str] = {}
        self._closed = False
        self._root = None
        if path is None:
            for key, value, default in (("read_only", read_only, False), ("fsync", fsync,
                                        "interval"), ("mmap", mmap, None)):
                if value != default:
                    raise InvalidRequest(f"{key}= applies to Client(path=...) only")
            return
        self._open_storage(path, read_only, fsync, mmap)

    # -- storage ---------------------------------------------------------------
    def _open_storage(self, path, read_only, fsync, mmap) -> None:
        """Open every collection stored under ``path`` (attached)."""
        import weakref

        from ._storage._client_root import ClientRoot
        from ._storage._manifest import read_manifest
        from ._storage._wal import fsync_interval

        fsync_interval(fsync)
        if mmap not in (None, True, False):
            raise InvalidRequest(f"mmap={mmap!r} is invalid: True, False or None (per vector's "
                                 "on_disk)")
        root = ClientRoot(path, read_only)
        self._root, self._storage_options = root, {"fsync": fsync, "mmap": mmap}
        weakref.finalize(self, root.release)
        try:
            for name in root.names():
                folder = root.folder(name)
                stored = read_manifest(folder)["extra"].get("client")
                if read_only:
                    frame = VectorFrame.open(folder, read_only=True, mmap=mmap)
                else:
                    frame = VectorFrame.open(folder, fsync=fsync, mmap=mmap,
                                             wal_capacity_mb=stored["wal"]["wal_capacity_mb"]
                                             if stored else 32)
                self._collections[name] = _entry_from_json(frame, stored)
            self._aliases = {a: c for a, c in root.aliases().items() if c in self._collections}
        except BaseException:
            self.close()
            raise

    # -- lifecycle -------------------------------------------------------------
    def close(self, grpc_grace=None, **kwargs) -> None:
        """Release the collections: in-memory data is gone afterwards; stored
        collections are checkpointed and their folder handed on."""
        try:
            for entry in self._collections.values():
                entry.frame.close()
        finally:
            self._collections.clear()
            self._aliases.clear()
            self._closed = True
            if self._root is not None:
                self._root.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self) -> str:
        where = "in-memory" if self._root is None else f"path={str(self._root.path)!r}"
        return f"<nbvec.Client {where}, {len(self._collections)} collections>"

    # -- collections -------------------------------------------------------------
    def _entry(self, collection_name: str) -> _Entry:
        if self._closed:
            raise InvalidRequest("this Client is closed")
        name = self._aliases.get(collection_name, collection_name)
        entry = self._collections.get(name)
        if entry is None:
            raise CollectionNotFound(f"Collection `{collection_name}` doesn't exist! "
                                     f"Existing: {sorted(self._collections) or 'none'}")
        return entry

    def _frame(self, collection_name: str) -> VectorFrame:
        return self._entry(collection_name).frame

    def create_collection(self, collection_name: str, vectors_config=None,
                          sparse_vectors_config=None, shard_number=None, sharding_method=None,
                          replication_factor=None, write_consistency_factor=None,
                          on_disk_payload=None, hnsw_config=None, optimizers_config=None,
                          wal_config=None, quantization_config=None, timeout=None,
                          strict_mode_config=None, metadata=None, **kwargs) -> bool:
        """Create a collection; CollectionExists if the name is taken."""
        if self._closed:
            raise InvalidRequest("this Client is closed")
        if collection_name in self._collections or collection_name in self._aliases:
            raise CollectionExists(f"Collection `{collection_name}` already exists!")
        refuse(sparse_vectors_config, "sparse vectors")
        refuse(quantization_config, "quantization")
        refuse(sharding_method, "custom sharding")
        refuse(strict_mode_config, "strict mode")
        for key, value in (("shard_number", shard_number), ("replication_factor",
                           replication_factor), ("write_consistency_factor",
                           write_consistency_factor)):
            if value not in (None, 1):
                raise UnsupportedFeature(f"{key}={value}: nbvec keeps one shard in process")
        refuse(kwargs.get("init_from"), "init_from")
        unknown = set(kwargs) - {"init_from"}
        if unknown:
            raise InvalidRequest(f"create_collection got unknown argument(s) {sorted(unknown)}")
        if vectors_config is None:
            raise InvalidRequest("create_collection needs vectors_config=VectorParams(size, "
                                 "distance) or {name: VectorParams}")
        if isinstance(vectors_config, dict) and not {"size", "distance"} <= set(vectors_config):
            vectors = {k: to_nbvec(v, VectorParams, f"vectors_config[{k!r}]")
                       for k, v in vectors_config.items()}
        else:
            vectors = to_nbvec(vectors_config, VectorParams, "vectors_config")
        for params in (vectors.values() if isinstance(vectors, dict) else [vectors]):
            refuse(params.quantization_config, "quantization")
            refuse(params.multivector_config, "multi-vectors")
            if params.datatype not in (None, "float32") and getattr(
                    params.datatype, "value", None) != "float32":
                raise UnsupportedFeature(f"vector datatype {params.datatype}: nbvec stores "
                                         "float32")
        hnsw_diff = _diff(HnswConfigDiff, hnsw_config, "hnsw_config") or HnswConfigDiff()
        opt_diff = (_diff(OptimizersConfigDiff, optimizers_config, "optimizers_config")
                    or OptimizersConfigDiff())
        hnsw = HnswConfig(m=hnsw_diff.m or 16, ef_construct=hnsw_diff.ef_construct or 100,
                          full_scan_threshold=hnsw_diff.full_scan_threshold or 10_000,
                          max_indexing_threads=hnsw_diff.max_indexing_threads or 0,
                          on_disk=hnsw_diff.on_disk or False, payload_m=hnsw_diff.payload_m)
        optimizers = OptimizersConfig(
            deleted_threshold=opt_diff.deleted_threshold if opt_diff.deleted_threshold
            is not None else 0.2,
            vacuum_min_vector_number=opt_diff.vacuum_min_vector_number if
            opt_diff.vacuum_min_vector_number is not None else 1000,
            default_segment_number=opt_diff.default_segment_number or 0,
            max_segment_size=opt_diff.max_segment_size,
            memmap_threshold=opt_diff.memmap_threshold,
            indexing_threshold=opt_diff.indexing_threshold if opt_diff.indexing_threshold
            is not None else 20_000,
            flush_interval_sec=opt_diff.flush_interval_sec or 5,
            max_optimization_threads=opt_diff.max_optimization_threads)
        options = dict(
            full_scan_threshold=hnsw.full_scan_threshold,
            indexing_threshold=optimizers.indexing_threshold,
            deleted_threshold=float(optimizers.deleted_threshold),
            vacuum_min_vector_number=optimizers.vacuum_min_vector_number,
            hnsw_m=hnsw.m, hnsw_ef_construct=hnsw.ef_construct, index=self._index,
        )
        if hnsw.max_indexing_threads:
            options["n_jobs"] = hnsw.max_indexing_threads
        if optimizers.max_segment_size:
            options["max_segment_size"] = optimizers.max_segment_size
        if optimizers.max_optimization_threads:
            options["n_jobs"] = optimizers.max_optimization_threads
        wal = WalConfig(wal_capacity_mb=32, wal_segments_ahead=0)
        if wal_config is not None:
            wal_diff = to_nbvec(wal_config, WalConfigDiff, "wal_config")
            wal = WalConfig(wal_capacity_mb=wal_diff.wal_capacity_mb or 32,
                            wal_segments_ahead=wal_diff.wal_segments_ahead or 0)
        entry = _Entry(None, vectors, hnsw, optimizers, wal,
                       True if on_disk_payload is None else bool(on_disk_payload), metadata)
        if self._root is None:
            entry.frame = VectorFrame(vectors=vectors, **options)
        else:
            entry.frame = self._create_stored(collection_name, entry, options)
        self._collections[collection_name] = entry
        return True

    def _create_stored(self, name: str, entry: _Entry, options: dict) -> VectorFrame:
        """A new collection's frame, in its own folder under the Client's."""
        from ._storage import open_frame

        storage = dict(wal_capacity_mb=entry.wal.wal_capacity_mb, **self._storage_options)
        folder = self._root.create(name, lambda tmp: open_frame(
            VectorFrame, tmp, (None, "Cosine", entry.vectors_config), config=options,
            extra={"client": _entry_json(entry)}, **storage).close())
        return VectorFrame.open(folder, **storage)

    def recreate_collection(self, collection_name: str, vectors_config=None, **kwargs) -> bool:
        """Delete (if present) and create again. Deprecated, as in qdrant-client."""
        warnings.warn(
            "`recreate_collection` method is deprecated and will be removed in the future. "
            "Use `collection_exists` to check collection existence and `create_collection` "
            "instead.", DeprecationWarning, stacklevel=2)
        self.delete_collection(collection_name)
        return self.create_collection(collection_name, vectors_config=vectors_config, **kwargs)

    def collection_exists(self, collection_name: str, **kwargs) -> bool:
        _no_extra(kwargs, "collection_exists")
        name = self._aliases.get(collection_name, collection_name)
        return name in self._collections

    def delete_collection(self, collection_name: str, timeout=None, **kwargs) -> bool:
        """Delete a collection (and its aliases); False if it did not exist."""
        _no_extra(kwargs, "delete_collection")
        name = self._aliases.get(collection_name, collection_name)
        if name not in self._collections:
            return False
        aliases = {a: c for a, c in self._aliases.items() if c != name}
        if self._root is not None:
            self._root.check_writable()
            self._collections[name].frame._storage.release()  # let go, then remove
            self._root.delete(name)
            if aliases != self._aliases:
                self._root.write_aliases(aliases)
        del self._collections[name]
        self._aliases = aliases
        return True

    def get_collections(self) -> CollectionsResponse:
        return CollectionsResponse(collections=[CollectionDescription(name=n)
                                                for n in self._collections])

    def get_collection(self, collection_name: str) -> CollectionInfo:
        """Status and figures of a collection, in qdrant-client's shape."""
        entry = self._entry(collection_name)
        info = entry.frame.info()
        status = CollectionStatus.YELLOW if info["status"] == "yellow" else CollectionStatus.GREEN
        indexed = sum(s["points"] for s in info["segments"] if s["indexed"])
        return CollectionInfo(
            status=status,
            optimizer_status=OptimizersStatusOneOf.OK,
            indexed_vectors_count=indexed * len(info["vectors"]),
            points_count=info["points"],
            segments_count=len(info["segments"]),
            config=CollectionConfig(
                params=CollectionParams(vectors=entry.vectors_config, shard_number=1,
                                        replication_factor=1, write_consistency_factor=1,
                                        on_disk_payload=entry.on_disk_payload),
                hnsw_config=entry.hnsw, optimizer_config=entry.optimizers,
                wal_config=entry.wal, quantization_config=None, metadata=entry.metadata),
            payload_schema={k: PayloadIndexInfo(data_type=v["data_type"], points=v["points"])
                            for k, v in entry.frame.payload_schema.items()},
        )

    # -- aliases -----------------------------------------------------------------
    def update_collection_aliases(self, change_aliases_operations, timeout=None, **kw) -> bool:
        """Create, delete and rename aliases, all or nothing."""
        _no_extra(kw, "update_collection_aliases")
        from .models import AliasOperations

        aliases = dict(self._aliases)
        for op in change_aliases_operations:
            op = to_nbvec(op, AliasOperations, "change_aliases_operations")
            if getattr(op, "create_alias", None) is not None:
                c = op.create_alias
                self._entry(c.collection_name)
                aliases[c.alias_name] = self._aliases.get(c.collection_name, c.collection_name)
            elif getattr(op, "delete_alias", None) is not None:
                if aliases.pop(op.delete_alias.alias_name, None) is None:
                    raise CollectionNotFound(f"Alias `{op.delete_alias.alias_name}` doesn't exist!")
            else:
                r = op.rename_alias
                if r.old_alias_name not in aliases:
                    raise CollectionNotFound(f"Alias `{r.old_alias_name}` doesn't exist!")
                aliases[r.new_alias_name] = aliases.pop(r.old_alias_name)
        if self._root is not None:
            self._root.write_aliases(aliases)
        self._aliases = aliases
        return True

    def get_aliases(self) -> CollectionsAliasesResponse:
        return CollectionsAliasesResponse(aliases=[
            AliasDescription(alias_name=a, collection_name=c) for a, c in self._aliases.items()])

    def get_collection_aliases(self, collection_name: str) -> CollectionsAliasesResponse:
        name = self._aliases.get(collection_name, collection_name)
        return CollectionsAliasesResponse(aliases=[
            AliasDescription(alias_name=a, collection_name=c)
            for a, c in self._aliases.items() if c == name])

    # -- points: writes ----------------------------------------------------------
    @staticmethod
    def _refuse_write_options(shard_key_selector=None, update_filter=None, update_mode=None):
        refuse(shard_key_selector, "shard keys")
        refuse(update_filter, "conditional updates (update_filter)")
        refuse(update_mode, "update_mode")

    def upsert(self, collection_name: str, points, wait=True, ordering=None,
               shard_key_selector=None, update_filter=None, update_mode=None, timeout=None):
        """Insert or replace points: a Batch, a list of PointStruct, or their dicts."""
        self._refuse_write_options(shard_key_selector, update_filter, update_mode)
        frame = self._frame(collection_name)
        if isinstance(points, dict) and "batch" in points:
            points = points["batch"]
        if isinstance(points, dict) and "points" in points:
            points = points["points"]
        if isinstance(points, (Batch, dict)) or type(points).__name__ == "Batch":
            batch = to_nbvec(points, Batch, "points")
            return frame.upsert(batch.ids, _batch_vectors(batch.vectors), batch.payloads)
        if not isinstance(points, (list, tuple)):
            raise InvalidRequest("points must be a Batch or a list of PointStruct, got "
                                 f"{type(points).__name__}")
        return frame.upsert_points([to_nbvec(p, PointStruct, "points[]") for p in points])

    def upload_points(self, collection_name: str, points, batch_size=64, parallel=1, method=None,
                      max_retries=3, wait=False, shard_key_selector=None, update_filter=None,
                      update_mode=None, **kwargs) -> None:
        """Upsert PointStructs in batches of ``batch_size``, with a progress bar."""
        _no_extra(kwargs, "upload_points")
        self._refuse_write_options(shard_key_selector, update_filter, update_mode)
        frame = self._frame(collection_name)
        points = [to_nbvec(p, PointStruct, "points[]") for p in points]
        with progress_bar(len(points), f"upload to {collection_name}",
                          len(points) >= 10_000) as bar:
            for lo in range(0, len(points), max(1, batch_size)):
                chunk = points[lo: lo + batch_size]
                frame.upsert_points(chunk)
                bar.update(len(chunk))

    def upload_collection(self, collection_name: str, vectors, payload=None, ids=None,
                          batch_size=64, parallel=1, method=None, max_retries=3, wait=False,
                          shard_key_selector=None, update_filter=None, update_mode=None,
                          **kwargs) -> None:
        """Upsert vectors in columns (numpy (n, d) or {name: array}); ids default
        to random UUIDs, as in qdrant-client."""
        _no_extra(kwargs, "upload_collection")
        self._refuse_write_options(shard_key_selector, update_filter, update_mode)
        frame = self._frame(collection_name)
        if isinstance(vectors, dict):
            arrays = {k: np.asarray(v) if not isinstance(v, np.ndarray) else v
                      for k, v in vectors.items()}
            n = len(next(iter(arrays.values())))
        else:
            arrays = vectors if isinstance(vectors, np.ndarray) else np.asarray(list(vectors))
            n = len(arrays)
        ids = [str(uuid.uuid4()) for _ in range(n)] if ids is None else normalize_ids(list(ids))
        payload = list(payload) if payload is not None else None
        if len(ids) != n or (payload is not None and len(payload) != n):
            raise InvalidRequest(f"upload_collection: {n} vectors, {len(ids)} ids"
                                 + (f", {len(payload)} payloads" if payload is not None else ""))
        with progress_bar(n, f"upload to {collection_name}", n >= 10_000) as bar:
            for lo in range(0, n, max(1, batch_size)):
                hi = min(n, lo + batch_size)
                chunk = ({k: v[lo:hi] for k, v in arrays.items()} if isinstance(arrays, dict)
                         else arrays[lo:hi])
                frame.upsert(ids[lo:hi], chunk, payload[lo:hi] if payload else None)
                bar.update(hi - lo)

    def _selector(self, selector):
        """(ids, filter) of a points selector: ids, PointIdsList, FilterSelector, Filter."""
        if selector is None:
            raise InvalidRequest("a points selector is required: ids, PointIdsList or Filter")
        if isinstance(selector, PointIdsList):
            refuse(selector.shard_key, "shard keys")
            return selector.points, None
        if isinstance(selector, FilterSelector):
            refuse(selector.shard_key, "shard keys")
            return None, selector.filter
        if isinstance(selector, Filter):
            return None, selector
        if isinstance(selector, dict) or type(selector).__module__.startswith("qdrant_client"):
            kind = type(selector).__name__
            if kind == "Filter" or (isinstance(selector, dict) and not
                                    {"points", "filter"} & set(selector)):
                return None, to_nbvec(selector, Filter, "points_selector")
            from .models import PointsSelector

            return self._selector(to_nbvec(selector, PointsSelector, "points_selector"))
        if isinstance(selector, (list, tuple, np.ndarray, range)):
            return list(selector), None
        raise InvalidRequest(f"points selector: expected a list of ids, PointIdsList, "
                             f"FilterSelector or Filter, got {type(selector).__name__}")

    def _existing(self, collection_name: str, selector):
        """(frame, ids, filter) of a payload or vector write; as in Qdrant, every
        id named must exist (PointNotFound before anything changes)."""
        ids, flt = self._selector(selector)
        frame = self._frame(collection_name)
        if ids is not None:
            ids = normalize_ids(ids)
            found = {r.id for r in frame.retrieve(ids, with_payload=False, with_vectors=False)}
            missing = [i for i in dict.fromkeys(ids) if i not in found]
            if missing:
                raise PointNotFound(f"No point with id {', '.join(map(str, missing))} found "
                                    f"in `{collection_name}`")
        return frame, ids, flt

    def delete(self, collection_name: str, points_selector, wait=True, ordering=None,
               shard_key_selector=None, timeout=None, **kwargs):
        _no_extra(kwargs, "delete")
        refuse(shard_key_selector, "shard keys")
        ids, flt = self._selector(points_selector)
        return self._frame(collection_name).delete(ids=ids, filter=flt)

    def set_payload(self, collection_name: str, payload, points, key=None, wait=True,
                    ordering=None, shard_key_selector=None, timeout=None, **kwargs):
        _no_extra(kwargs, "set_payload")
        refuse(shard_key_selector, "shard keys")
        refuse(key, "set_payload(key=...) (setting under a nested key)")
        frame, ids, flt = self._existing(collection_name, points)
        return frame.set_payload(payload, ids=ids, filter=flt)

    def overwrite_payload(self, collection_name: str, payload, points, wait=True,
                          ordering=None, shard_key_selector=None, timeout=None, **kwargs):
        _no_extra(kwargs, "overwrite_payload")
        refuse(shard_key_selector, "shard keys")
        frame, ids, flt = self._existing(collection_name, points)
        return frame.overwrite_payload(payload, ids=ids, filter=flt)

    def delete_payload(self, collection_name: str, keys, points, wait=True, ordering=None,
                       shard_key_selector=None, timeout=None, **kwargs):
        _no_extra(kwargs, "delete_payload")
        refuse(shard_key_selector, "shard keys")
        frame, ids, flt = self._existing(collection_name, points)
        return frame.delete_payload(keys, ids=ids, filter=flt)

    def clear_payload(self, collection_name: str, points_selector, wait=True, ordering=None,
                      shard_key_selector=None, timeout=None, **kwargs):
        _no_extra(kwargs, "clear_payload")
        refuse(shard_key_selector, "shard keys")
        frame, ids, flt = self._existing(collection_name, points_selector)
        return frame.clear_payload(ids=ids, filter=flt)

    def update_vectors(self, collection_name: str, points, wait=True, ordering=None,
                       shard_key_selector=None, update_filter=None, timeout=None, **kwargs):
        """Replace vectors of existing points (``[PointVectors(id, vector)]``)."""
        _no_extra(kwargs, "update_vectors")
        self._refuse_write_options(shard_key_selector, update_filter)
        points = [to_nbvec(p, PointVectors, "points[]") for p in points]
        return self._frame(collection_name).update_vectors([p.id for p in points],
                                                           [p.vector for p in points])

    def delete_vectors(self, collection_name: str, vectors, points, wait=True, ordering=None,
                       shard_key_selector=None, timeout=None, **kwargs):
        _no_extra(kwargs, "delete_vectors")
        refuse(shard_key_selector, "shard keys")
        frame, ids, flt = self._existing(collection_name, points)
        return frame.delete_vectors(vectors, ids=ids, filter=flt)

    # -- points: reads -----------------------------------------------------------
    def retrieve(self, collection_name: str, ids, with_payload=True, with_vectors=False,
                 consistency=None, shard_key_selector=None, timeout=None, **kwargs):
        _no_extra(kwargs, "retrieve")
        refuse(shard_key_selector, "shard keys")
        return list(self._frame(collection_name).retrieve(ids, with_payload, with_vectors))

    def count(self, collection_name: str, count_filter=None, exact=True,
              shard_key_selector=None, timeout=None, **kwargs) -> CountResult:
        _no_extra(kwargs, "count")
        refuse(shard_key_selector, "shard keys")
        return CountResult(count=self._frame(collection_name).count(filter=count_filter))

    def scroll(self, collection_name: str, scroll_filter=None, limit=10, order_by=None,
               offset=None, with_payload=True, with_vectors=False, consistency=None,
               shard_key_selector=None, timeout=None, **kwargs):
        _no_extra(kwargs, "scroll")
        refuse(order_by, "scroll(order_by=...)")
        refuse(shard_key_selector, "shard keys")
        records, next_offset = self._frame(collection_name).scroll(
            filter=scroll_filter, limit=limit, offset=offset, with_payload=with_payload,
            with_vectors=with_vectors)
        return list(records), next_offset

    # -- queries -----------------------------------------------------------------
    def _query(self, collection_name, query, using, query_filter, search_params, limit, offset,
               with_payload, with_vectors, score_threshold, lookup_from, prefetch):
        """One query: the ScoredPoints."""
        kind, value = query_kind(query)  # first: a fusion query is refused as fusion
        refuse(prefetch, "prefetch")
        frame = self._frame(collection_name)
        name = check_name(using, frame._specs)
        exclude = ()
        if kind == "none":
            return self._scroll_as_scored(frame, query_filter, limit, offset or 0, with_payload,
                                          with_vectors)
        if kind == "recommend":
            return self._recommend(collection_name, value.recommend, using, query_filter,
                                   search_params, limit, offset, with_payload, with_vectors,
                                   score_threshold, lookup_from)
        if kind == "id":
            value, exclude = self._vector_of_id(frame, value, name, lookup_from)
        elif lookup_from is not None:
            raise InvalidRequest("lookup_from only applies to queries by point id")
        queries, _ = as_queries(value, frame._specs[name].size, name)
        allowed = frame._allowed(query_filter, None, None, None, exclude_ids=exclude)
        return frame._search_table(
            name, queries, allowed, limit=limit, offset=offset or 0,
            score_threshold=score_threshold, with_payload=with_payload,
            with_vectors=with_vectors, **{"exact": False, "hnsw_ef": None,
                                          "indexed_only": False,
                                          **search_params_kwargs(search_params)}).points()

    def _vector_of_id(self, frame, point_id, name, lookup_from):
        """The stored vector of a point used as a query, and the ids to exclude."""
        source, vec_name, exclude = frame, name, (normalize_id(point_id),)
        if lookup_from is not None:
            from .models import LookupLocation

            loc = to_nbvec(lookup_from, LookupLocation, "lookup_from")
            source = self._frame(loc.collection)
            vec_name = check_name(loc.vector if loc.vector is not None else name, source._specs)
            exclude = ()
        rec = source.retrieve([point_id], with_payload=False, with_vectors=[vec_name])
        if not rec:
            raise PointNotFound(f"No point with id {point_id} found")
        vec = rec[0].vector
        vec = vec.get(vec_name) if isinstance(vec, dict) else vec
        if vec is None:
            raise PointNotFound(f"point {point_id} has no vector {vec_name!r}")
        return vec, exclude

    @staticmethod
    def _scroll_as_scored(frame, query_filter, limit, offset, with_payload, with_vectors):
        records, _ = frame.scroll(filter=query_filter, limit=limit + offset,
                                  with_payload=with_payload, with_vectors=with_vectors)
        return [ScoredPoint(id=r.id, version=0, score=1.0, payload=r.payload, vector=r.vector)
                for r in records[offset:]]

    def query_points(self, collection_name: str, query=None, using=None, prefetch=None,
                     query_filter=None, search_params=None, limit=10, offset=None,
                     with_payload=True, with_vectors=False, score_threshold=None,
                     lookup_from=None, consistency=None, shard_key_selector=None,
                     timeout=None, **kwargs) -> QueryResponse:
        """Nearest points to a vector or to a stored point (by id)."""
        refuse(shard_key_selector, "shard keys")
        _no_extra(kwargs, "query_points")
        points = self._query(collection_name, query, using, query_filter, search_params, limit,
                             offset, with_payload, with_vectors, score_threshold, lookup_from,
                             prefetch)
        return QueryResponse.trusted(points=_plain(points))  # one: cheaper than _responses

    def query_batch_points(self, collection_name: str, requests, consistency=None,
                           timeout=None, **kwargs) -> list[QueryResponse]:
        """Several QueryRequests; n requests answer as n query_points calls.
        Vector requests that share every other parameter (the filter above
        all) run as one batch: the filter's masks once, one matrix product."""
        _no_extra(kwargs, "query_batch_points")
        calls = []
        for r in requests:
            r = to_nbvec(r, QueryRequest, "requests[]")
            refuse(r.shard_key, "shard keys")
            calls.append((r.query, (r.using, r.filter, r.params, r.limit or 10, r.offset,
                                    r.with_payload or False, r.with_vector or False,
                                    r.score_threshold, r.lookup_from, r.prefetch)))
        with gc_paused():  # a batch's many result objects (see nbvec._gc)
            return _responses(self._batch(collection_name, calls))

    def _batch(self, collection_name, calls: list) -> list:
        """Answers (new plain lists of ScoredPoints) of ``(query, rest of the
        _query arguments)`` pairs, vector queries with equal other arguments
        grouped into one batch search."""
        answers: list = [None] * len(calls)
        vectors: list = [None] * len(calls)
        by_identity: dict = {}  # requests passing the very same argument objects, cheaply
        last_rest = last_group = None  # the previous vector request's: most often shared
        for i, (query, rest) in enumerate(calls):
            kind, value = query_kind(query)
            if kind == "vector" and rest[8] is None and rest[9] is None:
                vectors[i] = value
                if last_rest is None or not all(map(is_, rest, last_rest)):
                    last_rest = rest
                    last_group = by_identity.setdefault(tuple(map(id, rest)), [])
                last_group.append(i)
            else:
                answers[i] = _plain(self._query(collection_name, query, *rest))
        # then by value: equal filters given as distinct objects join
        groups = _equal_groups(by_identity, calls) if len(by_identity) > 1 else by_identity
        frame = self._frame(collection_name) if groups else None
        for members in groups.values():
            (using, flt, params, limit, offset, with_payload, with_vectors, threshold, _,
             _) = calls[members[0]][1]
            name = check_name(using, frame._specs)
            queries = _stacked_queries([vectors[i] for i in members], frame._specs[name].size,
                                       name)
            table = frame._search_table(
                name, queries, frame._allowed(flt, None, None, None), limit=limit,
                offset=offset or 0, score_threshold=threshold, with_payload=with_payload,
                with_vectors=with_vectors, **{"exact": False, "hnsw_ef": None,
                                              "indexed_only": False,
                                              **search_params_kwargs(params)})
            for i, points in zip(members, table.point_lists()):
                answers[i] = points
        return answers

    def search(self, collection_name: str, query_vector, query_filter=None,
               search_params=None, limit=10, offset=0, with_payload=True, with_vectors=False,
               score_threshold=None, append_payload=True, consistency=None,
               shard_key_selector=None, timeout=None, **kwargs) -> list[ScoredPoint]:
        """The legacy search endpoint (seed 000): query_vector is a list,
        ``(name, vector)`` or NamedVector."""
        refuse(shard_key_selector, "shard keys")
        _no_extra(kwargs, "search")
        name, vector = named_query_vector(query_vector)
        if query_kind(vector)[0] != "vector":
            raise InvalidRequest(f"search(query_vector=...) takes a vector, got {vector!r:.60}; "
                                 "to search by point id use query_points(query=id)")
        return list(self._query(collection_name, vector, name, query_filter, search_params, limit,
                                offset, with_payload, with_vectors, score_threshold, None, None))

    def search_batch(self, collection_name: str, requests, consistency=None, timeout=None,
                     **kwargs) -> list[list[ScoredPoint]]:
        """Several SearchRequests; n requests equal n searches (those sharing
        a filter and parameters run as one batch)."""
        _no_extra(kwargs, "search_batch")
        calls = []
        for r in requests:
            r = to_nbvec(r, SearchRequest, "requests[]")
            refuse(r.shard_key, "shard keys")
            name, vector = named_query_vector(r.vector)
            if not isinstance(vector, (list, tuple, np.ndarray)):
                raise InvalidRequest("search_batch: each request's vector is a list of numbers")
            calls.append((vector, (name, r.filter, r.params, r.limit, r.offset,
                                   r.with_payload or False, r.with_vector or False,
                                   r.score_threshold, None, None)))
        with gc_paused():
            return self._batch(collection_name, calls)

    def explain(self, collection_name: str, query, using=None, query_filter=None,
                search_params=None, limit=10, offset=None, score_threshold=None):
        """How ``query_points`` with these arguments is answered, segment by
        segment (nbvec's own; Qdrant has no such call). See VectorFrame.explain."""
        frame = self._frame(collection_name)
        kind, value = query_kind(query)
        if kind == "id":
            value, _ = self._vector_of_id(frame, value, check_name(using, frame._specs), None)
        elif kind != "vector":
            raise InvalidRequest("explain takes a vector or a point id as query")
        return frame.explain(value, using=using, filter=query_filter, limit=limit,
                             offset=offset or 0, score_threshold=score_threshold,
                             **search_params_kwargs(search_params))

    # -- payload indexes ---------------------------------------------------------
    def create_payload_index(self, collection_name: str, field_name: str, field_schema=None,
                             field_type=None, wait=True, ordering=None, timeout=None, **kwargs):
        """Declare a payload field's type (reported in payload_schema)."""
        _no_extra(kwargs, "create_payload_index")
        frame = self._frame(collection_name)
        schema = field_schema if field_schema is not None else field_type
        if schema is None:
            raise InvalidRequest("create_payload_index needs field_schema, e.g. 'keyword'")
        return frame.create_payload_index(field_name, schema)

    def delete_payload_index(self, collection_name: str, field_name: str, wait=True,
                             ordering=None, timeout=None, **kwargs):
        _no_extra(kwargs, "delete_payload_index")
        return self._frame(collection_name).delete_payload_index(field_name)

    # -- REST --------------------------------------------------------------------
    def rest_request(self, method: str, path: str, body=None) -> dict:
        """Run a Qdrant REST call in process: ``client.rest_request("POST",
        "/collections/demo/points/search", {...})`` returns
        ``{"result": ..., "status": "ok", "time": seconds}``."""
        from ._rest import handle

        return handle(self, method, path, body)


def _entry_json(entry: _Entry) -> dict:
    """A collection's Client-level configuration as JSON (kept in its manifest)."""
    vc = entry.vectors_config
    return {"vectors_config": ({k: v.model_dump(mode="json") for k, v in vc.items()}
                               if isinstance(vc, dict) else vc.model_dump(mode="json")),
            "named": isinstance(vc, dict), "hnsw": entry.hnsw.model_dump(mode="json"),
            "optimizers": entry.optimizers.model_dump(mode="json"),
            "wal": entry.wal.model_dump(mode="json"), "on_disk_payload": entry.on_disk_payload,
            "metadata": entry.metadata}


def _entry_from_json(frame: VectorFrame, data: dict | None) -> _Entry:
    """The entry of a stored collection (defaults for a folder written by
    VectorFrame.open rather than by a Client)."""
    if data is None:
        specs = frame._specs
        params = {n: VectorParams(size=s.size, distance=s.distance, on_disk=s.on_disk)
                  for n, s in specs.items()}
        vc = params[""] if list(params) == [""] else params
        cfg = frame._config
        hnsw = HnswConfig(m=cfg.hnsw_m, ef_construct=cfg.hnsw_ef_construct,
                          full_scan_threshold=cfg.full_scan_threshold, max_indexing_threads=0,
                          on_disk=False)
        optimizers = OptimizersConfig(
            deleted_threshold=cfg.deleted_threshold,
            vacuum_min_vector_number=cfg.vacuum_min_vector_number, default_segment_number=0,
            indexing_threshold=cfg.indexing_threshold, flush_interval_sec=5)
        return _Entry(frame, vc, hnsw, optimizers,
                      WalConfig(wal_capacity_mb=32, wal_segments_ahead=0), True, None)
    vc = data["vectors_config"]
    vc = ({k: VectorParams.model_validate(v) for k, v in vc.items()} if data["named"]
          else VectorParams.model_validate(vc))
    return _Entry(frame, vc, HnswConfig.model_validate(data["hnsw"]),
                  OptimizersConfig.model_validate(data["optimizers"]),
                  WalConfig.model_validate(data["wal"]), data["on_disk_payload"],
                  data["metadata"])


def _equal_groups(by_identity: dict, calls: list) -> dict:
    """The groups of request positions ``by_identity`` merged where their
    arguments are equal in value (each argument object dumped to JSON once)."""
    canonical: dict = {}  # id(argument) -> its JSON

    def key_of(arg):
        if arg is None or isinstance(arg, (bool, int, float, str)):
            return type(arg).__name__, arg  # True and 1 are different arguments
        if id(arg) not in canonical:
            canonical[id(arg)] = json.dumps(_jsonable(arg), sort_keys=True, default=str)
        return canonical[id(arg)]

    groups: dict = {}
    for members in by_identity.values():
        groups.setdefault(tuple(map(key_of, calls[members[0]][1])), []).extend(members)
    return groups


def _jsonable(value):
    """A request argument in a form json can compare (models dumped)."""
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def _plain(points) -> list:
    """The engine's ScoredPoints (Results or a list) as a new plain list."""
    return points._plain_list() if isinstance(points, Results) else list(points)


def _responses(answers: list) -> list[QueryResponse]:
    """A QueryResponse holding each plain list of the engine's ScoredPoints
    (already checked: not validated again), all made at once."""
    return trusted_instances(QueryResponse, [{"points": a} for a in answers],
                             frozenset({"points"}))


def _stacked_queries(vectors: list, size: int, name: str) -> np.ndarray:
    """The query vectors of several requests as one (m, size) float32 array:
    converted in one go when they are plain vectors of the right size, else
    one by one (so an error names the bad request's vector)."""
    if all(isinstance(v, (list, np.ndarray)) and len(v) == size for v in vectors):
        try:
            stacked = np.asarray(vectors, dtype=np.float64 if isinstance(vectors[0], list)
                                 else None)
        except (ValueError, TypeError):
            stacked = None
        if stacked is not None and stacked.shape == (len(vectors), size):
            return as_queries(stacked, size, name)[0]
    return np.concatenate([as_queries(v, size, name)[0] for v in vectors])


def _no_extra(kwargs: dict, method: str) -> None:
    if kwargs:
        raise InvalidRequest(f"{method}() got unknown argument(s) {sorted(kwargs)}")


def _batch_vectors(vectors):
    """Batch.vectors (list of lists, array, or {name: ...}) for VectorFrame.upsert."""
    if isinstance(vectors, dict):
        return vectors
    if isinstance(vectors, list) and vectors and isinstance(vectors[0], dict):
        raise InvalidRequest("Batch.vectors is a list of vectors or {name: list of vectors}")
    return vectors
