"""Recall of an approximate index against exact search, and tuning its search knob.

The queries are a sample of the collection's own vectors. Each query's own passage is
left out of both result lists (it would be a free hit), so recall@10 is measured over
its ten true nearest other passages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .vector_index import BlockSource, VectorIndex

TARGET_RECALL = 0.97  # a margin over 0.95: 200 sample queries measure it within ~0.01
SAMPLE_QUERIES = 200
LADDERS = {
    # Queries from the collection itself are easier than new ones (for HNSW they are
    # nodes of the graph), so the ladders start where new queries also do well.
    "efSearch": (32, 48, 64, 96, 128, 192, 256, 384, 512),
    "nprobe": (4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256),
}


def sample_queries(blocks: BlockSource, n_vectors: int, size: int = SAMPLE_QUERIES,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(chunk ids, vectors) of ``size`` vectors picked at random from ``blocks()``."""
    rng = np.random.default_rng(seed)
    picks = np.sort(rng.choice(n_vectors, min(size, n_vectors), replace=False))
    ids, vecs, offset = [], [], 0
    for block_ids, block_vecs in blocks():
        local = picks[(picks >= offset) & (picks < offset + len(block_ids))] - offset
        ids.append(block_ids[local])
        vecs.append(block_vecs[local])
        offset += len(block_ids)
    return np.concatenate(ids), np.concatenate(vecs).astype(np.float32)


def exact_neighbors(blocks: BlockSource, queries: np.ndarray, k: int) -> np.ndarray:
    """Chunk ids of the exact top ``k`` by inner product, one row per query, streamed
    block by block so memory holds one block at a time."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    for ids, vecs in blocks():
        scores = queries @ vecs.T
        scores = np.concatenate([best_scores, scores], axis=1)
        all_ids = np.concatenate([best_ids, np.broadcast_to(ids, (len(queries), len(ids)))],
                                 axis=1)
        keep = min(k, scores.shape[1])
        top = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        best_scores = np.take_along_axis(scores, top, axis=1)
        best_ids = np.take_along_axis(all_ids, top, axis=1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    return np.take_along_axis(best_ids, order, axis=1)


def recall_at(found: np.ndarray, truth: np.ndarray, query_ids: np.ndarray, k: int) -> float:
    """Mean share of each query's true top ``k`` (itself left out) that was found."""
    total = 0.0
    for own, got, want in zip(query_ids, found, truth, strict=True):
        want_top = [i for i in want if i != own][:k]
        got_top = [i for i in got if i != own and i >= 0][:k]
        total += len(set(got_top) & set(want_top)) / max(1, len(want_top))
    return total / max(1, len(query_ids))


def tune(index: VectorIndex, blocks: BlockSource, *, k: int = 10, target: float = TARGET_RECALL,
         sample: int = SAMPLE_QUERIES) -> dict[str, Any]:
    """Set ``index``'s search knob to the smallest value whose recall@k reaches
    ``target`` (or the largest tried), and say what was measured."""
    if index.knob is None:
        exact = index.factory.replace(" ", "") in ("Flat", "IDMap,Flat", "IDMap2,Flat")
        if exact:
            return {"recall_at_10": 1.0, "recall_queries": 0, "exact": True}
    if index.ntotal == 0:
        return {"recall_at_10": None, "recall_queries": 0, "exact": index.knob is None}
    query_ids, queries = sample_queries(blocks, index.ntotal, sample)
    truth = exact_neighbors(blocks, queries, k + 1)
    recall = 0.0
    ladder = LADDERS.get(index.knob or "", (None,))
    for value in ladder:
        if value is not None:
            index.search_params[index.knob] = value  # type: ignore[index]
        _, found = index.search_many(queries, k + 1)
        recall = recall_at(found, truth, query_ids, k)
        if recall >= target:
            break
    return {"recall_at_10": round(recall, 4), "recall_queries": len(query_ids),
            "exact": False}
