"""The HTTP JSON API over one collection (FastAPI): search, ask, one document, the
document list, info and health. Every body is the ``--json`` output of the matching
command, made by the same ``to_dict`` code; errors are ``{"error", "type"}`` objects
like the command line's, with ``field`` naming the request field at fault.

Each request runs on one pinned generation (named in the ``X-Citeseek-Generation``
header), so a rebuild published mid-request never mixes two. With an API key, every
route but ``/health`` and the docs needs ``Authorization: Bearer KEY``.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route functions'
# annotations at run time, and some name objects local to ``create_app``.
import hmac
import json
import os
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException

from ..collection import Collection
from ..config import MODES
from ..embed.base import Embedder
from ..errors import CiteseekError, DocumentNotFound, UsageError
from ..search.filters import Filters
from ..search.hits import Hit
from ..search.retrieval import check_mode
from .holder import CollectionHolder, Unavailable
from .limits import Guard, ServerLimits, check_api_key
from .schemas import ERRORS, AnswerBody, DocumentBody, DocumentListing, HealthBody, InfoBody

GENERATION_HEADER = "X-Citeseek-Generation"
STATUS = {UsageError: 400, DocumentNotFound: 404}


class Body(JSONResponse):
    """JSON as the command line prints it (``ensure_ascii=False``, ``default=str``)."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, default=str)
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: as JSON's own \ud800 escape
            return json.dumps(content, default=str).encode("ascii")


def _error(status: int, message: str, kind: str, **extra: Any) -> Body:
    return Body({"error": message, "type": kind, **extra}, status_code=status)


class QueryFields(BaseModel):
    """The fields ``search`` and ``ask`` requests share, named as the command line's
    options (``source`` and ``doc_id`` repeat)."""

    model_config = ConfigDict(extra="forbid")
    k: int = Field(5, ge=1, description="how many passages")
    mode: str = Field("hybrid", json_schema_extra={"enum": list(MODES)})
    source: list[str] = Field([], description="only sources matching these globs")
    date_from: str | None = Field(None, description="ISO date, inclusive")
    date_to: str | None = Field(None, description="ISO date, inclusive")
    doc_id: list[str] = Field([], description="only these documents (ids or unique "
                              "prefixes)")

    @field_validator("mode")
    @classmethod
    def _known_mode(cls, mode: str) -> str:
        try:
            return check_mode(mode)
        except UsageError as exc:  # pydantic reports a ValueError as naming the field
            raise ValueError(str(exc)) from None

    def options(self, col: Collection) -> dict[str, Any]:
        """k, mode and the filters as ``Collection.search`` / ``ask`` take them, document
        ids resolved."""
        filters = Filters.from_request(source=self.source, date_from=self.date_from,
                                       date_to=self.date_to, doc_id=self.doc_id,
                                       resolve=col.resolve_doc_id)
        return {"k": self.k, "mode": self.mode, **filters.options()}


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("the text is empty")
    return text


class SearchRequest(QueryFields):
    query: str = Field(description="what to look for")
    per_doc: int | None = Field(None, ge=1, description="at most N passages per document")
    _query = field_validator("query")(_not_blank)


class AskRequest(QueryFields):
    question: str = Field(description="the question to answer")
    _question = field_validator("question")(_not_blank)


