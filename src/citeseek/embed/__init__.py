"""Embed: texts become normalized float32 vectors.

``base`` says what an embedder is and how models are named; ``sentence_transformer``
runs a sentence-transformers model with torch; ``onnx_export`` exports such a model to
ONNX once (fp32, fused and int8 graphs, in citeseek's cache) and ``onnx_runtime`` runs
the export with ONNX Runtime, without torch (the default for builds and queries);
``static`` is the static tier, a model2vec model distilled from the bundled one;
``hashing`` is a model-free embedder for trying and testing everything around the model.
``resolve_embedder`` turns a model name into one of them and ``choose_backend``
resolves the ``auto`` backend. ``sentence_cache`` keeps the vectors of answer candidates
(sentences) in memory across questions.
"""

from __future__ import annotations

import contextlib
import os

from ..config import AUTO_BACKEND, DEFAULT_BACKEND, DEFAULT_MODEL
from .base import QUERY_BACKEND_ENV, Embedder, hashing_shape, is_static, model_id_for


def resolve_embedder(model: str | Embedder | None, backend: str = "torch", *,
                     query: bool = False) -> Embedder:
    """A model name or path becomes an embedder run by ``backend``; an embedder object
    is used as is. Nothing is loaded until the embedder is first used. For ``query``
    (searching a collection, not building it), a model run by torch is run by its
    fp32 ONNX export instead when the cache holds one (the same vectors, without
    importing torch), unless ``$CITESEEK_QUERY_BACKEND`` is ``torch``."""
    if model is None:
        model = DEFAULT_MODEL
    if not isinstance(model, str):
        return model
    shape = hashing_shape(model)
    if shape is not None:
        from .hashing import HashingEmbedder

        return HashingEmbedder(*shape)
    if is_static(model):
        from .static import StaticEmbedder

        return StaticEmbedder(model)
    if backend == AUTO_BACKEND:
        backend = choose_backend(model)
    from .onnx_export import ensure_export
    from .onnx_runtime import OnnxEmbedder, export_ready

    if backend == "torch" and query and os.environ.get(QUERY_BACKEND_ENV) != "torch" and \
            export_ready(model_id_for(model)):
        backend = "onnx"
    if backend == "torch":
        from .sentence_transformer import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model)
    return OnnxEmbedder(model, backend, exporter=ensure_export)


def choose_backend(model: str | Embedder) -> str:
    """What ``auto`` stands for with ``model``: ``onnx-int8-fused`` for a transformer
    model that exports to ONNX (exported now, once, if the cache lacks it), else
    ``torch`` (embedder objects, the hashing and static models, other model shapes, and
    installations without the ``onnx`` extra, which an export needs)."""
    if not isinstance(model, str) or hashing_shape(model) is not None or is_static(model):
        return "torch"
    from .onnx_export import NotExportable, ensure_export, tools_present
    from .onnx_runtime import export_ready

    model_id = model_id_for(model)
    if export_ready(model_id):
        return DEFAULT_BACKEND
    if not tools_present():
        return "torch"
    try:
        ensure_export(model, model_id)
    except NotExportable:
        return "torch"
    return DEFAULT_BACKEND


def prepare_queries(embedder: Embedder) -> None:
    """Before a build with torch: make the model's fp32 ONNX export if the cache lacks
    it (and this installation can), so that queries on the collection need no torch."""
    from .sentence_transformer import SentenceTransformerEmbedder

    if not isinstance(embedder, SentenceTransformerEmbedder):
        return
    from .onnx_export import NotExportable, export_model, tools_present
    from .onnx_runtime import export_ready

    if export_ready(embedder.model_id) or not tools_present():
        return
    with contextlib.suppress(NotExportable):
        export_model(embedder.model, embedder.model_id)
