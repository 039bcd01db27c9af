"""Arguments, round two: dates are ISO 8601 and mean their whole period, filters of any
size work or are usage errors (never a "corrupt collection"), and a wrong kind of value
is a usage error naming the argument, never a raw TypeError or a silent empty result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import citeseek
from citeseek.embed.hashing import HashingEmbedder
from citeseek.errors import UsageError

from .conftest import cli

DATES = {"early.jsonl": "2020-12-31", "march.jsonl": "2021-03-01", "june.jsonl": "2021-06-15",
         "late.jsonl": "2022-01-01"}


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dated") / "in"
    folder.mkdir()
    for name, day in DATES.items():
        (folder / name).write_text(json.dumps({
            "id": name.split(".")[0], "date": day,
            "text": f"A harbour report from {day} about cranes and ferries."}) + "\n")
    store = folder.parent / "store"
    citeseek.build(folder, store, model=HashingEmbedder(), progress=False)
    return store


def ids(col: Any, **filters: Any) -> set[str]:
    return {h.doc_id for h in col.search("harbour report cranes", k=10, mode="keyword",
                                         **filters)}


@pytest.mark.parametrize(("filters", "expected"), [
    ({"date_from": "2021", "date_to": "2021"}, {"march", "june"}),
    ({"date_to": "2021-03"}, {"early", "march"}),
    ({"date_from": "2021-03"}, {"march", "june", "late"}),
    ({"date_from": "2021-03-02", "date_to": "2021-12-31"}, {"june"}),
    ({"date_to": "2020"}, {"early"}),
])
def test_dates_mean_their_whole_period(dated: Path, filters: dict[str, str],
                                       expected: set[str]) -> None:
    assert ids(citeseek.open(dated), **filters) == expected


@pytest.mark.parametrize("value", ["2021-3-1", "2021/03/01", "March 2021", "01.03.2021",
                                   "2021-02-30", "2021-13", "21", 2021, "2021-03-01T10:00"])
def test_other_date_forms_are_usage_errors(dated: Path, value: Any) -> None:
    with pytest.raises(UsageError, match="ISO 8601"):
        ids(citeseek.open(dated), date_from=value)
    if isinstance(value, str):
        code, error, _ = cli("search", "harbour", "--store", str(dated), "--mode", "keyword",
                             "--date-to", value, "--json")
        assert code == 2 and "ISO 8601" in error["error"]


def test_filters_of_any_size(dated: Path) -> None:
    col = citeseek.open(dated)
    assert ids(col, sources=[f"*/{n}*" for n in range(600)] + ["*june*"]) == {"june"}
    assert ids(col, doc_ids=[f"id{n}" for n in range(300_000)] + ["late"]) == {"late"}
    patterns = ["*/nothing-like-this-" + str(n) for n in range(600)]
    code, hits, err = cli("search", "harbour", "--store", str(dated), "--mode", "keyword",
                          "--json", *[a for p in patterns for a in ("--source", p)])
    assert code == 0 and hits == [], err
    with pytest.raises(UsageError, match="limit"):
        ids(col, sources="*" + "a" * 60_000)
    code, error, _ = cli("search", "harbour", "--store", str(dated), "--mode", "keyword",
                         "--source", "*" + "a" * 60_000, "--json")
    assert code == 2 and error["type"] == "UsageError"


@pytest.mark.parametrize(("options", "name"), [
    ({"sources": 123}, "sources"), ({"sources": b"*june*"}, "sources"),
    ({"sources": ["*june*", 5]}, "sources"), ({"doc_ids": b"june"}, "doc_ids"),
    ({"doc_ids": 7}, "doc_ids"), ({"per_doc": "2"}, "per_doc"), ({"per_doc": 0}, "per_doc"),
    ({"per_doc": True}, "per_doc"), ({"dedupe": "no"}, "dedupe"),
    ({"feedback": -1}, "feedback"), ({"feedback": 1.5}, "feedback"), ({"mode": 3}, "mode"),
])
def test_wrong_kinds_of_value_are_usage_errors(dated: Path, options: dict[str, Any],
                                               name: str) -> None:
    col = citeseek.open(dated, model=HashingEmbedder())
    with pytest.raises(UsageError, match=name):
        col.search("harbour report", **{"mode": "keyword", **options})
    if name not in ("dedupe", "feedback", "mode"):
        with pytest.raises(UsageError, match=name):
            col.more_like(1, **options)


def test_a_model_that_is_neither_a_name_nor_an_embedder_is_a_usage_error(
        dated: Path, tmp_path: Path) -> None:
    for model in (123, b"hashing", "", ["hashing"]):
        with pytest.raises(UsageError, match="model"):
            citeseek.open(dated, model=model)
        with pytest.raises(UsageError, match="model"):
            citeseek.build(dated.parent / "in", tmp_path / "s", model=model, progress=False)


def test_per_doc_still_gives_k_results_when_k_passages_qualify(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    long = " ".join(f"The harbour crane moved cargo number {i} for the fleet today."
                    for i in range(400))
    (folder / "long.txt").write_text(f"Harbour log\n\n{long}\n")
    for i in range(5):
        (folder / f"short{i}.txt").write_text(f"Note {i}\n\nThe harbour crane moved some "
                                              f"cargo on day {i}.\n")
    col = citeseek.build(folder, tmp_path / "s", model=HashingEmbedder(), progress=False)
    assert len(col) > 150  # the long article alone fills the first candidates
    for mode in ("keyword", "dense", "hybrid"):
        hits = col.search("harbour crane moved cargo", k=6, mode=mode, per_doc=1)
        assert sorted(h.doc_id for h in hits) == sorted(
            ["long.txt", *(f"short{i}.txt" for i in range(5))]), mode
    similar = col.more_like(col.search("cargo number 7", k=1, mode="keyword")[0], k=6,
                            per_doc=1)
    assert len(similar) == 6


def test_k_of_any_size_on_an_approximate_index(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(30):
        (folder / f"a{i}.txt").write_text(f"Report {i}\n\nThe harbour crane {i} moved "
                                          f"cargo number {i * 7} today.\n")
    for factory in ("HNSW16,Flat", "IVF4,Flat"):
        col = citeseek.build(folder, tmp_path / factory, model=HashingEmbedder(),
                             progress=False, index=factory)
        for k in (10**6, 2**31, 10**20):
            for mode in ("dense", "hybrid"):
                hits = col.search("harbour crane cargo", k=k, mode=mode)
                assert len(hits) == 30, (factory, k, mode)


@pytest.mark.parametrize(("options", "name"), [
    ({"foo": 1}, "foo"), ({"min_evidence": "x"}, "min_evidence"),
    ({"confident_evidence": None}, "confident_evidence"),
    ({"max_sentences": "2"}, "max_sentences"), ({"max_sentences": 0}, "max_sentences"),
    ({"method": ["combined"]}, "method"), ({"method": "best"}, "method"),
    ({"generator": 5}, "generator"), ({"on_text": "print"}, "on_text"),
])
def test_ask_options_of_the_wrong_kind_are_usage_errors(dated: Path, options: dict[str, Any],
                                                        name: str) -> None:
    col = citeseek.open(dated, model=HashingEmbedder())
    with pytest.raises(UsageError, match=name):
        col.ask("Which report mentions cranes?", mode="keyword", **options)
