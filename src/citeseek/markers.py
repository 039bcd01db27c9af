"""Citation markers in a written answer: "[3]", "[1, 2]" or "[1; 4]" after a sentence
name the numbered passages it cites. An LLM's answer is read by them: markers that name
no passage are dropped, and each claim is checked against the passages it cites."""

from __future__ import annotations

import re

# "[3]", "[1, 2]" or "[1; 4]" in a written answer (with the space before it): the numbered
# passages a sentence cites.
CITATION_MARKER = re.compile(r"\s?\[(\d+(?:\s*[,;]\s*\d+)*)\]")


def cited_numbers(marker: re.Match[str]) -> list[int]:
    """The passage numbers of one ``CITATION_MARKER`` match, in order."""
    return [int(n) for n in re.split(r"\s*[,;]\s*", marker.group(1))]
