"""The collection an answer is measured against, and the word measures both stages of
answering share. ``Corpus`` is what answering needs from one generation: the embedding
model and how many passages hold each word, made once by the caller. Scoring candidate
sentences and checking written claims both weigh a text's words by their rarity in it
(IDF over passages) and match them by a crude ``stem``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..words import WORD, topic_words

EmbedTexts = Callable[[list[str]], np.ndarray]
PassageFrequencies = Callable[[list[str]], Mapping[str, int]]
FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


@dataclass(frozen=True)
class Corpus:
    """One generation as answering sees it. ``embed`` (texts -> normalized vectors) is
    None where no model is used, as in keyword search; ``frequencies`` says how many
    passages hold each word; ``n_passages`` is how many there are."""

    embed: EmbedTexts | None
    frequencies: PassageFrequencies
    n_passages: int

    def idf(self, words: Sequence[str],
            counts: Mapping[str, int] | None = None) -> dict[str, float]:
        """BM25-style IDF of each word; a word in no passage gets the highest weight.
        ``counts`` are the words' passage counts where the caller has them."""
        counts = self.frequencies(list(words)) if counts is None else counts
        n = max(self.n_passages, 1)
        return {w: math.log(1.0 + (n - counts.get(w, 0) + 0.5) / (counts.get(w, 0) + 0.5))
                for w in words}


def stem(word: str) -> str:
    """A crude stem for matching question words in sentences ("killed" ~ "killing")."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    for suffix in ("ing", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def question_words(question: str) -> list[str]:
    """The question's content words, lower-cased, without glue and question words (and
    without the "s" of a possessive: "CiteSee's" is "citesee")."""
    return list(dict.fromkeys(w.lower() for w in topic_words(_POSSESSIVE.sub("", question))))


def words_held(text: str, words: Iterable[str], *, figures: bool = False) -> set[str]:
    """Those of ``words`` that ``text`` holds, matched by stem. With ``figures`` (for a
    written claim, whose numbers must be in its passage) the numbers in ``text`` count as
    words, and a word also counts where ``text`` holds it as a stem of its own words."""
    have = {stem(w) for w in WORD.findall(text)}
    if figures:
        have |= set(FIGURE.findall(text))
    return {w for w in words if stem(w) in have or (figures and w in have)}


def weighted_share(weights: Mapping[str, float], held: set[str]) -> float:
    """The IDF-weighted share of the words of ``weights`` that are ``held``; 0.0 when
    no word has weight."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(wt for w, wt in weights.items() if w in held) / total
