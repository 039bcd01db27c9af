"""What users of well-liked command lines reach for: ``--version``, a default collection,
``docs``, document ids by their start with "did you mean" for unknown ones, a clear
error for a source path that does not exist, and progress while files are parsed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import citeseek
from citeseek.cli import main

from .test_cli import run


@pytest.fixture
def built(sample_dir: Path, tmp_path: Path, build) -> Path:
    store = tmp_path / "col"
    build(sample_dir, store)
    return store


def out_json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"citeseek {citeseek.__version__}"


def test_store_defaults_to_the_environment_then_the_one_collection(
        built: Path, sample_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CITESEEK_STORE", str(built))
    assert main(["info", "--json"]) == 0
    assert out_json(capsys)["store"] == str(built)
    monkeypatch.delenv("CITESEEK_STORE")
    monkeypatch.chdir(tmp_path)
    assert main(["search", "x", "--json"]) == 2  # no embeddings/ here yet
    assert "no collection in embeddings/" in out_json(capsys)["error"]
    # Where ``citeseek index`` (and ``citeseek.build``) put a collection when not told.
    assert main(["index", str(sample_dir), "--model", "hashing", "--json", "-q"]) == 0
    assert out_json(capsys)["store"] == str(Path("embeddings") / "articles")
    assert main(["search", "Mostazafan", "--mode", "keyword", "--json"]) == 0
    assert out_json(capsys)[0]["doc_id"] == "002_e43f018c271d3215.txt"
    shutil.copytree(Path("embeddings") / "articles", Path("embeddings") / "other")
    assert main(["docs", "--json"]) == 2
    error = out_json(capsys)["error"]
    assert "embeddings/articles" in error and "embeddings/other" in error


def test_docs_lists_what_documents_returns(built: Path, fake,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["docs", "--store", str(built), "--json"]) == 0
    assert out_json(capsys) == citeseek.open(built, model=fake).documents()
    assert main(["docs", "--store", str(built)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and lines[2].startswith("002_e43f018c271d3215.txt  -")
    assert "34 passages  Specific Follow-Ups" in lines[2] and lines[2].endswith(".txt]")


def test_a_unique_start_of_an_id_stands_for_it(built: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "002_e43f018c271d3215.txt", "--store", str(built), "--json"]) == 0
    whole = out_json(capsys)
    assert main(["show", "002", "--store", str(built), "--json"]) == 0
    assert out_json(capsys) == whole
    argv = ["search", "Iran human rights", "--store", str(built), "--mode", "keyword",
            "--json"]
    assert main([*argv, "--doc-id", "003_359110e896c45b3d.txt"]) == 0
    exact = out_json(capsys)
    assert main([*argv, "--doc-id", "003_3"]) == 0
    assert out_json(capsys) == exact and {h["doc_id"] for h in exact} == {
        "003_359110e896c45b3d.txt"}


def test_unknown_ids_fail_with_the_ids_meant(built: Path) -> None:
    proc = run("show", "002_e43f018c271d3216.txt", "--store", str(built))
    assert proc.returncode == 1
    assert "did you mean 002_e43f018c271d3215.txt?" in proc.stderr
    proc = run("search", "Iran", "--store", str(built), "--mode", "keyword", "--doc-id",
               "004_4711baa52dff02b8.txt", "--json")
    assert proc.returncode == 1  # not an empty result with exit 0
    error = json.loads(proc.stdout)
    assert error["type"] == "DocumentNotFound" and "004_4711baa52dff02b9.txt" in \
        error["error"]
    proc = run("ask", "Iran", "--store", str(built), "--mode", "keyword", "--doc-id", "0")
    assert proc.returncode == 1 and "starts several document ids" in proc.stderr


def test_indexing_a_path_that_does_not_exist_creates_nothing(tmp_path: Path,
                                                             sample_dir: Path) -> None:
    store = tmp_path / "store"
    proc = run("index", str(tmp_path / "typo"), str(sample_dir), "--store", str(store),
               "--model", "hashing", "--json")
    assert proc.returncode == 1
    error = json.loads(proc.stdout)["error"]
    assert "no such file or folder" in error and "typo" in error
    assert not store.exists()


def test_progress_shows_while_files_are_parsed(tmp_path: Path, fake,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(20):
        (folder / f"a{i}.txt").write_text(f"Article {i} about canal locks number {i}.")
    citeseek.build(folder, tmp_path / "col", model=fake, progress=True)
    err = capsys.readouterr().err
    assert "reading" in err and "20/20" in err
