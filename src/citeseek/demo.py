"""The bundled sample articles and the questions the demo asks about them: five scraped
news articles as text (``data/sample``), and the same story of a harbour wall as a
two-column PDF and a web page (``data/formats``), so that every kind of citation shows."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SAMPLE_QUESTIONS = [
    "How many protesters were killed in November 2019?",
    "Which foundation did the US Treasury sanction?",
    "Who was arrested for the bomb plot against the NCRI rally?",
    "How many political prisoners were killed in the 1988 massacre?",
    "How many stones were lifted and set again at Port Ellen?",  # the PDF: "p. 1"
    "What was the largest movement the inspectors found in the harbour wall?",  # HTML
    "Who won the 2018 FIFA World Cup?",  # not in the articles: the answer is declined
]


def sample_dir() -> Path:
    """The folder of sample articles shipped inside the package."""
    return Path(str(files("citeseek") / "data" / "sample"))


def sample_formats_dir() -> Path:
    """The PDF and HTML sample articles shipped inside the package."""
    return Path(str(files("citeseek") / "data" / "formats"))


def sample_eval_dir() -> Path:
    """The judged questions about the sample articles, a BEIR-layout folder."""
    return Path(str(files("citeseek") / "data" / "sample_eval"))
