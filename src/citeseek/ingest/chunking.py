"""``Document`` -> ``Chunk``s: sentence-aware passages sized by the model's tokenizer.

Offsets are exact: ``document.text[chunk.start:chunk.end] == chunk.text``. No chunk's
embedding text (title prefix included) exceeds the model's ``max_seq_length``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Protocol

from ..config import Settings
from ..document import Document
from ..text import sentence_spans, trim_span

TITLE_TOKENS = 32  # a title prefix longer than this is cut for embedding
# A passage counted this far below the limit in context is not re-tokenized on its own:
# counts in context and alone differ by a token or two at most (a word cut at an edge).
RECOUNT_MARGIN = 8
class Tokenizer(Protocol):
    """What chunking needs from the embedding model."""

    @property
    def max_seq_length(self) -> int: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...


@dataclass
class Chunk:
    """A passage of a document, with its exact place and the text the model embeds."""

    doc_id: str
    ord: int
    start: int
    end: int
    line_start: int
    line_end: int
    text: str
    embed_text: str
    page_start: int | None = None  # PDF pages (1-based) the passage spans; None elsewhere
    page_end: int | None = None


def embed_text_for(title: str | None, text: str, settings: Settings) -> str:
    """What the model sees for a passage: the title first when that is configured."""
    if settings.embed_title and title and not text.startswith(title):
        return f"{title}\n{text}"
    return text


def chunk_document(doc: Document, tokenizer: Tokenizer, settings: Settings) -> list[Chunk]:
    """Split ``doc`` into overlapping passages that fit the model."""
    limit = tokenizer.max_seq_length - 2  # [CLS] and [SEP]
    budget = min(settings.chunk_tokens or limit, limit)
    title, title_tokens = _short_title(doc.title, tokenizer, min(TITLE_TOKENS, limit // 4)) \
        if settings.embed_title else (None, 0)
    if title:
        budget -= title_tokens + 1
    budget = max(budget, min(16, limit))
    overlap = min(settings.overlap_tokens, budget // 2)

    token_spans = tokenizer.token_spans(doc.text)
    tok_starts = [s for s, _ in token_spans]
    tok_ends = [e for _, e in token_spans]

    def count(start: int, end: int) -> int:
        return max(0, bisect_right(tok_ends, end) - bisect_left(tok_starts, start))

    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for s, e in sentence_spans(doc.text):
        n = count(s, e)
        if n <= budget:
            units.append((s, e, n))
        else:
            units.extend(_split_long(s, e, token_spans, tok_starts, budget))

    groups: list[tuple[int, int]] = []  # index ranges into units
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and total + units[j][2] <= budget:
            total += units[j][2]
            j += 1
        j = max(j, i + 1)
        groups.append((i, j))
        if j >= len(units):
            break
        back, carried = j, 0  # carry whole trailing sentences into the next chunk
        while back - 1 > i and carried + units[back - 1][2] <= overlap:
            back -= 1
            carried += units[back][2]
        i = back if back < j else j

    chunks = [
        _make_chunk(doc, n, units[a][0], units[b - 1][1], title, settings)
        for n, (a, b) in enumerate(groups)
    ]
    # Tokens of each embedding text as counted in context: passage, title, separator, and
    # the two special tokens.
    estimates = [sum(u[2] for u in units[a:b]) + (title_tokens + 1 if title else 0) + 2
                 for a, b in groups]
    return _enforce_limit(doc, chunks, tokenizer, title, settings, estimates)


def _short_title(title: str | None, tokenizer: Tokenizer,
                 max_tokens: int) -> tuple[str | None, int]:
    """The title cut to ``max_tokens`` tokens, and its token count."""
    if not title or max_tokens <= 0:
        return None, 0
    spans = tokenizer.token_spans(title)
    if not spans:
        return None, 0
    if len(spans) > max_tokens:
        return title[: spans[max_tokens - 1][1]], max_tokens
    return title, len(spans)


def _split_long(start: int, end: int, spans: list[tuple[int, int]], tok_starts: list[int],
                budget: int) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence at token boundaries, preferring gaps between words."""
    first = bisect_left(tok_starts, start)
    last = bisect_left(tok_starts, end)
    pieces = []
    i = first
    while i < last:
        j = min(i + budget, last)
        if j < last:
            k = j
            while k > i + budget // 2 and spans[k][0] == spans[k - 1][1]:
                k -= 1  # step back out of the middle of a word
            j = k if spans[k][0] != spans[k - 1][1] else j
        s = start if i == first else spans[i][0]
        e = end if j == last else spans[j - 1][1]
        pieces.append((s, e, j - i))
        i = j
    return pieces


def _make_chunk(doc: Document, ordinal: int, start: int, end: int, title: str | None,
                settings: Settings) -> Chunk:
    text = doc.text[start:end]
    line_start, line_end = doc.lines_for(start, end)
    return Chunk(doc.doc_id, ordinal, start, end, line_start, line_end, text,
                 embed_text_for(title, text, settings), *doc.pages_for(start, end))


def _enforce_limit(doc: Document, chunks: list[Chunk], tokenizer: Tokenizer,
                   title: str | None, settings: Settings,
                   estimates: list[int]) -> list[Chunk]:
    """Re-count each embedding text near the limit on its own and shorten any that the
    model would cut.

    Counting in context and alone can differ by a token or two where a cut falls inside
    a word; this check makes the limit hold whatever the tokenizer does. Texts counted
    at least ``RECOUNT_MARGIN`` tokens below the limit are not tokenized again (that
    second pass was a third of a build's cost outside the model).
    """
    limit = tokenizer.max_seq_length
    out = []
    for chunk, estimate in zip(chunks, estimates, strict=True):
        if estimate + RECOUNT_MARGIN <= limit:
            out.append(chunk)
            continue
        while True:
            (n,) = tokenizer.count_tokens([chunk.embed_text])
            if n <= limit or chunk.end - chunk.start <= 1:
                break
            cut = chunk.start + max(1, int((chunk.end - chunk.start) * 0.95))
            start, end = (trim_span(doc.text, chunk.start, cut) or [(chunk.start, cut)])[0]
            chunk = _make_chunk(doc, chunk.ord, start, end, title, settings)
        out.append(chunk)
    return out
