"""The way back from damage: ``citeseek check`` says which generations are good,
``citeseek rollback`` makes the previous good one live (atomically, under the lock, safe
to kill at any step, and seen by a running server), and a build over a damaged live
generation starts from the last good one, or from the sources with every verified
store's vectors, never leaving only ``rm -rf``."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import CollectionLocked, CorruptCollection, NoGoodGeneration
from citeseek.storage import layout
from citeseek.storage.manifest import Manifest
from tests.service.server_process import running_server

from .conftest import assert_clean, cli, run_worker, start_worker
from .worker import write_version


def versions(store: Path, fake: HashingEmbedder) -> set[str]:
    """The corpus versions the live generation's documents name."""
    col = citeseek.open(store, model=fake)
    return {word for d in col.documents() for word in col.document(d["doc_id"]).text.split()
            if word.startswith("version")}


def two_builds(tmp_path: Path, fake: HashingEmbedder, **settings: object) -> tuple[Path, Path]:
    """A store built from corpus version 1, then 2: gen-000001 and gen-000002 (live)."""
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    for version in (1, 2):
        write_version(corpus, version)
        citeseek.build(corpus, store, model=fake, progress=False, **settings)
    assert layout.generations(store) == ["gen-000001", "gen-000002"]
    return corpus, store


def own(gen_dir: Path, data_file: str) -> Path:
    """The file of ``data_file``'s kind (store or vector index) that the generation in
    ``gen_dir`` wrote itself: its delta when it stacked one, else its own base. The files
    it shares with older generations are one copy (hard links): damage to those is
    every sharing generation's (``test_damage_to_a_shared_base_is_every_sharers``)."""
    suffix = "sqlite" if data_file == layout.STORE_FILE else "faiss"
    delta = gen_dir / layout.delta_name(gen_dir.name, suffix)
    return delta if delta.is_file() else gen_dir / data_file


def alter(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x5A  # same size: only the checksum tells
    path.write_bytes(bytes(data))


def test_check_says_which_generations_are_good(tmp_path: Path) -> None:
    fake = HashingEmbedder()
    _, store = two_builds(tmp_path, fake)
    code, checked, err = cli("check", "--store", str(store), "--json")
    assert code == 0 and checked["ok"] and checked["live"] == "gen-000002", err
    assert [(g["name"], g["live"], g["good"]) for g in checked["generations"]] == [
        ("gen-000001", False, True), ("gen-000002", True, True)]
    assert checked["rollback_to"] == "gen-000001"
    (store / "gen-000003").mkdir()  # a build that died before its manifest
    alter(own(store / "gen-000002", layout.INDEX_FILE))
    code, checked, _ = cli("check", "--store", str(store), "--json")
    assert code == 1 and not checked["ok"]
    states = {g["name"]: g for g in checked["generations"]}
    assert states["gen-000001"]["good"] and states["gen-000001"]["documents"] == 3
    assert not states["gen-000002"]["good"] and \
        own(store / "gen-000002", layout.INDEX_FILE).name in states["gen-000002"]["problem"]
    assert states["gen-000003"]["problem"].startswith("unfinished")
    code, text, _ = cli("check", "--store", str(store))
    assert code == 1 and "gen-000002 (live): damaged" in text
    assert "citeseek rollback makes gen-000001 live" in text
    assert citeseek.check(store).to_dict() == checked  # the Python API says the same


def test_rollback_makes_the_previous_good_generation_live(tmp_path: Path) -> None:
    fake = HashingEmbedder()
    corpus, store = two_builds(tmp_path, fake)
    reader = citeseek.open(store, model=fake)  # a reader holding gen-000002
    assert reader.generation == "gen-000002"
    code, done, err = cli("rollback", "--store", str(store), "--json")
    assert code == 0 and done == {"store": str(store), "previous": "gen-000002",
                                  "live": "gen-000001"}, err
    assert versions(store, fake) == {"version1"}
    assert reader.search("harbour crane", k=1, mode="keyword")
    assert reader.generation == "gen-000001"  # it moved with its next call
    # Nothing older is good: a clear refusal, which names the newer good one.
    code, error, err = cli("rollback", "--store", str(store), "--json")
    assert code == 1 and error["type"] == "NoGoodGeneration" and "Traceback" not in err
    assert "no good generation before gen-000001" in error["error"]
    assert "gen-000002" in error["error"] and "--to" in error["error"]
    code, error, _ = cli("rollback", "--store", str(store), "--to", "gen-000007", "--json")
    assert code == 2 and "no generation 'gen-000007'" in error["error"]
    alter(own(store / "gen-000002", layout.STORE_FILE))
    with pytest.raises(NoGoodGeneration, match=r"delta-000002\.sqlite"):
        citeseek.rollback(store, to="gen-000002")  # a damaged one is never made live
    assert layout.current_generation(store) == "gen-000001"
    # The next build starts from the live gen-000001 and takes no vector from the
    # damaged gen-000002, whose store no longer matches its checksum.
    write_version(corpus, 3)
    col = citeseek.build(corpus, store, model=fake, progress=False)
    assert col.last_build.previous == "gen-000001" and col.last_build.reused == 0
    assert versions(store, fake) == {"version3"}
    assert_clean(store)  # gen-000002 is gone, its name taken again by the new build
    assert layout.generations(store) == ["gen-000001", col.last_build.generation]


def test_a_rolled_back_damaged_store_hands_over_no_vectors(tmp_path: Path) -> None:
    """A damaged generation rolled back from is newer than the live one, as an
    interrupted build's is; its vectors must not be taken: they may be the damage."""
    fake = HashingEmbedder()
    corpus, store = two_builds(tmp_path, fake)
    db = sqlite3.connect(own(store / "gen-000002", layout.STORE_FILE))  # its own level
    with db:
        assert db.execute("UPDATE embeddings SET vector=zeroblob(length(vector))").rowcount
    db.close()
    citeseek.rollback(store)
    assert layout.current_generation(store) == "gen-000001"
    write_version(corpus, 2)  # version 2 again: its vectors are in gen-000002 only
    col = citeseek.build(corpus, store, model=fake, progress=False)
    assert col.last_build.reused == 0
    ids = [p["chunk_id"] for p in col.passages()]
    vectors = col.passage_vectors(ids)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_rollback_waits_for_no_one_and_respects_the_lock(tmp_path: Path) -> None:
    fake = HashingEmbedder()
    corpus, store = two_builds(tmp_path, fake)
    write_version(corpus, 3)
    builder = start_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                           RELIABILITY_SLOW="60")
    try:
        deadline = time.monotonic() + 120
        while (store / ".lock").read_text().strip() != str(builder.pid):
            assert builder.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        code, error, _ = cli("rollback", "--store", str(store), "--json")
        assert code == 1 and error["type"] == "CollectionLocked"
        assert str(builder.pid) in error["error"]
        with pytest.raises(CollectionLocked):
            citeseek.rollback(store)
        assert layout.current_generation(store) == "gen-000002"
    finally:
        builder.send_signal(signal.SIGKILL)
        builder.communicate(timeout=60)
    assert citeseek.rollback(store).live == "gen-000001"  # the OS freed the lock


