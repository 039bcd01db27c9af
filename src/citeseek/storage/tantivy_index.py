"""The keyword index of a generation: BM25 over passages with Tantivy, in the generation's
``keywords/`` folder.

One text field holds each passage as its title twice, then its body (the title's words
count double, as the title's weight of 2 did in the FTS5 index of earlier stores), split
into words, lowercased, folded to ASCII (``é`` is ``e``, ``ß`` is ``ss``) and stemmed
(Snowball English, the revision of Porter's stemmer); the passage's id is a fast field.
A query is its words analyzed the same way, each a term query, joined by OR: no text is
ever read as query syntax. Tantivy ranks an OR of terms with block-max WAND, skipping
blocks of postings that cannot reach the top ``k``, so a common word costs little.

Tantivy never rewrites a file: a commit adds segment files and replaces ``meta.json`` by
a rename. A build therefore starts its generation's index from hard links to the live
generation's files (``link_from``) and only writes what changed; the live generation's
files stay exactly as they were.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import CorruptCollection
from ..words import STOPWORDS, WORD
from . import layout

ANALYZER = "citeseek"
TEXT, CHUNK_ID = "text", "chunk_id"
LOCKS = (".tantivy-meta.lock", ".tantivy-writer.lock")  # runtime locks, not data
WRITER_HEAP = 256 << 20  # bytes the writer buffers before it writes a segment
GC_HEAP = 15 << 20  # the least a writer takes; it only collects garbage
MAX_WORD = 40
REINDEX_SHARE = 0.2  # removed documents past this share of the index: made anew  # longer tokens (hashes, base64) are not words


def _tantivy() -> Any:
    import tantivy

    return tantivy


def _analyzer() -> Any:
    t = _tantivy()
    return (t.TextAnalyzerBuilder(t.Tokenizer.simple()).filter(t.Filter.remove_long(MAX_WORD))
            .filter(t.Filter.lowercase()).filter(t.Filter.ascii_fold())
            .filter(t.Filter.stemmer("english")).build())


def _schema() -> Any:
    builder = _tantivy().SchemaBuilder()
    builder.add_unsigned_field(CHUNK_ID, indexed=True, fast=True)
    builder.add_text_field(TEXT, tokenizer_name=ANALYZER, index_option="freq")
    return builder.build()


def indexed_text(title: str | None, body: str) -> str:
    """What the index reads of a passage: its title twice, then its body, composed (NFC)
    as queries are: the tokenizer splits a word at a combining accent, so text written
    with decomposed accents ("Montre\u0301al") would otherwise never match."""
    text = f"{title}\n{title}\n{body}" if title else body
    return unicodedata.normalize("NFC", text)


def query_words(text: str) -> list[str]:
    """A query's words, lowercased, once each: stopwords dropped unless nothing else is
    left. Composed and decomposed accents read alike ("Montréal" typed with a combining
    accent is one word)."""
    words = [w.lower() for w in WORD.findall(unicodedata.normalize("NFC", text))]
    kept = [w for w in words if w not in STOPWORDS] or words
    return list(dict.fromkeys(kept))


def index_files(folder: Path) -> list[str]:
    """The data files of the index in ``folder`` (its runtime locks left out), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in LOCKS)


