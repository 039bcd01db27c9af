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
