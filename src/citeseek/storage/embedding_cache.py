"""The embedding cache of a generation's database: vectors by (model, text hash), read
and written in blocks, and taken over from the databases of interrupted builds.

Each level caches the vectors of the passages its build added that no lower level had;
a passage's vector is in its own level or one below (never above), so the top level's
passages are what a build embeds, and a level's index is built from its own passages."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from .sql import Part, in_batches


class EmbeddingCache(Part):
    """``GenerationDB.embeddings``: its ``embeddings`` tables, one per level."""

    def _schemas(self) -> list[str]:
        return [lv.schema for lv in self._db.levels]

    def _vector_of(self, hash_column: str) -> str:
        """SQL for the vector of ``hash_column`` (the model is ``:model``): the top
        level's, else the nearest level's below."""
        found = [f"(SELECT vector FROM {s}.embeddings WHERE model=:model AND hash={hash_column})"
                 for s in reversed(self._schemas())]
        return found[0] if len(found) == 1 else f"coalesce({', '.join(found)})"

    def missing_ids(self, model: str) -> np.ndarray:
        """One chunk id per embedding text of the top level not yet cached for ``model``
        in any level, shortest first.

        Only ids are held, so memory stays small however many passages wait; sorted by
        length, each batch holds texts of similar length and the model pads little."""
        absent = " AND ".join(f"NOT EXISTS (SELECT 1 FROM {s}.embeddings e WHERE "
                              "e.model=:model AND e.hash=c.embed_hash)" for s in self._schemas())
        rows = self.conn.execute(
            f"SELECT min(c.chunk_id) FROM main.chunks c WHERE {absent} GROUP BY c.embed_hash "
            "ORDER BY length(c.text)", {"model": model})
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def inputs(self, chunk_ids: Sequence[int] | np.ndarray,
               ) -> list[tuple[str, str, str | None]]:
        """(embedding hash, chunk text, title) for ``chunk_ids``, in their order."""
        found: dict[int, tuple[str, str, str | None]] = {}
        sql = self._db.union(lambda lv: (
            f"SELECT c.chunk_id, c.embed_hash, c.text, d.title FROM {lv.schema}.chunks c "
            f"JOIN {lv.schema}.documents d USING(doc_id) WHERE c.chunk_id IN ({{marks}})"))
        for part, marks in in_batches(chunk_ids):
            for cid, h, text, title in self.conn.execute(sql.format(marks=marks),
                                                         self._db.params(part)):
                found[cid] = (h, text, title)
        return [found[int(cid)] for cid in chunk_ids]

    def harvest(self, other: Path, model: str, dim: int) -> int:
        """Copy ``model``'s cached vectors that this database lacks from another database file
        (a build that never finished), so they are not computed again. A damaged or
        half-written file gives nothing rather than an error."""
        if not other.is_file():
            return 0
        try:  # read-write, so SQLite rolls back what the dead build had not committed
            self.conn.execute("ATTACH DATABASE ? AS leftover", (str(other),))
        except sqlite3.Error:
            return 0
        try:
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO main.embeddings SELECT model, hash, vector FROM "
                "leftover.embeddings WHERE model=? AND length(vector)=?", (model, 4 * dim))
            return max(cur.rowcount, 0)
        except sqlite3.Error:
            return 0
        finally:
            self.conn.execute("DETACH DATABASE leftover")

    def put(self, model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        data = np.ascontiguousarray(vectors, dtype="<f4")
        self.conn.executemany(
            "INSERT OR REPLACE INTO main.embeddings VALUES (?,?,?)",
            ((model, h, data[i].tobytes()) for i, h in enumerate(hashes)))

    def hashes(self, model: str) -> list[str]:
        """The text hashes whose vectors are cached for ``model``, in any level."""
        return [h for (h,) in self.conn.execute(" UNION ".join(
            f"SELECT hash FROM {s}.embeddings WHERE model=:model" for s in self._schemas())
            + " ORDER BY 1", {"model": model})]

    def sample(self, model: str, dim: int, limit: int) -> np.ndarray:
        """About ``limit`` cached vectors, a uniform sample: hashes are uniformly spread,
        so those below a cut-off are a random draw (and the same on every run)."""
        total = self.conn.execute("SELECT count(*) FROM main.embeddings WHERE model=?",
                                  (model,)).fetchone()[0]
        cut = f"{min(0xFFFFFFFF, (0xFFFFFFFF * limit) // max(total, 1)):08x}"
        rows = self.conn.execute("SELECT vector FROM main.embeddings WHERE model=? AND "
                                 "substr(hash, 1, 8)<=? LIMIT ?", (model, cut, limit))
        return np.frombuffer(b"".join(r[0] for r in rows), dtype="<f4").reshape(-1, dim)

    def prune(self, model: str) -> int:
        """Drop the top level's cached vectors that none of its passages uses (and every
        other model's): a lower level's passages never use them."""
        cur = self.conn.execute(
            "DELETE FROM main.embeddings WHERE model<>? OR hash NOT IN "
            "(SELECT embed_hash FROM main.chunks)", (model,))
        return cur.rowcount

    def blocks(self, model: str, dim: int, *,
                     batch: int = 20000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(chunk ids, vectors) of the top level's passages in blocks, in chunk id order
        (with no level below, the passages' vectors are the top level's own)."""
        sql = ("SELECT c.chunk_id, e.vector FROM main.chunks c JOIN main.embeddings e "
               "ON e.model=:model AND e.hash=c.embed_hash ORDER BY c.chunk_id")
        if len(self._schemas()) > 1:
            sql = (f"SELECT * FROM (SELECT c.chunk_id, {self._vector_of('c.embed_hash')} v "
                   "FROM main.chunks c) WHERE v IS NOT NULL ORDER BY 1")
        cur = self.conn.execute(sql, {"model": model})
        while rows := cur.fetchmany(batch):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(-1, dim)
            yield ids, vecs

    def vectors_for(self, model: str, dim: int,
                    chunk_ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(ids found, their vectors) for ``chunk_ids``, from whichever level holds each."""
        got_ids: list[int] = []
        blobs: list[bytes] = []
        sql = ("SELECT c.chunk_id, e.vector FROM main.chunks c JOIN main.embeddings e "
               "ON e.model=:model AND e.hash=c.embed_hash WHERE c.chunk_id IN ({marks})")
        if len(self._schemas()) > 1:
            sql = self._db.union(lambda lv: (
                f"SELECT * FROM (SELECT c.chunk_id, {self._vector_of('c.embed_hash')} v "
                f"FROM {lv.schema}.chunks c WHERE c.chunk_id IN ({{marks}})) "
                "WHERE v IS NOT NULL"))
        for part, _ in in_batches(chunk_ids):
            marks = ",".join(f":i{i}" for i in range(len(part)))
            args = {"model": model, **{f"i{i}": cid for i, cid in enumerate(part)}}
            for cid, blob in self.conn.execute(sql.format(marks=marks), args):
                got_ids.append(cid)
                blobs.append(blob)
        vecs = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, dim)
        return np.asarray(got_ids, dtype=np.int64), vecs