class TantivyIndex:
    """``GenerationDB.keywords`` of a generation with a ``keywords/`` folder, read-only.
    One searcher is opened per index and shared by every thread (Tantivy's searchers
    are thread-safe); the files are memory-mapped."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        t = _tantivy()
        try:
            self.index = t.Index.open(str(folder))
            self.index.register_tokenizer(ANALYZER, _analyzer())
            self.searcher = self.index.searcher()
        except (ValueError, OSError, RuntimeError) as exc:
            raise CorruptCollection(f"cannot open the keyword index {folder}: {exc}") from None
        self.schema = self.index.schema
        self._analyze = _analyzer().analyze

    def terms(self, text: str) -> list[str]:
        """The index terms of ``text``'s query words, once each."""
        return list(dict.fromkeys(t for w in query_words(text) for t in self._analyze(w)))

    def _query(self, terms: Sequence[str]) -> Any:
        t = _tantivy()
        return t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(
            self.schema, TEXT, term, index_option="freq")) for term in terms])

    def search(self, query: str, k: int, *,
               allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """BM25 over passages; higher score is better. ``allowed`` restricts the search to
        those passage ids before ranking (they add nothing to the score)."""
        terms = self.terms(query)
        total = self.searcher.num_docs
        if not terms or k <= 0 or total == 0 or (allowed is not None and not len(allowed)):
            return []
        t = _tantivy()
        match = self._query(terms)
        if allowed is not None:
            only = t.Query.const_score_query(t.Query.term_set_query(
                self.schema, CHUNK_ID, [int(i) for i in allowed]), 0.0)
            match = t.Query.boolean_query([(t.Occur.Must, match), (t.Occur.Must, only)])
        found = self.searcher.search(match, min(int(k), total), count=False).hits
        ids = self.searcher.fast_field_values(CHUNK_ID, [address for _, address in found])
        return [(int(cid), float(score)) for cid, (score, _) in zip(ids, found, strict=True)]

    def frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """How many passages hold each word (analyzed the way the index analyzes it),
        for weighting a question's rare words."""
        out: dict[str, int] = {}
        for word in dict.fromkeys(words):
            terms = self.terms(word)
            out[word] = self.searcher.search(self._query(terms), 1, count=True).count \
                if terms else 0
        return out

    def close(self) -> None:
        """Nothing to release: the memory maps go with the object."""


class TantivyWriter:
    """The keyword index of a generation being built: started empty or from links to the
    live generation's files, written by one builder, committed once when the build
    ends (an interrupted build's folder is thrown away whole)."""

    def __init__(self, folder: Path, *, start_from: Path | None = None,
                 threads: int = 1) -> None:
        self.folder = folder
        folder.mkdir(exist_ok=True)
        t = _tantivy()
        if start_from is not None:
            self.link_from(start_from)
            self.index = t.Index.open(str(folder))
        else:
            self.index = t.Index(_schema(), path=str(folder))
        self.index.register_tokenizer(ANALYZER, _analyzer())
        self.threads = threads
        self.writer = self.index.writer(WRITER_HEAP, threads)
        self.changed = False

    def link_from(self, source: Path) -> None:
        """Start from the files of the index in ``source``: linked, never copied."""
        for name in index_files(source):
            layout.link_or_copy(source / name, self.folder / name)

    def add(self, passages: Iterable[tuple[int, str | None, str]]) -> None:
        """Index (chunk id, title, body) of each passage."""
        t = _tantivy()
        for cid, title, body in passages:
            doc = t.Document()
            doc.add_unsigned(CHUNK_ID, int(cid))
            doc.add_text(TEXT, indexed_text(title, body))
            self.writer.add_document(doc)
            self.changed = True

    def remove(self, chunk_ids: Iterable[int]) -> None:
        """Remove the passages of ``chunk_ids`` (those added after, under the same ids,
        stay: Tantivy applies a removal to what was added before it)."""
        ids = [int(cid) for cid in chunk_ids]
        if ids:  # by query: a term of an integer field given from Python matches nothing
            self.writer.delete_documents_by_query(_tantivy().Query.term_set_query(
                self.index.schema, CHUNK_ID, ids))
            self.changed = True

    def commit(self, everything: Callable[[], Iterable[tuple[int, str | None, str]]]) -> None:
        """Write what was added and removed, merge what Tantivy's policy merges, and drop
        the files no longer used (in this folder only: the links of the live generation's
        files go, the files stay for it).

        Removed passages still count in BM25's statistics until their segment is merged;
        when they pass ``REINDEX_SHARE`` of the index, the index is made anew from
        ``everything()`` (every passage), so scores stay those of a fresh build."""
        self._commit()
        if self.deleted_share() > REINDEX_SHARE:
            for name in index_files(self.folder):
                (self.folder / name).unlink()
            t = _tantivy()
            self.index = t.Index(_schema(), path=str(self.folder))
            self.index.register_tokenizer(ANALYZER, _analyzer())
            self.writer = self.index.writer(WRITER_HEAP, self.threads)
            self.add(everything())
            self._commit()

    def _commit(self) -> None:
        self.writer.commit()
        self.writer.wait_merging_threads()  # the writer is spent after this
        self.writer = None
        collector = self.index.writer(GC_HEAP, 1)  # segments merged away are now garbage
        collector.garbage_collect_files()
        del collector

    def deleted_share(self) -> float:
        """The share of the index's documents that are removed ones (from its meta.json:
        each segment's ``max_doc`` and ``num_deleted_docs``)."""
        segments = json.loads((self.folder / "meta.json").read_text("utf-8"))["segments"]
        total = sum(int(seg["max_doc"]) for seg in segments)
        deleted = sum(int((seg.get("deletes") or {}).get("num_deleted_docs", 0))
                      for seg in segments)
        return deleted / total if total else 0.0

    def close(self) -> None:
        if self.writer is not None:
            self.writer.rollback()
            self.writer = None
