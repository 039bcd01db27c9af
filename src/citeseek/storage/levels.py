"""The levels of a generation's store: a base and the deltas stacked on it.

A generation's files, documents and passages may live in several SQLite files, each
written by one build and never again, shared with later generations by hard links:

```
store.sqlite, index.faiss                 the base: as the last full build left it
delta-000005.sqlite, delta-000005.faiss   what gen-000005 changed on top of it
delta-000007.sqlite, delta-000007.faiss   what gen-000007 changed on top of that
```

A delta holds the rows its build added (files, documents, passages, cached vectors)
and, in ``hidden_documents`` and ``hidden_files``, the ids of rows of lower levels that
its build removed or replaced. A row of a level is visible unless a level above hides
it; the top level's rows are all visible. Passage ids are never reused while a lower
level holds them, so a hidden passage's vector is left out by its id.

A build stacks one delta on the live generation's levels, or, when the live generation
has ``MAX_DELTAS`` of them, writes one delta that merges theirs (the base stays shared);
when its delta outgrows ``flatten_due``'s bounds, it writes the levels into one new
base and indexes every vector again, as a first build does. ``replay`` does both.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

MAX_DELTAS = 4  # deltas a generation stacks at most: every query reads each level
DELTA_SHARE = 0.1  # a delta past this share of the base's passages is merged into it
DELTA_MIN = 2_000  # passages deltas may hold (and hide) whatever the base's size
DELTA_LIMIT = 50_000  # passages a delta holds at most: its vectors are searched exactly
HIDDEN_SHARE = 0.2  # hidden passages past this share of the base: written anew

_ROW_TABLES = ("files", "documents", "chunks")


@dataclass(frozen=True)
class Level:
    """One level of a store as a connection sees it: its schema name, and those of the
    levels above it (whose hidden ids apply to it)."""

    schema: str
    above: tuple[str, ...] = ()

    def _visible(self, column: str, table: str, key: str) -> str:
        if not self.above:
            return "1"
        hidden = " UNION ALL ".join(f"SELECT {key} FROM {s}.{table}" for s in self.above)
        return f"{column} NOT IN ({hidden})"

    def hidden_documents(self) -> str:
        """A SELECT of the document ids the levels above hide (``above`` not empty)."""
        return " UNION ALL ".join(f"SELECT doc_id FROM {s}.hidden_documents"
                                  for s in self.above)

    def documents_visible(self, column: str) -> str:
        """SQL that is true where ``column`` (a document id) is not hidden from above."""
        return self._visible(column, "hidden_documents", "doc_id")

    def files_visible(self, column: str) -> str:
        """SQL that is true where ``column`` (a file key) is not hidden from above."""
        return self._visible(column, "hidden_files", "key")


def stack(schemas: Sequence[str]) -> list[Level]:
    """The levels of ``schemas``, bottom (the base) first."""
    return [Level(s, tuple(schemas[i + 1:])) for i, s in enumerate(schemas)]


def flatten_due(base_passages: int, delta_passages: int, hidden_passages: int) -> bool:
    """Whether deltas of ``delta_passages`` (hiding ``hidden_passages`` of the base)
    should be written into a new base rather than published as levels: past
    ``DELTA_LIMIT``, past ``DELTA_SHARE`` of the base, or hiding more than
    ``HIDDEN_SHARE`` of it (a small store keeps up to ``DELTA_MIN`` of either)."""
    return (delta_passages > DELTA_LIMIT
            or delta_passages > max(DELTA_MIN, DELTA_SHARE * base_passages)
            or hidden_passages > max(DELTA_MIN, HIDDEN_SHARE * base_passages))


def _columns(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f"PRAGMA {schema}.table_info({table})")]


def replay(conn: sqlite3.Connection, schemas: Sequence[str], *, keep_hidden: bool) -> None:
    """Apply the levels attached as ``schemas`` (bottom first) to ``main``, in order: the
    rows each level hides leave ``main``, then its own rows join it. ``main`` started as
    a copy of the base (a flattened store: the hidden ids, applied, are dropped) or empty
    (a merged delta: ``keep_hidden`` keeps them, for the base it stays on)."""
    for schema in schemas:
        for table, column, hidden, key in (("chunks", "doc_id", "hidden_documents", "doc_id"),
                                           ("documents", "doc_id", "hidden_documents",
                                            "doc_id"),
                                           ("files", "key", "hidden_files", "key")):
            conn.execute(f"DELETE FROM main.{table} WHERE {column} IN "
                         f"(SELECT {key} FROM {schema}.{hidden})")
            if keep_hidden:
                conn.execute(f"INSERT OR IGNORE INTO main.{hidden} SELECT {key} FROM "
                             f"{schema}.{hidden}")
        for table in _ROW_TABLES:
            names = ", ".join(f'"{c}"' for c in _columns(conn, schema, table))
            verb = "INSERT OR REPLACE" if table == "files" else "INSERT"
            conn.execute(f"{verb} INTO main.{table}({names}) SELECT {names} "
                         f"FROM {schema}.{table}")
        conn.execute("INSERT OR IGNORE INTO main.embeddings(model, hash, vector) "
                     f"SELECT model, hash, vector FROM {schema}.embeddings")
