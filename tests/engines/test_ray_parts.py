"""The Ray engine's parts that need no cluster: the worker run in this process, shard
reading, the IVF-PQ choice for very large collections, and what happens without Ray."""

from __future__ import annotations

import builtins
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import citeseek
from citeseek.cli import main
from citeseek.config import Settings
from citeseek.embed.base import text_hash
from citeseek.embed.hashing import HashingEmbedder
from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder
from citeseek.errors import BuildError, UsageError
from citeseek.ingest.chunking import chunk_document
from citeseek.ingest.discovery import discover
from citeseek.ingest.formats import read_file
from citeseek.ingest.sources import SourceFile
from citeseek.storage.database import GenerationDB
from citeseek.storage.vector_index import VectorIndex, choose_factory, ivfpq_factory


def _batch(folder: Path) -> tuple[list[SourceFile], dict[str, np.ndarray]]:
    files, _ = discover([folder])
    return files, {"seq": np.arange(len(files)),
                   "path": np.array([str(f.path) for f in files], dtype=object),
                   "doc_id": np.array([f.doc_id for f in files], dtype=object)}


def test_worker_gives_the_local_chunks_and_skips_cached_vectors(sample_dir: Path) -> None:
    from citeseek.engines.ray_worker import FileWorker, cached_keys, decode_documents

    fake, settings = HashingEmbedder(), Settings()
    files, batch = _batch(sample_dir)
    local = {}
    for source in files:
        (doc,), _ = read_file(source, source.path.read_bytes())
        local[doc.doc_id] = chunk_document(doc, fake, settings)
    cached = [text_hash(c.embed_text) for c in local[files[0].doc_id]]
    worker = FileWorker(HashingEmbedder(), settings, cached_keys(cached))
    out = worker(batch)
    assert list(out["seq"]) == list(range(len(files)))
    shipped: list[str] = []
    for i, source in enumerate(files):
        ((doc, chunks),) = decode_documents(out["documents"][i])
        assert doc.doc_id == source.doc_id and chunks == local[doc.doc_id]
        assert all(doc.text[c.start:c.end] == c.text for c in chunks)
        hashes = json.loads(out["hashes"][i])
        vectors = np.frombuffer(out["vectors"][i], dtype="<f4").reshape(len(hashes), 64)
        texts = {text_hash(c.embed_text): c.embed_text for c in chunks}
        assert np.allclose(vectors, fake.encode([texts[h] for h in hashes]), atol=1e-6)
        shipped += hashes
    assert json.loads(out["hashes"][0]) == [] and not set(cached) & set(shipped)
    assert len(shipped) == len(set(shipped))  # each new vector travels once


def test_worker_reports_unreadable_and_empty_files(tmp_path: Path) -> None:
    from citeseek.engines.ray_worker import FileWorker, cached_keys

    (tmp_path / "empty.txt").write_text("   \n", encoding="utf-8")
    (tmp_path / "gone.txt").write_text("soon gone", encoding="utf-8")
    files, batch = _batch(tmp_path)
    (tmp_path / "gone.txt").unlink()
    out = FileWorker(HashingEmbedder(), Settings(), cached_keys([]))(batch)
    by_name = {f.path.name: i for i, f in enumerate(files)}
    assert json.loads(out["skipped"][by_name["empty.txt"]]) == [
        [str(files[by_name["empty.txt"]].path), "empty file"]]
    assert out["error"][by_name["gone.txt"]].startswith("cannot read")
    assert out["documents"][by_name["gone.txt"]] == "[]"