def test_kill_9_at_every_step_of_a_rollback(tmp_path: Path) -> None:
    fake = HashingEmbedder()
    _, store = two_builds(tmp_path, fake)
    count_file = tmp_path / "steps.json"
    counted = run_worker("cli", "rollback", "--store", str(store),
                         RELIABILITY_COUNT_FILE=str(count_file))
    assert counted.returncode == 0, counted.stderr
    steps = json.loads(count_file.read_text())
    assert "before citeseek.storage.layout.publish" in steps and len(steps) >= 6
    outcomes = set()
    for point in range(1, len(steps) + 1):
        layout.publish(store, "gen-000002")
        proc = run_worker("cli", "rollback", "--store", str(store),
                          RELIABILITY_KILL_AT=str(point))
        assert proc.returncode == -signal.SIGKILL, (point, proc.stderr)
        live = layout.current_generation(store)  # one or the other, never a mix
        assert live in ("gen-000001", "gen-000002"), steps[point - 1]
        assert citeseek.open(store, model=fake).generation == live  # it loads, verified
        assert citeseek.check(store).ok
        outcomes.add(live)
        if live == "gen-000002":  # the lock was freed: a rollback goes through now
            assert citeseek.rollback(store).live == "gen-000001"
    assert outcomes == {"gen-000001", "gen-000002"}  # kills before and after the switch


def test_kill_9_during_a_build_over_a_damaged_generation(tmp_path: Path) -> None:
    """Killed at any step while replacing a damaged live generation, the collection
    still has its good generation, and the next build replaces the damaged one."""
    fake = HashingEmbedder()
    corpus, store = two_builds(tmp_path, fake)
    write_version(corpus, 3)
    alter(own(store / "gen-000002", layout.STORE_FILE))
    saved = tmp_path / "saved"
    shutil.copytree(store, saved)
    count_file = tmp_path / "steps.json"
    counted = run_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                         RELIABILITY_COUNT_FILE=str(count_file))
    assert counted.returncode == 0, counted.stderr
    assert json.loads(counted.stdout)["damaged"] == "gen-000002"
    steps = json.loads(count_file.read_text())
    points = sorted({round(1 + i * (len(steps) - 1) / 9) for i in range(10)})
    for point in points:
        shutil.rmtree(store)
        shutil.copytree(saved, store)  # damaged again, as before the counted build
        proc = run_worker("cli", "index", str(corpus), "--store", str(store), "--json",
                          RELIABILITY_KILL_AT=str(point))
        assert proc.returncode == -signal.SIGKILL, (point, proc.stderr)
        live = layout.current_generation(store)
        assert "gen-000001" in layout.generations(store), steps[point - 1]
        if live == "gen-000002":  # not published yet: still damaged, still reported
            with pytest.raises(CorruptCollection, match=r"delta-000002\.sqlite"):
                citeseek.open(store, model=fake)
        else:  # published: the new generation is whole
            assert versions(store, fake) == {"version3"}, steps[point - 1]
        col = citeseek.build(corpus, store, model=fake, progress=False)
        assert versions(store, fake) == {"version3"} and len(col) > 0
        assert_clean(store)
        assert citeseek.check(store).ok


