"""Exporting a sentence-transformers model to ONNX, once, into citeseek's cache (never
into the installed model package). Needs torch and the ``onnx`` extra (onnx); running
the result needs neither (``onnx_runtime``).

The folder holds the plain fp32 graph (``model.onnx``), the same graph with ONNX
Runtime's transformer fusions (attention, layer norms and GELU each one operator:
``model_fused.onnx``, checked against the plain graph before it is kept), two int8
copies (the earlier recipe, ``model_int8.onnx``, for collections built with
``onnx-int8``; and the fused graph with int8 weights, ``model_fused_int8.onnx``, the
default backend's), the tokenizer and the pooling settings. It is written into a
temporary folder and renamed into place, so a crash never leaves half an export behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .onnx_runtime import FILES, MARKER, OnnxEmbedder, export_folder, export_ready

# Sample texts the fused graph must reproduce (cosine to the plain graph's mean-pooled
# vectors) before it replaces it.
_CHECK = ["an example sentence", "Wind tunnel tests of a swept wing at high incidence.",
          "x", "A longer passage about harbour cranes and the ships they load. " * 12]
_FUSED_MIN_COSINE = 0.99999


class NotExportable(UsageError):
    """The model is not a transformer with mean or CLS pooling: it keeps torch."""


def tools_present() -> bool:
    """Whether this installation can export (the ``onnx`` extra is installed)."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def pooling_of(st_model: Any) -> str:
    """``mean`` or ``cls`` for a transformer + pooling (+ normalize) model; a
    ``UsageError`` for any other shape of model (it keeps torch)."""
    modules = [type(m).__name__ for m in st_model]
    pooling = getattr(st_model[1], "pooling_mode", None) if len(st_model) > 1 else None
    if pooling is None and len(st_model) > 1:
        config = st_model[1].get_config_dict()
        pooling = "mean" if config.get("pooling_mode_mean_tokens") else (
            "cls" if config.get("pooling_mode_cls_token") else None)
    if modules[:2] != ["Transformer", "Pooling"] or pooling not in ("mean", "cls") or \
            any(m != "Normalize" for m in modules[2:]):
        raise NotExportable(f"only transformer + mean/CLS pooling models export to ONNX; this "
                         f"one is {' + '.join(modules)}")
    return str(pooling)


def ensure_export(name: str, model_id: str) -> Path:
    """The export of the model ``name`` (id ``model_id``), made now if the cache lacks
    it: the model is loaded with torch for that."""
    if export_ready(model_id):
        return export_folder(model_id)
    from .sentence_transformer import SentenceTransformerEmbedder

    return export_model(SentenceTransformerEmbedder(name).model, model_id)


def export_model(st_model: Any, model_id: str) -> Path:
    """Export a loaded SentenceTransformer (fp32, fused and int8 graphs) once; return
    the folder. A ``UsageError`` when the model cannot be exported."""
    target = export_folder(model_id)
    if export_ready(model_id):
        return target
    pooling = pooling_of(st_model)
    if not tools_present():
        raise UsageError("exporting to ONNX needs the onnx extra: pip install 'citeseek[onnx]'")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        names = _export_onnx(st_model, work / FILES["onnx-plain"])
        config = {
            "model_id": model_id, "pooling": pooling, "inputs": names,
            "max_seq_length": int(st_model.max_seq_length),
            "dimension": int((getattr(st_model, "get_embedding_dimension", None)
                              or st_model.get_sentence_embedding_dimension)()),
        }
        tokenizer = st_model.tokenizer.backend_tokenizer
        tokenizer.save(str(work / "tokenizer.json"))
        hf_config = st_model[0].auto_model.config
        config["fused"] = _fuse(work, hf_config, config)
        _quantize(work)
        (work / MARKER).write_text(json.dumps(config, indent=2))
        try:
            os.replace(work, target)
        except OSError:  # another process exported it meanwhile
            if not export_ready(model_id):
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _export_onnx(st_model: Any, path: Path) -> list[str]:
    """The transformer's last hidden state as an ONNX graph (pooling is done after it).
    Eager attention, not scaled-dot-product: only its pattern fuses into one operator."""
    import torch

    hf = st_model[0].auto_model.eval()
    before = getattr(hf.config, "_attn_implementation", None)
    _set_attention(hf, "eager")
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
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(Hidden(), tuple(sample[n] for n in names), str(path),
                              input_names=names, output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=17, dynamo=False)
    finally:
        if before is not None:
            _set_attention(hf, before)
    return names


def _set_attention(hf: Any, implementation: str) -> None:
    try:
        hf.set_attn_implementation(implementation)
    except (AttributeError, ValueError):  # older transformers, or a model without it
        hf.config._attn_implementation = implementation


def _fuse(work: Path, hf_config: Any, config: dict[str, Any]) -> bool:
    """``model_fused.onnx``: the graph with ONNX Runtime's transformer fusions, kept only
    if it gives the plain graph's vectors; else a copy of the plain one. True if fused."""
    plain, fused = work / FILES["onnx-plain"], work / FILES["onnx"]
    try:
        from onnxruntime.transformers import optimizer

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = optimizer.optimize_model(
                str(plain), model_type="bert", opt_level=1,
                num_heads=int(getattr(hf_config, "num_attention_heads", 0) or 0),
                hidden_size=int(getattr(hf_config, "hidden_size", 0) or 0))
            model.save_model_to_file(str(fused))
        check = [OnnxEmbedder.at(work, backend, config).encode(_CHECK)
                 for backend in ("onnx-plain", "onnx")]
        if float((check[0] * check[1]).sum(axis=1).min()) >= _FUSED_MIN_COSINE:
            return True
    except Exception:  # noqa: BLE001 - an architecture the fusions do not know
        pass
    shutil.copyfile(plain, fused)
    return False


def _quantize(work: Path) -> None:
    """The two int8 copies (weights per output channel; activations quantized as they
    come)."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # its advice to pre-process, on the root logger
    try:
        _quantize_both(work, onnx, QuantType, quantize_dynamic)
    finally:
        logging.disable(logging.NOTSET)


def _quantize_both(work: Path, onnx: Any, QuantType: Any, quantize_dynamic: Any) -> None:

    # The earlier recipe, unchanged (collections built with onnx-int8 keep its vectors):
    # matrix products only, unsigned 7-bit range.
    quantize_dynamic(str(work / FILES["onnx-plain"]), str(work / FILES["onnx-int8"]),
                     weight_type=QuantType.QUInt8, per_channel=True, reduce_range=True,
                     op_types_to_quantize=["MatMul"])
    # The default: the fused graph's matrix products and attention, signed 8-bit weights
    # (VNNI and AVX2 kernels alike; per channel keeps cosine to fp32 at 0.994).
    quantize_dynamic(str(work / FILES["onnx"]), str(work / FILES["onnx-int8-fused"]),
                     weight_type=QuantType.QInt8, per_channel=True, reduce_range=False,
                     op_types_to_quantize=["MatMul", "Attention"],
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    for leftover in work.glob("*-opt.onnx"):  # the quantizer's pre-processing copies
        leftover.unlink()
