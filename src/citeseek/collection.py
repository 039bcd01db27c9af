"""``Collection``: the one object users hold. Opens a generation, searches it, and
notices when a newer generation has been published."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import layout
from .building import BuildReport, build_collection
from .config import Settings
from .embedding import Embedder, backend_model_id, model_id_for, resolve_embedder
from .errors import CiteseekError, CorruptCollection, ModelMismatch, UsageError
from .readers import Document
from .results import Hit, HitList
from .retrieval import MODES, Filters, as_tuple, more_like, search
from .store import Store
from .vector_index import VectorIndex

if TYPE_CHECKING:
    from .answer_result import Answer
    from .views import DocumentView, ModeComparison

_LOAD_ATTEMPTS = 5  # a build publishing (and cleaning up) while a reader loads


class DocumentNotFound(CiteseekError):
    """No document with that id in the collection."""


@dataclass
class _Generation:
    name: str
    manifest: dict[str, Any]
    store: Store
    index: VectorIndex


class Collection:
    """A built collection. Use ``citeseek.open`` or ``citeseek.build`` to get one."""

    def __init__(self, path: str | os.PathLike[str], *, model: str | Embedder | None = None,
                 verify: bool = True) -> None:
        self.root = layout.resolve_root(path)
        self.verify = verify
        self._model_arg = model
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()
        self.last_build: BuildReport | None = None
        self._gen = self._load_current()

    # -- loading ------------------------------------------------------------------
    def _load(self, name: str) -> _Generation:
        gen_dir = self.root / name
        manifest = layout.read_manifest(gen_dir, verify=self.verify)
        built_with = manifest["model"]["id"]
        if self._model_arg is not None:
            wanted = (self._model_arg if isinstance(self._model_arg, str) else None)
            backend = manifest["settings"].get("backend", "torch")
            wanted_id = (backend_model_id(model_id_for(wanted), backend) if wanted
                         else self._model_arg.model_id)  # type: ignore[union-attr]
            if wanted_id != built_with:
                raise ModelMismatch(f"{self.root} was built with model {built_with!r}, not "
                                    f"{wanted_id!r}")
        store = Store(gen_dir / layout.STORE_FILE, readonly=True)
        try:  # open it now: this thread's connection keeps working if the folder goes
            store.conn.execute("SELECT 1 FROM chunks LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise CorruptCollection(f"cannot read {store.path}: {exc}") from None
        index = VectorIndex.load(gen_dir / layout.INDEX_FILE,
                                 dimension=manifest["model"]["dimension"],
                                 count=manifest["index"]["ntotal"],
                                 factory=manifest["index"]["factory"],
                                 search=manifest["index"].get("search"))
        return _Generation(name, manifest, store, index)

    def _load_current(self) -> _Generation:
        """Load the live generation. Should a build publish a newer one and clean up the
        one being loaded meanwhile, load the newer one: a race is never an error."""
        for attempt in range(_LOAD_ATTEMPTS):
            name = layout.current_generation(self.root)
            if name is None:
                raise CorruptCollection(f"{self.root / layout.CURRENT} is missing")
            try:
                return self._load(name)
            except CorruptCollection:
                if attempt + 1 == _LOAD_ATTEMPTS or layout.current_generation(self.root) == name:
                    raise
        raise AssertionError("unreachable")

    def refresh(self) -> bool:
        """Switch to a newer generation if one was published; True when it switched.

        The switch is one assignment of a fully loaded generation, so a search running
        meanwhile in another thread uses the old one or the new one, never a mix."""
        name = layout.current_generation(self.root)
        if name is None or name == self._gen.name:
            return False
        with self._lock:
            if layout.current_generation(self.root) != self._gen.name:
                self._gen = self._load_current()
        return True

    def _read(self, action: Callable[[_Generation], Any]) -> Any:
        """Run ``action`` on the live generation; SQLite errors become citeseek's."""
        for attempt in range(2):
            self.refresh()
            gen = self._gen
            try:
                return action(gen)
            except sqlite3.Error as exc:
                error = CorruptCollection(f"cannot read {gen.store.path}: {exc}")
            except CorruptCollection as exc:
                error = exc
            # Cleaned up under us by builds two generations on: try the live one again.
            if attempt or layout.current_generation(self.root) == gen.name:
                raise error
        raise AssertionError("unreachable")

    @property
    def generation(self) -> str:
        return self._gen.name

    @property
    def manifest(self) -> dict[str, Any]:
        return self._gen.manifest

    @property
    def settings(self) -> Settings:
        return Settings.from_dict(self._gen.manifest["settings"])

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            arg = self._model_arg
            self._embedder = _resolve(arg if arg is not None else self.settings.model,
                                      self.settings.backend)
        return self._embedder

    def embed_query(self, text: str) -> np.ndarray:
        return self.embedder.encode([text], batch_size=1)[0]

    # -- search -----------------------------------------------------------------------
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
        filters = Filters(sources=as_tuple(sources), date_from=date_from, date_to=date_to,
                          doc_ids=as_tuple(doc_ids))
        return self._read(lambda gen: search(
            gen.store, gen.index, model=gen.manifest["model"]["id"],
            embed_query=self.embed_query, query=query, k=k, mode=mode, filters=filters,
            per_doc=per_doc, dedupe=dedupe, feedback=feedback))

    def ask(self, question: str, k: int = 5, *, mode: str = "hybrid",
            generator: Callable[..., str] | None = None, **options: Any) -> Answer:
        """Answer ``question`` with sentences from the top ``k`` passages, each cited.

        Returns an ``Answer`` whose ``answer`` is None (with a ``message``) when the
        passages do not answer the question. ``generator(question, {n: Hit}) -> text``
        lets a language model write the answer from the numbered passages; its ``[n]``
        markers with no passage n are removed and listed in ``dropped_citations``.
        Search filters (``sources``, ``date_from``, ``date_to``, ``doc_ids``,
        ``per_doc``) apply as in ``search``; ``method``, ``min_evidence``,
        ``confident_evidence`` and ``max_sentences`` tune the answer.
        """
        from .answering import answer_question

        search_keys = {"sources", "date_from", "date_to", "doc_ids", "per_doc"}
        filters = {key: options.pop(key) for key in list(options) if key in search_keys}
        hits = self.search(question, k=k, mode=mode, **filters)
        embed = None if mode == "keyword" else self._embed_texts
        return answer_question(question, hits, embed=embed,
                               frequencies=self._gen.store.passage_frequencies,
                               n_passages=len(self), generator=generator, **options)

    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts, batch_size=32)

    def more_like(self, passage: Hit | int, k: int = 5, *, other_documents: bool = False,
                  **filters: Any) -> HitList:
        """Passages most like ``passage`` (a ``Hit`` or a chunk id) by their vectors; no
        model is loaded. ``other_documents`` leaves out the passage's own document;
        ``sources``, ``date_from``, ``date_to``, ``doc_ids`` and ``per_doc`` as in
        ``search``."""
        chunk_id = passage.chunk_id if isinstance(passage, Hit) else passage
        per_doc = filters.pop("per_doc", None)
        unknown = set(filters) - {"sources", "date_from", "date_to", "doc_ids"}
        if unknown:
            raise UsageError(f"unknown option(s): {', '.join(sorted(unknown))}")
        chosen = Filters(sources=as_tuple(filters.get("sources")),
                         date_from=filters.get("date_from"), date_to=filters.get("date_to"),
                         doc_ids=as_tuple(filters.get("doc_ids")))
        return self._read(lambda gen: more_like(
            gen.store, gen.index, model=gen.manifest["model"]["id"], chunk_id=chunk_id, k=k,
            filters=chosen, per_doc=per_doc, other_documents=other_documents))

    def compare(self, query: str, k: int = 5,
                modes: Sequence[str] = ("dense", "keyword", "hybrid")) -> ModeComparison:
        """The same query in several modes, shown side by side in Jupyter."""
        from .views import ModeComparison

        bad = [m for m in modes if m not in MODES]
        if bad or not modes:
            raise UsageError(f"modes must be among {', '.join(MODES)}, not {list(modes)!r}")
        return ModeComparison(query, {m: self.search(query, k=k, mode=m) for m in modes})

    # -- documents and info -------------------------------------------------------------
    def document(self, doc_id: str) -> Document:
        """The stored document (its ``text`` is what citations' offsets index into)."""
        doc = self._read(lambda gen: gen.store.get_document(doc_id))
        if doc is None:
            raise DocumentNotFound(f"no document {doc_id!r} in {self.root}")
        return doc

    def locate(self, citation: Any, *, context: int = 2) -> DocumentView:
        """The place a citation points to: ``citation`` is a ``Hit`` or an answer
        sentence (anything with ``doc_id``, ``start`` and ``end``); its characters are
        marked among ``context`` lines of its document either side."""
        return self.document(citation.doc_id).view(citation.start, citation.end,
                                                   context=context)

    def documents(self) -> list[dict[str, Any]]:
        """Every document's id, title, date, source, url, characters and passages."""
        return self._read(lambda gen: gen.store.documents())

    def passages(self) -> list[dict[str, Any]]:
        """Every passage with its citation fields and text, by document and position."""
        return self._read(lambda gen: gen.store.passages())

    def passage_vectors(self, chunk_ids: Sequence[int] | None = None) -> np.ndarray:
        """The stored vectors of ``chunk_ids`` (every passage in ``passages()`` order when
        None), one row each; no model is loaded."""
        return self._read(lambda gen: gen.store.vectors_in_order(
            gen.manifest["model"]["id"], gen.index.dimension, chunk_ids))

    def to_pandas(self) -> Any:
        """The documents as a DataFrame (see ``documents()``)."""
        import pandas as pd

        return pd.DataFrame(self.documents(), columns=["doc_id", "title", "date", "source",
                                                       "url", "chars", "chunks"])

    def info(self) -> dict[str, Any]:
        self.refresh()
        return {"store": str(self.root), "generation": self.generation, **self.manifest}

    def __len__(self) -> int:
        return int(self._gen.manifest["counts"]["chunks"])

    def __str__(self) -> str:
        from .views import collection_text

        return collection_text(self)

    def _repr_html_(self) -> str:
        from .views import render_collection

        return render_collection(self)

    def __repr__(self) -> str:
        c = self._gen.manifest["counts"]
        return (f"Collection({str(self.root)!r}, generation={self.generation!r}, "
                f"documents={c['documents']}, passages={c['chunks']}, "
                f"model={self._gen.manifest['model']['id']!r})")


