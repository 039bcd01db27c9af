"""Choosing passages and documents in a generation's database: the passages filters
leave (glob patterns over sources or ids, dates, exact ids, through temporary tables so
any number of them makes one short statement) and document ids by prefix.

Names are compared in Unicode's composed form (NFC) on both sides, so a pattern typed
``café`` matches a file name stored decomposed (as macOS writes it); what is stored is
never changed."""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Sequence

from ..errors import UsageError
from .sql import Part


class Selection(Part):
    """``GenerationDB.selection``: the ids that filters and prefixes choose."""

    def chunk_ids_matching(self, *, sources: Sequence[str] = (), date_from: str | None = None,
                           date_to: str | None = None,
                           doc_ids: Sequence[str] = ()) -> list[int]:
        """Chunk ids of the documents that pass every given filter: ``sources`` (globs
        over source path or document id, any may match), dates (inclusive; a document
        without a date fails either bound) and exact ``doc_ids``. Patterns and ids go
        through temporary tables, so any number of them makes one short statement."""
        where, params = ["1"], []
        if sources:
            self._temp_values("filter_patterns", [nfc(p) for p in sources])
            # Only a name with a character beyond ASCII can differ from its NFC form.
            self.conn.create_function("citeseek_nfc", 1, nfc, deterministic=True)
            where.append("EXISTS (SELECT 1 FROM temp.filter_patterns p "
                         "WHERE d.source GLOB p.v OR d.doc_id GLOB p.v "
                         "OR (d.source GLOB '*[^ -~]*' AND citeseek_nfc(d.source) GLOB p.v) "
                         "OR (d.doc_id GLOB '*[^ -~]*' AND citeseek_nfc(d.doc_id) GLOB p.v))")
        if date_from:
            where.append("d.date >= ?")
            params.append(date_from)
        if date_to:
            where.append("d.date <= ?")
            params.append(date_to)
        if doc_ids:
            self._temp_values("filter_ids", doc_ids)
            where.append("d.doc_id IN (SELECT v FROM temp.filter_ids)")
        sql = self._db.union(lambda lv: (
            f"SELECT c.chunk_id FROM {lv.schema}.chunks c JOIN {lv.schema}.documents d "
            f"USING(doc_id) WHERE {' AND '.join(where)} AND "
            f"{lv.documents_visible('d.doc_id')}"))
        try:
            return [r[0] for r in self.conn.execute(sql, self._db.params(params))]
        except sqlite3.OperationalError as exc:
            if "pattern" not in str(exc):
                raise
            raise UsageError(f"a sources pattern SQLite cannot match: {exc}") from None

    def _temp_values(self, table: str, values: Sequence[str]) -> None:
        """This connection's temporary table ``table`` holding exactly ``values``."""
        self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table}(v TEXT)")
        self.conn.execute(f"DELETE FROM temp.{table}")
        self.conn.executemany(f"INSERT INTO temp.{table} VALUES (?)", ((v,) for v in values))

    def chunk_ids_outside(self, doc_id: str) -> list[int]:
        """Chunk ids of every document but ``doc_id``."""
        return [r[0] for r in self.conn.execute(self._db.union(lambda lv: (
            f"SELECT chunk_id FROM {lv.schema}.chunks c WHERE doc_id<>? AND "
            f"{lv.documents_visible('c.doc_id')}")), self._db.params([doc_id]))]

    def doc_ids_from(self, prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` document ids that start with ``prefix``, in order (a range scan
        of the primary key: such ids sort right after the prefix itself)."""
        rows = self.conn.execute(self._db.union(lambda lv: (
            f"SELECT * FROM (SELECT doc_id FROM {lv.schema}.documents d WHERE doc_id >= ? "
            f"AND {lv.documents_visible('d.doc_id')} ORDER BY doc_id LIMIT ?)"))
            + " ORDER BY 1 LIMIT ?", [*self._db.params([prefix, limit]), limit])
        return [r[0] for r in rows if r[0].startswith(prefix)]

    def doc_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute(self._db.union(lambda lv: (
            f"SELECT doc_id FROM {lv.schema}.documents d WHERE "
            f"{lv.documents_visible('d.doc_id')}")))]


def nfc(text: str) -> str:
    """``text`` in Unicode's composed form (ASCII, the common case, as is)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)
