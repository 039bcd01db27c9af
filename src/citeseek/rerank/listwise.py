"""A listwise reranker through an OpenAI-compatible chat endpoint (the one ``ask
--llm`` writes with), as RankGPT does: the model is shown a window of numbered
passages and asked for their order; the window slides from the last candidates to the
first, so a good passage can climb the whole list.

The reply is parsed defensively. It must name every passage of the window exactly
once, as a JSON list (``[3, 1, 2]``) or in the ``[3] > [1] > [2]`` form; anything else
(no reply, an error, prose, a number outside the window, a repeat, a passage left out)
keeps that window in the order it had, and the reason is said in ``Reranked.note``
(``HitList.rerank_error`` and ``Answer.rerank_error`` for the caller). The score of a
reranked hit is 1 / its place in the final order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ..answer.llm import LLM, reply
from ..errors import LLMError, UsageError
from ..search.hits import Hit
from .base import Reranked

WINDOW = 10  # passages shown at once
STEP = 5  # how far the window moves
PASSAGE_CHARS = 700  # each passage cut to this many characters in the prompt
SYSTEM = ("You rank passages by how well they answer a question. Reply with the "
          "passage numbers only, most relevant first, as a JSON list such as [2, 1, 3]. "
          "Name every passage exactly once.")
_NUMBERS = re.compile(r"\d+")


def window_starts(n: int, window: int, step: int) -> list[int]:
    """Where each window begins, from the last candidates to the first."""
    if n <= window:
        return [0]
    starts = list(range(n - window, 0, -step))
    return [*starts, 0] if starts[-1] != 0 else starts


def messages(query: str, passages: Sequence[str]) -> list[dict[str, str]]:
    """The chat messages for one window: the numbered passages, then the question."""
    blocks = [f"[{i}] {' '.join(text.split())[:PASSAGE_CHARS]}"
              for i, text in enumerate(passages, start=1)]
    user = (f"Question: {query}\n\nPassages:\n" + "\n".join(blocks) +
            f"\n\nRank the {len(passages)} passages for the question: reply with a JSON "
            "list of their numbers, most relevant first.")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def parse_ranking(text: str, n: int) -> tuple[list[int] | None, str | None]:
    """The 0-based order a reply gives for ``n`` passages, or None and why not."""
    found: list[int] | None = None
    match = re.search(r"\[[\d\s,]*\]", text)
    if match and "," in match.group():
        try:
            items = json.loads(match.group())
        except ValueError:
            items = None
        if isinstance(items, list) and all(isinstance(i, int) for i in items):
            found = list(items)
    if found is None:  # "[3] > [1] > [2]", "3 > 1 > 2", one number a line
        found = [int(m) for m in _NUMBERS.findall(text)]
    if not found:
        return None, f"the reply holds no ranking ({_quote(text)})"
    outside = sorted({i for i in found if not 1 <= i <= n})
    if outside:
        return None, f"the reply names passage {outside[0]}, not one of 1-{n}"
    repeated = sorted({i for i in found if found.count(i) > 1})
    if repeated:
        return None, f"the reply names passage {repeated[0]} twice"
    missing = sorted(set(range(1, n + 1)) - set(found))
    if missing:
        return None, f"the reply leaves out passage(s) {', '.join(map(str, missing))}"
    return [i - 1 for i in found], None


def _quote(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "…")


class LLMReranker:
    """Listwise reranking by the chat model at ``llm``, ``window`` passages at a time,
    moved by ``step``."""

    def __init__(self, llm: LLM, *, window: int = WINDOW, step: int = STEP) -> None:
        if window < 2 or not 1 <= step < window:
            raise UsageError(f"the window must hold 2 or more passages and move by 1 to "
                             f"{window - 1}, not {window} and {step}")
        self.llm = llm
        self.name = f"llm:{llm.model}"
        self.window = window
        self.step = step

    def rerank(self, query: str, hits: Sequence[Hit]) -> Reranked:
        order = list(range(len(hits)))
        notes: list[str] = []
        for start in window_starts(len(hits), self.window, self.step):
            part = order[start:start + self.window]
            if len(part) < 2:
                continue
            where = f"passages {start + 1}-{start + len(part)}"
            try:
                text = reply(self.llm, messages(query, [hits[i].text for i in part]),
                             max_tokens=8 * len(part) + 16)
            except LLMError as exc:
                notes.append(f"{where}: {exc}")
                continue
            ranking, why = parse_ranking(text, len(part))
            if ranking is None:
                notes.append(f"{where}: {why}")
                continue
            order[start:start + len(part)] = [part[i] for i in ranking]
        scores = [0.0] * len(hits)
        for place, i in enumerate(order, start=1):
            scores[i] = 1.0 / place
        note = None
        if notes:
            note = "the fused order was kept for " + "; ".join(notes)
        return Reranked(order=order, scores=scores, note=note)
