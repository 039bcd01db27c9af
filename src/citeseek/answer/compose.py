"""``Hit``s -> ``Answer``: one to three sentences taken verbatim from the passages, each
with a numbered citation, the answering span marked, or a plain "no answer".

The default is extractive and model-free beyond the embedding model: the short answer
span where one fits the question, its sentence as evidence. A ``generator`` (question,
{n: Hit}) -> text with [n] markers, or an ``llm`` (an OpenAI-compatible endpoint), writes
the answer instead: markers that point at no passage are removed and reported, each
written sentence is checked against the passages it cites, and an endpoint that fails
leaves the extractive answer with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import LLMError, UsageError
from ..markers import CITATION_MARKER, cited_numbers
from ..search.hits import Hit, HitList
from .llm import LLM, OnText, as_llm, complete, notebook_stream
from .result import Answer, AnswerSentence
from .scoring import (
    DEFAULT_METHOD,
    METHODS,
    Candidate,
    EmbedTexts,
    Measured,
    PassageFrequencies,
    Weights,
    evidence,
    measure,
    rank_candidates,
    sentence_evidence,
)
from .support import Claim, check_claims

Generator = Callable[[str, Mapping[int, Hit]], str]
CheckClaims = Callable[[str, Mapping[int, Hit]], list[Claim]]

# Calibrated on benchmarks/sample_questions.json and the Cranfield queries (see README,
# "Answers"): below MIN_EVIDENCE the question is declined; an answer is confident only
# when a span of the kind asked for sits in a sentence with CONFIDENT_EVIDENCE or more.
MIN_EVIDENCE = 0.28
CONFIDENT_EVIDENCE = 0.50
MARGIN = 0.08  # further sentences must score within this of the best one
NO_ANSWER = "The collection holds no passage that answers this question."


def _weights(method: str | Weights) -> Weights:
    if isinstance(method, Weights):
        return method
    if not isinstance(method, str) or method not in METHODS:
        raise UsageError(f"method must be one of {', '.join(METHODS)}, not {method!r:.80}")
    return METHODS[method]


def select_sentences(ranked: Sequence[Candidate], *, max_sentences: int = 3,
                     margin: float = MARGIN) -> list[Candidate]:
    """The best sentence, and up to ``max_sentences - 1`` more that score nearly as well."""
    if not ranked:
        return []
    best = ranked[0].score
    return [c for c in ranked[:max_sentences] if c.score >= best - margin]


def _sentence(cand: Candidate) -> AnswerSentence:
    span = cand.span or (None, None)
    return AnswerSentence(text=cand.text, citation=cand.hit + 1, doc_id=cand.doc_id,
                          start=cand.start, end=cand.end, score=round(cand.score, 4),
                          span_start=span[0], span_end=span[1])


ANSWER_OPTIONS = frozenset({"method", "generator", "llm", "llm_model", "on_text",
                            "min_evidence", "confident_evidence", "max_sentences"})


def compose(question: str, hits: HitList, measured: Measured, *,
            method: str | Weights = DEFAULT_METHOD, generator: Generator | None = None,
            llm: LLM | None = None, on_text: OnText | None = None,
            check: CheckClaims | None = None, min_evidence: float = MIN_EVIDENCE,
            confident_evidence: float = CONFIDENT_EVIDENCE,
            max_sentences: int = 3) -> Answer:
    """Turn measured candidates into an ``Answer`` (or a declined one).

    With ``generator`` or ``llm`` the answer is written from the numbered passages;
    ``check`` (text, {n: Hit}) -> claims checks each written sentence against the
    passages it cites. An ``llm`` that fails leaves the extractive answer, with
    ``llm_error`` saying why."""
    if isinstance(max_sentences, bool) or not isinstance(max_sentences, int) or \
            max_sentences < 1:
        raise UsageError(f"max_sentences must be a whole number >= 1, not {max_sentences!r:.80}")
    for name, value in (("min_evidence", min_evidence),
                        ("confident_evidence", confident_evidence)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"{name} must be a number, not {value!r:.80}")
    for name, hook in (("generator", generator), ("on_text", on_text)):
        if hook is not None and not callable(hook):
            raise UsageError(f"{name} must be a function, not {hook!r:.80}")
    if generator is not None and llm is not None:
        raise UsageError("give a generator or an llm, not both")
    ranked = rank_candidates(measured, _weights(method))
    strength = evidence(measured, ranked)
    base: dict[str, Any] = {"question": question, "citations": hits,
                            "evidence": round(strength, 4)}
    if strength < min_evidence:
        return Answer(answer=None, confident=False, sentences=[], message=NO_ANSWER, **base)
    if generator is not None:
        return _generate(question, hits, ranked, generator(question, _numbered(hits)),
                         strength >= confident_evidence, base, check)
    extracted = _extract(measured, ranked, max_sentences, confident_evidence, base)
    if llm is None:
        return extracted
    try:
        text = complete(llm, question, _numbered(hits), on_text)
    except LLMError as exc:
        extracted.llm_error = str(exc)
        extracted.message = f"The language model gave no answer: {exc}. This is the " \
                            "extractive answer."
        return extracted
    return _generate(question, hits, ranked, text, strength >= confident_evidence, base,
                     check)


def _numbered(hits: HitList) -> dict[int, Hit]:
    return {i + 1: hit for i, hit in enumerate(hits)}


def _extract(measured: Measured, ranked: Sequence[Candidate], max_sentences: int,
             confident_evidence: float, base: dict[str, Any]) -> Answer:
    chosen = select_sentences(ranked, max_sentences=max_sentences)
    # The short answer is the span of the best chosen sentence that holds one of the
    # kind asked for; that sentence leads, as its evidence.
    lead = next((c for c in chosen if c.span is not None), None)
    short = None
    if lead is not None and lead.span is not None:
        chosen = [lead, *(c for c in chosen if c is not lead)]
        short = lead.text[lead.span[0] - lead.start:lead.span[1] - lead.start]
    sentences = [_sentence(c) for c in chosen]
    text = " ".join(f"{s.text} [{s.citation}]" for s in sentences)
    confident = lead is not None and \
        sentence_evidence(measured, lead) >= confident_evidence
    return Answer(answer=text, confident=confident, sentences=sentences,
                  short_answer=short, **base)


def check_citations(text: str, valid: set[int]) -> tuple[str, list[int], list[int]]:
    """Remove [n] markers with no passage n. Returns (text, cited, dropped)."""
    cited: list[int] = []
    dropped: list[int] = []

    def fix(match: re.Match[str]) -> str:
        numbers = cited_numbers(match)
        keep = [n for n in numbers if n in valid]
        dropped.extend(n for n in numbers if n not in valid and n not in dropped)
        cited.extend(n for n in keep if n not in cited)
        if not keep:
            return ""
        lead = match.group()[: len(match.group()) - len(match.group().lstrip())]
        return f"{lead}[{', '.join(map(str, keep))}]"

    return CITATION_MARKER.sub(fix, text).strip(), cited, dropped


def _generate(question: str, hits: HitList, ranked: Sequence[Candidate], text: object,
              strong: bool, base: dict[str, Any], check: CheckClaims | None) -> Answer:
    if not isinstance(text, str):
        raise UsageError(f"the generator must return text, not {type(text).__name__}")
    passages = _numbered(hits)
    cleaned, cited, dropped = check_citations(text, set(passages))
    if not cleaned:
        return Answer(answer=None, confident=False, sentences=[], message=NO_ANSWER,
                      dropped_citations=dropped, generated=True, **base)
    claims = check(cleaned, passages) if check is not None else []
    # Each cited passage's best sentence is shown as the evidence for the answer.
    best: dict[int, Candidate] = {}
    for cand in ranked:
        best.setdefault(cand.hit + 1, cand)
    sentences = [_sentence(best[n]) for n in cited if n in best]
    trusted = not any(c.status != "supported" for c in claims)
    return Answer(answer=cleaned, confident=strong and bool(cited) and not dropped and trusted,
                  sentences=sentences, dropped_citations=dropped, generated=True,
                  claims=claims, **base)


def answer_question(question: str, hits: HitList, *, embed: EmbedTexts | None,
                    frequencies: PassageFrequencies, n_passages: int,
                    **options: Any) -> Answer:
    """Measure the passages' sentences against ``question`` and compose the answer.

    ``options`` go to ``compose``: ``method``, ``generator``, ``llm`` (an ``LLM`` or an
    endpoint URL with ``llm_model``), ``on_text``, ``min_evidence``,
    ``confident_evidence``, ``max_sentences``. Written answers are checked claim by
    claim against the passages they cite.
    """
    unknown = set(options) - ANSWER_OPTIONS
    if unknown:
        raise UsageError(f"unknown option(s) for ask: {', '.join(sorted(unknown))}")
    llm = as_llm(options.pop("llm", None), options.pop("llm_model", None))
    if llm is not None and options.get("on_text") is None:
        options["on_text"] = notebook_stream()
    measured = measure(question, hits, embed=embed, frequencies=frequencies,
                       n_passages=n_passages)

    def check(text: str, passages: Mapping[int, Hit]) -> list[Claim]:
        return check_claims(text, passages, embed=embed, frequencies=frequencies,
                            n_passages=n_passages)

    return compose(question, hits, measured, llm=llm, check=check, **options)
