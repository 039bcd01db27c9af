"""Hostile sources, round two: odd file names, folders and links, feeds that nest or
clash, titles that are paragraphs, carriage returns, and very long documents. Each is
indexed exactly or skipped with a reason; none stops a build or hides a document."""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
import unicodedata
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.config import Settings
from citeseek.document import Document
from citeseek.embed.base import text_hash
from citeseek.embed.hashing import HashingEmbedder
from citeseek.engines.builder import Builder
from citeseek.engines.publish import build_collection
from citeseek.errors import UsageError
from citeseek.ingest.chunking import iter_chunks

from .conftest import cli, write_articles

PROSE = "The harbour crane moved cargo for the fleet today, said the harbour master."


def build(folder: Path, store: Path, fake: HashingEmbedder, **kw: Any) -> Any:
    return citeseek.build(folder, store, model=fake, progress=False, **kw)


def reasons(col: Any) -> dict[str, str]:
    return {s.source: s.reason for s in col.last_build.skipped}


def test_a_file_name_that_is_not_utf8_is_indexed_under_an_escaped_name(
        tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_articles(folder, 1)
    raw = os.fsencode(folder) + b"/caf\xe9 menu.txt"  # Latin-1 bytes in the name
    fd = os.open(raw, os.O_WRONLY | os.O_CREAT)
    os.write(fd, f"Cafe menu\n\n{PROSE} The cafe serves zeppelin tea.\n".encode())
    os.close(fd)
    code, report, err = cli("index", str(folder), "--store", str(tmp_path / "s"), "--json")
    assert code == 0, err
    assert report["documents"] == 2 and report["skipped"] == []
    code, hits, err = cli("search", "zeppelin tea", "--store", str(tmp_path / "s"),
                          "--mode", "keyword", "--json")
    assert code == 0, err
    assert hits[0]["doc_id"] == "caf\\xe9 menu.txt"
    assert hits[0]["source"].endswith("/caf\\xe9 menu.txt")
    code, again, err = cli("index", str(folder), "--store", str(tmp_path / "s"), "--json")
    assert code == 0 and again["unchanged"] is True, err  # the same key every build


def test_a_jsonl_line_nested_too_deeply_costs_that_line_only(tmp_path: Path,
                                                             fake: HashingEmbedder) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    deep = "[" * 100_000 + "]" * 100_000
    (folder / "feed.jsonl").write_text(
        json.dumps({"id": "good", "text": PROSE}) + "\n" + deep + "\n"
        + '{"id": "nested", "text": "x", "meta": ' + "{\"a\": " * 50_000 + "1"
        + "}" * 50_000 + "}\n" + '{"id": "big", "text": "x", "n": ' + "9" * 5000 + "}\n",
        encoding="utf-8")
    col = build(folder, tmp_path / "s", fake)
    assert [d["doc_id"] for d in col.documents()] == ["good"]
    found = reasons(col)
    assert found[f"{folder / 'feed.jsonl'}:2"] == "invalid JSON (nested too deeply)"
    assert found[f"{folder / 'feed.jsonl'}:3"] == "invalid JSON (nested too deeply)"
    assert found[f"{folder / 'feed.jsonl'}:4"].startswith("invalid JSON")  # 5,000 digits


def test_a_document_refused_for_a_taken_id_comes_back_once_the_id_is_free(
        tmp_path: Path, fake: HashingEmbedder) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(f"Alpha\n\n{PROSE} Alpha is the article file.\n")
    feed = folder / "0feed.jsonl"  # read first: its record takes the id "a.txt"
    feed.write_text(json.dumps({"id": "a.txt", "text": "A feed record about ferries."})
                    + "\n", encoding="utf-8")
    col = build(folder, tmp_path / "s", fake)
    assert "already used by" in reasons(col)[f"{folder / 'a.txt'} (a.txt)"]
    feed.write_text(json.dumps({"id": "feed-1", "text": "A feed record about ferries."})
                    + "\n", encoding="utf-8")
    col = build(folder, tmp_path / "s", fake)
    assert {d["doc_id"] for d in col.documents()} == {"a.txt", "feed-1"}
    assert "Alpha is the article file" in col.document("a.txt").text
    assert col.last_build.skipped == []  # no stale reason
    again = build(folder, tmp_path / "s", fake)
    assert again.last_build.unchanged and again.last_build.skipped == []


def test_a_title_longer_than_the_model_reads_is_cut_where_the_cache_key_says(
        tmp_path: Path) -> None:
    fake = HashingEmbedder(record=True)
    folder = tmp_path / "in"
    folder.mkdir()
    title = " ".join(f"headline{i}" for i in range(200))
    (folder / "feed.jsonl").write_text(json.dumps({"id": "r", "title": title,
                                                   "text": (PROSE + " ") * 20}) + "\n")
    col = build(folder, tmp_path / "s", fake)
    assert fake.encoded
    for text in fake.encoded:
        assert fake.count_tokens([text])[0] <= fake.max_seq_length
    cached = {p["chunk_id"]: p for p in col.passages()}
    keys = {text_hash(t) for t in fake.encoded}
    db = col._live.current.db
    assert {h for h, _, _ in db.embeddings.inputs(list(cached))} <= keys


def test_a_huge_title_is_not_repeated_into_every_passage(tmp_path: Path) -> None:
    fake = HashingEmbedder(record=True)
    folder = tmp_path / "in"
    folder.mkdir()
    body = (PROSE + " ") * 200
    (folder / "feed.jsonl").write_text(json.dumps({"id": "r", "title": "T" * 142_000,
                                                   "text": body}) + "\n")
    col = build(folder, tmp_path / "s", fake)
    assert len(col.document("r").title or "") <= 301
    assert sum(len(t) for t in fake.encoded) < 3 * len(body)


def test_a_carriage_return_inside_a_line_does_not_shift_citations(
        tmp_path: Path, fake: HashingEmbedder) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    lines = ["Stray returns", "", f"{PROSE} One\rtwo on the same line for grep.",
             "", f"The lighthouse keeper counted ships. {PROSE}"]
    (folder / "a.txt").write_bytes("\n".join(lines).encode() + b"\n")
    col = build(folder, tmp_path / "s", fake)
    hit = col.search("lighthouse keeper counted ships", k=1, mode="keyword")[0]
    raw = (folder / "a.txt").read_bytes().split(b"\n")  # what grep -n counts
    assert b"lighthouse keeper" in raw[hit.line_end - 1]
    assert hit.line_end == 5


def test_a_folder_nested_deeper_than_python_recurses_is_walked(
        tmp_path: Path, fake: HashingEmbedder) -> None:
    deep = tmp_path / "in"
    deep.mkdir()
    os.chdir(deep)  # the chain is made (and removed) relative, each call short
    try:
        for _ in range(1100):
            os.mkdir("d")
            os.chdir("d")
        Path("deep.txt").write_text(f"Deep\n\n{PROSE} Found at the bottom.\n")
        os.chdir(tmp_path)
        col = build(deep, tmp_path / "s", fake)
        (doc,) = col.documents()
        assert doc["doc_id"] == "d/" * 1100 + "deep.txt"
    finally:  # shutil.rmtree (and pytest's clean-up) would recurse 1,100 deep
        os.chdir(deep)
        depth = 0
        while os.path.isdir("d"):
            os.chdir("d")
            depth += 1
        if os.path.exists("deep.txt"):
            os.remove("deep.txt")
        for _ in range(depth):
            os.chdir("..")
            os.rmdir("d")
        os.chdir(tmp_path)


def test_links_out_of_the_source_folder_are_skipped_unless_followed(
        tmp_path: Path, fake: HashingEmbedder) -> None:
    outside = write_articles(tmp_path / "outside", 2, "outsider")
    folder = write_articles(tmp_path / "in", 1)
    (folder / "system").symlink_to("/")
    (folder / "elsewhere").symlink_to(outside)
    (folder / "one.txt").symlink_to(outside / "article00.txt")
    (folder / "inner.txt").symlink_to(folder / "article00.txt")  # inside: followed
    col = build(folder, tmp_path / "s", fake)
    assert {d["doc_id"] for d in col.documents()} == {"article00.txt", "inner.txt"}
    found = reasons(col)
    for name in ("system", "elsewhere", "one.txt"):
        assert "symbolic link out of" in found[str(folder / name)]
    (folder / "system").unlink()  # followed, it would read the whole machine
    col = build(folder, tmp_path / "s2", fake, follow_links=True)
    ids = {d["doc_id"] for d in col.documents()}
    assert {"elsewhere/article00.txt", "elsewhere/article01.txt", "one.txt"} <= ids


def test_a_store_inside_the_source_folder_is_not_read_as_articles(
        tmp_path: Path, fake: HashingEmbedder) -> None:
    folder = write_articles(tmp_path / "in", 2)
    build(folder, folder / "embeddings", fake)
    other = write_articles(tmp_path / "other", 1)
    build(other, folder / "old-collection", fake)  # another collection in there too
    (folder / "article01.txt").write_text(f"Changed\n\n{PROSE} Now about ferries.\n")
    col = build(folder, folder / "embeddings", fake, strict=True)
    assert col.last_build.skipped == []
    assert {d["doc_id"] for d in col.documents()} == {"article00.txt", "article01.txt"}


def test_one_file_name_in_two_source_folders_keeps_both(tmp_path: Path,
                                                        fake: HashingEmbedder) -> None:
    site_a, site_b = tmp_path / "siteA", tmp_path / "siteB"
    for site in (site_a, site_b):
        site.mkdir()
        (site / "index.txt").write_text(f"{site.name} home\n\n{PROSE} Home of {site.name}.\n")
    col = citeseek.build([site_a, site_b], tmp_path / "s", model=fake, progress=False,
                         strict=True)
    docs = {d["doc_id"]: d["source"] for d in col.documents()}
    assert docs == {"index.txt": str(site_a / "index.txt"),
                    "siteB/index.txt": str(site_b / "index.txt")}
    files = citeseek.build([site_a / "index.txt", site_b / "index.txt"], tmp_path / "f",
                           model=fake, progress=False, strict=True)
    assert {d["doc_id"] for d in files.documents()} == {"index.txt", "siteB/index.txt"}


def test_empty_paths_are_usage_errors_and_a_failed_first_build_leaves_nothing(
        tmp_path: Path, fake: HashingEmbedder, monkeypatch) -> None:
    monkeypatch.chdir(write_articles(tmp_path / "cwd", 1))
    with pytest.raises(UsageError):
        citeseek.build("", tmp_path / "s", model=fake, progress=False)
    with pytest.raises(UsageError):
        citeseek.build(tmp_path / "cwd", "", model=fake, progress=False)
    with pytest.raises(UsageError):
        citeseek.open("")
    code, _, _ = cli("index", "", "--store", str(tmp_path / "s2"), "--json")
    assert code == 2
    store = tmp_path / "never"
    code, error, _ = cli("index", str(tmp_path / "missing"), "--store", str(store), "--json")
    assert code == 1 and "no such file or folder" in error["error"]
    assert not store.exists()
    (tmp_path / "empty").mkdir()  # exists, but the build finds nothing to index
    code, error, _ = cli("index", str(tmp_path / "empty"), "--store", str(store), "--json")
    assert code == 1 and "nothing to index" in error["error"]
    assert not store.exists()  # no folder, no .lock left behind


def test_nfd_text_is_found_by_an_nfd_query(tmp_path: Path, fake: HashingEmbedder) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    text = unicodedata.normalize("NFD", "Montréal\n\nLe café de Montréal sert une crème "
                                        "brûlée réputée dans tout le Québec.\n")
    (folder / "a.txt").write_text(text, encoding="utf-8")
    col = build(folder, tmp_path / "s", fake)
    for query in ("Montréal", "Québec crème", "brûlée"):
        for form in ("NFD", "NFC"):
            hits = col.search(unicodedata.normalize(form, query), k=1, mode="keyword")
            assert [h.doc_id for h in hits] == ["a.txt"], (form, query)


def _peak_while_chunking(doc: Document, window: int) -> tuple[int, int]:
    """(passages, peak bytes allocated) while passing over ``doc``'s passages."""
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_chunks(doc, HashingEmbedder(), Settings(), window=window))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_while_chunking_follows_the_window_not_the_document() -> None:
    paragraph = " ".join(f"Sentence {i} tells of harbour cranes and ferries." for i in range(8))
    text = "\n\n".join(paragraph for _ in range(2_500))  # about 1 MB
    doc = Document(doc_id="big", source="big.txt", text=text, title="Big")
    count, windowed = _peak_while_chunking(doc, 50_000)
    whole_count, whole = _peak_while_chunking(doc, len(text))
    assert count == whole_count > 1000
    assert windowed * 10 < whole, (windowed, whole)  # the whole text's tokens at once
    assert windowed < 100 * 50_000  # a bound set by the window alone
    small = list(iter_chunks(doc, HashingEmbedder(), Settings(), window=3_000))
    assert [(c.start, c.end) for c in small] == \
        [(c.start, c.end) for c in iter_chunks(doc, HashingEmbedder(), Settings(),
                                               window=len(text))]
    # One long line (no line break to end a window at): the same passages again.
    line = Document(doc_id="line", source="line.txt", text=paragraph * 60, title="Line")
    for window in (500, 777, 3_000):
        assert [(c.start, c.end) for c in iter_chunks(line, HashingEmbedder(), Settings(),
                                                      window=window)] == \
            [(c.start, c.end) for c in iter_chunks(line, HashingEmbedder(), Settings(),
                                                   window=len(line.text))], window


