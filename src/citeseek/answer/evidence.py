"""How strongly the retrieved passages answer a question: the evidence that declining
compares with ``compose.MIN_EVIDENCE``, and what it is made of.

The evidence is the best sentence's similarity to the question (of the whole sentence or
its best stretch of words), discounted when the passages lack the question's rare words,
when the sentence speaks to few of them (``support``), when a date/count/sum asked for
is missing, when the question names something the collection never holds, and when
the sentence does not say the thing a "which/what X ...?" question asks for
(docs/answers.md, "Declining and confidence").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..words import topic_words
from .corpus import EmbedTexts, words_held
from .kinds import asked_for, asks_for_figure
from .scoring import Candidate, Measured

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
# dev sets, the fit keeps it, with the discounts above, at a threshold of 0.23
# (compose.MIN_EVIDENCE is 0.22; docs/answers.md, "Declining, cross-validated").
WITH_SUPPORT = True
MAX_SENTENCE_WORDS = 64  # the words of a sentence compared with the question's
# A long sentence is also read in stretches of WINDOW_WORDS words, every WINDOW_STEP words:
# its embedding blurs the clause a short question is about ("In October's virtual
# conference, Slovakian MEP Ivan Stefanec explicitly stated that ..." goes on for 48
# words), and evidence takes the better of the whole and its best stretch. Any length
# from 10 to 20 words does as well on the dev sets (docs/answers.md).
WINDOW_WORDS = 12
WINDOW_STEP = 4


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


def window_similarity(question: str, text: str, embed: EmbedTexts | None) -> float | None:
    """The best cosine of ``question`` with a stretch of ``WINDOW_WORDS`` words of
    ``text`` (one every ``WINDOW_STEP`` words, the last reaching its end). None without
    a model or for a text no longer than a stretch, where it would be the whole."""
    words = text.split()
    if embed is None or len(words) <= WINDOW_WORDS:
        return None
    starts = list(range(0, len(words) - WINDOW_WORDS, WINDOW_STEP))
    starts.append(len(words) - WINDOW_WORDS)
    vecs = embed([question, *(" ".join(words[i:i + WINDOW_WORDS]) for i in starts)])
    return float((vecs[1:] @ vecs[0]).max())


def evidence_parts(measured: Measured, ranked: Sequence[Candidate],
                   embed: EmbedTexts | None = None) -> dict[str, Any]:
    """What ``evidence`` is made of, for the best sentence of ``ranked``: its
    ``similarity`` to the question and that of its best stretch of words
    (``window_similarity``, None for a short sentence or without a model), the
    passages' ``coverage`` of the question's rare words, the sentence's ``support`` of
    them, whether a date/count/sum the question wants is missing from the ``KIND_LOOKS`` best sentences (``figure_missing``), the
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
            "window_similarity": window_similarity(measured.question, ranked[0].text, embed),
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
    """The evidence ``parts`` (``evidence_parts``) make: the similarity (of the sentence
    or its best stretch of words, the higher), discounted by up to half when the
    passages miss the question's rare words, times the support where
    ``with_support``, times ``kind_missing`` for a missing figure, ``absent_name`` for
    an absent name and ``asked_missing`` where the sentence says the thing asked for
    ("browser") below ``asked_min``."""
    if not parts:
        return 0.0
    # window_similarity is absent from parts saved before it, None for short sentences
    similarity = max(parts["similarity"], parts.get("window_similarity") or 0.0)
    strength = similarity * (0.5 + 0.5 * parts["coverage"])
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
