"""Candidate answer sentences from retrieved passages, and the measures that rank them.

Every candidate is a sentence of a retrieved passage, with exact offsets into its
document. Each gets a few measures, all in [0, 1] or close to it:

- ``similarity``: cosine of the sentence and the question in the embedding model;
- ``neighbours``: the same, blended with the sentences on either side;
- ``keywords``: the share of the question's words, weighted by rarity in the
  collection (IDF over passages), that the sentence holds;
- ``passage``: 1 / rank of the passage it came from;
- ``answer_type``: 1 when the question wants a number/date/name/quotation and the
  sentence holds one the question does not already say.

A method is a set of weights over these; ``benchmarks/bench_answers.py`` compares them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

from ..search.hits import Hit
from ..words import WORD, topic_words
from .corpus import Corpus, question_words, weighted_share, words_held
from .spans import common_words, find_span, known_places, question_type
from .units import answer_units

MIN_WORDS = 5  # shorter "sentences" are headlines, captions and bylines
MIN_MISSPELT = 6  # "Iran"/"Iraq", "Maria"/"Mario": shorter names one edit apart differ
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)", re.I)
# "American", "Slovakian", "Chinese", "Israeli": a passage often names the place instead
# ("US sanctions"), so a word of this shape is not taken for a name it must hold.
_DEMONYM = re.compile(r"[A-Z][a-z]{2,}(?:an|ese|ish|i)")


@dataclass(frozen=True, kw_only=True)
class Weights:
    """How much each measure counts in a candidate's score."""

    similarity: float = 0.0
    neighbours: float = 0.0
    keywords: float = 0.0
    passage: float = 0.0
    answer_type: float = 0.0

    def score(self, measures: Mapping[str, float]) -> float:
        return float(sum(getattr(self, f.name) * measures.get(f.name, 0.0)
                         for f in fields(self)))


# The methods measured side by side; "combined" is the default (see docs/answers.md).
METHODS: dict[str, Weights] = {
    "passage": Weights(passage=1.0, similarity=0.01),
    "similarity": Weights(similarity=1.0),
    "neighbours": Weights(neighbours=1.0),
    "keywords": Weights(keywords=1.0, similarity=0.01),
    "similarity+keywords": Weights(similarity=1.0, keywords=0.5),
    "combined": Weights(similarity=1.0, keywords=0.5, passage=0.3, answer_type=0.3),
}
DEFAULT_METHOD = "combined"


@dataclass
class Candidate:
    """One sentence of a retrieved passage. ``hit`` indexes the hit list (0-based);
    ``span`` is the answering part, in document offsets, where one was found."""

    hit: int
    doc_id: str
    start: int
    end: int
    text: str
    measures: dict[str, float] = field(default_factory=dict)
    span: tuple[int, int] | None = None
    score: float = 0.0


@dataclass
class Measured:
    """The candidates of one question, measured, and the question-level evidence."""

    question: str
    candidates: list[Candidate]
    coverage: float  # IDF share of the question's words found in any retrieved passage
    kind: str | None
    absent: list[str] = field(default_factory=list)  # the question's names no passage holds
    weights: dict[str, float] = field(default_factory=dict)  # IDF of the question's words


def split_candidates(hits: Sequence[Hit], *, min_words: int = MIN_WORDS) -> list[Candidate]:
    """The passages' answer units (``units``: sentences, a quotation or a list read
    whole, no headings) with document offsets; a unit that two overlapping passages
    share, or whose text comes again elsewhere (a repeated paragraph, a syndicated
    copy), is kept once, under the better-ranked passage."""
    seen: set[tuple[str, int, int]] = set()
    said: set[str] = set()
    out: list[Candidate] = []
    for i, hit in enumerate(hits):
        for s, e in answer_units(hit.text):
            key = (hit.doc_id, hit.start + s, hit.start + e)
            text = hit.text[s:e]
            words = " ".join(text.split()).casefold()
            if key in seen or words in said or len(WORD.findall(text)) < min_words:
                continue
            seen.add(key)
            said.add(words)
            out.append(Candidate(i, hit.doc_id, key[1], key[2], text))
    return out


def _overlap(text: str, weights: Mapping[str, float]) -> float:
    return weighted_share(weights, words_held(text, weights))


