"""The Ray engine's worker side: an actor that reads, cleans, chunks and embeds files.

Each actor of the pool holds one embedder (its model loads once, on first use) and runs
the local engine's own functions: ``read_source``, ``parse_file`` (reading and chunking),
``text_hash``. A batch of files comes in as columns (``seq``, ``path``, ``doc_id``); one
row per file goes out, written to shard files by Ray Data: documents and chunks as JSON,
new vectors as little-endian float32 bytes (no pickle). This module imports no Ray.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from ..citation import Chunk
from ..config import Settings
from ..document import Document, SourceMap
from ..embed.base import Embedder, text_hash
from ..ingest.decoding import Unreadable
from ..ingest.discovery import read_source
from ..ingest.sources import SourceFile
from .builder import parse_file

HASH_PREFIX = 32  # hex digits of a text hash sent to workers as "already cached"
# A document travels as its fields (its source map as JSON), a chunk as the values of
# its fields but those its document gives (its id, and its text as a slice of the text).
_CHUNK_FIELDS = tuple(f.name for f in fields(Chunk) if f.name not in ("doc_id", "text"))


def cached_keys(hashes: list[str]) -> np.ndarray:
    """Sorted hash prefixes, for a quick "is this vector cached?" on the workers."""
    return np.array(sorted(h[:HASH_PREFIX] for h in hashes), dtype=f"S{HASH_PREFIX}")


def encode_documents(pairs: list[tuple[Document, list[Chunk]]]) -> str:
    """Documents and their chunks as JSON (a chunk's text is its document's slice)."""
    return json.dumps([
        {**{f.name: getattr(doc, f.name) for f in fields(Document)},
         "source_map": doc.source_map.to_json() if doc.source_map else None,
         "chunks": [[getattr(c, name) for name in _CHUNK_FIELDS] for c in chunks]}
        for doc, chunks in pairs])


def decode_documents(data: str) -> list[tuple[Document, list[Chunk]]]:
    """The inverse of ``encode_documents``."""
    out = []
    for item in json.loads(data):
        doc = Document(**{**{f.name: item[f.name] for f in fields(Document)},
                          "source_map": SourceMap.from_json(item["source_map"])})
        chunks = []
        for values in item["chunks"]:
            chunk = dict(zip(_CHUNK_FIELDS, values, strict=True))
            chunks.append(Chunk(doc_id=doc.doc_id, text=doc.text[chunk["start"]:chunk["end"]],
                                **chunk))
        out.append((doc, chunks))
    return out


class FileWorker:
    """A Ray Data callable class: files in, parsed and embedded files out."""

    def __init__(self, embedder: Embedder, settings: Settings, cached: np.ndarray) -> None:
        self.embedder = embedder
        self.settings = settings
        self.cached = cached

    def _is_cached(self, hashes: list[str]) -> np.ndarray:
        if not len(self.cached) or not hashes:
            return np.zeros(len(hashes), dtype=bool)
        keys = np.array([h[:HASH_PREFIX] for h in hashes], dtype=self.cached.dtype)
        pos = np.minimum(np.searchsorted(self.cached, keys), len(self.cached) - 1)
        return np.asarray(self.cached[pos] == keys, dtype=bool)

    def parse(self, seq: int, path: str, doc_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """One file's row (without vectors) and its passages' {hash: embedding text}."""
        row: dict[str, Any] = {"seq": seq, "sha": "", "size": 0, "error": "",
                               "skipped": "[]", "documents": "[]"}
        source = SourceFile(path=Path(path), doc_id=doc_id)
        try:
            data = read_source(source.path)
        except Unreadable as exc:
            row["error"] = str(exc)
            return row, {}
        parsed = parse_file(source, data, self.embedder, self.settings)
        pairs = [(doc, list(chunks)) for doc, chunks in parsed.documents]
        row["sha"], row["size"] = parsed.sha, parsed.size
        row["skipped"] = json.dumps([[s.source, s.reason] for s in parsed.skipped])
        row["documents"] = encode_documents(pairs)
        texts = {text_hash(c.embed_text): c.embed_text for _, chunks in pairs for c in chunks}
        return row, texts

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[Any]]:
        parsed = [self.parse(int(seq), str(path), str(doc_id)) for seq, path, doc_id in
                  zip(batch["seq"], batch["path"], batch["doc_id"], strict=True)]
        wanted: dict[str, str] = {}
        for _, texts in parsed:
            for h, text in texts.items():
                wanted.setdefault(h, text)
        hashes = [h for h, done in zip(wanted, self._is_cached(list(wanted)), strict=True)
                  if not done]
        vectors = self.embedder.encode([wanted[h] for h in hashes],
                                       batch_size=self.settings.batch_size)
        position = {h: i for i, h in enumerate(hashes)}
        sent: set[str] = set()
        rows = []
        for row, texts in parsed:  # each new vector travels once, with the first file
            mine = [h for h in texts if h in position and h not in sent]
            sent.update(mine)
            block = vectors[[position[h] for h in mine]]
            rows.append({**row, "hashes": json.dumps(mine),
                         "vectors": np.ascontiguousarray(block, dtype="<f4").tobytes()})
        return {key: [r[key] for r in rows] for key in rows[0]} if rows else {}
