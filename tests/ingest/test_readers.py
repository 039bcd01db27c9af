from __future__ import annotations

import json
from pathlib import Path

from citeseek.dates import parse_date
from citeseek.ingest.cleaning import clean_lines
from citeseek.ingest.decoding import decode
from citeseek.ingest.discovery import discover
from citeseek.ingest.formats import read_file
from citeseek.ingest.sources import SourceFile


def read(path: Path, doc_id: str | None = None):
    return read_file(SourceFile(path=path, doc_id=doc_id or path.name), path.read_bytes())


def test_sample_articles_are_cleaned(sample_dir: Path) -> None:
    files, skipped = discover([sample_dir])
    assert len(files) == 5 and skipped == []
    docs = {f.doc_id: read(f.path, f.doc_id)[0][0] for f in files}
    first = docs["000_8ec7e9efab969127.txt"]
    assert first.title == "Why Iran’s regime is terrified of growing focus on its human rights record"
    assert first.date == "2024-04-26"
    assert "HomeARTICLES" not in first.text
    assert "RELATED ARTICLES" not in first.text
    assert "fd88217f-1f1b-4525-92f8-1ec00c750fc9_330" not in first.text
    assert "No feed found" not in first.text
    second = docs["001_4177c0e56a96c8e4.txt"]
    assert second.date == "2021-03-06"
    assert "MEK, NCRI, IRGC, Khamenei" not in second.text
    assert second.text.startswith("One Year After Massive Crackdown")
    third = docs["002_e43f018c271d3215.txt"]
    assert third.text.count("Specific Follow-Ups Are Needed") == 1  # headline repeated once
    assert "Back to top button" not in third.text
    assert "Written by" not in third.text
    last = docs["004_4711baa52dff02b9.txt"]
    assert "follow them on Twitter" not in last.text
    assert ".jpg" not in last.text
    assert "1,500 protesters" in last.text


def test_kept_lines_are_source_lines_verbatim(sample_dir: Path) -> None:
    for f in discover([sample_dir])[0]:
        doc = read(f.path, f.doc_id)[0][0]
        source_lines = f.path.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(doc.text.split("\n")):
            if line:
                assert source_lines[doc.line_map[i] - 1] == line


def test_parse_date_formats() -> None:
    assert parse_date("Friday, April 26, 2024") == "2024-04-26"
    assert parse_date("26 April 2024") == "2024-04-26"
    assert parse_date("2021-03-06") == "2021-03-06"
    assert parse_date("Sept. 3, 2020") == "2020-09-03"
    assert parse_date("February 30, 2021") is None
    assert parse_date("April is the cruellest month, 2024") is None


def test_clean_lines_keeps_prose_untouched() -> None:
    lines = ["Title here", "", "A sentence that is long enough to count as a real paragraph of "
             "prose in an article, with many words in it.", "Back to top button"]
    result = clean_lines(lines)
    assert result.kept == [0, 1, 2]
    assert result.title == "Title here"


def test_jsonl_beir_layout_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text(
        json.dumps({"_id": "1", "title": "Wings", "text": "a wing in a slipstream ."}) + "\n"
        + "{not json\n"
        + json.dumps({"id": 7, "text": "second", "date": "2020-01-02T10:00:00Z",
                      "url": "https://example.org/x"}) + "\n"
        + json.dumps({"_id": "9", "title": "no text"}) + "\n",
        encoding="utf-8")
    docs, skipped = read(path)
    assert [d.doc_id for d in docs] == ["1", "7"]
    assert docs[0].title == "Wings" and docs[0].line_map == [1]
    assert docs[1].date == "2020-01-02" and docs[1].url == "https://example.org/x"
    assert docs[1].line_map == [3]
    reasons = {s.source.rsplit(":", 1)[1]: s.reason for s in skipped}
    assert "invalid JSON" in reasons["2"] and "text" in reasons["4"]


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    body = " ".join(["The council met on Tuesday to discuss the new budget for schools."] * 6)
    page = (f"<html><head><title>Budget news</title>"
            f"<meta property='article:published_time' content='2023-05-04'></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
            f"<article><h1>Council passes budget</h1>\n<p>{body}</p>\n"
            f"<p>Teachers welcomed the decision &amp; parents too, said a spokesperson for "
            f"the district in a statement on Wednesday.</p></article>"
            f"<footer>Copyright 2023</footer></body></html>")
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    docs, skipped = read(path)
    assert skipped == []
    doc = docs[0]
    assert "The council met on Tuesday" in doc.text
    assert "Teachers welcomed the decision & parents" in doc.text
    assert doc.date == "2023-05-04"
    assert doc.title
    assert all(n >= 1 for n in doc.line_map)


def test_encodings_and_unreadable_files(tmp_path: Path) -> None:
    text = "Café déjà vu — “quoted” naïve façade and some more words to detect.\n" * 3
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    (tmp_path / "cp1252.txt").write_bytes(text.encode("cp1252"))
    (tmp_path / "utf16.txt").write_bytes(text.encode("utf-16"))
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.md").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"  \n\t\n")
    (tmp_path / "picture.png").write_bytes(b"\x89PNG")
    (tmp_path / ".hidden.txt").write_text("secret", encoding="utf-8")
    files, skipped = discover([tmp_path])
    assert {f.doc_id for f in files} == {"bom.txt", "cp1252.txt", "utf16.txt", "binary.txt",
                                         "empty.md", "blank.txt"}
    assert any("unsupported" in s.reason for s in skipped)
    results = {f.doc_id: read(f.path, f.doc_id) for f in files}
    for name in ("bom.txt", "cp1252.txt", "utf16.txt"):
        docs, problems = results[name]
        assert problems == [] and docs[0].text.startswith("Café déjà vu — “quoted”"), name
    for name in ("binary.txt", "empty.md", "blank.txt"):
        docs, problems = results[name]
        assert docs == [] and problems and problems[0].reason, name


def test_decode_never_returns_mojibake_for_utf8() -> None:
    assert decode("Štefanec Polčák".encode()) == "Štefanec Polčák"
    # CRLF ends a line; a lone CR among LF lines does not (grep -n and editors agree),
    # while a file of CR line ends only (classic Mac) keeps them as line ends.
    assert decode(b"line\r\nnext\rlast") == "line\nnext last"
    assert decode(b"line\rnext\rlast") == "line\nnext\nlast"
