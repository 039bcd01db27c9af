"""Shared fixtures: a deterministic fake embedder for fast tests, the real bundled model
loaded once per session for tests marked ``model``."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED = Path(__file__).resolve().parents[2] / "shared"
CRANFIELD = SHARED / "eval" / "cranfield"
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class FakeEmbedder:
    """Hashed bag-of-words vectors: deterministic, fast, and similar for texts that share
    words. Tokens are words and punctuation marks; it counts what it encodes."""

    def __init__(self, dimension: int = 64, max_seq_length: int = 64,
                 model_id: str = "fake-bow-64") -> None:
        self.model_id = model_id
        self.max_seq_length = max_seq_length
        self._dimension = dimension
        self.calls = 0
        self.encoded: list[str] = []

    @property
    def dimension(self) -> int:
        return self._dimension

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _TOKEN.finditer(text)]

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(_TOKEN.findall(t)) + 2 for t in texts]

    def encode(self, texts: list[str], *, batch_size: int = 32,
               progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
                out[row, h % self._dimension] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out


@pytest.fixture
def fake() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def sample_dir(tmp_path: Path) -> Path:
    """A writable copy of the bundled sample articles."""
    from citeseek.demo import sample_dir as bundled

    target = tmp_path / "articles"
    shutil.copytree(bundled(), target)
    return target


@pytest.fixture(scope="session")
def real_model():
    """The bundled all-MiniLM-L6-v2, loaded once for the whole session."""
    from citeseek.embedding import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()
    emb.model  # noqa: B018 - load now, once
    return emb


@pytest.fixture(scope="session")
def real_sample_collection(tmp_path_factory, real_model):
    """The sample articles built with the real model, shared by model-marked tests."""
    import citeseek
    from citeseek.demo import sample_dir as bundled

    store = tmp_path_factory.mktemp("real") / "sample"
    return citeseek.build(bundled(), store, model=real_model, progress=False)
