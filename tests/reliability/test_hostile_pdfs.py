"""PDFs that lose no text and cost no more than their text: a page of 50,000 separate
labels read in bounded memory, short-page documents (timetables, slides) kept whole,
text turned a quarter from upright read in its own order, and a file's content, not its
name, choosing its reader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas

from citeseek.document import Document
from citeseek.ingest.formats import read_file
from citeseek.ingest.sources import SourceFile
from tests.ingest.pdfs import column, lorem, make_pdf

from .conftest import REPO, worker_env

LABELS = 50_000
# Peak resident memory of a child reading the page (VmHWM): measured at 167 MiB with the
# interpreter and PDFium; before, 5,000 of these labels took 599 MiB, and 50,000 asked
# numpy for an 18.6 GiB matrix (the square of the labels).
PEAK_MIB = 400
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def label(i: int) -> str:
    """A distinct three-character label (62 ** 3 of them)."""
    a, rest = divmod(i, 62 * 62)
    return _ALPHABET[a] + _ALPHABET[rest // 62] + _ALPHABET[rest % 62]


def map_page(path: Path, count: int) -> Path:
    """One A4 page of ``count`` tiny labels scattered over it, as a map's or a scatter
    chart's are (a fixed pseudo-random spread, so no gap runs through them)."""
    c = canvas.Canvas(str(path), pagesize=A4, pageCompression=1)
    c.setFont("Helvetica", 3)
    width, height = A4
    for i in range(count):
        x = 10 + (i * 7919 % 9973) / 9973 * (width - 30)
        y = 10 + (i * 104729 % 9967) / 9967 * (height - 20)
        c.drawString(x, y, label(i))
    c.showPage()
    c.save()
    return path


READ_IN_CHILD = """
import json, sys
from pathlib import Path
from citeseek.ingest.pdf import read_pdf
text = read_pdf(Path(sys.argv[1]).read_bytes()).text
peak = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
print(json.dumps({"words": sorted(set(text.split())), "peak_mib": peak / 1024}))
"""