def test_a_damaged_live_generation_is_replaced_from_the_last_good_one(tmp_path: Path) -> None:
    fake = HashingEmbedder()
    corpus, store = two_builds(tmp_path, fake, chunk_tokens=48)
    alter(own(store / "gen-000002", layout.STORE_FILE))
    write_version(corpus, 3)
    code, report, err = cli("index", str(corpus), "--store", str(store), "--json")
    assert code == 0, err
    assert report["damaged"] == "gen-000002" and "delta-000002.sqlite" in report["damage"]
    assert report["previous"] == "gen-000001" and report["generation"] == "gen-000003"
    assert versions(store, fake) == {"version3"}
    assert Manifest.read(store / "gen-000003", verify=True).settings.chunk_tokens == 48
    assert layout.generations(store) == ["gen-000001", "gen-000003"]  # the damaged one went
    assert_clean(store)


def test_a_damaged_only_generation_is_rebuilt_from_the_sources_with_its_vectors(
        tmp_path: Path) -> None:
    """Nothing good to start from: the build reads the sources again and takes every
    vector from the damaged generation's store, which still verifies (only its index is
    damaged), keeping its settings."""
    fake = HashingEmbedder()
    corpus, store = tmp_path / "corpus", tmp_path / "store"
    write_version(corpus, 1)
    first = citeseek.build(corpus, store, model=fake, progress=False, chunk_tokens=48)
    alter(store / "gen-000001" / layout.INDEX_FILE)
    col = citeseek.build(corpus, store, model=fake, progress=False)
    report = col.last_build
    assert report.damaged == "gen-000001" and report.previous is None
    assert report.embedded == 0 and report.reused == len(first) == len(col)
    assert col.settings.chunk_tokens == 48
    assert layout.generations(store) == ["gen-000002"] and citeseek.check(store).ok


def test_a_running_server_follows_a_rollback(tmp_path: Path) -> None:
    fake = HashingEmbedder()
    _, store = two_builds(tmp_path, fake)
    with running_server(store) as base:
        def generation() -> tuple[int, str | None]:
            got = httpx.get(f"{base}/search", params={"query": "harbour crane", "k": 1})
            return got.status_code, got.headers.get("x-citeseek-generation")

        assert generation() == (200, "gen-000002")
        assert cli("rollback", "--store", str(store))[0] == 0
        assert generation() == (200, "gen-000001")
        code, _, _ = cli("rollback", "--store", str(store), "--to", "gen-000002")
        assert code == 0 and generation() == (200, "gen-000002")
        assert cli("rollback", "--store", str(store))[0] == 0
        assert generation() == (200, "gen-000001")
        alter(own(store / "gen-000002", layout.INDEX_FILE))
        layout.publish(store, "gen-000002")  # a damaged generation goes live
        assert httpx.get(f"{base}/health").status_code == 503
        assert cli("rollback", "--store", str(store))[0] == 0
        assert generation() == (200, "gen-000001")
        assert httpx.get(f"{base}/health").status_code == 200


def test_damage_to_a_shared_base_is_every_sharers(tmp_path: Path) -> None:
    """Generations share unchanged files as one copy: damage to the base store is seen
    by every generation that links it, ``check`` says so, and a build starts from the
    sources (taking no vector from a store that fails its checksum)."""
    fake = HashingEmbedder()
    corpus, store = two_builds(tmp_path, fake)
    base = store / "gen-000002" / layout.STORE_FILE
    assert (store / "gen-000001" / layout.STORE_FILE).samefile(base)
    alter(base)
    checked = citeseek.check(store)
    assert not checked.ok and checked.rollback_to is None
    assert not any(g.good for g in checked.generations)
    with pytest.raises(NoGoodGeneration):
        citeseek.rollback(store)
    col = citeseek.build(corpus, store, model=fake, progress=False)
    report = col.last_build
    assert report.damaged == "gen-000002" and report.previous is None
    # Its vectors come from the sources or from gen-000002's own delta, which verifies.
    assert report.embedded + report.reused == len(col) > 0
    assert versions(store, fake) == {"version2"}
    assert citeseek.check(store).ok
