"""The shapes of the API's response bodies, for ``/openapi.json`` (and the MCP tools'
structured output): each is the ``--json`` output of the matching command, as its
``to_dict`` code makes it. They describe, they do not filter: the routes return those
dicts as they are, and a field added to a ``to_dict`` is sent before it is described
here (each model allows extra fields)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..search.hits import Hit


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class AnswerSentenceBody(_Open):
    """One answer sentence: ``document.text[start:end] == text``, cited by number."""

    text: str
    citation: int = Field(description="its passage's number in `citations` (1-based)")
    doc_id: str
    start: int
    end: int
    score: float
    span: str | None = Field(None, description="the part that answers, if found")
    span_start: int | None = None
    span_end: int | None = None
    page_start: int | None = Field(None, description="PDF page (1-based)")
    page_end: int | None = None
    page_label: str | None = Field(None, description="the number printed on the page")
    page_label_end: str | None = None


class ClaimBody(_Open):
    """A written answer sentence and whether the passages it cites support it."""

    text: str
    citations: list[int]
    status: str
    similarity: float | None = None
    shared: float | None = None
    missing: list[str] = []


class AnswerBody(_Open):
    """The `citeseek ask --json` object; `answer` is null when it declines."""

    question: str
    answer: str | None
    confident: bool
    sentences: list[AnswerSentenceBody]
    citations: list[Hit] = Field(description="the passages, numbered from 1")
    message: str | None = None
    evidence: float = 0.0
    evidence_parts: dict[str, Any] = Field(
        default={}, description="what the evidence is made of: similarity, "
        "window_similarity, coverage, "
        "support, figure_missing, absent_names, asked, asked_support")
    generated: bool = False
    dropped_citations: list[int] = []
    short_answer: str | None = None
    claims: list[ClaimBody] = []
    llm_error: str | None = None


class DocumentBody(_Open):
    """One stored document (`citeseek show --json`): citations' offsets index `text`."""

    doc_id: str
    title: str | None
    date: str | None
    source: str
    url: str | None
    format: str
    text: str


class DocumentListing(_Open):
    """A document of `citeseek docs --json`, without its text."""

    doc_id: str
    title: str | None
    date: str | None
    source: str
    url: str | None
    chars: int
    chunks: int = Field(description="its passages")
    pages: int | None = Field(None, description="the last page its passages reach (PDF)")


class InfoBody(_Open):
    """`citeseek info --json`: the store, the live generation and its manifest."""

    store: str
    generation: str
    created: str
    model: dict[str, Any]
    settings: dict[str, Any]
    counts: dict[str, int]
    index: dict[str, Any]
    versions: dict[str, str]


class HealthBody(_Open):
    """`ok` with the live generation, or `unavailable` with why."""

    status: str
    generation: str | None = None
    error: str | None = None


class ErrorBody(_Open):
    """An error, as the command line's `--json` prints it."""

    error: str
    type: str = Field(description="the citeseek error's name, e.g. UsageError")
    field: str | None = Field(None, description="the request field at fault")


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": what} for status, what in (
        (400, "a request the collection cannot answer (an unknown filter value)"),
        (401, "the API key is missing or wrong"),
        (404, "no such document"),
        (422, "a request field is invalid"),
        (503, "the collection cannot be opened now"))}
