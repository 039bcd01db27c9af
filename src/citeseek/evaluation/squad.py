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
    with open(qfile, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            where = f"{qfile}:{line_no}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise UsageError(f"{where}: not UTF-8 text") from None
            if not line.strip():
                continue
            items.append(_question(_json(line, where), where))
    if not items:
        raise UsageError(f"{qfile} holds no questions")
    return QAData(name=path.name, questions=items, sources=[articles])


def _json(text: str, where: str, *, lines: bool = False) -> Any:
    """``text`` parsed; invalid JSON is a ``UsageError`` naming ``where`` (and, for a
    whole file, with ``lines``, the line)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = f":{exc.lineno}" if lines else ""
        raise UsageError(f"{where}{at}: invalid JSON ({exc.msg})") from exc
    except RecursionError:
        raise UsageError(f"{where}: invalid JSON (nested too deeply)") from None


def _question(record: Any, where: str) -> QAQuestion:
    if not isinstance(record, dict) or not isinstance(record.get("question"), str) \
            or not isinstance(record.get("article"), str):
        raise UsageError(f"{where}: a question needs 'question' and 'article' strings")
    given = record.get("answers") or []
    if not isinstance(given, list):
        raise UsageError(f"{where}: 'answers' must be a list of gold strings")
    answers = [str(a) for a in given if str(a).strip()]
    answerable = bool(record.get("answerable", bool(answers)))
    if answerable and not answers:
        raise UsageError(f"{where}: an answerable question needs gold 'answers'")
    return QAQuestion(id=str(record.get("id", where)), question=record["question"],
                      doc_id=record["article"], answers=answers, answerable=answerable)


class _Malformed(Exception):
    """What is wrong at ``place`` (keys and indices from the top) of a SQuAD file."""

    def __init__(self, place: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.place = place


def _load_squad(path: Path) -> QAData:
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: not UTF-8 text") from None
    data = _json(raw, str(path), lines=True)
    try:
        return _squad(data, path)
    except _Malformed as exc:
        raise UsageError(f"{path}:{_line(raw, exc.place)}: {exc}") from None


def _need(value: Any, kind: type | tuple[type, ...], place: tuple[str | int, ...],
          what: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        shown = ".".join(str(p) for p in place)
        raise _Malformed(place, f"{shown or 'the file'} must be {what}")
    return value


def _squad(data: Any, path: Path) -> QAData:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise _Malformed(("data",) if isinstance(data, dict) else (),
                         "not SQuAD JSON (no 'data' list of articles)")
    articles = data["data"]
    records: list[dict[str, str]] = []
    items: list[QAQuestion] = []
    for n, article in enumerate(articles, start=1):
        at: tuple[str | int, ...] = ("data", n - 1)
        _need(article, dict, at, "an article object")
        title = str(_need(article.get("title"), (str, int, float, type(None)),
                          (*at, "title"), "text") or f"article-{n}")
        doc_id = title if all(r["_id"] != title for r in records) else f"{title}-{n}"
        paragraphs = _need(article.get("paragraphs", []), list, (*at, "paragraphs"),
                           "a list of paragraphs")
        for i, paragraph in enumerate(paragraphs):
            _need(paragraph, dict, (*at, "paragraphs", i), "a paragraph object")
            _need(paragraph.get("context", ""), str, (*at, "paragraphs", i, "context"),
                  "text")
        text = "\n\n".join(p.get("context", "").strip() for p in paragraphs)
        if not text.strip():
            continue
        records.append({"_id": doc_id, "title": title.replace("_", " "), "text": text})
        for i, paragraph in enumerate(paragraphs):
            qas = _need(paragraph.get("qas", []), list, (*at, "paragraphs", i, "qas"),
                        "a list of questions")
            for j, qa in enumerate(qas):
                items.append(_squad_question(qa, (*at, "paragraphs", i, "qas", j), doc_id,
                                             len(items)))
    if not items:
        raise UsageError(f"{path} holds no questions")
    return QAData(name=path.stem, questions=items, records=records)


def _squad_question(qa: Any, at: tuple[str | int, ...], doc_id: str,
                    count: int) -> QAQuestion:
    _need(qa, dict, at, "a question object")
    question = _need(qa.get("question"), str, (*at, "question"), "text")
    answers = _need(qa.get("answers", []), list, (*at, "answers"), "a list of answers")
    golds: list[str] = []
    for k, given in enumerate(answers):
        _need(given, dict, (*at, "answers", k), "an answer object")
        gold = _need(given.get("text", ""), str, (*at, "answers", k, "text"), "text")
        if gold.strip() and gold.strip() not in golds:
            golds.append(gold.strip())
    impossible = bool(_need(qa.get("is_impossible", False), bool, (*at, "is_impossible"),
                            "true or false")) or not golds
    return QAQuestion(id=str(_need(qa.get("id", f"{doc_id}-{count}"), (str, int),
                                   (*at, "id"), "text")),
                      question=question, doc_id=doc_id,
                      answers=[] if impossible else golds, answerable=not impossible)


class _Where(dict[str, Any]):
    line = 0


class _WhereList(list[Any]):
    line = 0


def _line(raw: str, place: tuple[str | int, ...]) -> int:
    """The line of ``raw`` where the innermost object or list on the way to ``place``
    begins (the file is parsed again, slowly, only to say where a fault is)."""
    import bisect
    from json import scanner

    starts = [0] + [i + 1 for i, ch in enumerate(raw) if ch == "\n"]
    decoder: Any = json.JSONDecoder()
    scanners: Any = scanner
    plain_object, plain_array = decoder.parse_object, decoder.parse_array

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        value, end = plain_object(s_and_end, *args)
        located = _Where(value)
        located.line = bisect.bisect_right(starts, s_and_end[1] - 1)
        return located, end

    def parse_array(s_and_end: tuple[str, int], *args: Any) -> tuple[Any, int]:
        value, end = plain_array(s_and_end, *args)
        located = _WhereList(value)
        located.line = bisect.bisect_right(starts, s_and_end[1] - 1)
        return located, end

    decoder.parse_object, decoder.parse_array = parse_object, parse_array
    decoder.scan_once = scanners.py_make_scanner(decoder)  # the C one ignores the two
    node: Any = decoder.decode(raw)
    line = getattr(node, "line", 1)
    for key in place:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        line = getattr(node, "line", line)
    return int(line) or 1
