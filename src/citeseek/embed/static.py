"""The static tier (``--model static``): one vector per token, distilled from the
bundled all-MiniLM-L6-v2, averaged over a text's tokens. It embeds hundreds of times
faster than the transformer, for archives too big to embed with it, at some cost in
quality (docs/speed.md has both).

The model is in model2vec's format and is run by model2vec's ``StaticModel``. It is
distilled once, locally and offline, into citeseek's cache (``static/`` beside
``onnx/``), by model2vec's recipe: every token of the bundled model's vocabulary goes
through the transformer on its own (``[CLS] token [SEP]``, mean-pooled), the vectors are
reduced by PCA to 256 dimensions and weighted by SIF on the vocabulary's Zipf ranks
(special and placeholder tokens left out of both: dense nDCG@10 on Cranfield 0.261
against 0.248 with them in).
The forward passes use citeseek's own torch model (sentence-transformers) and the rest
is numpy, so model2vec's ``distill`` extra, which pins an older transformers, is not
needed. Later builds and queries load the cached folder; should the cache be emptied,
the same distillation makes the same model again.

Passages are split with the bundled model's tokenizer and limit, so a static collection
has the same passages (and keyword index) as a transformer one. Its model id
(``static:...``) names the tier: its vectors are never mixed with a transformer's.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .base import DEFAULT_MODEL_ID, STATIC_MODEL_ID, LoadsLazily
from .onnx_runtime import cache_root, export_folder, export_ready

RECIPE: dict[str, Any] = {"pca_dims": 256, "sif_coefficient": 1e-4, "pooling": "mean", "version": 2}
_PLACEHOLDER = re.compile(r"\[(?:unused\d+|PAD|CLS|SEP|MASK|UNK)\]")
MARKER = "citeseek.json"
TEACHER_TOKENIZER = "teacher_tokenizer.json"
_BATCH = 512  # vocabulary entries per forward pass


def static_folder() -> Path:
    """Where the distilled model lives in the cache."""
    key = hashlib.sha256(json.dumps([STATIC_MODEL_ID, RECIPE]).encode()).hexdigest()[:16]
    return cache_root() / "static" / key


class StaticEmbedder(LoadsLazily):
    """The static tier's model (``static``, ``static-minilm`` or ``model2vec`` as a model
    name). Loads (and the first time, distils) on first use."""

    def __init__(self, name: str = "static") -> None:
        self.name = name
        self.model_id = STATIC_MODEL_ID
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The model2vec ``StaticModel``."""
        with self._lock:
            if self._model is None:
                folder = static_folder()
                if not (folder / MARKER).is_file():
                    distil(folder)
                from model2vec import StaticModel

                self._model = StaticModel.from_pretrained(folder, normalize=True,
                                                          max_length=None)
                self._info = json.loads((folder / MARKER).read_text())
                from tokenizers import Tokenizer

                # The transformer's own tokenizer (special tokens and all): passages are
                # split and counted as the bundled model's would be.
                self._plain = Tokenizer.from_file(str(folder / TEACHER_TOKENIZER))
        return self._model

    @property
    def max_seq_length(self) -> int:
        """The bundled model's limit: passages are the ones it would have."""
        _ = self.model
        return int(self._info["max_seq_length"])

    @property
    def dimension(self) -> int:
        return int(self.model.dim)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        _ = self.model
        return [(s, e) for s, e in
                self._plain.encode(text, add_special_tokens=False).offsets if e > s]

    def count_tokens(self, texts: list[str]) -> list[int]:
        _ = self.model
        return [len(e.ids) for e in self._plain.encode_batch(texts, add_special_tokens=True)]

    def encode(self, texts: list[str], *, batch_size: int = 32,
               progress: bool = False) -> np.ndarray:
        """Normalized float32 vectors: the mean of each text's token vectors. A text with
        no known token gets a fixed unit vector (never NaN, never zero)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = np.asarray(self.model.encode(texts, batch_size=max(batch_size, 1024),
                                            use_multiprocessing=False), dtype=np.float32)
        norms = np.linalg.norm(vecs, axis=1)
        vecs[norms == 0, 0] = 1.0  # as the hashing embedder does with no word
        return vecs


def distil(folder: Path) -> Path:
    """Distil the static model from the bundled transformer into ``folder`` (written
    into a temporary folder and renamed into place, so a crash leaves none half made).
    The forward passes run on the model's fp32 ONNX export where the cache has it (the
    same numbers, without loading torch), else on torch."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    teacher, max_seq_length, forward = _teacher()
    teacher.no_truncation()
    teacher.no_padding()
    raw = _token_vectors(forward, teacher)
    # Special and placeholder tokens ([CLS], [unused17], ...) never occur inside a text:
    # they are left out of the PCA and of the Zipf ranks, and get zero vectors.
    used = np.ones(len(raw), dtype=bool)
    for token, i in teacher.get_vocab().items():
        if _PLACEHOLDER.fullmatch(token):
            used[i] = False
    vectors = np.zeros((len(raw), int(RECIPE["pca_dims"])), dtype=np.float32)
    vectors[used] = _pca(raw[used], int(RECIPE["pca_dims"])) * _sif_weights(
        int(used.sum()), float(RECIPE["sif_coefficient"]))[:, None]
    plain = Tokenizer.from_str(teacher.to_str())
    plain.post_processor = None  # model2vec adds no special tokens
    config = {"model_type": "model2vec", "architectures": ["StaticModel"],
              "tokenizer_name": STATIC_MODEL_ID, "apply_pca": RECIPE["pca_dims"],
              "sif_coefficient": RECIPE["sif_coefficient"], "hidden_dim": vectors.shape[1],
              "seq_length": 1000000, "normalize": True, "pooling": RECIPE["pooling"]}
    model = StaticModel(vectors=vectors, tokenizer=plain, config=config, normalize=True,
                        base_model_name="all-MiniLM-L6-v2", max_length=None)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".distil-", dir=folder.parent))
    try:
        _save(model, work)
        teacher.save(str(work / TEACHER_TOKENIZER))
        (work / MARKER).write_text(json.dumps({
            "model_id": STATIC_MODEL_ID, "recipe": RECIPE, "teacher": DEFAULT_MODEL_ID,
            "max_seq_length": max_seq_length}, indent=2))
        try:
            os.replace(work, folder)
        except OSError:  # another process distilled it meanwhile
            if not (folder / MARKER).is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def _teacher() -> tuple[Any, int, Callable[[np.ndarray], np.ndarray]]:
    """The bundled model's tokenizer, its token limit and a forward pass (token ids ->
    last hidden states): by ONNX Runtime where its export is cached, else by torch."""
    from tokenizers import Tokenizer

    from .onnx_runtime import FILES
    from .onnx_runtime import MARKER as EXPORTED

    if export_ready(DEFAULT_MODEL_ID):
        source = export_folder(DEFAULT_MODEL_ID)
        import onnxruntime as ort

        session = ort.InferenceSession(str(source / FILES["onnx"]),
                                       providers=["CPUExecutionProvider"])
        names = {i.name for i in session.get_inputs()}

        def run_onnx(batch: np.ndarray) -> np.ndarray:
            feeds = {"input_ids": batch, "attention_mask": np.ones_like(batch),
                     "token_type_ids": np.zeros_like(batch)}
            return np.asarray(session.run(None, {n: v for n, v in feeds.items()
                                                 if n in names})[0])

        limit = json.loads((source / EXPORTED).read_text())["max_seq_length"]
        return Tokenizer.from_file(str(source / "tokenizer.json")), int(limit), run_onnx
    import torch

    from .sentence_transformer import SentenceTransformerEmbedder

    st = SentenceTransformerEmbedder().model
    hf = st[0].auto_model.eval()

    def run_torch(batch: np.ndarray) -> np.ndarray:
        ids = torch.from_numpy(batch)
        with torch.inference_mode():
            hidden = hf(input_ids=ids, attention_mask=torch.ones_like(ids),
                        token_type_ids=torch.zeros_like(ids)).last_hidden_state
        return np.asarray(hidden.float().numpy())

    tokenizer = Tokenizer.from_str(st.tokenizer.backend_tokenizer.to_str())
    return tokenizer, int(st.max_seq_length), run_torch


