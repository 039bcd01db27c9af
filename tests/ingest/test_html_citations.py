"""HTML citations hold on real pages: every passage of every page in
``shared/eval/html-dev`` cites source lines that hold its first and last words, inside
``<body>``, and no more lines than that.

The check reads the file on its own terms, independently of the reader: comments,
``<head>``, scripts and styles removed, every other tag removed, entities decoded, line
breaks kept where they were. The cited range must contain the passage's first and last
characters (whitespace aside; up to 24 of them, within its first and last block), its first line must be where the passage begins and its
last line where it ends."""

from __future__ import annotations

import gzip
import html
import json
import re

from citeseek.config import Settings
from citeseek.embed.hashing import HashingEmbedder
from citeseek.ingest.chunking import chunk_document
from citeseek.ingest.formats import read_file
from citeseek.ingest.sources import SourceFile
from tests.helpers import SHARED, require_shared

HTML_DEV = SHARED / "eval" / "html-dev"
PAGES = sorted(HTML_DEV.glob("html/*.html.gz")) if HTML_DEV.exists() else []
EDGE = 24  # characters (whitespace aside) checked at each end of a passage

_HIDDEN = re.compile(r"<!--.*?-->|<head\b.*?</head\s*>|<script\b.*?</script\s*>|"
                     r"<style\b.*?</style\s*>", re.S | re.I)
_TAG = re.compile(r"</?[A-Za-z][^>]*>|<![^>]*>")


def _blank(match: re.Match[str]) -> str:
    return "\n" * match.group().count("\n")  # keep the line count


def visible_lines(raw: str) -> list[str]:
    """Each source line's visible text, whitespace removed: line ``n`` at index ``n-1``."""
    text = _TAG.sub(_blank, _HIDDEN.sub(_blank, raw))
    return ["".join(html.unescape(line).split()) for line in text.split("\n")]


def check_passage(lines: list[str], body_line: int, text: str, first: int,
                  last: int) -> str | None:
    """Why the cited range ``first``-``last`` is wrong for ``text``, or None."""
    if first < body_line or last < first:
        return f"lines {first}-{last} are not inside <body> (line {body_line})"
    # A passage's lines are blocks of the page (paragraphs, items), which need not be
    # next to each other in the file: its start is in its first, its end in its last.
    parts = [part for part in text.split("\n") if part.strip()]
    head = "".join(parts[0].split())[:EDGE]
    tail = "".join(parts[-1].split())[-EDGE:]
    cited = lines[first - 1:last]
    joined = "".join(cited)
    starts = [m.start() for m in re.finditer(re.escape(head), joined)]
    if not starts:
        return f"the passage's start {head!r} is not in lines {first}-{last}"
    if min(starts) >= len(cited[0]):
        return f"the passage does not start on line {first}"
    ends = [m.end() for m in re.finditer(f"(?={re.escape(tail)})", joined)]
    ends = [e + len(tail) for e in ends]
    if not ends:
        return f"the passage's end {tail!r} is not in lines {first}-{last}"
    if max(ends) <= len(joined) - len(cited[-1]):
        return f"the passage does not end on line {last}"
    return None


def test_every_passage_of_every_page_cites_its_own_lines() -> None:
    require_shared(HTML_DEV / "ground-truth.json")
    settings = Settings()
    tokenizer = HashingEmbedder(64, 64)
    truth = json.loads((HTML_DEV / "ground-truth.json").read_text(encoding="utf-8"))
    failures: list[str] = []
    passages = 0
    for path in PAGES:
        data = gzip.decompress(path.read_bytes())
        docs, skipped = read_file(SourceFile(path=path.with_suffix(""), doc_id=path.name),
                                  data)
        assert not skipped and len(docs) == 1, f"{path.name}: {skipped}"
        raw = data.decode("utf-8")
        lines = visible_lines(raw)
        body = re.search(r"<body[\s>]", raw, re.I)
        body_line = raw.count("\n", 0, body.start()) + 1 if body else 1
        for chunk in chunk_document(docs[0], tokenizer, settings):
            passages += 1
            problem = check_passage(lines, body_line, chunk.text, chunk.line_start,
                                    chunk.line_end)
            if problem:
                failures.append(f"{path.name} chars {chunk.start}-{chunk.end}: {problem}")
    assert len(truth) == len(PAGES) == 60
    assert passages > 1000
    assert not failures, f"{len(failures)} of {passages} passages:\n" + "\n".join(failures[:20])


def test_the_check_itself_catches_wrong_ranges() -> None:
    raw = ("<html><head><title>T</title>\n<meta content='Opening words here'>\n</head>\n"
           "<body>\n<p>Opening words of\nthe <b>para</b>graph &amp; more,\nand its end.</p>\n"
           "<script>var x = 'its end.';</script>\n</body></html>")
    lines = visible_lines(raw)
    text = "Opening words of the paragraph & more, and its end."
    assert check_passage(lines, 4, text, 5, 7) is None
    assert check_passage(lines, 4, text, 2, 7) is not None  # in <head>
    assert check_passage(lines, 4, text, 4, 7) is not None  # a line too early
    assert check_passage(lines, 4, text, 5, 8) is not None  # a line too late
    assert check_passage(lines, 4, text, 5, 6) is not None  # the end is not cited
    assert check_passage(lines, 4, text, 6, 7) is not None  # the start is not cited
