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
from dataclasses import dataclass, replace
from typing import Any

from ..errors import LLMError, UsageError
from ..markers import CITATION_MARKER, cited_numbers
from ..search.hits import Hit, HitList
from ..search.retrieval import check_whole
from .corpus import Corpus, EmbedTexts
from .evidence import context_evidence, evidence_parts, sentence_evidence, strength_of
from .llm import LLM, OnText, as_llm, complete
from .result import Answer, AnswerSentence
from .scoring import DEFAULT_METHOD, METHODS, Candidate, Measured, Weights, measure, rank_candidates
from .support import check_claims

Generator = Callable[[str, Mapping[int, Hit]], str]

# Below MIN_EVIDENCE the question is declined: chosen on pdf-dev, the sample questions and
# squad2, cross-validated (benchmarks/bench_declines.py, docs/answers.md). An answer is
# confident only when a span of the kind asked for sits in a sentence with
# CONFIDENT_EVIDENCE or more (calibrated on benchmarks/sample_questions.json).
MIN_EVIDENCE = 0.22
CONFIDENT_EVIDENCE = 0.50
MARGIN = 0.08  # further sentences must score within this of the best one
MAX_SENTENCES = 3
NO_ANSWER = "The collection holds no passage that answers this question."


def _weights(method: str | Weights) -> Weights:
    if isinstance(method, Weights):
        return method
    if not isinstance(method, str) or method not in METHODS:
        raise UsageError(f"method must be one of {', '.join(METHODS)}, not {method!r:.80}")
    return METHODS[method]


