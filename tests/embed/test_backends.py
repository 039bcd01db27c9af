"""The ONNX Runtime backends with the real model: exported into citeseek's own cache
(plain, fused and int8 graphs), vectors close to torch's, and an int8 collection that
keeps its own model id."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import citeseek
from citeseek.errors import ModelMismatch, UsageError

pytestmark = pytest.mark.model
try:
    import onnxruntime  # noqa: F401
except ImportError:  # a skip where the extra is absent; in CI (which installs it) a failure
    if os.environ.get("CI"):
        raise
    pytest.skip("onnxruntime is not installed (pip install 'citeseek[onnx]')",
                allow_module_level=True)

TEXTS = ["The harbour crane moved cargo for the fleet.",
         "Wind tunnel measurements of a swept wing at high angles of attack.",
         "x", "A longer passage " * 80]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("citeseek-cache")
    old = os.environ.get("CITESEEK_CACHE")
    os.environ["CITESEEK_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("CITESEEK_CACHE", None)
    else:
        os.environ["CITESEEK_CACHE"] = old


def test_onnx_vectors_match_torch_and_int8_stays_close(cache: Path, real_model) -> None:
    from citeseek.embed import resolve_embedder
    from citeseek.embed.onnx_runtime import OnnxEmbedder

    reference = real_model.encode(TEXTS)
    fp32, int8 = OnnxEmbedder("default", "onnx"), OnnxEmbedder("default", "onnx-int8")
    with pytest.raises(UsageError, match="no ONNX export"):  # none yet, and no exporter
        fp32.encode(TEXTS)
    fp32, int8, fused = (resolve_embedder("default", backend)
                         for backend in ("onnx", "onnx-int8", "onnx-int8-fused"))
    assert fp32.model_id == real_model.model_id
    assert int8.model_id == real_model.model_id + "@onnx-int8"
    assert fused.model_id == real_model.model_id + "@onnx-int8-fused"
    assert np.allclose((fp32.encode(TEXTS) * reference).sum(axis=1), 1.0, atol=1e-4)
    for quantized in (int8, fused):
        assert (quantized.encode(TEXTS) * reference).sum(axis=1).min() > 0.95
        assert quantized.token_spans(TEXTS[1]) == real_model.token_spans(TEXTS[1])
        assert quantized.count_tokens(TEXTS) == real_model.count_tokens(TEXTS)
        assert quantized.max_seq_length == 256 and quantized.dimension == 384
    folder = next((cache / "onnx").iterdir())
    assert {"model.onnx", "model_fused.onnx", "model_int8.onnx", "model_fused_int8.onnx",
            "tokenizer.json", "citeseek.json"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "citeseek.json").read_text())["fused"] is True


def test_int8_collection_is_never_searched_with_other_vectors(cache: Path, tmp_path: Path,
                                                              real_model) -> None:
    from citeseek.demo import sample_dir

    store = tmp_path / "int8"
    col = citeseek.build(sample_dir(), store, backend="onnx-int8", progress=False)
    assert col.manifest["model"]["id"].endswith("@onnx-int8")
    assert col.manifest["settings"]["backend"] == "onnx-int8"
    hits = citeseek.open(store).search("Which foundation did the US Treasury sanction?",
                                       k=3, mode="dense")
    assert "002_e43f018c271d3215.txt" in {h.doc_id for h in hits}
    with pytest.raises(ModelMismatch):
        citeseek.open(store, model=real_model)
    with pytest.raises(ModelMismatch):
        citeseek.build(sample_dir(), store, model=real_model, progress=False)


def test_unknown_backend_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="backend"):
        citeseek.Settings(backend="tensorrt")


def test_a_collection_built_with_torch_keeps_fp32_under_the_int8_default(
        tmp_path: Path, real_sample_collection, real_model) -> None:
    import shutil

    from citeseek.demo import sample_dir

    store = tmp_path / "before"
    shutil.copytree(real_sample_collection.root, store)
    before = citeseek.open(store).manifest
    assert before["settings"]["backend"] == "torch" and "@" not in before["model"]["id"]
    (tmp_path / "more").mkdir()
    shutil.copytree(sample_dir(), tmp_path / "more" / "articles")
    (tmp_path / "more" / "articles" / "new.txt").write_text(
        "Harbour report\n\nThe new crane at the north quay lifted forty containers.\n",
        encoding="utf-8")
    col = citeseek.build(tmp_path / "more" / "articles", store, progress=False)
    assert col.last_build.embedded > 0  # the new article, with the collection's own model
    assert col.manifest["model"]["id"] == before["model"]["id"] == real_model.model_id
    assert col.manifest["settings"]["backend"] == "torch"
    with pytest.raises(ModelMismatch):
        citeseek.build(sample_dir(), store, backend="onnx-int8-fused", progress=False)