def _resolve(model: str | Embedder, backend: str) -> Embedder:
    # The one-argument call for torch: callers that stand in their own resolver (tests
    # with a fake model) need not know about backends.
    return resolve_embedder(model) if backend == "torch" else resolve_embedder(model, backend)


def default_store(sources: Sequence[str | os.PathLike[str]]) -> Path:
    first = Path(sources[0]).expanduser().absolute()
    name = first.stem if first.is_file() else first.name
    return Path("embeddings") / (name or "collection")


def build(sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
          store: str | os.PathLike[str] | None = None, *,
          model: str | Embedder | None = None, progress: bool = True, strict: bool = False,
          engine: str = "local", address: str | None = None, workers: int | None = None,
          **settings: Any) -> Collection:
    """Create or update a collection from articles and return it opened.

    ``sources``: folders (read recursively), files, or a list of both. ``store``: the
    collection folder (default ``embeddings/<name of the first source>``). Settings
    (``chunk_tokens``, ``overlap_tokens``, ``embed_title``, ``batch_size``, ``index``,
    ``backend``)
    default to the collection's previous ones. Files that cannot be read are skipped
    and listed in ``collection.last_build.skipped``; ``strict=True`` fails instead.
    ``engine="ray"`` reads, chunks and embeds the changed files on a Ray cluster
    (``address``: a running one, default a local one; ``workers``: model actors); the
    collection is the same as the local engine's (needs ``pip install 'citeseek[ray]'``).
    """
    if engine not in ("local", "ray"):
        raise UsageError(f"unknown engine {engine!r}: 'local' or 'ray'")
    if engine == "local" and (address is not None or workers is not None):
        raise UsageError("address and workers apply to engine='ray' only")
    paths = [sources] if isinstance(sources, str | os.PathLike) else list(sources)
    if not paths:
        raise UsageError("no sources given")
    root = Path(store) if store is not None else default_store(paths)
    previous = layout.current_generation(root) if root.is_dir() else None
    base = (Settings.from_dict(layout.read_manifest(root / previous, verify=False)["settings"])
            if previous else Settings())
    merged = base.to_dict()
    unknown = set(settings) - set(merged)
    if unknown:
        raise UsageError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    merged.update(settings)
    if isinstance(model, str):
        merged["model"] = model
    elif model is not None:
        merged["model"] = model.model_id
    chosen = Settings.from_dict(merged)
    embedder = _resolve(model if model is not None else chosen.model, chosen.backend)
    if engine == "ray":
        from .ray_engine import RayOptions, build_collection_on_ray

        report = build_collection_on_ray(
            paths, root, settings=chosen, embedder=embedder, progress=progress,
            strict=strict, options=RayOptions(address=address, workers=workers))
    else:
        report = build_collection(paths, root, settings=chosen, embedder=embedder,
                                  progress=progress, strict=strict)
    col = Collection(root, model=embedder)
    col._embedder = embedder
    col.last_build = report
    return col


def open(path: str | os.PathLike[str], *, model: str | Embedder | None = None,  # noqa: A001
         verify: bool = True) -> Collection:
    """Open a built collection. ``verify`` checks every file against its checksum."""
    return Collection(path, model=model, verify=verify)
