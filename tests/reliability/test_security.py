"""Security: nothing is ever unpickled, article text is escaped wherever it is rendered,
and metadata inside articles (a JSONL record's source, url or id) never opens a file."""

from __future__ import annotations

import builtins
import json
import pickle
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import CorruptCollection
from citeseek.search.hits import Hit, HitList, render_hits
from citeseek.storage import layout

from .conftest import cli, run_worker, write_articles


class _Trap:
    """Unpickling this creates ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (builtins.open, (str(self.marker), "w"))


def test_planted_pickles_are_never_loaded(built: Path, articles: Path, tmp_path: Path,
                                          monkeypatch) -> None:
    marker = tmp_path / "UNPICKLED"
    payload = pickle.dumps(_Trap(marker))
    gen = built / layout.current_generation(built)
    for folder in (built, gen):
        for name in ("index.pkl", "store.pickle", "embeddings.pkl", "cache.joblib",
                     "vectors.npy", "docstore.pkl"):
            (folder / name).write_bytes(payload)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pickle used")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    import numpy

    monkeypatch.setattr(numpy, "load", refuse)
    fake = HashingEmbedder()
    col = citeseek.open(built, model=fake)
    assert col.search("harbour crane", k=2) and col.documents() and col.info()
    (articles / "new.txt").write_text("A new article about harbour ferries.\n")
    citeseek.build(articles, built, model=fake, progress=False)
    assert col.search("harbour ferries", k=1, mode="keyword")[0].doc_id == "new.txt"
    for command in (["info"], ["search", "harbour", "--mode", "keyword"]):
        code, out, err = cli(*command, "--store", str(built), "--json")
        assert code == 0, err
    assert not marker.exists()


def test_index_file_replaced_by_a_pickle_is_refused(built: Path, tmp_path: Path) -> None:
    """Even with a manifest rewritten to match it, a pickle is not a FAISS index."""
    marker = tmp_path / "UNPICKLED"
    gen = built / layout.current_generation(built)
    (gen / "index.faiss").write_bytes(pickle.dumps(_Trap(marker)))
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["files"]["index.faiss"] = {"sha256": layout.sha256_file(gen / "index.faiss"),
                                        "bytes": (gen / "index.faiss").stat().st_size}
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CorruptCollection, match="index.faiss"):
        citeseek.open(built, model=HashingEmbedder())
    assert not marker.exists()


def test_collections_hold_no_pickles(built: Path) -> None:
    gen = built / layout.current_generation(built)
    names = {str(p.relative_to(built)) for p in built.rglob("*") if p.is_file()}
    keyword_files = {name for name in names if name.startswith(f"{gen.name}/keywords/")}
    assert names - keyword_files == {"CURRENT", ".lock", f"{gen.name}/manifest.json",
                                     f"{gen.name}/store.sqlite", f"{gen.name}/index.faiss"}
    # The keyword index's files are the ones the manifest names, and Tantivy's locks.
    named = set(json.loads((gen / "manifest.json").read_text())["files"])
    assert {name.removeprefix(f"{gen.name}/") for name in keyword_files} - named <= {
        "keywords/.tantivy-meta.lock", "keywords/.tantivy-writer.lock"}
    assert "keywords/meta.json" in named
    for path in built.rglob("*"):
        if path.is_file():
            assert not path.read_bytes().startswith(b"\x80"), path  # pickle protocol 2+


# -- escaping ---------------------------------------------------------------------------

ALLOWED_TAGS = {"style", "div", "span", "b", "em", "mark"}


class _Audit(HTMLParser):
    """Collects tags, attributes and text of rendered HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def audit(html: str) -> _Audit:
    parser = _Audit()
    parser.feed(html)
    parser.close()
    assert set(parser.tags) <= ALLOWED_TAGS, parser.tags
    assert {name for name, _ in parser.attrs} <= {"class", "data-doc-id", "data-start",
                                                  "data-end", "title", "style"}
    return parser


HOSTILE = ('<script>alert(1)</script> <img src=x onerror=alert(2)> '
           '"><svg onload=alert(3)> </div></div><iframe src="javascript:alert(4)">')


def test_hostile_articles_render_as_text(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "page.md").write_text(f"# Harbour {HOSTILE}\n\nThe harbour crane {HOSTILE} "
                                    "moved cargo to the dock today, the master said.\n")
    (folder / "feed.jsonl").write_text(json.dumps({
        "id": 'x"><script>alert(5)</script>', "title": f"Ferry {HOSTILE}",
        "url": "javascript:alert(6)", "text": f"The harbour ferry {HOSTILE} sails."}) + "\n")
    col = citeseek.build(folder, tmp_path / "store", model=HashingEmbedder(), progress=False)
    hits = col.search(f"harbour {HOSTILE}", k=50)
    assert {h.doc_id for h in hits} == {"page.md", 'x"><script>alert(5)</script>'}
    assert any("<script>" in h.text for h in hits)
    page = audit(hits._repr_html_())
    shown = "".join(page.text)
    for hit in hits:
        assert hit.text in shown  # every character shown, as text
        audit(hit._repr_html_())
    assert "javascript:" not in "".join(v or "" for _, v in page.attrs)


