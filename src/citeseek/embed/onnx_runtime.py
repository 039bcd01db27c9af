"""Embedding with ONNX Runtime (the ``onnx`` extra) or OpenVINO instead of torch.

The sentence-transformers model is exported once (with torch) into a folder of
citeseek's own cache, never into the installed model package: ``model.onnx``, an int8
copy with dynamically quantized weights, the tokenizer and the pooling settings. After
that, encoding needs neither torch nor sentence-transformers. Supported models: a
transformer followed by mean or CLS pooling (and optionally normalization), as
all-MiniLM-L6-v2 and most sentence-transformers models are.

int8 vectors differ from fp32 ones, so an int8 backend has a model id of its own
(``MODEL@onnx-int8``) and a collection built with it is never queried with fp32 vectors
or the other way round. fp32 ONNX gives torch's vectors to within float rounding and
keeps the model id.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..config import MEASURED_BACKENDS
from ..errors import UsageError
from .base import LoadsLazily, backend_model_id, model_id_for

_EXPORT_VERSION = "1"


def cache_root() -> Path:
    """Where exported models live: ``$CITESEEK_CACHE`` or ``~/.cache/citeseek``."""
    return Path(os.environ.get("CITESEEK_CACHE") or Path.home() / ".cache" / "citeseek")


def export_folder(model_id: str) -> Path:
    key = hashlib.sha256(f"{model_id}\0{_EXPORT_VERSION}".encode()).hexdigest()[:16]
    return cache_root() / "onnx" / key


def export_model(st_model: Any, model_id: str) -> Path:
    """Export a loaded SentenceTransformer to ONNX (fp32 and int8) once; return the folder.

    Written into a temporary folder and renamed into place, so a crash never leaves a
    half-exported model behind."""
    target = export_folder(model_id)
    if (target / "citeseek.json").is_file():
        return target
    modules = [type(m).__name__ for m in st_model]
    pooling = getattr(st_model[1], "pooling_mode", None) if len(st_model) > 1 else None
    if pooling is None and len(st_model) > 1:
        config = st_model[1].get_config_dict()
        pooling = "mean" if config.get("pooling_mode_mean_tokens") else (
            "cls" if config.get("pooling_mode_cls_token") else None)
    if modules[:2] != ["Transformer", "Pooling"] or pooling not in ("mean", "cls") or \
            any(m != "Normalize" for m in modules[2:]):
        raise UsageError(f"the ONNX backends support transformer + mean/CLS pooling "
                         f"models; {model_id} is {' + '.join(modules)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        names = _export_onnx(st_model, work / "model.onnx")
        from onnxruntime.quantization import QuantType, quantize_dynamic

        # Matrix products only, per output channel, 7-bit range (no overflow in AVX2's
        # u8*s8 kernels): cosine to fp32 vectors 0.993 on Cranfield, against 0.977 for
        # the defaults, which also quantize the embedding table.
        quantize_dynamic(str(work / "model.onnx"), str(work / "model_int8.onnx"),
                         weight_type=QuantType.QUInt8, per_channel=True, reduce_range=True,
                         op_types_to_quantize=["MatMul"])
        st_model.tokenizer.backend_tokenizer.save(str(work / "tokenizer.json"))
        (work / "citeseek.json").write_text(json.dumps({
            "model_id": model_id, "pooling": pooling, "inputs": names,
            "max_seq_length": int(st_model.max_seq_length),
            "dimension": int((getattr(st_model, "get_embedding_dimension", None)
                              or st_model.get_sentence_embedding_dimension)()),
        }, indent=2))
        try:
            os.replace(work, target)
        except OSError:  # another process exported it meanwhile
            if not (target / "citeseek.json").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _export_onnx(st_model: Any, path: Path) -> list[str]:
    import warnings

    import torch

    hf = st_model[0].auto_model.eval()
    sample = st_model.tokenizer(["an example sentence", "and a second, longer one here"],
                                return_tensors="pt", padding=True)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hf = hf

        def forward(self, *args: Any) -> Any:
            return self.hf(**dict(zip(names, args, strict=True))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Hidden(), tuple(sample[n] for n in names), str(path),
                          input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=17, dynamo=False)
    return names


class OnnxEmbedder(LoadsLazily):
    """An exported model run by ONNX Runtime (``onnx``) or OpenVINO (``openvino``)."""

    _LOADED = "_state"

    def __init__(self, model: str, backend: str) -> None:
        if backend not in MEASURED_BACKENDS[1:]:
            raise UsageError(f"backend must be one of {', '.join(MEASURED_BACKENDS)}, "
                             f"not {backend!r}")
        self.name = model
        self.backend = backend
        self.base_id = model_id_for(model)
        self.model_id = backend_model_id(self.base_id, backend)
        self._lock = threading.Lock()
        self._state: dict[str, Any] | None = None

    def _load(self) -> dict[str, Any]:
        with self._lock:
            if self._state is None:
                folder = export_folder(self.base_id)
                if not (folder / "citeseek.json").is_file():
                    from .sentence_transformer import SentenceTransformerEmbedder

                    export_model(SentenceTransformerEmbedder(self.name).model, self.base_id)
                self._state = _open_runtime(folder, self.backend)
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
        """Normalized float32 vectors, one row per text (longest texts batched together)."""
        state = self._load()
        out = np.zeros((len(texts), int(state["config"]["dimension"])), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for i in range(0, len(order), batch_size):
            rows = order[i:i + batch_size]
            encs = state["batch"].encode_batch([texts[r] for r in rows])
            feeds = {
                "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
            }
            hidden = state["run"]({n: feeds[n] for n in state["config"]["inputs"]})
            out[rows] = _pool(hidden, feeds["attention_mask"], state["config"]["pooling"])
        return out


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    if mode == "cls":
        vecs = hidden[:, 0]
    else:
        weights = mask[..., None].astype(np.float32)
        vecs = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    return np.asarray(vecs / np.maximum(norms, 1e-12), dtype=np.float32)


def _open_runtime(folder: Path, backend: str) -> dict[str, Any]:
    from tokenizers import Tokenizer

    config = json.loads((folder / "citeseek.json").read_text())
    plain = Tokenizer.from_file(str(folder / "tokenizer.json"))
    plain.no_truncation()
    plain.no_padding()
    batch = Tokenizer.from_file(str(folder / "tokenizer.json"))
    batch.enable_truncation(int(config["max_seq_length"]))
    batch.enable_padding()
    path = folder / ("model_int8.onnx" if backend.endswith("-int8") else "model.onnx")
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
        extra = "onnx" if backend.startswith("onnx") else "bench"
        raise UsageError(f"backend {backend!r} needs the {extra} extra: "
                         f"pip install 'citeseek[{extra}]' ({exc})") from None
    return {"config": config, "plain": plain, "batch": batch, "run": run}
