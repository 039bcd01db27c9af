"""Files, documents and passages of a generation's store, over all its levels: what a
build records and removes (in the top level; a row of a lower level is hidden, not
deleted) and what readers list and cite (the visible rows of every level)."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from ..citation import Chunk, PassageRow
from ..document import Document, SourceMap
from ..errors import UsageError
from .levels import Level
from .sql import CHUNK_COLUMNS, in_batches

if TYPE_CHECKING:
    import numpy as np

    from .embedding_cache import EmbeddingCache
    from .tantivy_index import TantivyWriter

# The columns of a passage that a ``Chunk`` gives (the INSERT adds its id and hash).
_STORED = tuple(c.name for c in CHUNK_COLUMNS if c.name in {f.name for f in fields(Chunk)})
_INSERT_CHUNK = "INSERT INTO main.chunks(chunk_id, embed_hash, {}) VALUES ({})".format(
    ", ".join(f'"{name}"' for name in _STORED), ",".join("?" * (len(_STORED) + 2)))
# What ``documents()`` lists of each document (and ``Collection.to_pandas`` shows):
# fields of the document, then its size, its passages and the last page they reach.
LISTING = ("doc_id", "title", "date", "source", "url", "chars", "chunks", "pages")
# A row's fields, its id first (as ``passages()`` lists them).
_ROW = ("chunk_id", *(f.name for f in fields(PassageRow) if f.name != "chunk_id"))


class Records:
    """The files, documents and passages of a ``GenerationDB`` (which gives the
    connection, the levels and how to read them all in one statement)."""

    levels: list[Level]
    keyword_writer: TantivyWriter | None
    embeddings: EmbeddingCache

    @property
    def conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def columns(self, table: str) -> set[str]:
        raise NotImplementedError

    def union(self, part: Callable[[Level], str], levels: Sequence[Level] | None = None,
              ) -> str:
        raise NotImplementedError

    def params(self, values: Sequence[Any], levels: Sequence[Level] | None = None,
               ) -> list[Any]:
        raise NotImplementedError

    def _optional(self, alias: str, table: str, column: str) -> str:
        """``alias.column``, or NULL where this database is older than the column."""
        return f'{alias}."{column}"' if column in self.columns(table) else "NULL"

    @property
    def hit_columns(self) -> str:
        """The ``PassageRow`` columns of a passage joined with its document (``c``, ``d``)."""
        in_chunks = {c.name for c in CHUNK_COLUMNS}
        return ", ".join(self._optional("c", "chunks", name) if name in in_chunks
                         else self._optional("d", "documents", name) for name in _ROW)

    def _passages_where(self, where: str, extra: str = "") -> str:
        """Visible passages joined with their documents, ``where`` holding (``?`` marks
        repeat per level), with ``hit_columns`` and ``extra`` columns."""
        return self.union(lambda lv: (
            f"SELECT {self.hit_columns}{extra} FROM {lv.schema}.chunks c JOIN "
            f"{lv.schema}.documents d USING(doc_id) WHERE {where} AND "
            f"{lv.documents_visible('c.doc_id')}"))

    # -- files --------------------------------------------------------------------
    def file_hashes(self) -> dict[str, str]:
        return dict(self.conn.execute(self.union(lambda lv: (
            f"SELECT key, sha256 FROM {lv.schema}.files f WHERE {lv.files_visible('f.key')}"
        ))))

    def set_file(self, key: str, sha256: str, size: int, n_docs: int,
                 skipped: Sequence[tuple[str, str]] = ()) -> None:
        self._hide_below("hidden_files", "files", "key", key)
        self.conn.execute("INSERT OR REPLACE INTO main.files VALUES (?,?,?,?,?)",
                          (key, sha256, size, n_docs, json.dumps(list(skipped))))

    def file_skips(self, key: str) -> list[tuple[str, str]]:
        """The problems (source, reason) found when the file was last read."""
        row = self.conn.execute(self.union(lambda lv: (
            f"SELECT skipped FROM {lv.schema}.files f WHERE key=? AND "
            f"{lv.files_visible('f.key')}")), self.params([key])).fetchone()
        return [tuple(item) for item in json.loads(row[0])] if row else []

    def remove_file(self, key: str) -> None:
        for (doc_id,) in self.conn.execute(self.union(lambda lv: (
                f"SELECT doc_id FROM {lv.schema}.documents d WHERE file_key=? AND "
                f"{lv.documents_visible('d.doc_id')}")), self.params([key])).fetchall():
            self.remove_document(doc_id)
        self._hide_below("hidden_files", "files", "key", key)
        self.conn.execute("DELETE FROM main.files WHERE key=?", (key,))

    def _hide_below(self, hidden: str, table: str, column: str, value: str) -> None:
        """Record in the top level that ``value`` of a lower level's ``table`` is hidden,
        where a lower level shows it."""
        lower = self.levels[:-1]
        if lower and self.conn.execute(self.union(lambda lv: (
                f"SELECT 1 FROM {lv.schema}.{table} t WHERE {column}=? AND "
                + (lv.files_visible(f"t.{column}") if table == "files"
                   else lv.documents_visible(f"t.{column}"))), lower),
                self.params([value], lower)).fetchone():
            self.conn.execute(f"INSERT OR IGNORE INTO main.{hidden} VALUES (?)", (value,))

    # -- documents and chunks -------------------------------------------------------
    def document_owner(self, doc_id: str) -> str | None:
        row = self.conn.execute(self.union(lambda lv: (
            f"SELECT file_key FROM {lv.schema}.documents d WHERE doc_id=? AND "
            f"{lv.documents_visible('d.doc_id')}")), self.params([doc_id])).fetchone()
        return row[0] if row else None

    def _next_chunk_id(self) -> int:
        """One past the largest passage id of any level, hidden passages included: a
        hidden passage's vector is left out by its id, which no new passage may take."""
        return 1 + max(int(self.conn.execute(
            f"SELECT coalesce(max(chunk_id), 0) FROM {lv.schema}.chunks").fetchone()[0])
            for lv in self.levels)

    def add_document(self, doc: Document, chunks: Iterable[tuple[Chunk, str]]) -> int:
        """Insert ``doc`` and its passages, each with the hash of its embedding text,
        taken from ``chunks`` as they come (a long document's passages are never all
        in memory); returns how many passages."""
        c = self.conn
        as_json = {"line_map": json.dumps(doc.line_map, separators=(",", ":")),
                   "source_map": doc.source_map.to_json() if doc.source_map else None}
        names = [*(f.name for f in fields(Document)), "content_hash"]  # each a column
        c.execute(f"INSERT INTO main.documents({', '.join(names)}) VALUES "
                  f"({','.join('?' * len(names))})",
                  [as_json[n] if n in as_json else getattr(doc, n) for n in names])
        first = self._next_chunk_id()
        next_id, pending, stored = first, iter(chunks), attrgetter(*_STORED)
        while batch := list(itertools.islice(pending, 1000)):
            ids = range(next_id, next_id + len(batch))
            c.executemany(_INSERT_CHUNK, [(cid, h, *stored(ch)) for cid, (ch, h) in
                                          zip(ids, batch, strict=True)])
            if self.keyword_writer is not None:
                self.keyword_writer.add((cid, doc.title, ch.text)
                                        for cid, (ch, _) in zip(ids, batch, strict=True))
            next_id += len(batch)
        return next_id - first

    def remove_document(self, doc_id: str) -> None:
        c = self.conn
        if self.keyword_writer is not None:
            self.keyword_writer.remove(cid for (cid,) in c.execute(self.union(lambda lv: (
                f"SELECT chunk_id FROM {lv.schema}.chunks c WHERE doc_id=? AND "
                f"{lv.documents_visible('c.doc_id')}")), self.params([doc_id])).fetchall())
        self._hide_below("hidden_documents", "documents", "doc_id", doc_id)
        c.execute("DELETE FROM main.chunks WHERE doc_id=?", (doc_id,))
        c.execute("DELETE FROM main.documents WHERE doc_id=?", (doc_id,))

    def get_document(self, doc_id: str) -> Document | None:
        names = [f.name for f in fields(Document)]  # each a column of its name
        row = self.conn.execute(self.union(lambda lv: (
            f"SELECT {', '.join(self._optional('d', 'documents', n) for n in names)} "
            f"FROM {lv.schema}.documents d WHERE doc_id=? AND "
            f"{lv.documents_visible('d.doc_id')}")), self.params([doc_id])).fetchone()
        if row is None:
            return None
        values = dict(zip(names, row, strict=True))
        return Document(**{**values, "line_map": json.loads(values["line_map"]),
                           "source_map": SourceMap.from_json(values["source_map"])})

    def source_bounds(self) -> tuple[str | None, str | None]:
        """The first and last source path in sort order (None, None when empty)."""
        first, last = self.conn.execute("SELECT min(source), max(source) FROM (" + self.union(
            lambda lv: f"SELECT source FROM {lv.schema}.documents d WHERE "
                       f"{lv.documents_visible('d.doc_id')}") + ")").fetchone()
        return first, last

    def documents(self) -> list[dict[str, Any]]:
        """Every document's ``LISTING``: its citation fields and size, without its text;
        ``pages`` is the last page a PDF's passages reach (None for other documents)."""
        computed = {"chars": "length(d.text)", "chunks": "count(c.chunk_id)",
                    "pages": f"max({self._optional('c', 'chunks', 'page_end')})"}
        cur = self.conn.execute(self.union(lambda lv: (
            f"SELECT {', '.join(computed.get(k) or f'd.{k}' for k in LISTING)} "
            f"FROM {lv.schema}.documents d LEFT JOIN {lv.schema}.chunks c USING(doc_id) "
            f"WHERE {lv.documents_visible('d.doc_id')} GROUP BY d.doc_id")) + " ORDER BY 1")
        return [dict(zip(LISTING, row, strict=True)) for row in cur]

    def passages(self) -> list[dict[str, Any]]:
        """Every passage's citation fields and text (a ``PassageRow``'s fields), in
        document then position order."""
        cur = self.conn.execute(self._passages_where("1", ", c.ord") +
                                f" ORDER BY {_ROW.index('doc_id') + 1}, {len(_ROW) + 1}")
        return [dict(zip(_ROW, row[:-1], strict=True)) for row in cur]

    def hit_rows(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        """Each passage's citation fields, by chunk id (ids with no passage are left out)."""
        out: dict[int, PassageRow] = {}
        sql = self._passages_where("c.chunk_id IN ({marks})")
        for part, marks in in_batches(chunk_ids):
            for row in self.conn.execute(sql.format(marks=marks), self.params(part)):
                passage = PassageRow(**dict(zip(_ROW, row, strict=True)))
                out[passage.chunk_id] = passage
        return out

    def page_breaks(self, chunk_ids: Sequence[int]) -> dict[int, tuple[tuple[int, int], ...]]:
        """Where a new page begins inside each passage, as (offset, page), read from its
        document's source map alone (not its text); passages on one page are left out."""
        out: dict[int, tuple[tuple[int, int], ...]] = {}
        source = self._optional("d", "documents", "source_map")
        sql = self.union(lambda lv: (
            f"SELECT c.chunk_id, c.start, c.\"end\", {source} FROM {lv.schema}.chunks c "
            f"JOIN {lv.schema}.documents d USING(doc_id) WHERE c.chunk_id IN ({{marks}}) "
            f"AND {lv.documents_visible('c.doc_id')}"))
        for part, marks in in_batches(chunk_ids):
            for cid, start, end, data in self.conn.execute(sql.format(marks=marks),
                                                           self.params(part)):
                source_map = SourceMap.from_json(data)
                if source_map is not None and (breaks := source_map.page_breaks(start, end)):
                    out[cid] = breaks
        return out

    # -- vectors in passage order ---------------------------------------------------
    def vectors_in_order(self, model: str, dim: int,
                         chunk_ids: Sequence[int] | None = None) -> np.ndarray:
        """Vectors of ``chunk_ids`` (all passages in ``passages()`` order when None), one
        row each in that order; an id with no passage is a ``UsageError``."""
        ids = [p["chunk_id"] for p in self.passages()] if chunk_ids is None else list(chunk_ids)
        found, vecs = self.embeddings.vectors_for(model, dim, ids)
        row = {int(cid): i for i, cid in enumerate(found)}
        missing = [cid for cid in ids if cid not in row]
        if missing:
            raise UsageError(f"no passage(s) {missing[:5]} in this collection")
        return vecs[[row[cid] for cid in ids]].reshape(len(ids), dim)
