"""Settings and the named choices users make: build settings (one keyword-only
dataclass, written to every manifest), search modes, embedding backends, engines, and
where collections go when not told."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import UsageError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# How the model runs. "auto" (the default) is resolved when a collection is first built:
# onnx-int8-fused where the model exports to ONNX, else torch; the manifest records the
# result. OpenVINO (fp32 and int8) can run the exported model for the encoder benchmark
# but is not offered: it was slower than torch here (docs/performance.md).
AUTO_BACKEND = "auto"
DEFAULT_BACKEND = "onnx-int8-fused"
BACKENDS = ("torch", "onnx", "onnx-int8", DEFAULT_BACKEND)
INT8_BACKENDS = ("onnx-int8", DEFAULT_BACKEND, "openvino-int8")
MEASURED_BACKENDS = (*BACKENDS, "openvino", "openvino-int8")
# How a query is ranked: dense and BM25 fused (the default), dense only, or BM25 only.
MODES = ("hybrid", "dense", "keyword")
# Where a build (or a server) runs: in this process, or on a Ray cluster.
ENGINES = ("local", "ray")
# The store's format: 2 keeps the keyword index in Tantivy's files beside the store; 1
# (still read, and upgraded by a build on top) kept it in the store as an FTS5 table.
SCHEMA_VERSION = 2
READ_SCHEMAS = (1, 2)
STORES = Path("embeddings")  # where collections go when not told, one folder each


def default_store(sources: Sequence[str | os.PathLike[str]]) -> Path:
    """``embeddings/<name of the first source>``: where a build goes when not told."""
    first = Path(sources[0]).expanduser().absolute()
    name = first.stem if first.is_file() else first.name
    return STORES / (name or "collection")


_KINDS = {"model": str, "chunk_tokens": int, "overlap_tokens": int, "embed_title": bool,
          "batch_size": int, "index": str, "backend": str}


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How a collection is built. Everything here is recorded in the manifest.

    ``chunk_tokens`` of 0 means "as many as the model reads" (its ``max_seq_length``
    less the two special tokens). ``embed_title`` prefixes the article title to each
    passage for embedding only; citations still point at the passage's own characters.
    ``index`` is ``"auto"`` (chosen by size) or a FAISS factory string such as
    ``"HNSW32,Flat"``. The overlap actually used is at most half a passage.
    ``backend`` runs the model: ``"auto"`` (default; at the first build it becomes
    ``"onnx-int8-fused"`` where the model exports to ONNX, else ``"torch"``), ``"torch"``,
    or ONNX Runtime: ``"onnx"`` (torch's vectors), ``"onnx-int8-fused"`` or
    ``"onnx-int8"`` (int8 weights, vectors of their own; see
    ``citeseek.embed.onnx_runtime``).
    """

    model: str = DEFAULT_MODEL
    chunk_tokens: int = 0
    overlap_tokens: int = 48
    embed_title: bool = True
    batch_size: int = 32
    index: str = "auto"
    backend: str = AUTO_BACKEND

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value, kind = getattr(self, f.name), _KINDS[f.name]
            if type(value) is not kind:  # bool is not an int here, nor "32" a number
                raise UsageError(f"{f.name} must be {kind.__name__}, not {value!r}")
        if self.chunk_tokens < 0:
            raise UsageError("chunk_tokens must be >= 0")
        if self.overlap_tokens < 0:
            raise UsageError("overlap_tokens must be >= 0")
        if self.batch_size <= 0:
            raise UsageError("batch_size must be > 0")
        if self.backend not in (AUTO_BACKEND, *BACKENDS):
            raise UsageError(f"backend must be one of {', '.join((AUTO_BACKEND, *BACKENDS))}, "
                             f"not {self.backend!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def chunking_key(self) -> dict[str, Any]:
        """The settings that decide how documents become chunks and embedding texts."""
        return {
            "chunk_tokens": self.chunk_tokens,
            "overlap_tokens": self.overlap_tokens,
            "embed_title": self.embed_title,
        }
