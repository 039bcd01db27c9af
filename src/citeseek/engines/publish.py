"""A build from start to publish: the collection's lock, the live generation read and
verified once, the settings merged from it, and the new generation verified and made
live in one step, or thrown away with the previous one still live. A damaged live
generation is replaced: the build starts from the last good one, or from the sources
(``settings.StartingPoint``), and says so in its report. Every engine goes through
``build_collection``."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..embed.base import Embedder
from ..errors import (
    BuildError,
    CiteseekError,
    CollectionLocked,
    ModelMismatch,
)
from ..storage import layout, recovery
from ..storage.manifest import Manifest
from .builder import Builder
from .report import BuildReport
from .settings import StartingPoint, build_settings


@dataclass(frozen=True)
class Built:
    """A finished build: what it did, the embedder it ran with, and the manifest of the
    generation live after it (read and verified under the lock: it opens without
    hashing its files again)."""

    report: BuildReport
    embedder: Embedder
    manifest: Manifest


def build_collection(sources: Iterable[str | os.PathLike[str]], root: Path, *,
                     model: str | Embedder | None = None,
                     overrides: Mapping[str, Any] | None = None, progress: bool = True,
                     strict: bool = False, follow_links: bool = False,
                     builder_class: Callable[..., Builder] | None = None) -> Built:
    """Create or update the collection at ``root`` from ``sources``.

    The build runs with the previous build's settings (or the defaults) with
    ``overrides`` applied, and with ``model`` (default: the previous build's).
    ``follow_links`` follows symbolic links that lead out of a source folder (they are
    skipped with a reason otherwise). ``builder_class`` (a ``Builder`` subclass) lets
    another engine parse, chunk and embed the changed files; everything else (lock,
    database, index, publish) is shared. A first build that fails leaves no folder behind."""
    started = time.perf_counter()
    fresh = not root.exists()
    try:
        return _build(sources, root, model=model, overrides=overrides or {},
                      progress=progress, strict=strict, follow_links=follow_links,
                      builder_class=builder_class, started=started)
    except BaseException as exc:
        # A folder this build made, where nothing was published, goes again (a lock
        # held by another builder means the folder is that builder's; an interrupted
        # build's vectors are kept for the next one to take over).
        if fresh and not isinstance(exc, KeyboardInterrupt | CollectionLocked) and \
                layout.current_generation(root) is None:
            shutil.rmtree(root, ignore_errors=True)
        raise


def _build(sources: Iterable[str | os.PathLike[str]], root: Path, *,
           model: str | Embedder | None, overrides: Mapping[str, Any], progress: bool,
           strict: bool, follow_links: bool, builder_class: Callable[..., Builder] | None,
           started: float) -> Built:
    with layout.build_lock(root):
        start = StartingPoint.read(root)
        live, leftovers = start.previous, start.leftovers
        settings, embedder = build_settings(start.base, model, overrides)
        if start.base and start.base.model.id != embedder.model_id:
            raise ModelMismatch(
                f"{root} was built with model {start.base.model.id!r}, not "
                f"{embedder.model_id!r}; build into a new --store to change models")
        previous = live.name if live else None
        kept = {previous} if previous else set()
        # The generation before the live one stays until this build is published: a
        # build that dies must not cost the way back (citeseek rollback).
        standing = kept | set([g for g in layout.generations(root)
                               if previous and int(g[4:]) < int(previous[4:])][-1:])
        layout.remove_stale(root, keep=standing | set(leftovers))  # never the live one
        report = BuildReport(store=str(root), generation=None, previous=previous,
                             damaged=start.damaged, damage=start.problem)
        stays = f"{start.damaged} (damaged)" if start.damaged else previous
        builder = (builder_class or Builder)(root, settings, embedder, live, leftovers,
                                             progress=progress, follow_links=follow_links)
        try:
            if start.damaged:
                builder.start_new()  # the damaged one is replaced, even by the same text
            builder.run(sources, report)
            if strict and report.skipped:
                raise BuildError(f"{len(report.skipped)} file(s) skipped and --strict is on:\n"
                                 + "\n".join(f"  {s}" for s in report.skipped))
            empty = report.documents == 0 if builder.generation else previous is None
            if empty:  # a mistyped path must not empty a collection
                raise BuildError("nothing to index: no readable articles found"
                                 + (f"; {stays} stays live" if stays else "")
                                 + (f"; skipped {len(report.skipped)}:" if report.skipped
                                    else "") + report.skipped_lines())
            if builder.generation is not None:
                # Its own files hashed again; those it shares with the live generation
                # (verified as the build started) only checked to be the same files.
                published = Manifest.load(root / builder.generation)
                published.check_files(root / builder.generation, hashes=True, trusted=set(
                    live.manifest.files.values()) if live else ())
                layout.publish(root, builder.generation)
                layout.remove_stale(root, keep={builder.generation} | kept)
            else:
                layout.remove_stale(root, keep=standing)
        except BaseException as exc:
            if builder.db is not None:
                builder.db.close()
            if isinstance(exc, KeyboardInterrupt):
                raise  # its half-written generation is harvested by the next build
            if builder.generation is not None and recovery.live_name(root)[0] != \
                    builder.generation:
                layout.remove_stale(root, keep=standing)
            if isinstance(exc, CiteseekError):
                raise
            if isinstance(exc, OSError | sqlite3.Error):  # a full disk, an I/O error
                raise BuildError(f"build failed, {stays or 'nothing'} stays live: "
                                 f"{exc}") from exc
            raise
        report.generation = builder.generation
        if builder.generation is None:
            assert live is not None  # else "nothing to index" above
            published = live.manifest
            report.documents = live.manifest.counts.documents
            report.chunks = live.manifest.counts.chunks
        report.seconds = time.perf_counter() - started
        return Built(report, embedder, published)
