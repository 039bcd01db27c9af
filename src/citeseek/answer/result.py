"""``Answer`` and ``AnswerSentence``: what ``Collection.ask`` returns, as text, dicts,
DataFrames and HTML (the answer with its span marked, then the cited passages' cards).
``from_dict`` holds JSON from anywhere to the declared types; the cards escape every
field."""

from __future__ import annotations

import html
import textwrap
from dataclasses import dataclass, field
from typing import Any

from ..display import STYLE
from ..errors import CiteseekError
from ..search.hits import CITATION_FIELDS, HitList, render_hit, typed_fields
from ..terminal import printable
from ..words import topic_words
from .evidence import ASKED_MIN, WINDOW_WORDS, WITH_SUPPORT
from .support import Claim


@dataclass
class AnswerSentence:
    """One answer sentence, verbatim: ``document.text[start:end] == text``.

    ``citation`` is its number in ``Answer.citations`` (1-based). ``span_start`` /
    ``span_end`` mark the part that answers the question (document offsets), or None.
    ``page_start`` / ``page_end`` are the PDF pages it is on (None for other files),
    ``page_label`` / ``page_label_end`` the numbers printed on them where the PDF
    defines page labels.
    """

    text: str
    citation: int
    doc_id: str
    start: int
    end: int
    score: float = 0.0
    span_start: int | None = None
    span_end: int | None = None
    page_start: int | None = None
    page_end: int | None = None
    page_label: str | None = None
    page_label_end: str | None = None

    @property
    def span(self) -> str | None:
        """The answering part of the sentence (a number, date, name...), if found."""
        if self.span_start is None or self.span_end is None:
            return None
        return self.text[self.span_start - self.start:self.span_end - self.start]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "citation": self.citation, "doc_id": self.doc_id,
                "start": self.start, "end": self.end, "score": self.score,
                "span": self.span, "span_start": self.span_start, "span_end": self.span_end,
                "page_start": self.page_start, "page_end": self.page_end,
                "page_label": self.page_label, "page_label_end": self.page_label_end}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerSentence:
        """The sentence ``to_dict`` gave (``span`` follows from the offsets); a field of
        the wrong JSON type is a ``CiteseekError`` naming it."""
        return cls(**typed_fields(cls, data, "an answer sentence"))


