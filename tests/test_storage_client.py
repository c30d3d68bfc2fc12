"""Client(path=...): every collection in ``<path>/collections/<name>/``,
with its Client-level configuration, aliases in ``<path>/aliases``; what a
reopened Client reports and answers is what the first one did."""

from __future__ import annotations

import numpy as np

from nbvec import Client, VectorFrame, models


def create(client):
    client.create_collection(
        "docs", vectors_config={"img": models.VectorParams(size=8, distance="Cosine",
                                                           on_disk=True),
                                "txt": models.VectorParams(size=4, distance="Dot")},
        hnsw_config=models.HnswConfigDiff(m=32, full_scan_threshold=1),
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=5,
                                                      deleted_threshold=0.3),
        wal_config=models.WalConfigDiff(wal_capacity_mb=1), on_disk_payload=False,
        metadata={"owner": "me", "tags": [1, 2]})
    client.create_collection("plain", vectors_config=models.VectorParams(size=3,
                                                                         distance="Euclid"))


def queries(client):
    rng = np.random.default_rng(5)
    out = []
    for q in rng.normal(size=(3, 8)):
        res = client.query_points("docs", query=q.tolist(), using="img", limit=5,
                                  with_payload=True, with_vectors=["txt"])
        out.append([(p.id, p.score, p.payload, p.vector) for p in res.points])
    out.append(client.count("plain").count)
    return out


def test_collections_config_aliases_and_answers_survive_reopening(tmp_path):
    path = tmp_path / "db"
    rng = np.random.default_rng(0)
    client = Client(path=path)
    create(client)
    client.upload_collection("docs", {"img": rng.normal(size=(400, 8)),
                                      "txt": rng.normal(size=(400, 4))},
                             payload=[{"n": i} for i in range(400)], ids=range(400),
                             batch_size=50)
    client.upsert("plain", models.Batch(ids=[1, 2], vectors=[[0, 0, 1], [1, 0, 0]]))
    client.set_payload("docs", {"flag": True}, points=[3, 4])
    client.create_payload_index("docs", "n", "integer")
    client.update_collection_aliases(change_aliases_operations=[
        models.CreateAliasOperation(create_alias=models.CreateAlias(
            collection_name="docs", alias_name="latest"))])
    info, answers = client.get_collection("docs"), queries(client)
    assert info.segments_count > 1  # sealed segments and the appendable one
    client.close()

    assert sorted(p.name for p in (path / "collections").iterdir()) == ["docs", "plain"]
    assert (path / "aliases" / "data.json").exists()
    with Client(path=path) as again:
        assert again.get_collection("docs") == info
        assert queries(again) == answers
        assert again.count("latest").count == 400
        assert [a.alias_name for a in again.get_aliases().aliases] == ["latest"]
        frame = again._frame("docs")
        sealed = [s for s in frame._engine.segments if s.sealed]
        assert sealed and all(isinstance(s.vectors["img"], np.memmap) and
                              not isinstance(s.vectors["txt"], np.memmap) for s in sealed)
        assert frame._storage.capacity == 2**20  # wal_capacity_mb=1
    reader = Client(path=path, read_only=True)
    assert queries(reader) == answers


def test_delete_collection_removes_its_folder_and_aliases(tmp_path):
    path = tmp_path / "db"
    with Client(path=path) as client:
        create(client)
        client.update_collection_aliases(change_aliases_operations=[
            models.CreateAliasOperation(create_alias=models.CreateAlias(
                collection_name="plain", alias_name="p"))])
        assert client.delete_collection("p")
        assert not client.delete_collection("plain")
        client.create_collection("plain", vectors_config=models.VectorParams(size=2,
                                                                             distance="Dot"))
    assert sorted(p.name for p in (path / "collections").iterdir()) == ["docs", "plain"]
    with Client(path=path) as again:
        assert again.get_aliases().aliases == []
        assert again.get_collection("plain").config.params.vectors.size == 2


def test_dropped_client_loses_no_write(tmp_path):
    client = Client(path=tmp_path / "db")
    create(client)
    client.upsert("plain", [models.PointStruct(id=7, vector=[1, 2, 3], payload={"a": None})])
    client.delete_payload("plain", keys=["b"], points=[7])
    del client  # never closed: the log is replayed
    with Client(path=tmp_path / "db") as again:
        assert again.retrieve("plain", [7], with_vectors=True)[0].payload == {"a": None}


def test_a_frame_folder_placed_in_collections(tmp_path):
    with VectorFrame.open(tmp_path / "db" / "collections" / "mine", 3, "Dot") as vf:
        vf.upsert([1], np.ones((1, 3)))
    with Client(path=tmp_path / "db") as client:
        assert client.count("mine").count == 1
        params = client.get_collection("mine").config.params.vectors
        assert (params.size, params.distance) == (3, models.Distance.DOT)
