"""What an answer is made of (``answer/units.py``) and what a question asks for
(``answer/kinds.py``): quotations and lists read whole, lines that run on joined,
table rows together, headings never offered; quantities in words, sample sizes and
multipliers, causes, people rather than organisations, no dates inside identifiers.
The demo's own question, with the real model, gets the "four millimetres" sentence,
confident, without the PDF's heading."""

from __future__ import annotations

import pytest

from citeseek.answer.kinds import CAUSE, HUMAN, NAME, NUMBER, name_kind, question_type
from citeseek.answer.spans import find_span
from citeseek.answer.units import answer_units, is_heading


def units(text: str) -> list[str]:
    return [text[a:b] for a, b in answer_units(text)]


def test_a_heading_is_never_a_unit() -> None:
    text = ("Rebuilding the harbour wall at Port Ellen\nThe harbour wall at Port Ellen was "
            "built in 1832 from granite.\n2.1 Related Work\nOthers rebuilt walls with "
            "concrete.\nTable 2: Stones lifted in 2021")
    assert units(text) == ["The harbour wall at Port Ellen was built in 1832 from granite.",
                           "Others rebuilt walls with concrete.",
                           "Table 2: Stones lifted in 2021"]  # a caption with figures stays
    start = text.index("Rebuilding")
    assert is_heading(text, start, text.index("\n"))


def test_a_line_in_capitals_is_a_heading_whatever_its_figures() -> None:
    text = ("6 STUDY 2: FIELD DEPLOYMENT\nTen participants used CiteSee for a month.\n"
            "TABLE 3 LISTS 1,137 STONES\nNASA flew 2 missions in 1969 to the Moon.")
    assert units(text) == ["Ten participants used CiteSee for a month.",
                           "NASA flew 2 missions in 1969 to the Moon."]


def test_a_quotation_is_read_to_its_end() -> None:
    text = ("“We will not be silenced. The regime killed 1,500 people in November,” she "
            "said. Then the session closed.")
    assert units(text) == ["“We will not be silenced. The regime killed 1,500 people in "
                           "November,” she said.", "Then the session closed."]


def test_a_quotation_said_by_a_pronoun_is_read_with_its_speaker() -> None:
    text = ("Czech MEP Stanislav Polčák spoke to the conference. “Both are two sides of the "
            "same coin,” he said. Then the session closed.")
    assert units(text) == ["Czech MEP Stanislav Polčák spoke to the conference. “Both are "
                           "two sides of the same coin,” he said.", "Then the session closed."]


def test_a_list_is_read_with_the_line_that_introduces_it() -> None:
    text = ("The following topics are covered in this chapter:\n- Security fundamentals\n"
            "- Current state of IBM i security\nThe chapter ends with a summary.")
    assert units(text) == ["The following topics are covered in this chapter:\n- Security "
                           "fundamentals\n- Current state of IBM i security",
                           "The chapter ends with a summary."]


def test_a_line_broken_mid_sentence_runs_on() -> None:
    text = "The council chose to rebuild the section with\nthe original stones, set in lime."
    assert units(text) == [text]


def test_table_rows_are_read_together() -> None:
    text = "Corpus\nPapers\nS2ORC 81.1M\nPubMed 30M\nThe table compares the corpora."
    assert units(text) == ["Corpus\nPapers\nS2ORC 81.1M\nPubMed 30M",
                           "The table compares the corpora."]


AUTHORS = ("LayoutParser: A Unified Toolkit for Document Image Analysis\n"
           "Zejiang Shen1, Ruochen Zhang2, Melissa Dell3, and Weining Li4\n"
           "1 Allen Institute for AI shannons@allenai.org 2 Brown University "
           "ruochen@brown.edu 3 Harvard University melissadell@fas.harvard.edu\n"
           "4 University of Waterloo w422li@uwaterloo.ca\n"
           "Abstract. Recent advances in document image analysis come from neural networks.")


def test_authors_are_read_with_their_affiliations() -> None:
    assert units(AUTHORS) == [
        AUTHORS[AUTHORS.index("Zejiang"):AUTHORS.index("\nAbstract")],
        "Abstract.", "Recent advances in document image analysis come from neural networks."]
    # names without footnote marks do not pull in the line after them
    plain = AUTHORS.replace("Shen1", "Shen").replace("Zhang2", "Zhang").replace(
        "Dell3", "Dell")
    assert not any("Zhang" in unit and "Brown" in unit for unit in units(plain))


@pytest.mark.parametrize(("question", "answer"), [
    ("Which university is Ruochen Zhang affiliated with?", "Brown University"),
    ("Which institution is Zejiang Shen from?", "Allen Institute for AI"),
    ("Which university is Weining Li at?", "University of Waterloo"),
])
def test_an_authors_affiliation_is_the_one_their_mark_points_to(question: str,
                                                                answer: str) -> None:
    unit = units(AUTHORS)[0]
    found = find_span(unit, question)
    assert found is not None and unit[found[0]:found[1]] == answer