@dataclass
class Answer:
    """The answer to a question, or ``answer=None`` with a ``message`` when declined.

    ``citations`` are the retrieved passages (``Hit``s), numbered from 1 in order;
    every ``[n]`` in ``answer`` and every ``sentence.citation`` is such a number.
    ``evidence`` is the strength compared with the decline threshold, and
    ``evidence_parts`` what it is made of (the best sentence's ``similarity`` and
    its best stretch's ``window_similarity``, the passages' ``coverage`` of the
    question's rare words, the sentence's ``support`` of them, ``figure_missing``,
    ``absent_names``, ``asked``, ``asked_support``; docs/answers.md). ``short_answer``
    is the part that answers (a number, date, name or quotation) where one was found; it
    comes from the first sentence, its evidence. With a generator,
    ``generated`` is True and ``dropped_citations`` lists the numbers it cited that
    match no passage (removed from the text). ``rerank_error`` says why a reranker kept
    some or all of the fused order of the passages (None otherwise).
    """

    question: str
    answer: str | None
    confident: bool
    sentences: list[AnswerSentence]
    citations: HitList
    message: str | None = None
    evidence: float = 0.0
    evidence_parts: dict[str, Any] = field(default_factory=dict)
    generated: bool = False
    dropped_citations: list[int] = field(default_factory=list)
    short_answer: str | None = None
    claims: list[Claim] = field(default_factory=list)
    llm_error: str | None = None
    rerank_error: str | None = None

    @property
    def declined(self) -> bool:
        return self.answer is None

    def cited(self) -> list[int]:
        """The citation numbers the answer uses, in order of first use."""
        return list(dict.fromkeys(s.citation for s in self.sentences))

    def to_dict(self) -> dict[str, Any]:
        """The ``ask --json`` shape: question, answer, confident, sentences, citations."""
        return {
            "question": self.question, "answer": self.answer, "confident": self.confident,
            "sentences": [s.to_dict() for s in self.sentences],
            "citations": [h.to_dict() for h in self.citations],
            "message": self.message, "evidence": self.evidence,
            "evidence_parts": self.evidence_parts,
            "generated": self.generated, "dropped_citations": self.dropped_citations,
            "short_answer": self.short_answer,
            "claims": [c.to_dict() for c in self.claims], "llm_error": self.llm_error,
            "rerank_error": self.rerank_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The answer ``to_dict`` gave (from a server's JSON, say); a field of the wrong
        JSON type, or a citation number with no citation, is a ``CiteseekError``."""
        nested = ("sentences", "citations", "claims")
        plain = typed_fields(cls, data, "an answer", skip=nested)
        for name in nested:
            if not isinstance(data.get(name, []), list):
                raise CiteseekError(f"an answer's {name!r} must be a list")
        answer = cls(**plain,
                     sentences=[AnswerSentence.from_dict(s) for s in data.get("sentences", [])],
                     citations=HitList.from_dict(data.get("citations", []),
                                                 query=plain["question"]),
                     claims=[Claim.from_dict(c) for c in data.get("claims") or []])
        numbers = [s.citation for s in answer.sentences]
        if any(not 1 <= n <= len(answer.citations) for n in numbers):
            raise CiteseekError(f"an answer sentence cites a passage it does not hold "
                                f"(of {len(answer.citations)}): {numbers}")
        return answer

    def to_pandas(self) -> Any:
        """One row per answer sentence, with its citation's fields."""
        import pandas as pd

        columns = ["citation", "text", "span", "score", *CITATION_FIELDS]
        rows = []
        for s in self.sentences:
            hit = self.citations[s.citation - 1]
            rows.append({**{c: getattr(hit, c) for c in CITATION_FIELDS},
                         "citation": s.citation, "text": s.text, "span": s.span,
                         "score": s.score, "start": s.start, "end": s.end,
                         "page_start": s.page_start, "page_end": s.page_end,
                         "page_label": s.page_label, "page_label_end": s.page_label_end})
        return pd.DataFrame(rows, columns=columns)

    def unsupported(self) -> list[Claim]:
        """Written sentences the passages they cite do not support (or that cite none)."""
        return [c for c in self.claims if not c.supported]

    def __str__(self) -> str:
        return self.report()

    def report(self, *, answer_text: bool = True) -> str:
        """The answer as text: question, answer (left out with ``answer_text=False``, as
        after streaming it), flags, notes and sources."""
        head = f"Q: {self.question}"
        if self.answer is None:
            why = why_declined(self)
            return printable(f"{head}\n{self.message or 'No answer.'}"
                             + (f"\n{textwrap.fill(why, width=96, subsequent_indent='  ')}"
                                if why else ""))
        flag = "" if self.confident else "  (not confident)"
        lines = [head] if answer_text else []
        if not answer_text:
            lines.append(flag.strip() or "(confident)")
        elif self.short_answer and self.sentences:
            lines.append(f"A: {self.short_answer} [{self.sentences[0].citation}]{flag}")
            lines.append(textwrap.fill(" ".join(self.answer.split()), width=96,
                                       initial_indent="   evidence: ",
                                       subsequent_indent="   "))
        else:
            lines.append(textwrap.fill(" ".join(self.answer.split()), width=96,
                                       initial_indent="A: ", subsequent_indent="   ") + flag)
        spans = [f"[{s.citation}] {s.span}" for s in self.sentences[1:] if s.span]
        if spans:
            lines.append("   other spans: " + "; ".join(spans))
        for claim in self.unsupported():
            why = _why(claim)
            missing = f" (missing: {', '.join(claim.missing)})" if claim.missing else ""
            lines.append(textwrap.fill(f"! {why}{missing}: {claim.text}", width=96,
                                       initial_indent="   ", subsequent_indent="     "))
        if self.dropped_citations:
            lines.append("   removed citations to no passage: "
                         + ", ".join(f"[{n}]" for n in self.dropped_citations))
        if self.llm_error and self.message:
            lines.append(textwrap.fill(self.message, width=96, initial_indent="   note: ",
                                       subsequent_indent="   "))
        if self.rerank_error:
            lines.append(textwrap.fill(f"reranking: {self.rerank_error}", width=96,
                                       initial_indent="   note: ", subsequent_indent="   "))
        lines.append("Sources:")
        cited = self.cited() or [n for n in range(1, len(self.citations) + 1)]
        for n in cited:
            lines.append(f"  [{n}] {self.citations[n - 1].citation()}")
        return printable("\n".join(lines))

    def __repr__(self) -> str:
        state = "declined" if self.answer is None else (
            "confident" if self.confident else "not confident")
        return (f"Answer({self.question!r}, {state}, {len(self.sentences)} sentences, "
                f"{len(self.citations)} citations)")

    def _repr_html_(self) -> str:
        return render_answer(self)


def why_declined(answer: Answer) -> str | None:
    """What the evidence of a declined ``answer`` was made of, in words (None where its
    parts were not measured, as in an answer rebuilt from older JSON)."""
    parts = answer.evidence_parts
    if not parts:
        return None
    said = [f"best sentence's similarity {parts['similarity']:.2f}"]
    window = parts.get("window_similarity")  # absent from parts saved before it
    if window is not None and window > parts["similarity"]:
        said[0] += f" ({window:.2f} for its best {WINDOW_WORDS} words)"
    if parts["coverage"] < 1:
        said.append(f"the passages hold {parts['coverage']:.0%} of the question's rare words")
    if WITH_SUPPORT and parts["support"] < 1:
        said.append(f"the sentence speaks to {parts['support']:.0%} of them")
    if parts["figure_missing"]:
        said.append("no date or figure of the kind asked for")
    if parts["absent_names"]:
        said.append("no passage names " + ", ".join(parts["absent_names"]))
    if parts.get("asked") and parts["asked_support"] < ASKED_MIN:
        said.append(f"the sentence does not speak of the {parts['asked']} asked for")
    return f"Why: evidence {answer.evidence:.2f} ({'; '.join(said)})."


def _sentence_html(sentence: AnswerSentence, anchor: str) -> str:
    text, start = sentence.text, int(sentence.start)
    if sentence.span_start is not None and sentence.span_end is not None:
        a, b = sentence.span_start - start, sentence.span_end - start
        body = (f"{html.escape(text[:a])}<mark>{html.escape(text[a:b])}</mark>"
                f"{html.escape(text[b:])}")
    else:
        body = html.escape(text)
    n = int(sentence.citation)
    return (f'<span data-doc-id="{html.escape(sentence.doc_id, quote=True)}" '
            f'data-start="{int(sentence.start)}" data-end="{int(sentence.end)}">{body}</span>'
            f'<sup><a href="#{anchor}-{n}">[{n}]</a></sup>')


def render_answer(answer: Answer) -> str:
    """The answer with its span marked and [n] links, then the cited passages as cards."""
    question = f"<div class='cs-meta'>Q: <b>{html.escape(answer.question)}</b></div>"
    if answer.answer is None:
        message = html.escape(answer.message or "No answer.")
        why = why_declined(answer)
        why_html = f"<div class='cs-meta'>{html.escape(why)}</div>" if why else ""
        return (f"{STYLE}<div class='cs-hits'>{question}"
                f"<div class='cs-answer cs-declined'>{message}</div>{why_html}</div>")
    anchor = f"cs-{id(answer):x}"
    if answer.generated:
        body = _claims_html(answer) if answer.claims else html.escape(answer.answer)
        evidence = " ".join(_sentence_html(s, anchor) for s in answer.sentences)
        body += f"<div class='cs-meta'>Evidence: {evidence}</div>" if evidence else ""
    else:
        body = " ".join(_sentence_html(s, anchor) for s in answer.sentences)
        if answer.short_answer and answer.sentences:
            n = int(answer.sentences[0].citation)
            body = (f"<div class='cs-short'><b>{html.escape(answer.short_answer)}</b>"
                    f"<sup><a href=\"#{anchor}-{n}\">[{n}]</a></sup></div>"
                    f"<div class='cs-meta'>Evidence: {body}</div>")
    flag = "" if answer.confident else " <span class='cs-meta'>(not confident)</span>"
    dropped = ""
    if answer.dropped_citations:
        dropped = ("<div class='cs-meta'>Removed citations to no passage: "
                   + ", ".join(f"[{html.escape(str(n))}]" for n in answer.dropped_citations)
                   + "</div>")
    if answer.llm_error and answer.message:
        dropped += f"<div class='cs-meta cs-note'>{html.escape(answer.message)}</div>"
    if answer.rerank_error:
        dropped += (f"<div class='cs-meta cs-note'>Reranking: "
                    f"{html.escape(answer.rerank_error)}</div>")
    terms = topic_words(answer.question)
    top = max((h.score for h in answer.citations), default=0.0)
    cards = []
    for n in answer.cited():
        hit = answer.citations[n - 1]
        spans = [(s.start, s.end, "cs-said") for s in answer.sentences if s.citation == n]
        spans += [(s.span_start, s.span_end, "cs-span") for s in answer.sentences
                  if s.citation == n and s.span_start is not None and s.span_end is not None]
        cards.append(f'<div id="{anchor}-{n}">' + render_hit(
            hit, top_score=top, terms=terms, spans=spans, label=f"[{n}]") + "</div>")
    return (f"{STYLE}<div class='cs-hits'>{question}<div class='cs-answer'>{body}{flag}"
            f"</div>{dropped}<div class='cs-meta'>Sources</div>{''.join(cards)}</div>")


def _why(claim: Claim) -> str:
    """Why a claim is flagged, as the report and the card say it."""
    if not claim.citations:
        return "cites no passage"
    why = f"not supported by {', '.join(f'[{n}]' for n in claim.citations)}"
    if claim.instructions:
        told = ", ".join(f"[{n}]" for n in claim.instructions)
        why += (f"; {told} tells the model what to answer, which is not evidence")
    return why


def _claims_html(answer: Answer) -> str:
    """A written answer sentence by sentence; the ones its citations do not support are
    marked, with the reason in their tooltip and after the text."""
    parts, notes = [], []
    for claim in answer.claims:
        if claim.supported:
            parts.append(html.escape(claim.text))
            continue
        why = _why(claim)
        parts.append(f"<span class='cs-unsupported' title='{html.escape(why, quote=True)}' "
                     f"style='text-decoration: underline wavy #c0392b'>"
                     f"{html.escape(claim.text)}</span>")
        notes.append(f"{html.escape(why)}: {html.escape(claim.text)}")
    flagged = "".join(f"<div class='cs-meta cs-flag'>⚠ {n}</div>" for n in notes)
    return " ".join(parts) + flagged
