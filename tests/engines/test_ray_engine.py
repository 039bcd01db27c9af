"""The Ray engine on a local Ray cluster started here (``ray.init(num_cpus=2)``): the same
collection as the local engine, incremental builds, and workers that die mid-build.

Skipped only where Ray is not installed and ``CI`` is unset; in CI a missing Ray fails."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import BuildError
from citeseek.storage import layout
from tests.helpers import REPO

pytestmark = pytest.mark.ray
ROOT = REPO
QUESTIONS = ("How many protesters were killed?", "Mostazafan Foundation sanctions",
             "1988 massacre of political prisoners", "Who leads the Revolutionary Guards?")


@pytest.fixture(scope="module")
def cluster():
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("Ray is required in CI: pip install 'citeseek[ray]'")
        pytest.skip("Ray is not installed (pip install 'citeseek[ray]')")
    # Workers are started by this cluster with this environment: they import citeseek
    # (and, for the test embedders, this package) from the same folders.
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    for attempt in range(2):  # on a busy machine the node may miss Ray's 30 s start-up
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            break
        except Exception:
            ray.shutdown()
            if attempt:
                raise
    try:
        yield ray
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved


class DyingEmbedder(HashingEmbedder):
    """The fake model, but the process running it dies (``os._exit``) while encoding: the
    first time only when ``marker`` names a file that is not there yet, else always."""

    def __init__(self, marker: Path | None = None) -> None:
        super().__init__()
        self.marker = marker

    def encode(self, texts: list[str], **kwargs) -> np.ndarray:
        if self.marker is None or not self.marker.exists():
            if self.marker is not None:
                self.marker.touch()
            os._exit(17)
        return super().encode(texts, **kwargs)


def rows(store: Path, sql: str) -> list[tuple]:
    gen = layout.current_generation(store)
    conn = sqlite3.connect(f"file:{store / str(gen) / layout.STORE_FILE}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def assert_same_collection(local: Path, remote: Path, model, *, atol: float) -> None:
    """Same documents, chunks (ids, offsets, lines, texts), vectors and search results."""
    for sql in ("SELECT * FROM documents ORDER BY doc_id",
                "SELECT * FROM chunks ORDER BY chunk_id",
                "SELECT key, sha256, size, n_docs, skipped FROM files ORDER BY key"):
        assert rows(local, sql) == rows(remote, sql), sql
    a, b = citeseek.open(local, model=model), citeseek.open(remote, model=model)
    assert a.manifest["counts"] == b.manifest["counts"]
    assert a.manifest["index"] == b.manifest["index"]
    assert a.manifest["settings"] == b.manifest["settings"]
    ids_a = [p["chunk_id"] for p in a.passages()]
    ids_b = [p["chunk_id"] for p in b.passages()]
    vec_a, vec_b = a.passage_vectors(), b.passage_vectors()
    assert ids_a == ids_b and len(ids_a) == len(a) == len(vec_a)
    assert float(np.abs(vec_a - vec_b).max()) <= atol
    for question in QUESTIONS:
        for mode in ("dense", "hybrid"):
            hits_a, hits_b = a.search(question, k=5, mode=mode), b.search(question, k=5,
                                                                            mode=mode)
            assert [h.chunk_id for h in hits_a] == [h.chunk_id for h in hits_b]
            assert [h.text for h in hits_a] == [h.text for h in hits_b]
            assert np.allclose([h.score for h in hits_a], [h.score for h in hits_b],
                               atol=1e-4)


def edit(folder: Path) -> None:
    target = folder / "004_4711baa52dff02b9.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nA closing paragraph about "
                      "the zeppelin harbour that was added after the first build.\n",
                      encoding="utf-8")
    (folder / "000_8ec7e9efab969127.txt").unlink()


@pytest.mark.model
def test_ray_engine_builds_the_local_collection_with_the_real_model(
        cluster, real_model, sample_dir: Path, tmp_path: Path) -> None:
    local, remote = tmp_path / "local", tmp_path / "ray"
    a = citeseek.build(sample_dir, local, model=real_model, progress=False)
    b = citeseek.build(sample_dir, remote, model=real_model, progress=False, engine="ray")
    assert b.last_build.embedded == a.last_build.embedded == len(a)
    assert b.manifest["model"] == a.manifest["model"]
    assert_same_collection(local, remote, real_model, atol=1e-5)
    assert sorted(p.name for p in (remote / b.generation).iterdir()) == sorted(
        [layout.MANIFEST, *layout.DATA_FILES, layout.KEYWORD_DIR])  # the shards are gone

    edit(sample_dir)  # one file changed, one removed: only the changed one goes to Ray
    a = citeseek.build(sample_dir, local, model=real_model, progress=False)
    b = citeseek.build(sample_dir, remote, model=real_model, progress=False, engine="ray")
    assert (b.last_build.files_changed, b.last_build.files_removed) == (1, 1)
    assert 0 < b.last_build.embedded == a.last_build.embedded < len(b)
    assert_same_collection(local, remote, real_model, atol=1e-5)
    again = citeseek.build(sample_dir, remote, model=real_model, progress=False,
                           engine="ray")
    assert again.last_build.unchanged and again.generation == b.generation


def test_cli_reports_a_model_that_workers_cannot_load(cluster, sample_dir: Path,
                                                      tmp_path: Path, capsys) -> None:
    import json

    from citeseek.cli import main

    code = main(["index", str(sample_dir), "--store", str(tmp_path / "ray"), "--engine",
                 "ray", "--workers", "1", "--json", "--model", "no-such-model-here"])
    out, err = capsys.readouterr()
    assert code == 2 and json.loads(out)["type"] == "UsageError"  # raised on a worker
    assert "cannot load embedding model 'no-such-model-here'" in err
    assert layout.current_generation(tmp_path / "ray") is None
    assert layout.generations(tmp_path / "ray") == []


def test_a_worker_killed_once_is_restarted_and_the_build_completes(
        cluster, sample_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "died-once"
    local, remote = tmp_path / "local", tmp_path / "ray"
    citeseek.build(sample_dir, local, model=HashingEmbedder(), progress=False)
    col = citeseek.build(sample_dir, remote, model=DyingEmbedder(marker), progress=False,
                         engine="ray", workers=1)
    assert marker.exists()  # a worker did die
    assert col.last_build.documents == 5
    assert_same_collection(local, remote, HashingEmbedder(), atol=1e-6)


def test_workers_that_keep_dying_fail_the_build_and_leave_the_previous_one_live(
        cluster, sample_dir: Path, tmp_path: Path) -> None:
    from citeseek.engines.ray_driver import RayOptions, build_collection_on_ray

    store, fake = tmp_path / "col", HashingEmbedder()
    first = citeseek.build(sample_dir, store, model=fake, progress=False)
    before = [(h.chunk_id, h.text) for h in first.search("protesters killed", k=5)]
    edit(sample_dir)
    with pytest.raises(BuildError, match=f"Ray pipeline failed: .*; {first.generation} stays"):
        build_collection_on_ray([sample_dir], store, model=DyingEmbedder(), progress=False,
                                options=RayOptions(workers=1, retries=1))
    assert layout.current_generation(store) == first.generation
    assert layout.generations(store) == [first.generation]  # nothing half-written left
    col = citeseek.open(store, model=fake)  # verifies every checksum
    assert [(h.chunk_id, h.text) for h in col.search("protesters killed", k=5)] == before
    assert len(col.documents()) == 5
