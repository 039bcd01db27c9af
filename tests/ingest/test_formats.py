"""The format table: discovery, reading and the manifest's reader versions all come
from ``ingest.formats.FORMATS``, so they cannot disagree about which files are
articles."""

from __future__ import annotations

from pathlib import Path

import pytest

from citeseek.ingest.discovery import discover
from citeseek.ingest.formats import BY_EXTENSION, FORMATS, READER_VERSIONS, format_of, read_file
from citeseek.ingest.sources import SourceFile

ARTICLE = ("Harbour wall to be rebuilt\n\nThe council voted on Tuesday to rebuild the "
           "harbour wall before the storms of the coming winter, at a cost of four million.")
CONTENT = {
    "txt": ARTICLE,
    "md": "# " + ARTICLE,
    "html": f"<html><head><title>Harbour wall</title></head><body><article><p>{ARTICLE}"
            "</p></article></body></html>",
    "jsonl": '{"id": "wall", "text": "' + ARTICLE.replace("\n", " ") + '"}\n',
}


def test_reader_versions_are_the_ones_manifests_hold() -> None:
    # Written into every manifest; a changed number makes every build read the format's
    # files again, so it changes only with what the reader stores.
    assert READER_VERSIONS == {"txt": 3, "md": 3, "html": 3, "jsonl": 2, "pdf": 3}


def test_each_extension_belongs_to_one_format() -> None:
    extensions = [ext for fmt in FORMATS.values() for ext in fmt.extensions]
    assert len(extensions) == len(set(extensions)) == len(BY_EXTENSION)
    assert all(ext.startswith(".") and ext == ext.lower() for ext in extensions)
    assert sorted(BY_EXTENSION) == [".htm", ".html", ".jsonl", ".markdown", ".md", ".ndjson",
                                    ".pdf", ".text", ".txt"]


@pytest.mark.parametrize("extension", sorted(BY_EXTENSION))
def test_discovery_and_reading_follow_the_table(tmp_path: Path, extension: str) -> None:
    fmt = BY_EXTENSION[extension]
    path = tmp_path / f"article{extension.upper()}"  # extensions in any case
    (tmp_path / "notes.rst").write_text(ARTICLE, encoding="utf-8")
    if fmt.name == "pdf":
        path.write_bytes(b"%PDF-1.4 not really")
    else:
        path.write_text(CONTENT[fmt.name], encoding="utf-8")
    found, skipped = discover([tmp_path])
    assert [f.path.name for f in found] == [path.name]
    assert [s.reason for s in skipped] == ["unsupported file type .rst"]
    assert format_of(found[0].path) is fmt
    docs, skipped = read_file(SourceFile(path=path, doc_id=path.name), path.read_bytes())
    if fmt.name == "pdf":
        assert docs == [] and skipped[0].reason.startswith("damaged PDF")
    else:
        assert skipped == [] and [doc.format for doc in docs] == [fmt.name]
        assert "harbour wall" in docs[0].text


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_reports_an_empty_or_blank_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"blank{FORMATS[name].extensions[0]}"
    source = SourceFile(path=path, doc_id=path.name)
    for empty in (b"", b" \n\t\n"):
        docs, skipped = read_file(source, empty)
        assert docs == [] and [s.reason for s in skipped] == ["empty file"]
    if FORMATS[name].decodes_text or name == "jsonl":
        docs, skipped = read_file(source, " \u3000\n".encode())  # blank once decoded
        assert docs == [] and [s.reason for s in skipped] == ["only whitespace"]
