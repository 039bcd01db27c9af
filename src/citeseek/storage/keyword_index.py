"""The FTS5 keyword index of a schema-1 store (``chunks_fts`` in its ``store.sqlite``),
read-only: BM25 search over passages (title and body, Porter stemming) and how many
passages hold a word, so that collections built before the Tantivy index rank as they
did. Any user text is turned into a safe FTS5 query first."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .sql import Part
from .tantivy_index import query_words

_SQLITE_MAX_INT = 2**63 - 1


def fts_query(text: str) -> str | None:
    """Any user text -> a safe FTS5 query: its words, each quoted, joined by OR.

    Quoting every term means no input (quotes, AND/NOT/NEAR, '*', brackets) can be read
    as FTS5 syntax; stopwords are dropped unless nothing else is left.
    """
    unique = query_words(text)
    if not unique:
        return None
    return " OR ".join('"' + w.replace('"', '""') + '"' for w in unique)


class KeywordIndex(Part):
    """``GenerationDB.keywords`` of a schema-1 store: its ``chunks_fts`` table."""

    def search(self, query: str, k: int, *,
               allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """BM25 over passages (title and body); higher score is better."""
        match = fts_query(query)
        if match is None or k <= 0:
            return []
        sql = ("SELECT rowid, -bm25(chunks_fts, 2.0, 1.0) AS score FROM chunks_fts "
               "WHERE chunks_fts MATCH ?")
        params: list[Any] = [match]
        if allowed is not None:
            if not allowed:
                return []
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS allowed_ids("
                              "id INTEGER PRIMARY KEY)")
            self.conn.execute("DELETE FROM allowed_ids")
            self.conn.executemany("INSERT INTO allowed_ids VALUES (?)",
                                  ((int(i),) for i in allowed))
            sql += " AND rowid IN (SELECT id FROM allowed_ids)"
        sql += " ORDER BY score DESC LIMIT ?"
        params.append(min(k, _SQLITE_MAX_INT))  # k may be any size; SQLite's is 64-bit
        return [(int(r), float(s)) for r, s in self.conn.execute(sql, params)]

    def frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """How many passages hold each word (stemmed the way the keyword index stems),
        for weighting a question's rare words."""
        out: dict[str, int] = {}
        for word in dict.fromkeys(words):
            match = fts_query(word)
            out[word] = 0 if match is None else int(self.conn.execute(
                "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                (match,)).fetchone()[0])
        return out

    def close(self) -> None:
        """The table is read through the database's own connection."""
