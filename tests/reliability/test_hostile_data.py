"""Data and output a clumsy or hostile user brings: an evaluation pointed at a real
collection, malformed SQuAD and BEIR files, file names in decomposed Unicode, JSON of the
wrong types from a hostile server, script URLs in a page's canonical link, a reader that
closes the pipe, and a build that finds nothing to index."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.answer.result import Answer
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import CiteseekError
from citeseek.ingest.html import extract_article
from citeseek.search.hits import Hit, HitList, render_hits

from .conftest import cli, snapshot, worker_env, write_articles
from .test_security import audit

# -- evaluations never write into another collection -----------------------------------


def beir_folder(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    docs = [{"_id": f"d{i}", "title": f"Ferry {i}", "text": f"The ferry number {i} sails "
             f"from pier {i} at dawn with cargo."} for i in range(4)]
    (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (root / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "ferry pier 2"})
                                        + "\n")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td2\t1\n")
    return root


def qa_folder(root: Path) -> Path:
    write_articles(root / "articles", 2, tag="qa")
    (root / "questions.jsonl").write_text(json.dumps({
        "id": "1", "question": "Which dock did the harbour master speak of?",
        "article": "article00.txt", "answers": ["dock 0"]}) + "\n")
    return root


def squad_file(path: Path) -> Path:
    path.write_text(json.dumps({"data": [{"title": "Harbour", "paragraphs": [{
        "context": "The harbour crane moved cargo for the fleet today.", "qas": [
            {"id": "1", "question": "What moved cargo?",
             "answers": [{"text": "The harbour crane", "answer_start": 0}]}]}]}]}))
    return path


@pytest.mark.parametrize("command", ["eval", "eval-qa folder", "eval-qa squad"])
def test_an_evaluation_never_writes_into_a_collection_of_other_articles(
        built: Path, tmp_path: Path, command: str) -> None:
    before = snapshot(built)
    data = {"eval": lambda: beir_folder(tmp_path / "beir"),
            "eval-qa folder": lambda: qa_folder(tmp_path / "qa"),
            "eval-qa squad": lambda: squad_file(tmp_path / "squad.json")}[command]()
    name = command.split()[0]
    code, out, err = cli(name, str(data), "--store", str(built), "--model", "hashing",
                         "--json")
    assert code == 2, err
    assert "other sources" in out["error"] and str(built) in out["error"]
    assert snapshot(built) == before  # not a byte of the collection changed
    assert not (built.parent / f"{built.name}.articles.jsonl").exists()
    # Into a store of its own it runs, and runs again on the store it made.
    own = tmp_path / f"own-{name}"
    for _ in range(2):
        code, out, err = cli(name, str(data), "--store", str(own), "--model", "hashing",
                             "--json")
        assert code == 0, err


BEIR_FAULTS = {
    "queries.jsonl": [('{"_id": "q1", "text": "ferry"}\n{"_id": "q2", "text": \n', 2,
                       "invalid JSON"),
                      ('{"_id": "q1", "text": "ferry"}\n["not", "an", "object"]\n', 2,
                       "'_id'"),
                      ('{"_id": "q1", "text": 7}\n', 1, "'text'"),
                      (b'{"_id": "q1", "text": "caf\xe9"}\n', 1, "not UTF-8")],
    "qrels/test.tsv": [("query-id\tcorpus-id\tscore\nq1\td2\thigh\n", 2, "not a number"),
                       ("query-id\tcorpus-id\tscore\nq1\td2\t1\nq1 d3 1\n", 3, "tabs")],
}


@pytest.mark.parametrize("name, fault", [(n, f) for n, fs in BEIR_FAULTS.items()
                                         for f in fs])
def test_a_malformed_beir_file_is_a_usage_error_naming_file_and_line(
        tmp_path: Path, name: str, fault: tuple[Any, int, str]) -> None:
    folder = beir_folder(tmp_path / "beir")
    body, line, said = fault
    target = folder / name
    target.write_bytes(body if isinstance(body, bytes) else body.encode())
    code, out, err = cli("eval", str(folder), "--store", str(tmp_path / "s"), "--model",
                         "hashing", "--json")
    assert code == 2 and "internal error" not in err, err
    assert f"{target}:{line}:" in out["error"] and said in out["error"], out


SQUAD_FAULTS = [
    ('{"data": [\n  {"title": "A",\n   "paragraphs": [{"context": "x", "qas": [\n'
     '     {"id": "1", "question": 5, "answers": []}]}]}]}', 4, "question must be text"),
    ('{"data": [\n  "an article as a string"]}', 1, "article object"),
    ('{"data": [{"title": "A",\n "paragraphs": [{"context": "x",\n "qas": "none"}]}]}', 2,
     "a list of questions"),
    ('{"data": [{"title": "A", "paragraphs": [{"context": "x", "qas": [\n'
     '{"id": "1", "question": "q", "answers": [7]}]}]}]}', 2, "an answer object"),
    ('{"data": [\n{"title": "A",, }]}', 2, "invalid JSON"),
    ('{"data": {"title": "A"}}', 1, "no 'data' list of articles"),
]


@pytest.mark.parametrize("body, line, said", SQUAD_FAULTS)
def test_a_malformed_squad_file_is_a_usage_error_naming_file_and_line(
        tmp_path: Path, body: str, line: int, said: str) -> None:
    path = tmp_path / "set.json"
    path.write_text(body)
    code, out, err = cli("eval-qa", str(path), "--store", str(tmp_path / "s"), "--model",
                         "hashing", "--json")
    assert code == 2 and "internal error" not in err, err
    assert f"{path}:{line}:" in out["error"] and said in out["error"], out


# -- Unicode forms of names --------------------------------------------------------------


def test_names_match_in_either_unicode_form_and_are_stored_as_found(
        tmp_path: Path, fake: HashingEmbedder) -> None:
    folder = write_articles(tmp_path / "in", 2)
    decomposed = unicodedata.normalize("NFD", "café-ñandú.txt")
    (folder / decomposed).write_text("Café report\n\nThe harbour café serves the crane "
                                     "crews their coffee at dawn.\n", encoding="utf-8")
    col = citeseek.build(folder, tmp_path / "store", model=fake, progress=False)
    ids = {d["doc_id"] for d in col.documents()}
    assert decomposed in ids  # the stored name is the file's own
    for pattern in ("*café*", "*ñandú*", unicodedata.normalize("NFD", "*café*")):
        hits = col.search("harbour crane coffee", k=5, sources=pattern)
        assert [h.doc_id for h in hits] == [decomposed], pattern
    composed = unicodedata.normalize("NFC", decomposed)
    assert col.resolve_doc_id(composed) == decomposed
    assert col.resolve_doc_id("café") == decomposed  # a prefix, typed composed
    store = str(tmp_path / "store")
    code, shown, err = cli("show", composed, "--store", store, "--json")
    assert code == 0 and shown["doc_id"] == decomposed, err
    code, hits, err = cli("search", "coffee", "--store", store, "--source", "*café*",
                          "--mode", "keyword", "--json")
    assert code == 0 and [h["doc_id"] for h in hits] == [decomposed], err


# -- JSON from elsewhere is typed; cards escape every field -----------------------------

GOOD_HIT = {"rank": 1, "score": 0.5, "chunk_id": 3, "doc_id": "a.txt", "start": 0, "end": 4,
            "line_start": 1, "line_end": 1, "page_start": None, "page_end": None,
            "text": "text", "title": None, "date": None, "source": "a.txt", "url": None,
            "scores": {"dense": 0.5}}
LIVE = '"><img src=x onerror=alert(1)>'


@pytest.mark.parametrize("field, value", [
    ("score", LIVE), ("start", LIVE), ("rank", "1"), ("end", 4.5), ("chunk_id", True),
    ("line_start", None), ("doc_id", 7), ("title", ["x"]), ("scores", {"dense": "high"}),
    ("page_start", "2"), ("text", None)])
def test_a_hit_of_the_wrong_types_is_refused(field: str, value: Any) -> None:
    with pytest.raises(CiteseekError, match=f"'{field}'"):
        HitList.from_dict([{**GOOD_HIT, field: value}])
    answer = {"question": "q", "answer": "text [1]", "confident": True, "citations": [
        {**GOOD_HIT, field: value}], "sentences": []}
    with pytest.raises(CiteseekError, match=f"'{field}'"):
        Answer.from_dict(answer)


@pytest.mark.parametrize("change", [
    {"question": 5}, {"confident": "yes"}, {"evidence": LIVE}, {"generated": 1},
    {"dropped_citations": [LIVE]}, {"sentences": [{"text": "t", "citation": LIVE,
                                                    "doc_id": "a.txt", "start": 0,
                                                    "end": 4}]},
    {"sentences": [{"text": "t", "citation": 9, "doc_id": "a.txt", "start": 0, "end": 4}]},
    {"claims": [{"text": "t", "citations": [LIVE]}]}, {"claims": "none"},
    {"citations": {"rank": 1}}])
def test_an_answer_of_the_wrong_types_is_refused(change: dict[str, Any]) -> None:
    answer = {"question": "q", "answer": "text [1]", "confident": True,
              "citations": [GOOD_HIT], "sentences": [
                  {"text": "text", "citation": 1, "doc_id": "a.txt", "start": 0, "end": 4}]}
    assert Answer.from_dict(answer).answer == "text [1]"  # the unchanged one reads
    with pytest.raises(CiteseekError):
        Answer.from_dict({**answer, **change})


def test_numeric_fields_of_a_card_are_escaped_too() -> None:
    hit = Hit(rank=LIVE, score=0.5, chunk_id=1, doc_id="a", title=None, date=None,  # type: ignore[arg-type]
              source="a", start=LIVE, end=LIVE, line_start=LIVE, line_end=LIVE,  # type: ignore[arg-type]
              text="text")
    page = audit(render_hits([hit], query="q"))
    assert "img" not in " ".join(page.tags) and LIVE in "".join(v or "" for _, v in
                                                                  page.attrs)


class _Hostile(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps([{**GOOD_HIT, "start": LIVE}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hostile_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_hostile_server_gets_a_clear_error_not_a_card(hostile_server: str) -> None:
    code, out, err = cli("search", "harbour", "--server", hostile_server, "--json")
    assert code == 1 and "'start'" in out["error"] and "internal error" not in err


# -- a page's canonical link ------------------------------------------------------------

ARTICLE = " ".join(["The harbour crane moved cargo for the fleet today, the master said."]
                   * 12)


def page(head: str) -> str:
    return (f"<html><head><title>Harbour news</title>{head}</head><body><article>"
            f"<h1>Harbour news</h1><p>{ARTICLE}</p><p>{ARTICLE}</p></article></body></html>")


@pytest.mark.parametrize("head, url", [
    ('<link rel="canonical" href="javascript:alert(1)">', None),
    ('<link rel="canonical" href="data:text/html,<script>alert(1)</script>">', None),
    ('<link rel="canonical" href="JavaScript:alert(1)">'
     '<meta property="og:url" content="https://news.example/crane">',
     "https://news.example/crane"),
    ('<base href="https://news.example/section/"><link rel="canonical" href="../crane">',
     "https://news.example/crane"),
    ('<link rel="canonical" href="/crane">', None),
    ('<link rel="canonical" href="https://news.example/crane?id=1">',
     "https://news.example/crane?id=1"),
])
def test_only_web_urls_are_kept_from_a_page(head: str, url: str | None) -> None:
    article = extract_article(page(head))
    assert article is not None and article.url == url


# -- a closed pipe; nothing to index -----------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True])
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly(
        tmp_path: Path, fake: HashingEmbedder, as_json: bool) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "big.txt").write_text("Big\n\n" + "The harbour crane moved cargo.\n" * 40_000)
    citeseek.build(folder, tmp_path / "store", model=fake, progress=False)
    command = [sys.executable, "-m", "citeseek", "show", "big.txt", "--store",
               str(tmp_path / "store"), *(["--json"] if as_json else [])]
    shell = " ".join(f"'{part}'" for part in command) + " | head -c 100 >/dev/null; " \
        "echo ${PIPESTATUS[0]} >&2"
    proc = subprocess.run(["bash", "-c", shell], env=worker_env(), capture_output=True,
                          text=True, timeout=120)
    code = int(proc.stderr.strip().splitlines()[-1])
    said = "\n".join(proc.stderr.strip().splitlines()[:-1])
    assert code in (0, 141) and said == "", proc.stderr


def test_nothing_to_index_names_the_skipped_files_and_why(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (folder / "empty.md").write_text("")
    (folder / "table.xlsx").write_bytes(b"PK\x03\x04")
    code, out, err = cli("index", str(folder), "--store", str(tmp_path / "s"), "--model",
                         "hashing", "--json")
    assert code == 1 and "nothing to index" in out["error"]
    for name in ("binary.txt", "empty.md", "table.xlsx"):
        assert name in out["error"], out["error"]
    assert out["error"].count(":") >= 4  # each with its reason
