"""Boilerplate removal for scraped articles.

Cleaning works on whole lines: a line is kept with every character intact or dropped
entirely, so every kept line still maps to a line of the source file. It also finds the
headline and a publication date stated near the top.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..dates import parse_date

_BREADCRUMB = re.compile(r"^Home(?:[A-Z]|\s+[›»>/|]|\s+[A-Z])")
_BACK_TO_TOP = re.compile(r"^back to top( button)?$", re.I)
_SOCIAL = re.compile(
    r"\b(twitter|facebook|youtube|instagram|telegram|whatsapp|linkedin|pinterest|tiktok|"
    r"follow (?:us|them|me)|share (?:this|on)|subscribe)\b",
    re.I,
)
_RELATED = re.compile(
    r"^(related (?:articles|posts|stories|news)|read (?:more|also)|you (?:may|might) also like|"
    r"more (?:from|stories)|recommended(?: for you)?|latest (?:news|articles|posts))\b.*$",
    re.I,
)
_WIDGET = re.compile(r"^(no feed found|advertisement|sponsored|loading\.\.\.|share this:?)\b", re.I)
_FILE_TOKEN = re.compile(r"^[\w./\-]+$")
_IMAGE_EXT = re.compile(r"\.(jpe?g|png|gif|webp|svg|avif)$", re.I)
_SENTENCE_END = re.compile(r"[.!?…:;\"”’)\]]$")
_WRITTEN_BY = re.compile(r"^(written by|by|author:?)$", re.I)


@dataclass
class Cleaned:
    """The result of cleaning: which source lines to keep, and header facts found."""

    kept: list[int]
    title: str | None
    date: str | None


def _is_file_name(text: str) -> bool:
    """Image names and slugs left by scrapers: one token with digits, '-' or '_'."""
    if " " in text or not _FILE_TOKEN.match(text):
        return False
    return bool(_IMAGE_EXT.search(text)) or (
        any(c.isdigit() for c in text) and ("-" in text or "_" in text)
    )


def _is_tag_line(text: str) -> bool:
    """A list of short tags such as 'MEK, NCRI, IRGC, Khamenei'."""
    if "," not in text or _SENTENCE_END.search(text):
        return False
    items = [i.strip() for i in text.split(",")]
    return len(items) >= 2 and all(0 < len(i.split()) <= 4 for i in items)


def _words(text: str) -> int:
    return len(text.split())


def clean_lines(lines: list[str], *, scraped: bool = True) -> Cleaned:
    """Choose the lines of an article to keep and read its title and date.

    ``scraped`` turns on the web-scrape rules (breadcrumbs, tag lines, related-article
    blocks, social footers); Markdown headings and plain paragraphs are always kept.
    """
    stripped = [line.strip() for line in lines]
    drop: set[int] = set()
    found_date: str | None = None
    header_zone = True  # until the first long paragraph
    seen_short: set[str] = set()
    in_related = False
    title: str | None = None

    for i, text in enumerate(stripped):
        if not text or i in drop:
            continue
        words = _words(text)
        is_prose = words >= 12 and bool(_SENTENCE_END.search(text))
        if in_related:
            if words >= 30:
                in_related = False  # a real paragraph after all
            else:
                drop.add(i)
                continue
        if header_zone and found_date is None and (d := parse_date(text)):
            found_date = d
            drop.add(i)
            continue
        if not scraped:
            if title is None and words <= 30:
                title = text.lstrip("#").strip() or None
            continue
        if _BACK_TO_TOP.match(text) or _WIDGET.match(text) or _is_file_name(text):
            drop.add(i)
            continue
        if _RELATED.match(text) and words <= 6:
            drop.add(i)
            in_related = True
            continue
        if words <= 15 and _SOCIAL.search(text):
            drop.add(i)
            continue
        if _WRITTEN_BY.match(text):
            drop.add(i)  # the byline label; the author's name follows it
            nxt = next((j for j in range(i + 1, len(stripped)) if stripped[j]), None)
            if nxt is not None and _words(stripped[nxt]) <= 5:
                drop.add(nxt)
            continue
        if header_zone:
            if _BREADCRUMB.match(text):
                drop.add(i)
                continue
            if _is_tag_line(text):
                drop.add(i)
                continue
        if not is_prose:
            key = text.casefold()
            if key in seen_short:
                drop.add(i)  # the headline or a caption repeated
                continue
            seen_short.add(key)
            if title is None and header_zone and 2 <= words <= 30:
                title = text.lstrip("#").strip()
        elif words >= 30:
            header_zone = False

    kept = [i for i in range(len(lines)) if i not in drop]
    return Cleaned(kept=kept, title=title, date=found_date)
