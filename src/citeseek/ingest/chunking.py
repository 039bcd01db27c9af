"""``Document`` -> ``Chunk``s: sentence-aware passages sized by the model's tokenizer.

Offsets are exact: ``document.text[chunk.start:chunk.end] == chunk.text``. No chunk's
embedding text (title prefix included) exceeds the model's ``max_seq_length``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Protocol

from ..citation import Chunk
from ..config import Settings
from ..document import Document
from ..sentences import sentence_spans, trim_span

TITLE_TOKENS = 32  # a title prefix longer than this is cut for embedding
# A passage counted this far below the limit in context is not re-tokenized on its own:
# counts in context and alone differ by a token or two at most (a word cut at an edge).
RECOUNT_MARGIN = 8
# Characters tokenized at once: a whole 200 MB document would need about 150 bytes a
# character in the tokenizer's offsets; a window needs that much of its own size only.
WINDOW_CHARS = 200_000


class Tokenizer(Protocol):
    """What chunking needs from the embedding model."""

    @property
    def max_seq_length(self) -> int: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...


def embed_text_for(title: str | None, text: str, settings: Settings) -> str:
    """What the model sees for a passage: the title first when that is configured."""
    if settings.embed_title and title and not text.startswith(title):
        return f"{title}\n{text}"
    return text


def chunk_document(doc: Document, tokenizer: Tokenizer, settings: Settings) -> list[Chunk]:
    """Split ``doc`` into overlapping passages that fit the model."""
    return list(iter_chunks(doc, tokenizer, settings))


def iter_chunks(doc: Document, tokenizer: Tokenizer, settings: Settings, *,
                window: int = WINDOW_CHARS) -> Iterator[Chunk]:
    """``doc``'s passages, one at a time, read in windows of about ``window`` characters
    that end at a line break where they can: memory follows the window, not the
    document. A passage that reaches a window's end waits for the next window, and a
    window cut inside a line gives its last sentence back to the next one, so the
    passages are the ones a single window over the whole text gives."""
    limit = tokenizer.max_seq_length - 2  # [CLS] and [SEP]
    budget = min(settings.chunk_tokens or limit, limit)
    title, title_tokens = embedding_title(doc.title, tokenizer, settings)
    if title:
        budget -= title_tokens + 1
    budget = max(budget, min(16, limit))
    overlap = min(settings.overlap_tokens, budget // 2)
    # Tokens of an embedding text beside its passage's: title, separator, special tokens.
    extra = (title_tokens + 1 if title else 0) + 2
    units: list[tuple[int, int, int]] = []  # (start, end, tokens) not yet passed by
    ordinal, start = 0, 0
    while True:
        end = _window_end(doc.text, start, window)
        final = end >= len(doc.text)
        new = _units(doc.text, start, end, tokenizer, budget)
        following = end
        if not final and doc.text[end - 1] != "\n" and len(new) > 1:
            following = new.pop()[0]  # cut inside a line: that sentence may go on
        units.extend(new)
        i = 0
        while i < len(units):
            j, total = i, 0
            while j < len(units) and total + units[j][2] <= budget:
                total += units[j][2]
                j += 1
            if j == i:  # one unit over the budget (cut at token boundaries already)
                total, j = units[i][2], i + 1
            if j >= len(units) and not final:
                break  # this passage may go on in the next window
            chunk = _make_chunk(doc, ordinal, units[i][0], units[j - 1][1], title, settings)
            yield _fit(doc, chunk, tokenizer, title, settings, total + extra)
            ordinal += 1
            if j >= len(units):
                i = j
                break
            back, carried = j, 0  # carry whole trailing sentences into the next chunk
            while back - 1 > i and carried + units[back - 1][2] <= overlap:
                back -= 1
                carried += units[back][2]
            i = back if back < j else j
        units = units[i:]
        if final:
            return
        start = following


def _window_end(text: str, start: int, size: int) -> int:
    """The end of the window of about ``size`` characters from ``start``: after a line
    break where there is one in its second half, else after a space."""
    end = min(len(text), start + size)
    if end < len(text):
        cut = text.rfind("\n", start + size // 2, end)
        if cut == -1:
            cut = text.rfind(" ", start + size // 2, end)
        end = cut + 1 if cut != -1 else end
    return end


def _units(text: str, start: int, end: int, tokenizer: Tokenizer,
           budget: int) -> list[tuple[int, int, int]]:
    """The sentences of ``text[start:end]`` as (start, end, tokens), document offsets;
    a sentence over ``budget`` tokens is cut at token boundaries."""
    part = text[start:end]
    token_spans = [(s + start, e + start) for s, e in tokenizer.token_spans(part)]
    tok_starts = [s for s, _ in token_spans]
    tok_ends = [e for _, e in token_spans]
    units: list[tuple[int, int, int]] = []
    for s, e in sentence_spans(part):
        s, e = s + start, e + start
        n = max(0, bisect_right(tok_ends, e) - bisect_left(tok_starts, s))
        if n <= budget:
            units.append((s, e, n))
        else:
            units.extend(_split_long(s, e, token_spans, tok_starts, budget))
    return units


def embedding_title(title: str | None, tokenizer: Tokenizer,
                    settings: Settings) -> tuple[str | None, int]:
    """The part of ``title`` the model sees before each passage, and its tokens: at most
    ``TITLE_TOKENS`` and a quarter of what the model reads; (None, 0) when titles are
    not embedded. Chunking and embedding both use it, so the text a vector is made of
    is the text its cache key names."""
    if not settings.embed_title:
        return None, 0
    limit = tokenizer.max_seq_length - 2
    return _short_title(title, tokenizer, min(TITLE_TOKENS, limit // 4))


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
    page_start, page_end = doc.pages_for(start, end)
    label, label_end = doc.labels_for(start, end)
    return Chunk(doc_id=doc.doc_id, start=start, end=end, line_start=line_start,
                 line_end=line_end, page_start=page_start, page_end=page_end,
                 page_label=label, page_label_end=label_end, ord=ordinal,
                 text=text, embed_text=embed_text_for(title, text, settings))


def _fit(doc: Document, chunk: Chunk, tokenizer: Tokenizer, title: str | None,
         settings: Settings, estimate: int) -> Chunk:
    """``chunk``, shortened if the model would cut its embedding text.

    Counting in context and alone can differ by a token or two where a cut falls inside
    a word; this check makes the limit hold whatever the tokenizer does. Texts counted
    at least ``RECOUNT_MARGIN`` tokens below the limit are not tokenized again (that
    second pass was a third of a build's cost outside the model).
    """
    limit = tokenizer.max_seq_length
    if estimate + RECOUNT_MARGIN <= limit:
        return chunk
    while True:
        (n,) = tokenizer.count_tokens([chunk.embed_text])
        if n <= limit or chunk.end - chunk.start <= 1:
            return chunk
        cut = chunk.start + max(1, int((chunk.end - chunk.start) * 0.95))
        start, end = (trim_span(doc.text, chunk.start, cut) or [(chunk.start, cut)])[0]
        chunk = _make_chunk(doc, chunk.ord, start, end, title, settings)
