"""Faults: builds killed with SIGKILL at every step, damaged generations, full disks and
I/O errors. The last complete generation always stays live and loadable; damage is a
clear error naming the file, never a silent reset."""

from __future__ import annotations

import errno
import json
import shutil
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import BuildError, CorruptCollection
from citeseek.storage import layout
from citeseek.storage.manifest import Manifest

from .conftest import (
    assert_clean,
    assert_intact,
    cli,
    run_worker,
    snapshot,
    start_worker,
    write_articles,
)


def documents(store: Path, fake: HashingEmbedder) -> dict[str, str]:
    """doc id -> stored text of the live generation (opened with full verification)."""
    col = citeseek.open(store, model=fake)
    return {d["doc_id"]: col.document(d["doc_id"]).text for d in col.documents()}


def change(corpus: Path, version: int) -> None:
    """The same two articles rewritten for each version: every build does the same steps."""
    for i in (1, 3):
        (corpus / f"article{i:02d}.txt").write_text(
            f"Harbour report {i} edition {version}\n\nThe harbour crane number {version} moved "
            f"cargo for edition {version} of the report, said the harbour master of dock {i}.\n",
            encoding="utf-8")


def test_kill_9_at_every_step_of_a_build_loses_nothing(tmp_path: Path) -> None:
    corpus, store = write_articles(tmp_path / "corpus", 5), tmp_path / "store"
    fake = HashingEmbedder()
    citeseek.build(corpus, store, model=fake, progress=False)
    change(corpus, 0)
    citeseek.build(corpus, store, model=fake, progress=False)  # two generations, as later
    count_file = tmp_path / "checkpoints.json"
    change(corpus, 1)
    counted = run_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                         RELIABILITY_COUNT_FILE=str(count_file))
    assert counted.returncode == 0, counted.stderr
    steps = json.loads(count_file.read_text())
    assert len(steps) >= 20 and "before citeseek.storage.layout.publish" in steps
    phases = ("stacking.start_stacked", "Builder._record_file", "encode", "VectorIndex.save",
              "Manifest.write", "layout.publish", "remove_stale")
    # 30 points spread over the build, and the first step of each phase among them
    points = sorted({round(1 + i * (len(steps) - 1) / 29) for i in range(30)} |
                    {1 + next(i for i, name in enumerate(steps) if phase in name)
                     for phase in phases})
    killed_at = []
    for version, point in enumerate(points, start=2):
        if len(layout.generations(store)) == 1:  # as before the counted build: two
            change(corpus, -version)
            citeseek.build(corpus, store, model=fake, progress=False)
        before = documents(store, fake)
        live_before = layout.current_generation(store)
        change(corpus, version)
        proc = run_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                          RELIABILITY_KILL_AT=str(point))
        assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr)
        killed_at.append(steps[point - 1])
        during = documents(store, fake)  # the live generation loads and verifies
        published = layout.current_generation(store) != live_before
        col = citeseek.build(corpus, store, model=fake, progress=False)  # the lock was freed
        after = documents(store, fake)
        assert during == (after if published else before), steps[point - 1]
        assert f"edition {version}" in after["article01.txt"]
        assert_clean(store)
        hit = col.search(f"crane number {version}", k=1, mode="keyword")[0]
        assert col.document(hit.doc_id).text[hit.start:hit.end] == hit.text
    assert len(killed_at) >= 20
    # The kills landed in every phase: linking, ingesting, embedding, index, publishing.
    for step in phases:
        assert any(step in k for k in killed_at), step


