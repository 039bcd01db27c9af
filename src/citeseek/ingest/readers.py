"""The readers, one a format: a file's text (or bytes) -> ``Document``s. Plain text and
Markdown are cleaned of scraped boilerplate line by line; HTML keeps the article's
blocks, placed on their source lines (``html``); PDF text comes in reading order, placed
on its pages and lines (``pdf``); JSONL holds one record a line. Each gives documents
and what it skipped (``Skipped``, with a reason); one bad JSONL line costs only itself.
Which reader reads which file is ``formats``' table."""

from __future__ import annotations

import json

from ..dates import iso_date
from ..document import Document, SourceMap
from .cleaning import clean_lines
from .decoding import Unreadable, decode, mixed_utf8, utf8_lines
from .html import extract_article
from .pdf import read_pdf
from .sources import Skipped, SourceFile

Read = tuple[list[Document], list[Skipped]]  # what a reader gives back


def text_of(data: bytes) -> str:
    """A file's bytes as text (``decoding.decode``); ``Unreadable`` when they cannot be
    decoded or hold only whitespace."""
    text = decode(data)
    if not text.strip():
        raise Unreadable("only whitespace")
    return text


def plain_documents(source: SourceFile, text: str, *, fmt: str) -> Read:
    """A plain-text or Markdown (``fmt``) article, its boilerplate lines dropped."""
    doc = _read_text(source, text, fmt)
    return ([doc], []) if doc else ([], [Skipped(source.key, "nothing left after removing "
                                                             "boilerplate")])


def html_documents(source: SourceFile, text: str) -> Read:
    """The article of an HTML page."""
    doc = _read_html(source, text)
    return ([doc], []) if doc else ([], [Skipped(source.key, "no main text found in the HTML")])


def pdf_documents(source: SourceFile, data: bytes) -> Read:
    """A PDF's text, and the pages it left out (each with its reason); ``Unreadable``
    says why there is no text."""
    doc, notes = _read_pdf(source, data)
    return [doc], [Skipped(source.key, note) for note in notes]


def jsonl_documents(source: SourceFile, data: bytes) -> Read:
    """One document a JSONL record. JSON is UTF-8: a file that is UTF-8 only in places
    is decoded line by line, so one bad line costs only itself."""
    if mixed_utf8(data):
        return _read_jsonl(source, utf8_lines(data))
    return _read_jsonl(source, text_of(data).split("\n"))


def _read_text(source: SourceFile, text: str, fmt: str) -> Document | None:
    lines = text.split("\n")
    cleaned = clean_lines(lines)
    out: list[str] = []
    line_map: list[int] = []
    prev: int | None = None
    for i in cleaned.kept:
        if not lines[i].strip():
            continue
        if prev is not None and i != prev + 1:
            out.append("")  # a paragraph break where blank or dropped lines were
            line_map.append(i)
        out.append(lines[i])
        line_map.append(i + 1)
        prev = i
    if not out:
        return None
    return Document(
        doc_id=source.doc_id, source=source.key, text="\n".join(out),
        title=cleaned.title, date=cleaned.date, format=fmt, line_map=line_map,
        file_key=source.key,
    )


def _read_html(source: SourceFile, raw: str) -> Document | None:
    article = extract_article(raw)
    if article is None:
        return None
    return Document(
        doc_id=source.doc_id, source=source.key, text=article.text,
        title=article.title, date=iso_date(article.date), url=article.url, format="html",
        file_key=source.key, source_map=SourceMap.from_characters(article.lines),
    )


def _read_pdf(source: SourceFile, data: bytes) -> tuple[Document, list[str]]:
    pdf = read_pdf(data)
    return Document(
        doc_id=source.doc_id, source=source.key, text=pdf.text, title=pdf.title,
        date=pdf.date, format="pdf", file_key=source.key,
        source_map=SourceMap(pdf.offsets, pdf.lines, pdf.pages, pdf.labels),
    ), pdf.notes


def _unpaired_surrogate(*values: object) -> bool:
    """True when a JSON string held an escape such as \\ud800 with no partner: no
    UTF-8 (SQLite, tokenizers) can carry it."""
    for value in values:
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def _read_jsonl(source: SourceFile,
                lines: list[str] | list[str | Unreadable]) -> Read:
    docs: list[Document] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for line_no, line in enumerate(lines, start=1):
        where = f"{source.key}:{line_no}"
        if isinstance(line, Unreadable):
            skipped.append(Skipped(where, str(line)))
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(Skipped(where, f"invalid JSON ({exc.msg})"))
            continue
        except RecursionError:
            skipped.append(Skipped(where, "invalid JSON (nested too deeply)"))
            continue
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            skipped.append(Skipped(where, f"invalid JSON ({str(exc)[:120]})"))
            continue
        if not isinstance(record, dict):
            skipped.append(Skipped(where, "a JSONL line must be an object"))
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            skipped.append(Skipped(where, "no 'text' field with text"))
            continue
        if _unpaired_surrogate(body, record.get("title"), record.get("_id"),
                               record.get("id"), record.get("url"), record.get("date")):
            skipped.append(Skipped(where, "a string holds an unpaired surrogate escape"))
            continue
        raw_id = record.get("_id", record.get("id"))
        doc_id = str(raw_id) if raw_id not in (None, "") else f"{source.doc_id}#{line_no}"
        if doc_id in seen:
            skipped.append(Skipped(where, f"duplicate id {doc_id!r}"))
            continue
        seen.add(doc_id)
        body = body.replace("\r\n", "\n").replace("\r", "\n")
        title = record.get("title")
        url = record.get("url")
        docs.append(
            Document(
                doc_id=doc_id, source=source.key, text=body,
                title=str(title).strip() or None if title else None,
                date=iso_date(record.get("date")), url=str(url) if url else None,
                format="jsonl", line_map=[line_no] * (body.count("\n") + 1),
                file_key=source.key,
            )
        )
    return docs, skipped
