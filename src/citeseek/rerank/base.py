"""What every reranker shares: ``Reranked`` (a verdict on the candidates: their order,
a score each and a note) and the ``Reranker`` protocol, and the defaults. How a
caller's choice becomes a reranker, and how its verdict reorders hits, is ``choice``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..search.hits import Hit

# Candidates reranked when not told: the measured trade-off (docs/reranking.md) of
# latency, which grows with every candidate, against the few answers found below 20.
DEFAULT_TOP = 20
LLM_NAME = "llm"  # rerank="llm": the listwise reranker through the answer's endpoint


@dataclass
class Reranked:
    """A reranker's verdict on ``n`` candidates: ``order`` (indexes into them, best
    first, each once), ``scores`` (one per candidate, by its index) and ``note``: why
    some or all of them kept the fused order, or None."""

    order: list[int]
    scores: list[float]
    note: str | None = None


@runtime_checkable
class Reranker(Protocol):
    """Anything with a ``name`` and ``rerank(query, hits) -> Reranked``."""

    name: str

    def rerank(self, query: str, hits: Sequence[Hit]) -> Reranked: ...
