"""Which backend runs a model, without loading one: ``auto`` and what a build records
for it, int8 ids, the query path's choice of the ONNX export, and model names of the
static tier."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import citeseek
from citeseek.config import Settings
from citeseek.demo import sample_dir
from citeseek.embed import choose_backend, onnx_export, resolve_embedder
from citeseek.embed.base import (
    DEFAULT_MODEL_ID,
    STATIC_MODEL_ID,
    backend_model_id,
    base_model_name,
    model_id_for,
)
from citeseek.embed.hashing import HashingEmbedder
from citeseek.embed.onnx_runtime import MARKER, OnnxEmbedder, export_folder
from citeseek.embed.sentence_transformer import SentenceTransformerEmbedder
from citeseek.errors import CorruptCollection


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CITESEEK_CACHE", str(folder))
    monkeypatch.delenv("CITESEEK_QUERY_BACKEND", raising=False)
    return folder


def fake_export(model_id: str) -> None:
    """A marker where the export of ``model_id`` would be (nothing is loaded from it)."""
    folder = export_folder(model_id)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text(json.dumps({"model_id": model_id}))


def test_auto_is_the_default_and_a_build_records_what_it_chose(tmp_path: Path) -> None:
    assert Settings().backend == "auto"
    col = citeseek.build(sample_dir(), tmp_path / "s", model="hashing",
                         progress=False)
    assert col.manifest["settings"]["backend"] == "torch"  # nothing to export: as before


def test_a_manifest_never_says_auto(tmp_path: Path, build) -> None:
    from citeseek.storage import layout

    store = tmp_path / "s"
    col = build(sample_dir(), store)
    path = store / col.generation / layout.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["settings"]["backend"] = "auto"
    path.write_text(json.dumps(manifest))
    with pytest.raises(CorruptCollection, match="auto"):
        citeseek.open(store, model=HashingEmbedder())


def test_auto_without_the_onnx_extra_is_torch(cache: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_export, "tools_present", lambda: False)
    assert choose_backend("all-MiniLM-L6-v2") == "torch"  # and nothing was loaded
    assert not (cache / "onnx").exists()
    fake_export(DEFAULT_MODEL_ID)  # an export made earlier serves all the same
    assert choose_backend("all-MiniLM-L6-v2") == "onnx-int8-fused"
    for other in ("hashing", "static", HashingEmbedder()):
        assert choose_backend(other) == "torch"


def test_int8_ids_say_so_and_come_back_to_the_model() -> None:
    for backend in ("onnx-int8", "onnx-int8-fused"):
        model_id = backend_model_id(DEFAULT_MODEL_ID, backend)
        assert model_id == f"{DEFAULT_MODEL_ID}@{backend}"
        assert base_model_name(model_id, backend) == DEFAULT_MODEL_ID
    assert backend_model_id(DEFAULT_MODEL_ID, "onnx") == DEFAULT_MODEL_ID


def test_queries_on_a_torch_collection_take_the_export_when_cached(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(resolve_embedder("default", "torch", query=True),
                      SentenceTransformerEmbedder)  # no export yet
    fake_export(DEFAULT_MODEL_ID)
    chosen = resolve_embedder("default", "torch", query=True)
    assert isinstance(chosen, OnnxEmbedder) and chosen.backend == "onnx"
    assert chosen.model_id == DEFAULT_MODEL_ID
    assert isinstance(resolve_embedder("default", "torch"), SentenceTransformerEmbedder)
    monkeypatch.setenv("CITESEEK_QUERY_BACKEND", "torch")
    assert isinstance(resolve_embedder("default", "torch", query=True),
                      SentenceTransformerEmbedder)


def test_the_static_tier_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("static", "static-minilm", "model2vec", STATIC_MODEL_ID):
        assert model_id_for(name) == STATIC_MODEL_ID
    monkeypatch.chdir(tmp_path)
    (tmp_path / "static").mkdir()  # a folder of that name is a model path instead
    assert model_id_for("static") == str((tmp_path / "static").resolve())
