"""``citeseek mcp``: one collection as tools for AI agents over the Model Context
Protocol, on the official SDK (the ``mcp`` extra), over stdio (the default: an assistant
starts it) or streamable HTTP.

Tools, all read-only: ``search`` (ranked passages), ``ask`` (a cited answer, or a
declined one), ``show`` (a passage's document lines around its citation) and ``docs``
(the documents). Each result is readable text and structured output with the full
citation of every passage (doc_id, source, lines, pages and their printed labels,
characters); the filters are the command line's, and so are the errors (a result
marked as an error: "UsageError: ..."). Documents are resources too:
``citeseek://documents`` lists them, ``citeseek://documents/{doc_id}`` is one's text.
Each call runs on one pinned generation, so a rebuild is picked up by the next call.
"""

# No ``from __future__ import annotations``: the SDK reads the tools' annotations at run
# time to make their input and output schemas.
import os
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from ..collection import Collection
from ..embed.base import Embedder
from ..errors import CiteseekError
from ..places import place
from ..search.filters import Filters
from ..search.hits import Hit
from ..server.holder import CollectionHolder, Unavailable
from ..server.schemas import AnswerBody, DocumentListing

Mode = Literal["hybrid", "dense", "keyword"]
MAX_SHOWN_LINES = 400  # a document shown whole stops here; a range shows any part
INSTRUCTIONS = (
    "Search and cite an article collection. `search` ranks passages, `ask` answers with "
    "cited sentences (or declines when the passages do not answer), `show` gives the "
    "document lines around a citation (doc_id, start, end from a search result), `docs` "
    "lists the documents. Cite passages by their source, pages and lines.")
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False,
                            idempotent_hint=True, open_world_hint=False)


class SearchOutput(BaseModel):
    """The passages for ``query``, best first, each with its full citation."""

    query: str
    mode: str
    generation: str = Field(description="the collection's generation that answered")
    hits: list[Hit]


class AskOutput(AnswerBody):
    generation: str = Field(description="the collection's generation that answered")


class ShownLine(BaseModel):
    line: int = Field(description="the source file's line (within the page for a PDF)")
    page: int | None = Field(None, description="PDF page (1-based)")
    page_label: str | None = Field(None, description="the number printed on that page")
    text: str
    cited: bool = Field(description="whether the line holds part of the citation")


class ShowOutput(BaseModel):
    """A document's lines around a citation (or from its start, without one)."""

    doc_id: str
    title: str | None
    source: str
    start: int | None
    end: int | None
    where: str | None = Field(description="the citation's pages and lines in words")
    cited_text: str | None = Field(description="document.text[start:end]")
    lines: list[ShownLine]
    more_lines: int = Field(0, description="lines left out after these")
    generation: str


class DocsOutput(BaseModel):
    documents: list[DocumentListing]
    generation: str


def _text(text: str) -> list[ContentBlock]:
    return [TextContent(type="text", text=text)]


def _failed(exc: Exception) -> CallToolResult:
    """A refused call, as the command line reports it."""
    kind = exc.kind if isinstance(exc, Unavailable) else type(exc).__name__
    return CallToolResult(content=_text(f"{kind}: {exc}"), is_error=True,
                          structured_content={"error": str(exc), "type": kind})


def _filters(col: Collection, source: list[str] | None, date_from: str | None,
             date_to: str | None, doc_id: list[str] | None) -> dict[str, Any]:
    return Filters.from_request(source=source, date_from=date_from, date_to=date_to,
                                doc_id=doc_id, resolve=col.resolve_doc_id).options()


def _hit_text(hit: Hit) -> str:
    return f"{hit}\n    (doc_id {hit.doc_id!r}, start {hit.start}, end {hit.end})"


def _touches(a: int, b: int, start: int, end: int) -> bool:
    """Whether line ``[a, b)`` shows part of ``[start, end)`` (as ``DocumentView``)."""
    if start == end:
        return a <= start <= b
    return (a < end and start < b) or (a == b and start <= a < end)