def measure(question: str, hits: Sequence[Hit], corpus: Corpus) -> Measured:
    """Split ``hits`` into candidate sentences and measure each against ``question``.

    The corpus's ``embed`` may be None, as in keyword-only search: the keyword share
    then stands in for similarity.
    """
    candidates = split_candidates(hits)
    words, names = question_words(question), question_names(question)
    counts = corpus.frequencies(list(dict.fromkeys(
        words + [form for forms in names.values() for form in forms])))
    weights = corpus.idf(words, counts)
    text = " ".join(h.text for h in hits)
    absent = [name for name, forms in names.items()
              if not any(counts.get(f) for f in forms) and not misspelt(name, text)]
    kind = question_type(question)
    places, common = known_places(text), common_words(text)
    if corpus.embed is not None and candidates:
        vecs = corpus.embed([question] + [c.text for c in candidates])
        sims = np.clip(vecs[1:] @ vecs[0], -1.0, 1.0)
    else:  # no model: the keyword share stands in for similarity
        sims = np.array([_overlap(c.text, weights) for c in candidates], dtype=np.float32)
    for i, cand in enumerate(candidates):
        prev_sim = sims[i - 1] if i > 0 and candidates[i - 1].hit == cand.hit else sims[i]
        next_sim = (sims[i + 1] if i + 1 < len(candidates)
                    and candidates[i + 1].hit == cand.hit else sims[i])
        local = find_span(cand.text, question, kind, places, common)
        cand.span = (cand.start + local[0], cand.start + local[1]) if local else None
        cand.measures = {
            "similarity": float(sims[i]),
            "neighbours": float(0.5 * sims[i] + 0.25 * (prev_sim + next_sim)),
            "keywords": _overlap(cand.text, weights),
            "passage": 1.0 / (cand.hit + 1),
            "answer_type": 1.0 if local else 0.0,
        }
    coverage = _overlap(" ".join(h.text for h in hits), weights)
    return Measured(question, candidates, coverage, kind, absent, weights)


def question_names(question: str) -> dict[str, list[str]]:
    """The names the question uses ("Southwest", "GDPR", "S2ORC"): capitalised past its
    first word, in capitals, or letters with figures (ordinals and words shaped like
    "American" aside), each with the lower-case forms a passage may hold it in
    ("COVID19" is held where the passages write "COVID-19": its letters count too)."""
    words = WORD.findall(question)
    first = words[0] if words else ""
    names = [w for w in topic_words(question) if len(w) > 1 and not _ORDINAL.fullmatch(w)
             and not _DEMONYM.fullmatch(w)
             and ((w[0].isupper() and w != first) or (w.isupper() and w.isalpha())
                  or (any(c.isdigit() for c in w) and any(c.isalpha() for c in w)))]
    return {w: list(dict.fromkeys([w.lower(), *(p.lower() for p in
                                               re.findall(r"[^\W\d_]{3,}", w))]))
            for w in dict.fromkeys(names)}


def one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter added, dropped, changed, or two neighbours
    swapped (Damerau-Levenshtein distance 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) < len(b):
        return a[i:] == b[i + 1:]
    swapped = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i]
    return a[i + 1:] == b[i + 1:] or (swapped and a[i + 2:] == b[i + 2:])


def misspelt(name: str, text: str) -> bool:
    """Whether ``text`` (the retrieved passages) spells ``name`` a little differently:
    one edit from a word of it ("Sigimund" for "Sigismund", "Novermber"), for names of
    MIN_MISSPELT letters or more, or two of its words run together ("UserDatagram").
    Such a name is the reader's spelling of one the passages hold, not an absent one."""
    key = name.casefold()
    words = [w.casefold() for w in WORD.findall(text)]
    if any(a + b == key for a, b in zip(words, words[1:], strict=False)):
        return True
    return len(key) >= MIN_MISSPELT and any(one_edit_apart(key, w) for w in set(words))


def rank_candidates(measured: Measured, weights: Weights) -> list[Candidate]:
    """Candidates scored with ``weights``, best first (ties: better passage, earlier)."""
    for cand in measured.candidates:
        cand.score = weights.score(cand.measures)
    return sorted(measured.candidates, key=lambda c: (-c.score, c.hit, c.start))
