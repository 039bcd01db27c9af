"""The vector indexes of a generation's levels, searched as one: the base's
(``index.faiss``, approximate and tuned) and each delta's (``delta-NNNNNN.faiss``, exact),
each leaving out the passages a level above hides, their hits merged by score."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .vector_index import KeepAllBut, VectorIndex, id_selector


class VectorLevels:
    """``Generation.index``: the indexes of the store's levels, base first, each with the
    ids of its passages hidden from above. Searched like one ``VectorIndex``."""

    def __init__(self, parts: Sequence[tuple[VectorIndex, Sequence[int]]]) -> None:
        self.parts = [(index, KeepAllBut(hidden)) for index, hidden in parts]
        self.base = self.parts[0][0]

    @property
    def ntotal(self) -> int:
        """Visible vectors: every level's, less the hidden ones."""
        return sum(index.ntotal - hidden.count for index, hidden in self.parts)

    @property
    def dimension(self) -> int:
        return self.base.dimension

    @property
    def factory(self) -> str:
        return self.base.factory

    @property
    def search_params(self) -> dict[str, int]:
        """The base's search setting (a delta's index is exact: it has none)."""
        return self.base.search_params

    def search(self, query: np.ndarray, k: int, *,
               allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, score) over every level; ``allowed``, when given, holds
        only visible ids, so hidden ones need no selector of their own then."""
        if len(self.parts) == 1 and not self.parts[0][1].count:
            return self.base.search(query, k, allowed=allowed)
        selector = id_selector(allowed) if allowed is not None and len(allowed) else None
        found: list[tuple[int, float]] = []
        for index, hidden in self.parts:
            if allowed is None and hidden.count:
                found += _visible_top(index, query, k, hidden)
            else:
                found += index.search(query, k, allowed=allowed, selector=selector)
        found.sort(key=lambda hit: -hit[1])
        return found[:k]


def _visible_top(index: VectorIndex, query: np.ndarray, k: int,
                 hidden: KeepAllBut) -> list[tuple[int, float]]:
    """The top ``k`` of ``index`` less its ``hidden`` ids: the top ``2k`` searched
    without a selector and the hidden dropped, or, when fewer than ``k`` are left, a
    search with the selector. A FAISS selector is asked of every vector a search scans
    (twice the time of an IVF search at a million passages). Flat and IVF indexes give
    the same visible top ``k`` either way, both scanning the same vectors; an HNSW walk
    is approximate either way."""
    wide = index.search(query, 2 * k)
    kept = [hit for hit in wide if hit[0] not in hidden.ids]
    if len(kept) >= k or len(wide) < 2 * k:
        return kept[:k]
    return index.search(query, k, hidden=hidden.selector)
