"""The citation record is declared once: ``Citation`` in ``document.py``. The passage
being made (``Chunk``), the row read back (``PassageRow``) and the search result
(``Hit``) extend it, the chunks table stores each of its fields in a column of its name,
and the Ray engine sends them by the same declarations; so a new field flows from the
reader to the hit with no other list to edit."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import citeseek
from citeseek.citation import Chunk, Citation, PassageRow
from citeseek.document import Document, SourceMap
from citeseek.engines.ray_worker import decode_documents, encode_documents
from citeseek.ingest.chunking import chunk_document
from citeseek.search.hits import CITATION_FIELDS, Hit, HitList
from citeseek.storage.database import LISTING, GenerationDB
from citeseek.storage.sql import ADDED_COLUMNS, CHUNK_COLUMNS

PLACE = [f.name for f in fields(Citation)]


def names(cls: type) -> list[str]:
    return [f.name for f in fields(cls)]


def table_columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_every_record_of_a_passage_extends_the_one_declaration(tmp_path: Path) -> None:
    for cls in (Chunk, PassageRow, Hit):
        assert issubclass(cls, Citation)
        assert names(cls)[:len(PLACE)] == PLACE  # the place fields, in declared order
    assert issubclass(Hit, PassageRow)
    assert set(PLACE) <= set(CITATION_FIELDS) == set(names(PassageRow)) - {"chunk_id", "text"}
    db = GenerationDB(tmp_path / "s.sqlite")
    chunks, documents = (table_columns(db.path, t) for t in ("chunks", "documents"))
    assert chunks == [c.name for c in CHUNK_COLUMNS]
    # every field a passage is made with is stored, but the text it is embedded as
    assert set(names(Chunk)) - set(chunks) == {"embed_text"}
    # every field of a stored row is a column of the passage's, or of its document's
    assert set(names(PassageRow)) <= set(chunks) | set(documents)
    assert set(names(Document)) <= set(documents)  # each document field is stored
    assert ADDED_COLUMNS["chunks"] == tuple(c for c in CHUNK_COLUMNS if c.added)
    assert set(LISTING) - {"chars", "chunks", "pages"} <= set(documents)


def test_each_place_field_reaches_the_stored_row_and_the_hit(tmp_path: Path,
                                                             build: Callable[..., Any]) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    text = ("Harbour notes\n\n" + "The harbour wall was rebuilt by the council. " * 40 +
            "\n\nThe lighthouse keeper counted the gulls on the pier.\n")
    (folder / "notes.txt").write_text(text, encoding="utf-8")
    col = build(folder, tmp_path / "store")
    doc = col.document("notes.txt")
    made = chunk_document(doc, col.embedder, col.settings)
    stored = col.passages()
    assert len(made) == len(stored) > 1
    for chunk, row in zip(made, stored, strict=True):
        assert {name: getattr(chunk, name) for name in PLACE} == \
            {name: row[name] for name in PLACE}
        assert row["text"] == chunk.text and row["title"] == doc.title
    hits = col.search("lighthouse keeper gulls", k=len(stored), mode="keyword")
    by_id = {row["chunk_id"]: row for row in stored}
    for hit in hits:
        assert {name: getattr(hit, name) for name in names(PassageRow)} == by_id[hit.chunk_id]
    again = HitList.from_dict(hits.to_dict())
    assert [h.to_dict() for h in again] == hits.to_dict()


def test_a_document_and_its_chunks_travel_to_the_ray_driver_whole(tmp_path: Path,
                                                                   fake: Any) -> None:
    smap = SourceMap.from_characters([1] * 11 + [2] * 9, pages=[1] * 15 + [2] * 5)
    doc = Document(doc_id="d.pdf", source="d.pdf", text="alpha beta\ngamma del",
                   title="A", date="2020-01-02", url="https://example.org/d", format="pdf",
                   file_key="d.pdf", source_map=smap)
    settings = citeseek.Settings()
    chunks = chunk_document(doc, fake, settings)
    assert (chunks[0].page_start, chunks[-1].page_end) == (1, 2)
    assert decode_documents(encode_documents([(doc, chunks)])) == [(doc, chunks)]


def test_a_hit_places_a_part_of_itself_on_its_pages() -> None:
    """Page breaks come from the source map: a page with no text (3) is skipped."""
    smap = SourceMap(offsets=[0, 10, 20, 30], lines=[1, 1, 1, 2], pages=[1, 2, 4, 4])
    assert smap.page_breaks(5, 35) == ((10, 2), (20, 4))
    assert smap.page_breaks(12, 18) == () and smap.page_breaks(0, 10) == ()
    hit = Hit(rank=1, score=1.0, chunk_id=1, doc_id="d", title=None, date=None, source="d",
              start=5, end=35, line_start=1, line_end=2, text="x" * 30, page_start=1,
              page_end=4)
    assert hit.pages_for(6, 9) == (1, 4)  # its breaks not known: its own pages
    hit.page_breaks = smap.page_breaks(hit.start, hit.end)
    assert hit.pages_for(6, 9) == (1, 1)
    assert hit.pages_for(6, 11) == (1, 2)
    assert hit.pages_for(10, 20) == (2, 2)
    assert hit.pages_for(15, 35) == (2, 4)
    assert hit.pages_for(25, 30) == (4, 4)
