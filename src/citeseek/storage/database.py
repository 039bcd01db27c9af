"""A generation's SQLite database (``store.sqlite``): files, documents and passages, with
three parts: ``keywords`` (the FTS5 index), ``embeddings`` (the vector cache) and
``selection`` (ids chosen by filters and prefixes). Every SQL statement of citeseek lives
in this subpackage; other stages call the methods here."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..document import Document, SourceMap
from ..errors import CorruptCollection, UsageError
from .embedding_cache import EmbeddingCache
from .keyword_index import KeywordIndex
from .selection import Selection
from .sql import in_batches

if TYPE_CHECKING:
    import numpy as np

    from ..ingest.chunking import Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS files(
    key TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL, n_docs INTEGER NOT NULL,
    skipped TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS documents(
    doc_id TEXT PRIMARY KEY, file_key TEXT NOT NULL, source TEXT NOT NULL, title TEXT,
    date TEXT, url TEXT, format TEXT NOT NULL, text TEXT NOT NULL, line_map TEXT NOT NULL,
    content_hash TEXT NOT NULL, source_map TEXT);
CREATE INDEX IF NOT EXISTS documents_file ON documents(file_key);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
CREATE TABLE IF NOT EXISTS chunks(
    chunk_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, ord INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL, text TEXT NOT NULL, embed_hash TEXT NOT NULL,
    page_start INTEGER, page_end INTEGER);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, body, content='', tokenize='porter unicode61 remove_diacritics 2');
CREATE TABLE IF NOT EXISTS embeddings(
    model TEXT NOT NULL, hash TEXT NOT NULL, vector BLOB NOT NULL,
    PRIMARY KEY(model, hash)) WITHOUT ROWID;
"""

# Columns added after the first databases were written: one built before has none of
# them; opened read-only it reads NULL in their place, built on it gains them.
ADDED_COLUMNS = {"documents": ("source_map TEXT",),
                 "chunks": ("page_start INTEGER", "page_end INTEGER")}