def _save(model: Any, work: Path) -> None:
    from model2vec.persistence import save_pretrained

    save_pretrained(folder_path=work, embeddings=model.embedding, tokenizer=model.tokenizer,
                    config=model.config, create_model_card=False)


def _token_vectors(forward: Callable[[np.ndarray], np.ndarray], tokenizer: Any) -> np.ndarray:
    """Each vocabulary entry through the transformer as ``[CLS] token [SEP]``, the three
    positions' last hidden states averaged (model2vec's mean pooling)."""
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    size = tokenizer.get_vocab_size()
    parts = []
    for start in range(0, size, _BATCH):
        ids = np.arange(start, min(start + _BATCH, size), dtype=np.int64)
        batch = np.stack([np.full_like(ids, cls_id), ids, np.full_like(ids, sep_id)], axis=1)
        parts.append(forward(batch).mean(axis=1))
    return np.concatenate(parts).astype(np.float32)


def _pca(x: np.ndarray, dims: int) -> np.ndarray:
    """Centred and rotated onto the ``dims`` directions of most variance, each sign set
    so that its largest coordinate is positive (model2vec's PCA)."""
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    eigvals, eigvecs = np.linalg.eigh(centred.T @ centred / (len(x) - 1))
    components = eigvecs[:, ::-1][:, :dims]
    scores = centred @ components
    signs = np.sign(scores[np.abs(scores).argmax(axis=0), np.arange(scores.shape[1])])
    return np.asarray(scores * signs, dtype=np.float32)


def _sif_weights(n: int, coefficient: float) -> np.ndarray:
    """SIF weights a / (a + p), p from Zipf's law on the vocabulary's order."""
    inv_rank = 1 / np.arange(2, n + 2)
    proba = inv_rank / inv_rank.sum()
    return np.asarray(coefficient / (coefficient + proba), dtype=np.float32)
