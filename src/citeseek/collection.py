"""``Collection``, ``build`` and ``open``: the API users hold. A thin facade: loading
and following generations is ``storage.generation``'s job, building the engines', ranking
``search``'s and answering ``answer``'s; here they meet under one object that prints as
text and renders as HTML in Jupyter."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .answer.compose import AnswerOptions, Generator, answer_question
from .answer.corpus import Corpus
from .answer.llm import LLM, notebook_stream
from .answer.result import Answer
from .config import MODES, Settings, default_store
from .display import in_kernel
from .document import Document, DocumentView
from .embed import resolve_embedder
from .embed.base import Embedder, base_model_name
from .embed.sentence_cache import SentenceVectorCache
from .engines.dispatch import check_engine, run_build
from .engines.report import BuildReport
from .errors import BuildError, DocumentNotFound, UsageError, unicode_text
from .listing import collection_card, document_lines
from .search.compare import ModeComparison
from .search.filters import Filters
from .search.hits import Hit, HitList
from .search.retrieval import check_mode, more_like, search
from .storage.doc_ids import resolve_doc_id, unknown_doc_id
from .storage.generation import Generation, LiveGeneration


class Collection:
    """A built collection. Use ``citeseek.open`` or ``citeseek.build`` to get one."""

    def __init__(self, path: str | os.PathLike[str], *, model: str | Embedder | None = None,
                 verify: bool = True) -> None:
        self._attach(LiveGeneration(path, verify=verify, model=model), model)

    @classmethod
    def _from_live(cls, live: LiveGeneration, model: str | Embedder | None) -> Collection:
        """The collection ``live`` follows (a build hands over the one it verified)."""
        col = cls.__new__(cls)
        col._attach(live, model)
        return col

    def _attach(self, live: LiveGeneration, model: str | Embedder | None) -> None:
        self._live = live
        self.root = live.root
        self.verify = live.verify
        self._model_arg = model
        self._embedder: Embedder | None = None if isinstance(model, str | None) else model
        self.last_build: BuildReport | None = None
        self._sentences = SentenceVectorCache(
            lambda texts: self.embedder.encode(texts, batch_size=32))

    def refresh(self) -> bool:
        """Switch to a newer generation if a build published one; True when it switched.
        Every search, answer and document read does this first, so a long-lived
        collection follows rebuilds (``generation`` and ``manifest`` say what it holds)."""
        return self._live.refresh()

    def pinned(self) -> Collection:
        """This collection held at its live generation: every call on the copy reads that
        one generation, whatever builds publish meanwhile (a server answers each request
        from one pinned copy, so no request sees two generations). The copies share this
        collection's embedder, so its model loads once, whichever copy first needs it."""
        _ = self.embedder  # made here (its weights load on first use), not on each copy
        held = copy.copy(self)
        held._live = self._live.pinned()
        return held

    def close(self) -> None:
        """Let go of the generation this collection holds open: its database connections
        close once no other reader (a pinned copy) still holds it. A pinned copy lets go
        when it is dropped too; a server closes each request's copy as it ends."""
        self._live.close()

    @property
    def generation(self) -> str:
        return self._live.current.name

    @property
    def manifest(self) -> dict[str, Any]:
        """The live generation's manifest, as the JSON in its ``manifest.json``."""
        return self._live.current.manifest.to_dict()

    @property
    def settings(self) -> Settings:
        return self._live.current.settings

    @property
    def embedder(self) -> Embedder:
        """The embedding model, loaded on first use (keyword search never loads it)."""
        if self._embedder is None:
            arg, backend = self._model_arg, self.settings.backend
            # The manifest's model id, not its settings' model name, says what loads: the
            # id is checked against every vector (a tampered name never picks the folder).
            name = arg if arg is not None else base_model_name(self._live.current.model_id,
                                                               backend)
            self._embedder = resolve_embedder(name, backend, query=True)
        return self._embedder

    def embed_query(self, text: str) -> np.ndarray:
        vectors = self.embedder.encode([text], batch_size=1)
        return vectors.reshape(-1)

    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        """Vectors of answer candidates, kept across questions (``SentenceVectorCache``)."""
        return self._sentences.encode(texts)

    # -- search ---------------------------------------------------------------------
    def search(self, query: str, k: int = 5, *, mode: str = "hybrid",
               sources: str | Sequence[str] | None = None, date_from: str | None = None,
               date_to: str | None = None, doc_ids: str | Sequence[str] | None = None,
               per_doc: int | None = None, dedupe: bool = True,
               feedback: int = 3) -> HitList:
        """Rank passages for ``query``.

        ``mode``: "hybrid" (default: dense and BM25 fused), "dense" or "keyword" (no
        model is loaded). ``sources`` (globs over path or doc id), ``date_from``/
        ``date_to`` (ISO, inclusive) and ``doc_ids`` filter before ranking.
        ``per_doc`` caps passages per document. ``dedupe`` drops a passage whose text
        repeats a better one (a syndicated paragraph, a duplicate file) or that mostly
        overlaps a better passage of the same document. ``feedback`` (hybrid only) is
        how many fused top passages refine the query vector; 0 gives plain fusion.
        """
        filters = Filters.of(sources=sources, date_from=date_from, date_to=date_to,
                           doc_ids=doc_ids)
        return self._live.read(lambda gen: self._search(
            gen, query, k, mode=mode, filters=filters, per_doc=per_doc, dedupe=dedupe,
            feedback=feedback))

    def _search(self, gen: Generation, query: str, k: int, **options: Any) -> HitList:
        return search(gen.db, gen.index, model=gen.model_id, embed_query=self.embed_query,
                      query=query, k=k, **options)

    def ask(self, question: str, k: int = 5, *, mode: str = "hybrid",
            sources: str | Sequence[str] | None = None, date_from: str | None = None,
            date_to: str | None = None, doc_ids: str | Sequence[str] | None = None,
            per_doc: int | None = None, generator: Generator | None = None,
            llm: LLM | str | None = None, **options: Any) -> Answer:
        """Answer ``question`` with sentences from the top ``k`` passages, each cited.

        Returns an ``Answer`` whose ``answer`` is None (with a ``message``) when the
        passages do not answer the question. The filters and ``per_doc`` apply as in
        ``search``; ``method``, ``min_evidence``, ``confident_evidence`` and
        ``max_sentences`` tune the answer. ``generator(question, {n: Hit}) -> text``
        lets a language model write the answer from the numbered passages; its ``[n]``
        markers with no passage n are removed and listed in ``dropped_citations``.
        ``llm`` (an OpenAI-compatible endpoint's URL with ``llm_model=NAME``, or a
        ``citeseek.LLM``) does the same through a chat endpoint, streamed to
        ``on_text`` (in Jupyter, into the cell); each written sentence is checked
        against the passages it cites, and a failing endpoint leaves the extractive
        answer with ``llm_error`` saying why.
        """
        filters = Filters.of(sources=sources, date_from=date_from, date_to=date_to,
                             doc_ids=doc_ids)
        chosen = AnswerOptions.of(generator=generator, llm=llm, **options)
        if chosen.llm is not None and chosen.on_text is None and in_kernel():
            chosen = replace(chosen, on_text=notebook_stream())  # the reply, in the cell
        embed = None if mode == "keyword" else self._embed_texts

        def answer(gen: Generation) -> Answer:  # passages and statistics of one generation
            hits = self._search(gen, question, k, mode=mode, filters=filters, per_doc=per_doc)
            corpus = Corpus(embed=embed, frequencies=gen.db.keywords.frequencies,
                            n_passages=gen.manifest.counts.chunks)
            return answer_question(question, hits, corpus, chosen)

        return self._live.read(answer)

    def more_like(self, passage: Hit | int, k: int = 5, *, other_documents: bool = False,
                  sources: str | Sequence[str] | None = None, date_from: str | None = None,
                  date_to: str | None = None, doc_ids: str | Sequence[str] | None = None,
                  per_doc: int | None = None, **unknown: Any) -> HitList:
        """Passages most like ``passage`` (a ``Hit`` or a chunk id) by their vectors; no
        model is loaded. ``other_documents`` leaves out the passage's own document;
        ``sources``, ``date_from``, ``date_to``, ``doc_ids`` and ``per_doc`` as in
        ``search``."""
        chunk_id = passage.chunk_id if isinstance(passage, Hit) else passage
        if unknown:
            raise UsageError(f"unknown option(s): {', '.join(sorted(unknown))}")
        filters = Filters.of(sources=sources, date_from=date_from, date_to=date_to,
                             doc_ids=doc_ids)
        return self._live.read(lambda gen: more_like(
            gen.db, gen.index, model=gen.model_id, chunk_id=chunk_id, k=k,
            filters=filters, per_doc=per_doc, other_documents=other_documents))

    def compare(self, query: str, k: int = 5,
                modes: Sequence[str] = ("dense", "keyword", "hybrid")) -> ModeComparison:
        """The same query in several modes, shown side by side in Jupyter."""
        if not modes or isinstance(modes, str):
            raise UsageError(f"modes must be among {', '.join(MODES)}, not {list(modes)!r}")
        for m in modes:
            check_mode(m)
        held = self.pinned()  # every mode from the same generation
        return ModeComparison(query, {m: held.search(query, k=k, mode=m) for m in modes},
                              source_root=held.source_root())

    def source_root(self) -> str | None:
        """The deepest folder holding every document's source file (None if none)."""
        first, last = self._live.read(lambda gen: gen.db.source_bounds())
        if first is None or last is None:
            return None
        # Sorted strings: the folders the first and last share, every one between shares.
        try:
            root = os.path.commonpath([first, last])
        except ValueError:  # relative and absolute paths mixed
            return None
        return os.path.dirname(root) if root in (first, last) else root or None

    # -- documents and info -----------------------------------------------------------
    def document(self, doc_id: str) -> Document:
        """The stored document (its ``text`` is what citations' offsets index into)."""
        unicode_text(doc_id, "doc_id")

        def find(gen: Generation) -> Document:
            doc = gen.db.get_document(doc_id)
            if doc is None:
                raise DocumentNotFound(unknown_doc_id(gen.db, doc_id, str(self.root)))
            return doc

        return self._live.read(find)

    def resolve_doc_id(self, doc_id: str) -> str:
        """The document id ``doc_id`` stands for: itself, or the one id it is the start
        of. ``DocumentNotFound`` names the closest ids when there is none, or the ids an
        ambiguous prefix starts."""
        return self._live.read(lambda gen: resolve_doc_id(gen.db, doc_id, str(self.root)))

    def locate(self, citation: Any, *, context: int = 2) -> DocumentView:
        """The place a citation points to: ``citation`` is a ``Hit`` or an answer
        sentence (anything with ``doc_id``, ``start`` and ``end``); its characters are
        marked among ``context`` lines of its document either side."""
        return self.document(citation.doc_id).view(citation.start, citation.end,
                                                   context=context)

    def documents(self) -> list[dict[str, Any]]:
        """Every document's id, title, date, source, url, characters, passages and, for a
        PDF, pages."""
        return self._live.read(lambda gen: gen.db.documents())

    def passages(self) -> list[dict[str, Any]]:
        """Every passage with its citation fields and text, by document and position."""
        return self._live.read(lambda gen: gen.db.passages())

    def passage_vectors(self, chunk_ids: Sequence[int] | None = None) -> np.ndarray:
        """The stored vectors of ``chunk_ids`` (every passage in ``passages()`` order when
        None), one row each; no model is loaded."""
        return self._live.read(lambda gen: gen.db.vectors_in_order(
            gen.model_id, gen.index.dimension, chunk_ids))

    def to_pandas(self) -> Any:
        """The documents as a DataFrame (see ``documents()``)."""
        import pandas as pd

        from .storage.database import LISTING

        return pd.DataFrame(self.documents(), columns=list(LISTING))

    def info(self) -> dict[str, Any]:
        """The store, the live generation's name and its manifest (of one generation)."""
        self.refresh()
        gen = self._live.current
        return {"store": str(self.root), "generation": gen.name, **gen.manifest.to_dict()}

    def __len__(self) -> int:
        return self._live.current.manifest.counts.chunks

    def __repr__(self) -> str:
        m = self._live.current.manifest
        return (f"Collection({str(self.root)!r}, generation={self.generation!r}, "
                f"documents={m.counts.documents}, passages={m.counts.chunks}, "
                f"model={m.model.id!r})")

    def __str__(self) -> str:
        """The summary and the documents, one a line."""
        return "\n".join([repr(self), *document_lines(self.documents())])

    def _repr_html_(self) -> str:
        """The summary and a table of the documents."""
        m = self._live.current.manifest
        return collection_card(str(self.root), self.generation, documents=m.counts.documents,
                               passages=m.counts.chunks, model=m.model.id,
                               docs=self.documents())