@settings(max_examples=200, deadline=None)
@given(text=st.text(min_size=1), title=st.none() | st.text(), source=st.text(),
       doc_id=st.text(min_size=1), query=st.text(), date=st.none() | st.text(max_size=20))
def test_property_any_text_renders_escaped(text, title, source, doc_id, query, date) -> None:
    hit = Hit(rank=1, score=0.5, chunk_id=1, doc_id=doc_id, title=title, date=date,
              source=source, start=0, end=len(text), line_start=1, line_end=1, text=text)
    page = audit(render_hits(HitList([hit], query=query), query=query))
    normalized = "".join(page.text).replace("\r\n", "\n").replace("\r", "\n")
    assert text.replace("\r\n", "\n").replace("\r", "\n") in normalized


# -- metadata never opens files -------------------------------------------------------------

_opened: list[str] | None = None


def _record_opens(event: str, args: tuple[Any, ...]) -> None:
    if _opened is not None and event == "open" and args and isinstance(args[0], str | Path):
        _opened.append(str(args[0]))


sys.addaudithook(_record_opens)


def test_metadata_paths_and_urls_are_never_opened(tmp_path: Path) -> None:
    global _opened
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET harbour plans that must never be indexed.\n")
    folder = write_articles(tmp_path / "in", 2)
    (folder / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"id": "r1", "text": "The harbour pilot boards ships at dawn.", "source": str(secret),
         "url": f"file://{secret}", "path": str(secret), "file": str(secret)},
        {"id": "../../secret.txt", "text": "A record whose id looks like a path.",
         "url": str(secret)},
    ]) + "\n")
    fake = HashingEmbedder()
    _opened = []
    try:
        col = citeseek.build(folder, tmp_path / "store", model=fake, progress=False)
        hits = col.search("harbour pilot secret plans", k=10)
        docs = {d["doc_id"]: col.document(d["doc_id"]) for d in col.documents()}
    finally:
        opened, _opened = _opened, None
    assert opened  # the hook saw the build read its files
    assert not any(Path(p).resolve() == secret.resolve() for p in opened if p)
    assert all("TOP SECRET" not in doc.text for doc in docs.values())
    assert all("TOP SECRET" not in hit.text for hit in hits)
    record = docs["r1"]
    assert record.source == str(folder / "feed.jsonl") and record.url == f"file://{secret}"
    assert docs["../../secret.txt"].source == str(folder / "feed.jsonl")
    assert not (tmp_path.parent / "secret.txt").exists()
    code, shown, err = cli("show", "../../secret.txt", "--store", str(col.root), "--json")
    assert code == 0 and shown["text"] == "A record whose id looks like a path.", err


ESCAPES = ["\x1b]52;c;cm0gLXJmIH4=\x07", "\x1b[31m", "\x9b2J", "\x07", "\x1b]0;owned\x07",
           "\u202e"]


def test_terminal_output_never_carries_control_sequences(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    hostile = "".join(ESCAPES)
    prose = " ".join(["The harbour crane moved cargo for the fleet."] * 80)  # controls < 1%
    (folder / "escape\x1b[2Jname.txt").write_text(
        f"Title {hostile}\n\nThe harbour crane{hostile} moved cargo, said the harbour "
        f"master {hostile} today. {prose}\n", encoding="utf-8")
    (folder / "bad.txt").write_bytes(b"\x00\x01binary\x1b[31m")
    store = str(tmp_path / "store")
    runs = [("index", str(folder), "--store", store),
            ("search", "harbour crane", "--store", store, "--mode", "keyword"),
            ("show", "escape\x1b[2Jname.txt", "--store", store),
            ("ask", "What did the harbour crane move?", "--store", store, "--mode",
             "keyword"),
            ("show", "missing\x1b[31m", "--store", store)]
    for args in runs:
        for as_json in (False, True):
            proc = run_worker("cli", *args, *(["--json"] if as_json else []))
            for stream in (proc.stdout, proc.stderr):
                for char in ("\x1b", "\x9b", "\x07", "\u202e"):
                    assert char not in stream, (args, as_json, stream[:300])
            if as_json and proc.stdout.strip():
                json.loads(proc.stdout)  # still one valid JSON document
    proc = run_worker("cli", "show", "escape\x1b[2Jname.txt", "--store", store, "--json")
    assert "\x1b" in json.loads(proc.stdout)["text"]  # the text itself is kept exactly
