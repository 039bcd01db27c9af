"""The file formats citeseek reads, one entry each in ``FORMATS``: the name stored with
every document, the extensions a file of it is found by, its reader's version and the
reader itself. Discovery (which files are articles), reading (which reader a file goes
to), the manifest's reader versions and a build's check for files to read again are all
made from the table: a new format is a reader in ``readers`` and one entry here."""

from __future__ import annotations

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


FORMATS: dict[str, Format] = {fmt.name: fmt for fmt in (
    Format("txt", (".txt", ".text"), 2, partial(plain_documents, fmt="txt")),
    Format("md", (".md", ".markdown"), 2, partial(plain_documents, fmt="md")),
    Format("html", (".html", ".htm"), 2, html_documents),
    Format("jsonl", (".jsonl", ".ndjson"), 2, jsonl_documents, decodes_text=False),
    Format("pdf", (".pdf",), 2, pdf_documents, decodes_text=False),
)}
BY_EXTENSION = {ext: fmt for fmt in FORMATS.values() for ext in fmt.extensions}
# Written into every manifest. A manifest without them was written by readers of
# version 1.
READER_VERSIONS = {fmt.name: fmt.version for fmt in FORMATS.values()}


def format_of(path: Path) -> Format:
    """The format of a file found by discovery (its extension, in any case)."""
    return BY_EXTENSION[path.suffix.lower()]


def read_file(source: SourceFile, data: bytes) -> Read:
    """Parse one file's bytes into documents; problems come back as ``Skipped``. Whatever
    a parser raises on a hostile file costs that file only, never the build."""
    try:
        return _read_file(source, data)
    except Exception as exc:  # RecursionError and MemoryError's kin included
        return [], [Skipped(source.key, f"cannot be parsed ({type(exc).__name__}: "
                                        f"{str(exc)[:200]})")]


def _read_file(source: SourceFile, data: bytes) -> Read:
    fmt = format_of(source.path)
    if not data.strip():
        return [], [Skipped(source.key, "empty file")]
    try:
        content = text_of(data) if fmt.decodes_text else data
        return fmt.read(source, content)
    except Unreadable as exc:
        return [], [Skipped(source.key, str(exc))]
