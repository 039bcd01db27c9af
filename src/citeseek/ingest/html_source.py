"""An HTML page's visible body text as blocks, each character with the source line it
came from.

The page is read once with the standard library's tokenizer, which reports the exact
line of every piece of text (lxml reports only where an element starts, so the text
after a child element, or the words of a paragraph that runs over several lines, could
not be placed). Text inside ``<head>``, ``<script>``, ``<style>``, ``<template>``,
``<noscript>``, SVG and MathML, comments and elements hidden from the reader never
becomes a block. Entities are decoded and inline tags (``<a>``, ``<b>``, ``<span>``...)
join their text to the words around them, so neither moves a character off its line.
A block is the text between two block-level boundaries (a paragraph, a list item, a
heading, a table row, a ``<br>``), whitespace collapsed to single spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

BLOCK_TAGS = frozenset(
    ["address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "frameset", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "html", "legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul", "br"])
SKIP_TAGS = frozenset(
    ["head", "title", "script", "style", "template", "noscript", "svg", "math", "textarea", "select", "button", "iframe", "object", "canvas", "audio", "video"])
VOID_TAGS = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr"])
# An open element of these is closed by the start of another of the same group (HTML's
# implied end tags), unless a list or table was opened inside it since.
_SELF_CLOSING = {"p": {"p"}, "li": {"li"}, "dt": {"dt", "dd"}, "dd": {"dt", "dd"},
                 "tr": {"tr"}, "td": {"td", "th"}, "th": {"td", "th"}, "option": {"option"}}
CARD_LINKS = 0.8  # share of an inline card's text inside links
_CELLS = frozenset(("td", "th"))
_SCOPES = frozenset(["ul", "ol", "dl", "table", "tbody", "thead", "tfoot", "tr"])
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# References that decode to a line break (numeric, or HTML5's &NewLine;) would add a
# line the file does not have; they are read as spaces (same length in lines: none).
_NEWLINE_REF = re.compile(r"&#(?:0*1[03]|[xX]0*[aAdD]);?|&NewLine;")


@dataclass
class Element:
    """An element of the page: its tag, its parent's index, class and id."""

    tag: str
    parent: int
    cls: str = ""
    ident: str = ""


@dataclass
class Block:
    """A run of visible text between block boundaries: ``text`` with whitespace collapsed,
    ``lines[i]`` the 1-based source line of ``text[i]``."""

    element: int  # index of the innermost block-level element holding the text
    text: str
    lines: list[int]
    link_chars: int = 0  # characters (not spaces) inside <a> elements
    hrefs: list[str] = field(default_factory=list)  # where its links point
    words: int = field(default=0)

    @property
    def link_density(self) -> float:
        return self.link_chars / max(1, len(self.text) - self.text.count(" "))


