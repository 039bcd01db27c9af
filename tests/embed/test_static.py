"""The static tier: distilled once into the cache from the bundled model, in model2vec's
format, passages the same as the transformer's, queries without torch, and a model id
that keeps its vectors apart from the transformer's (and the other way round)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import citeseek
from citeseek.cli import main
from citeseek.embed.base import STATIC_MODEL_ID
from citeseek.embed.static import MARKER, StaticEmbedder, static_folder
from citeseek.errors import ModelMismatch
from tests.helpers import REPO

pytestmark = pytest.mark.model  # the first use distils from the bundled model


@pytest.fixture(scope="module")
def static_store(tmp_path_factory) -> Path:
    from citeseek.demo import sample_dir

    store = tmp_path_factory.mktemp("static") / "sample"
    citeseek.build(sample_dir(), store, model="static", progress=False)
    return store


def test_the_distilled_model_is_cached_in_model2vec_format(static_store: Path) -> None:
    from model2vec import StaticModel

    folder = static_folder()
    assert (folder / MARKER).is_file()
    assert {"model.safetensors", "tokenizer.json", "config.json"} <= \
        {p.name for p in folder.iterdir()}
    reloaded = StaticModel.from_pretrained(folder, normalize=True)
    ours = StaticEmbedder()
    texts = ["wind tunnel tests of a swept wing", "the harbour crane", "x"]
    assert np.allclose(reloaded.encode(texts), ours.encode(texts), atol=1e-6)
    assert ours.dimension == 256 and ours.max_seq_length == 256


def test_a_static_collection_says_its_tier_and_searches(static_store: Path,
                                                        capsys) -> None:
    col = citeseek.open(static_store)
    assert col.manifest["model"] == {"id": STATIC_MODEL_ID, "dimension": 256,
                                     "max_seq_length": 256}
    hits = col.search("Which foundation did the US Treasury sanction?", k=3, mode="dense")
    assert "002_e43f018c271d3215.txt" in {h.doc_id for h in hits}
    assert main(["info", "--store", str(static_store)]) == 0
    assert f"model {STATIC_MODEL_ID} (static tier, dimension 256)" in capsys.readouterr().out


def test_static_passages_are_the_transformers(static_store: Path,
                                              real_sample_collection) -> None:
    static = citeseek.open(static_store).passages()
    assert [(p["doc_id"], p["start"], p["end"]) for p in static] == \
        [(p["doc_id"], p["start"], p["end"]) for p in real_sample_collection.passages()]


def test_static_and_transformer_vectors_never_mix(static_store: Path, real_sample_collection,
                                                  real_model, tmp_path: Path) -> None:
    from citeseek.demo import sample_dir

    with pytest.raises(ModelMismatch, match="static"):
        citeseek.build(sample_dir(), static_store, model="default", progress=False)
    with pytest.raises(ModelMismatch, match="static"):
        citeseek.open(static_store, model=real_model)
    transformer = tmp_path / "transformer"
    shutil.copytree(real_sample_collection.root, transformer)
    with pytest.raises(ModelMismatch, match="static"):
        citeseek.build(sample_dir(), transformer, model="static", progress=False)
    with pytest.raises(ModelMismatch):
        citeseek.open(transformer, model="static")
    # a rebuild without --model keeps each collection's own model
    assert citeseek.build(sample_dir(), static_store, progress=False).manifest["model"]["id"] \
        == STATIC_MODEL_ID


def test_static_queries_import_no_torch(static_store: Path) -> None:
    script = (f"import sys, json; sys.path.insert(0, {str(REPO / 'src')!r})\n"
              "import citeseek\n"
              f"col = citeseek.open({str(static_store)!r})\n"
              "hits = col.search('lighthouse keeper', k=3)\n"
              "answer = col.ask('Which foundation did the US Treasury sanction?')\n"
              "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') "
              "if m in sys.modules]\n"
              "print('RESULT' + json.dumps([len(hits), heavy]))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.rsplit("RESULT", 1)[1]) == [3, []]