def test_kill_9_at_every_step_of_the_keyword_index_loses_nothing(tmp_path: Path) -> None:
    """Every step that links, adds to, removes from or commits the new generation's
    keyword index, killed in turn: the live generation and its linked files stay as
    they were, and the next build indexes the change."""
    corpus, store = write_articles(tmp_path / "corpus", 5), tmp_path / "store"
    fake = HashingEmbedder()
    citeseek.build(corpus, store, model=fake, progress=False)
    count_file = tmp_path / "checkpoints.json"
    change(corpus, 1)
    counted = run_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                         RELIABILITY_COUNT_FILE=str(count_file))
    assert counted.returncode == 0, counted.stderr
    steps = json.loads(count_file.read_text())
    points = [i + 1 for i, name in enumerate(steps)
              if "TantivyWriter" in name or "link_or_copy" in name]
    for step in ("link_or_copy", "TantivyWriter.link_from", "TantivyWriter.add",
                 "TantivyWriter.remove", "TantivyWriter._commit"):
        assert any(step in steps[p - 1] for p in points), step
    for version, point in enumerate(points[::max(1, len(points) // 12)], start=2):
        live = layout.current_generation(store)
        sums = {name: layout.sha256_file(store / str(live) / name)
                for name in layout.generation_files(store / str(live))}
        before = documents(store, fake)
        change(corpus, version)
        proc = run_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                          RELIABILITY_KILL_AT=str(point))
        assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr)
        assert layout.current_generation(store) == live, steps[point - 1]
        assert documents(store, fake) == before
        assert {name: layout.sha256_file(store / str(live) / name) for name in sums} == sums
        col = citeseek.build(corpus, store, model=fake, progress=False)
        assert f"edition {version}" in documents(store, fake)["article01.txt"]
        hit = col.search(f"edition {version}", k=1, mode="keyword")[0]
        assert f"edition {version}" in hit.text
        assert_clean(store)


@pytest.mark.parametrize("bounds", ["MAX_DELTAS=1", "DELTA_MIN=0,DELTA_SHARE=0"])
def test_kill_9_at_every_step_of_merging_or_flattening_levels(
        tmp_path: Path, bounds: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that merges the live generation's deltas into its own level (at most one
    delta), or that writes every level into a new base (any delta too large), killed at
    steps across it: the live generation and the files it shares stay as they were, and
    the next build under the same bounds publishes the change."""
    from citeseek.storage import levels

    for item in bounds.split(","):
        name, _, value = item.partition("=")
        monkeypatch.setattr(levels, name, type(getattr(levels, name))(float(value)))
    corpus, store = write_articles(tmp_path / "corpus", 5), tmp_path / "store"
    fake = HashingEmbedder()
    citeseek.build(corpus, store, model=fake, progress=False)
    change(corpus, 0)
    with monkeypatch.context() as plain:  # a live generation with a delta to merge
        plain.setattr(levels, "DELTA_MIN", 2_000)
        plain.setattr(levels, "DELTA_SHARE", 0.1)
        citeseek.build(corpus, store, model=fake, progress=False)
    assert len(Manifest.read(store / str(layout.current_generation(store)),
                             verify=False).levels) == 2
    count_file = tmp_path / "checkpoints.json"
    change(corpus, 1)
    counted = run_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                         RELIABILITY_COUNT_FILE=str(count_file), RELIABILITY_LEVELS=bounds)
    assert counted.returncode == 0, counted.stderr
    steps = json.loads(count_file.read_text())
    phase = "merge_into" if "MAX_DELTAS" in bounds else "stacking.flatten"
    first = next(i for i, name in enumerate(steps) if phase in name)
    points = sorted({first + 1, first + 2,
                     *(round(1 + i * (len(steps) - 1) / 11) for i in range(12))})
    for version, point in enumerate(points, start=2):
        live = layout.current_generation(store)
        sums = {name: layout.sha256_file(store / str(live) / name)
                for name in layout.generation_files(store / str(live))}
        before = documents(store, fake)
        change(corpus, version)
        proc = run_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                          RELIABILITY_KILL_AT=str(point), RELIABILITY_LEVELS=bounds)
        assert proc.returncode == -signal.SIGKILL, (point, proc.returncode, proc.stderr)
        if layout.current_generation(store) == live:  # killed before it published
            assert documents(store, fake) == before, steps[point - 1]
            assert {name: layout.sha256_file(store / str(live) / name)
                    for name in sums} == sums, steps[point - 1]
        col = citeseek.build(corpus, store, model=fake, progress=False)
        assert f"edition {version}" in documents(store, fake)["article01.txt"]
        hit = col.search(f"edition {version}", k=1, mode="keyword")[0]
        assert col.document(hit.doc_id).text[hit.start:hit.end] == hit.text
        assert_clean(store)
    assert any(phase in steps[p - 1] for p in points)


def test_kill_9_from_outside_while_embedding(tmp_path: Path) -> None:
    corpus, store = write_articles(tmp_path / "corpus", 4), tmp_path / "store"
    fake = HashingEmbedder()
    citeseek.build(corpus, store, model=fake, progress=False)
    for version in range(3):
        before, ready = documents(store, fake), tmp_path / f"ready{version}"
        change(corpus, version)
        proc = start_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                            RELIABILITY_SLOW="30", RELIABILITY_READY_FILE=str(ready))
        while not ready.exists() and proc.poll() is None:
            time.sleep(0.02)
        time.sleep(0.3 * version)  # further into the build each time
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        assert documents(store, fake) == before
        citeseek.build(corpus, store, model=fake, progress=False)
        assert_clean(store)


# -- damaged generations --------------------------------------------------------------

def _flip(path: Path, where: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0x5A
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _largest(folder: Path) -> Path:
    """The biggest file of a keyword index: one of its segments' postings."""
    return max((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.stat().st_size)


def _edit_manifest(gen: Path, edit: Any) -> None:
    manifest = json.loads((gen / "manifest.json").read_text())
    (gen / "manifest.json").write_text(json.dumps(edit(manifest)))


DAMAGE = {  # name -> (damage the live generation folder, file the error must name)
    "store truncated": (lambda g: _truncate(g / "store.sqlite"), "store.sqlite"),
    "index truncated": (lambda g: _truncate(g / "index.faiss"), "index.faiss"),
    "store altered": (lambda g: _flip(g / "store.sqlite", 0.7), "store.sqlite"),
    "index altered": (lambda g: _flip(g / "index.faiss", 0.6), "index.faiss"),
    "store missing": (lambda g: (g / "store.sqlite").unlink(), "store.sqlite"),
    "index missing": (lambda g: (g / "index.faiss").unlink(), "index.faiss"),
    "keyword segment altered": (lambda g: _flip(_largest(g / "keywords")), "keywords/"),
    "keyword segment missing": (lambda g: _largest(g / "keywords").unlink(), "keywords/"),
    "keyword meta truncated": (lambda g: _truncate(g / "keywords" / "meta.json"),
                               "meta.json"),
    "keyword file planted": (lambda g: (g / "keywords" / "0123.idx").write_bytes(b"x"),
                             "0123.idx"),
    "manifest missing": (lambda g: (g / "manifest.json").unlink(), "manifest.json"),
    "manifest not JSON": (lambda g: (g / "manifest.json").write_text("{\"files\": "),
                          "manifest.json"),
    "manifest a list": (lambda g: (g / "manifest.json").write_text("[]"), "manifest.json"),
    "manifest lacks model": (lambda g: _edit_manifest(
        g, lambda m: {k: v for k, v in m.items() if k != "model"}), "manifest.json"),
    "manifest bad size": (lambda g: _edit_manifest(
        g, lambda m: {**m, "files": {**m["files"], "index.faiss": {"sha256": "0"}}}),
        "manifest.json"),
    "generation folder gone": (lambda g: shutil.rmtree(g), "manifest.json"),
    "CURRENT garbage": (lambda g: (g.parent / "CURRENT").write_text("../../etc\n"),
                        "CURRENT"),
}


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_damaged_generation_is_a_clear_error_and_the_next_build_replaces_it(
        built: Path, articles: Path, name: str) -> None:
    damage, culprit = DAMAGE[name]
    live = layout.current_generation(built)
    gen = built / live
    damage(gen)
    left = {p.relative_to(built): p.read_bytes() for p in built.rglob("*") if p.is_file()}
    fake = HashingEmbedder()
    with pytest.raises(CorruptCollection, match=culprit.replace(".", r"\.")):
        citeseek.open(built, model=fake)
    code, error, err = cli("search", "harbour", "--store", str(built), "--mode", "keyword",
                           "--json")
    assert code == 1 and culprit in error["error"] and "Traceback" not in err
    assert "citeseek rollback" in error["error"]  # the way back is named
    code, checked, err = cli("check", "--store", str(built), "--json")
    assert code == 1 and not checked["ok"] and "Traceback" not in err
    assert any(culprit in (g["problem"] or "") or culprit in (checked["pointer_problem"] or "")
               for g in checked["generations"] if g["live"] or checked["live"] is None)
    # Reading and checking reset, repair and delete nothing behind the user's back.
    assert {p.relative_to(built): p.read_bytes() for p in built.rglob("*")
            if p.is_file() and p.name != ".lock"} == {k: v for k, v in left.items()
                                                      if k.name != ".lock"}
    (articles / "new.txt").write_text("A new article about ferries and their timetables.\n")
    col = citeseek.build(articles, built, model=fake, progress=False)
    report = col.last_build
    # The build says what it found and what it did: built from the good generation
    # check named (the one CURRENT no longer named), else anew from the sources; the
    # new generation replaced the damaged one.
    assert report.damaged in (live, layout.CURRENT) and culprit in report.damage
    assert report.previous == checked["rollback_to"] and f"{report.damaged} was damaged" \
        in str(report)
    assert report.generation == layout.current_generation(built) != live
    assert len(col.documents()) == 7 and "new.txt" in {d["doc_id"] for d in col.documents()}
    assert_clean(built)
    assert documents(built, fake)["new.txt"].startswith("A new article about ferries")


@pytest.mark.parametrize("target", ["store.sqlite", "index.faiss"])
def test_damage_found_without_checksums_is_still_a_clear_error(built: Path,
                                                               target: str) -> None:
    """``verify=False`` skips hashing; damage then surfaces on load or first use, still
    as citeseek's error naming the file, never SQLite's or FAISS's own."""
    gen = built / layout.current_generation(built)
    data = bytearray((gen / target).read_bytes())
    data[:64] = b"\xff" * 64  # the header: same size, so only a checksum would see it
    (gen / target).write_bytes(bytes(data))
    with pytest.raises(CorruptCollection, match=target.replace(".", r"\.")):
        col = citeseek.open(built, model=HashingEmbedder(), verify=False)
        col.search("harbour crane", k=3)


# -- injected I/O errors and full disks during a build ------------------------------------

def _raise(exc: BaseException) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc
    return fail


FLATTEN = {"DELTA_MIN": 0, "DELTA_SHARE": 0.0}  # bounds that write every level anew
FAULTS = {  # where -> (object, attribute, the error raised there[, bounds of the levels])
    "linking the levels": ("citeseek.storage.layout.link_or_copy",
                           OSError(errno.EMLINK, "Too many links")),
    "merging the deltas": ("citeseek.storage.database.GenerationDB.merge_into",
                           sqlite3.OperationalError("database or disk is full"),
                           {"MAX_DELTAS": 0}),
    "flattening the store": ("citeseek.storage.database.GenerationDB.flatten_to",
                             sqlite3.OperationalError("database or disk is full"), FLATTEN),
    "adding a document": ("citeseek.storage.database.GenerationDB.add_document",
                          sqlite3.OperationalError("disk I/O error")),
    "caching vectors": ("citeseek.storage.embedding_cache.EmbeddingCache.put",
                        sqlite3.OperationalError("database or disk is full")),
    "writing the index": ("faiss.write_index", RuntimeError(
        "Error in faiss::FileIOWriter::operator(): 'ret == (n)' failed: write error")),
    "fsync of a file": ("citeseek.storage.layout.fsync_file", OSError(errno.EIO, "Input/output error")),
    "writing the manifest": ("citeseek.storage.manifest.Manifest.write",
                             OSError(errno.ENOSPC, "No space left on device")),
    "publishing": ("citeseek.storage.layout.publish", OSError(errno.ENOSPC, "No space left on device")),
}


@pytest.mark.parametrize("where", sorted(FAULTS))
def test_io_error_during_build_fails_it_and_keeps_the_previous_generation(
        built: Path, articles: Path, where: str, monkeypatch) -> None:
    from citeseek.storage import levels

    target, error, *bounds = FAULTS[where]
    before = snapshot(built)
    live = layout.current_generation(built)
    (articles / "new.txt").write_text("A new article about harbour ferries and cranes.\n")
    monkeypatch.setattr(target, _raise(error))
    for name, value in (bounds[0] if bounds else {}).items():
        monkeypatch.setattr(levels, name, value)
    fake = HashingEmbedder()
    with pytest.raises(BuildError, match=f"{live} stays live|cannot write"):
        citeseek.build(articles, built, model=fake, progress=False)
    monkeypatch.undo()
    assert layout.generations(built) == [live]  # the half-written one is gone
    assert_intact(built, before, fake)
    col = citeseek.build(articles, built, model=fake, progress=False)
    assert "new.txt" in {d["doc_id"] for d in col.documents()}
    assert_clean(built)


@pytest.mark.parametrize("bounds", ["", "DELTA_MIN=0,DELTA_SHARE=0"])
def test_real_full_disk_in_a_child_process(built: Path, articles: Path, bounds: str) -> None:
    """RLIMIT_FSIZE makes the kernel refuse writes past a size, as a full disk would:
    in a build that stacks a delta (a new database of a few pages), and in one that
    writes every level into a new store (as big as the live one)."""
    gen = built / layout.current_generation(built)
    sizes = [(gen / name).stat().st_size for name in layout.DATA_FILES]
    fake = HashingEmbedder()
    limits = [4096, min(sizes) - 1, max(sizes) // 2, max(sizes) - 1] if bounds else \
        [4096, 20_000]
    for n, limit in enumerate(limits):
        before = snapshot(built)
        (articles / f"new{n}.txt").write_text(f"Article {n} about a harbour ferry.\n")
        code, error, err = cli("index", str(articles), "--store", str(built), "--json",
                               RELIABILITY_FSIZE=str(limit), RELIABILITY_LEVELS=bounds)
        assert code == 1 and error["type"] == "BuildError", (limit, error, err)
        assert "stays live" in error["error"] or "cannot write" in error["error"]
        assert "Traceback" not in err
        assert_intact(built, before, fake)
        assert layout.generations(built) == [layout.current_generation(built)]
    code, report, err = cli("index", str(articles), "--store", str(built), "--json")
    assert code == 0 and report["documents"] == 6 + len(limits), err


def test_index_written_wrong_is_caught_by_read_back(built: Path, articles: Path,
                                                    monkeypatch) -> None:
    """A disk that stores other bytes than it was given: the read-back hashes the whole
    file and compares it with the hash of what FAISS wrote, so nothing damaged is
    published."""
    import os

    real_fsync = os.fsync

    def lying_fsync(fd: int) -> None:
        real_fsync(fd)
        path = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if path.suffix == ".faiss":  # the bytes reached the disk, which changed one
            _flip(path, 0.6)  # deep inside the vectors (of the new delta's index)

    before = snapshot(built)
    (articles / "new.txt").write_text("A new article about harbour ferries and cranes.\n")
    monkeypatch.setattr(os, "fsync", lying_fsync)
    with pytest.raises(CorruptCollection, match="read back differently"):
        citeseek.build(articles, built, model=HashingEmbedder(), progress=False)
    monkeypatch.undo()
    assert_intact(built, before, HashingEmbedder())



def test_a_damaged_live_generation_is_reported_without_hashing_it_again(
        built: Path) -> None:
    """A reader holds a good generation; a damaged one is published. Every call reports
    the damage (the same error, not a fresh hashing of every file each time) until the
    files change: a good generation published again is read at once."""
    reader = citeseek.open(built, model=HashingEmbedder())
    live = layout.current_generation(built)
    assert live is not None
    broken = "gen-000099"
    shutil.copytree(built / live, built / broken)
    store = built / broken / layout.STORE_FILE
    data = bytearray(store.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the checksum tells
    store.write_bytes(bytes(data))
    layout.publish(built, broken)
    with pytest.raises(CorruptCollection, match="checksum") as first:
        reader.search("harbour crane", k=1, mode="keyword")
    with pytest.raises(CorruptCollection) as second:
        reader.search("harbour crane", k=1, mode="keyword")
    assert second.value is first.value  # remembered, not found again
    layout.publish(built, live)
    assert reader.search("harbour crane", k=1, mode="keyword")
    layout.publish(built, broken)
    shutil.copy2(built / live / layout.STORE_FILE, store)  # repaired in place
    assert reader.search("harbour crane", k=1, mode="keyword")
    assert reader.generation == broken