@dataclass(frozen=True, kw_only=True)
class AnswerOptions:
    """How an answer is chosen or written; ``AnswerOptions.of`` checks a caller's values.

    ``weights`` rank the candidate sentences (a method of ``scoring.METHODS``); below
    ``min_evidence`` the question is declined, and an answer is confident from
    ``confident_evidence``; at most ``max_sentences`` are taken. ``generator`` or ``llm``
    writes the answer instead, the ``llm``'s reply streamed to ``on_text``."""

    weights: Weights = METHODS[DEFAULT_METHOD]
    generator: Generator | None = None
    llm: LLM | None = None
    on_text: OnText | None = None
    min_evidence: float = MIN_EVIDENCE
    confident_evidence: float = CONFIDENT_EVIDENCE
    max_sentences: int = MAX_SENTENCES

    @classmethod
    def of(cls, *, method: str | Weights = DEFAULT_METHOD, generator: Generator | None = None,
           llm: LLM | str | None = None, llm_model: str | None = None,
           on_text: OnText | None = None, min_evidence: float = MIN_EVIDENCE,
           confident_evidence: float = CONFIDENT_EVIDENCE,
           max_sentences: int = MAX_SENTENCES, **unknown: Any) -> AnswerOptions:
        """The answer options of ``Collection.ask``, all checked here: ``method`` a name
        in ``METHODS`` or ``Weights``, ``llm`` an ``LLM`` or an endpoint's URL with
        ``llm_model``; any other name is a ``UsageError``."""
        if unknown:
            raise UsageError(f"unknown option(s) for ask: {', '.join(sorted(unknown))}")
        endpoint = as_llm(llm, llm_model)
        check_whole(max_sentences, "max_sentences", 1)
        for name, value in (("min_evidence", min_evidence),
                            ("confident_evidence", confident_evidence)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UsageError(f"{name} must be a number, not {value!r:.80}")
        for name, hook in (("generator", generator), ("on_text", on_text)):
            if hook is not None and not callable(hook):
                raise UsageError(f"{name} must be a function, not {hook!r:.80}")
        if generator is not None and endpoint is not None:
            raise UsageError("give a generator or an llm, not both")
        return cls(weights=_weights(method), generator=generator, llm=endpoint,
                   on_text=on_text, min_evidence=min_evidence,
                   confident_evidence=confident_evidence, max_sentences=max_sentences)


def select_sentences(ranked: Sequence[Candidate], *, max_sentences: int = MAX_SENTENCES,
                     margin: float = MARGIN) -> list[Candidate]:
    """The best sentence, and up to ``max_sentences - 1`` more that score nearly as well."""
    if not ranked:
        return []
    best = ranked[0].score
    return [c for c in ranked[:max_sentences] if c.score >= best - margin]


def _sentence(cand: Candidate, hits: HitList) -> AnswerSentence:
    """The sentence of ``cand``, on the pages its passage places it on."""
    span = cand.span or (None, None)
    page_start, page_end = hits[cand.hit].pages_for(cand.start, cand.end)
    label, label_end = hits[cand.hit].labels_for(cand.start, cand.end)
    return AnswerSentence(text=cand.text, citation=cand.hit + 1, doc_id=cand.doc_id,
                          start=cand.start, end=cand.end, score=round(cand.score, 4),
                          span_start=span[0], span_end=span[1], page_start=page_start,
                          page_end=page_end, page_label=label, page_label_end=label_end)


def compose(question: str, hits: HitList, measured: Measured,
            options: AnswerOptions | None = None, *, corpus: Corpus | None = None) -> Answer:
    """Turn measured candidates into an ``Answer`` (or a declined one).

    ``options`` default to ``AnswerOptions()``. With a ``generator`` or an ``llm`` there,
    the answer is written from the numbered passages, and with ``corpus`` each written
    sentence is checked against the passages it cites. An ``llm`` that fails leaves the
    extractive answer, with ``llm_error`` saying why."""
    options = options or AnswerOptions()
    ranked = rank_candidates(measured, options.weights)
    parts = evidence_parts(measured, ranked, corpus.embed if corpus is not None else None)
    strength = strength_of(parts)
    base: dict[str, Any] = {"question": question, "citations": hits,
                            "evidence": round(strength, 4),
                            "evidence_parts": {k: round(v, 4) if isinstance(v, float) else v
                                               for k, v in parts.items()},
                            "rerank_error": getattr(hits, "rerank_error", None)}
    if strength < options.min_evidence:
        return Answer(answer=None, confident=False, sentences=[], message=NO_ANSWER, **base)
    hits, measured, ranked = by_evidence(hits, measured, ranked)
    base["citations"] = hits
    strong = strength >= options.confident_evidence
    if options.generator is not None:
        return _generate(question, hits, ranked, options.generator(question, _numbered(hits)),
                         strong, base, corpus)
    extracted = _extract(hits, measured, ranked, options.max_sentences,
                         options.confident_evidence, base,
                         corpus.embed if corpus is not None else None)
    if options.llm is None:
        return extracted
    try:
        text = complete(options.llm, question, _numbered(hits), options.on_text)
    except LLMError as exc:
        extracted.llm_error = str(exc)
        extracted.message = f"The language model gave no answer: {exc}. This is the " \
                            "extractive answer."
        return extracted
    return _generate(question, hits, ranked, text, strong, base, corpus)


def by_evidence(hits: HitList, measured: Measured, ranked: Sequence[Candidate]
                ) -> tuple[HitList, Measured, list[Candidate]]:
    """The passages in the order of their best candidate's score (a passage with none
    last; ties by search's order), renumbered, so that citation [1] is the passage that
    best answers; with copies of the candidates (all and ranked) pointed at their
    passage's new place. What the caller passed in is left as it was."""
    best: dict[int, float] = {}
    for cand in ranked:
        best.setdefault(cand.hit, cand.score)
    order = sorted(range(len(hits)), key=lambda i: (i not in best, -best.get(i, 0.0), i))
    if order == list(range(len(hits))):
        return hits, measured, list(ranked)
    moved = []
    for rank, i in enumerate(order, start=1):
        hit = replace(hits[i], rank=rank)
        hit.page_breaks = hits[i].page_breaks  # not a field: replace() starts it empty
        moved.append(hit)
    place = {old: new for new, old in enumerate(order)}
    copies = {id(c): replace(c, hit=place[c.hit]) for c in measured.candidates}
    measured = replace(measured, candidates=list(copies.values()))
    ranked = [copies[id(c)] if id(c) in copies else replace(c, hit=place[c.hit])
              for c in ranked]
    out = HitList(moved, query=hits.query, mode=hits.mode)
    out.rerank_error = hits.rerank_error
    return out, measured, ranked


def _numbered(hits: HitList) -> dict[int, Hit]:
    return {i + 1: hit for i, hit in enumerate(hits)}


def _extract(hits: HitList, measured: Measured, ranked: Sequence[Candidate],
             max_sentences: int, confident_evidence: float, base: dict[str, Any],
             embed: EmbedTexts | None = None) -> Answer:
    chosen = select_sentences(ranked, max_sentences=max_sentences)
    # The short answer is the span of the best chosen sentence that holds one of the
    # kind asked for; that sentence leads, as its evidence.
    lead = next((c for c in chosen if c.span is not None), None)
    short = None
    if lead is not None and lead.span is not None:
        chosen = [lead, *(c for c in chosen if c is not lead)]
        short = lead.text[lead.span[0] - lead.start:lead.span[1] - lead.start]
    sentences = [_sentence(c, hits) for c in chosen]
    text = " ".join(f"{s.text} [{s.citation}]" for s in sentences)
    # Strong evidence: the sentence's own, or read with the sentence before it.
    confident = lead is not None and (
        sentence_evidence(measured, lead) >= confident_evidence
        or context_evidence(measured, lead, embed) >= confident_evidence)
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
              strong: bool, base: dict[str, Any], corpus: Corpus | None) -> Answer:
    if not isinstance(text, str):
        raise UsageError(f"the generator must return text, not {type(text).__name__}")
    passages = _numbered(hits)
    cleaned, cited, dropped = check_citations(text, set(passages))
    if not cleaned:
        return Answer(answer=None, confident=False, sentences=[], message=NO_ANSWER,
                      dropped_citations=dropped, generated=True, **base)
    claims = check_claims(cleaned, passages, corpus) if corpus is not None else []
    # Each cited passage's best sentence is shown as the evidence for the answer.
    best: dict[int, Candidate] = {}
    for cand in ranked:
        best.setdefault(cand.hit + 1, cand)
    sentences = [_sentence(best[n], hits) for n in cited if n in best]
    trusted = not any(c.status != "supported" for c in claims)
    return Answer(answer=cleaned, confident=strong and bool(cited) and not dropped and trusted,
                  sentences=sentences, dropped_citations=dropped, generated=True,
                  claims=claims, **base)


def answer_question(question: str, hits: HitList, corpus: Corpus,
                    options: AnswerOptions | None = None) -> Answer:
    """Measure the passages' sentences against ``question`` in ``corpus`` and compose the
    answer; a written one is checked claim by claim against the passages it cites."""
    return compose(question, hits, measure(question, hits, corpus), options, corpus=corpus)
