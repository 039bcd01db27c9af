"""``citeseek watch`` on a real folder with real file events (watchfiles): a first
build, then one incremental build per burst of changes (new, changed, deleted files,
debounced), a bad file reported and skipped, one build at a time under the build lock,
a server following each generation, and Ctrl-C stopping the command cleanly.

The ``watch`` extra is installed by ``make test``; where it is missing these tests
skip, except under CI, where they fail."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.engines.report import BuildReport
from citeseek.errors import CiteseekError, CollectionLocked
from citeseek.storage import layout
from tests.helpers import REPO, need_modules, wait_until

need_modules("watchfiles")

from citeseek.integrations.watch import Watcher  # noqa: E402 - after the extra's check

ARTICLE = "{title}\n\nThe {word} report was filed in spring. It names the {word} council.\n"


def article(folder: Path, name: str, word: str) -> Path:
    path = folder / name
    path.write_text(ARTICLE.format(title=f"On the {word}", word=word), encoding="utf-8")
    return path


class Running:
    """A ``Watcher`` in a thread, its reports and errors in queues."""

    def __init__(self, sources: list[Path], store: Path, **options: Any) -> None:
        self.reports: queue.Queue[BuildReport] = queue.Queue()
        self.errors: queue.Queue[CiteseekError] = queue.Queue()
        self.watcher = Watcher(sources, store, model=HashingEmbedder(), debounce=0.5,
                               on_build=self.reports.put, on_error=self.errors.put,
                               **options)
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.watcher.run()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.failure = exc

    def next_report(self, limit: float = 60) -> BuildReport:
        return self.reports.get(timeout=limit)

    def idle(self) -> None:
        """Wait until the watcher waits for changes again (its event loop is live)."""
        wait_until(lambda: not self.watcher.building, limit=60, what="the build to end")
        time.sleep(0.5)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    folder = tmp_path / "articles"
    folder.mkdir()
    article(folder, "a.txt", "harbour")
    article(folder, "b.md", "granite")
    run = Running([folder], tmp_path / "articles" / ".store")  # the store inside: ignored
    run.thread.start()
    yield run
    run.watcher.stop.set()
    run.thread.join(timeout=30)
    assert not run.thread.is_alive(), "the watcher did not stop"
    assert run.failure is None, run.failure


def test_builds_once_then_on_each_change(running: Running, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    first = running.next_report()
    assert first.generation == "gen-000001" and first.documents == 2
    col = citeseek.open(running.watcher.store)
    from fastapi.testclient import TestClient

    from citeseek.server.app import create_app

    served = TestClient(create_app(running.watcher.store))
    assert len(served.get("/documents").json()) == 2

    running.idle()
    article(folder, "c.txt", "lighthouse")  # a new file
    added = running.next_report()
    assert (added.files_changed, added.files_removed, added.documents) == (1, 0, 3)
    assert col.search("lighthouse", k=1, mode="keyword")[0].doc_id == "c.txt"
    assert [d["doc_id"] for d in served.get("/documents").json()] == ["a.txt", "b.md", "c.txt"]

    running.idle()
    article(folder, "a.txt", "breakwater")  # a changed file
    changed = running.next_report()
    assert (changed.files_changed, changed.documents) == (1, 3)
    assert "breakwater" in col.document("a.txt").text

    running.idle()
    (folder / "b.md").unlink()  # a deleted file
    removed = running.next_report()
    assert (removed.files_removed, removed.documents) == (1, 2)
    assert [d["doc_id"] for d in col.documents()] == ["a.txt", "c.txt"]
    assert served.get("/documents/b.md").status_code == 404

    running.idle()
    (folder / "notes.swp").write_text("an editor's swap file")  # not an article
    (folder / ".hidden.txt").write_text("hidden")
    time.sleep(2)
    assert running.reports.empty(), "files citeseek does not read cause no build"
    assert running.errors.empty()


def test_a_burst_of_changes_is_one_build_and_a_bad_file_is_skipped(
        running: Running, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    running.next_report()
    running.idle()
    for i in range(5):
        article(folder, f"burst-{i}.txt", f"word{i}")
        time.sleep(0.05)
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really a PDF at all")
    (folder / "sub").mkdir()
    article(folder / "sub", "deep.txt", "quay")
    report = running.next_report()
    # nine files, six of them new articles read; the bad one reported, not read
    assert (report.files, report.files_changed, report.documents) == (9, 6, 8), report
    assert [s.source for s in report.skipped] == [str(folder / "broken.pdf")]
    assert "PDF" in report.skipped[0].reason
    time.sleep(1.5)
    assert running.reports.empty(), "one build for the burst"
    running.idle()
    # a folder that goes takes its documents with it
    (folder / "sub" / "deep.txt").unlink()
    (folder / "sub").rmdir()
    gone = running.next_report()
    assert gone.files_removed == 1 and "sub/deep.txt" not in \
        {d["doc_id"] for d in citeseek.open(running.watcher.store).documents()}


def test_one_build_at_a_time_under_the_lock(running: Running, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    running.next_report()
    running.idle()
    with layout.build_lock(running.watcher.store):  # another builder holds the collection
        article(folder, "late.txt", "pier")
        error = running.errors.get(timeout=60)
        assert isinstance(error, CollectionLocked)
        time.sleep(1.5)
        assert running.reports.empty(), "no build while the lock is held"
    report = running.next_report()
    assert report.files_changed == 1 and report.documents == 3


def test_the_command_reports_each_build_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    article(folder, "a.txt", "harbour")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),
           "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "citeseek", "watch", str(folder), "--store",
         str(tmp_path / "store"), "--model", "hashing", "--debounce", "0.3", "--json"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or ()],
                     daemon=True).start()
    try:
        first = json.loads(lines.get(timeout=120))
        assert first["generation"] == "gen-000001" and first["documents"] == 1
        time.sleep(1)
        article(folder, "b.txt", "granite")
        second = json.loads(lines.get(timeout=60))
        assert second["generation"] == "gen-000002" and second["files_changed"] == 1
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == 0, stderr
    assert "stopped watching" in stderr and "Traceback" not in stderr
    assert citeseek.open(tmp_path / "store").info()["generation"] == "gen-000002"


def test_a_missing_source_is_an_error(tmp_path: Path) -> None:
    from citeseek.cli import main

    assert main(["watch", str(tmp_path / "nowhere"), "--store", str(tmp_path / "s")]) == 1
