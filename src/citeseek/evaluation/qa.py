"""Answer evaluation: ask every question of a ``QAData`` set and score the answers.

Per answerable question: the rank of the first retrieved passage of the right article
that holds a gold string (passage hit@1/3/5), whether the answer holds a gold string
(answer accuracy, the answer's sentences and short answer together), and SQuAD exact
match and F1 of the short answer (the answer's first sentence where no short answer was
found). Per unanswerable question: whether it was declined. Declining is also scored as
a detector of unanswerable questions (precision and recall) where the set has both kinds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .beir import refuse_foreign_store
from .squad import QAData, QAQuestion, exact_match, f1_score, load_qa

HIT_AT = (1, 3, 5)
ROW_COLUMNS = ["id", "question", "doc_id", "answerable", "declined", "confident",
               "short_answer", "answer", "answers", "passage_rank", "answer_ok", "em", "f1",
               "evidence"]


def holds(text: str | None, golds: Sequence[str]) -> bool:
    """The text holds a gold string (case-insensitive)."""
    return bool(text) and any(g.casefold() in str(text).casefold() for g in golds)


def passage_rank(hits: Sequence[Any], question: QAQuestion) -> int | None:
    """1-based rank of the first passage of the question's article holding a gold."""
    for i, hit in enumerate(hits, start=1):
        if hit.doc_id == question.doc_id and holds(hit.text, question.answers):
            return i
    return None


