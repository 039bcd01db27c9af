"""``citeseek watch``: build a collection, then build it again whenever its sources
change, with ``watchfiles`` (the ``watch`` extra).

Changes are gathered until the sources have been quiet for ``debounce`` seconds, then
one incremental build reads what changed: new and changed files, and deleted ones
(their documents leave the collection). Builds run one at a time, under the
collection's build lock; while another process holds it (a ``citeseek index``), the
build waits its turn. A file that cannot be read is reported and skipped, as by
``citeseek index``; a build that fails leaves the previous generation live, and the
watch goes on. A running ``citeseek serve`` or ``citeseek mcp`` picks up each new
generation by itself.

Ctrl-C while waiting stops at once; during a build, the build finishes first (a second
Ctrl-C interrupts it, and the next build takes over what it had embedded).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..collection import build
from ..config import default_store
from ..embed.base import Embedder
from ..engines.report import BuildReport
from ..errors import BuildError, CiteseekError, CollectionLocked
from ..ingest.formats import BY_EXTENSION

LOCK_RETRY = 1.0  # seconds between attempts while another process builds


class Watcher:
    """Builds the collection at ``store`` from ``sources`` now and after each change.

    ``on_build(report)`` hears of each build, ``on_error(error)`` of each that failed
    (the collection is left as it was). ``stop`` (an event) ends ``run`` between builds.
    """

    def __init__(self, sources: Sequence[str | os.PathLike[str]],
                 store: str | os.PathLike[str] | None = None, *,
                 model: str | Embedder | None = None, debounce: float = 1.0,
                 strict: bool = False, follow_links: bool = False,
                 on_build: Callable[[BuildReport], None] = print,
                 on_error: Callable[[CiteseekError], None] = print) -> None:
        if not sources:
            raise BuildError("no sources given")
        missing = [os.fspath(p) for p in sources if not os.path.lexists(p)]
        if missing:
            raise BuildError(f"no such file or folder: {', '.join(map(repr, missing))}")
        if debounce < 0:
            raise BuildError(f"debounce must be >= 0 seconds, not {debounce!r}")
        self.sources = [Path(p).absolute() for p in sources]
        self.store = Path(store if store is not None else default_store(list(sources)))
        self.model, self.debounce = model, debounce
        self.strict, self.follow_links = strict, follow_links
        self.on_build, self.on_error = on_build, on_error
        self.stop = threading.Event()
        self.building = False
        self.builds = 0

    def build_once(self) -> BuildReport | None:
        """One build (waiting while another process holds the lock); None if it failed
        or ``stop`` was set while waiting."""
        self.building = True
        told = False
        try:
            while True:
                try:
                    col = build(self.sources, self.store, model=self.model, progress=False,
                                strict=self.strict, follow_links=self.follow_links)
                except CollectionLocked as exc:
                    if not told:  # once: the build waits its turn
                        self.on_error(exc)
                        told = True
                    if self.stop.wait(LOCK_RETRY):
                        return None
                    continue
                except CiteseekError as exc:
                    self.on_error(exc)
                    return None
                break
            self.model = col.embedder  # loaded once, for every later build
            self.builds += 1
            assert col.last_build is not None
            self.on_build(col.last_build)
            return col.last_build
        finally:
            self.building = False

    def wants(self, path: str) -> bool:
        """Whether a change at ``path`` can change the collection: a file of a format
        citeseek reads, or anything deleted or moved (a folder), under a source and
        outside the store."""
        where = Path(path)
        if self.store.absolute() in where.parents or where == self.store.absolute():
            return False
        if not any(where == src or src in where.parents for src in self.sources):
            return False
        name = where.name
        if name.startswith(".") or name.endswith("~"):
            return False  # editors' swap and backup files, hidden files
        return where.suffix.lower() in BY_EXTENSION or not where.is_file()

    def changes(self) -> Iterator[set[tuple[Any, str]]]:
        """Batches of changes that concern the collection, until ``stop`` is set."""
        import watchfiles

        # A source file is watched through its folder: editors replace files on save.
        folders = sorted({str(p if p.is_dir() else p.parent) for p in self.sources})
        quiet = max(1, int(self.debounce * 1000))
        for batch in watchfiles.watch(*folders, watch_filter=lambda _, p: self.wants(p),
                                      step=quiet, debounce=max(10 * quiet, 2000),
                                      stop_event=self.stop, raise_interrupt=False):
            if batch:
                yield batch

    def run(self) -> None:
        """Build now, then after each batch of changes, until ``stop`` is set."""
        self.build_once()
        for _ in self.changes():
            if self.stop.is_set():
                break
            self.build_once()


def watch(sources: Sequence[str | os.PathLike[str]],
          store: str | os.PathLike[str] | None = None, *,
          model: str | Embedder | None = None, debounce: float = 1.0,
          strict: bool = False, follow_links: bool = False, as_json: bool = False) -> None:
    """``citeseek watch``: each build's report printed (a JSON object a line with
    ``as_json``), each failed build's error on stderr; Ctrl-C stops (see the module)."""
    import json

    from ..terminal import printable, printable_json

    def built(report: BuildReport) -> None:
        text = json.dumps(report.to_dict(), ensure_ascii=False, default=str)
        print(printable_json(text) if as_json else str(report), flush=True)

    def failed(exc: CiteseekError) -> None:
        if as_json:
            print(printable_json(json.dumps({"error": str(exc), "type": type(exc).__name__},
                                            ensure_ascii=False)), flush=True)
        print(f"citeseek: {'waiting' if isinstance(exc, CollectionLocked) else 'error'}: "
              f"{printable(str(exc))}", file=sys.stderr, flush=True)

    watcher = Watcher(sources, store, model=model, debounce=debounce, strict=strict,
                      follow_links=follow_links, on_build=built, on_error=failed)
    with _interrupts_between_builds(watcher):
        print(f"citeseek: watching {', '.join(map(str, watcher.sources))} into "
              f"{watcher.store} (Ctrl-C stops)", file=sys.stderr, flush=True)
        watcher.run()
    print("citeseek: stopped watching", file=sys.stderr, flush=True)


class _interrupts_between_builds:  # noqa: N801 - a context manager, used as a verb
    """SIGINT (Ctrl-C) sets ``watcher.stop``; during a build a second one interrupts it."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher
        self.previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.watcher.building and self.watcher.stop.is_set():
            raise KeyboardInterrupt
        if self.watcher.building:
            print("citeseek: stopping after this build (Ctrl-C again interrupts it)",
                  file=sys.stderr, flush=True)
        self.watcher.stop.set()

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

