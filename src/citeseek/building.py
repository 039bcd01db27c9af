"""The build: files -> a new verified generation, published atomically.

Only files whose bytes changed are parsed again, and only passages whose embedding
text is not cached for the model are embedded. When nothing changed, no generation is
written at all.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import layout
from .build_report import BuildReport, versions
from .chunking import Chunk, chunk_document, embed_text_for
from .config import Settings
from .document import Document
from .embedding import Embedder, text_hash
from .errors import BuildError, CiteseekError, ModelMismatch
from .index_tuning import tune
from .progress import progress_bar
from .readers import Skipped, SourceFile, Unreadable, discover, read_file, read_source
from .store import Store
from .vector_index import VectorIndex

_COMMIT_EVERY = 200  # files per transaction while ingesting
_EMBED_BLOCK = 4096  # passages embedded per committed block: what an interruption can lose


class _Builder:
    def __init__(self, root: Path, settings: Settings, embedder: Embedder,
                 previous: str | None, prev_manifest: dict[str, Any] | None,
                 progress: bool, leftovers: list[str] | None = None) -> None:
        self.root = root
        self.settings = settings
        self.embedder = embedder
        self.previous = previous
        self.prev_manifest = prev_manifest
        self.progress = progress
        self.generation: str | None = None
        self.store: Store | None = None
        self.pending = 0
        self.leftovers = leftovers or []  # unpublished generations of interrupted builds
        self.harvested = 0

    def _reserve(self) -> Path:
        """The new generation's folder, created on first use (not yet holding a store)."""
        if self.generation is None:
            self.generation = layout.next_generation(self.root)
            (self.root / self.generation).mkdir(parents=True)
        return self.root / self.generation

    def _open_new(self) -> Store:
        """Start the new generation as a copy of the live one (made on first change)."""
        if self.store is None:
            target = self._reserve() / layout.STORE_FILE
            if self.previous:
                Store(self.root / self.previous / layout.STORE_FILE, readonly=True).copy_to(target)
            self.store = Store(target)
            self.store.conn.execute("BEGIN")
        return self.store

    def _tick(self) -> None:
        self.pending += 1
        if self.pending >= _COMMIT_EVERY and self.store is not None:
            self.store.conn.execute("COMMIT")
            self.store.conn.execute("BEGIN")
            self.pending = 0

    def ingest(self, source: SourceFile, data: bytes, sha: str, report: BuildReport) -> None:
        docs, skipped = read_file(source, data)
        self.record_file(source, sha, len(data), docs, skipped, report,
                         lambda doc: chunk_document(doc, self.embedder, self.settings))

    def record_file(self, source: SourceFile, sha: str, size: int, docs: list[Document],
                    skipped: list[Skipped], report: BuildReport,
                    chunks_of: Callable[[Document], list[Chunk]]) -> None:
        """Store one parsed file: its documents, chunked by ``chunks_of``, replace what the
        file held before. The seam where another engine hands in its parsed files."""
        report.skipped.extend(skipped)
        if not docs:
            # Unreadable: nothing is recorded, so it is reported again on every build;
            # a file that was readable before keeps its documents.
            return
        store = self._open_new()
        store.remove_file(source.key)
        before = len(report.skipped) - len(skipped)
        kept = 0
        for doc in docs:
            owner = store.document_owner(doc.doc_id)
            if owner is not None:
                report.skipped.append(Skipped(f"{source.path} ({doc.doc_id})",
                                              f"document id already used by {owner}"))
                continue
            chunks = chunks_of(doc)
            hashes = [text_hash(c.embed_text) for c in chunks]
            store.add_document(doc, chunks, hashes)
            kept += 1
        store.set_file(source.key, sha, size, kept,
                       [(s.source, s.reason) for s in report.skipped[before:]])
        report.files_changed += 1
        self._tick()

    def run(self, sources: Iterable[str | os.PathLike[str]], report: BuildReport) -> None:
        files, skipped = discover(sources)
        report.skipped.extend(skipped)
        report.files = len(files)
        old = Store(self.root / self.previous / layout.STORE_FILE, readonly=True) \
            if self.previous else None
        self.old_hashes = old.file_hashes() if old else {}
        prev_settings = Settings.from_dict(self.prev_manifest["settings"]) \
            if self.prev_manifest else None
        same = prev_settings is not None and \
            prev_settings.chunking_key() == self.settings.chunking_key()
        if prev_settings is not None and prev_settings != self.settings:
            self._open_new()  # e.g. another index type: a new generation even if no file changed
        # Files that are gone leave first: their document ids are then free for the
        # files that replace them (a folder moved or indexed from another path).
        seen = {s.key for s in files}
        gone = [key for key in self.old_hashes if key not in seen]
        if gone:
            store = self._open_new()
            for key in gone:
                store.remove_file(key)
            report.files_removed = len(gone)
        self.process(self._changed(files, old, same, report), report)
        if self.store is None:
            return
        self.store.conn.execute("COMMIT")
        report.embedded += self._embed()
        report.reused = self.harvested
        self._finish(report)

    def _changed(self, files: list[SourceFile], old: Store | None, same: bool,
                 report: BuildReport) -> Iterator[tuple[SourceFile, bytes, str]]:
        """(file, bytes, sha256) of each file whose bytes differ from the live build's."""
        for source in files:
            try:
                data = read_source(source.path)
            except Unreadable as exc:
                report.skipped.append(Skipped(str(source.path), str(exc)))
                continue
            # The hash is of the very bytes parsed: a file changed after this read is
            # seen as changed by the next build, never recorded as already indexed.
            sha = hashlib.sha256(data).hexdigest()
            if same and self.old_hashes.get(source.key) == sha:
                assert old is not None
                report.skipped.extend(Skipped(*item) for item in old.file_skips(source.key))
                continue
            yield source, data, sha

    def process(self, changed: Iterable[tuple[SourceFile, bytes, str]],
                report: BuildReport) -> None:
        """Parse, chunk and store the changed files, one at a time, here."""
        for source, data, sha in changed:
            self.ingest(source, data, sha, report)

    def _harvest(self, dim: int) -> None:
        """Take the vectors that interrupted builds had computed, then remove their
        folders: a build killed while embedding resumes where it stopped."""
        assert self.store is not None
        for name in self.leftovers:
            self.harvested += self.store.harvest_embeddings(
                self.root / name / layout.STORE_FILE, self.embedder.model_id, dim)
        if self.leftovers:
            keep = {self.generation} | ({self.previous} if self.previous else set())
            layout.remove_stale(self.root, keep={g for g in keep if g})
            self.leftovers = []

    def _embed(self) -> int:
        """Embed every passage text not cached yet, shortest first, in committed blocks."""
        assert self.store is not None
        model = self.embedder.model_id
        dim = (self.prev_manifest["model"]["dimension"] if self.prev_manifest
               else self.embedder.dimension)
        self._harvest(dim)
        ids = self.store.missing_embedding_ids(model)
        if not len(ids):
            return 0
        with progress_bar(total=len(ids), desc="embedding", unit="passage",
                          disable=not self.progress or len(ids) < 64) as bar:
            for i in range(0, len(ids), _EMBED_BLOCK):
                rows = self.store.embedding_inputs(ids[i:i + _EMBED_BLOCK])
                texts = [embed_text_for(title, text, self.settings) for _, text, title in rows]
                vecs = self.embedder.encode(texts, batch_size=self.settings.batch_size)
                self.store.conn.execute("BEGIN")
                self.store.put_embeddings(model, [h for h, _, _ in rows], vecs)
                self.store.conn.execute("COMMIT")
                bar.update(len(vecs))
        return len(ids)

    def build_index(self, store: Store, dim: int, n_vectors: int) -> VectorIndex:
        """The FAISS index of every passage's vector (the settings' factory, or by size)."""
        model = self.embedder.model_id
        return VectorIndex.build(lambda: store.iter_vectors(model, dim), dim, n_vectors,
                                 self.settings.index)

    def _finish(self, report: BuildReport) -> None:
        assert self.store is not None and self.generation is not None
        store, gen_dir = self.store, self.root / self.generation
        model, dim = self.embedder.model_id, self.embedder.dimension
        store.prune_embeddings(model)
        counts = store.counts()
        index = self.build_index(store, dim, counts["chunks"])
        if index.ntotal != counts["chunks"]:
            raise BuildError(f"{counts['chunks']} passages but {index.ntotal} vectors")
        measured = tune(index, lambda: store.iter_vectors(model, dim))
        store.conn.execute("VACUUM")
        store.close()
        index.save(gen_dir / layout.INDEX_FILE, release=True)
        layout.write_manifest(gen_dir, {
            "generation": self.generation,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model": {"id": model, "dimension": dim,
                      "max_seq_length": self.embedder.max_seq_length},
            "settings": self.settings.to_dict(),
            "counts": counts,
            "index": {"factory": index.factory, "ntotal": counts["chunks"],
                      "chosen": "auto" if self.settings.index == "auto" else "setting",
                      "search": index.search_params, **measured},
            "versions": versions(),
        })
        report.documents, report.chunks = counts["documents"], counts["chunks"]


