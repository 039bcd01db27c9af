"""HTML page -> article text whose every character knows its source line.

trafilatura decides which part of the page is the article; the text itself is taken
from the page's own blocks (``html_source``), so a citation's lines are where its words
are in the file. On top of trafilatura's choice, read at block level:

- a block repeated within the page is kept once (pages that carry the article twice, a
  paragraph printed again as a pull quote);
- short lists of links within the site (teasers, "more stories"), runs of timestamps,
  short sign-up boxes and a first block that repeats the title are left out;
- a body split by advertisements or embeds into sibling containers of the same kind is
  kept whole, and a quoted post (an embed's blockquote) inside the body is kept.

Title (without the site's name), date and URL (canonical link or ``og:url``) come from
the page's head; a relative URL is read against the page's base, and only an http(s)
URL is kept (never ``javascript:`` or ``data:``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from urllib.parse import urljoin, urlsplit

from ..dates import month_pattern, weekday_pattern
from ..words import WORD
from .html_source import Block, Page, scan

# The steps beyond trafilatura's choice; ``extract_article(raw, rules=...)`` leaves some
# out (the benchmark measures each).
RULES = frozenset({"headline", "repeats", "timestamps", "teasers", "sign-up", "siblings",
                   "quotes"})
COVERED = 0.5  # a block counts as chosen when this share of its words was extracted
LONG_REPEAT = 25  # words: a paragraph this long seen twice is a repeat
MENU_LINE = 40  # a page whose extracted lines are all shorter may be only a menu
LINK_WORDS = 30  # a block this short ...
LINK_SHARE = 0.75  # ... with this share of its text in links is a teaser
SIGN_UP_WORDS = 30  # a block this short that asks to subscribe is a sign-up box
SIBLING_LEVELS = 3  # how far above the article's container sibling containers are sought
GAP_WORDS = 5  # a quoted post this short is not kept
_TITLE_SEPARATOR = re.compile(r"\s+[|–—\-·»•:]{1,2}\s+")
_URL = re.compile(r"^\s*(https?://|www\.)\S+\s*$", re.I)
_SIGN_UP = re.compile(r"\b(newsletters?|subscribe|subscription|sign(ing)? up)\b", re.I)
# A word of a timestamp ("Updated 5 mins ago", "Fri 12 March 2021 10:00 GMT").
_TIME_WORD = re.compile(
    r"^(\d{1,4}|am|pm|a|p|m|ago|min|mins|minutes?|hours?|hrs?|h|days?|weeks?|"
    rf"{month_pattern()}|{weekday_pattern(full=False)}|updated|published|"
    r"posted|et|est|edt|pt|pst|pdt|gmt|utc|cet|bst)$", re.I)


@dataclass
class Article:
    """The article text of a page and, per character, the source line it came from."""

    text: str
    lines: list[int]
    title: str | None
    date: str | None
    url: str | None


def _words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def chosen_blocks(page: Page, extracted: str) -> list[int]:
    """Indices of the blocks that hold trafilatura's extracted text."""
    source: list[str] = []
    owner: list[int] = []
    for i, block in enumerate(page.blocks):
        words = _words(block.text)
        block.words = len(words)
        source.extend(words)
        owner.extend([i] * len(words))
    found = Counter[int]()
    matcher = SequenceMatcher(None, source, _words(extracted), autojunk=False)
    for a, _, size in matcher.get_matching_blocks():
        for j in range(a, a + size):
            found[owner[j]] += 1
    return [i for i, block in enumerate(page.blocks)
            if block.words and found[i] >= COVERED * block.words]


def _key(block: Block) -> str:
    return " ".join(_words(block.text))


def _is_timestamps(block: Block) -> bool:
    words = WORD.findall(block.text)
    return 0 < len(words) <= 16 and all(_TIME_WORD.match(w) for w in words)


