"""Is each sentence a language model wrote supported by the passages it cites?

A written answer is split into sentences ("claims"). A claim with ``[n]`` markers is
compared with the sentences of each passage it cites: its best cosine similarity in the
collection's embedding model, and the share of its rare words (weighted by IDF over the
collection's passages) that the passage holds, numbers included. It is supported when
some cited passage clears both bars; a claim that cites nothing is "uncited". A
paraphrase keeps both high; a made-up figure or name loses the rare-word share even
where the wording is close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..markers import CITATION_MARKER, cited_numbers
from ..search.hits import Hit
from ..sentences import sentence_spans
from ..words import WORD
from .corpus import FIGURE, Corpus, EmbedTexts, question_words, weighted_share, words_held

MIN_SIMILARITY = 0.45  # best cosine of the claim with a sentence of a cited passage
MIN_SHARED = 0.6  # IDF share of the claim's rare words the passage holds
MIN_CLAIM_WORDS = 4  # shorter pieces ("See [2].") are not claims of their own


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

    @property
    def supported(self) -> bool:
        return self.status == "supported"

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "citations": self.citations, "status": self.status,
                "similarity": None if self.similarity is None else round(self.similarity, 4),
                "shared": None if self.shared is None else round(self.shared, 4),
                "missing": self.missing}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        """The claim ``to_dict`` gave."""
        return cls(text=data["text"], citations=list(data.get("citations") or []),
                   status=data.get("status", "uncited"), similarity=data.get("similarity"),
                   shared=data.get("shared"), missing=list(data.get("missing") or []))


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


def check_claims(text: str, passages: Mapping[int, Hit], corpus: Corpus) -> list[Claim]:
    """Split ``text`` into claims and check each against the passages it cites.
    Without a model (the corpus's ``embed`` None) the rare-word share decides alone."""
    embed = corpus.embed
    claims = split_claims(text)
    for claim in claims:
        cited = [passages[n] for n in claim.citations if n in passages]
        if not cited:
            continue
        bare = CITATION_MARKER.sub("", claim.text)
        words = question_words(bare)
        words += [n for n in FIGURE.findall(bare) if n not in words]
        weights = corpus.idf(words)
        results = []
        for hit in cited:
            share, lacking = _shared(weights, hit.text)
            results.append((_similarity(bare, hit.text, embed), share, lacking))
        passing = [r for r in results
                   if (embed is None or r[0] >= MIN_SIMILARITY) and r[1] >= MIN_SHARED]
        sim, share, _ = max(passing or results, key=lambda r: r[0] + r[1])
        claim.similarity = sim if embed is not None else None
        claim.shared = share
        claim.missing = [w for w in weights if all(w in r[2] for r in results)]
        claim.status = "supported" if passing else "unsupported"
    return claims
