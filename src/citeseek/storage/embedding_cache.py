"""The embedding cache of a generation's database: vectors by (model, text hash), read
and written in blocks, and taken over from the databases of interrupted builds."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from .sql import Part, in_batches


class EmbeddingCache(Part):
    """``GenerationDB.embeddings``: its ``embeddings`` table."""

    def missing_ids(self, model: str) -> np.ndarray:
        """One chunk id per embedding text not yet cached for ``model``, shortest first.

        Only ids are held, so memory stays small however many passages wait; sorted by
        length, each batch holds texts of similar length and the model pads little."""
        rows = self.conn.execute(
            "SELECT min(c.chunk_id) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM "
            "embeddings e WHERE e.model=? AND e.hash=c.embed_hash) GROUP BY c.embed_hash "
            "ORDER BY length(c.text)", (model,))
        return np.fromiter((r[0] for r in rows), dtype=np.int64)

    def inputs(self, chunk_ids: Sequence[int] | np.ndarray,
               ) -> list[tuple[str, str, str | None]]:
        """(embedding hash, chunk text, title) for ``chunk_ids``, in their order."""
        found: dict[int, tuple[str, str, str | None]] = {}
        for part, marks in in_batches(chunk_ids):
            for cid, h, text, title in self.conn.execute(
                    f"SELECT c.chunk_id, c.embed_hash, c.text, d.title FROM chunks c JOIN "
                    f"documents d USING(doc_id) WHERE c.chunk_id IN ({marks})", part):
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
                "INSERT OR IGNORE INTO embeddings SELECT model, hash, vector FROM "
                "leftover.embeddings WHERE model=? AND length(vector)=?", (model, 4 * dim))
            return max(cur.rowcount, 0)
        except sqlite3.Error:
            return 0
        finally:
            self.conn.execute("DETACH DATABASE leftover")

    def put(self, model: str, hashes: Sequence[str], vectors: np.ndarray) -> None:
        data = np.ascontiguousarray(vectors, dtype="<f4")
        self.conn.executemany(
            "INSERT OR REPLACE INTO embeddings VALUES (?,?,?)",
            ((model, h, data[i].tobytes()) for i, h in enumerate(hashes)))

    def hashes(self, model: str) -> list[str]:
        """The text hashes whose vectors are cached for ``model``."""
        return [h for (h,) in self.conn.execute(
            "SELECT hash FROM embeddings WHERE model=? ORDER BY hash", (model,))]

    def sample(self, model: str, dim: int, limit: int) -> np.ndarray:
        """About ``limit`` cached vectors, a uniform sample: hashes are uniformly spread,
        so those below a cut-off are a random draw (and the same on every run)."""
        total = self.conn.execute("SELECT count(*) FROM embeddings WHERE model=?",
                                  (model,)).fetchone()[0]
        cut = f"{min(0xFFFFFFFF, (0xFFFFFFFF * limit) // max(total, 1)):08x}"
        rows = self.conn.execute("SELECT vector FROM embeddings WHERE model=? AND "
                                 "substr(hash, 1, 8)<=? LIMIT ?", (model, cut, limit))
        return np.frombuffer(b"".join(r[0] for r in rows), dtype="<f4").reshape(-1, dim)

    def prune(self, model: str) -> int:
        """Drop cached vectors no chunk uses (and every other model's)."""
        cur = self.conn.execute(
            "DELETE FROM embeddings WHERE model<>? OR hash NOT IN "
            "(SELECT embed_hash FROM chunks)", (model,))
        return cur.rowcount

    def blocks(self, model: str, dim: int, *,
                     batch: int = 20000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(chunk ids, vectors) in blocks, in chunk id order."""
        cur = self.conn.execute(
            "SELECT c.chunk_id, e.vector FROM chunks c JOIN embeddings e "
            "ON e.model=? AND e.hash=c.embed_hash ORDER BY c.chunk_id", (model,))
        while rows := cur.fetchmany(batch):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(-1, dim)
            yield ids, vecs

    def vectors_for(self, model: str, dim: int,
                    chunk_ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        got_ids: list[int] = []
        blobs: list[bytes] = []
        for part, marks in in_batches(chunk_ids):
            for cid, blob in self.conn.execute(
                f"SELECT c.chunk_id, e.vector FROM chunks c JOIN embeddings e ON e.model=? "
                f"AND e.hash=c.embed_hash WHERE c.chunk_id IN ({marks})", [model, *part]):
                got_ids.append(cid)
                blobs.append(blob)
        vecs = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, dim)
        return np.asarray(got_ids, dtype=np.int64), vecs
