"""FAISS index of chunk vectors by chunk id: choice by size, verified save and load."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BuildError, CorruptCollection, UsageError

EXACT_LIMIT = 200_000  # below this many passages exact search is fast enough
COMPRESS_LIMIT = 2_000_000  # from this many, a compressed index (when asked for)
TRAIN_SAMPLE = 100_000  # vectors a trained index (IVF, PQ) learns from
NPROBE = 32  # inverted lists an IVF search visits


def _faiss() -> Any:
    import faiss

    return faiss


def choose_factory(n_vectors: int, dim: int = 384, *, compress: bool = False) -> str:
    """Exact inner-product search for small collections, HNSW graphs for large ones and,
    with ``compress``, IVF-PQ for very large ones (a few bytes a passage)."""
    if n_vectors < EXACT_LIMIT:
        return "Flat"
    if not compress or n_vectors < COMPRESS_LIMIT:
        return "HNSW32,Flat"
    return ivfpq_factory(n_vectors, dim)


def ivfpq_factory(n_vectors: int, dim: int) -> str:
    """IVF lists about 4·sqrt(n) (a power of two), PQ with a byte per 8 dimensions."""
    nlist = 1 << max(8, min(16, round(math.log2(4 * math.sqrt(max(n_vectors, 1))))))
    m = max(d for d in range(1, max(1, dim // 8) + 1) if dim % d == 0)
    return f"IVF{nlist},PQ{m}"


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
              n_vectors: int, factory: str = "auto", *,
              sample: Callable[[], np.ndarray] | None = None) -> VectorIndex:
        """Index ``blocks`` of (ids, vectors). An index that must be trained learns from
        ``sample()`` when given (so ``blocks`` stream once), else from the first
        ``TRAIN_SAMPLE`` vectors (all blocks are then held in memory)."""
        faiss = _faiss()
        chosen = choose_factory(n_vectors) if factory == "auto" else factory
        try:
            inner = faiss.index_factory(dim, chosen, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as exc:
            raise UsageError(f"invalid FAISS index description {chosen!r}: {exc}") from None
        index = faiss.IndexIDMap2(inner)
        if hasattr(inner, "hnsw"):
            inner.hnsw.efConstruction = 80
        pending = list(blocks) if not inner.is_trained and sample is None else blocks
        if not inner.is_trained:
            train = sample() if sample is not None else \
                np.concatenate([v for _, v in pending])[:TRAIN_SAMPLE]
            try:
                inner.train(np.ascontiguousarray(train, dtype=np.float32))
            except RuntimeError as exc:  # e.g. fewer vectors than the index has centroids
                raise BuildError(f"cannot train {chosen!r} on {len(train)} vectors: "
                                 f"{str(exc).splitlines()[-1]}") from None
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
        # The id map hands back its inner index as a plain Index: downcast to see HNSW.
        is_hnsw = hasattr(faiss.downcast_index(self.index.index), "hnsw")
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                return []
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=sel)
            k = min(k, len(allowed))
            if is_hnsw:
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(128, 2 * k))
        elif is_hnsw:
            params = faiss.SearchParametersHNSW(efSearch=max(64, 2 * k))
        if faiss.try_extract_index_ivf(self.index.index) is not None:  # IVF: more lists
            params = faiss.SearchParametersIVF(sel=params.sel if params else None,
                                               nprobe=NPROBE)
        k = min(k, self.ntotal)
        scores, ids = self.index.search(q, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
