"""A build from start to publish: the settings it runs with, the collection's lock, and
the new generation verified and made live in one step, or thrown away with the previous
one still live. Every engine goes through ``build_collection``."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..config import Settings
from ..embed import resolve_embedder
from ..embed.base import Embedder, base_model_name, check_model
from ..errors import (
    BuildError,
    CiteseekError,
    CollectionLocked,
    ModelMismatch,
    UsageError,
)
from ..storage import layout
from ..storage.manifest import Manifest
from .builder import Builder
from .report import BuildReport


def build_settings(root: Path, model: str | Embedder | None,
                   overrides: dict[str, Any]) -> tuple[Settings, Embedder]:
    """The settings of a build into ``root``: the previous build's (or the defaults),
    with ``overrides`` and ``model`` applied; and the embedder they name."""
    previous = layout.current_generation(root) if root.is_dir() else None
    manifest = Manifest.read(root / previous, verify=False) if previous else None
    base = manifest.settings if manifest else Settings()
    merged = base.to_dict()
    unknown = set(overrides) - set(merged)
    if unknown:
        raise UsageError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    merged.update(overrides)
    if model is not None:
        check_model(model)
    if isinstance(model, str):
        merged["model"] = model
    elif model is not None:
        merged["model"] = model.model_id
    chosen = Settings.from_dict(merged)
    if model is None and manifest:  # the previous build's model, by the id it recorded
        model = base_model_name(manifest.model.id, base.backend)
    return chosen, resolve_embedder(model if model is not None else chosen.model,
                                    chosen.backend)


def build_collection(sources: Iterable[str | os.PathLike[str]], root: Path, *,
                     settings: Settings, embedder: Embedder, progress: bool = True,
                     strict: bool = False, follow_links: bool = False,
                     builder_class: Callable[..., Builder] | None = None) -> BuildReport:
    """Create or update the collection at ``root`` from ``sources``.

    ``follow_links`` follows symbolic links that lead out of a source folder (they are
    skipped with a reason otherwise). ``builder_class`` (a ``Builder`` subclass) lets
    another engine parse, chunk and embed the changed files; everything else (lock,
    database, index, publish) is shared. A first build that fails leaves no folder behind."""
    started = time.perf_counter()
    fresh = not root.exists()
    try:
        return _build(sources, root, settings=settings, embedder=embedder, progress=progress,
                      strict=strict, follow_links=follow_links, builder_class=builder_class,
                      started=started)
    except BaseException as exc:
        # A folder this build made, where nothing was published, goes again (a lock
        # held by another builder means the folder is that builder's; an interrupted
        # build's vectors are kept for the next one to take over).
        if fresh and not isinstance(exc, KeyboardInterrupt | CollectionLocked) and \
                layout.current_generation(root) is None:
            shutil.rmtree(root, ignore_errors=True)
        raise


def _build(sources: Iterable[str | os.PathLike[str]], root: Path, *, settings: Settings,
           embedder: Embedder, progress: bool, strict: bool, follow_links: bool,
           builder_class: Callable[..., Builder] | None, started: float) -> BuildReport:
    with layout.build_lock(root):
        previous = layout.current_generation(root)
        prev_manifest = Manifest.read(root / previous, verify=True) if previous else None
        if prev_manifest and prev_manifest.model.id != embedder.model_id:
            raise ModelMismatch(
                f"{root} was built with model {prev_manifest.model.id!r}, not "
                f"{embedder.model_id!r}; build into a new --store to change models")
        kept = {previous} if previous else set()
        leftovers = layout.unpublished(root)
        layout.remove_stale(root, keep=kept | set(leftovers))
        report = BuildReport(store=str(root), generation=None, previous=previous)
        builder = (builder_class or Builder)(root, settings, embedder, previous,
                                             prev_manifest, progress, leftovers,
                                             follow_links=follow_links)
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
                Manifest.read(root / builder.generation, verify=True)
                layout.publish(root, builder.generation)
                layout.remove_stale(root, keep={builder.generation} | kept)
            else:
                layout.remove_stale(root, keep=kept)
        except BaseException as exc:
            if builder.db is not None:
                builder.db.close()
            if isinstance(exc, KeyboardInterrupt):
                raise  # its half-written generation is harvested by the next build
            if builder.generation is not None and layout.current_generation(root) != \
                    builder.generation:
                layout.remove_stale(root, keep=kept)
            if isinstance(exc, CiteseekError):
                raise
            if isinstance(exc, OSError | sqlite3.Error):  # a full disk, an I/O error
                raise BuildError(f"build failed, {previous or 'nothing'} stays live: "
                                 f"{exc}") from exc
            raise
        report.generation = builder.generation
        if builder.generation is None and prev_manifest:
            report.documents = prev_manifest.counts.documents
            report.chunks = prev_manifest.counts.chunks
        report.seconds = time.perf_counter() - started
        return report
