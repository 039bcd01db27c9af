"""The schema of a generation's database, with the passages' table declared column by
column (``CHUNK_COLUMNS``) and the columns added since the first databases (stores of
schema 1 also hold ``LEGACY_FTS``, their FTS5 keyword index); and small
pieces every table shares: a part that reads and writes through the database's
connection, and ids in batches short enough for one ``IN (...)`` statement. A delta
level's ``hidden_documents`` and ``hidden_files`` name rows of the levels below it that
its build removed (``levels``); a base's are empty."""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol

from .levels import Level


class Column(NamedTuple):
    """A column of a table, named as the record's field it holds where a record has one."""

    name: str
    type: str
    added: bool = False  # not in the first databases; one built on gains it

    @property
    def sql(self) -> str:
        return f'"{self.name}" {self.type}'  # quoted: "end" is a keyword


# The passages' table, in its order on disk: a ``Chunk``'s fields but its embedding text,
# whose hash is kept instead.
CHUNK_COLUMNS = (
    Column("chunk_id", "INTEGER PRIMARY KEY"), Column("doc_id", "TEXT NOT NULL"),
    Column("ord", "INTEGER NOT NULL"), Column("start", "INTEGER NOT NULL"),
    Column("end", "INTEGER NOT NULL"), Column("line_start", "INTEGER NOT NULL"),
    Column("line_end", "INTEGER NOT NULL"), Column("text", "TEXT NOT NULL"),
    Column("embed_hash", "TEXT NOT NULL"),
    Column("page_start", "INTEGER", added=True), Column("page_end", "INTEGER", added=True),
    Column("page_label", "TEXT", added=True), Column("page_label_end", "TEXT", added=True))
_CHUNKS = ",\n    ".join(c.sql for c in CHUNK_COLUMNS)

SCHEMA = f"""
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
    {_CHUNKS});
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS embeddings(
    model TEXT NOT NULL, hash TEXT NOT NULL, vector BLOB NOT NULL, UNIQUE(model, hash));
CREATE TABLE IF NOT EXISTS hidden_documents(doc_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS hidden_files(key TEXT PRIMARY KEY) WITHOUT ROWID;
"""

# ``embeddings`` is a rowid table: a 1.5 KB vector fits in a page's leaf with another
# (stores built before hold it WITHOUT ROWID, where each row past about 1 KB spills into
# an overflow page of its own: 4.7 KB a vector on disk against 2.2 KB). Both answer the
# same statements, keyed by (model, hash).

# The FTS5 keyword table of schema-1 stores (read by ``keyword_index``); a build on top of
# such a store drops it from its copy, the new generation's keywords being Tantivy's.
LEGACY_FTS = "chunks_fts"

# Columns added after the first databases were written: one built before has none of
# them; opened read-only it reads NULL in their place, built on it gains them.
ADDED_COLUMNS = {"documents": (Column("source_map", "TEXT", added=True),),
                 "chunks": tuple(c for c in CHUNK_COLUMNS if c.added)}

BATCH = 500  # ids per IN (...): well under SQLite's limit on bound parameters


class HasConnection(Protocol):
    """What a part reads through: a connection, the store's levels, and one statement
    over them (``GenerationDB``)."""

    levels: list[Level]

    @property
    def conn(self) -> sqlite3.Connection: ...

    def union(self, part: Callable[[Level], str],
              levels: Sequence[Level] | None = None) -> str: ...

    def params(self, values: Sequence[Any],
               levels: Sequence[Level] | None = None) -> list[Any]: ...


class Part:
    """One table's (or one job's) methods of a ``GenerationDB``, over its connection (one
    per thread for a read-only database)."""

    def __init__(self, db: HasConnection) -> None:
        # Held weakly: no cycle between the database and its parts, so a database no
        # one holds is freed (its connections closed) at once, not by a later GC pass.
        self._db = weakref.proxy(db)

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = self._db.conn
        return conn


def in_batches(ids: Iterable[int], size: int = BATCH) -> Iterator[tuple[list[int], str]]:
    """``ids`` (as Python ints) in lists of at most ``size``, each with its ``?,?,...``."""
    batch: list[int] = []
    for value in ids:
        batch.append(int(value))
        if len(batch) == size:
            yield batch, ",".join("?" * len(batch))
            batch = []
    if batch:
        yield batch, ",".join("?" * len(batch))
