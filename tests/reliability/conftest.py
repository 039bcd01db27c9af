"""Helpers shared by the reliability suite: child processes running ``worker.py``."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.storage import layout
from citeseek.storage.manifest import Manifest

REPO = Path(__file__).resolve().parents[2]


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a worker: this checkout's code, one thread, no model hub."""
    paths = [str(REPO / "src"), str(REPO)]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths), HF_HUB_OFFLINE="1",
               OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    env.update(extra)
    return env


def worker_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.reliability.worker", *args]


def run_worker(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the worker to completion (or death) and return what it did."""
    return subprocess.run(worker_args(*args), cwd=REPO, env=worker_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def start_worker(*args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(worker_args(*args), cwd=REPO, env=worker_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def cli(*args: str, **env: str) -> tuple[int, Any, str]:
    """``citeseek ARGS`` in a child process: (exit code, parsed --json stdout, stderr)."""
    proc = run_worker("cli", *args, **env)
    try:
        data = json.loads(proc.stdout) if proc.stdout.strip() else None
    except json.JSONDecodeError:
        data = proc.stdout
    return proc.returncode, data, proc.stderr


def snapshot(store: Path) -> dict[str, bytes]:
    """Every file of the live generation, and CURRENT, byte for byte."""
    gen = layout.current_generation(store)
    assert gen is not None
    files = {p.relative_to(store).as_posix(): p.read_bytes()
             for p in (store / gen).iterdir() if p.is_file()}
    files[layout.CURRENT] = (store / layout.CURRENT).read_bytes()
    return files


def assert_intact(store: Path, before: dict[str, bytes], fake: HashingEmbedder) -> None:
    """The live generation is the one of ``before``, unchanged, and answers queries."""
    assert snapshot(store) == before
    col = citeseek.open(store, model=fake)
    assert len(col) > 0
    for hit in col.search("harbour crane", k=3):
        assert col.document(hit.doc_id).text[hit.start:hit.end] == hit.text


def assert_clean(store: Path) -> None:
    """No leftovers: at most the live and the previous generation, no temporary files,
    and every generation present is complete and verified."""
    live = layout.current_generation(store)
    gens = layout.generations(store)
    assert live in gens and len(gens) <= 2, gens
    assert not list(store.glob(".*.tmp"))
    for gen in gens:
        Manifest.read(store / gen, verify=True)
        assert not list((store / gen).glob(".*.tmp"))


def write_articles(folder: Path, count: int, tag: str = "") -> Path:
    """``count`` small articles about harbours; ``tag`` makes their text distinct."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        body = "\n\n".join(
            f"The harbour crane number {j} moved {tag} cargo for the fleet today, said the "
            f"harbour master of dock {i}." for j in range(4))
        (folder / f"article{i:02d}.txt").write_text(f"Harbour report {i} {tag}\n\n{body}\n",
                                                    encoding="utf-8")
    return folder


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    return write_articles(tmp_path / "articles", 6)


@pytest.fixture
def built(articles: Path, tmp_path: Path, fake: HashingEmbedder) -> Path:
    store = tmp_path / "store"
    citeseek.build(articles, store, model=fake, progress=False)
    # The collection the build returned maps its keyword files; collected now, so the
    # tests that damage those files in place do not do it under this process's own map
    # (a file truncated under a live memory map faults its reader: docs/reliability.md).
    gc.collect()
    return store
