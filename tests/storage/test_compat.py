"""Collections built before a change of the code open after it: ``fixtures/compat`` holds
a collection built by an earlier layout of the package (see its ``make_fixture.py``) and
what it answered then. Today's code must verify it, read the same documents and
passages, rank the same way, and build on top of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.cli import main
from citeseek.embed.hashing import HashingEmbedder
from citeseek.storage.database import GenerationDB

FIXTURE = Path(__file__).parents[1] / "fixtures" / "compat"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
CITATION = ("rank", "chunk_id", "doc_id", "start", "end", "line_start", "line_end")


def old_model() -> HashingEmbedder:
    """The embedder the fixture was built with, under the id it recorded."""
    return HashingEmbedder(64, 64, model_id="fake-bow-64")


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(FIXTURE / "store", target)
    return target


def same_hits(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert [{k: h[k] for k in CITATION} for h in got] == \
        [{k: h[k] for k in CITATION} for h in want]
    assert [h["score"] for h in got] == pytest.approx([h["score"] for h in want], abs=1e-5)


def test_it_opens_verified_with_the_same_documents_and_passages(old_store: Path) -> None:
    col = citeseek.open(old_store, model=old_model(), verify=True)
    assert col.generation == "gen-000001" and col.manifest["schema_version"] == 1
    # what the old code listed, and pages (a field since added) empty: no PDFs then
    assert col.documents() == [{**d, "pages": None} for d in EXPECTED["documents"]]
    # Passages keep every field they had; fields added since (PDF pages) read None.
    passages = col.passages()
    assert [{k: p[k] for k in want} for p, want in zip(passages, EXPECTED["passages"],
                                                        strict=True)] == EXPECTED["passages"]
    assert {p["page_start"] for p in passages} == {p["page_end"] for p in passages} == {None}
    for passage in col.passages():
        document = col.document(passage["doc_id"])
        assert document.text[passage["start"]:passage["end"]] == passage["text"]


@pytest.mark.parametrize("key", sorted(EXPECTED["search"]))
def test_it_ranks_as_it_did(old_store: Path, key: str) -> None:
    mode, query = key.split(": ", 1)
    col = citeseek.open(old_store, model=old_model())
    same_hits(col.search(query, k=4, mode=mode).to_dict(), EXPECTED["search"][key])


def test_the_command_line_reads_it_without_the_model(old_store: Path, capsys) -> None:
    key = "keyword: harbour crane cargo"
    assert main(["search", "harbour crane cargo", "--store", str(old_store), "--mode",
                 "keyword", "-k", "4", "--json"]) == 0
    same_hits(json.loads(capsys.readouterr().out), EXPECTED["search"][key])
    assert main(["info", "--store", str(old_store), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["counts"] == {"files": 4, "documents": 5, "chunks": 14}
    assert info["model"]["id"] == "fake-bow-64"


def test_a_build_on_top_of_it_updates_it_like_a_fresh_one(old_store: Path,
                                                          tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(FIXTURE / "articles", articles)
    (articles / "ferry.txt").write_text(
        "The new ferry\n\nThe harbour's new ferry carries cargo and passengers across the "
        "bay twice an hour, the port authority said.\n", encoding="utf-8")
    col = citeseek.build(articles, old_store, model=old_model(), progress=False)
    report = col.last_build
    assert col.generation == "gen-000002"
    assert (report.files_removed, report.files_changed) == (4, 5)  # moved, and one new
    fresh = citeseek.build(articles, tmp_path / "fresh", model=old_model(), progress=False)
    assert col.documents() == fresh.documents()
    # the new generation's store has the columns added since the old one was written
    upgraded = GenerationDB(old_store / col.generation / "store.sqlite", readonly=True)
    assert {"page_start", "page_end"} <= upgraded.columns("chunks")
    assert "source_map" in upgraded.columns("documents")
    assert "page_start" not in GenerationDB(old_store / "gen-000001" / "store.sqlite",
                                     readonly=True).columns("chunks")
    assert [{k: v for k, v in p.items() if k != "chunk_id"} for p in col.passages()] == \
        [{k: v for k, v in p.items() if k != "chunk_id"} for p in fresh.passages()]
    for query in ("harbour ferry cargo", "canal locks"):
        assert [h.text for h in col.search(query, k=5)] == \
            [h.text for h in fresh.search(query, k=5)]


def test_files_read_by_an_older_reader_are_read_again_though_unchanged(
        old_store: Path, tmp_path: Path) -> None:
    """Built on top from the very path it was built from, no file's bytes changed; the
    old manifest names no reader versions, so every file is read again by today's
    readers (the HTML page's lines, notably, were cited wrongly before)."""
    recorded = Path(EXPECTED["documents"][0]["source"]).parent
    if recorded.exists():
        shutil.rmtree(recorded)
    shutil.copytree(FIXTURE / "articles", recorded)
    try:
        col = citeseek.build(recorded, old_store, model=old_model(), progress=False)
        assert col.last_build.files_removed == 0 and col.last_build.files_changed == 4
        fresh = citeseek.build(recorded, tmp_path / "fresh", model=old_model(),
                               progress=False)
        assert col.documents() == fresh.documents()
        assert col.document("lighthouse.html").text == fresh.document("lighthouse.html").text
        assert col.manifest["readers"] == fresh.manifest["readers"]
        again = citeseek.build(recorded, old_store, model=old_model(), progress=False)
        assert again.last_build.unchanged  # read once, then settled
    finally:
        shutil.rmtree(recorded.parent, ignore_errors=True)
