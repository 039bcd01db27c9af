"""An in-process cache of sentence vectors: answer candidates are the sentences of the
passages a question retrieves, and questions about one topic retrieve the same passages,
so their sentences' vectors are kept rather than made again. It lives as long as the
``Collection`` and is emptied whole when full (the persistent cache of passage vectors
is ``storage.embedding_cache``)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

LIMIT = 20_000  # texts kept (about 30 MB of vectors at dimension 384)


class SentenceVectorCache:
    """``encode`` through ``embed`` (texts -> vectors), keeping up to ``limit`` texts'
    vectors and forgetting them all when one more would not fit; threads may share it."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], limit: int = LIMIT) -> None:
        self._embed = embed
        self.limit = limit
        self._known: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def encode(self, texts: list[str]) -> np.ndarray:
        """One vector per text, in order; only texts not kept are embedded."""
        with self._lock:
            known = {t: self._known[t] for t in texts if t in self._known}
        new = [t for t in dict.fromkeys(texts) if t not in known]
        if new:
            vectors = self._embed(new)
            known.update(zip(new, vectors, strict=True))
            with self._lock:
                if len(self._known) + len(new) > self.limit:
                    self._known.clear()
                self._known.update(zip(new, vectors, strict=True))
        return np.stack([known[t] for t in texts])