def score_answer(question: QAQuestion, answer: Any, hits: Sequence[Any]) -> dict[str, Any]:
    """One row of figures for one question and the ``Answer`` given to it."""
    declined = answer.answer is None
    sentences = [s.text for s in answer.sentences]
    short = answer.short_answer or next((s.span for s in answer.sentences if s.span), None)
    prediction = "" if declined else (short or (sentences[0] if sentences else answer.answer))
    row: dict[str, Any] = {
        "id": question.id, "question": question.question, "doc_id": question.doc_id,
        "answerable": question.answerable, "declined": declined,
        "confident": bool(answer.confident), "short_answer": short,
        "answer": answer.answer, "answers": list(question.answers),
        "passage_rank": passage_rank(hits, question) if question.answerable else None,
        "answer_ok": question.answerable and not declined
        and holds(" ".join([answer.answer or "", short or "", *sentences]), question.answers),
        "em": exact_match(prediction, question.answers),
        "f1": f1_score(prediction, question.answers),
        "evidence": answer.evidence,
    }
    return row


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def score_answers(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The set's figures from its rows (see the module's docstring)."""
    pos = [r for r in rows if r["answerable"]]
    neg = [r for r in rows if not r["answerable"]]
    declined = [r for r in rows if r["declined"]]
    metrics: dict[str, Any] = {"questions": len(rows), "answerable": len(pos),
                               "unanswerable": len(neg)}
    for k in HIT_AT:
        metrics[f"hit@{k}"] = _mean([r["passage_rank"] is not None and r["passage_rank"] <= k
                                     for r in pos])
    metrics["answer_accuracy"] = _mean([bool(r["answer_ok"]) for r in pos])
    metrics["answered"] = _mean([not r["declined"] for r in pos])
    metrics["exact_match"] = _mean([r["em"] for r in pos])
    metrics["f1"] = _mean([r["f1"] for r in pos])
    metrics["decline_rate_unanswerable"] = _mean([bool(r["declined"]) for r in neg])
    if pos and neg:  # declining as a detector of unanswerable questions
        right = sum(not r["answerable"] for r in declined)
        metrics["decline_precision"] = right / len(declined) if declined else None
        metrics["decline_recall"] = right / len(neg)
        metrics["exact_match_all"] = _mean([r["em"] for r in rows])
        metrics["f1_all"] = _mean([r["f1"] for r in rows])
    confident = [r for r in pos if r["confident"]]
    metrics["confident"] = len(confident) + sum(bool(r["confident"]) for r in neg)
    metrics["confident_right"] = sum(bool(r["answer_ok"]) for r in confident)
    return metrics


@dataclass
class QAResult:
    """Figures over a question set and one row per question (``to_pandas()``)."""

    name: str
    metrics: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    mode: str = "hybrid"
    k: int = 5
    seconds: float = 0.0

    def to_dict(self, *, rows: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "dataset": self.name, "mode": self.mode, "k": self.k,
            "seconds": round(self.seconds, 2),
            **{m: (round(v, 4) if isinstance(v, float) else v)
               for m, v in self.metrics.items()}}
        if rows:
            out["rows"] = self.rows
        return out

    def to_pandas(self) -> Any:
        """One row per question: its figures, answer and gold strings."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=ROW_COLUMNS)

    def __str__(self) -> str:
        m = self.metrics

        def fig(name: str) -> str:
            value = m.get(name)
            return "-" if value is None else f"{value:.3f}"

        lines = [f"{self.name}: {m['questions']} questions ({m['answerable']} answerable, "
                 f"{m['unanswerable']} unanswerable), {self.mode}, k={self.k}, "
                 f"{self.seconds:.1f}s",
                 "  passages  " + "  ".join(f"hit@{k} {fig(f'hit@{k}')}" for k in HIT_AT),
                 f"  answers   accuracy {fig('answer_accuracy')}  answered "
                 f"{fig('answered')}  exact match {fig('exact_match')}  F1 {fig('f1')}"]
        if m["unanswerable"]:
            lines.append(f"  declined  {fig('decline_rate_unanswerable')} of unanswerable"
                         + (f"  precision {fig('decline_precision')}  recall "
                            f"{fig('decline_recall')}" if m["answerable"] else ""))
        lines.append(f"  confident {m['confident']} ({m['confident_right']} right)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_pandas().head(50)._repr_html_()  # type: ignore[no-any-return]


def ask_all(collection: Any, data: QAData, *, k: int = 5, mode: str = "hybrid",
            progress: Callable[[int, int], None] | None = None,
            **options: Any) -> list[dict[str, Any]]:
    """Ask each question in ``collection`` and score it (``options`` go to ``ask``)."""
    known = {d["doc_id"] for d in collection.documents()}
    missing = sorted({q.doc_id for q in data.questions} - known)
    if missing:
        raise UsageError(f"questions name articles the collection lacks: "
                         f"{', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
    rows = []
    for i, question in enumerate(data.questions):
        answer = collection.ask(question.question, k=k, mode=mode, **options)
        hits = answer.citations
        if k < max(HIT_AT):  # hit@5 needs five passages
            hits = collection.search(question.question, k=max(HIT_AT), mode=mode)
        rows.append(score_answer(question, answer, hits))
        if progress:
            progress(i + 1, len(data.questions))
    return rows


def evaluate_qa(source: str | os.PathLike[str], *, questions: str | os.PathLike[str] | None = None,
                store: str | os.PathLike[str] | None = None, model: Any = None, k: int = 5,
                mode: str = "hybrid", limit: int | None = None, progress: bool = False,
                **options: Any) -> QAResult:
    """Index a question set's articles (incrementally, into ``store``) and score ``ask``.

    ``source``: a SQuAD JSON file (v1.1 or v2.0) or a folder with ``articles/`` and
    ``questions.jsonl`` (``questions`` names another file). ``store`` defaults to
    ``embeddings/qa-<name>``; a second run reuses it and embeds nothing, and a store
    holding a collection of other articles is refused. ``limit`` takes
    the first N questions. ``options`` go to ``Collection.ask`` (``min_evidence``...).
    """
    from ..collection import build
    from ..progress import progress_bar

    data = load_qa(source, questions)
    if limit is not None:
        if limit < 1:
            raise UsageError(f"limit must be >= 1, not {limit!r}")
        data.questions = data.questions[:limit]
    target = Path(store) if store is not None else Path("embeddings") / f"qa-{data.name}"
    # SQuAD JSON: its articles, written once beside the collection.
    sources = [_records_path(target)] if data.records else data.sources
    refuse_foreign_store(target, sources)
    if data.records:
        _write_records(data.records, target)
    col = build(sources, target, model=model, progress=progress)
    started = time.perf_counter()
    with progress_bar(total=len(data.questions), desc="questions", unit="q",
                      disable=not progress) as bar:
        rows = ask_all(col, data, k=k, mode=mode,
                       progress=lambda done, total: bar.update(1), **options)
    return QAResult(name=data.name, metrics=score_answers(rows), rows=rows, mode=mode, k=k,
                    seconds=time.perf_counter() - started)


def _records_path(store: Path) -> Path:
    return store.parent / f"{store.name}.articles.jsonl"


def _write_records(records: list[dict[str, str]], store: Path) -> Path:
    """The SQuAD articles as a JSONL file beside the store (rewritten only when its
    contents change, so an unchanged set is not parsed again)."""
    import json

    path = _records_path(store)
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if not path.is_file() or path.read_text(encoding="utf-8") != body:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(body, encoding="utf-8")
        tmp.replace(path)
    return path
