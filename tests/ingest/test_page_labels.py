"""Printed page labels: where a PDF defines ``/PageLabels`` (roman numerals in front
matter, a journal's page range), every citation carries the label beside the physical
page, in hits, answers, ``--json``, cards and the server, and shows it where it differs
("p. 232 (PDF p. 5)"). The PDFs are made here with reportlab's ``addPageLabel``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.cli import main
from citeseek.document import Document
from citeseek.embed.hashing import HashingEmbedder
from citeseek.engines import builder
from citeseek.ingest import pdf as pdf_reader
from citeseek.ingest.formats import FORMATS, read_file
from citeseek.ingest.sources import SourceFile
from citeseek.places import page_range

from .pdfs import column, lorem, make_pdf

SEEDS = ["preface", "contents", "foreword", "harbour", "granite", "mortar"]
# Front matter i-iii, then the article's pages 231-233 of its journal.
JOURNAL = [(0, {"style": "ROMAN_LOWER"}), (3, {"style": "ARABIC", "start": 231})]
LABELS = ["i", "ii", "iii", "231", "232", "233"]


def book(path: Path, labels: Any = JOURNAL) -> Path:
    """Six pages of 40 lines each; every line starts with its page's seed word."""
    pages = [column(lorem(40, seed), 72, 80) for seed in SEEDS]
    return make_pdf(path, pages, title="A labelled report", labels=labels)


def read(path: Path) -> Document:
    docs, skipped = read_file(SourceFile(path=path, doc_id=path.name), path.read_bytes())
    assert not skipped, skipped
    return docs[0]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("labelled")
    (folder / "articles").mkdir()
    book(folder / "articles" / "report.pdf")
    target = folder / "store"
    citeseek.build(folder / "articles", target, model=HashingEmbedder(), progress=False)
    return target


def test_the_reader_keeps_every_pages_label(tmp_path: Path) -> None:
    doc = read(book(tmp_path / "report.pdf"))
    assert doc.source_map is not None and doc.source_map.labels == LABELS
    for page, seed in enumerate(SEEDS, start=1):
        start = doc.text.index(f"{seed}7 ")
        assert doc.pages_for(start, start + 5) == (page, page)
        assert doc.labels_for(start, start + 5) == (LABELS[page - 1],) * 2


def test_a_pdf_without_labels_has_none(tmp_path: Path) -> None:
    doc = read(book(tmp_path / "plain.pdf", labels=()))
    assert doc.source_map is not None and doc.source_map.labels is None
    start = doc.text.index("granite7 ")
    assert doc.pages_for(start, start + 5) == (5, 5)
    assert doc.labels_for(start, start + 5) == (None, None)


def test_labels_are_shown_only_where_they_differ() -> None:
    assert page_range(5, 5, label="232", label_end="232") == "p. 232 (PDF p. 5)"
    assert page_range(3, 4, label="iii", label_end="231") == "pp. iii-231 (PDF pp. 3-4)"
    assert page_range(2, 2, label="2", label_end="2") == "p. 2"
    assert page_range(2, 3, label=None, label_end=None) == "pp. 2-3"


def test_hits_and_their_json_carry_the_label(store: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    col = citeseek.open(store, model=HashingEmbedder())
    hit = col.search("granite7", k=1, mode="keyword")[0]
    assert "granite7 " in hit.text and (hit.page_start, hit.page_end) == (5, 5)
    assert (hit.page_label, hit.page_label_end) == ("232", "232")
    assert "p. 232 (PDF p. 5), lines " in hit.citation()
    assert "p. 232 (PDF p. 5), lines " in hit._repr_html_()
    assert main(["search", "granite7", "-k", "1", "--mode", "keyword", "--store", str(store),
                 "--json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert (row["page_start"], row["page_label"], row["page_label_end"]) == (5, "232", "232")
    front = col.search("contents7", k=1, mode="keyword")[0]
    assert (front.page_start, front.page_label) == (2, "ii")
    assert "p. ii (PDF p. 2)" in str(front)


def test_a_passage_over_a_page_break_names_both_labels(store: Path) -> None:
    col = citeseek.open(store, model=HashingEmbedder())
    rows = [p for p in col.passages() if p["page_start"] != p["page_end"]]
    assert len(rows) >= 3, "passages run over page breaks"
    for row in col.passages():
        assert (row["page_label"], row["page_label_end"]) == (
            LABELS[row["page_start"] - 1], LABELS[row["page_end"] - 1])
    first, last = rows[0]["page_start"], rows[0]["page_end"]
    view = col.document(rows[0]["doc_id"]).view(rows[0]["start"], rows[0]["end"])
    assert f"pp. {LABELS[first - 1]}–{LABELS[last - 1]} (PDF pp. {first}–{last})" in \
        view._repr_html_()


def test_answers_cite_the_label_of_their_sentences_page(store: Path) -> None:
    col = citeseek.open(store, model=HashingEmbedder())
    answer = col.ask("What does mortar12 say?", mode="keyword")
    assert answer.sentences, answer
    first = answer.sentences[0]
    assert "mortar12" in first.text and first.page_start == 6
    assert (first.page_label, first.page_label_end) == ("233", "233")
    data = answer.to_dict()
    assert data["sentences"][0]["page_label"] == "233"
    assert "p. 233 (PDF p. 6)" in str(answer)
    assert "p. 233 (PDF p. 6)" in answer._repr_html_()


def test_the_server_returns_the_labels(store: Path) -> None:
    from fastapi.testclient import TestClient

    from citeseek.server.app import create_app

    client = TestClient(create_app(store, model=HashingEmbedder()))
    rows = client.get("/search", params={"query": "preface3", "k": 1, "mode": "keyword"})
    assert rows.status_code == 200
    assert (rows.json()[0]["page_start"], rows.json()[0]["page_label"]) == (1, "i")
    said = client.get("/ask", params={"question": "What does harbour12 say?",
                                      "mode": "keyword"})
    assert said.json()["sentences"][0]["page_label"] == "231"


def test_collections_read_before_labels_gain_them_on_the_next_build(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A collection whose PDFs were read by the reader before labels (version 1) reads
    them again: same bytes, labels now."""
    (tmp_path / "articles").mkdir()
    book(tmp_path / "articles" / "report.pdf")
    with monkeypatch.context() as old:
        old.setattr(pdf_reader, "page_labels", lambda pdf: None)
        old.setitem(builder.READER_VERSIONS, "pdf", 1)
        col = citeseek.build(tmp_path / "articles", tmp_path / "store",
                             model=HashingEmbedder(), progress=False)
    assert col.manifest["readers"]["pdf"] == 1
    assert {p["page_label"] for p in col.passages()} == {None}
    col = citeseek.build(tmp_path / "articles", tmp_path / "store", model=HashingEmbedder(),
                         progress=False)
    assert col.last_build is not None and col.last_build.files_changed == 1
    assert col.manifest["readers"]["pdf"] == FORMATS["pdf"].version  # today's reader
    assert {p["page_label"] for p in col.passages()} >= {"i", "231", "233"}
