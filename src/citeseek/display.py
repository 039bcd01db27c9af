"""How results look in Jupyter: HTML result cards. All article text is escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .answer_result import Answer, AnswerSentence
    from .results import Hit

STYLE = """<style>
.cs-hits{font-family:system-ui,sans-serif;max-width:60em}
.cs-card{border:1px solid #ddd;border-radius:6px;padding:.6em .8em;margin:.5em 0}
.cs-head{display:flex;gap:.8em;align-items:baseline;flex-wrap:wrap}
.cs-rank{font-weight:700;color:#555}
.cs-bar{display:inline-block;width:6em;height:.6em;background:#eee;border-radius:3px}
.cs-bar>span{display:block;height:100%;background:#4a7bd0;border-radius:3px}
.cs-title{font-weight:600}
.cs-meta{color:#666;font-size:.85em}
.cs-text{margin-top:.4em;line-height:1.45;white-space:pre-wrap}
.cs-text mark{background:#ffe58a;color:inherit;padding:0 .1em}
.cs-text .cs-said{background:#dff3da;border-bottom:2px solid #5cb85c}
.cs-text .cs-span{font-weight:700}
.cs-score{font-variant-numeric:tabular-nums}
.cs-answer{font-size:1.05em;line-height:1.5;margin:.4em 0}
.cs-answer mark{background:#c8f0c0;padding:0 .15em;font-weight:600}
.cs-answer sup a,.cs-answer sup{color:#4a7bd0;text-decoration:none}
.cs-declined{color:#8a4b00}
</style>"""
_WORD = re.compile(r"\w+", re.UNICODE)
_QUESTION_WORDS = frozenset({"many", "much"})  # "how many": not a topic word


def _mark_terms(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is None:
        return html.escape(text)
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        out.append(f"<mark>{html.escape(m.group())}</mark>")
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _nest(text: str, start: int, end: int, spans: list[tuple[int, int, str]],
          pattern: re.Pattern[str] | None) -> str:
    out, pos = [], start
    spans = sorted(spans, key=lambda span: (span[0], -span[1]))
    while spans:
        a, b, css = spans.pop(0)
        a, b = max(a, pos), min(b, end)
        if a >= b:
            continue
        inner = [span for span in spans if span[0] < b]  # nested (clipped to this one)
        spans = [span for span in spans if span[0] >= b]
        out.append(_mark_terms(text[pos:a], pattern))
        out.append(f'<span class="{html.escape(css, quote=True)}">'
                   f"{_nest(text, a, b, inner, pattern)}</span>")
        pos = b
    out.append(_mark_terms(text[pos:end], pattern))
    return "".join(out)


def highlight(text: str, terms: Iterable[str],
              spans: Sequence[tuple[int, int, str]] = ()) -> str:
    """Escape ``text``, wrap whole-word matches of ``terms`` in <mark>, and wrap each
    ``(start, end, css_class)`` span (offsets into ``text``) in a classed <span>; a span
    starting inside another is nested in it."""
    words = sorted({t.lower() for t in terms if len(t) > 2}, key=len, reverse=True)
    pattern = (re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\w*", re.I)
               if words else None)
    return _nest(text, 0, len(text), list(spans), pattern)


def query_terms(query: str) -> list[str]:
    """The query's words worth highlighting: no stopwords, no "how many/much"."""
    from .store import STOPWORDS

    return [w for w in _WORD.findall(query)
            if w.lower() not in STOPWORDS and w.lower() not in _QUESTION_WORDS]


def render_hit(hit: Hit, *, top_score: float, terms: Sequence[str],
               spans: Sequence[tuple[int, int, str]] = (), label: str | None = None) -> str:
    """One result card: rank (or ``label``), score bar, title, date, source with lines,
    and the passage with ``terms`` and ``spans`` (document offsets) highlighted."""
    width = 100.0 * max(0.0, hit.score) / top_score if top_score > 0 else 0.0
    lines = (f"line {hit.line_start}" if hit.line_start == hit.line_end
             else f"lines {hit.line_start}–{hit.line_end}")
    title = html.escape(hit.title or hit.doc_id)
    date = f" · {html.escape(hit.date)}" if hit.date else ""
    local = [(a - hit.start, b - hit.start, c) for a, b, c in spans]
    return (
        f'<div class="cs-card" data-doc-id="{html.escape(hit.doc_id, quote=True)}" '
        f'data-start="{hit.start}" data-end="{hit.end}">'
        f'<div class="cs-head"><span class="cs-rank">{label or f"#{hit.rank}"}</span>'
        f'<span class="cs-bar" title="score {hit.score:.4f}"><span style="width:{width:.0f}%">'
        f'</span></span><span class="cs-meta cs-score">{hit.score:.3f}</span>'
        f'<span class="cs-title">{title}</span><span class="cs-meta">{date}</span></div>'
        f'<div class="cs-meta cs-source">{html.escape(hit.source)} · {lines} · chars '
        f'{hit.start}–{hit.end}</div>'
        f'<div class="cs-text">{highlight(hit.text, terms, local)}</div></div>'
    )


def render_hits(hits: Sequence[Hit], *, query: str = "") -> str:
    """Result cards for a list of hits."""
    if not hits:
        return f"<div class='cs-hits'><em>No passages match {html.escape(query)!s}.</em></div>"
    top = max(h.score for h in hits)
    terms = query_terms(query)
    cards = "".join(render_hit(h, top_score=top, terms=terms) for h in hits)
    head = f"<div class='cs-meta'>{len(hits)} passages for <b>{html.escape(query)}</b></div>" \
        if query else ""
    return f"{STYLE}<div class='cs-hits'>{head}{cards}</div>"


def _sentence_html(sentence: AnswerSentence, anchor: str) -> str:
    text, start = sentence.text, sentence.start
    if sentence.span_start is not None and sentence.span_end is not None:
        a, b = sentence.span_start - start, sentence.span_end - start
        body = (f"{html.escape(text[:a])}<mark>{html.escape(text[a:b])}</mark>"
                f"{html.escape(text[b:])}")
    else:
        body = html.escape(text)
    n = sentence.citation
    return (f'<span data-doc-id="{html.escape(sentence.doc_id, quote=True)}" '
            f'data-start="{sentence.start}" data-end="{sentence.end}">{body}</span>'
            f'<sup><a href="#{anchor}-{n}">[{n}]</a></sup>')


def render_answer(answer: Answer) -> str:
    """The answer with its span marked and [n] links, then the cited passages as cards."""
    question = f"<div class='cs-meta'>Q: <b>{html.escape(answer.question)}</b></div>"
    if answer.answer is None:
        message = html.escape(answer.message or "No answer.")
        return (f"{STYLE}<div class='cs-hits'>{question}"
                f"<div class='cs-answer cs-declined'>{message}</div></div>")
    anchor = f"cs-{id(answer):x}"
    if answer.generated:
        body = html.escape(answer.answer)
        evidence = " ".join(_sentence_html(s, anchor) for s in answer.sentences)
        body += f"<div class='cs-meta'>Evidence: {evidence}</div>" if evidence else ""
    else:
        body = " ".join(_sentence_html(s, anchor) for s in answer.sentences)
    flag = "" if answer.confident else " <span class='cs-meta'>(not confident)</span>"
    dropped = ""
    if answer.dropped_citations:
        dropped = ("<div class='cs-meta'>Removed citations to no passage: "
                   + ", ".join(f"[{n}]" for n in answer.dropped_citations) + "</div>")
    terms = query_terms(answer.question)
    top = max((h.score for h in answer.citations), default=0.0)
    cards = []
    for n in answer.cited():
        hit = answer.citations[n - 1]
        spans = [(s.start, s.end, "cs-said") for s in answer.sentences if s.citation == n]
        spans += [(s.span_start, s.span_end, "cs-span") for s in answer.sentences
                  if s.citation == n and s.span_start is not None and s.span_end is not None]
        cards.append(f'<div id="{anchor}-{n}">' + render_hit(
            hit, top_score=top, terms=terms, spans=spans, label=f"[{n}]") + "</div>")
    return (f"{STYLE}<div class='cs-hits'>{question}<div class='cs-answer'>{body}{flag}"
            f"</div>{dropped}<div class='cs-meta'>Sources</div>{''.join(cards)}</div>")
