"""The command line's commands and options (argparse). Errors while parsing are
raised, not printed, so ``main`` reports them like any other usage error."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import NoReturn

from ..config import AUTO_BACKEND, BACKENDS, ENGINES, MODES
from .commands import (
    STORE_ENV,
    cmd_ask,
    cmd_check,
    cmd_demo,
    cmd_docs,
    cmd_eval,
    cmd_eval_qa,
    cmd_index,
    cmd_info,
    cmd_mcp,
    cmd_rollback,
    cmd_search,
    cmd_serve,
    cmd_show,
    cmd_watch,
)


class ArgumentError(Exception):
    """A usage error found while parsing arguments (argparse would exit on its own)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors ``main`` reports (as JSON too, with --json)."""

    def error(self, message: str) -> NoReturn:
        raise ArgumentError(self, message)


def make_parser() -> argparse.ArgumentParser:
    """The parser of every command and option (``tests/api/test_cli.py`` holds that the
    CLI guide, docs/cli.md, shows each)."""
    from importlib.metadata import version

    parser = _Parser(
        prog="citeseek", description="Semantic search with exact citations over articles.")
    parser.add_argument("--version", action="version", version=f"citeseek {version('citeseek')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
                store: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument("--json", action="store_true", help="print JSON (the stable contract)")
        if store:
            p.add_argument("--store", metavar="DIR", help="the collection folder (default: "
                           f"${STORE_ENV}, else the one collection in embeddings/)")
        return p

    def filters(p: argparse.ArgumentParser, what: str) -> None:
        p.add_argument("-k", type=int, default=5, help=f"{what} (default 5)")
        p.add_argument("--mode", choices=MODES, default="hybrid",
                       help="how passages are retrieved")
        p.add_argument("--source", action="append", metavar="GLOB", help="only these sources")
        p.add_argument("--date-from", metavar="YYYY-MM-DD")
        p.add_argument("--date-to", metavar="YYYY-MM-DD")
        p.add_argument("--doc-id", action="append", help="only these documents (an id or "
                       "the start of one)")
        p.add_argument("--server", metavar="URL", help="ask a running citeseek serve (e.g. "
                       "http://127.0.0.1:8000) instead of opening --store")
        p.add_argument("--model", help=argparse.SUPPRESS)

    p = command("index", cmd_index, "build or update a collection from articles")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="folders or files")
    p.add_argument("--model", help="sentence-transformers name or path, or 'static' for the "
                   "static tier (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--strict", action="store_true", help="fail if any file is skipped")
    p.add_argument("--follow-links", action="store_true", help="follow symbolic links that "
                   "lead out of a source folder (skipped with a reason otherwise)")
    p.add_argument("--chunk-tokens", type=int, help="passage size in model tokens")
    p.add_argument("--overlap-tokens", type=int, help="overlap between passages")
    p.add_argument("--no-title", action="store_true", help="embed passages without titles")
    p.add_argument("--index-type", help="FAISS factory string (e.g. HNSW32,Flat or "
                   "IVF1024,SQ8), or 'auto': exact below 10,000 passages, then HNSW, IVF "
                   "above 500,000")
    p.add_argument("--backend", choices=(AUTO_BACKEND, *BACKENDS), help="how the model "
                   "runs: auto (a new collection's default: onnx-int8-fused where the model "
                   "exports to ONNX, which needs the onnx extra once, else torch), torch, onnx "
                   "(torch's vectors), onnx-int8-fused or onnx-int8 (int8 weights: vectors of "
                   "their own, so the collection keeps it)")
    p.add_argument("--batch-size", type=int, help="embedding batch size")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="where files are parsed and embedded: here, or on a Ray cluster "
                   "(pip install 'citeseek[ray]')")
    p.add_argument("--address", metavar="ADDR", help="Ray cluster to use, e.g. auto or "
                   "ray://head:10001 (default: start a local one)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="Ray model actors (default: one per CPU of the cluster)")

    p = command("search", cmd_search, "rank passages for a query")
    p.add_argument("query")
    filters(p, "how many passages")
    p.add_argument("--per-doc", type=int, help="at most N passages per document")

    p = command("ask", cmd_ask, "answer a question with cited sentences, or decline")
    p.add_argument("question")
    filters(p, "passages to answer from")
    p.add_argument("--llm", metavar="URL", help="an OpenAI-compatible chat endpoint writes "
                   "the answer, e.g. http://localhost:11434/v1 (API key from "
                   "$CITESEEK_LLM_API_KEY or $OPENAI_API_KEY)")
    p.add_argument("--llm-model", metavar="NAME", help="the model's name at --llm")

    p = command("show", cmd_show, "print a stored document (an id or the start of one)")
    p.add_argument("doc_id")

    command("docs", cmd_docs, "list the documents: id, date, passages, title, source")

    p = command("serve", cmd_serve, "serve the collection as an HTTP JSON API (the serve "
                "extra); docs at /docs")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default "
                   "127.0.0.1; any other needs CITESEEK_API_KEY)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="one uvicorn process here, or replicas on Ray Serve (the ray extra)")
    p.add_argument("--replicas", type=int, metavar="N", help="Ray Serve replicas (default 1)")
    p.add_argument("--address", metavar="ADDR", help="Ray cluster to use (default: start "
                   "a local one)")
    p.add_argument("--max-body", type=int, metavar="BYTES", help="largest request body "
                   "taken (default 1048576; larger is a 413)")
    p.add_argument("--header-timeout", type=float, metavar="S", help="seconds a "
                   "connection has to send a request's headers (default 10)")
    p.add_argument("--body-timeout", type=float, metavar="S", help="seconds a request "
                   "has to send its whole body (default 30; later is a 408)")

    command("info", cmd_info, "describe a collection")

    command("check", cmd_check, "verify every generation on disk and say which are good "
            "(exit 1 when the live one is not)")

    p = command("rollback", cmd_rollback, "make the previous good generation live again")
    p.add_argument("--to", metavar="GEN", help="make this generation live instead (one "
                   "citeseek check lists as good, e.g. gen-000003)")

    p = command("mcp", cmd_mcp, "serve the collection to AI agents over the Model Context "
                "Protocol (the mcp extra): tools search, ask, show, docs")
    p.add_argument("--http", action="store_true", help="streamable HTTP at "
                   "http://HOST:PORT/mcp instead of stdio")
    p.add_argument("--host", help="with --http, the address to bind (default 127.0.0.1; "
                   "any other needs CITESEEK_API_KEY)")
    p.add_argument("--port", type=int, help="with --http, the port (default 8765)")

    p = command("watch", cmd_watch, "build a collection, then re-index it as its sources "
                "change (the watch extra); Ctrl-C stops")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="folders or files")
    p.add_argument("--model", help="sentence-transformers name or path (default: bundled "
                   "all-MiniLM-L6-v2)")
    p.add_argument("--debounce", type=float, default=1.0, metavar="SECONDS",
                   help="quiet time after a change before re-indexing (default 1.0)")
    p.add_argument("--strict", action="store_true", help="report a build with skipped "
                   "files as failed (the last good generation stays live)")
    p.add_argument("--follow-links", action="store_true", help="follow symbolic links that "
                   "lead out of a source folder")

    p = command("eval", cmd_eval, "evaluate retrieval on a BEIR-layout folder "
                "(nDCG@10, recall@10, recall@100, MRR@10)", store=False)
    p.add_argument("beir_dir", metavar="BEIR_DIR",
                   help="folder with corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv")
    p.add_argument("--mode", action="append", choices=MODES,
                   help="repeat for several (default: all three)")
    p.add_argument("--store", metavar="DIR",
                   help="where to index the corpus (default embeddings/beir-NAME)")
    p.add_argument("--split", default="test", help="qrels file to use (default test)")
    p.add_argument("--model", help="sentence-transformers name or path, or 'static'")

    p = command("eval-qa", cmd_eval_qa, "evaluate answers on a question set (SQuAD JSON, "
                "or a folder of articles with questions.jsonl): passage hit@1/3/5, answer "
                "accuracy, exact match and F1 of the short answer, declining", store=False)
    p.add_argument("source", metavar="SOURCE",
                   help="SQuAD v1.1/v2.0 JSON file, or a folder with articles/ and "
                   "questions.jsonl")
    p.add_argument("--questions", metavar="FILE", help="questions JSONL (default "
                   "SOURCE/questions.jsonl)")
    p.add_argument("--store", metavar="DIR",
                   help="where to index the articles (default embeddings/qa-NAME)")
    p.add_argument("--model", help="sentence-transformers name or path, or 'static'")
    p.add_argument("-k", type=int, default=5, help="passages to answer from (default 5)")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    p.add_argument("--rows", action="store_true", help="with --json, every question's row")

    p = command("demo", cmd_demo, "index the bundled sample articles and ask questions",
                store=False)
    p.add_argument("--store", default="embeddings/sample", metavar="DIR")
    p.add_argument("-k", type=int, default=5, help="passages to answer from (default 5)")
    return parser
