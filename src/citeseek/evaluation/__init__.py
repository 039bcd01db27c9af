"""Evaluation: retrieval on BEIR-layout folders (``beir``) and answers on question sets
in SQuAD or qa-dev layout (``qa``, with SQuAD's measures in ``squad``).

``citeseek.evaluation.evaluate_beir`` and ``citeseek.evaluation.evaluate_qa`` are the
entry points; the names below are the public ones of both.
"""

from __future__ import annotations

from .beir import (
    METRICS,
    BeirData,
    EvalResult,
    Qrels,
    documents_by_best_passage,
    evaluate,
    evaluate_beir,
    evaluate_rankings,
    load_beir,
    mrr_at,
    ndcg_at,
    per_query,
    recall_at,
    score_query,
    wins_and_losses,
)
from .qa import QAResult, evaluate_qa, score_answers
from .squad import QAData, QAQuestion, exact_match, f1_score, load_qa, normalize_answer

__all__ = [
    "METRICS", "BeirData", "EvalResult", "QAData", "QAQuestion", "QAResult", "Qrels",
    "documents_by_best_passage", "evaluate", "evaluate_beir", "evaluate_qa",
    "evaluate_rankings", "exact_match", "f1_score", "load_beir", "load_qa", "mrr_at",
    "ndcg_at", "normalize_answer", "per_query", "recall_at", "score_answers", "score_query",
    "wins_and_losses",
]