class PassageRow(NamedTuple):
    """A passage with its citation fields, as ``GenerationDB.hit_columns`` selects them."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    line_start: int
    line_end: int
    text: str
    title: str | None
    date: str | None
    source: str
    url: str | None
    page_start: int | None
    page_end: int | None


class GenerationDB:
    """One generation's ``store.sqlite``. A read-only database may be shared across
    threads (each thread gets its own connection); a writable one belongs to one builder.

    Its parts: ``keywords`` (BM25 search, word frequencies), ``embeddings`` (cached
    vectors by model and text hash) and ``selection`` (ids that filters leave)."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._local = threading.local()
        self._identity: tuple[int, ...] | None = None  # of the file first read
        self._columns: dict[str, set[str]] | None = None
        self.keywords = KeywordIndex(self)
        self.embeddings = EmbeddingCache(self)
        self.selection = Selection(self)
        if not readonly:
            self.conn.executescript(SCHEMA)
            self._upgrade()

    def _upgrade(self) -> None:
        """Add the columns a database built by an earlier citeseek lacks."""
        for table, columns in ADDED_COLUMNS.items():
            have = self.columns(table)
            for column in columns:
                if column.split()[0] not in have:
                    self.conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
        self._columns = None

    def columns(self, table: str) -> set[str]:
        """The columns ``table`` has in this database."""
        if self._columns is None:
            self._columns = {name: {row[1] for row in self.conn.execute(
                f"PRAGMA table_info({name})")} for name in ADDED_COLUMNS}
        return self._columns[table]

    def _optional(self, alias: str, table: str, column: str) -> str:
        return f"{alias}.{column}" if column in self.columns(table) else "NULL"

    @property
    def hit_columns(self) -> str:
        """The ``PassageRow`` columns of a passage joined with its document (``c``, ``d``)."""
        return ("c.chunk_id, c.doc_id, c.start, c.\"end\", c.line_start, c.line_end, c.text, "
                "d.title, d.date, d.source, d.url, "
                f"{self._optional('c', 'chunks', 'page_start')}, "
                f"{self._optional('c', 'chunks', 'page_end')}")

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

    def vacuum(self) -> None:
        """Rewrite the file without free pages (after a build removed documents)."""
        self.conn.execute("VACUUM")

    def close(self) -> None:
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
        c.execute(
            "INSERT INTO documents(doc_id, file_key, source, title, date, url, format, text, "
            "line_map, content_hash, source_map) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (doc.doc_id, doc.file_key, doc.source, doc.title, doc.date, doc.url, doc.format,
             doc.text, json.dumps(doc.line_map, separators=(",", ":")), doc.content_hash,
             doc.source_map.to_json() if doc.source_map else None),
        )
        first = int(c.execute("SELECT coalesce(max(chunk_id), 0) FROM chunks").fetchone()[0]) + 1
        next_id, pending = first, iter(chunks)
        while batch := list(itertools.islice(pending, 1000)):
            ids = range(next_id, next_id + len(batch))
            c.executemany(
                "INSERT INTO chunks(chunk_id, doc_id, ord, start, \"end\", line_start, "
                "line_end, text, embed_hash, page_start, page_end) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(cid, doc.doc_id, ch.ord, ch.start, ch.end, ch.line_start, ch.line_end,
                  ch.text, h, ch.page_start, ch.page_end)
                 for cid, (ch, h) in zip(ids, batch, strict=True)])
            c.executemany("INSERT INTO chunks_fts(rowid, title, body) VALUES (?,?,?)",
                          [(cid, doc.title or "", ch.text)
                           for cid, (ch, _) in zip(ids, batch, strict=True)])
            next_id += len(batch)
        return next_id - first

    def remove_document(self, doc_id: str) -> None:
        c = self.conn
        rows = c.execute(
            "SELECT c.chunk_id, coalesce(d.title, ''), c.text FROM chunks c "
            "JOIN documents d USING(doc_id) WHERE c.doc_id=?", (doc_id,)
        ).fetchall()
        c.executemany("INSERT INTO chunks_fts(chunks_fts, rowid, title, body) "
                      "VALUES ('delete', ?, ?, ?)", rows)
        c.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        c.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    def get_document(self, doc_id: str) -> Document | None:
        row = self.conn.execute(
            "SELECT doc_id, source, text, title, date, url, format, line_map, file_key, "
            f"{self._optional('d', 'documents', 'source_map')} "
            "FROM documents d WHERE doc_id=?", (doc_id,)
        ).fetchone()
        if row is None:
            return None
        return Document(doc_id=row[0], source=row[1], text=row[2], title=row[3], date=row[4],
                        url=row[5], format=row[6], line_map=json.loads(row[7]),
                        file_key=row[8], source_map=SourceMap.from_json(row[9]))

    def source_bounds(self) -> tuple[str | None, str | None]:
        """The first and last source path in sort order (None, None when empty)."""
        first, last = self.conn.execute("SELECT min(source), max(source) FROM documents"
                                        ).fetchone()
        return first, last

    def documents(self) -> list[dict[str, Any]]:
        """Every document's citation fields and size, without its text; ``pages`` is the
        last page a PDF's passages reach (None for other documents)."""
        cur = self.conn.execute(
            "SELECT d.doc_id, d.title, d.date, d.source, d.url, length(d.text), "
            "count(c.chunk_id), "
            f"max({self._optional('c', 'chunks', 'page_end')}) "
            "FROM documents d LEFT JOIN chunks c USING(doc_id) GROUP BY d.doc_id "
            "ORDER BY d.doc_id")
        keys = ("doc_id", "title", "date", "source", "url", "chars", "chunks", "pages")
        return [dict(zip(keys, row, strict=True)) for row in cur]

    def passages(self) -> list[dict[str, Any]]:
        """Every passage's citation fields and text, in document then position order."""
        cur = self.conn.execute(
            f"SELECT {self.hit_columns} FROM chunks c JOIN documents d USING(doc_id) "
            "ORDER BY d.doc_id, c.ord")
        return [PassageRow(*row)._asdict() for row in cur]

    def hit_rows(self, chunk_ids: Sequence[int]) -> dict[int, PassageRow]:
        """Each passage's citation fields, by chunk id (ids with no passage are left out)."""
        out: dict[int, PassageRow] = {}
        for part, marks in in_batches(chunk_ids):
            for row in self.conn.execute(
                f"SELECT {self.hit_columns} FROM chunks c JOIN documents d USING(doc_id) "
                f"WHERE c.chunk_id IN ({marks})", part):
                out[row[0]] = PassageRow(*row)
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
