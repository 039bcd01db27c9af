"""The ONNX Runtime backend with the real model: exported into citeseek's own cache,
vectors close to torch's, and an int8 collection that keeps its own model id."""

from __future__ import annotations

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
    from citeseek.embed.onnx_runtime import OnnxEmbedder

    reference = real_model.encode(TEXTS)
    fp32, int8 = OnnxEmbedder("default", "onnx"), OnnxEmbedder("default", "onnx-int8")
    assert fp32.model_id == real_model.model_id
    assert int8.model_id == real_model.model_id + "@onnx-int8"
    assert np.allclose((fp32.encode(TEXTS) * reference).sum(axis=1), 1.0, atol=1e-4)
    assert (int8.encode(TEXTS) * reference).sum(axis=1).min() > 0.95
    assert int8.token_spans(TEXTS[1]) == real_model.token_spans(TEXTS[1])
    assert int8.count_tokens(TEXTS) == real_model.count_tokens(TEXTS)
    assert int8.max_seq_length == 256 and int8.dimension == 384
    exported = {p.name for p in next((cache / "onnx").iterdir()).iterdir()}
    assert {"model.onnx", "model_int8.onnx", "tokenizer.json", "citeseek.json"} <= exported


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