def _show(col: Collection, doc_id: str, start: int | None, end: int | None,
          context: int) -> tuple[ShowOutput, str]:
    """The lines around ``start``-``end`` of a document, and them as text."""
    doc = col.document(col.resolve_doc_id(doc_id))
    view = doc.view(start, end, context=context)
    rows = view.lines()
    lines = [ShownLine(line=line, page=doc.pages_for(a, a + 1)[0],
                       page_label=doc.labels_for(a, a + 1)[0], text=text,
                       cited=start is not None and end is not None and
                       _touches(a, b, start, end))
             for line, a, b, text in rows[:MAX_SHOWN_LINES]]
    where = None
    if start is not None and end is not None:
        label, label_end = doc.labels_for(start, end)
        where = place(*doc.pages_for(start, end), *doc.lines_for(start, end),
                      label=label, label_end=label_end) + f", chars {start}-{end}"
    out = ShowOutput(doc_id=doc.doc_id, title=doc.title, source=doc.source, start=start,
                     end=end, where=where, cited_text=view.text if where else None,
                     lines=lines, more_lines=len(rows) - len(lines), generation="")
    text = str(view)
    if out.more_lines:
        text = "\n".join(text.splitlines()[:MAX_SHOWN_LINES + 1]) + \
            f"\n… {out.more_lines} more lines: give start and end to see any part"
    if where:
        text = f"{where}\n{text}"
    return out, text


def create_server(store: str | os.PathLike[str] | CollectionHolder, *,
                  model: str | Embedder | None = None) -> MCPServer:
    """The MCP server over the collection at ``store`` (opened on first use)."""
    holder = store if isinstance(store, CollectionHolder) else CollectionHolder(store,
                                                                                model=model)
    from importlib.metadata import version

    server = MCPServer("citeseek", instructions=INSTRUCTIONS, version=version("citeseek"),
                       log_level="WARNING")

    def run(action: Callable[[Collection], Any]) -> tuple[str, Any]:
        return holder.run(action)

    Query = Annotated[str, Field(min_length=1, description="what to look for")]
    K = Annotated[int, Field(ge=1, le=100, description="how many passages")]
    Sources = Annotated[list[str] | None, Field(description="only sources matching these "
                                                "globs (path or doc id)")]
    DateFrom = Annotated[str | None, Field(description="ISO date, inclusive")]
    DateTo = Annotated[str | None, Field(description="ISO date, inclusive")]
    DocIds = Annotated[list[str] | None, Field(description="only these documents (ids or "
                                               "the start of one)")]

    @server.tool(annotations=READ_ONLY)
    def search(query: Query, k: K = 5, mode: Mode = "hybrid", source: Sources = None,
               date_from: DateFrom = None, date_to: DateTo = None, doc_id: DocIds = None,
               per_doc: Annotated[int | None, Field(ge=1)] = None,
               ) -> Annotated[CallToolResult, SearchOutput]:
        """Rank passages of the collection for a query; each comes with its citation
        (source, pages, lines, characters) and its doc_id, start and end for `show`."""
        try:
            generation, hits = run(lambda col: col.search(
                query, k=k, mode=mode, per_doc=per_doc,
                **_filters(col, source, date_from, date_to, doc_id)))
        except (CiteseekError, Unavailable) as exc:
            return _failed(exc)
        out = SearchOutput(query=query, mode=mode, generation=generation, hits=list(hits))
        text = "\n\n".join(_hit_text(h) for h in hits) if hits else str(hits)
        return CallToolResult(content=_text(text),
                              structured_content=out.model_dump(mode="json"))

    @server.tool(annotations=READ_ONLY)
    def ask(question: Annotated[str, Field(min_length=1, description="the question")],
            k: K = 5, mode: Mode = "hybrid", source: Sources = None,
            date_from: DateFrom = None, date_to: DateTo = None, doc_id: DocIds = None,
            ) -> Annotated[CallToolResult, AskOutput]:
        """Answer a question with sentences quoted from the collection, each cited by
        its passage number; `answer` is null (with a message) when the passages do not
        answer it."""
        try:
            generation, answer = run(lambda col: col.ask(
                question, k=k, mode=mode, **_filters(col, source, date_from, date_to,
                                                     doc_id)))
        except (CiteseekError, Unavailable) as exc:
            return _failed(exc)
        data = {**answer.to_dict(), "generation": generation}
        return CallToolResult(content=_text(str(answer)),
                              structured_content=AskOutput.model_validate(data).model_dump(
                                  mode="json"))

    @server.tool(annotations=READ_ONLY)
    def show(doc_id: Annotated[str, Field(min_length=1, description="a document id or "
                                          "the start of one")],
             start: Annotated[int | None, Field(ge=0, description="the citation's first "
                                                "character (from a search result)")] = None,
             end: Annotated[int | None, Field(ge=0, description="the character after its "
                                              "last")] = None,
             context: Annotated[int, Field(ge=0, le=50, description="lines shown either "
                                           "side")] = 2,
             ) -> Annotated[CallToolResult, ShowOutput]:
        """A document's lines around a citation, the cited characters marked, with the
        source file's line numbers and PDF pages; without start and end, the document
        from its first line."""
        try:
            generation, (out, text) = run(lambda col: _show(col, doc_id, start, end,
                                                            context))
        except (CiteseekError, Unavailable) as exc:
            return _failed(exc)
        out.generation = generation
        return CallToolResult(content=_text(text),
                              structured_content=out.model_dump(mode="json"))

    @server.tool(annotations=READ_ONLY)
    def docs() -> Annotated[CallToolResult, DocsOutput]:
        """List the collection's documents: id, date, passages, title, source."""
        try:
            generation, listed = run(lambda col: col.documents())
        except (CiteseekError, Unavailable) as exc:
            return _failed(exc)
        out = DocsOutput(documents=[DocumentListing.model_validate(d) for d in listed],
                         generation=generation)
        text = "\n".join(f"{d['doc_id']}  {d['date'] or '-'}  {d['chunks']} passages"
                         + (f"  {d['pages']} pages" if d.get("pages") else "")
                         + f"  {d['title'] or '(no title)'}  [{d['source']}]"
                         for d in listed)
        return CallToolResult(content=_text(text or "no documents"),
                              structured_content=out.model_dump(mode="json"))

    @server.resource("citeseek://documents", name="documents", mime_type="application/json",
                     description="every document: id, title, date, source, passages")
    def documents_resource() -> list[dict[str, Any]]:
        return list(run(lambda col: col.documents())[1])

    @server.resource("citeseek://documents/{+doc_id}", name="document",
                     mime_type="text/plain", description="a document's stored text: the "
                     "text citations' start and end index into")
    def document_resource(doc_id: str) -> str:
        return str(run(lambda col: col.document(col.resolve_doc_id(doc_id)).text)[1])

    return server


