"""A child process for the reliability suite: runs the real CLI or a build/search loop
with the model-free hashing embedder, so it can be killed, starved of disk or raced
against other processes without loading a model.

    python -m tests.reliability.worker cli index DIR --store S --json
    python -m tests.reliability.worker rebuild STORE CORPUS VERSIONS
    python -m tests.reliability.worker read STORE LOG STOP_FILE

Environment hooks:
  RELIABILITY_SLOW        seconds each ``encode`` call sleeps (so kills land mid-build)
  RELIABILITY_KILL_AT     N: SIGKILL this process at the N-th checkpoint of a build
  RELIABILITY_COUNT_FILE  write how many checkpoints a build passed, and their names
  RELIABILITY_FSIZE       RLIMIT_FSIZE in bytes: writes past it fail like a full disk
  RELIABILITY_READY_FILE  created once the worker is set up (before it starts work)
  RELIABILITY_LEVELS      NAME=VALUE,... : bounds of ``citeseek.storage.levels`` to use
                          (MAX_DELTAS=1 merges every delta, DELTA_MIN=0,DELTA_SHARE=0
                          flattens every stacked build)
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from citeseek.embed.hashing import HashingEmbedder


def _slow_down_encoding() -> None:
    """Every hashing embedder of this process (the ones the CLI makes from the name
    ``hashing`` too) sleeps ``RELIABILITY_SLOW`` seconds per ``encode`` call."""
    original = HashingEmbedder.encode

    @functools.wraps(original)
    def encode(self: HashingEmbedder, texts: list[str], **kwargs: Any) -> np.ndarray:
        time.sleep(float(os.environ.get("RELIABILITY_SLOW", "0")))
        return original(self, texts, **kwargs)

    HashingEmbedder.encode = encode  # type: ignore[method-assign]


_passed: list[str] = []


def _checkpoint(name: str) -> None:
    _passed.append(name)
    if len(_passed) == int(os.environ.get("RELIABILITY_KILL_AT", "0")):
        os.kill(os.getpid(), signal.SIGKILL)


def _instrument(owner: Any, attr: str, label: str) -> None:
    original = getattr(owner, attr)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _checkpoint(f"before {label}")
        result = original(*args, **kwargs)
        _checkpoint(f"after {label}")
        return result

    setattr(owner, attr, wrapper)


def install_checkpoints() -> None:
    """Every step of a build that writes or moves data becomes a place to die."""
    from citeseek.engines import builder, stacking
    from citeseek.storage import (
        database,
        embedding_cache,
        layout,
        manifest,
        tantivy_index,
        vector_index,
    )

    for owner, attr in [
        (layout, "write_atomic"), (layout, "fsync_file"), (layout, "fsync_dir"),
        (layout, "publish"), (layout, "remove_stale"), (manifest.Manifest, "write"),
        (database.GenerationDB, "copy_to"), (database.GenerationDB, "flatten_to"),
        (database.GenerationDB, "merge_into"), (stacking, "start_stacked"),
        (stacking, "flatten"), (database.GenerationDB, "add_document"),
        (database.GenerationDB, "remove_file"), (database.GenerationDB, "set_file"),
        (embedding_cache.EmbeddingCache, "put"), (embedding_cache.EmbeddingCache, "prune"),
        (builder.Builder, "_record_file"), (builder.Builder, "_embed"),
        (vector_index.VectorIndex, "build"), (vector_index.VectorIndex, "save"),
        (tantivy_index.TantivyWriter, "link_from"), (tantivy_index.TantivyWriter, "add"),
        (tantivy_index.TantivyWriter, "remove"), (tantivy_index.TantivyWriter, "_commit"),
        (layout, "link_or_copy"),
        (HashingEmbedder, "encode"), (os, "replace"), (shutil, "rmtree"),
    ]:
        _instrument(owner, attr, f"{getattr(owner, '__name__', owner)}.{attr}")


def _write_count() -> None:
    target = os.environ.get("RELIABILITY_COUNT_FILE")
    if target:
        Path(target).write_text(json.dumps(_passed))


def _set_levels() -> None:
    from citeseek.storage import levels

    for item in filter(None, os.environ.get("RELIABILITY_LEVELS", "").split(",")):
        name, _, value = item.partition("=")
        setattr(levels, name, type(getattr(levels, name))(float(value)))


def _setup() -> HashingEmbedder:
    _set_levels()
    limit = os.environ.get("RELIABILITY_FSIZE")
    if limit:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a dead process
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(limit), int(limit)))
    _slow_down_encoding()
    if os.environ.get("RELIABILITY_KILL_AT") or os.environ.get("RELIABILITY_COUNT_FILE"):
        install_checkpoints()
    ready = os.environ.get("RELIABILITY_READY_FILE")
    if ready:
        Path(ready).write_text(str(os.getpid()))
    return HashingEmbedder()


def write_version(corpus: Path, version: int) -> None:
    """Corpus version ``v``: 2 + v % 3 articles, each naming its version in every line."""
    if corpus.exists():
        shutil.rmtree(corpus)
    corpus.mkdir(parents=True)
    for i in range(2 + version % 3):
        lines = [f"Harbour report {i} version{version}"]
        lines += [f"The harbour crane number {j} moved cargo for version{version} today, "
                  f"said the harbour master of dock {i}." for j in range(6)]
        (corpus / f"article{i}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")


def cmd_cli(argv: list[str]) -> int:
    """The real command line; ``index`` builds with the hashing embedder unless told
    otherwise (other commands take the model the collection names)."""
    from citeseek.cli import main

    _setup()
    if argv[:1] == ["index"] and "--model" not in argv:
        argv = [*argv, "--model", "hashing"]
    try:
        return main(argv)
    finally:
        _write_count()


def cmd_rebuild(store: str, corpus: str, versions: str) -> int:
    """Rebuild ``store`` from corpus versions 1..N, one build each."""
    import citeseek

    fake = _setup()
    for version in range(1, int(versions) + 1):
        write_version(Path(corpus), version)
        citeseek.build(corpus, store, model=fake, progress=False)
    return 0


def check_hits(col: Any, hits: Any, fake: HashingEmbedder, query: str) -> set[str]:
    """The versions named by ``hits``; raises if a dense score does not belong to the
    hit's own text (vectors of one generation paired with passages of another)."""
    from citeseek.ingest.chunking import embed_text_for

    qvec = fake.encode([query])[0]
    for hit in hits:
        if hit.scores.get("dense") is not None:
            text = embed_text_for(hit.title, hit.text, col.settings)
            expected = float(fake.encode([text])[0] @ qvec)
            if abs(expected - hit.scores["dense"]) > 1e-4:
                raise AssertionError(f"score {hit.scores['dense']} is not that of {text!r}")
    return {word for hit in hits for word in hit.text.split() if word.startswith("version")}


