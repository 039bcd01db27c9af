"""What the answer stage is given: one ``Corpus`` from the generation (the model and the
word statistics), made by the caller and used by scoring and claim checks alike; word
measures with one home; and streaming chosen by the caller, never by ``answer/`` asking
whether it runs in Jupyter."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import citeseek
from citeseek.answer.compose import AnswerOptions, answer_question
from citeseek.answer.corpus import Corpus, stem, weighted_share, words_held
from tests.answer.test_llm import QUESTION
from tests.chat_server import Server, sse
from tests.project.test_architecture import PACKAGE, graph


def test_the_answer_stage_does_not_ask_whether_it_runs_in_jupyter() -> None:
    edges = {module: targets for module, targets in graph().items()
             if module.startswith("citeseek.answer")}
    assert edges and not any("citeseek.progress" in targets for targets in edges.values())
    for path in sorted((PACKAGE / "answer").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 for alias in node.names}
        called = {node.attr if isinstance(node, ast.Attribute) else node.id
                  for node in ast.walk(tree) if isinstance(node, ast.Attribute | ast.Name)}
        assert not {"in_kernel", "get_ipython"} & (names | called), path.name


def test_words_have_one_home() -> None:
    assert stem("killed") == stem("killing") == "kill" and stem("Iran's") == "iran"
    weights = {"protesters": 2.0, "killed": 1.0, "1,500": 1.0}
    text = "Security forces killed 1,500 people."
    assert words_held(text, weights) == {"killed"}
    assert words_held(text, weights, figures=True) == {"killed", "1,500"}
    assert weighted_share(weights, words_held(text, weights)) == 0.25
    assert weighted_share({}, set()) == 0.0
    corpus = Corpus(embed=None, frequencies=lambda words: {"killed": 9, "protesters": 1},
                    n_passages=10)
    idf = corpus.idf(["killed", "protesters", "unseen"])
    assert list(idf) == ["killed", "protesters", "unseen"]
    assert idf["killed"] < idf["protesters"] < idf["unseen"]


def test_one_corpus_serves_scoring_and_the_claim_checks(sample_dir: Path, tmp_path: Path,
                                                        build: Any) -> None:
    col = build(sample_dir, tmp_path / "col")
    hits = col.search(QUESTION, k=3, mode="keyword")
    asked: list[list[str]] = []
    embedded: list[str] = []
    db = col._live.current.db

    def frequencies(words: list[str]) -> Any:
        asked.append(list(words))
        return db.keywords.frequencies(words)

    def embed(texts: list[str]) -> np.ndarray:
        embedded.extend(texts)
        return col._embed_texts(texts)

    corpus = Corpus(embed=embed, frequencies=frequencies, n_passages=len(col))
    written = "The US Treasury sanctioned the Mostazafan Foundation in 2020 [1]."
    answer = answer_question(QUESTION, hits, corpus,
                             AnswerOptions.of(generator=lambda q, p: written, min_evidence=0))
    assert answer.generated and len(answer.claims) == 1
    claim = answer.claims[0]
    assert len(asked) == 2 and "2020" in asked[1]  # the question's words, then the claim's
    assert embedded[0] == QUESTION and claim.similarity is not None
    assert any("Mostazafan Foundation in 2020" in text for text in embedded)
    # Without a model the same corpus answers by the words alone.
    plain = answer_question(QUESTION, hits, Corpus(None, frequencies, len(col)),
                            AnswerOptions.of(generator=lambda q, p: written, min_evidence=0))
    assert plain.claims[0].similarity is None and plain.claims[0].shared == claim.shared


def test_ask_streams_into_the_cell_only_where_the_caller_runs_in_a_kernel(
        sample_dir: Path, tmp_path: Path, build: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    col = build(sample_dir, tmp_path / "col")
    text = "The US Treasury sanctioned the Mostazafan Foundation [1]."
    cell: list[str] = []
    monkeypatch.setattr("citeseek.collection.notebook_stream", lambda: cell.append)
    with Server(lambda body, n: (200, {}, sse([text[:9], text[9:]]))) as server:
        def ask(**options: Any) -> citeseek.Answer:
            return col.ask(QUESTION, k=3, mode="keyword", llm=server.url, llm_model="m",
                           min_evidence=0, **options)

        monkeypatch.setattr("citeseek.collection.in_kernel", lambda: False)
        assert ask().generated and cell == []
        monkeypatch.setattr("citeseek.collection.in_kernel", lambda: True)
        assert ask().generated and "".join(cell) == text
        given: list[str] = []
        assert ask(on_text=given.append).generated and "".join(given) == text
        assert "".join(cell) == text  # a caller's own on_text wins
    assert col.ask(QUESTION, k=3, mode="keyword").answer is not None and \
        "".join(cell) == text  # no llm, nothing streams
