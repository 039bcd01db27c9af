"""Building on a Ray cluster: the changed files are read, cleaned, chunked and embedded by
a Ray Data pipeline, then assembled here into the usual collection.

The driver does what the local engine does around that: discovery and change detection
(only files whose bytes changed go to Ray), the lock, the SQLite database, the FAISS index,
the manifest and the verified atomic publish. The pipeline is ``map_batches`` over an
actor pool (``ray_worker.FileWorker``: each actor loads the model once); its output is
written as parquet shards under the new generation's folder, read back in file order and
removed before the generation is sealed. A worker that dies is restarted and its batch
retried a few times; past that the build fails with ``BuildError`` and the previous
generation stays live. Ray is imported only here, and only when this engine is used.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import shutil
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .. import errors
from ..embed.base import Embedder
from ..errors import BuildError, CiteseekError, UsageError
from ..ingest.sources import Skipped, SourceFile
from ..storage.database import GenerationDB
from ..storage.generation import store_of
from ..storage.vector_index import TRAIN_SAMPLE, VectorIndex, choose_factory
from .builder import Builder, ParsedFile
from .publish import Built, build_collection
from .report import BuildReport

INSTALL_HINT = ("the ray engine needs Ray: pip install 'citeseek[ray]' "
                "(on the machine that builds and on every node of the cluster)")
SHARDS = "shards"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_OWN_ERROR = re.compile(r"^citeseek\.errors\.(\w+): (.*)$", re.MULTILINE)
_ANY_ERROR = re.compile(r"^[\w.]*(Error|Exception|Exit)\w*: ")
_MAX_FILES_PER_BATCH = 64


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a ``UsageError`` saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401 - the data extra must be there too
    except ImportError as exc:
        raise UsageError(f"{INSTALL_HINT} ({exc})") from None
    return ray


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide the pipeline runs.

    ``address``: a running cluster (``"auto"``, ``"ray://host:10001"``, ``"host:6379"``);
    None starts a local one for the build (or uses the one this process already joined).
    ``workers``: model actors (default: one per CPU of the cluster). ``retries``: how
    often a dead actor is restarted and its batch run again before the build fails.
    """

    address: str | None = None
    workers: int | None = None
    retries: int = 3


@contextlib.contextmanager
def _ray_session(ray: Any, options: RayOptions, progress: bool) -> Iterator[None]:
    if ray.is_initialized():  # the caller's own connection is used as it is
        yield
        return
    try:
        ray.init(address=options.address, include_dashboard=False, log_to_driver=progress,
                 logging_level=logging.INFO if progress else logging.WARNING)
    except Exception as exc:  # no cluster at the address, a node that did not start
        ray.shutdown()
        where = options.address or "a new local cluster"
        raise BuildError(f"cannot start or reach Ray at {where}: {exc}") from None
    try:
        yield
    finally:
        ray.shutdown()


def _worker_error(exc: BaseException) -> CiteseekError:
    """What went wrong on a worker, as citeseek's error. Ray passes a worker's exception
    back as text (its traceback), so a citeseek error raised there (a model that cannot
    load) is found by name; anything else is a ``BuildError`` naming the worker's error."""
    text = _ANSI.sub("", str(exc))
    ours = _OWN_ERROR.findall(text)
    if ours:
        name, message = ours[-1]
        kind = getattr(errors, name, None)
        if isinstance(kind, type) and issubclass(kind, CiteseekError):
            return kind(message)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    named = [line for line in lines if _ANY_ERROR.match(line)
             and "UserCodeException" not in line]
    reason = (named or lines or [repr(exc)])[-1 if named else 0]
    return BuildError(f"the Ray pipeline failed: {reason.rstrip('.')}")