class CannotListSub(Builder):
    """A build on which the folder ``sub`` cannot be listed (as a permission change or a
    stale network mount would make it): the OS's refusal, played for that one folder."""

    def discover(self, sources: Any) -> Any:
        real = os.scandir

        def scandir(path: Any = ".") -> Any:
            if Path(path).name == "sub":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        os.scandir = scandir  # type: ignore[assignment]
        try:
            return super().discover(sources)
        finally:
            os.scandir = real


def test_a_folder_that_cannot_be_read_keeps_what_it_held(tmp_path: Path,
                                                         fake: HashingEmbedder) -> None:
    folder = write_articles(tmp_path / "in", 1)
    write_articles(folder / "sub", 2, "deep")
    store = tmp_path / "s"
    build(folder, store, fake)
    (folder / "article00.txt").write_text(f"Changed\n\n{PROSE} Now about ferries.\n")
    report = build_collection([folder], store, model=fake, progress=False,
                              builder_class=CannotListSub).report
    assert report.files_removed == 0 and report.files_changed == 1
    assert any("cannot read folder" in s.reason for s in report.skipped)
    ids = {d["doc_id"] for d in citeseek.open(store, model=fake).documents()}
    assert ids == {"article00.txt", "sub/article00.txt", "sub/article01.txt"}
    listed = build(folder, store, fake)  # listed again: nothing to remove
    assert listed.last_build.files_removed == 0
    shutil.rmtree(folder / "sub")  # really gone: then its documents leave
    gone = build(folder, store, fake)
    assert gone.last_build.files_removed == 2
