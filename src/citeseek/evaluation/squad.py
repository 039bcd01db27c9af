"""Question sets for answer evaluation, and SQuAD's own measures.

Two layouts are read into one shape (``QAData``):

- SQuAD JSON, v1.1 or v2.0 (``{"data": [{"title", "paragraphs": [{"context", "qas"}]}]}``):
  each article becomes one document (its paragraphs joined by blank lines, keyed by its
  title); v2.0's ``is_impossible`` questions are unanswerable;
- a folder with ``articles/`` (any files citeseek reads) and ``questions.jsonl``, one
  question a line: ``{"id", "question", "article", "answers", "answerable"}`` where
  ``article`` is the article's path under ``articles/`` (the layout of qa-dev).

``normalize_answer``, ``exact_match`` and ``f1_score`` are the official SQuAD evaluation
script's definitions (lower case, no punctuation, no articles, single spaces; token F1).
"""

from __future__ import annotations

import collections
import json
import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, punctuation and articles removed, one space."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, golds: list[str]) -> float:
    """1.0 when the prediction equals a gold answer after normalisation. With no gold
    answers (an unanswerable question) only an empty prediction matches."""
    if not golds:
        return float(not normalize_answer(prediction))
    return float(any(normalize_answer(prediction) == normalize_answer(g) for g in golds))


def _f1(prediction: str, gold: str) -> float:
    pred, true = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not true:
        return float(pred == true)
    common = sum((collections.Counter(pred) & collections.Counter(true)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(true)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, golds: list[str]) -> float:
    """The best token F1 of the prediction against any gold answer (SQuAD's F1)."""
    if not golds:
        return float(not normalize_answer(prediction))
    return max(_f1(prediction, g) for g in golds)


@dataclass
class QAQuestion:
    """One question: ``doc_id`` names the article that answers it (as the collection
    keys it); ``answers`` are gold strings, empty when ``answerable`` is False."""

    id: str
    question: str
    doc_id: str
    answers: list[str]
    answerable: bool


@dataclass
class QAData:
    """A question set and what to index for it: ``sources`` (files or folders) or, for
    SQuAD JSON, ``records`` (one ``{"_id", "title", "text"}`` per article)."""

    name: str
    questions: list[QAQuestion]
    sources: list[Path] = field(default_factory=list)
    records: list[dict[str, str]] = field(default_factory=list)


def load_qa(source: str | os.PathLike[str],
            questions: str | os.PathLike[str] | None = None) -> QAData:
    """Read a SQuAD JSON file, or a folder of articles with a questions JSONL file
    (``questions`` defaults to ``questions.jsonl`` in the folder; articles are read from
    its ``articles/`` folder when there is one)."""
    path = Path(source)
    if path.is_file():
        return _load_squad(path)
    if not path.is_dir():
        raise UsageError(f"no such file or folder: {path}")
    articles = path / "articles" if (path / "articles").is_dir() else path
    qfile = Path(questions) if questions is not None else path / "questions.jsonl"
    if not qfile.is_file():
        raise UsageError(f"not a question set: {qfile} is missing (a folder needs "
                         "questions.jsonl, or give a SQuAD JSON file)")
    items: list[QAQuestion] = []
    with open(qfile, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            items.append(_question(_json(line, f"{qfile}:{line_no}"), f"{qfile}:{line_no}"))
    if not items:
        raise UsageError(f"{qfile} holds no questions")
    return QAData(name=path.name, questions=items, sources=[articles])


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: invalid JSON ({exc.msg})") from exc


def _question(record: Any, where: str) -> QAQuestion:
    if not isinstance(record, dict) or not isinstance(record.get("question"), str) \
            or not isinstance(record.get("article"), str):
        raise UsageError(f"{where}: a question needs 'question' and 'article' strings")
    answers = [str(a) for a in record.get("answers") or [] if str(a).strip()]
    answerable = bool(record.get("answerable", bool(answers)))
    if answerable and not answers:
        raise UsageError(f"{where}: an answerable question needs gold 'answers'")
    return QAQuestion(id=str(record.get("id", where)), question=record["question"],
                      doc_id=record["article"], answers=answers, answerable=answerable)


def _load_squad(path: Path) -> QAData:
    data = _json(path.read_text(encoding="utf-8"), str(path))
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise UsageError(f"{path}: not SQuAD JSON (no 'data' list of articles)")
    records: list[dict[str, str]] = []
    items: list[QAQuestion] = []
    for n, article in enumerate(data["data"], start=1):
        title = str(article.get("title") or f"article-{n}")
        doc_id = title if all(r["_id"] != title for r in records) else f"{title}-{n}"
        contexts = [p for p in article.get("paragraphs", []) if isinstance(p, dict)]
        text = "\n\n".join(str(p.get("context", "")).strip() for p in contexts)
        if not text.strip():
            continue
        records.append({"_id": doc_id, "title": title.replace("_", " "), "text": text})
        for paragraph in contexts:
            for qa in paragraph.get("qas", []):
                golds = list(dict.fromkeys(
                    str(a.get("text", "")).strip() for a in qa.get("answers", [])
                    if str(a.get("text", "")).strip()))
                impossible = bool(qa.get("is_impossible", False)) or not golds
                items.append(QAQuestion(
                    id=str(qa.get("id", f"{doc_id}-{len(items)}")),
                    question=str(qa.get("question", "")), doc_id=doc_id,
                    answers=[] if impossible else golds, answerable=not impossible))
    if not items:
        raise UsageError(f"{path} holds no questions")
    return QAData(name=path.stem, questions=items, records=records)
