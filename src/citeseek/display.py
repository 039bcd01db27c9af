"""The Jupyter kit: whether the code runs in a kernel (``in_kernel``), and the HTML
every displayable type renders itself with there, the style sheets and highlighting
that escapes all article text. Cards for hits live with ``Hit`` (``search.hits``),
answers with ``Answer``, documents with ``Document``."""

from __future__ import annotations

import html
import re
import sys
from collections.abc import Iterable, Sequence

STYLE = """<style>
.cs-hits{font-family:system-ui,sans-serif;max-width:60em}
.cs-card{border:1px solid #ddd;border-radius:6px;padding:.6em .8em;margin:.5em 0;
  overflow-wrap:anywhere}
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
# Documents, collections and side-by-side comparisons.
VIEW_STYLE = """<style>
.cs-doc{font-family:system-ui,sans-serif;max-width:60em;overflow-wrap:anywhere}
.cs-lines{border:1px solid #ddd;border-radius:6px;max-height:32em;overflow:auto;
  margin-top:.4em;padding:.3em 0}
.cs-line{display:flex;gap:.8em;line-height:1.45}
.cs-ln{flex:0 0 3.5em;text-align:right;color:#999;font-variant-numeric:tabular-nums}
.cs-lt{white-space:pre-wrap;flex:1;min-width:0}
.cs-line.cs-cited .cs-ln{color:#2e7d32;font-weight:700}
.cs-lines .cs-said{background:#dff3da;border-bottom:2px solid #5cb85c}
.cs-cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(16em,1fr));gap:.8em;
  font-family:system-ui,sans-serif}
.cs-col{min-width:0}
.cs-col h4{margin:.2em 0}
.cs-gap{height:.6em}
.cs-table{border-collapse:collapse;font-size:.9em}
.cs-table td,.cs-table th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left;
  overflow-wrap:normal;vertical-align:top}
.cs-table th,.cs-table .cs-num,.cs-table .cs-date{white-space:nowrap}
.cs-table .cs-num{text-align:right}
.cs-table .cs-id{display:inline-block;max-width:16em;white-space:nowrap;overflow:hidden;
  text-overflow:ellipsis;vertical-align:top}
</style>"""


def in_kernel() -> bool:
    """True inside a Jupyter kernel (not a terminal IPython)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = getattr(ipython, "get_ipython", lambda: None)()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


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