def serve_mcp(store: str | os.PathLike[str], *, transport: str = "stdio",
              host: str = "127.0.0.1", port: int = 8765,
              model: str | Embedder | None = None) -> None:
    """Serve the collection at ``store`` until the client goes (stdio) or until
    interrupted (``transport="http"``: streamable HTTP at ``http://HOST:PORT/mcp``; an
    address other than loopback needs ``CITESEEK_API_KEY``, which clients then send as
    ``Authorization: Bearer KEY``)."""
    from ..server.run import api_key
    from ..storage.layout import resolve_root

    resolve_root(store)  # a mistyped path fails here, before any client connects
    server = create_server(store, model=model)
    if transport == "stdio":
        server.run("stdio")
        return
    import uvicorn

    key = api_key(host)
    app: Any = server.streamable_http_app(host=host)
    if key is not None:
        app = _BearerGuard(app, key)
    uvicorn.run(app, host=host, port=port, log_level="warning")


class _BearerGuard:
    """An ASGI app that lets through only HTTP requests carrying the API key."""

    def __init__(self, app: Any, key: str) -> None:
        self.app, self.expected = app, f"Bearer {key}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        import hmac

        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = b'{"error": "a valid API key is required (Authorization: Bearer KEY)",' \
                       b' "type": "HTTPError"}'
                await send({"type": "http.response.start", "status": 401,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"www-authenticate", b"Bearer")]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
