"""Dense, keyword and hybrid search over one generation, with filters applied before
ranking and result hygiene (duplicates collapsed, passages per document capped)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..config import MODES
from ..errors import UsageError
from ..storage.database import GenerationDB
from ..storage.vector_levels import VectorLevels
from .filters import Filters
from .fusion import convex_fusion
from .hits import Hit, HitList

MAX_QUERY_CHARS = 100_000
EXACT_FILTER_LIMIT = 50_000  # a filter leaving fewer passages is searched exactly
FEEDBACK_PASSAGES = 3  # hybrid: fused top passages whose vectors refine the query
FEEDBACK_WEIGHT = 0.5  # share of the original query vector in the refined one


def check_whole(value: object, name: str, low: int) -> None:
    """A ``UsageError`` naming ``name`` unless ``value`` is a whole number (not a bool,
    not text) of at least ``low``: the rule for ``k``, ``per_doc``, ``feedback`` and an
    answer's ``max_sentences``."""
    if not (isinstance(value, int | np.integer) and not isinstance(value, bool)
            and bool(value >= low)):
        raise UsageError(f"{name} must be a whole number >= {low}, not {value!r:.80}")


def check_mode(mode: object) -> str:
    """``mode`` when it is one of ``config.MODES``, else a ``UsageError``."""
    if not isinstance(mode, str) or mode not in MODES:
        raise UsageError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    return mode


def _check_options(*, per_doc: object, dedupe: object, feedback: object) -> None:
    if per_doc is not None:
        check_whole(per_doc, "per_doc", 1)
    if not isinstance(dedupe, bool):
        raise UsageError(f"dedupe must be True or False, not {dedupe!r:.80}")
    check_whole(feedback, "feedback", 0)


def check_query(query: Any, k: Any, mode: str) -> str:
    """``query`` when it, ``k`` and ``mode`` are usable, else a ``UsageError`` saying why."""
    if not isinstance(query, str):
        raise UsageError(f"the query must be text, not {type(query).__name__}")
    if not query.strip():
        raise UsageError("the query is empty")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: tokenizers and SQLite reject it
        raise UsageError(f"the query is not valid Unicode text ({exc.reason} at "
                         f"character {exc.start})") from None
    if len(query) > MAX_QUERY_CHARS:
        raise UsageError(f"the query is {len(query):,} characters; the limit is "
                         f"{MAX_QUERY_CHARS:,}")
    check_whole(k, "k", 1)
    check_mode(mode)
    return query


def dense_candidates(db: GenerationDB, index: VectorLevels, model: str, query_vec: np.ndarray,
                     n: int, allowed: list[int] | None) -> list[tuple[int, float]]:
    if allowed is not None and len(allowed) <= EXACT_FILTER_LIMIT:
        ids, vecs = db.embeddings.vectors_for(model, index.dimension, allowed)
        if not len(ids):
            return []
        scores = vecs @ query_vec.astype(np.float32).ravel()
        top = np.argsort(-scores, kind="stable")[:n]
        return [(int(ids[i]), float(scores[i])) for i in top]
    return index.search(query_vec, n, allowed=allowed)


def search(db: GenerationDB, index: VectorLevels, *, model: str,
           embed_query: Callable[[str], np.ndarray], query: str, k: int = 5,
           mode: str = "hybrid", filters: Filters | None = None,
           per_doc: int | None = None, candidates: int | None = None,
           dedupe: bool = True, feedback: int = FEEDBACK_PASSAGES) -> HitList:
    """Rank passages for ``query``; see ``Collection.search`` for the options.

    Hybrid mode fuses dense and BM25 scores (``convex_fusion``), then refines the query
    vector with the vectors of the ``feedback`` best fused passages (Rocchio pseudo-
    relevance feedback), searches again densely and fuses once more.
    """
    query = check_query(query, k, mode)
    _check_options(per_doc=per_doc, dedupe=dedupe, feedback=feedback)
    filters = filters or Filters()
    allowed = filters.allowed_chunk_ids(db)
    query_vec = embed_query(query) if mode in ("dense", "hybrid") else None

    def rank(n: int) -> tuple[list[tuple[int, float]], dict[str, list[tuple[int, float]]]]:
        runs: dict[str, list[tuple[int, float]]] = {}
        if query_vec is not None:
            runs["dense"] = dense_candidates(db, index, model, query_vec, n, allowed)
        if mode in ("keyword", "hybrid"):
            runs["keyword"] = db.keywords.search(query, n, allowed=allowed)
        if mode != "hybrid":
            return runs[mode], runs
        ranked = convex_fusion(runs["dense"], runs["keyword"])
        if feedback > 0 and ranked:
            assert query_vec is not None
            refined = _feedback_vector(db, model, index.dimension, query_vec,
                                       [cid for cid, _ in ranked[:feedback]])
            runs["dense"] = dense_candidates(db, index, model, refined, n, allowed)
            ranked = convex_fusion(runs["dense"], runs["keyword"])
        return ranked, runs

    return _enough(rank, k, candidates, lambda ranked, runs: _to_hits(
        db, ranked, runs, k=k, per_doc=per_doc, query=query, mode=mode, dedupe=dedupe))


