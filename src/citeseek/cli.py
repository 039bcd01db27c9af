"""The command line: a thin shell over the Python API.

Exit codes: 0 ok, 1 runtime or data error, 2 usage error. With ``--json`` every command
prints one JSON document on stdout, errors included (``{"error": ...}``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .config import BACKENDS, MODES
from .errors import CiteseekError, UsageError


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def cmd_index(args: argparse.Namespace) -> int:
    from .collection import build

    overrides = {k: v for k, v in {
        "chunk_tokens": args.chunk_tokens, "overlap_tokens": args.overlap_tokens,
        "index": args.index_type, "batch_size": args.batch_size, "backend": args.backend,
        "embed_title": False if args.no_title else None,
    }.items() if v is not None}
    if args.engine != "ray" and (args.address or args.workers):
        raise UsageError("--address and --workers need --engine ray")
    col = build(args.sources, args.store, model=args.model, strict=args.strict,
                progress=not args.json and not args.quiet, engine=args.engine,
                address=args.address, workers=args.workers, **overrides)
    report = col.last_build
    assert report is not None
    _emit(args, report.to_dict(), str(report))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from .collection import open as open_collection

    col = open_collection(args.store, model=args.model)
    hits = col.search(args.query, k=args.k, mode=args.mode, sources=args.source,
                      date_from=args.date_from, date_to=args.date_to, doc_ids=args.doc_id,
                      per_doc=args.per_doc)
    _emit(args, hits.to_dict(), str(hits))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from .collection import open as open_collection

    col = open_collection(args.store, model=args.model)
    written: list[str] = []

    def stream(piece: str) -> None:  # the model's reply, as it arrives
        if not written:
            print(f"Q: {args.question}\nA: ", end="", flush=True)
        written.append(piece)
        print(piece, end="", flush=True)

    llm = {}
    if args.llm or args.llm_model:
        llm = {"llm": args.llm, "llm_model": args.llm_model,
               "on_text": None if args.json else stream}
    answer = col.ask(args.question, k=args.k, mode=args.mode, sources=args.source,
                     date_from=args.date_from, date_to=args.date_to, doc_ids=args.doc_id,
                     **llm)
    if written:  # the answer was shown as it streamed: the checks and sources follow
        print()
        text = answer.report(answer_text=False) if answer.generated else str(answer)
    else:
        text = str(answer)
    _emit(args, answer.to_dict(), text)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from .collection import open as open_collection

    doc = open_collection(args.store).document(args.doc_id)
    data = {"doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "date": doc.date,
            "url": doc.url, "text": doc.text}
    head = "\n".join(f"{k}: {v}" for k, v in data.items() if k != "text" and v)
    _emit(args, data, f"{head}\n\n{doc.text}")
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
    from .collection import open as open_collection

    info = open_collection(args.store).info()
    c = info["counts"]
    text = (f"{info['store']} ({info['generation']}, built {info['created']})\n"
            f"  model {info['model']['id']} (dimension {info['model']['dimension']})\n"
            f"  {c['documents']} documents, {c['chunks']} passages, {c['files']} files\n"
            f"  index {_index_summary(info['index'])}")
    _emit(args, info, text)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .collection import build
    from .demo import SAMPLE_QUESTIONS, sample_dir

    col = build(sample_dir(), args.store, progress=not args.json)
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


def cmd_eval_qa(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_qa

    result = evaluate_qa(args.source, questions=args.questions, store=args.store,
                         model=args.model, k=args.k, mode=args.mode, limit=args.limit,
                         progress=not args.json)
    _emit(args, result.to_dict(rows=args.rows), str(result))
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
    parser = _Parser(
        prog="citeseek", description="Semantic search with exact citations over articles.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
                store: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=func)
        p.add_argument("--json", action="store_true", help="print JSON (the stable contract)")
        if store:
            p.add_argument("--store", required=True, metavar="DIR",
                           help="the collection folder, e.g. embeddings/articles")
        return p

    p = command("index", cmd_index, "build or update a collection from articles")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="folders or files")
    p.add_argument("--model", help="sentence-transformers name or path (default: bundled "
                   "all-MiniLM-L6-v2)")
    p.add_argument("--strict", action="store_true", help="fail if any file is skipped")
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
    p.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--source", action="append", metavar="GLOB", help="only these sources")
    p.add_argument("--date-from", metavar="YYYY-MM-DD")
    p.add_argument("--date-to", metavar="YYYY-MM-DD")
    p.add_argument("--doc-id", action="append", help="only these documents")
    p.add_argument("--per-doc", type=int, help="at most N passages per document")
    p.add_argument("--model", help=argparse.SUPPRESS)

    p = command("ask", cmd_ask, "answer a question with cited sentences, or decline")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5, help="passages to answer from (default 5)")
    p.add_argument("--mode", choices=MODES, default="hybrid",
                   help="how passages are retrieved")
    p.add_argument("--source", action="append", metavar="GLOB", help="only these sources")
    p.add_argument("--date-from", metavar="YYYY-MM-DD")
    p.add_argument("--date-to", metavar="YYYY-MM-DD")
    p.add_argument("--doc-id", action="append", help="only these documents")
    p.add_argument("--llm", metavar="URL", help="an OpenAI-compatible chat endpoint writes "
                   "the answer, e.g. http://localhost:11434/v1 (API key from "
                   "$CITESEEK_LLM_API_KEY or $OPENAI_API_KEY)")
    p.add_argument("--llm-model", metavar="NAME", help="the model's name at --llm")
    p.add_argument("--model", help=argparse.SUPPRESS)

    p = command("show", cmd_show, "print a stored document")
    p.add_argument("doc_id")

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
    p.add_argument("--model", help="sentence-transformers name or path")
    p.add_argument("-k", type=int, default=5, help="passages to answer from (default 5)")
    p.add_argument("--mode", choices=MODES, default="hybrid")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    p.add_argument("--rows", action="store_true", help="with --json, every question's row")

    p = command("demo", cmd_demo, "index the bundled sample articles and ask questions",
                store=False)
    p.add_argument("--store", default="embeddings/sample", metavar="DIR")
    p.add_argument("-k", type=int, default=5, help="passages to answer from (default 5)")
    return parser


def _fail(message: str, kind: str, code: int, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"error": message, "type": kind}, ensure_ascii=False))
    print(f"citeseek: error: {message}", file=sys.stderr)
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
