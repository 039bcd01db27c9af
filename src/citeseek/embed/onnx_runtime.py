"""Embedding with ONNX Runtime (a core dependency) instead of torch.

A sentence-transformers model is exported once (``onnx_export``, with torch and the
``onnx`` extra) into a folder of citeseek's cache; after that, encoding needs neither
torch nor sentence-transformers, which is what lets a query start in well under a
second. Supported models: a transformer followed by mean or CLS pooling (and optionally
normalization), as all-MiniLM-L6-v2 and most sentence-transformers models are.

Backends, by the graph they run: ``onnx`` the fused fp32 graph (torch's vectors to
within float rounding, so the model id is torch's: queries on a collection built with
torch use it); ``onnx-int8-fused`` the fused graph with int8 weights (the default for
new collections); ``onnx-int8`` the earlier int8 recipe. int8 vectors differ from fp32
ones, so each int8 backend has a model id of its own (``MODEL@onnx-int8-fused``) and a
collection built with one is never queried or extended with other vectors.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..config import MEASURED_BACKENDS
from ..errors import UsageError
from .base import LoadsLazily, backend_model_id, model_id_for

_EXPORT_VERSION = "2"  # 2: eager attention, a fused graph and the fused int8 copy
MARKER = "citeseek.json"  # written last: a folder without it is no export
# The graph each backend runs (onnx-plain: the unfused fp32 graph, for checks only).
FILES = {"onnx": "model_fused.onnx", "onnx-int8-fused": "model_fused_int8.onnx",
         "onnx-int8": "model_int8.onnx", "onnx-plain": "model.onnx",
         "openvino": "model.onnx", "openvino-int8": "model_int8.onnx"}


def cache_root() -> Path:
    """Where exported and distilled models live: ``$CITESEEK_CACHE`` or
    ``~/.cache/citeseek``."""
    return Path(os.environ.get("CITESEEK_CACHE") or Path.home() / ".cache" / "citeseek")


def export_folder(model_id: str) -> Path:
    key = hashlib.sha256(f"{model_id}\0{_EXPORT_VERSION}".encode()).hexdigest()[:16]
    return cache_root() / "onnx" / key


def export_ready(model_id: str) -> bool:
    """Whether the model's export is in the cache (a file's existence: cheap)."""
    return (export_folder(model_id) / MARKER).is_file()


class OnnxEmbedder(LoadsLazily):
    """An exported model run by ONNX Runtime (or, for the encoder benchmark, OpenVINO)."""

    _LOADED = "_state"

    def __init__(self, model: str, backend: str, *,
                 exporter: Callable[[str, str], object] | None = None) -> None:
        """``exporter(name, model_id)`` makes the export when the cache lacks it (a
        module-level function, so the embedder pickles); without one that is an error."""
        if backend not in MEASURED_BACKENDS[1:]:
            raise UsageError(f"backend must be one of {', '.join(MEASURED_BACKENDS)}, "
                             f"not {backend!r}")
        self.name = model
        self.backend = backend
        self.base_id = model_id_for(model)
        self.model_id = backend_model_id(self.base_id, backend)
        self._lock = threading.Lock()
        self._state: dict[str, Any] | None = None
        self._folder: Path | None = None
        self._exporter = exporter

    @classmethod
    def at(cls, folder: Path, backend: str, config: dict[str, Any]) -> OnnxEmbedder:
        """The export in ``folder`` (one being written: ``config`` is its settings)."""
        emb = cls(str(config["model_id"]), "onnx")
        emb.backend, emb._folder = backend, folder
        emb._state = _open_runtime(folder, backend, config)
        return emb

    def _load(self) -> dict[str, Any]:
        with self._lock:
            if self._state is None:
                folder = self._folder or export_folder(self.base_id)
                if not (folder / MARKER).is_file():
                    if self._exporter is None:
                        raise UsageError(f"{self.name!r} has no ONNX export in {folder}")
                    self._exporter(self.name, self.base_id)
                config = json.loads((folder / MARKER).read_text())
                self._state = _open_runtime(folder, self.backend, config)
        return self._state

    @property
    def max_seq_length(self) -> int:
        return int(self._load()["config"]["max_seq_length"])

    @property
    def dimension(self) -> int:
        return int(self._load()["config"]["dimension"])

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        enc = self._load()["plain"].encode(text, add_special_tokens=False)
        return [(s, e) for s, e in enc.offsets if e > s]

    def count_tokens(self, texts: list[str]) -> list[int]:
        plain = self._load()["plain"]
        return [len(e.ids) for e in plain.encode_batch(texts, add_special_tokens=True)]

    def encode(self, texts: list[str], *, batch_size: int = 32,
               progress: bool = False) -> np.ndarray:
        """Normalized float32 vectors, one row per text. Texts are tokenized together,
        then run in batches of similar length (each batch is padded to its longest)."""
        state = self._load()
        out = np.zeros((len(texts), int(state["config"]["dimension"])), dtype=np.float32)
        if not texts:
            return out
        encs = state["batch"].encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encs[i].ids))
        inputs = state["config"]["inputs"]
        for i in range(0, len(order), batch_size):
            rows = order[i:i + batch_size]
            width = len(encs[rows[0]].ids)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for j, r in enumerate(rows):
                n = len(encs[r].ids)
                ids[j, :n] = encs[r].ids
                mask[j, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask,
                     "token_type_ids": np.zeros_like(ids)}
            hidden = state["run"]({n: feeds[n] for n in inputs})
            out[rows] = _pool(hidden, mask, state["config"]["pooling"])
        return out


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    if mode == "cls":
        vecs = hidden[:, 0]
    else:
        weights = mask[..., None].astype(np.float32)
        vecs = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return np.asarray(vecs / np.maximum(norms, 1e-12), dtype=np.float32)


def _open_runtime(folder: Path, backend: str, config: dict[str, Any]) -> dict[str, Any]:
    from tokenizers import Tokenizer

    plain = Tokenizer.from_file(str(folder / "tokenizer.json"))
    plain.no_truncation()
    plain.no_padding()
    batch = Tokenizer.from_file(str(folder / "tokenizer.json"))
    batch.enable_truncation(int(config["max_seq_length"]))
    batch.no_padding()  # each batch is padded to its own longest text, here
    path = folder / FILES[backend]
    try:
        if backend.startswith("onnx"):
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.log_severity_level = 3
            session = ort.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])

            def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
                return np.asarray(session.run(None, feeds)[0])
        else:
            import openvino as ov

            compiled = ov.Core().compile_model(str(path), "CPU")

            def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
                return np.asarray(compiled(feeds)[0])
    except ImportError as exc:
        extra = "onnxruntime" if backend.startswith("onnx") else "openvino (the bench extra)"
        raise UsageError(f"backend {backend!r} needs {extra}: {exc}") from None
    return {"config": config, "plain": plain, "batch": batch, "run": run}
