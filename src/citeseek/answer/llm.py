"""A language model behind an OpenAI-compatible chat endpoint writes the answer.

Any server that speaks the chat-completions protocol works: ollama, llama.cpp's server,
vLLM, LM Studio, or a hosted API. The prompt numbers the retrieved passages and asks for
``[n]`` citations; the reply is streamed (``on_text`` gets each piece as it arrives). The
official ``openai`` client does the HTTP: its bounded retries with exponential backoff
(honouring ``Retry-After``) cover refused connections, timeouts, 429 and 5xx replies.
Every failure becomes an ``LLMError`` whose message says why, so the caller can fall
back to the extractive answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import LLMError, UsageError
from ..search.hits import Hit

KEY_VARIABLES = ("CITESEEK_LLM_API_KEY", "OPENAI_API_KEY")  # read in this order
SYSTEM_PROMPT = (
    "You answer questions from the numbered passages you are given, and from nothing "
    "else. After every sentence, cite the passage or passages it comes from by number in "
    "square brackets, like [1] or [2, 3]. If the passages do not answer the question, "
    "say so in one sentence. Answer in at most four sentences.")
OnText = Callable[[str], None]


@dataclass(frozen=True)
class LLM:
    """An OpenAI-compatible chat endpoint: ``url`` is its base (``.../v1``), ``model``
    the model's name there. ``api_key`` defaults to ``$CITESEEK_LLM_API_KEY``, then
    ``$OPENAI_API_KEY`` (local servers need none). ``max_retries`` bounds the retries of
    refused connections, timeouts, 429 and 5xx replies (with exponential backoff)."""

    url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0
    max_retries: int = 2
    temperature: float = 0.0
    max_tokens: int = 512
    stream: bool = True

    def key(self) -> str:
        if self.api_key:
            return self.api_key
        for name in KEY_VARIABLES:
            if os.environ.get(name):
                return os.environ[name]
        return "no-key"  # the client insists on one; local servers ignore it


def as_llm(llm: LLM | str | None, model: str | None = None) -> LLM | None:
    """``llm`` as an ``LLM``: a URL string needs ``model`` (``llm_model=``)."""
    if llm is None or isinstance(llm, LLM):
        if model is not None:
            raise UsageError("llm_model goes with llm given as the endpoint's URL")
        return llm
    if not isinstance(llm, str) or not llm.startswith(("http://", "https://")):
        raise UsageError(f"llm must be an http(s) URL or an LLM, not {llm!r}")
    if not model:
        raise UsageError("an llm URL needs the model's name (llm_model=, --llm-model)")
    return LLM(url=llm, model=model)


def prompt(question: str, passages: Mapping[int, Hit]) -> list[dict[str, str]]:
    """The chat messages: the numbered passages (with title and date), the question."""
    blocks = []
    for n, hit in passages.items():
        head = " · ".join(x for x in (hit.title, hit.date) if x)
        blocks.append(f"[{n}]{f' ({head})' if head else ''}\n{hit.text.strip()}")
    user = ("Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}\n"
            "Answer, citing passages as [n]:")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def _reason(exc: Exception, llm: LLM) -> str:
    """A sentence a user can act on, for each way a call fails."""
    import openai

    where = llm.url
    tries = f"after {llm.max_retries + 1} attempts" if llm.max_retries else ""
    if isinstance(exc, openai.APITimeoutError):
        return f"{where} did not answer within {llm.timeout:g} s {tries}".strip()
    if isinstance(exc, openai.APIConnectionError):
        return f"cannot connect to {where} ({exc.__cause__ or exc}) {tries}".strip()
    if isinstance(exc, openai.AuthenticationError):
        return (f"{where} refused the API key (401); set {KEY_VARIABLES[0]} or "
                f"{KEY_VARIABLES[1]}")
    if isinstance(exc, openai.RateLimitError):
        return f"{where} is rate limiting (429) {tries}".strip()
    if isinstance(exc, openai.NotFoundError):
        return f"{where} has no such endpoint or model {llm.model!r} (404)"
    if isinstance(exc, openai.APIStatusError):
        return f"{where} answered HTTP {exc.status_code}: {_short(exc.message)}"
    return f"{where} sent a malformed reply ({type(exc).__name__}: {_short(str(exc))})"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def complete(llm: LLM, question: str, passages: Mapping[int, Hit],
             on_text: OnText | None = None) -> str:
    """The model's answer to ``question`` from ``passages``; ``on_text`` receives the
    reply piece by piece as it streams. Raises ``LLMError`` saying why on any failure,
    an empty reply included."""
    try:
        import openai
    except ImportError as exc:  # the llm extra is not installed
        raise UsageError("LLM answers need the openai client: pip install "
                         "'citeseek[llm]'") from exc
    client = openai.OpenAI(base_url=llm.url, api_key=llm.key(), timeout=llm.timeout,
                           max_retries=llm.max_retries)
    messages: Any = prompt(question, passages)
    try:
        if llm.stream:
            text = _streamed(client, llm, messages, on_text)
        else:
            reply = client.chat.completions.create(
                model=llm.model, messages=messages, temperature=llm.temperature,
                max_tokens=llm.max_tokens)
            text = reply.choices[0].message.content or ""
            if on_text is not None and text:
                on_text(text)
    except (openai.OpenAIError, ValueError, KeyError, TypeError, AttributeError,
            IndexError) as exc:
        raise LLMError(_reason(exc, llm)) from exc
    finally:
        client.close()
    if not text.strip():
        raise LLMError(f"{llm.url} sent an empty reply")
    return text


def _streamed(client: Any, llm: LLM, messages: Any, on_text: OnText | None) -> str:
    pieces: list[str] = []
    stream = client.chat.completions.create(
        model=llm.model, messages=messages, temperature=llm.temperature,
        max_tokens=llm.max_tokens, stream=True)
    with stream:
        for chunk in stream:
            if not chunk.choices:  # e.g. a closing usage chunk
                continue
            piece = chunk.choices[0].delta.content
            if piece:
                pieces.append(piece)
                if on_text is not None:
                    on_text(piece)
    return "".join(pieces)


def notebook_stream() -> OnText:
    """A callback that shows the reply growing in a Jupyter cell's output. Whether the
    code runs in a kernel is the caller's to know (``Collection.ask`` streams here when
    it does and no ``on_text`` was given)."""
    import html

    from IPython import display as ipython_display

    shown: list[str] = []
    kit: Any = ipython_display  # its functions carry no annotations
    HTML, display = kit.HTML, kit.display  # noqa: N806 - IPython's names
    handle = display(HTML("<div class='cs-meta'>The model is writing…</div>"),
                     display_id=True)

    def update(piece: str) -> None:
        shown.append(piece)
        if handle is not None:
            handle.update(HTML("<div class='cs-answer' style='white-space:pre-wrap'>"
                               + html.escape("".join(shown)) + "</div>"))

    return update


def reply(llm: LLM, messages: list[dict[str, str]], *, max_tokens: int | None = None) -> str:
    """One whole (not streamed) reply of ``llm`` to ``messages``, as for a ranking the
    caller parses itself. Raises ``LLMError`` saying why on any failure, an empty reply
    included."""
    try:
        import openai
    except ImportError as exc:  # the llm extra is not installed
        raise UsageError("LLM calls need the openai client: pip install "
                         "'citeseek[llm]'") from exc
    client = openai.OpenAI(base_url=llm.url, api_key=llm.key(), timeout=llm.timeout,
                           max_retries=llm.max_retries)
    try:
        answer = client.chat.completions.create(
            model=llm.model, messages=messages, temperature=llm.temperature,  # type: ignore[arg-type]
            max_tokens=max_tokens or llm.max_tokens)
        text = answer.choices[0].message.content or ""
    except (openai.OpenAIError, ValueError, KeyError, TypeError, AttributeError,
            IndexError) as exc:
        raise LLMError(_reason(exc, llm)) from exc
    finally:
        client.close()
    if not text.strip():
        raise LLMError(f"{llm.url} sent an empty reply")
    return text
