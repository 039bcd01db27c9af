"""A cross-encoder exported to ONNX once (the ``onnx`` extra), as the embedder can be:
``model.onnx`` (the logits, fp32), ``model_int8.onnx`` (its matrix products' weights
quantized to int8, per channel), the tokenizer and the activation, in citeseek's cache
(``$CITESEEK_CACHE``, else ``~/.cache/citeseek``) under a key of the model folder's
files, so a changed model is exported again. Written into a temporary folder and
renamed into place: a crash never leaves half an export. After that, scoring needs
neither torch nor sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from ..embed.onnx_runtime import cache_root
from ..errors import UsageError

_EXPORT_VERSION = "1"
_EXPORTING = threading.Lock()


def fingerprint(folder: Path) -> str:
    """A key of the model folder's files (names, sizes, modification times)."""
    parts = [str(folder.resolve()), _EXPORT_VERSION]
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def export_folder(folder: Path) -> Path:
    return cache_root() / "rerank" / fingerprint(folder)


def activation(folder: Path) -> str:
    """``sigmoid`` or ``identity``: what ``CrossEncoder.predict`` applies to the logit
    (a sigmoid for one label unless the model's settings name another function)."""
    said = None
    for name, key in (("config_sentence_transformers.json", "activation_fn"),
                      ("config.json", "sbert_ce_default_activation_function")):
        path = folder / name
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            said = said or data.get(key) or (data.get("sentence_transformers") or {}).get(key)
    return "identity" if said and str(said).endswith("Identity") else "sigmoid"


def export_cross_encoder(folder: Path, name: str) -> Path:
    """Export the cross-encoder in ``folder`` (fp32 and int8) once; return the export."""
    target = export_folder(folder)
    if (target / "citeseek.json").is_file():
        return target
    with _EXPORTING:
        if (target / "citeseek.json").is_file():
            return target
        try:
            from onnxruntime.quantization import QuantType, quantize_dynamic
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise UsageError(f"rerank_backend onnx needs the onnx extra: pip install "
                             f"'citeseek[onnx]' ({exc})") from None
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(
                str(folder), local_files_only=True).eval()
        except Exception as exc:  # many kinds: OSError, bad weights, bad tokenizer
            raise UsageError(f"cannot load cross-encoder {name!r}: {exc}") from exc
        target.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
        try:
            names = _export(model, tokenizer, work / "model.onnx")
            # As for the embedder: matrix products only, per output channel, 7-bit range.
            logging.disable(logging.WARNING)  # its advice to pre-process, on the root logger
            try:
                quantize_dynamic(str(work / "model.onnx"), str(work / "model_int8.onnx"),
                                 weight_type=QuantType.QUInt8, per_channel=True,
                                 reduce_range=True, op_types_to_quantize=["MatMul"])
            finally:
                logging.disable(logging.NOTSET)
            tokenizer.backend_tokenizer.save(str(work / "tokenizer.json"))
            limit = min(int(getattr(model.config, "max_position_embeddings", 512) or 512),
                        int(tokenizer.model_max_length or 512), 512)
            (work / "citeseek.json").write_text(json.dumps({
                "model": name, "inputs": names, "max_length": limit,
                "activation": activation(folder)}, indent=2))
            try:
                os.replace(work, target)
            except OSError:  # another process exported it meanwhile
                if not (target / "citeseek.json").is_file():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _export(model: Any, tokenizer: Any, path: Path) -> list[str]:
    import warnings

    import torch

    sample = tokenizer([("a question", "a passage that answers it"),
                        ("another question here", "and a second, longer passage")],
                       return_tensors="pt", padding=True)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: Any) -> Any:
            return self.model(**dict(zip(names, args, strict=True))).logits

    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes["logits"] = {0: "batch"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Logits(), tuple(sample[n] for n in names), str(path),
                          input_names=names, output_names=["logits"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    return names


def onnx_scorer(folder: Path, name: str, *, int8: bool, batch_size: int) -> Any:
    """A function (query, texts) -> scores running the export of ``folder``."""
    export = export_cross_encoder(folder, name)
    import onnxruntime as ort
    from tokenizers import Tokenizer

    config = json.loads((export / "citeseek.json").read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(export / "tokenizer.json"))
    tokenizer.enable_truncation(int(config["max_length"]), strategy="longest_first")
    tokenizer.enable_padding()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(export / ("model_int8.onnx" if int8 else "model.onnx")),
                                   options, providers=["CPUExecutionProvider"])
    inputs = list(config["inputs"])
    sigmoid = config["activation"] == "sigmoid"

    def score(query: str, texts: list[str]) -> np.ndarray:
        out = np.zeros(len(texts), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            encs = tokenizer.encode_batch([(query, t) for t in texts[i:i + batch_size]])
            feeds = {
                "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
            }
            logits = np.asarray(session.run(None, {n: feeds[n] for n in inputs})[0])
            out[i:i + len(encs)] = logits.reshape(len(encs), -1)[:, 0]
        return 1.0 / (1.0 + np.exp(-out)) if sigmoid else out

    return score