def refine(page: Page, chosen: list[int], title: str | None = None,
           site: str | None = None, rules: frozenset[str] = RULES) -> list[int]:
    """Drop repeated passages, link lists, timestamp runs, sign-up boxes and a leading
    headline from the chosen blocks.

    A block seen before is a repeat when it is long (a paragraph printed twice) or when
    its neighbour is a repeat too (the article or a part of it carried again); a short
    line that recurs between new text (an interview's question) is kept. Timestamps
    are dropped in runs (a list of times), not alone (a live blog's time headings)."""
    keys = [_key(page.blocks[i]) for i in chosen]
    first: dict[str, int] = {}
    for n, key in enumerate(keys):
        first.setdefault(key, n)
    seen_before = [first[key] != n for n, key in enumerate(keys)]
    stamps = [_is_timestamps(page.blocks[i]) for i in chosen]

    def run(flags: list[bool], n: int) -> bool:
        return (n > 0 and flags[n - 1]) or (n + 1 < len(flags) and flags[n + 1])

    headline = " ".join(_words(title or "")) or None
    out: list[int] = []
    for n, i in enumerate(chosen):
        block = page.blocks[i]
        drop = {
            "headline": not out and keys[n] == headline,
            "repeats": seen_before[n] and (block.words >= LONG_REPEAT
                                           or run(seen_before, n)),
            "timestamps": stamps[n] and run(stamps, n),
            "teasers": _is_link(block, site),
            "sign-up": _is_sign_up(block),
        }
        if keys[n] and not any(hit and rule in rules for rule, hit in drop.items()):
            out.append(i)
    return out


def _is_link(block: Block, site: str | None) -> bool:
    """A teaser: a short block that is nearly all link text, pointing within the site
    (a link out, to a source or a shop, is the article's own; so is a bare address)."""
    if block.words > LINK_WORDS or block.link_density < LINK_SHARE or _URL.match(block.text):
        return False
    return any(_host(href) in (None, site) for href in block.hrefs)


def _host(href: str) -> str | None:
    """The host a link points to, without "www."; None for a link within the page's site
    (relative); "" for one that is not a web address (javascript:, mailto:)."""
    href = href.strip()
    if href.startswith("//"):
        href = "http:" + href
    parts = urlsplit(href)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return ""
    host = parts.hostname
    return host.removeprefix("www.") if host else None


def _is_sign_up(block: Block) -> bool:
    return block.words <= SIGN_UP_WORDS and bool(_SIGN_UP.search(block.text))


def merge_siblings(page: Page, chosen: list[int], site: str | None = None,
                   rules: frozenset[str] = RULES) -> list[int]:
    """Add the paragraphs of containers like the article's own that sit beside it: a
    body that advertisements or embeds split into several containers of one kind.

    The article's container is the element holding most chosen words; up to
    ``SIBLING_LEVELS`` levels above it, an element whose path down matches the
    container's (same tags and classes) holds more of the article, and its blocks of
    the chosen blocks' kind (tag) and depth, not link lists, join it."""
    if not chosen:
        return chosen
    weight = Counter[int]()
    for i in chosen:
        weight[page.blocks[i].element] += page.blocks[i].words
    tags = Counter(page.elements[page.blocks[i].element].tag for i in chosen)
    kind = tags.most_common(1)[0][0]
    holders = Counter[int]()
    for element, words in weight.items():
        holders[page.elements[element].parent] += words
    container = holders.most_common(1)[0][0]
    if container < 0:
        return chosen
    path = page.ancestors(container)
    children: dict[int, list[int]] = {}
    for index, node in enumerate(page.elements):
        children.setdefault(node.parent, []).append(index)

    def signature(index: int) -> tuple[str, str]:
        return page.elements[index].tag, page.elements[index].cls

    extra: set[int] = set()
    for level in range(1, min(SIBLING_LEVELS, len(path) - 1) + 1 if "siblings" in rules
                       else 1):
        top = path[level]
        want = [signature(e) for e in reversed(path[:level])]  # below ``top``, downwards
        for match in _follow(children, top, want, signature):
            if match == container:
                continue
            for i, block in enumerate(page.blocks):
                holder = page.elements[block.element]
                if (holder.parent == match and holder.tag == kind
                        and not _is_link(block, site) and not _is_sign_up(block)):
                    extra.add(i)
        if extra:
            break
    # Inside the container, between the first and the last chosen block: a quoted post
    # (an embed's blockquote) that the extractor passed over.
    for i in range(chosen[0] + 1, chosen[-1] if "quotes" in rules else 0):
        block = page.blocks[i]
        around = page.ancestors(block.element)
        if (container in around and block.words >= GAP_WORDS
                and any(page.elements[e].tag == "blockquote" for e in around)
                and not _is_link(block, site) and not _is_sign_up(block)):
            extra.add(i)
    return sorted(set(chosen) | extra)


