"""FAISS index of chunk vectors by chunk id: choice by size, verified save and load."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BuildError, CorruptCollection, UsageError

EXACT_LIMIT = 200_000  # below this many passages exact search is fast enough


def _faiss() -> Any:
    import faiss

    return faiss


def choose_factory(n_vectors: int) -> str:
    """Exact inner-product search for small collections, HNSW graphs for large ones."""
    return "Flat" if n_vectors < EXACT_LIMIT else "HNSW32,Flat"


class VectorIndex:
    """Inner-product (cosine, on normalized vectors) search returning chunk ids."""

    def __init__(self, index: Any, factory: str) -> None:
        self.index = index
        self.factory = factory

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @classmethod
    def build(cls, blocks: Iterable[tuple[np.ndarray, np.ndarray]], dim: int,
              n_vectors: int, factory: str = "auto") -> VectorIndex:
        faiss = _faiss()
        chosen = choose_factory(n_vectors) if factory == "auto" else factory
        try:
            inner = faiss.index_factory(dim, chosen, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as exc:
            raise UsageError(f"invalid FAISS index description {chosen!r}: {exc}") from None
        index = faiss.IndexIDMap2(inner)
        if hasattr(inner, "hnsw"):
            inner.hnsw.efConstruction = 80
        pending = list(blocks) if not inner.is_trained else blocks
        if not inner.is_trained:
            sample = np.concatenate([v for _, v in pending])[: max(256 * 50, 100_000)]
            inner.train(np.ascontiguousarray(sample, dtype=np.float32))
        for ids, vecs in pending:
            index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32),
                               np.ascontiguousarray(ids, dtype=np.int64))
        return cls(index, chosen)

    def save(self, path: Path) -> None:
        """Write the index, then read the file back: its bytes must hash to what FAISS
        serializes in memory, and it must load with the same size and dimension."""
        import hashlib

        from .layout import sha256_file

        faiss = _faiss()
        expected = hashlib.sha256(faiss.serialize_index(self.index)).hexdigest()
        try:
            faiss.write_index(self.index, str(path))
            written = sha256_file(path)
        except (RuntimeError, OSError) as exc:  # a full disk, an I/O error
            raise BuildError(f"cannot write {path}: {str(exc).splitlines()[-1]}") from None
        if written != expected:
            raise CorruptCollection(f"{path} read back differently than written")
        VectorIndex.load(path, dimension=self.dimension, count=self.ntotal,
                         factory=self.factory)

    @classmethod
    def load(cls, path: Path, *, dimension: int, count: int, factory: str) -> VectorIndex:
        faiss = _faiss()
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise CorruptCollection(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
        if index.d != dimension or index.ntotal != count:
            raise CorruptCollection(
                f"{path} holds {index.ntotal} vectors of dimension {index.d}; the manifest "
                f"says {count} of dimension {dimension}")
        return cls(index, factory)

    def search(self, query: np.ndarray, k: int, *,
               allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, score) for one query vector, restricted to ``allowed`` ids
        before ranking when given (so a filter never starves the top k)."""
        if k <= 0 or self.ntotal == 0:
            return []
        faiss = _faiss()
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=sel)
            k = min(k, len(allowed))
            if hasattr(self.index.index, "hnsw"):
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(128, 2 * k))
        elif hasattr(self.index.index, "hnsw"):
            params = faiss.SearchParametersHNSW(efSearch=max(64, 2 * k))
        k = min(k, self.ntotal)
        scores, ids = self.index.search(q, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