def build_collection(sources: Iterable[str | os.PathLike[str]], root: Path, *,
                     settings: Settings, embedder: Embedder, progress: bool = True,
                     strict: bool = False,
                     builder_class: Callable[..., _Builder] | None = None) -> BuildReport:
    """Create or update the collection at ``root`` from ``sources``.

    ``builder_class`` (a ``_Builder`` subclass) lets another engine parse, chunk and
    embed the changed files; everything else (lock, store, index, publish) is shared."""
    started = time.perf_counter()
    with layout.build_lock(root):
        previous = layout.current_generation(root)
        prev_manifest = layout.read_manifest(root / previous) if previous else None
        if prev_manifest and prev_manifest["model"]["id"] != embedder.model_id:
            raise ModelMismatch(
                f"{root} was built with model {prev_manifest['model']['id']!r}, not "
                f"{embedder.model_id!r}; build into a new --store to change models")
        kept = {previous} if previous else set()
        leftovers = layout.unpublished(root)
        layout.remove_stale(root, keep=kept | set(leftovers))
        report = BuildReport(store=str(root), generation=None, previous=previous)
        builder = (builder_class or _Builder)(root, settings, embedder, previous,
                                              prev_manifest, progress, leftovers)
        try:
            builder.run(sources, report)
            if strict and report.skipped:
                raise BuildError(f"{len(report.skipped)} file(s) skipped and --strict is on:\n"
                                 + "\n".join(f"  {s}" for s in report.skipped))
            empty = report.documents == 0 if builder.generation else previous is None
            if empty:  # a mistyped path must not empty a collection
                raise BuildError("nothing to index: no readable articles found"
                                 + (f"; {previous} stays live" if previous else ""))
            if builder.generation is not None:
                layout.read_manifest(root / builder.generation, verify=True)
                layout.publish(root, builder.generation)
                layout.remove_stale(root, keep={builder.generation} | kept)
            else:
                layout.remove_stale(root, keep=kept)
        except BaseException as exc:
            if builder.store is not None:
                builder.store.close()
            if isinstance(exc, KeyboardInterrupt):
                raise  # its half-written generation is harvested by the next build
            if builder.generation is not None and layout.current_generation(root) != \
                    builder.generation:
                layout.remove_stale(root, keep=kept)
            if isinstance(exc, CiteseekError | KeyboardInterrupt):
                raise
            if isinstance(exc, OSError | sqlite3.Error):  # a full disk, an I/O error
                raise BuildError(f"build failed, {previous or 'nothing'} stays live: "
                                 f"{exc}") from exc
            raise
        report.generation = builder.generation
        if builder.generation is None and prev_manifest:
            report.documents = prev_manifest["counts"]["documents"]
            report.chunks = prev_manifest["counts"]["chunks"]
        report.seconds = time.perf_counter() - started
        return report