def test_shards_are_read_in_file_order_once_and_gaps_fail(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from citeseek.engines.ray_driver import read_shards

    def write(name: str, seqs: list[int]) -> None:
        pq.write_table(pa.table({"seq": seqs, "sha": [f"s{s}" for s in seqs]}),
                       tmp_path / name)

    write("b.parquet", [3, 1])  # overlaps a.parquet, holds a retried duplicate of 1
    write("a.parquet", [0, 1, 2])
    write("c.parquet", [4])
    assert [r["sha"] for r in read_shards(tmp_path, 5)] == ["s0", "s1", "s2", "s3", "s4"]
    with pytest.raises(BuildError, match="5 of 6"):
        list(read_shards(tmp_path, 6))
    (tmp_path / "a.parquet").unlink()
    with pytest.raises(BuildError, match="no row for file 0"):
        list(read_shards(tmp_path, 5))
    (tmp_path / "c.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(BuildError, match="shards"):
        list(read_shards(tmp_path, 5))


def test_very_large_collections_get_ivf_pq_trained_on_a_sample(tmp_path: Path) -> None:
    plenty = 1 << 40
    assert choose_factory(5_000, 384, plenty, compress=True) == "Flat"
    assert choose_factory(100_000, 384, plenty, compress=True) == "HNSW32,Flat"
    assert choose_factory(3_000_000, 384, plenty) == "IVF8192,Flat"
    assert choose_factory(3_000_000, 384, plenty, compress=True) == "IVF8192,PQ48"
    assert ivfpq_factory(50_000_000, 384) == "IVF32768,PQ48"
    assert ivfpq_factory(100, 64) == "IVF256,PQ8"
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(1200, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    db = GenerationDB(tmp_path / "s.sqlite")
    db.conn.execute("BEGIN")
    db.embeddings.put("m", [text_hash(str(i)) for i in range(1200)], vectors)
    db.conn.execute("COMMIT")
    sample = db.embeddings.sample("m", 64, 600)
    assert 400 < len(sample) <= 600
    drawn: list[np.ndarray] = []
    ids = np.arange(100, 1300)
    index = VectorIndex.build([(ids[:600], vectors[:600]), (ids[600:], vectors[600:])],
                              64, 1200, "IVF8,PQ8x4",
                              sample=lambda: drawn.append(sample) or sample)
    assert drawn and index.ntotal == 1200
    assert index.search(vectors[42], 1)[0][0] == 142
    assert [i for i, _ in index.search(vectors[42], 5, allowed=[142, 143])] == [142, 143]
    index.save(tmp_path / "i.faiss")
    loaded = VectorIndex.load(tmp_path / "i.faiss", dimension=64, count=1200,
                              factory="IVF8,PQ8x4")
    assert loaded.search(vectors[7], 1)[0][0] == 107
    with pytest.raises(BuildError, match="cannot train"):
        VectorIndex.build([(ids[:10], vectors[:10])], 64, 10, "IVF64,PQ8",
                          sample=lambda: vectors[:10])


def test_embedder_travels_without_its_weights() -> None:
    import pickle

    emb = SentenceTransformerEmbedder()
    emb._model = object()  # as if loaded
    copy = pickle.loads(pickle.dumps(emb))
    assert copy._model is None and copy.model_id == emb.model_id
    with copy._lock:
        pass
    from citeseek.embed import resolve_embedder
    from citeseek.embed.onnx_export import ensure_export

    onnx = resolve_embedder("default", "onnx-int8-fused")
    onnx._state = {"run": lambda feeds: feeds}  # as if its session were open
    copy = pickle.loads(pickle.dumps(onnx))
    assert copy._state is None and copy.model_id == onnx.model_id
    assert copy.model_id.endswith("@onnx-int8-fused")
    assert copy._exporter is ensure_export  # a worker can make a missing export
    with copy._lock:
        pass


@pytest.fixture
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def blocked(name: str, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in [m for m in sys.modules if m == "ray" or m.startswith("ray.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", blocked)


def test_without_ray_the_engine_says_how_to_install_it(no_ray, sample_dir: Path,
                                                       tmp_path: Path, capsys) -> None:
    with pytest.raises(UsageError, match=r"pip install 'citeseek\[ray\]'"):
        citeseek.build(sample_dir, tmp_path / "col", model=HashingEmbedder(), engine="ray",
                       progress=False)
    assert not (tmp_path / "col").exists()
    code = main(["index", str(sample_dir), "--store", str(tmp_path / "col"), "--engine",
                 "ray", "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and "citeseek[ray]" in err
    assert json.loads(out)["type"] == "UsageError"


def test_engine_arguments_are_checked(sample_dir: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(UsageError, match="unknown engine"):
        citeseek.build(sample_dir, tmp_path / "a", model=HashingEmbedder(), engine="spark")
    with pytest.raises(UsageError, match="engine='ray' only"):
        citeseek.build(sample_dir, tmp_path / "a", model=HashingEmbedder(), address="auto")
    assert main(["index", str(sample_dir), "--store", str(tmp_path / "a"),
                 "--address", "auto"]) == 2
    assert "--engine ray" in capsys.readouterr().err
    assert main(["index", str(sample_dir), "--store", str(tmp_path / "a"),
                 "--engine", "dask"]) == 2
