"""The Tantivy keyword index: what it matches (stems, folded accents, any text a valid
query), filters before ranking, removals, and generations that share its files by hard
links without one build ever changing another generation's files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.storage import layout
from citeseek.storage.manifest import Manifest
from citeseek.storage.tantivy_index import TantivyIndex, TantivyWriter, index_files

PASSAGES = [
    (1, "Harbour cranes", "The cranes of the harbour were running again in Montréal."),
    (2, "Ferries", "A ferry runs across the bay twice an hour."),
    (3, None, "Straße und Café: the naïve visitor's notes on the old town."),
    (4, "Storms", "The winter storms closed the harbour for eleven days."),
]


def everything() -> list[tuple[int, str | None, str]]:
    return list(PASSAGES)


@pytest.fixture
def index(tmp_path: Path) -> TantivyIndex:
    writer = TantivyWriter(tmp_path / "kw")
    writer.add(PASSAGES)
    writer.commit(everything)
    return TantivyIndex(tmp_path / "kw")


def ids(found: list[tuple[int, float]]) -> list[int]:
    return [cid for cid, _ in found]


def test_stems_folded_accents_and_title_words(index: TantivyIndex) -> None:
    assert ids(index.search("run", 5)) == [2, 1]  # "runs", "running"
    assert ids(index.search("montreal", 5)) == [1]
    assert ids(index.search("Montre\u0301al", 5)) == [1]  # a combining accent, one word
    assert ids(index.search("strasse cafe naive", 5)) == [3]
    assert ids(index.search("ferries", 1)) == [2]  # the title's word
    top = index.search("harbour", 5)
    assert set(ids(top)) == {1, 4} and top[0][1] >= top[1][1] > 0


def test_text_with_decomposed_accents_is_found_by_either_form(tmp_path: Path) -> None:
    writer = TantivyWriter(tmp_path / "kw")
    writer.add([(1, "Montre\u0301al", "Une cre\u0300me bru\u0302le\u0301e au Que\u0301bec."),
                (2, None, "Montreal harbour")])
    writer.commit(list)
    found = TantivyIndex(tmp_path / "kw")
    for query in ("crème brûlée", "cre\u0300me bru\u0302le\u0301e", "Québec", "Que\u0301bec"):
        assert ids(found.search(query, 5)) == [1], query
    assert set(ids(found.search("Montre\u0301al", 5))) == {1, 2}


@pytest.mark.parametrize("text", ['"unbalanced', "AND OR NOT", "title:harbour", "a*",
                                  "(((", "harbour^10", "\\", "-ferry +", "NEAR(a b)"])
def test_any_text_is_a_valid_query(index: TantivyIndex, text: str) -> None:
    found = index.search(text, 5)
    assert all(isinstance(cid, int) for cid in ids(found))
    if "harbour" in text:
        assert set(ids(found)) == {1, 4}
    if "ferry" in text:
        assert ids(found) == [2]


def test_only_stopwords_or_no_words_match_nothing_harmful(index: TantivyIndex) -> None:
    assert index.search("!!! ???", 5) == []
    assert index.search("the", 5)  # nothing but stopwords: they are kept
    assert index.search("harbour", 0) == []


def test_filters_apply_before_ranking(index: TantivyIndex) -> None:
    assert ids(index.search("harbour", 1, allowed=[4])) == [4]
    assert index.search("harbour", 5, allowed=[2, 3]) == []
    assert index.search("harbour", 5, allowed=[]) == []
    unfiltered = dict(index.search("harbour", 5))
    assert dict(index.search("harbour", 5, allowed=[1, 4])) == unfiltered  # same scores


def test_frequencies_count_passages_per_analyzed_word(index: TantivyIndex) -> None:
    assert index.frequencies(["harbour", "running", "Straße", "zebra", "!!"]) == \
        {"harbour": 2, "running": 2, "Straße": 1, "zebra": 0, "!!": 0}


def test_removals_and_an_id_used_again(tmp_path: Path, index: TantivyIndex) -> None:
    writer = TantivyWriter(tmp_path / "next", start_from=index.folder)
    writer.remove([1, 4])
    writer.add([(4, "Quay", "The quay was repaired before the winter.")])
    writer.commit(lambda: [PASSAGES[1], PASSAGES[2], (4, "Quay", "The quay was repaired.")])
    after = TantivyIndex(tmp_path / "next")
    assert after.search("harbour", 5) == []
    assert ids(after.search("quay winter", 5)) == [4]
    assert after.searcher.num_docs == 3
    assert ids(TantivyIndex(index.folder).search("harbour", 5)) in ([1, 4], [4, 1])


def test_many_removals_make_the_index_anew(tmp_path: Path, index: TantivyIndex) -> None:
    writer = TantivyWriter(tmp_path / "next", start_from=index.folder)
    writer.remove([1, 2, 3])
    writer.commit(lambda: [PASSAGES[3]])
    assert writer.deleted_share() == 0.0  # three of four removed: rebuilt, none left
    fresh = TantivyWriter(tmp_path / "fresh")
    fresh.add([PASSAGES[3]])
    fresh.commit(lambda: [PASSAGES[3]])
    assert TantivyIndex(tmp_path / "next").search("harbour storms", 1) == \
        TantivyIndex(tmp_path / "fresh").search("harbour storms", 1)


def test_generations_share_unchanged_files_and_never_change_each_other(
        tmp_path: Path, sample_dir: Path) -> None:
    store, fake = tmp_path / "store", HashingEmbedder()
    citeseek.build(sample_dir, store, model=fake, progress=False)
    first = store / "gen-000001"
    sums = {name: layout.sha256_file(first / name) for name in layout.generation_files(first)}
    (sample_dir / "extra.txt").write_text("Extra\n\nA short note about the harbour ferry.\n")
    col = citeseek.build(sample_dir, store, model=fake, progress=False)
    assert col.generation == "gen-000002"
    second = store / "gen-000002" / layout.KEYWORD_DIR
    shared = [name for name in index_files(first / layout.KEYWORD_DIR)
              if (second / name).exists() and os.path.samefile(
                  first / layout.KEYWORD_DIR / name, second / name)]
    assert shared and all(not name.endswith(".json") for name in shared)  # segments only
    # the live generation before it is byte for byte what it was
    assert {name: layout.sha256_file(first / name) for name in sums} == sums
    Manifest.read(first, verify=True)
    assert col.search("harbour ferry", k=1, mode="keyword")[0].doc_id == "extra.txt"
