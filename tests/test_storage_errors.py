"""Bad input to the storage faces: nbvec's own errors, naming what is wrong
and what to do, raised before any file is made or changed."""

from __future__ import annotations

import numpy as np
import pytest

import nbvec
from nbvec import Client, InvalidRequest, VectorFrame, models


def test_open_absent_storage_without_a_size(tmp_path):
    with pytest.raises(InvalidRequest, match="no nbvec storage.*give the vector size"):
        VectorFrame.open(tmp_path / "vf")
    assert not (tmp_path / "vf").exists()


@pytest.mark.parametrize("call", [lambda p: VectorFrame.load(p),
                                  lambda p: VectorFrame.open(p, read_only=True)])
def test_read_absent_storage(tmp_path, call):
    with pytest.raises(InvalidRequest, match="no nbvec storage"):
        call(tmp_path / "vf")


@pytest.mark.parametrize("kwargs, match", [
    ({"size": 0}, "vector size must be a positive integer"),
    ({"size": 2, "indexing_threshold": -1}, "indexing_threshold=-1 is invalid"),
    ({"size": 2, "bogus": 1}, "unknown VectorFrame option"),
    ({"size": 2, "mmap": "yes"}, "mmap='yes' is invalid"),
])
def test_bad_options_make_no_folder(tmp_path, kwargs, match):
    with pytest.raises(InvalidRequest, match=match):
        VectorFrame.open(tmp_path / "vf", **kwargs)
    assert not (tmp_path / "vf").exists()


def test_folder_that_is_not_a_storage(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    for call in (lambda: VectorFrame.open(tmp_path / "notes", 2),
                 lambda: VectorFrame(2).save(tmp_path / "notes")):
        with pytest.raises(InvalidRequest, match="not an nbvec storage folder.*todo.txt"):
            call()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidRequest, match="is a file"):
        VectorFrame.open(tmp_path / "file", 2)
    with pytest.raises(InvalidRequest, match="not a folder"):
        Client(path=tmp_path / "file")


def test_reopen_with_other_vectors_or_options(tmp_path):
    VectorFrame.open(tmp_path / "vf", 3, "Dot", progress=False).close()
    with pytest.raises(InvalidRequest, match=r"holds vectors \{'': \(3, 'Dot'\)\}.*\(4, 'Dot'\)"):
        VectorFrame.open(tmp_path / "vf", 4, "Dot")
    with pytest.raises(InvalidRequest, match="Cosine"):
        VectorFrame.open(tmp_path / "vf", 3)
    with pytest.raises(InvalidRequest, match="n_trees=0 is invalid"):
        VectorFrame.open(tmp_path / "vf", n_trees=0)
    with pytest.raises(InvalidRequest, match="read_only=True.*cannot apply"):
        VectorFrame.open(tmp_path / "vf", read_only=True, n_trees=3)
    with VectorFrame.open(tmp_path / "vf", 3, "Dot", n_trees=7) as vf:  # a tunable may change
        assert vf._config.n_trees == 7
    assert VectorFrame.load(tmp_path / "vf")._config.n_trees == 7


def test_failed_write_on_an_attached_frame_changes_nothing_on_disk(tmp_path):
    vf = VectorFrame.open(tmp_path / "vf", 2, progress=False)
    vf.upsert([1], np.ones((1, 2)))
    log = (tmp_path / "vf" / "wal.log").read_bytes()
    for bad in (lambda: vf.upsert([2], np.full((1, 2), np.nan)),
                lambda: vf.upsert([-1], np.ones((1, 2))),
                lambda: vf.set_payload({"a": object()}, ids=[1]),
                lambda: vf.upsert([3], np.ones((1, 3)))):
        with pytest.raises(nbvec.InvalidInput):
            bad()
    assert (tmp_path / "vf" / "wal.log").read_bytes() == log
    vf.close()


def test_client_storage_errors(tmp_path):
    client = Client(path=tmp_path / "db")
    params = models.VectorParams(size=2, distance="Dot")
    for name in ("a/b", ".hidden", "", "x\\y"):
        with pytest.raises(InvalidRequest, match="cannot be stored"):
            client.create_collection(name, vectors_config=params)
    assert client.get_collections().collections == []
    client.create_collection("c", vectors_config=params)
    client.close()
    reader = Client(path=tmp_path / "db", read_only=True)
    for write in (lambda: reader.create_collection("d", vectors_config=params),
                  lambda: reader.delete_collection("c"),
                  lambda: reader.upsert("c", points=models.Batch(ids=[1], vectors=[[1, 0]])),
                  lambda: reader.update_collection_aliases(change_aliases_operations=[
                      models.CreateAliasOperation(create_alias=models.CreateAlias(
                          collection_name="c", alias_name="a"))])):
        with pytest.raises(InvalidRequest, match="read_only"):
            write()
    assert reader.collection_exists("c") and reader.count("c").count == 0
    with pytest.raises(InvalidRequest, match="no nbvec Client storage"):
        Client(path=tmp_path / "absent", read_only=True)
    with pytest.raises(InvalidRequest, match="fsync="):
        Client(path=tmp_path / "db2", fsync="sometimes")
