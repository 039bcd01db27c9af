"""The model-free hashing embedder: named like a model, resolved from a manifest, and
deterministic; a collection built with it answers dense and hybrid queries from the
command line without any model library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from citeseek.embed import resolve_embedder
from citeseek.embed.base import model_id_for, wanted_model_id
from citeseek.embed.hashing import HashingEmbedder
from tests.helpers import REPO


def test_names_and_ids() -> None:
    default = resolve_embedder("hashing")
    assert isinstance(default, HashingEmbedder)
    assert (default.model_id, default.dimension, default.max_seq_length) == \
        ("hashing-64-64", 64, 64)
    wide = resolve_embedder("hashing-384-256")
    assert isinstance(wide, HashingEmbedder)
    assert (wide.dimension, wide.max_seq_length) == (384, 256)
    assert model_id_for("hashing") == "hashing-64-64"
    assert wanted_model_id("hashing", "torch") == HashingEmbedder().model_id
    assert not isinstance(resolve_embedder("hashing-x"), HashingEmbedder)


def test_a_folder_of_that_name_is_a_model_path(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "hashing").mkdir()
    monkeypatch.chdir(tmp_path)
    assert model_id_for("hashing") == str((tmp_path / "hashing").resolve())
    assert not isinstance(resolve_embedder("hashing"), HashingEmbedder)


def test_vectors_are_normalized_deterministic_and_word_based() -> None:
    emb = HashingEmbedder()
    a, b, c = emb.encode(["harbour cranes at dawn", "Harbour cranes at dawn!",
                          "a recipe for plum cake"])
    assert np.allclose(np.linalg.norm([a, b, c], axis=1), 1.0)
    assert np.allclose(a, HashingEmbedder().encode(["harbour cranes at dawn"])[0])
    assert float(a @ b) > 0.99 and float(a @ c) < 0.5
    assert emb.count_tokens(["two words."]) == [5]  # two words, a full stop, two specials
    assert emb.calls == 1 and emb.encoded == []  # recording is asked for, not default


def test_the_command_line_searches_a_hashing_collection_without_model_libraries(
        tmp_path: Path, sample_dir: Path) -> None:
    src = REPO / "src"
    env = dict(os.environ, PYTHONPATH=str(src), HF_HUB_OFFLINE="1")
    store = str(tmp_path / "store")
    build = subprocess.run([sys.executable, "-m", "citeseek", "index", str(sample_dir),
                            "--store", store, "--model", "hashing", "--json"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert build.returncode == 0, build.stderr
    script = ("import json, sys\nfrom citeseek.cli import main\n"
              f"code = main(['search', 'Mostazafan Foundation sanctions', '--store', {store!r},"
              " '-k', '3', '--json'])\n"
              "print('MODULES', [m for m in ('torch', 'sentence_transformers') "
              "if m in sys.modules], code)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out, marker = proc.stdout.rsplit("MODULES", 1)
    assert marker.split() == ["[]", "0"]
    hits = json.loads(out)
    assert len(hits) == 3 and {"dense", "keyword"} <= set(hits[0]["scores"])
    assert any("Mostazafan" in h["text"] for h in hits)
