"""The work of a build: changed files in, a new generation's store and index out.

Only files whose bytes changed are parsed again, and only passages whose embedding
text is not cached for the model are embedded. When nothing changed, no generation is
written at all. ``Builder`` runs every step here; another engine subclasses it and
replaces ``process`` (how changed files become ``ParsedFile``s) or ``build_index``.
Locking, verifying and publishing the result is ``publish.build_collection``'s job.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..citation import Chunk
from ..config import Settings
from ..document import Document
from ..embed.base import Embedder, text_hash
from ..errors import BuildError
from ..ingest.chunking import (
    WINDOW_CHARS,
    Tokenizer,
    embed_text_for,
    embedding_title,
    iter_chunks,
)
from ..ingest.decoding import Unreadable
from ..ingest.discovery import UNREADABLE_FOLDER, discover, read_source
from ..ingest.formats import READER_VERSIONS, read_by, read_file
from ..ingest.sources import Skipped, SourceFile
from ..progress import progress_bar
from ..storage import layout
from ..storage.database import GenerationDB
from ..storage.generation import store_of
from ..storage.manifest import Counts, IndexInfo, Manifest, ModelInfo
from ..storage.tantivy_index import TantivyWriter
from ..storage.tuning import tune
from ..storage.vector_index import VectorIndex
from . import stacking
from .report import BuildReport, versions
from .settings import PreviousBuild

COMMIT_EVERY = 200  # files per transaction while recording
CLASH = "document id already used by"  # the reason a document was left out of its file
EMBED_BLOCK = 4096  # passages embedded per committed block: what an interruption can lose
PARSE_BAR_FILES = 16  # fewer files than this are read without a bar
VACUUM_SHARE = 0.1  # free pages past this share of the store: rewritten without them


@dataclass
class ParsedFile:
    """One changed file, read and chunked: everything a build records for it.

    Each document's chunks may be a list or an iterator that makes them as they are
    stored (a long document's are never all in memory). ``vectors`` holds new embeddings
    an engine computed along the way (text hashes and their rows), stored with the file;
    the local engine embeds later, in bulk."""

    source: SourceFile
    sha: str
    size: int
    documents: Sequence[tuple[Document, Iterable[Chunk]]]
    skipped: list[Skipped]
    vectors: tuple[list[str], np.ndarray] | None = None


def parse_file(source: SourceFile, data: bytes, tokenizer: Tokenizer, settings: Settings,
               sha: str | None = None, *, window: int = WINDOW_CHARS) -> ParsedFile:
    """Read one file's bytes into documents, each with its chunks to come (made as they
    are stored; no embedding). ``sha`` is the bytes' SHA-256 where the caller has it."""
    docs, skipped = read_file(source, data)
    return ParsedFile(source, sha or hashlib.sha256(data).hexdigest(), len(data),
                      [(doc, iter_chunks(doc, tokenizer, settings, window=window))
                       for doc in docs], skipped)