def cmd_read(store: str, log: str, stop_file: str) -> int:
    """Search ``store`` until ``stop_file`` exists, then once more; log every answer."""
    import citeseek

    fake = _setup()
    query = "harbour crane cargo"
    long_lived = citeseek.open(store, model=fake)
    with open(log, "a", encoding="utf-8") as out:
        n = 0
        while True:
            stopping = Path(stop_file).exists()
            n += 1
            for label, col in (("long", long_lived),
                               ("fresh", citeseek.open(store, model=fake) if n % 3 == 0
                                else None)):
                if col is None:
                    continue
                record: dict[str, Any] = {"reader": label, "final": stopping}
                try:
                    mode = ("dense", "hybrid", "keyword")[n % 3]
                    # feedback=0: hybrid's dense scores then belong to the query itself,
                    # so check_hits can recompute each one from the hit's own text
                    hits = col.search(query, k=100, mode=mode, feedback=0)
                    record.update(generation=col.generation, mode=mode,
                                  versions=sorted(check_hits(col, hits, fake, query)),
                                  hits=len(hits), chunks=len(col))
                except Exception as exc:  # every failure is logged for the test to see
                    record["error"] = f"{type(exc).__name__}: {exc}"
                out.write(json.dumps(record) + "\n")
                out.flush()
            if stopping:
                return 0


def main() -> int:
    command, *rest = sys.argv[1:]
    if command == "cli":
        return cmd_cli(rest)
    if command == "rebuild":
        return cmd_rebuild(*rest)
    if command == "read":
        return cmd_read(*rest)
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main())
