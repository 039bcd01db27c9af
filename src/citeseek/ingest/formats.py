"""The file formats citeseek reads, one entry each in ``FORMATS``: the name stored with
every document, the extensions a file of it is found by, its reader's version and the
reader itself. Discovery (which files are articles), reading (which reader a file goes
to), the manifest's reader versions and a build's check for files to read again are all
made from the table: a new format is a reader in ``readers`` and one entry here.

A file is found by its extension but read by its content where that is certain
(``reader_of``): PDF bytes under any name are read as a PDF, a whole HTML page saved as
``.txt`` or ``.md`` as HTML; a ``.pdf`` that holds no PDF is skipped, saying what it
holds."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .decoding import Unreadable
from .readers import (
    Read,
    html_documents,
    jsonl_documents,
    pdf_documents,
    plain_documents,
    text_of,
)
from .sources import Skipped, SourceFile


@dataclass(frozen=True)
class Format:
    """A file format and its reader.

    ``read(source, content)`` gives the file's documents and what it skipped; ``content``
    is the file's text when ``decodes_text`` (decoded, and never only whitespace), else
    its bytes. ``Unreadable`` from it skips the file with its message as the reason.
    ``version`` goes up when what the reader stores changes (better text, truer lines):
    a build then reads again every file of the format whose version the collection's
    manifest does not hold, bytes unchanged or not."""

    name: str
    extensions: tuple[str, ...]
    version: int
    read: Callable[[SourceFile, Any], Read]
    decodes_text: bool = True


# Versions 3 of txt, md and html: a PDF or an HTML page under their names is read by
# its content. PDF 2: printed page labels; 3: short pages keep their text, turned text
# is read. (A JSONL file holding a PDF never stored a document: every line of it is
# invalid JSON.)
FORMATS: dict[str, Format] = {fmt.name: fmt for fmt in (
    Format("txt", (".txt", ".text"), 3, partial(plain_documents, fmt="txt")),
    Format("md", (".md", ".markdown"), 3, partial(plain_documents, fmt="md")),
    Format("html", (".html", ".htm"), 3, html_documents),
    Format("jsonl", (".jsonl", ".ndjson"), 2, jsonl_documents, decodes_text=False),
    Format("pdf", (".pdf",), 3, pdf_documents, decodes_text=False),
)}
BY_EXTENSION = {ext: fmt for fmt in FORMATS.values() for ext in fmt.extensions}
# Written into every manifest. A manifest without them was written by readers of
# version 1.
READER_VERSIONS = {fmt.name: fmt.version for fmt in FORMATS.values()}


PDF_SIGNATURE = b"%PDF-"  # PDFium, like Acrobat, looks for it in the first 1,024 bytes
_HTML_PAGE = re.compile(r"\A\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*"
                        r"<(!doctype\s+html|html|head|body)[\s>]", re.I | re.S)
_PLAIN = ("txt", "md")  # formats whose files may be a page saved under a plain name


def format_of(path: Path) -> Format:
    """The format a file is found as (its extension, in any case)."""
    return BY_EXTENSION[path.suffix.lower()]


def reader_of(path: Path, data: bytes) -> Format:
    """The format a file is read as: a PDF when its bytes are one, HTML when a ``.txt``
    or ``.md`` file holds a whole HTML page (a doctype or an ``<html>``, ``<head>`` or
    ``<body>`` first), else its extension's."""
    found = format_of(path)
    if PDF_SIGNATURE in data[:1024]:
        return FORMATS["pdf"]
    if found.name in _PLAIN and _HTML_PAGE.match(_head(data)):
        return FORMATS["html"]
    return found


def read_by(path: Path, data: bytes) -> set[str]:
    """The formats whose readers a file's documents depend on: its extension's and its
    content's (a build reads the file again when either reader's version changed)."""
    return {format_of(path).name, reader_of(path, data).name}


def _head(data: bytes) -> str:
    """The start of a file as text, enough to tell an HTML page by: UTF-16 by its byte
    order mark, else as bytes of an ASCII-compatible encoding."""
    head = data[:2048]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head.decode("utf-16", "ignore")
    return head.removeprefix(codecs.BOM_UTF8).decode("latin-1")


def read_file(source: SourceFile, data: bytes) -> Read:
    """Parse one file's bytes into documents; problems come back as ``Skipped``. Whatever
    a parser raises on a hostile file costs that file only, never the build."""
    try:
        return _read_file(source, data)
    except Exception as exc:  # RecursionError and MemoryError's kin included
        return [], [Skipped(source.key, f"cannot be parsed ({type(exc).__name__}: "
                                        f"{str(exc)[:200]})")]


def _read_file(source: SourceFile, data: bytes) -> Read:
    if not data.strip():
        return [], [Skipped(source.key, "empty file")]
    fmt = reader_of(source.path, data)
    if fmt.name == "pdf" and PDF_SIGNATURE not in data[:1024]:
        held = ": it holds an HTML page" if _HTML_PAGE.match(_head(data)) else ""
        return [], [Skipped(source.key, f"not a PDF (no %PDF- header){held}")]
    try:
        content = text_of(data) if fmt.decodes_text else data
        return fmt.read(source, content)
    except Unreadable as exc:
        return [], [Skipped(source.key, str(exc))]
