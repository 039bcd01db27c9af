"""A generation's SQLite database (``store.sqlite``): files, documents and passages, with
three parts: ``keywords`` (the keyword index: Tantivy's in the generation's
``keywords/`` folder, or the FTS5 table of a schema-1 store), ``embeddings`` (the vector
cache) and ``selection`` (ids chosen by filters and prefixes). Every SQL statement of
citeseek lives in this subpackage; other stages call the methods here."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..citation import Chunk, PassageRow
from ..document import Document, SourceMap
from ..errors import CorruptCollection, UsageError
from .embedding_cache import EmbeddingCache
from .keyword_index import KeywordIndex
from .selection import Selection
from .sql import ADDED_COLUMNS, CHUNK_COLUMNS, LEGACY_FTS, SCHEMA, in_batches
from .tantivy_index import TantivyIndex, TantivyWriter

if TYPE_CHECKING:
    import numpy as np


# The columns of a passage that a ``Chunk`` gives (the INSERT adds its id and hash).
_STORED = tuple(c.name for c in CHUNK_COLUMNS if c.name in {f.name for f in fields(Chunk)})
_INSERT_CHUNK = "INSERT INTO chunks(chunk_id, embed_hash, {}) VALUES ({})".format(
    ", ".join(f'"{name}"' for name in _STORED), ",".join("?" * (len(_STORED) + 2)))
# What ``documents()`` lists of each document (and ``Collection.to_pandas`` shows):
# fields of the document, then its size, its passages and the last page they reach.
LISTING = ("doc_id", "title", "date", "source", "url", "chars", "chunks", "pages")


# A row's fields, its id first (as ``passages()`` lists them).
_ROW = ("chunk_id", *(f.name for f in fields(PassageRow) if f.name != "chunk_id"))


class GenerationDB:
    """One generation's ``store.sqlite``. A read-only database may be shared across
    threads (each thread gets its own connection); a writable one belongs to one builder.

    Its parts: ``keywords`` (BM25 search, word frequencies: ``keywords`` given, a
    generation's Tantivy index, or else the FTS5 table a schema-1 store holds),
    ``embeddings`` (cached vectors by model and text hash) and ``selection`` (ids that
    filters leave). A builder's database is given the ``TantivyWriter`` of its
    generation as ``keyword_writer``: passages added and removed go to it as well."""

    def __init__(self, path: str | Path, *, readonly: bool = False,
                 keywords: TantivyIndex | None = None,
                 keyword_writer: TantivyWriter | None = None) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._local = threading.local()
        self._identity: tuple[int, ...] | None = None  # of the file first read
        self._columns: dict[str, set[str]] | None = None
        self.keywords: TantivyIndex | KeywordIndex = keywords or KeywordIndex(self)
        self.keyword_writer = keyword_writer
        self.embeddings = EmbeddingCache(self)
        self.selection = Selection(self)
        if not readonly:
            self.conn.executescript(SCHEMA)
            self._upgrade()

    def _upgrade(self) -> None:
        """Add the columns a database built by an earlier citeseek lacks, and drop the
        FTS5 keyword table of a schema-1 store (its keywords are now Tantivy's)."""
        self.conn.execute(f"DROP TABLE IF EXISTS {LEGACY_FTS}")
        for table, columns in ADDED_COLUMNS.items():
            have = self.columns(table)
            for column in columns:
                if column.name not in have:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column.sql}")
        self._columns = None

    def columns(self, table: str) -> set[str]:
        """The columns ``table`` has in this database."""
        if self._columns is None:
            self._columns = {name: {row[1] for row in self.conn.execute(
                f"PRAGMA table_info({name})")} for name in ADDED_COLUMNS}
        return self._columns[table]

    def _optional(self, alias: str, table: str, column: str) -> str:
        """``alias.column``, or NULL where this database is older than the column."""
        return f'{alias}."{column}"' if column in self.columns(table) else "NULL"

    @property
    def hit_columns(self) -> str:
        """The ``PassageRow`` columns of a passage joined with its document (``c``, ``d``)."""
        in_chunks = {c.name for c in CHUNK_COLUMNS}
        return ", ".join(self._optional("c", "chunks", name) if name in in_chunks
                         else self._optional("d", "documents", name) for name in _ROW)

    def _file_identity(self) -> tuple[int, ...]:
        st = os.stat(self.path)
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.readonly:
                # A URI, so the path's own "?", "#" and "%" must be escaped (as_uri does).
                uri = f"{self.path.absolute().as_uri()}?mode=ro&immutable=1"
                try:
                    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
                    conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
                    same = self._identity in (None, self._file_identity())
                except (sqlite3.Error, OSError) as exc:
                    raise CorruptCollection(f"cannot open {self.path}: {exc}") from None
                if not same:  # a thread opening the file late finds another build's
                    conn.close()
                    raise CorruptCollection(f"{self.path} was replaced by another build")
            else:
                conn = sqlite3.connect(self.path, isolation_level=None)
                conn.execute("PRAGMA journal_mode=DELETE")
                conn.execute("PRAGMA synchronous=FULL")
            self._local.conn = conn
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block's writes as one transaction: it commits when the block ends, or
        rolls back and lets the block's own error through (Ctrl-C included). Nested
        blocks are savepoints of the outer one."""
        conn = self.conn
        nested = conn.in_transaction
        conn.execute("SAVEPOINT inner" if nested else "BEGIN")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # the block's error is the one to see
                if nested:
                    conn.execute("ROLLBACK TO inner")
                    conn.execute("RELEASE inner")
                elif conn.in_transaction:
                    conn.execute("ROLLBACK")
            raise
        conn.execute("RELEASE inner" if nested else "COMMIT")

    def check_readable(self) -> None:
        """Read from the file now (a ``CorruptCollection`` if it cannot be): the connection
        made here keeps working for this thread if the folder is removed later."""
        try:
            self.conn.execute("SELECT 1 FROM chunks LIMIT 1").fetchall()
            self._identity = self._file_identity()
        except (sqlite3.Error, OSError) as exc:
            raise CorruptCollection(f"cannot read {self.path}: {exc}") from None

    def vacuum(self, *, free_share: float = 0.0) -> bool:
        """Rewrite the file without its free pages when they are more than ``free_share``
        of it (VACUUM writes the whole file again: an update that freed a few pages keeps
        them for the next one); True when it did."""
        free, pages = (int(self.conn.execute(f"PRAGMA {name}").fetchone()[0])
                       for name in ("freelist_count", "page_count"))
        if not free or free <= free_share * pages:
            return False
        self.conn.execute("VACUUM")
        return True

    def keyword_rows(self, batch: int = 5000) -> Iterator[tuple[int, str | None, str]]:
        """(chunk id, title, text) of every passage, in id order: what a keyword index
        made anew from this database reads (a store of schema 1 gains its Tantivy index
        this way)."""
        cur = self.conn.execute("SELECT c.chunk_id, d.title, c.text FROM chunks c "
                                "JOIN documents d USING(doc_id) ORDER BY c.chunk_id")
        while rows := cur.fetchmany(batch):
            yield from rows

    def close(self) -> None:
        """Close this thread's connection (and give up a keyword writer's uncommitted
        work: a build that fails throws its generation away)."""
        if self.keyword_writer is not None:
            self.keyword_writer.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def copy_to(self, dest: Path) -> None:
        """Copy the whole database into a new file (SQLite's online backup)."""
        target = sqlite3.connect(dest)
        try:
            self.conn.backup(target)
        finally:
            target.close()

    # -- files --------------------------------------------------------------------
    def file_hashes(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, sha256 FROM files"))

    def set_file(self, key: str, sha256: str, size: int, n_docs: int,
                 skipped: Sequence[tuple[str, str]] = ()) -> None:
        self.conn.execute("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?)",
                          (key, sha256, size, n_docs, json.dumps(list(skipped))))

    def file_skips(self, key: str) -> list[tuple[str, str]]:
        """The problems (source, reason) found when the file was last read."""
        row = self.conn.execute("SELECT skipped FROM files WHERE key=?", (key,)).fetchone()
        return [tuple(item) for item in json.loads(row[0])] if row else []

    def remove_file(self, key: str) -> None:
        for (doc_id,) in self.conn.execute(
            "SELECT doc_id FROM documents WHERE file_key=?", (key,)
        ).fetchall():
            self.remove_document(doc_id)
        self.conn.execute("DELETE FROM files WHERE key=?", (key,))

    # -- documents and chunks -------------------------------------------------------
    def document_owner(self, doc_id: str) -> str | None:
        row = self.conn.execute("SELECT file_key FROM documents WHERE doc_id=?",
                                (doc_id,)).fetchone()
        return row[0] if row else None

    def add_document(self, doc: Document, chunks: Iterable[tuple[Chunk, str]]) -> int:
        """Insert ``doc`` and its passages, each with the hash of its embedding text,
        taken from ``chunks`` as they come (a long document's passages are never all
        in memory); returns how many passages."""
        c = self.conn
        as_json = {"line_map": json.dumps(doc.line_map, separators=(",", ":")),
                   "source_map": doc.source_map.to_json() if doc.source_map else None}
        names = [*(f.name for f in fields(Document)), "content_hash"]  # each a column
        c.execute(f"INSERT INTO documents({', '.join(names)}) VALUES "
                  f"({','.join('?' * len(names))})",
                  [as_json[n] if n in as_json else getattr(doc, n) for n in names])
        first = int(c.execute("SELECT coalesce(max(chunk_id), 0) FROM chunks").fetchone()[0]) + 1
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
            self.keyword_writer.remove(cid for (cid,) in c.execute(
                "SELECT chunk_id FROM chunks WHERE doc_id=?", (doc_id,)).fetchall())
        c.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        c.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    def get_document(self, doc_id: str) -> Document | None:
        names = [f.name for f in fields(Document)]  # each a column of its name
        row = self.conn.execute(
            f"SELECT {', '.join(self._optional('d', 'documents', n) for n in names)} "
            "FROM documents d WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:
            return None
        values = dict(zip(names, row, strict=True))
        return Document(**{**values, "line_map": json.loads(values["line_map"]),
                           "source_map": SourceMap.from_json(values["source_map"])})

    def source_bounds(self) -> tuple[str | None, str | None]:
        """The first and last source path in sort order (None, None when empty)."""
        first, last = self.conn.execute("SELECT min(source), max(source) FROM documents"
                                        ).fetchone()
        return first, last

    def documents(self) -> list[dict[str, Any]]:
        """Every document's ``LISTING``: its citation fields and size, without its text;
        ``pages`` is the last page a PDF's passages reach (None for other documents)."""
        computed = {"chars": "length(d.text)", "chunks": "count(c.chunk_id)",
                    "pages": f"max({self._optional('c', 'chunks', 'page_end')})"}
        cur = self.conn.execute(
            f"SELECT {', '.join(computed.get(k) or f'd.{k}' for k in LISTING)} "
            "FROM documents d LEFT JOIN chunks c USING(doc_id) GROUP BY d.doc_id "
            "ORDER BY d.doc_id")
        return [dict(zip(LISTING, row, strict=True)) for row in cur]

    def passages(self) -> list[dict[str, Any]]:
        """Every passage's citation fields and text (a ``PassageRow``'s fields), in
        document then position order."""
        cur = self.conn.execute(
            f"SELECT {self.hit_columns} FROM chunks c JOIN documents d USING(doc_id) "
            "ORDER BY d.doc_id, c.ord")
        return [dict(zip(_ROW, row, strict=True)) for row in cur]

    def hit_rows(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        """Each passage's citation fields, by chunk id (ids with no passage are left out)."""
        out: dict[int, PassageRow] = {}
        for part, marks in in_batches(chunk_ids):
            for row in self.conn.execute(
                f"SELECT {self.hit_columns} FROM chunks c JOIN documents d USING(doc_id) "
                f"WHERE c.chunk_id IN ({marks})", part):
                passage = PassageRow(**dict(zip(_ROW, row, strict=True)))
                out[passage.chunk_id] = passage
        return out

    def page_breaks(self, chunk_ids: Sequence[int]) -> dict[int, tuple[tuple[int, int], ...]]:
        """Where a new page begins inside each passage, as (offset, page), read from its
        document's source map alone (not its text); passages on one page are left out."""
        out: dict[int, tuple[tuple[int, int], ...]] = {}
        for part, marks in in_batches(chunk_ids):
            for cid, start, end, data in self.conn.execute(
                f"SELECT c.chunk_id, c.start, c.\"end\", "
                f"{self._optional('d', 'documents', 'source_map')} FROM chunks c "
                f"JOIN documents d USING(doc_id) WHERE c.chunk_id IN ({marks})", part):
                source_map = SourceMap.from_json(data)
                if source_map is not None and (breaks := source_map.page_breaks(start, end)):
                    out[cid] = breaks
        return out

    def counts(self) -> dict[str, int]:
        c = self.conn
        return {
            "files": c.execute("SELECT count(*) FROM files").fetchone()[0],
            "documents": c.execute("SELECT count(*) FROM documents").fetchone()[0],
            "chunks": c.execute("SELECT count(*) FROM chunks").fetchone()[0],
        }

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