def _follow(children: dict[int, list[int]], top: int, want: list[tuple[str, str]],
            signature: Callable[[int], tuple[str, str]]) -> list[int]:
    """Elements reached from ``top`` by children whose signatures are ``want``."""
    level = [top]
    for sig in want:
        level = [c for e in level for c in children.get(e, []) if signature(c) == sig]
    return level


def page_title(title: str | None, site_names: list[str]) -> str | None:
    """The title without the site's name: "Headline – TechCrunch", "Site | Headline" and
    "Headline - Site - Its slogan" give "Headline". A part is the site's name when,
    letters and digits only, it matches one of ``site_names`` (og:site_name, the host)."""
    if not title:
        return None
    title = " ".join(title.split())
    parts = _TITLE_SEPARATOR.split(title)
    names = {_squash(name) for name in site_names if _squash(name)}

    def is_site(part: str) -> bool:
        squashed = _squash(part)
        return bool(squashed) and any(squashed == n or (len(squashed) >= 4 and (
            squashed in n or n in squashed)) for n in names)

    if len(parts) < 2:
        return title
    cut = next((n for n in range(1, len(parts)) if is_site(parts[n])), len(parts))
    kept = parts[:cut]
    if len(kept) > 1 and is_site(kept[0]):
        kept = kept[1:]
    if kept == parts:
        return title
    # Cut at the separators found in the title, so the kept text is the title's own.
    start = title.index(kept[0])
    end = title.index(kept[-1], start) + len(kept[-1])
    return title[start:end].strip() or title


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def web_url(href: str | None, base: str | None = None) -> str | None:
    """``href`` read against ``base``, when that makes an http(s) URL with a host; None
    for anything else (``javascript:``, ``data:``, a relative link with no base)."""
    if not href or not href.strip():
        return None
    try:
        url = urljoin(base, href.strip()) if base else href.strip()
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def page_url(page: Page, found: str | None) -> str | None:
    """The page's URL: its canonical link (or ``og:url``) read against its base (its
    ``<base href>``, else the URL trafilatura found), else that URL; http(s) only."""
    base = web_url(page.base) or web_url(found)
    for href in (page.canonical, page.meta.get("og:url")):
        url = web_url(href, base)
        if url:
            return url
    return base


def extract_article(raw: str, rules: frozenset[str] = RULES) -> Article | None:
    """The article of an HTML page, or None when the page holds none. ``rules`` names
    the steps taken beyond trafilatura's choice (all of ``RULES``; fewer to measure
    what each adds)."""
    import trafilatura

    page = scan(raw)
    extracted = trafilatura.extract(raw, include_comments=False, include_tables=True)
    if not extracted or not extracted.strip():
        return None
    if max(len(line.strip()) for line in extracted.split("\n")) < MENU_LINE:
        # Only short lines: trafilatura's fallback returns a page's menu when there is
        # no article; its precise mode says whether anything else is there.
        precise = trafilatura.extract(raw, include_comments=False, include_tables=True,
                                      favor_precision=True)
        if not precise or not precise.strip():
            return None
    meta = trafilatura.extract_metadata(raw)
    url = page_url(page, meta.url if meta else None)
    site = _host(url) if url else None
    names = [page.meta.get("og:site_name", ""), meta.sitename if meta else "",
             *(site.split(".")[:-1] if site else [])]
    title = page_title(meta.title if meta and meta.title else page.title,
                       [n for n in names if n])
    chosen = refine(page, merge_siblings(page, chosen_blocks(page, extracted), site, rules),
                    title, site, rules)
    if not chosen:
        return None
    parts: list[str] = []
    lines: list[int] = []
    for i in chosen:
        block = page.blocks[i]
        if parts:
            parts.append("\n")
            lines.append(lines[-1])
        parts.append(block.text)
        lines.extend(block.lines)
    return Article("".join(parts), lines, title,
                   str(meta.date) if meta and meta.date else None,
                   url)
