"""A generation's SQLite database (``store.sqlite``, and the delta levels stacked on it:
``levels``): files, documents and passages, with three parts: ``keywords`` (the keyword
index: Tantivy's in the generation's ``keywords/`` folder, or the FTS5 table of a
schema-1 store), ``embeddings`` (the vector cache) and ``selection`` (ids chosen by
filters and prefixes). Every SQL statement of citeseek lives in this subpackage; other
stages call the methods here."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import CorruptCollection
from .embedding_cache import EmbeddingCache
from .keyword_index import KeywordIndex
from .levels import Level, replay, stack
from .records import LISTING, Records
from .selection import Selection
from .sql import ADDED_COLUMNS, LEGACY_FTS, SCHEMA
from .tantivy_index import TantivyIndex, TantivyWriter

__all__ = ["LISTING", "GenerationDB"]


def _uri(path: Path, *, readonly: bool) -> str:
    # A URI, so the path's own "?", "#" and "%" must be escaped (as_uri does).
    return path.absolute().as_uri() + ("?mode=ro&immutable=1" if readonly else "")


class GenerationDB(Records):
    """One generation's store. A read-only database may be shared across threads (each
    thread gets its own connection); a writable one belongs to one builder.

    ``path`` is the top level: the base ``store.sqlite``, or the newest delta with the
    levels under it in ``below`` (base first), attached read-only to every connection
    (``levels``: what each statement reads; ``main`` is the top, where writes go).

    Its parts: ``keywords`` (BM25 search, word frequencies: ``keywords`` given, a
    generation's Tantivy index, or else the FTS5 table a schema-1 store holds),
    ``embeddings`` (cached vectors by model and text hash) and ``selection`` (ids that
    filters leave). A builder's database is given the ``TantivyWriter`` of its
    generation as ``keyword_writer``: passages added and removed go to it as well."""

    def __init__(self, path: str | Path, *, readonly: bool = False,
                 below: Sequence[Path] = (), keywords: TantivyIndex | None = None,
                 keyword_writer: TantivyWriter | None = None) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self.below = [Path(p) for p in below]
        self.levels: list[Level] = stack([*(f"l{i}" for i in range(len(self.below))), "main"])
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []  # every thread's, for close_all
        self._closed = False
        self._opening = threading.Lock()
        self._identity: tuple[int, ...] | None = None  # of the file first read
        self._columns: dict[str, set[str]] | None = None
        self.keywords: TantivyIndex | KeywordIndex = keywords or KeywordIndex(self)
        self.keyword_writer = keyword_writer
        self.embeddings = EmbeddingCache(self)
        self.selection = Selection(self)
        if not readonly:
            self.conn  # noqa: B018 (made now: the schema, its upgrade, the levels attached)

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        """Add the columns a database built by an earlier citeseek lacks, and drop the
        FTS5 keyword table of a schema-1 store (its keywords are now Tantivy's)."""
        conn.execute(f"DROP TABLE IF EXISTS main.{LEGACY_FTS}")
        for table, columns in ADDED_COLUMNS.items():
            have = {row[1] for row in conn.execute(f"PRAGMA main.table_info({table})")}
            for column in columns:
                if column.name not in have:
                    conn.execute(f"ALTER TABLE main.{table} ADD COLUMN {column.sql}")

    def columns(self, table: str) -> set[str]:
        """The columns ``table`` has in the top level (a lower level has them all: only
        a base of schema 2 on has levels above it)."""
        if self._columns is None:
            self._columns = {name: {row[1] for row in self.conn.execute(
                f"PRAGMA main.table_info({name})")} for name in ADDED_COLUMNS}
        return self._columns[table]

    def _file_identity(self) -> tuple[int, ...]:
        st = os.stat(self.path)
        return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise CorruptCollection(f"{self.path} is closed: a newer generation is live")
            if self.readonly:
                try:
                    conn = sqlite3.connect(_uri(self.path, readonly=True), uri=True,
                                           check_same_thread=False)
                    conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
                    same = self._identity in (None, self._file_identity())
                    self._attach(conn)
                except (sqlite3.Error, OSError) as exc:
                    raise CorruptCollection(f"cannot open {self.path}: {exc}") from None
                if not same:  # a thread opening the file late finds another build's
                    conn.close()
                    raise CorruptCollection(f"{self.path} was replaced by another build")
                if not self._register(conn):  # closed while it was opening
                    conn.close()
                    raise CorruptCollection(f"{self.path} is closed: a newer generation "
                                            "is live")
            else:
                conn = sqlite3.connect(_uri(self.path, readonly=False), uri=True,
                                       isolation_level=None)
                conn.execute("PRAGMA journal_mode=DELETE")
                conn.execute("PRAGMA synchronous=FULL")
                conn.executescript(SCHEMA)
                self._upgrade(conn)
                self._attach(conn)
            self._local.conn = conn
        return conn

    def _attach(self, conn: sqlite3.Connection) -> None:
        """Attach the levels below the top, read-only: published files, never written."""
        for level, path in zip(self.levels, self.below, strict=False):
            try:
                conn.execute("ATTACH DATABASE ? AS " + level.schema,
                             (_uri(path, readonly=True),))
                conn.execute(f"SELECT 1 FROM {level.schema}.sqlite_master LIMIT 1").fetchall()
            except sqlite3.Error as exc:
                raise CorruptCollection(f"cannot open {path}: {exc}") from None

    def union(self, part: Callable[[Level], str], levels: Sequence[Level] | None = None,
              ) -> str:
        """One statement over ``levels`` (every level by default): ``part(level)`` for
        each, joined by UNION ALL. Parameters repeat per level (``params``)."""
        return " UNION ALL ".join(part(level) for level in (levels or self.levels))

    def params(self, values: Sequence[Any], levels: Sequence[Level] | None = None,
               ) -> list[Any]:
        """``values`` once for each of ``levels``: the parameters of a ``union``."""
        return list(values) * len(levels or self.levels)

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
            for level in self.levels:
                self.conn.execute(f"SELECT 1 FROM {level.schema}.chunks LIMIT 1").fetchall()
            self._identity = self._file_identity()
        except (sqlite3.Error, OSError) as exc:
            raise CorruptCollection(f"cannot read {self.path}: {exc}") from None

    def vacuum(self, *, free_share: float = 0.0) -> bool:
        """Rewrite the top level without its free pages when they are more than
        ``free_share`` of it (VACUUM writes the whole file again: an update that freed a
        few pages keeps them for the next one); True when it did."""
        free, pages = (int(self.conn.execute(f"PRAGMA main.{name}").fetchone()[0])
                       for name in ("freelist_count", "page_count"))
        if not free or free <= free_share * pages:
            return False
        self.conn.execute("VACUUM main")
        return True

    def keyword_rows(self, batch: int = 5000) -> Iterator[tuple[int, str | None, str]]:
        """(chunk id, title, text) of every visible passage, in id order: what a keyword
        index made anew from this database reads (a store of schema 1 gains its Tantivy
        index this way)."""
        cur = self.conn.execute(self.union(lambda lv: (
            f"SELECT c.chunk_id, d.title, c.text FROM {lv.schema}.chunks c JOIN "
            f"{lv.schema}.documents d USING(doc_id) WHERE {lv.documents_visible('c.doc_id')}"
        )) + " ORDER BY 1")
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

    def _register(self, conn: sqlite3.Connection) -> bool:
        """Keep ``conn`` for ``close_all``; False once the database is closed."""
        with self._opening:
            if not self._closed:
                self._opened.append(conn)
            return not self._closed

    def close_all(self) -> None:
        """Close every thread's connection to a read-only database no reader uses any
        more (its file's descriptors go with them); opening it again is an error."""
        with self._opening:
            self._closed = True
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    def copy_to(self, dest: Path) -> None:
        """Copy the whole top level into a new file (SQLite's online backup)."""
        target = sqlite3.connect(dest)
        try:
            self.conn.backup(target)
        finally:
            target.close()

    def flatten_to(self, dest: Path) -> None:
        """Write every level into one new database at ``dest``: the base copied, then
        each delta applied in turn (what it hides removed, what it holds added)."""
        if not self.below:
            self.copy_to(dest)
            return
        with contextlib.closing(sqlite3.connect(dest)) as target:
            base = sqlite3.connect(_uri(self.below[0], readonly=True), uri=True)
            try:
                base.backup(target)
            finally:
                base.close()
        self.merge_into(dest, self.levels[1:], keep_hidden=False)

    def merge_into(self, dest: Path, levels: Sequence[Level], *, keep_hidden: bool) -> None:
        """Apply ``levels`` of this database to the database at ``dest`` (see
        ``levels.replay``), in one transaction."""
        with contextlib.closing(sqlite3.connect(_uri(dest, readonly=False), uri=True,
                                                isolation_level=None)) as target:
            target.executescript(SCHEMA)
            schemas = []
            for i, level in enumerate(levels):
                path = self.path if level.schema == "main" else \
                    self.below[int(level.schema[1:])]
                target.execute(f"ATTACH DATABASE ? AS m{i}", (_uri(path, readonly=True),))
                schemas.append(f"m{i}")
            target.execute("BEGIN")
            replay(target, schemas, keep_hidden=keep_hidden)
            target.execute("COMMIT")

    # -- sizes of the levels ------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Visible files, documents and passages (``chunks``)."""
        out = dict.fromkeys(("files", "documents", "chunks"), 0)
        for lv in self.levels:
            for table, where in (("files", lv.files_visible("t.key")),
                                 ("documents", lv.documents_visible("t.doc_id")),
                                 ("chunks", lv.documents_visible("t.doc_id"))):
                out[table] += int(self.conn.execute(
                    f"SELECT count(*) FROM {lv.schema}.{table} t WHERE {where}").fetchone()[0])
        return out

    def level_passages(self, level: Level) -> int:
        """Passages stored in ``level``, hidden ones included (its index holds them all)."""
        return int(self.conn.execute(f"SELECT count(*) FROM {level.schema}.chunks"
                                     ).fetchone()[0])

    def hidden_chunk_ids(self, level: Level) -> list[int]:
        """Ids of ``level``'s passages that levels above it hide (by their document)."""
        if not level.above:
            return []
        return [r[0] for r in self.conn.execute(
            f"SELECT chunk_id FROM {level.schema}.chunks WHERE doc_id IN "
            f"({level.hidden_documents()})")]
