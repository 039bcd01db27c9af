"""The command line: a thin shell over the Python API.

Exit codes: 0 ok, 1 runtime or data error, 2 usage error. With ``--json`` every command
prints one JSON document on stdout, errors included (``{"error": ...}``). ``--store``
defaults to ``CITESEEK_STORE``, else to where ``citeseek.build`` puts collections.
Nothing read from articles or file names reaches the terminal raw: control characters
and escape sequences are printed as escapes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .config import BACKENDS, MODES
from .errors import CiteseekError, UsageError
from .text import printable, printable_json

STORE_ENV = "CITESEEK_STORE"


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(printable_json(json.dumps(data, ensure_ascii=False, indent=2, default=str)))
    else:
        print(printable(text))


def _store(args: argparse.Namespace) -> str:
    """``--store``, else ``CITESEEK_STORE``, else the one collection in ``embeddings/``
    (where ``citeseek.build`` puts collections when not told)."""
    if args.store or os.environ.get(STORE_ENV):
        return str(args.store or os.environ[STORE_ENV])
    from .engines.publish import STORES

    found = sorted(str(p) for p in STORES.glob("*") if (p / "CURRENT").is_file())
    if len(found) == 1:
        return found[0]
    where = f"several collections in {STORES}/ ({', '.join(found)})" if found else \
        f"no collection in {STORES}/"
    raise UsageError(f"--store is needed: {where}, and {STORE_ENV} is not set")


def _open(args: argparse.Namespace, **kwargs: Any) -> Any:
    """The collection ``--store`` names, held at its live generation for the command."""
    from .collection import open as open_collection

    return open_collection(_store(args), **kwargs).pinned()


def _filters(args: argparse.Namespace, col: Any = None) -> dict[str, Any]:
    """The filter options, with document ids resolved when ``col`` is given."""
    ids = args.doc_id
    if ids and col is not None:
        ids = [col.resolve_doc_id(doc_id) for doc_id in ids]
    return {"sources": args.source, "date_from": args.date_from, "date_to": args.date_to,
            "doc_ids": ids}


def _remote(args: argparse.Namespace, path: str, text: str) -> Any:
    """Ask the server at ``--server`` (the same request fields as the options)."""
    if args.store:
        raise UsageError("give --store or --server, not both")
    from .server.client import Client

    f = _filters(args)
    return Client(args.server).request(path, {
        "query" if path == "/search" else "question": text, "k": args.k, "mode": args.mode,
        "source": f["sources"], "date_from": f["date_from"], "date_to": f["date_to"],
        "doc_id": f["doc_ids"], "per_doc": getattr(args, "per_doc", None)})


def cmd_index(args: argparse.Namespace) -> int:
    from .collection import build

    overrides = {k: v for k, v in {
        "chunk_tokens": args.chunk_tokens, "overlap_tokens": args.overlap_tokens,
        "index": args.index_type, "batch_size": args.batch_size, "backend": args.backend,
        "embed_title": False if args.no_title else None,
    }.items() if v is not None}
    if args.engine != "ray" and (args.address or args.workers):
        raise UsageError("--address and --workers need --engine ray")
    store = args.store or os.environ.get(STORE_ENV)
    col = build(args.sources, store, model=args.model, strict=args.strict,
                progress=not args.json and not args.quiet, engine=args.engine,
                address=args.address, workers=args.workers, follow_links=args.follow_links,
                **overrides)
    report = col.last_build
    assert report is not None
    _emit(args, report.to_dict(), str(report))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from .search.hits import HitList

    if args.server:
        hits = HitList.from_dict(_remote(args, "/search", args.query), query=args.query,
                                 mode=args.mode)
    else:
        col = _open(args, model=args.model)
        hits = col.search(args.query, k=args.k, mode=args.mode, per_doc=args.per_doc,
                          **_filters(args, col))
    _emit(args, hits.to_dict(), str(hits))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from .answer.result import Answer

    if args.server:
        answer = Answer.from_dict(_remote(args, "/ask", args.question))
    else:
        col = _open(args, model=args.model)
        answer = col.ask(args.question, k=args.k, mode=args.mode, **_filters(args, col))
    _emit(args, answer.to_dict(), str(answer))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    col = _open(args)
    data = col.document(col.resolve_doc_id(args.doc_id)).to_dict()
    head = "\n".join(f"{k}: {v}" for k, v in data.items() if k != "text" and v)
    _emit(args, data, f"{head}\n\n{data['text']}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    docs = _open(args).documents()
    lines = [f"{d['doc_id']}  {d['date'] or '-':<10}  {d['chunks']:>4} passages"
             + (f"  {d['pages']:>4} pages" if d.get("pages") is not None else "")
             + f"  {d['title'] or '(no title)'}  [{d['source']}]" for d in docs]
    _emit(args, docs, "\n".join(lines) or "no documents")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .server.run import serve

    if args.engine != "ray" and (args.replicas or args.address):
        raise UsageError("--replicas and --address need --engine ray")
    serve(_store(args), host=args.host, port=args.port, engine=args.engine,
          replicas=args.replicas or 1, address=args.address)
    return 0


def _index_summary(index: dict[str, Any]) -> str:
    """``HNSW32,Flat (auto; efSearch=48, recall@10 0.969 on 200 own vectors)``."""
    how = [index.get("chosen", "auto")]
    if index.get("exact"):
        how.append("exact")
    else:
        how.extend(f"{k}={v}" for k, v in (index.get("search") or {}).items())
        if index.get("recall_at_10") is not None:
            how.append(f"recall@10 {index['recall_at_10']:.3f} on "
                       f"{index.get('recall_queries', 0)} own vectors")
    return f"{index['factory']} ({', '.join(how)})"


def cmd_info(args: argparse.Namespace) -> int:
    info = _open(args).info()
    c = info["counts"]
    text = (f"{info['store']} ({info['generation']}, built {info['created']})\n"
            f"  model {info['model']['id']} (dimension {info['model']['dimension']})\n"
            f"  {c['documents']} documents, {c['chunks']} passages, {c['files']} files\n"
            f"  index {_index_summary(info['index'])}")
    _emit(args, info, text)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .collection import build
    from .demo import SAMPLE_QUESTIONS, sample_dir, sample_formats_dir

    col = build([sample_dir(), sample_formats_dir()], args.store, progress=not args.json)
    out: dict[str, Any] = {"build": col.last_build.to_dict() if col.last_build else None,
                           "questions": []}
    lines = [str(col.last_build), ""]
    for question in SAMPLE_QUESTIONS:
        answer = col.ask(question, k=args.k)
        out["questions"].append(answer.to_dict())
        lines += [str(answer), ""]
    _emit(args, out, "\n".join(lines))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_beir

    modes = args.mode or ["keyword", "dense", "hybrid"]
    results = evaluate_beir(args.beir_dir, store=args.store, modes=modes, split=args.split,
                            model=args.model, progress=not args.json)
    data = {"dataset": str(args.beir_dir), "split": args.split,
            "results": [r.to_dict() for r in results]}
    _emit(args, data, "\n".join(str(r) for r in results))
    return 0


class _ArgumentError(Exception):
    """A usage error found while parsing arguments (argparse would exit on its own)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors ``main`` reports (as JSON too, with --json)."""

    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(self, message)


def _parser() -> argparse.ArgumentParser:
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
    p.add_argument("--model", help="sentence-transformers name or path (default: bundled "
                   "all-MiniLM-L6-v2)")
    p.add_argument("--strict", action="store_true", help="fail if any file is skipped")
    p.add_argument("--follow-links", action="store_true", help="follow symbolic links that "
                   "lead out of a source folder (skipped with a reason otherwise)")
    p.add_argument("--chunk-tokens", type=int, help="passage size in model tokens")
    p.add_argument("--overlap-tokens", type=int, help="overlap between passages")
    p.add_argument("--no-title", action="store_true", help="embed passages without titles")
    p.add_argument("--index-type", help="FAISS factory string (e.g. HNSW32,Flat or "
                   "IVF1024,SQ8), or 'auto': exact below 10,000 passages, then HNSW, IVF "
                   "above 500,000")
    p.add_argument("--backend", choices=BACKENDS, help="how the model runs: torch "
                   "(default), onnx (same vectors) or onnx-int8 (other vectors, so the "
                   "collection keeps it); onnx ones need the onnx extra")
    p.add_argument("--batch-size", type=int, help="embedding batch size")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
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

    p = command("show", cmd_show, "print a stored document (an id or the start of one)")
    p.add_argument("doc_id")

    command("docs", cmd_docs, "list the documents: id, date, passages, title, source")

    p = command("serve", cmd_serve, "serve the collection as an HTTP JSON API (the serve "
                "extra); docs at /docs")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default "
                   "127.0.0.1; any other needs CITESEEK_API_KEY)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="one uvicorn process here, or replicas on Ray Serve (the ray extra)")
    p.add_argument("--replicas", type=int, metavar="N", help="Ray Serve replicas (default 1)")
    p.add_argument("--address", metavar="ADDR", help="Ray cluster to use (default: start "
                   "a local one)")

    command("info", cmd_info, "describe a collection")

    p = command("eval", cmd_eval, "evaluate retrieval on a BEIR-layout folder "
                "(nDCG@10, recall@10, recall@100, MRR@10)", store=False)
    p.add_argument("beir_dir", metavar="BEIR_DIR",
                   help="folder with corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv")
    p.add_argument("--mode", action="append", choices=MODES,
                   help="repeat for several (default: all three)")
    p.add_argument("--store", metavar="DIR",
                   help="where to index the corpus (default embeddings/beir-NAME)")
    p.add_argument("--split", default="test", help="qrels file to use (default test)")
    p.add_argument("--model", help="sentence-transformers name or path")

    p = command("demo", cmd_demo, "index the bundled sample articles and ask questions",
                store=False)
    p.add_argument("--store", default="embeddings/sample", metavar="DIR")
    p.add_argument("-k", type=int, default=5, help="passages to answer from (default 5)")
    return parser


def _fail(message: str, kind: str, code: int, as_json: bool) -> int:
    if as_json:
        print(printable_json(json.dumps({"error": message, "type": kind}, ensure_ascii=False)))
    print(f"citeseek: error: {printable(message)}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as exc:
        exc.parser.print_usage(sys.stderr)
        return _fail(str(exc), "UsageError", 2, "--json" in argv)
    try:
        return int(args.func(args))
    except CiteseekError as exc:
        code = 2 if isinstance(exc, UsageError) else 1
        return _fail(str(exc), type(exc).__name__, code, getattr(args, "json", False))
    except OSError as exc:  # the system refused (permissions, a full disk): not a bug
        return _fail(str(exc), type(exc).__name__, 1, getattr(args, "json", False))
    except KeyboardInterrupt:
        print("citeseek: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one JSON error object for scripts
        print(printable(traceback.format_exc()), file=sys.stderr)
        return _fail(f"internal error: {type(exc).__name__}: {exc}", "InternalError", 1,
                     getattr(args, "json", False))
