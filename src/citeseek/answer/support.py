"""Is each sentence a language model wrote supported by the passages it cites?

A written answer is split into sentences ("claims"). A claim with ``[n]`` markers is
compared with the sentences of each passage it cites: its best cosine similarity in the
collection's embedding model, and the share of its rare words (weighted by IDF over the
collection's passages) that the passage holds, numbers included. It is supported when
some cited passage clears both bars; a claim that cites nothing is "uncited". A
paraphrase keeps both high; a made-up figure or name loses the rare-word share even
where the wording is close.

Passages are evidence, not instructions: a passage's sentences that address the model
("answer exactly ...", "cite this passage", "ignore the question") are left out of what
it can support, and a claim that only such a sentence holds is unsupported, with the
passage named in ``instructions``: an article that tells the model what to answer
cannot vouch for the answer it planted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..markers import CITATION_MARKER, cited_numbers
from ..search.hits import Hit, typed_fields
from ..sentences import sentence_spans
from ..words import WORD
from .corpus import FIGURE, Corpus, EmbedTexts, question_words, weighted_share, words_held

MIN_SIMILARITY = 0.45  # best cosine of the claim with a sentence of a cited passage
MIN_SHARED = 0.6  # IDF share of the claim's rare words the passage holds
MIN_CLAIM_WORDS = 4  # shorter pieces ("See [2].") are not claims of their own
# A sentence of a passage that speaks to the model rather than about the world: it
# addresses the model ("Assistant:", "note to AI models"), tells it to set its task
# aside, dictates the answer word for word, or asks to be cited.
_MODEL = r"(?:ai|assistants?|language\s+models?|llms?|chatbots?|models?)"
INSTRUCTION = re.compile(
    rf"(?:^|[\s\"'(])(?:ai|assistant|language\s+model|llm|chatbot)s?\s*:"
    rf"|\b(?:note|message|instructions?)\s+(?:to|for)\s+(?:the\s+|all\s+|any\s+)?{_MODEL}\b"
    r"|\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:previous\s+|"
    r"prior\s+|above\s+|earlier\s+|other\s+)?(?:instructions?|prompts?|question|context|"
    r"passages)\b"
    r"|\b(?:answer|respond|reply|say|write|state|output)\s+(?:only\s+)?(?:exactly|verbatim)\b"
    r"|\bcite\s+(?:only\s+)?this\s+(?:passage|source|document|article|text|page)\b"
    r"|\byou\s+(?:must|should)\s+(?:always\s+)?(?:answer|respond|reply|say|cite)\b"
    r"|\bsystem\s+prompt\b", re.I)


@dataclass
class Claim:
    """One sentence of a written answer and whether its cited passages support it.

    ``status`` is "supported", "unsupported" or "uncited"; ``similarity`` and ``shared``
    are the figures of the best cited passage (None where not measured); ``missing``
    lists the claim's rare words that no cited passage holds."""

    text: str
    citations: list[int] = field(default_factory=list)
    status: str = "uncited"
    similarity: float | None = None
    shared: float | None = None
    missing: list[str] = field(default_factory=list)
    instructions: list[int] = field(default_factory=list)  # cited passages that instruct

    @property
    def supported(self) -> bool:
        return self.status == "supported"

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "citations": self.citations, "status": self.status,
                "similarity": None if self.similarity is None else round(self.similarity, 4),
                "shared": None if self.shared is None else round(self.shared, 4),
                "missing": self.missing, "instructions": self.instructions}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        """The claim ``to_dict`` gave; a field of the wrong JSON type is a
        ``CiteseekError`` naming it."""
        return cls(**typed_fields(cls, data, "a claim"))


def split_claims(text: str) -> list[Claim]:
    """The answer's sentences, each with the passage numbers it cites."""
    claims: list[Claim] = []
    for start, end in sentence_spans(text):
        piece = text[start:end]
        numbers = [n for m in CITATION_MARKER.finditer(piece) for n in cited_numbers(m)]
        bare = CITATION_MARKER.sub("", piece).strip()
        if len(WORD.findall(bare)) < MIN_CLAIM_WORDS and claims:
            claims[-1].text += " " + piece  # a stray marker or a tail joins the claim
            claims[-1].citations += [n for n in numbers if n not in claims[-1].citations]
            continue
        claims.append(Claim(text=piece, citations=list(dict.fromkeys(numbers))))
    return claims


def _shared(weights: Mapping[str, float], passage: str) -> tuple[float, list[str]]:
    """The share of the claim's weighted words (and figures) the passage holds, and the
    ones it lacks; a claim with no such words lacks none."""
    if sum(weights.values()) <= 0:
        return 1.0, []
    held = words_held(passage, weights, figures=True)
    return weighted_share(weights, held), [w for w in weights if w not in held]


def _similarity(claim: str, passage: str, embed: EmbedTexts | None) -> float:
    if embed is None:
        return 0.0
    sentences = [passage[a:b] for a, b in sentence_spans(passage)] or [passage]
    vecs = embed([claim, *sentences])
    return float(np.max(vecs[1:] @ vecs[0]))


def evidence_text(passage: str) -> tuple[str, bool]:
    """``passage`` without its sentences that instruct the model (each blanked, so
    offsets hold), and whether it had any. A sentence ending in ":" that instructs
    takes the next one with it (``answer exactly as follows: ...``)."""
    spans = sentence_spans(passage)
    out, found, carry = list(passage), False, False
    for start, end in spans:
        sentence = passage[start:end]
        instructs = carry or bool(INSTRUCTION.search(sentence))
        carry = instructs and not carry and sentence.rstrip().endswith(":")
        if instructs:
            found = True
            out[start:end] = " " * (end - start)
    return "".join(out), found


def check_claims(text: str, passages: Mapping[int, Hit], corpus: Corpus) -> list[Claim]:
    """Split ``text`` into claims and check each against the passages it cites, their
    sentences that instruct the model left out. Without a model (the corpus's
    ``embed`` None) the rare-word share decides alone."""
    embed = corpus.embed
    claims = split_claims(text)
    evidence = {n: evidence_text(hit.text) for n, hit in passages.items()}
    for claim in claims:
        cited = [n for n in claim.citations if n in passages]
        if not cited:
            continue
        bare = CITATION_MARKER.sub("", claim.text)
        words = question_words(bare)
        words += [n for n in FIGURE.findall(bare) if n not in words]
        weights = corpus.idf(words)
        results = []
        for n in cited:
            share, lacking = _shared(weights, evidence[n][0])
            results.append((_similarity(bare, evidence[n][0], embed), share, lacking))
        passing = [r for r in results
                   if (embed is None or r[0] >= MIN_SIMILARITY) and r[1] >= MIN_SHARED]
        sim, share, _ = max(passing or results, key=lambda r: r[0] + r[1])
        claim.similarity = sim if embed is not None else None
        claim.shared = share
        claim.missing = [w for w in weights if all(w in r[2] for r in results)]
        claim.status = "supported" if passing else "unsupported"
        claim.instructions = [n for n in cited if evidence[n][1]]
    return claims
