"""A cross-encoder the user brings: a sentence-transformers ``CrossEncoder`` in a local
folder (or under its name in the local Hugging Face cache; nothing is downloaded)
scores each (question, passage) pair, and the candidates are ordered by that score.

The folder is checked before anything loads: it must hold a model whose configuration
names a ``...ForSequenceClassification`` architecture with one label, the shape of
every reranking cross-encoder (ms-marco-MiniLM, bge-reranker). A bi-encoder, a
classifier with several labels or a folder without a model is a ``UsageError`` saying
which. ``backend`` runs it with torch (sentence-transformers) or with ONNX Runtime
(``onnx``: the same scores to within rounding; ``onnx-int8``: int8 weights, the
cheapest on a CPU), exported once by ``onnx_export``; ``auto`` (the default) takes
``onnx-int8`` where the ``onnx`` extra is installed and torch elsewhere. The score is
the one ``CrossEncoder.predict`` gives: the model's logit through its activation
(a sigmoid unless the model says otherwise).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UsageError
from ..search.hits import Hit
from .base import Reranked

RERANK_BACKENDS = ("auto", "torch", "onnx", "onnx-int8")
BATCH_SIZE = 32
_LOADED: dict[tuple[str, str], CrossEncoderReranker] = {}
_LOCK = threading.Lock()


def model_folder(model: str) -> Path:
    """The folder holding ``model``: the path itself, or the snapshot of that name in
    the local Hugging Face cache; a ``UsageError`` when neither exists."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise UsageError(f"cross-encoder {model!r} is a file; give the model's folder")
    config = None
    if "/" in model and not model.startswith((".", "/", "~")) and model.count("/") == 1:
        from huggingface_hub import try_to_load_from_cache

        found = try_to_load_from_cache(model, "config.json")
        config = found if isinstance(found, str) else None
    if config is None:
        raise UsageError(f"no cross-encoder at {model!r}: no such folder, and no model of "
                         "that name in the local Hugging Face cache (nothing is "
                         "downloaded; give the folder of a saved CrossEncoder)")
    return Path(config).parent


def check_folder(folder: Path, model: str) -> dict[str, Any]:
    """The model's configuration, when it is a one-label sequence classifier."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise UsageError(f"{model!r} holds no model (no config.json): give the folder "
                         "of a saved CrossEncoder")
    try:
        config: dict[str, Any] = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{model!r}: config.json is not readable JSON ({exc})") from None
    if not isinstance(config, dict):
        raise UsageError(f"{model!r}: config.json is not a JSON object")
    architectures = config.get("architectures") or []
    if not any(str(a).endswith("ForSequenceClassification") for a in architectures):
        kind = ", ".join(map(str, architectures)) or "no architecture"
        raise UsageError(f"{model!r} is not a cross-encoder: its config names {kind}, not a "
                         "...ForSequenceClassification model (a sentence-transformers "
                         "embedding model cannot rerank)")
    labels = int(config.get("num_labels") or len(config.get("id2label") or {}) or 1)
    if labels != 1:
        raise UsageError(f"{model!r} gives {labels} scores per pair (a classifier with "
                         f"{labels} labels); a reranking cross-encoder gives one")
    return config


def default_backend() -> str:
    """``onnx-int8`` where ONNX Runtime and the exporter are installed, else torch."""
    have = all(importlib.util.find_spec(m) for m in ("onnxruntime", "onnx", "onnxscript"))
    return "onnx-int8" if have else "torch"


class CrossEncoderReranker:
    """A cross-encoder from ``model`` (a folder or a cached name) run by ``backend``.
    Nothing loads until the first ``rerank``, but the folder is checked at once."""

    def __init__(self, model: str, *, backend: str | None = None,
                 batch_size: int = BATCH_SIZE) -> None:
        chosen = backend or "auto"
        if chosen not in RERANK_BACKENDS:
            raise UsageError(f"rerank_backend must be one of {', '.join(RERANK_BACKENDS)}, "
                             f"not {backend!r:.80}")
        self.name = model
        self.folder = model_folder(model)
        self.config = check_folder(self.folder, model)
        self.backend = default_backend() if chosen == "auto" else chosen
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._score: Any = None

    def rerank(self, query: str, hits: Sequence[Hit]) -> Reranked:
        scores = self.score(query, [h.text for h in hits])
        order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
        return Reranked(order=order, scores=[float(s) for s in scores])

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One score per text: how well it answers ``query``, higher is better."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            if self._score is None:
                self._score = self._load()
        return np.asarray(self._score(query, list(texts)), dtype=np.float32).reshape(-1)

    def _load(self) -> Any:
        if self.backend == "torch":
            return _torch_scorer(self.folder, self.name, self.batch_size)
        from .onnx_export import onnx_scorer

        return onnx_scorer(self.folder, self.name, int8=self.backend == "onnx-int8",
                           batch_size=self.batch_size)

    def __repr__(self) -> str:
        return f"CrossEncoderReranker({self.name!r}, backend={self.backend!r})"


def _torch_scorer(folder: Path, name: str, batch_size: int) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from sentence_transformers import CrossEncoder

        model = CrossEncoder(str(folder), device="cpu", local_files_only=True)
    except Exception as exc:  # many kinds: OSError, bad weights, bad tokenizer files
        raise UsageError(f"cannot load cross-encoder {name!r}: {exc}") from exc

    def score(query: str, texts: list[str]) -> Any:
        return model.predict([(query, t) for t in texts], batch_size=batch_size,
                             show_progress_bar=False, convert_to_numpy=True)

    return score


def load_cross_encoder(model: str, *, backend: str | None = None) -> CrossEncoderReranker:
    """The reranker for ``model``, made once per folder and backend and then shared (a
    server's requests, a notebook's questions)."""
    probe = CrossEncoderReranker(model, backend=backend)
    key = (str(probe.folder.resolve()), probe.backend)
    with _LOCK:
        return _LOADED.setdefault(key, probe)