def build(sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
          store: str | os.PathLike[str] | None = None, *,
          model: str | Embedder | None = None, progress: bool = True, strict: bool = False,
          engine: str = "local", address: str | None = None, workers: int | None = None,
          follow_links: bool = False, **settings: Any) -> Collection:
    """Create or update a collection from articles and return it opened.

    ``sources``: folders (read recursively), files, or a list of both. ``store``: the
    collection folder (default ``embeddings/<name of the first source>``). Settings
    (``chunk_tokens``, ``overlap_tokens``, ``embed_title``, ``batch_size``, ``index``,
    ``backend``) default to the collection's previous ones. Files that cannot be read
    are skipped and listed in ``collection.last_build.skipped``; ``strict=True`` fails
    instead. Symbolic links that lead out of a source folder are skipped with a reason
    unless ``follow_links``. ``engine="ray"`` reads, chunks and embeds the changed files
    on a Ray cluster (``address``: a running one, default a local one; ``workers``: model
    actors); the collection is the same as the local engine's (needs
    ``pip install 'citeseek[ray]'``).
    """
    check_engine(engine, address=address, workers=workers)
    paths = [sources] if isinstance(sources, str | os.PathLike) else list(sources)
    if not paths:
        raise UsageError("no sources given")
    for path in [*paths, *([store] if store is not None else [])]:
        if not isinstance(path, str | os.PathLike) or not os.fspath(path):
            # "" would quietly mean the current folder
            raise UsageError(f"a source or store must be a non-empty path, not {path!r}")
    missing = [os.fspath(p) for p in paths if not os.path.lexists(p)]
    if missing:  # a mistyped path: say so before any folder or lock is made
        raise BuildError(f"no such file or folder: {', '.join(map(repr, missing))}; "
                         "nothing was indexed")
    root = Path(store) if store is not None else default_store(paths)
    built = run_build(paths, root, engine=engine, model=model, overrides=settings,
                      progress=progress, strict=strict, follow_links=follow_links,
                      address=address, workers=workers)
    live = LiveGeneration(root, model=built.embedder, verified=built.manifest)
    col = Collection._from_live(live, built.embedder)
    col.last_build = built.report
    return col


def open(path: str | os.PathLike[str], *, model: str | Embedder | None = None,  # noqa: A001
         verify: bool = True) -> Collection:
    """Open a built collection. ``verify`` checks every file against its checksum."""
    return Collection(path, model=model, verify=verify)