@pytest.mark.slow
def test_a_page_of_50000_labels_reads_in_bounded_memory(tmp_path: Path) -> None:
    pdf = map_page(tmp_path / "map.pdf", LABELS)
    assert pdf.stat().st_size < 1_000_000  # a small file: the cost is the page's labels
    proc = subprocess.run([sys.executable, "-c", READ_IN_CHILD, str(pdf)], cwd=REPO,
                          env=worker_env(), capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["peak_mib"] < PEAK_MIB, result["peak_mib"]
    # every label is read, each a word of its own: none is lost, none merged
    assert set(result["words"]) == {label(i) for i in range(LABELS)}


def test_a_page_of_too_many_characters_is_left_out_with_a_reason(tmp_path: Path,
                                                                  monkeypatch) -> None:
    import pypdfium2 as pdfium

    from citeseek.ingest import pdf

    made = make_pdf(tmp_path / "two.pdf", [column(lorem(2, "short"), 72, 100),
                                            column(lorem(30, "long"), 72, 100)])
    opened = pdfium.PdfDocument(str(made))
    counts = [opened[i].get_textpage().count_chars() for i in range(2)]
    opened.close()
    monkeypatch.setattr(pdf, "MAX_PAGE_CHARS", (counts[0] + counts[1]) // 2)
    source = SourceFile(path=made, doc_id="two.pdf")
    docs, skipped = read_file(source, made.read_bytes())
    assert "short0" in docs[0].text and "long0" not in docs[0].text
    assert [(s.source, s.reason.split(":")[0]) for s in skipped] == [(source.key, "p. 2 left out")]
    assert f"{counts[1]:,} characters" in skipped[0].reason
    monkeypatch.setattr(pdf, "MAX_PAGE_CHARS", 5)  # every page is too long now
    docs, skipped = read_file(source, made.read_bytes())
    assert docs == [] and "p. 1 left out" in skipped[0].reason
    assert "p. 2 left out" in skipped[0].reason


# -- the running-header rule on short pages ---------------------------------------------

def read(path: Path) -> Document:
    docs, skipped = read_file(SourceFile(path=path, doc_id=path.name), path.read_bytes())
    assert not skipped, skipped
    return docs[0]


def test_pages_of_one_line_that_recurs_digits_aside_are_kept(tmp_path: Path) -> None:
    """A timetable of one departure a page, each at the page's top: the lines recur,
    digits aside, on every page, but they are the document's text, not its headers."""
    times = [f"Ferry departs at 10:{10 + 5 * n} from pier {n + 1}" for n in range(8)]
    pages = [[(72, 50, line)] for line in times]
    doc = read(make_pdf(tmp_path / "timetable.pdf", pages))
    found = [doc.text.index(line) for line in times]
    assert found == sorted(found)
    assert [doc.pages_for(start, start + 5) for start in found] == [(n, n) for n in range(1, 9)]


def test_slides_of_two_lines_keep_both_and_lose_only_their_numbers(tmp_path: Path) -> None:
    """A title and a line on each slide, and the slide's number in its corner: title and
    line recur digits aside, one as a header would at the top, yet both are kept."""
    slides = [[(60, 80, f"Quarter {n} results"), (60, 300, f"Revenue grew {n + 3} percent"),
               (700, 570, str(n))] for n in range(1, 7)]
    path = tmp_path / "slides.pdf"
    c = canvas.Canvas(str(path), pagesize=landscape(A4))
    for items in slides:
        for x, y, text in items:
            c.setFont("Helvetica", 20)
            c.drawString(x, landscape(A4)[1] - y, text)
        c.showPage()
    c.save()
    doc = read(path)
    for n in range(1, 7):
        assert f"Quarter {n} results" in doc.text and f"Revenue grew {n + 3} percent" in doc.text
    assert not any(line.strip().isdigit() for line in doc.text.split("\n"))


TOLLS = ["", "spring", "summer", "autumn", "winter", "yearly"]


def test_running_headers_go_while_a_row_of_numbers_and_footnote_marks_stay(
        tmp_path: Path) -> None:
    """Headers and page numbers of pages with body text still go; a table's row of
    numbers at a page's top and a footnote's mark above the page number are text."""
    pages = []
    for n in range(1, 6):
        cells = [(72 + 40 * k, 60, str(10 * n + k)) for k in range(5)]  # a row of numbers
        body = column(lorem(12, f"p{n}x"), 72, 120)
        notes = [(72, 780, "7"), (80, 780, f"See the {TOLLS[n]} ledger of harbour tolls.")]
        pages.append([*cells, *body, *notes])
    doc = read(make_pdf(tmp_path / "report.pdf", pages, header="Coast Gazette",
                        footer_numbers=True))
    assert "Coast Gazette" not in doc.text
    for n in range(1, 6):
        assert " ".join(str(10 * n + k) for k in range(5)) in doc.text
        assert f"See the {TOLLS[n]} ledger of harbour tolls." in doc.text
    lines = doc.text.split("\n")
    assert sum(line.startswith("7") for line in lines) == 5  # each footnote's mark
    assert not any(line.strip() in {str(n) for n in range(1, 6)} for line in lines)


# -- turned text -------------------------------------------------------------------

def sideways(path: Path, rows: list[tuple[str, ...]], *, stamp: str | None = None,
             turn: int = 90) -> Path:
    """A page of upright body text with a table turned ``turn`` degrees beneath it,
    and a one-line margin stamp turned the same way when asked."""
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica", 11)
    for i, line in enumerate(lorem(6, "body")):
        c.drawString(72, 780 - 13 * i, line)
    c.saveState()
    c.translate(140 if turn == 90 else 450, 120 if turn == 90 else 600)
    c.rotate(turn)
    for r, cells in enumerate(rows):
        c.drawString(0, -r * 14, "    ".join(cells))
    c.restoreState()
    if stamp:
        c.saveState()
        c.translate(30, 250)
        c.rotate(turn)
        c.drawString(0, 0, stamp)
        c.restoreState()
    c.showPage()
    c.save()
    return path


ROWS = [("Harbour", "tonnes", "year")] + [(f"Port{i}", f"{1000 + 37 * i}", f"{1990 + i}")
                                          for i in range(10)]


@pytest.mark.parametrize("turn", [90, 270])
def test_a_sideways_table_is_read_in_its_own_order(tmp_path: Path, turn: int) -> None:
    stamp = "arXiv:2101.00001v1 [cs.CL] 1 Jan 2021"
    doc = read(sideways(tmp_path / "side.pdf", ROWS, stamp=stamp, turn=turn))
    rows = [" ".join(cells) for cells in ROWS]
    found = [doc.text.index(row) for row in rows]
    assert found == sorted(found)  # its rows in their order ...
    assert found[0] > doc.text.index("body5")  # ... after the page's upright text
    start = found[4]  # Port3's row: after 6 lines of body text, the table's fifth line
    assert doc.pages_for(start, start + 5) == (1, 1)
    assert doc.lines_for(start, start + 5) == (11, 11)
    assert "arXiv" not in doc.text  # a lone margin stamp is left out, as before


# -- the content, not the name, chooses the reader ---------------------------------------

PAGE = ("<!DOCTYPE html>\n<html><head><title>Harbour wall</title></head><body><article>"
        "<h1>Harbour wall to be rebuilt</h1><p>The council voted on Tuesday to rebuild the "
        "harbour wall before the storms of the coming winter, at a cost of four million."
        "</p></article></body></html>\n")


def _read_named(path: Path, data: bytes) -> tuple[list[Document], list[str]]:
    path.write_bytes(data)
    docs, skipped = read_file(SourceFile(path=path, doc_id=path.name), data)
    return docs, [s.reason for s in skipped]


def test_a_pdf_under_a_text_name_is_read_as_a_pdf(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "made.pdf", [column(lorem(4, "first"), 72, 100),
                                           column(lorem(4, "second"), 72, 100)]).read_bytes()
    for name in ("paper.txt", "paper.md", "paper.html", "paper.jsonl"):
        docs, skipped = _read_named(tmp_path / name, pdf)
        assert skipped == [] and [d.format for d in docs] == ["pdf"], name
        doc = docs[0]
        assert "%PDF" not in doc.text and "endobj" not in doc.text
        start = doc.text.index("second0")
        assert doc.pages_for(start, start + 7) == (2, 2)


def test_an_html_page_under_a_text_name_is_read_as_html(tmp_path: Path) -> None:
    for name in ("saved.txt", "saved.md"):
        for data in (PAGE.encode(), b"\xef\xbb\xbf" + PAGE.encode(), PAGE.encode("utf-16")):
            docs, skipped = _read_named(tmp_path / name, data)
            assert skipped == [] and [d.format for d in docs] == ["html"], name
            assert "<p>" not in docs[0].text and "four million" in docs[0].text
            assert docs[0].title == "Harbour wall to be rebuilt"
    # Markdown that starts with a comment, or text that speaks of tags, is what it says
    notes = "<!-- draft -->\n# Harbour notes\n\nThe <html> tag opens a page, said the guide.\n"
    docs, _ = _read_named(tmp_path / "notes.md", notes.encode())
    assert [d.format for d in docs] == ["md"] and "<html>" in docs[0].text
    docs, _ = _read_named(tmp_path / "notes.txt", b"Tags like <body> hold a page.\n")
    assert [d.format for d in docs] == ["txt"]


def test_a_pdf_name_that_holds_no_pdf_is_skipped_saying_what_it_holds(tmp_path: Path) -> None:
    docs, skipped = _read_named(tmp_path / "download.pdf", PAGE.encode())
    assert docs == [] and skipped == ["not a PDF (no %PDF- header): it holds an HTML page"]
    docs, skipped = _read_named(tmp_path / "notes.pdf", b"Just some notes.\n")
    assert docs == [] and skipped == ["not a PDF (no %PDF- header)"]


def test_a_file_read_by_its_content_is_read_again_when_that_reader_changes(
        tmp_path: Path, build, monkeypatch) -> None:
    from citeseek.engines import builder

    folder = tmp_path / "in"
    folder.mkdir()
    make_pdf(folder / "paper.txt", [column(lorem(4, "inside"), 72, 100)])
    (folder / "plain.txt").write_text("Plain notes\n\nThe ferry leaves at noon today.\n")
    col = build(folder, tmp_path / "store")
    assert col.document("paper.txt").format == "pdf"
    assert col.document("plain.txt").format == "txt"
    monkeypatch.setattr(builder, "READER_VERSIONS",
                        {**builder.READER_VERSIONS, "pdf": builder.READER_VERSIONS["pdf"] + 1})
    again = build(folder, tmp_path / "store")
    assert again.last_build.files_changed == 1  # paper.txt, read by the PDF reader
    assert again.manifest["readers"]["pdf"] == builder.READER_VERSIONS["pdf"]
