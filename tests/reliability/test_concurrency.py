"""Concurrency: one builder at a time (a lock the OS frees if the holder dies), readers
in other processes and threads answering throughout rebuilds, each answer from exactly
one generation, and long-lived collections moving on to newer generations."""

from __future__ import annotations

import json
import shutil
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.collection import Collection
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import CollectionLocked
from citeseek.storage import layout
from citeseek.storage.generation import Generation, LiveGeneration
from tests.helpers import run_threads, running_threads, wait_until

from .conftest import assert_clean, cli, start_worker, worker_env
from .worker import check_hits, write_version

QUERY = "harbour crane cargo"


def test_second_builder_is_told_the_pid_and_the_lock_dies_with_its_holder(
        tmp_path: Path) -> None:
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    fake = HashingEmbedder()
    write_version(corpus, 0)
    citeseek.build(corpus, store, model=fake, progress=False)
    write_version(corpus, 1)
    holder = start_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                          RELIABILITY_SLOW="60")
    try:
        lock = store / ".lock"
        wait_until(lambda: lock.exists() and lock.read_text() == str(holder.pid),
                   proc=holder, what="the lock holder's PID")
        with pytest.raises(CollectionLocked, match=f"PID {holder.pid}"):
            citeseek.build(corpus, store, model=fake, progress=False)
        code, error, err = cli("index", str(corpus), "--store", str(store), "--json")
        assert code == 1 and error["type"] == "CollectionLocked"
        assert f"PID {holder.pid}" in error["error"] and f"PID {holder.pid}" in err
        reader = citeseek.open(store, model=fake)  # reading is never locked out
        assert {w for h in reader.search(QUERY, k=50) for w in h.text.split()
                if w.startswith("version")} == {"version0"}
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=60)
    assert holder.returncode == -signal.SIGKILL
    col = citeseek.build(corpus, store, model=fake, progress=False)  # the OS freed it
    assert not col.last_build.unchanged and "version1" in col.document("article0.txt").text
    assert_clean(store)


def test_readers_in_other_processes_see_one_generation_at_a_time(tmp_path: Path) -> None:
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    write_version(corpus, 0)
    citeseek.build(corpus, store, model=HashingEmbedder(), progress=False)
    stop, versions = tmp_path / "stop", 12
    logs = [tmp_path / f"reader{i}.jsonl" for i in range(2)]
    readers = [start_worker("read", str(store), str(log), str(stop)) for log in logs]
    for proc, log in zip(readers, logs, strict=True):  # each has answered once already
        wait_until(lambda log=log: log.exists() and log.read_text().count("\n") >= 1,
                       proc=proc, what="a first search result")
    builder = start_worker("rebuild", str(store), str(corpus), str(versions))
    out, err = builder.communicate(timeout=300)
    assert builder.returncode == 0, err
    stop.write_text("")
    for proc in readers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    by_generation: dict[str, str] = {}
    for log in logs:
        records = [json.loads(line) for line in log.read_text().splitlines()]
        assert len(records) >= 3
        assert [r for r in records if "error" in r] == []
        seen_long: list[int] = []
        for r in records:
            assert len(r["versions"]) == 1, r  # never a mix of two builds
            assert r["hits"] == r["chunks"], r  # store and index of the same generation
            assert by_generation.setdefault(r["generation"], r["versions"][0]) == \
                r["versions"][0]
            if r["reader"] == "long":
                seen_long.append(int(r["versions"][0][len("version"):]))
        assert seen_long == sorted(seen_long)  # a long-lived reader never goes back
        assert seen_long[0] == 0 and seen_long[-1] == versions  # and does move on
    assert len(by_generation) >= 2