class Builder:
    """One build of the collection at ``root`` (see the module docstring)."""

    commit_every = COMMIT_EVERY
    embed_block = EMBED_BLOCK
    chunk_window = WINDOW_CHARS

    def __init__(self, root: Path, settings: Settings, embedder: Embedder,
                 previous: PreviousBuild | None, leftovers: list[str] | None = None, *,
                 progress: bool = True, follow_links: bool = False) -> None:
        self.root = root
        self.follow_links = follow_links
        self.settings = settings
        self.embedder = embedder
        self.previous = previous  # the live generation this build starts from
        self.progress = progress
        self.generation: str | None = None
        self.db: GenerationDB | None = None
        self.leftovers = leftovers or []  # unpublished generations of interrupted builds
        self.harvested = 0
        self.old_hashes: dict[str, str] = {}
        self.stale_formats: set[str] = set()

    def _reserve(self) -> Path:
        """The new generation's folder, created on first use (not yet holding a database)."""
        if self.generation is None:
            self.generation = layout.next_generation(self.root)
            (self.root / self.generation).mkdir(parents=True)
        return self.root / self.generation

    def _open_new(self) -> GenerationDB:
        """Start the new generation from the live one (made on first change): a level
        stacked on its store's, or one store holding all of it (``stacking``); its
        keyword index's files linked (a store of schema 1, without them, has its
        passages indexed anew)."""
        if self.db is None:
            gen_dir = self._reserve()
            linked: Path | None = None
            below: list[Path] = []
            before = self.previous.manifest.settings if self.previous else None
            same = before is not None and before.index == self.settings.index and \
                before.chunking_key() == self.settings.chunking_key()
            if self.previous and stacking.stacks(self.previous, same):
                target, below = stacking.start_stacked(self.root, gen_dir, self.previous)
            else:
                target = stacking.start_flat(self.root, gen_dir, self.previous)
            if self.previous and self.previous.manifest.keyword_dir:
                linked = self.root / self.previous.name / self.previous.manifest.keyword_dir
            writer = TantivyWriter(gen_dir / layout.KEYWORD_DIR, start_from=linked)
            self.db = GenerationDB(target, below=below, keyword_writer=writer)
            if self.previous and linked is None:
                writer.add(self.db.keyword_rows())
        return self.db

    def start_new(self) -> None:
        """Write a new generation even should no file have changed."""
        self._open_new()

    def discover(self, sources: Iterable[str | os.PathLike[str]],
                 ) -> tuple[list[SourceFile], list[Skipped]]:
        """The article files under ``sources``, and what was skipped while looking (the
        collection's own folder is never read as articles)."""
        return discover(sources, follow_links=self.follow_links, exclude=[self.root])

    def run(self, sources: Iterable[str | os.PathLike[str]], report: BuildReport) -> None:
        files, skipped = self.discover(sources)
        report.skipped.extend(skipped)
        report.files = len(files)
        old = store_of(self.root / self.previous.name, self.previous.manifest) \
            if self.previous else None
        self.old_hashes = old.file_hashes() if old else {}
        prev_settings = self.previous.manifest.settings if self.previous else None
        same = prev_settings is not None and \
            prev_settings.chunking_key() == self.settings.chunking_key()
        read_by = (self.previous.manifest.readers if self.previous else None) or {}
        self.stale_formats = {fmt for fmt, version in READER_VERSIONS.items()
                              if read_by.get(fmt, 1) != version}
        if prev_settings is not None and prev_settings != self.settings:
            self._open_new()  # e.g. another index type: a new generation even if no file changed
        # Files that are gone leave first: their document ids are then free for the
        # files that replace them (a folder moved or indexed from another path).
        seen = {s.key for s in files}
        # What was under a folder that cannot be read now is not gone: it stays as it was.
        hidden = tuple(s.source.rstrip("/") + "/" for s in skipped
                       if s.reason.startswith(UNREADABLE_FOLDER))
        gone = [key for key in self.old_hashes if key not in seen and not key.startswith(hidden)]
        if gone:
            db = self._open_new()
            with db.transaction():
                for key in gone:
                    db.remove_file(key)
            report.files_removed = len(gone)
        clashed: list[SourceFile] = []
        self.process(self._changed(files, old, same, report, clashed), report)
        if clashed and (report.files_changed or report.files_removed):
            # Documents may have left the ids these files' documents were refused: read
            # them again (their bytes did not change, their outcome may).
            self.process(self._read(clashed, report), report)
        elif old is not None:
            for source in clashed:
                report.skipped.extend(Skipped(*item) for item in old.file_skips(source.key))
        if self.db is None:
            return
        report.embedded += self._embed()
        report.reused = self.harvested
        self._finish(report)

    def _changed(self, files: list[SourceFile], old: GenerationDB | None, same: bool,
                 report: BuildReport, clashed: list[SourceFile],
                 ) -> Iterator[tuple[SourceFile, bytes, str]]:
        """(file, bytes, sha256) of each file whose bytes differ from the live build's.
        Unchanged files that had a document refused for its id go to ``clashed``."""
        for source, data, sha in self._read(files, report):
            if same and self.old_hashes.get(source.key) == sha and \
                    not read_by(source.path, data) & self.stale_formats:
                assert old is not None
                skips = old.file_skips(source.key)
                if any(reason.startswith(CLASH) for _, reason in skips):
                    clashed.append(source)
                else:
                    report.skipped.extend(Skipped(*item) for item in skips)
                continue
            yield source, data, sha

    def _read(self, files: list[SourceFile], report: BuildReport,
              ) -> Iterator[tuple[SourceFile, bytes, str]]:
        """(file, bytes, sha256) of each of ``files`` that can be read, with a bar that
        moves as files are read and parsed (parsing happens between the yields)."""
        with progress_bar(total=len(files), desc="reading", unit="file",
                          disable=not self.progress or len(files) < PARSE_BAR_FILES) as bar:
            for source in files:
                bar.update(1)
                try:
                    data = read_source(source.path)
                except Unreadable as exc:
                    report.skipped.append(Skipped(source.key, str(exc)))
                    continue
                # The hash is of the very bytes parsed: a file changed after this read is
                # seen as changed by the next build, never recorded as already indexed.
                yield source, data, hashlib.sha256(data).hexdigest()

    def process(self, changed: Iterable[tuple[SourceFile, bytes, str]],
                report: BuildReport) -> None:
        """Parse, chunk and record the changed files, one at a time, here."""
        self.record((parse_file(source, data, self.embedder, self.settings, sha,
                                window=self.chunk_window)
                     for source, data, sha in changed), report)

    def record(self, parsed: Iterable[ParsedFile], report: BuildReport) -> None:
        """Record parsed files, ``commit_every`` of them to a transaction. A file with no
        readable document records nothing (it is reported again on every build, and a
        file that was readable before keeps its documents)."""
        readable = (item for item in parsed if self._report_skips(item, report))
        for first in readable:
            db = self._open_new()
            with db.transaction():
                for item in itertools.chain([first], itertools.islice(
                        readable, self.commit_every - 1)):
                    self._record_file(db, item, report)

    @staticmethod
    def _report_skips(item: ParsedFile, report: BuildReport) -> bool:
        report.skipped.extend(item.skipped)
        return bool(item.documents)

    def _record_file(self, db: GenerationDB, item: ParsedFile, report: BuildReport) -> None:
        """Replace what the file held before with its documents, chunks and vectors."""
        db.remove_file(item.source.key)
        problems = list(item.skipped)
        kept = 0
        for doc, chunks in item.documents:
            owner = db.document_owner(doc.doc_id)
            if owner is not None:
                clash = Skipped(f"{item.source.key} ({doc.doc_id})", f"{CLASH} {owner}")
                report.skipped.append(clash)
                problems.append(clash)
                continue
            db.add_document(doc, ((c, text_hash(c.embed_text)) for c in chunks))
            kept += 1
        db.set_file(item.source.key, item.sha, item.size, kept,
                       [(s.source, s.reason) for s in problems])
        if item.vectors is not None and item.vectors[0]:
            db.embeddings.put(self.embedder.model_id, *item.vectors)
            report.embedded += len(item.vectors[0])
        report.files_changed += 1

    def _harvest(self, dim: int) -> None:
        """Take the vectors that interrupted builds had computed, then remove their
        folders: a build killed while embedding resumes where it stopped."""
        assert self.db is not None
        live = self.root / self.previous.name if self.previous else None
        for name in self.leftovers:
            own = stacking.own_store(self.root, name, live)
            if own is not None:
                self.harvested += self.db.embeddings.harvest(own, self.embedder.model_id, dim)
        if self.leftovers:
            keep = set(layout.generations(self.root)) - set(self.leftovers)
            layout.remove_stale(self.root, keep=keep)
            self.leftovers = []

    def _embed(self) -> int:
        """Embed every passage text not cached yet, shortest first, in committed blocks."""
        assert self.db is not None
        db, model = self.db, self.embedder.model_id
        dim = (self.previous.manifest.model.dimension if self.previous
               else self.embedder.dimension)
        self._harvest(dim)
        ids = db.embeddings.missing_ids(model)
        if not len(ids):
            return 0
        with progress_bar(total=len(ids), desc="embedding", unit="passage",
                          disable=not self.progress or len(ids) < 64) as bar:
            titles: dict[str | None, str | None] = {}
            for i in range(0, len(ids), self.embed_block):
                rows = db.embeddings.inputs(ids[i:i + self.embed_block])
                for _, _, title in rows:
                    if title not in titles:
                        titles[title] = embedding_title(title, self.embedder, self.settings)[0]
                texts = [embed_text_for(titles[title], text, self.settings)
                         for _, text, title in rows]
                vecs = self.embedder.encode(texts, batch_size=self.settings.batch_size)
                with db.transaction():
                    db.embeddings.put(model, [h for h, _, _ in rows], vecs)
                bar.update(len(vecs))
        return len(ids)

    def build_index(self, db: GenerationDB, dim: int, n_vectors: int) -> VectorIndex:
        """The FAISS index of every passage's vector (the settings' factory, or by size)."""
        model = self.embedder.model_id
        return VectorIndex.build(lambda: db.embeddings.blocks(model, dim), dim, n_vectors,
                                 self.settings.index)

    def _finish(self, report: BuildReport) -> None:
        assert self.db is not None and self.generation is not None
        gen_dir, model = self.root / self.generation, self.embedder.model_id
        self.db.embeddings.prune(model)
        if stacking.flatten_needed(self.db):
            self.db = stacking.flatten(self.db, gen_dir)
            self.db.embeddings.prune(model)
        db, dim = self.db, self.embedder.dimension
        counts = db.counts()
        if db.below:
            assert self.previous is not None
            index, info = stacking.top_index(db, gen_dir, self.previous.manifest, model, dim,
                                             counts["chunks"])
        else:
            index = self.build_index(db, dim, counts["chunks"])
            if index.ntotal != counts["chunks"]:
                raise BuildError(f"{counts['chunks']} passages but {index.ntotal} vectors")
            measured = tune(index, lambda: db.embeddings.blocks(model, dim))
            info = IndexInfo(index.factory, counts["chunks"],
                             chosen="auto" if self.settings.index == "auto" else "setting",
                             search=dict(index.search_params), **measured)
        assert db.keyword_writer is not None
        db.keyword_writer.commit(db.keyword_rows)
        db.vacuum(free_share=VACUUM_SHARE)
        db.close()
        index.save(gen_dir / (layout.delta_name(self.generation, "faiss") if db.below
                              else layout.INDEX_FILE), release=True)
        Manifest(
            generation=self.generation,
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            model=ModelInfo(model, dim, self.embedder.max_seq_length),
            settings=self.settings, counts=Counts(**counts), index=info,
            readers=dict(READER_VERSIONS), versions=versions(),
        ).write(gen_dir, trusted=self.previous.manifest.files if self.previous else None)
        report.documents, report.chunks = counts["documents"], counts["chunks"]
