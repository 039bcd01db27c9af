"""A sentence-transformers model run by torch: the ``torch`` backend, the source of the
ONNX export, and the runtime of models that do not export. The weights load on first
use, not on creation, so opening a collection for keyword search never imports torch."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from ..config import DEFAULT_MODEL
from ..errors import UsageError
from .base import DEFAULT_MODEL_ID, LoadsLazily, default_model_path, model_id_for


class SentenceTransformerEmbedder(LoadsLazily):
    """A sentence-transformers model. The weights load on first use, not on creation."""

    def __init__(self, model: str = DEFAULT_MODEL, *, device: str = "cpu") -> None:
        self.name = model
        self.model_id = model_id_for(model)
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    def _load(self) -> Any:
        if self.model_id == DEFAULT_MODEL_ID:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            target = str(default_model_path())
        else:
            target = self.name
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging

        hf_logging: Any = logging  # its functions carry no annotations

        # transformers draws a "Loading weights" bar of its own; in a saved notebook it
        # stays at 0% (widget state is not stored), so it is switched off while loading.
        bars_were_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            return SentenceTransformer(target, device=self.device)
        except Exception as exc:  # many kinds: OSError, HTTP errors, bad configs
            raise UsageError(f"cannot load embedding model {self.name!r}: {exc}") from exc
        finally:
            if bars_were_on:
                hf_logging.enable_progress_bar()

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    @property
    def dimension(self) -> int:
        m = self.model
        getter = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(getter())

    @property
    def _fast_tokenizer(self) -> Any:
        """The model's Rust tokenizer, copied without truncation or padding, or None.

        Calling it directly skips the Python layer of ``transformers`` (a third of the
        cost of chunking a short article); the offsets are the same."""
        if not hasattr(self, "_backend"):
            backend = getattr(self.model.tokenizer, "backend_tokenizer", None)
            if backend is not None:
                from tokenizers import Tokenizer

                backend = Tokenizer.from_str(backend.to_str())
                backend.no_truncation()
                backend.no_padding()
            self._backend = backend
        return self._backend

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        fast = self._fast_tokenizer
        if fast is not None:
            offsets = fast.encode(text, add_special_tokens=False).offsets
        else:
            offsets = self.model.tokenizer(text, add_special_tokens=False, verbose=False,
                                           return_offsets_mapping=True)["offset_mapping"]
        return [(s, e) for s, e in offsets if e > s]

    def count_tokens(self, texts: list[str]) -> list[int]:
        fast = self._fast_tokenizer
        if fast is not None:
            return [len(enc.ids) for enc in fast.encode_batch(texts, add_special_tokens=True)]
        enc = self.model.tokenizer(texts, add_special_tokens=True, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]

    def encode(self, texts: list[str], *, batch_size: int = 32,
               progress: bool = False) -> np.ndarray:
        """Normalized float32 vectors, one row per text, with a tqdm bar when asked."""
        dim = self.dimension
        if not texts:
            return np.zeros((0, dim), dtype=np.float32)
        from ..progress import progress_bar

        out = np.empty((len(texts), dim), dtype=np.float32)
        block = max(batch_size * 16, 256)  # the model sorts by length within a block
        with progress_bar(total=len(texts), desc="embedding", unit="passage",
                          disable=not progress) as bar:
            for i in range(0, len(texts), block):
                part = texts[i:i + block]
                vecs = self.model.encode(part, batch_size=batch_size, convert_to_numpy=True,
                                         normalize_embeddings=True, show_progress_bar=False)
                out[i:i + len(part)] = vecs
                bar.update(len(part))
        return out