def _expected(col: Collection, queries: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    return [[(h.chunk_id, round(h.score, 6)) for h in col.search(q, **kw)]
            for q, kw in queries]


def test_many_threads_search_one_collection(tmp_path: Path) -> None:
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    write_version(corpus, 4)
    fake = HashingEmbedder()
    col = citeseek.build(corpus, store, model=fake, progress=False)
    queries = [(QUERY, {"k": 5, "mode": m}) for m in ("dense", "keyword", "hybrid")] + [
        ("crane number 3", {"k": 3, "doc_ids": ["article1.txt"]}),
        ("harbour master dock", {"k": 4, "sources": "*article2*", "mode": "dense"}),
        ("cargo", {"k": 50, "per_doc": 1, "mode": "keyword"})]
    expected = _expected(col, queries)
    results: list[Any] = []

    def work(seed: int) -> None:
        for i in range(20):
            n = (seed + i) % len(queries)
            results.append((n, _expected(col, [queries[n]])[0]))

    run_threads(work, [(s,) for s in range(8)])
    assert len(results) == 160 and all(got == expected[n] for n, got in results)


def test_threads_keep_answering_while_the_collection_is_rebuilt(tmp_path: Path) -> None:
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    write_version(corpus, 0)
    fake = HashingEmbedder()
    col = citeseek.open(citeseek.build(corpus, store, model=fake, progress=False).root,
                        model=fake)
    done = threading.Event()
    seen: list[tuple[int, str]] = []

    def search(thread: int) -> None:
        while True:
            finished = done.is_set()
            hits = col.search(QUERY, k=100, mode=("dense", "hybrid")[thread % 2],
                              feedback=0)  # dense scores stay the query's own
            (version,) = check_hits(col, hits, fake, QUERY)
            seen.append((thread, version))
            if finished:
                return

    with running_threads(search, [(i,) for i in range(4)]):
        try:
            for version in range(1, 7):
                write_version(corpus, version)
                citeseek.build(corpus, store, model=HashingEmbedder(), progress=False)
        finally:
            done.set()
    for thread in range(4):
        mine = [int(v[len("version"):]) for t, v in seen if t == thread]
        assert mine == sorted(mine) and mine[-1] == 6


class BuildsTwiceWhileLoading(LiveGeneration):
    """A reader that, the first time it loads generation ``target``, lets two builds
    publish newer generations and delete ``target`` before it reads the files."""

    def __init__(self, store: Path, corpus: Path, fake: HashingEmbedder) -> None:
        self.corpus, self.fake = corpus, fake
        self.target: str | None = None
        self.raced: list[str] = []
        super().__init__(store, model=fake)

    def load(self, name: str) -> Generation:
        if name == self.target and not self.raced:
            self.raced.append(name)
            for version in (2, 3):
                write_version(self.corpus, version)
                citeseek.build(self.corpus, self.root, model=self.fake, progress=False)
            assert not (self.root / name).exists()
        return super().load(name)


def test_refresh_loads_the_newest_when_builds_clean_up_under_it(tmp_path: Path) -> None:
    """A reader starts loading generation N; meanwhile two builds publish N+2 and delete
    N. The reader loads N+2 instead of failing."""
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    fake = HashingEmbedder()
    write_version(corpus, 0)
    citeseek.build(corpus, store, model=fake, progress=False)
    reader = BuildsTwiceWhileLoading(store, corpus, fake)
    write_version(corpus, 1)
    citeseek.build(corpus, store, model=fake, progress=False)
    reader.target = layout.current_generation(store)
    assert reader.refresh()
    assert reader.raced == [reader.target]
    assert reader.current.name == layout.current_generation(store)
    document = reader.read(lambda gen: gen.db.get_document("article0.txt"))
    assert document is not None and "version3" in document.text


class BuildsTwiceAfterRefresh(LiveGeneration):
    """A reader whose first refresh finds its generation current, after which two builds
    delete that generation before the caller reads from it."""

    def __init__(self, store: Path, corpus: Path, fake: HashingEmbedder) -> None:
        self.corpus, self.fake = corpus, fake
        self.raced: list[bool] = []
        super().__init__(store, model=fake)

    def refresh(self) -> bool:
        switched = super().refresh()
        if not self.raced:
            self.raced.append(switched)
            for version in (1, 2):
                write_version(self.corpus, version)
                citeseek.build(self.corpus, self.root, model=self.fake, progress=False)
        return switched


def test_a_thread_whose_generation_was_removed_retries_on_the_live_one(
        tmp_path: Path) -> None:
    """The generation is checked as current, then deleted by two builds before a new
    thread's first query opens its store: the query runs on the live generation."""
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    fake = HashingEmbedder()
    write_version(corpus, 0)
    citeseek.build(corpus, store, model=fake, progress=False)
    reader = BuildsTwiceAfterRefresh(store, corpus, fake)
    found: list[Any] = []

    def passages(gen: Generation) -> list[str]:
        ids = [cid for cid, _ in gen.db.keywords.search(QUERY, 3)]
        return [row.text for row in gen.db.hit_rows(ids).values()]

    thread = threading.Thread(target=lambda: found.append(reader.read(passages)))
    thread.start()
    thread.join()
    assert reader.raced == [False] and len(found) == 1 and len(found[0]) == 3
    assert {w for text in found[0] for w in text.split() if w.startswith("version")} == \
        {"version2"}
    assert reader.current.name == layout.current_generation(store)


def test_a_collection_deleted_and_built_anew_is_never_mixed_with_the_old(
        tmp_path: Path) -> None:
    """The store folder is deleted and built again from other articles: it starts at
    gen-000001 again. A reader holding the old one moves to the new one, and a thread
    that opens the store only now never pairs the new passages with the old vectors."""
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    fake = HashingEmbedder()
    write_version(corpus, 1)
    reader = citeseek.build(corpus, store, model=fake, progress=False)
    assert {w for h in reader.search(QUERY, k=3) for w in h.text.split()
            if w.startswith("version")} == {"version1"}
    old_generation = reader.generation
    shutil.rmtree(store)
    write_version(corpus, 2)
    citeseek.build(corpus, store, model=fake, progress=False)
    assert layout.current_generation(store) == old_generation  # the same name again
    found: list[Any] = []

    def search() -> None:
        hits = reader.search(QUERY, k=10, feedback=0)
        found.append((check_hits(reader, hits, fake, QUERY), len(hits)))

    thread = threading.Thread(target=search)
    thread.start()
    thread.join()
    assert found and found[0][0] == {"version2"}
    assert check_hits(reader, reader.search(QUERY, k=10, feedback=0), fake, QUERY) == \
        {"version2"}
    assert "version2" in reader.document("article0.txt").text


def test_worker_environment_runs_this_checkout() -> None:
    """The child processes above import this checkout's citeseek, not an installed one."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import citeseek; print(citeseek.__file__)"],
                         env=worker_env(), capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()).is_relative_to(Path(citeseek.__file__).parents[1])
