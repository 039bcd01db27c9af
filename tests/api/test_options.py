"""One way in for options: ``search``, ``ask`` and ``more_like`` take the same filters by
the same names, the request names (``source``, ``doc_id``) become them in one place, and
a document id given as the start of one means the same wherever it is given."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

import citeseek
from citeseek.answer.compose import AnswerOptions
from citeseek.cli import main
from citeseek.errors import DocumentNotFound, UsageError
from citeseek.search.filters import FILTERS, Filters


@pytest.fixture(scope="module")
def col(tmp_path_factory: pytest.TempPathFactory) -> citeseek.Collection:
    from citeseek.demo import sample_dir
    from citeseek.embed.hashing import HashingEmbedder

    store = tmp_path_factory.mktemp("options") / "sample"
    return citeseek.build(sample_dir(), store, model=HashingEmbedder(), progress=False)


def keyword_only(method: Any) -> dict[str, inspect.Parameter]:
    return {name: p for name, p in inspect.signature(method).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


def test_search_ask_and_more_like_name_the_same_filters() -> None:
    assert FILTERS == ("sources", "date_from", "date_to", "doc_ids")
    methods = (citeseek.Collection.search, citeseek.Collection.ask,
               citeseek.Collection.more_like)
    shapes = []
    for method in methods:
        params = keyword_only(method)
        assert {*FILTERS, "per_doc"} <= set(params), method.__name__
        shapes.append({name: (str(params[name].annotation), params[name].default)
                       for name in (*FILTERS, "per_doc")})
    assert shapes[0] == shapes[1] == shapes[2]  # the same types and defaults, too
    for method in (citeseek.Collection.search, citeseek.Collection.ask):
        assert keyword_only(method)["mode"].default == "hybrid"


def test_one_translation_of_the_request_names(col: citeseek.Collection) -> None:
    made = Filters.from_request(source=["*002*"], date_from="2019", date_to="2021-06",
                                doc_id=["002"], resolve=col.resolve_doc_id)
    assert made == Filters.of(sources="*002*", date_from="2019-01-01",
                              date_to="2021-06-30", doc_ids="002_e43f018c271d3215.txt")
    assert set(made.options()) == set(FILTERS)
    assert Filters.of(**made.options()) == made  # what the methods are given, checked again
    assert Filters.from_request() == Filters() and not Filters.from_request().active
    assert Filters.from_request(doc_id=["00x"]).doc_ids == ("00x",)  # nothing to resolve
    with pytest.raises(UsageError, match="date_to"):
        Filters.from_request(date_to="June")


def test_an_id_prefix_means_the_same_in_python_and_on_the_command_line(
        col: citeseek.Collection, capsys: pytest.CaptureFixture[str]) -> None:
    store = str(col.root)
    for given in ("00", "nope", "002_e43f018c271d3216.txt"):  # several, none, a near miss
        with pytest.raises(DocumentNotFound) as python:
            col.resolve_doc_id(given)
        for command in ("search", "ask"):
            assert main([command, "harbour", "--store", store, "--doc-id", given,
                         "--json"]) == 1
            error = json.loads(capsys.readouterr().out)
            assert error == {"error": str(python.value), "type": "DocumentNotFound"}
    assert main(["search", "Mostazafan", "--store", store, "--doc-id", "002", "--json",
                 "--mode", "keyword"]) == 0
    by_prefix = json.loads(capsys.readouterr().out)
    exact = col.search("Mostazafan", mode="keyword", doc_ids="002_e43f018c271d3215.txt")
    assert by_prefix == exact.to_dict() and by_prefix


def test_filters_mean_the_same_in_every_method(col: citeseek.Collection) -> None:
    chosen = {"sources": ["*000*", "*001*", "*002*"], "date_from": "2022", "per_doc": 1}
    hits = col.search("human rights crackdown", k=5, **chosen)
    assert [h.doc_id for h in hits] == ["000_8ec7e9efab969127.txt"]  # 002 has no date
    answer = col.ask("human rights crackdown", k=5, min_evidence=0, **chosen)
    assert [h.chunk_id for h in answer.citations] == [h.chunk_id for h in hits]
    similar = col.more_like(hits[0], k=5, **chosen)
    assert [h.doc_id for h in similar] == ["000_8ec7e9efab969127.txt"]
    assert len(col.more_like(hits[0], k=5, **{**chosen, "per_doc": None})) == 5
    for method, args in ((col.search, ("x",)), (col.ask, ("x",)), (col.more_like, (1,))):
        with pytest.raises(UsageError, match="ISO 8601"):
            method(*args, date_to="2021/01/01")
        with pytest.raises(UsageError, match="doc_ids must be text"):
            method(*args, doc_ids=7)


def test_answer_options_are_checked_in_one_place() -> None:
    made = AnswerOptions.of(method="keywords", llm="http://127.0.0.1:9/v1", llm_model="m",
                            max_sentences=2, min_evidence=0)
    assert made.llm is not None and made.llm.model == "m" and made.max_sentences == 2
    assert AnswerOptions.of() == AnswerOptions()
    for options, name in (({"max_sentences": 0}, "max_sentences"), ({"method": "x"}, "method"),
                          ({"llm": "ftp://x"}, "llm"), ({"colour": 1}, "colour"),
                          ({"generator": len, "llm": "http://x", "llm_model": "m"},
                           "not both")):
        with pytest.raises(UsageError, match=name):
            AnswerOptions.of(**options)


def test_mode_and_k_are_one_rule_everywhere(col: citeseek.Collection) -> None:
    messages = set()
    for call in (lambda: col.search("x", mode="fuzzy"), lambda: col.ask("x", mode="fuzzy"),
                 lambda: col.compare("x", modes=("dense", "fuzzy"))):
        with pytest.raises(UsageError, match="mode must be one of hybrid, dense, keyword") \
                as error:
            call()
        messages.add(str(error.value))
    assert len(messages) == 1
    for k in (0, "3", True, 2.5):
        with pytest.raises(UsageError, match="k must be a whole number >= 1"):
            col.search("x", k=k)
        with pytest.raises(UsageError, match="k must be a whole number >= 1"):
            col.more_like(1, k=k)
    with pytest.raises(UsageError, match="max_sentences must be a whole number >= 1"):
        col.ask("x", max_sentences=0)
