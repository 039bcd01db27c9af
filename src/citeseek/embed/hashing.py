"""A model-free embedder: words hashed into a few signed dimensions.

Deterministic and instant, with no weights to load: texts that share words get similar
vectors, so search, answers and every stage around the model can be tried, tested and
benchmarked without it. Not a language model: it knows no synonyms. Named ``hashing``
(64 dimensions, 64 tokens) or ``hashing-DIMENSION-MAX_TOKENS`` wherever a model name
goes (``citeseek index --model hashing``); the manifest records ``hashing-64-64``.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from ..words import WORD
from .base import HASHING_DEFAULT

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)  # words and punctuation marks


class HashingEmbedder:
    """Hashed bag-of-words vectors, normalized. Tokens (for passage sizes) are words
    and punctuation marks. ``calls`` counts ``encode`` calls; with ``record`` every text
    encoded is kept in ``encoded`` (for tests that check what was embedded)."""

    def __init__(self, dimension: int = HASHING_DEFAULT[0],
                 max_seq_length: int = HASHING_DEFAULT[1], *, model_id: str | None = None,
                 record: bool = False) -> None:
        self.model_id = model_id or f"hashing-{dimension}-{max_seq_length}"
        self.max_seq_length = max_seq_length
        self._dimension = dimension
        self.record = record
        self.calls = 0
        self.encoded: list[str] = []

    @property
    def dimension(self) -> int:
        return self._dimension

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _TOKEN.finditer(text)]

    def count_tokens(self, texts: list[str]) -> list[int]:
        return [len(_TOKEN.findall(t)) + 2 for t in texts]  # and the two special tokens

    def encode(self, texts: list[str], *, batch_size: int = 32,
               progress: bool = False) -> np.ndarray:
        self.calls += 1
        if self.record:
            self.encoded.extend(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(),
                                   "little")
                out[row, h % self._dimension] += 1.0 if (h >> 32) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out