@dataclass
class Page:
    """What a scan of an HTML page found: body blocks, elements, and head facts."""

    blocks: list[Block]
    elements: list[Element]
    meta: dict[str, str]  # lower-cased name/property -> content, first one wins
    canonical: str | None
    title: str | None
    base: str | None = None  # <base href>: what relative links are read against

    def ancestors(self, index: int) -> list[int]:
        """Indices of the element and its ancestors, innermost first."""
        out = []
        while index >= 0:
            out.append(index)
            index = self.elements[index].parent
        return out


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[tuple[str, int]] = []  # open (tag, element index)
        self.blocks: list[Block] = []
        self.skip = 0  # open elements whose text is not shown
        self.links = 0  # open <a> elements
        self.chars: list[str] = []
        self.char_lines: list[int] = []
        self.char_links: list[bool] = []  # inside an <a>
        self.link_starts: list[int] = []  # where each <a> of the block began
        self.hrefs: list[str] = []
        self.flushes = 0
        self.marks: dict[int, tuple[int, int, int]] = {}  # inline element -> where it began
        self.block_element = -1
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None
        self.base: str | None = None
        self.title: list[str] = []
        self.in_title = False

    # -- structure -------------------------------------------------------------------
    def _innermost_block(self) -> int:
        for tag, index in reversed(self.stack):
            if tag in BLOCK_TAGS:
                return index
        return -1

    def _flush(self) -> None:
        if self.chars:
            text, lines = _collapse(self.chars, self.char_lines)
            if text:
                links = sum(1 for ch, link in zip(self.chars, self.char_links, strict=True)
                            if link and not ch.isspace())
                self.blocks.append(Block(self.block_element, text, lines, links,
                                         self.hrefs))
        self.chars, self.char_lines, self.char_links, self.link_starts = [], [], [], []
        self.hrefs = []
        self.flushes += 1

    def _drop_card(self, index: int) -> None:
        """Remove what an inline element added to its paragraph when it is a card of
        links shown on hover (a person's recent articles inside a sentence): three or more
        links, nearly all of its text, after text of the paragraph's own."""
        flushes, start, first_link = self.marks.pop(index)
        if flushes != self.flushes or len(self.link_starts) - first_link < 3:
            return
        own = [link for ch, link in zip(self.chars[start:], self.char_links[start:],
                                        strict=True) if not ch.isspace()]
        before = any(not ch.isspace() for ch in self.chars[:start])
        if before and own and sum(own) >= CARD_LINKS * len(own):
            del self.chars[start:], self.char_lines[start:], self.char_links[start:]
            del self.link_starts[first_link:]

    def _leave(self, tag: str) -> None:
        if tag == "a":
            self.links = max(0, self.links - 1)
        if tag == "title":
            self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag in ("meta", "link", "base"):
            self._head_fact(tag, values)
        if tag == "body":  # whatever <head> left open ends here
            self._pop_to(next((i for i, (t, _) in enumerate(self.stack)
                              if t.startswith("head\0")),
                              len(self.stack)))
        if tag in BLOCK_TAGS:
            self._flush()
        elif tag in _CELLS and self.chars and not self.skip:  # cells of a row: one block
            self.chars.append(" ")
            self.char_lines.append(self.getpos()[0])
            self.char_links.append(False)
        if tag in VOID_TAGS:
            return
        closes = _SELF_CLOSING.get(tag)
        if closes:
            for i in range(len(self.stack) - 1, -1, -1):
                open_tag = self.stack[i][0]
                if open_tag in closes:
                    self._pop_to(i)
                    break
                if open_tag in _SCOPES or (tag == "p" and open_tag in BLOCK_TAGS):
                    break
        parent = self.stack[-1][1] if self.stack else -1
        self.elements.append(Element(tag, parent, values.get("class", ""),
                                     values.get("id", "")))
        self.stack.append((tag, len(self.elements) - 1))
        hidden = ("hidden" in values or values.get("aria-hidden", "").lower() == "true"
                  or bool(_HIDDEN_STYLE.search(values.get("style", ""))))
        if tag in SKIP_TAGS or hidden:
            self.skip += 1
            self.stack[-1] = (tag + "\0skip", self.stack[-1][1])
        if tag == "a":
            self.links += 1
            self.link_starts.append(len(self.chars))
            if not self.skip:
                self.hrefs.append(values.get("href", ""))
        elif tag not in BLOCK_TAGS:
            self.marks[len(self.elements) - 1] = (self.flushes, len(self.chars),
                                                  len(self.link_starts))
        if tag == "title" and not self.title and all(not t.startswith("svg") for t, _ in self.stack):
            self.in_title = True

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0].split("\0")[0] == tag:
                self._pop_to(i)
                return

    def _pop_to(self, position: int) -> None:
        """Close the open elements above ``position``."""
        while len(self.stack) > position:
            tag, index = self.stack.pop()
            name, _, skipped = tag.partition("\0")
            if name in BLOCK_TAGS:
                self._flush()
            elif index in self.marks:
                self._drop_card(index)
            if skipped:
                self.skip -= 1
            self._leave(name)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        if self.skip:
            return
        if not self.chars:
            self.block_element = self._innermost_block()
        line = self.getpos()[0]
        for ch in data:
            self.chars.append(ch)
            self.char_lines.append(line)
            if ch == "\n":
                line += 1
        self.char_links.extend([self.links > 0] * len(data))

    def _head_fact(self, tag: str, values: dict[str, str]) -> None:
        if tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.canonical = self.canonical or values.get("href") or None
        if tag == "base":
            self.base = self.base or values.get("href") or None
        if tag == "meta":
            key = (values.get("property") or values.get("name") or "").lower()
            if key and values.get("content"):
                self.meta.setdefault(key, values["content"])

    # the parser hands these over; none of them is visible text
    def handle_comment(self, data: str) -> None:
        return

    def handle_decl(self, decl: str) -> None:
        return

    def unknown_decl(self, data: str) -> None:
        return

    def handle_pi(self, data: str) -> None:
        return


def _collapse(chars: list[str], lines: list[int]) -> tuple[str, list[int]]:
    """Whitespace runs become one space (kept at the first space's line); the ends are
    trimmed."""
    out: list[str] = []
    out_lines: list[int] = []
    space = True  # drop leading whitespace
    for ch, line in zip(chars, lines, strict=True):
        if ch.isspace():
            if not space:
                out.append(" ")
                out_lines.append(line)
                space = True
            continue
        out.append(ch)
        out_lines.append(line)
        space = False
    if out and out[-1] == " ":
        out.pop()
        out_lines.pop()
    return "".join(out), out_lines


def scan(raw: str) -> Page:
    """Read an HTML page (decoded text) into its body blocks and head facts."""
    scanner = _Scanner()
    scanner.feed(_NEWLINE_REF.sub(" ", raw))
    scanner.close()
    scanner._pop_to(0)
    scanner._flush()
    title = " ".join("".join(scanner.title).split()) or None
    return Page(scanner.blocks, scanner.elements, scanner.meta, scanner.canonical, title,
                scanner.base)