def read_shards(folder: Path, expected: int) -> Iterator[dict[str, Any]]:
    """Shard rows in file order (``seq`` 0, 1, ...), each exactly once. A retried batch
    may have written its rows twice; a missing or unreadable row is a ``BuildError``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        spans = []
        for path in sorted(folder.rglob("*.parquet")):
            seqs = pq.read_table(path, columns=["seq"]).column("seq").to_numpy()
            if len(seqs):
                spans.append((int(seqs.min()), int(seqs.max()), path))
        runs: list[tuple[int, list[Path]]] = []  # shards whose seq ranges overlap
        for low, high, path in sorted(spans):
            if runs and low <= runs[-1][0]:
                runs[-1] = (max(high, runs[-1][0]), [*runs[-1][1], path])
            else:
                runs.append((high, [path]))
        following = 0
        for _, paths in runs:
            table = pa.concat_tables([pq.read_table(p) for p in paths]).sort_by("seq")
            for batch in table.to_batches(max_chunksize=256):
                for row in batch.to_pylist():
                    if row["seq"] < following:
                        continue
                    if row["seq"] != following:
                        raise BuildError(f"the Ray engine returned no row for file {following}")
                    following += 1
                    yield row
    except (pa.ArrowException, OSError) as exc:
        raise BuildError(f"cannot read the Ray engine's shards in {folder}: {exc}") from None
    if following != expected:
        raise BuildError(f"the Ray engine returned {following} of {expected} files")


class RayBuilder(Builder):
    """The local builder with its per-file step (``process``) run by a Ray pipeline and,
    for ``index="auto"``, IVF-PQ trained on a sample for very large collections."""

    def __init__(self, *args: Any, options: RayOptions, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.options = options

    def process(self, changed: Iterable[tuple[SourceFile, bytes, str]],
                report: BuildReport) -> None:
        todo = [source for source, _, _ in changed]  # workers read the bytes themselves
        if not todo:
            return
        ray = import_ray()
        shard_dir = self._reserve() / SHARDS
        with _ray_session(ray, self.options, self.progress):
            try:
                self._run_pipeline(ray, todo, shard_dir)
            except (CiteseekError, KeyboardInterrupt):
                raise
            except Exception as exc:  # a worker lost for good, an actor that cannot start
                error = _worker_error(exc)
                if isinstance(error, BuildError):
                    error = BuildError(f"{error}; " + (f"{self.previous.name} stays live"
                                               if self.previous else "nothing was published"))
                raise error from None
        dim = self.embedder.dimension
        self.record((_parsed(source, row, dim) for source, row in
                     zip(todo, read_shards(shard_dir, len(todo)), strict=True)), report)
        shutil.rmtree(shard_dir)
        if self.db is None:  # no changed file held a document: nothing new to publish
            (self.root / str(self.generation)).rmdir()
            self.generation = None

    def _run_pipeline(self, ray: Any, todo: list[SourceFile], shard_dir: Path) -> None:
        from .ray_worker import FileWorker, cached_keys

        prev = store_of(self.root / self.previous.name, self.previous.manifest) \
            if self.previous else None
        cached = cached_keys(prev.embeddings.hashes(self.embedder.model_id) if prev else [])
        if prev is not None:
            prev.close()
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = self.progress
        workers = self.options.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        per_batch = max(1, min(_MAX_FILES_PER_BATCH, math.ceil(len(todo) / (workers * 4))))
        batches = math.ceil(len(todo) / per_batch)
        items = [{"seq": i, "path": str(s.path), "doc_id": s.doc_id}
                 for i, s in enumerate(todo)]
        with warnings.catch_warnings():
            # Ray 2.60 has no named parameter for bounding restarts; unbounded, an actor
            # that always dies (a node out of memory) would be restarted for ever.
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
            dataset = ray.data.from_items(items, override_num_blocks=batches).map_batches(
                FileWorker, batch_size=per_batch, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=min(workers, batches)), num_cpus=1,
                fn_constructor_kwargs={"embedder": self.embedder, "settings": self.settings,
                                       "cached": cached},
                max_restarts=self.options.retries, max_task_retries=self.options.retries)
        # Writing a shard is light: it must not wait for a CPU the model actors hold.
        dataset.write_parquet(str(shard_dir), ray_remote_args={"num_cpus": 0})

    def build_index(self, db: GenerationDB, dim: int, n_vectors: int) -> VectorIndex:
        model = self.embedder.model_id
        factory = self.settings.index
        if factory == "auto":
            factory = choose_factory(n_vectors, dim, compress=True)
        return VectorIndex.build(lambda: db.embeddings.blocks(model, dim), dim, n_vectors, factory,
                                 sample=lambda: db.embeddings.sample(model, dim, TRAIN_SAMPLE))


def _parsed(source: SourceFile, row: dict[str, Any], dim: int) -> ParsedFile:
    """One shard row as the file the local engine would have parsed, with its vectors."""
    from .ray_worker import decode_documents

    if row["error"]:
        return ParsedFile(source, "", 0, [], [Skipped(str(source.path), row["error"])])
    hashes = json.loads(row["hashes"])
    if len(row["vectors"]) != len(hashes) * dim * 4:
        raise BuildError(f"a worker sent vectors of the wrong size for {source.path} "
                         f"(is the same model installed on every node?)")
    vectors = np.frombuffer(row["vectors"], dtype="<f4").reshape(len(hashes), dim)
    return ParsedFile(source, row["sha"], row["size"], decode_documents(row["documents"]),
                      [Skipped(*item) for item in json.loads(row["skipped"])],
                      (hashes, vectors))


def build_collection_on_ray(sources: Iterable[str | os.PathLike[str]], root: Path, *,
                            options: RayOptions, model: str | Embedder | None = None,
                            overrides: Mapping[str, Any] | None = None,
                            progress: bool = True, strict: bool = False,
                            follow_links: bool = False) -> Built:
    """``build_collection`` with the changed files parsed and embedded on Ray."""
    import_ray()  # fail before taking the lock when Ray is missing
    if options.workers is not None and options.workers < 1:
        raise UsageError("workers must be at least 1")
    return build_collection(sources, root, model=model, overrides=overrides,
                            progress=progress, strict=strict, follow_links=follow_links,
                            builder_class=partial(RayBuilder, options=options))
