"""Boilerplate removal for scraped articles.

Cleaning works on whole lines: a line is kept with every character intact or dropped
entirely, so every kept line still maps to a line of the source file. It also finds the
headline and a publication date stated near the top.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

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


@dataclass
class _Scan:
    """What cleaning has found so far, the lines read top to bottom."""

    lines: list[str]  # stripped
    drop: set[int] = field(default_factory=set)
    date: str | None = None
    title: str | None = None
    header_zone: bool = True  # until the first long paragraph
    in_related: bool = False  # inside a block of links to other articles
    seen_short: set[str] = field(default_factory=set)  # casefolded lines that are not prose

    def remove(self, i: int) -> bool:
        """Leave line ``i`` out; True, as a rule that removes a line has dealt with it."""
        self.drop.add(i)
        return True


# A rule looks at line ``i`` (its stripped text and word count) and answers True when it
# has dealt with the line: the rules after it do not see it.
Rule = Callable[[_Scan, int, str, int], bool]


def _related_block(scan: _Scan, i: int, text: str, words: int) -> bool:
    """In a block of related-article links every line goes, until a real paragraph."""
    if scan.in_related and words >= 30:
        scan.in_related = False  # a real paragraph after all
    return scan.in_related and scan.remove(i)


def _date_line(scan: _Scan, i: int, text: str, words: int) -> bool:
    """The first line near the top that is only a date is the article's date."""
    if scan.header_zone and scan.date is None and (found := parse_date(text)):
        scan.date = found
        return scan.remove(i)
    return False


def _first_line_title(scan: _Scan, i: int, text: str, words: int) -> bool:
    """Unscraped text: the first line of up to 30 words is the title; all is kept."""
    if scan.title is None and words <= 30:
        scan.title = text.lstrip("#").strip() or None
    return True


def _widget(scan: _Scan, i: int, text: str, words: int) -> bool:
    """"Back to top", "Advertisement", "Loading..." and image or slug file names."""
    return bool(_BACK_TO_TOP.match(text) or _WIDGET.match(text) or _is_file_name(text)) \
        and scan.remove(i)


def _related_heading(scan: _Scan, i: int, text: str, words: int) -> bool:
    """"Related articles", "Read more": the heading goes, and the links after it."""
    if _RELATED.match(text) and words <= 6:
        scan.in_related = True
        return scan.remove(i)
    return False


def _social(scan: _Scan, i: int, text: str, words: int) -> bool:
    """Short lines that point to social media or ask to share or subscribe."""
    return words <= 15 and bool(_SOCIAL.search(text)) and scan.remove(i)


def _byline(scan: _Scan, i: int, text: str, words: int) -> bool:
    """The byline label ("Written by") and the short line after it, the author's name."""
    if not _WRITTEN_BY.match(text):
        return False
    nxt = next((j for j in range(i + 1, len(scan.lines)) if scan.lines[j]), None)
    if nxt is not None and _words(scan.lines[nxt]) <= 5:
        scan.drop.add(nxt)
    return scan.remove(i)


def _breadcrumb(scan: _Scan, i: int, text: str, words: int) -> bool:
    """"Home › News › World" above the article."""
    return scan.header_zone and bool(_BREADCRUMB.match(text)) and scan.remove(i)


def _tag_line(scan: _Scan, i: int, text: str, words: int) -> bool:
    """A list of short tags above the article ("MEK, NCRI, IRGC, Khamenei")."""
    return scan.header_zone and _is_tag_line(text) and scan.remove(i)


def _repeat_or_headline(scan: _Scan, i: int, text: str, words: int) -> bool:
    """A short line seen before goes (the headline or a caption repeated); the first
    short line of 2 to 30 words near the top is the title. Prose is not looked at."""
    if words >= 12 and _SENTENCE_END.search(text):
        return False
    key = text.casefold()
    if key in scan.seen_short:
        return scan.remove(i)
    scan.seen_short.add(key)
    if scan.title is None and scan.header_zone and 2 <= words <= 30:
        scan.title = text.lstrip("#").strip()
    return True


def _end_of_header(scan: _Scan, i: int, text: str, words: int) -> bool:
    """The first paragraph of 30 words or more ends the header: no rule for the top of
    the page applies below it."""
    if words >= 30:
        scan.header_zone = False
    return True


# In order: for scraped web text, and for text that was not scraped.
SCRAPED_RULES: tuple[Rule, ...] = (
    _related_block, _date_line, _widget, _related_heading, _social, _byline, _breadcrumb,
    _tag_line, _repeat_or_headline, _end_of_header)
PLAIN_RULES: tuple[Rule, ...] = (_related_block, _date_line, _first_line_title)


def clean_lines(lines: list[str], *, scraped: bool = True) -> Cleaned:
    """Choose the lines of an article to keep and read its title and date.

    ``scraped`` turns on the web-scrape rules (``SCRAPED_RULES``: breadcrumbs, tag lines,
    related-article blocks, social footers); Markdown headings and plain paragraphs are
    always kept.
    """
    scan = _Scan([line.strip() for line in lines])
    rules = SCRAPED_RULES if scraped else PLAIN_RULES
    for i, text in enumerate(scan.lines):
        if not text or i in scan.drop:
            continue
        words = _words(text)
        for rule in rules:
            if rule(scan, i, text, words):
                break
    kept = [i for i in range(len(lines)) if i not in scan.drop]
    return Cleaned(kept=kept, title=scan.title, date=scan.date)
