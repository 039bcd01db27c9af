"""What a word is, and which words carry no topic: the word pattern every stage splits
text with (keyword index, hashing embedder, HTML reader, answers), the stopwords and
the glue of how a question is asked."""

from __future__ import annotations

import re

WORD = re.compile(r"\w+", re.UNICODE)

# Question words and glue that carry no topic; the keyword index keeps them, queries,
# highlighting and answer scoring drop them.
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "could", "did",
     "do", "does", "for", "from", "had", "has", "have", "how", "i", "in", "into", "is", "it",
     "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "such", "than", "that",
     "the", "their", "them", "then", "there", "these", "they", "this", "those", "to", "was",
     "we", "were", "what", "when", "where", "which", "who", "whom", "why", "will", "with",
     "would", "you", "your"]
)
# Words that belong to how a question is asked ("how many", "what did X say"), not to
# what it is about.
QUESTION_GLUE = frozenset({"many", "much", "long", "did", "does", "say", "said", "tell",
                           "know"})


def topic_words(text: str) -> list[str]:
    """The words of ``text`` that say what it is about, in order, case kept: no
    stopwords and no question glue."""
    return [w for w in WORD.findall(text)
            if w.lower() not in STOPWORDS and w.lower() not in QUESTION_GLUE]