def create_app(store: str | os.PathLike[str] | CollectionHolder, *,
               api_key: str | None = None, model: str | Embedder | None = None,
               limits: ServerLimits | None = None,
               loopback_port: int | None = None) -> FastAPI:
    """The API over the collection at ``store`` (or held by a ``CollectionHolder``).
    ``api_key``: when set, requests must carry it as a bearer token (checked before the
    body is read). ``limits``: the body's size and time (``ServerLimits``' defaults).
    ``loopback_port``: answer only ``Host`` headers naming loopback and this port."""
    check_api_key(api_key)
    holder = store if isinstance(store, CollectionHolder) else CollectionHolder(store,
                                                                                model=model)
    # /docs and /redoc with their scripts from the fastapi-offline package, not a CDN.
    app = FastAPIOffline(title="citeseek", summary="Semantic search and cited answers "
                         "over an article collection. Bodies are the `--json` output of "
                         "the CLI.")
    app.state.holder = holder
    bearer = HTTPBearer(auto_error=False, description="the server's CITESEEK_API_KEY")

    def authorized(creds: Annotated[HTTPAuthorizationCredentials | None,
                                    Depends(bearer)]) -> None:
        if api_key is None:
            return
        given = creds.credentials if creds is not None else ""
        if not hmac.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(401, "a valid API key is required (Authorization: Bearer "
                                "KEY)", headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorized)]

    def answer(action: Callable[[Collection], Any]) -> Body:
        generation, data = holder.run(action)
        return Body(data, headers={GENERATION_HEADER: generation})

    def search(params: SearchRequest) -> Body:
        return answer(lambda col: col.search(params.query, per_doc=params.per_doc,
                                             **params.options(col)).to_dict())

    def ask(params: AskRequest) -> Body:
        return answer(lambda col: col.ask(params.question, **params.options(col)).to_dict())

    # Each route's body described (``schemas``); the routes return it as it is.
    hits: dict[str, Any] = {"response_model": list[Hit], "responses": ERRORS,
                            "response_class": Body,
                            "response_description": "the `citeseek search --json` list"}
    said: dict[str, Any] = {"response_model": AnswerBody, "responses": ERRORS,
                            "response_class": Body,
                            "response_description": "the `citeseek ask --json` object"}

    @app.get("/search", dependencies=guarded, **hits)
    def search_get(params: Annotated[SearchRequest, Query()]) -> Body:
        """Rank passages for `query` (`source` and `doc_id` may repeat)."""
        return search(params)

    @app.post("/search", dependencies=guarded, **hits)
    def search_post(params: SearchRequest) -> Body:
        """Rank passages for `query`, the request as a JSON object."""
        return search(params)

    @app.get("/ask", dependencies=guarded, **said)
    def ask_get(params: Annotated[AskRequest, Query()]) -> Body:
        """Answer `question` with cited sentences, or decline."""
        return ask(params)

    @app.post("/ask", dependencies=guarded, **said)
    def ask_post(params: AskRequest) -> Body:
        """Answer `question`, the request as a JSON object."""
        return ask(params)

    @app.get("/documents", dependencies=guarded, response_class=Body,
             response_model=list[DocumentListing], responses=ERRORS)
    def documents() -> Body:
        """Every document (the `citeseek docs --json` list)."""
        return answer(lambda col: col.documents())

    @app.get("/documents/{doc_id:path}", dependencies=guarded, response_class=Body,
             response_model=DocumentBody, responses=ERRORS)
    def document(doc_id: str) -> Body:
        """One document with its text (`citeseek show --json`); a unique prefix will do."""
        return answer(lambda col: col.document(col.resolve_doc_id(doc_id)).to_dict())

    @app.get("/info", dependencies=guarded, response_class=Body, response_model=InfoBody,
             responses=ERRORS)
    def info() -> Body:
        """The collection's manifest (`citeseek info --json`)."""
        return answer(lambda col: col.info())

    @app.get("/health", response_class=Body, response_model=HealthBody,
             responses={503: {"model": HealthBody, "description": "unavailable"}})
    def health() -> Body:
        """200 with the live generation, or 503 with why the collection cannot answer."""
        try:
            generation, _ = holder.run(lambda col: None)
        except Unavailable as exc:
            return Body({"status": "unavailable", "error": str(exc)}, status_code=503)
        return Body({"status": "ok", "generation": generation},
                    headers={GENERATION_HEADER: generation})

    _error_handlers(app)
    app.add_middleware(Guard, limits=limits or ServerLimits(), api_key=api_key,
                       port=loopback_port)
    return app


def _problem(error: Any) -> tuple[str, str]:
    """The field a validation error is about, and what is wrong: a body that is not
    JSON is about the body (pydantic's location is a byte offset there)."""
    loc: tuple[Any, ...] = tuple(error.get("loc") or ())
    if error.get("type") == "json_invalid":
        at = f" at byte {loc[-1]}" if len(loc) > 1 else ""
        return "body", f"not valid JSON{at} ({error.get('ctx', {}).get('error', 'invalid')})"
    return (str(loc[-1]) if len(loc) > 1 else "body"), str(error.get("msg"))


def _error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error", "type"}`` (plus ``field`` where one is at fault)."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Body:
        problems = [_problem(e) for e in exc.errors()]
        field, message = problems[0]
        return _error(422, "; ".join(f"{f}: {m}" for f, m in problems), "UsageError",
                      field=field)

    @app.exception_handler(CiteseekError)
    async def refused(request: Request, exc: CiteseekError) -> Body:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
        field = "doc_id" if isinstance(exc, DocumentNotFound) else getattr(exc, "field",
                                                                           None)
        return _error(status, str(exc), type(exc).__name__,
                      **({"field": field} if field else {}))

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable) -> Body:
        return _error(503, str(exc), exc.kind)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Body:
        return Body({"error": str(exc.detail), "type": "HTTPError"},
                    status_code=exc.status_code, headers=exc.headers)
