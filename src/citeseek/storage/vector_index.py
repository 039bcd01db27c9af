"""FAISS index of chunk vectors by chunk id: choice by size, verified save and load.

Exact search while a query can scan every vector in a few milliseconds; an HNSW graph
beyond that; IVF lists for very large collections, quicker to build than a graph and
steadier in recall where vectors form no clear clusters. When the full vectors would
not fit in the memory budget, they are stored as 8-bit scalars (SQ8), and when even
those would not fit, product-quantized (IVF-PQ, a few bytes a passage; the Ray engine
asks for it from ``COMPRESS_LIMIT`` passages). The search parameter (``efSearch`` or
``nprobe``) is tuned after the build so that recall@10 against exact search reaches
``TARGET_RECALL`` on a sample of the collection's own vectors (see ``tuning``);
both are written to the manifest.

A saved index is loaded memory-mapped (FAISS's ``IO_FLAG_MMAP_IFC``: the vectors, an
HNSW graph and IVF lists are read in place from the file, for every index type citeseek
builds): its pages are the page cache's, shared by every process that serves the
collection and given back under memory pressure, not the process's own memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BuildError, CorruptCollection, ModelMismatch, UsageError
from .layout import create_new, sha256_file

EXACT_LIMIT = 10_000  # exact (Flat) below this many passages: a scan of a few ms here
IVF_LIMIT = 500_000  # HNSW below this many passages; IVF lists (quick to build) above
COMPRESS_LIMIT = 2_000_000  # from this many, IVF-PQ when compression is asked for
TRAIN_SAMPLE = 100_000  # vectors the Ray engine's IVF-PQ learns from
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80

Blocks = Iterable[tuple[np.ndarray, np.ndarray]]  # (chunk ids, vectors) in blocks
BlockSource = Callable[[], Blocks]  # reads the blocks (again) each time it is called


def _faiss() -> Any:
    import faiss

    return faiss


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """One OpenMP thread while searching for one query: waking a team of threads costs
    far more than the search (30 ms against 0.2 ms for HNSW on a busy 2-core machine).
    OpenMP keeps the setting per thread, so each search sets and restores its own."""
    faiss = _faiss()
    saved = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(saved)


def memory_budget() -> int:
    """Bytes an index may take in RAM: half of what the machine has available now."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except (OSError, ValueError):
        pass
    pages = os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return int(pages * os.sysconf("SC_PAGE_SIZE") // 4) if pages else 4 << 30


def choose_factory(n_vectors: int, dim: int = 384, budget: int | None = None, *,
                   compress: bool = False) -> str:
    """A FAISS factory string for ``n_vectors`` of dimension ``dim``.

    Exact below ``EXACT_LIMIT``; ``HNSW32`` up to ``IVF_LIMIT``; ``IVF{~4·sqrt(n)}`` above
    (a power of two: 4,096 lists for a million passages, trained in about a minute;
    more, smaller lists than sqrt(n) keep the scan short where text has no clear
    clusters).
    Vectors are stored whole (``Flat``) when they fit in ``budget`` bytes (half the
    available memory by default), else as 8-bit scalars (``SQ8``, a quarter of the size),
    else product-quantized (IVF-PQ). ``compress`` asks for IVF-PQ from
    ``COMPRESS_LIMIT`` passages whatever the memory (an index built for serving
    elsewhere, as the Ray engine does).
    """
    if n_vectors < EXACT_LIMIT:
        return "Flat"
    if compress and n_vectors >= COMPRESS_LIMIT:
        return ivfpq_factory(n_vectors, dim)
    budget = memory_budget() if budget is None else budget
    graph = HNSW_M * 2 * 4 if n_vectors < IVF_LIMIT else 8  # links, or the list id
    if n_vectors * (dim * 4 + graph) <= budget:
        storage = "Flat"
    elif n_vectors * (dim + graph) <= budget:
        storage = "SQ8"
    else:
        return ivfpq_factory(n_vectors, dim)
    if n_vectors < IVF_LIMIT:
        return f"HNSW{HNSW_M},{storage}"
    nlist = 1 << round(math.log2(4 * math.sqrt(n_vectors)))
    return f"IVF{nlist},{storage}"


def ivfpq_factory(n_vectors: int, dim: int) -> str:
    """IVF lists about 4·sqrt(n) (a power of two), PQ with a byte per 8 dimensions."""
    nlist = 1 << max(8, min(16, round(math.log2(4 * math.sqrt(max(n_vectors, 1))))))
    m = max(d for d in range(1, max(1, dim // 8) + 1) if dim % d == 0)
    return f"IVF{nlist},PQ{m}"


def search_parameter(index: Any) -> str | None:
    """The name of the knob that trades speed for recall in ``index``, if any."""
    if hasattr(index, "hnsw"):
        return "efSearch"
    if hasattr(index, "nprobe"):
        return "nprobe"
    return None


def _spread_sample(blocks: BlockSource, n_vectors: int, dim: int,
                   nlist: int) -> np.ndarray:
    """Training vectors drawn across the whole collection, not its first articles only:
    40 per IVF list, at least 50,000 (or all there are)."""
    size = min(n_vectors, max(40 * nlist, 50_000))
    picks = np.sort(np.random.default_rng(0).choice(n_vectors, size, replace=False))
    parts, offset = [], 0
    for _, vecs in blocks():
        local = picks[(picks >= offset) & (picks < offset + len(vecs))] - offset
        parts.append(np.array(vecs[local], dtype=np.float32))
        offset += len(vecs)
    return np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)


def _preallocate(inner: Any, n_vectors: int) -> None:
    """Size the flat code storage (Flat, SQ8, and an HNSW graph's vectors) once for
    ``n_vectors``: adding block by block, FAISS would grow it by doubling, holding the old
    and the new buffer at once (a peak of twice the index). Shrinking the size back to 0
    keeps the capacity, so the adds that follow fill it without moving it."""
    target = _faiss().downcast_index(inner.storage) if hasattr(inner, "hnsw") else inner
    codes, code_size = getattr(target, "codes", None), getattr(target, "code_size", 0)
    if codes is None or not code_size or target.ntotal:
        return
    try:
        codes.resize(n_vectors * int(code_size))
        codes.resize(0)
    except (AttributeError, MemoryError, RuntimeError):  # a FAISS without this storage
        pass


def id_selector(ids: Sequence[int] | np.ndarray) -> Any:
    """A FAISS selector of ``ids``."""
    return _faiss().IDSelectorBatch(np.ascontiguousarray(ids, dtype=np.int64))


class KeepAllBut:
    """A FAISS selector of every id but ``ids`` (the passages of a level that a level
    above hides); ``selector`` is None when there are none."""

    def __init__(self, ids: Sequence[int] | np.ndarray) -> None:
        self.count = len(ids)
        self.ids = frozenset(int(i) for i in ids)
        self._inner = id_selector(ids) if self.count else None  # the selector refers to it
        self.selector = _faiss().IDSelectorNot(self._inner) if self.count else None


class VectorIndex:
    """Inner-product (cosine, on normalized vectors) search returning chunk ids."""

    def __init__(self, index: Any, factory: str, search: dict[str, int] | None = None) -> None:
        self.index = index
        self.factory = factory
        self.inner = _faiss().downcast_index(index.index)
        self.knob = search_parameter(self.inner)
        self.search_params: dict[str, int] = dict(search or {})
        if self.knob and self.knob not in self.search_params:
            self.search_params[self.knob] = 64 if self.knob == "efSearch" else 32

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self.index.d)

    @classmethod
    def build(cls, blocks: BlockSource | Blocks, dim: int, n_vectors: int,
              factory: str = "auto", *,
              sample: Callable[[], np.ndarray] | None = None) -> VectorIndex:
        """Build from ``blocks()``, (chunk ids, vectors) in blocks (a callable, so the
        blocks can be read again; a plain iterable is held in memory). An index that
        needs training learns from ``sample()`` when given, else from a spread sample
        read in a first pass over the blocks, so memory holds the index and one block,
        never a second copy of every vector."""
        faiss = _faiss()
        if not callable(blocks):
            held = list(blocks)
            blocks = lambda: held  # noqa: E731
        chosen = choose_factory(n_vectors, dim) if factory == "auto" else factory
        try:
            inner = faiss.index_factory(dim, chosen, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as exc:
            raise UsageError(f"invalid FAISS index description {chosen!r}: {exc}") from None
        index = faiss.IndexIDMap2(inner)
        if hasattr(inner, "hnsw"):
            inner.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        if not inner.is_trained:
            train = sample() if sample is not None else _spread_sample(
                blocks, n_vectors, dim, int(getattr(inner, "nlist", 0)))
            try:
                inner.train(np.ascontiguousarray(train, dtype=np.float32))
            except RuntimeError as exc:  # e.g. fewer vectors than IVF lists
                raise BuildError(f"cannot train {chosen!r} on {len(train)} vectors: "
                                 f"{str(exc).splitlines()[-1]}") from None
            del train  # 40 vectors a list: 250 MB for 4096 lists, not held while adding
        _preallocate(inner, n_vectors)
        for ids, vecs in blocks():
            index.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32),
                               np.ascontiguousarray(ids, dtype=np.int64))
        return cls(index, chosen)

    def save(self, path: Path, *, release: bool = False) -> None:
        """Write the index, hashing the bytes as FAISS streams them out, then read the
        file back: it must hash the same and load with the same size and dimension.

        No second copy of the index is held while writing; with ``release`` the index
        leaves memory before the file is loaded back to check it (a build no longer
        needs it), so the check does not double the peak either."""
        faiss = _faiss()
        digest = hashlib.sha256()
        dimension, count = self.dimension, self.ntotal
        try:
            with os.fdopen(create_new(path), "wb") as fh:
                def write(chunk: bytes) -> int:
                    digest.update(chunk)
                    fh.write(chunk)
                    return len(chunk)

                writer = faiss.PyCallbackIOWriter(write)
                faiss.write_index(self.index, writer)
                del writer  # flushes FAISS's buffer into ``write``
                fh.flush()
                os.fsync(fh.fileno())
            written = sha256_file(path)
        except (RuntimeError, OSError) as exc:  # a full disk, an I/O error
            raise BuildError(f"cannot write {path}: {str(exc).splitlines()[-1]}") from None
        if written != digest.hexdigest():
            raise CorruptCollection(f"{path} read back differently than written")
        if release:  # ``factory`` and ``search_params`` stay; searching needs a load
            self.index = self.inner = None
        VectorIndex.load(path, dimension=dimension, count=count, factory=self.factory)

    @classmethod
    def load(cls, path: Path, *, dimension: int, count: int, factory: str,
             search: dict[str, int] | None = None, mmap: bool = True) -> VectorIndex:
        """The index saved at ``path``, checked against the size and dimension expected;
        memory-mapped unless ``mmap`` is False (the file must then never change: citeseek
        never writes a published file)."""
        faiss = _faiss()
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mmap else 0)
        except RuntimeError as exc:
            raise CorruptCollection(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
        if index.d != dimension or index.ntotal != count:
            raise CorruptCollection(
                f"{path} holds {index.ntotal} vectors of dimension {index.d}; the manifest "
                f"says {count} of dimension {dimension}")
        return cls(index, factory, search)

    def _params(self, sel: Any, k: int, boost: int = 1) -> Any:
        faiss = _faiss()
        if self.knob == "efSearch":
            return faiss.SearchParametersHNSW(
                sel=sel, efSearch=max(self.search_params["efSearch"] * boost, 2 * k))
        if self.knob == "nprobe":
            nlist = int(self.inner.nlist)
            return faiss.SearchParametersIVF(
                sel=sel, nprobe=min(nlist, self.search_params["nprobe"] * boost))
        return faiss.SearchParameters(sel=sel) if sel is not None else None

    def search_many(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the top ``k`` for each row of ``queries`` (unfiltered)."""
        q = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dimension)
        k = min(k, self.ntotal)
        scores, ids = self.index.search(q, k, params=self._params(None, k))
        return np.asarray(scores), np.asarray(ids)

    def search(self, query: np.ndarray, k: int, *, allowed: Sequence[int] | None = None,
               selector: Any = None, hidden: Any = None) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, score) for one query vector, restricted to ``allowed`` ids
        before ranking when given (so a filter never starves the top k; ``selector`` is
        their ``id_selector`` when the caller made it already). Without ``allowed``, the
        ids of ``hidden`` (a selector of the ids to keep, ``keep_all_but``) are left out."""
        if query.size != self.dimension:  # FAISS would only assert
            raise ModelMismatch(f"a query vector of dimension {query.size} cannot search "
                                f"vectors of dimension {self.dimension}: the collection "
                                "was built with another model")
        if k <= 0 or self.ntotal == 0:
            return []
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        k = min(k, self.ntotal)  # before the search settings, which take 2k (an int)
        if allowed is None:
            params = self._params(hidden, k)
        else:
            if len(allowed) == 0:
                return []
            sel = selector if selector is not None else id_selector(allowed)
            k = min(k, len(allowed))
            params = self._params(sel, k, boost=2 if self.knob == "efSearch" else 4)
        k = min(k, self.ntotal)
        with _one_thread():
            scores, ids = self.index.search(q, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
