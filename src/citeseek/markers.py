"""Citation markers in a written answer: "[3]", "[1, 2]", "[1; 4]", ranges "[1-3]" and
"[1–3]", and the full-width "【1】" after a sentence name the numbered passages it cites.
An LLM's answer is read by them: markers that name no passage are dropped, and each
claim is checked against the passages it cites. A number too long to name a passage
(more than ``MAX_DIGITS`` digits) names none; a range names at most ``MAX_RANGE``."""

from __future__ import annotations

import re

MAX_DIGITS = 6  # no answer cites a millionth passage
MAX_RANGE = 50  # "[1-3]" is 1, 2, 3; a longer range is read as its two ends

_NUMBER = r"\d+(?:\s*[-–]\s*\d+)?"
# A marker (with the space before it): the numbered passages a sentence cites.
CITATION_MARKER = re.compile(
    rf"\s?(?:\[({_NUMBER}(?:\s*[,;]\s*{_NUMBER})*)\]|【({_NUMBER}(?:\s*[,;、，]\s*{_NUMBER})*)】)")
_SEPARATOR = re.compile(r"\s*[,;、，]\s*")
_RANGE = re.compile(r"(\d+)\s*[-–]\s*(\d+)")


def _number(digits: str) -> int | None:
    return int(digits) if len(digits.lstrip("0") or "0") <= MAX_DIGITS else None


def cited_numbers(marker: re.Match[str]) -> list[int]:
    """The passage numbers of one ``CITATION_MARKER`` match, in order (a range
    expanded; numbers too long to name a passage left out)."""
    numbers: list[int] = []
    for item in _SEPARATOR.split(marker.group(1) or marker.group(2)):
        span = _RANGE.fullmatch(item)
        if span is None:
            found = _number(item)
            numbers.extend([] if found is None else [found])
            continue
        first, last = _number(span[1]), _number(span[2])
        if first is None or last is None:
            numbers.extend(n for n in (first, last) if n is not None)
        elif first <= last and last - first < MAX_RANGE:
            numbers.extend(range(first, last + 1))
        else:
            numbers.extend([first, last])
    return numbers
