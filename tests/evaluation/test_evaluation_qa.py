"""Answer evaluation (``citeseek.evaluation.evaluate_qa`` and ``citeseek eval-qa``):
SQuAD's measures by hand, both question-set layouts, and whole runs on small SQuAD files
the tests write, built with the hashing embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citeseek.cli import main
from citeseek.errors import UsageError
from citeseek.evaluation import (
    evaluate_qa,
    exact_match,
    f1_score,
    load_qa,
    normalize_answer,
    score_answers,
)

ARTICLES = {
    "Canals": ["The Grand Union Canal opened in 1805 and links London with Birmingham.",
               "The canal's locks were built by the engineer William Jessop at a cost of "
               "about $5.1 million in today's money."],
    "Lighthouses": ["The Eddystone Lighthouse stands on rocks south of Plymouth.",
                    "Henry Winstanley built the first Eddystone tower, which a storm swept "
                    "away in November 1703."],
}
QUESTIONS = {  # article, question, gold answers ([] = unanswerable)
    "q1": ("Canals", "When did the Grand Union Canal open?", ["1805"]),
    "q2": ("Canals", "How much did the locks of the canal cost?", ["$5.1 million"]),
    "q3": ("Lighthouses", "Who built the first Eddystone tower?", ["Henry Winstanley"]),
    "q4": ("Lighthouses", "When did a storm sweep away the Eddystone tower?",
           ["November 1703", "1703"]),
    "q5": ("Canals", "Who painted the locks of the Grand Union Canal?", []),
}


def squad_file(path: Path, version: str = "v2.0") -> Path:
    data = []
    for title, paragraphs in ARTICLES.items():
        paras = []
        for context in paragraphs:
            qas = []
            for qid, (article, question, golds) in QUESTIONS.items():
                if article != title or not any(g in context for g in golds or [""]) or \
                        (not golds and context != paragraphs[0]):
                    continue
                qa = {"id": qid, "question": question,
                      "answers": [{"text": g, "answer_start": context.index(g)}
                                  for g in golds]}
                if version == "v2.0":
                    qa["is_impossible"] = not golds
                elif not golds:
                    continue  # v1.1 has no unanswerable questions
                qas.append(qa)
            paras.append({"context": context, "qas": qas})
        data.append({"title": title, "paragraphs": paras})
    path.write_text(json.dumps({"version": version, "data": data}), encoding="utf-8")
    return path


def test_squad_measures_by_hand() -> None:
    assert normalize_answer("The  Eddystone, Lighthouse!") == "eddystone lighthouse"
    assert exact_match("the Grand Union Canal", ["Grand Union Canal"]) == 1.0
    assert exact_match("Grand Union", ["Grand Union Canal"]) == 0.0
    # precision 2/2, recall 2/3 -> F1 0.8
    assert f1_score("Grand Union", ["Grand Union Canal"]) == pytest.approx(0.8)
    assert f1_score("Grand Union", ["x", "Grand Union Canal"]) == pytest.approx(0.8)
    assert f1_score("nothing alike", ["Grand Union Canal"]) == 0.0
    # an unanswerable question: only saying nothing is right
    assert exact_match("", []) == 1.0 and f1_score("", []) == 1.0
    assert exact_match("1805", []) == 0.0 and f1_score("1805", []) == 0.0


def test_scores_from_rows_by_hand() -> None:
    def row(answerable: bool, declined: bool, rank: int | None = None,
            ok: bool = False) -> dict:
        return {"answerable": answerable, "declined": declined, "passage_rank": rank,
                "answer_ok": ok, "em": float(ok), "f1": float(ok), "confident": ok}

    rows = [row(True, False, 1, True), row(True, False, 3), row(True, True, None),
            row(False, True), row(False, False)]
    m = score_answers(rows)
    assert (m["hit@1"], m["hit@3"], m["hit@5"]) == (pytest.approx(1 / 3),
                                                    pytest.approx(2 / 3),
                                                    pytest.approx(2 / 3))
    assert m["answer_accuracy"] == pytest.approx(1 / 3)
    assert m["answered"] == pytest.approx(2 / 3)
    assert m["decline_rate_unanswerable"] == 0.5
    assert m["decline_precision"] == 0.5 and m["decline_recall"] == 0.5
    assert m["confident"] == 1 and m["confident_right"] == 1


def test_load_squad_v1_and_v2(tmp_path: Path) -> None:
    v2 = load_qa(squad_file(tmp_path / "v2.json"))
    assert [r["_id"] for r in v2.records] == ["Canals", "Lighthouses"]
    assert v2.records[0]["text"] == "\n\n".join(ARTICLES["Canals"])
    by_id = {q.id: q for q in v2.questions}
    assert set(by_id) == set(QUESTIONS)
    assert not by_id["q5"].answerable and by_id["q5"].answers == []
    assert by_id["q2"].answers == ["$5.1 million"] and by_id["q2"].doc_id == "Canals"
    v1 = load_qa(squad_file(tmp_path / "v1.json", "v1.1"))
    assert {q.id for q in v1.questions} == {"q1", "q2", "q3", "q4"}
    assert all(q.answerable for q in v1.questions)


def test_load_folder_layout_and_bad_input(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    (folder / "articles").mkdir(parents=True)
    (folder / "articles" / "canals.txt").write_text("Canals\n\n" + ARTICLES["Canals"][0])
    lines = [{"id": "a", "question": "When did the canal open?", "article": "canals.txt",
              "answers": ["1805"], "answerable": True},
             {"id": "b", "question": "Who owns it?", "article": "canals.txt",
              "answers": [], "answerable": False}]
    (folder / "questions.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    data = load_qa(folder)
    assert data.sources == [folder / "articles"] and data.name == "set"
    assert [(q.id, q.answerable) for q in data.questions] == [("a", True), ("b", False)]
    (folder / "bad.jsonl").write_text('{"id": "x", "question": "no article"}\n')
    with pytest.raises(UsageError, match="article"):
        load_qa(folder, folder / "bad.jsonl")
    (folder / "broken.jsonl").write_text("{not json\n")
    with pytest.raises(UsageError, match="broken.jsonl:1"):
        load_qa(folder, folder / "broken.jsonl")
    with pytest.raises(UsageError, match="questions.jsonl"):
        load_qa(tmp_path / "set" / "articles")
    with pytest.raises(UsageError, match="not SQuAD"):
        (tmp_path / "x.json").write_text("[1, 2]")
        load_qa(tmp_path / "x.json")
    with pytest.raises(UsageError, match="no such"):
        load_qa(tmp_path / "missing.json")


def test_evaluate_qa_on_a_squad_file(tmp_path: Path, fake) -> None:
    source = squad_file(tmp_path / "tiny.json")
    store = tmp_path / "col"
    result = evaluate_qa(source, store=store, model=fake, mode="keyword")
    m = result.metrics
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (5, 4, 1)
    # Keyword search finds each article by its own words, first.
    assert m["hit@1"] == m["hit@3"] == m["hit@5"] == 1.0
    rows = {r["id"]: r for r in result.rows}
    assert all(rows[q]["passage_rank"] == 1 for q in ("q1", "q2", "q3", "q4"))
    assert m["answer_accuracy"] == pytest.approx(
        sum(rows[q]["answer_ok"] for q in ("q1", "q2", "q3", "q4")) / 4)
    # The short answers are the spans asked for, so SQuAD's exact match holds.
    assert rows["q2"]["short_answer"] == "$5.1 million" and rows["q2"]["em"] == 1.0
    assert rows["q3"]["short_answer"] == "Henry Winstanley" and rows["q3"]["em"] == 1.0
    assert rows["q1"]["short_answer"] == "1805" and rows["q1"]["f1"] == 1.0
    assert rows["q4"]["short_answer"] == "November 1703" and rows["q4"]["em"] == 1.0
    assert m["exact_match"] == pytest.approx(sum(rows[q]["em"] for q in rows
                                                 if q != "q5") / 4)
    assert m["decline_rate_unanswerable"] == float(rows["q5"]["declined"])
    frame = result.to_pandas()
    assert list(frame["id"]) == [r["id"] for r in result.rows] and len(frame) == 5
    assert "hit@1 1.000" in str(result)
    # A second run builds nothing new: the same generation stays live.
    live = (store / "CURRENT").read_text()
    again = evaluate_qa(source, store=store, model=fake, mode="keyword", limit=2)
    assert (store / "CURRENT").read_text() == live and again.metrics["questions"] == 2


def test_eval_qa_command(tmp_path: Path, capsys) -> None:
    source = squad_file(tmp_path / "tiny.json")
    store = str(tmp_path / "col")
    assert main(["eval-qa", str(source), "--store", store, "--model", "hashing",
                 "--mode", "keyword", "--json", "--rows"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dataset"] == "tiny" and out["questions"] == 5 and out["hit@1"] == 1.0
    assert len(out["rows"]) == 5 and {"em", "f1", "passage_rank"} <= set(out["rows"][0])
    assert main(["eval-qa", str(source), "--store", store, "--mode", "keyword"]) == 0
    assert "exact match" in capsys.readouterr().out
    assert main(["eval-qa", str(tmp_path / "missing.json"), "--json"]) == 2
    assert "error" in json.loads(capsys.readouterr().out)
    assert main(["eval-qa", str(source), "--store", store, "--limit", "0", "--json"]) == 2
