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
from typing import Any

import numpy as np

from ..search.hits import Hit
from ..words import WORD, topic_words
from .corpus import Corpus, EmbedTexts, question_words, weighted_share, words_held
from .kinds import asked_for, asks_for_figure
from .spans import common_words, find_span, known_places, question_type
from .units import answer_units

MIN_WORDS = 5  # shorter "sentences" are headlines, captions and bylines
# Evidence is discounted when a question asks for a date, a count or a sum and none of the
# KIND_LOOKS best sentences holds one, and when it names something no passage of the
# collection holds. Chosen with the support measure by cross-validation over pdf-dev, the
# sample questions and squad2 (benchmarks/bench_declines.py; docs/answers.md): a missing
# figure is the stronger sign, 9 of the 10 dev questions it marks have no answer.
KIND_LOOKS = 3
KIND_MISSING = 0.3
ABSENT_NAME = 0.7
# And when the best sentence says the thing a "which/what/how many X ...?" question asks
# for (the "browser" of "Which browser did most participants use?") less well than
# ASKED_MIN (word_support: held, or the best cosine with one of its words).
ASKED_MISSING = 0.7
ASKED_MIN = 0.5
# Whether the sentence's support of all the question's words counts. Chosen on all three
# dev sets alone, the fit drops it at a threshold of 0.31, which sits on three of the
# sample's answerable questions and answers 44 of 50 on the bundled articles where
# weighing it (at 0.20) answers 47 (docs/answers.md, "Declining, cross-validated").
WITH_SUPPORT = True
MIN_MISSPELT = 6  # "Iran"/"Iraq", "Maria"/"Mario": shorter names one edit apart differ
MAX_SENTENCE_WORDS = 64  # the words of a sentence compared with the question's
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


def sentence_evidence(measured: Measured, cand: Candidate) -> float:
    """One sentence's evidence: its similarity, discounted as ``evidence`` is."""
    return float(cand.measures["similarity"] * (0.5 + 0.5 * measured.coverage))


def context_evidence(measured: Measured, cand: Candidate, embed: EmbedTexts | None) -> float:
    """One sentence's evidence read with the sentence before it in its passage ("The
    inspectors measured the wall. The largest movement they found was ..."): the better
    of its own similarity and that of the two together, discounted as ``evidence`` is."""
    own = sentence_evidence(measured, cand)
    before = [c for c in measured.candidates if c.hit == cand.hit and c.end <= cand.start]
    if embed is None or not before:
        return own
    window = f"{max(before, key=lambda c: c.end).text} {cand.text}"
    vecs = embed([measured.question, window])
    return max(own, float(vecs[1] @ vecs[0]) * (0.5 + 0.5 * measured.coverage))


def word_support(measured: Measured, cand: Candidate,
                 embed: EmbedTexts | None) -> dict[str, float] | None:
    """How well ``cand`` says each of the question's words: 1.0 for a word it holds (by
    stem), otherwise the word's best cosine (at least 0) with one of the sentence's
    words in the model ("killed" for "died" high, "crash" for "weather" low). None
    without a model, where nothing but the words held could be measured."""
    weights = measured.weights
    if embed is None:
        return None
    held = words_held(cand.text, weights)
    score = {w: 1.0 for w in weights if w in held}
    missing = [w for w in weights if w not in held]
    own = list(dict.fromkeys(w.lower() for w in topic_words(cand.text)))[:MAX_SENTENCE_WORDS]
    if missing and own:
        vecs = embed(missing + own)
        best = (vecs[: len(missing)] @ vecs[len(missing):].T).max(axis=1)
        score.update({w: max(float(b), 0.0) for w, b in zip(missing, best, strict=True)})
    return {w: score.get(w, 0.0) for w in weights}


def support(measured: Measured, cand: Candidate, embed: EmbedTexts | None,
            scores: Mapping[str, float] | None = None) -> float:
    """How much of the question ``cand`` speaks to: the mean of its ``word_support``
    over the question's words, weighted by rarity (``scores`` where the caller has
    them). 1.0 without a model."""
    weights = measured.weights
    total = sum(weights.values())
    scores = word_support(measured, cand, embed) if scores is None else scores
    if scores is None or total <= 0:
        return 1.0
    return float(sum(wt * scores[w] for w, wt in weights.items()) / total)


def evidence_parts(measured: Measured, ranked: Sequence[Candidate],
                   embed: EmbedTexts | None = None) -> dict[str, Any]:
    """What ``evidence`` is made of, for the best sentence of ``ranked``: its
    ``similarity`` to the question, the passages' ``coverage`` of the question's rare
    words, the sentence's ``support`` of them, whether a date/count/sum the question
    wants is missing from the ``KIND_LOOKS`` best sentences (``figure_missing``), the
    question's names that no passage holds (``absent_names``), and the word a
    "which/what/how many X ...?" question asks for (``asked``, ``kinds.asked_for``)
    with how well the sentence says it (``asked_support``; None without a model or such
    a word). Empty without candidates."""
    if not ranked:
        return {}
    scores = word_support(measured, ranked[0], embed)
    asked = asked_for(measured.question)
    asked_support = scores.get(asked) if scores is not None and asked else None
    return {"similarity": float(ranked[0].measures["similarity"]),
            "coverage": float(measured.coverage),
            "support": support(measured, ranked[0], embed, scores),
            "figure_missing": asks_for_figure(measured.question)
            and not any(c.span for c in ranked[:KIND_LOOKS]),
            "absent_names": list(measured.absent),
            "asked": asked if asked_support is not None else None,
            "asked_support": asked_support}


def strength_of(parts: Mapping[str, Any], *, with_support: bool = WITH_SUPPORT,
                kind_missing: float = KIND_MISSING, absent_name: float = ABSENT_NAME,
                asked_missing: float = ASKED_MISSING, asked_min: float = ASKED_MIN) -> float:
    """The evidence ``parts`` (``evidence_parts``) make: the similarity, discounted by up
    to half when the passages miss the question's rare words, times the support where
    ``with_support``, times ``kind_missing`` for a missing figure, ``absent_name`` for
    an absent name and ``asked_missing`` where the sentence says the thing asked for
    ("browser") below ``asked_min``."""
    if not parts:
        return 0.0
    strength = parts["similarity"] * (0.5 + 0.5 * parts["coverage"])
    if with_support:
        strength *= parts["support"]
    if parts["figure_missing"]:
        strength *= kind_missing
    if parts["absent_names"]:
        strength *= absent_name
    asked_support = parts.get("asked_support")  # absent from parts saved before it
    if asked_support is not None and asked_support < asked_min:
        strength *= asked_missing
    return float(strength)


def evidence(measured: Measured, ranked: Sequence[Candidate],
             embed: EmbedTexts | None = None) -> float:
    """How strongly the passages answer the question (``strength_of`` its
    ``evidence_parts``): a question about "centrifuges at Natanz" is not answered by
    passages about Iran that never name them, "How much does a licence cost?" not by
    sentences without a sum, "What was the weather at the crash site?" not by a sentence
    about the crash. Declining compares this with ``compose.MIN_EVIDENCE``."""
    return strength_of(evidence_parts(measured, ranked, embed))
