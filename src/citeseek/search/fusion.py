"""Fusing ranked lists from several retrievers into one ranking."""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60
DENSE_WEIGHT = 0.5  # hybrid: dense and keyword count equally after normalization


def reciprocal_rank_fusion(runs: Sequence[list[tuple[int, float]]],
                           k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked lists by summing 1 / (k + rank)."""
    fused: dict[int, float] = {}
    for run in runs:
        for rank, (cid, _) in enumerate(run, start=1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def _min_max(run: list[tuple[int, float]]) -> dict[int, float]:
    if not run:
        return {}
    scores = [s for _, s in run]
    lo, hi = min(scores), max(scores)
    if hi <= lo:
        return {cid: 1.0 for cid, _ in run}
    return {cid: (s - lo) / (hi - lo) for cid, s in run}


def convex_fusion(dense: list[tuple[int, float]], keyword: list[tuple[int, float]],
                  dense_weight: float = DENSE_WEIGHT) -> list[tuple[int, float]]:
    """Fuse by a weighted sum of min-max normalized scores (0 where a run lacks an id).

    Unlike rank fusion it keeps each retriever's margins: a passage that BM25 scores far
    above the rest (a rare name matched) stays near the top.
    """
    nd, nk = _min_max(dense), _min_max(keyword)
    fused = {cid: dense_weight * nd.get(cid, 0.0) + (1 - dense_weight) * nk.get(cid, 0.0)
             for cid in nd.keys() | nk.keys()}
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
