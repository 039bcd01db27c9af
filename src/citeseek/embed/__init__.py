"""Embed: texts become normalized float32 vectors.

``base`` says what an embedder is and how models are named; ``sentence_transformer``
runs a sentence-transformers model with torch (the default); ``onnx_runtime`` runs the
same model exported to ONNX (fp32 or int8 weights, the ``onnx`` extra); ``hashing`` is a
model-free embedder for trying and testing everything around the model.
``resolve_embedder`` turns a model name into one of them. ``sentence_cache`` keeps the
vectors of answer candidates (sentences) in memory across questions.
"""

from __future__ import annotations

from ..config import DEFAULT_MODEL
from .base import Embedder, hashing_shape


def resolve_embedder(model: str | Embedder | None, backend: str = "torch") -> Embedder:
    """A model name or path becomes an embedder run by ``backend``; an embedder object
    is used as is. Nothing is loaded until the embedder is first used."""
    if model is None:
        model = DEFAULT_MODEL
    if not isinstance(model, str):
        return model
    shape = hashing_shape(model)
    if shape is not None:
        from .hashing import HashingEmbedder

        return HashingEmbedder(*shape)
    if backend == "torch":
        from .sentence_transformer import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model)
    from .onnx_runtime import OnnxEmbedder

    return OnnxEmbedder(model, backend)