def test_a_name_keeps_its_glue_when_a_question_word_leads_it() -> None:
    sentence = "She moved to the University of Washington in 2019."
    found = find_span(sentence, "Which university did she move to?")
    assert found is not None and sentence[found[0]:found[1]] == "University of Washington"


def test_units_keep_exact_offsets() -> None:
    text = "  Heading here\n“One. Two,” he said.  \n- a\n- b\nEnd of it all here."
    for start, end in answer_units(text):
        assert text[start:end] == text[start:end].strip() and end > start


@pytest.mark.parametrize("question, kind", [
    ("What was the largest movement the inspectors found in the harbour wall?", NUMBER),
    ("What was the mean incubation period?", NUMBER),
    ("What is the total number of professors at Harvard?", NUMBER),
    ("What prompted the November 2019 protests?", CAUSE),
    ("Why did the council close the outer pier?", CAUSE),
    ("Which university is Ruochen Zhang affiliated with?", NAME),
])
def test_question_kinds(question: str, kind: str) -> None:
    assert question_type(question) == kind


def test_which_minister_wants_a_person() -> None:
    assert name_kind("Which former French Minister of Defense spoke?") == HUMAN
    assert name_kind("Which Slovakian MEP spoke at the conference?") == HUMAN
    assert name_kind("Which party did the president lead?") is None


@pytest.mark.parametrize("question, sentence, span", [
    ("What was the largest movement the inspectors found in the harbour wall?",
     "The largest movement they found was four millimetres, well inside the limit.",
     "four millimetres"),
    ("How many participants took part in the lab study?",
     "A controlled lab study (N=10) focusing on paper discovery.", "N=10"),
    ("How many papers does the corpus contain?",
     "We introduce S2ORC, a large corpus of 81.1M English-language papers.", "81.1M"),
    ("How much did the discovery rate increase?",
     "Paper discovery increased 2.7x in the field deployment.", "2.7x"),
    ("What prompted the November 2019 protests?",
     "The protests were sparked by a sudden hike in gasoline prices.",
     "a sudden hike in gasoline prices"),
    ("Why did the council close the pier?",
     "The council closed the pier because the storm had undermined the wall.",
     "the storm had undermined the wall"),
    ("Which Slovakian MEP spoke?",
     "Slovak MEP Ivan Štefanec of the European People’s Party spoke.", "Ivan Štefanec"),
    ("Which minister recalled his role?",
     "Minister of Justice Mostafa Pourmohammadi recalled his role.",
     "Mostafa Pourmohammadi"),
    # a year inside an identifier is no date, nor are its parts counts
    ("By what date must the FAA receive comments?",
     "The FAA proposes to supersede AD 2018–23–51 for all 737–8 airplanes.", None),
    ("By what date must the FAA receive comments?",
     "The FAA must receive comments on this proposed AD by September 21, 2020.",
     "September 21, 2020"),
    # a statistic of a length or a time wants a figure in its units, not "Three years"
    ("What was the largest movement the inspectors found in the harbour wall?",
     "Three years after the pier reopened, the largest movement was four millimetres.",
     "four millimetres"),
    ("What was the largest movement the inspectors found in the harbour wall?",
     "Three years after the pier reopened, the inspectors found the wall sound.", None),
    ("What was the mean incubation period?",
     "Of 425 patients, the mean incubation period was 5.2 days.", "5.2 days"),
    ("What is the height of the tower?",
     "Built in 1889 by 300 workers, the tower is 330 metres tall.", "330 metres"),
    ("How many airplanes would the AD affect?",
     "The AD 2018–23–51 would affect 73 airplanes of U.S. registry.", "73"),
])
def test_spans_of_the_new_kinds(question: str, sentence: str, span: str | None) -> None:
    found = find_span(sentence, question)
    assert (sentence[found[0]:found[1]] if found else None) == span


@pytest.mark.model
def test_the_demo_question_gets_the_four_millimetres(tmp_path, real_model) -> None:
    import citeseek
    from citeseek.demo import sample_dir, sample_formats_dir

    col = citeseek.build([sample_dir(), sample_formats_dir()], tmp_path / "demo",
                         model=real_model, progress=False)
    answer = col.ask("What was the largest movement the inspectors found in the harbour "
                     "wall?")
    assert answer.short_answer == "four millimetres" and answer.confident
    assert "four millimetres" in answer.sentences[0].text
    heading = "Rebuilding the harbour wall at Port Ellen"
    assert all(s.text != heading for s in answer.sentences)