Ranking = tuple[list[tuple[int, float]], dict[str, list[tuple[int, float]]]]


def _enough(rank: Callable[[int], Ranking], k: int, candidates: int | None,
            hits_of: Callable[[list[tuple[int, float]], dict[str, list[tuple[int, float]]]],
                              HitList]) -> HitList:
    """Rank ``max(50, 5k)`` candidates, and four times as many again while ``per_doc``
    or duplicates leave fewer than ``k`` hits and a retriever had more to give (its
    list came back full): ``k`` hits whenever ``k`` passages qualify."""
    n = candidates or max(50, 5 * k)
    while True:
        ranked, runs = rank(n)
        hits = hits_of(ranked, runs)
        if len(hits) >= k or candidates or not any(len(run) >= n for run in runs.values()):
            return hits
        n *= 4


def more_like(db: GenerationDB, index: VectorLevels, *, model: str, chunk_id: int, k: int = 5,
              filters: Filters | None = None, per_doc: int | None = None,
              other_documents: bool = False) -> HitList:
    """Passages nearest to passage ``chunk_id``'s own vector (itself left out);
    ``other_documents`` leaves out its whole document."""
    check_query("more like", k, "dense")
    _check_options(per_doc=per_doc, dedupe=True, feedback=0)
    if isinstance(chunk_id, bool) or not isinstance(chunk_id, int | np.integer):
        raise UsageError(f"a passage id is a whole number, not {chunk_id!r}")
    rows = db.hit_rows([chunk_id])
    if chunk_id not in rows:
        raise UsageError(f"no passage {chunk_id!r} in this collection")
    doc_id = rows[chunk_id].doc_id
    _, vecs = db.embeddings.vectors_for(model, index.dimension, [chunk_id])
    allowed = (filters or Filters()).allowed_chunk_ids(db)
    if other_documents:
        others = db.selection.chunk_ids_outside(doc_id)
        allowed = others if allowed is None else sorted(set(allowed) & set(others))
    def rank(n: int) -> Ranking:
        found = dense_candidates(db, index, model, vecs[0], n + 1, allowed)
        run = [(cid, s) for cid, s in found if cid != chunk_id]
        return run, {"dense": found}  # the full list tells whether more were there

    return _enough(rank, k, None, lambda ranked, runs: _to_hits(
        db, ranked, {"dense": ranked}, k=k, per_doc=per_doc, query="", mode="similar"))


def _feedback_vector(db: GenerationDB, model: str, dim: int, query_vec: np.ndarray,
                     chunk_ids: list[int]) -> np.ndarray:
    """Rocchio: move the query toward the mean of the best passages, renormalized."""
    _, vecs = db.embeddings.vectors_for(model, dim, chunk_ids)
    if not len(vecs):
        return query_vec
    refined = FEEDBACK_WEIGHT * query_vec.ravel() + (1 - FEEDBACK_WEIGHT) * vecs.mean(axis=0)
    norm = float(np.linalg.norm(refined))
    return (refined / norm).astype(np.float32) if norm > 0 else query_vec


def _mostly_overlaps(taken: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """True when more than half of [start, end) is already shown by a better passage."""
    return any(min(b, end) - max(a, start) > (end - start) / 2 for a, b in taken)


def _to_hits(db: GenerationDB, ranked: list[tuple[int, float]],
             runs: dict[str, list[tuple[int, float]]], *, k: int, per_doc: int | None,
             query: str, mode: str, dedupe: bool = True) -> HitList:
    rows = db.hit_rows([cid for cid, _ in ranked])
    per_run = {name: dict(run) for name, run in runs.items()}
    hits: list[Hit] = []
    seen_text: set[str] = set()
    spans: dict[str, list[tuple[int, int]]] = {}
    per_doc_count: dict[str, int] = {}
    for cid, score in ranked:
        row = rows.get(cid)
        if row is None:
            continue
        doc_id = row.doc_id
        key = " ".join(row.text.split()).casefold()
        if dedupe and (key in seen_text or
                       _mostly_overlaps(spans.get(doc_id, ()), row.start, row.end)):
            continue  # the same passage again (syndicated, a duplicate file, an overlap)
        if per_doc is not None and per_doc_count.get(doc_id, 0) >= per_doc:
            continue
        seen_text.add(key)
        spans.setdefault(doc_id, []).append((row.start, row.end))
        per_doc_count[doc_id] = per_doc_count.get(doc_id, 0) + 1
        hits.append(Hit.of(row, rank=len(hits) + 1, score=float(score),
                           scores={name: s[cid] for name, s in per_run.items() if cid in s}))
        if len(hits) == k:
            break
    # A passage over a page break learns where its pages begin (an answer's sentences
    # are cited on their own pages), from its document's source map alone.
    breaks = db.page_breaks([h.chunk_id for h in hits if h.page_start != h.page_end])
    for hit in hits:
        hit.page_breaks = breaks.get(hit.chunk_id, ())
    return HitList(hits, query=query, mode=mode)
