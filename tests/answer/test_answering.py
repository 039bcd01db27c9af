"""``Collection.ask``: verbatim answer sentences at exact offsets, citations that resolve,
declining, the generator hook and the ``ask`` command. Fast tests use the fake embedder;
tests marked ``model`` use the real bundled model on the sample articles."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from citeseek.answer.compose import NO_ANSWER, check_citations
from citeseek.answer.spans import (
    DATE,
    NAME,
    NUMBER,
    PERSON,
    PLACE,
    QUOTE,
    find_span,
    known_places,
    name_kind,
    question_type,
)
from citeseek.cli import main
from citeseek.errors import UsageError
from tests.api.test_cli import run
from tests.helpers import CRANFIELD, REPO

ABSENT = "quantum chromodynamics gluon propagator lattice renormalization"
QUESTIONS = REPO / "benchmarks" / "sample_questions.json"


def check_exact(col, answer) -> None:
    """Every sentence sits in its document and in its cited passage at its offsets."""
    assert answer.sentences
    for s in answer.sentences:
        assert col.document(s.doc_id).text[s.start:s.end] == s.text
        assert 1 <= s.citation <= len(answer.citations)
        hit = answer.citations[s.citation - 1]
        assert hit.doc_id == s.doc_id and hit.start <= s.start <= s.end <= hit.end
        if s.span is not None:
            assert s.start <= s.span_start < s.span_end <= s.end and s.span in s.text
    for n in re.findall(r"\[(\d+)\]", answer.answer):
        assert 1 <= int(n) <= len(answer.citations)


def test_answer_sentences_are_exact_and_cited(col) -> None:
    answer = col.ask("Which foundation did the US Treasury sanction?", k=3)
    assert answer.answer is not None and "Mostazafan" in answer.answer
    check_exact(col, answer)
    assert answer.sentences[0].span == "Mostazafan Foundation"
    data = answer.to_dict()
    assert {"question", "answer", "confident", "sentences", "citations"} <= set(data)
    assert {"text", "citation", "doc_id", "start", "end"} <= set(data["sentences"][0])
    assert data["citations"][0]["doc_id"] == answer.citations[0].doc_id
    json.dumps(data)


def test_absent_topic_is_declined(col) -> None:
    answer = col.ask(ABSENT)
    assert answer.answer is None and not answer.confident and answer.sentences == []
    assert answer.message == NO_ANSWER and NO_ANSWER in str(answer)
    assert answer.to_dict()["answer"] is None


def test_own_unanswerable_questions_are_mostly_declined_without_a_model(col) -> None:
    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))["unanswerable"]
    declined = [col.ask(q, mode="keyword").answer is None for q in questions]
    assert sum(declined) >= 0.8 * len(questions)


def test_generator_invented_citation_is_dropped(col) -> None:
    seen = {}

    def generator(question: str, passages) -> str:
        seen.update(passages)
        return "The Mostazafan Foundation [1], says [7]; see also [2, 9]."

    answer = col.ask("Which foundation did the US Treasury sanction?", k=3,
                     generator=generator)
    assert sorted(seen) == [1, 2, 3] and seen[1].text == answer.citations[0].text
    assert answer.generated and answer.dropped_citations == [7, 9]
    assert answer.answer == "The Mostazafan Foundation [1], says; see also [2]."
    assert not answer.confident
    assert {s.citation for s in answer.sentences} <= {1, 2}
    check_exact(col, answer)
    assert "[7]" in str(answer)  # reported as removed


def test_generator_that_says_nothing_declines(col) -> None:
    answer = col.ask("Which foundation did the US Treasury sanction?",
                     generator=lambda q, p: "  ")
    assert answer.answer is None and answer.generated
    with pytest.raises(UsageError):
        col.ask("Which foundation did the US Treasury sanction?", generator=lambda q, p: 3)


def test_check_citations() -> None:
    assert check_citations("A [1][4] b [2; 3].", {1, 2}) == ("A [1] b [2].", [1, 2], [4, 3])
    assert check_citations("none [0]", {1}) == ("none", [], [0])


def test_text_html_and_dataframe(col, sample_dir: Path, tmp_path: Path, build) -> None:
    answer = col.ask("Which foundation did the US Treasury sanction?", k=3)
    text = str(answer)
    assert "[1]" in text and "Sources:" in text and ".txt" in text
    frame = answer.to_pandas()
    assert list(frame["citation"]) == [s.citation for s in answer.sentences]
    (sample_dir / "evil.txt").write_text(
        "Evil markup\n\nThe <script>alert(1)</script> foundation named Mostazafan was "
        "sanctioned by the US Treasury on a Tuesday.\n", encoding="utf-8")
    evil = build(sample_dir, tmp_path / "evil")
    page = evil.ask("Which foundation did the US Treasury sanction on Tuesday?",
                    doc_ids="evil.txt", min_evidence=0.0)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page and "<mark>" in page
    assert NO_ANSWER in col.ask(ABSENT)._repr_html_()


def test_bad_arguments(col) -> None:
    with pytest.raises(UsageError):
        col.ask("   ")
    with pytest.raises(UsageError):
        col.ask("Mostazafan", method="guess")
    with pytest.raises(UsageError):
        col.ask("Mostazafan", k=0)


@pytest.mark.parametrize("question, kind, sentence, span", [
    ("How many protesters were killed in November 2019?", NUMBER,
     "On December 23, 2019, more than 1,500 protesters were killed, 4,000 injured.", "1,500"),
    ("When did the regime raise gasoline prices?", DATE,
     "On November 14, 2019, the regime raised gasoline prices.", "November 14, 2019"),
    ("Who chaired the Supreme Council session?", NAME,
     "Judiciary Chief Gholam Hossein Ejei chaired the session; Supreme Council Secretary "
     "Ali Shamkhani attended.", "Judiciary Chief Gholam Hossein Ejei"),
    ("What was the title of the report?", QUOTE,
     "Amnesty released a report under the title “Trampling Humanity” in September.",
     "Trampling Humanity"),
    ("How long was Assadi sentenced to?", NUMBER,
     "Assadi was sentenced to 20 years in prison in 2021.", "20 years"),
])
def test_answer_spans(question: str, kind: str, sentence: str, span: str) -> None:
    assert question_type(question) == kind
    found = find_span(sentence, question)
    assert found is not None and sentence[found[0]:found[1]] == span


@pytest.mark.parametrize("question, sentence, span", [
    # currency, scale and units stay with the number
    ("How much did the sanctions freeze?",
     "The Treasury said the sanctions froze $5.1 million in assets.", "$5.1 million"),
    ("How long will the diplomat spend in jail?",
     "Assadi was given 20 years by the court in Antwerp.", "20 years"),
    ("How far is the port from the capital?", "The port lies 40 km from the capital.",
     "40 km"),
    # a full name, without the title the question already says nor a possessive
    ("Who was arrested for the bomb plot?",
     "Iranian diplomat Assadollah Assadi was arrested in Germany for the plot in Paris.",
     "Assadollah Assadi"),
    ("Who is the Secretary of the Supreme National Security Council?",
     "Supreme National Security Council Secretary Ali Shamkhani attended.", "Ali Shamkhani"),
    ("Which organisation held the rally?", "The NCRI’s rally was held near Paris.", "NCRI"),
    # "who" never answers with a place or a month; "where" never with an organisation
    ("Who was arrested for the bomb plot?",
     "In June, police in Paris arrested two people over the plot.", None),
    ("Where was the rally held?",
     "The National Council of Resistance held its rally in Villepinte.", "Villepinte"),
    ("In which city was the diplomat stationed?",
     "The Foreign Ministry said the diplomat was stationed in Vienna.", "Vienna"),
    ("When did the storm sweep the tower away?",
     "A storm swept the tower away in November 1703.", "November 1703"),
])
def test_spans_keep_what_makes_the_answer(question: str, sentence: str,
                                          span: str | None) -> None:
    found = find_span(sentence, question)
    assert (sentence[found[0]:found[1]] if found else None) == span


def test_a_name_placed_elsewhere_in_the_passages_is_no_person() -> None:
    question = "Who was arrested for the bomb plot?"
    sentence = "Iran’s commitment to terror was shown by the bomb plot near Paris."
    places = known_places("Executions rose in Iran last year. " + sentence)
    assert {"Iran", "Paris"} <= places
    assert find_span(sentence, question) is not None  # "Iran" alone looks like a name
    assert find_span(sentence, question, places=places) is None


def test_question_kinds_read_whole_words() -> None:
    # "recalled" holds "called" and "Who said" holds "said": neither asks for a quote
    assert question_type("Which minister recalled his role in the commissions?") == NAME
    assert question_type("Who said the two are sides of the same coin?") == NAME
    assert question_type("What did the minister say about the regime?") == QUOTE
    assert name_kind("Who led the meeting?") == PERSON
    assert name_kind("Where was the diplomat based?") == PLACE
    assert name_kind("Which country introduced the resolution?") == PLACE
    assert name_kind("Which foundation was sanctioned?") is None


def test_a_repeated_sentence_is_offered_once(sample_dir: Path, tmp_path: Path,
                                             build) -> None:
    sentence = ("The Mostazafan Foundation was sanctioned by the US Treasury on a "
                "Wednesday in November.")
    (sample_dir / "twice.txt").write_text(
        f"Twice\n\n{sentence}\n\nOther words come between the two copies here.\n\n"
        f"{sentence}\n", encoding="utf-8")
    col = build(sample_dir, tmp_path / "twice")
    answer = col.ask("Which foundation did the US Treasury sanction on a Wednesday?",
                     k=5, doc_ids="twice.txt", min_evidence=0.0)
    texts = [s.text for s in answer.sentences]
    assert texts.count(sentence) == 1
    assert answer.short_answer == "Mostazafan Foundation"


def test_no_span_of_the_wrong_kind() -> None:
    assert question_type("What is the Mostazafan Foundation?") is None
    assert find_span("Prices rose in 2019.", "How many people died in 2019?") is None


def test_cli_ask_json_and_exit_codes(col, tmp_path: Path, capsys) -> None:
    store = str(col.root)
    proc = run("ask", "Which foundation did the US Treasury sanction?", "--store", store,
               "--mode", "keyword", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert "Mostazafan" in data["answer"] and data["sentences"][0]["citation"] >= 1
    assert data["citations"][0]["rank"] == 1
    assert main(["ask", ABSENT, "--store", store, "--mode", "keyword", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["answer"] is None
    assert main(["ask", "Mostazafan", "--store", store, "--mode", "keyword"]) == 0
    assert "Sources:" in capsys.readouterr().out
    assert run("ask", "x", cwd=tmp_path).returncode == 2  # no --store, none to default to
    assert main(["ask", "  ", "--store", store, "--mode", "keyword", "--json"]) == 2
    assert "error" in json.loads(capsys.readouterr().out)
    missing = run("ask", "anything", "--store", str(tmp_path / "nowhere"), "--json")
    assert missing.returncode == 1 and "error" in json.loads(missing.stdout)


# -- the real model -------------------------------------------------------------------

@pytest.mark.model
@pytest.mark.parametrize("question, gold", [
    ("How many protesters were killed in November 2019?", "1,500"),
    ("Which foundation did the US Treasury sanction?", "Mostazafan"),
    ("How long was Assadollah Assadi sentenced to prison?", "20 years"),
    ("How many people have died of the coronavirus in Iran?", "182,500"),
])
def test_real_answers(real_sample_collection, question: str, gold: str) -> None:
    answer = real_sample_collection.ask(question)
    assert answer.answer is not None and gold in answer.answer and answer.confident
    assert any(s.span is not None and gold in s.span for s in answer.sentences)
    check_exact(real_sample_collection, answer)


@pytest.mark.model
def test_real_long_sentence_is_read_in_stretches(real_sample_collection) -> None:
    # The answer opens a 60-word sentence whose whole is far from the question (0.24).
    answer = real_sample_collection.ask("Which Slovakian MEP spoke at the virtual conference?")
    parts = answer.evidence_parts
    assert parts["window_similarity"] > parts["similarity"] + 0.1, parts
    assert answer.answer is not None and "Štefanec" in answer.answer
    check_exact(real_sample_collection, answer)


@pytest.mark.model
def test_real_off_topic_questions_are_declined(real_sample_collection) -> None:
    questions = ["Who won the 2018 FIFA World Cup?", "How many moons does Jupiter have?",
                 "How many centrifuges does Iran operate at Natanz?"]
    path = CRANFIELD / "queries.jsonl"
    if path.exists():
        lines = path.read_text(encoding="utf-8").splitlines()[:10]
        questions += [json.loads(line)["text"] for line in lines]
    for question in questions:
        assert real_sample_collection.ask(question).answer is None, question
