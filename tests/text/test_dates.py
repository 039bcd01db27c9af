"""Month and weekday names, held in ``citeseek.dates`` and used by every stage: each
spelling against each consumer (the readers' date lines, the PDF's first page, a file's
own date field, HTML timestamps, dates and names in answers, sentence ends), and the
date parsers themselves."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from citeseek.answer.spans import DATE, NAME, find_span
from citeseek.dates import (
    MONTHS,
    WEEKDAYS,
    date_bound,
    find_date,
    iso_date,
    month_names,
    month_pattern,
    parse_date,
    pdf_date,
)
from citeseek.errors import UsageError
from citeseek.ingest.cleaning import clean_lines
from citeseek.ingest.html import _TIME_WORD
from citeseek.sentences import sentence_spans

FULL = month_names(abbreviations=False)
SRC = Path(__file__).resolve().parents[2] / "src" / "citeseek"


def _iso(number: int) -> str:
    return f"2020-{number:02d}-05"


def _written(spelling: str) -> list[str]:
    """The ways a reader meets a spelling: as is, capitalised, in capitals; abbreviations
    also with their full stop."""
    forms = [spelling, spelling.capitalize(), spelling.upper()]
    return forms + ([f + "." for f in forms] if spelling not in FULL else [])


def _date_lines(spelling: str, number: int) -> None:
    for form in _written(spelling):
        assert parse_date(f"{form} 5, 2020") == _iso(number), form
        assert parse_date(f"Tuesday, 5th {form} 2020") == _iso(number), form
        assert parse_date(f"{form}ish 5, 2020") is None


def _text_reader(spelling: str, number: int) -> None:
    lines = ["Harbour wall to be rebuilt", f"{spelling.capitalize()} 5, 2020", "",
             "The council voted on Tuesday to rebuild the harbour wall before the storms "
             "of the coming winter, at a cost of four million."]
    cleaned = clean_lines(lines)
    assert cleaned.date == _iso(number)
    assert 1 not in cleaned.kept  # the date line is a header fact, not article text


def _pdf_first_page(spelling: str, number: int) -> None:
    for form in _written(spelling):
        assert find_date(f"Oslo, {form} 5, 2020 (staff report)") == _iso(number), form
        assert find_date(f"Report of 5 {form} 2020, revised") == _iso(number), form
    # A word that only starts like a month is none ("Marching 5, 2020").
    assert find_date(f"{spelling.capitalize()}ing 5, 2020; filed 6 March 2020") == \
        "2020-03-06"


def _file_date_field(spelling: str, number: int) -> None:
    assert iso_date(f"{spelling.capitalize()} 5, 2020") == _iso(number)


def _html_timestamp(spelling: str, number: int) -> None:
    for form in _written(spelling):
        assert _TIME_WORD.match(form.rstrip(".")), form
    assert not _TIME_WORD.match(spelling + "x")


def _answer_date(spelling: str, number: int) -> None:
    """Capitalised names only ("may" is a verb); abbreviations with their stop only
    ("Jan" is a name too)."""
    question = "When did the council vote on the wall?"
    name = spelling.capitalize()
    written = name if spelling in FULL else name + "."

    def span(month: str) -> str:
        sentence = f"The council voted on the wall on {month} 5, 2020, after a storm."
        found = find_span(sentence, question, DATE)
        assert found is not None
        return sentence[found[0]:found[1]]

    assert span(written) == f"{written} 5, 2020"
    assert span(spelling) == "2020"
    if spelling not in FULL:
        assert span(name) == "2020"


def _answer_name(spelling: str, number: int) -> None:
    """A month's full name before a name is a date, not part of the name; an
    abbreviation may be a first name ("Jan Smith")."""
    sentence = f"Then {spelling.capitalize()} Ali Shamkhani resigned from the council."
    found = find_span(sentence, "Who resigned from the council?", NAME)
    assert found is not None
    expected = "Ali Shamkhani" if spelling in FULL else f"{spelling.capitalize()} Ali Shamkhani"
    assert sentence[found[0]:found[1]] == expected


def _sentence_end(spelling: str, number: int) -> None:
    """"Jan. 5" goes on; "in May. 5 more" starts a new sentence."""
    text = f"The wall was rebuilt in {spelling.capitalize()}. 5 more walls followed."
    assert len(sentence_spans(text)) == (2 if spelling in FULL else 1)


CONSUMERS: dict[str, Callable[[str, int], None]] = {
    "date lines": _date_lines,
    "text reader": _text_reader,
    "pdf first page": _pdf_first_page,
    "file date field": _file_date_field,
    "html timestamp": _html_timestamp,
    "answer date": _answer_date,
    "answer name": _answer_name,
    "sentence end": _sentence_end,
}


@pytest.mark.parametrize("consumer", sorted(CONSUMERS))
@pytest.mark.parametrize("spelling", sorted(MONTHS))
def test_every_month_spelling_in_every_consumer(spelling: str, consumer: str) -> None:
    CONSUMERS[consumer](spelling, MONTHS[spelling])


@pytest.mark.parametrize("day", sorted(WEEKDAYS))
def test_every_weekday_spelling(day: str) -> None:
    full = len(day) > 3
    line = f"{day.capitalize()}, March 5, 2020"
    assert parse_date(line) == ("2020-03-05" if full else None)  # date lines spell it out
    assert bool(_TIME_WORD.match(day)) is not full  # timestamps abbreviate it
    sentence = f"The council voted on {day.capitalize()}, March 5, 2020, after a storm."
    found = find_span(sentence, "When did the council vote?", DATE)
    assert found is not None
    assert sentence[found[0]:found[1]].startswith(day.capitalize() + ",") is full


def test_months_are_spelled_out_in_one_module() -> None:
    spelled = sorted(path.relative_to(SRC).as_posix() for path in SRC.rglob("*.py")
                     if re.search(r"january|february", path.read_text(encoding="utf-8"),
                                  re.I))
    assert spelled == ["dates.py"]


def test_a_pattern_keeps_its_case_rule_under_any_flags() -> None:
    capitalised = re.compile(month_pattern(capitalised=True, dotted=True), re.I)
    assert capitalised.fullmatch("March") and capitalised.fullmatch("Sept.")
    assert not capitalised.fullmatch("march") and not capitalised.fullmatch("Sept")
    assert re.compile(month_pattern()).fullmatch("SEPT")
    assert not re.compile(month_pattern()).match("Mayor")


def test_answers_see_every_dotted_abbreviation_and_no_month_inside_a_word() -> None:
    question = "When was the harbour wall finished?"
    for sentence, expected in [
        ("The harbour wall was finished on Mar. 3, 2021 by the council.", "Mar. 3, 2021"),
        ("Mayor Ann Lee said the harbour wall was finished in 2021.", "2021"),
    ]:
        found = find_span(sentence, question, DATE)
        assert found is not None and sentence[found[0]:found[1]] == expected


def test_pdf_date_stamps() -> None:
    assert pdf_date("D:20200105093000+02'00'") == "2020-01-05"
    assert pdf_date("20200105") == "2020-01-05"
    assert pdf_date("D:19850105") is None  # older than PDF dates are plausible
    assert pdf_date("D:29990105") is None  # in the future
    assert pdf_date("D:20201399") is None and pdf_date("") is None


def test_file_date_fields() -> None:
    assert iso_date("2021-03-06T10:00:00Z") == "2021-03-06"
    assert iso_date(" 6 March 2021 ") == "2021-03-06"
    assert iso_date(None) is None and iso_date("soon") is None


def test_date_bounds_cover_their_period() -> None:
    assert date_bound("2024", "date_from") == "2024-01-01"
    assert date_bound("2024", "date_to", last=True) == "2024-12-31"
    assert date_bound("2024-02", "date_to", last=True) == "2024-02-29"
    assert date_bound("2024-02-10", "date_to", last=True) == "2024-02-10"
    assert date_bound(None, "date_from") is None and date_bound("", "date_from") is None
    for bad in ("March 2024", "2024-13", "2024-02-30", 2024):
        with pytest.raises(UsageError, match="date_to must be an ISO 8601 date"):
            date_bound(bad, "date_to")
