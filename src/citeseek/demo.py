"""The bundled sample articles and the questions the demo asks about them."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SAMPLE_QUESTIONS = [
    "How many protesters were killed in November 2019?",
    "Which foundation did the US Treasury sanction?",
    "Who was arrested for the bomb plot against the NCRI rally?",
    "How many political prisoners were killed in the 1988 massacre?",
    "Who won the 2018 FIFA World Cup?",  # not in the articles: the answer is declined
]


def sample_dir() -> Path:
    """The folder of sample articles shipped inside the package."""
    return Path(str(files("citeseek") / "data" / "sample"))


def sample_eval_dir() -> Path:
    """The judged questions about the sample articles, a BEIR-layout folder."""
    return Path(str(files("citeseek") / "data" / "sample_eval"))
