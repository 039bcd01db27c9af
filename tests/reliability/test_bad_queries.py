"""Bad queries: every odd question, k or option is a clear usage error or a correct
result, through the Python API and the CLI, never a traceback from a dependency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import UsageError

from .conftest import cli, write_articles


@pytest.fixture(scope="module")
def col(tmp_path_factory: pytest.TempPathFactory) -> citeseek.Collection:
    root = tmp_path_factory.mktemp("queries")
    return citeseek.build(write_articles(root / "articles", 4), root / "store",
                          model=HashingEmbedder(), progress=False)


def assert_exact(col: citeseek.Collection, hits: Any, k: int) -> None:
    assert len(hits) <= k and [h.rank for h in hits] == list(range(1, len(hits) + 1))
    for hit in hits:
        assert col.document(hit.doc_id).text[hit.start:hit.end] == hit.text


BAD = {  # (query, options) -> phrase of the message
    "tab and newline": ("\t\n\r ", {}, "empty"),
    "bytes": (b"harbour", {}, "must be text"),
    "a number": (42, {}, "must be text"),
    "over the limit": ("harbour " * 12_501, {}, "limit"),
    "lone surrogate": ("harbour \ud800 crane", {}, "not valid Unicode"),
    "k as text": ("harbour", {"k": "3"}, "k must be"),
    "k fractional": ("harbour", {"k": 2.5}, "k must be"),
    "k true": ("harbour", {"k": True}, "k must be"),
    "k none": ("harbour", {"k": None}, "k must be"),
    "k very negative": ("harbour", {"k": -10**30}, "k must be"),
    "unknown mode": ("harbour", {"mode": "fuzzy"}, "mode must be"),
    "per_doc zero": ("harbour", {"per_doc": 0}, "per_doc"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_query_is_a_usage_error(col: citeseek.Collection, name: str) -> None:
    query, options, phrase = BAD[name]
    for mode in ("keyword", "dense", "hybrid"):
        with pytest.raises(UsageError, match=phrase):
            col.search(query, **{"mode": mode, **options})


ODD = {
    "k far beyond the collection": ("harbour crane", 10**6),
    "k beyond 64 bits": ("harbour crane", 10**20),
    "terminal escapes": ("\x1b[2J\x1b[31mharbour\x07", 3),
    "NUL and controls": ("harbour\x00crane\x08\x7f", 3),
    "right-to-left override": ("\u202eenarc ruobrah\u202c harbour", 3),
    "zero-width and emoji": ("har\u200dbour 🚢🏗️ crane", 3),
    "only punctuation": ("?!…—“”()[]{}*", 3),
    "FTS5 syntax": ('harbour NEAR/2 "crane" AND NOT cargo* OR ^dock', 3),
    "SQL": ("'; DROP TABLE chunks; --", 3),
    "just under the limit": ("harbour " * 12_499, 3),
    "one very long word": ("h" * 99_000, 3),
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_odd_query_gives_a_correct_result(col: citeseek.Collection, name: str) -> None:
    query, k = ODD[name]
    for mode in ("keyword", "dense", "hybrid"):
        hits = col.search(query, k=k, mode=mode)
        assert_exact(col, hits, k)
        if k > len(col) and mode == "dense":
            assert len(hits) == len(col)  # everything, once, in order
    assert col.search("harbour crane", k=1)  # the collection is unharmed


def test_cli_bad_and_odd_queries(col: citeseek.Collection) -> None:
    store = str(col.root)
    for args, code, phrase in [
        (["search", "harbour " * 12_501], 2, "limit"),
        (["search", "harbour", "-k", "-1"], 2, "k must be"),
        (["search", "harbour", "-k", "many"], 2, "invalid int"),
        (["search", "harbour", "--mode", "fuzzy"], 2, "invalid choice"),
        (["search", "harbour", "--per-doc", "0"], 2, "per_doc"),
        (["show", "../../../etc/passwd"], 1, "no document"),
    ]:
        got, error, err = cli(*args, "--store", store, "--json")
        assert got == code and phrase in error["error"], (args, got, error, err)
        assert "Traceback" not in err and err.strip()
    got, hits, err = cli("search", "\x1b[31mharbour\x07 crane", "-k", str(10**20), "--mode",
                         "keyword", "--store", store, "--json")
    assert got == 0 and len(hits) == len(col), err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.text(st.characters(blacklist_categories=()), max_size=300) | st.binary(),
       k=st.integers(-5, 10**25) | st.floats() | st.none(),
       mode=st.sampled_from(["keyword", "dense", "hybrid", "Dense", ""]))
def test_property_any_query_is_a_result_or_a_usage_error(col, query, k, mode) -> None:
    try:
        hits = col.search(query, k=k, mode=mode)
    except UsageError:
        return
    assert_exact(col, hits, k)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(articles=st.lists(st.text(min_size=1, max_size=600), min_size=1, max_size=4),
       query=st.text(min_size=1, max_size=50))
def test_property_random_documents_build_and_cite_exactly(tmp_path: Path, articles,
                                                          query) -> None:
    folder = tmp_path / f"in{abs(hash((tuple(articles), query)))}"
    folder.mkdir()
    for i, text in enumerate(articles):
        (folder / f"a{i}.txt").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        col = citeseek.build(folder, folder / "store", model=HashingEmbedder(), progress=False)
    except citeseek.CiteseekError as exc:
        assert "nothing to index" in str(exc)  # every file was empty, blank or binary
        return
    assert col.last_build.documents + len(col.last_build.skipped) == len(articles)
    for mode in ("keyword", "dense"):
        try:
            hits = col.search(query, k=5, mode=mode)
        except UsageError:
            assert not query.strip()
            continue
        assert_exact(col, hits, 5)
