"""The citation record, declared once: ``Citation`` is a place in a document, which a
passage as chunking makes it (``Chunk``), a stored passage (``PassageRow``) and a search
result (``search.hits.Hit``) extend. The database's columns and the Ray engine's messages
are made from these declarations."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(kw_only=True)
class Citation:
    """A place in a document: ``text[start:end]`` of document ``doc_id``, on source lines
    ``line_start``-``line_end`` and, in a PDF, pages ``page_start``-``page_end`` (lines
    then count within the page; None elsewhere). ``page_label`` / ``page_label_end`` are
    the numbers printed on those pages ("iv", "231") where the PDF defines page labels,
    else None. Keyword-only: its fields are mostly
    numbers, too easily given in the wrong order.

    ``Chunk``, the stored ``PassageRow`` and ``Hit`` extend it; the database and the Ray
    engine take their fields from these declarations. A new field is two edits: a field
    here, and its column in ``storage.sql.CHUNK_COLUMNS`` (``added=True``, so that a
    database built before gains it)."""

    doc_id: str
    start: int
    end: int
    line_start: int
    line_end: int
    page_start: int | None = None
    page_end: int | None = None
    page_label: str | None = None
    page_label_end: str | None = None


@dataclass(kw_only=True)
class Chunk(Citation):
    """A passage as made: its place, its position ``ord``, its text and what is embedded."""

    ord: int
    text: str
    embed_text: str


@dataclass(kw_only=True)
class PassageRow(Citation):
    """A stored passage: its place and text with its document's citation fields, as
    ``GenerationDB.hit_columns`` selects them (each the passage's column of its name,
    else its document's)."""

    chunk_id: int
    text: str
    title: str | None
    date: str | None
    source: str
    url: str | None = None
