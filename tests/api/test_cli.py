"""The command line, through real subprocesses where exit codes matter. Index and search
run against a collection built with the fake embedder, so no model loads."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import citeseek
from citeseek.cli import main, make_parser
from tests.helpers import REPO

CLI_GUIDE = REPO / "docs" / "cli.md"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    env.pop("CITESEEK_STORE", None)  # --store means what the test gives, nothing else
    return subprocess.run([sys.executable, "-m", "citeseek", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture
def built(sample_dir, tmp_path, build) -> Path:
    store = tmp_path / "col"
    build(sample_dir, store)
    return store


def test_help_and_usage_errors(tmp_path: Path) -> None:
    assert run("--help").returncode == 0
    assert run().returncode == 2
    assert run("search", "x", cwd=tmp_path).returncode == 2  # no --store, none to default to
    assert run("frobnicate").returncode == 2


def test_keyword_search_json(built: Path) -> None:
    proc = run("search", "Mostazafan Foundation", "--store", str(built), "--mode", "keyword",
               "-k", "2", "--json")
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout)
    assert len(hits) == 2 and hits[0]["rank"] == 1
    assert {"doc_id", "title", "date", "source", "start", "end", "line_start", "line_end",
            "score", "rank", "chunk_id", "text"} <= set(hits[0])
    assert hits[0]["doc_id"] == "002_e43f018c271d3215.txt"


def test_text_output_shows_citations(built: Path, capsys) -> None:
    assert main(["search", "1988 massacre", "--store", str(built), "--mode", "keyword"]) == 0
    out = capsys.readouterr().out
    assert "[1]" in out and "lines" in out and ".txt" in out


def test_show_and_info(built: Path, capsys) -> None:
    assert main(["show", "002_e43f018c271d3215.txt", "--store", str(built), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["title"].startswith("Specific Follow-Ups") and "Mostazafan" in doc["text"]
    assert main(["info", "--store", str(built), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["counts"]["documents"] == 5 and info["model"]["id"] == "hashing-64-64"
    assert main(["info", "--store", str(built)]) == 0
    out = capsys.readouterr().out
    assert "5 documents" in out and "index Flat (auto, exact)" in out


def test_info_names_the_index_setting_and_its_recall(sample_dir, tmp_path, fake, build,
                                                     capsys) -> None:
    import citeseek

    store = tmp_path / "hnsw"
    build(sample_dir, store, index="HNSW16,Flat")
    assert main(["info", "--store", str(store)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("  index "))
    meta = citeseek.open(store, model=fake).manifest["index"]
    assert line.strip() == (f"index HNSW16,Flat (setting, efSearch={meta['search']['efSearch']}, "
                            f"recall@10 {meta['recall_at_10']:.3f} on "
                            f"{meta['recall_queries']} own vectors)")


def test_errors_exit_1_with_json_object(built: Path, tmp_path: Path) -> None:
    proc = run("show", "no-such-doc", "--store", str(built), "--json")
    assert proc.returncode == 1
    assert "no-such-doc" in json.loads(proc.stdout)["error"] and proc.stderr
    proc = run("info", "--store", str(tmp_path / "missing"))
    assert proc.returncode == 1 and "no collection" in proc.stderr
    proc = run("search", "   ", "--store", str(built), "--mode", "keyword", "--json")
    assert proc.returncode == 2 and "empty" in json.loads(proc.stdout)["error"]
    proc = run("search", "x", "--store", str(built), "-k", "0", "--mode", "keyword")
    assert proc.returncode == 2


def test_index_reports_skips_and_strict(tmp_path: Path, fake, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("An article about canals and locks on old waterways.")
    (folder / "b.txt").write_bytes(b"\x00\x01\x02binary")
    store = str(tmp_path / "col")
    assert main(["index", str(folder), "--store", store, "--model", "hashing", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["documents"] == 1
    assert report["skipped"][0]["source"].endswith("b.txt")
    assert "binary" in report["skipped"][0]["reason"]
    (folder / "c.txt").write_text("Another article, about bridges.")
    assert main(["index", str(folder), "--store", store, "--strict"]) == 1
    assert "strict" in capsys.readouterr().err
    assert citeseek.open(store, model=fake).info()["counts"]["documents"] == 1


@pytest.mark.model
def test_cli_end_to_end_with_real_model(tmp_path: Path, sample_dir: Path) -> None:
    store = str(tmp_path / "col")
    proc = run("index", str(sample_dir), "--store", store, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["documents"] == 5
    proc = run("search", "Who was arrested for planning the bomb attack?", "--store", store,
               "--json", "-k", "3")
    assert proc.returncode == 0, proc.stderr
    assert any("Assadi" in h["text"] for h in json.loads(proc.stdout))
    again = run("index", str(sample_dir), "--store", store, "--json")
    assert json.loads(again.stdout)["unchanged"] is True


@pytest.mark.model
def test_demo_command(tmp_path: Path) -> None:
    proc = run("demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "004_4711baa52dff02b9.txt" in proc.stdout and "lines" in proc.stdout
    assert "harbour-wall.pdf, p. 1, line" in proc.stdout  # a PDF cites its page
    assert "harbour-wall-inspection.html, line" in proc.stdout
    assert (tmp_path / "embeddings" / "sample" / "CURRENT").exists()


def guide_usage() -> dict[str, str]:
    """The synopsis block of the command-line guide (docs/cli.md): each
    ``citeseek COMMAND`` entry with the lines that continue it."""
    text = CLI_GUIDE.read_text(encoding="utf-8")
    section = text[text.index("## Synopsis"):]
    start = section.index("```text\n") + len("```text\n")
    block = section[start:section.index("\n```", start)]
    entries: dict[str, str] = {}
    for line in block.splitlines():
        match = re.match(r"citeseek (\w[\w-]*)", line)
        if match:
            current = match.group(1)
            entries[current] = line
        elif line.startswith(" ") and entries:
            entries[current] += "\n" + line
    return entries


def test_every_command_and_option_is_in_the_cli_guide() -> None:
    usage = guide_usage()
    sub = next(a for a in make_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = []
    for name, parser in sub.choices.items():
        if name not in usage:
            missing.append(name)
            continue
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS or \
                    isinstance(action, argparse._HelpAction):
                continue
            if not any(re.search(rf"(?<![\w-]){re.escape(o)}(?![\w-])", usage[name])
                       for o in action.option_strings):
                missing.append(f"{name} {max(action.option_strings, key=len)}")
    assert missing == []
    assert set(usage) == set(sub.choices)  # and the guide names no command that is gone
